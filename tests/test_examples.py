"""examples/ (issue 16, part 4): each script runs and prints what examples/README.md says."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(script: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found is not None, (pattern, text)
    return float(found.group(1))


def test_every_script_is_described_in_the_readme() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts  # there are examples
    for name in scripts:
        assert f"python examples/{name}" in readme, name


@pytest.mark.parametrize("suffix", ["png", "dot"])
def test_the_seed_graph(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"seed.{suffix}"
    out = run("seed_graph.py", str(path))
    for line in ("F = 16   dF/dF = 1", "C = 8   dF/dC = 2", "D = 2   dF/dD = 8"):
        assert line in out
    assert "A = 3   dF/dA = 2" in out and "B = 5   dF/dB = 2" in out
    assert "graph: 5 nodes, 4 edges" in out and f"saved the graph to {path}" in out
    if suffix == "dot":
        assert 'label="C = add\\nvalue 8\\ngrad 2"' in path.read_text()
    else:
        assert path.read_bytes().startswith(b"\x89PNG")


def test_sigmoid_as_a_composition(tmp_path: Path) -> None:
    out = run("sigmoid.py", str(tmp_path / "sigmoid.svg"))
    assert number(r"largest difference: (\S+)", out) < 1e-15
    assert "composed graph: 7 nodes, operations neg exp add div" in out
    assert "primitive graph: 2 nodes, operations sigmoid" in out
    # the printed derivative at 0 is σ(0)(1 − σ(0)) = 1/4
    assert "x =   0.0  composed σ = 0.500000000000000  dσ/dx = 0.250000000000000" in out
    assert (tmp_path / "sigmoid.svg").exists()


def test_forward_vs_reverse() -> None:
    out = run("forward_vs_reverse.py", "20")
    assert "forward mode: 20 JVPs" in out and "reverse mode: 1 VJP" in out
    assert number(r"difference between the two gradients: (\S+)", out) < 1e-13
    left = number(r"<u, J v> = (\S+),", out)
    right = number(r"<J\^T u, v> = (\S+)", out)
    assert left == pytest.approx(right, rel=1e-12, abs=1e-12)


def test_finite_difference_error_against_h() -> None:
    out = run("finite_differences.py")
    best = number(r"best h: (\S+) ", out)
    assert 1e-7 <= best <= 1e-3  # the bottom of the V, near ε^(1/3)
    floor = number(r"best h: \S+ \(error (\S+)\)", out)
    large = number(r"at h = 1e-01: (\S+);", out)
    small = number(r"at h = 1e-13: (\S+)", out)
    assert large > 1e3 * floor and small > 1e3 * floor  # both arms of the V rise
    assert number(r"autograd error: (\S+)", out) <= 1e-15


def test_geometric_median_from_scratch() -> None:
    out = run("geometric_median.py")
    assert number(r"distance between the two: (\S+)", out) < 1e-6
    start = number(r"start: c = \(0, 0\), L = (\S+)", out)
    end = number(r"gradient descent: c = .*, L = (\S+),", out)
    assert end < start and math.isfinite(end)
