"""``geograd check PROBLEM``: autograd vs the closed-form gradient vs central differences.

At ``--count`` points from ``Problem.check_points`` (random ones and, for
problems with kinks, points just off them) and at each ``--at`` point, runs
``geograd.check.three_way_check`` and tabulates the max abs/rel differences.
A point passes by ``ThreeWayReport.passed(exact_tol, fd_tol)``; any failure
makes the exit code 1. ``--h-sweep FILE`` also plots the central-difference error
against the step h (the rounding-versus-truncation V) beside the autograd
gradient's error, at the first few points.
"""

from __future__ import annotations

import math
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
    from geograd.check import three_way_check

    k = check_count("--count", count, minimum=0) or 0
    h = check_positive("--eps", eps) or 1e-6
    exact = check_positive("--exact-tol", exact_tol) or 1e-10
    fd = check_positive("--fd-tol", fd_tol) or 1e-5
    if h_sweep_file is not None:
        check_figure_path(h_sweep_file, "--h-sweep")
    problem, _ = build_problem(name, problem_args, backend)
    problem.check_workload(k + len(at or []))  # refuse a count that would run for hours
    points = [problem.check_point(p, "--at") for p in at or []]
    points += problem.check_points(k) if k else []
    if not points:
        raise InputError("--count 0 and no --at point: nothing to check")

    rows: list[dict[str, Any]] = []
    for x in points:
        r = three_way_check(problem.loss, problem.gradient, x, h)
        rows.append(
            {
                "x": r.x,
                "grad_norm": math.hypot(*r.closed_form),
                "autograd": r.autograd,
                "closed_form": r.closed_form,
                "numeric": r.numeric,
                "autograd_vs_closed": list(r.autograd_vs_closed),
                "autograd_vs_numeric": list(r.autograd_vs_numeric),
                "closed_vs_numeric": list(r.closed_vs_numeric),
                "passed": r.passed(exact, fd),
            }
        )
    failed = sum(not r["passed"] for r in rows)
    doc = problem_header(problem)
    doc.update(
        {
            "eps": h,
            "exact_tol": exact,
            "fd_tol": fd,
            "points": rows,
            "max": {
                key: max(r[key][0] for r in rows)
                for key in ("autograd_vs_closed", "autograd_vs_numeric", "closed_vs_numeric")
            },
            "failed": failed,
            "passed": failed == 0,
        }
    )
    riemannian = riemannian_checks(problem, points)
    if riemannian is not None:
        doc["riemannian"] = riemannian
        doc["passed"] = doc["passed"] and riemannian["passed"]
    if h_sweep_file is not None:
        doc["h_sweep"] = h_sweep(problem, points, h_sweep_file)
    if json_output:
        report.print_json(doc)
    elif not quiet:
        report.print_check(doc)
        if riemannian is not None:
            for line in riemannian["summary"]:
                report.note(line)
        if h_sweep_file is not None:
            report.note(f"saved the h sweep to {h_sweep_file}")
    if failed or not doc["passed"]:
        raise typer.Exit(EXIT_FINDING)


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
    worst_g = min(gradients, key=lambda row: (row["passed"], row["exact"] or row["slope"]))
    worst_r = min(retractions, key=lambda row: (row["passed"], row["exact"] or row["slope"]))
    summary = [
        f"Riemannian gradient check on {manifold.spec} at {len(points)} points: "
        f"{sum(row['passed'] for row in gradients)} pass (lowest slope "
        f"{worst_g['slope']:.3f}, 2 expected)",
        f"retraction check on {manifold.spec}: {sum(row['passed'] for row in retractions)} "
        f"of {len(points)} pass (lowest slope {worst_r['slope']:.3f} against the "
        f"{worst_r['reference']} curve)",
    ]
    return {
        "manifold": manifold.spec,
        "gradient": gradients,
        "retraction": retractions,
        "passed": passed,
        "summary": summary,
    }
