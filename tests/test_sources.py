"""Lazy point sources for the dask backend: each format opens without reading its data,
gives the same points as numpy, and its values are checked in the persisting pass."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import dask  # the dev extra installs dask and the formats' readers: nothing here skips
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import zarr

from geograd.errors import InputError
from geograd.problems.sources import DEFAULT_CHUNK, open_points

SYNC = {"scheduler": "synchronous"}


def _points(n: int = 1000, d: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def _computed(lp):  # type: ignore[no-untyped-def]
    with dask.config.set(SYNC):
        return [np.asarray(c.compute()) for c in lp.columns], (
            None if lp.weights is None else np.asarray(lp.weights.compute())
        )


def test_npy_opens_lazily_and_gives_the_file_s_points(tmp_path: Path) -> None:
    a = _points(1000, 3)
    f = tmp_path / "p.npy"
    np.save(f, a)
    lp = open_points(f, chunk_size=128)
    assert lp.n == 1000 and lp.dim == 3 and lp.names == ("x", "y", "z")
    assert all(isinstance(c, da.Array) for c in lp.columns)
    assert lp.columns[0].chunks[0][0] == 128 and len(lp.chunks) == 8
    cols, w = _computed(lp)
    assert w is None
    for j in range(3):
        np.testing.assert_array_equal(cols[j], a[:, j])
    assert lp.describe()["chunks"] == 8 and lp.describe()["format"] == "npy"


def test_structured_npy_names_its_weight_column(tmp_path: Path) -> None:
    a = np.zeros(50, dtype=[("x", "f8"), ("y", "f8"), ("weight", "f8")])
    a["x"] = np.arange(50.0)
    a["y"] = -np.arange(50.0)
    a["weight"] = 2.0
    f = tmp_path / "s.npy"
    np.save(f, a)
    lp = open_points(f, chunk_size=16)
    assert lp.names == ("x", "y") and lp.weights is not None
    cols, w = _computed(lp)
    np.testing.assert_array_equal(cols[1], -np.arange(50.0))
    np.testing.assert_array_equal(w, np.full(50, 2.0))


def test_a_directory_of_shards_is_one_point_set_in_name_order(tmp_path: Path) -> None:
    a = _points(300)
    for k, part in enumerate((a[:100], a[100:250], a[250:])):
        np.save(tmp_path / f"part-{k:02d}.npy", part)
    lp = open_points(tmp_path, chunk_size=64)
    assert lp.kind == "npy shards" and lp.n == 300
    # chunks never cross a shard: 100 -> 64+36, 150 -> 64+64+22, 50 -> 50
    assert lp.chunks == (64, 36, 64, 64, 22, 50)
    cols, _ = _computed(lp)
    np.testing.assert_array_equal(np.stack(cols, axis=1), a)


def test_shards_with_different_columns_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", _points(10, 2))
    np.save(tmp_path / "b.npy", _points(10, 3))
    with pytest.raises(InputError, match=r"b\.npy: columns x, y, z differ"):
        open_points(tmp_path)


def test_parquet_reads_named_columns(tmp_path: Path) -> None:
    a = _points(200)
    frame = pd.DataFrame({"id": np.arange(200), "y": a[:, 1], "x": a[:, 0], "w": 1.5})
    f = tmp_path / "p.parquet"
    frame.to_parquet(f)
    lp = open_points(f, chunk_size=50)
    assert lp.names == ("x", "y") and lp.weights is not None and lp.n == 200
    cols, w = _computed(lp)
    np.testing.assert_array_equal(cols[0], a[:, 0])
    np.testing.assert_array_equal(cols[1], a[:, 1])
    np.testing.assert_array_equal(w, np.full(200, 1.5))


def test_zarr_array(tmp_path: Path) -> None:
    a = _points(500)
    z = zarr.open_array(str(tmp_path / "p.zarr"), mode="w", shape=a.shape, chunks=(100, 2),
                        dtype="f8")  # fmt: skip
    z[:] = a
    lp = open_points(tmp_path / "p.zarr", chunk_size=200)
    assert lp.kind == "zarr" and lp.n == 500
    cols, _ = _computed(lp)
    np.testing.assert_array_equal(np.stack(cols, axis=1), a)


def test_opening_reads_no_data_on_the_client(tmp_path: Path) -> None:
    # 2·10^6 2-D points are 32 MB; opening and building the graph must allocate far less
    # than one chunk (2^16 points, 1 MiB) on the client: only the header is read.
    f = tmp_path / "big.npy"
    np.save(f, np.ones((2_000_000, 2)))
    tracemalloc.start()
    try:
        lp = open_points(f, chunk_size=1 << 16)
        _ = lp.columns[0].sum()  # building a reduction's graph reads nothing either
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert lp.n == 2_000_000 and len(lp.chunks) == 31
    assert peak < (1 << 16) * 2 * 8, f"the client allocated {peak} bytes"


def test_evaluating_holds_about_one_chunk_at_a_time(tmp_path: Path) -> None:
    # a reduction over the file with the synchronous scheduler: tasks run one at a time,
    # so the client's numpy allocations peak near one chunk, not the whole 32 MB file
    f = tmp_path / "big.npy"
    np.save(f, np.ones((2_000_000, 2)))
    chunk = 1 << 17
    lp = open_points(f, chunk_size=chunk)
    total = lp.columns[0].sum() + lp.columns[1].sum()
    tracemalloc.start()
    try:
        with dask.config.set(SYNC):
            value = float(total.compute())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert value == 4_000_000.0
    assert peak < 6 * chunk * 2 * 8, f"peak {peak} bytes for chunks of {chunk * 16} bytes"


def test_validate_names_the_first_bad_row(tmp_path: Path) -> None:
    a = _points(100)
    a[37, 1] = np.nan
    f = tmp_path / "bad.npy"
    np.save(f, a)
    with dask.config.set(SYNC), pytest.raises(InputError, match=r"row 37: coordinate 'y'"):
        open_points(f, chunk_size=16).validate()


def test_validate_checks_weights(tmp_path: Path) -> None:
    a = np.zeros(20, dtype=[("x", "f8"), ("y", "f8"), ("w", "f8")])
    a["w"] = 1.0
    a["w"][12] = -1.0
    np.save(tmp_path / "neg.npy", a)
    with dask.config.set(SYNC), pytest.raises(InputError, match="row 12: a negative weight"):
        open_points(tmp_path / "neg.npy", chunk_size=8).validate()
    a["w"] = 0.0
    np.save(tmp_path / "zero.npy", a)
    with dask.config.set(SYNC), pytest.raises(InputError, match="every weight is zero"):
        open_points(tmp_path / "zero.npy").validate()


def test_validate_passes_good_data_and_keeps_values(tmp_path: Path) -> None:
    a = _points(100)
    np.save(tmp_path / "ok.npy", a)
    with dask.config.set(SYNC):
        lp = open_points(tmp_path / "ok.npy", chunk_size=30).validate()
        np.testing.assert_array_equal(lp.columns[0].compute(), a[:, 0])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.npy", "no such file"),
        (lambda d: (d / "p.csv").write_text("1,2\n") and d / "p.csv", "convert the file"),
        (lambda d: d, "no .npy, .parquet or Zarr data"),
        (
            lambda d: np.save(d / "o.npy", np.array(["a"], dtype=object)) or d / "o.npy",
            "holds Python objects, which geograd never unpickles",
        ),
        (
            # a header announcing 10^6 rows over 16 bytes of data
            lambda d: (
                (
                    np.save(d / "h.npy", np.zeros((10**6, 2))),
                    (d / "h.npy").write_bytes((d / "h.npy").read_bytes()[:144]),
                )
                and d / "h.npy"
            ),
            "the file is truncated",
        ),
        (lambda d: np.save(d / "t.npy", np.zeros((2, 2, 2))) or d / "t.npy", "3-D array"),
    ],
)
def test_bad_sources_get_one_line(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=message) as info:
        open_points(make(tmp_path))
    assert "\n" not in str(info.value)


def test_chunk_size_must_be_positive(tmp_path: Path) -> None:
    np.save(tmp_path / "p.npy", _points(10))
    with pytest.raises(InputError, match="--chunk-size 0"):
        open_points(tmp_path / "p.npy", chunk_size=0)
    assert open_points(tmp_path / "p.npy").chunk_size == DEFAULT_CHUNK
