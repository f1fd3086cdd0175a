"""No silent NaN: a NaN made by IEEE arithmetic on infinities never reaches a value a user reads.

The contract (geograd/tensor.py's module docstring): a NaN may exist transiently
inside a 1-D array, but it is refused with a DomainError (NaNError) where it would
be read, hidden (compared, reduced to a number, normed), written to ``.grad`` or
returned by ``grad``; and gradients that are mathematically 0 are exactly 0.

The contract holds on every array backend: the tests that take ``T`` run on the
standard library's FloatArray, numpy and array-api-strict (``tests/backends.py``),
with numpy's RuntimeWarnings turned into errors (none may reach the user).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from backends import NAMES, Maker, in_backend

import geograd.functional as F
from geograd import DomainError, FloatArray, Tensor, errors, grad
from geograd import backend as B
from geograd import floatarray as fa

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

inf = math.inf


@pytest.fixture(params=NAMES)
def T(request: pytest.FixtureRequest) -> Maker:
    return Maker(request.param)


PYTHON = Maker("python")


def nan_inside(T: Maker = PYTHON) -> Tensor:
    """[nan, 0.0]: inf - inf in the first entry, made by the engine's IEEE arithmetic."""
    a = T([inf, 1.0])
    return a - a


# ------------------------------------------------------------------ refused, never returned


@pytest.mark.parametrize(
    ("name", "compute"),
    [
        ("max", lambda v: v.max()),
        ("min", lambda v: v.min()),
        ("max", lambda v: F.max(v * 2.0)),
        ("logsumexp", lambda v: F.logsumexp(v)),
        ("index", lambda v: v[0]),
        ("sum", lambda v: F.sum(v)),
    ],
)
def test_a_number_made_from_a_nan_raises(
    T: Maker, name: str, compute: Callable[[Tensor], Any]
) -> None:
    with pytest.raises(DomainError, match="NaN") as info:
        compute(nan_inside(T))
    assert isinstance(info.value, errors.NaNError)


@pytest.mark.parametrize(
    ("what", "read"),
    [
        ("tolist", lambda t: t.tolist()),
        ("iteration", lambda t: list(t)),
        ("repr", repr),
        ("str", str),
        ("copy", Tensor),
        ("the backend", lambda t: t.backend.tolist(t.data, "tolist")),
        ("the backend", lambda t: t.backend.preview(t.data, "repr")),
    ],
)
def test_reading_a_nan_raises(T: Maker, what: str, read: Callable[[Tensor], Any]) -> None:
    with pytest.raises(DomainError, match="index 0 is NaN"):
        read(nan_inside(T))


@pytest.mark.parametrize(
    "compute",
    [
        lambda v: F.clip(v, 0.0, 1.0),
        lambda v: F.where([True, False], v, 0.0),
        lambda v: F.concat([v, 1.0]),
        lambda v: v[0:1],
        lambda v: v[[0, 1]],
        lambda v: F.maximum(v, 0.0),  # maximum(nan, 0) was 0: the NaN vanished
        lambda v: F.minimum(0.0, v),
        lambda v: F.sign(v),  # sign(nan) was 0
    ],
)
def test_operations_pass_a_nan_on_and_reading_it_raises(
    T: Maker,
    compute: Callable[[Tensor], Tensor],
) -> None:
    out = compute(nan_inside(T))
    with pytest.raises(DomainError, match="NaN"):
        out.tolist()


def test_relu_and_comparisons_refuse_a_nan_instead_of_answering_false(T: Maker) -> None:
    v = nan_inside(T)
    with pytest.raises(DomainError, match=r"comparison >.*index 0"):
        F.relu(v)  # was [0.0, 0.0]: the NaN turned into 0
    reflected = lambda: 0.0 < v  # noqa: E731, SIM300  (calls v.__gt__)
    for compare in (lambda: v > 0.0, lambda: v <= 0.0, reflected, lambda: v >= v):
        with pytest.raises(DomainError, match="NaN"):
            compare()
    # where keeps its meaning: a NaN it does not select is not needed, and is dropped
    assert F.where([False, True], v, 0.0).tolist() == [0.0, 0.0]


def test_norms_do_not_hide_a_nan_behind_an_infinity(T: Maker) -> None:
    # hypot(inf, nan) is inf in IEEE arithmetic: the NaN would vanish
    with pytest.raises(DomainError, match=r"norm.*NaN"):
        F.hypot(nan_inside(T), T([inf, 1.0]))
    with pytest.raises(DomainError, match=r"vector_norm.*NaN"):
        F.vector_norm(T([inf, inf]) - T([inf, 0.0]))


def test_float_array_refuses_a_nan_like_tensor_does() -> None:
    with pytest.raises(DomainError, match="index 1"):
        FloatArray([1.0, math.nan])
    with pytest.raises(DomainError):
        fa.to_data(nan_inside().data)
    for read in (lambda: nan_inside().data.tolist(), lambda: list(nan_inside().data)):
        with pytest.raises(DomainError, match="index 0 is NaN"):
            read()


def test_an_array_api_array_with_a_nan_is_refused_like_a_list(T: Maker) -> None:
    with pytest.raises(DomainError, match="index 1 is NaN"):
        T([1.0, math.nan])
    with pytest.raises(DomainError, match="index 1 is NaN"):
        B.to_data(nan_inside(T).data[::-1])


def test_the_message_names_the_operation_and_what_to_do(T: Maker) -> None:
    with pytest.raises(DomainError) as info:
        nan_inside(T).max()
    text = str(info.value)
    assert text.startswith("max:") and "inf - inf" in text and "keep the values finite" in text


# ------------------------------------------------------------------------------- gradients


def test_nan_never_reaches_grad_and_a_refused_backward_writes_nothing(T: Maker) -> None:
    x = T([1e-310, 1.0], requires_grad=True)  # d log x / dx = 1/x overflows to inf
    x.grad = T([5.0, 5.0])
    loss = F.sum(F.log(x)) - F.sum(F.log(x * 1.0))  # inf - inf in the gradient
    with pytest.raises(DomainError, match=r"backward: the gradient .* NaN at index 0") as info:
        loss.backward()
    assert isinstance(info.value, errors.NaNError)
    assert x.grad.tolist() == [5.0, 5.0]


def test_grad_refuses_a_nan_gradient(T: Maker) -> None:
    def f(x: Tensor) -> Tensor:
        return F.sum(F.log(x)) - F.sum(F.log(x * 1.0))

    with pytest.raises(DomainError, match="NaN"):
        grad(f)(T([1e-310, 1.0]))


def test_the_gradient_of_an_unselected_entry_is_exactly_zero(T: Maker) -> None:
    x = T([inf, 1.0], requires_grad=True)
    (x * x)[1].backward()  # d(x_1²)/dx_0 is 0, although 2 x_0 is inf
    assert x.grad is not None and x.grad.tolist() == [0.0, 2.0]


def test_sqrt_has_gradient_zero_where_nothing_depends_on_it(T: Maker) -> None:
    x = T([0.0, 4.0], requires_grad=True)
    F.sqrt(x)[1].backward()  # was a DivisionByZeroError: 0 / (2 sqrt(0))
    assert x.grad is not None and x.grad.tolist() == [0.0, 0.25]
    y = T([0.0, 4.0], requires_grad=True)
    (y**0.5)[1].backward()
    assert y.grad is not None and y.grad.tolist() == [0.0, 0.25]
    z = T(0.0, requires_grad=True)
    (F.sqrt(z) * 0.0).backward()
    assert z.grad is not None and z.grad.item() == 0.0


def test_an_overflowing_unselected_branch_of_where_does_not_poison_the_gradient(T: Maker) -> None:
    x = T([1e200, 1.0], requires_grad=True)
    cube = x * x * x  # [inf, 1]: its derivative 3 x² is inf at the first entry
    F.sum(F.where([False, True], cube, 0.0)).backward(create_graph=True)
    assert x.grad is not None and x.grad.tolist() == [0.0, 3.0]
    # and so does the second derivative, through the recorded gradient
    g = x.grad
    x.grad = None
    F.sum(g).backward()
    assert x.grad.tolist() == [0.0, 6.0]


def test_masked_products_and_quotients(T: Maker) -> None:
    def data(values: list[float]) -> B.Data:
        return T(values).data

    a, b = data([0.0, 2.0, inf, 0.0]), data([inf, 3.0, 2.0, -inf])
    be = B.backend_of(a)
    assert be.tolist(be.mul_masked(a, b), "") == [0.0, 6.0, inf, 0.0]
    assert be.mul_masked(0.0, inf) == 0.0 and be.mul_masked(inf, 0.0) == 0.0
    # a NaN factor is not masked away
    assert B.find_nan(be.mul_masked(data([0.0, 1.0]), nan_inside(T).data)) == 0
    assert be.tolist(be.div_masked(data([0.0, 1.0]), data([0.0, 2.0])), "") == [0.0, 0.5]
    with pytest.raises(ZeroDivisionError, match="index 1"):
        be.div_masked(data([0.0, 1.0]), data([0.0, 0.0]))
    assert be.tolist(be.divide_no_nan(data([1.0, 3.0]), data([0.0, 2.0])), "") == [0.0, 1.5]


def test_find_nan_is_exact_when_inf_meets_minus_inf(T: Maker) -> None:
    assert B.find_nan(T([inf, -inf, 1.0]).data) == -1  # its sum is NaN, no entry is
    assert B.find_nan(nan_inside(T).data) == 0
    assert B.find_nan(2.0) == -1
    assert in_backend(nan_inside(T), T.backend)
