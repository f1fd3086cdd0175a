"""The array backends the engine tests run on, for ``@pytest.fixture(params=NAMES)``.

``python`` is the standard library's FloatArray, ``numpy`` numpy >= 2 through the Array
API backend, ``array_api_strict`` the portability run: a namespace with nothing beyond
the standard, so that a numpy-only call in the engine fails there. A test gets a maker
``T(value, requires_grad=False)`` that builds a Tensor whose 1-D data live in that
backend (a number stays a float: 0-D values belong to no backend), and checks with
``T.backend`` (the backend's name) that results stay there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from geograd import Tensor

NAMES = ["python", "numpy", "array_api_strict"]


class Maker:
    """Builds Tensors in one backend: ``T([1.0, 2.0])``, ``T(3.0, requires_grad=True)``."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._array: Callable[[list[float]], Any] | None = None
        if backend != "python":
            xp = pytest.importorskip(backend)
            self._array = lambda values: xp.asarray(values, dtype=xp.float64)

    def __call__(self, value: Any, requires_grad: bool = False) -> Tensor:
        if self._array is not None and isinstance(value, (list, tuple)):
            value = self._array([float(v) for v in value])
        return Tensor(value, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return self.backend


def in_backend(t: Tensor | None, backend: str) -> bool:
    """Whether the 1-D tensor ``t`` holds its data in ``backend``."""
    return t is not None and t.backend.name == backend
