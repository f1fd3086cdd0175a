"""Trilateration: exact recovery, the linearised and least-squares references, solves, input."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from geograd import Tensor, minimize
from geograd.errors import InputError
from geograd.problems import get_problem
from geograd.problems.base import DEFAULT_BASELINES
from geograd.problems.trilateration import (
    LR_IN_SCALES,
    LR_PLAIN,
    Trilateration,
    generate,
    linearised,
    thinness,
)

OURS = ("gd", "sgd", "momentum", "nag", "adam", "adamw", "adamax", "rmsprop", "adagrad")
SQUARE = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0), (10.0, 10.0)]


@pytest.fixture(scope="module")
def seed5() -> Trilateration:
    p = get_problem("trilateration")
    assert isinstance(p, Trilateration)
    return p


def _exact(anchors: Sequence[Sequence[float]], target: list[float]) -> Trilateration:
    ranges = [math.dist(a, target) for a in anchors]
    return Trilateration.from_anchors(anchors, ranges, truth=target)


# --------------------------------------------------------------------- exact recovery


def test_hand_example_is_recovered_exactly() -> None:
    p = _exact(SQUARE[:3], [3.0, 4.0])
    assert p.ranges[:3] == [5.0, math.sqrt(65.0), math.sqrt(45.0)]
    assert p.linearised() == pytest.approx([3.0, 4.0], abs=1e-14)
    assert p.x0 == p.linearised()
    assert p.reference().x == pytest.approx([3.0, 4.0], abs=1e-14)
    assert p.reference().loss < 1e-28
    assert p.solve().x == pytest.approx([3.0, 4.0], abs=1e-14)


@pytest.mark.parametrize("dim", [2, 3])
def test_zero_noise_recovers_the_true_position(dim: int) -> None:
    for seed in range(5):
        p = get_problem("trilateration", dim=dim, noise=0.0, seed=seed)
        assert isinstance(p, Trilateration) and p.truth is not None
        ref = p.reference()
        assert math.dist(ref.x, p.truth) < 1e-12 * p.scale
        assert ref.details["linearised_distance"] < 1e-12 * p.scale
        assert ref.details["truth_distance"] < 1e-12 * p.scale
        assert ref.loss < 1e-24
        res = p.solve()
        assert res.converged, res.message
        assert math.dist(res.x, p.truth) < 1e-12 * p.scale
        # from the far-away centroid too: gradient descent alone finds it
        res = p.solve(x0=p.centroid())
        assert res.converged, res.message
        assert math.dist(res.x, p.truth) < 1e-9 * p.scale


def test_linearised_matches_numpy_lstsq() -> None:
    import numpy as np

    for seed in range(10):
        p = get_problem("trilateration", seed=seed, dim=2 + seed % 2, anchors=8, noise=0.5)
        assert isinstance(p, Trilateration)
        a = np.asarray(p.anchors)
        rho = np.asarray(p.ranges)
        b = a[1:] - a[0]
        rhs = rho[0] ** 2 - rho[1:] ** 2 + (b * b).sum(axis=1)
        expected = np.linalg.lstsq(2 * b, rhs, rcond=None)[0] + a[0]
        assert p.linearised() == pytest.approx(expected.tolist(), abs=1e-12)
    assert linearised(SQUARE, [math.dist(a, (2.0, 7.0)) for a in SQUARE]) == pytest.approx(
        [2.0, 7.0], abs=1e-14
    )


# ------------------------------------------------------------------------ the reference


def test_reference_is_a_strict_local_minimum_and_beats_the_linearised(
    seed5: Trilateration,
) -> None:
    ref = seed5.reference()
    assert ref.method == "least_squares (lm)"
    cert = ref.details["certificate"]
    assert cert["value"] < 1e-12 * seed5.scale
    assert cert["hessian_min_eig"] > 0 and cert["local_minimum"] is True
    assert cert["rms_residual"] == pytest.approx(math.sqrt(ref.loss / 6))
    assert ref.details["linearised_loss"] > ref.loss + 0.1  # noise distorts the linear fit
    assert ref.details["truth_distance"] < 0.2  # noise 0.1, six anchors
    assert ref.details["other_start_loss"] - ref.loss < 1e-12
    assert json.loads(json.dumps(ref.to_dict()))["x"] == ref.x


def test_reference_agrees_with_least_squares_from_the_truth() -> None:
    from scipy.optimize import least_squares  # type: ignore[import-untyped]

    same = 0
    for seed in range(6):
        p = get_problem("trilateration", seed=seed, dim=3, noise=0.3)
        assert isinstance(p, Trilateration) and p.truth is not None
        res = least_squares(p.residuals, p.truth, xtol=1e-15, ftol=1e-15, gtol=1e-15)
        ref = p.reference()
        assert ref.details["certificate"]["value"] < 1e-12 * p.scale
        other = p.objective(res.x.tolist())
        assert ref.loss <= other + 1e-14  # never worse than a start at the truth
        if other - ref.loss < 1e-12:
            # scipy's default (trf, finite-difference Jacobian) stops with ‖∇‖ ~ 1e-8
            assert math.dist(res.x.tolist(), ref.x) < 1e-7
            same += 1
    # seed 3 is non-convexity at work: from the truth, least_squares falls into a
    # local minimum (L = 0.49) 1.7 away from the reference's (L = 0.335)
    assert same == 5


def test_hessian_matches_finite_differences_of_the_gradient(seed5: Trilateration) -> None:
    x = [5.0, 5.0]
    h = 1e-6
    hess = seed5.hessian(x)
    for j in range(2):
        up, dn = list(x), list(x)
        up[j] += h
        dn[j] -= h
        col = [(a - b) / (2 * h) for a, b in zip(seed5.gradient(up), seed5.gradient(dn))]
        assert col == pytest.approx([hess[i][j] for i in range(2)], abs=1e-6)


def test_certificate_away_from_the_minimum(seed5: Trilateration) -> None:
    cert = seed5.certificate(seed5.centroid())
    assert cert["kind"] == "gradient_norm" and cert["optimal"] is None
    assert cert["value"] > 1.0 and cert["local_minimum"] is False


# ------------------------------------------------------------------------------- data


def test_generated_data(seed5: Trilateration) -> None:
    assert seed5.settings == {"anchors": 6, "dim": 2, "noise": 0.1, "seed": 5, "points": None}
    anchors, ranges, truth = generate(random.Random(5), 6, 2, 0.1)
    assert [list(a) for a in seed5.anchors] == anchors and seed5.ranges == ranges
    r = random.Random(5)
    xs = [r.uniform(0.0, 10.0) for _ in range(6)]
    assert [a[0] for a in seed5.anchors] == xs  # coordinate by coordinate
    assert seed5.truth == truth and all(2.0 <= v <= 8.0 for v in truth)
    big = get_problem("trilateration", anchors=4000, noise=0.1, seed=1)
    assert isinstance(big, Trilateration) and big.truth is not None
    errors = [rho - math.dist(a, big.truth) for a, rho in zip(big.anchors, big.ranges)]
    mean = math.fsum(errors) / len(errors)
    sd = math.sqrt(math.fsum((e - mean) ** 2 for e in errors) / len(errors))
    assert abs(mean) < 0.01 and sd == pytest.approx(0.1, abs=0.005)
    assert all(0.0 <= v <= 10.0 for c in big.columns for v in c)


def test_ranges_are_clamped_at_zero() -> None:
    _, ranges, truth = generate(random.Random(0), 200, 2, 100.0)
    assert min(ranges) == 0.0 and len(truth) == 2


@pytest.mark.parametrize(
    ("text", "names", "range_of_first"),
    [
        ("x,y,range\n0,0,5\n10,0,8.06\n0,10,6.7\n", ("x", "y"), 5.0),
        ("RHO,east,north\n5,0,0\n8.06,10,0\n6.7,0,10\n", ("east", "north"), 5.0),
        ("0 0 5\n10 0 8.06\n0 10 6.7\n", ("x", "y"), 5.0),
        ("0,0,0,5\n10,0,0,8\n0,10,0,7\n0,0,10,9\n", ("x", "y", "z"), 5.0),
    ],
    ids=["header", "named-first", "no-header", "3d"],
)
def test_load_from_file(
    tmp_path: Path, text: str, names: tuple[str, ...], range_of_first: float
) -> None:
    f = tmp_path / "anchors.txt"
    f.write_text(text)
    p = get_problem("trilateration", points=f)
    assert isinstance(p, Trilateration)
    assert p.names == names and p.dim == len(names) and p.truth is None
    assert p.ranges[0] == range_of_first and p.anchors[0] == (0.0,) * p.dim
    assert p.to_dict()["data"]["source"] == str(f)


def test_loaded_noiseless_file_recovers_the_point(tmp_path: Path) -> None:
    target = (3.0, 4.0, 1.5)
    anchors = [(0, 0, 0), (10, 0, 0), (0, 10, 0), (0, 0, 10), (10, 10, 10)]
    f = tmp_path / "a.csv"
    f.write_text("x,y,z,dist\n" + "".join(f"{a[0]},{a[1]},{a[2]},{math.dist(a, target)!r}\n"
                                          for a in anchors))  # fmt: skip
    p = get_problem("trilateration", points=f)
    assert p.solve().x == pytest.approx(list(target), abs=1e-12)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x,y\n0,0\n1,1\n2,0\n", "2 columns; give 2 or 3 anchor coordinates and a range"),
        ("x,y,range\n0,0,1\n1,0,-2\n0,1,1\n", "anchor 2 has range -2.0, negative"),
        ("x,y,range,w\n0,0,1,1\n1,0,1,1\n0,1,1,1\n", "takes no weights"),
        ("x,y,range\n0,0,1\n1,0,1\n", "2 anchors cannot fix a point in 2-D; give at least 3"),
        ("x,y,range\n0,0,1\n1,1,1\n2,2,1\n3,3,1\n", "the anchors lie on one line"),
        (
            "x,y,z,range\n0,0,0,1\n1,0,0,1\n0,1,0,1\n1,1,0,1\n",
            "the anchors lie on one plane; the position is ambiguous",
        ),
        ("x,y,range\n0,0,1\n1,0,one\n0,1,1\n", "'one' in column 'range' is not a number"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, words: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(InputError) as info:
        get_problem("trilateration", points=f)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"anchors": 3, "dim": 3}, "--anchors must be at least dim + 1 = 4 for --dim 3, got 3"),
        ({"anchors": 1}, "--anchors must be an integer >= 2"),
        ({"dim": 4}, "--dim must be an integer >= 2 and <= 3, got 4"),
        ({"noise": -0.1}, "--noise must be a number >= 0"),
        ({"noise": "inf"}, "it must be finite"),
        ({"anchor": 5}, "unknown option 'anchor'; did you mean anchors?"),
        ({"x0": "1"}, "x0 has 1 coordinate but the problem has dimension 2"),
    ],
)
def test_bad_options(options: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as info:
        get_problem("trilateration", **options)
    assert words in str(info.value)


def test_from_anchors_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="no anchors"):
        Trilateration.from_anchors([], [])
    with pytest.raises(InputError, match="2 ranges for 3 anchors"):
        Trilateration.from_anchors(SQUARE[:3], [1.0, 2.0])
    with pytest.raises(InputError, match="all have 2 or all have 3"):
        Trilateration.from_anchors([(0, 0), (1, 0, 0), (0, 1)], [1, 1, 1])
    with pytest.raises(InputError, match="finite"):
        Trilateration.from_anchors(SQUARE[:3], [1.0, math.nan, 1.0])
    with pytest.raises(InputError, match="negative range"):
        Trilateration.from_anchors(SQUARE[:3], [1.0, -1.0, 1.0])


def test_thinness() -> None:
    assert thinness([(0, 0), (1, 1), (2, 2)]) < 1e-7
    assert thinness([(0, 0), (1, 0), (0, 1)]) > 0.1
    assert thinness([(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 1e-3)]) == pytest.approx(5e-4, rel=0.5)


def test_to_dict_round_trip(seed5: Trilateration) -> None:
    d = json.loads(json.dumps(seed5.to_dict()))
    assert d["data"]["truth"] == seed5.truth and d["n"] == 6
    q = Trilateration.from_dict(d)
    assert q.anchors == seed5.anchors and q.ranges == seed5.ranges
    given = Trilateration.from_anchors(SQUARE, [5, 6, 7, 8], truth=[1, 2], x0=[4, 4])
    again = Trilateration.from_dict(json.loads(json.dumps(given.to_dict())))
    assert again.anchors == given.anchors and again.ranges == given.ranges
    assert again.truth == [1.0, 2.0] and again.x0 == [4.0, 4.0]


# -------------------------------------------------------------------------- gradients


def _fd(p: Trilateration, x: list[float], h: float) -> list[float]:
    out = []
    for j in range(len(x)):
        up, dn = list(x), list(x)
        up[j] += h
        dn[j] -= h
        out.append((p.objective(up) - p.objective(dn)) / (2 * h))
    return out


@pytest.mark.parametrize("options", [{}, {"dim": 3}, {"anchors": 40, "noise": 1.0}])
def test_autograd_closed_form_and_finite_differences(options: dict[str, object]) -> None:
    p = get_problem("trilateration", **options)
    assert isinstance(p, Trilateration)
    pts = p.check_points(10, seed=3)
    near = [min(math.dist(a, x) for a in p.anchors) for x in pts]
    assert sum(d < 2e-2 * p.scale for d in near) >= 5  # half of them hug an anchor
    for x in pts:
        closed = p.gradient(x)
        scale = max(1.0, math.hypot(*closed))
        assert p.autograd_gradient(x) == pytest.approx(closed, abs=1e-13 * scale)
        assert _fd(p, x, 1e-6) == pytest.approx(closed, abs=1e-6 * scale)
        assert p.loss(Tensor(x)).item() == pytest.approx(p.objective(x), rel=1e-14)


def test_gradient_on_an_anchor_drops_its_term() -> None:
    p = Trilateration.from_anchors(SQUARE[:3], [2.0, 10.0, 10.0])
    # at anchor 1 (the origin): only anchors 2 and 3 pull, with r = 10 = ρ, so 0
    assert p.gradient([0.0, 0.0]) == pytest.approx([0.0, 0.0], abs=1e-15)
    assert p.autograd_gradient([0.0, 0.0]) == pytest.approx([0.0, 0.0], abs=1e-15)
    q = Trilateration.from_anchors(SQUARE[:3], [2.0, 8.0, 10.0])
    assert q.gradient([0.0, 0.0]) == pytest.approx([-4.0, 0.0], abs=1e-14)
    assert q.autograd_gradient([0.0, 0.0]) == pytest.approx([-4.0, 0.0], abs=1e-14)


# ------------------------------------------------------------------------------ solves


def test_default_solve_matches_the_reference(seed5: Trilateration) -> None:
    ref = seed5.reference()
    res = seed5.solve()
    assert res.optimizer == "trust-ncg"
    assert res.converged, res.message
    assert math.dist(res.x, ref.x) < 1e-9 * seed5.scale  # measured 1e-15 (scale 9.1)
    assert abs(res.loss - ref.loss) < 1e-14
    assert res.steps < 20  # measured 5 (gd: 20)
    # The same settings drive minimize on the loss in user coordinates; solve() runs them
    # on the unit copy (centred, divided by a power of two): equal to rounding.
    again = minimize(seed5.loss, seed5.x0, **seed5.solver_defaults())
    assert again.converged and math.dist(again.x, res.x) < 1e-12 * seed5.scale


@pytest.mark.parametrize("name", OURS)
def test_every_optimizer_matches_the_reference(seed5: Trilateration, name: str) -> None:
    res = seed5.solve(name)
    assert res.converged, res.message
    assert math.dist(res.x, seed5.reference().x) < 1e-9 * seed5.scale, (name, res.x)


def test_tuned_learning_rates_cover_our_optimizers() -> None:
    assert set(LR_PLAIN) | set(LR_IN_SCALES) | {"gd"} == set(OURS)


@pytest.mark.parametrize(
    "options",
    [{"dim": 3}, {"anchors": 50}, {"anchors": 3}, {"noise": 1.0}, {"seed": 2}, {"seed": 3}],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_default_solve_on_other_data(options: dict[str, object]) -> None:
    p = get_problem("trilateration", **options)
    res = p.solve()
    assert res.converged, res.message
    assert math.dist(res.x, p.reference().x) < 1e-8 * p.scale


def test_defaults_do_not_depend_on_units(seed5: Trilateration) -> None:
    base = seed5.solve()
    for factor in (1e-6, 1e6):
        p = Trilateration.from_anchors(
            [[factor * v for v in a] for a in seed5.anchors], [factor * v for v in seed5.ranges]
        )
        res = p.solve()
        assert res.converged and res.steps == base.steps
        assert math.dist(res.x, p.reference().x) < 1e-9 * p.scale


def test_baselines_include_the_specialists(seed5: Trilateration) -> None:
    runs = seed5.baselines()
    assert [b.method for b in runs] == [*DEFAULT_BASELINES, "least_squares", "linearised"]
    by = {b.method: b for b in runs}
    ref = seed5.reference()
    assert math.dist(by["least_squares"].x, ref.x) < 1e-6 and by["least_squares"].success
    assert by["linearised"].x == seed5.linearised()
    assert by["linearised"].loss > ref.loss + 0.1
    only = seed5.baselines(["least_squares"])
    assert [b.method for b in only] == ["least_squares"]
    mixed = seed5.baselines(["BFGS", "linearised"], x0=seed5.centroid())
    assert [b.method for b in mixed] == ["BFGS", "linearised"]
    assert math.dist(mixed[0].x, ref.x) < 1e-5


# ---------------------------------------------------------------------------- drawing


def test_objective_grid(seed5: Trilateration) -> None:
    z = seed5.objective_grid([1.0, 5.0], [2.0, 3.0, 4.0])
    assert len(z) == 3 and len(z[0]) == 2
    assert z[2][1] == seed5.objective([5.0, 4.0])  # the grid is the objective, point by point
    with pytest.raises(InputError, match="contours need 2 parameters"):
        get_problem("trilateration", dim=3).objective_grid([0.0], [0.0])


@pytest.mark.parametrize("dim", [2, 3])
def test_draw(dim: int, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    p = get_problem("trilateration", dim=dim, noise=0.0)
    assert isinstance(p, Trilateration) and p.has_scene
    fig, ax = plt.subplots()
    try:
        artists = p.draw(ax, p.reference().x)
        circles = [a for a in artists if isinstance(a, Circle)]
        assert len(circles) == p.n if dim == 2 else 1 <= len(circles) <= p.n
        # with exact ranges every circle passes through the (projected) solution
        x = p.reference().x
        for c in circles:
            cx, cy = c.center
            assert math.hypot(x[0] - cx, x[1] - cy) == pytest.approx(c.radius, abs=1e-9)
        labels = [str(h.get_label()) for h in ax.get_legend_handles_labels()[0]]
        assert labels[1].startswith("anchors (n=6)")
        assert labels[2:] == ["true position", "estimate"]
        if dim == 2:
            assert labels[0] == "measured ranges"
        else:
            assert labels[0].startswith("range spheres cut at z = ")
        assert p.plot_xy([1.0, 2.0, 3.0][:dim]) == (1.0, 2.0)
        fig.savefig(tmp_path / "t.png")
        assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        plt.close(fig)
