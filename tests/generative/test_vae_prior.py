"""The VAE's flow prior: a normalised density (against N(0, I) at init, a change of variables with an autodiff
Jacobian, a grid integral), the Monte-Carlo KL against the closed form, importance weights, checkpoints, and a
tiny run end to end through ``pinngen.run``, the CLI (``--set model.prior=flow``) and ``pinngen sample``."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinngen
from pinngen.config import ConfigError, load_config
from pinngen.core import checkpoint as ckpt
from pinngen.generative import vae as V
from pinngen.generative.vae_experiment import template
from pinngen.generative.vae_prior import FLOWS, FlowPrior
from pinngen.registry import get_kind

LOG_2PI = np.log(2 * np.pi)


def _normal_logpdf(z):
    z = np.asarray(z, np.float64)
    return -0.5 * np.sum(LOG_2PI + z**2, axis=-1)


def _prior(flow, dim=3, key=0):
    return FlowPrior(dim, flow=flow, layers=2, width=8, knots=5, interval=3.0, key=jax.random.PRNGKey(key))


def _perturb(module, scale=0.3, key=1):
    """Every float leaf plus Gaussian noise: a flow far from its (identity) start."""
    params, static = eqx.partition(module, eqx.is_inexact_array)
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(key), len(leaves))
    noisy = [a + scale * jax.random.normal(k, a.shape, a.dtype) for a, k in zip(leaves, keys, strict=True)]
    return eqx.combine(jax.tree_util.tree_unflatten(tree, noisy), static)


def _spec(prior=None, latent=3):
    return dict(image_shape=[8, 8], latent_dim=latent, architecture="dense", hidden=[16], channels=[4],
                observation="logistic", variance="learned", sigma=0.2, levels=17, activation="tanh",
                dtype="float32", prior=prior)


FLOW_SETTINGS = dict(flow="maf", layers=2, width=8, depth=1, knots=5, interval=3.0)


@pytest.mark.parametrize("flow", FLOWS)
def test_flow_prior_starts_as_the_standard_normal(flow):
    z = 2.0 * np.asarray(jax.random.normal(jax.random.PRNGKey(3), (50, 3)))
    np.testing.assert_allclose(np.asarray(_prior(flow).log_prob(z)), _normal_logpdf(z), atol=1e-4)


@pytest.mark.parametrize("flow", FLOWS)
def test_log_prob_is_a_change_of_variables(flow):
    prior = _perturb(_prior(flow))
    z = 1.5 * jax.random.normal(jax.random.PRNGKey(4), (20, 3))
    u = prior.to_base(z)
    np.testing.assert_allclose(np.asarray(prior.from_base(u)), np.asarray(z), atol=1e-4)  # invertible
    inverse = prior.flow.bijection.inverse
    jac = jax.vmap(jax.jacfwd(inverse))(z)  # (20, 3, 3), by autodiff: independent of FlowJAX's log-dets
    logdet = np.linalg.slogdet(np.asarray(jac, np.float64))[1]
    want = _normal_logpdf(u) + logdet
    got = np.asarray(prior.log_prob(z))
    np.testing.assert_allclose(got, want, atol=2e-3)
    assert np.max(np.abs(got - _normal_logpdf(z))) > 0.05  # the perturbed flow is not N(0, I) any more
    # leading axes pass through
    assert prior.log_prob(z.reshape(4, 5, 3)).shape == (4, 5)


@pytest.mark.parametrize("flow", FLOWS)
def test_density_integrates_to_the_mass_its_samples_put_in_a_box(flow):
    """The grid integral of exp(log_prob) over [-9, 9]^2 equals the share of the flow's own draws in that box
    (a perturbed flow has heavy tails, so the box need not hold all the mass): density and sampler agree."""
    prior = _perturb(_prior(flow, dim=2), scale=0.4)
    g = np.linspace(-9.0, 9.0, 1201)
    h = g[1] - g[0]
    zz = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    p = np.exp(np.asarray(prior.log_prob(jnp.asarray(zz, jnp.float32)), np.float64))
    draws = np.asarray(prior.sample(40_000, jax.random.PRNGKey(0)))
    inside = np.mean(np.all(np.abs(draws) < 9.0, axis=1))
    assert inside > 0.9
    assert abs(p.sum() * h * h - inside) < 0.006, (p.sum() * h * h, inside)


def test_monte_carlo_kl_matches_the_closed_form_under_a_standard_normal_prior():
    prior = _prior("realnvp")  # at init: p(z) = N(0, I) exactly (checked above)
    mean = jnp.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.2]])
    log_var = jnp.array([[-1.0, 0.5, -2.0], [0.2, -0.5, 1.0]])
    n = 20_000
    z = V.reparameterize(jnp.broadcast_to(mean, (n, 2, 3)), log_var, jax.random.PRNGKey(7))
    kl = np.asarray(prior.kl(mean, log_var, z), np.float64)  # (n, 2) one-draw estimates
    closed = 0.5 * np.sum(np.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)  # written out here
    se = kl.std(axis=0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(kl.mean(axis=0) - closed) < 4 * se), (kl.mean(axis=0), closed, se)
    # posterior equal to the prior: every single draw gives exactly 0
    zeros = jnp.zeros((1, 3))
    z0 = V.reparameterize(jnp.broadcast_to(zeros, (100, 1, 3)), zeros, jax.random.PRNGKey(8))
    np.testing.assert_allclose(np.asarray(prior.kl(zeros, zeros, z0)), 0.0, atol=1e-5)


def test_importance_weights_and_samples_use_the_flow_prior():
    gauss = template(_spec(), key=jax.random.PRNGKey(0))
    flow = _perturb(template(_spec(FLOW_SETTINGS), key=jax.random.PRNGKey(0)).prior, key=2)
    model = eqx.tree_at(lambda m: m.prior, gauss, flow, is_leaf=lambda x: x is None)
    x = jnp.asarray(np.random.default_rng(0).integers(0, 17, (4, 8, 8)) / 16.0, jnp.float32)
    key, dkey = jax.random.PRNGKey(5), jax.random.PRNGKey(6)
    lw_flow = model.log_weights(x, key, 6, data_key=dkey)
    lw_gauss = gauss.log_weights(x, key, 6, data_key=dkey)
    mean, log_var = V.encode(gauss, x)
    z = V.reparameterize(jnp.broadcast_to(mean, (6, *mean.shape)), log_var, key)  # the same draws
    np.testing.assert_allclose(np.asarray(lw_flow - lw_gauss),
                               np.asarray(flow.log_prob(z)) - _normal_logpdf(z), atol=1e-3)
    codes = V.draw_prior(model, 5, jax.random.PRNGKey(9))
    np.testing.assert_allclose(np.asarray(codes), np.asarray(flow.sample(5, jax.random.PRNGKey(9))))
    img = np.asarray(V.sample(model, 5, jax.random.PRNGKey(9)))
    assert img.shape == (5, 8, 8) and img.min() >= 0 and img.max() <= 1


def test_checkpoint_round_trip_keeps_the_log_prob(tmp_path):
    spec = _spec(FLOW_SETTINGS)
    m = template(spec, key=jax.random.PRNGKey(0))
    m = eqx.tree_at(lambda t: t.prior, m, _perturb(m.prior))
    ckpt.save_model(tmp_path, m, spec)
    back = ckpt.load_model(tmp_path, template(ckpt.load_spec(tmp_path), key=jax.random.PRNGKey(5)))
    x = jnp.asarray(np.random.default_rng(1).integers(0, 17, (3, 8, 8)) / 16.0, jnp.float32)
    z = jax.random.normal(jax.random.PRNGKey(2), (7, 3))
    np.testing.assert_array_equal(np.asarray(back.prior.log_prob(z)), np.asarray(m.prior.log_prob(z)))
    np.testing.assert_array_equal(V.log_prob(back, x, jax.random.PRNGKey(3), k=4),
                                  V.log_prob(m, x, jax.random.PRNGKey(3), k=4))
    with pytest.raises(ckpt.CheckpointError):  # a Gaussian-prior template cannot take flow-prior weights
        ckpt.load_model(tmp_path, template(_spec(), key=jax.random.PRNGKey(0)))


def _config(**model):
    return {"kind": "vae", "name": "vae-flow-tiny", "seed": 0,
            "data": {"dataset": "digits", "fallback": None, "max_train": 128, "max_test": 20, "val": 0.1},
            "model": {"latent_dim": 2, "hidden": [16], **model},
            "evaluation": {"is_samples": 3, "batch_size": 20, "grid": 3, "traversal_dims": 2, "audit_steps": 0},
            "train": {"eval_every": 10, "phases": [{"steps": 20, "batch_size": 32, "lr": 3e-3}]}}


def test_flow_prior_run_end_to_end(tmp_path):
    cfg = _config(prior="flow", kl_warmup_steps=10, flow_prior={"flow": "realnvp", "layers": 2, "width": 8})
    run = pinngen.run(cfg, out=tmp_path / "run", progress=False)
    s, notes = run.metrics["summary"], run.metrics["notes"]
    assert s["prior"] == "flow" and s["prior_flow"] == "realnvp" and s["prior_inverse_error"] < 1e-4
    assert np.isfinite(s["test_nll_is_nats"]) and s["test_nll_is_nats"] <= s["test_neg_elbo_nats"]
    assert any("learned realnvp flow" in n for n in notes)
    rows = next(t for t in run.metrics["tables"] if t["title"] == "Test likelihood (lower is better)")["rows"]
    assert rows[1][0].startswith("VAE (flow prior) importance-sampled bound")
    assert "flow prior" in get_kind("vae").headline(run.metrics)
    for fig in ("samples", "traversals", "latent_prior", "reconstructions"):
        assert (tmp_path / "run" / "figures" / f"{fig}.png").exists(), fig
    np.testing.assert_allclose(run.history.column("weight/kl")[:12], np.minimum(np.arange(12) / 10, 1.0),
                               rtol=1e-6)  # the KL warm-up still applies
    spec = ckpt.load_spec(tmp_path / "run" / "model")
    assert spec["prior"]["flow"] == "realnvp"
    trained = pinngen.load(tmp_path / "run").model  # from the checkpoint
    init = template(spec, key=jax.random.PRNGKey(0))  # the prior trained jointly: its weights moved

    def floats(m):
        return jax.tree_util.tree_leaves(eqx.filter(m.prior, eqx.is_inexact_array))

    assert max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(floats(trained), floats(init), strict=True)) > 1e-4
    x = np.random.default_rng(2).integers(0, 17, (3, 8, 8)) / 16.0
    assert np.all(np.isfinite(V.log_prob(trained, x, jax.random.PRNGKey(0), k=3)))


def test_cli_set_prior_flow_and_sample(tmp_path):
    import yaml

    from pinngen.cli import main

    path = tmp_path / "tiny.yaml"
    cfg = _config()
    cfg["evaluation"].update(traversal_dims=0)
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--no-progress", "--set", "model.prior=flow",
                 "--set", "model.flow_prior.layers=1", "--set", "model.flow_prior.width=8"]) == 0
    assert json.loads((out / "metrics.json").read_text())["summary"]["prior"] == "flow"
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    assert main(["sample", str(out), "-n", "6", "--out", str(a), "--seed", "3"]) == 0
    assert main(["sample", str(out), "-n", "6", "--out", str(b), "--seed", "3"]) == 0
    x = np.load(a)
    assert x.shape == (6, 8, 8) and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(x, np.load(b))


def test_bad_prior_settings_are_one_line_errors():
    with pytest.raises(ConfigError, match="model.prior"):
        load_config(_config(prior="student"))
    with pytest.raises(ConfigError, match="model.flow_prior.flow"):
        load_config(_config(prior="flow", flow_prior={"flow": "glow"}))
    with pytest.raises(ValueError, match="at least 2 latent units"):
        FlowPrior(1, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="latent_dim=3"):
        V.VAE(image_shape=(8, 8), latent_dim=3, hidden=[8], prior=_prior("maf", dim=2), key=jax.random.PRNGKey(0))
