"""Gradient checks: autograd against central finite differences (and a closed form).

The central difference (f(x + h e_i) - f(x - h e_i)) / 2h has truncation error
O(h²) and rounding error O(ε/h), so the best step is about ε^(1/3) ≈ 6e-6
relative to |x_i|; :func:`gradcheck` uses ``eps * max(1, |x_i|)``.
:func:`finite_difference_sweep` gives the error as a function of h (the V-shaped
curve of rounding against truncation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from geograd import backend as B
from geograd.errors import GeogradError
from geograd.tensor import Tensor, as_tensor, backprop, no_grad


class GradcheckError(GeogradError, AssertionError):
    """Autograd and finite differences disagree beyond the tolerances."""


@dataclass
class InputReport:
    """How the autograd gradient of one input compares with finite differences."""

    index: int
    autograd: list[float]
    numeric: list[float]
    max_abs_error: float
    max_rel_error: float
    worst_element: int
    passed: bool


@dataclass
class GradcheckReport:
    """The outcome of :func:`gradcheck`: one :class:`InputReport` per input."""

    inputs: list[InputReport] = field(default_factory=list)
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.inputs)

    @property
    def max_abs_error(self) -> float:
        return max((r.max_abs_error for r in self.inputs), default=0.0)

    @property
    def max_rel_error(self) -> float:
        return max((r.max_rel_error for r in self.inputs), default=0.0)

    def __str__(self) -> str:
        lines = [f"{'input':>5}  {'max abs err':>12}  {'max rel err':>12}  ok"]
        for r in self.inputs:
            lines.append(
                f"{r.index:>5}  {r.max_abs_error:12.3e}  {r.max_rel_error:12.3e}  "
                f"{'yes' if r.passed else 'NO'}"
            )
        return "\n".join(lines)


def _flat(x: Tensor) -> list[float]:
    return x.tolist() if x.shape else [x.item()]


def _rebuild(template: Tensor, values: list[float]) -> Tensor:
    """A tensor holding ``values``, in the backend of ``template``."""
    if not template.shape:
        return Tensor(values[0])
    return Tensor.from_data(B.backend_of(template.data).from_list(values))


def _scalar(out: Any, name: str) -> Tensor:
    t = as_tensor(out)
    if t.shape:
        raise GradcheckError(f"{name}: f must return a 0-D tensor, it returned shape {t.shape}")
    return t


def autograd_gradients(f: Callable[..., Any], inputs: Sequence[Any]) -> list[list[float]]:
    """The gradient of the 0-D ``f(*inputs)`` with respect to each input, by backprop."""
    xs = [Tensor(as_tensor(x), requires_grad=True) for x in inputs]
    out = _scalar(f(*xs), "gradcheck")
    if not out.requires_grad:
        return [[0.0] * len(_flat(x)) for x in xs]
    grads = backprop(out, Tensor(1.0), create_graph=False)[1]
    return [_flat(grads[id(x)]) if id(x) in grads else [0.0] * len(_flat(x)) for x in xs]


def central_differences(
    f: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6
) -> list[list[float]]:
    """(f(x + h e_i) - f(x - h e_i)) / 2h for each element of each input; h = eps·max(1, |x_i|)."""
    xs = [as_tensor(x) for x in inputs]
    result: list[list[float]] = []
    with no_grad():
        for k, x in enumerate(xs):
            values = _flat(x)
            column: list[float] = []
            for i, v in enumerate(values):
                h = eps * max(1.0, abs(v))
                shifted = []
                for sign in (1.0, -1.0):
                    trial = list(values)
                    trial[i] = v + sign * h
                    args = [*xs[:k], _rebuild(x, trial), *xs[k + 1 :]]
                    shifted.append(_scalar(f(*args), "gradcheck").item())
                column.append((shifted[0] - shifted[1]) / (2.0 * h))
            result.append(column)
    return result


def _compare(a: list[float], b: list[float]) -> tuple[float, float, int]:
    worst_abs, worst_rel, worst = 0.0, 0.0, -1
    for i, (u, v) in enumerate(zip(a, b)):
        err = abs(u - v)
        rel = err / max(abs(u), abs(v), 1e-300) if err else 0.0
        if err > worst_abs or worst < 0:
            worst_abs, worst = err, i
        worst_rel = max(worst_rel, rel)
    return worst_abs, worst_rel, worst


def gradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> GradcheckReport:
    """Check autograd against central finite differences for a 0-D function of ``inputs``.

    An element passes when |autograd - numeric| <= atol + rtol·|numeric|. On a
    mismatch raises :class:`GradcheckError` naming the input, the element and
    both values (or, with ``raise_exception=False``, returns the failing report).
    """
    analytic = autograd_gradients(f, inputs)
    numeric = central_differences(f, inputs, eps)
    report = GradcheckReport(eps=eps, atol=atol, rtol=rtol)
    for k, (a, n) in enumerate(zip(analytic, numeric)):
        abs_err, rel_err, worst = _compare(a, n)
        passed = all(abs(u - v) <= atol + rtol * abs(v) for u, v in zip(a, n))
        report.inputs.append(InputReport(k, a, n, abs_err, rel_err, worst, passed))
    if raise_exception and not report.passed:
        bad = next(r for r in report.inputs if not r.passed)
        raise GradcheckError(
            f"gradcheck: input {bad.index}, element {bad.worst_element}: autograd gives "
            f"{bad.autograd[bad.worst_element]!r}, central differences give "
            f"{bad.numeric[bad.worst_element]!r} (abs err {bad.max_abs_error:.3e}, "
            f"atol {atol}, rtol {rtol})"
        )
    return report


@dataclass
class ThreeWayReport:
    """Autograd, a closed-form gradient and central differences at one point."""

    x: list[float]
    autograd: list[float]
    closed_form: list[float]
    numeric: list[float]
    autograd_vs_closed: tuple[float, float]
    autograd_vs_numeric: tuple[float, float]
    closed_vs_numeric: tuple[float, float]

    def passed(self, exact_tol: float = 1e-10, fd_tol: float = 1e-5) -> bool:
        """Autograd must match the closed form to ``exact_tol`` (relative, with a floor of 1)
        and both must match finite differences to ``fd_tol``."""
        return (
            self.autograd_vs_closed[0] <= exact_tol * max(1.0, _norm(self.closed_form))
            and self.autograd_vs_numeric[0] <= fd_tol * max(1.0, _norm(self.numeric))
            and self.closed_vs_numeric[0] <= fd_tol * max(1.0, _norm(self.numeric))
        )


def _norm(v: list[float]) -> float:
    return math.hypot(*v)


def three_way_check(
    loss: Callable[[Tensor], Any],
    closed_form: Callable[[list[float]], Sequence[float]],
    x: Sequence[float],
    eps: float = 1e-6,
) -> ThreeWayReport:
    """Compare autograd, ``closed_form`` and central differences of ``loss`` at the 1-D point x.

    Each comparison is (max abs error, max rel error) over the elements.
    """
    point = [float(v) for v in x]
    auto = autograd_gradients(loss, [point])[0]
    exact = [float(v) for v in closed_form(point)]
    numeric = central_differences(loss, [point], eps)[0]
    ac = _compare(auto, exact)
    an = _compare(auto, numeric)
    cn = _compare(exact, numeric)
    return ThreeWayReport(point, auto, exact, numeric, ac[:2], an[:2], cn[:2])


SWEEP_STEPS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13)


def finite_difference_sweep(
    loss: Callable[[Tensor], Any],
    reference_gradient: Sequence[float],
    x: Sequence[float],
    steps: Sequence[float] = SWEEP_STEPS,
) -> list[tuple[float, float]]:
    """(h, max abs error of central differences with step h) for each h in ``steps``."""
    ref = [float(v) for v in reference_gradient]
    point = [float(v) for v in x]
    out = []
    with no_grad():
        for h in steps:
            numeric = []
            for i, v in enumerate(point):
                plus, minus = list(point), list(point)
                plus[i], minus[i] = v + h, v - h
                fp = as_tensor(loss(Tensor(plus))).item()
                fm = as_tensor(loss(Tensor(minus))).item()
                numeric.append((fp - fm) / (2.0 * h))
            out.append((h, max(abs(a - b) for a, b in zip(numeric, ref))))
    return out
