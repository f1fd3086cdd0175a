"""The typer app: ``geograd solve|compare|check PROBLEM``, ``geograd problems|optimizers|plot``.

Errors never escape as tracebacks: :class:`GeogradGroup` runs click with
``standalone_mode=False`` and turns every failure into one line on stderr and an
exit code (see :mod:`geograd.cli.errors`). The same path serves the installed
script, ``python -m geograd`` and typer's ``CliRunner`` (which calls
``main`` on the command built from :data:`app`).

Start-up stays light: the top level imports typer and this package only;
problems and optimizers are imported when a command needs them, numpy and scipy
only by the problem methods that use them.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from . import errors
from .check import check_options, run_check
from .params import Command, Kind, problem_group, quick_help
from .plotting import OptAnimate, OptFps, OptFrames, OptPlot
from .solve import compare_options, run_compare, run_solve, solve_options


class _State:
    debug = False


STATE = _State()


class GeogradGroup(TyperGroup):
    """The top-level group: click in non-standalone mode, errors as one line."""

    def get_help_option(self, ctx: Any) -> Any:
        return quick_help(super().get_help_option(ctx))

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        STATE.debug = os.environ.get("GEOGRAD_DEBUG", "").strip() not in ("", "0")
        argv = list(sys.argv[1:] if args is None else args)
        if "--debug" in argv:
            # --debug works anywhere on the line, not only before the command.
            STATE.debug = True
            argv = [a for a in argv if a != "--debug"]
        try:
            rv = super().main(
                args=argv,
                prog_name=prog_name or errors.PROG,
                complete_var=complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
            code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
        except typer.Abort:
            sys.stderr.write(f"{errors.PROG}: aborted\n")
            code = errors.EXIT_UNEXPECTED
        except (Exception, KeyboardInterrupt) as exc:
            code = errors.report(exc, STATE.debug)
        with contextlib.suppress(BrokenPipeError, ValueError):
            sys.stdout.flush()
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="geograd",
    cls=GeogradGroup,
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    help="Solve geometric problems by gradient descent with a standard-library autograd "
    "engine, and check the answers against exact references and scipy.",
    epilog="Exit codes: 0 done, 1 finding (diverged, check mismatch) or unexpected error, "
    "2 bad input, 130 interrupted.",
)


def _version(value: bool) -> None:
    if value:
        from geograd import __version__

        typer.echo(f"geograd {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _main(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show the traceback of an unexpected error."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_version
        ),
    ] = False,
) -> None:
    STATE.debug = STATE.debug or debug
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


# ----------------------------------------------------------------- commands with a problem

SOLVE = Kind(
    name="solve",
    help="Solve a problem by gradient descent and compare the answer with its reference.",
    command_help="Solve {name}: {description}. Defaults solve well; each solver flag "
    "replaces one of the problem's tuned settings.",
    template=solve_options,
    run=run_solve,
)
COMPARE = Kind(
    name="compare",
    help="Run several optimizers, the scipy baselines and the reference side by side.",
    command_help="Compare on {name}: {description}. Objective, gap and distance to the "
    "reference, iterations, evaluations and time of each method.",
    template=compare_options,
    run=run_compare,
)
CHECK = Kind(
    name="check",
    help="Check a problem's gradient: autograd vs closed form vs finite differences.",
    command_help="Check {name}: {description}. Exit code 1 on a mismatch.",
    template=check_options,
    run=run_check,
)

for _kind in (SOLVE, COMPARE, CHECK):
    app.add_typer(typer.Typer(), name=_kind.name, cls=problem_group(_kind), help=_kind.help)


# --------------------------------------------------------------------------- listings

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("problems", cls=Command)
def problems_command(json_output: JsonFlag = False) -> None:
    """List the registered problems with their options."""
    from geograd.problems import available_problems

    from . import report
    from .params import metavar

    rows: list[dict[str, Any]] = []
    for name, entry in available_problems().items():
        try:
            cls = entry.load()
        except Exception as exc:  # a broken plugin must not break the listing
            rows.append(
                {
                    "name": name,
                    "description": f"(cannot be loaded: {errors.one_line(str(exc))})",
                    "options": [],
                }
            )
            continue
        options = []
        for opt in cls.options:
            d = opt.to_dict()
            d["metavar"] = metavar(opt)
            options.append(d)
        rows.append({"name": name, "description": cls.description, "options": options})
    if json_output:
        report.print_json({"problems": rows})
    else:
        report.print_problems(rows)


@app.command("optimizers", cls=Command)
def optimizers_command(json_output: JsonFlag = False) -> None:
    """List the registered optimizers, their options, and the learning-rate schedules."""
    from geograd.optim.registry import available_optimizers, get_optimizer

    from . import report
    from .output import strict
    from .settings import SCHEDULE_DEFAULTS

    rows: list[dict[str, Any]] = []
    for name, description in available_optimizers().items():
        options: dict[str, Any] = {}
        try:
            sig = inspect.signature(get_optimizer(name).__init__)
        except Exception:  # listed with its error by available_optimizers
            sig = None
        if sig is not None:
            for pname, p in sig.parameters.items():
                if pname in ("self", "params") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    continue
                options[pname] = None if p.default is p.empty else p.default
        rows.append({"name": name, "description": description, "options": options})
    if json_output:
        report.print_json({"optimizers": strict(rows), "schedules": SCHEDULE_DEFAULTS})
    else:
        report.print_optimizers(rows, SCHEDULE_DEFAULTS)


@app.command("plot", cls=Command)
def plot_command(
    result: Annotated[
        Path,
        typer.Argument(
            metavar="RESULT.json",
            help="A result saved by 'geograd solve/compare PROBLEM ... --out FILE'.",
            show_default=False,
        ),
    ],
    plot: OptPlot = None,
    animate: OptAnimate = None,
    fps: OptFps = None,
    frames: OptFrames = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing but errors; no progress bar.")
    ] = False,
) -> None:
    """Redraw a saved solve or compare result: --plot FILE and/or --animate FILE."""
    from .plotting import run_plot

    run_plot(result, plot=plot, animate=animate, fps=fps, frames=frames, quiet=quiet)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and exit with its code."""
    command = typer.main.get_command(app)
    command.main(args=list(argv) if argv is not None else None, prog_name=errors.PROG)
