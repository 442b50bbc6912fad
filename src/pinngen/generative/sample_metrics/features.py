"""The feature classifier: a small CNN trained by the project whose penultimate layer is the metric space.

FID (Heusel et al. 2017) measures distances in the pool features of an ImageNet Inception network, which
knows nothing about 28x28 grey clothing; here a CNN trained on the data set itself gives the features, and
its test accuracy says how far to trust them (and the class histogram drawn from its argmax).

``FeatureCNN``: images ``(n, H, W)`` in [0, 1] -> per stage a 3x3 convolution (ReLU) and 2x2 max-pooling ->
flatten -> dense ``features`` units (ReLU; **the feature space**) -> dense class logits. Convolutions use the
im2col :class:`~pinngen.core.nn.Conv2d`, the fast path on CPU.

:func:`train_feature_classifier` trains one with the project's own :func:`~pinngen.core.train.fit` (Adam,
cosine decay, dropout on the features) on any labelled images, holding out a stratified validation split and
measuring accuracy on the test images. :mod:`.cache` keeps one per data set on disk.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinngen.core.batched import batched_apply
from pinngen.core.losses import output_loss
from pinngen.core.nn import Conv2d, Dense
from pinngen.data.splits import split_indices

__all__ = ["FeatureClassifier", "FeatureCNN", "FeatureNetConfig", "train_feature_classifier"]

_LOSS = output_loss("softmax", "sparse_categorical_crossentropy")


class FeatureNetConfig(BaseModel):
    """Architecture and training of a feature classifier; hashed into its cache folder's name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    channels: tuple[int, ...] = Field((32, 64), description="width of each conv + 2x2 max-pool stage")
    features: int = Field(128, ge=2, description="width of the penultimate (feature) layer")
    dropout: float = Field(0.3, ge=0.0, lt=1.0, description="dropout on the features while training")
    epochs: float = Field(3.0, gt=0.0, description="passes over the training split")
    batch_size: int = Field(128, ge=1)
    lr: float = Field(2e-3, gt=0.0, description="Adam's learning rate, decayed by a cosine to 1 % of it")
    val_fraction: float = Field(0.05, gt=0.0, lt=0.5, description="stratified validation split of the training "
                                "images (validation loss in the history, validation accuracy reported)")
    seed: int = 0


def _maxpool2(h):
    """2x2 max-pooling of channels-last ``(n, H, W, C) -> (n, ceil(H/2), ceil(W/2), C)`` (odd sizes padded)."""
    n, hh, ww, c = h.shape
    if hh % 2 or ww % 2:  # ReLU outputs are >= 0, so zero padding never wins a max over real values
        h = jnp.pad(h, ((0, 0), (0, hh % 2), (0, ww % 2), (0, 0)))
        hh, ww = hh + hh % 2, ww + ww % 2
    return h.reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4))


class FeatureCNN(eqx.Module):
    """Grayscale images ``(n, H, W)`` in [0, 1] -> class probabilities; :meth:`features` is the metric space."""

    convs: tuple[Conv2d, ...]
    dense: Dense
    head: Dense
    image_shape: tuple[int, int] = eqx.field(static=True)
    dropout: float = eqx.field(static=True)

    def __init__(self, image_shape: Sequence[int], n_classes: int, config: FeatureNetConfig, *, key):
        shape = tuple(int(s) for s in image_shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"image_shape={shape}: the feature classifier takes grayscale (H, W) images")
        if n_classes < 2:
            raise ValueError(f"n_classes={n_classes}: a classifier needs at least 2 classes")
        keys = jax.random.split(key, len(config.channels) + 2)
        widths = (1, *config.channels)
        self.convs = tuple(Conv2d(a, b, 3, 1, key=k) for a, b, k in zip(widths[:-1], widths[1:], keys, strict=False))
        h, w = shape
        for _ in config.channels:
            h, w = -(-h // 2), -(-w // 2)
        self.dense = Dense(h * w * widths[-1], config.features, key=keys[-2])
        self.head = Dense(config.features, n_classes, key=keys[-1])
        self.image_shape = shape
        self.dropout = float(config.dropout)

    def features(self, x, *, key=None):
        """``(n, H, W)`` -> ``(n, features)``: the ReLU output of the penultimate layer."""
        h = jnp.asarray(x)[..., None]  # (n, H, W, 1)
        for conv in self.convs:
            h = _maxpool2(jax.nn.relu(conv(h)))
        f = jax.nn.relu(self.dense(h.reshape(h.shape[0], -1)))  # (n, features)
        if key is not None and self.dropout > 0:
            keep = jax.random.bernoulli(key, 1.0 - self.dropout, f.shape)
            f = jnp.where(keep, f / (1.0 - self.dropout), 0.0)
        return f

    def logits(self, x, *, key=None):
        return self.head(self.features(x, key=key))

    def __call__(self, x):
        """Class probabilities ``(n, n_classes)`` (differentiable: saliency works on it)."""
        return jax.nn.softmax(self.logits(x), axis=-1)

    def loss_terms(self, batch, key):
        """Softmax cross-entropy from the logits (dropout when ``key`` is given)."""
        return {"cross_entropy": _LOSS(self.logits(batch["x"], key=key), batch["y"])}


def _features(model, x):
    return model.features(x)


def _probabilities(model, x):
    return model(x)


@dataclass(frozen=True, eq=False)
class FeatureClassifier:
    """A trained :class:`FeatureCNN` and what it was measured to be worth.

    Works wherever :mod:`pinngen.generative.audit` takes a classifier (``probabilities``, ``classes``,
    ``__call__``), so ``audit.class_histogram(clf, samples)`` and saliency maps apply to it.

    Attributes:
        accuracy: on the data set's test images (``n_test`` of them), never seen in training.
        val_accuracy: on the held-out validation split of the training images.
        train_class_shares: each class's share of the training labels (what a faithful sampler reproduces).
        info: training details (seconds, steps, data set, cache folder) for reports.
    """

    model: FeatureCNN
    classes: tuple[str, ...]
    config: FeatureNetConfig
    accuracy: float
    val_accuracy: float
    n_test: int
    train_class_shares: tuple[float, ...]
    info: dict = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int]:
        return self.model.image_shape

    @property
    def feature_dim(self) -> int:
        return self.config.features

    def _rows(self, images) -> np.ndarray:
        x = np.asarray(images, np.float32)
        if x.shape[1:] != self.image_shape:
            raise ValueError(f"images of shape {x.shape[1:]}; this classifier takes (n, {self.image_shape[0]}, "
                             f"{self.image_shape[1]})")
        return x

    def features(self, images, *, batch_size: int = 1000) -> np.ndarray:
        """Penultimate-layer features ``(n, feature_dim)`` float64 of images ``(n, H, W)`` in [0, 1]."""
        x = self._rows(images)
        return np.asarray(batched_apply(_features, x, args=(self.model,), batch_size=batch_size), np.float64)

    def probabilities(self, images, *, batch_size: int = 1000) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``."""
        return batched_apply(_probabilities, self._rows(images), args=(self.model,), batch_size=batch_size)

    def classify(self, images) -> np.ndarray:
        """Predicted class indices ``(n,)``."""
        return np.argmax(self.probabilities(images), axis=1)

    def classify_features(self, features) -> np.ndarray:
        """Predicted class indices ``(n,)`` from :meth:`features` (the last layer applied on the host), so
        metrics and class histogram need one pass of the network."""
        w, b = np.asarray(self.model.head.weight, np.float64), np.asarray(self.model.head.bias, np.float64)
        return np.argmax(np.asarray(features, np.float64) @ w.T + b, axis=1)

    def __call__(self, images) -> jax.Array:
        return self.model(images)


def _accuracy(model: FeatureCNN, x, y) -> float:
    if not len(y):
        return float("nan")
    p = batched_apply(_probabilities, np.asarray(x, np.float32), args=(model,), batch_size=1000)
    return float(np.mean(np.argmax(p, axis=1) == y))


def train_feature_classifier(images, labels, *, test_images, test_labels, classes: Sequence[str] | None = None,
                             config: FeatureNetConfig | None = None, progress: bool = False) -> FeatureClassifier:
    """Train a :class:`FeatureCNN` with :func:`pinngen.core.train.fit` and measure its test accuracy.

    Args:
        images, labels: training images ``(n, H, W)`` floats in [0, 1] and int labels ``(n,)`` in ``0..k-1``;
            a stratified ``config.val_fraction`` of them is held out for validation.
        test_images, test_labels: the held-out test set whose accuracy is reported.
        classes: class names (default ``"0".."k-1"``).
        config: architecture and training (default :class:`FeatureNetConfig`).
    """
    from pinngen.core.train import fit

    cfg = config or FeatureNetConfig()
    x, y = np.asarray(images, np.float32), np.asarray(labels).astype(np.int32)
    xt, yt = np.asarray(test_images, np.float32), np.asarray(test_labels).astype(np.int32)
    if x.ndim != 3 or y.shape != (len(x),) or xt.shape[1:] != x.shape[1:] or yt.shape != (len(xt),):
        raise ValueError(f"images {x.shape}, labels {y.shape}, test images {xt.shape}, test labels {yt.shape}: "
                         "expected (n, H, W) images with one label each, test images of the same size")
    k = len(classes) if classes is not None else int(max(y.max(), yt.max() if len(yt) else 0)) + 1
    names = tuple(classes) if classes is not None else tuple(str(i) for i in range(k))
    split = split_indices(len(y), val=cfg.val_fraction, test=0.0, seed=cfg.seed, stratify=y)
    xv, yv, x, y = x[split.val], y[split.val], x[split.train], y[split.train]
    batch = min(cfg.batch_size, len(y))
    steps = max(int(round(cfg.epochs * len(y) / batch)), 1)
    model = FeatureCNN(x.shape[1:], k, cfg, key=jax.random.PRNGKey(cfg.seed))
    train = {"phases": [{"optimizer": "adam", "lr": cfg.lr, "steps": steps, "batch_size": batch,
                         "schedule": "cosine", "end_lr_factor": 0.01}],
             "eval_every": min(steps, 200), "progress": progress, "checkpoint_every": None}
    val = {"x": xv[:1000], "y": yv[:1000]}  # the loss curve needs a sample only; accuracy uses all of it below
    t0 = time.perf_counter()
    model, history = fit(model, {"x": x, "y": y}, train, seed=cfg.seed, val_data=val)
    seconds = time.perf_counter() - t0
    shares = np.bincount(np.concatenate([y, yv]), minlength=k) / (len(y) + len(yv))
    info = {"train_seconds": round(seconds, 1), "steps": steps, "n_train": int(len(y)), "n_val": int(len(yv)),
            "final_loss": history.last("loss") if "loss" in history else None}
    return FeatureClassifier(model, names, cfg, _accuracy(model, xt, yt), _accuracy(model, xv, yv), int(len(yt)),
                             tuple(float(s) for s in shares), info)
