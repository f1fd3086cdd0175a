"""The :class:`Optimizer` base class, with torch.optim's API.

An optimizer holds ``param_groups`` (a list of dicts: ``"params"``, a list of
leaf :class:`~geograd.tensor.Tensor` objects, plus that group's options, filled
from the constructor's defaults) and ``state`` (a dict from each parameter to its
own running buffers). ``step()`` reads each parameter's ``.grad`` and replaces its
``.data`` with the updated value; it never builds a graph and never changes a
value in place, so a ``.data`` or ``.grad`` that someone else still holds stays
valid.

Writing an optimizer: subclass, pass the defaults to ``super().__init__`` and
implement :meth:`Optimizer.update` (one parameter, one step, returning the new
value), or override :meth:`Optimizer.step` for a method that needs the loss
itself (see :class:`~geograd.optim.linesearch.GradientDescent`). Register it
under the entry-point group ``geograd.optimizers`` and ``geograd optimizers``
lists it.

``state_dict()`` gives plain data only (numbers, lists of floats, ``None``,
strings), so ``json.dumps`` takes it as it is; ``load_state_dict()`` accepts that
data back (also after a JSON round trip, with its string keys), and a run resumed
from it follows the uninterrupted run's trajectory to the last bit.

Validation is shared: every parameter group's options go through the one
:meth:`Optimizer._check_group` of the optimizer, whether they come from the
constructor, :meth:`~Optimizer.add_param_group` or :meth:`~Optimizer.load_state_dict`
(numbers must be finite real numbers, never bools; flags must be bools). The
state a state dict brings is checked against the optimizer's declared
:attr:`~Optimizer.state_kinds` (each buffer a finite value shaped like its
parameter, counts non-negative integers, ...), so a bad state dict is an
InputError when it is loaded, not a TypeError steps later.

Manifolds: a parameter group whose ``manifold`` option is a non-Euclidean
:class:`~geograd.manifolds.Manifold` (``Adam([x], lr=0.1, manifold=Sphere(3))`` or
``{"params": [x], "manifold": Sphere(3)}``; None, the default, and ``Euclidean()``
mean the flat space, stepped exactly as without the option) is stepped
Riemannian-style by the optimizers that declare :attr:`Optimizer.riemannian`::

    g_R  = egrad2rgrad(x, g)                (−g_R when maximize)
    s    = proj(x, direction(x, g_R))       (the optimizer's own rule, on g_R)
    x⁺   = retr(x, s)
    b    ← transp(x, x⁺, b)                 for each buffer in ``transported``

The other state (second moments, accumulators) is kept as it is, coordinatewise,
as geoopt's RiemannianAdam keeps its second moment. weight_decay must be 0 on a
manifold. Each step first checks that x is on the manifold (within 1e-8) and
refuses (InputError) otherwise: start from ``manifold.projx(x)``. An optimizer
that does not declare ``riemannian`` (L-BFGS, Newton-CG, trust-ncg, plugins)
refuses a manifold group. ``state_dict()`` writes the manifold as its spec string.

No silent divergence: :meth:`Optimizer.step` computes every parameter's new value
and state first and refuses the step with :class:`~geograd.errors.DivergenceError`
(a DomainError, so :func:`geograd.minimize` reports ``diverged``) if any would be
infinite or NaN, before writing anything: the parameters and the state keep their
last finite values.
"""

from __future__ import annotations

import inspect
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar

from geograd import backend as B
from geograd.backend import Data
from geograd.errors import DivergenceError, InputError
from geograd.manifolds import Manifold, as_manifold
from geograd.tensor import Tensor, enable_grad

ParamGroup: TypeAlias = dict[str, Any]
Params: TypeAlias = "Iterable[Tensor] | Iterable[ParamGroup]"
Closure: TypeAlias = Callable[[], Any]
"""Re-evaluates the loss: zero the gradients, compute the loss, ``backward()``, return it."""

StateKind: TypeAlias = Literal[
    "count", "flag", "nonneg", "positive", "like_param", "nonneg_like_param", "like_param_or_none"
]
"""What one state entry may hold (see :attr:`Optimizer.state_kinds`)."""
_O = TypeVar("_O", bound="Optimizer")


class Optimizer:
    """Base class of the optimizers: parameter groups, per-parameter state, state dicts.

    ``params`` is an iterable of Tensors (one group) or of dicts, each a
    parameter group ``{"params": [...], option: value, ...}`` whose missing
    options are taken from ``defaults``.
    """

    description: ClassVar[str] = ""
    """One line for ``geograd optimizers``; empty means the first line of the docstring."""

    requires_closure: ClassVar[bool] = False
    """True when :meth:`step` must be given a closure (line-search methods)."""

    minimize_defaults: ClassVar[dict[str, Any]] = {}
    """Settings that make this optimizer run well as the step of :func:`geograd.minimize`
    when they differ from its constructor's (L-BFGS: one iteration per step, strong
    Wolfe, its own stopping tests off). An optimizer that declares them carries its own
    step scale: a problem's tuned lr and schedule for other optimizers do not apply
    (see ``Problem.settings_for``)."""

    follows_schedule: ClassVar[bool] = True
    """False when ``lr`` only seeds the method (Newton's first trial step, a trust region's
    first radius) and its steps are chosen by a line search or trust region afterwards: a
    learning-rate schedule would then change nothing, and :func:`geograd.minimize`
    refuses one instead of ignoring it."""

    state_kinds: ClassVar[dict[str, StateKind] | None] = None
    """The entries of a parameter's state and what each holds, checked by
    :meth:`load_state_dict`: ``count`` (an integer >= 0), ``flag`` (a bool),
    ``nonneg``/``positive`` (a finite number >= 0 / > 0), ``like_param`` (finite
    values shaped like the parameter), ``nonneg_like_param`` (the same, >= 0),
    ``like_param_or_none``. None (a plugin that declares nothing): any entry, with
    numbers finite and lists shaped like the parameter."""

    required_state: ClassVar[tuple[str, ...]] = ()
    """The entries a non-empty state must have (the rest are optional)."""

    riemannian: ClassVar[bool] = False
    """True when the optimizer steps on manifolds: it implements :meth:`direction` and
    names in :attr:`transported` the state buffers that are tangent vectors."""

    transported: ClassVar[tuple[str, ...]] = ()
    """The state entries moved to the new point by vector transport on a manifold."""

    def __new__(cls: type[_O], *args: Any, **kwargs: Any) -> _O:
        # a keyword the constructor does not take is named with a "did you mean" (as
        # minimize names it), before __init__ would raise Python's bare TypeError
        if args or kwargs:  # none: copy and pickle rebuilding an instance
            check_constructor_call(cls, args, kwargs)
        return super().__new__(cls)

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        self._step_calls = 0
        self.defaults: dict[str, Any] = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[ParamGroup] = []
        if isinstance(params, (Tensor, dict)):
            raise InputError(
                f"{type(self).__name__}: params must be an iterable of Tensors or of dicts "
                f"(parameter groups), not a single {type(params).__name__}; write [x]"
            )
        given: list[Any] = list(params)
        if not given:
            raise InputError(f"{type(self).__name__} got an empty parameter list")
        groups: list[ParamGroup] = given if isinstance(given[0], dict) else [{"params": given}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: ParamGroup) -> None:
        """Add a group of parameters with its own options (the missing ones from defaults)."""
        if not isinstance(param_group, dict):
            raise InputError(f"a parameter group must be a dict, not {type(param_group).__name__}")
        if "params" not in param_group:
            raise InputError("a parameter group needs a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise InputError(
                "parameters must be given in an ordered collection (a list), not a set, "
                "so that the order, and the state dict, is the same on every run"
            )
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise InputError(f"an optimizer optimizes Tensors; got {type(p).__name__}")
            if not p.is_leaf:
                raise InputError("cannot optimize a non-leaf Tensor (one computed from others)")
        if len({id(p) for p in params}) != len(params):
            raise InputError("a parameter group lists the same parameter twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise InputError("some parameters appear in more than one parameter group")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: ParamGroup) -> None:
        """Validate a group's options (raise InputError); subclasses extend it.

        The one validation of options: the constructor, ``add_param_group`` and
        ``load_state_dict`` all call it.
        """
        name = type(self).__name__
        for key in ("lr", "initial_lr"):  # initial_lr: the base rate a schedule records
            if key not in group:
                continue
            lr = group[key]
            if not (is_real(lr) and lr >= 0.0):
                raise InputError(
                    f"{name}: invalid learning rate {key}={lr!r} (must be a finite number >= 0)"
                )
        if "maximize" in group:
            check_flags(name, maximize=group["maximize"])
        if "manifold" in group:
            manifold = group["manifold"] = as_manifold(group["manifold"], f"{name}: manifold")
            if manifold is not None and not manifold.is_euclidean:
                self._check_manifold_group(group, manifold)

    def _check_manifold_group(self, group: ParamGroup, manifold: Manifold) -> None:
        """InputError unless this optimizer can step this group on ``manifold``."""
        name = type(self).__name__
        if not self.riemannian:
            raise InputError(
                f"{name} does not step on manifolds (a parameter group is on {manifold.spec}); "
                "use a first-order optimizer, which steps Riemannian-style: sgd, momentum, "
                "nag, adam, adamax, rmsprop, adagrad or gd"
            )
        for i, p in enumerate(group.get("params", ())):  # none: a state dict's group
            if manifold.size is not None and p.shape != (manifold.size,):
                raise InputError(
                    f"{name}: parameter {i} (shape {p.shape}) cannot be on {manifold.spec}: "
                    f"a point of {manifold.spec} has {manifold.size} coordinates (dimension "
                    f"{manifold.dim}); give it {manifold.size} numbers"
                )
        wd = group.get("weight_decay", 0.0)
        if wd != 0:
            raise InputError(
                f"{name}: weight_decay must be 0 on a manifold (the group on {manifold.spec} "
                f"has weight_decay={wd!r}): decay pulls towards the origin, off the manifold"
            )

    # --------------------------------------------------------------- gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``grad = None`` (or zeros with ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = Tensor.from_data(zeros_like(p.data))

    # -------------------------------------------------------------------- step
    def step(self, closure: Closure | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss.

        When ``closure`` is given it is called first (with gradients recorded) and
        the gradients it leaves are the ones used.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._step_calls += 1
        # every new value is computed and checked before any is written, and the states
        # are restored if anything fails, so a refused step changes nothing
        updates: list[tuple[Tensor, Data]] = []
        saved: list[tuple[dict[str, Any], dict[str, Any]]] = []
        try:
            index = -1
            for group_index, group in enumerate(self.param_groups):
                for p in group["params"]:
                    index += 1
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    saved.append((state, dict(state)))
                    # the update runs in the parameter's own backend, and its arithmetic
                    # warns of nothing (numpy would on an overflow: refused just below)
                    manifold: Manifold | None = group.get("manifold")
                    with B.quiet(p.data):
                        if manifold is None or manifold.is_euclidean:
                            new = self.update(p.data, p.grad.data, state, group)
                        else:
                            new = self._riemannian_update(p, manifold, state, group, index)
                    self._refuse_nonfinite(p, new, state, index, group_index)
                    updates.append((p, new))
        except BaseException:
            for state, before in saved:
                state.clear()
                state.update(before)
            raise
        for p, new in updates:
            p.data = new
        return loss

    def _refuse_nonfinite(
        self, p: Tensor, new: Data, state: dict[str, Any], index: int, group_index: int
    ) -> None:
        """DivergenceError if the new value or a state buffer of ``p`` is not finite."""
        if B.is_finite(new):
            bad = [
                (f"its state {k!r}", v)
                for k, v in state.items()
                if (type(v) is float or B.is_array(v)) and not B.is_finite(v)
            ]
            if not bad:
                return
            what, value = bad[0]
        else:
            what, value = "its value", new
        found = B.backend_of(value).find_nonfinite(value)
        i, entry = found if found is not None else (0, math.nan)
        at = f" at index {i}" if B.is_array(value) else ""
        grad = B.backend_of(p.grad.data).entry(p.grad.data, i) if p.grad is not None else math.nan
        raise DivergenceError(
            f"{type(self).__name__}.step() (call {self._step_calls}): the update of parameter "
            f"{index} (group {group_index}, shape {p.shape}) would make {what} "
            f"{entry!r}{at} (the gradient there is {grad!r}); the step was refused "
            "and no parameter or state was changed. Lower the learning rate, clip the "
            "gradients (clip_grad_norm_, or minimize(clip_norm=...)), or keep the loss finite there"
        )

    def _riemannian_update(
        self, p: Tensor, manifold: Manifold, state: dict[str, Any], group: ParamGroup, index: int
    ) -> Data:
        """The new value of a parameter on ``manifold``: egrad2rgrad, the optimizer's own
        :meth:`direction`, projected, retracted; the :attr:`transported` buffers follow."""
        assert p.grad is not None
        x = p.data
        manifold.check_point(x, f"{type(self).__name__}.step(): parameter {index}")
        grad = B.convert(p.grad.data, x)
        rgrad = manifold.egrad2rgrad(x, grad)
        if group.get("maximize", False):
            rgrad = -rgrad
        step = manifold.proj(x, self.direction(x, rgrad, state, group))
        new = manifold.retr(x, step)
        for key in self.transported:
            buf = state.get(key)
            if buf is not None and B.is_array(buf):
                state[key] = manifold.transp(x, new, buf)
        return new

    def direction(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        """The step of one parameter, an ambient vector (new point = param + step in flat
        space), from the gradient ``grad`` (sign and weight decay already applied),
        updating ``state``: what a :attr:`riemannian` optimizer implements."""
        raise NotImplementedError(f"{type(self).__name__} does not step on manifolds")

    def update(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        """The new value of one parameter after one step (override in subclasses).

        ``param`` and ``grad`` are floats (0-D) or 1-D arrays of the parameter's
        backend (``geograd.backend.backend_of(param)`` computes on it; Python
        operators work on every backend); ``state`` is this parameter's own dict
        (empty on the first step), whose buffers stay in that backend; ``group`` its
        options. Values must not be changed in place: return new ones.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement update()")

    # -------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain, JSON-ready data (a copy).

        ``{"state": {index: {name: value}}, "param_groups": [{option: value,
        "params": [index, ...]}]}``: parameters are numbered in group order, 1-D
        buffers become lists of floats.
        """
        index: dict[int, int] = {}
        groups: list[dict[str, Any]] = []
        for group in self.param_groups:
            packed = {k: _plain(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {
            index[id(p)]: {k: _plain(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index and s
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a :meth:`state_dict` (maybe after JSON) into this optimizer over the same params.

        Everything is validated before anything is replaced: each group's options
        as the constructor validates them (:meth:`_check_group`, the missing ones
        taken from the defaults), each state entry against :attr:`state_kinds`.
        """
        try:
            saved_groups = state_dict["param_groups"]
            saved_state = state_dict["state"]
        except (KeyError, TypeError, IndexError):
            raise InputError("a state dict needs 'state' and 'param_groups' entries") from None
        if not isinstance(saved_groups, (list, tuple)) or not all(
            isinstance(g, dict) for g in saved_groups
        ):
            raise InputError("load_state_dict: 'param_groups' must be a list of dicts")
        if not isinstance(saved_state, dict):
            raise InputError("load_state_dict: 'state' must be a dict")
        if len(saved_groups) != len(self.param_groups):
            raise InputError(
                f"the state dict has {len(saved_groups)} parameter groups; this optimizer "
                f"has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        new_groups = []
        for group_index, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            ids = saved.get("params")
            if not isinstance(ids, (list, tuple)):
                raise InputError(
                    f"load_state_dict: parameter group {group_index} needs a 'params' list"
                )
            if len(ids) != len(group["params"]):
                raise InputError(
                    "a parameter group of the state dict does not match this optimizer's "
                    f"in size ({len(ids)} against {len(group['params'])})"
                )
            for i, p in zip(ids, group["params"]):
                key = _as_index(i, "a parameter number")
                if key in by_index:
                    raise InputError(f"load_state_dict: parameter number {key} appears twice")
                by_index[key] = p
            new: ParamGroup = {}
            for k, v in saved.items():
                if k == "params":
                    continue
                # JSON turns tuples (betas) into lists: give them back their type
                tuple_option = isinstance(group.get(k), tuple) or isinstance(
                    self.defaults.get(k), tuple
                )
                new[k] = tuple(v) if tuple_option and isinstance(v, list) else v
            for k, default in self.defaults.items():
                new.setdefault(k, default)
            try:
                self._check_group(new)
            except InputError as exc:
                raise InputError(f"load_state_dict: parameter group {group_index}: {exc}") from None
            new["params"] = group["params"]
            new_groups.append(new)
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in saved_state.items():
            i = _as_index(key, "a state key")
            if i not in by_index:
                raise InputError(f"the state dict has state for an unknown parameter {key!r}")
            if not isinstance(values, dict):
                raise InputError(
                    f"load_state_dict: the state of parameter {i} must be a dict, "
                    f"got {type(values).__name__}"
                )
            new_state[by_index[i]] = self._check_state(by_index[i], values, i)
        self.param_groups = new_groups
        self.state = new_state

    def _check_state(self, p: Tensor, values: dict[str, Any], index: int) -> dict[str, Any]:
        """One parameter's saved state, checked against :attr:`state_kinds` and restored
        (lists become arrays of the parameter's backend); InputError naming the parameter
        and the entry."""
        kinds = self.state_kinds
        where = f"load_state_dict: the state of parameter {index}"
        out: dict[str, Any] = {}
        for name, value in values.items():
            kind = None if kinds is None else kinds.get(name)
            if kinds is not None and kind is None:
                known = ", ".join(kinds) or "nothing"
                raise InputError(
                    f"{where} has an unknown entry {name!r}; {type(self).__name__} keeps {known}"
                )
            out[name] = _restore(value, p, name, kind, where)
        if out and kinds is not None:
            missing = [k for k in self.required_state if k not in out]
            if missing:
                raise InputError(f"{where} lacks {', '.join(map(repr, missing))}")
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]!r}")
        lines.append(")")
        return "\n".join(lines)


#: How a closure re-evaluates the loss, for the messages of the optimizers that need one.
CLOSURE_PROTOCOL = "zero_grad(), loss = f(x), loss.backward(), return loss"


def check_closure_gradients(owner: str, loss: Any, params: Sequence[Tensor]) -> None:
    """InputError when a closure's loss has a graph but left no gradient on any parameter:
    it forgot ``loss.backward()`` (or zeroed the gradients after it), and every step would
    silently be 0. A loss with no graph (a constant) is let through, as torch does."""
    if isinstance(loss, Tensor) and loss.requires_grad and all(p.grad is None for p in params):
        raise InputError(
            f"{owner}.step: the closure left no gradient on the parameters; "
            f"it must call loss.backward(): {CLOSURE_PROTOCOL}"
        )


def describe(cls: type[Optimizer]) -> str:
    """The one-line description of an optimizer class."""
    if getattr(cls, "description", ""):
        return str(cls.description)
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else cls.__name__


# ----------------------------------------------------------------------- helpers


def with_manifold(defaults: dict[str, Any], manifold: Manifold | str | None) -> dict[str, Any]:
    """``defaults`` with the ``manifold`` option when one is given (without it when None,
    so that a Euclidean optimizer's groups and state dict are what they always were)."""
    if manifold is not None:
        defaults["manifold"] = manifold
    return defaults


def zeros_like(x: Data) -> Data:
    """0.0, or an array of zeros shaped like ``x``, in its backend."""
    return B.zeros_like(x)


def full_like(x: Data, value: float) -> Data:
    """``value``, or an array of it shaped like ``x``, in its backend."""
    return B.full_like(x, value)


def lerp(start: Data, end: Data, weight: float) -> Data:
    """start + weight (end - start), evaluated as torch's ``lerp`` does.

    For weight < 0.5 it is ``start + weight * (end - start)``; otherwise
    ``end - (end - start) * (1 - weight)``, which is exact at weight = 1.
    """
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


def is_real(v: Any) -> bool:
    """True for a finite int or float that is not a bool."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_nonnegative(owner: str, **values: float) -> None:
    """InputError unless every value is a finite number >= 0 (not a bool)."""
    for name, v in values.items():
        if not (is_real(v) and v >= 0.0):
            raise InputError(f"{owner}: invalid {name} value {v!r} (must be a finite number >= 0)")


def check_finite(owner: str, **values: float) -> None:
    """InputError unless every value is a finite number (not a bool)."""
    for name, v in values.items():
        if not is_real(v):
            raise InputError(f"{owner}: invalid {name} value {v!r} (must be a finite number)")


def check_flags(owner: str, **flags: bool) -> None:
    """InputError unless every value is a bool (True or False)."""
    for name, v in flags.items():
        if not isinstance(v, bool):
            raise InputError(f"{owner}: {name} must be True or False, got {v!r}")


class KeywordError(InputError, TypeError):
    """A keyword argument a function or constructor does not take: an InputError, and
    the TypeError Python itself raises for an unexpected keyword."""


def keyword_hint(key: str, accepted: Sequence[str]) -> str:
    """What to write instead of the unknown keyword ``key`` ('' when nothing is close)."""
    if key == "momentum" and "betas" in accepted:
        return "the momentum of an Adam-type optimizer is betas[0]: betas=(0.9, 0.999)"
    import difflib  # only on an error

    close = difflib.get_close_matches(key, list(accepted), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def check_constructor_call(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """KeywordError for arguments ``cls(*args, **kwargs)`` cannot take (an unknown
    keyword, too many positional arguments, one given twice, a missing ``params``),
    naming the accepted ones; nothing for a constructor taking ``**kwargs``."""
    init = cls.__init__
    code = getattr(init, "__code__", None)
    if code is None or code.co_flags & inspect.CO_VARKEYWORDS:
        return
    try:
        inspect.signature(init).bind(None, *args, **kwargs)
    except TypeError as exc:
        names = list(inspect.signature(init).parameters)[2:]  # after self, params
        accepted = ", ".join(names)
        unknown = [k for k in kwargs if k not in names and k != "params"]
        if unknown:
            lines = []
            for key in unknown:
                hint = keyword_hint(key, names)
                lines.append(f"{key!r}" + (f" ({hint})" if hint else ""))
            s = "s" if len(unknown) > 1 else ""
            raise KeywordError(
                f"{cls.__name__}: unknown keyword{s} {'; '.join(lines)}; "
                f"{cls.__name__}(params, ...) accepts {accepted}"
            ) from None
        raise KeywordError(
            f"{cls.__name__}(params, ...): {exc}; it accepts params, then {accepted}"
        ) from None


def as_pair(value: Any) -> Any:
    """``betas`` as a tuple when it is a list or tuple; anything else as it is, for
    :func:`check_betas` to refuse in one line."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def check_betas(owner: str, betas: Any) -> None:
    """InputError unless ``betas`` is a pair of numbers in [0, 1)."""
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise InputError(
            f"{owner}: betas must be a pair of numbers in [0, 1), e.g. (0.9, 0.999), got {betas!r}"
        ) from None
    for i, b in enumerate((b1, b2)):
        if not (is_real(b) and 0.0 <= b < 1.0):
            raise InputError(
                f"{owner}: invalid beta parameter at index {i}: {b!r} (must be a finite "
                "number in [0, 1))"
            )


def _as_index(value: Any, what: str) -> int:
    """A parameter number from a state dict (an int, or its decimal string after JSON)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise InputError(f"load_state_dict: {what} must be an integer, got {value!r}")


def _plain(value: Any) -> Any:
    """Plain JSON-ready data: arrays (any backend) and tuples to lists of floats."""
    if B.is_array(value):
        return B.tolist(value, "state_dict")
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Tensor):
        return _plain(value.data)
    if isinstance(value, Manifold):
        return value.spec
    raise InputError(f"cannot put a {type(value).__name__} into a state dict")


def _restore(value: Any, p: Tensor, name: str, kind: StateKind | None, where: str) -> Any:
    """A state entry back from plain data, checked: lists of numbers become arrays of the
    parameter's backend."""

    def bad(expected: str) -> InputError:
        return InputError(f"{where}: {name!r} must be {expected}, got {value!r}"[:300])

    if kind == "count":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # another serializer may write 3.0
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise bad("an integer >= 0")
        return value
    if kind == "flag":
        if not isinstance(value, bool):
            raise bad("True or False")
        return value
    if kind in ("nonneg", "positive"):
        if not (is_real(value) and (value > 0 if kind == "positive" else value >= 0)):
            raise bad("a finite number " + ("> 0" if kind == "positive" else ">= 0"))
        return float(value)
    if kind is None and not isinstance(value, list):
        # a plugin's own entry: anything plain, but no NaN or infinity
        if isinstance(value, float) and not math.isfinite(value):
            raise bad("finite")
        return value
    if kind == "like_param_or_none" and value is None:
        return None
    nonneg = kind == "nonneg_like_param"
    expected = "finite numbers >= 0" if nonneg else "finite numbers"
    if isinstance(value, list):
        if p.shape != (len(value),):
            raise InputError(
                f"state {name!r} has {len(value)} values; its parameter has shape {p.shape}"
            )
        if not all(is_real(v) and (v >= 0 or not nonneg) for v in value):
            raise bad(f"a list of {len(value)} {expected}")
        return B.backend_of(p.data).from_list([float(v) for v in value])
    if p.shape:
        raise bad(f"a list of {p.shape[0]} {expected} (its parameter has shape {p.shape})")
    if not (is_real(value) and (value >= 0 or not nonneg)):
        raise bad("a finite number" + (" >= 0" if nonneg else ""))
    return float(value)
