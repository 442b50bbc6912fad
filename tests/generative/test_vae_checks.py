"""The VAE family's diagnose() check, kl_collapse, registered from outside core (synthetic curves)."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

from pinngen.core.diagnose import DiagnoseContext, diagnose
from pinngen.core.history import History
from pinngen.generative.vae_checks import VAEThresholds

VAE = {"family_name": "vae", "family": {"latent_dim": 8}}


def _history(terms: dict[str, np.ndarray]) -> History:
    h = History()
    n = len(next(iter(terms.values())))
    h.extend(np.arange(n), "adam", {"loss": sum(terms.values()), **{f"loss/{k}": v for k, v in terms.items()}})
    return h


def _noise(rng, n, sigma=0.03):
    return np.exp(sigma * rng.standard_normal(n))


def _collapsed(n: int) -> History:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, n)
    return _history({"recon": (0.25 + 0.5 * np.exp(-8 * t)) * _noise(rng, n),
                     "kl": (1e-4 + 2 * np.exp(-10 * t)) * _noise(rng, n)})


def _codes(findings):
    return [f.code for f in findings]


@pytest.mark.parametrize("n", (50, 500, 5000))
def test_kl_near_zero_is_posterior_collapse(n):
    findings = diagnose(_collapsed(n), context=VAE)
    hits = [f for f in findings if f.code == "kl_collapse"]
    assert len(hits) == 1, _codes(findings)
    f = hits[0]
    assert "'recon'" in f.message and "latent" in f.message and "anneal" in f.hint.lower()
    assert f.series == "loss/kl" and f.severity == "warning"
    assert "terms_imbalanced" not in _codes(findings)  # said once, as collapse


def test_healthy_kl_is_not_collapse():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 500)
    h = _history({  # the KL rises from ~0 as the encoder starts to use the latent code
        "recon": (20 + 200 * np.exp(-8 * t)) * _noise(rng, 500),
        "kl": (8 - 7.9 * np.exp(-8 * t)) * _noise(rng, 500),
    })
    assert _codes(diagnose(h, context=VAE)) == ["converged"]  # a rising KL is not a stalled term either


def test_the_check_runs_only_for_the_vae_family():
    # Core knows nothing of KL: without the family the same curves are just two terms.
    assert _codes(diagnose(_collapsed(500))) == ["converged"]
    assert "kl_collapse" in _codes(diagnose(_collapsed(500), context=DiagnoseContext(**VAE)))


def test_a_stored_pre_typed_context_still_gets_the_check():
    # history.meta["context"] of runs written before DiagnoseContext: latent_dim at the top level.
    h = _collapsed(500)
    h.meta["context"] = {"latent_dim": 8, "optimizer": "adam", "lr": 1e-3}
    assert "kl_collapse" in _codes(diagnose(h))


def test_kl_per_unit_is_overridable_and_scales_with_latent_dim():
    h = _collapsed(500)  # KL ends near 1e-4 nats
    assert "kl_collapse" not in _codes(diagnose(h, context=VAE, kl_per_unit=1e-6))
    one_unit = {"family_name": "vae", "family": {"latent_dim": 1}}
    assert "kl_collapse" in _codes(diagnose(h, context=one_unit, kl_per_unit=1e-3))
    assert "kl_collapse" not in _codes(diagnose(h, context=one_unit, kl_per_unit=1e-5))
    # 1e-5 nats per unit over 100 units is 1e-3 in all: above the final KL
    many = {"family_name": "vae", "family": {"latent_dim": 100}}
    assert "kl_collapse" in _codes(diagnose(h, context=many, kl_per_unit=1e-5))


def test_a_family_threshold_outside_its_family_is_an_unknown_name():
    with pytest.raises(ValueError, match="kl_per_unit") as err:
        diagnose(_collapsed(500), kl_per_unit=0.1)
    assert "'vae'" in str(err.value) and "still_learning_decrease" in str(err.value)
    with pytest.raises(ValueError, match="kl_per_unt"):
        diagnose(_collapsed(500), context=VAE, kl_per_unt=0.1)


def test_vae_thresholds_are_validated_and_documented():
    with pytest.raises(ValueError, match="kl_per_unit"):
        VAEThresholds(kl_per_unit=-1)
    with pytest.raises(ValueError, match="kl_per_unit"):
        diagnose(_collapsed(500), context=VAE, kl_per_unit=0)
    source = inspect.getsource(VAEThresholds)
    for field in dataclasses.fields(VAEThresholds):
        after = source.split(f"    {field.name}:")[1].split("\n", 2)[1]
        assert after.strip().startswith('"""'), field.name
