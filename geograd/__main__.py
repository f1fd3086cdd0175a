"""``python -m geograd`` and the ``geograd`` console script."""

from __future__ import annotations

import importlib
import signal
import sys
from typing import Any

#: The exit code of an interrupted run (the CLI's own, documented in ``geograd --help``).
EXIT_INTERRUPTED = 130


class _StartupTerminated(KeyboardInterrupt):
    """SIGTERM while the CLI is still being imported."""


def _terminated(signum: int, frame: Any) -> None:
    raise _StartupTerminated()


def main() -> None:
    """Run the geograd command-line tool.

    Importing the CLI (typer, click, rich) takes a noticeable moment; Ctrl-C or SIGTERM
    then would otherwise end in a traceback (Ctrl-C) or a silent exit 143 (SIGTERM).
    Both are one line and exit 130, as an interrupt at any later moment is: nothing has
    been read or written yet. From the command's start the CLI handles them itself.
    """
    sigterm = getattr(signal, "SIGTERM", None)
    ours = sigterm is not None and signal.getsignal(sigterm) == signal.SIG_DFL
    try:
        if ours:
            signal.signal(sigterm, _terminated)  # type: ignore[arg-type]
        try:
            # the long part (typer, click, rich), under this handler
            importlib.import_module("geograd.cli.app")
            from geograd.cli import run
        finally:
            if ours:  # the CLI installs its own handler where SIGTERM has its default
                signal.signal(sigterm, signal.SIG_DFL)  # type: ignore[arg-type]
        # the app handles an interrupt from its command's start; one before that (while
        # it builds its click command) is a startup one too
        run()
    except KeyboardInterrupt as exc:
        how = "SIGTERM" if isinstance(exc, _StartupTerminated) else "Ctrl-C"
        sys.stderr.write(f"geograd: interrupted ({how}) while starting; nothing was done\n")
        raise SystemExit(EXIT_INTERRUPTED) from None


if __name__ == "__main__":
    main()
