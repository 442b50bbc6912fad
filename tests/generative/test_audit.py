"""Per-class audit: classifier accuracy, class histograms that sum to the sample count, coverage, per-class
reconstruction error of any model with ``reconstruct``."""

import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.saliency import saliency
from pinngen.data import digits
from pinngen.generative import audit


@pytest.fixture(scope="module")
def data():
    return digits().as_float()


@pytest.fixture(scope="module")
def clf(data):
    # no test set given: a stratified 20% of the images is held out (ae-compare passes its test set)
    return audit.train_classifier(data.x_train, data.y_train, hidden=(32,), steps=200, batch_size=64, lr=3e-3)


def test_classifier_is_trained_and_reports_held_out_accuracy(clf, data):
    assert clf.n_test == round(0.2 * len(data.y_train))
    assert clf.accuracy > 0.8  # 8x8 digits: a small MLP reaches ~95% in a few hundred steps
    assert clf.probabilities(data.x_test[:5]).shape == (5, 10)
    sal = saliency(clf, data.x_test[:2])  # the classifier is differentiable
    assert sal.shape == (2, 8, 8)


def test_class_histogram_sums_to_the_number_of_samples(clf, data):
    counts = audit.class_histogram(clf, data.x_test[:37])
    assert counts.shape == (10,) and counts.sum() == 37 and counts.dtype.kind == "i"


def test_coverage_distance_and_missing_classes():
    labels = np.repeat(np.arange(3), 10)
    same = audit.coverage([5, 5, 5], labels, ["a", "b", "c"])
    assert same["total_variation"] == pytest.approx(0.0)
    skewed = audit.coverage([10, 0, 0], labels, ["a", "b", "c"])
    assert skewed["total_variation"] == pytest.approx(2 / 3)
    assert skewed["missing"] == ["b", "c"] and len(skewed["rows"]) == 3


class _Blur:
    """A fake model with ``reconstruct``: halves the pixels of images whose first pixel is 1."""

    def reconstruct(self, x):
        return jnp.where(x[:, :1, :1] == 1.0, 0.5 * x, x)


def test_per_class_reconstruction_ranks_the_worst_class():
    x = np.zeros((6, 4, 4), np.float32)
    x[:3] = 1.0  # class 1 images get a known error of 0.25 per pixel
    y = np.array([1, 1, 1, 0, 0, 0])
    rows = audit.per_class_reconstruction(_Blur(), x, y, classes=["zero", "one"])
    assert [r["class"] for r in rows] == ["one", "zero"]
    assert rows[0]["error"] == pytest.approx(0.25) and rows[1]["error"] == 0.0
    assert rows[0]["ratio"] == pytest.approx(2.0) and rows[0]["n"] == 3
