"""Honest reports: exit codes that mean something, settings never hidden, true timings.

Exit codes of ``geograd solve``: 0 converged (and matching the reference where there
is one); 1 a finding (diverged, not converged, not matching, worse than the start),
named in the summary, the JSON and one line on stderr; 130 interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from geograd.cli.app import app

runner = CliRunner()


def solve_json(*args: str) -> tuple[int, dict[str, Any], str]:
    result = runner.invoke(app, ["solve", *args, "--json"])
    return result.exit_code, json.loads(result.stdout), result.stderr


# --------------------------------------------------------------------------- exit codes


def test_a_converged_matching_solve_exits_0_and_says_so() -> None:
    result = runner.invoke(app, ["solve", "median", "--n", "200"])
    assert result.exit_code == 0, result.stderr
    assert "ok: converged and matches the reference (exit 0)" in result.stdout
    assert result.stderr == ""


def test_a_solve_that_ends_worse_than_it_started_exits_1_and_names_the_best_iterate() -> None:
    args = ["median", "--optimizer", "sgd", "--lr", "100", "--schedule", "none"]
    code, doc, stderr = solve_json(*args)
    assert code == 1 and doc["exit_code"] == 1
    assert any("worse than it started" in f for f in doc["findings"])
    assert doc["loss"] > doc["start_loss"]
    # The best iterate is kept, and it is the start.
    assert doc["best"]["step"] == 0 and doc["best"]["x"] == doc["x0"]
    assert stderr.startswith("geograd: finding: ") and "worse than it started" in stderr
    summary = runner.invoke(app, ["solve", *args])
    assert summary.exit_code == 1
    assert "best iterate" in summary.stdout and "not the last iterate" in summary.stdout
    assert "FINDING" in summary.stdout


def test_a_solve_stopped_at_max_steps_exits_1() -> None:
    code, doc, stderr = solve_json("median", "--n", "200", "--steps", "2")
    assert doc["reason"] == "max_steps" and not doc["converged"]
    assert code == 1 and "not converged (max steps)" in doc["findings"]
    assert "not converged" in stderr


def test_quiet_keeps_the_exit_code_but_prints_nothing() -> None:
    result = runner.invoke(app, ["solve", "median", "--n", "200", "--steps", "2", "-q"])
    assert result.exit_code == 1
    assert result.stdout == "" and result.stderr == ""


def test_help_and_readme_document_the_exit_codes() -> None:
    from pathlib import Path

    top = runner.invoke(app, ["--help"])
    assert "1 finding" in " ".join(top.stdout.split())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "does not match the reference" in readme and "worse than it started" in readme


# ------------------------------------------------------------------------ hidden settings


def test_settings_the_user_did_not_choose_are_printed_as_the_problems() -> None:
    _, doc, _ = solve_json("median", "--n", "200", "--optimizer", "adam", "--lr", "0.004")
    assert sorted(doc["chosen_by_user"]) == ["lr", "optimizer"]
    # The schedule the problem adds is described by what it does over the run.
    schedule = doc["settings"]["schedule"]
    assert schedule.startswith("Exponential(gamma=") and "lr x1e-06 by step" in schedule
    result = runner.invoke(app, ["solve", "median", "--n", "200", "--optimizer", "adam",
                                 "--lr", "0.004"])  # fmt: skip
    text = " ".join(result.stdout.split())
    assert "yours: optimizer=adam, lr=0.004" in text
    assert "chosen by the problem:" in text and "schedule=Exponential(" in text


def test_adamw_shows_the_weight_decay_the_problem_chose() -> None:
    result = runner.invoke(app, ["solve", "median", "--n", "200", "--optimizer", "adamw"])
    text = " ".join(result.stdout.split())
    chosen = text.split("chosen by the problem:", 1)[1]
    assert "weight_decay=0" in chosen


def test_a_user_schedule_is_printed_with_its_factor_over_the_run() -> None:
    _, doc, _ = solve_json("median", "--n", "200", "--optimizer", "adam", "--schedule",
                           "exponential", "--steps", "300")  # fmt: skip
    assert "schedule" in doc["chosen_by_user"]
    assert "lr x0.001 by step 300" in doc["settings"]["schedule"]


def test_solve_help_shows_the_problems_defaults() -> None:
    result = runner.invoke(app, ["solve", "median", "--help"])
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "default: gd, the problem's choice" in text
    assert "default for gd: 1000" in text  # --steps
    assert "the problem's choice" in text and "tuned by the problem" not in text
    thomson = runner.invoke(app, ["solve", "thomson", "--help"])
    assert "Exponential(" in " ".join(thomson.stdout.replace("│", " ").split()) or (
        "default for" in thomson.stdout
    )


# ------------------------------------------------------------------------------ timings


def test_timings_are_each_what_they_say_and_the_total_is_the_wait() -> None:
    _, doc, _ = solve_json("median", "--n", "300")
    t = doc["timing"]
    assert t["total_s"] >= t["solve_s"] and t["total_s"] >= t["setup_s"]
    assert t["reference_s"] is not None and t["reference_when"] == "after the solve"
    assert "reference_import_s" in t
    # The parts fit inside the whole.
    assert t["solve_s"] + t["setup_s"] + t["reference_s"] <= t["total_s"]


# --------------------------------------------------------------- what the summary names


def test_the_certificate_names_the_vertex_the_json_names() -> None:
    _, doc, _ = solve_json("fermat", "--case", "vertex")
    cert = doc["certificate"]
    assert cert["kind"] == "vertex" and cert["index"] == 1
    out = runner.invoke(app, ["solve", "fermat", "--case", "vertex"]).stdout
    assert "vertex B (index 1): optimal" in out and "vertex 0" not in out


def test_a_weighted_median_at_its_third_point_is_named_as_the_third(tmp_path: Path) -> None:
    f = tmp_path / "three.csv"
    f.write_text("x,y,w\n0,0,1\n1,0,1\n5,5,5\n")
    _, doc, _ = solve_json("median", "--points", str(f))
    assert doc["certificate"]["index"] == 2 and doc["certificate"]["optimal"] is True
    out = runner.invoke(app, ["solve", "median", "--points", str(f)]).stdout
    assert "data point 3 (index 2): optimal" in out and "data point 0" not in out
    # The data line says where the data and the weights came from, not the generator's.
    text = " ".join(out.split())
    assert f"3 points in R^2 from {f}" in text and "weights from the file" in text
    assert "seed" not in text.split("solution")[0] and "weights=equal" not in text


def test_generator_flags_with_a_file_are_refused(tmp_path: Path) -> None:
    f = tmp_path / "two.csv"
    f.write_text("x,y\n0,0\n2,0\n")
    result = runner.invoke(app, ["solve", "median", "--points", str(f), "--n", "5"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "--n applies to generated points" in result.stderr


def test_the_median_of_two_points_matches_though_the_optimum_is_a_segment(tmp_path: Path) -> None:
    f = tmp_path / "two.csv"
    f.write_text("x,y\n0,0\n2,0\n")
    code, doc, _ = solve_json("median", "--points", str(f), "--x0", "1.5,0")
    assert doc["certificate"]["unique"] is False
    assert doc["distance"] > 0.1 and abs(doc["gap"]) <= 1e-12
    assert doc["matches_reference"] is True and code == 0
    assert "not unique" in doc["match"]


def test_solutions_are_named_and_angles_in_the_unit_asked() -> None:
    _, doc, _ = solve_json("registration", "--angle", "30")
    angle = doc["components"][0]
    assert angle["name"] == "angle" and angle["unit"] == "deg"
    assert abs(angle["value"] - 30) < 1  # degrees, as asked (0.52 would be radians)
    out = " ".join(runner.invoke(app, ["solve", "registration", "--angle", "30"]).stdout.split())
    assert "angle=29." in out and "deg" in out
    circle = runner.invoke(app, ["solve", "circle-fit"]).stdout
    assert "centre x=" in circle and "centre y=" in circle and "radius=" in circle


def test_a_reference_computed_before_the_solve_is_reported_so() -> None:
    _, doc, _ = solve_json("thomson", "--n", "12")
    t = doc["timing"]
    assert t["reference_when"] == "before the solve"
    assert t["reference_s"] is not None and t["reference_s"] > 0


def test_a_stall_at_a_kink_the_certificate_proves_optimal_is_not_a_finding(
    tmp_path: Path,
) -> None:
    f = tmp_path / "three.csv"
    f.write_text("x,y,w\n0,0,1\n1,0,1\n5,5,5\n")
    code, doc, _ = solve_json("median", "--points", str(f))
    assert doc["certificate"]["optimal"] is True
    if doc["reason"] == "stalled":
        assert code == 0 and doc["findings"] == []
        assert "certificate proves optimal" in doc["verdict_note"]
    else:
        assert doc["converged"] and code == 0


def test_the_stall_advice_at_a_proven_point_is_said_to_be_moot(tmp_path: Path) -> None:
    f = tmp_path / "dominant.csv"
    f.write_text("x,y,w\n0,0,1\n1,0,1\n5,5,10\n")  # the heavy point is the median
    code, doc, _ = solve_json("median", "--points", str(f))
    assert code == 0 and doc["reason"] == "stalled" and doc["certificate"]["optimal"] is True
    table = " ".join(runner.invoke(app, ["solve", "median", "--points", str(f)]).stdout.split())
    assert "Stalled after" in table
    assert "No change is needed: the certificate's exact test proves this point optimal" in table
    # a run that converged carries no such note
    plain = " ".join(runner.invoke(app, ["solve", "median", "--n", "50"]).stdout.split())
    assert "No change is needed" not in plain
