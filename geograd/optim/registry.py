"""The optimizer registry: names found through the entry-point group ``geograd.optimizers``.

geograd registers its own optimizers in its ``pyproject.toml`` exactly as a
third-party package registers its own::

    [project.entry-points."geograd.optimizers"]
    adam = "geograd.optim.adam:Adam"

A name maps to an :class:`~geograd.optim.optimizer.Optimizer` subclass. Listing
the names reads installed metadata only and imports nothing; a class is
imported the first time it is asked for (or described). When two packages
register the same name, geograd's own entry wins, then the first one found.
"""

from __future__ import annotations

import difflib
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from geograd.errors import InputError
from geograd.optim.optimizer import Optimizer, describe

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

GROUP = "geograd.optimizers"


@lru_cache(maxsize=1)
def _entries() -> dict[str, EntryPoint]:
    # importlib.metadata (with email, zipfile, ...) costs ~15 ms: only when a name is looked up.
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        name = ep.name.strip().lower()
        ours = ep.value.startswith("geograd.")
        if name not in found or (ours and not found[name].value.startswith("geograd.")):
            found[name] = ep
    return dict(sorted(found.items()))


def refresh() -> None:
    """Forget the cached entry points (after installing a plugin in a running process)."""
    _entries.cache_clear()
    _load.cache_clear()


def optimizer_names() -> list[str]:
    """The registered names, sorted; imports no optimizer module."""
    return list(_entries())


@cache
def _load(name: str) -> type[Optimizer]:
    ep = _entries()[name]
    obj = ep.load()
    if not (isinstance(obj, type) and issubclass(obj, Optimizer)):
        raise InputError(
            f"the optimizer entry point {name!r} = {ep.value!r} is not an Optimizer subclass"
        )
    return obj


def get_optimizer(name: str) -> type[Optimizer]:
    """The optimizer class registered as ``name`` (case-insensitive).

    An unknown name raises :class:`~geograd.errors.InputError` naming the
    closest known name and listing them all.
    """
    key = name.strip().lower()
    names = optimizer_names()
    if key not in names:
        raise InputError(_unknown(name, names))
    return _load(key)


def available_optimizers() -> dict[str, str]:
    """Every registered name with its one-line description, sorted by name.

    A plugin that fails to import is listed with the error instead of a
    description, so that one broken package does not break the listing.
    """
    out: dict[str, str] = {}
    for name in optimizer_names():
        try:
            out[name] = describe(_load(name))
        except Exception as exc:  # a broken plugin must not break the listing
            out[name] = f"(cannot be loaded: {type(exc).__name__}: {exc})"
    return out


def _unknown(name: str, names: list[str]) -> str:
    if not names:
        return (
            f"unknown optimizer {name!r}: no optimizers are registered (is geograd installed? "
            "try: pip install -e .)"
        )
    hint = f" (did you mean {closest(name, names)!r}?)"
    return f"unknown optimizer {name!r}{hint}; known optimizers: {', '.join(names)}"


def closest(name: str, names: list[str]) -> str:
    """The known name closest to ``name``: difflib's best few, then the fewest edits.

    difflib's ratio alone prefers 'adamax' to 'adam' for the typo 'adma'; counting
    edits (a swap of neighbours is one) settles such cases as a person would.
    """
    key = name.strip().lower()
    candidates = difflib.get_close_matches(key, names, n=3, cutoff=0.0)
    return min(candidates, key=lambda c: _edits(key, c))


def _edits(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions, swaps."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]
