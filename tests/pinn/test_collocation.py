"""Collocation: fixed sizes, reproducible rounds, RAR / RAD through refresh, no refresh in L-BFGS phases."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.pinn.collocation import Adaptive, Collocation, CollocationSpec, first_order_steps, make_refresh
from pinngen.pinn.conditions import Dirichlet
from pinngen.pinn.geometry import Interval
from pinngen.pinn.network import PINN
from pinngen.pinn.problem import Problem
from pinngen.pinn.problems import get_problem


def test_collocation_fixed_sizes_and_reproducible():
    prob = get_problem("burgers")
    col = Collocation(prob, CollocationSpec(n_domain=300, n_boundary=40, n_initial=50))
    b0, b0again, b1 = col.batch(0), col.batch(0), col.batch(1)
    assert b0["pde"]["x"].shape == (300, 2) and b0["bc"]["x"].shape == (40, 2) and b0["ic"]["x"].shape == (50, 2)
    np.testing.assert_array_equal(b0["pde"]["x"], b0again["pde"]["x"])
    assert not np.array_equal(b0["pde"]["x"], b1["pde"]["x"]) and b1["pde"]["x"].shape == (300, 2)
    assert np.all(np.abs(np.abs(b0["bc"]["x"][:, 0]) - 1) < 1e-12) and np.all(b0["ic"]["x"][:, 1] == 0)


def test_rar_capacity_must_leave_room(poisson_1d):
    spec = CollocationSpec(n_domain=50, adaptive=Adaptive(method="rar", capacity=50))
    with pytest.raises(ValueError, match="adaptive.capacity=50 must be below collocation.n_domain=50"):
        Collocation(poisson_1d(), spec)
    assert make_refresh(Collocation(poisson_1d(), CollocationSpec(n_domain=50))) is None


def test_rar_refresh_adds_points_near_the_residual_peak():
    # residual = -source when the network is zero: a narrow bump at x = 0.3
    def residual(d, p):
        return d["u_xx"] - jnp.exp(-(((d.coords["x"] - 0.3) / 0.02) ** 2))

    prob = Problem(name="bump", inputs=("x",), outputs=("u",), geometry=Interval(0.0, 1.0), residual=residual,
                   conditions=[Dirichlet("bc")])
    model = PINN(prob, hidden=[4], key=jax.random.PRNGKey(0))
    model = eqx.tree_at(lambda m: m.net.layers[-1].weight, model, jnp.zeros_like(model.net.layers[-1].weight))
    spec = CollocationSpec(n_domain=200, n_boundary=2, adaptive=Adaptive(method="rar", every=100, n_candidates=2000,
                                                                         n_points=20, capacity=40))
    col = Collocation(prob, spec)
    refresh = make_refresh(col)
    assert refresh(0, None, model) is None
    batch = refresh(100, None, model)
    added = batch["pde"]["x"][160:180, 0]
    assert np.all(np.abs(added - 0.3) < 0.05)
    assert batch["pde"]["x"].shape == (200, 1)
    before = np.array(batch["pde"]["x"])
    assert refresh(150, None, model) is None  # same round: keep the batch
    batch2 = refresh(200, None, model)  # second round fills the next slots, keeps the first ones
    np.testing.assert_array_equal(batch2["pde"]["x"][160:180], before[160:180])
    assert np.all(np.abs(batch2["pde"]["x"][180:200, 0] - 0.3) < 0.05)


def test_rad_and_resampling_refresh_keep_shapes_and_skip_lbfgs():
    prob = get_problem("heat")
    model = PINN(prob, hidden=[4], key=jax.random.PRNGKey(0))
    from pinngen.core.optim import Phase

    active = first_order_steps([Phase(optimizer="adam", steps=300), Phase(optimizer="lbfgs", steps=100)])
    spec = CollocationSpec(n_domain=100, n_boundary=10, n_initial=10, resample_every=100,
                           adaptive=Adaptive(method="rad", every=200, n_candidates=500))
    refresh = make_refresh(Collocation(prob, spec), active=active)
    b1 = refresh(100, None, model)
    b2 = refresh(200, None, model)
    assert b1["pde"]["x"].shape == b2["pde"]["x"].shape == (100, 2)
    assert not np.array_equal(b1["pde"]["x"], b2["pde"]["x"])
    assert refresh(300, None, model) is None  # L-BFGS phase: the objective stays fixed


def test_no_redraw_from_redraw_until_on():
    prob = get_problem("heat")
    model = PINN(prob, hidden=[4], key=jax.random.PRNGKey(0))
    spec = CollocationSpec(n_domain=100, n_boundary=10, n_initial=10, resample_every=100, redraw_until=300,
                           adaptive=Adaptive(method="rad", every=100, n_candidates=500))
    refresh = make_refresh(Collocation(prob, spec))
    assert refresh(100, None, model) is not None and refresh(200, None, model) is not None
    assert refresh(300, None, model) is None and refresh(400, None, model) is None  # the last set stays
    with pytest.raises(ValueError, match="redraw_until"):
        CollocationSpec(redraw_until=0)


def test_no_redraw_once_the_share_of_the_time_budget_is_spent():
    prob = get_problem("heat")
    model = PINN(prob, hidden=[4], key=jax.random.PRNGKey(0))
    spec = CollocationSpec(n_domain=100, n_boundary=10, n_initial=10, resample_every=100, redraw_until_fraction=0.5,
                           adaptive=Adaptive(method="rad", every=100, n_candidates=500))
    refresh = make_refresh(Collocation(prob, spec), time_limit=60.0)
    assert refresh.takes_seconds
    assert refresh(100, None, model, seconds=10.0) is not None
    assert refresh(200, None, model, seconds=29.9) is not None
    assert refresh(300, None, model, seconds=30.0) is None  # half of 60 s spent: the last set stays
    assert refresh(400, None, model, seconds=None) is None  # for good, whatever is passed later
    saved = refresh.state_dict()
    assert saved["frozen"] is True
    again = make_refresh(Collocation(prob, spec), time_limit=60.0)
    again.load_state_dict(saved)
    assert again(500, None, model, seconds=1.0) is None  # a resumed run keeps the decision
    legacy = {k: v for k, v in saved.items() if k != "frozen"}  # a checkpoint written before the option
    again.load_state_dict(legacy)
    assert again(600, None, model, seconds=1.0) is not None
    refresh.reset()
    assert refresh(100, None, model, seconds=0.0) is not None  # a new fit starts unfrozen
    plain = make_refresh(Collocation(prob, CollocationSpec(n_domain=100, resample_every=100)))
    assert not plain.takes_seconds  # the loop passes no time to hooks that do not ask for it
    with pytest.raises(ValueError, match="redraw_until_fraction=0.5 is a share of train.max_train_seconds"):
        make_refresh(Collocation(prob, spec))
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="redraw_until_fraction"):
            CollocationSpec(redraw_until_fraction=bad)


def _bump_setup(**adaptive):
    def residual(d, p):  # residual = -source when the network is zero: a narrow bump at x = 0.3
        return d["u_xx"] - jnp.exp(-(((d.coords["x"] - 0.3) / 0.02) ** 2))

    prob = Problem(name="bump", inputs=("x",), outputs=("u",), geometry=Interval(0.0, 1.0), residual=residual,
                   conditions=[Dirichlet("bc")])
    model = PINN(prob, hidden=[4], key=jax.random.PRNGKey(0))
    model = eqx.tree_at(lambda m: m.net.layers[-1].weight, model, jnp.zeros_like(model.net.layers[-1].weight))
    spec = CollocationSpec(n_domain=400, n_boundary=2, redraw_until=200,
                           adaptive=Adaptive(method="rad", every=100, n_candidates=4000, **adaptive))
    return prob, model, spec


def test_final_rad_draw_with_its_own_k_and_c_when_redraws_stop():
    def near(batch):  # share of the set within 0.05 of the bump
        return float(np.mean(np.abs(batch["pde"]["x"][:, 0] - 0.3) < 0.05))

    prob, model, spec = _bump_setup(final_k=2.0, final_c=0.0)
    refresh = make_refresh(Collocation(prob, spec))
    regular = refresh(100, None, model)  # k = 1, c = 1: half the points spread over the interval
    assert 0.4 < near(regular) < 0.7
    last = refresh(200, None, model)  # redraw_until: one last draw with k = 2, c = 0, all on the bump
    assert last is not None and last["pde"]["x"].shape == (400, 1) and near(last) > 0.95
    assert refresh(300, None, model) is None and refresh(400, None, model) is None  # and only one
    saved = refresh.state_dict()
    assert saved["final"] is True
    again = make_refresh(Collocation(prob, spec))
    again.load_state_dict(saved)
    assert again(300, None, model) is None  # a resumed run does not draw it again
    again.load_state_dict({k: v for k, v in saved.items() if k != "final"})  # written before the option
    assert again(300, None, model) is not None
    refresh.reset()
    assert near(refresh(100, None, model)) < 0.7 and near(refresh(200, None, model)) > 0.95
    # without final_k / final_c the last regular set stays, as before
    prob, model, spec = _bump_setup()
    plain = make_refresh(Collocation(prob, spec))
    assert plain(100, None, model) is not None and plain(200, None, model) is None
    # final_c alone keeps k; when the time share freezes the set before redraw_until, the current set stays:
    # no final draw then, nor later when the step passes redraw_until
    prob, model, spec = _bump_setup(final_c=0.0)
    spec = spec.model_copy(update={"redraw_until_fraction": 0.5})
    timed = make_refresh(Collocation(prob, spec), time_limit=10.0)
    assert near(timed(100, None, model, seconds=1.0)) < 0.7
    assert timed(150, None, model, seconds=5.0) is None and timed(200, None, model, seconds=6.0) is None
    assert timed.state["frozen"] and not timed.state["final"]
    timed.reset()  # the step comes first: the final draw, then the time share changes nothing
    assert near(timed(100, None, model, seconds=1.0)) < 0.7
    assert near(timed(200, None, model, seconds=2.0)) > 0.95 and timed.state["final"]
    assert timed(300, None, model, seconds=6.0) is None


def test_final_draw_needs_rad():
    prob = get_problem("heat")
    spec = CollocationSpec(n_domain=100, adaptive=Adaptive(method="rar", capacity=10, final_k=2.0))
    with pytest.raises(ValueError, match="final_k / final_c / final_n redraw the last set by RAD"):
        make_refresh(Collocation(prob, spec))
    spec = CollocationSpec(n_domain=100, redraw_until_fraction=0.5, adaptive=Adaptive(method="rad", final_n=200))
    with pytest.raises(ValueError, match="collocation.redraw_until, which is not set"):
        make_refresh(Collocation(prob, spec), time_limit=10.0)
    spec = CollocationSpec(n_domain=100, redraw_until=1000,
                           adaptive=Adaptive(method="rad", n_candidates=500, final_n=1000))
    with pytest.raises(ValueError, match="final_n=1000 exceeds adaptive.n_candidates=500"):
        make_refresh(Collocation(prob, spec))
