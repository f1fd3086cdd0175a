"""geograd.expression: the whitelist parser (issue 16, part 3): what is accepted, what is
refused (naming what and where), and that nothing refused is ever evaluated."""

from __future__ import annotations

import math

import pytest

import geograd.functional as F
from geograd import InputError, Tensor
from geograd.expression import (
    FUNCTIONS,
    MAX_LENGTH,
    MAX_NESTING,
    ExpressionError,
    parse,
    parse_assignments,
)


def value(text: str, **at: float) -> float:
    return parse(text, at).evaluate(at).item()


def test_the_issue_example_and_its_gradient() -> None:
    expr = parse("sqrt(p + p + q)/3 + log(p*(p*q)) + 3", ["p", "q"])
    assert expr.names == ("p", "q") and expr.functions == ("sqrt", "log")
    p, q = Tensor(2.0, requires_grad=True), Tensor(3.0, requires_grad=True)
    out = expr.evaluate({"p": p, "q": q})
    assert out.item() == pytest.approx(math.sqrt(7) / 3 + math.log(12) + 3, rel=1e-15)
    out.backward()
    assert p.grad is not None and q.grad is not None
    assert p.grad.item() == pytest.approx(1 / (3 * math.sqrt(7)) + 1, rel=1e-14)
    assert q.grad.item() == pytest.approx(1 / (6 * math.sqrt(7)) + 1 / 3, rel=1e-14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-p ** 2", -4.0),
        ("+p - -q", 5.0),
        ("2 ** -1", 0.5),
        ("1e-3 * 1_000", 1.0),
        ("p / q", 2 / 3),
        ("pi * e", math.pi * math.e),
        ("hypot(p, q)", math.hypot(2, 3)),
        ("clip(q, 0, p)", 2.0),
        ("maximum(p, q) - minimum(p, q)", 1.0),
        ("relu(-p) + abs(-q) + square(p)", 7.0),
        ("tanh(0) + sigmoid(0) + exp(0) + cos(0) + sin(0) + tan(0)", 2.5),
        ("softplus(0) - log(2)", 0.0),
        ("  p\t", 2.0),
        ("+".join(["p"] * 500), 1000.0),  # a long flat sum is not nesting
    ],
)
def test_accepted_expressions(text: str, expected: float) -> None:
    assert value(text, p=2.0, q=3.0) == pytest.approx(expected, rel=1e-15, abs=1e-15)


def test_a_variable_shadows_a_constant() -> None:
    assert value("e + 1", e=5.0) == 6.0


def test_every_listed_function_is_the_engines() -> None:
    for name in FUNCTIONS:
        assert callable(getattr(F, name)), name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('true')", "calling attribute access ('.system') at column 1"),
        ("p.real", "attribute access ('.real') at column 1 is not allowed"),
        ("(lambda: 1)()", "calling a lambda at column 1"),
        ("lambda: 1", "a lambda at column 1 is not allowed"),
        ("[x for x in (1, 2)]", "a list comprehension at column 1"),
        ("sum(x for x in (1, 2))", "'sum' at column 1 is not one of the engine's functions"),
        ("{x: 1 for x in p}", "a dict comprehension at column 1"),
        ("p + open('f')", "'open' at column 5 is not one of the engine's functions"),
        ("eval('1')", "'eval' at column 1 is not one"),
        ("p[0]", "a subscript at column 1"),
        ("p if q else 1", "a conditional expression at column 1"),
        ("p < q", "a comparison at column 1"),
        ("p and q", "'and'/'or' at column 1"),
        ("'text'", "a string at column 1"),
        ("b'x'", "a bytes literal at column 1"),
        ("True + p", "the boolean True at column 1"),
        ("None", "None at column 1"),
        ("1j * p", "a complex number at column 1"),
        ("f'{p}'", "an f-string at column 1"),
        ("(p := 3)", "an assignment (:=) at column 2"),
        ("p % 2", "operator '%' at column 1"),
        ("p // 2", "operator '//' at column 1"),
        ("p @ q", "operator '@' at column 1"),
        ("~p", "operator '~' at column 1"),
        ("not p", "operator 'not' at column 1"),
        ("exp(x=p)", "keyword arguments are not allowed (exp at column 1)"),
        ("exp(*p)", "a starred argument at column 5"),
        ("exp(p, q)", "exp takes 1 argument, 2 given at column 1"),
        ("hypot(p)", "hypot takes 2 arguments, 1 given"),
        ("exp", "'exp' at column 1 is a function"),
        ("p + z", "unknown name 'z' at column 5; the variables are p, q"),
        ("__builtins__", "unknown name '__builtins__'"),
        ("1e999", "the number at column 1 is too large"),
        ("9" * 400, "the number at column 1 is too large"),
        ("p +", "not a valid expression"),
        ("", "the expression is empty"),
        ("(p, q)", "a tuple at column 1"),
        ("p\x00", "a NUL character at column 2"),
    ],
)
def test_refused_expressions_name_what_and_where(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text, ["p", "q"])
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, InputError)  # the CLI's exit code 2


def test_nothing_refused_is_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    monkeypatch.setattr(F, "exp", lambda *a: called.append("exp"))
    with pytest.raises(ExpressionError):
        parse("exp(p) + p.__class__", ["p"])  # the allowed part comes first, still not run
    assert called == []


def test_length_nesting_and_depth_are_bounded() -> None:
    with pytest.raises(ExpressionError, match=f"at most {MAX_LENGTH}"):
        parse("p+" * MAX_LENGTH + "p", ["p"])
    deep = "(" * 10_000 + "p" + ")" * 10_000
    with pytest.raises(ExpressionError, match="characters long"):
        parse(deep, ["p"])
    nested = "(" * (MAX_NESTING + 1) + "p" + ")" * (MAX_NESTING + 1)
    with pytest.raises(ExpressionError, match=f"nested more than {MAX_NESTING} deep"):
        parse(nested, ["p"])
    calls = "exp(" * (MAX_NESTING + 1) + "p" + ")" * (MAX_NESTING + 1)
    with pytest.raises(ExpressionError, match="nested more than"):
        parse(calls, ["p"])
    with pytest.raises(ExpressionError, match="nests more than 1000 operations deep"):
        parse("-" * 1500 + "p", ["p"])
    assert value("-" * 998 + "p", p=2.0) == 2.0  # deep, but within the bound: iterative


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9**9**9", "'9**9**9' at column 1: pow(9.0, 387420489.0) overflows"),
        ("p + 10.0**400", "'10.0**400' at column 5"),
        ("log(p - 3)", "'log(p - 3)' at column 1: log(-1.0) is undefined"),
        ("sqrt(-p)", "sqrt(-2.0) is undefined"),
        ("1/(p - p)", "division by zero"),
        ("exp(1000)", "exp(1000.0) overflows"),
        ("(-p) ** 0.5", "is undefined"),
        # float products, quotients and sums overflow to inf without raising: refused alike
        ("p * 1e308", "'p * 1e308' at column 1: overflows float64 (from 2 and 1e+308)"),
        ("1e308 / (p - 1.9999999)", "'1e308 / (p - 1.9999999)' at column 1: overflows"),
        ("-1e308 - 1e308 + p", "'-1e308 - 1e308' at column 1: overflows"),
    ],
)
def test_evaluation_errors_are_one_line_input_errors(text: str, message: str) -> None:
    expr = parse(text, ["p"])
    with pytest.raises(ExpressionError) as info:
        expr.evaluate({"p": 2.0})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_missing_value_is_named() -> None:
    with pytest.raises(ExpressionError, match="no value for q"):
        parse("p + q", ["p", "q"]).evaluate({"p": 1.0})


def test_sources_name_each_node_by_its_text() -> None:
    p = Tensor(2.0, requires_grad=True)
    out, sources = parse("log(p*p) + 1", ["p"]).evaluate_with_sources({"p": p})
    texts = {id(t): s for t, s in sources}
    assert texts[id(out)] == "log(p*p) + 1" and texts[id(p)] == "p"
    assert sorted(texts.values()) == sorted(["p", "p*p", "log(p*p)", "1", "log(p*p) + 1"])


def test_assignments() -> None:
    assert parse_assignments("p=2,q=3") == {"p": 2.0, "q": 3.0}
    assert parse_assignments(" x = 1e3 , y=-0.5") == {"x": 1000.0, "y": -0.5}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p=2,,q=3", "an empty entry"),
        ("p", "'p' is not NAME=VALUE"),
        ("1p=2", "'1p' is not a valid variable name"),
        ("lambda=2", "'lambda' is not a valid variable name"),
        ("exp=2", "'exp' is the name of a function"),
        ("p=1,p=2", "'p' is given twice"),
        ("p=abc", "p='abc' is not a number"),
        ("p=nan", "not a finite number"),
        ("p=inf", "not a finite number"),
        ("p=" + "1" * 3000, "at most"),
    ],
)
def test_bad_assignments(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(")):
        parse_assignments(text)
