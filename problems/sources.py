"""Lazy, chunked point sources for the dask backend: the client reads headers, never data.

Where a point set is too large for one machine, the data stay where they are and each
dask task reads its own rows. Formats (chosen because they are what large point sets
are kept in, and each can be read a block of rows at a time):

``FILE.npy``
    A 2-D float or integer array, one point per row, or a structured array with named
    fields (``w``/``weight``/``weights`` is the weight column). The client opens it
    memory-mapped to read the header (shape and dtype), then drops it; each task maps
    the file again and copies its own rows, so nothing travels from the client.
``DIR/`` of ``.npy`` shards
    Every ``*.npy`` file in the directory, in name order, each a 2-D array with the
    same columns; rows are chunked within each shard.
``FILE.parquet`` or ``DIR/`` of ``.parquet`` files
    Columns ``x``, ``y`` [, ``z``] [, a weight column], read with
    ``dask.dataframe.read_parquet`` (needs pyarrow); other columns are ignored.
``DIR.zarr``
    A 2-D Zarr array (n, d), read with ``dask.array.from_zarr`` (needs zarr).

:func:`open_points` returns a :class:`LazyPoints`: one dask array per coordinate
(and the weights), chunked by ``chunk_size`` points, and a description for reports.
Values (finite coordinates, weights >= 0 and not all zero) are checked by
:meth:`LazyPoints.validate` in one pass with the persist that loads the data onto the
workers, not by reading the file twice. numpy and dask are imported here only, when
a source is opened.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geograd.cluster import describe_chunks
from geograd.errors import InputError

WEIGHT_NAMES = ("w", "weight", "weights")
COORDINATE_NAMES = ("x", "y", "z")
#: Points per chunk when none is asked for: 2^20 points are 16 MiB of 2-D float64,
#: small enough that a worker holds many, large enough that the scheduler's overhead
#: per task (about a millisecond) is a small part of the time spent on a chunk.
DEFAULT_CHUNK = 1 << 20
#: The most chunks the data may have: a pass schedules a few tasks a chunk, about a
#: millisecond each, so past ~10^4 chunks that overhead is most of a pass (10^5 points
#: on a local 2-worker cluster: 0.19 s a pass in 100 chunks, 0.85 s in 1000, 1.8 s in
#: 2000; with dask's threads 7 s in 10^4). 10^10 points at the default size are 9537.
MAX_CHUNKS = 10_000


def check_chunk_count(chunks: int, n: int, chunk_size: int, source: str) -> None:
    """InputError when ``n`` points make more than :data:`MAX_CHUNKS` chunks (of at most
    ``chunk_size`` points; a chunk never spans two files of a sharded source)."""
    if chunks <= MAX_CHUNKS:
        return
    least = -(-n // MAX_CHUNKS)
    cure = (
        f"give --chunk-size {least} or more (the default is {DEFAULT_CHUNK})"
        if chunk_size < least
        else "the files are the chunks: merge them into fewer, larger files"
    )
    raise InputError(
        f"{source}: {n} points in {chunks} chunks, more than the {MAX_CHUNKS} a pass "
        f"schedules in reasonable time; {cure}"
    )


@dataclass
class LazyPoints:
    """A point set as lazy dask arrays: ``columns[j]`` holds coordinate j of every point."""

    columns: list[Any]
    weights: Any | None
    names: tuple[str, ...]
    source: str
    kind: str
    chunk_size: int

    @property
    def dim(self) -> int:
        return len(self.columns)

    @property
    def n(self) -> int:
        return int(self.columns[0].shape[0])

    @property
    def chunks(self) -> tuple[int, ...]:
        """Points per chunk, in order (a chunk never spans two shards)."""
        return tuple(int(c) for c in self.columns[0].chunks[0])

    def describe(self) -> dict[str, Any]:
        """Where the data come from and how they are chunked, for reports and ``--json``
        (:func:`geograd.cluster.describe_chunks`, with the bytes of every column)."""
        chunking = describe_chunks(self.columns[0])
        return {
            "source": self.source,
            "format": self.kind,
            "dim": self.dim,
            "weights": self.weights is not None,
            "chunk_size": self.chunk_size,
            **chunking,
            "bytes": chunking["bytes"] * len(self.arrays()),
        }

    def arrays(self) -> list[Any]:
        return [*self.columns, *([] if self.weights is None else [self.weights])]

    def validate(self, persist: bool = True) -> LazyPoints:
        """Check every value in one pass over the data, persisting the arrays on the way
        (on the cluster when a distributed client is active): finite coordinates, weights
        finite, >= 0 and not all zero. Raises InputError naming the source and the first
        bad row; returns the persisted point set."""
        dask, da = _module("dask"), _module("dask.array")
        arrays = self.arrays()
        if persist:
            arrays = list(dask.persist(*arrays))
        finite = [da.isfinite(a).all() for a in arrays]
        checks: list[Any] = finite
        if self.weights is not None:
            w = arrays[-1]
            checks = [*finite, (w < 0).any(), w.sum()]
        results = dask.compute(*checks)
        for j, ok in enumerate(results[: len(arrays)]):
            if not bool(ok):
                a = arrays[j]
                row = int(da.argmin(da.isfinite(a)).compute())
                what = "weight" if j == self.dim else f"coordinate {self.names[j]!r}"
                raise InputError(
                    f"{self.source}: row {row}: {what} is not a finite number; "
                    "remove or fix that row"
                )
        if self.weights is not None:
            negative, total = results[-2], results[-1]
            if bool(negative):
                row = int(da.argmax(arrays[-1] < 0).compute())
                raise InputError(f"{self.source}: row {row}: a negative weight; weights are >= 0")
            if not float(total) > 0.0:
                raise InputError(f"{self.source}: every weight is zero; give a positive weight")
        cols = arrays[: self.dim]
        wts = arrays[self.dim] if self.weights is not None else None
        return LazyPoints(cols, wts, self.names, self.source, self.kind, self.chunk_size)


def _module(name: str) -> Any:
    """Import ``name`` when a source is used (dask's own type hints are partial)."""
    return importlib.import_module(name)


def _split(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk, n)) for s in range(0, n, chunk)]


def _npy_rows(path: str, start: int, stop: int, fields: tuple[str, ...] | None) -> Any:
    """Rows [start, stop) of the .npy file at ``path`` as a float64 (m, d) array: the
    task maps the file itself, so only this block is read into memory."""
    import numpy as np

    a = np.load(path, mmap_mode="r", allow_pickle=False)
    block = a[start:stop]
    if fields is not None:
        return np.stack([np.asarray(block[f], dtype=np.float64) for f in fields], axis=1)
    if block.ndim == 1:
        block = block[:, None]
    return np.array(block, dtype=np.float64)


def _npy_header(path: Path, name: str) -> tuple[int, int, tuple[str, ...], tuple[str, ...] | None]:
    """(n, width, column names, structured field names or None) from a .npy header."""
    import numpy as np

    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        text = str(exc)
        if "pickle" in text or "Python objects" in text:  # never numpy's advice to unpickle
            why = "it holds Python objects, which geograd never unpickles"
        elif "mmap length" in text or "file size" in text:
            why = "the file is truncated: its header announces more data than it holds"
        else:
            why = f"not a plain numeric .npy array ({text})"
        raise InputError(f"{name}: {why}; save a float array (numpy.save)") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read it ({exc.strerror or exc})") from None
    dtype = a.dtype
    if dtype.names:
        names = tuple(dtype.names)
        for f in names:
            if dtype[f].kind not in "fiu":
                raise InputError(f"{name}: field {f!r} is not numeric ({dtype[f]})")
        return (a.shape[0] if a.ndim else 1), len(names), names, names
    if dtype.kind not in "fiu":
        raise InputError(f"{name}: holds {dtype}, not numbers; save a float array")
    if a.ndim not in (1, 2):
        raise InputError(f"{name}: a {a.ndim}-D array; give one point per row (2-D)")
    width = 1 if a.ndim == 1 else a.shape[1]
    return (
        a.shape[0],
        width,
        tuple(COORDINATE_NAMES[:width]) if width <= 3 else tuple(f"x{j + 1}" for j in range(width)),
        None,
    )


def _split_columns(
    block_arrays: list[Any], names: tuple[str, ...]
) -> tuple[list[Any], Any | None, tuple[str, ...]]:
    """Coordinates and weights from the (n, width) dask array's columns, by name."""
    da = _module("dask.array")
    full = da.concatenate(block_arrays, axis=0) if len(block_arrays) > 1 else block_arrays[0]
    lowered = [c.lower() for c in names]
    wcols = [j for j, c in enumerate(lowered) if c in WEIGHT_NAMES]
    if len(wcols) > 1:
        raise InputError(f"more than one weight column ({', '.join(names[j] for j in wcols)})")
    coords = [j for j in range(len(names)) if j not in wcols]
    columns = [full[:, j] for j in coords]
    weights = full[:, wcols[0]] if wcols else None
    return columns, weights, tuple(names[j] for j in coords)


def _open_npy_files(files: list[Path], name: str, chunk: int, kind: str) -> LazyPoints:
    dask, da = _module("dask"), _module("dask.array")
    blocks: list[Any] = []
    names: tuple[str, ...] | None = None
    total = 0
    for f in files:
        n, width, cols, fields = _npy_header(f, str(f))
        if names is None:
            names = cols
        elif cols != names:
            raise InputError(
                f"{f}: columns {', '.join(cols)} differ from the first shard's "
                f"({', '.join(names)}); every shard must have the same columns"
            )
        load = dask.delayed(_npy_rows, pure=True)
        for start, stop in _split(n, chunk):
            blocks.append(
                da.from_delayed(
                    load(str(f), start, stop, fields), shape=(stop - start, width),
                    dtype=float,
                )
            )  # fmt: skip
        total += n
    if names is None or total == 0:
        raise InputError(f"{name}: no points; give a file with at least one row")
    try:
        columns, weights, coords = _split_columns(blocks, names)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
    return LazyPoints(columns, weights, coords, name, kind, chunk)


def _open_parquet(path: Path, name: str, chunk: int) -> LazyPoints:
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # dask[dataframe] or pyarrow missing
        raise InputError(
            f"{name}: reading Parquet needs dask[dataframe] and pyarrow ({exc}); "
            "pip install 'geograd[dask]' pyarrow, or give a .npy file"
        ) from None
    try:
        frame = dd.read_parquet(str(path))
    except Exception as exc:  # pyarrow's many error types: one line either way
        raise InputError(f"{name}: cannot read it as Parquet ({exc})") from None
    available = list(frame.columns)
    lowered = {c.lower(): c for c in available}
    coords = [lowered[c] for c in COORDINATE_NAMES if c in lowered]
    if len(coords) < 1 or "x" not in lowered:
        raise InputError(
            f"{name}: needs columns x, y[, z][, weight]; it has {', '.join(map(str, available))}"
        )
    wname = next((lowered[c] for c in WEIGHT_NAMES if c in lowered), None)
    picked = [*coords, *([wname] if wname else [])]
    arr = frame[picked].to_dask_array(lengths=True).astype(float)
    arr = arr.rechunk((chunk, len(picked)))
    n = int(arr.shape[0])
    if n == 0:
        raise InputError(f"{name}: no rows; give a file with at least one point")
    columns = [arr[:, j] for j in range(len(coords))]
    weights = arr[:, len(coords)] if wname else None
    return LazyPoints(columns, weights, tuple(coords), name, "parquet", chunk)


def _open_zarr(path: Path, name: str, chunk: int) -> LazyPoints:
    da = _module("dask.array")
    try:
        arr = da.from_zarr(str(path))
    except ImportError as exc:
        raise InputError(
            f"{name}: reading Zarr needs the zarr package ({exc}); pip install zarr, "
            "or give a .npy file"
        ) from None
    except Exception as exc:
        raise InputError(f"{name}: cannot read it as a Zarr array ({exc})") from None
    if arr.ndim != 2 or arr.dtype.kind not in "fiu":
        raise InputError(f"{name}: a {arr.ndim}-D {arr.dtype} array; give a 2-D numeric one")
    width = int(arr.shape[1])
    arr = arr.astype(float).rechunk((chunk, width))
    names = (
        tuple(COORDINATE_NAMES[:width]) if width <= 3 else tuple(f"x{j + 1}" for j in range(width))
    )
    columns = [arr[:, j] for j in range(width)]
    return LazyPoints(columns, None, names, name, "zarr", chunk)


def open_points(path: str | Path, chunk_size: int | None = None) -> LazyPoints:
    """Open ``path`` lazily (see the module docstring for the formats), chunked by
    ``chunk_size`` points (default :data:`DEFAULT_CHUNK`). Reads headers only."""
    p = Path(path)
    name = str(path)
    chunk = DEFAULT_CHUNK if chunk_size is None else int(chunk_size)
    if chunk < 1:
        raise InputError(f"--chunk-size {chunk_size}: must be at least 1 point")
    if not p.exists():
        raise InputError(f"{name}: no such file or directory")
    suffix = p.suffix.lower()
    if suffix == ".zarr" or (
        p.is_dir() and any((p / m).exists() for m in (".zarray", "zarr.json"))
    ):
        return _open_zarr(p, name, chunk)
    if suffix == ".parquet" or (p.is_dir() and any(p.glob("*.parquet"))):
        return _open_parquet(p, name, chunk)
    if p.is_dir():
        shards = sorted(p.glob("*.npy"))
        if not shards:
            raise InputError(
                f"{name}: a directory with no .npy, .parquet or Zarr data; "
                "give a directory of .npy shards, Parquet files or a Zarr array"
            )
        return _open_npy_files(shards, name, chunk, "npy shards")
    if suffix == ".npy":
        if not p.is_file():
            raise InputError(f"{name}: not a regular file")
        return _open_npy_files([p], name, chunk, "npy")
    raise InputError(
        f"{name}: reading in chunks (--backend dask, --stream) takes .npy files, directories "
        "of .npy shards, Parquet and Zarr; convert the file (numpy.save), or read it whole "
        "(without --stream, --backend python or numpy)"
    )
