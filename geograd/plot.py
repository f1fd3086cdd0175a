"""Layer 7: matplotlib figures and animations of geograd runs.

Every figure is built from *runs* and, for the scene, a *problem*:

* a run is what :func:`geograd.minimize` returns (a :class:`~geograd.solve.Result`)
  or its dict form (``Result.to_dict()``, or any mapping with a ``history`` of
  plain lists ``step``, ``loss``, ``grad_norm`` and ``x``, as a saved JSON holds
  it). ``runs`` may be one run, a sequence of runs, or a mapping label -> run;
  a run's label is its optimizer's name unless the mapping gives one.
* a problem is a :class:`geograd.problems.Problem`; the scene uses only its
  generic drawing interface: ``has_scene`` (whether there is a 2-D picture at
  all), ``draw(ax)`` (the data), ``plot_xy(x)`` (where an estimate sits in the
  drawing, for paths, or None), ``draw_estimate(ax, x, color=..., linestyle=...,
  marker=..., alpha=..., label=...)`` (the picture of an estimate: a fitted
  circle, moved points; drawn for each run's final iterate in the run's style,
  for the reference in black dots, and redrawn on every animation frame),
  ``plot_bounds(extra, margin)`` (the view, widened to hold the final estimates'
  pictures), ``objective_grid(xs, ys)`` (the loss contours, when there are
  paths) and ``reference()``. There is no per-problem code here: a problem with a
  picture but no path point (charges on a sphere) gets data and estimates
  without paths or contours; one without a picture the convergence panels only.

Functions (each returns a matplotlib ``Figure`` or writes a file):

* :func:`convergence_figure`: the objective gap L(x) − L* and the gradient norm
  against the step, on log scales, one line per run;
* :func:`trajectory_figure`: the problem's data, loss contours, each run's path
  and the reference solution, in equal aspect;
* :func:`result_figure`: the trajectory beside the convergence panels (what
  ``--plot FILE`` saves), or the convergence panels alone for a problem without
  a 2-D picture;
* :func:`animate`: the scene growing step by step beside the objective gap, saved
  as GIF (Pillow) or MP4 (ffmpeg) by the file's suffix; several runs make a race
  (:func:`animation_frame` gives one frame as a Figure; :func:`frame_steps` says
  which steps get frames, :func:`frame_seconds` how long each is shown: a short run
  is slowed to play for at least :data:`MIN_SECONDS`, and the final state is held
  :data:`HOLD_SECONDS` at the end);
* :func:`h_sweep_figure`: the central finite-difference error against the step h
  (the rounding-versus-truncation V) beside the autograd gradient's error;
* :func:`save_figure`: PNG, SVG or PDF by the suffix.

matplotlib (with numpy and Pillow, which it brings) is imported inside the functions, never
when ``geograd`` or this module is imported. Figures are made with
``matplotlib.figure.Figure`` and an Agg canvas, not pyplot, so they need no
display and no global state (and nothing leaks when they are dropped); when
there is no display (neither ``DISPLAY`` nor ``WAYLAND_DISPLAY`` is set, on Linux and
the like) the Agg backend is also selected for any pyplot use that follows. Files are
written atomically: to a temporary file in the target's directory, then
``os.replace``, so a crash or Ctrl-C never leaves half a file.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geograd.errors import GeogradError, InputError
from geograd.fileio import atomic_path

#: Gaps and gradient norms at or below this are drawn at it, so a zero (an exact
#: solution, or a loss equal to the reference's to the last bit) still shows on a log axis.
FLOOR = 1e-16
#: What :func:`save_figure` writes.
FIGURE_FORMATS = ("png", "svg", "pdf")
#: What :func:`animate` writes.
ANIMATION_FORMATS = ("gif", "mp4")
#: Default animation settings: at most 200 frames at 20 per second (10 s), the last
#: frame held for 1.5 s at the end (before a GIF loops).
DEFAULT_FRAMES = 200
DEFAULT_FPS = 20.0
HOLD_SECONDS = 1.5
#: The shortest time a run plays in, the hold not counted: an animation with fewer than
#: fps x MIN_SECONDS frames shows each frame longer (a 15-step run plays in 3 s at any fps,
#: not in 0.75 s at 20 frames per second).
MIN_SECONDS = 3.0

# Okabe–Ito colours (distinct for colour-blind readers), each run also gets its own
# line style and marker, so that lines stay apart when printed in grey.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)), "-")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h")

GAP_LABEL = "objective gap  L(x) − L*"
GAP_LABEL_BEST = "L(x) − L_best  (lowest loss seen)"
GRAD_LABEL = "gradient norm  ‖∇L(x)‖"
STEP_LABEL = "step"

Progress = Callable[[int, int], Any]

# ----------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Run:
    """One run's recorded history as plain lists, with the label it is drawn under.

    ``x`` holds the recorded iterates (each a list of floats), or is empty when
    the history has none.
    """

    label: str
    step: list[int]
    loss: list[float]
    grad_norm: list[float]
    x: list[list[float]]

    @property
    def last_step(self) -> int:
        return self.step[-1]


def as_runs(runs: Any) -> list[Run]:
    """``runs`` (a run, a sequence of runs, or a mapping label -> run) as :class:`Run` s.

    A run is a ``Result`` or a mapping with a ``history`` (``Result.to_dict()``,
    a saved JSON's entry). Labels default to the optimizer's name (``optimizer``,
    or ``settings.optimizer``, else ``run 1``, ``run 2``, ...); repeated labels
    are numbered. An empty or malformed history is an :class:`InputError`.
    """
    if isinstance(runs, Mapping) and not _is_run(runs):
        items: list[tuple[str | None, Any]] = [(str(k), v) for k, v in runs.items()]
    elif _is_run(runs):
        items = [(None, runs)]
    elif isinstance(runs, Sequence) and not isinstance(runs, (str, bytes)):
        items = [(None, r) for r in runs]
    else:
        raise InputError(f"plot: expected a run (a Result or its dict) or runs, got {runs!r}"[:200])
    if not items:
        raise InputError("plot: no runs to draw")
    out: list[Run] = []
    seen: dict[str, int] = {}
    for i, (label, run) in enumerate(items):
        if not _is_run(run):
            raise InputError(
                f"plot: run {label or i + 1} has no history (give a Result or Result.to_dict())"
            )
        name = label or (run.label if isinstance(run, Run) else _run_name(run)) or f"run {i + 1}"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        if isinstance(run, Run):
            out.append(Run(name, run.step, run.loss, run.grad_norm, run.x))
        else:
            out.append(_run_from(run, name))
    return out


def _is_run(obj: Any) -> bool:
    if isinstance(obj, Run):
        return True
    history = obj.get("history") if isinstance(obj, Mapping) else getattr(obj, "history", None)
    return isinstance(history, Mapping)


def _run_name(run: Any) -> str | None:
    if isinstance(run, Mapping):
        name = run.get("optimizer")
        if name is None and isinstance(run.get("settings"), Mapping):
            name = run["settings"].get("optimizer")
    else:
        name = getattr(run, "optimizer", None)
    return None if name is None else str(name)


def _run_from(run: Any, label: str) -> Run:
    history = run["history"] if isinstance(run, Mapping) else run.history
    try:
        steps = [int(s) for s in history["step"]]
        loss = [_float(v) for v in history["loss"]]
        grad = [_float(v) for v in history.get("grad_norm", [math.nan] * len(steps))]
        xs_raw = history.get("x") or []
        xs = [[_float(c) for c in (v if isinstance(v, Sequence) else [v])] for v in xs_raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"plot: run {label!r} has a malformed history ({exc})") from None
    if not steps:
        raise InputError(f"plot: run {label!r} has an empty history")
    if len(loss) != len(steps) or len(grad) != len(steps) or (xs and len(xs) != len(steps)):
        raise InputError(f"plot: run {label!r}: history lists of different lengths")
    return Run(label, steps, loss, grad, xs)


def _float(v: Any) -> float:
    # A saved JSON stores non-finite numbers as null.
    return math.nan if v is None else float(v)


@dataclass(frozen=True)
class _Ref:
    x: list[float] | None
    loss: float | None
    method: str


def _reference(problem: Any, reference: Any) -> _Ref | None:
    """The reference to mark: ``reference`` as given, the problem's own when it is None
    (none when the problem cannot compute one), none when it is False."""
    if reference is False:
        return None
    if reference is None:
        if problem is None:
            return None
        try:
            reference = problem.reference()
        except (GeogradError, NotImplementedError, ImportError):
            return None
    if isinstance(reference, Mapping):
        x = reference.get("x", reference.get("solution"))
        loss = reference.get("loss")
        method = reference.get("method") or "reference"
    else:
        x = getattr(reference, "x", None)
        loss = getattr(reference, "loss", None)
        method = getattr(reference, "method", None) or "reference"
    if x is not None and not isinstance(x, Sequence):
        x = [x]
    return _Ref(
        None if x is None else [float(v) for v in x],
        None if loss is None else float(loss),
        str(method),
    )


# ----------------------------------------------------------------------- matplotlib


def _use_agg_without_display() -> None:
    """Select Agg when nothing can show a window (no DISPLAY/WAYLAND_DISPLAY, not macOS
    or Windows), unless pyplot already runs with a backend chosen by the user."""
    import matplotlib

    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if (
        headless
        and sys.platform not in ("darwin", "win32")
        and "matplotlib.pyplot" not in (sys.modules)
    ):
        matplotlib.use("Agg")


def _figure(width: float, height: float) -> Any:
    """A pyplot-free Figure on an Agg canvas."""
    _use_agg_without_display()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(i: int) -> dict[str, Any]:
    return {
        "color": COLORS[i % len(COLORS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }


def _markevery(n: int, count: int = 8) -> int:
    return max(1, n // count)


def _clip(values: Sequence[float], floor: float = FLOOR) -> list[float]:
    return [v if not math.isfinite(v) else max(v, floor) for v in values]


def _gap_base(runs: Sequence[Run], reference_loss: float | None) -> tuple[float, str]:
    if reference_loss is not None and math.isfinite(reference_loss):
        return reference_loss, GAP_LABEL
    finite = [v for r in runs for v in r.loss if math.isfinite(v)]
    return (min(finite) if finite else 0.0), GAP_LABEL_BEST


def _problem_title(problem: Any) -> str:
    name = getattr(problem, "name", "") or type(problem).__name__
    n = getattr(problem, "n", 0)
    dim = getattr(problem, "dim", None)  # the number of parameters
    data_dim = getattr(problem, "data_dim", None)  # the dimension of the data's points
    parts = [f"n = {n}" + (f" in R^{data_dim}" if data_dim else "")] if n else []
    if dim is not None and dim != data_dim:
        parts.append(f"{dim} parameter{'s' if dim != 1 else ''}")
    return f"{name} ({', '.join(parts)})" if parts else str(name)


# ----------------------------------------------------------------------- convergence


def _log_steps(runs: Sequence[Run], log_steps: bool | None) -> bool:
    """Whether the step axis is logarithmic: as asked, else when the runs' lengths differ
    twentyfold or more (a 15-step line search beside a 2000-step Adam)."""
    if log_steps is not None:
        return bool(log_steps)
    lengths = [max(1, r.last_step) for r in runs]
    return max(lengths) >= 100 and max(lengths) >= 20 * min(lengths)


def _every(values: Sequence[Any], every: float) -> float | None:
    """``markevery`` for a line: a fraction of its length, or every point when fewer than
    two are finite (matplotlib cannot space markers along a line it does not draw)."""
    finite = sum(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
    return every if finite >= 2 else None


def _step_axis(ax: Any, log: bool) -> None:
    if log:
        # symlog: linear on [0, 1] so that step 0 (x0) stays on the axis, log beyond.
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
        ax.set_xlim(left=-0.3)  # a margin, so that step 0 markers are not cut in half


def _draw_convergence(
    ax_gap: Any,
    ax_grad: Any | None,
    runs: Sequence[Run],
    reference_loss: float | None,
    log_steps: bool | None = None,
) -> None:
    base, gap_label = _gap_base(runs, reference_loss)
    clipped = False
    for i, run in enumerate(runs):
        st = _style(i)
        # A float markevery spaces markers evenly along the drawn line, on any scale.
        every = 0.1
        gaps = [v - base for v in run.loss]
        clipped = clipped or any(math.isfinite(g) and g <= FLOOR for g in gaps)
        ax_gap.plot(
            run.step, _clip(gaps), label=run.label, markevery=_every(gaps, every), ms=5,
            lw=1.6, **st,
        )  # fmt: skip
        if ax_grad is not None:
            ax_grad.plot(
                run.step, _clip(run.grad_norm), label=run.label,
                markevery=_every(run.grad_norm, every), ms=5, lw=1.6, **st,
            )  # fmt: skip
    log = _log_steps(runs, log_steps)
    step_label = STEP_LABEL + ("  (log scale)" if log else "")
    for ax in (ax_gap, ax_grad):
        if ax is not None:
            _step_axis(ax, log)
    ax_gap.set_yscale("log")
    ax_gap.set_ylabel(gap_label)
    ax_gap.grid(True, which="major", alpha=0.35)
    if clipped:
        ax_gap.axhline(FLOOR, color="0.5", lw=0.8, ls=":", zorder=0)
        ax_gap.annotate(
            f"gaps ≤ {FLOOR:.0e} drawn here (rounding level)", (0.01, FLOOR),
            xycoords=("axes fraction", "data"), xytext=(0, 3), textcoords="offset points",
            fontsize=7, color="0.35", va="bottom",
        )  # fmt: skip
    if ax_grad is not None:
        # A run interrupted before its first gradient has none to draw: a log axis needs
        # at least one positive value (matplotlib refuses otherwise).
        if any(isinstance(g, (int, float)) and g > 0 for run in runs for g in run.grad_norm):
            ax_grad.set_yscale("log")
        ax_grad.set_ylabel(GRAD_LABEL)
        ax_grad.set_xlabel(step_label)
        ax_grad.grid(True, which="major", alpha=0.35)
    else:
        ax_gap.set_xlabel(step_label)


def convergence_figure(
    runs: Any,
    reference_loss: float | None = None,
    *,
    title: str | None = None,
    log_steps: bool | None = None,
) -> Any:
    """The objective gap and the gradient norm against the step, one labelled line per run.

    Top: L(x_k) − L* on a log scale, with L* = ``reference_loss`` (or, when it is
    None, the lowest loss any run reached, and the axis says so); gaps at or
    below :data:`FLOOR` (zero included) are drawn at the floor. Bottom: ‖∇L(x_k)‖
    on a log scale. The step axis is logarithmic when ``log_steps`` is True, or
    by default when the runs' lengths differ twentyfold or more. Returns the Figure.
    """
    rs = as_runs(runs)
    fig = _figure(7.5, 6.2)
    ax_gap, ax_grad = fig.subplots(2, 1, sharex=True)
    _draw_convergence(ax_gap, ax_grad, rs, reference_loss, log_steps)
    ax_gap.legend(title="optimizer", fontsize=9, title_fontsize=9)
    fig.suptitle(title or "Convergence", fontsize=13)
    return fig


# ------------------------------------------------------------------------ trajectory


def _paths(problem: Any, runs: Sequence[Run]) -> list[list[tuple[float, float]]]:
    return [[xy for xy in (problem.plot_xy(x) for x in run.x) if xy is not None] for run in runs]


def _has_scene(problem: Any, runs: Sequence[Run]) -> bool:
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


def _draw_estimates(
    ax: Any, problem: Any, runs: Sequence[Run], points: Sequence[Sequence[float] | None]
) -> list[Any]:
    """Each run's picture of its estimate ``points[i]`` (``problem.draw_estimate``) in the
    run's colour, line style and marker; unlabelled, as the run's path line names it."""
    artists: list[Any] = []
    for i, (_, x) in enumerate(zip(runs, points)):
        if x is None:
            continue
        st = _style(i)
        drawn = problem.draw_estimate(
            ax, x, color=st["color"], label=None, linestyle=st["linestyle"],
            marker=st["marker"], alpha=0.95,
        )  # fmt: skip
        artists += list(drawn or [])
    return artists


def _draw_reference_estimate(ax: Any, problem: Any, ref: _Ref | None, label: bool) -> list[Any]:
    """The reference's picture (black, dotted); labelled when no star marks the reference."""
    if ref is None or ref.x is None:
        return []
    drawn = problem.draw_estimate(
        ax, ref.x, color="black", label=f"reference ({ref.method})" if label else None,
        linestyle=":", marker="*", alpha=0.9,
    )  # fmt: skip
    return list(drawn or [])


def _artist_extent(ax: Any, artists: Sequence[Any]) -> list[tuple[float, float]]:
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


def _widen(
    bounds: tuple[float, float, float, float], points: Sequence[tuple[float, float]]
) -> tuple[float, float, float, float]:
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


def _draw_scene(
    ax: Any,
    problem: Any,
    runs: Sequence[Run],
    ref: _Ref | None,
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
    estimates = _draw_estimates(ax, problem, runs, finals)
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
    all_paths: list[list[tuple[float, float]]],
    ref: _Ref | None,
    ref_xy: tuple[float, float] | None,
    bounds: tuple[float, float, float, float],
    *,
    resolution: int,
    paths: bool,
    labels: bool,
) -> dict[str, Any]:
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
                contour = _contours(ax, xs, ys, z, None if ref is None else ref.loss, labels)
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
        st = _style(i)
        px = [p[0] for p in path] if paths else []
        py = [p[1] for p in path] if paths else []
        (line,) = ax.plot(
            px, py, color=st["color"], ls=st["linestyle"], lw=1.4, marker=st["marker"],
            ms=3.5, markevery=_markevery(len(path), 12), alpha=0.9,
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


def _artist_points(artists: Sequence[Any]) -> list[tuple[float, float]]:
    """The 2-D positions an artist list shows (scatter offsets, line vertices), to find
    an empty corner for the inset."""
    out: list[tuple[float, float]] = []
    for a in artists:
        try:
            pts = a.get_offsets() if hasattr(a, "get_offsets") else a.get_xydata()
            out += [(float(p[0]), float(p[1])) for p in pts]
        except (AttributeError, TypeError, ValueError, IndexError):
            continue
    return out


# The smallest marker area (points²) of a scatter's key in a legend.
LEGEND_DOT = 16.0
# The paths get a zoomed inset when they fit in a square this fraction of the view.
ZOOM_BELOW = 0.3
INSET_SIZE = 0.42


def _zoom_window(
    paths: list[list[tuple[float, float]]],
    ref_xy: tuple[float, float] | None,
    bounds: tuple[float, float, float, float],
) -> tuple[float, float, float, float] | None:
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


def _inset_rect(
    zoom: tuple[float, float, float, float],
    bounds: tuple[float, float, float, float],
    points: list[tuple[float, float]],
) -> list[float]:
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
    _check_resolution(resolution)
    if not _has_scene(problem, rs):
        raise InputError(
            f"plot: {getattr(problem, 'name', 'this problem')} has no 2-D picture of its "
            "iterates; draw the convergence figure instead"
        )
    ref = _reference(problem, reference)
    fig = _figure(6.6, 7.0)
    ax = fig.add_subplot()
    handles = _draw_scene(ax, problem, rs, ref, resolution=resolution)
    _scene_decorations(fig, ax, handles["contour"] is not None, 3, handles["has_paths"])
    fig.suptitle(title or f"{_problem_title(problem)}: path of the iterates", fontsize=13)
    return fig


def _legend_below(fig: Any, ax: Any, columns: int) -> None:
    """``ax``'s legend under the whole figure, where it hides nothing (constrained layout
    makes room for it)."""
    handles, labels = ax.get_legend_handles_labels()
    legend = fig.legend(
        handles, labels, loc="outside lower center", ncol=max(1, min(columns, len(labels))),
        fontsize=8, frameon=False, handlelength=3.0, markerscale=0.7,
    )  # fmt: skip
    # Data of many points is drawn with tiny dots; their legend key would be invisible.
    for handle in getattr(legend, "legend_handles", []):
        sizes = handle.get_sizes() if hasattr(handle, "get_sizes") else []
        if len(sizes) and max(sizes) < LEGEND_DOT:
            handle.set_sizes([LEGEND_DOT])


def _scene_decorations(
    fig: Any, ax: Any, contours: bool, columns: int = 4, paths: bool = True
) -> None:
    _legend_below(fig, ax, columns)
    what = "iterates x_k" if paths else "estimates"
    ax.set_title(what + (", on contours of L" if contours else ""), fontsize=10)


def result_figure(
    problem: Any,
    runs: Any,
    reference: Any = None,
    *,
    title: str | None = None,
    resolution: int = 120,
    log_steps: bool | None = None,
) -> Any:
    """What ``--plot FILE`` saves: the trajectory beside the convergence panels.

    For a problem without a 2-D picture (``problem.plot_xy`` gives None, or
    ``problem`` is None) only the convergence panels are drawn. ``reference`` as
    in :func:`trajectory_figure`; its loss is L* of the gap. ``log_steps`` as in
    :func:`convergence_figure`.
    """
    rs = as_runs(runs)
    _check_resolution(resolution)
    ref = _reference(problem, reference)
    ref_loss = None if ref is None else ref.loss
    head = title or (f"{_problem_title(problem)}" if problem is not None else "Convergence")
    if not _has_scene(problem, rs):
        return convergence_figure(rs, ref_loss, title=head, log_steps=log_steps)
    fig = _figure(13.0, 6.0)
    grid = fig.add_gridspec(2, 2, width_ratios=(1.15, 1.0))
    ax_scene = fig.add_subplot(grid[:, 0])
    ax_gap = fig.add_subplot(grid[0, 1])
    ax_grad = fig.add_subplot(grid[1, 1], sharex=ax_gap)
    handles = _draw_scene(ax_scene, problem, rs, ref, resolution=resolution)
    _scene_decorations(fig, ax_scene, handles["contour"] is not None, 4, handles["has_paths"])
    # The scene's legend names the runs, with the same colours, line styles and markers.
    _draw_convergence(ax_gap, ax_grad, rs, ref_loss, log_steps)
    ax_gap.tick_params(labelbottom=False)
    ax_gap.set_title("convergence", fontsize=10)
    fig.suptitle(head, fontsize=13)
    return fig


def _check_resolution(resolution: int) -> None:
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise InputError(f"plot: resolution must be an integer >= 2, got {resolution!r}")


# ------------------------------------------------------------------------- h sweep


def h_sweep_figure(
    sweep: Sequence[tuple[float, float]] | Mapping[str, Sequence[tuple[float, float]]],
    autograd_error: float | None = None,
    *,
    title: str | None = None,
) -> Any:
    """Central finite-difference error against the step h, on log-log axes.

    ``sweep`` is ``[(h, max abs error), ...]`` as :func:`geograd.check.finite_difference_sweep`
    returns, or a mapping label -> such rows (one line per point). The error
    falls as h² while truncation dominates and rises as ε/h once rounding does:
    the V. ``autograd_error`` (the autograd gradient's max abs error against
    the closed form) is drawn as a horizontal line; an error of 0 is drawn at
    :data:`FLOOR` and says so. Guide lines of slope 2 and −1 show the two regimes.
    """
    curves: list[tuple[str, list[tuple[float, float]]]]
    if isinstance(sweep, Mapping):
        curves = [(str(k), [(float(h), float(e)) for h, e in v]) for k, v in sweep.items()]
    else:
        curves = [("central differences", [(float(h), float(e)) for h, e in sweep])]
    curves = [(k, sorted(v)) for k, v in curves if v]
    if not curves:
        raise InputError("plot: the h sweep has no rows")
    for _, rows in curves:
        if any(not (h > 0 and math.isfinite(h)) for h, _ in rows):
            raise InputError("plot: every step h of the sweep must be a positive number")
    fig = _figure(7.5, 5.2)
    ax = fig.add_subplot()
    floor_used = False
    for i, (label, rows) in enumerate(curves):
        st = _style(i)
        hs = [h for h, _ in rows]
        errs = [e for _, e in rows]
        floor_used = floor_used or any(e <= FLOOR for e in errs)
        ax.plot(hs, _clip(errs), label=label, ms=6, lw=1.6, **st)
    hs_all = sorted({h for _, rows in curves for h, _ in rows})
    h_lo, h_hi = hs_all[0], hs_all[-1]
    # Guides through the first curve's ends, each over its own side of the V (and a
    # decade beyond the best h): truncation ∝ h² for large h, rounding ∝ 1/h for small h.
    rows0 = curves[0][1]
    (h_a, e_a), (h_b, e_b) = rows0[0], rows0[-1]
    best_h, best_e = min(rows0, key=lambda r: r[1])
    if len(rows0) >= 3 and e_a > 0 and e_b > 0:

        def span(lo: float, hi: float) -> list[float]:
            return [lo * (hi / lo) ** (k / 40) for k in range(41)]

        right = span(max(h_lo, best_h / 10), h_hi)
        left = span(h_lo, min(h_hi, best_h * 10))
        ax.plot(
            right, [e_b * (h / h_b) ** 2 for h in right], color="0.4", lw=1.0,
            ls=(0, (4, 3)), label="∝ h²  (truncation error)",
        )  # fmt: skip
        ax.plot(
            left, [e_a * (h_a / h) for h in left], color="0.4", lw=1.0, ls=(0, (1, 2)),
            label="∝ 1/h  (rounding error)",
        )  # fmt: skip
    if autograd_error is not None and math.isfinite(autograd_error):
        shown = max(autograd_error, FLOOR)
        text = (
            f"autograd vs closed form: {autograd_error:.1e}"
            if autograd_error > FLOOR
            else f"autograd vs closed form: {autograd_error:.1g} (drawn at {FLOOR:.0e})"
        )
        # Black and thick: no curve has that colour (or that weight, in grey).
        ax.axhline(shown, color="black", lw=2.4, ls="-", label=text, zorder=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ys = [max(e, FLOOR) for _, rows in curves for _, e in rows]
    if autograd_error is not None and math.isfinite(autograd_error):
        ys.append(max(autograd_error, FLOOR))
    ax.set_ylim(min(ys) / 10, max(ys) * 10)
    ax.set_xlabel("finite-difference step h")
    ax.set_ylabel("max abs error of the gradient  (vs closed form)")
    ax.grid(True, which="major", alpha=0.35)
    ax.annotate(
        f"best h = {best_h:.0e}", (best_h, max(best_e, FLOOR)), xytext=(0, -26),
        textcoords="offset points", ha="center", va="top", fontsize=8, color="0.2",
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        arrowprops={"arrowstyle": "-", "color": "0.4", "lw": 0.8},
    )  # fmt: skip
    if floor_used:
        ax.text(
            0.99, 0.01, f"errors ≤ {FLOOR:.0e} drawn at {FLOOR:.0e}", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=7, color="0.35",
        )  # fmt: skip
    ax.legend(fontsize=8, loc="upper center")
    fig.suptitle(title or "Finite-difference error against the step h", fontsize=13)
    return fig


# ---------------------------------------------------------------------------- files


def _suffix(path: Path, allowed: Sequence[str], what: str) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in allowed:
        names = ", ".join("." + s for s in allowed)
        got = f"{path.suffix!r}" if path.suffix else "no suffix"
        raise InputError(f"cannot save {what} to {path}: {got} is not one of {names}")
    return suffix


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Save ``fig`` as PNG, SVG or PDF by the suffix of ``path``, atomically; returns the path.

    Any other suffix is an :class:`InputError` naming the ones allowed.
    """
    target = Path(path)
    fmt = _suffix(target, FIGURE_FORMATS, "a figure")
    with atomic_path(target, what="cannot write") as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, facecolor="white")
    return target


# ------------------------------------------------------------------------ animation


def frame_steps(steps: Sequence[int], frames: int = DEFAULT_FRAMES) -> list[int]:
    """The steps an animation shows: all of ``steps`` when there are at most ``frames``,
    else exactly ``frames`` of them, the first and last included.

    Half the frames are spaced evenly in the step and half evenly in log(step), so
    that the fast early moves get frames and the slow finish still advances steadily.
    """
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
        raise InputError(f"animate: frames must be an integer >= 2, got {frames!r}")
    uniq = sorted(set(int(s) for s in steps))
    m = len(uniq)
    if m <= frames:
        return uniq
    first, last = uniq[0], uniq[-1]
    targets: set[float] = set()
    half = frames // 2
    for k in range(half):
        t = k / max(1, half - 1)
        targets.add(first + t * (last - first))
        targets.add(first - 1 + (last - first + 1) ** t)
    chosen = {0, m - 1}
    for t in sorted(targets):
        chosen.add(min(m - 1, bisect.bisect_left(uniq, t)))
        if len(chosen) >= frames:
            break
    # Fill up to exactly `frames` with the indices farthest from those chosen.
    if len(chosen) < frames:
        rest = sorted(set(range(m)) - chosen)
        need = frames - len(chosen)
        stride = len(rest) / need
        chosen.update(rest[int((j + 0.5) * stride)] for j in range(need))
    return [uniq[i] for i in sorted(chosen)]


def ffmpeg_path() -> str | None:
    """The ffmpeg executable MP4s are written with, or None.

    matplotlib's ``animation.ffmpeg_path`` setting (``ffmpeg`` on the PATH by
    default), else the binary shipped by the ``imageio-ffmpeg`` package when it
    is installed.
    """
    import matplotlib

    found = shutil.which(str(matplotlib.rcParams["animation.ffmpeg_path"]))
    if found:
        return found
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    try:
        exe = str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:
        return None
    return exe if os.path.isfile(exe) else None


def frame_seconds(count: int, fps: float, min_seconds: float = MIN_SECONDS) -> float:
    """How long each of ``count`` animation frames is shown: ``1 / fps``, or longer when the
    frames would otherwise play in less than ``min_seconds`` (then ``min_seconds / count``)."""
    return max(1.0 / fps, min_seconds / max(1, count))


def _frame_ends(count: int, seconds: float, ticks_per_second: float) -> list[int]:
    """When each of ``count`` frames shown ``seconds`` each ends, in whole ticks from the
    start (rounded as a running total, so that the rounding never adds up)."""
    return [math.floor(ticks_per_second * seconds * (k + 1) + 0.5) for k in range(count)]


class _GifSink:
    """Frames quantised to one palette (made from the final frame, which holds every
    colour the animation uses) and written by Pillow: a shared palette keeps unchanged
    pixels identical between frames, so that Pillow stores only what changed.

    Each frame is shown :func:`frame_seconds` (in the GIF's hundredths of a second, at
    least two: browsers slow down shorter frames), the last one ``hold`` seconds longer."""

    def __init__(self, path: Path, fps: float, hold: float, min_seconds: float) -> None:
        self.path, self.fps, self.hold, self.min_seconds = path, fps, hold, min_seconds
        self.frames: list[Any] = []
        self.palette: Any = None

    def set_palette(self, frame: Any) -> None:
        from PIL import Image

        self.palette = frame.quantize(colors=256, method=Image.Quantize.MEDIANCUT)

    def add(self, frame: Any) -> None:
        from PIL import Image

        self.frames.append(frame.quantize(palette=self.palette, dither=Image.Dither.NONE))

    def finish(self) -> None:
        seconds = frame_seconds(len(self.frames), self.fps, self.min_seconds)
        ends = _frame_ends(len(self.frames), seconds, 100.0)  # GIFs count in 1/100 s
        durations = [10 * max(2, end - start) for start, end in zip([0, *ends], ends)]
        durations[-1] += 10 * math.floor(100.0 * self.hold + 0.5)
        self.frames[0].save(
            self.path, format="GIF", save_all=True, append_images=self.frames[1:],
            duration=durations, loop=0,
        )  # fmt: skip

    def abort(self) -> None:
        self.frames.clear()


class _Mp4Sink:
    """Raw RGB frames piped to ffmpeg: H.264 in yuv420p (what every player plays),
    or MPEG-4 part 2 when this ffmpeg has no H.264 encoder.

    The video runs at ``fps``; each of the ``count`` frames is repeated for as many video
    frames as :func:`frame_seconds` asks (once when the run is long enough), and the last
    one for ``hold`` seconds more."""

    def __init__(
        self,
        path: Path,
        fps: float,
        exe: str,
        size: tuple[int, int],
        *,
        count: int,
        hold: float,
        min_seconds: float,
    ) -> None:
        import subprocess

        self.copies: list[int] = []  # how many video frames show each frame
        written = 0
        for end in _frame_ends(count, frame_seconds(count, fps, min_seconds), fps):
            self.copies.append(max(1, end - written))
            written += self.copies[-1]
        self.hold_copies = math.floor(fps * hold + 0.5)
        self.added = 0
        self.last: bytes = b""
        w, h = size
        codec = ["-vcodec", "libx264", "-crf", "23"] if _has_x264(exe) else ["-vcodec", "mpeg4"]
        cmd = [
            exe, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", f"{fps:g}",
            "-i", "pipe:0", "-an", *codec, "-pix_fmt", "yuv420p", "-movflags", "+faststart",
            "-f", "mp4", str(path),
        ]  # fmt: skip
        # ffmpeg's messages go to a file, not a pipe, which could fill up and stall it;
        # closed in finish() or abort().
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.log
            )
        except OSError as exc:
            self.log.close()
            raise GeogradError(f"cannot run ffmpeg ({exe}): {exc}") from None

    def set_palette(self, frame: Any) -> None:
        pass

    def add(self, frame: Any) -> None:
        k = min(self.added, len(self.copies) - 1)
        self.added += 1
        self.last = frame.tobytes()
        self._write(self.last, self.copies[k])

    def _write(self, data: bytes, times: int) -> None:
        assert self.proc.stdin is not None
        try:
            for _ in range(times):
                self.proc.stdin.write(data)
        except BrokenPipeError:
            self.proc.wait()
            raise GeogradError(f"ffmpeg stopped while writing the MP4: {self._error()}") from None

    def finish(self) -> None:
        assert self.proc.stdin is not None
        if self.last:
            self._write(self.last, self.hold_copies)
        self.proc.stdin.close()
        code = self.proc.wait()
        error = self._error()
        self.log.close()
        if code != 0:
            raise GeogradError(f"ffmpeg failed writing the MP4 (exit code {code}): {error}")

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()

    def _error(self) -> str:
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no message"


_X264: dict[str, bool] = {}


def _has_x264(exe: str) -> bool:
    """Whether this ffmpeg has the libx264 encoder (asked once per executable)."""
    if exe not in _X264:
        import subprocess

        try:
            out = subprocess.run(
                [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        _X264[exe] = "libx264" in out
    return _X264[exe]


def animate(
    problem: Any,
    runs: Any,
    path: str | os.PathLike[str],
    *,
    fps: float = DEFAULT_FPS,
    frames: int = DEFAULT_FRAMES,
    reference: Any = None,
    title: str | None = None,
    progress: Progress | None = None,
    dpi: int = 100,
    resolution: int = 100,
    hold: float = HOLD_SECONDS,
    log_steps: bool | None = None,
    min_seconds: float = MIN_SECONDS,
) -> Path:
    """Animate ``runs`` step by step and save to ``path`` (``.gif`` or ``.mp4``); returns it.

    The scene (as :func:`trajectory_figure`: data, contours, reference, a zoomed
    inset when the paths are small) with each run's path growing and its current
    iterate marked, beside the objective gap growing on a log scale; for a
    problem without a 2-D picture (or ``problem`` None), the gap and the gradient
    norm panels alone. Several runs race, each with its own colour, line style and
    marker, named in the legend.

    At most ``frames`` frames (default 200, at ``fps`` per second), at the steps
    :func:`frame_steps` picks from the recorded ones. A short run is slowed down so that
    it plays for at least ``min_seconds`` (default :data:`MIN_SECONDS`, 3 s): with fewer
    than ``fps * min_seconds`` frames each is shown ``min_seconds / frames`` seconds (see
    :func:`frame_seconds`). The last frame, the final state, is then held for ``hold``
    seconds (default :data:`HOLD_SECONDS`, 1.5 s) before a GIF loops or an MP4 ends; so an
    animation lasts at least ``min_seconds + hold``. ``progress(done, total)`` is called
    after each frame. GIFs are written by Pillow; MP4s by ffmpeg (see
    :func:`ffmpeg_path`), and when there is none the error says to use ``.gif``.
    Written atomically: nothing is left at ``path`` if anything fails.
    """
    target = Path(path)
    kind = _suffix(target, ANIMATION_FORMATS, "an animation")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 100:
        raise InputError(f"animate: fps must be a number in (0, 100], got {fps!r}")
    if not (isinstance(hold, (int, float)) and 0 <= hold <= 60):
        raise InputError(f"animate: hold must be between 0 and 60 seconds, got {hold!r}")
    if not (isinstance(min_seconds, (int, float)) and 0 <= min_seconds <= 600):
        raise InputError(
            f"animate: min_seconds must be between 0 and 600 seconds, got {min_seconds!r}"
        )
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 20 <= dpi <= 600:
        raise InputError(f"animate: dpi must be an integer in [20, 600], got {dpi!r}")
    _check_resolution(resolution)
    rs = as_runs(runs)
    shown = frame_steps([s for r in rs for s in r.step], frames)
    exe = None
    if kind == "mp4":
        exe = ffmpeg_path()
        if exe is None:
            raise InputError(
                f"cannot write {target}: MP4 needs ffmpeg, which was not found (install "
                "ffmpeg or the imageio-ffmpeg package); save the animation as .gif instead"
            )
    ref = _reference(problem, reference)
    scene = _AnimationScene(problem, rs, ref, title, dpi, resolution, log_steps)
    total = len(shown)
    with atomic_path(target, what="cannot write") as tmp:
        sink: _GifSink | _Mp4Sink
        if exe is None:
            sink = _GifSink(tmp, float(fps), float(hold), float(min_seconds))
        else:
            sink = _Mp4Sink(
                tmp, float(fps), exe, scene.size,
                count=total, hold=float(hold), min_seconds=float(min_seconds),
            )  # fmt: skip
        try:
            sink.set_palette(scene.render(shown[-1]))
            for done, step in enumerate(shown, 1):
                sink.add(scene.render(step))
                if progress is not None:
                    progress(done, total)
            sink.finish()
        except BaseException:
            sink.abort()
            raise
    return target


def animation_frame(
    problem: Any,
    runs: Any,
    step: int | None = None,
    *,
    reference: Any = None,
    title: str | None = None,
    dpi: int = 100,
    resolution: int = 100,
    log_steps: bool | None = None,
) -> Any:
    """One frame of :func:`animate` as a Figure: every run up to ``step`` (default: the
    end). A still of the race, e.g. for a poster frame or to check the layout."""
    rs = as_runs(runs)
    _check_resolution(resolution)
    scene = _AnimationScene(
        problem, rs, _reference(problem, reference), title, dpi, resolution, log_steps,
        blit=False,
    )  # fmt: skip
    scene.update(scene.last if step is None else int(step))
    return scene.fig


class _AnimationScene:
    """The figure of an animation and :meth:`render`, which draws it at a given step.

    The still parts (data, contours, axes, legends) are drawn once; each frame
    restores that background and draws only the moving artists on it (blitting).
    """

    def __init__(
        self,
        problem: Any,
        runs: list[Run],
        ref: _Ref | None,
        title: str | None,
        dpi: int,
        resolution: int,
        log_steps: bool | None,
        blit: bool = True,
    ) -> None:
        self.runs = runs
        self.last = max(r.last_step for r in runs)
        self.has_scene = _has_scene(problem, runs)
        width, height = (12.0, 5.4) if self.has_scene else (11.0, 4.6)
        # Even pixel sizes: H.264 in yuv420p needs them.
        w_px, h_px = 2 * math.ceil(width * dpi / 2), 2 * math.ceil(height * dpi / 2)
        fig = _figure(w_px / dpi, h_px / dpi)
        fig.set_dpi(dpi)
        self.fig = fig
        ref_loss = None if ref is None else ref.loss
        self.base, gap_label = _gap_base(runs, ref_loss)
        self.log = _log_steps(runs, log_steps)
        # For each run, its (path line, head marker, path) in the scene and the inset.
        self.paths: list[list[tuple[Any, Any, list[tuple[float, float]]]]] = [[] for _ in runs]
        self.grad_lines: list[tuple[Any, Any]] = []
        # Each run's picture of its current estimate (problem.draw_estimate), redrawn
        # on every frame: the artists of the frame shown last.
        self.problem = problem
        self.ax_scene: Any = None
        self.estimates: list[Any] = []
        self.blit = blit
        if self.has_scene:
            grid = fig.add_gridspec(1, 2, width_ratios=(1.1, 1.0))
            ax_scene = fig.add_subplot(grid[0, 0])
            self.ax_scene = ax_scene
            ax_gap = fig.add_subplot(grid[0, 1])
            handles = _draw_scene(ax_scene, problem, runs, ref, resolution=resolution, paths=False)
            _scene_decorations(
                fig, ax_scene, handles["contour"] is not None, 4, handles["has_paths"]
            )
            for i, line, head, path in handles["lines"]:
                self.paths[i].append((line, head, path))
            ax_grad = None
        else:
            ax_gap, ax_grad = fig.subplots(1, 2)
        self.gap_lines: list[tuple[Any, Any]] = []
        for i, run in enumerate(runs):
            st = _style(i)
            (line,) = ax_gap.plot(
                [], [], color=st["color"], ls=st["linestyle"], lw=1.8, label=run.label
            )
            (dot,) = ax_gap.plot([], [], color=st["color"], marker=st["marker"], ms=7, mec="black")
            self.gap_lines.append((line, dot))
            if ax_grad is not None:
                (gline,) = ax_grad.plot(
                    [], [], color=st["color"], ls=st["linestyle"], lw=1.8, label=run.label
                )
                (gdot,) = ax_grad.plot(
                    [], [], color=st["color"], marker=st["marker"], ms=7, mec="black"
                )
                self.grad_lines.append((gline, gdot))
        gaps = [[v - self.base for v in r.loss] for r in runs]
        self._limits(ax_gap, gaps, gap_label)
        if any(math.isfinite(g) and g <= FLOOR for s in gaps for g in s):
            ax_gap.axhline(FLOOR, color="0.5", lw=0.8, ls=":", zorder=0)
        if not self.has_scene:
            # (With a scene, its legend names the runs.)
            _legend_below(fig, ax_gap, 6)
        if ax_grad is not None:
            self._limits(ax_grad, [r.grad_norm for r in runs], GRAD_LABEL)
            ax_grad.set_title("gradient norm", fontsize=10)
        width_digits = len(str(self.last))
        self.clock_format = f"objective gap · step {{:>{width_digits}d}} / {self.last}"
        self.clock = ax_gap.set_title(self.clock_format.format(self.last), fontsize=10)
        if title is None:
            what = "race" if len(runs) > 1 else runs[0].label
            title = f"{_problem_title(problem)}: {what}" if problem is not None else what
        fig.suptitle(title, fontsize=13)
        # Lay the figure out once, then freeze it: a layout engine re-run on every
        # frame would cost time and could make the panels jitter as the text changes.
        fig.canvas.draw()
        fig.set_layout_engine("none")
        self.moving: list[Any] = [self.clock]
        for pair in self.gap_lines + self.grad_lines:
            self.moving += pair
        for per_run in self.paths:
            for line, head, _ in per_run:
                self.moving += [line, head]
        self.size: tuple[int, int] = fig.canvas.get_width_height(physical=True)
        self.background = None
        if blit:
            for artist in self.moving:
                artist.set_animated(True)
            fig.canvas.draw()
            self.background = fig.canvas.copy_from_bbox(fig.bbox)

    def _limits(self, ax: Any, series: list[list[float]], label: str) -> None:
        vals = [max(v, FLOOR) for s in series for v in s if math.isfinite(v)]
        lo, hi = (min(vals), max(vals)) if vals else (FLOOR, 1.0)
        ax.set_yscale("log")
        ax.set_ylim(lo / 3, hi * 3)
        if self.log:
            _step_axis(ax, True)
            ax.set_xlim(-0.3, 1.3 * max(1, self.last))
        else:
            ax.set_xlim(-0.02 * max(1, self.last), 1.02 * max(1, self.last))
        ax.set_xlabel(STEP_LABEL + ("  (log scale)" if self.log else ""))
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.35)

    def update(self, step: int) -> None:
        """Set the moving artists to show every run up to ``step``."""
        for k, run in enumerate(self.runs):
            n = bisect.bisect_right(run.step, step)
            xs = run.step[:n]
            gaps = _clip([v - self.base for v in run.loss[:n]])
            line, dot = self.gap_lines[k]
            line.set_data(xs, gaps)
            dot.set_data(xs[-1:], gaps[-1:])
            if self.grad_lines:
                gline, gdot = self.grad_lines[k]
                grads = _clip(run.grad_norm[:n])
                gline.set_data(xs, grads)
                gdot.set_data(xs[-1:], grads[-1:])
            for pline, head, path in self.paths[k]:
                shown = path[:n]
                pline.set_data([p[0] for p in shown], [p[1] for p in shown])
                head.set_data([p[0] for p in shown[-1:]], [p[1] for p in shown[-1:]])
        self.clock.set_text(self.clock_format.format(step))
        if self.ax_scene is not None:
            self._redraw_estimates(step)

    def _redraw_estimates(self, step: int) -> None:
        for artist in self.estimates:
            artist.remove()
        current: list[Sequence[float] | None] = []
        for run in self.runs:
            n = bisect.bisect_right(run.step, step)
            current.append(run.x[n - 1] if n and len(run.x) >= n else None)
        self.estimates = _draw_estimates(self.ax_scene, self.problem, self.runs, current)
        for artist in self.estimates:
            # Drawn over the blitted background, never into it.
            artist.set_animated(self.blit)

    def render(self, step: int) -> Any:
        """The frame at ``step`` as an RGB PIL image."""
        from PIL import Image

        self.update(step)
        canvas = self.fig.canvas
        assert self.background is not None
        canvas.restore_region(self.background)
        for artist in sorted(self.estimates, key=lambda a: a.get_zorder()) + self.moving:
            self.fig.draw_artist(artist)
        w, h = self.size
        return Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert(
            "RGB"
        )


__all__ = [
    "ANIMATION_FORMATS",
    "DEFAULT_FPS",
    "DEFAULT_FRAMES",
    "FIGURE_FORMATS",
    "FLOOR",
    "HOLD_SECONDS",
    "MIN_SECONDS",
    "Run",
    "animate",
    "animation_frame",
    "as_runs",
    "convergence_figure",
    "ffmpeg_path",
    "frame_seconds",
    "frame_steps",
    "h_sweep_figure",
    "result_figure",
    "save_figure",
    "trajectory_figure",
]
