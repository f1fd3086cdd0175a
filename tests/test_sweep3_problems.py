"""Sweep 3's defects in the catalogue: the spherical median's default start at a stationary
point that is not the median (the README's three medians) and a certificate that said no
more than a gradient norm there; the longitude printed at a pole; continuation problems
(enclosing-circle, tammes) whose Result had no gradient and no options.

Each expectation is computed here independently (the normalised mean, finite differences
along great circles, the engine's gradient of the stage's own loss), not copied from the
code under test."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd import Tensor, value_and_grad
from geograd.cli.app import app
from geograd.problems import get_problem
from geograd.problems.base import LOOP_SETTINGS
from geograd.problems.spherical_median import SphericalMedian, angle, exp_map, from_latlon
from geograd.problems.thomson import normalise

runner = CliRunner()

#: The README's example of a median that is not unique: three points 120° apart at
#: latitude 5°, whose medians are the three points; the pole is their normalised mean.
TRI = [[5.0, 0.0], [5.0, 120.0], [5.0, 240.0]]
POLE = [0.0, 0.0, 1.0]


def mean_direction(rows: list[list[float]]) -> list[float]:
    """The normalised (unweighted) mean of unit vectors."""
    return normalise([math.fsum(p[j] for p in rows) for j in range(3)])


def riemannian_gradient(p: SphericalMedian, x: list[float], loss: Any = None) -> list[float]:
    """The engine's gradient of ``loss`` (default the problem's) at unit x, its tangent part."""
    _, g = value_and_grad(loss or p.loss)(Tensor(x))
    gl = g.tolist()
    radial = sum(a * b for a, b in zip(gl, x))
    return [a - radial * b for a, b in zip(gl, x)]


def tangent_basis(x: list[float]) -> tuple[list[float], list[float]]:
    """Two orthonormal tangent vectors at unit x (Gram-Schmidt from the coordinate axes)."""
    out: list[list[float]] = []
    for axis in ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]):
        v = list(axis)
        for b in [x, *out]:
            d = sum(a * c for a, c in zip(v, b))
            v = [a - d * c for a, c in zip(v, b)]
        if math.hypot(*v) > 0.5:
            out.append(normalise(v))
        if len(out) == 2:
            break
    return out[0], out[1]


def second_derivative(p: SphericalMedian, x: list[float], v: list[float], h: float = 1e-4) -> float:
    """d²/dt² f(Exp_x(t v)) at t = 0 by central differences: along a geodesic, the
    Riemannian Hessian's quadratic form."""
    f = p.objective
    plus, minus = exp_map(x, [h * a for a in v]), exp_map(x, [-h * a for a in v])
    return (f(plus) - 2.0 * f(x) + f(minus)) / (h * h)


def smallest_hessian_eigenvalue_fd(p: SphericalMedian, x: list[float]) -> float:
    """The Riemannian Hessian's smallest eigenvalue from finite differences: its 2×2 matrix
    in a tangent basis (q(e1), q(e2), and q((e1 + e2)/√2) for the off-diagonal entry)."""
    e1, e2 = tangent_basis(x)
    d = normalise([a + b for a, b in zip(e1, e2)])
    h11, h22 = second_derivative(p, x, e1), second_derivative(p, x, e2)
    h12 = second_derivative(p, x, d) - (h11 + h22) / 2.0
    return (h11 + h22) / 2.0 - math.hypot((h11 - h22) / 2.0, h12)


# ------------------------------------------------ A: the default start and the certificate


def test_the_three_medians_example_starts_off_the_stationary_pole_and_matches() -> None:
    """The pole, the normalised mean, is stationary (gradient at rounding) and a local
    minimum 0.096 above the medians: the default solve used to stop there, "converged",
    and not match. It now starts at the best of the mean and the data points."""
    pytest.importorskip("numpy")  # the reference
    p = SphericalMedian.from_points(TRI)
    mean = mean_direction(p.points)
    assert angle(mean, POLE) < 1e-12
    assert math.hypot(*riemannian_gradient(p, mean)) < 1e-12  # stationary: gd cannot leave
    candidates = [mean, *p.points]  # the medians tie: any of them, to rounding
    assert p.objective(p.x0) <= min(p.objective(c) for c in candidates) * (1.0 + 1e-12)
    result = p.solve()
    judged = p.assess(result.x)
    assert judged["matches"] is True, judged["match"]
    assert result.converged
    assert result.loss < p.objective(mean)
    assert result.loss <= p.reference().loss * (1.0 + 1e-15)


def test_cli_solves_the_three_medians_file_and_matches(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    tri = tmp_path / "tri.csv"
    tri.write_text("lat,lon\n5,0\n5,120\n5,240\n")
    result = runner.invoke(app, ["solve", "spherical-median", "--points", str(tri), "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    doc = json.loads(result.stdout)
    assert doc["matches_reference"] is True and doc["converged"] is True


def test_a_stationary_mean_that_is_the_median_stays_the_start() -> None:
    """Points symmetric about the pole and near it (latitude 60°): the mean direction is
    stationary too, but the median; no data point beats it, and the solve keeps it."""
    pytest.importorskip("numpy")
    p = SphericalMedian.from_points([[60.0, 0.0], [60.0, 120.0], [60.0, 240.0]])
    mean = mean_direction(p.points)
    assert math.hypot(*riemannian_gradient(p, mean)) < 1e-12
    assert p.x0 == pytest.approx(mean, abs=1e-15)
    result = p.solve()
    assert result.converged and p.assess(result.x)["matches"] is True


@pytest.mark.parametrize("distribution", ["cluster", "cluster-with-outliers", "hemisphere"])
def test_an_ordinary_mean_direction_is_still_the_default_start(distribution: str) -> None:
    """Where the mean direction is not stationary, the start is the normalised mean as
    before (the data points are not tried: that would cost more than the solve)."""
    p = get_problem("spherical-median", n=300, seed=2, distribution=distribution)
    assert isinstance(p, SphericalMedian)
    mean = mean_direction(p.points)
    assert math.hypot(*riemannian_gradient(p, mean)) > 1e-4
    assert p.x0 == pytest.approx(mean, abs=1e-15)


def test_a_start_on_a_median_data_point_converges_there() -> None:
    """On a data point that passes the vertex test, gd's steepest descent along the loss's
    gradient (the kink's zero subgradient: the pull of the others) found no decrease and
    stalled, "not converged", at the answer. The solver's gradient there is the least
    subgradient, 0: converged at once."""
    p = SphericalMedian.from_points(TRI)
    for k in range(3):
        result = p.solve(x0=p.points[k])
        assert result.converged, result.message
        assert result.steps == 0 and list(result.x) == p.points[k]
        assert "locally optimal" in p.certificate(result.x)["summary"]


def test_the_solver_gradient_at_a_data_point_is_the_steepest_descent() -> None:
    """At a data point that fails the vertex test (the axes: pull √2 > weight 1) the
    solver's gradient g is the least subgradient, so f falls along −g at exactly the rate
    ||g|| (a one-sided difference along the great circle); the value is the loss's, and
    away from the data the gradient is the loss's."""
    p = SphericalMedian.from_points([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    x = [1.0, 0.0, 0.0]
    g = riemannian_gradient(p, x, p.solver_loss)
    size = math.hypot(*g)
    assert size > 0.0
    assert p.solver_loss(Tensor(x)).item() == p.loss(Tensor(x)).item()
    t = 1e-7
    step = exp_map(x, [-t * a / size for a in g])
    slope = (p.objective(step) - p.objective(x)) / t
    assert slope == pytest.approx(-size, rel=1e-5)
    # the loss's own gradient (the zero element of the kink's term) overstates that rate
    assert math.hypot(*riemannian_gradient(p, x)) > 1.5 * size
    off = normalise([0.9, 0.3, 0.2])
    assert riemannian_gradient(p, off, p.solver_loss) == riemannian_gradient(p, off)
    assert p.solver_loss(Tensor(off)).item() == p.loss(Tensor(off)).item()


def test_the_certificate_at_the_pole_says_stationary_and_only_locally_minimal() -> None:
    """The pole of the three medians: stationary, a strict local minimum (the Hessian's
    smallest eigenvalue agrees with finite differences along great circles), and not
    certified globally."""
    p = SphericalMedian.from_points(TRI)
    cert = p.certificate(POLE)
    assert cert["optimal"] is None and cert["stationary"] is True
    assert cert["local_minimum"] is True
    assert cert["hessian_min_eigenvalue"] == pytest.approx(
        smallest_hessian_eigenvalue_fd(p, POLE), rel=1e-4
    )
    assert "stationary" in cert["summary"] and "strict local minimum" in cert["summary"]
    assert "global: not known" in cert["summary"]


def test_the_certificate_off_a_minimum_says_not_stationary_and_its_curvature() -> None:
    p = get_problem("spherical-median", n=60, seed=3, distribution="hemisphere")
    assert isinstance(p, SphericalMedian)
    for x in (normalise([0.3, -0.2, 0.9]), normalise([-0.5, 0.4, 0.2])):
        if min(angle(x, a) for a in p.points) <= 1e-3:
            continue  # the vertex test's neighbourhood
        cert = p.certificate(x)
        assert cert["stationary"] is False and cert["local_minimum"] is False
        assert "not stationary" in cert["summary"]
        assert cert["hessian_min_eigenvalue"] == pytest.approx(
            smallest_hessian_eigenvalue_fd(p, x), rel=1e-4, abs=1e-6
        )


def test_the_certificate_at_a_generated_median_is_a_local_minimum() -> None:
    p = get_problem("spherical-median", n=200)
    result = p.solve()
    cert = p.certificate(result.x)
    assert cert["kind"] == "gradient_norm" and cert["local_minimum"] is True
    assert "global: not known" not in cert["summary"]  # the median is unique here
    assert p.uniqueness()[0] is True


# ----------------------------------------------------------------- B: longitude at a pole


@pytest.mark.parametrize("z", [1.0, -1.0])
def test_a_pole_has_no_longitude(z: float) -> None:
    p = SphericalMedian.from_points(TRI)
    for x in ([0.0, 0.0, z], [-8.5e-16, 1.3e-15, z]):  # the second: rounding noise in x, y
        comps = {c["name"]: c for c in p.components(x)}
        assert comps["latitude"]["value"] == math.copysign(90.0, z)
        lon = comps["longitude"]["value"]
        assert isinstance(lon, str) and "undefined" in lon
    near = from_latlon(89.9, 30.0)  # 0.1° off the pole: a longitude
    comps = {c["name"]: c for c in p.components(near)}
    assert comps["longitude"]["value"] == pytest.approx(30.0, abs=1e-9)


def test_cli_prints_an_undefined_longitude_at_the_pole(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    tri = tmp_path / "tri.csv"
    tri.write_text("lat,lon\n5,0\n5,120\n5,240\n")
    result = runner.invoke(
        app, ["solve", "spherical-median", "--points", str(tri), "--x0", "0,0,1"]
    )
    text = " ".join(result.stdout.split())
    assert "latitude=90 deg" in text and "longitude=undefined" in text
    assert "stationary" in text  # and the certificate says what it knows


# ------------------------------------------------ C: a continuation's gradient and options


def last_stage(problem: Any, result: Any, total: int) -> Any:
    """The stage of ``problem``'s plan for ``total`` steps that ran last in ``result``: the
    plan's last for a finished run, else the one its message names ("in stage 5 of 10").
    (Not the history's tag of the final iterate: a stage that converges at its start adds
    no row, so the final row keeps the tag of the stage that reached it.)"""
    plan = problem.stages(None, total, {})
    found = re.search(r"in stage (\d+) of (\d+)", result.message)
    if found is None:
        assert result.converged
        return plan[-1]
    assert int(found.group(2)) == len(plan)
    return plan[int(found.group(1)) - 1]


def assert_gradient_and_options(problem: Any, result: Any, total: int) -> None:
    """``grad`` (and ``jac``) is the gradient of the last stage's loss at the reported x,
    its norm the reported grad_norm; ``options`` hold that stage's optimizer settings."""
    stage = last_stage(problem, result, total)
    assert result.grad is not None and result.jac == result.grad
    _, g = value_and_grad(stage.loss)(Tensor(result.x))
    expected = g.tolist()
    scale = max(1e-300, max(abs(v) for v in expected))
    assert max(abs(a - b) for a, b in zip(result.grad, expected)) <= 1e-9 * scale
    assert math.hypot(*result.grad) == pytest.approx(result.grad_norm, rel=1e-12)
    own = {k: v for k, v in stage.settings.items() if k not in LOOP_SETTINGS and k != "optimizer"}
    assert own and all(result.options[k] == v for k, v in own.items())


def test_enclosing_circle_result_carries_the_last_stage_gradient_and_options() -> None:
    p = get_problem("enclosing-circle", n=50)
    result = p.solve()
    assert_gradient_and_options(p, result, p.stage_budget)
    assert result.to_dict()["grad"] == result.grad


def test_a_continuation_stopped_early_carries_the_gradient_of_the_stage_it_stopped_in() -> None:
    p = get_problem("enclosing-circle", n=50)
    result = p.solve(max_steps=5)
    assert result.reason == "max_steps"
    assert_gradient_and_options(p, result, 5)


def test_tammes_result_carries_the_last_stage_gradient_and_options() -> None:
    """As the stages left it (canonical=False): the canonical rotation the template applies
    afterwards moves x and not grad (see the next test)."""
    p = get_problem("tammes", n=8)
    result = p.solve(canonical=False)
    assert_gradient_and_options(p, result, p.stage_budget)


def test_a_gradient_that_a_canonical_map_would_leave_in_the_old_frame_is_not_reported() -> None:
    """tammes maps its result to a canonical rotation; x moves, and a gradient kept from
    before the map would be at another point: it is None (unknown), not stale."""
    p = get_problem("tammes", n=8)
    assert p.solve().grad is None
    raw = p.solve(canonical=False)  # no map: the last stage's gradient at x
    assert_gradient_and_options(p, raw, p.stage_budget)


@pytest.mark.parametrize("scale", [1.0, 1e6, 2.0**-30])
@pytest.mark.parametrize("name", ["median", "circle-fit"])  # objectives of power 1 and 2
def test_a_unit_frame_solve_reports_its_gradient_in_user_units(name: str, scale: float) -> None:
    """A Normalised problem solves in a unit frame (centred, divided by s = 2^k): its grad
    is mapped back by the chain rule (times s^(p-1)), and equals the problem's gradient at
    the reported x; it was the unit frame's."""
    cls = type(get_problem(name))
    pts = [[scale * a + 3e5 * scale, scale * b] for a, b in
           [(0.0, 0.0), (1.0, 0.2), (0.3, 1.1), (0.9, 0.8), (0.1, 0.6)]]  # fmt: skip
    p = cls.from_points(pts)
    r = p.solve(max_steps=2)  # stopped early: a gradient well away from 0
    assert r.grad is not None
    expected = p.gradient(r.x)
    # (to the rounding of x, 3e5 lengths off the origin: the gradient at the unit point)
    assert max(abs(a - b) for a, b in zip(r.grad, expected)) <= 1e-7 * max(map(abs, expected))
    assert math.hypot(*r.grad) == pytest.approx(r.grad_norm, rel=1e-12)
