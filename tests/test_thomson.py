"""The Thomson problem: the table, exact configurations, loss and gradients, reference,
symmetry alignment, options and files, drawing, the CLI."""

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
from geograd.problems.thomson import (
    KNOWN_ENERGIES,
    TABLE_TOL,
    Thomson,
    alignment,
    energy,
    hull_edges,
    normalise,
    random_configuration,
)

#: The issue's anchors (tolerance 1e-8 absolute).
ANCHORS = {
    2: 0.500000000,
    3: 1.732050808,
    4: 3.674234614,
    5: 6.474691495,
    6: 9.985281374,
    7: 14.452977414,
    8: 19.675287861,
    9: 25.759986531,
    10: 32.716949460,
    11: 40.596450510,
    12: 49.165253058,
}

GOLDEN = (1.0 + math.sqrt(5.0)) / 2.0


def flat(points: list[tuple[float, float, float]]) -> list[float]:
    return normalise([v for p in points for v in p])


#: Exact optimal configurations: N = 2, 3, 4, 6, 12 are proven minima.
EXACT = {
    2: flat([(0, 0, 1), (0, 0, -1)]),
    3: flat([(math.cos(2 * math.pi * k / 3), math.sin(2 * math.pi * k / 3), 0) for k in range(3)]),
    4: flat([(1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)]),
    6: flat([(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]),
    12: flat(
        [
            p
            for a in (1.0, -1.0)
            for b in (GOLDEN, -GOLDEN)
            for p in ((0.0, a, b), (a, b, 0.0), (b, 0.0, a))
        ]
    ),
}


def rotation_matrix(r: random.Random) -> list[list[float]]:
    """A random orthogonal matrix (Gram-Schmidt of a Gaussian matrix; may be a reflection)."""
    rows: list[list[float]] = []
    while len(rows) < 3:
        v = [r.gauss(0.0, 1.0) for _ in range(3)]
        for w in rows:
            d = sum(a * b for a, b in zip(v, w))
            v = [a - d * b for a, b in zip(v, w)]
        n = math.hypot(*v)
        rows.append([a / n for a in v])
    return rows


def transformed(x: list[float], q: list[list[float]], perm: list[int]) -> list[float]:
    pts = [x[3 * i : 3 * i + 3] for i in range(len(x) // 3)]
    moved = [[sum(p[k] * q[k][j] for k in range(3)) for j in range(3)] for p in pts]
    return [v for i in perm for v in moved[i]]


# --------------------------------------------------------------------------------- table


@pytest.mark.parametrize("n", sorted(ANCHORS))
def test_table_holds_the_anchors(n: int) -> None:
    assert abs(KNOWN_ENERGIES[n] - ANCHORS[n]) <= 1e-8
    assert Thomson(n=n).known_energy == KNOWN_ENERGIES[n]


def test_n11_is_the_true_minimum_within_the_tolerance() -> None:
    assert abs(KNOWN_ENERGIES[11] - 40.5964505082) < 1e-9
    assert abs(40.596450510 - 40.5964505082) < TABLE_TOL


def test_table_covers_2_to_100_and_grows_like_n_squared() -> None:
    assert sorted(KNOWN_ENERGIES) == list(range(2, 101))
    for n, e in KNOWN_ENERGIES.items():
        # E(N) = N²/2 - 0.5531 N^1.5 + ...: a misplaced entry would be far off
        assert e == pytest.approx(n * n / 2 - 0.5531 * n**1.5, rel=0.05, abs=0.25), n
    assert Thomson(n=101).known_energy is None


@pytest.mark.parametrize("n", sorted(EXACT))
def test_exact_configurations_have_the_table_energy(n: int) -> None:
    p = Thomson(n=n)
    x = EXACT[n]
    assert abs(p.objective(x) - KNOWN_ENERGIES[n]) <= TABLE_TOL
    assert abs(p.loss(Tensor(x)).item() - KNOWN_ENERGIES[n]) <= TABLE_TOL
    assert math.hypot(*p.gradient(x)) < 1e-12  # stationary
    assert p.certificate(x)["value"] < 1e-12


def test_closed_forms_of_small_n() -> None:
    assert energy(EXACT[3]) == pytest.approx(math.sqrt(3.0), abs=1e-15)
    assert energy(EXACT[4]) == pytest.approx(6.0 / math.sqrt(8.0 / 3.0), abs=1e-14)
    assert energy(EXACT[6]) == pytest.approx(12.0 / math.sqrt(2.0) + 1.5, abs=1e-14)


# ---------------------------------------------------------------------------- the loss


def test_defaults_and_seeded_start() -> None:
    p = get_problem("thomson")
    assert isinstance(p, Thomson)
    assert p.settings == {"n": 12, "seed": 5, "restarts": 1, "points": None, "reference": False}
    assert p.n == 12 and p.dim == 36
    assert p.x0 == random_configuration(random.Random(5), 12)
    for i in range(12):
        assert math.hypot(*p.x0[3 * i : 3 * i + 3]) == pytest.approx(1.0, abs=1e-15)
    starts = p.starts(3)
    assert starts[0] == p.x0 and starts[1] != starts[2]
    assert Thomson(seed=5).starts(3) == starts  # the same seed, the same starts
    assert Thomson(seed=6).x0 != p.x0


def test_seeded_points_are_uniform_on_the_sphere() -> None:
    u = random_configuration(random.Random(1), 4000)
    zs = u[2::3]
    xs = u[0::3]
    assert abs(sum(zs) / 4000) < 0.03 and abs(sum(xs) / 4000) < 0.03
    # Archimedes: a uniform point has |z| < 1/2 with probability 1/2
    assert abs(sum(abs(z) < 0.5 for z in zs) / 4000 - 0.5) < 0.03


def test_loss_matches_objective_and_is_invariant() -> None:
    p = Thomson(n=9, seed=2)
    r = random.Random(3)
    x = p.x0
    e = p.objective(x)
    assert p.loss(Tensor(x)).item() == pytest.approx(e, abs=1e-13)
    scaled = [v * (1 + (i // 3)) for i, v in enumerate(x)]  # each charge its own radius
    assert p.objective(scaled) == pytest.approx(e, abs=1e-12)
    assert p.loss(Tensor(scaled)).item() == pytest.approx(e, abs=1e-12)
    q = rotation_matrix(r)
    perm = list(range(9))
    r.shuffle(perm)
    assert p.objective(transformed(x, q, perm)) == pytest.approx(e, abs=1e-12)


def test_loss_agrees_with_numpy() -> None:
    import numpy as np

    p = Thomson(n=20)
    u = np.asarray(p.x0).reshape(20, 3)
    d = np.linalg.norm(u[:, None] - u[None], axis=2)
    expected = float(np.sum(1.0 / d[np.triu_indices(20, 1)]))
    assert p.objective(p.x0) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("n", [2, 3, 7, 12])
def test_autograd_closed_form_and_finite_differences(n: int) -> None:
    p = Thomson(n=n, seed=n)
    pts = p.check_points(6, seed=1)
    for k, x in enumerate(pts):
        report = three_way_check(p.loss, p.gradient, x)
        assert report.passed(1e-12, 1e-6), (n, k, report.autograd_vs_closed)
        assert p.autograd_gradient(x) == pytest.approx(p.gradient(x), rel=1e-12, abs=1e-12)
    # the check points include charges off the sphere and a close pair
    radii = [math.hypot(*pts[1][3 * i : 3 * i + 3]) for i in range(n)]
    assert max(abs(r - 1.0) for r in radii) > 0.1
    assert math.dist(pts[2][0:3], pts[2][3:6]) == pytest.approx(0.05, rel=0.01)


def test_gradient_is_tangent_and_scales_with_the_radius() -> None:
    p = Thomson(n=8, seed=3)
    x = p.x0
    g = p.gradient(x)
    for i in range(8):
        assert sum(a * b for a, b in zip(g[3 * i : 3 * i + 3], x[3 * i : 3 * i + 3])) == (
            pytest.approx(0.0, abs=1e-12)
        )
    doubled = [2.0 * v for v in x]
    assert p.gradient(doubled) == pytest.approx([v / 2.0 for v in g], rel=1e-12, abs=1e-13)


def test_cli_check_passes() -> None:
    result = CliRunner().invoke(app, ["check", "thomson", "--n", "7", "--json"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert len(doc["points"]) == 8 and all(pt["passed"] for pt in doc["points"])


# ---------------------------------------------------------------------------- reference


@pytest.mark.parametrize("n", [2, 3, 5, 8, 11, 12, 16])
def test_reference_reaches_the_table(n: int) -> None:
    p = Thomson(n=n)
    ref = p.reference()
    assert ref.method == "table of smallest known energies"
    assert ref.details["configuration_reaches_table"] is True
    assert abs(ref.loss - KNOWN_ENERGIES[n]) <= TABLE_TOL
    assert ref.loss == pytest.approx(p.objective(ref.x), abs=1e-12)
    assert ref.details["configuration_gradient_norm"] < 1e-10
    assert p.reference() is ref  # cached
    for i in range(n):
        assert math.hypot(*ref.x[3 * i : 3 * i + 3]) == pytest.approx(1.0, abs=1e-14)


def test_a_reference_from_the_larger_table() -> None:
    # N = 34 was beyond the first table (N <= 32): its reference was the best of 10
    # starts, which reached the published energy; now the table holds it (beyond the
    # table, N > 100: tests/test_bounded_work.py)
    p = Thomson(n=34)
    ref = p.reference()
    assert ref.method == "table of smallest known energies"
    assert ref.details["configuration_reaches_table"]
    assert ref.loss == pytest.approx(p.objective(ref.x), abs=1e-10)
    assert ref.loss == pytest.approx(468.904853281, abs=TABLE_TOL)


# ----------------------------------------------------------------------------- symmetry


@pytest.mark.parametrize("n", [2, 3, 4, 6, 12, 13, 20])
def test_alignment_undoes_rotations_reflections_and_relabelling(n: int) -> None:
    p = Thomson(n=n)
    ref = p.reference().x
    r = random.Random(n)
    for _ in range(3):
        q = rotation_matrix(r)
        perm = list(range(n))
        r.shuffle(perm)
        moved = transformed(ref, q, perm)
        assert math.dist(moved, ref) > 0.1 or n <= 3
        back = p.canonical(moved)
        assert math.dist(back, ref) < 1e-10
        assert p.objective(back) == pytest.approx(p.objective(ref), abs=1e-12)
        scaled = [v * (1 + 0.5 * (i // 3 % 2)) for i, v in enumerate(moved)]
        assert math.dist(p.canonical(scaled), ref) < 1e-10  # normalised first


def test_alignment_of_another_minimum_stays_far() -> None:
    # N = 16 has a local minimum (E = 92.9203...) besides the global one (92.9116...)
    p = Thomson(n=16, seed=1)
    res = p.solve("trust-ncg", restarts=1)  # seed 1's start ends there
    assert res.loss == pytest.approx(92.920353962, abs=1e-8)
    assert math.dist(res.x, p.reference().x) > 0.1
    assert p.assess(res.x)["distance"] > 0.1


def test_alignment_map_applies_to_any_configuration() -> None:
    u = EXACT[6]
    target = transformed(u, rotation_matrix(random.Random(1)), [3, 1, 0, 5, 4, 2])
    move = alignment(u, target)
    assert math.dist(move(u), target) < 1e-12
    with pytest.raises(InputError, match="cannot align 6 charges with 4"):
        alignment(u, EXACT[4])


def test_assess_measures_distance_modulo_symmetry() -> None:
    p = Thomson(n=12)
    moved = transformed(p.reference().x, rotation_matrix(random.Random(2)), list(range(12))[::-1])
    report = p.assess(moved)
    assert report["distance"] < 1e-10
    assert abs(report["gap"]) < 1e-12
    assert math.dist(report["aligned_solution"], p.reference().x) < 1e-10
    assert report["certificate"]["kind"] == "riemannian_gradient_norm"
    assert abs(report["certificate"]["gap_to_known"]) < TABLE_TOL


def test_baselines_are_aligned() -> None:
    p = Thomson(n=6)
    runs = p.baselines(["BFGS"], options={"BFGS": {"gtol": 1e-10}})
    assert runs[0].method == "BFGS"
    assert abs(runs[0].loss - KNOWN_ENERGIES[6]) < TABLE_TOL
    assert math.dist(runs[0].x, p.reference().x) < 1e-5


# ----------------------------------------------------------------------- options, files


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"n": 1}, "thomson: --n must be an integer >= 2, got 1"),
        ({"n": "ten"}, "--n must be an integer"),
        ({"restarts": 0}, "--restarts must be an integer >= 1, got 0"),
        ({"seed": "x"}, "--seed must be an integer"),
        ({"charges": 3}, "unknown option 'charges'"),
        ({"x0": [1.0, 0.0]}, "x0 has 2 coordinates but the problem has dimension 36"),
    ],
)
def test_bad_options(options: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError) as info:
        get_problem("thomson", **options)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_points_file(tmp_path: Path) -> None:
    f = tmp_path / "octahedron.csv"
    f.write_text("x,y,z\n2,0,0\n-1,0,0\n0,3,0\n0,-1,0\n0,0,1\n0,0,-5\n")
    p = get_problem("thomson", points=str(f))
    assert p.n == 6 and p.dim == 18 and p.settings["n"] == 6
    # --n says how many charges to generate: with a file it would be silently ignored
    with pytest.raises(
        InputError,
        match=r"--n applies to generated charges; it cannot be "
        r"used with --points .*octahedron.csv \(the file has 6 charges\)",
    ):
        get_problem("thomson", points=str(f), n=99)
    assert p.x0 == EXACT[6]
    assert p.objective(p.x0) == pytest.approx(KNOWN_ENERGIES[6], abs=1e-9)
    assert p.to_dict()["data"]["source"] == str(f)
    res = p.solve()
    assert res.loss == pytest.approx(KNOWN_ENERGIES[6], abs=1e-8)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1,0,0\n0,0,0\n", "row 2 is the origin"),
        ("1,0\n0,1\n", "points have 2 coordinates; this problem needs 3"),
        ("1,0,0\n", "1 point(s); this problem needs at least 2"),
        ("1,0,0,1\n0,1,0,1\n", "points have 4 coordinates"),
        ("x,y,z,w\n1,0,0,1\n0,1,0,1\n", "has a weight column"),
    ],
)
def test_bad_points_files(tmp_path: Path, text: str, words: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(InputError) as info:
        Thomson(points=f)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_normalise_scales_huge_and_subnormal_rows() -> None:
    # hypot overflows on the first (the row came out as zeros) and is a subnormal of a few
    # bits on the second (lengths off by 1e-4): both must come out of unit length
    rows = [1e308, 1e308, 1e308, 1e-320, 0.0, 1e-320, 5e-324, 0.0, 0.0, 0.0, -1e300, 1e307]
    u = normalise(rows)
    for i in range(0, len(u), 3):
        assert math.hypot(*u[i : i + 3]) == pytest.approx(1.0, abs=4e-16)
    assert u[:3] == pytest.approx([3**-0.5] * 3, rel=1e-15)
    assert u[3:6] == pytest.approx([2**-0.5, 0.0, 2**-0.5], rel=1e-15)
    assert u[6:9] == [1.0, 0.0, 0.0]
    # rows of ordinary size take the plain path, bit for bit
    assert normalise([3.0, 4.0, 12.0]) == [3.0 / 13.0, 4.0 / 13.0, 12.0 / 13.0]


def test_points_file_of_subnormal_and_huge_rows_solves(tmp_path: Path) -> None:
    # the sweep's tri_rtiny.csv: gd's manifold check refused the start (length 1.0001)
    f = tmp_path / "tiny.csv"
    f.write_text("x,y,z\n0,0,1e-320\n1e-320,0,1e-320\n0,1e-320,1e-320\n")
    p = Thomson(points=f)
    assert p.objective(p.x0) == pytest.approx(
        1.0 + 2.0 / math.sqrt(2.0 - math.sqrt(2.0)), rel=1e-14
    )
    res = p.solve(optimizer="gd")
    assert res.loss == pytest.approx(KNOWN_ENERGIES[3], abs=1e-8)
    g = tmp_path / "huge.csv"
    g.write_text("1e308,1e308,1e308\n-1e308,-1e308,-1e308\n")
    assert Thomson(points=g).x0 == pytest.approx([3**-0.5] * 3 + [-(3**-0.5)] * 3, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1,0,0\n1,0,0\n1,0,0\n", "rows 1 and 2 are the same charge"),
        ("0,1,0\n1,0,0\n2,0,0\n0,0,1\n", "rows 2 and 3 are the same charge"),
        # the sweep's tri_r_1e200.csv: rows 1e-199 apart once normalised, forces overflow
        (
            "x,y,range\n0,0,1e200\n10,0,1e200\n0,10,1e200\n10,10,1e200\n",
            "rows 1 and 2 are charges 1.0e-199 apart",
        ),
        ("0,0,1e308\n10,0,1e308\n0,10,1e308\n10,10,9\n", "rows 1 and 2 are charges 1.0e-307"),
    ],
)
def test_coincident_charges_are_refused(tmp_path: Path, text: str, words: str) -> None:
    f = tmp_path / "dup.csv"
    f.write_text(text)
    with pytest.raises(InputError) as info:
        Thomson(points=f)
    msg = str(info.value)
    assert msg.startswith(f"{f}: ") and words in msg, msg
    assert "remove one, or move it" in msg and "\n" not in msg


def test_the_separation_threshold(tmp_path: Path) -> None:
    f = tmp_path / "close.csv"
    f.write_text("0,0,1\n1e-11,0,1\n1,0,0\n")
    assert Thomson(points=f).n == 3
    f.write_text("0,0,1\n1e-13,0,1\n1,0,0\n")
    with pytest.raises(InputError, match=r"rows 1 and 2 are charges 1\.0e-13 apart .* closer "
                       r"than 1e-12: the same charge to rounding"):  # fmt: skip
        Thomson(points=f)


@pytest.mark.parametrize(
    "command",
    [
        ["check", "thomson"],
        ["solve", "thomson"],
        ["solve", "thomson", "--backend", "numpy"],
        ["compare", "thomson"],
    ],
)
def test_cli_refuses_coincident_charges_in_one_line(tmp_path: Path, command: list[str]) -> None:
    f = tmp_path / "dupcharge.csv"
    f.write_text("1,0,0\n1,0,0\n0,1,0\n0,0,1\n")
    result = CliRunner().invoke(app, [*command, "--points", str(f)])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "rows 1 and 2 are the same charge" in lines[0], result.stderr


def test_cli_refuses_a_coincident_x0() -> None:
    result = CliRunner().invoke(app, ["solve", "thomson", "--n", "2", "--x0", "1,0,0,2,0,0"])
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "geograd: error: thomson: --x0 charges 1 and 2 are the same charge (after normalising "
        "each to unit length), where the energy is infinite; remove one, or move it"
    ]
    with pytest.raises(InputError, match="x0 puts charge 2 at the origin"):
        Thomson(n=2, x0=[1.0, 0.0, 0.0, 0.0, 0.0, 0.0])


def test_energy_and_certificate_at_coincident_charges_are_infinite() -> None:
    # an optimizer that never leaves a start with a close pair, its answer rotated onto the
    # reference, has coincident charges: compare assessed it with a ZeroDivisionError
    p = Thomson(n=3)
    x = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert energy(x) == math.inf
    cert = p.certificate(x)
    assert cert["value"] == math.inf and cert["energy"] == math.inf
    with pytest.raises(InputError, match=r"charges 1 and 2 are 0\.0e\+00 apart"):
        p.gradient(x)


def test_to_dict_round_trip() -> None:
    p = Thomson(n=7, seed=3, restarts=2)
    d = json.loads(json.dumps(p.to_dict()))
    assert d["name"] == "thomson" and d["dim"] == 21 and d["data"]["known_energy"] == 14.452977414
    q = problem_from_dict(d)
    assert isinstance(q, Thomson)
    assert q.settings == p.settings and q.x0 == p.x0


# ------------------------------------------------------------------------------ drawing


def test_scene_without_path() -> None:
    p = Thomson(n=5)
    assert p.plot_xy(p.x0) is None
    assert p.has_scene is True
    assert p.plot_bounds() == pytest.approx((-1.1, 1.1, -1.1, 1.1))
    sx, sy, depth = p.project(p.x0)
    for a, b, c in zip(sx, sy, depth):
        assert a * a + b * b + c * c == pytest.approx(1.0)


def test_hull_edges_of_the_octahedron() -> None:
    edges = hull_edges(EXACT[6], (0.0, 0.0, 1.0))
    assert len(edges) == 12  # an octahedron has 12 edges
    # seen from +z: the 4 edges at the top vertex and the equator are visible (8),
    # the 4 edges at the bottom vertex hidden
    assert sum(v for _, _, v in edges) == 8
    assert all(not v for a, b, v in edges if 5 in (a, b))
    assert len(hull_edges(EXACT[2], (0.0, 0.0, 1.0))) == 1
    assert len(hull_edges(EXACT[3], (0.0, 0.0, 1.0))) == 3


def test_draw(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = Thomson(n=12)
    fig, ax = plt.subplots()
    try:
        base = p.draw(ax)
        assert len(base) == 5  # the disc, and each circle's near and far halves
        drawn = p.draw_estimate(ax, EXACT[12], color="C0", label="nag", linestyle="--")
        # 30 icosahedron edges, then far markers and near markers
        assert len(drawn) == 32
        front, back = drawn[-1], drawn[-2]
        assert front.get_label() == "nag" and back.get_label().startswith("_")
        assert len(front.get_xdata()) + len(back.get_xdata()) == 12
        assert back.get_markerfacecolor() == "none"
        styles = {a.get_linestyle() for a in drawn[:30]}
        assert styles == {"--", ":"}  # visible edges in the run's style, hidden ones dotted
        labelled = p.draw(ax, p.x0, label="start")
        assert any(a.get_label() == "start" for a in labelled)
        fig.savefig(tmp_path / "t.png")
        assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        plt.close(fig)


def test_cli_plot(tmp_path: Path) -> None:
    out = tmp_path / "thomson.png"
    result = CliRunner().invoke(app, ["solve", "thomson", "--n", "6", "--plot", str(out), "-q"])
    assert result.exit_code == 0, result.stdout
    assert out.read_bytes()[:4] == b"\x89PNG"
