"""The h-sweep figure of ``geograd check --h-sweep``: the central finite-difference error
against the step h (the rounding-versus-truncation V) beside the autograd gradient's error."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from geograd.errors import InputError
from geograd.plot.common import FLOOR, clip_to_floor, light_grid, new_figure, run_style

#: One curve of the sweep: (h, max abs error) rows.
SweepRows = Sequence[tuple[float, float]]


def _curves(
    sweep: SweepRows | Mapping[str, SweepRows],
) -> list[tuple[str, list[tuple[float, float]]]]:
    """``sweep`` as labelled curves of rows sorted by h, the empty ones left out; an
    :class:`InputError` when none is left or an h is not a positive number."""
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
    return curves


def _draw_guides(
    ax: Any, rows: list[tuple[float, float]], best_h: float, h_lo: float, h_hi: float
) -> None:
    """Guides through the ends of ``rows`` (the first curve, best at ``best_h``), each over
    its own side of the V (and a decade beyond the best h) within [``h_lo``, ``h_hi``]:
    truncation ∝ h² for large h, rounding ∝ 1/h for small h. None for fewer than three
    rows or an end at zero error."""
    (h_a, e_a), (h_b, e_b) = rows[0], rows[-1]
    if len(rows) < 3 or e_a <= 0 or e_b <= 0:
        return

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


def h_sweep_figure(
    sweep: SweepRows | Mapping[str, SweepRows],
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
    curves = _curves(sweep)
    fig = new_figure(7.5, 5.2)
    ax = fig.add_subplot()
    floor_used = False
    for i, (label, rows) in enumerate(curves):
        hs = [h for h, _ in rows]
        errs = [e for _, e in rows]
        floor_used = floor_used or any(e <= FLOOR for e in errs)
        ax.plot(hs, clip_to_floor(errs), label=label, ms=6, lw=1.6, **run_style(i))
    hs_all = sorted({h for _, rows in curves for h, _ in rows})
    best_h, best_e = min(curves[0][1], key=lambda r: r[1])
    _draw_guides(ax, curves[0][1], best_h, hs_all[0], hs_all[-1])
    ys = [max(e, FLOOR) for _, rows in curves for _, e in rows]
    if autograd_error is not None and math.isfinite(autograd_error):
        shown = max(autograd_error, FLOOR)
        text = (
            f"autograd vs closed form: {autograd_error:.1e}"
            if autograd_error > FLOOR
            else f"autograd vs closed form: {autograd_error:.1g} (drawn at {FLOOR:.0e})"
        )
        # Black and thick: no curve has that colour (or that weight, in grey).
        ax.axhline(shown, color="black", lw=2.4, ls="-", label=text, zorder=1)
        ys.append(shown)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(min(ys) / 10, max(ys) * 10)
    ax.set_xlabel("finite-difference step h")
    ax.set_ylabel("max abs error of the gradient  (vs closed form)")
    light_grid(ax)
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
