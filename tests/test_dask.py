"""A real dask.distributed cluster: two worker processes started here, by the test.

The median of 2·10^6 points held as a chunked, persisted dask array, solved by
``minimize`` on the cluster, agrees with the same solve on numpy to 1e-10; each
evaluation is one graph sent to the scheduler (the loss and the gradient in one pass
over the data); killing a worker process in the middle of the solve changes nothing
(its nanny restarts it, the scheduler recomputes the lost chunks from the graph);
a scheduler that cannot be reached is an InputError naming the address, after the
connect timeout; closing a cluster, also by Ctrl-C, leaves no process behind.

Nothing here is timed against the machine's speed, and nothing is skipped in CI:
.ci/run installs dask[distributed] and array-api-compat (the dev extra pulls the dask
extra).
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from processes import alive, gone

import geograd.functional as F
from geograd import Tensor, minimize
from geograd import backend as B
from geograd.cluster import Cluster, connect, describe_chunks, local_cluster
from geograd.errors import InputError

np = pytest.importorskip("numpy")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pytest.importorskip("array_api_compat")

N = 2_000_000
CHUNKS = 4
SEED = 2013


def test_a_cluster_interrupted_by_ctrl_c_shuts_down_and_leaves_no_process() -> None:
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt), local_cluster(workers=1, memory_limit="256MiB") as c:
        pids.extend(c.worker_pids().values())
        assert pids and all(alive(p) for p in pids)
        raise KeyboardInterrupt
    assert c.closed
    assert gone(pids)
    c.close()  # idempotent


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with local_cluster(workers=2, threads=1, memory_limit="1GiB", processes=True) as c:
        c.client.wait_for_workers(2, timeout=60)
        pids = list(c.worker_pids().values())
        yield c
        pids += list(c.worker_pids().values())
    assert gone(pids), "a worker process outlived its cluster"


class GraphCount(distributed.diagnostics.plugin.SchedulerPlugin):  # type: ignore[misc]
    """Counts the graphs the scheduler receives (one per dask.compute or persist)."""

    def __init__(self) -> None:
        self.graphs = 0

    def update_graph(self, scheduler: Any, **kwargs: Any) -> None:
        self.graphs += 1


@pytest.fixture(scope="module")
def data(cluster: Cluster) -> dict[str, Any]:
    # generated on the workers, chunk by chunk, and kept there; numpy gets the same values
    rng = da.random.default_rng(SEED)
    xs = rng.standard_normal(N, chunks=N // CHUNKS)
    ys = 2.0 * rng.standard_normal(N, chunks=N // CHUNKS) + 1.0
    xs, ys = B.persist(xs, ys)
    xn, yn = (np.asarray(v) for v in B.materialize(xs, ys))
    return {"dask": (Tensor(xs), Tensor(ys)), "numpy": (Tensor(xn), Tensor(yn))}


def median_loss(coords: tuple[Tensor, Tensor]) -> Callable[[Tensor], Tensor]:
    return lambda p: F.mean(F.distances(coords, p))


X0 = [0.5, 0.5]
GTOL = 1e-10


@pytest.fixture(scope="module")
def numpy_solve(data: dict[str, Any]) -> Any:
    return minimize(median_loss(data["numpy"]), X0, gtol=GTOL)


def test_the_cluster_reports_its_workers_threads_and_memory(cluster: Cluster) -> None:
    info = cluster.info()
    assert info["local"] is True and info["scheduler"].startswith("tcp://")
    assert info["workers"] == 2 and info["threads"] == 2
    assert info["memory_limit"] == 2 * 2**30
    assert [w["memory_limit"] for w in info["per_worker"]] == [2**30, 2**30]


def test_the_data_is_chunked_and_persisted(cluster: Cluster, data: dict[str, Any]) -> None:
    xs = data["dask"][0].data
    assert describe_chunks(xs) == {
        "points": N,
        "chunks": CHUNKS,
        "chunk_points_max": N // CHUNKS,
        "chunk_points_min": N // CHUNKS,
        "bytes": 8 * N,
    }
    held = cluster.client.who_has(xs)
    assert len(held) == CHUNKS and all(held.values())  # every chunk in a worker's memory


def test_the_dask_solve_agrees_with_numpy_in_one_pass_per_evaluation(
    cluster: Cluster, data: dict[str, Any], numpy_solve: Any
) -> None:
    counter = GraphCount()
    cluster.cluster.scheduler.add_plugin(counter, name="geograd-test-graphs")
    try:
        r = minimize(median_loss(data["dask"]), X0, gtol=GTOL)
    finally:
        cluster.cluster.scheduler.remove_plugin(name="geograd-test-graphs")
    assert r.converged and numpy_solve.converged
    assert counter.graphs == r.evaluations  # the loss and both gradients: one graph
    assert r.x == pytest.approx(numpy_solve.x, rel=0, abs=1e-10)
    assert r.loss == pytest.approx(numpy_solve.loss, rel=1e-13)
    assert all(type(v) is float for v in r.x)


def test_a_worker_killed_mid_solve_does_not_change_the_answer(
    cluster: Cluster, data: dict[str, Any], numpy_solve: Any
) -> None:
    fun = median_loss(data["dask"])
    undisturbed = minimize(fun, X0, gtol=GTOL)
    before = cluster.worker_pids()
    killed: list[int] = []

    def kill_one(progress: Any) -> None:
        if progress.step == 2 and not killed:
            pid = sorted(cluster.worker_pids().values())[0]
            os.kill(pid, signal.SIGKILL)  # its chunks are lost with it
            killed.append(pid)

    r = minimize(fun, X0, gtol=GTOL, callback=kill_one)
    assert killed and gone(killed)
    assert r.x == undisturbed.x and r.loss == undisturbed.loss  # the same numbers exactly
    assert r.steps == undisturbed.steps
    assert r.x == pytest.approx(numpy_solve.x, rel=0, abs=1e-10)
    cluster.client.wait_for_workers(2, timeout=60)  # the nanny brought one back
    after = cluster.worker_pids()
    assert len(after) == 2 and set(after.values()) != set(before.values())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_an_unreachable_scheduler_is_an_input_error_naming_it() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(InputError, match="cannot reach a dask scheduler") as err:
        connect(address, timeout=1.0)
    assert address in str(err.value)
    assert time.monotonic() - start < 30  # the timeout, not a hang (generous for CI)
    with pytest.raises(InputError, match="empty"):
        connect("  ")


def test_connect_reaches_a_running_scheduler(cluster: Cluster) -> None:
    with connect(cluster.address) as other:
        info = other.info()
        assert info["local"] is False and info["workers"] == 2
    assert other.closed


def test_ctrl_c_mid_solve_keeps_the_last_iterate(cluster: Cluster, data: dict[str, Any]) -> None:
    def interrupt(progress: Any) -> None:
        if progress.step == 2:
            raise KeyboardInterrupt

    r = minimize(median_loss(data["dask"]), X0, gtol=GTOL, callback=interrupt)
    assert r.reason == "interrupted" and r.steps == 2
    assert all(type(v) is float for v in r.x) and r.loss <= r.start_loss
    assert cluster.info()["workers"] == 2  # the cluster is untouched, ready for more


def _ctrl_c_before_sync_has_its_future(cluster: Cluster) -> list[Any]:
    """Ctrl-C while ``distributed.utils.sync`` waits, before its coroutine has made the
    future (the loop thread is busy): the records tornado's callback log receives."""
    import asyncio
    import logging
    import threading

    from distributed.utils import sync

    records: list[Any] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    log = logging.getLogger("tornado.application")
    keep = Keep()
    log.addHandler(keep)
    loop = cluster.client.loop
    busy, release = threading.Event(), threading.Event()

    def hold_the_loop() -> None:  # until the main thread has had its Ctrl-C
        busy.set()
        release.wait(60)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        loop.add_callback(hold_the_loop)
        assert busy.wait(10)
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
        with pytest.raises(KeyboardInterrupt):
            sync(loop, asyncio.sleep, 0)
        release.set()
        sync(loop, asyncio.sleep, 0.05)  # runs after the queued coroutine and its cancel
    finally:
        release.set()
        signal.signal(signal.SIGINT, previous)
        log.removeHandler(keep)
    return records


def test_ctrl_c_before_dask_made_its_future_prints_no_traceback(cluster: Cluster) -> None:
    import logging

    from geograd import cluster as cluster_module

    log = logging.getLogger("tornado.application")
    ours = [f for f in log.filters if getattr(f, "geograd_sync_cancel", False)]
    assert len(ours) == 1  # installed once by local_cluster
    # without the filter: distributed's cancel() fails on its unassigned future, and the
    # record is the one the filter recognises
    log.removeFilter(ours[0])
    try:
        unfiltered = _ctrl_c_before_sync_has_its_future(cluster)
    finally:
        log.addFilter(ours[0])
    assert unfiltered and all(cluster_module._is_sync_cancel_name_error(r) for r in unfiltered)
    # with it: nothing reaches a handler, so nothing reaches the terminal
    assert _ctrl_c_before_sync_has_its_future(cluster) == []
    # any other failure in a tornado callback is still logged
    other = logging.LogRecord("tornado.application", logging.ERROR, "x", 1, "boom", None, None)
    try:
        raise NameError("name 'future' is not defined")
    except NameError:
        import sys

        other.exc_info = sys.exc_info()
    assert not cluster_module._is_sync_cancel_name_error(other)
    assert log.filter(other)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc (Linux)")
def test_workers_start_with_ctrl_c_blocked_and_the_client_gets_it_back(cluster: Cluster) -> None:
    """A terminal's Ctrl-C reaches every process of the group: workers still importing
    printed KeyboardInterrupt tracebacks. They are spawned with SIGINT blocked (bit 2 of
    the mask, set before anything of theirs runs); this thread has it unblocked again."""

    def blocked(pid: int) -> int:
        with open(f"/proc/{pid}/status") as f:
            line = next(v for v in f if v.startswith("SigBlk:"))
        return int(line.split()[1], 16)

    sigint = 1 << (signal.SIGINT - 1)
    pids = list(cluster.worker_pids().values())
    assert pids and all(blocked(p) & sigint for p in pids)
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
