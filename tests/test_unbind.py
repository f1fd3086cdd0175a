"""Splitting a vector into its coordinates costs O(dim) in all, forward and backward.

The work is measured by counting (never by timing): every array the engine makes
goes through ``FloatArray.wrap``, so the number of elements it wraps during
``backward`` is the size of the work; and the gradient graph that
``create_graph=True`` records is measured by its nodes' total element count.
"""

from __future__ import annotations

from typing import Any

import pytest

import geograd.functional as F
from geograd import FloatArray, ShapeError, Tensor, grad
from geograd.tensor import topological_order


def median_like(x: Tensor, dim: int, split: str) -> Tensor:
    """The geometric median's loss shape: one data column per coordinate, minus x[j]."""
    coords = x.unbind() if split == "unbind" else [x[j] for j in range(dim)]
    columns = [Tensor([0.001 * j, 0.002 * j, 0.5]) for j in range(dim)]
    return F.mean(F.norm(*[c - xj for c, xj in zip(columns, coords)]))


def elements_wrapped_by_backward(monkeypatch: Any, dim: int, split: str) -> int:
    x = Tensor([0.25] * dim, requires_grad=True)
    loss = median_like(x, dim, split)
    wrapped = [0]
    plain = FloatArray.wrap

    def counting(values: list[float]) -> FloatArray:
        wrapped[0] += len(values)
        return plain(values)

    monkeypatch.setattr(FloatArray, "wrap", staticmethod(counting))
    try:
        loss.backward()
    finally:
        monkeypatch.setattr(FloatArray, "wrap", plain)
    assert x.grad is not None and len(x.grad) == dim
    return wrapped[0]


@pytest.mark.parametrize("split", ["index", "unbind"])
def test_backward_of_a_split_vector_does_linear_work(monkeypatch: Any, split: str) -> None:
    small = elements_wrapped_by_backward(monkeypatch, 2000, split)
    large = elements_wrapped_by_backward(monkeypatch, 4000, split)
    # one full-length scatter per coordinate made this dim² = 16,000,000 at dim 4000
    assert large <= 10 * 4000
    assert large <= 2.2 * small


def test_the_recorded_gradient_graph_of_a_split_is_linear_in_size() -> None:
    sizes = []
    for dim in (1000, 2000):
        x = Tensor([0.5] * dim, requires_grad=True)
        loss = F.sum(F.concat([c * c * c for c in x.unbind()]))
        loss.backward(create_graph=True)
        assert x.grad is not None and x.grad.requires_grad
        nodes = topological_order(x.grad)
        sizes.append((len(nodes), sum(len(n.data) if n.shape else 1 for n in nodes)))
    (nodes_1, elements_1), (nodes_2, elements_2) = sizes
    assert nodes_2 <= 2.2 * nodes_1 and elements_2 <= 2.2 * elements_1
    assert elements_2 <= 20 * 2000


def test_unbind_gives_the_coordinates_and_their_gradients() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    parts = x.unbind()
    assert [p.item() for p in parts] == [1.0, 2.0, 3.0] and all(p.shape == () for p in parts)
    assert [p.item() for p in F.unbind(x)] == [p.item() for p in x] == [1.0, 2.0, 3.0]
    a, b, c = parts
    (a * b + c * c).backward()
    assert x.grad is not None and x.grad.tolist() == [2.0, 1.0, 6.0]
    with pytest.raises(ShapeError):
        F.unbind(Tensor(1.0))


def test_repeated_and_mixed_indexing_accumulates() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = x.unbind()
    loss = x[0] + c[0] * x[2] + F.sum(x[0:2]) + F.sum(x[[1, 1, 2]]) + x[-1]
    loss.backward()
    # d/dx0 = 1 + x2 + 1, d/dx1 = 1 + 2, d/dx2 = x0 + 1 + 1
    assert x.grad is not None and x.grad.tolist() == [5.0, 3.0, 3.0]


def test_higher_order_gradients_through_a_split() -> None:
    def f(x: Tensor) -> Tensor:
        c = x.unbind()
        return c[0] ** 3 + c[0] * c[1] + c[1] ** 2 * c[2]

    x = Tensor([1.0, 2.0, 3.0])
    # gradient (3 x0² + x1, x0 + 2 x1 x2, x1²)
    assert grad(f)(x).tolist() == [5.0, 13.0, 4.0]
    # d/dx of the sum of the gradient: (6 x0 + 1, 1 + 2 x2 + 2 x1, 2 x1)
    assert grad(lambda t: F.sum(grad(f)(t)))(x).tolist() == [7.0, 11.0, 4.0]
    # third order: d/dx0 of (6 x0 + 1) is 6
    assert grad(lambda t: grad(lambda u: F.sum(grad(f)(u)))(t)[0])(x).tolist() == [6.0, 0.0, 0.0]
