"""Sigmoid as a composition: exp, a sum and a division, differentiated node by node.

    python examples/sigmoid.py [GRAPH.png|.svg|.pdf]

σ(x) = 1 / (1 + exp(-x)). Built from the engine's primitives it is four nodes
(neg, exp, add, div) whose local derivatives the chain rule multiplies; the table's
own ``sigmoid`` primitive is one node whose derivative is σ(x)(1 − σ(x)). The script
prints both values and gradients at a few points (they agree to the last bits) and
the two graphs' sizes; with a file name, draws the composed graph.
"""

from __future__ import annotations

import sys

import geograd.functional as F
from geograd import Tensor
from geograd.graphs import graph


def composed(x: Tensor) -> Tensor:
    return 1.0 / (1.0 + F.exp(-x))


worst = 0.0
for x0 in (-4.0, -1.0, 0.0, 0.5, 3.0):
    x = Tensor(x0, requires_grad=True)
    s = composed(x)
    s.backward()
    assert x.grad is not None
    y = Tensor(x0, requires_grad=True)
    t = F.sigmoid(y)
    t.backward()
    assert y.grad is not None
    closed = t.item() * (1.0 - t.item())  # σ' = σ(1 − σ)
    worst = max(worst, abs(x.grad.item() - closed), abs(s.item() - t.item()))
    print(
        f"x = {x0:5.1f}  composed σ = {s.item():.15f}  dσ/dx = {x.grad.item():.15f}   "
        f"primitive σ = {t.item():.15f}  σ(1-σ) = {closed:.15f}"
    )
print(f"largest difference: {worst:.1e}")

x = Tensor(0.5, requires_grad=True)
s = composed(x)
s.backward()
g = graph(s, {"x": x})
ops = [node.op for node in g.nodes if node.op]
print(f"composed graph: {len(g)} nodes, operations {' '.join(ops)}")
print(f"primitive graph: {len(graph(F.sigmoid(x)))} nodes, operations sigmoid")
if len(sys.argv) > 1:
    g.draw(sys.argv[1], title="σ(x) = 1 / (1 + exp(-x)) at x = 0.5")
    print(f"saved the graph to {sys.argv[1]}")
