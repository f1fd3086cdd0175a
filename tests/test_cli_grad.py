"""``geograd grad EXPR --at ...`` (issue 16, part 3): output, --hessian, --trace, --graph,
--json, and hostile input answered with one line and exit code 2, never run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd.cli.app import app

runner = CliRunner()
EXAMPLE = "sqrt(p + p + q)/3 + log(p*(p*q)) + 3"


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def refused(*args: str) -> str:
    """Run; expect exit 2, nothing on stdout, one line on stderr; that line."""
    result = invoke(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("geograd: error: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return str(result.stderr)


def test_the_issue_example() -> None:
    result = invoke("grad", EXAMPLE, "--at", "p=2,q=3")
    assert result.exit_code == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == f"expression  {EXAMPLE}"
    assert lines[1] == "at          p = 2, q = 3"
    assert lines[2] == f"value       {math.sqrt(7) / 3 + math.log(12) + 3:.12g}"
    assert lines[3] == "gradient"
    assert lines[4].split() == ["d/dp", f"{1 / (3 * math.sqrt(7)) + 1:.12g}"]
    assert lines[5].split() == ["d/dq", f"{1 / (6 * math.sqrt(7)) + 1 / 3:.12g}"]


def test_json_with_the_hessian() -> None:
    result = invoke("grad", "p*p*q + exp(q)", "--at", "p=2,q=0.5", "--hessian", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["value"] == pytest.approx(2.0 + math.exp(0.5))
    assert doc["gradient"] == {"p": 2.0, "q": pytest.approx(4.0 + math.exp(0.5))}
    h = doc["hessian"]
    assert h[0] == [1.0, 4.0]  # d²/dp² = 2q, d²/dpdq = 2p
    assert h[1][0] == 4.0 and h[1][1] == pytest.approx(math.exp(0.5))


def test_the_hessian_as_a_table() -> None:
    result = invoke("grad", "p*q", "--at", "p=2,q=3", "--hessian")
    assert result.exit_code == 0
    out = result.stdout.splitlines()
    i = out.index("hessian")
    assert out[i + 1].split() == ["p", "q"]
    assert out[i + 2].split() == ["p", "0", "1"] and out[i + 3].split() == ["q", "1", "0"]


def test_trace_is_the_backward_pass_in_reverse_topological_order() -> None:
    result = invoke("grad", EXAMPLE, "--at", "p=2,q=3", "--trace", "--json")
    assert result.exit_code == 0, result.stderr
    trace = json.loads(result.stdout)["trace"]
    assert trace[0]["node"] == EXAMPLE and trace[0]["gradient"] == 1.0
    position = {row["node"]: i for i, row in enumerate(trace)}
    assert len(position) == len(trace) == 11  # each node once (p once, though used thrice)
    for i, row in enumerate(trace):  # reverse topological: a node after every node using it
        assert all(position[name] > i for name in row["inputs"] if name in position)
    rows = {row["node"]: row for row in trace}
    assert rows["p + p"]["inputs"] == ["p", "p"]
    assert rows["p*q"]["op"] == "mul" and rows["p*q"]["value"] == 6.0
    assert rows["p*q"]["gradient"] == pytest.approx(1 / 6)  # d log(p*(p*q)) / d(p*q) = 1/(pq)
    assert rows["p"]["op"] == "input" and rows["p"]["gradient"] == pytest.approx(
        1 / (3 * math.sqrt(7)) + 1
    )
    assert trace[-1]["node"] in ("p", "q")  # the leaves come last
    text = invoke("grad", EXAMPLE, "--at", "p=2,q=3", "--trace").stdout
    assert "backward pass, reverse topological order (11 nodes)" in text


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_graph_is_drawn(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"g.{suffix}"
    result = invoke("grad", EXAMPLE, "--at", "p=2,q=3", "--graph", str(path))
    assert result.exit_code == 0, result.stderr
    assert path.stat().st_size > 1000
    assert f"graph       saved to {path}" in result.stdout


def test_graph_as_dot_text(tmp_path: Path) -> None:
    path = tmp_path / "g.dot"
    assert invoke("grad", "p*q", "--at", "p=2,q=3", "--graph", str(path)).exit_code == 0
    dot = path.read_text()
    assert 'label="p\\nvalue 2\\ngrad 3"' in dot and "n0 -> n2;" in dot


def test_no_variables_and_an_unused_one() -> None:
    assert invoke("grad", "2 ** 10", "--json").stdout.count('"value": 1024.0') == 1
    doc = json.loads(invoke("grad", "p + 1", "--at", "p=1,q=2", "--json").stdout)
    assert doc["gradient"] == {"p": 1.0, "q": 0.0}


def test_a_leading_minus_after_double_dash() -> None:
    result = invoke("grad", "--at", "p=3", "--", "-p**2")
    assert result.exit_code == 0 and "value       -9" in result.stdout


# ---------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('touch {marker}')", "calling attribute access ('.system')"),
        ("__import__('os')", "'__import__' at column 1 is not one of the engine's functions"),
        ("p.__class__.__bases__", "attribute access ('.__bases__')"),
        ("(lambda: __import__('os').system('touch {marker}'))()", "calling a lambda"),
        ("[open('{marker}', 'w') for _ in (1,)]", "a list comprehension"),
        ("{{x for x in (p,)}}", "a set comprehension"),
        ("9**9**9", "'9**9**9' at column 1: pow(9.0, 387420489.0) overflows float64"),
        ("10**10**10**10", "overflows float64"),
        ("(" * 10_000 + "p" + ")" * 10_000, "characters long; at most 2000"),
        ("(" * 150 + "p" + ")" * 150, "brackets nested more than 100 deep at column 101"),
        ("-" * 1500 + "p", "nests more than 1000 operations deep"),
        ("p+" * 100_000 + "p", "characters long"),
        ("log(-1)", "'log(-1)' at column 1: log(-1.0) is undefined"),
        ("log(p - 3)", "log(-1.0) is undefined"),
        ("1/(p - p)", "division by zero"),
        # fine at 0, but its derivative is infinite there
        ("sqrt(p - 2)", "the gradient does not exist here (div: division by zero"),
        ("x + 1", "unknown name 'x' at column 1; the variables are p"),
        ("p ; import os", "not a valid expression"),
        ("p\nimport os", "not a valid expression"),
    ],
)
def test_hostile_input_is_one_line_and_exit_2(
    expression: str, message: str, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    line = refused("grad", "--at", "p=2", "--", expression.format(marker=marker))
    assert message in line
    assert not marker.exists()  # nothing was run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "p=2,p=3"], "--at: 'p' is given twice"),
        (["--at", "p=nan"], "not a finite number"),
        (["--at", "os=__import__('os')"], "is not a number"),
        (["--at", "p=2", "--graph", "g.txt"], "'.txt' is not a graph format"),
        (["--at", "p=2", "--graph", "/nonexistent/dir/g.png"], "--graph"),
        (["--at", "p=2", "--hessian", "--bogus"], "no such option"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    assert message in refused("grad", "p*p", *args)


@pytest.mark.parametrize(
    ("expression", "at", "message"),
    [
        ("x*y", "x=1e308,y=1e308", "'x*y' at column 1: overflows float64 (from 1e+308 and 1e+308)"),
        ("x/y", "x=1e308,y=1e-308", "'x/y' at column 1: overflows float64"),
        # a finite value whose derivative is beyond float64: d/dy = -x/y² = -1e400
        ("x/y", "x=1,y=1e-200", "the gradient overflows float64 at this point (d/dy = -inf)"),
    ],
)
def test_an_overflow_is_refused_not_printed_as_inf(expression: str, at: str, message: str) -> None:
    assert message in refused("grad", expression, "--at", at)


def test_a_derivative_that_does_not_exist_is_refused_not_printed_as_0() -> None:
    # (-2)**y exists only at whole y: no d/dy there
    line = refused("grad", "x**y", "--at", "x=-2,y=2")
    assert "the gradient does not exist here (pow: a ** b has no derivative" in line
    # with a constant exponent d/dx = 2x exists at -2
    assert "d/dx  -4" in invoke("grad", "x**2", "--at", "x=-2").stdout


def test_a_hessian_beyond_float64_is_refused() -> None:
    # 1/x at 1e-103: value 1e103 and gradient -1e206 are finite, d²/dx² = 2/x³ = 2e309 is not
    without = invoke("grad", "1/x", "--at", "x=1e-103")
    assert without.exit_code == 0 and "-1e+206" in without.stdout
    line = refused("grad", "1/x", "--at", "x=1e-103", "--hessian")
    assert "the Hessian overflows float64 at this point (d2/dx dx = inf)" in line


def test_hostile_input_never_hangs_in_a_real_process(tmp_path: Path) -> None:
    # the installed entry point, in its own interpreter: a hang would hit the timeout
    marker = tmp_path / "ran"
    for expression in (
        "9**9**9**9",
        "(" * 20_000 + ")" * 20_000,
        f"__import__('os').system('touch {marker}')",
        "2**" * 600 + "2",
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "geograd", "grad", expression, "--at", "p=1"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("geograd: error: ") and proc.stderr.count("\n") == 1
        assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not marker.exists()


def test_a_hessian_that_does_not_exist_is_said_with_what_to_do() -> None:
    """atan2 is smooth away from the origin and has no second derivative there."""
    line = refused("grad", "atan2(y, x)", "--at", "x=0,y=0", "--hessian")
    assert "the Hessian does not exist here" in line
    assert "give a point where the expression is twice differentiable" in line
    assert invoke("grad", "atan2(y, x)", "--at", "x=1,y=0", "--hessian").exit_code == 0
