"""``python -m geograd.bench``: how fast is the engine on the geometric-median objective?

For N points from the seed generator (``random.Random(5)``), one evaluation of
L(p) = mean_i ||a_i - p|| and its gradient at p = (0.3, 0.3), timed three ways:

(a) engine, vector ops: ``F.mean(F.hypot(xs - p[0], ys - p[1]))`` and ``backward()``;
(b) engine, scalar graph: one 0-D node per point and operation (micrograd's way);
(c) closed form: a hand-written loop with ``math.hypot``, no engine at all.

It prints the best of several runs for each, the ratios a/c and b/a, and the peak
memory of (a) at the largest N (measured with tracemalloc in a run of its own,
because tracing slows the timed runs). Standard library only.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import time
import tracemalloc
from collections.abc import Callable

import geograd.functional as F
from geograd.tensor import Tensor


def seed_points(n: int, seed: int = 5) -> tuple[list[float], list[float]]:
    """The seed documents' generator: all x first, then all y, uniform on [0, 1]."""
    r = random.Random(seed)
    xs = [r.uniform(a=0, b=1) for _ in range(n)]
    ys = [r.uniform(a=0, b=1) for _ in range(n)]
    return xs, ys


def engine_vector(xs: Tensor, ys: Tensor, p0: tuple[float, float]) -> tuple[float, list[float]]:
    """(a): the loss through the engine's 1-D operations."""
    p = Tensor(list(p0), requires_grad=True)
    loss = F.mean(F.hypot(xs - p[0], ys - p[1]))
    loss.backward()
    assert p.grad is not None
    return loss.item(), p.grad.tolist()


def engine_scalar(
    xs: list[float], ys: list[float], p0: tuple[float, float]
) -> tuple[float, list[float]]:
    """(b): one 0-D node per point and operation, as micrograd builds it."""
    px = Tensor(p0[0], requires_grad=True)
    py = Tensor(p0[1], requires_grad=True)
    total = Tensor(0.0)
    for x, y in zip(xs, ys):
        total = total + F.hypot(x - px, y - py)
    loss = total / float(len(xs))
    loss.backward()
    assert px.grad is not None and py.grad is not None
    return loss.item(), [px.grad.item(), py.grad.item()]


def closed_form(
    xs: list[float], ys: list[float], p0: tuple[float, float]
) -> tuple[float, list[float]]:
    """(c): the loss and its closed-form gradient in one plain loop with running sums.

    This is the loop one writes by hand, and the fastest pure-Python one we found; its
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


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by the machine)."""
    best = math.inf
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory_mb(fn: Callable[[], object]) -> float:
    """Peak traced memory of one call of ``fn``, in MB, above what existed before it."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


def engine_memory_mb(n: int, p0: tuple[float, float]) -> tuple[float, float]:
    """(peak, inputs): the traced peak in MB of generating N points, building their two
    coordinate tensors and evaluating (a) once; and what the points and tensors hold."""
    gc.collect()
    tracemalloc.start()
    xs, ys = seed_points(n)
    txs, tys = Tensor(xs), Tensor(ys)
    inputs = tracemalloc.get_traced_memory()[0]
    engine_vector(txs, tys, p0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6, inputs / 1e6


def storage_comparison(n: int = 100_000) -> None:
    """Why floatarray stores a list: list against array.array on the engine's inner loops."""
    import array
    import operator

    a = [random.random() for _ in range(n)]
    b = [random.random() for _ in range(n)]
    aa, ab = array.array("d", a), array.array("d", b)
    cases = [
        ("elementwise sub", lambda: list(map(operator.sub, a, b)),
         lambda: array.array("d", map(operator.sub, aa, ab))),
        ("hypot", lambda: list(map(math.hypot, a, b)),
         lambda: array.array("d", map(math.hypot, aa, ab))),
        ("fsum", lambda: math.fsum(a), lambda: math.fsum(aa)),
    ]  # fmt: skip
    print(f"storage at n = {n:,}: best of 5, ms")
    print(f"  {'operation':<16} {'list':>8} {'array.array':>12}")
    for name, on_list, on_array in cases:
        t_list, t_array = best_time(on_list, 5), best_time(on_array, 5)
        print(f"  {name:<16} {t_list * 1e3:8.2f} {t_array * 1e3:12.2f}")
    mem_list = peak_memory_mb(lambda: [float(i) for i in range(n)])
    mem_array = peak_memory_mb(lambda: array.array("d", range(n)))
    print(f"  memory: list {mem_list:.1f} MB, array.array {mem_array:.1f} MB")


def row(n: int, scalar_max: int, repeat: int, p0: tuple[float, float]) -> str:
    """One line of the table: the three timings at N = n and their ratios."""
    xs, ys = seed_points(n)
    txs, tys = Tensor(xs), Tensor(ys)
    reps = repeat if n <= 100_000 else max(1, repeat // 3)
    ta = best_time(lambda: engine_vector(txs, tys, p0), reps)
    tc = best_time(lambda: closed_form(xs, ys, p0), reps)
    la, ga = engine_vector(txs, tys, p0)
    lc, gc_ = closed_form(xs, ys, p0)
    agree = abs(la - lc) <= 1e-9 and max(abs(u - v) for u, v in zip(ga, gc_)) <= 1e-9
    if n <= scalar_max:
        tb = best_time(lambda: engine_scalar(xs, ys, p0), 1)
        b_col, ba_col = f"{tb * 1e3:10.1f}ms", f"{tb / ta:7.1f}"
    else:
        b_col, ba_col = f"{'skipped':>12}", f"{'-':>7}"
    line = f"{n:>9,} {ta * 1e3:10.2f}ms {b_col} {tc * 1e3:10.2f}ms {ta / tc:6.2f} {ba_col}"
    return line + ("" if agree else "   (a) and (c) DISAGREE")


def run(sizes: list[int], scalar_max: int, repeat: int) -> None:
    """Print the timing table for ``sizes`` and the peak memory at the largest."""
    p0 = (0.3, 0.3)
    print("geometric median, one loss + gradient evaluation at p = (0.3, 0.3); best of runs")
    header = (
        f"{'N':>9} {'(a) vector':>12} {'(b) scalar':>12} {'(c) closed':>12} {'a/c':>6} {'b/a':>7}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        print(row(n, scalar_max, repeat, p0), flush=True)
    n = sizes[-1]
    peak, inputs = engine_memory_mb(n, p0)
    print(
        f"peak memory of (a) at N = {n:,}: {peak:.0f} MB traced, of which the input points "
        f"and their two coordinate tensors hold {inputs:.0f} MB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m geograd.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--scalar-max", type=int, default=100_000,
                        help="largest N for the scalar graph (b), which is slow")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--storage", action="store_true", help="also compare list and array.array")
    args = parser.parse_args(argv)
    run(args.sizes, args.scalar_max, args.repeat)
    if args.storage:
        storage_comparison()


if __name__ == "__main__":
    main()
