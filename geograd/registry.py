"""One registry for everything geograd finds by name: optimizers and problems.

Each kind has an entry-point group (``geograd.optimizers``, ``geograd.problems``)
in which geograd registers its own exactly as a third-party package registers
its own::

    [project.entry-points."geograd.optimizers"]
    adam = "geograd.optim.adam:Adam"

Both kinds follow the same rules, stated once here:

* **Names.** A name is compared case-insensitively and without surrounding
  spaces: ``" Adam "`` is ``adam``. ``'_'`` and ``'-'`` are *not* interchangeable
  (callers key per-name settings by ``name.strip().lower()``, so ``trust_ncg``
  must not quietly reach ``trust-ncg``'s class without its settings); such a
  spelling is an unknown name whose suggestion is the registered one.
* **Duplicates.** geograd's own entries (the entry points of the ``geograd``
  distribution, and a kind's fallback table for a checkout without metadata)
  come first and cannot be replaced: a plugin that registers one of their names
  is ignored (see :meth:`Registry.ignored`), and :meth:`Registry.register` refuses
  it. A name registered in the running process comes next. Two installed
  plugins registering one name with different targets is a conflict: the name
  is listed with that error and asking for it raises :class:`InputError`
  naming both packages. Nothing is picked silently by installation order.
* **Broken plugins.** Listing names reads metadata only and imports nothing. A
  plugin whose import fails, or whose object is not of the kind, is listed with
  its one-line error (it never breaks the listing) and asking for it raises
  one :class:`InputError` naming it, its package and its target.
* **Unknown names.** ``unknown optimizer 'adma'; did you mean 'adam'? known
  optimizers: adam, ...``: the suggestion only when one is close (difflib's
  ratio at least 0.5, the fewest edits among those; the same name with ``'-'``
  and ``'_'`` swapped first), then every known name.

Standard library only; ``importlib.metadata`` (with email, zipfile, ...: ~15 ms)
is imported the first time a listing or a lookup needs the entry points, never
at import.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from geograd.errors import InputError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

T = TypeVar("T")
V = TypeVar("V")

#: The distribution whose entries are geograd's own.
OURS = "geograd"

#: Where an entry comes from, in order of precedence.
OWN, REGISTERED, PLUGIN = "geograd", "registered", "plugin"

#: difflib's ratio below which no name is suggested.
CUTOFF = 0.5


def normalize(name: str) -> str:
    """The registry's spelling of ``name``: lower case, without surrounding spaces."""
    return str(name).strip().lower()


def entry_points(group: str) -> tuple[EntryPoint, ...]:
    """The installed entry points of ``group`` (the one place that reads metadata;
    tests replace it to install a fake plugin)."""
    from importlib.metadata import entry_points as read

    return tuple(read(group=group))


def closest(name: str, names: Iterable[str]) -> str | None:
    """The known name closest to ``name``, or None when none is close.

    The same name with ``'-'`` and ``'_'`` swapped comes first; otherwise difflib's
    best few (ratio >= :data:`CUTOFF`), of which the one with the fewest edits (a
    swap of neighbours is one): difflib's ratio alone prefers 'adamax' to 'adam'
    for the typo 'adma'.
    """
    key = normalize(name)
    known = list(names)
    for variant in (key.replace("_", "-"), key.replace("-", "_")):
        if variant != key and variant in known:
            return variant
    candidates = difflib.get_close_matches(key, known, n=3, cutoff=CUTOFF)
    if not candidates:
        return None
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


def one_line(text: str) -> str:
    return " ".join(str(text).split())


class Listing(dict[str, V], Generic[V]):
    """A registry's listing, sorted by name, answering lookups by any spelling the
    registry accepts (``listing.get(" Adam ")`` is ``listing["adam"]``)."""

    def __getitem__(self, name: str) -> V:
        return super().__getitem__(normalize(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(normalize(name))

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(normalize(name), default)


class Entry(Generic[T]):
    """One registered name: where it lives (``module:attr``), its package, its source
    (:data:`OWN`, :data:`REGISTERED` or :data:`PLUGIN`); :meth:`load` imports it once."""

    def __init__(
        self,
        name: str,
        target: str,
        distribution: str | None = None,
        obj: T | None = None,
        *,
        source: str = PLUGIN,
        registry: Registry[T] | None = None,
        conflict: str | None = None,
    ) -> None:
        self.name = name
        self.target = target
        self.distribution = distribution
        self.source = source
        self._obj = obj
        self._registry = registry
        self._conflict = conflict
        self._failure: InputError | None = None
        self._reason: str | None = None

    def __repr__(self) -> str:
        origin = f", {self.distribution!r}" if self.distribution else ""
        return f"{type(self).__name__}({self.name!r}, {self.target!r}{origin})"

    @property
    def kind(self) -> str:
        return self._registry.kind if self._registry is not None else "entry"

    def load(self) -> T:
        """The registered object (imported once); a broken entry raises one InputError."""
        if self._obj is not None:
            return self._obj
        if self._failure is None:
            self._obj = self._import()
            if self._obj is not None:
                return self._obj
        assert self._failure is not None
        raise self._failure

    @property
    def error(self) -> str | None:
        """Why this entry cannot be loaded, in one line (None when it loads)."""
        try:
            self.load()
        except InputError:
            return self._reason
        return None

    def _import(self) -> T | None:
        origin = f" from package {self.distribution}" if self.distribution else ""
        where = f"{self.kind} {self.name!r}{origin}"
        if self._conflict is not None:
            self._fail(where, self._conflict, self._conflict)
            return None
        module_name, _, attr = self.target.partition(":")
        try:
            obj: Any = import_module(module_name.strip())
            for part in attr.strip().split(".") if attr.strip() else ():
                obj = getattr(obj, part)
        except Exception as exc:  # a broken plugin is an error of its entry alone
            reason = one_line(f"{type(exc).__name__}: {exc}")
            self._fail(where, f"cannot load {self.target} ({reason})", reason, exc)
            return None
        registry = self._registry
        if registry is not None and not registry.accepts(obj):
            detail = f"{self.target} is not {registry.expected}"
            self._fail(where, detail, detail)
            return None
        return cast(T, obj)

    def _fail(
        self, where: str, detail: str, reason: str, cause: BaseException | None = None
    ) -> None:
        failure = InputError(f"{where}: {detail}")
        failure.__cause__ = cause
        self._failure, self._reason = failure, reason


class Registry(Generic[T]):
    """The names of one kind (``kind``: ``"optimizer"``, ``"problem"``) from the entry
    points of ``group``, the ``builtins`` fallback table (``{name: "module:attr"}``,
    read at each listing) and :meth:`register`; ``accepts`` says whether a loaded
    object is of the kind, ``expected`` names the kind in errors."""

    def __init__(
        self,
        kind: str,
        group: str,
        *,
        accepts: Callable[[object], bool],
        expected: str,
        plural: str | None = None,
        builtins: Mapping[str, str] | None = None,
        entry_type: type[Entry[T]] = Entry,
    ) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self.group = group
        self.accepts = accepts
        self.expected = expected
        self.builtins = builtins if builtins is not None else {}
        self.entry_type = entry_type
        self._registered: dict[str, T] = {}
        self._installed: list[tuple[str, str, str | None, bool]] | None = None
        self._made: dict[tuple[str, str, str | None, str], Entry[T]] = {}
        self._ignored: list[str] = []

    # --------------------------------------------------------------------- reading

    def refresh(self) -> None:
        """Forget the entry points read and the objects loaded (after installing a
        plugin in a running process, or replacing :func:`entry_points` in a test)."""
        self._installed = None
        self._made.clear()

    def _read(self) -> list[tuple[str, str, str | None, bool]]:
        """(name, target, distribution, ours) of each installed entry point, cached."""
        if self._installed is None:
            found = []
            for ep in entry_points(self.group):
                dist = getattr(getattr(ep, "dist", None), "name", None)
                ours = dist == OURS if dist else ep.value.strip().startswith(f"{OURS}.")
                found.append((normalize(ep.name), ep.value.strip(), dist, ours))
            self._installed = found
        return self._installed

    def _entry(
        self, name: str, target: str, dist: str | None, source: str, conflict: str | None = None
    ) -> Entry[T]:
        key = (name, target, dist, source if conflict is None else f"{source}: {conflict}")
        entry = self._made.get(key)
        if entry is None:
            entry = self.entry_type(
                name, target, dist, source=source, registry=self, conflict=conflict
            )
            self._made[key] = entry
        return entry

    def entries(self) -> Listing[Entry[T]]:
        """Every name with its entry, sorted; imports nothing (see the module docstring
        for which entry a duplicated name keeps)."""
        installed = self._read()
        found: dict[str, Entry[T]] = {}
        ignored: list[str] = []
        for name, target, dist, ours in installed:
            if ours and name not in found:
                found[name] = self._entry(name, target, dist or OURS, OWN)
        for raw, target in self.builtins.items():
            name = normalize(raw)
            if name not in found:
                found[name] = self._entry(name, target.strip(), OURS, OWN)
        for name, obj in self._registered.items():
            if name in found:
                continue
            target = f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', obj)}"
            entry = self._entry(name, target, None, REGISTERED)
            entry._obj = obj
            found[name] = entry
        plugins: dict[str, list[tuple[str, str | None]]] = {}
        for name, target, dist, ours in installed:
            if not ours and (target, dist) not in plugins.get(name, []):
                plugins.setdefault(name, []).append((target, dist))
        for name, claims in plugins.items():
            if name in found:
                winner = found[name]
                for target, dist in claims:
                    if target != winner.target:
                        ignored.append(
                            f"{self.kind} {name!r} of package {dist or '?'} ({target}) is "
                            f"ignored: {winner.source} {self.kind} {name!r} ({winner.target}) "
                            "comes first"
                        )
                continue
            targets = {t for t, _ in claims}
            if len(targets) == 1:
                target, dist = claims[0]
                found[name] = self._entry(name, target, dist, PLUGIN)
            else:
                who = ", ".join(f"{d or '?'} ({t})" for t, d in claims)
                conflict = f"registered by more than one package: {who}; uninstall all but one"
                found[name] = self._entry(name, claims[0][0], None, PLUGIN, conflict)
        self._ignored = ignored
        return Listing(sorted(found.items()))

    def ignored(self) -> list[str]:
        """One line for each plugin entry that a name of higher precedence keeps out."""
        self.entries()
        return list(self._ignored)

    def names(self) -> list[str]:
        """The registered names, sorted; imports nothing."""
        return list(self.entries())

    def describe(self, describe: Callable[[T], str]) -> Listing[str]:
        """Every name with ``describe(obj)``, sorted; an entry that cannot be loaded
        is listed as ``(cannot be loaded: <its one-line error>)`` instead."""
        out: dict[str, str] = {}
        for name, entry in self.entries().items():
            error = entry.error
            if error is None:
                try:
                    out[name] = one_line(describe(entry.load()))
                    continue
                except Exception as exc:  # a plugin's odd class must not break the listing
                    error = one_line(f"{type(exc).__name__}: {exc}")
            out[name] = f"(cannot be loaded: {error})"
        return Listing(out)

    # --------------------------------------------------------------------- lookup

    def entry(self, name: str) -> Entry[T]:
        """The entry of ``name`` (any accepted spelling); an unknown name raises
        :class:`InputError` with the suggestion and the known names."""
        entries = self.entries()
        found = entries.get(name)
        if found is None:
            raise InputError(self.unknown(name, list(entries)))
        return cast(Entry[T], found)

    def get(self, name: str) -> T:
        """The object registered as ``name``; unknown or broken: one :class:`InputError`."""
        return self.entry(name).load()

    def unknown(self, name: str, names: list[str] | None = None) -> str:
        """The message for an unknown ``name``."""
        known = self.names() if names is None else names
        if not known:
            return (
                f"unknown {self.kind} {name!r}: no {self.plural} are registered "
                "(is geograd installed? try: pip install -e .)"
            )
        close = closest(name, known)
        hint = f"did you mean {close!r}? " if close else ""
        return f"unknown {self.kind} {name!r}; {hint}known {self.plural}: {', '.join(known)}"

    # --------------------------------------------------------------------- run time

    def register(self, obj: T, name: str) -> T:
        """Register ``obj`` as ``name`` in this process (scripts, tests). A name of
        geograd's own, or one registered here to another object, is refused."""
        key = normalize(name)
        if not key:
            raise ValueError(f"a {self.kind} needs a non-empty name")
        if not self.accepts(obj):
            raise TypeError(f"{obj!r} is not {self.expected}")
        current = self.entries().get(key)
        if current is not None and current.source != PLUGIN:
            same = current.source == REGISTERED and self._registered.get(key) is obj
            if not same:
                raise ValueError(
                    f"{self.kind} {key!r} is already registered ({current.source}: "
                    f"{current.target}); choose another name"
                    + ("" if current.source == OWN else " or unregister it first")
                )
        self._registered[key] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Undo :meth:`register` (installed entry points stay)."""
        self._registered.pop(normalize(name), None)
