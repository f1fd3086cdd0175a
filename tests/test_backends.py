"""Array backends: the seam in layer 1, dispatch by the data, mixed operands, optimizers.

The per-op values and gradients, higher order and the NaN contract run on every
backend in their own modules (``T`` in test_functional, test_higher_order,
test_properties, test_nan_contract). Here: what is specific to having several
backends -- which backend a value lands in, what happens when two meet, that
reading a value works everywhere, that optimizers keep a parameter and its state
in its own backend (and state dicts stay JSON), that numpy's warnings never reach
the user, and that nothing above layer 1 touches a concrete array class.
"""

from __future__ import annotations

import ast
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from backends import NAMES, Maker, in_backend

import geograd.functional as F
from geograd import Tensor, grad, minimize
from geograd import backend as B
from geograd.check import gradcheck
from geograd.errors import BackendError, DivergenceError, DomainError, ShapeError
from geograd.floatarray import FloatArray
from geograd.optim import Adam, available_optimizers, get_optimizer
from geograd.optim.clip import clip_grad_norm_

np = pytest.importorskip("numpy")
xps = pytest.importorskip("array_api_strict")

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ARRAYS = [n for n in NAMES if n != "python"]


@pytest.fixture(params=NAMES)
def T(request: pytest.FixtureRequest) -> Maker:
    return Maker(request.param)


# ------------------------------------------------------------------ where a value lands


def test_a_list_stays_in_the_standard_library_and_a_numpy_array_stays_numpy() -> None:
    assert Tensor([1.0, 2.0]).backend.name == "python"
    assert type(Tensor([1.0, 2.0]).data) is FloatArray
    t = Tensor(np.array([1.0, 2.0]))
    assert t.backend.name == "numpy" and type(t.data) is np.ndarray
    s = Tensor(xps.asarray([1.0, 2.0]))
    assert s.backend.name == "array_api_strict"
    assert Tensor(3.0).backend is B.PYTHON  # 0-D belongs to no backend: python's floats


def test_an_array_is_copied_to_float64_and_checked() -> None:
    source = np.array([1, 2, 3])
    t = Tensor(source)
    assert t.data.dtype == np.float64 and t.tolist() == [1.0, 2.0, 3.0]
    source[0] = 99  # the tensor keeps its own copy: the engine never sees a change in place
    assert t.tolist() == [1.0, 2.0, 3.0]
    assert Tensor(np.array([0.5, 1.5], dtype=np.float32)).data.dtype == np.float64
    with pytest.raises(TypeError, match="1-D"):
        Tensor(np.zeros((2, 2)))
    with pytest.raises(TypeError):
        Tensor(np.array([True, False]))
    with pytest.raises(DomainError, match="index 1 is NaN"):
        Tensor(np.array([1.0, np.nan]))


def test_numpy_scalars_and_zero_d_arrays_are_numbers() -> None:
    for value in (np.float64(2.5), np.array(2.5), np.int64(2), xps.asarray(2.5)):
        t = Tensor(value)
        assert t.shape == () and type(t.data) is float and t.backend is B.PYTHON
    assert (Tensor(np.array([1.0, 2.0])) * np.float64(2.0)).tolist() == [2.0, 4.0]
    with pytest.raises(DomainError, match="NaN"):
        Tensor(np.float64("nan"))


def test_reading_a_value_works_on_every_backend(T: Maker) -> None:
    v = T([1.5, -2.0, 0.25])
    assert v.tolist() == [1.5, -2.0, 0.25] and all(type(x) is float for x in v.tolist())
    assert len(v) == 3 and v.shape == (3,)
    assert [x.item() for x in v] == [1.5, -2.0, 0.25]
    s = F.sum(v)
    assert type(s.item()) is float and s.item() == -0.25 and float(s) == -0.25
    assert type(v[1].item()) is float
    text = repr(v)
    assert text.startswith("Tensor([1.5, -2.0, 0.25]")
    assert (f"backend={T.backend!r}" in text) == (T.backend != "python")
    long = repr(T([float(i) for i in range(1000)]))
    assert "n=1000" in long and "999.0" in long and len(long) < 140


def test_results_and_gradients_stay_in_the_backend_of_the_data(T: Maker) -> None:
    xs, ys = T([0.0, 1.0, 0.5]), T([0.0, 0.0, 1.0])
    p = T([0.3, 0.3], requires_grad=True)
    d = F.hypot(xs - p[0], ys - p[1])
    assert in_backend(d, T.backend)
    F.mean(d).backward()
    assert in_backend(p.grad, T.backend)
    # the point may live anywhere: its coordinates are 0-D and broadcast
    q = Tensor([0.3, 0.3], requires_grad=True)
    F.mean(F.hypot(xs - q[0], ys - q[1])).backward()
    assert in_backend(q.grad, "python")
    assert q.grad is not None and p.grad is not None
    assert q.grad.tolist() == pytest.approx(p.grad.tolist(), rel=1e-14)


def test_indexing_gathers_its_gradient_in_the_backend(T: Maker) -> None:
    x = T([1.0, 2.0, 3.0, 4.0, 5.0], requires_grad=True)
    loss = (
        x[0] * 1.0
        + F.sum(x[1:3]) * 10.0
        + F.sum(x[::2]) * 100.0
        + F.sum(x[[4, 4, 0]]) * 1000.0
        + F.sum(F.stack(x.unbind(), like=x)) * 0.5
    )
    loss.backward()
    assert x.grad is not None and in_backend(x.grad, T.backend)
    assert x.grad.tolist() == [1101.5, 10.5, 110.5, 0.5, 2100.5]
    # and a second order through the gather
    y = T([1.0, 2.0, 3.0])
    h = grad(lambda v: F.dot(grad(lambda u: u[0] ** 3 + u[2] ** 2)(v), [1.0, 1.0, 1.0]))(y)
    assert h.tolist() == [6.0, 0.0, 2.0] and in_backend(h, T.backend)


def test_comparisons_give_masks_that_where_takes(T: Maker) -> None:
    x = T([-1.0, 2.0, -3.0], requires_grad=True)
    mask = x > 0.0
    assert [bool(m) for m in mask] == [False, True, False]
    y = F.where(mask, x, 0.0)
    assert y.tolist() == [0.0, 2.0, 0.0] and in_backend(y, T.backend)
    assert in_backend(F.where(mask, 1.0, 0.0), T.backend)  # the mask decides the backend
    F.sum(F.relu(x) * 3.0).backward()
    assert x.grad is not None and x.grad.tolist() == [0.0, 3.0, 0.0]


# ------------------------------------------------------------------ operands that meet


@pytest.mark.parametrize("other", ARRAYS)
def test_two_backends_in_one_operation_raise_one_error_naming_both(other: str) -> None:
    a, b = Tensor([1.0, 2.0]), Maker(other)([3.0, 4.0])
    with pytest.raises(BackendError) as info:
        a + b
    text = str(info.value)
    assert text.startswith("add:") and "python" in text and other in text
    assert isinstance(info.value, TypeError)
    with pytest.raises(BackendError, match=r"^norm:"):
        F.hypot(b, a)
    with pytest.raises(BackendError, match="comparison <"):
        b < a  # noqa: B015


def test_numpy_and_array_api_strict_do_not_mix_either() -> None:
    with pytest.raises(BackendError, match=r"numpy.*array_api_strict|array_api_strict.*numpy"):
        F.dot(Tensor(np.array([1.0])), Tensor(xps.asarray([1.0])))


def test_floats_zero_d_tensors_and_lists_broadcast_against_any_backend(T: Maker) -> None:
    v = T([1.0, 2.0])
    assert (v + 1.0).tolist() == [2.0, 3.0]
    assert (Tensor(2.0) * v).tolist() == [2.0, 4.0]
    assert (v - Tensor([1.0, 2.0])[0]).tolist() == [0.0, 1.0]  # a python 0-D tensor
    assert in_backend(v * [3.0, 4.0], T.backend)  # a list literal takes v's backend
    assert in_backend([3.0, 4.0] - v, T.backend)
    with pytest.raises(ShapeError, match=r"\(2,\).*\(3,\)"):
        F.add(v, [1.0, 2.0, 3.0])


def test_numpy_on_the_left_defers_to_the_tensor() -> None:
    v = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = np.array([10.0, 20.0]) * v
    assert isinstance(out, Tensor) and out.tolist() == [10.0, 40.0]
    F.sum(out).backward()
    assert v.grad is not None and v.grad.tolist() == [10.0, 20.0]


def test_dispatch_happens_once_per_primitive_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = B.common_backend

    def counting(datas: Any, what: str = "") -> B.Backend:
        calls.append(1)
        return real(datas, what)

    monkeypatch.setattr(B, "common_backend", counting)
    a, b = Tensor(np.array([1.0, 2.0])), Tensor(np.array([3.0, 4.0]))
    a * b
    assert len(calls) == 1


def test_other_array_libraries_need_array_api_compat(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeTorchTensor:
        pass

    FakeTorchTensor.__module__ = "torch"
    monkeypatch.setitem(sys.modules, "array_api_compat", None)  # as if not installed
    with pytest.raises(BackendError, match="array_api_compat"):
        Tensor(FakeTorchTensor())
    with pytest.raises(BackendError, match="not a value geograd computes with"):
        B.common_backend([object()], "add")


def test_import_geograd_imports_no_array_library() -> None:
    # in a fresh interpreter: nothing imports numpy or array_api_compat until data arrives
    import subprocess

    code = (
        "import sys, geograd, geograd.backend, geograd.arrayapi\n"
        "from geograd import Tensor\n"
        "Tensor([1.0, 2.0]) * 2.0\n"
        "print(sorted(m for m in ('numpy', 'array_api_compat', 'array_api_strict') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ no warnings, errors


def test_numpy_warnings_never_reach_the_user() -> None:
    v = Tensor(np.array([1e308, 0.0, -1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (v * 10.0).tolist()[0] == math.inf  # IEEE overflow: inf, and no warning
        for compute, error in (
            (lambda: F.log(v), DomainError),
            (lambda: F.sqrt(v), DomainError),
            (lambda: v / Tensor(np.array([1.0, 0.0, 1.0])), ZeroDivisionError),
            (lambda: F.exp(v), OverflowError),
            (lambda: v**-1.0, DomainError),
            (lambda: F.sum(v * 10.0 - v * 10.0), DomainError),
        ):
            with pytest.raises(error):
                compute()


@pytest.mark.parametrize("backend", ARRAYS)
def test_a_diverging_step_is_refused_without_a_warning(backend: str) -> None:
    x = Maker(backend)([1e300, 1.0], requires_grad=True)
    opt = get_optimizer("sgd")([x], lr=1e10)
    (x * x)[0].backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DivergenceError, match="index 0"):
            opt.step()
    assert x.tolist() == [1e300, 1.0] and in_backend(x, backend)


# ------------------------------------------------------------------ optimizers


def coupled(p: Tensor) -> Tensor:
    return F.sum((p - [1.0, -0.5]) ** 2) + 0.5 * (p[0] * p[1])


def _flatten(value: Any) -> list[Any]:
    """A vector or a list of vectors (L-BFGS's curvature pairs) as one list of entries."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [v for row in value for v in row]
    return list(value)


def trajectory(name: str, T: Maker, steps: int = 6) -> tuple[list[list[float]], Any, Tensor]:
    x = T([0.3, -0.2], requires_grad=True)
    opt = get_optimizer(name)([x])

    def closure() -> Tensor:
        opt.zero_grad()
        loss = coupled(x)
        loss.backward()
        return loss

    path = []
    for _ in range(steps):
        opt.step(closure)
        path.append(x.tolist())
    return path, opt, x


@pytest.mark.parametrize("name", sorted(available_optimizers()))
@pytest.mark.parametrize("backend", ARRAYS)
def test_optimizers_step_in_the_parameters_backend_as_on_the_standard_library(
    name: str, backend: str
) -> None:
    reference, _, _ = trajectory(name, Maker("python"))
    path, opt, x = trajectory(name, Maker(backend))
    for got, want in zip(path, reference):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert in_backend(x, backend)
    for value in opt.state[x].values():
        if isinstance(value, (int, float, bool)) or value is None:
            continue
        if name == "lbfgs":  # its flat vectors are Python floats by design (see LBFGS)
            assert all(isinstance(v, float) for v in _flatten(value)), value
            continue
        assert B.is_array(value) and B.backend_of(value).name == backend
    # the state dict is plain JSON, and a resumed run follows the uninterrupted one
    saved = json.loads(json.dumps(opt.state_dict()))
    for entry in saved["state"].values():
        assert all(
            isinstance(v, (int, float, bool, str, type(None)))
            or (isinstance(v, list) and all(type(e) is float for e in _flatten(v)))
            for v in entry.values()
        )


@pytest.mark.parametrize("backend", ARRAYS)
def test_a_state_dict_loads_back_into_the_parameters_backend(backend: str) -> None:
    T = Maker(backend)
    x = T([0.3, -0.2], requires_grad=True)
    opt = Adam([x], lr=0.1, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        coupled(x).backward()
        opt.step()
    y = T(x.tolist(), requires_grad=True)
    resumed = Adam([y], lr=0.1, amsgrad=True)
    resumed.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    assert B.backend_of(resumed.state[y]["exp_avg"]).name == backend
    for p, o in ((x, opt), (y, resumed)):
        o.zero_grad()
        coupled(p).backward()
        o.step()
    assert y.tolist() == x.tolist()


def test_minimize_on_numpy_returns_floats(T: Maker) -> None:
    x = T([0.0, 0.0])
    result = minimize(coupled, x, "gd", max_steps=200)
    assert result.reason == "gtol"
    assert all(type(v) is float for v in result.x)
    json.dumps(result.to_dict())
    assert in_backend(x, T.backend)
    reference = minimize(coupled, [0.0, 0.0], "gd", max_steps=200)
    assert result.x == pytest.approx(reference.x, rel=1e-9)
    assert result.steps == reference.steps


def test_clip_grad_norm_works_in_the_gradients_backend(T: Maker) -> None:
    x = T([3.0, 4.0], requires_grad=True)
    F.dot(x, x).backward()  # gradient (6, 8), norm 10
    assert clip_grad_norm_([x], 5.0) == 10.0
    assert x.grad is not None and in_backend(x.grad, T.backend)
    assert x.grad.tolist() == pytest.approx([3.0, 4.0], rel=1e-6)
    x.grad = None
    F.dot(x, x).backward()
    assert clip_grad_norm_([x], 1e9, norm_type=math.inf) == 8.0
    assert clip_grad_norm_([x], 1e9, norm_type=1.0) == 14.0
    assert clip_grad_norm_([x], 1e9, norm_type=3.0) == pytest.approx(728.0 ** (1 / 3), rel=1e-15)


def test_gradcheck_keeps_the_inputs_backend(T: Maker) -> None:
    seen: list[str] = []

    def f(v: Tensor) -> Tensor:
        seen.append(v.backend.name)
        return F.sum(F.sin(v) * v)

    report = gradcheck(f, [T([0.3, -1.2, 2.0])])
    assert report.passed
    assert set(seen) == {T.backend}


# ------------------------------------------------------------------ the seam itself


ENGINE_ABOVE_LAYER_1 = [
    "geograd/tensor.py",
    "geograd/functional.py",
    "geograd/solve.py",
    "geograd/check.py",
    *sorted(
        str(p.relative_to(Path(__file__).parents[1]))
        for p in Path(Path(__file__).parents[1], "geograd", "optim").glob("*.py")
    ),
]


@pytest.mark.parametrize("path", ENGINE_ABOVE_LAYER_1)
def test_nothing_above_layer_1_touches_a_concrete_array(path: str) -> None:
    # the layers above ask the backend: no FloatArray, no list storage, no array module
    tree = ast.parse((Path(__file__).parents[1] / path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            assert node.id != "FloatArray", f"{path}:{node.lineno}"
        elif isinstance(node, ast.Attribute):
            assert node.attr not in ("FloatArray", "_v", "_clean", "wrap"), f"{path}:{node.lineno}"
        elif isinstance(node, ast.ImportFrom):
            assert node.module not in ("numpy", "array_api_strict"), f"{path}:{node.lineno}"
            names = {a.name for a in node.names}
            assert not (node.module == "geograd" and "floatarray" in names), path
            assert node.module != "geograd.floatarray", f"{path}:{node.lineno}"
        elif isinstance(node, ast.Import):
            assert not {a.name for a in node.names} & {"numpy", "geograd.floatarray"}, path


@pytest.mark.parametrize("backend", NAMES)
def test_every_backend_implements_the_whole_interface(backend: str) -> None:
    be = Maker(backend)([1.0]).backend
    wanted = [name for name in vars(B.Backend) if not name.startswith("_")]
    assert len(wanted) > 40
    missing = [name for name in wanted if not hasattr(be, name)]
    assert missing == []


def test_the_engine_keeps_to_the_2023_12_standard() -> None:
    # array-api-strict at the 2023.12 version: no Python scalars in functions (maximum,
    # where, hypot, ...), so a call that relied on a later standard fails here
    with xps.ArrayAPIStrictFlags(api_version="2023.12"):
        T = Maker("array_api_strict")
        xs, ys = T([0.0, 1.0, 0.5, 2.0]), T([0.0, 0.0, 1.0, -1.0])
        p = T([0.3, 0.3], requires_grad=True)

        def loss(q: Tensor) -> Tensor:
            d = F.hypot(xs - q[0], ys - q[1])
            return F.mean(d) + F.max(F.minimum(d, 1.0)) + F.logsumexp(F.clip(d, 0.1, 0.9))

        value = loss(p)
        value.backward()
        assert p.grad is not None and in_backend(p.grad, "array_api_strict")
        h = grad(lambda q: F.dot(grad(loss)(q), [1.0, 0.0]))(p.detach())
        assert in_backend(h, "array_api_strict")
        reference = Tensor([0.3, 0.3], requires_grad=True)
        loss(reference).backward()
        assert reference.grad is not None
        assert p.grad.tolist() == pytest.approx(reference.grad.tolist(), rel=1e-12)
        result = minimize(loss, T([0.3, 0.3]), "adam", max_steps=20)
        assert all(type(v) is float for v in result.x)
        for compute, pattern in (
            (lambda: F.log(xs - 1.0), r"log\(-1\.0\).*index 0"),
            (lambda: F.sqrt(ys), r"sqrt\(-1\.0\).*index 3"),
            (lambda: xs / ys, r"division by zero at index 0"),
            (lambda: xs**-1.0, r"pow\(0\.0, -1\.0\).*index 0"),
        ):
            with pytest.raises(DomainError, match=pattern):
                compute()
        mixed = F.sum(F.sigmoid(xs) + F.softplus(ys) + F.sign(xs) + F.relu(ys))
        expected = sum(
            1 / (1 + math.exp(-x)) + math.log1p(math.exp(y)) + (x > 0) + max(y, 0.0)
            for x, y in zip([0.0, 1.0, 0.5, 2.0], [0.0, 0.0, 1.0, -1.0])
        )
        assert mixed.item() == pytest.approx(expected, rel=1e-14)
