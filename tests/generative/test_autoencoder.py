"""Autoencoder contracts: finite named terms, gradients reach every parameter, shapes, checkpoint round trip,
same seed same result; denoising; per-sample/per-class errors and anomaly thresholds."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core import checkpoint as ckpt
from pinngen.core.train import fit
from pinngen.generative import ae_experiment
from pinngen.generative import autoencoder as ae

SHAPE = (8, 8)
CASES = [
    ("dense", "linear_mse", "none"),
    ("dense", "sigmoid_mse", "gaussian"),
    ("dense", "sigmoid_bce", "masking"),
    ("conv", "sigmoid_bce", "none"),
]


def _spec(arch, output, noise):
    return dict(architecture=arch, image_shape=list(SHAPE), latent=3, hidden=[8], channels=[2, 3],
                activation="relu", output=output, noise=noise, noise_level=0.3, dtype="float32")


def _images(n=16, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, *SHAPE)).astype(np.float32)


@eqx.filter_jit
def _terms(model, x, key):
    return model.loss_terms({"x": x}, key)


@eqx.filter_jit
def _grads(params, static, x, key):
    return jax.grad(lambda p: eqx.combine(p, static).loss_terms({"x": x}, key)["reconstruction"])(params)


@eqx.filter_jit
def _forward(model, x):
    z = model.encode(x)
    return z, model.decode(z), model.reconstruct(x)


@pytest.fixture(params=CASES, ids=["-".join(c) for c in CASES])
def case(request):
    spec = _spec(*request.param)
    return spec, ae_experiment.template(spec, key=jax.random.PRNGKey(1))


def test_terms_finite_and_named(case):
    _, model = case
    terms = _terms(model, _images(), jax.random.PRNGKey(0))
    assert set(terms) == {"reconstruction"}
    assert np.isfinite(float(terms["reconstruction"]))


def test_gradients_reach_every_parameter(case):
    _, model = case
    params, static = eqx.partition(model, eqx.is_inexact_array)
    grads = _grads(params, static, _images(), jax.random.PRNGKey(0))
    for path, g in jax.tree_util.tree_leaves_with_path(grads):
        assert np.any(np.asarray(g) != 0), f"no gradient reaches {jax.tree_util.keystr(path)}"


def test_shapes_and_output_range(case):
    spec, model = case
    z, y, r = _forward(model, _images(5))
    assert z.shape == (5, 3) and y.shape == (5, *SHAPE) and r.shape == (5, *SHAPE)
    if spec["output"].startswith("sigmoid"):
        assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_checkpoint_round_trip(case, tmp_path):
    spec, model = case
    ckpt.save_model(tmp_path, model, spec)
    loaded = ckpt.load_model(tmp_path, ae_experiment.template(ckpt.load_spec(tmp_path)))
    x = _images(4)
    np.testing.assert_array_equal(np.asarray(_forward(model, x)[2]), np.asarray(_forward(loaded, x)[2]))


def test_same_seed_same_model_and_loss(case):
    spec, model = case
    again = ae_experiment.template(spec, key=jax.random.PRNGKey(1))
    other = ae_experiment.template(spec, key=jax.random.PRNGKey(2))
    for a, b in zip(jax.tree_util.tree_leaves(model), jax.tree_util.tree_leaves(again), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    key = jax.random.PRNGKey(3)
    la = _terms(model, _images(), key)["reconstruction"]
    lb = _terms(again, _images(), key)["reconstruction"]
    assert float(la) == float(lb)
    assert float(_terms(other, _images(), key)["reconstruction"]) != float(la)


def test_training_is_deterministic_and_reduces_loss():
    spec = _spec("dense", "sigmoid_bce", "none")
    cfg = {"phases": [{"optimizer": "adam", "lr": 1e-2, "steps": 30, "batch_size": 8}], "eval_every": 30,
           "progress": False}
    x = _images(32)
    runs = [fit(ae_experiment.template(spec, key=jax.random.PRNGKey(0)), {"x": x}, cfg, seed=4) for _ in range(2)]
    np.testing.assert_array_equal(runs[0][1].column("loss"), runs[1][1].column("loss"))
    _, loss = runs[0][1].series("loss")
    assert loss[-5:].mean() < loss[:5].mean()


def test_denoising_noise_only_with_a_key():
    spec = _spec("dense", "sigmoid_mse", "masking")
    model = ae_experiment.template(spec)
    x = _images(8)
    clean = float(_terms(model, x, None)["reconstruction"])
    noisy = float(_terms(model, x, jax.random.PRNGKey(0))["reconstruction"])
    assert clean != noisy
    masked = np.asarray(model.corrupt(jnp.asarray(x), jax.random.PRNGKey(0)))
    assert 0.1 < np.mean(masked == 0) < 0.5  # noise_level 0.3 of the pixels zeroed
    gauss = ae_experiment.template(_spec("dense", "sigmoid_mse", "gaussian"))
    g = np.asarray(gauss.corrupt(jnp.asarray(x), jax.random.PRNGKey(0)))
    assert g.min() >= 0 and g.max() <= 1 and not np.allclose(g, x)


def test_dense_default_sizes_match_the_lecture():
    m64 = ae.dense_autoencoder(image_shape=(28, 28), latent=64, key=jax.random.PRNGKey(0))
    m16 = ae.dense_autoencoder(image_shape=(28, 28), latent=16, key=jax.random.PRNGKey(0))
    assert m64.n_params() == 218_192 and m16.n_params() == 205_856
    assert m64.encode(np.zeros((2, 784), np.float32)).shape == (2, 64)  # flattened pixels accepted


@pytest.mark.parametrize("kwargs, word", [(dict(output="tanh_mse"), "output"), (dict(noise="salt"), "noise"),
                                          (dict(latent=0), "latent"), (dict(architecture="rnn"), "architecture")])
def test_bad_arguments_name_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ae.autoencoder(**{"image_shape": SHAPE, "key": jax.random.PRNGKey(0), **kwargs})


class _Identity:
    """Any object with ``reconstruct`` works with the error functions."""

    def reconstruct(self, x):
        return x + 0.0


def test_errors_per_sample_per_class_and_anomaly_threshold():
    spec = _spec("dense", "sigmoid_bce", "none")
    model = ae_experiment.template(spec)
    x, y = _images(40), np.repeat(np.arange(4), 10)
    err = ae.reconstruction_error(model, x, batch_size=16)  # 40 = 16 + 16 + 8 (padded)
    assert err.shape == (40,) and np.all(err > 0)
    np.testing.assert_allclose(err, ae.reconstruction_error(model, x, batch_size=1000), rtol=1e-6)
    bce = ae.reconstruction_error(model, x, metric="bce")
    assert np.all(np.isfinite(bce))
    per = ae.per_class_error(model, x, y, classes=["a", "b", "c", "d"])
    assert list(per) == ["a", "b", "c", "d"]
    np.testing.assert_allclose(per["b"], err[10:20].mean(), rtol=1e-6)
    det = ae.anomaly_detector(model, x, quantile=0.9)
    assert det.threshold == pytest.approx(np.quantile(err, 0.9), rel=1e-6)
    assert 0.05 <= np.mean(det(x)) <= 0.15
    assert np.all(det(np.ones((3, *SHAPE), np.float32)) | (ae.reconstruction_error(model, np.ones((3, *SHAPE)))
                                                          <= det.threshold))
    assert np.all(ae.reconstruction_error(_Identity(), x) == 0)
