"""The geograd command-line tool (imported as ``geograd.cli``).

``geograd solve PROBLEM``, ``geograd compare PROBLEM``, ``geograd check PROBLEM``,
``geograd problems``, ``geograd optimizers``; ``geograd --help`` for the rest.
The typer app is :data:`geograd.cli.app.app`; :func:`run` is the entry point of
the ``geograd`` script and of ``python -m geograd``.
"""

from __future__ import annotations

from collections.abc import Sequence


def run(argv: Sequence[str] | None = None) -> None:
    """Run the CLI on ``argv`` (default: the command line) and exit with its code."""
    from .app import main

    main(argv)


__all__ = ["run"]
