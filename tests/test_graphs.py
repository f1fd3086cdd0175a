"""geograd.graphs: the graph of a result as data, DOT text and a drawing (issue 16, part 1)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import geograd.functional as F
from geograd import InputError, ShapeError, Tensor
from geograd.derivatives import gradient_graph
from geograd.graphs import Graph, graph


def seed() -> tuple[Graph, dict[str, Tensor]]:
    A, B, D = (Tensor(v, requires_grad=True) for v in (3.0, 5.0, 2.0))
    C = A + B
    Fo = C * D
    Fo.backward()
    names = {"A": A, "B": B, "C": C, "D": D, "F": Fo}
    return graph(Fo, names), names


def by_name(g: Graph) -> dict[str, object]:
    return {node.name: node for node in g.nodes if node.name}


def test_the_seed_graph_has_its_values_gradients_and_edges() -> None:
    g, _ = seed()
    nodes = by_name(g)
    values = {n: (node.value, node.grad) for n, node in nodes.items()}  # type: ignore[attr-defined]
    assert values == {
        "A": (3.0, 2.0),
        "B": (5.0, 2.0),
        "C": (8.0, 2.0),
        "D": (2.0, 8.0),
        "F": (16.0, 1.0),
    }
    assert g.root.name == "F" and g.root.op == "mul"
    assert nodes["C"].op == "add" and nodes["A"].kind == "input"  # type: ignore[attr-defined]
    index = {node.name: node.index for node in g.nodes}
    edges = {(g.nodes[e.source].name, g.nodes[e.target].name, e.arg) for e in g.edges}
    assert edges == {("A", "C", 0), ("B", "C", 1), ("C", "F", 0), ("D", "F", 1)}
    # topological: every argument comes before the node that uses it
    assert all(index[g.nodes[e.source].name] < index[g.nodes[e.target].name] for e in g.edges)
    assert g.reverse_order()[0].name == "F"


def test_dot_text_has_every_node_with_value_and_gradient() -> None:
    g, _ = seed()
    dot = g.to_dot()
    assert dot.startswith("digraph geograd {") and "rankdir=LR" in dot
    assert 'label="C = add\\nvalue 8\\ngrad 2"' in dot
    assert 'label="D\\nvalue 2\\ngrad 8"' in dot
    assert dot.count("->") == 4
    bare = g.to_dot(show_values=False, show_grads=False)
    assert "\\nvalue" not in bare and "\\ngrad" not in bare and 'label="C = add"' in bare


def test_dot_escapes_quotes_and_backslashes_in_names() -> None:
    x = Tensor(1.0, requires_grad=True)
    y = x * 2.0
    dot = graph(y, {'a"b\\c': x}).to_dot()
    assert 'label="a\\"b\\\\c\\nvalue 1' in dot


def test_non_commutative_edges_are_numbered() -> None:
    x = Tensor(5.0, requires_grad=True)
    y = Tensor(2.0, requires_grad=True)
    dot = graph(x - y, {"x": x, "y": y}).to_dot()
    assert '[label="0"]' in dot and '[label="1"]' in dot
    assert "[label=" not in graph(x + y).to_dot().split("}")[0].split("->", 1)[1]


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_the_seed_graph_is_drawn_with_values_and_gradients(tmp_path: Path, suffix: str) -> None:
    g, _ = seed()
    path = g.draw(tmp_path / f"seed.{suffix}")
    data = path.read_bytes()
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[suffix]
    assert data.startswith(magic)
    if suffix == "svg":
        text = data.decode()
        # matplotlib writes text as glyph paths; the labels are in its comments/ids
        assert "<svg" in text


def test_the_drawing_holds_the_labels() -> None:
    g, _ = seed()
    fig = g.figure(title="seed")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "C = add\nvalue 8\ngrad 2" in texts
    assert "F = mul\nvalue 16\ngrad 1" in texts


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    g, _ = seed()
    with pytest.raises(InputError, match="not one of"):
        g.draw(tmp_path / "seed.txt")
    assert not (tmp_path / "seed.txt").exists()


def tanh_second_derivative() -> tuple[Tensor, Tensor]:
    x = Tensor(0.5, requires_grad=True)
    (d1,) = gradient_graph(F.tanh(x), [x])
    (d2,) = gradient_graph(d1, [x])
    return x, d2


def test_the_graph_of_the_second_derivative_of_tanh_is_drawn(tmp_path: Path) -> None:
    x, d2 = tanh_second_derivative()
    t = math.tanh(0.5)
    assert d2.item() == pytest.approx(-2 * t * (1 - t * t), rel=1e-14)
    g = graph(d2, {"x": x}, gradients="root")
    assert g.root.value == d2.item()
    assert "tanh" in {node.op for node in g.nodes}
    # gradients='root': d(d2)/dx is the third derivative of tanh
    (xnode,) = [node for node in g.nodes if node.name == "x"]
    assert xnode.grad == pytest.approx(-2 * (1 - t * t) * (1 - 3 * t * t), rel=1e-12)
    path = g.draw(tmp_path / "tanh2.png", title="d²/dx² tanh")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_root_gradients_leave_every_grad_as_it_was() -> None:
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    z = y * 3.0
    assert x.grad is None
    g = graph(z, {"x": x, "y": y}, gradients="root")
    assert x.grad is None and y.grad is None
    assert by_name(g)["x"].grad == 12.0  # type: ignore[attr-defined]
    assert by_name(g)["y"].grad == 3.0  # type: ignore[attr-defined]
    assert all(node.grad is None for node in graph(z, gradients="none").nodes)
    assert all(node.grad is None for node in graph(z).nodes)  # nothing stored yet


def test_root_gradients_need_a_scalar() -> None:
    v = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ShapeError):
        graph(v * 2.0, gradients="root")
    with pytest.raises(InputError):
        graph(v * 2.0, gradients="all")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        graph(3.0)  # type: ignore[arg-type]


def test_constants_are_nodes_too() -> None:
    x = Tensor(1.0, requires_grad=True)
    g = graph(x + 3.0)
    kinds = sorted(node.kind for node in g.nodes)
    assert kinds == ["constant", "input", "op"]
    (const,) = [node for node in g.nodes if node.kind == "constant"]
    assert const.value == 3.0 and const.title == "const"


def test_one_dimensional_tensors_collapse_to_their_shape() -> None:
    v = Tensor([float(i) for i in range(100)], requires_grad=True)
    s = F.sum(v * 2.0)
    s.backward()
    g = graph(s, {"v": v})
    node = by_name(g)["v"]
    assert node.shape == (100,)  # type: ignore[attr-defined]
    full = g.label(node)  # type: ignore[arg-type]
    assert full[1] == "value [0, 1, 2, …] (100)" and full[2] == "grad [2, 2, 2, …] (100)"
    collapsed = g.label(node, collapse=True)  # type: ignore[arg-type]
    assert collapsed == ["v", "shape (100,)"]
    assert "shape (100,)" in g.to_dot(collapse=True)


def test_indexing_nodes_show_their_index() -> None:
    v = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = graph(v[2] * v[0])
    assert {node.title for node in g.nodes if node.op == "take"} == {"take[2]", "take[0]"}


def test_columns_run_left_to_right() -> None:
    x = Tensor(0.3, requires_grad=True)
    y = F.sin(x) * F.exp(x) + x
    g = graph(y)
    column = {i: k for k, layer in enumerate(g.layers()) for i in layer}
    assert sorted(column) == list(range(len(g)))
    assert all(column[e.source] < column[e.target] for e in g.edges)
    assert column[g.root.index] == len(g.layers()) - 1


def test_a_big_graph_is_drawn_as_a_summary(tmp_path: Path) -> None:
    x = Tensor(0.1, requires_grad=True)
    y = x
    for _ in range(100):
        y = F.tanh(y) * 1.01
    g = graph(y)
    assert len(g) > 80
    fig = g.figure(max_nodes=80)
    text = " ".join(t.get_text() for t in fig.texts)
    assert "more than the budget of 80" in text
    assert g.summary()["ops"] == {"tanh": 100, "mul": 100}
    whole = g.figure(max_nodes=len(g))
    assert "budget" not in " ".join(t.get_text() for t in whole.texts)
    assert g.draw(tmp_path / "big.svg").exists()
    with pytest.raises(InputError):
        g.figure(max_nodes=0)


def test_a_long_chain_is_built_without_recursion() -> None:
    x = Tensor(0.5, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    g = graph(y)
    assert len(g) == 40_001 and g.summary()["depth"] == 20_001


def test_to_dict_is_plain_data() -> None:
    g, _ = seed()
    d = g.to_dict()
    assert d["nodes"][-1] == {
        "index": 4,
        "op": "mul",
        "kind": "op",
        "name": "F",
        "detail": None,
        "shape": [],
        "value": 16.0,
        "grad": 1.0,
    }
    assert [0, 2, 0] in d["edges"]
