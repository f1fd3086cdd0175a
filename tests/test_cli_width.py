"""Tables piped or written to a file are at most 100 columns wide (cells wrap, nothing is cut);
on a terminal they take the terminal's width."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd.cli import report
from geograd.cli.app import app

runner = CliRunner()

LONG = " ".join(f"word{i}" for i in range(80))  # 559 characters, with spaces to wrap at


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No variable that makes rich take a pipe for a terminal; a wide $COLUMNS, which a
    pipe's width must not follow."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    yield


def widths(text: str) -> list[int]:
    """The length of each line as shown (a terminal's colour codes take no room)."""
    return [len(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in text.splitlines()]


def words(text: str) -> str:
    """The text with every run of white space one space: what survives wrapping."""
    return " ".join(text.split())


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return str(result.stdout)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_show_wraps_a_wide_table_at_100_columns_into_a_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert report.MAX_WIDTH == 100
    table = report.grid(["name", "text~", "n>"], [["first", LONG, "12345"], ["second", "x", "1"]])
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stdout", piped)
    report.show(table)
    out = piped.getvalue()
    assert max(widths(out)) <= 100
    assert len(out.splitlines()) > 6  # the long cell took several lines
    assert set(LONG.split()) <= set(out.split()) and "12345" in out  # wrapped, not cut
    # A narrow table keeps its own width.
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stdout", piped)
    report.show(report.grid(["name", "n>"], [["first", "1"]]))
    assert max(widths(piped.getvalue())) < 20
    # A terminal's width is its own ($COLUMNS here, as it is when no size can be asked).
    tty = Tty()
    monkeypatch.setattr(sys, "stdout", tty)
    report.show(table)
    assert 100 < max(widths(tty.getvalue())) <= 200


def test_a_piped_solve_summary_stays_within_100_columns() -> None:
    args = ("solve", "median", "--n", "1000")
    out = run(*args)
    assert max(widths(out)) <= 100
    doc = json.loads(run(*args, "--json"))
    # The long rows are wrapped, not cut: every word of the stop message is there.
    assert len(doc["message"]) > 60
    assert words(doc["message"]) in words(out)


def test_a_piped_comparison_stays_within_100_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from geograd.problems import Problem

    # scipy's own words when BFGS or CG gives up (as they do on enclosing-circle): the
    # "stop" cell is then the longest of the table.
    message = "Desired error not necessarily achieved due to precision loss."
    real = Problem.baselines

    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        return [
            dataclasses.replace(b, success=False, message=message)
            for b in real(self, *args, **kwargs)
        ]

    monkeypatch.setattr(Problem, "baselines", failing)
    out = run(
        "compare", "median", "--n", "200", "--optimizers", "gd,adam", "--baselines", "BFGS,CG"
    )
    assert max(widths(out)) <= 100
    text = words(out)
    for name in ("gd", "adam", "BFGS", "CG"):
        assert f" {name} " in text
    assert set(f"failed: {message}".split()) <= set(out.split())  # wrapped, not cut
    # The caption, longer than any line, is wrapped whole.
    assert "scipy.optimize.minimize; gap = objective - reference objective" in text


def test_a_piped_optimizer_listing_stays_within_100_columns() -> None:
    out = run("optimizers")
    assert max(widths(out)) <= 100
    assert "adam" in out


def test_a_solve_summary_written_to_a_file_too(tmp_path: Any) -> None:
    # What a shell's "> file" gives the same process: a file, not a terminal.
    target = tmp_path / "summary.txt"
    with open(target, "w", encoding="utf-8") as f:
        old = sys.stdout
        sys.stdout = f
        try:
            report.show(report.key_value_table([("stopped", LONG), ("steps", "14 steps")]))
        finally:
            sys.stdout = old
    text = target.read_text(encoding="utf-8")
    assert max(widths(text)) <= 100
    assert LONG in words(text)
