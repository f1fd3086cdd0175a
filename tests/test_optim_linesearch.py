"""GradientDescent: Armijo backtracking, step adaptation, evaluations, high accuracy untuned."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

import geograd.functional as F
from geograd import InputError, Tensor
from geograd.optim import GradientDescent

Vec = list[float]


def quad(x: Vec) -> float:
    a, b = x
    return 1.5 * a * a + a * b + b * b - a + 2.0 * b


def quad_grad(x: Vec) -> Vec:
    a, b = x
    return [3.0 * a + b - 1.0, a + 2.0 * b + 2.0]


def quad_loss(p: Tensor) -> Tensor:
    a, b = p[0], p[1]
    return 1.5 * (a * a) + a * b + b * b - a + 2.0 * b


def gd_ref(
    f: Callable[[Vec], float],
    grad: Callable[[Vec], Vec],
    x0: Vec,
    steps: int,
    lr: float = 1.0,
    c1: float = 1e-4,
    shrink: float = 0.5,
    grow: float = 2.0,
) -> tuple[list[Vec], list[int]]:
    """The documented rule in plain floats: iterates and evaluations per step."""
    x, t, first, out, evals = list(x0), None, False, [], []
    for _ in range(steps):
        f0, g = f(x), grad(x)
        g2 = sum(v * v for v in g)
        trial = lr if t is None else t * (grow if first else 1.0)
        n = 0
        while True:
            y = [xi - trial * gi for xi, gi in zip(x, g)]
            fy = f(y)
            n += 1
            slope = sum(u * v for u, v in zip(grad(y), g))
            armijo = fy <= f0 - c1 * trial * g2 and f0 - fy > 1e-10 * abs(f0)
            approx = fy <= f0 + 1e-10 * abs(f0) and slope >= -(1 - 2 * c1) * g2
            if armijo or approx:
                break
            trial *= shrink
        x, t, first = y, trial, n == 1
        out.append(x)
        evals.append(n)
    return out, evals


def drive(
    p: Tensor, opt: GradientDescent, loss: Callable[[Tensor], Tensor], steps: int
) -> list[Vec]:
    def closure() -> Tensor:
        opt.zero_grad()
        value = loss(p)
        value.backward()
        return value

    out = []
    for _ in range(steps):
        opt.step(closure)
        out.append(p.data.tolist())
    return out


def test_iterates_follow_armijo_backtracking() -> None:
    p = Tensor([0.0, 0.0], requires_grad=True)
    opt = GradientDescent([p])
    got = drive(p, opt, quad_loss, 30)
    want, evals = gd_ref(quad, quad_grad, [0.0, 0.0], 30)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == pytest.approx(w, rel=1e-12, abs=1e-15), k
    # the first call evaluates at x0; each later step reuses the accepted point's evaluation
    assert opt.state[p]["func_evals"] == 1 + sum(evals)
    assert opt.state[p]["n_iter"] == 30
    assert 1 in evals and max(evals) > 1  # both first-try acceptances and backtracks happened


def test_first_step_by_hand() -> None:
    # f = x², x0 = 1, g = 2: t = 1 gives x = −1, f = 1 (no decrease); t = 0.5 gives x = 0, f = 0
    p = Tensor(1.0, requires_grad=True)
    opt = GradientDescent([p])

    def closure() -> Tensor:
        opt.zero_grad()
        loss = p * p
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 1.0  # the loss at the starting point, as torch's LBFGS returns
    assert p.data == 0.0
    assert opt.state[p]["step_size"] == 0.5 and opt.state[p]["func_evals"] == 3


def test_custom_c1_shrink_and_grow() -> None:
    p = Tensor([0.0, 0.0], requires_grad=True)
    opt = GradientDescent([p], lr=3.0, c1=0.3, shrink=0.3, grow=1.5)
    got = drive(p, opt, quad_loss, 15)
    want, _ = gd_ref(quad, quad_grad, [0.0, 0.0], 15, lr=3.0, c1=0.3, shrink=0.3, grow=1.5)
    for g, w in zip(got, want):
        assert g == pytest.approx(w, rel=1e-12, abs=1e-15)


def test_converges_to_high_accuracy_without_tuning() -> None:
    """An ill-conditioned quadratic (κ = 100), scaled by 1e6, from the default options."""

    def loss(p: Tensor) -> Tensor:
        a, b = p[0], p[1]
        return 1e6 * ((a - 3.0) * (a - 3.0) + 100.0 * (b + 2.0) * (b + 2.0))

    p = Tensor([0.0, 0.0], requires_grad=True)
    opt = GradientDescent([p])
    drive(p, opt, loss, 3000)
    assert p.data.tolist() == pytest.approx([3.0, -2.0], abs=1e-12)


def test_line_search_failure_keeps_the_point() -> None:
    """f = |x| at x = 1e-3 with trials of at least 1/32: every trial overshoots; stay put."""
    p = Tensor(1e-3, requires_grad=True)
    opt = GradientDescent([p], max_backtracks=5)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = F.abs(p)
        loss.backward()
        return loss

    before = p.data
    opt.step(closure)
    assert p.data is before
    assert p.grad is not None and p.grad.item() == 1.0  # the gradient at the kept point
    assert opt.state[p]["line_search_failed"] is True
    assert opt.state[p]["func_evals"] == 1 + 6


def test_rejects_trials_that_leave_the_domain() -> None:
    """log(x) at x0 = 0.1 with lr = 10: the first trials are negative, so log raises; backtrack."""
    p = Tensor(0.1, requires_grad=True)
    opt = GradientDescent([p], lr=10.0)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = p - F.log(p)  # minimum at x = 1
        loss.backward()
        return loss

    for _ in range(60):
        opt.step(closure)
    assert p.data == pytest.approx(1.0, abs=1e-8)


def test_needs_a_closure_and_one_group() -> None:
    p = Tensor(1.0, requires_grad=True)
    opt = GradientDescent([p])
    assert GradientDescent.requires_closure
    with pytest.raises(InputError, match="closure"):
        opt.step()
    with pytest.raises(InputError, match="one parameter group"):
        opt.add_param_group({"params": [Tensor(2.0, requires_grad=True)]})
    with pytest.raises(InputError, match="c1"):
        GradientDescent([p], c1=1.5)
    with pytest.raises(InputError, match="shrink"):
        GradientDescent([p], shrink=1.0)


def test_changing_lr_rescales_the_next_trial() -> None:
    p = Tensor([0.0, 0.0], requires_grad=True)
    opt = GradientDescent([p])
    drive(p, opt, quad_loss, 3)
    state = opt.state[p]
    t, first = state["step_size"], state["first_try"]
    opt.param_groups[0]["lr"] = 0.25  # a schedule would do this
    evals = state["func_evals"]
    drive(p, opt, quad_loss, 1)
    expected_trial = t * (2.0 if first else 1.0) * 0.25
    n = state["func_evals"] - evals
    assert state["step_size"] == pytest.approx(expected_trial * 0.5 ** (n - 1), rel=1e-15)
    assert math.isfinite(state["step_size"])
