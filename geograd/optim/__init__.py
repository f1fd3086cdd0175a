"""Layer 4: optimizers with torch.optim's API, schedules, clipping and the name registry.

Standard library only. Each optimizer takes torch.optim's constructor arguments
and follows its update rule step for step::

    from geograd.optim import Adam
    opt = Adam([x], lr=0.01)
    for _ in range(500):
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        opt.step()

By name: ``get_optimizer("adam")`` (entry-point group ``geograd.optimizers``).

On a manifold (Riemannian steps: gradient projected, step retracted, momentum
transported)::

    from geograd.optim import Adam, Sphere
    opt = Adam([x], lr=0.05, manifold=Sphere(3))     # or {"params": [x], "manifold": ...}
"""

from geograd.manifolds import SO, Euclidean, Manifold, Product, Sphere, Spheres, manifold_from_spec
from geograd.optim.adagrad import Adagrad
from geograd.optim.adam import Adam, Adamax, AdamW
from geograd.optim.clip import clip_grad_norm_
from geograd.optim.lbfgs import LBFGS
from geograd.optim.linesearch import GradientDescent
from geograd.optim.newton import NewtonCG, TrustNCG
from geograd.optim.optimizer import Optimizer, describe
from geograd.optim.registry import available_optimizers, get_optimizer, optimizer_names
from geograd.optim.rmsprop import RMSprop
from geograd.optim.schedules import (
    SCHEDULES,
    Constant,
    Cosine,
    Exponential,
    InverseSqrt,
    InverseTime,
    Schedule,
    StepDecay,
    Warmup,
    apply_schedule,
)
from geograd.optim.sgd import NAG, SGD, Momentum

__all__ = [
    "LBFGS",
    "NAG",
    "SCHEDULES",
    "SGD",
    "SO",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Constant",
    "Cosine",
    "Euclidean",
    "Exponential",
    "GradientDescent",
    "InverseSqrt",
    "InverseTime",
    "Manifold",
    "Momentum",
    "NewtonCG",
    "Optimizer",
    "Product",
    "RMSprop",
    "Schedule",
    "Sphere",
    "Spheres",
    "StepDecay",
    "TrustNCG",
    "Warmup",
    "apply_schedule",
    "available_optimizers",
    "clip_grad_norm_",
    "describe",
    "get_optimizer",
    "manifold_from_spec",
    "optimizer_names",
]
