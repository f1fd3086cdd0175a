"""The Tammes problem: closed-form optima reached by the default solve, gradients (autograd,
closed form, finite differences; the smoothed loss too), the reference table and its
absence beyond it, the match by the separation in degrees, canonical form, drawing, CLI."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from geograd import Tensor, value_and_grad
from geograd.check import three_way_check
from geograd.cli.app import app
from geograd.errors import InputError
from geograd.problems import ReferenceUnavailable, get_problem
from geograd.problems.known_optima import PROVEN_OPTIMAL_TAMMES, TAMMES_DEGREES
from geograd.problems.tammes import (
    MATCH_TOL_DEG,
    Tammes,
    cosines,
)
from geograd.problems.thomson import normalise

#: Closed-form optimal separations (degrees): tetrahedron, octahedron, icosahedron.
CLOSED_FORMS = {
    4: math.degrees(math.acos(-1.0 / 3.0)),  # 109.4712206...
    6: 90.0,
    12: math.degrees(math.atan(2.0)),  # 63.4349488...
}


def unit_vectors(x: list[float]) -> bool:
    return all(abs(math.hypot(*x[i : i + 3]) - 1.0) <= 1e-12 for i in range(0, len(x), 3))


# -------------------------------------------------------------------------- optima


@pytest.mark.parametrize("n", sorted(CLOSED_FORMS))
def test_default_solve_reaches_the_closed_form(n: int) -> None:
    p = Tammes(n=n)  # the default seed, one start: no restart needed for these
    result = p.solve()
    assert result.converged, result.message
    assert p.separation(result.x) == pytest.approx(CLOSED_FORMS[n], abs=MATCH_TOL_DEG)
    assert unit_vectors(list(result.x))
    # the table agrees with the closed form to its 7 decimals
    assert TAMMES_DEGREES[n] == pytest.approx(CLOSED_FORMS[n], abs=1e-7)
    judged = p.assess(result.x)
    assert judged["matches"] is True
    assert abs(judged["gap_deg"]) <= MATCH_TOL_DEG
    assert "degrees" in judged["match"]


def test_restarts_keep_the_largest_separation() -> None:
    one = Tammes(n=13).solve()
    more = Tammes(n=13, restarts=6).solve()  # seed 5: start 5 is the first to reach it
    separation = Tammes(n=13).separation
    assert separation(more.x) >= separation(one.x)
    assert TAMMES_DEGREES[13] - separation(more.x) <= MATCH_TOL_DEG
    assert TAMMES_DEGREES[13] - separation(one.x) > 0.1  # a local optimum


# ------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("n", [3, 5, 9])
def test_autograd_closed_form_and_finite_differences(n: int) -> None:
    p = Tammes(n=n, seed=n)
    pts = p.check_points(6, seed=1)
    for k, x in enumerate(pts):
        report = three_way_check(p.loss, p.gradient, x)
        assert report.passed(1e-12, 1e-6), (n, k, report.autograd_vs_closed)
    # the check points include points off the sphere (the normalisation's part)
    radii = [math.hypot(*pts[1][3 * i : 3 * i + 3]) for i in range(n)]
    assert max(abs(r - 1.0) for r in radii) > 0.1


@pytest.mark.parametrize("t", [1.0, 30.0, 1e3])
def test_smoothed_gradient_three_ways(t: float) -> None:
    p = Tammes(n=7, seed=2)
    for x in p.check_points(4, seed=3):
        report = three_way_check(
            lambda z: p.smoothed_loss(z, t), lambda z: p.smoothed_gradient(z, t), x
        )
        assert report.passed(1e-12, 1e-5), report.autograd_vs_closed


def test_gradient_is_tangent_and_the_loss_the_largest_cosine() -> None:
    p = Tammes(n=8, seed=3)
    x = p.x0
    g = p.gradient(x)
    for i in range(8):
        assert sum(a * b for a, b in zip(g[3 * i : 3 * i + 3], x[3 * i : 3 * i + 3])) == (
            pytest.approx(0.0, abs=1e-12)
        )
    value, _ = value_and_grad(p.loss)(Tensor(x))
    assert value.item() == pytest.approx(max(c for c, _, _ in cosines(x)), abs=1e-15)
    assert p.separation(x) == pytest.approx(math.degrees(math.acos(p.objective(x))), abs=1e-12)


def test_ties_share_the_gradient_evenly() -> None:
    p = Tammes(n=4)
    tetra = normalise([1, 1, 1, 1, -1, -1, -1, 1, -1, -1, -1, 1])
    assert len(p.contacts(tetra)) == 6
    # at the optimum every pair is closest: the mean of the six pair gradients is zero
    assert max(abs(v) for v in p.gradient(tetra)) <= 1e-15
    assert p.autograd_gradient(tetra) == pytest.approx(p.gradient(tetra), abs=1e-15)


# ------------------------------------------------------------------------- reference


def test_reference_is_the_table_with_provenance() -> None:
    p = Tammes(n=6)
    ref = p.reference()
    assert math.degrees(math.acos(ref.loss)) == pytest.approx(90.0, abs=1e-12)
    assert ref.details["table_deg"] == TAMMES_DEGREES[6]
    assert ref.details["proven_optimal"] is True
    assert ref.details["sources"] and all(isinstance(s, str) for s in ref.details["sources"])
    assert ref.details["configuration_reaches_table"] is True
    assert unit_vectors(ref.x)
    assert set(range(3, 15)) | {24} == set(PROVEN_OPTIMAL_TAMMES)
    assert set(range(3, 33)) <= set(TAMMES_DEGREES)


def test_beyond_the_table_the_reference_is_unavailable_and_says_why() -> None:
    p = Tammes(n=41)
    with pytest.raises(ReferenceUnavailable) as info:
        p.reference()
    text = str(info.value)
    assert "N=41 is beyond the published table" in text and "3..40" in text
    assert "\n" not in text
    cert = p.certificate(p.x0)
    assert cert["gap_deg"] is None and cert["optimal"] is None


def test_a_short_separation_is_not_a_match_and_not_optimal() -> None:
    p = Tammes(n=6)
    judged = p.assess(p.x0)
    assert judged["matches"] is False
    assert judged["gap_deg"] > 1.0 and "short of the published value" in judged["match"]
    assert judged["certificate"]["optimal"] is False
    assert judged["certificate"]["unique"] is False


# ---------------------------------------------------------------- symmetry, drawing


def test_canonical_form_puts_a_closest_pair_at_the_pole() -> None:
    p = Tammes(n=5, seed=1)
    x = [2.0 * v for v in p.x0]  # off the sphere: normalised by the map
    move = p.canonical_map(x)
    assert move is not None
    y = move(x)
    assert unit_vectors(y)
    assert p.separation(y) == pytest.approx(p.separation(x), abs=1e-10)
    _, a, b = max(cosines(y))
    assert y[3 * a : 3 * a + 3] == pytest.approx([0.0, 0.0, 1.0], abs=1e-12)
    assert y[3 * b + 1] == pytest.approx(0.0, abs=1e-12) and y[3 * b] > 0.0


def test_drawing_highlights_the_closest_pairs() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = Tammes(n=6)
    octa = normalise([1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1])
    fig, ax = plt.subplots()
    try:
        plain = p.draw(ax)
        drawn = p.draw_estimate(ax, octa, color="C0", label="octahedron")
        thick = [a for a in drawn if getattr(a, "get_linewidth", lambda: 0)() >= 1.4]
        assert plain and len(thick) >= 12  # the 12 edges of the octahedron, as arcs
        assert p.has_scene
    finally:
        plt.close(fig)


# ------------------------------------------------------------------------------ CLI


def test_cli_solve_reports_the_gap_in_degrees_and_a_match() -> None:
    result = CliRunner().invoke(app, ["solve", "tammes", "--n", "6", "--json"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["matches_reference"] is True
    assert "degrees" in doc["match"]
    cert = doc["certificate"]
    assert abs(cert["gap_deg"]) <= MATCH_TOL_DEG
    assert cert["separation_deg"] == pytest.approx(90.0, abs=MATCH_TOL_DEG)
    assert unit_vectors(doc["solution"])


def test_cli_check_passes() -> None:
    result = CliRunner().invoke(app, ["check", "tammes", "--n", "7"])
    assert result.exit_code == 0, result.stdout


@pytest.mark.parametrize("bad", ["2", "0"])
def test_cli_refuses_too_few_points_in_one_line(bad: str) -> None:
    result = CliRunner().invoke(app, ["solve", "tammes", "--n", bad])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--n must be an integer >= 3" in lines[0]


def test_cli_beyond_the_table_says_the_reference_is_unavailable() -> None:
    result = CliRunner().invoke(app, ["solve", "tammes", "--n", "41", "--steps", "2", "--json"])
    doc = json.loads(result.stdout)
    assert doc["reference"] is None and doc["matches_reference"] is None
    assert "beyond the published table" in doc["reference_error"]


def test_registered() -> None:
    p = get_problem("tammes", n=5)
    assert isinstance(p, Tammes) and p.dim == 15


@pytest.mark.parametrize(
    ("x0", "words"),
    [
        # two points the same: separation 0, and the same gradient on both parts nothing
        ([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], "--x0 points 1 and 2 are the same point"),
        ([1, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 1], "--x0 points 1 and 3 are the same point"),
        ([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], "--x0 puts point 1 at the origin"),
    ],
)
def test_a_degenerate_start_is_refused_in_one_line(x0: list[int], words: str) -> None:
    result = CliRunner().invoke(
        app, ["solve", "tammes", "--n", "4", "--x0", ",".join(map(str, x0))]
    )
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"geograd: error: tammes: {words}" in lines[0]
    with pytest.raises(InputError, match="tammes: x0 "):
        Tammes(n=4).solve(x0=x0)
