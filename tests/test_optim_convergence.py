"""Each optimizer brings a convex quadratic and the Rosenbrock function below a stated gap.

The gaps and step budgets are stated in the tables; each run is deterministic.
The quadratic is f(a, b) = 1.5a² + ab + b² − a + 2b (Hessian [[3, 1], [1, 2]],
minimum at (4/5, −7/5), f* = −1.8); the Rosenbrock function
(1 − a)² + 100 (b − a²)² starts from the classic (−1.2, 1), f* = 0 at (1, 1).
"""

from __future__ import annotations

from typing import Any

import pytest

from geograd import Tensor, minimize
from geograd.optim import Cosine

F_STAR = -1.8


def quadratic(p: Tensor) -> Tensor:
    a, b = p[0], p[1]
    return 1.5 * (a * a) + a * b + b * b - a + 2.0 * b


def rosenbrock(p: Tensor) -> Tensor:
    a, b = p[0], p[1]
    return (1.0 - a) * (1.0 - a) + 100.0 * ((b - a * a) * (b - a * a))


# name, options, steps allowed, gap reached
QUADRATIC: list[tuple[str, dict[str, Any], int, float]] = [
    ("gd", {}, 200, 1e-14),  # no learning rate: the line search finds the steps
    ("sgd", {"lr": 0.3}, 100, 1e-14),
    ("momentum", {"lr": 0.1}, 500, 1e-14),
    ("nag", {"lr": 0.1}, 300, 1e-14),
    ("adam", {"lr": 0.1}, 600, 1e-14),
    ("adamw", {"lr": 0.1, "weight_decay": 0.0}, 600, 1e-14),
    ("adamax", {"lr": 0.1}, 600, 1e-14),
    ("rmsprop", {"lr": 0.01}, 600, 1e-14),
    ("adagrad", {"lr": 0.5}, 150, 1e-14),
]

ROSENBROCK: list[tuple[str, dict[str, Any], int, float]] = [
    ("gd", {}, 10_000, 1e-8),  # steepest descent crawls along the valley, but gets there
    ("sgd", {"lr": 1.5e-3}, 11_000, 1e-6),
    ("momentum", {"lr": 1e-3}, 3_000, 1e-10),
    ("nag", {"lr": 1e-3}, 3_000, 1e-10),
    ("adam", {"lr": 0.02}, 4_000, 1e-10),
    ("adamw", {"lr": 0.02, "weight_decay": 0.0}, 4_000, 1e-10),
    ("adamax", {"lr": 0.02}, 5_000, 1e-6),
    ("rmsprop", {"lr": 1e-3, "momentum": 0.9, "centered": True, "schedule": Cosine(3000)},
     3_000, 1e-10),
    ("adagrad", {"lr": 0.5}, 8_000, 1e-6),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "options", "steps", "gap"), QUADRATIC, ids=[q[0] for q in QUADRATIC]
)
def test_convex_quadratic(name: str, options: dict[str, Any], steps: int, gap: float) -> None:
    r = minimize(quadratic, [0.0, 0.0], name, max_steps=steps, gtol=1e-10, **options)
    assert r.loss - F_STAR < gap, (r.loss, r.message)
    assert r.x == pytest.approx([0.8, -1.4], abs=1e-6)
    assert r.steps <= steps


@pytest.mark.parametrize(
    ("name", "options", "steps", "gap"), ROSENBROCK, ids=[q[0] for q in ROSENBROCK]
)
def test_rosenbrock(name: str, options: dict[str, Any], steps: int, gap: float) -> None:
    r = minimize(
        rosenbrock, [-1.2, 1.0], name, max_steps=steps, gtol=1e-12, record_every=1000, **options
    )
    assert r.loss < gap, (r.loss, r.message)
    assert r.steps <= steps
    assert r.history["loss"][0] == pytest.approx(24.2)  # where it started
