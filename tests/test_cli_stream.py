"""``geograd solve median --points FILE --stream``: one pass, a chunk at a time, and an
honest account of its accuracy (``--stream-check``) against the exact median."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from geograd.cli.app import main

np = pytest.importorskip("numpy")
pytest.importorskip("dask.array")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(2013)
    pts = rng.normal(size=(60_000, 2)) * [1.0, 2.0] + [3.0, -1.0]
    pts[:6000] += 40.0  # 10% outliers far away: the median stays with the cloud
    folder = tmp_path_factory.mktemp("stream")
    np.save(folder / "outliers-first.npy", pts)
    path = folder / "cloud.npy"
    np.save(path, rng.permutation(pts))  # the order a stream of independent draws has
    return path


def test_one_pass_reads_every_point_once_in_chunks(
    capsys: pytest.CaptureFixture[str], cloud: Path
) -> None:
    code, out, err = run(
        capsys, "solve", "median", "--points", str(cloud), "--stream", "--chunk-size", "7000",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    assert doc["mode"] == "stream" and doc["passes"] == 1
    assert doc["points"] == 60_000 and doc["chunks"] == 9  # ceil(60000 / 7000)
    assert doc["data"]["chunk_points_max"] == 7000 and doc["data"]["chunk_points_min"] == 4000
    assert doc["steps"] == sum(-(-m // 64) for m in [7000] * 8 + [4000])  # batches of 64
    assert doc["check"] is None


def test_the_check_states_the_estimates_distance_from_the_exact_median(
    capsys: pytest.CaptureFixture[str], cloud: Path
) -> None:
    code, out, err = run(
        capsys, "solve", "median", "--points", str(cloud), "--stream", "--stream-check",
        "--chunk-size", "10000", "--json",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    check = doc["check"]
    exact = np.asarray(check["reference"]["solution"])
    estimate = np.asarray(doc["estimate"])
    assert check["distance"] == pytest.approx(float(np.linalg.norm(estimate - exact)), rel=1e-12)
    # the sampling error of the median of 6e4 such points is about 0.01: the one-pass
    # estimate is well within it, yet not the exact median
    assert 0.0 < check["distance"] < 0.05
    assert 0.0 <= check["relative_gap"] < 1e-4
    assert abs(exact[0] - 3.0) < 0.5 and abs(exact[1] + 1.0) < 0.5  # not dragged to +40


def test_the_summary_says_what_was_not_checked(
    capsys: pytest.CaptureFixture[str], cloud: Path
) -> None:
    code, out, _ = run(capsys, "solve", "median", "--points", str(cloud), "--stream")
    assert code == 0
    assert "read once" in out and "not checked" in out and "--stream-check" in out


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--lr", "0.1"], "--lr: not with --stream"),
        (["--steps", "5"], "--steps: not with --stream"),
        (["--stream-check-missing"], "no such option: --stream-check-missing"),
    ],
)
def test_solver_flags_are_refused_with_stream(
    capsys: pytest.CaptureFixture[str], cloud: Path, extra: list[str], says: str
) -> None:
    code, _, err = run(capsys, "solve", "median", "--points", str(cloud), "--stream", *extra)
    assert code == 2 and says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_stream_needs_a_file_and_the_median(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "solve", "median", "--stream")
    assert code == 2 and "give --points FILE" in err
    code, _, err = run(capsys, "solve", "fermat", "--stream")
    assert code == 2 and "median only" in err
    code, _, err = run(capsys, "solve", "median", "--n", "50", "--stream-check")
    assert code == 2 and "only with --stream" in err
    weighted = tmp_path / "w.parquet"
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pd.DataFrame(
        {"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 0.5], "weight": [1.0, 2.0, 1.0]}
    ).to_parquet(weighted)
    code, _, err = run(capsys, "solve", "median", "--points", str(weighted), "--stream")
    assert code == 2 and "weight column" in err


def test_the_check_shows_the_bias_of_a_stream_in_a_bad_order(
    capsys: pytest.CaptureFixture[str], cloud: Path
) -> None:
    # The same points with every outlier first: the start and the step scale come from
    # the first chunk, and the average remembers the early iterates -- the estimate is
    # far off, and the check says so (the exact median does not depend on the order).
    sorted_file = cloud.parent / "outliers-first.npy"
    code, out, err = run(
        capsys, "solve", "median", "--points", str(sorted_file), "--stream", "--stream-check",
        "--chunk-size", "10000", "--json",
    )  # fmt: skip
    assert code == 0, err
    check = json.loads(out)["check"]
    assert check["distance"] > 1.0 and check["relative_gap"] > 1e-3


def test_a_stream_names_the_row_of_a_bad_value(tmp_path: Path) -> None:
    """A NaN, or a coordinate so large the one-pass sums overflow, is one line naming the
    file and the row (0-based, as the whole-file reader says), exit 2."""
    import numpy as np
    from typer.testing import CliRunner

    from geograd.cli.app import app

    for value, words in ((float("nan"), "is not finite"), (1e308, "is beyond 1e+150")):
        path = tmp_path / "bad.npy"
        np.save(path, np.array([[0.0, 0.0], [1.0, 1.0], [value, 2.0], [3.0, 1.0]]))
        result = CliRunner().invoke(app, ["solve", "median", "--points", str(path), "--stream"])
        assert result.exit_code == 2
        text = " ".join(result.stderr.split())
        assert "bad.npy: row 2 (0-based): coordinate 1" in text and words in text
        assert len(result.stderr.strip().splitlines()) == 1
