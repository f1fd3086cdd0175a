"""The real thing: the installed ``geograd`` script, ``python -m geograd``, start-up imports."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("geograd")
HEAVY = ("numpy", "scipy", "matplotlib")


def run(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_installed_script_solves_the_median() -> None:
    assert SCRIPT.exists(), f"no geograd script next to {sys.executable}"
    proc = run(SCRIPT, "solve", "median", "--n", "1000", "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar: stderr is not a terminal
    data = json.loads(proc.stdout)
    assert data["converged"] is True and data["distance"] <= 1e-6


def test_python_m_geograd_saves_a_result(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    proc = run(sys.executable, "-m", "geograd", "solve", "median", "--n", "300", "-q", "--out", f)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert json.loads(f.read_text())["reason"] in ("gtol", "ftol", "xtol")


def test_bad_input_in_a_real_process_is_one_line_and_exit_2() -> None:
    for cmd in (
        [SCRIPT, "solve", "median", "--n", "0"],
        [sys.executable, "-m", "geograd", "solve", "median", "--optimizer", "adma"],
        [SCRIPT, "bogus"],
    ):
        proc = run(*cmd)
        assert proc.returncode == 2, (cmd, proc.stderr)
        assert proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("geograd: error: ")
        assert "Traceback" not in proc.stderr


PROBE = textwrap.dedent(
    """
    import sys
    sys.argv = ["geograd", *{args!r}]
    from geograd.cli import run
    try:
        run()
    except SystemExit as exc:
        code = exc.code
    else:
        code = "no SystemExit"
    sys.stdout.flush()
    heavy = sorted({{m.partition(".")[0] for m in sys.modules}} & {heavy!r})
    print("PROBE", code, ",".join(heavy) or "-", file=sys.stderr)
    """
)


def probe(*args: str) -> tuple[str, str]:
    """(exit code, heavy modules imported) of the CLI run in a fresh interpreter."""
    code = PROBE.format(args=list(args), heavy=set(HEAVY))
    proc = run(sys.executable, "-c", code)
    line = proc.stderr.strip().splitlines()[-1]
    _, exit_code, heavy = line.split(" ")
    return exit_code, heavy


@pytest.mark.parametrize(
    "args",
    [["--help"], ["problems"], ["optimizers"], ["solve", "--help"], ["solve", "median", "--help"]],
)
def test_help_and_listings_import_neither_numpy_scipy_nor_matplotlib(args: list[str]) -> None:
    assert probe(*args) == ("0", "-")


def test_a_solve_imports_only_what_it_uses() -> None:
    # The reference (Weiszfeld) uses numpy; nothing in a solve needs scipy or matplotlib.
    assert probe("solve", "median", "--n", "50", "-q") == ("0", "numpy")
    # compare runs the scipy baselines.
    assert probe("compare", "median", "--n", "50", "-q") == ("0", "numpy,scipy")
