"""Files the CLI writes and reads: atomic writes, strict JSON, saved results.

Atomic writes (:func:`write_json_atomic`, :func:`write_text_atomic`) go through
:mod:`geograd.fileio`: a temporary file beside the target, fsync'ed, then
``os.replace``. A crash, an error or Ctrl-C at any moment leaves either the old
file untouched or the new one complete, never half a file.

JSON is strict (RFC 8259): NaN and infinities, which ``json`` would write as the
non-standard ``NaN``/``Infinity``, become ``null``; tuples become lists, Paths
strings.

A saved result (``--out FILE``) is one JSON object whose ``format`` is
``"geograd.solve/1"`` or ``"geograd.compare/1"``; its ``spec`` is the problem's
``Problem.to_dict()`` (``geograd.problems.problem_from_dict`` rebuilds the
problem) and its ``history`` the recorded iterates, so that a later
``geograd plot RESULT.json`` can redraw it; :func:`read_json` reads one back with
one-line errors.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from geograd.errors import InputError
from geograd.fileio import atomic_write

SOLVE_FORMAT = "geograd.solve/1"
COMPARE_FORMAT = "geograd.compare/1"


def strict(value: Any) -> Any:
    """``value`` as plain JSON data: non-finite floats as None, tuples as lists, Paths as str."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return strict(value.tolist())
    if hasattr(value, "__float__"):
        return strict(float(value))
    return str(value)


def dumps(data: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``data`` (see :func:`strict`), ending with a newline."""
    return json.dumps(strict(data), indent=indent, allow_nan=False) + "\n"


def write_text_atomic(path: str | Path, text: str, what: str = "--out") -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "w", what) as fh:
        fh.write(text)


def write_json_atomic(path: str | Path, data: Any, what: str = "--out") -> None:
    """Write ``data`` as strict, indented JSON to ``path`` atomically."""
    with atomic_write(path, "w", what) as fh:
        json.dump(strict(data), fh, indent=2, allow_nan=False)
        fh.write("\n")


def read_json(path: str | Path, what: str = "result file") -> dict[str, Any]:
    """A JSON object from ``path``; a missing, unreadable or malformed file is an InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such {what}; check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a {what}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text, so not a geograd {what}") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read it ({_why(exc)})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: a {what} holds a JSON object, this holds {type(data).__name__}")
    return data


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
