"""The CLI end to end: run, list, predict, diagnose, report, lr-find; bad input exits 2 with one line."""

import json
import subprocess
import sys

import numpy as np
import pytest

from pinngen.cli import main

FAST = ["--set", "train.phases.0.epochs=null", "--set", "train.phases.0.steps=60", "--set", "train.eval_every=20",
        "--no-progress"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "dd"
    assert main(["run", "dense-diabetes", "--out", str(out), *FAST]) == 0
    return out


def test_run_writes_the_run_folder(run_dir):
    for name in ("config.yaml", "history.csv", "metrics.json", "findings.json", "report.html",
                 "model/weights.npz", "model/spec.json", "figures/loss_curves.png"):
        assert (run_dir / name).exists(), name
    m = json.loads((run_dir / "metrics.json").read_text())
    assert m["summary"]["steps"] == 60 and np.isfinite(m["summary"]["test_rmse"])
    html = (run_dir / "report.html").read_text()
    assert "data:image/png;base64" in html and "dense-diabetes" in html


def test_predict_matches_python_api(run_dir, tmp_path):
    import pinngen
    from pinngen.data import diabetes

    x = diabetes().x[:5]
    np.save(tmp_path / "p.npy", x)
    assert main(["predict", str(run_dir), "--points", str(tmp_path / "p.npy"), "--out", str(tmp_path / "u.npy")]) == 0
    y = np.load(tmp_path / "u.npy")
    np.testing.assert_allclose(y, pinngen.load(run_dir).predict(x), rtol=1e-6)
    assert y.shape == (5, 1) and np.all((y > -200) & (y < 600))  # original units (progression 25..346)


def test_diagnose_and_report(run_dir, capsys):
    assert main(["diagnose", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "- [" in out
    (run_dir / "report.html").unlink()
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").exists()


def test_list_shows_builtins(capsys):
    assert main(["list"]) == 0
    assert "dense-diabetes" in capsys.readouterr().out


def test_lr_find(tmp_path, capsys):
    assert main(["lr-find", "dense-diabetes", "--out", str(tmp_path), "--steps", "60"]) == 0
    assert "suggested learning rate" in capsys.readouterr().out
    assert (tmp_path / "lr_find.png").exists()
    res = json.loads((tmp_path / "lr_find.json").read_text())
    assert 1e-6 <= res["suggestion"] <= 1.0


@pytest.mark.parametrize("args,needle", [
    (["run", "no-such-experiment"], "no built-in experiment or config file named 'no-such-experiment'"),
    (["run", "dense-diabetes", "--set", "model.hiden=[3]"], "model.hiden: unknown key"),
    (["run", "dense-diabetes", "--set", "train.phases.0.lr=-1"], "train.phases.0.lr"),
    (["run", "dense-diabetes", "--set", "train.phases.0.steps=abc"], "train.phases.0.steps"),
    (["run", "dense-diabetes", "--set", "model.activation=relux"], "unknown activation 'relux'"),
    (["run", "dense-diabetes", "--set", "data.path=/nope.csv", "--set", "data.dataset=null"], "file not found"),
    (["run", "missing.yaml"], "config file not found: missing.yaml"),
    (["predict", "/nonexistent", "--points", "a.npy", "--out", "b.npy"], "not a run folder"),
])
def test_bad_input_exits_2_with_one_line(args, needle, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_bad_points_shape(run_dir, tmp_path, capsys):
    np.save(tmp_path / "p.npy", np.zeros((3, 4)))
    assert main(["predict", str(run_dir), "--points", str(tmp_path / "p.npy"), "--out", str(tmp_path / "u.npy")]) == 2
    assert "(n, 10)" in capsys.readouterr().err


def test_console_script_help():
    r = subprocess.run([sys.executable, "-m", "pinngen.cli", "run", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--set" in r.stdout
