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
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress lines on stderr (the table is printed)."),
    ] = False,
) -> None:
    """Time the engine against numpy, torch, jax and a Python loop (median objective).

    One loss + gradient of the geometric median objective by every method installed
    here (the engine on each backend, a Python loop, numpy, torch, jax, HIPS
    autograd), side by side in one run, with ratios and peak memory.
    """
    from geograd import bench

    ns = [_count("--sizes", n) for n in split_names("--sizes", sizes, "size")]
    names = split_names("--methods", methods) if methods is not None else None
    for name in names or []:
        try:
            bench.method_named(name)
        except ValueError as exc:
            raise InputError(f"--methods: {exc}") from None
    r = _count("--rounds", rounds)
    b = check_positive("--budget", budget)
    assert b is not None  # the flag has a default
    if plot is not None:
        from .plotting import check_figure_path

        check_figure_path(plot, "--plot")
    _check_memory(max(ns))
    result = bench.study(
        ns, names, r, b, progress=None if quiet else lambda s: print(s, file=sys.stderr)
    )
    if not result.methods:
        missing = "; ".join(f"{k}: {v}" for k, v in result.skipped.items())
        raise InputError(f"--methods: none of them can run here ({missing})")
    if plot is not None:
        bench.plot(result, str(plot))
    if json_output:
        from .report import print_json

        print_json(result.to_dict())
    else:
        print(bench.table(result))
        if plot is not None:
            print(f"saved the figure to {plot}")


def _count(flag: str, text: str) -> int:
    value = check_count(flag, text)
    assert value is not None  # text is never None here
    return value


#: Memory one point of the study needs at most: its coordinates as Python floats and as
#: numpy arrays, the engine's intermediate arrays and the numpy methods' temporaries.
BYTES_PER_POINT = 400


def _check_memory(n: int) -> None:
    """Refuse, before any work, a size whose points would not fit in memory."""
    from geograd.fileio import available_memory, size_text

    have = available_memory()
    need = n * BYTES_PER_POINT
    if have is not None and need > have:
        raise InputError(
            f"--sizes: {n:,} points would need about {size_text(need)} of memory "
            f"({BYTES_PER_POINT} bytes a point), but {size_text(have)} is available; "
            f"give sizes up to about {have // BYTES_PER_POINT:,}"
        )
