"""Solving the minimum enclosing circle: the temperature continuation, its joined result,
overrides, other optimizers and data, and the CLI."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from geograd import Tensor, minimize
from geograd.cli.app import app
from geograd.optim import NAG, Adam
from geograd.problems import get_problem
from geograd.problems.enclosing_circle import EnclosingCircle
from geograd.solve import Result

#: The stated tolerances of a default solve: radius relative gap, centre distance / s.
RADIUS_RTOL = 1e-9
CENTRE_TOL = 1e-7


@pytest.fixture(scope="module")
def default() -> EnclosingCircle:
    p = get_problem("enclosing-circle")
    assert isinstance(p, EnclosingCircle)
    return p


@pytest.fixture(scope="module")
def solved(default: EnclosingCircle) -> Result:
    res = default.solve()
    assert isinstance(res, Result) and isinstance(res.x, list)
    return res


def test_default_solve_reaches_the_exact_radius(default: EnclosingCircle, solved: Result) -> None:
    res = solved
    assert isinstance(res.x, list)
    ref = default.reference()
    assert res.optimizer == "trust-ncg"
    assert res.converged, res.message
    assert res.loss == default.objective(res.x)
    assert (res.loss - ref.loss) / ref.loss <= RADIUS_RTOL
    assert math.dist(res.x, ref.x) <= CENTRE_TOL * default.scale
    assert res.steps < 200  # 47 over all stages (nag: 3914; speed is the benchmark's business)
    assert default.certificate(res.x)["relative_gap"] <= RADIUS_RTOL


def test_the_joined_history(default: EnclosingCircle, solved: Result) -> None:
    h = solved.history
    assert set(h) == {"step", "loss", "grad_norm", "x", "lr", "temperature"}
    assert len({len(v) for v in h.values()}) == 1
    assert h["step"][0] == 0 and h["step"][-1] == solved.steps
    assert all(b > a for a, b in zip(h["step"], h["step"][1:]))
    assert h["temperature"] == sorted(h["temperature"])
    # each entry names the stage that took that step (stages with no step add none)
    assert set(h["temperature"]) <= set(default.temperatures())
    assert h["temperature"][0] == 1.0 and len(set(h["temperature"])) >= 5
    assert h["x"][0] == default.x0
    for k in range(0, len(h["x"]), 97):  # the recorded loss is the true radius
        assert h["loss"][k] == default.objective(h["x"][k])
    assert solved.best_loss == min(h["loss"]) <= h["loss"][0]
    assert "over 10 stages (temperature 1 to temperature 1e+09)" in solved.message
    # lr falls as the temperature rises: trust-ncg's first radius is 0.1 s/τ
    for k in range(1, len(h["lr"]), 5):
        assert h["lr"][k] == pytest.approx(0.1 * default.scale / h["temperature"][k])


@pytest.mark.parametrize(
    "options",
    [
        {"distribution": "gaussian", "seed": 1},
        {"distribution": "disc", "seed": 2},
        {"seed": 3, "n": 200},
        {"n": 3, "seed": 4},
        {"hull": False, "n": 300, "seed": 6},
        {"temperature": 1e6, "distribution": "disc"},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_other_data(options: dict[str, object]) -> None:
    p = get_problem("enclosing-circle", **options)
    assert isinstance(p, EnclosingCircle)
    ref = p.reference()
    res = p.solve()
    assert res.converged, res.message
    tol = RADIUS_RTOL if p.temperatures()[-1] >= 1e9 else 1e-6
    assert (res.loss - ref.loss) / ref.loss <= tol
    assert math.dist(res.x, ref.x) <= (CENTRE_TOL if tol == RADIUS_RTOL else 1e-5) * p.scale


@pytest.mark.parametrize(
    ("pts", "centre"),
    [
        ([(0.3, 0.7)], [0.3, 0.7]),
        ([(0, 0), (2, 0)], [1.0, 0.0]),
        ([(0, 0), (1, 0), (1, 1), (0, 1)], [0.5, 0.5]),
        ([(0, 0), (4, 0), (2, 3)], [2.0, 5 / 6]),
        ([(0, 0), (4, 0), (2, 0.5)], [2.0, 0.0]),
        ([(t, 2 * t + 1) for t in (0, 1, 2, 5, 9)], [4.5, 10.0]),
    ],
    ids=["one", "two", "square", "acute", "obtuse", "collinear"],
)
def test_special_cases(pts: list[tuple[float, float]], centre: list[float]) -> None:
    p = EnclosingCircle.from_points(pts)
    res = p.solve()
    assert res.converged, res.message
    assert math.dist(res.x, centre) <= CENTRE_TOL * p.scale
    assert res.loss - p.reference().loss <= RADIUS_RTOL * max(p.reference().loss, 1e-300)


def test_defaults_do_not_depend_on_units(default: EnclosingCircle, solved: Result) -> None:
    pts = [(1e3 * x + 1e6, 1e3 * y - 5e5) for x, y in zip(default.xs, default.ys)]
    p = EnclosingCircle.from_points(pts)
    res = p.solve()
    assert res.converged, res.message
    assert abs(res.steps - solved.steps) < 0.05 * solved.steps
    ref = p.reference()
    assert (res.loss - ref.loss) / ref.loss <= RADIUS_RTOL
    assert math.dist(res.x, ref.x) <= CENTRE_TOL * p.scale


def test_callback_sees_the_whole_run_and_can_stop_it() -> None:
    p = get_problem("enclosing-circle", distribution="gaussian", n=200)
    steps: list[int] = []
    res = p.solve(callback=lambda pr: steps.append(pr.step))
    assert steps == list(range(1, res.steps + 1))
    res = p.solve(callback=lambda pr: pr.step >= 30)
    assert res.reason == "interrupted" and res.steps == 30 and not res.converged


def test_budget_and_time_limit() -> None:
    p = get_problem("enclosing-circle", n=200)
    res = p.solve(max_steps=3)
    assert res.steps == 3 and res.reason == "max_steps" and not res.converged
    assert "ran out before the last stage" in res.message
    res = p.solve(max_steps=0)
    assert res.steps == 0 and res.reason == "max_steps"
    res = p.solve(time_limit=1e-6)
    assert res.reason == "time_limit"


def test_overrides(default: EnclosingCircle) -> None:
    settings = default.solver_defaults()
    assert settings["optimizer"] == "trust-ncg" and settings["max_steps"] == 20000
    assert settings["gtol"] == 1e-8
    # the last stage's settings are plain minimize() settings
    last = default.stage_loss(default.temperatures()[-1])
    near = [default.reference().x[0] + 1e-9, default.reference().x[1]]
    out = minimize(last, near, **{**settings, "max_steps": 50})
    assert out.steps <= 50
    p = get_problem("enclosing-circle", n=100, distribution="gaussian")
    res = p.solve(gtol=1e-4)
    assert res.converged and res.steps < p.solve().steps
    lrs = p.solve(lr=2 * p.solver_defaults()["lr"], max_steps=5).history["lr"]
    assert lrs[1] == pytest.approx(2 * p.stage_settings(1.0)["lr"])
    res = p.solve(x0=[0.0, 0.0], max_steps=2)
    assert res.history["x"][0] == [0.0, 0.0]


def test_optimizer_classes_and_instances() -> None:
    p = get_problem("enclosing-circle", n=100, distribution="gaussian", temperature=1e4)
    res = p.solve(Adam, lr=1e-3, max_steps=60)
    assert res.optimizer == "Adam" and res.steps == 60
    x = Tensor([0.4, 0.6])
    res = p.solve(NAG([x], lr=1e-3, momentum=0.5), max_steps=40)
    assert res.optimizer == "NAG" and res.history["x"][0] == [0.4, 0.6]
    assert x.tolist() == res.x


@pytest.fixture(scope="module")
def round_case() -> EnclosingCircle:
    p = get_problem("enclosing-circle", distribution="disc", n=300)
    assert isinstance(p, EnclosingCircle)
    return p


@pytest.mark.parametrize("name", ["gd", "momentum", "sgd", "adam", "adamax", "rmsprop", "adagrad"])
def test_other_optimizers_where_three_points_are_farthest(
    round_case: EnclosingCircle, name: str
) -> None:
    ref = round_case.reference()
    assert len(ref.details["support"]) == 3
    res = round_case.solve(name)
    assert res.optimizer == name
    assert (res.loss - ref.loss) / ref.loss <= RADIUS_RTOL
    assert math.dist(res.x, ref.x) <= CENTRE_TOL * round_case.scale


# ------------------------------------------------------------------------------------ CLI


def test_cli_solve_check_and_compare() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["solve", "enclosing-circle", "--n", "200", "--json"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["converged"] and doc["matches_reference"]
    assert doc["certificate"]["kind"] == "radius_gap"
    assert doc["certificate"]["relative_gap"] <= RADIUS_RTOL
    out = runner.invoke(app, ["check", "enclosing-circle", "--json"])
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["passed"] is True
    out = runner.invoke(
        app, ["compare", "enclosing-circle", "--n", "100", "--optimizers", "nag", "--json"]
    )
    assert out.exit_code == 0, out.stderr
    runs = {r["method"]: r for r in json.loads(out.stdout)["runs"]}
    assert runs["welzl"]["gap"] == 0 and runs["nag"]["gap"] < 1e-9
    bad = runner.invoke(app, ["solve", "enclosing-circle", "--temperature", "0"])
    assert bad.exit_code == 2 and "--temperature must be" in bad.stderr


def test_the_message_names_the_stage_where_the_continuation_went_wrong() -> None:
    # Adam at a far too small lr: the early (warm) stages already stop short, so the
    # advice must point there, not only at the last stage.
    p = get_problem("enclosing-circle", n=30)
    result = p.solve("adam", lr=1e-5)
    assert not result.converged
    assert "The continuation went wrong earlier: stage " in result.message
    assert "Each stage runs at its own lr" in result.message


def test_an_lr_that_a_stage_scales_beyond_the_floats_is_one_clear_error() -> None:
    """--lr sets the last stage's; an earlier stage multiplies it (1e9 here): beyond the
    largest float that is an input error naming the stage, not the optimizer's 'lr=inf'."""
    from typer.testing import CliRunner

    from geograd.cli.app import app

    result = CliRunner().invoke(app, ["solve", "enclosing-circle", "--lr", "1e308"])
    assert result.exit_code == 2
    text = " ".join(result.stderr.split())
    assert "sets the last stage's lr; the stage at temperature" in text
    assert "beyond the largest float" in text and "lr=inf" not in text
