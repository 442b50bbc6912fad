"""The `pinn` experiment kind end to end: config -> run folder -> metrics, figures, predict (API and CLI)."""

import json
import subprocess
import sys

import numpy as np
import pytest

import pinngen
from pinngen.config import ConfigError, load_config


def _tiny(problem, **extra):
    cfg = {"kind": "pinn", "name": f"tiny-{problem}", "problem": problem,
           "network": {"hidden": [8, 8]}, "collocation": {"n_domain": 64, "n_boundary": 8, "n_initial": 8},
           "evaluation": {"metric_points": 256},
           "train": {"eval_every": 10, "progress": False,
                     "phases": [{"optimizer": "adam", "steps": 20}, {"optimizer": "lbfgs", "steps": 5}]}}
    cfg.update(extra)
    return cfg


def test_forward_run_writes_metrics_figures_and_predicts(tmp_path):
    run = pinngen.run(_tiny("heat", options={"hard": True}), out=tmp_path / "heat", progress=False)
    m = run.metrics
    for key in ("rel_l2", "max_abs_error", "residual_rms"):
        assert np.isfinite(m["summary"][key])
    assert "metric/rel_l2" in run.history.columns
    for fig in ("field.png", "slices.png", "residual.png", "loss_curves.png", "error_vs_time.png"):
        assert (tmp_path / "heat" / "figures" / fig).exists()
    pts = np.array([[0.5, 0.0], [0.25, 0.0]])
    u = run.predict(pts)
    assert u.shape == (2,)
    np.testing.assert_allclose(u, np.sin(np.pi * pts[:, 0]) + 0.5 * np.sin(4 * np.pi * pts[:, 0]), atol=1e-5)
    np.save(tmp_path / "p.npy", pts)
    code = "import sys; from pinngen.cli import main; sys.exit(main())"
    cli = [sys.executable, "-c", code, "predict", str(tmp_path / "heat"), "--points", str(tmp_path / "p.npy"),
           "--out", str(tmp_path / "u.npy")]
    done = subprocess.run(cli, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]
    np.testing.assert_allclose(np.load(tmp_path / "u.npy"), u, rtol=1e-6)


def test_inverse_run_reports_unknowns(tmp_path):
    cfg = _tiny("burgers_inverse", options={"n_observations": 100})
    run = pinngen.run(cfg, out=tmp_path / "inv", progress=False)
    unk = json.loads((tmp_path / "inv" / "metrics.json").read_text())["unknowns"]
    assert set(unk) == {"l1", "l2"} and unk["l1"]["true"] == 1.0 and "rel_error" in unk["l2"]
    assert "unknown/l1" in run.history.columns and (tmp_path / "inv" / "figures" / "unknowns.png").exists()


def test_config_errors_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="unknown problem"):
        load_config({"kind": "pinn", "problem": "navier"})
    with pytest.raises(ConfigError, match="unknown option"):
        pinngen.run(_tiny("heat", options={"kappa": 1.0}), out=tmp_path / "a", progress=False)
    with pytest.raises(ConfigError, match="unknown term"):
        pinngen.run(_tiny("heat", weighting={"weights": {"bcs": 1.0}}), out=tmp_path / "b", progress=False)


def test_time_to_accuracy_is_the_first_time_each_level_is_reached():
    from pinngen.core.history import History
    from pinngen.pinn.figures import time_to_accuracy

    h = History()
    h.extend(np.arange(6), "adam", {"loss": np.ones(6), "metric/rel_l2": np.array([0.5, np.nan, 0.05, 0.2, 2e-3, 5e-4]),
                                    "time": np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])})
    assert time_to_accuracy(h) == {"time_to_rel_l2_1e-1": 3.0, "time_to_rel_l2_1e-2": 5.0, "time_to_rel_l2_1e-3": 6.0}
