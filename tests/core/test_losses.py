"""Losses against NumPy references; fused (raw output) losses against the two-step ones."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core import losses as L

RNG = np.random.default_rng(0)
N, K = 6, 4
Y_REG = RNG.normal(size=(N, 2))
P_REG = RNG.normal(size=(N, 2))
Z = RNG.normal(scale=2.0, size=(N, K))  # logits
PROBS = np.exp(Z) / np.exp(Z).sum(-1, keepdims=True)
LABELS = RNG.integers(0, K, size=N)
ONEHOT = np.eye(K)[LABELS]
TARGET_DIST = RNG.dirichlet(np.ones(K), size=N)
Y01 = RNG.integers(0, 2, size=(N, K)).astype(float)
SIG = 1 / (1 + np.exp(-Z))


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), b, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- references


def test_regression_losses_match_numpy():
    r = P_REG - Y_REG
    close(L.mse(P_REG, Y_REG), np.mean(r**2))
    close(L.mae(P_REG, Y_REG), np.mean(np.abs(r)))
    for delta in (0.5, 1.0):
        ref = np.mean(np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)))
        close(L.huber(P_REG, Y_REG, delta=delta), ref)
    pos_p, pos_y = np.abs(P_REG) * 10, np.abs(Y_REG) * 100
    close(L.msle(pos_p, pos_y), np.mean((np.log1p(pos_p) - np.log1p(pos_y)) ** 2))
    rate, counts = np.exp(P_REG), RNG.poisson(2.0, size=P_REG.shape)
    close(L.poisson(rate, counts), np.mean(rate - counts * np.log(rate)))


def test_classification_losses_match_numpy():
    close(L.binary_crossentropy(SIG, Y01), -np.mean(Y01 * np.log(SIG) + (1 - Y01) * np.log(1 - SIG)))
    cce = -np.mean(np.log(PROBS[np.arange(N), LABELS]))
    close(L.categorical_crossentropy(PROBS, ONEHOT), cce)
    close(L.categorical_crossentropy(PROBS, LABELS), cce)  # integer labels (n,)
    close(L.categorical_crossentropy(PROBS, LABELS[:, None]), cce)  # labels (n, 1)
    close(L.categorical_crossentropy(PROBS, LABELS.astype(float)), cce)  # float labels from a CSV
    close(L.sparse_categorical_crossentropy(PROBS, LABELS), cce)
    soft = -np.mean(np.sum(TARGET_DIST * np.log(PROBS), -1))
    close(L.categorical_crossentropy(PROBS, TARGET_DIST), soft)
    kl = np.mean(np.sum(TARGET_DIST * (np.log(TARGET_DIST) - np.log(PROBS)), -1))
    close(L.kl_divergence(PROBS, TARGET_DIST), kl)
    entropy = -np.mean(np.sum(TARGET_DIST * np.log(TARGET_DIST), -1))
    close(L.kl_divergence(PROBS, TARGET_DIST), soft - entropy)
    close(L.kl_divergence(PROBS, PROBS), 0.0, atol=1e-6)
    close(L.kl_divergence(PROBS, ONEHOT), cce)  # 0 log 0 = 0


def test_gaussian_nll_matches_numpy():
    mean, log_var = P_REG, RNG.normal(size=P_REG.shape)
    ref = np.mean(0.5 * (np.log(2 * np.pi) + log_var + (Y_REG - mean) ** 2 / np.exp(log_var)))
    close(L.gaussian_nll(np.concatenate([mean, log_var], -1), Y_REG), ref)
    m, v, y = mean[:, 0], log_var[:, 0], Y_REG[:, 0]
    ref1 = np.mean(0.5 * (np.log(2 * np.pi) + v + (y - m) ** 2 / np.exp(v)))
    close(L.gaussian_nll(np.stack([m, v], -1), y), ref1)  # (n, 2) against (n,)
    with pytest.raises(ValueError, match="mean, log_var"):
        L.gaussian_nll(np.zeros((N, 3)), np.zeros((N, 1)))
    with pytest.raises(ValueError, match="means"):
        L.gaussian_nll(np.zeros((N, 4)), np.zeros((N, 3)))


def test_shapes_are_matched_not_broadcast():
    y = Y_REG[:, 0]
    close(L.mse(y[:, None], y), 0.0)  # (n, 1) against (n,) is the same column
    close(L.binary_crossentropy(SIG[:, :1], Y01[:, 0]), L.binary_crossentropy(SIG[:, 0], Y01[:, 0]))
    with pytest.raises(ValueError, match="broadcast"):
        L.mse(P_REG, Y_REG[:, 0])  # (n, 2) against (n,) would silently give an (n, n) loss
    with pytest.raises(ValueError, match="integer labels"):
        L.categorical_crossentropy(PROBS, ONEHOT[:, :2])
    with pytest.raises(ValueError, match="one-hot"):
        L.sparse_categorical_crossentropy(PROBS, ONEHOT)
    with pytest.raises(ValueError, match="kl_divergence"):
        L.kl_divergence(PROBS, LABELS)


def test_losses_are_jittable_and_differentiable():
    for name in ("mse", "binary_crossentropy", "categorical_crossentropy"):
        fn = L.get_loss(name)
        pred = SIG if name == "binary_crossentropy" else PROBS
        target = LABELS if name == "categorical_crossentropy" else Y01
        value, grad = jax.jit(jax.value_and_grad(fn))(jnp.asarray(pred, jnp.float32), target)
        assert value.shape == () and np.all(np.isfinite(grad))


# --------------------------------------------------------------------------- fused


def _target_for(loss):
    return {
        "binary_crossentropy": Y01,
        "categorical_crossentropy": ONEHOT,
        "sparse_categorical_crossentropy": LABELS,
        "kl_divergence": TARGET_DIST,
        "poisson": RNG.poisson(2.0, size=Z.shape),
        "mse": Y01,
        "msle": np.abs(Y_REG[:, :1]).repeat(K, 1),
    }[loss]


PAIRS = [*L.FUSED, ("linear", "mse"), ("softplus", "msle"), ("tanh", "mse")]


@pytest.mark.parametrize("activation,loss", PAIRS)
def test_fused_equals_unfused_for_moderate_logits(activation, loss):
    target = _target_for(loss)
    fused = L.output_loss(activation, loss)(Z, target)
    unfused = L.get_loss(loss)(L.get_output_activation(activation)(jnp.asarray(Z)), target)
    assert np.isfinite(fused)
    close(fused, float(unfused), rtol=1e-5)
    assert fused.dtype == jnp.float32


def test_fused_categorical_labels_equal_one_hot():
    fn = L.output_loss("softmax", "categorical_crossentropy")
    close(fn(Z, LABELS), float(fn(Z, ONEHOT)))
    close(L.output_loss("softmax", "sparse_categorical_crossentropy")(Z, LABELS), float(fn(Z, ONEHOT)))


def value_grad(fn, *args):
    """Loss and gradient w.r.t. the first argument, jitted (one compile instead of one per primitive)."""
    return jax.jit(jax.value_and_grad(fn))(*args)


def test_fused_bce_is_exact_for_extreme_logits_where_two_steps_fail():
    z = np.array([100.0, -100.0, 100.0, -100.0], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0], np.float32)
    exact = np.mean(np.logaddexp(0, z.astype(np.float64)) - y * z)  # = (100 + 100 + 0 + 0) / 4
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        naive = -np.mean(y * np.log(1 / (1 + np.exp(-z))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-z))))
    assert not np.isfinite(naive)  # the textbook two-step formula overflows
    value, grad = value_grad(L.output_loss("sigmoid", "binary_crossentropy"), z, y)
    close(value, exact, rtol=1e-6)
    close(grad, (1 / (1 + np.exp(-z.astype(np.float64))) - y) / z.size)
    # the library's two-step loss stays finite only by clipping: wrong value and zero gradient
    two_step = L.output_loss("linear", "binary_crossentropy")
    value, grad = value_grad(lambda z, y: two_step(jax.nn.sigmoid(z), y), z, y)
    assert float(value) < exact / 2 and np.all(np.asarray(grad) == 0)


def test_fused_softmax_and_exp_are_exact_for_extreme_logits():
    zs = np.array([[100.0, -100.0, 0.0], [-100.0, 100.0, 0.0]], np.float32)
    labels = np.array([1, 0])
    exact = 200.0 + np.log1p(np.exp(-100.0) + np.exp(-200.0))  # -log softmax(z)[label], each row
    with np.errstate(over="ignore", invalid="ignore"):
        naive_p = np.exp(zs) / np.exp(zs).sum(-1, keepdims=True)  # float32 exp(100) = inf: inf / inf
    assert not np.all(np.isfinite(naive_p))
    for loss, target in (("categorical_crossentropy", labels), ("kl_divergence", np.eye(3)[labels])):
        value, grad = value_grad(L.output_loss("softmax", loss), zs, target)
        close(value, exact, rtol=1e-6)
        assert np.all(np.isfinite(grad))
    close(L.output_loss("exp", "poisson")(np.array([-100.0]), np.array([3.0])), 300.0, rtol=1e-6)


def test_fused_gradients_are_prediction_minus_target():
    _, g = value_grad(L.output_loss("sigmoid", "binary_crossentropy"), jnp.asarray(Z), Y01)
    close(g, (SIG - Y01) / Z.size, rtol=1e-5)
    _, g = value_grad(L.output_loss("softmax", "categorical_crossentropy"), jnp.asarray(Z), LABELS)
    close(g, (PROBS - ONEHOT) / N, rtol=1e-5)


def test_fused_loss_jits():
    fn = jax.jit(L.output_loss("softmax", "categorical_crossentropy"))
    close(fn(Z, LABELS), float(L.categorical_crossentropy(PROBS, LABELS)), rtol=1e-5)
    assert L.output_loss("softmax", "categorical_crossentropy").__name__ == "softmax_categorical_crossentropy"


# --------------------------------------------------------------------------- activations and names


def test_output_activations():
    x = np.linspace(-3, 3, 7)
    refs = {
        "linear": x,
        "sigmoid": 1 / (1 + np.exp(-x)),
        "softmax": np.exp(x) / np.exp(x).sum(),
        "relu": np.maximum(x, 0),
        "softplus": np.log1p(np.exp(x)),
        "tanh": np.tanh(x),
        "exp": np.exp(x),
    }
    assert set(refs) == set(L.OUTPUT_ACTIVATIONS)
    for name, ref in refs.items():
        close(L.get_output_activation(name)(x), ref)
    close(L.OUTPUT_ACTIVATIONS["softmax"](Z).sum(-1), np.ones(N))  # over the last (class) axis


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match="unknown loss 'mean_squared'.*'mse'"):
        L.get_loss("mean_squared")
    with pytest.raises(ValueError, match="unknown output activation 'gelu'.*'softmax'"):
        L.get_output_activation("gelu")
    with pytest.raises(ValueError, match="choose one of"):
        L.output_loss("softmax", "cross_entropy")
    with pytest.raises(ValueError, match="choose one of"):
        L.output_loss("soft_max", "mse")
