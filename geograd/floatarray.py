"""Layer 1: the standard-library 1-D float64 array, and the math the engine needs on it.

A value the engine computes with (its ``Data``) is either a Python ``float``
(0-D) or a :class:`FloatArray` (1-D). Every function here takes either and
broadcasts a float against an array, so the layers above never branch on shape.
This module knows nothing about gradients.

Storage is a plain ``list`` of floats. Measured on this project's machine at
n = 100,000 (``python -m geograd.bench --storage``): ``list(map(operator.sub, a,
b))`` takes 2.3 ms on lists against 4.2 ms on ``array.array('d')``, because an
``array.array`` boxes a new float object on every read; ``array.array`` uses 4x
less memory (8 bytes an element against 32), which matters less than speed below
a few million points. Everything that touches storage lives in this module, so a
second backend (numpy, the Array API) is one more module with the same functions.

Errors: a function evaluated outside its domain raises
:class:`~geograd.errors.DomainError` naming the function, the value and its
index; a result too large for float64 (``exp(710.0)``, ``pow(10.0, 400.0)``)
raises :class:`~geograd.errors.FloatOverflowError`, and so does a sum that
overflows. The arithmetic operators ``+ - * /`` follow IEEE-754 like numpy does
(``1e308 * 10`` is ``inf``); the solve loop stops with reason ``diverged`` when a
loss or gradient is not finite.

No silent NaN: ``to_data`` refuses one, and no function here returns one (they
raise instead). The only way to make a NaN is arithmetic on infinities (``inf -
inf``, ``0 * inf``); a 0-D result like that raises DomainError, and in a 1-D array
it raises when the array is summed (``total``: sum, mean, dot, logsumexp), so never
later than the loss. Testing every entry of every 1-D operation would cost about
15% of the hot path, so the test is made where it costs one comparison.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from typing import TypeAlias, overload

from geograd.errors import DivisionByZeroError, DomainError, FloatOverflowError, ShapeError

Data: TypeAlias = "float | FloatArray"
Index: TypeAlias = "int | slice | Sequence[int]"
Mask: TypeAlias = "bool | list[bool]"


class FloatArray:
    """A 1-D array of float64 values with elementwise arithmetic and float broadcasting."""

    __slots__ = ("_v",)

    def __init__(self, values: Iterable[float] = ()) -> None:
        self._v: list[float] = [float(x) for x in values]

    @classmethod
    def wrap(cls, values: list[float]) -> FloatArray:
        """Adopt ``values`` (a list of floats) without copying or checking it."""
        out = cls.__new__(cls)
        out._v = values
        return out

    def __len__(self) -> int:
        return len(self._v)

    def __iter__(self) -> Iterator[float]:
        return iter(self._v)

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice | Sequence[int]) -> FloatArray: ...
    def __getitem__(self, index: Index) -> Data:
        return take(self, index)

    def tolist(self) -> list[float]:
        """A new list holding the values."""
        return list(self._v)

    @property
    def shape(self) -> tuple[int]:
        return (len(self._v),)

    def __repr__(self) -> str:
        return f"FloatArray({_preview(self._v)})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FloatArray):
            return self._v == other._v
        if isinstance(other, (list, tuple)):
            return self._v == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable container, like list

    def __neg__(self) -> FloatArray:
        return FloatArray.wrap([-x for x in self._v])

    def __abs__(self) -> FloatArray:
        return FloatArray.wrap(list(map(abs, self._v)))

    def __add__(self, other: Data) -> FloatArray:
        return _as_array(add(self, other))

    def __radd__(self, other: Data) -> FloatArray:
        return _as_array(add(other, self))

    def __sub__(self, other: Data) -> FloatArray:
        return _as_array(sub(self, other))

    def __rsub__(self, other: Data) -> FloatArray:
        return _as_array(sub(other, self))

    def __mul__(self, other: Data) -> FloatArray:
        return _as_array(mul(self, other))

    def __rmul__(self, other: Data) -> FloatArray:
        return _as_array(mul(other, self))

    def __truediv__(self, other: Data) -> FloatArray:
        return _as_array(div(self, other))

    def __rtruediv__(self, other: Data) -> FloatArray:
        return _as_array(div(other, self))

    def __pow__(self, other: Data) -> FloatArray:
        return _as_array(power(self, other))

    def __rpow__(self, other: Data) -> FloatArray:
        return _as_array(power(other, self))


def _as_array(x: Data) -> FloatArray:
    assert isinstance(x, FloatArray)
    return x


def _preview(values: list[float], limit: int = 6) -> str:
    if len(values) <= limit:
        return repr(values)
    head = ", ".join(repr(v) for v in values[: limit // 2])
    tail = ", ".join(repr(v) for v in values[-(limit // 2) :])
    return f"[{head}, ..., {tail}] (n={len(values)})"


def shape_of(x: Data) -> tuple[int, ...]:
    """``()`` for a float, ``(n,)`` for an array of n values."""
    return (len(x._v),) if type(x) is FloatArray else ()


# --------------------------------------------------------------------------- errors

_DOMAIN_HINTS = {
    "log": "log needs a positive argument",
    "sqrt": "sqrt needs a non-negative argument",
    "pow": "a negative base needs an integer exponent and 0 cannot take a negative one",
    "sin": "sin needs a finite argument",
    "cos": "cos needs a finite argument",
    "tan": "tan needs a finite argument",
}


def _locate(
    fn: Callable[..., float], columns: list[Iterable[float]]
) -> tuple[int, tuple[float, ...]]:
    """Find the first position where ``fn`` raises, to name it in the error message."""
    for i, args in enumerate(zip(*columns)):
        try:
            fn(*args)
        except (ValueError, OverflowError, ZeroDivisionError):
            return i, args
    return -1, ()


def _explain(
    name: str, fn: Callable[..., float], args: Sequence[Data], exc: Exception
) -> Exception:
    """Turn a bare ``math domain error`` into one that names the function, value and index."""
    if any(type(a) is FloatArray for a in args):
        index, values = _locate(fn, _columns(args))
        where = f" at index {index}"
    else:
        index, values, where = -1, tuple(float(a) for a in args), ""  # type: ignore[arg-type]
    shown = ", ".join(repr(v) for v in values)
    if isinstance(exc, ZeroDivisionError):
        return DivisionByZeroError(f"{name}: division by zero{where} ({shown})")
    if isinstance(exc, OverflowError):
        return FloatOverflowError(f"{name}({shown}) overflows float64{where}")
    hint = _DOMAIN_HINTS.get(name, "argument outside the function's domain")
    return DomainError(f"{name}({shown}) is undefined{where}: {hint}")


# ------------------------------------------------------------------- elementwise core


def _columns(args: Sequence[Data]) -> list[Iterable[float]]:
    return [a._v if type(a) is FloatArray else repeat(a) for a in args]  # type: ignore[arg-type]


def common_length(name: str, *args: Data) -> int | None:
    """The length shared by the 1-D operands, ``None`` if all are 0-D; else ShapeError."""
    length = None
    for a in args:
        if type(a) is FloatArray:
            if length is None:
                length = len(a._v)
            elif len(a._v) != length:
                shapes = " and ".join(str(shape_of(b)) for b in args)
                raise ShapeError(
                    f"{name}: shapes {shapes} do not match; 1-D operands must have equal "
                    "length (a 0-D operand broadcasts)"
                )
    return length


def unary(fn: Callable[[float], float], name: str) -> Callable[[Data], Data]:
    """Lift a float function to ``Data``, with errors that name ``name``."""

    def apply(x: Data) -> Data:
        try:
            if type(x) is FloatArray:
                return FloatArray.wrap(list(map(fn, x._v)))
            return fn(x)  # type: ignore[arg-type]
        except (ValueError, OverflowError, ZeroDivisionError) as exc:
            raise _explain(name, fn, [x], exc) from None

    apply.__name__ = name
    return apply


def nary(fn: Callable[..., float], name: str) -> Callable[..., Data]:
    """Lift a float function of several arguments to ``Data`` with broadcasting."""

    def apply(*args: Data) -> Data:
        length = common_length(name, *args)
        try:
            if length is not None:
                return FloatArray.wrap(list(map(fn, *_columns(args))))
            out = fn(*args)
        except (ValueError, OverflowError, ZeroDivisionError) as exc:
            raise _explain(name, fn, args, exc) from None
        if out != out:  # free for one float; a 1-D NaN is caught when it is summed
            shown = ", ".join(repr(a) for a in args)
            raise DomainError(f"{name}({shown}) is NaN: arithmetic on infinities has no value")
        return out

    apply.__name__ = name
    return apply


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exact for large |x|, never overflows.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _divide_no_nan(a: float, b: float) -> float:
    return a / b if b != 0.0 else 0.0


def _maximum(a: float, b: float) -> float:
    return a if a >= b else b


def _minimum(a: float, b: float) -> float:
    return a if a <= b else b


add = nary(operator.add, "add")
sub = nary(operator.sub, "sub")
mul = nary(operator.mul, "mul")
div = nary(operator.truediv, "div")
power = nary(math.pow, "pow")  # math.pow raises where ** would return a complex
_divide_no_nan_slow = nary(_divide_no_nan, "divide_no_nan")


def divide_no_nan(a: Data, b: Data) -> Data:
    """a / b, with 0 where b == 0 (the zero subgradient of a distance at zero distance)."""
    try:
        # Zero divisors are rare (an iterate exactly on a data point): try plain division,
        # which is twice as fast as testing every divisor, and redo it only when one occurs.
        return div(a, b)
    except ZeroDivisionError:
        return _divide_no_nan_slow(a, b)


maximum = nary(_maximum, "maximum")
minimum = nary(_minimum, "minimum")
hypot = nary(math.hypot, "norm")  # any number of coordinates; no overflow or underflow

neg = unary(operator.neg, "neg")
absolute = unary(abs, "abs")
sign = unary(_sign, "sign")
exp = unary(math.exp, "exp")
log = unary(math.log, "log")
sqrt = unary(math.sqrt, "sqrt")
sin = unary(math.sin, "sin")
cos = unary(math.cos, "cos")
tan = unary(math.tan, "tan")
tanh = unary(math.tanh, "tanh")
sigmoid = unary(_sigmoid, "sigmoid")
softplus = unary(_softplus, "softplus")


def compare(op: Callable[[float, float], bool], a: Data, b: Data) -> Mask:
    """Elementwise comparison with broadcasting: a bool, or a list of bools."""
    if common_length("compare", a, b) is None:
        return op(a, b)  # type: ignore[arg-type]
    return list(map(op, *_columns([a, b])))


def where(cond: Mask, a: Data, b: Data) -> Data:
    """``a`` where ``cond`` holds, else ``b``; ``cond`` is a bool or a list of bools."""
    if isinstance(cond, bool):
        if common_length("where", a, b) is None:
            return a if cond else b
        cond = [cond] * len(a if type(a) is FloatArray else b)  # type: ignore[arg-type]
    length = common_length("where", FloatArray.wrap([0.0] * len(cond)), a, b)
    assert length is not None
    ia, ib = _columns([a, b])
    return FloatArray.wrap([x if c else y for c, x, y in zip(cond, ia, ib)])


def clip(x: Data, lo: float, hi: float) -> Data:
    """``min(max(x, lo), hi)`` elementwise."""
    if type(x) is FloatArray:
        return FloatArray.wrap([lo if v < lo else (hi if v > hi else v) for v in x._v])
    return lo if x < lo else (hi if x > hi else x)  # type: ignore[operator]


# ------------------------------------------------------------------------- reductions


def total(x: Data) -> float:
    """The correctly rounded sum of the values (``math.fsum``).

    A sum that overflows raises FloatOverflowError; ``inf + -inf`` and a NaN (which
    only arithmetic on infinities can make) raise DomainError, so a NaN never
    reaches a loss silently. Testing the one result costs nothing per element.
    """
    if type(x) is not FloatArray:
        return x  # type: ignore[return-value]
    try:
        s = math.fsum(x._v)
    except OverflowError:
        raise FloatOverflowError("sum: the sum overflows float64") from None
    except ValueError:
        raise DomainError(
            "sum: the values hold both inf and -inf; their sum is undefined"
        ) from None
    if s != s:
        index = next(i for i, v in enumerate(x._v) if v != v)
        raise DomainError(
            f"sum: the value at index {index} is NaN (made by arithmetic on infinities, "
            "such as inf - inf or 0 * inf, after an overflow)"
        )
    return s


#: Block length of :func:`blocked_total` (numpy's pairwise summation stops at 128 too).
BLOCK = 128


def blocked_total(x: Data) -> float:
    """Σ x_i as plain sums of :data:`BLOCK`-term blocks, the block sums added exactly (fsum).

    The error is at most (BLOCK − 1)·ε·Σ|x_i| and typically about √BLOCK·ε·Σ|x_i|,
    the accuracy class of numpy's pairwise summation, at a fifth of ``fsum``'s
    cost (0.45 ms against 2.3 ms for 100,000 terms here). The engine reduces the
    gradient of a broadcast 0-D operand with it, where that accuracy is ample;
    ``sum``, ``mean`` and ``dot``, whose values are losses, stay correctly rounded.
    A result that is not finite is handed to :func:`total`, which says why.
    """
    if type(x) is not FloatArray:
        return x  # type: ignore[return-value]
    v = x._v
    s = math.fsum([sum(v[i : i + BLOCK]) for i in range(0, len(v), BLOCK)])
    return s if math.isfinite(s) else total(x)


def vector_norm(x: Data) -> float:
    """The Euclidean length sqrt(Σ x_i²), without intermediate overflow or underflow."""
    if type(x) is not FloatArray:
        return abs(x)  # type: ignore[return-value]
    try:
        return math.hypot(*x._v)
    except OverflowError:
        raise FloatOverflowError("vector_norm: the length overflows float64") from None


def amax(x: Data) -> float:
    """The largest value."""
    if type(x) is FloatArray:
        if not x._v:
            raise ShapeError("max: the array is empty")
        return max(x._v)
    return x  # type: ignore[return-value]


def amin(x: Data) -> float:
    """The smallest value."""
    if type(x) is FloatArray:
        if not x._v:
            raise ShapeError("min: the array is empty")
        return min(x._v)
    return x  # type: ignore[return-value]


def count(mask: Mask) -> int:
    """How many entries of a mask hold."""
    return int(mask) if isinstance(mask, bool) else sum(mask)


# ------------------------------------------------------------- construction and indexing


def full(n: int, value: float) -> FloatArray:
    """n copies of ``value``."""
    return FloatArray.wrap([float(value)] * n)


def broadcast_to(x: Data, shape: tuple[int, ...]) -> Data:
    """``x`` as a value of ``shape`` (a 0-D value repeated; a 1-D value must match)."""
    if not shape:
        if type(x) is FloatArray:
            raise ShapeError(f"broadcast: cannot broadcast shape {shape_of(x)} to ()")
        return x
    if type(x) is FloatArray:
        if len(x._v) != shape[0]:
            raise ShapeError(f"broadcast: cannot broadcast shape {shape_of(x)} to {shape}")
        return x
    return FloatArray.wrap([x] * shape[0])  # type: ignore[list-item]


def _check_index(i: int, n: int) -> int:
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for shape ({n},)")
    return i + n if i < 0 else i


def take(x: Data, index: Index) -> Data:
    """``x[index]`` for an int (a float), a slice or a list of ints (an array)."""
    if type(x) is not FloatArray:
        raise IndexError("a 0-D value cannot be indexed")
    v = x._v
    if isinstance(index, int):
        return v[_check_index(index, len(v))]
    if isinstance(index, slice):
        return FloatArray.wrap(v[index])
    n = len(v)
    return FloatArray.wrap([v[_check_index(int(i), n)] for i in index])


def scatter(g: Data, index: Index, n: int) -> FloatArray:
    """The adjoint of :func:`take`: zeros of length n with ``g`` added at ``index``."""
    out = [0.0] * n
    if isinstance(index, int):
        out[_check_index(index, n)] += g  # type: ignore[assignment]
    elif isinstance(index, slice):
        for i, gi in zip(range(*index.indices(n)), _columns([g])[0]):
            out[i] += gi
    else:
        for i, gi in zip(index, _columns([g])[0]):
            out[_check_index(int(i), n)] += gi
    return FloatArray.wrap(out)


def concat(pieces: Sequence[Data]) -> FloatArray:
    """One array from floats and arrays, in order."""
    out: list[float] = []
    for p in pieces:
        if type(p) is FloatArray:
            out.extend(p._v)
        else:
            out.append(p)  # type: ignore[arg-type]
    return FloatArray.wrap(out)


def is_finite(x: Data) -> bool:
    """True when every value is finite (no inf, no NaN)."""
    if type(x) is FloatArray:
        # A plain sum is finite when every term is, unless it overflows: then look closer.
        return math.isfinite(sum(x._v)) or all(map(math.isfinite, x._v))
    return math.isfinite(x)  # type: ignore[arg-type]


def to_data(value: object, name: str = "Tensor") -> Data:
    """Convert a number or a 1-D sequence of numbers to ``Data``, refusing NaN and nesting."""
    if isinstance(value, FloatArray):
        return FloatArray.wrap(list(value._v))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out = float(value)
        if out != out:
            raise DomainError(f"{name}: the value is NaN")
        return out
    if hasattr(value, "__float__") and not hasattr(value, "__len__"):
        return to_data(float(value), name)  # numpy scalars and the like
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name}: expected a number or a 1-D sequence of numbers, got {value!r}")
    values: list[float] = []
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            if hasattr(item, "__float__") and not hasattr(item, "__len__"):
                item = float(item)
            else:
                raise TypeError(
                    f"{name}: expected a number or a 1-D sequence of numbers; item {i} is {item!r}"
                )
        f = float(item)
        if f != f:
            raise DomainError(f"{name}: the value at index {i} is NaN")
        values.append(f)
    return FloatArray.wrap(values)
