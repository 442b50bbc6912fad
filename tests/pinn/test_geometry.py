"""Contracts of the geometry package: membership, named parts, outward normals, sampling."""

import numpy as np
import pytest

from pinngen.pinn.geometry import (
    Box,
    Difference,
    Disk,
    Intersection,
    Interval,
    Polygon,
    Rectangle,
    SpaceTime,
    TimeDomain,
    Union,
)

L_SHAPE = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]  # counter-clockwise, non-convex

DOMAINS = {
    "interval": lambda: Interval(-1.0, 2.0),
    "rectangle": lambda: Rectangle((0, 0), (2, 1)),
    "box": lambda: Box((0, 0, 0), (1, 2, 3)),
    "disk": lambda: Disk((0.5, -0.5), 0.7),
    "polygon_ccw": lambda: Polygon(L_SHAPE),
    "polygon_cw": lambda: Polygon(L_SHAPE[::-1]),
    "rect_minus_disk": lambda: Rectangle((0, 0), (2, 1)) - Disk((1, 0.5), 0.25),
    "disk_union": lambda: Disk((0, 0), 1) | Disk((1.2, 0), 0.8),
    "lens": lambda: Disk((0, 0), 1) & Disk((1, 0), 1),
    "spacetime_disk": lambda: Disk((0, 0), 1) * TimeDomain(0, 2),
    "spacetime_hole": lambda: SpaceTime(Rectangle((0, 0), (1, 1)) - Disk((0.5, 0.5), 0.2), TimeDomain(0, 1)),
}


@pytest.fixture(params=sorted(DOMAINS))
def domain(request):
    return DOMAINS[request.param]()


@pytest.mark.parametrize("method", ["uniform", "sobol", "lhs", "grid"])
def test_samples_have_exact_size_and_lie_in_domain(domain, method):
    x = domain.sample_interior(37, method=method, rng=1)
    assert x.shape == (37, domain.dim) and x.dtype == np.float64
    assert domain.inside(x).all()
    b = domain.sample_boundary(23, method=method, rng=2)
    assert b.shape == (23, domain.dim)
    assert domain.on_boundary(b).all() and domain.inside(b).all()


def test_outward_normals_point_out(domain):
    b = domain.sample_boundary(200, rng=0)
    n = domain.boundary_normal(b)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-12)
    h = 1e-3 * float(np.linalg.norm(domain.bbox[1] - domain.bbox[0]))
    out, back = domain.inside(b + h * n), domain.inside(b - h * n)
    # Points within h of a corner may fail; random points almost never are.
    assert (~out).mean() > 0.97 and back.mean() > 0.97


def test_same_seed_same_points_and_new_seed_new_points(domain):
    for method in ("uniform", "sobol", "lhs"):
        a = domain.sample_interior(16, method=method, rng=5)
        np.testing.assert_array_equal(a, domain.sample_interior(16, method=method, rng=5))
        assert not np.allclose(a, domain.sample_interior(16, method=method, rng=6))


def test_part_names_and_unknown_part_lists_valid_names():
    assert Interval(0, 1).boundary_parts == ("left", "right")
    assert Rectangle((0, 0), (1, 1)).boundary_parts == ("left", "right", "bottom", "top")
    assert Box((0, 0, 0), (1, 1, 1)).boundary_parts == ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")
    assert Disk((0, 0), 1).boundary_parts == ("circle",)
    assert Polygon(L_SHAPE).boundary_parts == tuple(f"edge{i}" for i in range(6))
    assert TimeDomain(0, 1).boundary_parts == ("initial", "final")
    with pytest.raises(ValueError, match=r"part='lft'.*valid parts: \('left', 'right'"):
        Rectangle((0, 0), (1, 1)).sample_boundary(4, part="lft", rng=0)


def test_rectangle_parts_normals_and_length_proportional_counts():
    r = Rectangle((0, 0), (2, 1))
    x = r.sample_boundary(600, rng=0)
    counts = {p: int(r.on_boundary(x, part=p).sum()) for p in r.boundary_parts}
    assert counts == {"left": 100, "right": 100, "bottom": 200, "top": 200}
    expected = {"left": (-1, 0), "right": (1, 0), "bottom": (0, -1), "top": (0, 1)}
    for p, n in expected.items():
        xp = r.sample_boundary(5, part=p, method="sobol", rng=1)
        assert r.on_boundary(xp, part=p).all()
        np.testing.assert_array_equal(r.boundary_normal(xp), np.tile(n, (5, 1)))
    corner = r.boundary_normal(np.array([[2.0, 1.0]]))
    np.testing.assert_allclose(corner, [[2**-0.5, 2**-0.5]])
    assert (r.boundary_normal(np.array([[1.0, 0.5]])) == 0).all()  # not on the boundary


def test_interval_box_and_timedomain_boundaries():
    i = Interval(-1, 2)
    x = i.sample_boundary(5, rng=0)
    np.testing.assert_array_equal(np.sort(x[:, 0]), [-1, -1, -1, 2, 2])
    np.testing.assert_array_equal(i.boundary_normal(np.array([[-1.0], [2.0]])), [[-1], [1]])
    assert i.inside(np.array([0.5, 3.0])).tolist() == [True, False]  # (n,) accepted for dim 1
    b = Box((0, 0, 0), (1, 2, 3))
    x = b.sample_boundary(2200, rng=0)  # face areas 6, 6, 3, 3, 2, 2
    assert [int(b.on_boundary(x, part=p).sum()) for p in ("xmin", "ymin", "zmin")] == [600, 300, 200]
    np.testing.assert_array_equal(b.boundary_normal(b.sample_boundary(3, part="zmax", rng=0))[:, 2], 1)
    t = TimeDomain(0, 5)
    assert t.sample_boundary(3, part="initial", rng=0).ravel().tolist() == [0, 0, 0]


def test_disk_interior_is_uniform_and_boundary_on_circle():
    d = Disk((1, 2), 2.0)
    x = d.sample_interior(20000, rng=0)
    r = np.linalg.norm(x - [1, 2], axis=1)
    assert abs((r < 1.0).mean() - 0.25) < 0.015  # area fraction of the half-radius disk
    b = d.sample_boundary(64, method="grid")
    np.testing.assert_allclose(np.linalg.norm(b - [1, 2], axis=1), 2.0)
    gaps = np.diff(np.sort(np.arctan2(b[:, 1] - 2, b[:, 0] - 1)))
    np.testing.assert_allclose(gaps, 2 * np.pi / 64)


def test_lhs_is_stratified_and_grid_is_deterministic():
    r = Rectangle((0, 0), (1, 1))
    x = r.sample_interior(50, method="lhs", rng=3)
    for k in range(2):
        assert sorted(np.floor(x[:, k] * 50).astype(int).tolist()) == list(range(50))
    g = r.sample_interior(49, method="grid")
    np.testing.assert_array_equal(np.unique(g[:, 0]), (np.arange(7) + 0.5) / 7)
    np.testing.assert_array_equal(g, r.sample_interior(49, method="grid", rng=0))


def test_polygon_inside_orientation_and_validation():
    pts = np.array([[0.5, 0.5], [1.5, 1.5], [1.5, 0.5], [0.5, 1.5], [1.0, 1.5], [2.5, 0.5]])
    expected = [True, False, True, True, True, False]
    assert Polygon(L_SHAPE).inside(pts).tolist() == expected
    assert Polygon(L_SHAPE[::-1]).inside(pts).tolist() == expected
    # edge3 of the L runs (2,1) -> (1,1) (counter-clockwise): outward normal +y; reversed it is edge1.
    np.testing.assert_allclose(Polygon(L_SHAPE).boundary_normal(np.array([[1.5, 1.0]])), [[0, 1]])
    np.testing.assert_allclose(Polygon(L_SHAPE[::-1]).boundary_normal(np.array([[1.5, 1.0]])), [[0, 1]])
    with pytest.raises(ValueError, match="intersect"):
        Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # bow tie
    with pytest.raises(ValueError, match="K >= 3"):
        Polygon([(0, 0), (1, 1)])
    with pytest.raises(ValueError, match="zero length"):
        Polygon([(0, 0), (1, 0), (1, 0), (0, 1)])


def test_difference_boundary_is_outer_edges_and_hole():
    d = Rectangle((0, 0), (2, 1)) - Disk((1, 0.5), 0.25)
    assert isinstance(d, Difference)
    assert d.boundary_parts == ("left", "right", "bottom", "top", "circle")
    x = d.sample_interior(500, rng=0)
    assert (np.linalg.norm(x - [1, 0.5], axis=1) >= 0.25 - 1e-9).all()
    h = d.sample_boundary(50, part="circle", rng=0)
    n = d.boundary_normal(h)
    np.testing.assert_allclose(n, -(h - [1, 0.5]) / 0.25, atol=1e-9)  # outward = towards the centre
    b = d.sample_boundary(6000, rng=1)  # perimeter 6 + hole 0.5 pi
    frac = d.on_boundary(b, part="circle").mean()
    assert abs(frac - 0.5 * np.pi / (6 + 0.5 * np.pi)) < 0.01


def test_union_drops_covered_arcs_and_shared_faces():
    u = Disk((0, 0), 1) | Disk((1.2, 0), 0.8)
    assert isinstance(u, Union) and u.boundary_parts == ("circle_1", "circle_2")
    b = u.sample_boundary(400, rng=0)
    assert (np.linalg.norm(b, axis=1) >= 1 - 1e-6).all()
    assert (np.linalg.norm(b - [1.2, 0], axis=1) >= 0.8 - 1e-6).all()
    # Two unit squares side by side: the shared edge x=1 is interior, not boundary.
    s = Rectangle((0, 0), (1, 1)) | Rectangle((1, 0), (2, 1))
    assert s.on_boundary(np.array([[1.0, 0.5]])).tolist() == [False]
    assert s.on_boundary(np.array([[1.0, 1.0], [0.5, 0.0]])).all()
    assert set(s.boundary_parts) == {"left_1", "right_1", "bottom_1", "top_1", "left_2", "right_2",
                                     "bottom_2", "top_2"}
    x = s.sample_boundary(600, rng=0)
    on_seam = np.isclose(x[:, 0], 1.0) & (x[:, 1] > 1e-9) & (x[:, 1] < 1 - 1e-9)
    assert not on_seam.any()
    with pytest.raises(ValueError, match="zero measure|could not draw"):
        s.sample_boundary(5, part="right_1", rng=0)
    three = u | Disk((0.5, 1), 1)
    assert three.boundary_parts == ("circle_1", "circle_2", "circle_3")
    assert three.resolve_parts("boundary") == three.boundary_parts
    arc = three.sample_boundary(20, part="circle_3", rng=0)  # the third circle, outside the others
    assert (np.linalg.norm(arc, axis=1) >= 1 - 1e-6).all()
    assert (np.linalg.norm(arc - [1.2, 0], axis=1) >= 0.8 - 1e-6).all()


def test_intersection_and_coincident_faces():
    lens = Disk((0, 0), 1) & Disk((1, 0), 1)
    assert isinstance(lens, Intersection)
    b = lens.sample_boundary(300, method="sobol", rng=0)
    assert (np.linalg.norm(b, axis=1) <= 1 + 1e-6).all()
    assert (np.linalg.norm(b - [1, 0], axis=1) <= 1 + 1e-6).all()
    # Removing a strip that shares A's right edge leaves no boundary at x=2.
    cut = Rectangle((0, 0), (2, 1)) - Rectangle((1, 0), (2, 1))
    assert cut.on_boundary(np.array([[2.0, 0.5], [1.0, 0.5]])).tolist() == [False, True]
    np.testing.assert_allclose(cut.boundary_normal(np.array([[1.0, 0.5]])), [[1, 0]])
    same = Rectangle((0, 0), (2, 1)) & Rectangle((0, 0), (1, 1))
    assert same.on_boundary(np.array([[0.5, 0.0], [1.0, 0.5], [1.5, 0.0]])).tolist() == [True, True, False]


def test_spacetime_parts_initial_and_default_spatial():
    st = Interval(0, 1) * TimeDomain(0, 2)
    assert isinstance(st, SpaceTime) and st.dim == 2
    assert st.boundary_parts == ("left", "right", "initial", "final")
    assert st.default_parts == ("left", "right") and st.resolve_parts("spatial") == ("left", "right")
    x0 = st.sample_boundary(10, part="initial", method="sobol", rng=0)
    assert (x0[:, 1] == 0).all() and (x0[:, 0] >= 0).all() and (x0[:, 0] <= 1).all()
    np.testing.assert_array_equal(st.boundary_normal(x0, part="initial"), np.tile([0, -1], (10, 1)))
    xb = st.sample_boundary(40, rng=0)  # default: spatial parts only
    assert np.isin(xb[:, 0], [0.0, 1.0]).all() and st.boundary_normal(xb)[:, 1].tolist() == [0] * 40
    assert not st.on_boundary(np.array([[0.5, 0.0]])).any()
    assert st.on_boundary(np.array([[0.5, 0.0]]), part="initial").all()
    g = st.sample_boundary(20, part=("initial", "left"), method="grid")
    assert len(g) == 20 and st.on_boundary(g, part=("initial", "left")).all()
    assert np.isclose(st.volume, 2.0)
    with pytest.raises(ValueError, match="TimeDomain"):
        SpaceTime(Interval(0, 1), Interval(0, 1))


def test_uniform_grid_and_volume():
    r = Rectangle((0, 0), (1, 1))
    g = r.uniform_grid(100)
    assert len(g) == 100 and [0, 0] in g.tolist() and [1, 1] in g.tolist()
    d = Disk((0, 0), 1)
    assert abs(len(d.uniform_grid(400)) - 400) <= 40 and d.inside(d.uniform_grid(400)).all()
    hole = Rectangle((0, 0), (2, 1)) - Disk((1, 0.5), 0.25)
    assert abs(hole.volume - (2 - np.pi / 16)) < 0.01
    assert abs(Polygon(L_SHAPE).volume - 3.0) < 1e-12


def test_validation_errors_name_the_argument():
    with pytest.raises(ValueError, match="hi=.*must exceed lo"):
        Rectangle((0, 0), (1, 0))
    with pytest.raises(ValueError, match="radius"):
        Disk((0, 0), -1)
    with pytest.raises(ValueError, match=r"method='halton'.*\('uniform', 'sobol', 'lhs', 'grid'\)"):
        Interval(0, 1).sample_interior(4, method="halton", rng=0)
    with pytest.raises(ValueError, match="rng=None"):
        Interval(0, 1).sample_interior(4)
    with pytest.raises(ValueError, match="n=0"):
        Interval(0, 1).sample_interior(0, rng=0)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        Rectangle((0, 0), (1, 1)).inside(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="same dim"):
        Interval(0, 1) | Disk((0, 0), 1)


def test_check_inside_reports_count_and_first_point():
    r = Rectangle((0, 0), (1, 1))
    ok = r.check_inside(np.array([[0.0, 1.0], [0.5, 0.5]], dtype=np.float32), "data")
    assert ok.dtype == np.float64
    msg = r"data: points outside the domain: 2 of 3, first at row 1: \[1.5, 0.5\]"
    with pytest.raises(ValueError, match=msg):
        r.check_inside(np.array([[0.5, 0.5], [1.5, 0.5], [-1, 0]]), "data")
