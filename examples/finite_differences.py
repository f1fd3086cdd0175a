"""The finite-difference error against the step h: the V of truncation and rounding.

    python examples/finite_differences.py

The central difference (f(x + h) − f(x − h)) / 2h of f = sin at x = 1 errs by
about h² f'''/6 (truncation, large h) plus ε |f| / h (rounding, small h): the error
falls as h shrinks, reaches its floor near h ≈ ε^(1/3) ≈ 1e-5, then rises again.
The engine's gradient has no h: it is exact to rounding. The script prints the
table, the best h and autograd's error. For a problem's gradient, the CLI draws the
same V: ``geograd check median --h-sweep sweep.png``.
"""

from __future__ import annotations

import math

import geograd.functional as F
from geograd import grad

x0 = 1.0
exact = math.cos(x0)
print("h          central-difference error")
errors = {}
for k in range(1, 14):
    h = 10.0**-k
    estimate = (math.sin(x0 + h) - math.sin(x0 - h)) / (2 * h)
    errors[h] = abs(estimate - exact)
    print(f"1e-{k:02d}      {errors[h]:.2e}")
best = min(errors, key=lambda h: errors[h])
print(f"best h: {best:.0e} (error {errors[best]:.1e})")
print(f"error at h = 1e-01: {errors[1e-1]:.1e}; at h = 1e-13: {errors[1e-13]:.1e}")
autograd = grad(F.sin)(x0).item()
print(f"autograd error: {abs(autograd - exact):.1e}")
