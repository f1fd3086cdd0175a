"""backward(): iterative reverse topological order, accumulation, seeds, no_grad, detach.

The tests with 1-D tensors take ``T`` and run on every array backend (tests/backends.py).
"""

from __future__ import annotations

import gc
import math
import sys
from collections.abc import Iterator
from itertools import repeat

import pytest
from backends import NAMES, Maker, in_backend

import geograd.functional as F
from geograd import Tensor, enable_grad, is_grad_enabled, no_grad
from geograd.errors import GeogradError, ShapeError
from geograd.tensor import topological_order

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@pytest.fixture(params=NAMES)
def T(request: pytest.FixtureRequest) -> Maker:
    return Maker(request.param)


# ------------------------------------------------------------------ deep and wide graphs


@pytest.fixture
def default_recursion_limit() -> Iterator[None]:
    """Python's default limit (1000), whatever the test runner set, restored afterwards."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


@pytest.mark.usefixtures("default_recursion_limit")
def test_a_chain_of_200000_operations_at_the_default_recursion_limit() -> None:
    n, c = 200_000, 1.000001
    x = Tensor(0.5, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * c
    y.backward()
    assert x.grad is not None
    # d(x c^n)/dx = c^n; each of the n products rounds once
    assert x.grad.item() == pytest.approx(c**n, rel=1e-10)
    del y
    gc.collect()  # freeing a 200,000-deep graph must not overflow the C stack either


@pytest.mark.usefixtures("default_recursion_limit")
def test_a_mixed_chain_of_200000_operations() -> None:
    # alternate primitives so that every VJP runs on the deep path: y <- sin(y) + y
    x = Tensor(0.1, requires_grad=True)
    y = x
    value, slope = 0.1, 1.0
    for _ in range(100_000):
        slope *= math.cos(value) + 1.0
        value = math.sin(value) + value
        y = F.sin(y) + y
    y.backward()
    assert y.item() == value
    assert x.grad is not None and x.grad.item() == pytest.approx(slope, rel=1e-9)


@pytest.mark.usefixtures("default_recursion_limit")
def test_a_sum_over_a_million_terms() -> None:
    # Python's sum() over 0-D tensors builds a chain one million additions deep
    x = Tensor(0.5, requires_grad=True)
    total = sum(repeat(x, 1_000_000))
    assert isinstance(total, Tensor)
    assert total.item() == 500_000.0
    total.backward()
    assert x.grad is not None and x.grad.item() == 1_000_000.0


@pytest.mark.parametrize("backend", ["python", "numpy"])  # array-api-strict reads slowly
def test_a_vector_sum_over_a_million_terms(backend: str) -> None:
    v = Maker(backend)([0.001] * 1_000_000, requires_grad=True)
    s = F.sum(v * v)
    assert s.item() == pytest.approx(1.0, rel=1e-12)
    s.backward()
    assert v.grad is not None and len(v.grad) == 1_000_000
    assert v.grad.tolist()[::250_000] == [0.002] * 4
    assert in_backend(v.grad, backend)


def test_shared_subexpressions_are_visited_once_and_summed() -> None:
    # diamond: a feeds b and c, both feed d; y = (a²)(a + 1) → dy/da = 3a² + 2a
    a = Tensor(1.5, requires_grad=True)
    b = a * a
    c = a + 1.0
    d = b * c
    order = topological_order(d)
    assert len(order) == len({id(t) for t in order}) == 4
    assert order.index(a) < order.index(b) < order.index(d)
    assert order.index(a) < order.index(c) < order.index(d)
    d.backward()
    assert a.grad is not None and a.grad.item() == 3 * 1.5**2 + 2 * 1.5


def test_a_wide_graph_where_one_tensor_feeds_many() -> None:
    x = Tensor(2.0, requires_grad=True)
    terms = [x * float(k) for k in range(1, 1001)]
    y = F.stack(terms)
    F.sum(y).backward()
    assert x.grad is not None and x.grad.item() == 1000 * 1001 / 2


def test_the_same_tensor_twice_in_one_operation(T: Maker) -> None:
    x = T([1.0, -3.0], requires_grad=True)
    F.dot(x, x).backward()
    assert x.grad is not None and x.grad.tolist() == [2.0, -6.0]


# ------------------------------------------------------------------ accumulation, intermediates


def test_gradients_accumulate_until_zeroed(T: Maker) -> None:
    x = T([1.0, 2.0], requires_grad=True)
    for k in range(1, 4):
        F.sum(x * x).backward()
        assert x.grad is not None and x.grad.tolist() == [2.0 * k, 4.0 * k]
    x.grad = None
    F.sum(3.0 * x).backward()
    assert x.grad is not None and x.grad.tolist() == [3.0, 3.0]


def test_the_same_graph_can_be_walked_twice() -> None:
    x = Tensor(3.0, requires_grad=True)
    y = x * x
    y.backward()
    y.backward()
    assert x.grad is not None and x.grad.item() == 12.0
    assert y.grad is not None and y.grad.item() == 2.0


def test_intermediates_hold_their_gradients(T: Maker) -> None:
    x = T([1.0, 2.0, 3.0], requires_grad=True)
    s = x * 2.0  # 1-D intermediate
    t = F.exp(s)
    loss = F.sum(t)
    loss.backward()
    assert loss.grad is not None and loss.grad.item() == 1.0
    assert t.grad is not None and t.grad.tolist() == [1.0, 1.0, 1.0]
    # exact on the standard library (math.exp itself); an array library's exp may differ
    # from libm's in the last place
    rel = 0.0 if T.backend == "python" else 4e-16
    expected = [math.exp(2.0 * v) for v in (1, 2, 3)]
    assert s.grad is not None and s.grad.tolist() == pytest.approx(expected, rel=rel, abs=0.0)
    doubled = [2.0 * e for e in expected]
    assert x.grad is not None and x.grad.tolist() == pytest.approx(doubled, rel=rel, abs=0.0)
    assert in_backend(s.grad, T.backend) and in_backend(x.grad, T.backend)


def test_constants_get_no_gradient() -> None:
    x = Tensor(2.0, requires_grad=True)
    c = Tensor(5.0)
    (x * c).backward()
    assert c.grad is None
    assert x.grad is not None and x.grad.item() == 5.0


def test_backward_on_a_leaf() -> None:
    x = Tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad is not None and x.grad.item() == 1.0


# ------------------------------------------------------------------ seeds


def test_backward_with_a_gradient_for_one_d_outputs(T: Maker) -> None:
    x = T([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    for seed in ([1.0, 0.0, -1.0], T([1.0, 0.0, -1.0]), (1, 0, -1)):
        x.grad = None
        y.backward(seed)
        assert x.grad is not None and x.grad.tolist() == [2.0, 0.0, -6.0]


def test_backward_of_a_zero_d_output_with_a_gradient_scales_it() -> None:
    x = Tensor(2.0, requires_grad=True)
    (x * x).backward(0.5)
    assert x.grad is not None and x.grad.item() == 2.0


def test_backward_of_a_one_d_output_needs_a_gradient(T: Maker) -> None:
    x = T([1.0, 2.0], requires_grad=True)
    with pytest.raises(ShapeError, match=r"\(2,\)"):
        (x * 2.0).backward()
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2,\)"):
        (x * 2.0).backward([1.0, 1.0, 1.0])
    with pytest.raises(ShapeError):
        (F.sum(x)).backward([1.0, 1.0])
    assert x.grad is None


def test_backward_of_a_tensor_that_does_not_require_grad() -> None:
    with pytest.raises(GeogradError, match="does not require grad"):
        (Tensor(1.0) * 2.0).backward()
    x = Tensor(1.0, requires_grad=True)
    with no_grad():
        y = x * 2.0
    with pytest.raises(GeogradError):
        y.backward()


# ------------------------------------------------------------------ no_grad, enable_grad, detach


def test_no_grad_records_nothing_and_restores() -> None:
    x = Tensor(1.0, requires_grad=True)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = x * 3.0
        assert not y.requires_grad and y.is_leaf and y.parents == ()
        with enable_grad():
            assert is_grad_enabled()
            z = x * 3.0
            assert z.requires_grad
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert y.item() == 3.0


def test_no_grad_restores_after_an_exception() -> None:
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled()


def test_no_grad_as_a_decorator_including_recursion() -> None:
    @no_grad()
    def countdown(n: int, x: Tensor) -> Tensor:
        assert not is_grad_enabled()
        return x if n == 0 else countdown(n - 1, x * 2.0)

    x = Tensor(1.0, requires_grad=True)
    out = countdown(3, x)
    assert out.item() == 8.0 and not out.requires_grad
    assert is_grad_enabled()  # a recursive decorated call must restore the outer state


def test_one_no_grad_instance_can_be_reentered() -> None:
    ctx = no_grad()
    with ctx:
        with ctx:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_enable_grad_as_a_decorator_inside_no_grad() -> None:
    @enable_grad()
    def square(x: Tensor) -> Tensor:
        return x * x

    x = Tensor(3.0, requires_grad=True)
    with no_grad():
        y = square(x)
        assert not is_grad_enabled()
    y.backward()
    assert x.grad is not None and x.grad.item() == 6.0


def test_detach_stops_the_gradient() -> None:
    x = Tensor(3.0, requires_grad=True)
    y = x * x.detach()  # d/dx = x.detach() = 3, not 2x = 6
    y.backward()
    assert x.grad is not None and x.grad.item() == 3.0


def test_an_optimizer_style_update_under_no_grad(T: Maker) -> None:
    p = T([1.0, -2.0], requires_grad=True)
    for _ in range(3):
        p.grad = None
        F.sum(p * p).backward()
        assert p.grad is not None
        with no_grad():
            p = (p - 0.25 * p.grad).detach().requires_grad_()
    assert p.tolist() == [0.125, -0.25] and in_backend(p, T.backend)
