"""``pinngen.run`` and ``pinngen.load``: the run folder as the hand-off between training, CLI and report.

``runs/NAME/{config.yaml, history.csv, metrics.json, findings.json, model/, figures/*.png, report.html}``
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
import yaml

from pinngen.config import RunConfig, dump_config, load_config, validate
from pinngen.core import checkpoint as ckpt
from pinngen.core.findings import Finding
from pinngen.core.history import History
from pinngen.core.io import atomic_write_json, atomic_write_text
from pinngen.core.train import fit
from pinngen.registry import get_kind

log = logging.getLogger(__name__)


def set_precision(dtype: str) -> None:
    """float64 needs JAX's x64 mode, switched on before any array is made.

    Matrix products run at full precision: on GPUs XLA's default for float32 is TF32 (about 3 decimal
    digits), which measurably corrupts PINN derivatives (forward vs reverse mode differ by 1e-2 relative
    on an H200); scientific runs want the digits more than the speed.
    """
    jax.config.update("jax_enable_x64", dtype == "float64")
    jax.config.update("jax_default_matmul_precision", "highest")


def run(experiment, *, out: str | os.PathLike | None = None, overrides=(), seed: int | None = None,
        progress: bool = True, resume: bool = False) -> Run:
    """Train an experiment (built-in name, YAML path, dict or RunConfig) and write its run folder."""
    cfg = experiment if isinstance(experiment, RunConfig) else load_config(experiment, overrides, seed=seed)
    if progress is False:
        cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"progress": False})})
    kind = get_kind(cfg.kind)
    run_dir = Path(out) if out is not None else Path("runs") / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "figures").mkdir(exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", dump_config(cfg))
    set_precision(cfg.dtype)

    t0 = time.perf_counter()
    setup = kind.setup(cfg)
    for f in setup.findings:
        log.warning("%s", f)
    if setup.train is not None:
        model, history = setup.train(key=jax.random.PRNGKey(cfg.seed), checkpoint_dir=run_dir / "checkpoint",
                                     resume=resume)
    else:
        model, history = fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=cfg.seed,
                             key=jax.random.PRNGKey(cfg.seed), checkpoint_dir=run_dir / "checkpoint",
                             resume=resume, **setup.fit_kwargs)
    train_s = time.perf_counter() - t0
    ckpt.save_model(run_dir / "model", model, setup.spec)
    history.to_csv(run_dir / "history.csv")
    atomic_write_json(run_dir / "history.meta.json", history.meta)

    metrics = {"experiment": cfg.name, "kind": cfg.kind, "summary": {}}
    metrics.update(kind.evaluate(cfg, setup, model, history, run_dir))
    metrics["summary"].update(steps=int(len(history)), train_seconds=round(train_s, 3),
                              final_loss=history.last("loss"))
    metrics["phases"] = history.meta.get("phases", [])
    atomic_write_json(run_dir / "metrics.json", _finite(metrics))
    atomic_write_json(run_dir / "prechecks.json", [f.to_dict() for f in setup.findings])
    findings = Run(run_dir).diagnose()
    atomic_write_json(run_dir / "findings.json", [f.to_dict() for f in findings])
    write_figures_and_report(run_dir, history, findings)
    return Run(run_dir)


def write_figures_and_report(run_dir: Path, history: History, findings: list[Finding]) -> Path:
    from pinngen.report.html import write_report
    from pinngen.report.plots import plot_loss_curves

    plot_loss_curves(history, findings, run_dir / "figures" / "loss_curves.png")
    if any(c.startswith("unknown/") for c in history.columns):
        from pinngen.report.plots import plot_unknowns

        plot_unknowns(history, run_dir / "figures" / "unknowns.png")
    return write_report(run_dir)


def _finite(obj):
    """JSON has no NaN/inf: write them as strings so the file stays valid JSON."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if np.isfinite(v) else str(v)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


@dataclass
class Run:
    """A finished run folder: config, history, metrics, findings, the trained model and ``predict``."""

    path: Path

    def __post_init__(self):
        self.path = Path(self.path)
        if not (self.path / "config.yaml").exists():
            raise FileNotFoundError(f"{self.path}: not a run folder (no config.yaml); "
                                    "pass the folder that `pinngen run` wrote")

    @property
    def config(self) -> RunConfig:
        raw = yaml.safe_load((self.path / "config.yaml").read_text())
        return validate(raw, get_kind(raw["kind"]).Config)

    @property
    def history(self) -> History:
        h = History.from_csv(self.path / "history.csv")
        meta = self.path / "history.meta.json"
        if meta.exists():
            h.meta = json.loads(meta.read_text())
        return h

    @property
    def metrics(self) -> dict:
        return json.loads((self.path / "metrics.json").read_text())

    @property
    def findings(self) -> list[Finding]:
        p = self.path / "findings.json"
        return [Finding.from_dict(d) for d in json.loads(p.read_text())] if p.exists() else []

    @property
    def model(self):
        cfg = self.config
        set_precision(cfg.dtype)
        spec = ckpt.load_spec(self.path / "model")
        return ckpt.load_model(self.path / "model", get_kind(cfg.kind).template(spec))

    def predict(self, x):
        """Model outputs at inputs ``x`` (n, d_in), in the original units of the training data."""
        kind = get_kind(self.config.kind)
        spec = ckpt.load_spec(self.path / "model")
        return np.asarray(kind.predict(self.model, spec, np.asarray(x)))

    def diagnose(self, **thresholds) -> list[Finding]:
        h = self.history
        pre = self.path / "prechecks.json"
        prechecks = [Finding.from_dict(d) for d in json.loads(pre.read_text())] if pre.exists() else []
        return prechecks + h.diagnose(context=h.meta.get("context"), **{**self.config.diagnose, **thresholds})

    def report(self) -> Path:
        findings = self.diagnose()
        atomic_write_json(self.path / "findings.json", [f.to_dict() for f in findings])
        return write_figures_and_report(self.path, self.history, findings)


def load(run_dir) -> Run:
    """Open a run folder written by :func:`run`."""
    return Run(Path(run_dir))
