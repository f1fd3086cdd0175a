"""A progress bar for long solves: rich, on stderr, and only when it helps.

It appears only when stderr is a terminal, the output is not ``--quiet`` or
``--json``, and the run has already lasted :data:`DELAY` seconds (a fast solve
never flickers a bar). It is driven by :func:`geograd.minimize`'s ``callback``
(called after each step with a ``Progress``), redraws at most every
:data:`REFRESH` seconds (no background thread) and vanishes when the run ends.
rich is imported only when the bar first appears.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

DELAY = 1.0
REFRESH = 0.1


def wanted(quiet: bool, json_output: bool, stream: IO[str] | None = None) -> bool:
    """Whether a bar may be shown: not quiet, not JSON, and stderr is a terminal."""
    if quiet or json_output:
        return False
    s = sys.stderr if stream is None else stream
    try:
        return bool(s.isatty())
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """A ``minimize`` callback showing step, loss and gradient norm; use it as a context manager.

    ``callback`` is None when the bar is disabled, so that ``minimize`` skips the
    per-step call altogether.
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        enabled: bool,
        stream: IO[str] | None = None,
        delay: float = DELAY,
        refresh: float = REFRESH,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.total = max(1, int(total))
        self.label = label
        self.enabled = enabled
        self.stream = stream
        self.delay = delay
        self.refresh = refresh
        self.clock = clock
        self.shown = False
        self._start: float | None = None
        self._last = -float("inf")
        self._progress: Any = None
        self._task: Any = None

    @property
    def callback(self) -> Callable[[Any], None] | None:
        return self._step if self.enabled else None

    def _step(self, p: Any) -> None:
        now = self.clock()
        if self._start is None:
            self._start = now
        if self._progress is None:
            if now - self._start < self.delay:
                return
            self._open(p)
        if now - self._last >= self.refresh:
            self._last = now
            self._progress.update(self._task, completed=p.step, loss=p.loss, grad_norm=p.grad_norm)
            self._progress.refresh()

    def _open(self, p: Any) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(file=self.stream if self.stream is not None else sys.stderr)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps  loss {task.fields[loss]:.10g}  |grad| {task.fields[grad_norm]:.3g}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            auto_refresh=False,
        )
        self._task = self._progress.add_task(
            self.label, total=self.total, completed=p.step, loss=p.loss, grad_norm=p.grad_norm
        )
        self._progress.start()
        self.shown = True

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FrameProgress:
    """A progress bar for writing an animation: ``callback(done, total)`` after each frame.

    The same rules as :class:`ProgressBar`: only when ``enabled`` (see :func:`wanted`),
    only once the work has lasted ``delay`` seconds (a short animation never shows a
    bar), redrawn at most every ``refresh`` seconds, gone when it ends.
    """

    def __init__(
        self,
        label: str,
        *,
        enabled: bool,
        stream: IO[str] | None = None,
        delay: float = DELAY,
        refresh: float = REFRESH,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream
        self.delay = delay
        self.refresh = refresh
        self.clock = clock
        self.shown = False
        self._start = clock()
        self._last = -float("inf")
        self._progress: Any = None
        self._task: Any = None

    @property
    def callback(self) -> Callable[[int, int], None] | None:
        return self._frame if self.enabled else None

    def _frame(self, done: int, total: int) -> None:
        now = self.clock()
        if self._progress is None:
            if now - self._start < self.delay:
                return
            self._open(done, total)
        if now - self._last >= self.refresh or done >= total:
            self._last = now
            self._progress.update(self._task, completed=done, total=total)
            self._progress.refresh()

    def _open(self, done: int, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(file=self.stream if self.stream is not None else sys.stderr)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("frames"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            auto_refresh=False,
        )
        from rich.markup import escape

        # A file name is text, not markup ("[1].gif").
        self._task = self._progress.add_task(escape(self.label), total=total, completed=done)
        self._progress.start()
        self.shown = True

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> FrameProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
