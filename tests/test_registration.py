"""Rigid 2-D registration: data, the Kabsch reference against the closed form and against
scipy's orthogonal_procrustes, gradients, the certificate, solving, files, drawing, CLI."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd import Tensor
from geograd.check import three_way_check
from geograd.cli.app import app
from geograd.errors import InputError
from geograd.optim import available_optimizers
from geograd.problems import get_problem, problem_from_dict
from geograd.problems.registration import LR_SCALED, Registration, kabsch, wrap_angle

OURS = ("gd", "sgd", "momentum", "nag", "adam", "adamw", "adamax", "rmsprop", "adagrad")


def seed_data(n: int, seed: int, angle: float, shift: tuple[float, float], noise: float) -> Any:
    """The documented generator, written out independently."""
    r = random.Random(seed)
    xs = [r.uniform(0.0, 1.0) for _ in range(n)]
    ys = [r.uniform(0.0, 1.0) for _ in range(n)]
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    tx = [c * x - s * y + shift[0] for x, y in zip(xs, ys)]
    ty = [s * x + c * y + shift[1] for x, y in zip(xs, ys)]
    if noise > 0:
        nx = [r.gauss(0.0, noise) for _ in range(n)]
        ny = [r.gauss(0.0, noise) for _ in range(n)]
        tx = [a + b for a, b in zip(tx, nx)]
        ty = [a + b for a, b in zip(ty, ny)]
    return list(zip(xs, ys)), list(zip(tx, ty))


@pytest.fixture(scope="module")
def seed5() -> Registration:
    p = get_problem("registration")
    assert isinstance(p, Registration)
    return p


# ------------------------------------------------------------------------------- data


def test_defaults_are_the_documented_data(seed5: Registration) -> None:
    assert seed5.settings == {
        "n": 50, "dim": 2, "angle": 30.0, "axis": None, "shift": "0.5,-0.25", "noise": 0.01,
        "seed": 5, "source": None, "target": None,
    }  # fmt: skip
    source, target = seed_data(50, 5, 30.0, (0.5, -0.25), 0.01)
    assert seed5.source == source
    for got, want in zip(seed5.target, target):
        assert got == pytest.approx(want, abs=1e-15)
    pbar = [math.fsum(p[k] for p in source) / 50 for k in (0, 1)]
    qbar = [math.fsum(q[k] for q in seed5.target) / 50 for k in (0, 1)]
    assert seed5.x0 == pytest.approx([0.0, qbar[0] - pbar[0], qbar[1] - pbar[1]], abs=1e-15)
    assert seed5.dim == 3 and seed5.n == 50


def test_noise_free_data_is_recovered_exactly() -> None:
    p = Registration(noise=0.0, angle=-75.0, shift="2.5,1e-3", n=7, seed=3)
    ref = p.reference()
    assert ref.x == pytest.approx([math.radians(-75.0), 2.5, 1e-3], abs=1e-13)
    assert ref.loss < 1e-25
    res = p.solve()
    assert res.converged, res.message
    assert res.x == pytest.approx([math.radians(-75.0), 2.5, 1e-3], abs=1e-10)


# -------------------------------------------------------------------------- reference


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"angle": 179.9, "noise": 0.2},
        {"angle": -180.0},
        {"angle": 300.0, "shift": "-3,4"},
        {"n": 2, "noise": 0.5, "seed": 1},
        {"n": 500, "noise": 0.1},
    ],
    ids=["default", "near-180", "-180", "300", "two-points", "noisy"],
)
def test_kabsch_agrees_with_the_closed_form(options: dict[str, Any]) -> None:
    p = Registration(**options)
    ref = p.reference()
    cf = p.closed_form()
    assert -math.pi < ref.x[0] <= math.pi
    assert abs(wrap_angle(ref.x[0] - cf["theta"])) < 1e-12
    assert ref.x[1:] == pytest.approx(cf["shift"], abs=1e-12)
    assert ref.loss == pytest.approx(cf["loss"], abs=1e-10)
    assert ref.details["reflection_fixed"] in (True, False)
    rot = ref.details["rotation_matrix"]
    det = rot[0][0] * rot[1][1] - rot[0][1] * rot[1][0]
    assert det == pytest.approx(1.0, abs=1e-12)


def test_kabsch_beats_every_rotation_on_a_grid() -> None:
    p = Registration(n=20, noise=0.3, seed=8)
    best = p.reference().loss
    cf = p.closed_form()
    for k in range(360):
        theta = math.radians(k)
        c, s = math.cos(theta), math.sin(theta)
        pbar, qbar = cf["source_centroid"], cf["target_centroid"]
        t = [qbar[0] - (c * pbar[0] - s * pbar[1]), qbar[1] - (s * pbar[0] + c * pbar[1])]
        assert p.objective([theta, *t]) >= best - 1e-12


def test_scipy_orthogonal_procrustes_allows_reflections() -> None:
    import numpy as np
    from scipy.linalg import orthogonal_procrustes

    # the target is the source mirrored in the y axis: no rotation maps one onto the other
    p = Registration(n=30, noise=0.0, seed=2)
    source = np.asarray(p.source)
    mirrored = source * [-1.0, 1.0]
    centred_p = source - source.mean(axis=0)
    centred_q = mirrored - mirrored.mean(axis=0)
    omega, _ = orthogonal_procrustes(centred_p, centred_q)
    assert np.linalg.det(omega) == pytest.approx(-1.0)  # scipy's answer is a reflection
    assert np.abs(centred_p @ omega - centred_q).max() < 1e-12  # ... and fits exactly

    theta, shift, details = kabsch(p.source, mirrored.tolist())
    assert details["reflection_fixed"] is True
    q = Registration(n=30, noise=0.0, seed=2)
    q.set_data(p.source, mirrored.tolist())
    ours = q.objective([theta, *shift])
    assert ours > 1.0  # a rotation cannot fit a mirror image
    assert ours == pytest.approx(q.closed_form()["loss"], abs=1e-10)
    assert q.gap([theta, *shift]) < 1e-12


def test_scipy_orthogonal_procrustes_does_not_translate() -> None:
    import numpy as np
    from scipy.linalg import orthogonal_procrustes

    p = Registration(n=30, noise=0.0, angle=20.0, shift="3,-2", seed=4)
    source, target = np.asarray(p.source), np.asarray(p.target)
    omega, _ = orthogonal_procrustes(source, target)  # R only, about the origin
    scipy_fit = np.sum((source @ omega - target) ** 2)
    assert scipy_fit > 1.0  # no translation: it cannot reach the shifted copy
    ref = p.reference()
    assert ref.loss < 1e-20
    assert ref.x == pytest.approx([math.radians(20.0), 3.0, -2.0], abs=1e-12)


def test_wrap_angle() -> None:
    assert wrap_angle(math.pi) == math.pi
    assert wrap_angle(-math.pi) == math.pi
    assert wrap_angle(3 * math.pi / 2) == pytest.approx(-math.pi / 2)
    assert wrap_angle(-7.0) == pytest.approx(-7.0 + 2 * math.pi)
    assert wrap_angle(0.25) == 0.25


# ------------------------------------------------------------------ gradient, certificate


@pytest.mark.parametrize(
    "options", [{}, {"n": 3, "noise": 0.0}, {"shift": "40,-30", "angle": 100.0}]
)
def test_autograd_closed_form_and_finite_differences(options: dict[str, Any]) -> None:
    p = Registration(**options)
    for x in p.check_points(8, seed=2):
        report = three_way_check(p.loss, p.gradient, x)
        assert report.passed(1e-12, 1e-6), report.autograd_vs_closed
        # the engine's loss against the plain residuals (the objective is the loss itself)
        plain = math.fsum(v * v for r in p.residuals(x) for v in r)
        assert p.loss(Tensor(x)).item() == pytest.approx(plain, rel=1e-13)


def test_cli_check_passes() -> None:
    result = CliRunner().invoke(app, ["check", "registration", "--json"])
    assert result.exit_code == 0, result.stdout
    assert all(pt["passed"] for pt in json.loads(result.stdout)["points"])


def test_certificate_is_the_exact_gap(seed5: Registration) -> None:
    ref = seed5.reference()
    r = random.Random(1)
    for _ in range(20):
        x = [r.uniform(-4, 4), r.uniform(-2, 2), r.uniform(-2, 2)]
        cert = seed5.certificate(x)
        assert cert["kind"] == "objective_gap"
        assert cert["value"] >= 0.0
        assert cert["value"] == pytest.approx(seed5.objective(x) - ref.loss, rel=1e-9, abs=1e-12)
        assert cert["gradient_norm"] == pytest.approx(math.hypot(*seed5.gradient(x)))
    # tiny gaps without cancellation: a step of 1e-9 in θ costs about ρ 1e-18
    near = [ref.x[0] + 1e-9, ref.x[1], ref.x[2]]
    gap = seed5.gap(near) - seed5.gap(ref.x)
    assert gap == pytest.approx(seed5.closed_form()["rho"] * 1e-18, rel=1e-3)


# ------------------------------------------------------------------------------ solving


def test_default_solve_reaches_kabsch(seed5: Registration) -> None:
    res = seed5.solve()
    ref = seed5.reference()
    assert res.optimizer == "trust-ncg" and res.converged, res.message
    assert math.dist(res.x, ref.x) < 1e-9
    assert res.loss - ref.loss < 1e-14
    assert seed5.certificate(res.x)["value"] < 1e-15
    assert res.steps < 10  # measured 4 (gd: 37)
    assert math.degrees(res.x[0]) == pytest.approx(30.0, abs=0.5)  # noise moves it a little


def test_the_solver_frame(seed5: Registration) -> None:
    r = random.Random(3)
    for _ in range(10):
        x = [r.uniform(-3, 3), r.uniform(-2, 2), r.uniform(-2, 2)]
        z = seed5.to_solver(x)
        assert seed5.from_solver(z) == pytest.approx(x, abs=1e-14)
        assert seed5.solver_loss(Tensor(z)).item() == pytest.approx(seed5.objective(x), rel=1e-12)
    # at the start the centroids match: only the angle remains to find
    assert seed5.to_solver(seed5.x0)[1:] == pytest.approx([0.0, 0.0], abs=1e-15)
    z_star = seed5.to_solver(seed5.reference().x)
    assert z_star[1:] == pytest.approx([0.0, 0.0], abs=1e-14)
    assert z_star[0] == pytest.approx(seed5.radius * seed5.reference().x[0])


def test_solver_defaults_drive_minimize_directly(seed5: Registration) -> None:
    from geograd import minimize

    settings = seed5.solver_defaults()
    # trust-ncg's first radius: the way to go, here the data's radius (in user units)
    assert settings["optimizer"] == "trust-ncg"
    assert settings["lr"] == pytest.approx(seed5.radius)
    assert seed5.solver_defaults("gd")["lr"] == pytest.approx(1 / 100)
    raw = minimize(seed5.solver_loss, seed5.to_solver(seed5.x0), **settings)
    res = seed5.solve()
    assert seed5.from_solver(raw.x) == res.x and raw.steps == res.steps
    assert res.history["x"][0] == pytest.approx(seed5.x0, abs=1e-15)
    assert res.history["x"][-1] == pytest.approx(res.x, abs=1e-15)
    assert res.history["loss"] == raw.history["loss"]


@pytest.mark.parametrize("offset", [10.0, 1000.0, 1e5])
def test_data_far_from_the_origin(offset: float) -> None:
    r = random.Random(7)
    source = [[offset + r.uniform(0, 1), -offset + r.uniform(0, 1)] for _ in range(40)]
    target = [
        [a + r.gauss(0, 0.01), b + r.gauss(0, 0.01)]
        for a, b in Registration.transform(source, 2.0, (1.0, 2.0))
    ]
    p = Registration()
    p.set_data(source, target)
    res = p.solve()
    assert res.converged and res.steps < 100, res.message
    ref = p.reference()
    assert abs(res.x[0] - ref.x[0]) < 1e-12
    assert math.dist(res.x[1:], ref.x[1:]) < 1e-13 * offset + 1e-12
    assert p.gap(res.x) < 1e-12 * offset**2
    if offset == 10.0:
        # in (θ, t) the coupling of angle and shift stalls steepest descent
        plain = p.solve("gd", reparametrise=False)
        assert not plain.converged and math.dist(plain.x, ref.x) > 1e-3


@pytest.mark.parametrize("name", OURS)
def test_every_optimizer_reaches_kabsch(seed5: Registration, name: str) -> None:
    assert name in available_optimizers()
    res = seed5.solve(name)
    assert math.dist(res.x, seed5.reference().x) < 1e-6, (name, res.message)


def test_tuned_learning_rates_cover_our_optimizers() -> None:
    assert set(LR_SCALED) | {"gd"} == set(OURS)


@pytest.mark.parametrize("angle", [179.0, -179.0, 180.0])
def test_solutions_are_reported_in_the_reference_turn(angle: float) -> None:
    p = Registration(angle=angle, noise=0.05)
    res = p.solve()
    assert -math.pi < res.x[0] <= math.pi
    assert -math.pi < res.best_x[0] <= math.pi
    assert math.dist(res.x, p.reference().x) < 1e-8


def test_a_start_a_turn_away_is_wrapped(seed5: Registration) -> None:
    start = [4 * math.pi, 0.0, 0.0]
    res = seed5.solve(x0=start)
    assert math.dist(res.x, seed5.reference().x) < 1e-9
    # the run starts from the same motion in the reference's turn (start_points), so its
    # whole path is there; step 0 names the start as given
    assert res.history["x"][0] == start
    assert all(-math.pi < v[0] <= math.pi for v in res.history["x"][1:])
    assert res.history["x"][-1] == res.x
    # canonical=False leaves the points as the optimizer left them: from that start too
    raw = seed5.solve(x0=start, canonical=False)
    assert raw.history["x"][0] == start and -math.pi < raw.history["x"][1][0] <= math.pi


def test_a_solve_of_no_steps_reports_its_start_in_the_canonical_form(seed5: Registration) -> None:
    start = [4 * math.pi + 0.5, 0.1, -0.2]
    res = seed5.solve(x0=start, max_steps=0)
    assert res.steps == 0
    # the same motion, its angle moved by two whole turns into (-π, π]
    assert res.x == pytest.approx([0.5, 0.1, -0.2], abs=1e-14)
    assert res.best_x == res.x and res.history["x"][0] == res.x
    assert seed5.solve(x0=start, max_steps=0, canonical=False).x == start


def test_scipy_baselines(seed5: Registration) -> None:
    runs = seed5.baselines(["BFGS", "L-BFGS-B"], options={"BFGS": {"gtol": 1e-10}})
    assert [b.method for b in runs] == ["BFGS", "L-BFGS-B"]
    for b in runs:
        assert math.dist(b.x, seed5.reference().x) < 1e-5, b


# ------------------------------------------------------------------------ options, files


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"n": 1}, "registration: --n must be an integer >= 2, got 1"),
        ({"angle": 400}, "--angle must be a number >= -360 and <= 360"),
        ({"noise": -0.1}, "--noise must be a number >= 0"),
        ({"shift": "1"}, "--shift must be two comma-separated numbers TX,TY, got '1'"),
        ({"shift": "a,b"}, "--shift must be two comma-separated numbers"),
        ({"shift": "1,nan"}, "--shift must be two comma-separated numbers"),
        ({"target": "t.csv"}, "--target needs --source"),
        ({"x0": "1,2"}, "x0 has 2 coordinates but the problem has dimension 3"),
    ],
)
def test_bad_options(options: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError) as info:
        get_problem("registration", **options)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_source_and_target_files(tmp_path: Path) -> None:
    src = tmp_path / "source.csv"
    tgt = tmp_path / "target.txt"
    pts = [(0.0, 0.0), (2.0, 0.0), (0.0, 1.0), (1.0, 3.0)]
    src.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in pts))
    # rotated by 90 degrees, shifted by (1, 1)
    tgt.write_text("".join(f"{1 - b} {1 + a}\n" for a, b in pts))
    p = Registration(source=src, target=tgt)
    assert p.n == 4 and p.origin == f"{src} -> {tgt}"
    assert p.reference().x == pytest.approx([math.pi / 2, 1.0, 1.0], abs=1e-12)
    assert p.solve().x == pytest.approx([math.pi / 2, 1.0, 1.0], abs=1e-9)
    # the source alone: the target is generated from it
    q = Registration(source=src, angle=-40, noise=0.0, shift="0,0")
    assert q.reference().x == pytest.approx([math.radians(-40), 0.0, 0.0], abs=1e-12)
    d = json.loads(json.dumps(p.to_dict()))
    again = problem_from_dict(d)
    assert isinstance(again, Registration) and again.target == p.target


@pytest.mark.parametrize(
    ("source", "target", "words"),
    [
        ("0,0\n1,1\n2,2\n", "0,0\n1,1\n", "2 target points for 3 source points"),
        ("1,1\n1,1\n", None, "all source points coincide"),
        ("0,0,0\n1,1,1\n", None, "points have 3 coordinates; this problem needs 2"),
        ("0,0\n", None, "1 point(s); this problem needs at least 2"),
    ],
)
def test_bad_files(tmp_path: Path, source: str, target: str | None, words: str) -> None:
    src = tmp_path / "s.csv"
    src.write_text(source)
    options: dict[str, Any] = {"source": src}
    if target is not None:
        tgt = tmp_path / "t.csv"
        tgt.write_text(target)
        options["target"] = tgt
    with pytest.raises(InputError) as info:
        Registration(**options)
    assert words in str(info.value) and "\n" not in str(info.value)


# ------------------------------------------------------------------------------ drawing


def test_draw(seed5: Registration, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert seed5.plot_xy(seed5.x0) is None and seed5.has_scene is True
    lo_x, hi_x, lo_y, hi_y = seed5.plot_bounds()
    for p in seed5.source + seed5.target:
        assert lo_x < p[0] < hi_x and lo_y < p[1] < hi_y
    fig, ax = plt.subplots()
    try:
        base = seed5.draw(ax)
        assert [a.get_label() for a in base[:2]] == ["source p (n=50)", "target q"]
        ref = seed5.reference().x
        drawn = seed5.draw_estimate(ax, ref, color="C1", label="gd", linestyle="--")
        links, outline, markers = drawn
        assert len(links.get_segments()) == 50
        assert markers.get_label() == "gd" and outline.get_linestyle() == "--"
        moved = markers.get_xydata()
        assert math.dist(moved[0], seed5.target[0]) < 0.05  # the noise level
        start = seed5.draw_estimate(ax, [0.0, 0.0, 0.0], color="C2")
        assert start[2].get_xydata().tolist() == [list(p) for p in seed5.source]
        fig.savefig(tmp_path / "r.png")
        assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        plt.close(fig)


def test_cli_solve_and_compare(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["solve", "registration", "--json"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["converged"] and doc["matches_reference"]
    assert doc["certificate"]["kind"] == "objective_gap"
    out = tmp_path / "r.png"
    result = runner.invoke(
        app, ["compare", "registration", "--optimizers", "gd,adam", "--json", "--plot", str(out)]
    )
    assert result.exit_code == 0, result.stdout
    runs = json.loads(result.stdout)["runs"]
    assert {r["method"] for r in runs} >= {"kabsch-svd", "gd", "adam", "BFGS"}
    assert all(r["distance"] < 1e-5 for r in runs if r["method"] != "Nelder-Mead")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_a_shift_that_leaves_no_digits_for_the_spread_is_solved_and_called_not_unique() -> None:
    """--shift 1e200 makes every target point the same float (1e200 + 0.5 == 1e200): the
    rotation is undetermined. The solve still runs (its radius is measured without
    underflow; a trust radius of 0 was 'TrustNCG: lr must be > 0'), and says so."""
    from typer.testing import CliRunner

    from geograd.cli.app import app

    result = CliRunner().invoke(app, ["solve", "registration", "--shift", "1e200,1e200"])
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "the optimum is not unique" in text and "matches the reference" in text


# ------------------------------------------------------------- far starts, big settings


def test_wrap_angle_keeps_the_rotation_of_a_huge_angle() -> None:
    """Whole turns of the float 2π drift from the true ones (2.4e-16 a turn): an angle of
    1e308 is reduced by its sine and cosine instead, to the same rotation."""
    for theta in (1e308, -1e308, 1e20, 12345.678, 9 * math.pi):
        w = wrap_angle(theta)
        assert -math.pi < w <= math.pi
        assert abs(math.cos(w) - math.cos(theta)) < 1e-15
        assert abs(math.sin(w) - math.sin(theta)) < 1e-15
    assert wrap_angle(math.inf) == math.inf and math.isnan(wrap_angle(math.nan))


def test_a_start_angle_of_1e308_is_the_same_motion_near_0(seed5: Registration) -> None:
    """Its ulp is 1e292, so no step could move it: the solve stopped where it began,
    'converged (xtol)' 84 above the minimum. Its angle is now wrapped before solving."""
    start = [1e308, 0.0, 0.0]
    res = seed5.solve(x0=start)
    assert res.converged and res.reason == "gtol"
    assert math.dist(res.x, seed5.reference().x) < 1e-9
    assert res.history["x"][0] == start  # the start as the user gave it
    # the run began at the same motion: the objective there is the user's start's
    assert res.start_loss == pytest.approx(seed5.objective(start), rel=1e-12)
    assert all(-math.pi < v[0] <= math.pi for v in res.history["x"][1:])


def test_a_3d_start_rotation_vector_of_1e308_is_the_same_motion_near_0() -> None:
    from geograd.problems.registration import canonical_rotation_vector, rotation_matrix

    w = canonical_rotation_vector([1e308, 0.0, 0.0])
    assert math.hypot(*w) <= math.pi and w[1:] == [0.0, 0.0]
    m = rotation_matrix(w)  # about x by 1e308 rad: cos and sin of 1e308 itself
    assert abs(m[1][1] - math.cos(1e308)) < 1e-15 and abs(m[2][1] - math.sin(1e308)) < 1e-15
    p = Registration(dim=3)
    start = [1e308, 1e308, -1e308, 0.0, 0.0, 0.0]
    near = [*canonical_rotation_vector(start[:3]), 0.0, 0.0, 0.0]
    assert p.objective(start) == pytest.approx(p.objective(near), rel=1e-12)  # it overflowed
    res = p.solve(x0=start)
    assert res.converged and math.dist(res.x, p.reference().x) < 1e-9
    assert res.history["x"][0] == start


@pytest.mark.parametrize("x0", ["1e308,0,0", "-1e308,0.5,-0.25", "1e17,0,0"])
def test_cli_far_start_angle_matches_the_reference(x0: str) -> None:
    result = CliRunner().invoke(app, ["solve", "registration", "--x0", x0, "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["converged"] and doc["matches_reference"]
    assert doc["x0"] == [float(v) for v in x0.split(",")]  # named as given


def test_cli_far_start_angle_in_3d_matches_the_reference() -> None:
    args = ["solve", "registration", "--dim", "3", "--x0", "1e308,0,0,0,0,0", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["converged"] and doc["matches_reference"] and doc["x0"][0] == 1e308


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--x0", "0,1e308,0"], "x0 = 0, 1e+308, 0"),
        (["--x0", "1e308,0,-1e308"], "x0 = 1e+308, 0, -1e+308"),  # the angle as given too
        (["--dim", "3", "--x0", "1e308,0,0,0,1e308,0"], "x0 = 1e+308, 0, 0, 0, 1e+308, 0"),
    ],
)
def test_cli_far_start_shift_is_refused_in_one_line(args: list[str], shown: str) -> None:
    result = CliRunner().invoke(app, ["solve", "registration", *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"registration: {shown} is so far from the point pairs" in lines[0]
    assert "give a start nearer the data" in lines[0]


def test_the_data_line_shows_big_settings_as_g_style_numbers() -> None:
    """--shift 1e308,1e308 printed two 309-digit integers in the data line."""
    result = CliRunner().invoke(app, ["solve", "registration", "--shift", "1e308,1e308"])
    text = " ".join(result.stdout.split())
    assert "shifted by (1e+308, 1e+308)" in text
    assert not re.search(r"\d{17}", text)
    p = Registration(shift="1e20,-0.125", noise=0.0)
    assert p.data_summary().endswith("rotated by 30° and shifted by (1e+20, -0.125)")
    q = Registration(dim=3, shift="1e308,0,2.5e-300")
    assert "shifted by (1e+308, 0, 2.5e-300)" in q.data_summary()
    assert "shifted by (0.5, -0.25), plus noise 0.01" in Registration().data_summary()
