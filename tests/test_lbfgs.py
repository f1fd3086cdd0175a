"""geograd.optim.LBFGS: torch.optim.LBFGS's algorithm, pinned by properties derived here."""

import json

import pytest

import geograd
import geograd.functional as F
from geograd import Tensor
from geograd.errors import DivergenceError, InputError
from geograd.optim import LBFGS, get_optimizer
from geograd.optim.lbfgs import two_loop

A = [
    [4.0, 1.0, 0.5, 0.0, 0.2],
    [1.0, 3.0, 0.2, 0.1, 0.0],
    [0.5, 0.2, 2.0, 0.3, 0.1],
    [0.0, 0.1, 0.3, 1.0, 0.05],
    [0.2, 0.0, 0.1, 0.05, 0.5],
]
B = [1.0, -2.0, 0.5, 3.0, -1.0]
N = len(B)


def matvec(m, v):
    return [sum(m[i][j] * v[j] for j in range(len(v))) for i in range(len(m))]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def quad(x):
    """½ xᵀ A x − bᵀ x through the engine."""
    ax = F.concat([F.sum(x * Tensor(row)) for row in A])
    return 0.5 * F.sum(x * ax) - F.sum(x * Tensor(B))


def quad_grad(x):
    return [a - b for a, b in zip(matvec(A, x), B)]


def rosenbrock(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def closure_for(opt, x, fun):
    def closure():
        opt.zero_grad()
        loss = fun(x)
        loss.backward()
        return loss

    return closure


def test_torch_constructor_defaults():
    opt = LBFGS([Tensor([1.0], requires_grad=True)])
    group = opt.param_groups[0]
    assert group["lr"] == 1
    assert group["max_iter"] == 20
    assert group["max_eval"] == 25  # max_iter * 5 // 4
    assert group["tolerance_grad"] == 1e-7
    assert group["tolerance_change"] == 1e-9
    assert group["history_size"] == 100
    assert group["line_search_fn"] is None
    assert LBFGS([Tensor([1.0], requires_grad=True)], max_iter=7).param_groups[0]["max_eval"] == 8
    assert get_optimizer("lbfgs") is LBFGS and LBFGS.requires_closure


@pytest.mark.parametrize(
    "kwargs",
    [{"line_search_fn": "wolfe"}, {"max_iter": 0}, {"history_size": 1.5}, {"lr": -1.0}],
)
def test_bad_options_are_input_errors(kwargs):
    with pytest.raises(InputError):
        LBFGS([Tensor([1.0], requires_grad=True)], **kwargs)


def test_one_parameter_group_only_and_a_closure():
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    with pytest.raises(InputError):
        LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(InputError):
        LBFGS([a]).step()


@pytest.mark.parametrize("lr", [1.0, 0.3])
def test_first_step_is_scaled_steepest_descent(lr):
    x0 = [3.0, -1.0, 2.0, 0.5, 1.0]
    x = Tensor(x0, requires_grad=True)
    opt = LBFGS([x], lr=lr, max_iter=1)
    opt.step(closure_for(opt, x, quad))
    g = quad_grad(x0)
    t = min(1.0, 1.0 / sum(abs(v) for v in g)) * lr
    assert x.tolist() == pytest.approx([a - t * b for a, b in zip(x0, g)], abs=1e-15)


def dense_bfgs_direction(g, pairs, gamma):
    """−H g with H the BFGS inverse Hessian built from γ I by the pairs, oldest first:
    H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, formed explicitly."""
    n = len(g)
    h = [[gamma * (i == j) for j in range(n)] for i in range(n)]
    for s, y in pairs:
        rho = 1.0 / dot(y, s)
        left = [[(i == j) - rho * s[i] * y[j] for j in range(n)] for i in range(n)]
        right = [[(i == j) - rho * y[i] * s[j] for j in range(n)] for i in range(n)]
        lh = [[sum(left[i][k] * h[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
        h = [
            [sum(lh[i][k] * right[k][j] for k in range(n)) + rho * s[i] * s[j] for j in range(n)]
            for i in range(n)
        ]
    return [-v for v in matvec(h, g)]


def test_two_loop_recursion_equals_the_explicit_bfgs_update():
    pairs = []
    x = [0.5, 1.0, -1.0, 2.0, 0.0]
    for step in (
        [0.1, 0.0, 0.2, -0.1, 0.3],
        [0.0, -0.4, 0.1, 0.2, 0.05],
        [0.3, 0.3, 0.0, 0.0, -0.2],
    ):
        y = [a - b for a, b in zip(quad_grad([u + v for u, v in zip(x, step)]), quad_grad(x))]
        pairs.append((step, y))
    g = [0.7, -0.2, 0.4, 1.1, -0.5]
    gamma = dot(pairs[-1][0], pairs[-1][1]) / dot(pairs[-1][1], pairs[-1][1])
    got = two_loop(
        g, [s for s, _ in pairs], [y for _, y in pairs], [1 / dot(y, s) for s, y in pairs], gamma
    )
    assert got == pytest.approx(dense_bfgs_direction(g, pairs, gamma), abs=1e-12)


def test_iterates_follow_the_formulas_without_line_search():
    """x_{k+1} = x_k + t_k d_k with t_0 = min(1, 1/|g_0|_1) lr, t_k = lr, d_0 = −g_0,
    d_k = −H_k g_k (explicit BFGS from γ_k I over every pair with yᵀs > 1e-10)."""
    lr = 0.8
    x0 = [3.0, -1.0, 2.0, 0.5, 1.0]
    x = Tensor(x0, requires_grad=True)
    opt = LBFGS([x], lr=lr, max_iter=1)
    closure = closure_for(opt, x, quad)
    ref, pairs, gamma = list(x0), [], 1.0
    prev = None
    for k in range(8):
        g = quad_grad(ref)
        if k == 0:
            d, t = [-v for v in g], min(1.0, 1.0 / sum(abs(v) for v in g)) * lr
        else:
            s = [t * v for v in prev[1]]
            y = [a - b for a, b in zip(g, prev[0])]
            if dot(y, s) > 1e-10:
                pairs.append((s, y))
                gamma = dot(y, s) / dot(y, y)
            d, t = dense_bfgs_direction(g, pairs, gamma), lr
        prev = (g, d)
        ref = [a + t * b for a, b in zip(ref, d)]
        opt.step(closure)
        assert x.tolist() == pytest.approx(ref, abs=1e-12), f"iteration {k}"


def test_exact_line_search_on_a_quadratic_terminates_within_n_iterations():
    """With exact steps t = −g·d / dᵀAd, the two-loop directions are A-conjugate (BFGS's
    finite termination), so ∇f vanishes after at most n iterations."""
    xk = [3.0, -1.0, 2.0, 0.5, 1.0]
    stps, dirs, ro, gamma = [], [], [], 1.0
    g = quad_grad(xk)
    for k in range(N):
        d = two_loop(g, stps, dirs, ro, gamma) if k else [-v for v in g]
        t = -dot(g, d) / dot(d, matvec(A, d))
        s = [t * v for v in d]
        xk = [a + b for a, b in zip(xk, s)]
        g_new = quad_grad(xk)
        y = [a - b for a, b in zip(g_new, g)]
        stps.append(s)
        dirs.append(y)
        ro.append(1.0 / dot(y, s))
        gamma = dot(y, s) / dot(y, y)
        g = g_new
    assert max(abs(v) for v in g) <= 1e-10


def test_strong_wolfe_on_a_quadratic_reaches_the_minimum():
    x = Tensor([3.0, -1.0, 2.0, 0.5, 1.0], requires_grad=True)
    opt = LBFGS([x], line_search_fn="strong_wolfe", tolerance_grad=1e-10, tolerance_change=0.0)
    closure = closure_for(opt, x, quad)
    for _ in range(5):
        opt.step(closure)
    assert max(abs(v) for v in quad_grad(x.tolist())) <= 1e-9


def test_strong_wolfe_conditions_hold_at_accepted_points():
    x = Tensor([-1.2, 1.0], requires_grad=True)
    # max_eval: with max_iter=1 its default 1 would leave the search no second trial
    opt = LBFGS([x], line_search_fn="strong_wolfe", max_iter=1, max_eval=25)
    closure = closure_for(opt, x, rosenbrock)
    c1, c2 = 1e-4, 0.9
    for _ in range(20):
        x_old = x.tolist()
        f0, g0 = geograd.functional.value_and_grad(rosenbrock)(x_old)
        opt.step(closure)
        state = opt.state[x]
        d, t = state["d"], state["t"]
        f1, g1 = geograd.functional.value_and_grad(rosenbrock)(x.tolist())
        slope0, slope1 = dot(g0.tolist(), d), dot(g1.tolist(), d)
        assert slope0 < 0
        assert f1.item() <= f0.item() + c1 * t * slope0
        assert abs(slope1) <= -c2 * slope0
        assert x.tolist() == pytest.approx([a + t * b for a, b in zip(x_old, d)], abs=1e-15)


def test_rosenbrock_converges_and_state_dict_is_json_and_resumes_exactly():
    def run(split):
        x = Tensor([-1.2, 1.0], requires_grad=True)
        opt = LBFGS([x], line_search_fn="strong_wolfe", max_iter=5, tolerance_change=0.0)
        for k in range(16):
            if k == split:
                saved = json.loads(json.dumps(opt.state_dict()))
                x = Tensor(x.tolist(), requires_grad=True)
                opt = LBFGS([x], line_search_fn="strong_wolfe", max_iter=5, tolerance_change=0.0)
                opt.load_state_dict(saved)
            opt.step(closure_for(opt, x, rosenbrock))
        return x.tolist(), opt.state[x]["func_evals"]

    straight, evals = run(split=-1)
    assert straight == pytest.approx([1.0, 1.0], abs=1e-6)
    assert run(split=7) == (straight, evals)


def test_load_state_dict_checks_the_vectors():
    x = Tensor([-1.2, 1.0], requires_grad=True)
    opt = LBFGS([x])
    opt.step(closure_for(opt, x, rosenbrock))
    saved = json.loads(json.dumps(opt.state_dict()))
    saved["state"]["0"]["d"] = [1.0]
    with pytest.raises(InputError):
        LBFGS([x]).load_state_dict(saved)


def test_a_step_to_infinity_is_refused_and_restores_everything():
    x = Tensor([1.0, 2.0], requires_grad=True)
    opt = LBFGS([x], lr=1e308, max_iter=3)
    closure = closure_for(opt, x, lambda p: F.sum(p * p) * 1e10)
    with pytest.raises(DivergenceError):
        opt.step(closure)
    assert x.tolist() == [1.0, 2.0]
    assert opt.state[x] == {}


def test_minimize_with_lbfgs_reuses_the_line_search_evaluation():
    r = geograd.minimize(
        rosenbrock,
        [-1.2, 1.0],
        "lbfgs",
        line_search_fn="strong_wolfe",
        tolerance_change=0.0,
        tolerance_grad=0.0,
        gtol=1e-9,
    )
    assert r.converged and r.reason == "gtol"
    assert r.x == pytest.approx([1.0, 1.0], abs=1e-8)
    # one evaluation at x0 plus the line search's: the accepted point is never re-evaluated
    x = Tensor([-1.2, 1.0], requires_grad=True)
    opt = LBFGS([x], line_search_fn="strong_wolfe", tolerance_change=0.0, tolerance_grad=0.0)
    r2 = geograd.minimize(rosenbrock, x, opt, gtol=1e-9)
    # func_evals counts as torch does: each step's start evaluation, which minimize did
    assert r2.evaluations == opt.state[x]["func_evals"] - (r2.steps - 1) + 1


def test_a_refused_step_with_a_line_search_does_not_advise_the_line_search() -> None:
    """The advice names strong Wolfe only to a run without it (the fermat run with
    --lr 1e308 was told to use what it used)."""
    from geograd import minimize

    res = minimize(
        lambda x: F.sum(x * x), [1.0, 2.0], optimizer="lbfgs", lr=1e308,
        line_search_fn="strong_wolfe", max_steps=3,
    )  # fmt: skip
    # every trial from 1e308 overflows: no decrease found from x0 (a 0/0 in the cubic
    # interpolation used to end it as a divergence)
    assert res.reason == "stalled" and res.x == [1.0, 2.0]
    assert "try another first trial step (lr, now 1e+308)" in res.message
    assert "line_search_fn='strong_wolfe'" not in res.message


def test_a_cubic_of_a_linear_line_goes_to_its_bound_as_torchs_arithmetic_does() -> None:
    """f linear along the line (g1 = g2): the cubic's minimizer is at infinity (0 over 0 is
    not reached: d2 = 0 and the denominator g2 - g1 + 2·d2 = 0 with a nonzero numerator),
    clamped to the bound, as torch's tensor arithmetic gives (5.0 in torch 2.x for these
    numbers); a NaN (0/0) takes the bounds' midpoint instead of being evaluated."""
    from geograd.optim.lbfgs import cubic_interpolate

    assert cubic_interpolate(0.0, 3.0, -2.0, 0.5, 2.0, -2.0, bounds=(0.505, 5.0)) == 5.0
    assert cubic_interpolate(0.5, 2.0, -2.0, 0.0, 3.0, -2.0, bounds=(0.505, 5.0)) == 5.0
    # f constant along the line: 0/0 everywhere, the midpoint
    assert cubic_interpolate(0.0, 1.0, 0.0, 1.0, 1.0, 0.0, bounds=(0.0, 2.0)) == 1.0


def test_strong_wolfe_on_an_l1_loss_steps_as_torch_does_instead_of_dividing_by_zero() -> None:
    from geograd.optim import LBFGS

    w = Tensor([2.0, 1.0], requires_grad=True)
    opt = LBFGS([w], line_search_fn="strong_wolfe", max_iter=1, max_eval=26)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = F.sum(F.abs(w))
        loss.backward()
        return loss

    opt.step(closure)
    # the first search brackets at t = 5 (the clamped cubic), then zooms to the kink of
    # the first coordinate's line: x = (2, 1) - t (1, 1) with f = |2 - t| + |1 - t|
    x = w.tolist()
    assert x[0] - x[1] == pytest.approx(1.0, abs=1e-15) and 1.0 < x[0] + 1.0 < 2.0
    assert abs(x[0]) + abs(x[1]) == pytest.approx(1.0, abs=1e-15)  # the flat bottom, f = 1
