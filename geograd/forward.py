"""Forward mode beside reverse mode: ``jvp`` and ``vjp``.

For f: R^n -> R^m with Jacobian J at x,

- ``jvp(f, (x,), (v,))`` returns ``(f(x), J v)``: the directional derivative of f
  along v, computed *forward*, with f itself. Each value f computes carries its
  tangent (its derivative along v) beside it, as a dual number x + ε v carries v;
  every primitive of the table (:mod:`geograd.functional`) that meets an input with
  a tangent computes its output's tangent by its JVP rule, Σ_i ∂out/∂a_i · t_i,
  next to its value. No graph is kept: a tangent lives as long as its value.
- ``vjp(f, (x,))`` returns ``(f(x), pullback)`` with ``pullback(u) = J^T u``: reverse
  mode, the engine's ``backward`` with the cotangent ``u`` as its seed; f's graph is
  recorded once and ``pullback`` may be called any number of times.

The cost (``geograd bench --modes``): one JVP costs about one evaluation of f, and
so does one VJP (a small constant more). The full gradient of f: R^n -> R takes n
JVPs (one per basis vector e_i) but one VJP, which is why training uses reverse
mode; the Jacobian of f: R -> R^m takes one JVP but m VJPs. The two are tied by
the adjoint identity <u, J v> = <J^T u, v>, which the tests check on random
compositions.

Tangents live in the backend of their primal (the standard library's FloatArray,
numpy, any Array API namespace): a list is built there, an array of another
backend is converted. The rules are the table's, written with Tensor operations,
so that they compose: ``jvp(grad(f), (x,), (v,))`` is the Hessian-vector product
H v (forward over reverse), ``grad`` of a ``jvp`` output differentiates a
directional derivative (reverse over forward), and a ``jvp`` inside another one's
f gives second directional derivatives. Conventions are the VJPs': the same
subgradient at kinks, a zero tangent stays exactly zero, and a nonzero tangent
meeting an infinite derivative (``sqrt`` at 0) raises a DomainError naming the
primitive.

How the tangents travel (:class:`Tangents`, :class:`geograd.functional._ForwardMode`):
``jvp`` pushes a tangent store, keyed by the tensors it has seen, for the time f
runs; every primitive call looks for its inputs' tangents there (a few dict
lookups; while no ``jvp`` runs, one test per call and nothing else). A store drops
a tensor's tangent when the tensor is freed, so forward mode holds no more memory
than f does.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from geograd import backend as B
from geograd.errors import InputError, NaNError, ShapeError
from geograd.functional import _ForwardMode, carry_tangents, dot, mul
from geograd.tensor import (
    Tensor,
    backprop,
    check_gradient,
    enable_grad,
    is_grad_enabled,
    topological_order,
)

__all__ = ["Tangents", "jvp", "vjp"]


class _Entry(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to a tensor that knows its tensor's key and tangent."""

    __slots__ = ("key", "tangent")
    key: int
    tangent: Tensor


class Tangents:
    """The tangents of one ``jvp`` level: tensor -> its tangent (a Tensor of its shape).

    Keyed by ``id`` through a weak reference whose callback removes the entry when the
    tensor is freed: before its id can be reused, and without keeping it alive.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, _Entry] = {}

    def get(self, t: Tensor) -> Tensor | None:
        entry = self._by_id.get(id(t))
        return None if entry is None else entry.tangent

    def put(self, t: Tensor, tangent: Tensor) -> None:
        entry = _Entry(t, self._drop)
        entry.key, entry.tangent = id(t), tangent
        self._by_id[entry.key] = entry

    def _drop(self, entry: weakref.ref[Any]) -> None:
        assert isinstance(entry, _Entry)
        if self._by_id.get(entry.key) is entry:
            del self._by_id[entry.key]

    def clear(self) -> None:
        """Forget every tangent (and the weak references, so no callback comes later)."""
        self._by_id.clear()

    def __len__(self) -> int:
        return len(self._by_id)


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J · tangents)``: the value of f and its directional derivative.

    d/dε f(x_1 + ε v_1, ..., x_k + ε v_k) at ε = 0 = Σ_i ∂f/∂x_i · v_i, by forward
    propagation of the tangents v_i through f (see the module docstring).

    ``primals``: a tuple (or list) of f's arguments, each a float, a sequence of
    floats, an array or a Tensor; ``tangents``: one per primal, shaped like it (a
    float for a 0-D primal), converted to the primal's backend. f returns a Tensor
    (0-D or 1-D) or a tuple/list of them; the tangent comes back in the same form,
    each a Tensor shaped like its output (zeros where the output does not depend on
    the primals). A primal that is a Tensor recording a graph keeps it, so the result
    can be differentiated by reverse mode in turn.

    Errors: InputError when ``primals``/``tangents`` are not sequences of equal
    length, when ``primals`` is several numbers that f cannot take as its arguments
    (a vector ``x`` given where ``(x,)`` was meant), or a tangent is not finite;
    ShapeError when a tangent's shape is not its primal's; DomainError from a rule,
    naming the primitive, where a nonzero tangent meets an infinite derivative.
    """
    args, seeds = _arguments(primals, tangents)
    _check_arity("jvp", f, primals)
    mode = _ForwardMode
    outer = mode.visible
    if outer != len(mode.stores):  # only a JVP rule runs with a level hidden; none calls jvp
        raise RuntimeError("jvp: called from inside a JVP rule")
    store = Tangents()
    mode.stores.append(store)
    mode.visible = outer + 1
    try:
        for x, v in zip(args, seeds):
            store.put(x, v)
        out = f(*args)
        value, tangent = _outputs(out, store)
    finally:
        mode.stores.pop()
        mode.visible = outer
        store.clear()
    return value, tangent


def vjp(f: Callable[..., Any], primals: Sequence[Any]) -> tuple[Any, Callable[[Any], Any]]:
    """``(f(*primals), pullback)`` where ``pullback(u) = J^T u`` = the gradient of <u, f>.

    Reverse mode: f runs once with its graph recorded, and each call of ``pullback``
    runs one backward pass from the cotangent ``u`` (shaped like f's output: a float
    for a 0-D output, a tuple of them when f returns a tuple), returning a tuple with
    the gradient for each primal, shaped like it (zeros for one f does not use).

    As for :func:`geograd.grad`, the gradients carry a graph when the value depends on
    a tensor from outside the call that records one (or when ``u`` does), so that they
    can be differentiated again; otherwise none is recorded.

    ``primals`` is the tuple of f's arguments, as for :func:`jvp`: InputError when it is
    not a tuple or list, or is several numbers that f cannot take as its arguments.
    """
    if not isinstance(primals, (tuple, list)):
        raise InputError(_AS_TUPLE.format(name="vjp", what="primals"))
    _check_arity("vjp", f, primals)
    recording = is_grad_enabled()
    xs: list[Tensor] = []
    mine: set[int] = set()
    for p in primals:
        if recording and isinstance(p, Tensor) and p.requires_grad:
            xs.append(p)  # keep the caller's graph, as grad does
            continue
        x = Tensor(p, requires_grad=True)
        carry_tangents(x, p)  # inside a jvp: the same value, the same tangent
        mine.add(id(x))
        xs.append(x)
    with enable_grad():
        out = f(*xs)
    outputs = _as_outputs(out, "vjp")
    # gradients with a graph when the value depends on a recording tensor from outside
    external = recording and any(
        t.op is None and id(t) not in mine for y in outputs for t in topological_order(y)
    )

    def pullback(cotangent: Any) -> tuple[Tensor, ...]:
        us = _cotangents(cotangent, outputs, isinstance(out, (tuple, list)))
        nested = external or (recording and any(u.requires_grad for u in us))
        root: Tensor | None = None
        if len(outputs) == 1:  # one output: its cotangent is backward's seed
            root, seed = outputs[0], us[0]
        else:  # several: the gradient of Σ_k <u_k, y_k>
            seed = Tensor.from_data(1.0)
            with enable_grad():
                for u, y in zip(us, outputs):
                    if y.requires_grad:
                        term = dot(u, y) if y.shape else mul(u, y)
                        root = term if root is None else root + term
        grads: dict[int, Tensor] = {}
        if root is not None and root.requires_grad:
            grads = backprop(root, seed, create_graph=nested)[1]
        result = []
        for x in xs:
            g = grads.get(id(x))
            if g is None:
                g = Tensor.from_data(B.zeros_like(x.data))
            check_gradient(x, g)
            result.append(g)
        return tuple(result)

    if external:
        return out, pullback
    values = [y.detach() for y in outputs]  # no graph on the values the caller reads
    for value, y in zip(values, outputs):
        carry_tangents(value, y)
    return (tuple(values) if isinstance(out, (tuple, list)) else values[0]), pullback


# ----------------------------------------------------------------------------- arguments

_AS_TUPLE = (
    "{name}: {what} must be a tuple (or list) with one entry per argument of f, "
    "e.g. {name}(f, (x,), (v,)) for f of one argument"
)


def _arguments(primals: Any, tangents: Any) -> tuple[list[Tensor], list[Tensor]]:
    """The primals as fresh tensors (each a node of its own, so that each carries its own
    tangent even when one tensor is passed twice) and the tangents in their backends."""
    for what, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, (tuple, list)):
            raise InputError(_AS_TUPLE.format(name="jvp", what=what))
    if len(primals) != len(tangents):
        raise InputError(
            f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one tangent "
            "per primal, shaped like it"
        )
    args, seeds = [], []
    for i, (p, v) in enumerate(zip(primals, tangents)):
        # x · 1 (exact) rather than a copy: it keeps the primal's graph, so that reverse
        # mode can differentiate the result, and its tangents at outer jvp levels
        x = mul(p, 1.0) if isinstance(p, Tensor) else Tensor(p)
        args.append(x)
        seeds.append(_tangent(v, x, i))
    return args, seeds


def _check_arity(name: str, f: Callable[..., Any], primals: Sequence[Any]) -> None:
    """Primals that are several plain numbers, for an f that cannot take that many
    arguments: the caller passed one vector x where the tuple ``(x,)`` was meant (as
    torch.func says "Expected primals to be a tuple"). One InputError, before f runs."""
    if len(primals) < 2 or not all(isinstance(p, (int, float)) for p in primals):
        return
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # no signature to read (a builtin): let f decide
        return
    try:
        signature.bind(*primals)
    except TypeError:
        call = "jvp(f, (x,), (v,))" if name == "jvp" else "vjp(f, (x,))"
        raise InputError(
            f"{name}: primals holds {len(primals)} numbers, but f{signature} does not take "
            f"{len(primals)} arguments; primals is the tuple of f's arguments, so for f of "
            f"one vector x write {call}"
        ) from None


def _tangent(v: Any, x: Tensor, i: int) -> Tensor:
    """The tangent ``v`` of primal ``i`` as a Tensor in the backend and shape of ``x``."""
    what = f"jvp: tangent {i}"
    like = B.backend_of(x.data)
    if isinstance(v, Tensor):
        t = v
    else:
        data = B.to_data(v, what, like=like)
        t = Tensor.from_data(data)
    if t.shape != x.shape:
        raise ShapeError(
            f"{what} has shape {t.shape} but its primal has shape {x.shape}; a tangent is "
            "shaped like its primal (a float for a 0-D one)"
        )
    if not B.is_lazy(t.data) and not B.is_finite(t.data):
        raise InputError(f"{what} is not finite: a direction must have finite entries")
    if t.shape and B.backend_of(t.data) is not like:
        t = Tensor.from_data(B.convert(t.data, x.data))  # the primal's backend, as documented
    return t


def _as_outputs(out: Any, name: str) -> list[Tensor]:
    items = list(out) if isinstance(out, (tuple, list)) else [out]
    result = []
    for item in items:
        if isinstance(item, Tensor):
            result.append(item)
        elif isinstance(item, (int, float)):
            result.append(Tensor(float(item)))
        else:
            raise InputError(
                f"{name}: f must return a Tensor (or a float), or a tuple of them; it "
                f"returned a {type(item).__name__}"
            )
    return result


def _outputs(out: Any, store: Tangents) -> tuple[Any, Any]:
    """f's output and its tangent, in the same form (a Tensor, or a tuple of them)."""
    outputs = _as_outputs(out, "jvp")
    tangents = []
    for y in outputs:
        t = store.get(y)
        if t is None:
            t = Tensor.from_data(B.zeros_like(y.data))  # f does not depend on the primals
        elif not B.is_lazy(t.data) and B.find_nan(t.data) >= 0:
            raise NaNError(
                "jvp: the tangent of f's output is NaN: +inf met -inf in the tangent "
                "computation, after a value or a derivative overflowed"
            )
        tangents.append(t)
    if isinstance(out, (tuple, list)):
        return tuple(outputs), tuple(tangents)
    return outputs[0], tangents[0]


def _cotangents(cotangent: Any, outputs: list[Tensor], many: bool) -> list[Tensor]:
    """The cotangent(s) given to a pullback, checked against f's outputs."""
    if many and not isinstance(cotangent, tuple):  # a list could be one 1-D cotangent
        raise InputError(f"vjp: f returned {len(outputs)} outputs; give a tuple of cotangents")
    given = list(cotangent) if many else [cotangent]
    if len(given) != len(outputs):
        raise InputError(
            f"vjp: {len(given)} cotangents for {len(outputs)} outputs; give one per output"
        )
    us = []
    for i, (u, y) in enumerate(zip(given, outputs)):
        like = B.backend_of(y.data)
        t = u if isinstance(u, Tensor) else Tensor.from_data(B.to_data(u, "vjp", like=like))
        if t.shape != y.shape:
            raise ShapeError(
                f"vjp: cotangent {i} has shape {t.shape} but the output has shape {y.shape}; "
                "a cotangent is shaped like its output"
            )
        us.append(t)
    return us
