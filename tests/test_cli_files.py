"""The CLI and the user's files: what --out, --plot and --animate may write over, inputs
never overwritten by outputs, inputs read only from regular files, tampered saved
results, standard output closed or full, and SIGINT/SIGTERM during a run or a write.

Each failure is one line on stderr with the file or flag and what is wrong, exit 2
(141 for a broken pipe, 130 for SIGINT and SIGTERM alike), and nothing the user had is
lost. Device nodes and FIFOs are made in a temporary directory; processes that could
block are real subprocesses with a timeout; signals are real, sent in step with the
subprocess through pipes, never after a delay.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from geograd.cli.app import app

runner = CliRunner()
SCRIPT = Path(sys.executable).with_name("geograd")
SOLVE = ["solve", "median", "--n", "30"]


def fails(args: list[str | Path], code: int = 2) -> str:
    """The one line of a CLI run that must fail before doing anything."""
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("geograd: error: "), result.stderr
    assert "unexpected" not in lines[0] and "Traceback" not in result.stderr
    return lines[0]


def run(
    cmd: list[str | Path], timeout: float = 120, stdout: Any = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], stdout=stdout, stderr=subprocess.PIPE, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    return lines[0]


def char_node(path: Path) -> Path:
    # A character device 1:3 (like /dev/null): safe if a regression opens it.
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return path


#: How the atomic writer's temporary files are named: ``.NAME.geograd-tmp-XXXXXXXX.SUFFIX``.
TEMP_MARK = ".geograd-tmp-"


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if TEMP_MARK in p.name)


def points_file(tmp_path: Path, name: str = "d.csv") -> Path:
    p = tmp_path / name
    p.write_text("x,y\n0,0\n1,0\n1,1\n0,1\n0.25,0.5\n")
    return p


# ------------------------------------------------------------------------ what is written


def test_out_refuses_a_device_node_before_the_run(tmp_path: Path) -> None:
    node = char_node(tmp_path / "null.json")
    line = fails([*SOLVE, "--out", node])
    assert line == (
        f"geograd: error: --out {node}: is a character device, not a regular file; "
        "geograd writes only regular files, so give a file name"
    )
    assert stat.S_ISCHR(os.lstat(node).st_mode)


@pytest.mark.parametrize(
    "flag,name", [("--out", "r.json"), ("--plot", "p.png"), ("--animate", "a.gif")]
)
def test_outputs_refuse_a_fifo(tmp_path: Path, flag: str, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    assert f"{flag} {fifo}: is a FIFO (named pipe), not a regular file" in fails(
        [*SOLVE, flag, fifo]
    )
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_out_refuses_a_read_only_file(tmp_path: Path) -> None:
    f = tmp_path / "keep.json"
    f.write_text("precious")
    f.chmod(0o444)
    assert "is read-only (mode 0444)" in fails([*SOLVE, "--out", f])
    assert f.read_text() == "precious"


def test_out_through_a_symlink_writes_the_file_it_points_to(tmp_path: Path) -> None:
    target = tmp_path / "run1.json"
    target.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to("run1.json")
    result = runner.invoke(app, [*SOLVE, "-q", "--out", str(link)])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert json.loads(target.read_text())["problem"] == "median"
    assert temp_files(tmp_path) == []


def test_an_output_that_is_an_input_is_refused_before_the_run(tmp_path: Path) -> None:
    # Needs check_distinct called in cli/solve.py's run_solve and run_compare.
    data = points_file(tmp_path)
    before = data.read_text()
    line = fails(["solve", "median", "--points", data, "--out", data])
    assert "--out" in line and "--points" in line and "is the same file as" in line
    assert data.read_text() == before
    source, target = points_file(tmp_path, "s.csv"), points_file(tmp_path, "t.csv")
    line = fails(["compare", "registration", "--source", source, "--target", target,
                  "--out", tmp_path / "." / "s.csv"])  # fmt: skip
    assert "--out" in line and "--source" in line
    line = fails([*SOLVE, "--out", tmp_path / "x.png", "--plot", tmp_path / "x.png"])
    assert "--plot" in line and "--out" in line and "its own name" in line


# -------------------------------------------------------------------------- what is read


def test_points_from_a_device_node_are_refused(tmp_path: Path) -> None:
    node = char_node(tmp_path / "zero.csv")
    line = fails(["solve", "median", "--points", node])
    assert f"{node}: is a character device, not a regular file" in line


def test_points_from_a_fifo_without_a_writer_never_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    proc = run([SCRIPT, "solve", "median", "--points", fifo], timeout=120)
    assert proc.returncode == 2
    assert f"{fifo}: is a FIFO (named pipe), not a regular file" in one_line(proc)


def test_points_with_a_csv_field_over_the_csv_limit(tmp_path: Path) -> None:
    p = tmp_path / "long.csv"
    p.write_text("x,y\n0,0\n1," + "1" * 200_000 + "\n")
    line = fails(["solve", "median", "--points", p])
    assert line.startswith(f"geograd: error: {p}:3: not a line of comma-separated numbers")


def test_points_from_a_npy_announcing_terabytes(tmp_path: Path) -> None:
    p = tmp_path / "huge.npy"
    with open(p, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "<f8", "fortran_order": False, "shape": (10**11, 2)}
        )
        fh.write(b"\0" * 64)
    line = fails(["solve", "median", "--points", p])
    assert "announces an array of shape (100000000000, 2) (1.46 TiB)" in line


@pytest.fixture
def saved(tmp_path: Path) -> dict[str, Any]:
    """A saved solve result of the median of a points file."""
    data = points_file(tmp_path)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["solve", "median", "--points", str(data), "-q", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def spec_points(doc: dict[str, Any], path: Path) -> dict[str, Any]:
    """``doc`` with its spec's points file replaced by ``path``, wherever it is named."""
    source = doc["spec"]["options"]["points"]
    text = json.dumps(doc["spec"]).replace(json.dumps(source), json.dumps(str(path)))
    return {**doc, "spec": json.loads(text)}


def test_plot_of_a_result_whose_spec_points_at_a_device_or_a_fifo(
    tmp_path: Path, saved: dict[str, Any]
) -> None:
    node = char_node(tmp_path / "zero.csv")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path, kind in ((node, "a character device"), (fifo, "a FIFO (named pipe)")):
        r = tmp_path / "tampered.json"
        r.write_text(json.dumps(spec_points(saved, path)))
        proc = run([SCRIPT, "plot", r, "--plot", tmp_path / "p.png"], timeout=120)
        assert proc.returncode == 2, proc.stderr
        line = one_line(proc)
        assert line.startswith(f"geograd: error: {r}: ") and f"{path}: is {kind}" in line


def test_plot_reads_the_result_only_from_a_regular_file(tmp_path: Path) -> None:
    node = char_node(tmp_path / "r.json")
    assert "is a character device, not a regular file" in fails(
        ["plot", node, "--plot", tmp_path / "p.png"]
    )
    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    proc = run([SCRIPT, "plot", fifo, "--plot", tmp_path / "p.png"], timeout=120)
    assert proc.returncode == 2 and "is a FIFO (named pipe)" in one_line(proc)


def _set(*keys: Any, value: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        node = doc
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value(node[keys[-1]]) if callable(value) else value

    return change


TAMPERED = [
    ("empty reference", _set("reference", "solution", value=[]), "the reference solution is []"),
    ("NaN reference", _set("reference", "solution", value=[None, None]),
     "the reference solution is [None, None], not 2 finite numbers"),
    ("empty x", _set("history", "x", value=lambda xs: [[] for _ in xs]),
     "x at step 0 is [], not 2 finite numbers"),
    ("ragged x", _set("history", "x", value=lambda xs: [xs[0], [0.5], *xs[2:]]),
     "x at step 1 is [0.5], not 2 finite numbers"),
    ("NaN x", _set("history", "x", value=lambda xs: [xs[0], [None, 0.5], *xs[2:]]),
     "x at step 1 is [None, 0.5]"),
    ("NaN loss", _set("history", "loss", value=lambda ls: [None] * len(ls)),
     "the loss at step 0 is None, not a finite number"),
    ("one NaN loss", _set("history", "loss", value=lambda ls: [ls[0], None, *ls[2:]]),
     "the loss at step 1 is None"),
]  # fmt: skip


@pytest.mark.parametrize("case,change,expected", TAMPERED, ids=[t[0] for t in TAMPERED])
def test_plot_of_a_tampered_result_is_one_line(
    tmp_path: Path, saved: dict[str, Any], case: str, change: Any, expected: str
) -> None:
    doc = copy.deepcopy(saved)
    change(doc)
    r = tmp_path / "tampered.json"
    r.write_text(json.dumps(doc))
    line = fails(["plot", r, "--plot", tmp_path / "p.png"])
    assert line.startswith(f"geograd: error: {r}: ") and expected in line
    assert not (tmp_path / "p.png").exists()


def test_plot_refuses_nan_literals_which_strict_json_has_not(
    tmp_path: Path, saved: dict[str, Any]
) -> None:
    r = tmp_path / "nan.json"
    text = json.dumps(saved)
    solution = json.dumps(saved["reference"]["solution"])
    r.write_text(text.replace(solution, "[NaN, Infinity]", 1))
    line = fails(["plot", r, "--plot", tmp_path / "p.png"])
    assert line == (
        f"geograd: error: {r}: not strict JSON (NaN is not a JSON value); geograd writes null there"
    )


# ----------------------------------------------------------------------- standard output


def test_a_closed_stdout_is_one_line_and_exit_2() -> None:
    proc = run(["sh", "-c", 'exec "$0" "$@" >&-', SCRIPT, *SOLVE, "--json"])
    assert proc.returncode == 2
    assert one_line(proc) == (
        "geograd: error: cannot write to standard output: it is closed (Bad file descriptor); "
        "redirect it to a file or to /dev/null instead of closing it"
    )


def test_a_closed_stdout_is_no_error_when_nothing_is_printed(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run(["sh", "-c", 'exec "$0" "$@" >&-', SCRIPT, *SOLVE, "-q", "--out", out])
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(out.read_text())["problem"] == "median"


def test_a_full_stdout_is_one_line_and_the_result_is_still_saved(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    with open("/dev/full", "w") as full:
        proc = run([SCRIPT, *SOLVE, "--out", out], stdout=full)
    assert proc.returncode == 2
    assert one_line(proc) == (
        "geograd: error: cannot write to standard output (No space left on device); "
        "the output is lost, free some space or redirect it elsewhere"
    )
    assert json.loads(out.read_text())["problem"] == "median"


def test_a_broken_pipe_is_one_line_and_exit_141() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        proc = subprocess.run(
            [str(SCRIPT), *SOLVE, "--json"], stdout=write_end, stderr=subprocess.PIPE,
            text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert proc.returncode == 141
    assert one_line(proc).startswith(
        "geograd: error: standard output was closed by its reader before all was written"
    )


# ------------------------------------------------------------------------------- signals

# The CLI in a child process, held at a point of our choosing: it says "ready" on
# stderr and waits for a line on stdin; the parent signals it, then sends the line.
HELD = textwrap.dedent(
    """
    import json, sys
    where, args = sys.argv[1], sys.argv[2:]

    def hold():
        print("ready", file=sys.stderr, flush=True)
        sys.stdin.readline()

    if where == "solve":  # in the middle of the solve loop (the loss it evaluates)
        from geograd.problems.median import GeometricMedianCore as GeometricMedian

        loss, calls = GeometricMedian.loss, [0]

        def held_loss(self, x):
            calls[0] += 1
            if calls[0] == 20:
                hold()
            return loss(self, x)

        GeometricMedian.loss = held_loss
    else:  # while --out is written: after half of it
        dump = json.dump

        def held_dump(obj, fh, **kwargs):
            text = json.dumps(obj, **kwargs)
            fh.write(text[: len(text) // 2])
            fh.flush()
            hold()
            fh.write(text[len(text) // 2 :])

        json.dump = held_dump
    from geograd.cli import run

    run(args)
    """
)


def held(where: str, args: list[str | Path]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HELD, where, *map(str, args)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if line != "ready\n":
        proc.kill()
        pytest.fail(f"the child did not get ready: {line}{proc.communicate()[1]}")
    return proc


def test_sigterm_during_a_solve_keeps_the_run_like_ctrl_c(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = held("solve", [*SOLVE, "--steps", "100000", "--json", "--out", out])
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate("go\n", timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    printed = json.loads(stdout)
    assert printed["interrupted"] is True and printed["reason"] == "interrupted"
    saved = json.loads(out.read_text())
    assert saved["reason"] == "interrupted" and saved["history"]["step"][-1] >= 1
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize(
    "signum,said", [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated (SIGTERM)")]
)
def test_a_signal_while_out_is_written_finishes_the_file(
    tmp_path: Path, signum: int, said: str
) -> None:
    out = tmp_path / "r.json"
    out.write_text("old")
    proc = held("write", [*SOLVE, "--out", out])
    proc.send_signal(signum)
    _, stderr = proc.communicate("go\n", timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.splitlines()[-1] == f"geograd: {said}"
    saved = json.loads(out.read_text())  # complete, the converged run in it
    assert saved["problem"] == "median" and saved["converged"] is True
    assert temp_files(tmp_path) == []
