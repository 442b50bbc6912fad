"""Vector flows from FlowJAX over ``R^d`` with a standard normal base: the ``flow`` kind's model for tables and toys.

* ``realnvp``: affine coupling layers (Dinh et al. 2017), a random permutation between layers;
* ``maf``: masked autoregressive layers with an affine transformer (Papamakarios et al. 2017): one network pass
  for ``log_prob`` (what training needs), ``d`` sequential passes per layer to sample;
* ``nsf``: coupling layers with rational-quadratic splines on ``[-interval, interval]`` (Durkan et al. 2019),
  the identity outside it (so standardised data should lie mostly inside).

``zero_init`` zeroes the last layer of every conditioner: each layer starts as the identity and the flow as a
fixed permutation of N(0, I). The flow acts on standardised data; the experiment adds the standardisation's
log-determinant (:mod:`pinngen.generative.flow_experiment`). ``transform`` maps data to the base here: ``z =
to_base(x)``, ``log p(x) = log N(z; 0, I) + log|det dz/dx|``.
"""

from __future__ import annotations

from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["VECTOR_DEFAULTS", "VECTOR_FLOWS", "VectorFlow", "build_vector_flow"]

VECTOR_FLOWS = ("realnvp", "maf", "nsf")
VECTOR_DEFAULTS: dict = dict(flow="nsf", layers=8, width=64, depth=2, knots=8, interval=4.0, zero_init=True)


class VectorFlow(eqx.Module):
    """A FlowJAX ``Transformed`` distribution over ``R^dim``; build it with :func:`build_vector_flow`."""

    dist: eqx.Module  # flowjax.distributions.Transformed
    dim: int = eqx.field(static=True)
    family: str = eqx.field(static=True)

    def log_prob(self, z):
        """``log p(z)`` ``(n,)`` in nats for ``z`` ``(n, dim)`` (standardised units)."""
        return self.dist.log_prob(jnp.asarray(z))

    def to_base(self, z):
        """``u = f^{-1}(z)`` ``(n, dim)``: where points land in the base space."""
        return jax.vmap(self.dist.bijection.inverse)(jnp.asarray(z))

    def from_base(self, u):
        """``z = f(u)`` ``(n, dim)``."""
        return jax.vmap(self.dist.bijection.transform)(jnp.asarray(u))

    def sample(self, key, n: int, temperature: float = 1.0):
        """``n`` draws ``(n, dim)``: ``f(u)`` with ``u ~ N(0, temperature^2 I)``."""
        if isinstance(temperature, int | float) and temperature < 0:
            raise ValueError(f"temperature={temperature}: must be >= 0 (1 samples the model itself)")
        u = temperature * jax.random.normal(key, (int(n), self.dim))
        return self.from_base(u)

    def loss_terms(self, batch, key) -> dict[str, jax.Array]:
        """``{"nll": ...}``: the batch mean of ``-log p`` of ``batch["x"]`` ``(n, dim)`` (standardised units)."""
        return {"nll": -jnp.mean(self.log_prob(batch["x"]))}


def build_vector_flow(dim: int, cfg: Mapping | None, key, dtype=jnp.float32) -> VectorFlow:
    """A fresh :class:`VectorFlow` over ``R^dim``; ``cfg`` keys and defaults in :data:`VECTOR_DEFAULTS`
    (``layers``: flow layers; ``width``/``depth``: each conditioner's hidden width and hidden layers;
    ``knots``/``interval``: nsf's splines; ``zero_init``: start as the identity)."""
    from flowjax.bijections import RationalQuadraticSpline
    from flowjax.distributions import StandardNormal
    from flowjax.flows import coupling_flow, masked_autoregressive_flow

    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(VECTOR_DEFAULTS))
    if unknown:
        raise ValueError(f"vector flow config keys {unknown} unknown; choose from {sorted(VECTOR_DEFAULTS)}")
    cfg = {**VECTOR_DEFAULTS, **cfg}
    if cfg["flow"] not in VECTOR_FLOWS:
        raise ValueError(f"flow={cfg['flow']!r}; choose one of {list(VECTOR_FLOWS)}")
    if int(dim) < 2:
        raise ValueError(f"dim={dim}: these flows need at least 2 dimensions (couplings split the coordinates)")
    if min(cfg["layers"], cfg["width"]) < 1 or cfg["depth"] < 0:
        raise ValueError(f"layers={cfg['layers']}, width={cfg['width']}, depth={cfg['depth']}: need layers, "
                         "width >= 1 and depth >= 0")
    common = dict(base_dist=StandardNormal((int(dim),)), flow_layers=int(cfg["layers"]), nn_width=int(cfg["width"]),
                  nn_depth=int(cfg["depth"]))
    if cfg["flow"] == "maf":
        dist = masked_autoregressive_flow(key, **common)
    elif cfg["flow"] == "realnvp":
        dist = coupling_flow(key, **common)
    else:
        spline = RationalQuadraticSpline(knots=int(cfg["knots"]), interval=float(cfg["interval"]))
        dist = coupling_flow(key, transformer=spline, **common)
    if cfg["zero_init"]:
        dist = _zero_last_layers(dist)
    dist = jax.tree_util.tree_map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, dist)
    return VectorFlow(dist=dist, dim=int(dim), family=cfg["flow"])


def _zero_last_layers(tree):
    """Zero the last linear layer of every conditioner: each transformer gets its identity parameters."""

    def fix(node):
        if not isinstance(node, eqx.nn.MLP):
            return node
        last = jax.tree_util.tree_map(lambda a: jnp.zeros_like(a) if eqx.is_inexact_array(a) else a, node.layers[-1])
        return eqx.tree_at(lambda m: m.layers[-1], node, last)

    return jax.tree_util.tree_map(fix, tree, is_leaf=lambda n: isinstance(n, eqx.nn.MLP))
