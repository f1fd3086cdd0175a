"""The CLI's commands and options through typer's CliRunner (the same path as the script).

Every command, its main options and its output formats. Bad input is in
test_cli_errors.py; --out, Ctrl-C and the progress bar in test_cli_output.py; the
installed script and start-up imports in test_cli_subprocess.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import geograd.functional as F
from geograd import Tensor, __version__
from geograd.cli.app import app
from geograd.optim.registry import available_optimizers, optimizer_names
from geograd.problems import Option, Problem, Reference, register_problem, unregister_problem

runner = CliRunner()

REQUIRED = ("problem", "solution", "loss", "steps", "converged", "reason", "time_s", "gap")


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def ok(*args: str, code: int = 0) -> Any:
    """Run; expect exit ``code`` (1: a finding, named on stderr) and nothing else on stderr."""
    result = invoke(*args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    if code == 0:
        assert result.stderr == ""
    else:
        assert result.stderr.startswith("geograd: finding: ")
    return result


def ok_json(*args: str, code: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(*args, "--json", code=code).stdout)
    if data.get("problem") and "steps" in data:  # a solve says its own exit code
        assert data["exit_code"] == code
    return data


class Bowl(Problem):
    """A plugin problem with one option of every type: Σ (x_j − center)²."""

    name = "bowl"
    description = "a quadratic bowl for the CLI tests"
    options = (
        Option("center", float, 1.0, "where the minimum is"),
        Option("dim", int, 2, "number of coordinates", min=1),
        Option("style", str, "round", "the bowl's shape", choices=("round", "steep")),
        Option("wrong", bool, False, "make the closed-form gradient wrong"),
        Option("steps", int, 3, "clashes with the solver's --steps", min=1),
        Option("data", Path, None, "a file nobody reads"),
    )

    def setup(self) -> None:
        self.n = self.settings["dim"]
        self.scale = 4.0 if self.settings["style"] == "steep" else 1.0

    @property
    def dim(self) -> int:
        return int(self.settings["dim"])

    def loss(self, x: Tensor) -> Tensor:
        return F.sum(F.square(x - self.settings["center"])) * self.scale

    def gradient(self, x: Sequence[float]) -> list[float]:
        g = [2.0 * self.scale * (v - self.settings["center"]) for v in x]
        if self.settings["wrong"]:
            g[0] += 1.0
        return g

    def compute_reference(self) -> Reference:
        return Reference([self.settings["center"]] * self.dim, 0.0, "exact")

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        return {"optimizer": optimizer or "gd", "max_steps": max_steps or 200, "gtol": 1e-10}


@pytest.fixture
def bowl() -> Iterator[type[Bowl]]:
    register_problem(Bowl)
    yield Bowl
    unregister_problem("bowl")


# ----------------------------------------------------------------------------- solve


def test_solve_without_flags_matches_the_reference_and_says_so() -> None:
    out = ok("solve", "median", "--n", "1000").stdout
    assert "matches the reference: within 1e-06 of the data's extent" in out
    assert "converged (ftol)" in out
    assert "solve " in out and "weiszfeld" in out


def test_solve_json_has_the_required_keys_and_reaches_the_reference() -> None:
    data = ok_json("solve", "median", "--n", "1000")
    for key in (*REQUIRED, "certificate", "distance", "reference", "evaluations", "message"):
        assert key in data, key
    assert data["problem"] == "median"
    assert set(data["reference"]) >= {"solution", "loss"}
    assert data["converged"] is True
    assert data["distance"] <= 1e-6
    assert data["matches_reference"] is True
    assert math.dist(data["solution"], data["reference"]["solution"]) == pytest.approx(
        data["distance"]
    )
    assert abs(data["gap"]) <= 1e-12
    assert data["options"]["n"] == 1000 and data["n"] == 1000 and data["dim"] == 2
    # The solve's time is reported apart from the reference's.
    assert data["timing"]["solve_s"] == data["time_s"]
    assert data["timing"]["reference_s"] > 0


def test_problem_flags_reach_the_problem() -> None:
    data = ok_json(
        "solve", "median", "--n", "60", "--dim", "3", "--seed", "11",
        "--distribution", "clustered", "--weights", "random",
    )  # fmt: skip
    assert data["options"] == {
        "n": 60, "dim": 3, "seed": 11, "distribution": "clustered", "weights": "random",
        "points": None,
    }  # fmt: skip
    assert len(data["solution"]) == 3
    assert data["matches_reference"] is True


def test_points_file_is_loaded(tmp_path: Path) -> None:
    f = tmp_path / "pts.csv"
    f.write_text("x,y\n0,0\n4,0\n0,3\n1,1\n")
    data = ok_json("solve", "median", "--points", str(f))
    assert data["n"] == 4 and data["options"]["points"] == str(f)
    assert data["distance"] <= 1e-6


def test_solver_flags_replace_the_problem_settings() -> None:
    data = ok_json(
        "solve", "median", "--n", "200", "--optimizer", "Adam", "--lr", "0.02", "--steps", "40",
        "--tol", "1e-3", "--schedule", "cosine", "--x0", "0.2,0.3", code=1,
    )  # fmt: skip
    s = data["settings"]
    assert data["optimizer"] == "adam" and s["optimizer"] == "adam"
    assert s["lr"] == 0.02 and s["max_steps"] == 40 and s["gtol"] == 1e-3
    assert s["schedule"] == "Cosine(total_steps=40, final=0): lr x0 by step 40"
    assert data["x0"] == [0.2, 0.3]
    assert data["steps"] <= 40


def test_schedule_parameters_and_none() -> None:
    s = ok_json("solve", "median", "--n", "50", "--optimizer", "sgd", "--schedule", "none")
    assert s["settings"]["schedule"] is None  # the problem's default schedule is dropped
    s = ok_json(
        "solve", "median", "--n", "50", "--optimizer", "sgd", "--steps", "30",
        "--schedule", "step:step_size=7,gamma=0.5", code=1,
    )  # fmt: skip
    assert s["settings"]["schedule"] == "StepDecay(step_size=7, gamma=0.5): lr x0.0625 by step 30"
    s = ok_json("solve", "median", "--n", "50", "--steps", "100", "--schedule", "warmup")
    assert s["settings"]["schedule"].startswith("Warmup(steps=5")


def test_x0_with_a_leading_minus_and_too_few_steps() -> None:
    data = ok_json("solve", "median", "--n", "100", "--x0", "-1,2", "--steps", "2", code=1)
    assert data["x0"] == [-1.0, 2.0]
    assert data["reason"] == "max_steps" and data["converged"] is False
    assert data["matches_reference"] is False
    assert data["findings"] == ["not converged (max steps)", "does not match the reference"]
    out = ok("solve", "median", "--n", "100", "--x0=-1,2", "--steps", "2", code=1).stdout
    assert "does NOT match the reference" in out and "max steps" in out


def test_quiet_prints_nothing() -> None:
    result = ok("solve", "median", "--n", "100", "--quiet")
    assert result.stdout == ""


def test_quiet_json_still_prints_the_json() -> None:
    result = ok("solve", "median", "--n", "100", "--quiet", "--json")
    assert json.loads(result.stdout)["problem"] == "median"


def test_help_lists_problem_flags_from_the_declaration() -> None:
    out = ok("solve", "median", "--help").stdout
    for flag in ("--n", "--dim", "--seed", "--distribution", "--weights", "--points"):
        assert flag in out
    for flag in ("--optimizer", "--lr", "--steps", "--tol", "--x0", "--schedule"):
        assert flag in out
    for flag in ("--json", "--out", "--quiet"):
        assert flag in out
    assert "default 1000" in out
    assert "Problem options" in out
    for command, flag in (("check", "--count"), ("compare", "--baselines")):
        out = ok(command, "median", "--help").stdout
        assert "--n" in out and "--seed" in out and flag in out


def test_group_help_lists_problems_and_top_help_lists_commands() -> None:
    assert "median" in ok("solve", "--help").stdout
    out = ok("--help").stdout
    for command in ("solve", "compare", "check", "problems", "optimizers"):
        assert command in out
    assert ok().stdout == out  # no command: the help


def test_version() -> None:
    assert ok("--version").stdout.strip() == f"geograd {__version__}"


# ---------------------------------------------------------------------- plugin problem


def test_a_plugin_problem_gets_its_flags(bowl: type[Bowl]) -> None:
    out = ok("solve", "bowl", "--help").stdout
    for flag in ("--center", "--dim", "--style", "--wrong", "--no-wrong", "--data"):
        assert flag in out
    # Its option "steps" clashes with the solver's --steps: it becomes --bowl-steps.
    assert "--bowl-steps" in out and "--steps" in out
    data = ok_json(
        "solve", "bowl", "--center", "2.5", "--dim", "3", "--style", "steep", "--wrong",
        "--bowl-steps", "7", "--steps", "50",
    )  # fmt: skip
    assert data["options"]["steps"] == 7 and data["settings"]["max_steps"] == 50
    assert data["options"]["wrong"] is True and data["options"]["style"] == "steep"
    assert data["solution"] == pytest.approx([2.5] * 3, abs=1e-6)
    assert "bowl" in ok("problems").stdout


def test_check_of_a_wrong_gradient_exits_1(bowl: type[Bowl]) -> None:
    ok("check", "bowl", "--count", "3")
    result = invoke("check", "bowl", "--count", "3", "--wrong")
    assert result.exit_code == 1
    assert "MISMATCH at 3 of 3 points" in result.stdout
    # named on stderr and in the JSON, as a solve names its findings
    assert result.stderr == "geograd: finding: gradient mismatch at 3 of 3 points (exit 1)\n"
    result = invoke("check", "bowl", "--count", "2", "--wrong", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False and data["failed"] == 2
    assert data["findings"] == ["gradient mismatch at 2 of 2 points"] and data["exit_code"] == 1
    assert data["max"]["autograd_vs_closed"] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- check


def test_check_median_passes_at_random_and_kink_points() -> None:
    out = ok("check", "median", "--n", "50", "--count", "4").stdout
    assert "all 4 points agree" in out and "MISMATCH" not in out
    data = ok_json("check", "median", "--n", "50", "--count", "4", "--at", "0.5,0.5")
    assert len(data["points"]) == 5 and data["points"][0]["x"] == [0.5, 0.5]
    assert data["passed"] is True and data["failed"] == 0
    for row in data["points"]:
        assert row["autograd_vs_closed"][0] <= 1e-12
        assert row["autograd_vs_numeric"][0] <= 1e-6
    tight = invoke("check", "median", "--n", "50", "--count", "4", "--fd-tol", "1e-15")
    assert tight.exit_code == 1  # finite differences are not that accurate
    assert ok("check", "median", "--n", "50", "--count", "0", "--at", "0.1,0.2", "-q").stdout == ""


# --------------------------------------------------------------------------- compare


def test_compare_runs_everything_side_by_side() -> None:
    data = ok_json(
        "compare", "median", "--n", "200", "--optimizers", "gd, sgd", "--baselines", "bfgs,CG"
    )
    assert [(r["method"], r["by"]) for r in data["runs"]] == [
        ("weiszfeld-vardi-zhang", "reference"),
        ("gd", "geograd"),
        ("sgd", "geograd"),
        ("BFGS", "scipy"),
        ("CG", "scipy"),
    ]
    for run in data["runs"]:
        assert run["distance"] <= 1e-5 and abs(run["gap"]) <= 1e-9
        assert run["time_s"] >= 0
    assert data["runs"][1]["iterations"] > 0 and data["runs"][1]["evaluations"] > 0
    out = ok("compare", "median", "--n", "200", "--optimizers", "gd", "--baselines", "BFGS").stdout
    for word in ("reference", "gd", "BFGS", "objective", "gap", "distance", "evals", "time"):
        assert word in out


def test_compare_default_lineup_all_and_none() -> None:
    data = ok_json("compare", "median", "--n", "100", "--baselines", "none")
    assert [r["method"] for r in data["runs"][1:]] == [
        "gd", "sgd", "momentum", "adam", "lbfgs", "newton",
    ]  # fmt: skip
    assert all(r["matches_reference"] for r in data["runs"] if r["method"] in ("lbfgs", "newton"))
    data = ok_json("compare", "median", "--n", "50", "--optimizers", "all", "--baselines", "none")
    assert [r["method"] for r in data["runs"][1:]] == optimizer_names()
    assert all(r["distance"] <= 1e-6 for r in data["runs"])


def test_compare_default_lineup_starts_with_the_problems_own_optimizer() -> None:
    # thomson solves with trust-ncg by default; the line-up puts it first, then the rest
    data = ok_json("compare", "thomson", "--n", "4", "--baselines", "none")
    assert [r["method"] for r in data["runs"][1:]] == [
        "trust-ncg", "gd", "sgd", "momentum", "adam", "lbfgs", "newton",
    ]  # fmt: skip


# -------------------------------------------------------------------------- listings


def test_problems_lists_descriptions_and_options() -> None:
    out = ok("problems").stdout
    assert "median" in out and "geometric median" in out and "--distribution" in out
    data = ok_json("problems")
    median = next(p for p in data["problems"] if p["name"] == "median")
    flags = {o["flag"]: o for o in median["options"]}
    assert flags["--n"]["default"] == 1000 and flags["--n"]["type"] == "int"
    assert flags["--distribution"]["choices"] == ["uniform", "gaussian", "clustered", "outliers"]


def test_optimizers_lists_every_registered_optimizer_and_the_schedules() -> None:
    out = ok("optimizers").stdout
    for name in available_optimizers():
        assert name in out
    for schedule in ("cosine", "exponential", "warmup", "none"):
        assert schedule in out
    data = ok_json("optimizers")
    rows = {r["name"]: r for r in data["optimizers"]}
    assert set(rows) == set(available_optimizers())
    assert rows["adam"]["options"]["lr"] == 0.001
    assert rows["adam"]["description"] == available_optimizers()["adam"]
    assert "cosine" in data["schedules"]


def test_a_diverged_solve_reports_and_exits_1() -> None:
    args = ["solve", "median", "--n", "50", "--optimizer", "momentum", "--lr", "1e307"]
    result = invoke(*args, "--schedule", "none", "--json")
    assert result.exit_code == 1 and result.stderr.startswith("geograd: finding: diverged")
    data = json.loads(result.stdout)
    assert data["reason"] == "diverged" and data["converged"] is False
    assert all(math.isfinite(v) for v in data["solution"])  # the last finite iterate
    assert "smaller learning rate" in data["message"]
