"""Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_)."""

from __future__ import annotations

import math

import pytest

from geograd import DomainError, InputError, Tensor
from geograd.optim import clip_grad_norm_


def with_grads(a_grad: float, b_grad: list[float]) -> tuple[Tensor, Tensor]:
    a, b = Tensor(0.0, requires_grad=True), Tensor([0.0] * len(b_grad), requires_grad=True)
    a.grad, b.grad = Tensor(a_grad), Tensor(b_grad)
    return a, b


def test_scales_to_the_max_norm_and_returns_the_norm_before() -> None:
    a, b = with_grads(3.0, [4.0, 12.0])  # global norm sqrt(9 + 16 + 144) = 13
    total = clip_grad_norm_([a, b], 6.5)
    assert total == 13.0
    coef = 6.5 / (13.0 + 1e-6)  # torch's formula
    assert a.grad is not None and b.grad is not None
    assert a.grad.item() == pytest.approx(3.0 * coef, rel=1e-15)
    assert b.grad.tolist() == pytest.approx([4.0 * coef, 12.0 * coef], rel=1e-15)
    assert math.hypot(a.grad.item(), *b.grad.tolist()) == pytest.approx(6.5, rel=1e-6)


def test_leaves_small_gradients_alone() -> None:
    a, b = with_grads(3.0, [4.0])
    grad = b.grad
    assert clip_grad_norm_([a, b], 10.0) == 5.0
    assert b.grad is grad and a.grad is not None and a.grad.item() == 3.0


def test_other_norms_a_single_tensor_and_no_gradients() -> None:
    a, b = with_grads(-3.0, [4.0, 1.0])
    assert clip_grad_norm_([a, b], 100.0, norm_type=math.inf) == 4.0
    assert clip_grad_norm_([a, b], 100.0, norm_type=1.0) == pytest.approx(8.0, rel=1e-15)
    assert clip_grad_norm_(b, 100.0) == pytest.approx(math.sqrt(17.0), rel=1e-15)
    assert clip_grad_norm_([Tensor(1.0, requires_grad=True)], 1.0) == 0.0


def test_non_finite_and_bad_arguments() -> None:
    a, b = with_grads(math.inf, [1.0])
    assert clip_grad_norm_([a, b], 1.0) == math.inf
    assert b.grad is not None and b.grad.tolist() == [1.0]  # left for the divergence check
    with pytest.raises(DomainError, match="total norm"):
        clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    with pytest.raises(InputError, match="max_norm"):
        clip_grad_norm_([a], -1.0)
