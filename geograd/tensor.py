"""Layer 2: the Tensor, the graph it records, and reverse-mode backward.

A :class:`Tensor` holds ``data`` (a float for 0-D; for 1-D, an array of some
backend: the standard library's FloatArray, a numpy array, any Array API array,
see :mod:`geograd.backend`), its ``grad`` (a Tensor of the same shape, or None)
and, when it was made by a primitive while gradients were recorded, its
``parents`` and the :class:`Primitive` that made it. That is the whole graph.

``backward()`` visits the graph in reverse topological order, found with an
explicit stack (no recursion, so a chain of 200,000 operations works at the
default recursion limit), and asks each node's primitive for the vector-Jacobian
product of each parent. The VJPs are written with Tensor operations: under
``no_grad`` (the default for backward) they only compute numbers; with
``create_graph=True`` they record a graph of the gradient itself, which can be
differentiated again. The primitives and their VJPs live in one table, in
:mod:`geograd.functional`.

Indexing is gathered: the VJP of ``x[i]`` is a length-n vector that is zero but
at i, and building one per index made splitting an n-vector into its n
coordinates (``x[0], ..., x[n-1]``, ``x.unbind()``, iteration) cost O(n²).
``backprop`` instead collects the (index, cotangent) pairs of every indexing of
one tensor and, when it reaches that tensor, adds them all into one vector with a
single ``scatter_add`` primitive: O(n) in all, and differentiable like any other
node, so higher-order gradients gather the same way.

No silent NaN: the contract
---------------------------
Every value a user can read is free of NaN: a Tensor's value (``item``,
``float``, ``bool``, ``tolist``, iteration, ``repr``, comparisons), its ``.grad``,
the gradients of :func:`~geograd.functional.grad`, and an optimizer's parameters
and state. A NaN can only be made by IEEE arithmetic on infinities (``inf - inf``,
``0 * inf``) after something overflowed, and it may exist *transiently* inside a
1-D array, where testing every entry of every operation would cost about 15% of
the hot path. It is refused with :class:`~geograd.errors.NaNError` (a
DomainError) naming the operation and the index, at the first of these places:

- where it is made, for a 0-D result (every primitive checks its 0-D output:
  ``(a - a).max()``, ``x[i]``, a sum);
- where it would be hidden: comparisons (so ``relu`` and ``where`` conditions),
  ``max``/``min``, norms (:mod:`geograd.floatarray` lists them);
- where it would be read: ``tolist``, iteration, ``repr`` and the like;
- where ``backward`` writes ``.grad``, before writing any of them (so a failed
  backward leaves every ``.grad`` as it was), and where ``grad`` returns;
- where an optimizer's ``step()`` writes a parameter: a step that would make a
  parameter or its state infinite or NaN is refused before anything is written
  (:class:`~geograd.errors.DivergenceError`).

Gradients that are mathematically 0 are exactly 0: VJPs multiply a cotangent by a
local derivative with a masked product (``0 · inf = 0``), so the gradient of an
unselected entry of indexing or ``where`` is 0 even where the derivative there is
infinite, and ``sqrt``'s gradient is 0 at 0 when nothing depends on that entry.
The checks cost one plain ``sum`` per array checked, a few per cent of an
evaluation (``python -m geograd.bench``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from contextlib import ContextDecorator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from geograd import backend as B
from geograd.backend import NAN_HINT, PYTHON, Backend, Data, Index
from geograd.errors import BackendError, GeogradError, NaNError, ShapeError

if TYPE_CHECKING:
    from types import TracebackType

Operand = "Tensor | float | int | Sequence[float] | Data"
VJP = Callable[..., "Tensor"]


class _GradMode:
    enabled = True


class no_grad(ContextDecorator):
    """Context manager and decorator: operations inside record no graph."""

    _enable = False

    def __init__(self) -> None:
        # A stack, not one slot: a decorated function may call itself, and ContextDecorator
        # enters the same instance again for each call.
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_GradMode.enabled)
        _GradMode.enabled = self._enable

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _GradMode.enabled = self._previous.pop()


class enable_grad(no_grad):
    """Context manager and decorator: record graphs again (inside ``no_grad``)."""

    _enable = True


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad currently record a graph."""
    return _GradMode.enabled


@dataclass(frozen=True, eq=False)
class Primitive:
    """A differentiable operation: one forward on ``Data`` and one VJP per argument.

    ``forward`` computes the output data on the backend of the inputs (found once
    per call, :func:`geograd.backend.common_backend`; floats alone are the python
    backend's, with no lookup): either the name of a :class:`~geograd.backend.Backend`
    method, called as ``backend.<name>(*datas, **static)``, or a function called as
    ``forward(backend, *datas, **static)``. A list or tuple operand is a literal: it
    is built in the backend of the other operands. ``vjps[i](g, out,
    *inputs, **static)`` returns the gradient for argument i given the output's
    gradient ``g``, written with Tensor operations so that it can itself be
    differentiated. A primitive with any number of arguments gives instead
    ``vjp_all(g, out, *inputs, **static)``, returning the gradients of all its
    arguments at once (so that work they share is done once). Gradients of a 0-D
    argument that was broadcast come back 1-D and are summed by the engine.

    ``gather=True`` marks indexing (``take``): its VJP is ``scatter(g, index, n)``,
    which ``backprop`` does not build once per use but gathers, for all the
    indexing of one tensor, into one ``scatter_add`` (static ``index``, parent 0).

    A 0-D result that is NaN raises NaNError here, naming the primitive.
    """

    name: str
    forward: str | Callable[..., Data]
    vjps: tuple[VJP, ...] = ()
    vjp_all: Callable[..., Sequence[Tensor]] | None = field(default=None)
    gather: bool = False
    _method: str = field(init=False, repr=False, default="")

    def __post_init__(self) -> None:
        if isinstance(self.forward, str):
            object.__setattr__(self, "_method", self.forward)

    def __call__(self, *args: Any, **static: Any) -> Tensor:
        # list comprehensions and plain loops: generators cost twice as much per call here
        inputs = [a if type(a) is Tensor else as_tensor(a) for a in args]
        datas = [t.data for t in inputs]
        for d in datas:
            if type(d) is not float:
                try:
                    be = B.common_backend(datas, self.name)
                except BackendError as exc:
                    inputs, datas, be = self._adopt_literals(args, inputs, exc)
                break
        else:
            be = PYTHON  # only floats (the scalar graphs): no lookup at all
        method = self._method
        if method:
            data = getattr(be, method)(*datas, **static)
        else:
            data = self.forward(be, *datas, **static)  # type: ignore[operator]
        if type(data) is float and data != data:  # one comparison: free
            raise NaNError(f"{self.name}: the result is NaN, {NAN_HINT}")
        out = Tensor.from_data(data)
        if _GradMode.enabled:
            for t in inputs:
                if t.requires_grad:
                    out.requires_grad = True
                    out.parents = tuple(inputs)
                    out.op = self
                    out.static = static
                    break
        return out

    def _adopt_literals(
        self, args: tuple[Any, ...], inputs: list[Tensor], exc: BackendError
    ) -> tuple[list[Tensor], list[Data], Backend]:
        """Lists and tuples among ``args`` are literals of no backend: build them in the
        backend of the other operands (``exc`` if none is a literal; BackendError if the
        others disagree too). Only when the plain dispatch failed: no cost otherwise."""
        literal = [isinstance(a, (list, tuple)) for a in args]
        if not any(literal):
            raise exc
        others = [t.data for t, lit in zip(inputs, literal) if not lit]
        be = B.common_backend(others, self.name)
        inputs = [
            Tensor.from_data(B.to_data(a, self.name, like=be)) if lit else t
            for a, t, lit in zip(args, inputs, literal)
        ]
        return inputs, [t.data for t in inputs], be

    def parent_gradients(self, g: Tensor, out: Tensor) -> Iterator[tuple[Tensor, Tensor]]:
        """(parent, its gradient) for each parent of ``out`` that requires grad."""
        parents = out.parents
        if self.vjp_all is not None:
            grads = self.vjp_all(g, out, *parents, **out.static)
            for parent, gi in zip(parents, grads):
                if parent.requires_grad:
                    yield parent, _sum_to(gi, parent)
            return
        for vjp, parent in zip(self.vjps, parents):
            if parent.requires_grad:
                yield parent, _sum_to(vjp(g, out, *parents, **out.static), parent)


class Tensor:
    """A 0-D or 1-D float64 value that can record the operations applied to it.

    ``Tensor(3.0)`` is 0-D, ``Tensor([1.0, 2.0])`` is 1-D (the standard library's
    FloatArray); ``Tensor(numpy.array([1.0, 2.0]))`` is 1-D in numpy, and so for
    any Array API array: the data is a float64 copy in the array's own namespace,
    and every operation on it runs there. A 0-D operand broadcasts against a 1-D
    one of any backend; two 1-D operands must have equal length and one backend.
    """

    __slots__ = ("__weakref__", "data", "grad", "op", "parents", "requires_grad", "static")

    # numpy: ``array + tensor`` calls Tensor.__radd__ instead of looping over the array
    __array_ufunc__ = None

    def __init__(self, value: Any, requires_grad: bool = False) -> None:
        self.data: Data = B.to_data(value.data if isinstance(value, Tensor) else value)
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self.parents: tuple[Tensor, ...] = ()
        self.op: Primitive | None = None
        self.static: dict[str, Any] = {}

    @classmethod
    def from_data(cls, data: Data) -> Tensor:
        """A constant Tensor around ``data``, trusted as it is (no copy, no checks)."""
        t = cls.__new__(cls)
        t.data, t.grad, t.requires_grad, t.parents, t.op, t.static = data, None, False, (), None, {}
        return t

    # ---------------------------------------------------------------- inspection
    @property
    def shape(self) -> tuple[int, ...]:
        return B.shape_of(self.data)

    @property
    def backend(self) -> Backend:
        """The array backend of the data (``python`` for a 0-D tensor)."""
        return B.backend_of(self.data)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    def item(self) -> float:
        """The value of a 0-D tensor as a float."""
        data = self.data
        if type(data) is not float:
            raise ShapeError(f"item() needs a 0-D tensor; this one has shape {self.shape}")
        B.refuse_nan(data, "Tensor.item")
        return data

    def tolist(self) -> Any:
        """A float for a 0-D tensor, a list of floats for a 1-D one (NaNError on a NaN)."""
        if type(self.data) is not float:
            return B.tolist(self.data, "Tensor.tolist")
        return self.item()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (the data is shared, not copied)."""
        return Tensor.from_data(self.data)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        self.requires_grad = flag
        return self

    def __repr__(self) -> str:
        data = self.data
        if type(data) is float:
            B.refuse_nan(data, "Tensor: repr")
            body = repr(data)
        else:
            body = B.backend_of(data).preview(data, "Tensor: repr")
        be = self.backend
        extra = "" if be is B.PYTHON else f", backend={be.name!r}"
        if self.op is not None:
            extra += f", op={self.op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"

    def __float__(self) -> float:
        return self.item()

    def __bool__(self) -> bool:
        return bool(self.item())

    def __len__(self) -> int:
        if isinstance(self.data, float):
            raise TypeError("len() of a 0-D tensor")
        return int(self.data.shape[0])

    def __iter__(self) -> Iterator[Tensor]:
        if type(self.data) is float:
            raise TypeError("iteration over a 0-D tensor")
        B.refuse_nan(self.data, "Tensor: iteration")
        return (F.take(self, index=i) for i in range(len(self)))  # lazily, as unbind()

    def unbind(self) -> tuple[Tensor, ...]:
        """The coordinates of a 1-D tensor as 0-D tensors: ``(x[0], ..., x[n-1])``.

        Forward and backward cost O(n) in all (see the module docstring); with
        gradients recorded each one is a node whose gradient reaches ``self``.
        """
        return F.unbind(self)

    def __getitem__(self, index: Index) -> Tensor:
        if not isinstance(index, (int, slice)):
            # the graph keeps the index for backward: copy a list, so that a later change to
            # the caller's list cannot reach it; an integer-like scalar (numpy's) becomes an int
            key: Any = index
            index = tuple(key) if hasattr(key, "__len__") else operator.index(key)
        return F.take(self, index=index)

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Tensor:
        return F.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return F.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return F.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return F.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return F.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return F.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return F.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return F.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return F.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return F.power(other, self)

    def __neg__(self) -> Tensor:
        return F.neg(self)

    def __abs__(self) -> Tensor:
        return F.abs(self)

    # Comparisons give plain masks (a bool, a list of bools on the python backend, a bool
    # array on an Array API one), never graph nodes. == and != keep their identity meaning
    # so tensors stay usable in sets and dicts.
    def __lt__(self, other: Any) -> Any:
        a, b = self.data, _data(other, self)
        return B.common_backend((a, b), "comparison <").less(a, b)

    def __le__(self, other: Any) -> Any:
        a, b = self.data, _data(other, self)
        return B.common_backend((a, b), "comparison <=").less_equal(a, b)

    def __gt__(self, other: Any) -> Any:
        a, b = self.data, _data(other, self)
        return B.common_backend((a, b), "comparison >").greater(a, b)

    def __ge__(self, other: Any) -> Any:
        a, b = self.data, _data(other, self)
        return B.common_backend((a, b), "comparison >=").greater_equal(a, b)

    # ------------------------------------------------------------- math methods
    def exp(self) -> Tensor:
        return F.exp(self)

    def log(self) -> Tensor:
        return F.log(self)

    def sqrt(self) -> Tensor:
        return F.sqrt(self)

    def sin(self) -> Tensor:
        return F.sin(self)

    def cos(self) -> Tensor:
        return F.cos(self)

    def tan(self) -> Tensor:
        return F.tan(self)

    def tanh(self) -> Tensor:
        return F.tanh(self)

    def sigmoid(self) -> Tensor:
        return F.sigmoid(self)

    def relu(self) -> Tensor:
        return F.relu(self)

    def abs(self) -> Tensor:
        return F.abs(self)

    def sum(self) -> Tensor:
        return F.sum(self)

    def mean(self) -> Tensor:
        return F.mean(self)

    def max(self) -> Tensor:
        return F.max(self)

    def min(self) -> Tensor:
        return F.min(self)

    def dot(self, other: Any) -> Tensor:
        return F.dot(self, other)

    def clip(self, lo: float, hi: float) -> Tensor:
        return F.clip(self, lo, hi)

    # ------------------------------------------------------------------ backward
    def backward(self, gradient: Any = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(t) into ``t.grad`` for every t of the graph that requires grad.

        A 0-D tensor needs no ``gradient`` (it is 1); a 1-D one needs the vector
        to take the VJP with. ``create_graph=True`` records the gradient
        computation so that the new ``.grad`` values can be differentiated again.
        """
        seed = _seed(self, gradient)
        order, grads = backprop(self, seed, create_graph)
        with enable_grad() if create_graph else no_grad():
            new = []
            for node in order:
                g = grads[id(node)]
                total = g if node.grad is None else node.grad + g
                check_gradient(node, total)
                new.append(total)
        # all checked before any is written: a refused backward leaves every .grad as it was
        for node, total in zip(order, new):
            node.grad = total


def check_gradient(node: Tensor, g: Tensor) -> None:
    """NaNError when the gradient ``g`` of ``node`` holds a NaN, naming the node's operation."""
    i = B.find_nan(g.data)
    if i >= 0:
        what = "a leaf tensor" if node.op is None else f"the result of {node.op.name}"
        where = f" at index {i}" if g.shape else ""
        raise NaNError(
            f"backward: the gradient of {what} (shape {node.shape}) is NaN{where}: "
            "+inf met -inf (or inf met inf in a quotient) in the gradient computation, "
            "after a value or a derivative overflowed; keep the values finite (rescale the "
            "data, lower the learning rate or clip the gradients)"
        )


def _data(x: Any, like: Tensor) -> Data:
    """The data of an operand of ``like``: a list or tuple is built in like's backend."""
    return x.data if isinstance(x, Tensor) else B.to_data(x, like=B.backend_of(like.data))


def as_tensor(x: Any) -> Tensor:
    """``x`` if it is a Tensor (or a subclass), else a constant Tensor holding it."""
    if isinstance(x, Tensor):
        return x
    if type(x) is float:
        return Tensor.from_data(x)
    return Tensor(x)


def _seed(root: Tensor, gradient: Any) -> Tensor:
    if not root.requires_grad:
        raise GeogradError(
            "backward: this tensor does not require grad; create the inputs with "
            "Tensor(..., requires_grad=True) and do not compute it under no_grad"
        )
    if gradient is None:
        if root.shape:
            raise ShapeError(
                f"backward: a tensor of shape {root.shape} needs backward(gradient) "
                "with a gradient of the same shape; only 0-D outputs default to 1"
            )
        return Tensor.from_data(1.0)
    # a list is a literal: it takes the root's backend, as an operand of a primitive does
    seed = gradient if isinstance(gradient, Tensor) else Tensor(_data(gradient, root))
    if seed.shape != root.shape:
        raise ShapeError(f"backward: gradient shape {seed.shape} != output shape {root.shape}")
    return seed


def topological_order(root: Tensor) -> list[Tensor]:
    """The nodes that require grad and lead to ``root``, parents before children.

    Depth-first with an explicit stack: each node is pushed once to expand it and
    once more to emit it after all its parents.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node.parents:
            if parent.requires_grad and id(parent) not in seen:
                stack.append((parent, False))
    return order


def _sum_to(g: Tensor, like: Tensor) -> Tensor:
    """Undo broadcasting: the gradient ``g`` as shaped like ``like`` -- a 1-D gradient of a
    0-D input is summed; a 0-D one is spread, in the backend of ``like``."""
    shape = like.shape
    if g.shape == shape:
        return g
    if not shape:
        return F.reduce_sum(g)
    return F.broadcast_to(g, shape=shape, like=B.backend_of(like.data))


def backprop(
    root: Tensor, seed: Tensor, create_graph: bool, order: list[Tensor] | None = None
) -> tuple[list[Tensor], dict[int, Tensor]]:
    """The gradient of ``root`` (weighted by ``seed``) for each node: (order, id -> grad).

    ``order`` is ``topological_order(root)`` when the caller has it already.
    """
    if order is None:
        order = topological_order(root)
    grads: dict[int, Tensor] = {id(root): seed}
    # id of an indexed tensor -> (indices, cotangents) of its indexing nodes so far; summed by
    # one scatter_add when the tensor is reached, which is after all its children
    gathered: dict[int, tuple[list[Index], list[Tensor]]] = {}
    with enable_grad() if create_graph else no_grad():
        for node in reversed(order):
            key = id(node)
            pending = gathered.pop(key, None)
            if pending is not None:
                total = F.scatter_add(
                    *pending[1],
                    indices=tuple(pending[0]),
                    n=node.shape[0],
                    like=B.backend_of(node.data),
                )
                previous = grads.get(key)
                grads[key] = total if previous is None else previous + total
            op = node.op
            if op is None:
                continue
            g = grads[key]
            if op.gather:
                parent = node.parents[0]
                if parent.requires_grad:
                    entry = gathered.get(id(parent))
                    if entry is None:
                        entry = gathered[id(parent)] = ([], [])
                    entry[0].append(node.static["index"])
                    entry[1].append(g)
                continue
            try:
                for parent, gi in op.parent_gradients(g, node):
                    previous = grads.get(id(parent))
                    grads[id(parent)] = gi if previous is None else previous + gi
            except GeogradError as exc:
                raise type(exc)(f"{exc} (in the gradient of {op.name})") from None
    return order, grads


# The operators above live in the primitive table (layer 3), which imports this module;
# importing it last lets either module be imported first.
from geograd import functional as F  # noqa: E402
