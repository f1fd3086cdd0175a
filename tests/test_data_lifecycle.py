"""The one data lifecycle of problems over points (problems/lifecycle.py): given in code,
loaded from the file option or generated; ``source``, names and dimension; the ``data``
block of ``to_dict``, ``from_dict`` (JSON saved before the lifecycle included), and the
declared shape's one clear error; point sets with a partner set matched row by row
(registration's source and target)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from geograd.errors import InputError
from geograd.problems import get_problem
from geograd.problems.base import Option, Reference
from geograd.problems.circle_fit import CircleFit
from geograd.problems.circle_fit import generate as arc_points
from geograd.problems.enclosing_circle import EnclosingCircle
from geograd.problems.fermat import FermatPoint, draw_triangle
from geograd.problems.lifecycle import Data, DataShape, PointProblem
from geograd.problems.median import GeometricMedian
from geograd.problems.median import generate as median_points
from geograd.problems.registration import Registration, Registration3D
from geograd.problems.spherical_median import SphericalMedian, from_latlon
from geograd.problems.spherical_median import generate as sphere_points
from geograd.problems.thomson import normalise
from geograd.problems.trilateration import Trilateration
from geograd.problems.trilateration import generate as anchor_draw

TRIANGLE = [(0.0, 0.0), (4.0, 0.0), (1.0, 3.0)]
SQUARE = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
#: SQUARE turned by 90° about the origin and shifted by (1, 2): registration's target.
MOVED = [(1.0 - y, 2.0 + x) for x, y in SQUARE]
LATLON = [(10.0, 20.0), (12.0, 25.0), (8.0, 22.0)]

#: One instance over given data per converted problem.
GIVEN: dict[str, Any] = {
    "fermat": lambda: FermatPoint.from_points(TRIANGLE, x0=[1.0, 1.0]),
    "circle-fit": lambda: CircleFit.from_points([(1, 0), (0, 1), (-1, 0), (0, -1.1)], init="kasa"),
    "enclosing-circle": lambda: EnclosingCircle.from_points(TRIANGLE, hull=False),
    "trilateration": lambda: Trilateration.from_anchors(SQUARE, [7, 7, 7, 7.5], truth=[5, 5]),
    "median": lambda: GeometricMedian.from_points(TRIANGLE, [1.0, 2.0, 3.0], x0=[0.5, 0.5]),
    "registration": lambda: Registration.from_points(SQUARE, MOVED, x0=[0.5, 1.0, 9.0]),
    "spherical-median": lambda: SphericalMedian.from_points(LATLON, weights=[1.0, 2.0, 0.5]),
}


def rebuilt(p: Any) -> Any:
    """``p`` through JSON and back, as a saved file is."""
    return type(p).from_dict(json.loads(json.dumps(p.to_dict())))


# ------------------------------------------------------------------ the three sources


@pytest.mark.parametrize("name", sorted(GIVEN))
def test_given_data_say_so_and_round_trip_through_json(name: str) -> None:
    p = GIVEN[name]()
    block = p.to_dict()["data"]
    assert p.data_origin == "given" and block["source"] == "given" and block["n"] == p.n
    assert block["dim"] == p.data_dim and block["columns"] == list(p.names)
    q = rebuilt(p)
    assert q.data_origin == "given" and q.columns == p.columns and q.x0 == p.x0
    assert q.objective(p.x0) == p.objective(p.x0)
    assert q.settings == p.settings


@pytest.mark.parametrize("name", sorted(GIVEN))
def test_generated_data_round_trip_through_their_options(name: str) -> None:
    p = get_problem(name, seed=11)
    assert p.data_origin == "generated" and p.to_dict()["data"]["source"] == "generated"
    q = rebuilt(p)
    assert q.data_origin == "generated" and q.columns == p.columns and q.settings == p.settings


def test_generated_data_are_the_seeded_draws() -> None:
    """The declared generators draw exactly what the module functions draw for the seed."""
    rows = draw_triangle(random.Random(7), "interior")
    assert get_problem("fermat", seed=7, case="interior").points == [tuple(r) for r in rows]
    xs, ys = arc_points(random.Random(3), 50, 90.0, 0.01)
    p = get_problem("circle-fit", seed=3, n=50, arc=90, noise=0.01)
    assert (p.xs, p.ys) == (xs, ys)
    rows = [normalise(q) for q in sphere_points(random.Random(7), 40, "hemisphere")]
    assert get_problem("spherical-median", seed=7, n=40, distribution="hemisphere").points == rows
    anchors, ranges, truth = anchor_draw(random.Random(4), 5, 3, 0.2)
    t = get_problem("trilateration", seed=4, anchors=5, dim=3, noise=0.2)
    assert t.anchors == [tuple(a) for a in anchors] and t.ranges == ranges and t.truth == truth
    r = random.Random(9)
    columns = median_points(r, 40, 3, "clustered")
    weights = [r.uniform(0.1, 1.0) for _ in range(40)]
    m = get_problem(
        "median", seed=9, n=40, dim=3, distribution="clustered", weights="random",
        backend="python",
    )  # fmt: skip
    assert m.columns == columns and m.weights == weights


def test_loaded_data_name_their_file_and_its_header(tmp_path: Path) -> None:
    f = tmp_path / "pts.csv"
    f.write_text("east,north\n0,0\n4,0\n1,3\n")
    for name in ("fermat", "median", "enclosing-circle", "circle-fit"):
        p = get_problem(name, points=f)
        assert p.source == str(f) and p.names == ("east", "north") and p.n == 3
        d = p.to_dict()
        assert d["data"]["source"] == str(f) and d["data"]["columns"] == ["east", "north"]
        assert rebuilt(p).columns == p.columns
    g = tmp_path / "anchors.csv"
    g.write_text("x,y,range\n0,0,7\n10,0,7\n10,10,7\n0,10,7.5\n")
    t = get_problem("trilateration", points=g)
    assert t.source == str(g) and t.ranges == [7, 7, 7, 7.5] and t.names == ("x", "y")
    assert t.range_column == "its 'range' column"


# -------------------------------------------------------------------- old saved JSON


def old(name: str, options: dict[str, Any], data: dict[str, Any], x0: list[float]) -> dict:
    """A to_dict document as the problems wrote it before the lifecycle (issue 15)."""
    return {"name": name, "options": options, "n": data.get("n", 3), "x0": x0, "data": data}


def test_json_saved_before_the_lifecycle_still_loads() -> None:
    fermat = old(
        "fermat", {"seed": 5, "case": "random", "points": None},
        {"source": "given", "dim": 2, "columns": ["x", "y"], "points": [list(p) for p in TRIANGLE]},
        [1.0, 1.0],
    )  # fmt: skip
    p = FermatPoint.from_dict(fermat)
    assert p.points == TRIANGLE and p.source == "given" and p.x0 == [1.0, 1.0]
    circle = old(
        "circle-fit",
        {"n": 100, "arc": 120.0, "noise": 0.05, "seed": 5, "init": "taubin", "points": None},
        {"source": "given", "n": 4, "points": [[1, 0], [0, 1], [-1, 0], [0, -1]]},
        [0.0, 0.0, 1.0],
    )
    c = CircleFit.from_dict(circle)
    assert c.xs == [1.0, 0.0, -1.0, 0.0] and c.settings["init"] == "taubin"
    enclosing = old(
        "enclosing-circle",
        {"n": 1000, "dim": 2, "seed": 5, "distribution": "uniform", "temperature": 1e6,
         "hull": False, "points": None},
        {"source": "given", "n": 3, "hull_vertices": 3, "points": [list(p) for p in TRIANGLE]},
        [1.0, 1.0],
    )  # fmt: skip
    e = EnclosingCircle.from_dict(enclosing)
    assert e.rows == TRIANGLE and e.settings["temperature"] == 1e6 and e.settings["hull"] is False
    tri = old(
        "trilateration", {"anchors": 6, "dim": 2, "noise": 0.1, "seed": 5, "points": None},
        {"source": "given", "n": 4, "dim": 2, "columns": ["x", "y"], "truth": [5.0, 5.0],
         "anchors": [list(a) for a in SQUARE], "ranges": [7.0, 7.0, 7.0, 7.5]},
        [4.0, 4.0],
    )  # fmt: skip
    t = Trilateration.from_dict(tri)
    assert t.anchors == SQUARE and t.ranges[3] == 7.5 and t.truth == [5.0, 5.0]
    median = old(
        "median",
        {"n": 3, "dim": 2, "seed": 5, "distribution": "uniform", "weights": "equal",
         "points": None},
        {"source": "given", "n": 3, "dim": 2, "weighted": True, "columns": ["x", "y"],
         "points": [list(p) for p in TRIANGLE], "weights": [1.0, 2.0, 3.0]},
        [0.5, 0.5],
    )  # fmt: skip
    m = GeometricMedian.from_dict(median)
    assert m.weights == [1.0, 2.0, 3.0] and m.x0 == [0.5, 0.5] and m.n == 3
    generated = old(
        "median",
        {"n": 50, "dim": 3, "seed": 2, "distribution": "gaussian", "weights": "equal",
         "points": None},
        {"source": "generated", "n": 50, "dim": 3, "weighted": False,
         "columns": ["x", "y", "z"]},
        [0.5, 0.5, 0.5],
    )  # fmt: skip
    g = GeometricMedian.from_dict(generated)
    assert g.columns == get_problem("median", n=50, dim=3, seed=2, distribution="gaussian").columns


# ------------------------------------------------------------------- declared shape


@pytest.mark.parametrize(
    ("name", "text", "options", "words"),
    [
        ("fermat", "0,0\n1,0\n0,1\n2,2\n", {},
         "4 points; a triangle has exactly 3 (for more points use the median problem)"),
        ("enclosing-circle", "0,0,0\n1,0,0\n", {},
         "points have 3 coordinates; this problem needs 2 (give --dim 3 for these points)"),
        ("enclosing-circle", "0,0,0\n1,0,0\n", {"dim": 4},
         "points have 3 coordinates; this problem needs 4"),
        ("circle-fit", "0,0\n1,0\n", {}, "2 point(s); this problem needs at least 3"),
        ("circle-fit", "x,y,w\n0,0,1\n1,0,1\n0,1,1\n", {}, "takes no weights"),
    ],
)  # fmt: skip
def test_a_file_breaking_the_declared_shape_is_one_clear_error(
    tmp_path: Path, name: str, text: str, options: dict[str, Any], words: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(InputError) as info:
        get_problem(name, points=f, **options)
    message = str(info.value)
    assert message.startswith(f"{f}: ") and message.endswith(words) and "\n" not in message


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: FermatPoint.from_points(TRIANGLE[:2]), "a triangle has 3 vertices, got 2"),
        (lambda: CircleFit.from_points([(0, 0, 1)] * 3), "each point needs 2 coordinates"),
        (lambda: EnclosingCircle.from_points([(0, 0)], dim=3), "each point needs 3 coordinates"),
        (lambda: Trilateration.from_anchors([(0, 0, 0, 0)] * 5, [1] * 5),
         "anchors must all have 2 or all have 3 coordinates"),
        (lambda: GeometricMedian.from_points([(0, 0), (1, 2, 3)]),
         "points of different dimensions; they must have the same, nonzero dimension"),
        (lambda: CircleFit.from_points([(0, 0), (1, float("nan")), (2, 1)]),
         "the points must be finite numbers"),
        (lambda: Registration.from_points(SQUARE, MOVED[:3]), "registration (given): 3 target "
         "points for 4 source points; row i of the target must match row i of the source"),
        (lambda: Registration.from_points(SQUARE, [(0, 0, 0)] * 4),
         "each target point needs 2 coordinates"),
        (lambda: Registration.from_points(SQUARE, [(0, float("inf")), *MOVED[1:]]),
         "the point pairs must be finite numbers"),
        (lambda: SphericalMedian.given([(1.0, 2.0)]), "points must all have 3 coordinates"),
        (lambda: SphericalMedian.given([(1.0, 0.0, 0.0), (0.0, 0.0, 0.0)]),
         "point 2 (counting from 1) is the zero vector; a point needs a direction"),
    ],
)  # fmt: skip
def test_given_data_breaking_the_declared_shape_is_one_clear_error(build: Any, words: str) -> None:
    with pytest.raises(InputError) as info:
        build()
    assert str(info.value).endswith(words) and "\n" not in str(info.value)


class Pairs(PointProblem):
    """A minimal problem over points: the lifecycle is all it needs for its data."""

    name = "pairs"
    data_shape = DataShape(dim=2, count=2, count_words="a pair has", extras=("tag",))
    options = (Option("seed", int, 1, "seed", generator=True),)
    tag: Any = None

    def generate(self, rng: random.Random) -> Data:
        return Data([[rng.random(), rng.random()], [rng.random(), rng.random()]])

    def install(self, data: Data) -> None:
        super().install(data)
        self.tag = data.extra.get("tag")

    @property
    def dim(self) -> int:
        return 2

    def loss(self, x: Any) -> Any:
        return (x * x).sum()

    def gradient(self, x: Any) -> list[float]:
        return [2.0 * v for v in x]

    def compute_reference(self) -> Reference:
        return Reference(x=[0.0, 0.0], loss=0.0, method="zero")


def test_a_new_problem_gets_the_lifecycle_from_its_declaration() -> None:
    p = Pairs(seed=3)
    r = random.Random(3)
    assert p.source == "generated" and p.columns == [
        [r.random(), r.random()],
        [r.random(), r.random()],
    ]
    q = Pairs.given([(0, 1), (2, 3)], extra={"tag": "t"})
    d = json.loads(json.dumps(q.to_dict()))
    assert d["data"] == {
        "source": "given", "n": 2, "dim": 2, "columns": ["x", "y"],
        "points": [[0.0, 1.0], [2.0, 3.0]], "tag": "t",
    }  # fmt: skip
    again = Pairs.from_dict(d)
    assert again.columns == [[0.0, 2.0], [1.0, 3.0]] and again.tag == "t"
    with pytest.raises(InputError, match=r"pairs \(given\): a pair has 2 points, got 3$"):
        Pairs.given([(0, 1), (2, 3), (4, 5)])


# ---------------------------------------- spherical median: unit vectors from any rows


def test_the_sphere_keeps_unit_vectors_as_given_and_normalises_other_rows(tmp_path: Path) -> None:
    p = GIVEN["spherical-median"]()
    assert p.format == "latlon" and p.points[0] == normalise(from_latlon(10.0, 20.0))
    assert rebuilt(p).points == p.points  # unit vectors round-trip exactly
    q = SphericalMedian.given([(2.0, 0.0, 0.0), (0.0, 3.0, 0.0), (1.0, 1.0, 1.0)])
    assert q.points == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], normalise([1.0, 1.0, 1.0])]
    assert q.columns == [[1.0, 0.0, q.points[2][0]], [0.0, 1.0, q.points[2][1]],
                         [0.0, 0.0, q.points[2][2]]]  # fmt: skip
    f = tmp_path / "sites.csv"
    f.write_text("lon,lat,w\n20,10,1\n25,12,2\n22,8,0.5\n")
    s = SphericalMedian(points=f)
    assert s.source == str(f) and s.points == p.points and s.weights == [1.0, 2.0, 0.5]
    assert s.to_dict()["data"] == {
        "source": str(f), "n": 3, "dim": 3, "columns": ["x", "y", "z"], "format": "latlon",
        "weighted": True,
    }  # fmt: skip
    assert rebuilt(s).points == s.points and rebuilt(s).source == str(f)


def test_spherical_json_saved_before_the_lifecycle_still_loads() -> None:
    unit = GIVEN["spherical-median"]().points
    given = old(
        "spherical-median", {"n": 200, "seed": 5, "distribution": "cluster", "points": None},
        {"source": "given", "n": 3, "format": "latlon", "weighted": True, "points": unit,
         "weights": [1.0, 2.0, 0.5]},
        [1.0, 0.0, 0.0],
    )  # fmt: skip
    p = SphericalMedian.from_dict(given)
    assert p.points == unit and p.weights == [1.0, 2.0, 0.5] and p.x0 == [1.0, 0.0, 0.0]
    assert p.data_summary() == "3 points on the unit sphere, given in code; lat/lon in degrees"
    generated = old(
        "spherical-median", {"n": 30, "seed": 7, "distribution": "hemisphere", "points": None},
        {"source": "generated", "n": 30, "format": "xyz", "weighted": False},
        [0.0, 0.0, 1.0],
    )  # fmt: skip
    g = SphericalMedian.from_dict(generated)
    assert g.points == SphericalMedian(n=30, seed=7, distribution="hemisphere").points


# -------------------------------------------- paired data: registration's source, target


def test_registration_keeps_its_source_points_and_its_origin() -> None:
    """``source`` is registration's source point set, so the lifecycle keeps where the
    pairs came from in ``origin`` (DataShape.source_attr): "source" in the data block."""
    p = GIVEN["registration"]()
    assert p.source == SQUARE and p.target == MOVED and p.origin == p.data_origin == "given"
    assert p.data_summary() == (
        "4 point pairs in R^2, given in code (row i of the source matches row i of the target)"
    )
    block = p.to_dict()["data"]
    assert block["source"] == "given" and block["source_points"] == [list(q) for q in SQUARE]
    assert block["target"] == [list(q) for q in MOVED]
    assert p.reference().x == pytest.approx([math.pi / 2, 1.0, 2.0], abs=1e-12)


def test_given_3d_pairs_are_the_3d_problem_and_round_trip() -> None:
    cube = [(0.0, 0.0, 0.0), (2.0, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 3.0, 2.0)]
    p = Registration.from_points(cube, [(1.0 - y, 1.0 + x, 1.0 + z) for x, y, z in cube])
    assert isinstance(p, Registration3D) and p.settings["dim"] == 3 and p.origin == "given"
    q = rebuilt(p)
    assert isinstance(q, Registration3D) and (q.source, q.target) == (p.source, p.target)
    assert json.dumps(q.to_dict()) == json.dumps(p.to_dict())
    assert q.reference().x == pytest.approx([0, 0, math.pi / 2, 1, 1, 1], abs=1e-12)


def test_generated_pairs_are_the_seeded_draws_source_first() -> None:
    r = random.Random(9)
    rows = list(zip(*[[r.uniform(0.0, 1.0) for _ in range(6)] for _ in range(2)]))
    moved = Registration.transform(rows, math.radians(-40.0), (3.0, 0.5))
    noise = [[r.gauss(0.0, 0.1) for _ in rows] for _ in range(2)]
    p = Registration(seed=9, n=6, angle=-40.0, shift="3,0.5", noise=0.1)
    assert p.source == rows and p.origin == "generated"
    assert p.target == [(a + noise[0][i], b + noise[1][i]) for i, (a, b) in enumerate(moved)]
    assert p.to_dict()["data"] == {"source": "generated", "n": 6, "dim": 2, "columns": ["x", "y"]}


def test_paired_files_load_the_source_header_and_the_target(tmp_path: Path) -> None:
    src, tgt = tmp_path / "src.csv", tmp_path / "tgt.txt"
    src.write_text("east,north\n" + "".join(f"{x},{y}\n" for x, y in SQUARE))
    tgt.write_text("".join(f"{x} {y}\n" for x, y in MOVED))
    p = Registration(source=src, target=tgt)
    assert p.origin == f"{src} -> {tgt}" and p.names == ("east", "north") and p.target == MOVED
    assert p.to_dict()["data"] == {
        "source": f"{src} -> {tgt}", "n": 4, "dim": 2, "columns": ["east", "north"],
    }  # fmt: skip
    again = rebuilt(p)
    assert (again.source, again.target, again.origin) == (p.source, p.target, p.origin)
    # the source alone: the target is made from it (the generator's motion, from the seed)
    q = Registration(source=src, angle=90.0, shift="1,2", noise=0.0)
    assert q.origin == str(src) and q.reference().x == pytest.approx([math.pi / 2, 1, 2])


def test_registration_json_saved_before_the_lifecycle_still_loads(tmp_path: Path) -> None:
    options = {"n": 20, "dim": 3, "angle": 50.0, "axis": None, "shift": "0.5,-0.25,0.125",
               "noise": 0.0, "seed": 3, "source": None, "target": None}  # fmt: skip
    p = Registration.from_dict(old("registration", options, {"source": "generated", "n": 20},
                                   [0.0] * 6))  # fmt: skip
    want = Registration(dim=3, n=20, angle=50.0, noise=0.0, seed=3)
    assert isinstance(p, Registration3D) and (p.source, p.target) == (want.source, want.target)
    src, tgt = tmp_path / "s.csv", tmp_path / "t.csv"
    src.write_text("".join(f"{x},{y}\n" for x, y in SQUARE))
    tgt.write_text("".join(f"{x},{y}\n" for x, y in MOVED))
    options = {"n": None, "dim": 2, "angle": None, "axis": None, "shift": None, "noise": None,
               "seed": None, "source": str(src), "target": str(tgt)}  # fmt: skip
    data = {"source": f"{src} -> {tgt}", "n": 4}
    q = Registration.from_dict(old("registration", options, data, [0.0, 1.0, 2.0]))
    assert q.source == SQUARE and q.target == MOVED and q.x0 == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("source", "target", "options", "bad", "words"),
    [
        ("0,0\n1,1\n2,2\n", "0,0\n1,1\n", {}, "target",
         "2 target points for 3 source points; row i of the target must match row i of the "
         "source"),
        ("0,0,0\n1,1,1\n", None, {}, "source",
         "points have 3 coordinates; this problem needs 2 (give --dim 3 for these points)"),
        ("0,0\n1,1\n", "0,0,0\n1,1,1\n", {}, "target",
         "points have 3 coordinates; this problem needs 2"),
        ("0,0\n1,1\n", None, {"dim": 3}, "source",
         "points have 2 coordinates; this problem needs 3"),
        ("0,0\n", None, {}, "source", "1 point(s); this problem needs at least 2"),
    ],
)  # fmt: skip
def test_paired_files_breaking_the_declared_shape_are_one_clear_error(
    tmp_path: Path, source: str, target: str | None, options: dict[str, Any], bad: str,
    words: str,
) -> None:  # fmt: skip
    files = {"source": tmp_path / "s.csv", "target": tmp_path / "t.csv"}
    files["source"].write_text(source)
    if target is not None:
        files["target"].write_text(target)
        options = {**options, "target": files["target"]}
    with pytest.raises(InputError) as info:
        Registration(source=files["source"], **options)
    message = str(info.value)
    assert message == f"{files[bad]}: {words}"


class Matched(PointProblem):
    """A minimal problem over points with partners matched row by row: the lifecycle loads,
    makes, checks and saves them from its declaration."""

    name = "matched"
    data_shape = DataShape(dim=1, pair="partner", pair_file="partners", pair_what="partners file")
    options = (
        Option("seed", int, 1, "seed", generator=True),
        Option("points", Path, None, "points"),
        Option("partners", Path, None, "partners"),
    )
    partner: Any = None

    def generate(self, rng: random.Random) -> Data:
        return Data([[rng.random() for _ in range(3)]])

    def generate_pair(self, data: Data, rng: random.Random) -> list[list[float]]:
        return [[v + rng.random()] for v in data.columns[0]]

    def install(self, data: Data) -> None:
        super().install(data)
        self.partner = [list(q) for q in data.extra["partner"]]

    def loss(self, x: Any) -> Any:
        return (x * x).sum()

    def gradient(self, x: Any) -> list[float]:
        return [2.0 * v for v in x]

    def compute_reference(self) -> Reference:
        return Reference(x=[0.0], loss=0.0, method="zero")


def test_a_new_problem_gets_paired_data_from_its_declaration(tmp_path: Path) -> None:
    r = random.Random(4)
    xs = [r.random() for _ in range(3)]
    p = Matched(seed=4)
    assert p.columns == [xs] and p.partner == [[x + r.random()] for x in xs]
    q = Matched.given([[1.0], [2.0]], extra={"partner": [[3.0], [4.0]]})
    d = json.loads(json.dumps(q.to_dict()))
    assert d["data"] == {
        "source": "given", "n": 2, "dim": 1, "columns": ["x"], "points": [[1.0], [2.0]],
        "partner": [[3.0], [4.0]],
    }  # fmt: skip
    assert Matched.from_dict(d).partner == [[3.0], [4.0]]
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("1\n2\n")
    b.write_text("5\n")
    with pytest.raises(InputError, match=r"^matched: --partners needs --points \(row i"):
        Matched(partners=b)
    with pytest.raises(InputError) as info:
        Matched(points=a, partners=b)
    assert str(info.value) == (
        f"{b}: 1 partner points for 2 points; row i of the partner must match row i of the points"
    )
    b.write_text("5\n6\n")
    m = Matched(points=a, partners=b)
    assert m.source == f"{a} -> {b}" and m.partner == [[5.0], [6.0]]


def test_points_not_given_as_rows_are_one_clear_error() -> None:
    """A flat list or a 1-D array is not a set of points: one InputError saying how to give
    them (it was a TypeError from deep inside)."""
    import numpy as np

    from geograd.errors import InputError
    from geograd.problems.median import GeometricMedian
    from geograd.problems.trilateration import Trilateration

    for flat in ([0.0, 1.0], np.array([0.0, 1.0])):
        with pytest.raises(InputError, match="as rows of numbers"):
            GeometricMedian.from_points(flat, backend="numpy")
    with pytest.raises(InputError, match="true position needs 2 finite coordinates"):
        Trilateration.from_anchors([[0, 0], [1, 0], [0, 1]], [1, 1, 1], truth=[1])


def test_the_dimension_hint_never_suggests_a_dimension_the_problem_refuses(tmp_path: Path) -> None:
    """Registration takes --dim 2 or 3: 5-column points get the allowed range, not
    'give --dim 5'."""
    from geograd.errors import InputError
    from geograd.problems.registration import Registration

    path = tmp_path / "five.csv"
    path.write_text("1,2,3,4,5\n6,7,8,9,10\n1,1,1,1,2\n")
    with pytest.raises(InputError) as info:
        Registration(source=path)
    text = str(info.value)
    assert "--dim must be an integer >= 2 and <= 3" in text and "--dim 5" not in text


def test_generated_data_that_overflow_name_the_setting() -> None:
    """--noise 1e308 makes the generated points overflow: the message names the setting,
    not 'the points must be finite numbers' (which the user never gave)."""
    from geograd.errors import InputError
    from geograd.problems import get_problem

    for name in ("circle-fit", "registration", "trilateration"):
        with pytest.raises(InputError, match="overflow float64 with --noise 1e\\+308"):
            get_problem(name, noise=1e308)
