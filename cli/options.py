"""What the commands accept: every option's declaration, and the templates whose
signatures are the options of ``geograd solve|compare|check PROBLEM``.

Kept apart from the modules that run the commands (:mod:`.solve`, :mod:`.check`,
:mod:`.plotting`), so that building the command line -- all that ``geograd --help``
does -- imports typer and nothing else: the work and its reports are imported when
a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SOLVER = "Solver options"
OUTPUT = "Output options"
CHECK = "Check options"
PLOT = "Plot options"
DASK = "Dask options"
DEFAULT_FPS = 20.0
DEFAULT_FRAMES = 200
MAX_FPS = 100.0
#: The h-sweep is drawn at up to this many of the check points.
SWEEP_POINTS = 3


# ------------------------------------------------------------------ shared option types

OptX0 = Annotated[
    str | None,
    typer.Option(
        "--x0",
        metavar="A,B,...",
        help="Initial point: dim comma-separated numbers (default: the problem's choice).",
        rich_help_panel=SOLVER,
    ),
]
OptSteps = Annotated[
    str | None,
    typer.Option(
        "--steps",
        metavar="N",
        help="Maximum number of optimizer steps (default: the problem's budget).",
        rich_help_panel=SOLVER,
    ),
]
OptJson = Annotated[
    bool,
    typer.Option(
        "--json", help="Print one JSON object instead of the summary.", rich_help_panel=OUTPUT
    ),
]
OptOut = Annotated[
    Path | None,
    typer.Option(
        "--out",
        metavar="FILE",
        help="Save the full result, with its history, as JSON (written atomically).",
        rich_help_panel=OUTPUT,
    ),
]
OptBackend = Annotated[
    str,
    typer.Option(
        "--backend",
        metavar="NAME",
        help="Array backend of the problem's data: python (the standard library), numpy, "
        "dask (chunked data on a dask cluster, local or --scheduler's; median only), "
        "or auto (numpy where it is installed and the data have at least 10,000 points; "
        "the results agree to rounding: numpy sums in another order, so the last digits "
        "and, near a tolerance, the step count may differ).",
        rich_help_panel=SOLVER,
    ),
]
OptScheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="With --backend dask: use the running dask cluster whose scheduler is at "
        "ADDRESS (tcp://host:8786) instead of starting a local one.",
        rich_help_panel=DASK,
    ),
]
OptChunkSize = Annotated[
    str | None,
    typer.Option(
        "--chunk-size",
        metavar="N",
        help="With --backend dask: points per chunk (default 1048576).",
        rich_help_panel=DASK,
    ),
]
OptWorkers = Annotated[
    str | None,
    typer.Option(
        "--workers",
        metavar="N",
        help="With --backend dask: worker processes of the local cluster, one thread each "
        "(default: one per core).",
        rich_help_panel=DASK,
    ),
]
OptMemoryLimit = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        metavar="SIZE",
        help="With --backend dask: memory limit of each local worker, such as 1GiB or "
        "500MB (default: the machine's memory shared among the workers).",
        rich_help_panel=DASK,
    ),
]
OptQuiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print nothing but errors (and the --json object when asked); no progress bar.",
        rich_help_panel=OUTPUT,
    ),
]


OptPlot = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        metavar="FILE",
        help="Save a figure (.png, .svg or .pdf): the path of the iterates on the problem's "
        "picture beside the objective gap and the gradient norm.",
        rich_help_panel=PLOT,
    ),
]
OptAnimate = Annotated[
    Path | None,
    typer.Option(
        "--animate",
        metavar="FILE",
        help="Save an animation (.gif, or .mp4 with ffmpeg) of the run step by step.",
        rich_help_panel=PLOT,
    ),
]
OptFps = Annotated[
    str | None,
    typer.Option(
        "--fps",
        metavar="FPS",
        help=f"Animation frames per second, in (0, {MAX_FPS:g}]; default {DEFAULT_FPS:g}. "
        "A short run is slowed to play for at least 3 s, and its final state is held "
        "1.5 s at the end.",
        rich_help_panel=PLOT,
    ),
]
OptFrames = Annotated[
    str | None,
    typer.Option(
        "--frames",
        metavar="N",
        help=f"At most N animation frames (>= 2; longer runs are subsampled); "
        f"default {DEFAULT_FRAMES}.",
        rich_help_panel=PLOT,
    ),
]
OptHSweep = Annotated[
    Path | None,
    typer.Option(
        "--h-sweep",
        metavar="FILE",
        help="Save a figure (.png, .svg or .pdf) of the finite-difference error against "
        "the step h beside the autograd gradient's error, at up to "
        f"{SWEEP_POINTS} of the check points (--at points first).",
        rich_help_panel=PLOT,
    ),
]


# ------------------------------------------------------------ the commands' templates


def solve_options(
    optimizer: Annotated[
        str | None,
        typer.Option(
            "--optimizer",
            metavar="NAME",
            help="Optimizer (see 'geograd optimizers'); default: the problem's choice, "
            "with settings tuned for it.",
            rich_help_panel=SOLVER,
        ),
    ] = None,
    lr: Annotated[
        str | None,
        typer.Option(
            "--lr",
            metavar="LR",
            help="Learning rate, > 0 (gd: the line search's first trial step); "
            "default: tuned by the problem.",
            rich_help_panel=SOLVER,
        ),
    ] = None,
    steps: OptSteps = None,
    tol: Annotated[
        str | None,
        typer.Option(
            "--tol",
            metavar="TOL",
            help="Stop when the gradient norm is at most TOL (gtol); default: the problem's.",
            rich_help_panel=SOLVER,
        ),
    ] = None,
    x0: OptX0 = None,
    backend: OptBackend = "auto",
    scheduler: OptScheduler = None,
    chunk_size: OptChunkSize = None,
    workers: OptWorkers = None,
    memory_limit: OptMemoryLimit = None,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="median --points FILE only: estimate the median in one pass over the file, "
            "a chunk at a time (averaged stochastic gradient; memory of one chunk).",
            rich_help_panel=SOLVER,
        ),
    ] = False,
    stream_check: Annotated[
        bool,
        typer.Option(
            "--stream-check",
            help="With --stream: then compute the exact median (more passes over the data) "
            "and report the estimate's distance from it.",
            rich_help_panel=SOLVER,
        ),
    ] = False,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            metavar="NAME",
            help="Learning-rate schedule, NAME or NAME:key=value,...: none, constant, step, "
            "exponential, cosine, inverse_sqrt, inverse_time, warmup (see 'geograd optimizers').",
            rich_help_panel=SOLVER,
        ),
    ] = None,
    json_output: OptJson = False,
    out: OptOut = None,
    quiet: OptQuiet = False,
    plot: OptPlot = None,
    animate: OptAnimate = None,
    fps: OptFps = None,
    frames: OptFrames = None,
) -> None:
    """The options of ``geograd solve PROBLEM`` (the signature is what matters)."""


def compare_options(
    optimizers: Annotated[
        str | None,
        typer.Option(
            "--optimizers",
            metavar="A,B,...",
            help="Our optimizers to run, comma-separated, or 'all'; each with the problem's "
            "settings for it (default: the problem's own optimizer, gd, sgd, momentum, adam, "
            "lbfgs, newton).",
            rich_help_panel=SOLVER,
        ),
    ] = None,
    baselines: Annotated[
        str | None,
        typer.Option(
            "--baselines",
            metavar="A,B,...",
            help="scipy.optimize.minimize methods, comma-separated, or 'none' "
            "(default: BFGS, L-BFGS-B, CG, Nelder-Mead).",
            rich_help_panel=SOLVER,
        ),
    ] = None,
    steps: OptSteps = None,
    x0: OptX0 = None,
    backend: OptBackend = "auto",
    scheduler: OptScheduler = None,
    chunk_size: OptChunkSize = None,
    workers: OptWorkers = None,
    memory_limit: OptMemoryLimit = None,
    json_output: OptJson = False,
    out: OptOut = None,
    quiet: OptQuiet = False,
    plot: OptPlot = None,
    animate: OptAnimate = None,
    fps: OptFps = None,
    frames: OptFrames = None,
) -> None:
    """The options of ``geograd compare PROBLEM`` (``--animate`` makes a race of the
    optimizers; ``--plot`` draws all their runs)."""


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
            help="Relative finite-difference step, in [2.2e-16, 1): h = H max(s_i, |x_i|), "
            "s_i the parameter's scale (the data's extent for a length, 1 for an angle).",
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
