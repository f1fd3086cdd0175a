"""Bad input to the Python API (minimize, the optimizers, the manifolds) is one
InputError saying what, where and what to do: never a raw TypeError from deep inside,
never a run reported converged on a problem it never looked at.

Each case is one a user sweep found (lr=None, schedule='cosine', callback=5,
Adam(momentum=...), an error of project reported as divergence, manifold shapes
unchecked on numpy, empty x0).
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable
from typing import Any

import pytest

import geograd.functional as F
from geograd import InputError, Tensor, minimize
from geograd.errors import GeogradError
from geograd.floatarray import FloatArray
from geograd.manifolds import SO, Euclidean, Manifold, Sphere, Spheres
from geograd.optim import SGD, Adam, get_optimizer, optimizer_names

nan, inf = math.nan, math.inf


def sq(p: Tensor) -> Tensor:
    return F.sum((p - 1.0) * (p - 1.0))


def closure_for(opt: Any, p: Tensor) -> Callable[[], Tensor]:
    def closure() -> Tensor:
        opt.zero_grad()
        loss = F.sum(p * p)
        loss.backward()
        return loss

    return closure


# ----------------------------------------------------------------- hyper-parameters

FIRST_ORDER = ["sgd", "momentum", "nag", "adam", "adamw", "adamax", "rmsprop", "adagrad"]
ALL = [*FIRST_ORDER, "gd", "lbfgs", "newton", "trust-ncg"]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("lr", [None, "0.1", True, nan, inf, -1.0])
def test_a_bad_learning_rate_is_one_input_error_naming_it(name: str, lr: Any) -> None:
    with pytest.raises(InputError) as info:
        minimize(sq, [0.0, 0.0], name, lr=lr, max_steps=3)
    text = str(info.value)
    assert f"lr={lr!r}" in text and ">= 0" in text
    assert "\n" not in text
    cls = get_optimizer(name)
    with pytest.raises(InputError, match="invalid learning rate lr="):
        cls([Tensor([1.0, 2.0], requires_grad=True)], lr=lr)


BAD = [None, "x", True, nan, inf, -1.5]


def _options(cls: Any) -> list[str]:
    return list(inspect.signature(cls.__init__).parameters)[2:]


@pytest.mark.parametrize("name", ALL)
def test_every_option_of_every_optimizer_refuses_bad_values_in_one_line(name: str) -> None:
    """None, a string, a bool, nan, inf, a negative number: each option either takes it
    (a flag taking True, an option whose None means 'default', a dampening < 0 as torch
    does) and steps, or refuses it with one InputError naming the option; never a raw
    TypeError at the first step."""
    cls = get_optimizer(name)
    refused = 0
    for key in _options(cls):
        for v in BAD:
            p = Tensor([1.0, 2.0], requires_grad=True)
            try:
                opt = cls([p], **{key: v})
            except InputError as exc:
                refused += 1
                assert "\n" not in str(exc)
                assert key in str(exc) or "beta" in str(exc), (key, v, str(exc))
                continue
            step = closure_for(opt, p)
            if cls.requires_closure:
                opt.step(step)
            else:
                step()
                opt.step()
    assert refused >= 5 * len(BAD) // 2  # lr alone refuses all six


@pytest.mark.parametrize("cls_name", ["adam", "adamw", "adamax"])
@pytest.mark.parametrize("betas", [None, 0.9, True, (0.9,), (0.9, None), (0.9, 1.0), [nan, 0.9]])
def test_bad_betas_are_an_input_error_with_the_accepted_range(cls_name: str, betas: Any) -> None:
    cls = get_optimizer(cls_name)
    with pytest.raises(InputError, match=r"\[0, 1\)"):
        cls([Tensor([1.0], requires_grad=True)], betas=betas)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nag"])
@pytest.mark.parametrize("momentum", [None, "0.9", True, nan, -0.1])
def test_a_bad_momentum_is_an_input_error(name: str, momentum: Any) -> None:
    with pytest.raises(InputError, match=f"invalid momentum value {momentum!r}"):
        get_optimizer(name)([Tensor([1.0], requires_grad=True)], lr=0.1, momentum=momentum)


@pytest.mark.parametrize(("name", "momentum"), [("sgd", 2.0), ("nag", 1.5), ("momentum", 1.0)])
def test_momentum_at_least_one_is_taken_as_torch_takes_it_and_minimize_says_why_it_fails(
    name: str, momentum: float
) -> None:
    get_optimizer(name)([Tensor([1.0], requires_grad=True)], lr=0.1, momentum=momentum)
    res = minimize(sq, [0.0, 3.0], name, momentum=momentum, max_steps=300)
    assert not res.converged
    assert res.reason in ("diverged", "max_steps")
    assert "use a momentum in [0, 1), e.g. 0.9" in res.message
    assert f"momentum = {momentum:g}" in res.message


def test_a_momentum_below_one_gets_no_momentum_advice() -> None:
    res = minimize(sq, [0.0, 3.0], "sgd", momentum=0.9, lr=1e-6, max_steps=5)
    assert res.reason == "max_steps"
    assert "use a momentum" not in res.message


# ------------------------------------------------------------- unknown keywords


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda p: Adam([p], lr=0.1, momentum=0.9), r"Adam: unknown keyword 'momentum' \(.*betas"),
        (lambda p: SGD([p], lr=0.1, momentun=0.9),
         r"unknown keyword 'momentun' \(did you mean 'momentum'\?\)"),
        (lambda p: SGD([p], lr=0.1, momentun=0.9, dampenin=0.1),
         r"unknown keywords 'momentun'.*; 'dampenin'"),
        (lambda p: SGD([p], 0.1, 0.9, 0.0, 0.0, False, True), "too many positional arguments"),
        (lambda p: Adam([p], 0.1, lr=0.1), "multiple values for argument 'lr'"),
    ],
)  # fmt: skip
def test_an_optimizer_constructor_names_a_wrong_keyword_as_minimize_does(
    make: Any, pattern: str
) -> None:
    with pytest.raises(InputError, match=pattern) as info:
        make(Tensor([1.0], requires_grad=True))
    assert isinstance(info.value, TypeError)  # what Python raises for a wrong keyword
    assert "accepts" in str(info.value) and "\n" not in str(info.value)


def test_minimize_gives_the_same_hint_for_the_same_mistake() -> None:
    with pytest.raises(InputError, match=r"'momentum' \(the momentum of an Adam-type"):
        minimize(sq, [0.0], "adam", momentum=0.9)


def test_optimizers_still_copy_and_take_params_by_keyword() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = Adam(params=[p], lr=0.5)
    clone = copy.deepcopy(opt)
    assert clone.param_groups[0]["lr"] == 0.5


# ---------------------------------------------------------- schedule, callables


@pytest.mark.parametrize(
    ("schedule", "pattern"),
    [
        ("cosine", r"not the name 'cosine'.*Cosine\(total_steps=\.\.\.\)"),
        ("warmup", r"not the name 'warmup'.*Warmup\(steps=\.\.\.\)"),
        ("nope", r"not the name 'nope'.*Cosine\(total_steps=1000\)"),
        (5, r"schedule must be a schedule object .* got 5"),
    ],
)
def test_a_schedule_must_be_a_schedule_object(schedule: Any, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        minimize(sq, [0.0], "adam", schedule=schedule)


@pytest.mark.parametrize("what", ["callback", "project"])
def test_a_callback_or_project_that_is_not_callable_is_refused_before_any_step(
    what: str,
) -> None:
    calls = []

    def counted(p: Tensor) -> Tensor:
        calls.append(1)
        return sq(p)

    with pytest.raises(InputError, match=f"minimize: {what} must be a function or None, got 5"):
        minimize(counted, [0.0, 0.0], "adam", **{what: 5})
    assert calls == []


@pytest.mark.parametrize("fun", [5, None, "x*x"])
def test_fun_must_be_callable(fun: Any) -> None:
    with pytest.raises(InputError, match="minimize: fun must be a function of x"):
        minimize(fun, [0.0])


# ------------------------------------------------------------------- project


def test_an_exception_of_project_propagates_as_itself_not_as_divergence() -> None:
    x = Tensor([0.0, 0.0])
    with pytest.raises(ZeroDivisionError) as info:
        minimize(sq, x, "adam", project=lambda v: [1 / 0 for _ in v])
    assert not isinstance(info.value, GeogradError)
    assert x.data.tolist() == [0.0, 0.0]  # put back to the last iterate, x0


def test_an_exception_of_the_callback_propagates_as_itself() -> None:
    def boom(progress: Any) -> bool:
        raise ValueError("callback boom")

    with pytest.raises(ValueError, match="callback boom"):
        minimize(sq, [0.0, 0.0], "adam", callback=boom)


@pytest.mark.parametrize(
    ("project", "pattern"),
    [
        (lambda v: [1.0], "project returned 1 numbers at step 1, for an x of 2"),
        (lambda v: [nan, 0.0], "project returned nan at index 0 at step 1"),
        (lambda v: [inf, 0.0], "project returned inf at index 0"),
        (lambda v: ["a", "b"], "project must return a sequence of 2 numbers"),
        (lambda v: None, "project must return a sequence of 2 numbers"),
    ],
)
def test_a_bad_result_of_project_is_an_input_error_naming_project(
    project: Any, pattern: str
) -> None:
    with pytest.raises(InputError, match=pattern):
        minimize(sq, [0.0, 0.0], "adam", project=project)


def test_a_good_project_still_runs() -> None:
    res = minimize(sq, [0.0, 0.0], "adam", project=lambda v: [min(c, 0.5) for c in v])
    assert res.x == pytest.approx([0.5, 0.5])


# ------------------------------------------------------------------- manifolds


def _backends() -> list[Any]:
    out: list[Any] = [pytest.param(lambda v: FloatArray(v), id="floatarray")]
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return out
    out.append(pytest.param(lambda v: np.array(v, dtype=float), id="numpy"))
    return out


S3 = Sphere(3)
E = Euclidean()
CASES = [
    ("Sphere.retr", lambda A: S3.retr(A([1.0, 0.0, 0.0]), A([1.0])), "(3,), (1,)"),
    ("Sphere.proj", lambda A: S3.proj(A([1.0, 0.0]), A([1.0, 0.0])), "(2,), (2,)"),
    ("Sphere.proj", lambda A: S3.proj(A([1.0, 0.0, 0.0]), A([1.0, 0.0])), "(3,), (2,)"),
    ("Sphere.exp", lambda A: S3.exp(A([1.0, 0.0, 0.0]), A([0.0, 1.0])), "(3,), (2,)"),
    ("Sphere.projx", lambda A: S3.projx(A([3.0, 4.0])), "(2,)"),
    ("Sphere.transp",
     lambda A: S3.transp(A([1.0, 0, 0]), A([0, 1.0, 0]), A([1.0])), "(3,), (3,), (1,)"),
    ("Sphere.inner",
     lambda A: S3.inner(A([1.0, 0, 0]), A([0, 1.0, 0]), A([1.0, 0.0])), "(3,), (3,), (2,)"),
    ("Euclidean.retr", lambda A: E.retr(A([1.0, 2.0]), A([1.0])), "(2,), (1,)"),
    ("Euclidean.proj", lambda A: E.proj(A([1.0, 2.0]), A([1.0])), "(2,), (1,)"),
    ("Euclidean.transp",
     lambda A: E.transp(A([1.0, 2.0]), A([1.0, 2.0]), A([1.0])), "(2,), (2,), (1,)"),
    ("Euclidean.retr", lambda A: Euclidean(3).retr(A([1.0, 2.0]), A([1.0, 2.0])), "(2,), (2,)"),
]  # fmt: skip


@pytest.mark.parametrize("A", _backends())
@pytest.mark.parametrize(("where", "call", "shapes"), CASES, ids=[c[0] for c in CASES])
def test_manifold_operations_refuse_arguments_of_the_wrong_size(
    A: Any, where: str, call: Any, shapes: str
) -> None:
    with pytest.raises(InputError) as info:
        call(A)
    text = str(info.value)
    assert text.startswith(where + ":")
    assert shapes in text


@pytest.mark.parametrize("A", _backends())
def test_manifold_operations_on_the_right_sizes_still_work(A: Any) -> None:
    x = A([1.0, 0.0, 0.0])
    assert [float(v) for v in S3.retr(x, A([0.0, 1.0, 0.0]))] == pytest.approx(
        [2**-0.5, 2**-0.5, 0.0]
    )
    assert [float(v) for v in S3.proj(x, A([1.0, 2.0, 3.0]))] == [0.0, 2.0, 3.0]
    assert [float(v) for v in E.retr(A([1.0, 2.0]), A([1.0, 1.0]))] == [2.0, 3.0]
    assert S3.inner(x, A([0.0, 1.0, 0.0]), A([0.0, 2.0, 0.0])) == 2.0


@pytest.mark.parametrize("name", ["adam", "sgd", "gd"])
@pytest.mark.parametrize(("manifold", "size"), [(Sphere(3), 3), (SO(3), 9), (Spheres(2, 3), 6)])
def test_minimize_refuses_a_parameter_of_another_size_than_its_manifold(
    name: str, manifold: Manifold, size: int
) -> None:
    with pytest.raises(InputError) as info:
        minimize(lambda p: F.sum(p * p), [1.0, 0.0], name, manifold=manifold)
    text = str(info.value)
    assert f"cannot be on {manifold.spec}" in text
    assert f"has {size} coordinates" in text and "shape (2,)" in text


def test_a_parameter_of_the_manifold_size_is_still_minimized() -> None:
    res = minimize(lambda p: p[0], [0.6, 0.8, 0.0], "adam", manifold=Sphere(3), max_steps=2000)
    assert res.converged and res.x[0] == pytest.approx(-1.0, abs=1e-6)


# ---------------------------------------------------------------------- x0


@pytest.mark.parametrize("x0", [[], (), Tensor([])], ids=["list", "tuple", "tensor"])
def test_an_empty_x0_is_refused(x0: Any) -> None:
    with pytest.raises(InputError, match="x0 is empty: there is nothing to minimise"):
        minimize(sq, x0)


@pytest.mark.parametrize("x0", [{1: 2}, {1.0, 2.0}, frozenset([1.0])])
def test_a_mapping_or_set_x0_is_refused(x0: Any) -> None:
    with pytest.raises(InputError, match=f"not a {type(x0).__name__}"):
        minimize(sq, x0)


@pytest.mark.parametrize(
    ("x0", "said"),
    [
        (True, "x0 is True, a truth value"),
        ([1.0, False], "x0[1] is False, a truth value"),
        ((True, 2.0), "x0[0] is True, a truth value"),
    ],
)
def test_truth_values_as_coordinates_are_refused(x0: Any, said: str) -> None:
    with pytest.raises(InputError, match=said.replace("[", r"\[").replace("]", r"\]")):
        minimize(sq, x0)


def test_a_boolean_array_x0_is_refused_and_ones_and_zeros_still_work() -> None:
    np = pytest.importorskip("numpy")
    with pytest.raises(InputError, match="an array of truth values; give a float array"):
        minimize(sq, np.array([True, False]))
    assert minimize(sq, [1, 0]).converged  # integers are numbers


def test_every_registered_optimizer_is_covered() -> None:
    assert set(ALL) <= set(optimizer_names())
