"""DiagnoseContext (typed, validated, round-trips through history.meta) and the family registry of
diagnose() checks and thresholds (a test family registered here, removed afterwards)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from pinngen.core.diagnose import (
    DiagnoseContext,
    TermView,
    diagnose,
    register_check,
    register_thresholds,
    validate_numbers,
)
from pinngen.core.diagnose import families as registry
from pinngen.core.findings import Finding

from .diagnose_curves import alternating_curve, codes, converged_curve, make_history, only, pinn_terms, spiky_curve


# ------------------------------------------------------------------------------------------------ context
def test_round_trip_through_json():
    ctx = DiagnoseContext(activations=["relu", "tanh"], dropout=0.2, optimizer="Adam", lr=1e-3,
                          family_name="vae", family={"latent_dim": 16},
                          per_objective={"generator": {"lr": 2e-4}})
    assert ctx.activations == ("relu", "tanh") and ctx.optimizer == "adam"
    back = DiagnoseContext.from_mapping(json.loads(json.dumps(ctx.to_dict())))
    assert back == ctx


def test_unknown_key_names_it_and_the_valid_ones():
    with pytest.raises(ValueError, match="'latent_dims'") as err:
        DiagnoseContext.from_mapping({"latent_dims": 3})
    assert "activations" in str(err.value) and "family" in str(err.value)
    with pytest.raises(ValueError, match="'momentum'"):
        DiagnoseContext.from_mapping({"per_objective": {"generator": {"momentum": 0.9}}})


@pytest.mark.parametrize("bad, field", [({"dropout": 1.5}, "dropout"), ({"lr": -1}, "lr"), ({"lr": "x"}, "lr"),
                                        ({"activations": [1]}, "activations"), ({"family": [1]}, "family"),
                                        ({"dropout": True}, "dropout")])
def test_bad_values_name_the_field(bad, field):
    with pytest.raises(ValueError, match=field):
        DiagnoseContext.from_mapping(bad)


def test_keys_of_older_runs_are_read_into_their_places():
    old_pinn = {"activations": ["tanh"], "dropout": 0.0, "regularised": False, "optimizer": "adam",
                "lr": 2e-3, "relu_like": False, "pinn": True}
    ctx = DiagnoseContext.from_mapping(old_pinn)
    assert ctx.family_name == "pinn" and ctx.lr == 2e-3
    old_vae = DiagnoseContext.from_mapping({"latent_dim": 8, "optimizer": "adam", "lr": 1e-3})
    assert old_vae.family_name == "vae" and old_vae.family == {"latent_dim": 8}


def test_dict_context_merges_over_the_stored_one_and_a_dataclass_replaces_it():
    h = make_history(spiky_curve(500))
    h.meta["context"] = DiagnoseContext(activations=["relu"], lr=0.5).to_dict()
    assert only(diagnose(h), "jumps").severity == "info"
    assert only(diagnose(h, context={"activations": ["tanh"]}), "jumps").severity == "warning"
    g = make_history(alternating_curve(500))
    g.meta["context"] = DiagnoseContext(lr=0.5, family={"a": 1}).to_dict()
    merged = only(diagnose(g, context={"optimizer": "sgd"}), "unstable")
    assert "0.5" in merged.hint and "for sgd" in merged.hint  # lr kept from the stored context
    replaced = only(diagnose(g, context=DiagnoseContext(optimizer="sgd")), "unstable")
    assert "0.5" not in replaced.hint and "for sgd" in replaced.hint


def test_a_malformed_stored_context_does_not_stop_the_diagnosis():
    h = make_history(converged_curve(500))
    h.meta["context"] = ["relu"]
    assert codes(diagnose(h)) == ["converged"]


# ----------------------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _Limits:
    big_pde: float = 0.5
    """A 'pde' term above this at the end is reported."""

    def __post_init__(self) -> None:
        validate_numbers(self, "threshold")


def _big_pde(view: TermView) -> list[Finding]:
    level = view.finals.get("pde")
    if level is None or level <= view.family_thresholds.big_pde * view.context.family.get("scale", 1.0):
        return []
    return [Finding("pde_big", "warning", "The PDE term is big.", "Shrink it.", view.end.last_step, "loss/pde")]


@pytest.fixture
def test_family():
    register_check("testfam", _big_pde, terms=("bc",))
    register_thresholds("testfam", _Limits())
    yield "testfam"
    registry._CHECKS.pop("testfam", None)
    registry._THRESHOLDS.pop("testfam", None)


def test_a_registered_check_runs_for_its_family_only(test_family):
    h = make_history(terms={"pde": 1 + converged_curve(500), "bc": converged_curve(500, seed=1)})
    assert "pde_big" not in codes(diagnose(h))
    ctx = {"family_name": test_family}
    f = only(diagnose(h, context=ctx), "pde_big")
    assert f.series == "loss/pde"
    assert "pde_big" not in codes(diagnose(h, context={**ctx, "family": {"scale": 10.0}}))


def test_family_thresholds_override_like_core_ones(test_family):
    h = make_history(terms={"pde": 1 + converged_curve(500), "bc": converged_curve(500, seed=1)})
    ctx = {"family_name": test_family}
    assert "pde_big" not in codes(diagnose(h, context=ctx, big_pde=5.0))
    with pytest.raises(ValueError, match="big_pde") as err:
        diagnose(h, context=ctx, big_pd=5.0)
    assert "terms_ratio" in str(err.value)
    with pytest.raises(ValueError, match="big_pde"):
        diagnose(h, context=ctx, big_pde=-1.0)


def test_a_reported_term_is_not_also_imbalanced(test_family):
    # pde ends ~1e4 times bc: imbalanced for core, but the family check spoke about 'pde' already.
    h = make_history(terms={"pde": 1e2 * (1 + converged_curve(500)), "bc": 1e-3 * converged_curve(500, seed=1)})
    assert "terms_imbalanced" in codes(diagnose(h))
    assert "terms_imbalanced" not in codes(diagnose(h, context={"family_name": test_family}))


def test_terms_a_check_owns_are_not_judged_stalled(test_family):
    h = make_history(terms=pinn_terms(500) | {"bc": np.full(500, 0.5)})
    assert "term_stalled" in codes(diagnose(h))
    assert "term_stalled" not in codes(diagnose(h, context={"family_name": test_family}))


def test_registration_is_validated_and_idempotent(test_family):
    register_check(test_family, _big_pde)  # a re-imported module registers again: replaced, not doubled
    assert len(registry.checks_for(test_family)) == 1
    with pytest.raises(ValueError, match="family"):
        register_check("", _big_pde)
    with pytest.raises(ValueError, match="callable"):
        register_check(test_family, "not a function")
    with pytest.raises(ValueError, match="terms_ratio"):
        register_thresholds(test_family, _Clash())


@dataclass(frozen=True)
class _Clash:
    terms_ratio: float = 10.0
    """Repeats a core name."""
