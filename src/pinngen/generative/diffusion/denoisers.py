"""Denoiser networks for diffusion: a time-conditioned MLP for vectors and a time-conditioned U-Net for images.

Contract (every denoiser): ``denoiser(x_t, t, y=None, *, key=None) -> out`` with ``out.shape == x_t.shape``;
``x_t`` is ``(n, d)`` (vectors, 2-D toys) or ``(n, H, W, C)`` channels-last (images); ``t`` int32 ``(n,)``
timesteps in ``[0, T)``; ``y`` None or int32 labels ``(n,)`` where the value ``num_classes`` is the null
label (classifier-free guidance, Ho & Salimans 2022: the model is trained with labels dropped to the null
class, and sampling mixes the conditional and null predictions). ``y=None`` on a conditional model means
"all null". ``key`` drives dropout during training only. What ``out`` means (noise, x0 or v) is the
objective's business, not the network's.

* :class:`TimeMLP`: sinusoidal time embedding (Vaswani et al. 2017, Sec. 3.5; Ho et al. 2020, App. B) -> a
  two-layer MLP; each hidden layer adds its own projection of that embedding before the activation, and
  layers of equal width are residual.
* :class:`UNet`: the DDPM U-Net (Ho et al. 2020, App. B; its PixelCNN++ backbone) in the layout of HF
  diffusers' ``UNet2DModel``: ``conv_in``; per level ``blocks_per_level`` residual blocks (GroupNorm, SiLU,
  3x3 conv, time embedding added per channel, GroupNorm, SiLU, dropout, 3x3 conv, 1x1 skip when widths
  differ), self-attention after them at ``attention_levels``, a stride-2 conv between levels; a middle
  block (res, attention, res); the mirrored up path with ``blocks_per_level + 1`` residual blocks per level,
  each taking one skip activation, and nearest upsampling + 3x3 conv between levels, cropped to the skip's
  size (odd sizes round up going down, 28 -> 14 -> 7 or 13x11 -> 7x6 -> 4x3, and the crops realign them);
  GroupNorm, SiLU, and a zero-initialised 3x3 ``conv_out`` so training starts from a zero prediction. With
  the defaults on 28x28x1 it has 1,112,801 parameters, as many as the diffusers ``UNet2DModel`` of issue 10.

Convolutions run channels-last. ``conv="im2col"`` uses :class:`pinngen.core.nn.Conv2d` (patches + one matrix
product); ``conv="lax"`` applies the same weights with ``lax.conv_general_dilated`` (NHWC/HWIO) and a
hand-written backward pass (:func:`pinngen.core.nn.conv_lax.conv2d_nhwc`). Both give the same numbers; the
default, ``"lax"``, trained the 28x28 U-Net 3x faster and ran its forward pass 2x faster than ``"im2col"``
inside a scanned loop on this CPU (``bench/conv_paths.py``; channel-first ``lax.conv`` is never used there:
jax-ml/jax#12868).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.nn import ACTIVATIONS, Conv2d, Dense, get_activation, upsample2
from pinngen.core.nn.attention import SelfAttention
from pinngen.core.nn.conv_lax import conv2d_nhwc
from pinngen.core.nn.norm import GroupNorm

__all__ = ["CONV_PATHS", "TimeMLP", "UNet", "conv2d", "timestep_embedding"]

CONV_PATHS = ("im2col", "lax")


def timestep_embedding(t, dim: int, max_period: float = 10_000.0):
    """Sinusoidal embedding ``(n,) -> (n, dim)``: ``[cos(t w_k), sin(t w_k)]``, ``w_k = max_period^(-k/half)``.

    The Transformer's position encoding (Vaswani et al. 2017, Sec. 3.5) applied to the timestep, as in DDPM
    (Ho et al. 2020, App. B). Frequencies run from 1 to ``1/max_period``, so neighbouring timesteps differ in
    the fast components and distant ones in the slow components. An odd ``dim`` gets a trailing zero column.
    """
    half = dim // 2
    freqs = jnp.exp(-math.log(max_period) * jnp.arange(half, dtype=jnp.float32) / max(half, 1))
    args = jnp.asarray(t, jnp.float32)[:, None] * freqs  # (n, half)
    emb = jnp.concatenate([jnp.cos(args), jnp.sin(args)], axis=-1)
    return jnp.pad(emb, ((0, 0), (0, dim % 2))) if dim % 2 else emb


def conv2d(conv: Conv2d, x, path: str = "lax"):
    """Apply ``conv``'s weights to channels-last ``x`` by ``path`` (``"im2col"`` or ``"lax"``); same result.

    A 1x1 convolution is a plain matrix product on either path.
    """
    k = conv.weight.shape[0]
    if k == 1:
        return x @ conv.weight[0, 0] + conv.bias
    if path == "im2col":
        return conv(x)
    return conv2d_nhwc(x, conv.weight, conv.bias, conv.stride)


def _zero(module):
    """The module with every array set to zero (the zero-initialised output layer)."""
    return jax.tree_util.tree_map(lambda a: jnp.zeros_like(a) if eqx.is_array(a) else a, module)


def _class_table(num_classes, dim, key, dtype):
    """Learned class embedding ``(num_classes + 1, dim)`` ~ N(0, 1) (the last row is the null label), or None."""
    return None if num_classes is None else jax.random.normal(key, (num_classes + 1, dim), dtype)


def _labels(y, num_classes, n):
    """Labels as int32 ``(n,)``; ``None`` -> all null (``num_classes``). Raises on labels for a plain model."""
    if num_classes is None:
        if y is not None:
            raise ValueError("labels y were given to an unconditional denoiser; build it with num_classes=K "
                             "or pass y=None")
        return None
    return jnp.full((n,), num_classes, jnp.int32) if y is None else jnp.asarray(y, jnp.int32)


class TimeMLP(eqx.Module):
    """Time-conditioned MLP denoiser ``(n, dim) -> (n, dim)`` for vectors and 2-D toy data.

    Args (keyword-only after ``dim``): ``hidden`` widths of the hidden layers; ``time_dim`` width of the
    sinusoidal embedding and of the embedding MLP; ``activation`` (any of ``ACTIVATIONS``);
    ``num_classes`` for class conditioning (a learned table of ``num_classes + 1`` rows added to the time
    embedding; the last row is the null label); ``zero_init_output`` starts the output layer at zero (the
    first prediction is 0); ``dtype`` of every parameter (float32 by default).
    """

    time_mlp: tuple[Dense, Dense]
    class_emb: jax.Array | None  # (num_classes + 1, time_dim)
    layers: tuple[Dense, ...]
    time_proj: tuple[Dense, ...]
    out: Dense
    dim: int = eqx.field(static=True)
    time_dim: int = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    num_classes: int | None = eqx.field(static=True)

    def __init__(self, dim: int, *, hidden: Sequence[int] = (256, 256, 256), time_dim: int = 64,
                 activation: str = "silu", num_classes: int | None = None, zero_init_output: bool = True, key,
                 dtype=jnp.float32):
        hidden = tuple(int(h) for h in hidden)
        if dim < 1 or time_dim < 2:
            raise ValueError(f"dim={dim}, time_dim={time_dim}: need dim >= 1 and time_dim >= 2")
        if not hidden or any(h < 1 for h in hidden):
            raise ValueError(f"hidden={list(hidden)}: give at least one layer, each width >= 1")
        get_activation(activation)
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"num_classes={num_classes}: must be >= 1, or None for an unconditional model")
        keys = iter(jax.random.split(key, 2 * len(hidden) + 4))

        def dense(a, b):
            return Dense(a, b, key=next(keys), dtype=dtype)

        self.time_mlp = (dense(time_dim, time_dim), dense(time_dim, time_dim))
        self.class_emb = _class_table(num_classes, time_dim, next(keys), dtype)
        sizes = (dim, *hidden)
        self.layers = tuple(dense(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.time_proj = tuple(dense(time_dim, h) for h in hidden)
        out = dense(hidden[-1], dim)
        self.out = _zero(out) if zero_init_output else out
        self.dim, self.time_dim, self.activation = int(dim), int(time_dim), activation
        self.num_classes = None if num_classes is None else int(num_classes)

    def __call__(self, x_t, t, y=None, *, key=None):
        x_t = jnp.asarray(x_t)
        shape = x_t.shape
        if x_t.ndim > 2 and int(np.prod(shape[1:])) == self.dim:  # small images: the MLP reads them flattened
            x_t = x_t.reshape((shape[0], self.dim))
        if x_t.ndim != 2 or x_t.shape[1] != self.dim:
            raise ValueError(f"x_t of shape {shape}; this denoiser takes (n, {self.dim}) or (n, ...) with "
                             f"{self.dim} values per sample")
        act = ACTIVATIONS[self.activation]
        sin = timestep_embedding(t, self.time_dim).astype(self.out.weight.dtype)
        emb = self.time_mlp[1](act(self.time_mlp[0](sin)))  # (n, time_dim)
        labels = _labels(y, self.num_classes, x_t.shape[0])
        if labels is not None:
            emb = emb + self.class_emb[labels]
        emb = act(emb)
        h = x_t
        for layer, proj in zip(self.layers, self.time_proj, strict=True):
            z = act(layer(h) + proj(emb))
            h = h + z if z.shape == h.shape else z
        return self.out(h).reshape(shape)


class ResBlock(eqx.Module):
    """Residual block with time conditioning, channels-last ``(n, H, W, C_in) -> (n, H, W, C_out)``."""

    norm1: GroupNorm
    conv1: Conv2d
    temb: Dense
    norm2: GroupNorm
    conv2: Conv2d
    skip: Conv2d | None
    dropout: float = eqx.field(static=True)

    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int, dropout: float, *, key, dtype):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.norm1, self.norm2 = GroupNorm(groups, c_in, dtype=dtype), GroupNorm(groups, c_out, dtype=dtype)
        self.conv1 = Conv2d(c_in, c_out, 3, key=k1, dtype=dtype)
        self.conv2 = Conv2d(c_out, c_out, 3, key=k2, dtype=dtype)
        self.temb = Dense(time_dim, c_out, key=k3, dtype=dtype)
        self.skip = None if c_in == c_out else Conv2d(c_in, c_out, 1, key=k4, dtype=dtype)
        self.dropout = float(dropout)

    def __call__(self, x, emb, path, key=None):
        h = conv2d(self.conv1, jax.nn.silu(self.norm1(x)), path)
        h = jax.nn.silu(self.norm2(h + self.temb(emb)[:, None, None, :]))
        if key is not None and self.dropout:
            h = jnp.where(jax.random.bernoulli(key, 1.0 - self.dropout, h.shape), h / (1.0 - self.dropout), 0.0)
        h = conv2d(self.conv2, h, path)
        return (x if self.skip is None else conv2d(self.skip, x, path)) + h


class AttnBlock(eqx.Module):
    """``x + attention(GroupNorm(x))`` over the ``H W`` positions of channels-last ``(n, H, W, C)``."""

    norm: GroupNorm
    attn: SelfAttention

    def __init__(self, channels: int, groups: int, heads: int, *, key, dtype):
        self.norm = GroupNorm(groups, channels, dtype=dtype)
        self.attn = SelfAttention(channels, heads, key=key, dtype=dtype)

    def __call__(self, x):
        n, h, w, c = x.shape
        return x + self.attn(self.norm(x).reshape(n, h * w, c)).reshape(x.shape)


class UNet(eqx.Module):
    """Time-conditioned U-Net denoiser on channels-last images ``(n, H, W, C) -> (n, H, W, C)``.

    Args (keyword-only after ``image_shape``): ``image_shape`` ``(H, W, C)``; ``channels`` width per level
    (each level after the first halves the resolution, rounding up); ``blocks_per_level`` residual blocks
    per level on the way down (one more on the way up); ``attention_levels`` indices of the levels with
    self-attention (the middle block always has it); ``attention_heads``; ``groups`` for every GroupNorm
    (must divide every width); ``time_dim`` width of the time embedding; ``num_classes`` for class
    conditioning (a learned table of ``num_classes + 1`` rows added to the time embedding, last row null);
    ``dropout`` inside the residual blocks (only when a ``key`` is passed); ``conv`` path (see the module
    docstring; ``"lax"``, the default, is the faster one here); ``zero_init_output`` starts ``conv_out`` at zero;
    ``split`` runs the batch as that many independent pieces (the largest divisor of the batch size not
    above it; the outputs are the same): on a 2-core CPU, 4 pieces trained 1.3x faster than 1 (2 threads,
    28x28, batch 64; neutral on one core); ``dtype`` of every parameter (float32 by default).
    """

    conv_in: Conv2d
    time_mlp: tuple[Dense, Dense]
    class_emb: jax.Array | None  # (num_classes + 1, time_dim)
    down: tuple[tuple[ResBlock | AttnBlock, ...], ...]  # per level: res (+ attn) per block
    downsample: tuple[Conv2d, ...]
    mid: tuple[ResBlock, AttnBlock, ResBlock]
    up: tuple[tuple[ResBlock | AttnBlock, ...], ...]  # per level, deepest first
    upsample: tuple[Conv2d, ...]  # deepest first
    norm_out: GroupNorm
    conv_out: Conv2d
    image_shape: tuple[int, int, int] = eqx.field(static=True)
    channels: tuple[int, ...] = eqx.field(static=True)
    blocks_per_level: int = eqx.field(static=True)
    num_classes: int | None = eqx.field(static=True)
    conv: str = eqx.field(static=True)
    split: int = eqx.field(static=True)

    def __init__(self, image_shape: Sequence[int], *, channels: Sequence[int] = (32, 64, 64),
                 blocks_per_level: int = 1, attention_levels: Sequence[int] = (2,), attention_heads: int = 1,
                 groups: int = 8, time_dim: int = 128, num_classes: int | None = None, dropout: float = 0.0,
                 conv: str = "lax", split: int = 4, zero_init_output: bool = True, key, dtype=jnp.float32):
        image_shape = tuple(int(s) for s in image_shape)
        channels = tuple(int(c) for c in channels)
        if len(image_shape) != 3 or min(image_shape) < 1:
            raise ValueError(f"image_shape={image_shape}: give (H, W, C) with positive sizes (channels last)")
        if groups < 1 or not channels or any(c < 1 or c % groups for c in channels):
            raise ValueError(f"channels={list(channels)}, groups={groups}: every width must be a positive "
                             "multiple of groups")
        if blocks_per_level < 1 or time_dim < 2:
            raise ValueError(f"blocks_per_level={blocks_per_level}, time_dim={time_dim}: need >= 1 and >= 2")
        attention_levels = tuple(int(i) for i in attention_levels)
        if any(not 0 <= i < len(channels) for i in attention_levels):
            raise ValueError(f"attention_levels={list(attention_levels)}: each must be a level index in "
                             f"[0, {len(channels)})")
        if conv not in CONV_PATHS:
            raise ValueError(f"conv={conv!r}; choose one of {CONV_PATHS}")
        if split < 1:
            raise ValueError(f"split={split}: must be >= 1 (1 runs the batch as one piece)")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout}: must be in [0, 1)")
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"num_classes={num_classes}: must be >= 1, or None for an unconditional model")
        n_levels, c_img = len(channels), image_shape[2]
        keys = iter(jax.random.split(key, 8 + 6 * n_levels * (blocks_per_level + 2)))

        def res(a, b):
            return ResBlock(a, b, time_dim, groups, dropout, key=next(keys), dtype=dtype)

        def attn(c):
            return AttnBlock(c, groups, attention_heads, key=next(keys), dtype=dtype)

        def conv3(a, b, stride=1):
            return Conv2d(a, b, 3, stride, key=next(keys), dtype=dtype)

        self.conv_in = conv3(c_img, channels[0])
        self.time_mlp = (Dense(channels[0], time_dim, key=next(keys), dtype=dtype),
                         Dense(time_dim, time_dim, key=next(keys), dtype=dtype))
        self.class_emb = _class_table(num_classes, time_dim, next(keys), dtype)
        skips, down, downsample, c = [channels[0]], [], [], channels[0]
        for i, ch in enumerate(channels):
            level = []
            for _ in range(blocks_per_level):
                level += [res(c, ch)] + ([attn(ch)] if i in attention_levels else [])
                c = ch
                skips.append(c)
            down.append(tuple(level))
            if i < n_levels - 1:
                downsample.append(conv3(c, c, 2))
                skips.append(c)
        self.down, self.downsample = tuple(down), tuple(downsample)
        self.mid = (res(c, c), attn(c), res(c, c))
        up, upsample = [], []
        for i in reversed(range(n_levels)):
            level = []
            for _ in range(blocks_per_level + 1):
                level += [res(c + skips.pop(), channels[i])] + ([attn(channels[i])] if i in attention_levels
                                                                else [])
                c = channels[i]
            up.append(tuple(level))
            if i > 0:
                upsample.append(conv3(c, c))
        self.up, self.upsample = tuple(up), tuple(upsample)
        self.norm_out = GroupNorm(groups, c, dtype=dtype)
        out = conv3(c, c_img)
        self.conv_out = _zero(out) if zero_init_output else out
        self.image_shape, self.channels = image_shape, channels
        self.blocks_per_level, self.conv, self.split = int(blocks_per_level), conv, int(split)
        self.num_classes = None if num_classes is None else int(num_classes)

    def __call__(self, x_t, t, y=None, *, key=None):
        x_t = jnp.asarray(x_t)
        if x_t.shape[1:] != self.image_shape:
            want = ", ".join(map(str, self.image_shape))
            raise ValueError(f"x_t of shape {x_t.shape}; this U-Net takes (n, {want}) channels-last")
        n = x_t.shape[0]
        sin = timestep_embedding(t, self.channels[0]).astype(self.conv_out.weight.dtype)
        emb = self.time_mlp[1](jax.nn.silu(self.time_mlp[0](sin)))
        labels = _labels(y, self.num_classes, n)
        if labels is not None:
            emb = emb + self.class_emb[labels]
        emb = jax.nn.silu(emb)  # (n, time_dim); every block's projection reads SiLU(emb)
        # Independent pieces of the batch (every layer is per sample): XLA's CPU runtime runs one piece's
        # operations beside another's on the other core, where a single big convolution would use only one.
        pieces = max(d for d in range(1, min(self.split, n) + 1) if n % d == 0)
        keys = [None] * pieces if key is None else list(jax.random.split(key, pieces))
        outs = [self._trunk(xs, es, k) for xs, es, k in
                zip(jnp.split(x_t, pieces), jnp.split(emb, pieces), keys, strict=True)]
        return outs[0] if pieces == 1 else jnp.concatenate(outs)

    def _trunk(self, x_t, emb, key):
        """The convolutional trunk on ``x_t`` ``(m, H, W, C)`` given the blocks' embedding ``emb`` ``(m, D)``."""
        path = self.conv
        n_res = sum(isinstance(b, ResBlock) for level in (*self.down, self.mid, *self.up) for b in level)
        keys = list(jax.random.split(key, n_res)) if key is not None else [None] * n_res

        def block(b, h):
            return b(h, emb, path, keys.pop()) if isinstance(b, ResBlock) else b(h)

        h = conv2d(self.conv_in, x_t, path)
        skips = [h]
        for i, level in enumerate(self.down):
            for k, b in enumerate(level):
                h = block(b, h)
                if k + 1 == len(level) or isinstance(level[k + 1], ResBlock):  # end of a (res, attn) unit
                    skips.append(h)
            if i < len(self.downsample):
                h = conv2d(self.downsample[i], h, path)
                skips.append(h)
        for b in self.mid:
            h = block(b, h)
        for j, level in enumerate(self.up):
            for b in level:
                h = block(b, jnp.concatenate([h, skips.pop()], axis=-1) if isinstance(b, ResBlock) else h)
            if j < len(self.upsample):
                hh, ww = skips[-1].shape[1:3]
                h = conv2d(self.upsample[j], upsample2(h)[:, :hh, :ww], path)
        return conv2d(self.conv_out, jax.nn.silu(self.norm_out(h)), path)
