"""``geograd bench``: the autograd speed study (see :mod:`geograd.bench`), as a command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from geograd.errors import InputError

from .settings import check_count, check_optimizer, check_positive, split_names


def bench_command(
    sizes: Annotated[
        str | None,
        typer.Option(
            "--sizes",
            metavar="N,N,...",
            help="Numbers of points, comma-separated "
            "(default: 100,1000,10000,100000,1000000,10000000); with --modes, the numbers "
            "of inputs n (default: 1,2,5,10,20,50,100,200,500,1000; at most 10000).",
        ),
    ] = None,
    methods: Annotated[
        str | None,
        typer.Option(
            "--methods",
            metavar="A,B,...",
            help="Methods to run (default: every one installed here): engine, engine-fused, "
            "engine-numpy, engine-fused-numpy, python-loop, numpy, torch, jax, hips-autograd, "
            "scalar-graph; with --to-solution: geograd, geograd-numpy, torch-adam, "
            "scipy-lbfgsb.",
        ),
    ] = None,
    rounds: Annotated[
        str | None,
        typer.Option(
            "--rounds",
            metavar="R",
            help="Interleaved rounds (default: 5 per size; 3 with --to-solution).",
        ),
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option(
            "--budget",
            metavar="SECONDS",
            help="A method slower than this per call at one size skips the larger ones "
            "(default 0.1).",
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            help="Save time against N (log-log) and the ratios at the largest N "
            "(.png/.svg/.pdf); with --modes, time against n for both modes and their ratio.",
        ),
    ] = None,
    to_solution: Annotated[
        bool,
        typer.Option(
            "--to-solution",
            help="Race whole solves instead: each method solves the median of --n seeded "
            "points from the same start, timed until its objective is within --tol "
            "(relative) of the reference; ratios to geograd's standard-library time.",
        ),
    ] = False,
    modes: Annotated[
        bool,
        typer.Option(
            "--modes",
            help="Forward mode against reverse mode instead: the full gradient of f: R^n -> R "
            "by n JVPs and by one VJP, for each n of --sizes, with their ratio.",
        ),
    ] = False,
    n: Annotated[
        str | None,
        typer.Option("--n", metavar="N", help="--to-solution: number of points (default 100000)."),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option(
            "--seed", metavar="SEED", help="--to-solution: the points' random seed (default 5)."
        ),
    ] = None,
    tol: Annotated[
        str | None,
        typer.Option(
            "--tol",
            metavar="TOL",
            help="--to-solution: the relative tolerance on the objective (default 1e-9).",
        ),
    ] = None,
    max_steps: Annotated[
        str | None,
        typer.Option(
            "--max-steps",
            metavar="K",
            help="--to-solution: a method still short of the tolerance after K steps is "
            "stopped and reported as not reached (default 10000).",
        ),
    ] = None,
    time_budget: Annotated[
        str | None,
        typer.Option(
            "--time-budget",
            metavar="SECONDS",
            help="--to-solution: ... and likewise after this many seconds (default 60).",
        ),
    ] = None,
    optimizer: Annotated[
        str | None,
        typer.Option(
            "--optimizer",
            metavar="NAME",
            help="--to-solution: geograd's rows run this optimizer with the median's settings "
            "for it (default: the median's default solve).",
        ),
    ] = None,
    adam_lr: Annotated[
        str | None,
        typer.Option(
            "--adam-lr", metavar="LR", help="--to-solution: torch Adam's lr (default 0.01)."
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

    With --modes, forward mode against reverse mode: the full gradient of
    f(x) = log sum exp(x) + sum x tanh(x), f: R^n -> R, by n JVPs (one per basis
    vector) and by one VJP, for n = 1 to 1000 (--sizes), with their ratio: about n.

    With --to-solution, whole solves instead: geograd's default median solve on the
    standard-library and numpy backends, torch autograd + Adam (lr 0.01, float64; only
    where torch is installed) and scipy's L-BFGS-B on the numpy closed form, all on the
    same seeded points from the same start (the centroid). Each is timed from the start
    of its solve (data already built; setup shown apart) to its first iterate whose
    objective is within --tol of the reference (Weiszfeld), where it stops. A method
    that stops first (--max-steps, --time-budget, or its own stopping rule: geograd's
    solve keeps its own; scipy's are off) is reported as not reached, its time a lower
    bound, and a ratio against it as '>='. Rounds are interleaved; the table gives
    medians.

    A request whose rounds would take more than an hour here is refused before it
    starts; long work shows its progress on stderr (not with --quiet).
    """
    from geograd import bench

    say = None if quiet else lambda s: print(s, file=sys.stderr)
    if modes:
        other: list[tuple[str, object]] = [
            ("--to-solution", to_solution or None), ("--methods", methods), ("--budget", budget),
            ("--n", n), ("--seed", seed), ("--tol", tol), ("--max-steps", max_steps),
            ("--time-budget", time_budget), ("--optimizer", optimizer), ("--adam-lr", adam_lr),
        ]  # fmt: skip
        for option, given in other:
            if given is not None:
                raise InputError(
                    f"{option} is not for --modes (which takes --sizes, --rounds, --plot, --json)"
                )
        _modes(sizes, rounds, plot, json_output, say)
        return
    if to_solution:
        for flag, value in (("--sizes", sizes), ("--budget", budget), ("--plot", plot)):
            if value is not None:
                raise InputError(
                    f"{flag} is for the evaluation study, not --to-solution "
                    "(which takes --n, --tol, --max-steps, --time-budget)"
                )
        _race(bench, methods, rounds, n, seed, tol, max_steps, time_budget, optimizer,
              adam_lr, json_output, say)  # fmt: skip
        return
    for flag, value in (("--n", n), ("--seed", seed), ("--tol", tol), ("--max-steps", max_steps),
                        ("--time-budget", time_budget), ("--optimizer", optimizer),
                        ("--adam-lr", adam_lr)):  # fmt: skip
        if value is not None:
            raise InputError(f"{flag} is for --to-solution; the evaluation study takes --sizes")
    ns = (
        [_count("--sizes", v) for v in split_names("--sizes", sizes, "size")]
        if sizes
        else list(bench.SIZES)
    )
    names = split_names("--methods", methods) if methods is not None else None
    for name in names or []:
        try:
            bench.method_named(name)
        except ValueError as exc:
            raise InputError(f"--methods: {exc}") from None
    r = _count("--rounds", rounds or "5")
    b = check_positive("--budget", budget or "0.1")
    assert b is not None  # a default is given
    if plot is not None:
        from .plotting import check_figure_path

        check_figure_path(plot, "--plot")
    _check_memory(max(ns), "--sizes")
    from .work import WorkProgress

    # Long work shows progress (a bar on a terminal, a line every few seconds otherwise);
    # a request that would take hours is refused first (bench.check_study).
    with WorkProgress(enabled=not quiet) as work:
        result = bench.study(ns, names, r, b, progress=say, on_work=work)
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


def _modes(
    sizes: str | None, rounds: str | None, plot: Path | None, json_output: bool, say: Any
) -> None:
    """``geograd bench --modes``: check the flags, time both modes, print (and draw)."""
    from geograd import modes

    ns = (
        [_count("--sizes", v) for v in split_names("--sizes", sizes, "size")]
        if sizes
        else list(modes.SIZES)
    )
    if max(ns) > modes.MAX_N:
        raise InputError(
            f"--sizes: with --modes, n is at most {modes.MAX_N:,} (forward mode evaluates f "
            f"n times, n² work in all), got {max(ns):,}"
        )
    r = _count("--rounds", rounds or str(modes.ROUNDS))
    if plot is not None:
        from .plotting import check_figure_path

        check_figure_path(plot, "--plot")
    from geograd.bench import check_modes

    check_modes(r, min(ns))  # refuse rounds that would take hours, before they start
    result = modes.study(ns, r, progress=say)
    if plot is not None:
        modes.plot(result, str(plot))
    if json_output:
        from .report import print_json

        print_json(result.to_dict())
    else:
        print(modes.table(result))
        if plot is not None:
            print(f"saved the figure to {plot}")


def _race(
    bench: Any,
    methods: str | None,
    rounds: str | None,
    n: str | None,
    seed: str | None,
    tol: str | None,
    max_steps: str | None,
    time_budget: str | None,
    optimizer: str | None,
    adam_lr: str | None,
    json_output: bool,
    say: Any,
) -> None:
    """``geograd bench --to-solution``: check the flags, race, print."""
    names = split_names("--methods", methods) if methods is not None else None
    for name in names or []:
        if name not in bench.RACERS:
            raise InputError(
                f"--methods: unknown method {name!r} for --to-solution; known: "
                + ", ".join(bench.RACERS)
            )
    points = _count("--n", n or str(bench.RACE_N))
    _check_memory(points, "--n")
    seed_value = check_count("--seed", seed, minimum=0)
    relative = check_positive("--tol", tol or str(bench.RACE_TOL))
    assert relative is not None
    if relative >= 1.0:
        raise InputError(f"--tol must be a relative tolerance below 1, got {tol!r}")
    cap = _count("--max-steps", max_steps or str(bench.RACE_MAX_STEPS))
    seconds = check_positive("--time-budget", time_budget or str(bench.RACE_TIME_BUDGET_S))
    lr = check_positive("--adam-lr", adam_lr or str(bench.ADAM_LR))
    assert seconds is not None and lr is not None
    opt = check_optimizer(optimizer) if optimizer is not None else None
    result = bench.race(
        points, names, _count("--rounds", rounds or "3"), relative, cap, seconds,
        seed=5 if seed_value is None else seed_value, optimizer=opt, adam_lr=lr, progress=say,
    )  # fmt: skip
    if not result.racers:
        missing = "; ".join(f"{k}: {v}" for k, v in result.skipped.items())
        raise InputError(f"--methods: none of them can run here ({missing})")
    if json_output:
        from .report import print_json

        print_json(result.to_dict())
    else:
        print(bench.race_table(result))


def _count(flag: str, text: str) -> int:
    value = check_count(flag, text)
    assert value is not None  # text is never None here
    return value


#: Memory one point of the study needs at most: its coordinates as Python floats and as
#: numpy arrays, the engine's intermediate arrays and the numpy methods' temporaries.
BYTES_PER_POINT = 400


def _check_memory(n: int, flag: str) -> None:
    """Refuse, before any work, ``n`` points that would not fit in memory; ``flag`` is
    the option that asked for them (``--sizes``, ``--n``), named in the message."""
    from geograd.fileio import available_memory, size_text

    have = available_memory()
    need = n * BYTES_PER_POINT
    if have is not None and need > have:
        raise InputError(
            f"{flag}: {n:,} points would need about {size_text(need)} of memory "
            f"({BYTES_PER_POINT} bytes a point), but {size_text(have)} is available; "
            f"give {flag} up to about {have // BYTES_PER_POINT:,}"
        )
