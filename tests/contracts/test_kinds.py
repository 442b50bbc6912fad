"""One contract suite over every registered kind: registering a kind is enough to have it checked.

Each kind's ``contract_config`` (small and fast) is trained through the same ``fit`` the CLI uses, and must
give finite named loss terms whose gradients reach every trainable parameter, predictions of the right
shape, a save/load round trip that predicts the same, the same result for the same seed (and a different
one for another seed), a resumed run equal to an uninterrupted one, and, where the kind samples, samples of
the data's shape that the seed fixes.
"""

import copy

import equinox as eqx
import jax
import numpy as np
import pytest

from pinngen.config import load_config
from pinngen.core import checkpoint as ckpt
from pinngen.core.nn import trainable_filter
from pinngen.core.train import fit
from pinngen.registry import KINDS, get_kind
from pinngen.runs import precision


def _config(name, **train):
    kind = get_kind(name)
    raw = copy.deepcopy(kind.contract_config)
    raw["kind"] = name
    raw.setdefault("train", {}).update(progress=False, **train)
    return load_config(raw)


def _fit(cfg, setup, **kw):
    return fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=cfg.seed,
               key=jax.random.PRNGKey(cfg.seed), **{**setup.fit_kwargs, **kw})


def _inputs(name, setup, cfg):
    """A few valid prediction inputs for the kind, in its documented units."""
    if name == "pinn":
        return setup.model.problem.geometry.sample_interior(5, method="uniform", rng=np.random.default_rng(0))
    if name == "dense":
        return setup.extras["raw_test"][0][:5]
    if name == "diffusion":
        return setup.extras["data"].raw_test[:3]
    x = np.asarray(setup.data["x"][:3], np.float64)
    return x * setup.spec.get("pixel_max", 1.0) if name != "vae" else x


# kinds that only orchestrate other runs (contract_config None) have no model of their own to check
CHECKED = sorted(k for k in KINDS if get_kind(k).contract_config is not None)


@pytest.fixture(scope="module", params=CHECKED)
def kind_setup(request):
    name = request.param
    cfg = _config(name)
    with precision(cfg.dtype):
        yield name, cfg, get_kind(name).setup(cfg)


@pytest.fixture(scope="module")
def first_fit(kind_setup):
    """One run of the contract config, shared: the model the predict/save/load test checks is the run the
    determinism test compares with (training the same config once more per test only repeats the compile)."""
    name, cfg, setup = kind_setup
    with precision(cfg.dtype):
        return _fit(cfg, setup)


def test_terms_are_finite_named_scalars_and_gradients_reach_every_parameter(kind_setup):
    name, cfg, setup = kind_setup
    with precision(cfg.dtype):
        params, static = eqx.partition(setup.model, trainable_filter(setup.model))

        def total(p, data):
            terms = setup.loss_terms(eqx.combine(p, static), data, jax.random.PRNGKey(0))
            return sum(terms.values()), terms

        # compiled as one program, as training runs it (op by op, each new primitive shape compiles alone)
        (value, terms), grads = eqx.filter_jit(jax.value_and_grad(total, has_aux=True))(params, setup.data)
    assert terms and all(isinstance(k, str) for k in terms)
    for k, v in terms.items():
        assert np.ndim(v) == 0 and np.isfinite(v), f"{name}: term {k} = {v}"
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(grads)]
    for path, g in zip(paths, jax.tree_util.tree_leaves(grads), strict=True):
        assert np.all(np.isfinite(g)), f"{name}: non-finite gradient at {path}"
        assert np.any(g != 0), f"{name}: no gradient reaches {path}"


def test_predict_shapes_and_save_load_round_trip(kind_setup, first_fit, tmp_path):
    name, cfg, setup = kind_setup
    kind = get_kind(name)
    with precision(cfg.dtype):
        model, _ = first_fit
        x = _inputs(name, setup, cfg)
        y = np.asarray(kind.predict(model, setup.spec, x))
        assert y.shape[0] == len(x) and np.all(np.isfinite(y)), name
        ckpt.save_model(tmp_path / "model", model, setup.spec)
        again = ckpt.load_model(tmp_path / "model", kind.template(ckpt.load_spec(tmp_path / "model")))
        np.testing.assert_array_equal(np.asarray(kind.predict(again, setup.spec, x)), y)


def test_same_seed_same_result_and_resume_equals_uninterrupted(kind_setup, first_fit, tmp_path):
    name, cfg, setup = kind_setup
    steps = sum(p.steps for p in cfg.train.phases)

    class StopHalfway:
        def __call__(self, state):
            state.stop = state.step >= steps // 2

    m1, h1 = first_fit
    with precision(cfg.dtype):
        # the interrupted run is a second run with the same seed, from a fresh setup as a new process builds it
        # (a setup's hooks keep state between fits: pinn's collocation refresh): its losses up to the stop must
        # be h1's (pinn's stop lands on its adam/lbfgs boundary: the second phase waits for the resume)
        _, h2 = _fit(cfg, get_kind(name).setup(cfg), checkpoint_dir=tmp_path, callbacks=(StopHalfway(),))
        n2 = len(h2.column("loss"))
        assert 0 < n2 < len(h1.column("loss")), f"{name}: {n2} steps recorded, the run was not interrupted"
        np.testing.assert_array_equal(h2.column("loss"), h1.column("loss")[:n2], err_msg=f"{name}: same seed, "
                                      "different losses")
        m3, h3 = _fit(cfg, get_kind(name).setup(cfg), checkpoint_dir=tmp_path, resume=True)
    np.testing.assert_array_equal(h3.column("loss"), h1.column("loss"))
    arrays = [jax.tree_util.tree_leaves(eqx.filter(m, eqx.is_array)) for m in (m1, m3)]  # not per-setup closures
    assert arrays[0], f"{name}: the model has no arrays"
    for a, b in zip(*arrays, strict=True):
        np.testing.assert_array_equal(a, b)
    other = _config(name)
    other = other.model_copy(update={"seed": other.seed + 1})
    with precision(cfg.dtype):
        _, h4 = _fit(other, get_kind(name).setup(other))
    assert not np.array_equal(h4.column("loss"), h1.column("loss")), f"{name}: the seed changes nothing"


def test_samples_have_the_data_shape_and_follow_the_seed(kind_setup):
    name, cfg, setup = kind_setup
    kind = get_kind(name)
    if kind.sample is None:
        pytest.skip(f"{name} does not sample")
    with precision(cfg.dtype):
        a = np.asarray(kind.sample(setup.model, setup.spec, 4, jax.random.PRNGKey(1)))
        b = np.asarray(kind.sample(setup.model, setup.spec, 4, jax.random.PRNGKey(1)))
        c = np.asarray(kind.sample(setup.model, setup.spec, 4, jax.random.PRNGKey(2)))
    assert a.shape[0] == 4 and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
