"""Progress of long work: never silent for more than a few seconds.

A problem reports long work outside a solve loop (Thomson's reference search
beyond its table, ...) through ``Problem.on_work(what, done, total)``
(:meth:`geograd.problems.Problem.report_work`); a solve loop reports each step
through minimize's callback. :class:`WorkProgress` shows either on stderr:

- on a terminal, a rich bar (the same delayed, transient bar as the solve's,
  see :mod:`geograd.cli.progress`) once the work has lasted :data:`progress.DELAY`;
- otherwise (a pipe, a file, a CI log), one line once the work has lasted
  :data:`LINE_DELAY` seconds, then one every :data:`LINE_EVERY` seconds, and a
  last one when work that printed lines ends (``done == total``).

A quick piece of work prints nothing. The delays, the interval and the clock are
read when a :class:`WorkProgress` is made, so that a test sets them (or gives
its own ``clock``) instead of racing the real clock.

The CLI sets it as ``problem.on_work`` for the whole command (``--quiet``: off),
and may chain :meth:`WorkProgress.steps` after the bar for a solve whose stderr is
not a terminal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

from . import progress
from .errors import PROG

#: Seconds of work before the first line (not a terminal).
LINE_DELAY = 3.0
#: Seconds between lines.
LINE_EVERY = 10.0


def _duration(s: float) -> str:
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def _amount(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.3g}"


class _WorkBar(progress._DelayedBar):
    """The terminal's bar for one piece of work: "what  M/N  elapsed"."""

    def _open(self, **fields: Any) -> None:
        from rich.progress import TimeElapsedColumn

        self._start_bar((TimeElapsedColumn(),), self.label, **fields)

    def update(self, done: float, total: float | None) -> None:
        self._advance(total is not None and done >= total, completed=done, total=total)


class WorkProgress:
    """``on_work(what, done, total)`` shown on ``stream`` (default stderr): a bar on a
    terminal, lines otherwise (see the module docstring). Use it as a context manager;
    a disabled one (``enabled=False``: ``--quiet``) shows nothing.
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        stream: IO[str] | None = None,
        tty: bool | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.enabled = enabled
        self.stream = stream
        out = sys.stderr if stream is None else stream
        if tty is None:
            try:
                tty = bool(out.isatty())
            except (AttributeError, ValueError):
                tty = False
        self.tty = tty
        self.clock: Callable[[], float] = time.perf_counter if clock is None else clock
        self.line_delay = LINE_DELAY
        self.line_every = LINE_EVERY
        self.lines = 0  # lines printed (not a terminal)
        self._what: str | None = None
        self._started = 0.0
        self._last_line = -float("inf")
        self._printed = False
        self._bar: _WorkBar | None = None

    def __call__(
        self, what: str, done: float, total: float | None = None, *, within: str = ""
    ) -> None:
        """Work ``what`` has got to ``done`` of ``total``; ``within``: where in a larger
        piece of work it is ("start 3 (of 20)"), written before the count."""
        if not self.enabled:
            return
        now = self.clock()
        if what != self._what:
            self._finish()
            self._what, self._started, self._last_line = what, now, -float("inf")
            self._printed = False
            if self.tty:
                self._bar = _WorkBar(what, enabled=True, stream=self.stream, clock=self.clock)
        if self._bar is not None:
            self._bar.update(done, total)
            return
        elapsed = now - self._started
        ended = total is not None and done >= total
        due = elapsed >= self.line_delay and now - self._last_line >= self.line_every
        if due or (ended and self._printed):
            self._last_line = now
            self._printed = True
            count = f"{_amount(done)}/{_amount(total)}" if total is not None else _amount(done)
            if within:
                count = f"{within}, {count}"
            state = "done" if ended else "working"
            self._write(f"{PROG}: {what}: {count} ({state}, {_duration(elapsed)})")

    def steps(self, label: str, total: int) -> Callable[[Any], None]:
        """A minimize callback reporting each step as work ``label`` of ``total`` steps."""

        def callback(p: Any) -> None:
            start = getattr(p, "start", None)
            self(label, p.step, total, within="" if start is None else progress.start_text(start))

        return callback

    def _write(self, line: str) -> None:
        out = sys.stderr if self.stream is None else self.stream
        try:
            out.write(line + "\n")
            out.flush()
        except (OSError, ValueError):
            pass
        self.lines += 1

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        self._finish()
        self._what = None

    def __enter__(self) -> WorkProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
