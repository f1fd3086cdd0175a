"""Rigid 2-D registration: the rotation and translation that best map one point set onto another.

Objective, for source points p_1..p_n and target points q_1..q_n in R² (q_i is
the partner of p_i), over x = (θ, t_x, t_y):

    L(θ, t) = Σ_i ||R(θ) p_i + t - q_i||²,    R(θ) = [[cos θ, -sin θ], [sin θ, cos θ]]

Gradient, with the residuals r_i = R(θ) p_i + t - q_i and R'(θ) = dR/dθ:

    ∂L/∂θ = 2 Σ_i r_i · R'(θ) p_i,    ∂L/∂t = 2 Σ_i r_i

Exact solution. With the centroids p̄, q̄, the centred points p'_i = p_i - p̄,
q'_i = q_i - q̄, A = Σ p'_i · q'_i and B = Σ p'_i × q'_i (the z-component of the
cross product), L splits into

    L(θ, t) = L* + 4ρ sin²((θ - θ*)/2) + n ||R(θ) p̄ + t - q̄||²

with ρ = √(A² + B²), θ* = atan2(B, A), t* = q̄ - R(θ*) p̄ and L* = Σ||p'||² +
Σ||q'||² - 2ρ. So L has one minimum per turn of θ (when ρ > 0) and no other
stationary point but the maximum at θ* + π: gradient descent from anywhere but
that maximum finds it. The split also gives the certificate: the objective gap
L(x) - L*, from the two non-negative terms, with no cancellation.

Data
    Generated from ``random.Random(seed)`` (seed 5 by default): n source points
    uniform in the unit square, all x-coordinates first, then all y (as the
    median's); the target is the source rotated by ``angle`` degrees about the
    origin, shifted by ``shift`` = "TX,TY", plus Gaussian noise of standard
    deviation ``noise`` (all x-noise first, then all y). Or ``source=FILE`` loads
    the source (two columns) and the target is generated from it as above, or
    ``source=FILE`` and ``target=FILE`` load both: row i of one matches row i of
    the other (the correspondences are known, as in Kabsch's problem; finding
    them is another problem).

Reference
    Kabsch's algorithm (the orthogonal Procrustes problem with centring): the SVD
    H = Σ p'_i q'_iᵀ = U S Vᵀ gives R = V diag(1, d) Uᵀ with d = sign det(V Uᵀ),
    the reflection fix that makes det R = +1, and t = q̄ - R p̄; θ = atan2(R₂₁, R₁₁)
    in (-π, π]. In numpy. ``scipy.linalg.orthogonal_procrustes`` is not a
    substitute: it neither centres (no translation) nor excludes reflections
    (tests show both). The closed form above (:meth:`Registration.closed_form`,
    plain floats) is a second, independent exact solution; the tests check that
    the two agree. The reference is whichever of the two has the lower objective
    (method ``kabsch-svd`` or ``closed-form``): they differ by rounding, but the
    SVD can leave a rotation of 1e-17 where the data have none.

Scale
    :class:`Registration` keeps the point pairs as given and computes on a copy
    divided by s, the power of two nearest their largest |coordinate| (not
    centred: a shift of the origin would mix θ into t); see
    :mod:`geograd.problems.scaling`. θ is the same in both, t and lengths scale by
    s, the objective by s². Point pairs whose least objective exceeds the largest
    float (noisy pairs beyond about 1e154) are refused with an input error.

The solver's frame (``solve``)
    In (θ, t) the rotation is about the origin, so θ and t are coupled when the
    data lie far from the origin: the Hessian's condition number grows like
    (|p̄| / r)⁴, with r the source's RMS radius about its centroid. It was 2.6e5
    for unit-square data 10 units away and 2e9 at 100 units, where neither steepest
    descent nor Nesterov momentum with ideal settings converged in 20000 steps. So
    :meth:`Registration.solve` runs the optimizer in the coordinates of the split
    above, z = (r θ, R(θ) p̄ + t - q̄) (:meth:`Registration.to_solver`), where

        L = L* + 4ρ sin²((θ - θ*)/2) + n ||z_12||²

    has Hessian ≈ 2n·I at the minimum (ρ ≈ n r²) whatever the units and the offset,
    and maps the result, its best iterate and its recorded path back to (θ, t)
    (:meth:`Registration.from_solver`); the losses are L's values, unchanged. It is
    a linear change of variables for t and a scaling of θ — preconditioning, not a
    different problem. ``solve(..., centred=False)`` runs on (θ, t) directly (so
    does a user's optimizer instance, which holds its own (θ, t) tensor).

Initial point
    θ = 0 and the shift that matches the centroids, t = q̄ - p̄: the usual first
    guess of a registration (z_12 = 0 there, so only the angle remains to find).

Solver defaults (``solver_defaults()``, for :meth:`Registration.solver_loss`)
    ``trust-ncg`` — Steihaug-CG trust region on exact Hessian-vector products —
    with first trust radius ``lr`` = the way to go (the source's RMS radius r, or
    the start's centroid misfit |z_12| when that is longer; :data:`TRUST_RADIUS`
    times it), ``gtol = 1e-14 n r`` (:data:`TRUST_GTOL`) and ``max_steps = 1000``.
    Chosen by measurement (issue 13). No flags (n = 50, 30°, shift (0.5, -0.25),
    noise 0.01, seed 5), this machine, median of 3 interleaved rounds (``geograd
    compare registration --optimizers gd,lbfgs,newton,trust-ncg`` gives the same
    steps):

    ==========  =====  =====  ========  ==========  ===========================
    method      steps  evals  time      distance    objective within 1e-9 at
    ==========  =====  =====  ========  ==========  ===========================
    lbfgs       5      9      2.6 ms    3.7e-12     step 4, 2.0 ms
    trust-ncg   4      6      3.3 ms    4e-16       step 3, 2.3 ms
    newton      11     13     7.2 ms    4e-16       step 10, 6.5 ms
    gd          37     58     13 ms     1.9e-13     step 16, 6.1 ms
    momentum    489    490    111 ms    1.6e-13     step 185
    adam        473    474    112 ms    2.3e-13     step 207
    ==========  =====  =====  ========  ==========  ===========================

    Why trust-ncg and not lbfgs, 0.7 ms faster here: on the same data 1e5 units from
    the origin the unit copy's loss is ~1e-13 (the copy is divided by the power of
    two near the data's extent, 2^17), torch's absolute curvature test (y·s > 1e-10,
    which geograd's L-BFGS follows) keeps only the first curvature pair, and after 4
    steps its line search finds no decrease at a gradient of 4e-10 where gtol is
    1e-16: a false convergence (xtol) 0.24 off in t. trust-ncg converges there as
    everywhere else: 6 steps 10, 1000 and 1e5 units from the origin (θ to 2e-16, t
    within 4e-11 at 1e5), 5 steps at angles 179°, -179° and 180° (noise 0.05), 4
    with noise 0 and with n = 1000. Its tighter gtol costs one step of its quadratic
    convergence and takes θ from ~1e-13 to the rounding level, which matters because
    t = q̄ - R(θ)p̄ multiplies θ's error by the data's distance from the origin. gd,
    the default before, converged on all of them in tens of steps.

    On (θ, t) itself (``centred=False``) the coupling is what steepest descent
    cannot cross: gd needs 104 steps on the unit-square data and does not converge
    in 5000 10 units away.

    ``gd`` gets first trial step ``lr = 1/(2n)`` (the inverse of the curvature 2n
    of the solver's frame), ``c1 = 0.5``, ``gtol = 1e-12 n r`` (relative: the
    solver-frame gradient is n residuals times lengths; it leaves θ within ~1e-12
    radians) and ``max_steps = 1000``; lbfgs its minimize settings and the same
    gtol. The other optimizers get learning rates from ``LR_SCALED``: sgd,
    momentum and nag in units of 1/(2n), with no schedule (L is smooth and its
    minimum isolated: a fixed step converges linearly); the adaptive ones, which
    take steps of about lr in every coordinate, in units of the way to go, with an
    exponential schedule that lowers them by 1e-6 over ``max_steps = 3000``. Every
    one reaches the Kabsch solution within 1e-8 relative on the default data, on
    angles near 180° and on data far from the origin.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geograd.functional as F
from geograd import Tensor
from geograd.errors import InputError

from .base import Component, Option, Problem, Reference, bounding_box, format_setting
from .data import extent as data_extent
from .data import load_points
from .scaling import Frame, Normalised, times_pow2

DEFAULT_OPTIMIZER = "trust-ncg"
#: trust-ncg's first trust radius in units of the way to go (see ``solver_defaults``).
TRUST_RADIUS = 1.0
#: trust-ncg's stopping tolerance, relative as GTOL: its steps converge quadratically, so
#: the one more step this tighter test costs takes θ from ~1e-13 to the rounding level
#: (which t = q̄ - R(θ) p̄ multiplies by the distance of the data from the origin).
TRUST_GTOL = 1e-14
#: The stopping tolerance, relative: the solver-frame gradient is n residuals times lengths.
GTOL = 1e-12
#: Learning rates of the other optimizers: for sgd/momentum/nag in units of 1/(2n (1 + s²))
#: (about the inverse of the largest curvature), for the adaptive ones in radians and lengths.
LR_SCALED = {
    "sgd": 1.5,
    "momentum": 0.3,
    "nag": 0.3,
    "adam": 0.05,
    "adamw": 0.05,
    "adamax": 0.1,
    "rmsprop": 0.02,
    "adagrad": 0.5,
}


def rotation(theta: float) -> tuple[float, float, float, float]:
    """(cos θ, -sin θ, sin θ, cos θ): the entries of R(θ), row by row."""
    c, s = math.cos(theta), math.sin(theta)
    return (c, -s, s, c)


def wrap_angle(theta: float) -> float:
    """θ moved by whole turns into (-π, π]."""
    w = math.remainder(theta, 2.0 * math.pi)
    return math.pi if w == -math.pi else w


def parse_shift(text: str) -> tuple[float, float]:
    """``TX,TY`` as two finite floats, else a one-line InputError."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 2 or not all(math.isfinite(v) for v in values):
        raise InputError(
            f"registration: --shift must be two comma-separated numbers TX,TY, got {text!r}"
        )
    return values[0], values[1]


class RegistrationCore(Problem):
    """Registration's mathematics over the point pairs as they are given (see the module
    docstring); :class:`Registration`, the public class, runs it on a copy scaled to unit
    size (see :mod:`geograd.problems.scaling`)."""

    name = "registration"
    description = "rigid 2-D registration: the rotation and shift that map points onto a copy"
    # Measured peak RSS ~2.3 kB per point pair, with a margin.
    bytes_per_item = 3500
    options = (
        Option(
            "n",
            int,
            50,
            "number of generated source points",
            min=2,
            metavar="N",
            generator=("source",),
        ),
        Option(
            "angle",
            float,
            30.0,
            "rotation of the generated target, in degrees",
            min=-360.0,
            max=360.0,
            metavar="DEG",
            generator=("target",),
        ),
        Option(
            "shift",
            str,
            "0.5,-0.25",
            "translation of the generated target",
            metavar="TX,TY",
            generator=("target",),
        ),
        Option(
            "noise",
            float,
            0.01,
            "standard deviation of the target's noise",
            min=0.0,
            generator=("target",),
        ),
        Option(
            "seed",
            int,
            5,
            "random seed of the generated points and noise",
            metavar="SEED",
            generator=("target",),
        ),
        Option("source", Path, None, "load the source points (x,y per line)", metavar="FILE"),
        Option(
            "target",
            Path,
            None,
            "load the target points (row i matches source row i; needs --source)",
            metavar="FILE",
        ),
    )

    data_items = "point pairs"
    # θ is reported in degrees, the unit --angle is given in; the shift in the data's units.
    component_names = (Component("angle", "deg", 180.0 / math.pi), "shift x", "shift y")
    reference_modules = ("numpy",)

    # ------------------------------------------------------------------ data

    def setup(self) -> None:
        s = self.settings
        self.true_shift = parse_shift(s["shift"])
        self.true_angle = math.radians(s["angle"])
        if self._given is not None:  # point pairs given in code (the public class's unit copy)
            self.origin = "given"
            source, target = self._given
            self.set_data(source, target)
            return
        r = random.Random(s["seed"])
        if s["target"] is not None and s["source"] is None:
            raise InputError("registration: --target needs --source (row i matches row i)")
        if s["source"] is not None:
            src = load_points(s["source"], weights=False, dim=2, min_points=2, what="source file")
            source = [list(p) for p in src.points]
            self.origin = str(s["source"])
        else:
            xs = [r.uniform(0.0, 1.0) for _ in range(s["n"])]
            ys = [r.uniform(0.0, 1.0) for _ in range(s["n"])]
            source = [[x, y] for x, y in zip(xs, ys)]
            self.origin = "generated"
        if s["target"] is not None:
            tgt = load_points(s["target"], weights=False, dim=2, min_points=2, what="target file")
            if tgt.n != len(source):
                raise InputError(
                    f"{s['target']}: {tgt.n} target points for {len(source)} source points; "
                    "row i of the target must match row i of the source"
                )
            target = [list(p) for p in tgt.points]
            self.origin += f" -> {s['target']}"
        else:
            target = self.transform(source, self.true_angle, self.true_shift)
            if s["noise"] > 0.0:
                nx = [r.gauss(0.0, s["noise"]) for _ in range(len(source))]
                ny = [r.gauss(0.0, s["noise"]) for _ in range(len(source))]
                target = [[q[0] + a, q[1] + b] for q, a, b in zip(target, nx, ny)]
        self.set_data(source, target)

    def set_data(
        self, source: Sequence[Sequence[float]], target: Sequence[Sequence[float]]
    ) -> None:
        """Install corresponding point lists (rows (x, y))."""
        self._install_pairs(source, target)
        self._check_distinct_sources()
        self._px = self.as_data([p[0] for p in self.source])
        self._py = self.as_data([p[1] for p in self.source])
        self._qx = self.as_data([q[0] for q in self.target])
        self._qy = self.as_data([q[1] for q in self.target])
        self._size = max(abs(v) for p in self.source for v in p)
        # The solver's frame (see solver_loss): centroids, centred data, the RMS radius.
        n = self.n
        self.source_centroid = tuple(math.fsum(p[k] for p in self.source) / n for k in (0, 1))
        self.target_centroid = tuple(math.fsum(q[k] for q in self.target) / n for k in (0, 1))
        pc = [(p[0] - self.source_centroid[0], p[1] - self.source_centroid[1]) for p in self.source]
        qc = [(q[0] - self.target_centroid[0], q[1] - self.target_centroid[1]) for q in self.target]
        self.radius = math.sqrt(math.fsum(a * a + b * b for a, b in pc) / n)
        self._pcx, self._pcy = self.as_data([p[0] for p in pc]), self.as_data([p[1] for p in pc])
        self._qcx, self._qcy = self.as_data([q[0] for q in qc]), self.as_data([q[1] for q in qc])
        self._reference = None

    def _install_pairs(
        self, source: Sequence[Sequence[float]], target: Sequence[Sequence[float]]
    ) -> None:
        """Install the user's point pairs (the attributes both classes keep); as many targets
        as sources, or an input error."""
        self.source = [(float(p[0]), float(p[1])) for p in source]
        self.target = [(float(q[0]), float(q[1])) for q in target]
        self.n = len(self.source)
        self.settings["n"] = self.n
        if len(self.target) != self.n:
            raise InputError(f"registration: {len(self.target)} targets for {self.n} sources")

    def _check_distinct_sources(self) -> None:
        """An input error when all source points coincide (the rotation is undetermined)."""
        first = self.source[0]
        if all(p == first for p in self.source):
            raise InputError(
                "registration: all source points coincide, so the rotation is undetermined; "
                "give at least two distinct source points"
            )

    @staticmethod
    def transform(
        points: Sequence[Sequence[float]], theta: float, shift: Sequence[float]
    ) -> list[list[float]]:
        """R(θ) p + t for each point p."""
        c, ms, s, _ = rotation(theta)
        return [[c * p[0] + ms * p[1] + shift[0], s * p[0] + c * p[1] + shift[1]] for p in points]

    @property
    def dim(self) -> int:
        return 3

    def default_x0(self) -> list[float]:
        """No rotation, and the shift that matches the centroids: θ = 0, t = q̄ - p̄."""
        pbar, qbar = self.source_centroid, self.target_centroid
        return [0.0, qbar[0] - pbar[0], qbar[1] - pbar[1]]

    # ------------------------------------------------------------------ maths

    def loss(self, x: Tensor) -> Tensor:
        """Σ ||R(θ) p_i + t - q_i||² through the engine, vectorised over the points."""
        if not isinstance(x, Tensor):
            x = Tensor(x)
        theta = x[0]
        c, s = F.cos(theta), F.sin(theta)
        rx = self._px * c - self._py * s + (x[1] - self._qx)
        ry = self._px * s + self._py * c + (x[2] - self._qy)
        return F.dot(rx, rx) + F.dot(ry, ry)

    def residuals(self, x: Sequence[float]) -> list[tuple[float, float]]:
        """r_i = R(θ) p_i + t - q_i, in plain floats."""
        c, ms, s, _ = rotation(float(x[0]))
        tx, ty = float(x[1]), float(x[2])
        return [
            (c * p[0] + ms * p[1] + tx - q[0], s * p[0] + c * p[1] + ty - q[1])
            for p, q in zip(self.source, self.target)
        ]

    def objective(self, x: Sequence[float]) -> float:
        return math.fsum(a * a + b * b for a, b in self.residuals(x))

    def gradient(self, x: Sequence[float]) -> list[float]:
        """(2 Σ r_i · R'(θ) p_i, 2 Σ r_i), with R'(θ) p = (-s p_x - c p_y, c p_x - s p_y)."""
        c, s = math.cos(float(x[0])), math.sin(float(x[0]))
        res = self.residuals(x)
        dtheta = math.fsum(
            a * (-s * p[0] - c * p[1]) + b * (c * p[0] - s * p[1])
            for (a, b), p in zip(res, self.source)
        )
        return [
            2.0 * dtheta,
            2.0 * math.fsum(a for a, _ in res),
            2.0 * math.fsum(b for _, b in res),
        ]

    def closed_form(self) -> dict[str, Any]:
        """The exact solution from the module docstring's split of L, in plain floats:
        ``theta`` (in (-π, π]), ``shift``, ``loss`` (L*), ``rho``, the centroids."""
        n = self.n
        pbar = [math.fsum(p[k] for p in self.source) / n for k in range(2)]
        qbar = [math.fsum(q[k] for q in self.target) / n for k in range(2)]
        pc = [(p[0] - pbar[0], p[1] - pbar[1]) for p in self.source]
        qc = [(q[0] - qbar[0], q[1] - qbar[1]) for q in self.target]
        a = math.fsum(v for p, q in zip(pc, qc) for v in (p[0] * q[0], p[1] * q[1]))
        b = math.fsum(v for p, q in zip(pc, qc) for v in (p[0] * q[1], -p[1] * q[0]))
        rho = math.hypot(a, b)
        theta = wrap_angle(math.atan2(b, a))
        c, ms, s, _ = rotation(theta)
        shift = [qbar[0] - (c * pbar[0] + ms * pbar[1]), qbar[1] - (s * pbar[0] + c * pbar[1])]
        spread = math.fsum(v * v for p in pc + qc for v in p)
        return {"theta": theta, "shift": shift, "loss": max(0.0, spread - 2.0 * rho), "rho": rho,
                "source_centroid": pbar, "target_centroid": qbar}  # fmt: skip

    def gap(self, x: Sequence[float]) -> float:
        """L(x) - L*, as 4ρ sin²((θ-θ*)/2) + n ||R(θ) p̄ + t - q̄||² (no cancellation)."""
        cf = self.closed_form()
        theta = float(x[0])
        c, ms, s, _ = rotation(theta)
        pbar, qbar = cf["source_centroid"], cf["target_centroid"]
        dx = c * pbar[0] + ms * pbar[1] + float(x[1]) - qbar[0]
        dy = s * pbar[0] + c * pbar[1] + float(x[2]) - qbar[1]
        half = math.sin((theta - cf["theta"]) / 2.0)
        return float(4.0 * cf["rho"] * half * half + self.n * (dx * dx + dy * dy))

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """The exact objective gap L(x) - L* (see :meth:`gap`), and the gradient norm."""
        p = self.check_point(x, "x")
        value = self.gap(p)
        return {
            "value": value,
            "kind": "objective_gap",
            "optimal": None,
            "summary": certificate_summary(value),
            "gap_bound": value,
            "gradient_norm": math.hypot(*self.gradient(p)),
        }

    # ------------------------------------------------------------- reference

    def uniqueness(self) -> tuple[bool, str]:
        """Unique (θ in (-π, π], and t) when the centred cross-covariance has ρ =
        |(A, B)| > 0 (see the module docstring): L - L* = 4ρ sin²((θ - θ*)/2) + n |...|²
        then vanishes at θ* alone. With ρ = 0 (to rounding: below 1e-12 of its bound
        √(Σ|p'|² Σ|q'|²), Cauchy–Schwarz) every angle, with its matching shift, fits
        equally well."""
        cf = self.closed_form()
        pbar, qbar = cf["source_centroid"], cf["target_centroid"]
        sp = math.fsum((p[0] - pbar[0]) ** 2 + (p[1] - pbar[1]) ** 2 for p in self.source)
        sq = math.fsum((q[0] - qbar[0]) ** 2 + (q[1] - qbar[1]) ** 2 for q in self.target)
        bound = math.sqrt(sp * sq)
        if cf["rho"] > 1e-12 * bound:
            return True, (
                f"the centred cross-covariance is non-degenerate (ρ = {cf['rho']:.3g} > 0): "
                "one angle in (-180°, 180°] and one shift"
            )
        return False, (
            "the centred cross-covariance vanishes (ρ = 0, e.g. all target points coincide): "
            "every angle, with its matching shift, fits equally well"
        )

    @property
    def extent(self) -> float:
        """The largest coordinate extent of the source and target points together."""
        pts = [*self.source, *self.target]
        return data_extent([[p[0] for p in pts], [p[1] for p in pts]])

    @property
    def data_dim(self) -> int:
        return 2

    def distance(self, x: Sequence[float], y: Sequence[float]) -> float:
        """How far apart two motions are, as a length: the largest distance between a source
        point moved by ``x`` and the same point moved by ``y`` (θ in radians and t in the
        data's units cannot be added up otherwise; whole turns of θ count as none)."""
        ca, msa, sa, _ = rotation(float(x[0]))
        cb, msb, sb, _ = rotation(float(y[0]))
        dtx, dty = float(x[1]) - float(y[1]), float(x[2]) - float(y[2])
        return max(
            math.hypot(
                (ca - cb) * p[0] + (msa - msb) * p[1] + dtx,
                (sa - sb) * p[0] + (ca - cb) * p[1] + dty,
            )
            for p in self.source
        )

    def data_summary(self) -> str:
        """Where the source and target came from (generated, from a file, or the source
        moved by the generator's angle, shift and noise)."""
        s = self.settings
        head = f"{self.n} point pairs in R^2"
        if s["source"] is None:
            source = f"source generated with n={self.n}, seed={s['seed']}"
        else:
            source = f"source from {s['source']}"
        if s["target"] is not None:
            return f"{head}: {source}, target from {s['target']} (row i matches row i)"
        moved = (
            f"target = source rotated by {format_setting(s['angle'])}° and shifted by "
            f"({format_setting(self.true_shift[0])}, {format_setting(self.true_shift[1])})"
        )
        if s["noise"] > 0:
            moved += f", plus noise {format_setting(s['noise'])} (seed={s['seed']})"
        return f"{head}: {source}; {moved}"

    def compute_reference(self) -> Reference:
        """Kabsch: the SVD of the centred cross-covariance, with the reflection fix; or the
        closed form (:meth:`closed_form`) where its objective is lower. The two agree to
        rounding, but the SVD can leave a rounding-level rotation where the data have
        none (θ = 1e-17 for a pure shift, where atan2(0, A) gives 0), and at scales
        beyond 1e154 that rounding is what decides whether the objective, a sum of
        squares, is 0 or beyond the largest float."""
        theta, shift, details = kabsch(self.source, self.target)
        x = [theta, shift[0], shift[1]]
        cf = self.closed_form()
        details["closed_form_theta"] = cf["theta"]
        method = "kabsch-svd"
        exact = [cf["theta"], cf["shift"][0], cf["shift"][1]]
        if self.objective(exact) < self.objective(x):
            details["kabsch"] = x
            x, method = exact, "closed-form"
        return Reference(x=x, loss=self.objective(x), method=method, details=details)

    # ---------------------------------------------------------------- solving

    @property
    def size(self) -> float:
        """The largest |coordinate| of the source points (the lever arm of the rotation)."""
        return self._size

    def to_solver(self, x: Sequence[float]) -> list[float]:
        """x = (θ, t) in the solver's frame z = (r θ, R(θ) p̄ + t - q̄) (r: :attr:`radius`)."""
        theta = float(x[0])
        c, ms, s, _ = rotation(theta)
        pbar, qbar = self.source_centroid, self.target_centroid
        return [
            self.radius * theta,
            c * pbar[0] + ms * pbar[1] + float(x[1]) - qbar[0],
            s * pbar[0] + c * pbar[1] + float(x[2]) - qbar[1],
        ]

    def from_solver(self, z: Sequence[float]) -> list[float]:
        """The inverse of :meth:`to_solver`: θ = z_0 / r, t = z_12 - R(θ) p̄ + q̄."""
        theta = float(z[0]) / self.radius
        c, ms, s, _ = rotation(theta)
        pbar, qbar = self.source_centroid, self.target_centroid
        return [
            theta,
            float(z[1]) - (c * pbar[0] + ms * pbar[1]) + qbar[0],
            float(z[2]) - (s * pbar[0] + c * pbar[1]) + qbar[1],
        ]

    def solver_loss(self, z: Tensor) -> Tensor:
        """L in the solver's frame: Σ ||R(z_0/r)(p_i - p̄) + z_12 - (q_i - q̄)||², equal to
        ``loss(from_solver(z))``; its Hessian at the minimum is about 2n times the identity."""
        if not isinstance(z, Tensor):
            z = Tensor(z)
        theta = z[0] / self.radius
        c, s = F.cos(theta), F.sin(theta)
        rx = self._pcx * c - self._pcy * s + (z[1] - self._qcx)
        ry = self._pcx * s + self._pcy * c + (z[2] - self._qcy)
        return F.dot(rx, rx) + F.dot(ry, ry)

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """Settings for :func:`geograd.minimize` on :meth:`solver_loss` from
        ``to_solver(x0)``; see the module docstring for the reasons."""
        from geograd.optim.lbfgs import LBFGS
        from geograd.optim.schedules import Exponential

        name = (optimizer or DEFAULT_OPTIMIZER).strip().lower()
        gtol = GTOL * self.n * self.radius
        steps = max_steps or (1000 if name in ("gd", "sgd", "momentum", "nag") else 3000)
        if name == "gd":
            return {"optimizer": "gd", "lr": 1.0 / (2.0 * self.n), "c1": 0.5, "gtol": gtol,
                    "max_steps": steps}  # fmt: skip
        if name == "lbfgs":
            # No step size to tune (its first step is scaled by the gradient, the later
            # ones by the curvature pairs); its minimize settings: strong Wolfe, one
            # iteration a step, so that minimize(solver_loss, z0, **these) is the solve.
            return {"optimizer": "lbfgs", **LBFGS.minimize_defaults, "gtol": gtol,
                    "max_steps": max_steps or 1000}  # fmt: skip
        # The way to go: the data's radius (θ's scale in the solver frame) or the start's
        # centroid misfit |R(θ0) p̄ + t0 - q̄|, whichever is longer.
        z0 = self.to_solver(self.x0)
        way = max(self.radius, math.hypot(z0[1], z0[2]))
        if name == "trust-ncg":
            # lr is the first trust radius, a length in the solver frame.
            return {"optimizer": name, "lr": TRUST_RADIUS * way,
                    "gtol": TRUST_GTOL * self.n * self.radius,
                    "max_steps": max_steps or 1000}  # fmt: skip
        scale = LR_SCALED.get(name, 0.01)
        out: dict[str, Any] = {"optimizer": name, "gtol": gtol, "max_steps": steps}
        if name in ("sgd", "momentum", "nag"):
            # the curvature is about 2n in every direction: a fixed step converges
            # linearly (L is a sinusoid in θ, quadratic in t), no schedule needed
            out["lr"] = scale / (2.0 * self.n)
        else:
            # steps of fixed length: in units of the way to go
            out["lr"] = scale * way
            out["schedule"] = Exponential(1e-6 ** (1.0 / steps))
        if name == "adamw":
            out["weight_decay"] = 0.0  # decay towards z = 0 would bias the answer
        return out

    def canonical_map(
        self, x: Sequence[float], *, compute: bool = True
    ) -> Callable[[Any], Any] | None:
        """θ moved by whole turns into (-π, π], as the reference's is (the same motion)."""
        return _wrapped_angle

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Random rigid motions: θ uniform in (-π, π], t within the data's reach."""
        r = random.Random(seed)
        reach = 1.0 + self.size
        return [
            [r.uniform(-math.pi, math.pi), r.uniform(-reach, reach), r.uniform(-reach, reach)]
            for _ in range(count)
        ]

    # ------------------------------------------------------------- describing

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["data"] = {"source": self.origin, "n": self.n}
        return out

    # ------------------------------------------------------------------ drawing

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        """None: an estimate is a motion, drawn as the moved source (:meth:`draw_estimate`)."""
        return None

    def plot_bounds(
        self, extra: Sequence[Sequence[float]] = (), margin: float = 0.05
    ) -> tuple[float, float, float, float]:
        """Source and target points, and the source moved by motions between x0 and the
        reference (the way a solver goes)."""
        pts: list[Sequence[float]] = [*self.source, *self.target]
        start = self.x0
        try:
            goal = self.reference().x
        except Exception:  # no numpy, interrupted: the data alone
            goal = start
        for k in range(1, 9):
            w = k / 8.0
            theta = (1 - w) * start[0] + w * goal[0]
            shift = [(1 - w) * start[1] + w * goal[1], (1 - w) * start[2] + w * goal[2]]
            pts += self.transform(self.source, theta, shift)
        return bounding_box([p[0] for p in pts], [p[1] for p in pts], margin)

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """Source points (hollow grey circles, their convex hull dashed) and target points
        (black crosses); with ``x``, the moved source as :meth:`draw_estimate` draws it."""
        ms = max(2.5, min(6.0, 300.0 / self.n))
        artists: list[Any] = ax.plot(
            [p[0] for p in self.source], [p[1] for p in self.source], ls="none", marker="o",
            ms=ms, mfc="none", mec="0.5", mew=0.9, label=f"source p (n={self.n})", zorder=2,
        )  # fmt: skip
        artists += ax.plot(
            [q[0] for q in self.target], [q[1] for q in self.target], ls="none", marker="x",
            ms=ms, color="black", mew=1.0, label="target q", zorder=3,
        )  # fmt: skip
        hull = [self.source[k] for k in self._hull()]
        artists += ax.plot(
            [p[0] for p in hull + hull[:1]], [p[1] for p in hull + hull[:1]], color="0.6",
            ls="--", lw=0.8, zorder=1,
        )  # fmt: skip
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        if x is not None:
            artists += self.draw_estimate(ax, x, color="#d62728", label=label)
        return artists

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
        """The source moved by ``x`` (R(θ) p + t) as markers, each joined to its target by
        its residual segment, and the source's outline (its convex hull) moved likewise."""
        from matplotlib.collections import LineCollection

        theta, tx, ty = (float(v) for v in x)
        moved = self.transform(self.source, theta, (tx, ty))
        ms = max(2.5, min(6.0, 300.0 / self.n))
        segments = [[tuple(m), q] for m, q in zip(moved, self.target)]
        links = LineCollection(
            segments, colors=[color], linestyles=linestyle, linewidths=0.6,
            alpha=alpha * 0.6, zorder=3,
        )  # fmt: skip
        ax.add_collection(links)
        outline = [moved[k] for k in self._hull()]
        artists: list[Any] = [links]
        artists += ax.plot(
            [p[0] for p in outline + outline[:1]], [p[1] for p in outline + outline[:1]],
            color=color, ls=linestyle, lw=0.9, alpha=alpha * 0.7, zorder=3,
        )  # fmt: skip
        artists += ax.plot(
            [m[0] for m in moved], [m[1] for m in moved], ls="none", marker=marker, ms=ms,
            color=color, mec="none", alpha=alpha * 0.85, label=label, zorder=4,
        )  # fmt: skip
        return artists

    def _hull(self) -> list[int]:
        """Indices of the source's convex hull, counter-clockwise (monotone chain)."""
        order = sorted(range(self.n), key=lambda k: self.source[k])
        pts = self.source

        def cross(o: int, a: int, b: int) -> float:
            ax, ay = pts[a][0] - pts[o][0], pts[a][1] - pts[o][1]
            bx, by = pts[b][0] - pts[o][0], pts[b][1] - pts[o][1]
            return ax * by - ay * bx

        lower: list[int] = []
        upper: list[int] = []
        for k in order:
            while len(lower) >= 2 and cross(lower[-2], lower[-1], k) <= 0:
                lower.pop()
            lower.append(k)
        for k in reversed(order):
            while len(upper) >= 2 and cross(upper[-2], upper[-1], k) <= 0:
                upper.pop()
            upper.append(k)
        return lower[:-1] + upper[:-1]


def certificate_summary(gap: float) -> str:
    """The certificate's line."""
    return f"objective {gap:.2g} above the exact minimum (closed form)"


class Registration(Normalised, RegistrationCore):
    """Rigid 2-D registration of corresponding points (see the module docstring).

    The point pairs stay as given; the mathematics run on ``unit``, a
    :class:`RegistrationCore` over the points divided by s, the power of two nearest
    their largest |coordinate| (not centred: θ rotates about the origin, and a shift of
    the origin would mix θ into t; see :mod:`geograd.problems.scaling`). θ is the same
    in both, t and every length scale by s, the loss (a sum of squared lengths) by s².
    Data whose least loss exceeds the largest float in user units (noisy point pairs
    beyond about 1e154) are refused.
    """

    loss_power = 2
    objective_words = "sum of squared residuals"

    def set_data(
        self, source: Sequence[Sequence[float]], target: Sequence[Sequence[float]]
    ) -> None:
        """Install corresponding point lists (rows (x, y)) and build the unit copy."""
        self._install_pairs(source, target)
        if not all(math.isfinite(v) for p in self.source + self.target for v in p):
            raise InputError("registration: the points must be finite numbers")
        self._check_distinct_sources()
        self._reference = None
        pts = [*self.source, *self.target]
        self.frame = Frame.fit([[p[0] for p in pts], [p[1] for p in pts]], centred=False)
        unit_source = [self.frame.point_to_unit(p) for p in self.source]
        unit_target = [self.frame.point_to_unit(q) for q in self.target]
        self.unit = self.make_unit(RegistrationCore, (unit_source, unit_target))
        self.source_centroid = tuple(self.frame.point_from_unit(self.unit.source_centroid))
        self.target_centroid = tuple(self.frame.point_from_unit(self.unit.target_centroid))
        self.radius = self.length_to_user(self.unit.radius)
        self.refuse_unrepresentable()

    def parameter_frame(self) -> list[tuple[float, int]]:
        """θ is an angle (the same in both frames); t a length."""
        k = self.frame.exponent
        return [(0.0, 0), (0.0, k), (0.0, k)]

    @property
    def size(self) -> float:
        """The largest |coordinate| of the source points (the lever arm of the rotation)."""
        return self.length_to_user(self.unit.size)

    def residuals(self, x: Sequence[float]) -> list[tuple[float, float]]:
        """r_i = R(θ) p_i + t - q_i."""
        return [
            (self.length_to_user(a), self.length_to_user(b))
            for a, b in self.unit.residuals(self.to_unit(x))
        ]

    def closed_form(self) -> dict[str, Any]:
        """The exact solution (see the core class), in user units."""
        cf = dict(self.unit.closed_form())
        k = self.frame.exponent
        cf["shift"] = [self.length_to_user(v) for v in cf["shift"]]
        cf["loss"] = self.loss_to_user(cf["loss"])
        cf["rho"] = times_pow2(cf["rho"], 2 * k)
        cf["source_centroid"] = self.frame.point_from_unit(cf["source_centroid"])
        cf["target_centroid"] = self.frame.point_from_unit(cf["target_centroid"])
        return cf

    def gap(self, x: Sequence[float]) -> float:
        """L(x) - L* (see the core class), in user units."""
        return self.loss_to_user(self.unit.gap(self.to_unit(x)))

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """The exact objective gap L(x) - L* and the gradient norm, in user units."""
        cert = dict(self.unit.certificate(self.to_unit(x)))
        cert["value"] = cert["gap_bound"] = self.loss_to_user(cert["value"])
        cert["gradient_norm"] = math.hypot(*self.gradient(x))
        cert["summary"] = certificate_summary(cert["value"])
        return cert

    def distance(self, x: Sequence[float], y: Sequence[float]) -> float:
        """How far apart two motions are, as a length (see the core class)."""
        return self.length_to_user(self.unit.distance(self.to_unit(x), self.to_unit(y)))

    def reference_details(self, details: dict[str, Any], x: list[float]) -> dict[str, Any]:
        k = self.frame.exponent
        details["singular_values"] = [times_pow2(v, 2 * k) for v in details["singular_values"]]
        if "kabsch" in details:
            details["kabsch"] = self.from_unit(details["kabsch"])
        return super().reference_details(details, x)

    def to_solver(self, x: Sequence[float]) -> list[float]:
        """x = (θ, t) in the solver's frame z = (r θ, R(θ) p̄ + t - q̄), lengths in user
        units."""
        return [self.length_to_user(v) for v in self.unit.to_solver(self.to_unit(x))]

    def from_solver(self, z: Sequence[float]) -> list[float]:
        """The inverse of :meth:`to_solver`."""
        return self.from_unit(self.unit.from_solver([self.frame.length_to_unit(v) for v in z]))

    def solver_loss(self, z: Tensor) -> Tensor:
        """L in the solver's frame (see the core class), in user units."""
        if not isinstance(z, Tensor):
            z = Tensor(z)
        s = self.frame.scale
        out: Tensor = self.unit.solver_loss(z / s) * s * s
        return out


def kabsch(
    source: Sequence[Sequence[float]], target: Sequence[Sequence[float]]
) -> tuple[float, list[float], dict[str, Any]]:
    """The rotation angle (in (-π, π]) and translation minimising Σ||R p_i + t - q_i||², by
    the SVD of the centred cross-covariance with the reflection fix (det R = +1). numpy.
    Returns (θ, t, details)."""
    import numpy as np

    p = np.asarray(source, dtype=float)
    q = np.asarray(target, dtype=float)
    pbar, qbar = p.mean(axis=0), q.mean(axis=0)
    h = (p - pbar).T @ (q - qbar)  # Σ p'_i q'_iᵀ
    u, svals, vt = np.linalg.svd(h)
    d = 1.0 if np.linalg.det(vt.T @ u.T) >= 0.0 else -1.0
    rot = vt.T @ np.diag([1.0, d]) @ u.T
    t = qbar - rot @ pbar
    theta = wrap_angle(math.atan2(float(rot[1, 0]), float(rot[0, 0])))
    details = {
        "singular_values": [float(v) for v in svals],
        "reflection_fixed": bool(d < 0.0),
        "rotation_matrix": rot.tolist(),
    }
    return theta, [float(t[0]), float(t[1])], details


def _wrapped_angle(x: Any) -> list[float]:
    """A motion (θ, t_x, t_y) with θ moved by whole turns into (-π, π]."""
    out = [float(v) for v in x]
    out[0] = wrap_angle(out[0])
    return out
