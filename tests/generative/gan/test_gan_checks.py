"""The GAN family's diagnose() checks on synthetic two-player histories, and the metrics tracked for them."""

import numpy as np
import pytest

from pinngen.core.diagnose import diagnose
from pinngen.core.history import History
from pinngen.generative import gan_checks  # noqa: F401  (registers the family's checks)
from pinngen.generative.gan_tracking import EIGHT_GAUSSIANS, energy_distance, mode_coverage

N, EVERY = 600, 50


def _context(loss="non_saturating", progress="fd_features", **family):
    per = {p: {"optimizer": "adam", "lr": 2e-4, "adversarial": True} for p in ("discriminator", "generator")}
    return {"family_name": "gan", "optimizer": "adam", "lr": 2e-4, "per_objective": per,
            "family": {"loss": loss, "progress": progress, "classes": 10, "modes": None, **family}}


def _history(metrics: dict, *, g_loss=None, g_grad=None, context=None) -> History:
    """Two players with flat noisy losses; ``metrics[name]`` values are recorded every EVERY steps."""
    rng = np.random.default_rng(0)
    steps = np.arange(N)
    d_real, d_fake = 0.6 + 0.05 * rng.standard_normal(N), 0.6 + 0.05 * rng.standard_normal(N)
    g = 0.9 + 0.05 * rng.standard_normal(N) if g_loss is None else g_loss
    cols = {"loss": d_real + d_fake + g, "loss/d_real": d_real, "loss/d_fake": d_fake, "loss/g_adv": g,
            "loss/discriminator": d_real + d_fake, "loss/generator": g,
            "grad_norm/discriminator": np.full(N, 1.0), "grad_norm/generator": np.full(N, 0.5) if g_grad is None
            else g_grad, "grad_norm": np.full(N, 1.1), "lr": np.full(N, 2e-4)}
    evals = steps[EVERY - 1::EVERY]
    for name, values in metrics.items():
        col = np.full(N, np.nan)
        values = np.asarray(values, float)
        col[evals[: len(values)]] = values
        cols[f"metric/{name}"] = col
    h = History()
    h.extend(steps, "discriminator+generator", cols)
    h.meta = {"objectives": {"discriminator": ["d_real", "d_fake"], "generator": ["g_adv"]},
              "context": context or _context()}
    return h


E = N // EVERY  # 12 evaluations
HEALTHY = {"d_acc_real": np.full(E, 0.6), "d_acc_fake": np.full(E, 0.55), "diversity": np.full(E, 0.95),
           "fd_features": np.linspace(40, 5, E), "min_class_ratio": np.full(E, 0.8),
           "classes_missing": np.zeros(E)}


def _codes(h, **kw):
    return [f.code for f in diagnose(h, **kw)]


def test_a_healthy_run_has_only_progress_and_adversarial_info():
    findings = diagnose(_history(HEALTHY))
    codes = [f.code for f in findings]
    assert not {"mode_collapse", "discriminator_wins", "gan_oscillation", "gan_non_finite_samples"} & set(codes)
    progress = [f for f in findings if f.code == "gan_progress"]
    assert len(progress) == 1 and progress[0].severity == "info" and "best 5 at step 599" in progress[0].message
    assert codes.count("adversarial") == 2  # neither player's loss level is judged


def test_mode_collapse_fires_on_collapsed_metrics_only():
    collapsed = dict(HEALTHY, min_class_ratio=np.linspace(0.8, 0.05, E), classes_missing=np.linspace(0, 4, E),
                     diversity=np.linspace(0.9, 0.3, E))
    f = next(f for f in diagnose(_history(collapsed)) if f.code == "mode_collapse")
    assert f.severity == "warning" and "0.05 x its share" in f.message and "4 of 10 classes" in f.message
    assert "spread is 0.3 x" in f.message and "restore_best" in f.hint
    # spread alone
    assert "mode_collapse" in _codes(_history(dict(HEALTHY, diversity=np.full(E, 0.2))))
    # a 2-D toy missing modes
    ctx = _context(progress="energy", modes=8, classes=None)
    toy = {"d_acc_real": np.full(E, 0.6), "d_acc_fake": np.full(E, 0.6), "diversity": np.full(E, 0.9),
           "energy": np.linspace(1, 0.01, E), "modes_covered": np.full(E, 8.0)}
    assert "mode_collapse" not in _codes(_history(toy, context=ctx))
    toy["modes_covered"] = np.full(E, 3.0)
    f = next(f for f in diagnose(_history(toy, context=ctx)) if f.code == "mode_collapse")
    assert "cover 3 of the 8 modes" in f.message


def test_discriminator_wins_needs_perfect_accuracy_and_a_rising_generator_loss():
    wins = dict(HEALTHY, d_acc_real=np.full(E, 0.99), d_acc_fake=np.full(E, 1.0))
    rising = np.concatenate([np.full(N // 2, 0.7), np.linspace(0.7, 6.0, N // 2)])
    f = next(f for f in diagnose(_history(wins, g_loss=rising)) if f.code == "discriminator_wins")
    assert f.severity == "warning" and "99 % of real and 100 % of generated" in f.message
    assert "saturated" not in f.message  # non-saturating loss
    # the same accuracies with a flat generator loss, or a balanced game with a rising loss: no finding
    assert "discriminator_wins" not in _codes(_history(wins))
    assert "discriminator_wins" not in _codes(_history(HEALTHY, g_loss=rising))
    # minimax and a collapsed gradient norm: called saturation
    g_grad = np.concatenate([np.full(100, 2.0), np.full(N - 100, 1e-3)])
    h = _history(wins, g_loss=-rising, g_grad=g_grad, context=_context(loss="minimax"))
    h2 = _history(wins, g_loss=rising, g_grad=g_grad, context=_context(loss="minimax"))
    assert "discriminator_wins" not in _codes(h)  # a falling loss is not the generator losing
    f = next(f for f in diagnose(h2) if f.code == "discriminator_wins")
    assert "minimax loss has saturated" in f.message


def test_oscillation_without_progress_and_not_with_it():
    swing = 10 + 4 * np.tile([1.0, -1.0], E // 2)  # 14, 6, 14, 6, ...: no gain over the first half
    f = next(f for f in diagnose(_history(dict(HEALTHY, fd_features=swing))) if f.code == "gan_oscillation")
    assert "swung between 6 and 14" in f.message and "train.ema" in f.hint
    improving = np.linspace(20, 5, E) + np.tile([1.0, -1.0], E // 2)
    assert "gan_oscillation" not in _codes(_history(dict(HEALTHY, fd_features=improving)))
    assert "gan_oscillation" not in _codes(_history(dict(HEALTHY, fd_features=swing[:4])))  # too few evals


def test_non_finite_samples_is_an_error_at_the_first_bad_evaluation():
    bad = dict(HEALTHY, non_finite_samples=np.r_[np.zeros(5), np.ones(E - 5)])
    f = next(f for f in diagnose(_history(bad)) if f.code == "gan_non_finite_samples")
    assert f.severity == "error" and f.step == 5 * EVERY + EVERY - 1


def test_thresholds_are_overridable_by_name():
    mild = dict(HEALTHY, min_class_ratio=np.full(E, 0.3))
    assert "mode_collapse" not in _codes(_history(mild))
    assert "mode_collapse" in _codes(_history(mild), collapse_class_ratio=0.5)
    with pytest.raises(ValueError):
        diagnose(_history(mild), collapse_class_ratio=2.0)


# ------------------------------------------------------------------------------------------- tracking


def _energy_direct(x, y):
    def mean_dist(a, b, same):
        d = np.sqrt(((a[:, None, :] - b[None]) ** 2).sum(-1))
        return d.sum() / (len(a) * (len(a) - 1)) if same else d.mean()

    return 2 * mean_dist(x, y, False) - mean_dist(x, x, True) - mean_dist(y, y, True)


def test_energy_distance_matches_the_formula_and_separates_laws():
    rng = np.random.default_rng(0)
    x, y, z = rng.normal(size=(300, 2)), rng.normal(size=(300, 2)), rng.normal(0.7, 1.0, size=(300, 2))
    np.testing.assert_allclose(energy_distance(x, z), _energy_direct(x, z), rtol=1e-8)
    same, other = energy_distance(x, y), energy_distance(x, z)
    assert abs(same) < 0.02 and other > 0.3  # the shifted law: 2|mu| (1 - ...) ~ 0.4


def test_mode_coverage_on_hand_made_points():
    c, s = EIGHT_GAUSSIANS["centres"], EIGHT_GAUSSIANS["std"]
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 2.0)
    assert mode_coverage(np.repeat(c, 10, axis=0), c, s) == (8, 1.0)
    three = np.concatenate([np.repeat(c[:3], 30, axis=0), np.zeros((10, 2))])  # 3 modes and 10 points at 0
    assert mode_coverage(three, c, s) == (3, 0.9)
    # a mode with fewer than a fifth of its equal share (100 points: 12.5 each, floor 2.5) is not covered
    few = np.concatenate([np.repeat(c[:7], 14, axis=0), c[7:] + 0.05, c[7:] - 0.05])
    assert mode_coverage(few, c, s) == (7, 1.0)
    assert mode_coverage(np.repeat(c + 0.35, 5, axis=0), c, s)[0] == 0  # beyond 3 sd
