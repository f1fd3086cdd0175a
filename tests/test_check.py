"""gradcheck, three_way_check and the finite-difference sweep."""

from __future__ import annotations

import math

import pytest

import geograd.functional as F
from geograd import Tensor
from geograd.check import (
    GradcheckError,
    central_differences,
    finite_difference_sweep,
    gradcheck,
    three_way_check,
)
from geograd.errors import GeogradError, ShapeError


def seed_expression(p: Tensor, q: Tensor) -> Tensor:
    return F.sqrt(p + p + q) / 3 + F.log(p * (p * q)) + 3


def test_gradcheck_passes_on_correct_gradients_and_reports_each_input() -> None:
    report = gradcheck(seed_expression, [1.3, 0.7])
    assert report.passed
    assert len(report.inputs) == 2
    assert report.max_abs_error < 1e-7
    # the report carries the hand-derived gradient of the seed expression
    p, q = 1.3, 0.7
    dp = 1 / (3 * math.sqrt(2 * p + q)) + 2 / p
    assert report.inputs[0].autograd[0] == pytest.approx(dp, rel=1e-14)
    assert "max abs err" in str(report)


def test_gradcheck_handles_vector_inputs() -> None:
    report = gradcheck(lambda x, y: F.sum(F.norm(x, y) * x), [[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    assert report.passed
    assert [len(r.autograd) for r in report.inputs] == [3, 3]


def test_gradcheck_detects_a_wrong_gradient() -> None:
    # relu's subgradient at 0 is 0, while central differences see the slope 1/2
    with pytest.raises(GradcheckError, match="input 0, element 0"):
        gradcheck(lambda x: F.sum(F.relu(x)), [[0.0, 1.0]])
    report = gradcheck(lambda x: F.sum(F.relu(x)), [[0.0, 1.0]], raise_exception=False)
    assert not report.passed
    assert report.inputs[0].worst_element == 0
    assert isinstance(GradcheckError("x"), GeogradError)


def test_gradcheck_refuses_non_scalar_functions() -> None:
    with pytest.raises(ShapeError, match="0-D"):
        gradcheck(lambda x: x * 2.0, [[1.0, 2.0]])


def test_central_differences_are_second_order_accurate() -> None:
    (g,) = central_differences(lambda x: F.exp(x), [0.5], eps=1e-4)
    assert g[0] == pytest.approx(math.exp(0.5), rel=1e-8)


def test_three_way_check_compares_autograd_closed_form_and_differences() -> None:
    ax, ay = [0.0, 1.0, 2.0], [0.0, 1.0, 0.0]
    xs, ys = Tensor(ax), Tensor(ay)

    def loss(p: Tensor) -> Tensor:
        return F.mean(F.hypot(xs - p[0], ys - p[1]))

    def closed(p: list[float]) -> list[float]:
        d = [math.hypot(a - p[0], b - p[1]) for a, b in zip(ax, ay)]
        gx = -sum((a - p[0]) / di for a, di in zip(ax, d)) / 3
        gy = -sum((b - p[1]) / di for b, di in zip(ay, d)) / 3
        return [gx, gy]

    report = three_way_check(loss, closed, [0.3, 0.4])
    assert report.passed()
    assert report.autograd_vs_closed[0] < 1e-14
    wrong = three_way_check(loss, lambda p: [2 * g for g in closed(p)], [0.3, 0.4])
    assert not wrong.passed()


def test_finite_difference_sweep_shows_the_v_curve() -> None:
    sweep = finite_difference_sweep(lambda x: F.sum(F.sin(x)), [math.cos(1.0)], [1.0])
    errors = dict(sweep)
    # truncation dominates at large h, rounding at tiny h; the middle is far better than both
    assert errors[1e-5] < 1e-9
    assert errors[1e-1] > 1e-4
    assert errors[1e-13] > errors[1e-5]
