"""Adam, AdamW and Adamax, following torch.optim's single-tensor implementations.

The floating-point operations are torch's, in torch's order (``lerp`` for the
first moment, ``addcmul`` for the second, the bias corrections folded into the
step size and the denominator), so the iterates agree with torch in float64 to
the last bit or two.
"""

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
    as_pair,
    check_betas,
    check_flags,
    check_nonnegative,
    lerp,
    with_manifold,
    zeros_like,
)


class Adam(Optimizer):
    r"""Adam: adaptive moment estimation (torch.optim.Adam), with AMSGrad and AdamW options.

    With gradient g_t at x_{t-1} (−g_t when ``maximize``), t = 1, 2, ...::

        g_t ← g_t + weight_decay · x_{t-1}           (L2; decoupled: x_{t-1} ← x_{t-1}(1 − lr·wd))
        m_t = m_{t-1} + (1 − β1)(g_t − m_{t-1})     (= β1 m_{t-1} + (1 − β1) g_t)
        v_t = β2 v_{t-1} + (1 − β2) g_t²
        v̂_t = max(v̂_{t-1}, v_t)  with amsgrad, else v_t
        denom = sqrt(v̂_t) / sqrt(1 − β2^t) + eps
        x_t = x_{t-1} − (lr / (1 − β1^t)) · m_t / denom

    m_0 = v_0 = v̂_0 = 0. State per parameter: ``step``, ``exp_avg``,
    ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``.

    On a ``manifold`` (Riemannian Adam, as geoopt's RiemannianAdam): g_t is the
    Riemannian gradient at x_{t-1}; m_t and v_t are updated as above (v_t with the
    coordinatewise squares g_t², geoopt's ``component_inner`` for embedded
    manifolds); the step s = −(lr/(1 − β1^t)) m_t/denom is projected onto the tangent
    space (the coordinatewise division takes it out of it) and x_t = retr(x_{t-1}, s);
    m_t is transported to x_t, v_t (and v̂_t) are kept as they are.
    """

    description = "Adam (torch.optim.Adam): bias-corrected moment estimates, amsgrad option"
    state_kinds: ClassVar[dict[str, StateKind] | None] = {
        "step": "count",
        "exp_avg": "like_param",
        "exp_avg_sq": "nonneg_like_param",
        "max_exp_avg_sq": "nonneg_like_param",
    }
    required_state = ("step", "exp_avg", "exp_avg_sq")
    riemannian = True
    transported = ("exp_avg",)

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
        manifold: Manifold | str | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": as_pair(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, with_manifold(defaults, manifold))

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        name = type(self).__name__
        check_nonnegative(name, eps=group["eps"], weight_decay=group["weight_decay"])
        check_betas(name, group["betas"])
        check_flags(
            name, amsgrad=group["amsgrad"], decoupled_weight_decay=group["decoupled_weight_decay"]
        )

    def update(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        lr: float = group["lr"]
        weight_decay: float = group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param = param * (1 - lr * weight_decay)
            else:
                grad = grad + weight_decay * param
        return param + self.direction(param, grad, state, group)

    def direction(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        lr: float = group["lr"]
        beta1: float = group["betas"][0]
        beta2: float = group["betas"][1]
        if not state:
            state["step"] = 0
            state["exp_avg"] = zeros_like(param)
            state["exp_avg_sq"] = zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_like(param)
        step: int = state["step"] + 1
        state["step"] = step
        exp_avg: Data = lerp(state["exp_avg"], grad, 1 - beta1)
        exp_avg_sq: Data = state["exp_avg_sq"] * beta2 + (1 - beta2) * grad * grad
        state["exp_avg"], state["exp_avg_sq"] = exp_avg, exp_avg_sq
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt: float = bias_correction2**0.5
        if group["amsgrad"]:
            # A parameter group may switch amsgrad on mid-run: start its maximum at zero.
            previous = state.get("max_exp_avg_sq", zeros_like(param))
            exp_avg_sq = state["max_exp_avg_sq"] = B.backend_of(param).maximum(previous, exp_avg_sq)
        eps: float = group["eps"]
        denom = B.backend_of(param).sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
        return (-step_size) * exp_avg / denom


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, default 1e-2 (torch.optim.AdamW).

    Each step first shrinks the parameter, x_{t-1} ← x_{t-1} (1 − lr · weight_decay),
    then takes :class:`Adam`'s step with the plain gradient::

        m_t = β1 m_{t-1} + (1 − β1) g_t,   v_t = β2 v_{t-1} + (1 − β2) g_t²
        x_t = x_{t-1} − (lr / (1 − β1^t)) · m_t / (sqrt(v̂_t) / sqrt(1 − β2^t) + eps)
    """

    description = "AdamW (torch.optim.AdamW): Adam with decoupled weight decay 1e-2"

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        manifold: Manifold | str | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
            manifold=manifold,
        )


class Adamax(Optimizer):
    r"""Adamax: Adam with the infinity norm (torch.optim.Adamax).

    With gradient g_t at x_{t-1} (−g_t when ``maximize``), t = 1, 2, ...::

        g_t ← g_t + weight_decay · x_{t-1}
        m_t = m_{t-1} + (1 − β1)(g_t − m_{t-1})
        u_t = max(β2 u_{t-1}, |g_t| + eps)
        x_t = x_{t-1} − (lr / (1 − β1^t)) · m_t / u_t

    m_0 = u_0 = 0. State per parameter: ``step``, ``exp_avg``, ``exp_inf``.

    On a ``manifold``: as Riemannian Adam: g_t is the Riemannian gradient, the step
    −(lr/(1 − β1^t)) m_t/u_t is projected and retracted, m_t is transported and the
    coordinatewise u_t kept as it is.
    """

    description = "Adamax (torch.optim.Adamax): Adam with the infinity norm"
    state_kinds: ClassVar[dict[str, StateKind] | None] = {
        "step": "count",
        "exp_avg": "like_param",
        "exp_inf": "nonneg_like_param",
    }
    required_state = ("step", "exp_avg", "exp_inf")
    riemannian = True
    transported = ("exp_avg",)

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        manifold: Manifold | str | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": as_pair(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, with_manifold(defaults, manifold))

    def _check_group(self, group: ParamGroup) -> None:
        super()._check_group(group)
        name = type(self).__name__
        check_nonnegative(name, eps=group["eps"], weight_decay=group["weight_decay"])
        check_betas(name, group["betas"])

    def update(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        return param + self.direction(param, grad, state, group)

    def direction(self, param: Data, grad: Data, state: dict[str, Any], group: ParamGroup) -> Data:
        beta1: float = group["betas"][0]
        beta2: float = group["betas"][1]
        if not state:
            state["step"] = 0
            state["exp_avg"] = zeros_like(param)
            state["exp_inf"] = zeros_like(param)
        step = state["step"] + 1
        state["step"] = step
        exp_avg = state["exp_avg"] = lerp(state["exp_avg"], grad, 1 - beta1)
        be = B.backend_of(param)
        exp_inf = state["exp_inf"] = be.maximum(
            state["exp_inf"] * beta2, be.absolute(grad) + group["eps"]
        )
        clr: float = group["lr"] / (1 - beta1**step)
        return (-clr) * exp_avg / exp_inf
