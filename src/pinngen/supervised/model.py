"""A network plus its output activation and loss: the supervised model that ``fit`` trains."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from pinngen.core.losses import output_loss
from pinngen.core.nn import MLP


class Supervised(eqx.Module):
    """``net`` maps features ``(batch, in)`` to outputs ``(batch, out)``; ``loss`` names the training loss.

    The loss takes the network's *raw* last-layer output and fuses it with the output activation where that
    is numerically better (sigmoid + binary cross-entropy, softmax + categorical cross-entropy).
    """

    net: MLP
    loss: str = eqx.field(static=True)

    def loss_terms(self, batch, key):
        raw = self.net(batch["x"], key=key, raw=True)  # (batch, out)
        y = batch["y"]
        if y.ndim == 1 and self.loss in ("mse", "mae", "msle", "huber", "binary_crossentropy", "poisson"):
            y = y[:, None]
        return {self.loss: output_loss(self.net.output_activation, self.loss)(raw, y)}

    def __call__(self, x):
        return self.net(jnp.asarray(x))
