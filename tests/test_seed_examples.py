"""The seed documents' worked examples, reproduced exactly as issue 2 states them."""

from __future__ import annotations

import math
import random

import pytest

import geograd.functional as F
from geograd import Tensor, grad


def test_the_a_b_c_d_f_example() -> None:
    # the seed writes Tensor(3); here leaves track gradients only when asked (as in torch)
    A, B, D = (
        Tensor(3, requires_grad=True),
        Tensor(5, requires_grad=True),
        Tensor(2, requires_grad=True),
    )
    C = A + B
    Fout = C * D
    Fout.backward()
    assert Fout.item() == 16.0
    assert Fout.grad is not None and Fout.grad.item() == 1.0
    assert C.grad is not None and C.grad.item() == 2.0
    assert D.grad is not None and D.grad.item() == 8.0
    assert A.grad is not None and A.grad.item() == 2.0
    assert B.grad is not None and B.grad.item() == 2.0


def test_x_times_y_plus_sin_x() -> None:
    x = Tensor(0.5, requires_grad=True)
    y = Tensor(4.2, requires_grad=True)
    z = x * y + F.sin(x)
    assert abs(z.item() - 2.579425538604203) <= 1e-15
    z.backward()
    assert x.grad is not None and y.grad is not None
    assert x.grad.item() == pytest.approx(4.2 + math.cos(0.5), rel=1e-15)
    assert y.grad.item() == 0.5


@pytest.mark.parametrize(("p0", "q0"), [(1.0, 1.0), (0.5, 2.0), (3.0, 0.25), (2.0, 7.5)])
def test_sqrt_log_expression_against_its_hand_derived_gradient(p0: float, q0: float) -> None:
    # f = sqrt(2p + q)/3 + log(p²q) + 3
    # df/dp = 1/(3 sqrt(2p + q)) + 2/p,  df/dq = 1/(6 sqrt(2p + q)) + 1/q
    p = Tensor(p0, requires_grad=True)
    q = Tensor(q0, requires_grad=True)
    f = F.sqrt(p + p + q) / 3 + F.log(p * (p * q)) + 3
    r = math.sqrt(2 * p0 + q0)
    assert f.item() == pytest.approx(r / 3 + math.log(p0 * p0 * q0) + 3, rel=1e-14)
    f.backward()
    assert p.grad is not None and q.grad is not None
    assert p.grad.item() == pytest.approx(1 / (3 * r) + 2 / p0, rel=1e-14)
    assert q.grad.item() == pytest.approx(1 / (6 * r) + 1 / q0, rel=1e-14)
    # the same through the functional API
    gp, gq = grad(lambda a, b: F.sqrt(a + a + b) / 3 + F.log(a * (a * b)) + 3, (0, 1))(p0, q0)
    assert (gp.item(), gq.item()) == (p.grad.item(), q.grad.item())


def seed_points(n: int) -> tuple[list[float], list[float]]:
    r = random.Random(5)
    xs = [r.uniform(a=0, b=1) for _ in range(n)]
    ys = [r.uniform(a=0, b=1) for _ in range(n)]
    return xs, ys


@pytest.mark.parametrize(
    ("n", "loss", "gradient"),
    [
        (1, 0.5472122517293468, (-0.5900849147094943, -0.8073411877467226)),
        (1000, 0.4430528244756474, (-0.3277744397151291, -0.336282174741702)),
    ],
)
def test_geometric_median_loss_and_gradient(
    n: int, loss: float, gradient: tuple[float, float]
) -> None:
    xs, ys = seed_points(n)
    p = Tensor([0.3, 0.3], requires_grad=True)
    L = F.mean(F.hypot(Tensor(xs) - p[0], Tensor(ys) - p[1]))
    L.backward()
    assert abs(L.item() - loss) <= 1e-12
    assert p.grad is not None
    gx, gy = p.grad.tolist()
    assert abs(gx - gradient[0]) <= 1e-12
    assert abs(gy - gradient[1]) <= 1e-12


def test_geometric_median_through_a_scalar_graph_agrees() -> None:
    # micrograd's way (one 0-D node per point and operation) gives the same numbers
    xs, ys = seed_points(1000)
    p = Tensor([0.3, 0.3], requires_grad=True)
    px, py = p[0], p[1]
    terms = [F.hypot(x - px, y - py) for x, y in zip(xs, ys)]
    L = sum(terms) / len(terms)
    L.backward()
    assert abs(L.item() - 0.4430528244756474) <= 1e-12
    assert p.grad is not None
    assert p.grad.tolist() == pytest.approx([-0.3277744397151291, -0.336282174741702], abs=1e-12)
