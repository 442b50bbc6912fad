"""diagnose() on the training-loss curve: converged, still learning, diverged, unstable, no progress,
jumps, too short, and negative losses (synthetic curves from diagnose_curves.py)."""

from __future__ import annotations

import numpy as np
import pytest

from pinngen.core.diagnose import diagnose
from pinngen.core.history import History

from .diagnose_curves import (
    LENGTHS,
    alternating_curve,
    batch_noise,
    codes,
    converged_curve,
    likelihood_curve,
    make_history,
    only,
    overfitting_curves,
    power_law_curve,
    spiky_curve,
    unit_time,
)


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
    y = np.exp(-5 * unit_time(500)) * batch_noise(np.random.default_rng(1), 500, 0.03)
    assert codes(diagnose(make_history(y))) == ["still_learning"]


def test_converged_message_says_since_when_it_is_flat():
    f = only(diagnose(make_history(converged_curve(500))), "converged")
    # 1e-3 + exp(-20 t) is within 5% of its floor from t ~ 0.5 on.
    since = int(f.message.split("since about step ")[1].split(" ")[0])
    assert 200 <= since <= 300


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
    t = unit_time(n)
    y = (np.exp(-10 * t) + 1e-3 * np.exp(40 * np.clip(t - 0.6, 0, None))) * batch_noise(
        np.random.default_rng(0), n, 0.03
    )
    findings = diagnose(make_history(y), context={"optimizer": "adam", "lr": 0.1})
    f = only(findings, "diverged")
    assert findings[0] is f and "orders of magnitude" in f.message
    assert 0.6 * n <= f.step <= 0.9 * n
    assert "0.1" in f.hint and "adam" in f.hint
    assert not {"converged", "still_learning", "unstable"} & set(codes(findings))


def test_an_excursion_that_recovers_below_its_minimum_is_a_warning_not_an_error():
    # seen on burgers-inverse seed 5: one quasi-Newton step after a redraw raised the loss 10^4.3-fold, and
    # training went on to 1e-12, far below the 2.9e-9 reached before
    y = np.r_[np.geomspace(1.0, 3e-9, 400), np.geomspace(5e-4, 1e-12, 600)]
    f = only(diagnose(make_history(y)), "diverged")
    assert f.severity == "warning" and "Training recovered" in f.message and f.step == 400
    y[-300:] = 1e-7  # ends above the earlier minimum: still an error
    f = only(diagnose(make_history(y)), "diverged")
    assert f.severity == "error" and "recovered" not in f.message


def test_divergence_in_an_early_phase_is_reported_and_final_state_judged_on_the_last():
    n_adam, n_lbfgs = 300, 200
    adam = power_law_curve(n_adam)
    adam[100] = np.inf  # one bad step, then the trainer carried on
    lbfgs = adam[-1] * 0.1 * (1 + np.exp(-50 * unit_time(n_lbfgs)))
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
    t = unit_time(500)
    y = (
        (1e-2 + np.exp(-20 * t))
        * (1 + 2 * np.clip(t - 0.7, 0, None))
        * batch_noise(np.random.default_rng(0), 500, 0.02)
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
    y = 0.48 * batch_noise(rng, n, 0.01)
    y[0] = 0.63
    y[1:40] = 0.63 * 10 ** rng.uniform(0, 2, 39)
    findings = diagnose(make_history(y), context={"optimizer": "adam", "lr": 1.0})
    assert codes(findings) == ["unstable", "no_progress"]  # flat, but not "converged"
    blowup, stuck = findings
    assert 1 <= blowup.step < 40 and "first value" in blowup.message and "adam" in blowup.hint
    assert stuck.step == n - 1 and "hardly learned" in stuck.message


# -------------------------------------------------------------------------------------------- no progress
def test_no_progress_and_still_learning_can_go_together():
    y = 1.0 - 0.4 * unit_time(500) ** 2  # lr too low: barely moving, but moving
    assert codes(diagnose(make_history(y))) == ["no_progress", "still_learning"]


@pytest.mark.parametrize("n", LENGTHS)
def test_healthy_curves_show_no_blow_up_or_no_progress(n):
    for y in (converged_curve(n), power_law_curve(n), overfitting_curves(n)[0]):
        assert not {"unstable", "no_progress"} & set(codes(diagnose(make_history(y))))


@pytest.mark.parametrize("n", LENGTHS)
def test_a_likelihood_that_fell_onto_a_high_floor_is_not_no_progress(n):
    # A VAE's negative ELBO: 145 -> 83.5 nats is x0.58 of the first value, yet a finished training.
    y = likelihood_curve(n)
    assert y[0] == 145.0 and abs(np.median(y[-max(5, n // 20) :]) - 83.5) < 2
    assert codes(diagnose(make_history(y))) == ["converged"]


def test_the_floor_exemption_has_threshold_overrides():
    h = make_history(likelihood_curve(500))
    assert "no_progress" in codes(diagnose(h, no_progress_noise=1e4))  # demand a fall of 1e4 noise sigmas
    assert "no_progress" in codes(diagnose(h, no_progress_step_share=1e-3))  # every step under 0.1% of the fall
    assert "no_progress" in codes(diagnose(h, no_progress_levelled=1e-3))  # an end 1000x slower than the average


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("sigma", (0.01, 0.1))
def test_a_flat_noisy_curve_is_still_no_progress(n, sigma):
    y = 0.7 * batch_noise(np.random.default_rng(6), n, sigma)  # within noise of its start throughout
    f = only(diagnose(make_history(y)), "no_progress")
    assert f.step == n - 1 and "hardly learned" in f.message
    assert "converged" not in codes(diagnose(make_history(y)))


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


def test_spikes_where_the_training_data_were_redrawn_are_not_jumps():
    n = 1000
    y = spiky_curve(n)  # spikes at steps 300, 500 and 700
    assert "3 upward spikes" in only(diagnose(make_history(y)), "jumps").message
    assert "jumps" not in codes(diagnose(make_history(y), context={"data_redraw_every": 100}))
    left = only(diagnose(make_history(y), context={"data_redraw_every": 250}), "jumps")  # 500 only is a redraw
    assert "2 upward spikes" in left.message and left.step in {300, 700}
    # a fit to 1e-6 on old points, then 1e-2 on points drawn where the residual is large, falling again
    y = np.r_[np.geomspace(1.0, 1e-6, 500), np.geomspace(1e-2, 1e-7, 500)]
    assert "diverged" in codes(diagnose(make_history(y)))
    assert "diverged" not in codes(diagnose(make_history(y), context={"data_redraw_every": 500}))
    y[700:] = 1e3  # a real blow-up inside a redraw interval is still one
    assert "diverged" in codes(diagnose(make_history(y), context={"data_redraw_every": 500}))
    with pytest.raises(ValueError, match="data_redraw_every"):
        diagnose(make_history(y), context={"data_redraw_every": 0})


def test_smooth_activation_gets_no_relu_remark():
    f = only(diagnose(make_history(spiky_curve(500)), context={"activations": ["tanh"]}), "jumps")
    assert f.severity == "warning" and "ReLU" not in f.message


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
    lbfgs = adam[-1] * 0.5 / (1 + 200 * unit_time(n_lbfgs))  # L-BFGS is still improving fast
    h = make_history(np.r_[adam, lbfgs], phases=[("adam", n_adam), ("lbfgs", n_lbfgs)])
    f = only(diagnose(h), "still_learning")
    assert "lbfgs phase" in f.message and "L-BFGS" in f.hint
    # the drop at the phase switch is not a jump
    assert "jumps" not in codes(diagnose(h))


# ---------------------------------------------------------------------------------------- negative losses
def test_negative_log_likelihood_curves_are_judged_in_linear_units():
    rng = np.random.default_rng(0)
    t = unit_time(500)
    flat = -1.5 + 4 * np.exp(-10 * t) + 0.02 * rng.standard_normal(500)
    falling = 2 - 3 * t + 0.02 * rng.standard_normal(500)
    assert codes(diagnose(make_history(flat))) == ["converged"]
    f = only(diagnose(make_history(falling)), "still_learning")
    assert "fell by" in f.message


# ----------------------------------------------------------------- noisy ends: the window-median rule
def test_a_noisy_slow_fall_is_still_learning_and_a_noisy_plateau_is_not():
    t = unit_time(600)
    seeds = range(20)
    falling = [(0.05 + np.exp(-3 * t)) * batch_noise(np.random.default_rng(s), 600, 0.3) for s in seeds]
    plateau = [(0.1 + 2 * np.clip(0.6 - t, 0, None)) * batch_noise(np.random.default_rng(s), 600, 0.3)
               for s in seeds]

    def rate(curves, **kw):
        return np.mean(["still_learning" in codes(diagnose(make_history(y), **kw)) for y in curves])
    assert rate(falling) >= 0.9 and rate(falling, weak_significance=3.0) < rate(falling)
    assert rate(plateau) == 0.0


def test_weak_significance_cannot_exceed_significance():
    with pytest.raises(ValueError, match="weak_significance"):
        diagnose(make_history(converged_curve(50)), weak_significance=4.0)


def test_a_rise_onto_redrawn_points_is_no_blow_up():
    # RAD redraws the points where the residual is large every 500 steps: the loss jumps x30 at step 500 (a new
    # objective), then falls again; with the redraw period known that is no instability, without it it is one.
    rng = np.random.default_rng(0)
    y = 10 ** (-np.linspace(0, 3, 2000) + 0.02 * rng.standard_normal(2000))
    y[500:] *= 10 ** (2.5 * np.exp(-np.arange(1500) / 200.0))
    assert "unstable" in codes(diagnose(make_history(y)))
    assert "unstable" not in codes(diagnose(make_history(y), context={"data_redraw_every": 500}))
    # a rise that builds up over many steps between redraws is still one
    z = 10 ** (-np.linspace(0, 3, 2000) + 0.02 * rng.standard_normal(2000))
    z[300:700] *= 10 ** (2.5 * np.sin(np.linspace(0, np.pi, 400)))
    assert "unstable" in codes(diagnose(make_history(z), context={"data_redraw_every": 500}))
