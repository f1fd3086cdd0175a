"""Layer 3: the differentiable primitives, each one forward, one VJP and one JVP, in one table.

Read a row as: name, forward (on plain data: the name of the
:class:`~geograd.backend.Backend` method that computes it on the inputs' backend,
or a function of that backend and the data), then the vector-Jacobian product for
each argument (``vjps``: reverse mode), then the Jacobian-vector product for each
argument (``jvps``: forward mode, :mod:`geograd.forward`). Both are written with
differentiable Tensor operations, so that the same row gives first-order
derivatives (run under ``no_grad``) and higher-order ones (``create_graph=True``,
a JVP of a VJP, ...) on every backend. ``g`` is the gradient of the output (a
cotangent, shaped like the output), ``t`` the tangent of one argument (shaped like
that argument), ``out`` the output itself. A VJP computes g·∂out/∂a_i, a JVP
∂out/∂a_i·t: for an elementwise operation the Jacobian is diagonal, so the two
read alike, but a VJP undoes broadcasting (sums a 0-D argument's gradient) where
a JVP spreads a 0-D argument's tangent. A new operation is one more row.

Non-smooth points take the minimal-norm subgradient (and forward mode the same
element of it: a JVP is the product with the same Jacobian the VJP transposes, so
<u, J v> = <J^T u, v> holds at kinks too): ``abs``, ``norm``,
``hypot`` and ``vector_norm`` have gradient 0 at the origin, ``relu`` has gradient
0 at 0, ``clip`` passes the gradient to ``x`` on its closed interval [lo, hi] and
to the bound where ``x`` lies beyond it. Ties share: ``max``/``min`` split the
gradient evenly among all entries equal to the result, and ``maximum``/``minimum``
give each argument half when the two are equal (as torch does). An infinite
derivative (``sqrt`` or ``x ** 0.5`` at 0) is not a kink: backward raises a
DomainError naming the primitive rather than return ``inf`` -- unless nothing
depends on that entry: a zero cotangent gives a zero gradient whatever the local
derivative, because VJPs multiply by it with ``mul_masked`` (``0 · inf = 0``) and
divide with ``div_masked`` (``0 / 0 = 0``). So ``sqrt(x)[1]`` has gradient
``[0, 1/(2 sqrt(x_1))]`` at ``x = [0, x_1]``, and the gradient of an unselected
branch of ``where`` or of indexing is exactly 0 even where that branch overflowed.
JVPs follow suit with the tangent in place of the cotangent: a zero tangent gives a
zero tangent of the output whatever the local derivative, a nonzero one meeting an
infinite derivative raises a DomainError naming the primitive (``in the tangent of
sqrt``). The gradient of a norm at the origin is both: a kink (the gradient c/||c|| is
taken as 0 there) whose own derivative, 1/||c||, is infinite. So the Hessian (or ``jvp``
of ``grad``) of ``norm``, ``hypot`` or ``vector_norm`` at the origin raises a
DivisionByZeroError naming it, as ``sqrt``'s does, rather than return zeros: ``||x||`` has
no second derivative there, and its curvature grows like 1/||x|| nearby.

Every primitive has its own docstring (``help(F.norm)``): its formula and derivatives.

Indexing (``take``) is marked ``gather=scatter_add``: backward sums all the indexing of
one tensor with a single ``scatter_add`` (see :mod:`geograd.tensor`), so ``unbind(x)``,
iteration and ``x[0], ..., x[n-1]`` cost O(n) in all, forward and backward.

Before the table: :class:`Primitive` (a row: its call records the graph, its
``parent_gradients`` runs the VJPs and undoes broadcasting). After it, built on it:
the functions made of primitives (``mean``, ``dot``, ``relu``, ...), the functional
API ``grad`` and ``value_and_grad``, and Tensor's operators and math methods
(``x + y``, ``x[i]``, ``x.exp()``, ...), each one primitive, which this module
installs on :class:`~geograd.tensor.Tensor` (as HIPS autograd's numpy_boxes gives
ArrayBox its operators). So :mod:`geograd.tensor` imports nothing from here, the
table needs no operator while it is built (its VJPs use them only when they run),
and ``import geograd`` assembles the two.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from geograd import backend as B
from geograd.backend import NAN_HINT, PYTHON, Backend, Data, Index, Mask
from geograd.errors import (
    BackendError,
    DivisionByZeroError,
    DomainError,
    GeogradError,
    NaNError,
    ShapeError,
)
from geograd.tensor import (
    Tensor,
    _GradMode,
    as_tensor,
    backprop,
    check_gradient,
    enable_grad,
    is_grad_enabled,
    topological_order,
)

VJP = Callable[..., Tensor]
JVP = Callable[..., Tensor]


class _ForwardMode:
    """Forward mode's state, read by every primitive call (one test while it is off).

    ``stores``: the tangent stores of the :func:`geograd.forward.jvp` calls in progress,
    outermost first (each maps a Tensor to its tangent, a Tensor too: ``get`` and
    ``put``); ``visible``: how many of them see primitive calls now. A JVP rule of level
    k runs with ``visible = k``, so that the outer levels differentiate the rule's own
    operations (a tangent of a tangent: nested forward mode) while its own level and
    the inner ones do not (no perturbation confusion, no infinite regress).
    """

    stores: ClassVar[list[Any]] = []
    visible = 0


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
    argument that was broadcast come back 1-D and are summed here
    (:meth:`parent_gradients`, with :func:`_sum_to`).

    Forward mode, the transpose: ``jvps[i](t, out, *inputs, **static)`` is the
    tangent of the output due to the tangent ``t`` of argument i (∂out/∂a_i · t), and
    ``jvp_all(ts, out, *inputs, **static)`` the whole tangent given the list ``ts`` of
    the arguments' tangents (None for an argument without one: a zero that costs
    nothing). They are Tensor operations like the VJPs, not code on plain data: slower
    by a primitive call per operation, but then a JVP rule is differentiable like any
    other computation, so forward over reverse (``jvp`` of ``grad``: a Hessian-vector
    product), reverse over forward and forward over forward need nothing more, on
    every backend, and the rules read like the VJPs beside them. A 0-D tangent of the
    output of a broadcasting operation is spread here (:meth:`push_tangents`).
    ``diagonal=True`` marks an elementwise primitive, whose Jacobian in each argument is
    diagonal and so its own transpose: its JVPs are its VJPs, applied to the tangent
    (the broadcast of a 0-D argument is undone by the caller in both directions).

    ``gather=scatter_add`` marks indexing (``take``): its VJP is ``scatter(g, index,
    n)``, which ``backprop`` does not build once per use but gathers, for all the
    indexing of one tensor, into one ``scatter_add`` (static ``index``, parent 0).

    A Primitive is the :class:`geograd.tensor.Op` of the nodes it makes.

    ``doc``: what the primitive computes and its derivatives, in a few lines; it
    becomes the primitive's own ``__doc__``, so ``help(F.norm)`` shows it.

    A 0-D result that is NaN raises NaNError here, naming the primitive.
    """

    name: str
    forward: str | Callable[..., Data]
    vjps: tuple[VJP, ...] = ()
    vjp_all: Callable[..., Sequence[Tensor]] | None = field(default=None)
    gather: Callable[..., Tensor] | None = None
    jvps: tuple[JVP, ...] = ()
    jvp_all: Callable[..., Tensor] | None = None
    diagonal: bool = False
    doc: str = ""
    _method: str = field(init=False, repr=False, default="")

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __post_init__(self) -> None:
        if self.doc:
            object.__setattr__(self, "__doc__", self.doc)  # help(F.norm) shows the row's doc
        if isinstance(self.forward, str):
            object.__setattr__(self, "_method", self.forward)
        if self.diagonal and not self.jvps:
            # an elementwise Jacobian is diagonal, so its own transpose: the JVP of each
            # argument is its VJP applied to the tangent (the row states it once)
            object.__setattr__(self, "jvps", self.vjps)

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
        if _ForwardMode.visible:  # forward mode is on (geograd.forward.jvp): tangents follow
            self.push_tangents(inputs, out, static)
        return out

    def push_tangents(self, inputs: Sequence[Tensor], out: Tensor, static: dict[str, Any]) -> None:
        """Forward mode: the tangent of ``out`` at each visible level where an input has
        one, Σ_i ∂out/∂input_i · tangent_i by the JVP rules, shaped like ``out``."""
        mode = _ForwardMode
        visible = mode.visible
        for level in range(visible):
            store = mode.stores[level]
            tangents = [store.get(t) for t in inputs]
            if all(t is None for t in tangents):
                continue  # a constant at this level: its tangent is 0, stored as nothing
            mode.visible = level  # the rule's operations are seen by the outer levels only
            try:
                tangent = self._tangent(tangents, out, inputs, static)
            except GeogradError as exc:
                raise type(exc)(f"{exc} (in the tangent of {self.name})") from None
            finally:
                mode.visible = visible
            store.put(out, tangent)

    def _tangent(
        self,
        tangents: list[Tensor | None],
        out: Tensor,
        inputs: Sequence[Tensor],
        static: dict[str, Any],
    ) -> Tensor:
        if self.jvp_all is not None:
            total = self.jvp_all(tangents, out, *inputs, **static)
        else:
            found: Tensor | None = None
            for rule, t in zip(self.jvps, tangents):
                if t is not None:
                    term = rule(t, out, *inputs, **static)
                    found = term if found is None else found + term
            assert found is not None  # some input has a tangent, or this is not called
            total = found
        if total.shape != out.shape:  # a broadcast 0-D argument's tangent: spread it
            total = broadcast_to(total, shape=out.shape, like=B.backend_of(out.data))
        return total

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


def carry_tangents(new: Tensor, old: Any) -> None:
    """Forward mode across a re-wrapping: ``new`` (a leaf that ``grad`` makes of the
    argument ``old``, or a detached copy of a value) holds the same value as ``old``,
    so it gets the same tangent at every visible jvp level. Thanks to this,
    ``jvp(grad(f), (x,), (v,))`` is the Hessian-vector product (forward over reverse).
    Nothing to do, at the cost of one test, while no jvp runs."""
    if not _ForwardMode.visible or not isinstance(old, Tensor):
        return
    for store in _ForwardMode.stores[: _ForwardMode.visible]:
        tangent = store.get(old)
        if tangent is not None:
            store.put(new, tangent)


def _sum_to(g: Tensor, like: Tensor) -> Tensor:
    """Undo broadcasting: the gradient ``g`` as shaped like ``like`` -- a 1-D gradient of a
    0-D input is summed; a 0-D one is spread, in the backend of ``like``."""
    shape = like.shape
    if g.shape == shape:
        return g
    if not shape:
        return reduce_sum(g)
    return broadcast_to(g, shape=shape, like=B.backend_of(like.data))


def _const(data: Data) -> Tensor:
    return Tensor.from_data(data)


# the placeholder a vjp_all returns for a parent that does not require grad (never used)
_NOTHING = Tensor.from_data(0.0)


def _gmul(g: Tensor, d: Any) -> Tensor:
    """g · d: a cotangent (or, in a JVP, a tangent) times a local derivative, exactly 0
    where g is 0 even if d is inf."""
    return mul_masked(g, d)


def _tie_weights(a: Data, b: Data) -> Tensor:
    """d max(a, b)/da: 1 where a > b, 1/2 where a == b, 0 where a < b."""
    be = B.common_backend((a, b), "maximum")
    return _const(be.where(be.greater(a, b), 1.0, be.where(be.equal(a, b), 0.5, 0.0)))


def _share(x: Data, value: float) -> Tensor:
    """d max(x)/dx when ``max(x) == value``: 1/k on each of the k entries equal to it."""
    be = B.backend_of(x)
    mask = be.equal(x, value)
    return _const(be.where(mask, 1.0 / be.count(mask), 0.0))


def _inside(x: Data, lo: float, hi: float) -> Tensor:
    """d clip(x, lo, hi)/dx: 1 on the closed interval [lo, hi], 0 outside it."""
    be = B.backend_of(x)
    return _const(be.where(be.logical_and(be.greater_equal(x, lo), be.less_equal(x, hi)), 1.0, 0.0))


def _below(x: Data, lo: float) -> Tensor:
    """d clip(x, lo, hi)/d lo: 1 where x < lo (the output is lo there), else 0."""
    be = B.backend_of(x)
    return _const(be.where(be.less(x, lo), 1.0, 0.0))


def _above(x: Data, hi: float) -> Tensor:
    """d clip(x, lo, hi)/d hi: 1 where x > hi (the output is hi there), else 0."""
    be = B.backend_of(x)
    return _const(be.where(be.greater(x, hi), 1.0, 0.0))


def _pow_base_vjp(g: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """g b a^(b-1). Where a == b == 0 that is 0 * 0^-1, taken as 0 (as torch does), so
    that every derivative of a polynomial stays finite at 0 (d³/dx³ x² = 0 there).

    Where a == 0 and b < 1, a^(b-1) does not exist (x ** 0.5 at 0): the gradient is 0
    there if g is 0 (nothing depends on that entry), else a DomainError.
    """
    try:
        return _pow_base_product(g, a, b)
    except DomainError:
        # only those entries change, and only to base 1 (any finite value would do: the
        # cotangent is 0 and a^(b-1) has no value there), so every other entry stays exact
        dead = _dead_base(g.data, a.data, b.data)
        if not B.common_backend((g.data, a.data, b.data), "pow").count(dead):
            raise
        return _pow_base_product(g, where(dead, 1.0, a), b)


def _dead_base(g: Data, a: Data, b: Data) -> Mask:
    """Where nothing depends on a^(b-1) (g == 0) and it has no value (a == 0, b < 1)."""
    be = B.common_backend((g, a, b), "pow")
    return be.logical_and(be.logical_and(be.equal(g, 0.0), be.equal(a, 0.0)), be.less(b, 1.0))


def _pow_exponent_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """g a^b log a, the derivative with respect to the exponent; 0 where a == 0 (0^b is 0
    for every b > 0 near b, and b < 0 has no value at all), as torch takes it.

    Where a < 0, a^b exists only at whole b, so it has no derivative with respect to b:
    a DomainError, unless g is 0 there (nothing depends on that entry). (torch gives NaN;
    the engine raises, as for ``log(-1)``.) A constant exponent never gets here.
    """
    be = B.common_backend((g.data, a.data), "pow")
    if be.count(be.logical_and(be.less(a.data, 0.0), be.not_equal(g.data, 0.0))):
        raise DomainError(
            "pow: a ** b has no derivative with respect to b where a < 0 (a negative "
            "base has a power only at whole exponents)"
        )
    return _gmul(g, out * log(where(a > 0.0, a, 1.0)))


def _pow_base_product(g: Tensor, a: Tensor, b: Tensor) -> Tensor:
    if not b.shape and b.data != 0.0:
        return _gmul(g, b * a ** (b - 1.0))  # the common case, a constant exponent like x ** 2
    # only where both are 0 does the exponent change (to 0, so 0^0 = 1 and the product
    # is 0); elsewhere b - 1 stays, so derivatives with respect to b remain exact
    be = B.common_backend((a.data, b.data), "pow")
    both_zero = be.logical_and(be.equal(a.data, 0.0), be.equal(b.data, 0.0))
    return _gmul(g, b * a ** where(both_zero, 0.0, b - 1.0))


def _logsumexp(be: Backend, x: Data) -> float:
    # Shift by the max so that exp never overflows: log Σ e^x = m + log Σ e^(x - m).
    m = be.amax(x)
    if math.isinf(m):
        return m
    return m + math.log(be.total(be.exp(be.sub(x, m))))


def _concat_vjp(g: Tensor, out: Tensor, *pieces: Tensor, like: Any = None) -> list[Tensor]:
    """Each piece gets its own slice of g (a 0-D piece its single entry)."""
    grads, start = [], 0
    for piece in pieces:
        if piece.shape:
            stop = start + piece.shape[0]
            grads.append(take(g, index=slice(start, stop)))
            start = stop
        else:
            grads.append(take(g, index=start))
            start += 1
    return grads


def _norm_vjp(g: Tensor, out: Tensor, *coords: Tensor) -> list[Tensor]:
    """d||c||/dc_i = c_i/||c||, taken as 0 at the origin (see :func:`_unit`)."""
    return [_gmul(g, _unit(c, out, len(coords), "norm (hypot)")) for c in coords]


def _unit(c: Tensor, r: Tensor, dim: int, of: str) -> Tensor:
    """c/r, the derivative of the norm r of ``dim`` coordinates in its coordinate c; 0 at the
    origin. In one dimension that is sign(c), as for ``abs``: |c| is a plain kink, linear on
    each side. In more, the curvature grows like 1/r near the origin and has no value there:
    :data:`over_norm`, whose own derivative raises at r = 0, naming the norm ``of``."""
    return sign(c) if dim == 1 else over_norm(c, r, of=of)


def _vector_unit(x: Tensor, length: Tensor) -> Tensor:
    """x/||x||, the gradient of ``vector_norm`` (see :func:`_unit`; a 0-D x is one coordinate)."""
    return _unit(x, length, x.shape[0] if x.shape else 1, "vector_norm")


def _over_norm_forward(be: Backend, a: Data, r: Data, of: str) -> Data:
    return be.divide_no_nan(a, r)  # ``of`` names the norm in the derivative's error


def _over_norm_vjp(g: Tensor, out: Tensor, a: Tensor, r: Tensor, of: str) -> Tensor:
    """d(a/r)/da = 1/r: infinite at r = 0, where a/r was taken as 0 (the norm's
    subgradient); a zero g gives 0 there, a nonzero one a DivisionByZeroError naming ``of``."""
    try:
        return div_masked(g, r)
    except DivisionByZeroError:
        raise DivisionByZeroError(
            f"{of}: no second derivative at the origin: the gradient c/||c|| is taken as 0 "
            "there (a subgradient), and the curvature grows like 1/||c|| nearby"
        ) from None


def _over_squared_norm(v: Tensor, s: Tensor, c: Tensor) -> Tensor:
    """v/(s² + c²) as (v/h)/h, h = hypot(s, c): no overflow or underflow of h², and 0 where
    v = h = 0 (atan2's gradient at the origin)."""
    h = norm(s, c)
    return div_masked(div_masked(v, h), h)


def _distances_forward(be: Backend, *datas: Data) -> Data:
    d = len(datas) // 2
    return be.distances(datas[:d], datas[d:])  # type: ignore[arg-type]


def _distances_vjp(g: Tensor, out: Tensor, *args: Tensor) -> list[Tensor]:
    """Gradients of ``out_i = ||x_i − c||`` given ``g``: for the centre's coordinate j,
    Σ_i g_i (c_j − x_ij)/d_i (one fused :data:`offset_sum` each); for a data coordinate
    that requires grad, g_i (x_ij − c_j)/d_i. Every term is 0 where d_i = 0."""
    d = len(args) // 2
    coords, center = args[:d], args[d:]
    grads = [_NOTHING] * len(args)  # a parent that does not require grad: never used
    scale: Tensor | None = None
    for j, (x, c) in enumerate(zip(coords, center)):
        if c.requires_grad:
            grads[d + j] = offset_sum(g, out, x, c)
        if x.requires_grad:
            if scale is None:
                scale = divide_no_nan(g, out)
            grads[j] = _gmul(scale, x - c)
    return grads


def _offset_sum_forward(be: Backend, g: Data, dist: Data, x: Data, c: Data) -> float:
    return be.offset_sum(g, dist, x, c)  # type: ignore[arg-type]


def _offset_sum_vjp(
    h: Tensor, out: Tensor, g: Tensor, dist: Tensor, x: Tensor, c: Tensor
) -> list[Tensor]:
    """s = Σ_i g_i (c − x_i)/d_i: ds/dg_i = (c − x_i)/d_i, ds/dd_i = −g_i (c − x_i)/d_i²,
    ds/dx_i = −g_i/d_i, ds/dc = Σ_i g_i/d_i; each term 0 where d_i = 0. Only the gradients
    of the inputs that require grad are built."""
    grads = [_NOTHING] * 4
    if g.requires_grad or dist.requires_grad:
        unit = divide_no_nan(c - x, dist)  # (c − x_i)/d_i, 0 at d_i = 0
        if g.requires_grad:
            grads[0] = _gmul(h, unit)
        if dist.requires_grad:
            grads[1] = -_gmul(h, divide_no_nan(g * unit, dist))
    if x.requires_grad or c.requires_grad:
        w = divide_no_nan(g, dist)  # g_i/d_i, 0 at d_i = 0
        if x.requires_grad:
            grads[2] = -_gmul(h, w)
        if c.requires_grad:
            grads[3] = _gmul(h, reduce_sum(w))
    return grads


def _scatter_add_vjp(
    g: Tensor, out: Tensor, *pieces: Tensor, indices: Any, n: int, like: Backend | None = None
) -> list[Tensor]:
    """Piece k was added at indices[k]: its gradient is g there, g[indices[k]]."""
    return [take(g, index=index) for index in indices]


def _spread(g: Tensor, like: Tensor) -> Tensor:
    """The 0-D ``g`` repeated to the shape of ``like``, in its backend."""
    return broadcast_to(g, shape=like.shape, like=B.backend_of(like.data))


def _where_forward(be: Backend, a: Data, b: Data, cond: Mask) -> Data:
    # the condition decides the backend too: where(x > 0, 1.0, 0.0) is an array of x's
    return B.common_backend((cond, a, b), "where").where(cond, a, b)


def _scatter_add_forward(
    be: Backend, *pieces: Data, indices: Any, n: int, like: Backend | None = None
) -> Data:
    # all pieces may be 0-D (the coordinates of x): ``like`` is the backend of x
    return (like or be).scatter_add(pieces, indices, n)


def _scatter_forward(be: Backend, g: Data, index: Any, n: int, like: Backend | None = None) -> Data:
    return (like or be).scatter_add([g], [index], n)


def _broadcast_forward(
    be: Backend, a: Data, shape: tuple[int, ...], like: Backend | None = None
) -> Data:
    return (like or be).broadcast_to(a, shape)


def _concat_forward(be: Backend, *pieces: Data, like: Backend | None = None) -> Data:
    return (like or be).concat(pieces)


# ------------------------------------------------------ the JVPs of the n-ary primitives


def _zero(x: Tensor) -> Tensor:
    """The zero tangent of ``x``: 0.0, or zeros shaped like it in its backend."""
    return _const(B.zeros_like(x.data))


def _add_terms(terms: Sequence[Tensor]) -> Tensor:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _norm_jvp(ts: Sequence[Tensor | None], out: Tensor, *coords: Tensor) -> Tensor:
    """d||c|| = Σ_i c_i dc_i / ||c||, taken as 0 at the origin (as the gradient is)."""
    if len(coords) == 1:  # |c|: sign(c) dc, as for abs (see _unit)
        return _gmul(sign(coords[0]), ts[0])
    terms = [_gmul(c, t) for c, t in zip(coords, ts) if t is not None]
    return over_norm(_add_terms(terms), out, of="norm (hypot)")


def _concat_jvp(
    ts: Sequence[Tensor | None], out: Tensor, *pieces: Tensor, like: Any = None
) -> Tensor:
    """Linear: the pieces' tangents concatenated (zeros for a piece without one)."""
    return _concat(*[_zero(p) if t is None else t for p, t in zip(pieces, ts)], like=like)


def _scatter_add_jvp(
    ts: Sequence[Tensor | None],
    out: Tensor,
    *pieces: Tensor,
    indices: Any,
    n: int,
    like: Backend | None = None,
) -> Tensor:
    """Linear: the pieces' tangents added at their indices (a piece without one left out)."""
    kept = [(t, index) for t, index in zip(ts, indices) if t is not None]
    return scatter_add(
        *[t for t, _ in kept], indices=tuple(index for _, index in kept), n=n, like=like
    )


def _distances_jvp(ts: Sequence[Tensor | None], out: Tensor, *args: Tensor) -> Tensor:
    """dd_i = Σ_j (x_ij − c_j)(dx_ij − dc_j) / d_i, taken as 0 where d_i = 0."""
    d = len(args) // 2
    terms = []
    for j in range(d):
        tx, tc = ts[j], ts[d + j]
        if tx is None and tc is None:
            continue
        move = -tc if tx is None else tx if tc is None else tx - tc  # type: ignore[operator]
        terms.append(_gmul(args[j] - args[d + j], move))
    return divide_no_nan(_add_terms(terms), out)


def _offset_sum_jvp(
    ts: Sequence[Tensor | None], out: Tensor, g: Tensor, dist: Tensor, x: Tensor, c: Tensor
) -> Tensor:
    """ds = Σ_i [dg_i (c − x_i)/d_i − g_i (c − x_i) dd_i/d_i² + g_i (dc − dx_i)/d_i], every
    term 0 where d_i = 0: the partial derivatives of :func:`_offset_sum_vjp`, applied."""
    tg, td, tx, tc = ts
    terms = []
    if tg is not None or td is not None:
        unit = divide_no_nan(c - x, dist)  # (c − x_i)/d_i, 0 at d_i = 0
        if tg is not None:
            terms.append(sum(_gmul(tg, unit)))
        if td is not None:
            terms.append(-sum(_gmul(td, divide_no_nan(g * unit, dist))))
    if tx is not None or tc is not None:
        w = divide_no_nan(g, dist)  # g_i/d_i, 0 at d_i = 0
        if tx is not None:
            terms.append(-sum(_gmul(w, tx)))
        if tc is not None:
            terms.append(_gmul(tc, reduce_sum(w)))
    return _add_terms(terms)


_NORM_DOC = """norm(c_1, ..., c_d) = sqrt(c_1² + ... + c_d²), elementwise: the Euclidean norms of
points given by their coordinates (each c_i 0-D, or 1-D with one entry per point), computed
hypot-style (no overflow of c_i²). ``hypot(x, y)`` is ``norm(x, y)``.

Not ``torch.norm``: the arguments are coordinates, not one vector, so ``norm(x)`` of one
1-D ``x`` is ``|x|`` elementwise (the lengths of n one-dimensional points, which
dimension-generic code ``norm(*coords)`` relies on when d = 1). The length of one vector
``x``, what ``torch.norm(x)`` gives, is ``F.vector_norm(x)``.

Gradient: ∂/∂c_i = c_i / norm, taken as 0 at the origin (a subgradient: the gradient of a
distance at zero distance is 0). There is no second derivative at the origin (the
curvature grows like 1/norm nearby): a Hessian there raises DivisionByZeroError naming norm.
"""

P = Primitive
# fmt: off
# ---------------------------------------------------------------------------------------
#  name = P(name, forward on data, doc=its own docstring (formula and derivatives),
#           vjps=(VJP of each argument: (g, out, *args) -> g · ∂out/∂arg, its gradient),
#           jvps=(JVP of each argument: (t, out, *args) -> ∂out/∂arg · t, its tangent's part))
# ---------------------------------------------------------------------------------------
add: Primitive = P("add", "add",
    doc="add(a, b) = a + b, elementwise (a 0-D operand broadcasts). ∂/∂a = ∂/∂b = 1.",
    vjps=(lambda g, out, a, b: g,
          lambda g, out, a, b: g), diagonal=True)
sub: Primitive = P("sub", "sub",
    doc="sub(a, b) = a − b, elementwise. ∂/∂a = 1, ∂/∂b = −1.",
    vjps=(lambda g, out, a, b: g,
          lambda g, out, a, b: -_sum_to(g, b)),  # reduce, then negate: one pass fewer
    jvps=(lambda t, out, a, b: t,
          lambda t, out, a, b: -t))
mul: Primitive = P("mul", "mul",
    doc="mul(a, b) = a · b, elementwise. ∂/∂a = b, ∂/∂b = a.",
    vjps=(lambda g, out, a, b: _gmul(g, b),
          lambda g, out, a, b: _gmul(g, a)), diagonal=True)
div: Primitive = P("div", "div",
    doc="div(a, b) = a / b, elementwise; DivisionByZeroError where b = 0.\n"
        "∂/∂a = 1/b, ∂/∂b = −a/b² (as −out/b).",
    vjps=(lambda g, out, a, b: div_masked(g, b),
          lambda g, out, a, b: -div_masked(_gmul(g, out), b)), diagonal=True)
power: Primitive = P("pow", "power",
    doc="power(a, b) = a ** b, elementwise (``x ** 2``).\n"
        "∂/∂a = b a^(b−1): 0 where a = b = 0; where a = 0 and b < 1 infinite, a DomainError\n"
        "(unless nothing depends on that entry). ∂/∂b = a^b log a: 0 where a = 0; where\n"
        "a < 0 a DomainError (a negative base has a power only at whole exponents).",
    vjps=(lambda g, out, a, b: _pow_base_vjp(g, a, b),
          lambda g, out, a, b: _pow_exponent_vjp(g, out, a, b)),
    jvps=(lambda t, out, a, b: _pow_base_vjp(t, a, b),  # elementwise: t · b a^(b-1), masked
          lambda t, out, a, b: _pow_exponent_vjp(t, out, a, b)))
divide_no_nan: Primitive = P("divide_no_nan", "divide_no_nan",
    doc="divide_no_nan(a, b) = a / b, and 0 where b = 0, elementwise.\n"
        "∂/∂a = 1/b, ∂/∂b = −out/b, both 0 where b = 0.",
    vjps=(lambda g, out, a, b: divide_no_nan(g, b),
          lambda g, out, a, b: -divide_no_nan(_gmul(g, out), b)), diagonal=True)
maximum: Primitive = P("maximum", "maximum",
    doc="maximum(a, b): the larger of a and b, elementwise.\n"
        "∂/∂a = 1 where a > b, 1/2 where a = b (a tie shares, as in torch), 0 where a < b;\n"
        "∂/∂b alike.",
    vjps=(lambda g, out, a, b: _gmul(g, _tie_weights(a.data, b.data)),
          lambda g, out, a, b: _gmul(g, _tie_weights(b.data, a.data))), diagonal=True)
# the angle of (c, s): d/ds = c/h², d/dc = −s/h² with h = hypot(s, c) (as (c/h)/h: no
# overflow or underflow of h²), taken as 0 at the origin, as hypot's gradient is
atan2: Primitive = P("atan2", "atan2",
    doc="atan2(s, c): the angle of the point (c, s), elementwise, in [−π, π].\n"
        "∂/∂s = c/h², ∂/∂c = −s/h² with h = hypot(s, c), taken as 0 at the origin.",
    vjps=(lambda g, out, s, c: _over_squared_norm(_gmul(g, c), s, c),
          lambda g, out, s, c: -_over_squared_norm(_gmul(g, s), s, c)), diagonal=True)
minimum: Primitive = P("minimum", "minimum",
    doc="minimum(a, b): the smaller of a and b, elementwise.\n"
        "∂/∂a = 1 where a < b, 1/2 where a = b (a tie shares), 0 where a > b; ∂/∂b alike.",
    vjps=(lambda g, out, a, b: _gmul(g, _tie_weights(b.data, a.data)),
          lambda g, out, a, b: _gmul(g, _tie_weights(a.data, b.data))), diagonal=True)
clip: Primitive = P("clip", "clip",
    doc="clip(x, lo, hi): x limited to [lo, hi], elementwise.\n"
        "∂/∂x = 1 on the closed interval [lo, hi], else 0; ∂/∂lo = 1 where x < lo;\n"
        "∂/∂hi = 1 where x > hi.",
    vjps=(lambda g, out, a, lo, hi: _gmul(g, _inside(a.data, lo.item(), hi.item())),
          lambda g, out, a, lo, hi: _gmul(g, _below(a.data, lo.item())),
          lambda g, out, a, lo, hi: _gmul(g, _above(a.data, hi.item()))), diagonal=True)
_where: Primitive = P("where", _where_forward,
    doc="where(a, b, cond=cond): a where cond holds, else b, elementwise (see where()).\n"
        "∂/∂a = 1 where cond holds, ∂/∂b = 1 elsewhere, else 0: exactly 0 in the\n"
        "unselected branch, even where it overflowed.",
    vjps=(lambda g, out, a, b, cond: _where(g, 0.0, cond=cond),
          lambda g, out, a, b, cond: _where(0.0, g, cond=cond)), diagonal=True)
# a·b and a/b with an exact zero (0·inf = 0, 0/0 = 0): what VJPs multiply and divide with
mul_masked: Primitive = P("mul_masked", "mul_masked",
    doc="mul_masked(a, b) = a · b, exactly 0 where a or b is 0 even if the other is ±inf:\n"
        "a cotangent times a local derivative. ∂/∂a = b, ∂/∂b = a (masked alike).",
    vjps=(lambda g, out, a, b: _gmul(g, b),
          lambda g, out, a, b: _gmul(g, a)), diagonal=True)
div_masked: Primitive = P("div_masked", "div_masked",
    doc="div_masked(a, b) = a / b, exactly 0 where a is 0 even if b is 0 (a nonzero a\n"
        "over 0 raises DivisionByZeroError): a cotangent over a derivative's denominator.\n"
        "∂/∂a = 1/b, ∂/∂b = −out/b (masked alike).",
    vjps=(lambda g, out, a, b: div_masked(g, b),
          lambda g, out, a, b: -div_masked(_gmul(g, out), b)), diagonal=True)
# a/||c|| for a that vanishes with ||c||: the derivatives of the norms, 0 at the origin
over_norm: Primitive = P("over_norm", _over_norm_forward,
    doc="over_norm(a, r, of=name) = a / r, 0 where r = 0, elementwise: r is a Euclidean\n"
        "norm ||c|| and a vanishes with it (c_i, or Σ c_i t_i), so this is the derivative\n"
        "of the norm ``of`` (norm, hypot, vector_norm), 0 at the origin (a subgradient).\n"
        "∂/∂a = 1/r, ∂/∂r = −out/r: ∂/∂a is infinite at r = 0, so differentiating there\n"
        "(a second derivative of the norm) raises DivisionByZeroError naming ``of``,\n"
        "unless the cotangent (or tangent) is 0.",
    vjps=(_over_norm_vjp,
          lambda g, out, a, r, of: -div_masked(_gmul(g, out), r)), diagonal=True)

# elementwise, one argument (diagonal=True: the JVP is the VJP, applied to the tangent)
neg: Primitive = P("neg", "neg", doc="neg(a) = −a. ∂/∂a = −1.",
    vjps=(lambda g, out, a: -g,), diagonal=True)
abs: Primitive = P("abs", "absolute",
    doc="abs(a) = |a|, elementwise. ∂/∂a = sign(a): 0 at a = 0 (the minimal-norm subgradient).",
    vjps=(lambda g, out, a: _gmul(g, sign(a)),), diagonal=True)
sign: Primitive = P("sign", "sign", doc="sign(a): −1, 0 or 1, elementwise. ∂/∂a = 0.",
    vjps=(lambda g, out, a: _gmul(g, 0.0),), diagonal=True)
exp: Primitive = P("exp", "exp", doc="exp(a) = e^a, elementwise. ∂/∂a = e^a.",
    vjps=(lambda g, out, a: _gmul(g, out),), diagonal=True)
log: Primitive = P("log", "log",
    doc="log(a), the natural logarithm, elementwise; DomainError where a <= 0. ∂/∂a = 1/a.",
    vjps=(lambda g, out, a: g / a,), diagonal=True)  # a > 0: no 0/0 to mask
sqrt: Primitive = P("sqrt", "sqrt",
    doc="sqrt(a), elementwise; DomainError where a < 0. ∂/∂a = 1/(2 sqrt(a)): infinite at\n"
        "a = 0, where it raises DivisionByZeroError (unless nothing depends on that entry).",
    vjps=(lambda g, out, a: div_masked(g, 2.0 * out),), diagonal=True)
sin: Primitive = P("sin", "sin", doc="sin(a), elementwise. ∂/∂a = cos(a).",
    vjps=(lambda g, out, a: _gmul(g, cos(a)),), diagonal=True)
cos: Primitive = P("cos", "cos", doc="cos(a), elementwise. ∂/∂a = −sin(a).",
    vjps=(lambda g, out, a: -_gmul(g, sin(a)),), diagonal=True)
tan: Primitive = P("tan", "tan", doc="tan(a), elementwise. ∂/∂a = 1 + tan(a)².",
    vjps=(lambda g, out, a: _gmul(g, 1.0 + out * out),), diagonal=True)
tanh: Primitive = P("tanh", "tanh", doc="tanh(a), elementwise. ∂/∂a = 1 − tanh(a)².",
    vjps=(lambda g, out, a: _gmul(g, 1.0 - out * out),), diagonal=True)
sigmoid: Primitive = P("sigmoid", "sigmoid",
    doc="sigmoid(a) = 1/(1 + e^−a), elementwise. ∂/∂a = sigmoid(a) (1 − sigmoid(a)).",
    vjps=(lambda g, out, a: _gmul(g, out * (1.0 - out)),), diagonal=True)
softplus: Primitive = P("softplus", "softplus",
    doc="softplus(a) = log(1 + e^a), elementwise, without overflow. ∂/∂a = sigmoid(a).",
    vjps=(lambda g, out, a: _gmul(g, sigmoid(a)),), diagonal=True)

# reductions; sum is correctly rounded (fsum), reduce_sum is the engine's blocked sum for the
# gradient of a broadcast operand; max/min split the gradient among ties. A reduction's VJP
# spreads g over the argument, its JVP reduces the tangent: Σ_i ∂out/∂a_i t_i
sum: Primitive = P("sum", "total",
    doc="sum(a) = Σ_i a_i, correctly rounded (fsum), a 0-D tensor. ∂/∂a_i = 1.",
    vjps=(lambda g, out, a: _spread(g, a),),
    jvps=(lambda t, out, a: sum(t),))
reduce_sum: Primitive = P("reduce_sum", "blocked_total",
    doc="reduce_sum(a) = Σ_i a_i by the engine's blocked sum (how the gradient of a\n"
        "broadcast operand is summed). ∂/∂a_i = 1.",
    vjps=(lambda g, out, a: _spread(g, a),),
    jvps=(lambda t, out, a: reduce_sum(t),))
# a 0-D value spread to ``shape`` in the backend ``like`` (default: the value's own)
broadcast_to: Primitive = P("broadcast_to", _broadcast_forward,
    doc="broadcast_to(a, shape=shape, like=backend): the 0-D a repeated to ``shape``, in\n"
        "the backend ``like`` (default: a's own). ∂/∂a = 1 per copy: the gradient is Σ_i g_i.",
    vjps=(lambda g, out, a, shape, like=None: sum(g),),
    jvps=(lambda t, out, a, shape, like=None: broadcast_to(t, shape=shape, like=like),))
max: Primitive = P("max", "amax",
    doc="max(a) = max_i a_i, a 0-D tensor.\n"
        "∂/∂a_i = 1/k on each of the k entries equal to the max (ties share), else 0.",
    vjps=(lambda g, out, a: _gmul(g, _share(a.data, out.item())),),
    jvps=(lambda t, out, a: sum(_gmul(t, _share(a.data, out.item()))),))
min: Primitive = P("min", "amin",
    doc="min(a) = min_i a_i, a 0-D tensor.\n"
        "∂/∂a_i = 1/k on each of the k entries equal to the min (ties share), else 0.",
    vjps=(lambda g, out, a: _gmul(g, _share(a.data, out.item())),),
    jvps=(lambda t, out, a: sum(_gmul(t, _share(a.data, out.item()))),))
# d logsumexp(a) = Σ_i softmax(a)_i t_i
logsumexp: Primitive = P("logsumexp", _logsumexp,
    doc="logsumexp(a) = log Σ_i e^(a_i), shifted by the max (no overflow), a 0-D tensor.\n"
        "∂/∂a_i = softmax(a)_i = e^(a_i − logsumexp(a)).",
    vjps=(lambda g, out, a: _gmul(g, exp(a - out)),),
    jvps=(lambda t, out, a: sum(_gmul(t, exp(a - out))),))
# the Euclidean length of one 1-D tensor, sqrt(Σ x_i²); gradient x / length, 0 at 0
vector_norm: Primitive = P("vector_norm", "vector_norm",
    doc="vector_norm(x) = ||x|| = sqrt(Σ_i x_i²), the Euclidean length of one 1-D tensor,\n"
        "a 0-D tensor (torch.norm(x), torch.linalg.vector_norm(x)).\n"
        "∂/∂x_i = x_i/||x||, taken as 0 at x = 0 (a subgradient). No second derivative at\n"
        "x = 0 (the curvature grows like 1/||x||): a Hessian there raises\n"
        "DivisionByZeroError naming vector_norm.",
    vjps=(lambda g, out, a: _gmul(g, _vector_unit(a, out)),),
    jvps=(lambda t, out, a: sum(_gmul(t, _vector_unit(a, out))),))

# any number of arguments: one VJP returns all their gradients, one JVP the output's tangent
# the Euclidean norm of coordinate tensors: sqrt(Σ c_i²); gradient c_i / norm, 0 at the origin
norm: Primitive = P("norm", "hypot", doc=_NORM_DOC, vjp_all=_norm_vjp, jvp_all=_norm_jvp)
_concat: Primitive = P("concat", _concat_forward,
    doc="concat(*pieces, like=backend): the 0-D and 1-D pieces in one 1-D tensor, in order\n"
        "(see concat()). Each piece's gradient is its own slice of g.",
    vjp_all=_concat_vjp, jvp_all=_concat_jvp)
# Σ_k pieces[k] placed at indices[k] in zeros(n); gradient of piece k: g[indices[k]]
scatter_add: Primitive = P("scatter_add", _scatter_add_forward,
    doc="scatter_add(*pieces, indices=indices, n=n, like=backend) = Σ_k pieces[k] placed\n"
        "at indices[k] in zeros(n). ∂/∂pieces[k]: g[indices[k]].",
    vjp_all=_scatter_add_vjp, jvp_all=_scatter_add_jvp)
# indexing and its adjoint, both linear (each one's JVP is itself on the tangent); backward
# gathers all indexing of one tensor into one scatter_add
take: Primitive = P("take", "take",
    doc="take(a, index=index) = a[index], for an int (a 0-D result), a slice or a tuple\n"
        "of ints: ``x[i]``. Gradient: g placed at index in zeros shaped like a.",
    vjps=(lambda g, out, a, index: scatter(
              g, index=index, n=a.shape[0], like=B.backend_of(a.data)),),
    jvps=(lambda t, out, a, index: take(t, index=index),),
    gather=scatter_add)
scatter: Primitive = P("scatter", _scatter_forward,
    doc="scatter(g, index=index, n=n, like=backend): g placed at index in zeros(n), the\n"
        "adjoint of take. Gradient: g[index].",
    vjps=(lambda g, out, a, index, n, like=None: take(g, index=index),),
    jvps=(lambda t, out, a, index, n, like=None: scatter(t, index=index, n=n, like=like),))
# the Euclidean distances from a centre to n points, fused: args (x_1, ..., x_d, c_1, ...,
# c_d), the data coordinates 1-D and the centre's 0-D; see distances() below
_distances: Primitive = P("distances", _distances_forward,
    doc="distances(x_1, ..., x_d, c_1, ..., c_d): d_i = ||x_i − c||, the Euclidean\n"
        "distances from the centre c to n points, fused (see distances()).\n"
        "∂d_i/∂c_j = (c_j − x_ij)/d_i, the opposite for x_ij; 0 where d_i = 0.",
    vjp_all=_distances_vjp, jvp_all=_distances_jvp)
# Σ_i g_i (c − x_i)/d_i, the distances' gradient for one coordinate of the centre, fused
offset_sum: Primitive = P("offset_sum", _offset_sum_forward,
    doc="offset_sum(g, d, x, c) = Σ_i g_i (c − x_i)/d_i, every term 0 where d_i = 0: the\n"
        "distances' gradient for one coordinate c of the centre, fused. ∂/∂g_i = (c − x_i)/d_i,\n"
        "∂/∂d_i = −g_i (c − x_i)/d_i², ∂/∂x_i = −g_i/d_i, ∂/∂c = Σ_i g_i/d_i.",
    vjp_all=_offset_sum_vjp, jvp_all=_offset_sum_jvp)
# fmt: on


# ------------------------------------------------------------- built from primitives


def hypot(x: Any, y: Any) -> Tensor:
    """sqrt(x² + y²), elementwise (``norm(x, y)``); gradient (x, y)/hypot, and 0 at the
    origin, where there is no second derivative (a Hessian raises DivisionByZeroError)."""
    return norm(x, y)


def distances(coords: Sequence[Any], center: Any) -> Tensor:
    """d_i = ||x_i − c|| = sqrt(Σ_j (x_ij − c_j)²) for every point i: the Euclidean
    distances from the point ``center`` to the n points whose coordinate j is
    ``coords[j]``, as one fused primitive.

    ``coords``: d 1-D tensors (or arrays) of equal length n, one per coordinate, as
    data usually comes (columns); they may be constants. ``center``: a 1-D tensor of
    length d (e.g. the parameter), or a sequence of d 0-D tensors or floats (``(x[0],
    x[1])``, when the centre is part of a larger parameter), or, when d = 1, a 0-D
    tensor. The centre enters the primitive as d 0-D operands, so it may live in any
    backend (a 0-D value broadcasts) and its gradient is d numbers, not n.

    Same values as ``norm(x_1 − c_1, ..., x_d − c_d)`` (hypot-style, no intermediate
    overflow), in one pass over the data where the backend allows (the standard
    library: one C-level ``map`` of ``math.dist``, no list of differences).
    Gradient: dd_i/dc_j = (c_j − x_ij)/d_i, and the opposite for x_ij; 0 at d_i = 0
    (the gradient of a distance at zero distance is 0). The centre's gradient,
    Σ_i g_i (c_j − x_ij)/d_i, is one fused pass per coordinate (:data:`offset_sum`),
    itself differentiable, so Hessians through ``create_graph`` work as for the
    unfused composition.
    """
    xs = [as_tensor(x) for x in coords]
    if not xs:
        raise ShapeError("distances: no coordinates")
    c = center if isinstance(center, Tensor) else None
    if c is not None and c.shape:
        parts: Sequence[Any] = unbind(c)
    elif c is not None:
        parts = (c,)
    else:
        parts = [as_tensor(v) for v in center]
    if len(parts) != len(xs):
        raise ShapeError(
            f"distances: {len(xs)} coordinates but a centre of {len(parts)}; they must match"
        )
    for x in xs:
        if not x.shape:
            raise ShapeError("distances: every coordinate must be a 1-D tensor (one per axis)")
    for p in parts:
        if as_tensor(p).shape:
            raise ShapeError("distances: the centre's coordinates must be 0-D")
    return _distances(*xs, *parts)


def where(cond: Mask, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` holds, else ``b``; ``cond`` is a bool, a list of bools, or a
    comparison's result (``x > 0``: a bool array on an Array API backend).

    The gradient flows to ``a`` where ``cond`` holds and to ``b`` elsewhere.
    """
    return _where(a, b, cond=cond)


def mean(x: Any) -> Tensor:
    """(1/n) Σ x_i; gradient 1/n for each entry."""
    x = as_tensor(x)
    return sum(x) / float(x.shape[0]) if x.shape else x


def dot(a: Any, b: Any) -> Tensor:
    """Σ a_i b_i; gradient b for a and a for b."""
    return sum(mul(a, b))


def relu(x: Any) -> Tensor:
    """max(x, 0); gradient 1 for x > 0 and 0 for x <= 0."""
    x = as_tensor(x)
    return where(x > 0.0, x, 0.0)


def square(x: Any) -> Tensor:
    """x²; gradient 2x."""
    t = as_tensor(x)
    return t * t


def unbind(x: Any) -> tuple[Tensor, ...]:
    """The coordinates of a 1-D tensor as 0-D tensors, ``(x[0], ..., x[n-1])``.

    Gradient: coordinate i's cotangent lands at index i. Backward gathers all of
    them into one vector (one ``scatter_add``), so the whole split costs O(n),
    forward and backward, at every order of differentiation.
    """
    x = as_tensor(x)
    if not x.shape:
        raise ShapeError("unbind: a 0-D tensor has no coordinates to split")
    B.refuse_nan(x.data, "unbind")
    return tuple(take(x, index=i) for i in range(x.shape[0]))


def concat(pieces: Sequence[Any], like: Any = None) -> Tensor:
    """A 1-D tensor from 0-D and 1-D pieces, in order; each piece gets its slice of g.

    The result is in the backend of the 1-D pieces; when all are 0-D, in the backend of
    ``like`` (a Tensor), else the standard library's.
    """
    if not pieces:
        raise ShapeError("concat: nothing to concatenate")
    if like is None:
        return _concat(*pieces)
    return _concat(*pieces, like=B.backend_of(as_tensor(like).data))


stack = concat


# --------------------------------------------------------------------- functional API


def value_and_grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[Tensor, Any]]:
    """``f`` -> a function returning ``(f(*args), df/d args[argnums])``.

    ``f`` must return a 0-D tensor. Gradients come back as Tensors shaped like
    their arguments (a tuple of them when ``argnums`` is a sequence). When the
    value depends on a tensor from outside the call that requires grad (an
    argument, or one that ``f`` captures, as an outer ``grad`` passes them), the
    gradient is returned with its graph, so ``grad(grad(f))`` and mixed partials
    ``grad(grad(f, 0), 1)`` work; otherwise no graph is recorded for it.
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def wrapped(*args: Any) -> tuple[Tensor, Any]:
        xs = list(args)
        recording = is_grad_enabled()
        mine: set[int] = set()
        for i in nums:
            # an argument that carries a graph is used as it is, to keep the gradient on it
            if not (recording and isinstance(xs[i], Tensor) and xs[i].requires_grad):
                xs[i] = Tensor(xs[i], requires_grad=True)
                carry_tangents(xs[i], args[i])  # inside a jvp: jvp(grad(f)) is H v
                mine.add(id(xs[i]))
        with enable_grad():
            out = as_tensor(f(*xs))
        if out.shape:
            raise ShapeError(f"grad: f must return a 0-D tensor, it returned shape {out.shape}")
        grads: dict[int, Tensor] = {}
        nested = False
        if out.requires_grad:
            order = topological_order(out)
            nested = recording and any(t.op is None and id(t) not in mine for t in order)
            grads = backprop(out, _const(1.0), create_graph=nested, order=order)[1]
        result = [grads.get(id(xs[i]), _const(B.zeros_like(xs[i].data))) for i in nums]
        for i, g in zip(nums, result):
            check_gradient(xs[i], g)
        value = out if nested else out.detach()
        if value is not out:
            carry_tangents(value, out)
        return value, result[0] if isinstance(argnums, int) else tuple(result)

    return wrapped


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """``f`` -> a function returning df/d args[argnums] (see :func:`value_and_grad`)."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Any) -> Any:
        return vg(*args)[1]

    return wrapped


# ----------------------------------------------------------- Tensor's operators and methods
# Each is one primitive of the table (or a function built from them): they live here, built
# on the table, and are installed on Tensor when this module is imported (see the module
# docstring). geograd.tensor declares them for type checkers; a test keeps the lists equal.


def _iter(self: Tensor) -> Iterator[Tensor]:
    if type(self.data) is float:
        raise TypeError("iteration over a 0-D tensor")
    B.refuse_nan(self.data, "Tensor: iteration")
    return (take(self, index=i) for i in range(len(self)))  # lazily, as unbind()


def _unbind(self: Tensor) -> tuple[Tensor, ...]:
    """The coordinates of a 1-D tensor as 0-D tensors: ``(x[0], ..., x[n-1])``.

    Forward and backward cost O(n) in all (see :mod:`geograd.tensor`); with
    gradients recorded each one is a node whose gradient reaches ``self``.
    """
    return unbind(self)


def _getitem(self: Tensor, index: Index) -> Tensor:
    if not isinstance(index, (int, slice)):
        # the graph keeps the index for backward: copy a list, so that a later change to
        # the caller's list cannot reach it; an integer-like scalar (numpy's) becomes an int
        key: Any = index
        index = tuple(key) if hasattr(key, "__len__") else operator.index(key)
    return take(self, index=index)


# fmt: off
TENSOR_METHODS: dict[str, Callable[..., Any]] = {
    "__iter__": _iter,
    "unbind": _unbind,
    "__getitem__": _getitem,
    "__add__": lambda self, other: add(self, other),
    "__radd__": lambda self, other: add(other, self),
    "__sub__": lambda self, other: sub(self, other),
    "__rsub__": lambda self, other: sub(other, self),
    "__mul__": lambda self, other: mul(self, other),
    "__rmul__": lambda self, other: mul(other, self),
    "__truediv__": lambda self, other: div(self, other),
    "__rtruediv__": lambda self, other: div(other, self),
    "__pow__": lambda self, other: power(self, other),
    "__rpow__": lambda self, other: power(other, self),
    "__neg__": lambda self: neg(self),
    "__abs__": lambda self: abs(self),
    "exp": lambda self: exp(self),
    "log": lambda self: log(self),
    "sqrt": lambda self: sqrt(self),
    "sin": lambda self: sin(self),
    "cos": lambda self: cos(self),
    "tan": lambda self: tan(self),
    "tanh": lambda self: tanh(self),
    "sigmoid": lambda self: sigmoid(self),
    "relu": lambda self: relu(self),
    "abs": lambda self: abs(self),
    "sum": lambda self: sum(self),
    "mean": lambda self: mean(self),
    "max": lambda self: max(self),
    "min": lambda self: min(self),
    "dot": lambda self, other: dot(self, other),
    "clip": lambda self, lo, hi: clip(self, lo, hi),
}
# fmt: on

for _name, _method in TENSOR_METHODS.items():
    _method.__name__, _method.__qualname__ = _name, f"Tensor.{_name}"
    setattr(Tensor, _name, _method)
del _name, _method
