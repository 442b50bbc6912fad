"""What a GAN run measures every ``eval_every`` steps (``metric/<name>`` in its history), for the diagnosis.

A GAN's losses do not say whether it is learning (the players pull against each other), so the run tracks what
the diagnosis (:mod:`pinngen.generative.gan_checks`) needs, on fixed latents and fixed real samples:

* ``d_acc_real`` / ``d_acc_fake``: the share of real samples the discriminator calls real (logit > 0) and of
  generated ones it calls fake: both near 1 means the discriminator wins outright;
* ``diversity``: mean pairwise distance between generated samples over that between real ones (model space);
  far below 1 means the samples are copies of a few (mode collapse);
* a progress measure, lower is better: ``fd_features`` (images of a built-in set: the Fréchet distance in the
  project's feature-classifier space, :mod:`pinngen.generative.sample_metrics`, at the tracking N, so larger
  than at the final N), ``fd_pixels`` (other images: in the space of <= 8x8 average-pooled pixels) or
  ``energy`` (vectors: the energy distance to held-out data, Székely & Rizzo 2013);
* images of a built-in set: ``min_class_ratio`` (the least produced class's share of the samples over its share
  of the data, by the classifier's argmax) and ``classes_missing`` (classes under a fifth of their data share);
* ``eight_gaussians``: ``modes_covered`` (modes holding at least a fifth of their share within 3 standard
  deviations) and ``good_share`` (the samples within 3 standard deviations of some mode).
"""

from __future__ import annotations

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pinngen.generative import diffusion_data as D

log = logging.getLogger(__name__)

__all__ = ["EIGHT_GAUSSIANS", "energy_distance", "make_tracker", "mode_coverage", "progress_metric"]

#: eight_gaussians (diffusion_data.toy_points): centres on a circle of radius 2, standard deviation 0.1
EIGHT_GAUSSIANS = dict(centres=2.0 * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)],
                                              1), std=0.1)
_SHARE_FLOOR = 0.2  # a class / mode under this fraction of its expected share counts as missing


def _pairwise_mean(a: np.ndarray) -> float:
    sq = np.sum(a * a, 1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * a @ a.T, 0.0)
    n = len(a)
    return float(np.sum(np.sqrt(d2)) / max(n * (n - 1), 1))


def _cross_mean(a: np.ndarray, b: np.ndarray) -> float:
    d2 = np.maximum(np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2.0 * a @ b.T, 0.0)
    return float(np.mean(np.sqrt(d2)))


def energy_distance(x, y) -> float:
    """``2 E|X - Y| - E|X - X'| - E|Y - Y'|`` (pairs of distinct points within a set), 0 for equal laws."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return 2.0 * _cross_mean(x, y) - _pairwise_mean(x) - _pairwise_mean(y)


def mode_coverage(points, centres, std: float, *, floor: float = _SHARE_FLOOR) -> tuple[int, float]:
    """``(modes covered, share of good samples)``: a point is good within ``3 std`` of a centre; a mode is
    covered when it holds at least ``floor`` times its equal share of the points."""
    p, c = np.asarray(points, np.float64), np.asarray(centres, np.float64)
    d = np.sqrt(np.sum((p[:, None, :] - c[None]) ** 2, -1))  # (n, modes)
    near = d.min(1) <= 3.0 * std
    counts = np.bincount(d.argmin(1)[near], minlength=len(c))
    return int(np.sum(counts >= floor * len(p) / len(c))), float(np.mean(near))


def progress_metric(data: D.DiffusionData, classifier) -> str:
    """The tracked progress measure's name for this data (lower is better)."""
    if data.kind == "vector":
        return "energy"
    return "fd_features" if classifier is not None else "fd_pixels"


def _pooled(images: np.ndarray) -> np.ndarray:
    """``(n, H, W, C)`` -> average-pooled to at most 8x8 per channel, flattened."""
    n, h, w, c = images.shape
    f = max(1, int(np.ceil(max(h, w) / 8)))
    hh, ww = h // f * f, w // f * f
    x = images[:, :hh, :ww].reshape(n, hh // f, f, ww // f, f, c).mean(axis=(2, 4))
    return x.reshape(n, -1)


@eqx.filter_jit
def _play(model, z, y, x_real):
    fake = model.generate(z, y)
    return fake, model.discriminate(x_real, y), model.discriminate(fake, y)


def make_tracker(spec: dict, data: D.DiffusionData, *, n: int, seed: int, classifier=None):
    """``metrics_fn(model) -> {name: float}`` over ``n`` fixed latents and ``n`` fixed real samples (module
    docstring); ``classifier`` is the data set's :class:`~pinngen.generative.sample_metrics.FeatureClassifier`
    or None."""
    from pinngen.generative.sample_metrics import frechet_distance, gaussian_stats

    rng = np.random.default_rng(seed + 4321)
    pool_x, pool_y = (data.x_val, data.y_val) if len(data.x_val) >= n else (data.x_train, data.y_train)
    idx = rng.choice(len(pool_x), min(n, len(pool_x)), replace=False)
    x_real = jnp.asarray(pool_x[idx])
    k = spec["num_classes"]
    y = jnp.asarray(pool_y[idx], jnp.int32) if k else None
    z = jax.random.normal(jax.random.PRNGKey(seed + 4321), (len(idx), spec["latent_dim"]), x_real.dtype)
    real_np = np.asarray(x_real, np.float64).reshape(len(idx), -1)
    sub = slice(0, min(256, len(idx)))
    real_spread = _pairwise_mean(real_np[sub])
    progress = progress_metric(data, classifier)
    ref = None
    if progress == "fd_features":
        real_img = data.raw_train[rng.choice(len(data.raw_train), min(n, len(data.raw_train)), replace=False)]
        ref = gaussian_stats(classifier.features(real_img.reshape((len(real_img), *classifier.image_shape))))
        shares = np.bincount(np.asarray(data.y_train), minlength=len(classifier.classes)) / len(data.y_train)
    elif progress == "fd_pixels":
        ref = gaussian_stats(_pooled(np.asarray(data.x_train[rng.choice(len(data.x_train), min(n, len(
            data.x_train)), replace=False)], np.float64)))
    held = np.asarray(data.x_test[: max(n, 2)], np.float64) if data.kind == "vector" else None
    toy = data.dataset == "eight_gaussians"

    def metrics_fn(model) -> dict:
        fake, real_logits, fake_logits = _play(model, z, y, x_real)
        fake = np.asarray(fake, np.float64)
        out = {"d_acc_real": float(np.mean(np.asarray(real_logits) > 0)),
               "d_acc_fake": float(np.mean(np.asarray(fake_logits) < 0))}
        if not np.all(np.isfinite(fake)):
            return {**out, "non_finite_samples": float(np.mean(~np.isfinite(fake)))}
        flat = fake.reshape(len(fake), -1)
        out["diversity"] = _pairwise_mean(flat[sub]) / max(real_spread, 1e-12)
        if progress == "energy":
            out["energy"] = energy_distance(flat, held)
            if toy:
                pts = D.from_model_space(fake, spec)
                out["modes_covered"], out["good_share"] = mode_coverage(pts, EIGHT_GAUSSIANS["centres"],
                                                                        EIGHT_GAUSSIANS["std"])
        elif progress == "fd_features":
            images = D.from_model_space(fake, spec).reshape((len(fake), *classifier.image_shape))
            feats = classifier.features(images)
            out["fd_features"] = frechet_distance(*gaussian_stats(feats), *ref)
            got = np.bincount(classifier.classify_features(feats), minlength=len(shares)) / len(feats)
            ratio = np.where(shares > 0, got / np.maximum(shares, 1e-12), np.inf)
            out["min_class_ratio"] = float(np.min(ratio))
            out["classes_missing"] = float(np.sum(ratio < _SHARE_FLOOR))
        else:
            out["fd_pixels"] = frechet_distance(*gaussian_stats(_pooled(fake)), *ref)
        return out

    info = {"progress": progress, "track_n": int(len(idx)), "modes": 8 if toy else None,
            "classes": len(classifier.classes) if progress == "fd_features" else None}
    return metrics_fn, info
