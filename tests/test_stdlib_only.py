"""Layers 1-5 import the standard library only: proved in fresh interpreters.

Each check runs in a subprocess, so that nothing the test runner (or another
test) imported can hide an import. Two complementary checks:

* with numpy, scipy and matplotlib blocked (a ``sys.meta_path`` finder that raises
  ImportError for them, installed before geograd is imported), import every
  engine module (the array backends included), build a graph, run backward and a
  whole ``minimize`` on the standard library backend: any import of them, even a
  guarded one, fails loudly;
* without the block, ``import geograd`` leaves none of them in ``sys.modules``
  (this catches an optional import that would quietly succeed when installed).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BLOCKED = ("numpy", "scipy", "matplotlib", "array_api_compat", "array_api_strict")

# Layers 1-3 (the engine) and layers 4-5 (optimizers, minimize, gradcheck, the benchmark).
ENGINE = [
    "geograd",
    "geograd.errors",
    "geograd.registry",
    "geograd.floatarray",
    "geograd.backend",
    "geograd.arrayapi",
    "geograd.tensor",
    "geograd.functional",
    "geograd.forward",
    "geograd.manifolds",
]
UPPER = ["geograd.optim", "geograd.solve", "geograd.check", "geograd.bench", "geograd.modes"]

BLOCKER = textwrap.dedent(
    f"""
    import importlib.abc
    import sys

    BLOCKED = {BLOCKED!r}

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked: geograd must use the standard library")
            return None

    assert not any(m.partition(".")[0] in BLOCKED for m in sys.modules), "already imported"
    sys.meta_path.insert(0, Blocker())
    """
)

GRAPH = textwrap.dedent(
    """
    import math
    from geograd import Tensor, grad, no_grad
    import geograd.functional as F

    p = Tensor([0.3, 0.3], requires_grad=True)
    xs, ys = Tensor([0.0, 1.0, 0.5]), Tensor([0.0, 0.0, 1.0])
    loss = F.mean(F.hypot(xs - p[0], ys - p[1])) + F.logsumexp(F.sin(p)) * 0.0
    loss.backward()
    assert p.grad is not None and len(p.grad.tolist()) == 2
    assert abs(grad(grad(F.sin))(1.0).item() + math.sin(1.0)) < 1e-15
    from geograd.forward import jvp, vjp
    assert abs(jvp(grad(F.sin), (1.0,), (1.0,))[1].item() + math.sin(1.0)) < 1e-15
    assert vjp(F.sin, (p,))[1]([1.0, 0.0])[0].tolist()[0] == math.cos(0.3)
    assert p.grad.backend.name == "python"

    # a whole solve: the median of the three points, by every registered optimizer
    from geograd import minimize
    from geograd.optim import available_optimizers

    for name in available_optimizers():
        r = minimize(lambda q: F.sum(F.hypot(xs - q[0], ys - q[1])), [0.3, 0.3], name,
                     max_steps=400)
        assert r.reason in ("gtol", "max_steps", "stalled", "xtol"), (name, r.reason)
        assert all(type(v) is float for v in r.x)
    """
)


def run(code: str) -> subprocess.CompletedProcess[str]:
    # -I: no user site, no PYTHONPATH, no current directory on sys.path
    return subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=120
    )


def imports(modules: list[str]) -> str:
    return "\n".join(f"import {m}" for m in modules) + "\n"


def walk(package: str) -> str:
    """Code that imports every submodule of ``package`` too."""
    return textwrap.dedent(
        f"""
        import importlib, pkgutil
        _pkg = importlib.import_module({package!r})
        for _info in pkgutil.walk_packages(getattr(_pkg, "__path__", []), {package!r} + "."):
            importlib.import_module(_info.name)
        """
    )


def test_the_engine_works_with_numpy_scipy_and_matplotlib_blocked() -> None:
    # the blocker must itself work, or the test proves nothing
    probe = run(BLOCKER + "import numpy\n")
    assert probe.returncode != 0 and "is blocked" in probe.stderr
    result = run(BLOCKER + imports(ENGINE) + GRAPH + "print('ok')\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("module", UPPER)
def test_optimizers_solve_check_and_bench_work_with_them_blocked(module: str) -> None:
    code = BLOCKER + imports(ENGINE) + walk(module) + GRAPH + "print('ok')\n"
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_import_geograd_loads_none_of_them() -> None:
    code = imports([*ENGINE, *UPPER]) + textwrap.dedent(
        f"""
        import sys
        loaded = sorted(m for m in sys.modules if m.partition(".")[0] in {BLOCKED!r})
        print(",".join(loaded))
        """
    )
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
