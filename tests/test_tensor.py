"""Layer 2: the Tensor API (construction, inspection, indexing, operators, comparisons)."""

from __future__ import annotations

import math

import pytest

import geograd
import geograd.functional as F
from geograd import FloatArray, Tensor, no_grad
from geograd.errors import DomainError, GeogradError, ShapeError

# ------------------------------------------------------------------ construction, inspection


def test_zero_d_tensor() -> None:
    t = Tensor(3)
    assert t.data == 3.0 and type(t.data) is float
    assert t.shape == () and t.ndim == 0
    assert t.item() == 3.0 and type(t.item()) is float
    assert t.tolist() == 3.0
    assert float(t) == 3.0
    assert t.grad is None
    assert t.requires_grad is False
    assert t.is_leaf
    with pytest.raises(TypeError):
        len(t)
    with pytest.raises(TypeError):
        iter(t)
    with pytest.raises(IndexError):
        t[0]


def test_one_d_tensor() -> None:
    t = Tensor([1, 2.5, -3.0], requires_grad=True)
    assert isinstance(t.data, FloatArray)
    assert t.data.tolist() == [1.0, 2.5, -3.0]
    assert t.shape == (3,) and t.ndim == 1
    assert len(t) == 3
    assert t.tolist() == [1.0, 2.5, -3.0]
    assert all(type(v) is float for v in t.tolist())
    assert t.requires_grad is True
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        t.item()
    with pytest.raises(ShapeError):
        float(t)


def test_construction_copies_and_accepts_tensors_and_arrays() -> None:
    values = [1.0, 2.0]
    t = Tensor(values)
    values[0] = 100.0
    assert t.tolist() == [1.0, 2.0]
    u = Tensor(t, requires_grad=True)
    assert u.tolist() == [1.0, 2.0] and u.requires_grad and u.data is not t.data
    assert Tensor(FloatArray([4.0])).tolist() == [4.0]
    assert Tensor(()).shape == (0,)


def test_construction_refuses_nan_and_bad_values() -> None:
    with pytest.raises(DomainError, match="NaN"):
        Tensor(float("nan"))
    with pytest.raises(ValueError, match="index 1"):
        Tensor([0.0, math.nan])
    with pytest.raises(TypeError):
        Tensor("1.0")
    with pytest.raises(TypeError):
        Tensor([[1.0, 2.0], [3.0, 4.0]])


def test_repr_is_helpful() -> None:
    assert repr(Tensor(2.5)) == "Tensor(2.5)"
    assert repr(Tensor([1.0, 2.0], requires_grad=True)) == "Tensor([1.0, 2.0], requires_grad=True)"
    x = Tensor(1.0, requires_grad=True)
    assert repr(x * 2.0) == "Tensor(2.0, op=mul)"
    long = repr(Tensor(range(1000)))
    assert "n=1000" in long and len(long) < 120


def test_iteration_yields_zero_d_tensors() -> None:
    t = Tensor([1.0, 2.0, 3.0])
    items = list(t)
    assert len(items) == 3
    assert all(isinstance(v, Tensor) and v.shape == () for v in items)
    assert [float(v) for v in items] == [1.0, 2.0, 3.0]


def test_iteration_is_differentiable() -> None:
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = Tensor(0.0)
    for i, v in enumerate(t):
        loss = loss + (i + 1) * v * v
    loss.backward()
    assert t.grad is not None
    assert t.grad.tolist() == [2.0, 8.0, 18.0]


# ------------------------------------------------------------------ grad access


def test_grad_of_zero_d_and_one_d() -> None:
    x = Tensor(3.0, requires_grad=True)
    v = Tensor([1.0, 2.0], requires_grad=True)
    (x * x + F.sum(v * v)).backward()
    assert x.grad is not None and v.grad is not None
    assert float(x.grad) == 6.0
    assert x.grad.item() == 6.0
    assert [float(g) for g in list(v.grad)] == [2.0, 4.0]
    assert v.grad.tolist() == [2.0, 4.0]
    assert isinstance(v.grad, Tensor) and v.grad.shape == (2,)
    assert not v.grad.requires_grad  # first-order grads carry no graph


# ------------------------------------------------------------------ indexing


def test_indexing_values() -> None:
    t = Tensor([10.0, 11.0, 12.0, 13.0])
    assert t[0].item() == 10.0 and t[0].shape == ()
    assert t[-1].item() == 13.0
    assert t[1:3].tolist() == [11.0, 12.0]
    assert t[::2].tolist() == [10.0, 12.0]
    assert t[[3, 1, -4]].tolist() == [13.0, 11.0, 10.0]
    with pytest.raises(IndexError):
        t[4]
    with pytest.raises(IndexError):
        t[-5]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (1, [0.0, 1.0, 0.0, 0.0]),
        (-1, [0.0, 0.0, 0.0, 1.0]),
        (slice(1, 3), [0.0, 1.0, 1.0, 0.0]),
        (slice(None, None, -2), [0.0, 1.0, 0.0, 1.0]),
        ([0, 2, 0, -1], [2.0, 0.0, 1.0, 1.0]),
    ],
)
def test_indexing_gradients(index: object, expected: list[float]) -> None:
    t = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    F.sum(t[index]).backward()  # type: ignore[index]
    assert t.grad is not None and t.grad.tolist() == expected


def test_indexing_gradient_is_weighted_by_the_output_gradient() -> None:
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    t[[2, 0, 2]].backward([1.0, 10.0, 100.0])
    assert t.grad is not None and t.grad.tolist() == [10.0, 0.0, 101.0]


# ------------------------------------------------------------------ detach, requires_grad


def test_detach_cuts_the_graph_and_shares_the_data() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert d.tolist() == [3.0, 6.0]
    assert d.data is y.data
    assert not d.requires_grad and d.is_leaf and d.grad is None
    z = F.sum(d * x)  # d is a constant: dz/dx = d
    z.backward()
    assert x.grad is not None and x.grad.tolist() == [3.0, 6.0]


def test_requires_grad_propagates_only_from_inputs_that_require_it() -> None:
    a = Tensor(1.0)
    b = Tensor(2.0, requires_grad=True)
    assert not (a * 2.0).requires_grad
    assert (a * b).requires_grad
    assert not (a * b).is_leaf
    c = Tensor(1.0).requires_grad_()
    assert c.requires_grad
    with no_grad():
        assert not (b * b).requires_grad


# ------------------------------------------------------------------ operators


def test_operators_with_numbers_on_either_side() -> None:
    x = Tensor(3.0)
    assert (x + 2).item() == 5.0 and (2 + x).item() == 5.0
    assert (x - 2).item() == 1.0 and (2 - x).item() == -1.0
    assert (x * 2).item() == 6.0 and (2 * x).item() == 6.0
    assert (x / 2).item() == 1.5 and (6 / x).item() == 2.0
    assert (x**2).item() == 9.0 and (2**x).item() == 8.0
    assert (x ** Tensor(2.0)).item() == 9.0
    assert (-x).item() == -3.0
    assert abs(Tensor(-3.0)).item() == 3.0
    v = Tensor([1.0, 2.0])
    assert (v + [1.0, 1.0]).tolist() == [2.0, 3.0]  # noqa: RUF005 (a Tensor, not a list)
    assert ([1.0, 1.0] - v).tolist() == [0.0, -1.0]


def test_tensor_methods_match_functional() -> None:
    x = Tensor([0.5, 1.5])
    for name in ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs"]:
        assert getattr(x, name)().tolist() == getattr(F, name)(x).tolist(), name
    for name in ["sum", "mean", "max", "min"]:
        assert getattr(x, name)().item() == getattr(F, name)(x).item(), name
    assert x.dot([2.0, 2.0]).item() == 4.0
    assert x.clip(0.0, 1.0).tolist() == [0.5, 1.0]


def test_shape_error_for_unequal_lengths_names_both_shapes() -> None:
    with pytest.raises(ShapeError) as info:
        Tensor([1.0, 2.0, 3.0]) + Tensor([1.0, 2.0])
    assert "(3,)" in str(info.value) and "(2,)" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, GeogradError)


# ------------------------------------------------------------------ comparisons


def test_comparisons_return_plain_bools_and_lists() -> None:
    x = Tensor(2.0, requires_grad=True)
    assert (x < 3.0) is True
    assert (x <= 2.0) is True
    assert (x > 3.0) is False
    assert (x >= Tensor(2.0)) is True
    v = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert (v > 1.5) == [False, True, True]
    assert (v <= Tensor([1.0, 1.0, 4.0])) == [True, False, True]
    assert (v < [2.0, 2.0, 2.0]) == [True, False, False]
    assert type(v > 1.5) is list


def test_equality_is_identity_so_tensors_are_hashable() -> None:
    a, b = Tensor(1.0), Tensor(1.0)
    assert (a == a) is True
    assert (a == b) is False
    assert len({a, b, a}) == 2


def test_bool_of_zero_d_tensor() -> None:
    assert bool(Tensor(1.0)) and not bool(Tensor(0.0))
    with pytest.raises(ShapeError):
        bool(Tensor([1.0, 2.0]))


# ------------------------------------------------------------------ package surface


def test_public_api_is_exported() -> None:
    for name in ["Tensor", "no_grad", "enable_grad", "grad", "value_and_grad", "functional"]:
        assert hasattr(geograd, name), name
    assert geograd.functional is F


def test_subclasses_of_tensor_stay_in_the_graph() -> None:
    class Parameter(Tensor):
        pass

    p = Parameter([1.0, 2.0], requires_grad=True)
    F.sum(p * p).backward()
    assert p.grad is not None and p.grad.tolist() == [2.0, 4.0]
    q = Parameter(3.0, requires_grad=True)
    (2.0 * q).backward()
    assert q.grad is not None and q.grad.item() == 2.0


def test_index_list_is_copied_into_the_graph() -> None:
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = [0, 2]
    y = t[index]
    index[0] = 1  # changing the caller's list afterwards must not change the gradient
    y.backward([1.0, 1.0])
    assert t.grad is not None and t.grad.tolist() == [1.0, 0.0, 1.0]


def test_integer_like_indices() -> None:
    class Int:
        def __index__(self) -> int:
            return 2

    t = Tensor([1.0, 2.0, 3.0])
    assert t[Int()].item() == 3.0  # type: ignore[index]
    assert t[(0, 1)].tolist() == [1.0, 2.0]
    assert t[range(1, 3)].tolist() == [2.0, 3.0]
