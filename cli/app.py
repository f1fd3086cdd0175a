"""The typer app: ``geograd solve|compare|check PROBLEM``, ``geograd problems|optimizers|plot``.

Errors never escape as tracebacks: :class:`GeogradGroup` runs click with
``standalone_mode=False`` and turns every failure into one line on stderr and an
exit code (see :mod:`geograd.cli.errors`). The same path serves the installed
script, ``python -m geograd`` and typer's ``CliRunner`` (which calls
``main`` on the command built from :data:`app`).

Start-up stays light: building the command line imports typer, the option
declarations (:mod:`.options`) and this module's helpers only; the modules that run
a command (:mod:`.solve`, :mod:`.check`, :mod:`.plotting`, their reports) are
imported when it runs, problems and optimizers when a command needs them, numpy and
scipy only by the problem methods that use them. Help is click's plain text, not
rich's (``rich_markup_mode=None``, see :mod:`.params`): ``geograd --help`` imports
neither rich nor any problem (``tests/test_import_cost.py``).

While a command runs (in the main thread):

- SIGTERM is handled as Ctrl-C is: it raises :class:`~geograd.cli.errors.Terminated`,
  a KeyboardInterrupt, so that a solve keeps its best iterate and still prints and
  saves it, and the exit code is 130 too. (Only when SIGTERM has its default
  disposition: a program that embeds the CLI keeps its own handler.)
- Standard output that cannot be written (closed with ``>&-``, a pipe whose reader
  is gone, ``> /dev/full``) does not stop the command, which still saves ``--out``
  and draws its pictures: the first failure is recorded (:class:`_Stdout`), later
  output dropped, and the CLI ends with one line and exit code 2 (141 for a broken
  pipe) unless the command had an exit code of its own. Python's own flush at exit
  then writes to /dev/null, so no "Exception ignored" follows.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import io
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from . import errors
from .bench import bench_command
from .options import (
    OptAnimate,
    OptFps,
    OptFrames,
    OptPlot,
    check_options,
    compare_options,
    solve_options,
)
from .params import HELP_SETTINGS, Command, Kind, format_commands, problem_group, quick_help


class _State:
    debug = False
    terminated = False  # a SIGTERM arrived during this command


STATE = _State()


class _Stdout:
    """``sys.stdout`` while a command runs: writes go to ``stream`` (None when the
    process started with stdout closed) until one fails; that failure is kept in
    :attr:`failure` and every later write is dropped, so that the command carries on
    to save what it computed. Everything else is the stream's own."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.failure: OSError | None = None

    def _fail(self, exc: OSError | None = None) -> None:
        if self.failure is None:
            self.failure = exc or OSError(errno.EBADF, os.strerror(errno.EBADF))

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # as a text stream would (click probes with b"")
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self.failure is None:
            if self.stream is None:
                self._fail()
            else:
                try:
                    return int(self.stream.write(text))
                except OSError as exc:
                    self._fail(exc)
                except ValueError:  # "I/O operation on closed file"
                    self._fail()
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.failure is None and self.stream is not None:
            try:
                self.stream.flush()
            except OSError as exc:
                self._fail(exc)
            except ValueError:
                self._fail()

    def isatty(self) -> bool:
        try:
            return self.stream is not None and bool(self.stream.isatty())
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        if self.stream is None:
            raise io.UnsupportedOperation("fileno: standard output is closed")
        return int(self.stream.fileno())

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:
        return getattr(self.stream, "errors", None) or "strict"

    def __getattr__(self, name: str) -> Any:
        if self.stream is None:
            raise AttributeError(name)
        return getattr(self.stream, name)


def _to_devnull(stream: Any) -> None:
    """Point ``stream``'s file descriptor at /dev/null, so that what is still buffered
    for it (flushed by Python at exit) goes nowhere instead of failing again."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def _stdout_failed(failure: OSError, real: Any, code: int) -> int:
    """Report a failed standard output in one line; the exit code to end with."""
    reason = failure.strerror or type(failure).__name__
    own = errors.report(errors.OutputError(failure.errno, reason))
    _to_devnull(real)
    return code if code != errors.EXIT_OK else own


def _on_sigterm(signum: int, frame: Any) -> None:
    STATE.terminated = True
    raise errors.Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises :class:`errors.Terminated` inside the block (see the module
    docstring); outside it, it has its default disposition again."""
    sigterm = getattr(signal, "SIGTERM", None)
    if (
        sigterm is None
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(sigterm) != signal.SIG_DFL
    ):
        yield
        return
    signal.signal(sigterm, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(sigterm, signal.SIG_DFL)


class GeogradGroup(TyperGroup):
    """The top-level group: click in non-standalone mode, errors as one line."""

    def get_help_option(self, ctx: Any) -> Any:
        return quick_help(super().get_help_option(ctx))

    # typer turns a Ctrl-C that lands while the group parses or dispatches (before the
    # command's own invoke, which reports it) into a silent exit 130; ours says so.
    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            raise errors.Interrupted() from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise errors.Interrupted() from None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        format_commands(self, ctx, formatter)

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
        STATE.terminated = False
        argv = list(sys.argv[1:] if args is None else args)
        if "--debug" in argv:
            # --debug works anywhere on the line, not only before the command.
            STATE.debug = True
            argv = [a for a in argv if a != "--debug"]
        real_stdout = sys.stdout
        stdout = _Stdout(real_stdout)
        sys.stdout = stdout
        failure: BaseException | None = None
        try:
            with _sigterm_as_interrupt():
                rv = super().main(
                    args=argv,
                    prog_name=prog_name or errors.PROG,
                    complete_var=complete_var,
                    standalone_mode=False,
                    windows_expand_args=windows_expand_args,
                    **extra,
                )
                stdout.flush()  # here, so that a full disk is seen now, not at exit
            code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
        except typer.Abort:
            sys.stderr.write(f"{errors.PROG}: aborted\n")
            code = errors.EXIT_UNEXPECTED
        except (Exception, KeyboardInterrupt) as exc:
            # (a SIGTERM just after the command is here too: the handler is still set)
            failure = exc
            code = errors.EXIT_UNEXPECTED
        finally:
            sys.stdout = real_stdout
        if failure is not None:
            code = errors.report(failure, STATE.debug, STATE.terminated)
        if stdout.failure is not None:
            code = _stdout_failed(stdout.failure, real_stdout, code)
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="geograd",
    cls=GeogradGroup,
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    **HELP_SETTINGS,
    help="Solve geometric problems by gradient descent with a standard-library autograd "
    "engine, and check the answers against exact references and scipy.",
    epilog="Exit codes: 0 done (solve: converged and matching the reference), 1 finding "
    "(diverged, not converged, not matching, worse than the start, check mismatch), "
    "2 bad input (or an unwritable standard output), 3 unexpected error, "
    "130 interrupted (Ctrl-C or SIGTERM), 141 broken pipe.",
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
# What runs a command is imported when it runs (see the module docstring).


def run_solve(*args: Any, **kwargs: Any) -> None:
    from .solve import run_solve

    run_solve(*args, **kwargs)


def run_compare(*args: Any, **kwargs: Any) -> None:
    from .solve import run_compare

    run_compare(*args, **kwargs)


def run_check(*args: Any, **kwargs: Any) -> None:
    from .check import run_check

    run_check(*args, **kwargs)


def solve_help_defaults(cls: Any) -> dict[str, str]:
    from .solve import solve_help_defaults

    return solve_help_defaults(cls)


SOLVE = Kind(
    name="solve",
    help="Solve a problem by gradient descent and compare the answer with its reference.",
    command_help="Solve {name}: {description}. Defaults solve well; each solver flag "
    "replaces one of the problem's tuned settings.",
    template=solve_options,
    run=run_solve,
    help_defaults=solve_help_defaults,
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
    app.add_typer(
        typer.Typer(**HELP_SETTINGS), name=_kind.name, cls=problem_group(_kind), help=_kind.help
    )


# --------------------------------------------------------------------------- listings

app.command("bench", cls=Command)(bench_command)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("problems", cls=Command)
def problems_command(json_output: JsonFlag = False) -> None:
    """List the registered problems with their options."""
    from geograd.problems import available_problems

    from . import report
    from .params import metavar

    rows: list[dict[str, Any]] = []
    for name, entry in available_problems().items():
        if entry.error is not None:  # a broken plugin must not break the listing
            rows.append(
                {"name": name, "description": f"(cannot be loaded: {entry.error})", "options": []}
            )
            continue
        cls = entry.load()
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


@app.command("grad", cls=Command)
def grad_command(
    expression: Annotated[
        str,
        typer.Argument(
            metavar="EXPR",
            help="An expression in the variables of --at: numbers, + - * / **, and the "
            "engine's functions (sqrt, log, exp, tanh, ...). Nothing else is accepted; "
            "it is parsed, never run as Python. One that starts with '-' goes last, after "
            "'--': --at p=3 -- -p**2.",
            show_default=False,
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="NAME=VALUE,...", help="The variables and their values."),
    ] = None,
    hessian: Annotated[
        bool, typer.Option("--hessian", help="Also print the Hessian (second derivatives).")
    ] = False,
    graph: Annotated[
        Path | None,
        typer.Option(
            "--graph",
            metavar="FILE",
            help="Draw the graph with values and gradients (.png/.svg/.pdf; .dot: DOT text).",
        ),
    ] = None,
    trace: Annotated[
        bool,
        typer.Option(
            "--trace",
            help="Print the backward pass node by node, in reverse topological order.",
        ),
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Differentiate an expression: its value, gradient (and Hessian) at a point."""
    from .grad import run_grad

    run_grad(
        expression, at, hessian=hessian, graph_file=graph, trace=trace, json_output=json_output
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and exit with its code."""
    command = typer.main.get_command(app)
    command.main(args=list(argv) if argv is not None else None, prog_name=errors.PROG)
