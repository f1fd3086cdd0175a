"""Optimizer arguments: one validation for constructor and load_state_dict; no silent divergence.

- every option is checked by the optimizer's one ``_check_group``, whether it comes
  from the constructor or from ``load_state_dict`` (numbers finite and not bools,
  flags bools);
- the state a state dict brings is checked against the optimizer's declared kinds;
- a step that would make a parameter or its state infinite or NaN is refused with
  a DivergenceError (a DomainError, which ``minimize`` reports as ``diverged``)
  before anything is written.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

import geograd.functional as F
from geograd import DomainError, InputError, Tensor, errors, minimize
from geograd.optim import (
    NAG,
    SGD,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    GradientDescent,
    Momentum,
    Optimizer,
    RMSprop,
)

nan, inf = math.nan, math.inf

STEPPERS: list[tuple[type[Optimizer], dict[str, Any]]] = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (Momentum, {"lr": 0.1}),
    (NAG, {"lr": 0.1}),
    (Adam, {"lr": 0.1}),
    (Adam, {"lr": 0.1, "amsgrad": True}),
    (AdamW, {"lr": 0.1}),
    (Adamax, {"lr": 0.1}),
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True}),
    (Adagrad, {"lr": 0.1}),
]
IDS = [f"{c.__name__}-{o}" for c, o in STEPPERS]


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD([p], lr=True),
        lambda p: SGD([p], lr=0.1, momentum=inf),
        lambda p: SGD([p], lr=0.1, momentum=0.9, nesterov=1),
        lambda p: SGD([p], lr=0.1, dampening=nan),
        lambda p: SGD([p], lr=inf),
        lambda p: SGD([{"params": [p], "lr": False}]),
        lambda p: Adam([p], weight_decay=inf),
        lambda p: Adam([p], eps=inf),
        lambda p: Adam([p], amsgrad="yes"),
        lambda p: RMSprop([p], centered=1),
        lambda p: Adagrad([p], weight_decay=inf),
        lambda p: GradientDescent([p], grow=inf),
        lambda p: GradientDescent([p], max_backtracks=2.5),
        lambda p: GradientDescent([p], lr=True),
    ],
)
def test_bools_and_non_finite_numbers_are_not_options(make: Any) -> None:
    with pytest.raises(InputError):
        make(Tensor([1.0, 2.0], requires_grad=True))


def stepped(cls: type[Optimizer], options: dict[str, Any]) -> tuple[Optimizer, Tensor]:
    p = Tensor([1.0, -2.0], requires_grad=True)
    opt = cls([p], **options)
    for _ in range(2):
        opt.zero_grad()
        F.sum(p * p).backward()
        opt.step()
    return opt, p


def bad_options(cls: type[Optimizer]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"lr": nan}, {"lr": True}, {"lr": -1.0}, {"lr": "0.1"}]
    out += [{"initial_lr": inf}, {"maximize": "no"}]
    if cls in (Adam, AdamW, Adamax):
        out += [{"betas": [0.9, 1.5]}, {"betas": 0.9}, {"eps": nan}]
    if cls in (SGD, Momentum, NAG):
        out += [{"momentum": nan}, {"nesterov": 1}]
    return out


@pytest.mark.parametrize(("cls", "options"), STEPPERS, ids=IDS)
def test_load_state_dict_validates_options_as_the_constructor_does(
    cls: type[Optimizer], options: dict[str, Any]
) -> None:
    opt, _ = stepped(cls, options)
    good = json.loads(json.dumps(opt.state_dict()))
    groups_before = copy.deepcopy([{k: v for k, v in g.items() if k != "params"}
                                   for g in opt.param_groups])  # fmt: skip
    for bad in bad_options(cls):
        sd = copy.deepcopy(good)
        sd["param_groups"][0].update(bad)
        with pytest.raises(InputError, match="parameter group 0"):
            opt.load_state_dict(sd)
        # nothing was replaced
        assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == (
            groups_before
        )
    opt.load_state_dict(good)  # the good one still loads


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda s: s.update(exp_avg="garbage"), "'exp_avg' must be a list of 2"),
        (lambda s: s.update(exp_avg=[1.0, nan]), "'exp_avg' must be a list of 2 finite"),
        (lambda s: s.update(exp_avg=[1.0, True]), "'exp_avg'"),
        (lambda s: s.update(exp_avg_sq=[1.0, -1.0]), ">= 0"),
        (lambda s: s.update(exp_avg_sq=[1.0, inf]), "finite numbers >= 0"),
        (lambda s: s.update(step="x"), "'step' must be an integer"),
        (lambda s: s.update(step=-1), "'step' must be an integer >= 0"),
        (lambda s: s.update(step=True), "'step'"),
        (lambda s: s.update(extra=1), "unknown entry 'extra'"),
        (lambda s: s.pop("exp_avg_sq"), "lacks 'exp_avg_sq'"),
    ],
)
def test_load_state_dict_rejects_bad_state(change: Any, pattern: str) -> None:
    opt, p = stepped(Adam, {"lr": 0.1})
    sd = json.loads(json.dumps(opt.state_dict()))
    before = json.dumps(opt.state_dict())
    change(sd["state"]["0"])
    with pytest.raises(InputError, match=pattern):
        opt.load_state_dict(sd)
    assert json.dumps(opt.state_dict()) == before
    # and so a later step is never the first to notice
    opt.zero_grad()
    F.sum(p * p).backward()
    opt.step()


def test_load_state_dict_rejects_a_malformed_dict() -> None:
    opt, _ = stepped(SGD, {"lr": 0.1, "momentum": 0.9})
    good = json.loads(json.dumps(opt.state_dict()))
    for mutate in (
        lambda sd: sd.update(state=[1, 2]),
        lambda sd: sd.update(param_groups=[5]),
        lambda sd: sd["param_groups"][0].update(params="0"),
        lambda sd: sd["param_groups"][0].update(params=["zero"]),
        lambda sd: sd["state"].update({"0": 3.0}),
        lambda sd: sd["state"]["0"].update(momentum_buffer=[1.0, 2.0, 3.0]),
        lambda sd: sd["state"]["0"].update(momentum_buffer=1.0),
    ):
        sd = copy.deepcopy(good)
        mutate(sd)
        with pytest.raises(InputError):
            opt.load_state_dict(sd)


def test_a_plugins_own_state_is_kept_but_must_be_finite() -> None:
    class Counting(SGD):
        state_kinds = None  # a plugin that declares nothing

        def update(self, param: Any, grad: Any, state: dict[str, Any], group: Any) -> Any:
            state["n"] = state.get("n", 0) + 1
            return super().update(param, grad, state, group)

    opt, _ = stepped(Counting, {"lr": 0.1})
    sd = json.loads(json.dumps(opt.state_dict()))
    assert sd["state"]["0"] == {"n": 2}
    opt.load_state_dict(sd)
    sd["state"]["0"]["n"] = nan
    with pytest.raises(InputError, match="'n' must be finite"):
        opt.load_state_dict(sd)


# ---------------------------------------------------------------------- refused updates


@pytest.mark.parametrize(("cls", "options"), STEPPERS, ids=IDS)
def test_an_infinite_gradient_is_refused_and_changes_nothing(
    cls: type[Optimizer], options: dict[str, Any]
) -> None:
    opt, p = stepped(cls, options)
    q = Tensor([3.0], requires_grad=True)
    opt.add_param_group({"params": [q]})
    value, state = p.data.tolist(), json.dumps(opt.state_dict())
    p.grad = Tensor([1.0, 1.0])  # a good gradient for the first parameter
    q.grad = Tensor([inf])  # an overflowing one for the second
    with pytest.raises(DomainError, match=r"parameter 1 \(group 1, shape \(1,\)\)") as info:
        opt.step()
    assert isinstance(info.value, errors.DivergenceError)
    text = str(info.value)
    assert "step() (call 3)" in text and "refused" in text and "learning rate" in text
    # neither parameter moved, and no state changed (the first one's update was fine)
    assert p.data.tolist() == value and q.data.tolist() == [3.0]
    assert json.dumps(opt.state_dict()) == state


def test_an_update_that_overflows_is_refused() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([p], lr=1e300)
    p.grad = Tensor([1e10, 1.0])  # finite, but lr * g overflows
    with pytest.raises(DomainError, match=r"its value -inf at index 0 \(the gradient there is"):
        opt.step()
    assert p.data.tolist() == [1.0, 2.0]


def test_minimize_reports_a_refused_step_as_diverged_at_the_last_finite_iterate() -> None:
    def f(x: Tensor) -> Tensor:
        return 1e300 * (x * x)

    r = minimize(f, 1.0, "sgd", lr=1e10, max_steps=20)
    assert r.reason == "diverged" and r.x == 1.0 and r.steps == 0
    assert "refused" in r.message


def test_gradient_descent_never_evaluates_an_overflowing_trial_point() -> None:
    x = Tensor([1e10], requires_grad=True)
    seen: list[float] = []
    opt = GradientDescent([x], lr=1e300, max_backtracks=1100)  # 1e300 * 2^-1000 ≈ 1

    def closure() -> Tensor:
        opt.zero_grad()
        seen.append(x.data.tolist()[0])
        loss = F.sum(x * x)
        loss.backward()
        return loss

    opt.step(closure)
    assert all(math.isfinite(v) for v in seen) and len(seen) > 1
    assert math.isfinite(x.data.tolist()[0]) and abs(x.data.tolist()[0]) < 1e10
