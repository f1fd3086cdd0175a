"""Loading point sets: every format, and every kind of bad input, named by file and line."""

from __future__ import annotations

import math
import os
import re
import stat
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import geograd.fileio as fileio
from geograd.errors import InputError
from geograd.problems import get_problem, load_points
from geograd.problems.median import GeometricMedian

SQUARE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.25, 0.5)]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def error(path: Path, **kw: object) -> str:
    with pytest.raises(InputError) as info:
        load_points(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(str(path)), msg
    return msg


# ----------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("plain.csv", "0,0\n1,0\n1,1\n0,1\n0.25,0.5\n"),
        ("header.csv", "x,y\n0,0\n1,0\n1,1\n0,1\n0.25,0.5\n"),
        ("quoted.csv", '"x","y"\n"0","0"\n1,0\n1,1\n0,1\n0.25,0.5\n'),
        ("spaces.csv", " x , y \n0 , 0\n1, 0\n1 ,1\n0,1\n 0.25 , 0.5 \n"),
        ("tabs.tsv", "x\ty\n0\t0\n1\t0\n1\t1\n0\t1\n0.25\t0.5\n"),
        ("white.txt", "0 0\n1   0\n1\t1\n  0 1\n0.25 5e-1\n"),
        ("noext", "# a comment\n\nx y\n0 0\n\n1 0\n# another\n1 1\n0 1\n0.25 0.5\n\n"),
        ("commas.dat", "0,0\n1,0\n1,1\n0,1\n0.25,0.5"),
        ("crlf.csv", "x,y\r\n0,0\r\n1,0\r\n1,1\r\n0,1\r\n0.25,0.5\r\n"),
    ],
)
def test_text_formats(tmp_path: Path, name: str, text: str) -> None:
    ps = load_points(write(tmp_path, name, text))
    assert ps.points == SQUARE
    assert ps.weights is None
    assert ps.dim == 2 and ps.n == 5
    assert ps.columns() == [[p[0] for p in SQUARE], [p[1] for p in SQUARE]]


def test_utf8_bom_and_header_names(tmp_path: Path) -> None:
    p = write(tmp_path, "bom.csv", b"\xef\xbb\xbfeast,north\n1,2\n3,4\n")
    ps = load_points(p)
    assert ps.names == ("east", "north")
    assert ps.points == [(1.0, 2.0), (3.0, 4.0)]


@pytest.mark.parametrize("col", ["w", "W", "weight", "Weight", "weights"])
def test_weight_column_any_position(tmp_path: Path, col: str) -> None:
    p = write(tmp_path, "w.csv", f"x,{col},y\n0,1,0\n2,3.5,0\n0,0,2\n")
    ps = load_points(p)
    assert ps.points == [(0.0, 0.0), (2.0, 0.0), (0.0, 2.0)]
    assert ps.weights == [1.0, 3.5, 0.0]
    assert ps.names == ("x", "y")


def test_one_dimensional_and_three_dimensional_text(tmp_path: Path) -> None:
    assert load_points(write(tmp_path, "a.txt", "3\n1\n2\n")).points == [(3.0,), (1.0,), (2.0,)]
    ps = load_points(write(tmp_path, "b.txt", "1 2 3\n4 5 6\n"))
    assert ps.dim == 3 and ps.names == ("x", "y", "z")
    ps = load_points(write(tmp_path, "c.txt", "1 2 3 4\n"))
    assert ps.names == ("x1", "x2", "x3", "x4")


def test_npy_two_dimensional(tmp_path: Path) -> None:
    p = tmp_path / "pts.npy"
    np.save(p, np.array(SQUARE))
    ps = load_points(p)
    assert ps.points == SQUARE and ps.weights is None


def test_npy_integer_and_one_dimensional(tmp_path: Path) -> None:
    p = tmp_path / "ints.npy"
    np.save(p, np.array([[1, 2], [3, 4]], dtype=np.int32))
    assert load_points(p).points == [(1.0, 2.0), (3.0, 4.0)]
    q = tmp_path / "line.npy"
    np.save(q, np.array([5.0, -1.0, 2.0]))
    assert load_points(q).points == [(5.0,), (-1.0,), (2.0,)]


def test_npy_structured_with_weights(tmp_path: Path) -> None:
    arr = np.zeros(3, dtype=[("x", "f8"), ("y", "f8"), ("weight", "f8")])
    arr["x"], arr["y"], arr["weight"] = [0, 1, 2], [3, 4, 5], [1, 2, 0]
    p = tmp_path / "s.npy"
    np.save(p, arr)
    ps = load_points(p)
    assert ps.points == [(0.0, 3.0), (1.0, 4.0), (2.0, 5.0)]
    assert ps.weights == [1.0, 2.0, 0.0]
    assert ps.names == ("x", "y")


def test_median_from_file_matches_from_points(tmp_path: Path) -> None:
    pts = [(0.1, 0.2), (0.9, 0.4), (0.5, 0.95), (0.3, 0.3)]
    w = [1.0, 2.0, 0.5, 1.5]
    lines = "x,y,w\n" + "".join(f"{a!r},{b!r},{c!r}\n" for (a, b), c in zip(pts, w))
    p = write(tmp_path, "m.csv", lines)
    from_file = get_problem("median", points=p)
    given = GeometricMedian.from_points(pts, w)
    x = [0.4, 0.5]
    assert from_file.objective(x) == given.objective(x)
    assert from_file.gradient(x) == given.gradient(x)
    assert from_file.n == 4 and from_file.dim == 2
    assert from_file.to_dict()["data"]["source"] == str(p)
    # the generation options do not apply to a loaded file: given with it, they are refused
    with pytest.raises(InputError, match="cannot be used with --points"):
        get_problem("median", points=str(p), n=7, dim=3, seed=1)


def test_median_from_npy(tmp_path: Path) -> None:
    arr = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    p = tmp_path / "t.npy"
    np.save(p, arr)
    prob = get_problem("median", points=p)
    assert prob.dim == 3 and prob.n == 4
    assert prob.x0 == [0.25, 0.25, 0.25]


def test_load_options(tmp_path: Path) -> None:
    p = write(tmp_path, "w.csv", "x,y,w\n0,0,1\n1,1,1\n")
    msg = error(p, weights=False)
    assert "takes no weights" in msg
    msg = error(p, dim=3)
    assert "2 coordinates" in msg and "needs 3" in msg
    msg = error(p, min_points=3)
    assert "at least 3" in msg


# ---------------------------------------------------------------------------- bad text


def test_wrong_field_count_names_the_line(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.csv", "x,y\n0,0\n1,0\n1,0,7\n")
    msg = error(p)
    assert msg.startswith(f"{p}:4:")
    assert "3 fields, expected 2" in msg


def test_wrong_field_count_without_header(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.txt", "0 0\n# skip\n\n1\n")
    msg = error(p)
    assert msg.startswith(f"{p}:4:")
    assert "1 field, expected 2 like line 1" in msg


def test_non_numeric_value(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.csv", "x,y\n0,0\n1,abc\n")
    msg = error(p)
    assert msg.startswith(f"{p}:3:")
    assert "'abc'" in msg and "column 'y'" in msg and "not a number" in msg


def test_non_numeric_first_line_is_data_error_not_header(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.csv", "1.0,oops\n2,3\n")
    msg = error(p)
    assert msg.startswith(f"{p}:1:") and "'oops'" in msg


def test_empty_field(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.csv", "0,0\n1,\n")
    msg = error(p)
    assert msg.startswith(f"{p}:2:") and "empty field" in msg


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "NaN", "1e999"])
def test_non_finite_value(tmp_path: Path, bad: str) -> None:
    p = write(tmp_path, "bad.csv", f"0,0\n0,1\n{bad},2\n")
    msg = error(p)
    assert msg.startswith(f"{p}:3:") and "not finite" in msg


def test_negative_weight(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.csv", "x,y,w\n0,0,1\n1,1,-0.5\n")
    msg = error(p)
    assert msg.startswith(f"{p}:3:") and "negative" in msg


def test_all_zero_weights(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.csv", "x,y,weight\n0,0,0\n1,1,0\n")
    msg = error(p)
    assert "all weights are zero" in msg


def test_non_finite_weight(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.csv", "x,y,w\n0,0,1\n1,1,nan\n")
    assert error(p).startswith(f"{p}:3:")


@pytest.mark.parametrize(
    "text",
    ["", "\n\n  \n", "# only a comment\n", "# c\n\n# d\n"],
    ids=["empty", "blank", "c1", "c2"],
)
def test_empty_file(tmp_path: Path, text: str) -> None:
    msg = error(write(tmp_path, "empty.csv", text))
    assert "empty" in msg


def test_header_only(tmp_path: Path) -> None:
    msg = error(write(tmp_path, "h.csv", "x,y\n"))
    assert "header but no data" in msg


def test_header_problems(tmp_path: Path) -> None:
    assert "twice" in error(write(tmp_path, "a.csv", "x,x\n1,2\n"))
    assert "more than one weight" in error(write(tmp_path, "b.csv", "x,w,weight\n1,2,3\n"))
    assert "only weights" in error(write(tmp_path, "c.csv", "w\n1\n"))
    msg = error(write(tmp_path, "d.csv", "# c\nx,\n1,2\n"))
    assert msg.startswith(f"{tmp_path / 'd.csv'}:2:") and "empty" in msg


def test_missing_file(tmp_path: Path) -> None:
    msg = error(tmp_path / "nope.csv")
    assert "no such" in msg


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "dir.csv"
    d.mkdir()
    assert "directory" in error(d)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path, "locked.csv", "0,0\n")

    # As root, mode bits do not stop a read: make the open itself fail.
    def deny(path: Any, *args: Any, **kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(fileio.os, "open", deny)
    msg = error(p)
    assert "cannot read" in msg and "permission" in msg


def test_binary_file(tmp_path: Path) -> None:
    p = write(tmp_path, "bin.csv", b"0,0\n1,1\n\xff\xfe\x00\x81garbage\n")
    msg = error(p)
    assert msg.startswith(f"{p}:3:") and "UTF-8" in msg


def test_median_reports_file_errors(tmp_path: Path) -> None:
    p = write(tmp_path, "bad.csv", "0,0\n1\n")
    with pytest.raises(InputError, match=re.escape(f"{p}:2:")):
        get_problem("median", points=p)
    with pytest.raises(InputError, match="no such"):
        get_problem("median", points=tmp_path / "missing.txt")


# ----------------------------------------------------------------------------- bad npy


def test_npy_refuses_pickles(tmp_path: Path) -> None:
    p = tmp_path / "obj.npy"
    np.save(p, np.array([[1.0, {"a": 1}]], dtype=object), allow_pickle=True)
    msg = error(p)
    assert "pickle" in msg and "never" in msg


def test_npy_bad_shapes_and_dtypes(tmp_path: Path) -> None:
    p = tmp_path / "cube.npy"
    np.save(p, np.zeros((2, 2, 2)))
    assert "shape (2, 2, 2)" in error(p)
    q = tmp_path / "str.npy"
    np.save(q, np.array([["a", "b"]]))
    assert "not numbers" in error(q)
    r = tmp_path / "empty.npy"
    np.save(r, np.zeros((0, 2)))
    assert "empty" in error(r)
    c = tmp_path / "complex.npy"
    np.save(c, np.array([[1 + 2j, 0j]]))
    assert "not numbers" in error(c)


def test_npy_non_finite_row(tmp_path: Path) -> None:
    p = tmp_path / "nan.npy"
    np.save(p, np.array([[0.0, 0.0], [1.0, 1.0], [np.inf, 2.0]]))
    msg = error(p)
    assert "row 2" in msg and "non-finite" in msg


def test_npy_bad_weights(tmp_path: Path) -> None:
    arr = np.zeros(2, dtype=[("x", "f8"), ("w", "f8")])
    arr["w"] = [1.0, -2.0]
    p = tmp_path / "negw.npy"
    np.save(p, arr)
    assert "row 1" in error(p) and "negative" in error(p)
    arr["w"] = [0.0, 0.0]
    np.save(p, arr)
    assert "all weights are zero" in error(p)


def test_npy_corrupt_empty_and_npz(tmp_path: Path) -> None:
    p = write(tmp_path, "corrupt.npy", b"\x93NUMPY\x01\x00garbage")
    assert "not a valid .npy" in error(p)
    q = write(tmp_path, "zero.npy", b"")
    assert "empty" in error(q)
    z = tmp_path / "arch.npz"
    np.savez(z, a=np.zeros((2, 2)))
    renamed = z.rename(tmp_path / "arch.npy")
    assert ".npz" in error(renamed)


def test_loaded_values_are_exact(tmp_path: Path) -> None:
    vals = [0.1, 1 / 3, math.pi, -2.5e-300]
    p = write(tmp_path, "exact.txt", "".join(f"{v!r}\n" for v in vals))
    assert [pt[0] for pt in load_points(p).points] == vals


# ------------------------------------------------------- only regular files, bounded


def test_a_device_node_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    # A character device of our own (1:3, like /dev/null, so that a regression reads
    # nothing rather than forever, as from /dev/zero): refused for what it is.
    for name in ("null.csv", "null.npy"):
        node = tmp_path / name
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        assert "is a character device, not a regular file" in error(node)


def error_without_blocking(fifo: Path) -> str:
    """:func:`error` in a thread: a regression (an open that waits for a writer) fails
    the test after a minute instead of hanging it; the FIFO is then opened for writing
    so that the thread can end."""
    outcome: list[str] = []
    failure: list[BaseException] = []

    def attempt() -> None:
        try:
            outcome.append(error(fifo))
        except BaseException as exc:  # reported below
            failure.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():
        with open(fifo, "w"):
            pass
        worker.join(timeout=60)
        pytest.fail(f"reading the FIFO {fifo} blocked")
    if failure:
        raise failure[0]
    return outcome[0]


def test_a_fifo_without_a_writer_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "is a FIFO (named pipe), not a regular file" in error_without_blocking(fifo)


def test_a_file_swapped_for_a_fifo_after_the_check_never_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check sees a regular file; what gets opened is a FIFO: O_NONBLOCK and fstat.
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    regular = os.stat(write(tmp_path, "plain.csv", "0,0\n"))
    real_stat = os.stat
    monkeypatch.setattr(
        fileio.os, "stat", lambda p, *a, **k: regular if Path(p) == fifo else real_stat(p, *a, **k)
    )
    assert "is a FIFO" in error_without_blocking(fifo)


def test_a_file_over_the_limit_is_refused_with_the_limit_and_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path, "big.csv", "0.5,0.25\n" * 150_000)  # 1.3 MiB
    monkeypatch.setenv("GEOGRAD_MAX_INPUT_MB", "1")
    msg = error(p)
    assert "1.29 MiB, more than the 1 MiB geograd reads from a points file" in msg
    assert "use fewer points (the median reads any size chunk by chunk with --backend dask" in msg
    assert "or raise the limit with GEOGRAD_MAX_INPUT_MB=2" in msg
    monkeypatch.setenv("GEOGRAD_MAX_INPUT_MB", "2")
    assert load_points(p).n == 150_000
    monkeypatch.setenv("GEOGRAD_MAX_INPUT_MB", "lots")
    with pytest.raises(InputError, match="GEOGRAD_MAX_INPUT_MB must be a number of MiB > 0"):
        load_points(p)


def test_the_default_limit_is_stated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path, "big.npy", b"")
    monkeypatch.delenv("GEOGRAD_MAX_INPUT_MB", raising=False)
    real_stat = os.stat

    def huge(path: Any, *args: Any, **kwargs: Any) -> Any:
        st = real_stat(path, *args, **kwargs)
        if Path(path) != p:
            return st
        fields = list(st)
        fields[stat.ST_SIZE] = 300 << 20
        return os.stat_result(fields)

    monkeypatch.setattr(fileio.os, "stat", huge)
    assert "300 MiB, more than the 256 MiB geograd reads from a points file" in error(p)


def test_a_file_larger_than_memory_allows_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path, "pts.csv", "0,0\n1,1\n" * 1000)  # 8 KB
    monkeypatch.setattr(fileio, "available_memory", lambda: 50_000)
    msg = error(p)
    assert "of memory, more than the 48.8 KiB available; use fewer points" in msg


def test_a_file_that_grows_past_the_limit_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path, "grows.csv", "0,0\n")
    monkeypatch.setenv("GEOGRAD_MAX_INPUT_MB", "1")
    monkeypatch.setattr(fileio, "CHUNK", 4096)
    real_read = os.read
    monkeypatch.setattr(
        fileio.os,
        "read",
        lambda fd, n: real_read(fd, n) or b"1" * n,  # never ends, like /dev/zero
    )
    assert "more than the 1 MiB geograd reads" in error(p)


def test_reading_is_in_chunks_that_ctrl_c_interrupts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path, "pts.csv", "0,0\n" * 10_000)
    monkeypatch.setattr(fileio, "CHUNK", 1000)
    calls: list[int] = []
    real_read = os.read
    closed: list[int] = []
    real_close = os.close

    def read(fd: int, n: int) -> bytes:
        calls.append(n)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as a signal handler would, between two reads
        return real_read(fd, n)

    monkeypatch.setattr(fileio.os, "read", read)
    monkeypatch.setattr(fileio.os, "close", lambda fd: (closed.append(fd), real_close(fd)))
    with pytest.raises(KeyboardInterrupt):
        load_points(p)
    assert calls == [1000, 1000, 1000] and len(closed) == 1


def test_a_csv_field_over_the_csv_modules_limit(tmp_path: Path) -> None:
    p = write(tmp_path, "long.csv", "x,y\n0,0\n1," + "1" * 200_000 + "\n")
    msg = error(p)
    assert msg.startswith(f"{p}:3: not a line of comma-separated numbers")
    assert "field larger than field limit (131072)" in msg


def test_a_npy_header_announcing_terabytes_is_refused_before_allocating(tmp_path: Path) -> None:
    p = tmp_path / "huge.npy"
    with open(p, "wb") as fh:
        header = {"descr": "<f8", "fortran_order": False, "shape": (10**11, 2)}
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(b"\0" * 64)
    msg = error(p)
    assert "the header announces an array of shape (100000000000, 2) (1.46 TiB)" in msg
    assert "the file holds 64 bytes of data" in msg
    # A merely truncated file is the same error.
    q = tmp_path / "cut.npy"
    np.save(q, np.ones((100, 2)))
    q.write_bytes(q.read_bytes()[:-8])
    assert "the file holds 1.55 KiB of data; the file is truncated" in error(q)


def test_running_out_of_memory_while_loading_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geograd.problems.data as data

    p = write(tmp_path, "pts.csv", "0,0\n1,1\n")

    def no_memory(*args: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(data, "_load_text", no_memory)
    assert "not enough memory to load it (8 bytes); use fewer points" in error(p)


def test_a_header_naming_coordinates_and_other_columns_is_refused(tmp_path: Path) -> None:
    """``id,x,y,speed`` was solved as points of R^4 (id and speed as coordinates), exit 0.
    The median reads coordinates and a weight only; trilateration's range column stays."""
    f = tmp_path / "gps.csv"
    f.write_text("id,x,y,speed\n1,0.5,0.2,3\n2,0.1,0.9,4\n")
    with pytest.raises(InputError) as info:
        GeometricMedian(points=f)
    text = str(info.value)
    assert text.startswith(f"{f}: columns 'id', 'speed' are neither a coordinate (x, y)")
    assert "remove them" in text
    assert load_points(f).dim == 4  # the reader itself keeps every column
    g = tmp_path / "sphere.csv"
    g.write_text("lat,lon,alt,w\n5,0,100,1\n5,90,100,1\n")
    with pytest.raises(InputError, match="the columns are lat, lon, alt"):  # its own check
        get_problem("spherical-median", points=g)
    h = tmp_path / "anchors.csv"
    h.write_text("x,y,range\n0,0,1\n1,0,1\n0,1,1\n")
    assert get_problem("trilateration", points=h).n == 3


def test_headers_naming_no_coordinate_or_only_coordinates_and_a_weight_still_load(
    tmp_path: Path,
) -> None:
    free = tmp_path / "r4.csv"
    free.write_text("a,b,c,d\n1,2,3,4\n5,6,7,8\n")
    assert GeometricMedian(points=free).d == 4  # no x/y/z named: every column a coordinate
    named = tmp_path / "xyw.csv"
    named.write_text("x,y,weight\n1,2,3\n4,5,6\n")
    p = GeometricMedian(points=named)
    assert p.d == 2 and list(p.weights) == [3.0, 6.0]


@pytest.mark.parametrize("kind", ["dir", "p.parquet", "p.zarr"])
def test_lazy_formats_on_the_whole_file_reader_point_to_the_readers_that_take_them(
    tmp_path: Path, kind: str
) -> None:
    """A Parquet file was 'not UTF-8 text (a binary file?)', a directory of shards 'is a
    directory': neither said that --backend dask or --stream reads them."""
    f = tmp_path / kind
    if kind == "p.parquet":
        f.write_bytes(b"PAR1\x00\x00PAR1")
    else:
        f.mkdir()
    with pytest.raises(InputError) as info:
        GeometricMedian(points=f)
    text = str(info.value)
    assert "this reader takes one text or .npy file" in text
    assert "with --backend dask, or --stream" in text and "\n" not in text
