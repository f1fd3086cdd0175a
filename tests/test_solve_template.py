"""The one solve template (``Problem._solve``): each hook, with its identity default, on
small problems declared as a plugin would declare them."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

import geograd.functional as F
from geograd import Tensor, minimize
from geograd.errors import InputError
from geograd.problems.base import Option, Problem, Reference
from geograd.problems.continuation import Stage
from geograd.solve import BestOf


class Bowl(Problem):
    """Σ (x_j - j)²: no hook declared."""

    name = "template-bowl"
    description = "a bowl"
    options = (Option("dim", int, 3, "parameters", min=1),)

    def setup(self) -> None:
        self.target = [float(j) for j in range(self.settings["dim"])]

    @property
    def dim(self) -> int:
        return int(self.settings["dim"])

    def loss(self, x: Tensor) -> Tensor:
        d = x - Tensor(self.target)
        return F.dot(d, d)

    def gradient(self, x: Sequence[float]) -> list[float]:
        return [2.0 * (a - b) for a, b in zip(x, self.target)]

    def compute_reference(self) -> Reference:
        return Reference(list(self.target), 0.0, "closed form", {})


def test_without_hooks_the_solve_is_minimize_with_the_defaults() -> None:
    p = Bowl()
    res = p.solve()
    plain = minimize(p.loss, p.x0, **p.solver_defaults())
    assert res.x == plain.x and res.steps == plain.steps and res.loss == plain.loss
    with pytest.raises(InputError, match="restarts need random starts"):
        p.solve(restarts=2)


class Stretched(Bowl):
    """The bowl solved in coordinates z = x / 1000 (a badly scaled parametrisation, to
    see that the map is used both ways)."""

    name = "template-stretched"

    def to_solver(self, x: Sequence[float]) -> list[float]:
        return [v / 1000.0 for v in x]

    def from_solver(self, z: Any) -> Any:
        return [1000.0 * v for v in z]

    def solver_loss(self, z: Tensor) -> Tensor:
        return self.loss(z * 1000.0)


def test_the_solver_runs_in_its_coordinates_and_the_result_comes_back() -> None:
    p = Stretched()
    seen: list[Any] = []
    res = p.solve("lbfgs", callback=lambda progress: seen.append(progress.x))
    assert res.x == pytest.approx([0.0, 1.0, 2.0], abs=1e-6)
    assert res.history["x"][-1] == res.x and res.best_x == pytest.approx(res.x)
    assert seen and seen[-1] == pytest.approx(res.x)  # the callback sees x, not z
    raw = p.solve("lbfgs", reparametrise=False)  # on loss(x) itself
    assert raw.x == pytest.approx(res.x, abs=1e-6)


class Circle(Problem):
    """(x, y) on the unit circle nearest to the direction (1, 1), with a loss invariant
    along rays (it normalises), restarts from seeded angles, and a canonical form that
    swaps x and y (a symmetry of the problem's data, for the test)."""

    name = "template-circle"
    description = "a direction"
    options = (Option("seed", int, 1, "seed"), Option("restarts", int, 1, "starts", min=1))

    def setup(self) -> None:
        pass

    @property
    def dim(self) -> int:
        return 2

    def default_x0(self) -> list[float]:
        return [-1.0, 0.2]

    def loss(self, x: Tensor) -> Tensor:
        r = F.hypot(x[0], x[1])
        return -(x[0] + x[1]) / r

    def gradient(self, x: Sequence[float]) -> list[float]:
        r = math.hypot(*x)
        s = x[0] + x[1]
        return [-(1.0 / r) + s * x[0] / r**3, -(1.0 / r) + s * x[1] / r**3]

    def compute_reference(self) -> Reference:
        return Reference([math.sqrt(0.5)] * 2, -math.sqrt(2.0), "closed form", {})

    def projection(self) -> Callable[[list[float]], Sequence[float]]:
        return lambda v: [c / math.hypot(*v) for c in v]

    def restarts(self) -> int:
        return int(self.settings["restarts"])

    def start_points(self, count: int, first: Sequence[float]) -> Iterator[list[float]]:
        r = random.Random(self.settings["seed"])
        yield list(first)
        for _ in range(count - 1):
            a = r.uniform(0.0, 2.0 * math.pi)
            yield [2.0 * math.cos(a), 2.0 * math.sin(a)]

    def canonical_map(self, x: Sequence[float], *, compute: bool = True) -> Any:
        return lambda v: sorted(float(c) for c in v)


def test_the_projection_keeps_each_step_on_the_circle() -> None:
    res = Circle().solve("sgd", lr=0.3, max_steps=40, canonical=False)
    assert all(math.hypot(*v) == pytest.approx(1.0, abs=1e-15) for v in res.history["x"][1:])
    free = Circle().solve("sgd", lr=0.3, max_steps=40, canonical=False, project=False)
    assert math.hypot(*free.x) > 1.05  # tangential steps lengthen x without it


def test_restarts_keep_the_best_start_and_count_every_step() -> None:
    one = Circle().solve("sgd", lr=0.3, max_steps=5)
    three = Circle(restarts=3).solve("sgd", lr=0.3, max_steps=5)
    assert three.loss <= one.loss
    assert three.steps == 15 and three.message.startswith("Best of 3 starts (of 3)")
    assert Circle().solve("sgd", lr=0.3, max_steps=5, restarts=3).steps == 15
    with pytest.raises(InputError, match="restarts"):
        Circle().solve(restarts=0)


def test_the_canonical_form_maps_the_whole_run() -> None:
    raw = Circle().solve("sgd", lr=0.3, max_steps=40, canonical=False)
    res = Circle().solve("sgd", lr=0.3, max_steps=40)
    assert res.x == sorted(raw.x) and res.best_x == sorted(raw.best_x)
    assert res.history["x"] == [sorted(v) for v in raw.history["x"]]
    assert res.history["loss"] == raw.history["loss"]


class Smoothed(Bowl):
    """The bowl reached through two stages: a wide bowl first, then the true one."""

    name = "template-smoothed"
    stage_key = "width"

    def stages(self, optimizer: str | None, total: int, overrides: dict[str, Any]) -> list[Any]:
        name = optimizer or "gd"
        wide = lambda x: self.loss(x) / 100.0  # noqa: E731
        return [
            Stage(wide, {"optimizer": name, "max_steps": total, "gtol": 1e-6}, "wide", 100.0),
            Stage(self.loss, {"optimizer": name, "max_steps": total, "gtol": 1e-10}, "true", 1.0),
        ]


def test_a_continuation_chains_its_stages_into_one_result() -> None:
    steps: list[int] = []
    res = Smoothed().solve(callback=lambda progress: steps.append(progress.step))
    assert res.converged and res.x == pytest.approx([0.0, 1.0, 2.0], abs=1e-6)
    widths = res.history["width"]
    assert widths[0] == 100.0 and widths[-1] == 1.0 and set(widths) == {100.0, 1.0}
    assert res.history["step"] == sorted(set(res.history["step"]))  # one numbering
    assert steps == list(range(1, res.steps + 1))  # the callback counts the whole solve
    assert "continuation over 2 stages (wide to true)" in res.message
    assert all(v == pytest.approx(Smoothed().objective(x)) for v, x in
               zip(res.history["loss"], res.history["x"]))  # fmt: skip
    short = Smoothed().solve(max_steps=1)
    assert short.reason == "max_steps" and "ran out before the last stage" in short.message


def test_best_of_keeps_the_best_and_marks_an_interrupted_last_run() -> None:
    runs = BestOf()
    a = Bowl().solve("sgd", lr=0.01, max_steps=1)  # one short step: worse than b
    b = Bowl().solve()
    runs.add(a)
    runs.add(b)
    runs.add(a.restated("interrupted"))
    out = runs.result(5)
    assert out.loss == b.loss and out.reason == "interrupted" and not out.converged
    assert out.steps == 2 * a.steps + b.steps
    assert "Best of 3 starts (of 5): start 1" in out.message
