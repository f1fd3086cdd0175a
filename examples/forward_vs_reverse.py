"""Forward mode beside reverse mode: n JVPs or one VJP for the gradient of f: R^n -> R.

    python examples/forward_vs_reverse.py [N]

f(x) = Σ_i sin(x_i) x_{i+1} + log(1 + x_i²). Forward mode (``jvp``) pushes one
direction v through f and gets J v, one number: the full gradient needs n of them,
one per basis vector e_i. Reverse mode (``vjp``) pulls one cotangent u back and gets
J^T u, the whole gradient at once. Both give the same numbers; the script prints the
largest difference, how many passes each took, the time of each, and the adjoint
identity <u, J v> = <J^T u, v> for a random v.
"""

from __future__ import annotations

import itertools
import random
import sys
import time

import geograd.functional as F
from geograd import Tensor
from geograd.forward import jvp, vjp

n = int(sys.argv[1]) if len(sys.argv) > 1 else 50


def f(x: Tensor) -> Tensor:
    xs = x.unbind()
    total = F.log(1.0 + xs[-1] * xs[-1])
    for a, b in itertools.pairwise(xs):
        total = total + F.sin(a) * b + F.log(1.0 + a * a)
    return total


rng = random.Random(0)
x0 = [rng.uniform(-1.0, 1.0) for _ in range(n)]

start = time.perf_counter()
forward = []
for i in range(n):  # one JVP per coordinate: the i-th partial derivative
    e_i = [1.0 if j == i else 0.0 for j in range(n)]
    forward.append(jvp(f, (x0,), (e_i,))[1].item())
t_forward = time.perf_counter() - start

start = time.perf_counter()
value, pullback = vjp(f, (x0,))
reverse = pullback(1.0)[0].tolist()  # one VJP: every partial derivative
t_reverse = time.perf_counter() - start

print(f"f: R^{n} -> R, f(x) = {value.item():.12f}")
print(f"forward mode: {n} JVPs, {t_forward * 1e3:.1f} ms")
print(f"reverse mode: 1 VJP, {t_reverse * 1e3:.1f} ms")
diff = max(abs(a - b) for a, b in zip(forward, reverse))
print(f"largest difference between the two gradients: {diff:.1e}")

v = [rng.gauss(0.0, 1.0) for _ in range(n)]
jv = jvp(f, (x0,), (v,))[1].item()  # <u, J v> with u = 1
jtu_v = sum(g * vi for g, vi in zip(reverse, v))  # <J^T u, v>
print(f"adjoint identity: <u, J v> = {jv:.12f}, <J^T u, v> = {jtu_v:.12f}")
