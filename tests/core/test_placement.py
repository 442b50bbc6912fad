"""Data parallelism (train.devices): on 4 host devices the loss trajectory equals the single-device one to float
rounding, for a PINN, an image model and a sequence model; a bad device count is a one-line error."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _xla_flags(devices: int) -> str:
    """``devices`` host devices, with the session's other XLA flags (tests/conftest.py)."""
    keep = [f for f in os.environ.get("XLA_FLAGS", "").split() if "device_count" not in f]
    return " ".join([f"--xla_force_host_platform_device_count={devices}", *keep])


def test_sharded_training_follows_the_single_device_trajectory():
    env = {**os.environ, "XLA_FLAGS": _xla_flags(4), "JAX_PLATFORMS": "cpu"}
    child = Path(__file__).with_name("sharded_child.py")
    # a PINN (full batch, Adam), an image autoencoder and a sequence forecaster (minibatches), a GAN (two
    # players), and L-BFGS on the PINN in float64 (in float32 its line search turns rounding differences of 1e-7
    # into 1e-5 after about 13 iterations and 1e-2 after 100, on one device too if the summation order changes)
    runs = ["pinn@60", "autoencoder@60", "forecast@60", "gan@30", "pinn+lbfgs+float64@60",
            "resume:forecast@60"]  # trained on 4 devices, resumed on 1
    r = subprocess.run([sys.executable, str(child), *runs], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert sorted(out) == sorted(x.split("@")[0] for x in runs)
    for name, res in out.items():
        assert res["steps"] == {"gan": 30}.get(name, 60), (name, res)
        # the trained state really lived on 4 devices (on 1 after a resume there)
        assert ("1" if name.startswith("resume:") else "4") in res["devices_of_params"], (name, res)
        assert name == "gan" or res["last"] < res["first"], (name, res)  # it trained (a GAN's sum need not fall)
        assert res["rel"] < 1e-5, (name, res)


def test_more_devices_than_visible_is_a_one_line_error():
    from pinngen.core.placement import Placement

    with pytest.raises(ValueError, match=r"train.devices=64 but 1 device\(s\) are visible; on a CPU set XLA_FLAGS"):
        Placement(64)


def test_cli_devices_flag_reaches_the_config(tmp_path, capsys):
    from pinngen.cli import main

    assert main(["run", "dense-diabetes", "--out", str(tmp_path / "r"), "--devices", "64", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "train.devices=64" in err and len(err.splitlines()) == 1


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_two_processes_on_localhost_follow_the_single_device_trajectory():
    """Multi-host through jax.distributed (two processes, one CPU device each, Gloo collectives)."""
    import numpy as np

    here = Path(__file__).parent
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": _xla_flags(1),
           "PYTHONPATH": str(here) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    port = str(_free_port())
    procs = [subprocess.Popen([sys.executable, str(here / "multihost_child.py"), port, str(i), "forecast@30"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (0, 1)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    two = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert two[0]["losses"] == two[1]["losses"] and two[0]["devices_of_params"] == ["2"]
    sys.path.insert(0, str(here))
    try:
        from sharded_child import trajectory
    finally:
        sys.path.remove(str(here))
    one, _ = trajectory("forecast", 1, 30)
    a, b = np.asarray(one), np.asarray(two[0]["losses"])
    assert len(a) == len(b) == 30 and np.max(np.abs(a - b) / np.abs(a)) < 1e-5


def test_pinngen_run_on_two_processes_writes_one_folder(tmp_path):
    """The CLI's multi-host flags: both processes train, process 0 alone writes; same losses as one process."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": _xla_flags(1)}
    common = ["dense-diabetes", "--no-progress", "--set", "train.phases.0.epochs=null", "--set",
              "train.phases.0.steps=20", "--set", "train.eval_every=10"]
    port = str(_free_port())
    procs = [subprocess.Popen([sys.executable, "-m", "pinngen.cli", "run", *common, "--out", str(tmp_path / "two"),
                               "--devices", "2", "--coordinator", f"localhost:{port}", "--num-processes", "2",
                               "--process-id", str(i)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in (0, 1)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-2000:] for _, e in outs]
    assert "process 0 wrote the run folder" in outs[1][0]
    one = subprocess.run([sys.executable, "-m", "pinngen.cli", "run", *common, "--out", str(tmp_path / "one")],
                         env=env, capture_output=True, text=True)
    assert one.returncode == 0, one.stderr[-2000:]
    a = (tmp_path / "one" / "history.csv").read_text().splitlines()
    b = (tmp_path / "two" / "history.csv").read_text().splitlines()
    assert len(a) == len(b) == 21
    import numpy as np

    col = a[0].split(",").index("loss")
    la = np.array([float(r.split(",")[col]) for r in a[1:]])
    lb = np.array([float(r.split(",")[col]) for r in b[1:]])
    assert np.max(np.abs(la - lb) / np.abs(la)) < 1e-5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]  # the worker wrote nothing here
