"""What the dask backend costs and reaches: ``geograd bench --dask`` (and ``python -m
geograd.dask_bench``).

Two studies, each printing figures and ratios, never asserting a speed:

- :func:`overhead`: the per-evaluation cost of a median solve on a local cluster
  against the same solve on the numpy backend, at each size, in one run (rounds
  interleaved; medians). Both run the median's default solve from the same start on
  the same generated points and take the same steps, so the time per evaluation
  compares like with like: what the cluster adds is the graph sent to the scheduler,
  the tasks on the workers and the d + 2 numbers per chunk that come back.
- :func:`large_solve`: ``geograd solve median --points FILE --backend dask`` on a
  file, run as its own process, with the wall time, the relative objective gap to
  the reference, and the peak memory (VmHWM) of every process of the run: the client
  (which also runs the scheduler and the nannies of a local cluster) and each worker.

dask, distributed and numpy are imported by these functions only.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SIZES = (1_000_000, 10_000_000)
Say = Callable[[str], None] | None


def overhead(
    sizes: Sequence[int] = SIZES,
    rounds: int = 3,
    *,
    workers: int = 2,
    memory_limit: str = "1GiB",
    say: Say = None,
) -> list[dict[str, Any]]:
    """Per-evaluation time of the default median solve on a local cluster (``workers``
    processes of one thread, ``memory_limit`` each) and on numpy, for each size."""
    from geograd.cluster import local_cluster
    from geograd.problems import get_problem

    rows = []
    with local_cluster(workers=workers, threads=1, memory_limit=memory_limit) as cluster:
        cluster.client.wait_for_workers(workers, timeout=60)
        for n in sizes:
            on_numpy = get_problem("median", n=n, backend="numpy")
            on_dask = get_problem("median", n=n, backend="dask")
            times: dict[str, list[float]] = {"numpy": [], "dask": []}
            evals: dict[str, int] = {}
            xs: dict[str, list[float]] = {}
            for r in range(rounds):
                for name, problem in (("numpy", on_numpy), ("dask", on_dask)):
                    result = problem.solve()
                    times[name].append(result.time_s / result.evaluations)
                    evals[name], xs[name] = result.evaluations, list(result.x)
                if say:
                    say(f"n={n:,} round {r + 1}/{rounds}")
            numpy_s = statistics.median(times["numpy"])
            dask_s = statistics.median(times["dask"])
            rows.append(
                {
                    "n": n,
                    "chunks": on_dask.chunking["chunks"] if on_dask.chunking else None,
                    "evaluations": evals,
                    "numpy_ms": 1e3 * numpy_s,
                    "dask_ms": 1e3 * dask_s,
                    "ratio": dask_s / numpy_s,
                    "same_answer": max(abs(a - b) for a, b in zip(xs["numpy"], xs["dask"])),
                }
            )
    return rows


def format_overhead(rows: list[dict[str, Any]], workers: int) -> str:
    lines = [
        f"median default solve, time per evaluation: local dask cluster ({workers} worker "
        "processes, 1 thread each) against the numpy backend; medians of interleaved rounds",
        f"{'n':>12}  {'chunks':>6}  {'evals':>5}  {'numpy':>10}  {'dask':>10}  {'dask/numpy':>10}"
        f"  {'|x_dask - x_numpy|':>18}",
    ]
    for r in rows:
        lines.append(
            f"{r['n']:>12,}  {r['chunks']:>6}  {r['evaluations']['dask']:>5}  "
            f"{r['numpy_ms']:>8.3g}ms  {r['dask_ms']:>8.3g}ms  {r['ratio']:>9.2f}x  "
            f"{r['same_answer']:>18.2g}"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------- the large solve


def _descendants(root: int) -> list[int]:
    """The process ids under ``root`` (from /proc: Linux only)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for c in children.get(pid, []):
            out.append(c)
            todo.append(c)
    return out


def _peak_rss(pid: int) -> int | None:
    """VmHWM of ``pid`` (its peak resident memory so far), bytes."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "client (with the local cluster's scheduler and nannies)"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "process"
    if "resource_tracker" in cmd:
        return "multiprocessing resource tracker"
    return "worker"


def large_solve(
    path: str | Path,
    *,
    workers: int = 2,
    memory_limit: str = "1GiB",
    chunk_size: int | None = None,
    say: Say = None,
) -> dict[str, Any]:
    """Run ``geograd solve median --points PATH --backend dask --json -q`` in a process of
    its own and watch the memory of it and of every process it starts (every 0.2 s)."""
    cmd = [
        sys.executable, "-m", "geograd", "solve", "median", "--points", str(path),
        "--backend", "dask", "--workers", str(workers), "--memory-limit", memory_limit,
        "--json", "-q",
    ]  # fmt: skip
    if chunk_size is not None:
        cmd += ["--chunk-size", str(chunk_size)]
    peaks: dict[int, tuple[str, int]] = {}
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for pid in [proc.pid, *_descendants(proc.pid)]:
                rss = _peak_rss(pid)
                if rss is not None:
                    role = peaks[pid][0] if pid in peaks else _role(pid, proc.pid)
                    peaks[pid] = (role, max(rss, peaks.get(pid, ("", 0))[1]))
            done.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    last = began
    while proc.poll() is None:
        time.sleep(0.5)
        if say and time.perf_counter() - last > 30:
            last = time.perf_counter()
            say(f"still solving ({last - began:.0f} s)")
    out, err = proc.communicate()
    wall = time.perf_counter() - began
    done.set()
    watcher.join()
    doc = json.loads(out) if out.strip().startswith("{") else {}
    ref = doc.get("reference") or {}
    gap = doc.get("gap")
    return {
        "command": " ".join(cmd[1:]),
        "exit_code": proc.returncode,
        "stderr": err.strip().splitlines()[-3:],
        "wall_s": wall,
        "timing": doc.get("timing"),
        "points": (doc.get("chunks") or {}).get("points"),
        "chunks": doc.get("chunks"),
        "cluster": doc.get("cluster"),
        "steps": doc.get("steps"),
        "evaluations": doc.get("evaluations"),
        "loss": doc.get("loss"),
        "reference_loss": ref.get("loss"),
        "relative_gap": None if gap is None or not ref.get("loss") else gap / ref["loss"],
        "matches_reference": doc.get("matches_reference"),
        "processes": [
            {"pid": pid, "role": role, "peak_rss": rss}
            for pid, (role, rss) in sorted(peaks.items())
            if "tracker" not in role
        ],
    }


def format_large(doc: dict[str, Any]) -> str:
    t = doc.get("timing") or {}
    lines = [
        f"geograd {doc['command'].split(' ', 2)[-1]}",
        f"exit {doc['exit_code']}; wall {doc['wall_s']:.1f} s (setup {t.get('setup_s', 0):.1f} s, "
        f"solve {t.get('solve_s', 0):.1f} s, reference {t.get('reference_s', 0):.1f} s)",
        f"{doc['points'] or 0:,} points; {doc['steps']} steps, {doc['evaluations']} evaluations; "
        f"objective {doc['loss']!r}, reference {doc['reference_loss']!r}, relative gap "
        f"{doc['relative_gap']!r}; matches the reference: {doc['matches_reference']}",
        "peak memory (VmHWM) of every process:",
    ]
    for p in doc["processes"]:
        lines.append(f"  pid {p['pid']:>7}  {p['peak_rss'] / 2**20:8.0f} MiB  {p['role']}")
    if doc["exit_code"] != 0:
        lines += doc["stderr"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m geograd.dask_bench [FILE.npy]``: the overhead study, then the large
    solve of FILE when one is given."""
    args = list(sys.argv[1:] if argv is None else argv)
    say: Callable[[str], None] = lambda s: print(s, file=sys.stderr)  # noqa: E731
    print(format_overhead(overhead(say=say), 2), flush=True)
    if args:
        print(format_large(large_solve(args[0], say=say)))


if __name__ == "__main__":
    main()
