"""Continuation: a solve as a sequence of stages, each an ordinary minimisation.

A problem whose objective is not smooth (the largest of some distances, the smallest
of some angles) is solved through smooth surrogates that tend to it: a log-sum-exp
smoothing at a temperature that rises stage by stage. A temperature that rose within
one :func:`geograd.minimize` run would change the function under the optimizer's feet
(a line search would compare losses of different functions, momentum carry steps
meant for a wider valley, the stopping rules mean nothing while the target moves);
stages keep each run an ordinary minimisation of one function, with its own step
size and tolerance, each started where the previous one ended.

A problem declares its stages (:meth:`Problem.stages
<geograd.problems.base.Problem.stages>`: each a :class:`Stage`); the base class's
solve template runs them by :func:`run_stages`, which owns what every continuation
needs: the step budget shared among the stages (each may use what is left less a
reserve for the stages after it), the time limit, a fresh optimizer per stage (its
state belongs to another function) unless the caller gave an instance, the adaptive
restart of the momentum of heavy-ball methods, the callback told the steps of the
whole solve, one :class:`~geograd.solve.Result` whose history joins the stages'
(``loss`` the true objective at each recorded iterate, an extra list naming each
entry's stage), and a message that names the first stage that went wrong.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from geograd import Tensor
from geograd.errors import InputError

#: The momentum restarts when a stage's loss rises by more than this (relative) rounding.
RESTART_RTOL = 1e-13
#: Optimizers whose momentum the continuation restarts when the loss rises.
MOMENTUM = ("nag", "momentum")


@dataclass(frozen=True)
class Stage:
    """One stage: the function it minimises and the settings of its minimize run.

    ``settings`` are :func:`geograd.minimize`'s (``optimizer`` by name, its options, the
    loop settings; the problem has applied the user's overrides already); ``label``
    says which stage it is in messages ("temperature 100"); ``tag`` is recorded in the
    history for each of its iterates."""

    loss: Callable[[Tensor], Tensor]
    settings: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    tag: Any = None


#: A stage's gradient tolerance never goes below ROUNDING_FLOOR·ε·t: the rounding noise
#: of the gradient of a log-sum-exp smoothing at temperature t.
ROUNDING_FLOOR = 64.0
EPS = 2.0**-52


def temperature_stages(
    problem: Any, temperatures: Sequence[float], optimizer: str | None, total: int,
    overrides: dict[str, Any],
) -> list[Stage]:  # fmt: skip
    """One stage per temperature t, with the problem's ``stage_settings(t, optimizer,
    total)`` and ``stage_loss(t)``: the plan of a log-sum-exp continuation.

    Takes from ``overrides`` what it adapts per stage: ``lr`` (the last stage's; earlier
    stages get it times their ratio of default learning rates) and ``gtol`` (never below
    the rounding floor ROUNDING_FLOOR·ε·t); the rest apply to every stage as they are."""
    base_gtol = overrides.pop("gtol", None)
    user_lr = overrides.pop("lr", None)
    last_lr = problem.stage_settings(temperatures[-1], optimizer, total).get("lr")
    plan = []
    for t in temperatures:
        settings = problem.stage_settings(t, optimizer, total)
        if base_gtol is not None:
            settings["gtol"] = max(float(base_gtol), ROUNDING_FLOOR * EPS * t)
        if user_lr is not None:
            ratio = settings["lr"] / last_lr if "lr" in settings and last_lr else 1.0
            settings["lr"] = float(user_lr) * ratio
            if not math.isfinite(settings["lr"]) or (settings["lr"] == 0.0 < float(user_lr)):
                raise InputError(
                    f"{problem.name}: lr {float(user_lr):g} sets the last stage's lr; the stage at "
                    f"temperature {t:g} takes it times {ratio:.3g}, which is "
                    f"{'beyond the largest float' if settings['lr'] else 'below the smallest'}; "
                    f"give an lr nearer the default ({last_lr:.3g})"
                )
        plan.append(Stage(problem.stage_loss(t), settings, f"temperature {t:g}", t))
    return plan


@dataclass
class _Joined:
    """The stages' histories joined, numbered by the steps of the whole solve."""

    keys: tuple[str, ...]
    rows: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = {k: [] for k in self.keys}

    def add(self, result: Any, offset: int, tag: Any, objective: Callable[[Any], float]) -> None:
        steps = self.rows["step"]
        for j, step in enumerate(result.history["step"]):
            if steps and offset + step == steps[-1]:
                continue  # a stage starts at the previous stage's last iterate
            xj = result.history["x"][j]
            self.rows["step"].append(offset + step)
            self.rows["loss"].append(objective(xj))
            self.rows["grad_norm"].append(result.history["grad_norm"][j])
            self.rows["x"].append(xj)
            self.rows["lr"].append(result.history["lr"][j])
            self.rows[self.keys[-1]].append(tag)


def run_stages(
    problem: Any,
    stages: Sequence[Stage],
    x: Tensor,
    optimizer: Any,
    *,
    total: int,
    reserve: int,
    stage_key: str,
    callback: Callable[[Any], Any] | None = None,
    time_limit: float | None = None,
    overrides: dict[str, Any] | None = None,
    manifold: Any = None,
    project: Callable[[list[float]], Sequence[float]] | None = None,
) -> Any:
    """Run ``stages`` in turn from ``x`` (a Tensor, which ends at the last iterate).

    ``optimizer``: a name (each stage's own settings build a fresh one), a class (the
    loop settings only), or an instance (kept, with its state, for every stage).
    ``total`` steps in all, each stage keeping ``reserve`` steps per later stage;
    ``overrides`` (settings the caller gave, that the problem did not adapt) replace
    each stage's.
    ``stage_key`` names the history's extra list (``"temperature"``). ``manifold``: the
    parameter's (a stage whose optimizer steps on manifolds steps on it); ``project``:
    the projection after each step of the other stages (as the template's single run).

    The joined Result's ``x`` is the last run's final iterate and ``loss`` the problem's
    objective there; ``grad_norm``, ``grad`` (scipy's ``jac``) and ``options`` are that
    run's: the gradient of the loss of the stage that ran last (the last of the plan
    unless the solve stopped early), at ``x``, in the coordinates of ``x`` (the stages
    step on the parameter in the problem's own coordinates: a continuation has no
    solver coordinates of its own), and the optimizer's settings in that stage. That
    loss is a smooth surrogate (a log-sum-exp at the last temperature), not the
    objective: the objective of a continuation is a largest or smallest of some terms,
    with no gradient where several are equal, as at its optimum; the surrogate's is
    what the last stage's stopping rules saw, and what ``grad_norm`` has always been.
    A caller that maps ``x`` afterwards (a canonical rotation) maps ``grad`` too, or
    drops it.
    """
    from geograd.optim.registry import get_optimizer
    from geograd.solve import CONVERGED, Result, minimize

    from .base import LOOP_SETTINGS, held, hold_point

    instance = optimizer if hasattr(optimizer, "param_groups") else None
    by_name = optimizer is None or isinstance(optimizer, str)
    joined = _Joined(("step", "loss", "grad_norm", "x", "lr", stage_key))
    used = evaluations = 0
    started = time.perf_counter()
    result: Any = None
    first_failed: tuple[int, Any, Any] | None = None
    cut_short = False
    k = 0
    for k, stage in enumerate(stages):
        settings = dict(stage.settings)
        if not by_name:
            settings = {n: v for n, v in settings.items() if n in LOOP_SETTINGS}
        left = total - used
        settings["max_steps"] = max(min(left, 1), left - reserve * (len(stages) - 1 - k))
        if time_limit is not None:
            settings["time_limit"] = max(float(time_limit) - (time.perf_counter() - started), 1e-9)
        settings.update(overrides or {})
        name = settings.pop("optimizer", None)
        loop = {n: v for n, v in settings.items() if n in LOOP_SETTINGS}
        options = {n: v for n, v in settings.items() if n not in LOOP_SETTINGS}
        if instance is not None:
            opt: Any = instance
        else:
            cls = get_optimizer(name) if by_name else optimizer
            on_manifold = manifold is not None and getattr(cls, "riemannian", False)
            if on_manifold:
                options["manifold"] = manifold
            opt = cls([x], **options)
        stage_project = project if instance is None and "manifold" not in options else None
        restart = by_name and isinstance(name, str) and name in MOMENTUM
        problem._new_stage()  # the losses of another stage's function are not comparable
        hold_point("stage")
        result = minimize(
            held(stage.loss, "stage-evaluate"),
            x,
            opt,
            callback=_stage_callback(x, opt, used, callback, restart=restart),
            project=stage_project,
            **loop,
        )
        hold_point("stage-end")
        joined.add(result, used, stage.tag, problem.objective)
        used += result.steps
        evaluations += result.evaluations
        if first_failed is None and not result.converged and result.reason != "interrupted":
            first_failed = (k, options.get("lr"), result)
        if result.reason in ("interrupted", "diverged", "time_limit"):
            break
        if k < len(stages) - 1 and used >= total:
            cut_short = True
            break
    assert result is not None
    history = joined.rows
    final_x = x.tolist()
    best = min(range(len(history["loss"])), key=history["loss"].__getitem__)
    reason: Any = "max_steps" if cut_short else result.reason
    message = _message(stages, k, used, total, result, reason, cut_short, first_failed)
    label = (
        name if by_name and isinstance(name, str)
        else optimizer.__name__ if isinstance(optimizer, type)
        else type(optimizer).__name__
    )  # fmt: skip
    return Result(
        x=final_x,
        loss=problem.objective(final_x),
        grad_norm=result.grad_norm,
        steps=used,
        evaluations=evaluations,
        converged=reason in CONVERGED,
        reason=reason,
        message=message,
        time_s=time.perf_counter() - started,
        best_x=list(history["x"][best]),
        best_loss=history["loss"][best],
        best_step=history["step"][best],
        optimizer=str(label),
        history=history,
        # the last run's, at its last iterate, which is final_x: the gradient of the loss
        # grad_norm measures (see the docstring), and the settings that run used
        grad=result.grad,
        options=dict(result.options),
    )


def _message(
    stages: Sequence[Stage],
    k: int,
    used: int,
    total: int,
    result: Any,
    reason: Any,
    cut_short: bool,
    first_failed: tuple[int, Any, Any] | None,
) -> str:
    """Why the continuation stopped, naming the stage where it went wrong first."""
    from geograd.solve import CONVERGED

    where = f"stage {k + 1} of {len(stages)} ({stages[k].label})"
    if cut_short:
        message = (
            f"Stopped after {used} steps, in {where}: the step budget max_steps = "
            f"{total} ran out before the last stage."
        )
    elif reason in CONVERGED:
        message = (
            f"Converged after {used} steps of a continuation over {len(stages)} stages "
            f"({stages[0].label} to {stages[-1].label}); the last stage: {result.message}"
        )
    else:
        message = f"Stopped after {used} steps in all, in {where}: {result.message}"
    if reason not in CONVERGED and first_failed is not None:
        j, stage_lr, failed = first_failed
        lr_text = "" if stage_lr is None else f", lr={stage_lr:.3g}"
        if j != k:
            message += (
                f" The continuation went wrong earlier: stage {j + 1} ({stages[j].label}"
                f"{lr_text}) did not converge: {failed.message}"
            )
        message += (
            " (Each stage runs at its own lr: the problem scales --lr stage by stage; an lr "
            "named above is that stage's, change --lr by the same factor.)"
        )
    return message


def _stage_callback(
    x: Tensor, opt: Any, offset: int, user: Callable[[Any], Any] | None, *, restart: bool
) -> Callable[[Any], Any]:
    """The stage's minimize callback: the adaptive restart of the momentum (when the loss
    rose beyond rounding, the momentum overshot: it starts afresh) and the caller's
    callback, told the step count of the whole solve."""
    last = [math.inf]

    def callback(progress: Any) -> Any:
        if restart and progress.loss > last[0] + RESTART_RTOL * abs(last[0]):
            opt.state[x].pop("momentum_buffer", None)
        last[0] = progress.loss
        if user is not None:
            return user(dataclasses.replace(progress, step=offset + progress.step))
        return None

    return callback
