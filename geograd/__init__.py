"""geograd: solve geometric problems by gradient descent.

A reverse-mode autograd engine written with the Python standard library only
(scalars and 1-D vectors, iterative backward, higher-order gradients),
torch.optim-style optimizers, ``minimize()``, and a catalogue of geometric
problems (``geograd.problems``) with a command-line tool (``geograd``).
"""

from geograd import functional
from geograd.derivatives import hessian, hvp, jacobian
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
from geograd.solve import Result, minimize
from geograd.tensor import Tensor, enable_grad, is_grad_enabled, no_grad

__version__ = "0.1.0"

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
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "minimize",
    "no_grad",
    "value_and_grad",
]
