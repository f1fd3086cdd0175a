"""What the CLI prints: JSON documents and rich tables. Formatting only, no mathematics.

rich is imported inside the functions that draw, so that importing this module
costs nothing at start-up.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .output import dumps

MAX_COORDS = 6
#: An import time below this was no import (the modules were loaded already): not shown.
IMPORT_SHOWN_S = 1e-3
#: The widest a table is drawn into a file or pipe (its text cells wrap instead): what a
#: pager, an editor or a review tool shows without scrolling. A terminal's width is its own.
MAX_WIDTH = 100


# ----------------------------------------------------------------------------- numbers


def num(value: Any, digits: int = 12) -> str:
    """A float with ``digits`` significant digits; None as "-"; ints as they are."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


def small(value: Any) -> str:
    """An error, tolerance or distance: three significant digits."""
    return num(value, 3)


def seconds(value: float | None) -> str:
    """A duration in s or ms, three significant digits."""
    if value is None:
        return "-"
    if value < 1.0:
        return f"{value * 1e3:.3g} ms"
    return f"{value:.3g} s"


def point(values: Sequence[float] | float | None, digits: int = 12) -> str:
    """Coordinates, comma-separated; long vectors shortened (all of them are in the JSON)."""
    if values is None:
        return "-"
    if isinstance(values, (int, float)):
        return num(values, digits)
    vals = list(values)
    shown = ", ".join(num(v, digits) for v in vals[:MAX_COORDS])
    if len(vals) > MAX_COORDS:
        shown += f", ... ({len(vals)} coordinates)"
    return shown


def setting(value: Any, max_steps: int | None = None) -> Any:
    """A solver setting as JSON: numbers and strings as they are, a schedule described (see
    :func:`schedule_text`), anything else by its repr."""
    if callable(value) and not isinstance(value, type):
        return schedule_text(value, max_steps)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return list(value)
    return repr(value)


def schedule_text(schedule: Any, max_steps: int | None) -> str:
    """A schedule as its parameters and what it does to the learning rate over the run:
    ``Exponential(gamma=0.9931): lr x1e-06 by step 2000``."""
    import dataclasses

    name = type(schedule).__name__
    if dataclasses.is_dataclass(schedule):
        params = ", ".join(
            f"{f.name}={num(getattr(schedule, f.name), 4)}" for f in dataclasses.fields(schedule)
        )
        name = f"{name}({params})"
    if max_steps:
        try:
            factor = float(schedule(max_steps))
        except (ArithmeticError, TypeError, ValueError):
            return name
        return f"{name}: lr x{factor:.3g} by step {max_steps}"
    return name


def setting_text(key: str, value: Any, max_steps: int | None = None) -> str:
    """``key=value`` for the summary: floats to three digits, schedules described."""
    shown = small(value) if isinstance(value, float) else str(setting(value, max_steps))
    return f"{key}={shown}"


def settings_line(settings: Mapping[str, Any], chosen: Iterable[str] = ()) -> str:
    """The solver settings, those the user chose first and the problem's choices after,
    so that nothing that changes the run is hidden."""
    mine = set(chosen)
    steps = settings.get("max_steps")
    budget = steps if isinstance(steps, int) else None
    yours = [setting_text(k, v, budget) for k, v in settings.items()
             if k in mine and k != "callback"]  # fmt: skip
    theirs = [setting_text(k, v, budget) for k, v in settings.items()
              if k not in mine and k != "callback"]  # fmt: skip
    parts = []
    if yours:
        parts.append("yours: " + ", ".join(yours))
    if theirs:
        parts.append("chosen by the problem: " + ", ".join(theirs))
    return "; ".join(parts)


def options_line(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items() if v is not None)


def data_line(doc: Mapping[str, Any]) -> str:
    """What the data are: the problem's own one-line account (``Problem.data_summary``)."""
    if doc.get("data"):
        return str(doc["data"])
    rest = {k: v for k, v in doc["options"].items() if k not in ("n", "dim")}
    extra = options_line(rest)
    return f"n={doc.get('n')}" + (f"; {extra}" if extra else "")


def certificate_text(cert: Mapping[str, Any] | None) -> str:
    """The certificate's own summary line (the problem words it: which point, what test)."""
    if not cert:
        return "-"
    if cert.get("summary"):
        text = str(cert["summary"])
    else:
        kind = str(cert.get("kind", "certificate")).replace("_", " ")
        text = f"{kind} {small(cert.get('value'))}"
        if cert.get("optimal") is True:
            text += ", optimal (exact test)"
        elif cert.get("optimal") is False:
            text += ", not optimal (exact test)"
    if cert.get("unique") is False:
        text += "; the optimum is not unique"
    if cert.get("gap_bound") is not None:
        text += f"; objective gap <= {small(cert['gap_bound'])}"
    return text


def components_text(doc: Mapping[str, Any]) -> str:
    """The solution by name and unit (``centre x=0.1, ..., radius=1``); long ones shortened."""
    comps = doc.get("components")
    if not comps:
        return point(doc["solution"])
    shown = []
    for c in comps[:MAX_COORDS]:
        unit = f" {c['unit']}" if c.get("unit") else ""
        shown.append(f"{c['name']}={num(c['value'])}{unit}")
    text = ", ".join(shown)
    if len(comps) > MAX_COORDS:
        text += f", ... ({len(comps)} components)"
    return text


def timing_text(doc: Mapping[str, Any]) -> str:
    """Every part of the wait, each timed on its own, and the whole run of the command
    (from its start, after Python and geograd's own imports, to the report)."""
    t = doc.get("timing") or {}
    parts = [f"solve {seconds(t.get('solve_s'))}"]
    if t.get("reference_s") is not None:
        ref = f"reference {seconds(t['reference_s'])}"
        if (t.get("reference_import_s") or 0.0) >= IMPORT_SHOWN_S:
            ref += f" (+{seconds(t['reference_import_s'])} importing numpy/scipy)"
        if t.get("reference_when") == "before the solve":
            ref += " (computed before the solve)"
        parts.append(ref)
    if t.get("setup_s") is not None:
        parts.append(f"data {seconds(t['setup_s'])}")
    if t.get("total_s") is not None:
        parts.append(f"total {seconds(t['total_s'])} (the command's run, start-up aside)")
    return "; ".join(parts)


# ------------------------------------------------------------------------------ output


def console(stderr: bool = False, width: int | None = None) -> Any:
    """A rich Console on the current stdout (or stderr); made at call time, for test runners."""
    from rich.console import Console

    return Console(
        file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=False, width=width
    )


def show(renderable: Any) -> None:
    """Print on stdout: on a terminal at its width; into a file or pipe at most
    :data:`MAX_WIDTH` (100) columns wide, a narrower table at its natural width, a wider
    one with its text cells wrapped (rich would otherwise take 80 columns, or $COLUMNS)."""
    out = console()
    if not out.is_terminal:
        out = console(width=MAX_WIDTH)
    out.print(renderable)


def note(text: str) -> None:
    """A plain line on stdout: never wrapped (paths stay whole), never read as markup."""
    console().print(text, soft_wrap=True, markup=False)


def print_json(data: Any) -> None:
    """One strict JSON object on stdout."""
    sys.stdout.write(dumps(data))
    sys.stdout.flush()


def key_value_table(rows: Iterable[tuple[str, str]], title: str | None = None) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(Text(key), Text(value))  # text, never markup
    if title:
        from rich.console import Group
        from rich.text import Text

        return Group(Text(title, style="bold"), table)
    return table


def grid(
    columns: Sequence[str],
    rows: Iterable[Sequence[str] | None],
    title: str | None = None,
    caption: str | None = None,
) -> Any:
    """A table with a header. A column name ending in ``>`` is right-aligned (numbers);
    one ending in ``~`` may wrap (text); others never wrap. A row None starts a section."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=None if title is None else Text(title, style="italic"),
        caption=None if caption is None else Text(caption, style="dim italic"),
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for col in columns:
        if col.endswith(">"):
            table.add_column(col[:-1], justify="right", no_wrap=True)
        elif col.endswith("~"):
            table.add_column(col[:-1], overflow="fold", min_width=min(9, len(col) - 1))
        else:
            table.add_column(col, no_wrap=True)
    for row in rows:
        if row is None:
            table.add_section()
        else:
            table.add_row(*(Text(cell) for cell in row))  # text, never markup
    return table


# ------------------------------------------------------------------------------- solve


def cluster_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """On the dask backend: the cluster (workers, threads, memory) and the data's chunks."""
    cluster, chunks = doc.get("cluster"), doc.get("chunks")
    rows: list[tuple[str, str]] = []
    if cluster:
        memory = cluster.get("memory_limit") or 0
        limit = f"{memory / 2**30:.3g} GiB in all" if memory else "no memory limit"
        where = "local" if cluster.get("local") else "remote"
        rows.append(
            (
                "cluster",
                f"{where} dask cluster at {cluster.get('scheduler')}: "
                f"{cluster.get('workers')} workers, {cluster.get('threads')} threads, {limit}",
            )
        )
    if chunks:
        rows.append(
            (
                "chunks",
                f"{chunks.get('points'):,} points in {chunks.get('chunks')} chunks of up to "
                f"{chunks.get('chunk_points_max'):,} ({chunks.get('bytes', 0) / 2**20:.4g} MiB; "
                f"from {chunks.get('source')})",
            )
        )
    return rows


def solve_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The human summary of a solve document (see ``cli.solve.solve_document``)."""
    rows = [
        ("problem", f"{doc['problem']}: {doc.get('description', '')}"),
        ("data", data_line(doc)),
        *cluster_rows(doc),
        ("solution", components_text(doc) + _from(doc)),
        ("objective", f"{num(doc['loss'])}  (at the start: {num(doc.get('start_loss'))})"),
        ("certificate", certificate_text(doc.get("certificate"))),
    ]
    best = doc.get("best")
    if best and best.get("step") != doc["steps"] and best["loss"] < doc["loss"]:
        rows.append(
            (
                "best iterate",
                f"step {best['step']}, objective {num(best['loss'])}: not the last iterate "
                "(its point is in the JSON as best.x)",
            )
        )
    rows += [
        ("settings", _chosen(doc)),
        ("steps", f"{doc['steps']} steps, {doc['evaluations']} evaluations"),
        ("stopped", f"{_status(doc)}: {doc['message']}{_proven_note(doc)}"),
    ]
    ref = doc.get("reference")
    if ref is None:
        why = str(doc.get("reference_error") or "not computed")
        why = why.removeprefix("unavailable: ")  # the row already says so
        rows.append(("reference", f"unavailable ({why})"))
    else:
        shown = f"{point(ref['solution'])}  objective {num(ref['loss'])}  ({ref['method']})"
        rows.append(("reference", shown))
        matches = doc.get("matches_reference")
        verdict = (
            "not judged"
            if matches is None
            else "matches the reference"
            if matches
            else "does NOT match the reference"
        )
        rows.append(("match", f"{verdict}: {doc.get('match') or '-'}"))
        rows.append(
            (
                "distance",
                f"{small(doc['distance'])} to the reference solution; objective gap "
                f"{small(doc['gap'])} (objective minus the reference's)",
            )
        )
    rows.append(("time", timing_text(doc)))
    rows.append(("verdict", verdict_text(doc)))
    return rows


def verdict_text(doc: Mapping[str, Any]) -> str:
    """What the exit code says, in words."""
    findings = doc.get("findings") or []
    code = doc.get("exit_code")
    if doc.get("interrupted"):
        return f"interrupted: the result so far (exit {code})"
    if doc.get("drawing_failed"):
        return f"the result is kept, but the drawing stopped: {doc['drawing_failed']} (exit {code})"
    if findings:
        return f"FINDING: {'; '.join(findings)} (exit {code})"
    how = doc.get("verdict_note") or "converged"
    return f"ok: {how}{' and matches the reference' if doc.get('reference') else ''} (exit 0)"


def _chosen(doc: Mapping[str, Any]) -> str:
    return settings_line(doc["settings"], doc.get("chosen_by_user") or [])


def _from(doc: Mapping[str, Any]) -> str:
    where = doc.get("solution_from")
    return f"  ({where})" if where and where != "final iterate" else ""


def _proven_note(doc: Mapping[str, Any]) -> str:
    """After a stall at a point the certificate proves optimal (a kink: the median at a
    data point), the stall's advice is moot: said so, where the advice is."""
    if doc.get("reason") == "stalled" and doc.get("verdict_note"):
        return " (No change is needed: the certificate's exact test proves this point optimal.)"
    return ""


def _status(doc: Mapping[str, Any]) -> str:
    if doc.get("converged"):
        return f"converged ({doc['reason']})"
    return str(doc["reason"]).replace("_", " ")


def print_solve(doc: Mapping[str, Any]) -> None:
    show(key_value_table(solve_rows(doc)))


# ----------------------------------------------------------------------------- compare

COMPARE_COLUMNS = [
    "method~",
    "objective>",
    "gap>",
    "distance>",
    "match",
    "steps>",
    "evals>",
    "time>",
    "stop~",
]


def compare_table(doc: Mapping[str, Any]) -> Any:
    rows: list[list[str] | None] = []
    previous = None
    for run in doc["runs"]:
        if previous is not None and run["by"] != previous:
            rows.append(None)
        previous = run["by"]
        method = "reference" if run["by"] == "reference" else run["method"]
        rows.append(
            [
                method,
                num(run["loss"], 10),
                small(run["gap"]),
                small(run["distance"]),
                {True: "yes", False: "NO", None: "-"}[run.get("matches_reference")],
                num(run["iterations"]),
                num(run["evaluations"]),
                seconds(run["time_s"]),
                run["status"],
            ]
        )
    ref = doc.get("reference")
    caption = (
        f"the reference ({ref['method']}), geograd's optimizers, scipy.optimize.minimize; "
        "gap = objective - reference objective; distance to the reference solution; "
        "match = the reference's judgement (relative to the data's extent); "
        "steps = optimizer steps or scipy iterations; evals = objective (and gradient) "
        "evaluations"
        if ref
        else f"no reference ({doc.get('reference_error') or 'not computed'})"
    )
    return grid(COMPARE_COLUMNS, rows, f"{doc['problem']}: {data_line(doc)}", caption)


def print_compare(doc: Mapping[str, Any]) -> None:
    show(compare_table(doc))
    for label, text in cluster_rows(doc):
        note(f"{label}: {text}")
    if doc.get("interrupted"):
        note("interrupted: the table holds the runs finished so far")


# ------------------------------------------------------------------------------- check

CHECK_COLUMNS = [
    "#>",
    "point~",
    "|grad|>",
    "ag-cf>",
    "rel>",
    "ag-fd>",
    "rel>",
    "cf-fd>",
    "rel>",
    "ok",
]


def check_table(doc: Mapping[str, Any]) -> Any:
    rows: list[Sequence[str] | None] = []
    for i, r in enumerate(doc["points"], start=1):
        rows.append(
            [
                str(i),
                point(r["x"], 6),
                num(r["grad_norm"], 3),
                num(r["autograd_vs_closed"][0], 2),
                num(r["autograd_vs_closed"][1], 2),
                num(r["autograd_vs_numeric"][0], 2),
                num(r["autograd_vs_numeric"][1], 2),
                num(r["closed_vs_numeric"][0], 2),
                num(r["closed_vs_numeric"][1], 2),
                "yes" if r["passed"] else "NO",
            ]
        )
    title = (
        f"{doc['problem']}: {data_line(doc)}; gradients at {len(doc['points'])} points, "
        f"central differences with eps {doc['eps']:g}"
    )
    caption = (
        "ag = autograd, cf = closed form, fd = central finite differences; "
        "max abs difference and max rel difference over the coordinates"
    )
    return grid(CHECK_COLUMNS, rows, title, caption)


def print_check(doc: Mapping[str, Any]) -> None:
    show(check_table(doc))
    m = doc["max"]
    lines = [
        f"max abs difference: autograd vs closed form {small(m['autograd_vs_closed'])} "
        f"(allowed {doc['exact_tol']:g} x max(1, |grad|)); vs finite differences "
        f"{small(max(m['autograd_vs_numeric'], m['closed_vs_numeric']))} "
        f"(allowed {doc['fd_tol']:g} x max(1, |grad|))",
    ]
    failed = doc["failed"]
    if failed:
        lines.append(f"MISMATCH at {failed} of {len(doc['points'])} points")
    else:
        lines.append(f"all {len(doc['points'])} points agree")
    for line in lines:
        note(line)


# ---------------------------------------------------------------------------- listings


def print_problems(rows: Sequence[Mapping[str, Any]]) -> None:
    lines = []
    for row in rows:
        opts = "\n".join(
            f"{o['flag']} {o['metavar']}  (default {o['default']})"
            if o.get("default") is not None
            else f"{o['flag']} {o['metavar']}"
            for o in row["options"]
        )
        lines.append([row["name"], row["description"], opts or "-"])
    show(grid(["problem", "description~", "options"], lines))
    note("Solve one with: geograd solve PROBLEM [OPTIONS]  (geograd solve PROBLEM --help)")


def print_optimizers(rows: Sequence[Mapping[str, Any]], schedules: Mapping[str, str]) -> None:
    lines = [
        [
            row["name"],
            row["description"],
            ", ".join(f"{k}={v}" for k, v in row["options"].items()) or "-",
        ]
        for row in rows
    ]
    show(grid(["optimizer", "description~", "options (defaults)~"], lines))
    show(grid(["schedule", "--schedule NAME or NAME:key=value,...~"], schedules.items()))
