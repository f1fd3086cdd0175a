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

from typing import Any

from geograd.errors import InputError
from geograd.registry import Entry, Listing, Registry

from .base import Baseline, Option, Problem, Reference, ReferenceUnavailable
from .data import PointSet, load_points

ENTRY_POINT_GROUP = "geograd.problems"

# Ours, so that a source checkout without installed metadata still finds them (read at
# each listing; geograd's own entries come first, as every rule in geograd.registry says).
_BUILTIN = {"median": "geograd.problems.median:GeometricMedian"}
_BUILTIN["tammes"] = "geograd.problems.tammes:Tammes"  # new since the last install
_BUILTIN["spherical-median"] = "geograd.problems.spherical_median:SphericalMedian"


class ProblemEntry(Entry[type[Problem]]):
    """One registered problem: its name, where it lives (``module:Class``), its package;
    :meth:`load` imports the class once (a broken plugin is one InputError naming it)."""

    @property
    def description(self) -> str:
        return self.load().description

    @property
    def options(self) -> tuple[Option, ...]:
        return self.load().options


def _is_problem(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, Problem)


REGISTRY: Registry[type[Problem]] = Registry(
    "problem",
    ENTRY_POINT_GROUP,
    accepts=_is_problem,
    expected="a geograd.problems.Problem subclass",
    builtins=_BUILTIN,
    entry_type=ProblemEntry,
)


def refresh() -> None:
    """Forget the cached entry points (after installing a plugin in a running process)."""
    REGISTRY.refresh()


def available_problems() -> Listing[ProblemEntry]:
    """Every known problem by name, sorted, without importing any of them (lookups in
    the listing accept any spelling the registry does: ``" Median "`` is ``median``)."""
    return REGISTRY.entries()  # type: ignore[return-value]


def problem_class(name: str) -> type[Problem]:
    """The Problem class registered as ``name``; an unknown name is an input error."""
    return REGISTRY.get(name)


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
    """Register a Problem subclass at run time (no packaging needed); usable as a decorator.

    A name of geograd's own, or one registered to another class, is refused
    (ValueError); an installed plugin's name is taken over in this process."""
    if not _is_problem(cls):
        raise TypeError(f"register_problem needs a Problem subclass, got {cls!r}")
    key = name or cls.name
    if not key:
        raise ValueError(f"{cls.__qualname__} has no name; set its class attribute name")
    return REGISTRY.register(cls, key)


def unregister_problem(name: str) -> None:
    """Undo :func:`register_problem` (installed entry points stay)."""
    REGISTRY.unregister(name)


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
