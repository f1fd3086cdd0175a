"""``geograd check PROBLEM``: autograd vs the closed-form gradient vs central differences.

At ``--count`` points from ``Problem.check_points`` (random ones and, for
problems with kinks, points just off them) and at each ``--at`` point, runs
``geograd.check.three_way_check`` and tabulates the max abs/rel differences.
A point passes by ``ThreeWayReport.passed(exact_tol, fd_tol)``; any failure
makes the exit code 1. The central differences step by eps·max(s_i, |x_i|), s_i the
scale of parameter i in the problem's own frame (:func:`step_scales`: the power of two
nearest the data's extent for a length, 1 for an angle or a problem without one), so
that data at 1e-320 or 1e300 are differenced on their own scale. Where the differences
cannot be formed in float64 (a step below the normal range, a loss that overflows at
x ± h) the point's fd columns are empty ("-", null in the JSON, with
``fd_not_evaluated`` saying why) and the summary says so: that is no mismatch.
``--h-sweep FILE`` also plots the central-difference error against the step h (the
rounding-versus-truncation V) beside the autograd gradient's error, at the first few
points.

``--eps`` is a step relative to the data's scale, so it must lie in [2^-52, 1): below
float64's epsilon (2.2e-16) x ± h rounds back to x and the differences measure nothing;
at 1 or more the step is as long as the data's whole extent (x ± h leaves the data, and
near the largest floats overflows: ``--eps 1e308`` differenced no point at all), and such
differences say nothing about the gradient. Either is refused (exit 2); 1e-6, the
default, is near the best step for central differences (epsilon^(1/3) ≈ 6e-6).

An ``--at`` point where the objective, its autograd gradient or the closed-form gradient
cannot be computed (an overflow, a NaN, a division by zero) or is not finite is refused
(exit 2) in one line naming the point, which computation failed and what to give
instead: a point nearer the data, or where the function is defined; a problem's own
refusal of such a point (thomson's coincident charges) is named the same way. An
objective that is inf where both gradients are finite is no failure: the gradients are
what is compared. A point the check drew itself, near the data, where that happens is reported
as not compared ("-" in the table, ``not_compared`` saying why in the JSON) and fails
the check (exit 1): one of the two gradients cannot be computed where it should be.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import typer

from geograd.errors import InputError

from . import report
from .errors import EXIT_FINDING
from .plotting import check_figure_path, h_sweep
from .settings import check_count, check_positive
from .solve import build_problem, problem_header


def run_check(
    name: str,
    problem_args: dict[str, Any],
    *,
    count: str,
    at: list[str] | None,
    eps: str,
    exact_tol: str,
    fd_tol: str,
    json_output: bool,
    quiet: bool,
    h_sweep_file: Path | None = None,
    backend: str | None = None,
) -> None:
    """``geograd check NAME``: see the module docstring."""
    from geograd.check import CheckPointError, three_way_check

    k = check_count("--count", count, minimum=0) or 0
    h = check_eps(eps)
    exact = check_positive("--exact-tol", exact_tol) or 1e-10
    fd = check_positive("--fd-tol", fd_tol) or 1e-5
    if h_sweep_file is not None:
        check_figure_path(h_sweep_file, "--h-sweep")
    problem, _ = build_problem(name, problem_args, backend)
    problem.check_workload(k + len(at or []))  # refuse a count that would run for hours
    points = [problem.check_point(p, "--at") for p in at or []]
    given = len(points)
    points += problem.check_points(k) if k else []
    if not points:
        raise InputError("--count 0 and no --at point: nothing to check")

    scales = step_scales(problem)
    rows: list[dict[str, Any]] = []
    none = [None, None]
    for i, x in enumerate(points):
        try:
            r = three_way_check(problem.loss, problem.gradient, x, h, scales)
        except CheckPointError as exc:
            if i < given:
                raise InputError(refusal(problem, i + 1, x, exc)) from None
            rows.append(not_compared_row(x, exc))
            continue
        except InputError as exc:  # the problem's own refusal of the point: say which
            if i < given:
                raise InputError(f"check {name}: --at point {i + 1} {_shown(x)}: {exc}") from None
            raise
        rows.append(
            {
                "x": r.x,
                "grad_norm": grad_norm(r.closed_form),
                "autograd": r.autograd,
                "closed_form": r.closed_form,
                "numeric": r.numeric,
                "autograd_vs_closed": list(r.autograd_vs_closed),
                "autograd_vs_numeric": none if r.autograd_vs_numeric is None
                else list(r.autograd_vs_numeric),
                "closed_vs_numeric": none if r.closed_vs_numeric is None
                else list(r.closed_vs_numeric),
                "fd_not_evaluated": r.fd_unavailable,
                "not_compared": None,
                "passed": r.passed(exact, fd),
            }
        )  # fmt: skip
    failed = sum(not r["passed"] for r in rows)
    compared = [x for x, r in zip(points, rows) if r["not_compared"] is None]
    doc = problem_header(problem)
    doc.update(
        {
            "eps": h,
            "step_scales": scales,
            "exact_tol": exact,
            "fd_tol": fd,
            "points": rows,
            "max": {
                key: max((r[key][0] for r in rows if r[key][0] is not None), default=None)
                for key in ("autograd_vs_closed", "autograd_vs_numeric", "closed_vs_numeric")
            },
            "fd_not_evaluated": sum(r["fd_not_evaluated"] is not None for r in rows),
            "not_compared": sum(r["not_compared"] is not None for r in rows),
            "failed": failed,
            "passed": failed == 0,
        }
    )
    riemannian = riemannian_checks(problem, compared) if compared else None
    if riemannian is not None:
        doc["riemannian"] = riemannian
        doc["passed"] = doc["passed"] and riemannian["passed"]
    if h_sweep_file is not None:  # at the points compared: the others have no gradient
        doc["h_sweep"] = h_sweep(problem, compared, h_sweep_file) if compared else None
    doc["findings"] = check_findings(doc)
    doc["exit_code"] = EXIT_FINDING if doc["findings"] else 0
    if json_output:
        report.print_json(doc)
    elif not quiet:
        print_check(doc)
        if riemannian is not None:
            for line in riemannian["summary"]:
                report.note(line)
        if h_sweep_file is not None:
            report.note(
                f"saved the h sweep to {h_sweep_file}"
                if compared
                else f"no h sweep saved to {h_sweep_file}: no point was compared"
            )
    if doc["findings"]:
        if not quiet:  # as solve names its findings: the exit code's reason on stderr
            sys.stderr.write(f"geograd: finding: {'; '.join(doc['findings'])} (exit 1)\n")
        raise typer.Exit(EXIT_FINDING)


def check_findings(doc: dict[str, Any]) -> list[str]:
    """Why the check fails (exit 1), each in a few words; empty when it passes."""
    n, unmatched = len(doc["points"]), doc["not_compared"]
    out = []
    if doc["failed"] - unmatched:
        out.append(f"gradient mismatch at {doc['failed'] - unmatched} of {n} points")
    if unmatched:
        out.append(f"gradients not computed at {unmatched} of {n} points")
    riemannian = doc.get("riemannian")
    if riemannian is not None and not riemannian["passed"]:
        out.append("a Riemannian check failed")
    return out


#: The smallest --eps: float64's epsilon, 2^-52. A smaller relative step rounds x ± h
#: back to x (for a coordinate of the data's size).
EPS_MIN = 2.0**-52


def check_eps(text: str) -> float:
    """``--eps`` as a number in [:data:`EPS_MIN`, 1), else an input error saying what range
    works and why (see the module docstring)."""
    h = check_positive("--eps", text) or 1e-6
    sensible = (
        "give a relative step between 2.2e-16 and 1; about 1e-6 (the default, near "
        "float64's epsilon^(1/3)) is best for central differences"
    )
    if h >= 1.0:
        raise InputError(
            f"--eps {text} is too large: the step h = eps x max(scale, |x_i|) would be as "
            f"long as the data's whole extent or longer (x ± h leaves the data, or "
            f"overflows), and such differences say nothing about the gradient; {sensible}"
        )
    if h < EPS_MIN:
        raise InputError(
            f"--eps {text} is below float64's epsilon (2.2e-16): x ± h would round back to x "
            f"and the finite differences would measure nothing but rounding; {sensible}"
        )
    return h


def _shown(x: list[float]) -> str:
    return "(" + report.point(x, 6) + ")"


def _data_words(problem: Any) -> str:
    """Where the check's points belong, for a refusal: the data's widest side (a problem
    with a data frame), else the size of the problem's start."""
    frame = getattr(problem, "frame", None)
    span = getattr(frame, "span_words", None)
    if frame is not None and span is not None:
        d = len(frame.lo)
        names = tuple(getattr(problem, "names", None) or ())
        if len(names) != d:
            names = ("x", "y", "z")[:d] if d <= 3 else tuple(f"x{j + 1}" for j in range(d))
        return f"a point nearer the data, which span {span(names)}"
    size = max((abs(v) for v in problem.x0), default=1.0)
    return f"a point nearer the problem's start (its coordinates are at most {size:.3g} in size)"


def refusal(problem: Any, k: int, x: list[float], exc: Any) -> str:
    """The one line refusing the k-th ``--at`` point ``x``: which computation failed there
    and how (``exc``: a :class:`geograd.check.CheckPointError`), and what to give instead."""
    todo = _data_words(problem) if exc.overflowed else "a point where the objective is defined"
    return f"check {problem.name}: --at point {k} {_shown(x)}: {exc.reason}; give {todo}"


def grad_norm(gradient: list[float] | None) -> float | None:
    """|gradient|, or None (shown as "-") when there is none or its length overflows."""
    if gradient is None:
        return None
    size = math.hypot(*gradient)
    return size if math.isfinite(size) else None


def not_compared_row(x: list[float], exc: Any) -> dict[str, Any]:
    """The table row of a point the check drew where a gradient could not be computed
    (``exc``: a :class:`geograd.check.CheckPointError`): no comparison, failed."""
    closed = exc.closed_form
    none = [None, None]
    return {
        "x": list(x),
        "grad_norm": grad_norm(closed),
        "autograd": exc.autograd,
        "closed_form": closed,
        "numeric": None,
        "autograd_vs_closed": none,
        "autograd_vs_numeric": none,
        "closed_vs_numeric": none,
        "fd_not_evaluated": None,
        "not_compared": exc.reason,
        "passed": False,
    }


def step_scales(problem: Any) -> list[float]:
    """The length s_i of each parameter for the central-difference step eps·max(s_i, |x_i|):
    2^k_i from the problem's ``parameter_frame()`` (x_i = offset_i + 2^k_i z_i: the power
    of two nearest the data's extent for a length, 1 for an angle), capped at the largest
    float; 1 for every parameter of a problem without a frame."""
    frame = getattr(problem, "parameter_frame", None)
    if frame is None:
        return [1.0] * problem.dim
    return [math.ldexp(1.0, min(int(k), 1023)) for _, k in frame()]


def print_check(doc: dict[str, Any]) -> None:
    """The table and its summary: :func:`report.print_check` when every point was compared
    and its central differences formed; else the same, saying where they were not and why
    (never nan)."""
    if not doc["fd_not_evaluated"] and not doc["not_compared"]:
        report.print_check(doc)
        return
    report.show(report.check_table(doc))
    m, n = doc["max"], len(doc["points"])
    measured = [v for v in (m["autograd_vs_numeric"], m["closed_vs_numeric"]) if v is not None]
    allowed = f"(allowed {doc['fd_tol']:g} x max(1, |grad|))"
    vs_fd = f"{report.small(max(measured))} {allowed} where formed" if measured else "not evaluated"
    vs_closed = (
        "not compared"
        if m["autograd_vs_closed"] is None
        else f"{report.small(m['autograd_vs_closed'])} "
        f"(allowed {doc['exact_tol']:g} x max(1, |grad|))"
    )
    lines = [
        f"max abs difference: autograd vs closed form {vs_closed}; vs finite differences {vs_fd}"
    ]
    reasons: dict[str, int] = {}
    for row in doc["points"]:
        if row["fd_not_evaluated"] is not None:
            reasons[row["fd_not_evaluated"]] = reasons.get(row["fd_not_evaluated"], 0) + 1
    for why, count in reasons.items():
        lines.append(f"central differences not evaluated at {count} of {n} points: {why}")
    for i, row in enumerate(doc["points"], start=1):
        if row["not_compared"] is not None:
            lines.append(
                f"gradients not compared at point {i} {_shown(row['x'])}: {row['not_compared']}"
            )
    failed = doc["failed"]
    if failed:
        unmatched = doc["not_compared"]
        verdict = []
        if failed - unmatched:
            verdict.append(f"MISMATCH at {failed - unmatched} of {n} points")
        if unmatched:
            verdict.append(
                f"NOT COMPARED at {unmatched} of {n} points the check drew near the data "
                "(a gradient that cannot be computed there fails the check)"
            )
        lines.append("; ".join(verdict))
    else:
        lines.append(
            f"no mismatch at the {n} points (autograd against the closed form everywhere, "
            "against central differences where they were formed)"
        )
    for line in lines:
        report.note(line)


def _slope_words(rows: list[dict[str, Any]], lowest: str, exact_words: str) -> str:
    """What a check's per-point ``rows`` measured, never nan: ``lowest`` (formatted with the
    lowest measured slope, a failing point's first) and where the check was exact to
    rounding (``exact_words``) or its slope could not be measured."""
    measured = [r for r in rows if not r["exact"] and math.isfinite(r["slope"])]
    parts = []
    if measured:
        worst = min(measured, key=lambda r: (r["passed"], r["slope"]))
        parts.append(lowest.format(worst["slope"]))
    exact = sum(bool(r["exact"]) for r in rows)
    if exact:
        parts.append(f"{exact_words} at {'all' if exact == len(rows) else exact}")
    unmeasured = sum(not r["exact"] and not math.isfinite(r["slope"]) for r in rows)
    if unmeasured:
        parts.append(f"slope not measurable at {unmeasured}")
    return "; ".join(parts)


def riemannian_checks(problem: Any, points: list[list[float]]) -> dict[str, Any] | None:
    """For a problem whose parameter lives on a manifold (``Problem.manifold()``): at each
    check point, put on the manifold in the solver's coordinates, the Riemannian
    gradient check (f along retraction curves: the remainder of its first-order model
    falls like t², slope 2) and the retraction check (pymanopt's). None without one."""
    import random

    from geograd import Tensor
    from geograd.check import check_retraction, check_riemannian_gradient

    manifold = problem.manifold()
    if manifold is None:
        return None
    gradients: list[dict[str, Any]] = []
    retractions: list[dict[str, Any]] = []
    for i, x in enumerate(points):
        z = manifold.projx(Tensor(problem.to_solver(x)).data)
        g = check_riemannian_gradient(problem.solver_loss, manifold, z, rng=random.Random(i))
        r = check_retraction(manifold, z, rng=random.Random(i))
        gradients.append({"slope": g.slope, "exact": g.exact, "tangent_residual":
                          g.tangent_residual, "passed": g.passed})  # fmt: skip
        retractions.append({"slope": r.slope, "exact": r.exact, "reference": r.reference,
                            "passed": r.passed})  # fmt: skip
    passed = all(row["passed"] for row in (*gradients, *retractions))
    reference = retractions[0]["reference"]
    gradient_words = _slope_words(
        gradients, "lowest slope {:.3f}, 2 expected", "the first-order model exact to rounding"
    )
    retraction_words = _slope_words(
        retractions,
        f"lowest slope {{:.3f}} against the {reference} curve",
        f"identical to the {reference} curve to rounding",
    )
    summary = [
        f"Riemannian gradient check on {manifold.spec} at {len(points)} points: "
        f"{sum(row['passed'] for row in gradients)} pass ({gradient_words})",
        f"retraction check on {manifold.spec}: {sum(row['passed'] for row in retractions)} "
        f"of {len(points)} pass ({retraction_words})",
    ]
    return {
        "manifold": manifold.spec,
        "gradient": gradients,
        "retraction": retractions,
        "passed": passed,
        "summary": summary,
    }
