"""The minimum enclosing ball in any dimension (``--dim``): the exact reference against a
brute-force search, degenerate inputs, its certificate (support points, convex weights),
data far from the origin, the default solve, files, drawing and the CLI."""

from __future__ import annotations

import itertools
import json
import math
import random
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geograd.cli.app import app
from geograd.errors import InputError
from geograd.problems import get_problem
from geograd.problems.enclosing_circle import EnclosingCircle, generate, miniball
from geograd.problems.median import generate as median_generate

#: The stated tolerances of a default solve (as in the plane): radius relative gap, centre
#: distance over s.
RADIUS_RTOL = 1e-9
CENTRE_TOL = 1e-7


def columns(rows: list[list[float]]) -> list[list[float]]:
    return [list(c) for c in zip(*rows)]


def exact_circumcentre(pts: list[list[float]]) -> list[Fraction] | None:
    """The centre of the smallest sphere through ``pts`` (in their affine hull), solved
    exactly by Cramer-free elimination on the system |c - p_0|² = |c - p_i|² restricted to
    c = p_0 + Σ λ_i (p_i - p_0); None when the points are affinely dependent."""
    q = [[Fraction(v) for v in p] for p in pts]
    vs = [[a - b for a, b in zip(p, q[0])] for p in q[1:]]
    k = len(vs)
    dot = lambda a, b: sum((x * y for x, y in zip(a, b)), Fraction(0))  # noqa: E731
    m = [[2 * dot(vs[i], vs[j]) for j in range(k)] + [dot(vs[i], vs[i])] for i in range(k)]
    for c in range(k):
        piv = next((r for r in range(c, k) if m[r][c] != 0), None)
        if piv is None:
            return None
        m[c], m[piv] = m[piv], m[c]
        for r in range(k):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [a - f * b for a, b in zip(m[r], m[c])]
    lam = [m[i][k] / m[i][i] for i in range(k)]
    return [
        q[0][j] + sum((lam[i] * vs[i][j] for i in range(k)), Fraction(0)) for j in range(len(q[0]))
    ]


def brute_force(pts: list[list[float]]) -> tuple[float, set[int]]:
    """The smallest radius, over every subset of at most d + 1 points, of the sphere through
    the subset that holds all the points; and that subset (the smallest one on ties)."""
    d = len(pts[0])
    best, support = math.inf, set()
    for size in range(1, d + 2):
        for subset in itertools.combinations(range(len(pts)), size):
            c = exact_circumcentre([pts[i] for i in subset])
            if c is None:
                continue
            centre = [float(v) for v in c]
            radius = max(math.dist(centre, p) for p in pts)
            if radius < best * (1 - 1e-13):
                best, support = radius, set(subset)
    return best, support


# ----------------------------------------------------------------------- the reference


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_reference_equals_brute_force(d: int) -> None:
    r = random.Random(d)
    for trial in range(12):
        n = r.randint(1, 7)
        pts = [[r.uniform(-1, 1) for _ in range(d)] for _ in range(n)]
        ball = miniball(columns(pts), seed=trial)
        radius, support = brute_force(pts)
        assert ball.radius == pytest.approx(radius, rel=1e-12, abs=1e-15)
        assert set(ball.support) == support
        assert ball.all_inside and ball.in_hull and ball.on_sphere


def cube(d: int) -> list[list[float]]:
    return [list(map(float, v)) for v in itertools.product((0, 1), repeat=d)]


@pytest.mark.parametrize(
    ("pts", "centre", "radius", "support"),
    [
        ([[0.25, -1.0, 3.0]] * 6, [0.25, -1.0, 3.0], 0.0, 1),  # all points equal
        ([[t, 2 * t + 1, -t] for t in (0, 1, 2, 5, 9)], [4.5, 10.0, -4.5], math.sqrt(6) * 4.5, 2),
        ([[0, 0, 0]] * 4 + [[1, 1, 1]] * 3 + [[0.5, 0.4, 0.6]], [0.5] * 3, math.sqrt(3) / 2, 2),
        (cube(3), [0.5] * 3, math.sqrt(3) / 2, None),  # 8 cospherical points
        (cube(4), [0.5] * 4, 1.0, None),
        ([[float(i == j) for j in range(5)] for i in range(5)], [0.2] * 5, math.sqrt(0.8), 5),
        ([[s * float(i == j) for j in range(3)] for i in range(3) for s in (1, -1)], [0.0] * 3,
         1.0, None),  # the octahedron
        ([[math.cos(2 * math.pi * k / 5), math.sin(2 * math.pi * k / 5)] for k in range(5)],
         [0.0, 0.0], 1.0, 3),  # a regular pentagon: three adjacent corners do not hold it
        ([[0.0], [3.0], [1.0], [3.0], [-2.0]], [0.5], 2.5, 2),
    ],
    ids=["equal", "collinear-3d", "duplicates-3d", "cube", "hypercube", "simplex", "octahedron",
         "pentagon", "line"],
)  # fmt: skip
def test_degenerate_inputs(
    pts: list[list[float]], centre: list[float], radius: float, support: int | None
) -> None:
    p = EnclosingCircle.from_points(pts, dim=len(pts[0]))
    ref = p.reference()
    assert ref.x == pytest.approx(centre, abs=1e-12)
    assert ref.loss == pytest.approx(radius, rel=1e-12, abs=1e-15)
    details = ref.details
    if support is not None:
        assert len(details["support"]) == support
    assert 1 <= len(details["support"]) <= len(pts[0]) + 1
    assert details["all_inside"] and details["centre_in_hull"] and details["on_sphere"]
    if radius > 0:  # the weights put the centre inside the support's hull
        weights = details["weights"]
        assert all(w > 0 for w in weights) and math.fsum(weights) == pytest.approx(1.0, abs=1e-14)
        back = [math.fsum(w * q[j] for w, q in zip(weights, details["support_points"]))
                for j in range(len(centre))]  # fmt: skip
        assert back == pytest.approx(centre, abs=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8])
def test_the_certificate_holds(d: int) -> None:
    for dist in ("uniform", "gaussian", "disc"):
        p = get_problem("enclosing-circle", dim=d, n=300, distribution=dist, seed=d)
        ref = p.reference()
        det = ref.details
        assert ref.method == "welzl"
        weights, support = det["weights"], det["support"]
        assert len(weights) == len(support) <= d + 1
        assert all(w >= 0 for w in weights) and math.fsum(weights) == pytest.approx(1, abs=1e-13)
        assert det["residual"] <= 1e-12 * ref.loss
        for v in det["support_distances"]:
            assert v == pytest.approx(ref.loss, rel=1e-12)
        for i, q in zip(support, det["support_points"]):
            assert q == [col[i] for col in p.columns]
        # every other point inside
        assert max(math.dist(q, ref.x) for q in p.rows) <= ref.loss * (1 + 1e-12)
        cert = p.certificate(ref.x)
        assert cert["optimal"] is True and cert["support"] == support
        assert cert["weights"] == weights


def test_a_sphere_with_points_inside() -> None:
    r = random.Random(3)
    pts = []
    for k in range(400):
        u = [r.gauss(0, 1) for _ in range(4)]
        norm = math.hypot(*u)
        scale = 1.0 if k % 4 == 0 else r.random() ** 0.25
        pts.append([v / norm * scale for v in u])
    ball = miniball(columns(pts), seed=1)
    assert ball.radius == pytest.approx(1.0, rel=1e-14)
    assert math.hypot(*ball.centre) < 1e-6  # the support's circumcentre, near the origin
    assert ball.in_hull and ball.on_sphere and ball.all_inside


# ------------------------------------------------------------------- far from the origin


def dyadic(pts: list[list[float]]) -> list[list[float]]:
    """Coordinates rounded to multiples of 2^-30: adding 2^20 to them is exact."""
    return [[round(v * 2**30) / 2**30 for v in q] for q in pts]


@pytest.mark.parametrize("d", [2, 3])
def test_data_far_from_the_origin_are_as_exact(d: int) -> None:
    near = get_problem("enclosing-circle", dim=d, n=400, seed=2)
    pts = dyadic([list(q) for q in near.rows])
    offset = [2.0**20 + 3 * j for j in range(d)]  # about 1e6, as UTM metres
    far_pts = [[v + o for v, o in zip(q, offset)] for q in pts]
    assert [[v - o for v, o in zip(q, offset)] for q in far_pts] == pts  # exactly the same set
    a = EnclosingCircle.from_points(pts, dim=d)
    b = EnclosingCircle.from_points(far_pts, dim=d)
    assert b.frame.centre != (0.0,) * d  # the unit copy is centred
    ra, rb = a.reference(), b.reference()
    # The unit copy's radius is the same to rounding; the user's is f at the centre as
    # floats hold it near 1e6, within their spacing there (2^-32) of the exact one.
    assert b.unit.reference().loss * b.frame.scale == pytest.approx(ra.loss, rel=1e-12)
    assert abs(rb.loss - ra.loss) <= 2 * math.sqrt(d) * math.ulp(2.0**20)
    shifted = [v - o for v, o in zip(rb.x, offset)]
    assert math.dist(shifted, ra.x) <= 1e-12 * a.extent + 2 * math.ulp(2.0**20)
    assert sorted(rb.details["support"]) == sorted(ra.details["support"])
    assert rb.details["centre_in_hull"] and rb.details["on_sphere"]
    sa, sb = a.solve(), b.solve()
    assert sa.converged and sb.converged, sb.message
    da = math.dist(sa.x, ra.x) / a.scale
    db = math.dist(sb.x, rb.x) / b.scale
    assert da <= CENTRE_TOL and db <= CENTRE_TOL
    assert (sb.loss - rb.loss) / rb.loss <= RADIUS_RTOL
    assert abs(sa.steps - sb.steps) <= 0.1 * sa.steps + 2


# ------------------------------------------------------------------------ the solve


@pytest.mark.parametrize("d", [3, 5])
def test_default_solve_matches_the_reference(d: int) -> None:
    p = get_problem("enclosing-circle", dim=d, n=300 if d == 5 else 1000)
    assert p.dim == p.data_dim == d and len(p.x0) == d
    ref = p.reference()
    res = p.solve()
    assert res.converged, res.message
    assert res.optimizer == "trust-ncg" and len(res.x) == d
    assert (res.loss - ref.loss) / ref.loss <= RADIUS_RTOL
    assert math.dist(res.x, ref.x) <= CENTRE_TOL * p.scale
    assert p.assess(res.x)["matches"]


def test_one_dimension() -> None:
    p = get_problem("enclosing-circle", dim=1, n=50, seed=3)
    ref = p.reference()
    lo, hi = min(p.xs), max(p.xs)
    assert ref.x == [pytest.approx((lo + hi) / 2, abs=1e-15)]
    assert ref.loss == pytest.approx((hi - lo) / 2, rel=1e-14)
    assert len(p.hull_points) == 2 and p.ys == [0.0] * 50
    res = p.solve()
    assert res.converged and abs(res.x[0] - ref.x[0]) <= CENTRE_TOL * p.scale


@pytest.mark.parametrize("d", [1, 3, 5])
def test_gradients_in_d_dimensions(d: int) -> None:
    p = get_problem("enclosing-circle", dim=d, n=60, distribution="gaussian")
    for x in p.check_points(6, seed=2):
        closed = p.gradient(x)
        assert p.autograd_gradient(x) == pytest.approx(closed, abs=1e-14)
        h = 1e-7
        fd = []
        for j in range(d):
            up, dn = list(x), list(x)
            up[j] += h
            dn[j] -= h
            fd.append((p.objective(up) - p.objective(dn)) / (2 * h))
        assert fd == pytest.approx(closed, abs=1e-6)
        assert math.hypot(*closed) == pytest.approx(1.0)


# ----------------------------------------------------------------- data and options


def test_generation_in_d_dimensions() -> None:
    p = get_problem("enclosing-circle", dim=3, n=40, seed=7)
    assert p.columns == median_generate(random.Random(7), 40, 3, "uniform")
    assert generate(random.Random(7), 40, "gaussian", 4) == median_generate(
        random.Random(7), 40, 4, "gaussian"
    )
    cols = generate(random.Random(1), 300, "disc", 3)
    assert all(math.dist(q, [0.5] * 3) <= 0.5 for q in zip(*cols))
    # the plane's points are what they always were
    assert generate(random.Random(1), 30, "disc") == generate(random.Random(1), 30, "disc", 2)
    assert p.components(p.x0)[2]["name"] == "centre z"
    assert [c["name"] for c in get_problem("enclosing-circle", dim=5, n=9).components([0] * 5)][
        -1
    ] == "centre x5"


def test_points_files_with_d_columns(tmp_path: Path) -> None:
    f = tmp_path / "cube.csv"
    f.write_text("x,y,z\n" + "".join(f"{a},{b},{c}\n" for a, b, c in cube(3)), encoding="utf-8")
    p = get_problem("enclosing-circle", points=str(f), dim=3)
    assert p.n == 8 and p.reference().loss == pytest.approx(math.sqrt(3) / 2)
    with pytest.raises(InputError) as info:
        get_problem("enclosing-circle", points=str(f))
    assert "this problem needs 2 (give --dim 3 for these points)" in str(info.value)
    with pytest.raises(InputError, match="needs 4"):
        get_problem("enclosing-circle", points=str(f), dim=4)


def test_from_points_and_round_trip() -> None:
    with pytest.raises(InputError, match="each point needs 3 coordinates"):
        EnclosingCircle.from_points([(0, 0)], dim=3)
    given = EnclosingCircle.from_points(cube(3), dim=3, x0=[0.1, 0.2, 0.3])
    again = EnclosingCircle.from_dict(json.loads(json.dumps(given.to_dict())))
    assert again.rows == given.rows and again.x0 == [0.1, 0.2, 0.3] and again.dim == 3
    gen = get_problem("enclosing-circle", dim=4, n=20, seed=2)
    back = EnclosingCircle.from_dict(json.loads(json.dumps(gen.to_dict())))
    assert back.columns == gen.columns


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"dim": 0}, "enclosing-circle: --dim must be an integer >= 1 and <= 20, got 0"),
        ({"dim": 21}, "--dim must be an integer >= 1 and <= 20, got 21"),
        ({"dim": 3, "x0": "1,2"}, "x0 has 2 coordinates but the problem has dimension 3"),
    ],
)
def test_bad_dim(options: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as info:
        get_problem("enclosing-circle", **options)
    assert words in str(info.value) and "\n" not in str(info.value)


# ------------------------------------------------------------------------------ drawing


def test_drawing_projections() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    three = get_problem("enclosing-circle", dim=3, n=100)
    ref = three.reference()
    ax = Figure().add_subplot()
    (patch,) = three.draw_estimate(ax, ref.x, color="C0")
    assert isinstance(patch, Circle) and patch.radius == pytest.approx(ref.loss)
    assert patch.center == pytest.approx(tuple(ref.x[:2]))
    assert three.plot_xy(ref.x) == (ref.x[0], ref.x[1]) and three.has_scene
    assert len(three.draw(ax, ref.x)) >= 3
    with pytest.raises(InputError):
        three.objective_grid([0, 1], [0, 1])
    five = get_problem("enclosing-circle", dim=5, n=50)
    assert five.draw_estimate(ax, five.x0, color="C1") == []
    assert len(five.draw(ax, five.x0)) >= 2  # points and centre
    one = get_problem("enclosing-circle", dim=1, n=20)
    (line,) = one.draw_estimate(ax, one.reference().x, color="C2", label="ball")
    assert list(line.get_xdata()) == pytest.approx([min(one.xs), max(one.xs)])
    assert one.plot_xy([0.5]) == (0.5, 0.0)


# ---------------------------------------------------------------------------------- CLI


def test_cli_solve_in_three_dimensions() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["solve", "enclosing-circle", "--dim", "3", "--n", "300", "--json"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["converged"] and doc["matches_reference"]
    assert len(doc["solution"]) == 3
    cert = doc["certificate"]
    assert cert["optimal"] is True and cert["relative_gap"] <= RADIUS_RTOL
    assert 1 <= len(cert["support"]) <= 4 and all(len(q) == 3 for q in cert["support_points"])
    assert all(w >= 0 for w in cert["weights"])
    bad = runner.invoke(app, ["solve", "enclosing-circle", "--dim", "0"])
    assert bad.exit_code == 2
    assert bad.stderr.count("\n") == 1 and "--dim must be an integer >= 1" in bad.stderr
