"""The diffusion kind end to end: `pinngen run` on a toy and on tiny images (conditional, guided), `pinngen sample`
with swapped samplers, the report's tables and figures, and one-line errors for bad requests."""

import json

import numpy as np
import pytest

import pinngen
from pinngen.cli import main

TOY = ["data.toy_points=1000", "model.hidden=[32,32]", "model.time_dim=16", "diffusion.T=100",
       "evaluation.n_samples=200", "evaluation.permutations=20", "evaluation.timing=[ddim-10,ddpm]",
       "evaluation.timing_samples=8", "evaluation.bucket_images=64", "train.eval_every=50",
       "train.phases.0.steps=100", "train.phases.0.batch_size=64", "sampling.steps=10"]

IMAGES = {"kind": "diffusion", "data": {"dataset": "digits", "fallback": None, "max_train": 300, "max_test": 50},
          "model": {"channels": [8, 16], "attention_levels": [1], "groups": 4, "time_dim": 16, "conditional": True,
                    "split": 1},  # one piece: the default 4 doubles this tiny net's compile time
          "diffusion": {"T": 40, "buckets": 4, "prediction": "v"},
          "sampling": {"steps": 8, "guidance": 2.0},
          "evaluation": {"n_samples": 20, "metrics": False, "timing": ["ddim-4"], "timing_samples": 4,
                         "trajectory_samples": 2, "grid": 3, "bucket_images": 16},
          "train": {"eval_every": 10, "ema": {"decay": 0.9},
                    "phases": [{"optimizer": "adam", "lr": 1e-3, "steps": 20, "batch_size": 16}]}}


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy")
    assert main(["run", "ddpm-toy", "--out", str(out), "--no-progress", *sum([["--set", s] for s in TOY], [])]) == 0
    return out


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    return pinngen.run(IMAGES, out=tmp_path_factory.mktemp("img"), progress=False)


def test_toy_run_writes_tests_timings_and_bucket_curves(toy_run):
    m = json.loads((toy_run / "metrics.json").read_text())
    s = m["summary"]
    assert 0.0 < s["energy_p_value"] <= 1.0 and s["evaluated_on"] == "ema"
    titles = [t["title"] for t in m["tables"]]
    want = {"Two-sample tests", "Sampling time per sample", "Denoising loss per noise level (validation)"}
    assert want <= set(titles)
    timing = next(t for t in m["tables"] if t["title"] == "Sampling time per sample")
    assert [r[0] for r in timing["rows"]] == ["ddim-10", "ddpm"] and [r[1] for r in timing["rows"]] == [10, 100]
    hist = (toy_run / "history.csv").read_text().splitlines()[0]
    assert "loss/t0-9" in hist and "metric/loss_t90-99" in hist
    assert (toy_run / "figures" / "samples.png").exists()
    assert (toy_run / "figures" / "loss_per_noise_level.png").exists()
    assert np.load(toy_run / "samples.npy").shape == (200, 2)


def test_sample_verb_swaps_samplers_without_retraining(toy_run, tmp_path):
    a, b, c = (str(tmp_path / f"{n}.npy") for n in "abc")
    assert main(["sample", str(toy_run), "-n", "30", "--out", a, "--seed", "1"]) == 0
    assert main(["sample", str(toy_run), "-n", "30", "--out", b, "--seed", "1", "--sampler", "ddpm"]) == 0
    assert main(["sample", str(toy_run), "-n", "30", "--out", c, "--seed", "1", "--steps", "25", "--eta", "1"]) == 0
    xa, xb, xc = (np.load(p) for p in (a, b, c))
    assert xa.shape == xb.shape == xc.shape == (30, 2)
    assert not np.allclose(xa, xb) and not np.allclose(xa, xc)
    assert main(["sample", str(toy_run), "-n", "30", "--out", str(tmp_path / "d.npy"), "--seed", "1"]) == 0
    np.testing.assert_array_equal(xa, np.load(tmp_path / "d.npy"))


@pytest.mark.parametrize("args, words", [
    (["--guidance", "2"], "guidance needs a class-conditional model"),
    (["--steps", "5000"], "exceeds the model's schedule of T=100"),
    (["--label", "1"], "unconditional"),
    (["--eta", "-1"], "--eta -1.0"),
])
def test_bad_sampling_requests_are_one_line(toy_run, tmp_path, capsys, args, words):
    out = tmp_path / "s.npy"
    assert main(["sample", str(toy_run), "-n", "4", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    assert not out.exists()


def test_sampler_options_on_a_vae_are_refused(tmp_path, capsys):
    vae = {"kind": "vae", "data": {"dataset": "digits", "fallback": None, "max_train": 100, "max_test": 20},
           "model": {"latent_dim": 2, "hidden": [8]},
           "evaluation": {"is_samples": 2, "grid": 2, "traversal_dims": 0, "audit_steps": 0},
           "train": {"eval_every": 5, "phases": [{"steps": 5, "batch_size": 16}]}}
    run = pinngen.run(vae, out=tmp_path / "v", progress=False)
    assert main(["sample", str(run.path), "-n", "2", "--out", str(tmp_path / "s.npy"), "--sampler", "ddpm"]) == 2
    assert "--sampler: kind 'vae' has no such sampling option; it takes: none" in capsys.readouterr().err


def test_conditional_image_run_samples_each_class_with_guidance(image_run, tmp_path):
    figs = image_run.path / "figures"
    for name in ("samples.png", "trajectory.png", "loss_per_noise_level.png"):
        assert (figs / name).exists(), name
    x = image_run.sample(12, seed=0, labels=3)
    assert x.shape == (12, 8, 8) and x.min() >= 0 and x.max() <= 1
    # 12 again: the guidance scale is traced, so these reuse the sampler compiled just above
    g0 = image_run.sample(12, seed=0, labels=3, guidance=0.0)
    g4 = image_run.sample(12, seed=0, labels=3, guidance=4.0)
    assert not np.allclose(g0, g4)  # the guidance scale reaches the sampler
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 9\]"):
        image_run.sample(2, labels=10)


def test_bad_configs_fail_before_training(tmp_path):
    from pinngen.config import ConfigError

    bad = [({"sampling": {"guidance": 2.0}}, "guidance needs a class-conditional model"),
           ({"sampling": {"steps": 2000}}, "exceeds the schedule's T=1000"),
           ({"data": {"dataset": "two_moons"}, "model": {"architecture": "unet"}}, "unet needs images"),
           ({"data": {"dataset": "two_moons"}, "model": {"conditional": True}}, "has no class labels"),
           ({"data": {"dataset": "array", "fallback": None}}, "needs data.path")]
    for over, words in bad:
        cfg = {"kind": "diffusion", **over}
        with pytest.raises((ConfigError, ValueError), match=words):
            pinngen.run(cfg, out=tmp_path / "never", progress=False)
        assert not (tmp_path / "never").exists()
    with pytest.raises(ValueError, match="zero_terminal_snr"):
        pinngen.run({"kind": "diffusion", "diffusion": {"zero_terminal_snr": True}}, out=tmp_path / "n2")
