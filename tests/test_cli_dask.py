"""``geograd solve/compare median --backend dask``: the CLI on a dask cluster.

A .npy, a Parquet file with a weight column and a Zarr array, each solved on a local
cluster the command starts (``--workers``, ``--memory-limit``, ``--chunk-size``) or on
one the test started (``--scheduler``), agree with the numpy backend on the same
points; ``--json`` describes the cluster and the chunks; every misuse of the dask flags
is one line on stderr and exit code 2; Ctrl-C in a real process prints the best
iterate, exits 130 and leaves no worker process behind.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from processes import alive, gone
from typer.testing import CliRunner

from geograd.cli.app import app

np = pytest.importorskip("numpy")
pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pytest.importorskip("array_api_compat")

from geograd.cluster import Cluster, local_cluster  # noqa: E402
from geograd.problems.median import GeometricMedian  # noqa: E402

runner = CliRunner()
MiB = 2**20
LOCAL = ["--workers", "2", "--memory-limit", "512MiB"]


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (children, grandchildren, ...), by /proc's ppid."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[-1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        kids = [c for c, p in parents.items() if p in frontier]
        found += kids
        frontier = kids
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def solve_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["solve", "median", *args, "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["exit_code"] == 0
    return data


def fails(args: list[str]) -> str:
    """The one line a refused command prints (exit 2, nothing on stdout, no traceback)."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("geograd: error: "), lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


@pytest.fixture(scope="module")
def remote() -> Iterator[Cluster]:
    """A cluster this test started (one worker), for ``--scheduler``."""
    with local_cluster(workers=1, threads=1, memory_limit="512MiB") as c:
        c.client.wait_for_workers(1, timeout=60)
        pids = list(c.worker_pids().values())
        yield c
    assert gone(pids)


def _cloud(n: int, seed: int = 3) -> Any:
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(n, 2)) * [1.0, 2.0] + [0.5, -1.0]
    return pts


# --------------------------------------------------------------------------- solves


def test_solve_a_npy_file_on_a_local_cluster_equals_numpy(tmp_path: Path) -> None:
    n, chunk = 30_000, 7_000
    f = tmp_path / "p.npy"
    np.save(f, _cloud(n))
    # lbfgs stops on its gradient tolerance, at the same step on both backends; gd stops
    # where a step no longer lowers the loss, which rounding (numpy and dask sum in
    # other orders) can move by a step, and the solutions then differ by about 1e-8
    common = ["--points", str(f), "--optimizer", "lbfgs"]
    data = solve_json(*common, "--backend", "dask", *LOCAL, "--chunk-size", str(chunk))
    cluster, chunks = data["cluster"], data["chunks"]
    assert cluster["local"] is True and cluster["scheduler"].startswith("tcp://")
    assert cluster["workers"] == 2 and cluster["threads"] == 2
    assert [w["memory_limit"] for w in cluster["per_worker"]] == [512 * MiB, 512 * MiB]
    assert cluster["memory_limit"] == 1024 * MiB
    assert chunks["format"] == "npy" and chunks["points"] == n
    assert chunks["chunks"] == math.ceil(n / chunk) == 5 and chunks["chunk_size"] == chunk
    assert chunks["chunk_points_max"] == chunk and chunks["chunk_points_min"] == n - 4 * chunk
    assert chunks["bytes"] == 16 * n and chunks["weights"] is False
    assert data["backend"] == "dask" and data["n"] == n
    assert data["matches_reference"] is True and data["converged"] is True
    base = solve_json(*common, "--backend", "numpy")
    assert base["backend"] == "numpy" and "cluster" not in base and "chunks" not in base
    assert data["solution"] == pytest.approx(base["solution"], rel=0, abs=1e-10)
    assert data["reference"]["solution"] == pytest.approx(
        base["reference"]["solution"], rel=0, abs=1e-9
    )
    assert data["loss"] == pytest.approx(base["loss"], rel=1e-12)


def test_solve_a_weighted_parquet_file_equals_numpy(remote: Cluster, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    n = 20_000
    pts = _cloud(n, seed=4)
    w = np.random.default_rng(5).uniform(0.1, 3.0, size=n)
    f = tmp_path / "p.parquet"
    frame = pd.DataFrame({"label": np.arange(n), "y": pts[:, 1], "x": pts[:, 0], "weight": w})
    frame.to_parquet(f)
    data = solve_json(
        "--points", str(f), "--backend", "dask", "--scheduler", remote.address,
        "--chunk-size", "6000", "--optimizer", "lbfgs",
    )  # fmt: skip
    assert data["chunks"]["format"] == "parquet" and data["chunks"]["weights"] is True
    assert data["chunks"]["points"] == n and data["chunks"]["chunks"] == 4
    assert data["cluster"]["workers"] == 1
    assert "weight" in data["data"] and "equal weights" not in data["data"]
    assert data["matches_reference"] is True
    base = GeometricMedian.from_points(pts, weights=w, backend="numpy")
    assert data["reference"]["solution"] == pytest.approx(base.reference().x, rel=0, abs=1e-9)
    assert data["solution"] == pytest.approx(base.solve("lbfgs").x, rel=0, abs=1e-10)
    assert data["loss"] == pytest.approx(base.objective(data["solution"]), rel=1e-12)


def test_solve_a_zarr_array_on_a_given_scheduler_equals_numpy(
    remote: Cluster, tmp_path: Path
) -> None:
    zarr = pytest.importorskip("zarr")
    n = 20_000
    pts = _cloud(n, seed=6)
    z = zarr.open_array(
        str(tmp_path / "p.zarr"), mode="w", shape=pts.shape, chunks=(4_000, 2), dtype="f8"
    )
    z[:] = pts
    npy = tmp_path / "same.npy"
    np.save(npy, pts)
    pids = sorted(remote.worker_pids().values())
    data = solve_json(
        "--points", str(tmp_path / "p.zarr"), "--backend", "dask", "--scheduler",
        remote.address, "--chunk-size", "5000", "--optimizer", "lbfgs",
    )  # fmt: skip
    assert data["chunks"]["format"] == "zarr" and data["chunks"]["chunks"] == 4
    assert data["cluster"]["local"] is False and data["cluster"]["scheduler"] == remote.address
    assert data["cluster"]["workers"] == 1
    assert data["matches_reference"] is True
    base = solve_json("--points", str(npy), "--backend", "numpy", "--optimizer", "lbfgs")
    assert data["solution"] == pytest.approx(base["solution"], rel=0, abs=1e-10)
    # the CLI only disconnected: the test's cluster runs on, with the same worker
    assert not remote.closed and all(alive(p) for p in pids)
    assert sorted(remote.worker_pids().values()) == pids
    assert remote.client.submit(sum, [1, 2, 3]).result(timeout=30) == 6
    assert remote.info()["workers"] == 1


def test_the_human_report_names_the_cluster_and_chunks(remote: Cluster) -> None:
    args = ["solve", "median", "--n", "12000", "--backend", "dask", "--scheduler", remote.address]
    result = runner.invoke(app, [*args, "--chunk-size", "5000"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert f"remote dask cluster at {remote.address}: 1 workers" in result.stdout
    assert "12,000 points in 3 chunks of up to 5,000" in result.stdout
    assert "from generated" in result.stdout


def test_compare_on_dask_reports_the_cluster_and_judges_every_run(remote: Cluster) -> None:
    args = ["compare", "median", "--n", "15000", "--backend", "dask", "--scheduler",
            remote.address, "--chunk-size", "4000", "--optimizers", "gd",
            "--baselines", "L-BFGS-B", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    doc = json.loads(result.stdout)
    assert doc["backend"] == "dask"
    assert doc["cluster"]["workers"] == 1 and doc["cluster"]["local"] is False
    assert doc["chunks"]["chunks"] == 4 and doc["chunks"]["points"] == 15_000
    assert doc["chunks"]["source"] == "generated"
    methods = [r["method"] for r in doc["runs"]]
    assert methods == ["weiszfeld-vardi-zhang", "gd", "L-BFGS-B"]
    assert [r["matches_reference"] for r in doc["runs"]] == [True, True, True], doc["runs"]
    assert all(r["distance"] is not None and r["gap"] is not None for r in doc["runs"])
    base = GeometricMedian(n=15_000, backend="numpy").reference().x
    assert doc["reference"]["solution"] == pytest.approx(base, rel=0, abs=1e-9)


# ------------------------------------------------------------------------- refusals

S = ["solve", "median", "--n", "100"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([*S, "--workers", "2"], ["--workers: only with --backend dask"]),
        ([*S, "--backend", "numpy", "--chunk-size", "10"], ["--chunk-size: only with"]),
        ([*S, "--memory-limit", "1GiB", "--scheduler", "tcp://x:1"], ["--scheduler, --memory"]),
        (["compare", "median", "--n", "50", "--chunk-size", "9"], ["--chunk-size: only with"]),
        ([*S, "--backend", "dask", "--plot", "p.png"], ["--plot", "the points stay on"]),
        ([*S, "--backend", "dask", "--animate", "a.gif"], ["--animate"]),
        ([*S, "--backend", "dask", "--workers", "1", "--scheduler", "tcp://x:1"], ["--workers"]),
        ([*S, "--backend", "dask", "--chunk-size", "0"], ["--chunk-size must be an integer >= 1"]),
        ([*S, "--backend", "dask", "--chunk-size", "-3"], ["--chunk-size", "'-3'"]),
        ([*S, "--backend", "dask", "--chunk-size", "x"], ["--chunk-size", "'x'"]),
        ([*S, "--backend", "dask", "--workers", "0"], ["--workers must be an integer >= 1"]),
        ([*S, "--backend", "dask", "--memory-limit", "lots"], ["--memory-limit", "'lots'"]),
        ([*S, "--backend", "dask", "--memory-limit", "1000"], ["at least 1MiB", "'1000'"]),
        ([*S, "--backend", "dask", "--memory-limit", "-1GiB"], ["--memory-limit", "'-1GiB'"]),
    ],
)
def test_misused_dask_flags_are_one_line_before_any_cluster(
    args: list[str], words: list[str], tmp_path: Path
) -> None:
    before = set(descendants(os.getpid()))
    line = fails([a.replace("p.png", str(tmp_path / "p.png")) for a in args])
    for w in words:
        assert w in line, line
    assert set(descendants(os.getpid())) <= before  # no worker process was started
    assert not (tmp_path / "p.png").exists()


def test_an_unreachable_scheduler_is_one_line() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    line = fails([*S, "--backend", "dask", "--scheduler", address])
    assert "cannot reach a dask scheduler" in line and address in line


def test_data_the_dask_backend_cannot_take_are_one_line(remote: Cluster, tmp_path: Path) -> None:
    on = ["--backend", "dask", "--scheduler", remote.address]
    line = fails(["solve", "fermat", *on])
    assert "--backend dask is for problems whose loss is a sum" in line
    txt = tmp_path / "p.txt"
    txt.write_text("1 2\n3 4\n5 7\n")
    line = fails(["solve", "median", "--points", str(txt), *on])
    assert "p.txt" in line
    pts = _cloud(1_000)
    pts[617, 0] = np.nan
    bad = tmp_path / "bad.npy"
    np.save(bad, pts)
    line = fails(["solve", "median", "--points", str(bad), *on, "--chunk-size", "300"])
    assert "row 617" in line and "'x'" in line and "not a finite number" in line
    line = fails(["compare", "median", "--points", str(bad), *on])
    assert "row 617" in line
    assert remote.info()["workers"] == 1  # refusals leave the given cluster as it was


# --------------------------------------------------------------------------- Ctrl-C


def _interrupted_solve(tmp_path: Path, whole_group: bool) -> tuple[int, str, str, list[int]]:
    """A long dask solve in a process of its own session, sent SIGINT once its solve loop
    runs (a step line on stderr): (exit code, stdout, stderr, the processes it had
    started). ``whole_group``: to every process of its group, as a terminal's Ctrl-C
    does; else to the command's process only (kill -INT). Everything is killed at the
    end whatever happened."""
    err_file = tmp_path / "stderr.txt"
    cmd = [sys.executable, "-m", "geograd", "solve", "median", "--n", "200000",
           "--backend", "dask", *LOCAL, "--chunk-size", "25000", "--optimizer", "adam",
           "--steps", "100000", "--json"]  # fmt: skip
    started: list[int] = []
    out = ""
    with err_file.open("w") as err:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True
        )
    try:
        end = time.monotonic() + 120
        while "median adam: " not in err_file.read_text():  # a step line: the solve runs
            assert proc.poll() is None, err_file.read_text()
            assert time.monotonic() < end, err_file.read_text()
            time.sleep(0.1)
        started = descendants(proc.pid)
        workers = [p for p in started if "spawn_main" in _cmdline(p)]
        assert len(workers) == 2, [_cmdline(p) for p in started]
        if whole_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running 30 s after SIGINT; stderr: {err_file.read_text()[-2000:]}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        survivors = [p for p in started if alive(p)]
        if not gone(survivors, within=30):
            for p in survivors:
                if alive(p):
                    os.kill(p, signal.SIGKILL)
    return proc.returncode, out, err_file.read_text(), started


def _check_interrupted(code: int, out: str, stderr: str, started: list[int]) -> None:
    assert code == 130, stderr
    doc = json.loads(out)
    assert doc["interrupted"] is True and doc["reason"] == "interrupted"
    assert doc["steps"] >= 1 and doc["exit_code"] == 130
    assert doc["best"]["loss"] <= doc["start_loss"]
    # the solution reported is the best iterate (or the last, when that is the best); its
    # loss is the closed form's, the best loss the engine's: equal to rounding
    if doc["solution_from"].startswith("best iterate"):
        assert doc["solution"] == doc["best"]["x"]
    else:
        assert doc["solution_from"] == "final iterate"
    assert doc["loss"] == pytest.approx(doc["best"]["loss"], rel=1e-12)
    # no reference after Ctrl-C on a cluster: it would be many more passes over the data
    assert doc["reference"] is None and doc.get("reference_error") == "interrupted"
    assert doc["cluster"]["workers"] == 2
    assert "Traceback" not in stderr, stderr
    assert gone(started, within=30), [_cmdline(p) for p in started if alive(p)]


def test_sigint_to_the_command_prints_the_best_iterate_and_leaves_no_worker(
    tmp_path: Path,
) -> None:
    _check_interrupted(*_interrupted_solve(tmp_path, whole_group=False))


def test_ctrl_c_at_a_terminal_prints_the_best_iterate_and_leaves_no_worker(
    tmp_path: Path,
) -> None:
    # a terminal's Ctrl-C reaches the workers too (the same process group)
    _check_interrupted(*_interrupted_solve(tmp_path, whole_group=True))


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
