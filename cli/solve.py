"""``geograd solve PROBLEM`` and ``geograd compare PROBLEM``: build, call, report.

The problem chooses the solver settings (``Problem.solver_defaults``); each flag
replaces one of them. The solve runs through ``Problem.solve`` (i.e.
``geograd.minimize``), the reference through ``Problem.reference`` and the scipy
baselines through ``Problem.baselines``; their times are measured and reported
separately. Ctrl-C during a run ends it early (``minimize`` returns the result so
far, reason ``interrupted``): the result is still printed and saved, exit 130.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import typer

from geograd.errors import GeogradError, InputError
from geograd.fileio import check_distinct, check_writable

from . import report
from .dask_session import DaskSession, dask_session, refuse_pictures
from .errors import EXIT_FINDING, EXIT_INTERRUPTED, describe, one_line
from .output import COMPARE_FORMAT, SOLVE_FORMAT, input_paths, write_json_atomic
from .plotting import note_saved, plot_request, render_after_run
from .progress import ProgressBar, wanted
from .settings import (
    check_count,
    check_nonnegative,
    check_optimizer,
    check_positive,
    schedule_from_flag,
    split_names,
)
from .work import WorkProgress

#: compare's default line-up: the problem's own default optimizer first, then the line
#: search, plain and heavy-ball SGD, Adam, and the second-order methods L-BFGS and Newton-CG.
COMPARE_OPTIMIZERS = ("gd", "sgd", "momentum", "adam", "lbfgs", "newton")


def solve_help_defaults(cls: Any) -> dict[str, str]:
    """``geograd solve NAME --help``'s solver options with the problem's own defaults,
    read from ``solver_defaults()`` of the problem built with its default options."""
    problem = cls()
    s = problem.solver_defaults()
    opt = s.get("optimizer")
    steps = s.get("max_steps")
    sched = s.get("schedule")
    return {
        "optimizer": f"Optimizer (see 'geograd optimizers'); default: {opt}, the problem's "
        "choice (every optimizer gets the problem's settings for it).",
        "lr": "Learning rate, > 0 (gd: the line search's first trial step); default for "
        f"{opt}: {report.num(s.get('lr'), 4)} on the default data (the problem tunes it to "
        "the optimizer and the data's scale; the summary prints the value used).",
        "steps": f"Maximum number of optimizer steps; default for {opt}: {steps}.",
        "x0": f"Initial point: {problem.dim} comma-separated numbers; default: the problem's "
        f"choice ({report.point(problem.x0, 4)} for the default data).",
        "tol": "Stop when the gradient norm is at most TOL (gtol); default for "
        f"{opt}: {report.num(s.get('gtol'), 3)}.",
        "schedule": "Learning-rate schedule, NAME or NAME:key=value,...: none, constant, step, "
        "exponential, cosine, inverse_sqrt, inverse_time, warmup (see 'geograd optimizers'); "
        f"default for {opt}: "
        + (report.schedule_text(sched, steps) if sched is not None else "none")
        + " (the summary prints the schedule used).",
    }


# ----------------------------------------------------------------------------- helpers


def _dask_flags(
    scheduler: str | None, chunk_size: str | None, workers: str | None, memory_limit: str | None
) -> dict[str, str | None]:
    """The dask flags of solve and compare, for :func:`~.dask_session.dask_session`."""
    return {
        "scheduler": scheduler,
        "chunk_size": chunk_size,
        "workers": workers,
        "memory_limit": memory_limit,
    }


def build_problem(
    name: str,
    problem_args: dict[str, Any],
    backend: str | None = None,
    session: DaskSession | None = None,
) -> tuple[Any, float]:
    """The problem built from its flags, with its data in ``backend`` (``--backend``; on
    dask, chunked as the ``session`` says and held by its cluster), and the seconds that
    took (data generation, loading)."""
    from geograd.problems import get_problem

    t0 = time.perf_counter()
    extra = {} if backend is None else {"backend": backend}
    if session is not None:
        extra.update(session.problem_args())
    problem = get_problem(name, **problem_args, **extra)
    return problem, time.perf_counter() - t0


def timed_reference(problem: Any) -> tuple[Any, float, str | None]:
    """(reference or None, seconds, why it is missing). Ctrl-C here skips the reference only.

    A reference the problem computed earlier (thomson aligns its answer onto it
    during the solve) comes from its cache: the time reported is then the
    computation's own (``Reference.time_s``), marked as computed before (see
    :func:`_reference_timing`).
    """
    t0 = time.perf_counter()
    try:
        ref = problem.reference()
    except KeyboardInterrupt:
        return None, time.perf_counter() - t0, "interrupted"
    except (GeogradError, NotImplementedError) as exc:
        return None, time.perf_counter() - t0, one_line(str(exc)) or type(exc).__name__
    return ref, time.perf_counter() - t0, None


def _as_list(x: Any) -> list[float]:
    return [float(x)] if isinstance(x, (int, float)) else [float(v) for v in x]


def check_outputs(
    name: str,
    problem_args: dict[str, Any],
    out: Path | None,
    plot: Path | None,
    animate: Path | None,
    fps: str | None,
    frames: str | None,
) -> Any:
    """Before any work: every output can be written (a regular file or a new one, never a
    device, FIFO or read-only file), none is an input file or another output; and the
    picture request (see ``plot_request``)."""
    from geograd.problems import problem_class

    if out is not None:
        check_writable(out)
    pictures = plot_request(plot, animate, fps, frames)
    check_distinct(
        {"--out": out, "--plot": plot, "--animate": animate},
        input_paths(problem_class(name).options, problem_args),
    )
    return pictures


def long_work(problem: Any, quiet: bool) -> WorkProgress:
    """Progress of the problem's long work outside a solve loop (a reference beyond a
    table, ...) on stderr, never silent for long; nothing with ``--quiet``."""
    work = WorkProgress(enabled=not quiet)
    problem.on_work = work
    return work


def step_report(bar: ProgressBar, work: WorkProgress, label: str, total: int) -> Any:
    """The solve's step callback: the bar on a terminal; on a pipe or log (no bar), a
    line on stderr every few seconds, so that a long solve is never silent."""
    if bar.callback is None and work.enabled and not work.tty:
        return work.steps(label, total)
    return bar.callback


def problem_header(problem: Any) -> dict[str, Any]:
    from geograd import __version__

    return {
        "geograd": __version__,
        "problem": problem.name,
        "description": problem.description,
        "options": dict(getattr(problem, "settings", {})),
        "n": getattr(problem, "n", None),
        "dim": problem.dim,
        "data": problem.data_summary(),
        "backend": getattr(problem, "backend", "python"),
    }


def finish(
    doc: dict[str, Any],
    full: dict[str, Any],
    out: Path | None,
    json_output: bool,
    quiet: bool,
    show: Callable[[dict[str, Any]], None],
    what: str,
) -> None:
    """Print ``doc``, then save ``full`` to ``out`` (atomically).

    The result is printed first, so that nothing that happens while saving (Ctrl-C,
    SIGTERM, a full disk) can lose a finished run: the printed JSON names the file
    it goes to (``out``), and a save that fails ends with its one line and exit 2.
    A Ctrl-C during the save is deferred by the writer until the file is whole
    (or cleanly abandoned), then reported as an interrupt.
    """
    if out is not None:
        doc["out"] = str(out)
    if json_output:
        report.print_json(doc)
    elif not quiet:
        show(doc)
    if out is not None:
        write_json_atomic(out, full)
        if not json_output and not quiet:
            report.note(f"saved the full {what} to {out}")


# ------------------------------------------------------------------------------- solve


def run_solve(
    name: str,
    problem_args: dict[str, Any],
    *,
    optimizer: str | None,
    lr: str | None,
    steps: str | None,
    tol: str | None,
    x0: str | None,
    schedule: str | None,
    json_output: bool,
    out: Path | None,
    quiet: bool,
    plot: Path | None = None,
    animate: Path | None = None,
    fps: str | None = None,
    frames: str | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    chunk_size: str | None = None,
    workers: str | None = None,
    memory_limit: str | None = None,
    stream: bool = False,
    stream_check: bool = False,
) -> None:
    """``geograd solve NAME``: see the module docstring; the exit code is :func:`verdict`'s."""
    dask_flags = _dask_flags(scheduler, chunk_size, workers, memory_limit)
    began = time.perf_counter()
    rate = check_positive("--lr", lr)
    budget = check_count("--steps", steps)
    gtol = check_nonnegative("--tol", tol)
    pictures = check_outputs(name, problem_args, out, plot, animate, fps, frames)
    refuse_pictures(backend, plot, animate)
    if stream_check and not stream:
        raise InputError("--stream-check: only with --stream")
    if stream:
        from .stream import print_stream, refuse_stream_flags, run_stream

        path = refuse_stream_flags(
            name, problem_args, **{"--optimizer": optimizer, "--lr": lr, "--steps": steps,
            "--tol": tol, "--x0": x0, "--schedule": schedule, "--plot": plot,
            "--animate": animate},
        )  # fmt: skip
        with (
            dask_session(backend, dask_flags, streaming=True) as session,
            WorkProgress(enabled=not quiet) as work,
        ):  # fmt: skip
            doc = run_stream(
                name, problem_args, path, check=stream_check, backend=backend,
                session=session, json_output=json_output, quiet=quiet, work=work,
            )  # fmt: skip
        finish(doc, doc, out, json_output, quiet, print_stream, "estimate")
        return
    opt_name = check_optimizer(optimizer) if optimizer is not None else None

    with dask_session(backend, dask_flags) as session:
        problem, setup_s = build_problem(name, problem_args, backend, session)
        start = problem.check_point(x0, "--x0") if x0 is not None else problem.x0

        settings = problem.settings_for(opt_name, budget)
        overrides: dict[str, Any] = {}
        if rate is not None:
            overrides["lr"] = rate
        if budget is not None:
            overrides["max_steps"] = budget
        if gtol is not None:
            overrides["gtol"] = gtol
        if schedule is not None:
            overrides["schedule"] = schedule_from_flag(
                schedule, budget or settings.get("max_steps") or 1000
            )
        settings.update(overrides)
        settings.pop("callback", None)
        chosen = sorted(overrides) + (["optimizer"] if opt_name is not None else [])

        label = f"{name} {settings.get('optimizer', opt_name or '')}".strip()
        budget_steps = int(settings.get("max_steps", 1000))
        with long_work(problem, quiet) as work:
            with ProgressBar(budget_steps, label, enabled=wanted(quiet, json_output)) as bar:
                callback = step_report(bar, work, label, budget_steps)
                result = problem.solve(opt_name, x0=start, callback=callback, **overrides)
            cached_before = bool(getattr(problem, "reference_cached", False))
            ref_error: str | None
            if result.reason == "interrupted" and session.cluster is not None:
                # on a cluster the reference is many passes over the data: not after Ctrl-C
                ref, reference_s, ref_error = None, 0.0, "interrupted"
            else:
                ref, reference_s, ref_error = timed_reference(problem)
        doc = solve_document(problem, settings, start, result, ref, ref_error)
        doc.update(session.describe(problem))
        doc["chosen_by_user"] = chosen
        doc["timing"] = {
            "setup_s": setup_s,
            "solve_s": result.time_s,
            **_reference_timing(ref, reference_s, cached_before),
        }
        interrupted = result.reason == "interrupted" or ref_error == "interrupted"
        doc["interrupted"] = interrupted

        # Pictures first, so that --json reports them; a failure is raised only once the
        # result is printed and saved.
        drawn, failure = render_after_run(
            pictures, problem, result, ref if ref is not None else False,
            interrupted=interrupted, quiet=quiet, json_output=json_output,
        )  # fmt: skip
        doc.update(drawn)
        code, findings = verdict(doc)
        if failure is not None:  # the drawing failed after the run: its code is the command's
            doc["drawing_failed"], code = describe(failure)
        doc["findings"], doc["exit_code"] = findings, code
        doc["timing"]["total_s"] = time.perf_counter() - began
        full = {
            **doc,
            "format": SOLVE_FORMAT,
            "spec": problem.to_dict(),
            "history": result.history,
        }
        finish(doc, full, out, json_output, quiet, report.print_solve, "result")
        note_saved(drawn, quiet, json_output)
        if failure is not None:
            raise failure
        if findings and not interrupted and not quiet:
            sys.stderr.write(f"geograd: finding: {'; '.join(findings)} (exit {code})\n")
        if code:
            raise typer.Exit(code)


def verdict(doc: dict[str, Any]) -> tuple[int, list[str]]:
    """The exit code of a solve and the findings behind it.

    ``0``: converged (or stalled at a point the certificate's exact test proves
    optimal) and, where there is a reference, matching it. ``1``: a finding,
    each named: diverged; not converged (max_steps, time_limit, stalled); does not
    match the reference; ended worse than it started. ``130``: interrupted (the
    result so far is printed and saved).
    """
    if doc.get("interrupted"):
        return EXIT_INTERRUPTED, []
    findings: list[str] = []
    proven = (doc.get("certificate") or {}).get("optimal") is True
    if doc["reason"] == "diverged":
        findings.append("diverged")
    elif doc["reason"] == "stalled" and proven:
        # At a kink (the median at a data point) the gradient never gets small and the
        # steps stall; the certificate's exact test is the proof minimize cannot give.
        doc["verdict_note"] = "the steps stalled at a point the certificate proves optimal"
    elif not doc["converged"]:
        findings.append(f"not converged ({doc['reason'].replace('_', ' ')})")
    if doc.get("matches_reference") is False:
        findings.append("does not match the reference")
    start_loss = doc.get("start_loss")
    if start_loss is not None and doc["loss"] > start_loss:
        findings.append(
            f"ended worse than it started (objective {report.num(doc['loss'], 6)} > "
            f"{report.num(start_loss, 6)} at x0)"
        )
    return (EXIT_FINDING if findings else 0), findings


def _reference_timing(ref: Any, waited_s: float, served_from_cache: bool) -> dict[str, Any]:
    """How long the reference took to compute and to import its libraries, and when.

    ``Problem.reference()`` times its own computation (``Reference.time_s``) apart
    from importing numpy/scipy (``Reference.import_s``). A reference the problem
    computed earlier (before or during the solve) is served from its cache: the
    time reported is still the computation's, marked "before the solve".
    """
    if ref is None:
        return {"reference_s": None}
    compute = getattr(ref, "time_s", None)
    imports = getattr(ref, "import_s", None)
    return {
        "reference_s": compute if compute is not None else waited_s,
        "reference_import_s": imports,
        "reference_when": "before the solve" if served_from_cache else "after the solve",
    }


def solve_document(
    problem: Any,
    settings: dict[str, Any],
    start: Sequence[float],
    result: Any,
    ref: Any,
    ref_error: str | None,
) -> dict[str, Any]:
    """The JSON-ready summary of a solve (what ``--json`` prints).

    ``solution`` is the parameter vector itself; ``components`` names its parts in
    the units the user asked in (``Problem.components``). ``matches_reference`` and
    ``match`` come from ``Problem.assess``: a match is judged relative to the data's
    extent, and by the objective and the certificate where the optimum is not unique.
    """
    solution = _as_list(result.x)
    solution_from = "final iterate"
    if result.reason == "interrupted" and result.best_loss < result.loss:
        # Ctrl-C: keep the best iterate so far (a non-monotone method may have left it).
        solution = _as_list(result.best_x)
        solution_from = f"best iterate (step {result.best_step})"
    max_steps = settings.get("max_steps")
    doc = problem_header(problem)
    doc.update(
        {
            "optimizer": result.optimizer,
            "settings": {
                k: report.setting(v, max_steps if isinstance(max_steps, int) else None)
                for k, v in settings.items()
            },
            "x0": list(start),
            "start_loss": problem.objective(list(start)),
            "solution": solution,
            "components": list(problem.components(solution)),
            "solution_from": solution_from,
            "loss": problem.objective(solution),
            "grad_norm": result.grad_norm,
            "certificate": problem.certificate(solution),
            "best": {
                "x": _as_list(result.best_x),
                "loss": result.best_loss,
                "step": result.best_step,
            },
            "steps": result.steps,
            "evaluations": result.evaluations,
            "converged": result.converged,
            "reason": result.reason,
            "message": result.message,
            "time_s": result.time_s,
        }
    )
    if ref is None:
        doc.update(reference=None, reference_error=ref_error, distance=None, gap=None)
        doc["matches_reference"] = None
        doc["match"] = None
    else:
        judged = problem.assess(solution, reference=ref)
        doc.update(
            reference={"solution": list(ref.x), "loss": ref.loss, "method": ref.method},
            distance=judged["distance"],
            distance_rel=judged.get("distance_rel"),
            gap=judged["gap"],
            matches_reference=judged["matches"],
            match=judged["match"],
        )
    return doc


# ----------------------------------------------------------------------------- compare


def run_compare(
    name: str,
    problem_args: dict[str, Any],
    *,
    optimizers: str | None,
    baselines: str | None,
    steps: str | None,
    x0: str | None,
    json_output: bool,
    out: Path | None,
    quiet: bool,
    plot: Path | None = None,
    animate: Path | None = None,
    fps: str | None = None,
    frames: str | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    chunk_size: str | None = None,
    workers: str | None = None,
    memory_limit: str | None = None,
) -> None:
    """``geograd compare NAME``: our optimizers, scipy's methods and the reference side by side."""
    dask_flags = _dask_flags(scheduler, chunk_size, workers, memory_limit)
    from geograd.optim.registry import optimizer_names
    from geograd.problems.base import DEFAULT_BASELINES, SCIPY_METHODS

    budget = check_count("--steps", steps)
    pictures = check_outputs(name, problem_args, out, plot, animate, fps, frames)
    refuse_pictures(backend, plot, animate)
    ours = split_names("--optimizers", optimizers) if optimizers is not None else []
    ours = (
        optimizer_names() if ours == ["all"] else [check_optimizer(o, "--optimizers") for o in ours]
    )
    methods = _scipy_methods(baselines, SCIPY_METHODS, DEFAULT_BASELINES)

    with dask_session(backend, dask_flags) as session:
        problem, setup_s = build_problem(name, problem_args, backend, session)
        if optimizers is None:
            own = problem.solver_defaults()["optimizer"]
            ours = list(dict.fromkeys([own, *COMPARE_OPTIMIZERS]))
        start = problem.check_point(x0, "--x0") if x0 is not None else problem.x0

        with long_work(problem, quiet):
            ref, reference_s, ref_error = timed_reference(problem)
        interrupted = ref_error == "interrupted"

        def judge(x: Any) -> dict[str, Any] | None:
            return None if ref is None else problem.assess(_as_list(x), reference=ref)

        runs: list[dict[str, Any]] = []
        histories: dict[str, Any] = {}
        if ref is not None:
            runs.append(
                _row(ref.method, "reference", ref.x, ref.loss, judge(ref.x), None, None,
                     reference_s, "exact")
            )  # fmt: skip
        show_bar = wanted(quiet, json_output)
        for opt in [] if interrupted else ours:
            settings = problem.settings_for(opt, budget)
            steps_max = int(settings.get("max_steps", 1000))
            with (
                long_work(problem, quiet) as work,
                ProgressBar(steps_max, f"{name} {opt}", enabled=show_bar) as bar,
            ):
                overrides = {"max_steps": budget} if budget is not None else {}
                callback = step_report(bar, work, f"{name} {opt}", steps_max)
                result = problem.solve(opt, x0=start, callback=callback, **overrides)
            status = result.reason.replace("_", " ")
            runs.append(
                _row(
                    opt,
                    "geograd",
                    result.x,
                    result.loss,
                    judge(result.x),
                    result.steps,
                    result.evaluations,
                    result.time_s,
                    status,
                )
            )
            histories[opt] = {"settings": {k: report.setting(v) for k, v in settings.items()},
                              "message": result.message, "history": result.history}  # fmt: skip
            if result.reason == "interrupted":
                interrupted = True
                break
        if methods and not interrupted:
            try:
                for b in problem.baselines(methods, x0=start):
                    status = "success" if b.success else f"failed: {one_line(b.message)}"
                    runs.append(
                        _row(
                            b.method,
                            "scipy",
                            b.x,
                            b.loss,
                            judge(b.x),
                            b.iterations,
                            b.evaluations,
                            b.time_s,
                            status,
                        )
                    )
            except KeyboardInterrupt:
                interrupted = True

        doc = problem_header(problem)
        doc.update(
            {
                "x0": list(start),
                "reference": None
                if ref is None
                else {"solution": list(ref.x), "loss": ref.loss, "method": ref.method},
                "reference_error": ref_error,
                "runs": runs,
                "timing": {"setup_s": setup_s, "reference_s": reference_s},
                "interrupted": interrupted,
            }
        )
        doc.update(session.describe(problem))
        # The race: every optimizer's run (the scipy baselines record no path).
        drawn, failure = render_after_run(
            pictures, problem, histories, ref if ref is not None else False,
            interrupted=interrupted or not histories, quiet=quiet, json_output=json_output,
        )  # fmt: skip
        doc.update(drawn)
        full = {**doc, "format": COMPARE_FORMAT, "spec": problem.to_dict(), "histories": histories}
        finish(doc, full, out, json_output, quiet, report.print_compare, "comparison")
        note_saved(drawn, quiet, json_output)
        if failure is not None:
            raise failure
        if interrupted:
            raise typer.Exit(EXIT_INTERRUPTED)


def _scipy_methods(text: str | None, known: Sequence[str], default: Sequence[str]) -> list[str]:
    if text is None:
        return list(default)
    names = split_names("--baselines", text, "method")
    if [n.lower() for n in names] == ["none"]:
        return []
    if "none" in (n.lower() for n in names):
        raise InputError("--baselines: 'none' (no baselines) stands alone; give it without methods")
    lookup = {m.lower(): m for m in known}
    out: list[str] = []
    for n in names:
        canonical = lookup.get(n.lower())
        if canonical is None:
            import difflib

            close = difflib.get_close_matches(n.lower(), list(lookup), n=1)
            hint = f"did you mean {lookup[close[0]]!r}? " if close else ""
            raise InputError(
                f"--baselines: unknown scipy method {n!r}; {hint}known: {', '.join(known)}, "
                "or none alone"
            )
        out.append(canonical)
    return out


def _row(
    method: str,
    by: str,
    x: Any,
    loss: float,
    judged: dict[str, Any] | None,
    iterations: int | None,
    evaluations: int | None,
    time_s: float,
    status: str,
) -> dict[str, Any]:
    """One line of the comparison; ``judged`` is ``Problem.assess`` of ``x`` (None without a
    reference)."""
    return {
        "method": method,
        "by": by,
        "solution": _as_list(x),
        "loss": loss,
        "gap": None if judged is None else judged["gap"],
        "distance": None if judged is None else judged["distance"],
        "matches_reference": None if judged is None else judged["matches"],
        "iterations": iterations,
        "evaluations": evaluations,
        "time_s": time_s,
        "status": status,
    }
