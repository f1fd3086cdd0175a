"""The median on the dask backend (problems/chunked.py): every pass a map over chunks.

One scan of chunked data equals numpy's scan of the same points (sums to rounding, the
nearest point and the weight there exactly, also when the nearest point is repeated in
two chunks); the median problem built on dask (generated, or read from a file) gives
numpy's objective, gradient, certificate, uniqueness verdict, reference and solve; a
heavily weighted point is found by the reference's exact test; collinear data are left
undecided (and said to be); data far from the origin go through the unit frame's dask
branch; ``chunk_size`` sets the chunks. Some tests run on a local cluster of two worker
processes (the data persisted on its workers), others on dask's threaded scheduler.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from processes import gone

from geograd.errors import InputError

np = pytest.importorskip("numpy")
dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pytest.importorskip("array_api_compat")

from geograd.cluster import Cluster, local_cluster  # noqa: E402
from geograd.problems import chunked as C  # noqa: E402
from geograd.problems.median import GeometricMedian, scan_arrays  # noqa: E402

N = 20_000
CHUNK = 6_000  # 4 chunks of N: 6000, 6000, 6000, 2000
SEED = 11


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with local_cluster(workers=2, threads=1, memory_limit="512MiB") as c:
        c.client.wait_for_workers(2, timeout=60)
        pids = list(c.worker_pids().values())
        yield c
    assert gone(pids), "a worker process outlived its cluster"


@pytest.fixture
def threads() -> Iterator[None]:
    """dask's threaded scheduler, also while the module's cluster (a default client) is up."""
    with dask.config.set(scheduler="threads"):
        assert dask.base.get_scheduler() is dask.threaded.get
        yield


def held_by(cluster: Cluster, x: Any) -> bool:
    """Whether every chunk of the persisted dask array ``x`` is in some worker's memory."""
    distributed.wait(x, timeout=60)
    held = cluster.client.who_has(x)
    return len(held) == x.npartitions and all(held.values())


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


# --------------------------------------------------------------------------- the scan


def _scan_data() -> tuple[Any, Any]:
    rng = np.random.default_rng(SEED)
    cols = rng.normal(size=(2, N))
    cols[:, 15_000] = cols[:, 7_777]  # one point twice, in chunks 1 and 2 (of 0..3)
    weights = rng.uniform(0.1, 1.0, size=N)
    return cols, weights


@pytest.mark.parametrize("weighted", [False, True], ids=["equal", "weighted"])
def test_scan_chunks_equals_numpy_s_scan(threads: None, weighted: bool) -> None:
    cols, weights = _scan_data()
    w = weights if weighted else None
    dcols = da.from_array(cols, chunks=(1, CHUNK))  # rows split too: whole_points joins them
    dw = None if w is None else da.from_array(w, chunks=5_000)  # other chunks than the points
    at_point = cols[:, 7_777].tolist()
    for p in ([0.1, -0.2], at_point, [1e3, -2e3], cols[:, 3].tolist()):
        mine, theirs = C.scan_chunks(dcols, dw, p), scan_arrays(cols, w, p)
        assert rel(mine.total, theirs.total) <= 1e-12
        assert rel(mine.inv_sum, theirs.inv_sum) <= 1e-12
        for a, b in zip(mine.pull, theirs.pull):
            assert abs(a - b) <= 1e-12 * max(1.0, math.hypot(*theirs.pull))
        assert mine.nearest == theirs.nearest
        assert mine.nearest_distance == theirs.nearest_distance
        assert mine.reach == theirs.reach
        assert mine.weight_at == theirs.weight_at
    at = C.scan_chunks(dcols, dw, at_point)
    assert at.nearest == 7_777 and at.nearest_distance == 0.0  # the first of the two
    both = 2.0 if w is None else w[7_777] + w[15_000]
    assert at.weight_at == both


def test_scan_chunks_on_the_cluster(cluster: Cluster) -> None:
    cols, weights = _scan_data()
    dcols, dw = dask.persist(da.from_array(cols, chunks=(2, CHUNK)), da.from_array(weights, CHUNK))
    assert held_by(cluster, dcols) and held_by(cluster, dw)
    p = cols[:, 15_000].tolist()
    mine, theirs = C.scan_chunks(dcols, dw, p), scan_arrays(cols, weights, p)
    assert (mine.nearest, mine.weight_at, mine.reach) == (
        theirs.nearest,
        theirs.weight_at,
        theirs.reach,
    )
    assert mine.nearest == 7_777
    assert rel(mine.total, theirs.total) <= 1e-12 and rel(mine.inv_sum, theirs.inv_sum) <= 1e-12
    assert C.point(dcols, 12_345) == cols[:, 12_345].tolist()
    assert C.column_ranges(dcols) == [(float(c.min()), float(c.max())) for c in cols]


# ------------------------------------------------------------- dask against numpy

CASES: dict[str, dict[str, Any]] = {
    "uniform": {"distribution": "uniform"},
    "outliers": {"distribution": "outliers"},
    "random-weights": {"weights": "random"},
    "dim-3": {"dim": 3, "distribution": "gaussian"},
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_generated_median_on_dask_equals_numpy_s(
    request: pytest.FixtureRequest, case: str
) -> None:
    # one case on the cluster, three on dask's threads (a pass on the cluster costs more)
    on_cluster = case == "random-weights"
    cluster = request.getfixturevalue("cluster") if on_cluster else None
    if not on_cluster:
        request.getfixturevalue("threads")
    args = {"n": N, "seed": SEED, **CASES[case]}
    ours = GeometricMedian(**args, backend="dask", chunk_size=CHUNK)
    base = GeometricMedian(**args, backend="numpy")
    assert ours.on_dask and ours.backend == "dask" and not base.on_dask
    assert len(ours.columns.chunks[1]) == 4 and ours.chunking is not None
    assert (ours.weights is None) == (base.weights is None)
    if cluster is not None:
        assert held_by(cluster, ours.columns)
        if ours.weights is not None:
            assert held_by(cluster, ours.weights)
    np.testing.assert_array_equal(ours.columns.compute(), base.columns)
    assert ours.total_weight == pytest.approx(base.total_weight, rel=1e-13)
    assert ours.default_x0() == pytest.approx(base.default_x0(), rel=1e-13, abs=1e-15)

    d = base.dim
    spread = base.scale
    for x in ([0.3] * d, [0.5 + 0.01 * j for j in range(d)], base.columns[:, 17].tolist()):
        assert ours.objective(x) == pytest.approx(base.objective(x), rel=1e-12)
        assert ours.gradient(x) == pytest.approx(base.gradient(x), rel=1e-9, abs=1e-12)

    assert ours.uniqueness() == base.uniqueness()
    assert ours.uniqueness()[0] is True

    ref, ref_np = ours.reference(), base.reference()
    assert ref.details["converged"] is True
    assert ref.x == pytest.approx(ref_np.x, rel=0, abs=1e-9 * spread)
    assert ref.loss == pytest.approx(ref_np.loss, rel=1e-12)
    cert, cert_np = ours.certificate(ref_np.x), base.certificate(ref_np.x)
    assert cert["kind"] == cert_np["kind"] == "gradient_norm"
    assert cert["summary"].split()[:2] == cert_np["summary"].split()[:2]
    assert cert["value"] == pytest.approx(cert_np["value"], rel=1e-3, abs=1e-13)
    assert cert["nearest_point_distance"] == pytest.approx(
        cert_np["nearest_point_distance"], rel=1e-12
    )

    r, r_np = ours.solve(), base.solve()
    assert r.converged and r_np.converged
    assert r.x == pytest.approx(r_np.x, rel=0, abs=1e-10)
    assert r.loss == pytest.approx(r_np.loss, rel=1e-12)
    assert all(type(v) is float for v in r.x)


# ---------------------------------------------------------- a median at a data point


def _heavy_file(path: Path, n: int = 12_000, heavy: int = 8_765) -> tuple[Path, list[float]]:
    rng = np.random.default_rng(SEED)
    a = np.zeros(n, dtype=[("x", "f8"), ("y", "f8"), ("w", "f8")])
    a["x"], a["y"] = rng.uniform(size=n), rng.uniform(size=n)
    a["w"] = 1.0
    a["w"][heavy] = 2.0 * n  # more than all the others: the median is this point
    f = path / "heavy.npy"
    np.save(f, a)
    return f, [float(a["x"][heavy]), float(a["y"][heavy])]


def test_a_heavy_point_is_the_median_by_the_exact_test(cluster: Cluster, tmp_path: Path) -> None:
    f, heavy = _heavy_file(tmp_path)
    ours = GeometricMedian(points=f, backend="dask", chunk_size=5_000)
    assert ours.on_dask and ours.chunking is not None
    assert ours.chunking["format"] == "npy" and ours.chunking["weights"] is True
    assert ours.chunking["chunks"] == 3
    assert held_by(cluster, ours.weights)
    ref = ours.reference()
    assert ref.details["stopped"] == "data point passes the optimality test"
    assert ref.x == heavy  # the data point itself, exactly
    cert = ours.certificate(ref.x)
    assert cert["kind"] == "data_point" and cert["optimal"] is True
    assert cert["point_index"] == 8_765 and cert["point"] == heavy
    base = GeometricMedian(points=f, backend="numpy")
    cert_np = base.certificate(ref.x)
    assert cert_np["kind"] == "data_point" and cert_np["point_index"] == 8_765
    assert cert["pull"] == pytest.approx(cert_np["pull"], rel=1e-12)
    assert cert["point_weight"] == cert_np["point_weight"]


def test_from_points_with_backend_dask_holds_the_points_in_chunks() -> None:
    # from_points accepts backend="dask" and reports it: the points must then be dask
    # arrays (on_dask), and a solve must run
    pts = np.random.default_rng(SEED).uniform(size=(2_000, 2))
    p = GeometricMedian.from_points(pts, backend="dask")
    assert p.backend == "dask"
    assert p.on_dask, f"backend 'dask' but the points are held as {type(p.columns).__name__}"
    x = p.solve().x
    assert x == pytest.approx(GeometricMedian.from_points(pts).solve().x, abs=1e-9)


@pytest.mark.parametrize("optimizer", ["lbfgs", "newton", "trust-ncg"])
def test_the_registered_optimizers_solve_on_dask(threads: None, optimizer: str) -> None:
    # the second-order ones take Hessian-vector products through the engine on dask data
    args = {"n": 5_000, "seed": SEED}
    ours = GeometricMedian(**args, backend="dask", chunk_size=2_000)
    base = GeometricMedian(**args, backend="numpy")
    r, r_np = ours.solve(optimizer), base.solve(optimizer)
    assert r.converged and r_np.converged
    assert r.x == pytest.approx(r_np.x, rel=0, abs=1e-10)


# ----------------------------------------------------------------------- uniqueness


def _points_file(path: Path, xs: Any, ys: Any, w: Any = None) -> Path:
    fields = [("x", "f8"), ("y", "f8")] + ([] if w is None else [("weight", "f8")])
    a = np.zeros(len(xs), dtype=fields)
    a["x"], a["y"] = xs, ys
    if w is not None:
        a["weight"] = w
    f = path / f"points-{len(list(path.iterdir()))}.npy"
    np.save(f, a)
    return f


def test_collinear_data_leave_uniqueness_undecided_on_dask(threads: None, tmp_path: Path) -> None:
    n = 12_000
    t = np.random.default_rng(SEED).uniform(-1.0, 1.0, size=n)
    f = _points_file(tmp_path, 3.0 * t + 1.0, -2.0 * t + 0.5)
    p = GeometricMedian(points=f, backend="dask", chunk_size=2_500)
    verdict, why = p.uniqueness()
    assert verdict is None
    assert "collinear" in why and "--backend numpy" in why
    assert p.certificate(p.reference().x)["unique"] is None
    # numpy decides (an even count of equal weights: a segment, so not unique)
    assert GeometricMedian(points=f, backend="numpy").uniqueness()[0] is not None

    # points off the line, but of weight zero, do not count; the first point is one
    w = np.ones(n)
    xs, ys = 3.0 * t + 1.0, -2.0 * t + 0.5
    ys[[0, 4_000, 11_999]] += 5.0
    w[[0, 4_000, 11_999]] = 0.0
    g = _points_file(tmp_path, xs, ys, w)
    verdict, why = GeometricMedian(points=g, backend="dask", chunk_size=2_500).uniqueness()
    assert verdict is None and "collinear" in why
    w[4_000] = 1.0  # one of them counts: not collinear any more
    h = _points_file(tmp_path, xs, ys, w)
    verdict, why = GeometricMedian(points=h, backend="dask", chunk_size=2_500).uniqueness()
    assert verdict is True and "not collinear" in why


def test_non_collinear_data_have_a_unique_median_on_dask(cluster: Cluster) -> None:
    p = GeometricMedian(n=N, seed=SEED, backend="dask", chunk_size=CHUNK)
    assert p.uniqueness() == (
        True,
        "the points are not collinear, so the mean distance is strictly convex",
    )


# ------------------------------------------------------------ far from the origin


def test_data_far_from_the_origin_agree_with_numpy(threads: None, tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED)
    pts = 1e6 + rng.uniform(size=(15_000, 2))
    f = tmp_path / "far.npy"
    np.save(f, pts)
    ours = GeometricMedian(points=f, backend="dask", chunk_size=4_000)
    base = GeometricMedian(points=f, backend="numpy")
    assert not ours.frame.identity  # centred and scaled: the unit copy is computed
    assert C.is_chunked(ours.unit.columns) and ours.unit.columns is not ours.columns
    unit, unit_np = ours.unit.columns.compute(), base.unit.columns
    np.testing.assert_array_equal(unit, unit_np)
    assert float(np.abs(unit).max()) <= 1.0
    x = (1e6 + 0.4, 1e6 + 0.6)
    assert ours.objective(x) == pytest.approx(base.objective(x), rel=1e-12)
    assert ours.gradient(x) == pytest.approx(base.gradient(x), rel=1e-9)
    ref, ref_np = ours.reference(), base.reference()
    assert ref.x == pytest.approx(ref_np.x, rel=0, abs=1e-9 * base.scale)
    assert abs(ref.x[0] - 1e6 - 0.5) < 0.05 and abs(ref.x[1] - 1e6 - 0.5) < 0.05
    r, r_np = ours.solve(), base.solve()
    assert r.x == pytest.approx(r_np.x, rel=0, abs=1e-10 * 1e6)  # 1e-10 relative to |x|


# ------------------------------------------------------------------- chunk_size


@pytest.mark.parametrize(
    ("n", "chunk"), [(10_000, 3_000), (10_000, 2_500), (10_001, 2_500), (9_999, 10_000)]
)
def test_chunk_size_sets_the_chunks(threads: None, tmp_path: Path, n: int, chunk: int) -> None:
    want = math.ceil(n / chunk)
    p = GeometricMedian(n=n, weights="random", backend="dask", chunk_size=chunk)
    assert len(p.columns.chunks[1]) == want and p.columns.chunks[0] == (2,)
    assert p.weights.chunks == p.columns.chunks[1:]
    assert p.unit.columns.chunks == p.columns.chunks
    assert p.chunking is not None
    assert p.chunking["chunks"] == want and p.chunking["points"] == n
    assert p.chunking["chunk_size"] == chunk
    assert p.chunking["chunk_points_max"] == min(chunk, n)
    assert p.chunking["chunk_points_min"] == (n - (want - 1) * chunk)
    f = tmp_path / "p.npy"
    np.save(f, np.random.default_rng(0).normal(size=(n, 3)))
    q = GeometricMedian(points=f, backend="dask", chunk_size=chunk)
    assert len(q.columns.chunks[1]) == want and q.chunking is not None
    assert q.chunking["chunks"] == want and q.chunking["points"] == n and q.dim == 3


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "100"])
def test_a_bad_chunk_size_is_an_input_error(bad: Any) -> None:
    with pytest.raises(InputError, match="--chunk-size must be a whole number of points >= 1"):
        GeometricMedian(n=100, backend="dask", chunk_size=bad)


def test_a_problem_that_is_not_chunked_refuses_dask() -> None:
    from geograd.problems import get_problem

    with pytest.raises(InputError, match="--backend dask is for problems whose loss is a sum"):
        get_problem("fermat", backend="dask")


def test_more_chunks_than_a_pass_can_schedule_are_refused_with_the_size_that_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geograd.problems import sources

    limit = 50  # the real limit (10^4) at a size that builds quickly
    monkeypatch.setattr(sources, "MAX_CHUNKS", limit)
    n = 2 * limit + 1
    with pytest.raises(InputError) as given:
        GeometricMedian(n=n, seed=SEED, backend="dask", chunk_size=2)
    message = str(given.value)
    assert message.startswith(f"the generated points: {n} points in {limit + 1} chunks")
    assert "give --chunk-size 3 or more" in message
    f = tmp_path / "many.npy"
    np.save(f, np.random.default_rng(SEED).uniform(size=(n, 2)))
    with pytest.raises(InputError, match=rf"many\.npy: {n} points in {n} chunks.*--chunk-size 3 "):
        GeometricMedian(points=f, backend="dask", chunk_size=1)
    # at the limit it is built: 3 points a chunk, 34 chunks
    ok = GeometricMedian(points=f, backend="dask", chunk_size=3)
    assert ok.chunking is not None and ok.chunking["chunks"] == -(-n // 3)
    # chunks that are a sharded source's files, each smaller than the size asked for
    with pytest.raises(InputError, match=r"parts: 1000 points in 500 chunks.*merge them"):
        sources.check_chunk_count(500, 1000, 100, "parts")
    sources.check_chunk_count(limit, 1000, 1, "parts")  # at the limit: accepted
