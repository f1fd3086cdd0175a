"""geograd's one exception hierarchy.

Every error geograd raises on purpose derives from :class:`GeogradError`, and
also from the built-in exception a Python user would expect (``ValueError`` for
a bad value, ``ZeroDivisionError`` for a division by zero, ...), so both
``except GeogradError`` and ``except ValueError`` work. The CLI turns any
``GeogradError`` into one line on stderr and exit code 2.
"""

from __future__ import annotations


class GeogradError(Exception):
    """Base class of every error geograd raises on purpose."""


class InputError(GeogradError, ValueError):
    """Something the user supplied is wrong: an option, a file, a name, a value."""


class ShapeError(GeogradError, ValueError):
    """Operands whose shapes do not fit together (1-D operands of unequal length, ...)."""


class DomainError(GeogradError, ValueError):
    """A function evaluated outside its domain, e.g. ``log(-1.0)`` or ``sqrt(-2.0)``."""


class DivisionByZeroError(DomainError, ZeroDivisionError):
    """A division by exactly zero."""


class FloatOverflowError(GeogradError, OverflowError):
    """A math function whose result does not fit in a float64, e.g. ``exp(1000.0)``."""
