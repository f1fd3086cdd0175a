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

#: A solution this close to the reference (Euclidean distance) is reported as matching it.
REFERENCE_TOL = 1e-6

MAX_COORDS = 6
MAX_WIDTH = 250


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


def setting(value: Any) -> Any:
    """A solver setting as JSON: numbers and strings as they are, anything else by its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return list(value)
    return repr(value)


def settings_line(settings: Mapping[str, Any]) -> str:
    parts = []
    for key, value in settings.items():
        if key in ("optimizer", "callback"):
            continue
        shown = small(value) if isinstance(value, float) else str(setting(value))
        parts.append(f"{key}={shown}")
    return " ".join(parts)


def options_line(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items() if v is not None)


def data_line(doc: Mapping[str, Any]) -> str:
    rest = {k: v for k, v in doc["options"].items() if k not in ("n", "dim")}
    extra = options_line(rest)
    return f"n={doc.get('n')}, dim={doc.get('dim')}" + (f"; {extra}" if extra else "")


def certificate_text(cert: Mapping[str, Any] | None) -> str:
    if not cert:
        return "-"
    kind = str(cert.get("kind", "certificate")).replace("_", " ")
    text = f"{kind} {small(cert.get('value'))}"
    if cert.get("optimal") is True:
        text += ", optimal (exact test)"
    elif cert.get("optimal") is False:
        text += ", not optimal (exact test)"
    if cert.get("gap_bound") is not None:
        text += f"; objective gap <= {small(cert['gap_bound'])}"
    return text


# ------------------------------------------------------------------------------ output


def console(stderr: bool = False, width: int | None = None) -> Any:
    """A rich Console on the current stdout (or stderr); made at call time, for test runners."""
    from rich.console import Console

    return Console(
        file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=False, width=width
    )


def show(renderable: Any) -> None:
    """Print on stdout; into a file or pipe a table keeps its natural width instead of
    wrapping at 80 columns (a terminal's width is respected)."""
    out = console()
    if not out.is_terminal:
        natural = console(width=MAX_WIDTH).measure(renderable).maximum
        out = console(width=max(80, min(natural, MAX_WIDTH)))
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


def solve_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The human summary of a solve document (see ``cli.solve.solve_document``)."""
    rows = [
        ("problem", f"{doc['problem']}: {doc.get('description', '')}"),
        ("data", data_line(doc)),
        ("solution", point(doc["solution"]) + _from(doc)),
        ("objective", num(doc["loss"])),
        ("certificate", certificate_text(doc.get("certificate"))),
        ("optimizer", f"{doc['optimizer']}  {settings_line(doc['settings'])}"),
        ("steps", f"{doc['steps']} steps, {doc['evaluations']} evaluations"),
        ("stopped", f"{_status(doc)}: {doc['message']}"),
        ("solve time", seconds(doc["time_s"])),
    ]
    ref = doc.get("reference")
    if ref is None:
        rows.append(("reference", f"unavailable ({doc.get('reference_error') or 'not computed'})"))
    else:
        rows.append(
            (
                "reference",
                f"{point(ref['solution'])}  objective {num(ref['loss'])}  "
                f"({ref['method']}, {seconds(ref.get('time_s'))})",
            )
        )
        verdict = (
            f"matches the reference (within {REFERENCE_TOL:g})"
            if doc.get("matches_reference")
            else f"does NOT match the reference (more than {REFERENCE_TOL:g} away)"
        )
        rows.append(("distance", f"{small(doc['distance'])}: {verdict}"))
        rows.append(("gap", f"{small(doc['gap'])} (objective minus reference objective)"))
    return rows


def _from(doc: Mapping[str, Any]) -> str:
    where = doc.get("solution_from")
    return f"  ({where})" if where and where != "final iterate" else ""


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
        "steps = optimizer steps or scipy iterations; evals = objective (and gradient) "
        "evaluations"
        if ref
        else f"no reference ({doc.get('reference_error') or 'not computed'})"
    )
    return grid(COMPARE_COLUMNS, rows, f"{doc['problem']}: {data_line(doc)}", caption)


def print_compare(doc: Mapping[str, Any]) -> None:
    show(compare_table(doc))
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
