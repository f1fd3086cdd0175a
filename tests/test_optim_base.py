"""The Optimizer base: torch.optim's API, parameter groups, zero_grad, state dicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from geograd import FloatArray, InputError, Tensor
from geograd.optim import (
    NAG,
    SGD,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    GradientDescent,
    Momentum,
    Optimizer,
    RMSprop,
)


def loss_of(a: Tensor, b: Tensor) -> Tensor:
    """A coupled loss of a 0-D and a 1-D parameter."""
    return (a - 1.0) * (a - 1.0) + 2.0 * ((b[0] + 0.5) * (b[0] + 0.5)) + a * b[1] + b[1] * b[1]


CONFIGS: list[tuple[type[Optimizer], dict[str, Any]]] = [
    (SGD, {"lr": 0.05}),
    (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (Momentum, {"lr": 0.05}),
    (NAG, {"lr": 0.05}),
    (Adam, {"lr": 0.1}),
    (Adam, {"lr": 0.1, "amsgrad": True, "betas": (0.8, 0.5)}),
    (AdamW, {"lr": 0.1}),
    (Adamax, {"lr": 0.1}),
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
    (GradientDescent, {}),
]


def make(cls: type[Optimizer], options: dict[str, Any], a: Tensor, b: Tensor) -> Optimizer:
    if cls is GradientDescent:
        return cls([a, b], **options)
    # two groups, to cover per-group options in the state dict
    return cls([{"params": [a]}, {"params": [b], "lr": options.get("lr", 0.01) / 2}], **options)


def advance(opt: Optimizer, a: Tensor, b: Tensor, steps: int) -> list[Any]:
    def closure() -> Tensor:
        opt.zero_grad()
        loss = loss_of(a, b)
        loss.backward()
        return loss

    path = []
    for _ in range(steps):
        if opt.requires_closure:
            opt.step(closure)
        else:
            closure()
            opt.step()
        path.append((a.data, b.data.tolist()))
    return path


@pytest.mark.parametrize(("cls", "options"), CONFIGS, ids=[f"{c.__name__}-{o}" for c, o in CONFIGS])
def test_state_dict_round_trip_through_json_mid_run(
    cls: type[Optimizer], options: dict[str, Any]
) -> None:
    a, b = Tensor(1.7, requires_grad=True), Tensor([0.3, -0.8], requires_grad=True)
    straight = make(cls, options, a, b)
    whole = advance(straight, a, b, 20)

    a, b = Tensor(1.7, requires_grad=True), Tensor([0.3, -0.8], requires_grad=True)
    first = make(cls, options, a, b)
    head = advance(first, a, b, 10)
    saved = json.loads(json.dumps(first.state_dict()))

    # a fresh optimizer over fresh tensors holding the same values
    a2, b2 = Tensor(a.data, requires_grad=True), Tensor(b.data, requires_grad=True)
    resumed = make(cls, options, a2, b2)
    resumed.load_state_dict(saved)
    tail = advance(resumed, a2, b2, 10)
    assert head + tail == whole  # bit for bit
    ours, theirs = (json.loads(json.dumps(o.state_dict())) for o in (resumed, straight))
    if cls is GradientDescent:  # it evaluates once more after loading: it has no cached point
        assert ours["state"]["0"].pop("func_evals") == theirs["state"]["0"].pop("func_evals") + 1
    assert ours == theirs


def test_state_dict_is_plain_data() -> None:
    a, b = Tensor(1.0, requires_grad=True), Tensor([1.0, 2.0], requires_grad=True)
    opt = Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, amsgrad=True)
    advance(opt, a, b, 2)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == [0.9, 0.999]
    assert sd["state"][0]["step"] == 2 and isinstance(sd["state"][0]["exp_avg"], float)
    assert isinstance(sd["state"][1]["exp_avg"], list) and len(sd["state"][1]["exp_avg_sq"]) == 2
    json.dumps(sd, allow_nan=False)
    # a copy: stepping on does not change it
    before = json.dumps(sd)
    advance(opt, a, b, 1)
    assert json.dumps(sd) == before
    # loading restores tuples and arrays
    opt.load_state_dict(json.loads(before))
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)
    assert isinstance(opt.state[b]["exp_avg"], FloatArray)
    assert opt.param_groups[1]["params"] == [b]


def test_load_state_dict_rejects_a_mismatch() -> None:
    a, b = Tensor(1.0, requires_grad=True), Tensor([1.0, 2.0], requires_grad=True)
    opt = Adam([a, b])
    advance(opt, a, b, 1)
    sd = opt.state_dict()
    with pytest.raises(InputError, match="parameter groups"):
        Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)
    with pytest.raises(InputError, match="size"):
        Adam([a]).load_state_dict(sd)
    with pytest.raises(InputError, match="shape"):
        c = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        Adam([a, c]).load_state_dict(sd)
    with pytest.raises(InputError, match="'state'"):
        opt.load_state_dict({"param_groups": []})


def test_param_groups_fill_defaults_and_validate() -> None:
    a, b = Tensor(1.0, requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = SGD([{"params": a, "momentum": 0.5}], lr=0.1)
    assert opt.param_groups[0]["params"] == [a]
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.5
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.0
    with pytest.raises(InputError, match="more than one"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(InputError, match="Nesterov momentum requires"):
        SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(InputError, match="Nesterov"):
        SGD([a], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(InputError, match="learning rate"):
        Adam([a], lr=-1.0)
    with pytest.raises(InputError, match="learning rate"):
        SGD([{"params": [a], "lr": -0.5}])  # group options are validated too
    with pytest.raises(InputError, match="beta"):
        Adam([a], betas=(0.9, 1.0))
    with pytest.raises(InputError, match="weight_decay"):
        RMSprop([a], weight_decay=-1.0)
    with pytest.raises(InputError, match="lr_decay"):
        Adagrad([a], lr_decay=-1.0)


def test_params_must_be_an_iterable_of_leaf_tensors() -> None:
    a = Tensor(1.0, requires_grad=True)
    with pytest.raises(InputError, match="single Tensor"):
        SGD(a)
    with pytest.raises(InputError, match="empty"):
        SGD([])
    with pytest.raises(InputError, match="non-leaf"):
        SGD([a * 2.0])
    with pytest.raises(InputError, match="Tensors"):
        SGD([1.0])
    with pytest.raises(InputError, match="set"):
        SGD([{"params": {a}}])
    with pytest.raises(InputError, match="twice"):
        SGD([a, a])
    assert SGD(iter([a])).param_groups[0]["params"] == [a]  # any iterable, e.g. a generator


def test_zero_grad_sets_none_or_zeros() -> None:
    a, b = Tensor(1.0, requires_grad=True), Tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([a, b], lr=0.1)
    loss_of(a, b).backward()
    assert a.grad is not None and b.grad is not None
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and a.grad.data == 0.0
    assert b.grad is not None and b.grad.data == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_step_with_a_closure_returns_its_loss() -> None:
    a = Tensor(2.0, requires_grad=True)
    opt = SGD([a], lr=0.25)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = a * a
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    assert a.data == 1.0
    assert opt.step() is None


def test_step_does_not_touch_shared_values() -> None:
    """step() replaces .data; the old value, held elsewhere, is not changed in place."""
    b = Tensor([1.0, 2.0], requires_grad=True)
    old = b.data
    opt = Adam([b], lr=0.1)
    (b * b).backward(Tensor([1.0, 1.0]))
    grad = b.grad
    assert grad is not None
    grad_values = grad.data.tolist()
    opt.step()
    assert old == [1.0, 2.0] and b.data != old
    assert grad.data == grad_values


def test_repr_lists_the_options() -> None:
    text = repr(Adam([Tensor(1.0, requires_grad=True)], lr=0.5))
    assert text.startswith("Adam (") and "lr: 0.5" in text and "Parameter Group 0" in text


def test_a_subclass_only_needs_update() -> None:
    class SignDescent(Optimizer):
        """Steps of fixed length against the sign of the gradient."""

        def __init__(self, params: Any, lr: float = 0.1) -> None:
            super().__init__(params, {"lr": lr})

        def update(self, param: Any, grad: Any, state: dict[str, Any], group: Any) -> Any:
            state["n"] = state.get("n", 0) + 1
            return param - group["lr"] * (1.0 if grad > 0 else -1.0)

    a = Tensor(1.0, requires_grad=True)
    opt = SignDescent([a], lr=0.25)
    (a * a).backward()
    opt.step()
    assert a.data == 0.75 and opt.state[a] == {"n": 1}
    assert json.loads(json.dumps(opt.state_dict()))["state"] == {"0": {"n": 1}}
