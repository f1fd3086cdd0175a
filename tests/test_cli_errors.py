"""Bad input ends with one line on stderr and exit code 2; the unexpected with one line and 3.

Each case checks the exit code, that stderr is exactly one line starting with
``geograd: error:``, that it says what was wrong (and suggests the closest name
where there is one), that nothing went to stdout and that no traceback leaked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd.cli.app import app
from geograd.errors import InputError
from geograd.problems.median import GeometricMedian

runner = CliRunner()


def fails(args: list[str], code: int = 2) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("geograd: error: "), lines[0]
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    assert result.stdout == ""
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    return lines[0]


S = ["solve", "median", "--n", "50"]

BAD_INPUT = [
    # names: the closest match is suggested
    (["solve", "medain"], ["unknown problem 'medain'", "did you mean 'median'"]),
    (["check", "mediam"], ["unknown problem 'mediam'", "did you mean 'median'"]),
    ([*S, "--optimizer", "adma"], ["unknown optimizer 'adma'", "did you mean 'adam'"]),
    (["slove", "median"], ["no such command 'slove'", "'solve'"]),
    ([*S, "--nn", "3"], ["no such option: --nn", "--n"]),
    ([*S, "--distribution", "unifrom"], ["--distribution", "did you mean uniform"]),
    ([*S, "--schedule", "cosin"], ["unknown schedule 'cosin'", "did you mean 'cosine'"]),
    (["compare", "median", "--optimizers", "gd,adamw2"], ["--optimizers", "'adamw'"]),
    (["compare", "median", "--baselines", "BFSG"], ["unknown scipy method", "'BFGS'"]),
    (["compare", "median", "--baselines", "bgfs"], ["did you mean 'BFGS'"]),
    (["compare", "median", "--baselines", "none,BFGS"], ["'none' (no baselines) stands alone"]),
    (["compare", "median", "--baselines", "BFGS,bfgs"], ["BFGS is given twice"]),
    (["compare", "median", "--optimizers", "adam,Adam"], ["--optimizers: adam is given twice"]),
    (["bench", "--methods", "python-loop,python-loop"], ["--methods: python-loop is given twice"]),
    (
        [*S, "--animate", "never-written.gif", "--fps", "0.001"],
        ["a GIF frame lasts at most 655.35 s", "--fps 0.0016 or more"],
    ),
    # numbers
    (["solve", "median", "--n", "0"], ["--n must be an integer >= 1", "'0'"]),
    (["solve", "median", "--n", "-5"], ["--n must be an integer >= 1", "'-5'"]),
    (["solve", "median", "--n", "ten"], ["--n must be an integer", "'ten'"]),
    (["solve", "median", "--dim", "1.5"], ["--dim must be an integer"]),
    ([*S, "--steps", "0"], ["--steps must be an integer >= 1, got '0'"]),
    ([*S, "--lr", "0"], ["--lr must be a finite number > 0"]),
    ([*S, "--lr", "-0.1"], ["--lr must be a finite number > 0"]),
    ([*S, "--lr", "nan"], ["--lr must be a finite number > 0, got 'nan'"]),
    ([*S, "--lr", "inf"], ["--lr must be a finite number > 0, got 'inf'"]),
    ([*S, "--lr", "fast"], ["--lr must be a finite number > 0, got 'fast'"]),
    ([*S, "--lr", "-inf"], ["--lr must be a finite number > 0, got '-inf'"]),
    ([*S, "--tol", "nan"], ["--tol must be a finite number >= 0"]),
    ([*S, "--tol", "-1"], ["--tol must be a finite number >= 0"]),
    ([*S, "--steps", "many"], ["--steps must be an integer >= 1, got 'many'"]),
    ([*S, "--steps", "2.5"], ["--steps must be an integer >= 1, got '2.5'"]),
    ([*S, "--schedule", "exponential:gamma=nan"], ["gamma must be a finite number"]),
    ([*S, "--schedule", "cosine:steps=3"], ["cosine takes total_steps, final"]),
    ([*S, "--schedule", "cosine:total_steps"], ["key=value"]),
    (
        [*S, "--schedule", "step:gamma=0.5,gamma=0.1"],
        ["--schedule: gamma is given twice in 'gamma=0.5,gamma=0.1'; give it once"],
    ),
    ([*S, "--schedule", "step:step_size=0"], ["step_size must be an integer >= 1, got 0"]),
    (["check", "median", "--eps", "0"], ["--eps must be a finite number > 0"]),
    (["check", "median", "--fd-tol", "nan"], ["--fd-tol must be a finite number > 0"]),
    (["check", "median", "--exact-tol", "x"], ["--exact-tol must be a finite number > 0"]),
    (["check", "median", "--count", "-1"], ["--count must be an integer >= 0"]),
    (["check", "median", "--count", "0"], ["nothing to check"]),
    (["compare", "median", "--steps", "0"], ["--steps must be an integer >= 1"]),
    # initial points
    ([*S, "--x0", "1,2,3"], ["--x0 has 3 coordinates", "dimension 2"]),
    ([*S, "--x0", "0.5"], ["--x0 has 1 coordinate", "dimension 2"]),
    ([*S, "--x0", "1,two"], ["--x0 coordinate 2 ('two') is not a number"]),
    ([*S, "--x0", "1,nan"], ["--x0 coordinate 2 ('nan') is not a finite number"]),
    ([*S, "--x0", "1,inf"], ["is not a finite number"]),
    (["check", "median", "--n", "5", "--at", "1"], ["--at has 1 coordinate"]),
    (["compare", "median", "--x0", "1,2,3"], ["--x0 has 3 coordinates"]),
    # usage
    (["solve"], ["solve: missing PROBLEM", "known problems: ", "median"]),
    (["solve", "--n", "5"], ["the problem comes first"]),
    ([*S, "extra"], ["unexpected extra argument"]),
    ([*S, "--lr"], ["--lr", "requires an argument"]),
    (["problems", "--bogus"], ["no such option: --bogus"]),
]


@pytest.mark.parametrize(("args", "words"), BAD_INPUT, ids=lambda v: " ".join(v)[:60])
def test_bad_input_is_one_line_and_exit_2(args: list[str], words: list[str]) -> None:
    line = fails(args)
    for word in words:
        assert word in line, line


def test_points_file_missing(tmp_path: Path) -> None:
    line = fails(["solve", "median", "--points", str(tmp_path / "nope.csv")])
    assert "nope.csv: no such points file" in line


def test_points_file_malformed(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("x,y\n1,2\n3,oops\n")
    line = fails(["solve", "median", "--points", str(f)])
    assert "bad.csv:3" in line


def test_points_file_unreadable(tmp_path: Path) -> None:
    # A directory cannot be read as a file, even by root (who ignores permission bits).
    line = fails(["solve", "median", "--points", str(tmp_path)])
    assert "is a directory" in line
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage")
    assert "not UTF-8" in fails(["solve", "median", "--points", str(binary)])


def test_points_file_empty(tmp_path: Path) -> None:
    f = tmp_path / "empty.csv"
    f.write_text("")
    assert "empty" in fails(["solve", "median", "--points", str(f)])


def test_out_into_a_missing_directory_fails_before_solving(tmp_path: Path) -> None:
    line = fails([*S, "--out", str(tmp_path / "no" / "r.json")])
    assert "does not exist" in line
    assert "is a directory" in fails([*S, "--out", str(tmp_path)])


def test_an_unexpected_error_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: Any) -> Any:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(GeometricMedian, "compute_reference", boom)
    line = fails(S, code=3)
    assert "unexpected RuntimeError: boom second line" in line
    assert "--debug" in line


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(GeometricMedian, "compute_reference", boom)
    result = runner.invoke(app, ["--debug", *S])
    assert result.exit_code == 3
    assert "Traceback" in result.stderr and "compute_reference" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("geograd: error: unexpected RuntimeError")
    # --debug after the command, and GEOGRAD_DEBUG=1, do the same; neither outlives its run.
    assert "Traceback" in runner.invoke(app, [*S, "--debug"]).stderr
    assert "Traceback" in runner.invoke(app, S, env={"GEOGRAD_DEBUG": "1"}).stderr
    assert "Traceback" not in runner.invoke(app, S).stderr


def test_a_missing_reference_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(self: Any) -> Any:
        raise InputError("no reference for this data")

    monkeypatch.setattr(GeometricMedian, "compute_reference", unavailable)
    result = runner.invoke(app, S)
    assert result.exit_code == 0, result.stderr
    assert "unavailable (no reference for this data)" in result.stdout
    result = runner.invoke(app, [*S, "--json"])
    assert '"reference": null' in result.stdout and '"distance": null' in result.stdout


def test_a_broken_plugin_is_listed_and_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import geograd.problems as problems

    monkeypatch.setitem(problems._BUILTIN, "broken", "no_such_module_here:Problem")
    listing = runner.invoke(app, ["solve", "--help"])
    assert listing.exit_code == 0 and "broken" in listing.stdout and "median" in listing.stdout
    assert "cannot be loaded" in runner.invoke(app, ["problems"]).stdout
    line = fails(["solve", "broken", "--n", "3"])
    assert "problem 'broken'" in line and "ModuleNotFoundError" in line
    assert "cannot load" in fails(["check", "broken"])
