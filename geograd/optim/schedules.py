"""Learning-rate schedules: pure functions from the step number to a factor of the base lr.

A schedule is any callable ``schedule(step) -> factor`` (``step`` = 0, 1, 2, ...
counts the optimizer steps already taken). :func:`apply_schedule` sets every
parameter group's ``lr`` to ``initial_lr * schedule(step)``, where ``initial_lr``
is the group's lr when the schedule was first applied (kept in the group, as
torch does, so it is part of the state dict).

Why optax's callable style and not torch's scheduler objects:

- It works with every optimizer, ours or a plugin's, with no cooperation from
  it: the only contract is ``group["lr"]``, the same one torch's schedulers use.
- A schedule has no state of its own. The step number is all it needs, so a
  resumed run (optimizer state dict plus step count) picks up the schedule
  exactly, with nothing more to save; torch needs a second state dict per
  scheduler.
- Composition is plain function composition: ``Warmup(100, then=Cosine(900))``
  instead of torch's ``SequentialLR`` bookkeeping with its ``milestones``.
- A factor (not an absolute lr) keeps the optimizer's own ``lr`` the one place
  the learning rate is set, and scales parameter groups with different lrs
  together, like torch's ``LambdaLR``.

In a hand-written loop::

    for t in range(steps):
        apply_schedule(opt, schedule, t)
        opt.zero_grad(); loss = f(x); loss.backward(); opt.step()

:func:`geograd.minimize` does this itself when given ``schedule=``. With
:class:`~geograd.optim.linesearch.GradientDescent` the factor scales the line
search's trial steps (which then adapt again).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from geograd.errors import InputError

if TYPE_CHECKING:
    from geograd.optim.optimizer import Optimizer

Schedule: TypeAlias = Callable[[int], float]
"""step (0, 1, 2, ...) -> factor of the base learning rate."""


def _real(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _positive(owner: str, **values: float) -> None:
    """InputError unless every value is a finite number > 0 (not a bool)."""
    for name, v in values.items():
        if not (_real(v) and v > 0):
            raise InputError(f"{owner}: {name} must be a finite number > 0, got {v!r}")


def _nonnegative(owner: str, **values: float) -> None:
    """InputError unless every value is a finite number >= 0 (not a bool)."""
    for name, v in values.items():
        if not (_real(v) and v >= 0):
            raise InputError(f"{owner}: {name} must be a finite number >= 0, got {v!r}")


def _decay(owner: str, gamma: float) -> None:
    """InputError unless 0 < gamma <= 1: a factor gamma^k then stays in (0, 1] (never overflows)."""
    if not (_real(gamma) and 0 < gamma <= 1):
        raise InputError(
            f"{owner}: gamma must be in (0, 1] (the factor gamma^t must not grow), got {gamma!r}"
        )


def _count(schedule: object, owner: str, name: str) -> None:
    """InputError unless the field ``name`` is an integer >= 1; a whole float becomes an int."""
    v = getattr(schedule, name)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
        object.__setattr__(schedule, name, v)  # frozen dataclass: set once, here
    if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
        raise InputError(f"{owner}: {name} must be an integer >= 1, got {v!r}")


def _power(gamma: float, step: int) -> float:
    """gamma^step for 0 < gamma <= 1 and step >= 0: in (0, 1], or 0.0 once it underflows."""
    if step < 0:
        raise InputError(f"a schedule counts steps from 0, got step {step}")
    try:
        return float(gamma**step)
    except OverflowError:  # a step too large to convert to float: the factor is below any
        return 0.0 if gamma < 1 else 1.0


@dataclass(frozen=True)
class Constant:
    """factor(t) = value (a finite number >= 0)."""

    value: float = 1.0

    def __post_init__(self) -> None:
        _nonnegative("Constant", value=self.value)

    def __call__(self, step: int) -> float:
        return float(self.value)


@dataclass(frozen=True)
class StepDecay:
    """factor(t) = gamma ^ floor(t / step_size): times gamma every step_size steps (StepLR).

    ``step_size`` is an integer >= 1 and ``gamma`` in (0, 1], so the factor never grows
    (and never overflows).
    """

    step_size: int
    gamma: float = 0.1

    def __post_init__(self) -> None:
        _count(self, "StepDecay", "step_size")
        _decay("StepDecay", self.gamma)

    def __call__(self, step: int) -> float:
        return _power(self.gamma, step // self.step_size)


@dataclass(frozen=True)
class Exponential:
    """factor(t) = gamma^t (torch's ExponentialLR), with gamma in (0, 1].

    A gamma above 1 would make the learning rate grow without bound (and overflow
    float64 after a few hundred steps), so it is refused at construction.
    """

    gamma: float

    def __post_init__(self) -> None:
        _decay("Exponential", self.gamma)

    def __call__(self, step: int) -> float:
        return _power(self.gamma, step)


@dataclass(frozen=True)
class Cosine:
    """Cosine annealing from 1 to ``final`` over ``total_steps``, then ``final``.

    factor(t) = final + (1 − final) · (1 + cos(π · min(t, T) / T)) / 2, T = total_steps
    (torch's CosineAnnealingLR with eta_min = final · lr, without restarts).
    ``total_steps`` is an integer >= 1, ``final`` a finite number >= 0.
    """

    total_steps: int
    final: float = 0.0

    def __post_init__(self) -> None:
        _count(self, "Cosine", "total_steps")
        _nonnegative("Cosine", final=self.final)

    def __call__(self, step: int) -> float:
        t = min(step, self.total_steps)
        return (
            self.final + (1.0 - self.final) * (1.0 + math.cos(math.pi * t / self.total_steps)) / 2
        )


@dataclass(frozen=True)
class InverseSqrt:
    """factor(t) = 1 / sqrt(1 + t / scale): the classic rate for non-smooth convex problems.

    With scale = 1 this is lr / sqrt(t + 1), the step of the subgradient method
    whose averaged iterate reaches O(1/sqrt(t)) on Lipschitz convex objectives.
    ``scale`` is a finite number > 0.
    """

    scale: float = 1.0

    def __post_init__(self) -> None:
        _positive("InverseSqrt", scale=self.scale)

    def __call__(self, step: int) -> float:
        return 1.0 / math.sqrt(1.0 + step / self.scale)  # a tiny scale gives inf, then 0


@dataclass(frozen=True)
class InverseTime:
    """factor(t) = 1 / (1 + rate · t): lr / (t + 1) with rate 1, for strongly convex problems.

    ``rate`` is a finite number > 0.
    """

    rate: float = 1.0

    def __post_init__(self) -> None:
        _positive("InverseTime", rate=self.rate)

    def __call__(self, step: int) -> float:
        return 1.0 / (1.0 + self.rate * step)


@dataclass(frozen=True)
class Warmup:
    """Linear warmup over ``steps`` steps, then the schedule ``then`` (restarted at 0).

    factor(t) = (t + 1) / steps for t < steps, then(t − steps) afterwards
    (``then`` defaults to the constant 1): the first step already moves, the
    last warmup step reaches the full rate. ``steps`` is an integer >= 1.
    """

    steps: int
    then: Schedule | None = None

    def __post_init__(self) -> None:
        _count(self, "Warmup", "steps")
        if self.then is not None and not callable(self.then):
            raise InputError(f"Warmup: then must be a schedule (a callable), got {self.then!r}")

    def __call__(self, step: int) -> float:
        if step < self.steps:
            return (step + 1) / self.steps
        return 1.0 if self.then is None else float(self.then(step - self.steps))


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": Constant,
    "step": StepDecay,
    "exponential": Exponential,
    "cosine": Cosine,
    "inverse_sqrt": InverseSqrt,
    "inverse_time": InverseTime,
    "warmup": Warmup,
}
"""The built-in schedules by name (for command lines and configuration files)."""


def apply_schedule(optimizer: Optimizer, schedule: Schedule, step: int) -> float:
    """Set each group's lr to ``initial_lr * schedule(step)``; return the factor.

    A group's ``initial_lr`` is recorded the first time (from its ``lr`` then).
    """
    try:
        factor = float(schedule(step))
    except OverflowError:
        raise InputError(f"the schedule's factor overflows float64 at step {step}") from None
    if not (math.isfinite(factor) and factor >= 0.0):
        raise InputError(f"the schedule gave the factor {factor!r} at step {step}; need >= 0")
    lrs = []
    for group in optimizer.param_groups:
        base: float = group["initial_lr"] if "initial_lr" in group else group["lr"]
        lr = base * factor
        if not math.isfinite(lr):
            raise InputError(
                f"the schedule's factor {factor!r} at step {step} makes the learning rate "
                f"{base!r} overflow float64"
            )
        lrs.append(lr)
    # written only once every group's rate is known to be finite
    for group, lr in zip(optimizer.param_groups, lrs):
        group.setdefault("initial_lr", group["lr"])
        group["lr"] = lr
    return factor
