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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeAlias

from geograd import floatarray as fa
from geograd.errors import InputError
from geograd.floatarray import Data, FloatArray
from geograd.tensor import Tensor, enable_grad

ParamGroup: TypeAlias = dict[str, Any]
Params: TypeAlias = "Iterable[Tensor] | Iterable[ParamGroup]"
Closure: TypeAlias = Callable[[], Any]
"""Re-evaluates the loss: zero the gradients, compute the loss, ``backward()``, return it."""


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

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
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
        """Validate a group's options (raise InputError); subclasses extend it."""
        lr = group.get("lr")
        if lr is not None and not (isinstance(lr, (int, float)) and lr >= 0.0):
            raise InputError(f"{type(self).__name__}: invalid learning rate lr={lr!r}")

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
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data = self.update(p.data, p.grad.data, self.state[p], group)
        return loss

    def update(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        """The new value of one parameter after one step (override in subclasses).

        ``param`` and ``grad`` are floats (0-D) or FloatArrays (1-D); ``state`` is
        this parameter's own dict (empty on the first step); ``group`` its options.
        Values must not be changed in place: return new ones.
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
        """Load a :meth:`state_dict` (maybe after JSON) into this optimizer over the same params."""
        try:
            saved_groups = state_dict["param_groups"]
            saved_state = state_dict["state"]
        except (KeyError, TypeError):
            raise InputError("a state dict needs 'state' and 'param_groups' entries") from None
        if len(saved_groups) != len(self.param_groups):
            raise InputError(
                f"the state dict has {len(saved_groups)} parameter groups; this optimizer "
                f"has {len(self.param_groups)}"
            )
        params: list[Tensor] = []
        for group, saved in zip(self.param_groups, saved_groups):
            if len(saved["params"]) != len(group["params"]):
                raise InputError(
                    "a parameter group of the state dict does not match this optimizer's "
                    f"in size ({len(saved['params'])} against {len(group['params'])})"
                )
            params.extend(group["params"])
        by_index: dict[int, Tensor] = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for i, p in zip(saved["params"], group["params"]):
                by_index[int(i)] = p
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in saved_state.items():
            i = int(key)
            if i not in by_index:
                raise InputError(f"the state dict has state for an unknown parameter {key!r}")
            p = by_index[i]
            new_state[p] = {k: _restore(v, p, k) for k, v in values.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {}
            for k, v in saved.items():
                if k == "params":
                    continue
                new[k] = tuple(v) if isinstance(group.get(k), tuple) else v
            new["params"] = group["params"]
            new_groups.append(new)
        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]!r}")
        lines.append(")")
        return "\n".join(lines)


def describe(cls: type[Optimizer]) -> str:
    """The one-line description of an optimizer class."""
    if getattr(cls, "description", ""):
        return str(cls.description)
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else cls.__name__


# ----------------------------------------------------------------------- helpers


def zeros_like(x: Data) -> Data:
    """0.0, or an array of zeros as long as ``x``."""
    return fa.full(len(x), 0.0) if type(x) is FloatArray else 0.0


def full_like(x: Data, value: float) -> Data:
    """``value``, or an array of it as long as ``x``."""
    return fa.full(len(x), value) if type(x) is FloatArray else float(value)


def lerp(start: Data, end: Data, weight: float) -> Data:
    """start + weight (end - start), evaluated as torch's ``lerp`` does.

    For weight < 0.5 it is ``start + weight * (end - start)``; otherwise
    ``end - (end - start) * (1 - weight)``, which is exact at weight = 1.
    """
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


def check_nonnegative(owner: str, **values: float) -> None:
    """InputError unless every value is a number >= 0."""
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0.0:
            raise InputError(f"{owner}: invalid {name} value {v!r} (must be >= 0)")


def check_betas(owner: str, betas: Any) -> None:
    """InputError unless ``betas`` is a pair of numbers in [0, 1)."""
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise InputError(f"{owner}: betas must be a pair of numbers, got {betas!r}") from None
    for i, b in enumerate((b1, b2)):
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0.0 <= b < 1.0:
            raise InputError(f"{owner}: invalid beta parameter at index {i}: {b!r}")


def _plain(value: Any) -> Any:
    """Plain JSON-ready data: FloatArrays to lists, tuples to lists, Tensors refused."""
    if type(value) is FloatArray:
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Tensor):
        return _plain(value.data)
    raise InputError(f"cannot put a {type(value).__name__} into a state dict")


def _restore(value: Any, p: Tensor, name: str) -> Any:
    """A state entry back from plain data: a list of numbers becomes a FloatArray."""
    if isinstance(value, list):
        if type(p.data) is not FloatArray or len(value) != len(p.data):
            raise InputError(
                f"state {name!r} has {len(value)} values; its parameter has shape {p.shape}"
            )
        return FloatArray(float(v) for v in value)
    return value
