"""Newton-CG and trust-ncg from exact Hessian-vector products; kinks; the CLI."""

import itertools
import json
import math

import pytest
from typer.testing import CliRunner

import geograd
import geograd.functional as F
from geograd import Tensor
from geograd.cli.app import app
from geograd.optim import NewtonCG, TrustNCG, get_optimizer

A = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]
B = [1.0, -2.0, 0.5]


def quad(x):
    ax = F.concat([F.sum(x * Tensor(row)) for row in A])
    return 0.5 * F.sum(x * ax) - F.sum(x * Tensor(B))


def quad_grad(x):
    return [sum(A[i][j] * x[j] for j in range(3)) - B[i] for i in range(3)]


def norm(v):
    return math.sqrt(sum(a * a for a in v))


def rosenbrock(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def closure_for(opt, x, fun):
    def closure():
        opt.zero_grad()
        loss = fun(x)
        loss.backward()
        return loss

    return closure


def test_registered_by_name():
    assert get_optimizer("newton") is NewtonCG
    assert get_optimizer("trust-ncg") is TrustNCG
    assert NewtonCG.requires_closure and TrustNCG.requires_closure


def test_newton_step_meets_the_forcing_tolerance_on_a_quadratic():
    """On a quadratic the residual H p + g is the new gradient: after one full step
    ‖g_new‖ ≤ min(0.5, √‖g‖) ‖g‖, the CG stopping rule."""
    x0 = [3.0, -1.0, 2.0]
    x = Tensor(x0, requires_grad=True)
    opt = NewtonCG([x])
    opt.step(closure_for(opt, x, quad))
    g0 = norm(quad_grad(x0))
    assert opt.state[x]["step_size"] == 1.0
    assert norm(quad_grad(x.tolist())) <= min(0.5, math.sqrt(g0)) * g0 * (1 + 1e-12)
    assert opt.state[x]["gradient_steps"] == 0


@pytest.mark.parametrize("name", ["newton", "trust-ncg"])
def test_rosenbrock_converges(name):
    r = geograd.minimize(rosenbrock, [-1.2, 1.0], name, max_steps=200, gtol=1e-10)
    assert r.converged, r.message
    assert r.x == pytest.approx([1.0, 1.0], abs=1e-9)


def test_quadratic_convergence_of_newton():
    """Near the minimum each gradient norm is at most a constant times the previous squared."""
    norms = []
    geograd.minimize(
        lambda x: F.sum(F.exp(x) - x * 2.0) + x[0] * x[1] * 0.1,
        [0.3, 1.5],
        "newton",
        gtol=1e-13,
        callback=lambda p: norms.append(p.grad_norm) and None,
    )
    tail = [g for g in norms if g < 1e-2]
    assert len(tail) >= 2
    assert all(b <= 10 * a * a for a, b in itertools.pairwise(tail) if b > 1e-15)


def test_negative_curvature_is_handled():
    # f = x0² − x1² + x1⁴ at x1 = 0.1: H has a negative eigenvalue, CG truncates
    fun = lambda x: x[0] ** 2 - x[1] ** 2 + x[1] ** 4  # noqa: E731
    for name in ("newton", "trust-ncg"):
        r = geograd.minimize(fun, [0.5, 0.1], name, max_steps=100, gtol=1e-10)
        assert r.converged, r.message
        assert abs(r.x[0]) < 1e-9
        assert abs(abs(r.x[1]) - math.sqrt(0.5)) < 1e-9


def median_loss(xs, ys):
    return lambda p: F.mean(F.hypot(Tensor(xs) - p[0], Tensor(ys) - p[1]))


# a triangle whose angle at (0, 0) is 150°: the Fermat point is that vertex, a kink
TRI_X, TRI_Y = [0.0, 1.0, -math.cos(math.radians(30))], [0.0, 0.0, math.sin(math.radians(30))]


@pytest.mark.parametrize("name", ["newton", "trust-ncg"])
def test_at_the_fermat_vertex_it_stays_and_never_makes_a_nan(name):
    fun = median_loss(TRI_X, TRI_Y)
    r = geograd.minimize(fun, [0.0, 0.0], name, max_steps=50)
    assert all(math.isfinite(v) for v in r.x)
    assert r.x == pytest.approx([0.0, 0.0], abs=1e-12)
    assert r.loss <= fun(Tensor([0.0, 0.0])).item()


@pytest.mark.parametrize("name", ["newton", "trust-ncg"])
def test_near_the_fermat_vertex_it_reaches_the_kink(name):
    fun = median_loss(TRI_X, TRI_Y)
    r = geograd.minimize(fun, [0.05, 0.02], name, max_steps=300, gtol=None, ftol=1e-15)
    assert all(math.isfinite(v) for v in r.x)
    assert norm(r.x) < 1e-6


def test_a_failing_hessian_falls_back_to_a_gradient_step():
    # ‖x‖ has curvature 0 along x: CG's first direction has dᵀHd = 0, so the step is along
    # −g, of length lr = 1: straight to the kink at the origin
    x = Tensor([1.0, 0.0], requires_grad=True)
    opt = NewtonCG([x])
    fun = lambda p: F.hypot(p[0], p[1])  # noqa: E731
    opt.step(closure_for(opt, x, fun))
    assert opt.state[x]["gradient_steps"] == 1
    assert x.tolist() == [0.0, 0.0]


def test_trust_radius_state_and_json_state_dict():
    x = Tensor([-1.2, 1.0], requires_grad=True)
    opt = TrustNCG([x], lr=0.1)
    for _ in range(3):
        opt.step(closure_for(opt, x, rosenbrock))
    saved = json.loads(json.dumps(opt.state_dict()))
    assert 0 < saved["state"]["0"]["radius"] <= 1000.0
    again = TrustNCG([x], lr=0.1)
    again.load_state_dict(saved)
    assert again.state[x]["radius"] == opt.state[x]["radius"]


runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["--optimizer", "newton"],
        ["--optimizer", "trust-ncg"],
        # the median's settings for a name it does not know are lr = 0.01 · length with a
        # decaying schedule; L-BFGS wants its unit step and a gtol above torch's stopping
        # tests (tolerance_change = 1e-9 on an absolute scale)
        ["--optimizer", "lbfgs", "--lr", "1", "--schedule", "none", "--tol", "2e-6"],
    ],
)
def test_cli_median_converges_and_matches_the_reference(args):
    out = runner.invoke(app, ["solve", "median", "--n", "1000", "--json", *args])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["converged"] and report["matches_reference"]
