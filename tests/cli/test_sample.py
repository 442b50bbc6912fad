"""`pinngen sample`: samples in the data's units from a generative run; a clear refusal elsewhere."""

import numpy as np
import pytest

import pinngen
from pinngen.cli import main
from pinngen.registry import kinds_that

VAE = {"kind": "vae", "data": {"dataset": "digits", "fallback": None, "max_train": 200, "max_test": 30},
       "model": {"latent_dim": 2, "hidden": [16]},
       "evaluation": {"is_samples": 2, "batch_size": 16, "grid": 4, "traversal_dims": 0, "audit_steps": 0},
       "train": {"eval_every": 10, "phases": [{"steps": 10, "batch_size": 32}]}}


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vae")
    pinngen.run(VAE, out=out, progress=False)
    return out


def test_sample_writes_images_in_the_data_units(vae_run, tmp_path, capsys):
    assert main(["sample", str(vae_run), "-n", "7", "--out", str(tmp_path / "a.npy"), "--seed", "3"]) == 0
    a = np.load(tmp_path / "a.npy", allow_pickle=False)
    assert a.shape == (7, 8, 8) and a.min() >= 0.0 and a.max() <= 1.0
    assert "(7, 8, 8)" in capsys.readouterr().out
    main(["sample", str(vae_run), "-n", "7", "--out", str(tmp_path / "b.npy"), "--seed", "3"])
    main(["sample", str(vae_run), "-n", "7", "--out", str(tmp_path / "c.npy"), "--seed", "4"])
    np.testing.assert_array_equal(a, np.load(tmp_path / "b.npy"))
    assert not np.array_equal(a, np.load(tmp_path / "c.npy"))
    main(["sample", str(vae_run), "-n", "7", "--out", str(tmp_path / "d.npy"), "--batch", "3"])
    assert np.load(tmp_path / "d.npy").shape == (7, 8, 8)


def test_kind_that_cannot_sample_says_which_can(tmp_path, capsys):
    run = pinngen.run("dense-diabetes", out=tmp_path / "d", overrides=["train.phases.0.epochs=1"], progress=False)
    assert main(["sample", str(run.path), "-n", "3", "--out", str(tmp_path / "s.npy")]) == 2
    err = capsys.readouterr().err
    can = kinds_that("sample")
    assert {"diffusion", "gan", "vae"} <= set(can) and "dense" not in can
    assert err.count("\n") == 1 and f"kind 'dense' cannot sample; the kinds that can are: {', '.join(can)}" in err
    assert not (tmp_path / "s.npy").exists()


def test_bad_sample_arguments(vae_run, tmp_path, capsys):
    assert main(["sample", str(vae_run), "-n", "0", "--out", str(tmp_path / "s.npy")]) == 2
    assert main(["sample", str(vae_run), "-n", "2", "--out", str(tmp_path / "s.txt")]) == 2
    assert main(["sample", str(tmp_path / "nope"), "-n", "2", "--out", str(tmp_path / "s.npy")]) == 2
    assert capsys.readouterr().err.count("\n") == 3
