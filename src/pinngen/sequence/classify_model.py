"""Many-to-one sequence classifiers: variable-length series ``(batch, time, features)`` -> class logits.

:class:`SequenceClassifier` wraps a recurrent :class:`~pinngen.sequence.recurrent.SequenceModel` (read at each
series' last valid step, or both ends when bidirectional) or an encoder
:class:`~pinngen.sequence.transformer.Transformer` (padding masked out of attention; the per-step outputs are
averaged over the valid steps, or read at a learned ``[CLS]`` token put in front, as in BERT).

``patch`` groups ``patch`` consecutive steps into one token of ``patch * features`` values (the patch
embedding of Nie et al. 2023, PatchTST): a GunPoint series of 150 steps becomes 30 tokens of 5, which the
LSTM reads in a fifth of the steps and the Transformer attends over cheaply. Padded steps are zeroed before
the patching, so what lies in the padding never changes a prediction.

Training aids (:func:`augment`, only in the training loss): random amplitude scaling, Gaussian jitter and
random time shifts (the series slides by up to ``shift`` steps, its first or last value repeated).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .recurrent import SequenceModel, lengths_to_mask
from .transformer import Transformer

__all__ = ["ARCHS", "SequenceClassifier", "augment", "cross_entropy"]

ARCHS = ("lstm", "gru", "rnn", "transformer")


def patchify(x, lengths, patch: int):
    """``x`` ``(b, T, d)``, ``lengths`` ``(b,)`` -> tokens ``(b, ceil(T/p), p*d)`` and token lengths ``(b,)``;
    padded steps are set to zero first (so the last, partly filled token of a series holds zeros after its end)."""
    b, t, d = x.shape
    mask = lengths_to_mask(lengths, t)
    x = jnp.where(mask[..., None], x, 0.0)
    if patch == 1:
        return x, lengths
    pad = (-t) % patch
    x = jnp.pad(x, ((0, 0), (0, pad), (0, 0)))
    return x.reshape(b, (t + pad) // patch, patch * d), (lengths + patch - 1) // patch


class SequenceClassifier(eqx.Module):
    """``(x (batch, time, features), lengths (batch,)) -> logits (batch, classes)``.

    Args:
        arch: ``lstm``, ``gru``, ``rnn`` (Elman) or ``transformer``.
        in_size, classes: features per step and number of classes.
        hidden, layers, bidirectional: recurrent width (per direction), depth and direction.
        dim, heads, ff, positions: Transformer width, heads, feed-forward width and positions.
        layers: recurrent layers or Transformer blocks.
        pooling: Transformer: ``mean`` of the valid steps' outputs or a ``cls`` token.
        patch: steps per token (see the module docstring).
        max_len: tokens the learned positions cover (``positions: learned`` only).
    """

    net: eqx.Module
    cls: jax.Array | None  # (patch * in_size,): the [CLS] token's input, or None
    arch: str = eqx.field(static=True)
    patch: int = eqx.field(static=True)
    pooling: str = eqx.field(static=True)

    def __init__(self, *, arch: str, in_size: int, classes: int, hidden: int = 64, layers: int = 1,
                 bidirectional: bool = False, dim: int = 64, heads: int = 4, ff: int | None = None,
                 positions: str = "sinusoidal", pooling: str = "mean", patch: int = 1, max_len: int = 512, key,
                 dtype=jnp.float32):
        if arch not in ARCHS:
            raise ValueError(f"arch={arch!r}; choose one of {', '.join(ARCHS)}")
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling={pooling!r}; choose mean or cls")
        if int(patch) < 1 or int(classes) < 2:
            raise ValueError(f"patch={patch}, classes={classes}: need patch >= 1 and at least 2 classes")
        k1, k2 = jax.random.split(key)
        width = int(patch) * int(in_size)
        if arch == "transformer":
            self.net = Transformer(out_size=classes, in_size=width, dim=dim, heads=heads, layers=layers, ff=ff,
                                   positions=positions, max_len=max_len + (pooling == "cls"), key=k1, dtype=dtype)
            self.cls = 0.02 * jax.random.normal(k2, (width,), dtype) if pooling == "cls" else None
        else:
            self.net = SequenceModel(in_size=width, hidden_size=hidden, out_size=classes, cell=arch, layers=layers,
                                     bidirectional=bidirectional, key=k1, dtype=dtype)
            self.cls = None
        self.arch, self.patch, self.pooling = arch, int(patch), pooling if arch == "transformer" else "last"

    def tokens(self, x, lengths):
        """The model's input tokens ``(b, L, patch*d)``, their validity ``(b, L)`` bool and token lengths."""
        xt, lt = patchify(x, jnp.asarray(lengths), self.patch)
        if self.cls is not None:
            xt = jnp.concatenate([jnp.broadcast_to(self.cls, (xt.shape[0], 1, xt.shape[2])), xt], axis=1)
            lt = lt + 1
        return xt, lengths_to_mask(lt, xt.shape[1]), lt

    def __call__(self, x, lengths, return_attention: bool = False):
        xt, valid, lt = self.tokens(x, lengths)
        if self.arch != "transformer":
            if return_attention:
                raise ValueError(f"a {self.arch} has no attention maps; only arch: transformer does")
            return self.net.many_to_one(xt, lengths=lt)
        out = self.net(xt, valid, return_attention=return_attention)
        y, maps = out if return_attention else (out, None)  # y: (b, L, classes), one output per token
        if self.cls is not None:
            logits = y[:, 0]
        else:  # the head is affine, so averaging its outputs is the head of the averaged states
            w = valid[..., None].astype(y.dtype)
            logits = (y * w).sum(1) / jnp.maximum(w.sum(1), 1.0)
        return (logits, maps) if return_attention else logits


def cross_entropy(logits, y, smoothing: float = 0.0):
    """Mean cross-entropy in nats of integer labels ``y`` ``(b,)`` under ``logits`` ``(b, k)``; ``smoothing``
    spreads that much of the target's mass evenly over the classes (Szegedy et al. 2016, Sec. 7)."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    nll = -jnp.take_along_axis(logp, y[:, None].astype(jnp.int32), axis=1)[:, 0]
    if smoothing:
        nll = (1.0 - smoothing) * nll - smoothing * logp.mean(-1)
    return nll.mean()


def augment(key, x, lengths, *, scale: float = 0.0, jitter: float = 0.0, shift: int = 0):
    """Randomly transformed copies of ``x`` ``(b, T, d)`` (lengths unchanged): a time shift of up to ``shift``
    steps either way (the end values repeat into the gap), amplitudes times ``exp(N(0, scale^2))``, plus
    ``N(0, jitter^2)`` noise on every step."""
    b, t, _ = x.shape
    k1, k2, k3 = jax.random.split(key, 3)
    if shift:
        s = jax.random.randint(k1, (b, 1), -shift, shift + 1)
        idx = jnp.clip(jnp.arange(t)[None, :] - s, 0, jnp.asarray(lengths)[:, None] - 1)  # (b, T)
        x = jnp.take_along_axis(x, idx[..., None], axis=1)
    if scale:
        x = x * jnp.exp(scale * jax.random.normal(k2, (b, 1, 1), x.dtype))
    if jitter:
        x = x + jitter * jax.random.normal(k3, x.shape, x.dtype)
    return x
