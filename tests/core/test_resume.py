"""Exact, crash-safe resume: SIGKILL at many points (inside checkpoint writes included), resume, compare.

The children run ``python -m pinngen.core.killtest`` (set-up of a real experiment kind, then ``fit`` with
checkpoints and ``resume=True``); a resumed run must end with bitwise the same weights, loss history and
metrics as one that was never interrupted.
"""

import json
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest

from pinngen.core import checkpoint as ckpt
from pinngen.core.killtest import final_arrays, kill_and_resume, run_child, same
from pinngen.core.nn import MLP
from pinngen.core.train import TrainConfig, fit

PINN = dict(kind="pinn", problem="heat", options={"k": 0.1, "hard": True}, network={"hidden": [12, 12]},
            collocation={"n_domain": 96, "resample_every": 20}, evaluation={"metric_points": 128},
            train={"eval_every": 10, "chunk": 10, "checkpoint_every": 10, "progress": False,
                   "phases": [{"optimizer": "adam", "steps": 50, "lr": 2e-3}, {"optimizer": "lbfgs", "steps": 30}]})
IMAGES = dict(kind="autoencoder", data={"dataset": "digits", "fallback": None, "max_train": 300, "max_val": 50,
                                        "max_test": 50},
              model={"hidden": [32], "latent": 4},
              train={"eval_every": 10, "chunk": 10, "checkpoint_every": 10, "progress": False,
                     "phases": [{"optimizer": "adam", "steps": 60, "lr": 1e-3, "batch_size": 32}]})


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("xla-cache"))


@pytest.mark.parametrize("config, kills", [(PINN, ["rename:3", "arrays:6", 7.0]), (IMAGES, ["cleanup:2", 6.0])],
                         ids=["pinn-resampling-lbfgs", "minibatch-images"])
def test_killed_runs_resume_to_the_same_result(tmp_path, cache, config, kills):
    run_child(config, tmp_path / "ref", cache=cache)
    ref = final_arrays(tmp_path / "ref")
    assert len(ref["loss"]) == sum(p["steps"] for p in config["train"]["phases"])
    for kill in kills:
        out = tmp_path / f"kill-{kill}"
        info = kill_and_resume(config, out, kill, cache=cache)
        assert info["restarts"] >= 1 or not info["killed"]
        assert same(final_arrays(out), ref), f"resumed after kill at {kill} differs"
        assert len(ckpt.units(out / "checkpoint")) == 1  # the superseded units are gone
        assert not list((out / "checkpoint").glob(".tmp-*"))  # and so are half-written ones


def _data(n=64):
    x = np.random.default_rng(0).uniform(-1, 1, (n, 1)).astype(np.float32)
    return {"x": x, "y": np.sin(3 * x)}


def _mse(model, batch, key):
    return {"mse": ((model(batch["x"]) - batch["y"]) ** 2).mean()}


def _net():
    return MLP(in_size=1, out_size=1, hidden=[8], activation="tanh", key=jax.random.PRNGKey(0))


def _partial_run(tmp_path):
    class Stop:
        def __call__(self, state):
            state.stop = state.step >= 20

    cfg = TrainConfig(phases=[dict(steps=40, lr=1e-2)], eval_every=10, checkpoint_every=10, progress=False)
    fit(_net(), _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, callbacks=(Stop(),))
    return cfg


def test_corrupted_or_truncated_checkpoint_is_a_one_line_error(tmp_path):
    cfg = _partial_run(tmp_path)
    unit = ckpt.latest(tmp_path)
    data = (unit / "arrays.npz").read_bytes()
    (unit / "arrays.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ckpt.CheckpointError, match="arrays.npz: does not match its checksum") as err:
        fit(_net(), _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, resume=True)
    assert "\n" not in str(err.value)
    (unit / "arrays.npz").write_bytes(data)
    (unit / "info.json").write_text("{not json")
    with pytest.raises(ckpt.CheckpointError, match="info.json: unreadable"):
        fit(_net(), _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, resume=True)


def test_checkpoint_from_another_config_or_seed_is_refused(tmp_path):
    cfg = _partial_run(tmp_path)
    other = cfg.model_copy(update={"phases": [cfg.phases[0].model_copy(update={"lr": 0.5})]})
    with pytest.raises(ckpt.CheckpointError, match=r"different the training config \(phases\.0\.lr: 0\.01 in the "
                                                   r"checkpoint, 0\.5 now\)"):
        fit(_net(), _data(), other, loss_terms=_mse, checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ckpt.CheckpointError, match="seed / random key"):
        fit(_net(), _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, resume=True, seed=5)
    bigger = MLP(in_size=1, out_size=1, hidden=[9], activation="tanh", key=jax.random.PRNGKey(0))
    with pytest.raises(ckpt.CheckpointError, match="parameter shapes"):
        fit(bigger, _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, resume=True)


def test_write_unit_keeps_the_old_folder_when_interrupted(tmp_path):
    from pinngen.core.io import write_unit

    write_unit(tmp_path / "u", {"a": b"old"})

    def boom():
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_unit(tmp_path / "u", {"a": b"new", "b": b"x"}, before_rename=boom)
    assert (tmp_path / "u" / "a").read_bytes() == b"old" and not (tmp_path / "u" / "b").exists()
    write_unit(tmp_path / "u", {"a": b"new"})
    assert (tmp_path / "u" / "a").read_bytes() == b"new"


CLI_RUN = dict(PINN, name="heat-tiny")


def _cli(args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "pinngen.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd)


def test_pinngen_run_resume_after_sigkill_and_refuses_another_config(tmp_path, cache):
    import os

    cfg = tmp_path / "heat-tiny.yaml"
    cfg.write_text(json.dumps(CLI_RUN))  # JSON is YAML
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_COMPILATION_CACHE_DIR": cache}
    ref = _cli(["run", str(cfg), "--out", str(tmp_path / "ref"), "--no-progress"], env=env)
    assert ref.returncode == 0, ref.stderr
    killed = _cli(["run", str(cfg), "--out", str(tmp_path / "k"), "--no-progress"],
                  env={**env, "PINNGEN_CRASH_AT": "history:4"})
    assert killed.returncode == -9 and not (tmp_path / "k" / "metrics.json").exists()
    before = (tmp_path / "k" / "config.yaml").read_text()
    other = _cli(["run", str(cfg), "--out", str(tmp_path / "k"), "--resume", "--set", "train.phases.0.lr=0.1"],
                 env=env)
    assert other.returncode == 2 and other.stderr.count("\n") == 1 and "Traceback" not in other.stderr
    assert "different config (train.phases.0.lr" in other.stderr
    assert (tmp_path / "k" / "config.yaml").read_text() == before  # nothing overwritten
    broken = tmp_path / "broken"
    shutil.copytree(tmp_path / "k", broken)
    arrays = ckpt.latest(broken / "checkpoint") / "arrays.npz"
    arrays.write_bytes(arrays.read_bytes()[:100])
    damaged = _cli(["run", str(cfg), "--out", str(broken), "--resume", "--no-progress"], env=env)
    assert damaged.returncode == 2 and damaged.stderr.count("\n") == 1, damaged.stderr
    assert "arrays.npz: does not match its checksum" in damaged.stderr and len(arrays.read_bytes()) == 100
    resumed = _cli(["run", str(cfg), "--out", str(tmp_path / "k"), "--resume", "--no-progress"], env=env)
    assert resumed.returncode == 0, resumed.stderr
    a = json.loads((tmp_path / "ref" / "metrics.json").read_text())["summary"]
    b = json.loads((tmp_path / "k" / "metrics.json").read_text())["summary"]
    for key in ("rel_l2", "max_abs_error", "final_loss", "steps"):
        assert a[key] == b[key], key
    with np.load(tmp_path / "ref" / "model" / "weights.npz") as x, np.load(tmp_path / "k" / "model" /
                                                                           "weights.npz") as y:
        assert all(np.array_equal(x[k], y[k]) for k in x.files)
    shutil.rmtree(tmp_path / "ref")


def test_checkpoint_with_other_loss_weights_is_refused(tmp_path):
    cfg = _partial_run(tmp_path)
    with pytest.raises(ckpt.CheckpointError, match=r"different the loss weights \(mse: 1\.0 in the checkpoint, 2\.0"):
        fit(_net(), _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, resume=True, weights={"mse": 2.0})


def test_a_stop_on_the_last_chunk_of_a_phase_stops_before_the_next_phase_and_resumes_exactly(tmp_path):
    class StopAt20:
        def __call__(self, state):
            state.stop = state.step >= 20

    cfg = TrainConfig(phases=[dict(steps=20, lr=1e-2), dict(steps=20, lr=1e-3)], eval_every=10, progress=False)
    whole = fit(_net(), _data(), cfg, loss_terms=_mse).history.column("loss")
    part = fit(_net(), _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, callbacks=(StopAt20(),))
    assert len(part.history.column("loss")) == 20  # the second phase did not start
    assert [p["stop_reason"] for p in part.history.meta["phases"]] == ["max_steps"]
    again = fit(_net(), _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, resume=True)
    np.testing.assert_array_equal(again.history.column("loss"), whole)
