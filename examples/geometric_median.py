"""The geometric median from scratch: a loss, its gradient by the engine, a descent loop.

    python examples/geometric_median.py

The geometric median of points p_i minimises the mean distance L(c) = (1/n) Σ ||p_i − c||.
No closed form exists. Here the engine gives ∇L (with ``backward``), a hand-written
gradient descent with a step that halves when the loss would rise finds the
minimum, and Weiszfeld's fixed-point iteration c ← Σ (p_i/d_i) / Σ (1/d_i), the
classical algorithm, checks the answer. The script prints the start, the answer,
Weiszfeld's, and the distance between them.
"""

from __future__ import annotations

import math
import random

import geograd.functional as F
from geograd import Tensor

rng = random.Random(5)
xs = [rng.uniform(0.0, 1.0) for _ in range(200)]
ys = [rng.uniform(0.0, 1.0) for _ in range(200)]
X, Y = Tensor(xs), Tensor(ys)


def loss(c: Tensor) -> Tensor:
    return F.mean(F.hypot(X - c[0], Y - c[1]))  # the mean Euclidean distance


c = Tensor([0.0, 0.0], requires_grad=True)
print(f"start: c = (0, 0), L = {loss(c).item():.10f}")
lr, previous = 0.5, math.inf
steps = 0
while steps < 2000:
    steps += 1
    L = loss(c)
    if previous - L.item() < 1e-15:  # no more progress in float64: done
        break
    previous = L.item()
    c.grad = None
    L.backward()
    assert c.grad is not None
    gx, gy = c.grad.tolist()
    while True:  # backtracking: halve the step until the loss goes down
        trial = Tensor([c.tolist()[0] - lr * gx, c.tolist()[1] - lr * gy], requires_grad=True)
        if loss(trial).item() < L.item() or lr < 1e-14:
            break
        lr /= 2
    c = trial
    lr *= 1.5  # and let it grow again
cx, cy = c.tolist()
print(f"gradient descent: c = ({cx:.10f}, {cy:.10f}), L = {loss(c).item():.12f}, {steps} steps")

wx, wy = 0.5, 0.5
for _ in range(2000):
    w = [1.0 / math.hypot(px - wx, py - wy) for px, py in zip(xs, ys)]
    nx = sum(px * wi for px, wi in zip(xs, w)) / sum(w)
    ny = sum(py * wi for py, wi in zip(ys, w)) / sum(w)
    done = math.hypot(nx - wx, ny - wy) < 1e-15
    wx, wy = nx, ny
    if done:
        break
print(f"Weiszfeld:        c = ({wx:.10f}, {wy:.10f})")
print(f"distance between the two: {math.hypot(cx - wx, cy - wy):.1e}")
