"""``geograd bench`` (alias ``python -m geograd.bench``): the autograd speed study.

One evaluation of the geometric-median objective and its gradient,
L(p) = mean_i ||a_i - p||, at p = (0.3, 0.3), for N points from the seed
generator, by every method this machine has, side by side in one run:

======================  ===================================================
``engine``             geograd on the standard-library backend
                       (``F.mean(F.hypot(xs - p[0], ys - p[1]))``, ``backward()``)
``engine-fused``       geograd on the standard-library backend with the fused
                       primitive (``F.mean(F.distances((xs, ys), p))``), as
                       the problems' losses use it
``engine-numpy``       ``engine`` on numpy arrays (the Array API backend)
``engine-fused-numpy`` ``engine-fused`` on numpy arrays
``python-loop``        a hand-written pure-Python loop with running sums
``numpy``              the closed form in numpy (the speed to beat)
``torch``              torch autograd, float64 (only if torch is installed)
``jax``                ``jax.jit(jax.value_and_grad(f))``, float64 (only if installed)
``hips-autograd``      HIPS autograd's ``value_and_grad`` (only if installed)
``scalar-graph``       one 0-D engine node per point and operation (micrograd's way)
======================  ===================================================

How it is measured: each size runs ``rounds`` rounds; in a round every method
runs once, in turn (interleaved, so that a busy moment of the machine hits all
of them alike), and the ratios to the baseline (numpy's closed form where numpy
is installed, else the Python loop) are taken within the round. The table gives
the median time and the median ratio. Every method is called once, untimed,
before the rounds: numpy's temporaries then come from warm malloc buffers (they
are up to 5x slower in a fresh process), which is the figure reported. A method
whose call passed ``budget`` seconds at one size is not run at the larger ones.
Peak memory is traced (tracemalloc: Python objects and numpy buffers; not
torch's or jax's allocators) in one extra call at the largest size each method
reached. Every method's loss and gradient are checked against the Python loop's.

The race (``geograd bench --to-solution``, :func:`race`): whole solves instead of
one evaluation. geograd's default median solve (standard-library and numpy
backends), torch autograd + Adam (lr 0.01, float64) and scipy's L-BFGS-B on the
numpy closed form each solve the median problem's N seeded points (10^5 by
default) from its start, the centroid, timed until the objective is within 1e-9
(relative) of the reference; a method stopped first (a step cap, a time budget,
its own stopping rule) is reported as not reached and its time as a lower bound.
The ratios are each time over geograd's standard-library time.

Forward mode against reverse mode (``geograd bench --modes``, :mod:`geograd.modes`): the
full gradient of f: R^n -> R by n JVPs and by one VJP, for n = 1 to 1000.

Only the standard library is imported here; numpy, matplotlib and the
comparison libraries are imported by the methods and the plot that need them.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geograd.functional as F
from geograd.errors import InputError
from geograd.tensor import Tensor

P0 = (0.3, 0.3)
SIZES = (100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000)

#: What a method's prepared call returns: (loss, [dL/dp0, dL/dp1]).
Evaluation = tuple[float, list[float]]
#: A method's preparation: from the two coordinate lists, the call to time.
Prepare = Callable[[list[float], list[float]], Callable[[], Evaluation]]


def seed_points(n: int, seed: int = 5) -> tuple[list[float], list[float]]:
    """The seed documents' generator: all x first, then all y, uniform on [0, 1]."""
    r = random.Random(seed)
    xs = [r.uniform(a=0, b=1) for _ in range(n)]
    ys = [r.uniform(a=0, b=1) for _ in range(n)]
    return xs, ys


# ------------------------------------------------------------------------------ methods


def engine_vector(xs: Tensor, ys: Tensor, p0: tuple[float, float] = P0) -> Evaluation:
    """The loss through the engine's 1-D operations, whatever backend ``xs`` holds."""
    p = Tensor(list(p0), requires_grad=True)
    loss = F.mean(F.hypot(xs - p[0], ys - p[1]))
    loss.backward()
    assert p.grad is not None
    return loss.item(), p.grad.tolist()


def engine_fused(xs: Tensor, ys: Tensor, p0: tuple[float, float] = P0) -> Evaluation:
    """The loss through the engine's fused distances primitive (``F.distances``)."""
    p = Tensor(list(p0), requires_grad=True)
    loss = F.mean(F.distances((xs, ys), p))
    loss.backward()
    assert p.grad is not None
    return loss.item(), p.grad.tolist()


def engine_scalar(xs: list[float], ys: list[float], p0: tuple[float, float] = P0) -> Evaluation:
    """One 0-D node per point and operation, as micrograd builds it."""
    px = Tensor(p0[0], requires_grad=True)
    py = Tensor(p0[1], requires_grad=True)
    total = Tensor(0.0)
    for x, y in zip(xs, ys):
        total = total + F.hypot(x - px, y - py)
    loss = total / float(len(xs))
    loss.backward()
    assert px.grad is not None and py.grad is not None
    return loss.item(), [px.grad.item(), py.grad.item()]


def closed_form(xs: list[float], ys: list[float], p0: tuple[float, float] = P0) -> Evaluation:
    """The loss and its closed-form gradient in one plain loop with running sums.

    The loop one writes by hand, and the fastest pure-Python one we found; its
    running sums round at every step, where the engine's sums (``math.fsum``) are exact.
    """
    px, py = p0
    total = gx = gy = 0.0
    for x, y in zip(xs, ys):
        dx, dy = x - px, y - py
        d = math.hypot(dx, dy)
        total += d
        if d > 0.0:
            gx -= dx / d
            gy -= dy / d
    n = len(xs)
    return total / n, [gx / n, gy / n]


def _optional(module: str) -> Any:
    """A comparison library, imported only when its method runs (never a dependency)."""
    import importlib

    return importlib.import_module(module)


def _engine(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    txs, tys = Tensor(xs), Tensor(ys)
    return lambda: engine_vector(txs, tys)


def _engine_fused(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    txs, tys = Tensor(xs), Tensor(ys)
    return lambda: engine_fused(txs, tys)


def _numpy_tensors(xs: list[float], ys: list[float]) -> tuple[Tensor, Tensor]:
    import numpy as np

    return Tensor(np.asarray(xs)), Tensor(np.asarray(ys))


def _engine_numpy(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    txs, tys = _numpy_tensors(xs, ys)
    return lambda: engine_vector(txs, tys)


def _engine_fused_numpy(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    txs, tys = _numpy_tensors(xs, ys)
    return lambda: engine_fused(txs, tys)


def _python_loop(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    return lambda: closed_form(xs, ys)


def _numpy_median(xs: list[float], ys: list[float]) -> Callable[[Sequence[float]], Evaluation]:
    """The median objective's closed form in numpy: p -> (mean distance, its gradient
    −Σ (x_i − p)/d_i / n, 0 for a point at p)."""
    import numpy as np

    ax, ay = np.asarray(xs), np.asarray(ys)
    n = len(ax)

    def fun(p: Sequence[float]) -> Evaluation:
        dx, dy = ax - p[0], ay - p[1]
        d = np.hypot(dx, dy)
        inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
        return float(d.sum()) / n, [-float(dx @ inv) / n, -float(dy @ inv) / n]

    return fun


def _numpy(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    fun = _numpy_median(xs, ys)
    return lambda: fun(P0)


def _torch(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    torch = _optional("torch")

    tx = torch.tensor(xs, dtype=torch.float64)
    ty = torch.tensor(ys, dtype=torch.float64)

    def call() -> Evaluation:
        p = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
        loss = torch.hypot(tx - p[0], ty - p[1]).mean()
        loss.backward()
        assert p.grad is not None
        return float(loss.detach()), [float(v) for v in p.grad]

    return call


def _jax(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    jax = _optional("jax")

    jax.config.update("jax_enable_x64", True)
    jnp = _optional("jax.numpy")

    ax, ay = jnp.asarray(xs), jnp.asarray(ys)
    f = jax.jit(jax.value_and_grad(lambda p: jnp.mean(jnp.hypot(ax - p[0], ay - p[1]))))
    p = jnp.asarray(P0)

    def call() -> Evaluation:
        value, g = f(p)
        return float(value), [float(v) for v in g]

    return call


def _hips_autograd(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    autograd = _optional("autograd")  # HIPS autograd
    anp = _optional("autograd.numpy")

    ax, ay = anp.asarray(xs), anp.asarray(ys)
    f = autograd.value_and_grad(lambda p: anp.mean(anp.sqrt((ax - p[0]) ** 2 + (ay - p[1]) ** 2)))
    p = anp.asarray(P0)

    def call() -> Evaluation:
        value, g = f(p)
        return float(value), [float(v) for v in g]

    return call


def _scalar_graph(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    return lambda: engine_scalar(xs, ys)


@dataclass(frozen=True)
class Method:
    """A way to evaluate the objective: its name, what it is, and how to prepare it."""

    name: str
    description: str
    prepare: Prepare
    #: The module it needs, when it is not the standard library (checked before it runs).
    needs: str | None = None


METHODS: tuple[Method, ...] = (
    Method("engine", "geograd, standard-library backend", _engine),
    Method("engine-fused", "geograd, standard-library backend, F.distances", _engine_fused),
    Method("engine-numpy", "geograd on numpy arrays", _engine_numpy, "numpy"),
    Method(
        "engine-fused-numpy", "geograd on numpy arrays, F.distances", _engine_fused_numpy, "numpy"
    ),
    Method("python-loop", "hand-written pure-Python loop", _python_loop),
    Method("numpy", "closed form in numpy", _numpy, "numpy"),
    Method("torch", "torch autograd, float64", _torch, "torch"),
    Method("jax", "jax.jit(value_and_grad), float64", _jax, "jax"),
    Method("hips-autograd", "HIPS autograd value_and_grad", _hips_autograd, "autograd"),
    Method("scalar-graph", "one engine node per point (micrograd)", _scalar_graph),
)


def method_named(name: str) -> Method:
    for m in METHODS:
        if m.name == name:
            return m
    known = ", ".join(m.name for m in METHODS)
    raise ValueError(f"unknown method {name!r}; known: {known}")


def unavailable(method: Method) -> str | None:
    """Why ``method`` cannot run here (its library is missing, or it fails on a tiny
    problem), or None when it can."""
    if method.needs is not None:
        import importlib.util

        if importlib.util.find_spec(method.needs) is None:
            return f"{method.needs} is not installed"
    xs, ys = seed_points(8)
    try:
        value, grad = method.prepare(xs, ys)()
    except Exception as exc:  # any failure means "not here", with its reason
        return f"{type(exc).__name__}: {exc}"[:120]
    want_value, want_grad = closed_form(xs, ys)
    if not _agrees(value, grad, want_value, want_grad):
        return "disagrees with the Python loop"
    return None


def _agrees(value: float, grad: Sequence[float], want: float, want_grad: Sequence[float]) -> bool:
    tol = 1e-9
    return abs(value - want) <= tol and all(abs(g - w) <= tol for g, w in zip(grad, want_grad))


# ------------------------------------------------------------------------------ running


@dataclass
class Cell:
    """One method at one size: the times of its rounds and its ratios to the baseline."""

    times: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    agrees: bool = True

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None


@dataclass
class Study:
    """Everything one ``geograd bench`` run measured (``to_dict()`` is its JSON)."""

    sizes: list[int]
    methods: list[str]
    baseline: str
    rounds: int
    budget_s: float
    skipped: dict[str, str]
    cells: dict[int, dict[str, Cell]] = field(default_factory=dict)
    peak_mb: dict[str, tuple[int, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": "mean distance from p = (0.3, 0.3) to N uniform points, with gradient",
            "baseline": self.baseline,
            "rounds": self.rounds,
            "budget_s": self.budget_s,
            "numpy_buffers": "warm (one untimed call of every method before the rounds)",
            "unavailable": self.skipped,
            "results": [
                {
                    "n": n,
                    "method": name,
                    "median_s": cell.median,
                    "times_s": cell.times,
                    "ratio_to_baseline": cell.ratio,
                    "agrees": cell.agrees,
                }
                for n, row in self.cells.items()
                for name, cell in row.items()
            ],
            "peak_memory_mb": {name: {"n": n, "mb": mb} for name, (n, mb) in self.peak_mb.items()},
        }


def peak_memory_mb(fn: Callable[[], object]) -> float:
    """Peak traced memory of one call of ``fn``, in MB, above what existed before it."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


# ------------------------------------------------------------------------ bounded work

#: The longest a bench may run: a request whose work would take longer is refused before
#: it starts (README, "Bounded work"). One hour, the limit ``geograd check`` has
#: (``Problem.MAX_CHECK_SECONDS``), for the same reason: the default study and the
#: default race each take minutes, so an hour is ten times what any run we publish
#: needs, while a mistyped --rounds (three zeros too many) is refused instead of holding
#: the machine for hours. A longer study is several runs of fewer rounds.
MAX_BENCH_SECONDS = 3600.0

#: The most points of the round :func:`study` measures before it starts (fewer when the
#: smallest size is smaller): the cheapest configuration, measured in well under a second.
PROBE_N = 100

#: Work progress: ``on_work(what, done, total)``, as ``Problem.on_work`` (the CLI's
#: ``WorkProgress`` shows it on stderr).
OnWork = Callable[[str, float, float], None]


def _seconds(s: float) -> str:
    from geograd.problems.base import format_seconds

    return str(format_seconds(s))


def check_rounds(
    rounds: int,
    per_round: float,
    why: str,
    *,
    at_least: bool = True,
    prefix: str = "",
    limit: float = MAX_BENCH_SECONDS,
) -> float:
    """Refuse ``rounds`` rounds of ``per_round`` seconds each (measured here; ``why`` says
    how, for the message) when they would take more than ``limit`` seconds: an input
    error in one line, with the time they would take, the limit and the most rounds
    that fit (``at_least``: ``per_round`` is a lower bound). Returns the estimate."""
    seconds = rounds * per_round
    if per_round > 0 and seconds > limit:
        most = max(1, int(limit / per_round))
        bound = "at least about" if at_least else "about"
        raise InputError(
            f"{prefix}--rounds {rounds:,} would take {bound} {_seconds(seconds)} ({why}), "
            f"more than the {_seconds(limit)} a bench may take; give --rounds {most:,} or less"
        )
    return seconds


def round_seconds(methods: Sequence[Method], n: int, repeat: int = 1) -> float:
    """Wall time of one round of :func:`study` at ``n`` points as it runs one
    (``gc.collect()`` and one call, for each method), after one untimed call of each: the
    shortest of ``repeat`` rounds."""
    xs, ys = seed_points(n)
    calls = [m.prepare(xs, ys) for m in methods]
    for call in calls:  # untimed, as in the study: warm buffers, jit compiled
        call()
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for call in calls:
            gc.collect()
            call()
        best = min(best, time.perf_counter() - start)
    return best


def _fair_round(rounds: int, measure: Callable[[], float]) -> float:
    """One round's time, ``measure()``; measured once more, keeping the shorter, when
    ``rounds`` of it would pass :data:`MAX_BENCH_SECONDS`, so that a moment's hiccup of
    the machine refuses nothing."""
    per_round = measure()
    if rounds * per_round > MAX_BENCH_SECONDS:
        per_round = min(per_round, measure())
    return per_round


def check_study(rounds: int, methods: Sequence[Method], smallest: int) -> float:
    """Refuse a study whose rounds at its smallest size alone would take more than
    :data:`MAX_BENCH_SECONDS`, before it starts (every method runs every round there).

    A round there takes at least one at min(``smallest``, :data:`PROBE_N`) points,
    measured once (:func:`round_seconds`), and again when that one says no, so that a
    moment's hiccup of the machine refuses nothing. Returns the estimate (a lower bound).
    """
    n = min(smallest, PROBE_N)
    per_round = _fair_round(rounds, lambda: round_seconds(methods, n))
    count = len(methods)
    why = (
        f"a round of the {count} methods takes {_seconds(per_round)} here at N = {n:,}"
        if count > 1
        else f"a round of {methods[0].name} takes {_seconds(per_round)} here at N = {n:,}"
    )
    if n < smallest:
        why += f", less than at N = {smallest:,}"
    return check_rounds(rounds, per_round, why)


def check_modes(rounds: int, smallest: int) -> float:
    """:func:`check_study` for ``geograd bench --modes`` (:func:`geograd.modes.study`):
    a round there is ``gc.collect()`` and the full gradient by each mode, measured at
    min(``smallest``, 20) (forward mode costs n², so a larger n is not quick)."""
    from geograd import modes

    n = min(smallest, 20)
    x = Tensor(modes.point(n))
    passes = (modes.gradient_forward, modes.gradient_reverse)
    for mode in passes:  # untimed, as in the study
        mode(modes.objective, x)

    def one() -> float:
        start = time.perf_counter()
        for mode in passes:
            gc.collect()
            mode(modes.objective, x)
        return time.perf_counter() - start

    per_round = _fair_round(rounds, one)
    why = f"a round of both modes takes {_seconds(per_round)} here at n = {n:,}"
    if n < smallest:
        why += f", less than at n = {smallest:,}"
    return check_rounds(rounds, per_round, why)


def study(
    sizes: Sequence[int],
    methods: Sequence[str] | None = None,
    rounds: int = 5,
    budget_s: float = 0.1,
    memory: bool = True,
    progress: Callable[[str], None] | None = None,
    on_work: OnWork | None = None,
) -> Study:
    """Run the study (see the module docstring) and return what it measured.

    A study whose rounds would take more than :data:`MAX_BENCH_SECONDS` is refused
    first (:func:`check_study`, an input error). ``progress`` gets a line per size;
    ``on_work(what, done, total)`` is called after every call of a size (its untimed
    first calls included) and of the peak-memory calls at the end.
    """
    chosen = [method_named(m) for m in methods] if methods else list(METHODS)
    skipped: dict[str, str] = {}
    runnable: list[Method] = []
    for m in chosen:
        why = unavailable(m)
        if why is None:
            runnable.append(m)
        else:
            skipped[m.name] = why
    names = [m.name for m in runnable]
    baseline = "numpy" if "numpy" in names else names[0] if names else "-"
    result = Study(sorted(sizes), names, baseline, rounds, budget_s, skipped)
    if runnable and result.sizes:
        check_study(rounds, runnable, result.sizes[0])
    work = on_work or (lambda what, done, total: None)
    active = list(runnable)
    largest: dict[str, tuple[int, Callable[[], Evaluation]]] = {}
    for n in result.sizes:
        if not active:
            break
        what = f"bench at N = {n:,}: calls"
        total = (rounds + 1) * len(active)
        work(what, 0, total)
        xs, ys = seed_points(n)
        want_value, want_grad = closed_form(xs, ys)
        calls = {m.name: m.prepare(xs, ys) for m in active}
        row = {name: Cell() for name in calls}
        done = 0
        for name, call in calls.items():  # untimed: warm buffers, jit compiled
            value, grad = call()
            row[name].agrees = _agrees(value, grad, want_value, want_grad)
            done += 1
            work(what, done, total)
        for _ in range(rounds):
            took: dict[str, float] = {}
            for name, call in calls.items():
                gc.collect()
                start = time.perf_counter()
                call()
                took[name] = time.perf_counter() - start
                row[name].times.append(took[name])
                done += 1
                work(what, done, total)
            if baseline in took:
                for name, t in took.items():
                    row[name].ratios.append(t / took[baseline])
        result.cells[n] = row
        for name, call in calls.items():
            largest[name] = (n, call)
        if progress is not None:
            progress(f"N = {n:,}: " + ", ".join(f"{k} {_ms(c.median)}" for k, c in row.items()))
        # A method past the budget here would take about ten times as long at the next size.
        active = [m for m in active if row[m.name].median <= budget_s]
        del calls, xs, ys
    if memory:
        for k, (name, (n, call)) in enumerate(largest.items()):
            work("bench peak memory: calls", k, len(largest))
            result.peak_mb[name] = (n, peak_memory_mb(call))
        work("bench peak memory: calls", len(largest), len(largest))
    return result


# ------------------------------------------------------------------------------ output


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def table(result: Study) -> str:
    """The study as text: time and ratio to the baseline per size and method."""
    lines = [
        "geometric median: one loss + gradient at p = (0.3, 0.3); median of "
        f"{result.rounds} interleaved rounds; ratio = time / {result.baseline}'s time in "
        "the same round (median); numpy with warm malloc buffers",
    ]
    width = max([len(m) for m in result.methods] + [6])
    header = f"{'N':>10}  " + "  ".join(f"{m:>{max(width, 16)}}" for m in result.methods)
    lines += [header, "-" * len(header)]
    for n, row in result.cells.items():
        cells = []
        for m in result.methods:
            cell = row.get(m)
            if cell is None:
                text = "over budget"
            else:
                ratio = f" ({cell.ratio:.2f}x)" if cell.ratio is not None else ""
                text = _ms(cell.median) + ratio + ("" if cell.agrees else " WRONG")
            cells.append(f"{text:>{max(width, 16)}}")
        lines.append(f"{n:>10,}  " + "  ".join(cells))
    if result.peak_mb:
        lines.append(
            "peak traced memory (tracemalloc: Python objects and numpy buffers): "
            + ", ".join(f"{k} {mb:.1f} MB at N = {n:,}" for k, (n, mb) in result.peak_mb.items())
        )
    for name, why in result.skipped.items():
        lines.append(f"not run: {name} ({why})")
    return "\n".join(lines)


def plot(result: Study, path: str) -> None:
    """Time against N on log-log axes, one line per method, and the ratios at the largest N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for m in result.methods:
        pts = [(n, row[m].median) for n, row in result.cells.items() if m in row]
        if pts:
            left.loglog([p[0] for p in pts], [p[1] for p in pts], marker="o", label=m)
    left.set_xlabel("N points")
    left.set_ylabel("seconds per loss + gradient (median)")
    left.set_title("time against N")
    left.legend(fontsize=8)
    left.grid(True, which="both", alpha=0.3)
    n_max = max(result.cells) if result.cells else 0
    row = result.cells.get(n_max, {})
    names = [m for m in result.methods if m in row and row[m].ratio is not None]
    ratios = [row[m].ratio or 0.0 for m in names]
    bars = right.bar(names, ratios)
    right.bar_label(bars, labels=[f"{r:.2f}x" for r in ratios], fontsize=8)
    right.axhline(1.0, color="0.4", lw=0.8, ls=":")
    right.set_ylabel(f"time / {result.baseline}'s time")
    right.set_title(f"ratios at N = {n_max:,}")
    right.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    from geograd.fileio import atomic_path

    with atomic_path(path, "--plot") as tmp:
        fig.savefig(tmp, format=str(path).rsplit(".", 1)[-1])
    plt.close(fig)


# ------------------------------------------------------------------------ time to solution
#
# The race (``geograd bench --to-solution``): not one evaluation, but a whole solve of
# the same median problem by each method, timed until its objective is within ``tol``
# (relative) of the reference. See :func:`race`.

#: The racers, in the order they are run and shown; ``geograd`` is the one the ratios
#: are taken against.
RACERS: dict[str, str] = {
    "geograd": "geograd's default median solve, standard-library backend",
    "geograd-numpy": "geograd's default median solve, numpy backend",
    "torch-adam": "torch autograd + torch.optim.Adam, float64",
    "scipy-lbfgsb": "scipy.optimize.minimize L-BFGS-B on the numpy closed form",
}
#: What each racer needs besides the standard library.
RACER_NEEDS: dict[str, str | None] = {
    "geograd": None,
    "geograd-numpy": "numpy",
    "torch-adam": "torch",
    "scipy-lbfgsb": "scipy",
}
RACE_BASE = "geograd"
RACE_N = 100_000
RACE_TOL = 1e-9
ADAM_LR = 0.01
RACE_MAX_STEPS = 10_000
RACE_TIME_BUDGET_S = 60.0


@dataclass
class Run:
    """One racer's run: whether it got within the tolerance, and when.

    ``time_s``, ``steps`` and ``evaluations`` are at the first iterate within the
    tolerance when ``reached``; otherwise what the run took before it stopped, for
    ``stop``: ``max_steps`` (the step cap), ``time`` (the time budget), or the method's
    own stopping rule (``converged: ...``) or failure. ``objective`` is the last
    iterate's (the one within tolerance, when reached).
    """

    reached: bool
    time_s: float
    steps: int
    evaluations: int
    objective: float
    stop: str


@dataclass
class Racer:
    """A racer's runs over the rounds (a racer that misses in one round runs no more)."""

    name: str
    description: str
    setup_s: float
    runs: list[Run] = field(default_factory=list)
    #: Settings worth printing (the optimizer geograd's default solve uses, Adam's lr, ...).
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def reached(self) -> bool:
        return bool(self.runs) and all(r.reached for r in self.runs)

    @property
    def time_s(self) -> float:
        """The median time to the tolerance; when not reached, the median time it ran (a
        lower bound of its time to the tolerance)."""
        return statistics.median(r.time_s for r in self.runs)

    @property
    def steps(self) -> int:
        return int(statistics.median(r.steps for r in self.runs))

    @property
    def evaluations(self) -> int:
        return int(statistics.median(r.evaluations for r in self.runs))

    @property
    def stop(self) -> str:
        misses = [r.stop for r in self.runs if not r.reached]
        return misses[0] if misses else "reached"


def ratio(racer: Racer, base: Racer) -> tuple[float | None, str]:
    """``racer``'s time over ``base``'s, and what the figure is: ``=`` (both reached: the
    ratio itself), ``>=`` (only ``base`` reached: ``racer``'s time is a lower bound, so
    is the ratio), ``<=`` (only ``racer`` reached) or ``?`` (neither: no ratio, None)."""
    value = racer.time_s / base.time_s if base.time_s > 0 else math.inf
    if racer.reached and base.reached:
        return value, "="
    if base.reached:
        return value, ">="
    if racer.reached:
        return value, "<="
    return None, "?"


@dataclass
class Race:
    """Everything one ``geograd bench --to-solution`` run measured (``to_dict()``: JSON)."""

    n: int
    seed: int
    tol: float
    rounds: int
    max_steps: int
    time_budget_s: float
    reference: dict[str, Any]
    x0: list[float]
    target: float
    racers: list[Racer]
    skipped: dict[str, str]
    #: The objective at the start x0 (the problem's, as the reference computes it); at or
    #: below ``target`` when the start already solves the problem (one point, ...).
    start_objective: float | None = None

    @property
    def solved_at_start(self) -> bool:
        """Whether the start is already within the tolerance: there is nothing to solve,
        and the times are the methods' overheads, not solves."""
        return self.start_objective is not None and self.start_objective <= self.target

    def racer(self, name: str) -> Racer | None:
        return next((r for r in self.racers if r.name == name), None)

    def ratios(self) -> dict[str, tuple[float | None, str]]:
        """Each racer's time over geograd's (see :func:`ratio`); empty without geograd."""
        base = self.racer(RACE_BASE)
        return {} if base is None else {r.name: ratio(r, base) for r in self.racers}

    def to_dict(self) -> dict[str, Any]:
        ratios = self.ratios()
        return {
            "mode": "to-solution",
            "objective": "mean distance to N uniform points in the unit square (the median "
            "problem's data)",
            "n": self.n,
            "seed": self.seed,
            "tol": self.tol,
            "target": self.target,
            "reference": self.reference,
            "x0": self.x0,
            "start_objective": self.start_objective,
            "solved_at_start": self.solved_at_start,
            "rounds": self.rounds,
            "max_steps": self.max_steps,
            "time_budget_s": self.time_budget_s,
            "base": RACE_BASE,
            "ratio": f"time / {RACE_BASE}'s time (how many times faster {RACE_BASE} is); "
            "bound '>=' when only geograd reached the tolerance, '<=' when only the other did",
            "unavailable": self.skipped,
            "results": [
                {
                    "method": r.name,
                    "description": r.description,
                    "settings": r.settings,
                    "reached": r.reached,
                    "time_s": r.time_s,
                    "times_s": [run.time_s for run in r.runs],
                    "steps": r.steps,
                    "evaluations": r.evaluations,
                    "objective": r.runs[-1].objective,
                    "relative_gap": _gap(r.runs[-1].objective, self.reference["loss"]),
                    "stop": r.stop,
                    "setup_s": r.setup_s,
                    "ratio_to_base": None if r.name not in ratios else ratios[r.name][0],
                    "ratio_bound": None if r.name not in ratios else ratios[r.name][1],
                }
                for r in self.racers
            ],
        }


def judged(run: Run, target: float) -> Run:
    """``run`` judged by its objective, the same way for every racer: a run that stopped
    (by its own rule, a cap, the budget) with its objective at or below ``target`` did
    reach the tolerance, with the time and steps it took. (A solve that stops before
    its first callback, because the start is already the solution, never sees the
    target in its callback; its objective says it is there.)"""
    if run.reached or not run.objective <= target:
        return run
    return Run(True, run.time_s, run.steps, run.evaluations, run.objective, "reached")


def _gap(f: float, ref: float) -> float:
    return (f - ref) / abs(ref) if ref != 0 else f - ref


def racer_unavailable(name: str) -> str | None:
    """Why racer ``name`` cannot run here (its library cannot be imported), or None."""
    need = RACER_NEEDS[name]
    if need is None:
        return None
    try:
        _optional(need)
    except Exception as exc:  # ImportError, or a broken install
        return f"{need} cannot be imported ({type(exc).__name__}: {exc})"[:160]
    if name == "geograd-numpy":
        from geograd.problems.base import numpy_backend_problem

        why: str | None = numpy_backend_problem()
        return why
    return None


def race(
    n: int = RACE_N,
    methods: Sequence[str] | None = None,
    rounds: int = 3,
    tol: float = RACE_TOL,
    max_steps: int = RACE_MAX_STEPS,
    time_budget_s: float = RACE_TIME_BUDGET_S,
    seed: int = 5,
    optimizer: str | None = None,
    adam_lr: float = ADAM_LR,
    progress: Callable[[str], None] | None = None,
) -> Race:
    """Race the methods to the median of ``n`` seeded points (see ``geograd bench --help``).

    Every racer solves the same problem: the median problem's data (``seed``), from its
    start x0 (the centroid), with the same objective (the mean distance). The target is
    f* + tol·|f*|, f* the problem's reference objective (Weiszfeld, to 1e-12). A racer's
    time runs from the start of its solve (its data already built: ``setup_s``, not
    counted) to the first iterate whose objective, as the method itself computed it, is
    within the target; it stops there. It also stops at ``max_steps`` steps, at
    ``time_budget_s`` seconds, or by its own stopping rule, and is then reported as not
    reached, with what it took. geograd runs its default median solve (the problem's
    settings; ``optimizer`` names another of ours, with the problem's settings for it),
    which keeps its own stopping rules: stopping short of the tolerance is a miss.
    torch runs Adam(lr=``adam_lr``); scipy L-BFGS-B runs with its own tests off
    (ftol = gtol = 0) and stops at the target through its callback.

    Every run is judged by :func:`judged`: reached when its objective is at or below the
    target, whatever stopped it. Rounds are interleaved (the order rotates), after one
    untimed warm-up of two steps (at most ``max_steps``) per racer; a racer that misses
    the target in a round runs no more rounds (its time is already a lower bound).

    Bounded work: racers that reach the target in their warm-up run every round, so
    their rounds are timed once more, and a race they would keep busy for more than
    :data:`MAX_BENCH_SECONDS` is refused before round 1; after round 1, a race whose
    remaining rounds (of the racers that reached the target) would take longer than
    that stops there. Both are input errors (:func:`check_rounds`).
    """
    from geograd.problems import get_problem

    names = list(methods) if methods else list(RACERS)
    for name in names:
        if name not in RACERS:
            raise ValueError(f"unknown method {name!r}; known: {', '.join(RACERS)}")
    skipped = {m: why for m in names if (why := racer_unavailable(m)) is not None}
    names = [m for m in names if m not in skipped]
    say = progress or (lambda text: None)

    base = get_problem("median", n=n, seed=seed, backend="python")
    started = time.perf_counter()
    ref = base.reference()
    reference = {"loss": ref.loss, "x": list(ref.x), "method": ref.method,
                 "time_s": time.perf_counter() - started}  # fmt: skip
    target = ref.loss + tol * abs(ref.loss)
    x0 = [float(v) for v in base.x0]
    start_objective = float(base.objective(x0))
    xs, ys = (list(c) for c in base.columns)

    runners: dict[str, Callable[[int, float], Run]] = {}
    racers: list[Racer] = []
    for name in names:
        t0 = time.perf_counter()
        settings: dict[str, Any] = {}
        if name in ("geograd", "geograd-numpy"):
            problem = (
                base
                if name == "geograd"
                else get_problem("median", n=n, seed=seed, backend="numpy")
            )
            if problem is not base and not _same_data(problem, base, x0):
                skipped[name] = "the numpy backend drew other points than the standard library"
                continue
            own = problem.settings_for(optimizer)
            settings = {"optimizer": own["optimizer"], "backend": problem.backend}
            runners[name] = _geograd_runner(problem, optimizer, target)
        elif name == "torch-adam":
            settings = {"lr": adam_lr, "threads": _optional("torch").get_num_threads()}
            runners[name] = _torch_adam_runner(xs, ys, x0, target, adam_lr)
        else:
            runners[name] = _scipy_runner(xs, ys, x0, target)
        what = RACERS[name]
        if optimizer is not None and name in ("geograd", "geograd-numpy"):
            what = what.replace("default median solve", "median solve (--optimizer)")
        racers.append(Racer(name, what, time.perf_counter() - t0, settings=settings))
    warm = min(2, max_steps)
    quick = []  # racers at the target within the warm-up: they will run every round
    for racer in racers:  # untimed: imports, warm buffers, torch's first call
        if judged(runners[racer.name](warm, time_budget_s), target).reached:
            quick.append(racer)
    if quick and rounds > 1:
        per_round = 0.0
        for racer in quick:
            start = time.perf_counter()
            gc.collect()
            runners[racer.name](warm, time_budget_s)
            per_round += time.perf_counter() - start
        who = ", ".join(r.name for r in quick)
        verbs = ("reaches", "runs") if len(quick) == 1 else ("reach", "run")
        check_rounds(rounds, per_round,
                     f"{who} {verbs[0]} the tolerance within {warm} steps, so {verbs[1]} every "
                     f"round: {_seconds(per_round)} a round here")  # fmt: skip
    say(f"reference ({ref.method}): objective {ref.loss!r}; target {target!r}")
    if start_objective <= target:
        say(f"the start is already within the tolerance (objective {start_objective!r})")
    active = list(racers)
    for k in range(rounds):
        order = active[k % len(active) :] + active[: k % len(active)] if active else []
        slots: dict[str, float] = {}
        for racer in order:
            start = time.perf_counter()
            gc.collect()
            run = judged(runners[racer.name](max_steps, time_budget_s), target)
            slots[racer.name] = time.perf_counter() - start
            racer.runs.append(run)
            what = "reached" if run.reached else f"not reached ({run.stop})"
            say(f"round {k + 1}: {racer.name} {what} in {_ms(run.time_s)}, {run.steps} steps")
        active = [r for r in active if r.reached]
        if k == 0 and rounds > 1 and active:
            per_round = sum(slots[r.name] for r in active)
            who = ", ".join(r.name for r in active)
            check_rounds(rounds, per_round,
                         f"round 1 of {who}, which reached the tolerance and so "
                         f"{'runs' if len(active) == 1 else 'run'} every round, took "
                         f"{_seconds(per_round)} here",
                         at_least=False, prefix="stopped after round 1: ")  # fmt: skip
    return Race(n, seed, tol, rounds, max_steps, time_budget_s, reference, x0, target,
                racers, skipped, start_objective=start_objective)  # fmt: skip


def _same_data(problem: Any, base: Any, x0: list[float]) -> bool:
    """Whether ``problem`` holds ``base``'s points, checked by the start (the centroid)
    and the objective there: the same to rounding (numpy sums in another order)."""
    ours, theirs = problem.objective(x0), base.objective(x0)
    near = abs(ours - theirs) <= 1e-12 * abs(theirs)
    return near and all(abs(a - b) <= 1e-12 for a, b in zip(problem.x0, x0))


def _geograd_runner(
    problem: Any, optimizer: str | None, target: float
) -> Callable[[int, float], Run]:
    own_steps = int(problem.settings_for(optimizer).get("max_steps", 1000))

    def run(max_steps: int, budget: float) -> Run:
        seen: dict[str, Any] = {}
        start = time.perf_counter()

        def callback(progress: Any) -> bool:
            if progress.loss <= target:
                seen["t"] = time.perf_counter() - start
                seen["step"] = progress.step
                return True  # stop here: the tolerance is reached
            return False

        overrides: dict[str, Any] = {"callback": callback, "time_limit": budget}
        if max_steps < own_steps:
            overrides["max_steps"] = max_steps
        result = problem.solve(optimizer, **overrides)
        elapsed = time.perf_counter() - start
        if "t" in seen:
            return Run(True, seen["t"], seen["step"], result.evaluations, result.loss, "reached")
        stop = {"time_limit": "time", "max_steps": "max_steps"}.get(result.reason)
        if stop is None:
            stop = ("converged: " if result.converged else "") + result.reason
        return Run(False, elapsed, result.steps, result.evaluations, result.loss, stop)

    return run


def _torch_adam_runner(
    xs: list[float], ys: list[float], x0: list[float], target: float, lr: float
) -> Callable[[int, float], Run]:
    torch = _optional("torch")
    tx = torch.tensor(xs, dtype=torch.float64)
    ty = torch.tensor(ys, dtype=torch.float64)

    def run(max_steps: int, budget: float) -> Run:
        start = time.perf_counter()
        p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=lr)
        step = 0
        while True:
            opt.zero_grad()
            loss = torch.hypot(tx - p[0], ty - p[1]).mean()
            f = float(loss.detach())
            elapsed = time.perf_counter() - start
            if f <= target:
                return Run(True, elapsed, step, step + 1, f, "reached")
            if step >= max_steps or elapsed >= budget:
                stop = "max_steps" if step >= max_steps else "time"
                return Run(False, elapsed, step, step + 1, f, stop)
            loss.backward()
            opt.step()
            step += 1

    return run


class _AtTarget(Exception):
    """Raised by the scipy racer's objective at a start already within the target (its
    callback sees only the iterates after the first step)."""


def _scipy_runner(
    xs: list[float], ys: list[float], x0: list[float], target: float
) -> Callable[[int, float], Run]:
    import numpy as np
    from scipy.optimize import minimize as scipy_minimize  # type: ignore[import-untyped]

    median = _numpy_median(xs, ys)

    def fun(z: Any) -> tuple[float, Any]:
        loss, grad = median(z)
        return loss, np.array(grad)

    def run(max_steps: int, budget: float) -> Run:
        count = [0]
        state: dict[str, Any] = {"steps": 0, "f": math.inf}
        start = time.perf_counter()

        def counted(z: Any) -> tuple[float, Any]:
            count[0] += 1
            loss, grad = fun(z)
            if count[0] == 1 and loss <= target:  # the start (scipy evaluates it first)
                state["t"] = time.perf_counter() - start
                state["f"] = loss
                raise _AtTarget  # as torch's loop checks it: its iterate 0 is within
            return loss, grad

        def callback(intermediate_result: Any) -> None:
            state["steps"] += 1
            state["f"] = float(intermediate_result.fun)
            if state["f"] <= target:
                state["t"] = time.perf_counter() - start
                raise StopIteration
            if time.perf_counter() - start >= budget:
                state["stop"] = "time"
                raise StopIteration

        try:
            options = {"maxiter": max_steps, "ftol": 0.0, "gtol": 0.0}
            res = scipy_minimize(counted, np.asarray(x0), jac=True, method="L-BFGS-B",
                                 callback=callback, options=options)  # fmt: skip
        except _AtTarget:
            return Run(True, state["t"], 0, count[0], state["f"], "reached")
        elapsed = time.perf_counter() - start
        if "t" in state:
            return Run(True, state["t"], state["steps"], count[0], state["f"], "reached")
        stop = state.get("stop") or (
            "max_steps" if state["steps"] >= max_steps else f"stopped: {res.message}"
        )
        f = float(res.fun) if state["steps"] == 0 else state["f"]
        return Run(False, elapsed, state["steps"], count[0], f, stop)

    return run


def race_table(result: Race) -> str:
    """The race as text: per racer its time to the tolerance, steps, evaluations and
    ratio to geograd's time, then the headline ratio against torch + Adam."""
    ref = result.reference
    lines = [
        f"geometric median, N = {result.n:,} (seed {result.seed}), from the centroid: time "
        f"until the objective is within {result.tol:g} (relative) of the reference "
        f"{ref['loss']!r} ({ref['method']}); median of {result.rounds} interleaved rounds; "
        "data setup not timed",
    ]
    header = (f"{'method':<14} {'time':>10} {'steps':>6} {'evals':>6}  {'reached':<26}"
              f" {'/ geograd':>10}  {'setup':>9}  what")  # fmt: skip
    lines += [header, "-" * len(header)]
    ratios = result.ratios()
    for r in result.racers:
        value, bound = ratios.get(r.name, (None, "?"))
        rtext = "-" if value is None else ("" if bound == "=" else bound) + f"{value:.3g}x"
        reached = "yes" if r.reached else f"no: {r.stop}"
        time_text = ("" if r.reached else ">=") + _ms(r.time_s)
        extra = ", ".join(f"{k}={v}" for k, v in r.settings.items())
        what = r.description + (f" ({extra})" if extra else "")
        lines.append(
            f"{r.name:<14} {time_text:>10} {r.steps:>6} {r.evaluations:>6}  {reached[:26]:<26}"
            f" {rtext:>10}  {_ms(r.setup_s):>9}  {what}"
        )
    lines.append(
        f"ratio = time / {RACE_BASE}'s time (how many times faster {RACE_BASE} is); "
        "'>=': only geograd reached the tolerance, so the figure is a lower bound "
        f"(the other stopped at {result.max_steps:,} steps or {result.time_budget_s:g} s, "
        "or by its own rule)"
    )
    adam = result.racer("torch-adam")
    if adam is not None and "torch-adam" in ratios:
        value, bound = ratios["torch-adam"]
        if value is None:
            lines.append("neither geograd nor torch + Adam reached the tolerance: no ratio")
        else:
            # value = torch's time / geograd's: below 1, geograd is 1/value times slower
            # (and a bound on the ratio turns around with it)
            faster = value >= 1 or value == 0
            if not faster:
                bound = {"=": "=", ">=": "<=", "<=": ">="}[bound]
            word = {"=": "", ">=": "at least ", "<=": "at most "}[bound]
            figure = f"{value:.3g}x faster" if faster else f"{1 / value:.3g}x slower"
            lines.append(
                f"geograd (standard library) against torch + Adam (lr {adam.settings['lr']:g}):"
                f" {word}{figure} to the tolerance (target: at least 10x)"
            )
    if result.solved_at_start:
        lines.append(
            f"the start (the centroid, objective {result.start_objective!r}) is already within "
            "the tolerance: there is nothing to solve, and these times are each method's "
            "overhead (with any step it takes before it looks), not a solve"
        )
    for name, why in result.skipped.items():
        lines.append(f"not run: {name} ({why})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """``python -m geograd.bench``: the same study as ``geograd bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m geograd.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=0.1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--plot", default=None)
    parser.add_argument("--to-solution", action="store_true", help="race whole solves")
    parser.add_argument("--n", type=int, default=RACE_N, help="--to-solution: points")
    parser.add_argument("--tol", type=float, default=RACE_TOL, help="--to-solution: tolerance")
    parser.add_argument("--modes", action="store_true", help="forward against reverse mode")
    args = parser.parse_args(argv)
    try:
        _main(args, argv)
    except InputError as exc:  # a request refused (bounded work): one line, exit 2
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        sys.exit(2)


def _main(args: argparse.Namespace, argv: list[str] | None) -> None:
    if args.modes:
        from geograd import modes

        given = "--sizes" in (argv or sys.argv)
        rounds = args.rounds if "--rounds" in (argv or sys.argv) else modes.ROUNDS
        say = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
        check_modes(rounds, min(args.sizes if given else modes.SIZES))
        measured = modes.study(args.sizes if given else modes.SIZES, rounds, progress=say)
        if args.plot:
            modes.plot(measured, args.plot)
        if args.json:
            import json

            print(json.dumps(measured.to_dict(), indent=2))
        else:
            print(modes.table(measured))
        return
    if args.to_solution:
        rounds = args.rounds if "--rounds" in (argv or sys.argv) else 3
        found = race(args.n, args.methods, rounds, args.tol,
                     progress=lambda s: print(s, file=sys.stderr, flush=True))  # fmt: skip
        if args.json:
            import json

            print(json.dumps(found.to_dict(), indent=2))
        else:
            print(race_table(found))
        return
    result = study(args.sizes, args.methods, args.rounds, args.budget,
                   progress=lambda s: print(s, file=sys.stderr, flush=True))  # fmt: skip
    if args.plot:
        plot(result, args.plot)
    if args.json:
        import json

        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(table(result))


if __name__ == "__main__":
    main()
