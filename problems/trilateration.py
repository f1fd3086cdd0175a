"""Trilateration: locate a point in R² or R³ from noisy distances (ranges) to known anchors.

Objective, for anchors a_1..a_n in R^d with measured ranges ρ_i >= 0:

    L(x) = Σ_i (||x - a_i|| - ρ_i)²

Gradient, away from the anchors (r_i = ||x - a_i||, u_i = (x - a_i)/r_i):

    ∇L(x) = 2 Σ_i (r_i - ρ_i) u_i

and the Hessian, used by the certificate:

    ∇²L(x) = 2 Σ_i [u_i u_iᵀ + (1 - ρ_i/r_i)(I - u_i u_iᵀ)]

At an anchor (r_i = 0) the term is a cone pointing down (a local maximum of that
term when ρ_i > 0); its gradient there is taken as 0, geograd's ``norm``
convention, so the closed form and autograd agree everywhere. L is not convex:
there can be local minima (e.g. mirror images of the target across a line of
anchors), so the certificate reports stationarity and local convexity, not
global optimality.

Data
    Generated from ``random.Random(seed)`` (seed 5 by default): the anchors
    uniform in the cube [0, 10]^d, coordinate by coordinate (all n x-coordinates,
    then all y, ...), then the true position uniform in [2, 8]^d, then one normal
    error of standard deviation ``noise`` per range: ρ_i = max(0, ||t - a_i|| +
    noise·N(0, 1)) (a range is a distance; the clamp only acts when the noise is
    comparable to the distances). ``noise = 0`` gives exact ranges, and then the
    true position is the unique minimum, with L = 0. Or ``points=FILE`` loads
    one anchor per line with its range (see :mod:`geograd.problems.data`): the
    column named ``range``, ``rho``, ``r``, ``distance`` or ``dist`` (any case)
    holds the ranges, else the last column does; the other 2 or 3 columns are
    the anchor's coordinates.

    There must be at least d + 1 anchors, not all on one line (d = 2) or one plane
    (d = 3): otherwise the position is ambiguous (its mirror image fits as well).

References (``reference()``)
    The linearised least-squares solution: subtracting the first range equation
    ||x - a_1||² = ρ_1² from the others removes ||x||² and leaves the linear system
    2 (a_i - a_1)ᵀ (x - a_1) = ρ_1² - ρ_i² + ||a_i - a_1||², i = 2..n, solved by
    least squares (a QR factorisation in plain Python, so that it can also be
    the default start without numpy; it agrees with ``numpy.linalg.lstsq`` to
    1e-12). It is exact for noiseless ranges, but with noise it minimises a
    different, distorted objective. So the reference is
    ``scipy.optimize.least_squares`` (Levenberg–Marquardt, tolerances 1e-15, the
    analytic Jacobian) on the residuals r_i - ρ_i, started from the linearised
    solution and from the anchors' centroid, keeping the lower objective,
    polished by up to three Newton steps with the exact Hessian (the gradient
    ends at ~1e-15 of the extent). ``details`` holds the linearised solution and
    its objective, the objective reached from the other start, the true position
    of generated data and the distances to it.

Scale
    :class:`Trilateration` keeps the anchors and ranges as given and computes on a
    unit copy: the anchors centred and divided by s, the power of two nearest the
    larger of their extent and the longest range, the ranges divided by s (see
    :mod:`geograd.problems.scaling`); positions map back as points, the loss (a sum
    of squared range errors) times s². Noisy ranges beyond about 1e154, whose least
    loss exceeds the largest float, are refused with an input error that says so.

Baselines
    The scipy.optimize.minimize methods (as for every problem) and, for the
    default set, two specialists: ``least_squares`` (trust-region reflective,
    scipy's defaults, from x0) and ``linearised`` (the closed form above).

Solver defaults (``solver_defaults()``)
    ``trust-ncg`` (Steihaug-CG trust region on exact Hessian-vector products) from
    ``x0`` = the linearised solution, with first trust radius ``lr = 0.1·scale``
    (:data:`TRUST_RADIUS`; a length), ``max_steps = 1000``, ``gtol = 1e-11·scale``
    and ``ftol`` off. Chosen by measurement (issue 13). The default problem (6
    anchors in 2-D, noise 0.1, seed 5), this machine, median of 3 interleaved
    rounds (``geograd compare trilateration --optimizers gd,lbfgs,newton,trust-ncg``
    gives the same steps):

    ==========  =====  =====  ========  ==========  ===========================
    method      steps  evals  time      distance    objective within 1e-9 at
    ==========  =====  =====  ========  ==========  ===========================
    lbfgs       7      10     1.5 ms    1.4e-12     step 5, 1.2 ms
    trust-ncg   4      6      1.8 ms    4.4e-16     step 3, 1.3 ms
    gd          20     32     3.2 ms    1.4e-11     step 11, 1.9 ms
    newton      10     12     3.4 ms    8.4e-14     step 9, 2.9 ms
    momentum    393    394    41 ms     1.5e-11     step 177
    adam        409    410    47 ms     5.7e-12     step 174
    ==========  =====  =====  ========  ==========  ===========================

    Why trust-ncg and not lbfgs, 0.3 ms faster here: over 31 data sets (seeds 0-7;
    3-D; 3 anchors; 4 anchors in 3-D; 50 anchors; noise 0 and 1) trust-ncg matched
    the reference on all, in 3-16 steps (median 6), while lbfgs's first line
    search, free to take a long step, left the basin once (4 anchors in 3-D,
    seed 2) and converged to another stationary point 0.54 of the extent away.
    gd, the default before, matched on all but needs about cond(∇²L) steps per
    digit: up to 1700 steps (0.25 s) for a minimal, badly shaped set of anchors.
    Other figures of the default solve: 3-D 4 steps, 2.5 ms; 50 anchors 3 steps;
    3 anchors 3 steps; noise 1.0 7 steps; all within 2e-12 of the extent from the
    reference; with noise = 0 the start is already the true position (to 1e-15)
    and the run stops at step 0; data scaled by 1e-6 or 1e6 takes the same steps.

    Why the rest:

    - The linearised solution is the textbook start (closed form, exact for
      noiseless ranges), and it lies in the basin of the least-squares minimum
      in all but extreme cases. The anchors' centroid (``--x0``) shows a longer
      descent, but with few anchors or large noise it can lead into a local
      minimum (3 anchors: 2 of 20 seeds; 4 anchors in 3-D, seed 2, with trust-ncg).
    - The trust radius is a length: a tenth of the anchors' extent lets the first
      Newton steps through near a good start (0.01 to 1 of it take 3-10 steps on
      the data above) and the radius then follows the model's agreement.
    - The gradient has units of length: ``gtol`` is relative to the anchors'
      extent ``scale``. For noiseless ranges L falls to 0, where a relative
      ``ftol`` would stop with residuals near 1e-8; the gradient test runs on to
      ~1e-11 of the extent from the minimum.

    ``gd`` (steepest descent with Armijo backtracking) gets first trial step
    ``lr = 1/(2n)`` (∇²L is dimensionless, ≈ 2 Σ u_i u_iᵀ near a good fit with
    eigenvalues between 0 and 2n, so 1/(2n) does not overshoot in any units),
    ``c1 = 0.5`` (as for the median: no zigzagging on overlong steps) and
    ``max_steps = 5000``. The other optimizers get an exponential schedule that
    lowers lr by 1e-6 over ``max_steps = 2000`` and a learning rate that is
    dimensionless, in units of 1/n, for sgd, momentum and nag (``LR_PLAIN``: their
    step is lr times the gradient, stable while lr·2n < 2), and in units of
    ``scale`` for the adaptive ones (``LR_IN_SCALES``: their steps are about lr
    long). Each reaches the default problem's reference within 1e-9 of the extent
    (sgd in 31 steps, adam in 409).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geograd.functional as F
from geograd import Tensor
from geograd.errors import InputError

from .base import (
    DEFAULT_BASELINES,
    Baseline,
    Option,
    Reference,
    bounding_box,
    check_points_near,
)
from .data import PointSet, _default_names, as_columns, described, items_of, number
from .lifecycle import Data, DataShape, PointProblem
from .scaling import Normalised, Quantities

#: Generated anchors lie in [0, SIDE]^d and the target in [MARGIN, SIDE - MARGIN]^d.
SIDE = 10.0
MARGIN = 2.0
#: Header names of the range column in a file (compared in lower case).
RANGE_NAMES = ("range", "rho", "r", "distance", "dist")
#: Anchors whose spread across their thinnest direction is below this fraction of their
#: spread along the widest count as collinear (2-D) or coplanar (3-D); well above the
#: rounding level (~1e-8) of the ratio of singular values computed from a Gram matrix.
DEGENERATE = 1e-6
#: Learning rates of the other optimizers (see the module docstring). Those whose step is
#: lr times the gradient: dimensionless, in units of 1/n (∇²L has eigenvalues up to 2n, and
#: lr·λ must stay under 2). The adaptive ones, whose steps are about lr long: in units of
#: ``scale``. Tuned on 2-D, 3-D, 3, 6 and 30 anchors, noise 0.1 and 1.
LR_PLAIN = {"sgd": 0.8, "momentum": 0.4, "nag": 0.5}
LR_IN_SCALES = {
    "adam": 0.03,
    "adamw": 0.03,
    "adamax": 0.03,
    "rmsprop": 0.03,
    "adagrad": 0.3,
}
#: The default solve's optimizer (measured fastest to the reference; see the module docstring).
DEFAULT_OPTIMIZER = "trust-ncg"
#: trust-ncg's first trust radius, in units of ``scale`` (the radius then follows the fit).
TRUST_RADIUS = 0.1
#: Baseline names handled here rather than by scipy.optimize.minimize.
SPECIALISTS = ("least_squares", "linearised")


class TrilaterationCore(PointProblem):
    """Trilateration's mathematics over the anchors and ranges as they are given (see the
    module docstring); :class:`Trilateration`, the public class, runs it on a copy
    centred and scaled to unit size (see :mod:`geograd.problems.scaling`)."""

    name = "trilateration"
    description = "locate a point from noisy distances to known anchors (least squares on ranges)"
    # Measured peak RSS ~1.1 kB per anchor, with a margin.
    bytes_per_item = 1800
    size_options = ("anchors",)
    size_unit = "anchors"
    options = (
        Option("anchors", int, 6, "number of generated anchors (at least dim + 1)", min=2,
               metavar="N", generator=True),
        Option("dim", int, 2, "dimension: 2 or 3", min=2, max=3, metavar="D", generator=True),
        Option("noise", float, 0.1, "standard deviation of the range errors (anchors in a "
               "10-unit box)", min=0.0, metavar="SIGMA", generator=True),
        Option("seed", int, 5, "random seed of the generated anchors, target and noise",
               metavar="SEED", generator=True),
        Option("points", Path, None, "load anchors and ranges from a CSV/TSV/text or .npy "
               "file (a range column)", metavar="FILE"),
    )  # fmt: skip

    data_shape = DataShape(
        what="anchors file",
        dims=(2, 3),
        extras=("ranges", "truth"),
        per_point=("ranges",),
        rows_key="anchors",
    )
    data_items = "anchors"
    reference_modules = ("numpy", "scipy.optimize")
    optimum_note = (
        "L is not convex (a mirror image can fit almost as well): a local test cannot "
        "tell whether the best fit is the only one"
    )
    #: Which column of a loaded file held the ranges (for data_summary).
    range_column: str | None = None

    # ------------------------------------------------------------------ data

    def generate(self, rng: random.Random) -> Data:
        d, n = self.settings["dim"], self.settings["anchors"]
        if n < d + 1:
            raise InputError(
                f"{self.name}: --anchors must be at least dim + 1 = {d + 1} for --dim {d}, got {n}"
            )
        anchors, ranges, truth = generate(rng, n, d, self.settings["noise"])
        return Data(as_columns(anchors), extra={"ranges": ranges, "truth": truth})

    def read(self, ps: PointSet) -> Data:
        columns, ranges, names, self.range_column = read_anchors(ps)
        return Data(columns, names=names, extra={"ranges": ranges})

    def set_data(self, data: Data) -> None:
        """Install anchors, their ranges and, if known, the true position."""
        self.install(data)
        thin = thinness(self.anchors)
        if thin <= DEGENERATE:
            shape = "one line" if self.d == 2 else "one plane"
            raise InputError(
                f"{self.name}: the anchors lie on {shape}; the position is ambiguous "
                "(its mirror image fits the ranges as well)"
            )
        # The engine's view of the data, built once.
        self._coords = tuple(self.as_data(c) for c in self.columns)
        self._rho = self.as_data(self.ranges)
        self._x0_linear: list[float] | None = None

    def install(self, data: Data) -> None:
        """Install the anchors (columns and rows), their ranges and the true position."""
        super().install(data)
        rho = [float(v) for v in data.extra["ranges"]]
        truth = data.extra.get("truth")
        if len(rho) != self.n:
            raise InputError(f"{self.name}: {len(rho)} ranges for {self.n} anchors")
        for i, v in enumerate(rho):
            if v < 0:
                raise InputError(
                    f"{self.name}: anchor {i + 1} has a negative range {v}; ranges are >= 0"
                )
        if self.n < self.d + 1:
            raise InputError(
                f"{self.name}: {self.n} anchors cannot fix a point in {self.d}-D; give at "
                f"least {self.d + 1}"
            )
        self.anchors = list(zip(*self.columns))
        self.ranges = rho
        how = f"{self.d} coordinates, like the anchors"
        if truth is not None and items_of(truth) is None:
            raise InputError(f"{self.name}: truth is {described(truth)}; give {how}")
        self.truth = None if truth is None else [
            number(v, self.name, f"truth[{j}]", how) for j, v in enumerate(items_of(truth) or [])
        ]  # fmt: skip
        if self.truth is not None and (
            len(self.truth) != self.d or not all(map(math.isfinite, self.truth))
        ):
            raise InputError(
                f"{self.name}: the true position needs {self.d} finite coordinates, like the "
                f"anchors; got {self.truth}"
            )

    @classmethod
    def from_anchors(
        cls,
        anchors: Sequence[Sequence[float]],
        ranges: Sequence[float],
        truth: Sequence[float] | None = None,
        x0: Sequence[float] | None = None,
    ) -> TrilaterationCore:
        """A trilateration problem over the given anchors (rows) and ranges."""
        return cls.given(anchors, x0=x0, extra={"ranges": ranges, "truth": truth})

    def default_x0(self) -> list[float]:
        """The linearised least-squares position (exact for noiseless ranges)."""
        if self._x0_linear is None:
            self._x0_linear = self.linearised()
        return list(self._x0_linear)

    def data_notes(self) -> list[str]:
        """Where a file's ranges came from; the noise of generated ones is in the settings."""
        if self.range_column is not None:
            return [f"ranges from {self.range_column}"]
        return []

    def centroid(self) -> list[float]:
        """The centroid of the anchors."""
        return [math.fsum(c) / self.n for c in self.columns]

    # ------------------------------------------------------------------ maths

    def loss(self, x: Tensor) -> Tensor:
        """Σ (||x - a_i|| - ρ_i)² through the engine."""
        if not isinstance(x, Tensor):
            x = Tensor(x)
        r = F.distances(self._coords, x)
        return F.sum(F.square(r - self._rho))

    def residuals(self, x: Sequence[float]) -> list[float]:
        """r_i - ρ_i: distance minus measured range, per anchor."""
        p = [float(v) for v in x]
        return [math.dist(a, p) - rho for a, rho in zip(self.anchors, self.ranges)]

    def gradient(self, x: Sequence[float]) -> list[float]:
        """2 Σ (r_i - ρ_i)(x - a_i)/r_i, with 0 for an anchor equal to x."""
        p = [float(v) for v in x]
        terms: list[list[float]] = [[] for _ in range(self.d)]
        for a, rho in zip(self.anchors, self.ranges):
            r = math.dist(a, p)
            if r == 0.0:
                continue
            f = 2.0 * (r - rho) / r
            for j in range(self.d):
                terms[j].append(f * (p[j] - a[j]))
        return [math.fsum(t) for t in terms]

    def hessian(self, x: Sequence[float]) -> list[list[float]]:
        """2 Σ [u uᵀ + (1 - ρ/r)(I - u uᵀ)] (terms of anchors at x left out)."""
        p = [float(v) for v in x]
        d = self.d
        h = [[0.0] * d for _ in range(d)]
        for a, rho in zip(self.anchors, self.ranges):
            r = math.dist(a, p)
            if r == 0.0:
                continue
            u = [(p[j] - a[j]) / r for j in range(d)]
            c = 1.0 - rho / r
            for i in range(d):
                for j in range(d):
                    h[i][j] += 2.0 * ((1.0 - c) * u[i] * u[j] + (c if i == j else 0.0))
        return h

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """Stationarity and local shape at ``x`` (L is not convex: no global test).

        ``value`` is the gradient norm; ``hessian_min_eig`` the smallest eigenvalue of
        ∇²L (> 0: a strict local minimum when ``value`` is ~0); ``local_minimum``
        says both; ``rms_residual`` is sqrt(L/n), the fit's typical range error.
        """
        import numpy as np

        p = self.check_point(x, "x")
        g = self.gradient(p)
        value = math.hypot(*g)
        eig = float(np.linalg.eigvalsh(np.asarray(self.hessian(p)))[0])
        return {
            "value": value,
            "kind": "gradient_norm",
            "optimal": None,
            "summary": certificate_summary(value, eig),
            "hessian_min_eig": eig,
            "local_minimum": bool(eig > 0.0 and value <= 1e-6 * self.scale),
            "rms_residual": math.sqrt(self.objective(p) / self.n),
        }

    # ------------------------------------------------------------- references

    def linearised(self) -> list[float]:
        """The linearised least-squares position (see the module docstring)."""
        return linearised(self.anchors, self.ranges)

    def _least_squares(self, start: Sequence[float], **options: Any) -> Any:
        import numpy as np
        from scipy.optimize import least_squares  # type: ignore[import-untyped]

        a = np.asarray(self.anchors, dtype=float)
        rho = np.asarray(self.ranges, dtype=float)

        def fun(z: Any) -> Any:
            return np.sqrt(np.einsum("ij,ij->i", z - a, z - a)) - rho

        def jac(z: Any) -> Any:
            diff = z - a
            r = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            safe = np.where(r > 0.0, r, 1.0)
            return np.where((r > 0.0)[:, None], diff / safe[:, None], 0.0)

        return least_squares(fun, np.asarray(start, dtype=float), jac=jac, **options)

    def newton_polish(self, x: Sequence[float], steps: int = 3) -> list[float]:
        """Up to ``steps`` Newton steps with the exact Hessian where it is positive definite,
        each kept only if it lowers the gradient norm (the objective is flat to rounding
        there, so it cannot judge the step). numpy."""
        import numpy as np

        p = [float(v) for v in x]
        gnorm = math.hypot(*self.gradient(p))
        for _ in range(steps):
            h = np.asarray(self.hessian(p))
            if gnorm == 0.0 or not np.all(np.linalg.eigvalsh(h) > 0.0):
                break
            q = [float(v) for v in np.asarray(p) - np.linalg.solve(h, self.gradient(p))]
            qnorm = math.hypot(*self.gradient(q))
            if not qnorm < gnorm:
                break
            p, gnorm = q, qnorm
        return p

    def compute_reference(self) -> Reference:
        lin = self.linearised()
        runs = []
        for name, start in (("linearised", lin), ("centroid", self.centroid())):
            res = self._least_squares(start, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
            x = self.newton_polish([float(v) for v in res.x])
            runs.append((self.objective(x), name, x, res))
        loss, start_name, x, res = min(runs, key=lambda t: t[0])
        details: dict[str, Any] = {
            "start": start_name,
            "least_squares": {"nfev": int(res.nfev), "status": int(res.status),
                              "message": str(res.message)},
            "other_start_loss": next(t[0] for t in runs if t[1] != start_name),
            "linearised": lin,
            "linearised_loss": self.objective(lin),
            "linearised_distance": math.dist(lin, x),
            "truth": self.truth,
            "truth_distance": None if self.truth is None else math.dist(self.truth, x),
            "certificate": self.certificate(x),
        }  # fmt: skip
        return Reference(
            x=x, loss=loss, method="least_squares (lm)",
            details=details,
        )  # fmt: skip

    def baselines(
        self,
        methods: Sequence[str] = DEFAULT_BASELINES,
        *,
        x0: Sequence[float] | None = None,
        options: dict[str, dict[str, Any]] | None = None,
    ) -> list[Baseline]:
        """scipy.optimize.minimize with each method (as every problem), then the specialists.

        ``least_squares`` (scipy.optimize.least_squares, trust-region reflective at
        scipy's defaults, from x0, with the analytic Jacobian) and ``linearised`` (the
        closed form) run when named in ``methods`` or when ``methods`` is the default set.
        """
        methods = list(methods)
        wanted = [m for m in methods if m.lower() in SPECIALISTS]
        scipy_methods = [m for m in methods if m.lower() not in SPECIALISTS]
        if methods == list(DEFAULT_BASELINES):
            wanted = list(SPECIALISTS)
        runs = super().baselines(scipy_methods, x0=x0, options=options) if scipy_methods else []
        start = self.x0 if x0 is None else self.check_point(x0, "x0")
        for name in wanted:
            t0 = time.perf_counter()
            if name.lower() == "linearised":
                x = self.linearised()
                elapsed = time.perf_counter() - t0
                runs.append(
                    Baseline("linearised", x, self.objective(x), 0, 0, elapsed, True,
                             "closed form: linear least squares after subtracting range 1")
                )  # fmt: skip
                continue
            res = self._least_squares(start, **(options or {}).get(name, {}))
            elapsed = time.perf_counter() - t0
            x = [float(v) for v in res.x]
            runs.append(
                Baseline("least_squares", x, self.objective(x), int(res.nfev), int(res.nfev),
                         elapsed, bool(res.success), str(res.message))
            )  # fmt: skip
        return runs

    # ---------------------------------------------------------------- solving

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """Settings for :func:`geograd.minimize`; see the module docstring for the reasons.

        Steps are dimensionless (gd) or in units of :attr:`scale` (trust-ncg's first
        radius, the adaptive ones' lr), and ``gtol`` is in units of :attr:`scale`, so the
        settings do not depend on the units of the data.
        """
        from geograd.optim.schedules import Exponential

        name = (optimizer or DEFAULT_OPTIMIZER).strip().lower()
        loop: dict[str, Any] = {"gtol": 1e-11 * self.scale, "ftol": None}
        if name == "gd":
            steps = max_steps or 5000
            lr = 1.0 / (2.0 * self.n)
            return {"optimizer": "gd", "lr": lr, "c1": 0.5, "max_steps": steps, **loop}
        if name == "trust-ncg":
            # lr is the first trust radius, a length: a fraction of the anchors' extent.
            radius = TRUST_RADIUS * self.scale
            return {"optimizer": name, "lr": radius, "max_steps": max_steps or 1000, **loop}
        steps = max_steps or 2000
        if name in LR_PLAIN:
            lr = LR_PLAIN[name] / self.n
        else:
            lr = LR_IN_SCALES.get(name, 0.01) * self.scale
        out: dict[str, Any] = {
            "optimizer": name,
            "lr": lr,
            "max_steps": steps,
            "schedule": Exponential(1e-6 ** (1.0 / steps)),
            **loop,
        }
        if name == "adamw":
            out["weight_decay"] = 0.0  # decay towards the origin would bias the position
        return out

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Half random points around the anchors, half 1% of their extent off an anchor
        (near the cone-shaped kinks there)."""
        return check_points_near(self.anchors, self.scale, count, seed, 1e-2)

    # ------------------------------------------------------------- describing

    def data_facts(self) -> dict[str, Any]:
        return {"truth": self.truth}

    # ---------------------------------------------------------------- drawing

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        """The first two coordinates (3-D is drawn projected on the x-y plane)."""
        return (float(x[0]), float(x[1]))

    def plot_bounds(
        self, extra: Sequence[Sequence[float]] = (), margin: float = 0.05
    ) -> tuple[float, float, float, float]:
        """The anchors, the true position and ``extra`` (and for generated data the whole
        box the anchors were drawn from); range circles may run outside."""
        xs, ys = list(self.columns[0]), list(self.columns[1])
        if self.source == "generated":
            xs += [0.0, SIDE]
            ys += [0.0, SIDE]
        for p in [*extra, *([self.truth] if self.truth is not None else [])]:
            xs.append(float(p[0]))
            ys.append(float(p[1]))
        return bounding_box(xs, ys, margin)

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """The anchors (triangles), their range circles (dashed), the true position when
        known (a cross) and the estimate (a star).

        3-D is drawn on the x-y plane: anchors projected, and each range sphere cut by the
        horizontal plane through the reference solution (a circle through the solution
        when the ranges are exact; spheres that do not reach the plane are left out).
        """
        from matplotlib.patches import Circle

        circles: list[tuple[float, float, float]] = []
        if self.d == 2:
            circles = [(a[0], a[1], rho) for a, rho in zip(self.anchors, self.ranges)]
            what, proj = "measured ranges", ""
        else:
            z = self.reference().x[2]
            for a, rho in zip(self.anchors, self.ranges):
                h = (rho - abs(z - a[2])) * (rho + abs(z - a[2]))
                if h > 0.0:
                    circles.append((a[0], a[1], math.sqrt(h)))
            what, proj = f"range spheres cut at {self.names[2]} = {z:.4g}", " (projected)"
        artists: list[Any] = []
        for i, (cx, cy, radius) in enumerate(circles):
            artists.append(
                ax.add_patch(
                    Circle((cx, cy), radius, fill=False, ls="--", lw=0.8, ec="0.55", zorder=1,
                           label=what if i == 0 else None)
                )
            )  # fmt: skip
        artists.append(
            ax.scatter(
                self.columns[0], self.columns[1], marker="^", s=60, c="0.35",
                edgecolors="black", label=f"anchors (n={self.n}){proj}", zorder=4,
            )
        )  # fmt: skip
        if self.truth is not None:
            artists += ax.plot(
                [self.truth[0]], [self.truth[1]], marker="X", ms=10, ls="none", color="#2ca02c",
                markeredgecolor="black", label="true position", zorder=5,
            )  # fmt: skip
        ax.set_xlabel(self.names[0])
        ax.set_ylabel(self.names[1])
        artists += super().draw(ax, x, label=label)
        return artists


def certificate_summary(value: float, eig: float) -> str:
    """The certificate's line: the gradient norm and the local shape."""
    shape = "locally convex" if eig > 0.0 else "not locally convex"
    return f"gradient norm {value:.2g}; {shape} (smallest Hessian eigenvalue {eig:.3g})"


class Trilateration(Normalised, TrilaterationCore):
    """Locate a point from its distances to known anchors (see the module docstring).

    The anchors and ranges stay as given; the mathematics run on ``unit``, a
    :class:`TrilaterationCore` over the anchors centred and divided by s, the power of
    two nearest the larger of their extent and the longest range, with the ranges
    divided by s too (see :mod:`geograd.problems.scaling`). Every method answers in
    user units: positions map back as points, the loss (a sum of squared range errors)
    is s² times the unit loss, the Hessian is unit-free. Data whose least loss exceeds
    the largest float in user units (noisy ranges beyond about 1e154) are refused.
    scipy's baselines run on the user's numbers, as a user would call scipy.
    """

    loss_power = 2
    objective_words = "sum of squared range errors"
    quantities = Quantities(
        data={"ranges": "length", "truth": "point"},
        certificate={"value": "gradient norm", "rms_residual": "length"},
        reference={"other_start_loss": "loss", "linearised": "x"},
    )

    def centroid(self) -> list[float]:
        """The centroid of the anchors (on the user's numbers unless their sum overflows)."""
        try:
            x = TrilaterationCore.centroid(self)
        except OverflowError:
            x = []
        if x and all(math.isfinite(v) for v in x):
            return x
        return self.from_unit(self.unit.centroid())

    def linearised(self) -> list[float]:
        """The linearised least-squares position (see the module docstring)."""
        return self.from_unit(self.unit.linearised())

    def residuals(self, x: Sequence[float]) -> list[float]:
        """r_i - ρ_i: distance minus measured range, per anchor."""
        return [self.length_to_user(v) for v in self.unit.residuals(self.to_unit(x))]

    def hessian(self, x: Sequence[float]) -> list[list[float]]:
        """2 Σ [u uᵀ + (1 - ρ/r)(I - u uᵀ)] (unit-free: the unit copy's)."""
        out: list[list[float]] = self.unit.hessian(self.to_unit(x))
        return out

    def newton_polish(self, x: Sequence[float], steps: int = 3) -> list[float]:
        """Newton steps as the core class takes them, on the unit copy."""
        return self.from_unit(self.unit.newton_polish(self.to_unit(x), steps))

    def summarise_certificate(self, cert: dict[str, Any]) -> str:
        """The gradient norm (in user units) and the local shape."""
        return certificate_summary(cert["value"], cert["hessian_min_eig"])

    def reference_details(self, details: dict[str, Any], x: list[float]) -> dict[str, Any]:
        """The declared entries (:attr:`quantities`) in user units; the linearised
        position's loss and distances, and the truth's, computed on the user's numbers."""
        details = super().reference_details(details, x)
        details["linearised_loss"] = self.objective(details["linearised"])
        details["linearised_distance"] = math.dist(details["linearised"], x)
        details["truth"] = self.truth
        details["truth_distance"] = None if self.truth is None else math.dist(self.truth, x)
        return details


# ------------------------------------------------------------------------ data makers


def generate(
    r: random.Random, n: int, d: int, noise: float
) -> tuple[list[list[float]], list[float], list[float]]:
    """(anchors as rows, ranges, true position) from ``r`` (see the module docstring)."""
    cols = [[r.uniform(0.0, SIDE) for _ in range(n)] for _ in range(d)]
    anchors = [[cols[j][i] for j in range(d)] for i in range(n)]
    truth = [r.uniform(MARGIN, SIDE - MARGIN) for _ in range(d)]
    ranges = [max(0.0, math.dist(a, truth) + noise * r.gauss(0.0, 1.0)) for a in anchors]
    return anchors, ranges, truth


def read_anchors(ps: PointSet) -> tuple[list[list[float]], list[float], tuple[str, ...], str]:
    """(anchor columns, ranges, coordinate names, which column held the ranges, in words)
    from a loaded file (see the module docstring)."""
    lowered = [c.lower() for c in ps.names]
    hits = [j for j, c in enumerate(lowered) if c in RANGE_NAMES]
    k = hits[0] if hits else ps.dim - 1
    if ps.dim not in (3, 4):
        raise InputError(
            f"{ps.source}: {ps.dim} column{'s' if ps.dim != 1 else ''}; give 2 or 3 anchor "
            "coordinates and a range per line"
        )
    columns = ps.columns()
    ranges = columns.pop(k)
    for i, v in enumerate(ranges):
        if v < 0:
            raise InputError(
                f"{ps.source}: anchor {i + 1} has range {v}, negative; ranges are distances >= 0"
            )
    names = tuple(c for j, c in enumerate(ps.names) if j != k)
    column = f"its {ps.names[k]!r} column" if hits else f"its last column ({_ordinal(k + 1)})"
    if ps.names == _default_names(ps.dim):  # no header: x, y (z) for the coordinates
        names = _default_names(len(names))
    return columns, ranges, names, column


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def linearised(anchors: Sequence[Sequence[float]], ranges: Sequence[float]) -> list[float]:
    """Subtract the first range equation and solve the linear system by least squares.

    ||x - a_i||² = ρ_i² minus the same for i = 1 gives, with y = x - a_1 and
    b_i = a_i - a_1, the linear equations 2 b_iᵀ y = ρ_1² - ρ_i² + ||b_i||² (i = 2..n);
    y is their least-squares solution by a QR factorisation (modified Gram–Schmidt,
    done twice for orthogonality; d <= 3 columns), and x = a_1 + y. Exact for
    noiseless ranges. The anchors must not be collinear (2-D) or coplanar (3-D).
    """
    a0 = [float(v) for v in anchors[0]]
    d = len(a0)
    rows = [[float(v) - c for v, c in zip(a, a0)] for a in anchors[1:]]
    # solved for y' = 2^shift·y with b' = 2^shift·b of about unit size, so that the squares of
    # anchors far smaller (or larger) than 1 do not underflow (overflow)
    size = max((abs(v) for b in rows for v in b), default=0.0)
    shift = -math.frexp(size)[1] if size > 0.0 and math.isfinite(size) else 0
    rows = [[math.ldexp(v, shift) for v in b] for b in rows]
    rho0 = float(ranges[0])
    rhs = [
        math.ldexp(rho0 - r, shift) * math.ldexp(rho0 + r, shift) + math.fsum(v * v for v in b)
        for b, r in zip(rows, (float(v) for v in ranges[1:]))
    ]
    cols = [[2.0 * b[j] for b in rows] for j in range(d)]
    q: list[list[float]] = []
    rr = [[0.0] * d for _ in range(d)]
    for j in range(d):
        v = list(cols[j])
        for _ in range(2):
            for k in range(j):
                c = math.fsum(x * y for x, y in zip(q[k], v))
                rr[k][j] += c
                v = [x - c * y for x, y in zip(v, q[k])]
        rr[j][j] = math.sqrt(math.fsum(x * x for x in v))
        if rr[j][j] == 0.0:
            raise InputError("trilateration: the anchors do not span the space")
        q.append([x / rr[j][j] for x in v])
    qt = [math.fsum(x * y for x, y in zip(qk, rhs)) for qk in q]
    y = [0.0] * d
    for j in reversed(range(d)):
        y[j] = (qt[j] - math.fsum(rr[j][i] * y[i] for i in range(j + 1, d))) / rr[j][j]
    return [c + math.ldexp(v, -shift) for c, v in zip(a0, y)]


def thinness(rows: Sequence[Sequence[float]]) -> float:
    """How far the points are from lying on one line (2-D) or plane (3-D): the smallest
    singular value of the centred points over the largest (0 when degenerate)."""
    d = len(rows[0])
    n = len(rows)
    mean = [math.fsum(p[j] for p in rows) / n for j in range(d)]
    c = [[p[j] - mean[j] for j in range(d)] for p in rows]
    # the ratio is scale-free: measured on the centred points scaled to about unit size,
    # so that anchors far smaller (or larger) than 1 do not underflow (overflow) their
    # squares (a unit copy scaled by ranges of 1e200 holds anchors near 1e-199)
    size = max((abs(v) for q in c for v in q), default=0.0)
    if size == 0.0 or not math.isfinite(size):
        return 0.0
    k = -math.frexp(size)[1]
    c = [[math.ldexp(v, k) for v in q] for q in c]
    g = [[math.fsum(q[i] * q[j] for q in c) for j in range(d)] for i in range(d)]
    eig = _symmetric_eigenvalues(g)
    if eig[-1] <= 0.0:
        return 0.0
    return math.sqrt(max(eig[0], 0.0) / eig[-1])


def _symmetric_eigenvalues(m: Sequence[Sequence[float]]) -> list[float]:
    """Eigenvalues, ascending, of a symmetric 2x2 or 3x3 matrix (closed form)."""
    if len(m) == 2:
        a, b, c = m[0][0], m[0][1], m[1][1]
        mid, rad = (a + c) / 2.0, math.hypot((a - c) / 2.0, b)
        return [mid - rad, mid + rad]
    # 3x3: the trigonometric method (Smith 1961).
    p1 = m[0][1] ** 2 + m[0][2] ** 2 + m[1][2] ** 2
    q = (m[0][0] + m[1][1] + m[2][2]) / 3.0
    if p1 == 0.0:
        return sorted([m[0][0], m[1][1], m[2][2]])
    p2 = sum((m[i][i] - q) ** 2 for i in range(3)) + 2.0 * p1
    p = math.sqrt(p2 / 6.0)
    n = [[(m[i][j] - (q if i == j else 0.0)) / p for j in range(3)] for i in range(3)]
    det = (
        n[0][0] * (n[1][1] * n[2][2] - n[1][2] * n[2][1])
        - n[0][1] * (n[1][0] * n[2][2] - n[1][2] * n[2][0])
        + n[0][2] * (n[1][0] * n[2][1] - n[1][1] * n[2][0])
    )
    phi = math.acos(max(-1.0, min(1.0, det / 2.0))) / 3.0
    e1 = q + 2.0 * p * math.cos(phi)
    e3 = q + 2.0 * p * math.cos(phi + 2.0 * math.pi / 3.0)
    return sorted([e3, 3.0 * q - e1 - e3, e1])
