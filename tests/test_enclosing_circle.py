"""The minimum enclosing circle: Welzl's algorithm, the hull, the (smoothed) loss and its
gradients, the certificate, data, options and drawing."""

from __future__ import annotations

import itertools
import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from geograd import Tensor, grad
from geograd.errors import InputError
from geograd.problems import get_problem
from geograd.problems.enclosing_circle import EnclosingCircle, convex_hull, generate, welzl
from geograd.problems.median import generate as median_generate


@pytest.fixture(scope="module")
def default() -> EnclosingCircle:
    p = get_problem("enclosing-circle")
    assert isinstance(p, EnclosingCircle)
    return p


def brute_force(pts: list[tuple[float, float]]) -> float:
    """The smallest radius among the circles on 2 or 3 of the points that hold them all."""
    best = math.inf
    cands = []
    for a, b in itertools.combinations(pts, 2):
        cands.append(((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
    for a, b, c in itertools.combinations(pts, 3):
        d = 2 * (a[0] * (b[1] - c[1]) + b[0] * (c[1] - a[1]) + c[0] * (a[1] - b[1]))
        if d == 0:
            continue
        ux = sum(
            (p[0] ** 2 + p[1] ** 2) * (q[1] - r[1]) for p, q, r in ((a, b, c), (b, c, a), (c, a, b))
        )
        uy = sum(
            (p[0] ** 2 + p[1] ** 2) * (r[0] - q[0]) for p, q, r in ((a, b, c), (b, c, a), (c, a, b))
        )
        cands.append((ux / d, uy / d))
    for c in cands:
        best = min(best, max(math.dist(c, p) for p in pts))
    return best


# --------------------------------------------------------------------------------- Welzl


def test_welzl_against_brute_force() -> None:
    r = random.Random(1)
    for trial in range(40):
        n = r.randint(1, 9)
        pts = [(r.uniform(-1, 1), r.uniform(-1, 1)) for _ in range(n)]
        (cx, cy, rad), support = welzl([p[0] for p in pts], [p[1] for p in pts], seed=trial)
        assert max(math.dist((cx, cy), p) for p in pts) <= rad * (1 + 1e-12)
        if n > 1:
            assert rad == pytest.approx(brute_force(pts), rel=1e-12, abs=1e-15)
        assert 1 <= len(support) <= 3
        for i in support:  # the support points lie on the circle
            assert math.dist((cx, cy), pts[i]) == pytest.approx(rad, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("pts", "centre", "radius", "support"),
    [
        ([(0.3, 0.7)], (0.3, 0.7), 0.0, 1),
        ([(0, 0), (2, 0)], (1, 0), 1.0, 2),
        ([(0, 0), (1, 0), (1, 1), (0, 1), (0.5, 0.2)], (0.5, 0.5), math.sqrt(0.5), 2),
        ([(0, 0), (4, 0), (2, 3)], (2, 5 / 6), 13 / 6, 3),  # acute: the circumcircle
        ([(0, 0), (4, 0), (2, 0.5)], (2, 0), 2.0, 2),  # obtuse: the longest side's circle
        ([(t, 2 * t + 1) for t in (0, 1, 2, 5, 9)], (4.5, 10), math.hypot(4.5, 9), 2),
        ([(0, 0)] * 5 + [(1, 1)] * 3, (0.5, 0.5), math.sqrt(0.5), 2),
    ],
    ids=["one", "two", "square", "acute", "obtuse", "collinear", "duplicates"],
)
def test_known_circles(
    pts: list[tuple[float, float]], centre: tuple[float, float], radius: float, support: int
) -> None:
    p = EnclosingCircle.from_points(pts)
    ref = p.reference()
    assert ref.method == "welzl"
    assert ref.x == pytest.approx(list(centre), abs=1e-12)
    assert ref.loss == pytest.approx(radius, abs=1e-12)
    assert len(ref.details["support"]) == support
    assert p.certificate(ref.x)["optimal"] is True


def test_welzl_needs_no_recursion_at_large_n() -> None:
    # points along a circle in order, the worst order for a recursive Welzl
    n = 20000
    xs = [math.cos(2 * math.pi * k / n) for k in range(n)]
    ys = [math.sin(2 * math.pi * k / n) for k in range(n)]
    (cx, cy, rad), _ = welzl(xs, ys)
    assert math.hypot(cx, cy) < 1e-12 and rad == pytest.approx(1.0, abs=1e-12)


# ---------------------------------------------------------------------------------- hull


def test_convex_hull() -> None:
    square = [(0, 0), (1, 0), (1, 1), (0, 1)]
    inner = [(0.5, 0.5), (0.2, 0.7), (0.5, 0.0), (1.0, 0.3), (0, 0)]  # inside, on edges, dup
    assert sorted(convex_hull(square + inner)) == sorted(square)
    assert convex_hull([(1, 1), (1, 1)]) == [(1, 1)]
    assert sorted(convex_hull([(0, 0), (1, 1), (2, 2)])) == [(0, 0), (2, 2)]


def test_hull_gives_the_same_objective_everywhere() -> None:
    full = get_problem("enclosing-circle", n=300, seed=2, hull=False)
    hull = get_problem("enclosing-circle", n=300, seed=2)
    assert isinstance(hull, EnclosingCircle) and isinstance(full, EnclosingCircle)
    assert len(hull.hull_points) < 40 and hull.n == full.n == 300
    r = random.Random(3)
    for _ in range(20):
        x = [r.uniform(-1, 2), r.uniform(-1, 2)]
        assert hull.objective(x) == full.objective(x)
        assert hull.gradient(x) == full.gradient(x)
        assert hull.loss(Tensor(x)).item() == full.loss(Tensor(x)).item()
    assert hull.reference().x == full.reference().x


# ----------------------------------------------------------------------------- gradients


def _fd(f: object, x: list[float], h: float = 1e-7) -> list[float]:
    out = []
    for j in range(len(x)):
        up, dn = list(x), list(x)
        up[j] += h
        dn[j] -= h
        out.append((f(up) - f(dn)) / (2 * h))  # type: ignore[operator]
    return out


@pytest.mark.parametrize(
    "options", [{}, {"distribution": "gaussian", "n": 200}, {"distribution": "disc", "hull": False}]
)
def test_autograd_closed_form_and_finite_differences(options: dict[str, object]) -> None:
    p = get_problem("enclosing-circle", **options)
    assert isinstance(p, EnclosingCircle)
    pts = p.check_points(8, seed=1)
    centre = p.reference().x
    assert sum(math.dist(x, centre) < 2e-3 for x in pts) == 4  # half of them at the kinks
    for x in pts:
        closed = p.gradient(x)
        assert p.autograd_gradient(x) == pytest.approx(closed, abs=1e-15)
        assert _fd(p.objective, x) == pytest.approx(closed, abs=1e-6)
        assert math.hypot(*closed) == pytest.approx(1.0)  # a unit vector off the ties


def test_gradient_at_ties_is_the_mean_of_unit_vectors() -> None:
    p = EnclosingCircle.from_points([(0, 0), (2, 0), (1, 5)])
    x = [1.0, 0.0]  # (0,0) and (2,0) tie at distance 1, (1,5) is farther
    assert p.gradient(x) == pytest.approx([0.0, -1.0])
    q = EnclosingCircle.from_points([(0, 0), (2, 0)])
    assert q.gradient([1.0, 0.0]) == [0.0, 0.0] == q.autograd_gradient([1.0, 0.0])
    r = EnclosingCircle.from_points([(0, 0), (2, 0), (1, 1)])
    # a three-way tie at distance 1: the mean of (1, 0), (-1, 0) and (0, -1)
    assert r.gradient([1.0, 0.0]) == pytest.approx([0.0, -1.0 / 3.0], abs=1e-15)
    assert r.autograd_gradient([1.0, 0.0]) == pytest.approx(r.gradient([1.0, 0.0]), abs=1e-15)
    assert EnclosingCircle.from_points([(0.5, 0.5)]).gradient([0.5, 0.5]) == [0.0, 0.0]


@pytest.mark.parametrize("tau", [1.0, 1e3, 1e8])
def test_smoothed_loss_gradient_and_bounds(default: EnclosingCircle, tau: float) -> None:
    t = tau / default.scale
    r = random.Random(int(tau))
    h = len(default.hull_points)
    for _ in range(5):
        x = [r.uniform(0.3, 0.7), r.uniform(0.3, 0.7)]
        value = default.smoothed_loss(Tensor(x), t).item()
        f = default.objective(x)
        assert f <= value + 1e-15 and value <= f + math.log(h) / t + 1e-15
        g = grad(lambda z: default.smoothed_loss(z, t))(Tensor(x)).tolist()
        closed = default.smoothed_gradient(x, t)
        assert g == pytest.approx(closed, abs=1e-13)
        step = min(1e-7, 1e-3 / t)
        fd = _fd(lambda z: default.smoothed_loss(Tensor(z), t).item(), x, step)
        assert fd == pytest.approx(closed, abs=1e-6 + 1e-9 * tau)


def test_smoothing_never_overflows() -> None:
    p = EnclosingCircle.from_points([(1e6, 0.0), (-1e6, 3.0), (0.0, 1e6)], temperature=1e12)
    t = 1e12 / p.scale  # t·d reaches 1e12: exp would overflow without the max shift
    x = [0.1, 0.2]
    value = p.smoothed_loss(Tensor(x), t).item()
    assert math.isfinite(value) and value == pytest.approx(p.objective(x), rel=1e-15)
    assert all(math.isfinite(v) for v in p.smoothed_gradient(x, t))


# --------------------------------------------------------------------------- certificate


def test_certificate_reports_the_radius_gap(default: EnclosingCircle) -> None:
    ref = default.reference()
    cert = default.certificate(ref.x)
    assert cert["kind"] == "radius_gap" and cert["optimal"] is True and cert["value"] == 0.0
    off = [ref.x[0] + 1e-3, ref.x[1]]
    cert = default.certificate(off)
    assert cert["optimal"] is False and cert["value"] > 0
    assert cert["relative_gap"] == pytest.approx(cert["value"] / ref.loss)
    assert cert["radius"] == default.objective(off) and cert["exact_radius"] == ref.loss
    report = default.assess(off)
    assert report["gap"] == pytest.approx(cert["value"])


# --------------------------------------------------------------------- data and options


def test_generation() -> None:
    p = get_problem("enclosing-circle", n=50, seed=7)
    assert [p.xs, p.ys] == median_generate(random.Random(7), 50, 2, "uniform")
    g = get_problem("enclosing-circle", n=50, seed=7, distribution="gaussian")
    assert [g.xs, g.ys] == median_generate(random.Random(7), 50, 2, "gaussian")
    xs, ys = generate(random.Random(1), 500, "disc")
    assert all(math.hypot(x - 0.5, y - 0.5) <= 0.5 for x, y in zip(xs, ys))
    assert get_problem("enclosing-circle", n=30, seed=1).xs != p.xs


def test_temperatures(default: EnclosingCircle) -> None:
    assert default.temperatures() == [10.0**k for k in range(10)]
    assert EnclosingCircle(n=10, temperature=5e3).temperatures() == [1.0, 10.0, 100.0, 1e3, 5e3]
    assert EnclosingCircle(n=10, temperature=1.0).temperatures() == [1.0]
    assert default.scale == pytest.approx(default.objective(default.x0))


def test_points_file(tmp_path: Path) -> None:
    f = tmp_path / "pts.txt"
    f.write_text("# square\n0 0\n1 0\n1 1\n0 1\n0.5 0.5\n", encoding="utf-8")
    p = get_problem("enclosing-circle", points=str(f))
    assert p.n == 5 and p.reference().x == pytest.approx([0.5, 0.5])
    w = tmp_path / "w.csv"
    w.write_text("x,y,weight\n0,0,1\n1,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="takes no weights"):
        get_problem("enclosing-circle", points=str(w))
    three = tmp_path / "three.csv"
    three.write_text("0,0,0\n1,1,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs 2"):
        get_problem("enclosing-circle", points=str(three))


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"n": 0}, "enclosing-circle: --n must be an integer >= 1, got 0"),
        ({"distribution": "ring"}, "--distribution must be one of uniform, gaussian, disc"),
        ({"temperature": 0.5}, "--temperature must be a number >= 1 and <= 1000000000000"),
        ({"temperature": "nan"}, "--temperature must be a number"),
        ({"hull": "maybe"}, "--hull must be true or false"),
        ({"x0": "1,2,3"}, "x0 has 3 coordinates but the problem has dimension 2"),
    ],
)
def test_bad_options(options: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as info:
        get_problem("enclosing-circle", **options)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_bad_points() -> None:
    with pytest.raises(InputError, match="at least one point"):
        EnclosingCircle.from_points([])
    with pytest.raises(InputError, match="2 coordinates"):
        EnclosingCircle.from_points([(0, 0, 1)])
    with pytest.raises(InputError, match="finite"):
        EnclosingCircle.from_points([(0, math.inf)])


def test_to_dict_round_trip() -> None:
    p = get_problem("enclosing-circle", n=40, seed=3, distribution="disc", temperature=1e6)
    d = json.loads(json.dumps(p.to_dict()))
    assert d["data"]["source"] == "generated" and d["data"]["hull_vertices"] > 2
    q = EnclosingCircle.from_dict(d)
    assert q.xs == p.xs and q.temperatures() == p.temperatures()
    given = EnclosingCircle.from_points([(0, 0), (3, 1), (1, 2)], x0=[1, 1], hull=False)
    again = EnclosingCircle.from_dict(json.loads(json.dumps(given.to_dict())))
    assert again.xs == given.xs and again.x0 == [1.0, 1.0] and again.settings["hull"] is False


def test_building_solving_and_the_reference_import_no_numpy() -> None:
    code = (
        "import sys\n"
        "from geograd.problems import get_problem\n"
        "p = get_problem('enclosing-circle', n=200)\n"
        "p.gradient(p.x0); p.to_dict(); p.check_points(4)\n"
        "r = p.solve()\n"
        "assert r.converged and p.certificate(r.x)['relative_gap'] < 1e-9\n"
        "bad = [m for m in ('numpy', 'scipy', 'matplotlib') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ------------------------------------------------------------------------------- drawing


def test_drawing(default: EnclosingCircle) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    assert default.has_scene
    ax = Figure().add_subplot()
    ref = default.reference()
    (patch,) = default.draw_estimate(ax, ref.x, color="C0", linestyle=":", alpha=0.5)
    assert isinstance(patch, Circle) and not patch.get_fill()
    assert patch.radius == pytest.approx(ref.loss) and patch.get_linestyle() == ":"
    label = str(patch.get_label() or "")
    assert label == "" or label.startswith("_")  # no legend entry
    artists = default.draw(ax, ref.x)
    assert len(artists) >= 4  # points, hull, circle, centre
    grid = default.objective_grid([0.2, 0.5], [0.4, 0.6])
    assert grid[1][0] == pytest.approx(default.objective([0.2, 0.6]), rel=1e-14)
    lo_x, hi_x, lo_y, hi_y = default.plot_bounds()
    cx, cy = default.x0
    assert lo_x <= cx - default.scale and hi_x >= cx + default.scale  # the circle about x0
    assert lo_y <= cy - default.scale and hi_y >= cy + default.scale
