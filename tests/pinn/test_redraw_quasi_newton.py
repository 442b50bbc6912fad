"""Collocation redraws during quasi-Newton phases (``redraw_in_quasi_newton``): the line search's stored value
and gradient are recomputed on the new set, the curvature memory is carried across, and RAD runs there.

References are independent of the code: the hand-written mean squared error on the new batch.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinngen
from pinngen.core.nn import MLP
from pinngen.core.optim import Phase
from pinngen.core.quasi_newton import dense_state
from pinngen.core.train import TrainConfig, fit
from pinngen.core.updaters import make_updater
from pinngen.pinn.collocation import Adaptive, Collocation, CollocationSpec, make_refresh, redraw_steps
from pinngen.pinn.network import PINN
from pinngen.pinn.problems import get_problem


def _net():
    return MLP(in_size=1, out_size=1, hidden=[6], activation="tanh", key=jax.random.PRNGKey(0), dtype=jnp.float64)


def _mse(model, batch, key):
    return {"mse": ((model(batch["x"]) - batch["y"]) ** 2).mean()}


def _batch(freq):
    x = np.linspace(-1, 1, 32)[:, None]
    return {"x": jnp.asarray(x), "y": jnp.asarray(np.sin(freq * x))}


@pytest.mark.parametrize("optimizer", ["lbfgs", "ssbfgs"])
def test_new_objective_drops_the_stale_value_and_keeps_the_curvature(optimizer):
    with jax.enable_x64(True):
        params, static = eqx.partition(_net(), eqx.is_inexact_array)
        up = make_updater(Phase(optimizer=optimizer, steps=20), loss_terms=_mse, static=static, names=("mse",),
                          params=params, dtype=jnp.float64)
        w = {"mse": jnp.float64(1.0)}
        step = jax.jit(up.step)
        state, a, b = up.init(params), _batch(3.0), _batch(2.0)
        for i in range(5):
            params, state, _ = step(params, state, a, None, w, i)
        want = float(_mse(eqx.combine(params, static), b, None)["mse"])
        _, _, stale = step(params, state, b, None, w, 5)  # without new_objective: the old set's value
        assert abs(float(stale["loss"]) - want) > 1e-3 * want
        fresh_state = up.new_objective(state)
        _, after, logs = step(params, fresh_state, b, None, w, 5)
        np.testing.assert_allclose(float(logs["loss"]), want, rtol=1e-12)
        assert bool(logs["accept"]) and int(logs["code"]) == 0
        if optimizer == "ssbfgs":  # the inverse Hessian is carried over, not reset to the identity
            np.testing.assert_array_equal(dense_state(fresh_state[0]).inv_hessian,
                                          dense_state(state[0]).inv_hessian)
            assert int(dense_state(after[0]).resets) == int(dense_state(state[0]).resets)


@pytest.mark.parametrize("loss_transform", ["none", "log"])
def test_the_loop_refreshes_the_quasi_newton_state_after_a_redraw(loss_transform):
    """A batch replaced at step 10 of an L-BFGS phase: the loss recorded at step 10 is the new batch's."""
    seen = {}

    def refresh(step, key, model):
        return _batch(2.0) if step == 10 else None

    refresh.every = 5

    def remember(state):
        seen[state.step] = state.model

    with jax.enable_x64(True):
        cfg = TrainConfig(phases=[dict(optimizer="lbfgs", steps=15, loss_transform=loss_transform)], eval_every=5,
                          progress=False)
        res = fit(_net(), _batch(3.0), cfg, loss_terms=_mse, refresh=refresh, callbacks=(remember,))
        want = float(_mse(seen[10], _batch(2.0), None)["mse"])
    loss = res.history.column("loss")
    np.testing.assert_allclose(loss[10], want, rtol=1e-10)
    assert np.all(np.isfinite(loss))


def test_redraw_steps_include_quasi_newton_phases_only_when_asked():
    phases = [Phase(optimizer="adam", steps=100), Phase(optimizer="ssbfgs", steps=100)]
    assert not redraw_steps(phases, CollocationSpec())(150)
    assert redraw_steps(phases, CollocationSpec())(50)
    assert redraw_steps(phases, CollocationSpec(redraw_in_quasi_newton=True))(150)
    prob = get_problem("heat")
    model = PINN(prob, hidden=[4], key=jax.random.PRNGKey(0))
    spec = CollocationSpec(n_domain=100, n_boundary=10, n_initial=10, redraw_in_quasi_newton=True,
                           adaptive=Adaptive(method="rad", every=50, n_candidates=2000))
    refresh = make_refresh(Collocation(prob, spec), active=redraw_steps(phases, spec))
    b1, b2 = refresh(150, None, model), refresh(200, None, model)
    assert b1 is not None and b2 is not None and not np.array_equal(b1["pde"]["x"], b2["pde"]["x"])


def test_rad_redraws_during_a_dense_quasi_newton_pinn_phase(tmp_path):
    cfg = {"kind": "pinn", "name": "tiny-heat-rad-qn", "problem": "heat", "dtype": "float64",
           "network": {"hidden": [8, 8]},
           "collocation": {"n_domain": 64, "n_boundary": 8, "n_initial": 8, "redraw_in_quasi_newton": True,
                           "adaptive": {"method": "rad", "every": 10, "n_candidates": 1000}},
           "evaluation": {"metric_points": 256},
           "train": {"eval_every": 10, "progress": False,
                     "phases": [{"optimizer": "adam", "steps": 20, "lr": 0.01},
                                {"optimizer": "ssbfgs", "steps": 40, "loss_transform": "sqrt"}]}}
    run = pinngen.run(cfg, out=tmp_path / "run", progress=False)
    loss = run.history.column("loss")
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[19]
    phase = run.metrics["phases"][1]
    assert phase["optimizer"] == "ssbfgs" and phase["steps_run"] == 40, phase
    assert phase["inverse_hessian"].startswith("dense") and "hessian_resets" in phase  # through TransformedLoss
    assert np.isfinite(run.metrics["summary"]["rel_l2"])


def test_a_second_fit_on_the_same_setup_repeats_the_first():
    """The collocation refresh keeps its round and points between chunks; a new fit on the same setup (as a
    notebook user re-runs a cell) must start from round 0 again, not from where the last fit left it."""
    from pinngen.config import load_config
    from pinngen.registry import get_kind
    from pinngen.runs import precision

    cfg = load_config({"kind": "pinn", "name": "tiny-heat-twice", "problem": "heat", "dtype": "float64",
                       "network": {"hidden": [6]},
                       "collocation": {"n_domain": 48, "n_boundary": 8, "n_initial": 8,
                                       "adaptive": {"method": "rad", "every": 10, "n_candidates": 500}},
                       "train": {"eval_every": 5, "progress": False,
                                 "phases": [{"optimizer": "adam", "steps": 30, "lr": 0.01}]}})
    def once():
        return fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=cfg.seed,
                   key=jax.random.PRNGKey(cfg.seed), **setup.fit_kwargs).history.column("loss")

    with precision(cfg.dtype):
        setup = get_kind("pinn").setup(cfg)
        first, second = once(), once()
    np.testing.assert_array_equal(first, second)


def test_the_loop_passes_the_training_time_to_a_refresh_that_asks():
    seen = []

    def refresh(step, key, model, seconds=None):
        seen.append(seconds)
        return None

    refresh.every, refresh.takes_seconds = 5, True
    with jax.enable_x64(True):
        cfg = TrainConfig(phases=[dict(optimizer="adam", steps=20, lr=0.01)], eval_every=5, progress=False)
        res = fit(_net(), _batch(3.0), cfg, loss_terms=_mse, refresh=refresh)
    assert len(seen) >= 3 and all(isinstance(s, float) for s in seen) and seen == sorted(seen)
    assert seen[-1] <= res.history.last("time") and seen[-1] > 0


def test_redraws_stop_at_the_share_of_the_time_budget(tmp_path):
    """redraw_until_fraction from a config: a share spent at once freezes the first set; without
    train.max_train_seconds the config is refused in one line, exit code 2, before anything is written."""
    import subprocess
    import sys

    import yaml

    cfg = {"kind": "pinn", "name": "tiny-heat-frozen", "problem": "heat", "dtype": "float64",
           "network": {"hidden": [6]},
           "collocation": {"n_domain": 48, "n_boundary": 8, "n_initial": 8, "redraw_until_fraction": 1e-9,
                           "adaptive": {"method": "rad", "every": 10, "n_candidates": 500}},
           "evaluation": {"metric_points": 64},
           "train": {"eval_every": 10, "progress": False, "max_train_seconds": 3600,
                     "phases": [{"optimizer": "adam", "steps": 40, "lr": 0.01}]}}
    from pinngen.config import load_config
    from pinngen.registry import get_kind
    from pinngen.runs import precision

    c = load_config(cfg)
    with precision(c.dtype):
        setup = get_kind("pinn").setup(c)
        first = np.asarray(setup.data["pde"]["x"])
        fit(setup.model, setup.data, c.train, loss_terms=setup.loss_terms, seed=c.seed,
            key=jax.random.PRNGKey(c.seed), **setup.fit_kwargs)
    refresh = setup.extras["refresh"]
    assert refresh.state["frozen"] and refresh.state["domain"] is None  # never redrawn: the first set stayed
    del cfg["train"]["max_train_seconds"]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    done = subprocess.run([sys.executable, "-m", "pinngen.cli", "run", str(path), "--out", str(tmp_path / "r")],
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and "redraw_until_fraction" in err[0] and "max_train_seconds" in err[0], err
    assert "Traceback" not in done.stderr and not (tmp_path / "r").exists()
    assert first.shape == (48, 2)


def test_a_larger_final_set_trains_and_resumes_exactly(tmp_path):
    """adaptive.final_n: when redraws stop, the last set is drawn with more points; a run stopped after that
    draw resumes from its checkpoint (whose training set has the new size) exactly as if never stopped."""
    from pinngen.config import load_config
    from pinngen.registry import get_kind
    from pinngen.runs import precision

    cfg = load_config({"kind": "pinn", "name": "tiny-heat-final-n", "problem": "heat", "dtype": "float64",
                       "network": {"hidden": [6]},
                       "collocation": {"n_domain": 48, "n_boundary": 8, "n_initial": 8, "redraw_until": 20,
                                       "redraw_in_quasi_newton": True,
                                       "adaptive": {"method": "rad", "every": 10, "n_candidates": 500,
                                                    "final_n": 96, "final_k": 2.0}},
                       "train": {"eval_every": 5, "progress": False,
                                 "phases": [{"optimizer": "adam", "steps": 15, "lr": 0.01},
                                            {"optimizer": "ssbfgs", "steps": 25, "loss_transform": "sqrt"}]}})

    class StopAt30:
        def __call__(self, state):
            state.stop = state.step >= 30

    def run(**kw):
        return fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=cfg.seed,
                   key=jax.random.PRNGKey(cfg.seed), **setup.fit_kwargs, **kw).history.column("loss")

    with precision(cfg.dtype):
        setup = get_kind("pinn").setup(cfg)
        whole = run()
        refresh = setup.extras["refresh"]
        assert refresh.state["final"] and refresh.state["domain"].shape == (96, 2)
        run(checkpoint_dir=tmp_path, callbacks=(StopAt30(),))
        from pinngen.core import checkpoint as ckpt

        with np.load(ckpt.latest(tmp_path) / "arrays.npz") as z:
            assert z["a/refresh/domain"].shape == (96, 2)
        resumed = run(checkpoint_dir=tmp_path, resume=True)
    assert len(whole) == 40 and np.all(np.isfinite(whole))
    np.testing.assert_array_equal(whole, resumed)
