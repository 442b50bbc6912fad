"""``pinngen.run`` and ``pinngen.load``: the run folder as the hand-off between training, CLI and report.

``runs/NAME/{config.yaml, history.csv, metrics.json, findings.json, model/, figures/*.png, report.html}``
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
import yaml

from pinngen.config import ConfigError, RunConfig, dump_config, load_config
from pinngen.core import checkpoint as ckpt
from pinngen.core import runlock
from pinngen.core.findings import Finding
from pinngen.core.history import History
from pinngen.core.io import atomic_write_json, atomic_write_text
from pinngen.core.train import check_fit, fit
from pinngen.registry import get_kind
from pinngen.report import rundir

log = logging.getLogger(__name__)


def set_precision(dtype: str) -> None:
    """Switch the whole process to ``dtype`` (float64 needs JAX's x64 mode, set before any array is made)
    and full-precision matrix products. For scripts; the library itself uses :func:`precision`, which
    restores the caller's settings afterwards."""
    jax.config.update("jax_enable_x64", dtype == "float64")
    jax.config.update("jax_default_matmul_precision", "highest")


@contextlib.contextmanager
def precision(dtype: str):
    """x64 mode for float64 runs, and full-precision matrix products, for the duration only.

    Matrix products run at full precision: on GPUs XLA's default for float32 is TF32 (about 3 decimal
    digits), which measurably corrupts PINN derivatives (forward vs reverse mode differ by 1e-2 relative
    on an H200); scientific runs want the digits more than the speed.
    """
    with jax.enable_x64(dtype == "float64"), jax.default_matmul_precision("highest"):
        yield


def run(experiment, *, out: str | os.PathLike | None = None, overrides=(), seed: int | None = None,
        progress: bool = True, resume: bool = False) -> Run | None:
    """Train an experiment (built-in name, YAML path, dict or RunConfig) and write its run folder.

    Multi-host (after ``jax.distributed.initialize``): every process trains and evaluates; process 0 writes the
    folder and returns its Run, the others work in a scratch folder they remove, and return None.

    ``resume=True`` continues from the folder's last checkpoint; a folder written by a different config is
    refused (one-line error) before anything in it is touched.
    """
    cfg = experiment if isinstance(experiment, RunConfig) else load_config(experiment, overrides, seed=seed)
    if progress is False:
        cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"progress": False})})
    kind = get_kind(cfg.kind)
    run_dir = Path(out) if out is not None else Path("runs") / cfg.name
    if jax.process_count() > 1:  # multi-host: every process trains and evaluates, process 0 alone writes
        if resume:
            raise ConfigError("--resume: a multi-process run cannot resume yet; resume it in one process (a "
                              "checkpoint loads on any device count)")
        if jax.process_index() != 0 and not str(run_dir.name).startswith(".pinngen-worker"):
            import tempfile

            with tempfile.TemporaryDirectory(prefix="pinngen-worker-") as scratch:
                run(cfg, out=Path(scratch) / ".pinngen-worker", progress=False)
            return None
    if resume:
        _check_same_config(run_dir, cfg)
    with precision(cfg.dtype):
        setup = kind.setup(cfg)
        if setup.train is None:  # a bad schedule, weight or group fails here, before the folder is touched
            check_fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=cfg.seed,
                      **setup.fit_kwargs)
        with runlock.hold(run_dir):  # one writer per folder; refused at once if another run holds it
            if not resume and (run_dir / "checkpoint").exists():  # a fresh run must not resume a stale one
                shutil.rmtree(run_dir / "checkpoint")
            (run_dir / "figures").mkdir(exist_ok=True)
            atomic_write_text(run_dir / "config.yaml", dump_config(cfg))
            return _train_and_evaluate(cfg, kind, setup, run_dir, resume)


def _check_same_config(run_dir: Path, cfg: RunConfig) -> None:
    from pinngen.core.resume import first_difference

    path = run_dir / "config.yaml"
    if not path.exists():
        return
    saved = yaml.safe_load(path.read_text())
    now = yaml.safe_load(dump_config(cfg))
    for k in ("progress",):
        for d in (saved, now):
            (d.get("train") or {}).pop(k, None)
    if saved != now:
        raise ConfigError(f"--resume: {run_dir} was written by a different config{first_difference(saved, now)}; "
                          "resume with the same config, or use a new --out")


def _train_and_evaluate(cfg: RunConfig, kind, setup, run_dir: Path, resume: bool) -> Run:
    t0 = time.perf_counter()
    for f in setup.findings:
        log.warning("%s", f)
    ema = None
    if setup.train is not None:
        model, history = setup.train(key=jax.random.PRNGKey(cfg.seed), checkpoint_dir=run_dir / "checkpoint",
                                     resume=resume)
    else:
        result = fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=cfg.seed,
                     key=jax.random.PRNGKey(cfg.seed), checkpoint_dir=run_dir / "checkpoint", resume=resume,
                     **setup.fit_kwargs)
        model, history, ema = result.model, result.history, result.ema_model
    train_s = time.perf_counter() - t0
    ckpt.save_model(run_dir / "model", model, setup.spec, ema=ema)
    history.to_csv(run_dir / "history.csv")
    atomic_write_json(run_dir / "history.meta.json", history.meta)

    metrics = {"experiment": cfg.name, "kind": cfg.kind, "summary": {}}
    # Families that train with an EMA (diffusion, GANs) are judged on the averaged weights.
    metrics.update(kind.evaluate(cfg, setup, ema if ema is not None else model, history, run_dir))
    metrics["summary"].update(steps=int(len(history)), train_seconds=round(train_s, 3),
                              final_loss=history.last("loss") if "loss" in history else None)
    if ema is not None:
        metrics["summary"]["evaluated_on"] = "ema"
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

    # The read-only views go through the report's reader, so the CLI, the report and the API read a run
    # folder the same way.
    @property
    def config(self) -> RunConfig:
        return rundir.read_config(self.path)

    @property
    def history(self) -> History:
        return rundir.read_history(self.path)

    @property
    def metrics(self) -> dict:
        return rundir.read_metrics(self.path)

    @property
    def findings(self) -> list[Finding]:
        return rundir.read_findings(self.path)

    @property
    def model(self):
        """The trained model: the moving average of its weights when the run kept one (what it was
        evaluated on), else the final weights. Loaded in the run's dtype without changing the process's
        precision settings (for float64 runs, compute under ``jax.enable_x64(True)``)."""
        return self._snapshot()[1]

    def _snapshot(self, which: str | None = None):
        """``(spec, model)`` read from one version of the model folder (consistent while a run rewrites it)."""
        cfg = self.config
        with precision(cfg.dtype):
            return ckpt.load_snapshot(self.path / "model", get_kind(cfg.kind).template, which=which)

    def load_model(self, which: str = "weights"):
        """``which="weights"``: the final trained weights; ``"ema"``: their moving average."""
        return self._snapshot(which)[1]

    def predict(self, x):
        """Model outputs at inputs ``x`` (n, d_in), in the original units of the training data."""
        cfg = self.config
        kind = get_kind(cfg.kind)
        with precision(cfg.dtype):
            spec, model = self._snapshot()
            return np.asarray(kind.predict(model, spec, np.asarray(x)))

    def sample(self, n: int, *, seed: int = 0, batch: int | None = None, **options) -> np.ndarray:
        """``n`` samples from a generative model, in the data's units; ``batch`` draws at a time.

        ``options`` go to the kind's sampler (diffusion: ``sampler``, ``steps``, ``eta``, ``guidance``,
        ``labels``); None values are left out, and an option the kind does not take is a one-line error."""
        from pinngen.core.kind import CannotSample
        from pinngen.registry import kinds_that

        cfg = self.config
        kind = get_kind(cfg.kind)
        if kind.sample is None:
            raise CannotSample(f"kind {cfg.kind!r} cannot sample; the kinds that can are: "
                               f"{', '.join(kinds_that('sample')) or 'none yet'}")
        if n < 1 or (batch is not None and batch < 1):
            raise ValueError(f"-n {n} / --batch {batch}: both must be positive")
        options = {k: v for k, v in options.items() if v is not None}
        if options:
            import inspect

            takes = inspect.signature(kind.sample).parameters
            bad = sorted(k for k in options if k not in takes)
            if bad:
                opts = sorted(k for k in takes if k not in ("model", "spec", "n", "key", "batch_size"))
                raise ValueError(f"{', '.join('--' + b for b in bad)}: kind {cfg.kind!r} has no such sampling "
                                 f"option; it takes: {', '.join(opts) or 'none'}")
        size = min(batch or n, n)
        key = jax.random.PRNGKey(seed)
        with precision(cfg.dtype):
            spec, model = self._snapshot()
            parts = [np.asarray(kind.sample(model, spec, min(size, n - i), jax.random.fold_in(key, i // size),
                                            **options))
                     for i in range(0, n, size)]
        return np.concatenate(parts)

    def generate(self, prompt: str, n_chars: int, *, temperature: float = 1.0, top_k: int | None = None,
                 seed: int = 0) -> str:
        """``prompt`` followed by ``n_chars`` characters drawn from a language model (``charlm``); the same
        seed gives the same text. A prompt character outside the vocabulary is a one-line ValueError."""
        from pinngen.core.kind import CannotSample
        from pinngen.registry import kinds_that

        cfg = self.config
        kind = get_kind(cfg.kind)
        if kind.generate is None:
            raise CannotSample(f"kind {cfg.kind!r} does not generate text; the kinds that do are: "
                               f"{', '.join(kinds_that('generate')) or 'none yet'}")
        with precision(cfg.dtype):
            spec, model = self._snapshot()
            return kind.generate(model, spec, prompt, n_chars, temperature=temperature, top_k=top_k,
                                 key=jax.random.PRNGKey(seed))

    def log_prob(self, x, *, batch: int | None = None) -> np.ndarray:
        """``log p(x)`` ``(n,)`` in nats per sample, for samples ``x`` in the data's units, from a model with a
        likelihood (``flow``: exact); a kind without one raises :class:`~pinngen.core.kind.CannotSample`."""
        from pinngen.core.kind import CannotSample
        from pinngen.registry import kinds_that

        cfg = self.config
        kind = get_kind(cfg.kind)
        if kind.log_prob is None:
            raise CannotSample(f"kind {cfg.kind!r} has no log_prob; the kinds with one are: "
                               f"{', '.join(kinds_that('log_prob')) or 'none yet'}")
        if batch is not None and batch < 1:
            raise ValueError(f"--batch {batch}: must be positive")
        with precision(cfg.dtype):
            spec, model = self._snapshot()
            extra = {} if batch is None else {"batch_size": batch}
            return np.asarray(kind.log_prob(model, spec, np.asarray(x), **extra))

    def diagnose(self, **thresholds) -> list[Finding]:
        h = self.history
        pre = self.path / "prechecks.json"
        prechecks = [Finding.from_dict(d) for d in json.loads(pre.read_text())] if pre.exists() else []
        if h.meta.get("orchestrates"):  # a run of runs (generative-compare): each family's run has its diagnosis
            return prechecks
        return prechecks + h.diagnose(context=h.meta.get("context"), **{**self.config.diagnose, **thresholds})

    def report(self) -> Path:
        findings = self.diagnose()
        atomic_write_json(self.path / "findings.json", [f.to_dict() for f in findings])
        return write_figures_and_report(self.path, self.history, findings)


def load(run_dir) -> Run:
    """Open a run folder written by :func:`run`."""
    return Run(Path(run_dir))
