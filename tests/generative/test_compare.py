"""The ``generative-compare`` kind: the answer is written from the measured numbers (unit tests on made-up
rows), and a tiny comparison of two real families (VAE, DDPM on the 8x8 digits) runs end to end through
``pinngen.run`` and the CLI, keeps finished families on ``--resume``, and refuses families that cannot sample.

Two families are enough for the orchestration: one with a likelihood (VAE: bits/dim read from its summary)
and one without that takes sampler options (DDPM: ``sample: {steps: 4}``); every family is trained, sampled and
scored by the same generic code (a third, the GAN, only repeated it: two more trainings and assessments). The
answer's wording over three families is checked on made-up rows above, and the GAN on digits in gan/.

The digits feature classifier is an untrained one placed in the cache folder (as in
``test_sample_metrics_cli.py``): these tests check the orchestration and the report, not the metric values."""

import json

import jax
import numpy as np
import pytest
import yaml

import pinngen
from pinngen.cli import main
from pinngen.config import ConfigError, load_config
from pinngen.data import digits
from pinngen.generative import compare_report as R
from pinngen.generative import sample_metrics as sm
from pinngen.generative.sample_metrics import cache

TINY = sm.FeatureNetConfig(channels=(4,), features=8, epochs=1.0)


@pytest.fixture(autouse=True)
def cached_classifier(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.getbasetemp() / "compare-cache"
    monkeypatch.setenv("PINNGEN_CACHE", str(root))
    monkeypatch.setitem(cache.DEFAULT_CONFIGS, "digits", TINY)
    folder = cache.classifier_folder("digits", TINY)
    if not folder.exists():
        data = digits().as_float()
        model = sm.FeatureCNN((8, 8), 10, TINY, key=jax.random.PRNGKey(0))
        clf = sm.FeatureClassifier(model, data.classes, TINY, 0.5, 0.5, len(data.y_test), (0.1,) * 10)
        sm.save_classifier(clf, folder, dataset="digits")


def _row(name, fd, coverage, share, sec, bpd=None, cls="0"):
    return {"name": name, "kind": "x", "fd": fd, "precision": 0.5, "recall": 0.5, "density": 1.0,
            "coverage": coverage, "min_class_share": share, "min_class": cls, "bpd": bpd, "sample_seconds": sec,
            "train_seconds": 10.0, "steps": 100, "reference_fd": 1.0, "under_produced": []}


def test_answer_names_the_measured_winner_per_need():
    rows = [_row("vae", 40.0, 0.30, 0.07, 1e-4, bpd=3.4), _row("gan", 20.0, 0.55, 0.02, 2e-4, cls="bag"),
            _row("ddpm", 12.0, 0.80, 0.08, 5e-2)]
    ans = {need: (choice, text) for need, choice, text in R.answer(rows, None, "digits")}
    assert ans["best sample quality"][0] == "ddpm" and "FD 12.0" in ans["best sample quality"][1]
    assert "next gan at FD 20.0" in ans["best sample quality"][1]
    assert ans["diversity (mode coverage)"][0] == "ddpm"
    assert ans["class balance"][0] == "ddpm" and "below 5 %: gan (bag 2.0%)" in ans["class balance"][1]
    assert ans["fast sampling"][0] == "vae" and "500x faster than ddpm" in ans["fast sampling"][1]
    choice, text = ans["likelihood (density of new data)"]
    assert choice == "vae" and "3.400 bits/dim" in text and "no likelihood: gan, ddpm" in text
    assert ans["small data"][0] == "not measured"
    # other numbers, other answer: the text follows the measurements
    rows[1]["fd"] = 5.0
    assert R.answer(rows, None, "digits")[0][1] == "gan"


def test_answer_calls_close_figures_level_and_handles_no_likelihood():
    rows = [_row("a", 10.0, 0.5, 0.1, 1e-3), _row("b", 10.5, 0.5, 0.1, 1e-3)]
    need, choice, text = R.answer(rows, None, "digits")[0]
    assert choice == "a" and "level with b at FD 10.5" in text
    lik = R.answer(rows, None, "digits")[4]
    assert lik[1] == "none measured"
    small = [_row("a", 30.0, 0.5, 0.1, 1e-3), _row("b", 25.0, 0.5, 0.1, 1e-3)]
    for r in small:
        r["n_train"] = 100
    assert R.answer(rows, small, "digits")[5][:2] == ["small data (100 images)", "b"]


FAST = ["train.eval_every=5", "train.phases.0.steps=10", "train.phases.0.batch_size=16"]
FAMILIES = [
    {"name": "vae", "experiment": "vae-digits",
     "set": [*FAST, "model.hidden=[16]", "model.latent_dim=2", "evaluation.is_samples=2",
             "evaluation.audit_steps=0", "evaluation.traversal_dims=0"]},
    {"name": "ddpm", "experiment": "ddpm-digits",
     "set": ["data.dataset=digits", "model.architecture=mlp", "model.hidden=[16]", "model.time_dim=8",
             "diffusion.T=20", "sampling.steps=4", "evaluation.n_samples=10", "evaluation.metrics=false",
             "evaluation.baseline=false", "evaluation.timing=[ddim-4]", "evaluation.timing_samples=2",
             "evaluation.bucket_images=8", "evaluation.trajectory_samples=1", *FAST],
     "sample": {"steps": 4}},
]


def _config(**compare):
    return {"kind": "generative-compare", "name": "compare-tiny", "seed": 0,
            "compare": {"dataset": "digits", "budget_seconds": 60, "n_samples": 20, "sample_batch": 10, "grid": 4,
                        "families": FAMILIES, **compare}}


def test_tiny_comparison_end_to_end_and_resume(tmp_path):
    out = tmp_path / "cmp"
    run = pinngen.run(_config(small_data=100), out=out, progress=False)
    m = run.metrics
    table = next(t for t in m["tables"] if t["title"].startswith("Which generative model"))
    assert [r[0] for r in table["rows"]] == ["vae", "ddpm"]
    assert [r[1] for r in table["rows"]] == ["vae", "diffusion"]
    for fam in m["families"]:
        assert np.isfinite(fam["fd"]) and 0 <= fam["coverage"] <= 1 and fam["sample_seconds"] > 0
        assert fam["train_seconds"] is not None and fam["train_seconds"] < 60
        assert (out / "families" / fam["name"] / "report.html").exists()
    by = {f["name"]: f for f in m["families"]}
    assert by["vae"]["bpd"] is not None and by["ddpm"]["bpd"] is None
    answer = next(t for t in m["tables"] if t["title"].startswith("Answer"))["rows"]
    best = min(m["families"], key=lambda f: f["fd"])["name"]
    assert answer[0][1] == best and m["summary"]["best_quality"] == best
    assert answer[4][1] == "vae"  # the only family with a likelihood
    small = next(t for t in m["tables"] if t["title"].startswith("Small data: 100 training images"))
    assert [r[0] for r in small["rows"]] == ["vae", "ddpm"]
    assert answer[5][0] == "small data (100 images)"
    assert answer[5][1] == min(m["families_small"], key=lambda f: f["fd"])["name"]
    cfg_small = yaml.safe_load((out / "families-small" / "ddpm" / "config.yaml").read_text())
    assert cfg_small["data"]["max_train"] == 100 and cfg_small["train"]["max_train_seconds"] == 60
    assert best in m["summary"]["headline"]
    for fig in ("samples_side_by_side.png", "trilemma.png"):
        assert (out / "figures" / fig).exists()
    assert (out / "report.html").exists()
    assert run.findings == []  # no "too short" verdict on a run that trains nothing itself
    # --resume keeps the finished families: their metrics files are not rewritten
    done = [out / r / n / "metrics.json" for r in ("families", "families-small") for n in by]
    stamp = [p.stat().st_mtime_ns for p in done]
    cfg = yaml.safe_dump(_config(small_data=100))
    (tmp_path / "cmp.yaml").write_text(cfg)
    assert main(["run", str(tmp_path / "cmp.yaml"), "--out", str(out), "--resume", "--no-progress"]) == 0
    assert [p.stat().st_mtime_ns for p in done] == stamp
    again = json.loads((out / "metrics.json").read_text())
    assert [f["name"] for f in again["families"]] == ["vae", "ddpm"]


def test_families_that_cannot_sample_or_repeat_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(ConfigError, match="unique"):
        load_config(_config(families=[FAMILIES[0], FAMILIES[0]]))
    bad = _config(families=[{"name": "pinn", "experiment": "burgers"}])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot sample" in err[0] and "compare.families[pinn]" in err[0]
    missing = _config(families=[{"name": "x", "experiment": "no-such-experiment"}])
    path.write_text(yaml.safe_dump(missing))
    assert main(["run", str(path), "--out", str(tmp_path / "o2"), "--no-progress"]) == 2
