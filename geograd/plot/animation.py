"""Animations: the scene growing step by step beside the objective gap, several runs
racing (:func:`animate`; :func:`animation_frame` gives one frame as a Figure,
:func:`frame_steps` says which steps get frames). The frames are written to a file by
:mod:`geograd.plot.video`."""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from geograd.errors import InputError
from geograd.fileio import atomic_path
from geograd.plot.common import (
    FLOOR,
    GRAD_LABEL,
    check_resolution,
    check_suffix,
    clip_to_floor,
    draw_floor_line,
    is_integer,
    legend_below,
    light_grid,
    new_figure,
    problem_title,
    run_style,
    step_axis,
    step_label,
)
from geograd.plot.convergence import gap_base, use_log_steps
from geograd.plot.runs import MarkedReference, Run, as_runs, reference_loss, resolve_reference
from geograd.plot.scene import draw_estimates, draw_scene, has_scene, scene_decorations, split_xy
from geograd.plot.video import (
    ANIMATION_FORMATS,
    DEFAULT_FPS,
    HOLD_SECONDS,
    MIN_SECONDS,
    ffmpeg_path,
    open_writer,
)

#: The most frames an animation has by default (10 s at the default 20 per second).
DEFAULT_FRAMES = 200

#: ``progress(done, total)``, called after each frame.
Progress = Callable[[int, int], Any]


def frame_steps(steps: Sequence[int], frames: int = DEFAULT_FRAMES) -> list[int]:
    """The steps an animation shows: all of ``steps`` when there are at most ``frames``,
    else exactly ``frames`` of them, the first and last included.

    Half the frames are spaced evenly in the step and half evenly in log(step), so
    that the fast early moves get frames and the slow finish still advances steadily.
    """
    if not is_integer(frames) or frames < 2:
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


def _check_timing(fps: float, hold: float, min_seconds: float, dpi: int) -> None:
    """An :class:`InputError` for a rate, hold, minimum length or resolution out of range."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 100:
        raise InputError(f"animate: fps must be a number in (0, 100], got {fps!r}")
    if not (isinstance(hold, (int, float)) and 0 <= hold <= 60):
        raise InputError(f"animate: hold must be between 0 and 60 seconds, got {hold!r}")
    if not (isinstance(min_seconds, (int, float)) and 0 <= min_seconds <= 600):
        raise InputError(
            f"animate: min_seconds must be between 0 and 600 seconds, got {min_seconds!r}"
        )
    if not is_integer(dpi) or not 20 <= dpi <= 600:
        raise InputError(f"animate: dpi must be an integer in [20, 600], got {dpi!r}")


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
    kind = check_suffix(target, ANIMATION_FORMATS, "an animation")
    _check_timing(fps, hold, min_seconds, dpi)
    check_resolution(resolution)
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
    ref = resolve_reference(problem, reference)
    scene = _AnimationScene(problem, rs, ref, title, dpi, resolution, log_steps)
    total = len(shown)
    with atomic_path(target, what="cannot write") as tmp:
        writer = open_writer(
            tmp, exe, fps=float(fps), hold=float(hold), min_seconds=float(min_seconds),
            count=total, size=scene.size,
        )  # fmt: skip
        try:
            writer.set_palette(scene.render(shown[-1]))
            for done, step in enumerate(shown, 1):
                writer.add(scene.render(step))
                if progress is not None:
                    progress(done, total)
            writer.finish()
        except BaseException:
            writer.abort()
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
    check_resolution(resolution)
    scene = _AnimationScene(
        problem, rs, resolve_reference(problem, reference), title, dpi, resolution, log_steps,
        blit=False,
    )  # fmt: skip
    scene.update(scene.last if step is None else int(step))
    return scene.fig


def _moving_line(ax: Any, i: int, label: str) -> tuple[Any, Any]:
    """An empty line in the ``i``-th run's style and the dot that marks its head."""
    st = run_style(i)
    (line,) = ax.plot([], [], color=st["color"], ls=st["linestyle"], lw=1.8, label=label)
    (dot,) = ax.plot([], [], color=st["color"], marker=st["marker"], ms=7, mec="black")
    return line, dot


def _set_moving_line(pair: tuple[Any, Any], xs: list[Any], ys: list[Any]) -> None:
    """Show the line through (``xs``, ``ys``) and the dot at its last point."""
    line, dot = pair
    line.set_data(xs, ys)
    dot.set_data(xs[-1:], ys[-1:])


class _AnimationScene:
    """The figure of an animation and :meth:`render`, which draws it at a given step.

    The still parts (data, contours, axes, legends) are drawn once; each frame
    restores that background and draws only the moving artists on it (blitting).
    """

    def __init__(
        self,
        problem: Any,
        runs: list[Run],
        ref: MarkedReference | None,
        title: str | None,
        dpi: int,
        resolution: int,
        log_steps: bool | None,
        blit: bool = True,
    ) -> None:
        self.runs = runs
        self.last = max(r.last_step for r in runs)
        self.has_scene = has_scene(problem, runs)
        width, height = (12.0, 5.4) if self.has_scene else (11.0, 4.6)
        # Even pixel sizes: H.264 in yuv420p needs them.
        w_px, h_px = 2 * math.ceil(width * dpi / 2), 2 * math.ceil(height * dpi / 2)
        fig = new_figure(w_px / dpi, h_px / dpi)
        fig.set_dpi(dpi)
        self.fig = fig
        self.base, gap_label = gap_base(runs, reference_loss(ref))
        self.log = use_log_steps(runs, log_steps)
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
            handles = draw_scene(ax_scene, problem, runs, ref, resolution=resolution, paths=False)
            scene_decorations(fig, ax_scene, handles, 4)
            for i, line, head, path in handles["lines"]:
                self.paths[i].append((line, head, path))
            ax_grad = None
        else:
            ax_gap, ax_grad = fig.subplots(1, 2)
        self.gap_lines: list[tuple[Any, Any]] = []
        for i, run in enumerate(runs):
            self.gap_lines.append(_moving_line(ax_gap, i, run.label))
            if ax_grad is not None:
                self.grad_lines.append(_moving_line(ax_grad, i, run.label))
        gaps = [[v - self.base for v in r.loss] for r in runs]
        self._limits(ax_gap, gaps, gap_label)
        if any(math.isfinite(g) and g <= FLOOR for s in gaps for g in s):
            draw_floor_line(ax_gap)
        if not self.has_scene:
            # (With a scene, its legend names the runs.)
            legend_below(fig, ax_gap, 6)
        if ax_grad is not None:
            self._limits(ax_grad, [r.grad_norm for r in runs], GRAD_LABEL)
            ax_grad.set_title("gradient norm", fontsize=10)
        width_digits = len(str(self.last))
        self.clock_format = f"objective gap · step {{:>{width_digits}d}} / {self.last}"
        self.clock = ax_gap.set_title(self.clock_format.format(self.last), fontsize=10)
        if title is None:
            what = "race" if len(runs) > 1 else runs[0].label
            title = f"{problem_title(problem)}: {what}" if problem is not None else what
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
            step_axis(ax, True)
            ax.set_xlim(-0.3, 1.3 * max(1, self.last))
        else:
            ax.set_xlim(-0.02 * max(1, self.last), 1.02 * max(1, self.last))
        ax.set_xlabel(step_label(self.log))
        ax.set_ylabel(label)
        light_grid(ax)

    def update(self, step: int) -> None:
        """Set the moving artists to show every run up to ``step``."""
        for k, run in enumerate(self.runs):
            n = bisect.bisect_right(run.step, step)
            xs = run.step[:n]
            _set_moving_line(
                self.gap_lines[k], xs, clip_to_floor([v - self.base for v in run.loss[:n]])
            )
            if self.grad_lines:
                _set_moving_line(self.grad_lines[k], xs, clip_to_floor(run.grad_norm[:n]))
            for pline, head, path in self.paths[k]:
                _set_moving_line((pline, head), *split_xy(path[:n]))
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
        self.estimates = draw_estimates(self.ax_scene, self.problem, self.runs, current)
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
