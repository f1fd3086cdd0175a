"""Where a ``--backend dask`` command computes: a local cluster, or ``--scheduler``'s.

:func:`dask_session` checks the dask flags before any work (``--scheduler``,
``--chunk-size``, ``--workers`` and ``--memory-limit`` without ``--backend dask``
are input errors, as are a bad size or count, and a scheduler that cannot be
reached), then opens the cluster for the whole command: the data are read and
persisted on its workers, and every pass of the solve, the reference and the
report goes to it. The cluster is closed at the end, also by Ctrl-C or SIGTERM
(:func:`geograd.cluster.local_cluster` stops its workers and their nannies; a
``--scheduler`` cluster is only disconnected from). Other backends get an empty
session, at the cost of a few comparisons.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from geograd.errors import InputError

from .settings import check_count


@dataclass
class DaskSession:
    """The dask settings of a command, and its cluster while it is open (None off dask)."""

    chunk_size: int | None = None
    cluster: Any = None

    def problem_args(self) -> dict[str, Any]:
        """What the problem's constructor gets from the session (``chunk_size``)."""
        return {} if self.chunk_size is None else {"chunk_size": self.chunk_size}

    def describe(self, problem: Any) -> dict[str, Any]:
        """For ``--json`` on dask: ``cluster`` (scheduler, workers, threads, memory, in all
        and per worker) and ``chunks`` (where the data came from and how they are
        chunked); nothing off dask."""
        if self.cluster is None:
            return {}
        return {"cluster": self.cluster.info(), "chunks": getattr(problem, "chunking", None)}


def refuse_pictures(backend: str | None, plot: Any, animate: Any) -> None:
    """``--plot`` and ``--animate`` draw every data point: not from a cluster's data."""
    if (backend or "").strip().lower() == "dask":
        flags = [f for f, v in (("--plot", plot), ("--animate", animate)) if v is not None]
        if flags:
            raise InputError(
                f"{', '.join(flags)}: the pictures draw every data point, and with --backend "
                "dask the points stay on the cluster; draw a solve of --backend numpy instead"
            )


def _memory_limit(text: str) -> int:
    """``--memory-limit``'s size in bytes (dask's own parser: 1GiB, 500MB, 2e9)."""
    from dask.utils import parse_bytes

    try:
        value = int(parse_bytes(text.strip()))
    except (ValueError, TypeError, KeyError):
        value = 0
    if value < 1 << 20:
        raise InputError(
            f"--memory-limit must be a size of at least 1MiB, such as 1GiB or 500MB, got {text!r}"
        )
    return value


#: What a local worker process costs before it holds any data (its interpreter, numpy,
#: dask and distributed imported, and its nanny): measured here at 100-120 MB a pair, so
#: 100 MB is a lower bound.
WORKER_BYTES = 100 * 2**20


def _check_workers_fit(count: int) -> None:
    """Refuse more local workers than the memory available holds, before any starts (one
    line, with what they would need): ``--workers 100000`` otherwise hung starting them."""
    from geograd.problems.base import available_memory, format_bytes

    have = available_memory()
    need = count * WORKER_BYTES
    if have is not None and need > have:
        most = max(1, have // WORKER_BYTES)
        raise InputError(
            f"--workers {count:,}: {count:,} local worker processes would need at least "
            f"{format_bytes(need)} (about {format_bytes(WORKER_BYTES)} each before any data), "
            f"but only {format_bytes(have)} is available; give --workers {most:,} or fewer "
            f"(this machine has {os.cpu_count() or 1} cores)"
        )


@contextmanager
def dask_session(
    backend: str | None, flags: dict[str, str | None] | None = None, *, streaming: bool = False
) -> Iterator[DaskSession]:
    """The session of a command (see the module docstring): checks, then the cluster.
    ``flags``: the values of ``--scheduler``, ``--chunk-size``, ``--workers`` and
    ``--memory-limit`` (keys ``scheduler``, ``chunk_size``, ``workers``,
    ``memory_limit``; None where not given). ``streaming`` (``--stream``):
    ``--chunk-size`` is the stream's, on any backend."""
    given_flags = flags or {}
    scheduler = given_flags.get("scheduler")
    chunk_size = given_flags.get("chunk_size")
    workers = given_flags.get("workers")
    memory_limit = given_flags.get("memory_limit")
    given = {
        "--scheduler": scheduler,
        "--chunk-size": None if streaming else chunk_size,
        "--workers": workers,
        "--memory-limit": memory_limit,
    }
    on_dask = (backend or "").strip().lower() == "dask"
    if not on_dask:
        named = [flag for flag, value in given.items() if value is not None]
        if named:
            raise InputError(f"{', '.join(named)}: only with --backend dask")
        yield DaskSession(check_count("--chunk-size", chunk_size) if streaming else None)
        return
    if scheduler is not None and (workers is not None or memory_limit is not None):
        local = [f for f in ("--workers", "--memory-limit") if given[f] is not None]
        raise InputError(
            f"{', '.join(local)}: set up the local cluster; a --scheduler cluster has its own"
        )
    from geograd.problems.base import dask_backend_problem

    why = dask_backend_problem()
    if why is not None:
        raise InputError(f"--backend dask: {why}; or use --backend numpy")
    chunk = check_count("--chunk-size", chunk_size)
    count = check_count("--workers", workers) or max(1, os.cpu_count() or 1)
    _check_workers_fit(count)
    limit: int | str = "auto" if memory_limit is None else _memory_limit(memory_limit)
    from geograd.cluster import connect, local_cluster

    # A Ctrl-C can end the client while distributed's tasks still wait on it; asyncio
    # then logs "Task exception was never retrieved" with a traceback at exit. The
    # interrupt is reported in one line by the CLI: those logs say nothing more.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)

    cluster = (
        connect(scheduler)
        if scheduler is not None
        else local_cluster(workers=count, threads=1, memory_limit=limit)
    )
    with cluster:
        yield DaskSession(chunk, cluster)
