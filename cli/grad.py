"""``geograd grad EXPR --at p=2,q=3``: an expression's value, gradient and Hessian.

The expression is parsed by :mod:`geograd.expression` (a whitelist over Python's
``ast``: nothing the user types is ever evaluated as Python), each variable given
with ``--at`` becomes a leaf that requires grad, and the engine computes the rest:

* the value and the gradient (one backward pass);
* ``--hessian``: the second derivatives, one more backward through the gradient's
  graph per variable (the gradient recorded with ``create_graph``);
* ``--trace``: the backward pass as the tutorials print it, node by node in reverse
  topological order: each node's operation, value and gradient;
* ``--graph FILE``: the graph drawn with values and gradients (.png, .svg, .pdf;
  ``.dot`` writes Graphviz's text instead), see :mod:`geograd.graphs`;
* ``--json``: all of it as one JSON object.

Bad input (a refused construct, an unknown name, ``log(-1)``, a bad ``--at``, a bad
file) is one line on stderr and exit code 2, as everywhere in the CLI.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from geograd.errors import GeogradError, InputError
from geograd.expression import ExpressionError, parse, parse_assignments
from geograd.fileio import check_writable
from geograd.graphs import Graph, graph
from geograd.tensor import Tensor, backprop

from .output import dumps, write_text_atomic

#: What ``--graph FILE`` writes, by its suffix.
GRAPH_SUFFIXES = ("png", "svg", "pdf", "dot")
#: Significant digits of the numbers printed (JSON has them all).
DIGITS = 12
#: The widest node text in a trace (a longer part of the expression is cut).
NODE_WIDTH = 28


def run_grad(
    expression: str,
    at: str | None = None,
    hessian: bool = False,
    graph_file: Path | None = None,
    trace: bool = False,
    json_output: bool = False,
) -> None:
    """The ``grad`` command (see the module docstring)."""
    values = parse_assignments(at) if at else {}
    expr = parse(expression, values)
    if graph_file is not None:
        _check_graph_path(graph_file)
    names = list(values)
    leaves = {name: Tensor(v, requires_grad=True) for name, v in values.items()}
    out, sources = expr.evaluate_with_sources(leaves)
    gradient = _gradient(out, leaves)
    doc: dict[str, Any] = {
        "expression": expression,
        "at": values,
        "value": out.item(),
        "gradient": gradient,
    }
    _refuse_overflow("gradient", {f"d/d{name}": g for name, g in gradient.items()})
    if hessian:
        doc["hessian"] = _hessian(expr, values)
        _refuse_overflow(
            "Hessian",
            {
                f"d2/d{a} d{b}": h
                for a, row in zip(names, doc["hessian"])
                for b, h in zip(names, row)
            },
        )
    if trace:
        # each node named by the part of the expression that made it, a variable by its name
        pairs = sources + [(t, name) for name, t in leaves.items()]
        doc["trace"] = _trace_rows(graph(out, pairs))
    if graph_file is not None:
        g = graph(out, leaves)  # only the variables named: the boxes stay narrow
        if graph_file.suffix.lower() == ".dot":
            write_text_atomic(graph_file, g.to_dot(), what="--graph")
        else:
            g.draw(graph_file, title=f"{_short(expression, 80)}  at  {_at_text(values)}")
        doc["graph"] = str(graph_file)
    if json_output:
        sys.stdout.write(dumps(doc))
    else:
        _print(doc, names)
    sys.stdout.flush()


# ----------------------------------------------------------------------- computing


def _gradient(out: Tensor, leaves: dict[str, Tensor]) -> dict[str, float]:
    """d out / d each variable (0 for one the value does not depend on), written by one
    ``backward`` into every node's ``.grad`` (what the trace and the graph show)."""
    if out.requires_grad:
        try:
            out.backward()
        except GeogradError as exc:
            raise ExpressionError(
                f"the gradient does not exist here ({' '.join(str(exc).split())}); "
                "give a point where the expression is differentiable"
            ) from None
    return {
        name: (leaf.grad.item() if leaf.grad is not None else 0.0) for name, leaf in leaves.items()
    }


def _refuse_overflow(what: str, entries: dict[str, float]) -> None:
    """An ExpressionError naming the first entry of a finite value's derivatives that
    overflowed float64 (``x/y`` at y = 1e-200: d/dy = -x/y² is beyond the largest float);
    the value itself was checked as it was evaluated."""
    for label, v in entries.items():
        if not math.isfinite(v):
            raise ExpressionError(
                f"the {what} overflows float64 at this point ({label} = {_num(v)}); "
                "give values of smaller magnitude"
            )


def _hessian(expr: Any, values: dict[str, float]) -> list[list[float]]:
    """[[d² f / d v_i d v_j]]: the gradient recorded with its graph, then one backward
    through it per variable. Fresh leaves: the first evaluation's ``.grad`` stay as the
    trace and the graph show them."""
    leaves = {name: Tensor(v, requires_grad=True) for name, v in values.items()}
    out = expr.evaluate(leaves)
    order = list(leaves.values())
    rows: list[list[float]] = []
    try:
        first: dict[int, Tensor] = {}
        if out.requires_grad:
            first = backprop(out, Tensor.from_data(1.0), create_graph=True)[1]
        for leaf in order:
            gi = first.get(id(leaf))
            found: dict[int, Tensor] = {}
            if gi is not None and gi.requires_grad:
                found = backprop(gi, Tensor.from_data(1.0), create_graph=False)[1]
            row = []
            for other in order:
                h = found.get(id(other))
                row.append(0.0 if h is None else h.item())
            rows.append(row)
    except GeogradError as exc:
        raise ExpressionError(
            f"the Hessian does not exist here ({' '.join(str(exc).split())}); "
            "give a point where the expression is twice differentiable"
        ) from None
    return rows


def _trace_rows(g: Graph) -> list[dict[str, Any]]:
    """The nodes backward visits (those that require grad), in its order: the result
    first, each node after every node that uses it."""
    rows = []
    for node in g.reverse_order():
        if not node.requires_grad:
            continue  # a constant: backward never reaches it
        rows.append(
            {
                "node": node.name or node.title,
                "op": node.op or "input",
                "value": node.value,
                "gradient": node.grad,
                "inputs": [g.nodes[p].name or g.nodes[p].title for p in g.parents(node.index)],
            }
        )
    return rows


# ---------------------------------------------------------------------- reporting


def _check_graph_path(path: Path) -> None:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in GRAPH_SUFFIXES:
        got = f"{path.suffix!r} is not a graph format" if path.suffix else "no suffix"
        names = ", ".join("." + s for s in GRAPH_SUFFIXES)
        raise InputError(f"--graph {path}: {got}; use {names}")
    check_writable(path, "--graph")


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_num(v) for v in value) + "]"
    v = float(value)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{DIGITS}g}"


def _short(text: str, limit: int = NODE_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _at_text(values: dict[str, float]) -> str:
    return ", ".join(f"{k} = {_num(v)}" for k, v in values.items()) or "(no variables)"


def _print(doc: dict[str, Any], names: list[str]) -> None:
    lines = [
        f"expression  {doc['expression']}",
        f"at          {_at_text(doc['at'])}",
        f"value       {_num(doc['value'])}",
    ]
    if names:
        lines.append("gradient")
        width = max(len(n) for n in names) + 3
        for name in names:
            lines.append(f"  {('d/d' + name).ljust(width)}  {_num(doc['gradient'][name])}")
    if "hessian" in doc and names:
        lines.append("hessian")
        cells = [[_num(v) for v in row] for row in doc["hessian"]]
        col = max(max(len(c) for row in cells for c in row), max(len(n) for n in names))
        head = max(len(n) for n in names)
        lines.append("  " + " " * head + "  " + "  ".join(n.rjust(col) for n in names))
        for name, row in zip(names, cells):
            lines.append("  " + name.ljust(head) + "  " + "  ".join(c.rjust(col) for c in row))
    if "trace" in doc:
        rows = doc["trace"]
        lines.append(f"backward pass, reverse topological order ({len(rows)} nodes)")
        table = [("step", "node", "op", "value", "gradient", "inputs")]
        for k, row in enumerate(rows, 1):
            table.append(
                (
                    str(k),
                    _short(row["node"]),
                    row["op"],
                    _num(row["value"]),
                    _num(row["gradient"]),
                    ", ".join(_short(i, 16) for i in row["inputs"]),
                )
            )
        widths = [max(len(r[i]) for r in table) for i in range(5)]
        for r in table:
            row = [r[0].rjust(widths[0])] + [c.ljust(w) for c, w in zip(r[1:5], widths[1:])]
            lines.append(("  " + "  ".join(row) + "  " + r[5]).rstrip())
    if "graph" in doc:
        lines.append(f"graph       saved to {doc['graph']}")
    sys.stdout.write("\n".join(lines) + "\n")


__all__ = ["run_grad"]
