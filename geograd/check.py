"""Gradient checks: autograd against central finite differences (and a closed form).

The central difference (f(x + h e_i) - f(x - h e_i)) / 2h has truncation error
O(h²) and rounding error O(ε/h), so the best step is about ε^(1/3) ≈ 6e-6
relative to |x_i|; :func:`gradcheck` uses ``eps * max(1, |x_i|)``, and
:func:`three_way_check` ``eps * max(s_i, |x_i|)`` with s_i the scale of coordinate i
(1 unless given: data at 1e-320 or 1e300 need their own). Where the difference quotient
cannot be formed in float64 (the step is below the normal range, x ± h or the loss
overflows) :func:`three_way_check` says so (``fd_unavailable``) instead of comparing nan.
Where the objective, the autograd gradient or the closed-form gradient cannot be
computed at x itself (an overflow, a NaN, a division by zero, a gradient that is not
finite) there is nothing to compare: it raises :class:`CheckPointError`, naming which
of them failed and how, instead of returning nan.
:func:`finite_difference_sweep` gives the error as a function of h (the V-shaped
curve of rounding against truncation).

On a manifold (pymanopt's and Manopt's diagnostics): :func:`check_riemannian_gradient`
fits the log-log slope of the Taylor remainder f(R_x(t u)) - f(x) - t <grad f(x), u>
(2 for a right Riemannian gradient, 1 for a wrong one), and :func:`check_retraction`
the slope of the distance between the retraction and the exponential map (3 for a
second-order retraction, at least 2 for any retraction).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from geograd import backend as B
from geograd.backend import Data
from geograd.errors import GeogradError, InputError, NaNError, ShapeError
from geograd.manifolds import Manifold
from geograd.tensor import Tensor, as_tensor, backprop, no_grad


class GradcheckError(GeogradError, AssertionError):
    """Autograd and finite differences disagree beyond the tolerances."""


@dataclass
class LegFailure:
    """One computation :func:`three_way_check` could not do at its point.

    ``computation``: "the objective", "the autograd gradient" or "the closed-form
    gradient"; ``what``: how it failed, in words ("overflows float64", "is NaN",
    "divides by zero", "is not defined", "is not finite"); ``detail``: the error's own
    message (or which coordinates are not finite); ``overflowed``: the failure comes from
    a value beyond float64 (inf, or NaN made from inf): a point nearer the data helps,
    where for a division by zero or a domain error a point where the function is defined
    does.
    """

    computation: str
    what: str
    detail: str
    overflowed: bool

    def __str__(self) -> str:
        return f"{self.computation} {self.what} there ({self.detail})"


class CheckPointError(GeogradError):
    """:func:`three_way_check` could not compute the objective, the autograd gradient or
    the closed-form gradient at its point: ``failures`` says which and how; ``autograd``
    and ``closed_form`` hold the gradients that were computed (finite), else None."""

    def __init__(
        self,
        point: list[float],
        failures: list[LegFailure],
        autograd: list[float] | None = None,
        closed_form: list[float] | None = None,
    ) -> None:
        self.point = point
        self.failures = failures
        self.autograd = autograd
        self.closed_form = closed_form
        shown = ", ".join(f"{v:.6g}" for v in point[:6]) + (", ..." if len(point) > 6 else "")
        super().__init__(f"three_way_check at x = ({shown}): {self.reason}")

    @property
    def reason(self) -> str:
        """Every failure, in one clause: "the objective overflows float64 there (...)"."""
        return "; and ".join(str(f) for f in self.failures)

    @property
    def overflowed(self) -> bool:
        """True when a failure comes from a value beyond float64 (see :class:`LegFailure`)."""
        return any(f.overflowed for f in self.failures)


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
    """f's output as a 0-D tensor; ShapeError (as ``grad`` raises) for any other shape: a
    mistake in the call, not a mismatch of the derivatives (GradcheckError)."""
    t = as_tensor(out)
    if t.shape:
        raise ShapeError(f"{name}: f must return a 0-D tensor, it returned shape {t.shape}")
    return t


def autograd_gradients(f: Callable[..., Any], inputs: Sequence[Any]) -> list[list[float]]:
    """The gradient of the 0-D ``f(*inputs)`` with respect to each input, by backprop."""
    xs = [Tensor(as_tensor(x), requires_grad=True) for x in inputs]
    out = _scalar(f(*xs), "gradcheck")
    if not out.requires_grad:
        return [[0.0] * len(_flat(x)) for x in xs]
    grads = backprop(out, Tensor(1.0), create_graph=False)[1]
    return [_flat(grads[id(x)]) if id(x) in grads else [0.0] * len(_flat(x)) for x in xs]


def _steps(scale: float | Sequence[float], n: int) -> list[float]:
    scales = [float(scale)] * n if isinstance(scale, (int, float)) else [float(v) for v in scale]
    if len(scales) != n or not all(math.isfinite(v) and v > 0.0 for v in scales):
        raise InputError(
            f"central differences: scale must be one finite number > 0 or {n} of them, "
            f"not {scale!r}"
        )
    return scales


def central_differences(
    f: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    scale: float | Sequence[float] = 1.0,
) -> list[list[float]]:
    """(f(x + h e_i) - f(x - h e_i)) / 2h for each element of each input;
    h = eps·max(s_i, |x_i|), s_i = ``scale`` (the same for every element; or one per
    element of a single input): the length over which f changes, 1 by default."""
    xs = [as_tensor(x) for x in inputs]
    result: list[list[float]] = []
    with no_grad():
        for k, x in enumerate(xs):
            values = _flat(x)
            scales = _steps(scale, len(values))
            column: list[float] = []
            for i, v in enumerate(values):
                h = eps * max(scales[i], abs(v))
                shifted = []
                for sign in (1.0, -1.0):
                    trial = list(values)
                    trial[i] = v + sign * h
                    args = [*xs[:k], _rebuild(x, trial), *xs[k + 1 :]]
                    shifted.append(_scalar(f(*args), "gradcheck").item())
                column.append((shifted[0] - shifted[1]) / (2.0 * h))
            result.append(column)
    return result


#: The smallest normal float64: below it a number has fewer than 53 bits.
_NORMAL_MIN = 2.2250738585072014e-308


def _checked_differences(
    loss: Callable[[Tensor], Any], point: list[float], eps: float, scale: float | Sequence[float]
) -> tuple[list[float] | None, str | None]:
    """:func:`central_differences` of ``loss`` at the 1-D ``point``, or (None, why) where
    the difference quotient cannot be formed in float64: a step h below the normal range
    (data near 1e-320: a quotient of subnormal numbers has a few bits at best), x ± h
    outside the floats, a loss that overflows or cannot be evaluated at x ± h."""
    scales = _steps(scale, len(point))
    template = as_tensor(point)
    column: list[float] = []
    with no_grad():
        for i, v in enumerate(point):
            h = eps * max(scales[i], abs(v))
            where = f"coordinate {i + 1}" if len(point) > 1 else "x"
            if not h >= _NORMAL_MIN:
                return None, (
                    f"the step h = eps x max(scale, |x_i|) for {where} is {h:.3g}, below "
                    f"float64's normal range (scale {scales[i]:.3g})"
                )
            if not math.isfinite(h):
                return None, f"the step h for {where} overflowed float64"
            shifted = []
            for sign, name in ((1.0, "+"), (-1.0, "-")):
                trial = list(point)
                trial[i] = v + sign * h
                if not math.isfinite(trial[i]):
                    return None, f"x {name} h overflowed float64 at {where}"
                try:
                    value = _scalar(loss(_rebuild(template, trial)), "three_way_check").item()
                except OverflowError:
                    return None, f"the loss overflowed at x {name} h ({where})"
                except (ArithmeticError, ValueError) as exc:
                    if not _is_point_error(exc):  # a ShapeError, an InputError: no property
                        raise  # of the point
                    return None, f"the loss could not be evaluated at x {name} h ({where}): {exc}"
                if not math.isfinite(value):
                    return None, f"the loss is {value} at x {name} h ({where})"
                shifted.append(value)
            quotient = (shifted[0] - shifted[1]) / (2.0 * h)
            if not math.isfinite(quotient):
                return None, f"the difference quotient overflowed float64 at {where}"
            column.append(quotient)
    return column, None


def _compare(a: list[float], b: list[float]) -> tuple[float, float, int]:
    worst_abs, worst_rel, worst = 0.0, 0.0, -1
    for i, (u, v) in enumerate(zip(a, b)):
        err = abs(u - v)
        # over the larger magnitude (never 0 when err is not): a floor of 1e-300 made the
        # relative error of gradients near 1e-320 look like 1e-20
        rel = err / max(abs(u), abs(v)) if err else 0.0
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
    An ``f`` that does not return a 0-D tensor raises ShapeError, as ``grad`` does.
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
    """Autograd, a closed-form gradient and central differences at one point.

    ``numeric`` and the comparisons with it are None where the central differences
    cannot be formed in float64; ``fd_unavailable`` then says why.
    """

    x: list[float]
    autograd: list[float]
    closed_form: list[float]
    numeric: list[float] | None
    autograd_vs_closed: tuple[float, float]
    autograd_vs_numeric: tuple[float, float] | None
    closed_vs_numeric: tuple[float, float] | None
    fd_unavailable: str | None = None

    def passed(self, exact_tol: float = 1e-10, fd_tol: float = 1e-5) -> bool:
        """Autograd must match the closed form to ``exact_tol`` (relative, with a floor of 1)
        and both must match finite differences to ``fd_tol`` (where those were formed)."""
        if not self.autograd_vs_closed[0] <= exact_tol * max(1.0, _norm(self.closed_form)):
            return False
        if self.numeric is None or self.autograd_vs_numeric is None:
            return True
        assert self.closed_vs_numeric is not None
        allowed = fd_tol * max(1.0, _norm(self.numeric))
        return self.autograd_vs_numeric[0] <= allowed and self.closed_vs_numeric[0] <= allowed


def _norm(v: list[float]) -> float:
    return math.hypot(*v)


#: Errors of evaluating a loss or a gradient at a point: float64's limits and domains. A
#: ShapeError or an InputError is no property of the point and is not caught.
_POINT_ERRORS = (ArithmeticError, ValueError)

#: The engine's advice on a NaN, meant for a solve (rescale the data, lower the learning
#: rate, clip the gradients): no advice for a point the check was given.
_SOLVER_ADVICE = re.compile(r";\s*keep the values finite \([^)]*\)")

_OVERFLOW_WORDS = re.compile(r"\binf\b|infinit|overflow", re.IGNORECASE)


def _failure(computation: str, exc: BaseException) -> LegFailure:
    detail = _SOLVER_ADVICE.sub("", " ".join(str(exc).split())) or type(exc).__name__
    if isinstance(exc, OverflowError):
        what = "overflows float64"
    elif isinstance(exc, NaNError):
        what = "is NaN"
    elif isinstance(exc, ZeroDivisionError):
        what = "divides by zero"
    else:
        what = "is not defined"
    overflowed = isinstance(exc, (OverflowError, NaNError)) or bool(_OVERFLOW_WORDS.search(detail))
    return LegFailure(computation, what, detail, overflowed)


def _not_finite(computation: str, values: list[float]) -> LegFailure | None:
    bad = [(i, v) for i, v in enumerate(values) if not math.isfinite(v)]
    if not bad:
        return None
    shown = ", ".join(f"{v} at coordinate {i + 1}" for i, v in bad[:3])
    if len(bad) > 3:
        shown += f" and {len(bad) - 3} more"
    return LegFailure(computation, "is not finite", shown, True)


def _is_point_error(exc: BaseException) -> bool:
    return isinstance(exc, _POINT_ERRORS) and not isinstance(exc, (InputError, ShapeError))


def _attempt(computation: str, compute: Callable[[], Any], failures: list[LegFailure]) -> Any:
    """``compute()``, or None after adding to ``failures`` how ``computation`` failed at
    the point (an overflow, a NaN, a division by zero, a domain error); any other error,
    no property of the point, propagates."""
    try:
        return compute()
    except _POINT_ERRORS as exc:
        if not _is_point_error(exc):
            raise
        failures.append(_failure(computation, exc))
        return None


def _finite(
    computation: str, values: list[float], failures: list[LegFailure]
) -> list[float] | None:
    """``values``, or None after adding to ``failures`` that some are not finite."""
    bad = _not_finite(computation, values)
    if bad is not None:
        failures.append(bad)
        return None
    return values


def _autograd_leg(
    loss: Callable[[Tensor], Any], point: list[float], failures: list[LegFailure]
) -> list[float] | None:
    """The autograd gradient of ``loss`` at ``point``, or None after adding to
    ``failures`` why not (the objective, its backward pass, or a gradient not finite)."""
    xt = Tensor(as_tensor(point), requires_grad=True)
    out = _attempt("the objective", lambda: _scalar(loss(xt), "three_way_check"), failures)
    if out is None:
        return None
    if not out.requires_grad:
        return [0.0] * len(point)
    grads = _attempt(
        "the autograd gradient",
        lambda: backprop(out, Tensor(1.0), create_graph=False)[1],
        failures,
    )
    if grads is None:
        return None
    auto = _flat(grads[id(xt)]) if id(xt) in grads else [0.0] * len(point)
    return _finite("the autograd gradient", auto, failures)


def _closed_leg(
    closed_form: Callable[[list[float]], Sequence[float]],
    point: list[float],
    failures: list[LegFailure],
) -> list[float] | None:
    """``closed_form(point)`` as floats, or None after adding to ``failures`` why not."""
    exact = _attempt(
        "the closed-form gradient",
        lambda: [float(v) for v in closed_form(list(point))],
        failures,
    )
    return None if exact is None else _finite("the closed-form gradient", exact, failures)


def three_way_check(
    loss: Callable[[Tensor], Any],
    closed_form: Callable[[list[float]], Sequence[float]],
    x: Sequence[float],
    eps: float = 1e-6,
    scale: float | Sequence[float] = 1.0,
) -> ThreeWayReport:
    """Compare autograd, ``closed_form`` and central differences of ``loss`` at the 1-D point x.

    Each comparison is (max abs error, max rel error) over the elements. The central
    differences step by eps·max(s_i, |x_i|), s_i = ``scale`` (one number or one per
    coordinate: the length over which the loss changes); where they cannot be formed in
    float64 (see :func:`_checked_differences`) they are left out and the report's
    ``fd_unavailable`` says why.

    Where the objective, its autograd gradient or the closed form cannot be computed at
    x, or a gradient is not finite there, raises :class:`CheckPointError` saying which
    and how (every one that failed). The objective's value is not compared: an objective
    that is inf (a sum of squares of data near 1e308) with finite gradients is no failure.
    """
    point = [float(v) for v in x]
    failures: list[LegFailure] = []
    auto = _autograd_leg(loss, point, failures)
    exact = _closed_leg(closed_form, point, failures)
    if auto is None or exact is None:
        raise CheckPointError(point, failures, auto, exact)
    numeric, why = _checked_differences(loss, point, eps, scale)
    ac = _compare(auto, exact)
    if numeric is None:
        return ThreeWayReport(point, auto, exact, None, ac[:2], None, None, why)
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


# ------------------------------------------------------------------ on a manifold


def _logspace(lo: float, hi: float, n: int) -> list[float]:
    return [10.0 ** (lo + (hi - lo) * k / (n - 1)) for k in range(n)]


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares line y = a x + b through the points: (a, root-mean-square residual)."""
    n = len(xs)
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    a = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    b = my - a * mx
    rms = math.sqrt(math.fsum((a * x + b - y) ** 2 for x, y in zip(xs, ys)) / n)
    return a, rms


def _slope_of(
    ts: list[float], errors: list[float], floors: list[float], window: int
) -> tuple[float, tuple[float, float]]:
    """The slope of log10(error) against log10(t) over the most linear run of ``window``
    consecutive points whose error is above its rounding floor (pymanopt's
    ``identify_linear_piece``); (nan, (nan, nan)) when there is no such run."""
    best: tuple[float, float, int] | None = None
    for k in range(len(ts) - window + 1):
        run = range(k, k + window)
        if not all(errors[i] > floors[i] for i in run):
            continue
        a, rms = _fit([math.log10(ts[i]) for i in run], [math.log10(errors[i]) for i in run])
        if best is None or rms < best[1]:
            best = (a, rms, k)
    if best is None:
        return math.nan, (math.nan, math.nan)
    return best[0], (ts[best[2]], ts[best[2] + window - 1])


def _as_point(x: Any) -> Data:
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return B.to_data([float(v) for v in x], "x")
    return B.to_data(x, "x")


@dataclass
class RiemannianGradientReport:
    """The outcome of :func:`check_riemannian_gradient`.

    ``slope``: the fitted log-log slope of |f(R_x(t u)) - f(x) - t <g, u>| against t
    (2 expected; 1 when the gradient is wrong; 3 or more when the curve's second-order
    term vanishes); ``window``: the t range of the fit; ``exact``: the remainder stays
    at the rounding level for every t (the first-order model is exact, the slope is
    meaningless and the check passes); ``tangent_residual``: |g - proj(x, g)| / |g|,
    0 for a gradient in the tangent space (relative to the larger of |g| and the
    Euclidean gradient's length).
    """

    manifold: str
    slope: float
    window: tuple[float, float]
    exact: bool
    tangent_residual: float
    directional_derivative: float
    ts: list[float]
    errors: list[float]
    min_slope: float
    passed: bool

    def __str__(self) -> str:
        verdict = "pass" if self.passed else "FAIL"
        fit = "exact first-order model" if self.exact else f"slope {self.slope:.3f}"
        return (
            f"Riemannian gradient on {self.manifold}: {fit} (2 expected, >= "
            f"{self.min_slope:g} passes) over t in [{self.window[0]:.1e}, "
            f"{self.window[1]:.1e}], tangent residual {self.tangent_residual:.1e}: {verdict}"
        )


def check_riemannian_gradient(
    f: Callable[[Tensor], Any],
    manifold: Manifold,
    x: Any,
    *,
    u: Any = None,
    egrad: Callable[[Data], Any] | None = None,
    rng: random.Random | None = None,
    ts: Sequence[float] | None = None,
    window: int = 10,
    min_slope: float = 1.8,
) -> RiemannianGradientReport:
    """Check the Riemannian gradient of ``f`` at the point x of ``manifold`` along
    retraction curves, as pymanopt's ``check_gradient``.

    g = manifold.egrad2rgrad(x, ∇f(x)), with ∇f(x) by autograd (or ``egrad(x)``, a
    closed form to test); u a unit tangent vector (random, or ``u`` projected). For t
    in ``ts`` (51 values from 1e-8 to 1, log-spaced) the remainder
    e(t) = |f(R_x(t u)) - f(x) - t <g, u>_x| is O(t²) when g is right and O(t) when
    not: the report gives the slope of log e against log t over the most linear run
    of ``window`` points above the rounding level (64 ε max(|f(x)|, |f(R_x(tu))|)).
    Passes when that slope is >= ``min_slope`` (or the model is exact) and g is
    tangent (residual <= 1e-10).
    """
    point = _as_point(x)
    manifold.check_point(point, "check_riemannian_gradient: x")
    r = rng or random.Random(0)
    if egrad is None:
        xt = Tensor.from_data(point).requires_grad_()
        out = _scalar(f(xt), "check_riemannian_gradient")
        f0 = out.item()
        grads = backprop(out, Tensor(1.0), create_graph=False)[1] if out.requires_grad else {}
        g = grads[id(xt)].data if id(xt) in grads else B.zeros_like(point)
    else:
        with no_grad():
            f0 = _scalar(f(Tensor.from_data(point)), "check_riemannian_gradient").item()
        g = B.convert(_as_point(egrad(point)), point)
    rgrad = manifold.egrad2rgrad(point, g)
    size = manifold.norm(point, rgrad)
    residual = B.backend_of(point).vector_norm(rgrad - manifold.proj(point, rgrad))
    scale = max(size, B.backend_of(point).vector_norm(g))
    tangent_residual = residual / scale if scale > 0 else residual
    if u is None:
        direction = manifold.random_tangent(point, r)
    else:
        direction = manifold.proj(point, B.convert(_as_point(u), point))
        n = manifold.norm(point, direction)
        if n == 0.0:
            raise InputError("check_riemannian_gradient: u has no tangent component at x")
        direction = direction * (1.0 / n)
    df0 = manifold.inner(point, rgrad, direction)
    steps = list(ts) if ts is not None else _logspace(-8.0, 0.0, 51)
    errors: list[float] = []
    floors: list[float] = []
    eps = 2.220446049250313e-16
    with no_grad():
        for t in steps:
            y = manifold.retr(point, direction * t)
            ft = _scalar(f(Tensor.from_data(y)), "check_riemannian_gradient").item()
            errors.append(abs(ft - f0 - t * df0))
            floors.append(64.0 * eps * max(abs(f0), abs(ft), abs(t * df0), 1e-300))
    slope, span = _slope_of(steps, errors, floors, window)
    exact = all(e <= fl for e, fl in zip(errors, floors))
    passed = (exact or slope >= min_slope) and tangent_residual <= 1e-10
    return RiemannianGradientReport(
        manifold.spec, slope, span, exact, tangent_residual, df0, steps, errors, min_slope, passed
    )


@dataclass
class RetractionReport:
    """The outcome of :func:`check_retraction`.

    ``reference``: "exp" (the distance from the exponential map: slope >= 2 for a
    retraction, 3 for a second-order one) or "ambient" (the distance from the
    straight line x + t u: slope 2 for any retraction, which agrees with it to first
    order); ``slope`` over the most linear run in ``window``; ``centering_error``:
    |R_x(0) - x|; ``exact``: the curves agree to rounding for every t (the
    retraction is the exponential map: Euclidean).
    """

    manifold: str
    reference: str
    slope: float
    window: tuple[float, float]
    exact: bool
    second_order: bool
    centering_error: float
    ts: list[float]
    errors: list[float]
    min_slope: float
    passed: bool

    def __str__(self) -> str:
        verdict = "pass" if self.passed else "FAIL"
        fit = "identical curves" if self.exact else f"slope {self.slope:.3f}"
        order = " (second order)" if self.second_order else ""
        return (
            f"retraction on {self.manifold} against the {self.reference} curve: {fit}{order} "
            f"(>= {self.min_slope:g} passes), |R_x(0) - x| = {self.centering_error:.1e}: {verdict}"
        )


def check_retraction(
    manifold: Manifold,
    x: Any = None,
    u: Any = None,
    *,
    rng: random.Random | None = None,
    reference: str = "auto",
    ts: Sequence[float] | None = None,
    window: int = 10,
) -> RetractionReport:
    """Check that ``manifold.retr`` is a retraction, as pymanopt's ``check_retraction``.

    With x (random point) and a unit tangent u (random, or ``u`` projected),
    e(t) = |R_x(t u) - c(t)| for t in ``ts`` (61 values from 1e-6 to 1), where c is
    the exponential map's geodesic exp_x(t u) (``reference="exp"``; the default when
    the manifold has one) or the straight line x + t u (``"ambient"``). Against exp,
    pymanopt's rule: slope >= 2 for a retraction (agreement to first order), 3 for a
    second-order one; against the line, slope 2 (a retraction leaves the tangent
    line at second order). The distance is the ambient one (the geodesic distance to
    first order). Passes when the slope is >= 1.8, or the curves are identical to
    rounding, and R_x(0) = x to rounding.
    """
    r = rng or random.Random(0)
    point = manifold.random_point(r) if x is None else _as_point(x)
    manifold.check_point(point, "check_retraction: x")
    if u is None:
        direction = manifold.random_tangent(point, r)
    else:
        direction = manifold.proj(point, B.convert(_as_point(u), point))
        n = manifold.norm(point, direction)
        if n == 0.0:
            raise InputError("check_retraction: u has no tangent component at x")
        direction = direction * (1.0 / n)
    if reference not in ("auto", "exp", "ambient"):
        raise InputError(
            f"check_retraction: reference must be auto, exp or ambient, not {reference!r}"
        )
    if reference == "auto":
        try:
            manifold.exp(point, direction * 1e-3)
            reference = "exp"
        except NotImplementedError:
            reference = "ambient"
    be = B.backend_of(point)
    centering = be.vector_norm(manifold.retr(point, direction * 0.0) - point)
    steps = list(ts) if ts is not None else _logspace(-6.0, 0.0, 61)
    scale = max(1.0, be.vector_norm(point))
    eps = 2.220446049250313e-16
    errors: list[float] = []
    for t in steps:
        step = direction * t
        target = manifold.exp(point, step) if reference == "exp" else point + step
        errors.append(be.vector_norm(manifold.retr(point, step) - target))
    floors = [64.0 * eps * scale] * len(steps)
    slope, span = _slope_of(steps, errors, floors, window)
    exact = all(e <= fl for e, fl in zip(errors, floors))
    min_slope = 1.8
    passed = (exact or slope >= min_slope) and centering <= 64.0 * eps * scale
    second_order = reference == "exp" and (exact or slope >= 2.8)
    return RetractionReport(
        manifold.spec,
        reference,
        slope,
        span,
        exact,
        second_order,
        centering,
        steps,
        errors,
        min_slope,
        passed,
    )
