"""Where a dask solve runs: a local dask.distributed cluster, or one that already runs.

The engine computes dask arrays with whatever scheduler dask is set to use
(:meth:`geograd.arrayapi.DaskBackend.materialize` calls ``dask.compute``); this
module gives it one. A :class:`~distributed.Client` made here is the default
scheduler while its :class:`Cluster` is open, so every ``dask.compute`` (one per
evaluation of a solve) goes to the cluster's workers, where the persisted data
stays between evaluations.

- :func:`local_cluster`: a :class:`~distributed.LocalCluster` of worker
  *processes* (each under a Nanny, which restarts a worker that dies; the
  scheduler then recomputes the work and the data chunks that were lost, from the
  graph, and the solve goes on with the same numbers), with a memory limit per
  worker. Closing it (the ``with`` block's end, an exception, Ctrl-C) stops the
  client, the workers and their nannies: no process is left behind. A second
  Ctrl-C while it closes is ignored, so that the shutdown completes.
- :func:`connect`: a client of a cluster that already runs (``dask scheduler`` and
  ``dask worker`` somewhere, or a cloud deployment), by the scheduler's address.
  A scheduler that cannot be reached is an :class:`~geograd.errors.InputError`
  naming the address, after ``timeout`` seconds (2 by default), before any work.
- :meth:`Cluster.info` and :func:`describe_chunks`: the cluster (workers, threads,
  memory) and the data's chunking, as dicts for ``--json``.

dask and distributed are imported by these functions, never by ``import geograd``:
``pip install "geograd[dask]"`` brings them.
"""

from __future__ import annotations

import importlib
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from geograd.errors import InputError

CONNECT_TIMEOUT = 2.0
"""Seconds :func:`connect` waits for a scheduler before it gives up."""


def _distributed() -> Any:
    """dask.distributed, or an InputError that says how to install it."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise InputError(
            "the dask backend needs dask.distributed, which is not installed: "
            'pip install "geograd[dask]" (or "dask[distributed]" and array-api-compat)'
        ) from None


class Cluster:
    """A dask.distributed client (and the local cluster it started, if any).

    A context manager: ``with local_cluster() as c: ...`` closes it at the end.
    ``client`` is the :class:`distributed.Client`, the default dask scheduler
    while this is open; ``cluster`` the :class:`distributed.LocalCluster` or None
    for a cluster reached by :func:`connect`.
    """

    def __init__(self, client: Any, cluster: Any | None, address: str) -> None:
        self.client = client
        self.cluster = cluster
        self.address = address
        self.closed = False

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "local" if self.cluster is not None else "remote"
        return f"<geograd Cluster {kind} {self.address}{' closed' if self.closed else ''}>"

    def close(self) -> None:
        """Close the client, then (a local cluster) its workers, nannies and scheduler.

        Idempotent. Ctrl-C during the shutdown is held back until it has finished (in
        the main thread), so that an impatient second Ctrl-C leaves no process behind.
        """
        if self.closed:
            return
        self.closed = True
        with _holding_interrupts():
            try:
                self.client.close()
            finally:
                if self.cluster is not None:
                    self.cluster.close()

    def worker_pids(self) -> dict[str, int]:
        """The process id of each worker, by address (the processes that do the work)."""
        import os

        pids: dict[str, int] = self.client.run(os.getpid)
        return pids

    def info(self) -> dict[str, Any]:
        """The cluster as JSON-ready data: its scheduler's address, whether geograd
        started it, and its workers, threads and memory limit (bytes; 0 where a worker
        has none), in all and per worker."""
        try:
            scheduler = self.client.scheduler_info(n_workers=-1)  # every worker, not 5
        except TypeError:  # an older distributed has no n_workers and lists them all
            scheduler = self.client.scheduler_info()
        workers = scheduler.get("workers", {})
        rows = [
            {
                "address": address,
                "threads": int(w.get("nthreads", 0)),
                "memory_limit": int(w.get("memory_limit") or 0),
            }
            for address, w in sorted(workers.items())
        ]
        return {
            "scheduler": self.address,
            "local": self.cluster is not None,
            "workers": len(rows),
            "threads": sum(r["threads"] for r in rows),
            "memory_limit": sum(r["memory_limit"] for r in rows),
            "per_worker": rows,
        }


@contextmanager
def _holding_interrupts() -> Iterator[None]:
    """SIGINT deferred while the block runs (main thread only), then re-raised."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _is_sync_cancel_name_error(record: Any) -> bool:
    """Whether a log record is distributed's known-harmless ``sync`` cancel failure.

    ``distributed.utils.sync`` answers Ctrl-C by scheduling ``cancel()`` of the
    future it awaits; when Ctrl-C comes before the loop has made that future,
    ``cancel()`` reads an unassigned closure variable (``future`` lost its ``None``
    default in distributed 2024) and tornado logs the NameError with a traceback.
    There was nothing to cancel yet, and the client is closed right after, so the
    record is noise on the user's terminal, not a fault.
    """
    exc = record.exc_info[1] if record.exc_info else None
    if not isinstance(exc, NameError) or "'future'" not in str(exc):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    code = tb.tb_frame.f_code
    return code.co_name == "cancel" and code.co_filename.replace("\\", "/").endswith(
        "distributed/utils.py"
    )


def _drop_sync_cancel_noise() -> None:
    """Filter :func:`_is_sync_cancel_name_error` records out of tornado's callback log
    (once per process; every other record still reaches the handlers)."""
    import logging

    log = logging.getLogger("tornado.application")
    if not any(getattr(f, "geograd_sync_cancel", False) for f in log.filters):
        drop = logging.Filter()
        drop.filter = lambda record: not _is_sync_cancel_name_error(record)  # type: ignore[method-assign]
        drop.geograd_sync_cancel = True  # type: ignore[attr-defined]
        log.addFilter(drop)


@contextmanager
def _sigint_blocked_for_new_processes() -> Iterator[None]:
    """SIGINT blocked in this thread while the block runs (main thread only; POSIX).

    A terminal's Ctrl-C goes to the whole process group, and the worker processes a
    cluster spawns while it starts are still importing distributed: each printed its
    KeyboardInterrupt traceback, and the cluster's atexit close failed on a worker
    never started. Threads and processes started here inherit the blocked mask (the
    event loop's thread spawns the workers, and its nannies restart them later), so
    they never see it; the worker plugin then ignores SIGINT for good. In this thread
    a Ctrl-C waits, pending, until the block ends (the cluster's start, a few
    seconds), and is raised then, where the caller stops what had started."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    # multiprocessing starts its resource tracker with the first process, blocking and
    # then *unblocking* SIGINT in the thread that starts it (the event loop's, which
    # then spawned the workers unblocked): started here first, that is a no-op later
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _quiet_workers_plugin(distributed: Any) -> Any:
    """A worker plugin that turns off numpy's RuntimeWarnings in the workers (also in a
    worker a nanny restarts): geograd's deferred checks raise for the cases it warns of,
    and the workers' stderr is the user's terminal for a local cluster; and makes the
    workers ignore SIGINT (see ``setup``)."""

    class QuietNumpy(distributed.WorkerPlugin):  # type: ignore[misc]
        name = "geograd-quiet-numpy"

        def setup(self, worker: Any) -> None:
            import warnings

            warnings.filterwarnings("ignore", category=RuntimeWarning)
            # Ctrl-C at a terminal goes to the whole process group, the workers too: they
            # leave it to the client, which interrupts the solve and then closes them
            # (a worker killed by it would leave the rest of the command without workers).
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)

    return QuietNumpy()


def local_cluster(
    workers: int = 2,
    threads: int = 1,
    memory_limit: str | int | float | None = "auto",
    *,
    processes: bool = True,
    quiet: bool = True,
) -> Cluster:
    """Start a dask.distributed LocalCluster and a Client of it (the default scheduler).

    ``workers`` worker processes (threads when ``processes`` is False) of ``threads``
    threads each, each limited to ``memory_limit`` (bytes, or a string such as
    ``"1GiB"``; ``"auto"``: the machine's memory shared among the workers; None or 0:
    no limit; past 80% of it a worker spills to disk, past 95% its nanny restarts it).
    No dashboard is served. ``quiet``: the cluster logs only errors (a worker killed
    and restarted is not one).

    Use it as a context manager (``with local_cluster(2) as c:``), or call
    ``close()``: either way the workers and their nannies are stopped, also when the
    block ends by an exception or by Ctrl-C.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"local_cluster: workers must be a positive integer, got {workers!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"local_cluster: threads must be a positive integer, got {threads!r}")
    distributed = _distributed()
    import logging

    _drop_sync_cancel_noise()
    cluster = client = None
    try:
        with _sigint_blocked_for_new_processes():
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=threads,
                processes=processes,
                memory_limit=memory_limit if memory_limit is not None else 0,
                dashboard_address=None,
                # no dashboard, and its HTTP server (health and metrics routes) on a free
                # port of this host: the default 8787 warned on stderr when taken
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR if quiet else logging.WARNING,
            )
            client = distributed.Client(cluster, set_as_default=True)
            client.register_plugin(_quiet_workers_plugin(distributed))
    except BaseException:
        # a failed or interrupted start: stop whatever had started
        with _holding_interrupts():
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
        raise
    return Cluster(client, cluster, str(cluster.scheduler_address))


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Cluster:
    """A Client of the running dask scheduler at ``address`` (``tcp://host:8786``), made
    the default scheduler; close it (or use it as a context manager) when done.

    InputError naming the address when no scheduler answers within ``timeout``
    seconds, or the address is not one: the CLI's one line and exit code 2, before
    any work is done.
    """
    text = str(address).strip()
    if not text:
        raise InputError("--scheduler: the address is empty; give one like tcp://host:8786")
    distributed = _distributed()
    _drop_sync_cancel_noise()
    try:
        client = distributed.Client(text, timeout=f"{float(timeout)}s", set_as_default=True)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"cannot reach a dask scheduler at {text!r} within {float(timeout):g} s "
            f"({reason}); start one (dask scheduler) or check the address"
        ) from None
    return Cluster(client, None, text)


def active_memory_limit() -> int | None:
    """The memory limit of all the workers of the active dask.distributed client (bytes),
    or None when no client is active (dask's threads then compute, in this process's
    memory) or a worker has no limit."""
    import sys

    distributed = sys.modules.get("distributed")  # no client without the module imported
    if distributed is None:
        return None
    try:
        client = distributed.default_client()
    except ValueError:  # no client
        return None
    info = Cluster(client, None, "").info()  # a view of it: closing is not ours
    if not info["per_worker"] or any(w["memory_limit"] == 0 for w in info["per_worker"]):
        return None
    return int(info["memory_limit"])


def describe_chunks(x: Any) -> dict[str, Any]:
    """The chunking of a 1-D dask array ``x`` (or of a Tensor holding one), for
    ``--json``: its points, chunks, the smallest and largest chunk, and its bytes."""
    data = getattr(x, "data", x) if not hasattr(x, "chunks") else x
    chunks = tuple(int(c) for c in data.chunks[0])
    return {
        "points": int(sum(chunks)),
        "chunks": len(chunks),
        "chunk_points_max": max(chunks, default=0),
        "chunk_points_min": min(chunks, default=0),
        "bytes": int(sum(chunks)) * int(data.dtype.itemsize),
    }
