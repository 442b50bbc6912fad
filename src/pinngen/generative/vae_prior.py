"""A learned flow prior for the VAE: ``p(z)`` is a normalizing flow over the latent space instead of N(0, I).

The lecture's "VAE with a learned prior": the encoder's aggregate posterior ``q(z) = E_x q(z|x)`` rarely
looks like the fixed N(0, I) the standard VAE asks it to match, and the gap costs nats in the ELBO (Hoffman &
Johnson 2016, "ELBO surgery"). A flow prior ``p(z) = N(f^{-1}(z); 0, I) |det d f^{-1}/dz|`` can follow the
aggregate posterior, so for the same encoder and decoder the bound tightens (Chen et al. 2017, "Variational
lossy autoencoder", Sec. 2.3; Tomczak & Welling 2018 for learned priors in general).

The flow comes from FlowJAX (``flowjax.flows``) over ``latent_dim`` with a standard normal base:

* ``realnvp``: affine coupling layers (Dinh et al. 2017) with a random permutation between layers;
* ``maf``: masked autoregressive layers (Papamakarios et al. 2017), affine transformer; one network pass
  for ``log_prob`` (what training needs), ``latent_dim`` sequential passes per layer for sampling;
* ``nsf``: coupling layers with rational-quadratic splines on ``[-interval, interval]`` (Durkan et al.
  2019), identity outside it.

Every conditioner's last layer starts at zero, so each layer starts as the identity and the whole flow as a
fixed permutation of the coordinates: ``p(z) = N(0, I)`` exactly, and the VAE starts as the one with the
Gaussian prior. The flow is trained jointly with the encoder and decoder (its parameters are ordinary leaves
of the VAE module).

KL term. No closed form exists, so the VAE's ``kl`` term becomes the one-draw Monte-Carlo estimate
``log q(z|x) - log p(z)`` at the same reparameterised ``z`` the reconstruction uses (an unbiased estimate of
``KL(q(z|x) || p(z))``). For a diagonal Gaussian ``q`` its gradient equals that of ``-H[q] - log p(z)`` (the
``eps^2`` part of ``log q`` does not depend on the parameters), and its value is exactly 0 wherever the
posterior equals the prior, so ``diagnose()``'s KL-collapse check still reads it.
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinngen.generative import likelihood as L

FLOWS = ("realnvp", "maf", "nsf")


class FlowPriorConfig(BaseModel):
    """``model.flow_prior`` of the ``vae`` kind (used when ``model.prior: flow``)."""

    model_config = ConfigDict(extra="forbid")
    flow: Literal["realnvp", "maf", "nsf"] = Field("maf", description="flow family (FlowJAX)")
    layers: int = Field(4, ge=1, description="flow layers (each followed by a permutation)")
    width: int = Field(128, ge=1, description="hidden width of each layer's conditioner network")
    depth: int = Field(1, ge=0, description="hidden layers of each conditioner network")
    knots: int = Field(8, ge=2, description="nsf: spline knots")
    interval: float = Field(4.0, gt=0.0, description="nsf: the splines act on [-interval, interval]")


def spec_of(cfg: FlowPriorConfig) -> dict:
    """The JSON-serialisable settings :func:`make_prior` rebuilds the prior from."""
    return cfg.model_dump()


class FlowPrior(eqx.Module):
    """A FlowJAX flow over ``R^latent_dim`` with a N(0, I) base, used as the VAE's prior.

    Args (keyword-only, except ``latent_dim``): see :class:`FlowPriorConfig`; ``key`` draws the initial
    conditioner weights and the permutations; ``dtype`` the floating type of the parameters.
    """

    flow: eqx.Module  # flowjax.distributions.Transformed
    latent_dim: int = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    layers: int = eqx.field(static=True)

    def __init__(self, latent_dim: int, *, flow: str = "maf", layers: int = 4, width: int = 128, depth: int = 1,
                 knots: int = 8, interval: float = 4.0, key, dtype=jnp.float32):
        from pinngen.generative.flows.vector import build_vector_flow

        if flow not in FLOWS:
            raise ValueError(f"flow={flow!r}; choose one of {list(FLOWS)}")
        if latent_dim < 2:
            raise ValueError(f"latent_dim={latent_dim}: a flow prior needs at least 2 latent units (one unit: use "
                             "model.prior=gaussian)")
        settings = dict(flow=flow, layers=int(layers), width=int(width), depth=int(depth), knots=int(knots),
                        interval=float(interval), zero_init=True)
        self.flow = build_vector_flow(int(latent_dim), settings, key, dtype=dtype).dist
        self.latent_dim, self.kind, self.layers = int(latent_dim), flow, int(layers)

    def log_prob(self, z):
        """``log p(z)`` in nats for ``z`` (..., latent) -> (...)."""
        z = jnp.asarray(z)
        flat = z.reshape(-1, self.latent_dim)
        return self.flow.log_prob(flat).reshape(z.shape[:-1])

    def sample(self, n: int, key, dtype=jnp.float32):
        """``n`` draws (n, latent): ``z = f(u)``, ``u ~ N(0, I)`` drawn with ``jax.random.normal(key, ...)``."""
        u = jax.random.normal(key, (n, self.latent_dim), dtype)
        return jax.vmap(self.flow.bijection.transform)(u)

    def to_base(self, z):
        """``u = f^{-1}(z)`` (n, latent): where codes land in the base space."""
        return jax.vmap(self.flow.bijection.inverse)(jnp.asarray(z))

    def from_base(self, u):
        """``z = f(u)`` (n, latent)."""
        return jax.vmap(self.flow.bijection.transform)(jnp.asarray(u))

    def kl(self, mean, log_var, z):
        """One-draw Monte-Carlo ``KL(q(z|x) || p(z))`` per image: ``log q(z|x) - log p(z)`` at draws ``z``."""
        return L.gaussian_log_density(z, mean, log_var) - self.log_prob(z)

    def describe(self) -> str:
        return f"{self.kind} flow ({self.layers} layers)"


def make_prior(settings: dict | None, latent_dim: int, *, key, dtype=jnp.float32) -> FlowPrior | None:
    """The prior a VAE spec names: ``None`` (standard normal) or a :class:`FlowPrior` from its settings."""
    if settings is None:
        return None
    return FlowPrior(latent_dim, **settings, key=key, dtype=dtype)


# ------------------------------------------------------------------------------------------------ report


def prior_name(model) -> str:
    """``"gaussian"`` or ``"flow"``: what the summary's ``prior`` says."""
    return "gaussian" if getattr(model, "prior", None) is None else "flow"


def prior_report(model, codes) -> tuple[dict, list[str]]:
    """Summary entries and notes about the prior, from posterior means ``codes`` (n, latent) of test images.

    For a flow prior: the round trip ``f(f^{-1}(z))`` on the codes (a flow that lost invertibility makes
    every bound wrong) and the codes' average log density under the prior and under N(0, I).
    """
    prior = getattr(model, "prior", None)
    if prior is None:
        return {"prior": "gaussian"}, ["Prior: the standard normal N(0, I); the KL term is in closed form."]
    codes = jnp.asarray(codes)
    err = float(jnp.max(jnp.abs(prior.from_base(prior.to_base(codes)) - codes)))
    lp_flow = float(jnp.mean(prior.log_prob(codes)))
    zero = jnp.zeros_like(codes)
    lp_gauss = float(jnp.mean(L.gaussian_log_density(codes, zero, zero)))
    summary = {"prior": "flow", "prior_flow": prior.kind, "prior_layers": prior.layers,
               "prior_inverse_error": err, "prior_log_prob_codes": lp_flow, "normal_log_prob_codes": lp_gauss}
    notes = [f"Prior: a learned {prior.describe()} over the {prior.latent_dim} latent units (FlowJAX, standard "
             "normal base), trained with the encoder and decoder; the KL term is a one-draw Monte-Carlo estimate "
             f"log q(z|x) - log p(z). The test codes (posterior means) average {lp_flow:.1f} nats under the flow "
             f"prior and {lp_gauss:.1f} under N(0, I)."]
    if not np.isfinite(err) or err > 1e-3:
        notes.append(f"The flow prior's round trip f(f^-1(z)) misses the test codes by up to {err:.2g}: it has lost "
                     "numerical invertibility there, so its log p(z) (and the bounds) are not trustworthy; lower "
                     "the learning rate or use fewer flow layers.")
    return summary, notes


def plot_latent_prior(model, codes, key, path) -> None:
    """Prior draws against the posterior means of test images in the two latent units whose codes vary most:
    where the prior puts mass the encoder never uses, the KL term pays for it."""
    from pinngen.generative import vae as V
    from pinngen.report.draw import new_figure, save_png

    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] < 2 or len(codes) < 2:
        return
    a, b = (int(i) for i in np.argsort(-np.var(codes, axis=0))[:2])
    draws = np.asarray(V.draw_prior(model, len(codes), key))
    fig = new_figure(8.0, 4.0)
    left, right = fig.subplots(1, 2, sharex=True, sharey=True)
    name = "N(0, I)" if model.prior is None else model.prior.describe()
    for ax, pts, title, color in ((left, codes, f"posterior means of {len(codes)} test images", "#1f77b4"),
                                  (right, draws, f"{len(draws)} draws from the prior, {name}", "#d62728")):
        ax.scatter(pts[:, a], pts[:, b], s=2, alpha=0.5, color=color)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(f"z[{a}]")
        ax.set_ylabel(f"z[{b}]")
    fig.suptitle("Latent space: codes against the prior (the two most varying units)", fontsize=11)
    save_png(fig, path)
