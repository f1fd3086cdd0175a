"""One data lifecycle for problems over a set of points (issue 15).

A problem over points declares what its data are (a :class:`DataShape`) and implements
:meth:`PointProblem.generate` (the seeded draw) and ``set_data`` (what it builds from
them); :class:`PointProblem` does the rest once: data given in code
(:meth:`~PointProblem.given`), loaded from the file option or generated; ``source``,
``names``, ``n``, ``d`` and ``columns``; the shape checks and their messages; the
``data`` block of ``to_dict`` and ``from_dict`` (old saved JSON included). Points may
come with a partner set matched row by row (:attr:`DataShape.pair`, registration's
target): given with them, loaded from a second file option, or made from them
(:meth:`~PointProblem.generate_pair`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

from geograd.errors import InputError

from .base import Problem
from .data import (
    ROWS_HOW,
    PointSet,
    _default_names,
    checked_weights,
    first_non_finite,
    is_array,
    load_points,
    numbers_per_point,
    numeric_rows,
    refuse_unnamed_extras,
)

Q = TypeVar("Q", bound="PointProblem")


@dataclass(frozen=True)
class DataShape:
    """What a problem's points are (its declaration; every field has the common default).

    ``dim``: an int fixes the points' dimension, a str names the option that holds it,
    None takes any (``dims`` then lists the dimensions allowed, () all). ``count``: exactly
    that many points (``count_words`` says why, e.g. "a triangle has", and
    ``count_hint`` follows a file's message); else at least ``min_points``. ``extras``:
    the attributes beyond the points that given data carry (trilateration's ``ranges``
    and ``truth``), written to ``to_dict`` with the points and read back by ``from_dict``;
    ``per_point`` those of them that hold a number per point (``ranges``). ``pair``: the
    extra that holds a second point set matched row by row with the points (rows, as
    many, of the same dimension; registration's ``target``), loaded from the
    ``pair_file`` option or else made by :meth:`PointProblem.generate_pair`.
    """

    #: The Path option that loads the points, and the file in its messages.
    file: str = "points"
    what: str = "points file"
    #: Whether a weight column is taken (``weights`` in the data block when given).
    weights: bool = False
    dim: int | str | None = None
    dims: tuple[int, ...] = ()
    min_points: int = 1
    count: int | None = None
    count_words: str = ""
    count_hint: str = ""
    extras: tuple[str, ...] = ()
    #: The extras that hold a number per point, checked finite with the coordinates.
    per_point: tuple[str, ...] = ()
    #: The key of given points in the data block (``anchors`` for trilateration).
    rows_key: str = "points"
    #: The points' argument of ``from_points`` as messages about given data name it
    #: (``source[2][1]``); default :attr:`rows_key`.
    arg: str = ""
    #: Whether the data block holds the points whatever their source (a few cheap points).
    keep_points: bool = False
    #: Whether a ``.npy`` file is read straight into numpy on that backend
    #: (:meth:`Problem.load_points`); else the points are read as lists.
    arrays: bool = False
    #: The partner point set (see the class): its extra (and attribute), its file option
    #: (which needs :attr:`file`) and that file in messages.
    pair: str = ""
    pair_file: str = ""
    pair_what: str = ""
    #: The attribute that says where the points came from (``source``, unless a problem's
    #: ``source`` is something else: registration's is its source point set).
    source_attr: str = "source"

    @property
    def rows_arg(self) -> str:
        """The points' argument in messages about given data (:attr:`arg`)."""
        return self.arg or self.rows_key

    def unmatched(self, m: int, n: int) -> str:
        """The words for ``m`` partner rows against ``n`` points."""
        points = "points" if self.file == "points" else f"{self.file} points"
        return (
            f"{m} {self.pair} points for {n} {points}; row i of the {self.pair} must match "
            f"row i of the {self.file}"
        )


@dataclass
class Data:
    """A problem's points as they reach ``set_data``: ``columns[j][i]`` coordinate j of
    point i (lists, or a (d, n) array), the weights (None: equal), the axis names (None:
    x, y, z or x1..xd) and the ``extras`` of :class:`DataShape`."""

    columns: Any
    weights: Any = None
    names: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class PointProblem(Problem):
    """A problem over a set of points, with one lifecycle (see the module docstring)."""

    data_shape: ClassVar[DataShape] = DataShape()
    _given: Data | None = None
    #: What ``source`` says of given data (a public class's unit copy names the user's).
    _given_source: str = "given"
    #: Where the points came from: "given", the file's path, or "generated" (unless
    #: :attr:`DataShape.source_attr` names another attribute; see :attr:`data_origin`).
    source: str = ""
    names: tuple[str, ...] = ()
    d: int = 0
    columns: Any = None

    # ------------------------------------------------------------ to implement

    def generate(self, rng: random.Random) -> Data:
        """The generated points, drawn from ``rng`` (``random.Random(seed)``)."""
        raise NotImplementedError

    def set_data(self, data: Data) -> None:
        """Install ``data`` (:meth:`install`) and build what the problem computes with."""
        self.install(data)

    def generate_pair(self, data: Data, rng: random.Random) -> list[list[float]]:
        """The partner rows (:attr:`DataShape.pair`) made from the points ``data`` when no
        file gives them, drawing on ``rng`` (after :meth:`generate`'s draws when the
        points were generated, else from the seed)."""
        raise NotImplementedError

    def data_facts(self) -> dict[str, Any]:
        """Further entries of the ``to_dict`` data block (none by default)."""
        return {}

    @property
    def dim(self) -> int:
        """The number of parameters: by default x is a point of the data's space."""
        return self.d

    @property
    def scale(self) -> float:
        """The largest coordinate extent of the points (1 when they coincide)."""
        return self.extent

    # ---------------------------------------------------------------- lifecycle

    def setup(self) -> None:
        self.set_data(self.acquire())

    @property
    def data_origin(self) -> str:
        """Where the points came from: "given", the file's path (``A -> B`` with a pair
        file), or "generated"; kept in :attr:`source` (:attr:`DataShape.source_attr`)."""
        return str(getattr(self, self.data_shape.source_attr, ""))

    @data_origin.setter
    def data_origin(self, value: str) -> None:
        setattr(self, self.data_shape.source_attr, value)

    def acquire(self) -> Data:
        """The data given in code, else loaded from the file option, else generated, with
        their partner rows (:attr:`DataShape.pair`) loaded or made; sets :attr:`source`."""
        shape = self.data_shape
        path = self.settings.get(shape.file)
        if self._given is not None:
            self.data_origin = self._given_source
            return self._given
        pair = self.settings.get(shape.pair_file) if shape.pair_file else None
        if pair is not None and path is None:
            flags = self.option(shape.pair_file).flag, self.option(shape.file).flag
            raise InputError(f"{self.name}: {flags[0]} needs {flags[1]} (row i matches row i)")
        rng = random.Random(self.settings.get("seed"))
        if path is not None:
            self.data_origin = str(path)
            data = self.read(self.load(path))
        else:
            self.data_origin = "generated"
            data = self.generate(rng)
        if shape.pair:
            rows = self.generate_pair(data, rng) if pair is None else self.load_pair(pair, data)
            data.extra[shape.pair] = rows
        return data

    def load_pair(self, path: Path, data: Data) -> list[list[float]]:
        """The partner rows from their file, as many as the points ``data``."""
        shape = self.data_shape
        ps = self.load(path, shape.pair_what, dim=len(data.columns))
        n = len(data.columns[0]) if len(data.columns) else 0
        if ps.n != n:
            raise InputError(f"{path}: {shape.unmatched(ps.n, n)}")
        self.data_origin += f" -> {path}"
        return [list(p) for p in ps.points]

    def load(self, path: Path, what: str = "", dim: int | None = None) -> PointSet:
        """The file's points, checked against :attr:`data_shape` (weights, dimension, count);
        ``what``: the file in messages (default :attr:`DataShape.what`), ``dim`` the
        dimension its points must have (default: the declared one)."""
        shape = self.data_shape
        d = self._declared_dim(self.settings) if dim is None else dim
        fixed = d if isinstance(shape.dim, int) or dim is not None else None
        kwargs: dict[str, Any] = {"weights": shape.weights, "dim": fixed}
        kwargs["what"] = what or shape.what
        kwargs["min_points"] = shape.min_points
        ps = self.load_points(path, **kwargs) if shape.arrays else load_points(path, **kwargs)
        if not shape.extras:  # every column is a coordinate or the weight
            refuse_unnamed_extras(ps.names, str(path))
        if d is not None and ps.dim != d:
            opt = self.option(str(shape.dim)) if isinstance(shape.dim, str) else None
            hint = ""
            if opt is not None:
                try:
                    opt.parse(ps.dim)
                except InputError:  # a dimension the problem does not take
                    hint = f" ({opt.flag} must be {opt.expected()})"
                else:
                    if d == opt.default:
                        hint = f" (give {opt.flag} {ps.dim} for these points)"
            raise InputError(
                f"{path}: points have {ps.dim} coordinate{'s' if ps.dim != 1 else ''}; "
                f"this problem needs {d}{hint}"
            )
        if shape.count is not None and ps.n != shape.count:
            words = f"{shape.count_words} exactly {shape.count}{shape.count_hint}"
            raise InputError(f"{path}: {ps.n} points; {words}")
        return ps

    def read(self, ps: PointSet) -> Data:
        """The loaded points as :class:`Data` (the weights and the header's names)."""
        return Data(ps.data if ps.is_array else ps.columns(), ps.weights, ps.names)

    def install(self, data: Data) -> None:
        """Check ``data`` against :attr:`data_shape` and install what every problem over
        points keeps: ``columns`` (lists of floats unless an array), ``n``, ``d``, ``names``."""
        columns = data.columns
        if not is_array(columns):
            columns = [[float(v) for v in c] for c in columns]
        self.d = len(columns)
        self.n = len(columns[0]) if self.d else 0
        self.check_shape(columns, data.extra)
        self.columns = columns
        self.names = tuple(data.names) if data.names is not None else _default_names(self.d)
        self._reference = None

    def check_shape(self, columns: Any, extra: dict[str, Any]) -> None:
        """An input error naming the first way ``columns`` break :attr:`data_shape`."""
        shape, items, n, d = self.data_shape, self.data_items, self.n, self.d
        origin = self.data_origin
        where = self.name if origin == "generated" else f"{self.name} ({origin})"
        want = self._declared_dim(self.settings)
        if shape.count is not None and n != shape.count:
            raise InputError(f"{where}: {shape.count_words} {shape.count} {items}, got {n}")
        if n < max(1, shape.min_points):
            raise InputError(f"{where}: {self._too_few(n)}")
        if (want is not None and d != want) or (shape.dims and d not in shape.dims):
            raise self._dimension_error(where, want)
        if any(len(c) != n for c in columns):
            raise InputError(f"{where}: coordinate columns of different lengths")
        pair = extra.get(shape.pair) if shape.pair else None
        pair = pair if pair is not None else []
        if shape.pair and len(pair) != n:
            raise InputError(f"{where}: {shape.unmatched(len(pair), n)}")
        for i, q in enumerate(pair):
            if len(q) != d:
                s = "s" if len(q) != 1 else ""
                raise InputError(
                    f"{where}: {shape.pair}[{i}] has {len(q)} coordinate{s}; "
                    f"each {shape.pair} point needs {d} coordinates"
                )
        if is_array(columns):
            return
        numbers = [v for c in columns for v in c] + [float(v) for q in pair for v in q]
        numbers += [float(v) for k in shape.per_point for v in extra.get(k) or ()]
        if not all(math.isfinite(v) for v in numbers):
            also = "".join(f" and {k}" for k in shape.per_point)
            if origin == "generated":  # the user's settings made them overflow
                chosen = [
                    f"{opt.flag} {self.settings[opt.name]:g}"
                    for opt in self.options
                    if opt.generator and opt.type is float and opt.name in self.given_options
                ]
                raise InputError(
                    f"{where}: the generated {items}{also} overflow float64"
                    + (f" with {', '.join(chosen)}" if chosen else "")
                    + "; give smaller generator settings"
                )
            raise InputError(f"{where}: the {items}{also} must be finite numbers")

    @classmethod
    def _too_few(cls, n: int) -> str:
        """The words for ``n`` points, fewer than the problem needs: "no points; give at
        least 3 points" (the real minimum, :attr:`DataShape.min_points`)."""
        items = cls.data_items
        one = items[:-1] if items.endswith("s") else items
        least = max(1, cls.data_shape.min_points)
        need = f"at least one {one}" if least == 1 else f"at least {least} {items}"
        have = "no " + items if n == 0 else f"only {n} {one if n == 1 else items}"
        return f"{have}; give {need}"

    @classmethod
    def _declared_dim(cls, settings: dict[str, Any]) -> int | None:
        """The points' dimension :attr:`data_shape` demands (None: any)."""
        dim = cls.data_shape.dim
        return settings.get(dim, cls.option(dim).default) if isinstance(dim, str) else dim

    @classmethod
    def _dimension_error(cls, where: str, want: int | None, detail: str = "") -> InputError:
        """The error for points of the wrong (or of different) dimensions; ``detail`` says
        which row, before the rule ("points[1] has 3 coordinates: ")."""
        if want is not None:
            return InputError(f"{where}: {detail}each point needs {want} coordinates")
        if cls.data_shape.dims:
            dims = " or ".join(f"all have {d}" for d in cls.data_shape.dims)
            return InputError(f"{where}: {detail}{cls.data_items} must {dims} coordinates")
        return InputError(
            f"{where}: {detail}{cls.data_items} of different dimensions; they must have the "
            "same, nonzero dimension"
        )

    # ------------------------------------------------------------- given in code

    @classmethod
    def checked_rows(cls, points: Any, arg: str = "") -> list[list[float]]:
        """Rows given in code as rows of finite floats, or one InputError naming the row or
        the entry (``points[2][1]``) and what to give (``arg``: the argument in messages,
        default :attr:`DataShape.rows_arg`). Their lengths are the caller's to check."""
        arg = arg or cls.data_shape.rows_arg
        rows = numeric_rows(points, cls.name, arg)
        bad = first_non_finite(rows)
        if bad is not None:
            i, j = bad
            raise InputError(
                f"{cls.name}: {arg}[{i}][{j}] is {rows[i][j]}; the {cls.data_items} must be "
                "finite numbers"
            )
        return rows

    @classmethod
    def _given_array(cls, points: Any) -> Any:
        """An (n, d) array of numbers given in code as its (d, n) transpose, checked finite
        (a numpy array; a dask array's values are on the cluster, left to the problem)."""
        columns = points.T
        if type(points).__module__.split(".", 1)[0] != "numpy":
            return columns
        import numpy as np

        with np.errstate(all="ignore"):
            finite = bool(np.isfinite(points.sum()))
        if not finite:
            bad = ~np.isfinite(points)
            if bad.any():
                i, j = (int(k) for k in np.argwhere(bad)[0])
                raise InputError(
                    f"{cls.name}: {cls.data_shape.rows_arg}[{i}][{j}] is {float(points[i, j])}; "
                    f"the {cls.data_items} must be finite numbers"
                )
        return columns

    @classmethod
    def given(
        cls: type[Q],
        points: Sequence[Sequence[float]] | Any,
        x0: Sequence[float] | None = None,
        *,
        weights: Sequence[float] | Any | None = None,
        extra: dict[str, Any] | None = None,
        **options: Any,
    ) -> Q:
        """An instance over ``points`` given in code (rows; an (n, d) array is kept as its
        (d, n) transpose), the body of a public ``from_points``; ``x0`` and ``options`` as
        for the constructor.

        The data are checked here, once for every problem, each with one InputError that
        names the argument and the place (``points[2][1]``, ``weights[0]``,
        ``target[3]``) and what to give: rows of numbers (not None, a number, a flat list,
        strings, bools or complex numbers), finite, of one length (the declared
        dimension); ``weights`` one finite number >= 0 per point, not all 0; the
        per-point extras (:attr:`DataShape.per_point`) one finite number per point; the
        partner rows (:attr:`DataShape.pair`) rows of finite numbers. Their counts, and
        everything particular to a problem, are checked when the data are installed."""
        shape, name = cls.data_shape, cls.name
        arg = shape.rows_arg
        array = is_array(points) and getattr(points, "ndim", 0) == 2
        numpy = type(points).__module__.split(".", 1)[0] == "numpy"
        if array and numpy and cast(Any, points).dtype.kind not in "iuf":
            points, array = cast(Any, points).tolist(), False  # each entry named below
        if shape.arrays and array:
            columns: Any = cls._given_array(points)
            n = int(cast(Any, points).shape[0])
        else:
            rows = cls.checked_rows(points)
            dim = shape.dim
            chosen = {k: v for k, v in options.items() if k == dim}
            want = cls._declared_dim(cls.parse_options(chosen))
            d = want if want is not None else (len(rows[0]) if rows else 0)
            for i, p in enumerate(rows):
                if len(p) != d:
                    s = "s" if len(p) != 1 else ""
                    also = "" if want is not None else f", {arg}[0] has {d}"
                    detail = f"{arg}[{i}] has {len(p)} coordinate{s}{also}: "
                    raise cls._dimension_error(name, want, detail)
            if rows and d == 0:
                raise InputError(
                    f"{name}: {arg}[0] is empty; give the {arg} as rows of numbers, {ROWS_HOW}"
                )
            if rows and shape.dims and d not in shape.dims:
                detail = f"{arg}[0] has {d} coordinate{'s' if d != 1 else ''}: "
                raise cls._dimension_error(name, want, detail)
            columns = [[p[j] for p in rows] for j in range(d if rows else 0)]
            n = len(rows)
        extra = dict(extra or {})
        if weights is not None:
            weights = checked_weights(weights, name, n, cls.data_items)
        for key in shape.per_point:
            if key in extra:
                extra[key] = numbers_per_point(extra[key], name, key, n, cls.data_items)
        if shape.pair and shape.pair in extra:
            extra[shape.pair] = cls.checked_rows(extra[shape.pair], shape.pair)
        return cls._from_given(Data(columns, weights, None, extra), x0=x0, **options)

    # -------------------------------------------------------------- describing

    def given_rows(self) -> list[list[float]]:
        """The points as rows of floats (for the data block)."""
        if is_array(self.columns):
            out: list[list[float]] = self.columns.T.tolist()
            return out
        return [list(p) for p in zip(*self.columns)]

    def to_dict(self) -> dict[str, Any]:
        """Name, options, n, dim, x0 and ``data``: where the points came from, their number,
        dimension and axis names, the problem's facts (:meth:`data_facts`), and the points
        themselves (with weights and extras) when given in code, so that :meth:`from_dict`
        rebuilds them."""
        out = super().to_dict()
        shape = self.data_shape
        block: dict[str, Any] = {"source": self.data_origin, "n": self.n, "dim": self.d}
        block["columns"] = list(self.names)
        block.update(self.data_facts())
        if self.data_origin == "given" or shape.keep_points:
            block[shape.rows_key] = self.given_rows()
            if shape.weights:
                w: Any = getattr(self, "weights", None)
                block["weights"] = w.tolist() if is_array(w) else w
            for key in shape.extras:
                block[key] = getattr(self, key)
            if shape.pair:
                block[shape.pair] = [list(q) for q in getattr(self, shape.pair)]
        out["data"] = block
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Rebuild an instance from :meth:`to_dict` output: given points from the data
        block (with the options that apply to them), else from the options."""
        info = data.get("data") or {}
        shape = cls.data_shape
        if info.get("source") != "given":
            return cls(x0=data.get("x0"), **cls.options_from_dict(data))
        options = {
            opt.name: data.get("options", {}).get(opt.name)
            for opt in cls.options
            if opt.type is not Path and not opt.generator
        }
        extra = {key: info.get(key) for key in (*shape.extras, shape.pair) if key}
        return cls.given(
            info[shape.rows_key], x0=data.get("x0"), weights=info.get("weights"), extra=extra,
            **options,
        )  # fmt: skip
