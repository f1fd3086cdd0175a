"""The computational graph of a result, as data, as DOT text, and drawn without Graphviz.

``graph(t)`` walks the graph that ``t`` recorded (each node's ``parents`` and the
primitive that made it, see :mod:`geograd.tensor`) and returns a :class:`Graph`:
one :class:`Node` per tensor (its operation, value, gradient when one was computed,
shape) in topological order, the root last, and one :class:`Edge` per argument.
It is plain data, taken when ``graph`` is called: later changes to the tensors do
not reach it.

* :meth:`Graph.to_dot` gives Graphviz's DOT text, for those who have Graphviz;
* :meth:`Graph.draw` draws it with matplotlib alone (imported then, never when
  this module is), left to right in layers, to PNG, SVG or PDF: no Graphviz,
  any platform;
* beyond a node budget (``max_nodes``) ``draw`` shows a summary (the counts of
  each operation, the depth, the widest layer) rather than an unreadable hairball.

Gradients: by default each node shows its ``.grad`` as ``backward()`` left it
(``gradients="stored"``), which after ``f.backward()`` is d f / d node. With
``gradients="root"`` they are computed afresh, d root / d node for every node,
without touching any ``.grad`` (what a graph of a gradient, or of a node whose
``.grad`` belongs to another backward, should show). A gradient recorded with
``create_graph=True`` is a tensor with a graph of its own, so the graph of a
second derivative is drawn like any other::

    x = Tensor(0.5, requires_grad=True)
    (d1,) = gradient_graph(tanh(x), [x])   # d tanh / dx, with its graph
    (d2,) = gradient_graph(d1, [x])        # d² tanh / dx², with its graph
    graph(d2, names={"x": x}).draw("tanh2.svg")

Building the graph is standard library only, iterative (a chain of 200,000
operations needs no recursion) and linear in its size.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

from geograd import backend as B
from geograd.errors import InputError, ShapeError
from geograd.tensor import Tensor, backprop, topological_order

__all__ = ["MAX_NODES", "Edge", "Graph", "Node", "graph"]

#: ``draw`` draws at most this many nodes; a bigger graph is drawn as a summary.
MAX_NODES = 80
#: Entries of a 1-D value or gradient kept in a node (the shape says how many there are).
STORED_ENTRIES = 8
#: Entries of a 1-D value shown in a label before "…".
SHOWN_ENTRIES = 3

#: A node's value or gradient: a float (0-D), or the first entries of a 1-D one.
Value = float | tuple[float, ...]

Gradients = Literal["stored", "root", "none"]

# Operations whose arguments may be swapped: their edges need no argument number.
_SYMMETRIC = frozenset({"add", "mul", "mul_masked", "maximum", "minimum", "norm"})

# Fill colours: inputs (leaves that require grad), constants, operations, the root.
_COLORS = {"input": "#cfe8fc", "constant": "#eeeeee", "op": "#ffffff", "root": "#ffe9b3"}


@dataclass(frozen=True)
class Node:
    """One tensor of the graph.

    ``index`` is its place in :attr:`Graph.nodes` (parents first); ``op`` the name of
    the primitive that made it (None for a leaf); ``kind`` is ``"input"`` (a leaf that
    requires grad), ``"constant"`` (a leaf that does not) or ``"op"``; ``name`` the
    name given in ``graph(..., names=...)``; ``detail`` what the operation was given
    besides tensors (the index of a ``take``); ``value`` and ``grad`` a float for a 0-D
    tensor, the first :data:`STORED_ENTRIES` entries for a 1-D one, ``grad`` None when
    no gradient is known.
    """

    index: int
    op: str | None
    kind: str
    shape: tuple[int, ...]
    value: Value
    grad: Value | None = None
    name: str | None = None
    detail: str = ""
    requires_grad: bool = False

    @property
    def title(self) -> str:
        """How the node is named in pictures and traces: its name and its operation."""
        op = f"{self.op}{self.detail}" if self.op else None
        if self.name and op:
            return f"{self.name} = {op}"
        return self.name or op or ("input" if self.kind == "input" else "const")


class Edge(NamedTuple):
    """``source`` is argument number ``arg`` of ``target`` (both indices into the nodes)."""

    source: int
    target: int
    arg: int


@dataclass(frozen=True)
class Graph:
    """The graph of one result: nodes in topological order (the root last) and edges."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    _parents: tuple[tuple[int, ...], ...] = field(repr=False, compare=False, default=())

    @property
    def root(self) -> Node:
        """The result the graph was taken of."""
        return self.nodes[-1]

    def __len__(self) -> int:
        return len(self.nodes)

    def parents(self, index: int) -> tuple[int, ...]:
        """The indices of node ``index``'s arguments, in order (repeated if used twice)."""
        return self._parents[index]

    def reverse_order(self) -> list[Node]:
        """The nodes in the order backward visits them: the root first, each node after
        every node that uses it (reverse topological order)."""
        return list(reversed(self.nodes))

    # ------------------------------------------------------------------ layout
    def layers(self) -> list[list[int]]:
        """The nodes in columns, left to right, each column in drawing order (top first);
        see :meth:`_layout`."""
        n = len(self.nodes)
        return [[i for i in layer if i < n] for layer in self._layout()[0]]

    def _layout(self) -> tuple[list[list[int]], dict[tuple[int, int], list[int]]]:
        """Columns of node indices, and for each (source, target) the waypoints between.

        Each node sits one column right of its rightmost argument (its longest path from
        a leaf), a leaf one column left of its first user. An edge that spans several
        columns passes through a waypoint (an index >= the number of nodes) in each
        column between, which takes a place there, so that it never crosses a box.
        Within a column, nodes and waypoints are ordered to limit crossings: a few
        barycentre sweeps (Sugiyama's layered drawing, without its refinements).
        """
        n = len(self.nodes)
        column = [0] * n
        for i in range(n):
            ps = self._parents[i]
            if ps:
                column[i] = 1 + max(column[p] for p in ps)
        users: list[list[int]] = [[] for _ in range(n)]
        for e in self.edges:
            users[e.source].append(e.target)
        for i in range(n):
            if not self._parents[i] and users[i]:
                # a leaf sits next to its first user, not in column 0 far away from it
                column[i] = min(column[c] for c in users[i]) - 1
        ins: list[list[int]] = [list(dict.fromkeys(self._parents[i])) for i in range(n)]
        outs: list[list[int]] = [list(dict.fromkeys(u)) for u in users]
        routes: dict[tuple[int, int], list[int]] = {}
        for target in range(n):
            for source in ins[target]:
                chain: list[int] = []
                for col in range(column[source] + 1, column[target]):
                    w = len(column)
                    column.append(col)
                    ins.append([chain[-1] if chain else source])
                    outs.append([])
                    if chain:
                        outs[chain[-1]].append(w)
                    chain.append(w)
                if chain:
                    outs[chain[-1]].append(target)
                    ins[target] = [chain[-1] if p == source else p for p in ins[target]]
                    outs[source] = [chain[0] if u == target else u for u in outs[source]]
                routes[(source, target)] = chain
        width = max(column) + 1 if n else 0
        layers: list[list[int]] = [[] for _ in range(width)]
        for i, col in enumerate(column):
            layers[col].append(i)
        # positions centred in each column, as they are drawn
        position = {i: k - (len(layer) - 1) / 2 for layer in layers for k, i in enumerate(layer)}
        for _ in range(4):  # a few sweeps settle small graphs; this is a picture, not a proof
            for layer in layers[1:]:
                _sort_by_barycentre(layer, position, ins)
            for layer in reversed(layers[:-1]):
                _sort_by_barycentre(layer, position, outs)
        return layers, routes

    # ----------------------------------------------------------------- summary
    def summary(self) -> dict[str, Any]:
        """Counts that describe the graph: nodes, edges, inputs, constants, depth (the
        number of columns), the widest column, and how many nodes each operation made."""
        layers = self.layers()
        ops = Counter(node.op for node in self.nodes if node.op)
        return {
            "nodes": len(self.nodes),
            "edges": len(self.edges),
            "inputs": sum(1 for node in self.nodes if node.kind == "input"),
            "constants": sum(1 for node in self.nodes if node.kind == "constant"),
            "depth": len(layers),
            "widest": max((len(layer) for layer in layers), default=0),
            "ops": dict(ops.most_common()),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON): the nodes as dicts, the edges as [source, target, arg]."""
        nodes = []
        for node in self.nodes:
            nodes.append(
                {
                    "index": node.index,
                    "op": node.op,
                    "kind": node.kind,
                    "name": node.name,
                    "detail": node.detail or None,
                    "shape": list(node.shape),
                    "value": _plain(node.value),
                    "grad": _plain(node.grad),
                }
            )
        return {"nodes": nodes, "edges": [list(e) for e in self.edges]}

    # ------------------------------------------------------------------- labels
    def label(
        self,
        node: Node,
        *,
        show_values: bool = True,
        show_grads: bool = True,
        collapse: bool = False,
        digits: int = 4,
    ) -> list[str]:
        """The lines that describe ``node`` in a picture: its title, then its value and
        gradient (a 1-D one as its shape alone when ``collapse``)."""
        lines = [node.title]
        collapsed = collapse and bool(node.shape)
        if show_values and not collapsed:
            lines.append(f"value {_text(node.value, node.shape, digits)}")
        if show_grads and node.grad is not None and not collapsed:
            lines.append(f"grad {_text(node.grad, node.shape, digits)}")
        if node.shape and (collapsed or not show_values):
            lines.append(f"shape ({node.shape[0]},)")
        return lines

    def to_dot(
        self,
        *,
        show_values: bool = True,
        show_grads: bool = True,
        collapse: bool = False,
        digits: int = 4,
    ) -> str:
        """The graph in Graphviz's DOT language, left to right (``dot -Tsvg``); every node,
        whatever the size (the node budget is :meth:`draw`'s)."""
        out = [
            "digraph geograd {",
            "  rankdir=LR;",
            '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        ]
        for node in self.nodes:
            lines = self.label(
                node,
                show_values=show_values,
                show_grads=show_grads,
                collapse=collapse,
                digits=digits,
            )
            text = "\\n".join(_dot_escape(line) for line in lines)
            color = _COLORS["root" if node is self.root else node.kind]
            bold = ", penwidth=2" if node is self.root else ""
            out.append(f'  n{node.index} [label="{text}", fillcolor="{color}"{bold}];')
        for e in self.edges:
            label = f' [label="{e.arg}"]' if self._numbered(e.target) else ""
            out.append(f"  n{e.source} -> n{e.target}{label};")
        out.append("}")
        return "\n".join(out) + "\n"

    def _numbered(self, target: int) -> bool:
        """Whether the edges into ``target`` carry their argument number (the order of
        the arguments matters: ``sub``, ``div``, ``pow``, ...)."""
        return len(self._parents[target]) > 1 and self.nodes[target].op not in _SYMMETRIC

    # ------------------------------------------------------------------ drawing
    def figure(
        self,
        *,
        show_values: bool = True,
        show_grads: bool = True,
        collapse: bool = False,
        digits: int = 4,
        max_nodes: int = MAX_NODES,
        title: str | None = None,
    ) -> Any:
        """A matplotlib Figure of the graph (its summary beyond ``max_nodes`` nodes)."""
        if max_nodes < 1:
            raise InputError(f"graph: max_nodes must be at least 1, not {max_nodes}")
        if len(self.nodes) > max_nodes:
            return self._summary_figure(max_nodes, title)
        return self._graph_figure(show_values, show_grads, collapse, digits, title)

    def draw(
        self,
        path: str | os.PathLike[str],
        *,
        show_values: bool = True,
        show_grads: bool = True,
        collapse: bool = False,
        digits: int = 4,
        max_nodes: int = MAX_NODES,
        title: str | None = None,
    ) -> Path:
        """Draw the graph to ``path`` (.png, .svg or .pdf), written atomically; the path.

        Left to right in layers, each node a box with its name and operation, value and
        gradient; matplotlib only, no Graphviz. A graph of more than ``max_nodes``
        nodes is drawn as a summary instead (see the module docstring).
        """
        from geograd.plot import save_figure  # matplotlib, only now

        fig = self.figure(
            show_values=show_values,
            show_grads=show_grads,
            collapse=collapse,
            digits=digits,
            max_nodes=max_nodes,
            title=title,
        )
        return save_figure(fig, path, dpi=_dpi(fig))

    def _graph_figure(
        self, show_values: bool, show_grads: bool, collapse: bool, digits: int, title: str | None
    ) -> Any:
        layers, routes = self._layout()
        rows = max(len(layer) for layer in layers)
        labels = [
            "\n".join(
                self.label(
                    node,
                    show_values=show_values,
                    show_grads=show_grads,
                    collapse=collapse,
                    digits=digits,
                )
            )
            for node in self.nodes
        ]
        widest = max(len(line) for text in labels for line in text.split("\n"))
        lines = max(text.count("\n") + 1 for text in labels)
        # a column as wide as the longest label (8 pt type: about 0.075 in a character)
        col = max(1.6, 0.075 * widest + 0.7)
        row = 0.22 * lines + 0.45
        fig = _new_figure(col * len(layers) + 0.4, row * rows + (0.7 if title else 0.4))
        ax = fig.add_axes((0.0, 0.0, 1.0, 0.92 if title else 1.0))
        ax.set_axis_off()
        ax.set_xlim(-0.5, len(layers) - 0.5)
        ax.set_ylim(-rows / 2, rows / 2)
        where: dict[int, tuple[float, float]] = {}
        for col, layer in enumerate(layers):
            top = (len(layer) - 1) / 2
            for k, i in enumerate(layer):
                where[i] = (float(col), top - k)
        boxes = {}
        for node in self.nodes:
            kind = "root" if node is self.root else node.kind
            x, y = where[node.index]
            boxes[node.index] = ax.text(
                x,
                y,
                labels[node.index],
                ha="center",
                va="center",
                fontsize=8,
                family="DejaVu Sans",
                zorder=3,
                bbox={
                    "boxstyle": "round,pad=0.4",
                    "facecolor": _COLORS[kind],
                    "edgecolor": "#222222",
                    "linewidth": 1.6 if kind == "root" else 0.8,
                },
            )
        # the boxes get their sizes when drawn: draw once, then end each arrow on the edges
        fig.canvas.draw()
        to_data = ax.transData.inverted()
        extent: dict[int, tuple[float, float, float, float]] = {}
        for i, box in boxes.items():
            (x0, y0), (x1, y1) = to_data.transform(box.get_bbox_patch().get_window_extent())
            extent[i] = (float(x0), float(y0), float(x1), float(y1))
        seen: dict[tuple[int, int], list[int]] = {}
        for e in self.edges:
            seen.setdefault((e.source, e.target), []).append(e.arg)
        for (source, target), args in seen.items():
            points = [where[source], *(where[w] for w in routes[(source, target)]), where[target]]
            start = _leave_box(points[0], points[1], extent[source])
            end = _leave_box(points[-1], points[-2], extent[target])
            bends = [start, *points[1:-1]]
            if len(bends) > 1:  # through the waypoints, then the arrow's last segment
                ax.plot(*zip(*bends), color="#555555", linewidth=0.8, zorder=2)
            ax.annotate(
                "",
                xy=end,
                xytext=bends[-1],
                zorder=2,
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": "#555555",
                    "linewidth": 0.8,
                    "shrinkA": 0,
                    "shrinkB": 0,
                },
            ).set_in_layout(False)
            if self._numbered(target) or len(args) > 1:
                # x - y: two numbered arrows; p + p: one arrow, "×2"; p / p: one, "0,1"
                text = ",".join(map(str, args)) if self._numbered(target) else f"×{len(args)}"
                (x0, y0), (x1, y1) = bends[-1], end
                ax.text(
                    x0 + 0.8 * (x1 - x0),
                    y0 + 0.8 * (y1 - y0),
                    text,
                    fontsize=7,
                    color="#444444",
                    ha="center",
                    va="center",
                    zorder=4,
                    bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "linewidth": 0},
                )
        if title:
            fig.suptitle(title, fontsize=10)
        return fig

    def _summary_figure(self, max_nodes: int, title: str | None) -> Any:
        info = self.summary()
        ops = list(info["ops"].items())
        shown = ops[:15]
        fig = _new_figure(10.0, 2.0 + 0.3 * max(len(shown), 5))
        ax = fig.add_axes((0.13, 0.2, 0.36, 0.64))
        names = [name for name, _ in shown][::-1]
        counts = [count for _, count in shown][::-1]
        ax.barh(range(len(names)), counts, color="#0072B2")
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set_xlabel("nodes made by the operation", fontsize=8)
        if len(ops) > len(shown):
            ax.set_title(f"the {len(shown)} most frequent of {len(ops)} operations", fontsize=8)
        root = self.root
        lines = [
            f"{info['nodes']} nodes, more than the budget of {max_nodes}:",
            "a summary (max_nodes draws more; to_dot has every node)",
            "",
            f"edges          {info['edges']}",
            f"inputs         {info['inputs']}",
            f"constants      {info['constants']}",
            f"depth          {info['depth']} columns",
            f"widest column  {info['widest']} nodes",
            "",
            f"root: {root.title}, shape {root.shape or '()'}",
            f"  value {_text(root.value, root.shape, 6)}",
        ]
        if root.grad is not None:
            lines.append(f"  grad  {_text(root.grad, root.shape, 6)}")
        fig.text(0.55, 0.84, "\n".join(lines), va="top", ha="left", fontsize=8, family="monospace")
        fig.suptitle(title or "computational graph (summary)", fontsize=10)
        return fig


def graph(
    root: Tensor,
    names: Mapping[str, Tensor] | Iterable[tuple[Tensor, str]] | None = None,
    *,
    gradients: Gradients = "stored",
) -> Graph:
    """The graph that ``root`` recorded: every tensor it was computed from, constants
    included, with the edges between them (see the module docstring).

    ``names`` labels tensors (``{"A": A, "x": x}``), intermediate ones too; pairs
    ``(tensor, name)`` do the same where names repeat (two constants both ``3``).
    ``gradients``: ``"stored"`` shows each node's ``.grad`` as a backward left it
    (None where it has none), ``"root"`` computes d root / d node for every node now,
    leaving every ``.grad`` as it was (``root`` must be 0-D), ``"none"`` shows none.
    """
    if not isinstance(root, Tensor):
        raise InputError(f"graph: expected a Tensor, got {type(root).__name__}")
    if gradients not in ("stored", "root", "none"):
        raise InputError(f"graph: gradients must be 'stored', 'root' or 'none', not {gradients!r}")
    order = topological_order(root, every=True)
    index = {id(t): k for k, t in enumerate(order)}
    labels: dict[int, str] = {}
    if isinstance(names, Mapping):
        labels = {id(t): str(name) for name, t in names.items()}
    elif names is not None:
        labels = {id(t): str(name) for t, name in names}
    grads: dict[int, Tensor] = {}
    if gradients == "root":
        if root.shape:
            raise ShapeError(
                f"graph: gradients='root' needs a 0-D result; this one has shape {root.shape}"
            )
        if root.requires_grad:
            # the nodes that require grad, as backward would see them; nothing is written
            grads = backprop(root, Tensor.from_data(1.0), create_graph=False)[1]
    nodes: list[Node] = []
    edges: list[Edge] = []
    parents: list[tuple[int, ...]] = []
    for k, t in enumerate(order):
        if gradients == "stored":
            g = t.grad
        elif gradients == "root":
            g = grads.get(id(t))
        else:
            g = None
        ps = tuple(index[id(p)] for p in t.parents) if t.op is not None else ()
        parents.append(ps)
        edges.extend(Edge(p, k, arg) for arg, p in enumerate(ps))
        kind = "op" if t.op is not None else "input" if t.requires_grad else "constant"
        nodes.append(
            Node(
                index=k,
                op=t.op.name if t.op is not None else None,
                kind=kind,
                shape=t.shape,
                value=_entries(t.data),
                grad=None if g is None else _entries(g.data),
                name=labels.get(id(t)),
                detail=_detail(t),
                requires_grad=t.requires_grad,
            )
        )
    return Graph(tuple(nodes), tuple(edges), tuple(parents))


# ------------------------------------------------------------------------- helpers


def _entries(data: Any) -> Value:
    """A value kept in a node: the float, or the first entries of a 1-D array (NaN kept
    as it is: a picture of a failing graph must still be drawn)."""
    if type(data) is float:
        return data
    n = B.shape_of(data)[0]
    be = B.backend_of(data)
    return tuple(float(be.entry(data, i)) for i in range(min(n, STORED_ENTRIES)))


def _detail(t: Tensor) -> str:
    """What an operation was given besides tensors, as a picture shows it: ``[i]`` for
    indexing; nothing for the others (their static arguments are bookkeeping)."""
    if t.op is not None and t.op.name == "take" and "index" in t.static:
        index = t.static["index"]
        if isinstance(index, slice):
            start = "" if index.start is None else index.start
            stop = "" if index.stop is None else index.stop
            return f"[{start}:{stop}]"
        return f"[{index}]"
    return ""


def _num(v: float, digits: int) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


def _text(value: Value | None, shape: tuple[int, ...], digits: int) -> str:
    """``value`` for a label: a number, or ``[a, b, c, …] (n)`` for a long vector."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return _num(value, digits)
    n = shape[0] if shape else len(value)
    shown = ", ".join(_num(v, digits) for v in value[:SHOWN_ENTRIES])
    if n > SHOWN_ENTRIES:
        return f"[{shown}, …] ({n})"
    return f"[{shown}]"


def _plain(value: Value | None) -> float | list[float] | None:
    return list(value) if isinstance(value, tuple) else value


def _dot_escape(text: str) -> str:
    """Text inside a DOT double-quoted string: backslashes and quotes escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _sort_by_barycentre(
    layer: list[int], position: dict[int, float], neighbours: Sequence[Sequence[int]]
) -> None:
    """Reorder ``layer`` by the mean position of each node's ``neighbours`` (a node
    without any keeps its place); then renumber the positions, centred."""

    def key(i: int) -> float:
        ns = neighbours[i]
        return sum(position[j] for j in ns) / len(ns) if ns else position[i]

    layer.sort(key=key)  # stable: ties keep the topological order
    for k, i in enumerate(layer):
        position[i] = k - (len(layer) - 1) / 2


def _leave_box(
    centre: tuple[float, float], toward: tuple[float, float], box: tuple[float, float, float, float]
) -> tuple[float, float]:
    """Where the segment from ``centre`` to ``toward`` leaves the rectangle ``box``
    (x0, y0, x1, y1) around ``centre``: an arrow starts or ends there, not under a box."""
    (cx, cy), (tx, ty) = centre, toward
    dx, dy = tx - cx, ty - cy
    half_w, half_h = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    # the fraction of the segment inside the box: the first side it crosses
    t = min(
        half_w / abs(dx) if dx else math.inf,
        half_h / abs(dy) if dy else math.inf,
        1.0,
    )
    return cx + t * dx, cy + t * dy


def _new_figure(width: float, height: float) -> Any:
    """A pyplot-free Figure on an Agg canvas (no display, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _dpi(fig: Any) -> int:
    """150 dots per inch, less for a very wide figure, so a PNG stays below 12,000 pixels
    on its longest side (vector formats ignore it)."""
    width, height = fig.get_size_inches()
    return max(30, min(150, int(12000 / max(width, height, 1.0))))
