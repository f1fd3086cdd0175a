"""Toy problems for the plot tests: a circle fit drawn by ``draw_estimate``.

Shared by tests/test_plot.py and tests/test_cli_plot.py (pytest puts this folder
on sys.path, so ``from toy_problems import Ring`` works from either).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geograd.functional as F
from geograd import Tensor
from geograd.problems import Option, Problem, Reference


class Ring(Problem):
    """Fit a circle x = (cx, cy, r) to points on one: Σ (|p − c| − r)² / n.

    Its path is the centre (``plot_xy``); ``draw_estimate`` draws the circle itself,
    as a fitted-circle problem would.
    """

    name = "ring"
    description = "a circle fit for plot tests"
    options = (Option("n", int, 16, "number of points", min=3),)

    def setup(self) -> None:
        n = self.n = int(self.settings["n"])
        self.pts = [
            (2.0 + 1.5 * math.cos(2 * math.pi * k / n), 1.0 + 1.5 * math.sin(2 * math.pi * k / n))
            for k in range(n)
        ]
        self._xs = Tensor([p[0] for p in self.pts])
        self._ys = Tensor([p[1] for p in self.pts])

    @property
    def dim(self) -> int:
        return 3

    def default_x0(self) -> list[float]:
        return [1.0, 0.0, 0.5]

    def loss(self, x: Tensor) -> Tensor:
        d = F.hypot(self._xs - x[0], self._ys - x[1]) - x[2]
        return F.mean(d * d)

    def gradient(self, x: Sequence[float]) -> list[float]:
        g = [0.0, 0.0, 0.0]
        for px, py in self.pts:
            dist = math.hypot(px - x[0], py - x[1])
            e = 2.0 * (dist - x[2]) / self.n
            g[0] += e * (x[0] - px) / dist
            g[1] += e * (x[1] - py) / dist
            g[2] -= e
        return g

    def compute_reference(self) -> Reference:
        return Reference([2.0, 1.0, 1.5], 0.0, "by construction")

    def solver_defaults(
        self, optimizer: str | None = None, max_steps: int | None = None
    ) -> dict[str, Any]:
        # a short, fixed-step run: enough frames for the plots, fast for the CLI tests
        return {"optimizer": optimizer or "adam", "lr": 0.05, "max_steps": max_steps or 80}

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        return float(x[0]), float(x[1])

    def plot_bounds(
        self, extra: Sequence[Sequence[float]] = (), margin: float = 0.05
    ) -> tuple[float, float, float, float]:
        from geograd.problems.base import bounding_box

        pts = [*self.pts, *((float(p[0]), float(p[1])) for p in extra)]
        return bounding_box([p[0] for p in pts], [p[1] for p in pts], margin)

    def draw(self, ax: Any, x: Sequence[float] | None = None, label: str = "estimate") -> list[Any]:
        return [
            ax.scatter(
                [p[0] for p in self.pts], [p[1] for p in self.pts], s=12, c="0.4",
                label=f"points (n={self.n})",
            )
        ]  # fmt: skip

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
        from matplotlib.patches import Circle

        circle = Circle(
            (x[0], x[1]), abs(x[2]) * self.picture_scale, fill=False, edgecolor=color,
            linestyle=linestyle, alpha=alpha, label=label, lw=1.5,
        )  # fmt: skip
        ax.add_patch(circle)
        return [circle]

    #: How much larger than the estimate's radius the circle is drawn (a test knob).
    picture_scale = 1.0


class Shell(Ring):
    """The same circle fit with no path point (as charges on a sphere have none)."""

    name = "shell"

    def plot_xy(self, x: Sequence[float]) -> tuple[float, float] | None:
        return None


class WideShell(Shell):
    """Draws its circles three times larger than the data: the view must widen."""

    picture_scale = 3.0
