"""RMSprop, following torch.optim.RMSprop's single-tensor implementation step for step."""

from __future__ import annotations

from typing import Any, ClassVar

from geograd import backend as B
from geograd.backend import Data
from geograd.errors import InputError
from geograd.manifolds import Manifold
from geograd.optim.optimizer import (
    Optimizer,
    ParamGroup,
    Params,
    StateKind,
    check_flags,
    check_nonnegative,
    lerp,
    with_manifold,
    zeros_like,
)


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root mean square (torch.optim.RMSprop).

    With gradient g_t at x_{t-1} (−g_t when ``maximize``)::

        g_t ← g_t + weight_decay · x_{t-1}
        v_t = α v_{t-1} + (1 − α) g_t²
        centered:  ḡ_t = ḡ_{t-1} + (1 − α)(g_t − ḡ_{t-1}),   a_t = sqrt(v_t − ḡ_t²) + eps
        otherwise: a_t = sqrt(v_t) + eps
        momentum > 0: b_t = momentum · b_{t-1} + g_t / a_t,   x_t = x_{t-1} − lr · b_t
        otherwise:    x_t = x_{t-1} − lr · g_t / a_t

    v_0 = ḡ_0 = b_0 = 0. State per parameter: ``step``, ``square_avg`` and, as
    needed, ``momentum_buffer`` and ``grad_avg``.

    On a ``manifold``: g_t is the Riemannian gradient; v_t (coordinatewise squares)
    and ḡ_t (which only centres v_t) are kept as they are, as Riemannian Adam keeps
    its second moment (transporting ḡ_t alone could make v_t − ḡ_t² negative); the
    step −lr · b_t (or −lr · g_t/a_t) is projected and retracted, and the momentum
    buffer b_t, a tangent vector, is transported to x_t.
    """

    description = "RMSprop (torch.optim.RMSprop): running RMS of gradients, centered option"
    state_kinds: ClassVar[dict[str, StateKind] | None] = {
        "step": "count",
        "square_avg": "nonneg_like_param",
        "momentum_buffer": "like_param",
        "grad_avg": "like_param",
    }
    required_state = ("step", "square_avg")
    riemannian = True
    transported = ("momentum_buffer",)

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
        manifold: Manifold | str | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, with_manifold(defaults, manifold))

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        name = type(self).__name__
        check_nonnegative(
            name,
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
        )
        if group["alpha"] > 1.0:
            raise InputError(f"{name}: invalid alpha value {group['alpha']!r} (must be <= 1)")
        check_flags(name, centered=group["centered"])

    def update(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        return param + self.direction(param, grad, state, group)

    def direction(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        lr: float = group["lr"]
        alpha: float = group["alpha"]
        momentum: float = group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = zeros_like(param)
        state["step"] += 1
        square_avg = state["square_avg"] = state["square_avg"] * alpha + (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"] = lerp(
                state.get("grad_avg", zeros_like(param)), grad, 1 - alpha
            )
            avg = B.backend_of(param).sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = B.backend_of(param).sqrt(square_avg)
        eps: float = group["eps"]
        avg = avg + eps
        if momentum > 0:
            buf: Data = state.get("momentum_buffer", zeros_like(param))
            buf = buf * momentum + grad / avg
            state["momentum_buffer"] = buf
            return (-lr) * buf
        return (-lr) * grad / avg
