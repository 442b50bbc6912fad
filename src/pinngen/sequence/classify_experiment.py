"""The ``sequence-classify`` kind (built-in ``gunpoint-lstm``, ``gunpoint-transformer``, ``italypower-transformer``):
many-to-one classification of series of variable length.

Data: the vendored UCR sets with their official splits (``data.source: gunpoint | italypower``) or your
labelled series (``source: file``, ``path``: a CSV with the label first and the values after it, ragged rows
allowed, or an ``.npz`` with ``x``, ``y`` and optionally ``lengths``; :mod:`pinngen.sequence.labelled`), tested
on ``test_path`` or a seeded stratified ``test_fraction``. Each series is z-normalised on its own
(``normalize: series``), by the training set's mean and standard deviation (``global``) or left as is.

Model (:class:`~pinngen.sequence.classify_model.SequenceClassifier`): an LSTM, GRU or Elman RNN read at each
series' last valid step, or a Transformer encoder with a padding mask and mean or ``[CLS]`` pooling; ``patch``
steps per token. Trained on the cross-entropy (``xent``), with random shifts, scaling and jitter
(``augment``) inside the training loss only.

Evaluation (:mod:`pinngen.sequence.classify_report`): test ``accuracy`` beside 1-NN Euclidean and 1-NN DTW
computed in the same run, per-class accuracy, the confusion matrix, attention maps for Transformers.

``predict(x)``: series ``(n, time)`` or ``(n, time, features)`` in the data's own units (a NaN tail marks a
shorter series) -> class probabilities ``(n, classes)``, columns in the order of ``spec["classes"]``.
"""

from __future__ import annotations

import functools
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinngen.config import ConfigError, RunConfig
from pinngen.core import dtypes
from pinngen.core.batched import batched_apply
from pinngen.core.diagnose import DiagnoseContext
from pinngen.core.kind import Kind
from pinngen.core.setup import Setup
from pinngen.data import DataError
from pinngen.data.splits import split_indices

from . import data as D
from . import labelled as LB
from .classify_model import SequenceClassifier, augment, cross_entropy

MODEL_KEYS = ("arch", "hidden", "layers", "bidirectional", "dim", "heads", "ff", "positions", "pooling", "patch")


class DataCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Literal["gunpoint", "italypower", "file"] = Field(
        "gunpoint", description="a vendored UCR set (official split) or `file`: your labelled series at `path`")
    path: str | None = Field(None, description="file: labelled series, CSV (label, values...) or .npz "
                             "(x, y[, lengths])")
    test_path: str | None = Field(None, description="file: a separate test file in the same format")
    test_fraction: float = Field(0.3, gt=0.0, lt=1.0, description="file without test_path: stratified test share")
    val_fraction: float = Field(0.0, ge=0.0, lt=1.0, description="share of the training series held out for "
                                "validation curves (stratified; 0: none, all train)")
    normalize: Literal["series", "global", "none"] = Field(
        "series", description="series: z-normalise each series; global: the training set's mean/std per feature")


class ModelCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    arch: Literal["lstm", "gru", "rnn", "transformer"] = "lstm"
    hidden: int = Field(64, ge=1, description="recurrent: units per direction")
    layers: int = Field(1, ge=1, description="recurrent layers or Transformer blocks")
    bidirectional: bool = Field(False, description="recurrent: read each series forward and backward")
    dim: int = Field(64, ge=1, description="transformer: model width")
    heads: int = Field(4, ge=1, description="transformer: attention heads (dim must be a multiple)")
    ff: int | None = Field(None, ge=1, description="transformer: feed-forward width (default 4 * dim)")
    positions: Literal["sinusoidal", "learned", "rotary"] = "sinusoidal"
    pooling: Literal["mean", "cls"] = Field("mean", description="transformer: average the steps or a [CLS] token")
    patch: int = Field(1, ge=1, description="steps per token (patch embedding; downsamples a recurrent net's steps)")


class AugmentCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shift: int = Field(0, ge=0, description="random time shift of up to this many steps either way")
    scale: float = Field(0.0, ge=0.0, description="amplitudes times exp(N(0, scale^2))")
    jitter: float = Field(0.0, ge=0.0, description="Gaussian noise of this standard deviation on every step")
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)


class EvaluationCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    baselines: bool = Field(True, description="1-NN Euclidean and 1-NN DTW accuracy on the same split")
    dtw_window: int | None = Field(None, ge=0, description="DTW Sakoe-Chiba half-width in steps (None: full)")
    dtw_max_cells: float = Field(2e9, gt=0, description="skip DTW when test x train x length^2 exceeds this")
    attention_maps: bool = Field(True, description="transformer: plot attention per layer and head")
    batch_size: int = Field(512, ge=1, description="series scored at a time")


class Config(RunConfig):
    kind: Literal["sequence-classify"] = "sequence-classify"
    data: DataCfg = Field(default_factory=DataCfg)
    model: ModelCfg = Field(default_factory=ModelCfg)
    augment: AugmentCfg = Field(default_factory=AugmentCfg)
    evaluation: EvaluationCfg = Field(default_factory=EvaluationCfg)


# ------------------------------------------------------------------------------------------------- data


def load_sets(d: DataCfg, seed: int) -> tuple[LB.SeriesSet, LB.SeriesSet]:
    """The training and test series as :class:`~pinngen.sequence.labelled.SeriesSet`\\ s."""
    if d.source != "file":
        if d.path or d.test_path:
            raise ConfigError(f"config error: data.path is given but data.source is {d.source!r}; set "
                              "data.source: file to classify your own series")
        ucr = D.gunpoint() if d.source == "gunpoint" else D.italy_power_demand()
        name = f"vendored:{ucr.name}"
        train = LB.from_arrays(ucr.x_train, np.asarray(ucr.classes)[ucr.y_train], source=f"{name} (train)")
        return train, LB.from_arrays(ucr.x_test, np.asarray(ucr.classes)[ucr.y_test], source=f"{name} (test)")
    if d.path is None:
        raise ConfigError("config error: data.path: source: file needs your labelled series (CSV: label, values...; "
                          "or .npz with x, y)")
    full = LB.load_labelled_series(d.path)
    if d.test_path is not None:
        return full, LB.load_labelled_series(d.test_path)
    return LB.split_set(full, d.test_fraction, seed)


def _valid(lengths, time: int) -> np.ndarray:
    return (np.arange(time)[None, :] < np.asarray(lengths)[:, None])[..., None]  # (n, time, 1)


def fit_normalizer(kind: str, train: LB.SeriesSet) -> dict:
    """The normalisation's JSON spec: ``{"kind", "mean", "std"}`` (mean/std per feature for ``global``)."""
    if kind != "global":
        return {"kind": kind}
    v = _valid(train.lengths, train.x.shape[1])
    n = v.sum()
    mean = np.where(v, train.x, 0.0).sum((0, 1)) / n
    std = np.sqrt((np.where(v, train.x - mean, 0.0) ** 2).sum((0, 1)) / n)
    return {"kind": kind, "mean": mean.tolist(), "std": np.where(std > 1e-12, std, 1.0).tolist()}


def normalize(x: np.ndarray, lengths: np.ndarray, norm: dict) -> np.ndarray:
    """Series ``(n, time, features)`` in the data's units -> the model's input (padding stays 0)."""
    if norm["kind"] == "series":
        return LB.znormalize(x, lengths)
    if norm["kind"] == "global":
        x = (x - np.asarray(norm["mean"])) / np.asarray(norm["std"])
    return np.where(_valid(lengths, x.shape[1]), x, 0.0)


# ------------------------------------------------------------------------------------------ the kind


def loss_terms(model, batch, key, *, aug: dict | None = None):
    """``{"xent": mean cross-entropy (nats)}``; with a key (training) the batch is augmented first."""
    x, lengths = batch["x"], batch["length"]
    aug = aug or {}
    if key is not None and (aug.get("shift") or aug.get("scale") or aug.get("jitter")):
        x = augment(key, x, lengths, shift=aug.get("shift", 0), scale=aug.get("scale", 0.0),
                    jitter=aug.get("jitter", 0.0))
    return {"xent": cross_entropy(model(x, lengths), batch["y"], aug.get("label_smoothing", 0.0) if key is not None
                                  else 0.0)}


def template(spec: dict, key=None) -> SequenceClassifier:
    key = key if key is not None else jax.random.PRNGKey(0)
    m = spec["model"]
    return SequenceClassifier(**m, in_size=int(spec["in_size"]), classes=len(spec["classes"]),
                              max_len=int(spec["max_tokens"]), key=key, dtype=dtypes.jnp_dtype(spec.get("dtype")))


def _arrays(s: LB.SeriesSet, y: np.ndarray, norm: dict, dtype) -> dict:
    return {"x": jnp.asarray(normalize(s.x, s.lengths, norm), dtype), "length": jnp.asarray(s.lengths, jnp.int32),
            "y": jnp.asarray(y, jnp.int32)}


def setup(cfg: Config) -> Setup:
    try:
        train, test = load_sets(cfg.data, cfg.seed)
        y_train, y_test, classes = LB.encode(train, test)
    except DataError as err:
        raise DataError(f"data: {err}") from None
    if len(classes) < 2:
        raise DataError(f"data: the training series carry one class only ({classes[0]!r}); a classifier needs "
                        "at least two")
    m = cfg.model
    if m.arch == "transformer" and m.dim % m.heads:
        raise ConfigError(f"config error: model.dim={m.dim} must be a multiple of model.heads={m.heads}")
    norm = fit_normalizer(cfg.data.normalize, train)
    dtype = dtypes.jnp_dtype(cfg.dtype)
    fit_kwargs: dict = {}
    fit_set, fit_y = train, y_train
    if cfg.data.val_fraction > 0:
        split = split_indices(len(train), val=0.0, test=cfg.data.val_fraction, seed=[cfg.seed, 1], stratify=y_train)
        fit_set, fit_y = train.take(np.sort(split.train)), y_train[np.sort(split.train)]
        fit_kwargs["val_data"] = _arrays(train.take(np.sort(split.test)), y_train[np.sort(split.test)], norm, dtype)
    longest = max(train.x.shape[1], test.x.shape[1])
    spec = {"model": {k: getattr(m, k) for k in MODEL_KEYS}, "in_size": train.features, "classes": list(classes),
            "normalize": norm, "train_length": int(train.x.shape[1]), "dtype": cfg.dtype,
            "max_tokens": int(-(-longest // m.patch)), "source": train.source}
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    ph = cfg.train.phases[0]
    a = cfg.augment
    fit_kwargs["context"] = DiagnoseContext(
        optimizer=ph.optimizer, lr=ph.lr, activations=("tanh", "sigmoid") if m.arch != "transformer" else ("gelu",),
        regularised=bool(a.shift or a.scale or a.jitter or a.label_smoothing or ph.weight_decay)).to_dict()
    return Setup(model=model, data=_arrays(fit_set, fit_y, norm, dtype),
                 loss_terms=functools.partial(loss_terms, aug=a.model_dump()), spec=spec, fit_kwargs=fit_kwargs,
                 extras=dict(train=train, test=test, y_train=y_train, y_test=y_test))


# ------------------------------------------------------------------------------------------- inference


def _probs(model, packed):
    """``packed`` ``(b, T, d + 1)``: normalised series with their validity as the last channel -> ``(b, k)``."""
    x, valid = packed[..., :-1], packed[..., -1]
    return jax.nn.softmax(model(x, jnp.sum(valid > 0.5, axis=1).astype(jnp.int32)), axis=-1)


def _attention(model, packed):
    x, valid = packed[..., :-1], packed[..., -1]
    _, maps = model(x, jnp.sum(valid > 0.5, axis=1).astype(jnp.int32), return_attention=True)
    return jnp.stack(maps, axis=1)  # (b, layers, heads, L, L)


def model_probs(model, x: np.ndarray, lengths: np.ndarray, *, batch_size: int = 512, attention: bool = False):
    """Class probabilities ``(n, k)`` (or attention maps) of model-space series ``x`` ``(n, T, d)``."""
    packed = np.concatenate([x, _valid(lengths, x.shape[1]).astype(x.dtype)], axis=-1)
    dtype = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))[0].dtype
    fn = _attention if attention else _probs
    return np.asarray(batched_apply(fn, packed, args=(model,), batch_size=batch_size, dtype=dtype), np.float64)


def to_model_space(x, spec: dict) -> tuple[np.ndarray, np.ndarray]:
    """Series in the data's units -> normalised, zero-padded ``(n, T, d)`` and their lengths ``(n,)``."""
    x = np.array(x, dtype=np.float64)
    d = int(spec["in_size"])
    if x.ndim == 2 and d == 1:
        x = x[:, :, None]
    if x.ndim != 3 or x.shape[2] != d or len(x) == 0 or x.shape[1] == 0:
        want = "(n, time) or (n, time, 1)" if d == 1 else f"(n, time, {d})"
        raise ValueError(f"series of shape {x.shape}; this classifier takes {want}: one row per series, "
                         f"in the data's units")
    lengths = LB.from_arrays(x, np.zeros(len(x)), source="series").lengths
    tokens = -(-x.shape[1] // spec["model"]["patch"])
    if spec["model"]["positions"] == "learned" and tokens > spec["max_tokens"]:
        raise ValueError(f"series of {x.shape[1]} steps; this model's learned positions cover "
                         f"{spec['max_tokens'] * spec['model']['patch']} steps: cut the series")
    return normalize(np.where(np.isfinite(x), x, 0.0), lengths, spec["normalize"]), lengths


def predict(model, spec: dict, x) -> np.ndarray:
    """Class probabilities ``(n, classes)`` of series ``(n, time[, features])`` in the data's units (a NaN tail
    marks a shorter series); column ``j`` is the class ``spec["classes"][j]``."""
    xm, lengths = to_model_space(x, spec)
    return model_probs(model, xm, lengths)


def evaluate(cfg: Config, setup: Setup, model, history, run_dir) -> dict:
    from .classify_report import evaluate as ev

    return ev(cfg, setup, model, history, run_dir)


def headline(metrics: dict) -> str:
    from .classify_report import headline as h

    return h(metrics)


KIND = Kind(name="sequence-classify", Config=Config, setup=setup, evaluate=evaluate, template=template,
            predict=predict, headline=headline, lead_tables=("Test accuracy", "Per class accuracy"),
            predict_reads_nan=True,
            description="many-to-one sequence classification (LSTM/GRU/RNN/Transformer, variable lengths) "
                        "against 1-NN Euclidean and DTW",
            contract_config=dict(
                data=dict(source="italypower"), model=dict(arch="lstm", hidden=4, patch=4),
                evaluation=dict(baselines=False),
                train=dict(eval_every=5, phases=[dict(optimizer="adam", lr=0.01, steps=10, batch_size=16)])))
