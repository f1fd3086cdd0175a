"""Circle fitting: the anchor, algebraic fits, exact recovery, gradients, data, options, drawing."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geograd import Tensor
from geograd.errors import InputError
from geograd.problems import get_problem
from geograd.problems.circle_fit import (
    ALGEBRAIC_FITS,
    CircleFit,
    algebraic_fit,
    generate,
    solve3,
    sym3_eigenvalues,
)

# The scipy cookbook's full-circle data, and the anchor for its geometric fit.
COOKBOOK = list(zip([9, 35, -13, 10, 23, 0], [34, 10, 6, -14, 27, -10]))
ANCHOR = (10.500086215850, 9.659949502134, 23.333527646040)
# The same fit by Newton's method in 50-digit decimal arithmetic (closed-form Hessian):
# the anchor's digits are leastsq's answer at its default tolerance, about 4e-9 away.
EXACT = (10.500086213944377, 9.659949505836430, 23.333527646182877)


@pytest.fixture(scope="module")
def cookbook() -> CircleFit:
    return CircleFit.from_points(COOKBOOK)


@pytest.fixture(scope="module")
def default() -> CircleFit:
    p = get_problem("circle-fit")
    assert isinstance(p, CircleFit)
    return p


# -------------------------------------------------------------------------------- anchor


def test_cookbook_anchor(cookbook: CircleFit) -> None:
    ref = cookbook.reference()
    assert ref.x == pytest.approx(list(ANCHOR), abs=1e-8)
    assert ref.x == pytest.approx(list(EXACT), abs=1e-12)
    cert = cookbook.certificate(ref.x)
    assert cert["value"] < 1e-12 and cert["newton_step"] < 1e-13
    assert cert["local_minimum"] is True
    # the anchor itself is a leastsq answer: stationary only to about 2e-8
    assert 1e-9 < cookbook.certificate(list(ANCHOR))["value"] < 1e-7
    # R is the mean distance from the centre at a minimum (∂L/∂R = 0)
    cx, cy, rad = ref.x
    assert rad == pytest.approx(sum(math.hypot(x - cx, y - cy) for x, y in COOKBOOK) / 6, rel=1e-14)
    assert ref.details["least_squares"]["success"] is True


def test_cookbook_solve_and_baselines(cookbook: CircleFit) -> None:
    ref = cookbook.reference()
    res = cookbook.solve()
    assert res.converged, res.message
    assert math.dist(res.x, ref.x) < 1e-8
    for b in cookbook.baselines(["BFGS", "L-BFGS-B"]):
        assert math.dist(b.x, ref.x) < 1e-5, b
        assert b.loss >= ref.loss - 1e-12


# ------------------------------------------------------------------------ algebraic fits


def hyper_svd(xs: list[float], ys: list[float]) -> list[float]:
    """Chernov's HyperSVD (an SVD and an eigenproblem, numpy): an independent hyper fit."""
    x, y = np.asarray(xs), np.asarray(ys)
    mx, my = x.mean(), y.mean()
    u, v = x - mx, y - my
    z = u * u + v * v
    zxy1 = np.stack([z, u, v, np.ones_like(z)], axis=1)
    _, s, vt = np.linalg.svd(zxy1, full_matrices=False)
    w = vt.T @ np.diag(s) @ vt
    zm = z.mean()
    n = np.array([[8 * zm, 0, 0, 2], [0, 1, 0, 0], [0, 0, 1, 0], [2, 0, 0, 0]], dtype=float)
    vals, vecs = np.linalg.eig(w @ np.linalg.inv(n) @ w)
    a = np.linalg.solve(w, vecs[:, np.argsort(vals.real)[1]].real)
    centre = -a[1:3] / a[0] / 2 + [mx, my]
    radius = math.sqrt(a[1] ** 2 + a[2] ** 2 - 4 * a[0] * a[3]) / abs(a[0]) / 2
    return [float(centre[0]), float(centre[1]), radius]


def taubin_svd(xs: list[float], ys: list[float]) -> list[float]:
    """Chernov's TaubinSVD (numpy): an independent taubin fit."""
    x, y = np.asarray(xs), np.asarray(ys)
    mx, my = x.mean(), y.mean()
    u, v = x - mx, y - my
    z = u * u + v * v
    zm = z.mean()
    _, _, vt = np.linalg.svd(np.stack([(z - zm) / (2 * math.sqrt(zm)), u, v], axis=1))
    a = vt[2].copy()
    a[0] /= 2 * math.sqrt(zm)
    a = np.append(a, -zm * a[0])
    radius = math.sqrt(a[1] ** 2 + a[2] ** 2 - 4 * a[0] * a[3]) / abs(a[0]) / 2
    return [float(-a[1] / a[0] / 2 + mx), float(-a[2] / a[0] / 2 + my), radius]


def test_fits_match_chernovs_svd_versions() -> None:
    for arc, noise, seed in [(120, 0.05, 5), (60, 0.02, 1), (360, 0.2, 3), (200, 0.1, 9)]:
        p = CircleFit(arc=arc, noise=noise, seed=seed)
        fits = p.algebraic_fits()
        assert fits["hyper"] == pytest.approx(hyper_svd(p.xs, p.ys), rel=1e-9)
        assert fits["taubin"] == pytest.approx(taubin_svd(p.xs, p.ys), rel=1e-9)
        assert fits["hyper"][:2] != pytest.approx(fits["taubin"][:2], rel=1e-9)


def test_fits_are_exact_on_noiseless_data() -> None:
    r = random.Random(2)
    angles = [r.uniform(0.3, 1.5) for _ in range(12)]  # a 70° arc
    pts = [(3.0 + 5.0 * math.cos(a), -2.0 + 5.0 * math.sin(a)) for a in angles]
    p = CircleFit.from_points(pts)
    for name, fit in p.algebraic_fits().items():
        assert fit == pytest.approx([3.0, -2.0, 5.0], abs=1e-10), name
    assert p.reference().x == pytest.approx([3.0, -2.0, 5.0], abs=1e-12)
    # three points: every fit is the circle through them
    q = CircleFit.from_points([(0, 0), (2, 0), (0, 2)])
    for fit in q.algebraic_fits().values():
        assert fit == pytest.approx([1.0, 1.0, math.sqrt(2)], abs=1e-12)


def test_generated_noiseless_data_is_recovered_exactly() -> None:
    p = CircleFit(noise=0.0, arc=40.0, n=30)
    assert all(math.hypot(x, y) == pytest.approx(1.0, abs=1e-15) for x, y in zip(p.xs, p.ys))
    assert p.x0 == pytest.approx([0.0, 0.0, 1.0], abs=1e-12)
    ref = p.reference()
    assert ref.x == pytest.approx([0.0, 0.0, 1.0], abs=1e-13)
    assert ref.loss < 1e-28


def test_kasa_shrinks_short_noisy_arcs_and_hyper_does_not() -> None:
    p = CircleFit(arc=60.0, noise=0.05, n=200, seed=3)
    fits, ref = p.algebraic_fits(), p.reference()
    assert fits["kasa"][2] < ref.x[2] - 0.05  # the known bias towards small circles
    assert math.dist(fits["hyper"], ref.x) < 0.2 * math.dist(fits["kasa"], ref.x)
    assert set(ref.details["algebraic_fits"]) == set(ALGEBRAIC_FITS)
    assert p.objective(fits["kasa"]) > p.objective(fits["hyper"]) > ref.loss


def test_init_chooses_the_algebraic_fit(default: CircleFit) -> None:
    fits = default.algebraic_fits()
    assert default.x0 == fits["hyper"]
    for name in ALGEBRAIC_FITS:
        assert CircleFit(init=name).x0 == fits[name]
    with pytest.raises(InputError, match="unknown algebraic fit"):
        algebraic_fit(default.unit._moments, "pratt")


# ----------------------------------------------------------------------------- gradients


def _fd(f: object, x: list[float], h: float = 1e-6) -> list[float]:
    out = []
    for j in range(len(x)):
        up, dn = list(x), list(x)
        up[j] += h
        dn[j] -= h
        out.append((f(up) - f(dn)) / (2 * h))  # type: ignore[operator]
    return out


@pytest.mark.parametrize(
    "options", [{}, {"arc": 360, "noise": 0.2}, {"arc": 45, "n": 20}, {"n": 3, "seed": 1}]
)
def test_autograd_closed_form_and_finite_differences(options: dict[str, object]) -> None:
    p = get_problem("circle-fit", **options)
    assert isinstance(p, CircleFit)
    pts = p.check_points(8, seed=2)
    near = [min(math.hypot(x[0] - a, x[1] - b) for a, b in zip(p.xs, p.ys)) for x in pts]
    assert sum(d < 0.02 * p.scale for d in near) >= 4  # half of them next to a data point
    for x in pts:
        closed = p.gradient(x)
        assert p.autograd_gradient(x) == pytest.approx(closed, rel=1e-13, abs=1e-12)
        assert _fd(p.objective, x) == pytest.approx(closed, rel=1e-6, abs=1e-6)
        assert p.loss(Tensor(x)).item() == pytest.approx(p.objective(x), rel=1e-14)
        # the Hessian against differences of the closed-form gradient
        h = p.hessian(x)
        for j in range(3):
            column = _fd(lambda z, j=j: p.gradient(z)[j], x)
            assert column == pytest.approx(h[j], rel=1e-5, abs=1e-5)


def test_gradient_with_the_centre_on_a_data_point() -> None:
    p = CircleFit.from_points([(0.0, 0.0), (2.0, 0.0), (0.0, 2.0)])
    x = [0.0, 0.0, 1.0]  # centre exactly on the first point: its term adds 0 to ∂L/∂c
    expected = [2 * (2 - 1) * -1.0, 2 * (2 - 1) * -1.0, -2 * ((0 - 1) + (2 - 1) + (2 - 1))]
    assert p.gradient(x) == pytest.approx(expected, abs=1e-15)
    assert p.autograd_gradient(x) == pytest.approx(expected, abs=1e-15)


def test_three_by_three_helpers() -> None:
    r = random.Random(4)
    for _ in range(20):
        a = [[r.uniform(-1, 1) for _ in range(3)] for _ in range(3)]
        m = [[a[i][j] + a[j][i] for j in range(3)] for i in range(3)]
        assert list(sym3_eigenvalues(m)) == pytest.approx(
            sorted(np.linalg.eigvalsh(np.array(m))), abs=1e-12
        )
        b = [r.uniform(-1, 1) for _ in range(3)]
        assert solve3(m, b) == pytest.approx(list(np.linalg.solve(np.array(m), b)), rel=1e-9)
    assert sym3_eigenvalues([[3, 0, 0], [0, 1, 0], [0, 0, 2]]) == (1, 2, 3)
    with pytest.raises(ZeroDivisionError):
        solve3([[1, 2, 3], [2, 4, 6], [0, 0, 1]], [1, 1, 1])


# --------------------------------------------------------------------- data and options


def test_generation_is_deterministic_and_on_the_arc() -> None:
    a, b = CircleFit(seed=9, n=50), CircleFit(seed=9, n=50)
    assert a.xs == b.xs and a.ys == b.ys
    assert CircleFit(seed=10, n=50).xs != a.xs
    r = random.Random(7)
    xs, ys = generate(r, 40, 90.0, 0.0)
    for x, y in zip(xs, ys):
        angle = math.degrees(math.atan2(y, x))
        assert 45.0 - 1e-9 <= angle <= 135.0 + 1e-9
    p = CircleFit(n=2000, noise=0.1, arc=360.0, seed=1)
    spread = [math.hypot(x, y) - 1.0 for x, y in zip(p.xs, p.ys)]
    sd = math.sqrt(sum(v * v for v in spread) / len(spread))
    assert sd == pytest.approx(0.1, rel=0.1)


def test_points_file(tmp_path: Path) -> None:
    f = tmp_path / "circle.csv"
    f.write_text("x,y\n" + "\n".join(f"{x},{y}" for x, y in COOKBOOK) + "\n", encoding="utf-8")
    p = get_problem("circle-fit", points=str(f))
    assert p.n == 6 and p.source == str(f)
    assert p.reference().x == pytest.approx(list(EXACT), abs=1e-12)
    weighted = tmp_path / "w.csv"
    weighted.write_text("x,y,w\n0,0,1\n1,0,1\n0,1,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="takes no weights"):
        get_problem("circle-fit", points=str(weighted))
    two = tmp_path / "two.txt"
    two.write_text("0 0\n1 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="at least 3"):
        get_problem("circle-fit", points=str(two))


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"n": 2}, "circle-fit: --n must be an integer >= 3, got 2"),
        ({"arc": 0}, "--arc must be a number > 0 and <= 360"),
        ({"arc": 400}, "--arc must be a number > 0 and <= 360"),
        ({"noise": -0.1}, "--noise must be a number >= 0"),
        ({"noise": "inf"}, "--noise must be a number"),
        ({"init": "pratt"}, "--init must be one of kasa, taubin, hyper"),
        ({"radius": 2}, "unknown option 'radius'"),
        ({"x0": [1.0, 2.0]}, "x0 has 2 coordinates but the problem has dimension 3"),
    ],
)
def test_bad_options(options: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as info:
        get_problem("circle-fit", **options)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_degenerate_point_sets() -> None:
    with pytest.raises(InputError, match="straight line"):
        CircleFit.from_points([(0, 1), (1, 3), (2, 5), (3, 7)])
    with pytest.raises(InputError, match="straight line"):
        CircleFit.from_points([(1, 1)] * 4)
    with pytest.raises(InputError, match="at least 3"):
        CircleFit.from_points([(0, 0), (1, 0)])
    with pytest.raises(InputError, match="2 coordinates"):
        CircleFit.from_points([(0, 0, 0), (1, 0, 0), (0, 1, 0)])


def test_to_dict_round_trip() -> None:
    p = CircleFit(n=20, arc=90.0, noise=0.01, seed=3, init="kasa")
    d = json.loads(json.dumps(p.to_dict()))
    assert d["name"] == "circle-fit" and d["dim"] == 3 and d["data"]["source"] == "generated"
    q = CircleFit.from_dict(d)
    assert q.xs == p.xs and q.x0 == p.x0
    given = CircleFit.from_points(COOKBOOK, x0=[10, 10, 20])
    again = CircleFit.from_dict(json.loads(json.dumps(given.to_dict())))
    assert list(zip(again.xs, again.ys)) == [(float(x), float(y)) for x, y in COOKBOOK]
    assert again.x0 == [10.0, 10.0, 20.0]


def test_building_and_solving_import_no_numpy() -> None:
    code = (
        "import sys\n"
        "from geograd.problems import get_problem\n"
        "p = get_problem('circle-fit', n=50)\n"
        "p.x0; p.gradient(p.x0); p.certificate(p.x0); p.to_dict(); p.check_points(4)\n"
        "r = p.solve()\n"
        "assert r.converged\n"
        "bad = [m for m in ('numpy', 'scipy', 'matplotlib') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ------------------------------------------------------------------------------- drawing


def test_drawing(default: CircleFit) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    assert default.has_scene
    ax = Figure().add_subplot()
    x = default.reference().x
    (patch,) = default.draw_estimate(ax, x, color="C1", label="fit", linestyle="--")
    assert isinstance(patch, Circle)
    assert patch.center == pytest.approx((x[0], x[1])) and patch.radius == pytest.approx(x[2])
    assert patch.get_label() == "fit" and patch.get_linestyle() == "--" and not patch.get_fill()
    artists = default.draw(ax, x)
    assert any(isinstance(a, Circle) for a in artists) and len(artists) >= 3
    assert default.plot_xy(x) == (x[0], x[1])
    lo_x, hi_x, lo_y, hi_y = default.plot_bounds()
    assert lo_x <= min(default.xs) and hi_x >= max(default.xs) and hi_y >= max(default.ys)
    assert lo_y <= -0.9  # the whole x0 circle, below the arc too


def test_objective_grid_is_the_profile_over_the_radius(default: CircleFit) -> None:
    xs, ys = [-0.2, 0.0, 0.3], [-0.1, 0.2]
    grid = default.objective_grid(xs, ys)
    for i, cy in enumerate(ys):
        for j, cx in enumerate(xs):
            d = [math.hypot(px - cx, py - cy) for px, py in zip(default.xs, default.ys)]
            best = default.objective([cx, cy, sum(d) / len(d)])
            assert grid[i][j] == pytest.approx(best, rel=1e-10)
