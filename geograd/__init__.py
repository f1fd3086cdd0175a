"""geograd: solve geometric problems by gradient descent.

A reverse-mode autograd engine written with the Python standard library only
(scalars and 1-D vectors, iterative backward, higher-order gradients),
torch.optim-style optimizers, ``minimize()``, and a catalogue of geometric
problems (``geograd.problems``) with a command-line tool (``geograd``).

Importing geograd imports the engine, the layers that make ``Tensor`` whole
(:mod:`geograd.functional` installs its operators, as ``autograd.numpy`` assembles
HIPS autograd), and whichever geograd module is imported, this comes first.
``minimize``, ``Result``, the derivatives and forward mode (``jvp``, ``vjp``) are
imported on first use (with the optimizers, the solve loop and their dataclasses
they are two thirds of the import time, which ``geograd --help`` and every program
that only builds tensors would pay).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from geograd import functional
from geograd.errors import (
    BackendError,
    DivergenceError,
    DivisionByZeroError,
    DomainError,
    FloatOverflowError,
    GeogradError,
    InputError,
    NaNError,
    ShapeError,
)
from geograd.floatarray import FloatArray
from geograd.functional import grad, value_and_grad
from geograd.tensor import Tensor, enable_grad, is_grad_enabled, no_grad

if TYPE_CHECKING:
    from geograd.derivatives import hessian, hvp, jacobian
    from geograd.forward import jvp, vjp
    from geograd.graphs import graph
    from geograd.solve import Result, minimize

__version__ = "0.1.0"

#: name -> the module it is imported from on first use
_ON_FIRST_USE = {
    "Result": "geograd.solve",
    "minimize": "geograd.solve",
    "hessian": "geograd.derivatives",
    "hvp": "geograd.derivatives",
    "jacobian": "geograd.derivatives",
    "jvp": "geograd.forward",
    "vjp": "geograd.forward",
    "graph": "geograd.graphs",
}


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'geograd' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "BackendError",
    "DivergenceError",
    "DivisionByZeroError",
    "DomainError",
    "FloatArray",
    "FloatOverflowError",
    "GeogradError",
    "InputError",
    "NaNError",
    "Result",
    "ShapeError",
    "Tensor",
    "__version__",
    "enable_grad",
    "functional",
    "grad",
    "graph",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "minimize",
    "no_grad",
    "value_and_grad",
    "vjp",
]
