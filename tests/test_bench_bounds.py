"""``geograd bench``: bounded work, progress, one judgement of "reached", the flag named.

Nothing here depends on the machine's speed: a refusal is tested on a request refused
on any machine (10^12 rounds; a round is at least a Python call and a ``gc.collect()``,
far more than the 3.6 ns a round that would let 10^12 of them fit in an hour), and the
estimate's arithmetic with an injected time a round. torch is not needed.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from geograd import bench
from geograd.bench import Run
from geograd.cli import work
from geograd.cli.app import app
from geograd.errors import InputError

runner = CliRunner()
HUGE = "1000000000000"  # 10^12 rounds: more than an hour on any machine


def _one_line_refusal(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# ------------------------------------------------------------------- the estimate itself


def test_check_rounds_refuses_past_the_limit_with_what_it_needs_and_what_fits() -> None:
    assert bench.MAX_BENCH_SECONDS == 3600.0
    assert bench.check_rounds(3600, 1.0, "one second a round") == 3600.0  # at the limit: ok
    with pytest.raises(InputError) as caught:
        bench.check_rounds(10_000, 1.0, "one second a round")
    assert str(caught.value) == (
        "--rounds 10,000 would take at least about 2.8 h (one second a round), more than "
        "the 1 h a bench may take; give --rounds 3,600 or less"
    )
    with pytest.raises(InputError) as caught:
        bench.check_rounds(100, 60.0, "w", at_least=False, prefix="stopped after round 1: ")
    text = str(caught.value)
    assert text.startswith("stopped after round 1: --rounds 100 would take about 1.7 h (w)")
    assert "give --rounds 60 or less" in text
    assert bench.check_rounds(10**12, 0.0, "too fast to measure") == 0.0  # no figure: no refusal


def test_the_study_estimate_measures_again_before_it_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = [bench.method_named("python-loop")]
    seen: list[int] = []

    def measured(times: list[float]) -> Iterator[float]:
        yield from times

    for times, refused, calls in (
        ([1e-4], False, 1),  # 10^4 rounds of 0.1 ms: 1 s, measured once
        ([1.0, 1e-4], False, 2),  # a hiccup: measured again, the shorter counts
        ([1.0, 1.0], True, 2),  # twice too long: refused
    ):
        seen.clear()
        it = measured(times)

        def fake(methods: object, n: int, repeat: int = 1, it: Iterator[float] = it) -> float:
            seen.append(n)
            return next(it)

        monkeypatch.setattr(bench, "round_seconds", fake)
        if refused:
            words = "python-loop takes 1 s here at N = 100, less than at N = 5,000"
            with pytest.raises(InputError, match=re.escape(words)):
                bench.check_study(10_000, loop, 5_000)
        else:
            assert bench.check_study(10_000, loop, 5_000) == pytest.approx(1.0)
        assert seen == [bench.PROBE_N] * calls  # the cheapest configuration, not N = 5000


def test_a_refused_study_does_no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "round_seconds", lambda methods, n, repeat=1: 1.0)
    work_seen: list[tuple[str, float, float]] = []

    def record(what: str, done: float, total: float) -> None:
        work_seen.append((what, done, total))

    with pytest.raises(InputError, match=re.escape("would take at least about 2.8 h")):
        bench.study([10, 100], ["python-loop"], rounds=10_000, on_work=record)
    assert work_seen == []  # no size was started


def test_round_seconds_times_a_real_round() -> None:
    seconds = bench.round_seconds([bench.method_named("python-loop")], 10, repeat=2)
    assert 0.0 < seconds < math.inf


# --------------------------------------------------------------- refusals from the CLI


@pytest.mark.parametrize(
    "args",
    [
        ["--sizes", "100", "--methods", "python-loop"],
        ["--methods", "python-loop"],  # every default size; still refused at the smallest
        ["--to-solution", "--n", "1", "--methods", "geograd"],  # solved at the start
        ["--modes"],
    ],
)
def test_rounds_that_would_take_hours_are_refused_before_they_start(args: list[str]) -> None:
    result = runner.invoke(app, ["bench", *args, "--rounds", HUGE])
    assert result.exit_code == 2, result.output
    line = _one_line_refusal(result.stderr)
    assert "--rounds 1,000,000,000,000 would take at least about" in line
    assert "more than the 1 h a bench may take; give --rounds" in line and "or less" in line
    assert "here" in line  # the measured figure it is based on
    assert result.stdout == ""
    assert "round 1:" not in result.stderr  # refused before any round ran


def test_a_race_that_would_take_hours_stops_after_its_first_round() -> None:
    # geograd needs more than the warm-up's 2 steps at N = 300 (8), so only round 1 can tell
    result = runner.invoke(
        app, ["bench", "--to-solution", "--n", "300", "--methods", "geograd", "--rounds", HUGE]
    )
    assert result.exit_code == 2, result.output
    assert "round 1: geograd reached" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("geograd: error: stopped after round 1: --rounds 1,000,000,000,000 "
                           "would take about")  # fmt: skip
    assert "round 1 of geograd" in last and "give --rounds" in last
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_python_dash_m_geograd_bench_refuses_in_one_line_too() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "geograd.bench", "--sizes", "50", "--rounds", HUGE,
         "--methods", "python-loop"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 2 and out.stdout == ""
    line = _one_line_refusal(out.stderr)
    assert line.startswith("python -m geograd.bench: error: --rounds 1,000,000,000,000 would")


# --------------------------------------------------------------------------- progress


def test_long_work_shows_progress_lines_and_quiet_shows_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the lines' delays are read when the progress is made: 0 makes every call a line
    monkeypatch.setattr(work, "LINE_DELAY", 0.0)
    monkeypatch.setattr(work, "LINE_EVERY", 0.0)
    args = ["bench", "--sizes", "20,30", "--rounds", "2", "--methods", "python-loop"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert "geograd: bench at N = 20: calls: 1/3 (working" in result.stderr  # stderr: no tty
    assert any(line.startswith("geograd: bench at N = 20: calls: 3/3 (done") for line in lines)
    assert any(line.startswith("geograd: bench at N = 30: calls: 3/3 (done") for line in lines)
    assert "geograd: bench peak memory: calls: 1/1 (done" in result.stderr
    quiet = runner.invoke(app, [*args, "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_the_study_reports_every_call_it_makes() -> None:
    seen: list[tuple[str, float, float]] = []
    bench.study([5, 7], ["python-loop", "engine"], rounds=3,
                on_work=lambda what, done, total: seen.append((what, done, total)))  # fmt: skip
    for n in (5, 7):
        mine = [(d, t) for w, d, t in seen if w == f"bench at N = {n}: calls"]
        assert mine == [(k, 8) for k in range(9)]  # 2 methods x (1 untimed + 3 rounds)
    assert [(d, t) for w, d, t in seen if w.startswith("bench peak")] == [(0, 2), (1, 2), (2, 2)]


# ------------------------------------------------------ "reached": one rule for every racer


def test_a_run_at_the_target_is_reached_whatever_stopped_it() -> None:
    stopped = Run(False, 0.5, 0, 1, 0.0, "converged: gtol")
    assert bench.judged(stopped, 0.0) == Run(True, 0.5, 0, 1, 0.0, "reached")
    short = Run(False, 0.5, 3, 4, 1e-3, "max_steps")
    assert bench.judged(short, 0.0) is short
    nan = Run(False, 0.5, 3, 4, math.nan, "diverged")
    assert bench.judged(nan, 0.0) is nan


@pytest.mark.parametrize("n", [1, 2])
def test_a_start_at_the_solution_is_reached_at_once_by_every_racer(n: int) -> None:
    # one point: the reference and the target are 0 (a relative tolerance of 0); two: the
    # centroid lies on the segment, where every point is a median
    result = bench.race(n=n, rounds=1)
    if n == 1:
        assert result.reference["loss"] == 0.0 and result.target == 0.0
        assert result.start_objective == 0.0
    assert result.solved_at_start
    assert result.racers and result.racers[0].name == "geograd"
    for racer in result.racers:  # torch's, scipy's and geograd's rows judged alike
        assert racer.reached and racer.stop == "reached" and racer.steps == 0, racer
    assert all(bound == "=" for _, bound in result.ratios().values())
    text = bench.race_table(result)
    rows = [line for line in text.splitlines() if line[:14].strip() in bench.RACERS]
    assert len(rows) == len(result.racers)
    assert all(" yes " in row and ">=" not in row and "<=" not in row for row in rows), rows
    assert not re.search(r"at (most|least) [\d.]+x faster", text)
    assert "already within the tolerance" in text and "not a solve" in text
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["solved_at_start"] is True
    assert all(row["reached"] and row["ratio_bound"] == "=" for row in doc["results"])


def test_reached_means_at_or_below_the_target_for_every_run() -> None:
    result = bench.race(n=300, rounds=2, max_steps=3, time_budget_s=60.0)
    assert not result.solved_at_start
    for racer in result.racers:
        for run in racer.runs:
            assert run.reached == (run.objective <= result.target), (racer.name, run)


# -------------------------------------------------------------------- the flag named


@pytest.mark.parametrize(
    ("args", "flag"),
    [(["--to-solution", "--n", HUGE], "--n"), (["--sizes", HUGE], "--sizes")],
)
def test_points_beyond_memory_name_the_flag_given(args: list[str], flag: str) -> None:
    result = runner.invoke(app, ["bench", *args])
    assert result.exit_code == 2 and result.stdout == ""
    line = _one_line_refusal(result.stderr)
    assert f"error: {flag}: 1,000,000,000,000 points would need about" in line
    assert f"give {flag} up to about" in line
    other = "--sizes" if flag == "--n" else "--n:"
    assert other not in line


@pytest.mark.parametrize(
    ("geograd", "torch", "words"),
    [
        ((True, 2.0), (True, 1.0), ": 2x slower to the tolerance"),
        ((True, 0.5), (True, 1.0), ": 2x faster to the tolerance"),
        ((False, 2.0), (True, 1.0), ": at least 2x slower to the tolerance"),  # the user's case
        ((True, 2.0), (False, 1.0), ": at most 2x slower to the tolerance"),
        ((True, 0.5), (False, 2.0), ": at least 4x faster to the tolerance"),
    ],
)
def test_the_headline_says_slower_when_geograd_is_slower(
    geograd: tuple[bool, float], torch: tuple[bool, float], words: str
) -> None:
    def racer(name: str, reached: bool, seconds: float) -> bench.Racer:
        run = Run(reached, seconds, 3, 4, 1.0, "reached" if reached else "time")
        return bench.Racer(name, name, 0.0, [run], settings={"lr": 0.01})

    race = bench.Race(
        n=10, seed=5, tol=1e-9, rounds=1, max_steps=100, time_budget_s=1.0,
        reference={"loss": 1.0, "x": [0.0, 0.0], "method": "m", "time_s": 0.0},
        x0=[0.0, 0.0], target=1.0, skipped={},
        racers=[racer("geograd", *geograd), racer("torch-adam", *torch)],
    )  # fmt: skip
    text = bench.race_table(race)
    assert words in text, text
    assert not re.search(r"0\.\d+x faster", text)  # never "0.57x faster"
