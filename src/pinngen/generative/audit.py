"""Per-class audits: is a model equally good for every class, and do its samples cover every class?

The lecture's warning: biased data gives biased models. Two checks make it measurable:

* :func:`per_class_reconstruction`: the reconstruction error per class of any model with ``reconstruct``
  (autoencoder, VAE): classes the model serves worse stand out.
* :func:`class_histogram`: generated samples classified by a small dense classifier that we train on the
  same data (:func:`train_classifier`, whose test accuracy says how far to trust the histogram);
  :func:`coverage` compares the histogram with the class frequencies of the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.batched import batched_apply, call_model
from pinngen.core.history import History
from pinngen.core.nn import MLP
from pinngen.data.splits import split_indices
from pinngen.generative.autoencoder import reconstruction_error
from pinngen.supervised.model import Supervised

__all__ = ["Classifier", "class_histogram", "classify", "coverage", "per_class_reconstruction",
           "train_classifier"]


@dataclass(frozen=True)
class Classifier:
    """A trained dense classifier of images ``(n, *image_shape)`` with pixels in [0, 1].

    ``accuracy`` is measured on held-out test images; ``history`` is its training History.
    """

    model: Supervised
    image_shape: tuple[int, ...]
    classes: tuple[str, ...]
    accuracy: float
    n_test: int
    history: History

    def probabilities(self, images) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``."""
        x = np.asarray(images, np.float32).reshape(len(images), -1)
        if x.shape[1] != int(np.prod(self.image_shape)):
            raise ValueError(f"images have {x.shape[1]} pixels; the classifier takes {self.image_shape}")
        return batched_apply(call_model, x, args=(self.model,), batch_size=2000)

    def __call__(self, images) -> jax.Array:
        """Class probabilities as a JAX function of images (differentiable: use it for saliency)."""
        x = jnp.asarray(images)
        return self.model(x.reshape(x.shape[0], -1))


def train_classifier(images, labels, *, test_images=None, test_labels=None,
                     classes: Sequence[str] | None = None, hidden: Sequence[int] = (128,), steps: int = 1000,
                     batch_size: int = 128, lr: float = 1e-3, test_fraction: float = 0.2,
                     seed: int = 0) -> Classifier:
    """Train a dense softmax classifier ``pixels - hidden (relu) - classes`` with Adam via ``core.train.fit``.

    Args:
        images: ``(n, *image_shape)`` floats in [0, 1]; labels ``(n,)`` ints ``0..k-1``.
        test_images, test_labels: held-out data for the reported accuracy; without them a stratified
            ``test_fraction`` of ``images`` is held out.
        classes: class names (default ``"0".."k-1"``).
    """
    from pinngen.core.train import fit

    x = np.asarray(images, np.float32)
    y = np.asarray(labels).astype(np.int32)
    if x.shape[0] != y.shape[0] or y.ndim != 1:
        raise ValueError(f"images {x.shape} and labels {y.shape} must have one label per image")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps={steps}, batch_size={batch_size}: both must be >= 1")
    if test_images is None:
        split = split_indices(len(y), val=0.0, test=test_fraction, seed=seed, stratify=y)
        x, y, xt, yt = x[split.train], y[split.train], x[split.test], y[split.test]
    else:
        xt, yt = np.asarray(test_images, np.float32), np.asarray(test_labels).astype(np.int32)
    k = int(max(y.max(), yt.max() if len(yt) else 0)) + 1 if classes is None else len(classes)
    names = tuple(classes) if classes is not None else tuple(str(i) for i in range(k))
    d = int(np.prod(x.shape[1:]))
    net = MLP(in_size=d, out_size=k, hidden=list(hidden), activation="relu", output_activation="softmax",
              key=jax.random.PRNGKey(seed))
    model = Supervised(net=net, loss="sparse_categorical_crossentropy")
    cfg = {"phases": [{"optimizer": "adam", "lr": lr, "steps": steps, "batch_size": min(batch_size, len(y))}],
           "eval_every": min(steps, 200), "progress": False}
    model, history = fit(model, {"x": x.reshape(len(x), -1), "y": y}, cfg, seed=seed)
    clf = Classifier(model, tuple(x.shape[1:]), names, float("nan"), len(yt), history)
    acc = float(np.mean(classify(clf, xt) == yt)) if len(yt) else float("nan")
    return Classifier(model, tuple(x.shape[1:]), names, acc, len(yt), history)


def classify(classifier: Classifier, images) -> np.ndarray:
    """Predicted class indices ``(n,)``."""
    return np.argmax(classifier.probabilities(images), axis=1)


def class_histogram(classifier: Classifier, samples) -> np.ndarray:
    """How many of ``samples`` ``(n, *image_shape)`` the classifier assigns to each class: ``(k,)`` ints
    summing to ``n``."""
    return np.bincount(classify(classifier, samples), minlength=len(classifier.classes))


def coverage(counts, reference_labels, classes: Sequence[str]) -> dict:
    """Class histogram of samples against the class frequencies of the data.

    Returns a report table (``title, columns, rows, note``) with per-class sample and data fractions and
    their ratio, plus ``total_variation`` (half the L1 distance of the two distributions: 0 = same,
    1 = disjoint) and ``missing`` (classes with no sample although the data has them).
    """
    counts = np.asarray(counts, np.float64)
    ref = np.bincount(np.asarray(reference_labels).astype(int), minlength=len(classes)).astype(np.float64)
    p = counts / max(counts.sum(), 1.0)
    q = ref / max(ref.sum(), 1.0)
    rows = [[classes[i], int(counts[i]), float(p[i]), float(q[i]), float(p[i] / q[i]) if q[i] else None]
            for i in range(len(classes))]
    tv = 0.5 * float(np.sum(np.abs(p - q)))
    missing = [classes[i] for i in range(len(classes)) if counts[i] == 0 and ref[i] > 0]
    return {"title": "Class histogram of generated samples", "rows": rows, "total_variation": tv,
            "missing": missing,
            "columns": ["class", "samples", "sample fraction", "data fraction", "ratio"],
            "note": f"total variation distance {tv:.3f} (0: same class mix as the data, 1: disjoint)"
                    + (f"; classes never generated: {', '.join(missing)}" if missing else "")}


def per_class_reconstruction(model, images, labels, *, classes: Sequence[str] | None = None,
                             metric: str = "mse", errors=None) -> list[dict]:
    """Per-class reconstruction error of any model with ``reconstruct``.

    Returns one dict per class present: ``class``, ``n``, ``error`` (mean), ``ratio`` (to the mean over all
    images; > 1 means the model serves this class worse than average), sorted worst first.
    """
    err = reconstruction_error(model, images, metric=metric) if errors is None else np.asarray(errors)
    y = np.asarray(labels).astype(int)
    overall = float(np.mean(err)) if len(err) else float("nan")
    out = []
    for c in np.unique(y):
        name = classes[c] if classes is not None and c < len(classes) else str(c)
        e = float(np.mean(err[y == c]))
        out.append({"class": name, "n": int(np.sum(y == c)), "error": e, "ratio": e / overall if overall else None})
    return sorted(out, key=lambda r: -r["error"])
