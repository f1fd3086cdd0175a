"""Solving in normalised coordinates: the data centred and scaled to about unit size.

Why. float64 holds numbers from about 5e-324 to 1.8e308, but a problem's
arithmetic does not: squared distances overflow once coordinates pass 1e154 and
underflow below 1e-154, sums of coordinates near 1e308 overflow, and between
subnormal numbers (below 2.2e-308) every subtraction loses digits. A problem
that computes on the user's numbers as they are gives wrong answers or
"unexpected" errors at such scales, although its answer is representable. So
each problem keeps two copies of its data:

- the user's, in the user's units, for everything the user sees (reports,
  ``to_dict``, plots);
- a *unit* copy, the data centred (at the middle of its bounding box when the data
  lie far from the origin, compared with their width; else at 0) and divided by a
  scale s close to its extent, so that its coordinates lie in about [-2, 2]: a
  full problem object of the problem's core class (its
  :attr:`Normalised.unit`), which runs the solver, the reference, the
  certificate and every other computation, as it always has on well-scaled data.

:class:`Frame` is the map between the two; :class:`Normalised` is the mixin that
turns a problem's core class into its user-facing class: its public methods take
and return user units and do their mathematics through the unit copy. So
``loss(x)``, ``objective(x)``, ``gradient(x)``, ``x0``, ``certificate(x)``,
``reference()``, ``solve()``'s result and ``components(x)`` are all in user units, as
they always were; only the numbers inside are computed in the unit frame. scipy's
baselines (``baselines()``) run on the user's problem as it stands, in user units:
they show what scipy at its defaults makes of it.

The scale is a power of two, s = 2^k. Multiplying or dividing by a power of two
only changes a float's exponent, so it is exact (as long as the result is
neither subnormal nor overflowing), and the centre is chosen so that centring is
exact too (0, or the middle of data that lie within a factor 2 of it:
:meth:`Frame.fit`): the unit data are the user's data exactly (barring
coordinates some 1e300 times smaller than the data's width, which become
subnormal), and mapping an answer back, c + s·z, rounds once, in the addition
(not at all for a point of the data's range). A decimal scale would add a
rounding to every coordinate both ways. For the same reason losses and gradients are mapped
with :func:`math.ldexp` (an exact exponent shift) rather than multiplied by s^p,
which itself could overflow or underflow (s² for s = 1e-200) where the product
does not.

Weights (the median's) are divided by a power of two near the largest weight,
for the same reasons: the weighted mean distance does not change, and weights
near 1e308 no longer overflow their sum.

What cannot be helped. A loss in user units is the unit loss times s^p (p = 1
for a sum or mean of distances, 2 for a sum of squares), and when that product
exceeds the largest float (1.8e308), no float can report it: a least-squares
circle fit to noisy points at 1e200 has a loss near 1e397. Such data are refused
with an :class:`~geograd.errors.InputError` that says so
(:meth:`Normalised.refuse_unrepresentable`); a product that underflows is
reported as what it rounds to (0 for a sum of squares at 1e-200), which is the
truth in float64. Data whose width itself exceeds the largest float (points at
-1.7e308 and 1.7e308) are solved all the same; their :attr:`Normalised.extent`
is then capped at the largest float.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, cast

from geograd import Tensor
from geograd.errors import GeogradError, InputError

from .base import Problem, Reference, _as_point
from .data import _default_names, column_ranges, is_array
from .lifecycle import Data

#: The largest float (about 1.8e308).
FLOAT_MAX = sys.float_info.max
#: Exponents of the powers of two a scale may be: every one of them is a float
#: (2^-1074 is the smallest subnormal, 2^1023 the largest power of two).
MIN_EXPONENT, MAX_EXPONENT = -1074, 1023
_SQRT_HALF = math.sqrt(0.5)


# ----------------------------------------------------------------------- arithmetic


def nearest_power_of_two(v: float) -> int:
    """The exponent k of the power of two nearest to ``v`` > 0 in the log (2^k within a
    factor √2 of v), kept within the exponents of floats."""
    m, e = math.frexp(v)  # v = m·2^e, 0.5 <= m < 1
    k = e if m >= _SQRT_HALF else e - 1
    return max(MIN_EXPONENT, min(MAX_EXPONENT, k))


def times_pow2(v: float, k: int) -> float:
    """v·2^k, exactly unless it under- or overflows (then the rounded or infinite value;
    ``math.ldexp`` raises OverflowError instead)."""
    try:
        return math.ldexp(v, k)
    except OverflowError:
        return math.copysign(math.inf, v)


def coordinate_to_unit(v: float, centre: float, k: int) -> float:
    """(v - centre)/2^k without overflowing in the difference (values of opposite signs
    near 1e308)."""
    d = v - centre
    if math.isinf(d) and math.isfinite(v) and math.isfinite(centre):
        return times_pow2(v * 0.5 - centre * 0.5, 1 - k)
    return times_pow2(d, -k)


def coordinate_from_unit(z: float, centre: float, k: int) -> float:
    """centre + z·2^k, infinite only when the true value is beyond the largest float."""
    v = centre + times_pow2(z, k)
    if math.isinf(v) and math.isfinite(z) and math.isfinite(centre):
        return times_pow2(centre * 0.5 + times_pow2(z, k - 1), 1)
    return v


def _half_width(lo: float, hi: float) -> float:
    d = hi - lo
    return d * 0.5 if math.isfinite(d) else hi * 0.5 - lo * 0.5


def _midpoint(lo: float, hi: float) -> float:
    d = hi - lo
    return lo + d * 0.5 if math.isfinite(d) else lo * 0.5 + hi * 0.5


def _exact_centre(lo: float, hi: float) -> float:
    """The middle of [lo, hi] when every value there is within a factor 2 of it (so that
    x - c is exact for all of them, by Sterbenz's lemma), else 0."""
    c = _midpoint(lo, hi)
    if c > 0.0 and c * 0.5 <= lo and hi <= c * 2.0:
        return c
    if c < 0.0 and c * 0.5 >= hi and lo >= c * 2.0:
        return c
    return 0.0


def _divisor(digits: float, power: int) -> str:
    """The power of ten to divide data by so that a value of 10^digits, which scales as the
    data's ``power``-th power, fits under the largest float: "10 (or more)", "1e47 (or more)"."""
    m = max(1, math.ceil((digits - math.log10(FLOAT_MAX) + 0.01) / power))
    return ("10" if m == 1 else f"1e{m}") + " (or more)"


def fmt(v: float) -> str:
    """A number for a message: 3 significant digits."""
    return f"{v:.3g}"


# ---------------------------------------------------------------------------- frame


@dataclass(frozen=True)
class Frame:
    """The map between user coordinates x and unit coordinates z = (x - centre)/2^exponent,
    per coordinate of the data's points (see the module docstring).

    ``lo`` and ``hi`` are the data's bounding box, ``width`` its largest side (capped at
    the largest float when the side is not representable; 0 when the points coincide).
    """

    centre: tuple[float, ...]
    exponent: int
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    width: float

    @classmethod
    def fit(
        cls,
        columns: Sequence[Sequence[float]],
        *,
        centred: bool = True,
        lengths: Sequence[float] = (),
    ) -> Frame:
        """The frame of points given column by column (``columns[j][i]`` is coordinate j of
        point i; finite numbers).

        Centred (the default): the scale is the power of two nearest the bounding box's
        largest side, and the centre of each coordinate the middle of its range when every
        value lies within a factor 2 of it (data far from the origin, compared with their
        width), else 0. Either way the unit data are exact: a difference x - c with
        c/2 <= x <= 2c is exact (Sterbenz's lemma), and so is dividing by a power of two,
        so the unit data carry no rounding (but where a quotient is subnormal), and a
        point of the data's range maps back to itself exactly. With centre 0 the data
        reach within about their width of the origin, so the unit data lie within about
        [-2, 2]; centred, within [-0.71, 0.71]. ``centred=False`` keeps the origin (for
        a problem whose parameters would otherwise mix with the centre, a rotation about
        the origin) and scales by the largest |coordinate| instead. ``lengths`` are
        other lengths of the data (ranges) that the scale must also cover.
        """
        ranges = column_ranges(columns)
        lo = tuple(a for a, _ in ranges)
        hi = tuple(b for _, b in ranges)
        spans = [b - a for a, b in zip(lo, hi)]
        width = min(max(spans), FLOAT_MAX) if spans else 0.0
        if centred:
            centre = tuple(_exact_centre(a, b) for a, b in zip(lo, hi))
            half = max((_half_width(a, b) for a, b in zip(lo, hi)), default=0.0)
            k = nearest_power_of_two(half) + 1 if half > 0.0 else None
        else:
            centre = tuple(0.0 for _ in lo)
            size = max((max(abs(a), abs(b)) for a, b in zip(lo, hi)), default=0.0)
            k = nearest_power_of_two(size) if size > 0.0 else None
        longest = max((abs(float(v)) for v in lengths), default=0.0)
        if longest > 0.0:
            k = max(k if k is not None else MIN_EXPONENT, nearest_power_of_two(longest))
        exponent = 0 if k is None else max(MIN_EXPONENT, min(MAX_EXPONENT, k))
        return cls(centre, exponent, lo, hi, float(width))

    @property
    def scale(self) -> float:
        """s = 2^exponent, the unit of length of the unit frame."""
        return math.ldexp(1.0, self.exponent)

    @property
    def identity(self) -> bool:
        """True when the unit frame is the user's (centre 0, scale 1)."""
        return self.exponent == 0 and not any(self.centre)

    def point_to_unit(self, x: Sequence[float]) -> list[float]:
        return [coordinate_to_unit(float(v), c, self.exponent) for v, c in zip(x, self.centre)]

    def point_from_unit(self, z: Sequence[float]) -> list[float]:
        return [coordinate_from_unit(float(v), c, self.exponent) for v, c in zip(z, self.centre)]

    def columns_to_unit(self, columns: Sequence[Sequence[float]] | Any) -> Any:
        """Data columns in the unit frame: lists of floats for lists; for a (d, n) array a
        float64 array computed by numpy, the same numbers (the very array when the frame
        is the identity: nothing to compute, nothing copied)."""
        from .chunked import is_chunked

        if is_chunked(columns):  # dask: the same numbers, computed chunk by chunk when used
            if self.identity:
                return columns
            import numpy as np

            centre = np.asarray(self.centre, dtype=np.float64)[:, None]
            return np.ldexp(columns - centre, -self.exponent)
        if is_array(columns):
            return self._array_to_unit(columns)
        return [[coordinate_to_unit(float(v), c, self.exponent) for v in col]
                for col, c in zip(columns, self.centre)]  # fmt: skip

    def _array_to_unit(self, columns: Any) -> Any:
        import numpy as np

        if self.identity:
            return columns
        out = np.empty(columns.shape, dtype=np.float64)
        with np.errstate(all="ignore"):
            for j, c in enumerate(self.centre):
                # (v - c)·2^-k: the difference is exact (see fit), ldexp rounds as
                # math.ldexp does (only a subnormal quotient rounds at all)
                np.ldexp(np.subtract(columns[j], c, out=out[j]), -self.exponent, out=out[j])
        if not bool(np.isfinite(out.sum())):
            # an overflowing difference (or quotient): coordinate_to_unit's way, per number
            for j, c in enumerate(self.centre):
                for i in np.flatnonzero(~np.isfinite(out[j])).tolist():
                    out[j, i] = coordinate_to_unit(float(columns[j, i]), c, self.exponent)
        out.flags.writeable = False  # the problem's data: never changed, so never copied
        return out

    def length_to_unit(self, v: float) -> float:
        return times_pow2(float(v), -self.exponent)

    def length_from_unit(self, v: float) -> float:
        return times_pow2(float(v), self.exponent)

    def span_words(self, names: Sequence[str] = ()) -> str:
        """The data's widest side in words: "2e+200 (x from -1e+200 to 1e+200)"."""
        j = max(range(len(self.lo)), key=lambda i: _half_width(self.lo[i], self.hi[i]))
        name = names[j] if j < len(names) else f"coordinate {j + 1}"
        size = (
            fmt(self.width)
            if math.isfinite(self.hi[j] - self.lo[j])
            else (f"more than {fmt(FLOAT_MAX)}")
        )
        return f"{size} ({name} from {fmt(self.lo[j])} to {fmt(self.hi[j])})"


def weight_exponent(weights: Sequence[float] | Any) -> int:
    """The exponent of the power of two nearest the largest weight (0 without weights);
    ``weights`` a sequence or a 1-D array."""
    if is_array(weights):
        top = float(cast(Any, weights).max()) if len(weights) else 0.0
    else:
        top = max((float(w) for w in weights), default=0.0)
    return nearest_power_of_two(top) if top > 0.0 else 0


# --------------------------------------------------------------------- step families


def step_family(optimizer: Any) -> str:
    """How an optimizer's learning rate relates to lengths: ``adaptive`` (Adam, Adamax,
    RMSprop, Adagrad: each coordinate moves by about lr, whatever the gradient, so lr is
    a length; Newton-CG and trust-ncg too, whose lr is the first trial step's length or
    trust radius), ``free`` (L-BFGS: lr multiplies a quasi-Newton step, itself a length,
    so lr has no unit and passes as it is) or ``plain`` (SGD, momentum, NAG, the line
    search, plugins: the step is lr times the gradient)."""
    from geograd.optim import Adagrad, Adam, Adamax, Optimizer, RMSprop, get_optimizer
    from geograd.optim.lbfgs import LBFGS
    from geograd.optim.newton import NewtonCG, TrustNCG

    if isinstance(optimizer, str):
        cls: Any = get_optimizer(optimizer)
    elif isinstance(optimizer, type):
        cls = optimizer
    elif isinstance(optimizer, Optimizer):
        cls = type(optimizer)
    else:
        return "plain"
    if issubclass(cls, LBFGS):
        return "free"
    adaptive = (Adam, Adamax, RMSprop, Adagrad, NewtonCG, TrustNCG)
    return "adaptive" if issubclass(cls, adaptive) else "plain"


# ----------------------------------------------------------------------- quantities

#: What a number of a problem's data or answers measures, and so how it maps between the
#: unit frame and the user's units: a ``length`` (times s), a ``loss`` (an objective
#: value, times s^p), a ``gradient norm`` (times s^(p-1)), ``x`` (the problem's
#: parameters, :meth:`Normalised.from_unit`) or a ``point`` of the data's space.
Quantity = Literal["length", "loss", "gradient norm", "x", "point"]


def _each(one: Callable[[float], float], value: Any) -> Any:
    """``one`` of a number, or of each number of a list."""
    return [one(v) for v in value] if isinstance(value, (list, tuple)) else one(value)


@dataclass(frozen=True)
class Quantities:
    """A public class's declaration of the numbers beyond its points and parameters that
    carry units, by key, and what each measures (a :data:`Quantity`):

    - ``data``: extras of its data (:attr:`~geograd.problems.lifecycle.DataShape.extras`,
      attributes of the problem), put in the unit frame for the unit copy; the lengths
      among them (lists: trilateration's ranges) are covered by the frame's scale too;
    - ``certificate``: entries of the unit copy's certificate, mapped to user units;
    - ``reference``: entries of the unit reference's details, mapped to user units.

    A value may be a number, a list of numbers, or None (kept as it is). What is not
    named passes as it is: angles, relative gaps, counts, verdicts, words.
    """

    data: Mapping[str, Quantity] = field(default_factory=dict)
    certificate: Mapping[str, Quantity] = field(default_factory=dict)
    reference: Mapping[str, Quantity] = field(default_factory=dict)


# ---------------------------------------------------------------------------- mixin


class Normalised:
    """The user-facing side of a problem whose mathematics run on a unit copy of its data.

    Put it first among the bases of the public class, the problem's core class second
    (``class GeometricMedian(Normalised, GeometricMedianCore)``). For a core class over
    points (:class:`~geograd.problems.lifecycle.PointProblem`) the public class is a
    declaration: :meth:`set_data` keeps the user's data (what plots, ``to_dict`` and
    messages use) as the core class installs it, sets :attr:`frame` and builds
    :attr:`unit`, an instance of the core class over the unit data, and refuses data
    whose least objective no float can hold (:meth:`build_unit`); :attr:`quantities`
    names the numbers of its data, certificate and reference that carry units
    (:class:`Quantities`), which :meth:`certificate` and :meth:`reference_details` map.
    (A problem over other data, registration's point pairs, writes its own
    ``set_data`` with :meth:`make_unit` and :meth:`refuse_unrepresentable`.) The
    methods here then answer in user units by asking :attr:`unit` (see the module
    docstring):

    - parameters map coordinate by coordinate, x_i = offset_i + 2^(k_i) z_i
      (:meth:`parameter_frame`; by default x is a point of the data's space);
    - the objective is the unit objective times s^p, p = :attr:`loss_power`; the
      gradient's component i the unit gradient's times s^p / 2^(k_i);
    - learning rates, ``gtol`` and ``clip_norm`` map as lengths and gradients do
      (:meth:`settings_to_user`, :meth:`overrides_to_unit`); ``ftol`` and ``xtol``
      are relative and pass as they are;
    - :meth:`Problem.solve` runs the hook :meth:`_solve`, which runs the unit
      problem's own ``solve`` and maps its result back (:meth:`result_to_user`).

    ``loss(x)`` is the unit loss of the mapped x times s^p, through the engine, so that
    autograd, the closed-form gradient and finite differences agree in user units
    (``geograd check``). Reverse mode carries the factor s^p into the unit loss's graph
    and divides by s on the way out, so autograd in user units needs s^p times the unit
    gradient to be a float: it is not, for sums of squares beyond about 1e154 or next
    to a kink near 1e308, and with subnormal data it has few digits. The solver never
    differentiates the user-unit loss: it runs on the unit problem's.
    """

    #: p: the objective in user units is the unit objective times s^p.
    loss_power: ClassVar[int] = 1
    #: The objective in words, for the message that refuses data whose objective overflows.
    objective_words: ClassVar[str] = "objective"
    #: The numbers of the data and of the answers that carry units (none by default).
    quantities: ClassVar[Quantities] = Quantities()
    #: Whether the start is the core class's computed on the user's numbers (a centroid,
    #: correctly rounded there: the documented start) where it is finite; else (the
    #: default) the unit copy's, mapped back (:meth:`default_x0`).
    start_on_user_data: ClassVar[bool] = False

    frame: Frame
    unit: Any

    # ----------------------------------------------------------------- building

    def set_data(self, data: Data) -> None:
        """Install ``data`` as the core class does (its ``install``), then build the unit
        copy (:meth:`build_unit`)."""
        self.install(data)  # type: ignore[attr-defined]
        self.build_unit()

    def build_unit(self, weights: Any = None) -> None:
        """Fit :attr:`frame` to the installed points and to the lengths among the data's
        extras (:attr:`quantities`); build :attr:`unit`, the core class (the base after
        this one) over the points and extras in that frame, with ``weights`` (already the
        unit copy's) and the user's ``source`` for its messages; refuse data whose least
        objective no float can hold (:meth:`refuse_unrepresentable`)."""
        declared = self.quantities.data
        extras = {key: getattr(self, key) for key in declared}
        lengths = [v for key, q in declared.items() if q == "length" for v in extras[key] or ()]
        columns: Any = self.columns  # type: ignore[attr-defined]
        self.frame = Frame.fit(columns, lengths=lengths)
        extra = {key: self.quantity_to_unit(q, extras[key]) for key, q in declared.items()}
        given = Data(self.frame.columns_to_unit(columns), weights, extra=extra)
        mro = type(self).__mro__
        core = next(c for c in mro if issubclass(c, Problem) and not issubclass(c, Normalised))
        source = self.source  # type: ignore[attr-defined]
        self.unit = self.make_unit(core, given, _given_source=source)
        self.refuse_unrepresentable()

    def make_unit(self, core: type[Problem], given: Any, **attributes: Any) -> Any:
        """An instance of ``core`` over ``given`` (unit data, as its ``setup`` installs from
        ``_given``) with this problem's non-file settings; ``attributes`` are set on it
        before its ``setup`` runs."""
        from pathlib import Path

        unit = core.__new__(core)
        unit._given = given
        for name, value in attributes.items():
            setattr(unit, name, value)
        settings = getattr(self, "settings", {})
        options = {
            opt.name: settings[opt.name]
            for opt in core.options
            if opt.type is not Path and opt.name in settings
        }
        # The unit copy builds the engine's data, in the backend decided for this problem
        # (or, not decided yet, asked of it).
        backend = getattr(self, "_backend", None) or getattr(self, "backend_request", None)
        Problem.__init__(
            unit, backend=backend, chunk_size=getattr(self, "chunk_size", None), **options
        )
        return unit

    def refuse_unrepresentable(self) -> None:
        """An InputError when the objective at the best solution, in user units, is beyond
        the largest float (see the module docstring). Cheap unless the data are near that
        limit: the unit objective at the default start bounds the optimum; only when it
        overflows is the unit reference computed."""
        z0 = self.unit.default_x0()
        self._refuse_unrepresentable_start(z0)
        if math.isfinite(self.loss_to_user(self.unit.objective(z0))):
            return
        best = float(self.unit.reference().loss)
        if math.isfinite(self.loss_to_user(best)):
            return
        p = self.loss_power
        digits = math.log10(best) + p * self.frame.exponent * math.log10(2.0) if best > 0 else 0.0
        # Dividing the data by 10^m divides the objective by 10^(p·m).
        divisor = _divisor(digits, p)
        mantissa = 10.0 ** (digits - math.floor(digits))
        raise InputError(
            f"{self.name}: the {self.data_items} span "  # type: ignore[attr-defined]
            f"{self.frame.span_words(self._axis_names())}, and the least "
            f"{self.objective_words}, about {mantissa:.2g}e+{math.floor(digits)}, is beyond "
            f"the largest float ({fmt(FLOAT_MAX)}) even though the solver works in scaled "
            f"coordinates; divide the data by {divisor} and scale the answer back"
        )

    def _refuse_unrepresentable_start(self, z0: Sequence[float]) -> None:
        """An InputError when the start the problem computes from the data (``z0`` in the
        unit frame) has a parameter beyond the largest float in user units (the radius of
        a circle through points near ±1.7e308), naming the parameter."""
        start = self.from_unit(z0)
        beyond = [i for i, v in enumerate(start) if not math.isfinite(v)]
        if not beyond:
            return
        names = [c.name for c in self.component_specs()]  # type: ignore[attr-defined]
        which = ", ".join(names[i] if i < len(names) else f"coordinate {i + 1}" for i in beyond)
        k = self.parameter_frame()[beyond[0]][1]
        z = abs(float(z0[beyond[0]]))
        if math.isfinite(z) and z > 0.0:
            digits = math.log10(z) + k * math.log10(2.0)
            divisor = _divisor(digits, 1)
        else:  # beyond the floats even in the scaled frame: no digits to count
            divisor = "a large power of ten"
        raise InputError(
            f"{self.name}: the {self.data_items} span "  # type: ignore[attr-defined]
            f"{self.frame.span_words(self._axis_names())}, and the start computed from them "
            f"has {which} beyond the largest float ({fmt(FLOAT_MAX)}) even though the solver "
            f"works in scaled coordinates; divide the data by {divisor} and scale the answer "
            "back"
        )

    def _axis_names(self) -> tuple[str, ...]:
        names = getattr(self, "names", None)
        if names and len(names) == len(self.frame.lo):
            return tuple(names)
        return _default_names(len(self.frame.lo))

    # ------------------------------------------------------------------ mapping

    def parameter_frame(self) -> list[tuple[float, int]]:
        """(offset_i, k_i) per parameter: x_i = offset_i + 2^(k_i)·z_i. By default x is a
        point of the data's space (the frame's centre and scale)."""
        return [(c, self.frame.exponent) for c in self.frame.centre]

    def to_unit(self, x: Sequence[float] | Any) -> list[float]:
        """User parameters x (checked) in the unit frame."""
        point = self.check_point(x, "x")  # type: ignore[attr-defined]
        return [coordinate_to_unit(v, o, k) for v, (o, k) in zip(point, self.parameter_frame())]

    def from_unit(self, z: Sequence[float] | float) -> list[float]:
        """Unit-frame parameters z in user units."""
        values = [z] if isinstance(z, (int, float)) else list(z)
        frame = self.parameter_frame()
        return [coordinate_from_unit(float(v), o, k) for v, (o, k) in zip(values, frame)]

    def tensor_to_unit(self, x: Any) -> Tensor:
        """(x - offset)/2^k through the engine (a 0-D x is the one parameter)."""
        if not isinstance(x, Tensor):
            x = Tensor(x)
        frame = self.parameter_frame()
        out: Tensor
        if not x.shape:
            offset, k = frame[0]
            out = (x - offset) / math.ldexp(1.0, k)
            return out
        offsets = Tensor([o for o, _ in frame])
        scales = Tensor([math.ldexp(1.0, k) for _, k in frame])
        out = (x - offsets) / scales
        return out

    def loss_to_user(self, v: float) -> float:
        """A unit objective value in user units (times s^p)."""
        return times_pow2(float(v), self.loss_power * self.frame.exponent)

    def length_to_user(self, v: float) -> float:
        return times_pow2(float(v), self.frame.exponent)

    def quantity_to_user(self, quantity: Quantity, value: Any) -> Any:
        """``value``, a ``quantity`` (:data:`Quantity`) of the unit frame, in user units: a
        number, or a list of numbers, mapped one by one; None stays None."""
        if value is None:
            return None
        if quantity == "x":
            return self.from_unit(value)
        if quantity == "point":
            return self.frame.point_from_unit(value)
        one = {
            "length": self.length_to_user,
            "loss": self.loss_to_user,
            "gradient norm": self.gradient_norm_to_user,
        }[quantity]
        return _each(one, value)

    def quantity_to_unit(self, quantity: Quantity, value: Any) -> Any:
        """``value``, a ``length`` or a ``point`` of the user's data, in the unit frame."""
        if value is None or quantity == "point":
            return None if value is None else self.frame.point_to_unit(value)
        return _each(self.frame.length_to_unit, value)

    def entries_to_user(
        self, entries: Mapping[str, Any], quantities: Mapping[str, Quantity]
    ) -> dict[str, Any]:
        """A copy of ``entries`` (a unit certificate, a unit reference's details) with the
        entries ``quantities`` names in user units (those absent are skipped)."""
        out = dict(entries)
        for key, quantity in quantities.items():
            if key in out:
                out[key] = self.quantity_to_user(quantity, out[key])
        return out

    def data_point(self, k: int) -> list[float]:
        """The user's data point ``k`` (0-based), as floats."""
        from . import chunked

        columns: Any = self.columns  # type: ignore[attr-defined]
        if chunked.is_chunked(columns):
            return chunked.point(columns, k)
        return [float(c[k]) for c in columns]

    def gradient_to_user(self, g: Sequence[float]) -> list[float]:
        """A unit gradient in user units: component i times s^p / 2^(k_i)."""
        p, k = self.loss_power, self.frame.exponent
        return [times_pow2(float(v), p * k - ki) for v, (_, ki) in zip(g, self.parameter_frame())]

    def gradient_norm_to_user(self, v: float) -> float:
        """A gradient norm over lengths (s^p / s)."""
        return times_pow2(float(v), (self.loss_power - 1) * self.frame.exponent)

    def lr_to_user(self, lr: float, family: str) -> float:
        """A unit learning rate in user units: a length for adaptive steps, unchanged
        for unit-free ones (L-BFGS), else length / gradient (s² / s^p)."""
        k = self.frame.exponent
        if family == "free":
            return float(lr)
        return times_pow2(float(lr), k if family == "adaptive" else (2 - self.loss_power) * k)

    def lr_to_unit(self, lr: float, family: str) -> float:
        k = self.frame.exponent
        if family == "free":
            return float(lr)
        return times_pow2(float(lr), -k if family == "adaptive" else (self.loss_power - 2) * k)

    # ------------------------------------------------------- the Problem interface

    @property
    def backend(self) -> str:
        """The unit copy's backend: it holds the engine's data (:meth:`Problem.as_data`)."""
        unit = getattr(self, "unit", None)
        return str(unit.backend) if unit is not None else str(super().backend)  # type: ignore[misc]

    @property
    def extent(self) -> float:
        """The largest side of the data's bounding box (1 when the points coincide; capped
        at the largest float)."""
        return self.frame.width if self.frame.width > 0.0 else 1.0

    def default_x0(self) -> list[float]:
        """The unit copy's start, mapped back; with :attr:`start_on_user_data` the core
        class's, computed on the user's numbers, unless it overflows there."""
        if self.start_on_user_data:
            try:
                x: list[float] = super().default_x0()  # type: ignore[misc]
            except (OverflowError, ValueError):  # fsum: intermediate overflow, inf - inf
                x = []
            if x and all(math.isfinite(v) for v in x):
                return x
        return self.from_unit(self.unit.default_x0())

    def loss(self, x: Any) -> Tensor:
        """The objective through the engine at user parameters x: the unit loss at the
        mapped x, times s^p (p factors of s, each a float)."""
        out: Tensor = self.unit.loss(self.tensor_to_unit(x))
        s = self.frame.scale
        for _ in range(self.loss_power):
            out = out * s
        return out

    def objective(self, x: Sequence[float]) -> float:
        return self.loss_to_user(self.unit.objective(self.to_unit(x)))

    def gradient(self, x: Sequence[float]) -> list[float]:
        return self.gradient_to_user(self.unit.gradient(self.to_unit(x)))

    def uniqueness(self) -> Any:
        """The unit problem's verdict (uniqueness does not depend on the units)."""
        return self.unit.uniqueness()

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        return [self.from_unit(z) for z in self.unit.check_points(count, seed)]

    def compute_reference(self) -> Reference:
        """The unit problem's reference, mapped back; its loss is the objective at the
        mapped point (as a solution's is)."""
        ref = self.unit.reference()
        x = self.from_unit(ref.x)
        details = self.reference_details(dict(ref.details), x)
        return Reference(x=x, loss=self.objective(x), method=ref.method, details=details)

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """The unit copy's certificate at ``x``, in user units (:meth:`certificate_to_user`).
        A public class whose core certificate takes options (fermat's and the median's
        ``atol``) maps them to the unit frame and passes its answer through
        :meth:`certificate_to_user`."""
        return self.certificate_to_user(self.unit.certificate(self.to_unit(x)))

    def certificate_to_user(self, unit: dict[str, Any]) -> dict[str, Any]:
        """A certificate of the unit copy in user units: the entries :attr:`quantities`
        names mapped, the data point it names (``index``) the user's own (``point``), its
        line from :meth:`summarise_certificate`."""
        cert = self.entries_to_user(unit, self.quantities.certificate)
        if "index" in cert and "point" in cert:
            cert["point"] = self.data_point(cert["index"])
        cert["summary"] = self.summarise_certificate(cert)
        out: dict[str, Any] = self.finish_certificate(cert)  # type: ignore[attr-defined]
        return out

    def summarise_certificate(self, cert: dict[str, Any]) -> str:
        """The certificate's line, from its entries in user units; by default the unit
        copy's (whose numbers, gradient norms of sums of distances and verdicts, have no
        units)."""
        return str(cert["summary"])

    def reference_details(self, details: dict[str, Any], x: list[float]) -> dict[str, Any]:
        """The unit reference's details in user units: the entries :attr:`quantities`
        names mapped, the certificate recomputed at the mapped point."""
        details = self.entries_to_user(details, self.quantities.reference)
        if "certificate" in details:
            details["certificate"] = self.certificate(x)
        return details

    def assess(self, x: Sequence[float], reference: Reference | None = None) -> dict[str, Any]:
        """:meth:`Problem.assess`, except where the objective overflows in user units.

        A sum of squares at scales beyond about 1e154 can exceed the largest float a
        little way off its minimum, although the minimum itself does not (refused data
        aside, :meth:`refuse_unrepresentable`): a solution within rounding of an exact
        fit then has the objective inf, and its gap to the reference is no number. Where
        the minimiser is unique (or not known to be otherwise), the match is then judged
        as always by the distance, with the gap taken in the unit frame, where it is
        finite; the report still shows the user-unit objective, inf, as it is.
        """
        out: dict[str, Any] = super().assess(x, reference)  # type: ignore[misc]
        if not out["matches"] and out["certificate"].get("unique") is not False:
            self._match_at_resolution(out)
            self._match_beyond_floats(out)
        if math.isfinite(out["gap"]) or not math.isfinite(out["distance"]):
            return out
        if out["certificate"].get("unique") is False:
            return out
        ref = self.reference() if reference is None else reference  # type: ignore[attr-defined]
        unit_gap = self.unit.objective(self.to_unit(x)) - self.unit.objective(self.to_unit(ref.x))
        if not math.isfinite(unit_gap):
            return out
        matches, why = self.judge_match(  # type: ignore[attr-defined]
            out["distance"], unit_gap, ref, out["certificate"]
        )
        out["matches"] = matches
        out["match"] = (
            f"{why}; the objective exceeds the largest float in user units here, so the "
            f"gap was taken in the solver's scaled units ({unit_gap:.2g})"
        )
        return out

    def _match_beyond_floats(self, out: dict[str, Any]) -> None:
        """Judge the distance in the unit frame when the data's width exceeds the largest
        float (points at -1e308 and 1e308): :attr:`extent` is then capped there, which
        understates the width up to twice, and 1e-6 of it with it; in the unit frame the
        width and the distance are both finite, and their ratio is the one meant."""
        if out["matches"] or not self.frame.width >= FLOAT_MAX:
            return
        x, ref = out["solution"], out["reference"]["solution"]
        distance = self.unit.distance(self.to_unit(x), self.to_unit(ref))
        width, rtol = self.unit.extent, self.unit.match_rtol
        if not (math.isfinite(distance) and distance <= rtol * width):
            return
        out["matches"] = True
        out["match"] = (
            f"within {rtol:g} of the data's extent from the reference, both measured in the "
            f"solver's scaled units ({distance / width:.2g} of the extent): the extent "
            f"exceeds the largest float in user units"
        )

    def _match_at_resolution(self, out: dict[str, Any]) -> None:
        """Call a solution a match when it is no farther from the reference than the spacing
        of floats at their coordinates (one unit in the last place of each).

        A match is normally within 1e-6 of the extent, but floats cannot always resolve
        that: at 1e-320 coordinates are multiples of 5e-324, 5e-4 of such an extent, and a
        centre half-way between two of them (the midpoint of two data points) rounds one
        way for the solver and the other for the reference.
        """
        x, ref = out["solution"], out["reference"]["solution"]
        spacing = math.hypot(*(math.ulp(max(abs(float(a)), abs(float(b)))) for a, b in zip(x, ref)))
        distance = out["distance"]
        if not (math.isfinite(distance) and distance <= spacing):
            return
        out["matches"] = True
        out["match"] = (
            f"within the spacing of floats at these coordinates ({spacing:.2g}) of the "
            f"reference ({distance:.2g} away, {out['distance_rel']:.2g} of the extent "
            f"{out['extent']:.3g}): no float lies closer"
        )

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """The unit problem's settings, shown in user units (they are what its solve uses)."""
        return self.settings_to_user(self.unit.solver_defaults(optimizer, max_steps))

    def settings_to_user(self, settings: dict[str, Any]) -> dict[str, Any]:
        out = dict(settings)
        family = step_family(out.get("optimizer", "gd"))
        if isinstance(out.get("lr"), (int, float)):
            out["lr"] = self.lr_to_user(out["lr"], family)
        for key in ("gtol", "clip_norm"):
            if isinstance(out.get(key), (int, float)):
                out[key] = self.gradient_norm_to_user(out[key])
        return out

    def overrides_to_unit(self, overrides: dict[str, Any], family: str) -> dict[str, Any]:
        """A solve's overrides, given in user units, for the unit problem's solve."""
        out = dict(overrides)
        k = self.frame.exponent
        if isinstance(out.get("lr"), (int, float)) and not isinstance(out["lr"], bool):
            out["lr"] = self.lr_to_unit(out["lr"], family)
        for key in ("gtol", "clip_norm"):
            if isinstance(out.get(key), (int, float)) and not isinstance(out[key], bool):
                out[key] = times_pow2(float(out[key]), (1 - self.loss_power) * k)
        if out.get("callback") is not None:
            out["callback"] = self._callback_to_unit(out["callback"], family)
        return out

    def _callback_to_unit(self, user: Callable[[Any], Any], family: str) -> Callable[[Any], Any]:
        def callback(progress: Any) -> Any:
            lr = progress.lr
            return user(
                dataclasses.replace(
                    progress,
                    x=self.from_unit(progress.x),
                    loss=self.loss_to_user(progress.loss),
                    grad_norm=self.gradient_norm_to_user(progress.grad_norm),
                    lr=None if lr is None else self.lr_to_user(lr, family),
                )
            )

        return callback

    def _solve(self, optimizer: Any = None, **overrides: Any) -> Any:
        """The solve hook of :meth:`Problem.solve`: the unit problem's solve (its own, with
        its tuned settings), its result mapped back to user units: x, best_x and the
        recorded path; losses times s^p; gradient norms and learning rates as
        :meth:`settings_to_user` maps them. The callback is told each step in user units.

        ``overrides`` are in user units (``x0``, ``lr``, ``gtol``, ...; a Tensor ``x0``
        receives the answer, as with :func:`geograd.minimize`). An optimizer instance
        holds its own parameter in user units, so with one the core class's solve runs
        on :meth:`loss` in user coordinates instead.
        """
        from geograd.optim import Optimizer

        if isinstance(optimizer, Optimizer):
            return super()._solve(optimizer, **overrides)  # type: ignore[misc]
        overrides = dict(overrides)
        x0 = overrides.pop("x0", None)
        given = x0 if isinstance(x0, Tensor) else None
        start = self.x0 if x0 is None else self.check_point(x0, "x0")  # type: ignore[attr-defined]
        name = optimizer if optimizer is not None else self.unit.solver_defaults()["optimizer"]
        family = step_family(name)
        z0 = self.to_unit(start)
        if x0 is not None or self._x0_given is not None:  # type: ignore[attr-defined]
            self._refuse_far_start(start, z0)  # a start of the user's (here or built in)
        result = self.unit.solve(optimizer, x0=z0, **self.overrides_to_unit(overrides, family))
        out = self.result_to_user(result, family, start)
        if out.steps == 0 and overrides.get("canonical", True):
            # the start is reported as given (not mapped there and back), so the unit
            # problem's canonical form did not reach it: the same form in user units
            move = self.canonical_map(  # type: ignore[attr-defined]
                _as_point(out.x),
                compute=not self.solve_interrupted,  # type: ignore[attr-defined]
            )
            if move is not None:
                out = out.map_x(move)
        if given is not None:
            given.data = Tensor(out.x).data
        return out

    def _refuse_far_start(self, start: Sequence[float], z0: Sequence[float]) -> None:
        """An InputError when a start the user gave is so far from the data that the solver's
        scaled coordinates, or the objective there, overflow (x0 = 1e308 for data near 1)."""
        try:
            value = self.unit.objective(z0) if all(map(math.isfinite, z0)) else math.inf
        except (OverflowError, GeogradError):
            value = math.inf
        # in the scaled frame the data span about 1: an objective within 2^20 of the largest
        # float leaves no room for the solver's squares and sums
        if abs(value) <= math.ldexp(FLOAT_MAX, -20):
            return
        shown = ", ".join(f"{v:g}" for v in start)
        raise InputError(
            f"{self.name}: x0 = {shown} is so far from the {self.data_items} (they span "  # type: ignore[attr-defined]
            f"{self.frame.span_words(self._axis_names())}) that the solver's arithmetic there "
            "overflows float64; give a start nearer the data, or none (the problem's own)"
        )

    def result_to_user(self, result: Any, family: str, start: Sequence[float] | None = None) -> Any:
        """A :class:`~geograd.solve.Result` of the unit problem in user units; ``start`` is
        the run's x0 in user units, reported as given wherever the result names step 0
        (mapping it there and back could round it)."""
        history = {key: list(values) for key, values in result.history.items()}
        history["x"] = [self.from_unit(v) for v in history.get("x", [])]
        if start is not None and history["x"] and history.get("step", [None])[0] == 0:
            history["x"][0] = list(start)
        history["loss"] = [self.loss_to_user(v) for v in history.get("loss", [])]
        history["grad_norm"] = [self.gradient_norm_to_user(v) for v in history.get("grad_norm", [])]
        if "grad" in history:
            history["grad"] = [self.gradient_to_user(v) for v in history["grad"]]
        if "lr" in history:
            history["lr"] = [None if v is None else self.lr_to_user(v, family)
                             for v in history["lr"]]  # fmt: skip
        message = result.message
        if self.frame.exponent != 0:
            message += (
                f" (The solver ran on the data centred and divided by {fmt(self.frame.scale)}; "
                "the numbers in this message are in those units.)"
            )
        at_start = start is not None and result.steps == 0
        best_at_start = start is not None and result.best_step == 0
        return dataclasses.replace(
            result,
            x=list(start) if at_start else self.from_unit(result.x),  # type: ignore[arg-type]
            loss=self.loss_to_user(result.loss),
            grad_norm=self.gradient_norm_to_user(result.grad_norm),
            grad=None if result.grad is None else self.gradient_to_user(result.grad),
            best_x=list(start) if best_at_start else self.from_unit(result.best_x),  # type: ignore[arg-type]
            best_loss=self.loss_to_user(result.best_loss),
            start_loss=self.loss_to_user(result.start_loss),
            message=message,
            history=history,
        )


__all__ = [
    "FLOAT_MAX",
    "Frame",
    "Normalised",
    "Quantities",
    "Quantity",
    "coordinate_from_unit",
    "coordinate_to_unit",
    "nearest_power_of_two",
    "step_family",
    "times_pow2",
    "weight_exponent",
]
