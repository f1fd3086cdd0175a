"""Layer 2: the Tensor, the graph it records, and reverse-mode backward.

A :class:`Tensor` holds ``data`` (a float for 0-D; for 1-D, an array of some
backend: the standard library's FloatArray, a numpy array, any Array API array,
see :mod:`geograd.backend`), its ``grad`` (a Tensor of the same shape, or None)
and, when it was made by a primitive while gradients were recorded, its
``parents`` and the operation that made it (its :class:`Op`, a primitive of the
table). That is the whole graph.

``backward()`` visits the graph in reverse topological order, found with an
explicit stack (no recursion, so a chain of 200,000 operations works at the
default recursion limit), and asks each node's primitive for the vector-Jacobian
product of each parent. The VJPs are written with Tensor operations: under
``no_grad`` (the default for backward) they only compute numbers; with
``create_graph=True`` they record a graph of the gradient itself, which can be
differentiated again. The primitives and their VJPs live in one table, in
:mod:`geograd.functional`.

This module imports nothing from the table (the table imports it): no import
cycle. The engine needs only what the :class:`Op` protocol says of the operation
that made a node (its name, its parents' gradients, how its indexing gathers).
Tensor's arithmetic operators, indexing and math methods are each one primitive,
so they live above the table: :mod:`geograd.functional` installs them on Tensor
when it is imported (as HIPS autograd's numpy_boxes gives ArrayBox its operators),
and ``import geograd``, which comes first whichever geograd module is imported,
imports it. Undoing broadcasting in gradients (``_sum_to``) is the table's
business too.

Indexing is gathered: the VJP of ``x[i]`` is a length-n vector that is zero but
at i, and building one per index made splitting an n-vector into its n
coordinates (``x[0], ..., x[n-1]``, ``x.unbind()``, iteration) cost O(n²).
``backprop`` instead collects the (index, cotangent) pairs of every indexing of
one tensor and, when it reaches that tensor, adds them all into one vector with a
single ``scatter_add`` primitive (the op's ``gather``): O(n) in all, and
differentiable like any other node, so higher-order gradients gather the same way.

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

from collections.abc import Callable, Iterable, Iterator
from contextlib import ContextDecorator
from typing import TYPE_CHECKING, Any, Protocol

from geograd import backend as B
from geograd.backend import Backend, Data, Index
from geograd.errors import GeogradError, NaNError, ShapeError

if TYPE_CHECKING:
    from types import TracebackType


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


class Op(Protocol):
    """What backward needs of the operation that made a node: a
    :class:`geograd.functional.Primitive` (the table's rows) is one."""

    @property
    def name(self) -> str:
        """How errors name the operation."""
        ...

    @property
    def gather(self) -> Callable[..., Tensor] | None:
        """For indexing: the primitive that sums the gradients of all the indexing of one
        tensor at once, called as ``gather(*grads, indices=..., n=..., like=backend)``
        with each node's ``static["index"]``; None for every other operation."""
        ...

    def parent_gradients(self, g: Tensor, out: Tensor) -> Iterable[tuple[Tensor, Tensor]]:
        """(parent, its gradient, shaped like the parent) for each parent of ``out`` that
        requires grad, given the gradient ``g`` of ``out``."""
        ...


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
        self.op: Op | None = None
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

    # Arithmetic, indexing and math methods: each one primitive of the table, installed by
    # geograd.functional (see the module docstring); declared here for type checkers.
    if TYPE_CHECKING:

        def __iter__(self) -> Iterator[Tensor]: ...
        def unbind(self) -> tuple[Tensor, ...]: ...
        def __getitem__(self, index: Index) -> Tensor: ...
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def log(self) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def sin(self) -> Tensor: ...
        def cos(self) -> Tensor: ...
        def tan(self) -> Tensor: ...
        def tanh(self) -> Tensor: ...
        def sigmoid(self) -> Tensor: ...
        def relu(self) -> Tensor: ...
        def abs(self) -> Tensor: ...
        def sum(self) -> Tensor: ...
        def mean(self) -> Tensor: ...
        def max(self) -> Tensor: ...
        def min(self) -> Tensor: ...
        def dot(self, other: Any) -> Tensor: ...
        def clip(self, lo: float, hi: float) -> Tensor: ...

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


def topological_order(root: Tensor, *, every: bool = False) -> list[Tensor]:
    """The nodes that require grad and lead to ``root``, parents before children; with
    ``every``, all the tensors it was computed from, constants included (a picture of the
    graph shows the ``3`` of ``x + 3``), first arguments first.

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
        # reversed with every: the first argument is expanded first, so a picture's
        # numbering reads naturally
        for parent in reversed(node.parents) if every else node.parents:
            if (every or parent.requires_grad) and id(parent) not in seen:
                stack.append((parent, False))
    return order


def backprop(
    root: Tensor, seed: Tensor, create_graph: bool, order: list[Tensor] | None = None
) -> tuple[list[Tensor], dict[int, Tensor]]:
    """The gradient of ``root`` (weighted by ``seed``) for each node: (order, id -> grad).

    ``order`` is ``topological_order(root)`` when the caller has it already.
    """
    if order is None:
        order = topological_order(root)
    grads: dict[int, Tensor] = {id(root): seed}
    # id of an indexed tensor -> (gather, indices, cotangents) of its indexing nodes so far;
    # summed by one gather (scatter_add) when the tensor is reached, after all its children
    gathered: dict[int, tuple[Callable[..., Tensor], list[Index], list[Tensor]]] = {}
    with enable_grad() if create_graph else no_grad():
        for node in reversed(order):
            key = id(node)
            pending = gathered.pop(key, None)
            if pending is not None:
                gather_all, indices, cotangents = pending
                total = gather_all(
                    *cotangents, indices=tuple(indices), n=node.shape[0], like=node.backend
                )
                previous = grads.get(key)
                grads[key] = total if previous is None else previous + total
            op = node.op
            if op is None:
                continue
            g = grads[key]
            gather = op.gather
            if gather is not None:
                parent = node.parents[0]
                if parent.requires_grad:
                    entry = gathered.get(id(parent))
                    if entry is None:
                        entry = gathered[id(parent)] = (gather, [], [])
                    entry[1].append(node.static["index"])
                    entry[2].append(g)
                continue
            try:
                for parent, gi in op.parent_gradients(g, node):
                    previous = grads.get(id(parent))
                    grads[id(parent)] = gi if previous is None else previous + gi
            except GeogradError as exc:
                raise type(exc)(f"{exc} (in the gradient of {op.name})") from None
    return order, grads
