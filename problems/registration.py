"""Rigid registration: the rotation and translation that best map one point set onto another,
in 2-D (below) or in 3-D (``--dim 3``; the last section).

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
    them is another problem). Or given in code, ``Registration.from_points(source,
    target)`` (2-D or 3-D as the rows are). The data's lifecycle is
    :mod:`geograd.problems.lifecycle`'s, the target the source's pair; ``source`` is the
    source point set, so where the pairs came from is ``origin``.

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

Three dimensions (``--dim 3``: ``Registration(dim=3)`` is a :class:`Registration3D`)
    The parameter is x = (w_1, w_2, w_3, t_1, t_2, t_3): the rotation vector w (unit
    axis times angle, radians; R(w) = exp([w]×) by Rodrigues' formula) and the
    translation t. ``solve`` returns it, ``--x0`` takes it, ``components`` reports w in
    degrees ("rotation x/y/z": |w| in degrees is the rotation angle) and t as "shift
    x/y/z". The rotation vector rather than a unit quaternion with the template's
    ``projection`` hook: three unconstrained numbers for three degrees of freedom, so
    the loss is a plain smooth function on R^6 and every optimizer (L-BFGS's curvature
    pairs and trust-ncg's Hessian-vector products included, which a projection after
    each step would spoil), the gradient checks and scipy's baselines work unchanged;
    the exponential map has no singularity for |w| < 2π, beyond every rotation (|w| <=
    π) seen from w = 0; its one symmetry (a whole turn about the axis) is the canonical
    map's, which puts the angle |w| in [0, π] (see :class:`Registration3DCore`, with the
    gradient). Data: n source points uniform in the unit cube (all x, then all y, then
    all z), the target rotated by ``angle`` degrees about ``axis`` (AX,AY,AZ,
    normalised; without it an axis uniform on the sphere, three Gaussian draws from the
    seed after the source points, drawn either way), shifted by ``shift`` = TX,TY,TZ
    (default 0.5,-0.25,0.125) and Gaussian noise (all x, then y, then z); or files of
    three columns. Reference: Kabsch with the reflection fix d = sign det(V Uᵀ) (numpy,
    :func:`kabsch_rotation`; the test data mirrored in a plane, which a reflection fits
    exactly, still get det R = +1), w by the log map (:func:`rotation_vector`). The
    solver frame, the unit copy and ``distance`` (the largest displacement difference
    over the source points) are the 2-D ones; the drawing is the 2-D one on the points
    projected on the x-y plane.

    Default solver: ``trust-ncg``, with the 2-D settings. Measured on the default data
    (n = 50, 30° about the seed's axis, noise 0.01), this machine while others ran,
    median of 3 rounds:

    ==========  =====  =====  ========  ==========  ===========================
    method      steps  evals  time      distance    objective within 1e-9 at
    ==========  =====  =====  ========  ==========  ===========================
    lbfgs       9      13     19 ms     6.9e-11     step 7 (stops on xtol)
    trust-ncg   6      8      38 ms     2.5e-16     step 5
    newton      14     16     79 ms     1.8e-16     step 13
    gd          25     41     53 ms     3.2e-13     step 13
    momentum    515    516    610 ms    4.9e-13     step 239
    adam        493    494    580 ms    5.1e-13     step 208
    ==========  =====  =====  ========  ==========  ===========================

    trust-ncg takes 10 to 12 steps at 179°, 180° and -179.5° (noise 0.05, seeds 1-3) and
    5 or 6 on data 10, 1000 and 1e5 units from the origin (2.7e-11 from Kabsch at 1e5,
    where lbfgs stops on xtol after 22 steps 2e-10 away); every optimizer of the
    registry reaches Kabsch within 1e-12 on the default data.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import geograd.functional as F
from geograd import Tensor
from geograd.errors import InputError

from .base import Component, Option, Problem, Reference, bounding_box
from .data import as_columns
from .data import extent as data_extent
from .lifecycle import Data, DataShape, PointProblem
from .scaling import Frame, Normalised, Quantities, Quantity

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


#: Beyond this |θ| (four turns), :func:`wrap_angle` reduces θ by its sine and cosine, whose
#: argument reduction is exact, rather than by whole turns of the float 2π: that is 2.4e-16
#: short of 2π, so the remainder drifts from the true angle by as much per turn (at θ =
#: 1e308 it is any angle at all, not the same rotation).
TURNS_BY_REMAINDER = 8.0 * math.pi


def wrap_angle(theta: float) -> float:
    """θ moved by whole turns into (-π, π]: the same rotation (to rounding, however large
    θ is; a non-finite θ is returned as it is)."""
    if not math.isfinite(theta):
        return theta
    if abs(theta) > TURNS_BY_REMAINDER:
        w = math.atan2(math.sin(theta), math.cos(theta))
    else:
        w = math.remainder(theta, 2.0 * math.pi)
    return math.pi if w == -math.pi else w


def shown_number(v: Any) -> str:
    """A setting's number as :meth:`RegistrationCore.data_summary` shows it: a whole number
    as an integer (30.0 as 30) while it has at most 16 digits, else the shortest form that
    reads back as the same float (0.125, 1e+308; never 309 digits)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    v = float(v)
    if math.isfinite(v) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


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


class RegistrationCore(PointProblem):
    """Registration's mathematics over the point pairs as they are given (see the module
    docstring); :class:`Registration`, the public class, runs it on a copy scaled to unit
    size (see :mod:`geograd.problems.scaling`)."""

    name = "registration"
    description = (
        "rigid registration (2-D, or 3-D with --dim 3): the rotation and shift that map "
        "points onto a copy"
    )
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
        Option("dim", int, 2, "dimension of the points: 2 or 3", min=2, max=3, metavar="D"),
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
            "axis",
            str,
            None,
            "rotation axis of the generated target with --dim 3 (default: random, from --seed)",
            metavar="AX,AY,AZ",
            generator=("target",),
        ),
        Option(
            "shift",
            str,
            "0.5,-0.25",
            "translation of the generated target (TX,TY,TZ with --dim 3, default 0.5,-0.25,0.125)",
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

    # The source points, with the target as their pair (row i matches row i).
    data_shape = DataShape(
        file="source", what="source file", dim="dim", min_points=2, pair="target",
        pair_file="target", pair_what="target file", rows_key="source_points", arg="source",
        source_attr="origin",
    )  # fmt: skip
    #: The source points and their targets, as tuples of floats. ``source`` is not the
    #: lifecycle's str: where the point pairs came from ("generated", the source file,
    #: ``S -> T`` with a target file, or "given") is ``origin`` (``source`` in to_dict).
    source: list[tuple[float, ...]]  # type: ignore[assignment]
    target: list[tuple[float, ...]]
    origin: str = ""
    data_items = "point pairs"
    #: Where the certificate's exact minimum comes from.
    exact_name = "closed form"
    # θ is reported in degrees, the unit --angle is given in; the shift in the data's units.
    component_names: ClassVar[tuple[str | Component, ...]] = (
        Component("angle", "deg", 180.0 / math.pi),
        "shift x",
        "shift y",
    )
    reference_modules = ("numpy",)

    # ------------------------------------------------------------------ data

    def setup(self) -> None:
        s = self.settings
        d = self.data_dim
        if s["dim"] != d:
            if "dim" in self.given_options:
                raise InputError(f"registration: this class solves --dim {d}, not {s['dim']}")
            s["dim"] = d
        if s["axis"] is not None and d != 3:
            raise InputError("registration: --axis needs --dim 3 (a 2-D rotation has no axis)")
        self.true_shift = self.parse_shift(s["shift"])
        self.true_angle = math.radians(s["angle"])
        super().setup()

    def generate(self, rng: random.Random) -> Data:
        """n source points uniform in the unit square (cube): all x first, then all y (z)."""
        n = self.settings["n"]
        return Data([[rng.uniform(0.0, 1.0) for _ in range(n)] for _ in range(self.data_dim)])

    def generate_pair(self, data: Data, rng: random.Random) -> list[list[float]]:
        """The target: the source moved by the generator's motion, plus noise (all x, then
        all y (then z))."""
        source = [list(p) for p in zip(*data.columns)]
        target = self.moved(source, self.true_motion(rng))
        noise = self.settings["noise"]
        if noise > 0.0:
            e = [[rng.gauss(0.0, noise) for _ in source] for _ in range(self.data_dim)]
            target = [[a + b for a, b in zip(q, err)] for q, err in zip(target, zip(*e))]
        return target

    @classmethod
    def from_points(
        cls, source: Sequence[Sequence[float]], target: Sequence[Sequence[float]],
        x0: Sequence[float] | None = None, **options: Any,
    ) -> RegistrationCore:  # fmt: skip
        """The problem over point pairs given in code: rows of ``source`` and ``target``,
        row i of one matching row i of the other; 2-D or 3-D as the rows are (``dim``)."""
        rows = cls.checked_rows(source)  # each row a point of numbers, or one clear error
        if rows and "dim" not in options:
            options["dim"] = len(rows[0]) if len(rows[0]) in (2, 3) else None
        return cls.given(rows, x0=x0, extra={"target": target}, **options)

    @staticmethod
    def parse_shift(text: str) -> list[float]:
        """``--shift`` as the translation (TX,TY)."""
        return list(parse_shift(text))

    def true_motion(self, r: random.Random) -> list[float]:
        """The generator's motion x = (θ, t) (``r``: the generator, for a random axis in 3-D)."""
        return [self.true_angle, *self.true_shift]

    def moved(self, points: Sequence[Sequence[float]], x: Sequence[float]) -> list[list[float]]:
        """The points moved by the motion x = (θ, t_x, t_y): R(θ) p + t."""
        return self.transform(points, float(x[0]), (float(x[1]), float(x[2])))

    def set_data(self, data: Data | Sequence[Sequence[float]], target: Any = None) -> None:
        """Install the point pairs (:class:`Data`, or the source and target rows: (x, y), or
        (x, y, z) in 3-D) and what the loss and the solver's frame (:meth:`solver_loss`)
        compute with: the engine's columns, the centroids, the centred rows and columns,
        the sums of squares of the centred points and the source's RMS radius."""
        self.install(self.pairs(data, target))
        n, dims = self.n, range(self.data_dim)

        def columns(rows: Sequence[Sequence[float]]) -> tuple[Any, ...]:
            return tuple(self.as_data([r[k] for r in rows]) for k in dims)

        self._p, self._q = columns(self.source), columns(self.target)
        self._size = max(abs(v) for p in self.source for v in p)
        self.source_centroid = tuple(math.fsum(p[k] for p in self.source) / n for k in dims)
        self.target_centroid = tuple(math.fsum(q[k] for q in self.target) / n for k in dims)
        pbar, qbar = self.source_centroid, self.target_centroid
        self._pc_rows = [[p[k] - pbar[k] for k in dims] for p in self.source]
        self._qc_rows = [[q[k] - qbar[k] for k in dims] for q in self.target]
        # Σ|p'_i|² and Σ|q'_i|² (each |p'_i|² rounded, then the sum), whose geometric mean
        # bounds the cross-covariance (uniqueness), the first giving the radius.
        self._spreads = tuple(
            math.fsum(math.fsum(v * v for v in r) for r in rows)
            for rows in (self._pc_rows, self._qc_rows)
        )
        self.radius = math.sqrt(self._spreads[0] / n)
        if self.radius < 1e-150:  # the squares may have underflowed: scaled by the largest
            top = max((abs(v) for r in self._pc_rows for v in r), default=0.0)
            if top > 0.0:
                k = -math.frexp(top)[1]
                scaled = math.fsum(math.ldexp(v, k) ** 2 for r in self._pc_rows for v in r)
                self.radius = math.ldexp(math.sqrt(scaled / n), -k)
        self._pc, self._qc = columns(self._pc_rows), columns(self._qc_rows)

    @staticmethod
    def pairs(data: Data | Sequence[Sequence[float]], target: Any = None) -> Data:
        """``set_data``'s argument as :class:`Data`: as it is, or from the source and
        target rows (the form ``set_data(source, target)`` takes)."""
        if isinstance(data, Data):
            return data
        pairs = None if target is None else [list(q) for q in target]
        return Data(as_columns([list(p) for p in data]), extra={"target": pairs})

    def install(self, data: Data) -> None:
        """Install the point pairs (checked: as many targets as sources, of the same
        dimension, finite, the sources not all one point): the source as ``columns`` and
        as rows (``source``), the target as rows (``target``); ``settings["n"]`` their
        number."""
        super().install(data)
        self.source = list(zip(*self.columns))
        self.target = [tuple(float(v) for v in q) for q in data.extra[self.data_shape.pair]]
        self.settings["n"] = self.n
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
        """No rotation, and the shift that matches the centroids: θ = 0 (in 3-D w = 0),
        t = q̄ - p̄."""
        shift = [q - p for p, q in zip(self.source_centroid, self.target_centroid)]
        return [0.0] * (self.dim - self.data_dim) + shift

    # ------------------------------------------------------------------ maths

    def loss(self, x: Tensor) -> Tensor:
        """Σ ||R(θ) p_i + t - q_i||² through the engine, vectorised over the points."""
        if not isinstance(x, Tensor):
            x = Tensor(x)
        theta = x[0]
        c, s = F.cos(theta), F.sin(theta)
        (px, py), (qx, qy) = self._p, self._q
        rx = px * c - py * s + (x[1] - qx)
        ry = px * s + py * c + (x[2] - qy)
        return F.dot(rx, rx) + F.dot(ry, ry)

    def residuals(self, x: Sequence[float]) -> list[tuple[float, ...]]:
        """r_i = R(θ) p_i + t - q_i, in plain floats."""
        c, ms, s, _ = rotation(float(x[0]))
        tx, ty = float(x[1]), float(x[2])
        return [
            (c * p[0] + ms * p[1] + tx - q[0], s * p[0] + c * p[1] + ty - q[1])
            for p, q in zip(self.source, self.target)
        ]

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
        pbar, qbar = list(self.source_centroid), list(self.target_centroid)
        pc, qc = self._pc_rows, self._qc_rows
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
        if cf["rho"] > 1e-12 * math.sqrt(self._spreads[0] * self._spreads[1]):
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
        return data_extent([[p[k] for p in pts] for k in range(self.data_dim)])

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
        """Where the source and target came from (given in code, generated, from a file, or
        the source moved by the generator's angle (axis), shift and noise)."""
        s = self.settings
        head = f"{self.n} point pairs in R^{self.data_dim}"
        if self._given is not None:
            return f"{head}, given in code (row i of the source matches row i of the target)"
        if s["source"] is None:
            source = f"source generated with n={self.n}, seed={s['seed']}"
        else:
            source = f"source from {s['source']}"
        if s["target"] is not None:
            return f"{head}: {source}, target from {s['target']} (row i matches row i)"
        shift = ", ".join(shown_number(v) for v in self.true_shift)
        moved = (
            f"target = source rotated by {shown_number(s['angle'])}°{self.axis_words()} "
            f"and shifted by ({shift})"
        )
        if s["noise"] > 0:
            moved += f", plus noise {shown_number(s['noise'])} (seed={s['seed']})"
        return f"{head}: {source}; {moved}"

    def axis_words(self) -> str:
        """The generated rotation's axis in :meth:`data_summary` (none in 2-D)."""
        return ""

    def compute_reference(self) -> Reference:
        """Kabsch: the SVD of the centred cross-covariance, with the reflection fix; or the
        closed form (:meth:`closed_form`) where its objective is lower. The two agree to
        rounding, but the SVD can leave a rounding-level rotation where the data have
        none (θ = 1e-17 for a pure shift, where atan2(0, A) gives 0), and at scales
        beyond 1e154 that rounding is what decides whether the objective, a sum of
        squares, is 0 or beyond the largest float. The two are weighed by the plain sum
        of squared residuals, not by :meth:`objective` (the engine's loss without a
        graph): the reference stays independent of the engine, and a choice made at the
        rounding level does not follow the engine's rounding."""
        theta, shift, details = kabsch(self.source, self.target)
        x = [theta, shift[0], shift[1]]
        cf = self.closed_form()
        details["closed_form_theta"] = cf["theta"]
        method = "kabsch-svd"
        exact = [cf["theta"], cf["shift"][0], cf["shift"][1]]

        def plain(z: Sequence[float]) -> float:
            return math.fsum(v * v for r in self.residuals(z) for v in r)

        if plain(exact) < plain(x):
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
        (px, py), (qx, qy) = self._pc, self._qc
        rx = px * c - py * s + (z[1] - qx)
        ry = px * s + py * c + (z[2] - qy)
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
        way = max(self.radius, math.hypot(*z0[self.dim - self.data_dim :]))
        if not way > 0.0:  # points all one float (a shift of 1e200 leaves no digits for
            way = self.extent  # their spread) and a start that fits: the data's extent
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

    def start_points(self, count: int, first: Sequence[float]) -> Iterator[list[float]]:
        """The solve's start in the canonical form of its motion (:meth:`canonical_map`):
        the same motion, its angle near 0. An angle counts only modulo 2π, and one of
        1e308 has an ulp of 1e292, so that from there no step could move it (the solve
        stopped where it began, "converged" 84 above the minimum). The result still
        names the start as given; a parameter of the caller's own starts as it is."""
        for start in super().start_points(count, first):
            move = self.canonical_map(start)
            yield start if move is None else list(move(start))

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Random rigid motions: θ uniform in (-π, π], t within the data's reach."""
        r = random.Random(seed)
        reach = 1.0 + self.size
        return [
            [r.uniform(-math.pi, math.pi), r.uniform(-reach, reach), r.uniform(-reach, reach)]
            for _ in range(count)
        ]

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
            pts += self.moved(self.source, [(1 - w) * a + w * b for a, b in zip(start, goal)])
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

        moved = self.moved(self.source, [float(v) for v in x])
        ms = max(2.5, min(6.0, 300.0 / self.n))
        segments = [[(m[0], m[1]), (q[0], q[1])] for m, q in zip(moved, self.target)]
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


def certificate_summary(gap: float, exact: str = "closed form") -> str:
    """The certificate's line (``exact``: where the exact minimum comes from)."""
    return f"objective {gap:.2g} above the exact minimum ({exact})"


class Registration(Normalised, RegistrationCore):
    """Rigid 2-D registration of corresponding points (see the module docstring).

    The point pairs stay as given; the mathematics run on ``unit``, a
    :class:`RegistrationCore` over the points divided by s, the power of two nearest
    their largest |coordinate| (not centred: θ rotates about the origin, and a shift of
    the origin would mix θ into t; see :mod:`geograd.problems.scaling`). θ is the same
    in both, t and every length scale by s, the loss (a sum of squared lengths) by s².
    Data whose least loss exceeds the largest float in user units (noisy point pairs
    beyond about 1e154) are refused. The certificate's and the reference's entries that
    carry units are declared (:attr:`quantities`); ``set_data`` is its own, as the frame
    is fitted to the source and target together, uncentred.
    """

    loss_power = 2
    objective_words = "sum of squared residuals"
    # The cross-covariance's singular values, like the closed form's ρ, are sums of
    # products of lengths: they scale by s², as the loss does.
    quantities = Quantities(
        certificate={"value": "loss", "gap_bound": "loss"},
        reference={"singular_values": "loss", "kabsch": "x"},
    )
    #: The closed form's entries that carry units (:meth:`closed_form`).
    closed_form_quantities: ClassVar[dict[str, Quantity]] = {
        "shift": "length", "loss": "loss", "rho": "loss",
        "source_centroid": "point", "target_centroid": "point",
    }  # fmt: skip
    #: The core class the unit copy is an instance of (the mathematics of this dimension).
    _core: type[RegistrationCore] = RegistrationCore

    def __new__(cls, *args: Any, **options: Any) -> Registration:
        """``Registration(dim=3)`` (and ``get_problem("registration", dim=3)``) is the 3-D
        problem, an instance of :class:`Registration3D`; everything else is this class."""
        dim = options.get("dim")
        if cls is Registration and dim is not None and cls.option("dim").parse(dim, cls.name) == 3:
            return object.__new__(Registration3D)
        return object.__new__(cls)

    @classmethod
    def _from_given(cls, given: Any, x0: Sequence[float] | None = None, **options: Any) -> Any:
        """An instance over point pairs given in code: with ``dim=3`` the 3-D problem, as
        the constructor makes it."""
        self = cls.__new__(cls, **options)
        self._given = given
        Problem.__init__(self, x0=x0, **options)
        return self

    def set_data(self, data: Data | Sequence[Sequence[float]], target: Any = None) -> None:
        """Install the point pairs (:class:`Data`, or the source and target rows: (x, y),
        or (x, y, z) in 3-D) and build the unit copy."""
        self.install(self.pairs(data, target))
        self.frame = Frame.fit(as_columns([*self.source, *self.target]), centred=False)
        unit_target = [self.frame.point_to_unit(q) for q in self.target]
        unit = Data(self.frame.columns_to_unit(self.columns), extra={"target": unit_target})
        self.unit = self.make_unit(self._core, unit)
        self.source_centroid = tuple(self.frame.point_from_unit(self.unit.source_centroid))
        self.target_centroid = tuple(self.frame.point_from_unit(self.unit.target_centroid))
        self.radius = self.length_to_user(self.unit.radius)
        self.refuse_unrepresentable()

    def parameter_frame(self) -> list[tuple[float, int]]:
        """θ (in 3-D the rotation vector) is an angle, the same in both frames; t a length."""
        k, d = self.frame.exponent, self.data_dim
        return [(0.0, 0)] * (self.dim - d) + [(0.0, k)] * d

    @property
    def size(self) -> float:
        """The largest |coordinate| of the source points (the lever arm of the rotation)."""
        return self.length_to_user(self.unit.size)

    def residuals(self, x: Sequence[float]) -> list[tuple[float, ...]]:
        """r_i = R(θ) p_i + t - q_i."""
        return [
            tuple(self.length_to_user(v) for v in r) for r in self.unit.residuals(self.to_unit(x))
        ]

    def closed_form(self) -> dict[str, Any]:
        """The exact solution (see the core class), in user units."""
        return self.entries_to_user(self.unit.closed_form(), self.closed_form_quantities)

    def gap(self, x: Sequence[float]) -> float:
        """L(x) - L* (see the core class), in user units."""
        return self.loss_to_user(self.unit.gap(self.to_unit(x)))

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """The exact objective gap L(x) - L* (the declared entries, in user units) and the
        norm of the gradient in user units: θ's component scales by s², t's by s, so no
        one factor maps the unit copy's norm."""
        cert = super().certificate(x)
        cert["gradient_norm"] = math.hypot(*self.gradient(x))
        return cert

    def summarise_certificate(self, cert: dict[str, Any]) -> str:
        """The gap in user units, and where the exact minimum comes from."""
        return certificate_summary(cert["value"], self.exact_name)

    def distance(self, x: Sequence[float], y: Sequence[float]) -> float:
        """How far apart two motions are, as a length (see the core class)."""
        return self.length_to_user(self.unit.distance(self.to_unit(x), self.to_unit(y)))

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
    rot, t, svals, d = kabsch_rotation(source, target)
    theta = wrap_angle(math.atan2(float(rot[1, 0]), float(rot[0, 0])))
    details = {
        "singular_values": [float(v) for v in svals],
        "reflection_fixed": bool(d < 0.0),
        "rotation_matrix": rot.tolist(),
    }
    return theta, [float(t[0]), float(t[1])], details


def kabsch_rotation(
    source: Sequence[Sequence[float]], target: Sequence[Sequence[float]]
) -> tuple[Any, Any, Any, float]:
    """Kabsch in any dimension (numpy): the rotation R (det +1) and translation t minimising
    Σ||R p_i + t - q_i||². The SVD H = Σ p'_i q'_iᵀ = U S Vᵀ of the centred
    cross-covariance gives R = V diag(1, ..., 1, d) Uᵀ with d = sign det(V Uᵀ): d = -1 is
    the reflection fix (V Uᵀ itself, a reflection, would fit better). Returns (R, t, the
    singular values, d)."""
    import numpy as np

    p = np.asarray(source, dtype=float)
    q = np.asarray(target, dtype=float)
    pbar, qbar = p.mean(axis=0), q.mean(axis=0)
    h = (p - pbar).T @ (q - qbar)  # Σ p'_i q'_iᵀ
    u, svals, vt = np.linalg.svd(h)
    d = 1.0 if np.linalg.det(vt.T @ u.T) >= 0.0 else -1.0
    rot = vt.T @ np.diag([1.0] * (p.shape[1] - 1) + [d]) @ u.T
    t = qbar - rot @ pbar
    return rot, t, svals, d


def _wrapped_angle(x: Any) -> list[float]:
    """A motion (θ, t_x, t_y) with θ moved by whole turns into (-π, π]."""
    out = [float(v) for v in x]
    out[0] = wrap_angle(out[0])
    return out


# --------------------------------------------------------------------------------- 3-D

#: θ² below which sin θ/θ, (1 - cos θ)/θ² and (θ - sin θ)/θ³ are summed as their series
#: (ten terms: the first left out is below 1/21! there), so that the loss is smooth, and
#: differentiable by the engine, at the rotation vector 0 (θ = |ω| is not).
SERIES_BELOW = 1.0
_SERIES = tuple(tuple((-1) ** k / math.factorial(2 * k + j) for k in range(10)) for j in (1, 2, 3))
#: |w| beyond which θ² = |w|² nears the largest float: :meth:`Registration3DCore.objective`
#: evaluates such a rotation vector at its canonical form (the same rotation).
LONG_ROTATION = 1e150
#: The generated target's shift in 3-D when --shift is not given.
DEFAULT_SHIFT_3D = "0.5,-0.25,0.125"


def _horner(coefs: Sequence[float], s: Any) -> Any:
    """Σ coefs[k] s^k, for a float or a 0-D Tensor ``s``."""
    out = s * coefs[-1] + coefs[-2]
    for c in reversed(coefs[:-2]):
        out = out * s + c
    return out


def rodrigues(w: Sequence[float]) -> tuple[float, float, float, float]:
    """(cos θ, A, B, C) for the rotation vector w, θ = |w|: A = sin θ/θ, B = (1 - cos θ)/θ²,
    C = (θ - sin θ)/θ³, by their series below :data:`SERIES_BELOW`."""
    s = math.fsum(float(v) * float(v) for v in w)
    if s < SERIES_BELOW:
        a, b, c = (_horner(coefs, s) for coefs in _SERIES)
        return math.cos(math.sqrt(s)), a, b, c
    theta = math.sqrt(s)
    h = math.sin(theta / 2.0) / theta
    return (
        math.cos(theta),
        math.sin(theta) / theta,
        2.0 * h * h,
        (theta - math.sin(theta)) / (theta * s),
    )


def rotation_matrix(w: Sequence[float]) -> list[list[float]]:
    """R = exp([w]×) = cos θ I + A [w]× + B w wᵀ (Rodrigues), rows of plain floats."""
    c, a, b, _ = rodrigues(w)
    w0, w1, w2 = (float(v) for v in w)
    return [
        [c + b * w0 * w0, -a * w2 + b * w0 * w1, a * w1 + b * w0 * w2],
        [a * w2 + b * w1 * w0, c + b * w1 * w1, -a * w0 + b * w1 * w2],
        [-a * w1 + b * w2 * w0, a * w0 + b * w2 * w1, c + b * w2 * w2],
    ]


def _apply(m: Sequence[Sequence[float]], p: Sequence[float]) -> list[float]:
    return [m[j][0] * p[0] + m[j][1] * p[1] + m[j][2] * p[2] for j in range(3)]


def _cross(a: Sequence[float], b: Sequence[float]) -> list[float]:
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def rotation_vector(m: Sequence[Sequence[float]]) -> list[float]:
    """The rotation vector w (angle |w| in [0, π]) of a rotation matrix: the log map. The
    axis comes from the antisymmetric part (sin θ times it) below 90°, and from the
    symmetric part, (R + Rᵀ)/2 = cos θ I + (1 - cos θ) a aᵀ, beyond, where sin θ is small."""
    v = [(m[2][1] - m[1][2]) / 2.0, (m[0][2] - m[2][0]) / 2.0, (m[1][0] - m[0][1]) / 2.0]
    c = (m[0][0] + m[1][1] + m[2][2] - 1.0) / 2.0
    sn = math.hypot(*v)
    theta = math.atan2(sn, c)
    if c > 0.0:
        k = theta / sn if sn > 0.0 else 1.0
        return [k * x for x in v]
    i = max(range(3), key=lambda j: m[j][j])
    ai = math.sqrt(max((m[i][i] - c) / (1.0 - c), 0.0))
    axis = [(m[i][j] + m[j][i]) / (2.0 * (1.0 - c) * ai) if j != i else ai for j in range(3)]
    norm = math.hypot(*axis)
    sign = -1.0 if math.fsum(a * b for a, b in zip(axis, v)) < 0.0 else 1.0
    return [sign * theta * a / norm for a in axis]


def canonical_rotation_vector(w: Sequence[float]) -> list[float]:
    """The same rotation with its angle |w| moved by whole turns into [0, π] (the axis
    reversed where the angle was in (π, 2π) of a turn)."""
    w = [float(v) for v in w]
    theta = math.hypot(*w)
    if not theta > math.pi or not math.isfinite(theta):
        return w
    wrapped = wrap_angle(theta)  # in (-π, π], the same rotation however large θ is
    return [(v / theta) * wrapped for v in w]  # the unit axis first: no subnormal quotient


def _canonical_motion(x: Any) -> list[float]:
    """A 3-D motion (w, t) with its rotation vector's angle in [0, π]."""
    out = [float(v) for v in x]
    return [*canonical_rotation_vector(out[:3]), *out[3:]]


def parse_triple(text: str, flag: str, what: str) -> list[float]:
    """``A,B,C`` as three finite floats, else a one-line InputError."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise InputError(
            f"registration: with --dim 3, {flag} must be three comma-separated numbers "
            f"{what}, got {text!r}"
        )
    return values


def _rotate_tensors(w: Sequence[Tensor], p: Sequence[Tensor]) -> tuple[Tensor, Tensor, Tensor]:
    """R(w) p through the engine for the columns p = (p_x, p_y, p_z) (Rodrigues:
    cos θ p + A w × p + B (w·p) w, with :func:`rodrigues`'s series below
    :data:`SERIES_BELOW`, so that w = 0 is differentiable)."""
    w0, w1, w2 = w
    s = w0 * w0 + w1 * w1 + w2 * w2
    if float(s.item()) < SERIES_BELOW:
        a, b = _horner(_SERIES[0], s), _horner(_SERIES[1], s)
        c = 1.0 - b * s
    else:
        theta = F.sqrt(s)
        h = F.sin(theta * 0.5) / theta
        a, b, c = F.sin(theta) / theta, h * h * 2.0, F.cos(theta)
    px, py, pz = p
    bd = (w0 * px + w1 * py + w2 * pz) * b
    return (
        px * c + (w1 * pz - w2 * py) * a + bd * w0,
        py * c + (w2 * px - w0 * pz) * a + bd * w1,
        pz * c + (w0 * py - w1 * px) * a + bd * w2,
    )


class Registration3DCore(RegistrationCore):
    """Rigid 3-D registration's mathematics over the point pairs as they are given.

    x = (w_1, w_2, w_3, t_1, t_2, t_3): the rotation vector w (axis times angle, in
    radians; R(w) = exp([w]×) by Rodrigues' formula) and the translation t, and

        L(w, t) = Σ_i ||R(w) p_i + t - q_i||²

    Gradient, with the residuals r_i = R(w) p_i + t - q_i: ∂L/∂t = 2 Σ r_i and

        ∂L/∂w = 2 J(w)ᵀ Σ_i (R(w) p_i) × r_i,    J(w) = I + B [w]× + C [w]×²

    J the left Jacobian of the exponential map (exp(w + δ) ≈ exp([J(w) δ]×) exp(w)), with
    B = (1 - cos θ)/θ² and C = (θ - sin θ)/θ³, θ = |w|.

    Why a rotation vector. It is three numbers for three degrees of freedom, with no
    constraint: the loss stays a plain smooth function on R^6, so every optimizer of the
    registry (L-BFGS and trust-ncg included, whose curvature pairs and Hessian-vector
    products a projection after each step would spoil) and every check (finite
    differences, scipy's baselines) works on it unchanged. A unit quaternion needs a
    constraint (the template's ``projection``) and has a doubled cover (q and -q), the
    rotation matrix six constraints. The exponential map is a diffeomorphism for |w| < 2π,
    so from w = 0 the optimizer meets no singularity before any rotation (all have
    |w| <= π); the only symmetry, w and the same axis a whole turn on, is the canonical
    map's: the angle |w| is put in [0, π]. The loss is smooth at w = 0, where θ = |w| is
    not, because the coefficients are summed as series in θ² there.

    The solver's frame is the 2-D one: z = (r w, R(w) p̄ + t - q̄), in which
    L = Σ||R(w) p'_i - q'_i||² + n ||z_456||² separates the rotation from the translation.

    Reference: Kabsch's SVD with the reflection fix (:func:`kabsch_rotation`), its rotation
    vector by the log map (:func:`rotation_vector`) in [0, π], t = q̄ - R p̄. The gap
    L(x) - L* = 2 Σ_i q'_i·(R* - R(w)) p'_i + n (||R(w) p̄ + t - q̄||² - ||R* p̄ + t* - q̄||²)
    from the centred cross-covariance, with (R*, t*) the reference.
    """

    component_names: ClassVar[tuple[str | Component, ...]] = (
        Component("rotation x", "deg", 180.0 / math.pi),
        Component("rotation y", "deg", 180.0 / math.pi),
        Component("rotation z", "deg", 180.0 / math.pi),
        "shift x",
        "shift y",
        "shift z",
    )
    exact_name = "Kabsch's SVD"

    @property
    def dim(self) -> int:
        return 6

    @property
    def data_dim(self) -> int:
        return 3

    def parse_shift(self, text: str) -> list[float]:  # type: ignore[override]
        """``--shift`` as (TX,TY,TZ); left out, :data:`DEFAULT_SHIFT_3D`."""
        if "shift" not in self.given_options:
            self.settings["shift"] = text = DEFAULT_SHIFT_3D
        return parse_triple(text, "--shift", "TX,TY,TZ")

    def true_motion(self, r: random.Random) -> list[float]:
        """The generator's motion: ``angle`` about ``axis`` (or about an axis uniform on the
        sphere, drawn from the generator after the source points), then ``shift``."""
        drawn = [r.gauss(0.0, 1.0) for _ in range(3)]
        given = self.settings["axis"]
        axis = drawn if given is None else parse_triple(given, "--axis", "AX,AY,AZ")
        norm = math.hypot(*axis)
        if not norm > 0.0:
            raise InputError(f"registration: --axis must not be the zero vector, got {given!r}")
        self.true_axis = [v / norm for v in axis]
        return [self.true_angle * v for v in self.true_axis] + list(self.true_shift)

    def moved(self, points: Sequence[Sequence[float]], x: Sequence[float]) -> list[list[float]]:
        """The points moved by x = (w, t): R(w) p + t."""
        m = rotation_matrix(x[:3])
        t = [float(v) for v in x[3:6]]
        return [[a + b for a, b in zip(_apply(m, p), t)] for p in points]

    def set_data(self, data: Data | Sequence[Sequence[float]], target: Any = None) -> None:
        """Install the point pairs (see the 2-D class), and the centred cross-covariance."""
        super().set_data(data, target)
        # K_jk = Σ_i q'_ij p'_ik: Σ_i q'_i·M p'_i = Σ_jk M_jk K_jk for any matrix M
        self._cross_cov = [
            [math.fsum(q[j] * p[k] for p, q in zip(self._pc_rows, self._qc_rows)) for k in range(3)]
            for j in range(3)
        ]

    # ------------------------------------------------------------------ maths

    def loss(self, x: Tensor) -> Tensor:
        """Σ ||R(w) p_i + t - q_i||² through the engine, vectorised over the points."""
        if not isinstance(x, Tensor):
            x = Tensor(x)
        moved = _rotate_tensors((x[0], x[1], x[2]), self._p)
        out: Tensor | None = None
        for k in range(3):
            r = moved[k] + (x[3 + k] - self._q[k])
            out = F.dot(r, r) if out is None else out + F.dot(r, r)
        assert out is not None
        return out

    def objective(self, x: Sequence[float]) -> float:
        """L at ``x``; a rotation vector so long (|w| > :data:`LONG_ROTATION`) that Rodrigues'
        coefficients overflow (θ² beyond the floats) is evaluated at its canonical form,
        the same motion (:func:`canonical_rotation_vector`): L's value is the motion's."""
        point = [float(v) for v in x]
        if math.hypot(*point[:3]) > LONG_ROTATION:
            point = _canonical_motion(point)
        return super().objective(point)

    def residuals(self, x: Sequence[float]) -> list[tuple[float, ...]]:
        """r_i = R(w) p_i + t - q_i, in plain floats."""
        m = rotation_matrix(x[:3])
        t = [float(v) for v in x[3:6]]
        return [
            tuple(a + b - c for a, b, c in zip(_apply(m, p), t, q))
            for p, q in zip(self.source, self.target)
        ]

    def gradient(self, x: Sequence[float]) -> list[float]:
        """(2 J(w)ᵀ Σ (R p_i) × r_i, 2 Σ r_i), J the left Jacobian (see the class)."""
        w = [float(v) for v in x[:3]]
        m = rotation_matrix(w)
        _, _, b, c = rodrigues(w)
        res = self.residuals(x)
        moments = [_cross(_apply(m, p), r) for p, r in zip(self.source, res)]
        v = [math.fsum(mo[k] for mo in moments) for k in range(3)]
        wv = _cross(w, v)
        wwv = _cross(w, wv)
        jt = [v[k] - b * wv[k] + c * wwv[k] for k in range(3)]
        return [2.0 * g for g in jt] + [2.0 * math.fsum(r[k] for r in res) for k in range(3)]

    def closed_form(self) -> dict[str, Any]:
        raise NotImplementedError(
            "registration: the closed form is the 2-D one; in 3-D the exact solution is "
            "Kabsch's SVD (reference())"
        )

    def gap(self, x: Sequence[float]) -> float:
        """L(x) - L*, with L* the reference's (see the class): from the centred
        cross-covariance, without subtracting two sums of squares."""
        ref = self.reference().x
        best, here = rotation_matrix(ref[:3]), rotation_matrix(x[:3])
        rot = math.fsum(
            (best[j][k] - here[j][k]) * self._cross_cov[j][k] for j in range(3) for k in range(3)
        )
        pbar, qbar = self.source_centroid, self.target_centroid

        def misfit(m: list[list[float]], t: Sequence[float]) -> float:
            d = [a + float(b) - c for a, b, c in zip(_apply(m, pbar), t, qbar)]
            return math.fsum(v * v for v in d)

        return 2.0 * rot + self.n * (misfit(here, x[3:6]) - misfit(best, ref[3:6]))

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """The objective gap L(x) - L* to Kabsch's minimum (see :meth:`gap`), and the
        gradient norm."""
        p = self.check_point(x, "x")
        value = self.gap(p)
        return {
            "value": value,
            "kind": "objective_gap",
            "optimal": None,
            "summary": certificate_summary(value, self.exact_name),
            "gap_bound": value,
            "gradient_norm": math.hypot(*self.gradient(p)),
        }

    # ------------------------------------------------------------- reference

    def uniqueness(self) -> tuple[bool, str]:
        """Unique when the cross-covariance's singular values s1 >= s2 >= s3 have s2 > 0
        and, where the reflection fix applied, s2 > s3 (to 1e-12 of the bound
        √(Σ|p'|² Σ|q'|²)); else the rotations about an axis (rank <= 1), or in a plane,
        fit equally well."""
        details = self.reference().details
        _, s2, s3 = details["singular_values"]
        tol = 1e-12 * math.sqrt(self._spreads[0] * self._spreads[1])
        if s2 <= tol:
            return False, (
                "the centred cross-covariance has rank <= 1 (e.g. collinear points): every "
                "rotation about an axis, with its matching shift, fits equally well"
            )
        if details["reflection_fixed"] and s2 - s3 <= tol:
            return False, (
                "the reflection fix meets two equal singular values: a circle of rotations "
                "fits equally well"
            )
        return True, (
            "the centred cross-covariance has rank >= 2 and no tie the reflection fix meets: "
            "one rotation (angle in [0°, 180°]) and one shift"
        )

    def distance(self, x: Sequence[float], y: Sequence[float]) -> float:
        """How far apart two motions are, as a length: the largest distance between a source
        point moved by ``x`` and the same point moved by ``y``."""
        a, b = rotation_matrix(x[:3]), rotation_matrix(y[:3])
        diff = [[a[j][k] - b[j][k] for k in range(3)] for j in range(3)]
        dt = [float(u) - float(v) for u, v in zip(x[3:6], y[3:6])]
        return max(math.hypot(*(u + v for u, v in zip(_apply(diff, p), dt))) for p in self.source)

    def axis_words(self) -> str:
        axis = ", ".join(f"{v:.3g}" for v in getattr(self, "true_axis", [0.0, 0.0, 1.0]))
        return f" about ({axis})"

    def compute_reference(self) -> Reference:
        """Kabsch's SVD with the reflection fix; the rotation vector by the log map, its
        angle in [0, π], and t = q̄ - R(w) p̄ for that vector."""
        rot, _, svals, d = kabsch_rotation(self.source, self.target)
        w = canonical_rotation_vector(rotation_vector(rot.tolist()))
        m = rotation_matrix(w)
        pbar, qbar = self.source_centroid, self.target_centroid
        t = [q - a for q, a in zip(qbar, _apply(m, pbar))]
        x = [*w, *t]
        details = {
            "singular_values": [float(v) for v in svals],
            "reflection_fixed": bool(d < 0.0),
            "rotation_matrix": rot.tolist(),
            "angle_deg": math.degrees(math.hypot(*w)),
        }
        return Reference(x=x, loss=self.objective(x), method="kabsch-svd", details=details)

    # ---------------------------------------------------------------- solving

    def to_solver(self, x: Sequence[float]) -> list[float]:
        """x = (w, t) in the solver's frame z = (r w, R(w) p̄ + t - q̄)."""
        m = rotation_matrix(x[:3])
        pbar, qbar = self.source_centroid, self.target_centroid
        moved = _apply(m, pbar)
        return [self.radius * float(v) for v in x[:3]] + [
            moved[k] + float(x[3 + k]) - qbar[k] for k in range(3)
        ]

    def from_solver(self, z: Sequence[float]) -> list[float]:
        """The inverse of :meth:`to_solver`: w = z_123 / r, t = z_456 - R(w) p̄ + q̄."""
        w = [float(v) / self.radius for v in z[:3]]
        moved = _apply(rotation_matrix(w), self.source_centroid)
        return w + [float(z[3 + k]) - moved[k] + self.target_centroid[k] for k in range(3)]

    def solver_loss(self, z: Tensor) -> Tensor:
        """L in the solver's frame: Σ ||R(z_123/r)(p_i - p̄) + z_456 - (q_i - q̄)||²."""
        if not isinstance(z, Tensor):
            z = Tensor(z)
        w = (z[0] / self.radius, z[1] / self.radius, z[2] / self.radius)
        moved = _rotate_tensors(w, self._pc)
        out: Tensor | None = None
        for k in range(3):
            r = moved[k] + (z[3 + k] - self._qc[k])
            out = F.dot(r, r) if out is None else out + F.dot(r, r)
        assert out is not None
        return out

    def canonical_map(
        self, x: Sequence[float], *, compute: bool = True
    ) -> Callable[[Any], Any] | None:
        """The rotation vector's angle moved by whole turns into [0, π] (the same motion)."""
        return _canonical_motion

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """x0 (w = 0, where the series stand in for Rodrigues' quotients), then random
        motions: an axis uniform on the sphere, an angle in [0, π], t within reach."""
        r = random.Random(seed)
        reach = 1.0 + self.size
        pts = [self.default_x0()]
        while len(pts) < count:
            axis = [r.gauss(0.0, 1.0) for _ in range(3)]
            angle = r.uniform(0.0, math.pi) / math.hypot(*axis)
            pts.append([angle * v for v in axis] + [r.uniform(-reach, reach) for _ in range(3)])
        return pts[:count]

    # ------------------------------------------------------------------ drawing

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """The 2-D drawing of the points projected on the x-y plane (z left out)."""
        artists = super().draw(ax, x, label)
        ax.set_xlabel("x (projection on the x-y plane)")
        return artists


class Registration3D(Registration, Registration3DCore):
    """Rigid 3-D registration (``Registration(dim=3)``; see :class:`Registration3DCore`):
    the point pairs as given, the mathematics on the unit copy, as in 2-D."""

    _core = Registration3DCore
