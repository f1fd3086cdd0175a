"""minimize(): a run that used up max_steps is told what to change, from its own course.

Each test follows the advice it gets and checks that it helps: the suggested
lr or max_steps is parsed from the message and run again.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

import pytest

import geograd.functional as F
from geograd import Tensor, minimize


def bowl(p: Tensor) -> Tensor:
    a, b = p[0], p[1]
    return (a - 1.0) * (a - 1.0) + 2.0 * ((b + 0.5) * (b + 0.5)) + 0.5 * (a * b)


def suggested(message: str, name: str) -> float:
    """The value of ``name`` the message suggests ("..., e.g. lr=0.01" / "to about 41")."""
    found = re.search(rf"{name}(?:=| to about )([0-9.e+-]+?)\.?$", message)
    assert found is not None, message
    return float(found.group(1))


# 50 points around (2, 0), two units from x0 = (0, 0); f is the mean squared distance,
# minimal at their centroid
_rng = random.Random(0)
POINTS = [(2.0 + _rng.gauss(0.0, 0.3), _rng.gauss(0.0, 0.3)) for _ in range(50)]
CENTROID = [sum(p[0] for p in POINTS) / 50, sum(p[1] for p in POINTS) / 50]


def mean_squared_distance(x: Tensor) -> Tensor:
    total = (x[0] - POINTS[0][0]) ** 2.0 + (x[1] - POINTS[0][1]) ** 2.0
    for a, b in POINTS[1:]:
        total = total + (x[0] - a) ** 2.0 + (x[1] - b) ** 2.0
    return total / 50.0


def test_adam_at_lr_1e_3_on_an_easy_problem_names_lr_as_the_limit() -> None:
    """Adam at lr 1e-3 (once minimize's default) moves a coordinate ~1e-3 per step: 1000
    steps cover ~1 of 2."""
    r: Any = minimize(mean_squared_distance, [0.0, 0.0], "adam", lr=1e-3)
    assert r.optimizer == "adam" and r.reason == "max_steps" and r.steps == 1000
    assert math.dist(r.x, CENTROID) > 1.0  # stopped far short
    assert "the learning rate was the limit" in r.message
    assert "raise lr, e.g. lr=0.01." in r.message and "raise max_steps" not in r.message
    lr = suggested(r.message, "lr")
    assert lr == 0.01
    better: Any = minimize(mean_squared_distance, [0.0, 0.0], "adam", lr=lr)
    assert math.dist(better.x, CENTROID) < 1e-5


def test_sgd_far_below_its_stability_limit_is_told_to_raise_lr() -> None:
    r = minimize(bowl, [0.0, 0.0], "sgd", lr=1e-4)
    assert r.reason == "max_steps"
    assert "the learning rate was the limit" in r.message
    assert "far below SGD's stability limit 2" in r.message
    lr = suggested(r.message, "lr")
    assert lr == pytest.approx(1e-3)
    better = minimize(bowl, [0.0, 0.0], "sgd", lr=lr)
    assert better.loss < r.loss - 1.0  # bowl: from 0.87 to -0.27 (the minimum is -0.31)


def test_steady_convergence_is_told_how_many_steps_it_needs() -> None:
    """The gradient falls geometrically: the estimate of the steps to gtol is right."""
    r = minimize(bowl, [0.0, 0.0], "sgd", lr=0.2, max_steps=30)
    assert r.reason == "max_steps"
    assert "the gradient norm is falling steadily" in r.message
    assert "raise max_steps to about" in r.message and "lr=" not in r.message
    steps = int(suggested(r.message, "max_steps"))
    assert 30 < steps < 60
    enough = minimize(bowl, [0.0, 0.0], "sgd", lr=0.2, max_steps=steps)
    assert enough.reason == "gtol" and enough.steps >= 0.9 * steps


def test_oscillation_is_told_to_lower_lr() -> None:
    """Adam on |x| with lr 0.1 bounces around 0 with steps of ~lr: the loss goes up and down."""
    r = minimize(F.abs, 1.0, "adam", lr=0.1)
    assert r.reason == "max_steps"
    assert "went up and down" in r.message and "the steps overshoot" in r.message
    lr = suggested(r.message, "lr")
    assert lr == pytest.approx(0.01)
    assert minimize(F.abs, 1.0, "adam", lr=lr).loss < r.loss / 3


def test_steps_at_the_stability_limit_are_told_to_lower_lr() -> None:
    """SGD with lr·f'' = 2 on x²: x flips between 1 and -1, the loss stays 1."""
    r = minimize(lambda x: x * x, 1.0, "sgd", lr=1.0, max_steps=10)
    assert r.reason == "max_steps" and r.loss == r.start_loss == 1.0
    assert "at or beyond SGD's stability limit 2" in r.message
    assert r.message.endswith("lower lr, e.g. lr=0.1.")


def test_a_run_that_ends_worse_than_it_started_is_told_to_lower_lr() -> None:
    r = minimize(lambda x: x * x, 1.0, "sgd", lr=1.05, max_steps=10)  # |x| grows 1.1× a step
    assert r.reason == "max_steps" and r.start_loss == 1.0 and r.loss > 6.0
    assert "the loss rose from 1 at x0 to 6.7275" in r.message
    assert r.message.endswith("lower lr, e.g. lr=0.105.")
