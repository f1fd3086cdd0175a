"""Data given in code (``from_points``, the lifecycle's ``given``): every bad input is one
InputError of one line that names the problem, the argument and the place (``points[1][0]``,
``weights[2]``, ``target[0]``) and says what to give; never a raw ValueError/TypeError
from deep inside (``from_points(..., weights=['a', 1, 1])`` was a ValueError of float())."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from geograd.errors import InputError
from geograd.problems.circle_fit import CircleFit
from geograd.problems.enclosing_circle import EnclosingCircle
from geograd.problems.median import GeometricMedian, GeometricMedianCore
from geograd.problems.registration import Registration
from geograd.problems.trilateration import Trilateration

TRIANGLE = [[0, 0], [1, 0], [0, 1]]
SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]

#: name, builder from the bad points, the argument the messages name
BUILDERS: list[tuple[str, Callable[[Any], Any], str]] = [
    ("median", lambda p: GeometricMedian.from_points(p), "points"),
    ("median", lambda p: GeometricMedian.from_points(p, backend="numpy"), "points"),
    ("median", lambda p: GeometricMedianCore.from_points(p), "points"),
    ("circle-fit", lambda p: CircleFit.from_points(p), "points"),
    ("registration", lambda p: Registration.from_points(p, SQUARE), "source"),
    ("registration", lambda p: Registration.from_points(SQUARE, p), "target"),
    ("enclosing-circle", lambda p: EnclosingCircle.from_points(p), "points"),
]

#: bad points, and what the message says after the problem's name ({a}: the argument)
BAD_POINTS: list[tuple[Any, str]] = [
    (None, "{a} is None, not rows of numbers; give the {a} as rows of numbers"),
    (5, "{a} is the number 5, not rows of numbers; give the {a} as rows of numbers"),
    ("abc", "{a} is the string 'abc', not rows of numbers"),
    ({"x": 1}, "{a} is a dict, not rows of numbers"),
    ([1, 2, 3, 4], "{a}[0] is the number 1, not a row of numbers; give the {a} as rows of numbers"),
    (["ab", "cd", "ef", "gh"], "{a}[0] is the string 'ab', not a row of numbers"),
    ([[0, 0], [1, 0], ["a", "b"], [0, 1]], "{a}[2][0] is the string 'a', not a number; give "
     "each coordinate as an int or a float"),
    ([[0, 0], [1, "1.5"], [1, 1], [0, 1]], "{a}[1][1] is the string '1.5', not a number"),
    ([[0, 0], [1, 0], [1, 1j], [0, 1]], "{a}[2][1] is the complex number 1j, not a real number"),
    ([[0, 0], [True, 0], [1, 1], [0, 1]], "{a}[1][0] is the bool True, not a number"),
    ([[0, 0], [1, 0], [1, None], [0, 1]], "{a}[2][1] is None, not a number"),
    ([[0, 0], [1, 0], [1, 10**400], [0, 1]], "{a}[2][1] is an integer beyond the largest float"),
    ([[0, 0], [1, 0], [1, math.nan], [0, 1]], "{a}[2][1] is nan; the "),
    ([[0, 0], [-math.inf, 0], [1, 1], [0, 1]], "{a}[1][0] is -inf; the "),
]  # fmt: skip


@pytest.mark.parametrize(("name", "build", "arg"), BUILDERS)
@pytest.mark.parametrize(("points", "words"), BAD_POINTS)
def test_bad_points_given_in_code_are_one_located_input_error(
    name: str, build: Callable[[Any], Any], arg: str, points: Any, words: str
) -> None:
    with pytest.raises(InputError) as info:
        build(points)
    message = str(info.value)
    assert type(info.value) is InputError  # not a ValueError/TypeError from deep inside
    assert message.startswith(f"{name}: ") and "\n" not in message
    assert words.format(a=arg) in message


def test_non_finite_points_say_they_must_be_finite() -> None:
    with pytest.raises(InputError, match=r"^circle-fit: points\[1\]\[0\] is nan; the points "
                       r"must be finite numbers$"):  # fmt: skip
        CircleFit.from_points([[0, 0], [math.nan, 1], [1, 0]])
    with pytest.raises(InputError, match=r"^registration: target\[0\]\[1\] is inf; the point "
                       r"pairs must be finite numbers$"):  # fmt: skip
        Registration.from_points(SQUARE, [[0, math.inf], *SQUARE[1:]])


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: GeometricMedian.from_points([[0, 0], [1, 2, 3]]),
         "median: points[1] has 3 coordinates, points[0] has 2: points of different dimensions"),
        (lambda: CircleFit.from_points([[0, 0], [1, 0, 2], [0, 1]]),
         "circle-fit: points[1] has 3 coordinates: each point needs 2 coordinates"),
        (lambda: Registration.from_points(SQUARE, [[0, 0], [1, 0], [1, 1, 1], [0, 1]]),
         "registration (given): target[2] has 3 coordinates; each target point needs 2"),
        (lambda: GeometricMedian.from_points([[], []]), "median: points[0] is empty; give the "
         "points as rows of numbers"),
        (lambda: Trilateration.from_anchors([[0, 0, 0, 0]] * 5, [1] * 5),
         "trilateration: anchors[0] has 4 coordinates: anchors must all have 2 or all have 3"),
    ],
)  # fmt: skip
def test_rows_of_the_wrong_length_name_the_row(build: Callable[[], Any], words: str) -> None:
    with pytest.raises(InputError) as info:
        build()
    assert str(info.value).startswith(words) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: CircleFit.from_points([]),
         "circle-fit (given): no points; give at least 3 points"),
        (lambda: CircleFit.from_points([[0, 0], [1, 0]]),
         "circle-fit (given): only 2 points; give at least 3 points"),
        (lambda: Registration.from_points([], []),
         "registration (given): no point pairs; give at least 2 point pairs"),
        (lambda: Registration.from_points([[0, 0]], [[1, 1]]),
         "registration (given): only 1 point pair; give at least 2 point pairs"),
        (lambda: GeometricMedian.from_points([]), "median: no points; give at least one point"),
        (lambda: EnclosingCircle.from_points([]),
         "enclosing-circle (given): no points; give at least one point"),
    ],
)  # fmt: skip
def test_too_few_points_state_the_real_minimum(build: Callable[[], Any], words: str) -> None:
    """Circle-fit needs 3 points and registration 2 pairs: "give at least one point" was
    wrong for both."""
    with pytest.raises(InputError) as info:
        build()
    assert str(info.value) == words


@pytest.mark.parametrize("backend", ["python", "numpy"])
@pytest.mark.parametrize(
    ("weights", "words"),
    [
        (["a", 1, 1], "median: weights[0] is the string 'a', not a number; give each weight as "
         "an int or a float"),
        ([1, 1j, 1], "median: weights[1] is the complex number 1j, not a real number"),
        ([1, 1, None], "median: weights[2] is None, not a number"),
        ([[1], [1], [1]], "median: weights[0] is [1] (a list), not a number"),
        ([True, 1, 1], "median: weights[0] is the bool True, not a number"),
        (np.array([True, False, True]), "median: weights[0] is the bool True, not a number"),
        (3, "median: weights is the number 3, not a list of numbers; give one weight per point"),
        ("abc", "median: weights is the string 'abc', not a list of numbers"),
        ([1, 1], "median: 2 weights for 3 points; give one weight per point"),
        ([1, 1, 1, 1], "median: 4 weights for 3 points; give one weight per point"),
        ([1, -2, 1], "median: weights[1] is -2, negative; weights must be finite, >= 0, not "
         "all 0"),
        (np.array([1.0, -2.0, 1.0]), "median: weights[1] is -2, negative; weights must be"),
        ([1, math.nan, 1], "median: weights[1] is nan, not finite; weights must be finite"),
        (np.array([1.0, 1.0, math.inf]), "median: weights[2] is inf, not finite"),
        ([0, 0, 0], "median: all 3 weights are 0; weights must be finite, >= 0, not all 0 (give "
         "one a positive weight)"),
        (np.zeros(3), "median: all 3 weights are 0"),
    ],
)  # fmt: skip
def test_bad_weights_are_one_located_input_error(backend: str, weights: Any, words: str) -> None:
    with pytest.raises(InputError) as info:
        GeometricMedian.from_points(TRIANGLE, weights=weights, backend=backend)
    assert type(info.value) is InputError and "\n" not in str(info.value)
    assert str(info.value).startswith(words)


@pytest.mark.parametrize(
    ("ranges", "words"),
    [
        (None, "trilateration: ranges is None, not a list of numbers; give one range per anchor"),
        (["a", 1, 1], "trilateration: ranges[0] is the string 'a', not a number"),
        ([1, 1], "trilateration: 2 ranges for 3 anchors; give one range per anchor"),
        ([1, math.nan, 1], "trilateration: ranges[1] is nan; the ranges must be finite numbers"),
    ],
)  # fmt: skip
def test_numbers_per_point_are_checked_once_for_every_problem(ranges: Any, words: str) -> None:
    """The lifecycle checks the per-point extras (trilateration's ranges) as it checks weights."""
    with pytest.raises(InputError) as info:
        Trilateration.from_anchors(TRIANGLE, ranges)
    assert str(info.value).startswith(words)


def test_arrays_of_numbers_are_still_taken_and_arrays_of_other_things_refused() -> None:
    ints = np.array(TRIANGLE)
    p = GeometricMedian.from_points(ints, weights=np.array([1, 2, 3]), backend="numpy")
    assert p.columns.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert p.weights.tolist() == [1.0, 2.0, 3.0]
    q = GeometricMedian.from_points(ints.astype(np.float32), weights=(1, 2, 3))
    assert q.columns == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] and q.weights == [1.0, 2.0, 3.0]
    c = CircleFit.from_points(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    assert c.xs == [1.0, 0.0, -1.0]
    for dtype, words in ((bool, "the bool False"), (complex, "the complex number 0j"),
                         (str, "the string '0'")):  # fmt: skip
        for backend in ("python", "numpy"):
            with pytest.raises(InputError, match=rf"^median: points\[0\]\[0\] is {words}, not"):
                GeometricMedian.from_points(ints.astype(dtype), backend=backend)
    bad = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, np.nan]])
    with pytest.raises(InputError, match=r"^median: points\[2\]\[1\] is nan; the points must"):
        GeometricMedian.from_points(bad, backend="numpy")
    with pytest.raises(InputError, match=r"^median: points is the number 3.0, not rows"):
        GeometricMedian.from_points(np.array(3.0))


def test_good_data_given_in_code_round_trip_unchanged() -> None:
    """The checks change nothing the data are: rows of ints, tuples, a generator."""
    m = GeometricMedian.from_points(((0, 0), (2, 0), (0, 2)), weights=[1, 0, 2])
    assert m.columns == [[0.0, 2.0, 0.0], [0.0, 0.0, 2.0]] and m.weights == [1.0, 0.0, 2.0]
    r = Registration.from_points((p for p in SQUARE), [(x + 1, y) for x, y in SQUARE])
    assert r.source == [tuple(p) for p in SQUARE] and r.target[0] == (1.0, 0.0)
    again = GeometricMedian.from_dict(m.to_dict())
    assert again.columns == m.columns and again.weights == m.weights


@pytest.mark.parametrize(
    ("truth", "words"),
    [
        (["a", 1], "truth[0] is the string 'a', not a number"),
        (5, "truth is the number 5"),
        ([1 + 1j, 0], "truth[0] is the complex number (1+1j), not a real number"),
        ([1.0, 2.0, 3.0], "the true position needs 2 finite coordinates"),
    ],
)
def test_a_bad_true_position_is_one_input_error(truth: Any, words: str) -> None:
    from geograd.problems.trilateration import Trilateration

    with pytest.raises(InputError) as info:
        Trilateration.from_anchors([[0, 0], [1, 0], [0, 1]], [0.5, 0.7, 0.7], truth=truth)
    assert f"trilateration: {words}" in str(info.value) and "\n" not in str(info.value)
