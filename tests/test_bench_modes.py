"""``geograd bench --modes``: forward mode (n JVPs) against reverse mode (one VJP) for the
full gradient of f: R^n -> R. The two gradients agree with the closed form, the command
prints both modes and their ratio, saves the figure, and refuses what it does not take.
No figure here is a timing assertion: speed is what the study prints, never a test."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geograd import Tensor, modes
from geograd.cli.app import app

runner = CliRunner()


def closed_form_gradient(x: list[float]) -> list[float]:
    """∂f/∂x_i = softmax(x)_i + tanh(x_i) + x_i (1 − tanh²(x_i))."""
    m = max(x)
    e = [math.exp(v - m) for v in x]
    s = math.fsum(e)
    return [a / s + math.tanh(v) + v * (1 - math.tanh(v) ** 2) for a, v in zip(e, x)]


@pytest.mark.parametrize("n", [1, 2, 7])
def test_both_modes_give_the_closed_form_gradient(n: int) -> None:
    x = modes.point(n)
    want = closed_form_gradient(x)
    assert modes.gradient_forward(modes.objective, Tensor(x)) == pytest.approx(want, rel=1e-13)
    assert modes.gradient_reverse(modes.objective, Tensor(x)) == pytest.approx(want, rel=1e-13)


def test_the_study_times_each_n_in_every_round() -> None:
    result = modes.study([4, 1, 4], rounds=2)
    assert [row.n for row in result.rows] == [1, 4]  # sorted, once each
    for row in result.rows:
        assert len(row.forward_s) == len(row.reverse_s) == len(row.ratios) == 2
        assert row.agrees
        assert row.ratios == [f / r for f, r in zip(row.forward_s, row.reverse_s)]
    assert "forward/reverse" in modes.table(result)


def test_the_command_prints_both_modes_and_their_ratio() -> None:
    result = runner.invoke(app, ["bench", "--modes", "--sizes", "1,4", "--rounds", "1"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "forward mode: n JVPs" in result.stdout and "reverse mode: one VJP" in result.stdout
    header = next(line for line in lines if "forward/reverse" in line)
    assert "forward (n JVPs)" in header and "reverse (1 VJP)" in header
    rows = [line.split() for line in lines if line.strip().split(" ")[0] in ("1", "4")]
    assert [r[0] for r in rows] == ["1", "4"]
    for r in rows:  # n, forward time and unit, reverse time and unit, ratio, per call
        assert len(r) == 7 and r[2] in ("ms", "s") and r[4] in ("ms", "s")
        assert r[5].endswith("x") and float(r[5][:-1].replace(",", "")) > 0 and float(r[6]) > 0
    assert "WRONG" not in result.stdout
    assert "n = 4: forward" in result.stderr  # progress, unless --quiet


def test_the_command_writes_json_and_a_png(tmp_path: Path) -> None:
    png = tmp_path / "x.png"
    args = ["bench", "--modes", "--sizes", "1,4", "--rounds", "1", "--json", "-q"]
    result = runner.invoke(app, [*args, "--plot", str(png)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["n"] for r in doc["results"]] == [1, 4]
    assert all(r["agrees"] for r in doc["results"])
    for r in doc["results"]:
        ratios = [f / v for f, v in zip(r["forward_s"], r["reverse_s"])]
        assert r["forward_over_reverse"] == pytest.approx(statistics.median(ratios))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--to-solution"], "--to-solution is not for --modes"),
        (["--methods", "engine"], "--methods is not for --modes"),
        (["--budget", "1"], "--budget is not for --modes"),
        (["--sizes", "20000"], "n is at most 10,000"),
        (["--sizes", "0"], "--sizes must be an integer >= 1"),
        (["--plot", "x.txt"], "--plot"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(args: list[str], words: str) -> None:
    result = runner.invoke(app, ["bench", "--modes", *args])
    assert result.exit_code == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_python_m_geograd_bench_modes(capsys: pytest.CaptureFixture[str]) -> None:
    from geograd import bench

    bench.main(["--modes", "--sizes", "1", "2", "--rounds", "1", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert [r["n"] for r in doc["results"]] == [1, 2]
