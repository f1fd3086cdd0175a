"""Layer 1: the standard-library float array and the math on it (no gradients here)."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest

from geograd import floatarray as fa
from geograd.errors import (
    DivisionByZeroError,
    DomainError,
    FloatOverflowError,
    GeogradError,
    ShapeError,
)
from geograd.floatarray import FloatArray

# ------------------------------------------------------------------ construction


def test_construction_converts_to_float_and_copies() -> None:
    source = [1, 2.5, -3]
    a = FloatArray(source)
    source.append(4)
    assert a.tolist() == [1.0, 2.5, -3.0]
    assert all(type(v) is float for v in a)
    assert len(a) == 3
    assert a.shape == (3,)
    assert FloatArray().tolist() == []


def test_wrap_adopts_the_list_without_copying() -> None:
    values = [1.0, 2.0]
    a = FloatArray.wrap(values)
    values.append(3.0)
    assert len(a) == 3


def test_tolist_returns_a_new_list() -> None:
    a = FloatArray([1.0, 2.0])
    out = a.tolist()
    out.append(99.0)
    assert a.tolist() == [1.0, 2.0]


def test_repr_shows_short_arrays_whole_and_long_ones_abbreviated() -> None:
    assert repr(FloatArray([1.0, 2.0])) == "FloatArray([1.0, 2.0])"
    long = repr(FloatArray(range(100)))
    assert "0.0, 1.0, 2.0" in long
    assert "97.0, 98.0, 99.0" in long
    assert "n=100" in long
    assert "50.0" not in long


def test_equality_with_arrays_and_lists_and_unhashable() -> None:
    assert FloatArray([1.0, 2.0]) == FloatArray([1, 2])
    assert FloatArray([1.0, 2.0]) == [1.0, 2.0]
    assert FloatArray([1.0, 2.0]) == (1.0, 2.0)
    assert FloatArray([1.0, 2.0]) != [2.0, 1.0]
    assert FloatArray([1.0]) != "x"
    with pytest.raises(TypeError):
        hash(FloatArray([1.0]))


# ------------------------------------------------------------------ to_data


def test_to_data_numbers_and_sequences() -> None:
    assert fa.to_data(3) == 3.0 and type(fa.to_data(3)) is float
    assert fa.to_data(2.5) == 2.5
    out = fa.to_data([1, 2.0, Fraction(1, 4)])
    assert isinstance(out, FloatArray) and out.tolist() == [1.0, 2.0, 0.25]
    assert fa.to_data(Decimal("1.5")) == 1.5  # anything with __float__
    assert fa.to_data(x for x in (1.0, 2.0)) == [1.0, 2.0]
    original = FloatArray([1.0])
    copied = fa.to_data(original)
    assert copied == original and copied is not original


@pytest.mark.parametrize("bad", ["abc", b"ab", [[1.0, 2.0]], [1.0, "2"], {"a": 1}.items(), None])
def test_to_data_refuses_strings_nesting_and_non_numbers(bad: object) -> None:
    with pytest.raises(TypeError):
        fa.to_data(bad)


def test_to_data_refuses_nan_naming_the_index() -> None:
    with pytest.raises(DomainError, match="NaN"):
        fa.to_data(float("nan"))
    with pytest.raises(DomainError, match="index 2"):
        fa.to_data([1.0, 2.0, float("nan")])


# ------------------------------------------------------------------ arithmetic


def test_elementwise_arithmetic_and_broadcasting_both_ways() -> None:
    a = FloatArray([1.0, 2.0, 4.0])
    b = FloatArray([2.0, 8.0, 0.5])
    assert (a + b).tolist() == [3.0, 10.0, 4.5]
    assert (a - b).tolist() == [-1.0, -6.0, 3.5]
    assert (a * b).tolist() == [2.0, 16.0, 2.0]
    assert (a / b).tolist() == [0.5, 0.25, 8.0]
    assert (a**b).tolist() == [1.0, 256.0, 2.0]
    assert (a + 1.0).tolist() == [2.0, 3.0, 5.0]
    assert (1.0 + a).tolist() == [2.0, 3.0, 5.0]
    assert (a - 1.0).tolist() == [0.0, 1.0, 3.0]
    assert (1.0 - a).tolist() == [0.0, -1.0, -3.0]
    assert (2.0 * a).tolist() == [2.0, 4.0, 8.0]
    assert (a / 2.0).tolist() == [0.5, 1.0, 2.0]
    assert (4.0 / a).tolist() == [4.0, 2.0, 1.0]
    assert (a**2.0).tolist() == [1.0, 4.0, 16.0]
    assert (2.0**a).tolist() == [2.0, 4.0, 16.0]
    assert (-a).tolist() == [-1.0, -2.0, -4.0]
    assert abs(FloatArray([-1.0, 0.0, 2.0])).tolist() == [1.0, 0.0, 2.0]
    # 0-D with 0-D stays a float
    assert fa.add(1.0, 2.0) == 3.0 and type(fa.add(1.0, 2.0)) is float


@pytest.mark.parametrize(
    "fn", [fa.add, fa.sub, fa.mul, fa.div, fa.power, fa.maximum, fa.minimum, fa.hypot]
)
def test_unequal_lengths_raise_shape_error_naming_both_shapes(fn: object) -> None:
    with pytest.raises(ShapeError) as info:
        fn(FloatArray([1.0, 2.0, 3.0]), FloatArray([1.0, 2.0]))  # type: ignore[operator]
    message = str(info.value)
    assert "(3,)" in message and "(2,)" in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, GeogradError)


def test_math_functions_match_the_math_module() -> None:
    xs = [0.25, 0.5, 1.5, 3.0]
    a = FloatArray(xs)
    for fn, ref in [
        (fa.exp, math.exp),
        (fa.log, math.log),
        (fa.sqrt, math.sqrt),
        (fa.sin, math.sin),
        (fa.cos, math.cos),
        (fa.tan, math.tan),
        (fa.tanh, math.tanh),
    ]:
        assert fn(a).tolist() == [ref(x) for x in xs]  # type: ignore[union-attr]
        assert fn(0.75) == ref(0.75)
    assert fa.sign(FloatArray([-2.0, 0.0, 3.0])).tolist() == [-1.0, 0.0, 1.0]
    assert fa.hypot(3.0, 4.0) == 5.0
    assert fa.hypot(FloatArray([3.0, 5.0]), 4.0).tolist() == [5.0, math.hypot(5.0, 4.0)]
    assert fa.hypot(1.0, 2.0, 2.0) == 3.0


def test_sigmoid_and_softplus_are_exact_and_never_overflow() -> None:
    for x in (-3.0, -0.5, 0.0, 0.5, 3.0):
        assert fa.sigmoid(x) == pytest.approx(1.0 / (1.0 + math.exp(-x)), rel=1e-15)
        assert fa.softplus(x) == pytest.approx(math.log1p(math.exp(x)), rel=1e-15)
    assert fa.sigmoid(-1000.0) == 0.0
    assert fa.sigmoid(1000.0) == 1.0
    assert fa.softplus(1000.0) == 1000.0
    assert fa.softplus(-1000.0) == 0.0
    # log(1 + e^-40) is about e^-40: the tiny value must survive, not round to 0
    assert fa.softplus(-40.0) == pytest.approx(math.exp(-40.0), rel=1e-12)


def test_domain_errors_name_the_function_the_value_and_the_index() -> None:
    with pytest.raises(DomainError, match=r"log\(-1\.0\)"):
        fa.log(-1.0)
    with pytest.raises(DomainError, match=r"log\(0\.0\).*index 1"):
        fa.log(FloatArray([1.0, 0.0, -1.0]))
    with pytest.raises(DomainError, match=r"sqrt\(-2\.0\).*index 2"):
        fa.sqrt(FloatArray([1.0, 4.0, -2.0]))
    with pytest.raises(DomainError, match=r"pow\(-8\.0, 0\.5\)"):
        fa.power(-8.0, 0.5)
    with pytest.raises(ValueError):  # a DomainError is a ValueError
        fa.sqrt(-1.0)


def test_division_by_zero_is_a_domain_error_and_a_zero_division_error() -> None:
    with pytest.raises(DivisionByZeroError, match="index 1") as info:
        fa.div(FloatArray([1.0, 2.0]), FloatArray([1.0, 0.0]))
    assert isinstance(info.value, ZeroDivisionError)
    assert isinstance(info.value, DomainError)


def test_divide_no_nan_gives_zero_for_a_zero_divisor() -> None:
    assert fa.divide_no_nan(1.0, 0.0) == 0.0
    assert fa.divide_no_nan(1.0, 4.0) == 0.25
    assert fa.divide_no_nan(FloatArray([1.0, 2.0, 3.0]), FloatArray([2.0, 0.0, 3.0])) == [
        0.5,
        0.0,
        1.0,
    ]


def test_overflow_in_math_functions_raises_float_overflow_error() -> None:
    with pytest.raises(FloatOverflowError, match=r"exp\(1000\.0\)") as info:
        fa.exp(1000.0)
    assert isinstance(info.value, OverflowError)
    with pytest.raises(FloatOverflowError, match="index 1"):
        fa.exp(FloatArray([1.0, 800.0]))
    with pytest.raises(FloatOverflowError):
        fa.power(10.0, 400.0)


def test_arithmetic_overflow_follows_ieee_754() -> None:
    # documented: + - * / give ±inf on overflow (like numpy); is_finite tells
    assert fa.mul(1e308, 10.0) == math.inf
    assert fa.mul(FloatArray([1.0, -1e308]), 10.0).tolist() == [10.0, -math.inf]
    assert not fa.is_finite(fa.mul(FloatArray([1.0, 1e308]), 10.0))
    assert fa.is_finite(FloatArray([1.0, 1e308, 1e308]))  # the sum overflows, the values do not
    assert fa.is_finite(2.0) and not fa.is_finite(math.inf)


# ------------------------------------------------------------------ comparisons, where, clip


def test_compare_returns_bools_and_lists_of_bools() -> None:
    import operator

    assert fa.compare(operator.lt, 1.0, 2.0) is True
    assert fa.compare(operator.gt, FloatArray([1.0, 3.0]), 2.0) == [False, True]
    assert fa.compare(operator.le, 2.0, FloatArray([1.0, 2.0])) == [False, True]
    with pytest.raises(ShapeError):
        fa.compare(operator.lt, FloatArray([1.0]), FloatArray([1.0, 2.0]))


def test_where_with_bool_and_mask_and_broadcasting() -> None:
    a, b = FloatArray([1.0, 2.0, 3.0]), FloatArray([10.0, 20.0, 30.0])
    assert fa.where([True, False, True], a, b) == [1.0, 20.0, 3.0]
    assert fa.where([True, False, True], 0.0, b) == [0.0, 20.0, 0.0]
    assert fa.where([True, False], 1.0, 2.0) == [1.0, 2.0]
    assert fa.where(True, 1.0, 2.0) == 1.0
    assert fa.where(False, a, 0.0) == [0.0, 0.0, 0.0]
    with pytest.raises(ShapeError):
        fa.where([True, False], a, b)


def test_clip() -> None:
    assert fa.clip(FloatArray([-2.0, 0.5, 3.0]), -1.0, 1.0) == [-1.0, 0.5, 1.0]
    assert fa.clip(5.0, 0.0, 1.0) == 1.0
    assert fa.clip(-5.0, 0.0, 1.0) == 0.0


# ------------------------------------------------------------------ reductions


def test_total_is_correctly_rounded() -> None:
    assert fa.total(FloatArray([1e16, 1.0, -1e16])) == 1.0
    assert fa.total(FloatArray([0.1] * 10)) == 1.0
    assert fa.total(2.5) == 2.5
    assert fa.total(FloatArray([])) == 0.0


def test_total_overflow_and_infinities_raise_geograd_errors() -> None:
    with pytest.raises(FloatOverflowError):
        fa.total(FloatArray([1e308, 1e308]))
    with pytest.raises(DomainError, match="inf"):
        fa.total(FloatArray([math.inf, -math.inf]))
    assert fa.total(FloatArray([math.inf, 1.0])) == math.inf


def test_total_refuses_nan_made_by_arithmetic_on_infinities() -> None:
    nan_inside = fa.sub(FloatArray([1.0, math.inf]), FloatArray([1.0, math.inf]))
    with pytest.raises(DomainError, match="NaN"):
        fa.total(nan_inside)


def test_amax_amin_and_empty_arrays() -> None:
    a = FloatArray([3.0, -1.0, 7.0, 7.0])
    assert fa.amax(a) == 7.0 and fa.amin(a) == -1.0
    assert fa.amax(2.0) == 2.0 and fa.amin(2.0) == 2.0
    with pytest.raises(ShapeError, match="empty"):
        fa.amax(FloatArray([]))
    with pytest.raises(ShapeError, match="empty"):
        fa.amin(FloatArray([]))


def test_count_full_broadcast_to() -> None:
    assert fa.count([True, False, True]) == 2
    assert fa.count(True) == 1 and fa.count(False) == 0
    assert fa.full(3, 2) == [2.0, 2.0, 2.0]
    assert fa.broadcast_to(2.0, (3,)) == [2.0, 2.0, 2.0]
    assert fa.broadcast_to(2.0, ()) == 2.0
    assert fa.broadcast_to(FloatArray([1.0, 2.0]), (2,)) == [1.0, 2.0]
    with pytest.raises(ShapeError, match=r"\(2,\)"):
        fa.broadcast_to(FloatArray([1.0, 2.0]), (3,))
    with pytest.raises(ShapeError):
        fa.broadcast_to(FloatArray([1.0, 2.0]), ())


# ------------------------------------------------------------------ indexing


def test_take_by_int_negative_slice_and_list() -> None:
    a = FloatArray([10.0, 11.0, 12.0, 13.0])
    assert a[0] == 10.0 and type(a[0]) is float
    assert a[-1] == 13.0
    assert a[1:3] == [11.0, 12.0]
    assert a[::-2] == [13.0, 11.0]
    assert a[[3, 0, -1, 0]] == [13.0, 10.0, 13.0, 10.0]
    with pytest.raises(IndexError, match="out of range"):
        a[4]
    with pytest.raises(IndexError):
        a[[0, -5]]
    with pytest.raises(IndexError):
        fa.take(1.0, 0)


def test_scatter_is_the_adjoint_of_take() -> None:
    # <take(x, i), g> == <x, scatter(g, i, n)> for every kind of index
    x = FloatArray([1.0, 2.0, 3.0, 4.0, 5.0])
    for index, g in [
        (2, 7.0),
        (-1, 7.0),
        (slice(1, 4), FloatArray([1.0, -2.0, 3.0])),
        (slice(None, None, -2), FloatArray([1.0, 2.0, 3.0])),
        ([0, 0, -1, 3], FloatArray([1.0, 2.0, 3.0, 4.0])),
    ]:
        lhs = fa.total(fa.mul(fa.take(x, index), g))
        rhs = fa.total(fa.mul(x, fa.scatter(g, index, len(x))))
        assert lhs == rhs
    assert fa.scatter(FloatArray([1.0, 2.0]), [1, 1], 3) == [0.0, 3.0, 0.0]


def test_concat_and_shape_of() -> None:
    out = fa.concat([1.0, FloatArray([2.0, 3.0]), 4.0, FloatArray([])])
    assert out == [1.0, 2.0, 3.0, 4.0]
    assert fa.shape_of(out) == (4,)
    assert fa.shape_of(1.0) == ()


# ------------------------------------------------------------ blocked summation


def test_blocked_total_is_within_its_error_bound_of_the_exact_sum() -> None:
    r = random.Random(11)
    for n in (1, 127, 128, 129, 1000, 100_003):
        values = [r.uniform(-1.0, 1.0) * 10 ** r.randint(-3, 3) for _ in range(n)]
        exact = math.fsum(values)
        bound = (fa.BLOCK - 1) * 2.0**-53 * math.fsum(abs(v) for v in values)
        assert abs(fa.blocked_total(FloatArray(values)) - exact) <= bound


def test_blocked_total_is_exact_across_blocks_and_faithful_on_errors() -> None:
    # one huge value per block cancels exactly, because the block sums are added by fsum
    values = [1e16] + [0.0] * (fa.BLOCK - 1) + [1.0] + [0.0] * (fa.BLOCK - 1) + [-1e16]
    assert fa.blocked_total(FloatArray(values)) == 1.0
    assert fa.blocked_total(FloatArray([math.inf, 1.0])) == math.inf
    with pytest.raises(FloatOverflowError):
        fa.blocked_total(FloatArray([1e308, 1e308]))
    with pytest.raises(DomainError, match="inf and -inf"):
        fa.blocked_total(FloatArray([math.inf, -math.inf]))
    assert fa.blocked_total(2.5) == 2.5
