"""The benchmark's three evaluations agree, and its command prints the table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from geograd import Tensor
from geograd.bench import closed_form, engine_scalar, engine_vector, seed_points


def test_the_three_evaluations_agree() -> None:
    xs, ys = seed_points(500)
    la, ga = engine_vector(Tensor(xs), Tensor(ys), (0.3, 0.3))
    lb, gb = engine_scalar(xs, ys, (0.3, 0.3))
    lc, gc = closed_form(xs, ys, (0.3, 0.3))
    assert la == pytest.approx(lc, abs=1e-13)
    assert lb == pytest.approx(lc, abs=1e-13)
    assert ga == pytest.approx(gc, abs=1e-13)
    assert gb == pytest.approx(gc, abs=1e-13)


def test_seed_points_reproduce_the_documented_loss() -> None:
    xs, ys = seed_points(1000)
    loss, grad = engine_vector(Tensor(xs), Tensor(ys), (0.3, 0.3))
    assert loss == pytest.approx(0.4430528244756474, abs=1e-12)
    assert grad == pytest.approx([-0.3277744397151291, -0.336282174741702], abs=1e-12)


def test_bench_command_prints_figures_and_ratios() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "geograd.bench", "--sizes", "100", "300", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "a/c" in out and "b/a" in out
    assert "peak memory of (a) at N = 300" in out and "MB traced" in out
    assert "DISAGREE" not in out
    assert len([line for line in out.splitlines() if line.strip().startswith(("100", "300"))]) == 2
