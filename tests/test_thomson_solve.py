"""Solving the Thomson problem: the default solve, every optimizer, restarts, the retraction.
(The solver reaching every energy of the table: test_thomson_table.py.)"""

from __future__ import annotations

import math

import pytest

from geograd import Tensor, minimize
from geograd.errors import InputError
from geograd.optim import NAG, available_optimizers
from geograd.problems import get_problem
from geograd.problems.thomson import ADAPTIVE, KNOWN_ENERGIES, TABLE_TOL, Thomson, normalise

OURS = ("gd", "sgd", "momentum", "nag", "adam", "adamw", "adamax", "rmsprop", "adagrad")


def radii(x: list[float]) -> list[float]:
    return [math.hypot(*x[i : i + 3]) for i in range(0, len(x), 3)]


@pytest.fixture(scope="module")
def twelve() -> Thomson:
    p = get_problem("thomson")
    assert isinstance(p, Thomson)
    return p


def test_default_solve_reaches_the_icosahedron(twelve: Thomson) -> None:
    res = twelve.solve()
    ref = twelve.reference()
    assert res.optimizer == "trust-ncg"
    assert res.converged and res.reason == "gtol", res.message
    assert abs(res.loss - KNOWN_ENERGIES[12]) <= TABLE_TOL
    assert abs(res.loss - ref.loss) < 1e-12
    assert math.dist(res.x, ref.x) < 1e-7  # aligned onto the reference configuration
    assert res.steps < 50  # measured 16 (nag: 252)
    assert twelve.certificate(res.x)["value"] <= 1e-9


def test_solver_defaults_drive_minimize_directly(twelve: Thomson) -> None:
    settings = twelve.solver_defaults()
    assert settings["optimizer"] == "trust-ncg" and settings["lr"] == 0.01
    nag = twelve.solver_defaults("nag")
    assert nag["momentum"] == 0.95
    assert nag["lr"] == pytest.approx(1.0 / (0.2 * 12**1.5 + 1.0))
    res = minimize(twelve.loss, twelve.x0, project=twelve.projection(), **settings)
    again = twelve.solve(canonical=False)
    assert res.x == again.x and res.steps == again.steps


def test_the_solution_is_aligned_path_and_all(twelve: Thomson) -> None:
    res = twelve.solve()
    raw = twelve.solve(canonical=False)
    assert raw.loss == res.loss and raw.steps == res.steps
    assert math.dist(raw.x, twelve.reference().x) > 0.1  # the optimizer's own frame
    assert res.history["x"][-1] == pytest.approx(res.x, abs=1e-14)
    assert res.history["loss"] == raw.history["loss"]
    for before, after in zip(raw.history["x"][::50], res.history["x"][::50]):
        assert twelve.objective(after) == pytest.approx(twelve.objective(before), abs=1e-11)
    assert radii(res.best_x) == pytest.approx([1.0] * 12, abs=1e-14)


@pytest.mark.parametrize("name", OURS)
def test_every_optimizer_reaches_the_octahedron(name: str) -> None:
    assert name in available_optimizers()
    p = Thomson(n=6)
    res = p.solve(name)
    assert res.reason in ("gtol", "max_steps"), res.message
    assert abs(res.loss - p.reference().loss) < 1e-10, name  # the exact 12/√2 + 3/2
    assert abs(res.loss - KNOWN_ENERGIES[6]) <= TABLE_TOL
    assert math.dist(res.x, p.reference().x) < 1e-5, name


def test_tuned_settings_cover_our_optimizers() -> None:
    assert set(ADAPTIVE) | {"gd", "sgd", "momentum", "nag"} == set(OURS)
    p = Thomson(n=20)
    for name in OURS:
        s = p.solver_defaults(name)
        assert s["optimizer"] == name and s["gtol"] == 1e-9
    assert p.solver_defaults("gd")["c1"] == 0.5
    assert p.solver_defaults("adam", max_steps=100)["max_steps"] == 100
    assert "schedule" not in p.solver_defaults("adagrad")


def test_retraction_keeps_the_charges_on_the_sphere() -> None:
    p = Thomson(n=20)
    with_it = p.solve("gd", max_steps=300, canonical=False)
    assert radii(with_it.x) == pytest.approx([1.0] * 20, abs=1e-14)
    without = p.solve("gd", max_steps=300, canonical=False, project=False)
    assert max(radii(without.x)) > 1.5  # tangential steps lengthen x_i: they freeze
    assert with_it.loss < without.loss
    assert without.loss == pytest.approx(p.objective(without.x), abs=1e-12)


def test_restarts_keep_the_lowest_energy() -> None:
    p = Thomson(n=16, seed=1)
    # seed 1's first two starts fall into a local minimum, the third does not
    one = p.solve("trust-ncg", restarts=1)
    assert one.loss == pytest.approx(92.920353962, abs=1e-8)  # a local minimum
    two = p.solve("trust-ncg", restarts=3)
    assert abs(two.loss - KNOWN_ENERGIES[16]) <= TABLE_TOL
    assert two.steps > one.steps and two.evaluations > one.evaluations
    assert "Best of 3 starts (of 3): start 2" in two.message
    assert "92.920353962" in two.message
    assert math.dist(two.x, p.reference().x) < 1e-6
    by_option = Thomson(n=4, restarts=2).solve()  # the option gives the default
    assert "Best of 2 starts (of 2)" in by_option.message


def test_restarts_start_from_x0_then_seeded_configurations() -> None:
    p = Thomson(n=5, seed=9)
    seen: list[list[float]] = []
    for k, start in enumerate(p.starts(3, x0=[1.0, 0.0, 0.0] * 5)):
        seen.append(start)
        if k == 0:
            assert start == [1.0, 0.0, 0.0] * 5
    assert seen[1:] == p.starts(3)[1:]


def test_interrupt_stops_the_restarts() -> None:
    p = Thomson(n=8)
    res = p.solve(restarts=3, callback=lambda progress: progress.step >= 5)
    assert res.reason == "interrupted" and not res.converged
    assert res.steps == 5 and "Best of 1 start (of 3)" in res.message


def test_overrides_instances_and_classes() -> None:
    p = Thomson(n=4)
    res = p.solve(max_steps=3, canonical=False)
    assert res.steps == 3 and res.reason == "max_steps"
    start = normalise([1, 0, 0, 0, 1, 0, 0, 0, 1, -1, -1, -1])
    res = p.solve("gd", x0=start, max_steps=2, canonical=False)
    assert res.history["x"][0] == pytest.approx(start)
    x = Tensor(p.x0)
    res = p.solve(NAG([x], lr=0.05), max_steps=2000)
    assert abs(res.loss - KNOWN_ENERGIES[4]) <= TABLE_TOL and res.optimizer == "NAG"
    res = p.solve(NAG, lr=0.05, momentum=0.9, max_steps=2000)
    assert abs(res.loss - KNOWN_ENERGIES[4]) <= TABLE_TOL
    with pytest.raises(InputError, match="restarts need an optimizer name or class"):
        p.solve(NAG([Tensor(p.x0)], lr=0.05), restarts=2)
    with pytest.raises(InputError, match="--restarts must be an integer >= 1, got 0"):
        p.solve(restarts=0)


def test_first_order_optimizers_step_on_the_spheres_themselves() -> None:
    # Thomson declares its manifold (N unit spheres): adam steps Riemannian-style on it,
    # every iterate on the spheres without a projection; trust-ncg (no manifold steps)
    # takes its steps in R^3N and is projected after each.
    p = Thomson(n=6)
    assert p.manifold().spec == "spheres(6,3)"
    res = p.solve("adam", canonical=False)
    assert abs(res.loss - KNOWN_ENERGIES[6]) <= 1e-6
    for x in res.history["x"]:
        assert radii(x) == pytest.approx([1.0] * 6, abs=1e-12)
    assert p.solve("trust-ncg", canonical=False).loss == pytest.approx(KNOWN_ENERGIES[6], abs=1e-9)
