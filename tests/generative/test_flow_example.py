"""examples/flow_own_table.py runs end to end on its demo table and on a user's .npy."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flow_own_table.py"
TINY = dict(steps=20, n_samples=50, permutations=10, grid_points=16)


def _example():
    spec = importlib.util.spec_from_file_location("flow_own_table", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example_fits_the_demo_table_and_writes_samples_and_log_probs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _example().main(None, **TINY)
    assert "test log-likelihood" in capsys.readouterr().out
    assert np.load(tmp_path / "own_samples.npy").shape == (500, 2)
    lp = np.load(tmp_path / "own_log_prob.npy")
    assert lp.shape == (3000,) and np.all(np.isfinite(lp))
    assert (tmp_path / "runs" / "own-flow" / "figures" / "density.png").exists()
    assert (tmp_path / "runs" / "own-flow" / "report.html").exists()


def test_example_takes_a_numpy_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = np.random.default_rng(0).normal(size=(300, 3))
    np.save(tmp_path / "t.npy", x)
    _example().main(str(tmp_path / "t.npy"), **TINY)
    assert np.load(tmp_path / "own_samples.npy").shape == (500, 3)
    assert np.load(tmp_path / "own_log_prob.npy").shape == (300,)
