"""Pictures from the CLI: ``--plot``, ``--animate``, ``--h-sweep`` and ``geograd plot``.

The flags are checked before any run (:func:`plot_request`): a wrong suffix, a
directory that does not exist or an ``.mp4`` without ffmpeg fails in one line
at once, not after a long solve. The drawing itself is :mod:`geograd.plot`'s;
this module only chooses what to draw and reports it. matplotlib is imported
only when a picture is actually asked for (an ``.mp4`` target's ffmpeg check
included), never by ``--help`` nor by a solve without these flags.

``geograd plot RESULT.json`` redraws a result saved with ``--out``: the problem
is rebuilt from the file's ``spec`` (:func:`geograd.problems.problem_from_dict`),
the runs come from its ``history`` (solve) or ``histories`` (compare), the
reference from its ``reference``, so the pictures are the ones the run would
have drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geograd.errors import GeogradError, InputError
from geograd.fileio import check_distinct, check_writable

from . import report
from .errors import Interrupted, one_line
from .options import DEFAULT_FPS, DEFAULT_FRAMES, MAX_FPS, SWEEP_POINTS
from .output import COMPARE_FORMAT, SOLVE_FORMAT, read_json
from .progress import FrameProgress, wanted
from .settings import check_count

#: What the flags accept (as :data:`geograd.plot.FIGURE_FORMATS` and
#: :data:`geograd.plot.ANIMATION_FORMATS`; a test keeps them equal, and importing
#: geograd.plot here would cost start-up time for nothing).
FIGURE_SUFFIXES = ("png", "svg", "pdf")
ANIMATION_SUFFIXES = ("gif", "mp4")

#: The h-sweep: half-decade steps from 1e-1 to 1e-13, at up to SWEEP_POINTS points.
SWEEP_STEPS = tuple(10.0 ** (-k / 2) for k in range(2, 27))

# ------------------------------------------------------------------------------ checking


def _suffix_names(allowed: tuple[str, ...]) -> str:
    names = ["." + s for s in allowed]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def check_figure_path(path: Path, flag: str) -> Path:
    """``path`` when a figure can be saved there (suffix, directory), else an InputError."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FIGURE_SUFFIXES:
        got = f"{path.suffix!r} is not a figure format" if path.suffix else "no suffix"
        raise InputError(f"{flag} {path}: {got}; use {_suffix_names(FIGURE_SUFFIXES)}")
    check_writable(path, flag)
    return path


def check_animation_path(path: Path, flag: str = "--animate") -> Path:
    """``path`` when an animation can be saved there, else an InputError: the suffix,
    the directory, and for ``.mp4`` an ffmpeg to write it with."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ANIMATION_SUFFIXES:
        got = f"{path.suffix!r} is not an animation format" if path.suffix else "no suffix"
        raise InputError(f"{flag} {path}: {got}; use {_suffix_names(ANIMATION_SUFFIXES)}")
    check_writable(path, flag)
    if suffix == "mp4":
        from geograd.plot import ffmpeg_path

        if ffmpeg_path() is None:
            raise InputError(
                f"{flag} {path}: MP4 needs ffmpeg, which was not found (install ffmpeg or "
                "the imageio-ffmpeg package); save the animation as .gif instead"
            )
    return path


@dataclass(frozen=True)
class PlotRequest:
    """What to draw after a run, checked: the figure, the animation and its settings."""

    plot: Path | None = None
    animate: Path | None = None
    fps: float = DEFAULT_FPS
    frames: int = DEFAULT_FRAMES

    @property
    def wanted(self) -> bool:
        return self.plot is not None or self.animate is not None


#: The longest a GIF frame can last (its delay is a 16-bit count of centiseconds), and so
#: the lowest frame rate a .gif can have (rounded up, so that the delay fits).
GIF_LONGEST_FRAME_S = 655.35
GIF_MIN_FPS = 0.0016


def plot_request(
    plot: Path | None, animate: Path | None, fps: str | None, frames: str | None
) -> PlotRequest:
    """The checked flags (see the module docstring); ``--fps``/``--frames`` need ``--animate``."""
    if animate is None:
        for flag, value in (("--fps", fps), ("--frames", frames)):
            if value is not None:
                raise InputError(f"{flag} sets up an animation; give --animate FILE.gif with it")
    if plot is not None:
        check_figure_path(plot, "--plot")
    if animate is not None:
        check_animation_path(animate)
    rate = DEFAULT_FPS
    if fps is not None:
        try:
            rate = float(fps)
        except ValueError:
            rate = math.nan
        if not 0 < rate <= MAX_FPS:
            raise InputError(f"--fps must be a number in (0, {MAX_FPS:g}], got {fps!r}")
        if animate is not None and animate.suffix.lower() == ".gif" and rate < GIF_MIN_FPS:
            raise InputError(
                f"--fps {fps}: a GIF frame lasts at most {GIF_LONGEST_FRAME_S:g} s (a 16-bit "
                f"count of 1/100 s), so a .gif needs --fps {GIF_MIN_FPS:.2g} or more; an .mp4 "
                "takes any rate"
            )
    count = DEFAULT_FRAMES
    if frames is not None:
        count = check_count("--frames", frames, minimum=2) or DEFAULT_FRAMES
    return PlotRequest(plot, animate, rate, count)


# ------------------------------------------------------------------------------- drawing


def render(
    request: PlotRequest, problem: Any, runs: Any, reference: Any, *, progress: bool
) -> dict[str, str]:
    """Draw what ``request`` asks for; returns ``{"plot": path, "animation": path}`` (those
    written). ``reference`` is a Reference, a saved ``{"solution", "loss", "method"}``
    or False (none). ``progress`` shows a bar while a long animation is written."""
    import warnings

    import numpy as np

    from geograd import plot

    saved: dict[str, str] = {}
    # a drawing of points near the largest float overflows in numpy's and matplotlib's
    # arithmetic (contour grids, tick steps): the picture is drawn all the same, so their
    # RuntimeWarnings are not the user's business
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        _render(request, problem, runs, reference, progress, saved, plot)
    return saved


def _render(
    request: PlotRequest, problem: Any, runs: Any, reference: Any, progress: bool,
    saved: dict[str, str], plot: Any,
) -> None:  # fmt: skip
    if request.plot is not None:
        fig = plot.result_figure(problem, runs, reference)
        plot.save_figure(fig, request.plot)
        saved["plot"] = str(request.plot)
    if request.animate is not None:
        with FrameProgress(f"writing {request.animate.name}", enabled=progress) as bar:
            plot.animate(
                problem, runs, request.animate, fps=request.fps, frames=request.frames,
                reference=reference, progress=bar.callback,
            )  # fmt: skip
        saved["animation"] = str(request.animate)


def render_after_run(
    request: PlotRequest,
    problem: Any,
    runs: Any,
    reference: Any,
    *,
    interrupted: bool,
    quiet: bool,
    json_output: bool,
) -> tuple[dict[str, str], BaseException | None]:
    """:func:`render` after a solve or compare, never losing the run: returns what was
    written and the failure to raise once the result is printed and saved (Ctrl-C while
    drawing included). Nothing is drawn after an interrupted run."""
    if not request.wanted:
        return {}, None
    if interrupted:
        if not (quiet or json_output):
            report.note("no plot or animation drawn: the run was interrupted")
        return {}, None
    try:
        return render(request, problem, runs, reference, progress=wanted(quiet, json_output)), None
    except KeyboardInterrupt:
        return {}, Interrupted()
    except Exception as exc:  # reported after the result, as it would have been before
        return {}, exc


def note_saved(saved: dict[str, str], quiet: bool, json_output: bool) -> None:
    if quiet or json_output:
        return
    for what, path in saved.items():
        report.note(f"saved the {what} to {path}")


# ------------------------------------------------------------------------ geograd plot


def run_plot(
    result: Path,
    *,
    plot: Path | None,
    animate: Path | None,
    fps: str | None,
    frames: str | None,
    quiet: bool,
) -> None:
    """``geograd plot RESULT.json``: see the module docstring."""
    request = plot_request(plot, animate, fps, frames)
    if not request.wanted:
        raise InputError("plot: nothing to draw; give --plot FILE.png and/or --animate FILE.gif")
    check_distinct({"--plot": plot, "--animate": animate}, {"RESULT.json": result})
    doc = read_json(result, "geograd result")
    problem, runs, reference = saved_run(doc, result)
    saved = render(request, problem, runs, reference, progress=wanted(quiet, False))
    note_saved(saved, quiet, False)


def saved_run(doc: dict[str, Any], path: Path) -> tuple[Any, Any, Any]:
    """(problem, runs, reference) from a saved solve or compare document."""
    from geograd.problems import problem_from_dict

    fmt = doc.get("format")
    if fmt not in (SOLVE_FORMAT, COMPARE_FORMAT):
        what = f"its format is {fmt!r}" if fmt is not None else "it has no 'format'"
        raise InputError(
            f"{path}: not a geograd result ({what}; expected {SOLVE_FORMAT} or "
            f"{COMPARE_FORMAT}, as written by 'geograd solve/compare ... --out FILE')"
        )
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        raise InputError(f"{path}: the result has no problem 'spec' to rebuild the problem from")
    try:
        problem = problem_from_dict(spec)
    except GeogradError as exc:
        raise InputError(f"{path}: cannot rebuild the problem: {one_line(str(exc))}") from None
    except Exception as exc:  # a malformed spec: missing keys, wrong types
        raise InputError(
            f"{path}: cannot rebuild the problem from its spec ({type(exc).__name__}: "
            f"{one_line(str(exc))})"
        ) from None
    runs: Any
    if fmt == SOLVE_FORMAT:
        check_history(doc.get("history"), problem.dim, f"{path}")
        runs = {str(doc.get("optimizer") or "run"): {"history": doc.get("history")}}
    else:
        histories = doc.get("histories")
        if not isinstance(histories, dict) or not histories:
            raise InputError(f"{path}: the comparison has no optimizer histories to draw")
        for label, run in histories.items():
            history = run.get("history") if isinstance(run, dict) else None
            check_history(history, problem.dim, f"{path}: run {label!r}")
        runs = histories
    reference = check_reference(doc.get("reference"), problem.dim, path)
    from geograd.plot import as_runs

    try:
        checked = as_runs(runs)
    except InputError as exc:
        raise InputError(f"{path}: {one_line(str(exc))}") from None
    return problem, checked, reference


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_history(history: Any, dim: int, where: str) -> None:
    """Refuse a saved history that cannot be drawn, naming ``where`` and what is wrong.

    A history (``Result.history``) holds lists of one entry per recorded step:
    ``step`` (increasing integers >= 0), ``loss`` (finite numbers), and optionally
    ``x`` (``dim`` finite numbers each; a number when ``dim`` is 1), ``grad_norm``
    and ``lr`` (numbers, or null for a value that was not finite). A file edited
    by hand or cut short fails here with one line, not in the middle of a drawing.
    """
    if not isinstance(history, dict):
        raise InputError(f"{where}: no history to draw (the file was not saved with one)")
    steps = history.get("step")
    if not isinstance(steps, list) or not steps:
        raise InputError(f"{where}: the history has no steps to draw")
    for key in ("loss", "x", "grad_norm", "lr"):
        values = history.get(key)
        if key != "loss" and (values is None or (key == "x" and values == [])):
            continue  # optional (without x the run is drawn without its path)
        if not isinstance(values, list):
            raise InputError(f"{where}: the history has no {key!r} list")
        if len(values) != len(steps):
            raise InputError(
                f"{where}: the history's lists have different lengths ({key!r} has "
                f"{len(values)} entries for {len(steps)} steps); the file is damaged"
            )
    previous = -1
    for i, step in enumerate(steps):
        if not (_finite(step) and step == int(step)) or step <= previous:
            raise InputError(
                f"{where}: history step #{i} is {step!r}; steps must be increasing integers >= 0"
            )
        previous = int(step)
    for step, loss in zip(steps, history["loss"]):
        if not _finite(loss):
            raise InputError(f"{where}: the loss at step {step} is {loss!r}, not a finite number")
    for step, x in zip(steps, history.get("x") or []):
        coords = x if isinstance(x, list) else [x]
        if len(coords) != dim or not all(_finite(c) for c in coords):
            raise InputError(
                f"{where}: x at step {step} is {_short(x)}, not {dim} finite number"
                f"{'s' if dim != 1 else ''}"
            )
    for key in ("grad_norm", "lr"):
        for step, value in zip(steps, history.get(key) or []):
            if value is not None and not _finite(value):
                raise InputError(
                    f"{where}: the {key} at step {step} is {_short(value)}, not a number"
                )


def check_reference(ref: Any, dim: int, path: Path) -> Any:
    """The saved reference to draw (``{"solution", "loss", "method"}``), or False when
    the result has none; a malformed one is an InputError naming the file."""
    if ref is None or (isinstance(ref, dict) and ref.get("solution") is None):
        return False
    if not isinstance(ref, dict):
        raise InputError(f"{path}: the reference is {_short(ref)}, not an object")
    solution = ref["solution"]
    coords = solution if isinstance(solution, list) else [solution]
    if len(coords) != dim or not all(_finite(c) for c in coords):
        raise InputError(
            f"{path}: the reference solution is {_short(solution)}, not {dim} finite number"
            f"{'s' if dim != 1 else ''}"
        )
    loss = ref.get("loss")
    if loss is not None and not _finite(loss):
        raise InputError(f"{path}: the reference loss is {_short(loss)}, not a finite number")
    return ref


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------------------------ h sweep


def h_sweep(problem: Any, points: list[list[float]], path: Path) -> dict[str, Any]:
    """The finite-difference error against h at up to :data:`SWEEP_POINTS` of ``points``,
    beside the autograd error against the closed form, saved to ``path``; returns the
    numbers (for ``--json``)."""
    from geograd import plot
    from geograd.check import finite_difference_sweep

    chosen = points[:SWEEP_POINTS]
    curves: dict[str, list[tuple[float, float]]] = {}
    autograd_error = 0.0
    rows = []
    for k, x in enumerate(chosen):
        closed = problem.gradient(x)
        auto = problem.autograd_gradient(x)
        err = max((abs(a - c) for a, c in zip(auto, closed)), default=0.0)
        autograd_error = max(autograd_error, err)
        sweep = finite_difference_sweep(problem.loss, closed, x, SWEEP_STEPS)
        curves[_point_label(x, k)] = sweep
        rows.append({"x": list(x), "autograd_error": err, "sweep": [list(r) for r in sweep]})
    title = f"{problem.name}: finite-difference error against the step h"
    fig = plot.h_sweep_figure(curves, autograd_error, title=title)
    plot.save_figure(fig, path)
    return {"file": str(path), "autograd_error": autograd_error, "points": rows}


def _point_label(x: list[float], k: int) -> str:
    if len(x) <= 3:
        return "at x = (" + ", ".join(f"{v:.3g}" for v in x) + ")"
    return f"at check point {k + 1}"
