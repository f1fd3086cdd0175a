"""The Fermat–Torricelli point of a triangle: the least sum of distances to its vertices.

Objective, for the vertices A, B, C (points a_1, a_2, a_3 in R^d, d >= 1):

    L(p) = ||a_1 - p|| + ||a_2 - p|| + ||a_3 - p||        (the SUM, not the mean)

Gradient, away from the vertices:

    ∇L(p) = Σ_i (p - a_i) / ||p - a_i||

a sum of three unit vectors, so ∇L = 0 exactly where the three unit vectors
from the vertices to p are at 120° to each other. At a vertex the term of that
vertex is not differentiable; we take its minimal-norm subgradient, 0 (as
geograd's ``norm`` and the geometric median do), so the closed form and
autograd agree everywhere. It is the geometric median of three points, and the
problem delegates the median's machinery (the exact vertex test, Weiszfeld)
to :class:`~geograd.problems.median.GeometricMedian`, times 3.

Reference: the exact construction
    With side lengths a = |BC|, b = |CA|, c = |AB| and angles A, B, C
    (computed with Kahan's accurate formula 2·atan2(|u|v| - v|u||, |u|v| + v|u||)):

    - every angle under 120°: the interior point from which each side subtends
      120°, in barycentric coordinates
      a·csc(A + π/3) : b·csc(B + π/3) : c·csc(C + π/3);
    - an angle of 120° or more: that vertex (the two formulas meet at 120°,
      where the vertex's weight is infinite);
    - two or three vertices coinciding: the repeated vertex.

    Weiszfeld's algorithm (the median's, Vardi–Zhang step) is run as an
    independent check; ``details["weiszfeld_distance"]`` is how far it lands.
    Anchor: (0,0), (1,0), (0,1) give x = y = (3 - √3)/6 and L = √(2 + √3).

Scale
    :class:`FermatPoint` keeps the vertices as given and computes on a unit copy:
    the triangle centred and divided by the power of two nearest its extent (see
    :mod:`geograd.problems.scaling`); lengths and the loss (a sum of distances) map
    back times that power of two, angles and the gradient unchanged. A triangle whose
    least sum of distances exceeds the largest float is refused as an input error.

Certificate
    Near a vertex a_k (within 1e-6 of the triangle's extent) the exact test: a_k
    is optimal iff ||R_k|| <= 1 with R_k the sum of the unit vectors from a_k to
    the other two (that is, the angle at a_k is >= 120°); ``value`` =
    max(0, ||R_k|| - 1), the distance from 0 to ∂L(a_k). Elsewhere the gradient
    norm, and ``spoke_angles_deg``: the angles between the spokes from p to the
    vertices (all 120 at the optimum). L is convex, so ``gap_bound`` =
    value · max_i ||p - a_i|| bounds L(p) - min L.

Data
    ``seed`` draws the vertices uniform in the unit square exactly as
    ``geograd solve median --n 3 --seed S`` does (all x, then all y), so the two
    problems agree on the same seed. ``case`` picks which triangles to keep:
    ``random`` takes the first draw; ``interior`` draws again until every angle is
    under 120° (the Fermat point is inside); ``vertex`` until one angle is 120° or
    more (the Fermat point is that vertex). Or ``points=FILE`` loads exactly three
    points (see :mod:`geograd.problems.data`, any dimension; no weight column).

Solver defaults (``solver_defaults()``)
    ``lbfgs`` — L-BFGS with a strong-Wolfe line search, one iteration a step (its
    ``minimize_defaults``) — with ``max_steps = 1000``, ``gtol = 3e-9`` and
    ``ftol = 4e-16·min(1, length)``. Chosen by measurement (issue 13): of our
    methods it reaches the exact point first on the default triangle and matched it
    on every triangle we tried. Seed 5, this machine, median of 3 interleaved
    rounds (``geograd compare fermat --optimizers gd,lbfgs,newton,trust-ncg`` gives
    the same steps):

    ==========  =====  =====  ========  ===========  ==========================
    method      steps  evals  time      distance     objective within 1e-9 at
    ==========  =====  =====  ========  ===========  ==========================
    lbfgs       6      9      0.94 ms   3.5e-11      step 4, 0.68 ms
    trust-ncg   7      9      1.9 ms    1.3e-11      step 6, 1.6 ms
    gd          16     28     2.1 ms    5.6e-10      step 8, 1.0 ms
    newton      11     13     2.9 ms    2.6e-11      step 10, 2.5 ms
    momentum    255    256    21 ms     8.4e-09      step 125
    adam        238    239    21 ms     5.4e-08      step 100
    ==========  =====  =====  ========  ===========  ==========================

    Over seeds 0-9 of every case (30 triangles) lbfgs matched the exact point on
    all (worst 1.1e-9 of the extent, median 9 steps; gd median 20.5), the unit
    triangle in 4 steps (1.7e-13 away; gd 11 steps, 6e-9). Why it stays safe at a
    kink: where the minimum is a vertex (an angle of 120° or more) the gradient
    there is a subgradient and the line search stops on it, x within about 3e-10
    of the triangle's size of the vertex (gd lands on it exactly; both pass the
    exact vertex test). The triangle with an angle of exactly 120° (zero curvature
    along one side) is the slow case: lbfgs stops on ftol after 15 steps 1.8e-7
    from the vertex, where gd runs out of its 1000 steps 1e-4 away.

    L-BFGS needs no step size: its first step is scaled by the gradient and the
    later ones by the curvature pairs, so nothing depends on the units of the
    data. The tolerances: the gradient is a sum of three unit vectors,
    unit-free; ``gtol = 3e-9`` is about what float64 resolves, and ``ftol`` stops
    a run whose loss is flat to a few units in its last place.

    ``gd`` — steepest descent with Armijo backtracking, the default before
    L-BFGS — gets first trial step ``lr`` = m/3, where m =
    :attr:`FermatPoint.length`/3 is the mean distance of the vertices from the
    centroid, ``c1 = 0.5`` (on a quadratic it accepts no step longer than the
    exact line minimum, so the step doubling cannot settle on overlong zigzagging
    steps) and ``max_steps = 1000``: the median's settings for the same three
    points (``median --n 3``), rescaled for a sum of three distances instead of
    their mean (three times the gradient, so a third of the trial step gives the
    same moves).

    The other optimizers get the median's learning rates in units of m
    (``LR_IN_LENGTHS``; a third of it for sgd, momentum and nag, whose steps are
    lr times the three-fold gradient) and its exponential schedule lowering lr
    by 1e-6 over ``max_steps = 2000``; on the default triangle each reaches the
    exact point within 5e-8 (on vertex cases they run out of steps 1e-8 to 1e-9
    short, where gd lands exactly).
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

from .base import Option, Reference, bounding_box, check_points_near
from .data import as_columns
from .lifecycle import Data, DataShape, PointProblem
from .median import LR_IN_LENGTHS, VERTEX_RTOL, GeometricMedianCore, generate, weiszfeld
from .scaling import Normalised, Quantities

CASES = ("random", "interior", "vertex")
#: How many triangles ``case=interior|vertex`` may draw before giving up (never reached:
#: about 1 in 4 random triangles has an angle of 120° or more).
MAX_DRAWS = 10_000
TWO_THIRDS_PI = 2.0 * math.pi / 3.0
#: Optimizers whose step is lr times the gradient (the others normalise it away).
PLAIN_STEP = ("sgd", "momentum", "nag")
#: The default solve's optimizer (measured fastest to the exact point; see the module docstring).
DEFAULT_OPTIMIZER = "lbfgs"


class FermatPointCore(PointProblem):
    """The Fermat point's mathematics over the vertices as they are given (see the module
    docstring); :class:`FermatPoint`, the public class, runs it on a copy of the
    triangle centred and scaled to unit size (see :mod:`geograd.problems.scaling`)."""

    name = "fermat"
    description = "Fermat-Torricelli point: minimise the sum of distances to a triangle's vertices"
    options = (
        Option(
            "seed", int, 5, "random seed of the generated triangle", metavar="SEED", generator=True
        ),
        Option(
            "case",
            str,
            "random",
            "generated triangle: random, interior (all angles < 120°) or vertex (one >= 120°)",
            choices=CASES,
            generator=True,
        ),
        Option(
            "points",
            Path,
            None,
            "load the triangle's 3 vertices from a CSV/TSV/text or .npy file",
            metavar="FILE",
        ),
    )

    data_shape = DataShape(
        what="triangle file", min_points=3, count=3, count_words="a triangle has",
        count_hint=" (for more points use the median problem)", keep_points=True,
    )  # fmt: skip
    data_items = "vertices"
    reference_modules = ("numpy",)
    # Three points: off a line the sum of distances is strictly convex; on one, the
    # middle point (or a repeated vertex, of weight 2) is the only minimiser.
    optimum_unique = True
    optimum_note = "the Fermat point of three points is unique"

    # ------------------------------------------------------------------ data

    def generate(self, rng: random.Random) -> Data:
        return Data(as_columns(draw_triangle(rng, self.settings["case"])))

    def set_data(self, data: Data) -> None:
        """Install the three vertices."""
        self.install(data)
        # The median of the same points: its distances, vertex test and Weiszfeld are reused.
        self.median = GeometricMedianCore.from_points(self.points, backend=self.backend_request)
        self._length: float | None = None

    def install(self, data: Data) -> None:
        """Install the vertices as columns and as rows (``points``)."""
        super().install(data)
        self.points = list(zip(*self.columns))

    @classmethod
    def from_points(
        cls, points: Sequence[Sequence[float]], x0: Sequence[float] | None = None
    ) -> FermatPointCore:
        """The Fermat point problem of the given three vertices, e.g. for scripts and tests."""
        return cls.given(points, x0=x0)

    @property
    def length(self) -> float:
        """L at the centroid: the sum of the vertices' distances from it (1 if they coincide)."""
        if self._length is None:
            value = self.objective(self.default_x0())
            self._length = value if value > 0.0 else 1.0
        return self._length

    def default_x0(self) -> list[float]:
        """The centroid of the triangle."""
        return [math.fsum(c) / 3.0 for c in self.columns]

    def vertex_label(self, k: int) -> str:
        """Vertex ``k`` (0-based) as the plots label it: "vertex B (index 1)"."""
        return f"vertex {'ABC'[k]} (index {k})"

    def sides(self) -> list[float]:
        """[a, b, c]: the side opposite each vertex (a = |BC|, ...)."""
        return triangle_sides(self.points)

    def angles(self) -> list[float]:
        """The interior angles at the vertices, in radians (NaN at a repeated vertex)."""
        return triangle_angles(self.points)

    # ------------------------------------------------------------------ maths

    def loss(self, x: Tensor) -> Tensor:
        """||a_1 - x|| + ||a_2 - x|| + ||a_3 - x|| through the engine (the median's distances)."""
        return F.sum(self.median.distances(x))

    def gradient(self, x: Sequence[float]) -> list[float]:
        """Σ (x - a_i)/||x - a_i||, with 0 for a vertex equal to x."""
        p = [float(v) for v in x]
        terms: list[list[float]] = [[] for _ in range(self.d)]
        for a in self.points:
            r = math.dist(a, p)
            if r == 0.0:
                continue
            for j in range(self.d):
                terms[j].append((p[j] - a[j]) / r)
        return [math.fsum(t) for t in terms]

    def spoke_angles(self, x: Sequence[float]) -> list[float] | None:
        """Angles (radians) at x between the spokes to vertices (2,3), (3,1), (1,2); None
        when x is on a vertex."""
        p = tuple(float(v) for v in x)
        if any(math.dist(a, p) == 0.0 for a in self.points):
            return None
        a = self.points
        return [angle_between(p, a[(i + 1) % 3], a[(i + 2) % 3]) for i in range(3)]

    def certificate(self, x: Sequence[float], atol: float | None = None) -> dict[str, Any]:
        """The optimality certificate at ``x`` (see the module docstring).

        Within ``atol`` (default 1e-6 of the extent) of a vertex: the exact vertex
        test (kind ``vertex``, ``optimal`` True or False); elsewhere the gradient norm
        (kind ``gradient_norm``, ``optimal`` None) and the spoke angles in degrees.
        """
        p = self.check_point(x, "x")
        tol = 1e-6 * self.scale if atol is None else float(atol)
        dists = [math.dist(a, p) for a in self.points]
        k = min(range(3), key=dists.__getitem__)
        if dists[k] <= tol:
            pull, weight = self.median.vertex_test(k)
            value = max(0.0, pull - weight)
            ak = list(self.points[k])
            reach_k = max(math.dist(a, ak) for a in self.points)
            optimal = pull <= weight * (1.0 + VERTEX_RTOL)
            label = self.vertex_label(k)
            verdict = "optimal" if optimal else f"not optimal (pull {pull:.3g} > {weight:.3g})"
            return {
                "value": value,
                "kind": "vertex",
                "optimal": optimal,
                "index": k,
                "label": label,
                "summary": f"exact vertex test at {label}: {verdict}",
                "vertex": k,
                "point": ak,
                "distance_to_vertex": dists[k],
                "pull": pull,
                "vertex_weight": weight,
                "gap_bound": value * reach_k + weight * dists[k],
            }
        g = self.gradient(p)
        value = math.hypot(*g)
        spokes = self.spoke_angles(p)
        summary = f"gradient norm {value:.2g}"
        if spokes is not None:
            summary += " (spokes at " + ", ".join(f"{math.degrees(t):.1f}°" for t in spokes) + ")"
        return {
            "value": value,
            "kind": "gradient_norm",
            "optimal": None,
            "summary": summary,
            "spoke_angles_deg": None if spokes is None else [math.degrees(t) for t in spokes],
            "nearest_vertex_distance": dists[k],
            "gap_bound": value * max(dists),
        }

    # ------------------------------------------------------------- reference

    def compute_reference(self) -> Reference:
        x, details = torricelli(self.points)
        check, info = weiszfeld(self.columns, x0=self.default_x0())
        details["weiszfeld_distance"] = math.dist(check, x)
        details["weiszfeld_iterations"] = info["iterations"]
        details["certificate"] = self.certificate(x)
        method = "torricelli-construction" if details["case"] == "interior" else "vertex-test"
        return Reference(x=x, loss=self.objective(x), method=method, details=details)

    # ---------------------------------------------------------------- solving

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """Settings for :func:`geograd.minimize`; see the module docstring for the reasons.

        By default L-BFGS with its minimize settings (unit-free by itself); the other
        optimizers get the median's settings for the same points with every step
        divided by 3 (the sum of three distances has three times the gradient of their
        mean), so they do not depend on the units of the data.
        """
        from geograd.optim.lbfgs import LBFGS
        from geograd.optim.schedules import Exponential

        name = (optimizer or DEFAULT_OPTIMIZER).strip().lower()
        # The median's length: the mean distance of the vertices from the centroid.
        mean = self.length / 3.0
        loop: dict[str, Any] = {"gtol": 3e-9, "ftol": 4e-16 * min(1.0, self.length)}
        if name == "gd":
            steps = max_steps or 1000
            return {"optimizer": "gd", "lr": mean / 3.0, "c1": 0.5, "max_steps": steps, **loop}
        if name == "lbfgs":
            # Unit-free by itself: its first step is scaled by the gradient, the later
            # ones by the curvature pairs. Its minimize settings (strong Wolfe, one
            # iteration a step), so that minimize(p.loss, p.x0, **these) is the solve.
            return {"optimizer": "lbfgs", **LBFGS.minimize_defaults,
                    "max_steps": max_steps or 1000, **loop}  # fmt: skip
        steps = max_steps or 2000
        # Methods whose step is lr times the gradient take a third of the median's lr;
        # the adaptive ones (adam, rmsprop, adagrad, ...) are blind to the gradient's scale.
        lr = LR_IN_LENGTHS.get(name, 0.01) * mean
        out: dict[str, Any] = {
            "optimizer": name,
            "lr": lr / 3.0 if name in PLAIN_STEP else lr,
            "max_steps": steps,
            # lr falls by 1e-6 over the run, so the iterates settle, kinks included.
            "schedule": Exponential(1e-6 ** (1.0 / steps)),
            **loop,
        }
        if name == "adamw":
            out["weight_decay"] = 0.0  # decay towards the origin would bias the point
        return out

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Half random points around the triangle, half 1% of its extent off a vertex
        (near the kinks, yet far enough that central differences with the CLI's absolute
        step 1e-6 stay accurate on a unit-sized triangle)."""
        return check_points_near(self.points, self.scale, count, seed, 1e-2, in_turn=True)

    # ------------------------------------------------------------- describing

    # ---------------------------------------------------------------- drawing

    def _xy(self, p: Sequence[float]) -> tuple[float, float]:
        return (float(p[0]), float(p[1]) if len(p) > 1 else 0.0)

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        """The first two coordinates (3-D triangles are drawn projected; 1-D on y = 0)."""
        return self._xy(x)

    def apexes(self) -> list[tuple[float, float]]:
        """The apexes of the equilateral triangles erected outwards on the sides: Torricelli's
        construction draws a line from each apex to the opposite vertex, and the three lines
        meet at the Fermat point. Only for a 2-D triangle whose angles are all under 120°
        (otherwise the lines do not meet at the minimiser); [] otherwise."""
        if self.d != 2 or torricelli(self.points)[1]["case"] != "interior":
            return []
        p = [self._xy(v) for v in self.points]
        cross = (p[1][0] - p[0][0]) * (p[2][1] - p[0][1]) - (p[1][1] - p[0][1]) * (
            p[2][0] - p[0][0]
        )
        if cross == 0.0:
            return []
        # Outwards is clockwise for a counter-clockwise triangle.
        turn = -1.0 if cross > 0 else 1.0
        c, s = 0.5, turn * math.sqrt(3.0) / 2.0
        out = []
        for i in range(3):
            (x1, y1), (x2, y2) = p[(i + 1) % 3], p[(i + 2) % 3]
            dx, dy = x2 - x1, y2 - y1
            out.append((x1 + c * dx - s * dy, y1 + s * dx + c * dy))
        return out

    def plot_bounds(
        self, extra: Sequence[Sequence[float]] = (), margin: float = 0.05
    ) -> tuple[float, float, float, float]:
        pts = [self._xy(p) for p in self.points] + [self._xy(p) for p in extra]
        # Room for the vertex labels (angles) drawn just outside the triangle.
        return bounding_box([p[0] for p in pts], [p[1] for p in pts], margin + 0.08)

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """The triangle (its vertices labelled A, B, C with their angles), Torricelli's
        construction (faint, dotted: the outer equilateral triangles and the lines from
        their apexes to the opposite vertices) and the estimate (a star)."""
        p = [self._xy(v) for v in self.points]
        artists: list[Any] = []
        apexes = self.apexes()
        for i, (ex, ey) in enumerate(apexes):
            (x1, y1), (x2, y2) = p[(i + 1) % 3], p[(i + 2) % 3]
            artists += ax.plot(
                [x1, ex, x2], [y1, ey, y2], ls=":", lw=0.8, color="0.6", zorder=1,
                label="Torricelli's construction" if i == 0 else None,
            )  # fmt: skip
            artists += ax.plot([ex, p[i][0]], [ey, p[i][1]], ls=":", lw=0.8, color="0.6", zorder=1)
        proj = "" if self.d == 2 else f" (first 2 of {self.d} coordinates)"
        artists += ax.plot(
            [q[0] for q in (*p, p[0])], [q[1] for q in (*p, p[0])], "-", color="0.3", lw=1.4,
            marker="o", ms=7, mfc="0.45", mec="black", label=f"triangle{proj}", zorder=2,
        )  # fmt: skip
        cx, cy = (sum(q[0] for q in p) / 3.0, sum(q[1] for q in p) / 3.0)
        for i, (angle, name) in enumerate(zip(self.angles(), "ABC")):
            dx, dy = p[i][0] - cx, p[i][1] - cy
            nd = math.hypot(dx, dy) or 1.0
            off = 0.06 * self.scale
            text = name if math.isnan(angle) else f"{name} {math.degrees(angle):.1f}°"
            where = (p[i][0] + off * dx / nd, p[i][1] + off * dy / nd)
            artists.append(
                ax.annotate(text, where, ha="center", va="center", fontsize=9, color="0.2")
            )
        ax.set_xlabel(self.names[0])
        ax.set_ylabel(self.names[1] if self.d >= 2 else "")
        artists += super().draw(ax, x, label=label)
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
        """The three spokes from the estimate to the vertices (at 120° at the optimum)."""
        px, py = self._xy(x)
        artists: list[Any] = []
        for i, v in enumerate(self.points):
            vx, vy = self._xy(v)
            artists += ax.plot(
                [px, vx], [py, vy], color=color, ls=linestyle, lw=1.0, alpha=0.7 * alpha,
                label=label if i == 0 else None, zorder=3,
            )  # fmt: skip
        return artists


class FermatPoint(Normalised, FermatPointCore):
    """The Fermat–Torricelli point of a triangle (see the module docstring).

    The vertices stay as given (``points``, ``columns``); the mathematics run on
    ``unit``, a :class:`FermatPointCore` over the triangle centred and divided by the
    power of two nearest its extent (see :mod:`geograd.problems.scaling`), and every
    method answers in user units: the loss (a sum of distances) is s times the unit
    loss, the gradient (a sum of unit vectors) is the unit gradient, angles are angles.
    """

    objective_words = "sum of distances to the vertices"
    start_on_user_data = True  # the centroid, correctly rounded
    quantities = Quantities(
        certificate={
            "distance_to_vertex": "length", "nearest_vertex_distance": "length",
            "gap_bound": "length",
        },
        reference={"weiszfeld_distance": "length"},
    )  # fmt: skip

    @property
    def length(self) -> float:
        """L at the centroid: the sum of the vertices' distances from it (1 if they coincide,
        in the unit copy's units)."""
        return self.length_to_user(self.unit.length)

    def sides(self) -> list[float]:
        """[a, b, c]: the side opposite each vertex (a = |BC|, ...)."""
        return [self.length_to_user(v) for v in self.unit.sides()]

    def angles(self) -> list[float]:
        """The interior angles at the vertices, in radians (NaN at a repeated vertex)."""
        out: list[float] = self.unit.angles()
        return out

    def spoke_angles(self, x: Sequence[float]) -> list[float] | None:
        """Angles (radians) at x between the spokes to vertices (2,3), (3,1), (1,2); None
        when x is on a vertex."""
        out: list[float] | None = self.unit.spoke_angles(self.to_unit(x))
        return out

    def apexes(self) -> list[tuple[float, float]]:
        """The apexes of Torricelli's construction (see the core class), in user units."""
        return [(a, b) for a, b in (self.from_unit(q) for q in self.unit.apexes())]

    def certificate(self, x: Sequence[float], atol: float | None = None) -> dict[str, Any]:
        """The optimality certificate at ``x`` (see the module docstring), computed on the
        unit copy and reported in user units (``atol`` too is in user units)."""
        tol = None if atol is None else self.frame.length_to_unit(atol)
        return self.certificate_to_user(self.unit.certificate(self.to_unit(x), tol))


# --------------------------------------------------------------------------- geometry


def angle_between(p: Sequence[float], q: Sequence[float], r: Sequence[float]) -> float:
    """The angle at p between the rays to q and r (radians, in [0, π]); NaN if q or r is p.

    Kahan's formula 2·atan2(||u|v| - v|u|||, ||u|v| + v|u|||), u = q - p, v = r - p,
    accurate for every angle (acos of a dot product loses digits near 0 and π).
    """
    u = [b - a for a, b in zip(p, q)]
    v = [b - a for a, b in zip(p, r)]
    nu, nv = math.hypot(*u), math.hypot(*v)
    if nu == 0.0 or nv == 0.0:
        return math.nan
    diff = math.hypot(*(a * nv - b * nu for a, b in zip(u, v)))
    total = math.hypot(*(a * nv + b * nu for a, b in zip(u, v)))
    return 2.0 * math.atan2(diff, total)


def triangle_sides(p: Sequence[Sequence[float]]) -> list[float]:
    """[a, b, c]: the side opposite each vertex of the triangle p (a = |BC|, ...)."""
    return [math.dist(p[1], p[2]), math.dist(p[2], p[0]), math.dist(p[0], p[1])]


def triangle_angles(p: Sequence[Sequence[float]]) -> list[float]:
    """The interior angles at the vertices of the triangle p, in radians (NaN at a
    repeated vertex)."""
    return [angle_between(p[i], p[(i + 1) % 3], p[(i + 2) % 3]) for i in range(3)]


def torricelli(points: Sequence[Sequence[float]]) -> tuple[list[float], dict[str, Any]]:
    """The Fermat point of a triangle by the exact construction (see the module docstring).

    Returns (x, details) with ``case`` ``interior`` (every angle < 120°; the barycentric
    formula), ``vertex`` (``vertex`` the index of the angle >= 120°) or ``repeated``
    (two vertices coincide), and the angles in degrees.
    """
    pts = [[float(v) for v in p] for p in points]
    a, angles = triangle_sides(pts), triangle_angles(pts)
    if min(a) == 0.0:
        # Two vertices coincide: that point carries weight 2 >= 1 and is optimal.
        k = next(i for i in range(3) if a[(i + 1) % 3] == 0.0 or a[(i + 2) % 3] == 0.0)
        return list(pts[k]), {"case": "repeated", "vertex": k, "angles_deg": None}
    degrees = [math.degrees(t) for t in angles]
    k = max(range(3), key=angles.__getitem__)
    if angles[k] >= TWO_THIRDS_PI:
        return list(pts[k]), {"case": "vertex", "vertex": k, "angles_deg": degrees}
    w = [a[i] / math.sin(angles[i] + math.pi / 3.0) for i in range(3)]
    total = math.fsum(w)
    x = [math.fsum(w[i] * pts[i][j] for i in range(3)) / total for j in range(len(pts[0]))]
    return x, {
        "case": "interior",
        "barycentric": [wi / total for wi in w],
        "angles_deg": degrees,
    }


def draw_triangle(r: random.Random, case: str) -> list[list[float]]:
    """Three vertices uniform in the unit square (as ``median --n 3``), redrawn until
    the triangle is of ``case`` (random: the first draw)."""
    for _ in range(MAX_DRAWS):
        cols = generate(r, 3, 2, "uniform")
        rows = [[cols[0][i], cols[1][i]] for i in range(3)]
        if case == "random":
            return rows
        if (max(triangle_angles(rows)) >= TWO_THIRDS_PI) == (case == "vertex"):
            return rows
    raise InputError(f"fermat: no {case} triangle in {MAX_DRAWS} draws")  # pragma: no cover
