"""GAN objectives as named loss terms: the discriminator's ``d_real`` and ``d_fake`` (and ``r1``), the
generator's ``g_adv``.

All losses read the discriminator's raw output ``l`` (a logit; ``D = sigmoid(l)``):

* ``minimax`` (Goodfellow et al. 2014, Eq. 1): the discriminator minimises ``-log D(x) - log(1 - D(G(z)))``
  = ``softplus(-l_real) + softplus(l_fake)``; the generator minimises ``log(1 - D(G(z)))`` = ``-softplus(l_fake)``.
  Its gradient ``-sigmoid(l_fake)`` vanishes when the discriminator rejects the fakes confidently, which it
  does early in training: the generator *saturates*.
* ``non_saturating`` (same paper, Sec. 3): the generator minimises ``-log D(G(z))`` = ``softplus(-l_fake)``
  instead, whose gradient ``-sigmoid(-l_fake)`` is near -1 exactly there. The discriminator's loss is minimax's.
* ``hinge`` (Lim & Ye 2017; Miyato et al. 2018): discriminator ``relu(1 - l_real) + relu(1 + l_fake)``,
  generator ``-l_fake``; usually with spectral normalisation.

``r1`` (Mescheder et al. 2018, Eq. 9): ``E ||grad_x l(x)||^2`` on real data; its weight in the objective is
``gamma / 2`` (set by the kind from ``gan.r1_gamma``). Each term is a batch mean; the core's group updater
sums a player's terms (weighted) into its objective and differentiates it w.r.t. that player's parameters only.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["LOSSES", "TERMS", "discriminator_terms", "gan_terms", "generator_term", "r1_penalty"]

LOSSES = ("minimax", "non_saturating", "hinge")
#: the terms each player minimises
TERMS = {"discriminator": ("d_real", "d_fake"), "generator": ("g_adv",)}


def _check(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"gan loss {loss!r}; choose one of {', '.join(LOSSES)}")


def discriminator_terms(loss: str, real_logits, fake_logits) -> tuple[jax.Array, jax.Array]:
    """``(d_real, d_fake)``: the discriminator's loss on real and on generated samples (batch means)."""
    _check(loss)
    if loss == "hinge":
        return jnp.mean(jax.nn.relu(1.0 - real_logits)), jnp.mean(jax.nn.relu(1.0 + fake_logits))
    return jnp.mean(jax.nn.softplus(-real_logits)), jnp.mean(jax.nn.softplus(fake_logits))


def generator_term(loss: str, fake_logits) -> jax.Array:
    """``g_adv``: the generator's loss on its samples' logits (batch mean)."""
    _check(loss)
    if loss == "minimax":
        return -jnp.mean(jax.nn.softplus(fake_logits))
    if loss == "non_saturating":
        return jnp.mean(jax.nn.softplus(-fake_logits))
    return -jnp.mean(fake_logits)


def r1_penalty(discriminate, x, y=None) -> jax.Array:
    """``mean_i ||d l(x_i) / d x_i||^2``: the squared gradient norm of the logit at real samples ``x``."""

    def total(x):
        return jnp.sum(discriminate(x, y))

    g = jax.grad(total)(x)
    return jnp.mean(jnp.sum(g.reshape((g.shape[0], -1)) ** 2, axis=1))


def gan_terms(model, batch, key, *, loss: str = "non_saturating", r1: bool = False) -> dict:
    """The named terms of one minibatch ``batch = {"x": real (n, ...), "y": labels (n,) if conditional}``: fresh
    latents from ``key`` (each inner update of the group updater passes its own key), fakes conditioned on the
    real labels. Evaluating all terms in each player's update costs nothing extra under ``jit``: the terms a
    player does not minimise are dead code there."""
    x = batch["x"]
    y = batch.get("y") if model.num_classes else None
    fake = model.generate(model.latents(key, x.shape[0]).astype(x.dtype), y)
    real_logits, fake_logits = model.discriminate(x, y), model.discriminate(fake, y)
    d_real, d_fake = discriminator_terms(loss, real_logits, fake_logits)
    terms = {"d_real": d_real, "d_fake": d_fake, "g_adv": generator_term(loss, fake_logits)}
    if r1:
        terms["r1"] = r1_penalty(model.discriminate, x, y)
    return terms
