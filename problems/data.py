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
import io
import math
from collections.abc import Sequence
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
#: The same for a .npy file: the bytes, the array, the float copy and Python's floats.
NPY_EXPANSION = 10.0


@dataclass(frozen=True)
class PointSet:
    """Points read from a file: ``points[i]`` is the i-th point (a tuple of dim floats)."""

    points: list[tuple[float, ...]]
    weights: list[float] | None
    names: tuple[str, ...]
    source: str

    @property
    def n(self) -> int:
        return len(self.points)

    @property
    def dim(self) -> int:
        return len(self.names)

    def columns(self) -> list[list[float]]:
        """The coordinates column by column: ``columns()[j][i]`` is coordinate j of point i."""
        return [[p[j] for p in self.points] for j in range(self.dim)]


def load_points(
    path: str | Path,
    *,
    weights: bool = True,
    dim: int | None = None,
    min_points: int = 1,
    what: str = "points file",
) -> PointSet:
    """Read a point set from ``path`` (see the module docstring for the formats).

    ``weights=False`` refuses a weight column; ``dim`` demands that many
    coordinates; ``min_points`` demands at least that many points.
    """
    p = Path(path)
    name = str(path)
    npy = p.suffix.lower() == ".npy"
    raw = read_regular(
        p, what=what, name=name, default_mib=MAX_MIB,
        expansion=NPY_EXPANSION if npy else TEXT_EXPANSION, advice="use fewer points",
    )  # fmt: skip
    try:
        ps = _load_npy(raw, name) if npy else _load_text(raw, p, name)
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


def _npy_header(np: Any, raw: bytes, name: str) -> None:
    """Check a .npy file's header against the data that follow it, before numpy
    allocates what the header announces (which could be terabytes)."""
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
            shape, _, dtype = reader(fp, version)
        else:
            shape, _, dtype = reader(fp)
    except (ValueError, TypeError, SyntaxError, EOFError) as exc:
        raise InputError(f"{name}: not a valid .npy file ({_one_line(exc)})") from None
    if dtype.hasobject:
        return  # refused by np.load(allow_pickle=False), with its own message below
    count = math.prod(shape)
    need = count * dtype.itemsize
    have = len(raw) - fp.tell()
    if need > have:
        raise InputError(
            f"{name}: the header announces an array of shape {tuple(shape)} "
            f"({size_text(need)}) but the file holds {size_text(have)} of data; "
            "the file is truncated or damaged, save it again with numpy.save"
        )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _load_npy(raw: bytes, name: str) -> PointSet:
    import numpy as np

    if not raw:
        raise InputError(f"{name}: the file is empty; save an (n, d) array with numpy.save")
    if raw.startswith(b"\x93NUMPY"):
        _npy_header(np, raw, name)
    # else not a .npy file at all (an .npz archive, a pickle): np.load says which
    try:
        arr: Any = np.load(io.BytesIO(raw), allow_pickle=False)
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

    weights: list[float] | None = None
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
        table = np.stack([arr[f].astype(float) for f in coords], axis=1) if len(arr) else None
        if wf and table is not None:
            weights = [float(v) for v in arr[wf[0]]]
        names = tuple(coords)
    else:
        _check_dtype(arr.dtype, name, "the array")
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise InputError(
                f"{name}: array of shape {arr.shape}; give shape (n, d), one point per row"
            )
        table = arr.astype(float) if arr.shape[0] and arr.shape[1] else None
        names = _default_names(arr.shape[1])
    if table is None:
        raise InputError(f"{name}: the array is empty (shape {arr.shape}); give at least one point")
    finite = np.isfinite(table).all(axis=1)
    if not finite.all():
        i = int(np.argmin(finite))
        raise InputError(f"{name}: row {i} (0-based) has a non-finite value {table[i].tolist()}")
    if weights is not None:
        for i, w in enumerate(weights):
            if not math.isfinite(w):
                raise InputError(f"{name}: row {i} (0-based) has a non-finite weight {w}")
            if w < 0:
                raise InputError(
                    f"{name}: row {i} (0-based) has weight {w}, negative; weights must be >= 0"
                )
        if not any(w > 0 for w in weights):
            raise InputError(f"{name}: all weights are zero; at least one must be positive")
    points = [tuple(float(v) for v in row) for row in table.tolist()]
    return PointSet(points, weights, names, name)


def _check_dtype(dtype: Any, name: str, what: str) -> None:
    if dtype.kind not in "iuf":
        raise InputError(f"{name}: {what} has dtype {dtype}, not numbers; save floats or integers")


def as_columns(points: Sequence[Sequence[float]]) -> list[list[float]]:
    """Row-major points to column-major coordinates."""
    d = len(points[0]) if points else 0
    return [[float(p[j]) for p in points] for j in range(d)]


def xy_columns(points: Sequence[Sequence[float]], owner: str) -> list[list[float]]:
    """Plane points (rows) as ``[xs, ys]``; a point without exactly 2 coordinates is an
    input error naming ``owner``."""
    rows = [[float(v) for v in p] for p in points]
    if any(len(p) != 2 for p in rows):
        raise InputError(f"{owner}: each point needs 2 coordinates (x, y)")
    return [[p[0] for p in rows], [p[1] for p in rows]]


def extent(columns: Sequence[Sequence[float]]) -> float:
    """The largest coordinate extent of points given column by column (1 when they coincide)."""
    spread = max(max(c) - min(c) for c in columns)
    return spread if spread > 0 else 1.0
