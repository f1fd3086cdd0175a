"""Layer 3: the differentiable primitives, each one forward and one VJP, in one table.

Read a row as: name, forward (on plain data, from :mod:`geograd.floatarray`),
then the vector-Jacobian product for each argument, written with differentiable
Tensor operations, so that the same row gives first-order gradients (run under
``no_grad``) and higher-order ones (``create_graph=True``). ``g`` is the gradient
of the output, ``out`` the output itself. A new operation is one more row.

Non-smooth points take the minimal-norm subgradient: ``abs``, ``norm``,
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

Indexing (``take``) is marked ``gather=True``: backward sums all the indexing of one
tensor with a single ``scatter_add`` (see :mod:`geograd.tensor`), so ``unbind(x)``,
iteration and ``x[0], ..., x[n-1]`` cost O(n) in all, forward and backward.

Below the table: the functions built from primitives (``mean``, ``dot``,
``relu``, ...) and the functional API ``grad`` and ``value_and_grad``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

from geograd import floatarray as fa
from geograd.errors import DomainError, ShapeError
from geograd.floatarray import Data, Mask
from geograd.tensor import (
    Primitive,
    Tensor,
    _sum_to,
    as_tensor,
    backprop,
    check_gradient,
    enable_grad,
    is_grad_enabled,
    topological_order,
)


def _const(data: Data) -> Tensor:
    return Tensor.from_data(data)


def _gmul(g: Tensor, d: Any) -> Tensor:
    """g · d for a VJP: cotangent times local derivative, 0 where g is 0 even if d is inf."""
    return mul_masked(g, d)


def _tie_weights(a: Data, b: Data) -> Tensor:
    """d max(a, b)/da: 1 where a > b, 1/2 where a == b, 0 where a < b."""
    return _const(fa.nary(lambda x, y: 1.0 if x > y else (0.5 if x == y else 0.0), "max")(a, b))


def _share(x: Data, value: float) -> Tensor:
    """d max(x)/dx when ``max(x) == value``: 1/k on each of the k entries equal to it."""
    mask = fa.compare(operator.eq, x, value)
    return _const(fa.where(mask, 1.0 / fa.count(mask), 0.0))


def _inside(x: Data, lo: float, hi: float) -> Tensor:
    """d clip(x, lo, hi)/dx: 1 on the closed interval [lo, hi], 0 outside it."""
    return _const(fa.nary(lambda v: 1.0 if lo <= v <= hi else 0.0, "clip")(x))


def _below(x: Data, lo: float) -> Tensor:
    """d clip(x, lo, hi)/d lo: 1 where x < lo (the output is lo there), else 0."""
    return _const(fa.nary(lambda v: 1.0 if v < lo else 0.0, "clip")(x))


def _above(x: Data, hi: float) -> Tensor:
    """d clip(x, lo, hi)/d hi: 1 where x > hi (the output is hi there), else 0."""
    return _const(fa.nary(lambda v: 1.0 if v > hi else 0.0, "clip")(x))


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
        dead = fa.compare(operator.ne, _dead_base(g.data, a.data, b.data), 0.0)
        if not fa.count(dead):
            raise
        return _pow_base_product(g, where(dead, 1.0, a), b)


_dead_base = fa.nary(lambda gv, av, bv: float(gv == 0.0 and av == 0.0 and bv < 1.0), "pow")


def _pow_base_product(g: Tensor, a: Tensor, b: Tensor) -> Tensor:
    if not b.shape and b.data != 0.0:
        return _gmul(g, b * a ** (b - 1.0))  # the common case, a constant exponent like x ** 2
    # only where both are 0 does the exponent change (to 0, so 0^0 = 1 and the product
    # is 0); elsewhere b - 1 stays, so derivatives with respect to b remain exact
    both_zero = fa.compare(operator.eq, fa.add(fa.absolute(a.data), fa.absolute(b.data)), 0.0)
    return _gmul(g, b * a ** where(both_zero, 0.0, b - 1.0))


def _logsumexp(x: Data) -> float:
    # Shift by the max so that exp never overflows: log Σ e^x = m + log Σ e^(x - m).
    m = fa.amax(x)
    if math.isinf(m):
        return m
    return m + math.log(fa.total(fa.exp(fa.sub(x, m))))


def _concat_vjp(g: Tensor, out: Tensor, *pieces: Tensor) -> list[Tensor]:
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
    """d||c||/dc_i = c_i/||c||, taken as 0 at the origin; g/||c|| is shared by all i."""
    scale = divide_no_nan(g, out)
    return [_gmul(scale, c) for c in coords]


def _scatter_add_vjp(g: Tensor, out: Tensor, *pieces: Tensor, indices: Any, n: int) -> list[Tensor]:
    """Piece k was added at indices[k]: its gradient is g there, g[indices[k]]."""
    return [take(g, index=index) for index in indices]


P = Primitive
# fmt: off
# ---------------------------------------------------------------------------------------
#  name = P(name, forward on data, (VJP of each argument: (g, out, *args) -> its gradient))
# ---------------------------------------------------------------------------------------
add: Primitive = P("add", fa.add, (
    lambda g, out, a, b: g,
    lambda g, out, a, b: g))
sub: Primitive = P("sub", fa.sub, (
    lambda g, out, a, b: g,
    lambda g, out, a, b: -_sum_to(g, b.shape)))  # reduce, then negate: one pass fewer
mul: Primitive = P("mul", fa.mul, (
    lambda g, out, a, b: _gmul(g, b),
    lambda g, out, a, b: _gmul(g, a)))
div: Primitive = P("div", fa.div, (
    lambda g, out, a, b: div_masked(g, b),
    lambda g, out, a, b: -div_masked(_gmul(g, out), b)))
power: Primitive = P("pow", fa.power, (
    lambda g, out, a, b: _pow_base_vjp(g, a, b),
    # d a^b / db = a^b log a, taken as 0 where a <= 0 (there a^b only exists for constant b)
    lambda g, out, a, b: _gmul(g, out * log(where(a > 0.0, a, 1.0)))))
divide_no_nan: Primitive = P("divide_no_nan", fa.divide_no_nan, (
    lambda g, out, a, b: divide_no_nan(g, b),
    lambda g, out, a, b: -divide_no_nan(_gmul(g, out), b)))
maximum: Primitive = P("maximum", fa.maximum, (
    lambda g, out, a, b: _gmul(g, _tie_weights(a.data, b.data)),
    lambda g, out, a, b: _gmul(g, _tie_weights(b.data, a.data))))
minimum: Primitive = P("minimum", fa.minimum, (
    lambda g, out, a, b: _gmul(g, _tie_weights(b.data, a.data)),
    lambda g, out, a, b: _gmul(g, _tie_weights(a.data, b.data))))
clip: Primitive = P("clip", fa.clip, (
    lambda g, out, a, lo, hi: _gmul(g, _inside(a.data, lo.item(), hi.item())),
    lambda g, out, a, lo, hi: _gmul(g, _below(a.data, lo.item())),
    lambda g, out, a, lo, hi: _gmul(g, _above(a.data, hi.item()))))
_where: Primitive = P("where", lambda a, b, cond: fa.where(cond, a, b), (
    lambda g, out, a, b, cond: _where(g, 0.0, cond=cond),
    lambda g, out, a, b, cond: _where(0.0, g, cond=cond)))
# a·b and a/b with an exact zero (0·inf = 0, 0/0 = 0): what VJPs multiply and divide with
mul_masked: Primitive = P("mul_masked", fa.mul_masked, (
    lambda g, out, a, b: _gmul(g, b),
    lambda g, out, a, b: _gmul(g, a)))
div_masked: Primitive = P("div_masked", fa.div_masked, (
    lambda g, out, a, b: div_masked(g, b),
    lambda g, out, a, b: -div_masked(_gmul(g, out), b)))

neg: Primitive = P("neg", fa.neg, (lambda g, out, a: -g,))
abs: Primitive = P("abs", fa.absolute, (lambda g, out, a: _gmul(g, sign(a)),))
sign: Primitive = P("sign", fa.sign, (lambda g, out, a: _gmul(g, 0.0),))
exp: Primitive = P("exp", fa.exp, (lambda g, out, a: _gmul(g, out),))
log: Primitive = P("log", fa.log, (lambda g, out, a: g / a,))  # a > 0: no 0/0 to mask
sqrt: Primitive = P("sqrt", fa.sqrt, (lambda g, out, a: div_masked(g, 2.0 * out),))
sin: Primitive = P("sin", fa.sin, (lambda g, out, a: _gmul(g, cos(a)),))
cos: Primitive = P("cos", fa.cos, (lambda g, out, a: -_gmul(g, sin(a)),))
tan: Primitive = P("tan", fa.tan, (lambda g, out, a: _gmul(g, 1.0 + out * out),))
tanh: Primitive = P("tanh", fa.tanh, (lambda g, out, a: _gmul(g, 1.0 - out * out),))
sigmoid: Primitive = P("sigmoid", fa.sigmoid, (lambda g, out, a: _gmul(g, out * (1.0 - out)),))
softplus: Primitive = P("softplus", fa.softplus, (lambda g, out, a: _gmul(g, sigmoid(a)),))

# reductions; sum is correctly rounded (fsum), reduce_sum is the engine's blocked sum for the
# gradient of a broadcast operand; max/min split the gradient among ties
sum: Primitive = P("sum", fa.total, (lambda g, out, a: broadcast_to(g, shape=a.shape),))
reduce_sum: Primitive = P("reduce_sum", fa.blocked_total, (
    lambda g, out, a: broadcast_to(g, shape=a.shape),))
broadcast_to: Primitive = P("broadcast_to", fa.broadcast_to, (
    lambda g, out, a, shape: sum(g),))
max: Primitive = P("max", fa.amax, (lambda g, out, a: _gmul(g, _share(a.data, out.item())),))
min: Primitive = P("min", fa.amin, (lambda g, out, a: _gmul(g, _share(a.data, out.item())),))
logsumexp: Primitive = P("logsumexp", _logsumexp, (lambda g, out, a: _gmul(g, exp(a - out)),))
# the Euclidean length of one 1-D tensor, sqrt(Σ x_i²); gradient x / length, 0 at 0
vector_norm: Primitive = P("vector_norm", fa.vector_norm, (
    lambda g, out, a: _gmul(divide_no_nan(g, out), a),))

# indexing and its adjoint; backward gathers all indexing of one tensor into one scatter_add
take: Primitive = P("take", fa.take, (
    lambda g, out, a, index: scatter(g, index=index, n=len(a.data)),), gather=True)
scatter: Primitive = P("scatter", fa.scatter, (
    lambda g, out, a, index, n: take(g, index=index),))

# any number of arguments: one VJP returns all their gradients
# the Euclidean norm of coordinate tensors: sqrt(Σ c_i²); gradient c_i / norm, 0 at the origin
norm: Primitive = P("norm", fa.hypot, vjp_all=_norm_vjp)
_concat: Primitive = P("concat", lambda *pieces: fa.concat(pieces), vjp_all=_concat_vjp)
# Σ_k pieces[k] placed at indices[k] in zeros(n); gradient of piece k: g[indices[k]]
scatter_add: Primitive = P("scatter_add",
    lambda *pieces, indices, n: fa.scatter_add(pieces, indices, n), vjp_all=_scatter_add_vjp)
# fmt: on


# ------------------------------------------------------------- built from primitives


def hypot(x: Any, y: Any) -> Tensor:
    """sqrt(x² + y²), elementwise; gradient (x, y)/hypot, and 0 at the origin."""
    return norm(x, y)


def where(cond: Mask, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` holds, else ``b``; ``cond`` is a bool or a list of bools.

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
    fa.refuse_nan(x.data, "unbind")
    return tuple(take(x, index=i) for i in range(x.shape[0]))


def concat(pieces: Sequence[Any]) -> Tensor:
    """A 1-D tensor from 0-D and 1-D pieces, in order; each piece gets its slice of g."""
    if not pieces:
        raise ShapeError("concat: nothing to concatenate")
    return _concat(*pieces)


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
        result = [grads.get(id(xs[i]), _const(fa.mul(xs[i].data, 0.0))) for i in nums]
        for i, g in zip(nums, result):
            check_gradient(xs[i], g)
        value = out if nested else out.detach()
        return value, result[0] if isinstance(argnums, int) else tuple(result)

    return wrapped


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """``f`` -> a function returning df/d args[argnums] (see :func:`value_and_grad`)."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Any) -> Any:
        return vg(*args)[1]

    return wrapped
