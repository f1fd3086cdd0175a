"""Exact iterates of every optimizer and option, against the update rules written out here.

Each reference below is the textbook form of torch.optim's update rule, in plain
floats with the gradient written by hand, independent of geograd's code. They
are run on f(x) = x² (a 0-D parameter) and on the coupled 2-D function

    f(a, b) = (a − 1)² + 2 (b + 1/2)² + a b / 2,   ∇f = (2(a − 1) + b/2, 4(b + 1/2) + a/2)

and compared step by step to 1e-12 relative. A few first steps are also worked
out by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from geograd import Tensor
from geograd.optim import (
    NAG,
    SGD,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Momentum,
    Optimizer,
    RMSprop,
)

Vec = list[float]
STEPS = 25


# ------------------------------------------------------------------- the problems


def square_loss(p: Tensor) -> Tensor:
    return p * p


def square_grad(x: Vec) -> Vec:
    return [2.0 * x[0]]


def coupled_loss(p: Tensor) -> Tensor:
    a, b = p[0], p[1]
    return (a - 1.0) * (a - 1.0) + 2.0 * ((b + 0.5) * (b + 0.5)) + 0.5 * (a * b)


def coupled_grad(x: Vec) -> Vec:
    a, b = x
    return [2.0 * (a - 1.0) + 0.5 * b, 4.0 * (b + 0.5) + 0.5 * a]


PROBLEMS = {
    "x^2": (square_loss, square_grad, 1.5),
    "coupled": (coupled_loss, coupled_grad, [0.7, -1.3]),
}


def run(make: Callable[[list[Tensor]], Optimizer], loss: Any, x0: Any, steps: int) -> list[Vec]:
    """Drive a geograd optimizer the torch way; the iterates as lists."""
    p = Tensor(x0, requires_grad=True)
    opt = make([p])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss(p).backward()
        opt.step()
        out.append([p.data] if not p.shape else p.data.tolist())
    return out


def assert_iterates(got: list[Vec], want: list[Vec]) -> None:
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        for i, (u, v) in enumerate(zip(g, w)):
            assert math.isclose(u, v, rel_tol=1e-12, abs_tol=0.0), (k + 1, i, u, v)


# ------------------------------------------------------------ reference update rules


def sgd_ref(x0: Vec, grad: Callable[[Vec], Vec], steps: int, lr: float, momentum: float = 0.0,
            dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
            maximize: bool = False) -> list[Vec]:  # fmt: skip
    x, buf, out = list(x0), None, []
    for _ in range(steps):
        g = grad(x)
        if maximize:
            g = [-v for v in g]
        g = [gi + weight_decay * xi for gi, xi in zip(g, x)]
        if momentum:
            if buf is None:
                buf = list(g)
            else:
                buf = [momentum * b + (1.0 - dampening) * gi for b, gi in zip(buf, g)]
            d = [gi + momentum * b for gi, b in zip(g, buf)] if nesterov else buf
        else:
            d = g
        x = [xi - lr * di for xi, di in zip(x, d)]
        out.append(x)
    return out


def adam_ref(x0: Vec, grad: Callable[[Vec], Vec], steps: int, lr: float = 1e-3,
             betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
             weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
             decoupled: bool = False) -> list[Vec]:  # fmt: skip
    b1, b2 = betas
    n = len(x0)
    x, m, v, vmax, out = list(x0), [0.0] * n, [0.0] * n, [0.0] * n, []
    for t in range(1, steps + 1):
        g = grad(x)
        if maximize:
            g = [-gi for gi in g]
        if decoupled:
            x = [xi * (1.0 - lr * weight_decay) for xi in x]
        else:
            g = [gi + weight_decay * xi for gi, xi in zip(g, x)]
        m = [b1 * mi + (1.0 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1.0 - b2) * gi * gi for vi, gi in zip(v, g)]
        vmax = [max(a, b) for a, b in zip(vmax, v)]
        second = vmax if amsgrad else v
        m_hat = [mi / (1.0 - b1**t) for mi in m]
        v_hat = [vi / (1.0 - b2**t) for vi in second]
        x = [xi - lr * mh / (math.sqrt(vh) + eps) for xi, mh, vh in zip(x, m_hat, v_hat)]
        out.append(x)
    return out


def adamax_ref(x0: Vec, grad: Callable[[Vec], Vec], steps: int, lr: float = 2e-3,
               betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
               weight_decay: float = 0.0, maximize: bool = False) -> list[Vec]:  # fmt: skip
    b1, b2 = betas
    n = len(x0)
    x, m, u, out = list(x0), [0.0] * n, [0.0] * n, []
    for t in range(1, steps + 1):
        g = grad(x)
        if maximize:
            g = [-gi for gi in g]
        g = [gi + weight_decay * xi for gi, xi in zip(g, x)]
        m = [b1 * mi + (1.0 - b1) * gi for mi, gi in zip(m, g)]
        u = [max(b2 * ui, abs(gi) + eps) for ui, gi in zip(u, g)]
        x = [xi - lr / (1.0 - b1**t) * mi / ui for xi, mi, ui in zip(x, m, u)]
        out.append(x)
    return out


def rmsprop_ref(x0: Vec, grad: Callable[[Vec], Vec], steps: int, lr: float = 1e-2,
                alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                momentum: float = 0.0, centered: bool = False,
                maximize: bool = False) -> list[Vec]:  # fmt: skip
    n = len(x0)
    x, v, gbar, buf, out = list(x0), [0.0] * n, [0.0] * n, [0.0] * n, []
    for _ in range(steps):
        g = grad(x)
        if maximize:
            g = [-gi for gi in g]
        g = [gi + weight_decay * xi for gi, xi in zip(g, x)]
        v = [alpha * vi + (1.0 - alpha) * gi * gi for vi, gi in zip(v, g)]
        if centered:
            gbar = [alpha * a + (1.0 - alpha) * gi for a, gi in zip(gbar, g)]
            avg = [math.sqrt(vi - a * a) + eps for vi, a in zip(v, gbar)]
        else:
            avg = [math.sqrt(vi) + eps for vi in v]
        if momentum > 0:
            buf = [momentum * b + gi / a for b, gi, a in zip(buf, g, avg)]
            x = [xi - lr * b for xi, b in zip(x, buf)]
        else:
            x = [xi - lr * gi / a for xi, gi, a in zip(x, g, avg)]
        out.append(x)
    return out


def adagrad_ref(x0: Vec, grad: Callable[[Vec], Vec], steps: int, lr: float = 1e-2,
                lr_decay: float = 0.0, weight_decay: float = 0.0,
                initial_accumulator_value: float = 0.0, eps: float = 1e-10,
                maximize: bool = False) -> list[Vec]:  # fmt: skip
    x, s, out = list(x0), [initial_accumulator_value] * len(x0), []
    for t in range(1, steps + 1):
        g = grad(x)
        if maximize:
            g = [-gi for gi in g]
        g = [gi + weight_decay * xi for gi, xi in zip(g, x)]
        clr = lr / (1.0 + (t - 1) * lr_decay)
        s = [si + gi * gi for si, gi in zip(s, g)]
        x = [xi - clr * gi / (math.sqrt(si) + eps) for xi, gi, si in zip(x, g, s)]
        out.append(x)
    return out


# ------------------------------------------------------------------ the test table

SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.1, "momentum": 0.8, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.2},
    {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.2, "dampening": 0.1},
    {"lr": 0.02, "maximize": True},
    {"lr": 0.02, "momentum": 0.7, "nesterov": True, "maximize": True, "weight_decay": 0.1},
]
ADAM_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "betas": (0.8, 0.5), "amsgrad": True},
    {"lr": 0.1, "weight_decay": 0.3},
    {"lr": 0.05, "maximize": True},
    {"lr": 0.1, "betas": (0.3, 0.9), "eps": 1e-3},
    {"lr": 0.1, "betas": (0.7, 0.6), "amsgrad": True, "weight_decay": 0.2},
]
ADAMW_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "weight_decay": 0.3},
    {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True, "betas": (0.8, 0.5)},
    {"lr": 0.05, "maximize": True, "weight_decay": 0.1},
]
ADAMAX_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "betas": (0.7, 0.6), "weight_decay": 0.2},
    {"lr": 0.05, "maximize": True},
]
RMSPROP_CASES = [
    {"lr": 0.01},
    {"lr": 0.01, "alpha": 0.6},
    {"lr": 0.01, "centered": True},
    {"lr": 0.01, "momentum": 0.9},
    {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1},
    {"lr": 0.01, "eps": 1e-2, "weight_decay": 0.3},
    {"lr": 0.01, "maximize": True, "alpha": 0.6},
]
ADAGRAD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "lr_decay": 0.05},
    {"lr": 0.1, "weight_decay": 0.2},
    {"lr": 0.1, "initial_accumulator_value": 0.3, "eps": 1e-3},
    {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.3},
    {"lr": 0.05, "maximize": True},
]


def _adamw_ref(x0: Vec, grad: Callable[[Vec], Vec], steps: int, **kw: Any) -> list[Vec]:
    kw.setdefault("weight_decay", 1e-2)
    return adam_ref(x0, grad, steps, decoupled=True, **kw)


TABLE: list[tuple[type[Optimizer], Callable[..., list[Vec]], dict[str, Any]]] = [
    *[(SGD, sgd_ref, c) for c in SGD_CASES],
    *[(Adam, adam_ref, c) for c in ADAM_CASES],
    *[(AdamW, _adamw_ref, c) for c in ADAMW_CASES],
    *[(Adamax, adamax_ref, c) for c in ADAMAX_CASES],
    *[(RMSprop, rmsprop_ref, c) for c in RMSPROP_CASES],
    *[(Adagrad, adagrad_ref, c) for c in ADAGRAD_CASES],
]


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize(
    ("cls", "ref", "options"),
    TABLE,
    ids=[f"{c.__name__}-{o}" for c, _, o in TABLE],
)
def test_iterates_match_the_update_rule(
    cls: type[Optimizer], ref: Callable[..., list[Vec]], options: dict[str, Any], problem: str
) -> None:
    loss, grad, x0 = PROBLEMS[problem]
    got = run(lambda ps: cls(ps, **options), loss, x0, STEPS)
    start = [x0] if isinstance(x0, float) else x0
    want = ref(start, grad, STEPS, **options)
    assert_iterates(got, want)


@pytest.mark.parametrize(
    ("cls", "options"),
    [(c, o) for c, _, o in TABLE if o != {"lr": o["lr"]}],
    ids=[f"{c.__name__}-{o}" for c, _, o in TABLE if o != {"lr": o["lr"]}],
)
def test_every_option_changes_the_trajectory(cls: type[Optimizer], options: dict[str, Any]) -> None:
    """So that the option tests above test something: each option set leaves the default path."""
    plain = run(lambda ps: cls(ps, lr=options["lr"]), coupled_loss, [0.7, -1.3], 10)
    tuned = run(lambda ps: cls(ps, **options), coupled_loss, [0.7, -1.3], 10)
    assert plain[-1] != tuned[-1]


def test_amsgrad_takes_the_running_maximum() -> None:
    """With β2 = 0.5 the second moment falls as x → 0, and amsgrad must keep its maximum."""
    opts = {"lr": 0.1, "betas": (0.8, 0.5)}
    plain = adam_ref([1.5], square_grad, 25, **opts)
    ams = adam_ref([1.5], square_grad, 25, amsgrad=True, **opts)
    assert plain != ams  # the maximum was used at least once
    got = run(lambda ps: Adam(ps, amsgrad=True, **opts), square_loss, 1.5, 25)
    assert_iterates(got, ams)


# ----------------------------------------------------------------- first steps by hand


def test_sgd_first_steps_by_hand() -> None:
    # x0 = 1, f = x², g = 2x: x1 = 1 − 0.1·2 = 0.8, x2 = 0.8 − 0.1·1.6 = 0.64
    got = run(lambda ps: SGD(ps, lr=0.1), square_loss, 1.0, 2)
    assert got == [[0.8], [pytest.approx(0.64, rel=1e-15)]]


def test_momentum_buffer_starts_as_the_first_gradient() -> None:
    # b1 = g1 = 2 (no dampening on the first step, as torch); x1 = 1 − 0.1·2 = 0.8
    # g2 = 1.6, b2 = 0.9·2 + (1 − 0.5)·1.6 = 2.6, x2 = 0.8 − 0.26 = 0.54
    got = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.5), square_loss, 1.0, 2)
    assert got[0] == [0.8]
    assert got[1][0] == pytest.approx(0.54, rel=1e-15)


def test_nesterov_first_steps_by_hand() -> None:
    # b1 = 2, step direction g1 + 0.9·b1 = 3.8: x1 = 1 − 0.38 = 0.62
    # g2 = 1.24, b2 = 1.8 + 1.24 = 3.04, direction 1.24 + 2.736 = 3.976: x2 = 0.62 − 0.3976
    got = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True), square_loss, 1.0, 2)
    assert got[0][0] == pytest.approx(0.62, rel=1e-15)
    assert got[1][0] == pytest.approx(0.2224, rel=1e-14)


def test_adam_first_step_is_lr_times_the_sign() -> None:
    # m̂1 = g, v̂1 = g², so x1 = x0 − lr·g/(|g| + eps) = 1 − 0.1·2/(2 + 1e-8)
    got = run(lambda ps: Adam(ps, lr=0.1), square_loss, 1.0, 1)
    assert got[0][0] == pytest.approx(1.0 - 0.2 / (2.0 + 1e-8), rel=1e-15)


def test_adamw_decays_before_the_adam_step() -> None:
    # x0 = 1 → 1·(1 − 0.1·0.5) = 0.95, then the Adam step with the gradient at x0 (2)
    got = run(lambda ps: AdamW(ps, lr=0.1, weight_decay=0.5), square_loss, 1.0, 1)
    assert got[0][0] == pytest.approx(0.95 - 0.2 / (2.0 + 1e-8), rel=1e-15)


def test_adagrad_first_step_by_hand() -> None:
    # s1 = 0.3 + 4 = 4.3, x1 = 1 − 0.1·2/(sqrt(4.3) + 1e-10)
    got = run(lambda ps: Adagrad(ps, lr=0.1, initial_accumulator_value=0.3), square_loss, 1.0, 1)
    assert got[0][0] == pytest.approx(1.0 - 0.2 / (math.sqrt(4.3) + 1e-10), rel=1e-15)


def test_rmsprop_centered_first_step_by_hand() -> None:
    # v1 = 0.01·4 = 0.04, ḡ1 = 0.01·2 = 0.02, avg = sqrt(0.04 − 0.0004) + 1e-8
    got = run(lambda ps: RMSprop(ps, lr=0.01, centered=True), square_loss, 1.0, 1)
    assert got[0][0] == pytest.approx(1.0 - 0.02 / (math.sqrt(0.0396) + 1e-8), rel=1e-14)


def test_momentum_and_nag_are_sgd_with_other_defaults() -> None:
    m = Momentum([Tensor(1.0, requires_grad=True)])
    n = NAG([Tensor(1.0, requires_grad=True)])
    assert (m.defaults["momentum"], m.defaults["nesterov"], m.defaults["lr"]) == (0.9, False, 0.01)
    assert (n.defaults["momentum"], n.defaults["nesterov"]) == (0.9, True)
    got = run(lambda ps: Momentum(ps, nesterov=True), coupled_loss, [0.7, -1.3], STEPS)
    want = sgd_ref([0.7, -1.3], coupled_grad, STEPS, lr=0.01, momentum=0.9, nesterov=True)
    assert_iterates(got, want)
    got = run(lambda ps: NAG(ps, lr=0.05), coupled_loss, [0.7, -1.3], STEPS)
    want = sgd_ref([0.7, -1.3], coupled_grad, STEPS, lr=0.05, momentum=0.9, nesterov=True)
    assert_iterates(got, want)


def test_torch_defaults() -> None:
    x = [Tensor(1.0, requires_grad=True)]
    assert SGD(x).defaults["lr"] == 1e-3
    assert Adam(x).defaults == {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
        "maximize": False,
        "decoupled_weight_decay": False,
    }
    assert AdamW(x).defaults["weight_decay"] == 1e-2
    assert AdamW(x).defaults["decoupled_weight_decay"] is True
    r = RMSprop(x).defaults
    assert (r["lr"], r["alpha"], r["eps"], r["momentum"], r["centered"]) == (
        1e-2, 0.99, 1e-8, 0.0, False
    )  # fmt: skip
    a = Adagrad(x).defaults
    assert (a["lr"], a["lr_decay"], a["initial_accumulator_value"], a["eps"]) == (
        1e-2, 0.0, 0.0, 1e-10
    )  # fmt: skip
    assert Adamax(x).defaults["lr"] == 2e-3


# ------------------------------------------------------------------- param groups


@pytest.mark.parametrize(
    ("cls", "ref"),
    [(SGD, sgd_ref), (Adam, adam_ref), (RMSprop, rmsprop_ref), (Adagrad, adagrad_ref)],
)
def test_param_groups_with_different_lr(cls: type[Optimizer], ref: Callable[..., Any]) -> None:
    """Two groups, one 0-D and one 1-D parameter, separable loss: each follows its own lr."""
    a = Tensor(1.5, requires_grad=True)
    b = Tensor([0.7, -1.3], requires_grad=True)
    extra = {"momentum": 0.9} if cls is SGD else {}
    opt = cls([{"params": [a], "lr": 0.05}, {"params": b}], lr=0.01, **extra)
    got_a, got_b = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        (square_loss(a) + coupled_loss(b)).backward()
        opt.step()
        got_a.append([a.data])
        got_b.append(b.data.tolist())
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[1]["lr"] == 0.01
    assert_iterates(got_a, ref([1.5], square_grad, STEPS, lr=0.05, **extra))
    assert_iterates(got_b, ref([0.7, -1.3], coupled_grad, STEPS, lr=0.01, **extra))


def test_a_parameter_without_gradient_is_left_alone() -> None:
    a = Tensor(1.0, requires_grad=True)
    unused = Tensor([3.0, 4.0], requires_grad=True)
    opt = Adam([a, unused], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        square_loss(a).backward()
        opt.step()
    assert unused.data == [3.0, 4.0]
    assert unused not in opt.state
    assert opt.state[a]["step"] == 3
