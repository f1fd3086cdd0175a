"""Stochastic gradient descent, heavy-ball momentum and Nesterov's accelerated gradient.

:class:`SGD` follows ``torch.optim.SGD`` step for step; :class:`Momentum` and
:class:`NAG` are SGD with other defaults, named as the card names them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from geograd.backend import Data
from geograd.errors import InputError
from geograd.manifolds import Manifold
from geograd.optim.optimizer import (
    Optimizer,
    ParamGroup,
    Params,
    StateKind,
    check_finite,
    check_flags,
    check_nonnegative,
    with_manifold,
)


class SGD(Optimizer):
    r"""Gradient descent with optional momentum, Nesterov momentum and weight decay (torch's SGD).

    With gradient g_t of the loss at x_{t-1} (−g_t when ``maximize``)::

        g_t ← g_t + weight_decay · x_{t-1}                      if weight_decay ≠ 0
        b_1 = g_1,  b_t = momentum · b_{t-1} + (1 − dampening) · g_t   if momentum ≠ 0
        g_t ← g_t + momentum · b_t  (nesterov)   or   g_t ← b_t
        x_t = x_{t-1} − lr · g_t

    The momentum buffer starts as the first gradient itself (no dampening on the
    first step), as in torch. ``nesterov`` needs ``momentum > 0`` and
    ``dampening == 0``. State per parameter: ``momentum_buffer``.

    The options are checked as torch checks them, plus finiteness: ``lr``, ``momentum``
    and ``weight_decay`` finite numbers >= 0, ``dampening`` any finite number. A
    momentum >= 1 is accepted, as torch accepts it, though the buffer then never decays
    (with a steady gradient it grows without bound and the run diverges: the step is
    refused with a DivergenceError, which :func:`geograd.minimize` reports as
    ``diverged``); the useful range is [0, 1).

    On a ``manifold`` (Riemannian SGD, as geoopt's RiemannianSGD): g_t is the
    Riemannian gradient, x_t = retr(x_{t-1}, −lr · g_t) and the momentum buffer is
    transported to x_t after each step.
    """

    description = "stochastic gradient descent (torch.optim.SGD): momentum, nesterov, decay"
    state_kinds: ClassVar[dict[str, StateKind] | None] = {"momentum_buffer": "like_param_or_none"}
    riemannian = True
    transported = ("momentum_buffer",)

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        manifold: Manifold | str | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, with_manifold(defaults, manifold))

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        name = type(self).__name__
        check_nonnegative(name, momentum=group["momentum"], weight_decay=group["weight_decay"])
        check_finite(name, dampening=group["dampening"])
        check_flags(name, nesterov=group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise InputError(
                f"{name}: Nesterov momentum requires (nesterov=True) momentum > 0 and "
                "dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def update(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        return param + self.direction(param, grad, state, group)

    def direction(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        lr: float = group["lr"]
        momentum: float = group["momentum"]
        if momentum != 0:
            buf: Data | None = state.get("momentum_buffer")
            # torch starts the buffer as the first gradient itself, undamped
            buf = grad if buf is None else buf * momentum + (1 - group["dampening"]) * grad
            state["momentum_buffer"] = buf
            grad = grad + momentum * buf if group["nesterov"] else buf
        return (-lr) * grad


class Momentum(SGD):
    """Heavy-ball gradient descent: SGD with momentum 0.9 (Nesterov's variant on request).

    The update is :class:`SGD`'s with ``momentum`` (default 0.9)::

        b_1 = g_1,  b_t = momentum · b_{t-1} + (1 − dampening) · g_t
        x_t = x_{t-1} − lr · b_t          (nesterov: − lr · (g_t + momentum · b_t))
    """

    description = "heavy-ball gradient descent: SGD with momentum 0.9"

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        momentum: float = 0.9,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        manifold: Manifold | str | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
            maximize=maximize,
            manifold=manifold,
        )


class NAG(SGD):
    """Nesterov's accelerated gradient: SGD with Nesterov momentum 0.9.

    The update is :class:`SGD`'s with ``momentum=0.9, nesterov=True``::

        b_1 = g_1,  b_t = momentum · b_{t-1} + g_t
        x_t = x_{t-1} − lr · (g_t + momentum · b_t)
    """

    description = "Nesterov's accelerated gradient: SGD with nesterov momentum 0.9"

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        momentum: float = 0.9,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = True,
        *,
        maximize: bool = False,
        manifold: Manifold | str | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
            maximize=maximize,
            manifold=manifold,
        )
