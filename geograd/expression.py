"""Expressions typed by a user, parsed safely and evaluated by the engine.

``geograd grad "sqrt(p + p + q)/3 + log(p*(p*q)) + 3" --at p=2,q=3`` needs the
expression as a graph of the engine's operations. It is never given to ``eval``:
Python's own parser (:mod:`ast`) reads it, and a whitelist accepts only

* numbers (``2``, ``0.5``, ``1e-3``), and the names of the variables (those given
  with ``--at``; ``pi`` and ``e`` too, unless a variable takes the name);
* ``+ - * / **`` between two operands, ``-`` and ``+`` before one;
* calls, with positional arguments, of the engine's own functions
  (:data:`FUNCTIONS`: ``sqrt``, ``log``, ``exp``, ``tanh``, ...).

Anything else (attribute access, subscripts, lambdas, comprehensions, strings,
keyword arguments, comparisons, any other function or name) is refused with an
:class:`ExpressionError` naming what and where (the column), before anything is
evaluated. Evaluation then applies the engine's primitives to floats only, so
nothing can run for long: ``9**9**9`` is a float power that overflows (an error),
never a 370-million-digit integer. Length, nesting and depth are bounded before and
after parsing (:data:`MAX_LENGTH`, :data:`MAX_NESTING`, :data:`MAX_DEPTH`), so no input exhausts the
parser's or this module's stack: the evaluation is iterative anyway.

Errors of evaluation (``log(-1)``, ``1/0``, an overflow) are :class:`ExpressionError`
too, naming the part of the expression that failed. All are
:class:`~geograd.errors.InputError`: the CLI reports them in one line, exit code 2.

Standard library only.
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from geograd.errors import GeogradError, InputError
from geograd.tensor import Tensor

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NESTING",
    "Expression",
    "ExpressionError",
    "parse",
    "parse_assignments",
]

#: The longest expression accepted, in characters.
MAX_LENGTH = 2000
#: The deepest bracket nesting accepted, checked before parsing (CPython's parser stops
#: at 200 with a message of its own).
MAX_NESTING = 100
#: The deepest syntax tree accepted (a chain of 1000 operations; nothing here recurses
#: on it, but a bound keeps every later walk cheap and predictable).
MAX_DEPTH = 1000

#: The engine's functions an expression may call: name -> number of arguments.
#: Each is :mod:`geograd.functional`'s function of that name (a primitive of the table,
#: or a composition of them).
FUNCTIONS: dict[str, int] = {
    "exp": 1,
    "log": 1,
    "sqrt": 1,
    "sin": 1,
    "cos": 1,
    "tan": 1,
    "tanh": 1,
    "sigmoid": 1,
    "softplus": 1,
    "abs": 1,
    "sign": 1,
    "relu": 1,
    "square": 1,
    "maximum": 2,
    "minimum": 2,
    "hypot": 2,
    "atan2": 2,
    "clip": 3,
}

#: Names with a value of their own, unless a variable takes the name.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

# What the operators are called in the engine (and in messages).
_BINARY: dict[type[ast.operator], str] = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.Pow: "power",
}
_UNARY: dict[type[ast.unaryop], str] = {ast.USub: "neg", ast.UAdd: "pos"}

# How a refused operator is spelled in a message.
_SYMBOLS: dict[type[ast.AST], str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Not: "not",
    ast.Invert: "~",
}

# What a refused construct is called in a message (the rest by their class name).
_WHAT: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "a conditional expression",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Starred: "a starred argument",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "an assignment (:=)",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield from'",
    ast.Slice: "a slice",
}

_ALLOWED = "numbers, the variables, + - * / **, and calls of the engine's functions"


class ExpressionError(InputError):
    """An expression refused (it is not in the whitelist) or that failed to evaluate."""


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression: evaluate it with :meth:`evaluate`.

    ``text`` is what was given; ``names`` the variables it uses, in order of first
    appearance; ``functions`` the functions it calls.
    """

    text: str
    tree: ast.Expression
    names: tuple[str, ...]
    functions: tuple[str, ...]
    # how far the text was shifted by stripping leading whitespace (columns in messages
    # count from the text as given)
    _shift: int = 0

    def evaluate(self, values: Mapping[str, Any]) -> Tensor:
        """The expression's value, a 0-D Tensor recording its graph when a variable's
        value is a Tensor that requires grad (see :meth:`evaluate_with_sources`)."""
        return self.evaluate_with_sources(values)[0]

    def evaluate_with_sources(
        self, values: Mapping[str, Any]
    ) -> tuple[Tensor, list[tuple[Tensor, str]]]:
        """The value, and each tensor it made with the part of the text that made it
        (what a trace shows beside each node), in the order they were made.

        ``values`` maps each variable to a float or a Tensor (a leaf that requires grad,
        to differentiate). An error of evaluation is an :class:`ExpressionError`
        naming the failing part and its column.
        """
        missing = [n for n in self.names if n not in values and n not in CONSTANTS]
        if missing:
            raise ExpressionError(f"no value for {', '.join(missing)}")
        from geograd import functional as F  # the table; imported with geograd already

        # (tensor, text) pairs: the pairs keep the tensors alive, so no id is reused
        sources: list[tuple[Tensor, str]] = []
        made: set[int] = set()
        results: dict[int, Any] = {}
        # post-order with an explicit stack: no recursion, whatever the depth
        stack: list[tuple[ast.AST, bool]] = [(self.tree.body, False)]
        while stack:
            node, ready = stack.pop()
            if not ready:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(_operands(node)))
                continue
            args = [results[id(child)] for child in _operands(node)]
            try:
                out = self._apply(F, node, args, values)
            except ExpressionError:
                raise
            except (GeogradError, ArithmeticError, ValueError) as exc:
                raise ExpressionError(
                    f"{self._where(node)}: {' '.join(str(exc).split())}"
                ) from None
            _check_finite(out, args, self._where(node))
            results[id(node)] = out
            if id(out) not in made:  # +p is p itself: named once, by its first source
                made.add(id(out))
                sources.append((out, self._segment(node)))
        value = results[id(self.tree.body)]
        out = value if isinstance(value, Tensor) else Tensor(float(value))
        return out, sources

    def _apply(self, F: Any, node: ast.AST, args: list[Any], values: Mapping[str, Any]) -> Any:
        """One node of the tree on its operands' values (already computed)."""
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))  # checked when parsed
            return Tensor.from_data(float(node.value))
        if isinstance(node, ast.Name):
            if node.id in values:
                v = values[node.id]
                return v if isinstance(v, Tensor) else Tensor(float(v))
            return Tensor.from_data(CONSTANTS[node.id])
        if isinstance(node, ast.BinOp):
            return getattr(F, _BINARY[type(node.op)])(args[0], args[1])
        if isinstance(node, ast.UnaryOp):
            return F.neg(args[0]) if isinstance(node.op, ast.USub) else args[0]
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)  # checked when parsed
            return getattr(F, node.func.id)(*args)
        raise ExpressionError(f"{self._where(node)}: cannot evaluate {type(node).__name__}")

    def _segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text[self._shift :], node) or type(node).__name__

    def _where(self, node: ast.AST) -> str:
        segment = _short(self._segment(node))
        return f"{segment!r} at {_column(node, self._shift)}"


def parse(text: str, variables: Iterable[str] = ()) -> Expression:
    """Parse and check ``text``: an :class:`Expression`, or an :class:`ExpressionError`
    naming the first construct that is not allowed and its column.

    ``variables``: the names the expression may use (besides :data:`CONSTANTS`).
    Nothing is evaluated here.
    """
    allowed = set(variables)
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; at most {MAX_LENGTH} are accepted"
        )
    if "\x00" in text:
        raise ExpressionError(f"a NUL character at column {text.index(chr(0)) + 1}")
    stripped = text.lstrip(" \t")
    shift = len(text) - len(stripped)
    if not stripped.strip():
        raise ExpressionError("the expression is empty")
    _check_brackets(text)
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        column = (exc.offset or 0) + shift
        where = f" at column {column}" if exc.offset else ""
        line = f" line {exc.lineno}" if exc.lineno and exc.lineno > 1 else ""
        raise ExpressionError(f"not a valid expression{line}{where}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        # the parser's own limits: nesting the bracket count cannot see (long operator runs)
        raise ExpressionError(f"the expression is too complex to parse ({exc})") from None
    names, functions = _check(tree, allowed, shift)
    return Expression(text, tree, tuple(names), tuple(functions), shift)


def parse_assignments(text: str, option: str = "--at") -> dict[str, float]:
    """``"p=2,q=3"`` -> ``{"p": 2.0, "q": 3.0}``; an :class:`ExpressionError` naming the
    entry when a name is not an identifier, is a keyword or a function's name, is
    given twice, or its value is not a finite number."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"{option}: {len(text)} characters; at most {MAX_LENGTH}")
    values: dict[str, float] = {}
    for item in text.split(","):
        entry = item.strip()
        if not entry:
            raise ExpressionError(f"{option} {text!r}: an empty entry; write NAME=VALUE,...")
        name, eq, raw = (part.strip() for part in entry.partition("="))
        if not eq:
            raise ExpressionError(f"{option}: {_short(entry)!r} is not NAME=VALUE")
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ExpressionError(f"{option}: {_short(name)!r} is not a valid variable name")
        if name in FUNCTIONS:
            raise ExpressionError(f"{option}: {name!r} is the name of a function; choose another")
        if name in values:
            raise ExpressionError(f"{option}: {name!r} is given twice")
        try:
            value = float(raw)
        except ValueError:
            raise ExpressionError(f"{option}: {name}={_short(raw)!r} is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{option}: {name}={raw} is not a finite number")
        values[name] = value
    return values


# ------------------------------------------------------------------------- checking


def _check_brackets(text: str) -> None:
    """Refuse brackets nested deeper than :data:`MAX_NESTING` before the parser sees them
    (CPython's stops at 200 with a message of its own, and deep trees cost its stack)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ExpressionError(
                    f"brackets nested more than {MAX_NESTING} deep at column {i + 1}"
                )
        elif ch in ")]}":
            depth -= 1


def _check(tree: ast.Expression, allowed: set[str], shift: int) -> tuple[list[str], list[str]]:
    """Walk the tree (iteratively, outermost first) and refuse anything not in the
    whitelist; the variables and functions used, in order of first appearance."""
    names: dict[str, None] = {}
    functions: dict[str, None] = {}
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression nests more than {MAX_DEPTH} operations deep at "
                f"{_column(node, shift)}; split it or simplify it"
            )
        _check_node(node, allowed, shift)
        if isinstance(node, ast.Name) and node.id in allowed:  # else a constant (pi, e)
            names.setdefault(node.id, None)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            functions.setdefault(node.func.id, None)
        # reversed: the leftmost operand is checked first, so errors name the first one
        stack.extend((child, depth + 1) for child in reversed(_operands(node)))
    return list(names), list(functions)


def _check_node(node: ast.AST, allowed: set[str], shift: int) -> None:
    """Accept one node of the whitelist or raise an ExpressionError naming it."""
    at = _column(node, shift)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(
                f"{_constant_kind(value)} at {at} is not allowed; only {_ALLOWED} are"
            )
        try:
            number = float(value)  # an integer literal too long for a float is refused here
        except OverflowError:
            raise ExpressionError(f"the number at {at} is too large for a float") from None
        if not math.isfinite(number):
            raise ExpressionError(f"the number at {at} is too large for a float")
        return
    if isinstance(node, ast.Name):
        if node.id not in allowed and node.id not in CONSTANTS:
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id!r} at {at} is a function: call it, {node.id}(x)")
            given = ", ".join(sorted(allowed)) or "none"
            raise ExpressionError(
                f"unknown name {_short(node.id)!r} at {at}; the variables are {given} "
                "(give each a value with --at NAME=VALUE)"
            )
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            symbol = _SYMBOLS.get(type(node.op), type(node.op).__name__)
            raise ExpressionError(f"operator {symbol!r} at {at} is not allowed; use + - * / **")
        return
    if isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            symbol = _SYMBOLS.get(type(node.op), type(node.op).__name__)
            raise ExpressionError(f"operator {symbol!r} at {at} is not allowed; use - or +")
        return
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            what = _WHAT.get(type(func), type(func).__name__)
            if isinstance(func, ast.Attribute):
                what = f"{what} ('.{_short(func.attr)}')"
            raise ExpressionError(
                f"calling {what} at {at} is not allowed; only the engine's functions can be "
                "called, by name"
            )
        if func.id not in FUNCTIONS:
            raise ExpressionError(
                f"{_short(func.id)!r} at {at} is not one of the engine's functions; "
                f"they are {', '.join(sorted(FUNCTIONS))}"
            )
        if node.keywords:
            raise ExpressionError(
                f"keyword arguments are not allowed ({func.id} at {at}); pass them in order"
            )
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise ExpressionError(f"a starred argument at {_column(arg, shift)} is not allowed")
        arity = FUNCTIONS[func.id]
        if len(node.args) != arity:
            s = "" if arity == 1 else "s"
            raise ExpressionError(
                f"{func.id} takes {arity} argument{s}, {len(node.args)} given at {at}"
            )
        return
    what = _WHAT.get(type(node), type(node).__name__)
    if isinstance(node, ast.Attribute):
        what = f"{what} ('.{_short(node.attr)}')"
    raise ExpressionError(f"{what} at {at} is not allowed; only {_ALLOWED} are")


def _operands(node: ast.AST) -> list[ast.AST]:
    """The children that are evaluated, in order (only for the whitelisted nodes)."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _constant_kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bytes):
        return "a bytes literal"
    if isinstance(value, complex):
        return "a complex number"
    if value is None:
        return "None"
    if value is Ellipsis:
        return "'...'"
    return f"a {type(value).__name__} constant"


def _check_finite(out: Any, args: list[Any], where: str) -> None:
    """An ExpressionError when finite operands gave an infinite or NaN value: float
    products and quotients overflow to inf silently (``1e308*10``), where ``exp`` and
    ``**`` raise; both are refused alike, naming the part that overflowed."""
    if not isinstance(out, Tensor) or out.ndim != 0:
        return
    value = float(out.item())
    if math.isfinite(value):
        return
    operands = [float(a.item()) for a in args if isinstance(a, Tensor) and a.ndim == 0]
    if all(math.isfinite(v) for v in operands):
        shown = " and ".join(f"{v:g}" for v in operands)
        raise ExpressionError(
            f"{where}: overflows float64 (from {shown}); give values of smaller magnitude"
        )


def _column(node: ast.AST, shift: int = 0) -> str:
    """``column N`` (counting from 1 in the text as given), or ``line L column N``."""
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0) + 1 + (shift if line == 1 else 0)
    return f"column {col}" if line == 1 else f"line {line} column {col}"


def _short(text: str, limit: int = 40) -> str:
    """``text`` folded to one line, cut to ``limit`` characters (a message stays short)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
