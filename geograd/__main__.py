"""``python -m geograd`` and the ``geograd`` console script."""

from __future__ import annotations


def main() -> None:
    """Run the geograd command-line tool."""
    from geograd.cli import run

    run()


if __name__ == "__main__":
    main()
