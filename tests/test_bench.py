"""The speed study: every method computes the same numbers, the rounds and ratios are
what the table says, and ``geograd bench`` prints, saves and refuses as a command should.
No figure here is a timing assertion: speed is what the study prints, never a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geograd import Tensor, bench
from geograd.cli.app import app

runner = CliRunner()
LOCAL = ["engine", "engine-numpy", "python-loop", "numpy", "scalar-graph"]


def test_the_evaluations_agree() -> None:
    xs, ys = bench.seed_points(500)
    la, ga = bench.engine_vector(Tensor(xs), Tensor(ys), (0.3, 0.3))
    lb, gb = bench.engine_scalar(xs, ys, (0.3, 0.3))
    lc, gc = bench.closed_form(xs, ys, (0.3, 0.3))
    assert la == pytest.approx(lc, abs=1e-13)
    assert lb == pytest.approx(lc, abs=1e-13)
    assert ga == pytest.approx(gc, abs=1e-13)
    assert gb == pytest.approx(gc, abs=1e-13)


def test_seed_points_reproduce_the_documented_loss() -> None:
    xs, ys = bench.seed_points(1000)
    loss, grad = bench.engine_vector(Tensor(xs), Tensor(ys), (0.3, 0.3))
    assert loss == pytest.approx(0.4430528244756474, abs=1e-12)
    assert grad == pytest.approx([-0.3277744397151291, -0.336282174741702], abs=1e-12)


def test_every_installed_method_agrees_and_the_missing_ones_say_why() -> None:
    result = bench.study([40, 120], rounds=2, budget_s=60.0, memory=False)
    for name in LOCAL:
        assert name in result.methods, result.skipped
    for row in result.cells.values():
        assert all(cell.agrees for cell in row.values())
        assert all(len(cell.times) == 2 for cell in row.values())
        # Ratios are taken within each round, against numpy's closed form.
        assert row["numpy"].ratios == [1.0, 1.0]
    for name, why in result.skipped.items():
        assert name in ("torch", "jax", "hips-autograd") and "not installed" in why


def test_a_method_past_the_budget_skips_the_larger_sizes() -> None:
    result = bench.study([30, 60], ["python-loop", "engine"], rounds=1, budget_s=1e-12)
    assert set(result.cells[30]) == {"python-loop", "engine"}
    assert 60 not in result.cells  # both passed the budget at N = 30
    assert set(result.peak_mb) == {"python-loop", "engine"}
    assert all(n == 30 for n, _ in result.peak_mb.values())


def test_the_command_prints_json_and_saves_the_figure(tmp_path: Path) -> None:
    png = tmp_path / "bench.png"
    args = ["bench", "--sizes", "50,100", "--rounds", "1", "--methods", "engine,numpy"]
    result = runner.invoke(app, [*args, "--json", "--plot", str(png)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["baseline"] == "numpy" and "warm" in doc["numpy_buffers"]
    assert {(r["n"], r["method"]) for r in doc["results"]} == {
        (50, "engine"), (50, "numpy"), (100, "engine"), (100, "numpy"),
    }  # fmt: skip
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = runner.invoke(app, args).stdout
    assert "ratio = time / numpy's time" in text and "peak traced memory" in text


def test_bad_flags_are_one_line_and_exit_2() -> None:
    for args, words in (
        (["--methods", "pytorch"], "unknown method 'pytorch'"),
        (["--sizes", "0"], "--sizes must be an integer >= 1"),
        (["--budget", "-1"], "--budget must be a finite number > 0"),
        (["--plot", "x.txt"], "--plot"),
    ):
        result = runner.invoke(app, ["bench", *args])
        assert result.exit_code == 2 and words in result.stderr, result.stderr


def test_python_dash_m_geograd_bench_is_the_same_study() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "geograd.bench", "--sizes", "50", "--rounds", "1",
         "--methods", "engine", "python-loop"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "python-loop" in out and "ratio = time / engine's time" in out


def test_sizes_beyond_memory_are_refused_before_any_work() -> None:
    result = runner.invoke(app, ["bench", "--sizes", "100000000000", "--methods", "numpy"])
    assert result.exit_code == 2 and "would need about" in result.stderr
    assert result.stdout == ""


def test_nothing_runnable_is_an_error_not_an_empty_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "unavailable", lambda method: "not here")
    result = runner.invoke(app, ["bench", "--sizes", "50", "--methods", "engine"])
    assert result.exit_code == 2 and "none of them can run here" in result.stderr


def test_quiet_prints_the_table_without_progress_lines() -> None:
    result = runner.invoke(app, ["bench", "--sizes", "50", "--rounds", "1", "--methods",
                                 "engine", "-q"])  # fmt: skip
    assert result.exit_code == 0 and "engine" in result.stdout and result.stderr == ""
