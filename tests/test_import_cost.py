"""``import geograd`` and ``geograd --help`` stay light: nothing heavy until a command
needs it.

(What it costs in milliseconds is the benchmark's business; which modules it
loads is a fact a test can check.)"""

from __future__ import annotations

import subprocess
import sys
import textwrap

HEAVY = ("importlib.metadata", "email", "zipfile", "numpy", "scipy", "matplotlib")

#: Deferred by ``geograd --help``: rich (help is plain click text), the problems and
#: their registry, the solve loop and the optimizers, plotting, and the modules that
#: run a command and report it.
NOT_FOR_HELP = (
    *HEAVY,
    "rich",
    "typer.rich_utils",
    "pydantic",
    "geograd.problems",
    "geograd.solve",
    "geograd.optim",
    "geograd.derivatives",
    "geograd.forward",
    "geograd.modes",
    "geograd.check",
    "geograd.plot",
    "geograd.fileio",
    "geograd.bench",
    "geograd.cli.solve",
    "geograd.cli.check",
    "geograd.cli.plotting",
    "geograd.cli.report",
    "geograd.cli.output",
    "geograd.cli.progress",
    "geograd.cli.work",
)


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return set(out.split())


def cli_loads(*args: str) -> tuple[str, set[str]]:
    """What ``geograd ARGS`` prints, and the modules it loaded (in a fresh interpreter)."""
    code = textwrap.dedent(
        f"""
        import sys
        from geograd.cli import run
        try:
            run({list(args)!r})
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        print("MODULES", " ".join(sys.modules))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    text, _, modules = out.rpartition("MODULES ")
    return text, set(modules.split())


def under(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    """The ``names`` loaded, each as itself or through one of its submodules."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in loaded)]


def test_import_geograd_loads_no_metadata_machinery() -> None:
    loaded = loaded_after("import geograd")
    assert not [m for m in HEAVY if m in loaded]


def test_import_geograd_defers_the_solve_loop_and_the_optimizers() -> None:
    loaded = loaded_after("import geograd")
    assert {"geograd.tensor", "geograd.functional"} <= loaded  # the engine, whole
    assert under(loaded, ("geograd.solve", "geograd.optim", "geograd.derivatives")) == []
    loaded = loaded_after("from geograd import minimize, hessian")
    assert {"geograd.solve", "geograd.optim", "geograd.derivatives"} <= loaded


def test_a_registry_lookup_reads_the_entry_points_then() -> None:
    loaded = loaded_after("from geograd.optim import get_optimizer; get_optimizer('adam')")
    assert "importlib.metadata" in loaded


def test_top_level_help_imports_none_of_the_deferred_modules() -> None:
    text, loaded = cli_loads("--help")
    assert "Commands:" in text and "solve" in text  # it did print the help
    assert under(loaded, NOT_FOR_HELP) == []


def test_a_problems_help_loads_the_problem_but_not_rich() -> None:
    text, loaded = cli_loads("solve", "median", "--help")
    text = " ".join(text.split())
    assert "Problem options:" in text and "number of generated points" in text
    assert "default 1000" in text and "default for gd: 1000" in text  # --n, --steps
    assert "geograd.problems.median" in loaded  # the check can see a deferred module
    assert under(loaded, ("rich", "typer.rich_utils", "matplotlib", "scipy")) == []
