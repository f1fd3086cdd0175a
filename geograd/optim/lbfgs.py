"""L-BFGS with torch.optim.LBFGS's constructor, defaults, state and iterates.

``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
tolerance_change=1e-9, history_size=100, line_search_fn=None)``; ``step(closure)``
runs up to ``max_iter`` inner iterations, exactly as torch's does (same two-loop
recursion, first-step scaling, strong-Wolfe line search and stopping tests), so
its iterates follow torch's to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

from geograd import backend as B
from geograd.errors import DivergenceError, InputError
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
)
from geograd.tensor import Tensor, enable_grad

Vector = list[float]
"""All parameters' entries in one flat list, in parameter order (torch's flat view)."""


class LBFGS(Optimizer):
    r"""Limited-memory BFGS (torch.optim.LBFGS, step for step; needs a closure).

    One ``step(closure)`` evaluates f and g = ∇f at x, then repeats at most
    ``max_iter`` times (k counts iterations over all steps)::

        k = 1:  d = −g,  t = min(1, 1/‖g‖₁) · lr
        k > 1:  y = g − g_prev, s = t·d; when y·s > 1e-10 keep (s, y, ρ = 1/y·s), at most
                history_size pairs, and γ = y·s / y·y;
                d = −H g by the two-loop recursion (H₀ = γ I),  t = lr
        stop when g·d > −tolerance_change (not a descent direction)
        x ← x + t d: with line_search_fn=None at once (then f, g at the new x, except
                after the last iteration); with "strong_wolfe", at the t of a strong
                Wolfe line search (c1 = 1e-4, c2 = 0.9, cubic interpolation,
                at most max_eval − (evaluations so far) evaluations)
        stop when the iterations reach max_iter, the evaluations max_eval,
             max|g| ≤ tolerance_grad, max|t d| ≤ tolerance_change or
             |f − f_prev| < tolerance_change

    and returns the loss of the first evaluation. Before any iteration, max|g| ≤
    tolerance_grad returns at once. The curvature pairs, the direction and the
    step length are kept in ``state`` (of the first parameter, as torch does), so
    successive steps continue one run.

    Differences from torch, none of which changes an iterate: parameters get new
    values, never changed in place; a step that would make a parameter infinite or
    NaN raises :class:`~geograd.errors.DivergenceError` and restores the parameters
    and the state of the step's start; when the closure was last called by this
    optimizer at the very point it starts from (same data, same gradients), that
    loss is reused rather than evaluated again (``func_evals`` counts it as torch
    does), and the line search leaves the parameters holding the data and
    gradients of the point it evaluated, so :func:`geograd.minimize` reuses that
    evaluation too. ``state_dict()`` is JSON-ready: vectors are flat lists of floats.

    Backends: the parameters are updated in their own backend (numpy stays numpy),
    but the method's own vectors (the curvature pairs, the direction, the flat
    gradient) are plain Python floats, whatever the parameters hold: like torch's
    flat view they join every parameter into one vector, which may mix backends, and
    they have the parameters' length (a handful of numbers for a geometric problem),
    never the data's.

    Non-smooth losses: at a kink the gradient is a subgradient and the curvature
    pairs can be meaningless (y·s ≤ 1e-10 pairs are skipped, as in torch); the
    line search then stops on its interval tolerance. Prefer
    ``line_search_fn="strong_wolfe"`` there.
    """

    description = "L-BFGS (torch.optim.LBFGS step for step), optional strong-Wolfe line search"
    requires_closure = True
    minimize_defaults: ClassVar[dict[str, Any]] = {
        "lr": 1.0,
        "line_search_fn": "strong_wolfe",
        "max_iter": 1,  # one minimize step = one iteration: minimize's tolerances decide
        "max_eval": 26,  # the line search's 25 trials (torch's max_iter*5//4 would be 1)
        "tolerance_grad": 0.0,
        "tolerance_change": 0.0,
    }
    state_kinds: ClassVar[dict[str, StateKind] | None] = None  # checked by _check_state

    def __init__(
        self,
        params: Params,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if isinstance(max_iter, int) and not isinstance(max_iter, bool) and max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        self._cache: tuple[Any, list[Any], list[Tensor | None]] | None = None

    def add_param_group(self, param_group: ParamGroup) -> None:
        if self.param_groups:
            raise InputError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        name = type(self).__name__
        for key in ("max_iter", "max_eval", "history_size"):
            v = group[key]
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                raise InputError(f"{name}: {key} must be an integer >= 1, got {v!r}")
        check_nonnegative(
            name, tolerance_grad=group["tolerance_grad"], tolerance_change=group["tolerance_change"]
        )
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise InputError(
                f"{name}: line_search_fn must be None or 'strong_wolfe', "
                f"got {group['line_search_fn']!r}"
            )

    # ------------------------------------------------------------ flat views
    @property
    def _params(self) -> list[Tensor]:
        params: list[Tensor] = self.param_groups[0]["params"]
        return params

    def _numel(self) -> int:
        return sum(p.shape[0] if p.shape else 1 for p in self._params)

    def _flat_grad(self) -> Vector:
        out: Vector = []
        for p in self._params:
            if p.grad is None:
                out.extend([0.0] * (p.shape[0] if p.shape else 1))
            else:
                out.extend(_entries(p.grad.data))
        return out

    def _flat_params(self) -> Vector:
        out: Vector = []
        for p in self._params:
            out.extend(_entries(p.data))
        return out

    def _set_flat(self, flat: Vector) -> None:
        """The parameters' new values from a flat vector (refused if not finite)."""
        if not all(math.isfinite(v) for v in flat):
            i = next(i for i, v in enumerate(flat) if not math.isfinite(v))
            searched = self.param_groups[0].get("line_search_fn") is not None
            advice = "Lower lr" if searched else "Lower lr, or use line_search_fn='strong_wolfe'"
            raise DivergenceError(
                f"LBFGS.step(): the update would make entry {i} of the flat parameters "
                f"{flat[i]!r}; the step was refused and the parameters and state restored. "
                f"{advice}"
            )
        at = 0
        for p in self._params:
            if p.shape:
                n = p.shape[0]
                p.data = B.backend_of(p.data).from_list(flat[at : at + n])
                at += n
            else:
                p.data = flat[at]
                at += 1

    # ------------------------------------------------------------------ step
    def step(self, closure: Closure | None = None) -> Any:
        """Up to ``max_iter`` L-BFGS iterations; returns the loss at the starting point."""
        if closure is None:
            raise InputError(
                f"LBFGS.step needs a closure that re-evaluates the loss: {CLOSURE_PROTOCOL}"
            )
        params = self._params
        state = self.state[params[0]]
        saved = {k: (list(v) if isinstance(v, list) else v) for k, v in state.items()}
        start = [(p.data, p.grad) for p in params]
        self._step_calls += 1
        try:
            return self._run(closure, state)
        except BaseException:
            for p, (data, grad) in zip(params, start):
                p.data, p.grad = data, grad
            state.clear()
            state.update(saved)
            self._cache = None
            raise

    def _evaluate(self, closure: Closure) -> tuple[Any, float]:
        with enable_grad():
            loss = closure()
        value = _value(loss)
        params = self._params
        check_closure_gradients("LBFGS", loss, params)
        kept = loss.detach() if isinstance(loss, Tensor) else loss
        self._cache = (kept, [p.data for p in params], [p.grad for p in params])
        return loss, value

    def _cached(self) -> Any:
        if self._cache is None:
            return None
        loss, datas, grads = self._cache
        params = self._params
        if all(p.data is d for p, d in zip(params, datas)) and all(
            p.grad is g for p, g in zip(params, grads)
        ):
            return loss
        return None

    def _run(self, closure: Closure, state: dict[str, Any]) -> Any:
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter: int = group["max_iter"]
        max_eval: int = group["max_eval"]
        tolerance_grad = float(group["tolerance_grad"])
        tolerance_change = float(group["tolerance_change"])
        history_size: int = group["history_size"]
        strong_wolfe = group["line_search_fn"] == "strong_wolfe"

        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._cached()
        if orig_loss is not None:
            loss = _value(orig_loss)
        else:
            orig_loss, loss = self._evaluate(closure)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._flat_grad()
        if _amax(flat_grad) <= tolerance_grad:
            return orig_loss

        d: Vector | None = state.get("d")
        t: float = state.get("t", lr)
        old_dirs: list[Vector] = state.get("old_dirs", [])
        old_stps: list[Vector] = state.get("old_stps", [])
        ro: list[float] = state.get("ro", [])
        h_diag: float = state.get("H_diag", 1.0)
        prev_flat_grad: Vector | None = state.get("prev_flat_grad")
        prev_loss: float | None = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            if state["n_iter"] == 1 or d is None or prev_flat_grad is None:
                d = [-v for v in flat_grad]
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1.0
            else:
                y = [a - b for a, b in zip(flat_grad, prev_flat_grad)]
                s = [v * t for v in d]
                ys = _dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / _dot(y, y)
                d = two_loop(flat_grad, old_stps, old_dirs, ro, h_diag)

            prev_flat_grad = list(flat_grad)
            prev_loss = loss

            t = min(1.0, 1.0 / _l1(flat_grad)) * lr if state["n_iter"] == 1 else lr

            gtd = _dot(flat_grad, d)
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            opt_cond = False
            if strong_wolfe:
                x_init = self._flat_params()
                points: dict[float, tuple[list[Any], list[Tensor | None]]] = {}

                def obj_func(
                    step: float,
                    x0: Vector = x_init,
                    direction: Vector = d,
                    points: dict[float, Any] = points,
                ) -> tuple[float, Vector]:
                    self._set_flat([a + step * b for a, b in zip(x0, direction)])
                    _, value = self._evaluate(closure)
                    points[step] = ([p.data for p in self._params], [p.grad for p in self._params])
                    return value, self._flat_grad()

                loss, flat_grad, t, ls_func_evals = strong_wolfe_search(
                    obj_func, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                new = [a + t * b for a, b in zip(x_init, d)]
                # No move at all: the search found no decrease along d (as gd's Armijo
                # search reports it, for minimize to tell rounding level from a stall).
                state["line_search_failed"] = new == x_init
                self._set_flat(new)
                if t in points and self._flat_params() == new:
                    # the very point the line search evaluated: keep its data and gradients
                    datas, grads = points[t]
                    for p, data, grad in zip(self._params, datas, grads):
                        p.data, p.grad = data, grad
                opt_cond = _amax(flat_grad) <= tolerance_grad
            else:
                self._set_flat([a + t * b for a, b in zip(self._flat_params(), d)])
                if n_iter != max_iter:
                    _, loss = self._evaluate(closure)
                    flat_grad = self._flat_grad()
                    opt_cond = _amax(flat_grad) <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if _amax(d) * abs(t) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(
            d=d,
            t=t,
            old_dirs=old_dirs,
            old_stps=old_stps,
            ro=ro,
            H_diag=h_diag,
            prev_flat_grad=prev_flat_grad,
            prev_loss=prev_loss,
        )
        return orig_loss

    # ------------------------------------------------------------ state dicts
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self._cache = None

    def _check_state(self, p: Tensor, values: dict[str, Any], index: int) -> dict[str, Any]:
        where = f"load_state_dict: the state of parameter {index}"
        n = self._numel()
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name not in _STATE:
                raise InputError(
                    f"{where} has an unknown entry {name!r}; LBFGS keeps {', '.join(_STATE)}"
                )
            out[name] = _STATE[name](value, n, f"{where}: {name!r}")
        pairs = {len(out.get(k, [])) for k in ("old_dirs", "old_stps", "ro")}
        if len(pairs) > 1:
            raise InputError(f"{where}: old_dirs, old_stps and ro must have equal lengths")
        return out


def two_loop(
    grad: Vector, stps: list[Vector], dirs: list[Vector], ro: list[float], h_diag: float
) -> Vector:
    """−H g by the two-loop recursion: H is the L-BFGS inverse Hessian built from H₀ = γ I
    by the BFGS updates with the pairs (s_i, y_i), oldest first, ρ_i = 1/(y_i·s_i)."""
    q = [-v for v in grad]
    al = [0.0] * len(dirs)
    for i in range(len(dirs) - 1, -1, -1):
        al[i] = _dot(stps[i], q) * ro[i]
        q = [a - al[i] * b for a, b in zip(q, dirs[i])]
    r = [v * h_diag for v in q]
    for i in range(len(dirs)):
        be_i = _dot(dirs[i], r) * ro[i]
        r = [a + (al[i] - be_i) * b for a, b in zip(r, stps[i])]
    return r


def cubic_interpolate(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """The minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to ``bounds``
    (default: the interval between x1 and x2); the bounds' midpoint when it has none.

    Divisions are float64's, as torch's tensors make them: a cubic that degenerates
    (f linear along the line, so g1 = g2 and the denominator is 0) has its minimizer
    at ±inf, clamped to a bound, where Python's ``/`` raised ZeroDivisionError. Where
    torch's arithmetic gives NaN (0/0) the midpoint is taken: geograd evaluates no NaN.
    """
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * _divide(f1 - f2, x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            pos = x2 - (x2 - x1) * _divide(g2 + d2 - d1, g2 - g1 + 2 * d2)
        else:
            pos = x1 - (x1 - x2) * _divide(g1 + d2 - d1, g1 - g2 + 2 * d2)
        if not math.isnan(pos):
            return min(max(pos, lo), hi)
    return (lo + hi) / 2.0


def _divide(a: float, b: float) -> float:
    """a / b in IEEE 754 arithmetic: ±inf for a nonzero a over ±0, NaN for 0/0."""
    if b != 0.0 or math.isnan(b):
        return a / b
    if a == 0.0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def strong_wolfe_search(
    obj_func: Callable[[float], tuple[float, Vector]],
    t: float,
    d: Vector,
    f: float,
    g: Vector,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Vector, float, int]:
    """A step length t along d meeting the strong Wolfe conditions (torch's search)::

        f(x + t d) ≤ f + c1 t g·d   and   |∇f(x + t d)·d| ≤ −c2 g·d

    Bracketing (the step grows by cubic extrapolation within [t + 0.01 (t − t_prev),
    10 t]) then zoom (cubic interpolation, kept 10% of the interval away from its
    ends when progress is slow), at most ``max_ls`` evaluations; the zoom stops when
    the interval times max|d| is below ``tolerance_change``. ``obj_func(t)`` returns
    f and ∇f at x + t d. Returns (f, ∇f, t, evaluations) of the best point found.
    """
    d_norm = _amax(d)
    f_new, g_new = obj_func(t)
    evals = 1
    gtd_new = _dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[Vector] = []
    bracket_gtd: list[float] = []
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate
        low, high = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, (low, high))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = obj_func(t)
        evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    insufficient = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # keep t away from the ends of the bracket when the interval is not shrinking
        top, bottom = max(bracket), min(bracket)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insufficient or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False

        f_new, g_new = obj_func(t)
        evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], evals


# ----------------------------------------------------------------------- helpers


def _entries(data: Any) -> Vector:
    return [float(data)] if type(data) is float else B.tolist(data, "LBFGS")


def _dot(a: Vector, b: Vector) -> float:
    return math.fsum(x * y for x, y in zip(a, b))


def _amax(a: Vector) -> float:
    return max((abs(v) for v in a), default=0.0)


def _l1(a: Vector) -> float:
    return math.fsum(abs(v) for v in a)


def _value(loss: Any) -> float:
    if isinstance(loss, Tensor):
        return loss.item()
    return float(loss)


def _vector(value: Any, n: int, where: str) -> Vector:
    if not (isinstance(value, list) and len(value) == n and all(is_real(v) for v in value)):
        raise InputError(f"{where} must be a list of {n} finite numbers"[:300])
    return [float(v) for v in value]


def _vectors(value: Any, n: int, where: str) -> list[Vector]:
    if not isinstance(value, list):
        raise InputError(f"{where} must be a list of vectors")
    return [_vector(v, n, where) for v in value]


def _number(value: Any, n: int, where: str) -> float:
    if not is_real(value):
        raise InputError(f"{where} must be a finite number, got {value!r}"[:300])
    return float(value)


def _count(value: Any, n: int, where: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise InputError(f"{where} must be an integer >= 0, got {value!r}"[:300])
    return value


def _flag(value: Any, n: int, where: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{where} must be true or false, got {value!r}"[:300])
    return value


def _optional(check: Callable[[Any, int, str], Any]) -> Callable[[Any, int, str], Any]:
    return lambda value, n, where: None if value is None else check(value, n, where)


_STATE: dict[str, Callable[[Any, int, str], Any]] = {
    "func_evals": _count,
    "n_iter": _count,
    "d": _optional(_vector),
    "t": _number,
    "old_dirs": _vectors,
    "old_stps": _vectors,
    "ro": lambda value, n, where: [_number(v, n, where) for v in _list(value, where)],
    "H_diag": _number,
    "prev_flat_grad": _optional(_vector),
    "prev_loss": _optional(_number),
    # ours, not torch's: the last strong-Wolfe search found no decrease (x did not move)
    "line_search_failed": _flag,
}


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"{where} must be a list")
    return value
