"""Problem spec: parameters, references, residual shape checks, clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.pinn.conditions import Dirichlet
from pinngen.pinn.geometry import Interval, Rectangle, TimeDomain
from pinngen.pinn.problem import Parameter, Problem, Reference, known, unknown


def _problem(residual, **kw):
    return Problem(name="toy", inputs=("x", "t"), outputs=("u",), geometry=Interval(0, 1) * TimeDomain(0, 1),
                   residual=residual, **kw)


def test_wrong_residual_shape_names_problem_and_shapes():
    with pytest.raises(ValueError, match=r"problem 'toy'.*shape \(3, 2\).*\(3,\)"):
        _problem(lambda d, p: jnp.stack([d["u_t"], d["u_x"]], axis=1))


def test_residual_key_error_is_clear():
    with pytest.raises(ValueError, match="unknown derivative key"):
        _problem(lambda d, p: d["u_z"])


def test_residual_structures_give_term_names():
    assert _problem(lambda d, p: d["u_t"]).residual_names == ("pde",)
    assert _problem(lambda d, p: (d["u_t"], d["u_x"])).residual_names == ("pde",)
    names = _problem(lambda d, p: {"a": d["u_t"], "b": d["u_xx"][:, None]}).residual_names
    assert set(names) == {"pde_a", "pde_b"}


def test_coordinates_and_parameters_reach_the_residual():
    seen = {}

    def residual(d, p):
        seen["x"], seen["k"] = d.coords["x"], p["k"]
        return d["u_t"] - p["k"] * d.coords["x"]

    prob = _problem(residual, parameters={"k": 2.0})
    x = jnp.array([[0.25, 0.5], [0.75, 0.1]])
    r = prob.residuals(lambda y: y[:, 1:2] * 3.0, x, prob.parameter_values())["pde"]
    np.testing.assert_allclose(r, 3.0 - 2.0 * np.array([0.25, 0.75]), rtol=1e-6)


@pytest.mark.parametrize("transform,bounds", [("none", None), ("positive", None), ("exp", None),
                                              ("bounded", (0.0, 5.0))])
def test_unknown_parameter_transforms_round_trip(transform, bounds):
    p = unknown(0.7, transform=transform, bounds=bounds)
    assert float(p.apply(jnp.asarray(p.raw_init()))) == pytest.approx(0.7, rel=1e-6)
    assert p.unknown and not known(1.0).unknown


def test_parameter_validation():
    with pytest.raises(ValueError, match="transform"):
        Parameter(1.0, transform="log")
    with pytest.raises(ValueError, match="bounds"):
        unknown(3.0, transform="bounded", bounds=(0.0, 1.0))
    with pytest.raises(ValueError, match="positive"):
        unknown(-1.0, transform="exp")


def test_reference_grid_ordering():
    x, t = np.array([0.0, 0.5, 1.0]), np.array([0.0, 1.0])
    u = x[None, :] + 10 * t[:, None]  # u[i, j] = u(x[j], t[i])
    ref = Reference.from_grid((x, t), u)
    np.testing.assert_allclose(ref.values[:, 0], ref.points[:, 0] + 10 * ref.points[:, 1])
    np.testing.assert_allclose(ref.grid(ref.values[:, 0]), u)


def test_geometry_and_name_checks():
    with pytest.raises(ValueError, match="has dim 2"):
        Problem(name="p", inputs=("x",), outputs=("u",), geometry=Rectangle([0, 0], [1, 1]),
                residual=lambda d, p: d["u_x"])
    with pytest.raises(ValueError, match="unique"):
        Problem(name="p", inputs=("x", "y"), outputs=("u",), geometry=Rectangle([0, 0], [1, 1]),
                residual=lambda d, p: d["u_xx"], conditions=[Dirichlet("bc"), Dirichlet("bc", on="left")])
    with pytest.raises(ValueError, match="reserved"):
        Problem(name="p", inputs=("x", "y"), outputs=("u",), geometry=Rectangle([0, 0], [1, 1]),
                residual=lambda d, p: d["u_xx"], conditions=[Dirichlet("pde")])


def test_parameter_values_use_raw_unknowns():
    prob = _problem(lambda d, p: d["u_t"] - p["a"] * d["u_xx"], parameters={"a": unknown(2.0, transform="exp"),
                                                                               "b": 3.0})
    vals = prob.parameter_values({"a": jnp.log(5.0)})
    assert float(vals["a"]) == pytest.approx(5.0) and vals["b"] == 3.0
    assert list(prob.unknowns) == ["a"]
    assert jax.tree_util.tree_leaves(vals)
