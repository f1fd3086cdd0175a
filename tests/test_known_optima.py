"""The reference tables of problems/known_optima.py: closed forms, order, provenance,
and a quick reproduction of a few entries (standard library only, fixed seeds)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from geograd.problems import known_optima as K

# ----------------------------------------------------------------------------- helpers


def normalise(p: tuple[float, ...]) -> tuple[float, float, float]:
    r = math.sqrt(sum(c * c for c in p))
    return (p[0] / r, p[1] / r, p[2] / r)


def energy(points: list[tuple[float, float, float]]) -> float:
    return sum(1.0 / math.dist(p, q) for p, q in itertools.combinations(points, 2))


def min_angle_deg(points: list[tuple[float, float, float]]) -> float:
    c = max(sum(a * b for a, b in zip(p, q)) for p, q in itertools.combinations(points, 2))
    return math.degrees(math.acos(min(1.0, c)))


def icosahedron() -> list[tuple[float, float, float]]:
    phi = (1 + math.sqrt(5)) / 2
    pts = []
    for a, b in itertools.product((-1.0, 1.0), repeat=2):
        pts += [(0.0, a, b * phi), (a, b * phi, 0.0), (b * phi, 0.0, a)]
    return [normalise(p) for p in pts]


def snub_cube() -> list[tuple[float, float, float]]:
    """Even permutations of (±1, ±1/t, ±t) with an even number of plus signs and odd
    permutations with an odd number, t the tribonacci constant."""
    s = math.sqrt(33)
    t = (1 + (19 + 3 * s) ** (1 / 3) + (19 - 3 * s) ** (1 / 3)) / 3
    base = (1.0, 1 / t, t)
    even = [(0, 1, 2), (1, 2, 0), (2, 0, 1)]
    odd = [(0, 2, 1), (2, 1, 0), (1, 0, 2)]
    pts = []
    for signs in itertools.product((1, -1), repeat=3):
        plus = signs.count(1)
        for perm in even if plus % 2 == 0 else odd:
            pts.append(normalise(tuple(signs[i] * base[perm[i]] for i in range(3))))
    return pts


def relax(n: int, rng: random.Random, steps: int = 4000) -> float:
    """Riemannian gradient descent of the Coulomb energy from a uniform random start:
    tangential forces, an Armijo backtracking step, renormalisation."""
    pts = []
    for _ in range(n):
        z, phi = rng.uniform(-1, 1), rng.uniform(0, 2 * math.pi)
        r = math.sqrt(1 - z * z)
        pts.append((r * math.cos(phi), r * math.sin(phi), z))
    e, lr = energy(pts), 0.1
    for _ in range(steps):
        forces = []
        for i, p in enumerate(pts):
            f = [0.0, 0.0, 0.0]
            for j, q in enumerate(pts):
                if i != j:
                    d = math.dist(p, q)
                    for k in range(3):
                        f[k] += (p[k] - q[k]) / d**3
            radial = sum(a * b for a, b in zip(f, p))
            forces.append([f[k] - radial * p[k] for k in range(3)])
        g2 = sum(c * c for f in forces for c in f)
        if g2 < 1e-18:  # energy error ~ g2 / (2 lambda_min): far below THOMSON_ABS_TOL
            break
        while True:
            trial = [
                normalise(tuple(p[k] + lr * f[k] for k in range(3))) for p, f in zip(pts, forces)
            ]
            et = energy(trial)
            if et <= e - 1e-4 * lr * g2 or lr < 1e-12:
                break
            lr *= 0.5
        pts, e, lr = trial, et, lr * 2
    return e


# ------------------------------------------------------------------------ the tables


def test_keys_and_types() -> None:
    assert sorted(K.THOMSON_ENERGIES) == list(range(2, 101))
    assert sorted(K.TAMMES_DEGREES) == list(range(3, 41))
    for table in (K.THOMSON_ENERGIES, K.TAMMES_DEGREES):
        assert all(isinstance(v, float) for v in table.values())
    assert sorted(K.THOMSON_REPRODUCTION) == sorted(K.THOMSON_ENERGIES)
    assert sorted(K.TAMMES_REPRODUCTION) == sorted(K.TAMMES_DEGREES)
    assert frozenset(range(3, 15)) | {24} == K.PROVEN_OPTIMAL_TAMMES
    assert frozenset(K.TAMMES_PROOFS) == K.PROVEN_OPTIMAL_TAMMES
    assert set(K.THOMSON_ENERGIES) >= K.PROVEN_OPTIMAL_THOMSON


def test_every_provenance_key_names_a_source() -> None:
    keys = {k for v in K.THOMSON_PROVENANCE.values() for k in v}
    keys |= {k for v in K.TAMMES_PROVENANCE.values() for k in v} | set(K.TAMMES_PROOFS.values())
    assert keys <= set(K.SOURCES)
    assert sorted(K.THOMSON_PROVENANCE) == sorted(K.THOMSON_ENERGIES)
    assert sorted(K.TAMMES_PROVENANCE) == sorted(K.TAMMES_DEGREES)


def test_published_digits() -> None:
    for v in K.THOMSON_ENERGIES.values():
        assert round(v, K.THOMSON_DECIMALS) == v
    for v in K.TAMMES_DEGREES.values():
        assert round(v, K.TAMMES_DECIMALS) == v


def test_recorded_reproduction_agrees_with_the_tables() -> None:
    for n, (restarts, hits, computed) in K.THOMSON_REPRODUCTION.items():
        assert restarts >= 1 and 0 <= hits <= 100
        assert abs(computed - K.THOMSON_ENERGIES[n]) <= K.THOMSON_ABS_TOL, n
    for n, (attempts, how, hits, computed) in K.TAMMES_REPRODUCTION.items():
        assert attempts >= 1 and how in ("random", "random+smooth", "perturb")
        assert 0 <= hits <= 100
        assert abs(computed - K.TAMMES_DEGREES[n]) <= K.TAMMES_ABS_TOL_DEG, n


# ---------------------------------------------------------------------- closed forms


@pytest.mark.parametrize(
    ("n", "exact"),
    [
        (2, 0.5),
        (3, math.sqrt(3)),
        (4, 3.674234614174767),  # tetrahedron: 6 / sqrt(8/3)
        (5, 0.5 + 6 / math.sqrt(2) + 3 / math.sqrt(3)),  # triangular bipyramid
        (6, 9.985281374238571),  # octahedron: 12 / sqrt(2) + 3 / 2
    ],
)
def test_thomson_closed_forms(n: int, exact: float) -> None:
    assert abs(K.THOMSON_ENERGIES[n] - exact) <= K.THOMSON_ABS_TOL


def test_thomson_polyhedra() -> None:
    assert abs(energy(icosahedron()) - K.THOMSON_ENERGIES[12]) <= K.THOMSON_ABS_TOL
    assert abs(K.THOMSON_ENERGIES[12] - 49.165253058) <= 1e-12
    assert abs(6 / math.sqrt(8 / 3) - 3.674234614174767) <= 1e-14
    assert abs(12 / math.sqrt(2) + 1.5 - 9.985281374238571) <= 1e-14


@pytest.mark.parametrize(
    ("n", "exact"),
    [
        (3, 120.0),
        (4, math.degrees(math.acos(-1 / 3))),
        (5, 90.0),
        (6, 90.0),
        (8, math.degrees(math.acos((2 * math.sqrt(2) - 1) / 7))),
        (9, math.degrees(math.acos(1 / 3))),
        (11, math.degrees(math.acos(1 / math.sqrt(5)))),
        (12, math.degrees(math.acos(1 / math.sqrt(5)))),
    ],
)
def test_tammes_closed_forms(n: int, exact: float) -> None:
    assert abs(K.TAMMES_DEGREES[n] - exact) <= K.TAMMES_ABS_TOL_DEG


def test_tammes_polyhedra_and_independent_sources() -> None:
    assert abs(min_angle_deg(icosahedron()) - 63.4349488) <= 1e-7
    snub = snub_cube()
    assert len(set(snub)) == 24
    assert abs(min_angle_deg(snub) - K.TAMMES_DEGREES[24]) <= K.TAMMES_ABS_TOL_DEG
    assert abs(K.TAMMES_DEGREES[24] - 43.691) <= 1e-3
    for n, c in K.TAMMES_COSINES_COHN.items():
        assert abs(math.degrees(math.acos(float(c))) - K.TAMMES_DEGREES[n]) <= K.TAMMES_ABS_TOL_DEG
    for n, rad in K.TAMMES_RADIANS_OEIS.items():
        assert abs(math.degrees(float(rad)) - K.TAMMES_DEGREES[n]) <= K.TAMMES_ABS_TOL_DEG


# ----------------------------------------------------------------------- monotonicity


def test_thomson_energies_increase_with_n() -> None:
    e = [K.THOMSON_ENERGIES[n] for n in sorted(K.THOMSON_ENERGIES)]
    assert all(a < b for a, b in itertools.pairwise(e))


def test_tammes_separations_do_not_increase_with_n() -> None:
    a = [K.TAMMES_DEGREES[n] for n in sorted(K.TAMMES_DEGREES)]
    assert all(x >= y for x, y in itertools.pairwise(a))
    # the two known ties: 5 = 6 (90 degrees) and 11 = 12 (icosahedron minus a vertex)
    assert K.TAMMES_DEGREES[5] == K.TAMMES_DEGREES[6]
    assert K.TAMMES_DEGREES[11] == K.TAMMES_DEGREES[12]


# ---------------------------------------------------------------- quick reproduction


@pytest.mark.parametrize(("n", "seed"), [(5, 1), (8, 2)])
def test_thomson_reproduced_from_random_starts(n: int, seed: int) -> None:
    rng = random.Random(seed)
    best = min(relax(n, rng) for _ in range(3))
    assert abs(best - K.THOMSON_ENERGIES[n]) <= K.THOMSON_ABS_TOL, best
