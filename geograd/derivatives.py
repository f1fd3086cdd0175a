"""Second derivatives and Jacobians from the engine: ``hessian``, ``hvp``, ``jacobian``.

Built on reverse mode with ``create_graph``: the gradient of a loss is computed
as a graph of differentiable operations (every VJP of the primitive table is
one), so differentiating it once more gives the second derivatives exactly, to
rounding, on every backend::

    hvp(f)(x, v)   = ∇(∇f(x) · v)          one double backward, H is never formed
    hessian(f)(x)  = [∂²f/∂x_i∂x_j]        row i is ∇(∂f/∂x_i): n backward passes
                                           through one gradient graph
    jacobian(f)(x) = [∂f_i/∂x_j]           row i is ∇f_i: one backward per output

``x`` is a number (0-D) or a sequence of numbers / a Tensor (1-D), as for
:func:`geograd.grad`; ``f`` returns a 0-D Tensor (``hessian``, ``hvp``) or a
1-D one (``jacobian``). Rows are lists of floats; a 0-D ``x`` gives 1x1 rows
(``[[f''(x)]]``).

At a kink the engine's subgradient convention (the gradient of a distance at
zero distance is 0) applies to the first derivative only: a second derivative
there may be infinite or undefined, and then a DomainError names the primitive
(or the values come back infinite). So ``hessian(lambda x: F.hypot(x[0], x[1]))``
at the origin raises DivisionByZeroError naming norm (hypot), as the Hessian of
``sqrt(sum(x * x))`` does naming sqrt; ``norm`` and ``vector_norm`` likewise.
:mod:`geograd.optim.newton` catches that.

:func:`gradient_graph` and :func:`hvp_from_graph` are the building blocks: the
gradient of an already computed loss, with its graph, and Hessian-vector
products through it (what a Newton method does once per step, then many times).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from geograd import backend as B
from geograd.backend import Data
from geograd.errors import ShapeError
from geograd.tensor import Tensor, as_tensor, backprop, enable_grad

__all__ = ["gradient_graph", "hessian", "hvp", "hvp_from_graph", "jacobian"]


def gradient_graph(loss: Tensor, params: Sequence[Tensor]) -> list[Tensor]:
    """∂loss/∂p for each leaf ``p`` of ``params``, each a Tensor carrying its own graph.

    ``loss`` is a 0-D Tensor already computed from ``params``. A parameter that
    the loss does not depend on gets a constant zero.
    """
    if loss.shape:
        raise ShapeError(f"gradient_graph: the loss must be 0-D, it has shape {loss.shape}")
    grads: dict[int, Tensor] = {}
    if loss.requires_grad:
        grads = backprop(loss, Tensor.from_data(1.0), create_graph=True)[1]
    return [grads.get(id(p), Tensor.from_data(B.zeros_like(p.data))) for p in params]


def hvp_from_graph(
    grads: Sequence[Tensor], params: Sequence[Tensor], vs: Sequence[Data]
) -> list[Data]:
    """H v, per parameter, from the gradient graph ``grads`` of :func:`gradient_graph`.

    H v = ∇_x (Σ_p ∇_p f · v_p): one backward pass through the gradient's graph;
    the graph stays usable for the next product.
    """
    total: Tensor | None = None
    for g, v in zip(grads, vs):
        if not g.requires_grad:
            continue  # a gradient that is constant in x: its part of H is zero
        # v in the gradient's backend: a parameter's gradient made from lazy data is lazy
        w = Tensor.from_data(B.convert(v, g.data))
        with enable_grad():
            term = (g * w).sum() if g.shape else g * w
            total = term if total is None else total + term
    found: dict[int, Tensor] = {}
    if total is not None and total.requires_grad:
        found = backprop(total, Tensor.from_data(1.0), create_graph=False)[1]
    hs = [found.get(id(p)) for p in params]
    # one pass over lazy data for every parameter's product, each back in its backend
    computed = B.materialize(*(None if h is None else h.data for h in hs))
    return [
        B.zeros_like(p.data) if h is None else B.convert(c, p.data)
        for p, h, c in zip(params, hs, computed)
    ]


def _leaf(x: Any) -> Tensor:
    """A fresh leaf that requires grad, holding ``x`` (a Tensor's data is shared, not copied)."""
    if isinstance(x, Tensor):
        return Tensor.from_data(x.data).requires_grad_()
    return Tensor(x, requires_grad=True)


def _scalar_output(f: Callable[[Tensor], Any], x: Tensor, what: str) -> Tensor:
    with enable_grad():
        out = as_tensor(f(x))
    if out.shape:
        raise ShapeError(f"{what}: f must return a 0-D tensor, it returned shape {out.shape}")
    return out


def _entries(x: Tensor, data: Data) -> list[float]:
    return [data] if not x.shape else B.tolist(data, "hessian")  # type: ignore[list-item]


def hvp(f: Callable[[Tensor], Any]) -> Callable[[Any, Any], Tensor]:
    """``f`` -> ``(x, v) -> H(x) v``, the Hessian of ``f`` at ``x`` times ``v``, as a Tensor.

    One forward pass, one backward with ``create_graph``, one backward through that
    gradient: about three times the cost of a gradient, whatever the dimension.
    ``v`` is shaped like ``x``.
    """

    def wrapped(x: Any, v: Any) -> Tensor:
        leaf = _leaf(x)
        vt = v if isinstance(v, Tensor) else Tensor(v)
        if vt.shape != leaf.shape:
            raise ShapeError(f"hvp: v has shape {vt.shape}, x has shape {leaf.shape}")
        grads = gradient_graph(_scalar_output(f, leaf, "hvp"), [leaf])
        return Tensor.from_data(hvp_from_graph(grads, [leaf], [vt.data])[0])

    return wrapped


def hessian(f: Callable[[Tensor], Any]) -> Callable[[Any], list[list[float]]]:
    """``f`` -> ``x -> [[∂²f/∂x_i∂x_j for j] for i]``, the Hessian of ``f`` at ``x``.

    Row i is the gradient of the i-th entry of ∇f (its graph recorded once), so
    the cost is one forward and n + 1 backward passes. Symmetric up to rounding
    (each row is computed on its own).
    """

    def wrapped(x: Any) -> list[list[float]]:
        leaf = _leaf(x)
        (g,) = gradient_graph(_scalar_output(f, leaf, "hessian"), [leaf])
        return _gradient_rows(g, leaf)

    return wrapped


def jacobian(f: Callable[[Tensor], Any]) -> Callable[[Any], list[list[float]]]:
    """``f`` -> ``x -> [[∂f_i/∂x_j for j] for i]`` for a 1-D-valued ``f`` (one row per output).

    One forward pass and one backward pass per output entry. A 0-D ``x`` gives
    rows of one entry; a 0-D output, a single row (the gradient).
    """

    def wrapped(x: Any) -> list[list[float]]:
        leaf = _leaf(x)
        with enable_grad():
            out = as_tensor(f(leaf))
        return _gradient_rows(out, leaf)

    return wrapped


def _gradient_rows(out: Tensor, leaf: Tensor) -> list[list[float]]:
    """``[∇_leaf out_i for i]``: one backward pass per entry of ``out`` (a 0-D ``out``, one
    row); an entry that does not depend on ``leaf`` gives a row of zeros."""
    n = leaf.shape[0] if leaf.shape else 1
    m = out.shape[0] if out.shape else 1
    rows: list[list[float]] = []
    for i in range(m):
        entry = out[i] if out.shape else out
        if not entry.requires_grad:
            rows.append([0.0] * n)
            continue
        found = backprop(entry, Tensor.from_data(1.0), create_graph=False)[1]
        h = found.get(id(leaf))
        rows.append([0.0] * n if h is None else _entries(leaf, h.data))
    return rows
