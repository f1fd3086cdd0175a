"""Gradient clipping by global norm, as ``torch.nn.utils.clip_grad_norm_``."""

from __future__ import annotations

import math
from collections.abc import Iterable

from geograd import backend as B
from geograd.backend import Data
from geograd.errors import DomainError, InputError
from geograd.tensor import Tensor


def _norm(g: Data, norm_type: float) -> float:
    """The norm_type-norm of one gradient, computed in its backend; inf when it overflows."""
    if isinstance(g, float):
        return abs(g)
    be = B.backend_of(g)
    if not g.shape[0]:
        return 0.0
    try:
        if norm_type == 2.0:
            return be.vector_norm(g)
        if math.isinf(norm_type):
            return be.amax(be.absolute(g))
        return float(be.total(be.power(be.absolute(g), norm_type)) ** (1.0 / norm_type))
    except OverflowError:
        return math.inf


def _combine(norms: list[float], norm_type: float) -> float:
    """The norm_type-norm of a vector of non-negative numbers; inf when it overflows."""
    try:
        if norm_type == 2.0:
            return math.hypot(*norms)
        if math.isinf(norm_type):
            return max(norms)
        return float(math.fsum(n**norm_type for n in norms) ** (1.0 / norm_type))
    except OverflowError:
        return math.inf


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale the gradients so that their global norm is at most ``max_norm``; return the norm.

    The global norm is the ``norm_type``-norm of all gradients joined into one
    vector, ‖(g_1, ..., g_n)‖ (2 by default, ``math.inf`` for the largest
    entry). As torch does, every gradient is multiplied by
    ``min(1, max_norm / (total + 1e-6))``. The norm returned is the one before
    clipping. Parameters without a gradient are skipped. A non-finite norm
    leaves the gradients as they are (torch would turn them into NaN and
    zeros); ``error_if_nonfinite=True`` raises DomainError instead.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not (max_norm >= 0.0):
        raise InputError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm!r}")
    if not (norm_type > 0.0):
        raise InputError(f"clip_grad_norm_: norm_type must be > 0, got {norm_type!r}")
    with_grad = [p for p in params if p.grad is not None]
    norms = [_norm(p.grad.data, norm_type) for p in with_grad]  # type: ignore[union-attr]
    if not norms:
        return 0.0
    total = _combine(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise DomainError(
            f"clip_grad_norm_: the total norm of the gradients is {total}; "
            "set error_if_nonfinite=False to clip anyway"
        )
    coef = min(max_norm / (total + 1e-6), 1.0)
    if coef < 1.0 and math.isfinite(total):
        for p in with_grad:
            g = p.grad.data  # type: ignore[union-attr]
            p.grad = Tensor.from_data(B.backend_of(g).mul(g, coef))
    return total
