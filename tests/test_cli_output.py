"""Nothing lost: atomic --out, Ctrl-C keeps the result so far, and the progress bar's rules."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import geograd.cli.output as output
import geograd.fileio as fileio
from geograd.cli.app import app
from geograd.cli.progress import ProgressBar, wanted
from geograd.errors import InputError
from geograd.problems import problem_from_dict
from geograd.problems.median import GeometricMedian, GeometricMedianCore
from geograd.solve import Progress

runner = CliRunner()
S = ["solve", "median", "--n", "200"]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".geograd-tmp-" in p.name)


# ------------------------------------------------------------------------------- --out


def test_out_saves_the_full_result_with_its_history(tmp_path: Path) -> None:
    f = tmp_path / "result.json"
    result = runner.invoke(app, [*S, "--out", str(f)])
    assert result.exit_code == 0, result.stderr
    assert f"saved the full result to {f}" in result.stdout
    data = json.loads(f.read_text())
    assert data["format"] == output.SOLVE_FORMAT
    history = data["history"]
    assert history["step"][0] == 0 and history["step"][-1] == data["steps"]
    assert len(history["loss"]) == len(history["x"]) == data["steps"] + 1
    assert data["best"]["loss"] <= history["loss"][0]
    # The saved spec rebuilds the very problem: same data, same objective at the solution.
    problem = problem_from_dict(data["spec"])
    assert problem.objective(data["solution"]) == data["loss"]
    assert data["distance"] <= 1e-6
    assert leftovers(tmp_path) == []
    # The file gets a normal mode, not mkstemp's private 0600.
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask


def test_out_with_json_prints_the_summary_and_saves_more(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    result = runner.invoke(app, [*S, "--json", "--out", str(f)])
    printed = json.loads(result.stdout)
    saved = json.loads(f.read_text())
    assert "history" not in printed and "history" in saved
    assert printed["out"] == str(f)
    assert saved["solution"] == printed["solution"]


def test_compare_out_keeps_every_history(tmp_path: Path) -> None:
    f = tmp_path / "c.json"
    args = ["compare", "median", "--n", "100", "--optimizers", "gd,adam", "--baselines", "none"]
    result = runner.invoke(app, [*args, "--out", str(f), "-q"])
    assert result.exit_code == 0 and result.stdout == ""
    data = json.loads(f.read_text())
    assert data["format"] == output.COMPARE_FORMAT
    assert set(data["histories"]) == {"gd", "adam"}
    assert len(data["histories"]["adam"]["history"]["loss"]) == data["runs"][2]["iterations"] + 1


def test_a_crash_while_writing_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "result.json"
    f.write_text('{"old": true}\n')

    def half_then_crash(obj: Any, fh: Any, **kwargs: Any) -> None:
        fh.write('{"half": ')
        fh.flush()
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(output.json, "dump", half_then_crash)
    result = runner.invoke(app, [*S, "--out", str(f)])
    assert result.exit_code == 3  # an unexpected error, not a finding
    assert "disk on fire" in result.stderr
    assert f.read_text() == '{"old": true}\n'
    assert leftovers(tmp_path) == []


def test_a_failed_rename_is_an_input_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "result.json"
    f.write_text("old")

    def no_replace(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.os, "replace", no_replace)
    result = runner.invoke(app, [*S, "--out", str(f)])
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == f"geograd: error: --out {f}: cannot write it (Permission denied)"
    )
    assert f.read_text() == "old"
    assert leftovers(tmp_path) == []
    # The run is not lost: the result is printed all the same.
    assert "matches the reference" in result.stdout and "saved" not in result.stdout
    result = runner.invoke(app, [*S, "--json", "--out", str(f)])
    assert result.exit_code == 2 and json.loads(result.stdout)["converged"] is True


def test_ctrl_c_while_writing_leaves_the_old_file(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("old")
    with pytest.raises(KeyboardInterrupt), output.atomic_write(f) as fh:
        fh.write("new, but never finished")
        raise KeyboardInterrupt
    assert f.read_text() == "old"
    assert leftovers(tmp_path) == []
    output.write_text_atomic(f, "new")
    assert f.read_text() == "new"


def test_strict_json_and_read_json(tmp_path: Path) -> None:
    data = {"a": float("nan"), "b": [1.0, float("inf")], "c": (1, 2), "p": Path("x")}
    assert output.strict(data) == {"a": None, "b": [1.0, None], "c": [1, 2], "p": "x"}
    f = tmp_path / "d.json"
    output.write_json_atomic(f, data)
    assert output.read_json(f) == {"a": None, "b": [1.0, None], "c": [1, 2], "p": "x"}
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,\n oops}')
    with pytest.raises(InputError, match=r"bad.json:2:2: not valid JSON"):
        output.read_json(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(InputError, match="holds list"):
        output.read_json(bad)
    with pytest.raises(InputError, match="no such result file"):
        output.read_json(tmp_path / "missing.json")


# ---------------------------------------------------------------------------- Ctrl-C


def interrupt_loss_after(monkeypatch: pytest.MonkeyPatch, calls: int) -> None:
    """Make the median's loss raise KeyboardInterrupt (as Ctrl-C would) at call ``calls``:
    the loss the solver evaluates, its unit copy's (``GeometricMedianCore``)."""
    original = GeometricMedianCore.loss
    count = [0]

    def loss(self: GeometricMedianCore, x: Any) -> Any:
        count[0] += 1
        if count[0] == calls:
            raise KeyboardInterrupt
        return original(self, x)

    monkeypatch.setattr(GeometricMedianCore, "loss", loss)


def test_ctrl_c_during_a_solve_prints_and_saves_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_loss_after(monkeypatch, 6)
    f = tmp_path / "r.json"
    result = runner.invoke(app, [*S, "--optimizer", "sgd", "--out", str(f)])
    assert result.exit_code == 130
    assert "interrupted" in result.stdout and "solution" in result.stdout
    assert f"saved the full result to {f}" in result.stdout
    saved = json.loads(f.read_text())
    assert saved["reason"] == "interrupted" and saved["interrupted"] is True
    assert saved["converged"] is False and saved["steps"] >= 1
    assert len(saved["history"]["loss"]) == saved["steps"] + 1
    assert saved["loss"] == min(saved["history"]["loss"])  # the best iterate so far


def test_ctrl_c_during_a_solve_with_json(monkeypatch: pytest.MonkeyPatch) -> None:
    interrupt_loss_after(monkeypatch, 4)
    result = runner.invoke(app, [*S, "--json"])
    assert result.exit_code == 130
    data = json.loads(result.stdout)
    assert data["reason"] == "interrupted" and data["reference"]["loss"] > 0


def test_ctrl_c_during_compare_keeps_the_finished_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # gd takes a few dozen evaluations; the interrupt lands in the second optimizer's run.
    interrupt_loss_after(monkeypatch, 60)
    f = tmp_path / "c.json"
    args = ["compare", "median", "--n", "100", "--optimizers", "gd,adam,sgd", "--out", str(f)]
    result = runner.invoke(app, args)
    assert result.exit_code == 130
    assert "interrupted: the table holds the runs finished so far" in result.stdout
    saved = json.loads(f.read_text())
    assert [r["method"] for r in saved["runs"]][1:] == ["gd", "adam"]
    assert saved["runs"][2]["status"] == "interrupted" and saved["interrupted"] is True


def test_ctrl_c_outside_the_solve_loop_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def setup(self: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(GeometricMedian, "setup", setup)
    result = runner.invoke(app, S)
    assert result.exit_code == 130
    assert result.stderr == "geograd: interrupted\n"


# ----------------------------------------------------------------------- progress bar


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def progress(step: int) -> Progress:
    return Progress(step=step, x=[0.0, 0.0], loss=1.0 / (step + 1), grad_norm=0.5, lr=0.1)


def test_progress_bar_only_for_a_terminal_and_not_quiet_or_json() -> None:
    assert wanted(False, False, Tty()) is True
    assert wanted(True, False, Tty()) is False
    assert wanted(False, True, Tty()) is False
    assert wanted(False, False, io.StringIO()) is False
    assert ProgressBar(10, "x", enabled=False).callback is None


def test_progress_bar_appears_only_after_a_second() -> None:
    now = [0.0]
    stream = Tty()
    bar = ProgressBar(100, "median gd", enabled=True, stream=stream, clock=lambda: now[0])
    callback = bar.callback
    assert callback is not None
    for step in range(1, 10):
        now[0] = 0.1 * step  # 0.9 s in total: a fast run shows nothing
        callback(progress(step))
    assert not bar.shown and stream.getvalue() == ""
    for step in range(10, 30):
        now[0] = 0.1 * step
        callback(progress(step))
    bar.close()
    assert bar.shown
    text = stream.getvalue()
    assert "median gd" in text and "/100" in text and "loss" in text


def test_no_progress_bar_in_a_cli_run_without_a_terminal() -> None:
    result = runner.invoke(app, [*S, "--optimizer", "adam"])
    assert result.exit_code == 0 and result.stderr == ""
