"""The engine on dask arrays, with dask's local (threaded) scheduler: no cluster here.

tests/backends.py's engine fixtures are not extended with dask: the contract there is
eager (a domain error raises at the operation, a reduction is a float), and on dask it is
deferred to the computation, by design. This is the dask portability run instead: per-op
values and gradients against numpy, higher order, the deferred no-silent-NaN contract
(the same errors, raised by the computation), nothing computed while a graph is built,
one computation per evaluation in ``minimize``. The real cluster is in test_dask.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

import geograd.functional as F
from geograd import Tensor, grad, minimize
from geograd import backend as B
from geograd.errors import BackendError, DomainError, NaNError
from geograd.floatarray import FloatArray
from geograd.streaming import averaged_median, chunked

np = pytest.importorskip("numpy")
da = pytest.importorskip("dask.array")
pytest.importorskip("array_api_compat")
callbacks = pytest.importorskip("dask.callbacks")

VALUES = [0.5, 1.25, 2.0, 0.75, 3.0, 1.5, 0.25]


class Computes(callbacks.Callback):  # type: ignore[misc]
    """Counts the computations dask runs (one per dask.compute) while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def _start(self, dsk: Any) -> None:
        self.count += 1


def lazy(values: list[float], chunks: int = 3) -> Any:
    return da.from_array(np.asarray(values, dtype=np.float64), chunks=chunks)


def both(values: list[float], requires_grad: bool = False) -> tuple[Tensor, Tensor]:
    """The same values as a dask Tensor and a numpy Tensor."""
    return (
        Tensor(lazy(values), requires_grad=requires_grad),
        Tensor(np.asarray(values), requires_grad=requires_grad),
    )


def computed(*datas: Any) -> list[Any]:
    return [v.tolist() if hasattr(v, "tolist") else v for v in B.materialize(*datas)]


OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "exp": lambda x: F.sum(F.exp(x)),
    "log": lambda x: F.sum(F.log(x)),
    "sqrt": lambda x: F.sum(F.sqrt(x)),
    "sin_cos_tan": lambda x: F.sum(F.sin(x) * F.cos(x) + F.tan(x * 0.3)),
    "tanh_sigmoid_softplus": lambda x: F.sum(F.tanh(x) + F.sigmoid(x) + F.softplus(-x)),
    "abs_relu": lambda x: F.sum(F.abs(x - 1.0) + F.relu(x - 1.0)),
    "arithmetic": lambda x: F.mean(x * x / (x + 3.0) - 2.0 * x),
    "pow": lambda x: F.sum(x**2.5 + 2.0**x),
    "clip_maximum_minimum": lambda x: F.sum(
        F.clip(x, 0.6, 2.5) + F.maximum(x, 1.0) + F.minimum(x, 1.0)
    ),
    "where": lambda x: F.sum(F.where(x > 1.0, x, 2.0 * x)),
    "dot": lambda x: F.dot(x, x + 1.0),
    "vector_norm": lambda x: F.vector_norm(x),
    "hypot": lambda x: F.sum(F.hypot(x, x + 1.0)),
    "distances": lambda x: F.mean(F.distances((x, 2.0 * x), (0.3, 0.1))),
    "indexing": lambda x: x[1] * x[2] + F.sum(x[2:5]) + F.sum(x[[0, 6, 0]]),
    "concat": lambda x: F.sum(F.concat([x[0], x, x[3]]) ** 2),
    "sum_of_sums": lambda x: F.sum(x) * F.mean(x) / F.sum(F.exp(-x)),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_values_and_gradients_equal_numpys(name: str) -> None:
    f = OPS[name]
    xd, xn = both(VALUES, requires_grad=True)
    ld = f(xd)
    ld.backward()
    assert xd.grad is not None and xd.grad.backend.name == "dask"
    value, gradient = computed(ld.data, xd.grad.data)
    ln = f(xn)
    ln.backward()
    assert xn.grad is not None
    assert value == pytest.approx(ln.item(), rel=1e-14)
    assert gradient == pytest.approx(xn.grad.tolist(), rel=1e-13, abs=1e-15)


def test_building_a_graph_computes_nothing_and_materialize_computes_once() -> None:
    xs, ys = Tensor(lazy(VALUES)), Tensor(lazy(VALUES[::-1]))
    p = Tensor([0.3, 0.3], requires_grad=True)
    with Computes() as c:
        loss = F.mean(F.distances((xs, ys), p)) + F.sum(F.log(xs)) * 1e-3
        loss.backward()
        assert c.count == 0
        assert type(loss.data) is not float and B.is_lazy(loss.data)
        assert p.grad is not None and B.is_lazy(p.grad.data)
        value, gradient = B.materialize(loss.data, p.grad.data)
        assert c.count == 1
    assert type(value) is float and len(gradient) == 2


def test_a_parameter_in_the_standard_library_or_numpy_gets_its_gradient_there() -> None:
    xs, ys = Tensor(lazy(VALUES)), Tensor(lazy(VALUES[::-1]))
    xn, yn = Tensor(np.asarray(VALUES)), Tensor(np.asarray(VALUES[::-1]))

    def f(x: Any, y: Any) -> Callable[[Tensor], Tensor]:
        return lambda p: F.mean(F.distances((x, y), p))

    expected = minimize(f(xn, yn), [0.3, 0.3], gtol=1e-12)
    for x0 in ([0.3, 0.3], Tensor(np.asarray([0.3, 0.3]))):
        with Computes() as c:
            r = minimize(f(xs, ys), x0, gtol=1e-12)
        assert r.evaluations == c.count  # one pass over the data per evaluation
        assert r.x == pytest.approx(expected.x, rel=1e-12, abs=1e-14)
        assert r.steps == expected.steps
        if isinstance(x0, Tensor):
            assert x0.backend.name == "numpy"
            assert x0.grad is not None and x0.grad.backend.name == "numpy"
        assert all(type(v) is float for v in r.x)


def test_second_order_through_create_graph() -> None:
    xs, ys = both(VALUES)
    xs2, ys2 = both(VALUES[::-1])

    def hessian_row(x: Tensor, y: Tensor, j: int) -> Any:
        def f(p: Tensor) -> Tensor:
            return F.mean(F.distances((x, y), p))

        row = grad(lambda p: grad(f)(p)[j])([0.3, -0.2])
        return row.tolist()

    for j in range(2):
        assert hessian_row(xs, xs2, j) == pytest.approx(hessian_row(ys, ys2, j), rel=1e-12)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: F.sum(F.log(x - 1.0)),
        lambda x: F.sum(F.sqrt(x - 1.0)),
        lambda x: F.sum(1.0 / (x - 0.5)),
        lambda x: F.sum(F.exp(x * 1000.0)),
        lambda x: F.sum((x - 0.75) ** -1.5),
    ],
    ids=["log", "sqrt", "div", "exp", "pow"],
)
def test_domain_errors_are_raised_when_computed_as_numpy_raises_them(
    f: Callable[[Tensor], Tensor],
) -> None:
    xd, xn = both(VALUES)
    with pytest.raises((DomainError, ArithmeticError)) as eager:
        f(xn)
    out = f(xd)  # lazily: nothing is computed, nothing raised
    with pytest.raises(type(eager.value)) as deferred:
        B.materialize(out.data)
    assert str(deferred.value) == str(eager.value)


def test_a_nan_is_refused_when_computed() -> None:
    xd = Tensor(lazy([1e308, 1e308, -1e308]))
    out = F.sum(xd * 10.0 - xd * 10.0)  # inf - inf
    with pytest.raises(NaNError, match="NaN"):
        B.materialize(out.data)
    t = Tensor(lazy([1e308, -1e308])) * 10.0 + Tensor(lazy([1e308, 1e308])) * 10.0
    with pytest.raises(NaNError, match=r"Tensor\.tolist: the value at index 1 is NaN"):
        t.tolist()


def test_data_holding_nan_is_refused_when_first_computed() -> None:
    t = Tensor(lazy([1.0, float("nan"), 2.0]))
    with pytest.raises(DomainError, match="index 1 is NaN"):
        B.materialize(F.sum(t).data)


def test_checks_belong_to_their_graph() -> None:
    bad = F.sum(F.log(Tensor(lazy([-1.0, 2.0]))))  # never computed
    good = F.sum(Tensor(lazy(VALUES)))
    assert B.materialize(good.data) == [pytest.approx(sum(VALUES))]
    with pytest.raises(DomainError, match="log"):
        B.materialize(bad.data)


def test_reading_a_lazy_value_computes_it() -> None:
    t = Tensor(lazy(VALUES))
    assert t.tolist() == VALUES
    assert F.sum(t).tolist() == pytest.approx(sum(VALUES))
    assert "backend='dask'" in repr(t) and "(n=7)" in repr(t)
    assert t.backend.name == "dask" and F.sum(t).backend.name == "dask"


def test_dask_and_numpy_arrays_do_not_mix_but_floats_and_literals_do() -> None:
    xd, xn = both(VALUES)
    with pytest.raises(BackendError, match="dask"):
        xd + xn
    out = F.sum(xd * 2.0 + [1.0] * len(VALUES))
    assert out.tolist() == pytest.approx(2 * sum(VALUES) + len(VALUES))


def test_persist_and_materialize_are_the_identity_for_eager_backends() -> None:
    a, b = np.asarray(VALUES), FloatArray(VALUES)
    assert B.materialize(1.5, a, b, None) == [1.5, a, b, None]
    kept = B.persist(a, b)
    assert kept[0] is a and kept[1] is b
    (p,) = B.persist(lazy(VALUES))
    assert Tensor(p).tolist() == VALUES


def test_streaming_over_dask_columns_one_computation_per_chunk() -> None:
    rng = np.random.default_rng(5)
    pts = rng.standard_normal((3000, 2))
    cols = [lazy(pts[:, 0].tolist(), chunks=1000), lazy(pts[:, 1].tolist(), chunks=1000)]
    with Computes() as c:
        r = averaged_median(chunked(cols, 1000), batch=1)
    assert c.count == 3
    expected = averaged_median(chunked([pts[:, 0].copy(), pts[:, 1].copy()], 1000), batch=1)
    assert r.x == expected.x


def test_a_point_at_the_centre_contributes_a_zero_gradient_and_no_warning() -> None:
    xs, ys = Tensor(lazy([0.3, 1.3, 0.3])), Tensor(lazy([0.4, 0.4, 2.4]))
    p = Tensor([0.3, 0.4], requires_grad=True)
    loss = F.sum(F.distances((xs, ys), p))
    loss.backward()
    assert p.grad is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, gradient = computed(loss.data, p.grad.data)
    assert value == pytest.approx(3.0)
    assert gradient == pytest.approx([-1.0, -1.0])
