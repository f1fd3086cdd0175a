"""Result speaks scipy (fun, nit, nfev, njev, success, status, message, jac) and reloads
from what geograd wrote (Result.to_dict, and a `geograd solve --out` file); minimize
and the closure optimizers refuse a loss that no gradient links to x."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

import geograd.functional as F
from geograd import InputError, Result, Tensor, minimize
from geograd.optim import LBFGS, get_optimizer
from geograd.solve import REASONS, STATUS


def sq(x: Tensor) -> Tensor:
    return F.sum((x - 1.0) * (x - 1.0))


def test_the_scipy_names_are_the_results_own() -> None:
    r = minimize(sq, [3.0, -2.0], "gd")
    assert r.fun == r.loss and r.nit == r.steps and r.nfev == r.njev == r.evaluations
    assert r.success is r.converged is True and r.status == 0 and r.message
    assert r.jac == r.grad and len(r.jac) == 2  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "reason", "status"),
    [
        ({"max_steps": 1}, "max_steps", 1),  # scipy: the iteration limit
        ({"optimizer": "sgd", "lr": 0.0}, "stalled", 2),  # scipy's BFGS: precision loss
        ({"optimizer": "sgd", "lr": 1e300}, "diverged", 3),  # scipy: NaN met
    ],
)
def test_status_is_scipys_code_for_each_way_to_fail(
    kwargs: dict[str, object], reason: str, status: int
) -> None:
    r = minimize(sq, [3.0, -2.0], **kwargs)  # type: ignore[arg-type]
    assert r.reason == reason and r.status == status and not r.success


def test_every_failure_has_a_distinct_nonzero_status() -> None:
    failures = [x for x in REASONS if x not in ("gtol", "ftol", "xtol")]
    assert sorted(STATUS) == sorted(failures)
    assert len(set(STATUS.values())) == len(STATUS) and 0 not in STATUS.values()
    assert STATUS["interrupted"] == 99  # scipy: the callback stopped it


def test_a_solve_out_file_reloads_as_its_result(tmp_path: Path) -> None:
    from geograd.cli.app import app

    out = tmp_path / "run.json"
    done = CliRunner().invoke(app, ["solve", "median", "--n", "200", "--out", str(out)])
    assert done.exit_code == 0, done.output
    doc = json.loads(out.read_text())
    r = Result.from_dict(doc)
    assert r.x == doc["solution"] and r.fun == doc["loss"] and r.nit == doc["steps"]
    assert r.nfev == doc["evaluations"] and r.success is doc["converged"]
    assert r.best_x == doc["best"]["x"] and r.best_step == doc["best"]["step"]
    assert r.options == doc["settings"] and r.optimizer == doc["optimizer"]
    assert r.history["loss"] == doc["history"]["loss"]
    assert math.isclose(r.start_loss, doc["start_loss"])
    # a document that is not one run, or a solve document cut short, is named
    with pytest.raises(InputError, match=r"a geograd\.compare/1 document is not one run"):
        Result.from_dict({**doc, "format": "geograd.compare/1"})
    cut = {k: v for k, v in doc.items() if k != "best"}
    with pytest.raises(InputError, match=r"the solve document lacks best$"):
        Result.from_dict(cut)


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: F.sum(Tensor([3.0], requires_grad=True) ** 2),  # another tensor
        lambda x: Tensor(3.0),  # a constant
    ],
    ids=["other-tensor", "constant"],
)
def test_a_loss_that_does_not_depend_on_x_is_refused(fun: object) -> None:
    with pytest.raises(InputError, match="fun's result does not depend on x"):
        minimize(fun, [1.0, 2.0])  # type: ignore[arg-type]


def test_a_loss_that_depends_on_x_with_zero_gradient_still_converges() -> None:
    r = minimize(lambda x: F.sum(x * 0.0), [1.0, 2.0])
    assert r.converged and r.steps == 0 and r.x == [1.0, 2.0]


def rosen(x: Tensor) -> Tensor:
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


@pytest.mark.parametrize("name", ["lbfgs", "gd"])
def test_a_closure_without_backward_is_refused_not_a_silent_zero_step(name: str) -> None:
    x = Tensor([-1.2, 1.0], requires_grad=True)
    opt = LBFGS([x]) if name == "lbfgs" else get_optimizer(name)([x], lr=0.1)
    with pytest.raises(InputError, match=r"the closure left no gradient.*loss\.backward"):
        opt.step(lambda: rosen(x))
    assert x.tolist() == [-1.2, 1.0]

    def closure() -> Tensor:
        opt.zero_grad()
        loss = rosen(x)
        loss.backward()
        return loss

    opt.step(closure)  # the protocol: it steps
    assert rosen(x).item() < 24.2
