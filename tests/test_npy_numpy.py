"""``--points FILE.npy`` on the numpy backend: read straight into numpy arrays.

One lifecycle in :class:`~geograd.problems.base.Problem` decides (``Problem.load_points``):
a ``.npy`` file stays a float64 array of shape (d, n) when the backend is numpy (asked, or
``auto`` for at least ``AUTO_NUMPY_MIN`` points); text files, and every file on the
python backend, are read as lists of floats. The checks of a file are the same either
way, and so are their one-line messages.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from geograd.errors import InputError
from geograd.floatarray import FloatArray
from geograd.problems import get_problem, load_points
from geograd.problems.base import AUTO_NUMPY_MIN

np = pytest.importorskip("numpy")


def save(tmp_path: Path, name: str, arr: Any) -> Path:
    p = tmp_path / name
    np.save(p, arr, allow_pickle=arr.dtype.hasobject)
    return p


def weighted(n: int, seed: int = 0) -> Any:
    g = np.random.default_rng(seed)
    arr = np.zeros(n, dtype=[("x", "f8"), ("y", "f4"), ("w", "i4")])
    arr["x"], arr["y"], arr["w"] = g.random(n), g.random(n), g.integers(1, 5, n)
    return arr


def only_floats(value: Any) -> bool:
    """True when every number in a JSON-like value is a plain Python float/int/bool."""
    if isinstance(value, dict):
        return all(only_floats(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(only_floats(v) for v in value)
    return value is None or type(value) in (float, int, bool, str)


# ---------------------------------------------------------------------- the point set


def test_as_array_keeps_one_float64_array_of_columns(tmp_path: Path) -> None:
    rows = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.5]])
    p = save(tmp_path, "p.npy", rows)
    ps = load_points(p, as_array=True)
    assert ps.is_array and isinstance(ps.data, np.ndarray)
    assert ps.data.dtype == np.float64 and ps.data.shape == (2, 3)
    assert ps.data.flags.c_contiguous and not ps.data.flags.writeable
    assert ps.n == 3 and ps.dim == 2 and ps.weights is None
    # the list views give what the list path gives
    lists = load_points(p)
    assert not lists.is_array
    assert ps.points == lists.points == [(0.0, 1.0), (2.0, 3.0), (4.0, 5.5)]
    assert ps.columns() == lists.columns()
    assert all(type(v) is float for pt in ps.points for v in pt)


def test_as_array_structured_fields_and_weights(tmp_path: Path) -> None:
    arr = weighted(50)
    p = save(tmp_path, "w.npy", arr)
    ps = load_points(p, as_array=True)
    assert ps.names == ("x", "y")
    assert isinstance(ps.weights, np.ndarray) and ps.weights.dtype == np.float64
    lists = load_points(p)
    assert ps.weights.tolist() == lists.weights
    assert ps.columns() == lists.columns()
    assert ps.as_lists().points == lists.points


def test_a_fortran_ordered_or_integer_file_reads_the_same(tmp_path: Path) -> None:
    rows = np.arange(12, dtype=np.int16).reshape(6, 2)
    a = load_points(save(tmp_path, "i.npy", rows), as_array=True)
    b = load_points(save(tmp_path, "f.npy", np.asfortranarray(rows.astype(">f8"))), as_array=True)
    assert a.data.tolist() == b.data.tolist() == rows.T.astype(float).tolist()


def test_the_array_path_makes_no_python_float_per_number(tmp_path: Path) -> None:
    # 200,000 points: as lists, each number is a Python float in a tuple (7x the file's
    # bytes once loaded); as an array, the columns are the file's bytes once more.
    p = save(tmp_path, "big.npy", np.random.default_rng(1).random((200_000, 2)))
    size = p.stat().st_size
    tracemalloc.start()
    try:
        ps = load_points(p, as_array=True)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ps.is_array
    assert kept < 1.5 * size and peak < 3.0 * size, (kept / size, peak / size)
    tracemalloc.start()
    try:
        lists = load_points(p)
        kept_lists, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lists.n == 200_000 and kept_lists > 5 * size  # what the array path avoids


# ------------------------------------------------------------------ bad files, same words


def bad_files(tmp_path: Path) -> list[Path]:
    files = []

    def add(name: str, arr: Any) -> None:
        files.append(save(tmp_path, name, arr))

    add("nan.npy", np.array([[0.0, 0.0], [1.0, 1.0], [np.inf, 2.0]]))
    add("cube.npy", np.zeros((2, 2, 2)))
    add("str.npy", np.array([["a", "b"]]))
    add("complex.npy", np.array([[1 + 2j, 0j]]))
    add("empty.npy", np.zeros((0, 2)))
    add("obj.npy", np.array([[1.0, {"a": 1}]], dtype=object))
    for name, w in (("negw", [1.0, -2.0]), ("nanw", [np.nan, 1.0]), ("zerow", [0.0, 0.0])):
        arr = np.zeros(2, dtype=[("x", "f8"), ("w", "f8")])
        arr["w"] = w
        add(f"{name}.npy", arr)
    two = np.zeros(2, dtype=[("w", "f8"), ("weight", "f8")])
    add("twow.npy", two)
    add("onlyw.npy", np.zeros(2, dtype=[("w", "f8")]))
    cut = tmp_path / "cut.npy"
    np.save(cut, np.ones((100, 2)))
    cut.write_bytes(cut.read_bytes()[:-8])
    files.append(cut)
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"\x93NUMPY\x01\x00garbage")
    files.append(garbage)
    z = tmp_path / "arch.npz"
    np.savez(z, a=np.zeros((2, 2)))
    files.append(z.rename(tmp_path / "arch.npy"))
    zero = tmp_path / "zero.npy"
    zero.write_bytes(b"")
    files.append(zero)
    return files


def message(call: Any) -> str:
    with pytest.raises(InputError) as info:
        call()
    text = str(info.value)
    assert "\n" not in text
    return text


def test_bad_files_give_the_same_one_line_errors_either_way(tmp_path: Path) -> None:
    for p in bad_files(tmp_path):
        as_lists = message(lambda p=p: load_points(p))
        as_array = message(lambda p=p: load_points(p, as_array=True))
        assert as_array == as_lists, p.name
        assert as_array.startswith(str(p))
        by_numpy = message(lambda p=p: get_problem("median", points=p, backend="numpy"))
        by_python = message(lambda p=p: get_problem("median", points=p, backend="python"))
        assert by_numpy == by_python == as_lists, p.name


def test_messages_name_the_first_bad_row(tmp_path: Path) -> None:
    arr = np.zeros(5, dtype=[("x", "f8"), ("w", "f8")])
    arr["w"] = [1.0, 1.0, -1.0, np.nan, -3.0]  # row 2 comes first
    p = save(tmp_path, "w.npy", arr)
    assert message(lambda: load_points(p, as_array=True)) == (
        f"{p}: row 2 (0-based) has weight -1.0, negative; weights must be >= 0"
    )
    arr["w"] = [1.0, -np.inf, -1.0, 1.0, 1.0]
    np.save(p, arr)
    assert message(lambda: load_points(p, as_array=True)) == (
        f"{p}: row 1 (0-based) has a non-finite weight -inf"
    )
    rows = np.ones((4, 3))
    rows[2, 1] = np.nan
    q = save(tmp_path, "r.npy", rows)
    assert message(lambda: load_points(q, as_array=True)) == (
        f"{q}: row 2 (0-based) has a non-finite value [1.0, nan, 1.0]"
    )


# ----------------------------------------------------------------- the problem's backend


def test_numpy_backend_keeps_the_file_as_arrays_in_the_engine(tmp_path: Path) -> None:
    p = save(tmp_path, "w.npy", weighted(300))
    prob = get_problem("median", points=p, backend="numpy")
    assert prob.backend == "numpy"
    assert isinstance(prob.columns, np.ndarray) and prob.columns.shape == (2, 300)
    assert isinstance(prob.weights, np.ndarray)
    data = [t.data for t in prob.unit._coords]
    assert all(isinstance(d, np.ndarray) and d.dtype == np.float64 for d in data)
    assert isinstance(prob.unit._w.data, np.ndarray)


def test_python_backend_converts_a_npy_file_to_lists(tmp_path: Path) -> None:
    p = save(tmp_path, "w.npy", weighted(300))
    prob = get_problem("median", points=p, backend="python")
    assert prob.backend == "python"
    assert isinstance(prob.columns, list) and all(type(v) is float for v in prob.columns[0])
    assert isinstance(prob.weights, list) and all(type(v) is float for v in prob.weights)
    assert all(isinstance(t.data, FloatArray) for t in prob.unit._coords)


def test_auto_decides_by_the_number_of_points_read(tmp_path: Path) -> None:
    small = save(tmp_path, "s.npy", np.random.default_rng(2).random((AUTO_NUMPY_MIN - 1, 2)))
    large = save(tmp_path, "l.npy", np.random.default_rng(2).random((AUTO_NUMPY_MIN, 2)))
    a = get_problem("median", points=small)
    b = get_problem("median", points=large)
    assert a.backend == "python" and isinstance(a.columns, list)
    assert b.backend == "numpy" and isinstance(b.columns, np.ndarray)


def test_text_files_are_lists_even_on_numpy(tmp_path: Path) -> None:
    p = tmp_path / "p.csv"
    p.write_text("x,y,w\n0,0,1\n1,0,2\n0,1,1\n1,1,1\n")
    prob = get_problem("median", points=p, backend="numpy")
    # read as lists, then made numpy data by the same lifecycle
    assert prob.backend == "numpy" and isinstance(prob.columns, np.ndarray)
    assert prob.columns.tolist() == [[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]]


def test_both_backends_solve_the_same_file_alike(tmp_path: Path) -> None:
    arr = weighted(2000, seed=4)
    arr["x"] = arr["x"] * 3e5 + 1e6  # far from the origin: a scaled unit copy
    p = save(tmp_path, "w.npy", arr)
    py = get_problem("median", points=p, backend="python")
    nu = get_problem("median", points=p, backend="numpy")
    assert py.extent == nu.extent and py.x0 == pytest.approx(nu.x0, rel=1e-15)
    r_py, r_nu = py.solve(), nu.solve()
    assert r_py.converged and r_nu.converged
    assert math.dist(r_py.x, r_nu.x) <= 1e-9 * py.extent
    ref_py, ref_nu = py.reference(), nu.reference()
    assert math.dist(ref_py.x, ref_nu.x) <= 1e-11 * py.extent
    assert ref_nu.loss == pytest.approx(ref_py.loss, rel=1e-13)
    x = r_nu.x
    assert nu.objective(x) == pytest.approx(py.objective(x), rel=1e-13)
    assert nu.gradient(x) == pytest.approx(py.gradient(x), abs=1e-12)
    a_py, a_nu = py.assess(x), nu.assess(x)
    assert a_py["matches"] and a_nu["matches"]
    assert sorted(a_py) == sorted(a_nu) and sorted(a_py["certificate"]) == sorted(
        a_nu["certificate"]
    )
    for doc in (a_nu, nu.to_dict(), r_nu.to_dict(), ref_nu.to_dict()):
        assert only_floats(doc)
        json.dumps(doc)


# -------------------------------------------------------------------- numpy blocked

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("numpy", "scipy", "matplotlib"):
                raise ImportError(f"{name} is blocked")
            return None

    sys.meta_path.insert(0, Blocker())
    """
)


def test_the_stdlib_path_works_with_numpy_blocked(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("x,y,w\n" + "".join(f"{i % 7},{(i * i) % 11},{1 + i % 3}\n" for i in range(60)))
    npy = tmp_path / "p.npy"
    npy.write_bytes(b"\x93NUMPY")  # never opened: numpy is missing
    script = BLOCKER + textwrap.dedent(
        f"""
        import json, math
        from geograd.errors import InputError
        from geograd.problems import get_problem
        from geograd.problems.base import AUTO_NUMPY_MIN

        for p in (get_problem("median", points={str(csv)!r}),
                  get_problem("median", n=AUTO_NUMPY_MIN),  # auto: numpy is not there
                  get_problem("median", n=300, distribution="outliers", weights="random")):
            assert p.backend == "python", p.backend
            r = p.solve()
            assert r.converged, r.message
            cert = p.certificate(r.x)
            assert cert["unique"] is True and math.isfinite(cert["value"])
            json.dumps(p.to_dict())
        try:
            get_problem("median", points={str(npy)!r})
        except InputError as exc:
            assert "needs numpy" in str(exc), exc
        else:
            raise AssertionError("a .npy file without numpy")
        try:
            get_problem("median", n=10, backend="numpy")
        except InputError as exc:
            assert "numpy is not installed" in str(exc), exc
        else:
            raise AssertionError("--backend numpy without numpy")
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
