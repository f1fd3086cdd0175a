"""``geograd check`` on a problem whose parameter lives on a manifold: the Riemannian
gradient check and the retraction check join the three-way check, and fail it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from geograd.cli.app import app
from geograd.manifolds import Spheres

runner = CliRunner()


def check(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["check", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_thomson_is_checked_on_its_spheres() -> None:
    code, doc = check("thomson", "--n", "5", "--count", "4")
    assert code == 0 and doc["passed"]
    riemannian = doc["riemannian"]
    assert riemannian["manifold"] == "spheres(5,3)" and riemannian["passed"]
    assert len(riemannian["gradient"]) == 4 and len(riemannian["retraction"]) == 4
    for row in riemannian["gradient"]:
        assert row["passed"] and abs(row["slope"] - 2.0) < 0.1 and row["tangent_residual"] < 1e-12
    for row in riemannian["retraction"]:
        assert row["passed"] and row["slope"] > 1.8


def test_a_problem_without_a_manifold_has_no_riemannian_block() -> None:
    code, doc = check("median", "--n", "50", "--count", "2")
    assert code == 0 and "riemannian" not in doc


def test_a_wrong_retraction_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # a "retraction" that steps along the tangent and never returns to the spheres' first
    # order: R_x(t u) = normalise(x + 2 t u) -- the curve leaves x at twice the speed
    good = Spheres.retr

    def wrong(self: Spheres, x: Any, u: Any) -> Any:
        return good(self, x, u * 2.0)

    monkeypatch.setattr(Spheres, "retr", wrong)
    code, doc = check("thomson", "--n", "4", "--count", "2")
    assert code == 1 and not doc["passed"]
    assert not doc["riemannian"]["passed"]
    assert all(not row["passed"] for row in doc["riemannian"]["retraction"])
