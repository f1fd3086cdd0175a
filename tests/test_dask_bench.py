"""The dask benchmark's pieces that need no cluster: its process watch and its table."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from geograd.dask_bench import _descendants, _peak_rss, _role, format_overhead


def test_the_process_watch_sees_a_child_and_its_peak_memory() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; b = bytearray(50 << 20); time.sleep(5)"]
    )
    try:
        for _ in range(100):  # until the child has made its 50 MiB
            peak = _peak_rss(child.pid)
            if peak is not None and peak > 50 << 20:
                break
            time.sleep(0.05)
        assert child.pid in _descendants(os.getpid())
        assert peak is not None and peak > 50 << 20
        assert _role(os.getpid(), os.getpid()).startswith("client")
        assert _role(child.pid, os.getpid()) == "worker"
    finally:
        child.kill()
        child.wait()
    assert _peak_rss(child.pid) is None  # gone


def test_the_overhead_table_gives_each_size_its_ratio() -> None:
    rows = [
        {"n": 10**6, "chunks": 1, "evaluations": {"numpy": 17, "dask": 17}, "numpy_ms": 17.0,
         "dask_ms": 142.0, "ratio": 142.0 / 17.0, "same_answer": 0.0},
    ]  # fmt: skip
    text = format_overhead(rows, 2)
    assert "2 worker processes" in text
    line = text.splitlines()[-1]
    assert "1,000,000" in line and "8.35x" in line and "142ms" in line
