"""diagnose() on short real trainings that produce each finding (the synthetic cases live in test_diagnose.py)."""

import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.nn import MLP
from pinngen.core.train import TrainConfig, fit


def _mse(model, batch, key):
    return {"mse": jnp.mean((model(batch["x"], key=key) - batch["y"]) ** 2)}


def _codes(h, **ctx):
    return {f.code for f in h.diagnose(context=ctx or None)}


def _sine(n, seed, noise=0.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
    return {"x": x, "y": (np.sin(3 * x) + noise * rng.normal(size=x.shape)).astype(np.float32)}


def test_too_few_steps_is_still_learning():
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=150, lr=3e-3)], eval_every=50, progress=False)
    net = MLP(in_size=1, out_size=1, hidden=[32, 32], key=jax.random.PRNGKey(0))
    _, h = fit(net, _sine(256, 0), cfg, loss_terms=_mse)
    codes = _codes(h)
    assert "still_learning" in codes and "converged" not in codes


def test_lbfgs_to_tolerance_is_converged():
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=300, lr=1e-2), dict(optimizer="lbfgs", steps=3000)],
                      eval_every=100, progress=False)
    net = MLP(in_size=1, out_size=1, hidden=[8], key=jax.random.PRNGKey(0))
    _, h = fit(net, _sine(128, 0), cfg, loss_terms=_mse)
    assert h.meta["phases"][1]["stop_reason"] in ("loss_change_tol", "grad_tol", "line_search_failed")
    codes = _codes(h)
    assert "converged" in codes and "still_learning" not in codes and "diverged" not in codes


def test_big_network_on_few_noisy_points_overfits():
    train, val = _sine(12, 0, noise=0.3), _sine(200, 1, noise=0.3)
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=3000, lr=3e-3)], eval_every=25, progress=False)
    net = MLP(in_size=1, out_size=1, hidden=[128, 128], key=jax.random.PRNGKey(0))
    _, h = fit(net, train, cfg, loss_terms=_mse, val_data=val)
    assert "overfitting" in _codes(h)


def test_dropout_gives_validation_below_training_with_the_regularisation_remark():
    data, val = _sine(512, 0), _sine(512, 1)
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=800, lr=3e-3, batch_size=64)], eval_every=20,
                      progress=False)
    net = MLP(in_size=1, out_size=1, hidden=[64, 64], dropout=0.3, activation="relu", key=jax.random.PRNGKey(0))
    _, h = fit(net, data, cfg, loss_terms=_mse, val_data=val)
    found = {f.code: f for f in h.diagnose(context={"dropout": 0.3, "regularised": True})}
    assert "val_below_train" in found and found["val_below_train"].severity == "info"


def test_far_too_high_sgd_learning_rate_diverges():
    cfg = TrainConfig(phases=[dict(optimizer="sgd", steps=200, lr=50.0)], eval_every=50, progress=False)
    net = MLP(in_size=1, out_size=1, hidden=[16], key=jax.random.PRNGKey(0))
    _, h = fit(net, _sine(64, 0), cfg, loss_terms=_mse)
    assert "diverged" in _codes(h)


def test_terms_out_of_balance():
    def two(model, batch, key):
        r = model(batch["x"]) - batch["y"]
        return {"data": jnp.mean(r**2), "penalty": 1e4 * (1.0 + jnp.mean(model.layers[0].bias ** 2))}

    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=300, lr=1e-2)], eval_every=100, progress=False)
    net = MLP(in_size=1, out_size=1, hidden=[16], key=jax.random.PRNGKey(0))
    _, h = fit(net, _sine(64, 0), cfg, loss_terms=two)
    assert "terms_imbalanced" in _codes(h)
