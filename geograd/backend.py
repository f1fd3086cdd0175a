"""Layer 1: the array-backend seam -- one small interface, and dispatch by the data.

The engine computes with ``Data``: a Python ``float`` (0-D) or a 1-D float64
array of some *backend*. A backend implements :class:`Backend`, the operations
the primitive table needs and nothing more: elementwise arithmetic and math,
comparisons and ``where``, reductions (to a float), take/scatter, concat,
full, conversion to and from floats, and the NaN/finiteness checks of the "no
silent NaN" contract. There are two implementations:

- ``python`` (:class:`geograd.floatarray.PythonBackend`): the standard library's
  :class:`~geograd.floatarray.FloatArray`, whose methods are the functions of
  :mod:`geograd.floatarray` themselves;
- :class:`geograd.arrayapi.ArrayAPIBackend`, one per namespace, for any array
  that implements the Python Array API standard: numpy >= 2 and
  array-api-strict natively (``x.__array_namespace__()``); torch, cupy, jax,
  dask through ``array_api_compat`` when it is installed (imported only when
  such an array arrives; never required).

The engine never imports an array library: the namespace arrives with the data.

Dispatch: :func:`common_backend` looks at the type of each operand in a dict,
once per primitive call (about 0.1 µs per operand). A float (or a bool, or a list
of bools, a mask) belongs to no backend and broadcasts against any; two 1-D
operands of different backends raise :class:`~geograd.errors.BackendError`
naming both. Only floats: the ``python`` backend, whose functions take floats.

Lazy backends (dask, :class:`geograd.arrayapi.DaskBackend`): operations only
describe their results, reductions included (a 0-D value of a lazy backend is a 0-D
lazy array, not a float, and belongs to its backend), and the no-silent-NaN checks
are deferred to the computation. The seam is three functions, the identity for
eager backends: :func:`materialize` (compute values together, in one pass: the solve
loop computes a step's loss and gradients with one call), :func:`persist` (keep the
data where it is computed, once) and :func:`convert` (a computed gradient in its
parameter's backend). Code above this layer asks them and never imports dask.

Nothing above this layer tests for a concrete array class or touches an array's
storage; it asks the backend (``backend_of(x).sqrt(x)``) or uses the helpers
below (:func:`shape_of`, :func:`tolist`, :func:`find_nan`, :func:`is_finite`, ...).
A 0-D value is a Python float on every eager backend: their reductions return one.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeAlias, cast

from geograd import floatarray as fa
from geograd.errors import BackendError, DomainError, NaNError
from geograd.floatarray import FloatArray


class Array(Protocol):
    """What the engine needs of a 1-D array object itself: a shape and the arithmetic
    operators with float broadcasting (FloatArray, numpy and Array API arrays have them).
    Everything else goes through its :class:`Backend`."""

    @property
    def shape(self) -> tuple[int, ...]: ...
    def __neg__(self) -> Array: ...
    def __add__(self, other: Any, /) -> Array: ...
    def __radd__(self, other: Any, /) -> Array: ...
    def __sub__(self, other: Any, /) -> Array: ...
    def __rsub__(self, other: Any, /) -> Array: ...
    def __mul__(self, other: Any, /) -> Array: ...
    def __rmul__(self, other: Any, /) -> Array: ...
    def __truediv__(self, other: Any, /) -> Array: ...
    def __rtruediv__(self, other: Any, /) -> Array: ...


Data: TypeAlias = "float | Array"
"""A value the engine computes with: a float (0-D) or a 1-D float64 array of a backend."""

Mask: TypeAlias = "bool | list[bool] | Any"
"""A comparison's result: a bool (0-D), a list of bools (python) or a bool array."""

Index: TypeAlias = "int | slice | Sequence[int]"


class Backend(Protocol):
    """The operations the primitive table needs, on ``Data`` of one backend.

    Every function broadcasts a float against a 1-D array; 1-D operands must have
    equal length (ShapeError naming both shapes). Errors are geograd's: a function
    outside its domain raises DomainError naming the function, the value and its
    index; a result too large for float64 (exp, pow) FloatOverflowError; a division
    by zero DivisionByZeroError; ``+ - * /`` otherwise follow IEEE-754. A NaN (only
    arithmetic on infinities makes one) may exist transiently in a 1-D array and is
    refused (NaNError) where it would be read, reduced, compared or hidden.
    """

    name: str

    # elementwise, with float broadcasting
    def add(self, a: Data, b: Data) -> Data: ...
    def sub(self, a: Data, b: Data) -> Data: ...
    def mul(self, a: Data, b: Data) -> Data: ...
    def div(self, a: Data, b: Data) -> Data: ...
    def power(self, a: Data, b: Data) -> Data: ...
    def divide_no_nan(self, a: Data, b: Data) -> Data: ...
    def mul_masked(self, a: Data, b: Data) -> Data: ...
    def div_masked(self, a: Data, b: Data) -> Data: ...
    def maximum(self, a: Data, b: Data) -> Data: ...
    def atan2(self, s: Data, c: Data) -> Data: ...
    def minimum(self, a: Data, b: Data) -> Data: ...
    def hypot(self, *coords: Data) -> Data: ...
    def distances(self, coords: Sequence[Data], center: Sequence[float]) -> Data: ...
    def offset_sum(self, g: Data, dist: Data, x: Data, c: float) -> float: ...
    def neg(self, x: Data) -> Data: ...
    def absolute(self, x: Data) -> Data: ...
    def sign(self, x: Data) -> Data: ...
    def exp(self, x: Data) -> Data: ...
    def log(self, x: Data) -> Data: ...
    def sqrt(self, x: Data) -> Data: ...
    def sin(self, x: Data) -> Data: ...
    def cos(self, x: Data) -> Data: ...
    def tan(self, x: Data) -> Data: ...
    def tanh(self, x: Data) -> Data: ...
    def sigmoid(self, x: Data) -> Data: ...
    def softplus(self, x: Data) -> Data: ...
    def clip(self, x: Data, lo: float, hi: float) -> Data: ...

    # comparisons (NaNError on a NaN operand) and selection
    def less(self, a: Data, b: Data) -> Mask: ...
    def less_equal(self, a: Data, b: Data) -> Mask: ...
    def greater(self, a: Data, b: Data) -> Mask: ...
    def greater_equal(self, a: Data, b: Data) -> Mask: ...
    def equal(self, a: Data, b: Data) -> Mask: ...
    def not_equal(self, a: Data, b: Data) -> Mask: ...
    def logical_and(self, a: Mask, b: Mask) -> Mask: ...
    def where(self, cond: Mask, a: Data, b: Data) -> Data: ...
    def count(self, mask: Mask) -> int: ...

    # reductions to a float
    def total(self, x: Data) -> float: ...
    def blocked_total(self, x: Data) -> float: ...
    def amax(self, x: Data) -> float: ...
    def amin(self, x: Data) -> float: ...
    def vector_norm(self, x: Data) -> float: ...

    # indexing and construction
    def take(self, x: Data, index: Index) -> Data: ...
    def scatter_add(self, pieces: Sequence[Data], indices: Sequence[Index], n: int) -> Data: ...
    def concat(self, pieces: Sequence[Data]) -> Data: ...
    def broadcast_to(self, x: Data, shape: tuple[int, ...]) -> Data: ...
    def full(self, n: int, value: float) -> Data: ...
    def full_like(self, x: Data, value: float) -> Data: ...

    # conversion and checks
    def to_data(self, value: Any, name: str) -> Data: ...
    def tolist(self, x: Any, what: str) -> list[float]: ...
    def from_list(self, items: list[float]) -> Data: ...
    def preview(self, x: Any, what: str) -> str: ...
    def find_nan(self, x: Data) -> int: ...
    def is_finite(self, x: Data) -> bool: ...
    def find_nonfinite(self, x: Data) -> tuple[int, float] | None: ...
    def entry(self, x: Data, i: int) -> float: ...
    def quiet(self) -> AbstractContextManager[Any]: ...

    # lazy namespaces (dask): values computed together, data kept where it is computed
    lazy: bool

    def materialize(self, datas: Sequence[Any]) -> list[Any]: ...
    def persist(self, datas: Sequence[Any]) -> list[Any]: ...


class _PythonBackend(fa.PythonBackend):
    """The standard library backend, and the seam's lazy hooks: it computes at once.

    A parameter in the standard library whose gradient comes from lazy data (the
    coordinates of a centre, each a 0-D dask value) gets that gradient built by the
    lazy backend, so that nothing is computed before :func:`materialize`.
    """

    lazy = False

    @staticmethod
    def materialize(datas: Sequence[Any]) -> list[Any]:
        return list(datas)

    persist = materialize

    @staticmethod
    def scatter_add(pieces: Sequence[Any], indices: Sequence[Index], n: int) -> Any:
        lazy = _lazy_among(pieces)
        if lazy is not None:
            return lazy.scatter_add(pieces, indices, n)
        return fa.scatter_add(pieces, indices, n)

    @staticmethod
    def concat(pieces: Sequence[Any]) -> Any:
        lazy = _lazy_among(pieces)
        return fa.concat(pieces) if lazy is None else lazy.concat(pieces)

    @staticmethod
    def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
        lazy = _lazy_among((x,))
        return fa.broadcast_to(x, shape) if lazy is None else lazy.broadcast_to(x, shape)


def _lazy_among(pieces: Sequence[object]) -> Backend | None:
    """The lazy backend of a value among ``pieces``, or None (floats and FloatArrays:
    two type checks each)."""
    for p in pieces:
        t = type(p)
        if t is not float and t is not FloatArray:
            be = backend_of(p)
            if be.lazy:
                return be
    return None


PYTHON: Backend = cast(Backend, _PythonBackend())
"""The standard library backend (FloatArray)."""

NAN_HINT = fa.NAN_HINT
"""What a NaNError says about where a NaN comes from and what to do about it."""

# type of a value -> its backend; None for the values that belong to none (0-D floats and
# masks broadcast against any backend). Array types are added when first seen.
_KIND: dict[type, Backend | None] = {float: None, bool: None, list: None, FloatArray: PYTHON}
_BY_NAMESPACE: dict[int, Backend] = {}

# array libraries that implement the standard only through array_api_compat
_COMPAT_LIBRARIES = frozenset({"torch", "cupy", "jax", "jaxlib", "dask", "sparse", "ndonnx"})


def common_backend(datas: Sequence[object], what: str = "") -> Backend:
    """The one backend of the 1-D operands in ``datas`` (``python`` if all are 0-D).

    BackendError, naming ``what`` and both backends, if two operands disagree.
    """
    found: Backend | None = None
    for d in datas:
        try:
            be = _KIND[type(d)]
        except KeyError:
            be = _learn(d, what)
        if be is not None and be is not found:
            if found is not None:
                raise _mixed(what, found, be, datas)
            found = be
    return PYTHON if found is None else found


def backend_of(x: object) -> Backend:
    """The backend of one value (``python`` for a float)."""
    try:
        be = _KIND[type(x)]
    except KeyError:
        be = _learn(x, "")
    return PYTHON if be is None else be


def _namespace(x: object) -> Any:
    """The Array API namespace of ``x``, or None if it is not an array geograd can use."""
    get = getattr(x, "__array_namespace__", None)
    if get is not None:
        return get()
    if type(x).__module__.partition(".")[0] in _COMPAT_LIBRARIES:
        try:
            # optional: imported only when such an array arrives, never required
            array_api_compat = importlib.import_module("array_api_compat")
        except ImportError:
            raise BackendError(
                f"a {type(x).__module__}.{type(x).__name__} needs the array_api_compat package "
                "to be used by geograd (pip install array-api-compat)"
            ) from None
        return array_api_compat.array_namespace(x)
    return None


def namespace_backend(xp: Any) -> Backend:
    """The backend for the Array API namespace ``xp`` (one per namespace, made once)."""
    be = _BY_NAMESPACE.get(id(xp))
    if be is None:
        from geograd.arrayapi import backend_for

        be = _BY_NAMESPACE[id(xp)] = cast(Backend, backend_for(xp))
    return be


def _learn(x: object, what: str) -> Backend | None:
    """Find the backend of a type not seen before, and remember it (1-D arrays only)."""
    if isinstance(x, float):
        return None  # a float subclass (numpy.float64): 0-D
    xp = _namespace(x)
    if xp is None:
        prefix = f"{what}: " if what else ""
        raise BackendError(
            f"{prefix}a {type(x).__name__} is not a value geograd computes with (a float, a "
            "FloatArray, or a 1-D array of an Array API namespace such as numpy)"
        )
    be = namespace_backend(xp)
    if getattr(x, "ndim", 1) == 0 and not be.lazy:
        return None  # a 0-D array is a number: it broadcasts, whatever its type
    _KIND[type(x)] = be  # a lazy 0-D value is no number yet: it stays in its backend
    return be


def _mixed(what: str, a: Backend, b: Backend, datas: Sequence[object]) -> BackendError:
    def named(be: Backend) -> str:
        kinds = sorted({type(d).__name__ for d in datas if _KIND.get(type(d)) is be})
        return f"{be.name} ({', '.join(kinds)})"

    prefix = f"{what}: " if what else ""
    return BackendError(
        f"{prefix}operands from two array backends, {named(a)} and {named(b)}; the 1-D "
        "operands of one operation must share a backend (a float or a 0-D tensor broadcasts "
        "against any): convert one, e.g. Tensor(t.tolist()) for the standard library"
    )


# ------------------------------------------------------------------ helpers on one value


def to_data(value: object, name: str = "Tensor", like: Backend | None = None) -> Data:
    """``value`` as ``Data``: a number becomes a float, a 1-D sequence of numbers a
    FloatArray (python), an Array API array a float64 copy in its own namespace
    (a 0-D one a float). NaN is refused (DomainError), and so is nesting.

    ``like``: the backend for a list or tuple (a literal, which belongs to no backend:
    ``F.dot(x, [1.0, 2.0])`` computes in x's); the standard library's if None.
    """
    t = type(value)
    if t is float:
        if value != value:
            raise DomainError(f"{name}: the value is NaN")
        return cast(float, value)
    be = _KIND.get(t)
    if be is None and _foreign_array(value):
        be = namespace_backend(_namespace(value))
    out = (PYTHON if be is None else be).to_data(value, name)
    if like is not None and like is not PYTHON and (t is list or t is tuple):
        return like.from_list(fa.values(out, name)) if type(out) is FloatArray else out
    return out


def _foreign_array(value: object) -> bool:
    """An array (or array scalar) of a library that geograd reaches through the standard."""
    if isinstance(value, (list, tuple, int, float)):
        return False
    return hasattr(value, "__array_namespace__") or (
        type(value).__module__.partition(".")[0] in _COMPAT_LIBRARIES
    )


def shape_of(x: Data) -> tuple[int, ...]:
    """``()`` for a float, ``(n,)`` for a 1-D array of n values."""
    return () if type(x) is float else x.shape  # type: ignore[union-attr]


def is_array(x: object) -> bool:
    """True for a 1-D array of a backend (not a float, a mask or anything else)."""
    t = type(x)
    if t is float or t is bool or t is list:
        return False
    if t in _KIND:
        return _KIND[t] is not None and getattr(x, "ndim", 1) == 1
    return hasattr(x, "__array_namespace__") and getattr(x, "ndim", 0) == 1


def tolist(x: Data, what: str) -> list[float]:
    """The values of a 1-D ``x`` as a new list of floats; NaNError naming ``what`` on a NaN."""
    return backend_of(x).tolist(x, what)


def find_nan(x: Data) -> int:
    """The index of the first NaN in ``x`` (0 for a 0-D NaN), or -1 when there is none."""
    if type(x) is float:
        return 0 if x != x else -1
    return backend_of(x).find_nan(x)


def refuse_nan(x: Data, what: str) -> None:
    """NaNError naming ``what`` and the index when ``x`` holds a NaN; else nothing."""
    i = find_nan(x)
    if i >= 0:
        where = f" at index {i}" if type(x) is not float else ""
        raise NaNError(f"{what}: the value{where} is NaN, {fa.NAN_HINT}")


def is_finite(x: Data) -> bool:
    """True when every value of ``x`` is finite (no inf, no NaN)."""
    return backend_of(x).is_finite(x)


def zeros_like(x: Data) -> Data:
    """0.0, or zeros shaped like ``x`` in its backend."""
    return 0.0 if type(x) is float else backend_of(x).full_like(x, 0.0)


def full_like(x: Data, value: float) -> Data:
    """``value``, or an array of it shaped like ``x`` in its backend."""
    return float(value) if type(x) is float else backend_of(x).full_like(x, value)


def quiet(*datas: Data) -> AbstractContextManager[Any]:
    """A context in which arithmetic on ``datas`` with Python operators emits no warnings
    (numpy's RuntimeWarnings on overflow): for code above layer 1 that writes ``a + b``."""
    return common_backend(datas).quiet()


# ------------------------------------------------------- lazy values: the one seam


def is_lazy(x: object) -> bool:
    """True for a value of a lazy backend (a dask array, 0-D or 1-D): not computed yet."""
    t = type(x)
    if t is float or t is FloatArray or x is None:
        return False
    return backend_of(x).lazy


def materialize(*datas: Any) -> list[Any]:
    """The values of ``datas``, computed: the one place where lazy values become numbers.

    Values of a lazy backend (dask) are computed **together**, in one pass over their
    data (one ``dask.compute``: a solve's loss and its parameters' gradients share the
    pass), with the deferred checks of the no-silent-NaN contract; a 0-D value comes
    back as a float, a 1-D one as the in-memory array its namespace computes (numpy's
    for dask). Everything else (floats, FloatArrays, numpy, None) comes back as it is,
    at the cost of a type check: the hook is the identity for eager backends.
    """
    lazy: Backend | None = None
    for d in datas:
        t = type(d)
        if t is not float and t is not FloatArray and d is not None:
            be = backend_of(d)
            if be.lazy:
                if lazy is not None and be is not lazy:
                    raise _mixed("materialize", lazy, be, datas)
                lazy = be
    if lazy is None:
        return list(datas)
    return lazy.materialize(datas)


def persist(*datas: Any) -> list[Any]:
    """``datas`` with every lazy value computed once and kept where it was computed (on a
    dask.distributed cluster: in its workers' memory), so that each later pass starts
    from there rather than from the source; the identity for eager backends. Call it
    once on the data, not per step."""
    lazy = next((backend_of(d) for d in datas if is_lazy(d)), None)
    return list(datas) if lazy is None else lazy.persist(datas)


def convert(x: Data, like: Data) -> Data:
    """The computed value ``x`` in the backend of ``like`` (a parameter's gradient, made
    from lazy data, in the parameter's own backend): as it is when it is there already
    or is 0-D (a float), else through a list of floats (a parameter is small)."""
    if type(x) is float or type(like) is float:
        return x
    target = backend_of(like)
    if backend_of(x) is target:
        return x
    return target.from_list(tolist(x, "convert"))
