"""Process checks shared by the tests that start dask clusters: is a process still there,
and have all of some processes ended (waiting a while for them)."""

from __future__ import annotations

import time


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def gone(pids: list[int], within: float = 30.0) -> bool:
    """Whether every process of ``pids`` has ended (waiting up to ``within`` s for it)."""
    end = time.monotonic() + within
    while any(alive(p) for p in pids):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True
