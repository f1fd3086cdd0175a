"""Rigid 3-D registration (``--dim 3``): the generator, Kabsch with the reflection fix, the
rotation vector's maps, gradients, the default solve, the CLI, files, JSON, drawing."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd import Tensor
from geograd.check import three_way_check
from geograd.cli.app import app
from geograd.errors import InputError
from geograd.problems import get_problem, problem_from_dict
from geograd.problems.registration import (
    Registration,
    Registration3D,
    canonical_rotation_vector,
    kabsch_rotation,
    rotation_matrix,
    rotation_vector,
)

OURS = ("gd", "sgd", "momentum", "nag", "adam", "adamw", "adamax", "rmsprop", "adagrad")


def rodrigues(axis: list[float], angle: float) -> list[list[float]]:
    """R = cos θ I + sin θ [a]× + (1 - cos θ) a aᵀ, written out independently."""
    n = math.hypot(*axis)
    a = [v / n for v in axis]
    c, s = math.cos(angle), math.sin(angle)
    k = [[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]]
    return [
        [c * (j == i) + s * k[i][j] + (1 - c) * a[i] * a[j] for j in range(3)] for i in range(3)
    ]


def moved(m: list[list[float]], t: list[float], pts: Any) -> list[list[float]]:
    return [[sum(m[i][j] * p[j] for j in range(3)) + t[i] for i in range(3)] for p in pts]


def det(m: Any) -> float:
    return float(
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    )


def seed_data(n: int, seed: int, angle: float, shift: list[float], noise: float) -> Any:
    """The documented generator, written out independently: x, y, z columns, the axis
    (three Gaussian draws), then the noise column by column."""
    r = random.Random(seed)
    cols = [[r.uniform(0.0, 1.0) for _ in range(n)] for _ in range(3)]
    source = [list(p) for p in zip(*cols)]
    axis = [r.gauss(0.0, 1.0) for _ in range(3)]
    target = moved(rodrigues(axis, math.radians(angle)), shift, source)
    if noise > 0:
        e = [[r.gauss(0.0, noise) for _ in range(n)] for _ in range(3)]
        target = [[q[k] + e[k][i] for k in range(3)] for i, q in enumerate(target)]
    return source, target, axis


@pytest.fixture(scope="module")
def default3() -> Registration3D:
    p = get_problem("registration", dim=3)
    assert isinstance(p, Registration3D)
    return p


# ------------------------------------------------------------------------------- data


def test_dim_3_is_the_3d_problem_with_the_documented_data(default3: Registration3D) -> None:
    assert isinstance(default3, Registration) and type(Registration()) is Registration
    assert (default3.dim, default3.data_dim, default3.n) == (6, 3, 50)
    assert default3.settings["dim"] == 3 and default3.settings["shift"] == "0.5,-0.25,0.125"
    source, target, axis = seed_data(50, 5, 30.0, [0.5, -0.25, 0.125], 0.01)
    assert default3.source == [tuple(p) for p in source]
    for got, want in zip(default3.target, target):
        assert got == pytest.approx(want, abs=1e-15)
    assert default3.true_axis == pytest.approx([v / math.hypot(*axis) for v in axis])
    assert default3.x0[:3] == [0.0, 0.0, 0.0]
    assert default3.data_summary().startswith(
        "50 point pairs in R^3: source generated with n=50, seed=5; target = source rotated "
        "by 30° about ("
    )
    names = [c["name"] for c in default3.components(default3.x0)]
    assert names == ["rotation x", "rotation y", "rotation z", "shift x", "shift y", "shift z"]


def test_a_given_axis_does_not_change_the_noise() -> None:
    a = Registration(dim=3, axis="0,0,2", angle=0.0)
    b = Registration(dim=3, angle=0.0)
    assert a.true_axis == [0.0, 0.0, 1.0] and a.target == b.target


# -------------------------------------------------------------------------- reference


@pytest.mark.parametrize(
    ("axis", "angle", "shift"),
    [
        ([1.0, 2.0, 3.0], 100.0, [1.0, 2.0, 3.0]),
        ([0.0, 0.0, 1.0], 30.0, [0.0, 0.0, 0.0]),
        ([-1.0, 0.5, 0.25], 179.0, [-3.0, 0.5, 40.0]),
        ([0.3, -0.2, 0.9], 180.0, [0.1, 0.2, 0.3]),
        ([2.0, 1.0, -1.0], 1e-4, [5.0, -5.0, 1.0]),
        ([1.0, 1.0, 1.0], 0.0, [0.5, 0.5, 0.5]),
    ],
    ids=["100", "30-about-z", "179", "180", "tiny", "none"],
)
def test_kabsch_recovers_a_known_motion_exactly(
    axis: list[float], angle: float, shift: list[float]
) -> None:
    text = ",".join(str(v) for v in axis)
    p = Registration(dim=3, n=20, noise=0.0, axis=text, angle=angle,
                     shift=",".join(str(v) for v in shift), seed=3)  # fmt: skip
    ref = p.reference()
    truth = rodrigues(axis, math.radians(angle))
    got = rotation_matrix(ref.x[:3])
    assert max(abs(got[i][j] - truth[i][j]) for i in range(3) for j in range(3)) < 1e-12
    assert ref.x[3:] == pytest.approx(shift, abs=1e-12)
    assert ref.details["reflection_fixed"] is False
    assert det(ref.details["rotation_matrix"]) == pytest.approx(1.0, abs=1e-12)
    assert math.hypot(*ref.x[:3]) <= math.pi
    if angle < 180.0:  # at 180° the vectors w and -w are the same rotation
        unit = [v / math.hypot(*axis) for v in axis]
        assert ref.x[:3] == pytest.approx([math.radians(angle) * v for v in unit], abs=1e-12)
    assert ref.loss < 1e-24
    assert p.distance(ref.x, [0.0] * 3 + shift) == pytest.approx(
        p.distance([0.0] * 3 + shift, ref.x)
    )


def test_the_reflection_fix_keeps_a_proper_rotation() -> None:
    import numpy as np

    # the target is the source mirrored in the plane z = 0 and shifted: a reflection fits it
    # exactly, no rotation does
    p = Registration(dim=3, n=30, noise=0.0, seed=2)
    source = np.asarray(p.source)
    mirrored = (source * [1.0, 1.0, -1.0] + [0.5, 1.0, -2.0]).tolist()
    q = Registration(dim=3)
    q.set_data(p.source, mirrored)
    pc = source - source.mean(axis=0)
    qc = np.asarray(mirrored) - np.mean(mirrored, axis=0)
    u, _, vt = np.linalg.svd(pc.T @ qc)
    reflection = vt.T @ u.T  # the unconstrained orthogonal fit, no fix
    assert np.linalg.det(reflection) == pytest.approx(-1.0)
    assert np.abs(pc @ reflection.T - qc).max() < 1e-12  # ... fits exactly

    rot, _, _, d = kabsch_rotation(q.source, q.target)
    assert d == -1.0 and np.linalg.det(rot) == pytest.approx(1.0, abs=1e-12)
    ref = q.reference()
    assert ref.details["reflection_fixed"] is True
    assert det(ref.details["rotation_matrix"]) == pytest.approx(1.0, abs=1e-12)
    assert det(rotation_matrix(ref.x[:3])) == pytest.approx(1.0, abs=1e-12)
    assert ref.loss > 1.0  # a rotation cannot fit a mirror image
    # ... and it is the best rotation: stationary, and no start finds a lower objective
    assert math.hypot(*q.gradient(ref.x)) < 1e-10
    r = random.Random(4)
    for _ in range(5):
        start = [r.uniform(-2, 2) for _ in range(3)] + [r.uniform(-3, 3) for _ in range(3)]
        res = q.solve(x0=start)
        assert res.loss >= ref.loss - 1e-12 * ref.loss


# ------------------------------------------------------------------ rotation vectors


def test_rotation_vector_inverts_the_exponential_map() -> None:
    r = random.Random(1)
    angles = [0.0, 1e-9, 1e-4, 0.5, 1.0, 1.5, 2.0, 3.0, math.pi - 1e-6, math.pi]
    for angle in angles:
        axis = [r.gauss(0, 1) for _ in range(3)]
        n = math.hypot(*axis)
        w = [angle * v / n for v in axis]
        m = rotation_matrix(w)
        truth = rodrigues(axis, angle)
        assert max(abs(m[i][j] - truth[i][j]) for i in range(3) for j in range(3)) < 1e-15
        back = rotation_vector(m)
        if angle < math.pi:
            assert back == pytest.approx(w, abs=1e-9 if angle > 3 else 1e-14)
        again = rotation_matrix(back)
        assert max(abs(again[i][j] - m[i][j]) for i in range(3) for j in range(3)) < 1e-14


def test_canonical_rotation_vector() -> None:
    w = [0.0, 0.0, 1.0]
    assert canonical_rotation_vector(w) == w
    turned = [0.0, 0.0, 1.0 + 2 * math.pi]
    assert canonical_rotation_vector(turned) == pytest.approx(w)
    # 200° about z is 160° about -z
    assert canonical_rotation_vector([0.0, 0.0, math.radians(200)]) == pytest.approx(
        [0.0, 0.0, -math.radians(160)]
    )
    a = rotation_matrix([0.0, 0.0, math.radians(200)])
    b = rotation_matrix([0.0, 0.0, -math.radians(160)])
    assert max(abs(a[i][j] - b[i][j]) for i in range(3) for j in range(3)) < 1e-15


# ------------------------------------------------------------------ gradient, certificate


@pytest.mark.parametrize(
    "options",
    [{}, {"n": 3, "noise": 0.0}, {"shift": "40,-30,7", "angle": 170.0}, {"noise": 0.3}],
)
def test_autograd_closed_form_and_finite_differences(options: dict[str, Any]) -> None:
    p = Registration(dim=3, **options)
    points = p.check_points(8, seed=2)
    assert points[0][:3] == [0.0, 0.0, 0.0]  # w = 0: the series' point
    points += [[0.6, -0.5, 0.5, 0.1, 0.2, 0.3], [1e-5, 2e-5, -1e-5, 0.0, 0.0, 0.0]]
    for x in points:
        report = three_way_check(p.loss, p.gradient, x)
        assert report.passed(1e-12, 1e-6), report.autograd_vs_closed
        # the engine's loss against the plain residuals (the objective is the loss itself)
        plain = math.fsum(v * v for r in p.residuals(x) for v in r)
        assert p.loss(Tensor(x)).item() == pytest.approx(plain, rel=1e-13)


def test_cli_check_passes() -> None:
    result = CliRunner().invoke(app, ["check", "registration", "--dim", "3", "--json"])
    assert result.exit_code == 0, result.stdout
    assert all(pt["passed"] for pt in json.loads(result.stdout)["points"])


def test_certificate_is_the_gap_to_kabsch(default3: Registration3D) -> None:
    ref = default3.reference()
    r = random.Random(1)
    for _ in range(10):
        x = [r.uniform(-2, 2) for _ in range(3)] + [r.uniform(-2, 2) for _ in range(3)]
        cert = default3.certificate(x)
        assert cert["kind"] == "objective_gap" and cert["unique"] is True
        want = default3.objective(x) - ref.loss
        assert cert["value"] == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert default3.certificate(ref.x)["value"] == 0.0


def test_collinear_sources_are_not_unique() -> None:
    line = [[float(k), 2.0 * k, -float(k)] for k in range(5)]
    p = Registration(dim=3)
    p.set_data(line, [[a + 1.0, b, c] for a, b, c in line])
    cert = p.certificate(p.reference().x)
    assert cert["unique"] is False and "rank <= 1" in cert["uniqueness"]


# ------------------------------------------------------------------------------ solving


@pytest.mark.parametrize("angle", [30.0, 90.0, 179.0, 180.0, -179.5])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_default_solve_matches_kabsch(angle: float, seed: int) -> None:
    p = Registration(dim=3, angle=angle, seed=seed, noise=0.05)
    res = p.solve()
    ref = p.reference()
    assert res.optimizer == "trust-ncg" and res.converged, res.message
    assert math.hypot(*res.x[:3]) <= math.pi  # the canonical form
    assert p.distance(res.x, ref.x) < 1e-12
    assert p.assess(res.x)["matches"] is True
    assert res.steps <= 20  # measured 4 to 12


def test_default_solve_figures(default3: Registration3D) -> None:
    res = default3.solve()
    ref = default3.reference()
    assert res.steps < 10  # measured 6 (lbfgs 9, gd 25)
    assert default3.distance(res.x, ref.x) < 1e-14
    assert math.degrees(math.hypot(*res.x[:3])) == pytest.approx(30.0, abs=0.5)


def test_the_solver_frame(default3: Registration3D) -> None:
    r = random.Random(3)
    for _ in range(10):
        x = [r.uniform(-1.5, 1.5) for _ in range(3)] + [r.uniform(-2, 2) for _ in range(3)]
        z = default3.to_solver(x)
        assert default3.from_solver(z) == pytest.approx(x, abs=1e-14)
        loss = default3.solver_loss(Tensor(z)).item()
        assert loss == pytest.approx(default3.objective(x), rel=1e-12)
    assert default3.to_solver(default3.x0)[3:] == pytest.approx([0.0] * 3, abs=1e-15)


def test_a_start_a_turn_away_is_put_in_the_canonical_form(default3: Registration3D) -> None:
    ref = default3.reference()
    axis = [v / math.hypot(*ref.x[:3]) for v in ref.x[:3]]
    start = [(0.2 + 2 * math.pi) * v for v in axis] + [0.0, 0.0, 0.0]
    res = default3.solve(x0=start)
    assert res.steps > 0 and math.hypot(*res.x[:3]) <= math.pi
    assert res.x[:3] == pytest.approx(ref.x[:3], abs=1e-12)
    # the optimizer started from the same rotation, its angle 0.2: its path is in [0, π]
    assert res.history["x"][0] == start
    assert all(math.hypot(*v[:3]) <= math.pi for v in res.history["x"][1:])


@pytest.mark.parametrize("offset", [10.0, 1e5])
def test_data_far_from_the_origin(offset: float) -> None:
    r = random.Random(7)
    source = [[offset + r.uniform(0, 1), -offset + r.uniform(0, 1), r.uniform(0, 1)]
              for _ in range(40)]  # fmt: skip
    m = rodrigues([1.0, -0.5, 0.7], 1.2)
    target = [[v + r.gauss(0, 0.01) for v in q] for q in moved(m, [1.0, 2.0, 3.0], source)]
    p = Registration(dim=3)
    p.set_data(source, target)
    res = p.solve()
    assert res.converged and res.steps < 20, res.message
    assert p.distance(res.x, p.reference().x) < 1e-15 * offset + 1e-12


@pytest.mark.parametrize("name", OURS)
def test_every_optimizer_reaches_kabsch(default3: Registration3D, name: str) -> None:
    res = default3.solve(name)
    assert default3.distance(res.x, default3.reference().x) < 1e-8, (name, res.message)


# ------------------------------------------------------------------------ options, files


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"dim": 4}, "registration: --dim must be an integer >= 2 and <= 3, got 4"),
        ({"dim": 3, "shift": "1,2"}, "with --dim 3, --shift must be three comma-separated"),
        ({"dim": 3, "axis": "1,2"}, "with --dim 3, --axis must be three comma-separated"),
        ({"dim": 3, "axis": "0,0,0"}, "--axis must not be the zero vector"),
        ({"axis": "0,0,1"}, "--axis needs --dim 3"),
        ({"dim": 3, "x0": "1,2,3"}, "x0 has 3 coordinates but the problem has dimension 6"),
    ],
)
def test_bad_options(options: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError) as info:
        get_problem("registration", **options)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_files_and_json_round_trip(tmp_path: Path) -> None:
    src, tgt = tmp_path / "s.csv", tmp_path / "t.csv"
    pts = [(0.0, 0.0, 0.0), (2.0, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 3.0, 2.0)]
    src.write_text("x,y,z\n" + "".join(f"{a},{b},{c}\n" for a, b, c in pts))
    # 90° about z, shifted by (1, 1, 1)
    tgt.write_text("".join(f"{1 - b},{1 + a},{1 + c}\n" for a, b, c in pts))
    p = Registration(dim=3, source=src, target=tgt)
    want = [0.0, 0.0, math.pi / 2, 1.0, 1.0, 1.0]
    assert p.reference().x == pytest.approx(want, abs=1e-12)
    assert p.solve().x == pytest.approx(want, abs=1e-9)
    for problem in (p, Registration(dim=3, angle=120.0, seed=9), Registration(dim=3, axis="1,0,0")):
        d = json.loads(json.dumps(problem.to_dict()))
        assert d["dim"] == 6 and d["data_dim"] == 3 and d["options"]["dim"] == 3
        again = problem_from_dict(d)
        assert isinstance(again, Registration3D)
        assert again.source == problem.source and again.target == problem.target
        assert again.x0 == problem.x0 and again.to_dict() == d
    flat = tmp_path / "two.csv"
    flat.write_text("0,0\n1,1\n2,3\n")
    with pytest.raises(InputError, match="points have 2 coordinates; this problem needs 3"):
        Registration(dim=3, source=flat)


# ------------------------------------------------------------------------------ drawing


def test_draw_projects_on_the_xy_plane(default3: Registration3D, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert default3.plot_xy(default3.x0) is None and default3.has_scene is True
    lo_x, hi_x, lo_y, hi_y = default3.plot_bounds()
    for q in default3.source + default3.target:
        assert lo_x < q[0] < hi_x and lo_y < q[1] < hi_y
    fig, ax = plt.subplots()
    try:
        default3.draw(ax)
        links, _, markers = default3.draw_estimate(ax, default3.reference().x, color="C1")
        assert len(links.get_segments()) == 50
        moved_xy = markers.get_xydata()
        assert math.dist(moved_xy[0], default3.target[0][:2]) < 0.05  # the noise level
        fig.savefig(tmp_path / "r.png")
        assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        plt.close(fig)


# ----------------------------------------------------------------------------------- CLI


def test_cli_solve_dim_3_matches() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["solve", "registration", "--dim", "3", "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    doc = json.loads(result.stdout)
    assert doc["converged"] and doc["matches_reference"]
    assert doc["certificate"]["kind"] == "objective_gap"
    assert len(doc["solution"]) == 6
    text = runner.invoke(app, ["solve", "registration", "--dim", "3", "--angle", "179"])
    assert text.exit_code == 0 and "matches the reference" in " ".join(text.stdout.split())


def test_cli_dim_4_is_one_input_error() -> None:
    result = CliRunner().invoke(app, ["solve", "registration", "--dim", "4"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--dim must be an integer >= 2 and <= 3" in lines[0]
