"""Multi-head scaled dot-product self-attention on token sequences ``(n, L, D)`` (Vaswani et al. 2017).

``attention(q, k, v, mask)`` is the pure function (Eq. 1, per head); :class:`SelfAttention` holds the
projections. Queries, keys and values come from one fused ``D -> 3D`` matrix product (one large matmul is
faster on CPU than three small ones), then an output projection ``D -> D``. Batch-first and without ``vmap``;
diffusion U-Nets use it on the pixels of their low-resolution feature maps, sequence models on time steps.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from .mlp import Dense

__all__ = ["SelfAttention", "attention"]


def attention(q, k, v, mask=None):
    """``softmax(q k^T / sqrt(d)) v`` for ``q, k, v`` of shape ``(n, heads, L, d)`` -> ``(n, heads, L, d)``.

    ``mask`` (bool, broadcastable to ``(n, heads, L, L)``) keeps the pairs where it is True; the others get
    zero weight. The softmax subtracts the row maximum first (``jax.nn.softmax`` does), so large logits
    do not overflow in float32.
    """
    logits = jnp.einsum("nhqd,nhkd->nhqk", q, k) / math.sqrt(q.shape[-1])  # (n, heads, L, L)
    if mask is not None:
        logits = jnp.where(mask, logits, jnp.finfo(logits.dtype).min)
    return jnp.einsum("nhqk,nhkd->nhqd", jax.nn.softmax(logits, axis=-1), v)


class SelfAttention(eqx.Module):
    """Self-attention ``(n, L, dim) -> (n, L, dim)`` with ``num_heads`` heads of width ``dim // num_heads``.

    ``out_init="zero"`` starts the output projection at zero, so a residual block ``x + attn(x)`` begins as
    the identity (common in diffusion U-Nets); ``"glorot_uniform"`` is the usual initialisation.
    """

    qkv: Dense  # dim -> 3 dim
    out: Dense  # dim -> dim
    num_heads: int = eqx.field(static=True)

    def __init__(self, dim: int, num_heads: int = 1, *, out_init: str = "glorot_uniform", key,
                 dtype=jnp.float32):
        if dim < 1 or num_heads < 1 or dim % num_heads:
            raise ValueError(f"dim={dim}, num_heads={num_heads}: dim must be a positive multiple of num_heads")
        if out_init not in ("glorot_uniform", "zero"):
            raise ValueError(f"out_init={out_init!r}; choose 'glorot_uniform' or 'zero'")
        k1, k2 = jax.random.split(key)
        self.qkv = Dense(dim, 3 * dim, key=k1, dtype=dtype)
        out = Dense(dim, dim, key=k2, dtype=dtype)
        if out_init == "zero":
            out = eqx.tree_at(lambda d: d.weight, out, jnp.zeros_like(out.weight))
        self.out = out
        self.num_heads = int(num_heads)

    def __call__(self, x, mask=None):
        n, length, dim = x.shape
        h = self.num_heads
        qkv = self.qkv(x).reshape(n, length, 3, h, dim // h)
        q, k, v = (jnp.moveaxis(qkv[:, :, i], 1, 2) for i in range(3))  # each (n, heads, L, d)
        o = attention(q, k, v, mask)  # (n, heads, L, d)
        return self.out(jnp.moveaxis(o, 1, 2).reshape(n, length, dim))
