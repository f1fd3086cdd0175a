"""The median's passes over points held as a chunked dask array (the dask backend).

Every closed form of the median at a point p (objective, gradient, certificate, the
exact test at a data point, a Weiszfeld step) comes from one :class:`~.median.Scan`.
On the dask backend the points, a (d, n) array, stay in chunks of whole points on the
workers; one pass runs the numpy backend's own kernel (:func:`~.median.scan_arrays`)
on each chunk where it lives, and combines the chunks' scans up a tree (fan-in
:data:`FAN_IN`) into one. What travels is d + 6 numbers per chunk, never the points;
a pass is one ``dask.compute`` (one graph for the scheduler). The Weiszfeld reference's
search for a tight cluster of near-duplicates about its iterate (:func:`near_chunks`),
a pass made only where the nearest point is that close, sends at most
:data:`NEAR_LIMIT` points a chunk.

Nothing here imports dask at module level: these functions run only on data that
are dask arrays already (:func:`is_chunked`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: Partial scans combined per task of the reduction tree (dask's own reductions use 8 too).
FAN_IN = 8


def is_chunked(x: Any) -> bool:
    """True for a dask array (by its type's module: dask is not imported to ask)."""
    return type(x).__module__.split(".", 1)[0] == "dask"


def _dask() -> Any:
    import dask

    return dask


def whole_points(columns: Any) -> Any:
    """``columns`` (d, n) rechunked so that each chunk holds whole points (all d rows)."""
    if len(columns.chunks[0]) == 1:
        return columns
    return columns.rechunk({0: columns.shape[0]})


def chunk_starts(columns: Any) -> list[int]:
    """The index of each chunk's first point."""
    starts, s = [], 0
    for m in columns.chunks[1]:
        starts.append(s)
        s += int(m)
    return starts


def _tree(parts: list[Any], combine: Callable[..., Any]) -> Any:
    """``parts`` (delayed values) combined FAN_IN at a time, level by level, into one."""
    delayed = _dask().delayed
    while len(parts) > 1:
        parts = [
            delayed(combine, pure=True)(*parts[i : i + FAN_IN])
            for i in range(0, len(parts), FAN_IN)
        ]
    return parts[0]


def map_reduce(
    columns: Any,
    weights: Any | None,
    kernel: Callable[..., Any],
    combine: Callable[..., Any],
    *args: Any,
) -> Any:
    """``combine`` of ``kernel(block, weights_block, start, *args)`` over the chunks, up a
    tree, computed in one ``dask.compute``. ``block`` a numpy (d, m) array of whole
    points, ``start`` the index of its first point."""
    dask = _dask()
    columns = whole_points(columns)
    blocks = columns.to_delayed().ravel().tolist()
    starts = chunk_starts(columns)
    if weights is None:
        wblocks: list[Any] = [None] * len(blocks)
    else:
        wblocks = weights.rechunk((columns.chunks[1],)).to_delayed().ravel().tolist()
    delayed = dask.delayed
    parts = [delayed(kernel, pure=True)(b, w, s, *args) for b, w, s in zip(blocks, wblocks, starts)]
    (out,) = dask.compute(_tree(parts, combine))
    return out


# ------------------------------------------------------------------------- the scan


def _scan_kernel(block: Any, weights: Any, start: int, p: tuple[float, ...]) -> Any:
    from .median import scan_arrays

    found = scan_arrays(block, weights, p)
    return _shifted(found, start)


def _shifted(scan: Any, start: int) -> Any:
    import dataclasses

    return dataclasses.replace(scan, nearest=scan.nearest + start)


def _combine_scans(*scans: Any) -> Any:
    """One scan of the union of the chunks: sums add, the nearest point is the first of
    the nearest (by distance, then index), the reach is the largest."""
    from .median import Scan

    first = min(scans, key=lambda s: (s.nearest_distance, s.nearest))
    return Scan(
        total=math.fsum(s.total for s in scans),
        pull=tuple(math.fsum(c) for c in zip(*(s.pull for s in scans))),
        nearest=first.nearest,
        nearest_distance=first.nearest_distance,
        reach=max(s.reach for s in scans),
        weight_at=math.fsum(s.weight_at for s in scans),
        inv_sum=math.fsum(s.inv_sum for s in scans),
    )


def scan_chunks(columns: Any, weights: Any | None, p: Sequence[float]) -> Any:
    """:func:`~.median.scan_arrays` of dask ``columns`` (d, n) and ``weights`` at ``p``: one
    pass, chunk by chunk on the workers."""
    at = tuple(float(v) for v in p)
    return map_reduce(columns, weights, _scan_kernel, _combine_scans, at)


def point(columns: Any, k: int) -> list[float]:
    """Data point ``k`` (its d coordinates), computed from the one chunk that holds it."""
    (values,) = _dask().compute(columns[:, k])
    return [float(v) for v in values.tolist()]


def compute(*values: Any) -> list[Any]:
    """``values`` (dask arrays and scalars) computed together, in one pass."""
    return list(_dask().compute(*values))


def column_ranges(columns: Any) -> list[tuple[float, float]]:
    """(min, max) of each coordinate of dask ``columns`` (d, n), in one pass."""
    lo, hi = compute(columns.min(axis=1), columns.max(axis=1))
    return [(float(a), float(b)) for a, b in zip(lo.tolist(), hi.tolist())]


# ----------------------------------------------------------------------- Weiszfeld


def _vertex_optimal(
    scan: Callable[[Sequence[float]], Any], a: Sequence[float], rtol: float
) -> bool:
    """The exact test at data point ``a`` (all the copies of it together): optimal iff the
    others' pull ||R|| is at most the weight there. One pass."""
    at = scan(a)
    return bool(math.hypot(*at.pull) <= at.weight_at * (1.0 + rtol))


def _vardi_zhang(y: list[float], t: list[float], eta: float, r: float) -> list[float]:
    """The step from y of weight η (at data points, or a cluster taken as one point) whose
    others pull with ||R|| = r towards their Weiszfeld point t: max(0, 1 - η/r) t + min(1,
    η/r) y; t itself where no weight is at y."""
    if eta <= 0.0:
        return t
    return [max(0.0, 1.0 - eta / r) * tj + min(1.0, eta / r) * yj for tj, yj in zip(t, y)]


def _untested(found: Cluster, failed: set[int]) -> tuple[int, list[float]] | None:
    """The nearest point of the cluster ``found`` not tested yet (its index, its
    coordinates), or None: the median may be at any of them, not only at the nearest."""
    for i, k in enumerate(found.index.tolist()):
        if int(k) not in failed:
            return int(k), [float(v) for v in found.coords[:, i]]
    return None


def weiszfeld_scans(
    scan: Callable[[Sequence[float]], Any],
    point_at: Callable[[int], list[float]],
    x0: Sequence[float],
    spread: float,
    *,
    tol: float = 1e-12,
    max_iter: int = 100_000,
    vertex_rtol: float = 1e-9,
    near: Callable[[Sequence[float], float], Near] | None = None,
) -> tuple[list[float], dict[str, Any]]:
    """Weiszfeld's iteration with the Vardi–Zhang step, one :class:`~.median.Scan` a step
    (:func:`~.median.weiszfeld`'s mathematics and stopping rule, for data a pass at a
    time).

    From a scan at y: pull = Σ_{a_i≠y} w_i (y - a_i)/||y - a_i||, S = Σ_{a_i≠y} w_i/||y -
    a_i||, so T(y) = y - pull/S; at a data point of weight η = ``weight_at``, r = ||pull||
    and the step is max(0, 1 - η/r) T(y) + min(1, η/r) y. The exact test at the data
    point a_k nearest the iterate (optimal iff ||R_k|| <= w_k) costs a pass of its own, so
    it is made only when a_k lies within 1e-3 of the data's extent of the iterate (where
    the iteration could be heading for it), once per point.

    Stops when the remaining distance, step·max(1, ρ/(1 - ρ)), is below half of ``tol``
    times the extent (the estimate is itself some per cent off where ρ is near 1), ρ read
    across steps of one map only; a step of exactly 0 is a fixed point
    (:class:`~.median.WeiszfeldStop`).

    Tight clusters (near-duplicates) as :func:`~.median.weiszfeld` treats them, found by
    ``near`` (:func:`near_chunks` on the data; None: none are looked for): a cluster the
    others out-pull is stepped out of as one point; else its points are tested, one an
    iteration, nearest first (a median on a point whose lighter twin lay nearer the
    iterate was never tested, and false rates stopped it up to 8 times its tolerance
    off), and a step at rounding inside it stops unconverged.
    Each search is a pass, made only when the nearest point is within a cap of the
    iterate that any tight cluster needs, and not while the last one still tells
    (:class:`_ClusterSearch`).

    The details count the ``passes`` over the data (scans, exact tests and searches; a
    data point's coordinates come from its one chunk) and the ``cluster_searches``.
    """
    if spread == 0.0:
        return [float(v) for v in point_at(0)], {
            "iterations": 0, "converged": True, "stopped": "all points coincide",
            "tolerance": tol, "passes": 0,
        }  # fmt: skip
    from .median import WeiszfeldStop

    passes = 0

    def look(p: Sequence[float]) -> Any:
        nonlocal passes
        passes += 1
        return scan(p)

    clusters = _ClusterSearch(near, vertex_rtol)
    y = [float(v) for v in x0]
    failed: set[int] = set()

    def optimal(k: int, a: Sequence[float]) -> bool:
        if k in failed:
            return False
        if _vertex_optimal(look, a, vertex_rtol):
            return True
        failed.add(k)
        return False

    stop = WeiszfeldStop(tol, spread)
    stopped, converged, iterations = "max_iter", False, 0
    for it in range(1, max_iter + 1):
        iterations = it
        here = look(y)
        k = here.nearest
        if here.nearest_distance <= 1e-3 * spread and k not in failed:
            ak = point_at(k)
            if optimal(k, ak):
                y = ak
                stopped, converged = "data point passes the optimality test", True
                break
        eta, r, inside = here.weight_at, -1.0, 0.0
        kind: object = (eta, (k,) if eta > 0.0 else ())  # the weight at y, the points there
        t = [yj - pj / here.inv_sum for yj, pj in zip(y, here.pull)]
        found = clusters.about(y, here)
        if found is not None and found.out is not None:  # stepped out of as one point
            t, eta, r = found.out
            kind = (eta, tuple(found.index.tolist()))
        elif found is not None:  # the median may be at a point of it: one more tested
            inside = found.radius
            untested = _untested(found, failed)
            if untested is not None and optimal(*untested):
                y = untested[1]
                stopped, converged = "data point passes the optimality test", True
                break
        if eta > 0.0 and r < 0.0:
            r = math.hypot(*here.pull)
        y_new = _vardi_zhang(y, t, eta, r)
        step = math.dist(y_new, y)
        y = y_new
        ended = stop.after(kind, step, inside)
        if ended is not None:
            stopped, converged = ended
            break
    return y, {
        "iterations": iterations, "converged": converged, "stopped": stopped, "tolerance": tol,
        "passes": passes + clusters.passes, **clusters.notes(),
    }  # fmt: skip


# ------------------------------------------------------------------ tight clusters

#: At most this many of the points nearest the iterate come back from a chunk, and from a
#: whole neighbour search (each combine keeps the nearest so many): d + 3 numbers each, so
#: a search moves some kB a chunk whatever the chunk's size.
NEAR_LIMIT = 256


@dataclass(frozen=True)
class Near:
    """What one neighbour search at ``at`` finds (:func:`near_chunks`).

    ``index``, ``distance``, ``weight``, ``coords`` (d, m): the points of positive weight
    within the search's cap of ``at`` (those at it included), at most the nearest
    :data:`NEAR_LIMIT`, nearest first (by distance, then index). ``beyond``: the least
    distance of any other point of positive weight (inf if none), so the list holds every
    point nearer than that. ``pull``, ``inv_sum``: Σ w_i (at - a_i)/||at - a_i|| and Σ
    w_i/||at - a_i|| over those others (none of them at ``at``), summed where they lie: a
    cluster's surroundings taken as the scan's totals less the cluster would lose its
    digits to the cluster's 1/||a_i - y|| (~1e12 against ~10). ``dropped``: how many points
    within the cap are not listed (over the limit).
    """

    at: tuple[float, ...]
    index: Any
    distance: Any
    weight: Any
    coords: Any
    beyond: float
    pull: tuple[float, ...]
    inv_sum: float
    dropped: int


def _terms(at: Any, coords: Any, weight: Any, dist: Any) -> tuple[Any, float]:
    """Σ w_i (at - a_i)/||at - a_i|| and Σ w_i/||at - a_i|| over the points ``coords`` (d,
    m) at distances ``dist``, those at ``at`` left out."""
    import numpy as np

    with np.errstate(divide="ignore"):
        q = np.where(dist > 0.0, weight / dist, 0.0)
    return (np.asarray(at)[:, None] - coords) @ q, float(q.sum())


def _merged(parts: Sequence[Near]) -> Near:
    """One :class:`Near` of the union of ``parts`` (searches at one point over disjoint
    points): the lists joined, cut to the nearest :data:`NEAR_LIMIT`, what is cut folded
    into the sums and into ``beyond``."""
    import numpy as np

    index = np.concatenate([f.index for f in parts])
    distance = np.concatenate([f.distance for f in parts])
    weight = np.concatenate([f.weight for f in parts])
    coords = np.concatenate([f.coords for f in parts], axis=1)
    order = np.lexsort((index, distance))
    keep, cut = order[:NEAR_LIMIT], order[NEAR_LIMIT:]
    pulls = [f.pull for f in parts]
    sums = [f.inv_sum for f in parts]
    beyond = min(f.beyond for f in parts)
    if len(cut):
        pull, inv_sum = _terms(parts[0].at, coords[:, cut], weight[cut], distance[cut])
        pulls.append(tuple(pull.tolist()))
        sums.append(inv_sum)
        beyond = min(beyond, float(distance[cut[0]]))
    return Near(
        at=parts[0].at,
        index=index[keep],
        distance=distance[keep],
        weight=weight[keep],
        coords=coords[:, keep],
        beyond=beyond,
        pull=tuple(math.fsum(c) for c in zip(*pulls)),
        inv_sum=math.fsum(sums),
        dropped=sum(f.dropped for f in parts) + len(cut),
    )


def _listing(at: tuple[float, ...], index: Any, distance: Any, weight: Any, coords: Any) -> Near:
    """A :class:`Near` of listed points only (no others summed)."""
    return Near(at, index, distance, weight, coords, math.inf, (0.0,) * len(at), 0.0, 0)


def _near_kernel(block: Any, weights: Any, start: int, at: tuple[float, ...], cap: float) -> Near:
    """:class:`Near` of one chunk, a block of :data:`~.median.BLOCK_NUMBERS` numbers at a
    time as the scan goes (its temporaries stay in cache); the list is cut whenever it
    outgrows :data:`NEAR_LIMIT`, so a chunk of points all within the cap holds no more."""
    import numpy as np

    from .median import BLOCK_NUMBERS, block_distances

    d, m = block.shape
    p = np.asarray(at, dtype=np.float64)[:, None]
    size = max(1, BLOCK_NUMBERS // d)
    pull, inv_sum, beyond = np.zeros(d), 0.0, math.inf
    listed: list[Near] = []
    with np.errstate(all="ignore"):
        for s in range(0, m, size):
            diff = p - block[:, s : s + size]
            dist = block_distances(diff)
            wb = None if weights is None else weights[s : s + size]
            close = dist <= cap
            rest = ~close  # all at positive distances (> cap)
            if wb is not None:  # a point of weight 0 is no point of the data
                close &= wb > 0.0
                rest &= wb > 0.0
            q = (1.0 if wb is None else wb) / dist
            np.putmask(q, ~rest, 0.0)
            pull += diff @ q
            inv_sum += float(q.sum())
            beyond = min(beyond, float(np.min(dist, where=rest, initial=math.inf)))
            idx = np.flatnonzero(close)
            if len(idx):
                weight = np.ones(len(idx)) if wb is None else wb[idx]
                listed.append(_listing(at, idx + (start + s), dist[idx], weight, block[:, s + idx]))
                if sum(len(f.index) for f in listed) > NEAR_LIMIT:
                    listed = [_merged(listed)]
    empty = np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros((d, 0))
    summed = Near(at, *empty, beyond, tuple(pull.tolist()), inv_sum, 0)
    return _merged([summed, *listed])


def _combine_near(*parts: Near) -> Near:
    return _merged(parts)


def near_chunks(columns: Any, weights: Any | None, y: Sequence[float], cap: float) -> Near:
    """The points of dask ``columns`` (d, n) of positive weight within ``cap`` of ``y`` (at
    most the :data:`NEAR_LIMIT` nearest), and the sums over the others (:class:`Near`): one
    pass, each chunk sending at most NEAR_LIMIT points."""
    at = tuple(float(v) for v in y)
    found: Near = map_reduce(columns, weights, _near_kernel, _combine_near, at, float(cap))
    return found


@dataclass(frozen=True)
class Gaps:
    """Where tight clusters about a point y end (:func:`gaps`): ``order`` the positions in
    a search's list of its points at positive distances from y, nearest first; ``dist``
    those distances e; ``ends`` the j for which the nearest j + 1 are a tight cluster
    (every other point at least :data:`~.median.CLUSTER_GAP`·e_j from y), widest first."""

    order: Any
    dist: Any
    ends: list[int]


def gaps(near: Near, y: Sequence[float]) -> Gaps | None:
    """:class:`Gaps` about ``y`` from the search ``near``, made at ``y`` or near it.

    Off the search's point by δ, every point not listed is at least beyond - δ from y and
    the nearest of them at most beyond + δ: a gap is there when the lower bound clears it,
    and not there when the upper one falls short of it. None when some gap is decided by
    neither (or a point not listed may be at y): only a new search can tell.
    """
    import numpy as np

    from .median import CLUSTER_GAP, block_distances

    delta = math.dist(y, near.at)
    lo, hi = near.beyond - delta, near.beyond + delta
    if lo <= 0.0:
        return None
    diff = np.asarray(y, dtype=np.float64)[:, None] - near.coords
    dist = block_distances(diff) if len(near.index) else np.zeros(0)
    order = np.lexsort((near.index, dist))
    order = order[dist[order] > 0.0]  # the listed points at y are not the cluster's
    e = dist[order]
    after = np.append(e[1:], math.inf)  # the next listed point out
    need = CLUSTER_GAP * e
    there = np.minimum(after, lo) >= need
    absent = np.minimum(after, hi) < need
    if not bool((there | absent).all()):
        return None
    return Gaps(order, e, np.flatnonzero(there)[::-1].tolist())


#: The others' sums about a cluster, given the j of its end: (Σ w_i (y - a_i)/||y - a_i||,
#: Σ w_i/||y - a_i||) over the points neither at y nor in the cluster.
Others = Callable[[int], tuple[list[float], float]]


def _others_searched(near: Near, found: Gaps) -> Others:
    """The others' sums at the search's own point: those it summed (not listed), and the
    listed points beyond the cluster. Exact: no difference of large sums."""

    def others(j: int) -> tuple[list[float], float]:
        rest = found.order[j + 1 :]
        pull, inv_sum = _terms(
            near.at, near.coords[:, rest], near.weight[rest], found.dist[j + 1 :]
        )
        return [math.fsum(c) for c in zip(near.pull, pull.tolist())], math.fsum(
            [near.inv_sum, inv_sum]
        )

    return others


def _others_scanned(here: Any, y: Sequence[float], near: Near, found: Gaps) -> Others | None:
    """The others' sums at y as the scan's totals there less the cluster's terms, when that
    difference keeps its digits: the cluster's Σ w_i/||a_i - y|| (of the widest) at most
    half the scan's; else None (a search at y sums them exactly). The pull loses nothing:
    the cluster's part of it is at most its weight."""
    widest = found.order[: found.ends[0] + 1]
    own = near.weight[widest] / found.dist[: found.ends[0] + 1]
    if math.fsum(own.tolist()) > here.inv_sum / 2.0:
        return None

    def others(j: int) -> tuple[list[float], float]:
        members = found.order[: j + 1]
        pull, inv_sum = _terms(
            y, near.coords[:, members], near.weight[members], found.dist[: j + 1]
        )
        return [math.fsum([a, -b]) for a, b in zip(here.pull, pull.tolist())], math.fsum(
            [here.inv_sum, -inv_sum]
        )

    return others


@dataclass(frozen=True)
class Cluster:
    """A tight cluster about the iterate: its points (``index``, ``coords`` (d, m), nearest
    first) and ``radius``; ``out`` = (T of the others, the cluster's weight with the points
    at y, the others' ||R||) when the others out-pull it, else None."""

    index: Any
    coords: Any
    radius: float
    out: tuple[list[float], float, float] | None


def _cluster(
    near: Near, found: Gaps, y: Sequence[float], eta: float, rtol: float, others: Others
) -> Cluster:
    """The widest tight cluster about ``y`` (``eta`` the weight at it; ``found.ends`` not
    empty) that the others out-pull, as one point, else the widest, not out-pulled.

    The rule is :func:`~.median.others_out_pull`, as for the numpy reference."""
    from .median import others_out_pull

    for j in found.ends:
        members = found.order[: j + 1]
        pull, inv_sum = others(j)
        weight = math.fsum([eta, *near.weight[members].tolist()])
        r = math.hypot(*pull)
        if others_out_pull(r, weight, float(found.dist[j]), inv_sum, rtol):
            t = [yj - pj / inv_sum for yj, pj in zip(y, pull)]
            radius = float(found.dist[j])
            return Cluster(near.index[members], near.coords[:, members], radius, (t, weight, r))
    widest = found.order[: found.ends[0] + 1]
    radius = float(found.dist[found.ends[0]])
    return Cluster(near.index[widest], near.coords[:, widest], radius, None)


class _ClusterSearch:
    """Tight clusters about Weiszfeld's iterate on chunked data, a pass a search, as few
    searches as can tell.

    A cluster within e of y needs every other point, the farthest among them, at least
    :data:`~.median.CLUSTER_GAP`·e away, so it is looked for only when the nearest point
    is within reach/CLUSTER_GAP of y (the scan's reach: ~1e-4 of the data's size). The
    last search is asked first (:func:`gaps`, its bounds off its own point): while it
    decides that there is no cluster about the new iterate, or that there is one whose
    surroundings the scan's totals give to their digits, no pass is made. So random data
    pay a search only when the iterate comes that close to a data point (once, where the
    median lies there), and the iterate beside a light pair (the scan's totals hardly
    touched by it) one, not one an iteration.
    """

    def __init__(self, near: Callable[[Sequence[float], float], Near] | None, rtol: float):
        self.near, self.rtol = near, rtol
        self.last: Near | None = None
        self.passes = 0
        self.crowded = 0  # searches that listed NEAR_LIMIT points and cut the rest

    def about(self, y: Sequence[float], here: Any) -> Cluster | None:
        """The tight cluster about ``y`` (:func:`_cluster`), ``here`` the scan at ``y``."""
        from .median import CLUSTER_GAP

        cap = here.reach / CLUSTER_GAP
        if self.near is None or here.nearest_distance > cap:
            return None
        known = self._from_last(y, here)
        if known is None:
            known = self._search(y, cap)
        if known is None:
            return None
        near, found, others = known
        if not found.ends or others is None:
            return None
        return _cluster(near, found, y, here.weight_at, self.rtol, others)

    def _from_last(self, y: Sequence[float], here: Any) -> tuple[Near, Gaps, Others | None] | None:
        """What the last search still tells about ``y``: that there is no cluster, or one
        whose others' sums the scan gives to their digits; None if it cannot tell."""
        last = self.last
        found = None if last is None else gaps(last, y)
        if last is None or found is None:
            return None
        if not found.ends:
            return last, found, None
        others = _others_scanned(here, y, last, found)
        return None if others is None else (last, found, others)

    def _search(self, y: Sequence[float], cap: float) -> tuple[Near, Gaps, Others] | None:
        """A new search at ``y`` (a pass); None where it cannot tell (more than it lists
        lie at y itself)."""
        assert self.near is not None
        near = self.last = self.near(y, cap)
        self.passes += 1
        self.crowded += near.dropped > 0
        found = gaps(near, y)
        return None if found is None else (near, found, _others_searched(near, found))

    def notes(self) -> dict[str, Any]:
        """For the details: the searches made, and whether any was cut at its limit."""
        out: dict[str, Any] = {"cluster_searches": self.passes}
        if self.crowded:
            out["clusters"] = (
                f"{self.crowded} search(es) found more than {NEAR_LIMIT} points within the "
                "cap: a tight cluster of more is not detectable, and none is claimed"
            )
        return out


# ----------------------------------------------------------------------- uniqueness


def _far_kernel(block: Any, weights: Any, start: int, a0: Any) -> tuple[float, int]:
    import numpy as np

    from .median import block_distances

    with np.errstate(all="ignore"):
        dist = block_distances(block - a0[:, None])
    if weights is not None:
        dist = np.where(weights > 0.0, dist, -1.0)
    i = int(dist.argmax())
    return float(dist[i]), start + i


def _far_combine(*found: tuple[float, int]) -> tuple[float, int]:
    return max(found, key=lambda f: (f[0], -f[1]))


def _off_line_kernel(block: Any, weights: Any, start: int, a0: Any, u: Any) -> float:
    import numpy as np

    from .median import block_distances

    with np.errstate(all="ignore"):
        v = block - a0[:, None]
        off = block_distances(v - (u @ v) * u[:, None])
    if weights is not None:
        off = np.where(weights > 0.0, off, 0.0)
    return float(off.max())


def uniqueness_chunks(
    columns: Any, weights: Any | None, label: Callable[[int], str], collinear_rtol: float
) -> tuple[bool | None, str]:
    """Whether the median of dask ``columns`` is unique, in two passes: the point of
    positive weight farthest from the first one, then the largest distance of any from
    the line through both. Not collinear: unique (the mean distance is strictly convex).
    Collinear data need the weighted 1-D median of the positions along the line, a sort
    of n numbers in one place: that verdict is left undecided (None) here, and said."""
    import numpy as np

    first = 0
    if weights is not None:
        (first,) = compute((weights > 0).argmax())
    a0 = np.asarray(point(columns, int(first)))
    spread, far = map_reduce(columns, weights, _far_kernel, _far_combine, a0)
    if spread == 0.0:
        return True, "all the points of positive weight coincide"
    u = (np.asarray(point(columns, far)) - a0) / spread
    off = map_reduce(columns, weights, _off_line_kernel, max, a0, u)
    if off > collinear_rtol * spread:
        return True, "the points are not collinear, so the mean distance is strictly convex"
    return None, (
        f"the points are collinear (along {label(int(first))} and {label(far)}); whether "
        "their weighted 1-D median is a single point is not decided on the dask backend "
        "(solve with --backend numpy to decide it)"
    )
