"""A synthetic run folder: two optimizer phases, two loss terms, a validation curve, an inf, findings,
metrics with a table and unknowns, and one figure."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pinngen.core.findings import Finding
from pinngen.core.history import History
from pinngen.core.io import atomic_write_json, atomic_write_text

EXPERIMENT = "burgers_1d & <friends>"
TABLE_CELL = "adam+lbfgs"
CONFIG = "experiment: burgers_1d\nmodel:\n  width: 32\n  depth: 4\ntrain:\n  steps: 300\n"


def make_history() -> History:
    rng = np.random.default_rng(0)
    h = History()
    s1 = np.arange(0, 250)
    pde = 1.0 * np.exp(-s1 / 80) * (1 + 0.3 * rng.random(s1.size))
    bc = 0.3 * np.exp(-s1 / 60) * (1 + 0.3 * rng.random(s1.size))
    unk = 1.0 - 0.5 * np.exp(-s1 / 50)
    h.extend(s1, "adam", {"loss": pde + bc, "loss/pde": pde, "loss/bc": bc,
                          "lr": np.full(s1.size, 1e-3), "grad_norm": 10 * np.exp(-s1 / 100) + 0.1,
                          "unknown/nu": unk})
    s2 = np.arange(250, 300)
    pde2 = pde[-1] * np.exp(-(s2 - 250) / 10)
    bc2 = bc[-1] * np.exp(-(s2 - 250) / 10)
    loss2 = pde2 + bc2
    loss2[30] = np.inf  # a recorded non-finite step
    h.extend(s2, "lbfgs", {"loss": loss2, "loss/pde": pde2, "loss/bc": bc2,
                           "grad_norm": np.full(s2.size, 0.05), "unknown/nu": np.full(s2.size, 0.99)})
    for step in range(0, 300, 25):
        h.record(step, {"val/loss": 1.3 * np.exp(-step / 90), "val/loss/pde": np.exp(-step / 90)})
    return h


FINDINGS = [
    Finding("diverged", "error", "The loss became infinite at step 280.", "Lower the learning rate.", 280),
    Finding("still_learning", "warning", "The loss was still falling when training stopped.",
            "Train for longer.", None),
    Finding("terms_imbalanced", "info", "Term bc is 10x smaller than pde.", "", 120, "loss/bc"),
]

METRICS = {
    "experiment": EXPERIMENT,
    "kind": "pinn",
    "summary": {"final_loss": 1.234567e-5, "rel_l2_error": 0.0123456, "steps": 300},
    "timing": {"train_s": 12.3456, "per_step": {"mean_ms": 41.2, "p95_ms": 55.0}},
    "tables": [{"title": "Phase comparison", "columns": ["phase", "steps", "final loss"],
                "rows": [[TABLE_CELL, 300, 1.2e-5], ["adam only", 250, 0.00456]],
                "note": "lbfgs polishes the adam solution."}],
    "notes": ["Reference solution from a spectral solver.", "Viscosity nu = 0.01/pi."],
    "unknowns": {"nu": {"value": 0.99, "true": 1.0, "rel_error": 0.01}},
}


def build_run(root, metrics=METRICS, figure=True):
    from pinngen.report.plots import plot_unknowns

    run = root / "runs" / "demo"
    (run / "figures").mkdir(parents=True)
    history = make_history()
    history.to_csv(run / "history.csv")
    atomic_write_text(run / "config.yaml", CONFIG)
    atomic_write_json(run / "metrics.json", metrics)
    atomic_write_json(run / "findings.json", [f.to_dict() for f in FINDINGS])
    if figure:
        plot_unknowns(history, run / "figures" / "unknowns.png", truths={"nu": 1.0})
        atomic_write_json(run / "figures" / "captions.json", {"unknowns.png": "Identified viscosity nu."})
    return run


@pytest.fixture
def history():
    return make_history()


@pytest.fixture
def run_dir(tmp_path):
    return build_run(tmp_path)


@pytest.fixture
def make_run(tmp_path):
    """``make_run(metrics=..., figure=...)`` builds the run folder with other metrics or no figure."""
    return lambda metrics=METRICS, figure=True: build_run(tmp_path, metrics=metrics, figure=figure)


@pytest.fixture
def build():
    """``build(root, metrics=..., figure=...)``: the synthetic run folder under ``root/runs/demo``."""
    return build_run


@pytest.fixture
def sample():
    """The constants the synthetic run folder was built from."""
    return SimpleNamespace(experiment=EXPERIMENT, findings=FINDINGS, metrics=METRICS, table_cell=TABLE_CELL,
                           config=CONFIG)
