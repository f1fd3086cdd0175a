"""The unit frame as a declaration (``geograd.problems.scaling``, issue 15).

A public class over points is ``class X(Normalised, XCore)`` plus what it declares: which
numbers of its data, certificate and reference carry units (:class:`Quantities`) and
whether its start is computed on the user's numbers. :meth:`Normalised.set_data` builds
the unit copy; :meth:`Normalised.certificate` and :meth:`Normalised.reference_details`
map what is declared. Data scaled by a power of two have the very same unit copy, so
every declared length of the answers scales exactly.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from geograd.errors import InputError
from geograd.problems.circle_fit import CircleFit, CircleFitCore
from geograd.problems.enclosing_circle import EnclosingCircle, EnclosingCircleCore
from geograd.problems.fermat import FermatPoint, FermatPointCore
from geograd.problems.median import GeometricMedian, GeometricMedianCore
from geograd.problems.registration import (
    Registration,
    Registration3D,
    Registration3DCore,
    RegistrationCore,
)
from geograd.problems.scaling import Normalised, Quantities
from geograd.problems.trilateration import Trilateration, TrilaterationCore

#: The data times 2^K: the unit copy is the same, every length of the answers 2^K times.
K = 40
POINTS = [[0.1, 0.2], [0.9, 0.1], [0.4, 0.8], [0.7, 0.6], [0.2, 0.55], [0.15, 0.9]]
TRIANGLE = POINTS[:3]
ANCHORS = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
RANGES = [0.68, 0.86, 0.5, 0.77]


def scaled(rows: list[list[float]], k: int = K) -> list[list[float]]:
    return [[math.ldexp(v, k) for v in row] for row in rows]


def build(cls: type, k: int) -> Any:
    """The problem of ``cls`` over the test data times 2^k."""
    if cls is Trilateration:
        return Trilateration.from_anchors(scaled(ANCHORS, k), [math.ldexp(r, k) for r in RANGES])
    return cls.from_points(scaled(TRIANGLE if cls is FermatPoint else POINTS, k))


PUBLIC = (FermatPoint, CircleFit, EnclosingCircle, Trilateration, GeometricMedian)
CORES = (
    FermatPointCore,
    CircleFitCore,
    EnclosingCircleCore,
    TrilaterationCore,
    GeometricMedianCore,
)


@pytest.mark.parametrize(("cls", "core"), list(zip(PUBLIC, CORES)), ids=[c.name for c in PUBLIC])
def test_the_unit_copy_is_an_instance_of_the_core_class(cls: type, core: type) -> None:
    p = build(cls, K)
    assert type(p.unit) is core
    assert isinstance(p, Normalised) and isinstance(cls.quantities, Quantities)
    assert p.frame.exponent == build(cls, 0).frame.exponent + K


@pytest.mark.parametrize("cls", [FermatPoint, CircleFit, Trilateration])
def test_set_data_is_the_declared_one(cls: type) -> None:
    assert "set_data" not in vars(cls) and "compute_reference" not in vars(cls)
    assert "_solve" not in vars(cls) and "solve" not in vars(cls)


@pytest.mark.parametrize("cls", PUBLIC, ids=[c.name for c in PUBLIC])
def test_declared_quantities_scale_exactly(cls: type) -> None:
    """Every number the class declares a length (or a gradient norm of a sum of squares, a
    length too) is 2^K times the scale-1 one; the rest is the same."""
    one, big = build(cls, 0), build(cls, K)
    power = {"length": 1, "gradient norm": cls.loss_power - 1, "loss": cls.loss_power}
    x1 = one.reference().x
    xk = [math.ldexp(v, K) for v in x1]
    c1, ck = one.certificate(x1), big.certificate(xk)
    assert c1.keys() == ck.keys()
    for key, value in c1.items():
        quantity = cls.quantities.certificate.get(key)
        if quantity is not None:
            assert ck[key] == math.ldexp(value, K * power[quantity]), key
        elif key not in ("point", "support_points", "summary"):
            assert ck[key] == value, key
    d1, dk = one.reference().details, big.reference().details
    for key, quantity in cls.quantities.reference.items():
        if quantity in power and d1.get(key) is not None:
            values = d1[key] if isinstance(d1[key], list) else [d1[key]]
            expect = [math.ldexp(v, K * power[quantity]) for v in values]
            assert (dk[key] if isinstance(dk[key], list) else [dk[key]]) == expect, key


def test_a_certificate_names_the_users_own_data_point() -> None:
    """The vertex test's point is the user's vertex, whatever the unit frame."""
    tri = [[1e6 + 0.25, 1e6], [1e6 + 1.0, 1e6], [1e6 + 0.5, 1e6 + 0.001]]  # far from 0
    p = FermatPoint.from_points(tri)
    cert = p.certificate(p.reference().x)
    assert cert["kind"] == "vertex" and cert["point"] == tri[cert["index"]]
    assert p.certificate(tri[0], atol=1e-9)["point"] == tri[0]
    m = GeometricMedian.from_points(tri + [tri[2]] * 3)
    cert = m.certificate(tri[2])
    assert cert["kind"] == "data_point" and cert["point"] == tri[2]


def test_the_summaries_speak_in_user_units() -> None:
    """A gradient norm of a sum of squares, and a radius, carry units: the line is written
    from the certificate in user units."""
    p = build(CircleFit, K)
    cert = p.certificate(p.x0)
    assert f"gradient norm {cert['value']:.2g}" in cert["summary"]
    e = build(EnclosingCircle, K)
    cert = e.certificate(e.x0)
    assert f"radius {cert['radius']:.6g}" in cert["summary"]


def test_trilateration_ranges_are_lengths_of_the_frame() -> None:
    """Ranges far longer than the anchors' extent set the scale, and reach the unit copy
    divided by it (the true position as a point)."""
    t = Trilateration.from_anchors(ANCHORS, [1e6 * r for r in RANGES], truth=[0.5, 0.5])
    assert t.frame.exponent == 20  # 2^20 is the power of two nearest 0.86e6
    assert t.unit.ranges == [math.ldexp(1e6 * r, -20) for r in RANGES]
    assert t.unit.truth == t.frame.point_to_unit([0.5, 0.5])


def test_the_start_is_computed_on_the_users_numbers() -> None:
    """The centroid of points far from 0 on their own numbers (correctly rounded), not
    the unit copy's mapped back."""
    pts = [[1e6 + 0.1, 3.0], [1e6 + 0.2, 4.0], [1e6 + 0.4, 5.0]]
    for cls in (FermatPoint, EnclosingCircle, GeometricMedian):
        p = cls.from_points(pts)
        assert p.x0 == [math.fsum(c) / 3.0 for c in zip(*pts)]


def test_an_enclosing_radius_beyond_the_largest_float_is_refused() -> None:
    """As for every problem over points: a least radius no float can hold is refused
    with one line, not reported as inf."""
    big = 1.7e308
    with pytest.raises(InputError, match=r"the least radius, about 2.4e\+308, is beyond"):
        EnclosingCircle.from_points([[-big, -big], [big, big], [big, -big]])


def test_the_enclosing_circles_certificate_names_the_users_support_points() -> None:
    """Far from the origin the solver works on centred, scaled data; the certificate's
    support points are still the user's own rows (not the unit copy's)."""
    from geograd.problems.enclosing_circle import EnclosingCircle

    rows = [[1e6 + 0.5, 2e6], [1e6 - 3.0, 2e6 + 1.0], [1e6 + 1.0, 2e6 - 2.5], [1e6, 2e6]]
    p = EnclosingCircle.from_points(rows)
    cert = p.certificate(p.reference().x)
    assert cert["support_points"] == [rows[i] for i in cert["support"]]
    assert cert["support_points"] == p.reference().details["support_points"]


# ------------------------------------------------------------------------ registration

#: Registration's source, away from the origin (the frame keeps the origin: θ turns about
#: it), and its target: turned by 0.4 rad (about z in 3-D), shifted, and perturbed.
REG_SOURCE = [[p[0] + 3.0, p[1] - 2.0, 0.25 * k] for k, p in enumerate(POINTS)]
REG_WOBBLE = [0.01, -0.02, 0.015, 0.0, -0.01, 0.02]


def reg_target(rows: list[list[float]]) -> list[list[float]]:
    c, s = math.cos(0.4), math.sin(0.4)
    return [
        [c * x - s * y + 0.5 + e, s * x + c * y - 0.25 - e, *(v + 0.125 + e for v in z)]
        for (x, y, *z), e in zip(rows, REG_WOBBLE)
    ]


def build_registration(dim: int, k: int) -> Any:
    source = [row[:dim] for row in REG_SOURCE]
    return Registration.from_points(scaled(source, k), scaled(reg_target(source), k))


@pytest.mark.parametrize("dim", [2, 3])
def test_registration_declares_its_certificate_and_reference(dim: int) -> None:
    """The data times 2^K (offset from the origin included): the unit copy is the same, so
    the shift and every declared length scale by 2^K, the losses by 2^2K, the angles not at
    all; the centroids are the user's points (computed on the user's numbers)."""
    one, big = build_registration(dim, 0), build_registration(dim, K)
    core = Registration3DCore if dim == 3 else RegistrationCore
    assert type(big.unit) is core and type(big) is (Registration3D if dim == 3 else Registration)
    assert big.frame.exponent == one.frame.exponent + K and not any(big.frame.centre)
    for name in ("reference_details", "certificate_to_user", "compute_reference"):
        assert name not in vars(Registration), name
    power = {"length": 1, "loss": 2}
    angles = big.dim - big.data_dim
    r1, rk = one.reference(), big.reference()
    assert rk.x == r1.x[:angles] + [math.ldexp(v, K) for v in r1.x[angles:]]
    assert rk.loss == math.ldexp(r1.loss, 2 * K)
    assert big.x0 == [math.ldexp(v, K) if i >= angles else v for i, v in enumerate(one.x0)]
    for x1, xk in ((one.x0, big.x0), (r1.x, rk.x)):
        c1, ck = one.certificate(x1), big.certificate(xk)
        assert c1.keys() == ck.keys()
        for key, value in c1.items():
            quantity = Registration.quantities.certificate.get(key)
            if quantity is not None:
                assert ck[key] == math.ldexp(value, K * power[quantity]), key
            elif key not in ("summary", "gradient_norm"):
                assert ck[key] == value, key
        # θ's gradient scales by 2^2K, t's by 2^K: the norm is the user gradient's
        assert ck["gradient_norm"] == math.hypot(*big.gradient(xk))
        assert f"objective {ck['value']:.2g} above" in ck["summary"]
    assert one.certificate(one.x0)["value"] > 0.0  # at x0 a gap that scales, not 0
    d1, dk = r1.details, rk.details
    assert dk["singular_values"] == [math.ldexp(v, 2 * K) for v in d1["singular_values"]]
    for key in d1.keys() - Registration.quantities.reference.keys():
        assert dk[key] == d1[key], key
    source = [row[:dim] for row in scaled(REG_SOURCE)]
    centroid = [math.fsum(c) / len(source) for c in zip(*source)]
    assert list(big.source_centroid) == centroid
    assert big.radius == math.ldexp(one.radius, K)
    if dim == 2:
        cf1, cfk = one.closed_form(), big.closed_form()
        assert cfk["source_centroid"] == centroid
        assert cfk["shift"] == [math.ldexp(v, K) for v in cf1["shift"]]
        assert cfk["theta"] == cf1["theta"]
        assert (cfk["loss"], cfk["rho"]) == (
            math.ldexp(cf1["loss"], 2 * K), math.ldexp(cf1["rho"], 2 * K)
        )  # fmt: skip


def test_registration_maps_the_kabsch_solution_it_set_aside() -> None:
    """Where the closed form beats the SVD (a pure shift), the SVD's motion kept in the
    details is a motion in user units (θ as it is, t scaled), like the reference's."""
    source = [row[:2] for row in REG_SOURCE]
    target = [[x + 0.5, y - 0.25] for x, y in source]
    one = Registration.from_points(source, target).reference()
    big = Registration.from_points(scaled(source), scaled(target)).reference()
    assert one.method == big.method == "closed-form"
    k1, kk = one.details["kabsch"], big.details["kabsch"]
    assert kk == [k1[0], *(math.ldexp(v, K) for v in k1[1:])]
    assert big.x == [one.x[0], *(math.ldexp(v, K) for v in one.x[1:])]
