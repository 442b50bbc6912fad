"""The character language model: a causal network over character ids, its scoring and its generator.

:class:`CharLM` wraps either a recurrent :class:`~pinngen.sequence.recurrent.SequenceModel` behind an
embedding table (``lstm``, ``gru``, ``rnn``) or a causal :class:`~pinngen.sequence.transformer.Transformer`
over tokens (``transformer``). Both map ids ``(batch, time)`` to next-character logits ``(batch, time, V)``;
the output at step t depends on the characters up to t only.

Dropout (Srivastava et al. 2014; for LSTMs on the non-recurrent connections, Zaremba et al. 2014): recurrent
models drop the embedding, the outputs of every layer and the readout's input; the Transformer drops its
embedding and the update each block adds to the residual stream. Only the training loss (a ``key``) drops.

Scoring (nats per character, natural log):

- :func:`window_nll`: windows of ``block`` characters with stride ``stride``; each window scores only its last
  ``stride`` positions, so every scored character is predicted from between ``block - stride + 1`` and
  ``block`` characters of context (all of the text before it, up to the window).
- :func:`carried_nll`: recurrent models only: one scan over the text with the state carried along, every
  character predicted from all of the text before it (the unbounded context of an RNN).

:func:`generate`: one compiled ``lax.fori_loop`` over a fixed-size buffer of ids (prompt then new
characters); recurrent models carry their state one character at a time, the Transformer re-reads the last
``block`` characters of the buffer at each step. Temperature divides the logits; ``top_k`` keeps the k most
likely characters (``top_k=1`` is greedy decoding).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .recurrent import SequenceModel
from .rnn import CELLS
from .transformer import Transformer

__all__ = ["ARCHS", "CharLM", "carried_nll", "generate", "nll_terms", "window_nll"]

ARCHS = (*CELLS, "transformer")


def _dropout(x, rate: float, key):
    if key is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


class CharLM(eqx.Module):
    """Next-character logits ``(batch, time, vocab)`` from ids ``(batch, time)``.

    Args:
        vocab: characters in the vocabulary (the size of the embedding and of the softmax).
        arch: ``lstm``, ``gru``, ``rnn`` (a recurrent stack behind an embedding of ``embed`` features) or
            ``transformer`` (a causal pre-norm Transformer of width ``hidden`` and ``heads`` heads).
        hidden: units per recurrent layer, or the Transformer's width.
        layers: recurrent layers or Transformer blocks.
        block: the training window (the Transformer's longest context; its learned positions stop there).
        dropout: rate of dropout during training (0: none).
    """

    embed: jax.Array | None  # (vocab, embed); the Transformer embeds its own tokens
    net: eqx.Module
    arch: str = eqx.field(static=True)
    block: int = eqx.field(static=True)
    dropout: float = eqx.field(static=True)

    def __init__(self, *, vocab: int, arch: str = "lstm", hidden: int = 256, layers: int = 1, embed: int = 64,
                 heads: int = 4, block: int = 128, dropout: float = 0.0, positions: str = "learned", key,
                 dtype=jnp.float32):
        if arch not in ARCHS:
            raise ValueError(f"arch={arch!r}; choose one of {', '.join(ARCHS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout}: must be in [0, 1)")
        k1, k2 = jax.random.split(key)
        if arch == "transformer":
            self.embed = None
            self.net = Transformer(out_size=vocab, vocab_size=vocab, dim=hidden, heads=heads, layers=layers,
                                   positions=positions, max_len=block, causal=True, key=k2, dtype=dtype)
        else:
            self.embed = jax.random.normal(k1, (vocab, embed), dtype)  # N(0, 1), as torch's nn.Embedding
            self.net = SequenceModel(in_size=embed, hidden_size=hidden, out_size=vocab, cell=arch, layers=layers,
                                     key=k2, dtype=dtype)
        self.arch, self.block, self.dropout = arch, int(block), float(dropout)

    @property
    def vocab_size(self) -> int:
        return int(self.net.W_hy.shape[0] if self.recurrent else self.net.head.weight.shape[0])

    @property
    def recurrent(self) -> bool:
        return self.arch != "transformer"

    def __call__(self, x, key=None):
        """Logits ``(batch, time, vocab)`` for ids ``x`` ``(batch, time)``; ``key`` turns dropout on."""
        keys = list(jax.random.split(key, 8)) if key is not None else [None] * 8
        if not self.recurrent:
            return self._transformer(x, keys)
        h = _dropout(self.embed[x], self.dropout, keys[0])  # (batch, time, embed)
        for i, layer in enumerate(self.net.layers):  # a few layers: unrolled at trace time
            h = _dropout(layer(h)[0], self.dropout, keys[1 + i % 7])
        return self.net.readout(h)

    def _transformer(self, x, keys):
        net = self.net
        h = _dropout(net.embed(x), self.dropout, keys[0])  # (batch, time, dim)
        mask = jnp.tril(jnp.ones((x.shape[1], x.shape[1]), bool))[None, None]
        for i, block in enumerate(net.blocks):
            new, _ = block(h, mask)
            h = h + _dropout(new - h, self.dropout, keys[1 + i % 7])
        return net.head(net.norm(h))

    def attention(self, x):
        """Transformer: attention weights per block, each ``(batch, heads, time, time)``."""
        if self.recurrent:
            raise ValueError(f"a {self.arch} model has no attention; attention maps need arch: transformer")
        return self.net(x, return_attention=True)[1]

    # ---- recurrent, one character at a time
    def init_state(self, batch: int):
        return tuple(layer.cell.init_state(batch, self.embed.dtype) for layer in self.net.layers)

    def step(self, state, token):
        """One character ``token`` ``(batch,)`` -> (new state, logits ``(batch, vocab)``)."""
        h, new = self.embed[token], []
        for layer, s in zip(self.net.layers, state, strict=True):
            s, _ = layer.cell.step(layer.cell.project(h), s)
            h = layer.cell.hidden(s)
            new.append(s)
        return tuple(new), self.net.readout(h)


def nll_terms(model: CharLM, batch, key):
    """``{"nll": mean -log p(y_t | x_{<=t})}`` over a batch of windows ``{"x", "y"}`` ``(batch, time)``.

    A batch without targets, ``{"x": (N,)}`` (the whole training text), is read as consecutive windows of
    ``model.block`` characters.
    """
    if "y" not in batch:
        seq, t = batch["x"], model.block
        n = (seq.shape[0] - 1) // t
        batch = {"x": seq[:n * t].reshape(n, t), "y": seq[1:n * t + 1].reshape(n, t)}
    logp = jax.nn.log_softmax(model(batch["x"], key), axis=-1)
    return {"nll": -jnp.mean(jnp.take_along_axis(logp, batch["y"][..., None], axis=-1))}


@eqx.filter_jit
def _window_scores(model, x, y):
    logp = jax.nn.log_softmax(model(x), axis=-1)
    return -jnp.take_along_axis(logp, y[..., None], axis=-1)[..., 0]  # (batch, time)


def window_nll(model: CharLM, ids: np.ndarray, start: int, *, block: int, stride: int,
               batch: int = 64) -> np.ndarray:
    """-log p of ``ids[t]`` for every ``t >= start`` ``(len(ids) - start,)``, by windows of ``block`` ids.

    Window k reads ``block`` ids from ``s_k = s_0 + k * stride`` and scores its last ``stride`` positions, so
    the character at ``t`` is predicted from between ``block - stride + 1`` and ``block`` characters before it
    (fewer only within the first ``block`` characters of ``ids``, where there are no more).
    """
    ids = np.asarray(ids, np.int32)
    if not 1 <= stride <= block:
        raise ValueError(f"stride={stride}: must be between 1 and block={block}")
    if not 1 <= start < len(ids):
        raise ValueError(f"start={start}: must be between 1 and len(ids) - 1 = {len(ids) - 1}")
    x, y = ids[:-1], ids[1:]  # y[j] = ids[j + 1] is predicted from x[..j]
    first = start - 1
    s0 = max(first - (block - stride), 0)
    n_win = max(1, -(-(len(y) - block - s0) // stride) + 1)
    starts = s0 + stride * np.arange(n_win)
    pad = max(int(starts[-1]) + block - len(y), 0)
    xp, yp = np.pad(x, (0, pad)), np.pad(y, (0, pad))
    offs = np.arange(block)
    out = np.full(len(y) + pad, np.nan)
    for i in range(0, n_win, batch):
        s = starts[i:i + batch]
        s_full = np.pad(s, (0, batch - len(s)), mode="edge")  # one shape, one compile
        scores = np.asarray(_window_scores(model, jnp.asarray(xp[s_full[:, None] + offs]),
                                           jnp.asarray(yp[s_full[:, None] + offs])))
        for k, (row, sk) in enumerate(zip(scores, s, strict=False)):
            lo = first - s0 if i + k == 0 else block - stride
            out[sk + lo:sk + block] = row[lo:]
    scored = out[first:len(y)]
    if np.isnan(scored).any():  # every target is covered by construction
        raise RuntimeError("window_nll left a character unscored")
    return scored


@eqx.filter_jit
def _carried(model, state, ids):
    def body(s, pair):
        s, logits = model.step(s, pair[0][None])
        return s, -jax.nn.log_softmax(logits[0])[pair[1]]

    return jax.lax.scan(body, state, (ids[:-1], ids[1:]))


def carried_nll(model: CharLM, ids: np.ndarray, start: int) -> np.ndarray:
    """Recurrent models: -log p of ``ids[t]`` for ``t >= start`` with the state carried over ``ids[:t]``."""
    if not model.recurrent:
        raise ValueError("carried_nll needs a recurrent model (lstm, gru, rnn)")
    ids = jnp.asarray(np.asarray(ids, np.int32))
    _, nll = _carried(model, model.init_state(1), ids)
    return np.asarray(nll)[max(start - 1, 0):]


def _pick(logits, key, temperature, top_k: int | None):
    if top_k is not None:
        kth = jax.lax.top_k(logits, top_k)[0][-1]
        logits = jnp.where(logits < kth, -jnp.inf, logits)
    return jax.random.categorical(key, logits / temperature)


@eqx.filter_jit
def _generate(model, buf, n_prompt: int, n_new: int, key, temperature, top_k: int | None):
    """``buf`` ``(L,)`` ids with the prompt in ``buf[:n_prompt]``; fills ``buf[n_prompt:n_prompt + n_new]``."""
    if model.recurrent:
        def body(t, carry):  # read buf[t]; from the prompt's last character on, draw buf[t + 1]
            state, buf = carry
            state, logits = model.step(state, buf[t][None])
            new = _pick(logits[0], jax.random.fold_in(key, t), temperature, top_k)
            buf = buf.at[t + 1].set(jnp.where(t + 1 >= n_prompt, new, buf[t + 1]))
            return state, buf

        return jax.lax.fori_loop(0, n_prompt + n_new - 1, body, (model.init_state(1), buf))[1]

    block = model.block

    def body(i, buf):  # the last `block` characters up to position t predict position t + 1
        t = n_prompt - 1 + i
        lo = jnp.clip(t - block + 1, 0, buf.shape[0] - block)
        window = jax.lax.dynamic_slice_in_dim(buf, lo, block)
        logits = model(window[None])[0, t - lo]
        return buf.at[t + 1].set(_pick(logits, jax.random.fold_in(key, t), temperature, top_k))

    return jax.lax.fori_loop(0, n_new, body, buf)


def generate(model: CharLM, prompt_ids, n_new: int, key, *, temperature: float = 1.0,
             top_k: int | None = None) -> np.ndarray:
    """The prompt's ids followed by ``n_new`` drawn ids ``(len(prompt) + n_new,)``; same key, same text."""
    prompt_ids = np.asarray(prompt_ids, np.int32)
    if prompt_ids.ndim != 1 or len(prompt_ids) < 1:
        raise ValueError("the prompt needs at least one character")
    if n_new < 0:
        raise ValueError(f"n={n_new}: the number of characters to generate must be >= 0")
    if not temperature > 0:
        raise ValueError(f"temperature={temperature}: must be > 0 (small values approach greedy decoding; "
                         "use top_k=1 for greedy)")
    vocab = model.vocab_size
    if top_k is not None and not 1 <= top_k <= vocab:
        raise ValueError(f"top_k={top_k}: must be between 1 and the vocabulary size {vocab}")
    if n_new == 0:
        return prompt_ids
    n_prompt = len(prompt_ids)
    buf = np.zeros(max(n_prompt + n_new, model.block), np.int32)
    buf[:n_prompt] = prompt_ids
    out = _generate(model, jnp.asarray(buf), n_prompt, int(n_new), key, jnp.float32(temperature),
                    None if top_k is None else int(top_k))
    return np.asarray(out)[:n_prompt + n_new]
