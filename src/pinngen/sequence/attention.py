"""Multi-head attention that returns its attention weights, the masks it takes, and position encodings.

- :func:`scaled_dot_product`: ``softmax(q k^T / sqrt(d)) v`` (Vaswani et al. 2017, Eq. 1) returning the
  output *and* the weights ``(batch, heads, L_q, L_k)`` (Equinox's attention returns only the output);
- :func:`causal_mask`, :func:`padding_mask`: boolean masks, True where attention is allowed;
- :class:`MultiHeadAttention`: self- or cross-attention with ``heads`` heads (Eq. 4-5), optionally rotary;
- positions: :func:`sinusoidal` (Vaswani et al. 2017, Sec. 3.5), :class:`LearnedPositions`, and rotary
  embeddings :func:`apply_rotary` (Su et al. 2021, RoFormer, Eq. 34), under which the score of a query and a
  key depends only on their offset.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from pinngen.core.nn import Dense

__all__ = ["LearnedPositions", "MultiHeadAttention", "apply_rotary", "causal_mask", "padding_mask",
           "scaled_dot_product", "sinusoidal"]


def causal_mask(length: int, key_length: int | None = None):
    """``(L_q, L_k)`` bool: query t may attend to keys 0..t (the future stays unseen)."""
    key_length = length if key_length is None else key_length
    return jnp.arange(length)[:, None] >= jnp.arange(key_length)[None, :]


def padding_mask(valid):
    """Key mask ``(batch, 1, 1, L_k)`` from ``valid`` ``(batch, L_k)`` bool (True on real, not padded, steps);
    combine with a causal mask by ``&``."""
    return jnp.asarray(valid, bool)[:, None, None, :]


def scaled_dot_product(q, k, v, mask=None):
    """``q`` ``(b, h, L_q, d)``, ``k``/``v`` ``(b, h, L_k, d)`` -> ``(out (b, h, L_q, d), weights (b, h, L_q, L_k))``.

    ``mask`` (bool, broadcastable to ``(b, h, L_q, L_k)``) keeps the pairs where it is True. Masked pairs get
    exactly zero weight; each row sums to one, except a row with no allowed key, which is all zeros (its output
    is zero rather than an average of padding). The softmax subtracts the row maximum (no overflow in float32).
    """
    logits = jnp.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        logits = jnp.where(mask, logits, jnp.finfo(logits.dtype).min)
    weights = jax.nn.softmax(logits, axis=-1)
    if mask is not None:
        weights = jnp.where(mask, weights, 0.0)
    return jnp.einsum("bhqk,bhkd->bhqd", weights, v), weights


# ------------------------------------------------------------------------------------------- positions


def sinusoidal(length: int, dim: int, dtype=jnp.float32):
    """``(length, dim)``: ``PE[t, 2i] = sin(t / 10000^(2i/dim))``, ``PE[t, 2i+1] = cos(...)`` (Vaswani, Sec. 3.5)."""
    t = jnp.arange(length, dtype=jnp.float32)[:, None]
    freq = jnp.exp(-math.log(10000.0) * jnp.arange(0, dim, 2, dtype=jnp.float32) / dim)  # (ceil(dim/2),)
    pe = jnp.zeros((length, dim), jnp.float32)
    pe = pe.at[:, 0::2].set(jnp.sin(t * freq))
    pe = pe.at[:, 1::2].set(jnp.cos(t * freq[: dim // 2]))
    return pe.astype(dtype)


class LearnedPositions(eqx.Module):
    """A learned vector per position, ``(max_len, dim)``; ``self(length) -> (length, dim)``."""

    table: jax.Array  # (max_len, dim)

    def __init__(self, max_len: int, dim: int, *, key, dtype=jnp.float32):
        if max_len < 1 or dim < 1:
            raise ValueError(f"max_len={max_len}, dim={dim}: both must be >= 1")
        self.table = 0.02 * jax.random.normal(key, (max_len, dim), dtype)

    def __call__(self, length: int):
        if length > self.table.shape[0]:
            raise ValueError(f"sequence of {length} steps; these learned positions stop at max_len="
                             f"{self.table.shape[0]} (raise model.max_len or use sinusoidal/rotary positions)")
        return self.table[:length]


def apply_rotary(x, positions=None, base: float = 10000.0):
    """Rotate each pair ``(x[2i], x[2i+1])`` of ``x`` ``(..., L, d)`` (``d`` even) by the angle
    ``position * base^(-2i/d)``. Then ``<R_m q, R_n k>`` depends on ``m - n`` only (Su et al. 2021, Eq. 16)."""
    length, d = x.shape[-2], x.shape[-1]
    if d % 2:
        raise ValueError(f"rotary positions need an even head width; got {d} (choose dim/heads even)")
    pos = jnp.arange(length, dtype=jnp.float32) if positions is None else jnp.asarray(positions, jnp.float32)
    freq = base ** (-jnp.arange(0, d, 2, dtype=jnp.float32) / d)  # (d/2,)
    angle = pos[:, None] * freq  # (L, d/2)
    cos, sin = jnp.cos(angle).astype(x.dtype), jnp.sin(angle).astype(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = jnp.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)  # (..., L, d/2, 2)
    return out.reshape(x.shape)


# ------------------------------------------------------------------------------------------- attention


class MultiHeadAttention(eqx.Module):
    """Multi-head attention ``(b, L_q, dim), (b, L_k, kv_dim) -> (out (b, L_q, dim), weights (b, h, L_q, L_k))``.

    Each head projects queries, keys and values to ``dim // heads`` features and attends on its own, so each can
    learn its own relationships between the steps (Vaswani et al. 2017, Sec. 3.2.2). ``rotary`` rotates every
    head's queries and keys by their positions (relative positions; no position vectors added to the inputs).
    Self-attention when ``x_kv`` is None (one fused matmul for q, k, v); cross-attention otherwise.
    """

    W_q: Dense  # dim -> dim
    W_k: Dense  # kv_dim -> dim
    W_v: Dense  # kv_dim -> dim
    W_o: Dense  # dim -> dim
    heads: int = eqx.field(static=True)
    rotary: bool = eqx.field(static=True)

    def __init__(self, dim: int, heads: int = 1, *, kv_dim: int | None = None, rotary: bool = False, key,
                 dtype=jnp.float32):
        if dim < 1 or heads < 1 or dim % heads:
            raise ValueError(f"dim={dim}, heads={heads}: dim must be a positive multiple of heads")
        if rotary and (dim // heads) % 2:
            raise ValueError(f"rotary positions need an even head width; dim={dim} / heads={heads} is odd")
        kv_dim = dim if kv_dim is None else int(kv_dim)
        kq, kk, kv, ko = jax.random.split(key, 4)
        self.W_q = Dense(dim, dim, key=kq, dtype=dtype)
        self.W_k = Dense(kv_dim, dim, key=kk, dtype=dtype)
        self.W_v = Dense(kv_dim, dim, key=kv, dtype=dtype)
        self.W_o = Dense(dim, dim, key=ko, dtype=dtype)
        self.heads, self.rotary = int(heads), bool(rotary)

    def _split(self, y):  # (b, L, dim) -> (b, heads, L, dim / heads)
        b, length, dim = y.shape
        return jnp.moveaxis(y.reshape(b, length, self.heads, dim // self.heads), 2, 1)

    def __call__(self, x, x_kv=None, mask=None):
        if x_kv is None and self.W_q.weight.shape == self.W_k.weight.shape:
            w = jnp.concatenate([self.W_q.weight, self.W_k.weight, self.W_v.weight])  # (3 dim, dim)
            bias = jnp.concatenate([self.W_q.bias, self.W_k.bias, self.W_v.bias])
            q, k, v = jnp.split(x @ w.T + bias, 3, axis=-1)
        else:
            src = x if x_kv is None else x_kv
            q, k, v = self.W_q(x), self.W_k(src), self.W_v(src)
        q, k, v = self._split(q), self._split(k), self._split(v)
        if self.rotary:
            q, k = apply_rotary(q), apply_rotary(k)
        o, weights = scaled_dot_product(q, k, v, mask)  # (b, h, L_q, d), (b, h, L_q, L_k)
        b, _, length, _ = o.shape
        return self.W_o(jnp.moveaxis(o, 1, 2).reshape(b, length, -1)), weights
