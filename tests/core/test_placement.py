"""Data parallelism (train.devices): on 4 host devices the loss trajectory equals the single-device one to float
rounding, for a PINN, an image model and a sequence model; a bad device count is a one-line error."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_sharded_training_follows_the_single_device_trajectory():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
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
