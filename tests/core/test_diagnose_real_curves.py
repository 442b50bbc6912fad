"""diagnose() on stored real training curves: the thresholds must read each of them right.

The curves (tests/core/data/real_curves/) come from short trainings of the built-in experiments with good,
too-high and too-low learning rates, Adam and SGD, dropout, a PINN with Adam then L-BFGS and two VAEs;
tests/core/data/make_real_curves.py regenerates them. No training happens here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import pinngen.generative.vae_checks  # noqa: F401  (the VAE curves are judged with their family's checks)
from pinngen.core.diagnose import DiagnoseContext, diagnose
from pinngen.core.history import History

DATA = Path(__file__).parent / "data"
CURVES = DATA / "real_curves"
FINAL = {"converged", "still_learning", "no_progress", "unstable", "diverged"}

# name: (groups of codes, one of each group must be found; codes that must not be)
EXPECTED: dict[str, tuple[list[set[str]], set[str]]] = {
    # Adam at lr 0.01 on 309 patients: flat at the end; the validation loss turns up early (real overfitting).
    "reg-adam-good": ([{"converged"}], {"diverged", "unstable", "still_learning", "no_progress"}),
    "reg-adam-high": ([{"unstable", "diverged"}], {"converged", "still_learning", "val_below_train"}),
    "reg-adam-low": ([{"still_learning", "no_progress"}], {"converged", "diverged", "unstable", "val_below_train"}),
    "reg-sgd-good": ([{"converged"}], {"diverged", "unstable", "still_learning", "no_progress", "val_below_train"}),
    # A good SGD rate, but 600 noisy minibatch steps are not enough: still falling at the end.
    "cls-sgd-good": ([{"still_learning"}], {"converged", "diverged", "unstable", "no_progress"}),
    "cls-sgd-high": ([{"diverged", "unstable"}], {"converged", "still_learning"}),
    "cls-sgd-low": ([{"still_learning", "no_progress"}], {"converged", "diverged", "unstable"}),
    "cls-adam-dropout": ([{"converged", "still_learning"}, {"val_below_train"}],
                         {"diverged", "unstable", "no_progress", "overfitting"}),
    # L-BFGS ran out of its 1000 iterations while the loss still fell ~30% per 200: more iterations.
    "pinn-poisson-lbfgs": ([{"still_learning"}], {"diverged", "unstable", "no_progress", "jumps", "converged"}),
    "vae-digits": ([{"converged"}], {"diverged", "unstable", "no_progress", "kl_collapse", "term_stalled"}),
    # beta = 30: the KL term is driven to zero and the decoder ignores z.
    "vae-digits-beta": ([{"kl_collapse"}], {"diverged", "term_stalled", "terms_imbalanced"}),
}


def _load(name: str) -> History:
    return History.from_csv(CURVES / f"{name}.csv")


def test_every_stored_curve_has_an_expectation_and_a_recipe():
    spec = importlib.util.spec_from_file_location("make_real_curves", DATA / "make_real_curves.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    stored = {p.stem for p in CURVES.glob("*.csv")}
    assert stored == set(EXPECTED) == set(script.CURVES)
    assert all((CURVES / f"{n}.meta.json").exists() for n in stored)
    assert sum(p.stat().st_size for p in CURVES.iterdir()) < 500_000


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_curve_findings(name):
    h = _load(name)
    DiagnoseContext.from_mapping(h.meta["context"])  # what the families store is a valid context
    findings = diagnose(h)
    codes = {f.code for f in findings}
    groups, forbidden = EXPECTED[name]
    for group in groups:
        assert codes & group, f"{name}: expected one of {sorted(group)}, got {sorted(codes)}"
    assert not codes & forbidden, f"{name}: unexpected {sorted(codes & forbidden)}"
    assert len(codes & FINAL - {"unstable", "diverged"}) <= 1, codes  # one verdict on the final state


def test_dropout_makes_validation_below_training_an_info():
    f = next(f for f in diagnose(_load("cls-adam-dropout")) if f.code == "val_below_train")
    assert f.severity == "info" and "dropout 0.5" in f.message


def test_learning_rate_advice_names_the_optimizer_and_rate():
    f = next(f for f in diagnose(_load("reg-adam-high")) if f.code == "unstable")
    assert "1 may be too high for adam" in f.hint
    f = next(f for f in diagnose(_load("cls-sgd-high")) if f.code == "diverged")
    assert "30 may be too high for sgd" in f.hint


def test_lbfgs_still_learning_asks_for_more_iterations():
    f = next(f for f in diagnose(_load("pinn-poisson-lbfgs")) if f.code == "still_learning")
    assert "lbfgs phase" in f.message and "L-BFGS iterations" in f.hint


def test_the_noisy_still_learning_curve_needs_the_window_median_rule():
    # Without the median comparison (weak_significance = significance) this curve read "converged".
    h = _load("cls-sgd-good")
    assert "converged" in {f.code for f in diagnose(h, weak_significance=3.0)}
    f = next(f for f in diagnose(h) if f.code == "still_learning")
    assert "within its noise" in f.message and "median" in f.message
