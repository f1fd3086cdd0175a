"""The convergence panels: the objective gap L(x) − L* and the gradient norm against the
step, on log scales, one line per run (:func:`convergence_figure`; :func:`draw_convergence`
draws them into axes given, as :func:`~geograd.plot.result_figure` does)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from geograd.plot.common import (
    FLOOR,
    GAP_LABEL,
    GAP_LABEL_BEST,
    GRAD_LABEL,
    clip_to_floor,
    draw_floor_line,
    light_grid,
    new_figure,
    run_style,
    step_axis,
    step_label,
)
from geograd.plot.runs import Run, as_runs


def gap_base(runs: Sequence[Run], reference_loss: float | None) -> tuple[float, str]:
    """L* of the gap and the gap axis's label: the reference's loss when there is one, else
    the lowest loss any run reached (and the label says so)."""
    if reference_loss is not None and math.isfinite(reference_loss):
        return reference_loss, GAP_LABEL
    finite = [v for r in runs for v in r.loss if math.isfinite(v)]
    return (min(finite) if finite else 0.0), GAP_LABEL_BEST


def use_log_steps(runs: Sequence[Run], log_steps: bool | None) -> bool:
    """Whether the step axis is logarithmic: as asked, else when the runs' lengths differ
    twentyfold or more (a 15-step line search beside a 2000-step Adam)."""
    if log_steps is not None:
        return bool(log_steps)
    lengths = [max(1, r.last_step) for r in runs]
    return max(lengths) >= 100 and max(lengths) >= 20 * min(lengths)


def _markevery(values: Sequence[Any], every: float) -> float | None:
    """``markevery`` for a line: a fraction of its length, or every point when fewer than
    two are finite (matplotlib cannot space markers along a line it does not draw)."""
    finite = sum(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
    return every if finite >= 2 else None


def draw_convergence(
    ax_gap: Any,
    ax_grad: Any | None,
    runs: Sequence[Run],
    reference_loss: float | None,
    log_steps: bool | None = None,
) -> None:
    """The gap panel on ``ax_gap`` and, unless it is None, the gradient-norm panel on
    ``ax_grad`` (below it: it gets the step label), one line per run in the run's style."""
    base, gap_label = gap_base(runs, reference_loss)
    clipped = False
    for i, run in enumerate(runs):
        gaps = [v - base for v in run.loss]
        clipped = clipped or any(math.isfinite(g) and g <= FLOOR for g in gaps)
        panels = [(ax_gap, gaps), (ax_grad, run.grad_norm)]
        for ax, values in panels:
            if ax is not None:
                # A float markevery spaces markers evenly along the drawn line, on any scale.
                ax.plot(
                    run.step, clip_to_floor(values), label=run.label,
                    markevery=_markevery(values, 0.1), ms=5, lw=1.6, **run_style(i),
                )  # fmt: skip
    log = use_log_steps(runs, log_steps)
    for ax in (ax_gap, ax_grad):
        if ax is not None:
            step_axis(ax, log)
    ax_gap.set_yscale("log")
    ax_gap.set_ylabel(gap_label)
    light_grid(ax_gap)
    if clipped:
        draw_floor_line(ax_gap)
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
        ax_grad.set_xlabel(step_label(log))
        light_grid(ax_grad)
    else:
        ax_gap.set_xlabel(step_label(log))


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
    fig = new_figure(7.5, 6.2)
    ax_gap, ax_grad = fig.subplots(2, 1, sharex=True)
    draw_convergence(ax_gap, ax_grad, rs, reference_loss, log_steps)
    ax_gap.legend(title="optimizer", fontsize=9, title_fontsize=9)
    fig.suptitle(title or "Convergence", fontsize=13)
    return fig
