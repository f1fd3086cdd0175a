"""The fused distances primitive, ``F.distances(coords, center)``, on every backend.

Its forward must equal the unfused composition ``norm(x_1 - c_1, ..., x_d - c_d)``
(hypot-style: no intermediate overflow), its gradients the composition's, with 0
for a point at zero distance, and its VJPs must differentiate again: Hessians
through ``create_graph`` match the composition's (and the hand-derived
(I - u uᵀ)/d). The problems whose losses are sums of distances build them with it.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from backends import NAMES, Maker, in_backend

import geograd.functional as F
from geograd import Tensor, grad
from geograd.errors import NaNError, ShapeError
from geograd.tensor import topological_order

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

XS = [0.0, 1.0, 0.5, -2.0, 3.25]
YS = [0.0, 0.0, 1.0, 0.75, -1.5]
ZS = [1.0, -1.0, 0.25, 2.0, 0.5]


@pytest.fixture(params=NAMES)
def T(request: pytest.FixtureRequest) -> Maker:
    return Maker(request.param)


def unfused(coords: list[Tensor], c: Tensor) -> Tensor:
    return F.norm(*(x - c[j] for j, x in enumerate(coords)))


def approx(values: Any, rel: float = 1e-13) -> Any:
    return pytest.approx(values, rel=rel, abs=1e-14)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_values_equal_the_unfused_composition(T: Maker, dim: int) -> None:
    coords = [T(v) for v in (XS, YS, ZS)[:dim]]
    c = Tensor([0.3, -0.2, 0.1][:dim])
    out = F.distances(coords, c)
    assert in_backend(out, T.backend)
    if T.backend == "python":
        assert out.tolist() == unfused(coords, c).tolist()  # bit for bit: the same hypot
    else:  # the square root of summed squares: within a few ulp of hypot
        assert out.tolist() == approx(unfused(coords, c).tolist(), rel=4e-16)
    point = [0.3, -0.2, 0.1][:dim]
    expected = [math.dist(p, point) for p in zip(*(XS, YS, ZS)[:dim])]
    assert out.tolist() == approx(expected, rel=1e-15)


def test_the_centre_may_be_a_1d_tensor_its_coordinates_or_a_0d_tensor(T: Maker) -> None:
    xs, ys = T(XS), T(YS)
    p = Tensor([0.3, -0.2])
    whole = F.distances((xs, ys), p).tolist()
    assert F.distances((xs, ys), (p[0], p[1])).tolist() == whole
    assert F.distances([xs, ys], [0.3, -0.2]).tolist() == whole
    one = F.distances((xs,), Tensor(0.3)).tolist()
    assert one == approx([abs(x - 0.3) for x in XS], rel=1e-15)


@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_match_the_unfused_composition(T: Maker, weighted: bool) -> None:
    coords = [T(XS, requires_grad=True), T(YS, requires_grad=True)]
    w = T([0.5, 2.0, 1.0, 0.25, 3.0]) if weighted else None

    def loss(dist: Tensor) -> Tensor:
        # a mean gives a repeated cotangent (the fast path), a weighted sum a general one
        return F.dot(dist, w) if w is not None else F.mean(dist)

    p = Tensor([0.3, -0.2], requires_grad=True)
    loss(F.distances(coords, p)).backward()
    fused = [p.grad.tolist(), *(x.grad.tolist() for x in coords)]  # type: ignore[union-attr]
    for t in (p, *coords):
        t.grad = None
    q = Tensor([0.3, -0.2], requires_grad=True)
    loss(unfused(coords, q)).backward()
    expected = [q.grad.tolist(), *(x.grad.tolist() for x in coords)]  # type: ignore[union-attr]
    for a, b in zip(fused, expected):
        assert a == approx(b)
    assert in_backend(coords[0].grad, T.backend)


def test_tiny_distances_fall_back_to_hypot(T: Maker) -> None:
    # squares of 1e-200 underflow to 0: the sum-of-squares form would give 0 (and a
    # zero-distance subgradient); the fallback keeps hypot's exact lengths
    coords = [T([1e-200, 3e-200]), T([0.0, 4e-200])]
    out = F.distances(coords, Tensor([0.0, 0.0]))
    assert out.tolist() == approx([1e-200, 5e-200], rel=1e-15)
    assert min(out.tolist()) > 0.0


def test_a_point_at_zero_distance_contributes_a_zero_gradient(T: Maker) -> None:
    xs, ys = T([0.3, 1.3, 0.3]), T([0.4, 0.4, 2.4])  # the first point is the centre
    p = Tensor([0.3, 0.4], requires_grad=True)
    F.sum(F.distances((xs, ys), p)).backward()
    assert p.grad is not None and p.grad.tolist() == approx([-1.0, -1.0])
    data = T([0.3, 1.3, 0.3], requires_grad=True)
    F.sum(F.distances((data, ys), (0.3, 0.4))).backward()
    assert data.grad is not None and data.grad.tolist() == approx([0.0, 1.0, 0.0])


def test_no_overflow_for_huge_coordinates(T: Maker) -> None:
    xs, ys = T([3e200, -4e200]), T([4e200, 3e200])
    p = Tensor([0.0, 0.0], requires_grad=True)
    d = F.distances((xs, ys), p)
    assert d.tolist() == approx([5e200, 5e200], rel=1e-15)
    F.sum(d).backward()
    assert p.grad is not None and p.grad.tolist() == approx([0.2, -1.4])


def test_hessian_matches_the_unfused_composition_and_the_formula(T: Maker) -> None:
    xs, ys = T(XS), T(YS)
    w = T([0.5, 2.0, 1.0, 0.25, 3.0])

    def fused(p: Tensor) -> Tensor:
        return F.dot(F.distances((xs, ys), p), w)

    def plain(p: Tensor) -> Tensor:
        return F.dot(unfused([xs, ys], p), w)

    p0 = [0.3, -0.2]
    rows_fused = [grad(lambda p, j=j: grad(fused)(p)[j])(p0).tolist() for j in range(2)]
    rows_plain = [grad(lambda p, j=j: grad(plain)(p)[j])(p0).tolist() for j in range(2)]
    for a, b in zip(rows_fused, rows_plain):
        assert a == approx(b, rel=1e-12)
    # Σ w_i (I - u_i u_iᵀ)/d_i by hand
    h = [[0.0, 0.0], [0.0, 0.0]]
    for x, y, wi in zip(XS, YS, [0.5, 2.0, 1.0, 0.25, 3.0]):
        u = (p0[0] - x, p0[1] - y)
        d = math.hypot(*u)
        for j in range(2):
            for k in range(2):
                h[j][k] += wi * ((j == k) - u[j] * u[k] / d**2) / d
    for a, b in zip(rows_fused, h):
        assert a == approx(b, rel=1e-12)


def test_mixed_second_derivatives_with_the_data_match_the_composition(T: Maker) -> None:
    # d/dx_i of dL/dc: exercises every VJP of offset_sum (g, distances, x, centre)
    ys = T(YS)
    c0 = [0.3, -0.2]

    def fused(x: Tensor) -> Tensor:
        p = Tensor(c0, requires_grad=True)
        (gp,) = [F.dot(F.distances((x, ys), p), x)]
        gp.backward(create_graph=True)
        assert p.grad is not None
        return F.sum(p.grad * p.grad)

    def plain(x: Tensor) -> Tensor:
        p = Tensor(c0, requires_grad=True)
        F.dot(unfused([x, ys], p), x).backward(create_graph=True)
        assert p.grad is not None
        return F.sum(p.grad * p.grad)

    a = grad(fused)(T(XS)).tolist()
    b = grad(plain)(T(XS)).tolist()
    assert a == approx(b, rel=1e-12)


def test_shapes_are_checked() -> None:
    xs, ys = Tensor(XS), Tensor(YS)
    with pytest.raises(ShapeError, match="distances"):
        F.distances((xs, ys), Tensor([0.0, 0.0, 0.0]))
    with pytest.raises(ShapeError, match="distances"):
        F.distances((xs, Tensor(1.0)), (0.0, 0.0))
    with pytest.raises(ShapeError, match="distances"):
        F.distances((xs, Tensor(YS[:3])), (0.0, 0.0))
    with pytest.raises(ShapeError, match="distances"):
        F.distances((), ())


def test_an_infinite_centre_meeting_infinite_data_raises_not_nan(T: Maker) -> None:
    xs = T([math.inf, 1.0])
    with pytest.raises(NaNError, match="distances"):
        F.distances((xs,), (math.inf,))


def test_numpy_data_with_a_standard_library_parameter() -> None:
    import numpy as np

    xs, ys = Tensor(np.asarray(XS)), Tensor(np.asarray(YS))
    p = Tensor([0.3, -0.2], requires_grad=True)  # python backend: its coordinates broadcast
    F.mean(F.distances((xs, ys), p)).backward()
    q = Tensor([0.3, -0.2], requires_grad=True)
    F.mean(unfused([xs, ys], q)).backward()
    assert p.grad is not None and q.grad is not None
    assert p.grad.backend.name == "python"
    assert p.grad.tolist() == approx(q.grad.tolist())


def ops_of(loss: Tensor) -> set[str]:
    return {t.op.name for t in topological_order(loss) if t.op is not None}


def test_the_distance_problems_build_their_losses_with_the_fused_primitive() -> None:
    from geograd.problems.circle_fit import CircleFitCore
    from geograd.problems.enclosing_circle import EnclosingCircleCore
    from geograd.problems.fermat import FermatPointCore
    from geograd.problems.median import GeometricMedianCore
    from geograd.problems.trilateration import TrilaterationCore

    for cls in (
        GeometricMedianCore,
        FermatPointCore,
        TrilaterationCore,
        CircleFitCore,
        EnclosingCircleCore,
    ):
        problem = cls()
        x = Tensor(problem.x0, requires_grad=True)
        loss = problem.loss(x)
        assert "distances" in ops_of(loss), cls.__name__
        assert "norm" not in ops_of(loss), cls.__name__
        loss.backward()
        assert x.grad is not None
        expected = problem.gradient(x.tolist())
        assert x.grad.tolist() == pytest.approx(expected, rel=1e-9, abs=1e-12), cls.__name__


def _exact_offset_sum(xs: list[float], ds: list[float], c: float) -> float:
    """Σ (c − x_i)/d_i with each term correctly rounded and the sum exact (fsum)."""
    return math.fsum((c - x) / d for x, d in zip(xs, ds))


def test_the_split_offset_sum_stays_within_its_stated_error_bound() -> None:
    """The standard-library offset sum of a repeated cotangent splits into
    c·Σ 1/d − Σ x/d (shared Σ 1/d); its error stays within 2·n·ε·R·Σ 1/d of the exact sum,
    and the inverse sum is kept on the distances for the next coordinate."""
    import random

    from geograd import floatarray as fa

    r = random.Random(3)
    n = 5000
    xs = [r.gauss(0.0, 0.5) for _ in range(n)]
    ys = [r.gauss(0.0, 0.5) for _ in range(n)]
    c = (0.3, -0.2)
    dist = fa.distances([fa.FloatArray(xs), fa.FloatArray(ys)], c)
    inverse = math.fsum(1.0 / d for d in dist._v)
    reach = max(max(map(abs, xs)), abs(c[0]))
    assert inverse * reach <= fa.SPLIT_LIMIT * n  # the split form is the one taken here
    got = fa.offset_sum(1.0, dist, fa.FloatArray(xs), c[0])
    assert dist._memo is not None and "inverse_sum" in dist._memo
    exact = _exact_offset_sum(xs, dist._v, c[0])
    bound = 2 * n * 2.0**-53 * reach * inverse
    assert abs(got - exact) <= bound
    # and, typically, far inside it (√n rather than n)
    assert abs(got - exact) <= bound / 10


def test_near_a_data_point_the_offset_sum_takes_the_direct_form() -> None:
    """An iterate 1e-12 from a data point makes Σ 1/d huge: the split would cancel
    catastrophically, so the direct Σ (c − x_i)/d_i is summed instead (bit for bit)."""
    import operator

    from geograd import floatarray as fa

    xs = [0.25, -0.5, 0.75, 0.1]
    ys = [0.0, 0.5, -0.25, 0.3]
    c = (0.25 + 1e-12, 1e-12)
    dist = fa.distances([fa.FloatArray(xs), fa.FloatArray(ys)], c)
    got = fa.offset_sum(0.25, dist, fa.FloatArray(xs), c[0])
    direct = 0.25 * sum(map(operator.truediv, (c[0] - x for x in xs), dist._v))
    assert got == direct
    assert abs(got - 0.25 * _exact_offset_sum(xs, dist._v, c[0])) <= 1e-15


def test_the_array_backend_shares_g_over_d_between_coordinates_and_keeps_nothing_alive() -> None:
    """w = g/d is computed once per backward and shared by the centre's coordinates; it is
    dropped when the distances die, and a different g gets its own."""
    import gc

    import numpy as np

    from geograd import backend as B

    x, y = np.array([0.0, 1.0, 3.0]), np.array([0.5, -1.0, 2.0])
    be = B.backend_of(x)
    dist = np.hypot(x - 0.25, y + 0.5)
    g = np.array([1.0, 2.0, 3.0])
    sx = be.offset_sum(g, dist, x, 0.25)
    kept = be._kept_over
    sy = be.offset_sum(g, dist, y, -0.5)
    assert be._kept_over is kept  # the second coordinate reused the first's g/d
    assert sx == pytest.approx(float(np.sum(g * (0.25 - x) / dist)), rel=1e-15)
    assert sy == pytest.approx(float(np.sum(g * (-0.5 - y) / dist)), rel=1e-15)
    other = np.array([1.0, 1.0, 1.0])
    assert be.offset_sum(other, dist, x, 0.25) == pytest.approx(
        float(np.sum((0.25 - x) / dist)), rel=1e-15
    )
    del dist
    gc.collect()
    assert be._kept_over is None


def test_the_array_backend_sums_term_by_term_where_g_over_d_overflows(T: Maker) -> None:
    """A subnormal distance (an iterate 5e-309 from a data point) makes g/d overflow,
    although each term (c − x)/d is at most 1: the gradient stays finite, as the direct
    form gives it, on every backend."""
    x, y = T([0.0, 1.0, -1.0]), T([0.0, 0.0, 0.0])
    p = Tensor([5e-309, 0.0], requires_grad=True)
    F.sum(F.distances((x, y), p)).backward()
    assert p.grad is not None and p.grad.tolist() == [1.0, 0.0]
