"""minimize(): Result.history stays within HISTORY_LIMIT entries however long the run.

The rule (Result's docstring): every ``record_every``-th step; the first
HISTORY_HEAD entries kept; when full, every other later entry dropped and the
stride doubled; the best and the final iterate always in.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

import pytest

import geograd.solve
from geograd import Result, Tensor, minimize
from geograd.optim import SGD
from geograd.solve import HISTORY_LIMIT, Progress


def check_layout(r: Result, limit: int, head: int, record_every: int) -> int:
    """Assert the documented layout of r.history; return the final stride."""
    steps = r.history["step"]
    assert all(len(v) == len(steps) for v in r.history.values())
    assert len(steps) <= limit
    assert steps[0] == 0 and steps[-1] == r.steps
    assert all(a < b for a, b in itertools.pairwise(steps))
    assert steps[:head] == list(range(0, head * record_every, record_every))
    # the best iterate is in, with its own values
    i = steps.index(r.best_step)
    assert r.history["loss"][i] == r.best_loss and r.history["x"][i] == r.best_x
    # the rest are evenly spaced, at a stride of record_every times a power of 2
    body = [s for s in steps[head:] if s not in (r.best_step, r.steps)]
    stride = int(body[1] - body[0])
    assert stride % record_every == 0 and (stride // record_every).bit_count() == 1
    assert all(b - a == stride for a, b in itertools.pairwise(body))
    assert all(s % stride == 0 for s in body)
    assert r.steps - body[-1] < 2 * stride  # no gap at the end
    return stride


@pytest.mark.parametrize(
    ("record_every", "steps"),
    [
        (1, [0, 1, 2, 3, *range(64, 449, 64), 467, 500]),
        (3, [0, 3, 6, 9, *range(48, 433, 48), 467, 480, 500]),
    ],
)
def test_a_small_limit_shows_the_thinning(
    monkeypatch: pytest.MonkeyPatch, record_every: int, steps: list[int]
) -> None:
    """A limit of 20 with a head of 4, over a 500-step momentum run whose best is step 467."""
    monkeypatch.setattr(geograd.solve, "HISTORY_LIMIT", 20)
    monkeypatch.setattr(geograd.solve, "HISTORY_HEAD", 4)
    r = minimize(
        lambda x: x * x, 5.0, "momentum", lr=0.02, max_steps=500, gtol=None, xtol=None,
        record_every=record_every,
    )  # fmt: skip
    assert r.best_step == 467  # off the stride: put back in
    assert r.history["step"] == steps
    check_layout(r, 20, 4, record_every)
    assert r.history["loss"][-1] == r.loss and r.history["x"][-1] == r.x


def test_a_100k_step_run_keeps_a_bounded_history() -> None:
    """Every step is offered to the history; its size and the memory stay flat.

    Keeping every entry would add ~95,000 × 4 blocks (a step, a loss, a gradient
    norm and an x) between step 5,000 and the end; a bounded history adds at
    most the limit's worth.
    """
    blocks: dict[int, int] = {}

    def cb(p: Progress) -> None:
        if p.step in (5_000, 100_000):
            blocks[p.step] = sys.getallocatedblocks()

    def f(x: Tensor) -> Tensor:
        return (x - 1.0) * (x - 1.0) + 0.5 * x

    r: Any = minimize(f, 3.0, SGD, lr=1e-9, max_steps=100_000, gtol=None, xtol=None, callback=cb)
    assert r.steps == 100_000 and r.reason == "max_steps"
    stride = check_layout(r, HISTORY_LIMIT, geograd.solve.HISTORY_HEAD, 1)
    assert len(r.history["step"]) > HISTORY_LIMIT // 2  # thinned, not emptied
    assert stride == 64
    assert blocks[100_000] - blocks[5_000] < 5 * HISTORY_LIMIT
