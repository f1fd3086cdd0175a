"""``geograd bench --to-solution``: the race of whole median solves to a tolerance.

Nothing here depends on the machine's speed: the tests check what was measured and
how it is reported (each racer reached the tolerance or is marked as not reached, with
why; the ratios are the measured times' ratios, with the right bound), never a time.
torch is not needed: its row is checked only where torch imports, and a run with torch
blocked must leave out that row alone, saying why.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from geograd import bench
from geograd.bench import Race, Racer, Run
from geograd.cli.app import app
from geograd.problems import get_problem

runner = CliRunner()
HAVE_TORCH = bench.racer_unavailable("torch-adam") is None


def _check_run(run: Run, target: float, max_steps: int) -> None:
    if run.reached:
        assert run.stop == "reached" and run.objective <= target
        assert 0 <= run.steps <= max_steps and run.evaluations >= 1
    else:
        assert run.stop in ("max_steps", "time") or run.stop.startswith(
            ("converged", "stopped", "stalled", "diverged")
        ), run.stop
    assert run.time_s >= 0.0 and math.isfinite(run.objective)


def test_every_racer_reaches_the_tolerance_or_says_why_and_ratios_are_measured() -> None:
    result = bench.race(n=3000, rounds=2, max_steps=5000, time_budget_s=60.0)
    names = [r.name for r in result.racers]
    assert names == [m for m in bench.RACERS if m not in result.skipped]
    assert names[0] == "geograd"  # the base of the ratios is always run
    for name, why in result.skipped.items():
        assert name in ("torch-adam", "geograd-numpy", "scipy-lbfgsb") and "import" in why
    ref = get_problem("median", n=3000, seed=5).reference()
    assert result.reference["loss"] == ref.loss
    assert result.target == ref.loss + 1e-9 * ref.loss
    for racer in result.racers:
        assert 1 <= len(racer.runs) <= 2
        if len(racer.runs) < 2:  # a miss in round 1: no second round
            assert not racer.runs[0].reached
        for run in racer.runs:
            _check_run(run, result.target, 5000)
    # geograd's rows are the median's default solve, on the backend they name
    default = get_problem("median").solver_defaults()["optimizer"]
    base = result.racer("geograd")
    assert base is not None and base.settings == {"optimizer": default, "backend": "python"}
    numpy_row = result.racer("geograd-numpy")
    if numpy_row is not None:
        assert numpy_row.settings["backend"] == "numpy"
    # the ratios are the measured medians' ratios
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["mode"] == "to-solution" and doc["base"] == "geograd" and doc["n"] == 3000
    rows = {r["method"]: r for r in doc["results"]}
    for racer in result.racers:
        row = rows[racer.name]
        assert row["time_s"] == statistics.median(row["times_s"])
        assert row["reached"] == racer.reached and row["steps"] == racer.steps
        assert row["ratio_to_base"] == pytest.approx(racer.time_s / base.time_s, rel=1e-12)
        bound = {(True, True): "=", (False, True): ">=", (True, False): "<=", (False, False): "?"}
        expected = bound[(racer.reached, base.reached)]
        assert row["ratio_bound"] == expected
        if expected == "?":
            assert row["ratio_to_base"] is None
    assert rows["geograd"]["ratio_to_base"] == 1.0
    text = bench.race_table(result)
    assert "time until the objective is within 1e-09 (relative)" in text
    if HAVE_TORCH:
        adam = result.racer("torch-adam")
        assert adam is not None and adam.settings["lr"] == 0.01
        assert "against torch + Adam (lr 0.01)" in text and "target: at least 10x" in text


def test_a_step_cap_marks_every_racer_not_reached_and_stops_its_rounds() -> None:
    methods = ["geograd", "scipy-lbfgsb"] + (["torch-adam"] if HAVE_TORCH else [])
    result = bench.race(n=500, methods=methods, rounds=3, max_steps=1, time_budget_s=60.0)
    for racer in result.racers:
        assert not racer.reached and len(racer.runs) == 1  # no more rounds after a miss
        assert racer.stop == "max_steps", (racer.name, racer.stop)
        assert racer.steps <= 1
    assert all(value is None and bound == "?" for value, bound in result.ratios().values())
    text = bench.race_table(result)
    assert "no: max_steps" in text and ">=" in text  # times shown as lower bounds


def _racer(name: str, reached: bool, seconds: float) -> Racer:
    run = Run(reached, seconds, 3, 4, 1.0, "reached" if reached else "time")
    return Racer(name, name, 0.0, [run])


@pytest.mark.parametrize(
    ("other", "base", "bound"),
    [(True, True, "="), (False, True, ">="), (True, False, "<="), (False, False, "?")],
)
def test_ratio_bounds(other: bool, base: bool, bound: str) -> None:
    value, kind = bench.ratio(_racer("x", other, 3.0), _racer("geograd", base, 0.5))
    assert kind == bound
    assert value == (None if bound == "?" else 6.0)


def test_the_headline_says_at_least_when_only_geograd_reached() -> None:
    race = Race(
        n=10, seed=5, tol=1e-9, rounds=1, max_steps=100, time_budget_s=1.0,
        reference={"loss": 1.0, "x": [0.0, 0.0], "method": "m", "time_s": 0.0},
        x0=[0.0, 0.0], target=1.0, skipped={},
        racers=[_racer("geograd", True, 0.5), _racer("torch-adam", False, 2.0)],
    )  # fmt: skip
    race.racers[1].settings = {"lr": 0.01}
    text = bench.race_table(race)
    assert "at least 4x faster to the tolerance" in text
    assert "no: time" in text and ">=2 s" in text


def test_the_command_prints_json_and_refuses_bad_flags() -> None:
    args = ["bench", "--to-solution", "--n", "1500", "--rounds", "1", "-q"]
    result = runner.invoke(app, [*args, "--methods", "geograd,scipy-lbfgsb", "--json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["method"] for r in doc["results"]] == ["geograd", "scipy-lbfgsb"]
    assert doc["tol"] == 1e-9 and doc["max_steps"] == 10_000 and doc["time_budget_s"] == 60.0
    assert result.stderr == ""  # -q
    text = runner.invoke(app, [*args, "--methods", "geograd", "--optimizer", "lbfgs"])
    assert text.exit_code == 0 and "optimizer=lbfgs" in text.stdout
    for bad, words in (
        (["--to-solution", "--sizes", "100"], "--sizes is for the evaluation study"),
        (["--to-solution", "--plot", "x.png"], "--plot is for the evaluation study"),
        (["--n", "100"], "--n is for --to-solution"),
        (["--to-solution", "--methods", "torch"], "unknown method 'torch' for --to-solution"),
        (["--to-solution", "--n", "0"], "--n must be an integer >= 1"),
        (["--to-solution", "--tol", "2"], "--tol must be a relative tolerance below 1"),
        (["--to-solution", "--tol", "-1"], "--tol must be a finite number > 0"),
        (["--to-solution", "--time-budget", "0"], "--time-budget must be"),
        (["--to-solution", "--optimizer", "adamm"], "--optimizer"),
        (["--to-solution", "--n", "100000000000"], "would need about"),
    ):
        out = runner.invoke(app, ["bench", *bad])
        assert out.exit_code == 2 and words in out.stderr, (bad, out.stderr)


BLOCK_TORCH = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] == "torch":
                raise ImportError(f"{name} is blocked")
            return None

    sys.meta_path.insert(0, Blocker())
    from geograd.cli.app import app
    sys.argv = ["geograd", "bench", "--to-solution", "--n", "1200", "--rounds", "1", "--json",
                "-q"]
    try:
        app()
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code
    assert "torch" not in sys.modules
    """
)


def test_without_torch_only_its_row_is_left_out() -> None:
    out = subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert "torch-adam" in doc["unavailable"] and "torch" in doc["unavailable"]["torch-adam"]
    methods = [r["method"] for r in doc["results"]]
    assert "torch-adam" not in methods and methods[0] == "geograd"
    assert set(methods) == set(bench.RACERS) - set(doc["unavailable"])
