"""The training loop: phases, minibatches, determinism, validation, early stopping, divergence, resume."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.nn import MLP
from pinngen.core.optim import EarlyStopping
from pinngen.core.train import TrainConfig, fit


def _data(n=256, seed=0):
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 1)).astype(np.float32)
    return {"x": x, "y": np.sin(3 * x)}


def _mse(model, batch, key):
    return {"mse": jnp.mean((model(batch["x"]) - batch["y"]) ** 2)}


def _net(seed=0, **kw):
    return MLP(in_size=1, out_size=1, hidden=[16, 16], activation="tanh", key=jax.random.PRNGKey(seed), **kw)


def test_adam_then_lbfgs_reduces_loss_and_records_phases():
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=300, lr=1e-2),
                              dict(optimizer="lbfgs", steps=200)], eval_every=50, progress=False)
    model, h = fit(_net(), _data(), cfg, loss_terms=_mse)
    _, loss = h.series("loss")
    assert loss[-1] < 1e-2 * loss[0]
    assert set(h.phases) == {"adam", "lbfgs"}
    phases = h.meta["phases"]
    assert phases[0]["stop_reason"] == "max_steps" and phases[0]["steps_run"] == 300
    assert phases[1]["stop_reason"] in ("max_steps", "loss_change_tol", "grad_tol", "line_search_failed")
    assert len(h) == phases[0]["steps_run"] + phases[1]["steps_run"]
    # L-BFGS after Adam improves on where Adam stopped.
    adam_end = loss[299]
    assert loss[-1] < adam_end


def test_lbfgs_honours_its_iteration_limit():
    cfg = TrainConfig(phases=[dict(optimizer="lbfgs", steps=7)], eval_every=5, progress=False)
    _, h = fit(_net(), _data(), cfg, loss_terms=_mse)
    assert len(h) == 7 and h.meta["phases"][0]["stop_reason"] == "max_steps"


def test_lbfgs_reports_gradient_tolerance():
    cfg = TrainConfig(phases=[dict(optimizer="lbfgs", steps=500, tol_grad=1e-1)], eval_every=50, progress=False)
    _, h = fit(_net(), _data(), cfg, loss_terms=_mse)
    assert h.meta["phases"][0]["stop_reason"] == "grad_tol"
    assert len(h) < 500


def test_lbfgs_initial_step_option_reaches_the_line_search():
    """'one' starts every line search at the quasi-Newton step 1; 'keep' at the previous step: on this fit the
    accepted steps differ, and both still descend."""
    runs = {}
    for mode in ("keep", "one"):
        cfg = TrainConfig(phases=[dict(optimizer="lbfgs", steps=40, initial_step=mode)], eval_every=20,
                          progress=False)
        _, h = fit(_net(), _data(), cfg, loss_terms=_mse)
        runs[mode] = h
        _, loss = h.series("loss")
        assert loss[-1] < 0.5 * loss[0]
    lr_keep, lr_one = runs["keep"].column("lr"), runs["one"].column("lr")
    assert not np.allclose(lr_keep, lr_one)
    assert np.mean(np.isclose(lr_one[1:], 1.0)) > np.mean(np.isclose(lr_keep[1:], 1.0))
    with pytest.raises(ValueError):
        TrainConfig(phases=[dict(optimizer="lbfgs", initial_step="half")])


def _two_terms(model, batch, key):
    err = (model(batch["x"]) - batch["y"]) ** 2
    neg = batch["x"] < 0
    return {"left": jnp.mean(jnp.where(neg, err, 0.0)), "right": jnp.mean(jnp.where(neg, 0.0, err))}


def test_lbfgs_logs_terms_sparsely_and_consistently():
    """L-BFGS records the total every iteration, the terms every LBFGS_TERMS_EVERY iterations and at the
    phase's last one; where recorded they add up to the total of that iteration (same parameters)."""
    from pinngen.core.updaters import LBFGS_TERMS_EVERY

    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=20, lr=1e-2), dict(optimizer="lbfgs", steps=45)],
                      eval_every=25, progress=False)
    _, h = fit(_net(), _data(), cfg, loss_terms=_two_terms, weights={"left": 1.0, "right": 2.0})
    steps, total = h.steps, h.column("loss")
    left, right = h.column("loss/left"), h.column("loss/right")
    assert np.all(np.isfinite(total))
    adam, lb = steps < 20, steps >= 20
    assert np.all(np.isfinite(left[adam]))  # the gradient phases log every step
    logged = np.isfinite(left[lb])
    i = steps[lb] - 20  # iteration index within the L-BFGS phase
    expect = (i % LBFGS_TERMS_EVERY == 0) | (i == 44)
    np.testing.assert_array_equal(logged, expect)
    np.testing.assert_allclose((left + 2 * right)[lb][logged], total[lb][logged], rtol=1e-5)
    assert np.all(np.isnan(right[lb][~logged]))


def test_same_seed_same_result_and_different_seed_differs():
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=60, lr=1e-2, batch_size=32)], eval_every=20,
                      progress=False)
    m1, h1 = fit(_net(dropout=0.1), _data(), cfg, loss_terms=_mse, seed=3)
    m2, h2 = fit(_net(dropout=0.1), _data(), cfg, loss_terms=_mse, seed=3)
    m3, h3 = fit(_net(dropout=0.1), _data(), cfg, loss_terms=_mse, seed=4)
    np.testing.assert_array_equal(h1.column("loss"), h2.column("loss"))
    assert not np.array_equal(h1.column("loss"), h3.column("loss"))


def test_minibatches_cover_the_data_each_epoch():
    from pinngen.core.batching import Permutation

    sampler = Permutation(batch_size=10)
    idx = sampler.host_inputs(100, seed=0, phase=0, start=0, count=10)
    assert sorted(idx.reshape(-1).tolist()) == list(range(100))
    idx2 = sampler.host_inputs(100, seed=0, phase=0, start=10, count=10)
    assert not np.array_equal(idx, idx2)  # a new permutation next epoch


def test_validation_and_early_stopping_restore_best():
    d = _data(64)
    val = _data(64, seed=1)
    val["y"] = val["y"] + 5.0  # validation the model can never fit: val loss stops improving at once
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=2000, lr=1e-2)], eval_every=10, progress=False,
                      early_stopping=dict(patience=3))
    _, h = fit(_net(), d, cfg, loss_terms=_mse, val_data=val)
    s, v = h.series("val/loss")
    assert len(s) >= 4 and len(h) < 2000
    assert h.meta["phases"][0]["stop_reason"] == "early_stopping"
    assert h.meta["restored_best_step"] == int(s[np.argmin(v)])


def test_restore_at_end_keeps_the_best_model_when_training_runs_to_the_end():
    d = _data(64)
    val = _data(64, seed=1)
    val["y"] = val["y"] + 5.0  # the validation loss is best early and worse later
    es = dict(patience=10_000)
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=200, lr=1e-2)], eval_every=10, progress=False,
                      early_stopping={**es, "restore_at_end": True})
    model, h = fit(_net(), d, cfg, loss_terms=_mse, val_data=val)
    s, v = h.series("val/loss")
    assert h.meta["phases"][0]["stop_reason"] != "early_stopping" and len(h) == 200
    assert np.argmin(v) < len(v) - 1 and h.meta["restored_best_step"] == int(s[np.argmin(v)])
    best = h.meta["restored_best"]
    assert best["value"] == pytest.approx(v.min()) and best["value"] < best["last_value"] == pytest.approx(v[-1])
    np.testing.assert_allclose(float(_mse(model, val, None)["mse"]), v.min(), rtol=1e-5)
    # without restore_at_end (the default) a run that was not stopped keeps its last parameters
    model, h = fit(_net(), d, cfg.model_copy(update={"early_stopping": EarlyStopping(**es)}), loss_terms=_mse,
                   val_data=val)
    assert "restored_best_step" not in h.meta
    np.testing.assert_allclose(float(_mse(model, val, None)["mse"]), v[-1], rtol=1e-5)


def test_far_too_high_learning_rate_diverges_and_keeps_last_good_model():
    cfg = TrainConfig(phases=[dict(optimizer="sgd", steps=500, lr=1e3)], eval_every=50, progress=False)
    model, h = fit(_net(), _data(), cfg, loss_terms=_mse)
    assert h.meta["diverged"] and h.meta["phases"][0]["stop_reason"] == "non_finite"
    assert np.isinf(h.column("loss")[-1])
    leaves = jax.tree_util.tree_leaves(model)
    assert all(np.all(np.isfinite(np.asarray(x))) for x in leaves)
    codes = {f.code for f in h.diagnose()}
    assert "diverged" in codes


def test_weights_scale_terms_and_unknown_weight_is_an_error():
    def two(model, batch, key):
        r = model(batch["x"]) - batch["y"]
        return {"a": jnp.mean(r**2), "b": jnp.mean(jnp.abs(r))}

    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=5)], eval_every=5, progress=False)
    _, h = fit(_net(), _data(), cfg, loss_terms=two, weights={"a": 10.0})
    np.testing.assert_allclose(h.column("loss")[0], 10 * h.column("loss/a")[0] + h.column("loss/b")[0],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="unknown loss terms"):
        fit(_net(), _data(), cfg, loss_terms=two, weights={"c": 1.0})


def test_non_scalar_term_is_a_clear_error():
    def bad(model, batch, key):
        return {"r": model(batch["x"])[:, 0]}

    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=5)], eval_every=5, progress=False)
    with pytest.raises(ValueError, match="must be a scalar"):
        fit(_net(), _data(), cfg, loss_terms=bad)


def test_checkpoint_resume_continues_exactly(tmp_path):
    phases = [dict(optimizer="adam", steps=100, lr=1e-2, batch_size=32)]
    full_cfg = TrainConfig(phases=phases, eval_every=20, progress=False)
    _, h_full = fit(_net(), _data(), full_cfg, loss_terms=_mse, seed=1)

    class Stop:
        def __call__(self, state):
            if state.step >= 60:
                state.stop = True

    cfg = TrainConfig(phases=phases, eval_every=20, progress=False, checkpoint_every=20)
    _, h1 = fit(_net(), _data(), cfg, loss_terms=_mse, seed=1, checkpoint_dir=tmp_path, callbacks=(Stop(),))
    assert len(h1) == 60
    _, h2 = fit(_net(), _data(), cfg, loss_terms=_mse, seed=1, checkpoint_dir=tmp_path, resume=True)
    assert len(h2) == 100
    np.testing.assert_allclose(h2.column("loss"), h_full.column("loss"), rtol=1e-5)


def test_float64_training():
    jax.config.update("jax_enable_x64", True)
    try:
        net = MLP(in_size=1, out_size=1, hidden=[8], key=jax.random.PRNGKey(0), dtype=jnp.float64)
        d = {k: v.astype(np.float64) for k, v in _data().items()}
        cfg = TrainConfig(phases=[dict(optimizer="lbfgs", steps=50)], eval_every=50, progress=False)
        model, h = fit(net, d, cfg, loss_terms=_mse)
        assert model.layers[0].weight.dtype == jnp.float64
    finally:
        jax.config.update("jax_enable_x64", False)


def test_trace_and_metrics_are_recorded():
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=40, lr=1e-2)], eval_every=20, progress=False)
    _, h = fit(_net(), _data(), cfg, loss_terms=_mse,
               trace_fn=lambda m: {"unknown/w0": m.layers[0].weight[0, 0]},
               metrics_fn=lambda m: {"l2": 1.0})
    assert np.all(np.isfinite(h.column("unknown/w0")))
    s, v = h.series("metric/l2")
    assert list(s) == [19, 39]


def test_epochs_set_the_number_of_steps_keras_style():
    cfg = TrainConfig(phases=[dict(optimizer="adam", epochs=3, batch_size=32)], eval_every=10, progress=False)
    _, h = fit(_net(), _data(256), cfg, loss_terms=_mse)
    assert len(h) == 3 * (256 // 32)


def test_cadences_are_independent_of_the_chunk():
    """Evaluations land on multiples of eval_every whatever the chunk, and the trajectory does not depend on
    how steps are grouped into chunks."""
    runs = {}
    for chunk in (7, 100):
        cfg = TrainConfig(phases=[dict(optimizer="adam", steps=60, lr=1e-2, batch_size=32),
                                  dict(optimizer="lbfgs", steps=15)], eval_every=25, chunk=chunk, progress=False)
        _, h = fit(_net(), _data(), cfg, loss_terms=_mse, seed=1, metrics_fn=lambda m: {"one": 1.0})
        runs[chunk] = h
        s, _ = h.series("metric/one")
        assert list(s) == [24, 49, 59, 74]  # adam: 25, 50 and its end (60); lbfgs: its end (15 steps)
    # different compiled chunk lengths may round differently (1 ulp), which L-BFGS amplifies a little: 1.5e-4
    # relative after 15 float32 L-BFGS steps in one run (2026-12-06); a wrong cadence differs by far more
    np.testing.assert_allclose(runs[7].column("loss"), runs[100].column("loss"), rtol=1e-3)


def test_ema_of_parameters():
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=50, lr=1e-2)], eval_every=50, progress=False,
                      ema=dict(decay=0.9, start_step=10))
    res = fit(_net(), _data(), cfg, loss_terms=_mse)
    assert res.ema_model is not None
    # the same average computed by hand from the per-step parameters
    snapshots = []
    cfg1 = TrainConfig(phases=[dict(optimizer="adam", steps=50, lr=1e-2)], eval_every=1, chunk=1, progress=False)
    fit(_net(), _data(), cfg1, loss_terms=_mse,
        callbacks=(lambda st: snapshots.append(np.asarray(st.model.layers[0].weight)),))
    ema = snapshots[9]
    for w in snapshots[10:]:
        ema = 0.9 * ema + 0.1 * w
    np.testing.assert_allclose(res.ema_model.layers[0].weight, ema, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(res.model.layers[0].weight, snapshots[-1], rtol=1e-5)


def test_guarded_chunks_compile_once_whatever_their_length():
    """Chunks cut short by evaluations (each with its own limit) reuse one compiled program: the number of
    compilations does not grow with the number of chunks."""
    from jax import monitoring

    events = []
    monitoring.register_event_duration_secs_listener(
        lambda name, dur, **kw: events.append(name) if name.endswith("backend_compile_duration") else None)
    counts = []
    for steps, width in ((7, 4), (21, 5), (70, 6)):  # a warm-up, then 3 and 10 chunks; new widths: no reuse
        before = len(events)
        cfg = TrainConfig(phases=[dict(optimizer="lbfgs", steps=steps)], eval_every=7, chunk=10, progress=False)
        net = MLP(in_size=1, out_size=1, hidden=[width], activation="tanh", key=jax.random.PRNGKey(0))
        fit(net, _data(), cfg, loss_terms=_mse)
        counts.append(len(events) - before)
    assert counts[2] <= counts[1] + 1, counts  # a recompile per limit would add 7


def test_time_limit_ends_training_at_a_chunk_boundary_and_skips_later_phases():
    calls = []

    def slow_metric(model):  # evaluation runs at the stop even off the eval cadence
        calls.append(1)
        return {"m": 0.0}

    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=100_000, lr=1e-3, batch_size=32),
                              dict(optimizer="lbfgs", steps=10)],
                      chunk=25, eval_every=10_000, max_train_seconds=1e-9, progress=False)
    _, h = fit(_net(), _data(), cfg, loss_terms=_mse, metrics_fn=slow_metric)
    assert len(h) == 25  # one chunk: the clock is checked after each
    assert h.meta["phases"] == [dict(optimizer="adam", steps_run=25, steps_max=100_000, stop_reason="time_limit")]
    assert calls and "metric/m" in h.columns
