"""Operators match closed-form derivatives, and forward mode matches the per-point reverse path."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.pinn.operators import Derivatives, divergence, gradient, laplacian, partial


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def _jit(fn, *args):
    """Tests run each computation jitted: one compile is far cheaper than eager nested transforms."""
    return jax.jit(fn)(*args)


def _points(n=7, d=2, seed=0, dtype=np.float64):
    return jnp.asarray(np.random.default_rng(seed).uniform(-1.5, 1.5, (n, d)).astype(dtype))


def poly(x):  # x^3 y^2 + 2 x y, shape (n, 1)
    X, Y = x[:, 0], x[:, 1]
    return (X**3 * Y**2 + 2 * X * Y)[:, None]


POLY_PARTIALS = {
    (): lambda X, Y: X**3 * Y**2 + 2 * X * Y,
    (0,): lambda X, Y: 3 * X**2 * Y**2 + 2 * Y,
    (1,): lambda X, Y: 2 * X**3 * Y + 2 * X,
    (0, 0): lambda X, Y: 6 * X * Y**2,
    (0, 1): lambda X, Y: 6 * X**2 * Y + 2,
    (1, 0): lambda X, Y: 6 * X**2 * Y + 2,
    (1, 1): lambda X, Y: 2 * X**3,
    (0, 0, 0): lambda X, Y: 6 * Y**2,
    (0, 0, 1): lambda X, Y: 12 * X * Y,
    (1, 0, 1): lambda X, Y: 6 * X**2,
    (1, 1, 1): lambda X, Y: 0 * X,
    (0, 0, 0, 1): lambda X, Y: 12 * Y,
}


@pytest.mark.parametrize("dims", list(POLY_PARTIALS), ids=str)
def test_partial_polynomial_float64(x64, dims):
    x = _points()
    want = POLY_PARTIALS[dims](np.asarray(x[:, 0]), np.asarray(x[:, 1]))
    got = _jit(lambda x: partial(poly, x, *dims), x)
    assert got.shape == (7, 1) and got.dtype == jnp.float64
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12, atol=1e-12)


def sin_exp(x):  # sin(2x) exp(-t/2)
    return (jnp.sin(2 * x[:, 0]) * jnp.exp(-0.5 * x[:, 1]))[:, None]


def _sin_exp_expected(x):
    X, T = np.asarray(x[:, 0], np.float64), np.asarray(x[:, 1], np.float64)
    s, c, e = np.sin(2 * X), np.cos(2 * X), np.exp(-0.5 * T)
    return {"u": s * e, "u_x": 2 * c * e, "t": -0.5 * s * e, "u_xx": -4 * s * e, "u_xt": -c * e,
            "tx": -c * e, "u_xxx": -8 * c * e, "u_tt": 0.25 * s * e, "xxt": 2 * s * e}


def test_named_derivatives_sin_exp_float64(x64):
    x = _points()
    expected = _sin_exp_expected(x)
    got = _jit(lambda x: {k: Derivatives(sin_exp, x, ("x", "t"))[k] for k in expected}, x)
    for key, want in expected.items():
        np.testing.assert_allclose(got[key], want, rtol=1e-12, atol=1e-12, err_msg=key)
        assert got[key].shape == (7,)


def test_named_derivatives_float32():
    x = _points(dtype=np.float32)
    expected = _sin_exp_expected(x)
    got = _jit(lambda x: {k: Derivatives(sin_exp, x, ("x", "t"))[k] for k in expected}, x)
    for key, want in expected.items():
        assert got[key].dtype == jnp.float32
        np.testing.assert_allclose(got[key], want, rtol=2e-5, atol=2e-5, err_msg=key)


def system(x):  # (sin x cos y, x^2 y)
    return jnp.stack([jnp.sin(x[:, 0]) * jnp.cos(x[:, 1]), x[:, 0] ** 2 * x[:, 1]], axis=1)


@pytest.mark.parametrize("method", ["forward", "reverse"])
def test_system_gradient_laplacian_divergence(x64, method):
    x = _points()
    X, Y = np.asarray(x[:, 0]), np.asarray(x[:, 1])
    jac = np.stack([np.stack([np.cos(X) * np.cos(Y), -np.sin(X) * np.sin(Y)], 1),
                    np.stack([2 * X * Y, X**2], 1)], 1)  # (n, d_out, d_in)
    got = _jit(lambda x: (gradient(system, x, method=method), laplacian(system, x, method=method),
                          laplacian(system, x, dims=[1], method=method), divergence(system, x, method=method),
                          divergence(system, x, dims=(1, 0), method=method)), x)
    np.testing.assert_allclose(got[0], jac, rtol=1e-12, atol=1e-12)
    lap = np.stack([-2 * np.sin(X) * np.cos(Y), 2 * Y], 1)
    np.testing.assert_allclose(got[1], lap, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[2][:, 1], 0 * X, atol=1e-12)
    np.testing.assert_allclose(got[3], np.cos(X) * np.cos(Y) + X**2, rtol=1e-12)
    np.testing.assert_allclose(got[4], -np.sin(X) * np.sin(Y) + 2 * X * Y, rtol=1e-12, atol=1e-12)


def test_components_and_key_errors(x64):
    x = _points()
    d = Derivatives(system, x, ("x", "y"), components=("u", "v"))
    X, Y = np.asarray(x[:, 0]), np.asarray(x[:, 1])
    np.testing.assert_allclose(d["v_xy"], 2 * X, rtol=1e-12)
    np.testing.assert_allclose(d["u_yy"], -np.sin(X) * np.cos(Y), rtol=1e-12)
    np.testing.assert_allclose(d["v"], X**2 * Y, rtol=1e-12)
    assert d.partial(0, 0).shape == (7, 2) and d.value.shape == (7, 2)
    for bad in ("xx", "w_x", "u_z", "u_", "", "u_xz"):
        with pytest.raises(ValueError, match=r"valid keys: a component in \('u', 'v'\)"):
            d[bad]
    assert Derivatives(system, x, ("x", "y")).components == ("u0", "u1")
    with pytest.raises(ValueError, match="prefix"):
        Derivatives(system, x, ("x", "xy"))
    with pytest.raises(ValueError, match="names="):
        Derivatives(system, x, ("x",))
    with pytest.raises(ValueError, match="components"):
        Derivatives(system, x, ("x", "y"), components=("u", "xy"))
    # multi-character input names
    m = Derivatives(system, x, ("x1", "x2"), components=("u", "v"))
    np.testing.assert_allclose(m["v_x1x2"], 2 * X, rtol=1e-12)


def test_each_chain_traces_f_once_and_caches_lower_orders():
    calls = []

    def f(x):
        calls.append(1)
        return sin_exp(x)

    d = Derivatives(f, _points(dtype=np.float32), ("x", "t"))  # eval_shape: one trace
    d.prefetch("u_t", "u_xx")  # longest first: chain (x, x) then chain (t,)
    assert len(calls) == 3
    for key in ("u", "u_x", "xx", "t", "u_t"):
        d[key]
    assert len(calls) == 3


def _mlp(key, sizes):
    params = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        key, k1, k2 = jax.random.split(key, 3)
        params.append((jax.random.normal(k1, (a, b)) / np.sqrt(a), 0.1 * jax.random.normal(k2, (b,))))

    def f(x):
        for w, b in params[:-1]:
            x = jnp.tanh(x @ w + b)
        return x @ params[-1][0] + params[-1][1]

    return f


@pytest.mark.parametrize("dims", [(2,), (1, 2), (2, 1, 1)], ids=str)
def test_forward_matches_reverse_on_mlp(x64, dims):
    f = _mlp(jax.random.PRNGKey(0), [3, 16, 16, 3])
    x = _points(n=11, d=3, seed=1)
    fw, rv = _jit(lambda x: (partial(f, x, *dims), partial(f, x, *dims, method="reverse")), x)
    np.testing.assert_allclose(fw, rv, rtol=1e-10, atol=1e-12)


def test_forward_matches_reverse_operators_float32():
    f = _mlp(jax.random.PRNGKey(1), [3, 16, 16, 3])
    x = _points(n=11, d=3, seed=2, dtype=np.float32)
    keys = ("b_xz", "c_yy", "a_y")

    def both(x, method):
        d = Derivatives(f, x, ("x", "y", "z"), components=("a", "b", "c"), method=method)
        ops = {op.__name__: op(f, x, method=method) for op in (gradient, laplacian, divergence)}
        return ops | {k: d[k] for k in keys}

    fw, rv = _jit(lambda x: (both(x, "forward"), both(x, "reverse")), x)
    for key in fw:
        np.testing.assert_allclose(fw[key], rv[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_works_under_jit_and_grad():
    f = _mlp(jax.random.PRNGKey(2), [2, 8, 1])
    x = _points(n=5, dtype=np.float32)

    def residual(x):
        d = Derivatives(f, x, ("x", "t"))
        return d["u_t"] + d["u"] * d["u_x"] - 0.01 * d["u_xx"]

    def by_partial(x):
        u, ut, ux, uxx = (partial(f, x, *dims)[:, 0] for dims in ((), (1,), (0,), (0, 0)))
        return ut + u * ux - 0.01 * uxx

    np.testing.assert_allclose(*_jit(lambda x: (residual(x), by_partial(x)), x), rtol=1e-5, atol=1e-6)
    assert jnp.all(jnp.isfinite(jax.jit(jax.grad(lambda x: jnp.sum(residual(x) ** 2)))(x)))


def test_argument_validation():
    x = _points()
    with pytest.raises(ValueError, match=r"dims=\(2,\) must lie in range\(0, 2\)"):
        partial(poly, x, 2)
    with pytest.raises(ValueError, match=r"shape \(n, d_in\)"):
        partial(poly, x[:, 0], 0)
    with pytest.raises(ValueError, match=r"method='hessian'.*\('forward', 'reverse'\)"):
        gradient(poly, x, method="hessian")
    with pytest.raises(ValueError, match="d_out == len"):
        divergence(poly, x)
    with pytest.raises(ValueError, match="at least one"):
        laplacian(poly, x, dims=())
