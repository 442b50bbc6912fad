"""metric/val_residual: the residual RMS on uniform points the run never trains on, for model selection
without a reference (``evaluation.validation_points`` with ``train.early_stopping {monitor:
metric/val_residual, restore_at_end: true}``)."""

import numpy as np

import pinngen
from pinngen.pinn.loss import residual_norm


def _cfg(**train):
    return {"kind": "pinn", "name": "val", "problem": "poisson", "options": {"hard": True},
            "network": {"hidden": [12, 12]}, "collocation": {"n_domain": 48},
            "evaluation": {"metric_points": 256, "validation_points": 512},
            "train": {"eval_every": 25, "progress": False, **train,
                      "phases": [{"optimizer": "adam", "steps": 300, "lr": 0.01}]}}


def test_the_validation_residual_is_recorded_and_tracks_the_residual_off_the_training_points(tmp_path):
    run = pinngen.run(_cfg(), out=tmp_path / "a", seed=1, progress=False)
    s, v = run.history.series("metric/val_residual")
    assert len(s) == 12 and np.all(np.isfinite(v)) and v[-1] < v[0] / 3
    # against an independent draw of 4,096 points: the same RMS to within sampling error (48 training points)
    pts = np.random.default_rng(123).random((4096, 2))
    dense = float(np.sqrt(np.mean(np.asarray(residual_norm(run.model, pts)) ** 2)))
    assert 0.7 * dense < v[-1] < 1.4 * dense


def test_restore_at_end_returns_the_model_with_the_lowest_validation_residual(tmp_path):
    es = {"monitor": "metric/val_residual", "patience": 10_000, "restore_at_end": True}
    cfg = _cfg(early_stopping=es)
    # a second phase with a far too large learning rate makes the model worse: the best one is in phase 1
    cfg["train"]["phases"] = [{"optimizer": "adam", "steps": 300, "lr": 0.01}, {"optimizer": "sgd", "steps": 50,
                                                                                  "lr": 0.05}]
    run = pinngen.run(cfg, out=tmp_path / "c", seed=2, progress=False)
    s, v = run.history.series("metric/val_residual")
    best = int(np.argmin(v))
    assert best < len(v) - 1 and v[-1] > 1.5 * v[best], v
    assert run.history.meta["restored_best_step"] == int(s[best]) < 300
    rel = run.history.series("metric/rel_l2")[1]  # on a 256-point subsample; the summary uses the full grid
    assert abs(run.metrics["summary"]["rel_l2"] - rel[best]) < 0.1 * rel[best] < 0.1 * rel[-1]


def _inverse(share, **train):
    return {"kind": "pinn", "name": "inv", "dtype": "float64", "problem": "burgers_inverse",
            "options": {"n_observations": 200},
            "network": {"hidden": [10, 10]}, "collocation": {"n_domain": 64},
            "evaluation": {"metric_points": 256, "validation_observations": share},
            "train": {"eval_every": 20, "progress": False, **train,
                      "phases": [{"optimizer": "adam", "steps": 60, "lr": 0.01}]}}


def test_held_out_observations_leave_training_and_give_val_data(tmp_path):
    from pinngen.pinn.experiment import Config, setup
    from pinngen.runs import precision

    def trained_points(seed):
        with precision("float64"):
            return np.asarray(setup(Config(**_inverse(0.25), seed=seed)).data["data"]["x"])

    assert len(trained_points(3)) == 150  # 50 of the 200 observations held out
    run = pinngen.run(_inverse(0.25), out=tmp_path / "i", seed=3, progress=False)
    steps, v = run.history.series("metric/val_data")
    assert len(steps) == 3 and np.all(np.isfinite(v)) and np.all(v > 0)
    # the held-out misfit is the model's RMS misfit at observation points it never trained on
    from pinngen.pinn.problems.burgers_inverse import burgers_inverse
    full = burgers_inverse(n_observations=200, seed=3).condition("data")
    trained = {tuple(p) for p in trained_points(3)}
    held = np.array([tuple(p) not in trained for p in full.points])
    assert held.sum() == 50
    u = run.predict(full.points[held])
    np.testing.assert_allclose(np.sqrt(np.mean((u - full.values[held, 0]) ** 2)), v[-1], rtol=1e-5)


def test_a_validation_share_without_observations_is_one_line(tmp_path):
    import pytest

    from pinngen.config import ConfigError

    with pytest.raises(ConfigError, match="has no observations"):
        pinngen.run({**_cfg(), "evaluation": {"validation_observations": 0.2}}, out=tmp_path / "x", progress=False)
