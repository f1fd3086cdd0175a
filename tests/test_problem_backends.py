"""Problems build their data in the chosen array backend (``backend=``, ``--backend``).

One lifecycle in :class:`~geograd.problems.base.Problem` decides: ``python``, ``numpy``
or ``auto`` (numpy from :data:`~geograd.problems.base.AUTO_NUMPY_MIN` items, where it is
installed), and :meth:`Problem.as_data` makes the engine's data in it. The results have
the same form and agree to rounding whichever backend ran (numpy sums in another order,
so the last digits, and near a stopping tolerance the step count, may differ).
"""

from __future__ import annotations

import json
import math

import pytest

from geograd.errors import InputError
from geograd.floatarray import FloatArray
from geograd.problems import get_problem
from geograd.problems.base import AUTO_NUMPY_MIN, choose_backend

np = pytest.importorskip("numpy")


def engine_data(problem: object) -> list[object]:
    unit = problem.unit  # type: ignore[attr-defined]
    return [t.data for t in unit._coords]


def test_numpy_backend_builds_the_medians_data_in_numpy() -> None:
    p = get_problem("median", n=50, backend="numpy")
    assert p.backend == "numpy"
    assert all(isinstance(d, np.ndarray) for d in engine_data(p))
    assert all(d.dtype == np.float64 for d in engine_data(p))


def test_python_backend_keeps_the_stdlib_array_even_for_large_data() -> None:
    p = get_problem("median", n=AUTO_NUMPY_MIN, backend="python")
    assert p.backend == "python"
    assert all(isinstance(d, FloatArray) for d in engine_data(p))


def test_auto_chooses_by_size() -> None:
    small = get_problem("median", n=AUTO_NUMPY_MIN - 1)
    large = get_problem("median", n=AUTO_NUMPY_MIN, backend="auto")
    assert small.backend == "python" and isinstance(engine_data(small)[0], FloatArray)
    assert large.backend == "numpy" and isinstance(engine_data(large)[0], np.ndarray)


def test_weights_are_built_in_the_backend_too() -> None:
    p = get_problem("median", n=40, weights="random", backend="numpy")
    assert isinstance(p.unit._w.data, np.ndarray)


def test_an_unknown_backend_is_an_input_error() -> None:
    with pytest.raises(InputError, match="--backend must be one of python, numpy, dask, auto"):
        get_problem("median", n=10, backend="torchy")


def test_numpy_backend_without_numpy_is_an_input_error_and_auto_falls_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import geograd.problems.base as base

    monkeypatch.setattr(base, "numpy_backend_problem", lambda: "numpy is not installed")
    with pytest.raises(InputError, match="numpy is not installed"):
        choose_backend("numpy", 10)
    assert choose_backend("auto", 10 * AUTO_NUMPY_MIN) == "python"
    p = get_problem("median", n=AUTO_NUMPY_MIN)
    assert p.backend == "python" and isinstance(engine_data(p)[0], FloatArray)


@pytest.mark.parametrize("options", [{}, {"weights": "random"}, {"dim": 3}])
def test_the_median_solves_the_same_on_both_backends(options: dict[str, object]) -> None:
    runs = {b: get_problem("median", n=3000, backend=b, **options) for b in ("python", "numpy")}
    results = {b: p.solve() for b, p in runs.items()}
    py, nu = results["python"], results["numpy"]
    assert py.converged and nu.converged and abs(py.steps - nu.steps) <= 2
    assert math.dist(py.x, nu.x) <= 1e-9 * runs["python"].extent
    assert nu.loss == pytest.approx(py.loss, rel=1e-14)
    assert type(nu.loss) is float and all(type(v) is float for v in nu.x)
    assessed = runs["numpy"].assess(nu.x)
    assert assessed["matches"], assessed["match"]
    json.dumps(nu.to_dict())


def test_loss_and_gradient_agree_across_backends_in_user_units() -> None:
    # Data far from the origin: the unit copy (where the backend's arrays live) is scaled.
    from geograd import Tensor, value_and_grad

    py = get_problem("median", n=500, distribution="outliers", backend="python")
    nu = get_problem("median", n=500, distribution="outliers", backend="numpy")
    x = [0.7, 0.4]
    v1, g1 = value_and_grad(py.loss)(Tensor(x))
    v2, g2 = value_and_grad(nu.loss)(Tensor(x))
    assert v2.item() == pytest.approx(v1.item(), rel=1e-14)
    assert g2.tolist() == pytest.approx(g1.tolist(), rel=1e-12)


def cli(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from geograd.cli.app import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_backend_option_json_same_form() -> None:
    docs = {}
    for b in ("python", "numpy"):
        code, out, err = cli("solve", "median", "--n", "2000", "--backend", b, "--json")
        assert code == 0, err
        docs[b] = json.loads(out)
    assert docs["python"]["backend"] == "python" and docs["numpy"]["backend"] == "numpy"
    assert sorted(docs["python"]) == sorted(docs["numpy"])
    assert abs(docs["python"]["steps"] - docs["numpy"]["steps"]) <= 2
    assert docs["python"]["matches_reference"] and docs["numpy"]["matches_reference"]
    assert type(docs["numpy"]["loss"]) is float


def test_cli_check_and_compare_take_backend() -> None:
    code, out, err = cli("check", "median", "--n", "200", "--backend", "numpy", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["passed"] and doc["backend"] == "numpy", err
    code, out, err = cli(
        "compare", "median", "--n", "200", "--backend", "numpy", "--baselines", "none",
        "--optimizers", "gd", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["backend"] == "numpy"


def test_cli_refuses_an_unknown_backend() -> None:
    code, _, err = cli("solve", "median", "--n", "20", "--backend", "cuda")
    assert code == 2
    assert "--backend must be one of python, numpy, dask, auto" in err
