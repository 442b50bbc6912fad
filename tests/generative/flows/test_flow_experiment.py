"""The ``flow`` kind end to end: a toy run (API and CLI), log_prob against independent computations, sampling,
the log-prob verb (and its one-line refusal on kinds without a likelihood), tables, images, bad configs.

Independent references: the change of variables with an autodiff Jacobian of the whole data -> base map
(standardisation included), grid integration of the 2-D density to 1, and the exact shift of log p under a
rescaling of the data.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinngen
from pinngen import cli
from pinngen.config import ConfigError, dump_config, load_config
from pinngen.core import checkpoint as ckpt
from pinngen.core.train import fit
from pinngen.registry import get_kind

TINY_TRAIN = {"eval_every": 30, "progress": False,
              "phases": [{"optimizer": "adam", "lr": 3e-3, "steps": 60, "batch_size": 128}]}
TINY_EVAL = {"n_samples": 100, "permutations": 20, "grid_points": 20, "batch_size": 256}


def _toy_config(**data):
    return {"kind": "flow", "name": "flow-tiny", "seed": 1,
            "data": {"dataset": "two_moons", "toy_points": 600, "test_points": 200, **data},
            "model": {"flow": "nsf", "layers": 2, "width": 16, "depth": 1},
            "evaluation": TINY_EVAL, "train": TINY_TRAIN}


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    return pinngen.run(_toy_config(), out=tmp_path_factory.mktemp("flow") / "toy")


def test_toy_run_reports_likelihood_gap_invertibility_and_figures(toy_run):
    s = toy_run.metrics["summary"]
    for k in ("test_nll_nats", "exact_test_log_likelihood", "gap_nats", "gap_se", "gaussian_test_nll_nats"):
        assert np.isfinite(s[k]), k
    assert s["test_log_likelihood"] == pytest.approx(-s["test_nll_nats"])
    assert s["inversion_error"] < 1e-3 and s["non_finite_samples"] == 0
    # the exact two-moons density on an independent draw averages about -0.97 nats (seeded, so stable)
    assert -1.05 < s["exact_test_log_likelihood"] < -0.9
    assert s["gap_nats"] == pytest.approx(s["exact_test_log_likelihood"] - s["test_log_likelihood"], abs=1e-9)
    for name in ("density.png", "samples.png", "loss_curves.png"):
        assert (toy_run.path / "figures" / name).exists(), name
    assert np.load(toy_run.path / "samples.npy").shape == (100, 2)
    assert "exact two_moons density" in get_kind("flow").headline(toy_run.metrics)
    assert (toy_run.path / "report.html").exists()
    assert toy_run.metrics["tables"][0]["title"] == "Test likelihood"


def test_log_prob_equals_change_of_variables_with_autodiff_jacobian(toy_run):
    x = np.random.default_rng(0).normal([0.5, 0.25], [0.9, 0.5], (40, 2))
    lp = toy_run.log_prob(x)
    spec = ckpt.load_spec(toy_run.path / "model")
    flow = toy_run.model
    mu, sd = jnp.asarray(spec["mean"], jnp.float32), jnp.asarray(spec["std"], jnp.float32)

    def to_base(v):  # data units (2,) -> base space (2,), standardisation included
        return flow.dist.bijection.inverse((v - mu) / sd)

    def log_p(v):
        u = to_base(v)
        log_det = jnp.linalg.slogdet(jax.jacfwd(to_base)(v))[1]
        return -0.5 * jnp.sum(u * u) - math.log(2 * math.pi) + log_det

    ref = np.asarray(jax.vmap(log_p)(jnp.asarray(x, jnp.float32)))
    np.testing.assert_allclose(lp, ref, atol=2e-4)


def test_density_integrates_to_one_over_the_plane(toy_run):
    spec = ckpt.load_spec(toy_run.path / "model")
    mu, sd = np.asarray(spec["mean"]), np.asarray(spec["std"])
    n = 321
    axes = [np.linspace(m - 9 * s, m + 9 * s, n) for m, s in zip(mu, sd, strict=True)]
    pts = np.stack(np.meshgrid(*axes), -1).reshape(-1, 2)
    cell = (axes[0][1] - axes[0][0]) * (axes[1][1] - axes[1][0])
    total = float(np.sum(np.exp(toy_run.log_prob(pts))) * cell)
    assert total == pytest.approx(1.0, abs=0.02)


def test_samples_follow_the_seed_and_temperature(toy_run):
    a, b = toy_run.sample(50, seed=3), toy_run.sample(50, seed=3)
    c = toy_run.sample(50, seed=4)
    assert a.shape == (50, 2) and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    cold = toy_run.sample(20, seed=3, temperature=0.0)  # every draw is f(0)
    np.testing.assert_allclose(cold, np.broadcast_to(cold[0], cold.shape), atol=1e-6)
    with pytest.raises(ValueError, match="temperature"):
        toy_run.sample(5, temperature=-1.0)


def test_log_prob_verb_writes_the_same_numbers_and_refuses_bad_shapes(toy_run, tmp_path, capsys):
    x = np.random.default_rng(1).normal(size=(30, 2))
    np.save(tmp_path / "x.npy", x)
    assert cli.main(["log-prob", str(toy_run.path), str(tmp_path / "x.npy"), "--out", str(tmp_path / "lp.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "lp.npy"), toy_run.log_prob(x), rtol=1e-6)
    np.save(tmp_path / "bad.npy", np.zeros((4, 3)))
    assert cli.main(["log-prob", str(toy_run.path), str(tmp_path / "bad.npy"), "--out", str(tmp_path / "o.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "(n, 2)" in err[0]


@pytest.mark.parametrize("kind", ["gan", "diffusion"])
def test_log_prob_verb_on_a_kind_without_likelihood_is_one_line(kind, tmp_path, capsys):
    raw = dict(get_kind(kind).contract_config, kind=kind)
    folder = tmp_path / kind
    folder.mkdir()
    (folder / "config.yaml").write_text(dump_config(load_config(raw)))  # refused before any model is read
    np.save(tmp_path / "x.npy", np.zeros((3, 2)))
    assert cli.main(["log-prob", str(folder), str(tmp_path / "x.npy"), "--out", str(tmp_path / "lp.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"kind {kind!r} has no log_prob" in err[0] and "flow" in err[0]
    assert not (tmp_path / "lp.npy").exists()


def test_cli_run_of_the_builtin_toy_strict_invertibility_finding_then_sample_with_temperature(tmp_path, capsys):
    out = tmp_path / "cli"
    sets = ["data.toy_points=400", "data.test_points=100", "model.layers=2", "model.width=8",
            "train.phases.0.steps=20", "train.phases.0.batch_size=64", "train.eval_every=10",
            "evaluation.n_samples=50", "evaluation.permutations=10", "evaluation.grid_points=16",
            "evaluation.inversion_tolerance=1e-12"]  # below float32 round-trip error: the finding must appear
    argv = ["run", "flow-toy", "--out", str(out), "--no-progress"] + [a for s in sets for a in ("--set", s)]
    assert cli.main(argv) == 0
    assert "nats" in capsys.readouterr().out
    run = pinngen.load(out)
    if run.metrics["summary"]["inversion_error"] > 1e-12:  # float32 round trips are rarely exact
        assert any(f.code == "flow_not_invertible" and f.hint for f in run.findings)
    assert cli.main(["sample", str(out), "-n", "7", "--temperature", "0.5", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (7, 2)


def _fit_table(x, tmp_path, name, **data):
    np.save(tmp_path / f"{name}.npy", x)
    cfg = load_config({"kind": "flow", "seed": 0, "data": {"dataset": "array", "path": str(tmp_path / f"{name}.npy"),
                                                           **data},
                       "model": {"flow": "maf", "layers": 2, "width": 8, "depth": 1}, "train": TINY_TRAIN})
    kind = get_kind("flow")
    setup = kind.setup(cfg)
    model, _ = fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=0, **setup.fit_kwargs)
    return kind, setup, model


def test_a_rescaled_table_shifts_log_p_by_the_log_jacobian_exactly(tmp_path):
    """The standardisation's log-determinant: log p_{cx}(c x) = log p_x(x) - d log c, for the same flow."""
    x = np.random.default_rng(2).normal(size=(400, 3)) @ np.array([[1.0, 0.5, 0.0], [0, 1, 0.3], [0, 0, 2]])
    kind, s1, m1 = _fit_table(x, tmp_path, "a")
    _, s2, m2 = _fit_table(10.0 * x, tmp_path, "b")
    pts = x[:20]
    np.testing.assert_allclose(kind.log_prob(m2, s2.spec, 10.0 * pts),
                               kind.log_prob(m1, s1.spec, pts) - 3 * math.log(10.0), atol=2e-4)


def test_csv_table_with_header_and_chosen_columns(tmp_path):
    rng = np.random.default_rng(3)
    table = np.column_stack([np.arange(300), rng.normal(size=300), rng.normal(size=300) * 5 + 2])
    path = tmp_path / "t.csv"
    np.savetxt(path, table, delimiter=",", header="id,a,b", comments="")
    cfg = load_config({"kind": "flow", "data": {"dataset": "array", "path": str(path), "columns": ["a", "b"]}})
    setup = get_kind("flow").setup(cfg)
    assert setup.spec["columns"] == ["a", "b"] and setup.spec["shape"] == [2]
    np.testing.assert_allclose(setup.spec["std"][1], 5.0, rtol=0.15)
    np.savetxt(tmp_path / "raw.csv", table[:, 1:], delimiter=",")  # no header: the first row is data
    setup2 = get_kind("flow").setup(load_config({"kind": "flow", "data": {"dataset": "array",
                                                                         "path": str(tmp_path / "raw.csv")}}))
    assert setup2.spec["shape"] == [2]
    assert len(setup2.extras["data"].x_train) + len(setup2.extras["data"].x_val) + len(
        setup2.extras["data"].x_test) == 300


def test_image_run_reports_bits_per_dim_and_temperature_grids(tmp_path):
    cfg = {"kind": "flow", "data": {"dataset": "digits", "fallback": None, "max_train": 300, "max_test": 60,
                                    "init_images": 64},
           "model": {"levels": 2, "steps_per_level": 1, "hidden": 8},
           "evaluation": {"n_samples": 8, "grid": 2, "temperatures": [1.0, 0.7]},
           "train": {"eval_every": 10, "progress": False,
                     "phases": [{"optimizer": "adam", "lr": 1e-3, "steps": 10, "batch_size": 32}]}}
    run = pinngen.run(cfg, out=tmp_path / "img")
    s = run.metrics["summary"]
    assert 0 < s["test_bpd"] < 12 and np.isfinite(s["histogram_bpd"]) and s["inversion_error"] < 1e-3
    assert (run.path / "figures" / "samples_T1.png").exists() and (run.path / "figures" / "samples_T0.7.png").exists()
    x = run.sample(5, seed=0, temperature=0.7)
    assert x.shape == (5, 8, 8) and x.min() >= 0 and x.max() <= 1
    imgs = np.load(run.path / "samples.npy")[:4]
    lp = run.log_prob(imgs)
    assert lp.shape == (4,) and np.all(np.isfinite(lp)) and np.all(lp < 0)
    assert "bits/dim" in get_kind("flow").headline(run.metrics)


@pytest.mark.parametrize("raw, words", [
    ({"data": {"dataset": "array"}}, "needs data.path"),
    ({"model": {"flow": "glow"}}, "model.flow"),
    ({"data": {"dataset": "digits", "fallback": None}, "model": {"levels": 4}}, "model.levels=4"),
    ({"data": {"dataset": "array", "path": "/no/such.npy"}}, "no such file"),
])
def test_bad_configs_are_one_line_errors(raw, words):
    with pytest.raises((ConfigError, ValueError)) as err:
        get_kind("flow").setup(load_config({"kind": "flow", **raw}))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_one_column_and_constant_column_tables_are_refused(tmp_path):
    np.save(tmp_path / "one.npy", np.random.default_rng(0).normal(size=(50, 1)))
    with pytest.raises(ConfigError, match="d >= 2"):
        get_kind("flow").setup(load_config({"kind": "flow", "data": {"dataset": "array",
                                                                     "path": str(tmp_path / "one.npy")}}))
    const = np.column_stack([np.random.default_rng(0).normal(size=50), np.ones(50)])
    np.save(tmp_path / "const.npy", const)
    with pytest.raises(ConfigError, match="constant"):
        get_kind("flow").setup(load_config({"kind": "flow", "data": {"dataset": "array",
                                                                     "path": str(tmp_path / "const.npy")}}))
