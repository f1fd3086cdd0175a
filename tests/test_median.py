"""The geometric median: documented numbers, references, special cases, certificate, gradients."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from geograd import Tensor
from geograd.errors import InputError
from geograd.problems import get_problem
from geograd.problems.median import DISTRIBUTIONS, GeometricMedian, generate, weiszfeld
from geograd.tensor import topological_order

SEED5_MEDIAN = (0.48326, 0.49056)
SEED5_LOSS = 0.3801231537621


def seed_points(n: int) -> tuple[list[float], list[float]]:
    """The seed documents' generator, written out independently."""
    r = random.Random(5)
    xs = [r.uniform(a=0, b=1) for _ in range(n)]
    ys = [r.uniform(a=0, b=1) for _ in range(n)]
    return xs, ys


@pytest.fixture(scope="module")
def seed5() -> GeometricMedian:
    p = get_problem("median")
    assert isinstance(p, GeometricMedian)
    return p


# ------------------------------------------------------------------ documented numbers


@pytest.mark.parametrize(
    ("n", "loss", "grad"),
    [
        (1, 0.5472122517293468, (-0.5900849147094943, -0.8073411877467226)),
        (1000, 0.4430528244756474, (-0.3277744397151291, -0.336282174741702)),
    ],
)
def test_documented_numbers(n: int, loss: float, grad: tuple[float, float]) -> None:
    p = get_problem("median", n=n, seed=5)
    xs, ys = seed_points(n)
    assert p.columns == [xs, ys]
    x = Tensor([0.3, 0.3], requires_grad=True)
    value = p.loss(x)
    value.backward()
    assert value.item() == pytest.approx(loss, abs=1e-12)
    assert x.grad is not None
    for got in (x.grad.tolist(), p.gradient([0.3, 0.3]), p.autograd_gradient([0.3, 0.3])):
        assert got == pytest.approx(list(grad), abs=1e-12)
    assert p.objective([0.3, 0.3]) == pytest.approx(loss, abs=1e-12)


def test_defaults_are_the_seed_document_problem(seed5: GeometricMedian) -> None:
    assert seed5.settings == {
        "n": 1000,
        "dim": 2,
        "seed": 5,
        "distribution": "uniform",
        "weights": "equal",
        "points": None,
    }
    xs, ys = seed_points(1000)
    assert seed5.x0 == [math.fsum(xs) / 1000, math.fsum(ys) / 1000]


def test_the_loss_is_a_few_vector_operations_not_a_per_point_graph(
    seed5: GeometricMedian,
) -> None:
    # Speed is measured by `python -m geograd.bench`; here, its cause: the graph of the
    # loss has a handful of 1-D nodes, whatever the number of points.
    x = Tensor([0.3, 0.3], requires_grad=True)
    nodes = topological_order(seed5.loss(x))
    assert len(nodes) <= 12
    assert max(len(n.data) for n in nodes if n.shape) == 1000  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reference


def test_seed5_reference(seed5: GeometricMedian) -> None:
    ref = seed5.reference()
    assert ref.method == "weiszfeld-vardi-zhang"
    assert ref.details["converged"]
    assert ref.x == pytest.approx(SEED5_MEDIAN, abs=5e-6)
    assert ref.loss == pytest.approx(SEED5_LOSS, abs=1e-13)
    assert seed5.reference() is ref
    cert = seed5.certificate(ref.x)
    assert cert["kind"] == "gradient_norm" and cert["value"] < 1e-10
    assert cert["gap_bound"] < 1e-10
    assert json.loads(json.dumps(ref.to_dict()))["x"] == ref.x


def test_scipy_baselines_agree(seed5: GeometricMedian) -> None:
    ref = seed5.reference()
    runs = seed5.baselines()
    assert [b.method for b in runs] == ["BFGS", "L-BFGS-B", "CG", "Nelder-Mead"]
    for b in runs:
        tol = 1e-4 if b.method == "Nelder-Mead" else 1e-5
        assert math.dist(b.x, ref.x) < tol, b
        assert b.loss == pytest.approx(ref.loss, abs=1e-8)
        assert b.loss >= ref.loss - 1e-15  # nobody beats the reference
        assert b.success and b.evaluations > 0


def test_scipy_baselines_tight_options_reach_reference(seed5: GeometricMedian) -> None:
    (b,) = seed5.baselines(["BFGS"], options={"BFGS": {"gtol": 1e-11}})
    assert math.dist(b.x, seed5.reference().x) < 1e-9


def test_weiszfeld_from_a_data_point_uses_vardi_zhang() -> None:
    # Starting exactly on a data point that is not the median: plain Weiszfeld would
    # divide by zero; Vardi–Zhang steps off it.
    pts = [(0.0, 0.0), (4.0, 0.0), (0.0, 3.0), (4.0, 3.0), (1.0, 1.0)]
    cols = [[p[0] for p in pts], [p[1] for p in pts]]
    x, details = weiszfeld(cols, x0=[1.0, 1.0])
    free, _ = weiszfeld(cols)
    assert details["converged"]
    assert math.dist(x, free) < 1e-10
    p = GeometricMedian.from_points(pts)
    assert p.certificate(x)["value"] < 1e-9


# ------------------------------------------------------------------------ special cases


def test_collinear_points_give_the_one_dimensional_median() -> None:
    ts = [0.0, 1.0, 2.0, 5.0, 9.0]
    p = GeometricMedian.from_points([(t, 2 * t + 1) for t in ts])
    ref = p.reference()
    assert ref.x == [2.0, 5.0]
    cert = p.certificate(ref.x)
    assert cert["kind"] == "data_point" and cert["optimal"] is True
    # the 1-D median, loss = mean |t - 2| along the line of slope 2
    assert ref.loss == pytest.approx(math.sqrt(5) * (2 + 1 + 0 + 3 + 7) / 5, abs=1e-14)


def test_one_dimensional_weighted_median() -> None:
    p = GeometricMedian.from_points([[0.0], [1.0], [3.0], [7.0], [20.0]], weights=[1, 1, 1, 1, 5])
    # the weight 5 at 20 is more than half of 9: the weighted median is 20
    assert p.reference().x == [20.0]
    q = GeometricMedian.from_points([[0.0], [1.0], [3.0], [7.0], [20.0]])
    assert q.reference().x == [3.0]
    assert q.certificate([3.0])["optimal"] is True
    assert q.certificate([1.0])["optimal"] is False


def test_one_point() -> None:
    p = GeometricMedian.from_points([(0.3, 0.7)])
    assert p.reference().x == [0.3, 0.7] and p.reference().loss == 0.0
    assert p.x0 == [0.3, 0.7]
    assert p.gradient([0.3, 0.7]) == [0.0, 0.0]
    assert p.autograd_gradient([0.3, 0.7]) == [0.0, 0.0]
    assert p.gradient([1.3, 0.7]) == pytest.approx([1.0, 0.0])
    cert = p.certificate([0.3, 0.7])
    assert cert["optimal"] is True and cert["value"] == 0.0


def test_generated_one_point() -> None:
    p = get_problem("median", n=1)
    assert p.reference().x == p.x0 and p.reference().loss == 0.0


def test_duplicate_points() -> None:
    # three copies of the origin outweigh the pull of the other two (|u1 + u2| = √2 <= 3)
    p = GeometricMedian.from_points([(0, 0), (0, 0), (0, 0), (1, 0), (0, 1)])
    assert p.reference().x == [0.0, 0.0]
    cert = p.certificate([0.0, 0.0])
    assert cert["kind"] == "data_point" and cert["optimal"] is True
    assert cert["point_weight"] == pytest.approx(3 / 5)
    assert cert["pull"] == pytest.approx(math.sqrt(2) / 5)
    # duplicating every point changes nothing
    pts = [(random.Random(i).random(), random.Random(i + 99).random()) for i in range(9)]
    once, twice = GeometricMedian.from_points(pts), GeometricMedian.from_points(pts + pts)
    assert math.dist(once.reference().x, twice.reference().x) < 1e-10
    assert once.reference().loss == pytest.approx(twice.reference().loss, abs=1e-14)


def test_dominant_weight_is_the_median() -> None:
    r = random.Random(3)
    pts = [(r.random(), r.random()) for _ in range(20)]
    w = [r.uniform(0.5, 2.0) for _ in range(20)]
    w[7] = math.fsum(w[:7] + w[8:])  # exactly the sum of the others
    p = GeometricMedian.from_points(pts, w)
    ref = p.reference()
    assert ref.x == list(pts[7])
    cert = p.certificate(ref.x)
    assert cert["optimal"] is True and cert["point_index"] == 7
    # a point 1e-9 away is recognised as sitting on the data point
    near = [pts[7][0] + 1e-9, pts[7][1]]
    assert p.certificate(near)["kind"] == "data_point"
    assert p.certificate(near, atol=1e-12)["kind"] == "gradient_norm"


def _angle(p: list[float], a: tuple[float, float], b: tuple[float, float]) -> float:
    u = (a[0] - p[0], a[1] - p[1])
    v = (b[0] - p[0], b[1] - p[1])
    c = (u[0] * v[0] + u[1] * v[1]) / (math.hypot(*u) * math.hypot(*v))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def test_fermat_point_of_an_acute_triangle() -> None:
    tri = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    p = GeometricMedian.from_points(tri)
    ref = p.reference()
    exact = (3 - math.sqrt(3)) / 6
    assert ref.x == pytest.approx([exact, exact], abs=1e-11)
    assert 3 * ref.loss == pytest.approx(math.sqrt(2 + math.sqrt(3)), abs=1e-14)
    for i in range(3):
        assert _angle(ref.x, tri[i], tri[(i + 1) % 3]) == pytest.approx(120.0, abs=1e-8)
    # another triangle with all angles under 120°
    tri2 = [(0.0, 0.0), (5.0, 0.0), (1.0, 3.0)]
    x = GeometricMedian.from_points(tri2).reference().x
    for i in range(3):
        assert _angle(x, tri2[i], tri2[(i + 1) % 3]) == pytest.approx(120.0, abs=1e-8)


@pytest.mark.parametrize("angle", [120.0, 135.0, 161.0])
def test_obtuse_triangle_gives_the_vertex(angle: float) -> None:
    t = math.radians(angle)
    tri = [(0.0, 0.0), (1.0, 0.0), (2.0 * math.cos(t), 2.0 * math.sin(t))]
    p = GeometricMedian.from_points(tri)
    ref = p.reference()
    assert ref.x == [0.0, 0.0]
    cert = p.certificate([0.0, 0.0])
    assert cert["optimal"] is True
    assert p.certificate([1.0, 0.0])["optimal"] is False


def test_three_dimensional_points() -> None:
    cube = [(i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    p = GeometricMedian.from_points(cube, x0=[0.1, 0.2, 0.9])
    ref = p.reference()
    assert ref.x == pytest.approx([0.5, 0.5, 0.5], abs=1e-12)
    assert ref.loss == pytest.approx(math.sqrt(3) / 2, abs=1e-14)
    q = get_problem("median", dim=3, n=300, seed=11)
    assert q.dim == 3 and len(q.columns) == 3
    refq = q.reference()
    for b in q.baselines(["BFGS", "L-BFGS-B"]):
        assert math.dist(b.x, refq.x) < 1e-5
    assert q.certificate(refq.x)["value"] < 1e-10


def test_high_dimension_generation() -> None:
    p = get_problem("median", dim=5, n=40)
    assert p.dim == 5 and p.names == ("x1", "x2", "x3", "x4", "x5")
    assert p.certificate(p.reference().x)["value"] < 1e-10


# ------------------------------------------------------------------- data and options


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_distributions_are_deterministic(dist: str) -> None:
    a = get_problem("median", n=200, distribution=dist, seed=9)
    b = get_problem("median", n=200, distribution=dist, seed=9)
    c = get_problem("median", n=200, distribution=dist, seed=10)
    assert a.columns == b.columns and a.columns != c.columns
    assert a.n == 200 and a.dim == 2


def test_distribution_shapes() -> None:
    g = get_problem("median", n=2000, distribution="gaussian").columns
    assert math.fsum(g[0]) / 2000 == pytest.approx(0.5, abs=0.02)
    sd = math.sqrt(math.fsum((v - 0.5) ** 2 for v in g[0]) / 2000)
    assert sd == pytest.approx(0.15, abs=0.01)
    u = get_problem("median", n=500, dim=3).columns
    assert all(0 <= v <= 1 for c in u for v in c)
    cl = generate(random.Random(1), 500, 2, "clustered")
    assert all(-0.2 < v < 1.2 for c in cl for v in c)


def test_outliers_move_the_mean_not_the_median() -> None:
    p = get_problem("median", n=1000, distribution="outliers")
    xs = p.columns[0]
    assert sum(v > 2.5 for v in xs) == 200  # n // 5 outliers in [3, 5]
    assert p.x0[0] > 1.0  # the centroid is dragged out
    med = p.reference().x
    assert all(abs(v - 0.5) < 0.1 for v in med)  # the median stays with the inliers


def test_random_weights() -> None:
    p = get_problem("median", n=50, weights="random")
    q = get_problem("median", n=50)
    assert p.columns == q.columns  # weights are drawn after the coordinates
    assert p.weights is not None and all(0.1 <= w < 1.0 for w in p.weights)
    assert p.x0 != q.x0
    assert p.to_dict()["data"]["weighted"] is True


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"n": 0}, "median: --n must be an integer >= 1, got 0"),
        ({"n": "many"}, "--n must be an integer"),
        ({"dim": 0}, "--dim must be an integer >= 1"),
        ({"seed": 1.5}, "--seed must be an integer"),
        ({"distribution": "normal"}, "--distribution must be one of uniform, gaussian"),
        ({"weights": "heavy"}, "--weights must be one of equal, random"),
        ({"npoints": 5}, "unknown option 'npoints'"),
        ({"x0": [1.0]}, "x0 has 1 coordinate but the problem has dimension 2"),
        ({"x0": "a,b"}, "x0 coordinate 1 ('a') is not a number"),
    ],
)
def test_bad_options(options: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as info:
        get_problem("median", **options)
    assert words in str(info.value)


def test_given_x0() -> None:
    p = get_problem("median", n=10, x0="0.1,0.9")
    assert p.x0 == [0.1, 0.9]
    assert p.to_dict()["x0"] == [0.1, 0.9]


def test_to_dict_round_trip(tmp_path: Path) -> None:
    p = get_problem("median", n=30, seed=2, distribution="clustered", weights="random")
    d = p.to_dict()
    assert d["name"] == "median" and d["n"] == 30 and d["dim"] == 2
    assert d["data"]["source"] == "generated"
    text = json.dumps(d)
    q = GeometricMedian.from_dict(json.loads(text))
    assert q.columns == p.columns and q.weights == p.weights and q.x0 == p.x0
    given = GeometricMedian.from_points([(0, 0), (1, 2), (3, 1)], [1, 2, 3], x0=[1, 1])
    again = GeometricMedian.from_dict(json.loads(json.dumps(given.to_dict())))
    assert again.points == given.points and again.weights == given.weights
    assert again.x0 == [1.0, 1.0]


def test_from_points_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="no points"):
        GeometricMedian.from_points([])
    with pytest.raises(InputError, match="different dimensions"):
        GeometricMedian.from_points([(0, 0), (1, 2, 3)])
    with pytest.raises(InputError, match="weights must be"):
        GeometricMedian.from_points([(0, 0), (1, 1)], [-1, 2])
    with pytest.raises(InputError, match="weights must be"):
        GeometricMedian.from_points([(0, 0), (1, 1)], [0, 0])
    with pytest.raises(InputError, match="2 weights for 3 points"):
        GeometricMedian.from_points([(0, 0), (1, 1), (2, 2)], [1, 1])


# ----------------------------------------------------------------------------- gradients


def _fd(p: GeometricMedian, x: list[float], h: float = 1e-7) -> list[float]:
    out = []
    for j in range(len(x)):
        up, dn = list(x), list(x)
        up[j] += h
        dn[j] -= h
        out.append((p.objective(up) - p.objective(dn)) / (2 * h))
    return out


@pytest.mark.parametrize(
    "problem",
    [
        {"n": 200},
        {"n": 100, "weights": "random"},
        {"n": 60, "dim": 3, "distribution": "clustered"},
        {"n": 30, "dim": 1, "distribution": "gaussian"},
        {"n": 80, "distribution": "outliers"},
    ],
    ids=["uniform", "weighted", "3d", "1d", "outliers"],
)
def test_autograd_closed_form_and_finite_differences(problem: dict[str, object]) -> None:
    p = get_problem("median", **problem)
    assert isinstance(p, GeometricMedian)
    pts = p.check_points(10, seed=4)
    near = [min(math.dist(a, x) for a in p.points) for x in pts]
    assert sum(d < 2e-3 * p.scale for d in near) == 5  # half of them hug a data point
    for x in pts:
        closed = p.gradient(x)
        auto = p.autograd_gradient(x)
        assert auto == pytest.approx(closed, abs=1e-14)
        h = 1e-7 * p.scale
        assert _fd(p, x, h) == pytest.approx(closed, abs=2e-6)
        with_loss = Tensor(x)
        assert p.loss(with_loss).item() == pytest.approx(p.objective(x), abs=1e-14)


def test_gradient_on_a_data_point_drops_that_term() -> None:
    pts = [(0.0, 0.0), (3.0, 0.0), (0.0, 4.0)]
    p = GeometricMedian.from_points(pts)
    expected = [(-1.0 + 0.0) / 3, (0.0 - 1.0) / 3]
    assert p.gradient([0.0, 0.0]) == pytest.approx(expected, abs=1e-15)
    assert p.autograd_gradient([0.0, 0.0]) == pytest.approx(expected, abs=1e-15)


def test_scalar_parameter_for_one_dimensional_data() -> None:
    p = GeometricMedian.from_points([[0.0], [2.0], [5.0]])
    assert p.loss(Tensor(1.0)).item() == pytest.approx((1 + 1 + 4) / 3)
    assert p.loss([1.0]).item() == pytest.approx(2.0)


# ---------------------------------------------------------------------------- drawing


def test_objective_grid_matches_objective(seed5: GeometricMedian) -> None:
    xs, ys = [0.1, 0.5, 0.93], [0.2, 0.8]
    z = seed5.objective_grid(xs, ys)
    assert len(z) == 2 and len(z[0]) == 3
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            assert z[i][j] == pytest.approx(seed5.objective([x, y]), abs=1e-13)
    w = get_problem("median", n=40, weights="random")
    assert w.objective_grid([0.3], [0.6])[0][0] == pytest.approx(w.objective([0.3, 0.6]))
    with pytest.raises(InputError, match="2-D"):
        get_problem("median", n=5, dim=3).objective_grid([0.0], [0.0])


def test_plot_bounds_and_xy() -> None:
    p = GeometricMedian.from_points([(0, 0), (2, 1)])
    lo_x, hi_x, lo_y, hi_y = p.plot_bounds()
    assert lo_x < 0 and hi_x > 2 and lo_y < 0 and hi_y > 1
    assert p.plot_bounds([[5.0, -3.0]])[1] > 5.0
    assert p.plot_xy([1.0, 2.0]) == (1.0, 2.0)
    q = GeometricMedian.from_points([(0, 0, 0), (1, 1, 1)])
    assert q.plot_xy([0.2, 0.3, 0.4]) == (0.2, 0.3)
    r = GeometricMedian.from_points([[0.0], [1.0]])
    assert r.plot_xy([0.5]) == (0.5, 0.0)


@pytest.mark.parametrize(
    "problem",
    [{"n": 100}, {"n": 50, "weights": "random"}, {"n": 20, "dim": 3}, {"n": 10, "dim": 1}],
    ids=["plain", "weighted", "3d", "1d"],
)
def test_draw(problem: dict[str, object], tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = get_problem("median", **problem)
    fig, ax = plt.subplots()
    try:
        artists = p.draw(ax, p.reference().x)
        assert len(artists) == 2
        scatter = artists[0]
        assert len(scatter.get_offsets()) == p.n
        sizes = scatter.get_sizes()
        if problem.get("weights") == "random":
            assert len(set(sizes.tolist())) > 1  # sized by weight
        else:
            assert len(sizes) == 1
        labels = [h.get_label() for h in ax.get_legend_handles_labels()[0]]
        assert labels[0].startswith("points (n=") and labels[1] == "estimate"
        assert ax.get_xlabel() == p.names[0]
        fig.savefig(tmp_path / "m.png")
        assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
        # without an estimate: only the data
        ax.clear()
        assert len(p.draw(ax)) == 1
    finally:
        plt.close(fig)


# ----------------------------------------------------------------- uniqueness


@pytest.mark.parametrize(
    ("points", "weights", "unique"),
    [
        ([[0.0, 0.0], [2.0, 1.0]], None, False),  # two points: the whole segment
        ([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], None, False),  # [1, 2] balances
        ([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]], None, True),  # the middle point
        ([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], None, True),  # not collinear
        ([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], None, True),  # a square's centre
        ([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], [1, 1, 1, 2], True),  # unbalanced
        ([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], [3, 1, 1, 3], False),  # 4 vs 4
        ([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [1, 1, 0], False),  # weight 0 drops a point
        ([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]], None, False),  # duplicates balance
        ([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]], None, True),  # a duplicate outweighs
        ([[0.1 * k, 0.3 * k] for k in range(6)], None, False),  # collinear to rounding
        ([[1.0], [2.0], [3.0], [5.0]], [0.1, 0.2, 0.3, 0.0], False),  # 0.1 + 0.2 vs 0.3
        ([[1.0], [2.0], [3.0], [5.0]], None, False),  # 1-D, even count
        ([[1.0], [2.0], [3.0]], None, True),  # 1-D, odd count
        ([[4.0, 4.0], [4.0, 4.0]], None, True),  # all coincide
    ],
)
def test_uniqueness(points: list[list[float]], weights: list[float] | None, unique: bool) -> None:
    p = GeometricMedian.from_points(points, weights)
    verdict, why = p.uniqueness()
    assert verdict is unique and why
    cert = p.certificate(p.default_x0())
    assert cert["unique"] is unique and cert["uniqueness"] == why


def test_non_unique_median_names_the_ends_of_the_segment() -> None:
    p = GeometricMedian.from_points([[3.0, 0.0], [0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    unique, why = p.uniqueness()
    assert unique is False
    assert why.endswith(
        "every point between data point 3 (index 2) and data point 4 (index 3) is a median"
    )
    # every point of the segment is optimal (equal objectives), none outside it
    inside = [p.objective([t, 0.0]) for t in (1.0, 1.25, 1.5, 2.0)]
    assert max(inside) - min(inside) <= 1e-15
    assert p.objective([2.1, 0.0]) > inside[0] + 1e-3
