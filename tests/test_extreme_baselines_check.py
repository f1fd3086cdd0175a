"""Data at the ends of float64 (points near 1e-320, ranges or coordinates near 1e308) in
``geograd compare`` (scipy's baselines) and ``geograd check`` (central differences, the
Riemannian summary): a baseline whose iterate leaves the floats is reported as scipy's
failure, never as a crash or the user's fault, and without numpy/scipy warnings; the
check's finite-difference step follows the data's scale, a difference quotient that
cannot be formed is reported as not evaluated (never nan, never a mismatch), and a
slope that was never measured is not printed as nan."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd.check import _compare, three_way_check
from geograd.cli.app import app
from geograd.problems import get_problem

runner = CliRunner()

TINY = "1e-320,0\n0,1e-320\n-1e-320,0\n5e-324,5e-324\n"
HUGE = "1e308,1e308\n-1e308,-1e308\n1e308,-1e308\n-1e308,1e308\n0,0\n"
HUGE_B = "1e308,0\n-1e308,0\n0,1e308\n"
RANGES = "x,y,range\n0,0,1e308\n10,0,1e308\n0,10,1e308\n10,10,9\n"
ANTIPODAL = "x,y,z\n1,0,0\n-1,0,0\n"


def data(tmp_path: Path, text: str, name: str = "d.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


# ----------------------------------------------------------------------- baselines


def test_a_baseline_whose_objective_overflows_is_scipys_failure(tmp_path: Path) -> None:
    # Nelder-Mead's first simplex steps 0.00025 away from points 1e-320 apart: the
    # objective overflowed in fsum and the command ended in "unexpected OverflowError"
    result = invoke("compare", "median", "--points", data(tmp_path, TINY), "--json")
    assert result.exit_code == 0, result.output
    runs = {r["method"]: r for r in json.loads(result.stdout)["runs"]}
    nelder = runs["Nelder-Mead"]
    assert nelder["status"].startswith("failed: ")
    assert "scipy's iterate" in nelder["status"]
    assert all(math.isfinite(v) for v in nelder["solution"])
    assert not runs["gd"]["status"].startswith("failed")  # geograd's own rows: unaffected


@pytest.mark.parametrize(
    ("problem", "text"),
    [("median", RANGES.replace("x,y,range\n", "")), ("circle-fit", HUGE_B)],
    ids=["median-ranges-1e308", "circle-fit-huge"],
)
def test_a_simplex_that_overflows_warns_nothing_and_blames_no_one(
    tmp_path: Path, problem: str, text: str
) -> None:
    p = get_problem(problem, points=Path(data(tmp_path, text)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from numpy or scipy fails
        runs = {b.method: b for b in p.baselines()}
    nelder = runs["Nelder-Mead"]
    assert not nelder.success
    assert "scipy's iterate" in nelder.message and "x coordinate" not in nelder.message
    assert all(math.isfinite(v) for v in nelder.x) and math.isfinite(nelder.loss)


def test_compare_on_an_overflowing_simplex_exits_0_with_the_row(tmp_path: Path) -> None:
    result = invoke("compare", "circle-fit", "--points", data(tmp_path, HUGE_B))
    assert result.exit_code == 0, result.output
    assert "RuntimeWarning" not in result.output and "not a finite number" not in result.output
    assert "scipy's" in result.stdout


# --------------------------------------------------------------------------- check


def test_check_on_tiny_data_shows_no_nan_and_says_what_was_not_evaluated(
    tmp_path: Path,
) -> None:
    result = invoke("check", "circle-fit", "--points", data(tmp_path, TINY))
    assert "nan" not in result.stdout
    assert "central differences not evaluated at 8 of 8 points" in result.stdout
    assert "below float64's normal range" in result.stdout
    assert "MISMATCH" not in result.stdout and result.exit_code == 0


def test_check_json_on_tiny_data_leaves_the_fd_columns_empty(tmp_path: Path) -> None:
    result = invoke("check", "median", "--points", data(tmp_path, TINY), "--json")
    doc = json.loads(result.stdout)
    assert doc["fd_not_evaluated"] == len(doc["points"]) == 8
    for row in doc["points"]:
        assert row["numeric"] is None and row["autograd_vs_numeric"] == [None, None]
        assert "normal range" in row["fd_not_evaluated"]
    assert doc["max"]["autograd_vs_numeric"] is None
    assert doc["step_scales"][0] < 1e-300  # the step follows the data's scale


def test_check_on_huge_data_is_no_false_mismatch(tmp_path: Path) -> None:
    # the loss overflows at x + h near 1e308: the quotient was nan and each such point failed
    result = invoke("check", "enclosing-circle", "--points", data(tmp_path, HUGE))
    assert result.exit_code == 0, result.stdout
    assert "nan" not in result.stdout and "MISMATCH" not in result.stdout
    assert "central differences not evaluated at" in result.stdout
    assert "the loss is inf at x + h" in result.stdout


def test_the_riemannian_summary_never_prints_a_nan_slope(tmp_path: Path) -> None:
    # antipodal points: the loss is constant on the sphere, its first-order model exact
    result = invoke("check", "spherical-median", "--points", data(tmp_path, ANTIPODAL))
    assert result.exit_code == 0, result.stdout
    assert "nan" not in result.stdout
    assert "8 pass (the first-order model exact to rounding at all)" in result.stdout
    # ordinary data keep their summary
    result = invoke("check", "spherical-median", "--count", "3")
    assert result.exit_code == 0
    assert "3 pass (lowest slope 2.0" in result.stdout
    assert "of 3 pass (lowest slope 3.0" in result.stdout
    assert "against the exp curve)" in result.stdout


# ------------------------------------------------------------------------- library


def test_three_way_check_steps_by_the_scale_given() -> None:
    def loss(x: Any) -> Any:
        return (x * x).sum()

    def grad(x: list[float]) -> list[float]:
        return [2.0 * v for v in x]

    point = [3e-200, -2e-200]
    old = three_way_check(loss, grad, point)  # a step of 1e-6: nothing but truncation
    assert old.numeric is not None and not old.passed(fd_tol=1e-5 * 1e-200)
    new = three_way_check(loss, grad, point, scale=1e-200)
    assert new.fd_unavailable is None and new.numeric is not None
    assert new.numeric == pytest.approx([6e-200, -4e-200], rel=1e-8)


def test_three_way_check_says_why_it_formed_no_differences() -> None:
    def loss(x: Any) -> Any:
        return (x * x).sum()

    report = three_way_check(loss, lambda x: [2.0 * v for v in x], [1e200, 0.0])
    assert report.numeric is None and report.autograd_vs_numeric is None
    assert report.fd_unavailable is not None and "inf" in report.fd_unavailable
    tiny = three_way_check(loss, lambda x: [2.0 * v for v in x], [1e-320], scale=1e-320)
    assert tiny.fd_unavailable is not None and "normal range" in tiny.fd_unavailable
    assert tiny.passed()  # autograd and the closed form agree; nothing else was measured


def test_relative_errors_of_subnormal_gradients_are_relative() -> None:
    assert _compare([1e-320], [2e-320])[1] == pytest.approx(0.5)
