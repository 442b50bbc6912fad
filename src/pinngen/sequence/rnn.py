"""Recurrent cells (Elman RNN, LSTM, GRU) and the recurrence that runs them over time with ``lax.scan``.

The state-space view of the lecture: the state at step t comes from the previous state and the input, through
the *same* matrices at every step. For the Elman network (Elman 1990)

    h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),    y_t = W_hy h_t + b_y

(``W_hy`` is the readout of :class:`pinngen.sequence.recurrent.SequenceModel`). The LSTM (Hochreiter &
Schmidhuber 1997, with the forget gate of Gers et al. 2000) and the GRU (Cho et al. 2014) add gates that let
the state pass through many steps unchanged, which is what keeps the gradient from vanishing.

Every cell has the same small interface, batch-first:

- ``project(x)``: the input part of every pre-activation, ``(..., in) -> (..., G)``. :func:`recur` applies it
  to the whole sequence at once (one large matmul) so that the scanned step is only the ``h @ W_hh`` part;
- ``step(xp_t, state) -> (state, gates)``: one step from the projected input ``(batch, G)``;
- ``__call__(x_t, state) -> state``: one textbook step from the raw input (``project`` then ``step``);
- ``init_state(batch)`` and ``hidden(state) -> h``.

Gate activations (``gates``, a dict of ``(batch, H)`` arrays) come back from :func:`recur` with
``return_gates=True``, so they can be plotted and inspected.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["CELLS", "ElmanCell", "GRUCell", "LSTMCell", "make_cell", "recur"]


def _uniform(key, shape, fan_in, dtype):
    """U(-1/sqrt(H), 1/sqrt(H)), the usual initialisation of recurrent layers (as in torch and Equinox)."""
    lim = 1.0 / math.sqrt(fan_in)
    return jax.random.uniform(key, shape, dtype, -lim, lim)


def _check_sizes(in_size, hidden_size):
    if int(in_size) < 1 or int(hidden_size) < 1:
        raise ValueError(f"in_size={in_size}, hidden_size={hidden_size}: both must be positive integers")


class ElmanCell(eqx.Module):
    """The Elman RNN cell: ``h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)``; state ``h`` ``(batch, H)``."""

    W_xh: jax.Array  # (H, in)
    W_hh: jax.Array  # (H, H)
    b_h: jax.Array  # (H,)
    hidden_size: int = eqx.field(static=True)

    def __init__(self, in_size: int, hidden_size: int, *, key, dtype=jnp.float32):
        _check_sizes(in_size, hidden_size)
        k1, k2, k3 = jax.random.split(key, 3)
        self.W_xh = _uniform(k1, (hidden_size, in_size), hidden_size, dtype)
        self.W_hh = _uniform(k2, (hidden_size, hidden_size), hidden_size, dtype)
        self.b_h = _uniform(k3, (hidden_size,), hidden_size, dtype)
        self.hidden_size = int(hidden_size)

    def init_state(self, batch: int, dtype=jnp.float32):
        return jnp.zeros((batch, self.hidden_size), dtype)

    def hidden(self, state):
        return state

    def project(self, x):
        return x @ self.W_xh.T + self.b_h

    def step(self, xp, h):
        h = jnp.tanh(xp + h @ self.W_hh.T)
        return h, {"h": h}

    def __call__(self, x, state):
        return self.step(self.project(x), state)[0]


class LSTMCell(eqx.Module):
    """LSTM cell; state ``(h, c)``, each ``(batch, H)``.

    Gates, in the order of the stacked rows of ``W_x`` ``(4H, in)``, ``W_h`` ``(4H, H)`` and ``b`` ``(4H,)``
    (the order of torch and Equinox, so weights copy across): input ``i``, forget ``f``, candidate ``g``,
    output ``o``::

        i, f, o = sigmoid(.), g = tanh(.),  c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)

    The forget bias starts at ``forget_bias`` (1 by default, Jozefowicz et al. 2015): the cell begins by
    remembering, the reason its gradient survives long lags at initialisation.
    """

    W_x: jax.Array  # (4H, in)
    W_h: jax.Array  # (4H, H)
    b: jax.Array  # (4H,)
    hidden_size: int = eqx.field(static=True)

    def __init__(self, in_size: int, hidden_size: int, *, key, forget_bias: float = 1.0, dtype=jnp.float32):
        _check_sizes(in_size, hidden_size)
        k1, k2, k3 = jax.random.split(key, 3)
        H = int(hidden_size)
        self.W_x = _uniform(k1, (4 * H, in_size), H, dtype)
        self.W_h = _uniform(k2, (4 * H, H), H, dtype)
        self.b = _uniform(k3, (4 * H,), H, dtype).at[H:2 * H].add(forget_bias)
        self.hidden_size = H

    def init_state(self, batch: int, dtype=jnp.float32):
        z = jnp.zeros((batch, self.hidden_size), dtype)
        return (z, z)

    def hidden(self, state):
        return state[0]

    def project(self, x):
        return x @ self.W_x.T + self.b

    def step(self, xp, state):
        h, c = state
        i, f, g, o = jnp.split(xp + h @ self.W_h.T, 4, axis=-1)
        i, f, g, o = jax.nn.sigmoid(i), jax.nn.sigmoid(f), jnp.tanh(g), jax.nn.sigmoid(o)
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (h, c), {"input": i, "forget": f, "candidate": g, "output": o, "c": c, "h": h}

    def __call__(self, x, state):
        return self.step(self.project(x), state)[0]


class GRUCell(eqx.Module):
    """GRU cell (Cho et al. 2014, with the reset gate applied after the recurrent matmul, as in torch and
    Equinox); state ``h`` ``(batch, H)``. Gate rows of ``W_x`` ``(3H, in)`` / ``W_h`` ``(3H, H)``: reset ``r``,
    update ``z``, candidate ``n``::

        r, z = sigmoid(.),  n = tanh(W_xn x + b_n + r * (W_hn h + b_hn)),  h_t = (1 - z) * n + z * h_{t-1}
    """

    W_x: jax.Array  # (3H, in)
    W_h: jax.Array  # (3H, H)
    b: jax.Array  # (3H,)
    b_hn: jax.Array  # (H,) the recurrent bias of the candidate, inside the reset gate
    hidden_size: int = eqx.field(static=True)

    def __init__(self, in_size: int, hidden_size: int, *, key, dtype=jnp.float32):
        _check_sizes(in_size, hidden_size)
        k1, k2, k3, k4 = jax.random.split(key, 4)
        H = int(hidden_size)
        self.W_x = _uniform(k1, (3 * H, in_size), H, dtype)
        self.W_h = _uniform(k2, (3 * H, H), H, dtype)
        self.b = _uniform(k3, (3 * H,), H, dtype)
        self.b_hn = _uniform(k4, (H,), H, dtype)
        self.hidden_size = H

    def init_state(self, batch: int, dtype=jnp.float32):
        return jnp.zeros((batch, self.hidden_size), dtype)

    def hidden(self, state):
        return state

    def project(self, x):
        return x @ self.W_x.T + self.b

    def step(self, xp, h):
        H = self.hidden_size
        hp = h @ self.W_h.T  # (batch, 3H)
        r = jax.nn.sigmoid(xp[..., :H] + hp[..., :H])
        z = jax.nn.sigmoid(xp[..., H:2 * H] + hp[..., H:2 * H])
        n = jnp.tanh(xp[..., 2 * H:] + r * (hp[..., 2 * H:] + self.b_hn))
        h = n + z * (h - n)
        return h, {"reset": r, "update": z, "candidate": n, "h": h}

    def __call__(self, x, state):
        return self.step(self.project(x), state)[0]


CELLS = {"rnn": ElmanCell, "lstm": LSTMCell, "gru": GRUCell}


def make_cell(cell: str, in_size: int, hidden_size: int, *, key, dtype=jnp.float32):
    """A cell by name (``rnn``, ``lstm``, ``gru``)."""
    if cell not in CELLS:
        raise ValueError(f"cell={cell!r}; choose one of {', '.join(CELLS)}")
    return CELLS[cell](in_size, hidden_size, key=key, dtype=dtype)


def recur(cell, x, *, state=None, mask=None, reverse: bool = False, return_gates: bool = False):
    """Run ``cell`` over ``x`` ``(batch, time, in)`` with one ``lax.scan`` over time.

    Returns ``(hs, final_state, gates)``: the hidden states ``(batch, time, H)``, the state after the last step
    (the last *valid* step when masked) and, with ``return_gates``, a dict of gate activations
    ``(batch, time, H)`` (else None).

    ``mask`` ``(batch, time)`` bool marks the valid steps of padded sequences: a masked step keeps the state
    unchanged and outputs zeros. With right padding, the final state of a forward pass is the state at each
    sequence's last valid step, and a ``reverse`` pass starts from the zero state at each sequence's own end.
    """
    if x.ndim != 3:
        raise ValueError(f"input has shape {x.shape}; recurrent layers take (batch, time, features)")
    batch = x.shape[0]
    state = cell.init_state(batch, x.dtype) if state is None else state
    xp = jnp.swapaxes(cell.project(x), 0, 1)  # (time, batch, G): the input half of every step, in one matmul
    ms = None if mask is None else jnp.swapaxes(jnp.asarray(mask, bool), 0, 1)[..., None]  # (time, batch, 1)

    def body(s, inputs):
        xp_t, m_t = inputs
        new, gates = cell.step(xp_t, s)
        h = cell.hidden(new)
        if m_t is not None:
            new = jax.tree_util.tree_map(lambda a, b: jnp.where(m_t, a, b), new, s)
            h = jnp.where(m_t, h, 0.0)
        return new, (h, gates if return_gates else None)

    final, (hs, gates) = jax.lax.scan(body, state, (xp, ms), reverse=reverse)
    hs = jnp.swapaxes(hs, 0, 1)  # (batch, time, H)
    if return_gates:
        gates = {k: jnp.swapaxes(v, 0, 1) for k, v in gates.items()}
    return hs, final, gates
