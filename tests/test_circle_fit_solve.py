"""Solving the circle fit with geograd.minimize: defaults, every optimizer, other data, the CLI."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from geograd import minimize
from geograd.cli.app import app
from geograd.optim import available_optimizers
from geograd.problems import get_problem
from geograd.problems.circle_fit import ADAPTIVE, CircleFit

OURS = ("nag", "gd", "sgd", "momentum", "adam", "adamw", "adamax", "rmsprop", "adagrad")


@pytest.fixture(scope="module")
def default() -> CircleFit:
    p = get_problem("circle-fit")
    assert isinstance(p, CircleFit)
    return p


def test_default_solve_reaches_the_reference(default: CircleFit) -> None:
    ref = default.reference()
    res = default.solve()
    assert res.optimizer == "lbfgs"
    # gtol, or xtol: its line search found no decrease, L flat to rounding (measured)
    assert res.converged and res.reason in ("gtol", "xtol"), res.message
    assert math.dist(res.x, ref.x) < 1e-9  # measured 7.9e-10 (extent 1.8)
    assert abs(res.loss - ref.loss) <= 1e-14 * ref.loss
    assert res.steps < 50  # measured 11 (nag: 215)
    report = default.assess(res.x)
    assert report["distance"] < 1e-9 and report["certificate"]["local_minimum"] is True


def test_solver_defaults_drive_minimize_directly(default: CircleFit) -> None:
    settings = default.solver_defaults()
    assert settings["optimizer"] == "lbfgs" and settings["ftol"] is None
    assert settings["line_search_fn"] == "strong_wolfe" and settings["max_iter"] == 1
    nag = default.solver_defaults("nag")
    hi, lo = default.curvature()
    assert nag["lr"] == pytest.approx(1.0 / hi)
    root = math.sqrt(hi / lo)
    assert nag["momentum"] == pytest.approx((root - 1) / (root + 1))
    res = minimize(default.loss, default.x0, **settings)
    again = default.solve()
    # solve() runs the same settings on the unit copy of the data (centred, divided by a
    # power of two), so the two runs agree to rounding, not bit for bit.
    assert res.converged and again.converged
    assert math.dist(res.x, again.x) < 1e-9 * default.scale


@pytest.mark.parametrize("name", OURS)
def test_every_optimizer_reaches_the_reference(default: CircleFit, name: str) -> None:
    assert name in available_optimizers()
    ref = default.reference()
    res = default.solve(name)
    assert math.dist(res.x, ref.x) < 1e-8, (name, res.message)
    assert res.loss == pytest.approx(ref.loss, rel=1e-13)


def test_tuned_settings_cover_our_optimizers(default: CircleFit) -> None:
    assert set(ADAPTIVE) | {"nag", "gd", "sgd", "momentum"} == set(OURS)
    for name in OURS:
        settings = default.solver_defaults(name)
        assert settings["optimizer"] == name and settings["lr"] > 0
    assert default.solver_defaults("adamw")["weight_decay"] == 0.0
    assert default.solver_defaults("nag", max_steps=7)["max_steps"] == 7


@pytest.mark.parametrize(
    "options",
    [
        {"arc": 360.0},
        {"arc": 180.0, "noise": 0.2},
        {"arc": 60.0, "seed": 1},
        {"n": 1000},
        {"n": 10, "seed": 3},
        {"init": "kasa", "arc": 90.0, "noise": 0.1},
        {"init": "taubin"},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_default_solve_on_other_data(options: dict[str, object]) -> None:
    p = get_problem("circle-fit", **options)
    assert isinstance(p, CircleFit)
    res = p.solve()
    assert res.converged, res.message
    assert math.dist(res.x, p.reference().x) < 1e-9 * p.scale
    assert res.loss - p.reference().loss <= 1e-13 * p.reference().loss


def test_noiseless_data_needs_no_steps() -> None:
    p = get_problem("circle-fit", noise=0.0)
    res = p.solve()
    assert res.converged and res.steps == 0
    assert res.x == pytest.approx([0.0, 0.0, 1.0], abs=1e-12)


def test_defaults_do_not_depend_on_units(default: CircleFit) -> None:
    base = default.solve()
    for factor, shift in [(1e3, 0.0), (1e-3, 0.0), (1.0, 1e3)]:
        p = CircleFit.from_points(
            [(factor * x + shift, factor * y - shift) for x, y in zip(default.xs, default.ys)]
        )
        assert p.solver_defaults()["lr"] == pytest.approx(default.solver_defaults()["lr"])
        res = p.solve()
        assert res.converged, res.message
        assert math.dist(res.x, p.reference().x) < 1e-9 * p.scale
        assert abs(res.steps - base.steps) <= 0.1 * base.steps


def test_solve_overrides(default: CircleFit) -> None:
    res = default.solve(max_steps=3)
    assert res.steps == 3 and res.reason == "max_steps"
    res = default.solve("gd", max_steps=2, x0=[0.1, 0.2, 0.8])
    assert res.history["x"][0] == [0.1, 0.2, 0.8]


# ------------------------------------------------------------------------------------ CLI


def test_cli_solve_check_and_compare() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["solve", "circle-fit", "--json"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["converged"] and doc["matches_reference"] and doc["distance"] < 1e-9
    out = runner.invoke(app, ["check", "circle-fit", "--json"])
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["passed"] is True
    out = runner.invoke(app, ["compare", "circle-fit", "--optimizers", "nag,gd", "--json"])
    assert out.exit_code == 0, out.stderr
    runs = {r["method"]: r for r in json.loads(out.stdout)["runs"]}
    assert runs["nag"]["distance"] < 1e-9 and runs["BFGS"]["distance"] < 1e-5
    bad = runner.invoke(app, ["solve", "circle-fit", "--arc", "0"])
    assert bad.exit_code == 2 and "--arc must be" in bad.stderr
