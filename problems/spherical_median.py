"""The geometric median on the sphere: the point nearest, along great circles, to all the data.

Objective, for unit vectors a_1..a_n on S² with weights w_i >= 0 (default 1), W = Σ w_i:

    f(x) = Σ_i w_i θ_i / W,        θ_i = angle(x, a_i) = atan2(||x × a_i||, x · a_i)

in radians (atan2 is accurate at every angle, where arccos(x · a) loses half the digits
near 0 and π). f(λx) = f(x) for λ > 0: the loss is defined on R³ \\ {0}, so every optimizer,
scipy method and ``geograd check`` works on it as it is; atan2 is the engine's primitive
(``F.atan2``: ∂/∂s = c/(s² + c²), ∂/∂c = -s/(s² + c²)).

Gradient. With u_i = Log_x̂(a_i)/θ_i = ((x̂ × a_i) × x̂)/||x̂ × a_i||, the unit tangent at
x̂ = x/||x|| along the great circle towards a_i,

    ∇f(x) = -Σ_i w_i u_i / (W ||x||)

(no term where a_i is x̂ or its antipode, to within :data:`RESOLUTION` = 1e-300 rad: the
zero element of that term's subdifferential, as the engine's ``norm`` takes at 0 and the
Euclidean median's gradient takes at a data point; the loss drops it too, where the
engine's 1/θ would overflow). At a unit x it is tangent: the Riemannian gradient. The
solve's loss (:meth:`SphericalMedian.solver_loss`) has the same values and, at a data point
a_k, the least element of the subdifferential instead, -R_k·max(0, 1 − w_k/||R_k||)/W
(R_k, w_k as in the certificate): the steepest descent, 0 at a median data point.

Coincident points. Points within :data:`RESOLUTION` of each other are one point of their
summed weight (the vertex test, the reference); when all the points of positive weight
coincide, that point is the median: the default start, the reference, extent 1.

Certificate. Within 1e-6 of the extent of a data point a_k, the exact vertex test of
Fletcher, Venkatasubramanian & Joshi (NeuroImage 45 (2009) S143-S152): a_k is a (local)
minimiser iff ||R_k|| <= w_k, R_k = Σ_{i≠k} w_i u_i(a_k) the pull of the others at a_k, w_k
the weight at a_k (less that of points antipodal to it, whose distance is π - θ_k).
Elsewhere the Riemannian gradient norm, which says at most that x is stationary (to
:data:`STATIONARY`), and the smallest eigenvalue of the Riemannian Hessian Σ w_i cot θ_i
(P − u_i u_iᵀ) / W (P the tangent plane's identity), > 0 at a strict local minimum; a
local minimum is not the median unless the median is unique (three points 120° apart at
latitude 5°: the pole is one, 0.096 above the medians), and the line says "global: not
known" where that is not known. ``optimal`` is True only where the median is known to be
unique (local is then global); a passed vertex test elsewhere says "locally optimal".

Uniqueness (their theorem: curvature <= 1, data in a convex set of diameter < π/2, not all
on one geodesic), tested as: every point of positive weight within π/4 of the data's mean
direction, and not all on one great circle. All on one great circle and within π/4 of the
mean direction (an arc T shorter than π/2; :meth:`SphericalMedian.arc`), the problem is
1-D. With c the point of the circle nearest x and φ = angle(x, c), the spherical right
triangle gives cos d(x, a) = cos φ·cos d(c, a) for a on the circle; for a in T and P the
point of T nearest c, d(P, a) <= d(c, a) along the circle and d(P, a) < π/2, so
cos d(x, a) <= max(0, cos d(c, a)) <= cos d(P, a): P is no farther than x from any data
point (nearer, when x is off T), and the medians lie on T, where f = Σ w_i |θ − θ_i| / W
(θ the angle along the circle), the weighted 1-D absolute deviation. The median is then
the weighted 1-D median point, unique unless the weight of the points up to one of them
is exactly half of W (to :data:`BALANCE_RTOL`, as for the Euclidean median): then every
point of the arc from it to the next is a median, and a solution there matches the
reference by its objective. Otherwise "not known": a hemisphere is not enough (three
points 120° apart at latitude 5° have three medians, one at each point), nor one great
circle beyond that arc.

Data. From ``random.Random(seed)``: a centre within 45° of the drawings' view, then
``cluster``: Exp_c(g), g normal in the tangent plane, :data:`SPREAD` radians a side;
``cluster-with-outliers``: n - n//5 such, then n//5 uniform on the sphere; ``hemisphere``:
uniform on the open hemisphere about the centre. Or ``points=FILE`` (:func:`read_rows`).

Reference. On such an arc T the weighted 1-D median data point itself (an end of the
arc of medians when the weights balance), exactly. Elsewhere Fletcher et al.'s
Riemannian Weiszfeld iteration x ← Exp_x(Σ w_i u_i / Σ w_i/θ_i) in numpy
(:func:`weiszfeld_sphere`), from the best of the mean direction and 64 evenly spaced
data points (:func:`start_picks`; ties within :data:`TIE_RTOL` to the first, as the
default start breaks them, not to numpy's rounding: of the three medians above, numpy's
sums made the second the least by an ulp, the engine's the first); points within its
tolerance of the iterate count as one point there (Vardi-Zhang's step), and so does a
tight cluster about it that the others pull harder than its weight: among near-duplicates
7e-13 to 1e-11 rad apart, Weiszfeld's steps, ~their spread, read a rate that stopped it
as much as 3e-3 rad short of the median.

Solver defaults. ``gd`` (Armijo) on the sphere itself (:meth:`manifold`: Riemannian
gradient, retraction (x + v)/||x + v||) from the normalised weighted mean, first trial step
the mean angle there (as the Euclidean median's length), ``c1 = 0.5``, ``gtol = 1e-9``,
``ftol = 4e-16·min(1, length)``: 13 steps, 1.3e-10 rad from the reference (defaults). The
others get the median's settings in that length; lbfgs and newton, which step in R³, are
normalised after each step (:meth:`projection`). Where the mean direction is itself a
stationary point (a symmetric configuration: the three points above have the pole), no
optimizer can leave it: the start is then the lowest objective of it and the data points
the reference tries (:func:`start_picks`; ties to the first, :data:`TIE_RTOL`). Testing
the mean costs its gradient, one evaluation in place of the objective the first trial step
needs anyway; the data points are tried only when it is stationary.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import geograd.functional as F
from geograd import Tensor, value_and_grad
from geograd import backend as B
from geograd.errors import InputError

from .base import Option, Reference
from .data import LAT_NAMES, LON_NAMES, PointSet, as_columns
from .lifecycle import Data, DataShape, PointProblem
from .median import BALANCE_RTOL, LR_IN_LENGTHS, NEWTON, VERTEX_RTOL
from .thomson import SphereScene, _dot, _view_axes, normalise, sphere_point

DISTRIBUTIONS = ("cluster", "cluster-with-outliers", "hemisphere")
#: Standard deviation (radians per tangent axis) of a generated cluster: 8.6°, ~950 km on Earth.
SPREAD = 0.15
#: Header names of a points file's latitude and longitude columns (any case).
#: Data points the reference tries as starts (evenly spaced), besides the mean direction.
REFERENCE_STARTS = 64
DEFAULT_OPTIMIZER = "gd"
#: Angles (radians) at most this are read as 0: points this close are one point (of their
#: summed weight), and a point this close to x (or to its antipode) is at x, where its term
#: of the gradient is dropped (the zero element of its subdifferential, as at a data point
#: of the Euclidean median). The gradient of θ scales as 1/θ: in the engine it overflows
#: below ~1e-308, so the angles between 1e-308 and 1e-300 are also taken as 0.
RESOLUTION = 1e-300
#: A point whose Riemannian gradient norm is at most this is stationary: so the certificate
#: calls it (as trilateration's 1e-6·scale), above the ~1e-8 that a line search resolves near
#: a median in float64 (sqrt(2ε·f·λ), λ the Hessian's scale: 2.3e-8 with the outliers), and
#: a default start this flat is one to look past (:meth:`SphericalMedian.default_x0`):
#: far above a symmetric configuration's gradient (rounding, ~1e-16), 1000 times below an
#: ordinary mean direction's (about 1e-3 to 0.05 on the generated data, n = 10^3 to 10^5).
STATIONARY = 1e-6
#: A direction within this (relative) of the z axis is a pole, where longitude is undefined:
#: 1000 times the ~1e-15 rounding of a computed unit vector's coordinates, 6 µm on Earth.
POLE_RTOL = 1e-12
#: Starts whose objectives are within this (relative) of the least are tied: the first (the
#: mean direction, then the data in order) is taken, so that the solve's start (the engine's
#: sums) and the reference's (numpy's) break a tie alike, not by their different roundings.
TIE_RTOL = 1e-9
#: A tight cluster for the reference (:func:`_tight_cluster`): points within ρ of the
#: iterate, the others at least this times ρ away.
CLUSTER_GAP = 1e4


def _cross(a: Sequence[float], b: Sequence[float]) -> list[float]:
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def angle(x: Sequence[float], a: Sequence[float]) -> float:
    """The angle between two nonzero vectors, atan2(||x × a||, x · a), radians."""
    return math.atan2(math.hypot(*_cross(x, a)), _dot(x, a))


def point_label(k: int) -> str:
    """Data point ``k`` (0-based) in words: "data point 3 (index 2)"."""
    return f"data point {k + 1} (index {k})"


def weighted_median_1d(weights: Sequence[float]) -> tuple[int, bool]:
    """(j, balanced) for positions t_0 < t_1 < ... of these weights (> 0), W their sum: j the
    first whose prefix C_j = w_0 + ... + w_j reaches W/2. Σ w_i |t − t_i| is least at t_j
    alone, unless C_j = W/2 (to :data:`BALANCE_RTOL`·W, by math.fsum): ``balanced``, and
    every t in [t_j, t_j+1] is least (the slope there is C_j − (W − C_j) = 0)."""
    total = math.fsum(weights)
    half, slack = total / 2.0, BALANCE_RTOL * total
    running = 0.0
    for j, wj in enumerate(weights):
        running += wj
        if running >= half * (1.0 - 1e-9):  # near half: the exact prefix decides
            prefix = math.fsum(weights[: j + 1])
            if prefix >= half - slack:
                return j, prefix <= half + slack
    return len(weights) - 1, False  # not reached: C_last = W


def toward(x: Sequence[float], a: Sequence[float]) -> list[float] | None:
    """The unit tangent at unit x along the great circle to a, ((x × a) × x)/||x × a||; None
    where unit a is x or its antipode (no direction), to within :data:`RESOLUTION`."""
    cr = _cross(x, a)
    s = math.hypot(*cr)
    return None if s <= RESOLUTION else [v / s for v in _cross(cr, x)]


def start_picks(n: int, count: int = REFERENCE_STARTS) -> list[int]:
    """``count`` evenly spaced indices of n data points, ⌊i(n − 1)/(count − 1)⌋ (all of them
    when n <= count): the data points tried as starts, by the reference always, by the
    default start where the mean direction is stationary."""
    m = min(n, count)
    return [0] if m <= 1 else sorted({i * (n - 1) // (m - 1) for i in range(m)})


def first_least(values: Sequence[float]) -> int:
    """The index of the first value within :data:`TIE_RTOL` of the least."""
    low = min(values)
    return next(i for i, v in enumerate(values) if v <= low + TIE_RTOL * abs(low))


def to_latlon(x: Sequence[float]) -> tuple[float, float]:
    """(latitude, longitude) in degrees of the direction of x."""
    lat = math.atan2(x[2], math.hypot(x[0], x[1]))
    return math.degrees(lat), math.degrees(math.atan2(x[1], x[0]))


def at_pole(x: Sequence[float]) -> bool:
    """Whether the direction of x is a pole: its distance from the z axis, hypot(x, y),
    at most :data:`POLE_RTOL` of ||x||, where x and y are rounding noise of a computed
    unit vector (~1e-15 each) and the longitude they make is noise too."""
    return math.hypot(x[0], x[1]) <= POLE_RTOL * math.hypot(*x) and x[2] != 0.0


def gradient_summary(value: float, low: float, unique: bool | None) -> str:
    """The certificate's line off the data: the Riemannian gradient norm says at most
    that x is stationary (to :data:`STATIONARY`), and the Hessian's smallest eigenvalue
    ``low`` whether a stationary x is a strict local minimum; only a unique median makes
    that one the answer (``unique`` None: "global: not known")."""
    eig = f"smallest Riemannian Hessian eigenvalue {low:.3g}"
    if value > STATIONARY:
        return f"Riemannian gradient norm {value:.2g} (not stationary to {STATIONARY:g}; {eig})"
    text = f"stationary (Riemannian gradient norm {value:.2g}), "
    if low <= 0.0:
        return text + f"not a strict local minimum ({eig})"
    text += f"a strict local minimum ({eig})"
    return text + ("; global: not known" if unique is None else "")


def from_latlon(lat: float, lon: float) -> list[float]:
    """The unit vector at latitude ``lat`` and longitude ``lon`` (degrees)."""
    p, q = math.radians(lat), math.radians(lon)
    return [math.cos(p) * math.cos(q), math.cos(p) * math.sin(q), math.sin(p)]


def exp_map(x: Sequence[float], v: Sequence[float]) -> list[float]:
    """Exp_x(v) on the unit sphere: cos|v| x + sin|v| v/|v|, normalised."""
    t = math.hypot(*v)
    return list(x) if t == 0.0 else normalise([math.cos(t) * a + math.sin(t) / t * b
                                                for a, b in zip(x, v)])  # fmt: skip


def _tangent(c: Sequence[float], t: float, phi: float) -> list[float]:
    """The tangent vector at unit c of length t and direction phi (in a fixed frame)."""
    helper = (1.0, 0.0, 0.0) if abs(c[0]) < 0.9 else (0.0, 1.0, 0.0)
    e1 = normalise(_cross(c, helper))
    e2 = _cross(c, e1)
    return [t * (math.cos(phi) * a + math.sin(phi) * b) for a, b in zip(e1, e2)]


def generate(r: random.Random, n: int, distribution: str) -> list[list[float]]:
    """n unit vectors as the module docstring says (the centre drawn first)."""
    ev = list(_view_axes()[2])
    c = exp_map(ev, _tangent(ev, r.uniform(0.0, math.pi / 4), r.uniform(0.0, 2 * math.pi)))
    inliers = n - n // 5 if distribution == "cluster-with-outliers" else n
    out: list[list[float]] = []
    for i in range(n):
        if distribution == "hemisphere":  # polar angle of a uniform z in (0, 1]
            t = math.acos(1.0 - r.random())
            out.append(exp_map(c, _tangent(c, t, r.uniform(0.0, 2 * math.pi))))
        elif i < inliers:
            g1, g2 = r.gauss(0.0, SPREAD), r.gauss(0.0, SPREAD)
            out.append(exp_map(c, _tangent(c, math.hypot(g1, g2), math.atan2(g2, g1))))
        else:
            out.append(list(sphere_point(r)))
    return out


class SphericalMedian(SphereScene, PointProblem):
    """The weighted geometric median on the unit sphere S² (see the module docstring)."""

    name = "spherical-median"
    description = "geometric median on the sphere: minimise the mean great-circle distance"
    options = (
        Option("n", int, 200, "number of generated points", min=1, metavar="N", generator=True),
        Option("seed", int, 5, "random seed of the generated points", metavar="SEED",
               generator=True),
        Option("distribution", str, "cluster", "generated points: cluster (8.6° spread), "
               "cluster-with-outliers (a fifth uniform on the sphere) or hemisphere (uniform)",
               choices=DISTRIBUTIONS, generator=True),
        Option("points", Path, None, "load points from CSV/TSV/text or .npy: lat,lon in "
               "degrees (or columns named lat/lon), or x,y,z (normalised); a w column gives "
               "weights", metavar="FILE"),
    )  # fmt: skip

    # Unit vectors (read_rows converts a file's or code's lat/lon or x,y,z), with the
    # format they came in (``format``: "latlon" or "xyz") and optional weights.
    data_shape = DataShape(weights=True, dims=(3,), extras=("format",))
    component_names = ("x", "y", "z")
    reference_modules = ("numpy",)
    # Peak RSS of a default solve less the interpreter's, measured at n = 200,000: 2.1 kB a
    # point on python (rows, columns, engine arrays, a loss's graph), 0.64 kB on numpy.
    bytes_per_item, bytes_per_item_numpy = 3000, 1000

    # ------------------------------------------------------------------ data

    def generate(self, rng: random.Random) -> Data:
        s = self.settings
        rows = [normalise(p) for p in generate(rng, s["n"], s["distribution"])]
        return Data(as_columns(rows), extra={"format": "xyz"})

    def read(self, ps: PointSet) -> Data:
        rows, fmt = read_rows(self.source, ps.points, ps.names)
        weights = None if ps.weights is None else [float(v) for v in ps.weights]
        return Data(as_columns([normalise(p) for p in rows]), weights, extra={"format": fmt})

    def set_data(self, data: Data) -> None:
        """Install the unit vectors (as they are, so that saved data round-trip exactly;
        rows given off the unit sphere are read as x, y, z: normalised), their weights, and
        what the loss and the reference use."""
        self.install(data)
        self.format = str(data.extra.get("format") or "xyz")
        self.points = [list(p) for p in zip(*self.columns)]
        if any(abs(math.hypot(*p) - 1.0) > 1e-15 for p in self.points):
            self.points = read_rows(self.name, self.points, ("x", "y", "z"))[0]
            self.columns = as_columns(self.points)
        self.weights = None if data.weights is None else [float(v) for v in data.weights]
        if self.weights is not None and not (
            len(self.weights) == self.n and any(v > 0 for v in self.weights)
            and all(math.isfinite(v) and v >= 0 for v in self.weights)
        ):  # fmt: skip
            raise InputError(f"{self.name}: weights must be one per point, finite, >= 0, not all 0")
        self.total_weight = float(self.n) if self.weights is None else math.fsum(self.weights)
        self._coords = tuple(self.as_data(c) for c in self.columns)
        self._w = None if self.weights is None else self.as_data(self.weights)
        self._unique: tuple[bool | None, str] | None = None
        self._mean: list[float] | None = None  # mean_direction(), once known
        self._start: tuple[list[float], float] | None = None  # (default_x0(), f there)
        self._single: tuple[int | None] | None = None  # (single_point(),) once known
        self._arc: tuple[list[tuple[float, int, float]] | None] | None = None  # (arc(),)

    @classmethod
    def from_points(
        cls, points: Sequence[Sequence[float]], weights: Sequence[float] | None = None,
        x0: Sequence[float] | None = None,
    ) -> SphericalMedian:  # fmt: skip
        """The problem over the given points: rows of (lat, lon) degrees or (x, y, z)."""
        rows = cls.checked_rows(points)  # numbers, named entry by entry where not
        if not rows or any(len(p) != len(rows[0]) for p in rows):
            raise InputError(f"{cls.name}: give points of 2 (lat, lon) or 3 (x, y, z) numbers")
        if len(rows[0]) not in (2, 3):
            raise InputError(f"{cls.name}: give points of 2 (lat, lon) or 3 (x, y, z) numbers, "
                             f"not {len(rows[0])}")  # fmt: skip
        names = ("lat", "lon") if len(rows[0]) == 2 else ("x", "y", "z")
        unit, fmt = read_rows(cls.name, rows, names)
        rows = [normalise(p) for p in unit]
        return cls.given(rows, x0=x0, weights=weights, extra={"format": fmt})

    @property
    def dim(self) -> int:
        return 3

    def single_point(self) -> int | None:
        """The index of the heaviest point when all the points of positive weight coincide
        with it (to within :data:`RESOLUTION`: it is then the median), else None. Stops at
        the first point apart: O(1) on most data."""
        if self._single is None:
            w = self.weights or [1.0] * self.n
            k = max(range(self.n), key=w.__getitem__)
            a = self.points[k]
            apart = (wi > 0 and angle(a, p) > RESOLUTION for wi, p in zip(w, self.points))
            self._single = (None if any(apart) else k,)
        return self._single[0]

    @property
    def extent(self) -> float:
        """The data's extent (:meth:`PointProblem.extent`), 1 when all the points coincide
        to within :data:`RESOLUTION` (closer than the engine's floats resolve an angle)."""
        value = float(super().extent)
        return 1.0 if value <= 2.0 * RESOLUTION else value

    def check_point(self, values: Sequence[float] | str | Any, what: str = "x") -> list[float]:
        """The base class's check; a start (``x0``, ``--x0``) moreover needs a direction:
        the origin is no point of the sphere (its objective, Σ w_i·angle(0, a_i) = 0 by
        atan2's convention, would pass for the least of all)."""
        out = super().check_point(values, what)
        if what in ("x0", "--x0") and not any(out):
            raise InputError(
                f"{self.name}: {what} is the origin, which has no direction on the sphere; "
                "give a point of any length in the direction to start from (or none: the "
                "data's mean direction)"
            )
        return out

    def mean_direction(self) -> list[float]:
        """The normalised weighted mean of the data, Σ w_i a_i / ||Σ w_i a_i|| (the heaviest
        point where that sum is ~0, and where all the points of positive weight coincide:
        the median). Cached: an O(n) pass of math.fsum, 16 ms at n = 10^5."""
        if self._mean is None:
            w = self.weights or [1.0] * self.n
            k = self.single_point()
            if k is None:
                m = [math.fsum(wi * p[j] for wi, p in zip(w, self.points)) for j in range(3)]
                if math.hypot(*m) > 1e-9 * self.total_weight:
                    self._mean = normalise(m)
                    return list(self._mean)
                k = max(range(self.n), key=w.__getitem__)
            self._mean = list(self.points[k])
        return list(self._mean)

    def default_x0(self) -> list[float]:
        """The mean direction (:meth:`mean_direction`), unless it is a stationary point
        (Riemannian gradient norm at most :data:`STATIONARY`): then the lowest objective
        of it and the data points :func:`start_picks` names (module docstring, Solver
        defaults)."""
        return list(self._default_start()[0])

    def _default_start(self) -> tuple[list[float], float]:
        """(:meth:`default_x0`, f there), cached.

        A stationary start is one gd cannot leave: its first gradient is below any
        tolerance, and the solve stops there, "converged", though it may be a local
        minimum that is not global (three points 120° apart at latitude 5°: the pole,
        0.096 above the medians at the points) or a saddle. Only there are other starts
        tried: an ordinary mean direction has a gradient of 1e-3 to 0.05 (the generated
        data at n = 10^3 to 10^5), where the data points' objectives (up to 64 O(n)
        passes) would cost more than the solve. The mean's own test is one evaluation
        with the gradient, in place of the objective :attr:`length` needs anyway."""
        if self._start is None:
            m = self.mean_direction()
            value, grad = value_and_grad(self.loss)(Tensor(m))
            f = float(value.item())
            g = [float(v) for v in grad.tolist()]
            radial = _dot(g, m)  # the Riemannian gradient is g's tangent part at unit m
            slope = math.hypot(*(a - radial * b for a, b in zip(g, m)))
            if slope > STATIONARY or self.single_point() is not None:
                self._start = (m, f)
            else:
                starts = [m, *(list(self.points[k]) for k in start_picks(self.n))]
                values = [f, *(self.objective(p) for p in starts[1:])]
                j = first_least(values)
                self._start = (starts[j], values[j])
        return list(self._start[0]), self._start[1]

    data_space = "on the unit sphere"

    def data_notes(self) -> list[str]:
        notes = ["lat/lon in degrees" if self.format == "latlon" else "x,y,z normalised"]
        weights = "equal weights" if self.weights is None else "weights from the file"
        return {"generated": [], "given": notes}.get(self.source, [*notes, weights])

    def components(self, x: Sequence[float]) -> list[dict[str, Any]]:
        """x, y, z, then the direction's latitude and longitude in degrees; at a pole
        (:func:`at_pole`) latitude ±90 and longitude "undefined": every longitude names
        the pole, and atan2(y, x) of the rounding noise left in x and y is no answer."""
        point = self.check_point(x, "x")
        lat, lon = to_latlon(point)
        longitude: dict[str, Any] = {"name": "longitude", "value": lon, "unit": "deg"}
        if at_pole(point):
            lat = math.copysign(90.0, point[2])
            longitude = {"name": "longitude", "value": "undefined (at the pole)", "unit": ""}
        return [*super().components(x), {"name": "latitude", "value": lat, "unit": "deg"},
                longitude]  # fmt: skip

    # ------------------------------------------------------------------ maths

    def loss(self, x: Tensor) -> Tensor:
        """Σ w_i atan2(||x × a_i||, x · a_i) / W through the engine (the gradient without the
        terms of points within :data:`RESOLUTION` of x̂ or its antipode, as :meth:`gradient`)."""
        return self._loss(x)[0]

    def _loss(self, x: Tensor) -> tuple[Tensor, bool]:
        """(:meth:`loss`, whether a point is within :data:`RESOLUTION` of x̂ or its antipode)."""
        x = x if isinstance(x, Tensor) else Tensor(x)
        x0, x1, x2 = F.unbind(x)
        ax, ay, az = self._coords
        s = F.norm(x1 * az - x2 * ay, x2 * ax - x0 * az, x0 * ay - x1 * ax)
        # a point within RESOLUTION of x̂ or its antipode: its term of the gradient dropped
        # (its value kept), where the engine's c/(s² + c²)·(cross/s) would overflow
        tiny = RESOLUTION * math.hypot(*(float(v) for v in x.detach().tolist()))
        kink = bool(B.backend_of(s.data).amin(s.data) <= tiny)
        if kink:
            s = F.where(s > tiny, s, s.detach())
        theta = F.atan2(s, x0 * ax + x1 * ay + x2 * az)
        total = F.sum(theta) if self._w is None else F.sum(theta * self._w)
        return total / self.total_weight, kink

    def solver_loss(self, z: Tensor) -> Tensor:
        """What the solve minimises: :meth:`loss`, the same values, and the same gradient
        except at a data point, where it is the least element of f's subdifferential.

        At x̂ = a_k, f = w θ_k + g near it (w the weight there, less that of points
        antipodal to it), g smooth with Riemannian gradient −R/W (R the pull of the
        others): ∂f = (−R + w·B)/W, B the tangent unit disc, whose least element is
        −R·max(0, 1 − w/||R||)/W, the steepest descent. :meth:`loss`'s −R/W (the zero
        element of the kink's term, as the Euclidean median's) overstates the slope. At
        a median point (||R|| <= w: the vertex test) f rises every way, and gd started
        at the answer (the default start of the three medians) found no decrease along
        it in 58 evaluations, and ended "stalled" (not converged) or a rounding-level
        step off it; now the gradient is 0 and the solve converges there at once. Off a
        median point (||R|| > w) the direction is the same, the slope the true ||R|| − w.
        Where w <= 0 (no point at x̂, or a concave kink: f falls every way from it) the
        gradient is :meth:`loss`'s.

        The value is kept exactly: loss + (c − 1)·(loss − loss.detach()), with
        c = max(0, 1 − w/||R||), has loss's value and gradient c·∇loss. Away from the
        data (every iterate of an ordinary solve) it is :meth:`loss` itself, at no cost:
        the test is the one :meth:`loss` makes."""
        out, kink = self._loss(z)
        if not kink:
            return out
        x = [float(v) for v in (z.detach().tolist() if isinstance(z, Tensor) else z)]
        if not any(x):  # the origin: no direction, no subdifferential to choose from
            return out
        pull, weight = self._pull(normalise(x))
        if weight <= 0.0:  # no point here, or a concave kink: loss's gradient
            return out
        size = math.hypot(*pull)
        scale = max(0.0, 1.0 - weight / size) if size > 0.0 else 0.0
        return out + (scale - 1.0) * (out - out.detach())

    def _pull(self, x: Sequence[float], k: int | None = None) -> tuple[list[float], float]:
        """(Σ w_i u_i at unit x, the weight at x: of the points equal to x, less that of the
        points antipodal to it); ``k``: x is data point k."""
        terms: list[list[float]] = [[], [], []]
        at: list[float] = []
        for i, (wi, a) in enumerate(zip(self.weights or [1.0] * self.n, self.points)):
            u = None if i == k else toward(x, a)
            if u is None:
                at.append(wi if i == k or _dot(x, a) > 0 else -wi)
            else:
                for j in range(3):
                    terms[j].append(wi * u[j])
        return [math.fsum(t) for t in terms], math.fsum(at)

    def gradient(self, x: Sequence[float]) -> list[float]:
        """-Σ w_i u_i / (W ||x||): the Riemannian gradient at a unit x."""
        r = math.hypot(*x)
        if r == 0.0:
            return [0.0, 0.0, 0.0]
        pull, _ = self._pull([float(v) / r for v in x])
        return [-v / (self.total_weight * r) for v in pull]

    def vertex_test(self, k: int) -> tuple[float, float]:
        """(||R_k||, w_k) at data point k: a (local) minimiser iff ||R_k|| <= w_k."""
        pull, wk = self._pull(self.points[k], k)
        return math.hypot(*pull), wk

    def distance(self, x: Sequence[float], y: Sequence[float]) -> float:
        """The great-circle distance between the directions of x and y, radians."""
        return angle(x, y)

    def reach(self) -> float:
        """The largest angle of a point of positive weight from the mean direction
        (:meth:`mean_direction`), degrees."""
        c, w = self.mean_direction(), self.weights or [1.0] * self.n
        return math.degrees(max(angle(c, p) for p, wi in zip(self.points, w) if wi > 0))

    def circle_normal(self) -> list[float] | None:
        """The unit normal n of the great circle the points of positive weight lie on (each
        within 1e-12 of it: |n · a_i| <= 1e-12), else None (or when they are all ±one point)."""
        pts = [p for p, wi in zip(self.points, self.weights or [1.0] * self.n) if wi > 0]
        normal = max((_cross(pts[0], p) for p in pts), key=lambda v: math.hypot(*v))
        size = math.hypot(*normal)
        if size == 0.0 or max(abs(_dot(normal, p)) for p in pts) > 1e-12 * size:
            return None
        return [v / size for v in normal]

    def arc(self) -> list[tuple[float, int, float]] | None:
        """The data as a 1-D problem: when the points of positive weight lie on one great
        circle, each within 45° of the mean direction (so on an arc shorter than 90°, in one
        hemisphere: the module docstring), one (θ, index, weight) per distinct point in
        order along it, θ = atan2(n · (a × p), a · p) the angle from the first such point a
        about the circle's normal n; points within :data:`RESOLUTION` are one (the first's
        index, their summed weight). Else None. Along the arc f = Σ w_i |θ − θ_i| / W."""
        if self._arc is None:
            n = self.circle_normal()
            if n is None or self.reach() >= 45.0:
                self._arc = (None,)
                return None
            w = self.weights or [1.0] * self.n
            keep = [i for i in range(self.n) if w[i] > 0]
            a = self.points[keep[0]]
            theta = {i: math.atan2(_dot(n, _cross(a, self.points[i])), _dot(a, self.points[i]))
                     for i in keep}  # fmt: skip
            groups: list[tuple[float, int, list[float]]] = []
            for i in sorted(keep, key=theta.__getitem__):
                if groups and angle(self.points[groups[-1][1]], self.points[i]) <= RESOLUTION:
                    groups[-1][2].append(w[i])
                else:
                    groups.append((theta[i], i, [w[i]]))
            self._arc = ([(t, i, math.fsum(ws)) for t, i, ws in groups],)
        return self._arc[0]

    def uniqueness(self) -> tuple[bool | None, str]:
        """Whether the median is unique, and why (the module docstring): all the points at
        one point, or two points, decided exactly; on one great circle within 45° of the mean
        direction (:meth:`arc`), where the medians lie on the data's arc (its nearest point to
        x is no farther than x from any data point: cos d(x, a) = cos φ·cos d(c, a), c the
        circle's point nearest x, φ = angle(x, c)) and f = Σ w_i |θ − θ_i| / W along it, the
        weighted 1-D median of the θ_i, unique unless the weight up to one point is half of
        W (:func:`weighted_median_1d`), when every point of the arc from it to the next is a
        median; else Fletcher et al.'s sufficient condition (within 45° of the mean
        direction, not on one great circle)."""
        if self._unique is None:
            self._unique = self._uniqueness()
        return self._unique

    def _uniqueness(self) -> tuple[bool | None, str]:
        groups: list[tuple[list[float], list[float]]] = []  # (point, weights): at most 3
        for p, wi in zip(self.points, self.weights or [1.0] * self.n):
            if wi > 0:
                at = next((g for g in groups if angle(g[0], p) <= RESOLUTION), None)
                if at is None:
                    groups.append((p, [wi]))
                    if len(groups) > 2:
                        break
                else:
                    at[1].append(wi)
        if self.single_point() is not None:
            return True, "all the points of positive weight coincide"
        if len(groups) == 2:
            wa, wb = (math.fsum(g[1]) for g in groups)
            # f = wa·θa + wb·θb >= (wa − wb)·θa + wb·θab (triangle inequality): the heavier
            # point alone attains it; with equal weights every point between does
            return (
                (False, "two points of equal weight: every point of the shorter arc "
                 "between them (of the whole sphere when they are antipodal) is a median")
                if wa == wb else
                (True, "two points of unequal weight: the heavier one is the median")
            )  # fmt: skip
        rho = self.reach()
        if self.circle_normal() is not None:
            along = self.arc()
            if along is None:
                return None, (f"not known: the points lie on one great circle and reach "
                              f"{rho:.3g}° from their mean direction, where the median may "
                              "be a whole arc (as on a line)")  # fmt: skip
            j, balanced = weighted_median_1d([g[2] for g in along])
            on = f"the points lie on one great circle within {rho:.3g}° of their mean direction"
            if balanced:
                k, m = sorted((along[j][1], along[j + 1][1]))
                return False, (f"{on} and their weights balance: every point of the arc between "
                               f"{point_label(k)} and {point_label(m)} is a median (along it "
                               "the loss is Σ w_i |θ − θ_i| / W)")  # fmt: skip
            return True, (f"{on}: along it the loss is Σ w_i |θ − θ_i| / W, least at the "
                          f"weighted 1-D median, {point_label(along[j][1])}, alone")  # fmt: skip
        if rho < 45.0:
            return True, (f"the points lie within {rho:.3g}° of their mean direction (diameter "
                          "< 90°) and not on one great circle (Fletcher et al. 2009)")  # fmt: skip
        return None, (f"not known: the points reach {rho:.3g}° from their mean direction; "
                      "uniqueness is proved for data of diameter < 90° (Fletcher et al. "
                      "2009)")  # fmt: skip

    def certificate(self, x: Sequence[float], atol: float | None = None) -> dict[str, Any]:
        """The exact vertex test near a data point, else the Riemannian gradient norm."""
        p = normalise(self.check_point(x, "x"))
        dists = [angle(p, a) for a in self.points]
        k = min(range(self.n), key=dists.__getitem__)
        unique = self.uniqueness()[0]
        if dists[k] <= (1e-6 * self.extent if atol is None else float(atol)):
            r, wk = self.vertex_test(k)
            passed = r <= wk * (1.0 + VERTEX_RTOL)
            optimal = (True if unique else None) if passed else False
            label, share = point_label(k), 1.0 / self.total_weight
            verdict = f"not optimal (pull {r * share:.3g} > weight {wk * share:.3g})"
            if passed:
                verdict = "optimal" if optimal else "locally optimal (global: not known)"
            return {
                "value": max(0.0, r - wk) * share, "kind": "data_point", "optimal": optimal,
                "index": k, "label": label, "summary": f"exact vertex test at {label}: {verdict}",
                "point": list(self.points[k]), "distance_to_point": dists[k],
                "pull": r * share, "point_weight": wk * share,
            }  # fmt: skip
        value = math.hypot(*self.gradient(p))
        low = self.hessian_min_eigenvalue(p)
        stationary = value <= STATIONARY
        # unique, all within 90° of x: f convex on [x, x*], f(x) - min f <= |grad| d(x, x*)
        return {"value": value, "kind": "gradient_norm", "optimal": None,
                "summary": gradient_summary(value, low, unique),
                "stationary": stationary, "hessian_min_eigenvalue": low,
                "local_minimum": stationary and low > 0.0,
                "nearest_point_distance": dists[k],
                "gap_bound": value * max(dists) if unique and max(dists) < math.pi / 2
                else None}  # fmt: skip

    def hessian_min_eigenvalue(self, x: Sequence[float]) -> float:
        """The smallest eigenvalue of f's Riemannian Hessian at unit x (off the data).

        On the unit sphere the Hessian of θ = d(x, a) is cot θ·(P − u uᵀ), P the tangent
        plane's identity and u the unit tangent towards a: no curvature along the great
        circle to a, cot θ across it (positive within 90° of a, negative beyond). So
        Hess f = Σ w_i cot θ_i (P − u_i u_iᵀ) / W, a 2×2 matrix in an orthonormal basis
        (e1, e2) of the tangent plane, whose smallest eigenvalue is
        (h11 + h22)/2 − hypot((h11 − h22)/2, h12). At a stationary point > 0 says a
        strict local minimum, which is not yet the global one (three points 120° apart
        at latitude 5°: the pole, 0.096 above the medians). -inf with a point of
        positive weight antipodal to x (within :data:`RESOLUTION`): θ = π there is a
        concave kink, from which f falls every way."""
        helper = (1.0, 0.0, 0.0) if abs(x[0]) < 0.9 else (0.0, 1.0, 0.0)
        e1 = normalise(_cross(x, helper))
        e2 = _cross(x, e1)
        h11: list[float] = []
        h12: list[float] = []
        h22: list[float] = []
        for wi, a in zip(self.weights or [1.0] * self.n, self.points):
            if wi == 0.0:
                continue
            u = toward(x, a)
            if u is None:  # at x (no curvature kept, as its gradient) or at its antipode
                if _dot(x, a) < 0.0:
                    return -math.inf
                continue
            cot = _dot(x, a) / math.hypot(*_cross(x, a))
            v1, v2 = _dot(u, e1), _dot(u, e2)
            h11.append(wi * cot * (1.0 - v1 * v1))
            h12.append(-wi * cot * v1 * v2)
            h22.append(wi * cot * (1.0 - v2 * v2))
        a11, a12, a22 = (math.fsum(h) / self.total_weight for h in (h11, h12, h22))
        return (a11 + a22) / 2.0 - math.hypot((a11 - a22) / 2.0, a12)

    # ------------------------------------------------------------- reference

    def compute_reference(self) -> Reference:
        """The point where all the points coincide; on one short arc (:meth:`arc`) its
        weighted 1-D median data point, exactly (where the weights balance, the end of the
        arc of medians first along it); else :func:`weiszfeld_sphere` (module docstring)."""
        import numpy as np

        if self.single_point() is not None:  # that point is the median
            x = self.mean_direction()
            return Reference(x, self.objective(x), "riemannian-weiszfeld", {
                "iterations": 0, "converged": True, "tolerance": 0.0,
                "stopped": "all the points of positive weight coincide: that point",
                "start": "the point", "certificate": self.certificate(x),
            })  # fmt: skip
        along = self.arc()
        if along is not None:
            j, balanced = weighted_median_1d([g[2] for g in along])
            k = along[j][1]
            x, cert = list(self.points[k]), self.certificate(self.points[k])
            if cert["optimal"] is not False:  # the vertex test agrees (it must: a guard)
                where = "an end of the arc of medians" if balanced else "the median"
                return Reference(x, self.objective(x), "weighted-median-along-arc", {
                    "iterations": 0, "converged": True, "tolerance": 0.0,
                    "stopped": "the points lie on one great circle within 45° of their "
                    "mean direction: along it the loss is Σ w_i |θ − θ_i| / W, and its "
                    f"weighted 1-D median, {point_label(k)}, is {where}",
                    "start": "the points sorted by their angle along the circle",
                    "certificate": cert,
                })  # fmt: skip
        pts = np.asarray(self.points, dtype=float)
        w = np.ones(self.n) if self.weights is None else np.asarray(self.weights, dtype=float)
        starts = [np.asarray(self.mean_direction()), *pts[start_picks(self.n)]]
        start = starts[first_least([_f(pts, w, y) for y in starts])]
        x, details = weiszfeld_sphere(pts, w, start, 1e-12 * self.extent, self.vertex_test)
        details["certificate"] = self.certificate(x)
        return Reference(x, self.objective(x), "riemannian-weiszfeld", details)

    # ---------------------------------------------------------------- solving

    @property
    def length(self) -> float:
        """f at the default start (the mean angle there, radians; 1 if it is 0)."""
        return self._default_start()[1] or 1.0

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """gd on the sphere, first trial step one :attr:`length` (module docstring); the
        others the Euclidean median's settings in that length."""
        from geograd.optim.schedules import Exponential

        name = (optimizer or DEFAULT_OPTIMIZER).strip().lower()
        length = self.length
        loop: dict[str, Any] = {"gtol": 1e-9, "ftol": 4e-16 * min(1.0, length)}
        if name == "gd":
            return {"optimizer": "gd", "lr": length, "c1": 0.5, "max_steps": max_steps or 1000,
                    **loop}  # fmt: skip
        if name in NEWTON:
            return {"optimizer": name, "lr": length, "max_steps": max_steps or 200, **loop}
        steps = max_steps or 2000
        out = {"optimizer": name, "lr": LR_IN_LENGTHS.get(name, 0.01) * length,
               "max_steps": steps, "schedule": Exponential(1e-6 ** (1.0 / steps)),
               **loop}  # fmt: skip
        if name == "adamw":
            out["weight_decay"] = 0.0
        return out

    def manifold(self) -> Any:
        """The unit sphere of R³: a first-order optimizer steps on it itself."""
        from geograd.manifolds import Sphere

        return Sphere(3)

    def projection(self) -> Callable[[list[float]], Sequence[float]]:
        """Each step of an optimizer in R³ put back on the sphere (the loss is unchanged)."""
        return normalise

    def start_points(self, count: int, first: Sequence[float]) -> Iterator[list[float]]:
        """The start, normalised (one start)."""
        yield from (normalise(p) for p in super().start_points(count, first))

    def canonical_map(
        self, x: Sequence[float], *, compute: bool = True
    ) -> Callable[[Any], Any] | None:
        """Every reported point normalised."""
        return lambda v: normalise([float(t) for t in v])

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """In turn: random on the sphere, 0.01 rad off a random data point, and random off
        the sphere (radius in [0.5, 2])."""
        r = random.Random(seed)
        pts: list[list[float]] = []
        for i in range(count):
            p = list(sphere_point(r))
            if i % 3 == 1:
                a = self.points[r.randrange(self.n)]
                p = exp_map(a, _tangent(a, 0.01, r.uniform(0.0, 2 * math.pi)))
            elif i % 3 == 2:
                p = [r.uniform(0.5, 2.0) * v for v in p]
            pts.append(p)
        return pts

    # ------------------------------------------------------------- describing

    def data_facts(self) -> dict[str, Any]:
        return {"format": self.format, "weighted": self.weights is not None}

    # ---------------------------------------------------------------- drawing

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        """x's direction in the orthographic view (paths are drawn there)."""
        sx, sy, _ = self.project(x)
        return sx[0], sy[0]

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """The sphere (:class:`SphereScene`), the data grey (near side filled, far side
        hollow) and the estimate."""
        artists = SphereScene.draw(self, ax)
        sx, sy, depth = self.project([v for p in self.points for v in p])
        for front in (True, False):
            ks = [k for k in range(self.n) if (depth[k] >= 0.0) == front]
            artists += ax.plot(
                [sx[k] for k in ks], [sy[k] for k in ks], ls="none", marker="o",
                ms=max(2.0, 7.0 - math.log10(self.n)), mfc="0.45" if front else "none",
                mec="0.25", mew=0.5, alpha=0.8 if front else 0.35, zorder=3 if front else 1.2,
                label=f"data ({self.n} points)" if front and ks else None,
            )  # fmt: skip
        if x is not None:
            artists += self.draw_estimate(ax, x, color="#d62728", label=label)
        return artists

    def draw_estimate(
        self, ax: Any, x: Sequence[float], *, color: Any, label: str | None = None,
        linestyle: Any = "-", marker: str = "o", alpha: float = 1.0,
    ) -> list[Any]:  # fmt: skip
        """The estimate as a large marker (filled on the near side, hollow on the far)."""
        sx, sy, depth = self.project(x)
        front = depth[0] >= 0.0
        return list(ax.plot(
            sx, sy, ls="none", marker=marker, ms=12, mfc=color if front else "none",
            mec="black" if front else color, mew=1.2, alpha=alpha, zorder=6, label=label,
        ))  # fmt: skip


# ------------------------------------------------------------------------------ files


def read_rows(
    where: str, rows: Sequence[Sequence[float]], names: Sequence[str]
) -> tuple[list[list[float]], str]:
    """Unit vectors from a file's (or code's) rows, and which they were (``"latlon"`` or
    ``"xyz"``): latitude, longitude in degrees (two columns, or named lat/lon in any order),
    or x, y, z (three, normalised). A latitude outside [-90, 90], a longitude outside
    [-360, 360] or a zero vector is one input error naming ``where`` and the point."""
    low = [str(v).lower() for v in names]
    lat = next((j for j, v in enumerate(low) if v in LAT_NAMES), None)
    lon = next((j for j, v in enumerate(low) if v in LON_NAMES), None)
    if (
        len(low) not in (2, 3)
        or (lat is None) != (lon is None)
        or (lat is not None and len(low) == 3)
    ):
        raise InputError(f"{where}: give two columns lat,lon (degrees) or three x,y,z; the "
                         f"columns are {', '.join(names)}")  # fmt: skip
    if len(low) == 3:
        for i, p in enumerate(rows, start=1):
            if not any(p):
                raise InputError(
                    f"{where}: point {i} (counting from 1) is the zero vector; "
                    "a point needs a direction"
                )
        return [normalise(p) for p in rows], "xyz"
    j, k = (0, 1) if lat is None or lon is None else (lat, lon)
    for i, p in enumerate(rows, start=1):
        if not -90.0 <= p[j] <= 90.0:
            raise InputError(
                f"{where}: point {i} (counting from 1): latitude {p[j]:g} is outside "
                "[-90, 90] (the columns are lat,lon in degrees)"
            )
        if not -360.0 <= p[k] <= 360.0:
            raise InputError(
                f"{where}: point {i} (counting from 1): longitude {p[k]:g} is outside "
                "[-360, 360] (the columns are lat,lon in degrees)"
            )
    return [from_latlon(p[j], p[k]) for p in rows], "latlon"


# --------------------------------------------------------------------- the reference


def _sin(cr: Any) -> Any:
    """The row norms of an (n, 3) array of cross products of unit vectors; those below
    1e-150, whose squares lose digits or underflow, by hypot (an angle of 1e-200 rad is
    1e-200, not 0)."""
    import numpy as np

    s = np.sqrt(np.einsum("ij,ij->i", cr, cr))
    low = s < 1e-150
    if low.any():
        c = cr[low]
        s[low] = np.hypot(np.hypot(c[:, 0], c[:, 1]), c[:, 2])
    return s


def _f(pts: Any, w: Any, y: Any) -> float:
    """f(y) in numpy, times W (pts an (n, 3) array, w the weights)."""
    import numpy as np

    return float(w @ np.arctan2(_sin(np.cross(y, pts)), pts @ y))


def weiszfeld_sphere(
    pts: Any, w: Any, start: Any, tol: float,
    vertex_test: Callable[[int], tuple[float, float]], max_iter: int = 10_000,
) -> tuple[list[float], dict[str, Any]]:  # fmt: skip
    """Fletcher et al.'s Riemannian Weiszfeld iteration from ``start``, in numpy: ``pts`` an
    (n, 3) array of unit vectors, ``w`` the weights. Each step is halved until f does not
    increase; on a data point that failed its test, Vardi-Zhang's step. The data point
    nearest each iterate is tested once by ``vertex_test(k)``, so a median on a data point
    is found exactly. Points within ``tol`` of x (or of its antipode; at least
    :data:`RESOLUTION`) are at x: one point of their summed weight (Weiszfeld's step,
    shorter than the nearest point's distance, would crawl among them at their spread).
    So is a tight cluster about x, farther than ``tol`` but :data:`CLUSTER_GAP` times
    nearer than the rest, when the rest pull harder than its weight
    (:func:`_tight_cluster`): no median is among it, and the step leaves it at once;
    otherwise its points are tested too, one an iteration, nearest first (a median on a
    point of a pair 7e-13 rad apart, its twin nearer the iterate, was never tested, and
    Vardi-Zhang's steps from the twin, 1e-19 rad, did not move it).

    Stops at a point where the others pull no harder than the weight there, which is then
    the median; or when the distance left, from the rate of the full steps (geometric:
    step·q/(1 − q)), is below ``tol/2`` (radians; the estimate is itself some per cent
    off where q is near 1), q the larger of the last two ratios of steps of one map (the
    same points at x): a Vardi-Zhang step followed by Weiszfeld's, or a step out of a
    cluster, is no geometric series, and a ratio read across them stopped short.

    Overflow-free at any spread: Σ w_i/θ_i is taken as Σ w_i (θ_min/θ_i) / θ_min (numpy's
    warnings are off: each result is checked, and the stop names a non-finite step)."""
    import numpy as np

    with np.errstate(all="ignore"):
        return _weiszfeld_sphere(np, pts, w, start, tol, vertex_test, max_iter)


def _tight_cluster(
    np: Any, theta: Any, s: Any, w: Any, m: Any, units: Any, pull: Any, here: float
) -> tuple[tuple[Any, float, Any] | None, list[int]]:
    """Tight clusters about x: points of ``m`` within ρ of x (with those already at x, of
    weight ``here``), the rest of ``m`` at least :data:`CLUSTER_GAP`·ρ away. Returns (the
    widest whose others pull harder than its weight, as (the mask of the others, the
    cluster's weight, their pull), else None; the points of the widest, nearest first).

    Within ~ρ of x the others' pull R varies by at most 2ρ·Σ w_i/sin θ_i (the slack);
    where |R| exceeds the cluster's weight by more, no median lies among the cluster (the
    subgradient there is at least |R| − w_C − slack), and Vardi-Zhang's step for the
    cluster as one point at x (its summed weight) leaves it. Weiszfeld's own step, shorter
    than the nearest point's distance, would crawl out among the cluster at its spread,
    its rate read short. Where no cluster is left so, the median may be at any of its
    points, not only the nearest: the caller tests them."""
    if not m.any():
        return None, []
    cap = float(theta[m].max()) / CLUSTER_GAP
    inner = m & (theta <= cap)
    if not inner.any():
        return None, []
    order = np.flatnonzero(inner)[np.argsort(theta[inner])]
    t = [*theta[order].tolist(), float(theta[m & ~inner].min())]
    widest: list[int] = []
    for j in range(len(order) - 1, -1, -1):  # the widest cluster first
        if t[j + 1] < CLUSTER_GAP * t[j]:
            continue
        members = order[: j + 1]
        widest = widest or [int(i) for i in members]
        others = m.copy()
        others[members] = False
        weight = here + float(w[members].sum())
        r = pull - w[members] @ units[members]
        slack = 2.0 * t[j] * float((w[others] / s[others]).sum())
        if float(np.linalg.norm(r)) > weight * (1.0 + VERTEX_RTOL) + slack:
            return (others, weight, r), widest
    return None, widest


def _weiszfeld_sphere(
    np: Any, pts: Any, w: Any, start: Any, tol: float,
    vertex_test: Callable[[int], tuple[float, float]], max_iter: int,
) -> tuple[list[float], dict[str, Any]]:  # fmt: skip
    x = np.asarray(start, dtype=float) / math.hypot(*(float(v) for v in start))
    tested: set[int] = set()
    prev, rate, done, stopped, iterations = math.inf, math.inf, False, "the iteration limit", 0
    kind: tuple[float, int] = (0.0, -1)  # the weight at x and the count of the others
    for iterations in range(1, max_iter + 1):  # noqa: B007 (reported)
        cr = np.cross(x, pts)
        s = _sin(cr)
        theta = np.arctan2(s, pts @ x)
        k = int(np.argmin(theta))
        if k not in tested:
            tested.add(k)
            r, wk = vertex_test(k)
            if r <= wk * (1.0 + VERTEX_RTOL):
                x, done, stopped = pts[k].copy(), True, f"data point {k}: the vertex test passed"
                break
        # points within tol of x are at x (a step, ~θ_min, would crawl between them)
        m = (s > RESOLUTION) & (np.abs(theta) > tol) & (np.abs(math.pi - theta) > tol)
        here = float(w[~m & (pts @ x > 0)].sum())
        units = np.cross(cr, x) / np.where(m, s, 1.0)[:, None]
        pull = w[m] @ units[m]
        cluster, members = _tight_cluster(np, theta, s, w, m, units, pull, here)
        if cluster is not None:  # the others pull it out of a tight cluster: one point
            m, here, pull = cluster
        else:  # the median may be at a point of it: one more tested (nearest first)
            k = next((i for i in members if i not in tested), -1)
            if k >= 0:
                tested.add(k)
                r, wk = vertex_test(k)
                if r <= wk * (1.0 + VERTEX_RTOL):
                    x, done = pts[k].copy(), True
                    stopped = f"data point {k}: the vertex test passed"
                    break
        if (here, int(m.sum())) != kind:  # another map: its steps are no series with these
            prev, rate, kind = math.inf, math.inf, (here, int(m.sum()))
        size = float(np.linalg.norm(pull))
        if size <= here:  # at a point the others pull no harder than its weight: the median
            done, stopped = True, "at a point where the pull of the others is at most its weight"
            break
        low = float(theta[m].min())  # > 0: s > RESOLUTION
        v = pull * (low / float((w[m] * (low / theta[m])).sum()))
        if here > 0.0:  # on a data point that failed its test: the Vardi-Zhang step
            v = v * (1.0 - here / size)
        if not np.isfinite(v).all():
            stopped = "a step that is not finite"
            break
        # the rate is read from the full step's length: halvings near the optimum (where f
        # differs from f0 only by rounding) would fake a fast rate and stop early
        full = float(np.linalg.norm(v))
        f0 = float(w @ theta)
        most = f0 * (1.0 + 64 * sys.float_info.epsilon)  # f0, give or take its rounding
        for _ in range(60):  # halved while f increases beyond rounding
            y = np.asarray(exp_map(x.tolist(), v.tolist()))
            if _f(pts, w, y) <= most:
                break
            v = v / 2.0
        x = y
        if full == 0.0:
            done, stopped = True, "the distance left (from the rate) below the tolerance"
            break
        q = full / prev if prev < math.inf else math.inf
        # two ratios in a row, the larger read (one can be a step's start, not a rate), to
        # half the tolerance: the geometric estimate is itself some per cent off
        if max(q, rate) < 1.0 and full * max(q, rate) / (1.0 - max(q, rate)) <= tol / 2.0:
            done, stopped = True, "the distance left (from the rate) below the tolerance"
            break
        prev, rate = full, q
    return [float(v) for v in x], {
        "iterations": iterations, "converged": done, "stopped": stopped, "tolerance": tol,
        "start": "the best of the mean direction and evenly spaced data points",
    }  # fmt: skip
