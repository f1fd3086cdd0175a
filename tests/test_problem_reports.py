"""What the problems say about their answers: certificates that name the right point,
matches judged relative to the data's extent (and by the objective where the optimum is not
unique), named components in the user's units, a true data line, and reference timing."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import geograd.functional as F
import geograd.problems.base as base
from geograd import Tensor
from geograd.errors import InputError
from geograd.problems import Option, Problem, Reference, get_problem, problem_from_dict
from geograd.problems.circle_fit import CircleFit
from geograd.problems.fermat import FermatPoint
from geograd.problems.median import GeometricMedian
from geograd.problems.registration import Registration

ALL = (
    "median",
    "fermat",
    "circle-fit",
    "enclosing-circle",
    "thomson",
    "trilateration",
    "registration",
)
#: What each problem says about the uniqueness of its minimiser on its default data.
UNIQUE = {
    "median": True,
    "fermat": True,
    "circle-fit": None,
    "enclosing-circle": True,
    "thomson": False,
    "trilateration": None,
    "registration": True,
}


def small(name: str) -> Problem:
    """The problem with small default-like data (fast references)."""
    options = {"median": {"n": 50}, "enclosing-circle": {"n": 50}, "thomson": {"n": 5}}
    return get_problem(name, **options.get(name, {}))


def jsonable(d: Any) -> bool:
    return bool(json.loads(json.dumps(d)) == d)


# ----------------------------------------------------------------- certificates


def test_fermat_vertex_certificate_names_the_vertex_by_index_and_label() -> None:
    p = get_problem("fermat", case="vertex")
    ref = p.reference()
    k = ref.details["vertex"]
    assert k != 0  # the case the CLI got wrong: it printed the value 0.0 as the vertex
    cert = p.certificate(ref.x)
    label = f"vertex {'ABC'[k]} (index {k})"
    assert cert["index"] == k and cert["vertex"] == k and cert["label"] == label
    assert cert["summary"] == f"exact vertex test at {label}: optimal"
    assert cert["optimal"] is True and cert["value"] == 0.0
    # another vertex is tested (and fails) under its own name
    j = (k + 1) % 3
    other = p.certificate(p.points[j])
    assert other["index"] == j and other["optimal"] is False
    assert other["summary"].startswith(f"exact vertex test at vertex {'ABC'[j]} (index {j}): not")


def test_median_certificate_names_the_data_point_from_a_file(tmp_path: Path) -> None:
    f = tmp_path / "three.csv"
    f.write_text("x,y,w\n0,0,1\n1,0,1\n5,5,5\n")
    p = get_problem("median", points=str(f))
    ref = p.reference()
    assert ref.x == [5.0, 5.0]
    cert = p.certificate(ref.x)
    assert cert["index"] == 2 and cert["point_index"] == 2
    assert cert["label"] == "data point 3 (index 2)"
    assert cert["summary"] == "exact test at data point 3 (index 2): optimal"
    assert cert["unique"] is True
    assert jsonable(cert)


@pytest.mark.parametrize("name", ALL)
def test_every_certificate_has_a_summary_and_a_uniqueness_verdict(name: str) -> None:
    p = small(name)
    cert = p.certificate(p.x0)
    assert isinstance(cert["summary"], str) and cert["summary"]
    assert "\n" not in cert["summary"]
    assert cert["unique"] is UNIQUE[name]
    assert isinstance(cert["uniqueness"], str) and cert["uniqueness"]
    assert jsonable(cert)


def test_gradient_norm_summary() -> None:
    p = GeometricMedian.from_points([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    cert = p.certificate([0.25, 0.5])
    assert cert["kind"] == "gradient_norm"
    assert cert["summary"] == f"gradient norm {cert['value']:.2g}"
    assert "index" not in cert  # names no point


class Bowl(Problem):
    """A plugin problem that declares nothing beyond the minimum: Σ (x_j - j)²."""

    name = "bowl"
    description = "a quadratic bowl"
    options = (Option("dim", int, 2, "number of parameters", min=1),)

    def setup(self) -> None:
        self.n = self.settings["dim"]

    @property
    def dim(self) -> int:
        return int(self.settings["dim"])

    def loss(self, x: Tensor) -> Tensor:
        d = x - Tensor([float(j) for j in range(self.dim)])
        return F.dot(d, d)

    def gradient(self, x: Sequence[float]) -> list[float]:
        return [2.0 * (v - j) for j, v in enumerate(x)]

    def compute_reference(self) -> Reference:
        return Reference([float(j) for j in range(self.dim)], 0.0, "closed form")


class Overriding(Bowl):
    """A plugin whose own certificate says nothing of a summary or uniqueness."""

    name = "overriding-bowl"

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        return {"value": 0.5, "kind": "made_up", "optimal": False}


def test_plugin_problems_get_the_defaults() -> None:
    p = Bowl(dim=3)
    cert = p.certificate([0.0, 1.0, 2.5])
    assert cert["summary"] == "gradient norm 1" and cert["unique"] is None
    assert p.extent == 1.0 and p.data_dim is None
    assert [c["name"] for c in p.components([0.0, 1.0, 2.0])] == ["x1", "x2", "x3"]
    assert p.data_summary() == "3 points"
    report = p.assess([0.0, 1.0, 2.0])
    assert report["matches"] is True and report["distance_rel"] == 0.0
    # a subclass's own certificate is finished by the base class too
    cert = Overriding().certificate([0.0, 0.0])
    assert cert["summary"] == "made up 0.5: not optimal" and cert["unique"] is None


# --------------------------------------------------------------- matching


def test_two_point_median_matches_by_objective_not_distance() -> None:
    p = GeometricMedian.from_points([[0.0, 0.0], [2.0, 0.0]])
    ref = p.reference()
    cert = p.certificate([1.0, 0.0])
    assert cert["unique"] is False and "balance" in cert["uniqueness"]
    mid = [1.3, 0.0]  # on the segment, away from the reference
    report = p.assess(mid)
    assert report["distance"] > 0.1
    assert report["gap"] == pytest.approx(0.0, abs=1e-15)
    assert report["matches"] is True
    assert "not unique" in report["match"] and "objective equals" in report["match"]
    # off the segment, or beyond its end, the objective is worse: no match
    for x in ([1.0, 0.01], [2.5, 0.0]):
        report = p.assess(x)
        assert report["matches"] is False and report["gap"] > 0.0, x
    assert ref is p.reference()


def test_a_match_is_relative_to_the_extent() -> None:
    pts = [[1e-6 * x, 1e-6 * y] for x, y in ((0, 0), (4, 0), (0, 3), (1, 1), (3, 2))]
    p = GeometricMedian.from_points(pts)
    assert p.extent == pytest.approx(4e-6)
    ref = p.reference()
    # 1e-9 away: a thousandth of the extent (an absolute 1e-6 would have called it a match)
    report = p.assess([ref.x[0] + 1e-9, ref.x[1]])
    assert report["distance"] == pytest.approx(1e-9, rel=1e-6)
    assert report["distance_rel"] == pytest.approx(2.5e-4, rel=1e-6)
    assert report["extent"] == pytest.approx(4e-6)
    assert report["matches"] is False
    assert "of the extent" in report["match"]
    close = p.assess([ref.x[0] + 1e-12, ref.x[1]])
    assert close["matches"] is True and close["match"].startswith("within 1e-06 of the data")
    assert jsonable(report) and jsonable(close)


def test_the_same_answer_in_large_units_matches() -> None:
    pts = [[1e6 * x, 1e6 * y] for x, y in ((0, 0), (4, 0), (0, 3), (1, 1), (3, 2))]
    p = GeometricMedian.from_points(pts)
    ref = p.reference()
    report = p.assess([ref.x[0] + 1e-3, ref.x[1]])  # 1e-3 is 2.5e-10 of the extent
    assert report["distance"] > 1e-6 and report["matches"] is True


def test_assess_takes_a_reference_instead_of_computing_one() -> None:
    p = GeometricMedian.from_points([[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]])
    given = Reference([1.0, 1.0], p.objective([1.0, 1.0]), "given")
    report = p.assess([1.0, 1.0], reference=given)
    assert report["reference"]["method"] == "given" and report["matches"] is True
    assert not p.reference_cached
    assert p.assess([1.0, 1.0])["reference"]["method"] != "given"
    assert p.reference_cached


def test_not_optimal_at_a_non_unique_optimum_is_no_match() -> None:
    # collinear points whose weights balance: the certificate tests the data point exactly
    p = GeometricMedian.from_points([[0.0], [1.0], [2.0], [3.0]])
    assert p.certificate([1.5])["unique"] is False
    assert p.assess([1.5])["matches"] is True
    report = p.assess([0.0])
    assert report["certificate"]["optimal"] is False and report["matches"] is False
    assert "not optimal" in report["match"]


def test_registration_matches_by_motion_in_units_of_length() -> None:
    far = Registration(noise=0.0, angle=30.0)
    ref = far.reference()
    # a rotation error of 1e-9 rad moves the points by about 1e-9: a match
    assert far.assess([ref.x[0] + 1e-9, *ref.x[1:]])["matches"] is True
    # the same solution, a whole turn away, is the same motion
    assert far.distance([ref.x[0] + 2 * math.pi, *ref.x[1:]], ref.x) < 1e-12
    # a shift error of a thousandth of the extent is none
    assert far.assess([ref.x[0], ref.x[1] + 1e-3 * far.extent, ref.x[2]])["matches"] is False


def test_registration_with_a_degenerate_target_is_not_unique(tmp_path: Path) -> None:
    src = tmp_path / "s.csv"
    tgt = tmp_path / "t.csv"
    src.write_text("0,0\n1,0\n0,1\n1,1\n")
    tgt.write_text("2,2\n2,2\n2,2\n2,2\n")
    p = Registration(source=src, target=tgt)
    cert = p.certificate(p.reference().x)
    assert cert["unique"] is False and "every angle" in cert["uniqueness"]
    # any angle, with the shift that puts the source's centroid on the target: a match
    theta = 1.0
    c, s = math.cos(theta), math.sin(theta)
    other = [theta, 2.0 - (c * 0.5 - s * 0.5), 2.0 - (s * 0.5 + c * 0.5)]
    report = p.assess(other)
    assert report["distance"] > 0.1 and report["matches"] is True
    assert "not unique" in report["match"]
    assert Registration(noise=0.0).certificate([0.0, 0.0, 0.0])["unique"] is True


# -------------------------------------------------------------- components


def test_registration_answers_in_the_degrees_it_was_asked_in() -> None:
    p = Registration(angle=30.0, noise=0.0)
    comps = p.components(p.reference().x)
    assert [c["name"] for c in comps] == ["angle", "shift x", "shift y"]
    assert comps[0]["unit"] == "deg" and comps[0]["value"] == pytest.approx(30.0, abs=1e-9)
    assert comps[1]["value"] == pytest.approx(0.5, abs=1e-9)
    assert comps[2]["value"] == pytest.approx(-0.25, abs=1e-9)
    assert jsonable(comps)


def test_components_are_named() -> None:
    assert [c["name"] for c in get_problem("circle-fit").components([0.0, 0.0, 1.0])] == [
        "centre x",
        "centre y",
        "radius",
    ]
    assert [c["name"] for c in get_problem("enclosing-circle", n=5).components([0, 0])] == [
        "centre x",
        "centre y",
    ]
    assert [c["name"] for c in get_problem("median", n=5).components([0, 0])] == ["x", "y"]
    assert [c["name"] for c in get_problem("median", n=5, dim=3).components([0, 0, 0])] == [
        "x",
        "y",
        "z",
    ]
    names = [c["name"] for c in get_problem("median", n=5, dim=4).components([0] * 4)]
    assert names == ["x1", "x2", "x3", "x4"]
    assert [c["name"] for c in get_problem("fermat").components([0, 0])] == ["x", "y"]
    assert [c["name"] for c in get_problem("trilateration", dim=3).components([0] * 3)] == [
        "x",
        "y",
        "z",
    ]
    thomson = get_problem("thomson", n=3)
    names = [c["name"] for c in thomson.components(thomson.x0)]
    assert names[:4] == ["charge 1 x", "charge 1 y", "charge 1 z", "charge 2 x"]
    assert len(names) == 9
    comp = get_problem("circle-fit").components([0.5, -1.0, 2.0])[2]
    assert comp == {"name": "radius", "value": 2.0, "unit": None}


def test_components_use_a_files_column_names(tmp_path: Path) -> None:
    f = tmp_path / "geo.csv"
    f.write_text("lon,lat\n0,0\n1,0\n0,1\n")
    assert [c["name"] for c in get_problem("median", points=f).components([0, 0])] == [
        "lon",
        "lat",
    ]


# -------------------------------------------------------------- dim, data line


def test_dim_is_the_parameter_count_and_data_dim_the_points() -> None:
    cases = {
        "median": (2, 2),
        "circle-fit": (3, 2),
        "enclosing-circle": (2, 2),
        "registration": (3, 2),
        "trilateration": (2, 2),
    }
    for name, (dim, data_dim) in cases.items():
        p = get_problem(name)
        assert (p.dim, p.data_dim) == (dim, data_dim), name
        d = p.to_dict()
        assert (d["dim"], d["data_dim"]) == (dim, data_dim), name
    t = get_problem("thomson", n=4)
    assert (t.dim, t.data_dim) == (12, 3)
    m = get_problem("median", n=10, dim=5)
    assert (m.dim, m.data_dim) == (5, 5)


def test_plot_titles_say_what_dim_means() -> None:
    from geograd.plot.common import problem_title as _problem_title

    assert _problem_title(get_problem("circle-fit")) == "circle-fit (n = 100 in R^2, 3 parameters)"
    assert _problem_title(get_problem("median", n=30)) == "median (n = 30 in R^2)"
    assert _problem_title(get_problem("thomson", n=4)) == "thomson (n = 4 in R^3, 12 parameters)"
    assert _problem_title(Bowl(dim=3)) == "bowl (n = 3, 3 parameters)"


def test_data_summary_of_generated_data() -> None:
    assert get_problem("median").data_summary() == (
        "1000 points in R^2, generated with n=1000, dim=2, seed=5, distribution=uniform, "
        "weights=equal"
    )
    assert get_problem("circle-fit", arc=90).data_summary() == (
        "100 points in R^2, generated with n=100, arc=90, noise=0.05, seed=5"
    )
    assert get_problem("thomson", restarts=3).data_summary() == (
        "12 charges on the unit sphere in R^3: a starting configuration generated with n=12, "
        "seed=5, and 2 more from the same generator"
    )
    assert get_problem("registration").data_summary() == (
        "50 point pairs in R^2: source generated with n=50, seed=5; target = source rotated "
        "by 30° and shifted by (0.5, -0.25), plus noise 0.01 (seed=5)"
    )
    assert GeometricMedian.from_points([[0, 0], [1, 1]], [1, 2]).data_summary() == (
        "2 points in R^2, given in code; given weights"
    )


def test_data_summary_of_a_file_says_where_the_weights_came_from(tmp_path: Path) -> None:
    weighted = tmp_path / "w.csv"
    weighted.write_text("x,y,w\n0,0,1\n1,0,1\n5,5,5\n")
    line = get_problem("median", points=weighted).data_summary()
    assert line == f"3 points in R^2 from {weighted}; weights from the file's weight column"
    for word in ("seed", "uniform", "weights=equal", "1000"):
        assert word not in line
    plain = tmp_path / "p.csv"
    plain.write_text("0,0,0\n1,0,0\n0,1,0\n0,0,1\n")
    line = get_problem("median", points=plain).data_summary()
    assert line == f"4 points in R^3 from {plain}; equal weights"
    anchors = tmp_path / "a.csv"
    anchors.write_text("x,y,range\n0,0,1\n4,0,3\n0,4,3\n")
    line = get_problem("trilateration", points=anchors).data_summary()
    assert line == f"3 anchors in R^2 from {anchors}; ranges from its 'range' column"


@pytest.mark.parametrize(
    ("name", "option", "value", "flag"),
    [
        ("median", "n", 5, "--n"),
        ("median", "dim", 3, "--dim"),
        ("median", "weights", "random", "--weights"),
        ("median", "seed", 1, "--seed"),
        ("fermat", "case", "vertex", "--case"),
        ("circle-fit", "arc", 90.0, "--arc"),
        ("enclosing-circle", "distribution", "disc", "--distribution"),
        ("trilateration", "noise", 0.5, "--noise"),
    ],
)
def test_generator_options_are_refused_with_a_file(
    tmp_path: Path, name: str, option: str, value: Any, flag: str
) -> None:
    f = tmp_path / "pts.csv"
    plane = name in ("circle-fit", "enclosing-circle")
    f.write_text("0,0\n4,0\n0,4\n" if plane else "0,0,1\n4,0,3\n0,4,3\n")
    get_problem(name, points=f)  # the file alone is fine
    with pytest.raises(InputError) as info:
        get_problem(name, points=f, **{option: value})
    items = {"fermat": "vertices", "trilateration": "anchors"}.get(name, "points")
    assert str(info.value) == (
        f"{name}: {flag} applies to generated {items}; it cannot be used with --points {f} "
        f"(the file has 3 {items})"
    )


def test_the_example_message_and_several_options(tmp_path: Path) -> None:
    f = tmp_path / "pts.csv"
    f.write_text("0,0\n1,0\n0,1\n")
    with pytest.raises(InputError, match=r"^median: --n applies to generated points; it "):
        get_problem("median", points=f, n=3)
    with pytest.raises(
        InputError,
        match=r"^median: --n and --seed apply to generated points; "
        r"they cannot be used with --points",
    ):
        get_problem("median", points=f, n=3, seed=2)
    # None is "not given": what a CLI passes for a flag left out
    assert get_problem("median", points=f, n=None, seed=None).n == 3


def test_registration_generator_options_follow_the_file_that_replaces_them(
    tmp_path: Path,
) -> None:
    src = tmp_path / "s.csv"
    tgt = tmp_path / "t.csv"
    src.write_text("0,0\n1,0\n0,1\n")
    tgt.write_text("1,1\n2,1\n1,2\n")
    # with a source file, the target is still generated from it: --angle applies
    p = Registration(source=src, angle=45.0, noise=0.0)
    assert p.data_summary() == (
        f"3 point pairs in R^2: source from {src}; target = source rotated by 45° and shifted "
        "by (0.5, -0.25)"
    )
    with pytest.raises(
        InputError,
        match=r"--n applies to generated point pairs; it cannot be "
        r"used with --source",
    ):
        Registration(source=src, n=10)
    with pytest.raises(InputError, match=r"--angle applies .* cannot be used with --target"):
        Registration(source=src, target=tgt, angle=10.0)
    both = Registration(source=src, target=tgt)
    assert both.data_summary() == (
        f"3 point pairs in R^2: source from {src}, target from {tgt} (row i matches row i)"
    )
    opts = both.to_dict()["options"]
    assert opts["angle"] is None and opts["n"] is None and opts["source"] == str(src)


def test_to_dict_of_loaded_data_drops_unused_options_and_rebuilds(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_text("x,y,w\n0,0,1\n1,0,1\n5,5,5\n")
    p = get_problem("median", points=f)
    d = json.loads(json.dumps(p.to_dict()))
    for name in ("n", "dim", "seed", "distribution", "weights"):
        assert d["options"][name] is None, name
    assert d["data_summary"] == p.data_summary()
    again = problem_from_dict(d)
    assert again.n == 3 and again.weights == [1.0, 1.0, 5.0]
    # an older document with every option filled in still rebuilds
    d["options"].update(n=1000, dim=2, seed=5, distribution="uniform", weights="equal")
    assert problem_from_dict(d).n == 3


# ----------------------------------------------------------- reference timing


class Timed(Bowl):
    name = "timed-bowl"
    reference_modules = ("json", "math")

    def compute_reference(self) -> Reference:
        CLOCK[0] += 0.002  # the computation
        return super().compute_reference()


CLOCK = [100.0]


def test_reference_times_its_imports_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    imported: list[str] = []

    def fake_import(name: str) -> Any:
        imported.append(name)
        CLOCK[0] += 1.5  # importing
        return None

    monkeypatch.setattr(base.importlib, "import_module", fake_import)
    monkeypatch.setattr(base.time, "perf_counter", lambda: CLOCK[0])
    p = Timed()
    assert not p.reference_cached
    ref = p.reference()
    assert imported == ["json", "math"]
    assert ref.import_s == pytest.approx(3.0) and ref.time_s == pytest.approx(0.002)
    assert p.reference_cached and p.reference() is ref and imported == ["json", "math"]
    d = ref.to_dict()
    assert d["time_s"] == pytest.approx(0.002) and d["import_s"] == pytest.approx(3.0)
    assert jsonable(d)


def test_reference_modules_are_declared() -> None:
    assert "scipy.optimize" in CircleFit.reference_modules
    assert "numpy" in GeometricMedian.reference_modules
    assert "numpy" in FermatPoint.reference_modules
    assert "scipy.optimize" in get_problem("thomson", n=3).reference_modules
    assert Reference([0.0], 0.0, "by hand").time_s is None


def test_thomson_computes_its_reference_during_the_solve() -> None:
    p = get_problem("thomson", n=4)
    assert not p.reference_cached
    res = p.solve()
    # the solve aligned its answer onto the reference: a reference() now is served from
    # the cache, and its time_s is the computation's, made back then
    assert p.reference_cached
    ref = p.reference()
    assert ref.time_s is not None and ref.time_s > 0.0
    assert p.assess(res.x, reference=ref)["matches"] is True


def test_settings_are_shown_as_numbers_a_person_reads() -> None:
    shown = [base.format_setting(v) for v in (30.0, 0.1, 2.5e-300, -7.0)]
    assert shown == ["30", "0.1", "2.5e-300", "-7"]
    # a whole number beyond 1e16 in g style, not hundreds of digits of noise
    assert base.format_setting(1e20) == "1e+20" and base.format_setting(1e308) == "1e+308"
    p = get_problem("circle-fit", noise=1e20)
    assert "noise=1e+20" in p.data_summary()
