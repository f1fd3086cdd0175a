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


# --------------------------------------------- a plugin problem on a manifold, no CLI change


def direction_class() -> Any:
    """A plugin Problem: the unit vector of R^3 nearest to a, the minimiser of -<u, a>
    over the sphere, with its parameter declared on the sphere."""
    import math
    from collections.abc import Sequence

    import geograd.functional as F
    from geograd import Tensor
    from geograd.manifolds import Sphere
    from geograd.problems import Option, Problem, Reference

    class Direction(Problem):
        name = "direction"
        description = "the unit vector nearest to a (a plugin on the sphere)"
        options = (Option("tilt", float, 0.3, "a's z component, before normalising"),)

        def setup(self) -> None:
            a = [1.0, 2.0, self.settings["tilt"]]
            self.a = [v / math.hypot(*a) for v in a]

        @property
        def dim(self) -> int:
            return 3

        def default_x0(self) -> list[float]:
            return [0.0, 0.0, 1.0]

        def loss(self, x: Tensor) -> Tensor:
            return -F.dot(x, Tensor(self.a))

        def gradient(self, x: Sequence[float]) -> list[float]:
            return [-v for v in self.a]

        def compute_reference(self) -> Reference:
            return Reference(list(self.a), -1.0, "closed form")

        def manifold(self) -> Any:
            return Sphere(3)

        def solver_defaults(
            self, optimizer: str | None = None, max_steps: int | None = None
        ) -> dict[str, Any]:
            return {"optimizer": optimizer or "sgd", "lr": 0.5, "max_steps": max_steps or 500,
                    "gtol": 1e-10}  # fmt: skip

    return Direction


@pytest.fixture
def direction() -> Any:
    from geograd.problems import register_problem, unregister_problem

    cls = direction_class()
    register_problem(cls)
    yield cls
    unregister_problem(cls.name)


def test_a_plugin_on_a_manifold_gets_solve_check_compare_and_plots(
    direction: Any, tmp_path: Any
) -> None:
    result = runner.invoke(app, ["solve", "direction", "--json"])
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["matches_reference"] and abs(sum(v * v for v in doc["solution"]) - 1.0) < 1e-12
    code, checked = check("direction", "--count", "3")
    assert code == 0 and checked["riemannian"]["manifold"] == "sphere(3)"
    compared = runner.invoke(
        app, ["compare", "direction", "--optimizers", "sgd,adam", "--baselines", "none", "--json"]
    )
    assert compared.exit_code == 0, compared.stdout
    runs = json.loads(compared.stdout)["runs"]
    assert {r["method"] for r in runs} >= {"sgd", "adam"}
    picture = tmp_path / "direction.png"
    drawn = runner.invoke(app, ["solve", "direction", "--plot", str(picture), "-q"])
    assert drawn.exit_code == 0 and picture.stat().st_size > 0
