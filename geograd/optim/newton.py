"""Newton methods from exact Hessian-vector products: Newton-CG and Steihaug's trust region.

Neither forms the Hessian: each product H v is one backward pass through the
gradient's own graph (:func:`geograd.derivatives.hvp_from_graph`), so a step
costs one evaluation with ``create_graph`` plus one backward per CG iteration,
in any dimension and on any backend. Both need a closure (``requires_closure``)
and keep one parameter group.

Kinks. The engine gives a non-smooth loss a subgradient (the gradient of a
distance at zero distance is 0) and the second-derivative terms of such a kink
are then missing, infinite or undefined. Sitting on a kink (the geometric median
at a data point, the Fermat point at a vertex of a triangle with an angle of
120° or more), or when a product H v raises a domain error or comes back
infinite or NaN, the methods fall back to a gradient step: Newton-CG along −g
with its Armijo search (the length of the last accepted step as first trial),
trust-ncg along −g to the trust-region boundary, judged by the linear model.
A trial point whose loss is not finite, or whose evaluation raises a domain or
overflow error, is rejected like a poor one, so no step ever writes a NaN or an
infinity. When no trial decreases the loss (at the minimum of a kink, or at the
level of rounding) the parameters stay and ``state["line_search_failed"]`` is
set, which :func:`geograd.minimize` reads as convergence to rounding.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from geograd import backend as B
from geograd.backend import Data
from geograd.derivatives import gradient_graph, hvp_from_graph
from geograd.errors import DomainError, InputError
from geograd.optim.lbfgs import Vector, _dot, _entries, _value
from geograd.optim.linesearch import check_backtracking
from geograd.optim.optimizer import (
    CLOSURE_PROTOCOL,
    Closure,
    Optimizer,
    ParamGroup,
    Params,
    StateKind,
    is_real,
)
from geograd.tensor import Tensor, enable_grad

_NOISE = 1e-10
"""How far above f(x) an accepted trial may be when its slope vouches for it
(the loss's rounding level; see GradientDescent's approximate Armijo test)."""


class _HessianFailed(Exception):
    """A Hessian-vector product was not usable (a kink, an overflow)."""


class _SecondOrder(Optimizer):
    """What both methods share: one group, a loss graph kept between steps, flat vectors."""

    requires_closure = True
    follows_schedule = False  # lr seeds the first trial step / radius only

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        super().__init__(params, defaults)
        self._cache: tuple[Tensor, list[Data]] | None = None

    def add_param_group(self, param_group: ParamGroup) -> None:
        if self.param_groups:
            raise InputError(
                f"{type(self).__name__} takes one parameter group: its steps move all "
                "parameters together"
            )
        super().add_param_group(param_group)

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        name = type(self).__name__
        cg = group["cg_max_iter"]
        if cg is not None and not (isinstance(cg, int) and not isinstance(cg, bool) and cg >= 1):
            raise InputError(f"{name}: cg_max_iter must be None or an integer >= 1, got {cg!r}")
        if not group["lr"] > 0:
            raise InputError(f"{name}: lr must be > 0, got {group['lr']!r}")

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self._cache = None

    @property
    def _params(self) -> list[Tensor]:
        params: list[Tensor] = self.param_groups[0]["params"]
        return params

    def _flat(self, datas: list[Data]) -> Vector:
        out: Vector = []
        for d in datas:
            out.extend(_entries(d))
        return out

    def _split(self, flat: Vector) -> list[Data]:
        out: list[Data] = []
        at = 0
        for p in self._params:
            if p.shape:
                n = p.shape[0]
                out.append(B.backend_of(p.data).from_list(flat[at : at + n]))
                at += n
            else:
                out.append(flat[at])
                at += 1
        return out

    def _evaluate(self, closure: Closure, state: dict[str, Any]) -> tuple[Any, float]:
        """The closure at the parameters' present values; (loss, f) with f = nan on failure."""
        try:
            with enable_grad():
                loss = closure()
            f = _value(loss)
        except (DomainError, ArithmeticError):
            return None, math.nan
        finally:
            state["func_evals"] += 1
        if isinstance(loss, Tensor):
            self._cache = (loss, [p.data for p in self._params])
        return loss, f

    def _start(self, closure: Closure | None) -> tuple[dict[str, Any], Any, float]:
        if closure is None:
            raise InputError(
                f"{type(self).__name__}.step needs a closure that re-evaluates the loss: "
                f"{CLOSURE_PROTOCOL}"
            )
        self._step_calls += 1
        state = self.state[self._params[0]]
        if not state:
            state.update(n_iter=0, func_evals=0, hvp_evals=0, gradient_steps=0)
            state["line_search_failed"] = False
        if self._cache is not None and all(
            p.data is d for p, d in zip(self._params, self._cache[1])
        ):
            loss: Any = self._cache[0]
            return state, loss, _value(loss)
        with enable_grad():
            loss = closure()
        state["func_evals"] += 1
        if isinstance(loss, Tensor):
            self._cache = (loss, [p.data for p in self._params])
        return state, loss, _value(loss)

    def _gradient(self, loss: Any) -> tuple[list[Tensor], Vector]:
        """The gradient graph at the present point and its values, flat."""
        params = self._params
        if not isinstance(loss, Tensor):
            zeros = [Tensor.from_data(B.zeros_like(p.data)) for p in params]
            return zeros, self._flat([z.data for z in zeros])
        grads = gradient_graph(loss, params)
        return grads, self._flat([g.data for g in grads])

    def _hvp(self, grads: list[Tensor], v: Vector, state: dict[str, Any]) -> Vector:
        """H v, flat; _HessianFailed when it cannot be computed or is not finite."""
        state["hvp_evals"] += 1
        try:
            hv = self._flat(hvp_from_graph(grads, self._params, self._split(v)))
        except (DomainError, ArithmeticError) as exc:
            raise _HessianFailed(str(exc)) from None
        if not all(math.isfinite(x) for x in hv):
            raise _HessianFailed("a Hessian-vector product is not finite")
        return hv

    def _move(self, x0: list[Data], step: Vector) -> bool:
        """Set the parameters to x0 + step; False (and x0 kept) if that is not finite."""
        flat = [a + b for a, b in zip(self._flat(x0), step)]
        if not all(math.isfinite(v) for v in flat):
            return False
        for p, d in zip(self._params, self._split(flat)):
            p.data = d
        return True

    def _restore(self, x0: list[Data], g0: list[Tensor | None]) -> None:
        for p, d, g in zip(self._params, x0, g0):
            p.data, p.grad = d, g

    def _slope(self, direction: Vector) -> float:
        """∇f · direction at the parameters' present point (from their .grad); −inf if unknown."""
        g = self._flat(
            [B.zeros_like(p.data) if p.grad is None else p.grad.data for p in self._params]
        )
        value = _dot(g, direction)
        return value if math.isfinite(value) else -math.inf


class NewtonCG(_SecondOrder):
    r"""Newton-CG: truncated conjugate gradients on H p = −g, then an Armijo line search.

    One step at x, with g = ∇f(x) and products H v from the autograd graph::

        CG on H p = −g from p = 0, until ‖H p + g‖ ≤ min(0.5, √‖g‖) ‖g‖
           (a superlinear forcing sequence) or cg_max_iter iterations (default 2n + 10)
           stopping early at a direction d of curvature dᵀH d ≤ 0: p is the CG
           iterate so far (a gradient step, below, if that is the first direction)
        t = min(1, grow · t_prev) (the first step: lr), then t ← shrink · t until
           f(x + t p) ≤ f(x) + c1 t g·p, or (at the rounding level of f)
           f(x + t p) ≤ f(x) + 1e-10 |f(x)| and ∇f(x + t p)·p ≤ (1 − 2 c1) |g·p|

    so near a minimum with H positive definite every step is a full Newton step
    and convergence is quadratic. ``lr`` sets only the first trial step; the full
    Newton step 1 needs no learning rate.

    At a kink (the median at a data point, the Fermat vertex) or where a Hessian
    product fails (a domain error, an infinity or a NaN), or where p is not a
    descent direction, the step is a gradient step instead: p = −(ℓ/‖g‖) g with ℓ
    the length of the last accepted step (at first lr), searched the same way;
    ``state["gradient_steps"]`` counts them. A trial whose loss is not finite or
    whose evaluation raises a domain error is rejected; when no trial is
    accepted, x stays and ``state["line_search_failed"]`` is set. Never a NaN.

    State (on the first parameter): ``n_iter``, ``func_evals``, ``hvp_evals``,
    ``gradient_steps``, ``line_search_failed``, ``step_size`` (the last accepted
    t), ``step_length`` (the last accepted ‖t p‖).
    """

    description = "Newton-CG with exact Hessian-vector products and Armijo backtracking"
    state_kinds: ClassVar[dict[str, StateKind] | None] = {
        "n_iter": "count",
        "func_evals": "count",
        "hvp_evals": "count",
        "gradient_steps": "count",
        "line_search_failed": "flag",
        "step_size": "positive",
        "step_length": "positive",
    }
    required_state = ("n_iter", "func_evals", "line_search_failed")

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        c1: float = 1e-4,
        shrink: float = 0.5,
        grow: float = 2.0,
        max_backtracks: int = 40,
        cg_max_iter: int | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "c1": c1,
            "shrink": shrink,
            "grow": grow,
            "max_backtracks": max_backtracks,
            "cg_max_iter": cg_max_iter,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        name = type(self).__name__
        check_backtracking(name, group, c1_max=0.5)  # c1 < 1/2: Newton's unit step passes

    def step(self, closure: Closure | None = None) -> Any:
        """One Newton-CG step with its line search; returns the loss at the starting point."""
        state, loss, f0 = self._start(closure)
        assert closure is not None
        group = self.param_groups[0]
        if not math.isfinite(f0):
            return loss
        grads, g = self._gradient(loss)
        gnorm = math.sqrt(_dot(g, g))
        if gnorm == 0.0 or not math.isfinite(gnorm):
            return loss
        n = len(g)
        cg_max = group["cg_max_iter"] or 2 * n + 10
        try:
            p = self._newton_direction(grads, g, gnorm, cg_max, state)
            newton = _dot(g, p) < 0
        except _HessianFailed:
            newton = False
        if not newton:
            length = state.get("step_length", float(group["lr"]))
            p = [-(length / gnorm) * v for v in g]
            state["gradient_steps"] += 1
        slope = _dot(g, p)

        t = float(group["lr"]) if "step_size" not in state else state["step_size"] * group["grow"]
        t = min(1.0, t) if newton else 1.0
        x0 = [q.data for q in self._params]
        g0 = [q.grad for q in self._params]
        c1, shrink = float(group["c1"]), float(group["shrink"])
        for _ in range(int(group["max_backtracks"]) + 1):
            if not self._move(x0, [t * v for v in p]):
                t *= shrink
                continue
            _, f = self._evaluate(closure, state)
            if math.isfinite(f) and (
                (f <= f0 + c1 * t * slope and f < f0)
                or (f <= f0 + _NOISE * abs(f0) and self._slope(p) <= (1 - 2 * c1) * abs(slope))
            ):
                state["n_iter"] += 1
                state["line_search_failed"] = False
                if newton:
                    state["step_size"] = t
                length = t * math.sqrt(_dot(p, p))
                if length > 0:
                    state["step_length"] = length
                return loss
            t *= shrink
        self._restore(x0, g0)
        state["line_search_failed"] = True
        return loss

    def _newton_direction(
        self, grads: list[Tensor], g: Vector, gnorm: float, cg_max: int, state: dict[str, Any]
    ) -> Vector:
        """Truncated CG on H p = −g (see the class docstring)."""
        tol = min(0.5, math.sqrt(gnorm)) * gnorm
        p = [0.0] * len(g)
        r = list(g)  # the residual H p + g
        d = [-v for v in g]
        rr = _dot(r, r)
        for k in range(cg_max):
            hd = self._hvp(grads, d, state)
            curvature = _dot(d, hd)
            if not curvature > 0:
                if k == 0:  # no Newton information at all: a gradient step
                    raise _HessianFailed("the gradient direction has curvature <= 0")
                return p
            alpha = rr / curvature
            p = [a + alpha * b for a, b in zip(p, d)]
            r = [a + alpha * b for a, b in zip(r, hd)]
            rr_new = _dot(r, r)
            if math.sqrt(rr_new) <= tol:
                break
            d = [-a + (rr_new / rr) * b for a, b in zip(r, d)]
            rr = rr_new
        return p


class TrustNCG(_SecondOrder):
    r"""Trust-region Newton-CG (Steihaug's truncated CG on the quadratic model).

    One step at x, radius Δ (at first ``lr``), model m(p) = f + g·p + ½ pᵀH p::

        CG on H p = −g from p = 0, stopping at ‖H p + g‖ ≤ min(0.5, √‖g‖) ‖g‖, or at
           the boundary ‖p‖ = Δ when a direction has curvature ≤ 0 (the boundary
           point of lower model value) or an iterate would leave the region
        ρ = (f(x) − f(x + p)) / (m(0) − m(p))
        ρ < 1/4: Δ ← Δ/4;  ρ > 3/4 and ‖p‖ = Δ: Δ ← min(2Δ, max_radius)
        accept x + p when ρ > eta; else x stays and the step tries again with
           the smaller Δ, until Δ falls below the resolution of x

    At the rounding level of f, where ρ is noise, a trial with |f(x + p) − f(x)| ≤
    1e-10 |f(x)| is accepted when its gradient norm is smaller than at x.

    At a kink or where a Hessian product fails (a domain error, an infinity or a
    NaN), the step is the steepest-descent step to the boundary, p = −Δ g/‖g‖,
    judged with the linear model (m(0) − m(p) = Δ‖g‖), so the method degrades to
    a gradient method with an adaptive step instead of writing a NaN; a trial whose
    loss is not finite or raises a domain error is rejected (Δ ← Δ/4).
    ``state["gradient_steps"]`` counts the fallbacks; ``state["line_search_failed"]``
    is set when Δ has shrunk to below the resolution of x (nothing more can happen).

    State: ``n_iter``, ``func_evals``, ``hvp_evals``, ``gradient_steps``, ``radius``,
    ``line_search_failed``.
    """

    description = "trust-region Newton-CG (Steihaug) with exact Hessian-vector products"
    state_kinds: ClassVar[dict[str, StateKind] | None] = {
        "n_iter": "count",
        "func_evals": "count",
        "hvp_evals": "count",
        "gradient_steps": "count",
        "line_search_failed": "flag",
        "radius": "positive",
    }
    required_state = ("n_iter", "func_evals", "line_search_failed")

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        max_radius: float = 1000.0,
        eta: float = 0.15,
        cg_max_iter: int | None = None,
    ) -> None:
        defaults = {"lr": lr, "max_radius": max_radius, "eta": eta, "cg_max_iter": cg_max_iter}
        super().__init__(params, defaults)

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        name = type(self).__name__
        eta, top = group["eta"], group["max_radius"]
        if not (is_real(eta) and 0 <= eta < 0.25):
            raise InputError(f"{name}: eta must be in [0, 0.25), got {eta!r}")
        if not (is_real(top) and top > 0):
            raise InputError(f"{name}: max_radius must be a finite number > 0, got {top!r}")

    def step(self, closure: Closure | None = None) -> Any:
        """One trust-region iteration; returns the loss at the starting point."""
        state, loss, f0 = self._start(closure)
        assert closure is not None
        group = self.param_groups[0]
        radius = float(state.get("radius", min(float(group["lr"]), group["max_radius"])))
        if not math.isfinite(f0):
            return loss
        grads, g = self._gradient(loss)
        gnorm = math.sqrt(_dot(g, g))
        if gnorm == 0.0 or not math.isfinite(gnorm):
            return loss
        cg_max = group["cg_max_iter"] or 2 * len(g) + 10
        x0 = [q.data for q in self._params]
        g0 = [q.grad for q in self._params]
        size = max((abs(v) for v in self._flat(x0)), default=0.0)
        floor = math.ulp(max(size, 1e-300))
        state["n_iter"] += 1
        # a rejected trial shrinks the region and tries again within the same step, so
        # that a step either moves x or reports that nothing can (line_search_failed)
        while True:
            accept, radius = self._trial(closure, state, grads, g, gnorm, radius, cg_max, f0)
            if accept:
                state["line_search_failed"] = False
                break
            self._restore(x0, g0)
            if radius <= floor:
                state["line_search_failed"] = True
                radius = floor
                break
        state["radius"] = radius
        return loss

    def _trial(
        self,
        closure: Closure,
        state: dict[str, Any],
        grads: list[Tensor],
        g: Vector,
        gnorm: float,
        radius: float,
        cg_max: int,
        f0: float,
    ) -> tuple[bool, float]:
        """One trust-region trial from the present point: (accepted, the new radius)."""
        group = self.param_groups[0]
        try:
            p, hp, boundary = self._steihaug(grads, g, gnorm, radius, cg_max, state)
            predicted = -(_dot(g, p) + 0.5 * _dot(p, hp))
        except _HessianFailed:
            p = [-(radius / gnorm) * v for v in g]
            predicted, boundary = radius * gnorm, True
            state["gradient_steps"] += 1
        x0 = [q.data for q in self._params]
        f = math.nan
        if predicted > 0 and self._move(x0, p):
            _, f = self._evaluate(closure, state)
        rho = (f0 - f) / predicted if math.isfinite(f) and predicted > 0 else -math.inf
        accept = rho > group["eta"]
        if not accept and math.isfinite(f) and abs(f - f0) <= _NOISE * abs(f0):
            accept = self._grad_norm([q.grad for q in self._params]) < gnorm
        if rho < 0.25:
            radius *= 0.25
        elif rho > 0.75 and boundary:
            radius = min(2.0 * radius, float(group["max_radius"]))
        return accept, radius

    def _grad_norm(self, grads: list[Tensor | None]) -> float:
        flat = self._flat(
            [B.zeros_like(p.data) if g is None else g.data for p, g in zip(self._params, grads)]
        )
        return math.sqrt(_dot(flat, flat))

    def _steihaug(
        self,
        grads: list[Tensor],
        g: Vector,
        gnorm: float,
        radius: float,
        cg_max: int,
        state: dict[str, Any],
    ) -> tuple[Vector, Vector, bool]:
        """(p, H p, on the boundary) by Steihaug's CG (see the class docstring)."""
        tol = min(0.5, math.sqrt(gnorm)) * gnorm
        n = len(g)
        z, hz = [0.0] * n, [0.0] * n
        r = list(g)
        d = [-v for v in g]
        rr = _dot(r, r)
        for _ in range(cg_max):
            hd = self._hvp(grads, d, state)
            curvature = _dot(d, hd)
            if not curvature > 0:
                # the boundary point along d of lower model value
                ta, tb = _to_boundary(z, d, radius)
                best = min(
                    (ta, tb),
                    key=lambda tau: (
                        _dot(g, [a + tau * b for a, b in zip(z, d)])
                        + 0.5
                        * _dot(
                            [a + tau * b for a, b in zip(z, d)],
                            [a + tau * b for a, b in zip(hz, hd)],
                        )
                    ),
                )
                return _along(z, d, best), _along(hz, hd, best), True
            alpha = rr / curvature
            z_next = _along(z, d, alpha)
            if math.sqrt(_dot(z_next, z_next)) >= radius:
                _, tb = _to_boundary(z, d, radius)
                return _along(z, d, tb), _along(hz, hd, tb), True
            z, hz = z_next, _along(hz, hd, alpha)
            r = _along(r, hd, alpha)
            rr_new = _dot(r, r)
            if math.sqrt(rr_new) < tol:
                break
            d = [-a + (rr_new / rr) * b for a, b in zip(r, d)]
            rr = rr_new
        return z, hz, False


def _along(a: Vector, d: Vector, t: float) -> Vector:
    return [x + t * y for x, y in zip(a, d)]


def _to_boundary(z: Vector, d: Vector, radius: float) -> tuple[float, float]:
    """The two τ (τ_a ≤ 0 ≤ τ_b) with ‖z + τ d‖ = radius, for ‖z‖ ≤ radius."""
    a = _dot(d, d)
    b = 2.0 * _dot(z, d)
    c = _dot(z, z) - radius * radius
    root = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
    # the stable pair of roots: no cancellation between -b and the root
    q = -0.5 * (b + math.copysign(root, b))
    t1 = q / a
    t2 = c / q if q != 0 else -t1
    return (min(t1, t2), max(t1, t2))
