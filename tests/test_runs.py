"""Run folders: precision settings are restored, the EMA is saved and used, bad configs touch nothing."""

import jax
import numpy as np
import pytest

import pinngen
from pinngen.config import ConfigError

TINY = ["train.phases.0.steps=20", "train.phases.1.steps=5", "collocation.n_domain=64", "network.hidden=[8]",
        "evaluation.metric_points=64"]


def test_float64_run_and_loading_it_leave_the_process_precision_alone(tmp_path):
    assert not jax.config.jax_enable_x64
    run = pinngen.run("heat", out=tmp_path, overrides=[*TINY, "dtype=float64"], progress=False)
    assert not jax.config.jax_enable_x64
    model = run.model
    assert not jax.config.jax_enable_x64
    assert jax.tree_util.tree_leaves(model)[0].dtype == np.float64
    y = run.predict(np.array([[0.5, 0.1]]))
    assert y.dtype == np.float64 and not jax.config.jax_enable_x64


def test_ema_is_saved_beside_the_weights_and_evaluated(tmp_path):
    run = pinngen.run("dense-diabetes", out=tmp_path, progress=False,
                      overrides=["train.phases.0.epochs=2", "train.ema={decay: 0.9}"])
    assert (tmp_path / "model" / "ema.npz").exists() and (tmp_path / "model" / "weights.npz").exists()
    assert run.metrics["summary"]["evaluated_on"] == "ema"
    ema, raw = run.load_model("ema"), run.load_model("weights")
    for a, b in zip(jax.tree_util.tree_leaves(run.model), jax.tree_util.tree_leaves(ema), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(ema),
                                                        jax.tree_util.tree_leaves(raw), strict=True))


def test_bad_training_settings_fail_before_the_run_folder_is_touched(tmp_path):
    run = pinngen.run("dense-diabetes", out=tmp_path, progress=False, overrides=["train.phases.0.epochs=1"])
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    config_text = (tmp_path / "config.yaml").read_text()
    with pytest.raises(ValueError, match="weight schedule for 'kl' names no loss term"):
        pinngen.run("dense-diabetes", out=tmp_path, progress=False,
                    overrides=["train.phases.0.epochs=1", "train.weight_schedules={kl: {steps: 10}}"])
    assert (tmp_path / "config.yaml").read_text() == config_text
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before
    with pytest.raises(ConfigError, match="unknown optimizer"):
        pinngen.run("dense-diabetes", out=tmp_path, overrides=["train.phases.0.optimizer=adamm"])
    assert run.metrics["summary"]["steps"] > 0


def test_setup_rejects_what_fit_does_not_take():
    from pinngen.core.setup import Setup

    with pytest.raises(TypeError, match=r"Setup.fit_kwargs has \['val'\], which fit does not take"):
        Setup(model=None, data=None, loss_terms=None, spec={}, fit_kwargs={"val": None})
