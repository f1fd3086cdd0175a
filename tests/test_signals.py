"""Ctrl-C keeps the run, always: whatever the problem does around minimize.

Real signals to a real ``python -m geograd solve ...``. Each run is held at one
moment of the solve of our choosing (``GEOGRAD_TEST_HOLD=name:k``, see
``geograd.problems.base.hold_point``): the process says ``geograd-hold: name k`` on
stderr and waits there; the test sends SIGINT (or SIGTERM) at that moment. No test
depends on the machine's speed: the signal lands where the process is held.

Every moment must end the same way: exit 130 (for SIGTERM too), no traceback, the
result printed (with ``"interrupted": true``) and saved to ``--out``.

The in-process tests below check :meth:`Problem.solve`'s one place of interrupt
handling directly (a hook an interrupt escapes, a plugin that overrides ``solve``,
a hook that goes on after an interrupted run, a reference computation).
"""

from __future__ import annotations

import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from geograd import Tensor
from geograd.problems import Problem, Reference
from geograd.problems.base import HOLD_ENV, ReferenceUnavailable
from geograd.problems.thomson import Thomson
from geograd.solve import minimize


def held_run(
    hold: str, args: list[str], out: Path, signum: int = signal.SIGINT
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run ``geograd solve ARGS --json --out OUT`` held at ``hold``, send ``signum`` there.

    Returns the finished process and the hold line it printed ("" if it never held:
    then no signal was sent and the test fails on the marker)."""
    env = {**os.environ, HOLD_ENV: hold}
    env.pop("GEOGRAD_DEBUG", None)
    cmd = [sys.executable, "-m", "geograd", "solve", *args, "--json", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    err = proc.stderr
    assert err is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(err.readline()), daemon=True).start()
    try:
        marker = lines.get(timeout=120)
    except queue.Empty:
        marker = ""
    if marker.startswith("geograd-hold: "):
        proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), marker


def assert_kept(
    proc: subprocess.CompletedProcess[str], marker: str, hold: str, out: Path, code: int = 130
) -> dict[str, Any]:
    """The run was held at ``hold``, ended with ``code``, and printed and saved the result."""
    name, _, k = hold.partition(":")
    assert marker == f"geograd-hold: {name} {k or 1}\n", (marker, proc.stderr)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    # nothing on stderr after the marker: no "geograd: interrupted" (the lost-run line)
    assert proc.stderr == "", proc.stderr
    printed: dict[str, Any] = json.loads(proc.stdout)
    assert printed["interrupted"] is True and printed["reason"] == "interrupted"
    assert printed["converged"] is False and printed["exit_code"] == code
    assert all(math.isfinite(v) for v in printed["solution"])
    assert math.isfinite(printed["loss"])
    saved = json.loads(out.read_text())
    assert saved["interrupted"] is True and saved["reason"] == "interrupted"
    assert saved["format"] == "geograd.solve/1"
    assert saved["solution"] == printed["solution"] and saved["steps"] == printed["steps"]
    assert saved["history"]["step"], "an interrupted result still has a path"
    return printed


# ------------------------------------------------------------------- real signals

ENCLOSING = ["enclosing-circle", "--n", "300"]


@pytest.mark.parametrize(
    "hold",
    [
        "solve:1",  # before anything ran
        "stage:1",  # before the first stage's minimize
        "stage-evaluate:1",  # while the first stage evaluates its start
        "step:5",  # inside a stage's loop
        "stage-end:1",  # a stage has returned, before its history is joined
        "stage:3",  # between stages
        "stage-evaluate:40",  # a later stage evaluating its start (or stepping)
        "stage:10",  # before the last stage
        "solved:1",  # the continuation has returned
    ],
)
def test_ctrl_c_anywhere_in_the_enclosing_circle_continuation_keeps_the_run(
    tmp_path: Path, hold: str
) -> None:
    out = tmp_path / "r.json"
    proc, marker = held_run(hold, ENCLOSING, out)
    printed = assert_kept(proc, marker, hold, out)
    if hold in ("solve:1", "stage:1", "stage-evaluate:1"):
        assert printed["steps"] == 0 and printed["solution"] == printed["x0"]
    elif hold == "step:5":
        assert printed["steps"] == 5
    else:
        assert printed["steps"] >= 1
        # the best iterate seen, the start included: never a larger circle than the start's
        assert printed["loss"] <= printed["start_loss"]
        if hold != "stage-end:1":  # after the first, hottest stage the circle may be larger
            assert printed["loss"] < printed["start_loss"]


def test_sigterm_between_stages_keeps_the_run_too(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc, marker = held_run("stage:3", ENCLOSING, out, signal.SIGTERM)
    printed = assert_kept(proc, marker, "stage:3", out)  # exit 130: "interrupted" either way
    assert printed["steps"] >= 1
    assert "(SIGTERM)" in printed["message"] and "KeyboardInterrupt" not in printed["message"]


@pytest.mark.parametrize("hold", ["solve:1", "start:2", "step:3", "canonical:1"])
def test_ctrl_c_between_thomson_restarts_keeps_the_best_start(tmp_path: Path, hold: str) -> None:
    out = tmp_path / "r.json"
    proc, marker = held_run(hold, ["thomson", "--n", "12", "--restarts", "3"], out)
    printed = assert_kept(proc, marker, hold, out)
    if hold in ("start:2", "canonical:1"):
        # at least the first start's whole run: the icosahedron's energy
        assert printed["steps"] >= 10  # trust-ncg's first start: 16 steps
        assert printed["loss"] == pytest.approx(49.165253058, abs=1e-8)


def test_ctrl_c_while_thomson_computes_its_reference_is_not_swallowed(tmp_path: Path) -> None:
    # Beyond the table, asked for: the solve aligns onto the reference, computed in the
    # solve. Ctrl-C there ends the solve (exit 130, the run kept), and the reference is
    # not started again afterwards.
    out = tmp_path / "r.json"
    args = ["thomson", "--n", "110", "--reference", "--steps", "50", "--optimizer", "nag"]
    proc, marker = held_run("reference-start:2", args, out)
    printed = assert_kept(proc, marker, "reference-start:2", out)
    assert printed["steps"] == 50
    assert printed["reference"] is None
    assert "interrupted" in printed["reference_error"]


@pytest.mark.parametrize("hold", ["solve:1", "step:3", "solved:1"])
def test_ctrl_c_in_registrations_change_of_variables_keeps_the_run(
    tmp_path: Path, hold: str
) -> None:
    out = tmp_path / "r.json"
    proc, marker = held_run(hold, ["registration"], out)
    printed = assert_kept(proc, marker, hold, out)
    if hold == "step:3":
        assert printed["steps"] == 3
    if hold == "solved:1":  # the answer was there: it is kept, marked interrupted
        assert printed["steps"] > 3 and printed["matches_reference"] is True


def test_ctrl_c_before_a_plain_solve_has_stepped_keeps_the_start(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc, marker = held_run("solve:1", ["median", "--n", "50"], out)
    printed = assert_kept(proc, marker, "solve:1", out)
    assert printed["steps"] == 0 and printed["solution"] == printed["x0"]


# ---------------------------------------------------------------------- in process


def kept(problem: Problem, **overrides: Any) -> Any:
    """``problem.solve(**overrides)``; an interrupt that escapes it fails the test (rather
    than stopping the whole pytest session, as a KeyboardInterrupt would)."""
    try:
        return problem.solve(**overrides)
    except KeyboardInterrupt:
        pytest.fail("the interrupt escaped solve(): the run was lost")


class Bowl(Problem):
    """Σ (x_j - j)², a toy with a hook of its own (see the tests)."""

    name = "bowl"
    description = "a bowl"

    def setup(self) -> None:
        self.n = 0

    @property
    def dim(self) -> int:
        return 3

    def default_x0(self) -> list[float]:
        return [5.0, 5.0, 5.0]

    def loss(self, x: Tensor) -> Tensor:
        d = x - Tensor([0.0, 1.0, 2.0])
        return (d * d).sum()

    def gradient(self, x: Any) -> list[float]:
        return [2.0 * (v - j) for j, v in enumerate(x)]

    def compute_reference(self) -> Reference:
        return Reference(x=[0.0, 1.0, 2.0], loss=0.0, method="exact")

    def solver_defaults(self, optimizer: Any = None, max_steps: Any = None) -> dict[str, Any]:
        return {"optimizer": optimizer or "sgd", "lr": 0.05, "max_steps": max_steps or 40}


class Staged(Bowl):
    """Two runs, then work outside any minimize loop that Ctrl-C interrupts."""

    def _solve(self, optimizer: Any = None, **overrides: Any) -> Any:
        first = super()._solve(optimizer, **overrides)
        super()._solve(optimizer, **{**overrides, "x0": first.x})
        raise KeyboardInterrupt  # as if Ctrl-C landed after the second run


def test_an_interrupt_that_escapes_a_hook_returns_the_best_iterate_seen() -> None:
    p = Staged()
    seen: list[int] = []
    res = kept(p, callback=lambda progress: seen.append(progress.step))
    assert res.reason == "interrupted" and not res.converged
    assert res.steps == 80 and len(seen) == 80  # both runs' steps, the caller saw them all
    # sgd with lr 0.05 shrinks the error by 0.9 a step: 50 * 0.9^160 after both runs
    assert res.loss == p.objective(res.x) == pytest.approx(50 * 0.9**160, rel=1e-9)
    assert res.best_x == res.x and res.best_step == 80
    assert res.start_loss == p.objective(p.x0)
    assert res.history["step"] == [0, 80] and res.history["x"][0] == p.x0
    assert "interrupted (Ctrl-C)" in res.message


def test_an_interrupt_before_any_step_returns_the_start() -> None:
    class Early(Bowl):
        def _solve(self, optimizer: Any = None, **overrides: Any) -> Any:
            raise KeyboardInterrupt

    res = kept(Early(), x0=[1.0, 2.0, 3.0])
    assert res.reason == "interrupted" and res.steps == 0
    assert res.x == [1.0, 2.0, 3.0] and res.loss == 3.0 and math.isnan(res.grad_norm)


def test_a_plugin_that_overrides_solve_itself_is_guarded_too() -> None:
    class OldStyle(Bowl):
        def solve(self, optimizer: Any = None, **overrides: Any) -> Any:
            minimize(self.loss, self.x0, "sgd", lr=0.05, max_steps=10,
                     callback=overrides.get("callback"))  # fmt: skip
            raise KeyboardInterrupt

    res = kept(OldStyle())
    assert res.reason == "interrupted" and res.steps == 10 and res.loss < 75.0


def test_a_hook_that_goes_on_after_ctrl_c_stops_at_its_next_first_step() -> None:
    # A real SIGINT in the middle of run 1 (from the loss): minimize returns it as
    # interrupted; a careless hook starts run 2 anyway, which stops after one step.
    class Careless(Bowl):
        calls = 0

        def loss(self, x: Tensor) -> Tensor:
            Careless.calls += 1
            if Careless.calls == 6:
                os.kill(os.getpid(), signal.SIGINT)
            return super().loss(x)

        def _solve(self, optimizer: Any = None, **overrides: Any) -> Any:
            first = super()._solve(optimizer, **overrides)
            assert first.reason == "interrupted"
            return super()._solve(optimizer, **{**overrides, "x0": first.x})

    res = kept(Careless())
    assert res.reason == "interrupted" and res.steps == 1


def test_a_reference_never_swallows_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    p = Thomson(n=12)

    def interrupted(self: Thomson) -> Reference:
        raise KeyboardInterrupt

    monkeypatch.setattr(Thomson, "compute_reference", interrupted)
    res = kept(p)  # the solve aligns onto the reference: Ctrl-C there ends the solve
    assert res.reason == "interrupted" and res.steps >= 10 and not p.reference_cached
    # ... and the reference is not started all over again after the user asked to stop
    with pytest.raises(ReferenceUnavailable, match="interrupted"):
        p.reference()
    monkeypatch.undo()
    assert p.reference(retry=True).loss == pytest.approx(49.165253058, abs=1e-8)


# ------------------------------------------------ before the command starts


def test_ctrl_c_while_the_cli_is_imported_is_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import geograd.__main__ as entry

    class Interrupting:
        """A finder that Ctrl-C reaches while ``geograd.cli.app`` is being imported."""

        def find_spec(self, name: str, *args: Any) -> None:
            if name == "geograd.cli.app":
                raise KeyboardInterrupt
            return None

    for name in [m for m in sys.modules if m == "geograd.cli.app"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    with pytest.raises(SystemExit) as info:
        entry.main()
    assert info.value.code == 130
    err = capsys.readouterr().err
    assert err == "geograd: interrupted (Ctrl-C) while starting; nothing was done\n"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # put back as it was


def test_ctrl_c_while_the_group_parses_is_reported_not_a_silent_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # typer turns a KeyboardInterrupt outside a command's invoke into exit 130 with no
    # word; the group's own parse and dispatch say "interrupted"
    import typer.core

    from geograd.cli.app import main

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    for where in ("make_context", "invoke"):
        with monkeypatch.context() as m:
            m.setattr(typer.core.TyperGroup, where, interrupted)
            with pytest.raises(SystemExit) as info:
                main(["solve", "median", "--n", "10"])
        assert info.value.code == 130, where
        assert capsys.readouterr().err == "geograd: interrupted\n", where
