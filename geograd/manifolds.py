"""Manifolds for the optimizers: where a parameter lives, and how to step on it.

Standard library only. A point ``x`` and the vectors ``u``, ``v`` at it are flat
1-D ``Data`` (as parameters are) of any backend; every result stays in the backend
of its input. :class:`Euclidean` and :class:`Sphere` compute with backend operations;
:class:`Spheres` and :class:`SO` compute on the values as Python floats (a few hundred
numbers at most: N charges, a 3x3 matrix) and give them back in the input's backend.

Every manifold here is embedded in R^size with the Euclidean (embedded) metric, so::

    inner(x, u, v) = <u, v>                 (the ambient dot product)
    egrad2rgrad(x, g) = proj(x, g)          (Riemannian gradient = projected gradient)
    transp(x, y, v) = proj(y, v)            (vector transport by projection)

An optimizer steps on a manifold with ``Adam([x], lr=0.1, manifold=Sphere(3))``, or
per parameter group ``{"params": [x], "manifold": Sphere(3)}``: see
:mod:`geograd.optim.optimizer`. ``spec`` is a short string (``"sphere(3)"``,
``"so(3)"``, ``"product(sphere(3):3,euclidean:2)"``) and :func:`manifold_from_spec`
its inverse, so a state dict stays JSON.
"""

from __future__ import annotations

import math
import random
from typing import Any, ClassVar

from geograd import backend as B
from geograd.backend import Data
from geograd.errors import InputError

DEFAULT_ATOL = 1e-8
"""How far off the manifold a point may be for :meth:`Manifold.check_point`."""


# ------------------------------------------------------------------ helpers on Data


def _dot(a: Data, b: Data) -> float:
    be = B.common_backend((a, b), "inner")
    return float(be.total(be.mul(a, b)))


def _values(x: Data, size: int, what: str) -> list[float]:
    """The values of a 1-D ``x`` of ``size`` entries as floats; InputError otherwise."""
    if B.shape_of(x) != (size,):
        raise InputError(
            f"{what}: expected a flat vector of {size} numbers, got shape {B.shape_of(x)}"
        )
    return B.tolist(x, what)


def _like(x: Data | None, values: list[float]) -> Data:
    """``values`` as an array of the backend of ``x`` (the standard library's if None)."""
    be = B.PYTHON if x is None or type(x) is float else B.backend_of(x)
    return be.from_list(values)


def _shape_error(what: str, spec: str, size: int, x: Data) -> InputError:
    return InputError(
        f"{what}: a point of {spec} has {size} coordinates, got shape {B.shape_of(x)}"
    )


def _check_sizes(what: str, manifold: Manifold, *arrays: Data) -> None:
    """InputError unless every array is a flat vector of the manifold's size (of one
    common length for a sizeless Euclidean): the point and tangent vectors of one call."""
    shapes = [B.shape_of(a) for a in arrays]
    size = manifold.size
    if size is None:
        if all(s == shapes[0] for s in shapes):
            return
        need = "vectors of one shape"
    else:
        if all(s == (size,) for s in shapes):
            return
        need = f"flat vectors of {size} numbers (dimension {manifold.dim})"
    raise InputError(
        f"{what}: {manifold.spec} takes {need} for the point and the tangent vectors, "
        f"got shapes {', '.join(str(s) for s in shapes)}"
    )


def _length(x: Data, what: str) -> int:
    shape = B.shape_of(x)
    if len(shape) != 1:
        raise InputError(f"{what}: a point on a manifold must be a flat 1-D vector, got a number")
    return int(shape[0])


# ------------------------------------------------------------------------ the base


class Manifold:
    """A Riemannian manifold embedded in R^size, with the embedded metric.

    Subclasses implement :meth:`proj`, :meth:`retr`, :meth:`projx`,
    :meth:`check_point`, :meth:`random_point`, :attr:`dim`, :attr:`spec` (and
    :meth:`exp` when it has a closed form). The defaults::

        egrad2rgrad(x, g) = proj(x, g)
        transp(x, y, v)   = proj(y, v)
        inner(x, u, v)    = Σ u_i v_i
    """

    name: ClassVar[str] = "manifold"
    is_euclidean: ClassVar[bool] = False
    size: int | None = None
    """The number of ambient coordinates of a point (None: any, for Euclidean)."""

    @property
    def dim(self) -> int:
        """The intrinsic dimension."""
        raise NotImplementedError

    @property
    def spec(self) -> str:
        """A JSON-able description, read back by :func:`manifold_from_spec`."""
        raise NotImplementedError

    def proj(self, x: Data, u: Data) -> Data:
        """The orthogonal projection of the ambient vector ``u`` onto the tangent space at x."""
        raise NotImplementedError

    def egrad2rgrad(self, x: Data, g: Data) -> Data:
        """The Riemannian gradient from the Euclidean one: proj(x, g) (embedded metric)."""
        return self.proj(x, g)

    def retr(self, x: Data, u: Data) -> Data:
        """A retraction R_x(u): a point of the manifold, R_x(0) = x, dR_x(0) = identity."""
        raise NotImplementedError

    def exp(self, x: Data, u: Data) -> Data:
        """The exponential map (the geodesic from x with velocity u at time 1)."""
        raise NotImplementedError(f"{self.spec} has no exponential map")

    def transp(self, x: Data, y: Data, v: Data) -> Data:
        """Vector transport of v (tangent at x) to the tangent space at y: proj(y, v)."""
        _check_sizes(f"{type(self).__name__}.transp", self, x, y, v)
        return self.proj(y, v)

    def inner(self, x: Data, u: Data, v: Data) -> float:
        """<u, v> at x: the ambient dot product (embedded metric)."""
        _check_sizes(f"{type(self).__name__}.inner", self, x, u, v)
        return _dot(u, v)

    def norm(self, x: Data, u: Data) -> float:
        """sqrt(<u, u>_x)."""
        return math.sqrt(max(self.inner(x, u, u), 0.0))

    def projx(self, x: Data) -> Data:
        """The nearest point of the manifold to the ambient point x."""
        raise NotImplementedError

    def check_point(self, x: Data, what: str = "point", atol: float = DEFAULT_ATOL) -> None:
        """InputError (one, naming ``what`` and the defect) if x is not on the manifold."""
        raise NotImplementedError

    def random_point(self, rng: random.Random | None = None, like: Data | None = None) -> Data:
        """A random point (uniform where that makes sense), in the backend of ``like``."""
        raise NotImplementedError

    def random_tangent(self, x: Data, rng: random.Random | None = None) -> Data:
        """A random unit tangent vector at x: a projected Gaussian, normalised."""
        r = rng or random.Random(0)
        n = _length(x, "random_tangent")
        u = self.proj(x, _like(x, [r.gauss(0.0, 1.0) for _ in range(n)]))
        size = self.norm(x, u)
        return u if size == 0.0 else u * (1.0 / size)

    def __repr__(self) -> str:
        return f"manifold({self.spec!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Manifold) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec)


# ------------------------------------------------------------------- Euclidean


class Euclidean(Manifold):
    """R^size (any length when ``size`` is None): every operation is the flat one.

    proj(x, u) = u, retr(x, u) = exp(x, u) = x + u, transp(x, y, v) = v, projx(x) = x.
    An optimizer treats a group on ``Euclidean()`` exactly as one without a manifold.
    """

    name = "euclidean"
    is_euclidean = True

    def __init__(self, size: int | None = None) -> None:
        if size is not None and not (isinstance(size, int) and size >= 1):
            raise InputError(f"Euclidean: size must be an integer >= 1, got {size!r}")
        self.size = size

    @property
    def dim(self) -> int:
        if self.size is None:
            raise InputError("euclidean without a size has no fixed dimension")
        return self.size

    @property
    def spec(self) -> str:
        return "euclidean" if self.size is None else f"euclidean({self.size})"

    def proj(self, x: Data, u: Data) -> Data:
        _check_sizes("Euclidean.proj", self, x, u)
        return u

    def retr(self, x: Data, u: Data) -> Data:
        _check_sizes("Euclidean.retr", self, x, u)
        return x + u

    def exp(self, x: Data, u: Data) -> Data:
        _check_sizes("Euclidean.exp", self, x, u)
        return x + u

    def transp(self, x: Data, y: Data, v: Data) -> Data:
        _check_sizes("Euclidean.transp", self, x, y, v)
        return v

    def projx(self, x: Data) -> Data:
        _check_sizes("Euclidean.projx", self, x)
        return x

    def check_point(self, x: Data, what: str = "point", atol: float = DEFAULT_ATOL) -> None:
        if self.size is not None and B.shape_of(x) != (self.size,):
            raise InputError(
                f"{what}: expected {self.size} numbers on {self.spec}, got shape {B.shape_of(x)}"
            )
        if not B.is_finite(x):
            raise InputError(f"{what}: not finite")

    def random_point(self, rng: random.Random | None = None, like: Data | None = None) -> Data:
        r = rng or random.Random(0)
        n = (
            self.size
            if self.size is not None
            else (_length(like, "random_point") if like is not None else 1)
        )
        return _like(like, [r.gauss(0.0, 1.0) for _ in range(n)])


# ---------------------------------------------------------------------- Sphere


class Sphere(Manifold):
    """The unit sphere S^(d-1) = {x in R^d : |x| = 1}, dimension d - 1.

    ::

        proj(x, u)  = u - <x, u> x
        retr(x, u)  = (x + u) / |x + u|              (the metric projection: second order)
        exp(x, u)   = cos|u| x + sin|u| u / |u|
        projx(x)    = x / |x|
    """

    size: int
    name = "sphere"

    def __init__(self, d: int) -> None:
        if not (isinstance(d, int) and not isinstance(d, bool) and d >= 2):
            raise InputError(f"Sphere: the ambient dimension d must be an integer >= 2, got {d!r}")
        self.d = d
        self.size = d

    @property
    def dim(self) -> int:
        return self.d - 1

    @property
    def spec(self) -> str:
        return f"sphere({self.d})"

    def proj(self, x: Data, u: Data) -> Data:
        _check_sizes("Sphere.proj", self, x, u)
        return u - _dot(x, u) * x

    def _normalize(self, y: Data, what: str) -> Data:
        r = B.backend_of(y).vector_norm(y)
        if not (r > 0.0 and math.isfinite(r)):
            raise InputError(f"{what}: cannot project a vector of length {r!r} onto {self.spec}")
        return y * (1.0 / r)

    def retr(self, x: Data, u: Data) -> Data:
        _check_sizes("Sphere.retr", self, x, u)
        return self._normalize(x + u, "Sphere.retr")

    def exp(self, x: Data, u: Data) -> Data:
        _check_sizes("Sphere.exp", self, x, u)
        t = B.backend_of(u).vector_norm(u)
        if t == 0.0:
            return x
        return self._normalize(math.cos(t) * x + (math.sin(t) / t) * u, "Sphere.exp")

    def projx(self, x: Data) -> Data:
        _check_sizes("Sphere.projx", self, x)
        return self._normalize(x, "Sphere.projx")

    def check_point(self, x: Data, what: str = "point", atol: float = DEFAULT_ATOL) -> None:
        if B.shape_of(x) != (self.d,):
            raise _shape_error(what, self.spec, self.d, x)
        r = B.backend_of(x).vector_norm(x)
        if not abs(r - 1.0) <= atol:
            raise InputError(
                f"{what} is not on {self.spec}: its length is {r!r}, not 1 (tolerance {atol:g}); "
                "start from manifold.projx(x)"
            )

    def random_point(self, rng: random.Random | None = None, like: Data | None = None) -> Data:
        r = rng or random.Random(0)
        while True:
            v = [r.gauss(0.0, 1.0) for _ in range(self.d)]
            n = math.hypot(*v)
            if n > 1e-12:
                return _like(like, [c / n for c in v])


# --------------------------------------------------------------------- Spheres


class Spheres(Manifold):
    """A product of n unit spheres in R^d on a flat vector of n·d numbers (point i is
    entries i·d .. i·d + d - 1): N charges of Thomson's problem. Dimension n(d - 1).

    Each block x_i, u_i as on :class:`Sphere`::

        proj(x, u)_i = u_i - <x_i, u_i> x_i
        retr(x, u)_i = (x_i + u_i) / |x_i + u_i|
        exp(x, u)_i  = cos|u_i| x_i + sin|u_i| u_i / |u_i|
        projx(x)_i   = x_i / |x_i|
    """

    size: int
    name = "spheres"

    def __init__(self, n: int, d: int) -> None:
        for label, v, lo in (("n", n, 1), ("d", d, 2)):
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= lo):
                raise InputError(f"Spheres: {label} must be an integer >= {lo}, got {v!r}")
        self.n, self.d = n, d
        self.size = n * d

    @property
    def dim(self) -> int:
        return self.n * (self.d - 1)

    @property
    def spec(self) -> str:
        return f"spheres({self.n},{self.d})"

    def _blocks(self, x: Data, what: str) -> list[list[float]]:
        v = _values(x, self.size, what)
        d = self.d
        return [v[i : i + d] for i in range(0, len(v), d)]

    def proj(self, x: Data, u: Data) -> Data:
        out: list[float] = []
        for xi, ui in zip(self._blocks(x, "Spheres.proj"), self._blocks(u, "Spheres.proj")):
            c = math.fsum(a * b for a, b in zip(xi, ui))
            out.extend(b - c * a for a, b in zip(xi, ui))
        return _like(x, out)

    def _unit(self, v: list[float], what: str) -> list[float]:
        r = math.hypot(*v)
        if not (r > 0.0 and math.isfinite(r)):
            raise InputError(f"{what}: cannot project a vector of length {r!r} onto a sphere")
        return [c / r for c in v]

    def retr(self, x: Data, u: Data) -> Data:
        out: list[float] = []
        for xi, ui in zip(self._blocks(x, "Spheres.retr"), self._blocks(u, "Spheres.retr")):
            out.extend(self._unit([a + b for a, b in zip(xi, ui)], "Spheres.retr"))
        return _like(x, out)

    def exp(self, x: Data, u: Data) -> Data:
        out: list[float] = []
        for xi, ui in zip(self._blocks(x, "Spheres.exp"), self._blocks(u, "Spheres.exp")):
            t = math.hypot(*ui)
            if t == 0.0:
                out.extend(xi)
                continue
            c, s = math.cos(t), math.sin(t) / t
            out.extend(self._unit([c * a + s * b for a, b in zip(xi, ui)], "Spheres.exp"))
        return _like(x, out)

    def projx(self, x: Data) -> Data:
        out: list[float] = []
        for xi in self._blocks(x, "Spheres.projx"):
            out.extend(self._unit(xi, "Spheres.projx"))
        return _like(x, out)

    def check_point(self, x: Data, what: str = "point", atol: float = DEFAULT_ATOL) -> None:
        if B.shape_of(x) != (self.size,):
            raise _shape_error(what, self.spec, self.size, x)
        for i, xi in enumerate(self._blocks(x, what)):
            r = math.hypot(*xi)
            if not abs(r - 1.0) <= atol:
                raise InputError(
                    f"{what} is not on {self.spec}: point {i} has length {r!r}, not 1 "
                    f"(tolerance {atol:g}); start from manifold.projx(x)"
                )

    def random_point(self, rng: random.Random | None = None, like: Data | None = None) -> Data:
        r = rng or random.Random(0)
        one = Sphere(self.d)
        out: list[float] = []
        for _ in range(self.n):
            out.extend(B.tolist(one.random_point(r), "random_point"))
        return _like(like, out)


# -------------------------------------------------------------------------- SO(d)


def _matmul(a: list[float], b: list[float], d: int) -> list[float]:
    return [
        math.fsum(a[i * d + k] * b[k * d + j] for k in range(d)) for i in range(d) for j in range(d)
    ]


def _transpose(a: list[float], d: int) -> list[float]:
    return [a[j * d + i] for i in range(d) for j in range(d)]


def _skew(a: list[float], d: int) -> list[float]:
    return [0.5 * (a[i * d + j] - a[j * d + i]) for i in range(d) for j in range(d)]


def _identity(d: int) -> list[float]:
    return [1.0 if i == j else 0.0 for i in range(d) for j in range(d)]


def _det(a: list[float], d: int) -> float:
    if d == 2:
        return a[0] * a[3] - a[1] * a[2]
    return (
        a[0] * (a[4] * a[8] - a[5] * a[7])
        - a[1] * (a[3] * a[8] - a[5] * a[6])
        + a[2] * (a[3] * a[7] - a[4] * a[6])
    )


def _jacobi_top_eigenvector(k: list[list[float]]) -> list[float]:
    """The eigenvector of the largest eigenvalue of a small symmetric matrix (cyclic Jacobi)."""
    n = len(k)
    a = [row[:] for row in k]
    v = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    for _ in range(100):
        off = math.fsum(a[i][j] ** 2 for i in range(n) for j in range(n) if i != j)
        scale = math.fsum(a[i][j] ** 2 for i in range(n) for j in range(n))
        if off <= 1e-32 * scale or off == 0.0:
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                if a[p][q] == 0.0:
                    continue
                theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q])
                t = math.copysign(1.0, theta) / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for r in range(n):  # A <- A J (columns p, q)
                    arp, arq = a[r][p], a[r][q]
                    a[r][p], a[r][q] = c * arp - s * arq, s * arp + c * arq
                for r in range(n):  # A <- J^T A (rows p, q)
                    apr, aqr = a[p][r], a[q][r]
                    a[p][r], a[q][r] = c * apr - s * aqr, s * apr + c * aqr
                for r in range(n):  # V <- V J
                    vrp, vrq = v[r][p], v[r][q]
                    v[r][p], v[r][q] = c * vrp - s * vrq, s * vrp + c * vrq
    top = max(range(n), key=lambda i: a[i][i])
    return [v[r][top] for r in range(n)]


def _quaternion_matrix(w: float, x: float, y: float, z: float) -> list[float]:
    n = math.sqrt(w * w + x * x + y * y + z * z)
    w, x, y, z = w / n, x / n, y / n, z / n
    return [
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ]  # fmt: skip


class SO(Manifold):
    """The rotation group SO(d) = {X : XᵀX = I, det X = +1}, d = 2 or 3, on a flat
    row-major d·d vector. Dimension d(d - 1)/2. Tangent vectors at X are X·Ω, Ω skew.

    ::

        proj(X, U)  = X skew(XᵀU),      skew(A) = (A - Aᵀ)/2
        retr(X, U)  = X cay(Ω),  Ω = skew(XᵀU),
                      cay(Ω) = (I - Ω/2)⁻¹(I + Ω/2) = I + (Ω + Ω²/2) / (1 + ‖Ω‖_F²/8)
        exp(X, U)   = X expm(Ω)          (Rodrigues: I + sinθ/θ Ω + (1 - cosθ)/θ² Ω², θ = ‖Ω‖_F/√2)
        projx(M)    = argmax_R tr(RᵀM)   (the nearest rotation: d = 2, the angle
                      atan2(M₁₀ - M₀₁, M₀₀ + M₁₁); d = 3, Horn's unit quaternion, the top
                      eigenvector of a 4x4 symmetric matrix by Jacobi's method)

    The retraction is the Cayley transform, because: it is a closed form (the second
    expression holds for every skew 2x2 and 3x3 Ω, since Ω³ = -θ²Ω), with no iteration
    and no factorisation; I - Ω/2 is invertible for every skew Ω (its eigenvalues are
    1 - iλ/2), so it is defined for every tangent vector; its value is orthogonal with
    determinant +1 by construction (it never reaches the reflections, as a QR factor
    with a sign convention or a polar factor of a nearly singular matrix can); and it
    agrees with the exponential to second order (cay(Ω) - expm(Ω) = Ω³/12 + ...), so
    it is a second-order retraction, as the polar factor is and the QR factor is not.
    """

    size: int
    name = "so"

    def __init__(self, d: int) -> None:
        if d not in (2, 3) or isinstance(d, bool):
            raise InputError(f"SO(d) is implemented for d = 2 and 3, got {d!r}")
        self.d = d
        self.size = d * d

    @property
    def dim(self) -> int:
        return self.d * (self.d - 1) // 2

    @property
    def spec(self) -> str:
        return f"so({self.d})"

    def _omega(self, x: list[float], u: list[float]) -> list[float]:
        d = self.d
        return _skew(_matmul(_transpose(x, d), u, d), d)

    def proj(self, x: Data, u: Data) -> Data:
        xv, uv = _values(x, self.size, "SO.proj"), _values(u, self.size, "SO.proj")
        return _like(x, _matmul(xv, self._omega(xv, uv), self.d))

    def retr(self, x: Data, u: Data) -> Data:
        d = self.d
        xv, uv = _values(x, self.size, "SO.retr"), _values(u, self.size, "SO.retr")
        om = self._omega(xv, uv)
        om2 = _matmul(om, om, d)
        scale = 1.0 / (1.0 + math.fsum(w * w for w in om) / 8.0)
        q = [e + scale * (a + 0.5 * b) for e, a, b in zip(_identity(d), om, om2)]
        return _like(x, _matmul(xv, q, d))

    def exp(self, x: Data, u: Data) -> Data:
        d = self.d
        xv, uv = _values(x, self.size, "SO.exp"), _values(u, self.size, "SO.exp")
        om = self._omega(xv, uv)
        theta = math.sqrt(math.fsum(w * w for w in om) / 2.0)
        if theta < 1e-8:
            a, b = 1.0 - theta * theta / 6.0, 0.5 - theta * theta / 24.0
        else:
            a, b = math.sin(theta) / theta, (1.0 - math.cos(theta)) / (theta * theta)
        om2 = _matmul(om, om, d)
        e = [i + a * w + b * w2 for i, w, w2 in zip(_identity(d), om, om2)]
        return _like(x, _matmul(xv, e, d))

    def _nearest(self, m: list[float]) -> list[float]:
        if self.d == 2:
            t = math.atan2(m[2] - m[1], m[0] + m[3])
            c, s = math.cos(t), math.sin(t)
            return [c, -s, s, c]
        # Horn/Bar-Itzhack: tr(RᵀM) = qᵀKq over unit quaternions q = (w, x, y, z)
        m00, m01, m02, m10, m11, m12, m20, m21, m22 = m
        k = [
            [m00 + m11 + m22, m21 - m12, m02 - m20, m10 - m01],
            [m21 - m12, m00 - m11 - m22, m01 + m10, m02 + m20],
            [m02 - m20, m01 + m10, m11 - m00 - m22, m12 + m21],
            [m10 - m01, m02 + m20, m12 + m21, m22 - m00 - m11],
        ]
        return _quaternion_matrix(*_jacobi_top_eigenvector(k))

    def projx(self, x: Data) -> Data:
        m = _values(x, self.size, "SO.projx")
        if not all(math.isfinite(v) for v in m):
            raise InputError("SO.projx: the matrix is not finite")
        return _like(x, self._nearest(m))

    def check_point(self, x: Data, what: str = "point", atol: float = DEFAULT_ATOL) -> None:
        d = self.d
        if B.shape_of(x) != (self.size,):
            raise InputError(
                f"{what}: a point of {self.spec} is a flat {d}x{d} matrix of {self.size} "
                f"numbers, got shape {B.shape_of(x)}"
            )
        m = B.tolist(x, what)
        gram = _matmul(_transpose(m, d), m, d)
        err = max(abs(a - b) for a, b in zip(gram, _identity(d)))
        if not err <= atol:
            raise InputError(
                f"{what} is not on {self.spec}: max |XᵀX - I| = {err:.3g} (tolerance {atol:g}); "
                "start from manifold.projx(x), the nearest rotation"
            )
        if _det(m, d) < 0:
            raise InputError(f"{what} is not on {self.spec}: it is a reflection (det X = -1)")

    def random_point(self, rng: random.Random | None = None, like: Data | None = None) -> Data:
        r = rng or random.Random(0)
        if self.d == 2:
            t = r.uniform(-math.pi, math.pi)
            return _like(like, [math.cos(t), -math.sin(t), math.sin(t), math.cos(t)])
        while True:  # a uniform unit quaternion: a uniform (Haar) rotation
            q = [r.gauss(0.0, 1.0) for _ in range(4)]
            if math.hypot(*q) > 1e-12:
                return _like(like, _quaternion_matrix(*q))


# ------------------------------------------------------------------------ Product


class Product(Manifold):
    """The product M_1 x ... x M_k on one flat vector: the first size_1 entries on M_1,
    the next size_2 on M_2, ... Each operation applies componentwise; ``inner`` sums::

        proj(x, u) = (proj_1(x_1, u_1), ..., proj_k(x_k, u_k)),   <u, v> = Σ <u_i, v_i>

    ``Product([(Sphere(3), 3), (Euclidean(), 2)])``: a unit vector and a free 2-vector.
    """

    size: int
    name = "product"

    def __init__(self, parts: list[tuple[Manifold, int]]) -> None:
        items = list(parts)
        if not items:
            raise InputError("Product: give at least one (manifold, size) pair")
        self.parts: list[tuple[Manifold, int, int]] = []
        offset = 0
        for item in items:
            try:
                m, size = item
            except (TypeError, ValueError):
                raise InputError(
                    f"Product: each part is a (manifold, size) pair, got {item!r}"
                ) from None
            if not isinstance(m, Manifold):
                raise InputError(f"Product: {m!r} is not a Manifold")
            if not (isinstance(size, int) and not isinstance(size, bool) and size >= 1):
                raise InputError(
                    f"Product: the size of {m.spec} must be an integer >= 1, got {size!r}"
                )
            if m.size is None:
                m = Euclidean(size)
            elif m.size != size:
                raise InputError(f"Product: {m.spec} has {m.size} coordinates, not {size}")
            self.parts.append((m, offset, offset + size))
            offset += size
        self.size = offset

    @property
    def dim(self) -> int:
        return sum(m.dim for m, _, _ in self.parts)

    @property
    def spec(self) -> str:
        inner = ",".join(f"{m.spec}:{b - a}" for m, a, b in self.parts)
        return f"product({inner})"

    def _split(self, x: Data, what: str) -> list[Data]:
        if B.shape_of(x) != (self.size,):
            raise _shape_error(what, self.spec, self.size, x)
        be = B.backend_of(x)
        return [be.take(x, slice(a, b)) for _, a, b in self.parts]

    def _join(self, like: Data, pieces: list[Data]) -> Data:
        return B.backend_of(like).concat(pieces)

    def _map(self, fn: str, x: Data, *others: Data) -> Data:
        xs = self._split(x, f"Product.{fn}")
        rest = [self._split(o, f"Product.{fn}") for o in others]
        pieces = [
            getattr(m, fn)(xs[i], *(r[i] for r in rest)) for i, (m, _, _) in enumerate(self.parts)
        ]
        return self._join(x, pieces)

    def proj(self, x: Data, u: Data) -> Data:
        return self._map("proj", x, u)

    def egrad2rgrad(self, x: Data, g: Data) -> Data:
        return self._map("egrad2rgrad", x, g)

    def retr(self, x: Data, u: Data) -> Data:
        return self._map("retr", x, u)

    def exp(self, x: Data, u: Data) -> Data:
        return self._map("exp", x, u)

    def transp(self, x: Data, y: Data, v: Data) -> Data:
        return self._map("transp", x, y, v)

    def inner(self, x: Data, u: Data, v: Data) -> float:
        xs, us, vs = (self._split(a, "Product.inner") for a in (x, u, v))
        return math.fsum(m.inner(xs[i], us[i], vs[i]) for i, (m, _, _) in enumerate(self.parts))

    def projx(self, x: Data) -> Data:
        return self._map("projx", x)

    def check_point(self, x: Data, what: str = "point", atol: float = DEFAULT_ATOL) -> None:
        xs = self._split(x, what)
        for i, (m, a, b) in enumerate(self.parts):
            m.check_point(
                xs[i], f"{what} (entries {a}..{b - 1}, component {i} of {self.spec})", atol
            )

    def random_point(self, rng: random.Random | None = None, like: Data | None = None) -> Data:
        r = rng or random.Random(0)
        values: list[float] = []
        for m, _, _ in self.parts:
            values.extend(B.tolist(m.random_point(r), "random_point"))
        return _like(like, values)


# ------------------------------------------------------------------------ specs


def manifold_from_spec(spec: str) -> Manifold:
    """The manifold a :attr:`Manifold.spec` string describes (InputError if invalid).

    Grammar: ``euclidean`` | ``euclidean(n)`` | ``sphere(d)`` | ``spheres(n,d)`` |
    ``so(d)`` | ``product(item,item,...)``, an item being a spec with an optional
    ``:size`` (required for a sizeless euclidean). Spaces are ignored.
    """
    if not isinstance(spec, str):
        raise InputError(f"a manifold spec must be a string, got {type(spec).__name__}")
    text = spec.replace(" ", "").lower()
    parser = _Parser(text, spec)
    out = parser.manifold()
    if parser.pos != len(text):
        raise parser.error("unexpected text at the end")
    return out


class _Parser:
    def __init__(self, text: str, original: str) -> None:
        self.text, self.original, self.pos = text, original, 0

    def error(self, why: str) -> InputError:
        return InputError(
            f"invalid manifold spec {self.original!r}: {why} (at position {self.pos}); "
            "expected e.g. 'sphere(3)', 'spheres(4,3)', 'so(3)', 'euclidean', "
            "'product(sphere(3):3,euclidean:2)'"
        )

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise self.error(f"expected {ch!r}")
        self.pos += 1

    def word(self) -> str:
        start = self.pos
        while self.peek().isalpha():
            self.pos += 1
        return self.text[start : self.pos]

    def integer(self) -> int:
        start = self.pos
        while self.peek().isdigit():
            self.pos += 1
        if start == self.pos:
            raise self.error("expected an integer")
        return int(self.text[start : self.pos])

    def integers(self) -> list[int]:
        self.expect("(")
        out = [self.integer()]
        while self.peek() == ",":
            self.pos += 1
            out.append(self.integer())
        self.expect(")")
        return out

    def manifold(self) -> Manifold:
        name = self.word()
        if name == "euclidean":
            if self.peek() == "(":
                args = self.integers()
                if len(args) != 1:
                    raise self.error("euclidean takes one size")
                return Euclidean(args[0])
            return Euclidean()
        if name == "product":
            self.expect("(")
            parts: list[tuple[Manifold, int]] = []
            while True:
                m = self.manifold()
                if self.peek() == ":":
                    self.pos += 1
                    size = self.integer()
                elif m.size is not None:
                    size = m.size
                else:
                    raise self.error(
                        "a euclidean part of a product needs its size, e.g. euclidean:2"
                    )
                parts.append((m, size))
                if self.peek() != ",":
                    break
                self.pos += 1
            self.expect(")")
            return Product(parts)
        makers: dict[str, tuple[int, Any]] = {
            "sphere": (1, Sphere),
            "spheres": (2, Spheres),
            "so": (1, SO),
        }
        if name not in makers:
            raise self.error(f"unknown manifold {name!r}")
        count, cls = makers[name]
        args = self.integers()
        if len(args) != count:
            raise self.error(f"{name} takes {count} integer(s)")
        made: Manifold = cls(*args)
        return made


def as_manifold(value: Any, what: str = "manifold") -> Manifold | None:
    """None, a :class:`Manifold`, or a spec string parsed: the ``manifold`` option of a
    parameter group (InputError for anything else)."""
    if value is None or isinstance(value, Manifold):
        return value
    if isinstance(value, str):
        return manifold_from_spec(value)
    raise InputError(
        f"{what}: expected a Manifold (e.g. geograd.manifolds.Sphere(3)) or a spec string, "
        f"got {type(value).__name__}"
    )


__all__ = [
    "SO",
    "Euclidean",
    "Manifold",
    "Product",
    "Sphere",
    "Spheres",
    "as_manifold",
    "manifold_from_spec",
]
