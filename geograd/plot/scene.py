"""The scene: the problem's 2-D picture with each run's path and estimate.

The problem is a :class:`geograd.problems.Problem`, used only through its generic
drawing interface: ``has_scene`` (whether there is a 2-D picture at all), ``draw(ax)``
(the data), ``plot_xy(x)`` (where an estimate sits in the drawing, for paths, or None),
``draw_estimate(ax, x, color=..., linestyle=..., marker=..., alpha=..., label=...)`` (the
picture of an estimate: a fitted circle, moved points; drawn for each run's final iterate
in the run's style, for the reference in black dots, and redrawn on every animation
frame), ``plot_bounds(extra, margin)`` (the view, widened to hold the final estimates'
pictures), ``objective_grid(xs, ys)`` (the loss contours, when there are paths) and
``reference()``. There is no per-problem code here: a problem with a picture but no path
point (charges on a sphere) gets data and estimates without paths or contours.

:func:`trajectory_figure` is the scene alone; :func:`draw_scene` draws it into axes
given (for :func:`~geograd.plot.result_figure` and the animations).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

from geograd.errors import GeogradError, InputError
from geograd.plot.common import (
    check_resolution,
    legend_below,
    new_figure,
    problem_title,
    run_style,
)
from geograd.plot.runs import MarkedReference, Run, as_runs, reference_loss, resolve_reference

Point = tuple[float, float]
#: A view or a zoomed window: (x_lo, x_hi, y_lo, y_hi).
Bounds = tuple[float, float, float, float]

#: The paths get a zoomed inset when they fit in a square this fraction of the view.
ZOOM_BELOW = 0.3
INSET_SIZE = 0.42


def has_scene(problem: Any, runs: Sequence[Run]) -> bool:
    """Whether to draw the scene: the problem has a 2-D picture (``problem.has_scene``)
    and the runs recorded their iterates."""
    if problem is None or not any(run.x for run in runs):
        return False
    try:
        flag = getattr(problem, "has_scene", None)
        if isinstance(flag, bool):
            return flag
        return problem.plot_xy(problem.x0) is not None
    except (GeogradError, IndexError, TypeError, ValueError):
        return False


def split_xy(points: Sequence[Point]) -> tuple[list[float], list[float]]:
    """The x and the y coordinates of ``points``, as two lists (what ``set_data`` takes)."""
    return [p[0] for p in points], [p[1] for p in points]


def _paths(problem: Any, runs: Sequence[Run]) -> list[list[Point]]:
    return [[xy for xy in (problem.plot_xy(x) for x in run.x) if xy is not None] for run in runs]


# -------------------------------------------------------------------------- estimates


def draw_estimates(
    ax: Any, problem: Any, runs: Sequence[Run], points: Sequence[Sequence[float] | None]
) -> list[Any]:
    """Each run's picture of its estimate ``points[i]`` (``problem.draw_estimate``) in the
    run's colour, line style and marker; unlabelled, as the run's path line names it."""
    artists: list[Any] = []
    for i, (_, x) in enumerate(zip(runs, points)):
        if x is None:
            continue
        st = run_style(i)
        drawn = problem.draw_estimate(
            ax, x, color=st["color"], label=None, linestyle=st["linestyle"],
            marker=st["marker"], alpha=0.95,
        )  # fmt: skip
        artists += list(drawn or [])
    return artists


def _draw_reference_estimate(
    ax: Any, problem: Any, ref: MarkedReference | None, label: bool
) -> list[Any]:
    """The reference's picture (black, dotted); labelled when no star marks the reference."""
    if ref is None or ref.x is None:
        return []
    drawn = problem.draw_estimate(
        ax, ref.x, color="black", label=f"reference ({ref.method})" if label else None,
        linestyle=":", marker="*", alpha=0.9,
    )  # fmt: skip
    return list(drawn or [])


def _artist_extent(ax: Any, artists: Sequence[Any]) -> list[Point]:
    """Corners (or vertices) of what ``artists`` cover, in data coordinates: lines by
    their vertices, collections by their data limits, patches by their extents."""
    pts: list[Any] = []
    for a in artists:
        try:
            if hasattr(a, "get_xydata"):
                if a.get_transform().contains_branch(ax.transData):
                    pts += list(a.get_xydata())
            elif hasattr(a, "get_datalim"):
                pts += list(a.get_datalim(ax.transData).get_points())
            elif hasattr(a, "get_extents") and a.get_transform().contains_branch(ax.transData):
                pts += list(ax.transData.inverted().transform(a.get_extents().get_points()))
        except (AttributeError, TypeError, ValueError, IndexError):
            continue
    out = []
    for p in pts:
        try:
            x, y = float(p[0]), float(p[1])
        except (TypeError, ValueError, IndexError):
            continue
        if math.isfinite(x) and math.isfinite(y):
            out.append((x, y))
    return out


def _widen(bounds: Bounds, points: Sequence[Point]) -> Bounds:
    """``bounds`` grown to hold ``points`` (with a small margin), but never beyond three
    times their size: a diverged estimate must not shrink the scene to a dot."""
    x_lo, x_hi, y_lo, y_hi = bounds
    if not points or all(x_lo <= x <= x_hi and y_lo <= y <= y_hi for x, y in points):
        return bounds
    span = max(x_hi - x_lo, y_hi - y_lo)
    cx, cy = (x_lo + x_hi) / 2, (y_lo + y_hi) / 2
    reach = 1.5 * span
    xs = [min(max(x, cx - reach), cx + reach) for x, _ in points] + [x_lo, x_hi]
    ys = [min(max(y, cy - reach), cy + reach) for _, y in points] + [y_lo, y_hi]
    pad = 0.04 * max(max(xs) - min(xs), max(ys) - min(ys))
    return (min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad)


# ------------------------------------------------------------------------------ scene


def draw_scene(
    ax: Any,
    problem: Any,
    runs: Sequence[Run],
    ref: MarkedReference | None,
    *,
    resolution: int,
    paths: bool = True,
) -> dict[str, Any]:
    """Data, contours, reference, start point, each run's path and each run's final
    estimate (``problem.draw_estimate``) on ``ax``, with a zoomed inset when the paths
    fill only a corner of the view. With ``paths`` False (an animation) the paths are
    empty and the final estimates are only used to size the view. Returns the
    artists the animation moves."""
    all_paths = _paths(problem, runs)
    ref_xy = None if ref is None or ref.x is None else problem.plot_xy(ref.x)
    extra = [p for path in all_paths for p in path] + ([ref_xy] if ref_xy else [])
    bounds = problem.plot_bounds(extra=extra, margin=0.06)
    # The estimates' pictures (a fitted circle, moved points) may reach beyond the data.
    finals = [run.x[-1] if run.x else None for run in runs]
    estimates = draw_estimates(ax, problem, runs, finals)
    ref_picture = _draw_reference_estimate(ax, problem, ref, label=ref_xy is None)
    bounds = _widen(bounds, _artist_extent(ax, estimates + ref_picture))
    if not paths:
        for artist in estimates:
            artist.remove()
    layer = _draw_layer(
        ax, problem, runs, all_paths, ref, ref_xy, bounds,
        resolution=resolution, paths=paths, labels=True,
    )  # fmt: skip
    zoom = _zoom_window(all_paths, ref_xy, bounds)
    inset = None
    if zoom is not None:
        rect = _inset_rect(zoom, bounds, layer["data"] + [p for path in all_paths for p in path])
        inset = ax.inset_axes(rect)
        inner = _draw_layer(
            inset, problem, runs, all_paths, ref, ref_xy, zoom,
            resolution=max(2, resolution // 2), paths=paths, labels=False,
        )  # fmt: skip
        layer["lines"] += inner["lines"]
        inset.set_xlabel("")
        inset.set_ylabel("")
        inset.tick_params(labelleft=False, labelbottom=False, length=0)
        width = bounds[1] - bounds[0]
        inset.set_title(f"zoom ×{width / (zoom[1] - zoom[0]):.0f}", fontsize=8, pad=2)
        ax.indicate_inset_zoom(inset, edgecolor="0.3", alpha=0.8)
    layer["inset"] = inset
    layer["has_paths"] = any(all_paths)
    layer["estimates"] = estimates if paths else []
    return layer


def _draw_layer(
    ax: Any,
    problem: Any,
    runs: Sequence[Run],
    all_paths: list[list[Point]],
    ref: MarkedReference | None,
    ref_xy: Point | None,
    bounds: Bounds,
    *,
    resolution: int,
    paths: bool,
    labels: bool,
) -> dict[str, Any]:
    """One view of the scene (the main one, or the zoomed inset): contours, data, start
    points, the reference's star and each run's path line and head."""
    import numpy as np

    x_lo, x_hi, y_lo, y_hi = bounds
    contour = None
    # Contours of L over the drawing plane only make sense when the plane is where the
    # iterates move (a path); a scene without paths (charges on a sphere) has none.
    if any(all_paths):
        with contextlib.suppress(GeogradError, NotImplementedError):
            xs = list(np.linspace(x_lo, x_hi, resolution))
            ys = list(np.linspace(y_lo, y_hi, resolution))
            z = np.asarray(problem.objective_grid(xs, ys), dtype=float)
            if z.size and np.isfinite(z).any():
                contour = _contours(ax, xs, ys, z, reference_loss(ref), labels)
    data = _artist_points(problem.draw(ax, None) or [])
    starts = sorted({tuple(path[0]) for path in all_paths if path})
    for k, (sx, sy) in enumerate(starts):
        ax.plot(
            [sx], [sy], marker="o", ms=9, mfc="white", mec="black", mew=1.6, ls="none",
            label="start x₀" if k == 0 and labels else None, zorder=6,
        )  # fmt: skip
    if ref_xy is not None and ref is not None:
        ax.plot(
            [ref_xy[0]], [ref_xy[1]], marker="*", ms=17, mfc="white", mec="black", mew=1.4,
            ls="none", label=f"reference ({ref.method})" if labels else None, zorder=8,
        )  # fmt: skip
    lines = []
    for i, (run, path) in enumerate(zip(runs, all_paths)):
        st = run_style(i)
        px, py = split_xy(path) if paths else ([], [])
        (line,) = ax.plot(
            px, py, color=st["color"], ls=st["linestyle"], lw=1.4, marker=st["marker"],
            ms=3.5, markevery=max(1, len(path) // 12), alpha=0.9,
            label=run.label if labels else None, zorder=4,
        )  # fmt: skip
        (head,) = ax.plot(
            px[-1:], py[-1:], color=st["color"], marker=st["marker"], ms=9, mec="black",
            mew=0.8, ls="none", zorder=9,
        )  # fmt: skip
        lines.append((i, line, head, path))
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal", adjustable="box")
    return {"lines": lines, "contour": contour, "data": data}


def _artist_points(artists: Sequence[Any]) -> list[Point]:
    """The 2-D positions an artist list shows (scatter offsets, line vertices), to find
    an empty corner for the inset."""
    out: list[Point] = []
    for a in artists:
        try:
            pts = a.get_offsets() if hasattr(a, "get_offsets") else a.get_xydata()
            out += [(float(p[0]), float(p[1])) for p in pts]
        except (AttributeError, TypeError, ValueError, IndexError):
            continue
    return out


# ------------------------------------------------------------------------------ inset


def _zoom_window(paths: list[list[Point]], ref_xy: Point | None, bounds: Bounds) -> Bounds | None:
    """A square around where the runs end: around the whole paths when they are short,
    else around the last three quarters of their iterates (the early sprint is visible
    in the main view anyway); None when that square is not much smaller than the view."""
    ends = [path[-1] for path in paths if path]
    if not ends:
        return None
    span = max(bounds[1] - bounds[0], bounds[3] - bounds[2])
    cx, cy = ref_xy if ref_xy is not None else (
        math.fsum(p[0] for p in ends) / len(ends),
        math.fsum(p[1] for p in ends) / len(ends),
    )  # fmt: skip
    radius = 0.0
    for path in paths:
        d = sorted(math.hypot(p[0] - cx, p[1] - cy) for p in path)
        if not d:
            continue
        radius = max(radius, d[-1] if d[-1] < 0.12 * span else d[int(0.75 * (len(d) - 1))])
    radius = max(radius, *(math.hypot(p[0] - cx, p[1] - cy) for p in ends), 0.005 * span)
    half = 1.25 * radius
    if 2 * half > ZOOM_BELOW * span:
        return None
    return (cx - half, cx + half, cy - half, cy + half)


def _inset_rect(zoom: Bounds, bounds: Bounds, points: list[Point]) -> list[float]:
    """The inset's place in axes fractions: the corner covering the fewest drawn points
    and not the zoomed square itself."""
    x_lo, x_hi, y_lo, y_hi = bounds

    def frac(x: float, y: float) -> tuple[float, float]:
        return (x - x_lo) / (x_hi - x_lo), (y - y_lo) / (y_hi - y_lo)

    zx0, zy0 = frac(zoom[0], zoom[2])
    zx1, zy1 = frac(zoom[1], zoom[3])
    s, pad = INSET_SIZE, 0.03
    best: tuple[float, list[float]] | None = None
    for fx, fy in ((1 - pad - s, 1 - pad - s), (pad, 1 - pad - s), (1 - pad - s, pad), (pad, pad)):
        overlap = not (zx1 < fx or zx0 > fx + s or zy1 < fy or zy0 > fy + s)
        inside = sum(
            1
            for p in points
            for u, v in (frac(*p),)
            if fx - pad <= u <= fx + s + pad and fy - pad <= v <= fy + s + pad
        )
        score = inside + (1e9 if overlap else 0)
        if best is None or score < best[0]:
            best = (score, [fx, fy, s, s])
    assert best is not None
    return best[1]


# --------------------------------------------------------------------------- contours


def _contours(
    ax: Any, xs: Any, ys: Any, z: Any, ref_loss: float | None, labels: bool = True
) -> Any:
    """Contours of L spaced geometrically in L − min L, so that both the basin around
    the minimum and the far field get lines; every other line labelled with its value."""
    import numpy as np

    finite = z[np.isfinite(z)]
    if finite.size == 0 or np.any(np.diff(xs) <= 0) or np.any(np.diff(ys) <= 0):
        return None  # a grid finer than float spacing (subnormal data): no contours
    lo = float(finite.min())
    if ref_loss is not None and math.isfinite(ref_loss):
        lo = min(lo, ref_loss)
    span = float(finite.max()) - lo
    if not (math.isfinite(span) and span > 0):
        return None
    # At the edge of float's range distinct levels can round to one value: keep the
    # distinct ones, and draw none when fewer than two remain.
    levels = np.unique(lo + span * np.geomspace(2e-3, 0.98, 12))
    if levels.size < 2:
        return None
    cs = ax.contour(xs, ys, z, levels=levels, cmap="viridis", linewidths=0.8, alpha=0.7)
    if labels:
        ax.clabel(cs, cs.levels[1::2], fontsize=7, fmt="%.4g", inline=True)
    return cs


# ----------------------------------------------------------------------------- figure


def scene_decorations(fig: Any, ax: Any, handles: dict[str, Any], columns: int) -> None:
    """The scene's legend under the figure (in ``columns`` columns) and its title, which
    says what is drawn: ``handles`` is what :func:`draw_scene` returned."""
    legend_below(fig, ax, columns)
    what = "iterates x_k" if handles["has_paths"] else "estimates"
    ax.set_title(
        what + (", on contours of L" if handles["contour"] is not None else ""), fontsize=10
    )


def trajectory_figure(
    problem: Any,
    runs: Any,
    reference: Any = None,
    *,
    title: str | None = None,
    resolution: int = 120,
) -> Any:
    """The problem's data, contours of its loss, each run's path and the reference.

    The problem draws its data itself (``problem.draw``); paths come from
    ``problem.plot_xy`` of each recorded iterate; ``reference`` is a
    ``Reference``, a mapping with ``x``/``solution``, ``loss``, ``method``, None
    (the problem's own ``reference()``) or False (none). Equal aspect. A problem
    without a 2-D picture (``plot_xy`` returns None) is an :class:`InputError`:
    use :func:`convergence_figure` or :func:`result_figure`. ``resolution`` is the
    side of the grid the contours are computed on.
    """
    rs = as_runs(runs)
    check_resolution(resolution)
    if not has_scene(problem, rs):
        raise InputError(
            f"plot: {getattr(problem, 'name', 'this problem')} has no 2-D picture of its "
            "iterates; draw the convergence figure instead"
        )
    ref = resolve_reference(problem, reference)
    fig = new_figure(6.6, 7.0)
    ax = fig.add_subplot()
    handles = draw_scene(ax, problem, rs, ref, resolution=resolution)
    scene_decorations(fig, ax, handles, 3)
    fig.suptitle(title or f"{problem_title(problem)}: path of the iterates", fontsize=13)
    return fig
