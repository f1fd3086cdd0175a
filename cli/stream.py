"""``geograd solve median --points FILE --stream``: one pass over data seen once.

The file is read a chunk at a time, in order (:func:`geograd.problems.sources.open_points`:
``.npy``, a directory of ``.npy`` shards, Parquet, Zarr), and each chunk goes once
through the averaged stochastic gradient of Cardot, Cénac and Zitt
(:func:`geograd.streaming.averaged_median`); nothing of a chunk is kept after it, so
the memory is a chunk's whatever the file's size. No second look at the data means
no objective and no certificate: the estimate is what the pass gives.

How good it is can only be said against the exact median, which needs the data
again (a full solve's passes): ``--stream-check`` computes the problem's reference on
``--backend`` (numpy by default for files this large: the data in memory; dask:
on the cluster) and reports the estimate's distance from it, relative to the data's
extent, and its relative objective gap. That check is not part of the stream's
cost and is said to be extra. The exit code is 0 when the pass ends (130 on Ctrl-C):
an estimate is not judged against the tolerance of a solve.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from geograd.errors import DomainError, GeogradError, InputError, NaNError

from . import report
from .dask_session import DaskSession


def refuse_stream_flags(name: str, problem_args: dict[str, Any], **given: Any) -> Path:
    """The file to stream, after refusing what ``--stream`` cannot do (one line each)."""
    from geograd.problems import problem_class

    if not getattr(problem_class(name), "chunked", False):
        raise InputError(f"--stream: a one-pass estimate of the median only, not of {name}")
    flags = [flag for flag, value in given.items() if value not in (None, False)]
    if flags:
        raise InputError(
            f"{', '.join(flags)}: not with --stream (the averaged stochastic gradient "
            "sets its own steps); drop them, or --stream"
        )
    path = problem_args.get("points")
    if path is None:
        raise InputError(
            "--stream reads a file a chunk at a time: give --points FILE "
            "(.npy, a directory of .npy shards, Parquet or Zarr)"
        )
    return Path(path)


#: The largest |coordinate| the one-pass estimate takes: its centroid and squared steps
#: stay finite below it.
STREAM_MAX = 1e150


def _chunks(lazy: Any, work: Any) -> Iterator[list[Any]]:
    """The file's chunks in order, each computed when it is reached (one read each)."""
    import numpy as np

    from geograd import backend as B
    from geograd.streaming import chunked

    total = lazy.n
    done = 0
    for lazy_chunk in chunked(lazy.columns, lazy.chunk_size):
        failed: GeogradError | None = None
        try:
            chunk = B.materialize(*lazy_chunk)  # read once, here
        except (NaNError, DomainError) as exc:  # again as plain arrays, to name the row
            failed, chunk = exc, [np.asarray(c) for c in lazy_chunk]
        # each chunk checked as it is read: a point that is not finite, or so large that
        # the estimate's sums would overflow, is named by its row in the file
        for j, column in enumerate(chunk):
            values = np.asarray(column)
            bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) > STREAM_MAX))
            if bad.size:
                i, v = int(bad[0]), float(values[bad[0]])
                what = "is not finite" if not np.isfinite(v) else (
                    f"is beyond {STREAM_MAX:.0e}, where the one-pass estimate's sums overflow; "
                    "divide the data by a power of ten and scale the answer back, or drop "
                    "--stream (the exact solve works in scaled coordinates)"
                )  # fmt: skip
                raise InputError(
                    f"{lazy.source}: row {done + i} (0-based): coordinate {j + 1} ({v:g}) {what}"
                )
        if failed is not None:
            raise failed
        yield chunk
        done += int(chunk[0].shape[0])
        work("streaming the points once", done, total)


def run_stream(
    name: str,
    problem_args: dict[str, Any],
    path: Path,
    *,
    check: bool,
    backend: str | None,
    session: DaskSession,
    json_output: bool,
    quiet: bool,
    work: Any,
) -> dict[str, Any]:
    """One pass over ``path``; with ``check``, the exact median and the estimate's error.
    Returns the document ``--json`` prints (and prints the summary unless quiet)."""
    from geograd.problems.sources import open_points
    from geograd.streaming import averaged_median

    began = time.perf_counter()
    lazy = open_points(path, session.chunk_size)
    if lazy.weights is not None:
        raise InputError(
            f"{path}: --stream estimates the unweighted median, and this file has a weight "
            "column; drop --stream for the weighted median"
        )
    t0 = time.perf_counter()
    found = averaged_median(_chunks(lazy, work))
    stream_s = time.perf_counter() - t0
    from geograd import __version__

    doc: dict[str, Any] = {
        "geograd": __version__,
        "problem": name,
        "mode": "stream",
        "data": lazy.describe(),
        "estimate": found.x,
        "last_iterate": found.last,
        "points": found.points,
        "chunks": found.chunks,
        "steps": found.steps,
        "settings": {"alpha": found.alpha, "gamma": found.gamma, "batch": found.batch},
        "x0": found.x0,
        "passes": 1,
        "stream_s": stream_s,
        "check": None,
    }
    if check:
        doc["check"] = _check(name, problem_args, backend, session, found.x)
    doc["exit_code"] = 0
    doc["total_s"] = time.perf_counter() - began
    return doc


def _check(
    name: str, problem_args: dict[str, Any], backend: str | None, session: DaskSession,
    estimate: list[float],
) -> dict[str, Any]:  # fmt: skip
    """The exact median of the same points (extra passes), and the estimate's error."""
    from .solve import build_problem, timed_reference

    t0 = time.perf_counter()
    problem, _ = build_problem(name, problem_args, backend, session)
    ref, _, why = timed_reference(problem)
    if ref is None:
        return {"reference": None, "reference_error": why, "check_s": time.perf_counter() - t0}
    extent = float(problem.extent)
    distance = float(problem.distance(estimate, ref.x))
    loss = float(problem.objective(estimate))
    return {
        "reference": {"solution": list(ref.x), "loss": ref.loss, "method": ref.method},
        "backend": problem.backend,
        "distance": distance,
        "distance_rel": distance / extent,
        "objective": loss,
        "relative_gap": (loss - ref.loss) / abs(ref.loss) if ref.loss else loss - ref.loss,
        "check_s": time.perf_counter() - t0,
    }


def stream_rows(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The human summary of a stream document."""
    data = doc["data"]
    s = doc["settings"]
    rows = [
        ("problem", f"{doc['problem']}: one pass, averaged stochastic gradient (Cardot et al.)"),
        (
            "data",
            f"{doc['points']:,} points from {data['source']} ({data['format']}), read once in "
            f"{doc['chunks']} chunks of up to {data['chunk_points_max']:,}",
        ),
        ("estimate", report.point(doc["estimate"])),
        (
            "settings",
            f"alpha={s['alpha']:g}, gamma={report.num(s['gamma'], 4)} (from the first chunk), "
            f"batch={s['batch']}: {doc['steps']:,} steps",
        ),
        ("time", f"the pass {report.num(doc['stream_s'], 3)} s"),
    ]
    check = doc.get("check")
    if check is None:
        rows.append(
            ("accuracy", "not checked: --stream-check compares with the exact median (more passes)")
        )
    elif check.get("reference") is None:
        rows.append(("accuracy", f"not checked: no reference ({check.get('reference_error')})"))
    else:
        ref = check["reference"]
        rows += [
            ("reference", f"{report.point(ref['solution'])}  ({ref['method']}, extra passes)"),
            (
                "accuracy",
                f"{report.small(check['distance'])} from the exact median "
                f"({report.small(check['distance_rel'])} of the data's extent); objective "
                f"{report.num(check['objective'])}, relative gap "
                f"{report.small(check['relative_gap'])}",
            ),
            ("check time", f"{report.num(check['check_s'], 3)} s, not part of the stream"),
        ]
    return rows


def print_stream(doc: dict[str, Any]) -> None:
    report.show(report.key_value_table(stream_rows(doc)))
