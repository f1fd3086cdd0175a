"""``geograd bench --modes``: the full gradient of f: R^n -> R by forward and by reverse mode.

The seed tutorials' argument, measured. For

    f(x) = log Σ_i e^(x_i) + Σ_i x_i tanh(x_i),
    ∂f/∂x_i = softmax(x)_i + tanh(x_i) + x_i (1 − tanh²(x_i)),

at a seeded x in [-1, 1]^n, the gradient is computed

- by **forward mode**: n JVPs, ``jvp(f, (x,), (e_i,))`` for each basis vector e_i,
  each giving one entry ∂f/∂x_i (one evaluation of f with its tangent each);
- by **reverse mode**: one VJP, ``vjp(f, (x,))`` and its pullback at 1 (one evaluation
  of f recording its graph, one backward pass), giving all n entries at once.

One JVP costs about what one VJP costs, so forward mode's time grows like n times
reverse mode's: the ratio forward/reverse is about n (times the cost of one JVP over
one VJP, the last column). That is why gradient-based training runs reverse mode,
and why forward mode wins the other way round (f: R -> R^m, one JVP against m VJPs).

Measured as the evaluation study is (:mod:`geograd.bench`): each size runs ``rounds``
rounds, both modes once per round, interleaved; the table gives medians, the ratio is
taken within each round. One untimed call of each first. Both gradients are checked
against each other. The engine runs on the standard library's backend.

Standard library only; matplotlib is imported by :func:`plot` alone.
"""

from __future__ import annotations

import gc
import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geograd.functional as F
from geograd.forward import jvp, vjp
from geograd.tensor import Tensor

#: The default n: from 1 to 1000, about evenly on a log scale.
SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
#: The largest n accepted: forward mode does n evaluations of f, n² work in all.
MAX_N = 10_000
ROUNDS = 5
OBJECTIVE = "f(x) = log Σ e^x_i + Σ x_i tanh(x_i), f: R^n -> R"


def objective(x: Tensor) -> Tensor:
    """log Σ_i e^(x_i) + Σ_i x_i tanh(x_i): every entry of the gradient depends on all of x
    (through the softmax), so no mode can shortcut it."""
    return F.logsumexp(x) + F.sum(x * F.tanh(x))


def point(n: int, seed: int = 5) -> list[float]:
    r = random.Random(seed)
    return [r.uniform(-1.0, 1.0) for _ in range(n)]


def gradient_forward(f: Callable[[Tensor], Tensor], x: Tensor) -> list[float]:
    """∇f(x) by forward mode: one JVP per basis vector e_i, each giving ∂f/∂x_i."""
    n = x.shape[0]
    grad = []
    for i in range(n):
        e_i = [0.0] * n
        e_i[i] = 1.0
        grad.append(jvp(f, (x,), (e_i,))[1].item())
    return grad


def gradient_reverse(f: Callable[[Tensor], Tensor], x: Tensor) -> list[float]:
    """∇f(x) by reverse mode: one VJP, the pullback of the cotangent 1."""
    _, pullback = vjp(f, (x,))
    (g,) = pullback(1.0)
    return list(g.tolist())


@dataclass
class Row:
    """One n: the times of each mode's rounds, and whether their gradients agree."""

    n: int
    forward_s: list[float] = field(default_factory=list)
    reverse_s: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    max_difference: float = 0.0

    @property
    def forward(self) -> float:
        return statistics.median(self.forward_s)

    @property
    def reverse(self) -> float:
        return statistics.median(self.reverse_s)

    @property
    def ratio(self) -> float:
        """forward / reverse, the median of the ratios within each round."""
        return statistics.median(self.ratios)

    @property
    def agrees(self) -> bool:
        return self.max_difference <= 1e-12

    @property
    def per_call(self) -> float:
        """One JVP over one VJP: the ratio divided by the n JVPs it took."""
        return self.ratio / self.n


@dataclass
class ModesStudy:
    """What one ``geograd bench --modes`` run measured (``to_dict()`` is its JSON)."""

    rounds: int
    rows: list[Row] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": OBJECTIVE,
            "backend": "python",
            "rounds": self.rounds,
            "forward": "n JVPs, one per basis vector",
            "reverse": "one VJP (pullback of 1)",
            "results": [
                {
                    "n": row.n,
                    "forward_median_s": row.forward,
                    "reverse_median_s": row.reverse,
                    "forward_over_reverse": row.ratio,
                    "one_jvp_over_one_vjp": row.per_call,
                    "forward_s": row.forward_s,
                    "reverse_s": row.reverse_s,
                    "agrees": row.agrees,
                    "max_difference": row.max_difference,
                }
                for row in self.rows
            ],
        }


def study(
    sizes: Sequence[int] = SIZES,
    rounds: int = ROUNDS,
    progress: Callable[[str], None] | None = None,
) -> ModesStudy:
    """Time the full gradient by both modes at each n (see the module docstring)."""
    result = ModesStudy(rounds)
    for n in sorted(set(sizes)):
        x = Tensor(point(n))
        row = Row(n)
        fwd = gradient_forward(objective, x)  # untimed: warm, and the check
        rev = gradient_reverse(objective, x)
        row.max_difference = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(fwd, rev))
        for _ in range(rounds):
            took = []
            for mode in (gradient_forward, gradient_reverse):
                gc.collect()
                start = time.perf_counter()
                mode(objective, x)
                took.append(time.perf_counter() - start)
            row.forward_s.append(took[0])
            row.reverse_s.append(took[1])
            row.ratios.append(took[0] / took[1])
        result.rows.append(row)
        if progress is not None:
            progress(
                f"n = {n:,}: forward {_ms(row.forward)}, reverse {_ms(row.reverse)}, "
                f"ratio {_times(row.ratio)}"
            )
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.3g}x"


def table(result: ModesStudy) -> str:
    """The study as text: both modes' times, their ratio, and one JVP against one VJP."""
    lines = [
        f"the full gradient of {OBJECTIVE} (standard-library backend)",
        "forward mode: n JVPs, one per basis vector e_i; reverse mode: one VJP; "
        f"median of {result.rounds} interleaved rounds",
    ]
    header = (
        f"{'n':>7}  {'forward (n JVPs)':>17}  {'reverse (1 VJP)':>16}  "
        f"{'forward/reverse':>16}  {'1 JVP / 1 VJP':>14}"
    )
    lines += [header, "-" * len(header)]
    for row in result.rows:
        wrong = "" if row.agrees else "  WRONG"
        lines.append(
            f"{row.n:>7,}  {_ms(row.forward):>17}  {_ms(row.reverse):>16}  "
            f"{_times(row.ratio):>16}  {row.per_call:>14.2f}{wrong}"
        )
    if result.rows:
        big = result.rows[-1]
        lines.append(
            f"at n = {big.n:,} forward mode took {_times(big.ratio)} as long as reverse mode:\n"
            f"n evaluations of f against one, and one JVP costs {big.per_call:.2f} VJPs"
        )
    return "\n".join(lines)


def plot(result: ModesStudy, path: str) -> None:
    """Time against n for both modes (log-log), and forward/reverse against n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [row.n for row in result.rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.loglog(ns, [row.forward for row in result.rows], marker="o", label="forward: n JVPs")
    left.loglog(ns, [row.reverse for row in result.rows], marker="s", label="reverse: 1 VJP")
    left.set_xlabel("n (inputs of f: R^n -> R)")
    left.set_ylabel("seconds for the full gradient (median)")
    left.set_title("the full gradient, by each mode")
    left.legend(fontsize=9)
    left.grid(True, which="both", alpha=0.3)
    right.loglog(ns, [row.ratio for row in result.rows], marker="o", label="forward / reverse")
    if ns:
        # the reference line: ratio = n times what one JVP costs against one VJP
        c = math.exp(statistics.mean(math.log(row.per_call) for row in result.rows))
        right.loglog(ns, [c * n for n in ns], ls="--", color="0.5", label=f"{c:.2f} · n")
    right.set_xlabel("n")
    right.set_ylabel("forward time / reverse time")
    right.set_title("forward mode costs n evaluations, reverse one")
    right.legend(fontsize=9)
    right.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    from geograd.fileio import atomic_path

    with atomic_path(path, "--plot") as tmp:
        fig.savefig(tmp, format=str(path).rsplit(".", 1)[-1])
    plt.close(fig)
