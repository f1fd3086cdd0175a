"""Solving the median with geograd.minimize: defaults, every optimizer, special cases."""

from __future__ import annotations

import json
import math
import random

import pytest

from geograd import Tensor, minimize
from geograd.optim import Adam, available_optimizers
from geograd.problems import get_problem
from geograd.problems.median import LR_IN_LENGTHS, GeometricMedian

OURS = ("gd", "sgd", "momentum", "nag", "adam", "adamw", "adamax", "rmsprop", "adagrad")


@pytest.fixture(scope="module")
def seed5() -> GeometricMedian:
    p = get_problem("median")
    assert isinstance(p, GeometricMedian)
    return p


def test_default_solve_reaches_the_reference(seed5: GeometricMedian) -> None:
    ref = seed5.reference()
    res = seed5.solve()
    assert res.optimizer == "gd"
    assert res.converged, res.message
    assert math.dist(res.x, ref.x) < 1e-6
    assert res.loss - ref.loss < 1e-13
    assert res.evaluations < 100
    report = seed5.assess(res.x)
    assert report["distance"] < 1e-6 and report["certificate"]["value"] < 1e-7


def test_solver_defaults_drive_minimize_directly(seed5: GeometricMedian) -> None:
    settings = seed5.solver_defaults()
    assert settings["optimizer"] == "gd"
    res = minimize(seed5.loss, seed5.x0, **settings)
    again = seed5.solve()
    assert res.x == again.x and res.steps == again.steps


@pytest.mark.parametrize("name", OURS)
def test_every_optimizer_agrees_with_weiszfeld_and_scipy(seed5: GeometricMedian, name: str) -> None:
    assert name in available_optimizers()
    ref = seed5.reference()
    res = seed5.solve(name)
    assert res.converged, res.message
    assert math.dist(res.x, ref.x) < 1e-6, (name, res.x)
    assert res.loss == pytest.approx(ref.loss, abs=1e-13)
    assert res.x == pytest.approx([0.48326, 0.49056], abs=5e-6)
    bfgs = seed5.baselines(["BFGS"], options={"BFGS": {"gtol": 1e-10}})[0]
    assert math.dist(res.x, bfgs.x) < 1e-6


def test_tuned_learning_rates_cover_our_optimizers() -> None:
    assert set(LR_IN_LENGTHS) | {"gd"} == set(OURS)
    assert set(OURS) <= set(available_optimizers())


@pytest.mark.parametrize(
    "options",
    [
        {"distribution": "gaussian"},
        {"distribution": "clustered"},
        {"distribution": "outliers"},
        {"weights": "random"},
        {"dim": 3},
        {"dim": 10, "n": 300},
        {"n": 10},
        {"n": 10_000, "seed": 1},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_default_solve_on_other_data(options: dict[str, object]) -> None:
    p = get_problem("median", **options)
    res = p.solve()
    assert res.converged, res.message
    assert math.dist(res.x, p.reference().x) < 1e-6 * p.scale
    assert res.loss - p.reference().loss < 1e-12 * p.length


def test_defaults_do_not_depend_on_units(seed5: GeometricMedian) -> None:
    for factor, offset in [(1e6, 0.0), (1e-6, 0.0), (1.0, 1e3)]:
        p = GeometricMedian.from_points(
            [(factor * x + offset, factor * y) for x, y in seed5.points]
        )
        res = p.solve()
        assert res.converged, res.message
        assert math.dist(res.x, p.reference().x) < 1e-6 * p.scale
        assert p.solver_defaults()["lr"] == pytest.approx(factor * seed5.solver_defaults()["lr"])


def test_solve_overrides(seed5: GeometricMedian) -> None:
    res = seed5.solve(max_steps=3)
    assert res.steps == 3 and res.reason == "max_steps"
    res = seed5.solve("adam", lr=0.05, max_steps=5, x0=[0.9, 0.1])
    assert res.history["x"][0] == [0.9, 0.1]
    assert res.history["lr"][0] == pytest.approx(0.05)
    # an optimizer instance keeps only the loop settings
    x = Tensor([0.2, 0.8])
    res = seed5.solve(Adam([x], lr=0.01), max_steps=10)
    assert res.steps == 10 and res.history["x"][0] == [0.2, 0.8]
    y = Tensor([0.2, 0.8])
    res = seed5.solve(Adam([y], lr=0.01), x0=[0.9, 0.1], max_steps=2)
    assert res.history["x"][0] == [0.9, 0.1] and y.tolist() == res.x
    # a class gets the loop settings and whatever is passed
    res = seed5.solve(Adam, lr=0.01, max_steps=4)
    assert res.steps == 4 and res.optimizer == "Adam"


# ------------------------------------------------------------------------ special cases


def _solve(p: GeometricMedian) -> list[float]:
    res = p.solve()
    assert res.converged, res.message
    assert isinstance(res.x, list)
    return res.x


def test_collinear_solve() -> None:
    p = GeometricMedian.from_points([(t, 2 * t + 1) for t in [0.0, 1.0, 2.0, 5.0, 9.0]])
    x = _solve(p)
    assert math.dist(x, [2.0, 5.0]) < 1e-9
    assert p.certificate(x)["optimal"] is True


def test_even_collinear_has_many_medians() -> None:
    # any point between the two middle ones is optimal: compare objective values only
    p = GeometricMedian.from_points([(0.0, 0.0), (1.0, 1.0), (3.0, 3.0), (4.0, 4.0)])
    res = p.solve(x0=[0.0, 0.0])
    assert res.loss == pytest.approx(p.reference().loss, abs=1e-9)
    assert 1.0 - 1e-9 <= res.x[0] <= 3.0 + 1e-9


def test_one_point_solve() -> None:
    p = GeometricMedian.from_points([(0.3, 0.7)], x0=[5.0, -2.0])
    x = _solve(p)
    assert math.dist(x, [0.3, 0.7]) < 1e-9


def test_duplicates_and_dominant_weight_solve() -> None:
    p = GeometricMedian.from_points([(0, 0), (0, 0), (0, 0), (1, 0), (0, 1)])
    x = _solve(p)
    assert math.dist(x, [0.0, 0.0]) < 1e-9
    assert p.certificate(x)["optimal"] is True
    r = random.Random(3)
    pts = [(r.random(), r.random()) for _ in range(20)]
    w = [r.uniform(0.5, 2.0) for _ in range(20)]
    w[7] = math.fsum(w[:7] + w[8:])
    q = GeometricMedian.from_points(pts, w)
    x = _solve(q)
    assert math.dist(x, pts[7]) < 1e-9
    cert = q.certificate(x)
    assert cert["kind"] == "data_point" and cert["optimal"] is True


def test_triangles_solve() -> None:
    tri = GeometricMedian.from_points([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)])
    exact = (3 - math.sqrt(3)) / 6
    assert math.dist(_solve(tri), [exact, exact]) < 1e-7
    for angle in (135.0, 161.0):
        t = math.radians(angle)
        obtuse = GeometricMedian.from_points([(0, 0), (1, 0), (2 * math.cos(t), 2 * math.sin(t))])
        x = _solve(obtuse)
        assert math.dist(x, [0.0, 0.0]) < 1e-9
        assert obtuse.certificate(x)["optimal"] is True


def test_three_dimensional_solve() -> None:
    cube = [(i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    p = GeometricMedian.from_points(cube, x0=[0.1, 0.2, 0.9])
    assert math.dist(_solve(p), [0.5, 0.5, 0.5]) < 1e-7


@pytest.mark.parametrize("name", ["lbfgs", "newton", "trust-ncg"])
def test_second_order_methods_solve_the_median_with_its_defaults(name: str) -> None:
    from typer.testing import CliRunner

    from geograd.cli.app import app

    result = CliRunner().invoke(app, ["solve", "median", "--n", "1000", "--optimizer", name,
                                      "--json"])  # fmt: skip
    doc = json.loads(result.stdout)
    assert result.exit_code == 0, doc["findings"]
    assert doc["converged"] and doc["matches_reference"] and doc["steps"] <= 20
    assert doc["settings"].get("schedule") is None  # their steps carry their own scale
