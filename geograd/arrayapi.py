"""Layer 1: the backend for any array that implements the Python Array API standard.

One :class:`ArrayAPIBackend` per namespace ``xp`` (``x.__array_namespace__()``:
numpy >= 2, array-api-strict; torch, cupy, jax, dask through ``array_api_compat``),
made by :mod:`geograd.backend` the first time an array of that namespace arrives.
Nothing here imports an array library: everything goes through ``xp``, and only
functions of the standard are called (a portability test runs the engine on
array-api-strict, which has nothing else), with Python floats wrapped as 0-D
arrays where a function of the 2023.12 standard wants arrays.

The contract is the standard library backend's (:mod:`geograd.floatarray`):

- 0-D values are Python floats: reductions return one, and an operation whose
  operands are all floats is computed by :mod:`geograd.floatarray`;
- 1-D operands must have equal length (the standard would broadcast a length-1
  array: geograd does not), and a float broadcasts;
- a function outside its domain raises DomainError naming the function, the value
  and its index (log, sqrt, pow, sin/cos/tan of an infinity), a result too large
  for float64 FloatOverflowError (exp, pow, a sum), a zero divisor
  DivisionByZeroError; ``+ - * /`` otherwise follow IEEE-754;
- no silent NaN: it may exist transiently in an array, and is refused where it
  would be read, reduced, compared or hidden, as in the standard library backend.

Checks cost one reduction, not a pass per element in Python: an operation that can
leave its domain computes its result, sums it (a sum is finite exactly when every
entry is, unless it overflows) and only when the sum is not finite looks for the
entry to blame. numpy warns (RuntimeWarning) where this module raises or where
IEEE gives inf: its computations run under ``numpy.errstate(all="ignore")`` (numpy
is used only if something else imported it; array-api-strict does), so no
warning reaches the user. Sums are the namespace's own (numpy: pairwise
summation, error about log2(n)·ε·Σ|x_i|), not correctly rounded as the standard
library backend's ``sum`` is.

dask's namespace gets :class:`DaskBackend` (:func:`backend_for`): the same operations
on lazy arrays, with its checks deferred to the computation and the values computed
together by its ``materialize`` (see the class).
"""

from __future__ import annotations

import importlib
import math
import operator
import sys
import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from itertools import count, repeat
from typing import Any

from geograd import backend as B
from geograd import floatarray as fa
from geograd.errors import (
    DivisionByZeroError,
    DomainError,
    FloatOverflowError,
    NaNError,
    ShapeError,
)

_NULL = nullcontext()
#: The least distance :meth:`ArrayAPIBackend.distances` takes from summed squares: its
#: square, 2^-1000, is a normal float, so the squares kept all their bits that matter.
SQUARES_SAFE_MIN = 2.0**-500


def _same(key: Any, g: Any) -> bool:
    """Whether a kept key (a float, or a weak reference) stands for the cotangent ``g``."""
    if type(g) is float:
        return bool(key == g) if type(key) is float else False
    return type(key) is weakref.ref and key() is g


class ArrayAPIBackend:
    """The backend interface (:class:`geograd.backend.Backend`) on the namespace ``xp``."""

    lazy = False
    """Whether operations only describe their results (see :class:`DaskBackend`)."""

    def __init__(self, xp: Any) -> None:
        self.xp = xp
        self.name: str = str(getattr(xp, "__name__", type(xp).__name__)).removeprefix(
            "array_api_compat."
        )
        self.f64 = xp.float64
        # the last g/d of offset_sum, with weak references to g and d (see _over_distances)
        self._kept_over: tuple[Any, Any, Any] | None = None
        numpy = sys.modules.get("numpy")
        # numpy warns on overflow and invalid operations; array-api-strict and
        # array_api_compat.numpy compute with numpy, so its errstate covers them too
        self._errstate: Callable[..., AbstractContextManager[Any]] | None = getattr(
            numpy, "errstate", None
        )

    def __repr__(self) -> str:
        return f"<geograd backend {self.name!r} (Array API)>"

    def quiet(self) -> AbstractContextManager[Any]:
        """A context in which the namespace emits no warnings (numpy's errstate)."""
        return self._errstate(all="ignore") if self._errstate is not None else _NULL

    def materialize(self, datas: Sequence[Any]) -> list[Any]:
        """The values of ``datas``: an eager namespace's arrays are values already."""
        return list(datas)

    def persist(self, datas: Sequence[Any]) -> list[Any]:
        """``datas`` kept where they are computed: in memory already, for an eager one."""
        return list(datas)

    @staticmethod
    def _lazy_backend(pieces: Sequence[Any]) -> Any:
        """The lazy backend of a piece among ``pieces`` that belongs to one (a 0-D dask
        value in a parameter's gradient), or None: then it builds the result."""
        for p in pieces:
            if type(p) is not float:
                be = B.backend_of(p)
                if be.lazy:
                    return be
        return None

    # --------------------------------------------------------------------- helpers

    def _arr(self, v: Any, like: Any) -> Any:
        """A float as a 0-D array on the device of ``like``; an array as it is."""
        if type(v) is float:
            return self.xp.asarray(v, dtype=self.f64, device=getattr(like, "device", None))
        return v

    def _length(self, name: str, *args: Any) -> int | None:
        n = None
        for a in args:
            if type(a) is not float:
                m = a.shape[0]
                if n is None:
                    n = m
                elif m != n:
                    shapes = " and ".join(str(() if type(b) is float else b.shape) for b in args)
                    raise ShapeError(
                        f"{name}: shapes {shapes} do not match; 1-D operands must have equal "
                        "length (a 0-D operand broadcasts)"
                    )
        return n

    def _finite_sum(self, x: Any) -> bool:
        """Whether the plain sum of ``x`` is finite: then every entry is (call inside quiet)."""
        return math.isfinite(float(self.xp.sum(x)))

    def _first(self, mask: Any) -> int:
        """The first index where the 1-D ``mask`` holds, or -1."""
        found = self.xp.nonzero(mask)[0]
        return int(found[0]) if found.shape[0] else -1

    @staticmethod
    def _entries(args: Sequence[Any], i: int) -> tuple[float, ...]:
        return tuple(float(a) if type(a) is float else float(a[i]) for a in args)

    def _error(self, kind: str, name: str, args: Sequence[Any], i: int) -> Exception:
        """The error the standard library backend raises for ``name(args)`` at index i."""
        shown = ", ".join(repr(v) for v in self._entries(args, i))
        where = f" at index {i}"
        if kind == "zero":
            return DivisionByZeroError(f"{name}: division by zero{where} ({shown})")
        if kind == "overflow":
            return FloatOverflowError(f"{name}({shown}) overflows float64{where}")
        hint = fa._DOMAIN_HINTS.get(name, "argument outside the function's domain")
        return DomainError(f"{name}({shown}) is undefined{where}: {hint}")

    def _floats(self, x: Any) -> list[float]:
        """The values as Python floats, NaN included (for scatter and messages)."""
        tolist = getattr(x, "tolist", None)
        if tolist is not None:  # numpy, torch, cupy: a float64 array gives Python floats
            out: list[float] = tolist()
            return out
        return [float(x[i]) for i in range(x.shape[0])]  # the standard has no tolist

    # ------------------------------------------------------------ elementwise core

    def add(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.add(a, b)
        self._length("add", a, b)
        with self.quiet():
            return a + b

    def sub(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.sub(a, b)
        self._length("sub", a, b)
        with self.quiet():
            return a - b

    def mul(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.mul(a, b)
        self._length("mul", a, b)
        with self.quiet():
            return a * b

    def div(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.div(a, b)
        self._length("div", a, b)
        with self.quiet():
            out = a / b
            if not self._finite_sum(out):
                i = self._zero_at(b)
                if i >= 0:
                    raise self._error("zero", "div", (a, b), i)
        return out

    def _zero_at(self, b: Any) -> int:
        if type(b) is float:
            return 0 if b == 0.0 else -1
        return self._first(b == 0.0)

    def power(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.power(a, b)
        self._length("pow", a, b)
        xp = self.xp
        with self.quiet():
            out = a**b
            if not self._finite_sum(out):
                # math.pow's rules: a negative base with a non-integer exponent, and 0 to a
                # finite negative power, are undefined; a finite pair giving inf overflows
                A, B = self._arr(a, out), self._arr(b, out)
                undefined = (xp.isnan(out) & ~xp.isnan(A) & ~xp.isnan(B)) | (
                    (A == 0.0) & (B < 0.0) & xp.isfinite(B)
                )
                overflow = xp.isinf(out) & xp.isfinite(A) & xp.isfinite(B)
                i = self._first(undefined | overflow)
                if i >= 0:
                    kind = "domain" if bool(undefined[i]) else "overflow"
                    raise self._error(kind, "pow", (a, b), i)
        return out

    def divide_no_nan(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.divide_no_nan(a, b)
        self._length("divide_no_nan", a, b)
        xp = self.xp
        with self.quiet():
            out = a / b
            if self._finite_sum(out) or self._zero_at(b) < 0:
                return out
            # zero divisors are rare (an iterate exactly on a data point): redo only then
            A, B = self._arr(a, out), self._arr(b, out)
            zero = B == 0.0
            return xp.where(zero, self._arr(0.0, out), A / xp.where(zero, self._arr(1.0, out), B))

    def mul_masked(self, a: Any, b: Any) -> Any:
        """a · b, exactly 0 where a or b is 0 even if the other is ±inf (a NaN stays NaN)."""
        if type(a) is float and type(b) is float:
            return fa.mul_masked(a, b)
        self._length("mul", a, b)
        xp = self.xp
        with self.quiet():
            out = a * b
            s = float(xp.sum(out))
            if s == s:
                return out
            A, B = self._arr(a, out), self._arr(b, out)
            zero = ((A == 0.0) & (B == B)) | ((B == 0.0) & (A == A))
            return xp.where(zero, self._arr(0.0, out), out)

    def div_masked(self, a: Any, b: Any) -> Any:
        """a / b, exactly 0 where a is 0 even if b is 0; a nonzero a over 0 still raises."""
        if type(a) is float and type(b) is float:
            return fa.div_masked(a, b)
        self._length("div", a, b)
        xp = self.xp
        with self.quiet():
            out = a / b
            if self._finite_sum(out) or self._zero_at(b) < 0:
                return out
            A, B = self._arr(a, out), self._arr(b, out)
            nothing = A == 0.0
            i = self._first((B == 0.0) & ~nothing)
            if i >= 0:
                raise self._error("zero", "div", (a, b), i)
            return xp.where(
                nothing, self._arr(0.0, out), A / xp.where(nothing, self._arr(1.0, out), B)
            )

    def maximum(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.maximum(a, b)
        self._length("maximum", a, b)
        return self.xp.maximum(self._arr(a, b), self._arr(b, a))  # a NaN propagates

    def atan2(self, s: Any, c: Any) -> Any:
        """The Array API's atan2 (a NaN only from a NaN, found where it is reduced)."""
        if type(s) is float and type(c) is float:
            return fa.atan2(s, c)
        self._length("atan2", s, c)
        return self.xp.atan2(self._arr(s, c), self._arr(c, s))

    def minimum(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.minimum(a, b)
        self._length("minimum", a, b)
        return self.xp.minimum(self._arr(a, b), self._arr(b, a))

    def hypot(self, *coords: Any) -> Any:
        """sqrt(Σ c_i²) elementwise, folded with the namespace's hypot (no overflow)."""
        arrays = [c for c in coords if type(c) is not float]
        if not arrays:
            return fa.hypot(*coords)
        self._length("norm", *coords)
        xp = self.xp
        like = arrays[0]
        with self.quiet():
            out = xp.abs(self._arr(coords[0], like))
            for c in coords[1:]:
                out = xp.hypot(out, self._arr(c, like))
            if not self._finite_sum(out):
                # hypot(inf, nan) is inf: an infinite length would hide the NaN
                for c in arrays:
                    self._refuse_nan(c, "norm")
        return out

    def distances(self, coords: Sequence[Any], center: Sequence[float]) -> Any:
        """d_i = sqrt(Σ_j (x_ij − c_j)²): the plain square root of summed squares (a few
        ulp, at most about 1.5 + d/2), where no square can overflow or underflow; else
        folded with the namespace's hypot, which scales (several times slower: numpy's
        hypot costs about 7x a subtraction, squaring and sqrt at 10^5 points).

        The fast form is kept when every distance is finite and at least
        :data:`SQUARES_SAFE_MIN` (then any square that underflowed is below 2^-74 of the
        sum, lost in rounding); one ``min`` and the sum the NaN check takes anyway decide.
        An iterate exactly on a data point (a zero distance) takes the hypot path."""
        if not coords or len(coords) != len(center):
            raise ShapeError(
                f"distances: {len(coords)} coordinate arrays and a centre of {len(center)} "
                "coordinates; they must match (and be at least one)"
            )
        if any(type(c) is float for c in coords):
            raise ShapeError("distances: every coordinate must be a 1-D array")
        self._length("distances", *coords)
        xp = self.xp
        with self.quiet():
            # in place where the array is this function's own (fewer allocations: 20 % off
            # the forward at 2^20 points, where fresh arrays cost page faults)
            out = coords[0] - float(center[0])
            out *= out
            for x, c in zip(coords[1:], center[1:]):
                diff = x - float(c)
                diff *= diff
                out += diff
            out = xp.sqrt(out)
            if self._finite_sum(out) and float(xp.min(out)) >= SQUARES_SAFE_MIN:
                return out
            out = xp.abs(coords[0] - float(center[0]))
            for x, c in zip(coords[1:], center[1:]):
                out = xp.hypot(out, x - float(c))
            if not self._finite_sum(out):
                # hypot(inf, nan) is inf: an infinite distance would hide a NaN
                for x in coords:
                    self._refuse_nan(x, "distances")
                self._refuse_nan(out, "distances")
        return out

    def offset_sum(self, g: Any, dist: Any, x: Any, c: float) -> float:
        """Σ_i g_i (c − x_i)/d_i, the term 0 where d_i = 0 (see the python backend), as
        (c − x)·w with w = g/d (:meth:`_over_distances`, shared by the centre's
        coordinates): a subtraction and a dot product a coordinate, where
        Σ ((c − x)/d)·g took five passes over the data (2 ms of 14 saved at 10^6 points
        in 2-D). Each term rounds once more (g/d, then the product)."""
        if type(x) is float or type(dist) is float:
            raise ShapeError("offset_sum: the distances and the coordinate must be 1-D arrays")
        self._length("offset_sum", g, dist, x)
        with self.quiet():
            w = self._over_distances(g, dist)
            if w is None:  # g/d overflows (a subnormal distance, a huge g): term by term
                q = float(c) - x
                q /= dist  # in place: q is this function's own; |q| <= 1
                q = self.xp.where(dist == 0.0, self._arr(0.0, q), q)
                return float(self.xp.sum(q * g))
            q = float(c) - x
            s = float(q @ w)
        return s

    def _over_distances(self, g: Any, dist: Any) -> Any:
        """w_i = g_i/d_i, 0 where d_i = 0 (the zero subgradient of a distance at zero
        distance); None where a quotient overflows (d subnormal, or g huge), though each
        term g_i (c − x_i)/d_i is at most |g_i|. One backward asks for it once per
        coordinate of the centre with the same g and d, so the last one is kept while both
        live (weak references: nothing is kept alive by it; a namespace whose arrays take
        none recomputes it)."""
        kept = self._kept_over
        if kept is not None and kept[1]() is dist and _same(kept[0], g):
            return kept[2]
        xp = self.xp
        w = g / dist
        if not self._finite_sum(w):
            w = xp.where(dist == 0.0, self._arr(0.0, w), w)
            if not self._finite_sum(w):
                return None  # overflow, or a NaN in g: the caller sums term by term
        try:
            g_key = g if type(g) is float else weakref.ref(g)
            self._kept_over = (g_key, weakref.ref(dist, self._forget_over), w)
        except TypeError:  # arrays without weak references: nothing kept
            self._kept_over = None
        return w

    def _forget_over(self, _dead: Any) -> None:
        self._kept_over = None

    # ------------------------------------------------------------------- unary math

    def neg(self, x: Any) -> Any:
        return -x

    def absolute(self, x: Any) -> Any:
        return fa.absolute(x) if type(x) is float else self.xp.abs(x)

    def sign(self, x: Any) -> Any:
        return fa.sign(x) if type(x) is float else self.xp.sign(x)

    def _checked(
        self, name: str, fn: Callable[[Any], Any], x: Any, bad: Callable[[Any, Any], Any], kind: str
    ) -> Any:
        """``fn(x)``; when its sum is not finite, the first entry where ``bad(x, out)`` holds
        raises the error of ``kind`` naming ``name``."""
        if type(x) is float:
            return getattr(fa, name)(x)
        with self.quiet():
            out = fn(x)
            if not self._finite_sum(out):
                i = self._first(bad(x, out))
                if i >= 0:
                    raise self._error(kind, name, (x,), i)
        return out

    def exp(self, x: Any) -> Any:
        xp = self.xp
        return self._checked(
            "exp", xp.exp, x, lambda v, out: xp.isinf(out) & xp.isfinite(v), "overflow"
        )

    def log(self, x: Any) -> Any:
        return self._checked("log", self.xp.log, x, lambda v, out: v <= 0.0, "domain")

    def sqrt(self, x: Any) -> Any:
        return self._checked("sqrt", self.xp.sqrt, x, lambda v, out: v < 0.0, "domain")

    def sin(self, x: Any) -> Any:
        return self._checked("sin", self.xp.sin, x, lambda v, out: self.xp.isinf(v), "domain")

    def cos(self, x: Any) -> Any:
        return self._checked("cos", self.xp.cos, x, lambda v, out: self.xp.isinf(v), "domain")

    def tan(self, x: Any) -> Any:
        return self._checked("tan", self.xp.tan, x, lambda v, out: self.xp.isinf(v), "domain")

    def tanh(self, x: Any) -> Any:
        return fa.tanh(x) if type(x) is float else self.xp.tanh(x)

    def sigmoid(self, x: Any) -> Any:
        if type(x) is float:
            return fa.sigmoid(x)
        xp = self.xp
        with self.quiet():
            # 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below: e^-|x| never overflows
            e = xp.exp(-xp.abs(x))
            return xp.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))

    def softplus(self, x: Any) -> Any:
        if type(x) is float:
            return fa.softplus(x)
        xp = self.xp
        with self.quiet():
            # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exact for large |x|, never overflows
            return xp.maximum(x, self._arr(0.0, x)) + xp.log1p(xp.exp(-xp.abs(x)))

    def clip(self, x: Any, lo: float, hi: float) -> Any:
        if type(x) is float:
            return fa.clip(x, lo, hi)
        xp = self.xp
        # below lo: lo; above hi: hi; else x (a NaN stays)
        return xp.where(x < lo, self._arr(lo, x), xp.where(x > hi, self._arr(hi, x), x))

    # ------------------------------------------------------- comparisons and where

    def _compare(self, symbol: str, op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return op(a, b)
        self._length("compare", a, b)
        for x in (a, b):
            if type(x) is not float:
                self._refuse_nan(x, f"comparison {symbol}")  # nan > 0 would answer False
        return op(a, b)

    def less(self, a: Any, b: Any) -> Any:
        return self._compare("<", operator.lt, a, b)

    def less_equal(self, a: Any, b: Any) -> Any:
        return self._compare("<=", operator.le, a, b)

    def greater(self, a: Any, b: Any) -> Any:
        return self._compare(">", operator.gt, a, b)

    def greater_equal(self, a: Any, b: Any) -> Any:
        return self._compare(">=", operator.ge, a, b)

    def equal(self, a: Any, b: Any) -> Any:
        return self._compare("==", operator.eq, a, b)

    def not_equal(self, a: Any, b: Any) -> Any:
        return self._compare("!=", operator.ne, a, b)

    def _mask(self, m: Any, like: Any) -> Any:
        if isinstance(m, (bool, list)):
            return self.xp.asarray(m, dtype=self.xp.bool, device=getattr(like, "device", None))
        return m

    def _mask_length(self, m: Any) -> int | None:
        if isinstance(m, bool):
            return None
        return len(m) if isinstance(m, list) else int(m.shape[0]) if m.ndim else None

    def logical_and(self, a: Any, b: Any) -> Any:
        if isinstance(a, bool) and isinstance(b, bool):
            return a and b
        na, nb = self._mask_length(a), self._mask_length(b)
        if na is not None and nb is not None and na != nb:
            raise ShapeError(f"logical_and: masks of lengths {na} and {nb} do not match")
        like = b if isinstance(a, (bool, list)) else a
        return self.xp.logical_and(self._mask(a, like), self._mask(b, like))

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        """``a`` where ``cond`` holds, else ``b``; a bool or a list of bools is a mask too."""
        n = self._mask_length(cond)
        shapes = [() if n is None else (n,), *(() if type(x) is float else x.shape for x in (a, b))]
        lengths = {shape[0] for shape in shapes if shape}
        if len(lengths) > 1:
            shown = " and ".join(str(shape) for shape in shapes)
            raise ShapeError(
                f"where: shapes {shown} do not match; 1-D operands must have equal length "
                "(a 0-D operand broadcasts)"
            )
        operands = [x for x in (a, b) if type(x) is not float]
        if not lengths:
            return a if bool(cond) else b
        like = operands[0] if operands else cond
        return self.xp.where(self._mask(cond, like), self._arr(a, like), self._arr(b, like))

    def count(self, mask: Any) -> int:
        if isinstance(mask, bool):
            return int(mask)
        if isinstance(mask, list):
            return sum(mask)
        return int(self.xp.sum(self.xp.astype(mask, self.xp.int64)))

    # ------------------------------------------------------------------ reductions

    def total(self, x: Any) -> float:
        """Σ x_i with the namespace's sum; DomainError/FloatOverflowError as the python one."""
        if type(x) is float:
            return x
        with self.quiet():
            s = float(self.xp.sum(x))
        return s if math.isfinite(s) else self._nonfinite_sum(x, s)

    blocked_total = total

    def _nonfinite_sum(self, x: Any, s: float) -> float:
        xp = self.xp
        i = self._first(xp.isnan(x))
        if i >= 0:
            raise NaNError(f"sum: the value at index {i} is NaN, {fa.NAN_HINT}")
        plus, minus = bool(xp.any(x == math.inf)), bool(xp.any(x == -math.inf))
        if plus and minus:
            raise DomainError("sum: the values hold both inf and -inf; their sum is undefined")
        if not (plus or minus):
            raise FloatOverflowError("sum: the sum overflows float64")
        return s

    def _extreme(self, x: Any, name: str, fn: Callable[[Any], Any]) -> float:
        if type(x) is float:
            return x
        if not x.shape[0]:
            raise ShapeError(f"{name}: the array is empty")
        m = float(fn(x))
        if m != m:  # the standard's max and min propagate NaN
            self._refuse_nan(x, name)
        return m

    def amax(self, x: Any) -> float:
        return self._extreme(x, "max", self.xp.max)

    def amin(self, x: Any) -> float:
        return self._extreme(x, "min", self.xp.min)

    def vector_norm(self, x: Any) -> float:
        """sqrt(Σ x_i²); rescaled by max |x_i| when the plain sum of squares over- or
        underflows, so that no intermediate overflows as in the python backend."""
        if type(x) is float:
            return abs(x)
        xp = self.xp
        with self.quiet():
            s = float(xp.sum(x * x))
            if math.isfinite(s) and s > 1e-280:
                return math.sqrt(s)
            self._refuse_nan(x, "vector_norm")
            if not x.shape[0]:
                return 0.0
            m = float(xp.max(xp.abs(x)))
            if m == 0.0 or m == math.inf:
                return m
            y = x / m
            out = m * math.sqrt(float(xp.sum(y * y)))
        if out == math.inf:
            raise FloatOverflowError("vector_norm: the length overflows float64")
        return out

    # ----------------------------------------------------- indexing and construction

    def take(self, x: Any, index: Any) -> Any:
        if type(x) is float:
            raise IndexError("a 0-D value cannot be indexed")
        n = x.shape[0]
        if isinstance(index, int):
            v = float(x[fa._check_index(index, n)])
            if v != v:
                raise NaNError(f"indexing: the value at index {index} is NaN, {fa.NAN_HINT}")
            return v
        if isinstance(index, slice):
            return x[index]
        positions = [fa._check_index(int(i), n) for i in index]
        return self.xp.take(
            x, self.xp.asarray(positions, dtype=self.xp.int64, device=x.device), axis=0
        )

    def scatter_add(self, pieces: Sequence[Any], indices: Sequence[Any], n: int) -> Any:
        """Zeros of length n with each ``pieces[k]`` added at ``indices[k]``.

        The standard has no scatter: a contiguous slice is placed by one ``concat``
        (O(n)); single indices, stepped slices and index lists are summed in a dict
        and written into the zeros entry by entry (O(number of entries)).
        """
        lazy = self._lazy_backend(pieces)
        if lazy is not None and lazy is not self:
            return lazy.scatter_add(pieces, indices, n)
        out = None
        points: dict[int, float] = {}
        for g, index in zip(pieces, indices):
            if isinstance(index, int):
                i = fa._check_index(index, n)
                points[i] = points.get(i, 0.0) + self._entry_value(g)
                continue
            if isinstance(index, slice):
                start, stop, step = index.indices(n)
                if step == 1:
                    if stop > start:
                        middle = self._run(g, stop - start)
                        part = self.concat(
                            [self.full(start, 0.0), middle, self.full(n - stop, 0.0)]
                        )
                        out = part if out is None else out + part
                    continue
                positions: Sequence[int] = range(start, stop, step)
            else:
                positions = [fa._check_index(int(i), n) for i in index]
            for i, v in zip(positions, self._entry_values(g)):
                points[i] = points.get(i, 0.0) + v
        if points:
            extra = self._sparse(points, n)
            out = extra if out is None else out + extra
        return self.full(n, 0.0) if out is None else out

    # scatter_add's pieces; the dask backend keeps them lazy
    def _entry_value(self, g: Any) -> Any:
        """A piece added at one index, as a number."""
        return float(g)

    def _entry_values(self, g: Any) -> Iterable[Any]:
        """A piece added at several indices: its values in order (a float repeats)."""
        return repeat(g) if type(g) is float else self._floats(g)

    def _run(self, g: Any, length: int) -> Any:
        """A piece added over a contiguous slice, as an array of that length."""
        return g if type(g) is not float else self.full(length, g)

    def _sparse(self, points: dict[int, Any], n: int) -> Any:
        if 8 * len(points) < n:
            zeros = self.full(n, 0.0)
            try:
                for i, v in points.items():
                    zeros[i] = v
                return zeros
            except (TypeError, ValueError, NotImplementedError):
                pass  # an immutable namespace (jax): build the values in Python
        values = [0.0] * n
        for i, v in points.items():
            values[i] = v
        return self.xp.asarray(values, dtype=self.f64)

    def concat(self, pieces: Sequence[Any]) -> Any:
        """One array from floats and arrays, in order."""
        lazy = self._lazy_backend(pieces)
        if lazy is not None:
            return lazy.concat(pieces)
        parts: list[Any] = []
        run: list[float] = []
        for p in pieces:
            if type(p) is float:
                run.append(p)
                continue
            if run:
                parts.append(self.xp.asarray(run, dtype=self.f64, device=p.device))
                run = []
            parts.append(p)
        if run:
            device = parts[0].device if parts else None
            parts.append(self.xp.asarray(run, dtype=self.f64, device=device))
        return parts[0] if len(parts) == 1 else self.xp.concat(parts)

    def broadcast_to(self, x: Any, shape: tuple[int, ...]) -> Any:
        if type(x) is not float and not x.ndim and shape:
            lazy = self._lazy_backend((x,))
            if lazy is not None:
                return lazy.broadcast_to(x, shape)
        if not shape:
            if type(x) is not float:
                raise ShapeError(f"broadcast: cannot broadcast shape {x.shape} to ()")
            return x
        if type(x) is not float:
            if x.shape[0] != shape[0]:
                raise ShapeError(f"broadcast: cannot broadcast shape {x.shape} to {shape}")
            return x
        return self.full(shape[0], x)

    def full(self, n: int, value: float) -> Any:
        return self.xp.full((n,), float(value), dtype=self.f64)

    def full_like(self, x: Any, value: float) -> Any:
        if type(x) is float:
            return float(value)
        return self.xp.full(x.shape, float(value), dtype=self.f64, device=x.device)

    # -------------------------------------------------------- conversion and checks

    def to_data(self, value: Any, name: str) -> Any:
        """A float64 copy of the array ``value`` (a float if it is 0-D); NaN refused."""
        xp = self.xp
        if value.ndim == 0:
            f = float(value)
            if f != f:
                raise DomainError(f"{name}: the value is NaN")
            return f
        if value.ndim != 1 or xp.isdtype(value.dtype, ("bool", "complex floating")):
            raise TypeError(
                f"{name}: expected a number or a 1-D sequence of numbers, got an array of "
                f"shape {value.shape} and dtype {value.dtype}"
            )
        out = xp.astype(value, self.f64, copy=True)  # a copy: the engine's arrays never change
        i = self.find_nan(out)
        if i >= 0:
            raise DomainError(f"{name}: the value at index {i} is NaN")
        return out

    def tolist(self, x: Any, what: str) -> list[float]:
        self._refuse_nan(x, what)
        return self._floats(x)

    def from_list(self, items: list[float]) -> Any:
        out = self.xp.asarray([float(v) for v in items], dtype=self.f64)
        self._refuse_nan(out, "from_list")
        return out

    def preview(self, x: Any, what: str) -> str:
        self._refuse_nan(x, what)
        n = x.shape[0]
        if n <= 6:
            return repr(self._floats(x))
        head = ", ".join(repr(v) for v in self._floats(x[:3]))
        tail = ", ".join(repr(v) for v in self._floats(x[n - 3 :]))
        return f"[{head}, ..., {tail}] (n={n})"

    def find_nan(self, x: Any) -> int:
        if type(x) is float:
            return 0 if x != x else -1
        with self.quiet():
            s = float(self.xp.sum(x))
        return -1 if s == s else self._first(self.xp.isnan(x))

    def _refuse_nan(self, x: Any, what: str) -> None:
        i = self.find_nan(x)
        if i >= 0:
            raise NaNError(f"{what}: the value at index {i} is NaN, {fa.NAN_HINT}")

    def is_finite(self, x: Any) -> bool:
        if type(x) is float:
            return math.isfinite(x)
        with self.quiet():
            # a plain sum is finite when every term is, unless it overflows: then look closer
            return self._finite_sum(x) or bool(self.xp.all(self.xp.isfinite(x)))

    def find_nonfinite(self, x: Any) -> tuple[int, float] | None:
        if type(x) is float:
            return None if math.isfinite(x) else (0, x)
        i = self._first(~self.xp.isfinite(x))
        return None if i < 0 else (i, float(x[i]))

    def entry(self, x: Any, i: int) -> float:
        return x if type(x) is float else float(x[i])


# ------------------------------------------------------------------ lazy namespaces


def backend_for(xp: Any) -> ArrayAPIBackend:
    """The backend of the namespace ``xp``: :class:`DaskBackend` for dask's (through
    array_api_compat), :class:`ArrayAPIBackend` for every other one."""
    name = str(getattr(xp, "__name__", ""))
    if name.removeprefix("array_api_compat.").partition(".")[0] == "dask":
        return DaskBackend(xp)
    return ArrayAPIBackend(xp)


MAX_PENDING = 4096
"""The most deferred checks a lazy backend keeps for values not yet computed; beyond,
the oldest are dropped (they belong to graphs built and never computed)."""


class _Check:
    """A deferred check: ``ok(value)`` once the 0-D ``value`` is computed; if not,
    ``replay(eager_backend, *eager_args)`` runs the eager operation on the computed
    ``args`` and raises its error (or returns: then nothing was wrong)."""

    __slots__ = ("args", "guard", "ok", "replay", "value")

    def __init__(
        self,
        value: Any,
        guard: str,
        replay: Callable[..., Any],
        args: tuple[Any, ...],
        ok: Callable[[float], bool],
    ) -> None:
        self.value, self.guard, self.replay, self.args, self.ok = value, guard, replay, args, ok


def _no_nan(v: float) -> bool:
    return v == v


def _nan_replay(error: type[Exception], what: str, hint: str = "") -> Callable[[Any, Any], None]:
    """A deferred check's replay on the computed value: ``error`` naming ``what`` and the
    first NaN's index (and ``hint``), when the value holds one."""

    def replay(be: Any, eager: Any) -> None:
        i = B.find_nan(eager)
        if i >= 0:
            where = f" at index {i}" if B.shape_of(eager) else ""
            raise error(f"{what}: the value{where} is NaN{hint}")

    return replay


class DaskBackend(ArrayAPIBackend):
    """The Array API backend on dask arrays: every operation only *describes* its result.

    A dask array is a graph of tasks over chunks; nothing is computed until asked.
    The engine's forward and backward build one graph, and :meth:`materialize`
    computes the values asked for in **one** ``dask.compute`` (one pass over the
    chunked data, on a dask.distributed cluster when a Client is the default
    scheduler). What differs from an eager namespace:

    - reductions (sum, max, min, norms, ``offset_sum``, ``count``) return 0-D dask
      arrays, not floats: a 0-D value of this backend is lazy too, and belongs to it;
    - the checks of the no-silent-NaN contract are *deferred*: an operation that
      would look at its result's sum (log, sqrt, div, pow, exp, hypot, distances,
      sums, comparisons, a gradient written by ``backward``) records that sum, a
      0-D array of the same graph, and the operation itself. ``materialize``
      computes these sums together with the values asked for (each a reduction
      over a chunk already in memory, in the same pass) and, for the first one
      that is not finite, re-runs that operation eagerly on its computed operands
      (numpy's backend), which raises exactly the error the eager backend would
      have raised at that point (DomainError naming the function, the value and
      its index; NaNError; DivisionByZeroError; FloatOverflowError). Only the
      checks of the graphs being computed run: a check belongs to the values whose
      graph holds the array it guards;
    - where the eager backend repairs a result only when its check fails (the
      zero subgradient of ``divide_no_nan``, ``div_masked``, ``mul_masked``,
      ``offset_sum``), the repair is always part of the graph: the same values,
      a few more elementwise operations per chunk, no branch on data;
    - reading a value (``tolist``, ``repr``, ``entry``, ``is_finite``) computes it,
      through :meth:`materialize`, so the deferred checks run first;
    - arrays made from nothing (``full``, the spread cotangent of a sum) take the
      chunks of the data of that length seen last, so that they line up with it.

    dask is imported when an array of it arrives, never before.
    """

    lazy = True

    def __init__(self, xp: Any) -> None:
        super().__init__(xp)
        self.name = "dask"
        self._pending: list[_Check] = []
        self._chunks: dict[int, Any] = {}
        # name -> value of the arrays made by full / full_like (the spread cotangent of a
        # sum or a mean): no NaN to look for in them, and Σ g_i y_i = g·Σ y_i
        self._constants: dict[str, float] = {}
        self._dask_module: Any = None

    # --------------------------------------------------------------------- helpers

    def _dask(self) -> Any:
        if self._dask_module is None:
            self._dask_module = importlib.import_module("dask")
        return self._dask_module

    def _lazy(self, x: Any) -> bool:
        return type(x) is not float and hasattr(x, "__dask_graph__")

    def _length(self, name: str, *args: Any) -> int | None:
        # 0-D arrays broadcast here as floats do
        return super()._length(name, *(a for a in args if type(a) is float or a.ndim))

    def _defer(
        self,
        value: Any,
        guard: Any,
        replay: Callable[..., Any],
        args: tuple[Any, ...],
        ok: Callable[[float], bool] = math.isfinite,
    ) -> None:
        pending = self._pending
        pending.append(_Check(value, str(getattr(guard, "name", "")), replay, args, ok))
        if len(pending) > MAX_PENDING:
            del pending[: len(pending) - MAX_PENDING]

    def _defer_op(self, out: Any, method: str, args: tuple[Any, ...], **static: Any) -> None:
        """Check ``out`` = ``method(*args, **static)`` when computed: if its sum is not
        finite, the eager ``method`` on the computed args raises what it would have."""

        def replay(be: Any, *eager: Any) -> Any:
            return getattr(be, method)(*eager, **static)

        self._defer(self._summed(out), out, replay, args)

    def _constant(self, x: Any) -> float | None:
        """The value of every entry of ``x`` when it was made by full / full_like."""
        return None if type(x) is float else self._constants.get(getattr(x, "name", ""))

    def _summed(self, x: Any) -> Any:
        """The plain sum of ``x`` (``x`` itself when 0-D: no task more)."""
        return self.xp.sum(x) if x.ndim else x

    def _refuse_nan(self, x: Any, what: str) -> None:
        if type(x) is float:
            super()._refuse_nan(x, what)
            return
        if self._constant(x) is not None:
            return  # a full array of a float that is not NaN

        replay = _nan_replay(NaNError, what, f", {fa.NAN_HINT}")
        self._defer(self._summed(x), x, replay, (x,), _no_nan)

    def find_nan(self, x: Any) -> int:
        """-1 now: a NaN in a lazy ``x`` raises NaNError when ``x`` (or a value computed
        from it) is materialised, naming its index."""
        if type(x) is float:
            return 0 if x != x else -1
        self._refuse_nan(x, "a lazily computed value (refused when computed)")
        return -1

    # -------------------------------------------------- computing: one pass per call

    def materialize(self, datas: Sequence[Any]) -> list[Any]:
        """The values of ``datas`` computed together, in one ``dask.compute`` with the
        deferred checks of their graphs: a 0-D value becomes a float, a 1-D one the
        in-memory array dask computes (numpy's). The first failed check raises the
        error the eager backend would have raised; a NaN in a value is refused."""
        return self._materialize(datas, "materialize")

    def _materialize(self, datas: Sequence[Any], what: str) -> list[Any]:
        positions = [i for i, d in enumerate(datas) if self._lazy(d)]
        if not positions:
            return list(datas)
        targets = [datas[i] for i in positions]
        checks = self._relevant(targets)
        if checks:  # one small array of all the checked sums: one result to gather
            values = self._compute(*targets, self.xp.stack([c.value for c in checks]))
            self._raise_failed(checks, values[-1].tolist())
        else:
            values = self._compute(*targets)
        out = list(datas)
        for i, v in zip(positions, values):
            out[i] = self._value(v, what)
        return out

    def persist(self, datas: Sequence[Any]) -> list[Any]:
        """The lazy ``datas`` computed and kept where they were computed (in the workers'
        memory on a dask.distributed cluster): later graphs start from them."""
        out = list(datas)
        positions = [i for i, d in enumerate(datas) if self._lazy(d)]
        if positions:
            kept = self._dask().persist(*(datas[i] for i in positions))
            for i, v in zip(positions, kept):
                out[i] = v
                self._remember(v)
        return out

    def _remember(self, x: Any) -> None:
        if x.ndim == 1:
            self._chunks[int(x.shape[0])] = x.chunks

    def _relevant(self, targets: Sequence[Any]) -> list[_Check]:
        """The pending checks of arrays in the graphs of ``targets`` (taken off the list);
        the others stay for a later computation."""
        names: set[str] = set()
        for t in targets:
            names.update(t.dask.layers)
        take, keep = [], []
        seen: set[tuple[str, Any]] = set()
        for c in self._pending:
            if c.guard not in names:
                keep.append(c)
                continue
            # the same test of the same value once (a gradient's NaN check and its op's);
            # the value itself is computed once whatever the number of its tests
            key = (str(getattr(c.value, "name", id(c))), getattr(c.replay, "__code__", c))
            if key not in seen:
                seen.add(key)
                take.append(c)
        self._pending = keep
        return take

    def _compute(self, *values: Any) -> tuple[Any, ...]:
        # the workers' numpy warns where the deferred checks raise: silence the threads of
        # a local scheduler here (geograd.cluster's workers ignore them themselves)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out: tuple[Any, ...] = self._dask().compute(*values)
        return out

    def _raise_failed(self, checks: Sequence[_Check], values: Sequence[Any]) -> None:
        for c, v in zip(checks, values):
            if c.ok(float(v)):
                continue
            lazy = [a for a in c.args if self._lazy(a)]
            computed = iter(self._compute(*lazy) if lazy else ())
            eager = [self._eager(next(computed)) if self._lazy(a) else a for a in c.args]
            arrays = [a for a in eager if type(a) is not float]
            c.replay(B.backend_of(arrays[0]) if arrays else B.PYTHON, *eager)

    @staticmethod
    def _eager(v: Any) -> Any:
        return float(v) if getattr(v, "ndim", 0) == 0 else v

    def _value(self, v: Any, what: str) -> Any:
        v = self._eager(v)
        B.refuse_nan(v, what)
        return v

    def _read(self, x: Any, what: str = "reading a value") -> Any:
        """The computed value of one lazy ``x`` (its checks first)."""
        return self._materialize([x], what)[0]

    # ------------------------------------------------------------ elementwise core

    def div(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.div(a, b)
        self._length("div", a, b)
        out = a / b
        self._defer_op(out, "div", (a, b))
        return out

    def power(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.power(a, b)
        self._length("pow", a, b)
        out = a**b
        self._defer_op(out, "power", (a, b))
        return out

    def divide_no_nan(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.divide_no_nan(a, b)
        self._length("divide_no_nan", a, b)
        xp = self.xp
        A, B_ = self._arr(a, b), self._arr(b, a)
        # a / 0 is computed and thrown away: the workers' numpy warnings are off (a
        # second where to avoid it would cost a pass over every chunk)
        return xp.where(B_ == 0.0, self._arr(0.0, A), A / B_)

    def mul_masked(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.mul_masked(a, b)
        self._length("mul", a, b)
        xp = self.xp
        out = a * b
        A, B_ = self._arr(a, out), self._arr(b, out)
        zero = ((A == 0.0) & (B_ == B_)) | ((B_ == 0.0) & (A == A))
        return xp.where(xp.isnan(out) & zero, self._arr(0.0, out), out)

    def div_masked(self, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            return fa.div_masked(a, b)
        self._length("div", a, b)
        xp = self.xp
        A, B_ = self._arr(a, b), self._arr(b, a)
        out = xp.where((A == 0.0) & (B_ == 0.0), self._arr(0.0, A), A / B_)
        self._defer_op(out, "div_masked", (a, b))
        return out

    def hypot(self, *coords: Any) -> Any:
        arrays = [c for c in coords if type(c) is not float]
        if not arrays:
            return fa.hypot(*coords)
        self._length("norm", *coords)
        xp = self.xp
        like = arrays[0]
        out = xp.abs(self._arr(coords[0], like))
        for c in coords[1:]:
            out = xp.hypot(out, self._arr(c, like))
        self._defer_op(out, "hypot", tuple(coords))
        return out

    def distances(self, coords: Sequence[Any], center: Sequence[Any]) -> Any:
        if not coords or len(coords) != len(center):
            raise ShapeError(
                f"distances: {len(coords)} coordinate arrays and a centre of {len(center)} "
                "coordinates; they must match (and be at least one)"
            )
        if any(type(c) is float or not c.ndim for c in coords):
            raise ShapeError("distances: every coordinate must be a 1-D array")
        self._length("distances", *coords)
        xp = self.xp
        out = xp.abs(coords[0] - center[0])
        for x, c in zip(coords[1:], center[1:]):
            out = xp.hypot(out, x - c)
        d = len(coords)

        def replay(be: Any, *eager: Any) -> Any:
            return be.distances(eager[:d], [float(c) for c in eager[d:]])

        self._defer(xp.sum(out), out, replay, (*coords, *center))
        return out

    def offset_sum(self, g: Any, dist: Any, x: Any, c: Any) -> Any:
        """Σ_i g_i (c − x_i)/d_i, the term 0 where d_i = 0, as a 0-D dask array."""
        if type(x) is float or type(dist) is float or not x.ndim or not dist.ndim:
            raise ShapeError("offset_sum: the distances and the coordinate must be 1-D arrays")
        self._length("offset_sum", g, dist, x)
        xp = self.xp
        q = xp.where(dist == 0.0, self._arr(0.0, dist), (c - x) / dist)
        g0 = self._constant(g)
        # the cotangent of a sum or a mean is one value repeated: g·Σ q_i, no product array
        s = xp.sum(q) * g0 if g0 is not None else xp.sum(g * q)
        self._refuse_nan(s, "offset_sum")
        return s

    def _checked(
        self, name: str, fn: Callable[[Any], Any], x: Any, bad: Callable[[Any, Any], Any], kind: str
    ) -> Any:
        if type(x) is float:
            return getattr(fa, name)(x)
        out = fn(x)
        self._defer_op(out, name, (x,))
        return out

    # ------------------------------------------------------- comparisons and where

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        lazy_scalar = [v for v in (cond, a, b) if self._lazy(v) and not v.ndim]
        if lazy_scalar and not any(
            isinstance(v, list) or (type(v) is not float and getattr(v, "ndim", 0))
            for v in (cond, a, b)
        ):
            like = lazy_scalar[0]
            return self.xp.where(self._mask(cond, like), self._arr(a, like), self._arr(b, like))
        return super().where(cond, a, b)

    def count(self, mask: Any) -> Any:
        """The number of entries where ``mask`` holds: a 0-D dask array for a lazy mask."""
        if isinstance(mask, (bool, list)):
            return super().count(mask)
        return self.xp.sum(self.xp.astype(mask, self.xp.int64))

    # ------------------------------------------------------------------ reductions

    def total(self, x: Any) -> Any:
        """Σ x_i as a 0-D dask array (a tree reduction over the chunks)."""
        if type(x) is float or not x.ndim:
            return x
        s = self.xp.sum(x)

        def replay(be: Any, eager: Any) -> Any:
            return be.total(eager)

        self._defer(s, s, replay, (x,))
        return s

    blocked_total = total

    def _extreme(self, x: Any, name: str, fn: Callable[[Any], Any]) -> Any:
        if type(x) is float or not x.ndim:
            return x
        if not x.shape[0]:
            raise ShapeError(f"{name}: the array is empty")
        m = fn(x)
        self._refuse_nan(x, name)
        return m

    def vector_norm(self, x: Any) -> Any:
        """sqrt(Σ x_i²), rescaled by max |x_i| where the plain sum over- or underflows
        (both forms are in the graph; the plain one is used where it is in range)."""
        if type(x) is float:
            return abs(x)
        xp = self.xp
        if not x.ndim:
            return xp.abs(x)
        if not x.shape[0]:
            return 0.0
        self._refuse_nan(x, "vector_norm")
        s = xp.sum(x * x)
        m = xp.max(xp.abs(x))
        odd = (m == 0.0) | xp.isinf(m)
        scale = xp.where(odd, self._arr(1.0, m), m)
        y = x / scale
        scaled = xp.where(odd, m, scale * xp.sqrt(xp.sum(y * y)))
        out = xp.where(xp.isfinite(s) & (s > 1e-280), xp.sqrt(s), scaled)

        def replay(be: Any, eager: Any) -> Any:
            return be.vector_norm(eager)

        self._defer(out, out, replay, (x,))
        return out

    # ----------------------------------------------------- indexing and construction

    def take(self, x: Any, index: Any) -> Any:
        if type(x) is float or not x.ndim:
            raise IndexError("a 0-D value cannot be indexed")
        n = int(x.shape[0])
        if isinstance(index, int):
            i = fa._check_index(index, n)
            out = x[i]
            self._refuse_nan(out, f"indexing: the value at index {index}")
            return out
        if isinstance(index, slice):
            return x[index]
        positions = [fa._check_index(int(i), n) for i in index]
        return self.xp.take(x, self.xp.asarray(positions, dtype=self.xp.int64), axis=0)

    # scatter_add (the base class's) with lazy pieces: a piece may be a lazy 0-D value
    # (the gradient of a parameter's coordinate), kept in the graph, never read
    def _entry_value(self, g: Any) -> Any:
        return g

    def _entry_values(self, g: Any) -> Iterable[Any]:
        return repeat(g) if type(g) is float or not g.ndim else (g[k] for k in count())

    def _run(self, g: Any, length: int) -> Any:
        return g if self._lazy(g) and g.ndim else self.full(length, 0.0) + g

    def _sparse(self, points: dict[int, Any], n: int) -> Any:
        if n <= 64:  # a parameter's gradient: its n coordinates, stacked
            return self.xp.stack([self._arr(points.get(i, 0.0), None) for i in range(n)])
        extra = self.full(n, 0.0)  # a few entries of a long vector: each placed by a concat
        for i, v in points.items():
            extra = extra + self.concat(
                [self.full(i, 0.0), self.full(1, 0.0) + v, self.full(n - i - 1, 0.0)]
            )
        return extra

    def concat(self, pieces: Sequence[Any]) -> Any:
        """One dask array from floats, 0-D and 1-D values, in order."""
        xp = self.xp
        parts: list[Any] = []
        run: list[float] = []
        for p in pieces:
            if type(p) is float:
                run.append(p)
                continue
            if run:
                parts.append(xp.asarray(run, dtype=self.f64))
                run = []
            parts.append(p if p.ndim else xp.reshape(p, (1,)))
        if run:
            parts.append(xp.asarray(run, dtype=self.f64))
        return parts[0] if len(parts) == 1 else xp.concat(parts)

    def broadcast_to(self, x: Any, shape: tuple[int, ...]) -> Any:
        if not shape:
            if type(x) is not float and x.ndim:
                raise ShapeError(f"broadcast: cannot broadcast shape {x.shape} to ()")
            return x
        if type(x) is not float and x.ndim:
            if x.shape[0] != shape[0]:
                raise ShapeError(f"broadcast: cannot broadcast shape {x.shape} to {shape}")
            return x
        if type(x) is float:
            return self.full(shape[0], x)
        return self.full(shape[0], 0.0) + x

    def full(self, n: int, value: float) -> Any:
        chunks = self._chunks.get(n, "auto")
        return self._made(self.xp.full((n,), float(value), dtype=self.f64, chunks=chunks), value)

    def full_like(self, x: Any, value: float) -> Any:
        if type(x) is float:
            return float(value)
        return self._made(self.xp.full_like(x, float(value), dtype=self.f64), value)

    def _made(self, out: Any, value: float) -> Any:
        v = float(value)
        if v == v:
            constants = self._constants
            if len(constants) >= MAX_PENDING:
                constants.clear()  # names of graphs long gone: start again
            constants[out.name] = v
        return out

    # -------------------------------------------------------- conversion and checks

    def to_data(self, value: Any, name: str) -> Any:
        """``value`` as float64 (no copy: dask arrays never change), its NaN refused when
        computed; a 1-D array's chunks become those of arrays made at its length."""
        xp = self.xp
        if value.ndim > 1 or xp.isdtype(value.dtype, ("bool", "complex floating")):
            raise TypeError(
                f"{name}: expected a number or a 1-D sequence of numbers, got an array of "
                f"shape {value.shape} and dtype {value.dtype}"
            )
        out = value if value.dtype == self.f64 else xp.astype(value, self.f64)

        replay = _nan_replay(DomainError, name)
        self._defer(self._summed(out), out, replay, (out,), _no_nan)
        self._remember(out)
        return out

    def tolist(self, x: Any, what: str) -> Any:
        v = self._read(x, what)
        return B.tolist(v, what) if type(v) is not float else v

    def preview(self, x: Any, what: str) -> str:
        v = self._read(x, what)
        return B.backend_of(v).preview(v, what) if type(v) is not float else repr(v)

    def is_finite(self, x: Any) -> bool:
        return B.is_finite(self._read(x))

    def find_nonfinite(self, x: Any) -> tuple[int, float] | None:
        v = self._read(x)
        if type(v) is float:
            return None if math.isfinite(v) else (0, v)
        return B.backend_of(v).find_nonfinite(v)

    def entry(self, x: Any, i: int) -> float:
        v = self._read(x if type(x) is float or not x.ndim else x[i])
        return float(v)
