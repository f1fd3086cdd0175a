"""Optimizers on manifolds: each first-order optimizer reaches a known minimiser on the
sphere, SO(3) and a product of spheres; Euclidean groups are untouched; state dicts
round-trip the manifold; second-order methods and weight decay refuse; the Riemannian
gradient and retraction checks tell right from wrong."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import Any

import pytest

import geograd.functional as F
from geograd import Tensor
from geograd import backend as B
from geograd.check import check_retraction, check_riemannian_gradient
from geograd.errors import InputError
from geograd.floatarray import FloatArray
from geograd.manifolds import SO, Euclidean, Manifold, Sphere, Spheres
from geograd.optim import (
    LBFGS,
    NAG,
    SGD,
    Adagrad,
    Adam,
    Adamax,
    GradientDescent,
    Momentum,
    NewtonCG,
    Optimizer,
    RMSprop,
    TrustNCG,
)

A = [[3.0, 1.0, 0.5], [1.0, 2.0, 0.2], [0.5, 0.2, 1.0]]


def quadratic(x: Tensor) -> Tensor:
    """x^T A x."""
    terms = [A[i][j] * x[i] * x[j] for i in range(3) for j in range(3)]
    return F.stack(terms).sum()


def smallest_eigen() -> tuple[float, list[float]]:
    np = pytest.importorskip("numpy")
    w, v = np.linalg.eigh(np.array(A))
    return float(w[0]), [float(c) for c in v[:, 0]]


# each optimizer with settings that converge: (factory, steps). RMSprop's step stays
# of the order of lr near a minimum (g/sqrt(v) ~ 1): its lr decays geometrically.
DECAY = {"rmsprop": 0.997, "rmsprop-centered-momentum": 0.997}
FIRST_ORDER: dict[str, tuple[Callable[..., Optimizer], int]] = {
    "sgd": (lambda p, m: SGD(p, lr=0.1, manifold=m), 400),
    "momentum": (lambda p, m: Momentum(p, lr=0.05, manifold=m), 400),
    "nag": (lambda p, m: NAG(p, lr=0.05, manifold=m), 400),
    "adam": (lambda p, m: Adam(p, lr=0.05, manifold=m), 1500),
    "adamax": (lambda p, m: Adamax(p, lr=0.05, manifold=m), 1500),
    "rmsprop": (lambda p, m: RMSprop(p, lr=0.01, manifold=m), 4000),
    "rmsprop-centered-momentum": (
        lambda p, m: RMSprop(p, lr=0.005, momentum=0.5, centered=True, manifold=m),
        4000,
    ),
    "adagrad": (lambda p, m: Adagrad(p, lr=0.3, manifold=m), 1500),
}


def run(
    opt: Optimizer, x: Tensor, f: Callable[[Tensor], Tensor], steps: int, decay: float = 1.0
) -> float:
    def closure() -> Tensor:
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
        for g in opt.param_groups:
            g["lr"] *= decay
    return f(x).item()


@pytest.mark.parametrize("name", [*FIRST_ORDER, "gd"])
@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_sphere_rayleigh_quotient_reaches_the_smallest_eigenvector(name: str, backend: str) -> None:
    lam, v = smallest_eigen()
    start = [0.2, 0.5, -0.84]
    n = math.hypot(*start)
    data: Any = FloatArray([c / n for c in start])
    if backend == "numpy":
        np = pytest.importorskip("numpy")
        data = np.asarray(B.tolist(data, "x"))
    x = Tensor(data, requires_grad=True)
    if name == "gd":
        opt: Optimizer = GradientDescent([x], lr=0.5, manifold=Sphere(3))
        steps = 100
    else:
        make, steps = FIRST_ORDER[name]
        opt = make([x], Sphere(3))
    value = run(opt, x, quadratic, steps, DECAY.get(name, 1.0))
    Sphere(3).check_point(x.data, atol=1e-12)
    assert type(x.data) is type(data)
    assert value == pytest.approx(lam, abs=1e-8)
    assert abs(abs(sum(a * b for a, b in zip(x.tolist(), v))) - 1.0) < 1e-6


def procrustes_data() -> tuple[list[list[float]], list[list[float]], list[float]]:
    """P (3 x 6) and Q = R P + noise, and the SVD answer argmin_R ||R P - Q||² on SO(3)."""
    np = pytest.importorskip("numpy")
    gen = np.random.default_rng(4)
    p = gen.normal(size=(3, 6))
    q = SO(3).random_point(random.Random(9))
    r_true = np.array(B.tolist(q, "r")).reshape(3, 3)
    qm = r_true @ p + 0.1 * gen.normal(size=(3, 6))
    u, _, vt = np.linalg.svd(qm @ p.T)
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    best = (u @ fix @ vt).ravel()
    return p.tolist(), qm.tolist(), [float(c) for c in best]


@pytest.mark.parametrize("name", [*FIRST_ORDER, "gd"])
def test_so3_procrustes_matches_the_svd_answer(name: str) -> None:
    p, q, best = procrustes_data()

    def loss(r: Tensor) -> Tensor:
        terms = []
        for i in range(3):
            for j in range(6):
                rp = sum((r[3 * i + k] * p[k][j] for k in range(3)), Tensor(0.0))
                terms.append((rp - q[i][j]) ** 2)
        return F.stack(terms).sum()

    x = Tensor(FloatArray([1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]), requires_grad=True)
    if name == "gd":
        opt: Optimizer = GradientDescent([x], lr=0.05, manifold="so(3)")
        steps = 300
    else:
        make, steps = FIRST_ORDER[name]
        opt = make([x], SO(3))
        if name not in DECAY and name != "adagrad":
            # the loss's curvature is |P|² ~ 20 times the sphere's: smaller steps (RMSprop
            # and Adagrad take steps of the order of lr whatever the scale)
            for g in opt.param_groups:
                g["lr"] = g["lr"] / 10
        steps *= 2
    run(opt, x, loss, steps, DECAY.get(name, 1.0))
    SO(3).check_point(x.data, atol=1e-12)
    assert max(abs(a - b) for a, b in zip(x.tolist(), best)) < 1e-5


THOMSON_4 = 3.674234614174767  # the regular tetrahedron: 6 / sqrt(8/3)


def thomson(x: Tensor, n: int = 4) -> Tensor:
    terms = []
    for i in range(n):
        for j in range(i + 1, n):
            d = [x[3 * i + k] - x[3 * j + k] for k in range(3)]
            terms.append(1.0 / F.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]))
    return F.stack(terms).sum()


@pytest.mark.parametrize("name", [*FIRST_ORDER, "gd"])
def test_thomson_four_charges_reach_the_tetrahedron(name: str) -> None:
    m = Spheres(4, 3)
    x = Tensor(m.random_point(random.Random(1)), requires_grad=True)
    if name == "gd":
        opt: Optimizer = GradientDescent([x], lr=0.1, manifold=m)
        steps = 200
    else:
        make, steps = FIRST_ORDER[name]
        opt = make([x], m)
    energy = run(opt, x, thomson, steps, DECAY.get(name, 1.0))
    m.check_point(x.data, atol=1e-12)
    assert energy == pytest.approx(THOMSON_4, abs=1e-7)


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_euclidean_groups_are_bit_identical(name: str) -> None:
    """A Euclidean group steps exactly as without the manifold option, alone, on
    Euclidean(), and next to a sphere group."""
    make, _ = FIRST_ORDER[name]

    def f(y: Tensor) -> Tensor:
        return F.stack([(y[0] - 1.0) ** 2, 3.0 * (y[1] + 2.0) ** 2, y[0] * y[1]]).sum()

    def trajectory(opt_maker: Callable[[Tensor, Tensor], Optimizer]) -> list[list[float]]:
        y = Tensor(FloatArray([0.3, -0.7]), requires_grad=True)
        s = Tensor(FloatArray([0.0, 0.6, 0.8]), requires_grad=True)
        opt = opt_maker(y, s)
        out = []
        for _ in range(30):
            opt.zero_grad()
            (f(y) + quadratic(s)).backward()
            opt.step()
            out.append(y.tolist())
        return out

    plain = trajectory(lambda y, s: make([y], None))
    on_euclidean = trajectory(lambda y, s: make([y], Euclidean()))
    mixed = trajectory(
        lambda y, s: make([{"params": [y]}, {"params": [s], "manifold": Sphere(3)}], None)
    )
    assert plain == on_euclidean == mixed
    assert plain[0] != plain[-1]


@pytest.mark.parametrize("name", ["adam", "momentum", "rmsprop-centered-momentum", "adamax"])
def test_state_dict_json_round_trip_resumes_bit_identically(name: str) -> None:
    make, _ = FIRST_ORDER[name]
    m = Spheres(4, 3)
    start = m.random_point(random.Random(2))

    def fresh() -> tuple[Tensor, Optimizer]:
        x = Tensor(FloatArray(B.tolist(start, "x")), requires_grad=True)
        return x, make([x], m)

    x, opt = fresh()
    run(opt, x, thomson, 20)
    whole = x.tolist()

    y, first = fresh()
    run(first, y, thomson, 10)
    saved = json.loads(json.dumps(first.state_dict()))
    assert saved["param_groups"][0]["manifold"] == "spheres(4,3)"
    z = Tensor(FloatArray(y.tolist()), requires_grad=True)
    second = make([z], None)  # the manifold comes back from the state dict
    second.load_state_dict(saved)
    assert second.param_groups[0]["manifold"] == m
    run(second, z, thomson, 10)
    assert z.tolist() == whole


def test_momentum_buffers_are_transported() -> None:
    x = Tensor(FloatArray([0.6, 0.8, 0.0]), requires_grad=True)
    opt = SGD([x], lr=0.1, momentum=0.9, manifold=Sphere(3))
    opt_adam = Adam([Tensor(FloatArray([0.6, 0.8, 0.0]), requires_grad=True)], manifold=Sphere(3))
    run(opt, x, quadratic, 3)
    buf = opt.state[x]["momentum_buffer"]
    assert abs(sum(a * b for a, b in zip(buf.tolist(), x.tolist()))) < 1e-14
    y = opt_adam.param_groups[0]["params"][0]
    run(opt_adam, y, quadratic, 3)
    m = opt_adam.state[y]["exp_avg"]
    assert abs(sum(a * b for a, b in zip(m.tolist(), y.tolist()))) < 1e-14


@pytest.mark.parametrize("cls", [LBFGS, NewtonCG, TrustNCG])
def test_second_order_methods_refuse_a_manifold(cls: type[Optimizer]) -> None:
    x = Tensor(FloatArray([1.0, 0.0, 0.0]), requires_grad=True)
    with pytest.raises(InputError, match=rf"{cls.__name__} does not step on manifolds.*adam"):
        cls([{"params": [x], "manifold": Sphere(3)}])  # type: ignore[call-arg]
    cls([{"params": [x], "manifold": Euclidean()}])  # type: ignore[call-arg]


def test_weight_decay_is_refused_on_a_manifold() -> None:
    x = Tensor(FloatArray([1.0, 0.0, 0.0]), requires_grad=True)
    with pytest.raises(InputError, match="weight_decay must be 0 on a manifold"):
        Adam([x], weight_decay=0.1, manifold=Sphere(3))
    with pytest.raises(InputError, match="weight_decay must be 0 on a manifold"):
        SGD([{"params": [x], "manifold": "sphere(3)", "weight_decay": 1e-3}], lr=0.1)
    SGD([x], weight_decay=0.1, manifold=Euclidean())  # flat space: decay allowed


def test_a_start_off_the_manifold_is_refused_and_nothing_moves() -> None:
    x = Tensor(FloatArray([1.0, 1.0, 0.0]), requires_grad=True)
    for opt in (Adam([x], manifold=Sphere(3)), GradientDescent([x], manifold=Sphere(3))):
        with pytest.raises(InputError, match=r"not on sphere\(3\).*projx"):
            run(opt, x, quadratic, 1)
        assert x.tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(InputError, match="manifold"):
        Adam([x], manifold=3)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ checks


def rayleigh_egrad(x: Any) -> Any:
    values = B.tolist(x, "x")
    return FloatArray([2.0 * sum(A[i][j] * values[j] for j in range(3)) for i in range(3)])


@pytest.mark.parametrize(
    "m,f",
    [(Sphere(3), quadratic), (Spheres(4, 3), thomson), (SO(3), lambda r: (r * r * r).sum())],
    ids=["sphere", "spheres", "so3"],
)
def test_riemannian_gradient_check_reports_slope_two(m: Manifold, f: Any) -> None:
    x = m.random_point(random.Random(6))
    report = check_riemannian_gradient(f, m, x)
    assert report.passed, str(report)
    assert 1.9 < report.slope < 2.1
    assert report.tangent_residual < 1e-12


def test_riemannian_gradient_check_fails_on_a_wrong_gradient() -> None:
    m = Sphere(3)
    x = m.random_point(random.Random(6))
    right = check_riemannian_gradient(quadratic, m, x, egrad=rayleigh_egrad)
    assert right.passed and 1.9 < right.slope < 2.1

    def wrong(p: Any) -> Any:
        return rayleigh_egrad(p) + FloatArray([0.0, 0.3, 0.0])

    report = check_riemannian_gradient(quadratic, m, x, egrad=wrong)
    assert not report.passed
    assert 0.9 < report.slope < 1.1

    class Unprojected(Sphere):
        def egrad2rgrad(self, x: Any, g: Any) -> Any:
            return g  # right along tangent directions, but not a tangent vector

    bad = check_riemannian_gradient(quadratic, Unprojected(3), x)
    assert not bad.passed and bad.tangent_residual > 1e-3


@pytest.mark.parametrize("m", [Sphere(3), Spheres(4, 3), SO(2), SO(3)], ids=str)
def test_retraction_check_reports_second_order(m: Manifold) -> None:
    report = check_retraction(m)
    assert report.passed and report.reference == "exp" and report.second_order, str(report)
    assert 2.9 < report.slope < 3.1
    ambient = check_retraction(m, reference="ambient")
    assert ambient.passed and 1.9 < ambient.slope < 2.1


def test_retraction_check_fails_on_a_wrong_retraction() -> None:
    class TooFast(Sphere):
        def retr(self, x: Any, u: Any) -> Any:
            return super().retr(x, u * 2.0)  # dR_x(0) = 2 I: not a retraction

    report = check_retraction(TooFast(3))
    assert not report.passed
    assert 0.9 < report.slope < 1.1
    assert check_retraction(Euclidean(3)).exact
