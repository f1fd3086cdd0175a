"""Adagrad, following torch.optim.Adagrad's single-tensor implementation step for step."""

from __future__ import annotations

from typing import Any, ClassVar

from geograd import backend as B
from geograd.backend import Data
from geograd.manifolds import Manifold
from geograd.optim.optimizer import (
    Optimizer,
    ParamGroup,
    Params,
    StateKind,
    check_nonnegative,
    full_like,
    with_manifold,
)


class Adagrad(Optimizer):
    r"""Adagrad: per-coordinate steps scaled by the accumulated squared gradients (torch's).

    With gradient g_t at x_{t-1} (−g_t when ``maximize``), t = 1, 2, ...::

        g_t ← g_t + weight_decay · x_{t-1}
        lr_t = lr / (1 + (t − 1) · lr_decay)
        s_t = s_{t-1} + g_t²,        s_0 = initial_accumulator_value
        x_t = x_{t-1} − lr_t · g_t / (sqrt(s_t) + eps)

    State per parameter: ``step`` and ``sum``.

    On a ``manifold``: g_t is the Riemannian gradient, s_t accumulates its
    coordinatewise squares (kept as it is from point to point, like Riemannian
    Adam's second moment: there is no tangent buffer to transport), and the step
    −lr_t · g_t/(sqrt(s_t) + eps) is projected and retracted.
    """

    description = "Adagrad (torch.optim.Adagrad): steps scaled by accumulated squared gradients"
    state_kinds: ClassVar[dict[str, StateKind] | None] = {
        "step": "count",
        "sum": "nonneg_like_param",
    }
    required_state = ("step", "sum")
    riemannian = True

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        manifold: Manifold | str | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, with_manifold(defaults, manifold))

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        check_nonnegative(
            type(self).__name__,
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            initial_accumulator_value=group["initial_accumulator_value"],
            eps=group["eps"],
        )

    def update(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        return param + self.direction(param, grad, state, group)

    def direction(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        if not state:
            state["step"] = 0
            state["sum"] = full_like(param, group["initial_accumulator_value"])
        step = state["step"] = state["step"] + 1
        clr: float = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        total = state["sum"] = state["sum"] + grad * grad
        eps: float = group["eps"]
        std = B.backend_of(param).sqrt(total) + eps
        return (-clr) * grad / std
