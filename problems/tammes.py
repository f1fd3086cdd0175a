"""The Tammes problem: N points on the sphere as far apart as possible.

Objective, for points u_1..u_N on the unit sphere S², the smallest angular separation

    θ(u) = min_{i<j} arccos <u_i, u_j>,

to be maximised. Its largest known values for N = 3..40 are published (Sloane's tables of
spherical codes; proven optimal for N <= 14 and N = 24): :mod:`.known_optima`,
:data:`~geograd.problems.known_optima.TAMMES_DEGREES`, with provenance.

How "maximise the separation" becomes a loss to minimise
    arccos is decreasing, so maximising θ is minimising the largest cosine of a pair,

        L(x) = max_{i<j} <u_i, u_j>,      u_i = x_i / ||x_i||,

    over x = (x_1, y_1, z_1, x_2, ...) in R^{3N} (one unnormalised vector per point, as
    thomson's charges: L is defined everywhere but at x_i = 0, and every optimizer, scipy
    method and ``geograd check`` works on it unchanged). :meth:`Tammes.loss` is L (the
    engine has no arccos, and the cosine needs none); what is reported besides is the
    separation in degrees, θ = degrees(arccos L) (:meth:`Tammes.separation`), and every
    gap to the table is given in degrees (the certificate's ``gap_deg``, the match line,
    :meth:`Tammes.assess`'s ``gap_deg``). The base class's ``gap`` stays the loss's,
    cos θ - cos θ*, positive when the separation falls short.

    Gradient (closed form, :meth:`Tammes.gradient`). For a pair p = (i, j) with cosine
    c = <u_i, u_j>,

        ∂c/∂x_i = (u_j - c u_i) / ||x_i||,     ∂c/∂x_j = (u_i - c u_j) / ||x_j||,

    the tangential part of the other point, over the radius: at unit vectors, the
    Riemannian gradient on the product of spheres. L's gradient is the pair's where one
    pair is closest; where several tie, the mean of theirs (as the engine's ``max``
    shares a tie evenly).

Smoothing and continuation (the enclosing circle's, :mod:`.enclosing_circle`)
    L is not smooth: at the optimum many pairs are closest at once (the edges of the
    contact graph: 30 for the icosahedron). The solve minimises the log-sum-exp smoothing

        L_t(x) = (1/t) log Σ_{i<j} exp(t <u_i, u_j>),
        ∇L_t = Σ_p w_p ∇c_p,   w = softmax(t c),

    with L <= L_t <= L + log(N(N-1)/2)/t; cosines are dimensionless, so t is the
    temperature itself. As t grows its minimiser tends to L's. The temperature rises
    stage by stage, t = 30, 300, 3000, ... up to ``temperature`` (default
    :data:`FINAL_TEMPERATURE` = 1e10), each stage one :func:`geograd.minimize` run started
    where the previous ended (the :meth:`Tammes.stages` hook of the base class's solve
    template; see :mod:`.continuation` for why stages and not a moving target).

    Why the first temperature is 30 (:data:`FIRST_TEMPERATURE`), measured: from t = 1 (a
    soft repulsive energy) every start is funnelled into one configuration, and for
    N = 10, 13, 14 a non-optimal one (15 of 15 seeded starts each), so restarts could not
    help; from t = 30 the starts keep their own basins. Hits of the table (within
    :data:`MATCH_TOL_DEG`) in 10 seeded starts, first temperature 10 / 30 / 100:
    N = 10: 0 / 10 / 7, N = 13: 0 / 2 / 0, N = 14: 0 / 10 / 9, N = 15: - / 8 / -;
    N = 6, 7, 12, 20, 24: 10 of 10 from 30 (and 100); N = 32: 3 of 6 from 30. A higher
    first temperature costs steps (N = 12: 28 steps from 30, 65 from 100, 169 from 300).
    The last temperature sets the accuracy: the separation ends within about 2e-5
    degrees of the table's at 1e6, 1.4e-7 at 1e8, and within the table's own rounding
    (5e-8) at 1e10.

    Each stage runs ``trust-ncg`` (Steihaug-CG trust region on exact Hessian-vector
    products) with first trust radius 1/t (:data:`TRUST_RADIUS`; 1/t is the width of
    L_t's valley in cosine), stopping at ||∇L_t|| <= max(1e-9, 64 ε t) (below that,
    rounding in t·c is noise); 20000 steps in all, each stage keeping 200 for each later
    one. Other optimizers get per-stage settings in the same spirit (step 1/(t + 1), the
    inverse of the valley's curvature; the adaptive ones that in units of 1/t, lowered
    1000-fold within a stage), not tuned: trust-ncg is the one measured.

The sphere
    :meth:`Tammes.manifold` is ``Spheres(N, 3)`` and :meth:`Tammes.projection`
    normalises each point. The stages run through
    :func:`~geograd.problems.continuation.run_stages`: a first-order optimizer steps on
    the spheres Riemannian-style (retraction, transported state); the second-order ones
    (trust-ncg, the default; newton, lbfgs) step in R^{3N}, not projected (see
    :meth:`Tammes.projection`). Every reported point is normalised
    (:meth:`Tammes.canonical_map`).

Data
    The starting configuration: N points uniform on the sphere from
    ``random.Random(seed)`` (seed 5 by default), drawn as thomson draws its charges
    (:func:`geograd.problems.thomson.random_configuration`); ``--restarts K`` draws K
    configurations from the same generator, start 0 being ``x0``; the solve keeps the
    largest separation.

Reference
    The published separation for N = 3..40 (:data:`TAMMES_DEGREES`, 7 decimals;
    provenance per N in :data:`TAMMES_PROVENANCE`; proven optimal for N in
    :data:`PROVEN_OPTIMAL_TAMMES`). ``Reference.loss`` is its cosine. The table has no
    configurations, so ``Reference.x`` is one found here: the default continuation from
    seeded starts (seed :data:`REFERENCE_SEED` + k, independent of ``--seed``), stopping
    at the first whose separation is within :data:`MATCH_TOL_DEG` of the table (at most
    :data:`REFERENCE_STARTS`); ``details`` say how many starts it took and its own
    separation (``configuration_reaches_table`` False if none reached it: x is then the
    best found, and the table's value stays the reference). Beyond N = 40 there is no
    published value here: :class:`ReferenceUnavailable`, saying so.

Matching: by the separation, not the configuration
    Configurations are not unique, not even up to rotation, reflection and relabelling
    (N = 5: the triangular bipyramid's equator may turn; N = 19, 20 and others have
    "rattlers", points free to move inside their cage), so a distance between
    configurations says nothing. :meth:`Tammes.assess` judges a match by the separation:
    within :data:`MATCH_TOL_DEG` degrees of the table's. :meth:`Tammes.distance` is the
    difference of two configurations' separations, in degrees.

Canonical form
    :meth:`Tammes.canonical_map` normalises the points and rotates the configuration so
    that the first point of the closest pair (lowest indices) is the north pole and its
    partner lies in the x-z half-plane x > 0. It is cheap, exact and needs no reference;
    it fixes the rotation only (aligning onto the reference's configuration, as thomson
    does, would promise a comparison that non-unique optima cannot give).

Certificate
    ``separation_deg``, the table's ``table_deg`` and ``gap_deg`` = table − separation
    (None beyond the table); ``optimal`` is True where N is proven optimal and the gap is
    within :data:`MATCH_TOL_DEG`, False where the gap exceeds it (the table's value is
    reached by a known configuration, so a smaller separation is not optimal), None
    otherwise (best known, not proven). ``contacts``: the pairs within
    :data:`CONTACT_TOL_DEG` of the smallest separation.

Drawing
    The sphere and its points as thomson draws them (the shared
    :class:`~geograd.problems.thomson.SphereScene`), with the closest pairs (the
    contacts) drawn as great-circle arcs, thick.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import geograd.functional as F
from geograd import Tensor

from .base import Component, Option, Problem, Reference, ReferenceUnavailable
from .continuation import EPS, ROUNDING_FLOOR
from .known_optima import (
    PROVEN_OPTIMAL_TAMMES,
    SOURCES,
    TAMMES_DEGREES,
    TAMMES_PROVENANCE,
)
from .thomson import (
    SphereScene,
    _dot,
    check_start,
    normalise,
    random_configuration,
    view_halves,
)

DEFAULT_OPTIMIZER = "trust-ncg"
#: The continuation's first temperature and the factor between stages (t in 1/cosine).
FIRST_TEMPERATURE = 30.0
TEMPERATURE_FACTOR = 10.0
#: The default final temperature (``--temperature``).
FINAL_TEMPERATURE = 1e10
#: trust-ncg's first trust radius at each stage, in units of 1/t.
TRUST_RADIUS = 1.0
#: Stage gradient tolerance (never below ROUNDING_FLOOR·ε·t, the noise of ∇L_t).
GTOL = 1e-9
#: Steps each later stage keeps in reserve, and the total budget.
RESERVE = 200
BUDGET = 20000
#: A separation matches the table within this many degrees.
MATCH_TOL_DEG = 1e-6
#: Pairs within this many degrees of the smallest separation are its contacts.
CONTACT_TOL_DEG = 1e-5
#: Seeded starts the reference configuration may take, and the seed of the first.
REFERENCE_STARTS = 5
REFERENCE_SEED = 2_000_003
#: The adaptive optimizers: lr in units of 1/t at each stage; an exponential schedule
#: lowers it 1000-fold within each stage.
ADAPTIVE = {"adam": 0.1, "adamw": 0.1, "adamax": 0.3, "rmsprop": 0.03, "adagrad": 1.0}


def cosines(x: Sequence[float]) -> list[tuple[float, int, int]]:
    """(cos, i, j) of every pair i < j of the normalised points of ``x``, in plain floats
    (each dot product by fsum): for what needs the pairs themselves (the closed-form
    gradient, the contacts, the canonical form); the objective is the engine's loss."""
    u = normalise(x)
    n = len(u) // 3
    pts = [u[3 * i : 3 * i + 3] for i in range(n)]
    return [
        (math.fsum(a * b for a, b in zip(pts[i], pts[j])), i, j)
        for i in range(n)
        for j in range(i + 1, n)
    ]


def to_degrees(c: float) -> float:
    """The angle whose cosine is ``c`` (clamped to [-1, 1]), in degrees."""
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


class Tammes(SphereScene, Problem):
    """N points on the sphere maximising the smallest angular separation (module docstring)."""

    name = "tammes"
    description = "Tammes problem: N points on the sphere maximising the smallest separation"
    options = (
        Option("n", int, 12, "number of points", min=3, metavar="N", generator=True),
        Option("seed", int, 5, "random seed of the starting configuration(s)", metavar="SEED"),
        Option(
            "restarts",
            int,
            1,
            "solve from K seeded starts and keep the largest separation",
            min=1,
            metavar="K",
        ),
        Option(
            "temperature",
            float,
            FINAL_TEMPERATURE,
            "final smoothing temperature of the log-sum-exp continuation (from 1, by "
            "factors of 10)",
            min=1.0,
            max=1e12,
            metavar="T",
        ),
    )

    data_items = "points"
    optimum_unique = False
    optimum_note = (
        "the separation is the same after any rotation or reflection and relabelling of the "
        "points, and for some N (5, 19, 20, ...) the optimal configurations differ even up to "
        "these (points free to move)"
    )
    stage_key = "temperature"
    stage_reserve = RESERVE
    stage_budget = BUDGET

    # ------------------------------------------------------------------ data

    def setup(self) -> None:
        n = int(self.settings["n"])
        self.n = n
        self.source = "generated"
        self._start = random_configuration(random.Random(self.settings["seed"]), n)
        self._ix = tuple(range(0, 3 * n, 3))
        self._iy = tuple(range(1, 3 * n, 3))
        self._iz = tuple(range(2, 3 * n, 3))
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        self._pi = tuple(p[0] for p in pairs)
        self._pj = tuple(p[1] for p in pairs)
        self._reference = None

    @classmethod
    def planned_items(cls, settings: dict[str, Any]) -> float | None:
        """The N(N-1)/2 pairs: what the loss (and its memory) goes with."""
        n = settings.get("n")
        return n * (n - 1) / 2.0 if isinstance(n, int) else None

    # Like thomson's pairs: ~320 B per pair (index tuples, a loss evaluation's graph).
    bytes_per_item = 400

    @property
    def dim(self) -> int:
        return 3 * self.n

    @property
    def data_dim(self) -> int:
        """3: the points are in R³ (on the unit sphere)."""
        return 3

    def data_summary(self) -> str:
        s = self.settings
        text = (
            f"{self.n} points on the unit sphere in R^3: a starting configuration generated "
            f"with n={self.n}, seed={s['seed']}"
        )
        if s["restarts"] > 1:
            text += f", and {s['restarts'] - 1} more from the same generator"
        return text

    def component_specs(self) -> list[Component]:
        """Point i's coordinates: "point 1 x", "point 1 y", "point 1 z", ..."""
        return [Component(f"point {i + 1} {c}") for i in range(self.n) for c in "xyz"]

    def check_point(self, values: Sequence[float] | str | Any, what: str = "x") -> list[float]:
        """The base class's check; a starting configuration (``x0``, ``--x0``) must moreover
        have no point at the origin and no two points that coincide (after normalising):
        their separation is 0 there, and the gradient, the same on both, cannot part them
        (the solve stopped at once, the worst configuration)."""
        out = super().check_point(values, what)
        if what in ("x0", "--x0"):
            check_start(
                out, f"{self.name}: {what}", "point", "their separation is 0 and no step parts them"
            )
        return out

    def default_x0(self) -> list[float]:
        """The seeded starting configuration, on the unit sphere."""
        return list(self._start)

    @property
    def known_degrees(self) -> float | None:
        """The published separation for this N, degrees (None beyond the table)."""
        return TAMMES_DEGREES.get(self.n)

    # ------------------------------------------------------------------ maths

    def _cosines(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        cx, cy, cz = x[self._ix], x[self._iy], x[self._iz]
        r = F.norm(cx, cy, cz)
        ux, uy, uz = cx / r, cy / r, cz / r
        i, j = self._pi, self._pj
        return ux[i] * ux[j] + uy[i] * uy[j] + uz[i] * uz[j]

    def loss(self, x: Tensor) -> Tensor:
        """max_{i<j} <u_i, u_j> through the engine (the largest cosine of a pair); also the
        plain objective (the base class's: evaluated without a graph)."""
        return F.max(self._cosines(x))

    def smoothed_loss(self, x: Tensor, t: float) -> Tensor:
        """L_t = (1/t) log Σ exp(t <u_i, u_j>) (the engine's logsumexp shifts by the max)."""
        return F.logsumexp(self._cosines(x) * t) / t

    def stage_loss(self, t: float) -> Callable[[Tensor], Tensor]:
        """The smoothed loss at temperature t, as minimize's fun."""

        def fun(x: Tensor) -> Tensor:
            return self.smoothed_loss(x, t)

        return fun

    def separation(self, x: Sequence[float]) -> float:
        """The smallest angular separation of ``x``'s points, in degrees: the arccos of
        :meth:`objective` (the largest cosine)."""
        return to_degrees(self.objective(x))

    def _pair_gradients(
        self, x: Sequence[float], weights: Sequence[tuple[float, int, int]]
    ) -> list[float]:
        """Σ w_p ∂c_p/∂x over the weighted pairs (w, i, j)."""
        p = [float(v) for v in x]
        u = normalise(p)
        radii = [math.hypot(p[3 * i], p[3 * i + 1], p[3 * i + 2]) for i in range(self.n)]
        parts: list[list[list[float]]] = [[[], [], []] for _ in range(self.n)]
        for w, i, j in weights:
            ui, uj = u[3 * i : 3 * i + 3], u[3 * j : 3 * j + 3]
            c = math.fsum(a * b for a, b in zip(ui, uj))
            for k in range(3):
                parts[i][k].append(w * (uj[k] - c * ui[k]) / radii[i])
                parts[j][k].append(w * (ui[k] - c * uj[k]) / radii[j])
        return [math.fsum(parts[i][k]) for i in range(self.n) for k in range(3)]

    def gradient(self, x: Sequence[float]) -> list[float]:
        """The closest pair's ∂c/∂x: (u_j - c u_i)/||x_i|| at x_i, (u_i - c u_j)/||x_j|| at
        x_j; the mean over the pairs that tie for closest."""
        cs = cosines(x)
        top = max(c for c, _, _ in cs)
        tied = [(i, j) for c, i, j in cs if c == top]
        return self._pair_gradients(x, [(1.0 / len(tied), i, j) for i, j in tied])

    def smoothed_gradient(self, x: Sequence[float], t: float) -> list[float]:
        """∇L_t = Σ_p w_p ∂c_p/∂x with w = softmax(t c) (computed with the max shift)."""
        cs = cosines(x)
        top = max(c for c, _, _ in cs)
        e = [math.exp(t * (c - top)) for c, _, _ in cs]
        total = math.fsum(e)
        return self._pair_gradients(x, [(w / total, i, j) for w, (_, i, j) in zip(e, cs)])

    def contacts(self, x: Sequence[float], tol_deg: float = CONTACT_TOL_DEG) -> list[list[int]]:
        """The pairs [i, j] whose separation is within ``tol_deg`` of the smallest."""
        cs = cosines(x)
        least = to_degrees(max(c for c, _, _ in cs))
        return [[i, j] for c, i, j in cs if to_degrees(c) <= least + tol_deg]

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """The separation in degrees and its gap to the table (see the module docstring)."""
        p = self.check_point(x, "x")
        theta = self.separation(p)
        table = self.known_degrees
        proven = self.n in PROVEN_OPTIMAL_TAMMES
        gap = None if table is None else table - theta
        optimal: bool | None = None
        if gap is not None and gap > MATCH_TOL_DEG:
            optimal = False
        elif gap is not None and proven:
            optimal = True
        contacts = self.contacts(p)
        summary = f"smallest separation {theta:.7f} degrees, {len(contacts)} closest pairs"
        if gap is not None:
            kind = "proven optimal" if proven else "best known"
            summary += f"; gap {gap:.2g} degrees to the table's {table:.7f} ({kind})"
        return {
            "value": gap,
            "kind": "separation_gap_deg",
            "optimal": optimal,
            "summary": summary,
            "separation_deg": theta,
            "table_deg": table,
            "gap_deg": gap,
            "proven_optimal": proven if table is not None else None,
            "tolerance_deg": MATCH_TOL_DEG,
            "contacts": contacts,
        }

    # ------------------------------------------------------------- reference

    def compute_reference(self) -> Reference:
        """The published separation (its cosine as ``loss``), with a configuration that
        reaches it from seeded starts (see the module docstring)."""
        table = self.known_degrees
        if table is None:
            raise ReferenceUnavailable(
                f"unavailable: N={self.n} is beyond the published table of separations "
                f"(N = {min(TAMMES_DEGREES)}..{max(TAMMES_DEGREES)}, Sloane's tables of "
                "spherical codes); no best-known value to compare with"
            )
        t0 = time.perf_counter()
        best: tuple[float, list[float]] | None = None
        tried = 0
        what = f"tammes reference configuration, N={self.n}: seeded starts"
        for k in range(REFERENCE_STARTS):
            tried = k + 1
            self.report_work(what, k, REFERENCE_STARTS)
            start = random_configuration(random.Random(REFERENCE_SEED + k), self.n)
            res = self.solve(x0=start, restarts=1)
            theta = self.separation(res.x)
            if best is None or theta > best[0]:
                best = (theta, list(res.x))
            if table - best[0] <= MATCH_TOL_DEG:
                break
        assert best is not None
        self.report_work(what, tried, REFERENCE_STARTS)
        theta, u = best
        sources = TAMMES_PROVENANCE[self.n]
        return Reference(
            x=u,
            loss=math.cos(math.radians(table)),
            method="published separation (Sloane's tables of spherical codes)"
            if self.n != 3
            else "published separation (Fejes Toth 1943)",
            details={
                "table_deg": table,
                "proven_optimal": self.n in PROVEN_OPTIMAL_TAMMES,
                "sources": [SOURCES.get(s, s) for s in sources],
                "configuration_deg": theta,
                "configuration_gap_deg": table - theta,
                "configuration_reaches_table": table - theta <= MATCH_TOL_DEG,
                "configuration_from": f"the default continuation from seeded starts "
                f"(seed {REFERENCE_SEED} + k), the first within {MATCH_TOL_DEG:g} degrees",
                "starts": tried,
                "time_s": time.perf_counter() - t0,
            },
        )

    # ------------------------------------------------------- judging a solution

    def distance(self, x: Sequence[float], y: Sequence[float]) -> float:
        """|θ(x) - θ(y)| in degrees: configurations compare by their separations (module
        docstring: the optimum is not unique even up to symmetry)."""
        return abs(self.separation(x) - self.separation(y))

    def assess(self, x: Sequence[float], reference: Reference | None = None) -> dict[str, Any]:
        """The base report, plus ``separation_deg``, ``table_deg`` and ``gap_deg`` (table −
        separation: positive when short); the match is by ``gap_deg``."""
        ref = self.reference() if reference is None else reference
        out = super().assess(x, reference=ref)
        theta = self.separation(out["solution"])
        table = to_degrees(ref.loss)
        out.update(separation_deg=theta, table_deg=table, gap_deg=table - theta)
        return out

    def judge_match(
        self, distance: float, gap: float, ref: Reference, cert: dict[str, Any]
    ) -> tuple[bool, str]:
        table = float(ref.details.get("table_deg", to_degrees(ref.loss)))
        theta = cert["separation_deg"]
        gap_deg = table - theta
        where = (
            f"smallest separation {theta:.9f} degrees, table {table:.7f}: gap {gap_deg:.2g} degrees"
        )
        if abs(gap_deg) <= MATCH_TOL_DEG:
            return True, (
                f"{where}, within {MATCH_TOL_DEG:g} degrees (matched by the separation: "
                "the configuration is not unique)"
            )
        if gap_deg < 0:
            return False, f"{where}: above the published value by more than {MATCH_TOL_DEG:g}"
        return False, f"{where}: short of the published value by more than {MATCH_TOL_DEG:g}"

    # ---------------------------------------------------------------- solving

    def temperatures(self) -> list[float]:
        """The continuation's temperatures: 1, 10, 100, ... up to the final one."""
        final = float(self.settings["temperature"])
        out, t = [], FIRST_TEMPERATURE
        while t < final * (1.0 - 1e-12):
            out.append(t)
            t *= TEMPERATURE_FACTOR
        out.append(final)
        return out

    def stage_settings(
        self, t: float, optimizer: str | None = None, total_steps: int | None = None
    ) -> dict[str, Any]:
        """minimize() settings for the stage at temperature t."""
        from geograd.optim.schedules import Exponential

        name = (optimizer or DEFAULT_OPTIMIZER).strip().lower()
        stages = len(self.temperatures())
        total = BUDGET if total_steps is None else total_steps
        steps = max(1, -(-total // stages)) if total > 0 else 0
        loop: dict[str, Any] = {"gtol": max(GTOL, ROUNDING_FLOOR * EPS * t), "ftol": None,
                                "max_steps": steps}  # fmt: skip
        # the curvature of L_t across its valley: ~t (softmax covariance) plus ~1
        big = t + 1.0
        if name in ("trust-ncg", "newton"):
            out: dict[str, Any] = {"optimizer": name, "lr": TRUST_RADIUS / t, **loop}
        elif name in ("nag", "momentum"):
            out = {"optimizer": name, "lr": 1.0 / big, "momentum": 0.9, **loop}
        elif name == "gd":
            out = {"optimizer": "gd", "lr": 1.0 / big, "c1": 0.5, **loop}
        elif name == "sgd":
            out = {"optimizer": "sgd", "lr": 1.0 / big, **loop}
        elif name in ADAPTIVE:
            out = {"optimizer": name, "lr": ADAPTIVE[name] / big, **loop}
            if steps > 0:
                out["schedule"] = Exponential(1e-3 ** (1.0 / steps))
            if name == "adamw":
                out["weight_decay"] = 0.0  # decay would pull the points off the sphere
        else:
            out = {"optimizer": name, **loop}
        return self.fit_optimizer(out)

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """The last stage's settings, with ``max_steps`` the total over all stages
        (:meth:`solve` runs the whole continuation)."""
        settings = self.stage_settings(self.temperatures()[-1], optimizer, max_steps)
        settings["max_steps"] = BUDGET if max_steps is None else max_steps
        settings["gtol"] = GTOL
        return settings

    # ------------------------------------------------ the solve template's hooks

    def stages(self, optimizer: str | None, total: int, overrides: dict[str, Any]) -> list[Any]:
        """The temperature continuation: one stage per t of :meth:`temperatures`.

        ``lr`` given is the last stage's (earlier ones scale it as their defaults do);
        ``gtol`` replaces :data:`GTOL` (the rounding floor stays); the rest apply to
        every stage, ``max_steps`` and ``time_limit`` as totals."""
        from .continuation import temperature_stages

        return temperature_stages(self, self.temperatures(), optimizer, total, overrides)

    def restarts(self) -> int:
        """The ``restarts`` option: the solve keeps the largest separation of that many."""
        return int(self.settings["restarts"])

    def start_points(self, count: int, first: Sequence[float]) -> Iterator[list[float]]:
        """``first``, then seeded random configurations (the k-th drawn from
        ``random.Random(seed)`` after the generated x0)."""
        r = random.Random(self.settings["seed"])
        random_configuration(r, self.n)  # the generated x0
        yield list(first)
        for _ in range(count - 1):
            yield random_configuration(r, self.n)

    def manifold(self) -> Any:
        """N unit vectors in R³."""
        from geograd.manifolds import Spheres

        return Spheres(self.n, 3)

    def projection(self) -> Callable[[list[float]], Sequence[float]] | None:
        """None: the second-order stages step in R^{3N} (the loss is invariant along each
        x_i, so the points drift off the sphere by Pythagoras only). Measured: projecting
        trust-ncg's steps back cut its stages short (N = 32, two starts: 54 steps, 0.098
        degrees short of the table, against 309 steps and 2.9e-8 degrees without)."""
        return None

    def canonical_map(
        self, x: Sequence[float], *, compute: bool = True
    ) -> Callable[[Any], Any] | None:
        """Normalise, and rotate so that the closest pair's first point is the north pole
        and its partner in the half-plane y = 0, x > 0 (module docstring)."""
        u = normalise(self.check_point(x, "x"))
        _, a, b = max(cosines(u))
        e3 = u[3 * a : 3 * a + 3]
        ub = u[3 * b : 3 * b + 3]
        c = math.fsum(p * q for p, q in zip(e3, ub))
        v = [q - c * p for p, q in zip(e3, ub)]
        nv = math.hypot(*v)
        if nv < 1e-12:  # coinciding or antipodal: any perpendicular
            helper = (1.0, 0.0, 0.0) if abs(e3[0]) < 0.9 else (0.0, 1.0, 0.0)
            d = math.fsum(p * q for p, q in zip(e3, helper))
            v = [q - d * p for p, q in zip(e3, helper)]
            nv = math.hypot(*v)
        e1 = [q / nv for q in v]
        e2 = [
            e3[1] * e1[2] - e3[2] * e1[1],
            e3[2] * e1[0] - e3[0] * e1[2],
            e3[0] * e1[1] - e3[1] * e1[0],
        ]

        def move(w: Any) -> list[float]:
            p = normalise([float(v) for v in w])
            out: list[float] = []
            for i in range(0, len(p), 3):
                q = p[i : i + 3]
                out.extend(math.fsum(s * t for s, t in zip(axis, q)) for axis in (e1, e2, e3))
            return out

        return move

    def _interrupt_place(self) -> str:
        return "outside a stage's optimizer loop (between temperatures or starts)"

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Random configurations, on the sphere and off it (radii in [0.5, 2]: the
        normalisation's part of the gradient), each kept only where the two largest
        cosines differ by more than 1e-4 (the max is smooth there, far beyond a
        difference step)."""
        r = random.Random(seed)
        pts: list[list[float]] = []
        while len(pts) < count:
            u = random_configuration(r, self.n)
            if len(pts) % 2 == 1:
                scales = [r.uniform(0.5, 2.0) for _ in range(self.n)]
                u = [v * scales[i // 3] for i, v in enumerate(u)]
            top = sorted((c for c, _, _ in cosines(u)), reverse=True)
            if top[0] - top[1] > 1e-4:
                pts.append(u)
        return pts

    # ------------------------------------------------------------- describing

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["data"] = {"source": self.source, "n": self.n, "table_deg": self.known_degrees}
        return out

    # ------------------------------------------------------------------ drawing

    def draw_estimate(
        self,
        ax: Any,
        x: Sequence[float],
        *,
        color: Any,
        label: str | None = None,
        linestyle: Any = "-",
        marker: str = "o",
        alpha: float = 1.0,
    ) -> list[Any]:
        """thomson's points (and hull edges) of ``x``, with the closest pairs as thick
        great-circle arcs (near side solid, far side dotted)."""
        artists = super().draw_estimate(
            ax, x, color=color, label=label, linestyle=linestyle, marker=marker, alpha=alpha
        )
        u = normalise(x)
        for i, j in self.contacts(u):
            a, b = u[3 * i : 3 * i + 3], u[3 * j : 3 * j + 3]
            for front, xs, ys in view_halves(_arc(a, b, 16)):
                if all(math.isnan(v) for v in xs):
                    continue
                artists += ax.plot(
                    xs, ys, color=color, ls=linestyle if front else ":",
                    lw=2.6 if front else 1.4, alpha=alpha * (0.9 if front else 0.45),
                    zorder=3.5 if front else 1.1,
                )  # fmt: skip
        return artists


def _arc(a: Sequence[float], b: Sequence[float], k: int) -> list[list[float]]:
    """k + 1 points along the great-circle arc from unit vector a to unit vector b."""
    c = max(-1.0, min(1.0, _dot(a, b)))
    angle = math.acos(c)
    s = math.sin(angle)
    if s < 1e-12:
        return [list(a), list(b)]
    out = []
    for m in range(k + 1):
        f = m / k
        wa, wb = math.sin((1 - f) * angle) / s, math.sin(f * angle) / s
        out.append([wa * p + wb * q for p, q in zip(a, b)])
    return out
