"""minimize(): the loop, the stopping rules, history, Result, divergence, interruption, memory."""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
import tracemalloc
from typing import Any

import pytest

import geograd
import geograd.functional as F
from geograd import DomainError, InputError, Result, Tensor, minimize
from geograd.optim import SGD, Adam, GradientDescent
from geograd.solve import CONVERGED, REASONS, Progress


def bowl(p: Tensor) -> Tensor:
    a, b = p[0], p[1]
    return (a - 1.0) * (a - 1.0) + 2.0 * ((b + 0.5) * (b + 0.5)) + 0.5 * (a * b)


# ∇bowl = 0: 2(a − 1) + b/2 = 0 and 4(b + 1/2) + a/2 = 0
A_STAR = (2.0 + 0.25) / (2.0 - 1.0 / 16.0)
B_STAR = -0.5 - A_STAR / 8.0


def square(x: Tensor) -> Tensor:
    return (x - 2.0) * (x - 2.0)


# ----------------------------------------------------------------------- the basics


def test_exported_from_the_package() -> None:
    assert geograd.minimize is minimize and geograd.Result is Result
    assert "minimize" in geograd.__all__ and "Result" in geograd.__all__


def test_iterates_are_the_optimizer_s() -> None:
    """minimize(f, x0, 'sgd', lr=...) takes exactly the steps of the hand-written loop."""
    r = minimize(square, 5.0, "sgd", lr=0.1, max_steps=10, gtol=None, record_every=1)
    x, want = 5.0, []
    for _ in range(10):
        x -= 0.1 * 2.0 * (x - 2.0)
        want.append(x)
    assert r.history["x"][1:] == pytest.approx(want, rel=1e-15)
    assert r.history["step"] == list(range(11))
    assert r.x == r.history["x"][-1] and r.steps == 10 and r.evaluations == 11
    assert r.reason == "max_steps" and not r.converged


def test_a_1d_problem_converges_with_gtol() -> None:
    r = minimize(bowl, [0.0, 0.0], "adam", lr=0.05, max_steps=5000)
    assert r.reason == "gtol" and r.converged and r.grad_norm <= 1e-8
    assert r.x == pytest.approx([A_STAR, B_STAR], abs=1e-8)
    assert isinstance(r.x, list) and r.optimizer == "adam"
    assert "gtol" in r.message and str(r.steps) in r.message


def test_result_to_dict_is_json_ready() -> None:
    r = minimize(bowl, [0.0, 0.0], "momentum", lr=1e-2, max_steps=50, record_every=7)
    d = r.to_dict()
    back = json.loads(json.dumps(d, allow_nan=False))
    assert back == d
    assert set(d) >= {"x", "loss", "grad_norm", "steps", "evaluations", "converged", "reason",
                      "message", "time_s", "history", "best_x", "best_loss"}  # fmt: skip
    assert set(d["history"]) == {"step", "loss", "grad_norm", "x", "lr"}
    # every 7th step, and always the best (momentum overshoots: step 39) and the last
    assert r.best_step == 39 and r.best_step != r.steps
    assert d["history"]["step"] == [0, 7, 14, 21, 28, 35, 39, 42, 49, 50]
    assert d["start_loss"] == r.start_loss == 1.5  # bowl(0, 0)
    assert all(isinstance(x, list) for x in d["history"]["x"])
    d["history"]["x"][0][0] = 99.0  # a copy
    assert r.history["x"][0][0] == 0.0
    assert d["reason"] in REASONS


def test_start_loss_is_f_at_x0() -> None:
    r = minimize(square, 5.0, "sgd", lr=0.1, max_steps=3)
    assert r.start_loss == 9.0 == r.history["loss"][0] and r.loss < r.start_loss
    # a Result assembled elsewhere without it (a multi-stage solve) takes its history's step 0
    fields = {k: v for k, v in vars(r).items() if k != "start_loss"}
    fields["history"] = {**r.history, "loss": [7.0, *r.history["loss"][1:]]}
    assert Result(**fields).start_loss == 7.0


def test_x0_forms() -> None:
    assert minimize(square, 3, "gd").x == pytest.approx(2.0, abs=1e-9)  # an int
    assert minimize(bowl, (0.0, 0.0), "gd").x == pytest.approx([A_STAR, B_STAR], abs=1e-8)
    x = Tensor(7.0)
    r = minimize(square, x, "gd")
    assert x.item() == r.x and x.requires_grad  # a Tensor is optimized in place
    with pytest.raises(InputError, match="x0"):
        minimize(square, "seven", "gd")
    with pytest.raises(InputError, match="leaf"):
        minimize(square, Tensor(1.0, requires_grad=True) * 2.0, "gd")


def test_optimizer_by_name_class_or_instance() -> None:
    by_name = minimize(bowl, [0.0, 0.0], "adam", lr=0.1, max_steps=20)
    by_class = minimize(bowl, [0.0, 0.0], Adam, lr=0.1, max_steps=20)
    x = Tensor([0.0, 0.0], requires_grad=True)
    opt = Adam([x], lr=0.1)
    by_instance = minimize(bowl, x, opt, max_steps=20)
    assert by_name.x == by_class.x == by_instance.x == x.tolist()
    assert opt.state[x]["step"] == 20  # the caller's optimizer did the work
    assert by_class.optimizer == by_instance.optimizer == "Adam"
    # continuing with the same instance picks up where it stopped
    more = minimize(bowl, x, opt, max_steps=20)
    assert more.history["x"][0] == by_instance.x and opt.state[x]["step"] == 40


def test_optimizer_errors() -> None:
    with pytest.raises(InputError, match="did you mean 'adam'"):
        minimize(square, 1.0, "adma")
    x = Tensor(1.0, requires_grad=True)
    with pytest.raises(InputError, match="does not hold x0"):
        minimize(square, x, Adam([Tensor(1.0, requires_grad=True)]))
    with pytest.raises(InputError, match="set them when building it"):
        minimize(square, x, Adam([x]), lr=0.1)
    with pytest.raises(InputError, match=r"unknown keyword 'momentum'.*optimizer 'adam'"):
        minimize(square, 1.0, "adam", momentum=0.9)
    with pytest.raises(InputError, match="optimizer must be"):
        minimize(square, 1.0, 42)
    with pytest.raises(InputError, match="max_steps"):
        minimize(square, 1.0, max_steps=-1)
    with pytest.raises(InputError, match="record_every"):
        minimize(square, 1.0, record_every=0)
    with pytest.raises(InputError, match="gtol"):
        minimize(square, 1.0, gtol=-1.0)
    with pytest.raises(InputError, match="clip_norm does not apply"):
        minimize(square, 1.0, "gd", clip_norm=1.0)


def test_fun_must_return_a_0d_tensor() -> None:
    with pytest.raises(InputError, match="0-D Tensor"):
        minimize(lambda x: 3.0, 1.0, "sgd")
    with pytest.raises(InputError, match="0-D Tensor"):
        minimize(lambda x: x * 2.0, [1.0, 2.0], "sgd")
    with pytest.raises(InputError, match="at x0"):
        minimize(lambda x: x * 1e308 * 10.0, 1.0, "sgd")


# ------------------------------------------------------------------ stopping rules


def test_every_reason_is_one_of_the_documented_ones() -> None:
    assert set(REASONS) == {
        "gtol", "ftol", "xtol", "stalled", "max_steps", "time_limit", "diverged", "interrupted"
    }  # fmt: skip
    assert "stalled" not in CONVERGED and set(REASONS) > CONVERGED


def test_ftol() -> None:
    r = minimize(square, 5.0, "sgd", lr=0.01, max_steps=10_000, gtol=None, ftol=1e-6)
    assert r.reason == "ftol" and r.converged
    prev, last = r.history["loss"][-2:]
    assert abs(prev - last) <= 1e-6 * max(abs(prev), abs(last), 1.0)
    assert r.steps < 10_000 and "ftol" in r.message


def test_xtol() -> None:
    r = minimize(square, 5.0, "sgd", lr=0.01, max_steps=10_000, gtol=None, xtol=1e-6)
    assert r.reason == "xtol" and r.converged
    assert abs(r.history["x"][-1] - r.history["x"][-2]) <= 1e-6 * max(abs(r.x), 1.0)


def test_xtol_zero_stops_when_a_step_changes_nothing() -> None:
    """The default xtol = 0: a step that leaves x where it is ends the run at once.

    At the rounding floor that is a convergence; with a lr that a schedule took
    to 0 it is a stall, far from the minimum: not converged.
    """
    r = minimize(square, 3.0, "sgd", lr=0.1, gtol=None)
    assert r.reason == "xtol" and r.converged and r.steps < 1000
    assert "exactly where it was" in r.message
    assert r.x == pytest.approx(2.0, abs=1e-14) and r.history["x"][-2] == r.x

    r = minimize(square, 5.0, "sgd", lr=0.01, max_steps=100, schedule=lambda t: float(t < 5))
    assert r.reason == "stalled" and not r.converged and r.steps == 6
    assert r.history["x"][-2] == r.x and r.history["lr"][-1] == 0.0
    assert "the learning rate is 0, so the steps no longer change x" in r.message
    assert "keep the schedule's factor above 0" in r.message


def test_gd_stops_converged_when_rounding_is_all_that_is_left() -> None:
    """With gtol off, the line search ends at the rounding floor and says so."""
    r = minimize(bowl, [0.0, 0.0], "gd", gtol=None, max_steps=10_000)
    assert r.reason == "xtol" and r.converged and r.steps < 10_000
    assert r.grad_norm < 1e-13
    assert r.x == pytest.approx([A_STAR, B_STAR], rel=1e-15)


def test_a_failed_line_search_is_explained() -> None:
    """f = |x| from 1e-3 with trial steps of at least 1/32: no trial decreases f."""
    r = minimize(F.abs, 1e-3, "gd", max_backtracks=5)
    assert r.reason == "stalled" and r.steps == 1 and r.x == 1e-3
    assert "line search found no decrease: every trial step was rejected" in r.message


def test_time_limit() -> None:
    def slow(x: Tensor) -> Tensor:
        time.sleep(0.002)
        return square(x)

    r = minimize(slow, 5.0, "sgd", lr=1e-6, max_steps=10**6, time_limit=0.1)
    assert r.reason == "time_limit" and not r.converged
    assert r.time_s >= 0.1  # it ran until the limit (how promptly it stops is not timed)
    assert "time limit" in r.message


def test_max_steps_zero_evaluates_x0_only() -> None:
    r = minimize(square, 5.0, "adam", max_steps=0)
    assert (r.steps, r.evaluations, r.x, r.loss, r.grad_norm) == (0, 1, 5.0, 9.0, 6.0)
    assert r.reason == "max_steps" and "max_steps" in r.message


def test_record_every_keeps_the_last() -> None:
    r = minimize(square, 5.0, "sgd", lr=0.01, max_steps=25, gtol=None, record_every=10)
    assert r.history["step"] == [0, 10, 20, 25]
    assert r.history["lr"] == [0.01] * 4
    assert r.history["loss"][-1] == r.loss and r.history["grad_norm"][-1] == r.grad_norm


def test_best_iterate_is_kept() -> None:
    """SGD with lr 0.9 on x² overshoots: x_k = 5 (−0.8)^k; at an odd step the best is earlier."""
    r = minimize(lambda x: x * x, 5.0, "sgd", lr=0.9, max_steps=7, gtol=None)
    assert r.x == pytest.approx(5.0 * (-0.8) ** 7, rel=1e-14)
    assert r.best_loss == min(r.history["loss"]) and r.best_step == 7

    def bumpy(x: Tensor) -> Tensor:  # Adam with a large lr oscillates around the minimum
        return x * x

    r = minimize(bumpy, 1.0, "adam", lr=0.5, max_steps=40, gtol=None)
    assert r.best_loss <= r.loss and r.best_loss == min(r.history["loss"])
    assert r.best_x == r.history["x"][r.history["loss"].index(r.best_loss)]


def test_clip_norm_bounds_each_step() -> None:
    r = minimize(square, 100.0, "sgd", lr=0.1, max_steps=3, gtol=None, clip_norm=1.0)
    xs = r.history["x"]
    # |g| ≈ 196 is clipped to norm 1 (less torch's 1e-6 guard): each step moves x by lr = 0.1
    for a, b in itertools.pairwise(xs):
        assert a - b == pytest.approx(0.1, rel=1e-6)


# ------------------------------------------------------------------------ evaluations


def test_gd_reuses_the_accepted_evaluation() -> None:
    calls = 0

    def counted(p: Tensor) -> Tensor:
        nonlocal calls
        calls += 1
        return bowl(p)

    x = Tensor([0.0, 0.0], requires_grad=True)
    opt = GradientDescent([x])
    r = minimize(counted, x, opt, max_steps=20, gtol=None)
    assert r.evaluations == calls
    # one at x0, one more by the line search's first step (it has no cached point yet), then
    # exactly the trials: the accepted trial's evaluation serves the next step and the loop
    assert calls == opt.state[x]["func_evals"] + 1
    assert r.steps == 20 and calls < 2 * 20


# --------------------------------------------------------------------- divergence


def test_divergence_keeps_the_last_finite_iterate_and_suggests_a_rate() -> None:
    x = Tensor(3.0)
    r = minimize(lambda t: t * t, x, "sgd", lr=1.5, max_steps=10_000)
    assert r.reason == "diverged" and not r.converged
    assert math.isfinite(r.loss) and math.isfinite(r.grad_norm)
    assert x.item() == r.x and r.x * r.x == r.loss
    assert "lr=0.15" in r.message and "smaller learning rate" in r.message
    assert r.steps == r.history["step"][-1] and r.history["x"][-1] == r.x
    assert r.best_x == 3.0  # the start was the best it saw
    json.dumps(r.to_dict(), allow_nan=False)


def test_divergence_from_an_engine_error() -> None:
    """log of a negative number raises DomainError inside fun: a divergence, not a crash."""

    def f(x: Tensor) -> Tensor:
        return x - 2.0 * F.log(x)  # minimum at 2, defined for x > 0

    # f' = 1 − 2/x; from x0 = 3 a step of lr 10 lands at 3 − 10/3 < 0, where log raises
    r = minimize(f, 3.0, "sgd", lr=10.0, max_steps=100)
    assert r.reason == "diverged"
    assert "log" in r.message and "lr=1" in r.message
    assert r.x == 3.0
    assert r.steps == 0


def test_divergence_from_an_overflow() -> None:
    r = minimize(lambda x: F.exp(x * x), 2.0, "sgd", lr=1.0, max_steps=100)
    assert r.reason == "diverged" and "overflow" in r.message.lower()
    assert math.isfinite(r.loss)


def test_divergence_after_a_schedule_suggests_the_base_rate() -> None:
    r = minimize(lambda x: x * x, 1.0, "sgd", lr=3.0, max_steps=1000, schedule=lambda t: 0.5)
    assert r.reason == "diverged" and "lr=0.3" in r.message


# ------------------------------------------------------------------- interruption


def test_keyboard_interrupt_in_fun_returns_the_result_so_far() -> None:
    calls = 0

    def f(x: Tensor) -> Tensor:
        nonlocal calls
        calls += 1
        if calls == 6:
            raise KeyboardInterrupt
        return square(x)

    x = Tensor(5.0)
    r = minimize(f, x, "sgd", lr=0.1, max_steps=100)
    assert r.reason == "interrupted" and not r.converged
    assert r.steps == 4 and r.x == pytest.approx(2.0 + 3.0 * 0.8**4, rel=1e-15)
    assert x.item() == r.x and x.grad is not None and x.grad.item() == 2.0 * (r.x - 2.0)
    assert "interrupted (Ctrl-C)" in r.message and r.history["step"][-1] == 4


def test_keyboard_interrupt_in_the_callback() -> None:
    def cb(p: Progress) -> None:
        if p.step == 3:
            raise KeyboardInterrupt

    r = minimize(square, 5.0, "adam", callback=cb)
    assert r.reason == "interrupted" and r.steps == 3


def test_keyboard_interrupt_inside_a_line_search_restores_x() -> None:
    calls = 0

    def f(x: Tensor) -> Tensor:
        nonlocal calls
        calls += 1
        if calls == 8:
            raise KeyboardInterrupt
        return bowl(x)

    x = Tensor([0.0, 0.0])
    r = minimize(f, x, "gd")
    assert r.reason == "interrupted"
    assert x.tolist() == r.x == r.history["x"][-1]
    assert bowl(Tensor(r.x)).item() == r.loss


def test_a_callback_sees_progress_and_can_stop() -> None:
    seen: list[Progress] = []

    def cb(p: Progress) -> bool:
        seen.append(p)
        return p.step == 5

    r = minimize(square, 5.0, "sgd", lr=0.1, callback=cb)
    assert [p.step for p in seen] == [1, 2, 3, 4, 5]
    assert seen[-1].x == r.x and seen[-1].loss == r.loss and seen[-1].lr == 0.1
    assert r.reason == "interrupted" and "callback" in r.message


def test_other_errors_are_not_swallowed() -> None:
    def broken(x: Tensor) -> Tensor:
        if x.item() < 4.0:
            raise RuntimeError("a bug in fun")
        return square(x)

    with pytest.raises(RuntimeError, match="a bug"):
        minimize(broken, 5.0, "sgd", lr=0.1)
    with pytest.raises(DomainError):
        minimize(lambda x: F.log(x), -1.0, "sgd")  # at x0 there is nothing to keep


# ------------------------------------------------------------------------- memory


def test_memory_stays_flat_over_100k_steps() -> None:
    """No growth from step 5,000 to step 100,000: graphs are freed every step.

    sys.getallocatedblocks counts every live allocation of the interpreter, so
    one leaked object per step would show as ~95,000 blocks; it is used instead
    of tracemalloc for the long run because it costs nothing per allocation.
    (The first ~2,000 steps fill CPython's tuple free list, hence the warm-up.)
    """
    blocks: dict[int, int] = {}

    def cb(p: Progress) -> None:
        if p.step in (5_000, 100_000):
            blocks[p.step] = sys.getallocatedblocks()

    r = minimize(
        lambda x: (x - 1.0) * (x - 1.0) + 0.5 * x,
        3.0,
        SGD,
        lr=1e-9,
        max_steps=100_000,
        gtol=None,
        xtol=None,
        record_every=10**9,
        callback=cb,
    )
    assert r.steps == 100_000 and len(r.history["step"]) == 2
    assert blocks[100_000] - blocks[5_000] < 500


def test_tracemalloc_peak_does_not_grow_with_steps() -> None:
    """A 1-D problem under tracemalloc: the peak after 4,000 steps ≈ the peak after 500."""

    def peak(steps: int) -> int:
        tracemalloc.start()
        try:
            minimize(bowl, [3.0, 2.0], "adam", lr=1e-6, max_steps=steps, gtol=None,
                     xtol=None, record_every=10**9)  # fmt: skip
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(500)  # warm up: imports, caches and free lists
    short, long = peak(500), peak(4_000)
    # one leaked float per step would add 3,500 × 24 bytes = 84 kB
    assert long - short < 16 * 1024, (short, long)


def test_history_memory_is_what_record_every_asks_for() -> None:
    r: Any = minimize(square, 5.0, "sgd", lr=1e-4, max_steps=3000, gtol=None, record_every=1000)
    assert r.history["step"] == [0, 1000, 2000, 3000]
