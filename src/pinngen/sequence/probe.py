"""The vanishing-gradient probe: how much the loss at the end of a sequence feels the input k steps back.

On a task that needs long memory, the adding problem (Hochreiter & Schmidhuber 1997, experiment 4: two of
``T`` random numbers are marked and the target is their sum, read after the last step), the probe measures

    g(k) = mean_i || d l_i / d x_{i, T-k} ||

(``l_i`` the squared error of sequence ``i``, ``x_{i, T-k}`` its input ``k`` steps before the end; ``k = 0`` is
the last input). Backpropagation through time multiplies one Jacobian ``d h_t / d h_{t-1}`` per step; for the
Elman RNN that is ``diag(1 - h_t^2) W_hh``, whose product shrinks geometrically when its norm is below one, so
the remote past stops reaching the loss (the network "obsesses over the recent past"). The LSTM's cell state
passes through the forget gate only (``d c_t / d c_{t-1} = f_t``, near 1 when the gate is open), and the GRU's
state through ``z_t``, so their g(k) decays far more slowly.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .recurrent import SequenceModel

__all__ = ["ProbeModels", "adding_problem", "gradient_by_lag", "probe_models"]


def adding_problem(key, n: int, length: int, dtype=jnp.float32):
    """``n`` adding-problem sequences: ``x`` ``(n, length, 2)`` (a value in [0, 1] and a 0/1 marker), ``y``
    ``(n, 1)`` the sum of the two marked values; one marker in each half of the sequence."""
    if length < 2 or n < 1:
        raise ValueError(f"length={length}, n={n}: need length >= 2 and n >= 1")
    kv, k1, k2 = jax.random.split(key, 3)
    values = jax.random.uniform(kv, (n, length), dtype)
    half = length // 2
    first = jax.random.randint(k1, (n,), 0, half)
    second = jax.random.randint(k2, (n,), half, length)
    steps = jnp.arange(length)[None, :]
    marks = ((steps == first[:, None]) | (steps == second[:, None])).astype(dtype)  # (n, length)
    x = jnp.stack([values, marks], axis=-1)  # (n, length, 2)
    y = jnp.sum(values * marks, axis=1, keepdims=True)  # (n, 1)
    return x, y


@eqx.filter_jit
def _input_gradient_norms(model, x, y):
    def total(xx):  # sum over sequences, so each sequence's gradient is its own d l_i / d x_i
        return jnp.sum(jnp.square(model.many_to_one(xx) - y))

    g = jax.grad(total)(x)  # (n, T, features)
    return jnp.mean(jnp.linalg.norm(g, axis=-1), axis=0)  # (T,)


def gradient_by_lag(model, x, y) -> np.ndarray:
    """``g(k)`` for ``k = 0 .. T-1`` (``(T,)`` float64): the mean over sequences of the norm of the gradient of
    each sequence's squared error with respect to its input ``k`` steps before the end (see the module doc).
    ``model.many_to_one`` maps ``x`` ``(n, T, F)`` to ``(n, out)``, compared with ``y`` ``(n, out)``."""
    norms = np.asarray(_input_gradient_norms(model, x, y), np.float64)
    return norms[::-1].copy()


class ProbeModels(eqx.Module):
    """The compared recurrent networks (one :class:`SequenceModel` per cell, same width), trained side by side.

    Their losses are separate named terms (``mse_rnn``, ``mse_lstm``, ``mse_gru``); with a per-parameter
    optimizer such as Adam, minimising the sum trains each network exactly as it would be trained alone.
    """

    models: dict  # cell name -> SequenceModel
    names: tuple = eqx.field(static=True)  # the cells in the caller's order (pytree dicts sort their keys)

    def __init__(self, models: dict):
        self.models, self.names = dict(models), tuple(models)

    def loss_terms(self, batch, key=None):
        return {f"mse_{name}": jnp.mean(jnp.square(m.many_to_one(batch["x"]) - batch["y"]))
                for name in self.names for m in [self.models[name]]}

    def predict(self, x):
        """``(n, cells)``: each network's many-to-one prediction, in the order of ``models``."""
        return jnp.concatenate([self.models[name].many_to_one(x) for name in self.names], axis=-1)


def probe_models(cells, *, in_size: int, hidden_size: int, out_size: int = 1, layers: int = 1, key,
                 dtype=jnp.float32) -> ProbeModels:
    """One :class:`SequenceModel` per cell name, each with its own key drawn from ``key``."""
    if not cells or len(set(cells)) != len(cells):
        raise ValueError(f"cells={list(cells)}: give each of rnn, lstm, gru at most once, and at least one")
    keys = jax.random.split(key, len(cells))
    return ProbeModels({c: SequenceModel(in_size=in_size, hidden_size=hidden_size, out_size=out_size, cell=c,
                                         layers=layers, key=k, dtype=dtype) for c, k in zip(cells, keys, strict=True)})
