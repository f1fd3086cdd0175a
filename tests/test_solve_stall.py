"""minimize(): a run whose steps no longer change x is ``stalled``, not converged.

The rule (geograd/solve.py's module docstring): x_k = x_{k−1} exactly, ftol or
xtol on, ‖∇f(x_k)‖ > max(1e-8 ‖∇f(x_0)‖, 10 gtol), and no failed line search.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import geograd.functional as F
from geograd import Tensor, minimize
from geograd.solve import CONVERGED


def square(x: Tensor) -> Tensor:
    return (x - 2.0) * (x - 2.0)


def far_square(x: Tensor) -> Tensor:
    """A minimum at 1e6 + 2, where float64's spacing is 1.2e-10."""
    return (x - 1_000_002.0) * (x - 1_000_002.0)


@pytest.mark.parametrize(
    "tolerances", [{}, {"ftol": 1e-12, "xtol": None}], ids=["xtol=0", "ftol only"]
)
def test_a_step_below_the_resolution_of_x_is_a_stall(tolerances: dict[str, Any]) -> None:
    """lr·g = 6e-320 cannot change x = 5 (spacing 8.9e-16): stop, and say so."""
    r = minimize(square, 5.0, "sgd", lr=1e-320, **tolerances)
    assert r.reason == "stalled" and not r.converged and "stalled" not in CONVERGED
    assert r.steps == 1 and r.x == 5.0 and r.grad_norm == 6.0
    assert r.message.startswith("Stalled after 1 step: the steps no longer change x: ")
    assert "lr·|grad| ≈ 6e-320 is below the float64 resolution of x (≈ 8.9e-16)" in r.message
    assert f"(≈ {math.ulp(5.0):.2g})" in r.message
    assert "raise lr" in r.message


def test_adam_stalls_when_lr_is_below_the_resolution() -> None:
    """Adam's step is about lr per coordinate whatever the gradient: lr itself is too small."""
    r = minimize(square, 5.0, "adam", lr=1e-320)
    assert r.reason == "stalled" and not r.converged and r.steps == 1
    assert "about lr = 1e-320, below the float64 resolution of x" in r.message
    assert "raise lr" in r.message


def test_a_stall_with_a_tiny_gradient_is_a_convergence() -> None:
    """SGD down to its rounding floor stops converged; the same start with lr 1e-320 stalls."""
    r: Any = minimize(far_square, 1_000_005.0, "sgd", lr=0.1, gtol=None)
    assert r.reason == "xtol" and r.converged
    assert r.history["x"][-2] == r.x and r.grad_norm <= 1e-8 * r.history["grad_norm"][0]
    assert abs(r.x - 1_000_002.0) < 1e-8
    stuck = minimize(far_square, 1_000_005.0, "sgd", lr=1e-320, gtol=None)
    assert stuck.reason == "stalled" and stuck.x == 1_000_005.0


def test_a_stall_near_gtol_is_a_convergence() -> None:
    """Resumed at a converged point, the run stops at once: converged when its gradient is
    within 10 gtol (the floor the caller set), a stall when it is far above gtol."""
    floor = minimize(far_square, 1_000_005.0, "sgd", lr=0.1, gtol=None)
    g = floor.grad_norm
    assert g > 0.0
    near = minimize(far_square, floor.x, "sgd", lr=0.1, gtol=g / 5)
    assert near.reason == "xtol" and near.converged and near.steps == 1
    far = minimize(far_square, floor.x, "sgd", lr=0.1, gtol=g / 20)
    assert far.reason == "stalled" and not far.converged and far.steps == 1


def test_a_line_search_failing_from_x0_is_a_stall() -> None:
    """gd from x0 = 1e-3 on |x| with trial steps of at least 1/32: every trial overshoots,
    x never moves; that shows nothing about optimality (the minimum is at 0)."""
    r = minimize(F.abs, 1e-3, "gd", max_backtracks=5)
    assert r.reason == "stalled" and not r.converged and r.x == 1e-3
    assert "line search found no decrease" in r.message
    # the same point with SGD and a step below x's resolution: a stall too
    s = minimize(F.abs, 1e-3, "sgd", lr=1e-25)
    assert s.reason == "stalled" and not s.converged


def test_a_line_search_failing_at_a_kink_is_not_called_convergence() -> None:
    """Reached by descent, a point where no trial decreases f though the gradient (1) is
    far above f's rounding level is a kink: here the minimum of |x − 0.1|, but minimize
    cannot tell it from a kink that is not one, so it claims nothing."""
    r = minimize(lambda x: F.abs(x - 0.1), 0.35, "gd", max_backtracks=3)
    assert r.reason == "stalled" and not r.converged and r.grad_norm == 1.0 and r.steps >= 1
    assert abs(r.x - 0.1) < 1e-15
    assert "line search found no decrease" in r.message and "at a kink of f" in r.message


@pytest.mark.parametrize(
    ("f", "x0"),
    [
        (lambda x: F.sum(F.abs(x)), [2.0, 1.0]),  # L1: the search stops on one kink
        (lambda x: F.max(x * x), [2.0, 1.0]),  # the ridge |x0| = |x1|, 1e-4 from 0
    ],
    ids=["l1", "max"],
)
def test_the_default_method_at_a_kink_away_from_the_minimum_does_not_claim_success(
    f: Any, x0: list[float]
) -> None:
    r = minimize(f, x0)  # L-BFGS with strong Wolfe: its search fails at kinks
    assert not r.success and r.reason == "stalled" and r.loss > 1e-9
    assert "not shown to be a minimum" in r.message and "optimizer='gd'" in r.message
    # the advice holds: a gradient step per kink gets to the minimum, 0
    assert minimize(f, x0, "gd").loss < 1e-9


def test_without_ftol_and_xtol_a_stall_runs_to_max_steps_and_says_why() -> None:
    """Both x rules off: the run goes on, and the max_steps message names the cause."""
    r = minimize(square, 5.0, "sgd", lr=1e-320, xtol=None, max_steps=20)
    assert r.reason == "max_steps" and r.steps == 20 and r.x == 5.0
    assert "the steps never changed x: lr·|grad| ≈ 6e-320 is below" in r.message
    assert "raise lr" in r.message and "raise max_steps" not in r.message
