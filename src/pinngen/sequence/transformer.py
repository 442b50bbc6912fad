"""Transformers on sequences: pre-norm encoder blocks, a causal (decoder-only) stack and an encoder-decoder.

Pre-norm blocks (Xiong et al. 2020): ``x + attn(norm(x))`` then ``x + ff(norm(x))``, with a final norm; they
train without the warm-up the post-norm blocks of Vaswani et al. (2017) need. Every call can return the
attention weights of every layer and head, ``(batch, heads, L_q, L_k)`` each, for attention maps.

- :class:`Transformer` ``(batch, time, in_size) -> (batch, time, out_size)``: an encoder (``causal=False``,
  padding masks for variable lengths) or a causal decoder (``causal=True``: the output at step t depends on
  the inputs up to t only; the language-model and autoregressive-forecast shape). Token inputs
  (``vocab_size``) take integer arrays ``(batch, time)``.
- :class:`EncoderDecoder`: an encoder over the source and a causal decoder over the target with
  cross-attention to the encoder's output (sequence-to-sequence).
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp

from pinngen.core.nn import Dense

from .attention import LearnedPositions, MultiHeadAttention, causal_mask, padding_mask, sinusoidal

__all__ = ["DecoderBlock", "EncoderBlock", "EncoderDecoder", "LayerNorm", "Transformer"]

Positions = Literal["sinusoidal", "learned", "rotary"]
POSITIONS = ("sinusoidal", "learned", "rotary")


class LayerNorm(eqx.Module):
    """Layer normalisation over the last axis (Ba et al. 2016) with a learned scale and shift."""

    scale: jax.Array  # (dim,)
    shift: jax.Array  # (dim,)
    eps: float = eqx.field(static=True)

    def __init__(self, dim: int, *, eps: float = 1e-5, dtype=jnp.float32):
        self.scale, self.shift, self.eps = jnp.ones((dim,), dtype), jnp.zeros((dim,), dtype), float(eps)

    def __call__(self, x):
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + self.eps) * self.scale + self.shift


class FeedForward(eqx.Module):
    up: Dense
    down: Dense

    def __init__(self, dim: int, hidden: int, *, key, dtype=jnp.float32):
        k1, k2 = jax.random.split(key)
        self.up, self.down = Dense(dim, hidden, key=k1, dtype=dtype), Dense(hidden, dim, key=k2, dtype=dtype)

    def __call__(self, x):
        return self.down(jax.nn.gelu(self.up(x)))


class EncoderBlock(eqx.Module):
    """Pre-norm self-attention block; ``(x, mask) -> (x, weights)``."""

    norm1: LayerNorm
    attn: MultiHeadAttention
    norm2: LayerNorm
    ff: FeedForward

    def __init__(self, dim: int, heads: int, ff: int, *, rotary: bool, key, dtype=jnp.float32):
        k1, k2 = jax.random.split(key)
        self.norm1, self.norm2 = LayerNorm(dim, dtype=dtype), LayerNorm(dim, dtype=dtype)
        self.attn = MultiHeadAttention(dim, heads, rotary=rotary, key=k1, dtype=dtype)
        self.ff = FeedForward(dim, ff, key=k2, dtype=dtype)

    def __call__(self, x, mask=None):
        a, w = self.attn(self.norm1(x), mask=mask)
        x = x + a
        return x + self.ff(self.norm2(x)), w


class DecoderBlock(eqx.Module):
    """Pre-norm causal self-attention, cross-attention to ``memory``, feed-forward;
    ``(x, memory, self_mask, cross_mask) -> (x, self weights, cross weights)``."""

    norm1: LayerNorm
    self_attn: MultiHeadAttention
    norm2: LayerNorm
    cross_attn: MultiHeadAttention
    norm3: LayerNorm
    ff: FeedForward

    def __init__(self, dim: int, heads: int, ff: int, *, rotary: bool, key, dtype=jnp.float32):
        k1, k2, k3 = jax.random.split(key, 3)
        self.norm1, self.norm2, self.norm3 = (LayerNorm(dim, dtype=dtype) for _ in range(3))
        self.self_attn = MultiHeadAttention(dim, heads, rotary=rotary, key=k1, dtype=dtype)
        self.cross_attn = MultiHeadAttention(dim, heads, key=k2, dtype=dtype)
        self.ff = FeedForward(dim, ff, key=k3, dtype=dtype)

    def __call__(self, x, memory, self_mask=None, cross_mask=None):
        a, ws = self.self_attn(self.norm1(x), mask=self_mask)
        x = x + a
        c, wc = self.cross_attn(self.norm2(x), memory, mask=cross_mask)
        x = x + c
        return x + self.ff(self.norm3(x)), ws, wc


class _Embed(eqx.Module):
    """Inputs to ``dim`` features plus absolute positions (none for rotary, which acts inside attention)."""

    proj: eqx.Module  # Dense (features) or an embedding table (tokens)
    learned: LearnedPositions | None
    positions: str = eqx.field(static=True)
    tokens: bool = eqx.field(static=True)

    def __init__(self, in_size, vocab_size, dim, positions, max_len, *, key, dtype):
        if positions not in POSITIONS:
            raise ValueError(f"positions={positions!r}; choose one of {', '.join(POSITIONS)}")
        if (in_size is None) == (vocab_size is None):
            raise ValueError("give exactly one of in_size (real-valued features) or vocab_size (integer tokens)")
        k1, k2 = jax.random.split(key)
        self.tokens = vocab_size is not None
        self.proj = (eqx.nn.Embedding(vocab_size, dim, key=k1, dtype=dtype) if self.tokens
                     else Dense(in_size, dim, key=k1, dtype=dtype))
        self.learned = LearnedPositions(max_len, dim, key=k2, dtype=dtype) if positions == "learned" else None
        self.positions = positions

    def __call__(self, x):
        h = self.proj.weight[x] if self.tokens else self.proj(x)  # (batch, time, dim)
        length, dim = h.shape[1], h.shape[2]
        if self.positions == "sinusoidal":
            h = h + sinusoidal(length, dim, h.dtype)
        elif self.positions == "learned":
            h = h + self.learned(length)
        return h


def _masks(length: int, valid, causal: bool):
    mask = causal_mask(length)[None, None] if causal else None
    if valid is not None:
        pad = padding_mask(valid)
        mask = pad if mask is None else mask & pad
    return mask


class Transformer(eqx.Module):
    """A stack of pre-norm blocks ``(batch, time, in_size)`` (or tokens ``(batch, time)``) ->
    ``(batch, time, out_size)``; ``causal=True`` makes it a decoder-only model.

    ``__call__(x, valid=None, return_attention=False)``: ``valid`` ``(batch, time)`` bool marks real steps
    (padding gets no attention); with ``return_attention`` also a list (one per layer) of weights
    ``(batch, heads, time, time)``.
    """

    embed: _Embed
    blocks: tuple[EncoderBlock, ...]
    norm: LayerNorm
    head: Dense
    causal: bool = eqx.field(static=True)

    def __init__(self, *, out_size: int, in_size: int | None = None, vocab_size: int | None = None, dim: int = 64,
                 heads: int = 4, layers: int = 2, ff: int | None = None, positions: Positions = "sinusoidal",
                 max_len: int = 512, causal: bool = False, key, dtype=jnp.float32):
        if layers < 1:
            raise ValueError(f"layers={layers}: need at least one block")
        keys = jax.random.split(key, layers + 2)
        self.embed = _Embed(in_size, vocab_size, dim, positions, max_len, key=keys[0], dtype=dtype)
        self.blocks = tuple(EncoderBlock(dim, heads, ff or 4 * dim, rotary=positions == "rotary", key=k, dtype=dtype)
                            for k in keys[1:-1])
        self.norm = LayerNorm(dim, dtype=dtype)
        self.head = Dense(dim, out_size, key=keys[-1], dtype=dtype)
        self.causal = bool(causal)

    def __call__(self, x, valid=None, return_attention: bool = False):
        h = self.embed(x)
        mask = _masks(h.shape[1], valid, self.causal)
        maps = []
        for block in self.blocks:  # a few blocks: unrolled at trace time
            h, w = block(h, mask)
            maps.append(w)
        y = self.head(self.norm(h))
        return (y, maps) if return_attention else y


class EncoderDecoder(eqx.Module):
    """Sequence to sequence: ``(src (batch, S, src_in), tgt (batch, T, tgt_in)) -> (batch, T, out_size)``.

    The encoder reads the whole source (with its padding mask ``src_valid``); the decoder reads the target up
    to each step (causal) and attends to the encoder's output. Train with the target shifted right (teacher
    forcing); ``return_attention`` gives ``{"encoder": [...], "decoder_self": [...], "cross": [...]}``.
    """

    src_embed: _Embed
    tgt_embed: _Embed
    encoder: tuple[EncoderBlock, ...]
    enc_norm: LayerNorm
    decoder: tuple[DecoderBlock, ...]
    dec_norm: LayerNorm
    head: Dense

    def __init__(self, *, out_size: int, src_in: int | None = None, tgt_in: int | None = None,
                 src_vocab: int | None = None, tgt_vocab: int | None = None, dim: int = 64, heads: int = 4,
                 encoder_layers: int = 2, decoder_layers: int = 2, ff: int | None = None,
                 positions: Positions = "sinusoidal", max_len: int = 512, key, dtype=jnp.float32):
        if encoder_layers < 1 or decoder_layers < 1:
            raise ValueError(f"encoder_layers={encoder_layers}, decoder_layers={decoder_layers}: need >= 1 each")
        ks = jax.random.split(key, encoder_layers + decoder_layers + 3)
        rot, ff = positions == "rotary", ff or 4 * dim
        self.src_embed = _Embed(src_in, src_vocab, dim, positions, max_len, key=ks[0], dtype=dtype)
        self.tgt_embed = _Embed(tgt_in, tgt_vocab, dim, positions, max_len, key=ks[1], dtype=dtype)
        self.encoder = tuple(EncoderBlock(dim, heads, ff, rotary=rot, key=k, dtype=dtype)
                             for k in ks[2:2 + encoder_layers])
        self.decoder = tuple(DecoderBlock(dim, heads, ff, rotary=rot, key=k, dtype=dtype)
                             for k in ks[2 + encoder_layers:-1])
        self.enc_norm, self.dec_norm = LayerNorm(dim, dtype=dtype), LayerNorm(dim, dtype=dtype)
        self.head = Dense(dim, out_size, key=ks[-1], dtype=dtype)

    def encode(self, src, src_valid=None):
        h = self.src_embed(src)
        mask = _masks(h.shape[1], src_valid, False)
        maps = []
        for block in self.encoder:
            h, w = block(h, mask)
            maps.append(w)
        return self.enc_norm(h), maps

    def __call__(self, src, tgt, src_valid=None, tgt_valid=None, return_attention: bool = False):
        memory, enc_maps = self.encode(src, src_valid)
        h = self.tgt_embed(tgt)
        self_mask = _masks(h.shape[1], tgt_valid, True)
        cross_mask = None if src_valid is None else padding_mask(src_valid)
        self_maps, cross_maps = [], []
        for block in self.decoder:
            h, ws, wc = block(h, memory, self_mask, cross_mask)
            self_maps.append(ws)
            cross_maps.append(wc)
        y = self.head(self.dec_norm(h))
        if return_attention:
            return y, {"encoder": enc_maps, "decoder_self": self_maps, "cross": cross_maps}
        return y
