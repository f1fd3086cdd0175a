"""Files the CLI writes and reads: atomic writes, strict JSON, saved results.

Atomic writes (:func:`write_json_atomic`, :func:`write_text_atomic`) go through
:mod:`geograd.fileio`: a temporary file beside the target, fsync'ed, then
``os.replace``. A crash or an error at any moment leaves either the old file
untouched or the new one complete, never half a file; Ctrl-C or SIGTERM during
the write lets it finish first, then acts. Only a regular file is written over
(a device, FIFO or read-only file is refused; a link is followed), and
:func:`input_paths` with :func:`geograd.fileio.check_distinct` keeps an output
from overwriting an input.

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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from geograd.errors import InputError
from geograd.fileio import atomic_write, read_regular, size_text

SOLVE_FORMAT = "geograd.solve/1"
COMPARE_FORMAT = "geograd.compare/1"
#: The largest saved result ``geograd plot`` reads, in MiB (a long history of a large
#: problem can be big; ``GEOGRAD_MAX_INPUT_MB`` changes it).
MAX_RESULT_MIB = 1024
#: Memory a parsed JSON document takes, as a multiple of its size.
JSON_EXPANSION = 10.0


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


def input_paths(options: Iterable[Any], problem_args: Mapping[str, Any]) -> dict[str, Path]:
    """The files a problem reads, by flag: its ``Path`` options (``Problem.options``)
    that were given in ``problem_args`` (option name -> value as typed), for
    :func:`geograd.fileio.check_distinct`."""
    return {
        opt.flag: Path(problem_args[opt.name])
        for opt in options
        if opt.type is Path and problem_args.get(opt.name) not in (None, "")
    }


def write_text_atomic(path: str | Path, text: str, what: str = "--out") -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "w", what) as fh:
        fh.write(text)


def write_json_atomic(path: str | Path, data: Any, what: str = "--out") -> None:
    """Write ``data`` as strict, indented JSON to ``path`` atomically."""
    with atomic_write(path, "w", what) as fh:
        json.dump(strict(data), fh, indent=2, allow_nan=False)
        fh.write("\n")


def _named(what: str) -> str:
    """``what`` with "geograd" in front, once."""
    return what if what.startswith("geograd ") else f"geograd {what}"


def read_json(path: str | Path, what: str = "result file") -> dict[str, Any]:
    """A JSON object from ``path``; a missing, unreadable or malformed file is an InputError.

    Only a regular file of at most :data:`MAX_RESULT_MIB` MiB is read (see
    :func:`geograd.fileio.read_regular`: a device or a FIFO is refused, never
    opened); ``NaN`` and ``Infinity``, which strict JSON has not, are refused too.
    """
    p = Path(path)
    raw = read_regular(
        p, what=what, default_mib=MAX_RESULT_MIB, expansion=JSON_EXPANSION,
        advice="save the run with fewer steps",
    )  # fmt: skip
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text, so not a {_named(what)}") from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # from _no_constant
        raise InputError(f"{p}: not strict JSON ({exc}); geograd writes null there") from None
    except RecursionError:
        raise InputError(f"{p}: JSON nested too deeply to be a {_named(what)}") from None
    except MemoryError:
        raise InputError(f"{p}: not enough memory to load it ({size_text(len(raw))})") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: a {what} holds a JSON object, this holds {type(data).__name__}")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
