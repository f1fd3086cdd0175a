"""geograd.hessian, hvp, jacobian: closed forms, finite differences, symmetry."""

import math

import pytest

import geograd
import geograd.functional as F
from geograd import Tensor, grad
from geograd.errors import DivisionByZeroError, ShapeError


def f(x):
    # x0² x1 + Σ sin x_i + x0 x2³: H = [[2 x1 - sin x0, 2 x0, 3 x2²], [2 x0, -sin x1, 0],
    #                                   [3 x2², 0, 6 x0 x2 - sin x2]]
    return x[0] ** 2 * x[1] + F.sum(F.sin(x)) + x[0] * x[2] ** 3


def closed_form(x):
    a, b, c = x
    return [
        [2 * b - math.sin(a), 2 * a, 3 * c * c],
        [2 * a, -math.sin(b), 0.0],
        [3 * c * c, 0.0, 6 * a * c - math.sin(c)],
    ]


X = [0.7, -1.3, 0.4]


def test_hessian_matches_closed_form_and_is_symmetric():
    h = geograd.hessian(f)(X)
    ref = closed_form(X)
    for i in range(3):
        for j in range(3):
            assert h[i][j] == pytest.approx(ref[i][j], abs=1e-14)
            assert h[i][j] == pytest.approx(h[j][i], abs=1e-14)


def test_hessian_matches_finite_differences_of_the_gradient():
    h = geograd.hessian(f)(X)
    eps = 1e-6
    for j in range(3):
        up = [v + (eps if k == j else 0.0) for k, v in enumerate(X)]
        down = [v - (eps if k == j else 0.0) for k, v in enumerate(X)]
        gu, gd = grad(f)(up).tolist(), grad(f)(down).tolist()
        for i in range(3):
            assert h[i][j] == pytest.approx((gu[i] - gd[i]) / (2 * eps), abs=1e-7)


def test_hvp_is_hessian_times_v():
    v = [0.3, -2.0, 1.5]
    hv = geograd.hvp(f)(X, v)
    assert isinstance(hv, Tensor)
    h = closed_form(X)
    for i in range(3):
        assert hv.tolist()[i] == pytest.approx(sum(h[i][j] * v[j] for j in range(3)), abs=1e-13)


def test_hvp_is_linear_in_v():
    a, b = [1.0, 0.0, 2.0], [0.5, -1.0, 0.25]
    hvp = geograd.hvp(f)
    both = hvp(X, [p + 3 * q for p, q in zip(a, b)]).tolist()
    parts = [p + 3 * q for p, q in zip(hvp(X, a).tolist(), hvp(X, b).tolist())]
    assert both == pytest.approx(parts, abs=1e-13)


def test_zero_dimensional_input():
    assert geograd.hessian(lambda x: x**3)(2.0) == [[12.0]]
    assert geograd.hvp(lambda x: x**3)(2.0, 0.5).item() == 6.0


def test_linear_function_has_zero_hessian():
    assert geograd.hessian(lambda x: F.sum(x * 2.0))([1.0, 2.0]) == [[0.0, 0.0], [0.0, 0.0]]
    assert geograd.hvp(lambda x: F.sum(x * 2.0))([1.0, 2.0], [1.0, 1.0]).tolist() == [0.0, 0.0]


def test_jacobian_closed_form_and_finite_differences():
    def g(x):
        return F.concat([x[0] * x[1], F.exp(x[1]) + x[2], x[0] ** 3])

    x = [1.5, -0.5, 2.0]
    jac = geograd.jacobian(g)(x)
    ref = [[x[1], x[0], 0.0], [0.0, math.exp(x[1]), 1.0], [3 * x[0] ** 2, 0.0, 0.0]]
    for i in range(3):
        assert jac[i] == pytest.approx(ref[i], abs=1e-14)
    eps = 1e-6
    for j in range(3):
        up = [v + (eps if k == j else 0.0) for k, v in enumerate(x)]
        down = [v - (eps if k == j else 0.0) for k, v in enumerate(x)]
        fu, fd = g(Tensor(up)).tolist(), g(Tensor(down)).tolist()
        for i in range(3):
            assert jac[i][j] == pytest.approx((fu[i] - fd[i]) / (2 * eps), abs=1e-7)


def test_jacobian_of_a_gradient_is_the_hessian():
    jac = geograd.jacobian(grad(f))(X)
    h = geograd.hessian(f)(X)
    for i in range(3):
        assert jac[i] == pytest.approx(h[i], abs=1e-14)


def test_shape_errors():
    with pytest.raises(ShapeError):
        geograd.hessian(lambda x: x * 2.0)([1.0, 2.0])
    with pytest.raises(ShapeError):
        geograd.hvp(f)(X, [1.0, 2.0])


def test_median_hessian_at_a_data_point_raises_naming_the_norm():
    # the zero-distance term has no second derivative: a DomainError, not a silent 0
    xs, ys = Tensor([0.0, 1.0, 0.0]), Tensor([0.0, 0.0, 1.0])
    with pytest.raises(DivisionByZeroError, match="norm"):
        geograd.hessian(lambda p: F.mean(F.hypot(xs - p[0], ys - p[1])))([0.0, 0.0])
