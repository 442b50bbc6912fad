"""The diffusion family's diagnose() check: per-noise-level terms are judged as levels, not as stalled terms."""

import numpy as np

from pinngen.core.diagnose import diagnose
from pinngen.core.history import History
from pinngen.generative.diffusion_checks import is_bucket  # registers the family

DIFF = {"family_name": "diffusion", "family": {"prediction": "epsilon"}}


def _history(ends: list[float], n: int = 600) -> History:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, n)
    terms = {f"t{100 * i}-{100 * i + 99}": (end + (1 - end) * np.exp(-6 * t)) * np.exp(0.03 * rng.standard_normal(n))
             for i, end in enumerate(ends)}
    h = History()
    h.extend(np.arange(n), "adam", {"loss": sum(terms.values()), **{f"loss/{k}": v for k, v in terms.items()}})
    return h


def test_bucket_names_are_recognised():
    assert is_bucket("t0-99") and is_bucket("t900-999") and not is_bucket("kl") and not is_bucket("t0")


def test_low_noise_bucket_staying_high_is_explained_not_called_stalled():
    findings = diagnose(_history([0.7, 0.05, 0.03, 0.02]), context=DIFF)
    codes = [f.code for f in findings]
    assert "term_stalled" not in codes and "noise_level_unlearned" not in codes
    info = next(f for f in findings if f.code == "noise_levels")
    assert "worst t0-99" in info.message and "by design" in info.message


def test_a_level_that_never_falls_is_a_warning():
    findings = diagnose(_history([0.05, 0.98, 0.03, 0.02]), context=DIFF)
    warn = next(f for f in findings if f.code == "noise_level_unlearned")
    assert warn.severity == "warning" and "t100-199" in warn.message


def test_without_the_family_the_generic_check_still_runs():
    codes = [f.code for f in diagnose(_history([0.7, 0.05, 0.03, 0.02]))]
    assert "noise_levels" not in codes
