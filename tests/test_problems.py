"""The problems framework: options, the registry (entry points), the Problem defaults."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pytest

import geograd.functional as F
import geograd.problems as problems
from geograd import Tensor
from geograd.errors import InputError
from geograd.problems import (
    Baseline,
    Option,
    Problem,
    Reference,
    available_problems,
    get_problem,
    problem_class,
    problem_from_dict,
    register_problem,
    unregister_problem,
)
from geograd.problems.median import GeometricMedian


class Shifted(Problem):
    """A test problem: Σ (x_j - shift·j)², minimum at x_j = shift·j, value 0."""

    name = "shifted-quadratic"
    description = "a quadratic bowl for tests"
    options = (
        Option("dim", int, 2, "number of parameters", min=1, max=50),
        Option("shift", float, 1.0, "where the minimum is"),
        Option("rate", float, 0.5, "an open interval", min=0.0, max=1.0, min_open=True),
        Option("mode", str, "a", "a choice", choices=("alpha", "beta", "a")),
        Option("verbose", bool, False, "a switch"),
        Option("file", Path, None, "a path"),
    )

    def setup(self) -> None:
        self.n = self.settings["dim"]
        self.target = [self.settings["shift"] * j for j in range(self.settings["dim"])]
        self._t = Tensor(self.target)

    @property
    def dim(self) -> int:
        return int(self.settings["dim"])

    def loss(self, x: Tensor) -> Tensor:
        d = x - self._t
        return F.dot(d, d)

    def gradient(self, x: Sequence[float]) -> list[float]:
        return [2.0 * (a - b) for a, b in zip(x, self.target)]

    def compute_reference(self) -> Reference:
        return Reference(list(self.target), 0.0, "closed form", {"exact": True})


@pytest.fixture
def shifted() -> Any:
    register_problem(Shifted)
    yield Shifted
    unregister_problem(Shifted.name)


# ------------------------------------------------------------------------------ options


def test_option_flag_and_description() -> None:
    opt = Option("max_points", int, 10, "how many", min=1)
    assert opt.flag == "--max-points"
    assert opt.type_name == "int"
    assert opt.expected() == "an integer >= 1"
    assert Option("p", Path, None, "file").type_name == "path"
    d = opt.to_dict()
    assert d["flag"] == "--max-points" and d["default"] == 10 and d["min"] == 1
    assert json.loads(json.dumps(d)) == d


@pytest.mark.parametrize(
    ("opt", "given", "parsed"),
    [
        (Option("n", int, 1, ""), "12", 12),
        (Option("n", int, 1, ""), 12.0, 12),
        (Option("x", float, 1.0, ""), "2.5", 2.5),
        (Option("x", float, 1.0, ""), 3, 3.0),
        (Option("b", bool, False, ""), "yes", True),
        (Option("b", bool, True, ""), "off", False),
        (Option("b", bool, True, ""), False, False),
        (Option("s", str, "a", "", choices=("a", "b")), " b ", "b"),
        (Option("p", Path, None, ""), "f.csv", Path("f.csv")),
        (Option("n", int, 1, "", min=1), None, None),
    ],
)
def test_option_parse_good(opt: Option, given: Any, parsed: Any) -> None:
    out = opt.parse(given, "prob")
    assert out == parsed and type(out) is type(parsed)


@pytest.mark.parametrize(
    ("opt", "given", "words"),
    [
        (Option("n", int, 1, "", min=1), 0, "--n must be an integer >= 1, got 0"),
        (Option("n", int, 1, "", min=1), "ten", "--n must be an integer >= 1, got 'ten'"),
        (Option("n", int, 1, ""), 2.5, "--n must be an integer"),
        (Option("n", int, 1, ""), True, "--n must be an integer"),
        (Option("x", float, 1.0, "", max=2), 3.0, "--x must be a number <= 2"),
        (Option("x", float, 1.0, ""), "nan", "must be finite"),
        (Option("x", float, 1.0, ""), math.inf, "must be finite"),
        (Option("x", float, 1.0, "", min=0, min_open=True), 0.0, "> 0"),
        (Option("x", float, 1.0, "", max=1, max_open=True), 1.0, "< 1"),
        (Option("b", bool, True, ""), "maybe", "--b must be true or false"),
        (Option("s", str, "a", "", choices=("gaussian", "b")), "gausian", "did you mean gaussian"),
        (Option("p", Path, None, ""), "", "--p must be a file path"),
        (Option("p", Path, None, ""), 3, "--p must be a file path"),
    ],
)
def test_option_parse_bad(opt: Option, given: Any, words: str) -> None:
    with pytest.raises(InputError) as info:
        opt.parse(given, "prob")
    msg = str(info.value)
    assert msg.startswith("prob: ") and words in msg and "\n" not in msg


def test_problem_options_defaults_and_unknown(shifted: type[Shifted]) -> None:
    p = shifted()
    assert p.settings == {
        "dim": 2,
        "shift": 1.0,
        "rate": 0.5,
        "mode": "a",
        "verbose": False,
        "file": None,
    }
    p = shifted(dim="3", shift=None, verbose="true")
    assert p.settings["dim"] == 3 and p.settings["shift"] == 1.0 and p.settings["verbose"]
    with pytest.raises(InputError, match="unknown option 'shfit'; did you mean shift"):
        shifted(shfit=2)
    with pytest.raises(InputError, match=r"shifted-quadratic: --dim must be an integer >= 1"):
        shifted(dim=0)
    assert shifted.option("rate").min_open
    with pytest.raises(KeyError):
        shifted.option("nope")


def test_x0_checked(shifted: type[Shifted]) -> None:
    p = shifted(x0=[1, 2])
    assert p.x0 == [1.0, 2.0]
    assert shifted(x0="0.5, -1").x0 == [0.5, -1.0]
    assert shifted(dim=1, x0=4).x0 == [4.0]
    for bad, words in [
        ([1.0, 2.0, 3.0], "has 3 coordinates but the problem has dimension 2"),
        ("1,x", "coordinate 2 ('x') is not a number"),
        ([1.0, math.nan], "not a finite number"),
        ("1,inf", "not a finite number"),
        (None.__class__, "must be 2 numbers"),
    ]:
        with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
            shifted(x0=bad)
    assert shifted().x0 == [0.0, 0.0]


# ----------------------------------------------------------------------------- registry


def test_median_registered_through_entry_points() -> None:
    eps = {ep.name: ep for ep in entry_points(group="geograd.problems")}
    assert eps["median"].value == "geograd.problems.median:GeometricMedian"
    entry = available_problems()["median"]
    assert entry.distribution == "geograd"
    assert entry.load() is GeometricMedian
    assert entry.description == GeometricMedian.description
    assert [o.name for o in entry.options][:3] == ["n", "dim", "seed"]
    assert problem_class("median") is GeometricMedian
    assert isinstance(get_problem("median", n=3), GeometricMedian)


def test_unknown_problem_suggests_closest() -> None:
    with pytest.raises(InputError) as info:
        get_problem("medain")
    msg = str(info.value)
    assert "unknown problem 'medain'" in msg and "did you mean 'median'" in msg
    assert "known problems: " in msg and "median" in msg.split("known problems: ")[1]
    with pytest.raises(InputError) as info:
        problem_class("zzzzzz")
    assert "did you mean" not in str(info.value) and "median" in str(info.value)


def test_third_party_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = EntryPoint(name="shifted", value=f"{__name__}:Shifted", group="geograd.problems")
    broken = EntryPoint(name="broken", value="no_such_module_xyz:Thing", group="geograd.problems")
    wrong = EntryPoint(name="wrong", value="math:pi", group="geograd.problems")
    import geograd.registry

    real = geograd.registry.entry_points

    def patched(group: str) -> Any:
        return [*real(group), fake, broken, wrong]

    monkeypatch.setattr(geograd.registry, "entry_points", patched)
    problems.refresh()
    try:
        found = available_problems()
        assert {"median", "shifted", "broken", "wrong"} <= set(found)
        p = get_problem("shifted", shift=2.0)
        assert isinstance(p, Shifted) and p.reference().x == [0.0, 2.0]
        with pytest.raises(InputError, match=r"problem .broken.*cannot load no_such_module_xyz"):
            get_problem("broken")
        with pytest.raises(InputError, match=r"not a geograd\.problems\.Problem subclass"):
            get_problem("wrong")
    finally:
        monkeypatch.undo()
        problems.refresh()


def test_register_problem(shifted: type[Shifted]) -> None:
    assert "shifted-quadratic" in available_problems()
    assert isinstance(get_problem("shifted-quadratic"), Shifted)
    with pytest.raises(TypeError):
        register_problem(int)
    unregister_problem("shifted-quadratic")
    with pytest.raises(InputError):
        get_problem("shifted-quadratic")


def test_exports() -> None:
    for name in ("Problem", "Option", "Reference", "Baseline", "get_problem", "available_problems"):
        assert hasattr(problems, name) and name in problems.__all__


def test_listing_problems_imports_no_numpy() -> None:
    code = (
        "import sys\n"
        "from geograd.problems import available_problems, get_problem\n"
        "for e in available_problems().values():\n"
        "    e.description, [o.to_dict() for o in e.options]\n"
        "p = get_problem('median', n=50)\n"
        "p.loss(__import__('geograd').Tensor(p.x0)); p.gradient(p.x0); p.to_dict()\n"
        "p.certificate(p.x0); p.solver_defaults(); p.check_points(4)\n"
        "bad = [m for m in ('numpy', 'scipy', 'matplotlib') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ------------------------------------------------------------------------ Problem defaults


def test_problem_defaults_on_a_quadratic(shifted: type[Shifted]) -> None:
    p = shifted(dim=3, shift=0.5)
    x = [1.0, -2.0, 0.25]
    assert p.objective(x) == pytest.approx(1.0 + 2.5**2 + 0.75**2)
    assert p.autograd_gradient(x) == pytest.approx(p.gradient(x), abs=1e-15)
    cert = p.certificate(x)
    assert cert["kind"] == "gradient_norm" and cert["optimal"] is None
    assert cert["value"] == pytest.approx(math.hypot(*p.gradient(x)))
    ref = p.reference()
    assert p.reference() is ref
    report = p.assess([0.0, 0.5, 1.0])
    assert report["distance"] == 0.0 and report["gap"] == 0.0
    assert report["certificate"]["value"] == 0.0
    assert json.loads(json.dumps(report)) == report
    assert len(p.check_points(5, seed=1)) == 5
    assert p.check_points(5, seed=1) == p.check_points(5, seed=1)
    d = p.to_dict()
    assert d["name"] == "shifted-quadratic" and d["dim"] == 3 and d["n"] == 3
    assert json.loads(json.dumps(d)) == d
    again = shifted.from_dict(d)
    assert again.settings == p.settings and again.x0 == p.x0
    by_name = problem_from_dict(json.loads(json.dumps(d)))
    assert isinstance(by_name, Shifted) and by_name.settings == p.settings
    with pytest.raises(InputError, match="needs a 'name'"):
        problem_from_dict({"options": {}})


def test_to_dict_paths_are_strings(shifted: type[Shifted], tmp_path: Path) -> None:
    d = shifted(file=tmp_path / "f.txt").to_dict()
    assert d["options"]["file"] == str(tmp_path / "f.txt")


def test_baselines_find_the_minimum(shifted: type[Shifted]) -> None:
    p = shifted(dim=2, shift=1.5, x0=[3.0, -1.0])
    runs = p.baselines()
    assert [r.method for r in runs] == ["BFGS", "L-BFGS-B", "CG", "Nelder-Mead"]
    for r in runs:
        assert isinstance(r, Baseline)
        tol = 1e-3 if r.method == "Nelder-Mead" else 1e-6
        assert math.dist(r.x, [0.0, 1.5]) < tol, r
        assert r.success and r.evaluations >= 1 and r.time_s >= 0
        assert json.loads(json.dumps(r.to_dict()))["method"] == r.method
    # gradient methods get our closed form: BFGS on a quadratic needs few evaluations
    assert runs[0].evaluations < 10
    assert p.baselines(["bfgs"])[0].method == "BFGS"
    with pytest.raises(InputError, match="unknown scipy method 'BGFS'; did you mean BFGS"):
        p.baselines(["BGFS"])


def test_plot_helpers_default(shifted: type[Shifted]) -> None:
    p = shifted(x0=[1.0, 2.0])
    assert p.plot_xy([1.0, 2.0]) == (1.0, 2.0)
    lo_x, hi_x, lo_y, hi_y = p.plot_bounds([[3.0, 4.0]])
    assert lo_x < 1.0 < 3.0 < hi_x and lo_y < 2.0 < 4.0 < hi_y
    z = p.objective_grid([0.0, 1.0], [1.0])
    assert z == [[0.0, 1.0]]
    assert shifted(dim=3).plot_xy([1.0, 2.0, 3.0]) is None
    with pytest.raises(InputError, match="contours need 2 parameters"):
        shifted(dim=3).objective_grid([0.0], [0.0])
