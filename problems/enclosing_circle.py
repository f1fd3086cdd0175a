"""The minimum enclosing circle: the smallest circle that contains every point, and in
any dimension (``dim``, 1 to 20) the minimum enclosing ball.

Objective, for points p_1..p_n in R^d (the plane by default), over the centre
x = c = (c_1, ..., c_d) (the whole parameter, in any d):

    f(c) = max_i ||p_i - c||        (the radius of the smallest circle about c holding all)

f is convex but not smooth: its (sub)gradient is the unit vector (c - p_k)/||c - p_k|| of
the farthest point p_k, and where several points tie for farthest it is any convex
combination of theirs; the closed form (and geograd's ``max``, which shares a tie
evenly) takes their mean. The minimum is where 0 is such a combination: the centre
lies in the convex hull of the farthest points, 2 of them on a diameter or 3 around
an acute (or right) triangle (in R^d, 2 to d + 1 of them).

Smoothing. Gradient descent on f itself zigzags between the farthest points and
stalls. We minimise instead the log-sum-exp smoothing at a temperature t,

    f_t(c) = (1/t) log Σ_i exp(t ||p_i - c||)
    ∇f_t(c) = Σ_i w_i (c - p_i)/||c - p_i||,    w = softmax(t d),

a smooth convex function with f ≤ f_t ≤ f + log(n)/t, computed with the max-shift
trick (geograd's ``logsumexp`` subtracts the largest t·d_i before exponentiating),
so no exp ever overflows, however large t·d gets. Its minimiser tends to f's as
t → ∞, but the larger t, the narrower the valley around the minimum (curvature ~t
across it, ~1/R along it when two points are farthest): a single run at a high
temperature from a cold start would crawl. So the temperature rises on a
schedule, a continuation: τ = t·s (s = f(x0), the initial radius, makes τ
dimensionless) takes the values 1, 10, 100, ... up to ``temperature`` (1e9 by
default), and each stage is one :func:`geograd.minimize` run on f_t, t = τ/s,
started where the previous stage ended.

Why stages (the :meth:`EnclosingCircle.stages` hook of the base class's solve
template, run by :mod:`geograd.problems.continuation`) and not a schedule inside one
run. A temperature that rose within one minimize run would change the function under the optimizer's
feet: a line search compares losses of different functions, momentum carries
steps meant for a wider valley, and the stopping rules (gtol, ftol) mean nothing
while the target moves. Stages keep each run an ordinary minimisation of one
smooth function, with its own step size and tolerance, and the whole continuation
is still one ``solve()`` call (and so one ``geograd solve enclosing-circle``), whose
result is one :class:`~geograd.solve.Result` with the stages' histories joined.
Ctrl-C at any moment (in a stage, between stages, as a stage evaluates its start)
keeps the run: :meth:`Problem.solve` handles it around the hook.
:meth:`EnclosingCircle.loss` is the true, non-smooth objective f (what is reported,
checked and compared); :meth:`EnclosingCircle.smoothed_loss` is the surrogate.

The convex hull. For any centre the farthest point is a vertex of the data's convex
hull (a convex function's maximum over a polygon is at a vertex), so f — and the
minimum enclosing circle — depend only on the hull's vertices. With ``hull=True``
(the default) the loss runs over them alone, computed once (Andrew's monotone
chain): the same objective at every point, and each evaluation costs O(h) instead
of O(n) (h is about 30 for 1000 uniform points). ``hull=False`` uses every point.
In 1-D the "hull" is the two end points; in 3-D and beyond no hull is computed (it
would cost more than it saves) and the loss runs over the distinct points.

Data
    Generated from ``random.Random(seed)`` (seed 5 by default): ``uniform`` in the
    unit square and ``gaussian`` (each coordinate normal(0.5, 0.15)), both exactly
    as the median's (all n x-coordinates, then all y), and ``disc``: uniform in the
    disc of radius 0.5 about (0.5, 0.5), point by point an angle r.uniform(0, 2π)
    then a radius 0.5·sqrt(r.random()) (a case where many points are nearly
    farthest). Or ``points=FILE`` loads (x, y) points (see
    :mod:`geograd.problems.data`; no weights); n, distribution and seed describe
    generated points, so giving one of them with a file is an input error. One
    point, repeated points and collinear points are all fine. With ``dim`` = d the
    same in R^d: uniform in the unit cube, gaussian per coordinate (the median's
    again), ``disc`` uniform in the ball of radius 0.5 about (0.5, ..., 0.5) (a
    direction from d normal draws, then a radius 0.5·U^(1/d); in the plane the
    draws above, unchanged); a file must have d columns (``dim`` is not replaced by
    it: a 3-column file with the default dim 2 is an error that suggests --dim 3).

Reference
    Welzl's algorithm (Welzl 1991) in Gärtner's move-to-front form with pivoting
    (Gärtner, "Fast and robust smallest enclosing balls", ESA 1999), in any d
    (:func:`miniball`): the points shuffled (seeded, so repeatable) in a
    move-to-front list; the ball of the points so far with a set B of points fixed
    on its boundary; a point outside is pushed onto B and the ball rebuilt over the
    points before it, then moved to the front. B grows by one point a level, so the
    recursion is at most d + 1 deep at any n. The circumsphere of B is updated
    incrementally (a Gram–Schmidt step on p - q_0 per push, O(d·|B|)); a push whose
    new point is affinely dependent on B to rounding (‖(I - P)(p - q_0)‖² below
    1e-32 r²) is refused, as Gärtner does, which is what degenerate data (collinear
    points in 3-D, cospherical ones: the corners of a cube) need. The outer pivoting
    loop takes the farthest point outside as the next fixed point and stops when no
    point is outside or the radius stops growing. Expected linear time in n for
    fixed d (2000 points: 2 ms in the plane, 10 ms in R^5, about 1 s in R^20).

    The floats find the ball; exactness then comes from its support. Among the
    points within 1e-10 (relative) of the float radius, non-negative least squares
    (Lawson–Hanson, :func:`nnls_weights`) picks affinely independent points whose
    convex hull holds the centre (the move-to-front's last pushed set need not:
    three adjacent corners of a regular pentagon have the right circle but the
    centre outside their triangle). Their circumcentre and barycentric weights are
    then solved in rational arithmetic (:class:`fractions.Fraction`, exact on the
    floats as given), a point of non-positive weight dropped and the rest solved
    again, and the centre rounded once. The reference radius is the largest
    distance from that centre, recomputed. The details are the certificate of
    optimality: ``support`` (indices) and ``support_points``, their
    ``support_distances`` (equal to the radius to rounding: ``on_sphere``), their
    ``weights`` (>= 0, summing to 1, reproducing the centre to ``residual``:
    ``centre_in_hull``, the optimality condition of the minimum enclosing ball) and
    ``all_inside`` (every point within 1e-12 of the radius). The reference runs on
    the centred unit copy (below), so that its floats lose nothing to a far origin.

Scale
    :class:`EnclosingCircle` keeps the points as given and computes on a unit copy:
    the points centred and divided by the power of two nearest their extent (see
    :mod:`geograd.problems.scaling`). The temperatures τ are dimensionless and the
    same in both; the centre, the radius and :attr:`EnclosingCircle.scale` map back
    as lengths. So points at 1e-320 or near 1e308 are solved as points at 1 are,
    and data far from the origin compared with their spread (survey data in UTM
    metres, ~1e6 with a spread of metres) are centred at their bounding box's middle
    (exactly: see :meth:`~geograd.problems.scaling.Frame.fit`): the reference and the
    solve run on the same numbers as for the data at 0, and only the final centre,
    mapped back, rounds to the spacing of floats there (2^-32 near 1e6).

Certificate
    The gap to the exact radius, f(x) - r*, and the relative gap (f(x) - r*)/r*;
    ``optimal`` is True when the relative gap is at most 1e-12. It also names the
    exact ball's ``support``, ``support_points`` and ``weights`` (see Reference).

Drawing
    In the plane as always; in 3-D the projection on the first two coordinates with
    the ball's outline (the projection of a ball is the disc of its radius); in 4-D
    and beyond the projected points and centre only; in 1-D the points on a line
    with the interval [c - r, c + r].

Solver defaults (``solver_defaults()`` and ``solve()``)
    ``trust-ncg`` (Steihaug-CG trust region on exact Hessian-vector products) at
    every stage, its first trust radius 0.1·s/τ (:data:`TRUST_RADIUS`; s/τ is the
    width of f_t's valley across a diameter), each stage stopping at
    ‖∇f_t‖ ≤ max(gtol, 64 ε τ) with gtol = 1e-8 (the gradient of f_t is
    dimensionless, a mean of unit vectors; below 64 ε τ rounding in t·d makes it
    noise); ``max_steps`` = 20000 in all: a stage may use what is left, less 200
    for each stage after it. Chosen by measurement (issue 13). Defaults (1000
    uniform points, seed 5, a diameter case), this machine, median of 3
    interleaved rounds (``geograd compare enclosing-circle --optimizers
    nag,lbfgs,newton,trust-ncg`` gives the same steps; all stages together):

    ==========  =====  =====  ========  ===========  ==========================
    method      steps  evals  time      centre off   radius within 1e-9 at
    ==========  =====  =====  ========  ===========  ==========================
    lbfgs       64     120    18 ms     4.4e-07      step 52, 13 ms
    trust-ncg   47     63     21 ms     1.1e-16      step 44, 19 ms
    newton      93     109    36 ms     1.1e-16      step 92, 34 ms
    nag         3914   3924   0.44 s    6.8e-09      step 1767, 0.20 s
    momentum    19600  19610  2.1 s     5.6e-07      step 13232
    gd          19800  30567  3.1 s     1.3e-06      step 11400 (no match)
    adam        20000  20010  2.4 s     7.5e-04      not reached (max_steps)
    ==========  =====  =====  ========  ===========  ==========================

    Why trust-ncg and not lbfgs, 3 ms faster here: lbfgs leaves this centre 4.4e-7·s
    from Welzl's, outside the stated tolerance below, and over 40 data sets
    (uniform, gaussian and disc data, seeds 1-4, n = 100 and 1000; two with n =
    10000; the tests' generated cases and their six special point sets, from one
    point to collinear ones; a half circle) it met the stated tolerance on 28: its
    line search stalls in the narrow valleys of the last stages. trust-ncg met it on
    39 (nag, the default before, on the same 39), in 0-122 steps (median 83), each
    in at most 0.15 s, 2.3 s in all (nag: 7.8 s without the case below). The 40th,
    500 points evenly on a half circle (hundreds of nearly farthest points around a
    diameter), is the slow case: trust-ncg stops on gtol after 122 steps (0.15 s)
    with the radius within 7e-11 relative but the centre 1e-5·s off; nag runs out of
    its 20000 steps (10 s), 6e-5·s off.

    Stated tolerance (what the tests hold a no-flag solve to): the radius within
    1e-9 relative of the exact one, the centre within 1e-7·s of Welzl's.

    gtol bounds the distance still to go along the valley by about gtol·R; the
    last temperature bounds the smoothing's own offset of the centre (about s/τ
    where three points are farthest). Everything is in units of s, so data in any
    units takes the same steps.

    ``solver_defaults()`` returns the settings of the last stage (flat
    :func:`geograd.minimize` keyword arguments for ``stage_loss`` at the final
    temperature, with ``max_steps`` the total); :meth:`EnclosingCircle.stage_settings`
    gives any stage's. Overrides passed to ``solve()`` apply to every stage:
    ``lr`` is the last stage's (earlier stages scale it as their defaults scale),
    ``gtol`` replaces 1e-8 (the rounding floor stays), ``max_steps`` and
    ``time_limit`` are totals. The other optimizers get per-stage settings in the
    same spirit. ``nag``: the step and the momentum from the stage's curvature
    bounds, λ_max ≤ t + 2/s (the softmax covariance of unit vectors is at most 1,
    and near the minimum the points are at least s/2 away) and λ_min ≥ 1/s, so lr
    = 1/(t + 2/s) and momentum = (√κ - 1)/(√κ + 1) with κ = (t + 2/s)·s; plus an
    adaptive restart (O'Donoghue & Candès 2015): when the stage's loss rises
    (beyond rounding, 1e-13 relative), the momentum has overshot, and its buffer is
    cleared. Where two points are farthest (a diameter) f_t's valley is about τ
    times steeper across than along: steepest descent zigzags there for O(τ) steps
    per stage, Nesterov's momentum takes O(√τ); where three are farthest the
    valley is round, and momentum tuned for the worst case overshoots (the restart
    handles that). ``gd``: first trial step 1/t, ``c1`` = 0.5; ``momentum``: lr =
    1/(t + 2/s), momentum 0.9, with the restart; ``sgd``: lr = 1/(t + 2/s); the
    adaptive ones a learning rate in units of s/τ that an exponential schedule
    lowers 1000-fold within each stage, see :data:`ADAPTIVE`. Where three points
    are farthest around a well-rounded triangle they all reach the radius within
    1e-9 (disc and gaussian data); in a diameter's valley, or near one, gd and
    momentum reach it within 1e-11 but take 1.5-2.5 s and leave the centre up to
    3e-6·s off, while sgd and the adaptive ones stop at 1e-7 to 1e-4 (relative
    radius) with the centre 1e-4 to 1e-2·s off.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import repeat
from pathlib import Path
from typing import Any

import geograd.functional as F
from geograd import Tensor
from geograd.errors import InputError

from .base import (
    Component,
    Option,
    Reference,
    bounding_box,
    draw_circle,
)
from .continuation import EPS, ROUNDING_FLOOR
from .data import extent
from .lifecycle import Data, DataShape, PointProblem
from .scaling import Normalised, Quantities, times_pow2

DISTRIBUTIONS = ("uniform", "gaussian", "disc")
#: The largest dimension ``--dim`` takes (the exact reference's move-to-front grows fast
#: with d: about 1 s for 2000 points in R^20).
MAX_DIM = 20
DEFAULT_OPTIMIZER = "trust-ncg"
#: trust-ncg's first trust radius at each stage, in units of s/τ (the width of f_t's
#: valley across a diameter); the radius then follows the model's agreement.
TRUST_RADIUS = 0.1
#: The first temperature of the continuation (in units of 1/s) and the factor between stages.
FIRST_TEMPERATURE = 1.0
TEMPERATURE_FACTOR = 10.0
#: A point is inside a circle of radius r when within r·(1 + INSIDE_RTOL) of its centre.
INSIDE_RTOL = 1e-12
#: The relative radius gap below which the certificate calls a centre optimal.
OPTIMAL_RTOL = 1e-12
#: The adaptive optimizers: learning rate in units of s/τ at each stage, and the factor an
#: exponential schedule lowers it by within each stage.
ADAPTIVE: dict[str, tuple[float, float]] = {
    "adam": (0.1, 1e-3),
    "adamw": (0.1, 1e-3),
    "adamax": (1.0, 1e-3),
    "rmsprop": (0.1, 1e-3),
    "adagrad": (1.0, 1e-3),
}
_MOMENTUM = ("nag", "momentum")
#: Steps each later stage keeps in reserve when a stage runs long.
RESERVE = 200
#: The momentum restarts when the stage's loss rises by more than this (relative) rounding.
RESTART_RTOL = 1e-13


class EnclosingCircleCore(PointProblem):
    """The enclosing circle's mathematics over the points as they are given (see the module
    docstring); :class:`EnclosingCircle`, the public class, runs it on a copy of the
    points centred and scaled to unit size (see :mod:`geograd.problems.scaling`)."""

    name = "enclosing-circle"
    description = "minimum enclosing circle: minimise max_i ||p_i - c|| by log-sum-exp smoothing"
    # Measured peak RSS ~590 B per point (--no-hull), with a margin.
    bytes_per_item = 900
    options = (
        Option("n", int, 1000, "number of generated points", min=1, metavar="N", generator=True),
        Option(
            "dim",
            int,
            2,
            "dimension of the points (generated, or the columns of --points): the minimum "
            "enclosing ball in R^D",
            min=1,
            max=MAX_DIM,
            metavar="D",
        ),
        Option(
            "seed", int, 5, "random seed of the generated points", metavar="SEED", generator=True
        ),
        Option(
            "distribution",
            str,
            "uniform",
            "generated points: uniform in the unit square, gaussian, or uniform in a disc",
            choices=DISTRIBUTIONS,
            generator=True,
        ),
        Option(
            "temperature",
            float,
            1e9,
            "final smoothing temperature, in units of 1/(initial radius); the "
            "continuation rises to it from 1 by factors of 10",
            min=1.0,
            max=1e12,
            metavar="TAU",
        ),
        Option(
            "hull",
            bool,
            True,
            "evaluate the loss over the convex hull's vertices only (same objective, faster)",
        ),
        Option(
            "points",
            Path,
            None,
            "load points (D columns: x, y by default) from a CSV/TSV/text or .npy file",
            metavar="FILE",
        ),
    )

    data_shape = DataShape(dim="dim")

    component_names = ("centre x", "centre y")
    optimum_unique = True
    optimum_note = "the smallest enclosing circle is unique"

    # ------------------------------------------------------------------ data

    def generate(self, rng: random.Random) -> Data:
        s = self.settings
        return Data(generate(rng, s["n"], s["distribution"], s["dim"]))

    def set_data(self, data: Data) -> None:
        """Install the points and build the hull (:func:`candidate_points`) and the engine's
        tensors."""
        self.install(data)
        self.hull_points = candidate_points(self.rows)
        self._use(self.hull_points if self.settings["hull"] else self.rows)
        self._extent = extent(self.columns)
        radius = self.objective(self.default_x0())
        self._radius0 = radius if radius > 0 else 1.0

    def _use(self, used: Sequence[tuple[float, ...]]) -> None:
        """The points the loss runs over (the hull's, or all), as rows and columns."""
        self._urows = list(used)
        self._ucols = [[p[j] for p in self._urows] for j in range(self.d)]
        self._tcols = [self.as_data(c) for c in self._ucols]

    def install(self, data: Data) -> None:
        """Install the points as columns and as rows."""
        super().install(data)
        self.rows = list(zip(*self.columns))

    @property
    def xs(self) -> list[float]:
        """The first coordinates of the points."""
        xs: list[float] = self.columns[0]
        return xs

    @property
    def ys(self) -> list[float]:
        """The second coordinates of the points (0 for 1-D points, drawn on a line)."""
        return self.columns[1] if self.d >= 2 else [0.0] * self.n

    @classmethod
    def from_points(
        cls,
        points: Sequence[Sequence[float]],
        x0: Sequence[float] | None = None,
        **options: Any,
    ) -> EnclosingCircleCore:
        """An enclosing-circle problem over the given points (rows of ``dim`` coordinates,
        2 by default), for scripts and tests."""
        return cls.given(points, x0=x0, **options)

    @property
    def dim(self) -> int:
        return int(self.settings["dim"])

    @classmethod
    def item_bytes(cls, settings: dict[str, Any]) -> float | None:
        """:attr:`bytes_per_item` per point in the plane; per point and coordinate beyond."""
        per = super().item_bytes(settings)
        d = settings.get("dim")
        if per is None or not isinstance(d, int) or d <= 2:
            return per
        return per * d / 2.0

    def component_specs(self) -> list[Component]:
        """The centre's coordinates: "centre x", "centre y" (and "centre z" in 3-D), or
        "centre x1" ... beyond."""
        if self.dim <= 3:
            return [Component(f"centre {a}") for a in "xyz"[: self.dim]]
        return [Component(f"centre x{j + 1}") for j in range(self.dim)]

    @property
    def scale(self) -> float:
        """s = f(x0), the initial radius (1 when all points coincide): temperatures are τ/s."""
        return self._radius0

    def default_x0(self) -> list[float]:
        """The centroid of the points."""
        return [math.fsum(c) / self.n for c in self.columns]

    def temperatures(self) -> list[float]:
        """The continuation's dimensionless temperatures τ: 1, 10, 100, ... up to the final."""
        final = float(self.settings["temperature"])
        out, tau = [], FIRST_TEMPERATURE
        while tau < final * (1.0 - 1e-12):
            out.append(tau)
            tau *= TEMPERATURE_FACTOR
        out.append(final)
        return out

    # ------------------------------------------------------------------ maths

    def _distances(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        return F.distances(self._tcols, x)

    def loss(self, x: Tensor) -> Tensor:
        """max_i ||p_i - c|| through the engine (over the hull's vertices when ``hull``)."""
        return F.max(self._distances(x))

    def smoothed_loss(self, x: Tensor, t: float) -> Tensor:
        """f_t(c) = (1/t) log Σ exp(t ||p_i - c||), t in 1/length (the engine's logsumexp
        shifts by the largest t·d_i, so it never overflows)."""
        return F.logsumexp(self._distances(x) * t) / t

    def stage_loss(self, tau: float) -> Callable[[Tensor], Tensor]:
        """The smoothed loss at the dimensionless temperature τ (t = τ/s), as minimize's fun."""
        t = tau / self.scale

        def fun(x: Tensor) -> Tensor:
            return self.smoothed_loss(x, t)

        return fun

    def gradient(self, x: Sequence[float]) -> list[float]:
        """The mean of (c - p_k)/||c - p_k|| over the farthest points p_k (0 where c = p_k)."""
        c = [float(v) for v in x]
        d = list(map(math.dist, self._urows, repeat(c)))
        top = max(d)
        if top == 0.0:
            return [0.0] * self.dim
        far = [self._urows[i] for i, v in enumerate(d) if v == top]
        return [math.fsum((c[j] - p[j]) / top for p in far) / len(far) for j in range(self.dim)]

    def smoothed_gradient(self, x: Sequence[float], t: float) -> list[float]:
        """Σ w_i (c - p_i)/||c - p_i||, w = softmax(t d) (computed with the max shift)."""
        c = [float(v) for v in x]
        d = list(map(math.dist, self._urows, repeat(c)))
        top = max(d)
        w = [math.exp(t * (v - top)) for v in d]
        total = math.fsum(w)
        return [
            math.fsum(wi * (c[j] - p[j]) / v for wi, v, p in zip(w, d, self._urows) if v > 0.0)
            / total
            for j in range(self.dim)
        ]

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """The gap to the exact (Welzl) radius: ``value`` = f(x) - r*, ``relative_gap`` =
        (f(x) - r*)/r*, ``optimal`` when the relative gap is at most 1e-12."""
        p = self.check_point(x, "x")
        ref = self.reference()
        radius = self.objective(p)
        gap = radius - ref.loss
        rel = gap / ref.loss if ref.loss > 0 else (0.0 if gap == 0 else math.inf)
        optimal = rel <= OPTIMAL_RTOL
        return {
            "value": gap,
            "kind": "radius_gap",
            "optimal": optimal,
            "summary": certificate_summary(radius, ref.loss, gap, rel, optimal),
            "radius": radius,
            "exact_radius": ref.loss,
            "relative_gap": rel,
            "support": list(ref.details["support"]),
            "support_points": [list(p) for p in ref.details["support_points"]],
            "weights": list(ref.details["weights"]),
        }

    # ------------------------------------------------------------- reference

    def compute_reference(self) -> Reference:
        t0 = time.perf_counter()
        ball = miniball(self.columns)
        elapsed = time.perf_counter() - t0
        return Reference(
            x=list(ball.centre),
            loss=ball.radius,
            method="welzl",
            details={
                "support": list(ball.support),
                "support_points": [list(self.rows[i]) for i in ball.support],
                "support_distances": list(ball.support_distances),
                "weights": list(ball.weights),
                "residual": ball.residual,
                "centre_in_hull": ball.in_hull,
                "on_sphere": ball.on_sphere,
                "all_inside": ball.all_inside,
                "hull_vertices": len(self.hull_points),
                "pivots": ball.pivots,
                "time_s": elapsed,
            },
        )

    # ---------------------------------------------------------------- solving

    def stage_settings(
        self, tau: float, optimizer: str | None = None, total_steps: int | None = None
    ) -> dict[str, Any]:
        """minimize() settings for the stage at temperature τ (see the module docstring).

        ``max_steps`` is the stage's share of ``total_steps`` (20000 by default).
        """
        from geograd.optim.schedules import Exponential

        name = (optimizer or DEFAULT_OPTIMIZER).strip().lower()
        s = self.scale
        t = tau / s
        stages = len(self.temperatures())
        total = 20000 if total_steps is None else total_steps
        steps = max(1, -(-total // stages)) if total > 0 else 0
        loop: dict[str, Any] = {"gtol": max(1e-8, ROUNDING_FLOOR * EPS * tau), "ftol": None,
                                "max_steps": steps}  # fmt: skip
        big = t + 2.0 / s
        if name == "trust-ncg":
            return {"optimizer": name, "lr": TRUST_RADIUS * s / tau, **loop}
        if name == "nag":
            root = math.sqrt(big * s)
            return {"optimizer": name, "lr": 1.0 / big, "momentum": (root - 1.0) / (root + 1.0),
                    **loop}  # fmt: skip
        if name == "momentum":
            # Heavy ball with Nesterov's momentum cycles around a kink of the max once the
            # valley is narrow; its own default momentum does not.
            return {"optimizer": name, "lr": 1.0 / big, "momentum": 0.9, **loop}
        if name == "gd":
            return {"optimizer": "gd", "lr": 1.0 / t, "c1": 0.5, **loop}
        if name == "sgd":
            return {"optimizer": "sgd", "lr": 1.0 / big, **loop}
        lr, decay = ADAPTIVE.get(name, (0.1, 1e-3))
        out: dict[str, Any] = {"optimizer": name, "lr": lr * s / tau, **loop}
        if steps > 0:
            out["schedule"] = Exponential(decay ** (1.0 / steps))
        if name == "adamw":
            out["weight_decay"] = 0.0  # decay towards the origin would bias the centre
        return self.fit_optimizer(out)

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """The last stage's settings, with ``max_steps`` the total over all stages.

        ``minimize(p.stage_loss(p.temperatures()[-1]), x, **p.solver_defaults())`` runs
        the last stage alone; :meth:`solve` runs the whole continuation.
        """
        settings = self.stage_settings(self.temperatures()[-1], optimizer, max_steps)
        settings["max_steps"] = 20000 if max_steps is None else max_steps
        settings["gtol"] = 1e-8
        return settings

    # ---------------------------------------------- the continuation (solve template)

    stage_key = "temperature"
    stage_reserve = RESERVE

    def stages(self, optimizer: str | None, total: int, overrides: dict[str, Any]) -> list[Any]:
        """The temperature continuation: one stage per τ of :meth:`temperatures`, each
        with :meth:`stage_settings` (the hook of the base class's solve template, which
        runs the stages and keeps the run on Ctrl-C at any moment).

        Overrides apply to every stage, except ``lr`` (the last stage's; earlier stages
        get it times their ratio of default learning rates) and ``gtol`` (the tolerance
        before the rounding floor 64 ε τ), which this takes from ``overrides``;
        ``max_steps`` and ``time_limit`` are totals over the stages. The Result's history
        joins the stages' (``loss`` the true objective f at each recorded iterate,
        ``grad_norm`` the smoothed gradient's norm, ``temperature`` each entry's τ).
        """
        from .continuation import temperature_stages

        return temperature_stages(self, self.temperatures(), optimizer, total, overrides)

    def _interrupt_place(self) -> str:
        return "outside a stage's optimizer loop (between temperatures, or as a stage began)"

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Half random points in the data's bounding box (widened by 10%), half near the
        exact centre, 1e-3 of the extent away, where the farthest point changes with the
        direction (kinks of the max); each kept only where the two largest distances
        differ by more than 1e-5 of the extent, far more than a difference step."""
        r = random.Random(seed)
        box = [(min(c), max(c)) for c in self.columns]
        e = self._extent
        centre = self.reference().x
        pts: list[list[float]] = []
        tries = 0
        while len(pts) < count and tries < 100 * count:
            tries += 1
            if len(pts) % 2 == 0:
                p = [r.uniform(lo - 0.1 * e, hi + 0.1 * e) for lo, hi in box]
            elif self.dim == 2:  # an angle (the plane's draws, kept)
                a = r.uniform(0.0, 2.0 * math.pi)
                p = [centre[0] + 1e-3 * e * math.cos(a), centre[1] + 1e-3 * e * math.sin(a)]
            else:
                u = [r.normalvariate(0.0, 1.0) for _ in range(self.dim)]
                norm = math.hypot(*u) or 1.0
                p = [c + 1e-3 * e * v / norm for c, v in zip(centre, u)]
            d = sorted(map(math.dist, self._urows, repeat(p)), reverse=True)
            if len(d) == 1 or d[0] - d[1] > 1e-5 * e:
                pts.append(p)
        return pts

    # ------------------------------------------------------------- describing

    def data_facts(self) -> dict[str, Any]:
        return {"hull_vertices": len(self.hull_points)}

    # ------------------------------------------------------------------ drawing

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        """The first two coordinates (the drawing is the projection on them); in 1-D the
        coordinate on the line y = 0."""
        return float(x[0]), (float(x[1]) if self.dim >= 2 else 0.0)

    def plot_bounds(
        self, extra: Sequence[Sequence[float]] = (), margin: float = 0.05
    ) -> tuple[float, float, float, float]:
        """The data, the ``extra`` points and the circle about x0 (which holds all the data)."""
        cx, cy = self.plot_xy(self.x0)  # type: ignore[misc]
        r0 = self.objective(self.x0)
        xs = list(self.xs) + [float(p[0]) for p in extra] + [cx - r0, cx + r0]
        ys = list(self.ys) + [float(p[1]) for p in extra] + [cy - r0, cy + r0]
        return bounding_box(xs, ys, margin)

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
        """The smallest circle about ``x`` holding every point (radius f(x)), unfilled; in
        3-D the outline of the ball's projection (the same circle), in 1-D the interval
        on the line; in 4-D and beyond nothing (the path shows the centre)."""
        radius = self.objective(x)
        if self.dim == 1:
            c = float(x[0])
            artists: list[Any] = ax.plot(
                [c - radius, c + radius], [0.0, 0.0], color=color, linestyle=linestyle,
                alpha=alpha, lw=2.5, marker="|", ms=14, zorder=3,
            )  # fmt: skip
            if label is not None:
                artists[0].set_label(label)
            return artists
        if self.dim > 3:
            return []
        cx, cy = float(x[0]), float(x[1])
        return draw_circle(
            ax, (cx, cy), radius, color=color, linestyle=linestyle, alpha=alpha, label=label,
        )  # fmt: skip

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """The points (grey; the hull's vertices outlined in the plane) and, for ``x``, its
        circle and centre; beyond the plane, the projection on the first two coordinates."""
        artists = [
            ax.scatter(
                self.xs, self.ys, s=min(30.0, max(3.0, 3000.0 / self.n)), c="0.45",
                alpha=0.7 if self.n > 200 else 0.9, edgecolors="none",
                label=f"points (n={self.n})", zorder=2,
            )
        ]  # fmt: skip
        if self.dim == 2:
            hx = [p[0] for p in self.hull_points]
            hy = [p[1] for p in self.hull_points]
            if len(hx) > 1:
                artists += ax.plot(
                    hx + hx[:1], hy + hy[:1], color="0.3", lw=0.8, ls="-", marker=".", ms=4,
                    label=f"convex hull ({len(hx)} vertices)", zorder=2,
                )  # fmt: skip
            ax.set_xlabel("x")
            ax.set_ylabel("y")
        elif self.dim == 1:
            ax.set_xlabel("x")
        else:
            ax.set_xlabel("x1 (projection)")
            ax.set_ylabel("x2 (projection)")
        if x is not None:
            artists += self.draw_estimate(ax, x, color="#d62728", label=f"{label} circle")
        artists += super().draw(ax, x, label=label)
        return artists


def certificate_summary(radius: float, exact: float, gap: float, rel: float, ok: bool) -> str:
    """The certificate's line."""
    verdict = "optimal" if ok else "not optimal"
    return (
        f"radius {radius:.6g} vs Welzl's exact {exact:.6g}: gap {gap:.2g} "
        f"({rel:.2g} relative): {verdict}"
    )


class EnclosingCircle(Normalised, EnclosingCircleCore):
    """The minimum enclosing circle by a temperature continuation (see the module docstring).

    The points stay as given (``xs``, ``ys``, ``hull_points``); the mathematics run on
    ``unit``, an :class:`EnclosingCircleCore` over the points centred and divided by s,
    the power of two nearest their extent (see :mod:`geograd.problems.scaling`). The
    continuation's dimensionless temperatures τ are the same in both; every length (the
    centre, the radius, :attr:`scale`) maps back, a temperature t in 1/length divides
    by s, the gradient is unit-free.
    """

    objective_words = "radius"
    start_on_user_data = True  # the centroid, correctly rounded
    quantities = Quantities(
        certificate={"value": "length", "radius": "length", "exact_radius": "length"},
        reference={"support_distances": "length", "residual": "length"},
    )

    def set_data(self, data: Data) -> None:
        """Install the points and build the unit copy (centred: far from the origin, the
        data's middle is its origin)."""
        super().set_data(data)
        # The hull is found on the unit copy (where its cross products cannot overflow)
        # and reported as the user's own points.
        user_point = dict(zip(self.unit.rows, self.rows))
        self.hull_points = [user_point[p] for p in self.unit.hull_points]

    @property
    def scale(self) -> float:
        """s = f(x0), the initial radius (1 in the unit copy when all points coincide):
        temperatures are τ/s."""
        return self.length_to_user(self.unit.scale)

    def smoothed_loss(self, x: Tensor, t: float) -> Tensor:
        """f_t(c) (see the core class), t in 1/length, in user units."""
        k = self.frame.exponent
        out: Tensor = self.unit.smoothed_loss(self.tensor_to_unit(x), times_pow2(t, k))
        return out * self.frame.scale

    def stage_loss(self, tau: float) -> Callable[[Tensor], Tensor]:
        """The smoothed loss at the dimensionless temperature τ, in user units."""
        inner = self.unit.stage_loss(tau)
        s = self.frame.scale

        def fun(x: Tensor) -> Tensor:
            out: Tensor = inner(self.tensor_to_unit(x)) * s
            return out

        return fun

    def smoothed_gradient(self, x: Sequence[float], t: float) -> list[float]:
        """∇f_t(c) (unit-free), t in 1/length."""
        out: list[float] = self.unit.smoothed_gradient(
            self.to_unit(x), times_pow2(t, self.frame.exponent)
        )
        return out

    def certificate_to_user(self, unit: dict[str, Any]) -> dict[str, Any]:
        """The unit certificate in user units, its support points the user's own rows."""
        cert = super().certificate_to_user(unit)
        cert["support_points"] = [list(self.rows[i]) for i in cert["support"]]
        return cert

    def summarise_certificate(self, cert: dict[str, Any]) -> str:
        """The radius, Welzl's and the gap in user units, the relative gap and the verdict."""
        return certificate_summary(
            cert["radius"], cert["exact_radius"], cert["value"], cert["relative_gap"],
            cert["optimal"],
        )  # fmt: skip

    def reference_details(self, details: dict[str, Any], x: list[float]) -> dict[str, Any]:
        """The support points as the user's, their distances to the mapped centre (the
        unit copy's, times s), the residual as a length; the weights have no unit."""
        details = super().reference_details(details, x)
        details["support_points"] = [list(self.rows[i]) for i in details["support"]]
        return details


# ------------------------------------------------------------------------ data makers
# ------------------------------------------------------------------------ data makers


def generate(r: random.Random, n: int, distribution: str, d: int = 2) -> list[list[float]]:
    """n points in R^d from ``r``, column by column (see the module docstring); in the
    plane exactly the points this function has always made."""
    if distribution == "uniform":
        return [[r.uniform(a=0, b=1) for _ in range(n)] for _ in range(d)]
    if distribution == "gaussian":
        return [[r.normalvariate(0.5, 0.15) for _ in range(n)] for _ in range(d)]
    if distribution == "disc":
        cols: list[list[float]] = [[] for _ in range(d)]
        for _ in range(n):
            if d == 2:  # an angle, then a radius (the plane's own order, kept)
                a = r.uniform(0.0, 2.0 * math.pi)
                rho = 0.5 * math.sqrt(r.random())
                u = [math.cos(a), math.sin(a)]
            else:  # a direction (normalised normal draws), then a radius 0.5·U^(1/d)
                u = [r.normalvariate(0.0, 1.0) for _ in range(d)]
                norm = math.hypot(*u) or 1.0
                u = [v / norm for v in u]
                rho = 0.5 * r.random() ** (1.0 / d)
            for j in range(d):
                cols[j].append(0.5 + rho * u[j])
        return cols
    raise InputError(f"enclosing-circle: unknown distribution {distribution!r}")


# ------------------------------------------------------------------------- geometry


def convex_hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull's vertices, counter-clockwise, by Andrew's monotone chain (duplicates
    and points on an edge dropped; one point or two give themselves)."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def candidate_points(rows: Sequence[tuple[float, ...]]) -> list[tuple[float, ...]]:
    """The points that can be farthest from some centre, as far as is cheap to know: in
    1-D the two ends, in the plane the convex hull's vertices, in 3-D and beyond every
    distinct point (a hull there costs more than it saves)."""
    if not rows:
        return []
    d = len(rows[0])
    if d == 1:
        return sorted({min(rows), max(rows)})
    if d == 2:
        return list(convex_hull(rows))  # type: ignore[arg-type]
    return list(dict.fromkeys(rows))


Circle3 = tuple[float, float, float]


@dataclass(frozen=True)
class Ball:
    """The minimum enclosing ball of a point set, with its certificate.

    ``centre`` is the exact circumcentre of the ``support`` points (rational arithmetic
    on the floats as given), rounded once per coordinate; ``radius`` the largest
    distance from it to any point (recomputed); ``weights`` the support points'
    barycentric coordinates of the centre (exact, then rounded; all >= 0, summing to 1
    when the ball is the minimum one: the centre lies in the support's convex hull);
    ``support_distances`` their distances to the rounded centre; ``residual``
    ‖Σ w_i p_i - c‖; ``all_inside`` whether every point lies within
    radius·(1 + :data:`INSIDE_RTOL`) (true by construction of ``radius``, and
    checked); ``pivots`` the outer iterations of the pivoting loop.
    """

    centre: tuple[float, ...]
    radius: float
    support: tuple[int, ...]
    weights: tuple[float, ...]
    support_distances: tuple[float, ...]
    residual: float
    all_inside: bool
    pivots: int

    @property
    def in_hull(self) -> bool:
        """The optimality condition: weights >= 0 summing to 1, reproducing the centre."""
        scale = max(self.radius, 1e-300)
        return (
            all(w >= 0.0 for w in self.weights)
            and abs(math.fsum(self.weights) - 1.0) <= 1e-12
            and self.residual <= 1e-12 * scale
        )

    @property
    def on_sphere(self) -> bool:
        """Every support point at the radius, to rounding (1e-12 relative)."""
        return all(abs(v - self.radius) <= 1e-12 * self.radius for v in self.support_distances)


class _MoveToFront:
    """Gärtner's move-to-front miniball with pivoting ("Fast and robust smallest
    enclosing balls", ESA 1999), in floats: the incremental circumsphere of the pushed
    points by a Gram–Schmidt update of their differences (a push is refused when the new
    point is affinely dependent on those already pushed, to rounding), recursion depth
    at most d + 1 (the pushed set grows by one a level), the move-to-front list and the
    outer pivoting loop, which ends when no point lies outside or the radius stops
    growing (rounding)."""

    def __init__(self, rows: Sequence[tuple[float, ...]], order: list[int]) -> None:
        self.rows = rows
        self.d = d = len(rows[0])
        self.L = order
        self.fsize = 0
        self.q0: tuple[float, ...] = rows[order[0]]
        self.v: list[list[float]] = [[0.0] * d for _ in range(d + 1)]
        self.z = [0.0] * (d + 1)
        self.c: list[list[float]] = [[0.0] * d for _ in range(d + 1)]
        self.r2 = [0.0] * (d + 1)
        self.centre: list[float] = [0.0] * d
        self.sqr_r = -1.0
        self.support_end = 0
        self.pivots = 0

    def excess(self, i: int) -> float:
        return math.dist(self.rows[i], self.centre) ** 2 - self.sqr_r

    def push(self, i: int) -> bool:
        p, d, k = self.rows[i], self.d, self.fsize
        if k == 0:
            self.q0 = p
            self.c[0] = list(p)
            self.r2[0] = 0.0
        else:
            q0, v = self.q0, self.v
            vk = [p[j] - q0[j] for j in range(d)]
            for m in range(1, k):  # orthogonalise against the earlier differences
                a = 2.0 * math.fsum(v[m][j] * vk[j] for j in range(d)) / self.z[m]
                vk = [vk[j] - a * v[m][j] for j in range(d)]
            z = 2.0 * math.fsum(x * x for x in vk)
            if z < 1e-32 * self.sqr_r or z == 0.0:
                return False  # affinely dependent (to rounding): no sphere through them all
            prev = self.c[k - 1]
            e = math.dist(p, prev) ** 2 - self.r2[k - 1]
            f = e / z
            self.v[k] = vk
            self.z[k] = z
            self.c[k] = [prev[j] + f * vk[j] for j in range(d)]
            self.r2[k] = self.r2[k - 1] + e * f / 2.0
        self.centre = self.c[k]
        self.sqr_r = self.r2[k]
        self.fsize = k + 1
        return True

    def move_to_front(self, j: int) -> None:
        if self.support_end <= j:
            self.support_end += 1
        self.L.insert(0, self.L.pop(j))

    def mtf(self, end: int) -> None:
        """The smallest ball holding L[:end] with the pushed points on its boundary."""
        self.support_end = 0
        if self.fsize == self.d + 1:
            return
        k = 0
        while k < end:
            j = k
            k += 1
            if self.excess(self.L[j]) > 0.0 and self.push(self.L[j]):
                self.mtf(j)
                self.fsize -= 1
                self.move_to_front(j)

    def pivot(self) -> None:
        n = len(self.L)
        t = 1
        self.mtf(t)
        while True:
            rows, c, L = self.rows, self.centre, self.L
            if t >= n:
                return
            dists = list(map(math.dist, map(rows.__getitem__, L[t:]), repeat(c)))
            top = max(dists)
            if top * top - self.sqr_r <= 0.0:
                return
            where = t + dists.index(top)
            self.pivots += 1
            old = self.sqr_r
            t = self.support_end
            if t == where:
                t += 1
            self.push(L[where])
            self.mtf(self.support_end)
            self.fsize -= 1
            self.move_to_front(where)
            if not self.sqr_r > old:
                return


def _circumcentre(
    points: Sequence[Sequence[float]],
) -> tuple[list[Fraction], list[Fraction]] | None:
    """The exact centre of the smallest sphere through ``points`` (the one in their affine
    hull) and its barycentric weights, in rational arithmetic on the floats as given;
    None when the points are affinely dependent."""
    q = [[Fraction(v) for v in p] for p in points]
    p0, d = q[0], len(q[0])
    vs = [[a - b for a, b in zip(p, p0)] for p in q[1:]]
    k = len(vs)
    # Gram system 2 VᵀV λ = diag(VᵀV): c = p0 + V λ is equidistant from every point.
    g = [[sum((a * b for a, b in zip(vi, vj)), Fraction(0)) for vj in vs] for vi in vs]
    m = [[2 * g[i][j] for j in range(k)] + [g[i][i]] for i in range(k)]
    for col in range(k):  # Gaussian elimination, exact: a zero pivot is a true dependence
        piv = next((r for r in range(col, k) if m[r][col] != 0), None)
        if piv is None:
            return None
        m[col], m[piv] = m[piv], m[col]
        for r in range(k):
            if r != col and m[r][col] != 0:
                factor = m[r][col] / m[col][col]
                m[r] = [a - factor * b for a, b in zip(m[r], m[col])]
    lam = [m[i][k] / m[i][i] for i in range(k)]
    centre = [p0[j] + sum((lam[i] * vs[i][j] for i in range(k)), Fraction(0)) for j in range(d)]
    return centre, [1 - sum(lam, Fraction(0)), *lam]


def nnls_weights(
    rows: Sequence[Sequence[float]], centre: Sequence[float], scale: float
) -> list[float]:
    """Convex weights w >= 0, Σ w = 1, with Σ w_i p_i = c as nearly as they go: the
    Lawson–Hanson non-negative least squares on the columns ((p_i - c)/scale, 1) against
    (0, ..., 0, 1). Its positive weights sit on affinely independent points (at most
    d + 1 of them)."""
    m = len(centre) + 1
    cols = [[(p[j] - centre[j]) / scale for j in range(m - 1)] + [1.0] for p in rows]
    b = [0.0] * (m - 1) + [1.0]
    w = [0.0] * len(cols)
    passive: list[int] = []

    def solve(idx: list[int]) -> list[float]:
        g = [[math.fsum(a * c for a, c in zip(cols[i], cols[j])) for j in idx] for i in idx]
        rhs = [math.fsum(a * c for a, c in zip(cols[i], b)) for i in idx]
        k = len(idx)
        for c in range(k):
            piv = max(range(c, k), key=lambda r: abs(g[r][c]))
            g[c], g[piv], rhs[c], rhs[piv] = g[piv], g[c], rhs[piv], rhs[c]
            if g[c][c] == 0.0:
                return [0.0] * k
            for r in range(c + 1, k):
                f = g[r][c] / g[c][c]
                g[r] = [a - f * e for a, e in zip(g[r], g[c])]
                rhs[r] -= f * rhs[c]
        out = [0.0] * k
        for r in reversed(range(k)):
            out[r] = (rhs[r] - math.fsum(g[r][j] * out[j] for j in range(r + 1, k))) / g[r][r]
        return out

    for _ in range(3 * len(cols) + 10):
        resid = [b[j] - math.fsum(w[i] * cols[i][j] for i in passive) for j in range(m)]
        grads = [math.fsum(a * r for a, r in zip(col, resid)) for col in cols]
        free = [i for i in range(len(cols)) if i not in passive and grads[i] > 1e-14]
        if not free or len(passive) >= m:
            break
        passive.append(max(free, key=grads.__getitem__))
        while True:
            z = solve(passive)
            if all(v > 0.0 for v in z):
                for i, v in zip(passive, z):
                    w[i] = v
                break
            alpha = min(w[i] / (w[i] - v) for i, v in zip(passive, z) if v <= 0.0)
            for i, v in zip(passive, z):
                w[i] += alpha * (v - w[i])
            passive = [i for i in passive if w[i] > 1e-15]
            for i in range(len(w)):
                if i not in passive:
                    w[i] = 0.0
            if not passive:
                break
    return w


def miniball(columns: Sequence[Sequence[float]], seed: int = 0) -> Ball:
    """The minimum enclosing ball of points given column by column (``columns[j][i]`` is
    coordinate j of point i; any dimension d >= 1), exact to rounding, with its
    certificate (see :class:`Ball` and the module docstring).

    Move-to-front with pivoting (:class:`_MoveToFront`) on the points shuffled by
    ``random.Random(seed)`` finds the ball in floats. Its support is then chosen and
    made exact: among the points within 1e-10 (relative) of its radius, non-negative
    least squares (:func:`nnls_weights`) picks affinely independent ones whose convex
    hull holds the centre (with cospherical points, the corners of a square, the
    move-to-front's own last pushed set need not); their circumcentre and barycentric
    weights are computed in rational arithmetic on the floats, and while a weight is
    not positive (a point only rounding put there) that point is dropped and the rest
    solved again. The centre is the exact circumcentre rounded once. Compute on
    centred data (the problem does, on its unit copy): the float stage then loses
    nothing to a far origin.
    """
    d = len(columns)
    n = len(columns[0]) if d else 0
    if d == 0 or n == 0:
        raise InputError("enclosing-circle: give at least one point")
    rows = list(zip(*(list(map(float, c)) for c in columns)))
    order = list(range(n))
    random.Random(seed).shuffle(order)
    mtf = _MoveToFront(rows, order)
    mtf.pivot()
    float_centre = tuple(mtf.centre)
    dists = list(map(math.dist, rows, repeat(float_centre)))
    far = max(dists)
    # Distinct points near the sphere: the move-to-front's support first (usually enough),
    # then every point within 1e-10 of the radius.
    firsts: dict[tuple[float, ...], int] = {}
    for i in mtf.L[: max(1, mtf.support_end)]:
        firsts.setdefault(rows[i], i)
    support = list(firsts.values())
    if far > 0.0:
        for pool in (support, [i for i in range(n) if dists[i] >= far * (1.0 - 1e-10)]):
            unique = list(dict.fromkeys(pool, None))
            unique = list({rows[i]: i for i in reversed(unique)}.values())
            w = nnls_weights([rows[i] for i in unique], float_centre, far)
            chosen = [i for i, v in zip(unique, w) if v > 0.0]
            total = math.fsum(w)
            back = [
                math.fsum(v * rows[i][j] for i, v in zip(unique, w)) - float_centre[j] * total
                for j in range(d)
            ]
            if chosen and math.hypot(*back) <= 1e-12 * far and abs(total - 1.0) <= 1e-12:
                support = chosen
                break
    exact: tuple[list[Fraction], list[Fraction]] | None = None
    while support:
        exact = _circumcentre([rows[i] for i in support])
        if exact is None:  # dependent (rounding let it in): drop the newest
            support.pop()
            continue
        weights = exact[1]
        low = min(range(len(support)), key=weights.__getitem__)
        if weights[low] > 0 or len(support) == 1:
            break
        support.pop(low)
    assert exact is not None
    centre = tuple(float(v) for v in exact[0])
    radius = max(map(math.dist, rows, repeat(centre)))
    if not radius <= far * (1.0 + 1e-12):  # a wrong support (rounding): keep the float ball
        centre, radius = float_centre, far
    ws = [float(v) for v in exact[1]]
    sup_rows = [rows[i] for i in support]
    residual = math.hypot(
        *(math.fsum(v * p[j] for v, p in zip(ws, sup_rows)) - centre[j] for j in range(d))
    )
    inside = all(v <= radius * (1.0 + INSIDE_RTOL) for v in map(math.dist, rows, repeat(centre)))
    return Ball(
        centre=centre,
        radius=radius,
        support=tuple(support),
        weights=tuple(ws),
        support_distances=tuple(math.dist(p, centre) for p in sup_rows),
        residual=residual,
        all_inside=inside,
        pivots=mtf.pivots,
    )


def welzl(xs: Sequence[float], ys: Sequence[float], seed: int = 0) -> tuple[Circle3, list[int]]:
    """The minimum enclosing circle (cx, cy, r) and the indices of its support points: the
    plane's case of :func:`miniball`."""
    ball = miniball([xs, ys], seed)
    return (ball.centre[0], ball.centre[1], ball.radius), list(ball.support)
