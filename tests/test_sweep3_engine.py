"""Sweep 3, the engine's items: 7 (the Hessian of a norm at the origin), 9 (every
primitive documents itself; what ``F.norm`` of one vector is), 10 (``jvp``/``vjp`` given
x where ``(x,)`` was meant) and 14 (``gradcheck`` of a non-scalar f is a ShapeError).
"""

from __future__ import annotations

import math
import pydoc
from collections.abc import Callable
from typing import Any

import pytest

import geograd
import geograd.functional as F
from geograd import Tensor, grad, hessian, hvp, jvp, vjp
from geograd.check import GradcheckError, gradcheck, three_way_check
from geograd.errors import DivisionByZeroError, DomainError, InputError, ShapeError
from geograd.functional import Primitive

# ------------------------------------------- 7. a norm has no Hessian at the origin

# (the name the error gives, f of one 1-D x, a point of its own dimension)
NORMS: list[tuple[str, Callable[[Tensor], Tensor], int]] = [
    ("norm", lambda x: F.hypot(x[0], x[1]), 2),
    ("norm", lambda x: F.norm(x[0], x[1], x[2]), 3),
    ("norm", lambda x: F.sum(F.norm(x, 2.0 * x)), 2),  # 1-D coordinates
    ("vector_norm", F.vector_norm, 3),
]
NORM_IDS = ["hypot", "norm-3", "norm-1d", "vector_norm"]


@pytest.mark.parametrize(("name", "f", "dim"), NORMS, ids=NORM_IDS)
def test_the_hessian_of_a_norm_at_the_origin_raises_naming_it(
    name: str, f: Callable[[Tensor], Tensor], dim: int
) -> None:
    # as the Hessian of sqrt(sum(x * x)) does, naming sqrt: not a silent matrix of zeros
    with pytest.raises(DivisionByZeroError, match=f"^{name}.*no second derivative"):
        hessian(f)([0.0] * dim)
    with pytest.raises(DivisionByZeroError, match="sqrt"):
        hessian(lambda x: F.sqrt(F.sum(x * x)))([0.0] * dim)


@pytest.mark.parametrize(("name", "f", "dim"), NORMS, ids=NORM_IDS)
def test_the_gradient_at_the_origin_keeps_its_subgradient_zero(
    name: str, f: Callable[[Tensor], Tensor], dim: int
) -> None:
    assert grad(f)([0.0] * dim).tolist() == [0.0] * dim
    assert jvp(f, ([0.0] * dim,), ([1.0] * dim,))[1].item() == 0.0  # forward mode alike


@pytest.mark.parametrize(("name", "f", "dim"), NORMS, ids=NORM_IDS)
def test_every_mode_of_second_derivative_raises_at_the_origin(
    name: str, f: Callable[[Tensor], Tensor], dim: int
) -> None:
    origin, e1 = [0.0] * dim, [1.0] + [0.0] * (dim - 1)
    with pytest.raises(DomainError, match=name):  # forward over reverse
        jvp(grad(f), (origin,), (e1,))
    with pytest.raises(DomainError, match=name):  # reverse over reverse, H v
        hvp(f)(origin, e1)
    with pytest.raises(DomainError, match=name):  # forward over forward
        jvp(lambda x: jvp(f, (x,), (e1,))[1], (origin,), (e1,))
    with pytest.raises(DomainError, match=name):  # reverse over forward
        grad(lambda x: jvp(f, (x,), (e1,))[1])(origin)
    # a zero direction is no second derivative: nothing to raise
    assert jvp(grad(f), (origin,), ([0.0] * dim,))[1].tolist() == [0.0] * dim
    assert hvp(f)(origin, [0.0] * dim).tolist() == [0.0] * dim


def test_the_hessian_away_from_the_origin_is_the_formula() -> None:
    # (I - u uᵀ)/r, whatever the mode
    x = [0.3, -0.4, 1.2]
    r = math.hypot(*x)
    want = [[((i == j) - x[i] * x[j] / r**2) / r for j in range(3)] for i in range(3)]
    for f in (F.vector_norm, lambda x: F.norm(x[0], x[1], x[2])):
        for got, row in zip(hessian(f)(x), want):
            assert got == pytest.approx(row, rel=1e-13, abs=1e-15)
        for j in range(3):
            e = [float(i == j) for i in range(3)]
            column = jvp(grad(f), (x,), (e,))[1].tolist()
            assert column == pytest.approx([row[j] for row in want], rel=1e-13, abs=1e-15)


def test_one_coordinate_is_a_plain_kink_as_abs() -> None:
    # |x| is linear on each side: its second derivative is 0 nearby, and abs's convention
    # (0 at the kink) holds for norm of one coordinate and vector_norm of one entry
    for f in (lambda x: F.sum(F.norm(x)), F.vector_norm, lambda x: F.sum(abs(x))):
        assert hessian(f)([0.0]) == [[0.0]]
        assert hessian(f)([-2.0]) == [[0.0]]
        assert grad(f)([-2.0]).tolist() == [-1.0]
        assert grad(f)([0.0]).tolist() == [0.0]


def test_the_median_gradient_at_a_data_point_is_unchanged() -> None:
    # a sum of distances: the zero-distance term gives its subgradient 0, fused or not
    xs, ys = Tensor([0.0, 3.0, 0.0]), Tensor([0.0, 0.0, 4.0])
    unfused = grad(lambda p: F.mean(F.hypot(xs - p[0], ys - p[1])))([0.0, 0.0]).tolist()
    fused = grad(lambda p: F.mean(F.distances((xs, ys), p)))([0.0, 0.0]).tolist()
    assert unfused == fused == pytest.approx([-1.0 / 3.0, -1.0 / 3.0], rel=1e-15)


def test_over_norm_is_a_tested_row_of_the_table() -> None:
    # the derivative of the norms: a/r, 0 where r = 0; its JVP and VJP against central
    # differences away from r = 0 (as tests/test_forward.py checks every row)
    a0, r0 = [0.3, -1.2, 0.7], [0.5, 1.3, 2.2]
    v, w = [0.2, 0.7, -0.4], [-0.3, 0.1, 0.9]

    def f(a: Any, r: Any) -> Tensor:
        return F.over_norm(a, r, of="norm")

    def at(h: float) -> list[float]:
        a = [x + h * t for x, t in zip(a0, v)]
        return f(Tensor(a), Tensor([x + h * t for x, t in zip(r0, w)])).tolist()

    h = 1e-6
    numeric = [(p - m) / (2 * h) for p, m in zip(at(h), at(-h))]
    value, tangent = jvp(f, (a0, r0), (v, w))
    assert value.tolist() == [x / y for x, y in zip(a0, r0)]
    assert tangent.tolist() == pytest.approx(numeric, rel=1e-7)
    u = [1.0, -2.0, 0.5]
    ga, gr = vjp(f, (a0, r0))[1](u)
    adjoint = sum(x * y for x, y in zip(ga.tolist(), v)) + sum(
        x * y for x, y in zip(gr.tolist(), w)
    )
    assert adjoint == pytest.approx(sum(x * y for x, y in zip(u, tangent.tolist())), rel=1e-13)
    assert f(Tensor([0.0, 1.0]), Tensor([0.0, 2.0])).tolist() == [0.0, 0.5]


# ------------------------------------------------- 9. every primitive has its docstring


def primitives() -> list[Primitive]:
    return [p for p in vars(F).values() if isinstance(p, Primitive)]


def test_every_primitive_has_its_own_docstring_for_help() -> None:
    for p in primitives():
        doc = p.__doc__ or ""
        assert doc and doc != Primitive.__doc__, p.name
        assert "∂" in doc or "gradient" in doc.lower(), p.name  # its derivative too
        shown = pydoc.render_doc(p, renderer=pydoc.plaintext)
        assert doc.splitlines()[0] in shown, p.name
        assert repr(p) == f"<primitive {p.name}>"


def test_help_on_norm_says_it_is_not_torch_norm() -> None:
    shown = pydoc.render_doc(F.norm, renderer=pydoc.plaintext)
    assert "torch.norm" in shown and "F.vector_norm(x)" in shown
    assert "no second derivative" in shown


def test_norm_of_one_vector_stays_elementwise_as_documented() -> None:
    # coordinates, not one vector: generic code norm(*coords) relies on d = 1 (|x|)
    assert F.norm(Tensor([3.0, -4.0])).tolist() == [3.0, 4.0]
    assert F.vector_norm(Tensor([3.0, -4.0])).item() == 5.0


# ----------------------------------------- 10. jvp/vjp given x where (x,) was meant


def test_jvp_and_vjp_of_one_vector_given_as_numbers_say_to_write_a_tuple() -> None:
    def f(x: Tensor) -> Tensor:
        return F.sum(x * x)

    x, v = [0.3, -0.7, 1.1], [1.0, 0.0, 0.0]
    with pytest.raises(
        InputError, match=r"^jvp: primals holds 3 numbers.*jvp\(f, \(x,\), \(v,\)\)"
    ):
        jvp(f, x, v)
    with pytest.raises(InputError, match=r"^vjp: primals holds 3 numbers.*vjp\(f, \(x,\)\)"):
        vjp(f, x)
    # the tuple works, and so do several numbers for f of several arguments
    assert jvp(f, (x,), (v,))[1].item() == pytest.approx(0.6)
    value, tangent = jvp(lambda a, b: a * b, (2.0, 3.0), (1.0, 0.0))
    assert (value.item(), tangent.item()) == (6.0, 3.0)
    assert [g.item() for g in vjp(lambda a, b: a * b, [2.0, 3.0])[1](1.0)] == [3.0, 2.0]
    assert jvp(lambda *xs: F.sum(F.concat(list(xs))), (1.0, 2.0), (1.0, 1.0))[1].item() == 2.0


# ------------------------------------------ 14. gradcheck's shape mistake is a ShapeError


def test_gradcheck_of_a_non_scalar_f_raises_shape_error_as_grad_does() -> None:
    x = Tensor([0.1, 0.2], requires_grad=True)
    with pytest.raises(ShapeError, match="gradcheck: f must return a 0-D tensor") as caught:
        gradcheck(lambda x: F.sin(x), [x])
    assert not isinstance(caught.value, (GradcheckError, AssertionError))
    with pytest.raises(ShapeError, match="0-D"):
        geograd.grad(lambda x: F.sin(x))([0.1, 0.2])
    with pytest.raises(ShapeError, match="three_way_check"):
        three_way_check(lambda x: F.sin(x), lambda x: x, [0.1, 0.2])
    # a real mismatch is still a GradcheckError
    with pytest.raises(GradcheckError, match="input 0, element 0"):
        gradcheck(lambda x: F.sum(F.relu(x)), [[0.0, 1.0]])
