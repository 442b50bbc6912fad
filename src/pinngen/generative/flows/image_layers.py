"""Invertible layers of the multi-scale image flow (Glow, Kingma & Dhariwal 2018; RealNVP, Dinh et al. 2017).

Every layer follows FlowJAX's bijection interface, ``transform_and_log_det(x, condition=None) -> (y, log_det)``
and ``inverse_and_log_det(y, condition=None) -> (x, log_det)``, with two differences stated here once:

* layers act on **batches**: ``x`` is channels-last ``(n, H, W, C)`` and ``log_det`` is ``(n,)`` (a convolution
  is one call over the batch; FlowJAX's bijections take single samples and need ``vmap``);
* ``transform`` is the *normalising* direction, data -> latent (what maximum likelihood evaluates; FlowJAX's
  flows get the same orientation by wrapping their bijection in ``Invert``); ``inverse`` is the sampling
  direction. ``inverse_and_log_det`` returns the log-determinant of the inverse map, i.e. minus the forward one.

``condition`` is accepted and ignored (no layer here is conditional).

Layers: :class:`Logit` (pre-transform of [0, 1] data), :func:`squeeze` / :func:`unsqueeze` (space-to-depth
2x2, volume preserving), :class:`ActNorm` (per-channel affine with data-dependent initialisation),
:class:`InvConv1x1` (LU-parametrised invertible 1x1 convolution), :class:`AffineCoupling` (convolutional
conditioner with a zero-initialised last layer and a tanh-bounded log-scale, so it starts as the identity).
Convolutions run channels-last through :func:`pinngen.core.nn.conv_lax.conv2d_nhwc` (the fast CPU path).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from pinngen.core.nn import Conv2d, Frozen
from pinngen.core.nn.conv_lax import conv2d_nhwc

__all__ = ["ActNorm", "AffineCoupling", "InvConv1x1", "Logit", "squeeze", "unsqueeze"]


def _seed(key) -> list[int]:
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.asarray(key).astype(np.uint32).ravel().tolist()


def _per_image(a):
    """Sum over every axis but the first: ``(n, ...) -> (n,)``."""
    return jnp.sum(a.reshape(a.shape[0], -1), axis=1)


# ----------------------------------------------------------------------------------------------- squeeze


def squeeze(x):
    """Space-to-depth 2x2: ``(n, H, W, C) -> (n, H/2, W/2, 4C)``; a permutation of the entries (log-det 0).

    Channel ``(2 a + b) C + c`` of output pixel ``(i, j)`` is input pixel ``(2i + a, 2j + b)``, channel ``c``.
    """
    n, h, w, c = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"squeeze of an image {h}x{w}: height and width must be even")
    x = x.reshape(n, h // 2, 2, w // 2, 2, c)
    return jnp.transpose(x, (0, 1, 3, 2, 4, 5)).reshape(n, h // 2, w // 2, 4 * c)


def unsqueeze(y):
    """Inverse of :func:`squeeze`: ``(n, H, W, 4C) -> (n, 2H, 2W, C)``."""
    n, h, w, c4 = y.shape
    c = c4 // 4
    y = y.reshape(n, h, w, 2, 2, c)
    return jnp.transpose(y, (0, 1, 3, 2, 4, 5)).reshape(n, 2 * h, 2 * w, c)


# ------------------------------------------------------------------------------------------------- logit


class Logit(eqx.Module):
    """``y = logit(alpha + (1 - 2 alpha) x)`` elementwise, for data in [0, 1] (RealNVP, Dinh et al. 2017, Sec. 4.1).

    ``alpha`` keeps the logit finite at 0 and 1. Log-det per entry: ``log(1 - 2 alpha) - log s - log(1 - s)``
    with ``s = alpha + (1 - 2 alpha) x``. With ``alpha=None`` the layer is the shift ``y = x - 1/2`` (Glow's
    preprocessing; log-det 0).
    """

    alpha: float | None = eqx.field(static=True)

    def __init__(self, alpha: float | None = 0.05):
        if alpha is not None and not 0.0 < float(alpha) < 0.5:
            raise ValueError(f"logit alpha={alpha}: choose a value in (0, 0.5), e.g. 0.05, or None for x - 1/2")
        self.alpha = None if alpha is None else float(alpha)

    def transform_and_log_det(self, x, condition=None):
        if self.alpha is None:
            return x - 0.5, jnp.zeros(x.shape[0], x.dtype)
        s = self.alpha + (1.0 - 2.0 * self.alpha) * x
        y = jnp.log(s) - jnp.log1p(-s)
        return y, _per_image(np.log(1.0 - 2.0 * self.alpha) - jnp.log(s) - jnp.log1p(-s))

    def inverse_and_log_det(self, y, condition=None):
        if self.alpha is None:
            return y + 0.5, jnp.zeros(y.shape[0], y.dtype)
        s = jax.nn.sigmoid(y)
        x = (s - self.alpha) / (1.0 - 2.0 * self.alpha)
        # log ds/dy = log s + log(1 - s) = -softplus(-y) - softplus(y)
        return x, _per_image(-jax.nn.softplus(-y) - jax.nn.softplus(y) - np.log(1.0 - 2.0 * self.alpha))


# ----------------------------------------------------------------------------------------------- actnorm


class ActNorm(eqx.Module):
    """Per-channel affine ``y = x exp(log_scale) + bias`` (Glow, Sec. 3.1); log-det ``H W sum(log_scale)``.

    Starts as the identity; :meth:`initialize` sets it from a batch so its output has zero mean and unit
    variance per channel (the data-dependent initialisation).
    """

    log_scale: jax.Array  # (C,)
    bias: jax.Array  # (C,)

    def __init__(self, channels: int, dtype=jnp.float32):
        self.log_scale = jnp.zeros((channels,), dtype)
        self.bias = jnp.zeros((channels,), dtype)

    def transform_and_log_det(self, x, condition=None):
        ld = x.shape[1] * x.shape[2] * jnp.sum(self.log_scale)
        return x * jnp.exp(self.log_scale) + self.bias, jnp.full((x.shape[0],), ld, x.dtype)

    def inverse_and_log_det(self, y, condition=None):
        ld = -y.shape[1] * y.shape[2] * jnp.sum(self.log_scale)
        return (y - self.bias) * jnp.exp(-self.log_scale), jnp.full((y.shape[0],), ld, y.dtype)

    def initialize(self, x, eps: float = 1e-6) -> ActNorm:
        """This layer with parameters that standardise ``x`` ``(n, H, W, C)`` per channel."""
        mean = jnp.mean(x, axis=(0, 1, 2))
        std = jnp.std(x, axis=(0, 1, 2))
        log_scale = -jnp.log(std + eps)
        new = eqx.tree_at(lambda a: a.log_scale, self, log_scale.astype(self.log_scale.dtype))
        return eqx.tree_at(lambda a: a.bias, new, (-mean * jnp.exp(log_scale)).astype(self.bias.dtype))


# ------------------------------------------------------------------------------------ invertible 1x1 conv


class InvConv1x1(eqx.Module):
    """Invertible 1x1 convolution ``y = W x`` per pixel with ``W = P L (U + diag(sign * exp(log_s)))``
    (Glow, Sec. 3.2, the LU form): ``P`` a fixed permutation, ``L`` unit lower triangular, ``U`` strictly upper
    triangular, ``sign`` fixed. Log-det ``H W sum(log_s)``: O(C) instead of O(C^3).

    Initialised from a random rotation (QR of a Gaussian matrix), as in Glow. ``P`` and ``sign`` are
    :class:`~pinngen.core.nn.Frozen` (never trained).
    """

    lower: jax.Array  # (C, C), strictly lower part used
    upper: jax.Array  # (C, C), strictly upper part used
    log_s: jax.Array  # (C,)
    perm: Frozen  # (C, C) permutation matrix
    sign: Frozen  # (C,) of +-1

    def __init__(self, channels: int, *, key, dtype=jnp.float32):
        rng = np.random.default_rng(_seed(key))  # NumPy draw seeded by the key: no eager jax.random compile
        q, _ = np.linalg.qr(rng.normal(size=(channels, channels)))
        p, low, up = scipy.linalg.lu(q)
        s = np.diag(up)
        self.lower = jnp.asarray(np.tril(low, -1), dtype)
        self.upper = jnp.asarray(np.triu(up, 1), dtype)
        self.log_s = jnp.asarray(np.log(np.abs(s)), dtype)
        self.perm = Frozen(jnp.asarray(p, dtype))
        self.sign = Frozen(jnp.asarray(np.sign(s), dtype))

    def _factors(self):
        c = self.log_s.shape[0]
        eye = jnp.eye(c, dtype=self.log_s.dtype)
        low = jnp.tril(self.lower, -1) + eye
        up = jnp.triu(self.upper, 1) + jnp.diag(jax.lax.stop_gradient(self.sign.value) * jnp.exp(self.log_s))
        return jax.lax.stop_gradient(self.perm.value), low, up

    def weight(self):
        """The ``(C_out, C_in)`` matrix ``W``."""
        p, low, up = self._factors()
        return p @ low @ up

    def transform_and_log_det(self, x, condition=None):
        ld = x.shape[1] * x.shape[2] * jnp.sum(self.log_s)
        return x @ self.weight().T, jnp.full((x.shape[0],), ld, x.dtype)

    def inverse_and_log_det(self, y, condition=None):
        p, low, up = self._factors()
        eye = jnp.eye(p.shape[0], dtype=p.dtype)
        # W^{-1} = U^{-1} L^{-1} P^T by two triangular solves (exact up to rounding; no general inverse)
        low_inv = jax.scipy.linalg.solve_triangular(low, eye, lower=True, unit_diagonal=True)
        w_inv = jax.scipy.linalg.solve_triangular(up, low_inv @ p.T, lower=False)
        ld = -y.shape[1] * y.shape[2] * jnp.sum(self.log_s)
        return y @ w_inv.T, jnp.full((y.shape[0],), ld, y.dtype)


# ------------------------------------------------------------------------------------------- coupling


def _zero(conv: Conv2d) -> Conv2d:
    return eqx.tree_at(lambda c: (c.weight, c.bias), conv, (jnp.zeros_like(conv.weight), jnp.zeros_like(conv.bias)))


class AffineCoupling(eqx.Module):
    """Affine coupling (RealNVP, Sec. 3.3; Glow, Sec. 3.3) over the channel axis.

    ``x = [x_a, x_b]`` with ``x_a`` the first ``C_a`` channels: ``y_a = x_a``,
    ``y_b = x_b exp(log_s) + t`` with ``(t, raw) = NN(x_a)`` and ``log_s = bound tanh(raw / bound)``; log-det
    ``sum(log_s)``. The conditioner ``NN``: 3x3 conv -> ReLU -> 1x1 conv -> ReLU -> 3x3 conv (``hidden``
    wide), or a single 3x3 conv when ``hidden=0`` (the learned prior of a factored-out half). Its last layer
    starts at zero, so the layer starts as the identity; ``bound`` caps the per-entry log-scale for stability.
    ``split`` is ``C_a`` (default ``C // 2``).
    """

    convs: tuple[Conv2d, ...]
    split: int = eqx.field(static=True)
    bound: float = eqx.field(static=True)

    def __init__(self, channels: int, hidden: int, *, key, split: int | None = None, bound: float = 2.0,
                 kernel: int = 3, dtype=jnp.float32):
        split = channels // 2 if split is None else int(split)
        if not 0 < split < channels:
            raise ValueError(f"coupling split={split} of {channels} channels: need 0 < split < channels")
        if hidden < 0 or bound <= 0:
            raise ValueError(f"coupling hidden={hidden}, bound={bound}: need hidden >= 0 and bound > 0")
        out = 2 * (channels - split)
        k1, k2, k3 = jax.random.split(key, 3)
        if hidden == 0:
            self.convs = (_zero(Conv2d(split, out, kernel, key=k3, dtype=dtype)),)
        else:
            self.convs = (Conv2d(split, hidden, kernel, key=k1, dtype=dtype),
                          Conv2d(hidden, hidden, 1, key=k2, dtype=dtype),
                          _zero(Conv2d(hidden, out, kernel, key=k3, dtype=dtype)))
        self.split, self.bound = split, float(bound)

    def _params(self, xa):
        h = xa
        for i, conv in enumerate(self.convs):
            if conv.weight.shape[0] == 1:
                h = h @ conv.weight[0, 0] + conv.bias
            else:
                h = conv2d_nhwc(h, conv.weight, conv.bias, 1)
            if i + 1 < len(self.convs):
                h = jax.nn.relu(h)
        shift, raw = h[..., 0::2], h[..., 1::2]
        return shift, self.bound * jnp.tanh(raw / self.bound)

    def transform_and_log_det(self, x, condition=None):
        xa, xb = x[..., :self.split], x[..., self.split:]
        shift, log_s = self._params(xa)
        return jnp.concatenate([xa, xb * jnp.exp(log_s) + shift], axis=-1), _per_image(log_s)

    def inverse_and_log_det(self, y, condition=None):
        ya, yb = y[..., :self.split], y[..., self.split:]
        shift, log_s = self._params(ya)
        return jnp.concatenate([ya, (yb - shift) * jnp.exp(-log_s)], axis=-1), -_per_image(log_s)
