"""Layer 5: ``minimize()``: the optimization loop, its stopping rules, its history, ``Result``.

One loop for every optimizer: evaluate f and ∇f at x_k (zero the gradients,
``fun(x)``, ``backward()``), test the stopping rules, step, repeat. Optimizers
that need the loss itself (a line search, ``requires_closure``) get the
evaluation as a closure; when their last evaluation was at the point they
accepted, that evaluation is reused rather than repeated.

Stopping rules, tested at each iterate x_k in this order (a tolerance of
``None`` switches its rule off):

=============  =============================================================
``gtol``       ‖∇f(x_k)‖ ≤ gtol  (2-norm over all parameters)
``ftol``       |f(x_k) − f(x_{k−1})| ≤ ftol · max(|f(x_k)|, |f(x_{k−1})|, 1)
``xtol``       ‖x_k − x_{k−1}‖ ≤ xtol · max(‖x_k‖, 1); the default 0 stops when a
               step leaves x exactly where it was (nothing more will happen)
``max_steps``  k = max_steps
``time_limit`` the wall time since the call reached ``time_limit`` seconds
=============  =============================================================

and two ways to end early: ``diverged`` (a non-finite loss or gradient, or an
overflow or domain error raised while stepping or evaluating; the parameters go
back to the last iterate where both were finite) and ``interrupted`` (Ctrl-C,
i.e. KeyboardInterrupt, or a callback returning True; the result so far is
returned; an interrupt before x0 is evaluated has no result to return, and
propagates). Result.x is always an iterate whose loss and gradient were
evaluated and finite, and is the value the parameter Tensor holds on return,
with its gradient in ``.grad``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from geograd.errors import DomainError, InputError
from geograd.floatarray import Data, FloatArray
from geograd.optim.clip import clip_grad_norm_
from geograd.optim.optimizer import Optimizer
from geograd.optim.registry import get_optimizer
from geograd.optim.schedules import Schedule, apply_schedule
from geograd.tensor import Tensor, enable_grad

Reason: TypeAlias = Literal[
    "gtol", "ftol", "xtol", "max_steps", "time_limit", "diverged", "interrupted"
]
REASONS: tuple[str, ...] = (
    "gtol",
    "ftol",
    "xtol",
    "max_steps",
    "time_limit",
    "diverged",
    "interrupted",
)
CONVERGED: frozenset[str] = frozenset({"gtol", "ftol", "xtol"})
Value: TypeAlias = "float | list[float]"


@dataclass
class Result:
    """What :func:`minimize` found, why it stopped, and how it got there.

    ``x``, ``loss`` and ``grad_norm`` belong together: the final iterate (for a
    divergence, the last finite one), after ``steps`` optimizer steps and
    ``evaluations`` evaluations of ``fun`` with its gradient. ``best_*`` is the
    lowest-loss iterate seen, which for a non-monotone method (Adam, momentum)
    may be better than the final one. ``history`` holds plain lists ``step``,
    ``loss``, ``grad_norm``, ``x`` and ``lr`` (the learning rate in force from
    that iterate on), recorded every ``record_every`` steps and at the end.
    """

    x: Value
    loss: float
    grad_norm: float
    steps: int
    evaluations: int
    converged: bool
    reason: Reason
    message: str
    time_s: float
    best_x: Value
    best_loss: float
    best_step: int
    optimizer: str
    history: dict[str, list[Any]] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain, JSON-ready data (a copy)."""
        return {
            "x": _copy(self.x),
            "loss": self.loss,
            "grad_norm": self.grad_norm,
            "steps": self.steps,
            "evaluations": self.evaluations,
            "converged": self.converged,
            "reason": self.reason,
            "message": self.message,
            "time_s": self.time_s,
            "best_x": _copy(self.best_x),
            "best_loss": self.best_loss,
            "best_step": self.best_step,
            "optimizer": self.optimizer,
            "history": {k: [_copy(v) for v in vs] for k, vs in self.history.items()},
        }


@dataclass(frozen=True)
class Progress:
    """What a callback of :func:`minimize` is shown after each step."""

    step: int
    x: Value
    loss: float
    grad_norm: float
    lr: float | None


Callback: TypeAlias = Callable[[Progress], "bool | None"]


@dataclass
class _Iterate:
    """An evaluated point: its step, the parameters' data and gradients, f and ‖∇f‖."""

    step: int
    datas: list[Data]
    grads: list[Tensor | None]
    loss: float
    grad_norm: float


def minimize(
    fun: Callable[[Tensor], Tensor],
    x0: float | Sequence[float] | Tensor,
    optimizer: str | type[Optimizer] | Optimizer = "adam",
    *,
    max_steps: int = 1000,
    gtol: float | None = 1e-8,
    ftol: float | None = None,
    xtol: float | None = 0.0,
    time_limit: float | None = None,
    callback: Callback | None = None,
    record_every: int = 1,
    schedule: Schedule | None = None,
    clip_norm: float | None = None,
    **optimizer_options: Any,
) -> Result:
    """Minimize ``fun(x)`` over a 0-D or 1-D parameter x by a gradient method.

    ``fun`` takes a Tensor and returns a 0-D Tensor computed from it. ``x0`` is
    a number, a sequence of numbers, or a leaf Tensor: a Tensor is optimized in
    place (it is made to require grad) and holds ``Result.x`` on return; numbers
    are copied into a new Tensor.

    ``optimizer`` is a registered name (``"adam"``, ``"gd"``, ...; see
    ``geograd.optim.available_optimizers()``), an Optimizer class, both built
    over x with ``**optimizer_options`` (``lr=0.01``, ...), or an Optimizer
    instance the caller built over the Tensor passed as ``x0``
    (``opt = Adam([x], lr=0.1); minimize(f, x, opt)``): its options and state
    are used as they are, and it may hold more parameters than x (``fun``
    reaches them by closure; all of them count in the gradient norm).

    ``schedule(step)`` scales each group's learning rate (see
    :mod:`geograd.optim.schedules`); ``clip_norm`` clips the gradient's global
    norm before each step; ``callback(progress)`` is called after each step and
    stops the run (reason ``interrupted``) by returning True. The stopping
    rules are described in this module's docstring.
    """
    _check_options(max_steps, gtol, ftol, xtol, time_limit, record_every, clip_norm)
    x = _as_parameter(x0)
    opt, name = _build(optimizer, x, optimizer_options)
    if clip_norm is not None and opt.requires_closure:
        raise InputError(
            f"clip_norm does not apply to {name!r}: its line search chooses the step length"
        )
    params = [p for g in opt.param_groups for p in g["params"]]
    at = next(i for i, p in enumerate(params) if p is x)
    start = time.perf_counter()
    evaluations = 0
    last: _Iterate | None = None

    def closure() -> Tensor:
        nonlocal evaluations, last
        opt.zero_grad()
        with enable_grad():
            out = fun(x)
        evaluations += 1
        if not isinstance(out, Tensor) or out.shape:
            raise InputError(
                f"minimize: fun must return a 0-D Tensor computed from x, got {out!r}"[:200]
            )
        if out.requires_grad:
            out.backward()
        last = _Iterate(-1, [p.data for p in params], [p.grad for p in params], out.item(), 0.0)
        return out

    def evaluate(step: int) -> _Iterate:
        if not (
            last is not None
            and all(p.data is d for p, d in zip(params, last.datas))
            and all(p.grad is g for p, g in zip(params, last.grads))
        ):
            closure()
        assert last is not None
        grad_norm = _hypot(*(_norm(g) for g in last.grads))
        return _Iterate(step, last.datas, last.grads, last.loss, grad_norm)

    history: dict[str, list[Any]] = {k: [] for k in ("step", "loss", "grad_norm", "x", "lr")}

    def record(it: _Iterate) -> None:
        history["step"].append(it.step)
        history["loss"].append(it.loss)
        history["grad_norm"].append(it.grad_norm)
        history["x"].append(_value(it.datas[at]))
        history["lr"].append(_lr(opt))

    if schedule is not None:
        apply_schedule(opt, schedule, 0)
    good = evaluate(0)
    if not (math.isfinite(good.loss) and math.isfinite(good.grad_norm)):
        raise InputError(
            f"minimize: at x0 the loss is {good.loss} and the gradient norm {good.grad_norm}; "
            "start from a point where both are finite"
        )
    best = good
    record(good)
    previous: _Iterate | None = None
    reason: Reason | None = None
    detail = ""
    try:
        while True:
            reason, detail = _stop(good, previous, gtol, ftol, xtol, max_steps)
            if (
                reason is None
                and time_limit is not None
                and time.perf_counter() - start >= time_limit
            ):
                reason = "time_limit"
            if reason is not None:
                break
            if clip_norm is not None:
                clip_grad_norm_(params, clip_norm)
            try:
                if opt.requires_closure:
                    opt.step(closure)
                else:
                    opt.step()
                new = evaluate(good.step + 1)
            except (DomainError, ArithmeticError) as exc:
                reason, detail = "diverged", f"step {good.step + 1} failed: {exc}"
                break
            if not math.isfinite(new.loss):
                reason, detail = "diverged", f"the loss became {new.loss} at step {new.step}"
                break
            if not math.isfinite(new.grad_norm):
                reason = "diverged"
                detail = f"the gradient became non-finite at step {new.step}"
                break
            previous, good = good, new
            if good.loss < best.loss:
                best = good
            if schedule is not None:
                apply_schedule(opt, schedule, good.step)
            if good.step % record_every == 0:
                record(good)
            if callback is not None:
                progress = Progress(
                    good.step, _value(good.datas[at]), good.loss, good.grad_norm, _lr(opt)
                )
                if callback(progress):
                    reason, detail = (
                        "interrupted",
                        f"the callback asked to stop at step {good.step}",
                    )
                    break
    except KeyboardInterrupt:
        reason, detail = "interrupted", f"interrupted (KeyboardInterrupt) after step {good.step}"
    assert reason is not None

    for p, d, g in zip(params, good.datas, good.grads):
        p.data, p.grad = d, g
    if history["step"][-1] != good.step:
        record(good)
    message = _message(reason, detail, good, opt, time_limit)
    return Result(
        x=_value(good.datas[at]),
        loss=good.loss,
        grad_norm=good.grad_norm,
        steps=good.step,
        evaluations=evaluations,
        converged=reason in CONVERGED,
        reason=reason,
        message=message,
        time_s=time.perf_counter() - start,
        best_x=_value(best.datas[at]),
        best_loss=best.loss,
        best_step=best.step,
        optimizer=name,
        history=history,
    )


# --------------------------------------------------------------------------- pieces


def _check_options(
    max_steps: int,
    gtol: float | None,
    ftol: float | None,
    xtol: float | None,
    time_limit: float | None,
    record_every: int,
    clip_norm: float | None,
) -> None:
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
        raise InputError(f"minimize: max_steps must be an integer >= 0, got {max_steps!r}")
    if isinstance(record_every, bool) or not isinstance(record_every, int) or record_every < 1:
        raise InputError(f"minimize: record_every must be an integer >= 1, got {record_every!r}")
    for name, tol in (("gtol", gtol), ("ftol", ftol), ("xtol", xtol)):
        if tol is not None and not (isinstance(tol, (int, float)) and tol >= 0):
            raise InputError(f"minimize: {name} must be a number >= 0 or None, got {tol!r}")
    for name, v in (("time_limit", time_limit), ("clip_norm", clip_norm)):
        if v is not None and not (isinstance(v, (int, float)) and v > 0):
            raise InputError(f"minimize: {name} must be a number > 0 or None, got {v!r}")


def _as_parameter(x0: float | Sequence[float] | Tensor) -> Tensor:
    if isinstance(x0, Tensor):
        if not x0.is_leaf:
            raise InputError(
                "minimize: x0 must be a leaf Tensor (made by Tensor(...), not computed "
                "from others); use x0.detach()"
            )
        x0.requires_grad = True
        return x0
    try:
        return Tensor(x0, requires_grad=True)
    except TypeError as exc:
        raise InputError(f"minimize: x0 {exc}") from None


def _build(
    optimizer: str | type[Optimizer] | Optimizer, x: Tensor, options: dict[str, Any]
) -> tuple[Optimizer, str]:
    if isinstance(optimizer, Optimizer):
        if options:
            raise InputError(
                f"minimize: options {sorted(options)} were given with an optimizer instance; "
                "set them when building it"
            )
        if not any(p is x for g in optimizer.param_groups for p in g["params"]):
            raise InputError(
                "minimize: the optimizer instance does not hold x0; build it over the Tensor "
                "you pass as x0: x = Tensor(...); minimize(fun, x, Adam([x]))"
            )
        return optimizer, type(optimizer).__name__
    if isinstance(optimizer, str):
        cls, name = get_optimizer(optimizer), optimizer.strip().lower()
    elif isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        cls, name = optimizer, optimizer.__name__
    else:
        raise InputError(
            "minimize: optimizer must be a registered name, an Optimizer class or an "
            f"Optimizer instance, not {optimizer!r}"
        )
    try:
        return cls([x], **options), name
    except TypeError as exc:
        raise InputError(f"minimize: bad options for optimizer {name!r}: {exc}") from None


def _stop(
    now: _Iterate,
    before: _Iterate | None,
    gtol: float | None,
    ftol: float | None,
    xtol: float | None,
    max_steps: int,
) -> tuple[Reason | None, str]:
    if gtol is not None and now.grad_norm <= gtol:
        return "gtol", f"the gradient norm {now.grad_norm:.3g} is at most gtol = {gtol:g}"
    if before is not None:
        if ftol is not None:
            change = abs(now.loss - before.loss)
            scale = max(abs(now.loss), abs(before.loss), 1.0)
            if change <= ftol * scale:
                return "ftol", (
                    f"the loss changed by {change:.3g} in the last step, at most "
                    f"ftol = {ftol:g} times {scale:.3g}"
                )
        if xtol is not None:
            moved = _hypot(*(_distance(a, b) for a, b in zip(now.datas, before.datas)))
            size = max(_hypot(*(_norm(d) for d in now.datas)), 1.0)
            if moved <= xtol * size:
                if moved == 0.0:
                    return "xtol", "the last step left x exactly where it was"
                return "xtol", f"the last step moved x by {moved:.3g}, at most xtol = {xtol:g}"
    if now.step >= max_steps:
        return "max_steps", f"reached max_steps = {max_steps}"
    return None, ""


def _message(
    reason: Reason, detail: str, it: _Iterate, opt: Optimizer, time_limit: float | None
) -> str:
    """The sentence that says why the run stopped (and, if it failed, what to try)."""
    where = f"after {it.step} step{'s' if it.step != 1 else ''}"
    if reason in CONVERGED:
        text = f"Converged {where}: {detail}."
        if reason == "xtol" and any(s.get("line_search_failed") for s in opt.state.values()):
            text += (
                " The line search found no decrease: the gradient is at the level of "
                "rounding errors, so this is as accurate as float64 allows."
            )
        return text
    if reason == "max_steps":
        return (
            f"Stopped {where}: {detail} before convergence (gradient norm {it.grad_norm:.3g}); "
            "raise max_steps or loosen gtol."
        )
    if reason == "time_limit":
        return f"Stopped {where}: reached the time limit of {time_limit:g} s."
    if reason == "interrupted":
        return f"Stopped {where}: {detail}; x is the last evaluated iterate."
    lr = _base_lr(opt)
    advice = (
        f"try a smaller learning rate, e.g. lr={lr / 10:.3g}"
        if lr is not None and lr > 0
        else "try a smaller learning rate"
    )
    return (
        f"Diverged: {detail}; kept the last finite iterate (step {it.step}). To fix it, {advice}."
    )


def _base_lr(opt: Optimizer) -> float | None:
    group = opt.param_groups[0]
    lr = group.get("initial_lr", group.get("lr"))
    return float(lr) if isinstance(lr, (int, float)) else None


def _lr(opt: Optimizer) -> float | None:
    lr = opt.param_groups[0].get("lr")
    return float(lr) if isinstance(lr, (int, float)) else None


def _hypot(*values: float) -> float:
    """sqrt(Σ v²) without intermediate overflow; inf when even the result overflows."""
    try:
        return math.hypot(*values)
    except OverflowError:
        return math.inf


def _norm(g: Tensor | Data | None) -> float:
    if g is None:
        return 0.0
    data = g.data if isinstance(g, Tensor) else g
    if isinstance(data, FloatArray):
        return _hypot(*data)
    return abs(data)


def _distance(a: Data, b: Data) -> float:
    if isinstance(a, FloatArray) and isinstance(b, FloatArray):
        return _hypot(*(u - v for u, v in zip(a, b)))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b)
    raise InputError("a parameter changed shape during the run")


def _value(d: Data) -> Value:
    return d.tolist() if isinstance(d, FloatArray) else float(d)


def _copy(v: Any) -> Any:
    return list(v) if isinstance(v, list) else v
