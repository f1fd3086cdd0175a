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


def _numpy(xs: list[float], ys: list[float]) -> Callable[[], Evaluation]:
    import numpy as np

    ax, ay = np.asarray(xs), np.asarray(ys)

    def call() -> Evaluation:
        dx, dy = ax - P0[0], ay - P0[1]
        d = np.hypot(dx, dy)
        inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
        n = len(ax)
        return float(d.sum()) / n, [-float(dx @ inv) / n, -float(dy @ inv) / n]

    return call


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


def study(
    sizes: Sequence[int],
    methods: Sequence[str] | None = None,
    rounds: int = 5,
    budget_s: float = 0.1,
    memory: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Run the study (see the module docstring) and return what it measured."""
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
    active = list(runnable)
    largest: dict[str, tuple[int, Callable[[], Evaluation]]] = {}
    for n in result.sizes:
        if not active:
            break
        xs, ys = seed_points(n)
        want_value, want_grad = closed_form(xs, ys)
        calls = {m.name: m.prepare(xs, ys) for m in active}
        row = {name: Cell() for name in calls}
        for name, call in calls.items():  # untimed: warm buffers, jit compiled
            value, grad = call()
            row[name].agrees = _agrees(value, grad, want_value, want_grad)
        for _ in range(rounds):
            took: dict[str, float] = {}
            for name, call in calls.items():
                gc.collect()
                start = time.perf_counter()
                call()
                took[name] = time.perf_counter() - start
                row[name].times.append(took[name])
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
        for name, (n, call) in largest.items():
            result.peak_mb[name] = (n, peak_memory_mb(call))
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
    args = parser.parse_args(argv)
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
