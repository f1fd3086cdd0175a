"""The Fermat–Torricelli point: the issue's anchor, the exact construction, solves, input."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from geograd import Tensor, minimize
from geograd.errors import InputError
from geograd.problems import get_problem
from geograd.problems.fermat import FermatPoint, angle_between, draw_triangle, torricelli
from geograd.problems.median import GeometricMedian

UNIT = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
UNIT_X = (3.0 - math.sqrt(3.0)) / 6.0
UNIT_LOSS = math.sqrt(2.0 + math.sqrt(3.0))
OURS = ("gd", "sgd", "momentum", "nag", "adam", "adamw", "adamax", "rmsprop", "adagrad")


@pytest.fixture(scope="module")
def seed5() -> FermatPoint:
    p = get_problem("fermat")
    assert isinstance(p, FermatPoint)
    return p


def _obtuse(angle_deg: float) -> list[tuple[float, float]]:
    t = math.radians(angle_deg)
    return [(0.0, 0.0), (1.0, 0.0), (2.0 * math.cos(t), 2.0 * math.sin(t))]


# ------------------------------------------------------------------------ the anchor


def test_unit_triangle_anchor() -> None:
    p = FermatPoint.from_points(UNIT)
    ref = p.reference()
    assert ref.method == "torricelli-construction"
    assert ref.x == pytest.approx([UNIT_X, UNIT_X], abs=1e-15)
    assert ref.loss == pytest.approx(UNIT_LOSS, abs=1e-15)
    assert p.objective([UNIT_X, UNIT_X]) == pytest.approx(UNIT_LOSS, abs=1e-15)
    assert ref.details["angles_deg"] == pytest.approx([90.0, 45.0, 45.0], abs=1e-12)
    assert ref.details["weiszfeld_distance"] < 1e-10
    cert = ref.details["certificate"]
    assert cert["value"] < 1e-14
    assert cert["spoke_angles_deg"] == pytest.approx([120.0, 120.0, 120.0], abs=1e-9)
    res = p.solve()
    assert res.converged, res.message
    assert math.dist(res.x, [UNIT_X, UNIT_X]) < 1e-7  # measured 6e-9
    assert res.loss == pytest.approx(UNIT_LOSS, abs=1e-15)


def test_barycentric_weights_of_the_unit_triangle() -> None:
    # a·csc(A+π/3) : b·csc(B+π/3) : c·csc(C+π/3) with A = 90°, B = C = 45°
    a, b = math.sqrt(2.0), 1.0
    w = [a / math.sin(math.radians(150)), b / math.sin(math.radians(105))]
    w.append(w[1])
    expected = [v / sum(w) for v in w]
    _, details = torricelli(UNIT)
    assert details["case"] == "interior"
    assert details["barycentric"] == pytest.approx(expected, abs=1e-15)


def test_equilateral_triangle_point_is_its_centre() -> None:
    tri = [(0.0, 0.0), (2.0, 0.0), (1.0, math.sqrt(3.0))]
    x, _ = torricelli(tri)
    assert x == pytest.approx([1.0, 1.0 / math.sqrt(3.0)], abs=1e-15)


# --------------------------------------------------------------- exact construction


def test_construction_agrees_with_weiszfeld_and_the_median() -> None:
    r = random.Random(11)
    for _ in range(40):
        pts = [(r.uniform(-3, 3), r.uniform(-3, 3)) for _ in range(3)]
        p = FermatPoint.from_points(pts)
        ref = p.reference()
        assert ref.details["weiszfeld_distance"] < 1e-9 * p.scale
        med = GeometricMedian.from_points(pts).reference()
        assert math.dist(ref.x, med.x) < 1e-9 * p.scale
        assert ref.loss == pytest.approx(3.0 * med.loss, rel=1e-14)
        cert = ref.details["certificate"]
        if ref.details["case"] == "vertex":
            assert cert["kind"] == "vertex" and cert["optimal"] is True
        else:
            assert cert["value"] < 1e-12
            assert cert["spoke_angles_deg"] == pytest.approx([120.0] * 3, abs=1e-7)


@pytest.mark.parametrize("angle", [120.5, 135.0, 161.0, 179.0])
def test_obtuse_angle_gives_the_vertex(angle: float) -> None:
    p = FermatPoint.from_points(_obtuse(angle))
    ref = p.reference()
    assert ref.method == "vertex-test"
    assert json.loads(json.dumps(ref.to_dict()))["details"]["vertex"] == 0  # JSON-ready
    assert ref.details["case"] == "vertex" and ref.details["vertex"] == 0
    assert ref.x == [0.0, 0.0]
    assert ref.details["angles_deg"][0] == pytest.approx(angle, abs=1e-10)
    res = p.solve()
    # L-BFGS's search fails at the vertex's kink: minimize claims no convergence there
    # (it cannot tell a kink minimum from another kink); the vertex test proves it
    assert res.converged or (res.reason == "stalled" and "at a kink" in res.message)
    assert math.dist(res.x, [0.0, 0.0]) < 1e-9
    assert p.certificate(res.x)["optimal"] is True


def test_just_under_120_degrees_is_interior_and_near_the_vertex() -> None:
    x, details = torricelli(_obtuse(119.9))
    assert details["case"] == "interior"
    assert 0.0 < math.hypot(*x) < 0.01
    # ∇L = 0 there: the construction is exact, not an approximation.
    assert math.hypot(*FermatPoint.from_points(_obtuse(119.9)).gradient(x)) < 1e-12


def test_exactly_120_degrees_both_formulas_meet() -> None:
    x, _ = torricelli(_obtuse(120.0))
    assert math.hypot(*x) < 1e-12


def test_repeated_and_collinear_vertices() -> None:
    x, details = torricelli([(1.0, 2.0), (5.0, 5.0), (1.0, 2.0)])
    assert details["case"] == "repeated" and x == [1.0, 2.0]
    x, _ = torricelli([(3.0, 3.0)] * 3)
    assert x == [3.0, 3.0]
    line = FermatPoint.from_points([(0.0, 0.0), (4.0, 2.0), (1.0, 0.5)])
    assert line.reference().x == [1.0, 0.5]  # the middle point: its angle is 180°
    assert line.reference().details["angles_deg"][2] == pytest.approx(180.0)


def test_triangle_in_three_dimensions() -> None:
    # the unit triangle rotated about the x axis by 30° and shifted
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    pts = [(x + 1.0, c * y, s * y - 2.0) for x, y in UNIT]
    p = FermatPoint.from_points(pts)
    assert p.dim == 3
    expected = [UNIT_X + 1.0, c * UNIT_X, s * UNIT_X - 2.0]
    assert p.reference().x == pytest.approx(expected, abs=1e-15)
    assert p.reference().loss == pytest.approx(UNIT_LOSS, abs=1e-14)
    assert math.dist(p.solve().x, expected) < 1e-7
    assert p.plot_xy(expected) == (expected[0], expected[1])


def test_kahan_angle_is_accurate_for_tiny_and_flat_angles() -> None:
    assert angle_between((0, 0), (1, 0), (1, 1e-12)) == pytest.approx(1e-12, rel=1e-12)
    assert angle_between((0, 0), (1, 0), (-1, 1e-12)) == pytest.approx(math.pi - 1e-12, abs=1e-15)
    assert math.isnan(angle_between((0, 0), (0, 0), (1, 1)))


# ------------------------------------------------------------------------------- data


def test_default_is_the_median_of_three_with_seed_5(seed5: FermatPoint) -> None:
    assert seed5.settings == {"seed": 5, "case": "random", "points": None}
    med = get_problem("median", n=3, seed=5)
    assert isinstance(med, GeometricMedian)
    assert seed5.columns == med.columns
    assert seed5.x0 == pytest.approx(med.x0, abs=1e-15)
    assert seed5.objective(seed5.x0) == pytest.approx(3.0 * med.objective(med.x0), rel=1e-15)
    assert seed5.reference().details["case"] == "interior"


@pytest.mark.parametrize("case", ["interior", "vertex"])
def test_generated_cases(case: str) -> None:
    for seed in range(15):
        p = get_problem("fermat", seed=seed, case=case)
        assert isinstance(p, FermatPoint)
        assert p.reference().details["case"] == case
        biggest = max(p.angles())
        assert (biggest >= 2 * math.pi / 3) == (case == "vertex")
        assert all(0.0 <= v <= 1.0 for c in p.columns for v in c)
    # the first draw is the random case's triangle
    assert draw_triangle(random.Random(3), "random") == [
        list(p) for p in get_problem("fermat", seed=3).points
    ]


def test_load_from_file(tmp_path: Path) -> None:
    f = tmp_path / "tri.csv"
    f.write_text("east,north\n0,0\n1,0\n0,1\n")
    p = get_problem("fermat", points=str(f))
    assert isinstance(p, FermatPoint)
    assert p.names == ("east", "north") and p.source == str(f)
    assert p.reference().x == pytest.approx([UNIT_X, UNIT_X], abs=1e-15)
    g = tmp_path / "tri3.txt"
    g.write_text("0 0 0\n1 0 0\n0 1 0\n")
    assert get_problem("fermat", points=g).dim == 3


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0,0\n1,0\n0,1\n2,2\n", "4 points; a triangle has exactly 3"),
        ("0,0\n1,0\n", "2 point(s); this problem needs at least 3"),
        ("x,y,w\n0,0,1\n1,0,1\n0,1,1\n", "takes no weights"),
        ("0,0\n1,zero\n0,1\n", "'zero' in column 2 is not a number"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, words: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(InputError) as info:
        get_problem("fermat", points=f)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"case": "acute"}, "fermat: --case must be one of random, interior, vertex"),
        ({"seed": "x"}, "--seed must be an integer"),
        ({"n": 3}, "unknown option 'n'"),
        ({"x0": [1.0, 2.0, 3.0]}, "x0 has 3 coordinates but the problem has dimension 2"),
        ({"x0": "0.1,nan"}, "x0 coordinate 2 ('nan') is not a finite number"),
        ({"points": ""}, "--points must be a file path"),
    ],
)
def test_bad_options(options: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as info:
        get_problem("fermat", **options)
    assert words in str(info.value)


def test_from_points_rejects_bad_triangles() -> None:
    with pytest.raises(InputError, match="3 vertices, got 2"):
        FermatPoint.from_points([(0, 0), (1, 1)])
    with pytest.raises(InputError, match="same, nonzero dimension"):
        FermatPoint.from_points([(0, 0), (1, 1), (1, 2, 3)])
    with pytest.raises(InputError, match="finite"):
        FermatPoint.from_points([(0, 0), (1, math.inf), (1, 2)])


def test_to_dict_round_trip() -> None:
    p = get_problem("fermat", seed=8, case="vertex", x0="0.5,0.5")
    d = json.loads(json.dumps(p.to_dict()))
    assert d["name"] == "fermat" and d["n"] == 3 and d["data"]["source"] == "generated"
    q = FermatPoint.from_dict(d)
    assert q.points == p.points and q.x0 == [0.5, 0.5]
    given = FermatPoint.from_points(UNIT, x0=[1.0, 1.0])
    again = FermatPoint.from_dict(json.loads(json.dumps(given.to_dict())))
    assert again.points == given.points and again.x0 == [1.0, 1.0]


# -------------------------------------------------------------------------- gradients


def _fd(p: FermatPoint, x: list[float], h: float = 1e-7) -> list[float]:
    out = []
    for j in range(len(x)):
        up, dn = list(x), list(x)
        up[j] += h
        dn[j] -= h
        out.append((p.objective(up) - p.objective(dn)) / (2 * h))
    return out


@pytest.mark.parametrize("options", [{}, {"seed": 2, "case": "vertex"}, {"seed": 9}])
def test_autograd_closed_form_and_finite_differences(options: dict[str, object]) -> None:
    p = get_problem("fermat", **options)
    assert isinstance(p, FermatPoint)
    pts = p.check_points(12, seed=1)
    near = [min(math.dist(a, x) for a in p.points) for x in pts]
    assert sum(d < 2e-2 * p.scale for d in near) >= 6  # half of them hug a vertex
    for x in pts:
        closed = p.gradient(x)
        assert p.autograd_gradient(x) == pytest.approx(closed, abs=1e-14)
        assert _fd(p, x, 1e-7 * p.scale) == pytest.approx(closed, abs=1e-6)
        assert p.loss(Tensor(x)).item() == pytest.approx(p.objective(x), abs=1e-14)


def test_gradient_at_a_vertex_drops_its_term() -> None:
    p = FermatPoint.from_points([(0.0, 0.0), (3.0, 0.0), (0.0, 4.0)])
    assert p.gradient([0.0, 0.0]) == pytest.approx([-1.0, -1.0], abs=1e-15)
    assert p.autograd_gradient([0.0, 0.0]) == pytest.approx([-1.0, -1.0], abs=1e-15)


def test_certificate_at_a_vertex_that_is_not_optimal() -> None:
    p = FermatPoint.from_points(UNIT)
    cert = p.certificate([0.0, 0.0])
    assert cert["kind"] == "vertex" and cert["optimal"] is False
    # the unit vectors to (1,0) and (0,1) sum to length √2 > 1
    assert cert["value"] == pytest.approx(math.sqrt(2.0) - 1.0, abs=1e-15)
    assert cert["gap_bound"] >= p.objective([0, 0]) - UNIT_LOSS


# ------------------------------------------------------------------------------ solves


def test_default_solve_reaches_the_exact_point(seed5: FermatPoint) -> None:
    ref = seed5.reference()
    res = seed5.solve()
    assert res.optimizer == "lbfgs"
    assert res.converged, res.message
    assert math.dist(res.x, ref.x) < 1e-7 * seed5.scale  # measured 3.5e-11 (scale 0.2)
    assert res.loss - ref.loss < 1e-15
    assert res.evaluations < 20  # measured 9 (gd: 28)
    report = seed5.assess(res.x)
    assert report["certificate"]["value"] < 1e-7
    settings = seed5.solver_defaults()
    # The same settings drive minimize on the loss in user coordinates; solve() runs them
    # on the unit copy of the triangle (centred, divided by a power of two), so the two
    # runs agree to the problem's tolerance, not bit for bit. L-BFGS's lr has no unit:
    # it passes to user units unchanged, and the user-coordinate run takes as few steps.
    assert settings["lr"] == 1.0
    again = minimize(seed5.loss, seed5.x0, **settings)
    assert again.converged and math.dist(again.x, ref.x) < 1e-7 * seed5.scale
    assert again.steps <= res.steps + 3, (again.steps, res.steps)


@pytest.mark.parametrize("name", OURS)
def test_every_optimizer_reaches_the_exact_point(seed5: FermatPoint, name: str) -> None:
    res = seed5.solve(name)
    assert res.converged, res.message
    assert math.dist(res.x, seed5.reference().x) < 1e-7, (name, res.x)


def test_default_solve_on_many_triangles() -> None:
    for case in ("random", "interior", "vertex"):
        for seed in range(6):
            p = get_problem("fermat", seed=seed, case=case)
            res = p.solve()
            at_vertex = res.reason == "stalled" and p.certificate(res.x)["optimal"] is True
            vertex = p.reference().details["case"] == "vertex"
            assert res.converged or (vertex and at_vertex), (case, seed, res.message)
            assert math.dist(res.x, p.reference().x) < 1e-7 * p.scale, (case, seed)


def test_defaults_do_not_depend_on_units(seed5: FermatPoint) -> None:
    for factor, offset in [(1e6, 0.0), (1e-6, 0.0), (1.0, 1e3)]:
        p = FermatPoint.from_points([(factor * x + offset, factor * y) for x, y in seed5.points])
        res = p.solve()
        assert res.converged, res.message
        assert math.dist(res.x, p.reference().x) < 1e-7 * p.scale
        # The default (L-BFGS) has no step size of its own to tune; gd's first trial
        # step is in units of the triangle.
        assert p.solver_defaults()["optimizer"] == "lbfgs"
        gd = p.solver_defaults("gd")["lr"]
        assert gd == pytest.approx(factor * seed5.solver_defaults("gd")["lr"])
        # a trust radius is a length too; L-BFGS's lr multiplies a step: no unit
        radius = p.solver_defaults("trust-ncg")["lr"]
        assert radius == pytest.approx(factor * seed5.solver_defaults("trust-ncg")["lr"])
        assert p.solver_defaults("lbfgs")["lr"] == seed5.solver_defaults("lbfgs")["lr"] == 1.0


def test_baselines_agree(seed5: FermatPoint) -> None:
    runs = seed5.baselines(["BFGS", "Nelder-Mead"])
    assert [b.method for b in runs] == ["BFGS", "Nelder-Mead"]
    assert math.dist(runs[0].x, seed5.reference().x) < 1e-5
    assert runs[1].loss - seed5.reference().loss < 1e-6


# ---------------------------------------------------------------------------- drawing


def test_torricelli_lines_meet_at_the_point(seed5: FermatPoint) -> None:
    x = seed5.reference().x
    for apex, vertex in zip(seed5.apexes(), seed5.points):
        # apex, vertex and the Fermat point are collinear
        ux, uy = vertex[0] - apex[0], vertex[1] - apex[1]
        vx, vy = x[0] - apex[0], x[1] - apex[1]
        assert abs(ux * vy - uy * vx) < 1e-12
        # and the apex makes an equilateral triangle with the other two vertices
    _, b, c = seed5.points
    assert math.dist(seed5.apexes()[0], b) == pytest.approx(math.dist(b, c), rel=1e-12)
    assert FermatPoint.from_points(_obtuse(150.0)).apexes() == []


def test_objective_grid(seed5: FermatPoint) -> None:
    z = seed5.objective_grid([0.6, 0.7, 0.8], [0.8, 0.9])
    assert z[1][2] == pytest.approx(seed5.objective([0.8, 0.9]), abs=1e-14)
    with pytest.raises(InputError, match="contours need 2 parameters"):
        FermatPoint.from_points([(0, 0, 0), (1, 0, 0), (0, 1, 0)]).objective_grid([0], [0])


def test_draw_and_draw_estimate(seed5: FermatPoint, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert seed5.has_scene
    fig, ax = plt.subplots()
    try:
        artists = seed5.draw(ax, seed5.reference().x)
        labels = [h.get_label() for h in ax.get_legend_handles_labels()[0]]
        assert labels == ["Torricelli's construction", "triangle", "estimate"]
        texts = [a.get_text() for a in artists if hasattr(a, "get_text")]
        assert texts == ["A 52.9°", "B 46.7°", "C 80.3°"]
        spokes = seed5.draw_estimate(
            ax, seed5.reference().x, color="red", label="gd", linestyle="--", alpha=0.5
        )
        assert len(spokes) == 3
        assert spokes[0].get_label() == "gd"  # one legend entry
        assert all(str(s.get_label()).startswith("_") for s in spokes[1:])
        assert all(s.get_color() == "red" and s.get_linestyle() == "--" for s in spokes)
        ends = sorted(tuple(s.get_xydata()[1]) for s in spokes)
        assert ends == sorted(seed5.points)
        lo_x, hi_x, lo_y, hi_y = seed5.plot_bounds()
        assert all(lo_x < x < hi_x and lo_y < y < hi_y for x, y in seed5.points)
        fig.savefig(tmp_path / "f.png")
        assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        plt.close(fig)
