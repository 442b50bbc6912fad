"""The gan kind end to end: `pinngen run gan-toy` (tiny) through the CLI, `pinngen sample` and `predict` on it,
a class-conditional DCGAN with hinge loss, spectral norm and R1 through pinngen.run, one-line config errors."""

import json

import jax
import numpy as np
import pytest

import pinngen
from pinngen.cli import main
from pinngen.config import ConfigError, load_config
from pinngen.core.checkpoint import load_spec
from pinngen.generative.gan_experiment import KIND, check_groups, to_model_space
from pinngen.registry import kinds_that

TOY = ["data.toy_points=600", "model.g_hidden=[32,32]", "model.d_hidden=[32,32]", "evaluation.n_samples=200",
       "evaluation.track_samples=64", "evaluation.permutations=20", "train.eval_every=20", "train.chunk=20",
       "train.phases.0.steps=60", "train.phases.0.batch_size=64", "train.ema.start_step=0"]

GROUPS = {"discriminator": {"optimizer": "adam", "args": {"b1": 0.0, "b2": 0.9}, "lr": 4e-4,
                            "terms": ["d_real", "d_fake", "r1"]},
          "generator": {"optimizer": "adam", "args": {"b1": 0.0, "b2": 0.9}, "lr": 1e-4, "terms": ["g_adv"]}}
IMAGES = {"kind": "gan", "name": "gan-img", "data": {"dataset": "digits", "fallback": None, "max_train": 200,
                                                     "max_test": 40},
          "model": {"architecture": "dcgan", "latent_dim": 8, "g_channels": [8, 4], "g_groups": 4,
                    "d_channels": [4, 8], "spectral_norm": True, "conditional": True},
          "gan": {"loss": "hinge", "r1_gamma": 1.0},
          "evaluation": {"n_samples": 20, "metrics": False, "track_classes": False, "track_samples": 32, "grid": 3},
          "train": {"eval_every": 5, "ema": {"decay": 0.9},
                    "phases": [{"steps": 10, "batch_size": 16, "groups": GROUPS}]}}


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan-toy")
    assert main(["run", "gan-toy", "--out", str(out), "--no-progress", *sum([["--set", s] for s in TOY], [])]) == 0
    return out


def test_cli_run_writes_scores_tracked_metrics_and_figures(toy_run):
    m = json.loads((toy_run / "metrics.json").read_text())
    s = m["summary"]
    assert s["loss"] == "non_saturating" and s["architecture"] == "mlp" and s["evaluated_on"] == "ema"
    assert 0.0 < s["energy_p_value"] <= 1.0 and 0 <= s["modes_covered"] <= 8 and 0.0 <= s["good_share"] <= 1.0
    titles = [t["title"] for t in m["tables"]]
    assert {"Two-sample tests", "Mode coverage", "Training of the two players"} <= set(titles)
    header = (toy_run / "history.csv").read_text().splitlines()[0]
    for col in ("loss/generator", "loss/discriminator", "grad_norm/generator", "metric/d_acc_fake",
                "metric/energy", "metric/modes_covered", "metric/diversity"):
        assert col in header, col
    for fig in ("samples.png", "gan_training.png"):
        assert (toy_run / "figures" / fig).exists(), fig
    assert np.load(toy_run / "samples.npy").shape == (200, 2)
    codes = [f["code"] for f in json.loads((toy_run / "findings.json").read_text())]
    assert "gan_progress" in codes and codes.count("adversarial") == 2
    assert "Two-sample energy test" in KIND.headline(m)


def test_sample_is_deterministic_per_seed(toy_run, tmp_path):
    a, b, c = (str(tmp_path / f"{n}.npy") for n in "abc")
    assert main(["sample", str(toy_run), "-n", "30", "--out", a, "--seed", "1"]) == 0
    assert main(["sample", str(toy_run), "-n", "30", "--out", b, "--seed", "1", "--batch", "30"]) == 0
    assert main(["sample", str(toy_run), "-n", "30", "--out", c, "--seed", "2"]) == 0
    xa, xb, xc = (np.load(p) for p in (a, b, c))
    assert xa.shape == (30, 2) and np.all(np.isfinite(xa))
    np.testing.assert_array_equal(xa, xb)
    assert not np.allclose(xa, xc)


@pytest.mark.parametrize("args, words", [(["--label", "1"], "unconditional"),
                                         (["--steps", "5"], "--steps: kind 'gan' has no such sampling option")])
def test_bad_sampling_requests_are_one_line(toy_run, tmp_path, capsys, args, words):
    out = tmp_path / "s.npy"
    assert main(["sample", str(toy_run), "-n", "4", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    assert not out.exists()


def test_predict_gives_the_discriminator_logit_in_data_units(toy_run, tmp_path, capsys):
    run = pinngen.load(toy_run)
    pts = np.array([[2.0, 0.0], [0.0, 0.0], [5.0, 5.0]], np.float32)
    np.save(tmp_path / "p.npy", pts)
    assert main(["predict", str(toy_run), "--points", str(tmp_path / "p.npy"), "--out", str(tmp_path / "y.npy")]) == 0
    y = np.load(tmp_path / "y.npy")
    assert y.shape == (3,)
    spec = load_spec(toy_run / "model")  # the logit of the standardised points
    np.testing.assert_allclose(to_model_space(pts, spec), (pts - np.array(spec["mean"])) / np.array(spec["std"]),
                               rtol=1e-6)
    want = np.asarray(run.model.discriminator(jax.numpy.asarray(to_model_space(pts, spec)), None))
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    np.save(tmp_path / "bad.npy", np.zeros((3, 5), np.float32))
    assert main(["predict", str(toy_run), "--points", str(tmp_path / "bad.npy"), "--out", str(tmp_path / "z.npy")]) == 2
    assert "this model takes (n, 2)" in capsys.readouterr().err


def test_a_gan_can_sample_but_has_no_log_prob():
    assert KIND.can_sample and not KIND.has_log_prob
    assert "gan" in kinds_that("sample") and "gan" not in kinds_that("log_prob")


def test_conditional_dcgan_with_hinge_spectral_norm_and_r1(tmp_path):
    run = pinngen.run(IMAGES, out=tmp_path, progress=False)
    s = run.metrics["summary"]
    assert s["dataset"] == "digits" and s["architecture"] == "dcgan" and s["spectral_norm"] and s["r1_gamma"] == 1.0
    h = run.history
    assert np.all(np.isfinite(h.column("loss/r1"))) and np.all(h.column("loss/r1") >= 0)
    assert "metric/fd_pixels" in h.columns and "metric/min_class_ratio" not in h.columns
    x = run.sample(6, seed=0, labels=3)
    assert x.shape == (6, 8, 8) and x.min() >= 0.0 and x.max() <= 1.0
    assert not np.allclose(x, run.sample(6, seed=0, labels=5))  # the label changes the samples
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 9\]"):
        run.sample(2, labels=10)
    with pytest.raises(ValueError, match=r"\[0, 9\] .*; got -1"):
        run.sample(2, labels=[3, -1])
    assert (tmp_path / "figures" / "samples.png").exists()


def _cfg(**gan):
    groups = {"discriminator": {"lr": 1e-3, "terms": ["d_real", "d_fake"]}, "generator": {"lr": 1e-3,
                                                                                           "terms": ["g_adv"]}}
    return {"kind": "gan", "gan": gan, "train": {"phases": [{"steps": 5, "batch_size": 8, "groups": groups}]}}


@pytest.mark.parametrize("change, words", [
    (lambda c: c["train"]["phases"][0]["groups"].pop("generator"), "a GAN trains two groups"),
    (lambda c: c["train"]["phases"][0].pop("groups"), "got none"),
    (lambda c: c["train"]["phases"][0]["groups"]["generator"].update(terms=["d_fake"]),
     "groups.generator.terms: ['d_fake']; the generator minimises ['g_adv']"),
    (lambda c: c["gan"].update(r1_gamma=5.0), "gan.r1_gamma > 0 adds r1"),
])
def test_group_config_errors_are_one_line(change, words):
    cfg = _cfg()
    change(cfg)
    with pytest.raises(ConfigError) as err:
        check_groups(load_config(cfg))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match="gan.loss"):
        load_config(_cfg(loss="wgan"))
    bad = _cfg()
    bad["model"] = {"architecture": "dcgan"}  # on the 2-D default toy
    with pytest.raises(ConfigError, match="dcgan needs images"):
        pinngen.run(bad, out=tmp_path / "a", progress=False)
    bad = _cfg()
    bad["model"] = {"conditional": True}
    with pytest.raises(ConfigError, match="model.conditional"):
        pinngen.run(bad, out=tmp_path / "b", progress=False)


def test_builtin_configs_validate():
    toy = load_config("gan-toy")
    assert toy.gan.loss == "non_saturating" and toy.train.phases[0].groups["generator"].adversarial
    fashion = load_config("gan-fashion")
    assert fashion.data.dataset == "fashion_mnist" and fashion.train.max_train_seconds == 1200
    check_groups(fashion)
