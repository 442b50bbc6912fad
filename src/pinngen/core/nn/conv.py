"""Convolution for images, batch-first: the im2col layer and encoder/decoder stacks (autoencoder, VAE).

``ConvEncoder``: images ``(n, H, W)`` or ``(n, C, H, W)`` -> vectors ``(n, out_size)``.
``ConvDecoder``: vectors ``(n, in_size)`` -> images of ``out_shape`` (``(n, H, W)`` or ``(n, C, H, W)``).

The encoder is a stack of 3x3 convolutions with stride 2 (each halves the image, rounding up), then a
dense layer; the decoder mirrors it with a dense layer, then nearest-neighbour upsampling by 2 and a 3x3
convolution per stage (the Keras tutorial's ``UpSampling2D`` + ``Conv2D``; no checkerboard artefacts of
transposed convolutions, Odena et al. 2016), cropped to the image size, and a last 3x3 convolution to the
image's channels. Inside, activations are channels-last ``(n, H, W, C)`` and each convolution is one
im2col matrix product over the whole batch (see :class:`Conv2d` for why), so no ``vmap`` is needed.

Constructor arguments (keyword or positional): ``ConvEncoder(in_shape, out_size, channels=(32, 64), *,
key)`` and ``ConvDecoder(out_shape, in_size, channels=(64, 32), *, key)``; ``channels`` lists the width of
each stride-2 stage in the order the data flows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .mlp import ACTIVATIONS, Dense, get_activation

__all__ = ["Conv2d", "ConvDecoder", "ConvEncoder", "as_chw", "upsample2"]


class Conv2d(eqx.Module):
    """2-D convolution on channels-last ``(n, H, W, C_in) -> (n, H', W', C_out)``, zero padding ``kernel // 2``.

    With stride 2 the output is ``ceil(H / 2)``, exactly as PyTorch's ``Conv2d(k, stride=2, padding=k//2)``
    for odd ``k``. Weights use Glorot-uniform over fan-in ``C_in k^2`` and fan-out ``C_out k^2`` (Keras'
    default), biases start at zero.

    Computed as im2col + one matrix product: XLA on CPU runs ``lax.conv`` inside a loop body (our training
    step lives in a ``lax.scan``) 15-30x slower than outside one (jax-ml/jax#12868); patches and a ``dot``
    are fast in both places.
    """

    weight: jax.Array  # (k, k, C_in, C_out)
    bias: jax.Array  # (C_out,)
    stride: int = eqx.field(static=True)

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1, *, key,
                 dtype=jnp.float32):
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"in_channels={in_channels}, out_channels={out_channels}: both must be >= 1")
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"kernel={kernel}: must be an odd size >= 1 (so padding keeps the centre)")
        if stride not in (1, 2):
            raise ValueError(f"stride={stride}: choose 1 or 2")
        fan_in, fan_out = in_channels * kernel**2, out_channels * kernel**2
        lim = math.sqrt(6.0 / (fan_in + fan_out))
        # NumPy draws, seeded by the key: eager jax.random compiles once per weight shape (seconds each on a
        # loaded CPU), and the draw is still a pure function of the key.
        rng = np.random.default_rng(_seed(key))
        w = rng.uniform(-lim, lim, (kernel, kernel, in_channels, out_channels))
        self.weight = jnp.asarray(w, dtype)
        self.bias = jnp.zeros((out_channels,), dtype)
        self.stride = stride

    def __call__(self, x):
        k, _, c_in, c_out = self.weight.shape
        p, s = k // 2, self.stride
        n, h, w, _ = x.shape
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        xp = jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
        patches = jnp.concatenate([xp[:, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s, :]
                                   for i in range(k) for j in range(k)], axis=-1)  # (n, ho, wo, k*k*C_in)
        return patches @ self.weight.reshape(k * k * c_in, c_out) + self.bias


def _seed(key) -> list[int]:
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.asarray(key).astype(np.uint32).ravel().tolist()


def upsample2(x):
    """Nearest-neighbour upsampling by 2 of channels-last ``(n, H, W, C) -> (n, 2H, 2W, C)``."""
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def as_chw(shape: Sequence[int]) -> tuple[int, int, int]:
    """``(H, W)`` -> ``(1, H, W)``; ``(C, H, W)`` unchanged. Raises ValueError naming the shape otherwise."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        return (1, *shape)
    if len(shape) == 3:
        return shape  # type: ignore[return-value]
    raise ValueError(f"image shape {shape}: expected (H, W) or (C, H, W)")


def _stage_sizes(h: int, w: int, n: int) -> list[tuple[int, int]]:
    sizes = [(h, w)]
    for _ in range(n):
        h, w = -(-h // 2), -(-w // 2)
        sizes.append((h, w))
    return sizes


def _check(channels, activation):
    channels = tuple(int(c) for c in channels)
    if not channels or any(c < 1 for c in channels):
        raise ValueError(f"channels={list(channels)}: give at least one stage, each width >= 1")
    get_activation(activation)
    return channels


class ConvEncoder(eqx.Module):
    """Images ``(n, H, W)`` or ``(n, C, H, W)`` -> ``(n, out_size)`` (linear last layer).

    One stride-2 3x3 convolution per entry of ``channels`` (with ``activation``), flatten, one dense layer.
    ``in_shape`` is ``(H, W)`` (grayscale, no channel axis) or ``(C, H, W)``.
    """

    convs: tuple[Conv2d, ...]
    head: Dense
    in_shape: tuple[int, ...] = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    out_size: int = eqx.field(static=True)

    def __init__(self, in_shape: Sequence[int], out_size: int, channels: Sequence[int] = (32, 64), *,
                 kernel: int = 3, activation: str = "relu", key, dtype=jnp.float32):
        channels = _check(channels, activation)
        c, h, w = as_chw(in_shape)
        if out_size < 1:
            raise ValueError(f"out_size={out_size}: must be >= 1")
        keys = jax.random.split(key, len(channels) + 1)
        widths = (c, *channels)
        self.convs = tuple(Conv2d(a, b, kernel, 2, key=k, dtype=dtype)
                           for a, b, k in zip(widths[:-1], widths[1:], keys[:-1], strict=True))
        hh, ww = _stage_sizes(h, w, len(channels))[-1]
        self.head = Dense(channels[-1] * hh * ww, out_size, key=keys[-1], dtype=dtype)
        self.in_shape = tuple(int(s) for s in in_shape)
        self.activation = activation
        self.out_size = int(out_size)

    def __call__(self, x, *, key=None):
        x = jnp.asarray(x)
        if x.shape[1:] != self.in_shape:
            want = ", ".join(map(str, self.in_shape))
            raise ValueError(f"images of shape {x.shape[1:]}; this encoder takes (n, {want})")
        h = x[..., None] if len(self.in_shape) == 2 else jnp.moveaxis(x, 1, -1)  # (n, H, W, C)
        act = ACTIVATIONS[self.activation]
        for conv in self.convs:
            h = act(conv(h))
        return self.head(h.reshape(h.shape[0], -1))  # (n, out_size)


class ConvDecoder(eqx.Module):
    """``(n, in_size)`` -> images ``(n, *out_shape)``.

    Dense layer to ``h x w x channels[0]`` (the encoder's smallest grid), then per entry of ``channels``
    upsampling by 2 and a 3x3 convolution (with ``activation``), cropping to ``(H, W)``, and a last 3x3
    convolution to the image's channels followed by ``output_activation`` (``raw=True`` skips it, for
    losses fused with their activation).
    """

    head: Dense
    convs: tuple[Conv2d, ...]
    out_conv: Conv2d
    out_shape: tuple[int, ...] = eqx.field(static=True)
    grid: tuple[int, int, int] = eqx.field(static=True)  # (h, w, C0) of the smallest stage
    activation: str = eqx.field(static=True)
    output_activation: str = eqx.field(static=True)
    in_size: int = eqx.field(static=True)

    def __init__(self, out_shape: Sequence[int], in_size: int, channels: Sequence[int] = (64, 32), *,
                 kernel: int = 3, activation: str = "relu", output_activation: str = "linear", key,
                 dtype=jnp.float32):
        channels = _check(channels, activation)
        get_activation(output_activation)
        c, h, w = as_chw(out_shape)
        if in_size < 1:
            raise ValueError(f"in_size={in_size}: must be >= 1")
        hh, ww = _stage_sizes(h, w, len(channels))[-1]
        keys = jax.random.split(key, len(channels) + 2)
        self.head = Dense(in_size, channels[0] * hh * ww, key=keys[0], dtype=dtype)
        widths = (channels[0], *channels)
        self.convs = tuple(Conv2d(a, b, kernel, 1, key=k, dtype=dtype)
                           for a, b, k in zip(widths[:-1], widths[1:], keys[1:-1], strict=True))
        self.out_conv = Conv2d(channels[-1], c, kernel, 1, key=keys[-1], dtype=dtype)
        self.out_shape = tuple(int(s) for s in out_shape)
        self.grid = (hh, ww, channels[0])
        self.activation, self.output_activation = activation, output_activation
        self.in_size = int(in_size)

    def __call__(self, z, *, key=None, raw: bool = False):
        z = jnp.asarray(z)
        act = ACTIVATIONS[self.activation]
        h = act(self.head(z)).reshape(z.shape[0], *self.grid)  # (n, h, w, C0)
        for conv in self.convs:
            h = act(conv(upsample2(h)))
        c, hh, ww = as_chw(self.out_shape)
        h = self.out_conv(h[:, :hh, :ww])  # (n, H, W, C)
        h = h[..., 0] if len(self.out_shape) == 2 else jnp.moveaxis(h, -1, 1)
        return h if raw else ACTIVATIONS[self.output_activation](h)
