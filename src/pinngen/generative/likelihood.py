"""Likelihoods of quantised images: observation models, the ELBO and importance-sampled bounds, bits/dim,
and an independent per-pixel histogram baseline.

The data model (read this before quoting bits/dim)
--------------------------------------------------
Images are ``L``-level integers (``L = 256`` for 8-bit data; ``L = 17`` for the vendored 8x8 digits,
whose pixels are 0..16). The library hands them around as intensities ``x = pixel / (L - 1)`` in [0, 1]
(what :meth:`pinngen.data.ImageData.as_float` returns); :func:`to_levels` recovers the integers. A
bits/dim figure is ``-log2 P(pixels) / D`` for a probability mass function ``P`` over the ``L^D`` possible
images, which is what the histogram baseline reports, so only these observation models give one:

* ``logistic``: a discretised logistic per pixel (Salimans et al. 2017, PixelCNN++, Eq. 2 with one
  component): bin ``k`` has mass ``sigma((c_k + h - mu)/s) - sigma((c_k - h - mu)/s)`` with centre
  ``c_k = k / (L - 1)``, half-width ``h = 1 / (2 (L - 1))``, and the two end bins take the tails. A proper
  distribution over the ``L`` levels, so its likelihood needs no correction.
* ``gaussian``: a Gaussian density on uniformly *dequantised* data ``y = (pixel + u) / L``, ``u ~ U[0, 1)``
  (Theis, van den Oord & Bethge 2016). With the change of variables to the integers,
  ``log P(pixel) >= E_u[log p(y)] - D log L``: a lower bound on a proper discrete likelihood (the Gaussian's
  mass outside [0, 1] only loosens it). Each evaluation draws ``u`` once per image.
* ``bernoulli``: a Bernoulli cross-entropy on the intensities. It is a likelihood only of binary data
  (``L = 2``); on 8-bit intensities it is a training objective, not a density, and :func:`likelihood_bounds`
  refuses to turn it into bits/dim.

Bounds (nats per image; the experiment reports their negatives): the ELBO
``E_q[log p(x|z) + log p(z) - log q(z|x)]`` and the importance-weighted bound of Burda, Grosse &
Salakhutdinov 2016 (Eq. 8): ``IWAE_k = E[log (1/k) sum_i w_i]``, ``w_i = p(x, z_i) / q(z_i | x)``, with
``log p(x) >= IWAE_k >= IWAE_1 = ELBO`` and ``IWAE_k`` non-decreasing in ``k`` (their Theorem 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.batched import batched_apply

LN2 = math.log(2.0)
LOG_2PI = math.log(2.0 * math.pi)
OBSERVATIONS = ("logistic", "gaussian", "bernoulli")


def to_levels(x, levels: int):
    """Intensities in [0, 1] -> integer levels 0..levels-1 (same shape), rounding to the nearest level."""
    return jnp.clip(jnp.round(jnp.asarray(x) * (levels - 1)), 0, levels - 1)


def bits_per_dim(nats_per_image, dims: int):
    """Nats per image -> bits per dimension: ``nats / (D ln 2)``."""
    return nats_per_image / (dims * LN2)


def log_mean_exp(a, axis: int = 0):
    """``log mean exp(a)`` along ``axis``, stable for any magnitude (max-shifted logsumexp)."""
    return jax.scipy.special.logsumexp(a, axis=axis) - math.log(a.shape[axis])


# ------------------------------------------------------------------------------------ observation models


def discretized_logistic_log_prob(loc, log_scale, pixels, levels: int):
    """Log mass of integer ``pixels`` (..., D) under one discretised logistic per pixel; summed -> (...).

    ``loc`` and ``log_scale`` are on the intensity scale [0, 1]. Interior bins use the exact identity
    ``sigma(a) - sigma(b) = sigma(a) (1 - sigma(b)) (1 - exp(-(a - b)))`` in log space, finite for any
    logits (no subtraction of nearly equal CDFs).
    """
    inv_s = jnp.exp(-log_scale)
    half = 0.5 / (levels - 1)
    centre = pixels / (levels - 1)
    upper = (centre + half - loc) * inv_s  # a
    lower = (centre - half - loc) * inv_s  # b
    log_cdf_upper = jax.nn.log_sigmoid(upper)
    log_sf_lower = jax.nn.log_sigmoid(-lower)
    interior = log_cdf_upper + log_sf_lower + jnp.log(-jnp.expm1(-(2.0 * half) * inv_s))
    logp = jnp.where(pixels <= 0, log_cdf_upper, jnp.where(pixels >= levels - 1, log_sf_lower, interior))
    return jnp.sum(logp, axis=-1)


def gaussian_log_density(y, mean, log_var):
    """``sum_d log N(y_d; mean_d, exp(log_var_d))`` over the last axis."""
    return -0.5 * jnp.sum(LOG_2PI + log_var + (y - mean) ** 2 * jnp.exp(-log_var), axis=-1)


def dequantized_gaussian_log_prob(mean, log_var, pixels, u, levels: int):
    """``log p(y) - D log L`` at ``y = (pixels + u) / L``: a lower bound (over ``u``) on log P(pixels)."""
    y = (pixels + u) / levels
    return gaussian_log_density(y, mean, log_var) - pixels.shape[-1] * math.log(levels)


def bernoulli_log_prob(logits, target):
    """``sum_d [t log sigma(l) + (1 - t) log sigma(-l)]`` = ``t l - softplus(l)``, exact for any logit."""
    return jnp.sum(target * logits - jax.nn.softplus(logits), axis=-1)


def standard_normal_kl(mean, log_var):
    """Closed-form ``KL(N(mean, diag exp(log_var)) || N(0, I))`` per sample (Kingma & Welling 2014, App. B)."""
    return 0.5 * jnp.sum(jnp.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)


# ------------------------------------------------------------------------------------------------ bounds


@dataclass(frozen=True)
class LikelihoodBounds:
    """Per-image negative bounds in nats (``neg_elbo >= neg_iwae >= -log p(pixels)``) on ``dims`` pixels."""

    neg_elbo: np.ndarray  # (n,)
    neg_iwae: np.ndarray  # (n,)
    k: int
    dims: int

    def summary(self) -> dict[str, float]:
        n = len(self.neg_elbo)

        def sem(a):  # standard error of the mean over test images
            return float(np.std(a, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")

        e, w = float(np.mean(self.neg_elbo)), float(np.mean(self.neg_iwae))
        return {"neg_elbo_nats": e, "neg_elbo_bpd": bits_per_dim(e, self.dims),
                "neg_elbo_nats_sem": sem(self.neg_elbo),
                "nll_is_nats": w, "nll_is_bpd": bits_per_dim(w, self.dims),
                "nll_is_nats_sem": sem(self.neg_iwae), "is_samples": self.k, "n_images": n}


def _log_weights(model, sizes: tuple[int, ...], x, key):
    """``log w`` (batch, k) of ``k = sum(sizes)`` posterior draws per image, drawn in chunks of ``sizes``.

    The data noise (``data_key``) is drawn once per image and shared by all its draws."""
    bkey, data_key = jax.random.split(key)
    logw = [model.log_weights(x, jax.random.fold_in(bkey, c), s, data_key=data_key) for c, s in enumerate(sizes)]
    return jnp.concatenate(logw, axis=0).T  # (batch, k)


def likelihood_bounds(model, x, key, *, k: int = 100, batch_size: int = 100,
                      max_elements: int = 2_000_000) -> LikelihoodBounds:
    """Test ELBO and ``IWAE_k`` bound of ``model`` on intensities ``x`` (n, ...), per image.

    ``model.log_weights(x, key, n, data_key=...)`` must return ``log w`` (n, batch) for ``n`` posterior
    draws per image; any data noise (dequantisation) is drawn from ``data_key`` once per image and shared
    by its ``k`` draws. Memory is bounded by evaluating ``batch_size`` images at a time
    (:func:`pinngen.core.batched.batched_apply`; the last batch is padded, so one compile serves all) and
    the ``k`` draws in chunks of at most ``max_elements / (batch_size * D)``. The ELBO is estimated from
    the same draws as the mean of ``log w``, so ``neg_iwae <= neg_elbo`` holds per image (Jensen), not only
    on average.
    """
    if k < 1:
        raise ValueError(f"k={k}: the number of importance samples must be >= 1")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}: must be >= 1")
    x = np.asarray(x, np.float32)
    dims = int(np.prod(x.shape[1:]))
    chunk = int(max(1, min(k, max_elements // max(batch_size * dims, 1))))
    sizes = (chunk,) * (k // chunk) + ((k % chunk,) if k % chunk else ())
    logw = batched_apply(_log_weights, x, args=(model, sizes), batch_size=batch_size, key=key)  # (n, k)
    logw = np.asarray(logw, np.float64)
    neg_elbo = -np.mean(logw, axis=1)
    neg_iwae = -np.asarray(log_mean_exp(jnp.asarray(logw), axis=1), np.float64)
    return LikelihoodBounds(neg_elbo, neg_iwae, k, dims)


# ---------------------------------------------------------------------------------- histogram baseline


class PixelHistogram:
    """Independent per-pixel model: each pixel's empirical distribution over ``levels`` values, smoothed
    by adding ``alpha`` to every count (``alpha = 1``: Laplace's add-one rule). Plain NumPy, sharing no code
    with the networks, so it is an independent yardstick: a model that does not beat it in bits/dim has
    learned nothing about how pixels depend on each other."""

    def __init__(self, levels: int = 256, alpha: float = 1.0):
        if levels < 2:
            raise ValueError(f"levels={levels}: need at least 2 levels")
        if alpha <= 0:
            raise ValueError(f"alpha={alpha}: the smoothing count must be > 0 (else unseen values get log 0)")
        self.levels, self.alpha = int(levels), float(alpha)
        self.log_p: np.ndarray | None = None  # (D, levels)

    def fit(self, pixels) -> PixelHistogram:
        """``pixels``: integers 0..levels-1, (n, ...) with n >= 1 images."""
        p = self._check(pixels)
        n, dims = p.shape
        flat = (np.arange(dims)[None, :] * self.levels + p).ravel()
        counts = np.bincount(flat, minlength=dims * self.levels).reshape(dims, self.levels)
        self.log_p = np.log(counts + self.alpha) - np.log(n + self.alpha * self.levels)
        return self

    def log_prob(self, pixels) -> np.ndarray:
        """Log probability (nats) of each image: (n,)."""
        if self.log_p is None:
            raise ValueError("PixelHistogram: call fit(train_pixels) before log_prob")
        p = self._check(pixels)
        if p.shape[1] != self.log_p.shape[0]:
            raise ValueError(f"images have {p.shape[1]} pixels; the histogram was fitted on {self.log_p.shape[0]}")
        return self.log_p[np.arange(p.shape[1])[None, :], p].sum(axis=1)

    def bits_per_dim(self, pixels) -> float:
        lp = self.log_prob(pixels)
        return float(-np.mean(lp) / (self.log_p.shape[0] * LN2))

    def _check(self, pixels) -> np.ndarray:
        a = np.asarray(pixels)
        if a.ndim < 2 or len(a) == 0:
            raise ValueError(f"pixels have shape {a.shape}; expected (n, ...) with n >= 1")
        if np.issubdtype(a.dtype, np.floating):
            if not np.all(a == np.round(a)):
                raise ValueError("pixels must be integer levels (e.g. uint8), not intensities in [0, 1]")
        a = a.reshape(len(a), -1).astype(np.int64)
        if a.min() < 0 or a.max() >= self.levels:
            raise ValueError(f"pixel values span [{a.min()}, {a.max()}]; expected 0..{self.levels - 1}")
        return a


def histogram_baseline(train_pixels, test_pixels, levels: int = 256, alpha: float = 1.0) -> dict[str, float]:
    """Fit :class:`PixelHistogram` on ``train_pixels`` and score ``test_pixels``: nats/image and bits/dim."""
    h = PixelHistogram(levels, alpha).fit(train_pixels)
    lp = h.log_prob(test_pixels)
    dims = h.log_p.shape[0]
    return {"nll_nats": float(-np.mean(lp)), "bpd": float(-np.mean(lp) / (dims * LN2))}
