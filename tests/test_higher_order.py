"""Higher-order gradients: backward(create_graph=True), grad of grad, Hessians, Newton.

The VJPs of the primitive table are written with differentiable operations, so
the gradient of a gradient is the same table applied twice; these tests compare
the results with second (and third) derivatives derived by hand. Those on 1-D
values run on every array backend (``T``, see ``tests/backends.py``): the VJPs are
Tensor operations, so every backend gets higher order from the same table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from backends import NAMES, Maker, in_backend

import geograd.functional as F
from geograd import Tensor, grad, no_grad, value_and_grad

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@pytest.fixture(params=NAMES)
def T(request: pytest.FixtureRequest) -> Maker:
    return Maker(request.param)


def flat(x: Any) -> Any:
    if isinstance(x, list) and x and isinstance(x[0], list):
        return [v for row in x for v in row]
    return x


def close(actual: Any, expected: Any, rel: float = 1e-12) -> bool:
    return bool(flat(actual) == pytest.approx(flat(expected), rel=rel, abs=1e-13))


def second_derivative(f: Callable[[Any], Any], x0: float) -> float:
    return float(grad(grad(f))(x0).item())


# ------------------------------------------------------------------ backward(create_graph=True)


def test_backward_create_graph_then_differentiate_the_gradient() -> None:
    x = Tensor(2.0, requires_grad=True)
    y = x**3 + F.sin(x)
    y.backward(create_graph=True)
    g = x.grad
    assert g is not None
    assert close(g.item(), 3 * 4.0 + math.cos(2.0))
    assert g.requires_grad and not g.is_leaf  # it carries its own graph
    x.grad = None  # otherwise the next backward adds to it (gradients accumulate)
    g.backward(create_graph=True)
    h = x.grad
    assert h is not None and close(h.item(), 6 * 2.0 - math.sin(2.0))
    x.grad = None
    h.backward()
    assert x.grad is not None and close(x.grad.item(), 6.0 - math.cos(2.0))


def test_first_order_backward_records_no_graph(T: Maker) -> None:
    x = T([1.0, 2.0], requires_grad=True)
    y = F.sum(F.exp(x) * x)
    y.backward()
    assert x.grad is not None and in_backend(x.grad, T.backend)
    assert not x.grad.requires_grad and x.grad.is_leaf and x.grad.parents == ()


def test_create_graph_on_a_vector_gives_hessian_vector_products(T: Maker) -> None:
    # f(v) = Σ v_i^3 / 3 + v_0 v_1: H = diag(2 v) + [[0, 1], [1, 0]]
    v = T([1.5, -0.5], requires_grad=True)
    f = F.sum(v**3) / 3.0 + v[0] * v[1]
    f.backward(create_graph=True)
    g = v.grad
    assert g is not None and close(g.tolist(), [1.5**2 - 0.5, 0.25 + 1.5])
    v.grad = None
    u = [1.0, 2.0]
    F.dot(g, u).backward()
    hu = [2 * 1.5 * 1.0 + 1.0 * 2.0, 1.0 * 1.0 + 2 * -0.5 * 2.0]
    assert v.grad is not None and close(v.grad.tolist(), hu)
    assert in_backend(g, T.backend) and in_backend(v.grad, T.backend)


# ------------------------------------------------------------------ grad of grad


def test_d2_sin_is_minus_sin_and_so_on() -> None:
    for x0 in [-2.0, 0.0, 0.3, 1.0, 2.5]:
        d1 = grad(F.sin)
        d2 = grad(d1)
        d3 = grad(d2)
        d4 = grad(d3)
        assert close(d1(x0).item(), math.cos(x0))
        assert close(d2(x0).item(), -math.sin(x0))
        assert close(d3(x0).item(), -math.cos(x0))
        assert close(d4(x0).item(), math.sin(x0))


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


SECOND: list[tuple[str, Callable, Callable, list[float]]] = [
    ("exp", F.exp, math.exp, [-1.0, 0.5, 2.0]),
    ("log", F.log, lambda x: -1.0 / x**2, [0.3, 1.0, 4.0]),
    ("sqrt", F.sqrt, lambda x: -0.25 * x**-1.5, [0.3, 1.0, 4.0]),
    ("cos", F.cos, lambda x: -math.cos(x), [-1.0, 0.5, 2.0]),
    ("tan", F.tan, lambda x: 2 * math.tan(x) / math.cos(x) ** 2, [-1.0, 0.0, 0.7]),
    ("tanh", F.tanh, lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2), [-1.0, 0.0, 0.7]),
    ("sigmoid", F.sigmoid, lambda x: _sig(x) * (1 - _sig(x)) * (1 - 2 * _sig(x)), [-2.0, 0.5]),
    ("softplus", F.softplus, lambda x: _sig(x) * (1 - _sig(x)), [-2.0, 0.0, 0.5]),
    ("pow 3.5", lambda t: t**3.5, lambda x: 3.5 * 2.5 * x**1.5, [0.5, 2.0]),
    ("pow -1", lambda t: t**-1, lambda x: 2.0 / x**3, [-2.0, 0.5]),
    ("rpow", lambda t: 3.0**t, lambda x: 3.0**x * math.log(3.0) ** 2, [-1.0, 2.0]),
    ("x^x", lambda t: t**t, lambda x: x**x * ((math.log(x) + 1) ** 2 + 1 / x), [0.5, 2.0]),
    ("rdiv", lambda t: 1.0 / t, lambda x: 2.0 / x**3, [-2.0, 0.5]),
    ("square", F.square, lambda x: 2.0, [-2.0, 0.5]),
    ("hypot", lambda t: F.hypot(t, 2.0), lambda x: 4.0 / (x * x + 4.0) ** 1.5, [-1.0, 0.0, 3.0]),
    ("abs", F.abs, lambda x: 0.0, [-1.0, 2.0]),
    ("relu", F.relu, lambda x: 0.0, [-1.0, 2.0]),
    ("softplus∘sin", lambda t: F.softplus(F.sin(t)),
     lambda x: _sig(math.sin(x)) * (1 - _sig(math.sin(x))) * math.cos(x) ** 2
     - _sig(math.sin(x)) * math.sin(x), [0.3, 2.0]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "f", "d2", "points"), SECOND, ids=[r[0] for r in SECOND])
def test_second_derivatives_against_closed_forms(
    name: str, f: Callable, d2: Callable, points: list[float]
) -> None:
    for x0 in points:
        assert close(second_derivative(f, x0), d2(x0), rel=1e-11), (name, x0)


def test_second_derivative_of_one_d_ops_is_elementwise(T: Maker) -> None:
    # d/dx of grad(Σ log x) = -1/x² on the diagonal; Σ of it through a dot with ones
    xs = [0.5, 1.0, 4.0]
    x = T(xs, requires_grad=True)
    F.sum(F.log(x)).backward(create_graph=True)
    g = x.grad
    assert g is not None
    x.grad = None
    F.sum(g).backward()
    assert x.grad is not None and close(x.grad.tolist(), [-1.0 / v**2 for v in xs])


def test_mixed_partials_through_argnums() -> None:
    def f(x: Tensor, y: Tensor) -> Tensor:
        return x * x * y + F.sin(x * y)

    x0, y0 = 0.7, -1.3
    dfdx = grad(f, argnums=0)
    dxy = grad(lambda x, y: dfdx(x, y), argnums=1)(x0, y0)
    # d/dy (2xy + y cos(xy)) = 2x + cos(xy) - xy sin(xy)
    expected = 2 * x0 + math.cos(x0 * y0) - x0 * y0 * math.sin(x0 * y0)
    assert close(dxy.item(), expected)
    dyx = grad(lambda x, y: grad(f, argnums=1)(x, y), argnums=0)(x0, y0)
    assert close(dyx.item(), expected)


def test_grad_of_grad_through_a_closure() -> None:
    # the inner function captures the outer variable: d/dy [d/dx (x² y)] at x = 3 is 2x = 6
    def outer(y: Tensor) -> Tensor:
        return grad(lambda x: x * x * y)(3.0)

    assert close(grad(outer)(5.0).item(), 6.0)
    value, slope = value_and_grad(outer)(5.0)
    assert close(value.item(), 30.0) and close(slope.item(), 6.0)


def test_nested_grad_leaves_no_graph_outside() -> None:
    g = grad(grad(lambda x: x**4))(2.0)
    assert close(g.item(), 48.0)
    assert not g.requires_grad


# ------------------------------------------------------------------ Hessians


def poly(v: Tensor) -> Tensor:
    """p(x, y) = x³y + 2xy² - y³ + x²."""
    x, y = v[0], v[1]
    return x**3 * y + 2.0 * x * y**2 - y**3 + x * x


def poly_hessian(x: float, y: float) -> list[list[float]]:
    return [[6 * x * y + 2, 3 * x * x + 4 * y], [3 * x * x + 4 * y, 4 * x - 6 * y]]


def hvp(
    f: Callable[[Tensor], Tensor], v0: list[float], u: list[float], T: Maker | None = None
) -> list[float]:
    """H(v0) u by differentiating <grad f, u> (a Hessian-vector product); v0 in T's backend."""
    x = (T or Maker("python"))(v0)
    out = grad(lambda v: F.dot(grad(f)(v), u))(x)
    assert in_backend(out, x.backend.name)
    return list(out.tolist())


@pytest.mark.parametrize("point", [(0.5, -1.0), (2.0, 3.0), (0.0, 0.0), (-1.5, 0.25)])
def test_hessian_of_a_polynomial_in_two_variables(T: Maker, point: tuple[float, float]) -> None:
    x0, y0 = point
    expected = poly_hessian(x0, y0)
    rows = [hvp(poly, [x0, y0], e, T) for e in ([1.0, 0.0], [0.0, 1.0])]
    assert close(rows, expected)
    assert rows[0][1] == pytest.approx(rows[1][0], rel=1e-15, abs=1e-15)  # symmetric
    u = [0.3, -2.0]
    hu = [sum(h * ui for h, ui in zip(row, u)) for row in expected]
    assert close(hvp(poly, [x0, y0], u, T), hu)


def test_hessian_of_logsumexp_and_vector_norm(T: Maker) -> None:
    xs = [0.5, -1.0, 2.0]
    lse = math.log(sum(math.exp(v) for v in xs))
    p = [math.exp(v - lse) for v in xs]
    for j in range(3):
        e = [1.0 if i == j else 0.0 for i in range(3)]
        row = hvp(F.logsumexp, xs, e, T)
        assert close(row, [(p[i] if i == j else 0.0) - p[i] * p[j] for i in range(3)])
    ys = [3.0, -4.0, 12.0]
    r = 13.0
    for j in range(3):
        e = [1.0 if i == j else 0.0 for i in range(3)]
        row = hvp(F.vector_norm, ys, e, T)
        expected = [((1.0 if i == j else 0.0) - ys[i] * ys[j] / r**2) / r for i in range(3)]
        assert close(row, expected)


@pytest.mark.parametrize("point_backend", NAMES)
def test_hessian_of_the_median_loss(T: Maker, point_backend: str) -> None:
    # L(p) = Σ_i ||a_i - p||: H = Σ_i (I - u_i u_iᵀ) / ||a_i - p||, u_i the unit direction
    # (the data in one backend, the point in any: its coordinates are 0-D)
    ax, ay = [0.0, 1.0, 0.2], [0.0, 0.5, 1.0]
    p0 = [0.4, 0.3]
    tx, ty = T(ax), T(ay)
    at = Maker(point_backend)

    def loss(p: Tensor) -> Tensor:
        return F.sum(F.hypot(tx - p[0], ty - p[1]))

    h = [[0.0, 0.0], [0.0, 0.0]]
    for x, y in zip(ax, ay):
        d = [x - p0[0], y - p0[1]]
        r = math.hypot(*d)
        for i in range(2):
            for j in range(2):
                h[i][j] += ((1.0 if i == j else 0.0) - d[i] * d[j] / r**2) / r
    assert close([hvp(loss, p0, [1.0, 0.0], at), hvp(loss, p0, [0.0, 1.0], at)], h)


# ------------------------------------------------------------------ Newton


def test_one_newton_step_on_a_one_d_function() -> None:
    # f(x) = x⁴ - 3x² + x: f' = 4x³ - 6x + 1, f'' = 12x² - 6
    def f(x: Tensor) -> Tensor:
        return x**4 - 3.0 * x**2 + x

    x0 = 2.0
    df, d2f = grad(f), grad(grad(f))
    step = df(x0).item() / d2f(x0).item()
    expected = (4 * 8 - 12 + 1) / (12 * 4 - 6)
    assert close(step, expected)
    x = x0
    for _ in range(8):
        x -= df(x).item() / d2f(x).item()
    assert abs(4 * x**3 - 6 * x + 1) < 1e-12  # a stationary point, reached quadratically
    assert d2f(x).item() > 0


def test_newton_solves_a_quadratic_in_one_step(T: Maker) -> None:
    # f(v) = ½ vᵀAv - bᵀv, A = [[4, 1], [1, 3]]: the minimiser A⁻¹b from any start
    a = [[4.0, 1.0], [1.0, 3.0]]
    b = [1.0, 2.0]

    def f(v: Tensor) -> Tensor:
        av = F.stack([F.dot(a[0], v), F.dot(a[1], v)], like=v)
        return 0.5 * F.dot(v, av) - F.dot(b, v)

    v0 = [10.0, -7.0]
    g = grad(f)(T(v0)).tolist()
    h = [hvp(f, v0, [1.0, 0.0], T), hvp(f, v0, [0.0, 1.0], T)]
    assert close(h, a)
    det = h[0][0] * h[1][1] - h[0][1] * h[1][0]
    step = [(h[1][1] * g[0] - h[0][1] * g[1]) / det, (h[0][0] * g[1] - h[1][0] * g[0]) / det]
    v1 = [v0[0] - step[0], v0[1] - step[1]]
    assert close(v1, [1.0 / 11.0, 7.0 / 11.0])
    assert close(grad(f)(T(v1)).tolist(), [0.0, 0.0], rel=1e-9)


def test_higher_order_works_under_an_outer_no_grad() -> None:
    with no_grad():
        assert close(grad(grad(F.exp))(1.0).item(), math.e)


def test_derivatives_of_powers_at_zero_end_in_zero_not_an_error(T: Maker) -> None:
    # d/dx x^0 = 0 everywhere, also at 0 where 0 * 0^-1 would be undefined (torch's rule)
    assert grad(lambda x: x**0)(0.0).item() == 0.0
    assert grad(lambda x: F.sum(x**0.0))(T([0.0, 2.0])).tolist() == [0.0, 0.0]
    d3 = grad(grad(grad(lambda x: x**2)))
    assert d3(0.0).item() == 0.0 and d3(1.5).item() == 0.0
    d4 = grad(grad(grad(grad(lambda x: x**3))))
    assert d4(0.0).item() == 0.0
    assert grad(grad(grad(lambda x: x**3)))(0.0).item() == 6.0
    # a 1-D exponent with a zero entry
    v = T([0.0, 2.0], requires_grad=True)
    (v ** T([0.0, 2.0])).backward([1.0, 1.0])
    assert v.grad is not None and v.grad.tolist() == [0.0, 4.0]
    # x ** 0.5 at 0: no derivative, but nothing depends on that entry here
    w = T([0.0, 4.0], requires_grad=True)
    (w**0.5)[1].backward()
    assert w.grad is not None and w.grad.tolist() == [0.0, 0.25]
    assert in_backend(w.grad, T.backend)


def test_mixed_derivative_of_a_power_with_a_zero_exponent() -> None:
    # d²(a^b)/da db = a^(b-1) (1 + b log a): 1/2 at a = 2, b = 0 (the zero-exponent rule
    # above must not cut the exponent's own derivative)
    mixed = grad(lambda b: grad(lambda a: a**b)(2.0))(0.0)
    assert close(mixed.item(), 0.5)
    assert close(
        grad(lambda b: grad(lambda a: a**b)(2.0))(1.5).item(), 2**0.5 * (1 + 1.5 * math.log(2))
    )
