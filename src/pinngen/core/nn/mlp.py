"""Dense layers and the MLP: activations, initialisers, trainable/frozen parameters, parameter tables.

Networks are batch-first and shape-polymorphic: an MLP maps ``(..., in_size) -> (..., out_size)`` with
plain matrix products, so a whole batch (and forward-mode tangents through it) goes through one matmul
per layer without ``vmap``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def _identity(x):
    return x


ACTIVATIONS = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "swish": jax.nn.silu,
    "sin": jnp.sin,
    "linear": _identity,
    "softplus": jax.nn.softplus,
    "elu": jax.nn.elu,
    "selu": jax.nn.selu,
    "leaky_relu": jax.nn.leaky_relu,
    "softmax": lambda x: jax.nn.softmax(x, axis=-1),
    "exp": jnp.exp,
}
# Activations whose derivative jumps: loss curves may show jumps (the diagnosis says so).
DISCONTINUOUS_DERIVATIVE = ("relu", "leaky_relu", "elu", "selu")
INITIALISERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal", "siren")


def get_activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class Frozen(eqx.Module):
    """Wraps arrays that are part of a model but never trained (e.g. random Fourier frequencies)."""

    value: jax.Array


def trainable_filter(model) -> object:
    """Pytree of bools: True for inexact arrays that the optimizer updates (not inside :class:`Frozen`)."""

    def leaf(node):
        if isinstance(node, Frozen):
            return jax.tree_util.tree_map(lambda _: False, node)
        return eqx.is_inexact_array(node)

    return jax.tree_util.tree_map(leaf, model, is_leaf=lambda n: isinstance(n, Frozen))


def _init_weight(key, out_size, in_size, init: str, dtype, first: bool):
    if init == "glorot_uniform":
        lim = math.sqrt(6.0 / (in_size + out_size))
        return jax.random.uniform(key, (out_size, in_size), dtype, -lim, lim)
    if init == "glorot_normal":
        return jax.random.normal(key, (out_size, in_size), dtype) * math.sqrt(2.0 / (in_size + out_size))
    if init == "he_uniform":
        lim = math.sqrt(6.0 / in_size)
        return jax.random.uniform(key, (out_size, in_size), dtype, -lim, lim)
    if init == "he_normal":
        return jax.random.normal(key, (out_size, in_size), dtype) * math.sqrt(2.0 / in_size)
    if init == "lecun_normal":
        return jax.random.normal(key, (out_size, in_size), dtype) * math.sqrt(1.0 / in_size)
    if init == "siren":  # Sitzmann et al. 2020, Sec. 3.2 (omega_0 = 30 applied in the first layer's input)
        lim = 1.0 / in_size if first else math.sqrt(6.0 / in_size) / 30.0
        return jax.random.uniform(key, (out_size, in_size), dtype, -lim, lim)
    raise ValueError(f"init={init!r}; choose one of {INITIALISERS}")


class Dense(eqx.Module):
    """``y = x @ W.T + b``, optionally with a fixed 0/1 connectivity mask (sparse layer)."""

    weight: jax.Array  # (out, in)
    bias: jax.Array  # (out,)
    mask: jax.Array | None  # (out, in) bool, or None for dense

    def __init__(self, in_size, out_size, *, key, init="glorot_uniform", mask=None, first=False,
                 dtype=jnp.float32):
        self.weight = _init_weight(key, out_size, in_size, init, dtype, first)
        self.bias = jnp.zeros((out_size,), dtype)
        if mask is not None:
            mask = np.asarray(mask).astype(bool)
            if mask.shape != (out_size, in_size):
                raise ValueError(f"mask has shape {mask.shape}; expected (out, in) = {(out_size, in_size)}")
            self.weight = jnp.where(mask, self.weight, 0.0)
        self.mask = None if mask is None else jnp.asarray(mask)

    def __call__(self, x):
        w = self.weight if self.mask is None else jnp.where(self.mask, self.weight, 0.0)
        return x @ w.T + self.bias

    def n_params(self) -> int:
        n_w = self.weight.size if self.mask is None else int(np.sum(np.asarray(self.mask)))
        return int(n_w + self.bias.size)


class MLP(eqx.Module):
    """Multilayer perceptron ``(..., in_size) -> (..., out_size)``.

    ``hidden`` gives the width of each hidden layer; ``activation`` is one name for all hidden layers or one
    per hidden layer; ``output_activation`` applies to the last layer (``linear`` by default; losses that are
    fused with their activation, e.g. sigmoid + binary cross-entropy, take the raw output instead: see
    :mod:`pinngen.core.losses`). ``dropout`` is applied after each hidden activation when a key is given.
    ``masks`` optionally gives one 0/1 connectivity matrix (out, in) per layer (None entries are dense).
    """

    layers: tuple[Dense, ...]
    activations: tuple[str, ...] = eqx.field(static=True)
    output_activation: str = eqx.field(static=True)
    dropout: float = eqx.field(static=True)
    in_size: int = eqx.field(static=True)
    out_size: int = eqx.field(static=True)
    omega0: float = eqx.field(static=True)

    def __init__(self, *, in_size: int, out_size: int, hidden: Sequence[int] = (64, 64),
                 activation: str | Sequence[str] = "tanh", output_activation: str = "linear",
                 dropout: float = 0.0, init: str = "glorot_uniform", masks=None, key, dtype=jnp.float32):
        if in_size < 1 or out_size < 1:
            raise ValueError(f"in_size={in_size}, out_size={out_size}: both must be >= 1")
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden={list(hidden)}: every width must be >= 1")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout}: must be in [0, 1)")
        acts = (activation,) * len(hidden) if isinstance(activation, str) else tuple(activation)
        if len(acts) != len(hidden):
            raise ValueError(f"activation has {len(acts)} entries for {len(hidden)} hidden layers")
        for a in (*acts, output_activation):
            get_activation(a)
        if init not in INITIALISERS:
            raise ValueError(f"init={init!r}; choose one of {INITIALISERS}")
        sizes = [in_size, *hidden, out_size]
        masks = list(masks) if masks is not None else [None] * (len(sizes) - 1)
        if len(masks) != len(sizes) - 1:
            raise ValueError(f"masks has {len(masks)} entries for {len(sizes) - 1} layers")
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(
            Dense(a, b, key=k, init=init, mask=m, first=(i == 0), dtype=dtype)
            for i, (a, b, k, m) in enumerate(zip(sizes[:-1], sizes[1:], keys, masks, strict=True))
        )
        self.activations = acts
        self.output_activation = output_activation
        self.dropout = float(dropout)
        self.in_size, self.out_size = in_size, out_size
        self.omega0 = 30.0 if init == "siren" else 1.0

    def __call__(self, x, *, key=None, raw: bool = False):
        """Apply the network; ``raw=True`` skips the output activation (for fused losses)."""
        if self.omega0 != 1.0:
            x = self.omega0 * x
        keys = jax.random.split(key, len(self.activations)) if (key is not None and self.dropout) else None
        for i, (layer, act) in enumerate(zip(self.layers[:-1], self.activations, strict=True)):
            x = ACTIVATIONS[act](layer(x))
            if keys is not None:
                keep = jax.random.bernoulli(keys[i], 1.0 - self.dropout, x.shape)
                x = jnp.where(keep, x / (1.0 - self.dropout), 0.0)
        x = self.layers[-1](x)
        return x if raw else ACTIVATIONS[self.output_activation](x)

    def summary(self) -> str:
        """Keras-like table of layers, output shapes and parameter counts."""
        rows = [("Layer", "Output shape", "Activation", "Params")]
        acts = (*self.activations, self.output_activation)
        for i, (layer, act) in enumerate(zip(self.layers, acts, strict=True)):
            kind = "Dense" if layer.mask is None else "SparseDense"
            rows.append((f"{kind}_{i}", f"(None, {layer.weight.shape[0]})", act, f"{layer.n_params():,}"))
        total = sum(layer.n_params() for layer in self.layers)
        return format_table(rows, footer=[f"Total params: {total:,}", f"Trainable params: {total:,}"])

    def n_params(self) -> int:
        return sum(layer.n_params() for layer in self.layers)


def format_table(rows, footer=()) -> str:
    widths = [max(len(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    line = "-" * (sum(widths) + 3 * (len(widths) - 1))
    out = [line]
    for i, r in enumerate(rows):
        out.append("   ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)))
        if i == 0:
            out.append(line.replace("-", "="))
    out.append(line)
    out.extend(footer)
    return "\n".join(out)


def count_params(model) -> int:
    """Number of trainable scalars in any Equinox model."""
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, trainable_filter(model)))
    return int(sum(x.size for x in leaves))
