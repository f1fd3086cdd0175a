"""Property tests (hypothesis): random compositions of ops against finite differences.

Expressions are random trees over a 1-D variable ``x`` and a 0-D variable ``s``
(so broadcasting is exercised), built from ops chosen to be smooth on the whole
real line with moderate growth, so that central differences are accurate and no
kink or domain edge is ever hit. The check is the one a sceptical reader would
do by hand: perturb each input coordinate by ±h and compare. The tests on a 1-D
variable run on every array backend (``tests/backends.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from backends import NAMES, Maker, in_backend
from hypothesis import given, settings
from hypothesis import strategies as st

import geograd.functional as F
from geograd import Tensor, grad, no_grad

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

N = 3  # length of the 1-D variable
FAST = settings(deadline=None, max_examples=60)

# smooth everywhere, bounded or slowly growing, bounded derivatives
UNARY: dict[str, Callable[[Tensor], Tensor]] = {
    "sin": F.sin,
    "cos": F.cos,
    "tanh": F.tanh,
    "sigmoid": F.sigmoid,
    "softplus": F.softplus,
    "neg": lambda t: -t,
    "half": lambda t: 0.5 * t,
    "exp∘tanh": lambda t: F.exp(F.tanh(t)),
    "log(1+t²)": lambda t: F.log(1.0 + t * t),
    "sqrt(1+t²)": lambda t: F.sqrt(1.0 + t * t),
    "hypot(t, 1)": lambda t: F.hypot(t, 1.0),
    "(1+t²)^0.75": lambda t: (1.0 + F.square(t)) ** 0.75,
    "tan(tanh/2)": lambda t: F.tan(0.5 * F.tanh(t)),
    "2^sin": lambda t: 2.0 ** F.sin(t),
    "abs∘softplus": lambda t: F.abs(F.softplus(t) + 0.1),
}
BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (2.0 + F.sin(b)),
    "pow": lambda a, b: (1.0 + a * a) ** F.tanh(b),
    "norm": lambda a, b: F.norm(a, b, 0.5),
    "rdiv": lambda a, b: 1.0 / (1.0 + a * a + b * b),
}
# ops that mix the entries of a 1-D value: indexing, building vectors, reductions
MIXING_UNARY: dict[str, Callable[[Tensor], Tensor]] = {
    "roll": lambda t: F.concat([t[1:], t[0]]) if t.shape else t,
    "gather": lambda t: t[[2, 0, -3]] if t.shape else t,
    "cumsum": lambda t: F.stack([t[0], t[0] + t[1], F.sum(t)], like=t) if t.shape else t,
}
MIXING_BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "where": lambda a, b: F.where([True, False, True] if a.shape or b.shape else False, a, b),
    "logsumexp": lambda a, b: F.logsumexp(F.concat([a, b])),
    "scale by mean": lambda a, b: a * F.mean(b),
}
ALL_UNARY = {**UNARY, **MIXING_UNARY}
ALL_BINARY = {**BINARY, **MIXING_BINARY}
REDUCE: dict[str, Callable[[Tensor], Tensor]] = {
    "sum": F.sum,
    "mean": F.mean,
    "logsumexp": F.logsumexp,
    "dot": lambda t: F.dot(t, [0.5, -1.0, 2.0]) if t.shape else 0.5 * t,
    "vector_norm+1": lambda t: F.vector_norm(F.concat([t, 1.0])),
}

Tree = Any  # "x" | "s" | (name, child) | (name, left, right)


def tree_strategy(unary: list[str], binary: list[str]) -> st.SearchStrategy[Tree]:
    return st.recursive(
        st.sampled_from(["x", "s"]),
        lambda children: st.one_of(
            st.tuples(st.sampled_from(sorted(unary)), children),
            st.tuples(st.sampled_from(sorted(binary)), children, children),
        ),
        max_leaves=6,
    )


trees = tree_strategy(list(ALL_UNARY), list(ALL_BINARY))
elementwise_trees = tree_strategy(list(UNARY), list(BINARY))
coordinates = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)


def evaluate(tree: Tree, x: Tensor, s: Tensor) -> Tensor:
    if tree == "x":
        return x
    if tree == "s":
        return s
    if len(tree) == 2:
        return ALL_UNARY[tree[0]](evaluate(tree[1], x, s))
    return ALL_BINARY[tree[0]](evaluate(tree[1], x, s), evaluate(tree[2], x, s))


def loss(tree: Tree, reduce: str, x: Tensor, s: Tensor) -> Tensor:
    return REDUCE[reduce](evaluate(tree, x, s))


def central_differences(
    f: Callable[[list[float], float], float], xs: list[float], s0: float, h: float = 1e-6
) -> tuple[list[float], float]:
    gx = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        gx.append((f(up, s0) - f(down, s0)) / (2 * h))
    gs = (f(xs, s0 + h) - f(xs, s0 - h)) / (2 * h)
    return gx, gs


def agree(autograd: float, numeric: float, scale: float) -> bool:
    return abs(autograd - numeric) <= 1e-6 * scale + 1e-5 * abs(numeric)


@pytest.mark.parametrize("backend", NAMES)
@FAST
@given(
    tree=trees,
    reduce=st.sampled_from(sorted(REDUCE)),
    xs=st.lists(coordinates, min_size=N, max_size=N),
    s0=coordinates,
)
def test_random_compositions_agree_with_central_differences(
    backend: str, tree: Tree, reduce: str, xs: list[float], s0: float
) -> None:
    T = Maker(backend)
    x = T(xs, requires_grad=True)
    s = Tensor(s0, requires_grad=True)
    out = loss(tree, reduce, x, s)
    assert out.shape == () and out.requires_grad
    out.backward()

    def f(values: list[float], scalar: float) -> float:
        with no_grad():
            return loss(tree, reduce, T(values), Tensor(scalar)).item()

    gx, gs = central_differences(f, xs, s0)
    scale = max(1.0, abs(out.item()))
    assert x.grad is None or in_backend(x.grad, backend)
    ax = x.grad.tolist() if x.grad is not None else [0.0] * N
    as_ = s.grad.item() if s.grad is not None else 0.0
    for a, n in zip(ax, gx):
        assert agree(a, n, scale), (tree, reduce, ax, gx)
    assert agree(as_, gs, scale), (tree, reduce, as_, gs)


@pytest.mark.parametrize("backend", NAMES)
@FAST
@given(tree=elementwise_trees, xs=st.lists(coordinates, min_size=N, max_size=N), s0=coordinates)
def test_one_d_evaluation_matches_entry_by_entry_evaluation(
    backend: str, tree: Tree, xs: list[float], s0: float
) -> None:
    # the vector path and the scalar path must agree, values and gradients: exactly on
    # the standard library backend (the same math functions), to a few ulps elsewhere
    exact = backend == "python"
    x = Maker(backend)(xs, requires_grad=True)
    s = Tensor(s0, requires_grad=True)
    out = evaluate(tree, x, s) + 0.0 * x  # 1-D even when the tree holds no x
    weights = [1.0, -0.5, 2.0]
    F.dot(out, weights).backward()
    for i, w in enumerate(weights):
        xi = Tensor(xs[i], requires_grad=True)
        si = Tensor(s0, requires_grad=True)
        oi = evaluate(tree, xi, si) + 0.0 * xi
        vi = out.tolist()[i]
        assert (
            oi.item() == vi if exact else math.isclose(oi.item(), vi, rel_tol=1e-13, abs_tol=1e-15)
        )
        (w * oi).backward()
        gx = x.grad.tolist()[i] if x.grad is not None else 0.0
        gi = xi.grad.item() if xi.grad is not None else 0.0
        assert gi == gx or math.isclose(gi, gx, rel_tol=1e-13, abs_tol=1e-15)


@FAST
@given(tree=trees, x0=coordinates, s0=coordinates)
def test_second_derivatives_agree_with_differences_of_the_gradient(
    tree: Tree, x0: float, s0: float
) -> None:
    def f(t: Tensor) -> Tensor:
        return evaluate(tree, t, Tensor(s0)) + 0.0 * t

    d1 = grad(f)
    d2 = grad(d1)
    h = 1e-5
    numeric = (d1(x0 + h).item() - d1(x0 - h).item()) / (2 * h)
    scale = max(1.0, abs(d1(x0).item()))
    assert agree(d2(x0).item(), numeric, 10 * scale)


SECOND: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[float], float]]] = {
    "sin": (F.sin, lambda x: -math.sin(x)),
    "cos": (F.cos, lambda x: -math.cos(x)),
    "exp": (F.exp, math.exp),
    "tanh": (F.tanh, lambda x: -2.0 * math.tanh(x) * (1.0 - math.tanh(x) ** 2)),
    "x³": (lambda t: t**3, lambda x: 6.0 * x),
    "x·sin x": (lambda t: t * F.sin(t), lambda x: 2.0 * math.cos(x) - x * math.sin(x)),
    "exp(sin x)": (
        lambda t: F.exp(F.sin(t)),
        lambda x: math.exp(math.sin(x)) * (math.cos(x) ** 2 - math.sin(x)),
    ),
    "hypot(x, 1)": (lambda t: F.hypot(t, 1.0), lambda x: (1.0 + x * x) ** -1.5),
    "softplus": (F.softplus, lambda x: math.exp(-x) / (1.0 + math.exp(-x)) ** 2),
}


@FAST
@given(name=st.sampled_from(sorted(SECOND)), x0=st.floats(-5.0, 5.0))
def test_second_derivatives_agree_with_closed_forms(name: str, x0: float) -> None:
    f, d2 = SECOND[name]
    assert math.isclose(grad(grad(f))(x0).item(), d2(x0), rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("backend", NAMES)
@FAST
@given(
    coefficients=st.lists(st.floats(-3.0, 3.0), min_size=6, max_size=6),
    point=st.tuples(st.floats(-2.0, 2.0), st.floats(-2.0, 2.0)),
)
def test_hessian_of_a_random_cubic_in_two_variables(
    backend: str, coefficients: list[float], point: tuple[float, float]
) -> None:
    a, b, c, d, e, k = coefficients
    x0, y0 = point

    def p(v: Tensor) -> Tensor:  # a x³ + b x²y + c xy² + d y³ + e xy + k x²
        x, y = v[0], v[1]
        return a * x**3 + b * x * x * y + c * x * y * y + d * y**3 + e * x * y + k * x * x

    hxx = 6 * a * x0 + 2 * b * y0 + 2 * k
    hxy = 2 * b * x0 + 2 * c * y0 + e
    hyy = 2 * c * x0 + 6 * d * y0
    for u, expected in (([1.0, 0.0], [hxx, hxy]), ([0.0, 1.0], [hxy, hyy])):
        row = grad(lambda v, u=u: F.dot(grad(p)(v), u))(Maker(backend)([x0, y0])).tolist()
        for got, want in zip(row, expected):
            assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
