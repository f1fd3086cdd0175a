"""Problems at the ends of float64: data at 1e-320 (subnormal), 1e-300, 1, 1e155, 1e300 and
near 1e308 (issue 11, items 9 and 10).

Each problem solves in a unit copy of its data (centred, divided by a power of two; see
``geograd.problems.scaling``) and reports in the user's units. Through the CLI
(``geograd solve NAME --points FILE --json``) every scale must end with exit 0, no
"unexpected" error and no traceback, a solution that matches the reference relative to
the data's extent and equals the scale-1 solution times the scale, and a reference
whose objective is not worse than the solution's. Sums of squares (circle-fit,
trilateration, registration) beyond about 1e154 are representable only for data that
fit exactly: such data are solved; noisy data there, whose least objective exceeds the
largest float, are refused with one line that says so.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd.cli.app import app
from geograd.errors import InputError
from geograd.problems.circle_fit import CircleFit
from geograd.problems.median import GeometricMedian

runner = CliRunner()

#: Scales of the data: the ends of float64 and the middle. 2^-1063 is 1.01e-320: the data,
#: on a grid of 2^-10, stay exact there (subnormals are multiples of 2^-1074), so that the
#: answer is the scale-1 answer times the scale. (Near 1e308 each problem picks a scale
#: that keeps its data and its objective representable.)
SUBNORMAL = 2.0**-1063
SCALES = (SUBNORMAL, 1e-300, 1.0, 1e155, 1e300)
#: The smallest subnormal: at 1e-320 coordinates are multiples of it.
TINY = 5e-324


def snap(v: float) -> float:
    """v on the grid of 2^-10 (exact at every scale down to 2^-1064)."""
    return round(v * 1024.0) / 1024.0


# ----------------------------------------------------------------------------- helpers


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[float]]) -> Path:
    lines = [",".join(header)] + [",".join(repr(float(v)) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def scaled(rows: Sequence[Sequence[float]], s: float) -> list[list[float]]:
    return [[v * s for v in row] for row in rows]


def solve(name: str, *args: Any) -> dict[str, Any]:
    """``geograd solve NAME ARGS --json``: exit 0 (converged and matching the reference),
    no unexpected error, no traceback; the JSON document."""
    result = runner.invoke(app, ["solve", name, *(str(a) for a in args), "--json"])
    text = result.stdout + result.stderr
    assert "unexpected" not in text and "Traceback" not in text, text[-2000:]
    assert result.exit_code == 0, (result.exit_code, result.stderr[-2000:])
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def refused(name: str, *args: Any) -> str:
    """The one line of a solve refused as an input error (exit 2)."""
    result = runner.invoke(app, ["solve", name, *(str(a) for a in args), "--json"])
    assert result.exit_code == 2, (result.exit_code, result.stdout[-500:], result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("geograd: error: "), result.stderr
    assert "unexpected" not in lines[0] and "Traceback" not in result.stderr
    return lines[0]


def not_worse(reference: float | None, solution: float | None) -> bool:
    """The reference's objective is at most the solution's, to the rounding of the objective
    (1e-12 relative: a sum of squared residuals of 1e-3 loses ~1e-14 to rounding). JSON
    has no inf: None is an objective beyond the largest float."""
    ref = math.inf if reference is None else reference
    sol = math.inf if solution is None else solution
    return ref <= sol or ref <= sol + 1e-12 * abs(sol) + 2.0 * math.ulp(sol)


def check_solved(
    doc: dict[str, Any], extent: float, expected: Sequence[float], angles: int = 0
) -> None:
    """A converged solve that matches its reference relative to ``extent``, equals
    ``expected`` (the scale-1 answer times the scale) to 1e-6 of the extent (and the
    rounding of subnormal coordinates), with a reference not worse than the solution.
    The first ``angles`` parameters are angles (radians), compared to 1e-9."""
    where = f"{doc['data']}: {doc['match']}"
    # Converged, or stalled at a kink that the certificate's exact test proves optimal.
    proven = doc["reason"] == "stalled" and doc["certificate"].get("optimal") is True
    assert (doc["converged"] or proven) and doc["exit_code"] == 0, where
    assert doc["matches_reference"] is True, where
    assert doc["distance"] <= 1e-6 * extent + 4 * TINY, where
    assert all(math.isfinite(v) for v in doc["solution"]), where
    assert not_worse(doc["reference"]["loss"], doc["loss"]), (
        doc["reference"]["loss"], doc["loss"], where,
    )  # fmt: skip
    tol = 1e-6 * extent + 4 * TINY
    x = doc["solution"]
    assert all(abs(a - b) <= 1e-9 for a, b in zip(x[:angles], expected[:angles])), (x, where)
    assert math.dist(x[angles:], expected[angles:]) <= tol, (x, expected, where)


# ------------------------------------------------------------------------------ median

R = random.Random(20240611)
POINTS = [[snap(R.random()), snap(R.random())] for _ in range(50)]
#: Small integers: exact times 2^-1070 too.
WEIGHTS = [float(R.randint(1, 9)) for _ in range(50)]


def median_at_one() -> GeometricMedian:
    return GeometricMedian.from_points(POINTS)


def test_median_solves_at_every_scale(tmp_path: Path) -> None:
    one = median_at_one().reference().x
    width = max(max(c) - min(c) for c in zip(*POINTS))
    for s in (*SCALES, 1.7e308):
        path = write_csv(tmp_path / f"median_{s:g}.csv", ("x", "y"), scaled(POINTS, s))
        doc = solve("median", "--points", path)
        check_solved(doc, width * s, [v * s for v in one])
        assert doc["loss"] == pytest.approx(median_at_one().objective(one) * s, rel=1e-9)


def test_median_reference_is_the_true_median_at_extreme_scales() -> None:
    """Issue 11 item 10: at 1e155 and beyond, and at 1e-300 and below, the reference (Weiszfeld)
    returned a data point 10-47 % worse than the median; it is the median of the same
    points at scale 1, times the scale. A match stays relative to the data's extent."""
    base = median_at_one()
    ref1 = base.reference()
    for s in (SUBNORMAL, 1e-300, 1e155, 1e300, 1.7e308):
        p = GeometricMedian.from_points(scaled(POINTS, s))
        ref = p.reference()
        assert math.dist(ref.x, [v * s for v in ref1.x]) <= 1e-9 * p.extent + 4 * TINY, s
        if s >= 1e-300:
            assert ref.loss == pytest.approx(ref1.loss * s, rel=1e-12), s
            assert min(math.dist(ref.x, a) for a in p.points) > 1e-3 * p.extent, s
        assert ref.details["converged"], s
        # 1e-2 of the extent off is no match at any scale, 1e-9 of it is one. (At 1e-320
        # coordinates are multiples of 5e-324, 5e-4 of this extent.)
        far = p.assess([ref.x[0] + 1e-2 * p.extent, ref.x[1]], reference=ref)
        rel = 1e-3 if s >= 1e-300 else 0.1
        assert far["matches"] is False and far["distance_rel"] == pytest.approx(1e-2, rel=rel)
        if s >= 1e-300:
            near = p.assess([ref.x[0] + 1e-9 * p.extent, ref.x[1]], reference=ref)
            assert near["matches"] is True, near["match"]


def test_median_weights_near_the_largest_float(tmp_path: Path) -> None:
    """Weights near 1e308 (their sum overflows) give the median of the same weights at 1."""
    one = GeometricMedian.from_points(POINTS, WEIGHTS).reference().x
    rows = [[*p, w * 1.6e307] for p, w in zip(POINTS, WEIGHTS)]  # they sum to 1e310
    doc = solve("median", "--points", write_csv(tmp_path / "w.csv", ("x", "y", "w"), rows))
    check_solved(doc, 1.0, one)
    rows = [[*p, w * 2.0**-1070] for p, w in zip(scaled(POINTS, 1e300), WEIGHTS)]
    doc = solve("median", "--points", write_csv(tmp_path / "w2.csv", ("x", "y", "w"), rows))
    check_solved(doc, 1e300, [v * 1e300 for v in one])


def test_median_beyond_the_largest_width() -> None:
    """Points at -1.7e308 and 1.7e308 are 3.4e308 apart, more than any float, yet their
    median (and its mean distance) is representable: it is solved, the extent capped."""
    p = GeometricMedian.from_points([[-1.7e308], [0.0], [1.7e308]])
    res = p.solve()
    assert res.converged and res.x == [0.0]
    assert p.reference().x == [0.0] and p.objective([0.0]) == pytest.approx(1.7e308 / 3 * 2)
    assert p.extent == pytest.approx(1.7976931348623157e308)
    assert p.assess(res.x)["matches"] is True


def test_median_whose_mean_distance_overflows_is_refused() -> None:
    corners = [[-1.7e308] * 10, [1.7e308] * 10, [1.7e308] * 9 + [-1.7e308]]
    with pytest.raises(InputError) as info:
        GeometricMedian.from_points(corners)
    msg = str(info.value)
    assert msg.startswith("median: the points span more than 1.8e+308")
    assert "beyond the largest float" in msg and "\n" not in msg


# ------------------------------------------------------------------------------ fermat

INTERIOR = [[0.1, 0.2], [0.9, 0.3], [0.4, 0.95]]
VERTEX = [[0.1, 0.2], [0.9, 0.3], [0.45, 0.32]]  # the angle at C is over 120°


@pytest.mark.parametrize(("triangle", "top"), [(INTERIOR, 1e308), (VERTEX, 1.7e308)])
def test_fermat_solves_at_every_scale(
    tmp_path: Path, triangle: list[list[float]], top: float
) -> None:
    from geograd.problems.fermat import FermatPoint

    one = FermatPoint.from_points(triangle).reference().x
    width = max(max(c) - min(c) for c in zip(*triangle))
    for s in (*SCALES, top):
        path = write_csv(tmp_path / f"fermat_{s:g}.csv", ("x", "y"), scaled(triangle, s))
        check_solved(solve("fermat", "--points", path), width * s, [v * s for v in one])


def test_fermat_whose_sum_of_distances_overflows_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "big.csv", ("x", "y"), scaled(INTERIOR, 1.7e308))
    line = refused("fermat", "--points", path)
    assert "fermat: the vertices span 1.36e+308 (x from 1.7e+307 to 1.53e+308)" in line
    assert "sum of distances to the vertices, about 2.4e+308, is beyond the largest" in line
    assert "divide the data by 10 (or more)" in line


# -------------------------------------------------------------------- enclosing-circle


def test_enclosing_circle_solves_at_every_scale(tmp_path: Path) -> None:
    from geograd.problems.enclosing_circle import EnclosingCircle

    pts = POINTS[:40]
    one = EnclosingCircle.from_points(pts).reference().x
    width = max(max(c) - min(c) for c in zip(*pts))
    for s in (*SCALES, 1.7e308):
        path = write_csv(tmp_path / f"enc_{s:g}.csv", ("x", "y"), scaled(pts, s))
        doc = solve("enclosing-circle", "--points", path)
        check_solved(doc, width * s, [v * s for v in one])
        assert doc["certificate"]["optimal"] is True or s < 1e-300


def test_a_width_beyond_the_largest_float_is_judged_in_the_solvers_units(tmp_path: Path) -> None:
    # points 2e308 apart: the extent is capped at 1.8e308, and 1e-6 of it understates the
    # tolerance meant; the same data divided by 1e308 match, so these must too
    corners = [[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [0.0, 0.0]]
    unit_file = write_csv(tmp_path / "u.csv", ("x", "y"), corners)
    huge_file = write_csv(tmp_path / "h.csv", ("x", "y"), scaled(corners, 1e308))
    small = solve("enclosing-circle", "--points", unit_file)
    huge = solve("enclosing-circle", "--points", huge_file)
    assert small["matches_reference"] is True
    assert huge["matches_reference"] is True and "solver's scaled units" in huge["match"]
    assert huge["distance"] / 1e308 == pytest.approx(small["distance"], rel=1e-6)


# -------------------------------------------------------------------------- circle-fit


def arc(n: int, noise: float, seed: int) -> list[list[float]]:
    """n points on the circle of radius 0.5 about the origin, 40° to 140°, with noise."""
    r = random.Random(seed)
    out = []
    for _ in range(n):
        t = math.radians(r.uniform(40.0, 140.0))
        x, y = 0.5 * math.cos(t) + r.gauss(0, noise), 0.5 * math.sin(t) + r.gauss(0, noise)
        out.append([snap(x), snap(y)])
    return out


#: Four points exactly on the circle about (1, 1) of radius 1: times a power of two they
#: stay exact, so the least sum of squares is 0 at any scale.
EXACT_CIRCLE = [[2.0, 1.0], [1.0, 2.0], [0.0, 1.0], [1.0, 0.0]]


def test_circle_fit_solves_at_every_representable_scale(tmp_path: Path) -> None:
    pts = arc(30, 0.005, 7)
    one = CircleFit.from_points(pts).reference().x
    width = max(max(c) - min(c) for c in zip(*pts))
    for s in (SUBNORMAL, 1e-300, 1.0, 1e155):
        path = write_csv(tmp_path / f"circ_{s:g}.csv", ("x", "y"), scaled(pts, s))
        doc = solve("circle-fit", "--points", path)
        check_solved(doc, width * s, [v * s for v in one])
    # At 1e300 and near 1e308 only an exact fit has a representable sum of squares.
    for s in (2.0**-1063, 2.0**996, 2.0**1022):
        path = write_csv(tmp_path / f"exact_{s:g}.csv", ("x", "y"), scaled(EXACT_CIRCLE, s))
        doc = solve("circle-fit", "--points", path)
        check_solved(doc, 2.0 * s, [s, s, s])
        assert doc["loss"] == 0.0 and doc["reference"]["loss"] == 0.0


def test_circle_fit_whose_least_squares_overflow_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "noisy.csv", ("x", "y"), scaled(arc(30, 0.005, 7), 1e300))
    line = refused("circle-fit", "--points", path)
    assert line.startswith("geograd: error: circle-fit: the points span 6.7")
    assert "e+299 (x from -3." in line
    assert "the least sum of squared distances to the circle, about 7" in line
    assert "e+596, is beyond the largest float (1.8e+308)" in line
    assert line.endswith("divide the data by 1e145 (or more) and scale the answer back")


# ----------------------------------------------------------------------- trilateration


def ranges_rows(
    anchors: Sequence[Sequence[float]], truth: Sequence[float], noise: float, seed: int
) -> list[list[float]]:
    r = random.Random(seed)
    return [[*a, snap(math.dist(a, truth) + noise * r.gauss(0, 1))] for a in anchors]


TRI_ANCHORS = [[snap(R.random()), snap(R.random())] for _ in range(6)]
#: Anchors whose ranges to the origin are exactly 5 (3-4-5 triangles): exact at any
#: power-of-two scale.
EXACT_TRI = [[3.0, 4.0, 5.0], [5.0, 0.0, 5.0], [0.0, 5.0, 5.0], [-3.0, -4.0, 5.0]]


def test_trilateration_solves_at_every_representable_scale(tmp_path: Path) -> None:
    from geograd.problems.trilateration import Trilateration

    rows = ranges_rows(TRI_ANCHORS, [0.4, 0.6], 0.005, 3)
    one = Trilateration.from_anchors([r[:2] for r in rows], [r[2] for r in rows])
    expected = one.reference().x
    width = max(max(c) - min(c) for c in zip(*TRI_ANCHORS))
    for s in (SUBNORMAL, 1e-300, 1.0, 1e155):
        path = write_csv(tmp_path / f"tri_{s:g}.csv", ("x", "y", "range"), scaled(rows, s))
        doc = solve("trilateration", "--points", path)
        check_solved(doc, width * s, [v * s for v in expected])
    for s in (2.0**996, 2.0**1020):
        path = write_csv(tmp_path / f"exact_{s:g}.csv", ("x", "y", "range"), scaled(EXACT_TRI, s))
        doc = solve("trilateration", "--points", path)
        check_solved(doc, 8.0 * s, [0.0, 0.0])
        assert doc["reference"]["loss"] == 0.0


# ------------------------------------------------------------------------ registration


def pairs(n: int, angle: float, shift: Sequence[float], noise: float, seed: int) -> Any:
    r = random.Random(seed)
    src = [[snap(r.random()), snap(r.random())] for _ in range(n)]
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    tgt = [
        [snap(c * x - s * y + shift[0] + r.gauss(0, noise)),
         snap(s * x + c * y + shift[1] + r.gauss(0, noise))]
        for x, y in src
    ]  # fmt: skip
    return src, tgt


def test_registration_solves_at_every_representable_scale(tmp_path: Path) -> None:
    from geograd.problems.registration import Registration

    src, tgt = pairs(20, 30.0, (0.5, -0.25), 0.002, 11)
    ref1 = Registration()
    ref1.set_data(src, tgt)
    theta, tx, ty = ref1.reference().x
    width = ref1.extent
    for s in (SUBNORMAL, 1e-300, 1.0, 1e155):
        a = write_csv(tmp_path / f"src_{s:g}.csv", ("x", "y"), scaled(src, s))
        b = write_csv(tmp_path / f"tgt_{s:g}.csv", ("x", "y"), scaled(tgt, s))
        doc = solve("registration", "--source", a, "--target", b)
        # θ is an angle, the same at every scale; the shift scales.
        check_solved(doc, width * s, [theta, tx * s, ty * s], angles=1)
    # At 1e300 and near 1e308 only an exact fit has a representable sum of squares: a shift
    # of points on a grid of eighths.
    grid = [[k / 8.0, (k * 3 % 8) / 8.0] for k in range(8)]
    for s in (2.0**996, 2.0**1020):
        source = scaled(grid, s)
        target = [[x + 0.5 * s, y - 0.25 * s] for x, y in source]
        a = write_csv(tmp_path / f"src_{s:g}.csv", ("x", "y"), source)
        b = write_csv(tmp_path / f"tgt_{s:g}.csv", ("x", "y"), target)
        doc = solve("registration", "--source", a, "--target", b)
        check_solved(doc, 1.5 * s, [0.0, 0.5 * s, -0.25 * s], angles=1)
        assert doc["reference"]["loss"] == 0.0


def test_registration_whose_least_squares_overflow_is_refused(tmp_path: Path) -> None:
    src, tgt = pairs(20, 30.0, (0.5, -0.25), 0.002, 11)
    a = write_csv(tmp_path / "src.csv", ("x", "y"), scaled(src, 1e300))
    b = write_csv(tmp_path / "tgt.csv", ("x", "y"), scaled(tgt, 1e300))
    line = refused("registration", "--source", a, "--target", b)
    assert "registration: the point pairs span " in line
    assert "the least sum of squared residuals, about " in line
    assert "beyond the largest float" in line


# ------------------------------------------------------------------------ the contract


def test_loss_gradient_and_objective_agree_in_user_units() -> None:
    """``loss(x)`` (through the engine), ``objective(x)``, ``gradient(x)`` and ``x0`` are all
    in user units, at any scale: the loss equals the objective, autograd the closed form
    (an average of unit vectors), x0 is the centroid.

    (Autograd not near 1e308: reverse mode carries s ≈ 1e308 into the unit loss's graph,
    where the norm's rule divides it by a distance before multiplying by the difference,
    and near a data point that intermediate overflows; the solver runs on the unit loss,
    unaffected. Nor at 1e-320, where s times a unit gradient is a subnormal with few
    digits.)"""
    for s in (1e-300, 1e155, 1e300, 1.7e308):
        p = GeometricMedian.from_points(scaled(POINTS, s))
        centroid = [math.fsum(c) / len(POINTS) * s for c in zip(*POINTS)]
        assert p.x0 == pytest.approx(centroid, rel=1e-15), s
        for x in p.check_points(6, seed=1):
            assert p.loss(x).item() == pytest.approx(p.objective(x), rel=1e-12), s
            closed = p.gradient(x)
            assert 0.0 < math.hypot(*closed) <= 1.0 + 1e-12, s
            if s < 1e308:
                auto = p.autograd_gradient(x)
                assert math.dist(auto, closed) <= 1e-12, (s, auto, closed)


def test_a_start_beyond_the_largest_float_is_refused_naming_the_parameter(tmp_path: Path) -> None:
    """A circle through points near ±1.7e308 has a radius no float holds: one line that
    names the radius and what to do, exit 2 (it said 'x0 coordinate 3 (inf) is not a
    finite number', though no x0 was given)."""
    path = tmp_path / "huge.txt"
    path.write_text("1.7e308 1.7e308\n-1.7e308 -1.7e308\n1.7e308 -1.7e308\n")
    result = CliRunner().invoke(app, ["solve", "circle-fit", "--points", str(path)])
    assert result.exit_code == 2
    text = " ".join(result.stderr.split())
    assert "has radius beyond the largest float" in text and "divide the data by 10" in text
    assert "x0" not in text and len(result.stderr.strip().splitlines()) == 1


def test_trilateration_with_ranges_far_beyond_its_anchors_is_judged_truly(tmp_path: Path) -> None:
    """Ranges of 1e200 around a 10 x 10 square: the anchors are not 'on one line' (their
    shape is measured free of scale); the least squared error, 4e400, is refused as such.
    Ranges of 1e308 and 9 make the start itself overflow: refused naming x and y."""
    path = tmp_path / "far.csv"
    path.write_text("x,y,range\n0,0,1e200\n10,0,1e200\n0,10,1e200\n10,10,1e200\n")
    result = CliRunner().invoke(app, ["solve", "trilateration", "--points", str(path)])
    assert result.exit_code == 2
    text = " ".join(result.stderr.split())
    assert "one line" not in text and "about 4e+400, is beyond the largest float" in text
    path.write_text("x,y,range\n0,0,1e308\n10,0,1e308\n0,10,1e308\n10,10,9\n")
    result = CliRunner().invoke(app, ["solve", "trilateration", "--points", str(path)])
    assert result.exit_code == 2
    assert "has x, y beyond the largest float" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    "args",
    [
        ["median", "--x0", "1e308,1e308"],
        ["circle-fit", "--x0", "1e308,1e308,1e308"],
        ["enclosing-circle", "--x0", "1e308,1e308"],
        ["fermat", "--x0", "1e308,1e308"],
    ],
)
def test_a_start_too_far_from_the_data_is_one_clear_error(args: list[str]) -> None:
    """x0 = 1e308 for data near 1: one line saying so and what to do, not the engine's
    'sum: the sum overflows float64' or 'x0 coordinate 1 (inf)' (the user gave 1e308)."""
    result = CliRunner().invoke(app, ["solve", *args])
    assert result.exit_code == 2
    text = " ".join(result.stderr.split())
    assert "x0 = 1e+308, 1e+308" in text and "give a start nearer the data" in text
    assert "(inf)" not in text and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["median", "fermat", "enclosing-circle"])
def test_a_far_start_given_when_the_problem_is_built_is_refused_too(name: str) -> None:
    """x0 given to the constructor, not to solve(): the same one-line refusal at solve(),
    not the engine's 'sum: the sum overflows float64' from inside the solver."""
    from geograd.problems import get_problem

    cls = type(get_problem(name))
    p = cls.from_points([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], x0=[1e308, 1e308])
    with pytest.raises(InputError, match=r"x0 = 1e\+308, 1e\+308 is so far from the"):
        p.solve()
    near = cls.from_points([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], x0=[0.3, 0.2])
    res = near.solve()  # a start near the data is solved from where it was given
    assert res.steps > 0 and res.history["x"][0] == [0.3, 0.2]
