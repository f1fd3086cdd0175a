"""The problem interface: :class:`Option`, :class:`Reference`, :class:`Baseline`, :class:`Problem`.

A problem is a loss over a parameter vector ``x`` in R^dim, plus everything
needed to trust an answer: a closed-form gradient (checked against autograd and
finite differences), a reference solution by an exact or specialist method,
scipy baselines, an optimality certificate, the solver settings that make a
no-flag solve converge, and a drawing of itself for plots.

A subclass declares ``name``, ``description`` and ``options`` and implements
:meth:`Problem.setup` (build the data from ``self.settings``), :attr:`Problem.x0`
(or leaves the default), :meth:`Problem.loss`, :meth:`Problem.gradient` and
:meth:`Problem.compute_reference`. Everything else has a working default that a
subclass may refine (the median refines most of them).

What a problem says about an answer is declared, and the base class words it:

- options marked ``generator`` (:class:`Option`) are the generated data's settings:
  :meth:`Problem.data_summary` (one true line about the data) shows them for
  generated data, leaves them out for a file, and the constructor refuses them
  when given explicitly together with the file that replaces them;
- :attr:`Problem.component_names` (or the data's axis names) name the parameters
  for :meth:`Problem.components`, in the units the user asked in;
- :attr:`Problem.optimum_unique` / :meth:`Problem.uniqueness` say whether the
  minimiser is unique; every certificate gets ``unique`` and a one-line
  ``summary`` (:meth:`Problem.finish_certificate`), and names a data point by
  ``index`` and ``label`` where it tests one;
- :meth:`Problem.assess` judges a match relative to :attr:`Problem.extent` (and by
  the objective where the optimum is not unique);
- :attr:`Problem.reference_modules` are imported, and timed, apart from the
  reference's computation (``Reference.import_s`` and ``Reference.time_s``).

``dim`` is always the number of parameters; ``data_dim`` the dimension of the data's
points.

Units. ``x0``, ``loss(x)``, ``objective(x)``, ``gradient(x)``, ``certificate(x)``,
``reference()``, the result of ``solve()`` and ``components(x)`` are all in the user's
units: the data's own coordinates, as given (so ``minimize(p.loss, p.x0,
**p.solver_defaults())`` is the default solve in those units, and autograd, the closed
form and finite differences compare there). A problem may compute in other
coordinates inside: the built-in ones keep a unit copy of their data, centred and
divided by a power of two near its extent, and run their solver, reference and
certificate on it, mapping every answer back (:mod:`geograd.problems.scaling`), so that
data at 1e-320 or near 1e308 are solved as well as data at 1.

numpy, scipy and matplotlib are imported only inside the methods that need them,
so listing problems and building a CLI's ``--help`` never imports them.
"""

from __future__ import annotations

import abc
import builtins
import contextlib
import dataclasses
import difflib
import functools
import importlib
import math
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from geograd import Tensor, no_grad, value_and_grad
from geograd.errors import GeogradError, InputError
from geograd.solve import LOOP_KEYWORDS

from .data import extent as data_extent

# ------------------------------------------------------------------------------ options

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Option:
    """One option a problem takes, declared so that a CLI can make a flag from it.

    ``type`` is one of ``int``, ``float``, ``str``, ``bool``, ``pathlib.Path``.
    ``default`` may be ``None`` for "not given" (a ``Path`` option usually is).
    ``choices`` restricts a ``str`` option; ``min``/``max`` bound a number
    (inclusive, unless ``min_open``/``max_open``). ``help`` is one line.

    ``generator`` marks a setting of the generated data (a count, a seed, a
    distribution): it does not apply when the data come from a file. ``True``
    means "any of the problem's file (``Path``) options replaces it"; a tuple of
    option names lists the file options that do (registration's ``--angle``
    shapes the generated target, so only ``--target`` replaces it). The problem
    leaves such options out of :meth:`Problem.data_summary` and
    :meth:`Problem.to_dict` when a file replaces them, and refuses them when they
    are given explicitly together with that file.

    :meth:`parse` turns a user's value (a string from a command line, or a
    Python value) into the declared type and checks it, raising
    :class:`~geograd.errors.InputError` with one line naming the problem, the
    flag, the value and what is expected.
    """

    name: str
    type: builtins.type[Any]
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    metavar: str | None = None
    generator: bool | tuple[str, ...] = False

    @property
    def flag(self) -> str:
        """The command-line flag: ``--`` and the name with ``_`` as ``-``."""
        return "--" + self.name.replace("_", "-")

    @property
    def type_name(self) -> str:
        """``"int"``, ``"float"``, ``"str"``, ``"bool"`` or ``"path"``."""
        return "path" if self.type is Path else self.type.__name__

    def expected(self) -> str:
        """What a valid value looks like, in words ("an integer >= 1", "one of a, b")."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type is Path:
            return "a file path"
        words = _TYPE_NAMES.get(self.type, self.type.__name__)
        bounds = []
        if self.min is not None:
            bounds.append(f"{'>' if self.min_open else '>='} {_fmt(self.min)}")
        if self.max is not None:
            bounds.append(f"{'<' if self.max_open else '<='} {_fmt(self.max)}")
        return words + (" " + " and ".join(bounds) if bounds else "")

    def parse(self, value: Any, owner: str = "") -> Any:
        """``value`` converted to ``self.type`` and checked; ``None`` stays ``None``."""
        if value is None:
            return None
        where = f"{owner}: " if owner else ""

        def bad(reason: str = "") -> InputError:
            why = f" ({reason})" if reason else ""
            return InputError(f"{where}{self.flag} must be {self.expected()}, got {value!r}{why}")

        out: Any
        if self.type is bool:
            if isinstance(value, bool):
                out = value
            elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                out = value.strip().lower() in _TRUE
            else:
                raise bad()
        elif self.type is int:
            if isinstance(value, bool):
                raise bad()
            if isinstance(value, int):
                out = value
            elif isinstance(value, float) and value.is_integer():
                out = int(value)
            elif isinstance(value, str):
                try:
                    out = int(value.strip())
                except ValueError:
                    raise bad() from None
            else:
                raise bad()
        elif self.type is float:
            if isinstance(value, bool):
                raise bad()
            try:
                out = float(value)
            except (TypeError, ValueError):
                raise bad() from None
            if not math.isfinite(out):
                raise bad("it must be finite")
        elif self.type is Path:
            if not isinstance(value, (str, Path)) or not str(value).strip():
                raise bad()
            out = Path(value)
        elif self.type is str:
            if not isinstance(value, str):
                raise bad()
            out = value.strip()
        else:
            try:
                out = self.type(value)
            except (TypeError, ValueError):
                raise bad() from None
        if self.choices is not None and out not in self.choices:
            close = difflib.get_close_matches(str(out), self.choices, n=1)
            raise bad(f"did you mean {close[0]}?" if close else "")
        if self.type in (int, float):
            lo_bad = self.min is not None and (
                out < self.min or (self.min_open and out == self.min)
            )
            hi_bad = self.max is not None and (
                out > self.max or (self.max_open and out == self.max)
            )
            if lo_bad or hi_bad:
                raise bad()
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for ``geograd problems --json`` and docs)."""
        default = str(self.default) if isinstance(self.default, Path) else self.default
        return {
            "name": self.name,
            "flag": self.flag,
            "type": self.type_name,
            "default": default,
            "help": self.help,
            "choices": list(self.choices) if self.choices else None,
            "min": self.min,
            "max": self.max,
            "expected": self.expected(),
            "generator": list(self.generator)
            if isinstance(self.generator, tuple)
            else self.generator,
        }


def _fmt(v: float) -> str:
    """30.0 as 30, 0.1 as 0.1; a whole number of 17 digits or more as 1e+20 (str(int(1e308))
    would print 309 digits, 292 of them noise)."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)


def format_setting(v: Any) -> str:
    """An option's value as :meth:`Problem.data_summary` shows it (30.0 as 30)."""
    if isinstance(v, float) and math.isfinite(v):
        return _fmt(v)
    return str(v)


def certificate_summary(cert: dict[str, Any]) -> str:
    """The default one-line summary of a certificate: its kind and value, the point it
    tests and its verdict ("gradient norm 3.2e-09", "... at vertex B (index 1): optimal")."""
    kind = str(cert.get("kind", "certificate")).replace("_", " ")
    value = cert.get("value")
    text = f"{kind} {value:.2g}" if isinstance(value, (int, float)) else kind
    if cert.get("label"):
        text += f" at {cert['label']}"
    if cert.get("optimal") is True:
        text += ": optimal"
    elif cert.get("optimal") is False:
        text += ": not optimal"
    return text


# ------------------------------------------------------------- resources, interrupts


class ReferenceUnavailable(GeogradError):
    """A problem has no reference to give for these data (beyond a published table, not
    asked for, or its computation was interrupted). The message says why in one line and
    what would give one; the CLI reports it as the reference's absence, not as a failure."""


def available_memory() -> int | None:
    """Bytes of memory this process can still use, or None when it cannot be told.

    The kernel's estimate of memory available without swapping (``MemAvailable`` in
    /proc/meminfo, else free pages from ``os.sysconf``), lowered to what a cgroup (v2)
    limit leaves (``memory.max`` minus ``memory.current``), the container's own cap,
    and to what an address-space limit (``ulimit -v``) leaves of this process's size.
    """
    found: list[int] = []
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    try:
        cgroup = Path("/sys/fs/cgroup")
        limit = (cgroup / "memory.max").read_text().strip()
        if limit.isdigit():
            found.append(int(limit) - int((cgroup / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm", encoding="ascii") as fh:
                size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            found.append(soft - size)
    except (ImportError, AttributeError, OSError, ValueError, IndexError):
        pass
    return max(0, min(found)) if found else None


def format_bytes(n: float) -> str:
    """``n`` bytes in words: "512 B", "3.2 MB", "1.5 TB" (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 999.5 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000.0
    return f"{n:.3g} PB"  # pragma: no cover


def format_seconds(s: float) -> str:
    """A duration in words, to about two figures: "40 ms", "12 s", "7.5 min", "3.1 h",
    "240 days", "3e+04 years"."""

    def figures(v: float) -> str:
        return f"{v:.2g}" if v < 10 or v >= 1e4 else f"{v:.0f}"

    if s < 1.0:
        return f"{figures(1000 * s)} ms"
    for size, unit in ((86400.0 * 365, "years"), (86400.0, "days"), (3600.0, "h"), (60.0, "min")):
        if s >= size:
            return f"{figures(s / size)} {unit}"
    return f"{figures(s)} s"


def _count(n: float) -> str:
    return str(int(n)) if n < 1e6 else f"{n:.2g}"


#: Test hook (never set in normal use): ``GEOGRAD_TEST_HOLD="name:k"`` makes the k-th pass
#: of the solve's hold point ``name`` (see :func:`hold_point`) print ``geograd-hold: name k``
#: on stderr and wait there for a signal, so that a test interrupts at exactly that moment.
HOLD_ENV = "GEOGRAD_TEST_HOLD"
_HOLD_PASSES: dict[str, int] = {}


def hold_point(name: str) -> None:
    """A place in a solve where a test may hold the process for a signal (see :data:`HOLD_ENV`).

    Without the variable this is one dictionary look-up. With it, and at the pass it
    names, it announces itself on stderr and sleeps (at most 10 minutes) until a signal
    handler raises, so that the signal lands at exactly this point of the solve.
    """
    wanted = os.environ.get(HOLD_ENV)
    if not wanted:
        return
    point, _, at = wanted.partition(":")
    if point != name:
        return
    _HOLD_PASSES[name] = count = _HOLD_PASSES.get(name, 0) + 1
    if count != int(at or 1):
        return
    sys.stderr.write(f"geograd-hold: {name} {count}\n")
    sys.stderr.flush()
    deadline = time.monotonic() + 600.0
    while time.monotonic() < deadline:
        time.sleep(0.05)


def held(fun: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``fun``, with :func:`hold_point` ``name`` at each call while a test holds that point
    (``fun`` itself otherwise: no cost in normal use)."""
    if os.environ.get(HOLD_ENV, "").partition(":")[0] != name:
        return fun

    def holding(*args: Any, **kwargs: Any) -> Any:
        hold_point(name)
        return fun(*args, **kwargs)

    return holding


#: The solves in progress (in this thread of control), outermost first.
_ACTIVE_WATCHES: list[_SolveWatch] = []


class _SolveWatch:
    """What :meth:`Problem.solve` knows of a solve in progress, to keep it on an interrupt.

    Its :meth:`callback` is the one minimize calls after each step (through the
    problem's hook, which reports ``x`` in the problem's parameter space): it keeps
    the lowest-loss iterate of the current stage, the best of each finished stage
    (losses of different stages, e.g. temperatures, are not comparable) and the last
    one, counts the steps and runs, calls the caller's own callback, and asks minimize
    to stop once a signal arrived (so that a hook that goes on to another stage or
    start after an interrupted run stops at its first step).
    """

    def __init__(self, user: Callable[[Any], Any] | None, start: Any) -> None:
        self.user = user
        self.start = start  # the starting point as given (list, Tensor snapshot) or None
        self.started = time.perf_counter()
        self.steps = 0  # steps seen, over all stages and starts
        self.runs = 0  # minimize runs seen (a step number that does not follow the last)
        self.stage_bests: list[tuple[int, Any]] = []
        self.best: tuple[int, Any] | None = None
        self.last: tuple[int, Any] | None = None
        self.signalled = False
        # Only the outermost solve holds (a problem that solves a rescaled copy of itself
        # runs one solve inside another: each step and each end would count twice).
        self.outer = not _ACTIVE_WATCHES
        self.hold_steps = self.outer and os.environ.get(HOLD_ENV, "").partition(":")[0] == "step"

    def callback(self, progress: Any) -> bool:
        self.steps += 1
        if self.last is None or progress.step != self.last[1].step + 1:
            self.runs += 1
        self.last = (self.steps, progress)
        if math.isfinite(progress.loss) and (
            self.best is None or progress.loss < self.best[1].loss
        ):
            self.best = self.last
        if self.hold_steps:
            hold_point("step")
        stop = self.user(progress) if self.user is not None else None
        return bool(stop) or self.signalled

    def new_stage(self) -> None:
        if self.best is not None:
            self.stage_bests.append(self.best)
        self.best = None

    @contextlib.contextmanager
    def noting_signals(self) -> Iterator[None]:
        """While the block runs (in the main thread), SIGINT and SIGTERM are noted before
        their Python handlers run (which raise KeyboardInterrupt, or the CLI's
        ``Terminated``); handlers that are not Python functions are left alone."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        saved: dict[int, Any] = {}
        for name in ("SIGINT", "SIGTERM"):
            signum = getattr(signal, name, None)
            old = signal.getsignal(signum) if signum is not None else None
            if signum is None or not callable(old):
                continue

            def noting(num: int, frame: Any, old: Callable[[int, Any], Any] = old) -> Any:
                self.signalled = True
                return old(num, frame)

            saved[signum] = old
            signal.signal(signum, noting)
        try:
            yield
        finally:
            for signum, old in saved.items():
                signal.signal(signum, old)


# --------------------------------------------------------------------------- results


@dataclass
class Reference:
    """An exact or specialist solution: the point, its objective value, how it was found.

    ``details`` holds method-specific facts (iterations, tolerance, whether it
    converged, a certificate, ...), JSON-ready. ``time_s`` is the seconds spent
    computing it and ``import_s`` the seconds spent first importing the libraries
    it needs (numpy, scipy); :meth:`Problem.reference` measures both, apart, when
    it computes (``time_s`` is None for a Reference built by hand).
    """

    x: list[float]
    loss: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)
    time_s: float | None = None
    import_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(_jsonable(asdict(self)))


@dataclass
class Baseline:
    """One scipy.optimize.minimize run: where it ended, at what cost, and whether scipy
    reported success (``message`` is scipy's own)."""

    method: str
    x: list[float]
    loss: float
    iterations: int
    evaluations: int
    time_s: float
    success: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return dict(_jsonable(asdict(self)))


def _jsonable(value: Any) -> Any:
    """Plain Python values for JSON: Paths as strings, numpy scalars as floats, NaN kept."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if hasattr(value, "__float__"):
        return float(value)
    return str(value)


@dataclass(frozen=True)
class Component:
    """How one parameter is reported: its ``name``, its ``unit`` (None: the data's own
    units, or none) and the ``factor`` that turns the parameter into the reported value
    (``180/π`` for an angle kept in radians and reported in degrees)."""

    name: str
    unit: str | None = None
    factor: float = 1.0


# scipy.optimize.minimize methods, and those that take a gradient (jac).
SCIPY_METHODS = (
    "BFGS",
    "L-BFGS-B",
    "CG",
    "Nelder-Mead",
    "Powell",
    "TNC",
    "SLSQP",
    "Newton-CG",
    "COBYLA",
    "trust-constr",
)
_GRADIENT_METHODS = {"BFGS", "L-BFGS-B", "CG", "TNC", "SLSQP", "Newton-CG", "trust-constr"}
DEFAULT_BASELINES = ("BFGS", "L-BFGS-B", "CG", "Nelder-Mead")


# -------------------------------------------------------------------------- backends

#: The array backends a problem's data can be built in (``backend=``, ``--backend``):
#: ``python`` (the standard library's FloatArray), ``numpy`` (numpy >= 2 arrays),
#: ``dask`` (chunked dask arrays, computed on a dask.distributed cluster when a client is
#: active, else by dask's threads; only for a problem that declares ``chunked = True``), and
#: ``auto``: numpy when it is installed and a data column has at least
#: :data:`AUTO_NUMPY_MIN` items (where it wins), else python. ``auto`` never picks dask.
BACKENDS = ("python", "numpy", "dask", "auto")
#: The crossover of ``auto``. Measured on the project's machine: one loss + gradient of the
#: median (``geograd bench --methods engine,engine-numpy``) is as fast on numpy as on the
#: stdlib engine at about 350-400 points (0.23 ms each; 0.70x at 1000, 0.14x at 10^5),
#: but a whole ``geograd solve median`` (wall time, best of 3) breaks even only at about
#: 10,000 points (0.33 s each; numpy 7 % slower at 1000 and 3000, 9 % faster at 30,000):
#: importing numpy and converting the data cost more than ~20 cheaper evaluations save.
AUTO_NUMPY_MIN = 10_000


def numpy_backend_problem() -> str | None:
    """Why the numpy backend cannot run here (not installed, older than 2), or None."""
    try:
        import numpy
    except ImportError:
        return "numpy is not installed (pip install 'numpy>=2')"
    major = numpy.__version__.split(".", 1)[0]
    if not major.isdigit() or int(major) < 2:
        return f"numpy {numpy.__version__} is installed; the numpy backend needs numpy >= 2"
    return None


def dask_backend_problem() -> str | None:
    """Why the dask backend cannot run here (dask, its array module or array-api-compat
    missing), or None."""
    import importlib.util

    for module, extra in (("dask", "dask"), ("array_api_compat", "array-api-compat")):
        if importlib.util.find_spec(module) is None:
            return f"{extra} is not installed (pip install 'geograd[dask]')"
    try:
        import dask.array  # noqa: F401  (needs numpy and toolz, which dask alone lacks)
    except ImportError as exc:
        return f"dask.array cannot be imported ({exc}); pip install 'geograd[dask]'"
    return numpy_backend_problem()


def choose_backend(request: str, items: float | None) -> str:
    """The backend data of ``items`` items per column are built in, for a ``request`` of
    :data:`BACKENDS`: ``python``, ``numpy`` and ``dask`` as asked (an input error when
    that library cannot run), ``auto`` numpy from :data:`AUTO_NUMPY_MIN` items where numpy
    can run."""
    if request == "python":
        return "python"
    if request == "dask":
        why = dask_backend_problem()
        if why is not None:
            raise InputError(f"--backend dask: {why}; or use --backend numpy")
        return "dask"
    if request == "numpy":
        why = numpy_backend_problem()
        if why is not None:
            raise InputError(f"--backend numpy: {why}; or use --backend python")
        return "numpy"
    if items is None or items < AUTO_NUMPY_MIN:
        return "python"
    return "python" if numpy_backend_problem() is not None else "numpy"


# --------------------------------------------------------------------------- problem


class Problem(abc.ABC):
    """A geometric problem: minimise ``loss(x)`` over ``x`` in R^dim.

    Build one with ``Problem(**options)`` (or ``geograd.problems.get_problem``):
    every option is checked by its :class:`Option` declaration; ``None`` means
    "the default"; an unknown option name is an input error. ``x0=[...]`` sets
    the initial point (checked for dimension and finiteness); without it the
    problem chooses one. ``backend=`` ``"python"``, ``"numpy"`` or ``"auto"`` (the
    default; :func:`choose_backend`) chooses the array backend the data are built in:
    a subclass's setup makes every constant Tensor of its data by :meth:`as_data`,
    never by ``Tensor(...)`` itself, reads its files by :meth:`load_points` (a ``.npy``
    file straight into numpy on that backend), and, where it makes its data in the
    backend itself (numpy draws), asks :meth:`decide_backend` first, so the choice is
    made once, here. Results are plain floats whichever backend ran.
    """

    #: The registry name, e.g. ``"median"``.
    name: ClassVar[str] = ""
    #: One line for ``geograd problems``.
    description: ClassVar[str] = ""
    #: The options the problem takes, in the order a CLI shows them.
    options: ClassVar[tuple[Option, ...]] = ()

    #: Number of data items (points, charges, ...); set by :meth:`setup`.
    n: int = 0
    #: What the ``n`` data items are, in the plural, for :meth:`data_summary` and messages.
    data_items: ClassVar[str] = "points"

    #: How to report the parameters (:meth:`components`): one name or :class:`Component`
    #: per parameter. Empty: the data's axis names (a ``names`` attribute, as a file's
    #: header gives them) when x is a point of the data's space, else x1..xd.
    component_names: ClassVar[tuple[str | Component, ...]] = ()

    #: Whether the minimiser is unique (None: unknown), and why, when the data do not
    #: change the answer; :meth:`uniqueness` decides from the data where they do.
    optimum_unique: ClassVar[bool | None] = None
    optimum_note: ClassVar[str] = "no argument for a unique minimiser is known"

    #: Modules :meth:`reference` imports (and times apart) before computing.
    reference_modules: ClassVar[tuple[str, ...]] = ()

    #: :meth:`assess` calls a solution within ``match_rtol`` times :attr:`extent` of the
    #: reference a match (see there for non-unique optima).
    match_rtol: ClassVar[float] = 1e-6

    #: Data given in code (see :meth:`_from_given`) instead of generated or loaded; a
    #: subclass's :meth:`setup` installs it when it is set.
    _given: Any = None

    #: About how many bytes one data item needs while the problem is built and solved
    #: (its numbers in lists and engine arrays, its share of the graph of a loss
    #: evaluation and of the solve's bookkeeping), measured on this implementation with
    #: a margin. The constructor refuses, before :meth:`setup` makes any data, a request
    #: whose :meth:`planned_memory` exceeds the memory available (:meth:`check_request`).
    #: None: not declared, no check.
    bytes_per_item: ClassVar[float | None] = None
    #: The same on the numpy backend, where a problem that keeps its data in arrays needs
    #: far less (8 bytes a number, and temporaries); None: as :attr:`bytes_per_item`.
    bytes_per_item_numpy: ClassVar[float | None] = None
    #: The options whose product is the number of data items a request asks for
    #: (:meth:`planned_items`): the count, times the dimension where each item is a
    #: coordinate. Options not declared by the problem are left out.
    size_options: ClassVar[tuple[str, ...]] = ("n",)
    #: What :attr:`bytes_per_item` counts, in the plural, for messages (default:
    #: :attr:`data_items`).
    size_unit: ClassVar[str] = ""

    #: Where long work (a slow reference, ...) reports its progress: called as
    #: ``on_work(what, done, total)`` (``total`` None when unknown) every so often.
    #: None (the default): silently. The CLI sets it to show a bar or a line.
    on_work: Callable[[str, float, float | None], None] | None = None

    _watch: _SolveWatch | None = None
    _reference_interrupted: float | None = None

    #: True for a problem whose data can stay chunked on a dask cluster (``--backend
    #: dask``): its loss is a sum over many points, and every pass it makes over them
    #: (objective, gradient, certificate, reference) is a map over chunks and a reduction.
    chunked: ClassVar[bool] = False
    #: Points per chunk on the dask backend (the constructor's ``chunk_size``; None: the
    #: readers' default, :data:`geograd.problems.sources.DEFAULT_CHUNK`).
    chunk_size: int | None = None

    #: The array backend asked for (one of :data:`BACKENDS`; the constructor's ``backend``).
    backend_request: str = "auto"
    #: The backend the data were built in, once decided (:meth:`as_data`).
    _backend: str | None = None

    def __init__(
        self, x0: Sequence[float] | str | None = None, *, backend: str | None = None,
        chunk_size: int | None = None, **options: Any,
    ) -> None:  # fmt: skip
        self.backend_request = self.parse_backend(backend)
        self.chunk_size = self.parse_chunk_size(chunk_size)
        self._backend = None
        self.settings: dict[str, Any] = self.parse_options(options)
        #: The options given explicitly (not None), as opposed to left at their defaults.
        self.given_options: frozenset[str] = frozenset(
            k for k, v in options.items() if v is not None
        )
        self._reference: Reference | None = None
        self._x0_given: list[float] | None = None
        if self._given is None and not self.replaced_options().keys() & set(self.size_options):
            self.check_request(self.sized(self.settings))
        self.setup()
        self._refuse_replaced_options()
        self._x0_given = None if x0 is None else self.check_point(x0, "x0")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every certificate, the subclass's own included, gets its "summary" line and its
        # "unique" verdict from the base class (see finish_certificate).
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("certificate")
        if own is not None and not getattr(own, "_finished", False):

            @functools.wraps(own)
            def certificate(self: Problem, *args: Any, **kw: Any) -> dict[str, Any]:
                return self.finish_certificate(own(self, *args, **kw))

            certificate._finished = True  # type: ignore[attr-defined]
            cls.certificate = certificate  # type: ignore[method-assign]
        # A subclass that overrides solve() itself, or inherits it from a mixin (a plugin
        # written before the _solve hook, a wrapper that solves a rescaled copy) still
        # gets solve()'s interrupt handling: its solve becomes the guarded body.
        own_solve = cls.solve
        if own_solve is not Problem.solve and not getattr(own_solve, "_guarded", False):

            @functools.wraps(own_solve)
            def solve(self: Problem, optimizer: Any = None, **overrides: Any) -> Any:
                return self._guarded_solve(
                    lambda opt, **kw: own_solve(self, opt, **kw), optimizer, overrides
                )

            solve._guarded = True  # type: ignore[attr-defined]
            cls.solve = solve  # type: ignore[method-assign]

    @classmethod
    def _from_given(
        cls: type[P], given: Any, x0: Sequence[float] | None = None, **options: Any
    ) -> P:
        """An instance over data given in code (the body of a subclass's ``from_points``):
        ``given`` is set as ``_given`` before :meth:`setup` runs, so that setup installs it
        instead of generating or loading data; ``x0`` and ``options`` as for the constructor."""
        self = cls.__new__(cls)
        self._given = given
        Problem.__init__(self, x0=x0, **options)
        return self

    # ---------------------------------------------------------------- options

    @classmethod
    def option(cls, name: str) -> Option:
        """The declaration of option ``name``."""
        for opt in cls.options:
            if opt.name == name:
                return opt
        raise KeyError(name)

    @classmethod
    def replacing_files(cls, opt: Option) -> tuple[str, ...]:
        """The file options that replace generator option ``opt`` (none for other options)."""
        if opt.generator is True:
            return tuple(o.name for o in cls.options if o.type is Path)
        return tuple(opt.generator) if opt.generator else ()

    def replaced_options(self) -> dict[str, str]:
        """Generator options that do not apply to these data, each with the file option
        that replaces it (``{"n": "points", ...}`` for a median read from a file)."""
        out: dict[str, str] = {}
        if self._given is not None:
            return out
        for opt in self.options:
            for name in self.replacing_files(opt):
                if self.settings.get(name) is not None:
                    out[opt.name] = name
                    break
        return out

    def _refuse_replaced_options(self) -> None:
        """An input error for generator options given explicitly together with the file
        that replaces them (they would be silently ignored)."""
        clash = {k: v for k, v in self.replaced_options().items() if k in self.given_options}
        if not clash:
            return
        by_file: dict[str, list[str]] = {}
        for name, file_opt in clash.items():
            by_file.setdefault(file_opt, []).append(self.option(name).flag)
        file_opt, flags = next(iter(by_file.items()))
        one = len(flags) == 1
        listed = flags[0] if one else ", ".join(flags[:-1]) + " and " + flags[-1]
        raise InputError(
            f"{self.name}: {listed} appl{'ies' if one else 'y'} to generated {self.data_items}; "
            f"{'it' if one else 'they'} cannot be used with {self.option(file_opt).flag} "
            f"{self.settings[file_opt]} (the file has {self.n} {self.data_items})"
        )

    @classmethod
    def parse_options(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Every declared option's value: ``given`` (checked and converted) or its default."""
        known = {opt.name: opt for opt in cls.options}
        for key in given:
            if key not in known:
                names = ", ".join(known) or "none"
                close = difflib.get_close_matches(key, list(known), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise InputError(
                    f"{cls.name}: unknown option {key!r}{hint} (its options are: {names})"
                )
        out: dict[str, Any] = {}
        for name, opt in known.items():
            value = given.get(name)
            out[name] = opt.default if value is None else opt.parse(value, cls.name)
        return out

    # --------------------------------------------------------------- resources

    @classmethod
    def planned_items(cls, settings: dict[str, Any]) -> float | None:
        """How many data items ``settings`` ask for, before any is made: the product of the
        :attr:`size_options` the problem declares (None when it declares none of them)."""
        names = [o.name for o in cls.options if o.name in cls.size_options]
        values = [settings.get(name) for name in names]
        numbers = [float(v) for v in values if isinstance(v, (int, float))]
        if not names or len(numbers) != len(values):
            return None
        return math.prod(numbers)

    @classmethod
    def item_bytes(cls, settings: dict[str, Any]) -> float | None:
        """:attr:`bytes_per_item` for the backend ``settings["backend"]`` names (see
        :meth:`sized`): :attr:`bytes_per_item_numpy` on numpy where it is declared."""
        # dask: generated points are drawn on the client by numpy before they go to the
        # cluster, so the numpy figure holds there too; files are read by the workers.
        numpy_like = settings.get("backend") in ("numpy", "dask")
        if numpy_like and cls.bytes_per_item_numpy is not None:
            return cls.bytes_per_item_numpy
        return cls.bytes_per_item

    @classmethod
    def planned_memory(cls, settings: dict[str, Any]) -> float | None:
        """The bytes ``settings`` would need: :meth:`item_bytes` times
        :meth:`planned_items` (None when either is unknown). A problem whose memory is not
        linear in its items (Thomson's pairs) overrides :meth:`planned_items` or this."""
        items = cls.planned_items(settings)
        per = cls.item_bytes(settings)
        if per is None or items is None:
            return None
        return per * items

    def sized(self, settings: dict[str, Any]) -> dict[str, Any]:
        """``settings`` with the key ``"backend"``: the backend data of that size would be
        built in (the one decided, else what ``backend_request`` decides for ``n`` items
        a column), for :meth:`check_request` (no option is named ``backend``). Left out
        for a problem whose figure does not depend on it (nor is numpy imported then)."""
        if self.bytes_per_item_numpy is None:
            return settings
        backend = self._backend
        if backend is None:
            n = settings.get("n")
            rows = float(n) if isinstance(n, (int, float)) else self.planned_items(settings)
            try:
                backend = choose_backend(self.backend_request, rows)
            except InputError:
                backend = "python"  # numpy asked but absent: refused where the data are made
        return {**settings, "backend": backend}

    @classmethod
    def check_request(cls, settings: dict[str, Any]) -> None:
        """Refuse, with one line, data that would need more memory than there is.

        Run by the constructor before :meth:`setup` makes any data (and by a setup that
        has just learnt its size from a file): an input error saying how much the
        request would need and how much is available, instead of a process that grows
        until it is killed.
        """
        need = cls.planned_memory(settings)
        have = available_memory()
        if need is None or have is None or need <= have:
            return
        asked = [
            f"{o.flag} {format_setting(settings[o.name])}"
            for o in cls.options
            if o.name in cls.size_options and settings.get(o.name) is not None
        ]
        items = cls.planned_items(settings) or 0.0
        unit = cls.size_unit or cls.data_items
        per = f"{_count(items)} {unit}"
        each = cls.item_bytes(settings)
        if each is not None and need == each * items:
            per += f" at about {format_bytes(each)} each"
            if cls.bytes_per_item_numpy is not None and settings.get("backend") in BACKENDS:
                per += f" on the {settings['backend']} backend"  # the figure depends on it
        fits = cls._largest_fitting(settings, have)
        raise InputError(
            f"{cls.name}: {' '.join(asked) or 'these data'} would need about "
            f"{format_bytes(need)} of memory ({per}), but only {format_bytes(have)} is "
            f"available; {fits or 'ask for fewer'}"
        )

    @classmethod
    def _largest_fitting(cls, settings: dict[str, Any], have: float) -> str:
        """What fits, as "at most about --n K fits": the largest value of a size option (the
        first one for which one fits, the others as asked) whose :meth:`planned_memory`
        is within ``have``; "" if none."""
        for opt in cls.options:
            value = settings.get(opt.name)
            if opt.name not in cls.size_options or not isinstance(value, int):
                continue
            low = int(opt.min) if opt.min is not None else 1
            high = value
            need = cls.planned_memory({**settings, opt.name: low})
            if need is None or need > have or low >= high:
                continue
            while high - low > 1:  # planned_memory(low) fits, planned_memory(high) does not
                mid = (low + high) // 2
                need = cls.planned_memory({**settings, opt.name: mid})
                if need is not None and need <= have:
                    low = mid
                else:
                    high = mid
            return f"at most about {opt.flag} {low} fits"
        return ""

    #: ``geograd check`` refuses a request of more loss evaluations than this (one check
    #: point costs 2 dim + 4: autograd, the closed form, central differences), and of more
    #: than :data:`MAX_CHECK_SECONDS` by the measured time of one evaluation.
    MAX_CHECK_EVALUATIONS: ClassVar[int] = 10**8
    MAX_CHECK_SECONDS: ClassVar[float] = 3600.0

    def check_workload(self, count: int, flag: str = "--count") -> dict[str, Any]:
        """Refuse a gradient check of ``count`` points that would not end, or not fit.

        A point costs about ``2 dim + 4`` loss evaluations (autograd's forward and
        backward, the closed form, and two per coordinate for central differences) and
        keeps about ``5 dim`` floats (the point and three gradients). An input error, in
        one line, when the evaluations exceed :data:`MAX_CHECK_EVALUATIONS`, when they
        would take more than :data:`MAX_CHECK_SECONDS` at the time one evaluation takes
        here (measured once, at :attr:`x0`), or when the points' memory exceeds what is
        available. Returns the estimate (``evaluations``, ``seconds``, ``bytes``).
        """
        per_point = 2 * self.dim + 4
        evaluations = float(count) * per_point
        memory = float(count) * (5 * self.dim * 32 + 400)
        asked = f"{self.name}: {flag} {count}"
        if evaluations > self.MAX_CHECK_EVALUATIONS:
            most = max(1, self.MAX_CHECK_EVALUATIONS // per_point)
            raise InputError(
                f"{asked} would take about {_count(evaluations)} loss evaluations "
                f"({per_point} per point), more than the {_count(self.MAX_CHECK_EVALUATIONS)} "
                f"a check may run; give {flag} {most} or less"
            )
        have = available_memory()
        if have is not None and memory > have:
            raise InputError(
                f"{asked} would need about {format_bytes(memory)} of memory for its points, "
                f"but only {format_bytes(have)} is available; give a smaller {flag}"
            )
        each = self._evaluation_seconds()
        seconds = evaluations * each
        if seconds > self.MAX_CHECK_SECONDS:
            most = max(1, int(self.MAX_CHECK_SECONDS / (each * per_point)))
            raise InputError(
                f"{asked} would take about {_count(evaluations)} loss evaluations "
                f"({per_point} per point), about {format_seconds(seconds)} at "
                f"{format_seconds(each)} each, more than the "
                f"{format_seconds(self.MAX_CHECK_SECONDS)} a check may take; give {flag} "
                f"{most} or less"
            )
        return {"evaluations": evaluations, "seconds": seconds, "bytes": memory}

    #: Restarts beyond this many are timed before they start (:meth:`check_restarts`);
    #: each start takes at least :data:`MIN_EVALUATIONS_PER_START` loss evaluations.
    UNTIMED_RESTARTS: ClassVar[int] = 1000
    MIN_EVALUATIONS_PER_START: ClassVar[int] = 10

    def check_restarts(self, count: int) -> float:
        """Refuse ``count`` restarts that would run for hours, before the first starts.

        A start takes at least :data:`MIN_EVALUATIONS_PER_START` loss evaluations (its
        loss, a gradient, a few steps; most take hundreds), timed once at :attr:`x0`: an
        input error, in one line, when that lower bound exceeds
        :data:`MAX_CHECK_SECONDS`. Returns the bound, in seconds. (A run that is asked
        for and then takes long shows progress, and Ctrl-C keeps its best start.)
        """
        each = self._evaluation_seconds()
        seconds = float(count) * self.MIN_EVALUATIONS_PER_START * each
        if seconds > self.MAX_CHECK_SECONDS:
            most = max(1, int(self.MAX_CHECK_SECONDS / (each * self.MIN_EVALUATIONS_PER_START)))
            raise InputError(
                f"{self.name}: --restarts {count:,} would take at least "
                f"{format_seconds(seconds)} ({self.MIN_EVALUATIONS_PER_START} loss "
                f"evaluations a start at {format_seconds(each)} each), more than the "
                f"{format_seconds(self.MAX_CHECK_SECONDS)} a solve may be asked for; give "
                f"--restarts {most:,} or less"
            )
        return seconds

    def _evaluation_seconds(self) -> float:
        """How long one objective evaluation takes here, timed once at :attr:`x0` (at least
        1e-7 s, so that an estimate never rests on a clock's zero)."""
        t0 = time.perf_counter()
        self.objective(self.x0)
        return max(time.perf_counter() - t0, 1e-7)

    def report_work(self, what: str, done: float, total: float | None = None) -> None:
        """Tell :attr:`on_work` (if set) how far long work has got: ``done`` of ``total``."""
        if self.on_work is not None:
            self.on_work(what, done, total)

    # -------------------------------------------------------------- array backend

    @classmethod
    def parse_backend(cls, backend: str | None) -> str:
        """``backend`` checked: one of :data:`BACKENDS` (None: ``auto``), else an input error."""
        if backend is None:
            return "auto"
        value = str(backend).strip().lower()
        if value not in BACKENDS:
            close = difflib.get_close_matches(value, BACKENDS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise InputError(
                f"{cls.name}: --backend must be one of {', '.join(BACKENDS)}, got {backend!r}{hint}"
            )
        if value == "dask" and not cls.chunked:
            raise InputError(
                f"{cls.name}: --backend dask is for problems whose loss is a sum over many "
                f"points (median); {cls.name} runs on python or numpy"
            )
        return value

    @classmethod
    def parse_chunk_size(cls, chunk_size: Any) -> int | None:
        """``chunk_size`` checked: None, or a whole number of points >= 1."""
        if chunk_size is None:
            return None
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise InputError(
                f"{cls.name}: --chunk-size must be a whole number of points >= 1, "
                f"got {chunk_size!r}"
            )
        return chunk_size

    @property
    def backend(self) -> str:
        """The array backend the problem's data are built in: ``python`` or ``numpy``.

        Decided once, by :meth:`as_data` when the data's first column is made (``auto``
        decides by its length, :func:`choose_backend`); asked before that, by :attr:`n`.
        """
        if self._backend is None:
            self._backend = choose_backend(self.backend_request, self.n)
        return self._backend

    def decide_backend(self, items: float | None) -> str:
        """The problem's backend, decided now (once) for data of ``items`` items a column
        when it is not decided yet (:func:`choose_backend`): the first step of a setup
        that makes its data in the backend itself (generated points drawn straight into
        numpy, say), before any of them exist."""
        if self._backend is None:
            self._backend = choose_backend(self.backend_request, items)
        return self._backend

    def load_points(self, path: str | Path, **kwargs: Any) -> Any:
        """:func:`~geograd.problems.data.load_points` in the problem's backend: a ``.npy``
        file is read straight into a numpy array (``PointSet.is_array``, no Python float
        per number) when the backend is, or becomes for this many points, numpy; text
        files, and every file on the python backend, as lists. Decides the backend
        (:meth:`decide_backend`) by the number of points read."""
        from .data import load_points

        npy = Path(path).suffix.lower() == ".npy"
        arrays = npy and (self._backend or self.backend_request) != "python"
        points = load_points(path, as_array=arrays, **kwargs)
        if self.decide_backend(points.n) != "numpy":
            points = points.as_lists()
        return points

    def as_data(self, values: Any) -> Tensor:
        """A constant Tensor of the 1-D data ``values`` (a sequence of floats, or an array)
        in the problem's backend (:attr:`backend`): the one place where a problem's data
        become engine data. numpy: a float64 array (the engine's own copy, except of a
        read-only float64 array, which cannot change under it and is held as it is);
        python: the standard library's array (an array is converted by its ``tolist``);
        dask: the dask array as it is (checked when it was read, :mod:`.sources`)."""
        if self._backend is None:
            self._backend = choose_backend(self.backend_request, _length(values))
        if self._backend == "dask":
            return Tensor.from_data(values)
        if self._backend == "numpy":
            import numpy as np

            arr = np.asarray(values, dtype=np.float64)
            if arr is values and arr.ndim == 1 and not arr.flags.writeable:
                # Read-only float64 data (a problem's own, frozen): the engine may hold it
                # as it is, without the copy Tensor() makes; a NaN still refused (a finite
                # sum rules one out in one pass).
                with np.errstate(all="ignore"):
                    clean = bool(np.isfinite(arr.sum())) or not bool(np.isnan(arr).any())
                if clean:
                    return Tensor.from_data(arr)
            return Tensor(arr)
        if hasattr(values, "tolist") and not isinstance(values, Tensor):
            values = values.tolist()
        return Tensor([float(v) for v in values] if not isinstance(values, list) else values)

    # ------------------------------------------------------------ to implement

    @abc.abstractmethod
    def setup(self) -> None:
        """Build the problem's data from ``self.settings`` (generate or load it)."""

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """The number of parameters (the length of ``x``)."""

    @property
    def x0(self) -> list[float]:
        """The initial point: the one given to the constructor, else the problem's choice."""
        if self._x0_given is not None:
            return list(self._x0_given)
        return self.default_x0()

    def default_x0(self) -> list[float]:
        """The problem's own initial point (the origin unless a subclass knows better)."""
        return [0.0] * self.dim

    @abc.abstractmethod
    def loss(self, x: Tensor) -> Tensor:
        """The objective as a 0-D Tensor, built from geograd operations on ``x`` (1-D)."""

    @abc.abstractmethod
    def gradient(self, x: Sequence[float]) -> list[float]:
        """The closed-form gradient of the objective at ``x``, in plain floats."""

    @abc.abstractmethod
    def compute_reference(self) -> Reference:
        """The exact or specialist solution (uncached; :meth:`reference` caches it)."""

    # ---------------------------------------------------------------- defaults

    def objective(self, x: Sequence[float]) -> float:
        """The objective at ``x`` as a float (the loss evaluated without a graph)."""
        with no_grad():
            return float(self.loss(Tensor([float(v) for v in x])).item())

    def autograd_gradient(self, x: Sequence[float]) -> list[float]:
        """The gradient of :meth:`loss` at ``x`` by geograd's reverse mode."""
        _, g = value_and_grad(self.loss)(Tensor([float(v) for v in x]))
        out: list[float] = g.tolist()
        return out

    def reference(self, *, retry: bool = False) -> Reference:
        """The reference solution, computed once and cached.

        When it computes, it first imports :attr:`reference_modules` (timed apart, as
        ``Reference.import_s``), then times :meth:`compute_reference` alone
        (``Reference.time_s``): the cost of the computation, not of loading scipy.

        A computation that Ctrl-C (KeyboardInterrupt) stopped is remembered: the
        interrupt propagates (a reference never swallows it), and later calls raise
        :class:`ReferenceUnavailable` at once instead of starting it all over again
        after the user asked to stop, unless ``retry=True``.
        """
        if self._reference is None:
            if self._reference_interrupted is not None and not retry:
                raise ReferenceUnavailable(
                    f"{self.name}: the reference was not computed: its computation was "
                    f"interrupted after {format_seconds(self._reference_interrupted)} "
                    "(call reference(retry=True) to start it again)"
                )
            t0 = time.perf_counter()
            try:
                for module in self.reference_modules:
                    importlib.import_module(module)
                t1 = time.perf_counter()
                ref = self.compute_reference()
            except KeyboardInterrupt:
                self._reference_interrupted = time.perf_counter() - t0
                raise
            ref.time_s = time.perf_counter() - t1
            ref.import_s = t1 - t0
            self._reference = ref
            self._reference_interrupted = None
        return self._reference

    @property
    def reference_cached(self) -> bool:
        """True when :meth:`reference` has already computed the reference (a problem may
        compute it early: Thomson's solve aligns its answer onto it), so that a call now
        returns at once and ``Reference.time_s`` is the time it took back then."""
        return self._reference is not None

    def certificate(self, x: Sequence[float]) -> dict[str, Any]:
        """How close ``x`` is to optimal: by default the gradient norm.

        Keys: ``value`` (a stationarity measure, 0 at an optimum), ``kind`` (what
        ``value`` is), ``optimal`` (True/False when the test is exact, None when
        ``value`` is only a measure), ``unique`` (whether the minimiser is unique:
        True/False, None when unknown; ``uniqueness`` says why) and ``summary`` (one
        line saying what the certificate says). A certificate that names a data point
        also has ``index`` (0-based) and ``label`` (the point as the plots label it).
        Subclasses return their own dict; the base class adds ``unique``,
        ``uniqueness`` and ``summary`` where they are missing
        (:meth:`finish_certificate`).
        """
        g = self.gradient(x)
        return self.finish_certificate(
            {"value": math.hypot(*g), "kind": "gradient_norm", "optimal": None}
        )

    def finish_certificate(self, cert: dict[str, Any]) -> dict[str, Any]:
        """``cert`` with ``unique`` and ``uniqueness`` (from :meth:`uniqueness`) and a
        ``summary`` (the kind, value, point and verdict) where it has none."""
        if "unique" not in cert:
            unique, why = self.uniqueness()
            cert["unique"] = unique
            cert.setdefault("uniqueness", why)
        if not cert.get("summary"):
            cert["summary"] = certificate_summary(cert)
        return cert

    def uniqueness(self) -> tuple[bool | None, str]:
        """(whether the minimiser is unique, why): True, False or None (unknown), and a
        phrase. By default the class's :attr:`optimum_unique` and :attr:`optimum_note`;
        problems whose answer depends on the data decide from them."""
        return self.optimum_unique, self.optimum_note

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """Keyword arguments for :func:`geograd.minimize` that make a no-flag solve converge.

        ``optimizer`` asks for settings tuned for that optimizer (its learning rate,
        schedule, step budget); ``None`` gives the problem's default optimizer.
        ``max_steps`` asks for a different step budget (a schedule is stretched to
        it). The dict is flat: ``optimizer`` (a registry name), the loop options
        (``max_steps``, ``gtol``, ``ftol``, ``xtol``, ``schedule``, ...; see
        :data:`LOOP_SETTINGS`) and the optimizer's own options (``lr``, ...), so that
        ``minimize(p.loss, p.x0, **p.solver_defaults())`` runs the default solve.
        """
        name = optimizer or "gd"
        settings: dict[str, Any] = {"optimizer": name, "max_steps": max_steps or 1000}
        if name != "gd":
            settings["lr"] = 1e-2
        return settings

    def solve(self, optimizer: Any = None, **overrides: Any) -> Any:
        """Solve the problem: :meth:`_solve` (by default :func:`geograd.minimize` from
        :attr:`x0` with :meth:`solver_defaults`), keeping the run on an interrupt.

        ``overrides`` replace single settings (``lr=0.1``, ``max_steps=50``,
        ``x0=[...]``, ``callback=...``, ...). ``optimizer`` may be a name (its tuned
        settings are used), a class or an instance (then only the loop settings are
        kept). Returns a :class:`~geograd.solve.Result`.

        This is the one place where an interrupt is handled, whatever the problem does
        around minimize (stages, restarts, a reference to align onto). Ctrl-C
        (KeyboardInterrupt; the CLI's SIGTERM is one too) at any moment of the solve
        returns a Result with reason ``"interrupted"``:

        - when it lands in a minimize loop, minimize returns the run so far, and
          every later minimize run of the same solve stops at its first step (the
          signal is noted), so that no stage or restart starts after it;
        - when it escapes the problem's own code (between stages, while a stage
          evaluates its start, while a reference is computed), the Result is built
          from the best iterate the steps so far reached (:meth:`_interrupted_result`):
          the lowest-loss step of each stage, and the last one, judged by the
          objective; before any step, the starting point.

        A subclass with its own way of solving (a temperature continuation, restarts,
        a change of variables) implements :meth:`_solve` and reports its steps through
        the ``callback`` it is given, in the problem's parameter space, with the step
        count of the whole solve (see :meth:`_solve`).
        """
        return self._guarded_solve(self._solve, optimizer, overrides)

    def _guarded_solve(
        self, body: Callable[..., Any], optimizer: Any, overrides: dict[str, Any]
    ) -> Any:
        """``body(optimizer, **overrides)`` under :meth:`solve`'s interrupt handling."""
        if self._watch is not None:  # a hook solving again inside the same solve
            return body(optimizer, **overrides)
        overrides = dict(overrides)
        start = overrides.get("x0")
        if isinstance(start, Tensor):
            start = start.tolist()
        elif start is None and hasattr(optimizer, "param_groups"):
            start = optimizer.param_groups[0]["params"][0].tolist()
        watch = _SolveWatch(overrides.get("callback"), start)
        overrides["callback"] = watch.callback
        result: Any = None
        try:
            self._watch = watch
            _ACTIVE_WATCHES.append(watch)
            try:
                with watch.noting_signals():
                    if watch.outer:
                        hold_point("solve")
                    result = body(optimizer, **overrides)
                    if watch.outer:
                        hold_point("solved")
            finally:
                self._watch = None
                _ACTIVE_WATCHES.remove(watch)
            if watch.signalled and result.reason != "interrupted":
                result = _marked_interrupted(result)
            return result
        except KeyboardInterrupt as exc:
            if result is not None:
                return _marked_interrupted(result)
            return self._interrupted_result(
                watch, optimizer, str(getattr(exc, "signal_name", "Ctrl-C"))
            )

    def _solve(self, optimizer: Any = None, **overrides: Any) -> Any:
        """The solve template, called by :meth:`solve` (which handles interrupts around it).

        From each start (:meth:`start_points`: :attr:`x0` or ``overrides["x0"]`` first, then as
        many more as ``restarts`` asks, default :meth:`restarts`), :func:`geograd.minimize`
        runs on :meth:`solver_loss` in the solver's coordinates (:meth:`to_solver`), with
        :meth:`solver_defaults` and ``overrides``, projected after each step by
        :meth:`projection`; each run is mapped back (:meth:`from_solver`), the best is
        kept (:class:`geograd.solve.BestOf`), and its points are put in the canonical form
        of the problem's symmetry (:meth:`canonical_map`). Every hook has an identity
        default, so a problem declares only what differs: its coordinates, a projection,
        starts, a canonical form.

        Overrides besides the settings: ``restarts=K``; ``project=False`` (no projection
        between steps); ``canonical=False`` (the points as the optimizer left them);
        ``reparametrise=False`` (run on :meth:`loss` in the problem's own coordinates). An
        optimizer instance, or a Tensor ``x0``, holds its own parameter in the problem's
        coordinates: one start, on :meth:`loss`.

        A continuation declares :meth:`stages` (run by
        :func:`~geograd.problems.continuation.run_stages` from each start). A subclass
        that solves otherwise still may override this hook. Its contract: pass
        ``overrides["callback"]`` on to every minimize run with Progress in the
        problem's parameter space and step counts of the whole solve; call
        :meth:`_new_stage` when the loss it reports changes meaning; stop at a run that
        returns with reason ``"interrupted"``. What escapes it is turned into a Result
        by :meth:`solve`.
        """
        from geograd.solve import BestOf, minimize

        overrides = dict(overrides)
        asked = overrides.pop("restarts", None)
        count = self.restarts() if asked is None else asked
        declared = next((o for o in self.options if o.name == "restarts"), None)
        if declared is not None:  # the problem's own option says what a count may be
            count = declared.parse(count, self.name)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InputError(f"{self.name}: restarts must be a whole number >= 1, got {count!r}")
        if count > self.UNTIMED_RESTARTS:
            self.check_restarts(count)
        project = bool(overrides.pop("project", True))
        canonical = bool(overrides.pop("canonical", True))
        reparametrise = bool(overrides.pop("reparametrise", True))
        staged = type(self).stages is not Problem.stages
        if staged:  # a continuation: the stages take the settings (see run_stages)
            settings, x0 = {"callback": overrides.pop("callback", None)}, overrides.pop("x0", None)
        else:
            settings, x0 = self._solve_settings(optimizer, overrides)
        own: Tensor | None = None  # a parameter the caller holds: solved as it is
        if hasattr(optimizer, "param_groups"):
            own = optimizer.param_groups[0]["params"][0]
            if x0 is not None:
                own.data = Tensor(self.check_point(x0, "x0")).data
        elif isinstance(x0, Tensor):
            own = x0
        if own is not None and count > 1:
            raise InputError(
                f"{self.name}: restarts need an optimizer name or class and a start given as "
                "numbers, not a parameter of your own (each start builds a fresh one)"
            )
        first = own.tolist() if own is not None else (
            self.x0 if x0 is None else self.check_point(x0, "x0")
        )  # fmt: skip
        mapped = reparametrise and own is None
        # the projection is in the solver's coordinates: in the problem's too when they are
        # the same (no reparametrisation declared)
        same = type(self).to_solver is Problem.to_solver
        plain_projection = self.projection() if project and same else None
        # the manifold is in the solver's coordinates: used where the run is in them
        manifold = self.manifold() if project and own is None and (mapped or same) else None
        if manifold is not None and _steps_on_manifolds(settings.get("optimizer")):
            # a first-order optimizer steps on the manifold itself (Riemannian gradient,
            # retraction, transported state): no projection after its steps
            settings["manifold"] = manifold
            project = False
            plain_projection = None
        runs = BestOf()
        shared = settings.pop("callback", None)
        for k, start in enumerate(self.start_points(count, first)):
            hold_point("start")
            callback = _tagged_start(shared, k, count)
            if staged:
                x = own if own is not None else Tensor(start)
                res = self._run_stages(optimizer, x, overrides, callback, project and same)
            elif own is not None or not mapped:
                res = minimize(
                    self.loss, start if own is None else own, callback=callback,
                    project=plain_projection, **settings,
                )  # fmt: skip
            else:
                res = minimize(
                    self.solver_loss,
                    self.to_solver(start),
                    callback=self._mapped_callback(callback),
                    project=self.projection() if project else None,
                    **settings,
                ).map_x(self.from_solver, _unchanged if same else None)  # (see map_x)
            runs.add(res)
            if res.reason == "interrupted" or k + 1 >= count:
                break
        result = runs.result(count)
        if canonical:
            hold_point("canonical")
            move = self.canonical_map(_as_point(result.x), compute=not self.solve_interrupted)
            if move is not None:
                result = result.map_x(move)
        return result

    def _run_stages(
        self, optimizer: Any, x: Tensor, overrides: dict[str, Any], callback: Any, on_set: bool
    ) -> Any:
        """One start of a continuation (:meth:`stages`, run by
        :func:`~geograd.problems.continuation.run_stages`) from ``x``; ``on_set``: keep
        the parameter on its manifold (:meth:`manifold`, :meth:`projection`)."""
        from .continuation import run_stages

        rest = dict(overrides)
        total = rest.pop("max_steps", None)
        total = self.stage_budget if total is None else int(total)
        time_limit = rest.pop("time_limit", None)
        key = optimizer.strip().lower() if isinstance(optimizer, str) else None
        plan = self.stages(key, total, rest)  # takes the overrides it adapts per stage
        return run_stages(
            self, plan, x, optimizer, total=total, reserve=self.stage_reserve,
            stage_key=self.stage_key, callback=callback, time_limit=time_limit,
            overrides=rest, manifold=self.manifold() if on_set else None,
            project=self.projection() if on_set else None,
        )  # fmt: skip

    # ------------------------------------------------------------ the template's hooks

    #: A continuation's step budget over all its stages unless told, the steps each stage
    #: keeps in reserve for each later one, and the history's name for a stage's tag.
    stage_budget: ClassVar[int] = 20000
    stage_reserve: ClassVar[int] = 200
    stage_key: ClassVar[str] = "stage"

    def stages(self, optimizer: str | None, total: int, overrides: dict[str, Any]) -> list[Any]:
        """A continuation: the :class:`~geograd.problems.continuation.Stage` list a solve
        with ``optimizer`` (a name; None: the problem's; an optimizer class or instance:
        None too, only the loop settings then apply) and ``total`` steps runs, each
        started where the previous ended. The problem pops from ``overrides`` what it
        adapts stage by stage (an lr scaled per stage, a tolerance with a floor); the
        rest apply to every stage. Not declared (the default): one minimize run."""
        raise NotImplementedError

    def solver_loss(self, z: Tensor) -> Tensor:
        """The loss in the solver's coordinates (:meth:`to_solver`); default :meth:`loss`."""
        return self.loss(z)

    def to_solver(self, x: Sequence[float]) -> list[float]:
        """A point in the solver's coordinates (a better-conditioned parametrisation);
        default: the problem's own."""
        return [float(v) for v in x]

    def from_solver(self, z: Any) -> Any:
        """A point of the solver's coordinates back in the problem's (the inverse of
        :meth:`to_solver`); default: as it is."""
        return z

    def manifold(self) -> Any:
        """The manifold the parameter lives on, in the solver's coordinates (a
        :class:`geograd.manifolds.Manifold`: ``Spheres(n, 3)`` for charges on the
        sphere), or None (the default: R^dim). An optimizer that steps on manifolds (the
        first-order ones) then steps Riemannian-style; the others take their steps in
        R^dim and :meth:`projection` puts each back. ``geograd check`` adds the
        Riemannian gradient check and the retraction check on it."""
        return None

    def projection(self) -> Callable[[list[float]], Sequence[float]] | None:
        """Where each step lands, put back on the parameter's set in the solver's
        coordinates (unit vectors, ...), for a solver loss invariant along the way; None
        (the default): no projection."""
        return None

    def restarts(self) -> int:
        """How many starts a solve makes unless told (default 1)."""
        return 1

    def start_points(self, count: int, first: Sequence[float]) -> Iterator[list[float]]:
        """The starts of a solve, drawn one at a time: ``first``, then ``count - 1`` more.
        By default a problem has one: more is an input error."""
        if count > 1:
            raise InputError(f"{self.name}: restarts need random starts, which it does not draw")
        yield list(first)

    def canonical_map(
        self, x: Sequence[float], *, compute: bool = True
    ) -> Callable[[Any], Any] | None:
        """The map that puts ``x``, and every point of the run that found it, in the
        canonical form of the problem's symmetry (the representative of its orbit, used
        by assess, baselines and plots); None (the default): the points as they are.
        ``compute`` False after an interrupt: start no long work to find it."""
        return None

    def _mapped_callback(self, callback: Any) -> Any:
        """``callback`` shown each step's point in the problem's coordinates."""
        if callback is None:
            return None

        def in_problem(progress: Any) -> Any:
            return callback(dataclasses.replace(progress, x=self.from_solver(progress.x)))

        return in_problem

    def _new_stage(self) -> None:
        """For a :meth:`_solve` hook: the steps it reports from now on minimise another
        function (a new temperature, ...), whose losses are not comparable with the
        earlier ones. (Restarts of the same loss need not call it.)"""
        if self._watch is not None:
            self._watch.new_stage()

    @property
    def solve_interrupted(self) -> bool:
        """True inside a solve once Ctrl-C (or SIGTERM) has arrived: a hook starts no
        more long work (a reference to align onto, another start)."""
        return self._watch is not None and self._watch.signalled

    def _interrupted_result(
        self, watch: _SolveWatch, optimizer: Any, signal_name: str = "Ctrl-C"
    ) -> Any:
        """The Result of a solve whose hook an interrupt escaped: the best iterate seen.

        Candidates are the start (step 0), the lowest-loss step of each stage and the
        last step; the one with the lowest objective (the latest on a tie) is ``x`` and
        ``best_x``, its loss the objective there, its gradient norm the one minimize
        measured (of the function it was minimising; NaN, not evaluated, at the start).
        The history holds the start (when known), the chosen and the last step,
        numbered by the steps of the whole solve; ``evaluations`` counts one per step
        and one per minimize run seen (a line search's trial points are not seen).
        The result then goes through :meth:`_finish_interrupted`.
        """
        from geograd.solve import Result

        start: list[float] | None
        try:
            start = self.x0 if watch.start is None else self.check_point(watch.start, "x0")
        except GeogradError:
            start = None
        start_loss = self.objective(start) if start is not None else math.nan
        # (step, objective, x, gradient norm, lr) of each candidate
        seen: dict[int, tuple[int, float, list[float], float, Any]] = {}
        if start is not None:
            seen[0] = (0, start_loss, list(start), math.nan, None)
        for candidate in (*watch.stage_bests, watch.best, watch.last):
            if candidate is None or candidate[0] in seen:
                continue
            k, progress = candidate
            x = list(progress.x) if isinstance(progress.x, list) else [progress.x]
            seen[k] = (k, self.objective(x), x, progress.grad_norm, progress.lr)
        if not seen:
            raise KeyboardInterrupt  # no start to return: the caller's x0 was not valid
        step, loss, x, grad_norm, _ = min(seen.values(), key=lambda c: (c[1], -c[0]))
        last = watch.last[0] if watch.last is not None else 0
        history: dict[str, list[Any]] = {k: [] for k in ("step", "loss", "grad_norm", "x", "lr")}
        for k in sorted({0, step, last} & seen.keys()):
            at, value, point, norm, lr = seen[k]
            for key, item in zip(history, (at, value, norm, point, lr)):
                history[key].append(item)
        where = self._interrupt_place()
        if watch.steps:
            which = "the start" if step == 0 else f"step {step}"
            detail = (
                f"after {watch.steps} step{'s' if watch.steps != 1 else ''}: interrupted "
                f"({signal_name}) {where}; x is the best iterate seen ({which}, "
                f"objective {loss:.10g})"
            )
        else:
            detail = (
                f"before the first step: interrupted ({signal_name}) {where}; x is the "
                "starting point (its gradient was not evaluated)"
            )
        result = Result(
            x=x,
            loss=loss,
            grad_norm=grad_norm,
            steps=watch.steps,
            evaluations=watch.steps + watch.runs,
            converged=False,
            reason="interrupted",
            message=f"Stopped {detail}.",
            time_s=time.perf_counter() - watch.started,
            best_x=list(x),
            best_loss=loss,
            best_step=step,
            optimizer=self._optimizer_label(optimizer),
            history=history,
            start_loss=start_loss,
        )
        return self._finish_interrupted(result)

    def _interrupt_place(self) -> str:
        """Where an interrupt that escaped :meth:`_solve` landed, for the message."""
        return "outside the optimizer's loop"

    def _finish_interrupted(self, result: Any) -> Any:
        """A Result built by :meth:`_interrupted_result` in the problem's canonical form
        (:meth:`canonical_map`, told to compute nothing long: the user asked to stop)."""
        move = self.canonical_map(_as_point(result.x), compute=False)
        return result if move is None else result.map_x(move)

    def _optimizer_label(self, optimizer: Any) -> str:
        if isinstance(optimizer, str):
            return optimizer.strip().lower()
        if optimizer is None:
            try:
                return str(self.solver_defaults().get("optimizer", ""))
            except Exception:
                return ""
        return optimizer.__name__ if isinstance(optimizer, type) else type(optimizer).__name__

    def settings_for(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        """:meth:`solver_defaults` as they apply to the optimizer (see :meth:`fit_optimizer`).
        The one place the CLI and :meth:`solve` read the problem's settings from."""
        return self.fit_optimizer(self.solver_defaults(optimizer, max_steps))

    @staticmethod
    def fit_optimizer(settings: dict[str, Any]) -> dict[str, Any]:
        """``settings`` made right for their optimizer, whatever the problem tuned:

        - an optimizer that carries its own step scale (``Optimizer.minimize_defaults``,
          L-BFGS) keeps only the loop settings (steps, tolerances) and runs with its own
          minimize defaults, not a learning rate and schedule tuned for another kind;
        - an optimizer whose lr only seeds it (``Optimizer.follows_schedule`` False:
          Newton's first trial step, a trust region's first radius) loses the schedule,
          which minimize would refuse.
        """
        out = dict(settings)
        name = out.get("optimizer")
        if not isinstance(name, str):
            return out
        from geograd.optim.registry import get_optimizer

        cls = get_optimizer(name)
        if cls.minimize_defaults:
            out = {k: v for k, v in out.items() if k in LOOP_SETTINGS or k == "optimizer"}
            out.pop("schedule", None)
            out.update(cls.minimize_defaults)
        elif not cls.follows_schedule:
            out.pop("schedule", None)
        return out

    def _solve_settings(
        self, optimizer: Any, overrides: dict[str, Any]
    ) -> tuple[dict[str, Any], Any]:
        """:func:`geograd.minimize`'s settings for a :meth:`solve` with ``optimizer`` and
        ``overrides``, and the ``x0`` override (None when not given), which is popped
        from ``overrides``.

        A name (or None) gets its tuned :meth:`solver_defaults`; an optimizer class or
        instance only the loop settings (:data:`LOOP_SETTINGS`) and itself as
        ``optimizer``. ``overrides`` replace single settings.
        """
        name = optimizer if isinstance(optimizer, str) or optimizer is None else None
        settings = self.settings_for(name, overrides.get("max_steps"))
        if optimizer is not None and not isinstance(optimizer, str):
            settings = {k: v for k, v in settings.items() if k in LOOP_SETTINGS}
            settings["optimizer"] = optimizer
        x0 = overrides.pop("x0", None)
        settings.update(overrides)
        return settings, x0

    def baselines(
        self,
        methods: Sequence[str] = DEFAULT_BASELINES,
        *,
        x0: Sequence[float] | None = None,
        options: dict[str, dict[str, Any]] | None = None,
    ) -> list[Baseline]:
        """scipy.optimize.minimize from :attr:`x0` with each method, at scipy's defaults.

        Methods that use a gradient get the closed-form :meth:`gradient`.
        ``evaluations`` counts calls of the objective (each with its gradient for
        the gradient methods). ``options`` maps a method to scipy options for it.

        A baseline is scipy's run: where scipy's own iterate leaves the floats (an
        infinite coordinate, an objective or gradient that overflows or cannot be
        evaluated there), the run stops and its row says so (``success`` False, a
        ``message`` such as "scipy's iterate overflowed float64; x: its best evaluated
        point"), and the next method runs. numpy's and
        scipy's RuntimeWarnings are silenced inside the runs: the rows say what happened.
        """
        from scipy.optimize import minimize as scipy_minimize  # type: ignore[import-untyped]

        start = self.x0 if x0 is None else self.check_point(x0, "x0")
        runs = []
        for method in methods:
            canonical = _scipy_method(method, self.name)
            run = _ScipyRun(self, with_gradient=canonical in _GRADIENT_METHODS)
            t0 = time.perf_counter()
            try:
                with _quiet_floats():
                    res = scipy_minimize(
                        run.fun,
                        start,
                        method=canonical,
                        jac=True if run.with_gradient else None,
                        callback=run.step,
                        options=(options or {}).get(method, {}) or None,
                    )
            except _LeftTheFloats as stop:
                runs.append(run.failed(canonical, str(stop), start, time.perf_counter() - t0))
                continue
            elapsed = time.perf_counter() - t0
            x = [float(v) for v in res.x]
            try:
                loss = run.evaluate(x)
            except _LeftTheFloats as stop:  # scipy ended on a point it had not evaluated
                runs.append(run.failed(canonical, str(stop), start, elapsed))
                continue
            runs.append(
                Baseline(
                    method=canonical,
                    x=x,
                    loss=loss,
                    iterations=int(getattr(res, "nit", 0) or 0),
                    evaluations=run.evaluations,
                    time_s=elapsed,
                    success=bool(res.success),
                    message=str(res.message),
                )
            )
        return runs

    # -------------------------------------------------------------- describing

    def to_dict(self) -> dict[str, Any]:
        """The instance, JSON-ready: enough to rebuild it with :meth:`from_dict`.

        ``options`` holds every option's value, None for the generator options a file
        replaced (:meth:`replaced_options`): they played no part. ``dim`` is the number
        of parameters, ``data_dim`` the dimension of the data's points (None when the
        data are not points), ``data`` the :meth:`data_summary`.
        """
        options = dict(self.settings)
        for name in self.replaced_options():
            options[name] = None
        out = {
            "name": self.name,
            "description": self.description,
            "options": options,
            "n": self.n,
            "dim": self.dim,
            "data_dim": self.data_dim,
            "data_summary": self.data_summary(),
            "x0": self.x0,
        }
        return dict(_jsonable(out))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Rebuild an instance from :meth:`to_dict` output (options and x0)."""
        return cls(x0=data.get("x0"), **cls.options_from_dict(data))

    @classmethod
    def options_from_dict(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The options of a :meth:`to_dict` output to rebuild the problem from: a generator
        option a file replaced is left out, so that the rebuild does not give it together
        with the file (an input error)."""
        options = dict(data.get("options", {}))
        for opt in cls.options:
            if any(options.get(f) is not None for f in cls.replacing_files(opt)):
                options.pop(opt.name, None)
        return options

    # ------------------------------------------------------------ data, answers

    @property
    def extent(self) -> float:
        """The natural length scale of the data (> 0), to judge distances by.

        By default the largest coordinate extent of the data's points, when the
        problem keeps them column by column as ``columns`` (``columns[j][i]`` is
        coordinate j of point i; a list of lists, or a (d, n) array on the numpy
        backend), 1 when they coincide; 1 for a problem without
        ``columns`` (no data points, or dimensionless parameters).
        """
        columns = getattr(self, "columns", None)
        if columns is None or len(columns) == 0:
            return 1.0
        cached = self.__dict__.get("_extent_of")
        if cached is not None and cached[0] is columns:
            return float(cached[1])
        value = data_extent(columns)
        # Keep the columns object with its value: a new data set is a new object.
        self._extent_of = (columns, value)
        return value

    @property
    def data_dim(self) -> int | None:
        """The dimension of the data's points (``dim`` is the number of parameters): the
        number of ``columns``, None for a problem without them."""
        columns = getattr(self, "columns", None)
        return len(columns) if columns is not None and len(columns) else None

    @property
    def data_space(self) -> str:
        """Where the data's points live, in words for reports and plot titles: "in R^d"
        (empty for a problem without data points); a problem on a manifold says so."""
        return f"in R^{self.data_dim}" if self.data_dim else ""

    def data_files(self) -> list[tuple[Option, Any]]:
        """The file (``Path``) options that are set, with their values, in declaration order."""
        return [
            (opt, self.settings[opt.name])
            for opt in self.options
            if opt.type is Path and self.settings.get(opt.name) is not None
        ]

    def data_summary(self) -> str:
        """One true line about the data: how many, in what space, where from.

        Generated data: the generator's settings (the options marked ``generator``);
        loaded data: the file and what was taken from it; data given in code: so.
        Problems add facts by :meth:`data_notes` (where the weights came from, ...).
        """
        space = self.data_space
        head = f"{self.n} {self.data_items} {space}" if space else f"{self.n} {self.data_items}"
        files = self.data_files()
        if self._given is not None:
            text = f"{head}, given in code"
        elif files:
            text = f"{head} from " + ", ".join(
                f"{value} ({opt.flag})" if len(files) > 1 else str(value) for opt, value in files
            )
        else:
            settings = [
                f"{opt.name}={format_setting(self.settings[opt.name])}"
                for opt in self.options
                if opt.generator
            ]
            text = f"{head}, generated with {', '.join(settings)}" if settings else head
        notes = self.data_notes()
        return "; ".join([text, *notes])

    def data_notes(self) -> list[str]:
        """Further facts for :meth:`data_summary` (none by default)."""
        return []

    def component_specs(self) -> list[Component]:
        """One :class:`Component` per parameter (see :attr:`component_names`)."""
        if self.component_names:
            return [c if isinstance(c, Component) else Component(c) for c in self.component_names]
        names = getattr(self, "names", None)
        if names and len(names) == self.dim:
            return [Component(str(n)) for n in names]
        return [Component(f"x{j + 1}") for j in range(self.dim)]

    def components(self, x: Sequence[float]) -> list[dict[str, Any]]:
        """``x`` as named parts, in the units the user asked in: one
        ``{"name", "value", "unit"}`` per parameter (see :meth:`component_specs`)."""
        point = self.check_point(x, "x")
        return [
            {"name": c.name, "value": c.factor * v, "unit": c.unit}
            for c, v in zip(self.component_specs(), point)
        ]

    def distance(self, x: Sequence[float], y: Sequence[float]) -> float:
        """How far apart two solutions are, in the data's units: by default the Euclidean
        distance of the parameter vectors."""
        return math.dist(x, y)

    def assess(self, x: Sequence[float], reference: Reference | None = None) -> dict[str, Any]:
        """Everything to report about a solution, JSON-ready: ``solution``, ``loss``,
        ``certificate``, ``reference`` (its solution, loss, method), ``distance``
        (:meth:`distance` to the reference's solution), ``distance_rel`` (over
        :attr:`extent`, also given), ``gap`` (objective minus the reference's),
        ``matches`` (bool) and ``match`` (one line saying why).

        A match: within :attr:`match_rtol` times :attr:`extent` of the reference's
        solution; or, where the certificate says the minimiser is not unique (a
        segment of medians, a configuration up to rotation), an objective equal to
        the reference's within ``match_rtol`` times (|reference loss| + |L(default
        x0) - reference loss|, the objective's own scale) and a certificate that does
        not say "not optimal". ``reference`` defaults to :meth:`reference` (cached);
        give one to avoid computing it again.
        """
        point = self.check_point(x, "x")
        ref = self.reference() if reference is None else reference
        loss = self.objective(point)
        cert = self.certificate(point)
        distance = float(self.distance(point, ref.x))
        scale = self.extent
        gap = loss - ref.loss
        matches, why = self.judge_match(distance, gap, ref, cert)
        return dict(
            _jsonable(
                {
                    "solution": point,
                    "loss": loss,
                    "certificate": cert,
                    "reference": {"solution": ref.x, "loss": ref.loss, "method": ref.method},
                    "distance": distance,
                    "distance_rel": distance / scale,
                    "extent": scale,
                    "gap": gap,
                    "matches": matches,
                    "match": why,
                }
            )
        )

    def judge_match(
        self, distance: float, gap: float, ref: Reference, cert: dict[str, Any]
    ) -> tuple[bool, str]:
        """The problem's match rule, the hook :meth:`assess` asks: (matches, why in words)
        for a solution ``distance`` from the reference with objective ``gap``. By default
        within :attr:`match_rtol` of the data's extent, or, where the certificate says the
        minimiser is not unique, an objective within tolerance; a problem with its own
        rule (tammes: the separation in degrees) declares it here."""
        rtol, scale = self.match_rtol, self.extent
        rel = distance / scale
        if not (math.isfinite(distance) and math.isfinite(gap)):
            return False, f"no finite distance or objective gap to the reference ({distance:.2g})"
        if distance <= rtol * scale:
            return True, (
                f"within {rtol:g} of the data's extent from the reference "
                f"({distance:.2g} away, {rel:.2g} of the extent {scale:.3g})"
            )
        away = f"{distance:.2g} away ({rel:.2g} of the extent {scale:.3g})"
        if cert.get("unique") is False:
            f0 = self.objective(self.default_x0())
            tol = rtol * (abs(ref.loss) + abs(f0 - ref.loss))
            why = cert.get("uniqueness") or "the minimiser is not unique"
            if cert.get("optimal") is False:
                return False, f"{away}, and the certificate says it is not optimal"
            if abs(gap) <= tol:
                return True, (
                    f"objective equals the reference's within tolerance (gap {gap:.2g}, "
                    f"tolerance {tol:.2g}) and the optimum is not unique (the certificate "
                    f"says: {why}); {away}"
                )
            return False, (
                f"{away}, and the objective differs from the reference's by {gap:.2g} "
                f"(more than the tolerance {tol:.2g}) although the optimum is not unique"
            )
        return False, f"{away}; a match is within {rtol:g} of the extent"

    def check_point(self, values: Sequence[float] | str | Any, what: str = "x") -> list[float]:
        """``values`` as a list of ``dim`` finite floats, else an input error.

        A string is read as comma-separated numbers (``"0.5,0.5"``), as a CLI gives it.
        """
        text = values
        if isinstance(values, str):
            parts = [p.strip() for p in values.replace(";", ",").split(",")]
            if parts and parts[-1] == "":
                parts.pop()
            items: list[Any] = parts
        elif isinstance(values, Tensor):
            items = [values.item()] if not values.shape else values.tolist()
        elif isinstance(values, (int, float)) and not isinstance(values, bool):
            items = [values]
        else:
            try:
                items = list(values)  # type: ignore[arg-type]
            except TypeError:
                raise InputError(
                    f"{self.name}: {what} must be {self.dim} numbers, got {text!r}"
                ) from None
        out = []
        for i, item in enumerate(items):
            try:
                v = float(item) if not isinstance(item, bool) else math.nan
            except (TypeError, ValueError):
                raise InputError(
                    f"{self.name}: {what} coordinate {i + 1} ({item!r}) is not a number; "
                    f"give {self.dim} comma-separated numbers"
                ) from None
            if not math.isfinite(v):
                raise InputError(
                    f"{self.name}: {what} coordinate {i + 1} ({item!r}) is not a finite number"
                )
            out.append(v)
        if len(out) != self.dim:
            raise InputError(
                f"{self.name}: {what} has {len(out)} coordinate{'s' if len(out) != 1 else ''} "
                f"but the problem has dimension {self.dim}; give {self.dim} numbers"
            )
        return out

    def check_points(self, count: int = 8, seed: int = 0) -> list[list[float]]:
        """Points at which to compare autograd, the closed form and finite differences.

        By default: ``x0`` and points scattered around it. Problems with kinks add
        points near them (the median: points just off data points, by
        :func:`check_points_near`).
        """
        r = random.Random(seed)
        base = self.x0
        scale = max(1.0, max((abs(v) for v in base), default=1.0))
        pts = [base]
        while len(pts) < count:
            pts.append([v + r.gauss(0.0, 0.5 * scale) for v in base])
        return pts[:count]

    # ------------------------------------------------------------------ drawing

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        """Where the estimate ``x`` sits in the 2-D drawing (for paths), or None."""
        if self.dim == 2:
            return float(x[0]), float(x[1])
        return None

    def plot_bounds(
        self, extra: Sequence[Sequence[float]] = (), margin: float = 0.05
    ) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)`` of the drawing, with ``extra`` 2-D points inside."""
        pts = [p for p in (self.plot_xy(self.x0), *map(tuple, extra)) if p is not None]
        return bounding_box([p[0] for p in pts], [p[1] for p in pts], margin)

    def objective_grid(self, xs: Sequence[float], ys: Sequence[float]) -> list[list[float]]:
        """``Z[i][j]`` = objective at ``(xs[j], ys[i])``, for contour plots of 2-D problems."""
        if self.dim != 2:
            raise InputError(
                f"{self.name}: contours need 2 parameters, this problem has {self.dim}"
            )
        return [[self.objective([x, y]) for x in xs] for y in ys]

    @property
    def has_scene(self) -> bool:
        """True when the problem has a 2-D picture to draw (data, path or estimate).

        That is when :meth:`plot_xy` places ``x0`` in the plane (a path can be
        drawn), or when the subclass overrides :meth:`draw_estimate` (its
        estimate has a picture even without a path point: charges on a sphere
        shown as a projection, a rigid registration's moved points). Plots draw
        a scene panel (:meth:`draw` plus :meth:`draw_estimate` per run) only when
        this is True; a subclass that draws a scene some other way may override
        the property.
        """
        if type(self).draw_estimate is not Problem.draw_estimate:
            return True
        return self.plot_xy(self.x0) is not None

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
        """Draw the problem's picture of estimate ``x`` beyond its path point; returns the artists.

        The path point (:meth:`plot_xy`) is drawn by the plots themselves; this
        hook draws what the estimate *means* in the scene: a fitted circle, an
        enclosing circle, charges projected to the plane, a registration's
        moved points. Use ``color``, ``linestyle``, ``marker`` and ``alpha`` for
        every artist so runs stay distinguishable (also in greyscale), and give
        ``label`` to at most one artist (the legend entry), none when it is None.
        ``color`` is any matplotlib colour, ``linestyle`` any matplotlib line style
        (a name such as ``"--"`` or a dash tuple such as ``(0, (5, 1))``).
        Animations call it once per frame per run, so it must add fresh artists
        to ``ax`` and not rely on earlier calls; every returned artist is
        removed before the next frame. It must not set the axes' limits, labels
        or aspect: the plots do (and widen the view so that the final estimates
        and the reference's picture fit). The default draws nothing and returns ``[]``.
        """
        return []

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        """Draw the problem (and the estimate ``x``) on a matplotlib Axes; returns the artists.

        The default marks only the estimate; problems with data draw it too.
        """
        artists: list[Any] = []
        xy = None if x is None else self.plot_xy(x)
        if xy is not None:
            artists += ax.plot(
                [xy[0]], [xy[1]], marker="*", ms=14, ls="none", color="#d62728",
                markeredgecolor="black", label=label, zorder=5,
            )  # fmt: skip
        return artists


def _steps_on_manifolds(optimizer: Any) -> bool:
    """Whether ``optimizer`` (a name or an Optimizer class) steps on manifolds itself."""
    if isinstance(optimizer, str):
        from geograd.optim.registry import get_optimizer

        optimizer = get_optimizer(optimizer)
    return bool(getattr(optimizer, "riemannian", False))


def _unchanged(value: Any) -> Any:
    """A gradient of the identity map: itself (for :meth:`~geograd.solve.Result.map_x`)."""
    return value


def _tagged_start(callback: Any, k: int, count: int) -> Any:
    """``callback`` told that its steps are those of start ``k`` (0: the solve's x0, as
    :class:`~geograd.solve.BestOf` counts) of ``count`` (the progress shows how far the
    restarts have got); as it is for a solve of one start."""
    if callback is None or count <= 1:
        return callback

    def tagged(progress: Any) -> Any:
        return callback(dataclasses.replace(progress, start=(k, count)))

    return tagged


def _as_point(x: float | Sequence[float]) -> list[float]:
    """A Result's x as a list (a 0-D parameter's float as one coordinate)."""
    return [float(x)] if isinstance(x, (int, float)) else [float(v) for v in x]


def _length(values: Any) -> int | None:
    """The number of items of 1-D data (a sequence or an array), None when unknown."""
    shape = getattr(values, "shape", None)
    if shape:
        return int(shape[0])
    try:
        return len(values)
    except TypeError:
        return None


def _marked_interrupted(result: Any) -> Any:
    """``result`` of a solve during which Ctrl-C (or SIGTERM) arrived, marked as interrupted
    (a hook that went on after it, or finished just as it came, still ran short of what
    was asked)."""
    if result.reason == "interrupted":
        return result
    return dataclasses.replace(
        result,
        reason="interrupted",
        converged=False,
        message=f"Interrupted (KeyboardInterrupt) at the end of the solve. {result.message}",
    )


P = TypeVar("P", bound=Problem)

#: minimize() settings that belong to the loop, not to the optimizer (minimize's own).
LOOP_SETTINGS = tuple(k for k in LOOP_KEYWORDS if k != "optimizer")


class _LeftTheFloats(Exception):
    """A scipy baseline's iterate left float64 (or what the objective can evaluate there):
    the message says how; :meth:`Problem.baselines` reports the run as failed there."""


@contextlib.contextmanager
def _quiet_floats() -> Iterator[None]:
    """No numpy or scipy RuntimeWarning on stderr while scipy runs: where its iterates
    overflow, the baseline's row says so (:class:`_LeftTheFloats`)."""
    import warnings

    import numpy as np

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _at_scipys_iterate(what: str, fun: Callable[[list[float]], Any], pt: list[float]) -> Any:
    """``fun(pt)``, the problem's objective or gradient at scipy's point, or
    :class:`_LeftTheFloats` saying why it could not be had there."""
    try:
        return fun(pt)
    except OverflowError:
        raise _LeftTheFloats(f"the {what} overflowed at scipy's iterate") from None
    except (ArithmeticError, ValueError) as exc:  # InputError too: a ValueError
        raise _LeftTheFloats(
            f"the {what} could not be evaluated at scipy's iterate ({exc})"
        ) from None


class _ScipyRun:
    """The objective scipy calls in one baseline run: counts evaluations and iterations,
    keeps the best point evaluated, and stops the run (:class:`_LeftTheFloats`) where
    scipy's iterate, the objective or its gradient leaves the finite floats."""

    def __init__(self, problem: Problem, *, with_gradient: bool) -> None:
        self.problem = problem
        self.with_gradient = with_gradient
        self.evaluations = 0
        self.iterations = 0
        self.best: tuple[float, list[float]] | None = None

    def step(self, *_: Any, **__: Any) -> None:
        self.iterations += 1

    def evaluate(self, pt: list[float]) -> float:
        """The objective at scipy's point ``pt``, finite, or :class:`_LeftTheFloats`."""
        if not all(math.isfinite(v) for v in pt):
            raise _LeftTheFloats("scipy's iterate overflowed float64")
        value = float(_at_scipys_iterate("objective", self.problem.objective, pt))
        if not math.isfinite(value):
            raise _LeftTheFloats(f"the objective is {value} at scipy's iterate")
        if self.best is None or value < self.best[0]:
            self.best = (value, pt)
        return value

    def fun(self, z: Any) -> Any:
        self.evaluations += 1
        pt = [float(v) for v in z]
        value = self.evaluate(pt)
        if not self.with_gradient:
            return value
        grad = [float(v) for v in _at_scipys_iterate("gradient", self.problem.gradient, pt)]
        if not all(math.isfinite(v) for v in grad):
            raise _LeftTheFloats("the gradient overflowed at scipy's iterate")
        return value, grad

    def failed(self, method: str, why: str, start: list[float], elapsed: float) -> Baseline:
        """The row of a run stopped where it left the floats: success False, scipy's best
        evaluated point (the start when it evaluated none) and what happened."""
        if self.best is not None:
            loss, x = self.best
            where = "x: its best evaluated point"
        else:
            x = list(start)
            loss = self.problem.objective(x)
            where = "x: the start"
        return Baseline(
            method=method,
            x=x,
            loss=loss,
            iterations=self.iterations,
            evaluations=self.evaluations,
            time_s=elapsed,
            success=False,
            message=f"{why}; {where}",
        )


def _scipy_method(method: str, owner: str) -> str:
    lookup = {m.lower(): m for m in SCIPY_METHODS}
    canonical = lookup.get(str(method).lower())
    if canonical is None:
        close = difflib.get_close_matches(str(method), SCIPY_METHODS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise InputError(
            f"{owner}: unknown scipy method {method!r}; {hint}known: {', '.join(SCIPY_METHODS)}"
        )
    return canonical


def check_points_near(
    points: Sequence[Sequence[float]],
    scale: float,
    count: int,
    seed: int,
    offset: float,
    *,
    in_turn: bool = False,
) -> list[list[float]]:
    """Check points for a problem whose kinks are at its data ``points`` (a sum of distances).

    Half of them (the even ones) random in the data's bounding box widened by 0.1
    ``scale`` on every side; half ``offset`` times ``scale`` off a data point in a
    random direction: near a kink, yet far more than a finite-difference step away.
    The data point is a random one, or with ``in_turn`` each in turn. ``points`` are
    rows: a sequence of points, or an (n, d) array (whose own reductions then run).
    """
    r = random.Random(seed)
    d = len(points[0])
    if getattr(points, "ndim", None) == 2:
        lo = [float(v) for v in points.min(axis=0).tolist()]  # type: ignore[attr-defined]
        hi = [float(v) for v in points.max(axis=0).tolist()]  # type: ignore[attr-defined]
    else:
        lo = [min(p[j] for p in points) for j in range(d)]
        hi = [max(p[j] for p in points) for j in range(d)]
    pts: list[list[float]] = []
    for i in range(count):
        if i % 2 == 0:
            pts.append([r.uniform(a - 0.1 * scale, b + 0.1 * scale) for a, b in zip(lo, hi)])
        else:
            k = (i // 2) % len(points) if in_turn else r.randrange(len(points))
            a = [float(v) for v in points[k]]
            v = [r.gauss(0.0, 1.0) for _ in range(d)]
            nv = math.hypot(*v) or 1.0
            pts.append([aj + offset * scale * vj / nv for aj, vj in zip(a, v)])
    return pts


def bounding_box(
    xs: Sequence[float], ys: Sequence[float], margin: float
) -> tuple[float, float, float, float]:
    if not xs:
        return (-1.0, 1.0, -1.0, 1.0)
    x_lo, x_hi, y_lo, y_hi = min(xs), max(xs), min(ys), max(ys)
    span = max(x_hi - x_lo, y_hi - y_lo)
    if span == 0.0:
        span = max(1.0, abs(x_lo), abs(y_lo))
    pad = margin * span
    return (x_lo - pad, x_hi + pad, y_lo - pad, y_hi + pad)


def draw_circle(
    ax: Any,
    centre: tuple[float, float],
    radius: float,
    *,
    color: Any,
    linestyle: Any,
    alpha: float,
    label: str | None,
) -> list[Any]:
    """An estimate's circle for :meth:`Problem.draw_estimate`: an unfilled matplotlib Circle
    patch on ``ax`` in the run's ``color``, ``linestyle`` and ``alpha``, labelled unless
    ``label`` is None. Returns ``[patch]``."""
    from matplotlib.patches import Circle

    patch = Circle(
        centre, radius, fill=False, edgecolor=color, linestyle=linestyle,
        linewidth=1.6, alpha=alpha, zorder=3,
    )  # fmt: skip
    if label is not None:
        patch.set_label(label)
    ax.add_patch(patch)
    return [patch]


__all__ = [
    "AUTO_NUMPY_MIN",
    "BACKENDS",
    "DEFAULT_BASELINES",
    "LOOP_SETTINGS",
    "SCIPY_METHODS",
    "Baseline",
    "Component",
    "Option",
    "Problem",
    "Reference",
    "choose_backend",
]
