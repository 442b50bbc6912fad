"""Dense quasi-Newton directions: BFGS, self-scaled BFGS and self-scaled Broyden, as Optax transforms.

``scale_by_dense_bfgs(variant)`` keeps the full inverse-Hessian approximation ``H`` (n x n, in the parameters'
dtype) of the flattened parameters, and turns the gradient into the direction ``d = -H g``; chained with a
line search (``optax.scale_by_zoom_linesearch``, strong Wolfe) it is a complete optimizer
(:func:`dense_quasi_newton`). Meant for PINNs of a few thousand parameters in float64, where it reaches
losses that L-BFGS does not (Urbán, Stefanou & Pons 2025; Kiyani et al. 2025); ``n^2`` numbers are held.

Each update, with ``s = x_k - x_{k-1}``, ``y = g_k - g_{k-1}``:

- **curvature check**: if ``y.s <= eps |s||y|`` the pair is skipped (``skips`` counts them);
- **first update**: ``H`` (the identity the first direction came from) is replaced by
  ``(y.s / y.y) I`` before it is updated (Nocedal & Wright, Numerical Optimization, eq. 6.20);
- **the self-scaled Broyden family** (inverse form; Al-Baali 1998, Al-Baali & Khalfan 2005; as used by
  Urbán, Stefanou & Pons, J. Comput. Phys. 523 (2025) 113656, eqs. 11-23, arXiv:2405.04230; Kiyani, Shukla,
  Urbán, Darbon & Karniadakis, CMAME 2025, arXiv:2501.16371; Bioli & Mendibe Abarrategi, arXiv:2603.10599)::

      H+ = (1/tau) [H - (H y)(H y)^T / (y^T H y) + phi v v^T] + s s^T / (y^T s)
      v  = sqrt(y^T H y) [s / (y^T s) - H y / (y^T H y)]

  with ``b = s^T B s / y^T s`` (``B = H^-1``; ``s^T B s = -alpha s^T g_{k-1}`` for the step ``s = alpha d``
  along ``d = -H g_{k-1}``), ``h = y^T H y / y^T s`` and ``a = b h - 1 (>= 0)``:

  - ``bfgs``: ``tau = 1``, ``phi = 1``;
  - ``ssbfgs``: ``phi = 1``, ``tau = min(1, 1/b)`` (Al-Baali's restricted Oren-Luenberger scaling);
  - ``ssbroyden``: ``c = sqrt(a / (1 + a))``, ``rho- = min(1, h (1 - c))``, ``theta- = (rho- - 1) / a``,
    ``theta+ = 1 / rho-``, ``theta = max(theta-, min(theta+, (1 - b) / b))``, ``sigma = 1 + a theta``,
    ``tau = min(1, 1/b) min(sigma^(-1/(n-1)), 1/theta)`` if ``theta > 0``, else
    ``tau = min(min(1, 1/b) sigma^(-1/(n-1)), sigma)``; ``phi = (1 - theta) / (1 + a theta)``.

- **reset**: when the new direction is not a descent direction (``g.d >= 0``), or ``H`` lost positive
  definiteness in a way that shows (``y^T H y <= 0``, a diagonal entry ``<= 0``, a non-finite entry), ``H``
  becomes ``(y.s / y.y) I`` (``I`` where the pair failed the curvature check) and the direction is
  recomputed from it (``resets`` counts them).

The iteration count, resets and skipped pairs live in the state, so a resumed run continues exactly.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

DENSE_VARIANTS = ("bfgs", "ssbfgs", "ssbroyden")
Variant = Literal["bfgs", "ssbfgs", "ssbroyden"]


class DenseQNState(NamedTuple):
    """``inv_hessian`` (n x n), the previous flattened parameters, gradient and direction, and counters."""

    inv_hessian: jax.Array
    prev_params: jax.Array
    prev_grad: jax.Array
    prev_dir: jax.Array
    fresh: jax.Array  # H is still the initial identity (no update yet)
    count: jax.Array
    resets: jax.Array
    skips: jax.Array


def hessian_bytes(n: int, dtype=jnp.float64) -> int:
    """Bytes of one dense n x n inverse Hessian."""
    return int(n) * int(n) * jnp.dtype(dtype).itemsize


def scaling(variant: str, b, h, n: int):
    """``(tau, phi)`` of one update of the (self-scaled) Broyden family (formulas in the module docstring)."""
    one = jnp.ones_like(b)
    if variant == "bfgs":
        return one, one
    tau1 = jnp.minimum(1.0, 1.0 / b)
    if variant == "ssbfgs":
        return tau1, one
    if variant != "ssbroyden":
        raise ValueError(f"variant={variant!r}; choose one of {', '.join(DENSE_VARIANTS)}")
    tiny = jnp.finfo(b.dtype).eps
    a = jnp.maximum(b * h - 1.0, tiny)  # >= 0 by Cauchy-Schwarz; 0 only when H y is parallel to s
    c = jnp.sqrt(a / (1.0 + a))
    rho = jnp.minimum(1.0, h * (1.0 - c))
    theta = jnp.maximum((rho - 1.0) / a, jnp.minimum(1.0 / rho, (1.0 - b) / b))
    sigma = 1.0 + a * theta
    sig_pow = sigma ** (-1.0 / max(n - 1, 1))
    tau = jnp.where(theta > 0, tau1 * jnp.minimum(sig_pow, 1.0 / jnp.where(theta > 0, theta, 1.0)),
                    jnp.minimum(tau1 * sig_pow, sigma))
    phi = (1.0 - theta) / (1.0 + a * theta)
    return tau, phi


def scale_by_dense_bfgs(variant: Variant = "bfgs") -> optax.GradientTransformationExtraArgs:
    """The quasi-Newton direction ``-H g`` with ``H`` updated by ``variant`` (see the module docstring).

    ``update(grad, state, params)`` needs ``params``; extra keyword arguments (the line search's) are ignored.
    """
    if variant not in DENSE_VARIANTS:
        raise ValueError(f"variant={variant!r}; choose one of {', '.join(DENSE_VARIANTS)}")

    def init_fn(params):
        flat, _ = ravel_pytree(params)
        n = flat.size
        zeros = jnp.zeros_like(flat)
        i32 = jnp.zeros((), jnp.int32)
        return DenseQNState(jnp.eye(n, dtype=flat.dtype), zeros, zeros, zeros, jnp.array(True), i32, i32, i32)

    def update_fn(updates, state: DenseQNState, params=None, **extra):
        del extra
        if params is None:
            raise ValueError("scale_by_dense_bfgs needs params in update()")
        g, unravel = ravel_pytree(updates)
        x, _ = ravel_pytree(params)
        g = g.astype(state.inv_hessian.dtype)
        x = x.astype(state.inv_hessian.dtype)
        n = g.size
        eps = jnp.finfo(g.dtype).eps
        tiny = jnp.finfo(g.dtype).tiny
        s, y = x - state.prev_params, g - state.prev_grad
        ys, yy = y @ s, y @ y
        curved = (state.count > 0) & (ys > eps * jnp.linalg.norm(s) * jnp.sqrt(yy)) & jnp.isfinite(ys)
        gamma = jnp.where(curved, ys / jnp.where(curved, yy, 1.0), 1.0)  # (y.s / y.y): the scaled identity

        def updated(H):
            H = jax.lax.cond(state.fresh, lambda: gamma * jnp.eye(n, dtype=g.dtype), lambda: H)
            HyHg = H @ jnp.stack([y, g], axis=1)
            Hy, Hg = HyHg[:, 0], HyHg[:, 1]
            yHy = y @ Hy
            # s^T B s for B = H^-1: the step came from d = -H g_prev, so B s = -alpha g_prev
            d0 = state.prev_dir
            alpha = (s @ d0) / jnp.maximum(d0 @ d0, tiny)
            sBs = jnp.where(state.fresh, (s @ s) / gamma, -alpha * (s @ state.prev_grad))
            b = jnp.maximum(sBs / ys, tiny)
            h = yHy / ys
            tau, phi = scaling(variant, b, h, n)
            # (1/tau)[H + (phi - 1) Hy Hy^T / yHy + phi yHy/ys^2 s s^T - phi/ys (s Hy^T + Hy s^T)] + s s^T / ys
            c_hh = (phi - 1.0) / yHy
            c_ss = phi * yHy / ys**2
            c_sh = -phi / ys
            H_new = (H + c_hh * jnp.outer(Hy, Hy) + c_ss * jnp.outer(s, s)
                     + c_sh * (jnp.outer(s, Hy) + jnp.outer(Hy, s))) / tau + jnp.outer(s, s) / ys
            hg, sg = Hy @ g, s @ g
            Hg_new = (Hg + c_hh * hg * Hy + c_ss * sg * s + c_sh * (hg * s + sg * Hy)) / tau + sg * s / ys
            ok = (yHy > 0) & jnp.isfinite(tau) & jnp.isfinite(phi) & (tau > 0)
            return H_new, Hg_new, ok

        def kept(H):
            return H, H @ g, jnp.array(True)

        H, Hg, ok = jax.lax.cond(curved, updated, kept, state.inv_hessian)
        d = -Hg
        gd = g @ d
        lost = ~ok | ~jnp.all(jnp.isfinite(d)) | jnp.any(jnp.diagonal(H) <= 0)
        reset = (lost | ~(gd < 0)) & (jnp.sqrt(yy) + jnp.linalg.norm(g) > 0)
        H, d = jax.lax.cond(reset, lambda: (gamma * jnp.eye(n, dtype=g.dtype), -gamma * g), lambda: (H, d))
        new = DenseQNState(
            inv_hessian=H, prev_params=x, prev_grad=g, prev_dir=d,
            fresh=jnp.where(reset, ~curved, state.fresh & ~(curved & ok)),  # a reset to I (no valid pair) is fresh
            count=optax.safe_increment(state.count),
            resets=state.resets + reset.astype(jnp.int32),
            skips=state.skips + ((state.count > 0) & ~curved).astype(jnp.int32))
        return unravel(d.astype(jnp.result_type(*jax.tree_util.tree_leaves(updates)))), new

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def dense_quasi_newton(variant: Variant, linesearch: optax.GradientTransformationExtraArgs
                       ) -> optax.GradientTransformationExtraArgs:
    """``variant``'s direction followed by the line search (pass ``value``, ``grad`` and ``value_fn`` to
    ``update``, as for ``optax.lbfgs``)."""
    return optax.chain(scale_by_dense_bfgs(variant), linesearch)


def dense_state(opt_state) -> DenseQNState | None:
    """The :class:`DenseQNState` inside an optimizer state, or None."""
    for leaf in jax.tree_util.tree_leaves(opt_state, is_leaf=lambda x: isinstance(x, DenseQNState)):
        if isinstance(leaf, DenseQNState):
            return leaf
    return None


def dense_meta(opt_state) -> dict:
    """What a phase's record says about its dense inverse Hessian: size, memory, resets and skipped pairs."""
    st = dense_state(opt_state)
    if st is None:
        return {}
    n = int(st.inv_hessian.shape[0])
    mb = hessian_bytes(n, st.inv_hessian.dtype) / 1e6
    return {"n_params": n, "inverse_hessian": f"dense {n} x {n} = {mb:.1f} MB",
            "hessian_resets": int(st.resets), "skipped_updates": int(st.skips)}
