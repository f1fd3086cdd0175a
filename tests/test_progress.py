"""cli.progress: the bars' delay, refresh interval and clock can be set by a test, so that
no test races the real clock (a loaded machine makes any real-time threshold a coin toss)."""

from __future__ import annotations

import io
import math

import pytest

from geograd.cli import progress
from geograd.cli.progress import FrameProgress, ProgressBar
from geograd.solve import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def step(k: int) -> Progress:
    return Progress(step=k, x=[0.0], loss=1.0 / (k + 1), grad_norm=0.5, lr=0.1)


def test_the_module_delay_is_read_when_a_bar_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(progress, "DELAY", 0.0)
    stream = Tty()
    with FrameProgress("a.gif", enabled=True, stream=stream, clock=clock) as bar:
        assert bar.delay == 0.0
        assert bar.callback is not None
        bar.callback(1, 10)  # no time has passed: a zero delay opens the bar at once
        assert bar.shown
    assert "a.gif" in stream.getvalue()

    monkeypatch.setattr(progress, "DELAY", math.inf)
    stream = Tty()
    with ProgressBar(100, "median gd", enabled=True, stream=stream, clock=clock) as solve_bar:
        assert solve_bar.delay == math.inf
        callback = solve_bar.callback
        assert callback is not None
        for k in range(1, 101):
            clock.now = 1e6 * k  # however long the run, an infinite delay shows nothing
            callback(step(k))
    assert not solve_bar.shown and stream.getvalue() == ""


def test_a_delay_given_wins_over_the_module_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY", math.inf)
    monkeypatch.setattr(progress, "REFRESH", 7.0)
    bar = FrameProgress("x.gif", enabled=True, stream=Tty(), delay=2.0, refresh=0.5)
    assert (bar.delay, bar.refresh) == (2.0, 0.5)
    assert ProgressBar(5, "x", enabled=True).refresh == 7.0


def test_the_refresh_interval_is_read_when_a_bar_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "REFRESH", math.inf)
    updates: list[int] = []

    class Counting(FrameProgress):
        def _open(self, **fields: object) -> None:
            super()._open(**fields)
            real = self._progress.update

            def update(task: object, **kw: object) -> None:
                updates.append(int(kw["completed"]))  # type: ignore[call-overload]
                real(task, **kw)

            self._progress.update = update

    with Counting("b.gif", enabled=True, stream=Tty(), clock=clock) as bar:
        assert bar.callback is not None
        for done in range(1, 11):
            clock.now = 100.0 * done
            bar.callback(done, 10)
    # The first update after opening, then none until the final one (an infinite interval).
    assert updates == [1, 10]


def test_the_default_clock_is_perf_counter_read_at_creation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    clock.now = 5.0
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    monkeypatch.setattr(progress, "DELAY", 3.0)
    stream = Tty()
    bar = FrameProgress("c.gif", enabled=True, stream=stream)  # starts at 5.0
    assert bar.callback is not None
    bar.callback(1, 3)  # at 5.0: too soon
    assert not bar.shown
    clock.now = 9.0
    bar.callback(2, 3)  # 4 s after the start: past the 3 s delay
    bar.close()
    assert bar.shown and "c.gif" in stream.getvalue()
