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


class NaNError(DomainError):
    """A NaN would reach a value the user can read.

    NaN comes only from IEEE arithmetic on infinities (``inf - inf``, ``0 * inf``)
    inside a 1-D array; it is refused when such a value is read, written to
    ``.grad``, compared, reduced to a number, or stepped into a parameter.
    """


class DivergenceError(DomainError):
    """An optimizer step would make a parameter or its state infinite or NaN.

    The step is refused before anything is written, so the parameters and the
    optimizer's state keep their last (finite) values. :func:`geograd.minimize`
    turns it into the stopping reason ``diverged``.
    """


class BackendError(GeogradError, TypeError):
    """Operands that live in different array backends, or a value no backend can hold.

    Two 1-D operands of one operation must come from the same backend (the standard
    library's FloatArray, numpy, another Array API namespace); a 0-D operand (a float,
    a 0-D tensor) broadcasts against any of them. The message names both backends.
    """
