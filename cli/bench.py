"""``geograd bench``: the autograd speed study (see :mod:`geograd.bench`), as a command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from geograd.errors import InputError

from .settings import check_count, check_positive, split_names


def bench_command(
    sizes: Annotated[
        str,
        typer.Option("--sizes", metavar="N,N,...", help="Numbers of points, comma-separated."),
    ] = "100,1000,10000,100000,1000000,10000000",
    methods: Annotated[
        str | None,
        typer.Option(
            "--methods",
            metavar="A,B,...",
            help="Methods to run (default: every one installed here): engine, engine-fused, "
            "engine-numpy, engine-fused-numpy, python-loop, numpy, torch, jax, hips-autograd, "
            "scalar-graph.",
        ),
    ] = None,
    rounds: Annotated[
        str, typer.Option("--rounds", metavar="R", help="Interleaved rounds per size.")
    ] = "5",
    budget: Annotated[
        str,
        typer.Option(
            "--budget",
            metavar="SECONDS",
            help="A method slower than this per call at one size skips the larger ones.",
        ),
    ] = "0.1",
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            help="Save time against N (log-log) and the ratios at the largest N (.png/.svg/.pdf).",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Time one loss + gradient of the median objective by every method installed here
    (the engine on each backend, a Python loop, numpy, torch, jax, HIPS autograd),
    side by side in one run, with ratios and peak memory."""
    from geograd import bench

    ns = [check_count("--sizes", n) or 1 for n in split_names("--sizes", sizes)]
    names = split_names("--methods", methods) if methods is not None else None
    for name in names or []:
        try:
            bench.method_named(name)
        except ValueError as exc:
            raise InputError(f"--methods: {exc}") from None
    r = check_count("--rounds", rounds) or 1
    b = check_positive("--budget", budget) or 0.1
    if plot is not None:
        from .plotting import check_figure_path

        check_figure_path(plot, "--plot")
    result = bench.study(ns, names, r, b, progress=lambda s: print(s, file=sys.stderr))
    if plot is not None:
        bench.plot(result, str(plot))
    if json_output:
        from .report import print_json

        print_json(result.to_dict())
    else:
        print(bench.table(result))
        if plot is not None:
            print(f"saved the figure to {plot}")
