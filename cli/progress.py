"""A progress bar for long solves: rich, on stderr, and only when it helps.

It appears only when stderr is a terminal, the output is not ``--quiet`` or
``--json``, and the run has already lasted :data:`DELAY` seconds (a fast solve
never flickers a bar). It is driven by :func:`geograd.minimize`'s ``callback``
(called after each step with a ``Progress``), redraws at most every
:data:`REFRESH` seconds (no background thread) and vanishes when the run ends.
rich is imported only when the bar first appears.

The delay, the refresh interval and the clock are read when a bar is made, not when
this module is imported: a test sets :data:`DELAY` to ``math.inf`` (never a bar) or
``0`` (a bar at once), or gives a bar its own ``clock``, instead of racing the real one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any, ClassVar, TypeVar

DELAY = 1.0
REFRESH = 0.1


def start_text(start: tuple[int, int]) -> str:
    """Which of a solve's restarts a step belongs to: "start 3 (of 20)", counted from 0
    (the solve's x0) as the result's message counts them."""
    return f"start {start[0]} (of {start[1]})"


def wanted(quiet: bool, json_output: bool, stream: IO[str] | None = None) -> bool:
    """Whether a bar may be shown: not quiet, not JSON, and stderr is a terminal."""
    if quiet or json_output:
        return False
    s = sys.stderr if stream is None else stream
    try:
        return bool(s.isatty())
    except (AttributeError, ValueError):
        return False


class _DelayedBar:
    """What both bars share: a rich progress bar on ``stream`` (default stderr) that opens
    only once the work has lasted ``delay`` seconds (default :data:`DELAY`), redraws at most
    every ``refresh`` seconds (default :data:`REFRESH`), times both by ``clock`` (default
    ``time.perf_counter``), and vanishes on :meth:`close` (or at the end of a ``with`` block).

    A subclass calls :meth:`_advance` with the task's fields after each unit of work and
    implements :meth:`_open` (the columns and the task, through :meth:`_start_bar`).
    """

    #: Whether the delay counts from the bar's creation rather than from the first update.
    timed_from_creation: ClassVar[bool] = False

    def __init__(
        self,
        label: str,
        *,
        enabled: bool,
        stream: IO[str] | None = None,
        delay: float | None = None,
        refresh: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream
        # None: the module's settings (and clock) as they are now, so that tests can set them.
        self.delay = DELAY if delay is None else delay
        self.refresh = REFRESH if refresh is None else refresh
        self.clock: Callable[[], float] = time.perf_counter if clock is None else clock
        self.shown = False
        self._start: float | None = self.clock() if self.timed_from_creation else None
        self._last = -float("inf")
        self._progress: Any = None
        self._task: Any = None

    def _advance(self, final: bool = False, **fields: Any) -> None:
        """Open the bar once the work has lasted ``delay`` (see :attr:`timed_from_creation`),
        then update it with ``fields`` at most every ``refresh`` seconds, and on a ``final``
        call."""
        now = self.clock()
        if self._start is None:
            self._start = now
        if self._progress is None:
            if now - self._start < self.delay:
                return
            self._open(**fields)
        if now - self._last >= self.refresh or final:
            self._last = now
            self._progress.update(self._task, **fields)
            self._progress.refresh()

    def _open(self, **fields: Any) -> None:
        """Show the bar (:meth:`_start_bar` with the subclass's columns), its task at ``fields``."""
        raise NotImplementedError

    def _start_bar(self, columns: tuple[Any, ...], description: str, **fields: Any) -> None:
        """Show a bar: the description, the bar and "M/N", then ``columns``; one task."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(file=self.stream if self.stream is not None else sys.stderr)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            *columns,
            console=console,
            transient=True,
            auto_refresh=False,
        )
        self._task = self._progress.add_task(description, **fields)
        self._progress.start()
        self.shown = True

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self: _Bar) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_Bar = TypeVar("_Bar", bound=_DelayedBar)


class ProgressBar(_DelayedBar):
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
        delay: float | None = None,
        refresh: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(
            label, enabled=enabled, stream=stream, delay=delay, refresh=refresh, clock=clock
        )
        self.total = max(1, int(total))

    @property
    def callback(self) -> Callable[[Any], None] | None:
        return self._step if self.enabled else None

    def _step(self, p: Any) -> None:
        start = getattr(p, "start", None)
        where = "" if start is None else start_text(start) + "  "
        self._advance(completed=p.step, loss=p.loss, grad_norm=p.grad_norm, where=where)

    def _open(self, **fields: Any) -> None:
        from rich.progress import TextColumn, TimeElapsedColumn

        columns = (
            TextColumn(
                "steps  {task.fields[where]}loss {task.fields[loss]:.10g}  "
                "|grad| {task.fields[grad_norm]:.3g}"
            ),
            TimeElapsedColumn(),
        )
        self._start_bar(columns, self.label, total=self.total, **fields)


class FrameProgress(_DelayedBar):
    """A progress bar for writing an animation: ``callback(done, total)`` after each frame.

    The same rules as :class:`ProgressBar`: only when ``enabled`` (see :func:`wanted`),
    only once the work has lasted ``delay`` seconds (a short animation never shows a
    bar), redrawn at most every ``refresh`` seconds, gone when it ends.
    """

    timed_from_creation = True

    @property
    def callback(self) -> Callable[[int, int], None] | None:
        return self._frame if self.enabled else None

    def _frame(self, done: int, total: int) -> None:
        self._advance(done >= total, completed=done, total=total)

    def _open(self, **fields: Any) -> None:
        from rich.markup import escape
        from rich.progress import TextColumn, TimeElapsedColumn, TimeRemainingColumn

        columns = (
            TextColumn("frames"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
        )
        # A file name is text, not markup ("[1].gif").
        self._start_bar(columns, escape(self.label), **fields)
