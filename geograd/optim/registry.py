"""The optimizer registry: names found through the entry-point group ``geograd.optimizers``.

geograd registers its own optimizers in its ``pyproject.toml`` exactly as a
third-party package registers its own::

    [project.entry-points."geograd.optimizers"]
    adam = "geograd.optim.adam:Adam"

A name maps to an :class:`~geograd.optim.optimizer.Optimizer` subclass. Listing
the names reads installed metadata only and imports nothing; a class is
imported the first time it is asked for (or described). The rules (names,
duplicates, broken plugins, unknown names) are those of :mod:`geograd.registry`,
the same as the problems'.
"""

from __future__ import annotations

from geograd.optim.optimizer import Optimizer, describe
from geograd.registry import Listing, Registry
from geograd.registry import closest as _closest

GROUP = "geograd.optimizers"


def _is_optimizer(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, Optimizer)


REGISTRY: Registry[type[Optimizer]] = Registry(
    "optimizer", GROUP, accepts=_is_optimizer, expected="an Optimizer subclass"
)


def refresh() -> None:
    """Forget the cached entry points (after installing a plugin in a running process)."""
    REGISTRY.refresh()


def optimizer_names() -> list[str]:
    """The registered names, sorted; imports no optimizer module."""
    return REGISTRY.names()


def get_optimizer(name: str) -> type[Optimizer]:
    """The optimizer class registered as ``name`` (case-insensitive).

    An unknown name raises :class:`~geograd.errors.InputError` naming the
    closest known name and listing them all; a plugin that cannot be loaded
    raises one naming it.
    """
    return REGISTRY.get(name)


def available_optimizers() -> Listing[str]:
    """Every registered name with its one-line description, sorted by name.

    A plugin that fails to import is listed with the error instead of a
    description, so that one broken package does not break the listing.
    """
    return REGISTRY.describe(describe)


def closest(name: str, names: list[str]) -> str | None:
    """The known name closest to ``name`` (None when none is close): see
    :func:`geograd.registry.closest`."""
    return _closest(name, names)
