"""Stacked and bidirectional recurrent networks: the :class:`SequenceModel` ``(batch, time, features) ->
(batch, time, out)`` and its many-to-one reading (the last valid step of variable-length sequences).

A layer is one cell scanned over time (:func:`pinngen.sequence.rnn.recur`) or a :class:`Bidirectional` pair
(one forward, one backward, their states concatenated). Layers feed each other's hidden states; the readout
``y_t = W_hy h_t + b_y`` maps the top layer's states to the outputs. One Elman layer with this readout is the
lecture's network, with its three shared matrices ``W_xh``, ``W_hh`` (in ``layers[0]``) and ``W_hy``.

Shapes of use: many-to-many (``model(x)``, one output per step, e.g. frame-by-frame labels or per-step
forecasts) and many-to-one (``model.many_to_one(x, lengths=...)``, e.g. sequence classification).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from .rnn import CELLS, make_cell, recur

__all__ = ["Bidirectional", "SequenceModel", "last_valid", "lengths_to_mask"]


def lengths_to_mask(lengths, time: int):
    """``(batch,)`` integer lengths -> ``(batch, time)`` bool mask of the valid (left-aligned) steps."""
    lengths = jnp.asarray(lengths)
    return jnp.arange(time)[None, :] < lengths[:, None]


def last_valid(hs, lengths=None):
    """The entry at each sequence's last valid step: ``hs`` ``(batch, time, F)`` -> ``(batch, F)``.

    ``lengths`` ``(batch,)`` counts the valid (left-aligned) steps; None means every step is valid.
    """
    if lengths is None:
        return hs[:, -1]
    idx = jnp.clip(jnp.asarray(lengths) - 1, 0, hs.shape[1] - 1)
    return jnp.take_along_axis(hs, idx[:, None, None], axis=1)[:, 0]


class Bidirectional(eqx.Module):
    """A forward and a backward cell over the same input; outputs ``(batch, time, 2H)`` ``[forward, backward]``."""

    forward: eqx.Module
    backward: eqx.Module

    def __call__(self, x, mask=None, return_gates: bool = False):
        hf, sf, gf = recur(self.forward, x, mask=mask, return_gates=return_gates)
        hb, sb, gb = recur(self.backward, x, mask=mask, reverse=True, return_gates=return_gates)
        gates = {"forward": gf, "backward": gb} if return_gates else None
        return jnp.concatenate([hf, hb], axis=-1), (sf, sb), gates

    def summary(self, final):
        """Many-to-one features ``(batch, 2H)``: the forward state after the last valid step and the backward
        state after the first step (each has then read the whole sequence)."""
        sf, sb = final
        return jnp.concatenate([self.forward.hidden(sf), self.backward.hidden(sb)], axis=-1)


class _Unidirectional(eqx.Module):
    cell: eqx.Module

    def __call__(self, x, mask=None, return_gates: bool = False):
        return recur(self.cell, x, mask=mask, return_gates=return_gates)

    def summary(self, final):
        return self.cell.hidden(final)


class SequenceModel(eqx.Module):
    """A stack of recurrent layers with a linear readout: ``(batch, time, in_size) -> (batch, time, out_size)``.

    Args:
        in_size, hidden_size, out_size: feature widths (``hidden_size`` per direction).
        cell: ``rnn`` (Elman), ``lstm`` or ``gru``.
        layers: stacked recurrent layers (each reads the previous one's hidden states).
        bidirectional: each layer runs forward and backward (outputs ``2 * hidden_size`` features); not for
            forecasting or generation, where the future must stay unseen.
    """

    layers: tuple
    W_hy: jax.Array  # (out, H * directions)
    b_y: jax.Array  # (out,)
    cell: str = eqx.field(static=True)
    bidirectional: bool = eqx.field(static=True)

    def __init__(self, *, in_size: int, hidden_size: int, out_size: int, cell: str = "lstm", layers: int = 1,
                 bidirectional: bool = False, key, dtype=jnp.float32):
        if cell not in CELLS:
            raise ValueError(f"cell={cell!r}; choose one of {', '.join(CELLS)}")
        if int(layers) < 1 or int(out_size) < 1:
            raise ValueError(f"layers={layers}, out_size={out_size}: both must be >= 1")
        keys = jax.random.split(key, 2 * int(layers) + 1)
        width, stack = int(in_size), []
        for i in range(int(layers)):
            fwd = make_cell(cell, width, hidden_size, key=keys[2 * i], dtype=dtype)
            if bidirectional:
                stack.append(Bidirectional(fwd, make_cell(cell, width, hidden_size, key=keys[2 * i + 1],
                                                          dtype=dtype)))
            else:
                stack.append(_Unidirectional(fwd))
            width = int(hidden_size) * (2 if bidirectional else 1)
        self.layers = tuple(stack)
        lim = 1.0 / math.sqrt(width)
        self.W_hy = jax.random.uniform(keys[-1], (int(out_size), width), dtype, -lim, lim)
        self.b_y = jnp.zeros((int(out_size),), dtype)
        self.cell, self.bidirectional = cell, bool(bidirectional)

    def encode(self, x, mask=None, return_gates: bool = False):
        """Hidden states of the top layer ``(batch, time, H * directions)``, the final states of every layer,
        and (``return_gates``) one gate dict per layer."""
        finals, gates = [], []
        h = x
        for layer in self.layers:  # a handful of layers of different widths: unrolled at trace time
            h, final, g = layer(h, mask=mask, return_gates=return_gates)
            finals.append(final)
            gates.append(g)
        return h, finals, (gates if return_gates else None)

    def readout(self, h):
        return h @ self.W_hy.T + self.b_y

    def __call__(self, x, mask=None):
        """Many-to-many: one output per step ``(batch, time, out_size)`` (zeros' readout at masked steps)."""
        return self.readout(self.encode(x, mask)[0])

    def many_to_one(self, x, *, lengths=None, mask=None):
        """One output per sequence ``(batch, out_size)`` from the state after each sequence's last valid step
        (``lengths`` ``(batch,)`` or ``mask`` ``(batch, time)``, left-aligned; both None: all steps valid)."""
        if lengths is not None and mask is None:
            mask = lengths_to_mask(lengths, x.shape[1])
        _, finals, _ = self.encode(x, mask)
        return self.readout(self.layers[-1].summary(finals[-1]))

    def gates(self, x, mask=None):
        """Gate activations per layer (a list of dicts of ``(batch, time, H)``; bidirectional layers nest
        ``forward``/``backward``): what the LSTM's forget gate or the GRU's update gate did at each step."""
        return self.encode(x, mask, return_gates=True)[2]
