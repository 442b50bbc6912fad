"""GAN networks: a DCGAN-style generator and discriminator for images, MLPs for vectors, spectral normalisation.

Layout (channels-last, like every image network here): images are ``(n, H, W, C)`` in [-1, 1], vectors
``(n, d)`` standardised. The two players live side by side in one :class:`GAN` module, as its fields
``generator`` and ``discriminator``: the parameter paths start with those names, which is how the core's group
updater (:mod:`pinngen.core.updaters.groups`) gives each player its own optimizer and objective.

* :class:`ConvGenerator` (Radford et al. 2016, DCGAN): latent ``z`` (and a learned label embedding when
  conditional) -> dense -> reshape to ``(h0, w0, c0)`` -> per stage nearest-neighbour upsampling by 2 and a
  3x3 convolution (no transposed convolution, hence no checkerboard artefacts, Odena et al. 2016), GroupNorm
  (per sample, so sampling does not depend on the batch, unlike DCGAN's batch norm) and ReLU -> crop -> 3x3
  convolution -> tanh.
* :class:`ConvDiscriminator`: stride-2 3x3 convolutions with LeakyReLU(0.2), flatten, a dense logit; class
  conditioning by projection (Miyato & Koyama 2018): ``logit += <E[y], features>``.
* :class:`MLPGenerator`, :class:`MLPDiscriminator`: the same for vectors and 2-D toys.

Spectral normalisation (Miyato et al. 2018) divides each discriminator weight by its largest singular value,
estimated by power iteration. The paper keeps the iteration vector ``u`` between steps; pinngen's loss
contract ``loss_terms(model, batch, key) -> terms`` returns no state, so each forward pass runs
``power_iterations`` steps from a fixed vector stored (not trained) with the layer: the layer's leading left
singular vector at initialisation, which the slowly moving weights keep close to the current one.
``eqx.nn.SpectralNorm`` keeps ``u`` in an ``eqx.nn.State`` that would have to be threaded through the loss and
the updater, which the core does not do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.nn import Conv2d, Dense, Frozen, GroupNorm, upsample2
from pinngen.core.nn.conv_lax import conv2d_nhwc

__all__ = ["GAN", "ConvDiscriminator", "ConvGenerator", "MLPDiscriminator", "MLPGenerator", "SNConv", "SNDense",
           "spectral_normalise", "top_singular_vector"]


def _unit(v, eps: float = 1e-12):
    return v / (jnp.linalg.norm(v) + eps)


def spectral_normalise(w2d, u, iterations: int):
    """``(w2d / sigma, sigma)``: ``w2d`` ``(out, in)`` divided by its largest singular value, estimated by
    ``iterations`` power iterations from ``u`` ``(out,)`` (Miyato et al. 2018, Algorithm 1). The vectors are
    constants for the gradient; ``sigma = u^T W v`` carries the gradient through ``W`` as in the paper."""
    w_const = jax.lax.stop_gradient(w2d)
    u = _unit(jax.lax.stop_gradient(u))
    for _ in range(iterations):
        v = _unit(w_const.T @ u)
        u = _unit(w_const @ v)
    v = _unit(w_const.T @ u)
    sigma = u @ w2d @ v
    return w2d / sigma, sigma


def top_singular_vector(w2d) -> np.ndarray:
    """The leading left singular vector ``(out,)`` of a weight matrix (float32), by NumPy's SVD."""
    u, _, _ = np.linalg.svd(np.asarray(w2d, np.float64), full_matrices=False)
    return u[:, 0].astype(np.float32)


class SNDense(eqx.Module):
    """``y = x @ W.T + b`` with ``W`` optionally spectrally normalised (``u`` is None: a plain layer)."""

    weight: jax.Array  # (out, in)
    bias: jax.Array  # (out,)
    u: Frozen | None  # (out,) power-iteration start, not trained
    iterations: int = eqx.field(static=True)

    def __init__(self, in_size: int, out_size: int, *, spectral_norm: bool = False, iterations: int = 1, key,
                 dtype=jnp.float32):
        dense = Dense(in_size, out_size, key=key, dtype=dtype)
        self.weight, self.bias = dense.weight, dense.bias
        self.u = Frozen(jnp.asarray(top_singular_vector(self.weight), dtype)) if spectral_norm else None
        self.iterations = int(iterations)

    def matrix(self):
        return self.weight if self.u is None else spectral_normalise(self.weight, self.u.value, self.iterations)[0]

    def __call__(self, x):
        return x @ self.matrix().T + self.bias


class SNConv(eqx.Module):
    """A channels-last 3x3 (odd ``kernel``) convolution with optional spectral normalisation of its
    ``(C_out, k k C_in)`` matrix; runs on :func:`~pinngen.core.nn.conv_lax.conv2d_nhwc` (fast on CPU)."""

    weight: jax.Array  # (k, k, C_in, C_out)
    bias: jax.Array  # (C_out,)
    u: Frozen | None  # (C_out,)
    stride: int = eqx.field(static=True)
    iterations: int = eqx.field(static=True)

    def __init__(self, in_channels: int, out_channels: int, *, kernel: int = 3, stride: int = 1,
                 spectral_norm: bool = False, iterations: int = 1, key, dtype=jnp.float32):
        conv = Conv2d(in_channels, out_channels, kernel, stride, key=key, dtype=dtype)
        self.weight, self.bias, self.stride = conv.weight, conv.bias, stride
        self.u = Frozen(jnp.asarray(top_singular_vector(self._w2d(self.weight)), dtype)) if spectral_norm else None
        self.iterations = int(iterations)

    @staticmethod
    def _w2d(w):
        return jnp.reshape(w, (-1, w.shape[-1])).T  # (C_out, k k C_in)

    def kernel(self):
        if self.u is None:
            return self.weight
        w2d, _ = spectral_normalise(self._w2d(self.weight), self.u.value, self.iterations)
        return jnp.reshape(w2d.T, self.weight.shape)

    def __call__(self, x):
        return conv2d_nhwc(x, self.kernel(), self.bias, self.stride)


def _embedding(num_classes: int, dim: int, key, dtype):
    return None if not num_classes else jax.random.normal(key, (num_classes, dim), dtype)


def _with_labels(z, table, y):
    if table is None:
        if y is not None:
            raise ValueError("labels were given to an unconditional generator; build it with num_classes=K")
        return z
    if y is None:
        raise ValueError("this generator is class-conditional: give labels y (n,) in [0, num_classes)")
    return jnp.concatenate([z, table[jnp.asarray(y, jnp.int32)]], axis=-1)


def _leaky(x, slope):
    return jax.nn.leaky_relu(x, slope)


class ConvGenerator(eqx.Module):
    """``(n, latent_dim)`` (+ labels ``(n,)``) -> images ``(n, H, W, C)`` in (-1, 1); see the module docstring.

    ``channels``: width at the start resolution, then after each upsampling stage (``len - 1`` stages, so the
    start is ``ceil(H / 2^stages)``); ``norm``: ``"group"`` (GroupNorm, ``groups`` groups) or ``"none"``.
    """

    dense: Dense
    convs: tuple[Conv2d, ...]
    norms: tuple[GroupNorm | None, ...]
    out: Conv2d
    label_emb: jax.Array | None  # (num_classes, embed_dim)
    shape: tuple[int, int, int] = eqx.field(static=True)
    start: tuple[int, int, int] = eqx.field(static=True)

    def __init__(self, shape: Sequence[int], latent_dim: int, *, channels: Sequence[int] = (128, 64, 32),
                 norm: str = "group", groups: int = 8, num_classes: int = 0, embed_dim: int = 16, key,
                 dtype=jnp.float32):
        h, w, c = (int(s) for s in shape)
        channels = tuple(int(x) for x in channels)
        if len(channels) < 2 or min(channels) < 1:
            raise ValueError(f"generator channels={list(channels)}: give a start width and at least one stage")
        if norm not in ("group", "none"):
            raise ValueError(f"generator norm={norm!r}; choose group or none")
        stages = len(channels) - 1
        h0, w0 = math.ceil(h / 2**stages), math.ceil(w / 2**stages)
        keys = iter(jax.random.split(key, stages + 3))
        cond = embed_dim if num_classes else 0
        self.dense = Dense(latent_dim + cond, h0 * w0 * channels[0], key=next(keys), dtype=dtype)
        self.convs = tuple(Conv2d(a, b, 3, key=next(keys), dtype=dtype)
                           for a, b in zip(channels[:-1], channels[1:], strict=True))
        self.norms = tuple(GroupNorm(min(groups, ch), ch, dtype=dtype) if norm == "group" else None
                           for ch in channels)
        self.out = Conv2d(channels[-1], c, 3, key=next(keys), dtype=dtype)
        self.label_emb = _embedding(num_classes, embed_dim, next(keys), dtype)
        self.shape, self.start = (h, w, c), (h0, w0, channels[0])

    def _act(self, i, x):
        norm = self.norms[i]
        return jax.nn.relu(norm(x) if norm is not None else x)

    def __call__(self, z, y=None):
        n = z.shape[0]
        x = self.dense(_with_labels(z, self.label_emb, y)).reshape((n, *self.start))
        x = self._act(0, x)
        for i, conv in enumerate(self.convs):
            x = conv2d_nhwc(upsample2(x), conv.weight, conv.bias, 1)
            x = self._act(i + 1, x)
        h, w, _ = self.shape
        x = x[:, :h, :w]
        return jnp.tanh(conv2d_nhwc(x, self.out.weight, self.out.bias, 1))


class ConvDiscriminator(eqx.Module):
    """Images ``(n, H, W, C)`` (+ labels) -> logits ``(n,)``: stride-2 convolutions, LeakyReLU, dense logit,
    optional projection of a label embedding onto the flattened features."""

    convs: tuple[SNConv, ...]
    head: SNDense
    label_emb: jax.Array | None  # (num_classes, feature_dim)
    slope: float = eqx.field(static=True)

    def __init__(self, shape: Sequence[int], *, channels: Sequence[int] = (32, 64, 128), spectral_norm: bool = False,
                 iterations: int = 1, num_classes: int = 0, slope: float = 0.2, key, dtype=jnp.float32):
        h, w, c = (int(s) for s in shape)
        channels = tuple(int(x) for x in channels)
        if not channels or min(channels) < 1:
            raise ValueError(f"discriminator channels={list(channels)}: give at least one width >= 1")
        keys = iter(jax.random.split(key, len(channels) + 2))
        sn = dict(spectral_norm=spectral_norm, iterations=iterations, dtype=dtype)
        self.convs = tuple(SNConv(a, b, stride=2, key=next(keys), **sn)
                           for a, b in zip((c, *channels[:-1]), channels, strict=True))
        for _ in channels:
            h, w = (h + 1) // 2, (w + 1) // 2
        feat = h * w * channels[-1]
        self.head = SNDense(feat, 1, key=next(keys), **sn)
        self.label_emb = None if not num_classes else 0.1 * _embedding(num_classes, feat, next(keys), dtype)
        self.slope = float(slope)

    def features(self, x):
        for conv in self.convs:
            x = _leaky(conv(x), self.slope)
        return x.reshape((x.shape[0], -1))

    def __call__(self, x, y=None):
        return _project(self.features(x), self.head, self.label_emb, y)


def _project(f, head, table, y):
    logit = head(f)[:, 0]
    if table is None and y is not None:
        raise ValueError("labels were given to an unconditional discriminator; build it with num_classes=K")
    if table is not None and y is not None:  # y None on a conditional one: the label-free score
        logit = logit + jnp.sum(table[jnp.asarray(y, jnp.int32)] * f, axis=-1)
    return logit


class MLPGenerator(eqx.Module):
    """``(n, latent_dim)`` (+ labels) -> ``(n, dim)``: ReLU MLP, linear output (data are standardised)."""

    layers: tuple[Dense, ...]
    label_emb: jax.Array | None

    def __init__(self, dim: int, latent_dim: int, *, hidden: Sequence[int] = (128, 128, 128), num_classes: int = 0,
                 embed_dim: int = 16, key, dtype=jnp.float32):
        hidden = tuple(int(x) for x in hidden)
        if not hidden or min(hidden) < 1:
            raise ValueError(f"generator hidden={list(hidden)}: give at least one width >= 1")
        keys = iter(jax.random.split(key, len(hidden) + 2))
        sizes = (latent_dim + (embed_dim if num_classes else 0), *hidden, dim)
        self.layers = tuple(Dense(a, b, key=next(keys), dtype=dtype)
                            for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.label_emb = _embedding(num_classes, embed_dim, next(keys), dtype)

    def __call__(self, z, y=None):
        x = _with_labels(z, self.label_emb, y)
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)


class MLPDiscriminator(eqx.Module):
    """``(n, dim)`` (+ labels) -> logits ``(n,)``: LeakyReLU MLP with optional spectral normalisation and a
    projection label embedding."""

    layers: tuple[SNDense, ...]
    head: SNDense
    label_emb: jax.Array | None
    slope: float = eqx.field(static=True)

    def __init__(self, dim: int, *, hidden: Sequence[int] = (128, 128, 128), spectral_norm: bool = False,
                 iterations: int = 1, num_classes: int = 0, slope: float = 0.2, key, dtype=jnp.float32):
        hidden = tuple(int(x) for x in hidden)
        if not hidden or min(hidden) < 1:
            raise ValueError(f"discriminator hidden={list(hidden)}: give at least one width >= 1")
        keys = iter(jax.random.split(key, len(hidden) + 2))
        sn = dict(spectral_norm=spectral_norm, iterations=iterations, dtype=dtype)
        sizes = (dim, *hidden)
        self.layers = tuple(SNDense(a, b, key=next(keys), **sn) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.head = SNDense(hidden[-1], 1, key=next(keys), **sn)
        self.label_emb = None if not num_classes else 0.1 * _embedding(num_classes, hidden[-1], next(keys), dtype)
        self.slope = float(slope)

    def features(self, x):
        for layer in self.layers:
            x = _leaky(layer(x), self.slope)
        return x

    def __call__(self, x, y=None):
        return _project(self.features(x), self.head, self.label_emb, y)


class GAN(eqx.Module):
    """The two players. ``generate(z, y)`` maps latents to samples in model space; ``discriminate(x, y)``
    gives logits (> 0: judged real). ``num_classes`` > 0: both players take class labels."""

    generator: eqx.Module
    discriminator: eqx.Module
    latent_dim: int = eqx.field(static=True)
    num_classes: int = eqx.field(static=True)

    def generate(self, z, y=None):
        return self.generator(z, y)

    def discriminate(self, x, y=None):
        return self.discriminator(x, y)

    def latents(self, key, n: int):
        """``n`` standard normal latents ``(n, latent_dim)``."""
        return jax.random.normal(key, (n, self.latent_dim))
