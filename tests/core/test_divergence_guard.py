"""The divergence guard: a non-finite step in a first-order phase restores the last good state and retries the
phase with a smaller learning rate; the history and the diagnosis say so; resume keeps the retried rate."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.nn import MLP
from pinngen.core.train import TrainConfig, fit


def _data(n=256, seed=0):
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 1)).astype(np.float32)
    return {"x": x, "y": np.sin(3 * x)}


def _mse(model, batch, key):
    return {"mse": jnp.mean((model(batch["x"]) - batch["y"]) ** 2)}


def _net(seed=0):
    return MLP(in_size=1, out_size=1, hidden=[16, 16], activation="tanh", key=jax.random.PRNGKey(seed))


def _cfg(**guard):
    return TrainConfig(phases=[dict(optimizer="sgd", steps=400, lr=1e3)], eval_every=50, chunk=50, progress=False,
                       divergence=guard or None)


def test_retry_with_a_smaller_rate_recovers_and_is_reported():
    model, h = fit(_net(), _data(), _cfg(retries=2, lr_factor=1e-4), loss_terms=_mse)
    events = h.meta["divergence_retries"]
    assert len(events) == 1 and events[0]["lr_before"] == pytest.approx(1e3)
    assert events[0]["lr_after"] == pytest.approx(0.1) and events[0]["restored_step"] == 0
    assert 0 < events[0]["step"] < 400
    assert not h.meta["diverged"] and h.meta["phases"][-1]["stop_reason"] == "max_steps"
    assert h.meta["phases"][-1]["steps_run"] == 400 and int(h.steps[-1]) == 399  # went on to its end
    loss = h.column("loss")
    assert np.isfinite(loss[-1]) and loss[-1] < 0.2
    assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree_util.tree_leaves(model))
    found = {f.code: f for f in h.diagnose()}
    assert found["diverged"].severity == "warning" and "retried" in found["diverged"].message
    assert "finite losses" in found["diverged"].message


def test_retries_run_out_and_the_run_ends_diverged():
    model, h = fit(_net(), _data(), _cfg(retries=2, lr_factor=0.5), loss_terms=_mse)
    events = h.meta["divergence_retries"]
    assert [e["retry"] for e in events] == [1, 2] and events[1]["lr_after"] == pytest.approx(250.0)
    assert h.meta["diverged"] and h.meta["phases"][-1]["stop_reason"] == "non_finite"
    assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree_util.tree_leaves(model))
    found = {f.code: f for f in h.diagnose()}
    assert found["diverged"].severity == "error" and "retry 2 of 2" in found["diverged"].message


def test_without_a_guard_nothing_is_retried():
    _, h = fit(_net(), _data(), _cfg(), loss_terms=_mse)
    assert h.meta["diverged"] and "divergence_retries" not in h.meta


def test_resume_after_a_retry_equals_the_uninterrupted_run(tmp_path):
    cfg = _cfg(retries=2, lr_factor=1e-4).model_copy(update={"checkpoint_every": 50})
    ref, h_ref = fit(_net(), _data(), cfg, loss_terms=_mse)
    assert h_ref.meta["divergence_retries"]

    def stop_late(state):
        state.stop = state.step >= 300

    fit(_net(), _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, callbacks=(stop_late,))
    resumed, h = fit(_net(), _data(), cfg, loss_terms=_mse, checkpoint_dir=tmp_path, resume=True)
    assert h.meta["divergence_retries"] == h_ref.meta["divergence_retries"]
    for a, b in zip(jax.tree_util.tree_leaves(ref), jax.tree_util.tree_leaves(resumed), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_bad_guard_settings_are_one_line_errors():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="lr_factor"):
        TrainConfig(divergence=dict(lr_factor=1.5))
    with pytest.raises(ValidationError, match="retries"):
        TrainConfig(divergence=dict(retries=0))
