"""No import cycle among geograd's modules: the primitive table (geograd.functional)
sits above geograd.tensor and installs Tensor's operators; tensor imports nothing
from it. Checked twice: statically (the module graph of top-level imports has no
cycle) and in a fresh interpreter per first import (no module is imported while it
is still being initialised). Each checker is shown to catch the cycle it looks for."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import geograd
import geograd.functional as F
from geograd.tensor import Tensor

PACKAGE_DIR = Path(geograd.__file__).resolve().parent


# ------------------------------------------------------------------ the static module graph


def _module_name(path: Path, root: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The imports a module runs while it is imported: module level, and inside top-level
    ``if``/``try``/``with`` blocks, but not under ``if TYPE_CHECKING:`` nor in functions."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _top_level_imports(node.body)
            found += _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += _top_level_imports(block)
            for handler in node.handlers:
                found += _top_level_imports(handler.body)
        elif isinstance(node, ast.With):
            found += _top_level_imports(node.body)
    return found


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """module -> the package's modules it imports at import time (from the source)."""
    files = {_module_name(p, root, package): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from pkg import sub`` imports the submodule; ``from pkg import name``
                # the package (or module) that defines the name
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            edges.update(t for t in targets if t in files and t != name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_geograd_modules_import_each_other_without_a_cycle() -> None:
    graph = import_graph(PACKAGE_DIR, "geograd")
    # the scan sees the imports (the table stands on the tensor module, not the reverse)
    assert "geograd.tensor" in graph["geograd.functional"]
    assert "geograd.functional" not in graph["geograd.tensor"]
    assert "geograd.optim.optimizer" in graph["geograd.optim.sgd"]  # subpackages too
    assert find_cycle(graph) is None


def test_the_static_check_finds_the_old_tensor_functional_cycle(tmp_path: Path) -> None:
    copy = tmp_path / "geograd"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "tensor.py", "a", encoding="utf-8") as f:
        f.write("\nfrom geograd import functional as F  # the import the operators needed\n")
    cycle = find_cycle(import_graph(copy, "geograd"))
    assert cycle is not None
    assert {"geograd.tensor", "geograd.functional"} <= set(cycle)
    # imports only a type checker reads do not count
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    body = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\n").body
    assert len(_top_level_imports(body)) == 1


# --------------------------------------------------------- a fresh interpreter, first import

PROBE = textwrap.dedent(
    """
    import builtins, importlib.util, json, sys

    PREFIX, FIRST, USE = sys.argv[1], sys.argv[2], sys.argv[3]
    real_import = builtins.__import__
    partial = []  # (importer, module) where module was still being initialised

    def initializing(name):
        module = sys.modules.get(name)
        spec = getattr(module, "__spec__", None)
        return bool(getattr(spec, "_initializing", False))

    def probing_import(name, globals=None, locals=None, fromlist=(), level=0):
        result = real_import(name, globals, locals, fromlist, level)
        importer = (globals or {}).get("__name__", "")
        if level:
            package = (globals or {}).get("__package__") or importer
            name = importlib.util.resolve_name("." * level + name, package)
        if importer.startswith(PREFIX) and name.startswith(PREFIX):
            targets = [name]
            if fromlist:
                subs = [f"{name}.{item}" for item in fromlist if f"{name}.{item}" in sys.modules]
                targets = subs if len(subs) == len(fromlist) else [name, *subs]
            for target in targets:
                if target != importer and initializing(target):
                    partial.append([importer, target])
        return result

    builtins.__import__ = probing_import
    importlib.import_module(FIRST)
    builtins.__import__ = real_import
    exec(USE)
    print(json.dumps(partial))
    """
)

USE_THE_ENGINE = (
    "from geograd.tensor import Tensor\n"
    "x = Tensor([1.0, 2.0], requires_grad=True)\n"
    "((x * x).sum() + x[0].exp() - abs(-x[1]) / 2.0 + sum(x)).backward()\n"
    "assert [round(v, 6) for v in x.grad.tolist()] == [5.718282, 4.5], x.grad\n"
)


def partially_imported(first: str, prefix: str = "geograd", use: str = "", path: str = "") -> list:
    """(importer, module) pairs where ``module`` was imported while still initialising,
    with ``first`` the first module imported in a fresh interpreter (then ``use`` run)."""
    env = {**os.environ, "PYTHONPATH": path} if path else None
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, prefix, first, use or "pass"],
        capture_output=True, text=True, check=False, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("first", ["geograd.functional", "geograd.tensor", "geograd"])
def test_each_engine_module_imported_first_meets_no_half_initialised_module(first: str) -> None:
    # and, whichever came first, Tensor has its operators: the engine works
    assert partially_imported(first, use=USE_THE_ENGINE) == []


def test_the_runtime_check_finds_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "cyclic"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyclic import b\n")
    (pkg / "b.py").write_text("from . import a\n")
    assert partially_imported("cyclic.a", "cyclic", path=str(tmp_path)) == [
        ["cyclic.b", "cyclic.a"]
    ]


# ---------------------------------------------------------------- Tensor's installed methods


def test_every_method_tensor_declares_for_type_checkers_is_installed() -> None:
    tree = ast.parse((PACKAGE_DIR / "tensor.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    blocks = [n for n in cls.body if isinstance(n, ast.If) and _is_type_checking(n.test)]
    declared = {f.name for b in blocks for f in b.body if isinstance(f, ast.FunctionDef)}
    assert declared == set(F.TENSOR_METHODS)
    for name in declared:
        method = getattr(Tensor, name)
        assert method is F.TENSOR_METHODS[name]
        assert method.__qualname__ == f"Tensor.{name}"
