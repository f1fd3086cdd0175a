"""The seed tutorials' first graph: C = A + B, F = C * D, and its gradients.

    python examples/seed_graph.py [GRAPH.png|.svg|.pdf|.dot]

Prints each node's value and gradient after ``F.backward()``, and the chain rule
that gives them; with a file name, draws the graph with values and gradients
(matplotlib, no Graphviz) or writes its DOT text.
"""

from __future__ import annotations

import sys

from geograd import Tensor
from geograd.graphs import graph

A = Tensor(3.0, requires_grad=True)
B = Tensor(5.0, requires_grad=True)
D = Tensor(2.0, requires_grad=True)
C = A + B  # 8
F = C * D  # 16
F.backward()  # dF/dF = 1, then every node in reverse topological order

for name, t in (("F", F), ("C", C), ("D", D), ("A", A), ("B", B)):
    assert t.grad is not None
    print(f"{name} = {t.item():g}   dF/d{name} = {t.grad.item():g}")
print("chain rule: dF/dA = dF/dC * dC/dA = D * 1 =", D.item() * 1.0)
print("            dF/dD = C =", C.item())

g = graph(F, {"A": A, "B": B, "C": C, "D": D, "F": F})
print(f"graph: {len(g)} nodes, {len(g.edges)} edges")
if len(sys.argv) > 1:
    path = sys.argv[1]
    if path.endswith(".dot"):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(g.to_dot())
    else:
        g.draw(path, title="C = A + B, F = C * D")
    print(f"saved the graph to {path}")
