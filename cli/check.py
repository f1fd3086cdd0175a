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
from typing import Annotated, Any

import typer

from geograd.errors import InputError

from . import report
from .errors import EXIT_FINDING
from .plotting import OptHSweep, check_figure_path, h_sweep
from .settings import check_count, check_positive
from .solve import OptBackend, OptJson, OptQuiet, build_problem, problem_header

CHECK = "Check options"


def check_options(
    count: Annotated[
        str,
        typer.Option(
            "--count",
            metavar="K",
            help="Number of points from the problem (random, and near kinks).",
            rich_help_panel=CHECK,
        ),
    ] = "8",
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="A,B,...",
            help="Also check at this point (repeatable).",
            rich_help_panel=CHECK,
        ),
    ] = None,
    eps: Annotated[
        str,
        typer.Option(
            "--eps",
            metavar="H",
            help="Relative finite-difference step (h = H max(1, |x_i|)).",
            rich_help_panel=CHECK,
        ),
    ] = "1e-6",
    exact_tol: Annotated[
        str,
        typer.Option(
            "--exact-tol",
            metavar="TOL",
            help="Autograd vs closed form: allowed max abs difference, times max(1, |grad|).",
            rich_help_panel=CHECK,
        ),
    ] = "1e-10",
    fd_tol: Annotated[
        str,
        typer.Option(
            "--fd-tol",
            metavar="TOL",
            help="Either vs finite differences: allowed max abs difference, times max(1, |grad|).",
            rich_help_panel=CHECK,
        ),
    ] = "1e-5",
    backend: OptBackend = "auto",
    json_output: OptJson = False,
    quiet: OptQuiet = False,
    h_sweep_file: OptHSweep = None,
) -> None:
    """The options of ``geograd check PROBLEM``."""


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
    if h_sweep_file is not None:
        doc["h_sweep"] = h_sweep(problem, points, h_sweep_file)
    if json_output:
        report.print_json(doc)
    elif not quiet:
        report.print_check(doc)
        if h_sweep_file is not None:
            report.note(f"saved the h sweep to {h_sweep_file}")
    if failed:
        raise typer.Exit(EXIT_FINDING)
