"""The Thomson problem: N unit charges on the sphere with the least Coulomb energy.

Objective, for charges u_1..u_N on the unit sphere S²:

    E(u) = Σ_{i<j} 1 / ||u_i - u_j||

Parametrisation: normalised in the loss
    The parameters are x = (x_1, y_1, z_1, x_2, ...) in R^{3N}, one unconstrained
    vector x_i per charge, and the loss is L(x) = E(x_1/||x_1||, ..., x_N/||x_N||).
    Every minimiser of L is a Thomson configuration (scaled radially) and
    L has no other minima, so every optimizer in the registry, every scipy
    method and ``geograd check`` work on it unchanged, and the loss is defined
    (and smooth) everywhere except at x_i = 0 and at coinciding charges.

    Gradient. With r_i = ||x_i||, u_i = x_i / r_i and the force-free term
    f_i = ∂E/∂u_i = -Σ_{j≠i} (u_i - u_j) / ||u_i - u_j||³,

        ∂L/∂x_i = (I - u_i u_iᵀ) f_i / r_i,

    the tangential part of f_i (the Riemannian gradient of E on the sphere),
    divided by r_i. At unit vectors it is exactly the Riemannian gradient.

Riemannian steps: renormalisation after every step (``solve``)
    The radial direction of each x_i is flat for L, and a tangential step
    lengthens x_i (Pythagoras), which shrinks that charge's gradient by 1/r_i and
    its effective step by 1/r_i²: the charges that moved most early on freeze.
    Steepest descent on L alone from seed 5's N = 20 start let r_i grow to 6.4 and
    took 2653 steps (gtol 1e-10). So the solve puts every x_i back on the sphere
    after each step (x_i ← x_i/||x_i||, which leaves L unchanged; the base class's
    solve template calls the :meth:`Thomson.projection` hook). A step is then a
    Riemannian gradient step with the projective retraction, whichever optimizer
    takes it. The same N = 20 run then takes about 750 steps. That is the choice: the
    loss normalises (so that it is a plain function of R^{3N} for everything else:
    autograd, scipy, checks), and the solver retracts (so that its steps are
    Riemannian). The retraction rescales the parameters, never changes the loss,
    costs no extra evaluation (minimize evaluates after each step anyway) and is on
    for every optimizer, names and classes alike; ``solve(..., project=False)``
    switches it off.

Data
    The starting configuration: N points uniform on the sphere from
    ``random.Random(seed)`` (seed 5 by default): for each charge in turn,
    z = r.uniform(-1, 1) and φ = r.uniform(0, 2π), the point
    (√(1-z²) cos φ, √(1-z²) sin φ, z) (Archimedes: a uniform z is a uniform point
    on the sphere). ``--restarts K`` draws K such configurations one after the
    other from the same generator; start 0 is the problem's ``x0``. Or
    ``points=FILE`` loads a starting configuration (x, y, z per line, any
    nonzero length; each row is normalised, huge and subnormal ones too, and two rows
    that normalise to charges closer than :data:`MIN_SEPARATION` are refused, naming
    both), and N is the file's row count; extra restarts are then seeded as above.

Reference
    The published table of smallest known energies, :data:`KNOWN_ENERGIES`,
    N = 2..100 (:mod:`~geograd.problems.known_optima`; Wikipedia, "Thomson
    problem", table "Configurations of smallest known energy"; for N >= 7 these are
    the putative global minima of Wales and
    Ulker, Phys. Rev. B 74, 212101 (2006), and the Cambridge Cluster Database),
    nine decimals, the last one sometimes truncated rather than rounded, so
    comparisons use an absolute tolerance of 1e-8. Every value was checked before
    it was shipped: the lowest of 40 L-BFGS runs from random starts (numpy and
    scipy) agrees with it within 5e-10 for every N, and N = 2, 3, 4, 6, 12 are the
    exact polyhedra (tests). The reference configuration (``Reference.x``) is found
    the same way, from seeded starts until one reaches the table's energy within
    1e-8, then polished by Newton steps to a gradient of ~1e-13;
    ``Reference.loss`` is its energy, which is exact to rounding where the table's
    is rounded to 9 decimals (``details["table_energy"]`` holds the table's). For
    N beyond the table the reference is the best of :data:`UNTABULATED_STARTS`
    such runs, labelled as such (a best found, not a published value). That
    search takes about a minute for N = 500 and several for N = 1000, so it runs
    only when asked (``reference=True``, ``--reference``), reporting its progress;
    without it the reference is unavailable (:class:`ReferenceUnavailable`, whose
    one line gives the estimated cost), and a solve returns its answer unaligned.

Symmetry: solutions in the reference's frame
    E is invariant under rotations, reflections and relabelling of the charges,
    so a solution is a whole orbit of configurations and the distance between two
    parameter vectors means nothing by itself. :meth:`Thomson.solve` therefore
    returns the solution (and its best iterate and recorded path) normalised and
    mapped by one orthogonal transformation and one permutation onto the
    reference configuration (:meth:`Thomson.canonical`; the loss is unchanged):
    a solution that found the reference's configuration is then within rounding
    of ``Reference.x``, and one stuck in another local minimum is visibly far from
    it. :meth:`Thomson.baselines` and :meth:`Thomson.assess` do the same.

Solver defaults (``solver_defaults()``, with the projection after each step)
    ``trust-ncg`` — Steihaug-CG trust region on exact Hessian-vector products —
    with first trust radius ``lr = 0.01`` (:data:`TRUST_RADIUS`, radians; 0.01 to 1
    take about the same steps), ``gtol = 1e-9`` and ``max_steps = 1000``. Chosen
    by measurement (issue 13). No flags (N = 12, seed 5), this machine, median of
    3 interleaved rounds (``geograd compare thomson --optimizers
    nag,lbfgs,newton,trust-ncg`` gives the same steps):

    ==========  =====  =====  ========  ==========  ===========================
    method      steps  evals  time      distance    energy within 1e-9 at
    ==========  =====  =====  ========  ==========  ===========================
    trust-ncg   16     18     30 ms     7.6e-11     step 15, 25 ms
    lbfgs       45     67     34 ms     4.8e-08     step 26, 14 ms
    gd          83     138    49 ms     6.5e-10     step 43, 25 ms
    newton      26     36     54 ms     9.6e-15     step 25, 48 ms
    nag         252    253    95 ms     9.5e-10     step 86, 31 ms
    momentum    774    775    284 ms    2.3e-10     step 257
    adam        1034   1035   393 ms    7.8e-10     step 528
    ==========  =====  =====  ========  ==========  ===========================

    (time includes the alignment onto the reference.) lbfgs gets the energy within
    1e-9 sooner but stops later, on its line search's rounding-level xtol, 600
    times farther from the minimum and with 3.7 times the evaluations. Over N =
    2..32 (one seed-5 start each) trust-ncg reached the table's energy for every N,
    in 10-36 steps (median 23), each N in at most 0.65 s, 4.9 s in all — also
    N = 16, whose seed-5 start takes nag (the default before) into the local
    minimum 92.920353962; nag took 11 s in all and up to 1.5 s (N = 25: 1983
    steps), lbfgs 4.0 s in all but up to 1.1 s (N = 31) and up to 4e-7 from the
    minimum. N = 50: trust-ncg 38 steps, 0.8 s (lbfgs 174 steps, 0.8 s; nag 650,
    1.5 s). Several minima are soft (Hessian condition numbers in the hundreds or
    thousands: N = 7: 425, N = 19: 3600, N = 25: 3100), which CG on exact
    Hessian-vector products takes in its stride, where first-order methods need
    ~√κ (momentum) or ~κ (gd) steps per decade of the gradient.

    ``gtol = 1e-9`` on the Riemannian gradient norm (energy per radian) leaves the
    charges within gtol/λ_min of the minimum — 1e-9 for the icosahedron (λ_min =
    0.91), 2e-7 for N = 19, the softest in the table (λ_min = 0.0049) — and the
    energy within 1e-13 of it; float64 resolves gradients to ~1e-13 at N = 32.

    ``nag`` and ``momentum`` (momentum 0.95) and ``sgd`` get ``lr = 1/(0.2 N^1.5 +
    1)``, the inverse of the largest Hessian eigenvalue at the minimum (measured
    0.17-0.21 N^1.5 for N = 5..32: the nearest-neighbour distance shrinks like
    N^-1/2, the curvature of 1/d grows like d^-3), with gradients clipped to norm
    ``0.3 (0.2 N^1.5 + 1)`` (a random start can put two charges 1e-3 apart, with a
    force of 1e6; no step then moves a charge by more than ~0.3 radians) and
    ``max_steps = 20000``. ``gd`` (Armijo line search; ``lr = 0.1`` is only its
    first trial step) is robust without a learning rate, fast on the stiff N and
    slow on the soft ones (N = 19: 15000 steps). The adaptive optimizers get
    learning rates in radians from :data:`ADAPTIVE`, with an exponential schedule
    lowering them by 1e-6 over the run (Adagrad's accumulator decays its steps by
    itself); each reaches the octahedron's and the icosahedron's energy to
    rounding.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import geograd.functional as F
from geograd import Tensor
from geograd.errors import InputError

from .base import (
    DEFAULT_BASELINES,
    Baseline,
    Component,
    Option,
    Problem,
    Reference,
    ReferenceUnavailable,
    bounding_box,
    format_seconds,
    hold_point,
)
from .data import load_points
from .known_optima import SOURCES, THOMSON_ENERGIES

#: Smallest known energies E(N) of N unit charges on the unit sphere, N = 2..100 (see
#: :mod:`geograd.problems.known_optima` for the sources and how each was reproduced).
KNOWN_ENERGIES: dict[int, float] = THOMSON_ENERGIES
TABLE_SOURCE = SOURCES["wikipedia-thomson"]
#: The table is given to 9 decimals, the last one sometimes truncated.
TABLE_TOL = 1e-8

#: Seeded L-BFGS runs tried for the reference configuration of a tabulated N (it stops
#: at the first one that reaches the table), and the runs whose best is the reference
#: of an N beyond the table.
REFERENCE_STARTS = 100
UNTABULATED_STARTS = 10
#: The seed of the reference's k-th start is REFERENCE_SEED + k (independent of --seed).
REFERENCE_SEED = 1_000_003
#: Seconds one reference start takes for N charges, roughly (measured on the machine the
#: tolerances were measured on, N = 40..500, with a margin): START_S, plus L-BFGS ~
#: LBFGS_RATE N^2.5, plus the Newton polish (N <= 200) ~ POLISH_RATE N³. Only for telling
#: the user what --reference would cost (a loaded machine takes several times longer).
START_S = 0.3
LBFGS_RATE = 6e-7
POLISH_RATE = 2e-7
POLISH_MAX_N = 200

DEFAULT_OPTIMIZER = "trust-ncg"
#: trust-ncg's first trust radius (radians: the loss is scale-free on the unit sphere); the
#: radius then follows the energy (measured: 0.01 to 1 take about the same steps).
TRUST_RADIUS = 0.01
#: The stopping tolerance on the Riemannian gradient norm (energy per radian).
GTOL = 1e-9
#: sgd, momentum, nag: lr = 1 / (0.2 N^1.5 + 1), about the inverse of the largest Hessian
#: eigenvalue at the minimum (measured: 0.17-0.21 N^1.5 for N = 5..32, also N = 50, 100);
#: momentum and nag with this momentum.
MOMENTUM = 0.95
#: The adaptive optimizers: (lr in radians, max_steps, exponential schedule lowering lr by
#: 1e-6 over the run?), tuned on N = 12 and 20. Adagrad's own accumulator decays its steps.
ADAPTIVE = {
    "adam": (0.02, 20000, True),
    "adamw": (0.02, 20000, True),
    "adamax": (0.05, 20000, True),
    "rmsprop": (0.005, 5000, True),
    "adagrad": (0.3, 20000, False),
}

#: A restarted solve's message lists the energies of this many starts at most.

#: Charges of a starting configuration closer than this (after normalising) are refused.
#: Unit charges carry coordinates to ~1e-16, so a rotation (the alignment of every answer
#: onto the reference) moves the distance of a pair 1e-12 apart by 1e-4 of itself and
#: merges a pair 1e-16 apart; their energy term (1e12), force (1e24) and curvature (1e36)
#: swamp the others' and a method that cannot leave the start (scipy's L-BFGS-B) answers
#: with it. Measured (N = 5, one pair d apart): the default solve converges from d = 1e-40
#: (236 steps; 122 from 1e-20) and stalls from 1e-45 (its curvature products overflow);
#: ``compare`` failed from 1e-20 (the pair merged by the alignment); ``d >= 1e-154``
#: keeps forces finite, ``d >= 1e-103`` curvatures. Such a file is a duplicated row (up
#: to noise), not a starting configuration.
MIN_SEPARATION = 1e-12
#: Below this distance the closed-form gradient's 1/d³ overflows (or d is 0).
OVERFLOW_SEPARATION = 1e-100

#: Drawing: the orthographic view (elevation, azimuth in degrees).
VIEW = (20.0, -60.0)


def sphere_point(r: random.Random) -> tuple[float, float, float]:
    """A point uniform on the unit sphere: z uniform in [-1, 1], φ uniform in [0, 2π)."""
    z = r.uniform(-1.0, 1.0)
    phi = r.uniform(0.0, 2.0 * math.pi)
    s = math.sqrt(max(0.0, 1.0 - z * z))
    return (s * math.cos(phi), s * math.sin(phi), z)


def random_configuration(r: random.Random, n: int) -> list[float]:
    """n points uniform on the sphere, flattened (x_1, y_1, z_1, x_2, ...)."""
    out: list[float] = []
    for _ in range(n):
        out.extend(sphere_point(r))
    return out


def normalise(x: Sequence[float]) -> list[float]:
    """Each charge x_i scaled to unit length (a charge at the origin stays there).

    A row whose largest |coordinate| m lies outside [1e-300, 1e300] is divided by m first:
    its length would overflow (1e308 in every coordinate) or be a subnormal float with a
    few significant bits (1e-320: lengths off by 1e-4), and either way the quotient would
    not be a unit vector. Scaled, every row comes out of unit length to rounding; rows of
    ordinary size take the plain path, bit for bit as before (and as the loss computes it).
    """
    out: list[float] = []
    for i in range(0, len(x), 3):
        a, b, c = float(x[i]), float(x[i + 1]), float(x[i + 2])
        m = max(abs(a), abs(b), abs(c))
        if not 1e-300 <= m <= 1e300 and 0.0 < m < math.inf:
            a, b, c = a / m, b / m, c / m
        r = math.hypot(a, b, c)
        out.extend((a / r, b / r, c / r) if r > 0.0 else (a, b, c))
    return out


def closest_pair(u: Sequence[float], within: float) -> tuple[int, int, float] | None:
    """The closest pair (i, j, distance), i < j counted from 0, of the charges of the flat
    vector ``u`` (unit charges) among those at most ``within`` apart; None if there are none.

    ``within`` must be small (< 1e-7): the charges are hashed into cubes of side 1e-6 and
    only neighbouring cubes are compared, so this takes O(N) time where the full pairwise
    scan would take O(N²) (a million pairs for N = 1414)."""
    side = 1e-6
    cells: dict[tuple[int, int, int], list[int]] = {}
    pts = [tuple(u[k : k + 3]) for k in range(0, len(u), 3)]
    best: tuple[int, int, float] | None = None
    for j, p in enumerate(pts):
        key = (math.floor(p[0] / side), math.floor(p[1] / side), math.floor(p[2] / side))
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for dz in (-1, 0, 1):
                    for i in cells.get((key[0] + dx, key[1] + dy, key[2] + dz), ()):
                        d = math.dist(pts[i], p)
                        if d <= within and (best is None or d < best[2]):
                            best = (i, j, d)
        cells.setdefault(key, []).append(j)
    return best


def energy(x: Sequence[float]) -> float:
    """E of the normalised charges, summed exactly (math.fsum), in plain floats; +inf when
    two charges coincide (as E is there: an optimizer's or an aligned configuration can)."""
    u = normalise(x)
    pts = [tuple(u[i : i + 3]) for i in range(0, len(u), 3)]
    dists = (math.dist(pts[i], pts[j]) for i in range(len(pts)) for j in range(i + 1, len(pts)))
    return math.fsum(1.0 / d if d > 0.0 else math.inf for d in dists)


def refuse_close_points(
    u: Sequence[float], where: str, first: int, noun: str, consequence: str
) -> None:
    """An input error naming the two points (numbered from ``first``, after ``where``: "its
    charges 2 and 5") when two of the unit vectors ``u`` coincide, where ``consequence``
    ("the energy is infinite"), or lie closer than :data:`MIN_SEPARATION` (the same point
    to rounding, with a Coulomb term 1/d as large as 1e12 or more)."""
    pair = closest_pair(u, MIN_SEPARATION)
    if pair is None:
        return
    i, j, d = pair
    what = f"{where} {i + first} and {j + first}"
    if d == 0.0:
        raise InputError(
            f"{what} are the same {noun} (after normalising each to unit length), where "
            f"{consequence}; remove one, or move it"
        )
    raise InputError(
        f"{what} are {noun}s {d:.1e} apart (after normalising each to unit length), closer "
        f"than {MIN_SEPARATION:g}: the same {noun} to rounding (1/d = {1.0 / d:.0e}); remove "
        "one, or move it"
    )


def check_start(x: Sequence[float], where: str, noun: str, consequence: str) -> None:
    """A starting configuration of unit vectors given as ``x`` (three coordinates each)
    has none at the origin (no direction) and no two that coincide (after normalising):
    else an input error naming them (see :func:`refuse_close_points`)."""
    for i in range(0, len(x), 3):
        if not any(x[i : i + 3]):
            raise InputError(
                f"{where} puts {noun} {i // 3 + 1} at the origin; a {noun} needs a direction"
            )
    refuse_close_points(normalise(x), f"{where} {noun}s", 1, noun, consequence)


class SphereScene:
    """The drawing of N points on the unit sphere (a flat 3N parameter, normalised): the
    sphere in orthographic view, the points filled on the near side and hollow on the far
    side, the edges of their convex hull. Shared by the problems whose parameter is N
    points on the sphere (thomson, tammes); the problem has ``n``."""

    n: int

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        """None: an estimate is a whole configuration, drawn by :meth:`draw_estimate`."""
        return None

    def plot_bounds(
        self, extra: Sequence[Sequence[float]] = (), margin: float = 0.05
    ) -> tuple[float, float, float, float]:
        """The projected sphere: the unit disc (with ``margin`` around it)."""
        return bounding_box([-1.0, 1.0], [-1.0, 1.0], margin)

    def project(self, x: Sequence[float]) -> tuple[list[float], list[float], list[float]]:
        """The normalised charges in the orthographic view :data:`VIEW`: screen x, screen y,
        and depth (> 0 on the front hemisphere, facing the viewer)."""
        u = normalise(x)
        ex, ey, ev = _view_axes()
        pts = [u[i : i + 3] for i in range(0, len(u), 3)]
        return (
            [_dot(p, ex) for p in pts],
            [_dot(p, ey) for p in pts],
            [_dot(p, ev) for p in pts],
        )

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """The sphere in orthographic view (elevation 20°, azimuth -60°): its outline, a
        translucent disc, the equator and the meridian of the x-z plane, far halves dotted;
        with ``x``, the charges as :meth:`draw_estimate` draws them."""
        from matplotlib.patches import Circle

        artists: list[Any] = []
        # a translucent disc: what lies behind the sphere shows through it, dimmed
        disc = Circle((0.0, 0.0), 1.0, facecolor=(0.88, 0.9, 0.93, 0.6), edgecolor="0.35",
                      lw=1.0, zorder=2)  # fmt: skip
        ax.add_patch(disc)
        artists.append(disc)
        steps = [2.0 * math.pi * k / 120 for k in range(121)]
        for circle in (
            [(math.cos(t), math.sin(t), 0.0) for t in steps],  # equator
            [(math.cos(t), 0.0, math.sin(t)) for t in steps],  # meridian through the x axis
        ):
            for front, xs, ys in view_halves(circle):
                artists += ax.plot(
                    xs, ys, color="0.55", lw=0.7, ls="-" if front else ":",
                    zorder=2.5 if front else 1.5,
                )  # fmt: skip
        ax.set_xlim(-1.08, 1.08)
        ax.set_ylim(-1.08, 1.08)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"orthographic view; filled: near side, hollow: far side (N = {self.n})")
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
        """The charges of ``x`` (normalised) in the orthographic view, and the edges of their
        convex hull: near-side charges filled above the sphere's disc, far-side ones hollow
        and faint below it; visible edges in ``linestyle``, hidden ones dotted."""
        sx, sy, depth = self.project(x)
        artists: list[Any] = []
        ms = max(3.0, min(8.0, 9.0 - self.n / 12.0))
        for a, b, visible in hull_edges(normalise(x), _view_axes()[2]):
            artists += ax.plot(
                [sx[a], sx[b]], [sy[a], sy[b]], color=color,
                ls=linestyle if visible else ":", lw=1.0 if visible else 0.7,
                alpha=alpha * (0.8 if visible else 0.35), zorder=3 if visible else 1,
            )  # fmt: skip
        front = [k for k in range(self.n) if depth[k] >= 0.0]
        back = [k for k in range(self.n) if depth[k] < 0.0]
        if back:
            artists += ax.plot(
                [sx[k] for k in back], [sy[k] for k in back], ls="none", marker=marker,
                ms=ms * 0.85, mfc="none", mec=color, mew=1.0, alpha=alpha * 0.5, zorder=1.2,
            )  # fmt: skip
        artists += ax.plot(
            [sx[k] for k in front], [sy[k] for k in front], ls="none", marker=marker, ms=ms,
            mfc=color, mec="black", mew=0.6, alpha=alpha, zorder=4, label=label,
        )  # fmt: skip
        return artists


class Thomson(SphereScene, Problem):
    """N unit charges on the sphere minimising the Coulomb energy (see the module docstring)."""

    name = "thomson"
    description = "Thomson problem: N unit charges on the sphere with the least Coulomb energy"
    options = (
        Option("n", int, 12, "number of charges", min=2, metavar="N", generator=True),
        Option("seed", int, 5, "random seed of the starting configuration(s)", metavar="SEED"),
        Option(
            "restarts",
            int,
            1,
            "solve from K seeded starts and keep the lowest energy",
            min=1,
            metavar="K",
        ),
        Option(
            "points",
            Path,
            None,
            "load the starting configuration: x,y,z per line (normalised), N = rows",
            metavar="FILE",
        ),
        Option(
            "reference",
            bool,
            False,
            f"compute a reference beyond the published table (N > {max(KNOWN_ENERGIES)}): the "
            f"best of {UNTABULATED_STARTS} L-BFGS starts, with progress; slow for large N "
            "(about a minute for N = 500, several for N = 1000)",
        ),
    )

    data_items = "charges"
    reference_modules = ("numpy", "scipy.optimize")
    # Memory goes with the N(N-1)/2 pairs (index tuples, the graph of a loss evaluation:
    # ~320 B per pair measured, RSS) plus the history of 3N-vectors (planned_memory).
    bytes_per_item = 600
    size_unit = "charge pairs"
    # E is invariant under the orthogonal group and relabelling: every minimiser comes
    # with its whole orbit (assess measures distances after aligning onto the reference).
    optimum_unique = False
    optimum_note = (
        "the energy is the same after any rotation or reflection of the sphere and any "
        "relabelling of the charges"
    )

    # ------------------------------------------------------------------ data

    def setup(self) -> None:
        s = self.settings
        if s["points"] is not None:
            ps = load_points(s["points"], weights=False, dim=3, min_points=2, what="charges file")
            for i, p in enumerate(ps.points, start=1):
                if not any(p):
                    raise InputError(
                        f"{s['points']}: row {i} is the origin; a charge needs a direction"
                    )
            self.check_request({**s, "n": ps.n})  # before the pairs are built
            self._start = normalise([v for p in ps.points for v in p])
            self._refuse_close_charges(self._start, f"{s['points']}: rows", 1)
            self.n = ps.n
            s["n"] = ps.n
            self.source = str(s["points"])
        else:
            self.n = s["n"]
            self._start = random_configuration(random.Random(s["seed"]), self.n)
            self.source = "generated"
        n = self.n
        # Index lists, built once: coordinates of each charge, then both ends of each pair.
        self._ix = tuple(range(0, 3 * n, 3))
        self._iy = tuple(range(1, 3 * n, 3))
        self._iz = tuple(range(2, 3 * n, 3))
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        self._pi = tuple(p[0] for p in pairs)
        self._pj = tuple(p[1] for p in pairs)
        self._reference = None
        self._aligned: tuple[tuple[float, ...], tuple[float, ...], list[float]] | None = None

    @staticmethod
    def _refuse_close_charges(u: Sequence[float], where: str, first: int) -> None:
        """:func:`refuse_close_points` for charges: the energy is infinite where two meet."""
        refuse_close_points(u, where, first, "charge", "the energy is infinite")

    @classmethod
    def planned_items(cls, settings: dict[str, Any]) -> float | None:
        """The N(N-1)/2 pairs of charges: what the loss (and its memory) goes with."""
        n = settings.get("n")
        return n * (n - 1) / 2.0 if isinstance(n, int) else None

    @classmethod
    def planned_memory(cls, settings: dict[str, Any]) -> float | None:
        """The pairs' bytes, plus a solve's history: up to 2 x 2000 recorded 3N-vectors
        of Python floats (the run's and its aligned copy), 32 B a float."""
        pairs = super().planned_memory(settings)
        n = settings.get("n")
        return None if pairs is None or not isinstance(n, int) else pairs + 4000 * 3 * n * 32.0

    @property
    def data_dim(self) -> int:
        """3: the charges are points of R³ (on the unit sphere)."""
        return 3

    def data_summary(self) -> str:
        """The data are a starting configuration: generated (n, seed) or read from a file;
        with restarts, the further starts' seed."""
        s = self.settings
        head = f"{self.n} charges on the unit sphere in R^3"
        if s["points"] is None:
            text = f"{head}: a starting configuration generated with n={self.n}, seed={s['seed']}"
            if s["restarts"] > 1:
                text += f", and {s['restarts'] - 1} more from the same generator"
            return text
        text = f"{head}: the starting configuration from {s['points']} (normalised)"
        if s["restarts"] > 1:
            text += f"; {s['restarts'] - 1} more starts generated with seed={s['seed']}"
        return text

    def component_specs(self) -> list[Component]:
        """Charge i's coordinates: "charge 1 x", "charge 1 y", "charge 1 z", ..."""
        return [Component(f"charge {i + 1} {c}") for i in range(self.n) for c in "xyz"]

    @property
    def dim(self) -> int:
        return 3 * self.n

    def check_point(self, values: Sequence[float] | str | Any, what: str = "x") -> list[float]:
        """The base class's check; a starting configuration (``x0``, ``--x0``) must moreover
        have no charge at the origin and no two charges closer than :data:`MIN_SEPARATION`
        (after normalising), like a ``--points`` file."""
        out = super().check_point(values, what)
        if what in ("x0", "--x0"):
            check_start(out, f"{self.name}: {what}", "charge", "the energy is infinite")
        return out

    def default_x0(self) -> list[float]:
        """The seeded (or loaded) starting configuration, on the unit sphere."""
        return list(self._start)

    def starts(self, count: int, x0: Sequence[float] | None = None) -> list[list[float]]:
        """``count`` starting configurations: ``x0`` (default :attr:`x0`), then seeded ones.

        Start k >= 1 is the k-th configuration drawn from ``random.Random(seed)``
        (the 0th is the generated ``x0``), whether or not ``x0`` was given.
        """
        return list(self.iter_starts(count, x0))

    def iter_starts(self, count: int, x0: Sequence[float] | None = None) -> Iterator[list[float]]:
        """:meth:`starts`, drawn one at a time (many restarts need no more memory)."""
        r = random.Random(self.settings["seed"])
        yield list(self.x0) if x0 is None else list(x0)
        random_configuration(r, self.n)  # the 0th, the generated x0
        for _ in range(count - 1):
            yield random_configuration(r, self.n)

    @property
    def known_energy(self) -> float | None:
        """The table's smallest known energy for this N, or None beyond the table."""
        return KNOWN_ENERGIES.get(self.n)

    # ------------------------------------------------------------------ maths

    def loss(self, x: Tensor) -> Tensor:
        """E(x_1/||x_1||, ..., x_N/||x_N||) through the engine, vectorised over pairs."""
        if not isinstance(x, Tensor):
            x = Tensor(x)
        cx, cy, cz = x[self._ix], x[self._iy], x[self._iz]
        r = F.norm(cx, cy, cz)
        ux, uy, uz = cx / r, cy / r, cz / r
        i, j = self._pi, self._pj
        d = F.norm(ux[i] - ux[j], uy[i] - uy[j], uz[i] - uz[j])
        return F.sum(1.0 / d)

    def objective(self, x: Sequence[float]) -> float:
        """:func:`energy`: the same float as :meth:`loss` evaluated without a graph (both
        sum by fsum; measured bit-identical for N = 2..100, random, near-optimal and off
        the sphere), kept because it is 4-10 times faster: scipy's Nelder-Mead baseline
        evaluates it 30000 times, and through the engine ``geograd compare thomson --n 50``
        took 1.6 times as long (67 s against 42; Nelder-Mead 34 s against 6)."""
        return energy(x)

    def gradient(self, x: Sequence[float]) -> list[float]:
        """(I - u_i u_iᵀ) f_i / r_i with f_i = -Σ_{j≠i} (u_i - u_j)/||u_i - u_j||³."""
        p = [float(v) for v in x]
        n = self.n
        u = normalise(p)
        radii = [math.hypot(p[3 * i], p[3 * i + 1], p[3 * i + 2]) for i in range(n)]
        forces: list[list[list[float]]] = [[[], [], []] for _ in range(n)]
        for i in range(n):
            ui = u[3 * i : 3 * i + 3]
            for j in range(i + 1, n):
                diff = [ui[k] - u[3 * j + k] for k in range(3)]
                d = math.hypot(*diff)
                if d < OVERFLOW_SEPARATION:
                    raise InputError(
                        f"thomson: charges {i + 1} and {j + 1} are {d:.1e} apart, where the "
                        "gradient is infinite (or overflows); move one of them"
                    )
                inv3 = d**-3
                for k in range(3):
                    forces[i][k].append(-diff[k] * inv3)
                    forces[j][k].append(diff[k] * inv3)
        out: list[float] = []
        for i in range(n):
            f = [math.fsum(c) for c in forces[i]]
            ui = u[3 * i : 3 * i + 3]
            radial = math.fsum(a * b for a, b in zip(f, ui))
            out.extend((f[k] - radial * ui[k]) / radii[i] for k in range(3))
        return out

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """The Riemannian gradient norm at the normalised charges (0 at every stationary
        configuration: a measure, not a test of global optimality), and the energy's gap to
        the table's smallest known energy (None beyond the table)."""
        u = normalise(self.check_point(x, "x"))
        closest = min_pair_distance(u)
        # charges that coincide (an optimizer that never left a start with a close pair, its
        # answer rotated onto the reference): E and its gradient are infinite there
        value = math.hypot(*self.gradient(u)) if closest >= OVERFLOW_SEPARATION else math.inf
        e = energy(u)
        known = self.known_energy
        summary = f"Riemannian gradient norm {value:.2g}; energy {e:.9f}"
        if known is not None:
            summary += f" ({e - known:+.2g} from the table's {known:.9f})"
        return {
            "value": value,
            "kind": "riemannian_gradient_norm",
            "optimal": None,
            "summary": summary,
            "energy": e,
            "known_energy": known,
            "gap_to_known": None if known is None else e - known,
            "min_distance": closest,
        }

    # ------------------------------------------------------------- reference

    @property
    def reference_available(self) -> bool:
        """Whether :meth:`reference` will compute one: N in the published table (quick: the
        first seeded start almost always reaches it), or the ``reference`` option asked for
        the slow search beyond it."""
        return self.known_energy is not None or bool(self.settings["reference"])

    def reference_estimate(self) -> float:
        """Roughly how many seconds the reference beyond the table takes (see
        :data:`LBFGS_RATE`): :data:`UNTABULATED_STARTS` starts."""
        n = float(self.n)
        polish = POLISH_RATE * n**3 if n <= POLISH_MAX_N else 0.0
        return UNTABULATED_STARTS * (START_S + LBFGS_RATE * math.pow(n, 2.5) + polish)

    def compute_reference(self) -> Reference:
        """A configuration that reaches the table's energy (see the module docstring).

        ``loss`` is that configuration's energy (exact to rounding), which agrees with
        the table's within :data:`TABLE_TOL` (``details["table_energy"]``); were no
        start to reach the table, ``loss`` would be the table's value and
        ``details["configuration_reaches_table"]`` False. ``details["time_s"]`` is the
        time it took (a solve computes the reference first, to align its answer).

        Beyond the table the search takes minutes for large N, so it runs only
        when the ``reference`` option asks for it (else :class:`ReferenceUnavailable`,
        saying what it would cost); it reports its progress through
        :meth:`~Problem.report_work` at each start and L-BFGS iteration.
        """
        known = self.known_energy
        if not self.reference_available:
            raise ReferenceUnavailable(
                f"unavailable: N={self.n} is beyond the published table "
                f"(N<={max(KNOWN_ENERGIES)}); pass --reference (reference=True) to compute "
                f"it (best of {UNTABULATED_STARTS} L-BFGS starts, estimated "
                f"{format_seconds(self.reference_estimate())})"
            )
        t0 = time.perf_counter()
        limit = REFERENCE_STARTS if known is not None else UNTABULATED_STARTS
        best: tuple[list[float], float, float] | None = None
        tried = 0
        what = f"thomson reference, N={self.n}: seeded L-BFGS starts"
        for k in range(limit):
            tried = k + 1
            hold_point("reference-start")
            self.report_work(what, k, limit)
            start = random_configuration(random.Random(REFERENCE_SEED + k), self.n)

            def progress(_: int, k: int = k) -> None:
                self.report_work(what, k, limit)

            u, e, g = local_minimum(start, progress=progress)
            if best is None or e < best[1]:
                best = (u, e, g)
            if known is not None and best[1] <= known + TABLE_TOL:
                break
        assert best is not None
        self.report_work(what, tried, limit)
        u, e, g = best
        e = energy(u)
        details: dict[str, Any] = {
            "configuration_energy": e,
            "configuration_gradient_norm": g,
            "starts": tried,
            "local_solver": "scipy L-BFGS-B on the normalised energy, then Newton polish",
        }
        details["time_s"] = time.perf_counter() - t0
        if known is not None:
            reaches = abs(e - known) <= TABLE_TOL
            details.update(
                table_energy=known,
                source=TABLE_SOURCE,
                table_tolerance=TABLE_TOL,
                configuration_reaches_table=reaches,
            )
            # The configuration's own energy is exact to rounding where the table's ninth
            # decimal is rounded or truncated: gaps to it mean something down to 1e-14.
            method = "table of smallest known energies"
            return Reference(x=u, loss=e if reaches else known, method=method, details=details)
        details["note"] = f"N = {self.n} is beyond the shipped table (N <= {max(KNOWN_ENERGIES)})"
        return Reference(
            x=u, loss=e, method=f"best of {tried} L-BFGS starts (N not in the table)",
            details=details,
        )  # fmt: skip

    # ---------------------------------------------------------------- symmetry

    def canonical(self, x: Sequence[float], target: Sequence[float] | None = None) -> list[float]:
        """``x`` normalised and mapped, by the orthogonal transformation and permutation of the
        charges that bring it closest, onto ``target`` (default: the reference configuration).
        The energy is unchanged."""
        u = normalise(self.check_point(x, "x"))
        goal = self.reference().x if target is None else target
        move = alignment(u, goal)
        return move(u)

    def _aligner(
        self, x: Sequence[float], compute: bool = True
    ) -> Callable[[Sequence[float]], list[float]] | None:
        """The map onto the reference configuration, or None without one: beyond the table
        unless asked, without scipy, or (``compute=False``) not computed yet. Ctrl-C while
        the reference is computed propagates (a reference never swallows it)."""
        if not (self.reference_cached or (compute and self.reference_available)):
            return None
        try:
            goal = self.reference().x
        except Exception:
            # no reference (no scipy, interrupted earlier, ...): the solution stays in the
            # optimizer's frame, and the caller's own reference() call reports why
            return None
        return alignment(normalise(x), goal)

    def distance(self, x: Sequence[float], y: Sequence[float]) -> float:
        """The distance from ``x`` to ``y`` after mapping ``x`` onto ``y`` by :meth:`canonical`
        (modulo the symmetries of E)."""
        return math.dist(self._aligned_onto(x, y), y)

    def _aligned_onto(self, x: Sequence[float], y: Sequence[float]) -> list[float]:
        key = (tuple(float(v) for v in x), tuple(float(v) for v in y))
        if self._aligned is None or self._aligned[:2] != key:
            self._aligned = (*key, self.canonical(x, target=y))
        return list(self._aligned[2])

    def assess(self, x: Sequence[float], reference: Reference | None = None) -> dict[str, Any]:
        """The base report, with ``distance`` measured after :meth:`canonical` (modulo the
        symmetries of E) and ``aligned_solution`` the point it was measured from."""
        ref = self.reference() if reference is None else reference
        out = super().assess(x, reference=ref)
        out["aligned_solution"] = self._aligned_onto(out["solution"], ref.x)
        return out

    # ---------------------------------------------------------------- solving

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """Settings for :func:`geograd.minimize`; see the module docstring for the reasons."""
        from geograd.optim.schedules import Exponential

        name = (optimizer or DEFAULT_OPTIMIZER).strip().lower()
        steps = max_steps or 20000
        if name == "gd":
            return {"optimizer": "gd", "lr": 0.1, "c1": 0.5, "gtol": GTOL, "max_steps": steps}
        if name == "trust-ncg":
            # Newton steps from exact Hessian-vector products: tens of steps for N <= 50.
            return {"optimizer": name, "lr": TRUST_RADIUS, "gtol": GTOL,
                    "max_steps": max_steps or 1000}  # fmt: skip
        curvature = 0.2 * self.n**1.5 + 1.0
        if name in ("nag", "momentum", "sgd"):
            out: dict[str, Any] = {
                "optimizer": name,
                "lr": 1.0 / curvature,
                "gtol": GTOL,
                "max_steps": steps,
                # a close pair at the start has forces ~1/d²: clip so that no step
                # moves a charge by more than ~0.3 radians
                "clip_norm": 0.3 * curvature,
            }
            if name != "sgd":
                out["momentum"] = MOMENTUM
            return out
        lr, budget, scheduled = ADAPTIVE.get(name, (0.01, 20000, True))
        steps = max_steps or budget
        out = {"optimizer": name, "lr": lr, "gtol": GTOL, "max_steps": steps}
        if scheduled:
            out["schedule"] = Exponential(1e-6 ** (1.0 / steps))
        if name == "adamw":
            out["weight_decay"] = 0.0  # decay would pull the charges off the sphere
        return out

    # ------------------------------------------------ the solve template's hooks

    def restarts(self) -> int:
        """The ``restarts`` option: the solve keeps the lowest energy of that many starts."""
        return int(self.settings["restarts"])

    def start_points(self, count: int, first: Sequence[float]) -> Iterator[list[float]]:
        """:meth:`iter_starts`: ``first``, then seeded random configurations."""
        return self.iter_starts(count, first)

    def manifold(self) -> Any:
        """N unit vectors in R^3: a first-order optimizer steps on the spheres itself."""
        from geograd.manifolds import Spheres

        return Spheres(self.n, 3)

    def projection(self) -> Callable[[list[float]], Sequence[float]]:
        """Every charge back on the sphere after each step (x_i ← x_i/||x_i||, which leaves
        the loss unchanged): the retraction of a Riemannian method (module docstring)."""
        return normalise

    def canonical_map(
        self, x: Sequence[float], *, compute: bool = True
    ) -> Callable[[Any], Any] | None:
        """Unit charges mapped onto the reference configuration (a rotation, a reflection
        and an order of the charges), when a reference is cheap to have: N in the table,
        one already computed, or asked for; after an interrupt, only one computed."""
        move = self._aligner(x, compute=compute)
        if move is None:
            return None
        return lambda v: move(normalise(v))

    def _interrupt_place(self) -> str:
        return "outside the optimizer's loop (between starts, or aligning the answer)"

    def baselines(
        self,
        methods: Sequence[str] = DEFAULT_BASELINES,
        *,
        x0: Sequence[float] | None = None,
        options: dict[str, dict[str, Any]] | None = None,
    ) -> list[Baseline]:
        """scipy.optimize.minimize on the normalised loss (see the base class), each result
        mapped onto the reference like :meth:`solve`'s."""
        runs = super().baselines(methods, x0=x0, options=options)
        for b in runs:
            move = self._aligner(b.x)
            if move is not None:
                b.x = move(normalise(b.x))
        return runs

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Random configurations: on the sphere, off it (radii in [0.5, 2], which checks the
        normalisation's part of the gradient), and with two charges 0.05 apart (forces of 400)."""
        r = random.Random(seed)
        pts: list[list[float]] = []
        for k in range(count):
            u = random_configuration(r, self.n)
            if k % 3 == 1:
                scales = [r.uniform(0.5, 2.0) for _ in range(self.n)]
                u = [v * scales[i // 3] for i, v in enumerate(u)]
            elif k % 3 == 2:
                a = u[0:3]
                t = [r.gauss(0.0, 1.0) for _ in range(3)]
                dot = sum(p * q for p, q in zip(a, t))
                tang = [q - dot * p for p, q in zip(a, t)]
                nt = math.hypot(*tang) or 1.0
                u[3:6] = [p + 0.05 * q / nt for p, q in zip(a, tang)]
            pts.append(u)
        return pts

    # ------------------------------------------------------------- describing

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["data"] = {"source": self.source, "n": self.n, "known_energy": self.known_energy}
        return out


# ------------------------------------------------------------------------------ helpers


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return float(a[0] * b[0] + a[1] * b[1] + a[2] * b[2])


def view_halves(
    curve: Sequence[Sequence[float]],
) -> list[tuple[bool, list[float], list[float]]]:
    """A curve on the sphere in the orthographic view, as its near half and its far half:
    ``(front, xs, ys)`` each, NaN where the point lies on the other side (so each half
    is one line with gaps)."""
    ex, ey, ev = _view_axes()
    halves = []
    for front in (True, False):
        xs, ys = [], []
        for p in curve:
            on_side = (_dot(p, ev) >= 0.0) == front
            xs.append(_dot(p, ex) if on_side else math.nan)
            ys.append(_dot(p, ey) if on_side else math.nan)
        halves.append((front, xs, ys))
    return halves


def _view_axes() -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """Screen x, screen y and the direction towards the viewer, for :data:`VIEW`."""
    elev, azim = (math.radians(v) for v in VIEW)
    ev = (math.cos(elev) * math.cos(azim), math.cos(elev) * math.sin(azim), math.sin(elev))
    ex = (-math.sin(azim), math.cos(azim), 0.0)
    ey = (
        ev[1] * ex[2] - ev[2] * ex[1],
        ev[2] * ex[0] - ev[0] * ex[2],
        ev[0] * ex[1] - ev[1] * ex[0],
    )
    return ex, ey, ev


def min_pair_distance(u: Sequence[float]) -> float:
    """The smallest distance between two charges."""
    pts = [tuple(u[i : i + 3]) for i in range(0, len(u), 3)]
    return min(
        (math.dist(pts[i], pts[j]) for i in range(len(pts)) for j in range(i + 1, len(pts))),
        default=math.inf,
    )


def hull_edges(u: Sequence[float], towards: Sequence[float]) -> list[tuple[int, int, bool]]:
    """The edges (a, b, visible) of the convex hull of the charges (all pairs for N <= 3):
    an edge is visible when a face next to it faces the viewer (``towards``)."""
    n = len(u) // 3
    if n <= 3:
        pts = [u[i : i + 3] for i in range(0, len(u), 3)]
        out = []
        for a in range(n):
            for b in range(a + 1, n):
                mid = [(p + q) / 2 for p, q in zip(pts[a], pts[b])]
                out.append((a, b, _dot(mid, towards) >= 0.0))
        return out
    import numpy as np
    from scipy.spatial import ConvexHull, QhullError  # type: ignore[import-untyped]

    try:
        hull = ConvexHull(np.asarray(u, dtype=float).reshape(n, 3))
    except (QhullError, ValueError):
        return []
    facing = hull.equations[:, :3] @ np.asarray(towards, dtype=float) > 0.0
    seen: dict[tuple[int, int], bool] = {}
    for simplex, front in zip(hull.simplices, facing):
        s = [int(v) for v in simplex]
        for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2])):
            key = (min(a, b), max(a, b))
            seen[key] = seen.get(key, False) or bool(front)
    return [(a, b, v) for (a, b), v in sorted(seen.items())]


# ---------------------------------------------------------------- numpy: local minima


def _energy_grad_np(z: Any, n: int) -> tuple[float, Any]:
    """(E, ∂L/∂x) of the normalised loss at the flat vector z, in numpy: the reference
    search's own (N = 50: 412 evaluations a start, 0.3 ms each, the engine's value and
    gradient 4 ms)."""
    import numpy as np

    x = z.reshape(n, 3)
    r = np.sqrt(np.einsum("ij,ij->i", x, x))
    u = x / r[:, None]
    diff = u[:, None, :] - u[None, :, :]
    d = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    np.fill_diagonal(d, np.inf)
    inv = 1.0 / d
    e = 0.5 * float(inv.sum())
    f = -np.einsum("ijk,ij->ik", diff, inv**3)
    g = (f - np.einsum("ij,ij->i", f, u)[:, None] * u) / r[:, None]
    return e, g.ravel()


def local_minimum(
    start: Sequence[float],
    polish_max_n: int = POLISH_MAX_N,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[float], float, float]:
    """A local minimum of E from ``start``: scipy's L-BFGS-B on the normalised loss (twice,
    renormalising in between), then Newton steps on a finite-difference Hessian of the
    gradient (minimum-norm, so that the flat radial and rotational directions are left
    alone) until the gradient stops shrinking. Returns (unit charges, E, gradient norm).
    ``progress(k)`` is called at each L-BFGS iteration and Hessian column (k counts them)."""
    import numpy as np
    from scipy.optimize import minimize as scipy_minimize  # type: ignore[import-untyped]

    n = len(start) // 3

    def unit(z: Any) -> Any:
        x = z.reshape(n, 3)
        return (x / np.linalg.norm(x, axis=1)[:, None]).ravel()

    ticks = [0]

    def tick(*_: Any) -> None:
        ticks[0] += 1
        if progress is not None:
            progress(ticks[0])

    z = unit(np.asarray(start, dtype=float))
    for _ in range(2):
        res = scipy_minimize(
            _energy_grad_np, z, args=(n,), jac=True, method="L-BFGS-B", callback=tick,
            options={"maxiter": 20000, "gtol": 1e-12, "ftol": 1e-15, "maxcor": 30},
        )  # fmt: skip
        z = unit(res.x)
    e, g = _energy_grad_np(z, n)
    gnorm = float(np.linalg.norm(g))
    if n <= polish_max_n:
        h = 1e-5
        for _ in range(8):
            if gnorm < 1e-13 * max(1.0, e):
                break
            hess = np.empty((3 * n, 3 * n))
            for k in range(3 * n):
                tick()
                step = np.zeros(3 * n)
                step[k] = h
                hess[:, k] = (_energy_grad_np(z + step, n)[1] - _energy_grad_np(z - step, n)[1]) / (
                    2 * h
                )
            hess = 0.5 * (hess + hess.T)
            move = np.linalg.lstsq(hess, -g, rcond=1e-9)[0]
            z_new = unit(z + move)
            e_new, g_new = _energy_grad_np(z_new, n)
            if not float(np.linalg.norm(g_new)) < gnorm:
                break
            z, e, g, gnorm = z_new, e_new, g_new, float(np.linalg.norm(g_new))
    return [float(v) for v in z], e, gnorm


# ---------------------------------------------------------------- numpy: alignment


def alignment(
    u: Sequence[float], target: Sequence[float]
) -> Callable[[Sequence[float]], list[float]]:
    """The map v ↦ (v's charges, each times Q, reordered by π) with the orthogonal Q and the
    permutation π that bring the unit configuration ``u`` closest to ``target``.

    Candidates for Q map an anchor pair of ``u`` (charge 0 and its nearest
    neighbour) onto every pair of ``target`` at nearly the same distance, both
    handednesses; the best few by a nearest-neighbour score are refined by
    alternating an optimal assignment (scipy's linear_sum_assignment) with the
    orthogonal Procrustes fit (SVD). Exact when ``u`` is ``target`` moved by a
    symmetry of E; otherwise the best match found.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    x = np.asarray(u, dtype=float).reshape(-1, 3)
    y = np.asarray(target, dtype=float).reshape(-1, 3)
    n = len(x)
    if len(y) != n:
        raise InputError(f"thomson: cannot align {n} charges with {len(y)}")

    gx = x @ x.T
    np.fill_diagonal(gx, -np.inf)
    b = int(np.argmax(gx[0]))
    cos_ab = float(x[0] @ x[b])
    gy = y @ y.T
    off = np.abs(gy - cos_ab)
    np.fill_diagonal(off, np.inf)
    order = np.argsort(off, axis=None)
    close = int(np.count_nonzero(off.ravel() <= 1e-6))
    take = order[: min(max(close, 8), 512, n * (n - 1))]
    cs, ds = np.unravel_index(take, off.shape)

    fx = _frames(x[[0]], x[[b]])[0]  # (3, 3): rows e1, e2, e3
    fy = _frames(y[cs], y[ds])  # (M, 3, 3)
    flip = fy.copy()
    flip[:, 2, :] *= -1.0
    qs = np.einsum("ki,mkj->mij", fx, np.concatenate([fy, flip]))  # x @ q maps the frames

    chunk = max(1, 2_000_000 // (n * n))
    scores = []
    for s in range(0, len(qs), chunk):
        cosines = np.einsum("ni,mij,kj->mnk", x, qs[s : s + chunk], y)
        scores.append(np.sum(2.0 - 2.0 * cosines.max(axis=2), axis=1))
    score = np.concatenate(scores)

    best_cost, best_q, best_perm = np.inf, np.eye(3), np.arange(n)
    for m in np.argsort(score)[:4]:
        q = qs[m]
        for _ in range(4):
            cost = 2.0 - 2.0 * (x @ q) @ y.T  # cost[i, j]: x_i moved onto y_j
            rows, cols = linear_sum_assignment(cost)
            perm = np.empty(n, dtype=int)
            perm[cols] = rows  # y_j is matched by x_perm[j]
            us, _, vt = np.linalg.svd(x[perm].T @ y)
            q = us @ vt
        total = float(np.sum((x[perm] @ q - y) ** 2))
        if total < best_cost:
            best_cost, best_q, best_perm = total, q, perm

    def move(v: Sequence[float]) -> list[float]:
        w = np.asarray(v, dtype=float).reshape(-1, 3)
        return [float(c) for c in (w[best_perm] @ best_q).ravel()]

    return move


def _frames(a: Any, b: Any) -> Any:
    """Orthonormal frames (rows e1 = a, e2 ⟂ a in the plane of a and b, e3 = e1 × e2), one per
    row pair; when b is (anti)parallel to a, e2 is any unit vector perpendicular to a."""
    import numpy as np

    e1 = a / np.linalg.norm(a, axis=1)[:, None]
    e2 = b - np.einsum("ij,ij->i", b, e1)[:, None] * e1
    norms = np.linalg.norm(e2, axis=1)
    bad = norms < 1e-9
    if bad.any():
        helper = np.where(np.abs(e1[:, [0]]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
        alt = helper - np.einsum("ij,ij->i", helper, e1)[:, None] * e1
        e2[bad] = alt[bad]
        norms = np.linalg.norm(e2, axis=1)
    e2 = e2 / norms[:, None]
    e3 = np.cross(e1, e2)
    return np.stack([e1, e2, e3], axis=1)
