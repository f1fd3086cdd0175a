"""What a figure is drawn from: runs as :class:`Run` s, and the reference to mark.

A run is what :func:`geograd.minimize` returns (a :class:`~geograd.solve.Result`) or its
dict form (``Result.to_dict()``, or any mapping with a ``history`` of plain lists
``step``, ``loss``, ``grad_norm`` and ``x``, as a saved JSON holds it); :func:`as_runs`
reads one run, a sequence of runs or a mapping label -> run. A reference is a
``Reference``, a mapping, None (the problem's own) or False (none);
:func:`resolve_reference` reads it as a :class:`MarkedReference`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geograd.errors import GeogradError, InputError

# ------------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Run:
    """One run's recorded history as plain lists, with the label it is drawn under.

    ``x`` holds the recorded iterates (each a list of floats), or is empty when
    the history has none.
    """

    label: str
    step: list[int]
    loss: list[float]
    grad_norm: list[float]
    x: list[list[float]]

    @property
    def last_step(self) -> int:
        return self.step[-1]


def as_runs(runs: Any) -> list[Run]:
    """``runs`` (a run, a sequence of runs, or a mapping label -> run) as :class:`Run` s.

    A run is a ``Result`` or a mapping with a ``history`` (``Result.to_dict()``,
    a saved JSON's entry). Labels default to the optimizer's name (``optimizer``,
    or ``settings.optimizer``, else ``run 1``, ``run 2``, ...); repeated labels
    are numbered. An empty or malformed history is an :class:`InputError`.
    """
    if isinstance(runs, Mapping) and not _is_run(runs):
        items: list[tuple[str | None, Any]] = [(str(k), v) for k, v in runs.items()]
    elif _is_run(runs):
        items = [(None, runs)]
    elif isinstance(runs, Sequence) and not isinstance(runs, (str, bytes)):
        items = [(None, r) for r in runs]
    else:
        raise InputError(f"plot: expected a run (a Result or its dict) or runs, got {runs!r}"[:200])
    if not items:
        raise InputError("plot: no runs to draw")
    out: list[Run] = []
    seen: dict[str, int] = {}
    for i, (label, run) in enumerate(items):
        if not _is_run(run):
            raise InputError(
                f"plot: run {label or i + 1} has no history (give a Result or Result.to_dict())"
            )
        name = label or (run.label if isinstance(run, Run) else _run_name(run)) or f"run {i + 1}"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        if isinstance(run, Run):
            out.append(Run(name, run.step, run.loss, run.grad_norm, run.x))
        else:
            out.append(_run_from(run, name))
    return out


def _is_run(obj: Any) -> bool:
    if isinstance(obj, Run):
        return True
    history = obj.get("history") if isinstance(obj, Mapping) else getattr(obj, "history", None)
    return isinstance(history, Mapping)


def _run_name(run: Any) -> str | None:
    if isinstance(run, Mapping):
        name = run.get("optimizer")
        if name is None and isinstance(run.get("settings"), Mapping):
            name = run["settings"].get("optimizer")
    else:
        name = getattr(run, "optimizer", None)
    return None if name is None else str(name)


def _run_from(run: Any, label: str) -> Run:
    history = run["history"] if isinstance(run, Mapping) else run.history
    try:
        steps = [int(s) for s in history["step"]]
        loss = [_float(v) for v in history["loss"]]
        grad = [_float(v) for v in history.get("grad_norm", [math.nan] * len(steps))]
        xs_raw = history.get("x") or []
        xs = [[_float(c) for c in (v if isinstance(v, Sequence) else [v])] for v in xs_raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"plot: run {label!r} has a malformed history ({exc})") from None
    if not steps:
        raise InputError(f"plot: run {label!r} has an empty history")
    if len(loss) != len(steps) or len(grad) != len(steps) or (xs and len(xs) != len(steps)):
        raise InputError(f"plot: run {label!r}: history lists of different lengths")
    return Run(label, steps, loss, grad, xs)


def _float(v: Any) -> float:
    # A saved JSON stores non-finite numbers as null.
    return math.nan if v is None else float(v)


# -------------------------------------------------------------------------- reference


@dataclass(frozen=True)
class MarkedReference:
    """The reference solution a figure marks: its point (or None), its loss (L* of the
    gap, or None) and the method that found it."""

    x: list[float] | None
    loss: float | None
    method: str


def resolve_reference(problem: Any, reference: Any) -> MarkedReference | None:
    """The reference to mark: ``reference`` as given, the problem's own when it is None
    (none when the problem cannot compute one), none when it is False."""
    if reference is False:
        return None
    if reference is None:
        if problem is None:
            return None
        try:
            reference = problem.reference()
        except (GeogradError, NotImplementedError, ImportError):
            return None
    if isinstance(reference, Mapping):
        x = reference.get("x", reference.get("solution"))
        loss = reference.get("loss")
        method = reference.get("method") or "reference"
    else:
        x = getattr(reference, "x", None)
        loss = getattr(reference, "loss", None)
        method = getattr(reference, "method", None) or "reference"
    if x is not None and not isinstance(x, Sequence):
        x = [x]
    return MarkedReference(
        None if x is None else [float(v) for v in x],
        None if loss is None else float(loss),
        str(method),
    )


def reference_loss(ref: MarkedReference | None) -> float | None:
    """L* of the objective gap: the reference's loss, or None without a reference."""
    return None if ref is None else ref.loss
