"""The optimizer registry: entry points, descriptions, unknown names."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

import geograd.optim as optim
from geograd import InputError
from geograd.optim import (
    Optimizer,
    available_optimizers,
    get_optimizer,
    optimizer_names,
)
from geograd.optim.registry import closest

BUILTINS = {
    "sgd": optim.SGD,
    "momentum": optim.Momentum,
    "nag": optim.NAG,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
    "adamax": optim.Adamax,
    "rmsprop": optim.RMSprop,
    "adagrad": optim.Adagrad,
    "gd": optim.GradientDescent,
}


def test_builtins_come_from_our_entry_points() -> None:
    eps = {ep.name: ep.value for ep in entry_points(group="geograd.optimizers")}
    for name, cls in BUILTINS.items():
        assert eps[name] == f"{cls.__module__}:{cls.__name__}"
        assert get_optimizer(name) is cls
    assert set(BUILTINS) <= set(optimizer_names())
    assert optimizer_names() == sorted(optimizer_names())


def test_each_entry_has_a_one_line_description() -> None:
    described = available_optimizers()
    assert set(BUILTINS) <= set(described)
    for name, text in described.items():
        assert text and "\n" not in text and len(text) <= 100, name
        assert not text.startswith("(cannot be loaded"), text
    assert "line search" in described["gd"]
    assert all(issubclass(get_optimizer(n), Optimizer) for n in described)


def test_names_are_case_insensitive() -> None:
    assert get_optimizer(" Adam ") is optim.Adam
    assert get_optimizer("GD") is optim.GradientDescent


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("adma", "adam"), ("sdg", "sgd"), ("rmsporp", "rmsprop"), ("adam_w", "adamw"),
     ("momentun", "momentum"), ("adagard", "adagrad")],
)  # fmt: skip
def test_unknown_name_names_the_closest_and_lists_all(typo: str, meant: str) -> None:
    with pytest.raises(InputError) as info:
        get_optimizer(typo)
    text = str(info.value)
    assert f"did you mean {meant!r}" in text
    assert repr(typo) in text
    for name in BUILTINS:
        assert name in text
    assert closest(typo, optimizer_names()) == meant


def test_listing_is_lazy_and_survives_a_broken_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names come from metadata alone; a plugin that cannot import only spoils its own line."""
    from importlib.metadata import EntryPoint

    import geograd.registry
    from geograd.optim import registry

    real = geograd.registry.entry_points
    fakes = (
        EntryPoint("broken", "no_such_module_xyz:Opt", registry.GROUP),
        EntryPoint("notopt", "json:dumps", registry.GROUP),
    )
    monkeypatch.setattr(geograd.registry, "entry_points", lambda group: (*real(group), *fakes))
    registry.refresh()
    try:
        assert "broken" in optimizer_names()  # listed without importing it
        listing = available_optimizers()
        assert listing["broken"].startswith("(cannot be loaded: ModuleNotFoundError")
        assert "not an Optimizer subclass" in listing["notopt"]
        assert listing["adam"] == optim.Adam.description
        with pytest.raises(InputError, match="optimizer 'broken': cannot load no_such_module"):
            get_optimizer("broken")
        with pytest.raises(InputError, match="not an Optimizer"):
            get_optimizer("notopt")
    finally:
        monkeypatch.undo()
        registry.refresh()


def test_optim_uses_the_standard_library_only() -> None:
    code = (
        "import sys; import geograd.optim, geograd.solve; "
        "bad = [m for m in ('numpy', 'scipy', 'matplotlib', 'typer') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
