"""Forward mode (geograd.forward): ``jvp`` against finite differences on every primitive,
the adjoint identity <u, J v> = <J^T u, v> against ``vjp`` on random compositions, the
same numbers on every backend, the VJPs' conventions at kinks and domain edges, nesting
with reverse mode, and one clear error per bad argument."""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from backends import NAMES, Maker, in_backend

import geograd
import geograd.functional as F
from geograd import Tensor, grad, hessian
from geograd.errors import DomainError, InputError, ShapeError
from geograd.forward import jvp, vjp
from geograd.functional import Primitive, _ForwardMode

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@pytest.fixture(params=NAMES)
def T(request: pytest.FixtureRequest) -> Maker:
    return Maker(request.param)


def values(t: Any) -> list[float]:
    """A Tensor or float as a flat list of floats."""
    v = t.tolist() if isinstance(t, Tensor) else t
    return [float(v)] if isinstance(v, float) else [float(e) for e in v]


def inner(a: Any, b: Any) -> tuple[float, float]:
    """<a, b> and Σ|a_i b_i| (the scale a rounding error is relative to)."""
    pa, pb = values(a), values(b)
    assert len(pa) == len(pb)
    terms = [x * y for x, y in zip(pa, pb)]
    return math.fsum(terms), math.fsum(abs(t) for t in terms)


# ---------------------------------------------------------- every primitive, against FD

X = [0.3, -1.2, 0.7, 2.1]  # distinct, nonzero, away from every kink below
Y = [1.1, 0.4, -0.5, 1.7]
POS = [0.5, 1.3, 2.2, 0.9]
COND = lambda a: a > 0.0  # noqa: E731 (a mask in the operand's backend)

# (primitive tested, f, primals): every row of the table appears at least once
CASES: list[tuple[str, Callable[..., Tensor], list[Any]]] = [
    ("add", lambda a, b: a + b, [X, Y]),
    ("add", lambda a, s: a + s, [X, 0.6]),  # a 0-D tangent spread over a 1-D output
    ("sub", lambda a, b: a - b, [X, Y]),
    ("sub", lambda s, a: s - a, [0.6, X]),
    ("mul", lambda a, b: a * b, [X, Y]),
    ("mul", lambda s, a: s * a, [0.6, X]),
    ("div", lambda a, b: a / b, [X, POS]),
    ("div", lambda s, b: s / b, [0.6, POS]),
    ("pow", lambda a: a**3.0, [X]),
    ("pow", lambda a, b: a**b, [POS, Y]),
    ("pow", lambda a, b: a**b, [POS, 1.7]),
    ("pow", lambda a: F.power(a, 0.5), [POS]),
    ("divide_no_nan", lambda a, b: F.divide_no_nan(a, b), [X, POS]),
    ("atan2", F.atan2, [X, Y]),
    ("maximum", lambda a, b: F.maximum(a, b), [X, Y]),
    ("minimum", lambda a, b: F.minimum(a, b), [X, Y]),
    ("clip", lambda a, lo, hi: F.clip(a, lo, hi), [X, -0.5, 1.0]),
    ("where", lambda a, b: F.where(COND(a), F.sin(a), b), [X, Y]),
    ("mul_masked", lambda a, b: F.mul_masked(a, b), [X, Y]),
    ("div_masked", lambda a, b: F.div_masked(a, b), [X, POS]),
    ("over_norm", lambda a, r: F.over_norm(a, r, of="norm"), [X, POS]),
    ("over_norm", lambda a, s: F.over_norm(a, s, of="norm"), [X, 0.6]),
    ("neg", lambda a: -a, [X]),
    ("abs", lambda a: abs(a), [X]),
    ("sign", lambda a: F.sign(a) * a, [X]),
    ("exp", F.exp, [X]),
    ("log", F.log, [POS]),
    ("sqrt", F.sqrt, [POS]),
    ("sin", F.sin, [X]),
    ("cos", F.cos, [X]),
    ("tan", F.tan, [X]),
    ("tanh", F.tanh, [X]),
    ("sigmoid", F.sigmoid, [X]),
    ("softplus", F.softplus, [X]),
    ("sin", F.sin, [0.8]),  # 0-D
    ("sum", F.sum, [X]),
    ("reduce_sum", F.reduce_sum, [X]),
    ("broadcast_to", lambda s: F.broadcast_to(s, shape=(3,)), [0.6]),
    ("max", F.max, [X]),
    ("min", F.min, [X]),
    ("logsumexp", F.logsumexp, [X]),
    ("vector_norm", F.vector_norm, [X]),
    ("norm", F.hypot, [X, Y]),
    ("norm", lambda a, s, b: F.norm(a, s, b), [X, 0.6, Y]),
    ("concat", lambda a, s, b: F.concat([a, s, b]), [X, 0.6, Y]),
    ("scatter_add", lambda a, s: F.scatter_add(a, s, indices=([5, 0, 2, 0], 2), n=6), [X, 0.6]),
    ("take", lambda a: F.take(a, index=[3, 0, 0, 2]), [X]),
    ("take", lambda a: a[1], [X]),
    ("take", lambda a: a[1:3], [X]),
    ("scatter", lambda a: F.scatter(a, index=[4, 1, 0, 2], n=5), [X]),
    ("distances", lambda a, b, c0, c1: F.distances((a, b), (c0, c1)), [X, Y, 0.2, -0.3]),
    ("offset_sum", lambda g, d, x, c: F.offset_sum(g, d, x, c), [Y, POS, X, 0.4]),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


def table_rows() -> set[str]:
    return {p.name for p in vars(F).values() if isinstance(p, Primitive)}


def direction(primals: Sequence[Any], seed: int) -> list[Any]:
    r = random.Random(seed)
    return [
        [r.uniform(-1, 1) for _ in p] if isinstance(p, list) else r.uniform(-1, 1) for p in primals
    ]


def moved(primals: Sequence[Any], tangents: Sequence[Any], h: float) -> list[Any]:
    return [
        [a + h * b for a, b in zip(p, v)] if isinstance(p, list) else p + h * v
        for p, v in zip(primals, tangents)
    ]


def central_difference(f: Callable[..., Tensor], primals: list[Any], v: list[Any]) -> list[float]:
    h = 1e-6
    plus = values(f(*[Tensor(p) for p in moved(primals, v, h)]))
    minus = values(f(*[Tensor(p) for p in moved(primals, v, -h)]))
    return [(a - b) / (2 * h) for a, b in zip(plus, minus)]


def test_every_row_of_the_table_has_a_jvp_beside_its_vjp() -> None:
    for p in vars(F).values():
        if isinstance(p, Primitive):
            assert (p.jvp_all is None) == (p.vjp_all is None), p.name
            assert len(p.jvps) == len(p.vjps), p.name
    assert table_rows() <= {name for name, _, _ in CASES}  # and each is tested below


@pytest.mark.parametrize(("name", "f", "primals"), CASES, ids=IDS)
def test_jvp_matches_central_differences(
    name: str, f: Callable[..., Tensor], primals: list[Any]
) -> None:
    v = direction(primals, seed=len(name))
    value, tangent = jvp(f, primals, v)
    assert values(value) == pytest.approx(values(f(*[Tensor(p) for p in primals])), rel=1e-15)
    assert values(tangent) == pytest.approx(central_difference(f, primals, v), rel=1e-6, abs=1e-8)
    assert tangent.shape == value.shape


@pytest.mark.parametrize(("name", "f", "primals"), CASES, ids=IDS)
def test_jvp_is_the_same_on_every_backend(
    T: Maker, name: str, f: Callable[..., Tensor], primals: list[Any]
) -> None:
    v = direction(primals, seed=7)
    _, want = jvp(f, primals, v)  # the standard library's FloatArray
    # the tangents are given as lists: jvp builds them in their primal's backend
    value, got = jvp(f, [T(p) for p in primals], v)
    assert values(got) == pytest.approx(values(want), rel=1e-12, abs=1e-15)
    if got.shape and any(isinstance(p, list) for p in primals):  # 0-D: in no backend
        assert in_backend(got, T.backend) and in_backend(value, T.backend)


# ----------------------------------------------------------- the adjoint identity


def random_composition(seed: int, m: int) -> Callable[[Tensor, Tensor, Tensor], Any]:
    """f(x, y, s) -> (a vector of length m, a number), x and y of length 5, s 0-D: a random
    chain of the table's operations, including broadcasting, reductions and indexing."""
    r = random.Random(seed)
    unary: list[Callable[[Tensor], Tensor]] = [
        F.sin, F.tanh, F.sigmoid, F.softplus, abs, lambda z: F.exp(0.3 * z),
        lambda z: z * z, lambda z: F.sqrt(1.0 + z * z), lambda z: F.clip(z, -0.8, 0.9),
        lambda z: F.take(z, index=[r2 % 5 for r2 in (3, 1, 4, 1, 0)]),
    ]  # fmt: skip
    binary: list[Callable[[Tensor, Tensor], Tensor]] = [
        F.add, F.sub, F.mul, lambda a, b: a / (1.0 + b * b), F.maximum, F.minimum, F.hypot,
        lambda a, b: F.where(a > b, a * b, F.cos(b)),
        lambda a, b: F.distances((a, b), (a[0], 0.25)),
    ]  # fmt: skip
    reduce: list[Callable[[Tensor], Tensor]] = [
        F.sum,
        F.logsumexp,
        F.max,
        F.min,
        F.vector_norm,
        F.mean,
    ]
    plan = []
    for _ in range(r.randint(4, 9)):
        kind = r.choice(["unary", "binary", "binary", "reduce"])
        pool: Sequence[Any] = {"unary": unary, "binary": binary, "reduce": reduce}[kind]
        plan.append((kind, r.randrange(len(pool)), r.randrange(99), r.randrange(99)))
    index = [r.randrange(5) for _ in range(m)]

    def f(x: Tensor, y: Tensor, s: Tensor) -> tuple[Tensor, Tensor]:
        vals = [x, y, x * s, F.sin(s) + y]
        for kind, op, i, j in plan:
            a, b = vals[i % len(vals)], vals[j % len(vals)]
            if kind == "unary":
                vals.append(unary[op](a))
            elif kind == "binary":
                vals.append(binary[op](a, b))
            else:  # a number, broadcast back into a vector
                vals.append(b + 0.5 * reduce[op](a))
        last = vals[-1]
        return F.take(last, index=index) * s, F.sum(last * vals[-2]) + F.tanh(s)

    return f


@pytest.mark.parametrize("m", [1, 3, 8])
@pytest.mark.parametrize("seed", range(12))
def test_adjoint_identity_on_random_compositions(T: Maker, seed: int, m: int) -> None:
    f = random_composition(seed, m)
    r = random.Random(1000 + seed)
    primals = [T([r.uniform(-1, 1) for _ in range(5)]) for _ in range(2)] + [r.uniform(0.3, 1)]
    v = [[r.uniform(-1, 1) for _ in range(5)] for _ in range(2)] + [r.uniform(-1, 1)]
    u = ([r.uniform(-1, 1) for _ in range(m)], r.uniform(-1, 1))
    _, (jv_vector, jv_number) = jvp(f, primals, v)
    _, pullback = vjp(f, primals)
    jtu = pullback(u)
    left = [inner(u[0], jv_vector), inner(u[1], jv_number)]
    right = [inner(g, w) for g, w in zip(jtu, v)]
    lhs, rhs = math.fsum(a for a, _ in left), math.fsum(a for a, _ in right)
    scale = max(math.fsum(s for _, s in left), math.fsum(s for _, s in right))
    assert scale > 0.1  # the identity is not trivially 0 = 0
    assert abs(lhs - rhs) <= 1e-12 * scale, (lhs, rhs)


def test_adjoint_identity_at_the_kinks() -> None:
    """Forward mode takes the VJPs' subgradient, so the identity holds exactly there too:
    abs and relu at 0, tied maximum/max, a norm and a distance at the origin, clip at
    its bounds."""

    def f(x: Tensor, y: Tensor) -> Tensor:
        c = F.clip(x, -1.0, 1.0)
        return F.concat(
            [abs(x), F.relu(x), F.maximum(x, y), F.max(y), F.hypot(x, x), c,
             F.distances((x, y), (0.0, 0.0))]
        )  # fmt: skip

    x, y = [0.0, 1.0, -1.0, 0.5], [0.0, 1.0, -1.0, 1.0]  # zeros, ties, the clip's bounds
    r = random.Random(3)
    v = [[r.uniform(-1, 1) for _ in range(4)] for _ in range(2)]
    u = [r.uniform(-1, 1) for _ in range(25)]
    _, jv = jvp(f, (x, y), v)
    _, pullback = vjp(f, (x, y))
    lhs, _ = inner(u, jv)
    rhs = math.fsum(inner(g, w)[0] for g, w in zip(pullback(u), v))
    assert lhs == pytest.approx(rhs, rel=1e-14, abs=1e-15)
    got = values(jv)
    assert got[0] == 0.0 and got[4] == 0.0  # abs and relu at 0: the zero subgradient
    assert got[9] == pytest.approx((v[0][1] + v[1][1]) / 2)  # maximum's tie: half each
    assert got[12] == pytest.approx((v[1][1] + v[1][3]) / 2)  # max's tie: split evenly
    assert got[13] == 0.0 and got[21] == 0.0  # a norm, a distance at the origin
    assert got[18] == pytest.approx(v[0][1])  # clip at its bound passes x's tangent


def test_jvp_equals_the_gradient_dotted_with_the_direction(T: Maker) -> None:
    def f(x: Tensor) -> Tensor:
        return F.logsumexp(x) + F.sum(x * F.tanh(x)) + F.vector_norm(x) ** 1.5

    x, v = T([0.4, -0.2, 1.3, 0.05]), [0.3, 1.0, -0.5, 2.0]
    _, d = jvp(f, (x,), (v,))
    g = grad(f)(x)
    assert d.item() == pytest.approx(inner(g, v)[0], rel=1e-13)


def test_the_jacobian_of_a_vector_function_column_by_column() -> None:
    """n JVPs give the n columns of J; m VJPs its m rows: the same matrix."""

    def f(x: Tensor) -> Tensor:
        return F.concat([F.sin(x) * x[0], F.sum(x * x)])

    x = [0.5, -1.0, 2.0]
    columns = [values(jvp(f, (x,), ([float(i == j) for j in range(3)],))[1]) for i in range(3)]
    _, pullback = vjp(f, (x,))
    rows = [values(pullback([float(i == k) for k in range(4)])[0]) for i in range(4)]
    for i in range(4):
        for j in range(3):
            assert columns[j][i] == pytest.approx(rows[i][j], rel=1e-15, abs=1e-16)


# --------------------------------------------------------------- conventions


def test_sqrt_at_zero_raises_for_a_nonzero_tangent_and_is_zero_otherwise(T: Maker) -> None:
    with pytest.raises(DomainError, match="in the tangent of sqrt"):
        jvp(F.sqrt, (T([0.0, 4.0]),), ([1.0, 0.0],))
    _, d = jvp(F.sqrt, (T([0.0, 4.0]),), ([0.0, 1.0],))
    assert d.tolist() == [0.0, 0.25]  # nothing moves the 0 entry: its tangent is exactly 0
    with pytest.raises(DomainError, match="in the tangent of pow"):
        jvp(lambda x: x**0.5, (0.0,), (1.0,))
    assert jvp(lambda x: x**2.0, (0.0,), (1.0,))[1].item() == 0.0


def test_a_zero_tangent_stays_exactly_zero_where_the_derivative_is_infinite() -> None:
    """The gradient of an unselected branch is 0 even where it overflowed; so is the tangent."""

    def f(x: Tensor) -> Tensor:
        return F.where(x > 0.0, F.sqrt(F.abs(x)), x)

    _, d = jvp(f, ([0.0, 4.0],), ([1.0, 1.0],))
    assert d.tolist() == [1.0, 0.25]


def test_a_function_that_ignores_its_input_has_a_zero_tangent(T: Maker) -> None:
    value, d = jvp(lambda x: Tensor(2.0) * 3.0, (T([1.0, 2.0]),), ([1.0, 1.0],))
    assert value.item() == 6.0 and d.item() == 0.0
    _, d = jvp(lambda x: F.sin(T([1.0, 2.0])), (T([1.0, 2.0]),), ([1.0, 1.0],))
    assert d.tolist() == [0.0, 0.0] and (T.backend == "python" or in_backend(d, T.backend))


def test_several_arguments_and_outputs() -> None:
    def f(x: Tensor, s: Tensor) -> tuple[Tensor, Tensor]:
        return x * s, F.sum(x) * s

    (a, b), (da, db) = jvp(f, ([1.0, 2.0], 3.0), ([1.0, 0.0], 1.0))
    assert a.tolist() == [3.0, 6.0] and b.item() == 9.0
    assert da.tolist() == [4.0, 2.0] and db.item() == 6.0  # s dx + x ds
    same = Tensor([1.0, 2.0])  # one tensor given twice: each occurrence its own tangent
    _, d = jvp(lambda p, q: F.sum(p * q * q), (same, same), ([1.0, 0.0], [0.0, 1.0]))
    assert d.item() == pytest.approx(1.0 + 2 * 2.0 * 2.0)


# -------------------------------------------------------- nesting with reverse mode


def smooth(x: Tensor) -> Tensor:
    return F.sum(F.sin(x) * x) + F.logsumexp(x * x) + F.mean(F.distances((x, x * 0.5), (0.1, 0.2)))


def test_forward_over_reverse_is_the_hessian_vector_product(T: Maker) -> None:
    x, v = [0.3, -0.8, 1.1], [1.0, -2.0, 0.5]
    _, hv = jvp(grad(smooth), (T(x),), (v,))
    rows = hessian(smooth)(x)
    want = [math.fsum(h * w for h, w in zip(row, v)) for row in rows]
    assert hv.tolist() == pytest.approx(want, rel=1e-12)
    assert T.backend == "python" or in_backend(hv, T.backend)
    # through vjp as well
    _, hv2 = jvp(lambda y: vjp(smooth, (y,))[1](1.0)[0], (T(x),), (v,))
    assert hv2.tolist() == pytest.approx(want, rel=1e-12)


def test_reverse_over_forward_and_forward_over_forward() -> None:
    def df(x: Tensor) -> Tensor:  # the derivative of tanh along 1, by forward mode
        return jvp(F.tanh, (x,), (1.0,))[1]

    x = 0.7
    second = 2 * math.tanh(x) * (math.tanh(x) ** 2 - 1)
    assert grad(df)(x).item() == pytest.approx(second, rel=1e-14)
    assert jvp(df, (x,), (1.0,))[1].item() == pytest.approx(second, rel=1e-14)
    third = jvp(lambda y: jvp(df, (y,), (1.0,))[1], (x,), (1.0,))[1].item()
    t = math.tanh(x)
    assert third == pytest.approx(-2 * (1 - t * t) * (1 - 3 * t * t), rel=1e-13)


def test_a_tangent_is_dropped_with_its_tensor() -> None:
    """No graph is kept: a chain of 2000 operations leaves a handful of tangents alive."""
    sizes = []

    def f(x: Tensor) -> Tensor:
        for _ in range(2000):
            x = F.sin(x) * 0.9 + 0.1
        gc.collect()
        sizes.append(len(_ForwardMode.stores[-1]))
        return x

    _, d = jvp(f, ([0.5, 0.2],), ([1.0, 1.0],))
    assert sizes[0] < 10
    assert abs(d.tolist()[0]) < 1.0


def test_the_forward_state_is_restored_after_an_error() -> None:
    with pytest.raises(DomainError):
        jvp(lambda x: F.log(x - 5.0), (1.0,), (1.0,))
    assert _ForwardMode.stores == [] and _ForwardMode.visible == 0
    assert jvp(F.exp, (0.0,), (1.0,))[1].item() == 1.0


# ------------------------------------------------------------------ bad arguments


@pytest.mark.parametrize(
    ("primals", "tangents", "error", "words"),
    [
        (([1.0, 2.0],), ([1.0],), ShapeError, "tangent 0 has shape (1,) but its primal"),
        ((1.0,), ([1.0, 2.0],), ShapeError, "tangent 0 has shape (2,)"),
        (([1.0, 2.0],), (1.0,), ShapeError, "tangent 0 has shape ()"),
        (([1.0, 2.0], 1.0), ([1.0, 2.0],), InputError, "2 primals but 1 tangents"),
        (1.0, 1.0, InputError, "primals must be a tuple"),
        ((1.0,), 1.0, InputError, "tangents must be a tuple"),
        ((1.0,), (math.inf,), InputError, "tangent 0 is not finite"),
    ],
)
def test_bad_arguments_raise_one_clear_error(
    primals: Any, tangents: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as info:
        jvp(F.sum if not isinstance(primals, float) else F.sin, primals, tangents)
    assert words in str(info.value)


def test_a_bad_cotangent_is_one_clear_error() -> None:
    _, pullback = vjp(F.sin, ([1.0, 2.0],))
    with pytest.raises(ShapeError, match="cotangent 0 has shape"):
        pullback([1.0])
    _, pullback = vjp(lambda x: (F.sin(x), F.sum(x)), ([1.0, 2.0],))
    with pytest.raises(InputError, match="give a tuple of cotangents"):
        pullback([1.0, 1.0])
    with pytest.raises(InputError, match="1 cotangents for 2 outputs"):
        pullback(([1.0, 1.0],))
    with pytest.raises(InputError, match="primals must be a tuple"):
        vjp(F.sin, 1.0)


def test_jvp_and_vjp_are_exported_lazily() -> None:
    assert geograd.jvp is jvp and geograd.vjp is vjp
    assert "jvp" in geograd.__all__ and "vjp" in geograd.__all__
