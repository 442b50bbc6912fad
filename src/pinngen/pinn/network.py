"""The PINN model: an MLP on normalised inputs, optional feature embeddings, an optional hard-constraint
output transform, and the problem's unknown parameters as trainable fields.

``PINN(x)`` maps points (n, d_in) in the problem's input order to outputs (n, n_out), row by row (so
the forward-mode operators of :mod:`pinngen.pinn.operators` apply). Inputs are mapped to [-1, 1] from the
geometry's bounding box; periodic inputs may instead be embedded as [cos(k w x), sin(k w x)] (exact
periodicity, Dong & Ni 2021); random Fourier features (Tancik et al. 2020) may follow.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.nn import MLP, FourierFeatures, PeriodicEmbedding
from pinngen.pinn.problem import Problem


class PINN(eqx.Module):
    """Network for a :class:`Problem`; ``unknowns`` holds the raw (untransformed) unknown parameters."""

    net: MLP
    fourier: FourierFeatures | None
    periodic: PeriodicEmbedding | None
    unknowns: dict
    problem: Problem = eqx.field(static=True)
    lo: tuple[float, ...] = eqx.field(static=True)
    hi: tuple[float, ...] = eqx.field(static=True)
    hard: bool = eqx.field(static=True)

    def __init__(self, problem: Problem, *, hidden: Sequence[int] = (20, 20, 20, 20), activation: str = "tanh",
                 init: str = "glorot_normal", fourier_features: int = 0, fourier_sigma: float = 1.0,
                 periodic: Sequence[str] | None = None, n_harmonics: int = 1, hard: bool = True,
                 key: jax.Array, dtype=jnp.float32):
        """periodic: input names embedded periodically (periods from ``problem.periodic``).
        hard: apply ``problem.transform`` (the hard constraints), if the problem has one."""
        self.problem = problem
        d_in, d_out = len(problem.inputs), len(problem.outputs)
        lo, hi = problem.geometry.bbox
        self.lo, self.hi = tuple(float(v) for v in lo), tuple(float(v) for v in hi)
        k_net, k_ff = jax.random.split(key)
        periodic = tuple(periodic or ())
        missing = [p for p in periodic if p not in problem.periodic]
        if missing:
            raise ValueError(f"periodic={list(periodic)}: {missing} are not periodic in problem {problem.name!r} "
                             f"(its periodic inputs: {sorted(problem.periodic) or 'none'})")
        size = d_in
        if periodic:
            dims = [problem.inputs.index(p) for p in periodic]
            # Period measured in the normalised coordinate (the bbox maps to [-1, 1]).
            periods = [2.0 * problem.periodic[p] / (self.hi[i] - self.lo[i]) for p, i in zip(periodic, dims,
                                                                                                strict=True)]
            self.periodic = PeriodicEmbedding(in_size=d_in, dims=dims, periods=periods, n_harmonics=n_harmonics)
            size = self.periodic.out_size
        else:
            self.periodic = None
        if fourier_features:
            self.fourier = FourierFeatures(in_size=size, n_features=fourier_features, sigma=fourier_sigma,
                                           key=k_ff, dtype=dtype)
            size = self.fourier.out_size
        else:
            self.fourier = None
        self.net = MLP(in_size=size, out_size=d_out, hidden=list(hidden), activation=activation, init=init,
                       key=k_net, dtype=dtype)
        self.unknowns = {k: jnp.asarray(p.raw_init(), dtype) for k, p in problem.unknowns.items()}
        self.hard = bool(hard and problem.transform is not None)

    def raw(self, x: jax.Array) -> jax.Array:
        """Network output before the hard-constraint transform, (n, n_out)."""
        # Constants in x's dtype: float64 NumPy constants would promote a float32 model's inputs (and
        # every tangent through them) to float64 when x64 mode is on.
        lo, hi = np.asarray(self.lo), np.asarray(self.hi)
        z = (2.0 * (x - lo.astype(x.dtype)) / (hi - lo).astype(x.dtype) - 1.0).astype(x.dtype)
        if self.periodic is not None:
            z = self.periodic(z)
        if self.fourier is not None:
            z = self.fourier(z)
        return self.net(z)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Outputs (n, n_out) at points x (n, d_in)."""
        out = self.raw(x)
        if self.hard:
            coords = {name: x[:, i] for i, name in enumerate(self.problem.inputs)}
            out = self.problem.transform(coords, out)
        return out

    def parameter_values(self) -> dict:
        """All parameter values: known constants and the current (transformed) unknowns."""
        return self.problem.parameter_values(self.unknowns)

    def unknown_values(self) -> dict:
        vals = self.parameter_values()
        return {k: vals[k] for k in self.unknowns}

    def loss_terms(self, batch, key=None) -> dict:
        """{"pde": ..., <condition>: ...} on a batch built by :class:`pinngen.pinn.collocation.Collocation`
        (plain mean squares; :func:`pinngen.pinn.loss.make_loss_terms` adds causal weighting when asked)."""
        from pinngen.pinn.loss import make_loss_terms

        return make_loss_terms(self.problem)(self, batch, key)
