"""Bounded work: a request that cannot fit or end is refused up front, in one line; long
work shows progress; Thomson's reference beyond its table runs only when asked.

Nothing here depends on the machine's speed or memory: the memory available is set
(monkeypatched) in process, and the command-line runs ask for so much (petabytes)
that any machine refuses them. Those runs are in a child process with an
address-space limit, so that code which does try to build such data fails fast
with a MemoryError instead of growing until it is killed.
"""

from __future__ import annotations

import io
import math
import resource
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from geograd import Tensor
from geograd.errors import InputError
from geograd.problems import Problem, Reference, get_problem
from geograd.problems import base as problem_base
from geograd.problems.base import ReferenceUnavailable, available_memory, format_seconds
from geograd.problems.thomson import KNOWN_ENERGIES, UNTABULATED_STARTS, Thomson
from geograd.solve import BestOf

LIMIT = 2 * 1024**3  # the child's address space: old code fails fast within it


def limited(*args: str) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "geograd", *args],
        capture_output=True, text=True, timeout=300, check=False, preexec_fn=limit,
    )  # fmt: skip


# ------------------------------------------------------------------- memory, up front


@pytest.mark.parametrize(
    "args,asked",
    [
        (["solve", "median", "--n", "1000000000000"], "--n 1000000000000 --dim 2"),
        (["solve", "median", "--dim", "100000000"], "--n 1000 --dim 100000000"),
        (["check", "median", "--n", "1000000000000"], "--n 1000000000000 --dim 2"),
        (["solve", "thomson", "--n", "10000000"], "--n 10000000"),
        (["compare", "enclosing-circle", "--n", "100000000000"], "--n 100000000000"),
        (["solve", "trilateration", "--anchors", "1000000000000"], "--anchors 1000000000000"),
    ],
)
def test_a_request_too_big_for_memory_is_refused_in_one_line(args: list[str], asked: str) -> None:
    proc = limited(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr
    line = proc.stderr
    assert line.startswith(f"geograd: error: {args[1]}: {asked} would need about ")
    assert " of memory (" in line and " is available; " in line


def test_the_refusal_says_how_much_is_needed_and_what_fits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(problem_base, "available_memory", lambda: 10**9)
    with pytest.raises(InputError) as info:
        get_problem("median", n=10**7)
    # auto picks numpy at 10^7 points: 2 coordinates x 120 B = 2.4 GB; 10^9 B / 240 B a
    # point = 4166666 points
    assert str(info.value) == (
        "median: --n 10000000 --dim 2 would need about 2.4 GB of memory (2e+07 coordinates "
        "at about 120 B each on the numpy backend), but only 1 GB is available; "
        "at most about --n 4166666 fits"
    )
    get_problem("median", n=1_000_000 // 1000)  # a request that fits is built as before
    # what fits: the first size option that can be lowered enough, the others as asked
    with pytest.raises(InputError, match=r"--dim 10000 .* at most about --n 222 fits$"):
        get_problem("median", n=1000, dim=10_000)
    with pytest.raises(InputError, match=r"--dim 10000000 .* at most about --dim 2222222 fits$"):
        get_problem("median", n=1, dim=10_000_000)


def test_thomson_counts_its_pairs_and_checks_a_file_before_building_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need = Thomson.planned_memory({"n": 3000})
    assert need == pytest.approx(600 * 3000 * 2999 / 2 + 4000 * 3 * 3000 * 32)
    monkeypatch.setattr(problem_base, "available_memory", lambda: int(need) - 1)
    with pytest.raises(
        InputError, match=r"^thomson: --n 3000 would need about 3\.85 GB .*2999 fits"
    ):
        Thomson(n=3000)
    f = tmp_path / "charges.csv"
    f.write_text("".join(f"{math.cos(k)},{math.sin(k)},{k % 7 - 3}\n" for k in range(3000)))
    with pytest.raises(InputError, match=r"would need about 3\.85 GB"):
        Thomson(points=str(f))


class Plugin(Problem):
    """A plugin that declares its bytes per item and nothing else about memory."""

    name = "plugin-with-items"
    description = "Σ (x - p_i)² over generated p_i"
    bytes_per_item = 1000
    options = (problem_base.Option("n", int, 10, "items", min=1),)

    def setup(self) -> None:
        self.n = self.settings["n"]
        self.items = [float(i) for i in range(self.n)]

    @property
    def dim(self) -> int:
        return 1

    def loss(self, x: Tensor) -> Tensor:
        return ((Tensor(self.items) - x[0]) ** 2).sum()

    def gradient(self, x: Any) -> list[float]:
        return [math.fsum(2.0 * (x[0] - p) for p in self.items)]

    def compute_reference(self) -> Reference:
        m = math.fsum(self.items) / self.n
        return Reference(x=[m], loss=self.objective([m]), method="mean")


def test_a_plugin_gets_the_check_from_its_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(problem_base, "available_memory", lambda: 50_000)
    assert Plugin(n=50).n == 50
    with pytest.raises(InputError, match=r"plugin-with-items: --n 51 would need about 51 kB"):
        Plugin(n=51)  # refused before setup made the items


def test_available_memory_is_a_positive_number_of_bytes() -> None:
    have = available_memory()
    assert have is not None and 0 < have < 2**64


# ------------------------------------------------------------------- check --count


def test_a_gradient_check_that_would_not_end_is_refused() -> None:
    p = get_problem("median")  # dim 2: 8 loss evaluations a point
    with pytest.raises(InputError) as info:
        p.check_workload(10**9)
    assert str(info.value) == (
        "median: --count 1000000000 would take about 8e+09 loss evaluations (8 per point), "
        "more than the 1e+08 a check may run; give --count 12500000 or less"
    )
    estimate = p.check_workload(8)
    assert estimate["evaluations"] == 64 and estimate["bytes"] > 0


def test_check_count_is_refused_by_the_command(tmp_path: Path) -> None:
    # (needs cli/check.py to call Problem.check_workload before making the points)
    proc = limited("check", "median", "--count", "1000000000")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("geograd: error: median: --count 1000000000 would take about")


# ------------------------------------------------------------ thomson's reference policy


def test_thomson_beyond_the_table_has_no_reference_unless_asked() -> None:
    p = Thomson(n=110)
    with pytest.raises(ReferenceUnavailable) as info:
        p.reference()
    estimate = format_seconds(p.reference_estimate())
    assert str(info.value) == (
        "unavailable: N=110 is beyond the published table (N<=100); pass --reference "
        f"(reference=True) to compute it (best of {UNTABULATED_STARTS} L-BFGS starts, "
        f"estimated {estimate})"
    )
    res = p.solve(max_steps=5)  # the solve does not compute one to align onto either
    assert res.steps == 5 and not p.reference_cached
    assert max(KNOWN_ENERGIES) == 100


def test_a_reference_asked_for_beyond_the_table_reports_its_progress() -> None:
    p = Thomson(n=101, reference=True)
    reports: list[tuple[str, float, float | None]] = []
    p.on_work = lambda what, done, total: reports.append((what, done, total))
    ref = p.reference()
    assert "not in the table" in ref.method and ref.details["starts"] == UNTABULATED_STARTS
    assert reports[0] == ("thomson reference, N=101: seeded L-BFGS starts", 0, 10)
    assert reports[-1][1:] == (10, 10)
    done = [d for _, d, _ in reports]
    assert done == sorted(done) and len(reports) > 2 * UNTABULATED_STARTS  # each iteration


def test_solve_thomson_beyond_the_table_does_not_compute_a_reference() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "geograd", "solve", "thomson", "--n", "120", "--steps", "5",
         "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    import json

    doc = json.loads(proc.stdout)
    assert doc["steps"] == 5 and doc["reference"] is None
    assert doc["reference_error"].startswith(
        "unavailable: N=120 is beyond the published table (N<=100); pass --reference"
    )


def test_many_restarts_keep_only_the_best_run() -> None:
    res = Thomson(n=4).solve(restarts=60, max_steps=2)
    assert res.steps == 120
    losses = res.message.split("losses ")[1].split(")")[0]
    assert losses.count(", ") == BestOf.SHOWN_LOSSES and losses.endswith("... (60 in all")


@pytest.mark.parametrize("name", ["thomson", "tammes"])
def test_restarts_that_would_run_for_days_are_refused_before_the_first(name: str) -> None:
    # 10^12 starts of at least 10 evaluations, each at least 1e-7 s: 10^6 s on any machine
    p = get_problem(name, n=6)
    steps: list[Any] = []
    with pytest.raises(InputError) as info:
        p.solve(restarts=10**12, callback=steps.append)
    line = str(info.value)
    assert line.startswith(f"{name}: --restarts 1,000,000,000,000 would take at least ")
    assert "10 loss evaluations a start" in line and "give --restarts " in line
    assert "\n" not in line and steps == []  # nothing ran


def test_the_restarts_refusal_is_exit_2_from_the_command() -> None:
    proc = limited("solve", "thomson", "--n", "5", "--restarts", "1000000000000")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("geograd: error: thomson: --restarts 1,000,000,000,000 would")
    assert proc.stdout == ""


def test_the_restarts_estimate_grows_with_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    p = get_problem("thomson", n=4)
    ticks = iter(range(1000))
    monkeypatch.setattr(problem_base, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    # each objective "takes" 1 s here: 10 evaluations a start, so 2000 starts are 20000 s
    assert p.check_restarts(300) == 3000.0
    with pytest.raises(InputError, match=r"give --restarts 360 or less"):
        p.check_restarts(2000)


@pytest.mark.parametrize("name", ["thomson", "tammes"])
def test_each_step_says_which_start_it_belongs_to(name: str) -> None:
    p = get_problem(name, n=5)
    seen: list[Any] = []
    p.solve(restarts=3, max_steps=30, callback=lambda pr: seen.append(pr.start))
    assert sorted(set(seen)) == [(0, 3), (1, 3), (2, 3)]
    assert seen == sorted(seen)  # in order: start 0 (x0) first
    alone: list[Any] = []
    p.solve(max_steps=5, callback=lambda pr: alone.append(pr.start))
    assert alone and set(alone) == {None}


def test_the_progress_line_names_the_start() -> None:
    from geograd.cli.work import LINE_DELAY, WorkProgress
    from geograd.solve import Progress

    clock, out = Clock(), io.StringIO()
    with WorkProgress(stream=out, tty=False, clock=clock) as work:
        step = work.steps("thomson trust-ncg", 1000)
        step(Progress(1, [0.0], 1.0, 1.0, None, start=(0, 20)))
        clock.now = LINE_DELAY
        step(Progress(7, [0.0], 1.0, 1.0, None, start=(4, 20)))
    first = f"geograd: thomson trust-ncg: start 4 (of 20), 7/1000 (working, {LINE_DELAY:.0f} s)"
    assert out.getvalue().splitlines() == [first]


# -------------------------------------------------------------------- progress lines


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_long_work_prints_a_line_every_so_often_when_not_on_a_terminal() -> None:
    from geograd.cli.work import LINE_DELAY, LINE_EVERY, WorkProgress

    clock, out = Clock(), io.StringIO()
    with WorkProgress(stream=out, tty=False, clock=clock) as work:
        work("quick", 0, 3)
        work("quick", 3, 3)  # done before LINE_DELAY: nothing
        assert out.getvalue() == ""
        for k in range(11):
            clock.now = 100.0 + k * LINE_EVERY / 2
            work("slow", k, 10)
    lines = out.getvalue().splitlines()
    first = math.ceil(LINE_DELAY / (LINE_EVERY / 2))
    assert lines[0] == f"geograd: slow: {first}/10 (working, {first * LINE_EVERY / 2:.0f} s)"
    assert lines[-1] == "geograd: slow: 10/10 (done, 50 s)"
    assert len(lines) == 6  # every LINE_EVERY seconds, and the end


def test_quiet_shows_no_progress() -> None:
    from geograd.cli.work import WorkProgress

    clock, out = Clock(), io.StringIO()
    work = WorkProgress(enabled=False, stream=out, tty=False, clock=clock)
    for k in range(100):
        clock.now = float(k)
        work("slow", k, 100)
    assert out.getvalue() == ""


def test_on_a_terminal_long_work_shows_a_bar_that_goes_away() -> None:
    from geograd.cli.work import WorkProgress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    clock, out = Clock(), Tty()
    with WorkProgress(stream=out, clock=clock) as work:
        assert work.tty
        for k in range(11):
            clock.now = 2.0 * k
            work("reference", k, 10)
    text = out.getvalue()
    assert "reference" in text and "10/10" in text
    assert work.lines == 0  # a bar, not lines


def test_more_local_workers_than_memory_holds_are_refused_before_any_starts() -> None:
    # 10^12 workers of at least 100 MB each: 10^20 bytes, on any machine
    proc = limited(
        "solve", "median", "--n", "100", "--backend", "dask", "--workers", "1000000000000"
    )
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert line.startswith("geograd: error: --workers 1,000,000,000,000: ")
    assert "would need at least" in line and "give --workers " in line and "\n" not in line
