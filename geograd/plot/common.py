"""What every figure of :mod:`geograd.plot` shares: the canvas, the run styles, the axis
labels and floors, the legend, the titles, the checks of arguments, and saving a figure
to a file.

matplotlib is imported inside the functions, never when this module is imported.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geograd.errors import InputError
from geograd.fileio import atomic_path

#: Gaps and gradient norms at or below this are drawn at it, so a zero (an exact
#: solution, or a loss equal to the reference's to the last bit) still shows on a log axis.
FLOOR = 1e-16
#: What :func:`save_figure` writes.
FIGURE_FORMATS = ("png", "svg", "pdf")

# Okabe–Ito colours (distinct for colour-blind readers), each run also gets its own
# line style and marker, so that lines stay apart when printed in grey.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)), "-")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h")

GAP_LABEL = "objective gap  L(x) − L*"
GAP_LABEL_BEST = "L(x) − L_best  (lowest loss seen)"
GRAD_LABEL = "gradient norm  ‖∇L(x)‖"
STEP_LABEL = "step"
#: The smallest marker area (points²) of a scatter's key in a legend.
LEGEND_DOT = 16.0


# ------------------------------------------------------------------------------ canvas


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


def new_figure(width: float, height: float) -> Any:
    """A pyplot-free Figure on an Agg canvas, ``width`` x ``height`` inches."""
    _use_agg_without_display()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


# ------------------------------------------------------------------------------ styles


def run_style(i: int) -> dict[str, Any]:
    """The colour, line style and marker of the ``i``-th run (keyword arguments of ``plot``)."""
    return {
        "color": COLORS[i % len(COLORS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }


def clip_to_floor(values: Sequence[float], floor: float = FLOOR) -> list[float]:
    """``values`` raised to ``floor`` where they are below it (non-finite ones kept as they
    are), so that a log axis can show them."""
    return [v if not math.isfinite(v) else max(v, floor) for v in values]


def draw_floor_line(ax: Any) -> None:
    """A faint dotted line at :data:`FLOOR`, where the values clipped to it are drawn."""
    ax.axhline(FLOOR, color="0.5", lw=0.8, ls=":", zorder=0)


def light_grid(ax: Any) -> None:
    """The faint major grid every panel has."""
    ax.grid(True, which="major", alpha=0.35)


def legend_below(fig: Any, ax: Any, columns: int) -> None:
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


def step_label(log: bool) -> str:
    """The step axis's label, saying when the axis is logarithmic."""
    return STEP_LABEL + ("  (log scale)" if log else "")


def step_axis(ax: Any, log: bool) -> None:
    """Make ``ax``'s step axis logarithmic when ``log`` (a linear one is left as it is)."""
    if log:
        # symlog: linear on [0, 1] so that step 0 (x0) stays on the axis, log beyond.
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
        ax.set_xlim(left=-0.3)  # a margin, so that step 0 markers are not cut in half


def problem_title(problem: Any) -> str:
    """The problem's name with what its size means: ``circle-fit (n = 100 in R^2, 3
    parameters)``."""
    name = getattr(problem, "name", "") or type(problem).__name__
    n = getattr(problem, "n", 0)
    dim = getattr(problem, "dim", None)  # the number of parameters
    data_dim = getattr(problem, "data_dim", None)  # the dimension of the data's points
    space = getattr(problem, "data_space", f"in R^{data_dim}" if data_dim else "")
    parts = [f"n = {n}" + (f" {space}" if space else "")] if n else []
    if dim is not None and dim != data_dim:
        parts.append(f"{dim} parameter{'s' if dim != 1 else ''}")
    return f"{name} ({', '.join(parts)})" if parts else str(name)


# -------------------------------------------------------------------------- arguments


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an int (and not a bool, which is one to Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_resolution(resolution: int) -> None:
    """An :class:`InputError` unless ``resolution`` (a contour grid's side) is an int >= 2."""
    if not is_integer(resolution) or resolution < 2:
        raise InputError(f"plot: resolution must be an integer >= 2, got {resolution!r}")


def check_suffix(path: Path, allowed: Sequence[str], what: str) -> str:
    """The suffix of ``path`` (lower case, no dot) when it is one of ``allowed``, else an
    :class:`InputError` naming them; ``what`` says what was to be saved."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in allowed:
        names = ", ".join("." + s for s in allowed)
        got = f"{path.suffix!r}" if path.suffix else "no suffix"
        raise InputError(f"cannot save {what} to {path}: {got} is not one of {names}")
    return suffix


# ------------------------------------------------------------------------------- files


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Save ``fig`` as PNG, SVG or PDF by the suffix of ``path``, atomically; returns the path.

    Any other suffix is an :class:`InputError` naming the ones allowed.
    """
    target = Path(path)
    fmt = check_suffix(target, FIGURE_FORMATS, "a figure")
    with atomic_path(target, what="cannot write") as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, facecolor="white")
    return target
