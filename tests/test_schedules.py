"""Learning-rate schedules: their values, composition, and use with every optimizer."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest

import geograd.functional as F
from geograd import InputError, Tensor, minimize
from geograd.optim import (
    SCHEDULES,
    SGD,
    Adam,
    Constant,
    Cosine,
    Exponential,
    InverseSqrt,
    InverseTime,
    StepDecay,
    Warmup,
    apply_schedule,
    get_optimizer,
    optimizer_names,
)


def test_values() -> None:
    assert [Constant()(t) for t in (0, 5)] == [1.0, 1.0]
    assert Constant(0.3)(7) == 0.3
    assert [StepDecay(3, 0.5)(t) for t in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert [Exponential(0.5)(t) for t in range(4)] == [1.0, 0.5, 0.25, 0.125]
    c = Cosine(4, final=0.2)
    assert c(0) == 1.0 and c(4) == pytest.approx(0.2, rel=1e-15) and c(9) == c(4)
    assert c(2) == pytest.approx(0.6, rel=1e-15)  # halfway: (1 + 0.2) / 2
    assert c(1) == pytest.approx(0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2, rel=1e-15)
    assert [InverseSqrt()(t) for t in (0, 3, 8)] == [1.0, 0.5, 1.0 / 3.0]
    assert InverseSqrt(scale=4.0)(12) == 0.5
    assert [InverseTime()(t) for t in (0, 1, 3)] == [1.0, 0.5, 0.25]
    assert InverseTime(rate=0.5)(2) == 0.5


def test_warmup_then_another_schedule() -> None:
    w = Warmup(4, then=Exponential(0.5))
    assert [w(t) for t in range(7)] == [0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.25]
    assert [Warmup(2)(t) for t in range(4)] == [0.5, 1.0, 1.0, 1.0]
    cw = Warmup(10, then=Cosine(100))
    assert cw(9) == 1.0 and cw(60) == pytest.approx(0.5, rel=1e-15) and cw(110) == 0.0


def test_bad_arguments() -> None:
    for make in (lambda: StepDecay(0), lambda: Cosine(0), lambda: Warmup(-1),
                 lambda: Exponential(0.0), lambda: InverseSqrt(0.0)):  # fmt: skip
        with pytest.raises(InputError):
            make()
    opt = SGD([Tensor(1.0, requires_grad=True)], lr=0.1)
    with pytest.raises(InputError, match="factor"):
        apply_schedule(opt, lambda t: -1.0, 0)


def test_the_registry_of_schedules() -> None:
    assert set(SCHEDULES) == {
        "constant", "step", "exponential", "cosine", "inverse_sqrt", "inverse_time", "warmup"
    }  # fmt: skip
    assert SCHEDULES["cosine"](10)(10) == 0.0


def test_apply_scales_every_group_from_its_initial_lr() -> None:
    a, b = Tensor(1.0, requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = Adam([{"params": [a], "lr": 0.2}, {"params": [b]}], lr=0.01)
    schedule = StepDecay(2, 0.1)
    lrs = []
    for t in range(5):
        apply_schedule(opt, schedule, t)
        lrs.append([g["lr"] for g in opt.param_groups])
    want = [[0.2, 0.01], [0.2, 0.01], [0.02, 0.001], [0.02, 0.001], [0.002, 0.0001]]
    for got, expected in zip(lrs, want):
        assert got == pytest.approx(expected, rel=1e-15)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.2, 0.01]
    # the base rate travels with the state dict, so a resumed run continues the schedule
    saved = json.loads(json.dumps(opt.state_dict()))
    fresh = Adam([{"params": [a], "lr": 0.2}, {"params": [b]}], lr=0.01)
    fresh.load_state_dict(saved)
    apply_schedule(fresh, schedule, 6)
    assert [g["lr"] for g in fresh.param_groups] == pytest.approx([0.0002, 0.00001], rel=1e-15)


def test_a_scheduled_sgd_run_by_hand() -> None:
    """f = x², x0 = 1, lr 0.1 halved every step: x ← x (1 − 2 lr_t)."""
    x = Tensor(1.0, requires_grad=True)
    opt = SGD([x], lr=0.1)
    want = 1.0
    for t in range(5):
        apply_schedule(opt, Exponential(0.5), t)
        opt.zero_grad()
        (x * x).backward()
        opt.step()
        want -= 0.1 * 0.5**t * 2.0 * want
        assert x.item() == pytest.approx(want, rel=1e-15)


SCHEDULED = [n for n in sorted(optimizer_names()) if get_optimizer(n).follows_schedule]


def test_a_schedule_is_refused_where_lr_only_seeds_the_method() -> None:
    unscheduled = [n for n in optimizer_names() if n not in SCHEDULED]
    assert {"newton", "trust-ncg"} <= set(unscheduled)
    for name in unscheduled:
        with pytest.raises(InputError, match="a schedule does not apply"):
            minimize(lambda p: F.sum(p * p), [1.0, 2.0], name, schedule=lambda t: 0.5)


@pytest.mark.parametrize("name", SCHEDULED)
def test_every_optimizer_follows_a_schedule(name: str) -> None:
    """With the schedule's factor 0 from step 3 on, no optimizer moves after its third step."""
    r = minimize(
        lambda p: (1.0 - p[0]) * (1.0 - p[0]) + 100.0 * (p[1] - p[0] * p[0]) ** 2.0,
        [-1.2, 1.0],
        name,
        max_steps=8,
        gtol=None,
        xtol=None,
        schedule=lambda t: 1.0 if t < 3 else 0.0,
    )
    xs = r.history["x"]
    assert xs[1] != xs[0] and xs[3] != xs[2]
    assert xs[3:] == [xs[3]] * 6, get_optimizer(name)
    assert r.history["lr"][3:] == [0.0] * 6
    assert r.history["lr"][0] > 0.0


def test_minimize_with_warmup_records_the_rates() -> None:
    r = minimize(lambda x: x * x, 1.0, "sgd", lr=0.1, max_steps=6, schedule=Warmup(4))
    assert r.history["lr"] == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.1], rel=1e-15)
    x = 1.0
    for lr in r.history["lr"][:6]:
        x -= lr * 2.0 * x
    assert r.x == pytest.approx(x, rel=1e-14)


# ------------------------------------------------------------- validation, no overflow


@pytest.mark.parametrize(
    "make",
    [
        lambda: Exponential(1e10),  # gamma^t overflowed float64 after 31 steps
        lambda: Exponential(1.5),
        lambda: Exponential(True),
        lambda: Exponential(math.inf),
        lambda: StepDecay(3, gamma=2.0),
        lambda: StepDecay(3, gamma=0.0),
        lambda: StepDecay(2.5),
        lambda: StepDecay(True),
        lambda: Cosine(10, final=math.inf),
        lambda: Cosine(10.5),
        lambda: Constant(math.inf),
        lambda: Constant(-1.0),
        lambda: InverseSqrt(math.inf),
        lambda: InverseTime(True),
        lambda: Warmup(2.5),
        lambda: Warmup(3, then=0.5),  # type: ignore[arg-type]
    ],
)
def test_parameters_are_checked_at_construction(make: Callable[[], object]) -> None:
    with pytest.raises(InputError):
        make()


def test_factors_never_overflow_and_stay_in_range() -> None:
    assert Exponential(1.0)(10**6) == 1.0
    assert Exponential(0.5)(10**400) == 0.0  # a step too large for a float: underflow
    assert StepDecay(1, 0.5)(10**400) == 0.0
    assert InverseSqrt(1e-320)(5) == 0.0
    assert StepDecay(3.0).step_size == 3 and type(Cosine(10.0).total_steps) is int
    with pytest.raises(InputError, match="step"):
        Exponential(0.5)(-2000)


def test_the_cli_names_the_flag_of_a_bad_schedule() -> None:
    from geograd.cli.settings import schedule_from_flag

    with pytest.raises(InputError, match=r"^--schedule: Exponential: gamma must be in \(0, 1\]"):
        schedule_from_flag("exponential:gamma=1e10", 100)
    with pytest.raises(InputError, match=r"^--schedule: StepDecay: step_size must be an integer"):
        schedule_from_flag("step:step_size=2.5", 100)
    assert schedule_from_flag("exponential:gamma=0.5", 100)(3) == 0.125


def test_apply_schedule_refuses_a_rate_that_overflows_and_changes_nothing() -> None:
    opt = SGD([Tensor(1.0, requires_grad=True)], lr=1e300)
    with pytest.raises(InputError, match="overflow"):
        apply_schedule(opt, Constant(1e10), 0)
    assert opt.param_groups[0]["lr"] == 1e300 and "initial_lr" not in opt.param_groups[0]
