"""The multi-scale image flow (Glow, Kingma & Dhariwal 2018, on RealNVP's multi-scale design, Dinh et al. 2017).

``x`` ``(n, H, W, C)`` in [0, 1] (dequantised) -> :class:`~.image_layers.Logit` -> per level: squeeze 2x2, then
``steps_per_level`` steps of (actnorm, invertible 1x1 convolution, affine coupling); after every level but the
last, half of the channels leave for the base distribution (factor-out), optionally through a learned
conditional prior (a zero-initialised affine coupling of the leaving half on the staying half, Glow's
"split prior"). The leaving halves and the last level's output, flattened and concatenated, are the latent
``z`` ``(n, D)`` with a standard normal base. So ``log p(x) = log N(z; 0, I) + log|det dz/dx|``, exact, in nats
of the density over ``[0, 1]^D``.

Likelihood units. Images are ``L``-level integers ``k`` (``L = 256``); :func:`dequantize` maps them to
``y = (k + u) / L`` with ``u ~ U[0, 1)^D``, so each integer owns a cube of volume ``L^-D`` in ``[0, 1]^D`` and
``log P(k) >= E_u[log p(y)] - D log L`` (Theis, van den Oord & Bethge 2016). :func:`bits_per_dim` turns the
density's nats into that discrete bound in bits per dimension: ``(nll + D ln L) / (D ln 2)``; a uniform
density on ``[0, 1]^D`` scores exactly ``log2 L`` = 8 bits/dim.

Layers act on batches; ``transform`` is data -> latent (see :mod:`.image_layers`). The steps of a level are
stored stacked (leading axis ``steps_per_level``) and run by ``lax.scan``: one compiled step body per level,
not one per step. Public API: :func:`build_image_flow`, :class:`ImageFlow` (``log_prob``, ``sample``,
``transform_and_log_det``, ``inverse_and_log_det``, ``loss_terms``), :func:`dequantize`, :func:`bits_per_dim`,
:func:`initialize` (data-dependent actnorm initialisation), :func:`inversion_error`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .image_layers import ActNorm, AffineCoupling, InvConv1x1, Logit, squeeze, unsqueeze

__all__ = ["FLOW_DEFAULTS", "FlowStep", "ImageFlow", "bits_per_dim", "build_image_flow", "dequantize",
           "initialize", "inversion_error"]

LN2 = math.log(2.0)
LOG_2PI = math.log(2.0 * math.pi)
FLOW_DEFAULTS: dict = dict(levels=2, steps_per_level=8, hidden=64, logit_alpha=0.05, scale_bound=2.0,
                           split_prior=True, kernel=3)


class FlowStep(eqx.Module):
    """One Glow step: actnorm -> invertible 1x1 convolution -> affine coupling (Glow, Fig. 2a)."""

    actnorm: ActNorm
    conv: InvConv1x1
    coupling: AffineCoupling

    def transform_and_log_det(self, x, condition=None):
        x, a = self.actnorm.transform_and_log_det(x)
        x, b = self.conv.transform_and_log_det(x)
        x, c = self.coupling.transform_and_log_det(x)
        return x, a + b + c

    def inverse_and_log_det(self, y, condition=None):
        y, c = self.coupling.inverse_and_log_det(y)
        y, b = self.conv.inverse_and_log_det(y)
        y, a = self.actnorm.inverse_and_log_det(y)
        return y, a + b + c


def _run_steps(steps: FlowStep, h, inverse: bool):
    """Apply the stacked ``steps`` (leading axis K) in order (or undo them in reverse order) by ``lax.scan``."""
    params, static = eqx.partition(steps, eqx.is_array)

    def body(carry, p):
        step = eqx.combine(p, static)
        return step.inverse_and_log_det(carry) if inverse else step.transform_and_log_det(carry)

    h, lds = jax.lax.scan(body, h, params, reverse=inverse)
    return h, jnp.sum(lds, axis=0)


def _step(steps: FlowStep, k: int) -> FlowStep:
    params, static = eqx.partition(steps, eqx.is_array)
    return eqx.combine(jax.tree_util.tree_map(lambda a: a[k], params), static)


def _stack(steps: list[FlowStep]) -> FlowStep:
    params = [eqx.partition(s, eqx.is_array)[0] for s in steps]
    static = eqx.partition(steps[0], eqx.is_array)[1]
    return eqx.combine(jax.tree_util.tree_map(lambda *a: jnp.stack(a), *params), static)


def _latent_shapes(image_shape, levels: int) -> tuple[tuple[int, int, int], ...]:
    h, w, c = image_shape
    shapes = []
    for level in range(levels):
        h, w, c = h // 2, w // 2, 4 * c
        if level + 1 < levels:
            shapes.append((h, w, c - c // 2))
            c = c // 2
    shapes.append((h, w, c))
    return tuple(shapes)


class ImageFlow(eqx.Module):
    """Multi-scale flow over images ``(n, H, W, C)`` in [0, 1]; build it with :func:`build_image_flow`.

    ``steps[l]`` holds level ``l``'s steps stacked; ``priors[l]`` (empty tuple without split priors) is the
    learned conditional prior of the half factored out after level ``l``.
    """

    pre: Logit
    steps: tuple[FlowStep, ...]
    priors: tuple[AffineCoupling, ...]
    image_shape: tuple[int, int, int] = eqx.field(static=True)
    latent_shapes: tuple[tuple[int, int, int], ...] = eqx.field(static=True)

    @property
    def dims(self) -> int:
        return int(np.prod(self.image_shape))

    def _check(self, x, what: str):
        if x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            want = ", ".join(map(str, self.image_shape))
            raise ValueError(f"{what} of shape {tuple(x.shape)}; this flow takes (n, {want}) channels-last in [0, 1]")

    def transform_and_log_det(self, x, condition=None):
        """Images ``(n, H, W, C)`` in [0, 1] -> latent ``z`` ``(n, D)`` and ``log|det dz/dx|`` ``(n,)``."""
        x = jnp.asarray(x)
        self._check(x, "x")
        n = x.shape[0]
        h, ld = self.pre.transform_and_log_det(x)
        zs = []
        for level, steps in enumerate(self.steps):
            h, d = _run_steps(steps, squeeze(h), inverse=False)
            ld = ld + d
            if level + 1 < len(self.steps):
                if self.priors:
                    h, d = self.priors[level].transform_and_log_det(h)
                    ld = ld + d
                c = h.shape[-1] // 2
                zs.append(h[..., c:].reshape(n, -1))
                h = h[..., :c]
        zs.append(h.reshape(n, -1))
        return jnp.concatenate(zs, axis=1), ld

    def inverse_and_log_det(self, z, condition=None):
        """Latent ``z`` ``(n, D)`` -> images ``(n, H, W, C)`` (unclipped) and ``log|det dx/dz|`` ``(n,)``."""
        z = jnp.asarray(z)
        if z.ndim != 2 or z.shape[1] != self.dims:
            raise ValueError(f"z of shape {tuple(z.shape)}; this flow's latent is (n, {self.dims})")
        n = z.shape[0]
        cuts = np.cumsum([int(np.prod(s)) for s in self.latent_shapes])[:-1]
        parts = [p.reshape(n, *s) for p, s in zip(jnp.split(z, cuts, axis=1), self.latent_shapes, strict=True)]
        h, ld = parts[-1], jnp.zeros((n,), z.dtype)
        for level in reversed(range(len(self.steps))):
            if level + 1 < len(self.steps):
                h = jnp.concatenate([h, parts[level]], axis=-1)
                if self.priors:
                    h, d = self.priors[level].inverse_and_log_det(h)
                    ld = ld + d
            h, d = _run_steps(self.steps[level], h, inverse=True)
            h, ld = unsqueeze(h), ld + d
        x, d = self.pre.inverse_and_log_det(h)
        return x, ld + d

    def log_prob(self, x):
        """``log p(x)`` ``(n,)`` in nats of the density over ``[0, 1]^D`` (x already dequantised)."""
        z, ld = self.transform_and_log_det(x)
        return -0.5 * jnp.sum(z * z, axis=1) - 0.5 * self.dims * LOG_2PI + ld

    def sample(self, key, n: int, temperature: float = 1.0):
        """``n`` images ``(n, H, W, C)`` in [0, 1] (clipped): ``z ~ N(0, temperature^2 I)`` pushed through the
        inverse. ``temperature=0`` gives the image of the zero latent; below 1 trades diversity for
        smoother samples (Glow, Sec. 5)."""
        if isinstance(temperature, int | float) and temperature < 0:  # a traced temperature is the caller's
            raise ValueError(f"temperature={temperature}: must be >= 0 (1 samples the model itself)")
        z = temperature * jax.random.normal(key, (int(n), self.dims))
        return jnp.clip(self.inverse_and_log_det(z)[0], 0.0, 1.0)

    def loss_terms(self, batch, key) -> dict[str, jax.Array]:
        """``{"bpd": ...}``: the batch mean of the discrete 256-level bound in bits/dim of ``batch["x"]``
        (quantised intensities ``(n, H, W, C)`` in [0, 1]), dequantised with ``key`` (``None``: a fixed key,
        so validation is repeatable)."""
        key = jax.random.PRNGKey(0) if key is None else key
        nll = -self.log_prob(dequantize(key, batch["x"]))
        return {"bpd": jnp.mean(nll + self.dims * math.log(256.0)) / (self.dims * LN2)}


def build_image_flow(image_shape: tuple[int, int, int], cfg: Mapping | None, key) -> ImageFlow:
    """A fresh :class:`ImageFlow` for images ``image_shape = (H, W, C)``.

    ``cfg`` keys (defaults in :data:`FLOW_DEFAULTS`): ``levels`` (squeeze + steps; H and W must divide by
    ``2**levels``), ``steps_per_level``, ``hidden`` (width of each coupling's conditioner), ``logit_alpha``
    (the logit pre-transform's margin, or None for ``x - 1/2``), ``scale_bound`` (cap of the couplings'
    log-scale), ``split_prior`` (learned prior of the factored-out halves), ``kernel`` (conditioner's
    spatial kernel, odd). Call :func:`initialize` on a data batch before training.
    """
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(FLOW_DEFAULTS))
    if unknown:
        raise ValueError(f"image flow config keys {unknown} unknown; choose from {sorted(FLOW_DEFAULTS)}")
    cfg = {**FLOW_DEFAULTS, **cfg}
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape={image_shape}: give (H, W, C) with positive sizes")
    levels, k_steps, hidden = int(cfg["levels"]), int(cfg["steps_per_level"]), int(cfg["hidden"])
    if levels < 1 or k_steps < 1 or hidden < 1:
        raise ValueError(f"levels={levels}, steps_per_level={k_steps}, hidden={hidden}: each must be >= 1")
    if shape[0] % 2**levels or shape[1] % 2**levels:
        raise ValueError(f"image {shape[0]}x{shape[1]} with levels={levels}: height and width must divide by "
                         f"2**levels={2**levels}; use fewer levels (28x28 allows 2)")
    keys = iter(jax.random.split(key, levels * (2 * k_steps + 1)))
    c, steps, priors = shape[2], [], []
    for level in range(levels):
        c *= 4
        steps.append(_stack([FlowStep(ActNorm(c), InvConv1x1(c, key=next(keys)),
                                      AffineCoupling(c, hidden, key=next(keys), bound=cfg["scale_bound"],
                                                     kernel=cfg["kernel"]))
                             for _ in range(k_steps)]))
        prior_key = next(keys)
        if level + 1 < levels:
            if cfg["split_prior"]:
                priors.append(AffineCoupling(c, 0, key=prior_key, bound=cfg["scale_bound"], kernel=cfg["kernel"]))
            c //= 2
    return ImageFlow(pre=Logit(cfg["logit_alpha"]), steps=tuple(steps), priors=tuple(priors), image_shape=shape,
                     latent_shapes=_latent_shapes(shape, levels))


def initialize(model: ImageFlow, x_batch) -> ImageFlow:
    """Data-dependent initialisation (Glow, Sec. 3.1): every actnorm, in data order, set so that its output
    on ``x_batch`` (dequantised images ``(n, H, W, C)`` in [0, 1]) has zero mean and unit variance per
    channel. Returns the new model; ``model`` is unchanged."""
    x = jnp.asarray(x_batch)
    model._check(x, "x_batch")
    apply = eqx.filter_jit(lambda step, h: step.transform_and_log_det(h)[0])
    h, _ = model.pre.transform_and_log_det(x)
    new_steps = []
    for level, stacked in enumerate(model.steps):
        h = squeeze(h)
        done = []
        for k in range(stacked.actnorm.log_scale.shape[0]):
            step = _step(stacked, k)
            step = eqx.tree_at(lambda s: s.actnorm, step, step.actnorm.initialize(h))
            h = apply(step, h)
            done.append(step)
        new_steps.append(_stack(done))
        if level + 1 < len(model.steps):
            if model.priors:
                h = model.priors[level].transform_and_log_det(h)[0]
            h = h[..., :h.shape[-1] // 2]
    return eqx.tree_at(lambda m: m.steps, model, tuple(new_steps))


def dequantize(key, x, levels: int = 256):
    """Quantised intensities ``x = k / (levels - 1)`` in [0, 1] -> ``(k + u) / levels``, ``u ~ U[0, 1)``.

    Each of the ``levels`` values owns the cell ``[k / levels, (k + 1) / levels)`` of [0, 1] (the scaling that
    makes the change of variables in :func:`bits_per_dim` exact). Any shape."""
    x = jnp.asarray(x, jnp.float32)
    k = jnp.clip(jnp.round(x * (levels - 1)), 0, levels - 1)
    return (k + jax.random.uniform(key, x.shape, x.dtype)) / levels


def bits_per_dim(nll_nats, image_shape, levels: int = 256):
    """Nats per image of a density on ``[0, 1]^D`` -> bits/dim of the discrete ``levels``-level data:
    ``(nll + D ln levels) / (D ln 2)``. A float for a scalar, else an array of the same shape.

    (:func:`pinngen.generative.likelihood.bits_per_dim` is the plain ``nats / (D ln 2)``, for likelihoods
    that are already discrete.)"""
    dims = int(np.prod(image_shape))
    out = (np.asarray(nll_nats, np.float64) + dims * math.log(levels)) / (dims * LN2)
    return float(out) if out.ndim == 0 else out


def inversion_error(model: ImageFlow, x) -> float:
    """``max |inverse(transform(x)) - x|`` over a batch: how far the flow is from invertible in float32."""
    z, _ = model.transform_and_log_det(x)
    return float(jnp.max(jnp.abs(model.inverse_and_log_det(z)[0] - jnp.asarray(x))))
