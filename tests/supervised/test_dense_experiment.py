"""The dense kind from the Python API: CSV input, classification, advisor pre-checks, float64."""

import json

import numpy as np

import pinngen

FAST = {"train": {"eval_every": 20, "progress": False, "phases": [{"optimizer": "adam", "lr": 0.01, "steps": 200,
                                                                     "batch_size": 32}]}}


def _csv(tmp_path, n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (n, 2))
    y = 3.0 * x[:, 0] - 2.0 * x[:, 1] ** 2 + 10.0
    p = tmp_path / "table.csv"
    np.savetxt(p, np.column_stack([x, y]), delimiter=",", header="a,b,target", comments="")
    return p, x, y


def test_regression_from_csv_learns_and_predicts_in_original_units(tmp_path):
    p, x, y = _csv(tmp_path)
    cfg = {"kind": "dense", "name": "csv", "data": {"dataset": None, "path": str(p), "target": "target"},
           "model": {"hidden": [32, 32], "activation": "tanh"}, **FAST}
    run = pinngen.run(cfg, out=tmp_path / "run")
    m = run.metrics["summary"]
    assert m["test_r2"] > 0.9 and m["test_rmse"] < 0.5 * m["baseline_rmse"]
    pred = run.predict(x[:50]).reshape(-1)
    assert np.sqrt(np.mean((pred - y[:50]) ** 2)) < 0.3 * np.std(y)


def test_classification_on_vendored_digits(tmp_path):
    cfg = {"kind": "dense", "name": "dg", "task": "multiclass", "data": {"dataset": "digits", "scale_x": "none"},
           "model": {"hidden": [32]}, **FAST}
    run = pinngen.run(cfg, out=tmp_path / "run")
    assert run.metrics["summary"]["test_accuracy"] > 0.8
    probs = run.predict(np.zeros((2, 64)))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (tmp_path / "run" / "figures" / "confusion.png").exists()


def test_advisor_warns_before_training_and_the_report_says_so(tmp_path):
    p, _, _ = _csv(tmp_path)
    cfg = {"kind": "dense", "name": "bad", "task": "regression",
           "data": {"dataset": None, "path": str(p), "target": "target"},
           "model": {"output_activation": "linear", "loss": "binary_crossentropy"}, **FAST}
    run = pinngen.run(cfg, out=tmp_path / "run")
    pre = json.loads((tmp_path / "run" / "prechecks.json").read_text())
    assert pre and all(f["severity"] == "warning" for f in pre)
    assert any("binary" in f["message"].lower() or "cross" in f["message"].lower() for f in pre)
    html = (tmp_path / "run" / "report.html").read_text()
    assert pre[0]["code"] in html
    assert {f.code for f in run.findings} >= {pre[0]["code"]}


def test_float64_run_and_reload(tmp_path):
    cfg = {"kind": "dense", "name": "f64", "dtype": "float64", **FAST}
    run = pinngen.run(cfg, out=tmp_path / "run")
    model = run.model
    assert str(model.net.layers[0].weight.dtype) == "float64"
    import jax

    jax.config.update("jax_enable_x64", False)
