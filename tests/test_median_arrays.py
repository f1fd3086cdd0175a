"""The median on the numpy backend: array-based from end to end, the same answers.

Generated points are ``random.Random(seed)``'s own numbers drawn in bulk by numpy
(:class:`~geograd.problems.data.NumpyRandom`), the data are one read-only float64 array
of shape (d, n) that the engine holds without a copy, and the closed forms (objective,
gradient, certificate, vertex test, uniqueness, reference) are numpy passes a block at a
time. Each is checked here against the standard-library path on the same data.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

import geograd.problems.median as median_module
from geograd import Tensor, value_and_grad
from geograd.problems import get_problem
from geograd.problems.base import AUTO_NUMPY_MIN
from geograd.problems.data import NumpyRandom, numpy_mirrors_random
from geograd.problems.median import (
    GeometricMedian,
    generate,
    generate_arrays,
    median_uniqueness,
    median_uniqueness_arrays,
    weiszfeld,
)
from geograd.problems.scaling import Frame

np = pytest.importorskip("numpy")


def pair(**options: Any) -> tuple[Any, Any]:
    return (
        get_problem("median", backend="python", **options),
        get_problem("median", backend="numpy", **options),
    )


def plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(plain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(plain(v) for v in value)
    return value is None or type(value) in (float, int, bool, str)


# -------------------------------------------------------------------- the same numbers


def test_numpy_draws_random_randoms_numbers() -> None:
    assert numpy_mirrors_random()
    r, m = random.Random(11), NumpyRandom(11)
    assert m.random(1000).tolist() == [r.random() for _ in range(1000)]
    assert m.normalvariate(2.0, 0.5, 5000).tolist() == [
        r.normalvariate(2.0, 0.5) for _ in range(5000)
    ]
    assert m.randrange(5, 3000).tolist() == [r.randrange(5) for _ in range(3000)]
    assert m.uniform(-1.0, 3.0, 700).tolist() == [r.uniform(-1.0, 3.0) for _ in range(700)]
    # a block larger than the need rewinds: the stream goes on where random's does
    assert m.random(3).tolist() == [r.random() for _ in range(3)]


@pytest.mark.parametrize("distribution", ["uniform", "gaussian", "clustered", "outliers"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_generated_arrays_are_the_python_backends_points(distribution: str, d: int) -> None:
    r = random.Random(9)
    columns = generate(r, 2501, d, distribution)
    weights = [r.uniform(0.1, 1.0) for _ in range(2501)]
    arrays, w = generate_arrays(9, 2501, d, distribution, True)
    assert arrays.tolist() == columns and w.tolist() == weights
    assert not arrays.flags.writeable and not w.flags.writeable


def test_without_the_mirror_the_points_come_from_random_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(median_module, "numpy_mirrors_random", lambda: False)
    arrays, w = generate_arrays(5, 300, 2, "gaussian", False)
    assert w is None and arrays.tolist() == generate(random.Random(5), 300, 2, "gaussian")


def test_both_backends_have_the_same_data_and_summary() -> None:
    py, nu = pair(n=800, distribution="clustered", weights="random")
    assert nu.columns.tolist() == py.columns and nu.weights.tolist() == py.weights
    assert nu.data_summary() == py.data_summary()
    assert nu.x0 == pytest.approx(py.x0, rel=1e-15) and nu.extent == py.extent


# ---------------------------------------------------------------------- the data's form


def test_numpy_data_are_one_read_only_array_the_engine_shares() -> None:
    p = get_problem("median", n=AUTO_NUMPY_MIN)  # auto: numpy
    assert p.backend == "numpy" and p.unit.arrays
    assert isinstance(p.columns, np.ndarray) and p.columns.shape == (2, AUTO_NUMPY_MIN)
    assert not p.columns.flags.writeable
    # uniform points in [0, 1]: the unit frame is the user's, so the unit copy is the data
    assert p.frame.identity and p.unit.columns is p.columns
    for j, t in enumerate(p.unit._coords):
        assert isinstance(t.data, np.ndarray) and np.shares_memory(t.data, p.columns[j])


def test_a_callers_array_is_copied_never_frozen() -> None:
    pts = np.random.default_rng(0).random((500, 2))
    before = pts.copy()
    p = GeometricMedian.from_points(pts, backend="numpy")
    assert pts.flags.writeable and np.array_equal(pts, before)
    assert not np.shares_memory(p.columns, pts)
    pts[0, 0] = 99.0  # the problem's data do not change with it
    assert p.columns[0, 0] == before[0, 0]


def test_python_backend_data_stay_lists_of_floats() -> None:
    p = get_problem("median", n=AUTO_NUMPY_MIN, backend="python")
    assert isinstance(p.columns, list) and isinstance(p.points, list)
    assert not p.unit.arrays


# -------------------------------------------------------------- the same mathematics


@pytest.mark.parametrize(
    "options",
    [
        {"n": 700},
        {"n": 700, "weights": "random", "dim": 3},
        {"n": 700, "distribution": "outliers"},
        {"n": 300, "dim": 1},
    ],
)
def test_closed_forms_agree_across_backends(options: dict[str, Any]) -> None:
    py, nu = pair(**options)
    pts = [*py.check_points(6), list(py.points[3]), [v + 1e-9 for v in py.points[5]]]
    assert nu.check_points(6) == py.check_points(6)  # the same data, the same draws
    for x in pts:
        assert nu.objective(x) == pytest.approx(py.objective(x), rel=1e-13)
        assert nu.gradient(x) == pytest.approx(py.gradient(x), rel=1e-11, abs=1e-13)
        c_py, c_nu = py.certificate(x), nu.certificate(x)
        assert sorted(c_py) == sorted(c_nu)
        assert c_nu["kind"] == c_py["kind"] and c_nu["unique"] == c_py["unique"]
        assert c_nu["value"] == pytest.approx(c_py["value"], rel=1e-9, abs=1e-13)
        assert plain(c_nu)
    for k in (0, 7):
        r_py, w_py = py.vertex_test(k)
        r_nu, w_nu = nu.vertex_test(k)
        assert r_nu == pytest.approx(r_py, rel=1e-12) and w_nu == pytest.approx(w_py)
    assert nu.uniqueness() == py.uniqueness()
    assert nu.plot_bounds([[9.0, 9.0]]) == py.plot_bounds([[9.0, 9.0]])


def test_a_median_on_a_data_point_is_certified_on_both() -> None:
    pts = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.3, 0.2], [5.0, 5.0]]
    w = [1.0, 1.0, 1.0, 10.0, 1.0]  # a dominant weight: the median is point 3
    for backend in ("python", "numpy"):
        p = GeometricMedian.from_points(pts, w, backend=backend)
        ref = p.reference()
        assert ref.x == [0.3, 0.2], backend
        cert = p.certificate(ref.x)
        assert cert["kind"] == "data_point" and cert["optimal"] is True and cert["index"] == 3
        assert cert["point"] == [0.3, 0.2] and plain(cert)


@pytest.mark.parametrize(
    ("points", "weights"),
    [
        ([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], None),
        ([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], [0.1, 0.2, 0.3, 0.0]),
        ([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [3.0, 3.0]], [1.0, 1.0, 1.0, 3.0]),
        ([[0.0, 0.0], [1.0, 0.5], [2.0, 2.0]], None),
        ([[1.0, 1.0]] * 3, None),
        ([[0.0], [1.0], [2.0]], None),
    ],
)
def test_uniqueness_verdicts_agree(points: list[list[float]], weights: Any) -> None:
    arrays = median_uniqueness_arrays(
        np.array(points, dtype=float).T.copy(), None if weights is None else np.array(weights)
    )
    assert arrays == median_uniqueness(points, weights)


def test_uniqueness_agrees_on_random_collinear_sets() -> None:
    r = random.Random(3)
    for _ in range(300):
        n = r.randrange(1, 9)
        pts = [[float(r.randrange(5)), 0.5] for _ in range(n)]
        w = [float(r.randrange(0, 3)) for _ in range(n)]
        if not any(w):
            w[0] = 1.0
        chosen = w if r.random() < 0.7 else None
        got = median_uniqueness_arrays(
            np.array(pts).T.copy(), None if chosen is None else np.array(chosen)
        )
        assert got == median_uniqueness(pts, chosen), (pts, chosen)


# -------------------------------------------------------------------------- reference


@pytest.mark.parametrize("weighted", [False, True])
def test_weiszfeld_by_blocks_agrees_with_whole_arrays(weighted: bool) -> None:
    g = np.random.default_rng(7)
    cols = g.random((2, 5000))
    w = g.random(5000) if weighted else None
    whole, d1 = weiszfeld(cols.tolist(), None if w is None else w.tolist())
    for block in (1, 333, 4096, 10**6):
        x, d2 = weiszfeld(cols, w, block=block)
        assert math.dist(x, whole) <= 1e-11, block
        assert d2["converged"] and abs(d2["iterations"] - d1["iterations"]) <= 1


def test_weiszfeld_by_blocks_stops_on_a_vertex_median() -> None:
    pts = np.array([[0.0, 1.0, 0.0, 0.3, 5.0], [0.0, 0.0, 1.0, 0.2, 5.0]])
    w = np.array([1.0, 1.0, 1.0, 10.0, 1.0])
    for block in (None, 2):
        x, details = weiszfeld(pts, w, block=block)
        assert x == [0.3, 0.2] and details["stopped"] == "data point passes the optimality test"


def test_the_reference_and_assessment_match_across_backends() -> None:
    py, nu = pair(n=3000, distribution="gaussian")
    assert math.dist(py.reference().x, nu.reference().x) <= 1e-11 * py.extent
    result = nu.solve()
    judged = nu.assess(result.x)
    assert judged["matches"], judged["match"]
    assert plain(judged) and plain(result.to_dict())
    json.dumps(nu.to_dict())


# ------------------------------------------------------------------------ the loss


def test_the_blocked_engine_loss_is_the_same_function(monkeypatch: pytest.MonkeyPatch) -> None:
    xs = ([0.4, 0.6], [0.5, 0.5])
    one = get_problem("median", n=1000, weights="random", backend="numpy")
    assert one.unit._engine_blocks() is None  # 1000 points: one block, F.sum of them all
    whole = [value_and_grad(one.loss)(Tensor(x)) for x in xs]
    r1 = one.solve()
    monkeypatch.setattr(median_module, "ENGINE_BLOCK", 128)
    blocked = get_problem("median", n=1000, weights="random", backend="numpy")
    blocks = blocked.unit._engine_blocks()
    assert blocks is not None and len(blocks) == 8
    for x, (v1, g1) in zip(xs, whole):
        v2, g2 = value_and_grad(blocked.loss)(Tensor(x))
        assert v2.item() == pytest.approx(v1.item(), rel=1e-14)
        assert g2.tolist() == pytest.approx(g1.tolist(), rel=1e-12, abs=1e-15)
    r2 = blocked.solve()
    assert math.dist(r1.x, r2.x) <= 1e-9 and abs(r1.steps - r2.steps) <= 2


def test_one_pass_serves_the_objective_gradient_and_certificate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = get_problem("median", n=2000, backend="numpy")
    calls: list[int] = []
    real = median_module.scan_arrays

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(median_module, "scan_arrays", counted)
    x = [0.41, 0.52]
    p.objective(x)
    p.gradient(x)
    p.certificate(x)
    p.objective(x)
    assert len(calls) == 1


# ------------------------------------------------------------------- frames and memory


@pytest.mark.parametrize("scale", [1e-320, 1e-200, 1.0, 3e5, 1e300])
def test_unit_columns_of_an_array_are_the_lists_numbers(scale: float) -> None:
    g = np.random.default_rng(5)
    cols = (g.random((2, 400)) * scale + np.array([[0.0], [2.5 * scale]])).tolist()
    frame = Frame.fit(cols)
    assert Frame.fit(np.array(cols)) == frame
    assert frame.columns_to_unit(np.array(cols)).tolist() == frame.columns_to_unit(cols)


def test_the_memory_figure_depends_on_the_backend() -> None:
    cls = GeometricMedian
    settings = {"n": 10**7, "dim": 2}
    assert cls.planned_memory({**settings, "backend": "numpy"}) == 120 * 2e7
    assert cls.planned_memory({**settings, "backend": "python"}) == 450 * 2e7
    p = get_problem("median", n=20)
    assert p.sized(settings)["backend"] == "python"  # decided: this problem's backend
    fresh = GeometricMedian.__new__(GeometricMedian)
    fresh.backend_request, fresh._backend = "auto", None
    assert fresh.sized(settings)["backend"] == "numpy"
    assert fresh.sized({"n": 10, "dim": 2})["backend"] == "python"
