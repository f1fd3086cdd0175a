"""Layer 5: ``minimize()``: the optimization loop, its stopping rules, its history, ``Result``.

One loop for every optimizer: evaluate f and ∇f at x_k (zero the gradients,
``fun(x)``, ``backward()``), test the stopping rules, step, repeat. Optimizers
that need the loss itself (a line search, ``requires_closure``) get the
evaluation as a closure; when their last evaluation was at the point they
accepted, that evaluation is reused rather than repeated.

On lazy data (dask arrays: forward and backward only build a graph) an evaluation
ends by computing the loss and every parameter's gradient together, in one pass
over the data (:func:`geograd.backend.materialize`: one ``dask.compute``, on a
dask.distributed cluster when one is the default scheduler); the parameters stay
small and in memory, in their own backend, and so does everything the loop and the
optimizers read. On eager backends that step changes nothing.

Stopping rules, tested at each iterate x_k in this order (a tolerance of
``None`` switches its rule off):

=============  =============================================================
``gtol``       ‖∇f(x_k)‖ ≤ gtol  (2-norm over all parameters)
``stalled``    x_k = x_{k−1} exactly (every coordinate of every parameter),
               ``ftol`` or ``xtol`` is on (either would stop the run here), and
               ‖∇f(x_k)‖ > max(1e-8 · ‖∇f(x_0)‖, 10 · gtol), unless the
               optimizer is a line search that found no decrease
               (``state["line_search_failed"]``: convergence to the rounding
               level, which ends as ``ftol`` or ``xtol`` below). Not converged:
               the steps fall below float64's resolution of x (lr far too
               small, or a schedule that reached 0)
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

When a step leaves x where it was, the gradient decides between a stall and a
convergence. Near a minimum f − f* grows as ‖∇f‖², so a gradient 1e-8 of the
start's puts f within about 1e-16 of its start's distance from f*, float64's
resolution of f: x cannot get closer. A gradient within 10 times gtol is at
the floor the caller set, often its rounding floor (a run resumed at a point
converged before stops at once, and its gradient tells no more). Any larger
gradient means the run stopped moving before it got anywhere near.

``Result.message`` says why the run stopped and, when it failed, what to change;
for ``max_steps`` the advice is read from the run's own course (see
:func:`_advice`), kept in constant memory while the run goes.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from typing import Any, Literal, TypeAlias

from geograd import backend as B
from geograd.backend import Data
from geograd.errors import DomainError, InputError
from geograd.optim.adagrad import Adagrad
from geograd.optim.adam import Adam, Adamax
from geograd.optim.clip import clip_grad_norm_
from geograd.optim.lbfgs import LBFGS
from geograd.optim.optimizer import KeywordError, Optimizer, keyword_hint
from geograd.optim.registry import get_optimizer
from geograd.optim.rmsprop import RMSprop
from geograd.optim.schedules import SCHEDULES, Schedule, apply_schedule
from geograd.optim.sgd import SGD
from geograd.tensor import Tensor, enable_grad

Reason: TypeAlias = Literal[
    "gtol", "ftol", "xtol", "stalled", "max_steps", "time_limit", "diverged", "interrupted"
]
REASONS: tuple[str, ...] = (
    "gtol",
    "ftol",
    "xtol",
    "stalled",
    "max_steps",
    "time_limit",
    "diverged",
    "interrupted",
)
CONVERGED: frozenset[str] = frozenset({"gtol", "ftol", "xtol"})
#: Result.status of each failure, in scipy.optimize's codes where it has one.
STATUS: dict[str, int] = {
    "max_steps": 1, "stalled": 2, "diverged": 3, "time_limit": 4, "interrupted": 99,
}  # fmt: skip
Value: TypeAlias = "float | list[float]"

HISTORY_LIMIT = 2000
"""The most iterates ``Result.history`` holds, however long the run."""
HISTORY_HEAD = 200
"""The first this many recorded iterates are never thinned out of the history."""
HISTORY_KEYS = ("step", "loss", "grad_norm", "x", "lr")

STALL_GRADIENT = 1e-8
"""A step that leaves x unchanged is a stall while ‖∇f‖ > this times ‖∇f(x0)‖ ..."""
STALL_GTOL = 10.0
#: A failed line search is convergence to rounding only where ‖∇f‖²/‖∇f0‖² is within
#: this factor of eps·|f|/(f0 - f) (see :meth:`_Trend.converged_by_line_search`).
ROUNDING_MARGIN = 1e4
#: float64's relative rounding.
EPS = 2.0**-52
"""... and ‖∇f‖ > this times gtol (see the module docstring)."""


@dataclass
class Result:
    """What :func:`minimize` found, why it stopped, and how it got there.

    ``x``, ``loss`` and ``grad_norm`` belong together: the final iterate (for a
    divergence, the last finite one), after ``steps`` optimizer steps and
    ``evaluations`` evaluations of ``fun`` with its gradient. ``start_loss`` is
    f(x0): a run with ``loss > start_loss`` ended worse than it started.
    ``best_*`` is the lowest-loss iterate seen, which for a non-monotone method
    (Adam, momentum) may be better than the final one.

    ``history`` holds plain lists ``step``, ``loss``, ``grad_norm``, ``x`` and
    ``lr`` (the learning rate in force from that iterate on), in step order, in
    at most :data:`HISTORY_LIMIT` entries however long the run:

    - iterates are recorded every ``record_every`` steps (the stride), from step 0;
    - the first :data:`HISTORY_HEAD` recorded iterates are always kept;
    - when the entries would reach the limit, every other one after those is
      dropped (the ones kept are at multiples of twice the stride) and the stride
      doubles, so the entries stay evenly spaced at a stride of ``record_every``
      times a power of 2;
    - the best iterate (``best_step``) and the final one are always included.

    A Result built without ``start_loss`` takes the loss of its history's step 0.

    ``grad`` (scipy's ``jac``) is the gradient with respect to x at ``x``, in
    x's form (a float for a 0-D x, else a list of floats); ``options`` the
    optimizer's settings as the run used them (its first parameter group, learning
    rate included, whether given or chosen by minimize; see :func:`minimize`).
    Both are None / empty in a Result built without them.
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
    start_loss: float = math.nan
    grad: Value | None = field(default=None, repr=False)
    options: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Results assembled by other code (a multi-stage solve) may leave it out.
        steps = self.history.get("step") or []
        if math.isnan(self.start_loss) and steps and steps[0] == 0:
            self.start_loss = float(self.history["loss"][0])

    # ------------------------------------------------ scipy.optimize.OptimizeResult's names
    @property
    def fun(self) -> float:
        """scipy's name for ``loss``: f at the final iterate."""
        return self.loss

    @property
    def nit(self) -> int:
        """scipy's name for ``steps``: the optimizer steps taken."""
        return self.steps

    @property
    def nfev(self) -> int:
        """scipy's name for ``evaluations``: calls of ``fun`` (each with its gradient)."""
        return self.evaluations

    @property
    def njev(self) -> int:
        """Gradient evaluations: every evaluation of ``fun`` computes its gradient too."""
        return self.evaluations

    @property
    def success(self) -> bool:
        """scipy's name for ``converged``."""
        return self.converged

    @property
    def status(self) -> int:
        """scipy's termination code (:data:`STATUS`): 0 converged, 1 max_steps (scipy: the
        iteration limit), 2 stalled (scipy's BFGS: precision loss), 3 diverged (NaN met),
        4 time_limit, 99 interrupted (scipy: the callback raised StopIteration)."""
        return 0 if self.converged else STATUS[self.reason]

    @property
    def jac(self) -> Value | None:
        """scipy's name for ``grad``: the gradient at ``x`` (a copy; None when unknown)."""
        if self.grad is not None:
            grad: Value = _copy(self.grad)
            return grad
        grads = self.history.get("grad")
        return _copy(grads[-1]) if grads else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """The Result that :meth:`to_dict` wrote, or that a ``geograd solve --out`` file
        holds (after ``json.load``: its ``solution`` is ``x``, its ``best`` the best
        iterate, its ``settings`` the options; it keeps no gradient vector, so ``grad``
        is None); InputError if an entry is missing or of the wrong kind."""
        if not isinstance(data, dict):
            raise InputError(f"Result.from_dict needs a dict, got {type(data).__name__}")
        kind = data.get("format")
        if kind == "geograd.solve/1":
            data = _solve_document_fields(data)
        elif isinstance(kind, str) and kind.startswith("geograd."):
            raise InputError(
                f"Result.from_dict: a {kind} document is not one run; "
                "give it a 'geograd solve --out' file, or a Result.to_dict()"
            )
        names = [f.name for f in fields(cls)]
        optional = ("start_loss", "grad", "options")
        missing = [k for k in names if k not in data and k not in optional]
        if missing:
            raise InputError(f"Result.from_dict: missing {', '.join(missing)}")
        if data["reason"] not in REASONS:
            raise InputError(f"Result.from_dict: unknown reason {data['reason']!r}")
        history = data["history"]
        if not isinstance(history, dict):
            raise InputError("Result.from_dict: 'history' must be a dict of lists")
        values = {k: data[k] for k in names if k in data}
        values["history"] = {k: [_copy(v) for v in vs] for k, vs in history.items()}
        for key in ("x", "best_x", "grad"):
            if key in values:
                values[key] = _copy(values[key])
        options = values.get("options", {})
        if not isinstance(options, dict):
            raise InputError("Result.from_dict: 'options' must be a dict")
        values["options"] = {k: _copy(v) for k, v in options.items()}
        for key in ("loss", "grad_norm", "time_s", "best_loss", "start_loss"):
            if key in values and values[key] is not None:
                values[key] = float(values[key])
        return cls(**values)

    # ------------------------------------------- what a solve made of several runs needs
    def map_x(
        self, fn: Callable[[Any], Any], grad_fn: Callable[[Any], Any] | None = None
    ) -> Result:
        """The same run with every point mapped by ``fn`` (a change of coordinates, a
        canonical representative): ``x``, ``best_x`` and the recorded path.

        A gradient is not a point: it maps by the map's derivative, which ``fn`` does not
        give. ``grad_fn`` maps the gradient at x to the gradient at ``fn(x)``; without
        it ``grad`` (and any recorded gradients) become None, unknown in the new
        coordinates, rather than stay in the old ones."""
        history = dict(self.history)
        history["x"] = [fn(v) for v in self.history.get("x", [])]
        grads = history.pop("grad", None)
        if grad_fn is not None and grads is not None:
            history["grad"] = [grad_fn(v) for v in grads]
        grad = None if grad_fn is None or self.grad is None else grad_fn(self.grad)
        return replace(self, x=fn(self.x), best_x=fn(self.best_x), history=history, grad=grad)

    def restated(self, reason: Reason, message: str | None = None) -> Result:
        """The same run ended for ``reason`` (``converged`` follows from it)."""
        return replace(
            self,
            reason=reason,
            converged=reason in CONVERGED,
            message=self.message if message is None else message,
        )

    def to_dict(self) -> dict[str, Any]:
        """The result as plain, JSON-ready data (a copy)."""
        return {
            "x": _copy(self.x),
            "loss": self.loss,
            "start_loss": self.start_loss,
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
            "grad": _copy(self.grad),
            "options": {k: _copy(v) for k, v in self.options.items()},
        }


def _solve_document_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """The :class:`Result` fields of a ``geograd solve --out`` document (format
    ``geograd.solve/1``); InputError naming what it lacks."""
    need = ("solution", "loss", "grad_norm", "steps", "evaluations", "converged", "reason",
            "message", "time_s", "best", "optimizer", "history")  # fmt: skip
    missing = [k for k in need if k not in doc]
    best = doc.get("best")
    if not (isinstance(best, dict) and {"x", "loss", "step"} <= set(best)):
        best, missing = {}, missing or ["best.x, best.loss, best.step"]
    if missing:
        raise InputError(f"Result.from_dict: the solve document lacks {', '.join(missing)}")
    fields_ = {k: doc[k] for k in need if k not in ("solution", "best")}
    return {
        **fields_,
        "x": doc["solution"],
        "best_x": best["x"],
        "best_loss": best["loss"],
        "best_step": best["step"],
        "start_loss": doc.get("start_loss", math.nan),
        "options": doc.get("settings") or {},
    }


class BestOf:
    """The runs of a solve from several starts, kept as they come: the best one (a
    divergence counts as worse than any finished run, then the lowest loss), the totals,
    and the first :data:`SHOWN_LOSSES` losses for the message -- not every run, so that
    many starts take no more memory than one."""

    SHOWN_LOSSES = 8

    def __init__(self) -> None:
        self.best: Result | None = None
        self.best_k = -1
        self.count = self.steps = self.evaluations = 0
        self.time_s = 0.0
        self.losses: list[float] = []
        self.last_reason = ""

    def add(self, res: Result) -> None:
        key = (res.reason == "diverged", res.loss)
        best = self.best
        if best is None or key < (best.reason == "diverged", best.loss):
            self.best, self.best_k = res, self.count
        self.count += 1
        self.steps += res.steps
        self.evaluations += res.evaluations
        self.time_s += res.time_s
        if len(self.losses) < self.SHOWN_LOSSES:
            self.losses.append(res.loss)
        self.last_reason = res.reason

    def result(self, asked: int) -> Result:
        """The best run, with the totals of all and a message naming it among the
        ``asked`` starts; reason ``interrupted`` when the last run was (the starts
        after it were not made)."""
        best = self.best
        if best is None:
            raise InputError("no run to choose from")
        if self.count == 1 and asked == 1:
            return best
        shown = ", ".join(f"{v:.9f}" for v in self.losses)
        if self.count > len(self.losses):
            shown += f", ... ({self.count} in all)"
        out = replace(
            best,
            steps=self.steps,
            evaluations=self.evaluations,
            time_s=self.time_s,
            message=(
                f"Best of {self.count} start{'s' if self.count > 1 else ''} (of {asked}): "
                f"start {self.best_k} ({best.steps} steps; losses {shown}). {best.message}"
            ),
        )
        if self.last_reason == "interrupted" and best.reason != "interrupted":
            out = out.restated("interrupted")
        return out


@dataclass(frozen=True)
class Progress:
    """What a callback of :func:`minimize` is shown after each step."""

    step: int
    x: Value
    loss: float
    grad_norm: float
    lr: float | None
    #: (k, K): the run is start k (0: the solve's x0) of the K starts of a solve with
    #: restarts (set by :meth:`geograd.problems.Problem.solve`); None for a run on its own.
    start: tuple[int, int] | None = None


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
    optimizer: str | type[Optimizer] | Optimizer | None = None,
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
    project: Callable[[list[float]], Sequence[float]] | None = None,
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

    **The default** (``optimizer=None``) is L-BFGS with a strong-Wolfe line
    search, set up so that minimize's own tests decide when to stop
    (:data:`DEFAULT_OPTIONS`): ``max_iter=1``, so that one minimize step is one
    L-BFGS iteration (``steps`` counts iterations, and ``gtol``/``ftol``/``xtol``
    and the callback see every iterate); ``max_eval=26``, so that the line search
    of that iteration still has torch's 25 trials (torch's default ``max_eval``
    for ``max_iter=1`` would be 1, leaving it no second trial);
    ``tolerance_grad=0`` and ``tolerance_change=0``, so that L-BFGS's own
    stopping tests never end a step early. ``Result.optimizer`` is ``"lbfgs"`` and
    ``Result.options`` shows these settings; keywords given (``history_size=10``,
    ``lr=0.5``, ...) replace single ones. ``optimizer="lbfgs"`` by name keeps
    torch's own defaults. It needs no learning rate (``lr=1`` is the line search's
    first trial, scaled by min(1, 1/‖∇f‖₁) at the first step), and converges on
    smooth problems without tuning: measured from the defaults, a 2-D
    ill-conditioned quadratic takes 7 steps (9 evaluations), Rosenbrock from
    (−1.2, 1) 38 (48), the centroid of 50 points two units from x0 2 (4), a
    geometric median of 30 points 7 (9), where the former default (Adam, lr=1e-3)
    used up its 1000 steps on each.

    **A learning rate chosen by minimize.** When ``optimizer`` names (or is) a
    class whose step is lr times the gradient (:class:`~geograd.optim.SGD` and
    its subclasses: ``sgd``, ``momentum``, ``nag``) or about lr per coordinate
    (``adam``, ``adamw``, ``adamax``, ``rmsprop``, ``adagrad``) and no ``lr`` is
    given, the constructor's default (1e-3, 1e-2, in units of x) is not used:
    minimize chooses an lr from the problem, so that the first step moves x by a
    tenth of its size (of 1 when x0 is smaller than 1)::

        SGD-type:   lr = 0.1 · max(1, ‖x0‖₂) / ‖∇f(x0)‖₂   (‖first step‖ = 0.1 · max(1, ‖x0‖))
        Adam-type:  lr = 0.1 · max(1, max_i |x0_i|)          (each coordinate moves about lr)

    (SGD-type with ∇f(x0) = 0: the Adam-type value.) The lr used is in
    ``Result.options["lr"]`` and ``Result.message`` ends by saying it was chosen and
    how. An ``lr`` given is used as it is; line-search and trust-region methods
    (``gd``, ``lbfgs``, ``newton``, ``trust-ncg``), whose lr only seeds the first
    trial, and plugins keep their constructor's default.

    Keywords that are neither minimize's nor a parameter of the optimizer's
    constructor raise :class:`~geograd.errors.InputError` naming them, what
    minimize accepts, and the closest accepted name (scipy's ``jac``, ``method``,
    ``tol``, ``maxiter``, ... get their equivalent here).

    A parameter whose optimizer steps it on a manifold (a parameter group's
    ``manifold``, :mod:`geograd.manifolds`) is judged by its Riemannian gradient: the
    gradient norm of the stopping rules, the history and the Result is the norm of the
    Euclidean gradient projected on the tangent space (0 at a constrained minimum).

    ``schedule(step)`` scales each group's learning rate (see
    :mod:`geograd.optim.schedules`); ``clip_norm`` clips the gradient's global
    norm before each step; ``callback(progress)`` is called after each step and
    stops the run (reason ``interrupted``) by returning True. ``project(x)`` (a list of
    floats in, the point to continue from out) runs after each step, before x is
    evaluated: a projection back onto the set the parameter lives on (unit vectors,
    ...) for a loss that is invariant along the way there (see :meth:`Problem.solve
    <geograd.problems.Problem.solve>`'s ``projection`` hook). An exception raised by
    ``project`` or ``callback`` propagates as it is (it is the caller's, not a divergence),
    and a ``project`` that returns other than as many finite numbers as x has is an
    InputError. ``schedule`` is a schedule object (``Cosine(total_steps=1000)``), not a
    name: the command line's names set parameters from its own step count. The stopping
    rules are described in this module's docstring; the history kept, in
    :class:`Result`'s.
    """
    _check_options(max_steps, gtol, ftol, xtol, time_limit, record_every, clip_norm)
    _check_callables(fun, callback, project, schedule)
    x = _as_parameter(x0)
    by_default = optimizer is None
    opt, name, choose_lr = _build(optimizer, x, optimizer_options)
    pick = "; it is minimize's default: name an optimizer that takes one, e.g. 'adam'"
    if clip_norm is not None and opt.requires_closure:
        raise InputError(
            f"clip_norm does not apply to {name!r}: its line search chooses the step length"
            + (pick if by_default else "")
        )
    if schedule is not None and not opt.follows_schedule:
        raise InputError(
            f"a schedule does not apply to {name!r}: its lr only sets the first trial step "
            "(or trust radius), then its line search (trust region) chooses the steps; "
            "drop the schedule"
        )
    params = [p for g in opt.param_groups for p in g["params"]]
    # a parameter on a manifold converges when its Riemannian gradient (the Euclidean one
    # projected on the tangent space) vanishes: the gradient norm is that one's
    on_manifolds = [
        None if m is None or getattr(m, "is_euclidean", True) else m
        for g in opt.param_groups
        for m in [g.get("manifold")]
        for _ in g["params"]
    ]
    at = next(i for i, p in enumerate(params) if p is x)
    for p in params:  # parameters stay small and in memory, whatever the data
        if B.is_lazy(p.data):
            p.data = B.materialize(p.data)[0]
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
        _settle(out, params)
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
        grad_norm = _hypot(
            *(_norm(g) if m is None else _riemannian_norm(m, d, g)
              for g, d, m in zip(last.grads, last.datas, on_manifolds))
        )  # fmt: skip
        return _Iterate(step, last.datas, last.grads, last.loss, grad_norm)

    def row(it: _Iterate, lr: float | None) -> tuple[Any, ...]:
        """A history entry, in HISTORY_KEYS' order; lr is the one in force from ``it`` on."""
        return (it.step, it.loss, it.grad_norm, _value(it.datas[at]), lr)

    good = evaluate(0)  # a DomainError here (log of -1, a NaN refused) propagates as it is
    if not (math.isfinite(good.loss) and math.isfinite(good.grad_norm)):
        raise InputError(
            f"minimize: at x0 the loss is {good.loss} and the gradient norm {good.grad_norm}; "
            "start from a point where both are finite"
        )
    if all(g is None for g in good.grads):
        # no path from the loss back to x: fun computed it from something else (another
        # tensor, a constant), and every step would be 0 while claiming convergence
        raise InputError(
            "minimize: fun's result does not depend on x (no gradient reaches it); "
            "compute the loss from the x that minimize passes to fun"
        )
    chosen = ""
    if choose_lr is not None:
        chosen = _choose_lr(opt, choose_lr, good.datas[at], good.grad_norm)
    if schedule is not None:  # after the lr is chosen: the schedule scales that one
        apply_schedule(opt, schedule, 0)
    options = _options(opt)
    # At most HISTORY_LIMIT - 2 rows, so that the best and the final iterate fit too.
    history = _Thinned(HISTORY_KEYS, HISTORY_LIMIT - 1, record_every, HISTORY_HEAD)
    history.add(row(good, _lr(opt)))
    best, best_lr = good, _lr(opt)
    trend = _Trend(good, opt, x, gtol, scheduled=schedule is not None)
    previous: _Iterate | None = None
    moved = math.nan  # ‖x_k − x_{k−1}‖, once there is a previous iterate
    reason: Reason | None = None
    detail = ""
    try:
        while True:
            reason, detail = _stop(good, previous, moved, gtol, ftol, xtol, max_steps, trend)
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
            trend.stepping()
            try:
                if opt.requires_closure:
                    opt.step(closure)
                else:
                    opt.step()
            except (DomainError, ArithmeticError) as exc:
                reason, detail = "diverged", f"step {good.step + 1} failed: {exc}"
                break
            if project is not None and x.shape:
                # outside the divergence handling: an error of the user's project is its own
                x.data = _projected(project, x, good, params)
            try:
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
            moved = _hypot(*(_distance(a, b) for a, b in zip(new.datas, good.datas)))
            trend.stepped(good, new, moved)
            previous, good = good, new
            if schedule is not None:
                apply_schedule(opt, schedule, good.step)
            if history.due(good.step):
                history.add(row(good, _lr(opt)))
            if good.loss < best.loss:  # thinning may drop its row: it goes back in at the end
                best, best_lr = good, _lr(opt)
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
    except KeyboardInterrupt as exc:
        reason, detail = (
            "interrupted",
            f"interrupted ({_interrupt_name(exc)}) after step {good.step}",
        )
    assert reason is not None

    for p, d, g in zip(params, good.datas, good.grads):
        p.data, p.grad = d, g
    history.insert(row(best, best_lr))
    if history.last()[0] != good.step:
        history.insert(row(good, _lr(opt)))
    return Result(
        x=_value(good.datas[at]),
        loss=good.loss,
        grad_norm=good.grad_norm,
        steps=good.step,
        evaluations=evaluations,
        converged=reason in CONVERGED,
        reason=reason,
        message=_message(reason, detail, good, trend, time_limit) + chosen,
        time_s=time.perf_counter() - start,
        best_x=_value(best.datas[at]),
        best_loss=best.loss,
        best_step=best.step,
        optimizer=name,
        history=history.columns,
        start_loss=trend.start.loss,
        grad=_gradient(good.grads[at], good.datas[at]),
        options=options,
    )


# --------------------------------------------------------------------------- pieces


class _Thinned:
    """Rows recorded every ``stride`` steps, thinned so that they never reach ``limit`` rows.

    The first ``head`` rows stay. When an added row makes ``limit`` rows, the
    later ones are kept only at steps that are multiples of twice the stride,
    and the stride doubles: about half of them go, the rest stay evenly spaced,
    and memory is bounded however long the run. The first item of a row is its
    step; rows are added in increasing step order.
    """

    def __init__(self, keys: Sequence[str], limit: int, stride: int = 1, head: int = 0) -> None:
        assert 0 <= head < limit // 2, "thinning must be able to halve the rows after the head"
        self.columns: dict[str, list[Any]] = {k: [] for k in keys}
        self.limit, self.stride, self.head = limit, stride, head

    @property
    def steps(self) -> list[int]:
        return next(iter(self.columns.values()))

    def due(self, step: int) -> bool:
        """Whether the row of ``step`` is to be recorded (at the present stride)."""
        return step % self.stride == 0

    def add(self, row: Sequence[Any]) -> None:
        for column, v in zip(self.columns.values(), row):
            column.append(v)
        if len(self.steps) >= self.limit:
            self.stride *= 2
            keep = [i for i, s in enumerate(self.steps) if i < self.head or s % self.stride == 0]
            for column in self.columns.values():
                column[:] = [column[i] for i in keep]

    def insert(self, row: Sequence[Any]) -> None:
        """Put a row in its place by step (off the stride; not thinned); no-op if its step is in."""
        i = bisect.bisect_left(self.steps, row[0])
        if i < len(self.steps) and self.steps[i] == row[0]:
            return
        for column, v in zip(self.columns.values(), row):
            column.insert(i, v)

    def last(self) -> tuple[Any, ...]:
        return tuple(column[-1] for column in self.columns.values())


Kind: TypeAlias = Literal["plain", "adaptive", "line search", "other"]


def _kind(opt: Optimizer) -> Kind:
    """How the optimizer's step relates to lr, which decides the advice that fits it.

    ``plain``: step = lr × (a momentum average of) the gradient (SGD, momentum,
    NAG). ``adaptive``: the gradient is divided by a running scale of its own,
    so each coordinate moves by about lr per step at most (Adam, AdamW, Adamax,
    RMSprop, Adagrad). ``line search``: lr is only the first trial step. Other
    optimizers (plugins) get only the advice that holds for any of them.
    """
    if opt.requires_closure:
        return "line search"
    if isinstance(opt, (Adam, Adamax, RMSprop, Adagrad)):
        return "adaptive"
    if isinstance(opt, SGD):
        return "plain"
    return "other"


def _coordinate_bound(opt: Optimizer, x: Tensor) -> float:
    """About the largest step one coordinate of an adaptive optimizer takes, at this step.

    With a gradient of steady sign and size Adam's and Adamax's m̂/√v̂ and m/u
    are about 1, so a step is about lr; RMSprop's g/√v is about 1, times
    1/(1 − momentum) with momentum; Adagrad's g_t/√Σg² is about 1/√t. A
    coordinate can move no farther over a run than the sum of these, give or
    take (a sudden rise of the gradient can exceed them for a few steps).
    """
    group = opt.param_groups[0]
    lr = float(group["lr"])
    if isinstance(opt, RMSprop):
        momentum = float(group["momentum"])
        return lr / (1.0 - momentum) if momentum < 1.0 else math.inf
    if isinstance(opt, Adagrad):
        t = int(opt.state.get(x, {}).get("step", 0)) + 1
        return lr / (1.0 + (t - 1) * float(group["lr_decay"])) / math.sqrt(t)
    return lr


class _Trend:
    """The course of a run in constant memory, for the message of a run that failed.

    ``start`` is the iterate x0; ``last_lr`` the learning rate of the last step
    and ``top_lr`` the largest one used; ``budget`` the sum over the steps of
    :func:`_coordinate_bound` (adaptive optimizers only); ``curvature`` the
    largest ‖∇f(x_k) − ∇f(x_{k−1})‖ / ‖x_k − x_{k−1}‖ seen (plain ones only);
    ``path`` the length of the path, Σ ‖x_k − x_{k−1}‖;
    ``recent`` the loss and gradient norm of the last ``WINDOW`` + 1 iterates;
    ``trace`` the step and gradient norm over the whole run, thinned to fewer
    than 64 rows.
    """

    WINDOW = 64

    def __init__(
        self, start: _Iterate, opt: Optimizer, x: Tensor, gtol: float | None, *, scheduled: bool
    ) -> None:
        self.start, self.opt, self.x, self.gtol, self.scheduled = start, opt, x, gtol, scheduled
        self.kind = _kind(opt)
        self.last_lr: float | None = _lr(opt)
        self.top_lr = 0.0
        self.budget = 0.0
        self.curvature = 0.0
        self.path = 0.0
        self.recent: deque[tuple[float, float]] = deque(maxlen=self.WINDOW + 1)
        self.recent.append((start.loss, start.grad_norm))
        self.trace = _Thinned(("step", "grad_norm"), 64)
        self.trace.add((0, start.grad_norm))

    def stepping(self) -> None:
        """Note the learning rate of the step about to be taken."""
        self.last_lr = lr = _lr(self.opt)
        if lr is not None:
            self.top_lr = max(self.top_lr, lr)
        if self.kind == "adaptive":
            self.budget += _coordinate_bound(self.opt, self.x)

    def stepped(self, before: _Iterate, now: _Iterate, moved: float) -> None:
        """Take in the step from ``before`` to ``now`` (``moved`` = ‖now − before‖)."""
        self.path += moved
        self.recent.append((now.loss, now.grad_norm))
        if self.trace.due(now.step):
            self.trace.add((now.step, now.grad_norm))
        if self.kind == "plain" and moved > 0.0:
            change = _hypot(*(_grad_distance(a, b) for a, b in zip(now.grads, before.grads)))
            self.curvature = max(self.curvature, change / moved)

    def line_search_failed(self) -> bool:
        return any(s.get("line_search_failed") for s in self.opt.state.values())

    def converged_by_line_search(self, now: _Iterate) -> bool:
        """Whether a failed line search means convergence to the rounding level of f.

        Only at a point the run reached by descent (one that fails from x0 itself, every
        trial step far too large, --lr 1e308, has shown nothing and is a stall), and only
        where the gradient is small enough for rounding to hide any decrease: near a
        smooth minimum f - f* ≈ ‖∇f‖²/2λ, so (f - f*)/(f0 - f*) ≈ ‖∇f‖²/‖∇f0‖², which
        rounding bounds by about eps·max(|f|, |f0|)/(f0 - f). A gradient beyond
        :data:`ROUNDING_MARGIN` times that leaves a decrease far above rounding that the
        search did not find: x is at a kink of f (L1, relu, max), not at its minimum."""
        if not self.line_search_failed():
            return False
        if not any(_distance(a, b) > 0.0 for a, b in zip(now.datas, self.start.datas)):
            return False
        fall = self.start.loss - now.loss
        scale = max(abs(now.loss), abs(self.start.loss))
        ratio = now.grad_norm / self.start.grad_norm if self.start.grad_norm > 0.0 else 0.0
        return fall > 0.0 and ratio * ratio * fall <= ROUNDING_MARGIN * EPS * scale


def _interrupt_name(exc: BaseException) -> str:
    """What interrupted the run, in the user's words: Ctrl-C, or the signal an interrupt
    stands for (a KeyboardInterrupt subclass may name it, as the CLI's SIGTERM does)."""
    return str(getattr(exc, "signal_name", "Ctrl-C"))


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


def _check_callables(fun: Any, callback: Any, project: Any, schedule: Any) -> None:
    """InputError, before anything runs, for a fun, callback, project or schedule that
    cannot be called (a schedule given by its name, as the command line takes it)."""
    if not callable(fun):
        raise InputError(
            f"minimize: fun must be a function of x returning a 0-D Tensor, got {fun!r}"[:200]
        )
    for what, v in (("callback", callback), ("project", project)):
        if v is not None and not callable(v):
            raise InputError(f"minimize: {what} must be a function or None, got {v!r}"[:200])
    if isinstance(schedule, str):
        known = SCHEDULES.get(schedule.strip().lower().replace("-", "_"))
        example = "Cosine(total_steps=1000)"
        if isinstance(known, type) and is_dataclass(known):
            needed = [f"{f.name}=..." for f in fields(known) if f.default is MISSING]
            example = f"{known.__name__}({', '.join(needed)})"
        raise InputError(
            f"minimize: schedule must be a schedule object (a function step -> factor), not "
            f"the name {schedule!r}; build one from geograd.optim.schedules, e.g. {example}"
        )
    if schedule is not None and not callable(schedule):
        raise InputError(
            "minimize: schedule must be a schedule object (a function step -> factor) or "
            f"None, got {schedule!r}; e.g. geograd.optim.schedules.Cosine(total_steps=1000)"[:200]
        )


def _as_parameter(x0: float | Sequence[float] | Tensor) -> Tensor:
    if isinstance(x0, Tensor):
        if not x0.is_leaf:
            raise InputError(
                "minimize: x0 must be a leaf Tensor (made by Tensor(...), not computed "
                "from others); use x0.detach()"
            )
        x = x0
    elif isinstance(x0, (Mapping, Set)):
        raise InputError(
            f"minimize: x0 must be a number or a sequence of numbers (a list), not a "
            f"{type(x0).__name__}, whose order is not the coordinates'"
        )
    else:
        _refuse_truth_values(x0)
        try:
            x = Tensor(x0, requires_grad=True)
        except TypeError as exc:
            raise InputError(f"minimize: x0 {exc}") from None
    if x.shape == (0,):
        raise InputError(
            "minimize: x0 is empty: there is nothing to minimise; give at least one number"
        )
    x.requires_grad = True
    return x


def _refuse_truth_values(x0: Any) -> None:
    """InputError for True/False given as coordinates (a bool, a sequence holding one, or
    a boolean array): Python reads them as 1 and 0, which is seldom what was meant."""
    if isinstance(x0, bool):
        raise InputError(f"minimize: x0 is {x0}, a truth value; give a number")
    if isinstance(x0, (list, tuple)):
        for i, v in enumerate(x0):
            if isinstance(v, bool):
                raise InputError(
                    f"minimize: x0[{i}] is {v}, a truth value; give numbers "
                    "(1.0 or 0.0 if that is what you meant)"
                )
    elif getattr(getattr(x0, "dtype", None), "kind", None) == "b":
        raise InputError("minimize: x0 is an array of truth values; give a float array")


def _build(
    optimizer: str | type[Optimizer] | Optimizer | None, x: Tensor, options: dict[str, Any]
) -> tuple[Optimizer, str, Kind | None]:
    """The optimizer over x, its name, and the kind of lr rule minimize applies to it
    (None: none; its lr is the one given, or its constructor's default)."""
    if isinstance(optimizer, Optimizer):
        _check_keywords(options, type(optimizer), type(optimizer).__name__)
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
        return optimizer, type(optimizer).__name__, None
    if optimizer is None:
        cls, name = get_optimizer(DEFAULT_OPTIMIZER), DEFAULT_OPTIMIZER
        _check_keywords(options, cls, name)
        options = {**DEFAULT_OPTIONS, **options}
    elif isinstance(optimizer, str):
        cls, name = get_optimizer(optimizer), optimizer.strip().lower()
    elif isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        cls, name = optimizer, optimizer.__name__
    else:
        raise InputError(
            "minimize: optimizer must be a registered name, an Optimizer class or an "
            f"Optimizer instance, not {optimizer!r}"
        )
    _check_keywords(options, cls, name)
    rule = _lr_rule(cls) if "lr" not in options else None
    if rule is not None:
        options = {**options, "lr": 1.0}  # replaced once ∇f(x0) is known (_choose_lr)
    try:
        return cls([x], **options), name, rule
    except TypeError as exc:
        raise InputError(f"minimize: bad options for optimizer {name!r}: {exc}") from None


DEFAULT_OPTIMIZER = "lbfgs"
"""The optimizer of ``minimize(f, x0)``, with :data:`DEFAULT_OPTIONS`."""
DEFAULT_OPTIONS: dict[str, Any] = {k: v for k, v in LBFGS.minimize_defaults.items() if k != "lr"}
"""L-BFGS's settings for the default (``LBFGS.minimize_defaults``, its own lr aside): one
iteration per minimize step, a line search of up to 25 trials, and no stopping test of
its own (see :func:`minimize`)."""

LOOP_KEYWORDS = (
    "optimizer",
    "max_steps",
    "gtol",
    "ftol",
    "xtol",
    "time_limit",
    "callback",
    "record_every",
    "schedule",
    "clip_norm",
)
"""minimize's own keywords (besides fun and x0)."""

SCIPY_KEYWORDS = {
    "jac": "minimize computes the gradient itself, by autograd: fun returns only the loss",
    "hess": "name a second-order method instead: optimizer='newton' or 'trust-ncg' "
    "(exact Hessian-vector products by autograd)",
    "hessp": "name a second-order method instead: optimizer='newton' or 'trust-ncg' "
    "(exact Hessian-vector products by autograd)",
    "method": "name the method as optimizer=..., e.g. optimizer='lbfgs'",
    "tol": "use gtol (on the gradient norm) or ftol (on the loss's change)",
    "maxiter": "use max_steps",
    "maxfun": "use max_steps (each step evaluates fun once or, with a line search, a few times)",
    "options": "pass the optimizer's options as keywords (lr=0.1, ...)",
    "args": "close over them in fun: minimize(lambda x: f(x, *args), x0)",
    "bounds": "minimize is unconstrained: reparametrize x (e.g. x = lo + (hi - lo) * "
    "sigmoid(z)) or add a penalty",
    "constraints": "minimize is unconstrained: add a penalty to fun",
}
"""scipy.optimize.minimize keywords that minimize does not take, and what to do instead."""


def _constructor_parameters(cls: type[Optimizer]) -> list[str] | None:
    """The keywords ``cls(params, ...)`` takes; None when it takes any (``**kwargs``)."""
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return None
    names = []
    for i, p in enumerate(signature.parameters.values()):
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if i < 2 or p.kind is inspect.Parameter.VAR_POSITIONAL:
            continue  # self, params
        names.append(p.name)
    return names


def _projected(
    project: Callable[[list[float]], Sequence[float]],
    x: Tensor,
    good: _Iterate,
    params: Sequence[Tensor],
) -> Data:
    """``project(x)`` as x's new data. An exception raised by project propagates as it
    is, and a result that is not as many finite numbers as x has is an InputError naming
    project; either way the parameters are first put back to the last iterate."""
    n = x.shape[0]
    step = good.step + 1
    try:
        out = project(B.tolist(x.data, "project"))
        try:
            values = [float(v) for v in out]
        except (TypeError, ValueError):
            raise InputError(
                f"minimize: project must return a sequence of {n} numbers, got {out!r} at "
                f"step {step}"[:200]
            ) from None
        if len(values) != n:
            raise InputError(
                f"minimize: project returned {len(values)} numbers at step {step}, for an x "
                f"of {n}; it must return a point of the same size"
            )
        bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
        if bad is not None:
            raise InputError(
                f"minimize: project returned {values[bad]} at index {bad} at step {step}, "
                "from a finite x; it must map finite points to finite points"
            )
    except BaseException:
        for p, d, g in zip(params, good.datas, good.grads):
            p.data, p.grad = d, g
        raise
    return B.to_data(values, "project", like=B.backend_of(x.data))


def _check_keywords(options: dict[str, Any], cls: type[Optimizer], name: str) -> None:
    """InputError for keywords that are neither minimize's nor ``cls``'s constructor's."""
    known = _constructor_parameters(cls)
    if known is None:
        return
    unknown = [k for k in options if k not in known]
    if not unknown:
        return
    accepted = [*LOOP_KEYWORDS, *known]
    lines = []
    for key in unknown:
        hint = SCIPY_KEYWORDS.get(key) or keyword_hint(key, accepted)
        lines.append(f"{key!r}" + (f" ({hint})" if hint else ""))
    raise KeywordError(
        f"minimize: unknown keyword{'s' if len(unknown) > 1 else ''} {'; '.join(lines)}. "
        f"minimize accepts fun, x0, its own keywords ({', '.join(LOOP_KEYWORDS)}) and "
        f"the parameters of the constructor of optimizer {name!r} ({', '.join(known)})"
    )


def _lr_rule(cls: type[Optimizer]) -> Kind | None:
    """Which rule chooses lr for ``cls`` when none is given (None: its constructor's)."""
    if cls.requires_closure or "lr" not in (_constructor_parameters(cls) or []):
        return None
    if issubclass(cls, (Adam, Adamax, RMSprop, Adagrad)):
        return "adaptive"
    if issubclass(cls, SGD):
        return "plain"
    return None


LR_FRACTION = 0.1
"""The first step of a learning rate chosen by minimize moves x by this times max(1, |x0|)."""


def _choose_lr(opt: Optimizer, rule: Kind, x0: Data, grad_norm: float) -> str:
    """Set the unit-free lr of :func:`minimize`'s docstring; return the sentence saying so."""
    size = max(1.0, _largest(x0) if rule == "adaptive" else _norm(x0))
    lr = LR_FRACTION * size
    how = f"{LR_FRACTION:g}·max(1, max|x0|), each coordinate moving about lr per step"
    if rule == "plain":
        how = f"{LR_FRACTION:g}·max(1, ‖x0‖)/‖∇f(x0)‖, so the first step moves x by {lr:.3g}"
        if grad_norm > 0 and math.isfinite(lr / grad_norm) and lr / grad_norm > 0:
            lr /= grad_norm
        else:
            how = f"{LR_FRACTION:g}·max(1, ‖x0‖), as ∇f(x0) = 0"
    for group in opt.param_groups:
        group["lr"] = lr
    opt.defaults["lr"] = lr
    return f" lr = {lr:.3g} was chosen by minimize (no lr given): {how}."


def _options(opt: Optimizer) -> dict[str, Any]:
    """The first parameter group's settings, JSON-ready (tuples as lists)."""
    out: dict[str, Any] = {}
    for key, v in opt.param_groups[0].items():
        if key in ("params", "initial_lr"):
            continue
        out[key] = list(v) if isinstance(v, tuple) else v
    return out


def _settle(out: Tensor, params: Sequence[Tensor]) -> None:
    """Compute the loss ``out`` and the parameters' gradients of one evaluation together.

    On lazy data (dask) forward and backward only built a graph: here
    :func:`geograd.backend.materialize` computes the loss and every gradient in one
    pass over the data (one ``dask.compute``, with the deferred domain checks, which
    raise as the eager backends do), and each gradient lands in its parameter's own
    backend. On eager backends nothing is lazy and nothing changes (a type check per
    value)."""
    grads = [p.grad for p in params]
    datas = [out.data, *(g.data for g in grads if g is not None)]
    values = B.materialize(*datas)
    if all(v is d for v, d in zip(values, datas)):
        return
    out.data = values[0]
    computed = iter(values[1:])
    for p, g in zip(params, grads):
        if g is not None:
            p.grad = Tensor.from_data(B.convert(next(computed), p.data))


def _gradient(g: Tensor | None, x: Data) -> Value:
    """The gradient as a Result holds it, in x's form; zeros when x got none."""
    if g is not None:
        return _value(g.data)
    value = _value(x)
    return [0.0] * len(value) if isinstance(value, list) else 0.0


def _stop(
    now: _Iterate,
    before: _Iterate | None,
    moved: float,
    gtol: float | None,
    ftol: float | None,
    xtol: float | None,
    max_steps: int,
    trend: _Trend,
) -> tuple[Reason | None, str]:
    """The stopping rule that holds at ``now`` (the module docstring's table), and its detail."""
    if gtol is not None and now.grad_norm <= gtol:
        return "gtol", f"the gradient norm {now.grad_norm:.3g} is at most gtol = {gtol:g}"
    if before is not None:
        if (
            moved == 0.0
            and (ftol is not None or xtol is not None)
            and now.grad_norm > STALL_GRADIENT * trend.start.grad_norm
            and now.grad_norm > STALL_GTOL * (gtol or 0.0)
            and not trend.converged_by_line_search(now)
        ):
            return "stalled", ""  # the message says why (_stall)
        if ftol is not None:
            change = abs(now.loss - before.loss)
            scale = max(abs(now.loss), abs(before.loss), 1.0)
            if change <= ftol * scale:
                return "ftol", (
                    f"the loss changed by {change:.3g} in the last step, at most "
                    f"ftol = {ftol:g} times {scale:.3g}"
                )
        if xtol is not None:
            size = max(_hypot(*(_norm(d) for d in now.datas)), 1.0)
            if moved <= xtol * size:
                if moved == 0.0:
                    return "xtol", "the last step left x exactly where it was"
                return "xtol", f"the last step moved x by {moved:.3g}, at most xtol = {xtol:g}"
    if now.step >= max_steps:
        return "max_steps", f"reached max_steps = {max_steps}"
    return None, ""


def _message(
    reason: Reason, detail: str, it: _Iterate, trend: _Trend, time_limit: float | None
) -> str:
    """The sentence that says why the run stopped (and, if it failed, what to try)."""
    where = f"after {it.step} step{'s' if it.step != 1 else ''}"
    if reason in CONVERGED:
        text = f"Converged {where}: {detail}."
        if reason == "xtol" and trend.line_search_failed():
            text += (
                " The line search found no decrease along the gradient within its trial "
                "steps: at a smooth minimum that is the rounding level of f (as accurate as "
                "float64 allows), at a kink the kink itself; otherwise allow it more trials."
            )
        return text
    if reason == "stalled":
        why, fix = _stall(trend, it)
        return f"Stalled {where}: {why}, while the gradient norm is {it.grad_norm:.3g}; {fix}."
    momentum = _momentum_fix(trend.opt)
    if reason == "max_steps":
        return (
            f"Stopped {where}: {detail} before convergence (gradient norm {it.grad_norm:.3g}); "
            f"{momentum or _advice(trend, it)}."
        )
    if reason == "time_limit":
        return f"Stopped {where}: reached the time limit of {time_limit:g} s."
    if reason == "interrupted":
        return f"Stopped {where}: {detail}; x is the last evaluated iterate."
    lr = _base_lr(trend.opt)
    advice = (
        f"try a smaller learning rate, e.g. lr={lr / 10:.3g}"
        if lr is not None and lr > 0
        else "try a smaller learning rate"
    )
    if momentum is not None:
        advice = momentum
    elif detail.startswith("the loss became -inf"):
        advice = (
            "check that f is bounded below (its sign, a missing constraint): a loss that "
            "falls to -inf has no minimum to converge to"
        )
    return (
        f"Diverged: {detail}; kept the last finite iterate (step {it.step}). To fix it, {advice}."
    )


def _momentum_fix(opt: Optimizer) -> str | None:
    """The advice for a momentum >= 1 (accepted, as torch accepts it, but its buffer
    never decays, so no learning rate makes the run converge); None otherwise."""
    if not isinstance(opt, (SGD, RMSprop)):
        return None
    mu = opt.param_groups[0].get("momentum", 0.0)
    if not (isinstance(mu, (int, float)) and mu >= 1.0):
        return None
    return (
        f"use a momentum in [0, 1), e.g. 0.9: with momentum = {mu:g} the momentum buffer "
        "never decays, so the steps keep growing"
    )


def _stall(trend: _Trend, it: _Iterate) -> tuple[str, str]:
    """Why the steps leave x where it is, and what to change: (why, fix)."""
    lr, g = trend.last_lr, it.grad_norm
    resolution = math.ulp(max(_largest(d) for d in it.datas))
    below = f"below the float64 resolution of x (≈ {resolution:.2g})"
    if lr == 0.0:
        why = "the learning rate is 0, so the steps no longer change x"
        if trend.scheduled:
            return why, "keep the schedule's factor above 0 until the run ends"
        return why, "set lr > 0"
    if trend.kind == "line search":
        if trend.line_search_failed():
            start = trend.start
            if any(_distance(a, b) > 0.0 for a, b in zip(it.datas, start.datas)):
                # after descent, with a gradient far above rounding: no smooth minimum
                why = (
                    "the line search found no decrease, though the gradient is far too "
                    "large for the rounding level of f: x is at a kink of f (a point where "
                    "it is not differentiable), not shown to be a minimum, or f is "
                    f"unbounded below (the loss fell from {start.loss:.6g} to {it.loss:.6g})"
                )
                return why, (
                    "for a non-smooth f try optimizer='gd' (a gradient step per kink) or "
                    "'newton', or smooth the loss"
                )
            # Every trial step was rejected (no decrease): from x0 that says the trials
            # were far too long (or too short to change x), not that x is optimal.
            why = "the line search found no decrease: every trial step was rejected"
            return why, f"try another first trial step (lr, now {lr:.3g})"
        t = next((s.get("step_size", s.get("t")) for s in trend.opt.state.values() if s), lr)
        step = (t or 0.0) * g
        if step >= resolution:
            # x did not change though the step is resolvable: the optimizer ended its
            # iteration on its own tests (L-BFGS's tolerance_grad / tolerance_change).
            why = "the optimizer stopped its own iterations (its own tolerances) without moving x"
            return why, "turn its tolerances off (L-BFGS: tolerance_grad=0, tolerance_change=0)"
        size = f"the line search's step·|grad| ≈ {step:.2g}"
        fix = "rescale the problem so that x's changes are not lost against its size"
        return f"the steps no longer change x: {size} is {below}", fix
    if lr is None:
        return f"the steps no longer change x: they are {below}", "take larger steps"
    if trend.kind == "adaptive":  # each coordinate moves by about lr, whatever the gradient
        why = f"the steps no longer change x: each moves a coordinate by about lr = {lr:.2g}, "
        return why + below, f"raise lr, to well above {resolution:.1g}"
    why = f"the steps no longer change x: lr·|grad| ≈ {lr * g:.2g} is {below}"
    return why, f"raise lr, to well above {resolution / g:.1g}"


def _advice(trend: _Trend, it: _Iterate) -> str:
    """What to change after a run that used up max_steps, read from the run's course.

    The first of these that holds (lr is the base learning rate; the advice
    about lr is for optimizers that have one to change, not a line search):

    1. No step moved x: the steps are below float64's resolution of x; raise lr
       (as for ``stalled``).
    2. The loss ended above f(x0): the steps overshoot; lower lr, e.g. lr/10.
    3. Oscillation: over the last 64 steps successive changes of the loss
       switched sign at least a third of the time, and the gradient norm did not
       shrink (see :func:`_shrinking`); lower lr, e.g. lr/10.
    4. Plain optimizers (step = lr × gradient, with momentum or not): lr × the
       largest curvature seen along the steps (‖Δ∇f‖ / ‖Δx‖) is at or beyond
       the stability limit (:func:`_stability_limit`), and the gradient norm did
       not shrink; lower lr, e.g. lr/10.
    5. Nearly there: the gradient norm falls at a steady geometric rate (see
       :func:`_steps_to_gtol`) that takes it to gtol within twice the steps
       taken: raise max_steps to about that many.
    6. Adaptive optimizers (a coordinate moves about lr per step at most, see
       :func:`_coordinate_bound`): some coordinate moved at least 30% of the most
       the run's steps allow, so the run was heading one way near full speed: the
       learning rate was the limit; raise lr, e.g. 10 lr.
    7. Plain optimizers: lr × the largest curvature seen is at most 1/20 of the
       stability limit: each step removed only a small part of what remains, so
       the learning rate was the limit; raise lr, e.g. 10 lr (still below half
       the limit along every direction seen).
    8. The gradient norm falls at a steady geometric rate, however slowly:
       raise max_steps to about the step where that rate takes it to gtol.
    9. L-BFGS (the default) lowered the loss, but its gradient norm falls at no
       steady rate, and x has at most :data:`NEWTON_SIZE` entries: try a
       second-order method, ``optimizer='trust-ncg'`` or ``'newton'`` (or raise
       max_steps). Measured from the defaults: Rosenbrock from (−1.2, 1) takes 38
       L-BFGS steps, 27 of trust-ncg (80 of newton); a 40-D diagonal quadratic with
       curvatures 2..80, 46 of L-BFGS, 14 of trust-ncg, 12 of newton.
    10. Otherwise: raise max_steps or loosen gtol.
    """
    lr = _base_lr(trend.opt) if trend.kind != "line search" else None
    lower, raise_lr = "lower lr", "raise lr"
    if lr is not None and lr > 0:
        lower, raise_lr = f"lower lr, e.g. lr={lr / 10:.3g}", f"raise lr, e.g. lr={lr * 10:.3g}"
    else:
        lr = None  # no learning rate to change
    name = type(trend.opt).__name__
    plain = trend.kind == "plain" and lr is not None
    sharpness = trend.top_lr * trend.curvature  # lr × curvature, for plain optimizers
    limit = _stability_limit(trend.opt) if plain else math.inf
    needed = _steps_to_gtol(trend, it)
    to_go = (
        f"the gradient norm is falling steadily, by a factor {needed[0]:.4g} per step, and "
        f"at that rate reaches gtol = {trend.gtol:g} after about {needed[1]} steps; raise "
        f"max_steps to about {needed[1]}"
        if needed is not None
        else ""
    )

    if it.step > 0 and trend.path == 0.0 and trend.kind != "line search":  # 1
        why, fix = _stall(trend, it)
        return f"{why.replace('no longer change', 'never changed')}; {fix}"
    if lr is not None and it.loss > trend.start.loss:  # 2
        return (
            f"the loss rose from {trend.start.loss:.6g} at x0 to {it.loss:.6g}: the steps "
            f"overshoot; {lower}"
        )
    reversals = _reversals(trend.recent)
    if lr is not None and reversals is not None:  # 3
        return (
            f"in the last {len(trend.recent) - 1} steps the loss went up and down "
            f"{reversals} times while the gradient norm did not shrink: the steps overshoot; "
            f"{lower}"
        )
    if plain and sharpness >= limit and not _shrinking(trend.recent):  # 4
        return (
            f"lr × curvature ≈ {sharpness:.3g} along the steps, at or beyond {name}'s "
            f"stability limit {limit:.3g}, and the gradient norm is not shrinking: the steps "
            f"overshoot; {lower}"
        )
    if needed is not None and needed[1] <= 2 * it.step:  # 5
        return to_go
    if trend.kind == "adaptive" and lr is not None and trend.budget > 0:  # 6
        travelled = max(_farthest(a, b) for a, b in zip(it.datas, trend.start.datas))
        if travelled >= 0.3 * trend.budget:
            return (
                f"the learning rate was the limit: at lr = {lr:.3g}, {it.step} steps of {name} "
                f"move a coordinate about {trend.budget:.3g} at most, and x moved "
                f"{travelled:.3g} ({travelled / trend.budget:.0%} of that); {raise_lr}"
            )
    if plain and sharpness <= limit / 20:  # 7
        return (
            f"the learning rate was the limit: lr × curvature ≈ {sharpness:.2g} along the "
            f"steps, far below {name}'s stability limit {limit:.3g}, so each step removed only "
            f"a small part of what remains; {raise_lr}"
        )
    if to_go:  # 8
        return to_go
    if isinstance(trend.opt, LBFGS) and it.loss < trend.start.loss:  # 9
        size = sum(len(v) if isinstance(v, list) else 1 for v in map(_value, it.datas))
        if size <= NEWTON_SIZE:
            return (
                f"the gradient norm went from {trend.start.grad_norm:.3g} to "
                f"{it.grad_norm:.3g} in {it.step} steps of L-BFGS without falling at a steady "
                f"rate; x has {size} entries, few enough for a second-order method, which "
                "reads the curvature exactly (Hessian-vector products) and can take fewer "
                "steps: try optimizer='trust-ncg' or 'newton'; or raise max_steps"
            )
    return "raise max_steps or loosen gtol" if trend.gtol is not None else "raise max_steps"


NEWTON_SIZE = 1000
"""Rule 9 of :func:`_advice` suggests a second-order method for at most this many entries
of x (each of their steps takes up to that many Hessian-vector products)."""


def _stability_limit(opt: Optimizer) -> float:
    """The largest lr × curvature at which a plain optimizer's steps converge on a quadratic.

    2 for gradient descent; 2(1 + μ) with heavy-ball momentum μ; 2(1 + μ)/(1 + 2μ)
    with Nesterov's; divided by (1 − dampening) (the roots of x_{k+1} =
    x_k − a x_k + μ (x_k − x_{k−1}) and of its Nesterov form stay inside the unit
    circle up to these a).
    """
    group = opt.param_groups[0]
    mu = float(group.get("momentum", 0.0))
    if mu == 0.0:
        return 2.0
    if group.get("nesterov"):
        return 2.0 * (1.0 + mu) / (1.0 + 2.0 * mu)
    keep = 1.0 - float(group.get("dampening", 0.0))
    return 2.0 * (1.0 + mu) / keep if keep > 0 else math.inf


def _shrinking(recent: deque[tuple[float, float]]) -> bool:
    """Whether the gradient norm shrank over ``recent``: its largest value in the later
    half is below half the largest in the earlier half."""
    grads = [g for _, g in recent]
    half = len(grads) // 2
    return half > 0 and max(grads[half:]) < 0.5 * max(grads[:half])


def _reversals(recent: deque[tuple[float, float]]) -> int | None:
    """How often the loss changed direction in ``recent``, if it oscillated (rule 3 of _advice).

    None when the loss changed fewer than 8 times, fewer than a third of its
    changes reversed the one before, or the gradient norm shrank.
    """
    losses = [f for f, _ in recent]
    signs = [b > a for a, b in itertools.pairwise(losses) if b != a]
    if len(signs) < 8:
        return None
    flips = sum(s != t for s, t in itertools.pairwise(signs))
    if 3 * flips < len(signs) - 1 or _shrinking(recent):
        return None
    return flips


def _steps_to_gtol(trend: _Trend, it: _Iterate) -> tuple[float, int] | None:
    """(rate per step, total steps) at which ‖∇f‖ reaches gtol, if it falls steadily.

    Reads the gradient norm near steps k/2 and 3k/4 from the trace, and at k;
    the rate is the later quarter's, and the total is rounded up to 2 digits.
    """
    k, gtol = it.step, trend.gtol
    if gtol is None or gtol <= 0 or k < 8 or it.grad_norm <= gtol:
        return None
    steps, grads = trend.trace.columns["step"], trend.trace.columns["grad_norm"]
    m = bisect.bisect_right(steps, k // 2) - 1
    q = bisect.bisect_right(steps, 3 * k // 4) - 1
    if not (steps[m] < steps[q] < k and grads[m] > 0 and grads[q] > 0):
        return None
    early = math.log(grads[q] / grads[m]) / (steps[q] - steps[m])
    late = math.log(it.grad_norm / grads[q]) / (k - steps[q])
    if not (early < 0 and late < 0 and 0.5 <= late / early <= 2.0):
        return None
    total = k + math.log(gtol / it.grad_norm) / late
    if total > 1e15:
        return None
    digits = 10 ** max(0, len(str(math.ceil(total))) - 2)
    return math.exp(late), math.ceil(total / digits) * digits


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


def _riemannian_norm(manifold: Any, x: Data, g: Tensor | Data | None) -> float:
    """‖grad f‖ on the manifold at x: the norm of the Euclidean gradient ``g`` projected
    on the tangent space there."""
    if g is None:
        return 0.0
    data = g.data if isinstance(g, Tensor) else g
    return _norm(manifold.egrad2rgrad(x, data))


def _norm(g: Tensor | Data | None) -> float:
    """‖g‖ of a parameter value or gradient, in its backend; inf when it overflows."""
    if g is None:
        return 0.0
    data = g.data if isinstance(g, Tensor) else g
    if type(data) is float:
        return abs(data)
    try:
        return B.backend_of(data).vector_norm(data)
    except OverflowError:
        return math.inf


def _difference(a: Data, b: Data) -> Data:
    if B.shape_of(a) != B.shape_of(b):
        raise InputError("a parameter changed shape during the run")
    return B.common_backend((a, b), "sub").sub(a, b)


def _distance(a: Data, b: Data) -> float:
    """‖a − b‖; 0 exactly when a and b are equal (floats do not underflow to 0 apart)."""
    return _norm(_difference(a, b))


def _grad_distance(a: Tensor | None, b: Tensor | None) -> float:
    """‖a − b‖ of two gradients, a missing one (None) counting as zero."""
    if a is None or b is None:
        return _norm(a) if b is None else _norm(b)
    return _distance(a.data, b.data)


def _farthest(a: Data, b: Data) -> float:
    """max |a_i − b_i|: how far the coordinate that moved most moved."""
    return _largest(_difference(a, b))


def _largest(d: Data) -> float:
    """max |d_i| (0 for an empty array)."""
    if isinstance(d, float):
        return abs(d)
    if not d.shape[0]:
        return 0.0
    be = B.backend_of(d)
    return be.amax(be.absolute(d))


def _value(d: Data) -> Value:
    return B.tolist(d, "minimize") if type(d) is not float else d


def _copy(v: Any) -> Any:
    return list(v) if isinstance(v, list) else v
