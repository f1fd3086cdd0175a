"""The median's passes over points held as a chunked dask array (the dask backend).

Every closed form of the median at a point p (objective, gradient, certificate, the
exact test at a data point, a Weiszfeld step) comes from one :class:`~.median.Scan`.
On the dask backend the points, a (d, n) array, stay in chunks of whole points on the
workers; one pass runs the numpy backend's own kernel (:func:`~.median.scan_arrays`)
on each chunk where it lives, and combines the chunks' scans up a tree (fan-in
:data:`FAN_IN`) into one. What travels is d + 6 numbers per chunk, never the points;
a pass is one ``dask.compute`` (one graph for the scheduler).

Nothing here imports dask at module level: these functions run only on data that
are dask arrays already (:func:`is_chunked`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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


def weiszfeld_scans(
    scan: Callable[[Sequence[float]], Any],
    point_at: Callable[[int], list[float]],
    x0: Sequence[float],
    spread: float,
    *,
    tol: float = 1e-12,
    max_iter: int = 100_000,
    vertex_rtol: float = 1e-9,
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
    """
    if spread == 0.0:
        return [float(v) for v in point_at(0)], {
            "iterations": 0, "converged": True, "stopped": "all points coincide",
            "tolerance": tol,
        }  # fmt: skip
    y = [float(v) for v in x0]
    failed: set[int] = set()
    stopped, converged, iterations, last = "max_iter", False, 0, math.inf
    for it in range(1, max_iter + 1):
        iterations = it
        here = scan(y)
        k = here.nearest
        if here.nearest_distance <= 1e-3 * spread and k not in failed:
            ak = point_at(k)
            at = scan(ak)
            if math.hypot(*at.pull) <= at.weight_at * (1.0 + vertex_rtol):
                y = ak
                stopped, converged = "data point passes the optimality test", True
                break
            failed.add(k)
        t = [yj - pj / here.inv_sum for yj, pj in zip(y, here.pull)]
        eta = here.weight_at
        if eta > 0.0:
            r = math.hypot(*here.pull)
            y_new = [max(0.0, 1.0 - eta / r) * tj + min(1.0, eta / r) * yj for tj, yj in zip(t, y)]
        else:
            y_new = t
        step = math.dist(y_new, y)
        y = y_new
        rho = step / last if 0.0 < step < last else 0.0
        if step * max(1.0, rho / (1.0 - rho)) <= tol * spread:
            stopped, converged = f"remaining distance below {tol:g} of the extent", True
            break
        last = step
    return y, {
        "iterations": iterations, "converged": converged, "stopped": stopped, "tolerance": tol,
        "passes": "one pass over the data per iteration, one more per data point tested",
    }  # fmt: skip


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
