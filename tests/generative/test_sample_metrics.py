"""The feature classifier (trained, cached without pickle, reloaded identically) and evaluate_samples on the
vendored 8x8 digits: real images score like the reference, baselines score worse, a one-class sampler is
flagged, and bad input is one line."""

import json

import numpy as np
import pytest

from pinngen.data import digits
from pinngen.generative import sample_metrics as sm
from pinngen.generative.sample_metrics import cache

TINY = sm.FeatureNetConfig(channels=(8, 16), features=32, epochs=12.0, batch_size=64, lr=3e-3, val_fraction=0.1)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("pinngen-cache")
    mp.setenv("PINNGEN_CACHE", str(root))
    mp.setitem(cache.DEFAULT_CONFIGS, "digits", TINY)  # the CLI test below reuses this classifier
    yield root
    mp.undo()


@pytest.fixture(scope="module")
def clf(cache_dir):
    return sm.feature_classifier("digits")


@pytest.fixture(scope="module")
def data():
    return digits().as_float()


def test_classifier_is_trained_cached_and_reports_test_accuracy(clf, cache_dir, data):
    assert clf.accuracy > 0.8 and clf.n_test == len(data.y_test)  # 8x8 digits: ~95 % in a few hundred steps
    assert clf.feature_dim == 32 and clf.image_shape == (8, 8)
    assert sum(clf.train_class_shares) == pytest.approx(1.0)
    folder = cache_dir / "feature-classifier"
    (entry,) = list(folder.iterdir())
    assert entry.name.startswith("digits-") and sorted(p.name for p in entry.iterdir()) == ["spec.json",
                                                                                           "weights.npz"]
    assert json.loads((entry / "spec.json").read_text())["accuracy"] == clf.accuracy


def test_cached_classifier_is_loaded_not_retrained(clf, data, monkeypatch):
    def fail(*a, **k):
        raise AssertionError("retrained although a cached classifier exists")

    monkeypatch.setattr(cache, "train_feature_classifier", fail)
    again = sm.feature_classifier("digits")
    assert again.accuracy == clf.accuracy
    np.testing.assert_array_equal(again.features(data.x_test[:20]), clf.features(data.x_test[:20]))
    with pytest.raises(AssertionError, match="retrained"):  # a different recipe is a different cache entry
        sm.feature_classifier("digits", config=TINY.model_copy(update={"features": 16}))


def test_real_images_score_like_the_reference_and_baselines_worse(clf, data):
    real = sm.evaluate_samples(data.x_test, dataset="digits", n=300, seed=1, classifier=clf)
    assert real["n"] == 300 and real["dataset"] == "digits"
    s, ref = real["samples"], real["reference"]
    assert s["precision"] > 0.6 and s["recall"] > 0.6 and s["coverage"] > 0.6
    assert s["frechet_distance"] < 2 * ref["frechet_distance"] + 1e-9
    gauss = sm.per_class_gaussian_samples(data.x_train, data.y_train, 300, seed=0)
    noise = sm.uniform_noise_samples((8, 8), 300, seed=0)
    fd = {name: sm.evaluate_samples(x, dataset="digits", seed=1, classifier=clf)["samples"]["frechet_distance"]
          for name, x in (("gauss", gauss), ("noise", noise))}
    assert s["frechet_distance"] < fd["gauss"] < fd["noise"]


def test_class_histogram_flags_a_sampler_that_makes_one_class(clf, data):
    zeros = data.x_train[data.y_train == 0]  # 140-odd images of the digit 0
    out = sm.evaluate_samples(zeros, dataset="digits", classifier=clf)
    hist = out["class_histogram"]
    assert sum(hist["counts"]) == out["n"] == len(zeros)
    assert hist["shares"][0] > 0.9 and out["samples"]["min_class_share"] == 0.0
    assert len(hist["under_produced"]) >= 8 and "0" not in hist["under_produced"]
    assert out["samples"]["recall"] < 0.3 < out["reference"]["recall"]


def test_channel_axes_are_accepted_and_labels_scored(clf, data):
    x = data.x_test[:100]
    base = sm.evaluate_samples(x, dataset="digits", classifier=clf)
    for shaped in (x[..., None], x[:, None]):
        assert sm.evaluate_samples(shaped, dataset="digits", classifier=clf)["samples"] == base["samples"]
    agree = sm.evaluate_samples(x, dataset="digits", classifier=clf, labels=data.y_test[:100].astype(int))
    assert agree["label_agreement"] > 0.8
    # the class from the features (one network pass) is the argmax of the probabilities
    np.testing.assert_array_equal(clf.classify_features(clf.features(x)), clf.classify(x))
    with pytest.raises(ValueError, match="one integer class per sample"):
        sm.evaluate_samples(x, dataset="digits", classifier=clf, labels=np.zeros(99, int))
    assert "samples" in sm.format_metrics(agree) and "label agreement" in sm.format_metrics(agree)


@pytest.mark.parametrize(("make", "match"), [
    (lambda x: np.zeros((50, 32, 32)), r"^samples of shape \(n, 32, 32\); the digits classifier takes 8x8 images "
                                        r"in \[0, 1\]$"),
    (lambda x: x * 255, "outside \\[0, 1\\].*divide by 255"),
    (lambda x: x * 2 - 1, "outside \\[0, 1\\].*\\(x \\+ 1\\) / 2"),
    (lambda x: np.where(x > 0.5, np.nan, x), "NaN or inf"),
    (lambda x: x[:5], "more than k=5"),
])
def test_bad_samples_are_one_line_errors(clf, data, make, match):
    with pytest.raises(ValueError, match=match) as err:
        sm.evaluate_samples(make(data.x_test[:60]), dataset="digits", classifier=clf)
    assert "\n" not in str(err.value)


def test_n_larger_than_the_reference_is_refused(clf, data):
    x = np.concatenate([data.x_test, data.x_test])
    with pytest.raises(ValueError, match="choose n <= 359"):
        sm.evaluate_samples(x, dataset="digits", n=500, classifier=clf)
    assert sm.evaluate_samples(x, dataset="digits", classifier=clf)["n"] == 359  # default: the reference's size


def test_per_class_gaussian_samples_follow_the_class_shares(data):
    x, y = sm.per_class_gaussian_samples(data.x_train, data.y_train, 1000, seed=3, return_labels=True)
    assert x.shape == (1000, 8, 8) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    share = np.bincount(data.y_train, minlength=10) / len(data.y_train)
    np.testing.assert_allclose(np.bincount(y, minlength=10) / 1000, share, atol=1e-3 + 1e-9)
    ones = x[y == 1].mean(0)  # each class keeps its own mean image (before clipping moves it a little)
    assert np.abs(ones - data.x_train[data.y_train == 1].mean(0)).max() < 0.1
    again = sm.per_class_gaussian_samples(data.x_train, data.y_train, 1000, seed=3)
    np.testing.assert_array_equal(x, again)
