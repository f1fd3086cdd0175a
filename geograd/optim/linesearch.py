"""Steepest descent with an Armijo backtracking line search: no learning rate to tune.

Like ``torch.optim.LBFGS``, :class:`GradientDescent` needs a closure that
re-evaluates the loss (``zero_grad()``, compute, ``backward()``, return it),
because it tries several step lengths per step.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from geograd import backend as B
from geograd.backend import Data
from geograd.errors import DomainError, InputError
from geograd.manifolds import Manifold
from geograd.optim.optimizer import (
    CLOSURE_PROTOCOL,
    Closure,
    Optimizer,
    ParamGroup,
    Params,
    StateKind,
    check_closure_gradients,
    check_nonnegative,
    is_real,
    with_manifold,
    zeros_like,
)
from geograd.tensor import Tensor, enable_grad


class GradientDescent(Optimizer):
    r"""Steepest descent with an Armijo backtracking line search (needs a closure).

    One step, with f_0 = f(x), g = ∇f(x) and a trial step length t::

        x(t) = x − t · g
        accept t when f(x(t)) ≤ f_0 − c1 · t · ‖g‖²   (Armijo's sufficient decrease)
                 and f_0 − f(x(t)) > 1e-10 |f_0|     (a decrease rounding cannot fake)
          or when f(x(t)) ≤ f_0 + 1e-10 |f_0| and ∇f(x(t)) · g ≥ −(1 − 2 c1) ‖g‖²
        else t ← shrink · t and try again (at most ``max_backtracks`` times)

    The second test is Hager and Zhang's approximate Armijo condition: on a
    quadratic it is Armijo's test written with the slope at the trial point.
    Near a minimum f's decrease drowns in rounding (plain Armijo then accepts
    overshoots at random and stalls with ‖g‖ near the square root of the
    rounding level) while the slope stays accurate, so the method keeps
    converging down to gradients near the rounding level of ∇f itself.

    The first trial of the first step is ``lr``; later steps start from the
    previous accepted step, times ``grow`` when that one was accepted at its
    first trial, so the step length follows the curvature up and down and no
    learning rate needs tuning. A trial whose loss is not finite, or whose
    evaluation raises a domain or overflow error, is rejected like any other.
    When no trial decreases the loss enough (the gradient is at the level of
    rounding noise), the parameters stay where they were and
    ``state["line_search_failed"]`` is set. Changing ``lr`` between steps (a
    schedule does) scales the next trial step by the same ratio; lr = 0 means no step.

    The accepted point is the last one evaluated, so its loss and gradient are
    kept: the next step does not call the closure again at the same point unless
    the parameters or their gradients were changed meanwhile.

    On a ``manifold`` (``GradientDescent([x], manifold=Sphere(3))``) the search runs
    along the retraction curve: g is the Riemannian gradient egrad2rgrad(x, ∇f(x)),
    x(t) = retr(x, −t · g), ‖g‖² its squared norm, and the slope test uses
    ∇f(x(t)) · transp(x, x(t), g) (the derivative along the curve, to first order).

    One parameter group only (as torch's LBFGS). State (on the first parameter):
    ``step_size``, ``first_try``, ``lr``, ``n_iter``, ``func_evals``,
    ``line_search_failed``.
    """

    description = "steepest descent with Armijo backtracking line search: no lr to tune"
    requires_closure = True
    state_kinds: ClassVar[dict[str, StateKind] | None] = {
        "n_iter": "count",
        "func_evals": "count",
        "line_search_failed": "flag",
        "step_size": "positive",
        "first_try": "flag",
        "lr": "nonneg",
    }
    required_state = ("n_iter", "func_evals", "line_search_failed")
    riemannian = True

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        c1: float = 1e-4,
        shrink: float = 0.5,
        grow: float = 2.0,
        max_backtracks: int = 60,
        *,
        manifold: Manifold | str | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "c1": c1,
            "shrink": shrink,
            "grow": grow,
            "max_backtracks": max_backtracks,
        }
        super().__init__(params, with_manifold(defaults, manifold))
        self._cache: tuple[Any, float, list[Data], list[Tensor | None]] | None = None

    def add_param_group(self, param_group: ParamGroup) -> None:
        if self.param_groups:
            raise InputError(
                "GradientDescent takes one parameter group: its line search moves all "
                "parameters together"
            )
        super().add_param_group(param_group)

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        name = type(self).__name__
        if not group["lr"] > 0:
            raise InputError(f"{name}: the first trial step lr must be > 0, got {group['lr']!r}")
        check_backtracking(name, group, c1_max=1.0)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self._cache = None

    def _cached(self, params: list[Tensor]) -> tuple[Any, float] | None:
        """The loss at the current point when it was the last one evaluated, else None."""
        if self._cache is None:
            return None
        loss, value, datas, grads = self._cache
        same = all(p.data is d for p, d in zip(params, datas)) and all(
            p.grad is g for p, g in zip(params, grads)
        )
        return (loss, value) if same else None

    def _remember(self, loss: Any, value: float, params: list[Tensor]) -> None:
        kept = loss.detach() if isinstance(loss, Tensor) else loss
        self._cache = (kept, value, [p.data for p in params], [p.grad for p in params])

    def step(self, closure: Closure | None = None) -> Any:
        """One line-search step; returns the loss at the starting point."""
        if closure is None:
            raise InputError(
                "GradientDescent.step needs a closure that re-evaluates the loss: "
                f"{CLOSURE_PROTOCOL}"
            )
        group = self.param_groups[0]
        params: list[Tensor] = group["params"]
        state = self.state[params[0]]
        if not state:
            state.update(n_iter=0, func_evals=0, line_search_failed=False)
        cached = self._cached(params)
        if cached is not None:
            loss, f0 = cached
        else:
            with enable_grad():
                loss = closure()
            f0 = _value(loss)
            state["func_evals"] += 1
            check_closure_gradients("GradientDescent", loss, params)
        x0 = [p.data for p in params]
        g0 = [p.grad for p in params]
        grads = [zeros_like(p.data) if g is None else g.data for p, g in zip(params, g0)]
        manifold: Manifold | None = group.get("manifold")
        if manifold is not None and manifold.is_euclidean:
            manifold = None
        if manifold is not None:
            for i, x in enumerate(x0):
                manifold.check_point(x, f"GradientDescent.step(): parameter {i}")
            grads = [manifold.egrad2rgrad(x, B.convert(g, x)) for x, g in zip(x0, grads)]
        g2 = _squared_norm(grads)
        if not (math.isfinite(f0) and math.isfinite(g2)) or g2 == 0.0:
            self._remember(loss, f0, params)
            return loss

        lr = group["lr"]
        if lr == 0:  # a schedule may set it: like every optimizer, do not move
            self._remember(loss, f0, params)
            return loss
        t = state.get("step_size")
        if t is None or not state.get("lr"):
            t = lr
        else:
            if state["first_try"]:
                t *= group["grow"]
            if state["lr"] != lr:
                t *= lr / state["lr"]
        state["lr"] = lr
        c1, shrink = group["c1"], group["shrink"]
        for k in range(int(group["max_backtracks"]) + 1):
            for p, x, g in zip(params, x0, grads):
                with B.quiet(x):
                    p.data = x + (-t) * g if manifold is None else manifold.retr(x, (-t) * g)
            if not all(B.is_finite(p.data) for p in params):
                # a step so long that a coordinate overflowed: shorter, without evaluating
                t *= shrink
                continue
            try:
                with enable_grad():
                    trial = closure()
                f = _value(trial)
            except (DomainError, ArithmeticError):
                trial, f = None, math.nan
            state["func_evals"] += 1
            if (f <= f0 - c1 * t * g2 and f0 - f > _NOISE * abs(f0)) or (
                f <= f0 + _NOISE * abs(f0)
                and _slope(params, self._moved(manifold, x0, params, grads)) >= -(1 - 2 * c1) * g2
            ):
                state.update(step_size=t, first_try=k == 0, line_search_failed=False)
                state["n_iter"] += 1
                self._remember(trial, f, params)
                return loss
            t *= shrink
        for p, x, old in zip(params, x0, g0):
            p.data, p.grad = x, old
        state.update(line_search_failed=True, first_try=False)
        self._remember(loss, f0, params)
        return loss

    @staticmethod
    def _moved(
        manifold: Manifold | None, x0: list[Data], params: list[Tensor], grads: list[Data]
    ) -> list[Data]:
        """The search direction at the trial point: itself in flat space, else transported."""
        if manifold is None:
            return grads
        return [manifold.transp(x, p.data, g) for x, p, g in zip(x0, params, grads)]


_NOISE = 1e-10
"""How far above f_0 a trial may be when the approximate Armijo test vouches for it."""


def _squared_norm(grads: list[Data]) -> float:
    """‖g‖² over all parameters; inf when it overflows or is not finite."""
    try:
        return math.fsum(B.backend_of(g).total(_mul(g, g)) for g in grads)
    except (ArithmeticError, ValueError):  # overflow, or inf - inf: no usable value
        return math.inf


def _slope(params: list[Tensor], g0: list[Data]) -> float:
    """∇f(x(t)) · g, minus the slope of t ↦ f(x − t g) at the trial point; −inf if unknown."""
    try:
        return math.fsum(
            B.backend_of(g).total(_mul(p.grad.data, g))
            for p, g in zip(params, g0)
            if p.grad is not None
        )
    except (ArithmeticError, ValueError):  # overflow, or inf - inf: no usable value
        return -math.inf


def _mul(a: Data, b: Data) -> Data:
    return B.common_backend((a, b), "mul").mul(a, b)


def _value(loss: Any) -> float:
    """The loss as a float (a 0-D Tensor or a number)."""
    if isinstance(loss, Tensor):
        return loss.item()
    return float(loss)


def check_backtracking(name: str, group: ParamGroup, c1_max: float) -> None:
    """The Armijo backtracking options of a line-search group (gd's, Newton-CG's):
    0 < c1 < ``c1_max``, 0 < shrink < 1, grow >= 1, max_backtracks an integer >= 0."""
    backtracks = group["max_backtracks"]
    if not (isinstance(backtracks, int) and not isinstance(backtracks, bool)):
        raise InputError(f"{name}: max_backtracks must be an integer, got {backtracks!r}")
    check_nonnegative(name, max_backtracks=backtracks)
    c1, shrink, grow = group["c1"], group["shrink"], group["grow"]
    if not (is_real(c1) and 0 < c1 < c1_max):
        raise InputError(f"{name}: c1 must be in (0, {c1_max:g}), got {c1!r}")
    if not (is_real(shrink) and 0 < shrink < 1):
        raise InputError(f"{name}: shrink must be in (0, 1), got {shrink!r}")
    if not (is_real(grow) and grow >= 1):
        raise InputError(f"{name}: grow must be a finite number >= 1, got {grow!r}")
