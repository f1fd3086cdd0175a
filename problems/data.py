"""Loading point sets from files: CSV, TSV, whitespace-separated text, or ``.npy``.

Text files
    One point per line. The separator is a comma for ``.csv`` files (quoted
    fields allowed), a tab for ``.tsv``/``.tab`` files, and for any other suffix
    a comma if the first line holds one, else any run of whitespace. Blank lines
    and lines starting with ``#`` are skipped. The first line is a header when
    none of its fields is a number; then it names the columns: a column named
    ``w``, ``weight`` or ``weights`` (any case) holds the weights, every other
    column is a coordinate. Without a header every column is a coordinate.

``.npy`` files
    A 2-D float or integer array, one point per row (a 1-D array is n points on
    a line), loaded with ``allow_pickle=False``: a file holding Python objects is
    refused, never unpickled. A structured array with named fields works like a
    header (``w``/``weight`` for the weights). numpy is imported only here.
    ``load_points(..., as_array=True)`` keeps the points in numpy (a float64 array of
    shape (d, n), see :class:`PointSet`), checked whole arrays at a time, with no
    Python float made per number; :meth:`Problem.load_points
    <geograd.problems.base.Problem.load_points>` asks for that on the numpy backend.

Every problem in the file is an :class:`~geograd.errors.InputError` whose
message starts with ``FILE:LINE:`` (text) or ``FILE: row I`` (``.npy``): wrong
field counts, non-numeric or non-finite values, negative or all-zero weights, an
empty file, a missing or unreadable one.

Only a regular file is read (``/dev/zero``, a FIFO or a socket is refused
before it is opened; see :func:`geograd.fileio.read_regular`), of at most
:data:`MAX_MIB` MiB (the environment variable ``GEOGRAD_MAX_INPUT_MB`` changes
that) and no more than the memory available allows, in chunks that Ctrl-C
interrupts. A ``.npy`` header is checked against the data that follow it before
anything is allocated, so a header announcing terabytes is an error, not a
MemoryError.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geograd.errors import InputError
from geograd.fileio import read_regular, size_text

WEIGHT_NAMES = ("w", "weight", "weights")
#: The largest points file read, in MiB: some 6 million 2-D points as CSV, 16 million
#: in a .npy file, far more than the standard-library engine solves in good time.
MAX_MIB = 256
#: Memory a loaded file takes, as a multiple of its size: the text, its lines and
#: fields, and a Python float (24 bytes) in a tuple for each number.
TEXT_EXPANSION = 12.0
#: The same for a .npy file read as lists: the bytes, the array, the float copy and
#: Python's floats.
NPY_EXPANSION = 10.0
#: The same for a .npy file read as an array (``as_array=True``): the bytes (twice while
#: the chunks read are joined) and the float64 columns, with a margin (a float32 or
#: integer file's float64 columns are larger than the file).
NPY_ARRAY_EXPANSION = 4.0


@dataclass(frozen=True)
class PointSet:
    """Points read from a file.

    ``data`` holds them in one of two forms:

    - a list of rows, ``data[i]`` the i-th point as a tuple of dim floats (text files,
      and ``.npy`` files read with ``as_array=False``, the default);
    - a ``.npy`` file read with ``as_array=True``: one float64 numpy array of shape
      (dim, n), C-contiguous, ``data[j]`` coordinate j of every point, and the weights
      (if any) a float64 array: no Python float is made per number.

    :attr:`points` and :meth:`columns` give lists in either form (converting an array),
    :meth:`as_lists` the same points held as lists.
    """

    data: Any
    weights: Any
    names: tuple[str, ...]
    source: str

    @property
    def is_array(self) -> bool:
        """True when the points are held as a numpy array (see the class docstring)."""
        return not isinstance(self.data, list)

    @property
    def points(self) -> list[tuple[float, ...]]:
        """The points as rows: ``points[i]`` is the i-th point, a tuple of dim floats."""
        if isinstance(self.data, list):
            return self.data
        return list(zip(*self.data.tolist()))

    @property
    def n(self) -> int:
        return len(self.data) if isinstance(self.data, list) else int(self.data.shape[1])

    @property
    def dim(self) -> int:
        return len(self.names)

    def columns(self) -> list[list[float]]:
        """The coordinates column by column: ``columns()[j][i]`` is coordinate j of point i."""
        if not isinstance(self.data, list):
            out: list[list[float]] = self.data.tolist()
            return out
        return [[p[j] for p in self.data] for j in range(self.dim)]

    def as_lists(self) -> PointSet:
        """The same points held as lists (rows of floats; the weights a list of floats)."""
        if isinstance(self.data, list):
            return self
        weights = None if self.weights is None else [float(v) for v in self.weights.tolist()]
        return PointSet(self.points, weights, self.names, self.source)


def load_points(
    path: str | Path,
    *,
    weights: bool = True,
    dim: int | None = None,
    min_points: int = 1,
    what: str = "points file",
    as_array: bool = False,
) -> PointSet:
    """Read a point set from ``path`` (see the module docstring for the formats).

    ``weights=False`` refuses a weight column; ``dim`` demands that many
    coordinates; ``min_points`` demands at least that many points. ``as_array=True``
    keeps a ``.npy`` file's points in a numpy array (see :class:`PointSet`; text files
    are read as lists either way).
    """
    p = Path(path)
    name = str(path)
    _refuse_lazy_formats(p, name)
    npy = p.suffix.lower() == ".npy"
    expansion = NPY_ARRAY_EXPANSION if as_array else NPY_EXPANSION
    if not npy:
        expansion = TEXT_EXPANSION
    raw = read_regular(
        p, what=what, name=name, default_mib=MAX_MIB, expansion=expansion,
        advice=f"use fewer points ({LAZY_READERS})",
    )  # fmt: skip
    try:
        ps = _load_npy(raw, name, as_array) if npy else _load_text(raw, p, name)
    except MemoryError:
        raise InputError(
            f"{name}: not enough memory to load it ({size_text(len(raw))}); use fewer points"
        ) from None
    if ps.weights is not None and not weights:
        raise InputError(f"{name}: has a weight column, but this problem takes no weights")
    if dim is not None and ps.dim != dim:
        raise InputError(
            f"{name}: points have {ps.dim} coordinate{'s' if ps.dim != 1 else ''}; "
            f"this problem needs {dim}"
        )
    if ps.n < min_points:
        raise InputError(f"{name}: {ps.n} point(s); this problem needs at least {min_points}")
    return ps


def _load_text(raw: bytes, p: Path, name: str) -> PointSet:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{name}:{line}: not UTF-8 text (a binary file?); give CSV, TSV, "
            "whitespace-separated numbers or a .npy file"
        ) from None
    suffix = p.suffix.lower()
    lines = [
        (i, line)
        for i, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise InputError(f"{name}: the file is empty (no data lines); give one point per line")
    first = lines[0][1]
    if suffix in (".tsv", ".tab"):
        sep: str | None = "\t"
    elif suffix == ".csv" or "," in first:
        sep = ","
    else:
        sep = None

    def split(line: str, lineno: int) -> list[str]:
        if sep == ",":
            try:
                return [f.strip() for f in next(csv.reader([line]))]
            except csv.Error as exc:
                # e.g. a field over the csv module's limit (131072 characters): no number
                raise InputError(
                    f"{name}:{lineno}: not a line of comma-separated numbers ({exc})"
                ) from None
        if sep == "\t":
            return [f.strip() for f in line.split("\t")]
        return line.split()

    header: list[str] | None = None
    head_line = lines[0][0]
    head_fields = split(first, head_line)
    if head_fields and not any(_is_number(f) for f in head_fields):
        header = head_fields
        lines = lines[1:]
        for j, col in enumerate(header, start=1):
            if not col:
                raise InputError(f"{name}:{head_line}: header column {j} is empty")
        lowered = [c.lower() for c in header]
        for j, col in enumerate(lowered):
            if col in lowered[:j]:
                raise InputError(f"{name}:{head_line}: header names column {header[j]!r} twice")
        if not lines:
            raise InputError(f"{name}: the file has a header but no data lines")
    width = len(header) if header is not None else len(split(lines[0][1], lines[0][0]))
    weight_cols = (
        [] if header is None else [j for j, c in enumerate(header) if c.lower() in WEIGHT_NAMES]
    )
    if len(weight_cols) > 1:
        raise InputError(
            f"{name}:{head_line}: more than one weight column "
            f"({', '.join(header[j] for j in weight_cols)})"  # type: ignore[index]
        )
    wcol = weight_cols[0] if weight_cols else None
    if header is not None and width - len(weight_cols) == 0:
        raise InputError(f"{name}:{head_line}: no coordinate columns, only weights")
    like = "the header" if header is not None else f"line {lines[0][0]}"

    points: list[tuple[float, ...]] = []
    wts: list[float] = []
    for lineno, row in lines:
        fields = split(row, lineno)
        if len(fields) != width:
            raise InputError(
                f"{name}:{lineno}: {len(fields)} field{'s' if len(fields) != 1 else ''}, "
                f"expected {width} like {like}"
            )
        values = []
        for j, f in enumerate(fields):
            col = header[j] if header is not None else f"column {j + 1}"
            try:
                v = float(f)
            except ValueError:
                shown = repr(f) if f else "an empty field"
                raise InputError(
                    f"{name}:{lineno}: {shown} in {_col(col)} is not a number"
                ) from None
            if not math.isfinite(v):
                raise InputError(f"{name}:{lineno}: {f!r} in {_col(col)} is not finite")
            values.append(v)
        if wcol is not None:
            w = values.pop(wcol)
            if w < 0:
                raise InputError(
                    f"{name}:{lineno}: weight {fields[wcol]} is negative; weights must be >= 0"
                )
            wts.append(w)
        points.append(tuple(values))
    if wcol is not None and not any(w > 0 for w in wts):
        raise InputError(f"{name}: all weights are zero; at least one must be positive")
    if header is not None:
        names = tuple(c for j, c in enumerate(header) if j != wcol)
    else:
        names = _default_names(width)
    return PointSet(points, wts if wcol is not None else None, names, name)


#: Header names of latitude and longitude columns (compared in lower case).
LAT_NAMES, LON_NAMES = ("lat", "latitude"), ("lon", "lng", "long", "longitude")
#: Header names that say which columns are coordinates (the planar x, y, z; the
#: sphere's latitude and longitude).
COORDINATE_HEADER_NAMES = frozenset({"x", "y", "z", *LAT_NAMES, *LON_NAMES})


#: Where data too large for a whole-file read go.
LAZY_READERS = "the median reads any size chunk by chunk with --backend dask, or --stream"


def _refuse_lazy_formats(p: Path, name: str) -> None:
    """Parquet, Zarr and directories of shards are read lazily (problems/sources.py), not
    by this whole-file reader: one line that says so, not 'not UTF-8 text' or 'is a
    directory'."""
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".zarr") or p.is_dir():
        kind = {".parquet": "Parquet data", ".zarr": "a Zarr store"}.get(suffix, "a directory")
        raise InputError(
            f"{name}: is {kind}; this reader takes one text or .npy file. The median reads "
            "directories of shards, Parquet and Zarr chunk by chunk with --backend dask, "
            "or --stream"
        )


def refuse_unnamed_extras(names: Sequence[str], name: str) -> None:
    """For a problem that reads nothing but coordinates (and weights): a file whose header
    names its coordinates (x, y[, z], or lat, lon) and other columns too (an id, a speed)
    would have those read as more coordinates, a median in R^4 of an ``id,x,y,speed``
    file. InputError naming them. Column names that name no coordinate (a, b, c, d)
    keep every column as one: points in any dimension."""
    known = [c for c in names if c.lower() in COORDINATE_HEADER_NAMES]
    extra = [c for c in names if c not in known]
    if known and extra:
        many = len(extra) > 1
        raise InputError(
            f"{name}: column{'s' if many else ''} {', '.join(map(repr, extra))} "
            f"{'are' if many else 'is'} neither a coordinate ({', '.join(known)}) nor a "
            f"weight; remove {'them' if many else 'it'} from the file, or name no column "
            "x/y/z to have every column read as a coordinate"
        )


def _col(col: str) -> str:
    return col if col.startswith("column ") else f"column {col!r}"


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _default_names(d: int) -> tuple[str, ...]:
    if d <= 3:
        return ("x", "y", "z")[:d]
    return tuple(f"x{j + 1}" for j in range(d))


def _npy_header(np: Any, raw: bytes, name: str) -> Any:
    """Check a .npy file's header against the data that follow it, before numpy
    allocates what the header announces (which could be terabytes).

    Returns the array the file holds, as a read-only view of ``raw`` (no copy), or None
    for a dtype holding Python objects (left to ``np.load(allow_pickle=False)``, which
    refuses it with its own message).
    """
    fp = io.BytesIO(raw)
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
        reader = readers.get(version)
        if reader is None:  # version 3.0 (UTF-8 field names): numpy's own reader
            reader = getattr(fmt, "_read_array_header", None)
            if reader is None:
                raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
            shape, fortran, dtype = reader(fp, version)
        else:
            shape, fortran, dtype = reader(fp)
    except (ValueError, TypeError, SyntaxError, EOFError) as exc:
        raise InputError(f"{name}: not a valid .npy file ({_one_line(exc)})") from None
    if dtype.hasobject:
        return None
    count = math.prod(shape)
    need = count * dtype.itemsize
    offset = fp.tell()
    have = len(raw) - offset
    if need > have:
        raise InputError(
            f"{name}: the header announces an array of shape {tuple(shape)} "
            f"({size_text(need)}) but the file holds {size_text(have)} of data; "
            "the file is truncated or damaged, save it again with numpy.save"
        )
    # What np.load does for a file object, without its copy of the data.
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _load_npy(raw: bytes, name: str, as_array: bool = False) -> PointSet:
    """The points of a .npy file, checked with numpy, whole arrays at a time; in numpy
    arrays (``as_array``) or as lists of floats (see :class:`PointSet`)."""
    try:
        import numpy as np
    except ImportError:
        raise InputError(
            f"{name}: reading a .npy file needs numpy, which is not installed "
            "(pip install numpy); or save the points as CSV"
        ) from None

    if not raw:
        raise InputError(f"{name}: the file is empty; save an (n, d) array with numpy.save")
    arr: Any = None
    if raw.startswith(b"\x93NUMPY"):
        arr = _npy_header(np, raw, name)
    # else not a .npy file at all (an .npz archive, a pickle): np.load says which
    if arr is None:
        try:
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
        except ValueError as exc:
            if "pickle" in str(exc).lower():
                raise InputError(
                    f"{name}: holds pickled Python objects, which geograd never loads; "
                    "save a plain float array (numpy.save with a float dtype)"
                ) from None
            raise InputError(f"{name}: not a valid .npy file ({exc})") from None
        except (OSError, EOFError) as exc:
            raise InputError(f"{name}: not a valid .npy file ({exc})") from None
        if not isinstance(arr, np.ndarray):
            if hasattr(arr, "close"):
                arr.close()
            raise InputError(f"{name}: is an .npz archive, not a .npy array; save one array")

    # The coordinates as float64 columns, shape (d, n): one copy, whatever the file's
    # layout and dtype (the same numbers as converting each to a Python float).
    columns: Any = None
    weights: Any = None
    if arr.dtype.names:
        fields = list(arr.dtype.names)
        wf = [f for f in fields if f.lower() in WEIGHT_NAMES]
        if len(wf) > 1:
            raise InputError(f"{name}: more than one weight field ({', '.join(wf)})")
        coords = [f for f in fields if f not in wf]
        if not coords:
            raise InputError(f"{name}: no coordinate fields, only weights")
        if arr.ndim != 1:
            raise InputError(f"{name}: a structured array must be 1-D, got shape {arr.shape}")
        for f in fields:
            _check_dtype(arr.dtype[f], name, f"field {f!r}")
        if len(arr):
            columns = np.empty((len(coords), len(arr)), dtype=np.float64)
            for j, f in enumerate(coords):
                columns[j] = arr[f]
            if wf:
                weights = np.array(arr[wf[0]], dtype=np.float64)
        names = tuple(coords)
    else:
        _check_dtype(arr.dtype, name, "the array")
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise InputError(
                f"{name}: array of shape {arr.shape}; give shape (n, d), one point per row"
            )
        if arr.shape[0] and arr.shape[1]:
            columns = np.ascontiguousarray(arr.T, dtype=np.float64)
        names = _default_names(arr.shape[1])
    if columns is None:
        raise InputError(f"{name}: the array is empty (shape {arr.shape}); give at least one point")
    del arr  # the file's bytes are the caller's; numpy's view of them is not needed
    # A sum is finite when every term is (one pass); only when it is not, find the row.
    with np.errstate(all="ignore"):
        finite_sum = bool(np.isfinite(columns.sum()))
    if not finite_sum:
        finite = np.isfinite(columns).all(axis=0)
        if not finite.all():
            i = int(np.argmin(finite))
            raise InputError(
                f"{name}: row {i} (0-based) has a non-finite value {columns[:, i].tolist()}"
            )
    if weights is not None:
        bad = ~np.isfinite(weights) | (weights < 0)
        if bad.any():
            i = int(np.argmax(bad))
            w = float(weights[i])
            if not math.isfinite(w):
                raise InputError(f"{name}: row {i} (0-based) has a non-finite weight {w}")
            raise InputError(
                f"{name}: row {i} (0-based) has weight {w}, negative; weights must be >= 0"
            )
        if not (weights > 0).any():
            raise InputError(f"{name}: all weights are zero; at least one must be positive")
    if not as_array:
        return PointSet(columns, weights, names, name).as_lists()
    # Read-only: the points as read; a problem may hand them to the engine uncopied.
    columns.flags.writeable = False
    if weights is not None:
        weights.flags.writeable = False
    return PointSet(columns, weights, names, name)


def _check_dtype(dtype: Any, name: str, what: str) -> None:
    if dtype.kind not in "iuf":
        raise InputError(f"{name}: {what} has dtype {dtype}, not numbers; save floats or integers")


def as_columns(points: Sequence[Sequence[float]]) -> list[list[float]]:
    """Row-major points to column-major coordinates."""
    d = len(points[0]) if points else 0
    return [[float(p[j]) for p in points] for j in range(d)]


# ------------------------------------------------------------------ data given in code

#: How points are given in code, for messages.
ROWS_HOW = (
    "one row a point (a list of lists, or an (n, d) array; n points on a line are n rows of one)"
)


def _shown(value: Any, width: int = 40) -> str:
    """``value``'s repr for a message, cut to ``width`` characters (a numpy scalar as the
    Python number it holds)."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _is_bool(value: Any) -> bool:
    """True for a bool, Python's or numpy's (``numpy.bool_`` is no ``bool``)."""
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


def described(value: Any) -> str:
    """What ``value`` is, in words for a message: "None", "the string 'a'", "the bool
    True", "the complex number 1j", "the number 5", "a dict", "an array of shape (2, 2)"."""
    ndim = getattr(value, "ndim", None)
    if isinstance(ndim, int) and ndim > 0:
        return f"an array of shape {tuple(getattr(value, 'shape', ()))}"
    if ndim == 0 and hasattr(value, "item"):  # a numpy scalar or 0-D array: its number
        value = value.item()
    if value is None:
        return "None"
    if isinstance(value, (str, bytes, bytearray)):
        return f"the string {_shown(value)}"
    if _is_bool(value):
        return f"the bool {_shown(value)}"
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        return f"the complex number {_shown(value)}"
    if isinstance(value, numbers.Number):
        return f"the number {_shown(value)}"
    if isinstance(value, Mapping):
        return f"a {type(value).__name__}"
    return f"{_shown(value)} (a {type(value).__name__})"


def items_of(values: Any) -> list[Any] | None:
    """``values`` as a list of its items, or None when it is no sequence of items (None, a
    number, a string, a mapping, a 0-D array)."""
    if type(values) is list:  # the common case, first
        return values
    if type(values) is tuple:
        return list(values)
    if values is None or isinstance(values, (str, bytes, bytearray, Mapping)):
        return None
    if isinstance(values, numbers.Number) or getattr(values, "ndim", None) == 0:
        return None
    if not isinstance(values, Iterable):
        return None
    try:
        return list(values)
    except TypeError:  # a 0-D array: iterable by its type, not by its shape
        return None


def number(value: Any, name: str, where: str, what: str) -> float:
    """``value`` as a float; else one InputError: "NAME: WHERE is ..., not a number; give
    WHAT". A string (even "1.5"), a bool, a complex number or an array is not a number
    here, though ``float()`` takes some of them: each is more likely a mistake than meant."""
    why: str | None = None
    if isinstance(value, (str, bytes, bytearray)) or _is_bool(value):
        why = f"{described(value)}, not a number"
    elif isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        why = f"{described(value)}, not a real number"
    elif isinstance(getattr(value, "ndim", None), int) and value.ndim > 0:
        why = f"{described(value)}, not a number"
    if why is None:
        try:
            return float(value)
        except OverflowError:  # an int (a fraction) beyond the floats
            big = "an integer" if isinstance(value, numbers.Integral) else _shown(value)
            why = f"{big} beyond the largest float (1.8e308)"
        except (TypeError, ValueError):
            why = f"{described(value)}, not a number"
    raise InputError(f"{name}: {where} is {why}; give {what}")


#: The types of the numbers taken as they are (bool is not int here: ``type(True)``).
_PLAIN = frozenset((float, int))


def _plain_floats(values: Any) -> list[list[float]] | None:
    """The rows as floats when they are lists or tuples of Python floats and ints (the
    common case, checked and converted at the speed of comprehensions); else None, and
    :func:`numeric_rows` looks at each entry."""
    if type(values) not in (list, tuple) or not all(type(r) in (list, tuple) for r in values):
        return None
    if not {type(v) for r in values for v in r} <= _PLAIN:
        return None
    try:
        return [[float(v) for v in r] for r in values]
    except OverflowError:  # an int beyond the floats: named entry by entry
        return None


def numeric_rows(values: Any, name: str, arg: str = "points") -> list[list[float]]:
    """Points given in code (rows: lists, tuples, an (n, d) array) as rows of floats; else
    one InputError naming the argument ``arg`` and the row (``points[2]``) or the entry
    (``points[2][1]``) that is not a number, and how to give them. Finiteness and the
    rows' lengths are the caller's to check (see :meth:`PointProblem.given
    <geograd.problems.lifecycle.PointProblem.given>`)."""
    if is_array(values) and type(values).__module__.split(".", 1)[0] == "numpy":
        values = values.tolist()  # Python numbers (or the objects it holds), in one pass
    fast = _plain_floats(values)
    if fast is not None:
        return fast
    rows = items_of(values)
    how = f"give the {arg} as rows of numbers, {ROWS_HOW}"
    if rows is None:
        raise InputError(f"{name}: {arg} is {described(values)}, not rows of numbers; {how}")
    out: list[list[float]] = []
    for i, row in enumerate(rows):
        entries = items_of(row)
        if entries is None:
            raise InputError(f"{name}: {arg}[{i}] is {described(row)}, not a row of numbers; {how}")
        where = f"{arg}[{i}]"
        out.append(
            [number(v, name, f"{where}[{j}]", "each coordinate as an int or a float")
             for j, v in enumerate(entries)]
        )  # fmt: skip
    return out


def first_non_finite(rows: Sequence[Sequence[float]]) -> tuple[int, int] | None:
    """(i, j) of the first entry of ``rows`` that is not finite, or None."""
    if all(map(math.isfinite, itertools.chain.from_iterable(rows))):  # one fast pass
        return None
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if not math.isfinite(v):
                return i, j
    return None


def _numbers(values: Any, name: str, arg: str, items: str) -> list[float]:
    """``values`` as a list of floats (one per point), or one InputError naming the entry
    that is not a number (``arg[i]``), or saying that they are no list."""
    one, point = (w[:-1] if w.endswith("s") else w for w in (arg, items))
    if is_array(values) and type(values).__module__.split(".", 1)[0] == "numpy":
        values = values.tolist()
    got = items_of(values)
    if got is not None and {type(v) for v in got} <= _PLAIN:  # the common case, fast
        try:
            return [float(v) for v in got]
        except OverflowError:  # an int beyond the floats: named below
            pass
    if got is None:
        raise InputError(
            f"{name}: {arg} is {described(values)}, not a list of numbers; give one {one} "
            f"per {point}"
        )
    return [number(v, name, f"{arg}[{i}]", f"each {one} as an int or a float")
            for i, v in enumerate(got)]  # fmt: skip


def _count(name: str, arg: str, m: int, n: int, items: str) -> None:
    """An InputError unless there are as many numbers ``m`` as points ``n``."""
    if m != n:
        one, point = (w[:-1] if w.endswith("s") else w for w in (arg, items))
        raise InputError(f"{name}: {m} {arg} for {n} {items}; give one {one} per {point}")


def numbers_per_point(
    values: Any, name: str, arg: str, n: int, items: str = "points"
) -> list[float]:
    """One finite number per point (``arg``: the argument in messages, "ranges"), as floats;
    else one InputError naming the entry (``ranges[3]``) or the count, and what to give."""
    out = _numbers(values, name, arg, items)
    _count(name, arg, len(out), n, items)
    bad = first_non_finite([out])
    if bad is not None:
        raise InputError(
            f"{name}: {arg}[{bad[1]}] is {out[bad[1]]}; the {arg} must be finite numbers"
        )
    return out


#: What weights must be, for messages.
WEIGHTS_RULE = "weights must be finite, >= 0, not all 0"


def checked_weights(values: Any, name: str, n: int, items: str = "points") -> Any:
    """Weights given in code for ``n`` points, checked: one per point, each a finite number
    >= 0, not all 0; else one InputError naming the entry (``weights[2]``) or the count.
    A numpy array of numbers is checked whole and returned as it is (a dask array is
    returned unchecked: its values are on the cluster); anything else as a list of floats."""
    if is_array(values) and type(values).__module__.split(".", 1)[0] == "dask":
        return values
    dtype = getattr(values, "dtype", None)
    if dtype is not None and getattr(values, "ndim", 0) == 1 and dtype.kind in "iuf":
        import numpy as np

        w = np.asarray(values)
        _count(name, "weights", len(w), n, items)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.argmax(bad))
            _refuse_weight(name, i, float(w[i]))
        if not (w > 0).any():
            _refuse_zero_weights(name, n)
        return values
    out = _numbers(values, name, "weights", items)
    _count(name, "weights", len(out), n, items)
    if not (all(map(math.isfinite, out)) and min(out, default=0.0) >= 0.0):
        for i, v in enumerate(out):
            if not math.isfinite(v) or v < 0:
                _refuse_weight(name, i, v)
    if not any(out):
        _refuse_zero_weights(name, n)
    return out


def _refuse_weight(name: str, i: int, w: float) -> None:
    what = "negative" if w < 0 else "not finite"
    raise InputError(f"{name}: weights[{i}] is {w:g}, {what}; {WEIGHTS_RULE}")


def _refuse_zero_weights(name: str, n: int) -> None:
    every = "the weight is" if n == 1 else f"all {n} weights are"
    raise InputError(f"{name}: {every} 0; {WEIGHTS_RULE} (give one a positive weight)")


# --------------------------------------------------------- random.Random's numbers, in bulk


#: The constant of ``random.normalvariate`` (the same expression as CPython's).
NV_MAGICCONST = 4 * math.exp(-0.5) / math.sqrt(2.0)


class NumpyRandom:
    """The numbers ``random.Random(seed)`` draws, drawn in bulk into numpy arrays.

    Both are the same Mersenne Twister (MT19937): the generator starts from the very
    state ``random.Random(seed)`` seeds, and every method consumes the stream as the
    method of the same name does in CPython, so that a sequence of calls gives the same
    numbers, bit for bit, as the same sequence of scalar calls on ``random.Random(seed)``
    (``uniform(a, b, n)`` as ``[r.uniform(a, b) for _ in range(n)]``): ``random()`` is
    (a·2^26 + b)/2^53 from two 32-bit words in both (numpy's ``Generator.random`` on
    MT19937); ``normalvariate`` is Kinderman–Monahan's ratio of uniforms, run on whole
    blocks of candidate pairs, the accepted ones taken in order (an acceptance within
    rounding of the bound is decided again by ``math.log``, as CPython decides it); and
    ``randrange(k)`` takes the top bits of one word per try, as ``getrandbits`` does.
    Where a block drew past the last number needed, the generator is rewound to its
    state before the block and replays exactly the words used.

    :func:`numpy_mirrors_random` checks all of this against ``random.Random`` itself,
    once per process.
    """

    #: Candidate pairs (normal deviates) or words (randrange) drawn per block.
    BLOCK = 1 << 17

    def __init__(self, seed: int) -> None:
        import random as _random

        import numpy as np

        self.np = np
        key = _random.Random(seed).getstate()[1]
        self.bits = np.random.MT19937()
        self.bits.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.array(key[:624], dtype=np.uint32), "pos": int(key[624])},
        }
        self.gen = np.random.Generator(self.bits)

    def random(self, n: int, out: Any = None) -> Any:
        """n numbers as ``random()`` draws them, in [0, 1) (into ``out`` when given: a
        float64 array of n)."""
        return self.gen.random(n, out=out)

    def uniform(self, a: float, b: float, n: int, out: Any = None) -> Any:
        """n numbers as ``uniform(a, b)`` draws them: a + (b - a)·random() (into ``out``
        when given). For (0, 1) that is random() itself: 0 + 1·u is u exactly."""
        out = self.gen.random(n, out=out)
        if (a, b) != (0, 1):
            out *= b - a
            out += a
        return out

    def normalvariate(self, mu: float, sigma: float, n: int, out: Any = None) -> Any:
        """n numbers as ``normalvariate(mu, sigma)`` draws them (into ``out`` when given)."""
        np = self.np
        out = np.empty(n) if out is None else out
        filled = 0
        while filled < n:
            need = n - filled
            pairs = min(self.BLOCK, need + need // 2 + 64)  # ~73 % of pairs are accepted
            before = self.bits.state
            u = self.gen.random(2 * pairs)
            u1 = u[0::2]
            u2 = 1.0 - u[1::2]
            z = NV_MAGICCONST * (u1 - 0.5) / u2
            zz = z * z / 4.0
            bound = -np.log(u2)
            accept = zz <= bound
            # numpy's log may differ from math.log in the last place: decide those again
            close = np.flatnonzero(np.abs(zz - bound) <= 1e-13 * bound)
            for i in close.tolist():
                accept[i] = float(zz[i]) <= -math.log(float(u2[i]))
            taken = np.flatnonzero(accept)
            if len(taken) > need:
                taken = taken[:need]
                self.bits.state = before
                self.gen.random(2 * (int(taken[-1]) + 1))  # replay the pairs used
            out[filled : filled + len(taken)] = z[taken]
            filled += len(taken)
        out *= sigma
        out += mu
        return out

    def randrange(self, k: int, n: int) -> Any:
        """n integers as ``randrange(k)`` draws them (k >= 1), as an int64 array."""
        np = self.np
        shift = 32 - k.bit_length()
        out = np.empty(n, dtype=np.int64)
        filled = 0
        while filled < n:
            need = n - filled
            tries = min(self.BLOCK, need + need // 2 + 64)
            before = self.bits.state
            r = (self.bits.random_raw(tries) >> shift).astype(np.int64)
            taken = np.flatnonzero(r < k)
            if len(taken) > need:
                taken = taken[:need]
                self.bits.state = before
                self.bits.random_raw(int(taken[-1]) + 1)  # replay the words used
            out[filled : filled + len(taken)] = r[taken]
            filled += len(taken)
        return out


@functools.lru_cache(maxsize=1)
def numpy_mirrors_random() -> bool:
    """True when :class:`NumpyRandom` draws what ``random.Random`` does here, checked once
    on a short sequence of every kind of call (a different Python or numpy would be
    caught, and its draws left to ``random.Random``)."""
    import random as _random

    try:
        r, m = _random.Random(20240607), NumpyRandom(20240607)
        want: list[float] = [r.random() for _ in range(3)]
        want += [r.uniform(0.1, 1.0) for _ in range(3)]
        want += [r.normalvariate(0.5, 0.15) for _ in range(300)]
        want += [float(r.randrange(5)) for _ in range(40)]
        want += [r.normalvariate(0.0, 0.05) for _ in range(7)]
        want += [r.random() for _ in range(2)]
        got = [
            *m.random(3).tolist(),
            *m.uniform(0.1, 1.0, 3).tolist(),
            *m.normalvariate(0.5, 0.15, 300).tolist(),
            *m.randrange(5, 40).astype(float).tolist(),
            *m.normalvariate(0.0, 0.05, 7).tolist(),
            *m.random(2).tolist(),
        ]
    except Exception:  # any failure means: do not use the mirror
        return False
    return got == want


# ----------------------------------------------------------------------------- columns


def is_array(values: Any) -> bool:
    """True for a numpy (or other n-d) array, False for a list or tuple (no import)."""
    return getattr(values, "ndim", None) is not None


def column_range(column: Any) -> tuple[float, float]:
    """(min, max) of one coordinate column, a sequence of floats or an array (whose own
    reductions run, not a Python loop over its items)."""
    if is_array(column):
        return float(column.min()), float(column.max())
    return float(min(column)), float(max(column))


def column_ranges(columns: Sequence[Sequence[float]] | Any) -> list[tuple[float, float]]:
    """(min, max) of each coordinate of points given column by column: lists, a (d, n)
    array, or a (d, n) dask array (all of them in one pass over the chunks)."""
    from .chunked import is_chunked

    if is_chunked(columns):
        from .chunked import column_ranges as chunked_ranges

        return chunked_ranges(columns)
    return [column_range(c) for c in columns]


def extent(columns: Sequence[Sequence[float]] | Any) -> float:
    """The largest coordinate extent of points given column by column (1 when they coincide);
    ``columns`` may be a list of sequences or a (d, n) array (numpy's or dask's)."""
    spread = max(hi - lo for lo, hi in column_ranges(columns))
    return spread if spread > 0 else 1.0
