"""Manifold axioms, on the standard library's FloatArray and on numpy arrays alike.

Each property is checked at random points and random tangent vectors (seeded), with
steps from 1e-6 to 10: retractions stay on the manifold (to 1e-12), proj is an
orthogonal idempotent projection, transport lands in the tangent space, SO(d) gives
orthogonal matrices of determinant +1, Product splits into its components.
"""

from __future__ import annotations

import math
import random
import zlib
from typing import Any

import pytest

from geograd import backend as B
from geograd.errors import InputError
from geograd.floatarray import FloatArray
from geograd.manifolds import (
    SO,
    Euclidean,
    Manifold,
    Product,
    Sphere,
    Spheres,
    as_manifold,
    manifold_from_spec,
)

MANIFOLDS = [
    Sphere(3),
    Sphere(5),
    Spheres(4, 3),
    SO(2),
    SO(3),
    Euclidean(4),
    Product([(Sphere(3), 3), (SO(3), 9), (Euclidean(), 2)]),
]
IDS = [m.spec for m in MANIFOLDS]
STEPS = (1e-6, 1e-2, 0.5, 3.0, 10.0)


@pytest.fixture(params=["python", "numpy"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "numpy":
        pytest.importorskip("numpy")
    return str(request.param)


def to_backend(x: Any, name: str) -> Any:
    if name == "python":
        return x
    import numpy as np

    return np.asarray(B.tolist(x, "test"), dtype=np.float64)


def values(x: Any) -> list[float]:
    return B.tolist(x, "test")


def samples(m: Manifold, name: str, n: int = 8) -> list[tuple[Any, Any]]:
    rng = random.Random(zlib.crc32(m.spec.encode()))  # the same samples in every run
    out = []
    for _ in range(n):
        like = None if name == "python" else to_backend(FloatArray([0.0]), name)
        x = m.random_point(rng, like=like)
        out.append((x, m.random_tangent(x, rng)))
    return out


def close(a: Any, b: Any, tol: float) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(values(a), values(b)))


def gauss(m: Manifold, x: Any, rng: random.Random) -> Any:
    n = B.shape_of(x)[0]
    return B.backend_of(x).from_list([rng.gauss(0.0, 1.0) for _ in range(n)])


@pytest.mark.parametrize("m", MANIFOLDS, ids=IDS)
def test_random_points_are_on_the_manifold_in_the_asked_backend(m: Manifold, backend: str) -> None:
    for x, u in samples(m, backend):
        m.check_point(x, atol=1e-12)
        assert type(x) is type(u)
        assert (type(x) is FloatArray) == (backend == "python")
        assert abs(m.norm(x, u) - 1.0) < 1e-12


@pytest.mark.parametrize("m", MANIFOLDS, ids=IDS)
def test_retraction_stays_on_the_manifold(m: Manifold, backend: str) -> None:
    for x, u in samples(m, backend):
        for t in STEPS:
            y = m.retr(x, u * t)
            assert type(y) is type(x)
            m.check_point(y, atol=1e-12)
        assert close(m.retr(x, u * 0.0), x, 1e-15)


@pytest.mark.parametrize("m", MANIFOLDS, ids=IDS)
def test_proj_is_idempotent_and_orthogonal(m: Manifold, backend: str) -> None:
    rng = random.Random(5)
    for x, _ in samples(m, backend):
        w = gauss(m, x, rng)
        p = m.proj(x, w)
        assert close(m.proj(x, p), p, 1e-12)
        # the residual is orthogonal to every tangent vector
        v = m.random_tangent(x, rng)
        assert abs(m.inner(x, w - p, v)) < 1e-12
        assert abs(m.inner(x, w - p, p)) < 1e-12
        assert close(m.egrad2rgrad(x, w), p, 0.0)


@pytest.mark.parametrize("m", MANIFOLDS, ids=IDS)
def test_transport_lands_in_the_tangent_space(m: Manifold, backend: str) -> None:
    rng = random.Random(7)
    for x, u in samples(m, backend):
        y = m.retr(x, u * 0.7)
        v = m.random_tangent(x, rng)
        w = m.transp(x, y, v)
        assert close(m.proj(y, w), w, 1e-12)


@pytest.mark.parametrize("m", [Sphere(3), Spheres(4, 3), SO(2), SO(3)], ids=str)
def test_tangent_vectors_are_tangent(m: Manifold, backend: str) -> None:
    """The first-order constraint: d/dt g(x + t u) = 0 for the defining equations g."""
    for x, u in samples(m, backend):
        xs, us = values(x), values(u)
        if isinstance(m, SO):
            d = m.d
            # XᵀU + UᵀX = 0
            for i in range(d):
                for j in range(d):
                    s = sum(xs[k * d + i] * us[k * d + j] + us[k * d + i] * xs[k * d + j]
                            for k in range(d))  # fmt: skip
                    assert abs(s) < 1e-12
        else:
            d = 3 if isinstance(m, Spheres) else len(xs)
            for i in range(0, len(xs), d):
                assert abs(sum(a * b for a, b in zip(xs[i : i + d], us[i : i + d]))) < 1e-12


@pytest.mark.parametrize("d", [2, 3])
def test_so_retraction_gives_rotations(d: int) -> None:
    np = pytest.importorskip("numpy")
    m = SO(d)
    rng = random.Random(11)
    for _ in range(20):
        x = m.random_point(rng)
        u = m.proj(x, gauss(m, x, rng))
        for t in (1e-3, 1.0, 10.0, 1e3):
            r = np.array(values(m.retr(x, u * t))).reshape(d, d)
            assert np.abs(r.T @ r - np.eye(d)).max() < 1e-12
            assert abs(np.linalg.det(r) - 1.0) < 1e-12


@pytest.mark.parametrize("d", [2, 3])
def test_so_projx_is_the_nearest_rotation(d: int) -> None:
    np = pytest.importorskip("numpy")
    m = SO(d)
    gen = np.random.default_rng(3)
    dets = []
    for _ in range(20):
        a = gen.normal(size=(d, d))
        dets.append(np.linalg.det(a))
        u, _, vt = np.linalg.svd(a)
        fix = np.eye(d)
        fix[-1, -1] = np.sign(np.linalg.det(u @ vt))
        nearest = u @ fix @ vt
        got = np.array(values(m.projx(a.ravel().copy()))).reshape(d, d)
        assert np.abs(got - nearest).max() < 1e-10
    assert min(dets) < 0 < max(dets)  # reflections were among the inputs


def test_so_exp_is_a_rotation_by_the_angle() -> None:
    m = SO(3)
    x = FloatArray([1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0])
    theta = 1.2
    u = FloatArray([0, -theta, 0, theta, 0, 0, 0, 0, 0])  # rotation about z
    got = values(m.exp(x, u))
    c, s = math.cos(theta), math.sin(theta)
    assert close(FloatArray(got), FloatArray([c, -s, 0, s, c, 0, 0, 0, 1]), 1e-15)


def test_sphere_exp_is_the_great_circle() -> None:
    m = Sphere(3)
    x = FloatArray([1.0, 0.0, 0.0])
    u = FloatArray([0.0, math.pi, 0.0])
    assert close(m.exp(x, u), FloatArray([-1.0, 0.0, 0.0]), 1e-15)
    assert close(m.exp(x, u * 0.5), FloatArray([0.0, 1.0, 0.0]), 1e-15)


def test_product_splits_into_its_components(backend: str) -> None:
    parts: list[tuple[Manifold, int]] = [(Sphere(3), 3), (SO(2), 4), (Euclidean(), 2)]
    m = Product(parts)
    assert m.size == 9 and m.dim == 2 + 1 + 2
    assert m.spec == "product(sphere(3):3,so(2):4,euclidean(2):2)"
    for x, u in samples(m, backend):
        y = m.retr(x, u * 0.3)
        xs, us, ys = values(x), values(u), values(y)
        a = 0
        for part, size in parts:
            piece = FloatArray(xs[a : a + size])
            step = FloatArray(us[a : a + size]) * 0.3
            # the same formula on the component alone: equal to rounding (numpy's sums
            # on the numpy backend, the standard library's on the pieces)
            assert close(FloatArray(ys[a : a + size]), part.retr(piece, step), 1e-15)
            a += size
        assert xs[7:] != ys[7:]  # the Euclidean part moved by the step itself
        assert close(
            FloatArray(ys[7:]), FloatArray([p + 0.3 * q for p, q in zip(xs[7:], us[7:])]), 0
        )
    bad = FloatArray([1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0, 5.0, 5.0])
    with pytest.raises(InputError, match=r"component 1 of product"):
        m.check_point(bad)


def test_product_refuses_wrong_sizes() -> None:
    with pytest.raises(InputError, match="has 3 coordinates, not 4"):
        Product([(Sphere(3), 4)])
    with pytest.raises(InputError):
        Product([])


def test_check_point_refuses_points_off_the_manifold() -> None:
    with pytest.raises(InputError, match=r"not on sphere\(3\).*projx"):
        Sphere(3).check_point(FloatArray([1.0, 1.0, 0.0]))
    with pytest.raises(InputError, match=r"point 1 has length"):
        Spheres(2, 3).check_point(FloatArray([1.0, 0, 0, 0, 2.0, 0]))
    with pytest.raises(InputError, match="reflection"):
        SO(2).check_point(FloatArray([1.0, 0.0, 0.0, -1.0]))
    with pytest.raises(InputError, match="XᵀX"):
        SO(2).check_point(FloatArray([1.0, 0.1, 0.0, 1.0]))
    with pytest.raises(InputError, match="coordinates"):
        Sphere(3).check_point(FloatArray([1.0, 0.0]))
    Sphere(3).check_point(FloatArray([1.0 + 1e-10, 0.0, 0.0]))  # within the tolerance


def test_projx_lands_on_the_manifold(backend: str) -> None:
    rng = random.Random(2)
    for m in MANIFOLDS:
        n = m.size or 4
        for _ in range(5):
            x = to_backend(FloatArray([rng.gauss(0.0, 2.0) for _ in range(n)]), backend)
            y = m.projx(x)
            m.check_point(y, atol=1e-12)
            assert close(m.projx(y), y, 1e-12)  # a point of M is its own nearest point


@pytest.mark.parametrize("m", MANIFOLDS, ids=IDS)
def test_spec_round_trips(m: Manifold) -> None:
    back = manifold_from_spec(m.spec)
    assert back == m and back.spec == m.spec and type(back) is type(m)
    assert as_manifold(m.spec) == m


def test_specs_and_dimensions() -> None:
    assert manifold_from_spec("product( sphere(3), euclidean:2 )").spec == (
        "product(sphere(3):3,euclidean(2):2)"
    )
    assert manifold_from_spec("euclidean") == Euclidean()
    assert [m.dim for m in MANIFOLDS] == [2, 4, 8, 1, 3, 4, 2 + 3 + 2]
    for bad in ("sphere", "sphere(3", "torus(2)", "spheres(3)", "so(4)", "product(euclidean)", ""):
        with pytest.raises(InputError):
            manifold_from_spec(bad)
    with pytest.raises(InputError):
        as_manifold(3)
