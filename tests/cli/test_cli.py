"""The CLI end to end: run, list, predict (against independent computations), diagnose, report, compare,
lr-find; bad input exits 2 with one line."""

import json
import re
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


def _numpy_forward(run_dir, x):
    """The dense model recomputed with NumPy from the saved weights and scalers (independent of JAX/Equinox)."""
    spec = json.loads((run_dir / "model" / "spec.json").read_text())
    with np.load(run_dir / "model" / "weights.npz", allow_pickle=False) as npz:
        leaves = [npz[k].astype(np.float64) for k in sorted(npz.files)]
    assert len(leaves) == 2 * (len(spec["hidden"]) + 1)  # (weight (out, in), bias (out,)) per layer
    sx, sy = spec["scaler_x"], spec["scaler_y"]
    assert sx["type"] == sy["type"] == "StandardScaler"
    h = (x - np.asarray(sx["mean"])) / np.asarray(sx["std"])
    for i in range(0, len(leaves), 2):
        w, b = leaves[i], leaves[i + 1]
        h = h @ w.T + b
        if i + 2 < len(leaves):
            h = np.maximum(h, 0.0)  # relu hidden layers, linear output (the experiment's model)
    return h * np.asarray(sy["std"]) + np.asarray(sy["mean"])


def test_predict_dense_matches_a_numpy_forward_pass(run_dir, tmp_path):
    from pinngen.data import diabetes

    x = diabetes().x[:25]
    np.save(tmp_path / "p.npy", x)
    assert main(["predict", str(run_dir), "--points", str(tmp_path / "p.npy"), "--out", str(tmp_path / "u.npy")]) == 0
    y = np.load(tmp_path / "u.npy")
    assert y.shape == (25, 1)
    np.testing.assert_allclose(y, _numpy_forward(run_dir, x), rtol=1e-4, atol=1e-3)  # float32 model
    assert np.std(y) > 1.0  # not a constant: the features reach the output


def _heat_exact(x, t, k=0.1):
    """u_t = k u_xx with u(x, 0) = sin(pi x) + 0.5 sin(4 pi x) and zero boundaries: each mode decays."""
    return sum(a * np.exp(-k * (n * np.pi) ** 2 * t) * np.sin(n * np.pi * x) for n, a in ((1, 1.0), (4, 0.5)))


def test_predict_heat_matches_the_exact_solution(tmp_path):
    out = tmp_path / "heat"
    assert main(["run", "heat", "--out", str(out), "--no-progress", "--set", "train.phases.0.steps=150",
                 "--set", "train.phases.1.steps=50", "--set", "collocation.n_domain=128",
                 "--set", "evaluation.metric_points=256", "--set", "train.eval_every=20"]) == 0
    rel_l2 = json.loads((out / "metrics.json").read_text())["summary"]["rel_l2"]
    assert 0 < rel_l2 < 1
    # On the run's own reference grid (201 x 101 over [0, 1]^2), the CLI's predictions against the closed
    # form must give back the relative L2 error the run measured.
    xs, ts = np.meshgrid(np.linspace(0, 1, 201), np.linspace(0, 1, 101), indexing="ij")
    grid = np.column_stack([xs.ravel(), ts.ravel()])
    u = _cli_predict(out, grid, tmp_path)
    exact = _heat_exact(grid[:, 0], grid[:, 1])
    assert np.linalg.norm(u - exact) / np.linalg.norm(exact) == pytest.approx(rel_l2, rel=1e-3)
    # At points the run never saw, the error is of the same size; swapped (x, t) columns would not be.
    pts = np.random.default_rng(1).random((500, 2))
    exact = _heat_exact(pts[:, 0], pts[:, 1])
    err = np.linalg.norm(_cli_predict(out, pts, tmp_path) - exact) / np.linalg.norm(exact)
    assert err < 1.3 * rel_l2 + 1e-3
    swapped = np.linalg.norm(_cli_predict(out, pts[:, ::-1], tmp_path) - exact) / np.linalg.norm(exact)
    assert swapped > 1.3 * rel_l2 + 1e-3


def _cli_predict(run_dir, points, tmp_path):
    np.save(tmp_path / "pts.npy", points)
    assert main(["predict", str(run_dir), "--points", str(tmp_path / "pts.npy"), "--out", str(tmp_path / "u.npy")]) == 0
    u = np.load(tmp_path / "u.npy")
    assert u.size == len(points)  # one output, u
    return u.reshape(-1)


def test_compare_two_seeds(run_dir, tmp_path, capsys):
    other = tmp_path / "dd-seed1"
    assert main(["run", "dense-diabetes", "--out", str(other), "--seed", "1", *FAST]) == 0
    capsys.readouterr()
    out = tmp_path / "cmp"
    assert main(["compare", str(run_dir), str(other), "--out", str(out)]) == 0
    assert str(out / "compare.html") in capsys.readouterr().out
    html = (out / "compare.html").read_text()
    assert run_dir.name in html and "dd-seed1" in html and html.count("Test RMSE") >= 2
    assert html.count("\u2605") >= 4  # a best value in each of the error rows (test_mse, rmse, mae, r2, ...)
    assert re.search(r'<td class="key">seed</td><td class="num">0</td><td class="num">1</td>', html)
    assert "data:image/png;base64" in html
    # bad input: one line, exit code 2
    (tmp_path / "not-a-dir").write_text("")
    for args in (["compare", str(run_dir)], ["compare", str(run_dir), str(tmp_path)],
                 ["compare", str(run_dir), str(other), "--out", str(tmp_path / "not-a-dir")]):
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("pinngen: error:") and len(err.splitlines()) == 1


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
    # the training core's bad input
    (["run", "dense-diabetes", "--set", "train.phases.0.optimizer=adamm"], "unknown optimizer 'adamm'; choose one of"),
    (["run", "dense-diabetes", "--set", "train.phases.0.args={beta1: 0.5}"], "adam has no argument(s) beta1"),
    (["run", "dense-diabetes", "--set", "train.phases.0.groups={critic: {terms: [mse]}}"],
     "group 'critic' matches no parameter"),
    (["run", "dense-diabetes", "--set", "train.phases.0.groups={net: {terms: [mae]}}"], "unknown loss term(s) ['mae']"),
    (["run", "dense-diabetes", "--set", "train.weight_schedules={kl: {steps: 10}}"],
     "weight schedule for 'kl' names no loss term"),
    (["run", "dense-diabetes", "--set", "train.phases.0.optimizer=lbfgs"], "lbfgs needs the full batch"),
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
