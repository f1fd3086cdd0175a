"""``geograd check`` at points and steps where a gradient cannot be computed in float64.

An ``--at`` point where the objective, the autograd gradient or the closed form
overflows, is NaN, divides by zero or is not finite is refused in one line (exit 2)
naming ``--at``, the point, the computation that failed and what to give instead; a
point the check drew itself where that happens is reported as not compared (never nan)
and fails the check (exit 1); an ``--eps`` that cannot give a finite difference is
refused before anything runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import geograd.check
from geograd.check import CheckPointError, three_way_check
from geograd.cli.app import app

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def refused(*args: str) -> str:
    """The one stderr line of a command refused as bad input (exit 2, nothing on stdout)."""
    result = invoke(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("geograd: error: "), lines[0]
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert result.stdout == ""
    return lines[0]


# ------------------------------------------------------------------ --at refused

NEARER = "give a point nearer the data, which span "
DEFINED = "give a point where the objective is defined"

AT_POINTS = [
    # (command, the point as echoed, what failed, the engine's detail kept, what to do)
    (
        ["circle-fit", "--at", "1e308,1e308,1"],
        "(1e+308, 1e+308, 1)",
        "the closed-form gradient overflows float64 there",
        "intermediate overflow in fsum",
        NEARER,
    ),
    (
        ["circle-fit", "--at", "0,0,1e308"],
        "(0, 0, 1e+308)",
        "the closed-form gradient overflows float64 there",
        "intermediate overflow in fsum",
        NEARER,
    ),
    (
        ["trilateration", "--at", "1e308,1e308"],
        "(1e+308, 1e+308)",
        "the autograd gradient is not finite there",
        "inf at coordinate 1",
        NEARER,
    ),
    (
        ["thomson", "--n", "2", "--at", "0,0,0,1,0,0"],
        "(0, 0, 0, 1, 0, 0)",
        "the objective divides by zero there",
        "div: division by zero",
        DEFINED,
    ),
    (
        ["registration", "--at", "1,1e308,1e308"],
        "(1, 1e+308, 1e+308)",
        "the autograd gradient is NaN there",
        "add(-inf, inf) is NaN",
        NEARER,
    ),
    (
        ["median", "--at", "1e308,1e308"],
        "(1e+308, 1e+308)",
        "the objective overflows float64 there",
        "sum: the sum overflows float64",
        NEARER,
    ),
    (
        ["fermat", "--at", "1e308,1e308"],
        "(1e+308, 1e+308)",
        "the autograd gradient is NaN there",
        "offset_sum: the result is NaN",
        NEARER,
    ),
]


@pytest.mark.parametrize(
    ("args", "shown", "failed", "detail", "todo"),
    AT_POINTS,
    ids=[" ".join(case[0]) for case in AT_POINTS],
)
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["table", "json"])
def test_an_at_point_where_a_gradient_cannot_be_computed_is_refused(
    args: list[str], shown: str, failed: str, detail: str, todo: str, json_flag: list[str]
) -> None:
    line = refused("check", *args, *json_flag)
    assert line.startswith(f"geograd: error: check {args[0]}: --at point 1 {shown}: "), line
    assert failed in line and detail in line
    assert f"; {todo}" in line
    # the engine's advice is for a solve, not for a point the user gave
    assert "learning rate" not in line and "clip the gradients" not in line


def test_a_problems_own_refusal_of_an_at_point_names_the_point() -> None:
    # 1e308,1e308,1e308 and 1,1,1 are one direction: thomson's closed form refuses two
    # coincident charges; the line now says which --at point it was
    at = ",".join(["1e308"] * 3 + ["1"] * 3 + ["0", "0", "1"])
    line = refused("check", "thomson", "--n", "3", "--at", at)
    assert "check thomson: --at point 1 (1e+308, 1e+308, 1e+308, 1, 1, 1, ... " in line
    assert "charges 1 and 2 are 0.0e+00 apart" in line and "move one of them" in line


def test_the_refusal_says_which_at_point() -> None:
    line = refused("check", "median", "--count", "2", "--at", "0.5,0.5", "--at", "1e308,-1e308")
    assert "--at point 2 (1e+308, -1e+308): the objective overflows" in line


def test_the_data_span_in_the_refusal_is_the_datas(tmp_path: Path) -> None:
    points = tmp_path / "p.csv"
    points.write_text("0,0\n2000,0\n0,30\n1000,-40\n")
    line = refused("check", "circle-fit", "--points", str(points), "--at", "1e308,1e308,1")
    assert line.endswith("; give a point nearer the data, which span 2e+03 (x from 0 to 2e+03)")


def test_a_good_at_point_beside_is_still_checked() -> None:
    result = invoke("check", "median", "--count", "0", "--at", "0.25,0.75", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["not_compared"] == 0 and doc["points"][0]["not_compared"] is None


# ------------------------------------------------- a drawn point: not compared, exit 1


def _break_point(monkeypatch: pytest.MonkeyPatch, which: int, closed: Any) -> None:
    """Make the closed form ``closed`` at the ``which``-th point the check looks at."""
    real = geograd.check.three_way_check
    seen = [0]

    def patched(loss: Any, closed_form: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
        seen[0] += 1
        return real(loss, closed if seen[0] == which else closed_form, x, *args, **kwargs)

    monkeypatch.setattr(geograd.check, "three_way_check", patched)


def _overflows(p: list[float]) -> list[float]:
    raise OverflowError("intermediate overflow in fsum")


@pytest.mark.parametrize(
    ("problem", "closed", "why"),
    [
        ("median", lambda p: [math.inf] * len(p), "is not finite there (inf at coordinate 1"),
        ("median", lambda p: [math.nan] * len(p), "is not finite there (nan at coordinate 1"),
        ("trilateration", _overflows, "overflows float64 there (intermediate overflow"),
        ("circle-fit", _overflows, "overflows float64 there (intermediate overflow"),
    ],
    ids=["median-inf", "median-nan", "trilateration-overflow", "circle-fit-overflow"],
)
def test_a_drawn_point_without_a_gradient_is_not_compared_and_fails(
    monkeypatch: pytest.MonkeyPatch, problem: str, closed: Any, why: str
) -> None:
    _break_point(monkeypatch, 2, closed)
    result = invoke("check", problem, "--count", "4", "--json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["not_compared"] == 1 and doc["failed"] == 1 and not doc["passed"]
    bad = doc["points"][1]
    why_not = bad["not_compared"]
    assert why_not.startswith("the closed-form gradient ") and why in why_not
    assert bad["closed_form"] is None and bad["numeric"] is None and not bad["passed"]
    assert bad["autograd"] is not None and all(math.isfinite(v) for v in bad["autograd"])
    assert bad["autograd_vs_closed"] == [None, None]
    others = [r for i, r in enumerate(doc["points"]) if i != 1]
    assert all(r["passed"] and r["not_compared"] is None for r in others)

    _break_point(monkeypatch, 2, closed)
    text = invoke("check", problem, "--count", "4")
    assert text.exit_code == 1
    assert "nan" not in text.stdout.replace("nan at coordinate", "")
    assert "gradients not compared at point 2 (" in text.stdout
    assert "NOT COMPARED at 1 of 4 points" in text.stdout and "MISMATCH" not in text.stdout
    assert text.stderr == "geograd: finding: gradients not computed at 1 of 4 points (exit 1)\n"


def test_data_near_the_largest_floats_report_what_was_not_compared(tmp_path: Path) -> None:
    # circle-fit's squared distances to points at 1e308: autograd's backward pass meets
    # inf - inf at the points the check draws. It ended as exit 2 with the engine's
    # message and no word of where; now every point says why, and no inf or nan is
    # shown as a result.
    points = tmp_path / "huge.csv"
    points.write_text("1e308,0\n-1e308,0\n0,1e308\n")
    result = invoke("check", "circle-fit", "--points", str(points), "--json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["not_compared"] == len(doc["points"]) == 8
    for row in doc["points"]:
        assert "the autograd gradient" in row["not_compared"]
        assert row["grad_norm"] is None or math.isfinite(row["grad_norm"])
    assert doc["max"]["autograd_vs_closed"] is None
    text = invoke("check", "circle-fit", "--points", str(points)).stdout
    table = text.split("ag = autograd")[0]
    assert "inf" not in table and "nan" not in table
    assert "autograd vs closed form not compared" in text
    figure = tmp_path / "h.svg"  # no h sweep at points without a gradient, and it says so
    result = invoke("check", "circle-fit", "--points", str(points), "--h-sweep", str(figure))
    assert result.exit_code == 1 and not figure.exists()
    assert f"no h sweep saved to {figure}: no point was compared" in result.stdout


# ------------------------------------------------------------------------ --eps


@pytest.mark.parametrize("eps", ["1e308", "1", "3.5"])
def test_an_eps_as_long_as_the_data_is_refused(eps: str) -> None:
    line = refused("check", "median", "--eps", eps)
    assert f"--eps {eps} is too large" in line
    assert "between 2.2e-16 and 1" in line


@pytest.mark.parametrize("eps", ["1e-17", "1e-300", "5e-324"])
def test_an_eps_below_float64s_epsilon_is_refused(eps: str) -> None:
    line = refused("check", "circle-fit", "--eps", eps)
    assert f"--eps {eps} is below float64's epsilon" in line
    assert "between 2.2e-16 and 1" in line


@pytest.mark.parametrize("eps", ["0.5", "3e-16"])
def test_an_eps_inside_the_range_is_run_and_differenced(eps: str) -> None:
    # a poor step may fail the comparison (exit 1), but it is run: no refusal, and the
    # central differences are formed at every point
    result = invoke("check", "median", "--count", "3", "--eps", eps, "--json")
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    assert doc["eps"] == float(eps) and doc["fd_not_evaluated"] == 0


# ---------------------------------------------------------------------- library


def _square(x: Any) -> Any:
    return (x * x).sum()


def _double(p: list[float]) -> list[float]:
    return [2.0 * v for v in p]


def test_three_way_check_names_the_objective_that_overflowed() -> None:
    import geograd.functional as F

    with pytest.raises(CheckPointError) as info:
        three_way_check(lambda x: F.sum(F.exp(x)), lambda p: [math.exp(v) for v in p], [1e3])
    failures = info.value.failures
    assert [f.computation for f in failures] == ["the objective", "the closed-form gradient"]
    assert all(f.what == "overflows float64" and f.overflowed for f in failures)
    assert info.value.autograd is None and info.value.closed_form is None


def test_three_way_check_names_a_closed_form_that_is_not_finite() -> None:
    with pytest.raises(CheckPointError) as info:
        three_way_check(_square, lambda p: [math.inf, 0.0], [1.0, 2.0])
    (failure,) = info.value.failures
    assert failure.computation == "the closed-form gradient"
    assert failure.detail == "inf at coordinate 1"
    assert info.value.autograd == [2.0, 4.0]  # the gradient that was computed is kept
    assert "the closed-form gradient is not finite there" in str(info.value)


def test_three_way_check_names_a_division_by_zero_as_undefined_not_overflow() -> None:
    def closed(p: list[float]) -> list[float]:
        return [1.0 / p[0]]

    with pytest.raises(CheckPointError) as info:
        three_way_check(_square, closed, [0.0])
    (failure,) = info.value.failures
    assert failure.what == "divides by zero" and not failure.overflowed
    assert not info.value.overflowed


def test_an_infinite_objective_with_finite_gradients_is_still_compared() -> None:
    # (1e200)^2 overflows, 2e200 does not: the gradients are what the check compares
    report = three_way_check(_square, _double, [1e200, 0.0])
    assert report.autograd == [2e200, 0.0] and report.passed()
