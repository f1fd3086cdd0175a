"""How the CLI ends on an error: one line on stderr and an exit code, never a traceback.

===========  ===============================================================
exit code    meaning
===========  ===============================================================
0            done (a solve that stopped at max_steps or the time limit too)
1            a finding, not a failure of the tool: a solve that diverged,
             ``check`` found a gradient mismatch; or an unexpected error
             (with ``--debug`` its traceback is shown)
2            bad input: a usage error, an unknown problem, optimizer or
             command, a bad value, a missing or malformed file — anything
             reported as a :class:`~geograd.errors.GeogradError`
130          interrupted (Ctrl-C); a solve still prints and saves its result
===========  ===============================================================

Every message is ``geograd: error: <what and where>; <what to do>``, folded to
one line.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

from typer import TyperException

from geograd.errors import GeogradError

PROG = "geograd"
EXIT_OK = 0
EXIT_FINDING = 1
EXIT_UNEXPECTED = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


class Interrupted(Exception):
    """Ctrl-C outside a solve loop (which handles it itself): reported as one line, 130."""


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) folded to one space."""
    return " ".join(str(text).split())


def _lower_first(text: str) -> str:
    # "No such option" -> "no such option", but leave "NaN", "BFGS", "L-BFGS-B" alone.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def describe(exc: BaseException) -> tuple[str, int]:
    """The one-line message (without the ``geograd: `` prefix) and the exit code for ``exc``."""
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
    if isinstance(exc, GeogradError):
        return f"error: {one_line(str(exc))}", EXIT_INPUT
    if isinstance(exc, (Interrupted, KeyboardInterrupt)):
        return "interrupted", EXIT_INTERRUPTED
    detail = one_line(str(exc))
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return (
        f"error: unexpected {what} (run 'geograd --debug ...' for the traceback, "
        "and please report it)",
        EXIT_UNEXPECTED,
    )


def report(exc: BaseException, debug: bool = False) -> int:
    """Print ``exc`` as one line on stderr (after its traceback when ``debug``); the exit code."""
    if debug and not isinstance(exc, TyperException):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    message, code = describe(exc)
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()
    return code
