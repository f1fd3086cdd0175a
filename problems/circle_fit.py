"""Circle fitting: the circle that best fits points, in the geometric least-squares sense.

Objective, for points p_i = (x_i, y_i), i = 1..n, over x = (cx, cy, R) with c = (cx, cy):

    L(c, R) = Σ_i (||p_i - c|| - R)²        d_i = ||p_i - c||,  r_i = d_i - R

the sum of squared distances from the points to the circle (the orthogonal or
"geometric" fit). Gradient, with u_i = (c - p_i)/d_i:

    ∂L/∂c = 2 Σ_i r_i u_i          ∂L/∂R = -2 Σ_i r_i

A term whose point sits exactly on the centre (d_i = 0) contributes 0 to ∂L/∂c,
the minimal-norm subgradient (geograd's ``norm`` does the same), so the closed
form and autograd agree everywhere. Hessian, used by the certificate and to tune
the solver:

    ∂²L/∂c² = 2 Σ_i [u_i u_iᵀ + r_i (I - u_i u_iᵀ)/d_i]
    ∂²L/∂c∂R = -2 Σ_i u_i          ∂²L/∂R² = 2n

At a minimum ∂L/∂R = 0, so R is the mean distance of the points from c. L is not
convex; on a short arc it is badly conditioned (moving the centre away from the
arc and growing R by as much barely changes the fit: the Hessian's condition
number is about 2 on a full circle, 100 on a 120° arc, 2·10⁴ on a 30° arc), and
when the points are nearly collinear a straight line fits better than any
circle and the minimum runs off to R = ∞.

Data
    Generated from ``random.Random(seed)`` (seed 5 by default): the true circle is
    the unit circle about the origin, and the points lie on the arc of ``arc``
    degrees centred on its top (90°). First all n angles, θ_i = 90° + uniform in
    [-arc/2, arc/2]; then, point by point, the x and the y noise, each
    ``r.gauss(0, noise)``: x_i = cos θ_i + e_x, y_i = sin θ_i + e_y. ``noise`` is
    thus in units of the radius; with ``noise=0`` the points are on the circle and
    every fit recovers it to rounding (exact recovery). Or ``points=FILE`` loads
    (x, y) points (see :mod:`geograd.problems.data`; at least 3, not all on a
    line, no weights); n, arc, noise and seed describe generated points, so giving
    one of them with a file is an input error.

Initial point and algebraic fits
    ``init`` chooses x0 among three algebraic fits, each computed from the data's
    moments about their centroid in plain Python (no numpy) by Chernov's
    formulas (N. Chernov, *Circular and Linear Regression*, 2010): ``kasa``
    (Kåsa 1976: least squares on x² + y² + Dx + Ey + F = 0; biased towards small
    circles on short arcs), ``taubin`` (Taubin 1991: the same, normalised by the
    gradient) and ``hyper`` (Al-Sharadqah & Chernov 2009: no essential bias, the
    best of the three on short arcs), the default. Taubin and hyper find the
    smallest non-negative root of their characteristic polynomial by Newton's
    method from 0; kasa is that formula at root 0. All three are exact on
    noiseless data. :meth:`CircleFit.algebraic_fits` gives all of them.

Reference
    The geometric fit by ``scipy.optimize.least_squares`` (Levenberg–Marquardt,
    analytic Jacobian, xtol = ftol = gtol = 1e-15) from the hyper fit, then
    polished by Newton steps with the closed-form Hessian (numpy) while they
    shrink, so that the gradient is at rounding level. The details report the
    algebraic fits and their losses, least_squares' status and evaluations, the
    Newton steps, and the certificate. Anchor (the scipy cookbook's full-circle
    data x = [9, 35, -13, 10, 23, 0], y = [34, 10, 6, -14, 27, -10]): centre
    (10.500086215850, 9.659949502134), R = 23.333527646040 — the cookbook's
    leastsq answer at its default tolerance (its gradient there is 2e-8); the
    stationary point itself, which this reference finds and 50-digit Newton
    confirms, is (10.500086213944, 9.659949505836), R = 23.333527646183, 4e-9
    away.

Scale
    :class:`CircleFit` keeps the points as given and computes on a unit copy: the
    points centred and divided by s, the power of two nearest their extent (see
    :mod:`geograd.problems.scaling`); the centre maps back as a point, the radius
    times s, the loss (a sum of squared lengths) times s², the Hessian unchanged.
    That loss exceeds the largest float for noisy points beyond about 1e154 (the
    least loss of noise 1e-3 on a circle of 1e160 is 1e314 per point): such data are
    refused with an input error that says so. Points fitting a circle exactly are
    solved at any scale; a solution within rounding of an exact fit may still have
    an objective beyond the largest float there, and :meth:`CircleFit.assess` then
    judges it by its distance.

Solver defaults (``solver_defaults()``)
    ``lbfgs`` — L-BFGS with a strong-Wolfe line search, one iteration a step (its
    ``minimize_defaults``) — from the hyper fit, with ``gtol`` = 1e-10 · λ_min ·
    extent (λ_min the smallest eigenvalue of the Hessian at the hyper fit: a
    gradient that small means the minimum is within about 1e-10 of the data's
    extent), ``ftol`` off and ``max_steps = 1000``. Chosen by measurement (issue
    13). Defaults (n = 100, 120° arc, noise 0.05, seed 5), this machine, median of
    3 interleaved rounds (``geograd compare circle-fit --optimizers
    nag,lbfgs,newton,trust-ncg`` gives the same steps):

    ==========  =====  =====  ========  ==========  ===========================
    method      steps  evals  time      distance    objective within 1e-9 at
    ==========  =====  =====  ========  ==========  ===========================
    lbfgs       11     15     2.6 ms    7.9e-10     step 8, 1.8 ms
    trust-ncg   5      7      4.4 ms    5.5e-14     step 4, 3.5 ms
    newton      13     15     7.6 ms    1.1e-12     step 12, 6.6 ms
    momentum    192    193    27 ms     1.4e-10     step 77
    nag         215    216    31 ms     1.8e-10     step 86
    gd          169    289    38 ms     1.5e-10     step 62
    adam        390    391    58 ms     1e-11       step 155
    ==========  =====  =====  ========  ==========  ===========================

    lbfgs ends either on gtol or, as here, on xtol: its line search finds no
    decrease, the loss flat to rounding (a converged stop, ~4e-10 of the extent
    from the minimum, equal to the reference's loss to 1e-16 relative). Over 26
    data sets (seeds 0-5, arcs of 45° to 360°, noise 0 to 0.2, n from 10 to 2000,
    every init) it matched the reference on all, within 1.3e-9 of the extent
    (median 12.5 steps, at most 8 ms), where nag, the default before, took a
    median of 300 steps and up to 0.33 s (45° arc: 2300 steps). trust-ncg matched
    on all too, within 1.4e-11, but at about twice lbfgs's time (its steps cost
    Hessian-vector products). Other figures of the default solve: a full circle 5
    steps, a half circle 9, a 60° arc 16 (4.5 ms; nag 1200 steps, 0.13 s), n =
    10000 12 steps (12 ms), ``init=kasa`` 11; noiseless data none (x0 is then
    already exact). Nearly straight arcs are ill-posed: a line fits almost as
    well, κ reaches 10⁶ and the minimum runs off towards R = ∞ (30° with noise
    0.05: lbfgs 20 steps, 7e-9 of the extent off; trust-ncg 16, 3e-16; nag 4773).

    L-BFGS needs no step size (its first step is scaled by the gradient, the later
    ones by the curvature pairs), so data in other units takes the same steps.

    The other optimizers are tuned from the curvature at the hyper fit (measured
    there rather than at x0, so that the tuning does not depend on ``init`` or a
    given ``x0``): ``nag`` with lr = 1/λ_max and momentum = (√κ - 1)/(√κ + 1),
    κ = λ_max/λ_min, the textbook setting for a strongly convex quadratic (O(√κ)
    steps, where steepest descent needs O(κ) and κ grows fast as the arc
    shortens: 2 on a full circle, about 100 on the default 120° arc, 1400 on a
    60° arc); ``gd``: first trial step 1/λ_max, ``c1`` = 0.5; ``sgd``: lr =
    1/λ_max; ``momentum``: heavy ball with nag's tuning (its own optimal tuning,
    lr = 4/(√λ_max + √λ_min)² and momentum ((√κ-1)/(√κ+1))², oscillated without
    end or diverged where the curvature along the path differs from the curvature
    at the minimum); ``max_steps`` = 20000 for these. The adaptive methods get a
    learning rate in units of the extent (:data:`ADAPTIVE`). On the default data
    every one of them ends within 1e-9 of the reference (adagrad and sgd the
    slowest, 1700-1800 steps; rmsprop runs its 5000).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geograd.functional as F
from geograd import Tensor
from geograd.errors import InputError

from .base import Option, Reference, bounding_box, draw_circle
from .lifecycle import Data, DataShape, PointProblem
from .scaling import Normalised, Quantities, Quantity, times_pow2

#: The algebraic fits, in the order they are reported; ``hyper`` is the default x0.
ALGEBRAIC_FITS = ("kasa", "taubin", "hyper")
DEFAULT_INIT = "hyper"
DEFAULT_OPTIMIZER = "lbfgs"

#: The adaptive optimizers' learning rate in units of the data's extent, the factor an
#: exponential schedule lowers it by over the run (None: no schedule, their steps shrink
#: with the gradient's history by themselves) and max_steps; tuned on 60° to 360° arcs.
ADAPTIVE: dict[str, tuple[float, float | None, int]] = {
    "adam": (1e-2, None, 20000),
    "adamw": (1e-2, None, 20000),
    "adamax": (1e-2, None, 20000),
    "adagrad": (3e-2, None, 20000),
    "rmsprop": (1e-3, 1e-6, 5000),
}
#: Newton's method on the characteristic polynomial: the relative step to stop at
#: (Chernov's) and a cap on the iterations.
_ROOT_RTOL = 1e-12
_ROOT_ITER = 50


class CircleFitCore(PointProblem):
    """The circle fit's mathematics over the points as they are given (see the module
    docstring); :class:`CircleFit`, the public class, runs it on a copy of the points
    centred and scaled to unit size (see :mod:`geograd.problems.scaling`)."""

    name = "circle-fit"
    description = "fit a circle to noisy points on an arc: minimise Σ(||p_i - c|| - R)²"
    # Measured peak RSS ~430 B per point, with a margin.
    bytes_per_item = 800
    options = (
        Option("n", int, 100, "number of generated points", min=3, metavar="N", generator=True),
        Option(
            "arc",
            float,
            120.0,
            "degrees of the unit circle's arc the generated points cover",
            min=0.0,
            max=360.0,
            min_open=True,
            metavar="DEG",
            generator=True,
        ),
        Option(
            "noise",
            float,
            0.05,
            "standard deviation of the Gaussian noise on each coordinate (radius = 1)",
            min=0.0,
            metavar="SIGMA",
            generator=True,
        ),
        Option(
            "seed", int, 5, "random seed of the generated points", metavar="SEED", generator=True
        ),
        Option(
            "init",
            str,
            DEFAULT_INIT,
            "initial point: the kasa, taubin or hyper algebraic fit",
            choices=ALGEBRAIC_FITS,
        ),
        Option(
            "points",
            Path,
            None,
            "load (x, y) points from a CSV/TSV/text or .npy file",
            metavar="FILE",
        ),
    )

    data_shape = DataShape(dim=2, min_points=3)

    component_names = ("centre x", "centre y", "radius")
    reference_modules = ("numpy", "scipy.optimize")
    optimum_note = "L is not convex: a local test cannot tell whether the best fit is the only one"

    # ------------------------------------------------------------------ data

    def generate(self, rng: random.Random) -> Data:
        s = self.settings
        return Data(list(generate(rng, s["n"], s["arc"], s["noise"])))

    def set_data(self, data: Data) -> None:
        """Install the points; fewer than 3 or collinear is an input error."""
        self.install(data)
        where = self.name if self.source == "generated" else f"{self.name} ({self.source})"
        m = _moments(self.xs, self.ys)
        # Points on a line (all of them, to rounding) fit no circle: the algebraic fits
        # divide by the determinant of their covariance, the geometric fit runs to R = ∞.
        if m["cov"] <= 1e-20 * m["z"] ** 2:
            raise InputError(
                f"{where}: the points lie on a straight line (or all coincide); no circle fits them"
            )
        self._moments = m
        # The engine's view of the data, built once.
        self._tx = self.as_data(self.xs)
        self._ty = self.as_data(self.ys)
        self._fits: dict[str, list[float]] | None = None
        self._curvature: tuple[float, float] | None = None

    def install(self, data: Data) -> None:
        """Install the points as columns and as ``xs``, ``ys``."""
        super().install(data)
        self.xs, self.ys = self.columns

    @classmethod
    def from_points(
        cls,
        points: Sequence[Sequence[float]],
        x0: Sequence[float] | None = None,
        **options: Any,
    ) -> CircleFitCore:
        """A circle-fit problem over the given (x, y) points, e.g. for scripts and tests."""
        return cls.given(points, x0=x0, **options)

    @property
    def dim(self) -> int:
        return 3

    def algebraic_fits(self) -> dict[str, list[float]]:
        """The kasa, taubin and hyper fits as [cx, cy, R] (see the module docstring)."""
        if self._fits is None:
            self._fits = {m: algebraic_fit(self._moments, m, self.name) for m in ALGEBRAIC_FITS}
        return {k: list(v) for k, v in self._fits.items()}

    def default_x0(self) -> list[float]:
        """The algebraic fit named by ``init`` (hyper by default)."""
        return self.algebraic_fits()[self.settings["init"]]

    # ------------------------------------------------------------------ maths

    def loss(self, x: Tensor) -> Tensor:
        """Σ (||p_i - c|| - R)² through the engine."""
        if not isinstance(x, Tensor):
            x = Tensor(x)
        r = F.distances((self._tx, self._ty), (x[0], x[1])) - x[2]
        return F.dot(r, r)

    def gradient(self, x: Sequence[float]) -> list[float]:
        """(2 Σ r_i u_i, -2 Σ r_i), u_i = (c - p_i)/d_i, a term with d_i = 0 adding 0 to ∂L/∂c."""
        cx, cy, rad = (float(v) for v in x)
        gx, gy, gr = [], [], []
        for px, py in zip(self.xs, self.ys):
            d = math.hypot(cx - px, cy - py)
            r = d - rad
            gr.append(r)
            if d > 0.0:
                gx.append(r * (cx - px) / d)
                gy.append(r * (cy - py) / d)
        return [2.0 * math.fsum(gx), 2.0 * math.fsum(gy), -2.0 * math.fsum(gr)]

    def hessian(self, x: Sequence[float]) -> list[list[float]]:
        """The 3×3 Hessian of L at ``x`` (see the module docstring); points at c are skipped."""
        cx, cy, rad = (float(v) for v in x)
        hxx, hxy, hyy, hxr, hyr = [], [], [], [], []
        for px, py in zip(self.xs, self.ys):
            d = math.hypot(cx - px, cy - py)
            if d == 0.0:
                continue
            ux, uy = (cx - px) / d, (cy - py) / d
            k = (d - rad) / d
            hxx.append(ux * ux + k * (1.0 - ux * ux))
            hyy.append(uy * uy + k * (1.0 - uy * uy))
            hxy.append(ux * uy - k * ux * uy)
            hxr.append(ux)
            hyr.append(uy)
        axx, ayy, axy = 2 * math.fsum(hxx), 2 * math.fsum(hyy), 2 * math.fsum(hxy)
        axr, ayr = -2 * math.fsum(hxr), -2 * math.fsum(hyr)
        return [[axx, axy, axr], [axy, ayy, ayr], [axr, ayr, 2.0 * self.n]]

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """Stationarity and second-order facts at ``x``.

        ``value`` is the gradient norm (0 at a stationary point); ``newton_step`` is
        ||H⁻¹∇L||, about the distance to the nearest stationary point when x is near
        one; ``hessian_min_eigenvalue`` > 0 says that point is a strict local
        minimum. L is not convex, so ``optimal`` is None: no local test proves a
        global minimum (the reference is the global one in every case we know).
        """
        p = self.check_point(x, "x")
        g = self.gradient(p)
        h = self.hessian(p)
        lo, _, _ = sym3_eigenvalues(h)
        try:
            step = math.hypot(*solve3(h, g))
        except ZeroDivisionError:
            step = math.inf
        value = math.hypot(*g)
        return {
            "value": value,
            "kind": "gradient_norm",
            "optimal": None,
            "summary": certificate_summary(value, lo),
            "newton_step": step,
            "hessian_min_eigenvalue": lo,
            "local_minimum": lo > 0.0,
            "rms_residual": math.sqrt(self.objective(p) / self.n),
        }

    # ------------------------------------------------------------- reference

    def compute_reference(self) -> Reference:
        fits = self.algebraic_fits()
        x, details = geometric_fit(self.xs, self.ys, fits["hyper"])
        details["algebraic_fits"] = {
            m: {"x": v, "loss": self.objective(v), "distance": math.dist(v, x)}
            for m, v in fits.items()
        }
        details["certificate"] = self.certificate(x)
        return Reference(
            x=x, loss=self.objective(x), method="least-squares-lm+newton", details=details
        )

    # ---------------------------------------------------------------- solving

    def curvature(self) -> tuple[float, float]:
        """(λ_max, λ_min) of the Hessian at the hyper fit, near the minimum; λ_min is kept
        above 1e-12 λ_max (where the Hessian there is not positive definite, from the
        Gauss–Newton part 2JᵀJ instead, which always is)."""
        if self._curvature is None:
            at = self.algebraic_fits()["hyper"]
            h = self.hessian(at)
            lo, _, hi = sym3_eigenvalues(h)
            if not lo > 0.0:
                lo, _, hi = sym3_eigenvalues(self._gauss_newton(at))
            hi = max(hi, 1e-300)
            self._curvature = (hi, max(lo, 1e-12 * hi))
        return self._curvature

    def _gauss_newton(self, x: Sequence[float]) -> list[list[float]]:
        cx, cy = float(x[0]), float(x[1])
        rows = []
        for px, py in zip(self.xs, self.ys):
            d = math.hypot(cx - px, cy - py)
            if d > 0.0:
                rows.append(((cx - px) / d, (cy - py) / d, -1.0))
        return [[2.0 * math.fsum(r[i] * r[j] for r in rows) for j in range(3)] for i in range(3)]

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """Settings for :func:`geograd.minimize`; see the module docstring for the reasons.

        By default L-BFGS with its minimize settings (no step size); the other methods'
        step sizes come from the Hessian's extreme eigenvalues at the hyper fit
        (:meth:`curvature`). ``gtol`` = 1e-10 · λ_min · extent bounds the distance
        still to go, near the minimum, by about 1e-10 of the data's extent.
        """
        from geograd.optim.lbfgs import LBFGS
        from geograd.optim.schedules import Exponential

        name = (optimizer or DEFAULT_OPTIMIZER).strip().lower()
        budget = 20000 if max_steps is None else max_steps
        hi, lo = self.curvature()
        loop: dict[str, Any] = {"gtol": 1e-10 * lo * self.scale, "ftol": None}
        root = math.sqrt(hi / lo)
        if name == "nag":
            return {
                "optimizer": "nag",
                "lr": 1.0 / hi,
                "momentum": (root - 1.0) / (root + 1.0),
                "max_steps": budget,
                **loop,
            }
        if name == "gd":
            return {"optimizer": "gd", "lr": 1.0 / hi, "c1": 0.5, "max_steps": budget, **loop}
        if name == "lbfgs":
            # No step size to tune: the first step is scaled by the gradient, the later
            # ones by the curvature pairs. Its minimize settings (strong Wolfe, one
            # iteration a step), so that minimize(p.loss, p.x0, **these) is the solve.
            return {"optimizer": "lbfgs", **LBFGS.minimize_defaults,
                    "max_steps": 1000 if max_steps is None else max_steps, **loop}  # fmt: skip
        if name == "momentum":
            # Heavy ball with Nesterov's tuning: the optimal heavy-ball setting
            # (4/(√λ_max + √λ_min)², ((√κ-1)/(√κ+1))²) oscillates off the minimum.
            return {
                "optimizer": "momentum",
                "lr": 1.0 / hi,
                "momentum": (root - 1.0) / (root + 1.0),
                "max_steps": budget,
                **loop,
            }
        if name == "sgd":
            return {"optimizer": "sgd", "lr": 1.0 / hi, "max_steps": budget, **loop}
        lr, decay, own = ADAPTIVE.get(name, (1e-3, 1e-6, 5000))
        steps = own if max_steps is None else max_steps
        out: dict[str, Any] = {
            "optimizer": name,
            "lr": lr * self.scale,
            "max_steps": steps,
            **loop,
        }
        if decay is not None and steps > 0:
            # lr falls by `decay` over the run, so that the iterates settle.
            out["schedule"] = Exponential(decay ** (1.0 / steps))
        if name == "adamw":
            out["weight_decay"] = 0.0  # decay towards the origin would bias the fit
        return out

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Half random points around x0 (centre moved up to 0.3 of the extent, R scaled by
        0.7 to 1.3), half with the centre just off a data point (1e-2 of the extent away,
        where the term of that point has its kink, far more than a difference step)."""
        r = random.Random(seed)
        cx, cy, rad = self.x0
        s = self.scale
        pts: list[list[float]] = []
        for i in range(count):
            if i % 2 == 0:
                pts.append(
                    [cx + r.uniform(-0.3, 0.3) * s, cy + r.uniform(-0.3, 0.3) * s,
                     rad * r.uniform(0.7, 1.3)]
                )  # fmt: skip
            else:
                k = r.randrange(self.n)
                a = r.uniform(0.0, 2.0 * math.pi)
                pts.append(
                    [self.xs[k] + 1e-2 * s * math.cos(a), self.ys[k] + 1e-2 * s * math.sin(a),
                     rad * r.uniform(0.7, 1.3)]
                )  # fmt: skip
        return pts

    # ------------------------------------------------------------- describing

    # ------------------------------------------------------------------ drawing

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        """The centre (cx, cy): the iterates' path is the centre's path."""
        return float(x[0]), float(x[1])

    def plot_bounds(
        self, extra: Sequence[Sequence[float]] = (), margin: float = 0.05
    ) -> tuple[float, float, float, float]:
        """The data, the ``extra`` points and the whole x0 circle (unless it is more than
        ten times the data's extent, a nearly straight arc, which would dwarf the data)."""
        xs, ys = list(self.xs), list(self.ys)
        for p in extra:
            xs.append(float(p[0]))
            ys.append(float(p[1]))
        cx, cy, rad = self.x0
        if abs(rad) <= 10.0 * self.scale:
            xs += [cx - abs(rad), cx + abs(rad)]
            ys += [cy - abs(rad), cy + abs(rad)]
        return bounding_box(xs, ys, margin)

    def objective_grid(self, xs: Sequence[float], ys: Sequence[float]) -> list[list[float]]:
        """The profile loss min_R L(c, R) = Σ (d_i - mean d)² at c = (xs[j], ys[i]), in numpy.

        The parameters are (cx, cy, R); the drawing is the centre's plane, and at each
        centre the best radius is the mean distance, so these are the contours the
        centre's path descends through.

        Not derived from :meth:`objective` point by point (the loss at R = the mean
        distance): that takes two engine passes a grid point, on a 120² grid about 1 s
        for 100 points and 5 s for 1000 (this numpy pass: 0.1 s and 0.5 s), three times
        the whole plot's time from 1000 points on (issue 15).
        """
        import numpy as np

        gx, gy = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
        px, py = np.asarray(self.xs), np.asarray(self.ys)
        total = np.zeros_like(gx)
        total_sq = np.zeros_like(gx)
        chunk = max(1, 2_000_000 // max(1, gx.size))
        for s in range(0, self.n, chunk):
            d = np.hypot(
                px[s : s + chunk, None, None] - gx[None], py[s : s + chunk, None, None] - gy[None]
            )
            total += d.sum(axis=0)
            total_sq += (d * d).sum(axis=0)
        out: list[list[float]] = np.maximum(total_sq - total * total / self.n, 0.0).tolist()
        return out

    def draw_estimate(
        self,
        ax: Any,
        x: Sequence[float],
        *,
        color: Any,
        label: str | None = None,
        linestyle: str = "-",
        marker: str = "o",
        alpha: float = 1.0,
    ) -> list[Any]:
        """The circle of ``x`` (a matplotlib Circle patch, unfilled)."""
        cx, cy, rad = (float(v) for v in x)
        return draw_circle(
            ax, (cx, cy), abs(rad), color=color, linestyle=linestyle, alpha=alpha, label=label
        )

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """The points (grey) and, for an estimate ``x``, its circle and centre (a star)."""
        artists = [
            ax.scatter(
                self.xs, self.ys, s=min(30.0, max(4.0, 3000.0 / self.n)), c="0.35",
                alpha=0.85, edgecolors="none", label=f"points (n={self.n})", zorder=2,
            )
        ]  # fmt: skip
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        if x is not None:
            artists += self.draw_estimate(ax, x, color="#d62728", label=f"{label} circle")
        artists += super().draw(ax, x, label=label)
        return artists


def certificate_summary(value: float, lo: float) -> str:
    """The certificate's line: the gradient norm and the Hessian's verdict."""
    shape = "a strict local minimum" if lo > 0.0 else "not a strict local minimum"
    return f"gradient norm {value:.2g}; {shape} (smallest Hessian eigenvalue {lo:.3g})"


class CircleFit(Normalised, CircleFitCore):
    """The geometric (orthogonal least-squares) circle fit (see the module docstring).

    The points stay as given (``xs``, ``ys``); the mathematics run on ``unit``, a
    :class:`CircleFitCore` over the points centred and divided by s, the power of two
    nearest their extent (see :mod:`geograd.problems.scaling`), and every method answers
    in user units: the centre maps back as a point, the radius as a length, the loss (a
    sum of squares of lengths) is s² times the unit loss, the Hessian is unit-free. A fit
    whose least loss exceeds the largest float in user units (noisy points beyond about
    1e154) is refused: no float can report it.
    """

    loss_power = 2
    objective_words = "sum of squared distances to the circle"
    quantities = Quantities(
        certificate={"value": "gradient norm", "newton_step": "length", "rms_residual": "length"},
        reference={"last_newton_step": "length"},
    )

    def parameter_frame(self) -> list[tuple[float, int]]:
        """(cx, cy) map as a point of the plane, R as a length."""
        k = self.frame.exponent
        return [(self.frame.centre[0], k), (self.frame.centre[1], k), (0.0, k)]

    def algebraic_fits(self) -> dict[str, list[float]]:
        """The kasa, taubin and hyper fits as [cx, cy, R] (see the module docstring)."""
        return {m: self.from_unit(v) for m, v in self.unit.algebraic_fits().items()}

    def hessian(self, x: Sequence[float]) -> list[list[float]]:
        """The 3×3 Hessian of L at ``x`` (unit-free: the unit copy's)."""
        h: list[list[float]] = self.unit.hessian(self.to_unit(x))
        shift = (self.loss_power - 2) * self.frame.exponent
        return [[times_pow2(v, shift) for v in row] for row in h]

    def curvature(self) -> tuple[float, float]:
        """(λ_max, λ_min) of the Hessian at the hyper fit (unit-free: the unit copy's)."""
        out: tuple[float, float] = self.unit.curvature()
        return out

    def summarise_certificate(self, cert: dict[str, Any]) -> str:
        """The gradient norm (in user units) and the Hessian's verdict."""
        return certificate_summary(cert["value"], cert["hessian_min_eigenvalue"])

    def reference_details(self, details: dict[str, Any], x: list[float]) -> dict[str, Any]:
        """The declared entries (:attr:`quantities`), and each algebraic fit's x, loss and
        distance from the reference, in user units."""
        details = super().reference_details(details, x)
        fit_quantities: dict[str, Quantity] = {"x": "x", "loss": "loss", "distance": "length"}
        fits = details.get("algebraic_fits") or {}
        details["algebraic_fits"] = {
            m: self.entries_to_user(v, fit_quantities) for m, v in fits.items()
        }
        return details


# ------------------------------------------------------------------------ data makers


def generate(r: random.Random, n: int, arc: float, noise: float) -> tuple[list[float], list[float]]:
    """n noisy points on the unit circle's arc of ``arc`` degrees about 90° (module docstring)."""
    half = math.radians(arc) / 2.0
    angles = [math.pi / 2.0 + r.uniform(-half, half) for _ in range(n)]
    xs, ys = [], []
    for t in angles:
        xs.append(math.cos(t) + r.gauss(0.0, noise))
        ys.append(math.sin(t) + r.gauss(0.0, noise))
    return xs, ys


# ---------------------------------------------------------------------- algebraic fits


def _moments(xs: Sequence[float], ys: Sequence[float]) -> dict[str, float]:
    """The data's centroid and its moments about it (z = x² + y²), summed with fsum."""
    n = len(xs)
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    u = [x - mx for x in xs]
    v = [y - my for y in ys]
    z = [a * a + b * b for a, b in zip(u, v)]

    def mean(values: Any) -> float:
        return math.fsum(values) / n

    mxx, myy, mxy = (
        mean(a * a for a in u),
        mean(b * b for b in v),
        mean(a * b for a, b in zip(u, v)),
    )
    return {
        "cx": mx,
        "cy": my,
        "xx": mxx,
        "yy": myy,
        "xy": mxy,
        "xz": mean(a * c for a, c in zip(u, z)),
        "yz": mean(b * c for b, c in zip(v, z)),
        "zz": mean(c * c for c in z),
        "z": mxx + myy,
        "cov": mxx * myy - mxy * mxy,
    }


def algebraic_fit(m: dict[str, float], method: str, owner: str = "circle-fit") -> list[float]:
    """The ``kasa``, ``taubin`` or ``hyper`` fit [cx, cy, R] from :func:`_moments` output.

    In moments about the centroid (z = x² + y²), each fit is the eigenvector A of
    M A = η N A (M = ZᵀZ/n, Z = [z, x, y, 1]) for the smallest non-negative η,
    with N the fit's constraint matrix (Taubin's, or hyper's 2·Taubin - Pratt).
    η is the root of the characteristic polynomial det(M - ηN), a cubic (taubin)
    or quartic (hyper), found by Newton's method from η = 0, the root on noiseless
    data, as in Chernov's code; kasa is η = 0. Rows 2 and 3 of (M - ηN)A = 0 give
    the centre, with det = η² - η·Mz + Cov(x, y),
    centre = centroid + ((Mxz(Myy - η) - Myz·Mxy), (Myz(Mxx - η) - Mxz·Mxy))/(2 det),
    and row 4 the radius, R² = |centre - centroid|² + Mz, less 2η for hyper. (Pratt's
    fit has hyper's polynomial and centre, and R² with + 2η.)
    """
    mz, cov = m["z"], m["cov"]
    var_z = m["zz"] - mz * mz
    a1 = var_z * mz + 4.0 * cov * mz - m["xz"] ** 2 - m["yz"] ** 2
    a0 = (
        m["xz"] * (m["xz"] * m["yy"] - m["yz"] * m["xy"])
        + m["yz"] * (m["yz"] * m["xx"] - m["xz"] * m["xy"])
        - var_z * cov
    )
    if method == "kasa":
        eta = 0.0
    elif method == "taubin":
        a3, a2 = 4.0 * mz, -3.0 * mz * mz - m["zz"]
        eta = _newton_root(lambda t: a0 + t * (a1 + t * (a2 + t * a3)),
                           lambda t: a1 + t * (2 * a2 + 3 * t * a3))  # fmt: skip
    elif method == "hyper":
        a2 = 4.0 * cov - 3.0 * mz * mz - m["zz"]
        eta = _newton_root(lambda t: a0 + t * (a1 + t * (a2 + 4.0 * t * t)),
                           lambda t: a1 + t * (2 * a2 + 16.0 * t * t))  # fmt: skip
    else:
        raise InputError(f"{owner}: unknown algebraic fit {method!r}; known: kasa, taubin, hyper")
    det = eta * eta - eta * mz + cov
    ox = (m["xz"] * (m["yy"] - eta) - m["yz"] * m["xy"]) / det / 2.0
    oy = (m["yz"] * (m["xx"] - eta) - m["xz"] * m["xy"]) / det / 2.0
    r2 = ox * ox + oy * oy + mz - (2.0 * eta if method == "hyper" else 0.0)
    out = [m["cx"] + ox, m["cy"] + oy, math.sqrt(max(r2, 0.0))]
    if not all(math.isfinite(v) for v in out):
        raise InputError(f"{owner}: the {method} fit failed: the points are nearly collinear")
    return out


def _newton_root(f: Any, df: Any) -> float:
    """The smallest non-negative root of f by Newton's method from 0 (0 if it strays)."""
    t, y = 0.0, math.inf
    for _ in range(_ROOT_ITER):
        y_new = f(t)
        if abs(y_new) >= abs(y) or y_new == 0.0:
            break  # no further progress (or exactly a root)
        y = y_new
        slope = df(t)
        if slope == 0.0:
            break
        t_new = t - y / slope
        if t_new < 0.0:
            return 0.0
        done = abs(t_new - t) <= _ROOT_RTOL * abs(t_new)
        t = t_new
        if done:
            break
    return t


# ---------------------------------------------------------------------- geometric fit


def geometric_fit(
    xs: Sequence[float], ys: Sequence[float], x0: Sequence[float], newton_steps: int = 8
) -> tuple[list[float], dict[str, Any]]:
    """The geometric fit by scipy's least_squares (LM) from ``x0``, polished by Newton.

    Newton steps (closed-form Hessian, numpy) are taken while each is at most half
    the previous one and does not raise the loss, at most ``newton_steps`` of them.
    Returns (x, details).
    """
    import numpy as np
    from scipy.optimize import least_squares  # type: ignore[import-untyped]

    px, py = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)

    def residuals(p: Any) -> Any:
        return np.hypot(px - p[0], py - p[1]) - p[2]

    def jacobian(p: Any) -> Any:
        d = np.hypot(p[0] - px, p[1] - py)
        d = np.where(d == 0.0, 1.0, d)
        return np.stack([(p[0] - px) / d, (p[1] - py) / d, -np.ones_like(d)], axis=1)

    fit = least_squares(
        residuals, np.asarray(x0, dtype=float), jac=jacobian, method="lm",
        xtol=1e-15, ftol=1e-15, gtol=1e-15,
    )  # fmt: skip
    x = np.asarray(fit.x, dtype=float)

    def loss(p: Any) -> float:
        return math.fsum(float(v) ** 2 for v in residuals(p))

    def grad_hess(p: Any) -> tuple[Any, Any]:
        dx, dy = p[0] - px, p[1] - py
        d = np.hypot(dx, dy)
        ok = d > 0
        dx, dy, d = dx[ok], dy[ok], d[ok]
        r = d - p[2]
        ux, uy, k = dx / d, dy / d, r / d
        g = 2.0 * np.array([np.sum(r * ux), np.sum(r * uy), -np.sum(r)])
        h = 2.0 * np.array(
            [
                [np.sum(ux * ux + k * (1 - ux * ux)), np.sum(ux * uy * (1 - k)), -np.sum(ux)],
                [np.sum(ux * uy * (1 - k)), np.sum(uy * uy + k * (1 - uy * uy)), -np.sum(uy)],
                [-np.sum(ux), -np.sum(uy), float(len(px))],
            ]
        )
        return g, h

    # Near the minimum the loss changes by less than its rounding, so a Newton step is
    # judged by the gradient it leaves (and by the loss only beyond rounding).
    steps, last = 0, math.inf
    g, h = grad_hess(x)
    current = loss(x)
    for _ in range(newton_steps):
        try:
            delta = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            break
        size = float(np.linalg.norm(delta))
        if not math.isfinite(size) or size == 0.0 or size > 0.5 * last:
            break
        trial = x - delta
        g_new, h_new = grad_hess(trial)
        value = loss(trial)
        if value > current * (1.0 + 1e-13) or not np.linalg.norm(g_new) < np.linalg.norm(g):
            break
        x, g, h, current, last, steps = trial, g_new, h_new, value, size, steps + 1
    return [float(v) for v in x], {
        "least_squares": {
            "status": int(fit.status),
            "message": str(fit.message),
            "evaluations": int(fit.nfev),
            "success": bool(fit.success),
        },
        "newton_steps": steps,
        "last_newton_step": last if steps else None,
    }


# --------------------------------------------------------------------- 3×3 linear algebra


def sym3_eigenvalues(a: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """The eigenvalues (ascending) of a symmetric 3×3 matrix, by the trigonometric formula."""
    p1 = a[0][1] ** 2 + a[0][2] ** 2 + a[1][2] ** 2
    diag = [a[0][0], a[1][1], a[2][2]]
    if p1 == 0.0:
        lo, mid, hi = sorted(diag)
        return lo, mid, hi
    q = sum(diag) / 3.0
    p2 = sum((v - q) ** 2 for v in diag) + 2.0 * p1
    p = math.sqrt(p2 / 6.0)
    b = [[(a[i][j] - (q if i == j else 0.0)) / p for j in range(3)] for i in range(3)]
    det_b = (
        b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[2][1])
        - b[0][1] * (b[1][0] * b[2][2] - b[1][2] * b[2][0])
        + b[0][2] * (b[1][0] * b[2][1] - b[1][1] * b[2][0])
    )
    phi = math.acos(max(-1.0, min(1.0, det_b / 2.0))) / 3.0
    hi = q + 2.0 * p * math.cos(phi)
    lo = q + 2.0 * p * math.cos(phi + 2.0 * math.pi / 3.0)
    return lo, 3.0 * q - hi - lo, hi


def solve3(a: Sequence[Sequence[float]], b: Sequence[float]) -> list[float]:
    """x with a x = b for a 3×3 matrix, by Gaussian elimination with partial pivoting
    (ZeroDivisionError when a is singular)."""
    m = [[float(a[i][j]) for j in range(3)] + [float(b[i])] for i in range(3)]
    for col in range(3):
        piv = max(range(col, 3), key=lambda i: abs(m[i][col]))
        if m[piv][col] == 0.0:
            raise ZeroDivisionError("singular matrix")
        m[col], m[piv] = m[piv], m[col]
        for i in range(col + 1, 3):
            f = m[i][col] / m[col][col]
            for j in range(col, 4):
                m[i][j] -= f * m[col][j]
    x = [0.0, 0.0, 0.0]
    for i in (2, 1, 0):
        x[i] = (m[i][3] - sum(m[i][j] * x[j] for j in range(i + 1, 3))) / m[i][i]
    return x
