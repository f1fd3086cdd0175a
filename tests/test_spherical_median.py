"""The geometric median on the sphere: gradients (closed form, autograd, finite differences
along the sphere), the Weiszfeld reference against independent answers, the vertex test,
uniqueness, the default solve, files, round trips, drawing, CLI."""

from __future__ import annotations

import json
import math
import random
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geograd.check import three_way_check
from geograd.cli.app import app
from geograd.errors import InputError
from geograd.problems import get_problem, problem_from_dict
from geograd.problems.spherical_median import (
    SphericalMedian,
    angle,
    exp_map,
    from_latlon,
    to_latlon,
)
from geograd.problems.thomson import normalise, sphere_point

runner = CliRunner()


def tangent(x: list[float], r: random.Random) -> list[float]:
    """A random unit tangent vector at the unit vector x."""
    g = [r.gauss(0.0, 1.0) for _ in range(3)]
    d = sum(a * b for a, b in zip(g, x))
    return normalise([a - d * b for a, b in zip(g, x)])


# ------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("distribution", ["cluster", "cluster-with-outliers", "hemisphere"])
def test_closed_form_autograd_and_finite_differences(distribution: str) -> None:
    p = SphericalMedian(n=40, seed=3, distribution=distribution)
    pts = p.check_points(9, seed=2)
    for x in pts:
        report = three_way_check(p.loss, p.gradient, x)
        assert report.passed(1e-12, 1e-6), (x, report.autograd_vs_closed)
    assert any(abs(math.hypot(*x) - 1.0) > 0.1 for x in pts)  # off the sphere too
    assert min(min(angle(x, a) for a in p.points) for x in pts) < 0.011  # near a kink


def test_riemannian_gradient_along_great_circles() -> None:
    p = SphericalMedian.from_points(
        [[10, 20], [12, 25], [8, 22], [15, 18], [11, 30]], weights=[1, 2, 0.5, 1, 3]
    )
    r = random.Random(1)
    for _ in range(5):
        x = normalise([a + 0.05 * r.gauss(0, 1) for a in p.x0])
        g = p.gradient(x)
        auto = p.autograd_gradient(x)
        assert sum(a * b for a, b in zip(g, x)) == pytest.approx(0.0, abs=1e-15)  # tangent
        d = sum(a * b for a, b in zip(auto, x))
        projected = [a - d * b for a, b in zip(auto, x)]  # autograd, projected on the tangent
        assert projected == pytest.approx(g, abs=1e-14)
        v = tangent(x, r)
        h = 1e-5  # central difference of f along the geodesic through x in direction v
        slope = (
            p.objective(exp_map(x, [h * a for a in v]))
            - p.objective(exp_map(x, [-h * a for a in v]))
        ) / (2 * h)
        assert slope == pytest.approx(sum(a * b for a, b in zip(g, v)), abs=1e-7)


def test_numpy_backend_gives_the_same_loss_and_gradient() -> None:
    pytest.importorskip("numpy")
    a = SphericalMedian(n=50, seed=4, backend="python")
    b = SphericalMedian(n=50, seed=4, backend="numpy")
    assert b.backend == "numpy"
    for x in a.check_points(4):
        assert b.objective(x) == pytest.approx(a.objective(x), rel=1e-14)
        assert b.autograd_gradient(x) == pytest.approx(a.autograd_gradient(x), abs=1e-14)


# ------------------------------------------------------------------------- reference


def test_points_symmetric_about_the_pole_have_the_pole_as_median() -> None:
    rows = [[60.0, 60.0 * k] for k in range(6)] + [[50.0, 120.0 * k + 30.0] for k in range(3)]
    p = SphericalMedian.from_points(rows)
    ref = p.reference()
    assert angle(ref.x, [0.0, 0.0, 1.0]) <= 1e-10
    assert ref.details["converged"] is True
    assert p.uniqueness()[0] is True
    assert to_latlon(ref.x)[0] == pytest.approx(90.0, abs=1e-8)


def test_reference_against_scipy_on_latitude_longitude() -> None:
    optimize = pytest.importorskip("scipy.optimize")
    p = SphericalMedian(n=9, seed=11)
    ref = p.reference()

    def f(z: list[float]) -> float:
        return p.objective(from_latlon(z[0], z[1]))

    lat, lon = to_latlon(p.x0)
    res = optimize.minimize(
        f, [lat, lon], method="Nelder-Mead",
        options={"xatol": 1e-11, "fatol": 1e-15, "maxiter": 20000},
    )  # fmt: skip
    found = from_latlon(*res.x)
    assert angle(found, ref.x) <= 1e-7
    assert ref.loss <= p.objective(found) + 1e-14


def test_a_heavy_point_is_the_median_and_the_vertex_test_says_so() -> None:
    rows = [[10, 10], [20, 30], [15, 20], [12, 25], [25, 15]]
    p = SphericalMedian.from_points(rows, weights=[10, 1, 1, 1, 1])
    ref = p.reference()
    assert ref.x == p.points[0]  # exactly: found by the vertex test
    cert = p.certificate(ref.x)
    assert cert["kind"] == "data_point" and cert["index"] == 0 and cert["optimal"] is True
    assert cert["pull"] <= cert["point_weight"]
    light = p.certificate(p.points[1])  # a light data point fails the test
    assert light["optimal"] is False and "not optimal" in light["summary"]
    result = p.solve()
    assert p.assess(result.x)["matches"] is True


def test_a_hemisphere_is_not_enough_for_uniqueness() -> None:
    # three points 120° apart at latitude 5°: each one is a median (equal objectives)
    p = SphericalMedian.from_points([[5.0, 0.0], [5.0, 120.0], [5.0, 240.0]])
    unique, why = p.uniqueness()
    assert unique is None and why.startswith("not known")
    values = [p.objective(a) for a in p.points]
    assert max(values) - min(values) <= 1e-15
    assert values[0] < p.objective([0.0, 0.0, 1.0])  # the pole, their centre, is worse
    for a in p.points:
        cert = p.certificate(a)
        assert cert["kind"] == "data_point" and cert["optimal"] is None
        assert "locally optimal" in cert["summary"]


# ----------------------------------------------------------------------------- solve


def test_default_solve_matches_the_reference() -> None:
    p = get_problem("spherical-median")
    result = p.solve()
    assert result.converged and result.steps <= 100
    assert abs(math.hypot(*result.x) - 1.0) <= 1e-15
    judged = p.assess(result.x)
    assert judged["matches"] is True, judged["match"]
    assert judged["distance"] <= 1e-8
    assert judged["certificate"]["unique"] is True
    assert p.settings_for()["optimizer"] == "gd"


def test_an_optimizer_in_r3_is_projected_back_to_the_sphere() -> None:
    p = SphericalMedian(n=60, seed=2, distribution="cluster-with-outliers")
    result = p.solve("lbfgs")
    assert abs(math.hypot(*result.x) - 1.0) <= 1e-15
    assert p.assess(result.x)["matches"] is True


def test_a_start_off_the_sphere_is_normalised_for_the_riemannian_steps() -> None:
    p = SphericalMedian(n=30)
    result = p.solve(x0=[0.0, 0.0, 2.0])  # gd on Sphere(3) needs a unit start
    assert result.converged and p.assess(result.x)["matches"] is True


def test_components_give_latitude_and_longitude() -> None:
    p = SphericalMedian(n=5)
    x = from_latlon(-33.9, 151.2)
    comps = {c["name"]: c for c in p.components(x)}
    assert comps["latitude"]["value"] == pytest.approx(-33.9, abs=1e-12)
    assert comps["longitude"]["value"] == pytest.approx(151.2, abs=1e-12)
    assert comps["latitude"]["unit"] == "deg"
    assert [c["name"] for c in p.components(x)][:3] == ["x", "y", "z"]


# ----------------------------------------------------------------------------- files


def test_files_of_latitude_longitude_or_unit_vectors(tmp_path: Path) -> None:
    named = tmp_path / "named.csv"
    named.write_text("lon,lat,w\n20,10,1\n30,20,2\n25,15,1\n")
    p = SphericalMedian(points=named)
    assert p.n == 3 and p.weights == [1.0, 2.0, 1.0] and p.format == "latlon"
    assert p.points[1] == pytest.approx(from_latlon(20.0, 30.0), abs=1e-15)
    assert "lat/lon in degrees" in p.data_summary()
    plain = tmp_path / "plain.txt"
    plain.write_text("10 20\n20 30\n15 25\n")
    assert SphericalMedian(points=plain).points[0] == pytest.approx(from_latlon(10, 20))
    np = pytest.importorskip("numpy")
    xyz = tmp_path / "xyz.npy"
    np.save(xyz, np.array([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [1.0, 1.0, 1.0]]))
    q = SphericalMedian(points=xyz)
    assert q.format == "xyz" and q.points[0] == [1.0, 0.0, 0.0]
    assert q.data_summary().startswith("3 points on the unit sphere from ")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("lat,lon\n10,20\n95,3\n", "point 2 (counting from 1): latitude 95 is outside [-90, 90]"),
        ("1,2,3\n0,0,0\n", "point 2 (counting from 1) is the zero vector"),
        ("lat,lon\n10,nan\n", "not finite"),
        ("a,b,c,d\n1,2,3,4\n", "give two columns lat,lon"),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(tmp_path: Path, text: str, words: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    result = runner.invoke(app, ["solve", "spherical-median", "--points", str(bad)])
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(bad) in lines[0] and words in lines[0], result.stderr
    with pytest.raises(InputError):
        SphericalMedian(points=bad)


# ---------------------------------------------------------------- round trip, drawing


def test_to_dict_and_from_dict_round_trip(tmp_path: Path) -> None:
    for p in (
        SphericalMedian(n=30, seed=7, distribution="hemisphere", x0=[0.0, 0.0, 1.0]),
        SphericalMedian.from_points([[1, 2], [3, 4], [5, 7]], weights=[1, 2, 3]),
    ):
        doc = json.loads(json.dumps(p.to_dict()))
        q = problem_from_dict(doc)
        assert isinstance(q, SphericalMedian) and q.points == p.points and q.x0 == p.x0
        assert q.weights == p.weights and q.objective(q.x0) == p.objective(p.x0)
        assert q.data_summary() == p.data_summary()


def test_drawing_the_data_and_the_median() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = SphericalMedian(n=25, distribution="cluster-with-outliers")
    fig, ax = plt.subplots()
    try:
        drawn = p.draw(ax, p.x0)
        assert drawn and p.has_scene and p.plot_xy(p.x0) is not None
        marks = p.draw_estimate(ax, p.x0, color="C1", label="median")
        assert len(marks) == 1 and marks[0].get_label() == "median"
        far = [-v for v in p.x0]  # the far side: drawn hollow
        assert p.draw_estimate(ax, far, color="C1")[0].get_markerfacecolor() == "none"
        assert all(-1.0 <= v <= 1.0 for v in p.plot_xy(sphere_point(random.Random(3))) or ())
    finally:
        plt.close(fig)


# ------------------------------------------------------------------------------- CLI


def test_cli_check_passes_with_the_riemannian_checks() -> None:
    result = runner.invoke(app, ["check", "spherical-median", "--n", "50", "--json"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["passed"] and doc["riemannian"]["manifold"] == "sphere(3)"
    assert all(row["passed"] for row in doc["riemannian"]["gradient"])


def test_cli_solve_reports_latitude_longitude_and_a_match() -> None:
    result = runner.invoke(app, ["solve", "spherical-median", "--n", "80", "--json"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["matches_reference"] is True
    names = [c["name"] for c in doc["components"]]
    assert names == ["x", "y", "z", "latitude", "longitude"]
    assert doc["data"].startswith("80 points on the unit sphere, generated with n=80")


def test_registered_and_options_checked() -> None:
    p = get_problem("spherical-median", n=4)
    assert isinstance(p, SphericalMedian) and p.dim == 3 and p.n == 4
    with pytest.raises(InputError, match="did you mean cluster"):
        get_problem("spherical-median", distribution="clustr")


def test_reports_and_plot_titles_say_the_points_are_on_the_sphere() -> None:
    """The data summary and the plot title name the sphere, not R^3 (data_space)."""
    from geograd.plot.common import problem_title
    from geograd.problems import get_problem

    p = get_problem("spherical-median", n=30)
    assert p.data_summary().startswith("30 points on the unit sphere, generated with")
    assert problem_title(p) == "spherical-median (n = 30 on the unit sphere)"


def test_two_points_of_equal_weight_have_many_medians_and_the_report_says_so() -> None:
    """Two points of equal weight: every point of the arc between them is a median, so a
    solution there matches on the objective; unequal weights: the heavier point, unique."""
    from geograd.problems.spherical_median import SphericalMedian

    equal = SphericalMedian.from_points([[0.0, 0.0], [0.0, 60.0]])
    assert equal.uniqueness()[0] is False
    out = equal.assess(equal.solve().x)
    assert out["matches"] is True
    antipodal = SphericalMedian.from_points([[0.0, 0.0], [0.0, 180.0]])
    assert antipodal.uniqueness()[0] is False
    heavier = SphericalMedian.from_points([[0.0, 0.0], [0.0, 60.0]], weights=[2.0, 1.0])
    assert heavier.uniqueness()[0] is True
    assert heavier.reference().x == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)


def test_the_reference_is_within_its_stated_tolerance_of_the_weiszfeld_limit() -> None:
    """Run on from the reference with plain Riemannian Weiszfeld steps: the limit is within
    the tolerance the reference states (its stop rule reads the rate from full steps)."""
    import numpy as np

    from geograd.problems import get_problem
    from geograd.problems.spherical_median import angle, exp_map

    for options in ({}, {"distribution": "hemisphere", "seed": 1}):
        p = get_problem("spherical-median", **options)
        ref = p.reference()
        pts, x = np.array(p.points), np.array(ref.x)
        for _ in range(400):
            cr = np.cross(x, pts)
            s = np.sqrt((cr * cr).sum(1))
            theta = np.arctan2(s, pts @ x)
            pull = np.ones(len(pts)) @ (np.cross(cr, x) / s[:, None])
            x = np.array(exp_map(x.tolist(), (pull / (1.0 / theta).sum()).tolist()))
        assert angle(ref.x, x.tolist()) <= ref.details["tolerance"]


def test_bad_longitudes_and_bad_columns_in_code_are_one_clear_error() -> None:
    from geograd.errors import InputError
    from geograd.problems.spherical_median import SphericalMedian

    with pytest.raises(InputError, match="longitude 1e\\+308 is outside"):
        SphericalMedian.from_points([[0.0, 1e308], [0.0, 0.0]])
    with pytest.raises(InputError, match="not 4"):
        SphericalMedian.from_points([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])


# ------------------------------------------- points closer than floats resolve an angle

TINY_LATLON = [[1e-320, 0.0], [0.0, 1e-320], [-1e-320, 0.0], [5e-324, 5e-324]]
# x,y,z rows 1e-199 rad apart: the corners of a square about the pole, its centre the median
SQUARE_1E200 = [[0.0, 0.0, 1e200], [10.0, 0.0, 1e200], [0.0, 10.0, 1e200], [10.0, 10.0, 1e200]]


def near_file(tmp_path: Path, rows: str) -> Path:
    """TINY_LATLON (``rows="latlon"``) or SQUARE_1E200 (``"xyz"``, as a sweep's x,y,range)."""
    data = tmp_path / f"near-{rows}.csv"
    if rows == "latlon":
        data.write_text("".join(f"{a!r},{b!r}\n" for a, b in TINY_LATLON))
    else:
        data.write_text("x,y,range\n" + "".join(f"{a},{b},{c}\n" for a, b, c in SQUARE_1E200))
    return data


def test_the_reference_of_points_1e_199_rad_apart_is_their_centre_without_warnings() -> None:
    """Angles of 1e-199 square to 0 (the reference took them as coincident: a zero pull,
    0/0 and a ZeroDivisionError); by hypot they are resolved, and the median is found."""
    pytest.importorskip("numpy")
    p = SphericalMedian.from_points(SQUARE_1E200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = p.reference()
    assert ref.details["converged"] is True
    assert ref.x == pytest.approx([5e-200, 5e-200, 1.0], rel=1e-9)
    assert ref.loss == pytest.approx(math.sqrt(0.5) * 1e-199, rel=1e-12)
    assert p.assess(p.solve().x)["matches"] is True


def test_a_zero_pull_at_a_data_point_that_failed_its_test_stops_there() -> None:
    """Vardi-Zhang's step at a data point divided by the pull: at a zero pull, 1/0. The
    point, pulled no harder than its weight, is the median: the iteration stops on it."""
    np = pytest.importorskip("numpy")
    from geograd.problems.spherical_median import weiszfeld_sphere

    t = 0.3
    pts = np.array([[0.0, 0.0, 1.0], [math.sin(t), 0.0, math.cos(t)],
                    [-math.sin(t), 0.0, math.cos(t)]])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and a vertex test that (wrongly) fails everywhere
        x, details = weiszfeld_sphere(pts, np.ones(3), pts[0], 1e-12, lambda k: (2.0, 1.0))
    assert x == [0.0, 0.0, 1.0] and details["converged"] is True


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_subnormal_latitudes_solve_at_once_at_one_point(tmp_path: Path, backend: str) -> None:
    """Rows of lat/lon near 1e-320: four points within 2e-322 rad, one point for the solve
    (the engine's gradient of θ, ~1/θ, overflowed to inf - inf), the reference and the
    certificate; the default start is that point and the solve ends there."""
    if backend == "numpy":
        pytest.importorskip("numpy")
    p = SphericalMedian(points=near_file(tmp_path, "latlon"), backend=backend)
    assert p.backend == backend
    assert p.x0 == p.points[0] and p.extent == 1.0
    assert p.uniqueness() == (True, "all the points of positive weight coincide")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = p.solve()
        judged = p.assess(result.x)
    assert result.converged and result.steps == 0 and list(result.x) == p.points[0]
    assert judged["matches"] is True and judged["certificate"]["optimal"] is True


def test_coincident_points_start_and_end_at_the_point() -> None:
    """Three equal rows: the normalised mean is 6e-17 rad off the point (a step was
    taken, at a first trial step of 6e-17); the start is now the point, the median."""
    p = SphericalMedian.from_points([[10.0, 20.0]] * 3)
    assert p.x0 == p.points[0]
    result = p.solve()
    assert result.steps == 0 and result.loss == 0.0
    assert p.reference().details["iterations"] == 0


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_the_gradient_within_1e_300_of_a_data_point_drops_its_term(
    tmp_path: Path, backend: str
) -> None:
    """As the Euclidean median's at a data point: that term's zero subgradient, in the
    engine (whose c/h² · cross/s overflowed at θ = 1e-310) and in the closed form alike."""
    if backend == "numpy":
        pytest.importorskip("numpy")
    axes = tmp_path / "axes.csv"
    axes.write_text("x,y,z\n1,0,0\n0,1,0\n0,0,1\n")
    p = SphericalMedian(points=axes, backend=backend)
    assert p.backend == backend
    x = [1.0, 1e-310, 0.0]
    auto, closed = p.autograd_gradient(x), p.gradient(x)
    assert all(math.isfinite(v) for v in auto)
    assert closed == pytest.approx([0.0, -1.0 / 3.0, -1.0 / 3.0], abs=1e-15)
    d = sum(a * b for a, b in zip(auto, x))
    assert [a - d * b for a, b in zip(auto, x)] == pytest.approx(closed, abs=1e-15)
    assert p.objective(x) == pytest.approx(math.pi / 3.0, rel=1e-15)  # the value kept


@pytest.mark.parametrize("command", ["solve", "compare"])
@pytest.mark.parametrize("rows", ["latlon", "xyz"])
def test_cli_solves_points_closer_than_floats_resolve(
    tmp_path: Path, command: str, rows: str
) -> None:
    pytest.importorskip("numpy")
    data = near_file(tmp_path, rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = runner.invoke(app, [command, "spherical-median", "--points", str(data)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "Warning" not in result.stderr and "error" not in result.stderr


@pytest.mark.parametrize("gap", [1e-14, 1e-150])
def test_near_duplicate_points_do_not_stall_the_reference(gap: float) -> None:
    """Two points `gap` rad apart among others: Weiszfeld's steps, shorter than the nearest
    point's distance, crawled between them and the rate read a stop 1e-3 short of the
    median. Within the reference's tolerance they are one point at the iterate."""
    pytest.importorskip("numpy")
    rows = [[0, 0, 1], [gap, 0, 1], [0.3, 0.1, 1], [0.2, -0.3, 1], [-0.1, 0.4, 1], [0.5, 0.5, 1]]
    p = SphericalMedian.from_points(rows)
    result = p.solve()
    ref = p.reference()
    assert ref.loss <= result.loss + 1e-15
    judged = p.assess(result.x)
    assert judged["matches"] is True, judged["match"]
    assert ref.details["certificate"]["value"] <= 1e-10  # the Riemannian gradient norm


# ------------------------------------------------------- points on one great circle

TILTED = normalise([1.0, 2.0, 2.0])  # the tilted great circle: through it and (1, 2, 2) × z


def on_circle(frame: str, t: float) -> list[float]:
    """The point t degrees along a great circle: the equator from longitude 0, or one
    tilted through TILTED (``"reversed"``: the same circle run the other way round)."""
    if frame == "equator":
        return from_latlon(0.0, t)
    e2 = normalise([TILTED[1], -TILTED[0], 0.0])  # TILTED × z, normalised
    s = math.sin(math.radians(t)) * (-1.0 if frame == "reversed" else 1.0)
    return normalise([math.cos(math.radians(t)) * a + s * b for a, b in zip(TILTED, e2)])


def circle_problem(
    frame: str, thetas: list[float], weights: list[float] | None = None
) -> SphericalMedian:
    """The problem over points at these angles along the circle: lat,lon rows on the equator,
    x,y,z rows on the tilted circle."""
    if frame == "equator":
        return SphericalMedian.from_points([[0.0, t] for t in thetas], weights=weights)
    return SphericalMedian.from_points([on_circle(frame, t) for t in thetas], weights=weights)


def deviation(thetas: list[float], weights: list[float], t: float) -> float:
    """Σ w_i |t − θ_i| / W in radians: the loss along the arc (angles in degrees)."""
    return math.radians(sum(w * abs(t - a) for w, a in zip(weights, thetas)) / sum(weights))


@pytest.mark.parametrize("frame", ["equator", "tilted", "reversed"])
@pytest.mark.parametrize(
    ("thetas", "weights"),
    [
        ([10.0, 0.0, 25.0], [1.0, 2.0, 1.5]),  # the light middle point
        ([0.0, -30.0, 35.0, 12.0, -10.0], [0.5, 1.0, 1.5, 3.0, 2.0]),  # first in the middle
        ([0.0, 10.0, 10.0, 30.0], [1.0, 1.0, 1.0, 1.0]),  # a double point: one of weight 2
    ],
)
def test_points_on_a_short_arc_have_the_weighted_1d_median(
    frame: str, thetas: list[float], weights: list[float]
) -> None:
    """On one great circle within 45° of the mean direction: unique, the reference is the
    data point of least Σ w_i |θ − θ_i| (found by trying each), exactly, and the default
    solve matches; nothing along the arc or elsewhere on the sphere does better."""
    p = circle_problem(frame, thetas, weights)
    costs = [deviation(thetas, weights, t) for t in thetas]
    k = min(range(len(thetas)), key=costs.__getitem__)
    assert all(c > costs[k] for c, t in zip(costs, thetas) if t != thetas[k])  # unique 1-D
    unique, why = p.uniqueness()
    assert unique is True and "one great circle" in why, why
    ref = p.reference()
    assert ref.x == p.points[k] and ref.method == "weighted-median-along-arc"
    assert ref.loss == pytest.approx(costs[k], rel=1e-13)
    judged = p.assess(p.solve().x)
    assert judged["matches"] is True and judged["distance"] <= 1e-8, judged["match"]
    lo, hi = min(thetas) - 20.0, max(thetas) + 20.0  # along the circle, every 0.25°
    grid = [lo + 0.25 * i for i in range(round(4 * (hi - lo)) + 1)]
    assert min(p.objective(on_circle(frame, t)) for t in grid) >= ref.loss - 1e-15
    r = random.Random(7)  # off the circle: farther from every point (spherical Pythagoras)
    assert min(p.objective(sphere_point(r)) for _ in range(500)) > ref.loss


@pytest.mark.parametrize("frame", ["equator", "tilted"])
def test_balanced_weights_on_an_arc_have_an_arc_of_medians(frame: str) -> None:
    """Four points of equal weight: every point between the middle two is a median. The
    report names them; a solution between them matches by its objective, one elsewhere on
    the circle or just off it does not."""
    thetas = [15.0, -20.0, 50.0, 5.0]  # in order along the circle: -20, 5, 15, 50
    p = circle_problem(frame, thetas)
    unique, why = p.uniqueness()
    assert unique is False
    assert "arc between data point 1 (index 0) and data point 4 (index 3)" in why, why
    ones = [1.0] * 4
    ref = p.reference()
    assert ref.loss == pytest.approx(deviation(thetas, ones, 10.0), rel=1e-13)
    for t in (6.0, 10.0, 14.5):
        x = on_circle(frame, t)
        judged = p.assess(x)
        assert judged["matches"] is True and judged["distance"] > 1e-3, judged["match"]
        assert p.objective(x) == pytest.approx(deviation(thetas, ones, 10.0), rel=1e-13)
    assert deviation(thetas, ones, 0.0) > deviation(thetas, ones, 10.0)
    assert p.assess(on_circle(frame, 0.0))["matches"] is False  # on the circle, off the arc
    (a1, a2, a3), (b1, b2, b3) = on_circle(frame, 0.0), on_circle(frame, 90.0)
    normal = [a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1]  # of the circle
    lifted = exp_map(on_circle(frame, 10.0), [math.radians(1.0) * v for v in normal])
    assert p.assess(lifted)["matches"] is False  # 1° off the circle, above the arc


def test_points_on_a_great_circle_beyond_45_degrees_are_not_known() -> None:
    """On one great circle but reaching 53° from the mean direction (an arc of 100°): the
    1-D reading is not proved there, and the answer stays "not known"."""
    thetas = [0.0, 30.0, 60.0, 100.0]
    p = circle_problem("tilted", thetas)
    mean = normalise([sum(v) for v in zip(*(on_circle("tilted", t) for t in thetas))])
    assert max(math.degrees(angle(mean, a)) for a in p.points) > 45.0
    unique, why = p.uniqueness()
    assert unique is None and why.startswith("not known") and "great circle" in why, why
    assert p.arc() is None and p.reference().method == "riemannian-weiszfeld"


def test_weights_balancing_to_rounding_give_an_arc_of_medians() -> None:
    """0.1 + 0.2 balances 0.3 (to BALANCE_RTOL, as for the Euclidean median): the arc from
    the second point to the third is all medians; 0.1 + 0.2 against 0.31 is not."""
    thetas = [0.0, 10.0, 30.0]
    balanced = circle_problem("equator", thetas, [0.1, 0.2, 0.3])
    assert balanced.uniqueness()[0] is False
    assert "between data point 2 (index 1) and data point 3 (index 2)" in balanced.uniqueness()[1]
    x = on_circle("equator", 20.0)
    assert balanced.assess(x)["matches"] is True
    heavier = circle_problem("equator", thetas, [0.1, 0.2, 0.31])
    assert heavier.uniqueness()[0] is True and heavier.reference().x == heavier.points[2]
    assert heavier.assess(x)["matches"] is False


def test_cli_solve_of_points_on_the_equator_says_unique_and_match(tmp_path: Path) -> None:
    """A lat,lon,w file on the equator: the heavy point, unique, matched (exit 0)."""
    data = tmp_path / "equator.csv"
    data.write_text("lat,lon,w\n0,0,1\n0,10,1\n0,25,3\n")
    result = runner.invoke(app, ["solve", "spherical-median", "--points", str(data), "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    doc = json.loads(result.stdout)
    assert doc["matches_reference"] is True and doc["certificate"]["unique"] is True
    assert doc["solution"] == pytest.approx(from_latlon(0.0, 25.0), abs=1e-12)  # the heavy one


# ------------------------------------------- near-duplicates a little farther apart than tol


def cluster_of_20(seed: int) -> tuple[list[list[float]], list[float], random.Random]:
    """20 points within 10° of a random centre, their normalised mean, and the generator."""
    r = random.Random(seed)
    c = normalise([r.gauss(0.0, 1.0) for _ in range(3)])
    rows = []
    for _ in range(20):
        t = tangent(c, r)
        d = r.uniform(0.0, math.radians(10.0))
        rows.append(exp_map(c, [d * v for v in t]))
    return rows, normalise([sum(v) for v in zip(*rows)]), r


def twin_of(a: list[float], sep: float, r: random.Random) -> list[float]:
    """The point ``sep`` rad from a, in a random direction."""
    return exp_map(a, [sep * v for v in tangent(a, r)])


def independent_median(p: SphericalMedian, x: list[float]) -> tuple[list[float], str]:
    """The median without the reference: a data point passing its exact vertex test, else
    Newton's method on the sphere from x, with the exact Hessian of the distance θ_i to
    each point, cot θ_i (I − u_i u_iᵀ) on the tangent plane (u_i the unit tangent towards
    a_i; the gradient of f·W is −Σ w_i u_i), each step halved until f does not increase."""
    np = pytest.importorskip("numpy")
    for k in range(p.n):
        pull, weight = p.vertex_test(k)
        if pull <= weight:
            return list(p.points[k]), f"data point {k}"
    pts, w = np.array(p.points), np.array(p.weights or [1.0] * p.n)
    y = np.array(normalise(x))
    for _ in range(100):
        helper = [1.0, 0.0, 0.0] if abs(y[0]) < 0.9 else [0.0, 1.0, 0.0]
        e1 = np.array(normalise(np.cross(y, helper).tolist()))
        basis = np.array([e1, np.cross(y, e1)])
        cr = np.cross(y, pts)
        s = np.sqrt((cr * cr).sum(1))
        u = (np.cross(cr, y) / s[:, None]) @ basis.T  # (n, 2)
        c = w * (pts @ y) / s  # w_i cot θ_i
        grad = -(w @ u)
        hess = c.sum() * np.eye(2) - (u * c[:, None]).T @ u
        step = -np.linalg.solve(hess, grad) @ basis
        f0 = p.objective(y.tolist())
        for _ in range(80):
            z = exp_map(y.tolist(), step.tolist())
            if p.objective(z) <= f0:
                break
            step = step / 2.0
        if np.linalg.norm(step) < 1e-18:
            break
        y = np.array(z)
    return y.tolist(), "Newton"


def check_reference_and_solve(p: SphericalMedian) -> None:
    """The reference is within its stated tolerance of the independent median (Newton's
    from the default solve), and the default solve matches it."""
    ref = p.reference()
    result = p.solve()
    truth, how = independent_median(p, list(result.x))
    error = angle(ref.x, truth)
    assert ref.details["converged"] is True, ref.details
    assert error <= ref.details["tolerance"], (error, how, ref.details)
    judged = p.assess(result.x)
    assert judged["matches"] is True, judged["match"]


SEPARATIONS = [7e-13, 1e-12, 3e-12, 1e-11]


@pytest.mark.parametrize("sep", SEPARATIONS)
def test_a_pair_the_others_pull_harder_than_is_left_at_once(sep: float) -> None:
    """A pair `sep` rad apart at the mean direction of 20 points; the median is 9e-4 rad
    away (the others pull harder than the pair's weight). Weiszfeld's steps from the pair
    were ~sep, their ratio read a rate, and the reference stopped beside the pair, 3e9
    times its tolerance away, where assess called the default solve a mismatch. The pair
    is one point there: Vardi-Zhang's step leaves it."""
    rows, mean, r = cluster_of_20(3)
    p = SphericalMedian.from_points([*rows, mean, twin_of(mean, sep, r)])
    check_reference_and_solve(p)
    assert min(angle(p.reference().x, a) for a in p.points[20:]) > 1e-4


@pytest.mark.parametrize("sep", SEPARATIONS)
def test_a_median_beside_a_pair_is_within_tolerance(sep: float) -> None:
    """The same with other points: the median is beside the pair (about 2·sep from it), on
    neither point. A Vardi-Zhang step from one of them and then Weiszfeld's, no geometric
    series, read a rate and stopped 2.6 to 37 times the tolerance away."""
    rows, mean, r = cluster_of_20(1)
    p = SphericalMedian.from_points([*rows, mean, twin_of(mean, sep, r)])
    check_reference_and_solve(p)
    assert not any(p.certificate(a)["optimal"] for a in p.points[20:])  # on neither
    assert min(angle(p.reference().x, a) for a in p.points[20:]) < 100 * sep


@pytest.mark.parametrize("sep", [3e-12, 1e-11, 1e-10])
def test_a_median_on_a_point_is_found_from_its_twin(sep: float) -> None:
    """Six points round the pole at latitude 60°, the pole (weight 0.05) and its twin `sep`
    rad away (1e-9 lighter): the pole is the median (its exact vertex test). From the twin,
    which fails its test, Vardi-Zhang's steps are ~1e-9·sep: the iteration stood on the
    twin, or crept and claimed convergence 3 to 10 times its tolerance away. The points of
    a tight cluster the others do not pull out of are tested too."""
    np = pytest.importorskip("numpy")
    from geograd.problems.spherical_median import weiszfeld_sphere

    pole = [0.0, 0.0, 1.0]
    rows = [from_latlon(60.0, 60.0 * k) for k in range(6)] + [pole, exp_map(pole, [sep, 0, 0])]
    weights = [1.0] * 6 + [0.05, 0.05 * (1.0 - 1e-9)]
    p = SphericalMedian.from_points(rows, weights=weights)
    assert p.certificate(pole)["optimal"] is True and p.certificate(rows[7])["optimal"] is False
    tol = 1e-12 * p.extent
    assert sep > tol
    x, details = weiszfeld_sphere(np.array(p.points), np.array(weights), np.array(p.points[7]),
                                  tol, p.vertex_test)  # fmt: skip
    assert details["converged"] is True and angle(x, pole) <= tol, (angle(x, pole), details)
    check_reference_and_solve(p)


@pytest.mark.parametrize("command", ["solve", "compare"])
def test_a_start_at_the_origin_is_refused_not_reported_as_a_match(command: str) -> None:
    # the origin's objective is 0 by atan2's convention: it looked like the best of all
    result = runner.invoke(app, [command, "spherical-median", "--x0", "0,0,0"])
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--x0 is the origin, which has no direction" in lines[0]
    with pytest.raises(InputError, match="x0 is the origin"):
        SphericalMedian.from_points([[0.0, 0.0], [0.0, 10.0]], x0=[0.0, 0.0, 0.0])
    # any length in a direction is a start
    near = runner.invoke(app, ["solve", "spherical-median", "--x0", "0,0,1e-300", "--json"])
    assert near.exit_code == 0 and json.loads(near.stdout)["matches_reference"] is True


@pytest.mark.parametrize(
    ("points", "words"),
    [
        (None, "points is None, not rows of numbers"),
        (5, "points is the number 5, not rows of numbers"),
        ([["a", "b"], [1, 2]], "points[0][0] is the string 'a', not a number"),
        ([[1j, 0], [0, 0]], "points[0][0] is the complex number 1j, not a real number"),
    ],
)
def test_points_given_in_code_are_checked_entry_by_entry(points: object, words: str) -> None:
    with pytest.raises(InputError) as info:
        SphericalMedian.from_points(points)  # type: ignore[arg-type]
    assert f"spherical-median: {words}" in str(info.value)
