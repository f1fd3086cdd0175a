"""How the CLI ends on an error: one line on stderr and an exit code, never a traceback.

===========  ===============================================================
exit code    meaning
===========  ===============================================================
0            done; for ``solve``: converged and, where there is a reference,
             matching it
1            a finding, not a failure of the tool: a solve that diverged, did
             not converge (max_steps, time limit, stalled), does not match its
             reference or ended worse than it started; ``check`` found a
             gradient mismatch
2            bad input: a usage error, an unknown problem, optimizer or
             command, a bad value, a missing or malformed file — anything
             reported as a :class:`~geograd.errors.GeogradError`
             — and standard output that cannot be written: closed
             (``>&-``), or on a full disk (``> /dev/full``)
130          interrupted: Ctrl-C, or SIGTERM, which is handled exactly as
             Ctrl-C is (a solve keeps its best iterate, prints and saves it);
             one code for both, as the README documents
3            an unexpected error: a bug (``--debug`` shows its traceback);
             apart from 1 so that a script never mistakes a crash for a finding
141          standard output's reader went away (a broken pipe, as in
             ``geograd ... | head -1``): 128 + SIGPIPE, what the shell reports
             for a program the pipe ended
===========  ===============================================================

Every message is ``geograd: error: <what and where>; <what to do>``, folded to
one line.
"""

from __future__ import annotations

import errno
import sys
import traceback
from typing import Any

from typer import TyperException

from geograd.errors import GeogradError

PROG = "geograd"
EXIT_OK = 0
EXIT_FINDING = 1
EXIT_UNEXPECTED = 3
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class Interrupted(Exception):
    """Ctrl-C outside a solve loop (which handles it itself): reported as one line, 130."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised by the CLI's handler. A KeyboardInterrupt, so that everything
    that keeps a run on Ctrl-C (``minimize`` returning the best so far, the result
    still printed and saved) keeps it on SIGTERM too; the exit code is 130 as well."""

    #: How reports name it (``minimize``'s message reads this attribute).
    signal_name = "SIGTERM"


class OutputError(GeogradError):
    """Standard output could not be written: closed, its reader gone, or the disk full."""

    def __init__(self, code: int | None, reason: str) -> None:
        self.errno = code
        if code == errno.EPIPE:
            text = (
                f"standard output was closed by its reader before all was written ({reason}); "
                "the output is incomplete"
            )
        elif code == errno.EBADF:
            text = (
                f"cannot write to standard output: it is closed ({reason}); "
                "redirect it to a file or to /dev/null instead of closing it"
            )
        else:
            text = (
                f"cannot write to standard output ({reason}); the output is lost, "
                "free some space or redirect it elsewhere"
            )
        super().__init__(text)

    @property
    def exit_code(self) -> int:
        return EXIT_BROKEN_PIPE if self.errno == errno.EPIPE else EXIT_INPUT


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) folded to one space."""
    return " ".join(str(text).split())


def _lower_first(text: str) -> str:
    # "No such option" -> "no such option", but leave "NaN", "BFGS", "L-BFGS-B" alone.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def describe(exc: BaseException, terminated: bool = False) -> tuple[str, int]:
    """The one-line message (without the ``geograd: `` prefix) and the exit code for ``exc``;
    ``terminated``: a SIGTERM was received (an interruption is then reported as such)."""
    if isinstance(exc, TyperException):
        # click's usage errors (typer's vendored click): bad flag, bad value, no such command.
        message = _lower_first(one_line(exc.format_message())).rstrip(".")
        ctx: Any = getattr(exc, "ctx", None)
        if ctx is not None:
            path = ctx.command_path
            where = path.partition(" ")[2]
            prefix = f"{where}: " if where else ""
            return f"error: {prefix}{message} (see '{path} --help')", EXIT_INPUT
        return f"error: {message}", EXIT_INPUT
    if isinstance(exc, OutputError):
        return f"error: {one_line(str(exc))}", exc.exit_code
    if isinstance(exc, GeogradError):
        return f"error: {one_line(str(exc))}", EXIT_INPUT
    if isinstance(exc, Terminated) or (
        terminated and isinstance(exc, (Interrupted, KeyboardInterrupt))
    ):
        return "terminated (SIGTERM)", EXIT_INTERRUPTED
    if isinstance(exc, (Interrupted, KeyboardInterrupt)):
        return "interrupted", EXIT_INTERRUPTED
    detail = one_line(str(exc))
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return (
        f"error: unexpected {what} (run 'geograd --debug ...' for the traceback, "
        "and please report it)",
        EXIT_UNEXPECTED,
    )


def report(exc: BaseException, debug: bool = False, terminated: bool = False) -> int:
    """Print ``exc`` as one line on stderr (after its traceback when ``debug``); the exit code."""
    message, code = describe(exc, terminated)
    # A closed or broken stderr must not turn one error into a traceback.
    try:
        if debug and not isinstance(exc, TyperException):
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        sys.stderr.write(f"{PROG}: {message}\n")
        sys.stderr.flush()
    except (OSError, AttributeError, ValueError):
        pass
    return code
