"""The median's Weiszfeld reference among near-duplicate points (pairs 7e-13 to 1e-9 apart
in data of extent 1): it must land within its stated tolerance of the median, found here
independently (the exact vertex test at every data point, else Newton's method with the
exact Hessian, both in 90-digit decimal arithmetic), and the default solve must match it.

Before the fix the reference stopped after one step at the centroid when copies of a
point and a twin sat there (0.17 from the median, 1.7e11 times its tolerance): the first
step, ~the twin's distance, was read as the distance left; and with the median on a
point whose lighter twin lay nearer the iterate, the point was never tested and a false
rate stopped it up to 8 times its tolerance away.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal, localcontext

import pytest

from geograd.problems.median import GeometricMedian

SEPARATIONS = (7e-13, 1e-12, 3e-12, 1e-11, 1e-9)


def _base(seed: int, skew: bool = False) -> list[list[float]]:
    r = random.Random(seed)
    if skew:  # 15 points in a corner, 5 far off: the centroid far from the median
        pts = [[r.uniform(0, 0.3), r.uniform(0, 0.3)] for _ in range(15)]
        pts += [[r.uniform(0.7, 1), r.uniform(0.7, 1)] for _ in range(5)]
    else:
        pts = [[r.uniform(0, 1), r.uniform(0, 1)] for _ in range(20)]
    return [*pts, [0.0, 0.0], [1.0, 1.0]]  # the extent is 1


def _centroid(pts: list[list[float]]) -> list[float]:
    return [math.fsum(p[j] for p in pts) / len(pts) for j in range(2)]


def _rough_median(pts: list[list[float]]) -> list[float]:
    """Plain Weiszfeld in floats, for placing points near the median (not a check)."""
    y = _centroid(pts)
    for _ in range(2000):
        q = [1.0 / math.dist(a, y) for a in pts]
        y = [math.fsum(qi * a[j] for qi, a in zip(q, pts)) / math.fsum(q) for j in range(2)]
    return y


def _towards(a: list[float], b: list[float], sep: float) -> list[float]:
    u = [b[0] - a[0], b[1] - a[1]]
    norm = math.hypot(*u)
    return [a[0] + sep * u[0] / norm, a[1] + sep * u[1] / norm]


def case(name: str, sep: float) -> tuple[list[list[float]], list[float]]:
    if name == "pair_at_centroid":  # the median elsewhere
        pts = _base(3, skew=True)
        c = _centroid(pts)
        return [*pts, [c[0] - sep / 2, c[1]], [c[0] + sep / 2, c[1]]], [1.0] * (len(pts) + 2)
    if name == "copies_at_centroid":  # three copies and a twin there, the median elsewhere
        pts = _base(3, skew=True)
        c = _centroid(pts)
        pts += [list(c) for _ in range(3)] + [[c[0] + sep, c[1]]]
        return pts, [1.0] * len(pts)
    if name == "heavy_point_light_twin":  # the median on the heavy point, its twin nearer
        pts = _base(3)
        a = [0.62, 0.41]
        return [*pts, a, _towards(a, _centroid(pts), sep)], [1.0] * len(pts) + [6.0, 1.0]
    if name == "light_twin_listed_first":
        pts = _base(11)
        a = [0.35, 0.7]
        return [_towards(a, _centroid(pts), sep), a, *pts], [0.5, 9.0] + [1.0] * len(pts)
    if name == "beside_pair":  # the median 50 separations from a light pair, on neither
        pts = _base(5)
        m = _rough_median(pts)
        a = [m[0] + 50 * sep, m[1]]
        w = 3e-3 * 50 * sep
        return [*pts, a, [a[0], a[1] + sep]], [1.0] * len(pts) + [w, w]
    if name == "copies_plus_twin":  # four copies of a point and a twin: the median on them
        pts = _base(7)
        m = _rough_median(pts)
        a = [m[0] + 0.05, m[1] - 0.03]
        pts += [list(a) for _ in range(4)] + [[a[0] - sep * 0.6, a[1] + sep * 0.8]]
        return pts, [1.0] * len(pts)
    raise KeyError(name)


CASES = (
    "pair_at_centroid",
    "copies_at_centroid",
    "heavy_point_light_twin",
    "light_twin_listed_first",
    "beside_pair",
    "copies_plus_twin",
)


def true_median(pts: list[list[float]], w: list[float], start: list[float]) -> list[Decimal]:
    """The median in 90-digit decimals: a data point passing the exact vertex test, else
    damped Newton with the exact Hessian to a gradient below 1e-30."""
    with localcontext() as ctx:
        ctx.prec = 90
        p = [(Decimal(a[0]), Decimal(a[1])) for a in pts]
        wd = [Decimal(v) for v in w]
        for ak in dict.fromkeys(p):
            rx = ry = wk = Decimal(0)
            for ai, wi in zip(p, wd):
                if ai == ak:
                    wk += wi
                    continue
                dx, dy = ai[0] - ak[0], ai[1] - ak[1]
                d = (dx * dx + dy * dy).sqrt()
                rx, ry = rx + wi * dx / d, ry + wi * dy / d
            if (rx * rx + ry * ry).sqrt() <= wk:
                return [ak[0], ak[1]]

        def f(x: tuple[Decimal, Decimal]) -> Decimal:
            return sum(
                (wi * ((ai[0] - x[0]) ** 2 + (ai[1] - x[1]) ** 2).sqrt() for ai, wi in zip(p, wd)),
                Decimal(0),
            )

        x = (Decimal(start[0]), Decimal(start[1]))
        if x in p:
            x = (x[0] + Decimal("1e-20"), x[1])
        fx = f(x)
        for _ in range(200):
            gx = gy = hxx = hxy = hyy = Decimal(0)
            for ai, wi in zip(p, wd):
                dx, dy = x[0] - ai[0], x[1] - ai[1]
                d = (dx * dx + dy * dy).sqrt()
                ux, uy = dx / d, dy / d
                gx, gy = gx + wi * ux, gy + wi * uy
                hxx += wi * (1 - ux * ux) / d
                hxy -= wi * ux * uy / d
                hyy += wi * (1 - uy * uy) / d
            if (gx * gx + gy * gy).sqrt() < Decimal("1e-30"):
                return [x[0], x[1]]
            det = hxx * hyy - hxy * hxy
            sx, sy = -(hyy * gx - hxy * gy) / det, -(hxx * gy - hxy * gx) / det
            t = Decimal(1)
            while True:
                y = (x[0] + t * sx, x[1] + t * sy)
                if y not in p and (fy := f(y)) <= fx:
                    break
                t /= 2
                assert t > Decimal("1e-60"), "Newton's line search failed"
            x, fx = y, fy
        raise AssertionError("Newton did not converge")


def _distance(x: list[float], truth: list[Decimal]) -> float:
    with localcontext() as ctx:
        ctx.prec = 90
        dx, dy = Decimal(x[0]) - truth[0], Decimal(x[1]) - truth[1]
        return float((dx * dx + dy * dy).sqrt())


@pytest.mark.parametrize("sep", SEPARATIONS)
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_the_reference_is_within_its_tolerance_of_the_median(
    name: str, sep: float, backend: str
) -> None:
    pts, w = case(name, sep)
    p = GeometricMedian.from_points(pts, weights=w, backend=backend)
    ref = p.reference()
    truth = true_median(pts, w, ref.x)
    off = _distance(ref.x, truth) / p.extent
    assert ref.details["converged"], ref.details
    assert off <= ref.details["tolerance"], (off, ref.details)
    result = p.solve()
    judged = p.assess(result.x)
    assert judged["matches"], judged["match"]
    assert _distance(result.x, truth) <= p.match_rtol * p.extent


def test_a_median_on_a_point_beside_its_twin_is_found_exactly() -> None:
    for name in ("heavy_point_light_twin", "copies_plus_twin"):
        for sep in SEPARATIONS:
            pts, w = case(name, sep)
            ref = GeometricMedian.from_points(pts, weights=w).reference()
            assert ref.details["stopped"] == "data point passes the optimality test"
            assert ref.x == pts[22], (name, sep)
