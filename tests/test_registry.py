"""One registry, one set of rules, for optimizers and problems (geograd.registry)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest

import geograd.registry as registry
from geograd import InputError
from geograd.optim import SGD, Adam, Optimizer
from geograd.optim import registry as optim_registry
from geograd.optim.registry import available_optimizers, get_optimizer, optimizer_names
from geograd.problems import REGISTRY as PROBLEMS
from geograd.problems import (
    available_problems,
    problem_class,
    register_problem,
    unregister_problem,
)
from geograd.problems.median import GeometricMedian

OPTIMIZERS = optim_registry.REGISTRY


class PluginOptimizer(SGD):
    """a plugin's optimizer for tests"""


class PluginProblem(GeometricMedian):
    name = "plugin-problem"
    description = "a plugin's problem for tests"


#: For each kind: its group, its lookup, its listing (name -> one line), a good
#: plugin's object, a built-in name and its object, a class of another kind.
KINDS: dict[str, dict[str, Any]] = {
    "optimizer": {
        "group": "geograd.optimizers",
        "get": get_optimizer,
        "listing": lambda: dict(available_optimizers()),
        "names": optimizer_names,
        "plugin": PluginOptimizer,
        "builtin": ("adam", Adam),
        "spelled": ("trust-ncg", "trust_ncg", " Trust-NCG "),
    },
    "problem": {
        "group": "geograd.problems",
        "get": problem_class,
        "listing": lambda: {
            n: (f"(cannot be loaded: {e.error})" if e.error else e.description)
            for n, e in available_problems().items()
        },
        "names": lambda: list(available_problems()),
        "plugin": PluginProblem,
        "builtin": ("median", GeometricMedian),
        "spelled": ("circle-fit", "circle_fit", " Circle-Fit "),
    },
}


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``install(group, name=target, ...)``: fake installed entry points (of package
    ``fakeplug``) next to the real ones, for both registries."""
    real = registry.entry_points
    extra: dict[str, list[EntryPoint]] = {}

    def fake(group: str) -> tuple[EntryPoint, ...]:
        return (*real(group), *extra.get(group, []))

    def install(group: str, **targets: str) -> None:
        for name, target in targets.items():
            extra.setdefault(group, []).append(EntryPoint(name, target, group))
        OPTIMIZERS.refresh()
        PROBLEMS.refresh()

    monkeypatch.setattr(registry, "entry_points", fake)
    install("none")
    yield install
    extra.clear()
    OPTIMIZERS.refresh()
    PROBLEMS.refresh()


@pytest.mark.parametrize("kind", KINDS)
def test_names_are_normalised_the_same_way(kind: str) -> None:
    k = KINDS[kind]
    name, obj = k["builtin"]
    for spelling in (name, name.upper(), f"  {name.title()}\t"):
        assert k["get"](spelling) is obj
    canonical, underscored, loose = k["spelled"]
    assert k["get"](loose) is k["get"](canonical)
    # '_' is not '-': an unknown name whose suggestion is the registered spelling
    with pytest.raises(InputError, match=f"did you mean '{canonical}'"):
        k["get"](underscored)
    assert underscored not in k["listing"]() and canonical in k["names"]()


def test_listings_answer_lookups_by_the_same_rule() -> None:
    assert " ADAM " in available_optimizers() and "Median" in available_problems()
    assert available_optimizers()["Adam"] == Adam.description
    assert available_problems().get(" Median ") is available_problems()["median"]
    assert "trust_ncg" not in available_optimizers()
    assert list(available_problems()) == sorted(available_problems())


@pytest.mark.parametrize(
    ("kind", "typo", "meant"),
    [("optimizer", "adma", "adam"), ("optimizer", "SDG", "sgd"),
     ("optimizer", "lbgfs", "lbfgs"), ("problem", "medain", "median"),
     ("problem", "Thomsen", "thomson"), ("problem", "enclosing_circle", "enclosing-circle")],
)  # fmt: skip
def test_unknown_names_have_one_message_shape(kind: str, typo: str, meant: str) -> None:
    k = KINDS[kind]
    with pytest.raises(InputError) as info:
        k["get"](typo)
    known = ", ".join(k["names"]())
    assert str(info.value) == (
        f"unknown {kind} {typo!r}; did you mean {meant!r}? known {kind}s: {known}"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_no_suggestion_when_nothing_is_close(kind: str) -> None:
    k = KINDS[kind]
    with pytest.raises(InputError) as info:
        k["get"]("zzzzzz")
    assert str(info.value) == f"unknown {kind} 'zzzzzz'; known {kind}s: {', '.join(k['names']())}"


def test_the_suggestion_rule() -> None:
    names = ["adam", "adamax", "trust-ncg", "median"]
    assert registry.closest("adma", names) == "adam"  # fewest edits, not difflib's ratio
    assert registry.closest(" TRUST_NCG ", names) == "trust-ncg"
    assert registry.closest("qqq", names) is None
    assert optim_registry.closest("adma", names) == "adam"


def test_an_empty_registry_says_so() -> None:
    for reg in (OPTIMIZERS, PROBLEMS):
        assert reg.unknown("x", []) == (
            f"unknown {reg.kind} 'x': no {reg.kind}s are registered "
            "(is geograd installed? try: pip install -e .)"
        )


@pytest.mark.parametrize("kind", KINDS)
def test_a_broken_plugin_is_listed_with_its_error_and_named_on_lookup(
    kind: str, plugins: Callable[..., None]
) -> None:
    k = KINDS[kind]
    plugins(
        k["group"],
        broken="no_such_module_xyz:Thing",
        wrong="json:dumps",
        good=f"{__name__}:{k['plugin'].__name__}",
    )
    names = k["names"]()
    assert {"broken", "wrong", "good"} <= set(names)  # listed without importing them
    listing = k["listing"]()
    assert listing["broken"] == (
        "(cannot be loaded: ModuleNotFoundError: No module named 'no_such_module_xyz')"
    )
    assert listing["wrong"].startswith("(cannot be loaded: json:dumps is not a")
    assert listing["good"] == k["plugin"].description
    name, obj = k["builtin"]
    assert listing[name] == obj.description  # the others are untouched
    with pytest.raises(InputError) as info:
        k["get"]("broken")
    assert str(info.value) == (
        f"{kind} 'broken': cannot load no_such_module_xyz:Thing "
        "(ModuleNotFoundError: No module named 'no_such_module_xyz')"
    )
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    with pytest.raises(InputError, match=f"^{kind} 'wrong': json:dumps is not a"):
        k["get"]("wrong")
    assert k["get"]("Good") is k["plugin"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_plugin_cannot_shadow_a_builtin(kind: str, plugins: Callable[..., None]) -> None:
    k = KINDS[kind]
    name, obj = k["builtin"]
    plugins(k["group"], **{name.upper(): f"{__name__}:{k['plugin'].__name__}"})
    assert k["get"](name) is obj
    assert k["names"]().count(name) == 1
    reg = OPTIMIZERS if kind == "optimizer" else PROBLEMS
    (line,) = reg.ignored()
    assert line.startswith(f"{kind} {name!r} of package ? ({__name__}:") and "comes first" in line


@pytest.mark.parametrize("kind", KINDS)
def test_two_plugins_with_one_name_are_a_conflict_not_a_choice(
    kind: str, plugins: Callable[..., None]
) -> None:
    k = KINDS[kind]
    plugins(k["group"], twin=f"{__name__}:{k['plugin'].__name__}")
    plugins(k["group"], Twin="json:dumps")
    assert "twin" in k["names"]()
    assert "registered by more than one package" in k["listing"]()["twin"]
    with pytest.raises(InputError, match=f"^{kind} 'twin': registered by more than one"):
        k["get"]("twin")
    # the same target twice (one package seen twice) is no conflict
    plugins(k["group"], same=f"{__name__}:{k['plugin'].__name__}")
    plugins(k["group"], same=f"{__name__}:{k['plugin'].__name__}")
    assert k["get"]("same") is k["plugin"]


def test_run_time_registration_follows_the_same_rules(plugins: Callable[..., None]) -> None:
    with pytest.raises(ValueError, match="'median' is already registered"):
        register_problem(PluginProblem, "Median")
    plugins("geograd.problems", taken="json:dumps")
    register_problem(PluginProblem, " Taken ")  # explicit code beats an installed plugin
    try:
        assert problem_class("TAKEN") is PluginProblem
        register_problem(PluginProblem, "taken")  # the same class again: fine
        with pytest.raises(ValueError, match="unregister it first"):
            register_problem(GeometricMedian, "taken")
    finally:
        unregister_problem("Taken")
    with pytest.raises(InputError, match=r"^problem 'taken': json:dumps is not a"):
        problem_class("taken")


def test_the_generic_registry_holds_any_kind(plugins: Callable[..., None]) -> None:
    reg: registry.Registry[type[Optimizer]] = registry.Registry(
        "widget",
        "geograd.widgets",
        accepts=lambda o: isinstance(o, type) and issubclass(o, Optimizer),
        expected="an Optimizer subclass",
        builtins={"Plain": "geograd.optim.sgd:SGD"},
    )
    plugins("geograd.widgets", fancy=f"{__name__}:PluginOptimizer")
    assert reg.names() == ["fancy", "plain"]
    assert reg.get(" PLAIN ") is SGD and reg.get("fancy") is PluginOptimizer
    assert reg.describe(lambda c: c.__name__) == {"fancy": "PluginOptimizer", "plain": "SGD"}
    with pytest.raises(InputError, match=r"^unknown widget 'plian'; did you mean 'plain'"):
        reg.get("plian")


def test_importing_the_registry_reads_no_metadata() -> None:
    code = (
        "import sys, geograd.registry, geograd.optim.registry; "
        "print('importlib.metadata' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
