"""diagnose(): synthetic loss curves in, findings out, with the negative cases that keep it honest.

Every generator is seeded and draws its shape on normalised time t in [0, 1], so the same curve recorded
with 50, 500 or 5000 points must get the same judgement.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pinngen.core.diagnose import DiagnoseThresholds, diagnose, summarize
from pinngen.core.findings import SEVERITIES, Finding
from pinngen.core.history import History

LENGTHS = (50, 500, 5000)


# ------------------------------------------------------------------------------------------- generators
def _t(n: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, n)


def _noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Multiplicative minibatch noise: log-normal with standard deviation ``sigma`` in ln units."""
    return np.exp(sigma * rng.standard_normal(n))


def converged_curve(n: int, seed: int = 0, sigma: float = 0.03) -> np.ndarray:
    """Fast exponential decay onto a floor: flat for the second half of the run."""
    rng = np.random.default_rng(seed)
    return (1e-3 + np.exp(-20 * _t(n))) * _noise(rng, n, sigma)


def power_law_curve(n: int, seed: int = 0, sigma: float = 0.03) -> np.ndarray:
    """1 / (1 + 100 t): still falling about 20% over the last 20% of the run."""
    rng = np.random.default_rng(seed)
    return 1.0 / (1.0 + 100 * _t(n)) * _noise(rng, n, sigma)


def overfitting_curves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training keeps falling; validation has its minimum near t = 0.4 and then rises."""
    rng = np.random.default_rng(seed)
    t = _t(n)
    train = (0.05 + np.exp(-5 * t)) * np.exp(-t) * _noise(rng, n, 0.03)
    val = (0.3 + np.exp(-8 * t) + 0.4 * np.clip(t - 0.4, 0, None)) * _noise(rng, n, 0.01)
    return train, val


def alternating_curve(n: int, seed: int = 0) -> np.ndarray:
    """Converged, then bouncing up and down by x2.5 every step (learning rate past the edge of stability)."""
    y = converged_curve(n, seed)
    i = np.arange(n)
    tail = i >= n // 2
    y[tail] *= 10.0 ** (0.4 * (-1.0) ** i[tail])
    return y


def spiky_curve(n: int, seed: int = 0) -> np.ndarray:
    """Converged, with three isolated x10 spikes at 30%, 50% and 70% of the run."""
    y = converged_curve(n, seed)
    for f in (0.3, 0.5, 0.7):
        y[int(f * n)] *= 10
    return y


def pinn_terms(n: int, seed: int = 0, floor_bc: float = 1e-6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = _t(n)
    return {
        "pde": (1e-2 + np.exp(-10 * t)) * _noise(rng, n, 0.03),
        "bc": (floor_bc + 0.1 * np.exp(-20 * t)) * _noise(rng, n, 0.03),
    }


def make_history(
    loss: np.ndarray | None = None,
    *,
    terms: dict[str, np.ndarray] | None = None,
    val: np.ndarray | None = None,
    phases: list[tuple[str, int]] | None = None,
    n_val: int = 25,
) -> History:
    """A History with ``loss`` (default: the sum of ``terms``), the terms, and ``val`` every few steps."""
    terms = terms or {}
    if loss is None:
        loss = sum(terms.values())
    n = len(loss)
    columns = {"loss": loss, **{f"loss/{k}": v for k, v in terms.items()}}
    h = History()
    start = 0
    for name, length in phases or [("adam", n)]:
        h.extend(
            np.arange(start, start + length), name, {k: v[start : start + length] for k, v in columns.items()}
        )
        start += length
    if val is not None:
        for i in np.unique(np.linspace(0, n - 1, n_val).round().astype(int)):
            h.record(int(i), {"val/loss": float(val[i])})
    return h


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, f"expected one {code!r}, got {codes(findings)}"
    return hits[0]


# ------------------------------------------------------------------------------ converged / still learning
@pytest.mark.parametrize("n", LENGTHS)
def test_smooth_converged_decay_is_converged_and_nothing_else(n):
    findings = diagnose(make_history(converged_curve(n)))
    assert codes(findings) == ["converged"]
    f = findings[0]
    assert f.severity == "info" and f.step == n - 1
    assert "last 20% of steps" in f.message


@pytest.mark.parametrize("n", (500, 5000))
@pytest.mark.parametrize("sigma", (0.1, 0.25, 0.5))
def test_noisy_minibatch_curve_that_converged_is_not_unstable(n, sigma):
    findings = diagnose(make_history(converged_curve(n, seed=3, sigma=sigma)))
    assert codes(findings) == ["converged"]


@pytest.mark.parametrize("seed", range(5))
def test_converged_is_robust_across_seeds_on_short_runs(seed):
    assert codes(diagnose(make_history(converged_curve(50, seed)))) == ["converged"]


@pytest.mark.parametrize("n", LENGTHS)
def test_power_law_still_decreasing_is_still_learning(n):
    findings = diagnose(make_history(power_law_curve(n)))
    assert "converged" not in codes(findings)
    assert codes(findings) == ["still_learning"]
    f = only(findings, "still_learning")
    assert f.severity == "warning" and f.step == n - 1
    assert "fell" in f.message and "%" in f.message and "train longer" in f.hint.lower()


def test_pure_exponential_decay_is_still_learning():
    # A straight line in log space never flattens: every window still falls by the same factor.
    y = np.exp(-5 * _t(500)) * _noise(np.random.default_rng(1), 500, 0.03)
    assert codes(diagnose(make_history(y))) == ["still_learning"]


def test_converged_message_says_since_when_it_is_flat():
    f = only(diagnose(make_history(converged_curve(500))), "converged")
    # 1e-3 + exp(-20 t) is within 5% of its floor from t ~ 0.5 on.
    since = int(f.message.split("since about step ")[1].split(" ")[0])
    assert 200 <= since <= 300


# -------------------------------------------------------------------------------------------- overfitting
@pytest.mark.parametrize("n", LENGTHS)
def test_validation_rising_while_training_falls_is_overfitting(n):
    train, val = overfitting_curves(n)
    h = make_history(train, val=val)
    f = only(diagnose(h), "overfitting")
    assert f.severity == "warning" and f.series == "val/loss"
    val_steps, val_values = h.series("val/loss")
    best = int(val_steps[np.argmin(val_values)])
    assert abs(f.step - best) <= 0.1 * n  # the best validation step, up to smoothing
    assert "early" in f.hint.lower() and "regularisation" in f.hint


def test_widening_gap_with_flat_validation_is_overfitting():
    n = 500
    t = _t(n)
    rng = np.random.default_rng(2)
    train = np.exp(-8 * t) * _noise(rng, n, 0.02)  # keeps falling 8x over the second half
    val = (0.3 + np.exp(-10 * t)) * _noise(rng, n, 0.005)  # flat after t ~ 0.4
    f = only(diagnose(make_history(train, val=val)), "overfitting")
    assert "gap" in f.message


@pytest.mark.parametrize("n", LENGTHS)
def test_validation_tracking_training_is_not_overfitting(n):
    loss = converged_curve(n)
    val = 1.1 * converged_curve(n, seed=9, sigma=0.01)
    assert codes(diagnose(make_history(loss, val=val))) == ["converged"]


# ------------------------------------------------------------------------------------------------ diverged
@pytest.mark.parametrize("n", LENGTHS)
def test_non_finite_loss_is_diverged_at_the_first_bad_step(n):
    y = converged_curve(n)
    bad = int(0.7 * n)
    y[bad:] = np.inf
    findings = diagnose(make_history(y))
    assert codes(findings) == ["diverged"]
    f = findings[0]
    assert f.severity == "error" and f.step == bad and "non-finite" in f.message
    assert "learning rate" in f.hint and "clip" in f.hint


@pytest.mark.parametrize("n", LENGTHS)
def test_exploding_loss_is_diverged(n):
    t = _t(n)
    y = (np.exp(-10 * t) + 1e-3 * np.exp(40 * np.clip(t - 0.6, 0, None))) * _noise(
        np.random.default_rng(0), n, 0.03
    )
    findings = diagnose(make_history(y), context={"optimizer": "adam", "lr": 0.1})
    f = only(findings, "diverged")
    assert findings[0] is f and "orders of magnitude" in f.message
    assert 0.6 * n <= f.step <= 0.9 * n
    assert "0.1" in f.hint and "adam" in f.hint
    assert not {"converged", "still_learning", "unstable"} & set(codes(findings))


def test_divergence_in_an_early_phase_is_reported_and_final_state_judged_on_the_last():
    n_adam, n_lbfgs = 300, 200
    adam = power_law_curve(n_adam)
    adam[100] = np.inf  # one bad step, then the trainer carried on
    lbfgs = adam[-1] * 0.1 * (1 + np.exp(-50 * _t(n_lbfgs)))
    h = make_history(np.r_[adam, lbfgs], phases=[("adam", n_adam), ("lbfgs", n_lbfgs)])
    findings = diagnose(h)
    assert codes(findings) == ["diverged", "converged"]
    assert findings[0].step == 100 and "phase adam" in findings[0].message
    assert "lbfgs phase" in findings[1].message


# ------------------------------------------------------------------------------------------------ unstable
@pytest.mark.parametrize("n", LENGTHS)
def test_oscillating_loss_is_unstable_and_mentions_the_optimizer(n):
    findings = diagnose(make_history(alternating_curve(n)), context={"optimizer": "adam", "lr": 1e-2})
    f = only(findings, "unstable")
    assert f.severity == "warning" and "oscillates" in f.message
    assert "adam" in f.hint and "0.01" in f.hint and "0.001" in f.hint
    assert "converged" not in codes(findings) and "jumps" not in codes(findings)


def test_erratic_large_fluctuations_are_unstable():
    y = converged_curve(500)
    tail = np.arange(500) >= 250
    y[tail] *= 10 ** (0.4 * np.random.default_rng(5).standard_normal(tail.sum()))
    assert "unstable" in codes(diagnose(make_history(y)))


def test_rising_loss_at_the_end_is_unstable():
    t = _t(500)
    y = (
        (1e-2 + np.exp(-20 * t))
        * (1 + 2 * np.clip(t - 0.7, 0, None))
        * _noise(np.random.default_rng(0), 500, 0.02)
    )
    f = only(diagnose(make_history(y)), "unstable")
    assert "rose" in f.message


def test_full_batch_period_two_wobble_is_unstable_even_when_small():
    y = converged_curve(500, sigma=0.0)
    y[250:] *= 10 ** (0.03 * (-1.0) ** np.arange(250))  # +-7%, perfectly alternating
    assert "unstable" in codes(diagnose(make_history(y)))


def test_a_blow_up_in_the_first_steps_is_unstable_and_a_stuck_loss_is_no_progress():
    # Adam with lr=1 on a small tanh net: the loss jumps x100 in the first steps, bounces, then
    # saturates at a level hardly below its start.
    rng = np.random.default_rng(0)
    n = 500
    y = 0.48 * _noise(rng, n, 0.01)
    y[0] = 0.63
    y[1:40] = 0.63 * 10 ** rng.uniform(0, 2, 39)
    findings = diagnose(make_history(y), context={"optimizer": "adam", "lr": 1.0})
    assert codes(findings) == ["unstable", "no_progress"]  # flat, but not "converged"
    blowup, stuck = findings
    assert 1 <= blowup.step < 40 and "first value" in blowup.message and "adam" in blowup.hint
    assert stuck.step == n - 1 and "hardly learned" in stuck.message


def test_no_progress_and_still_learning_can_go_together():
    y = 1.0 - 0.4 * _t(500) ** 2  # lr too low: barely moving, but moving
    assert codes(diagnose(make_history(y))) == ["no_progress", "still_learning"]


@pytest.mark.parametrize("n", LENGTHS)
def test_healthy_curves_show_no_blow_up_or_no_progress(n):
    for y in (converged_curve(n), power_law_curve(n), overfitting_curves(n)[0]):
        assert not {"unstable", "no_progress"} & set(codes(diagnose(make_history(y))))


# --------------------------------------------------------------------------------------------------- jumps
@pytest.mark.parametrize("n", LENGTHS)
def test_isolated_spikes_are_jumps_and_relu_makes_them_expected(n):
    h = make_history(spiky_curve(n))
    plain = only(diagnose(h), "jumps")
    assert plain.severity == "warning" and "3 upward spikes" in plain.message and "ReLU" not in plain.message
    relu = only(diagnose(h, context={"activations": ["tanh", "ReLU"]}), "jumps")
    assert relu.severity == "info"
    assert "expected to some degree with ReLU-type activations" in relu.message
    assert relu.step in {int(f * n) for f in (0.3, 0.5, 0.7)}
    # the spikes do not make the end state unstable or not flat
    assert "converged" in codes(diagnose(h))


def test_smooth_activation_gets_no_relu_remark():
    f = only(diagnose(make_history(spiky_curve(500)), context={"activations": ["tanh"]}), "jumps")
    assert f.severity == "warning" and "ReLU" not in f.message


# ------------------------------------------------------------------------------------------ val below train
@pytest.mark.parametrize("n", LENGTHS)
def test_validation_below_training_is_expected_with_dropout(n):
    loss = converged_curve(n)
    h = make_history(loss, val=0.8 * converged_curve(n, seed=4, sigma=0.01))
    with_dropout = only(diagnose(h, context={"dropout": 0.1}), "val_below_train")
    assert with_dropout.severity == "info" and "dropout" in with_dropout.message
    without = only(diagnose(h), "val_below_train")
    assert without.severity == "warning" and "leak" in without.hint
    regularised = only(diagnose(h, context={"regularised": True}), "val_below_train")
    assert regularised.severity == "info"


def test_validation_slightly_above_training_is_fine():
    loss = converged_curve(500)
    findings = diagnose(make_history(loss, val=1.05 * converged_curve(500, seed=4, sigma=0.01)))
    assert "val_below_train" not in codes(findings) and "overfitting" not in codes(findings)


# ---------------------------------------------------------------------------------------------- loss terms
@pytest.mark.parametrize("n", LENGTHS)
def test_terms_orders_of_magnitude_apart_are_imbalanced(n):
    f = only(diagnose(make_history(terms=pinn_terms(n))), "terms_imbalanced")
    assert "'pde'" in f.message and "'bc'" in f.message and f.series == "loss/pde"
    ratio = float(f.message.split(" times ")[0].split(")")[-1].split()[-1])
    assert 5e3 < ratio < 2e4
    assert "weight" in f.hint


def test_terms_within_a_factor_of_ten_are_balanced():
    findings = diagnose(make_history(terms=pinn_terms(500, floor_bc=2e-3)))
    assert "terms_imbalanced" not in codes(findings)
    assert "term_stalled" not in codes(findings)


@pytest.mark.parametrize("n", LENGTHS)
def test_a_term_stuck_at_its_start_while_others_fall_is_stalled(n):
    rng = np.random.default_rng(0)
    t = _t(n)
    terms = {
        "pde": (1e-2 + np.exp(-10 * t)) * _noise(rng, n, 0.03),
        "bc": 0.5 * (1 + 0.3 * np.exp(-30 * t)) * _noise(rng, n, 0.03),
    }
    f = only(diagnose(make_history(terms=terms)), "term_stalled")
    assert "'bc'" in f.message and f.series == "loss/bc"


def test_a_flat_term_while_the_total_still_falls_is_stalled():
    rng = np.random.default_rng(0)
    t = _t(500)
    terms = {"pde": 1 / (1 + 100 * t) * _noise(rng, 500, 0.03), "bc": 0.005 * _noise(rng, 500, 0.03)}
    findings = diagnose(make_history(terms=terms))
    f = only(findings, "term_stalled")
    assert "flat" in f.message and "'bc'" in f.message
    assert "still_learning" in codes(findings)


@pytest.mark.parametrize("n", LENGTHS)
def test_kl_near_zero_is_posterior_collapse(n):
    rng = np.random.default_rng(0)
    t = _t(n)
    terms = {
        "recon": (0.25 + 0.5 * np.exp(-8 * t)) * _noise(rng, n, 0.03),
        "kl": (1e-4 + 2 * np.exp(-10 * t)) * _noise(rng, n, 0.03),
    }
    findings = diagnose(make_history(terms=terms), context={"latent_dim": 8})
    f = only(findings, "kl_collapse")
    assert "'recon'" in f.message and "latent" in f.message and "anneal" in f.hint.lower()
    assert "terms_imbalanced" not in codes(findings)  # said once, as collapse


def test_healthy_kl_is_not_collapse():
    rng = np.random.default_rng(0)
    t = _t(500)
    terms = {  # the KL rises from ~0 as the encoder starts to use the latent code
        "recon": (20 + 200 * np.exp(-8 * t)) * _noise(rng, 500, 0.03),
        "kl": (8 - 7.9 * np.exp(-8 * t)) * _noise(rng, 500, 0.03),
    }
    findings = diagnose(make_history(terms=terms), context={"latent_dim": 8})
    assert codes(findings) == ["converged"]  # a rising KL is not a stalled term either


# ------------------------------------------------------------------------------------- too short, phases
def test_too_few_steps_gives_too_short_only():
    y = np.geomspace(1, 10, 10)  # rising, but too short to judge
    findings = diagnose(make_history(y))
    assert codes(findings) == ["too_short"]
    assert findings[0].severity == "info" and findings[0].step is None


def test_too_short_still_reports_divergence():
    y = np.r_[np.ones(5), np.inf]
    assert codes(diagnose(make_history(y))) == ["diverged", "too_short"]


def test_no_loss_column_is_too_short():
    h = History()
    h.extend(np.arange(30), "adam", {"lr": np.full(30, 1e-3)})
    assert codes(diagnose(h)) == ["too_short"]


def test_final_state_is_judged_on_the_last_phase():
    n_adam, n_lbfgs = 700, 300
    adam = power_law_curve(n_adam, sigma=0.1)  # noisy and still falling when adam stops
    lbfgs = adam[-1] * 0.5 / (1 + 200 * _t(n_lbfgs))  # L-BFGS is still improving fast
    h = make_history(np.r_[adam, lbfgs], phases=[("adam", n_adam), ("lbfgs", n_lbfgs)])
    f = only(diagnose(h), "still_learning")
    assert "lbfgs phase" in f.message and "L-BFGS" in f.hint
    # the drop at the phase switch is not a jump
    assert "jumps" not in codes(diagnose(h))


# ---------------------------------------------------------------------------------------- negative losses
def test_negative_log_likelihood_curves_are_judged_in_linear_units():
    rng = np.random.default_rng(0)
    t = _t(500)
    flat = -1.5 + 4 * np.exp(-10 * t) + 0.02 * rng.standard_normal(500)
    falling = 2 - 3 * t + 0.02 * rng.standard_normal(500)
    assert codes(diagnose(make_history(flat))) == ["converged"]
    f = only(diagnose(make_history(falling)), "still_learning")
    assert "fell by" in f.message


# ---------------------------------------------------------------------------------------------- thresholds
def test_threshold_overrides_change_the_judgement():
    h = make_history(power_law_curve(500))
    assert codes(diagnose(h)) == ["still_learning"]
    assert codes(diagnose(h, still_learning_decrease=0.5)) == ["converged"]
    assert codes(diagnose(h, thresholds=DiagnoseThresholds(still_learning_decrease=0.5))) == ["converged"]
    # overrides apply on top of a thresholds object
    th = DiagnoseThresholds(still_learning_decrease=0.5)
    assert codes(diagnose(h, thresholds=th, still_learning_decrease=0.05)) == ["still_learning"]


def test_diverge_orders_override_is_effective():
    y = converged_curve(500)
    y[400:] *= 1e4
    assert "diverged" in codes(diagnose(make_history(y)))
    assert "diverged" not in codes(diagnose(make_history(y), diverge_orders=5))


def test_terms_ratio_and_jump_overrides_are_effective():
    h = make_history(terms=pinn_terms(500))
    assert "terms_imbalanced" not in codes(diagnose(h, terms_ratio=1e5))
    spiky = make_history(spiky_curve(500))
    assert "jumps" not in codes(diagnose(spiky, jump_factor=20))
    assert "too_short" in codes(diagnose(spiky, min_steps=1000))


def test_unknown_threshold_name_raises_and_lists_valid_names():
    with pytest.raises(ValueError, match="still_lerning") as err:
        diagnose(make_history(converged_curve(50)), still_lerning=0.1)
    assert "still_learning_decrease" in str(err.value) and "terms_ratio" in str(err.value)


@pytest.mark.parametrize(
    "bad",
    [{"final_fraction": 1.5}, {"terms_ratio": 0.5}, {"min_steps": 2.5}, {"jump_z": -1}, {"jump_z": "8"}],
)
def test_invalid_threshold_values_raise(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        DiagnoseThresholds(**bad)


def test_integer_thresholds_given_as_floats_are_accepted():
    # run configs carry overrides as dict[str, float]
    th = DiagnoseThresholds(min_steps=30.0, min_window=10.0)
    assert isinstance(th.min_steps, int) and isinstance(th.min_window, int)
    assert codes(diagnose(make_history(converged_curve(500)), min_window=10.0, min_val_points=5.0)) == [
        "converged"
    ]


def test_every_threshold_is_documented():
    import inspect

    source = inspect.getsource(DiagnoseThresholds)
    for field in dataclasses.fields(DiagnoseThresholds):
        after = source.split(f"    {field.name}:")[1].split("\n", 2)[1]
        assert after.strip().startswith('"""'), field.name


def test_bad_arguments_raise():
    h = make_history(converged_curve(50))
    with pytest.raises(ValueError, match="thresholds"):
        diagnose(h, thresholds={"min_steps": 3})
    with pytest.raises(ValueError, match="context"):
        diagnose(h, context=["relu"])


# ---------------------------------------------------------------------------------------- order, summary
def _messy_history() -> History:
    n = 500
    train, val = overfitting_curves(n)
    train = train.copy()
    for f in (0.3, 0.5):
        train[int(f * n)] *= 10
    train[450:] = np.inf
    return make_history(train, val=val)


def test_findings_are_ordered_by_severity_then_step():
    findings = diagnose(make_history(spiky_curve(500), val=0.8 * converged_curve(500, seed=4, sigma=0.01)))
    findings += diagnose(_messy_history())
    from pinngen.core.diagnose.summary import sort_findings

    ordered = sort_findings(findings)
    ranks = [SEVERITIES.index(f.severity) for f in ordered]
    assert ranks == sorted(ranks, reverse=True)
    for sev in SEVERITIES:
        steps = [f.step for f in ordered if f.severity == sev and f.step is not None]
        assert steps == sorted(steps)
    one_run = diagnose(_messy_history())
    assert one_run[0].code == "diverged" and one_run == sort_findings(one_run)


def test_every_finding_is_a_sentence_with_a_hint():
    histories = [
        make_history(spiky_curve(500)),
        make_history(alternating_curve(500)),
        make_history(terms=pinn_terms(500)),
        _messy_history(),
        make_history(power_law_curve(500)),
        make_history(converged_curve(500), val=0.8 * converged_curve(500, seed=4, sigma=0.01)),
    ]
    for h in histories:
        for f in diagnose(h):
            assert f.message[0].isupper() and f.message.endswith("."), f.message
            assert f.hint, f.code


def test_summarize_says_it_in_words():
    assert summarize([]).startswith("No findings")
    findings = diagnose(_messy_history())
    text = summarize(findings)
    assert text.startswith("Diagnosis (1 error")
    assert "non-finite" in text and "First thing to try: lower the learning rate" in text
    calm = summarize(diagnose(make_history(converged_curve(500))))
    assert "1 info" in calm and "First thing" not in calm


def test_context_stored_by_the_trainer_is_used_and_explicit_context_wins():
    h = make_history(spiky_curve(500))
    h.meta["context"] = {"activations": ["relu"], "lr": 0.5}
    f = only(diagnose(h), "jumps")
    assert f.severity == "info" and "ReLU" in f.message
    assert only(diagnose(h, context={"activations": ["tanh"]}), "jumps").severity == "warning"
    # the optimizer defaults to the last phase's name, the learning rate to the context / lr column
    g = only(diagnose(make_history(alternating_curve(500), phases=[("sgd", 500)])), "unstable")
    assert "for sgd" in g.hint
    h2 = make_history(alternating_curve(500))
    h2.record(499, {"lr": 0.25})
    assert "0.25" in only(diagnose(h2), "unstable").hint


def test_explosion_then_non_finite_is_one_diverged_finding():
    y = converged_curve(500)
    y[300:] *= np.geomspace(1, 1e30, 200)
    y[450:] = np.inf
    findings = diagnose(make_history(y))
    assert codes(findings) == ["diverged"]
    assert "orders of magnitude" in findings[0].message and "non-finite" in findings[0].message


def test_history_diagnose_passes_through():
    h = make_history(spiky_curve(500))
    assert h.diagnose(context={"activations": "relu"}) == diagnose(h, context={"activations": ["relu"]})


def test_same_input_same_findings():
    a = diagnose(make_history(overfitting_curves(500, seed=7)[0]))
    b = diagnose(make_history(overfitting_curves(500, seed=7)[0]))
    assert a == b
