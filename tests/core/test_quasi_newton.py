"""Dense quasi-Newton phases (bfgs, ssbfgs, ssbroyden): the update, its line search, resets, and use in a run.

References are independent of the code: np.linalg.solve for the quadratic's minimiser, the known minimiser
of Rosenbrock's function (all ones), and SciPy's BFGS for the scale of the iteration count.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.optimize import minimize, rosen, rosen_der

import pinngen
from pinngen.core.nn import MLP
from pinngen.core.optim import Group, Phase, is_quasi_newton, make_transform
from pinngen.core.quasi_newton import dense_meta, scale_by_dense_bfgs
from pinngen.core.train import TrainConfig, fit

VARIANTS = ("bfgs", "ssbfgs", "ssbroyden")


def _quadratic(n=10, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    return m @ m.T + 0.1 * n * np.eye(n), rng.normal(size=n)


def _minimise(f, x0, variant, iters, target=None):
    """Run the phase's transform (the one a config builds) from x0; returns the iterates."""
    tx, _ = make_transform(Phase(optimizer=variant), iters, jnp.float64)
    vg = optax.value_and_grad_from_state(f)

    @jax.jit
    def step(x, st):
        v, g = vg(x, state=st)
        u, st = tx.update(g, st, x, value=v, grad=g, value_fn=f)
        return optax.apply_updates(x, u), st

    x, st = jnp.asarray(x0, jnp.float64), None
    st = tx.init(x)
    xs = []
    for _ in range(iters):
        x, st = step(x, st)
        xs.append(np.asarray(x))
        if target is not None and np.max(np.abs(xs[-1] - target)) < 1e-10:
            break
    return xs, st


def _first_below(xs, target, tol):
    err = [np.max(np.abs(x - target)) / np.max(np.abs(target)) for x in xs]
    return next((i + 1 for i, e in enumerate(err) if e < tol), None)


@pytest.mark.parametrize("variant", VARIANTS)
def test_exact_line_search_on_a_quadratic_terminates_in_n_steps(variant):
    """With exact line searches the Broyden family reaches a quadratic's minimiser in n steps; BFGS's H is then
    the inverse Hessian."""
    with jax.enable_x64(True):
        A, b = _quadratic()
        n = len(b)
        x_star = np.linalg.solve(A, b)
        tx = scale_by_dense_bfgs(variant)
        update = jax.jit(tx.update)
        x = np.zeros(n)
        st = tx.init(jnp.asarray(x))
        for _ in range(n):
            g = A @ x - b
            d, st = update(jnp.asarray(g), st, jnp.asarray(x))
            d = np.asarray(d)
            x = x - (g @ d) / (d @ A @ d) * d
        assert np.max(np.abs(x - x_star)) < 1e-8 * np.max(np.abs(x_star))
        if variant == "bfgs":
            d, st = update(jnp.asarray(A @ x - b), st, jnp.asarray(x))  # the n-th pair enters H
            np.testing.assert_allclose(np.asarray(st.inv_hessian) @ A, np.eye(n), atol=1e-6)
        H = np.asarray(st.inv_hessian)
        assert np.max(np.abs(H - H.T)) < 1e-12 and int(st.resets) == 0


def test_bfgs_with_the_zoom_line_search_solves_a_quadratic():
    with jax.enable_x64(True):
        A, b = _quadratic()
        x_star = np.linalg.solve(A, b)
        Aj, bj = jnp.asarray(A), jnp.asarray(b)
        xs, st = _minimise(lambda x: 0.5 * x @ Aj @ x - bj @ x, np.zeros(len(b)), "bfgs", 60)
        k = _first_below(xs, x_star, 1e-8)
        # strong Wolfe with curv_rtol 0.9 accepts inexact steps: 27 iterations measured for n = 10
        assert k is not None and k <= 3 * len(b), k
        assert int(dense_meta(st)["hessian_resets"]) == 0


def _rosen(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@pytest.mark.parametrize("x0", [np.array([-1.2, 1.0]), np.array([1.3, 0.7, 0.8, 1.9, 1.2] * 2)], ids=["n2", "n10"])
def test_every_variant_reaches_the_rosenbrock_minimum(x0):
    ones = np.ones_like(x0)
    seen = []
    ref = minimize(rosen, x0, jac=rosen_der, method="BFGS", options={"gtol": 1e-10},
                   callback=lambda x: seen.append(np.array(x)))
    k_scipy = _first_below(seen, ones, 1e-6)
    assert k_scipy is not None and np.allclose(ref.x, 1.0, atol=1e-6)
    with jax.enable_x64(True):
        for variant in VARIANTS:
            xs, st = _minimise(_rosen, x0, variant, 400, target=ones)
            k = _first_below(xs, ones, 1e-6)
            assert k is not None, f"{variant} did not reach the minimum: {xs[-1]}"
            if variant != "bfgs":
                assert k <= 2 * k_scipy, (variant, k, k_scipy)


def test_reset_on_a_non_descent_direction_and_skip_on_failed_curvature():
    with jax.enable_x64(True):
        tx = scale_by_dense_bfgs("ssbroyden")
        x = jnp.array([1.0, -2.0, 0.5])
        g = jnp.array([0.3, 0.1, -0.2])
        st = tx.init(x)._replace(inv_hessian=-jnp.eye(3), count=jnp.int32(5), fresh=jnp.array(False),
                                  prev_params=x, prev_grad=g)
        d, st1 = tx.update(g, st, x)  # s = y = 0: the pair is skipped; -H g = g is uphill: reset to I
        assert int(st1.skips) == 1 and int(st1.resets) == 1
        np.testing.assert_allclose(d, -g)
        np.testing.assert_allclose(st1.inv_hessian, np.eye(3))
        # a valid pair (y.s > 0) with an indefinite H: y^T H y < 0, so H restarts as (y.s / y.y) I
        prev_x, prev_g = x - jnp.array([0.1, 0.0, 0.0]), g - jnp.array([0.2, 0.05, 0.0])
        st = st._replace(prev_params=prev_x, prev_grad=prev_g)
        d, st2 = tx.update(g, st, x)
        s, y = np.asarray(x - prev_x), np.asarray(g - prev_g)
        gamma = (y @ s) / (y @ y)
        assert int(st2.resets) == 1 and int(st2.skips) == 0
        np.testing.assert_allclose(d, -gamma * np.asarray(g), rtol=1e-12)
        assert float(jnp.dot(g, d)) < 0


def test_phase_rules_for_the_new_names():
    for name in VARIANTS:
        assert is_quasi_newton(name) and Phase(optimizer=name).optimizer == name
        with pytest.raises(ValueError, match=f"{name} needs the full batch"):
            Phase(optimizer=name, batch_size=32)
        with pytest.raises(ValueError, match="parameter group cannot use"):
            Group(optimizer=name, terms=["a"])
    assert not is_quasi_newton("adam")


def _heat(**phase):
    return {"kind": "pinn", "name": "tiny-heat-qn", "problem": "heat", "dtype": "float64",
            "network": {"hidden": [8, 8]}, "collocation": {"n_domain": 64, "n_boundary": 8, "n_initial": 8},
            "evaluation": {"metric_points": 256},
            "train": {"eval_every": 10, "progress": False,
                      "phases": [{"optimizer": "adam", "steps": 20}, {"steps": 20, **phase}]}}


def test_ssbfgs_phase_in_a_pinn_run(tmp_path):
    run = pinngen.run(_heat(optimizer="ssbfgs"), out=tmp_path / "run", progress=False)
    loss = run.history.column("loss")
    assert np.isfinite(loss[-1]) and loss[-1] < loss[19] and run.history.phases[-1] == "ssbfgs"
    phase = run.metrics["phases"][1]
    assert phase["optimizer"] == "ssbfgs" and phase["n_params"] == 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1
    assert phase["inverse_hessian"] == "dense 105 x 105 = 0.1 MB" and phase["ms_per_step"] > 0
    assert {"hessian_resets", "skipped_updates"} <= set(phase)


def test_too_many_parameters_for_a_dense_phase_is_one_line(tmp_path):
    with pytest.raises(ValueError) as err:
        pinngen.run(_heat(optimizer="ssbroyden", max_dense_params=100), out=tmp_path / "big", progress=False)
    msg = str(err.value)
    assert "\n" not in msg and "105 trainable parameters" in msg and "lbfgs" in msg and "max_dense_params" in msg


def test_a_stopped_dense_phase_resumes_to_the_same_result(tmp_path):
    """H, the previous pair and the counters are checkpointed: stop mid-phase, resume, same weights."""

    def mse(model, batch, key):
        return {"mse": ((model(batch["x"]) - batch["y"]) ** 2).mean()}

    class Stop:
        def __call__(self, state):
            state.stop = state.step >= 15

    with jax.enable_x64(True):
        x = np.linspace(-1, 1, 32)[:, None]
        data = {"x": x, "y": np.sin(3 * x)}
        cfg = TrainConfig(phases=[dict(steps=5, lr=1e-2), dict(optimizer="ssbroyden", steps=20)], eval_every=5,
                          checkpoint_every=5, progress=False)

        def net():
            return MLP(in_size=1, out_size=1, hidden=[6], activation="tanh", key=jax.random.PRNGKey(0),
                       dtype=jnp.float64)

        ref = fit(net(), data, cfg, loss_terms=mse)
        part = fit(net(), data, cfg, loss_terms=mse, checkpoint_dir=tmp_path, callbacks=(Stop(),))
        assert len(part.history) == 15  # stopped 10 steps into the ssbroyden phase
        res = fit(net(), data, cfg, loss_terms=mse, checkpoint_dir=tmp_path, resume=True)
    a, b = jax.tree_util.tree_leaves(ref.model), jax.tree_util.tree_leaves(res.model)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert res.history.meta["phases"][-1]["hessian_resets"] == ref.history.meta["phases"][-1]["hessian_resets"]


def test_a_dense_phase_stopped_on_its_tolerance_is_converged_not_still_learning():
    from pinngen.core.history import History

    h = History()
    steps = np.arange(400)
    loss = np.concatenate([np.geomspace(1.0, 1e-2, 200), np.geomspace(1e-2, 1e-9, 200)])
    h.extend(steps[:200], "adam", {"loss": loss[:200], "time": steps[:200] * 0.01})
    h.extend(steps[200:], "ssbroyden", {"loss": loss[200:], "time": steps[200:] * 0.01})
    h.meta["phases"] = [dict(optimizer="adam", steps_run=200, steps_max=200, stop_reason="max_steps"),
                        dict(optimizer="ssbroyden", steps_run=200, steps_max=5000, stop_reason="grad_tol")]
    found = {f.code: f for f in h.diagnose()}
    assert "still_learning" not in found
    assert found["converged"].message.startswith("SSBroyden stopped after 200 steps because its gradient norm")
