"""Forecasting networks: a lookback window ``(batch, lookback, features)`` -> the next ``steps`` values
``(batch, steps, features)``, everything in scaled units (the experiment scales and unscales).

- :class:`ForecastNet`: a recurrent stack (:class:`~pinngen.sequence.recurrent.SequenceModel`, many-to-one:
  the state after the last step) or a Transformer encoder (:class:`~pinngen.sequence.transformer.Transformer`,
  the output at the last token) reading the window in *patches* of ``patch`` consecutive steps (one token
  per patch, ``patch * features`` numbers each; Nie et al. 2023, "PatchTST"), so a 264-month window is 22
  recurrent steps instead of 264. Its head emits ``steps`` future values at once: the whole horizon
  (strategy ``direct``, the multi-output head) or one step (``autoregressive``).
  With ``linear`` > 0 a linear map of the last ``linear`` values is added to the first forecast step (the
  one-step head; the "autoregressive component" of LSTNet, Lai et al. 2018, here for the next step only): the
  net then learns what a linear AR model misses one step ahead, and alone forecasts the steps after.
- :class:`Ensemble`: ``members`` independently initialised nets trained side by side (``vmap``; each has its
  own loss, summed) whose forecasts are averaged.
- :func:`rollout`: the forecast of any horizon: call the net, append its outputs to the window, repeat
  (for a one-step net this is the recursive forecast; for a direct net with ``steps >= horizon`` one call).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from pinngen.core.nn import Dense

from .recurrent import SequenceModel
from .transformer import Transformer

__all__ = ["ARCHS", "Ensemble", "ForecastNet", "rollout"]

ARCHS = ("lstm", "gru", "rnn", "transformer")


class ForecastNet(eqx.Module):
    """``(batch, lookback, features) -> (batch, steps, features)``; ``lookback`` must be a multiple of ``patch``.

    Args:
        arch: ``lstm``, ``gru``, ``rnn`` (Elman) or ``transformer``.
        features: values per time step (1 for a univariate series).
        lookback: window length in steps (sets the Transformer's number of positions).
        steps: future steps per call.
        patch: time steps per token.
        hidden: recurrent units per layer, or the Transformer's model width.
        layers: recurrent layers or Transformer blocks.
        heads, ff, positions: Transformer only (attention heads, feed-forward width, position encoding).
        linear: lags of the linear component added to the first forecast step (0: none).
    """

    body: eqx.Module
    skip: Dense | None
    arch: str = eqx.field(static=True)
    patch: int = eqx.field(static=True)
    steps: int = eqx.field(static=True)
    features: int = eqx.field(static=True)

    def __init__(self, *, arch: str, features: int, lookback: int, steps: int, patch: int = 1, hidden: int = 64,
                 layers: int = 1, heads: int = 4, ff: int | None = None, positions: str = "sinusoidal",
                 linear: int = 0, key, dtype=jnp.float32):
        if arch not in ARCHS:
            raise ValueError(f"arch={arch!r}; choose one of {', '.join(ARCHS)}")
        if patch < 1 or lookback % patch:
            raise ValueError(f"lookback={lookback} is not a multiple of patch={patch}; make it one")
        if not 0 <= linear <= lookback:
            raise ValueError(f"linear={linear}: the linear component reads 0 to lookback={lookback} lags")
        token, out = patch * features, steps * features
        key, k_skip = jax.random.split(key)
        skip = Dense(linear * features, features, key=k_skip, dtype=dtype) if linear else None
        self.skip = None if skip is None else eqx.tree_at(lambda d: d.weight, skip, jnp.zeros_like(skip.weight))
        if arch == "transformer":
            self.body = Transformer(out_size=out, in_size=token, dim=hidden, heads=heads, layers=layers, ff=ff,
                                    positions=positions, max_len=lookback // patch, key=key, dtype=dtype)
        else:
            self.body = SequenceModel(in_size=token, hidden_size=hidden, out_size=out, cell=arch, layers=layers,
                                      key=key, dtype=dtype)
        self.arch, self.patch, self.steps, self.features = arch, int(patch), int(steps), int(features)

    def __call__(self, x, x_body=None):
        """``x_body`` (default ``x``): what the net reads (e.g. ``x`` with training noise); the linear
        component always reads ``x``."""
        b, length, d = x.shape
        xb = x if x_body is None else x_body
        tokens = xb.reshape(b, length // self.patch, self.patch * d)  # (batch, tokens, patch * features)
        if self.arch == "transformer":
            y = self.body(tokens)[:, -1]  # the last token has attended to the whole window
        else:
            y = self.body.many_to_one(tokens)
        y = y.reshape(b, self.steps, self.features)
        if self.skip is not None:
            lin = self.skip(x[:, length - self.skip.weight.shape[1] // d:].reshape(b, -1))  # (batch, features)
            y = y.at[:, 0].add(lin)
        return y


class Ensemble(eqx.Module):
    """``members`` nets with stacked parameters; ``__call__`` averages them, :meth:`each` keeps them apart."""

    nets: ForecastNet  # every array has a leading (members,) axis
    members: int = eqx.field(static=True)

    def __init__(self, *, members: int = 1, key, **net):
        if members < 1:
            raise ValueError(f"members={members}: need at least one net")
        self.nets = eqx.filter_vmap(lambda k: ForecastNet(key=k, **net))(jax.random.split(key, members))
        self.members = int(members)

    @property
    def steps(self) -> int:
        return self.nets.steps

    def each(self, x, x_body=None):
        """Every member's output ``(members, batch, steps, features)`` (``x_body``: see ForecastNet)."""
        return eqx.filter_vmap(lambda net, xx, xb: net(xx, xb), in_axes=(eqx.if_array(0), None, None))(
            self.nets, x, x_body)

    def __call__(self, x):
        return jnp.mean(self.each(x), axis=0)


def rollout(model, x, horizon: int):
    """Forecast ``horizon`` steps after each window ``x`` ``(batch, lookback, features)``:
    ``(batch, horizon, features)``. Outputs are fed back as inputs when one call does not reach the horizon."""
    steps, lookback = model.steps, x.shape[1]
    calls = -(-horizon // steps)

    def step(window, _):
        y = model(window)  # (batch, steps, features)
        return jnp.concatenate([window, y], axis=1)[:, -lookback:], y

    _, ys = jax.lax.scan(step, x, None, length=calls)  # (calls, batch, steps, features)
    return jnp.moveaxis(ys, 0, 1).reshape(x.shape[0], calls * steps, x.shape[2])[:, :horizon]
