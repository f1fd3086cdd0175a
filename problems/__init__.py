"""geograd's catalogue of geometric problems (imported as ``geograd.problems``).

Problems register through the entry-point group ``geograd.problems``, ours
exactly as a third-party package's::

    [project.entry-points."geograd.problems"]
    median = "geograd.problems.median:GeometricMedian"

:func:`available_problems` lists them without importing them,
:func:`problem_class` loads one, :func:`get_problem` builds one::

    from geograd.problems import get_problem
    p = get_problem("median", n=1000, seed=5)
    result = p.solve()                 # geograd.minimize with p.solver_defaults()
    p.assess(result.x)                 # objective, certificate, gap to p.reference()

``Problem.solve`` keeps the run on Ctrl-C whatever the problem does around minimize
(the best iterate so far, reason ``"interrupted"``); a request whose data would not
fit in memory is refused before any is made; ``Problem.reference`` raises
:class:`ReferenceUnavailable` where a problem has none to give (Thomson beyond its
table, unless asked).

Importing this package imports neither numpy, scipy nor matplotlib.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from geograd.errors import GeogradError, InputError

from .base import Baseline, Option, Problem, Reference, ReferenceUnavailable
from .data import PointSet, load_points

ENTRY_POINT_GROUP = "geograd.problems"

# Ours, so that a source checkout without installed metadata still finds them;
# installed entry points take precedence.
_BUILTIN = {"median": "geograd.problems.median:GeometricMedian"}

# Problems registered at run time with register_problem (scripts, tests).
_REGISTERED: dict[str, type[Problem]] = {}


@dataclass
class ProblemEntry:
    """One registered problem: its name, where it lives (``module:Class``), its package."""

    name: str
    target: str
    distribution: str | None = None
    _cls: type[Problem] | None = field(default=None, repr=False, compare=False)

    def load(self) -> type[Problem]:
        """Import the problem class (once); a broken plugin is a clear error."""
        if self._cls is None:
            module_name, _, attr = self.target.partition(":")
            origin = f" from package {self.distribution}" if self.distribution else ""
            try:
                obj: Any = import_module(module_name)
                for part in attr.split(".") if attr else ():
                    obj = getattr(obj, part)
            except Exception as exc:
                raise GeogradError(
                    f"problem {self.name!r}{origin}: cannot load {self.target} "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
            if not (isinstance(obj, type) and issubclass(obj, Problem)):
                raise GeogradError(
                    f"problem {self.name!r}{origin}: {self.target} is not a "
                    "geograd.problems.Problem subclass"
                )
            self._cls = obj
        return self._cls

    @property
    def description(self) -> str:
        return self.load().description

    @property
    def options(self) -> tuple[Option, ...]:
        return self.load().options


def entry_points(group: str) -> Any:
    """``importlib.metadata.entry_points(group=...)``, imported when the registry is first
    read: importing it (with email, zipfile, ...) costs ~15 ms that ``import geograd``
    need not pay."""
    from importlib.metadata import entry_points as read

    return read(group=group)


def available_problems() -> dict[str, ProblemEntry]:
    """Every known problem by name, sorted, without importing any of them."""
    found: dict[str, ProblemEntry] = {
        name: ProblemEntry(name, target, "geograd") for name, target in _BUILTIN.items()
    }
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(getattr(ep, "dist", None), "name", None)
        found[ep.name] = ProblemEntry(ep.name, ep.value, dist)
    for name, cls in _REGISTERED.items():
        found[name] = ProblemEntry(name, f"{cls.__module__}:{cls.__qualname__}", None, cls)
    return dict(sorted(found.items()))


def problem_class(name: str) -> type[Problem]:
    """The Problem class registered as ``name``; an unknown name is an input error."""
    problems = available_problems()
    entry = problems.get(name)
    if entry is None:
        known = ", ".join(problems) or "none"
        close = difflib.get_close_matches(str(name), list(problems), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InputError(f"unknown problem {name!r}; {hint}known problems: {known}")
    return entry.load()


def get_problem(name: str, **options: Any) -> Problem:
    """Build problem ``name`` with ``options`` (each checked by its declaration).

    ``x0=[...]`` sets the initial point; options left out or ``None`` take their defaults.
    """
    return problem_class(name)(**options)


def problem_from_dict(data: dict[str, Any]) -> Problem:
    """Rebuild a problem from ``Problem.to_dict()`` output (e.g. a saved result's ``problem``)."""
    if not isinstance(data, dict) or "name" not in data:
        raise InputError("a problem description needs a 'name' (from Problem.to_dict())")
    return problem_class(str(data["name"])).from_dict(data)


def register_problem(cls: type[Problem], name: str | None = None) -> type[Problem]:
    """Register a Problem subclass at run time (no packaging needed); usable as a decorator."""
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise TypeError(f"register_problem needs a Problem subclass, got {cls!r}")
    key = name or cls.name
    if not key:
        raise ValueError(f"{cls.__qualname__} has no name; set its class attribute name")
    _REGISTERED[key] = cls
    return cls


def unregister_problem(name: str) -> None:
    """Undo :func:`register_problem` (installed entry points stay)."""
    _REGISTERED.pop(name, None)


__all__ = [
    "ENTRY_POINT_GROUP",
    "Baseline",
    "Option",
    "PointSet",
    "Problem",
    "ProblemEntry",
    "Reference",
    "ReferenceUnavailable",
    "available_problems",
    "get_problem",
    "load_points",
    "problem_class",
    "problem_from_dict",
    "register_problem",
    "unregister_problem",
]
