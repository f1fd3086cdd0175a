"""minimize() that just works: the default method, a learning rate chosen by minimize when
none is given, one clear error for an unknown keyword, and Result.jac / Result.options."""

from __future__ import annotations

import json
import math
import random

import pytest

from geograd import InputError, Result, Tensor, minimize, solve
from geograd.optim import Adam

RNG = random.Random(0)
POINTS = [(2.0 + RNG.gauss(0, 0.3), RNG.gauss(0, 0.3)) for _ in range(50)]
CENTROID = [sum(p[0] for p in POINTS) / 50, sum(p[1] for p in POINTS) / 50]


def centroid(x: Tensor) -> Tensor:
    """Mean squared distance to 50 points about two units from the origin."""
    total = None
    for px, py in POINTS:
        dx, dy = x[0] - px, x[1] - py
        t = dx * dx + dy * dy
        total = t if total is None else total + t
    assert total is not None
    return total * (1.0 / len(POINTS))


def rosenbrock(x: Tensor) -> Tensor:
    a, b = x[0], x[1]
    return (1.0 - a) * (1.0 - a) + 100.0 * ((b - a * a) * (b - a * a))


def square(x: Tensor) -> Tensor:
    return (x - 2.0) * (x - 2.0)


# ------------------------------------------------------------------ the default method


def test_the_default_converges_on_the_centroid_two_units_away() -> None:
    r = minimize(centroid, [0.0, 0.0])
    assert r.reason == "gtol" and r.converged
    assert r.x == pytest.approx(CENTROID, abs=1e-9)
    assert r.steps <= 5 and r.evaluations <= 8  # measured: 2 steps, 4 evaluations
    assert r.optimizer == "lbfgs"
    assert {k: r.options[k] for k in solve.DEFAULT_OPTIONS} == solve.DEFAULT_OPTIONS


def test_the_default_converges_on_rosenbrock() -> None:
    """max_eval=26 leaves the line search its trials (torch's max_eval for max_iter=1, 1,
    stalls at the first step)."""
    r = minimize(rosenbrock, [-1.2, 1.0])
    assert r.reason == "gtol" and r.x == pytest.approx([1.0, 1.0], abs=1e-8)
    assert r.steps <= 60  # measured: 38 steps, 48 evaluations


def test_one_default_step_is_one_lbfgs_iteration() -> None:
    seen: list[int] = []
    r = minimize(rosenbrock, [-1.2, 1.0], callback=lambda p: seen.append(p.step) and None)
    assert r.converged and r.options["max_iter"] == 1
    assert seen == list(range(1, r.steps + 1))
    assert r.history["step"] == list(range(r.steps + 1))


def test_keywords_replace_single_default_options() -> None:
    r = minimize(centroid, [0.0, 0.0], history_size=3)
    assert r.options["history_size"] == 3
    assert r.options["line_search_fn"] == "strong_wolfe" and r.options["max_iter"] == 1


def test_lbfgs_by_name_keeps_torch_s_defaults() -> None:
    r = minimize(centroid, [0.0, 0.0], "lbfgs")
    assert r.options["max_iter"] == 20 and r.options["max_eval"] == 25
    assert r.options["line_search_fn"] is None and r.options["tolerance_grad"] == 1e-7


def test_clip_norm_with_the_default_names_a_method_that_takes_one() -> None:
    with pytest.raises(InputError, match=r"minimize's default.*'adam'"):
        minimize(square, 1.0, clip_norm=1.0)


def test_when_the_default_runs_out_of_steps_the_advice_names_a_second_order_method() -> None:
    r = minimize(rosenbrock, [-1.2, 1.0], max_steps=5)
    assert r.reason == "max_steps"
    assert "trust-ncg" in r.message and "newton" in r.message and "L-BFGS" in r.message
    # ... and only when the run went that way: a steady rate gets "raise max_steps" alone
    steady = minimize(rosenbrock, [-1.2, 1.0], max_steps=20)
    assert "raise max_steps to about" in steady.message and "newton" not in steady.message


# ------------------------------------------------------- a learning rate chosen by minimize


def test_adam_without_lr_gets_a_tenth_of_x0_s_size() -> None:
    r = minimize(square, 5.0, "adam")
    assert r.options["lr"] == pytest.approx(0.5)
    assert r.converged and r.x == pytest.approx(2.0, abs=1e-8)
    assert "lr = 0.5 was chosen by minimize" in r.message
    small = minimize(
        lambda x: square(x).sum(), [0.25, -0.5], Adam, max_steps=0
    )  # a class, and |x0| < 1
    assert small.options["lr"] == pytest.approx(0.1)


def test_sgd_without_lr_moves_the_first_step_a_tenth_of_x0_s_size() -> None:
    x0 = [3.0, 4.0]  # ‖x0‖ = 5: the first step moves x by 0.5
    r = minimize(lambda x: (x * x).sum() * 7.0, x0, "sgd", max_steps=1, gtol=None)
    first = r.history["x"][1]
    assert math.dist(first, x0) == pytest.approx(0.5, rel=1e-12)
    assert r.options["lr"] == pytest.approx(0.5 / (14.0 * 5.0))
    assert "chosen by minimize" in r.message


def test_the_chosen_lr_does_not_depend_on_the_units_of_x() -> None:
    """The same problem in millimetres instead of metres takes the same steps."""
    metres = minimize(square, 5.0, "adam")
    mm = minimize(lambda x: square(x * 0.001), 5000.0, "adam", gtol=metres.grad_norm * 1e-3)
    assert mm.options["lr"] == pytest.approx(1000 * metres.options["lr"])
    assert abs(mm.steps - metres.steps) <= 2


def test_sgd_at_a_zero_gradient_takes_the_adam_type_value() -> None:
    r = minimize(square, 2.0, "sgd", gtol=None, max_steps=1)
    assert r.options["lr"] == pytest.approx(0.2)
    assert "∇f(x0) = 0" in r.message


def test_an_explicit_lr_is_used_as_it_is() -> None:
    r = minimize(square, 5.0, "adam", lr=0.01, max_steps=30, gtol=None)
    x = Tensor(5.0, requires_grad=True)
    opt = Adam([x], lr=0.01)
    for _ in range(30):
        opt.zero_grad()
        square(x).backward()
        opt.step()
    assert r.x == x.item() and r.options["lr"] == 0.01
    assert "chosen" not in r.message


def test_an_instance_and_line_searches_keep_their_lr() -> None:
    x = Tensor(5.0, requires_grad=True)
    r = minimize(square, x, Adam([x]), max_steps=3)
    assert r.options["lr"] == 1e-3 and "chosen" not in r.message
    gd = minimize(square, 5.0, "gd", max_steps=3)
    assert gd.options["lr"] == 1.0 and "chosen" not in gd.message


def test_a_schedule_scales_the_chosen_lr() -> None:
    r = minimize(square, 5.0, "adam", schedule=lambda k: 0.5, max_steps=2, gtol=None)
    assert r.options["lr"] == pytest.approx(0.25)
    assert r.history["lr"][0] == pytest.approx(0.25)


# ------------------------------------------------------------------- unknown keywords


def test_jac_is_refused_with_one_clear_error() -> None:
    with pytest.raises(InputError) as info:
        minimize(square, 1.0, jac=True)
    text = str(info.value)
    assert "unknown keyword 'jac'" in text and "autograd" in text
    assert "max_steps" in text and "history_size" in text  # minimize's and lbfgs's own
    with pytest.raises(InputError, match=r"unknown keyword 'jac'.*'adam'.*betas"):
        minimize(square, 1.0, "adam", jac=True)


def test_scipy_names_get_their_equivalent() -> None:
    with pytest.raises(InputError, match="'maxiter' \\(use max_steps\\)"):
        minimize(square, 1.0, maxiter=5)
    with pytest.raises(InputError, match="'method' \\(name the method as optimizer="):
        minimize(square, 1.0, method="BFGS")


def test_a_typo_gets_the_closest_name() -> None:
    with pytest.raises(InputError, match="'max_step' \\(did you mean 'max_steps'\\?\\)"):
        minimize(square, 1.0, max_step=5)
    with pytest.raises(InputError, match="did you mean 'tolerance_grad'"):
        minimize(square, 1.0, tolerance_grd=0.0)
    with pytest.raises(InputError, match=r"unknown keywords 'jac'.*; 'foo'"):
        minimize(square, 1.0, "sgd", jac=True, foo=1)


def test_an_instance_with_an_unknown_keyword() -> None:
    x = Tensor(1.0, requires_grad=True)
    with pytest.raises(InputError, match="unknown keyword 'jac'"):
        minimize(square, x, Adam([x]), jac=True)


# ------------------------------------------------------------------ Result.jac, options


def test_jac_is_the_gradient_at_the_final_x() -> None:
    r = minimize(centroid, [0.0, 0.0], "adam", lr=0.1, max_steps=7, gtol=None)
    a, b = r.x  # type: ignore[misc]
    want = [
        sum(2.0 * (a - px) for px, _ in POINTS) / 50,
        sum(2.0 * (b - py) for _, py in POINTS) / 50,
    ]
    assert r.jac == pytest.approx(want, rel=1e-12)
    assert r.grad == r.jac and math.hypot(*r.jac) == pytest.approx(r.grad_norm)  # type: ignore[misc]
    scalar = minimize(square, 5.0, "sgd", lr=0.1, max_steps=3, gtol=None)
    assert isinstance(scalar.jac, float)
    assert scalar.jac == pytest.approx(2.0 * (scalar.x - 2.0))  # type: ignore[operator]


def test_a_loss_that_ignores_x_is_refused_not_converged_with_a_zero_jac() -> None:
    """(It used to converge after 0 steps with jac [0, 0]: a typo's silent success.)"""
    with pytest.raises(InputError, match="does not depend on x"):
        minimize(lambda x: Tensor(3.0, requires_grad=True) * 1.0, [1.0, 2.0], "sgd", lr=0.1)


def test_jac_and_options_survive_to_dict_and_from_dict() -> None:
    r = minimize(centroid, [0.0, 0.0])
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["grad"] == r.jac and d["options"] == r.options
    back = Result.from_dict(d)
    assert back.jac == r.jac and back.options == r.options
    old = {k: v for k, v in d.items() if k not in ("grad", "options")}  # written before
    assert Result.from_dict(old).jac is None and Result.from_dict(old).options == {}
    jac = r.jac
    assert isinstance(jac, list)
    jac[0] = 99.0  # a copy
    assert r.jac != jac
