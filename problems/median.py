"""The geometric median (Fermat–Weber point): the point nearest, on average, to all the data.

Objective, for points a_1..a_n in R^d with weights w_i >= 0 (default 1), W = Σ w_i:

    L(p) = Σ_i w_i ||a_i - p|| / W

Gradient, away from the data points:

    ∇L(p) = Σ_i w_i (p - a_i) / ||p - a_i|| / W

At a data point the term of that point is not differentiable; we take its
minimal-norm subgradient, 0 (geograd's ``norm`` does the same), so the
closed form and autograd agree everywhere.

Optimality certificate. L is convex, so p is optimal iff 0 ∈ ∂L(p). Away from
the data, ∂L(p) = {∇L(p)} and the certificate is the gradient norm. At a data
point a_k (carrying total weight w_k, duplicates included) ∂L(a_k) is the ball
of radius w_k/W around -R_k/W, with R_k = Σ_{a_i ≠ a_k} w_i (a_i - a_k)/||a_i - a_k||,
so a_k is optimal iff ||R_k|| <= w_k — an exact test, and the distance from 0 to
∂L(a_k), max(0, ||R_k|| - w_k)/W, is the certificate's value. Either way
``gap_bound`` = value · max_i ||p - a_i|| bounds L(p) - min L (the minimiser lies
in the convex hull of the data). The certificate at data point k names it by
``index`` k and ``label`` "data point k+1 (index k)".

Uniqueness. L is strictly convex unless the points of positive weight are
collinear; on a line it is the weighted 1-D absolute deviation, whose minimisers
form a whole segment [s_j, s_j+1] exactly when the weight up to s_j is half the
total (two points; four collinear points of equal weight). The certificate's
``unique`` says which (:meth:`GeometricMedian.uniqueness`), and a solution elsewhere
on that segment matches the reference by its objective.

Data
    Generated from ``random.Random(seed)`` (seed 5 by default), coordinate by
    coordinate — all n x-coordinates first, then all y, ... — so that for d = 2
    the uniform points are exactly ``xs = [r.uniform(a=0, b=1) for _ in range(n)]``
    then ``ys`` likewise, the seed documents' numbers. Distributions:

    - ``uniform``: uniform in the unit cube [0, 1]^d.
    - ``gaussian``: each coordinate normal with mean 0.5 and standard deviation 0.15.
    - ``clustered``: 5 cluster centres uniform in [0.2, 0.8]^d (drawn first),
      then each point a centre chosen uniformly (``r.randrange(5)``) plus normal
      noise of standard deviation 0.05 per coordinate.
    - ``outliers``: n - n//5 inliers, each coordinate normal(0.5, 0.1), then n//5
      outliers uniform in [3, 5]^d. The robust-statistics case: the median stays
      among the inliers while the mean is dragged towards the outliers.

    ``weights="random"`` draws weights uniform in [0.1, 1) after the coordinates
    (the coordinates do not change). Or ``points=FILE`` loads the data (see
    :mod:`geograd.problems.data`): the file's ``w``/``weight`` column gives the
    weights (without one, all weigh 1); n, dim, distribution, weights and seed describe
    generated points, so giving one of them with a file is an input error.

    On the numpy backend the same points are drawn in bulk
    (:func:`generate_arrays`: ``random.Random(seed)``'s own Mersenne Twister stream,
    bit for bit, see :class:`~geograd.problems.data.NumpyRandom`), a ``.npy`` file is
    read straight into an array, and the data are one read-only float64 array of shape
    (d, n) (``columns``; ``points`` is its (n, d) view), which the engine holds without
    a copy. The closed forms (objective, gradient, certificate, vertex test, uniqueness)
    are then numpy passes over blocks of :data:`BLOCK_NUMBERS` numbers (:func:`scan_arrays`,
    :func:`median_uniqueness_arrays`), and the engine's loss sums blocks of
    :data:`ENGINE_BLOCK` points: the same results, to rounding (numpy sums in another
    order than ``math.fsum``). ``geograd solve median --n 10000000 --backend numpy``:
    7.7 s and 530 MB (of which the solve 5.7 s); --n 1000000: 0.8 s and 105 MB.

Reference
    Weiszfeld's algorithm from the weighted centroid, with the Vardi–Zhang
    modification (an iterate on a data point a_k moves by
    max(0, 1 - w_k/||R_k||) T + min(1, w_k/||R_k||) y, and stops there when
    ||R_k|| <= w_k), until the distance still to go, estimated from the linear
    rate of the steps of one map (the same points at the iterate), is below half of
    1e-12 of the data's extent; at every iteration the data point nearest to the
    iterate is tested with the exact certificate, so a median that sits on a data point
    (where Weiszfeld can crawl) is found exactly (a point that failed the test is not
    tested again: the test does not depend on the iterate). A tight cluster of data
    points about the iterate (near-duplicates) is stepped out of as one point when the
    others pull harder than its weight, and its points are tested otherwise: among
    points 7e-13 to 1e-11 apart the steps, ~their spacing, read a rate that stopped it
    up to 0.17 (1.7e11 times its tolerance) from the median. In numpy: on whole arrays
    for the python backend's lists, a block of points at a time on the numpy backend.

Scale
    :class:`GeometricMedian` keeps the user's points and runs everything (solver,
    reference, certificate, uniqueness) on a unit copy: the points centred and
    divided by s, the power of two nearest their extent, the weights divided by the
    power of two nearest the largest weight (see :mod:`geograd.problems.scaling`).
    Dividing by a power of two is exact, and the loss is a mean distance, so the
    answer maps back as x = c + s z and L = s L_unit, the gradient unchanged.
    Weiszfeld's squared distances overflowed at 1e155 and underflowed at 1e-300 in
    user units (it then returned a data point whose mean distance was 10-47 % above
    the median's); in the unit copy they are of order 1 at any scale, and points at
    1e-320 or near 1e308, or weights near 1e308, have the median of the same data at
    1, scaled. Only a mean distance beyond the largest float (points spanning ~1e308
    in many dimensions) is refused, as an input error that says so.

Solver defaults (``solver_defaults()``)
    ``gd`` — steepest descent with an Armijo backtracking line search — with its
    first trial step ``lr`` = :attr:`GeometricMedian.length` (L at the centroid,
    the mean distance of the data from its centre), ``c1 = 0.5``,
    ``max_steps = 1000``, ``gtol = 1e-9`` and ``ftol = 4e-16·min(1, length)``. Why:

    - No learning rate to tune. The median's curvature is about 1/length, so a
      fixed learning rate right for one data set is wrong for the same data in
      other units, or with outliers (whose tight inlier cloud has ten times the
      curvature that the extent suggests); a loaded file can have any scale.
      Starting the line search at one ``length`` makes the run unit-free: data
      scaled by 1e-6 or 1e6 takes the same steps.
    - ``c1 = 0.5`` instead of the textbook 1e-4: on a quadratic it accepts no step
      longer than the exact line minimum, which stops the step-doubling from
      settling near 2/curvature and zigzagging (with 1e-4 the outlier data took
      409 steps instead of 7). It costs nothing elsewhere.
    - The gradient of a mean distance is an average of unit vectors, so ``gtol``
      is unit-free; 1e-9 is below what float64 can resolve (the loss stops
      changing first), so runs normally end on ``ftol``: the loss changed by a few
      units in its last place, where the line search can see no further decrease.
      That leaves x about 4e-9 of the data's extent from the reference.

    Measured (this machine, seed 5, uniform): N = 1000 converges in 14 steps and
    23 evaluations, 7 ms, 3.8e-9 from the Weiszfeld reference and equal to it in
    objective; N = 10,000: 12 steps, 47 ms; N = 100,000: 10 steps, 0.45 s. Also
    within 1e-8 of the extent on gaussian, clustered, outlier, weighted, 3-D and
    10-D data, and to ~1e-15 when the median is a data point (a dominant weight,
    a triangle with an angle over 120°, collinear points). A triangle with an
    angle of exactly 120° is the one slow case: its minimum is a data point with
    zero curvature along one side, and gradient descent crawls there.

    The other optimizers (``solver_defaults("adam")``, ...) get a learning rate
    in units of ``length`` from ``LR_IN_LENGTHS`` and an exponential schedule that
    lowers it by 1e-6 over ``max_steps = 2000``, so that fixed-step methods settle
    instead of circling the minimum; each reaches the seed-5 median within 1e-7.
"""

from __future__ import annotations

import functools
import importlib
import math
import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geograd.functional as F
from geograd import Tensor
from geograd import backend as B
from geograd.errors import InputError
from geograd.solve import EPS  # float64's relative rounding

from . import chunked as C
from .base import Option, Reference, bounding_box, check_points_near
from .data import (
    NumpyRandom,
    _default_names,
    checked_weights,
    column_range,
    extent,
    is_array,
    numpy_mirrors_random,
)
from .lifecycle import Data, DataShape, PointProblem
from .scaling import Normalised, Quantities, times_pow2, weight_exponent

#: Rounding slack of the exact data-point test ||R_k|| <= w_k (relative to w_k).
VERTEX_RTOL = 1e-12
#: A tight cluster for the reference (:func:`weiszfeld`): data points within ρ of the
#: iterate, all the others at least this times ρ away.
CLUSTER_GAP = 1e4

#: The optimizer of a no-flag solve, and the learning rate of the others in units of
#: ``GeometricMedian.length`` (tuned on uniform, gaussian, clustered, outlier, weighted,
#: 3-D, 10-D, tiny and rescaled data; see the module docstring).
DEFAULT_OPTIMIZER = "gd"
LR_IN_LENGTHS = {
    "sgd": 0.5,
    "momentum": 0.1,
    "adam": 0.01,
    "adamw": 0.01,
    "rmsprop": 0.01,
    "adagrad": 0.3,
    "nag": 0.1,
    "adamax": 0.03,
}
#: Newton methods: lr only seeds their first trial step (trust radius); no schedule.
NEWTON = ("newton", "trust-ncg")

DISTRIBUTIONS = ("uniform", "gaussian", "clustered", "outliers")
N_CLUSTERS = 5

#: Numbers (points x coordinates) per block of the numpy backend's own passes over the
#: data (objective, gradient, certificate, the reference): 256 KiB of coordinates, so
#: that each block's temporaries stay in the processor's cache instead of making
#: full-size arrays. Measured on 10^7 2-D points: a Weiszfeld step takes 45-70 ms by
#: blocks of 2^14 points, 100 ms by 2^15 or 2^16, 140 ms on whole arrays.
BLOCK_NUMBERS = 1 << 15
#: Points per block of the engine's loss on the numpy backend (:meth:`loss`): 8 MiB per
#: array, below the size (32 MiB) above which malloc maps every array afresh. Measured
#: on 10^7 points: a default solve in 7.1-7.8 s summed by blocks, 11.1 s on whole arrays.
ENGINE_BLOCK = 1 << 20


#: The dask backend persists data read from files on the cluster when they take at most
#: this share of its workers' memory (a worker spills to disk from 60 % and pauses at 80 %;
#: the passes need room for their chunks' temporaries too).
PERSIST_SHARE = 0.5


def _persist_words(persist: bool, room: int | None) -> str:
    """Where the dask backend keeps data read from a file, and why (see PERSIST_SHARE)."""
    if room is None:
        return "held in this process's memory (no cluster)"
    if persist:
        return "held in the workers' memory"
    return (
        f"larger than {PERSIST_SHARE:g} of the cluster's memory ({room / 2**30:.3g} GiB): "
        "read from the file at every pass"
    )


class GeometricMedianCore(PointProblem):
    """The median's mathematics over its data as they are given (see the module docstring).

    :class:`GeometricMedian`, the public class, keeps the user's data and runs all of
    this on a copy centred and scaled to unit size (its ``unit``, an instance of this
    class; see :mod:`geograd.problems.scaling`), so the numbers here never meet
    overflow or subnormal underflow, whatever the user's units.
    """

    name = "median"
    description = "geometric median (Fermat-Weber point): minimise the mean distance to points"
    # Measured peak RSS ~400 B per coordinate (n points x dim), with a margin.
    bytes_per_item = 450
    # On numpy (whole solve, peak RSS less the interpreter's 42 MB): 24-28 B per coordinate
    # for 2-D points (10^7: 531 MB), 38 with outliers (a scaled unit copy), 47 weighted,
    # 13 for 10-D; 65 for 1-D and 86 for weighted 1-D (collinear: the uniqueness test
    # sorts the positions). With a margin over the worst:
    bytes_per_item_numpy = 120
    size_options = ("n", "dim")
    size_unit = "coordinates"
    chunked = True
    options = (
        Option("n", int, 1000, "number of generated points", min=1, metavar="N", generator=True),
        Option("dim", int, 2, "dimension of generated points", min=1, metavar="D", generator=True),
        Option(
            "seed", int, 5, "random seed of the generated points", metavar="SEED", generator=True
        ),
        Option(
            "distribution",
            str,
            "uniform",
            "generated points: uniform in [0,1]^d, gaussian, clustered or outliers",
            choices=DISTRIBUTIONS,
            generator=True,
        ),
        Option(
            "weights",
            str,
            "equal",
            "weights of generated points: equal (all 1) or random in [0.1, 1)",
            choices=("equal", "random"),
            generator=True,
        ),
        Option(
            "points",
            Path,
            None,
            "load points from a CSV/TSV/text or .npy file (a w column gives weights)",
            metavar="FILE",
        ),
    )

    data_shape = DataShape(weights=True, arrays=True)

    reference_modules = ("numpy",)

    # ------------------------------------------------------------------ data

    def acquire(self) -> Data:
        """As for every problem over points (given, loaded, generated), with the backend
        decided first: by the given points' number, or dask for a file read lazily."""
        s = self.settings
        if self._given is None and s["points"] is not None and self.backend_request == "dask":
            self.decide_backend(None)
            self.source = str(s["points"])
            return Data(*self._open_chunked(s["points"]))
        data = super().acquire()
        if self._given is not None:
            n = len(data.columns[0]) if len(data.columns) else 0
            s.update(n=n, dim=len(data.columns))
            self.decide_backend(n)
        return data

    def generate(self, rng: random.Random) -> Data:
        """n points (and random weights) from ``rng``, or on the numpy and dask backends
        the same numbers drawn in bulk from the seed (:func:`generate_arrays`)."""
        s = self.settings
        n, d = s["n"], s["dim"]
        if self.decide_backend(n) in ("numpy", "dask"):
            columns, weights = generate_arrays(
                s["seed"], n, d, s["distribution"], s["weights"] == "random"
            )
            if self.backend == "dask":  # drawn here, then held by the cluster
                columns, weights = self._to_cluster(columns, weights)
            return Data(columns, weights)
        columns = generate(rng, n, d, s["distribution"])
        if s["weights"] == "random":
            return Data(columns, [rng.uniform(0.1, 1.0) for _ in range(n)])
        return Data(columns)

    # ------------------------------------------------------------- the dask backend

    #: Where chunked data came from and how they are chunked (:meth:`LazyPoints.describe`
    #: or :func:`geograd.cluster.describe_chunks`), for reports and ``--json``; None off dask.
    chunking: dict[str, Any] | None = None

    def _open_chunked(self, path: Any) -> tuple[Any, Any, tuple[str, ...]]:
        """The file ``path`` opened lazily by :func:`~.sources.open_points` and checked in
        one pass: the columns as one (d, n) dask array of whole-point chunks, the
        weights, the names.

        On the way the data are persisted on the cluster's workers when they take at
        most :data:`PERSIST_SHARE` of its memory (every later pass then starts from the
        workers' memory); larger data are left in the file, and each pass reads its
        chunks again (from the page cache, when the machine has room for it), so that
        a cluster smaller than its data still solves, at the cost of a read a pass.
        Without a distributed client (dask's threads in this process) they are persisted
        in this process's memory."""
        from geograd.cluster import active_memory_limit

        from .sources import check_chunk_count, open_points

        lazy = open_points(path, self.chunk_size)
        check_chunk_count(len(lazy.chunks), lazy.n, lazy.chunk_size, str(path))
        nbytes = lazy.describe()["bytes"]
        room = active_memory_limit()
        persist = room is None or nbytes <= PERSIST_SHARE * room
        lazy = lazy.validate(persist=persist)
        self.chunking = {
            **lazy.describe(),
            "persisted": persist,
            "persisted_why": _persist_words(persist, room),
        }
        da: Any = importlib.import_module("dask.array")  # (dask's hints are partial)
        return da.stack(lazy.columns), lazy.weights, lazy.names

    def _to_cluster(self, columns: Any, weights: Any) -> tuple[Any, Any]:
        """Arrays made on the client, chunked by :attr:`chunk_size` points and persisted (on
        the cluster's workers when a client is active)."""
        da: Any = importlib.import_module("dask.array")

        from geograd.cluster import describe_chunks

        from .sources import DEFAULT_CHUNK, check_chunk_count

        chunk = self.chunk_size or DEFAULT_CHUNK
        n = int(columns.shape[1])
        where = "the given points" if self._given is not None else "the generated points"
        check_chunk_count(-(-n // chunk), n, chunk, where)
        cols = da.from_array(columns, chunks=(columns.shape[0], chunk))
        w = None if weights is None else da.from_array(weights, chunks=(chunk,))
        with warnings.catch_warnings():
            # The points travel to the workers once, inside this graph, by design (they
            # are drawn here): distributed's "large graph" advice is for graphs sent often.
            warnings.filterwarnings("ignore", message="Sending large graph")
            kept = B.persist(cols, *([] if w is None else [w]))
        self.chunking = {
            "source": "given" if self._given is not None else "generated",
            "chunk_size": chunk,
            **describe_chunks(kept[0][0]),
            "bytes": int(cols.nbytes + (0 if w is None else w.nbytes)),
        }
        return kept[0], (None if w is None else kept[1])

    @property
    def on_dask(self) -> bool:
        """True when the data are chunked dask arrays (the dask backend)."""
        return C.is_chunked(self.columns)

    def _point(self, k: int) -> list[float]:
        """Data point ``k``'s coordinates (from the one chunk that holds it on dask)."""
        if self.on_dask:
            return C.point(self.columns, k)
        if self.arrays:
            return [float(v) for v in self.columns[:, k].tolist()]
        return [float(v) for v in self.points[k]]

    def set_data(self, data: Data) -> None:
        """Install data given column by column (``columns[j][i]`` = coordinate j of point i;
        a (d, n) array on the numpy and dask backends)."""
        self.install(data)
        self.weights = self._checked_weights(data.weights)
        if self.weights is None:
            self.total_weight = float(self.n)
        elif self.arrays:
            self.total_weight = float(self.weights.sum())
        else:
            self.total_weight = math.fsum(self.weights)
        # The engine's view of the data, built once: one constant Tensor per coordinate.
        self._coords = tuple(self.as_data(c) for c in self.columns)
        self._w = None if self.weights is None else self.as_data(self.weights)
        self._reference = None
        self._length: float | None = None
        self._scale = extent(self.columns)
        self._uniqueness: tuple[bool | None, str] | None = None
        self._scans: dict[tuple[float, ...], Scan] = {}
        self._blocks: list[tuple[tuple[Tensor, ...], Tensor | None]] | None = None

    @property
    def arrays(self) -> bool:
        """True when the data are numpy arrays (the numpy backend): ``columns`` a float64
        array of shape (d, n), ``weights`` a float64 array, and every computation on them
        (objective, gradient, certificate, uniqueness, reference) numpy's, a block of
        points at a time; dask arrays too (the dask backend, :attr:`on_dask`: the same
        numpy kernels, a chunk at a time on the workers); else lists of floats and the
        standard library."""
        return not isinstance(self.columns, list)

    @property
    def points(self) -> Any:
        """The data points as rows: a list of tuples (python backend), or an (n, d) view of
        the columns (numpy backend)."""
        if isinstance(self.columns, list):
            return self._points
        return self.columns.T

    def install(self, data: Data) -> None:
        """Install the points (:meth:`_install_columns`: lists, or arrays kept as they are)
        and their names."""
        self._install_columns(data.columns)
        self.names = tuple(data.names) if data.names is not None else _default_names(self.d)
        self._reference = None

    def _install_columns(self, columns: Sequence[Sequence[float]] | Any) -> None:
        """Check and install the user's points, given column by column: ``columns``, ``d``
        and ``n`` (the attributes both classes keep), as lists of floats, or on the numpy
        backend as one float64 array of shape (d, n) (no copy when it is one already)."""
        self.columns: Any
        self._points: Any
        if C.is_chunked(columns):  # the dask backend: shapes known, values on the cluster
            columns = cast(Any, columns)
            self.d, self.n = (int(v) for v in columns.shape)
            if self.n == 0:
                raise InputError(f"{self.name}: {self._too_few(0)}")
            self.columns = C.whole_points(columns)
            self._points = None
            return
        lengths = {len(c) for c in columns}
        self.d = len(columns)
        self.n = len(columns[0]) if self.d else 0
        if self.d == 0 or self.n == 0:
            raise InputError(f"{self.name}: {self._too_few(0)}")
        if len(lengths) > 1:
            raise InputError(f"{self.name}: coordinate columns of different lengths")
        if self.backend == "dask":  # given in memory: chunked and sent to the cluster
            self._install_columns(self._to_cluster(frozen_array(columns), None)[0])
            return
        if self.backend == "numpy":
            self.columns = frozen_array(columns)
            self._points = None
        else:
            if is_array(columns):
                columns = cast(Any, columns).tolist()
            self.columns = [[float(v) for v in c] for c in columns]
            self._points = list(zip(*self.columns))

    def _checked_weights(self, weights: Sequence[float] | Any | None) -> Any:
        """The weights as floats (None without weights; a float64 array on the numpy
        backend); one per point, finite, >= 0, not all 0, or an input error naming the
        weight (:func:`~geograd.problems.data.checked_weights`)."""
        if weights is None:
            return None
        if self.on_dask and C.is_chunked(weights):  # checked where they were read
            lazy: Any = weights
            if lazy.ndim != 1 or lazy.shape[0] != self.n:
                raise InputError(f"{self.name}: {lazy.size} weights for {self.n} points")
            return lazy.rechunk((self.columns.chunks[1],))
        checked = checked_weights(weights, self.name, self.n)
        if self.on_dask:  # given in memory: held as the points are
            da: Any = importlib.import_module("dask.array")
            (kept,) = B.persist(
                da.from_array(frozen_array(checked), chunks=(self.columns.chunks[1],))
            )
            return kept
        if self.arrays:
            return frozen_array(checked)
        if is_array(checked):
            checked = cast(Any, checked).tolist()
        return [float(v) for v in checked]

    @classmethod
    def from_points(
        cls,
        points: Sequence[Sequence[float]],
        weights: Sequence[float] | None = None,
        x0: Sequence[float] | None = None,
        *,
        backend: str | None = None,
    ) -> GeometricMedianCore:
        """A median problem over the given points (rows; or an (n, d) array, kept as one on
        the numpy backend), e.g. for scripts and tests; its data in ``backend`` (see
        :class:`~geograd.problems.base.Problem`)."""
        return cls.given(points, x0=x0, weights=weights, backend=backend)

    @property
    def scale(self) -> float:
        """The largest coordinate extent of the data (1 when all points coincide)."""
        return self._scale

    def default_x0(self) -> list[float]:
        """The weighted centroid Σ w_i a_i / W (numpy's sums on the numpy backend)."""
        if self.arrays:
            import numpy as np

            with np.errstate(all="ignore"):  # an overflow is seen in the result: inf
                if self.weights is None:
                    sums = self.columns.sum(axis=1) / self.n
                else:
                    sums = (self.columns @ self.weights) / self.total_weight
                if self.on_dask:
                    (sums,) = C.compute(sums)
            return [float(v) for v in sums.tolist()]
        if self.weights is None:
            return [math.fsum(c) / self.n for c in self.columns]
        w = self.weights
        return [math.fsum(wi * v for wi, v in zip(w, c)) / self.total_weight for c in self.columns]

    # ------------------------------------------------------------------ maths

    def distances(self, x: Tensor) -> Tensor:
        """||a_i - x|| for every data point, through the engine (a 0-D ``x`` is the one
        coordinate of 1-D data)."""
        if not isinstance(x, Tensor):
            x = Tensor(x)
        # one fused primitive: a single pass over the data forward, one per axis backward
        return F.distances(self._coords, x)

    def loss(self, x: Tensor) -> Tensor:
        """Σ w_i ||a_i - x|| / W through the engine (mean distance when unweighted).

        On the numpy backend, data of more than :data:`ENGINE_BLOCK` points are summed a
        block at a time (the same sum, in another order): each block's temporaries are
        then small enough for the allocator to reuse, where arrays of the whole data are
        mapped afresh, and their pages faulted in, at every evaluation.
        """
        if not isinstance(x, Tensor):
            x = Tensor(x)
        blocks = self._engine_blocks()
        if blocks is None:
            dist = self.distances(x)
            if self._w is None:
                return F.mean(dist)
            return F.sum(dist * self._w) / self.total_weight
        total: Tensor | None = None
        for coords, w in blocks:
            dist = F.distances(coords, x)
            part = F.sum(dist) if w is None else F.sum(dist * w)
            total = part if total is None else total + part
        assert total is not None
        return total / self.total_weight

    def _engine_blocks(self) -> list[tuple[tuple[Tensor, ...], Tensor | None]] | None:
        """The engine's data of the numpy backend in blocks of :data:`ENGINE_BLOCK` points
        (views, built once), or None for data of one block (and the python backend)."""
        if not self.arrays or self.on_dask or self.n <= ENGINE_BLOCK:
            return None
        if self._blocks is None:
            step, w = ENGINE_BLOCK, self.weights
            self._blocks = [
                (
                    tuple(self.as_data(c[s : s + step]) for c in self.columns),
                    None if w is None else self.as_data(w[s : s + step]),
                )
                for s in range(0, self.n, step)
            ]
        return self._blocks

    def scan(self, x: Sequence[float]) -> Scan:
        """One pass of numpy over the data at ``x`` (numpy backend; see :class:`Scan`),
        kept for the last few points asked about: a solve's end is asked for its
        objective and certificate several times over (report, assessment, reference)."""
        p = tuple(float(v) for v in x)
        found = self._scans.get(p)
        if found is None:
            if self.on_dask:
                found = C.scan_chunks(self.columns, self.weights, p)
            else:
                found = scan_arrays(self.columns, self.weights, p)
            if len(self._scans) >= 8:
                self._scans.pop(next(iter(self._scans)))
            self._scans[p] = found
        return found

    def objective(self, x: Sequence[float]) -> float:
        p = [float(v) for v in x]
        if self.arrays:
            return self.scan(p).total / self.total_weight
        if self.weights is None:
            return math.fsum(math.dist(a, p) for a in self.points) / self.n
        w = self.weights
        return math.fsum(wi * math.dist(a, p) for wi, a in zip(w, self.points)) / self.total_weight

    def gradient(self, x: Sequence[float]) -> list[float]:
        """Σ w_i (x - a_i)/||x - a_i|| / W, with 0 for a term whose a_i equals x."""
        p = [float(v) for v in x]
        if self.arrays:
            return [v / self.total_weight for v in self.scan(p).pull]
        w = self.weights if self.weights is not None else [1.0] * self.n
        terms: list[list[float]] = [[] for _ in range(self.d)]
        for wi, a in zip(w, self.points):
            r = math.dist(a, p)
            if r == 0.0 or wi == 0.0:
                continue
            f = wi / r
            for j in range(self.d):
                terms[j].append(f * (p[j] - a[j]))
        return [math.fsum(t) / self.total_weight for t in terms]

    def vertex_test(self, k: int) -> tuple[float, float]:
        """(||R_k||, w_k) at data point k: it is the median iff ||R_k|| <= w_k (unnormalised)."""
        if self.arrays:
            at = self.scan(self._point(k))  # R_k = -(the pull at a_k)
            return math.hypot(*at.pull), at.weight_at
        ak = self.points[k]
        w = self.weights if self.weights is not None else [1.0] * self.n
        wk_terms: list[float] = []
        terms: list[list[float]] = [[] for _ in range(self.d)]
        for wi, a in zip(w, self.points):
            r = math.dist(a, ak)
            if r == 0.0:
                wk_terms.append(wi)
                continue
            f = wi / r
            for j in range(self.d):
                terms[j].append(f * (a[j] - ak[j]))
        return math.hypot(*(math.fsum(t) for t in terms)), math.fsum(wk_terms)

    def certificate(self, x: Sequence[float], atol: float | None = None) -> dict[str, Any]:
        """The optimality certificate at ``x`` (see the module docstring).

        When ``x`` lies within ``atol`` (default 1e-6 of the data's extent) of a
        data point a_k, the exact test at a_k is reported (kind ``data_point``,
        ``optimal`` True or False, ``distance_to_point``); elsewhere the gradient
        norm (kind ``gradient_norm``, ``optimal`` None). ``value`` is the distance
        from 0 to the subdifferential, 0 at the optimum; ``gap_bound`` bounds
        L(x) - min L.
        """
        p = self.check_point(x, "x")
        tol = 1e-6 * self.scale if atol is None else float(atol)
        if self.arrays:
            here = self.scan(p)
            k, near, reach = here.nearest, here.nearest_distance, here.reach
        else:
            dists = [math.dist(a, p) for a in self.points]
            k = min(range(self.n), key=dists.__getitem__)
            near, reach = dists[k], max(dists)
        if near <= tol:
            r, wk = self.vertex_test(k)
            value = max(0.0, r - wk) / self.total_weight
            if self.arrays:
                ak = self._point(k)
                reach_k = self.scan(ak).reach
            else:
                ak = list(self.points[k])
                reach_k = max(math.dist(a, ak) for a in self.points)
            optimal = r <= wk * (1.0 + VERTEX_RTOL)
            label = self.point_label(k)
            # pull and weight as fractions of the total weight (the units weights come in
            # do not matter)
            verdict = (
                "optimal"
                if optimal
                else f"not optimal (pull {r / self.total_weight:.3g} > weight "
                f"{wk / self.total_weight:.3g}, of the total weight)"
            )
            return {
                "value": value,
                "kind": "data_point",
                "optimal": optimal,
                "index": k,
                "label": label,
                "summary": f"exact test at {label}: {verdict}",
                "point_index": k,
                "point": ak,
                "distance_to_point": near,
                "pull": r / self.total_weight,
                "point_weight": wk / self.total_weight,
                "gap_bound": value * reach_k + near,
            }
        g = self.gradient(p)
        value = math.hypot(*g)
        return {
            "value": value,
            "kind": "gradient_norm",
            "optimal": None,
            "summary": f"gradient norm {value:.2g}",
            "nearest_point_distance": near,
            "gap_bound": value * reach,
        }

    def point_label(self, k: int) -> str:
        """Data point ``k`` (0-based) in words: "data point 3 (index 2)"."""
        return f"data point {k + 1} (index {k})"

    def uniqueness(self) -> tuple[bool | None, str]:
        """Whether the median is unique, and why (computed once per data set).

        L is strictly convex unless the points of positive weight lie on one line, so
        then the median is unique. On a line (1-D data included) L is, along the line,
        the weighted 1-D absolute deviation Σ w_i |t_i - t|, whose minimisers are the
        weighted medians of the positions t_i: with the distinct positions sorted,
        s_1 < ... < s_m, and C_j the weight at s_1..s_j, every point of [s_j, s_j+1]
        is a minimiser when C_j is exactly half the total weight, and the minimiser is
        unique otherwise. "Exactly" is to rounding: within :data:`BALANCE_RTOL` of the
        total (weights 0.1 and 0.2 balance 0.3), where the objective's slope along the
        segment is below what float64 resolves; "on one line" is within
        :data:`COLLINEAR_RTOL` of the spread. Points coinciding, or one point of
        positive weight, give a unique median.
        """
        if self._uniqueness is None:
            if self.on_dask:
                self._uniqueness = C.uniqueness_chunks(
                    self.columns, self.weights, self.point_label, COLLINEAR_RTOL
                )
            elif self.arrays:
                self._uniqueness = median_uniqueness_arrays(
                    self.columns, self.weights, self.point_label
                )
            else:
                self._uniqueness = median_uniqueness(self.points, self.weights, self.point_label)
        return self._uniqueness

    def data_notes(self) -> list[str]:
        """Where the weights came from (generated data name them in their settings)."""
        if self.source == "generated":
            return []
        if self.weights is None:
            return ["equal weights"]
        if self.source == "given":
            return ["given weights"]
        return ["weights from the file's weight column"]

    # ------------------------------------------------------------- reference

    def compute_reference(self) -> Reference:
        if self.on_dask:
            spread = max(hi - lo for lo, hi in C.column_ranges(self.columns))
            x, details = C.weiszfeld_scans(
                self.scan, self._point, self.default_x0(), spread, vertex_rtol=VERTEX_RTOL,
                near=functools.partial(C.near_chunks, self.columns, self.weights),
            )  # fmt: skip
        else:
            block = max(1, BLOCK_NUMBERS // self.d) if self.arrays else None
            x, details = weiszfeld(self.columns, self.weights, x0=self.default_x0(), block=block)
        details["certificate"] = self.certificate(x)
        return Reference(
            x=x, loss=self.objective(x), method="weiszfeld-vardi-zhang", details=details
        )

    # ---------------------------------------------------------------- solving

    @property
    def length(self) -> float:
        """The problem's natural length: L at the weighted centroid, the mean distance of
        the data from its centre (1 when all points coincide). Step sizes scale with it."""
        if self._length is None:
            value = self.objective(self.default_x0())
            self._length = value if value > 0.0 else 1.0
        return self._length

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """Settings for :func:`geograd.minimize`; see the module docstring for the reasons.

        Every step size is in units of :attr:`length`, so the settings do not depend
        on the units of the data. ``gtol`` is absolute: the gradient of a mean
        distance is an average of unit vectors, already free of units. ``ftol``
        (relative to max(|L|, 1)) is a few units in the last place of L, where the
        line search can no longer see a decrease.
        """
        from geograd.optim.schedules import Exponential

        name = (optimizer or DEFAULT_OPTIMIZER).strip().lower()
        length = self.length
        loop: dict[str, Any] = {"gtol": 1e-9, "ftol": 4e-16 * min(1.0, length)}
        if name == "gd":
            steps = max_steps or 1000
            return {"optimizer": "gd", "lr": length, "c1": 0.5, "max_steps": steps, **loop}
        if name in NEWTON:
            # lr seeds the first trial step (trust radius): one length, as gd's.
            return {"optimizer": name, "lr": length, "max_steps": max_steps or 200, **loop}
        steps = max_steps or 2000
        out: dict[str, Any] = {
            "optimizer": name,
            "lr": LR_IN_LENGTHS.get(name, 0.01) * length,
            "max_steps": steps,
            # lr falls by 1e-6 over the run, so the iterates settle, kinks included.
            "schedule": Exponential(1e-6 ** (1.0 / steps)),
            **loop,
        }
        if name == "adamw":
            out["weight_decay"] = 0.0  # decay towards the origin would bias the median
        return out

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Half random points in the data's bounding box, half just off random data points
        (1e-3 of the extent away, far more than a finite-difference step)."""
        return check_points_near(self.points, self.scale, count, seed, 1e-3)

    # ------------------------------------------------------------- describing

    def data_facts(self) -> dict[str, Any]:
        return {"weighted": self.weights is not None}

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        """The first two coordinates (the drawing is the x-y plane; 1-D data lies on y = 0)."""
        return (float(x[0]), float(x[1]) if self.d >= 2 else 0.0)

    def plot_bounds(
        self, extra: Sequence[Sequence[float]] = (), margin: float = 0.05
    ) -> tuple[float, float, float, float]:
        # the data's range, then the extra points: the box of them all
        xs = list(column_range(self.columns[0]))
        ys = list(column_range(self.columns[1])) if self.d >= 2 else [0.0]
        for p in extra:
            xs.append(float(p[0]))
            ys.append(float(p[1]) if len(p) > 1 else 0.0)
        return bounding_box(xs, ys, margin)

    def objective_grid(self, xs: Sequence[float], ys: Sequence[float]) -> list[list[float]]:
        """L on the grid (xs[j], ys[i]), vectorised with numpy (2-D problems only)."""
        if self.d != 2:
            raise InputError(f"{self.name}: contours need 2-D points, these are {self.d}-D")
        import numpy as np

        gx, gy = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
        ax, ay = (np.asarray(c) for c in self.columns)
        w = np.ones(self.n) if self.weights is None else np.asarray(self.weights)
        z = np.zeros_like(gx)
        chunk = max(1, 2_000_000 // max(1, gx.size))
        for s in range(0, self.n, chunk):
            sl = slice(s, s + chunk)
            dx = ax[sl, None, None] - gx[None]
            dy = ay[sl, None, None] - gy[None]
            z += np.tensordot(w[sl], np.hypot(dx, dy), axes=1)
        out: list[list[float]] = (z / self.total_weight).tolist()
        return out

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """The points (grey, sized by weight when weighted) and the estimate (a star).

        3-D and higher data are drawn projected on the first two coordinates; 1-D on y = 0.
        """
        xs = self.columns[0]
        ys = self.columns[1] if self.d >= 2 else [0.0] * self.n
        if self.arrays and self.d < 2:
            ys = xs * 0.0
        base = min(30.0, max(2.0, 3000.0 / self.n))
        mean_w = self.total_weight / self.n
        if self.weights is None:
            sizes: Any = base
        elif self.arrays:
            import numpy as np

            sizes = base * np.maximum(0.05, self.weights / mean_w)
        else:
            sizes = [base * max(0.05, w / mean_w) for w in self.weights]
        proj = "" if self.d <= 2 else f" (first 2 of {self.d} coordinates)"
        artists = [
            ax.scatter(
                xs, ys, s=sizes, c="0.45", alpha=0.6 if self.n > 200 else 0.85,
                edgecolors="none", label=f"points (n={self.n}){proj}", zorder=2,
            )
        ]  # fmt: skip
        ax.set_xlabel(self.names[0])
        ax.set_ylabel(self.names[1] if self.d >= 2 else "")
        artists += super().draw(ax, x, label=label)
        return artists


class GeometricMedian(Normalised, GeometricMedianCore):
    """The weighted geometric median of points in R^d (see the module docstring).

    The user's data stay as given (``columns``, ``points``, ``weights``: what reports,
    ``to_dict`` and plots show); the mathematics run on ``unit``, a
    :class:`GeometricMedianCore` over the points centred at the middle of their
    bounding box and divided by s, the power of two nearest its largest side, with the
    weights divided by the power of two nearest the largest weight (see
    :mod:`geograd.problems.scaling`). Every method takes and returns user units: the
    loss is s times the unit loss (a mean distance), the gradient the unit gradient
    (unit-free), lengths s times the unit's. So points at 1e-320 or near 1e308 have
    the same median, to rounding, as the same points at 1 scaled.
    """

    objective_words = "mean distance to the points"
    start_on_user_data = True  # the centroid, correctly rounded
    quantities = Quantities(
        certificate={
            "distance_to_point": "length", "nearest_point_distance": "length",
            "gap_bound": "length",
        },
    )  # fmt: skip

    def set_data(self, data: Data) -> None:
        """Install data given column by column (``columns[j][i]`` = coordinate j of point i;
        a (d, n) array on the numpy backend) and build the unit copy the mathematics run
        on (on numpy, the very arrays when centring and scaling change nothing)."""
        self.install(data)
        if not self._finite_columns():
            raise InputError(f"{self.name}: the point coordinates must be finite numbers")
        w = self._checked_weights(data.weights)
        self.weights = w
        unit_weights: Any = None
        if w is not None:
            # Weights near 1e308 would overflow their sum: the unit copy's are divided by a
            # power of two (exactly; the weighted mean does not change).
            e = self._weight_exponent = weight_exponent(w)
            if self.on_dask:
                unit_weights = w if e == 0 else w * math.ldexp(1.0, -e)  # exact, lazily
                (total,) = C.compute(unit_weights.sum())
                total = float(total)
            elif self.arrays:
                import numpy as np

                unit_weights = w if e == 0 else frozen_array(np.ldexp(w, -e))
                total = float(unit_weights.sum())
            else:
                unit_weights = [times_pow2(v, -e) for v in w]
                total = math.fsum(unit_weights)
            self.total_weight = times_pow2(total, e)
        else:
            self._weight_exponent = 0
            self.total_weight = float(self.n)
        self._scans = {}
        self.build_unit(unit_weights)

    def _finite_columns(self) -> bool:
        if not self.arrays:
            return all(math.isfinite(v) for c in self.columns for v in c)
        import numpy as np

        with np.errstate(all="ignore"):  # a finite sum has finite terms; else look closer
            return bool(np.isfinite(self.columns.sum())) or bool(np.isfinite(self.columns).all())

    @property
    def scale(self) -> float:
        """The largest coordinate extent of the data (1 when all points coincide)."""
        return self.extent

    def default_x0(self) -> list[float]:
        """The weighted centroid Σ w_i a_i / W on the user's numbers (:attr:`start_on_user_data`),
        the unit copy's when the total weight W overflows."""
        if math.isfinite(self.total_weight):
            return super().default_x0()
        return self.from_unit(self.unit.default_x0())

    @property
    def length(self) -> float:
        """The problem's natural length: L at the weighted centroid (see the core class)."""
        return self.length_to_user(self.unit.length)

    def distances(self, x: Tensor) -> Tensor:
        """||a_i - x|| for every data point, through the engine (via the unit copy)."""
        out: Tensor = self.unit.distances(self.tensor_to_unit(x)) * self.frame.scale
        return out

    def vertex_test(self, k: int) -> tuple[float, float]:
        """(||R_k||, w_k) at data point k: it is the median iff ||R_k|| <= w_k (unnormalised,
        in the weights' own units)."""
        pull, weight = self.unit.vertex_test(k)
        e = self._weight_exponent
        return times_pow2(pull, e), times_pow2(weight, e)

    def certificate(self, x: Sequence[float], atol: float | None = None) -> dict[str, Any]:
        """The optimality certificate at ``x`` (see the module docstring), computed on the
        unit copy and reported in user units (``atol`` too is in user units)."""
        tol = None if atol is None else self.frame.length_to_unit(atol)
        return self.certificate_to_user(self.unit.certificate(self.to_unit(x), tol))


# ------------------------------------------------------------------------ data makers


def generate(r: random.Random, n: int, d: int, distribution: str) -> list[list[float]]:
    """n points in R^d, column by column, from ``r`` (see the module docstring)."""
    if distribution == "uniform":
        return [[r.uniform(a=0, b=1) for _ in range(n)] for _ in range(d)]
    if distribution == "gaussian":
        return [[r.normalvariate(0.5, 0.15) for _ in range(n)] for _ in range(d)]
    if distribution == "clustered":
        centres = [[r.uniform(0.2, 0.8) for _ in range(d)] for _ in range(N_CLUSTERS)]
        labels = [r.randrange(N_CLUSTERS) for _ in range(n)]
        return [[centres[k][j] + r.normalvariate(0.0, 0.05) for k in labels] for j in range(d)]
    if distribution == "outliers":
        m = n // 5
        inliers = [[r.normalvariate(0.5, 0.1) for _ in range(n - m)] for _ in range(d)]
        outliers = [[r.uniform(3.0, 5.0) for _ in range(m)] for _ in range(d)]
        return [a + b for a, b in zip(inliers, outliers)]
    raise InputError(f"median: unknown distribution {distribution!r}")


def generate_arrays(
    seed: int, n: int, d: int, distribution: str, random_weights: bool
) -> tuple[Any, Any]:
    """What :func:`generate` draws from ``random.Random(seed)`` (and the random weights
    after it), the same numbers bit for bit, drawn in bulk into a float64 array of shape
    (d, n) (and a weights array, or None) by :class:`~geograd.problems.data.NumpyRandom`.
    Where that cannot mirror ``random.Random`` (:func:`numpy_mirrors_random`), the points
    are drawn by ``random.Random`` itself and converted."""
    import numpy as np

    if distribution not in DISTRIBUTIONS:
        raise InputError(f"median: unknown distribution {distribution!r}")
    if not numpy_mirrors_random():
        r = random.Random(seed)
        columns = frozen_array(generate(r, n, d, distribution))
        weights = [r.uniform(0.1, 1.0) for _ in range(n)] if random_weights else None
        return columns, None if weights is None else frozen_array(weights)
    m = NumpyRandom(seed)
    out = np.empty((d, n), dtype=np.float64)  # drawn into, row by row: no temporaries
    if distribution == "uniform":
        for j in range(d):
            m.uniform(0, 1, n, out=out[j])
    elif distribution == "gaussian":
        for j in range(d):
            m.normalvariate(0.5, 0.15, n, out=out[j])
    elif distribution == "clustered":
        centres = m.uniform(0.2, 0.8, N_CLUSTERS * d).reshape(N_CLUSTERS, d)
        labels = m.randrange(N_CLUSTERS, n)
        for j in range(d):
            m.normalvariate(0.0, 0.05, n, out=out[j])
            out[j] += centres[labels, j]
    else:  # outliers: every inlier coordinate first, then every outlier coordinate
        k = n // 5
        for j in range(d):
            m.normalvariate(0.5, 0.1, n - k, out=out[j, : n - k])
        for j in range(d):
            m.uniform(3.0, 5.0, k, out=out[j, n - k :])
    weights = m.uniform(0.1, 1.0, n) if random_weights else None
    out.flags.writeable = False  # made here, so frozen in place (frozen_array: no copy)
    if weights is not None:
        weights.flags.writeable = False
    return out, weights


# ------------------------------------------------------------------------ uniqueness

#: Points whose distance from a line is within this fraction of their spread lie on it.
COLLINEAR_RTOL = 1e-12
#: Weights on either side of a gap balance when they differ by at most this fraction of the
#: total: a few units in the last place (0.1 + 0.2 against 0.3), where the objective along
#: the segment changes by less than float64 resolves.
BALANCE_RTOL = 1e-14


def median_uniqueness(
    points: Sequence[Sequence[float]],
    weights: Sequence[float] | None,
    label: Any = None,
) -> tuple[bool, str]:
    """(unique, why) for the weighted median of ``points`` (see
    :meth:`GeometricMedian.uniqueness`). ``label(k)`` names point k in the reason."""
    name = label or (lambda k: f"point {k}")
    w = [1.0] * len(points) if weights is None else [float(v) for v in weights]
    keep = [i for i, wi in enumerate(w) if wi > 0.0]
    a0 = points[keep[0]]
    far = max(keep, key=lambda i: math.dist(points[i], a0))
    spread = math.dist(points[far], a0)
    if spread == 0.0:
        return True, "all the points of positive weight coincide"
    u = [(b - a) / spread for a, b in zip(a0, points[far])]
    t: dict[int, float] = {}
    for i in keep:
        v = [b - a for a, b in zip(a0, points[i])]
        along = math.fsum(p * q for p, q in zip(v, u))
        off = math.hypot(*(p - along * q for p, q in zip(v, u)))
        if off > COLLINEAR_RTOL * spread:
            return True, "the points are not collinear, so the mean distance is strictly convex"
        t[i] = along
    # On a line: the weighted 1-D median of the positions t.
    order = sorted(keep, key=t.__getitem__)
    groups: list[list[int]] = []
    for i in order:
        if groups and t[i] == t[groups[-1][0]]:
            groups[-1].append(i)
        else:
            groups.append([i])
    total = math.fsum(w[i] for i in keep)
    half = total / 2.0
    slack = BALANCE_RTOL * total
    running = 0.0
    for j, g in enumerate(groups[:-1]):
        running += math.fsum(w[i] for i in g)
        if running < half * (1.0 - 1e-9):
            continue
        prefix = math.fsum(w[i] for h in groups[: j + 1] for i in h)
        if abs(prefix - half) <= slack:
            left, right = sorted((g[0], groups[j + 1][0]))
            return False, (
                "the points are collinear and their weights balance: every point between "
                f"{name(left)} and {name(right)} is a median"
            )
        if prefix > half:
            break
    return True, "the points are collinear and their weighted 1-D median is a single point"


def median_uniqueness_arrays(columns: Any, weights: Any, label: Any = None) -> tuple[bool, str]:
    """:func:`median_uniqueness` for points given as a float64 array of shape (d, n) (and a
    weights array or None), computed by numpy a block at a time: the same verdict, to
    rounding (sums in numpy's order, not ``math.fsum``'s, except the balance of weights,
    which is summed exactly here too)."""
    import numpy as np

    name = label or (lambda k: f"point {k}")
    d = columns.shape[0]
    if weights is None:
        keep = None
        a = columns
    else:
        positive = weights > 0.0
        keep = None if bool(positive.all()) else np.flatnonzero(positive)
        a = columns if keep is None else columns[:, keep]
    a0 = a[:, 0].copy()
    size = max(1, BLOCK_NUMBERS // d)
    blocks = [slice(s, s + size) for s in range(0, a.shape[1], size)]
    with np.errstate(all="ignore"):
        far, spread = 0, -1.0
        for b in blocks:
            dist = block_distances(a[:, b] - a0[:, None])
            i = int(dist.argmax())
            if dist[i] > spread:
                far, spread = b.start + i, float(dist[i])
        if spread == 0.0:
            return True, "all the points of positive weight coincide"
        u = (a[:, far] - a0) / spread
        positions = []
        for b in blocks:
            v = a[:, b] - a0[:, None]
            along = u @ v
            off = block_distances(v - along * u[:, None])
            if bool((off > COLLINEAR_RTOL * spread).any()):
                return True, "the points are not collinear, so the mean distance is strictly convex"
            positions.append(along)
    # On a line: the weighted 1-D median of the positions t, in order (ties by index).
    t = np.concatenate(positions)
    del positions
    order = np.argsort(t, kind="stable")
    ts = t[order]
    del t
    starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
    ends = np.r_[starts[1:], len(ts)]
    del ts
    if weights is None:  # sums of ones: exact as they are
        ws = None
        total = float(len(order))
        running = ends.astype(np.float64)
    else:
        ws = weights[order] if keep is None else weights[keep][order]
        total = _exact_sum(ws)
        running = np.cumsum(np.add.reduceat(ws, starts))
    half = total / 2.0
    slack = BALANCE_RTOL * total
    candidates = np.flatnonzero(running[:-1] >= half * (1.0 - 1e-9) * (1.0 - 1e-12))
    for j in candidates.tolist():
        prefix = float(ends[j]) if ws is None else _exact_sum(ws[: ends[j]])
        if abs(prefix - half) <= slack:
            pair = (int(order[starts[j]]), int(order[starts[j + 1]]))
            if keep is not None:
                pair = (int(keep[pair[0]]), int(keep[pair[1]]))
            left, right = sorted(pair)
            return False, (
                "the points are collinear and their weights balance: every point between "
                f"{name(left)} and {name(right)} is a median"
            )
        if prefix > half:
            break
    return True, "the points are collinear and their weighted 1-D median is a single point"


def _exact_sum(values: Any) -> float:
    """math.fsum of a float array (the correctly rounded sum), a block at a time."""
    step = 1 << 16
    return math.fsum(v for s in range(0, len(values), step) for v in values[s : s + step].tolist())


# ------------------------------------------------------------------- numpy passes


def frozen_array(values: Any) -> Any:
    """``values`` as a C-contiguous float64 numpy array that nothing can change: an array
    already frozen so is returned as it is; anything else is copied and the copy frozen
    (read-only), so that the engine may hold it without a copy of its own
    (:meth:`Problem.as_data`) and no caller's array is frozen under them."""
    import numpy as np

    if (
        isinstance(values, np.ndarray)
        and values.dtype == np.float64
        and values.flags.c_contiguous
        and not values.flags.writeable
    ):
        return values
    out = np.array(values, dtype=np.float64, order="C")
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class Scan:
    """What one pass over the data at a point p finds (the numpy backend's kernel: every
    closed form of the median at p comes from it).

    ``total`` = Σ w_i ||a_i - p||; ``pull`` = Σ_{a_i ≠ p} w_i (p - a_i)/||p - a_i|| (the
    gradient times W; minus R_k at p = a_k); ``nearest`` the index of the first data
    point nearest p and ``nearest_distance`` its distance; ``reach`` = max_i ||a_i - p||;
    ``weight_at`` = Σ_{a_i = p} w_i; ``inv_sum`` = Σ_{a_i ≠ p} w_i/||a_i - p|| (Weiszfeld's
    denominator: its step is p - pull/inv_sum).
    """

    total: float
    pull: tuple[float, ...]
    nearest: int
    nearest_distance: float
    reach: float
    weight_at: float
    inv_sum: float = 0.0


#: Squared distances outside [TINY, HUGE] lose digits (subnormal squares) or overflow:
#: those few are taken again by hypot, which does neither.
_TINY, _HUGE = 1e-290, 1e290


def block_distances(diff: Any) -> Any:
    """The Euclidean norms of the columns of ``diff`` (shape (d, m)): sqrt(Σ_j diff_j²),
    with the columns whose squares under- or overflow taken again by numpy's hypot."""
    import numpy as np

    d2 = np.einsum("ij,ij->j", diff, diff)
    dist = np.sqrt(d2)
    if not (float(d2.min()) >= _TINY and float(d2.max()) <= _HUGE):
        bad = np.flatnonzero(~((d2 >= _TINY) & (d2 <= _HUGE)))
        fixed = np.abs(diff[0, bad])
        for row in diff[1:]:
            fixed = np.hypot(fixed, row[bad])
        dist[bad] = fixed
    return dist


def scan_arrays(columns: Any, weights: Any, p: Sequence[float]) -> Scan:
    """One pass over the points ``columns`` (a float64 array of shape (d, n); ``weights`` a
    float64 array or None) at ``p``, a block of points at a time (see :class:`Scan`)."""
    import numpy as np

    d, n = columns.shape
    size = max(1, BLOCK_NUMBERS // d)
    at = np.asarray(p, dtype=np.float64)[:, None]
    pull = np.zeros(d)
    total, best, nearest, reach, weight_at, inv_sum = 0.0, math.inf, 0, 0.0, 0.0, 0.0
    with np.errstate(all="ignore"):
        for s in range(0, n, size):
            diff = at - columns[:, s : s + size]
            dist = block_distances(diff)
            w = None if weights is None else weights[s : s + size]
            total += float(dist.sum() if w is None else w @ dist)
            k = int(dist.argmin())
            if dist[k] < best:
                best, nearest = float(dist[k]), s + k
            reach = max(reach, float(dist.max()))
            q = 1.0 / dist if w is None else w / dist
            if dist[k] == 0.0:  # the points at p: no term in the pull, their weight apart
                zero = dist == 0.0
                q[zero] = 0.0
                weight_at += float(zero.sum() if w is None else w[zero].sum())
            pull += diff @ q
            inv_sum += float(q.sum())
    pull_values = tuple(float(v) for v in pull.tolist())
    return Scan(total, pull_values, nearest, best, reach, weight_at, inv_sum)


# --------------------------------------------------------------------------- Weiszfeld


def others_out_pull(r: float, weight: float, radius: float, inv_sum: float, rtol: float) -> bool:
    """Whether the other points' pull, of norm ``r`` at the iterate y, takes Weiszfeld's
    iteration out of a tight cluster of ``weight`` within ``radius`` of y: within ~radius
    of y that pull varies by at most 2·radius·Σ w_i/||a_i - y|| (``inv_sum``, over the
    others), so where r exceeds the weight by more (and by the test's rounding ``rtol``)
    no median lies among the cluster, and it is stepped out of as one point."""
    return r > weight * (1.0 + rtol) + 2.0 * radius * inv_sum


class WeiszfeldStop:
    """When Weiszfeld's iteration (with the Vardi–Zhang step) stops, after each step:

    - a step at rounding (<= 16·EPS of the extent ``spread``) inside a tight cluster
      that the others do not out-pull: unconverged. Where the median lies among such a
      cluster on none of its points, the steps (the others' pull over the cluster's
      Σ w_i/||a_i - y||) fall to rounding far from it, and their ratios are no rate (one
      read 1.5e-10 from the median as 5e-13);
    - a step of exactly 0, a fixed point of the map: converged;
    - the distance still to go, step·max(1, ρ/(1 - ρ)), below half of ``tol`` times the
      extent (the estimate is itself some per cent off where ρ is near 1): converged.
      Weiszfeld converges linearly, at the rate ρ of successive steps, read only across
      steps of one map (the same points at the iterate): a Vardi–Zhang step followed by
      Weiszfeld's, a step out of a cluster, or a first step are no geometric series
      (among near-duplicates at the centroid the first step, ~the twins' distance, was
      read as the distance left, and the reference stopped 0.17 from the median). ρ is
      the larger of the last two ratios (one can be a step's start, not a rate).
    """

    def __init__(self, tol: float, spread: float) -> None:
        self.goal = tol * spread / 2.0
        self.rounding = 16.0 * EPS * spread
        self.done = f"remaining distance below {tol:g} of the extent"
        self.kind: object = None
        self.last = math.inf
        self.rate = math.inf

    def after(self, kind: object, step: float, inside: float) -> tuple[str, bool] | None:
        """(stopped, converged) after ``step``, a step of the map ``kind`` (``inside``: the
        radius of a tight cluster about the iterate that the others do not out-pull, 0
        without one); None to go on."""
        if inside > self.goal and step <= self.rounding:
            return "steps at rounding inside a tight cluster of data points", False
        if step == 0.0:
            return self.done, True
        if kind != self.kind:  # another map: its steps are no series with the last
            self.kind, self.last, self.rate = kind, math.inf, math.inf
        q = step / self.last if self.last < math.inf else math.inf  # a first step: no ratio
        rho = max(q, self.rate)
        self.last, self.rate = step, q
        if rho < 1.0 and step * max(1.0, rho / (1.0 - rho)) <= self.goal:
            return self.done, True
        return None


def weiszfeld(
    columns: Sequence[Sequence[float]] | Any,
    weights: Sequence[float] | Any | None = None,
    *,
    x0: Sequence[float] | None = None,
    tol: float = 1e-12,
    max_iter: int = 100_000,
    block: int | None = None,
) -> tuple[list[float], dict[str, Any]]:
    """The weighted geometric median by Weiszfeld's iteration with the Vardi–Zhang step.

    T(y) = Σ_{a_i≠y} (w_i/||a_i-y||) a_i / Σ_{a_i≠y} w_i/||a_i-y||; at a data point
    y = a_k with weight η = w_k and r = ||R_k||, the next iterate is
    max(0, 1-η/r) T(y) + min(1, η/r) y (Vardi & Zhang 2000), and y is optimal if
    r <= η. Stops when the data point nearest the iterate passes the exact optimality
    test, or when the remaining distance, step·ρ/(1 - ρ) (at least the step), is below
    half of ``tol`` times the data's extent (the estimate is itself some per cent off
    where ρ is near 1), ρ the larger of the last two ratios of steps of one map (the
    same points at y): a Vardi–Zhang step followed by Weiszfeld's, or a step out of a
    cluster, is no geometric series, and neither is a first step: from a start on a
    data point beside a twin 7e-13 away, the first step (~the twin's distance) was read
    as the distance left, and the reference stopped there. numpy inside. Returns (x,
    details).

    Tight clusters (near-duplicates): data points within ρ of y, all others at least
    :data:`CLUSTER_GAP`·ρ away (looked for when the nearest point is that close). Within
    ~ρ of y the others' pull R varies by at most 2ρ·Σ w_i/||a_i - y|| (the slack); where
    ||R|| exceeds the cluster's weight by more, no median lies among it, and the
    Vardi–Zhang step for the cluster as one point at y (its summed weight) leaves it at
    once (Weiszfeld's own steps, about the points' spacing, crawl among them and read
    false rates). Otherwise the median may be at any of its points, not only the
    nearest (a median on a point whose lighter twin, 3e-12 away, was nearer the iterate
    was never tested): they are tested, one an iteration, nearest first. If all fail,
    the median may lie among them on none, where Weiszfeld's steps fall to rounding far
    from it: a step at rounding there stops it unconverged, claiming no distance left.
    (Ratios of the steps read there before that are not proven rates: among twins
    1e-12..1e-11 apart with the median between them it was seen up to 3.5 times ``tol``
    off while claiming convergence.)

    ``columns`` are the coordinates column by column (lists, or a (d, n) array).
    ``block``: None runs every step as numpy operations on whole (n, d) arrays; a number
    of points runs them on the columns that many points at a time (what the numpy
    backend passes: the temporaries stay in cache, and the memory is a block's). The two
    sum in different orders, so they agree to rounding. A data point's exact test does
    not depend on the iterate, so a point that failed it is not tested again.
    """
    import numpy as np

    cols = np.asarray(columns, dtype=float)  # (d, n)
    w: Any = None if weights is None else np.asarray(weights, dtype=float)
    y: Any
    if block is None:
        w = np.ones(cols.shape[1]) if w is None else w
        keep = w > 0
        a = cols.T[keep]  # (n, d), C-ordered
        w = w[keep]
        step_sums, vertex_sums, near_sums, rest_sums = _whole_array_steps(a, w)
        spread = float(np.max(np.ptp(a, axis=0)))
        first = a[0]
        y = (w @ a) / w.sum() if x0 is None else None
    else:
        if w is not None and not bool((w > 0).all()):
            keep = w > 0
            cols, w = cols[:, keep], w[keep]
        cols = np.ascontiguousarray(cols)
        step_sums, vertex_sums, near_sums, rest_sums = _block_steps(cols, w, int(block))
        spread = max(hi - lo for lo, hi in map(column_range, cols))
        first = cols[:, 0]
        y = None
        if x0 is None:
            y = cols.mean(axis=1) if w is None else (cols @ w) / w.sum()
    if spread == 0.0:
        return [float(v) for v in first], {
            "iterations": 0, "converged": True, "stopped": "all points coincide",
            "tolerance": tol,
        }  # fmt: skip
    if x0 is not None:
        y = np.asarray(x0, dtype=float)
    failed: set[int] = set()

    def vertex_optimal(k: int) -> bool:
        if k in failed:
            return False
        pull, weight_on = vertex_sums(k)
        optimal = bool(np.linalg.norm(pull) <= weight_on * (1.0 + VERTEX_RTOL))
        if not optimal:
            failed.add(k)
        return optimal

    def tight_cluster(y: Any, eta: float) -> tuple[tuple[Any, float, float] | None, Any, float]:
        """(The widest tight cluster about y that the others out-pull, as (T of the others,
        the cluster's weight with ``eta``, ||R||), else None; the points of the widest;
        its radius, 0 without one.)"""
        idx, dist, wts, beyond = near_sums(y, cap)
        if len(idx) == 0:
            return None, idx, 0.0
        gaps = np.append(dist[1:], beyond) >= CLUSTER_GAP * dist
        widest, radius = None, 0.0
        for j in np.flatnonzero(gaps)[::-1].tolist():  # the widest first
            members = idx[: j + 1]
            if widest is None:
                widest, radius = members, float(dist[j])
            t_rest, r_vec, inv_rest = rest_sums(y, members)
            weight = eta + float(wts[: j + 1].sum())
            r = float(np.linalg.norm(r_vec))
            if others_out_pull(r, weight, float(dist[j]), inv_rest, VERTEX_RTOL):
                return (t_rest, weight, r), widest, radius
        return None, idx[:0] if widest is None else widest, radius

    # a cluster is within ρ of y, the others (among them the farthest, at most the
    # diameter of the data away from a y in their hull) at least CLUSTER_GAP·ρ
    cap = spread * math.sqrt(cols.shape[0]) / CLUSTER_GAP
    stopped, converged, iterations = "max_iter", False, 0
    stop = WeiszfeldStop(tol, spread)
    for it in range(1, max_iter + 1):
        iterations = it
        k, t, eta, pull, nearest = step_sums(y)
        if vertex_optimal(k):
            y = (a[k] if block is None else cols[:, k]).copy()
            stopped, converged = "data point passes the optimality test", True
            break
        this: tuple[float, tuple[int, ...]] = (eta, (k,) if eta > 0.0 else ())
        r, inside = -1.0, 0.0
        if nearest <= cap:
            cluster, members, inside = tight_cluster(y, eta)
            if cluster is not None:  # the others pull it out of a tight cluster: one point
                t, eta, r = cluster
                this, inside = (eta, tuple(members.tolist())), 0.0
            else:  # the median may be at a point of it: one more tested, nearest first
                j = next((int(i) for i in members.tolist() if int(i) not in failed), -1)
                if j >= 0 and vertex_optimal(j):
                    y = (a[j] if block is None else cols[:, j]).copy()
                    stopped, converged = "data point passes the optimality test", True
                    break
        if eta > 0.0:
            r = float(np.linalg.norm(pull())) if r < 0.0 else r
            y_new = max(0.0, 1.0 - eta / r) * t + min(1.0, eta / r) * y
        else:
            y_new = t
        step = float(np.linalg.norm(y_new - y))
        y = y_new
        ended = stop.after(this, step, inside)
        if ended is not None:
            stopped, converged = ended
            break
    return [float(v) for v in y], {
        "iterations": iterations, "converged": converged, "stopped": stopped, "tolerance": tol,
    }  # fmt: skip


def _whole_array_steps(a: Any, w: Any) -> tuple[Any, Any, Any, Any]:
    """Weiszfeld's sums on whole arrays: ``a`` the points (n, d), ``w`` their weights (> 0).

    ``step(y)`` = (the index of the first point nearest y, T(y), η = the weight at y, a
    function giving Σ_{a_i≠y} w_i (a_i - y)/||a_i - y||, the nearest distance);
    ``vertex(k)`` = (R_k, w_k); ``near(y, cap)`` = (the indices of the points 0 <
    ||a_i - y|| <= cap, nearest first, their distances, their weights, the least
    distance beyond ``cap``); ``rest(y, members)`` = (T, the pull Σ w_i (a_i - y)/||a_i -
    y|| and Σ w_i/||a_i - y|| of the points neither at y nor among ``members``).
    """
    import numpy as np

    def distances(y: Any) -> Any:
        diff = a - y
        return np.sqrt(np.einsum("ij,ij->i", diff, diff))

    def step(y: Any) -> tuple[int, Any, float, Any, float]:
        dist = distances(y)
        k = int(np.argmin(dist))
        on = dist == 0.0
        inv = w[~on] / dist[~on]
        t = (inv @ a[~on]) / inv.sum()
        return k, t, float(w[on].sum()), lambda: inv @ (a[~on] - y), float(dist[k])

    def near(y: Any, cap: float) -> tuple[Any, Any, Any, float]:
        dist = distances(y)
        inside = (dist > 0.0) & (dist <= cap)
        idx = np.flatnonzero(inside)
        idx = idx[np.argsort(dist[idx], kind="stable")]
        beyond = float(np.min(dist, where=dist > cap, initial=math.inf))
        return idx, dist[idx], w[idx], beyond

    def rest(y: Any, members: Any) -> tuple[Any, Any, float]:
        dist = distances(y)
        off = dist != 0.0
        off[members] = False
        inv = w[off] / dist[off]
        return (inv @ a[off]) / inv.sum(), inv @ (a[off] - y), float(inv.sum())

    def vertex(k: int) -> tuple[Any, float]:
        diff = a - a[k]
        dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        on = dist == 0.0
        pull = ((w[~on] / dist[~on])[:, None] * diff[~on]).sum(axis=0)
        return pull, float(w[on].sum())

    return step, vertex, near, rest


def _block_steps(cols: Any, w: Any, size: int) -> tuple[Any, Any, Any, Any]:
    """:func:`_whole_array_steps` on the columns ``cols`` (d, n), ``size`` points at a time
    (``w`` None: all weigh 1)."""
    import numpy as np

    n = cols.shape[1]
    size = max(1, size)
    starts = range(0, n, size)

    def weights_of(s: int) -> Any:
        return None if w is None else w[s : s + size]

    d = cols.shape[0]
    diff_buf, dist_buf = np.empty((d, min(size, n))), np.empty(min(size, n))

    def sums(centre: Any) -> Any:
        """Per block, its first index, its columns, their differences from ``centre``, their
        distances to it (the last two in buffers that the next block reuses), weights."""
        c = centre[:, None]
        for s in starts:
            block = cols[:, s : s + size]
            m = block.shape[1]
            diff = np.subtract(block, c, out=diff_buf[:, :m])
            dist = np.einsum("ij,ij->j", diff, diff, out=dist_buf[:m])
            yield s, block, diff, np.sqrt(dist, out=dist), weights_of(s)

    def step(y: Any) -> tuple[int, Any, float, Any, float]:
        k, best, eta, inv_sum = 0, math.inf, 0.0, 0.0
        towards = np.zeros(cols.shape[0])
        for s, block, _, dist, wb in sums(y):
            kb = int(dist.argmin())
            if dist[kb] < best:
                k, best = s + kb, float(dist[kb])
            if dist[kb] == 0.0:
                on = dist == 0.0
                off = ~on
                eta += float(on.sum()) if wb is None else float(wb[on].sum())
                inv = 1.0 / dist[off] if wb is None else wb[off] / dist[off]
                towards += block[:, off] @ inv
            else:
                inv = 1.0 / dist if wb is None else wb / dist
                towards += block @ inv
            inv_sum += float(inv.sum())

        def pull() -> Any:  # only where y is a data point: a second pass
            out = np.zeros(cols.shape[0])
            for _, _, diff, dist, wb in sums(y):
                off = dist != 0.0
                out += diff[:, off] @ ((1.0 if wb is None else wb[off]) / dist[off])
            return out

        return k, towards / inv_sum, eta, pull, best

    def near(y: Any, cap: float) -> tuple[Any, Any, Any, float]:
        found: list[Any] = []
        beyond = math.inf
        for s, _, _, dist, _ in sums(y):
            inside = np.flatnonzero((dist > 0.0) & (dist <= cap))
            found.append(inside + s)
            beyond = min(beyond, float(np.min(dist, where=dist > cap, initial=math.inf)))
        idx = np.concatenate(found)
        dist = distances_to(y, idx)
        order = np.argsort(dist, kind="stable")
        idx, dist = idx[order], dist[order]
        return idx, dist, np.ones(len(idx)) if w is None else w[idx], beyond

    def distances_to(y: Any, idx: Any) -> Any:
        diff = cols[:, idx] - y[:, None]
        return np.sqrt(np.einsum("ij,ij->j", diff, diff))

    def rest(y: Any, members: Any) -> tuple[Any, Any, float]:
        towards, pull, inv_sum = np.zeros(d), np.zeros(d), 0.0
        for s, block, diff, dist, wb in sums(y):
            off = dist != 0.0
            mine = members[(members >= s) & (members < s + block.shape[1])]
            off[mine - s] = False
            inv = 1.0 / dist[off] if wb is None else wb[off] / dist[off]
            towards += block[:, off] @ inv
            pull += diff[:, off] @ inv
            inv_sum += float(inv.sum())
        return towards / inv_sum, pull, inv_sum

    def vertex(k: int) -> tuple[Any, float]:
        pull = np.zeros(cols.shape[0])
        weight_on = 0.0
        for _, _, diff, dist, wb in sums(cols[:, k]):
            if float(dist.min()) == 0.0:
                on = dist == 0.0
                off = ~on
                weight_on += float(on.sum()) if wb is None else float(wb[on].sum())
                pull += diff[:, off] @ ((1.0 if wb is None else wb[off]) / dist[off])
            else:
                pull += diff @ (1.0 / dist if wb is None else wb / dist)
        return pull, weight_on

    return step, vertex, near, rest
