"""The geograd command-line tool (imported as ``geograd.cli``)."""

from __future__ import annotations

import sys


def run() -> None:
    """Entry point of the ``geograd`` script (the typer app arrives with the CLI issue)."""
    sys.stderr.write("geograd: the command-line tool is not there yet; use the Python API.\n")
    raise SystemExit(2)
