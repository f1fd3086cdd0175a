"""From solver flags to :func:`geograd.minimize` settings: checks and name look-ups only.

The numbers themselves come from the problem (``Problem.solver_defaults``); a
flag only replaces one of them. Every bad value is an
:class:`~geograd.errors.InputError` naming the flag, the value and what is
expected.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from geograd.errors import InputError

# --schedule NAME without parameters: the parameters that fit a run of `steps` steps.
SCHEDULE_DEFAULTS: dict[str, str] = {
    "none": "no schedule: a constant learning rate (drops the problem's default schedule)",
    "constant": "factor 1 (the same as none)",
    "step": "x0.1 every steps/3 steps (step_size, gamma)",
    "exponential": "gamma^t with the rate falling 1000-fold over the run (gamma)",
    "cosine": "cosine annealing to 0 over the run (total_steps, final)",
    "inverse_sqrt": "1/sqrt(1 + t/scale), scale 1 (scale)",
    "inverse_time": "1/(1 + rate t), rate 1 (rate)",
    "warmup": "linear warm-up over steps/20 steps, then constant (steps)",
}


def _float(flag: str, value: str | float, expected: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{flag} must be {expected}, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{flag} must be {expected}, got {value!r}")
    return number


def check_positive(flag: str, value: str | float | None) -> float | None:
    """A finite number > 0 (from the flag's text), or None when the flag was not given."""
    if value is None:
        return None
    number = _float(flag, value, "a finite number > 0")
    if number <= 0:
        raise InputError(f"{flag} must be a finite number > 0, got {value!r}")
    return number


def check_nonnegative(flag: str, value: str | float | None) -> float | None:
    """A finite number >= 0 (from the flag's text), or None when the flag was not given."""
    if value is None:
        return None
    number = _float(flag, value, "a finite number >= 0")
    if number < 0:
        raise InputError(f"{flag} must be a finite number >= 0, got {value!r}")
    return number


def check_count(flag: str, value: str | int | None, minimum: int = 1) -> int | None:
    """An integer >= ``minimum`` (from the flag's text), or None when the flag was not given."""
    if value is None:
        return None
    expected = f"an integer >= {minimum}"
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InputError(f"{flag} must be {expected}, got {value!r}") from None
    if number < minimum:
        raise InputError(f"{flag} must be {expected}, got {value!r}")
    return number


def split_names(flag: str, text: str, what: str = "name") -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; an empty list, or a name given twice (in any
    case: each would run twice), is an error (``what``: what the items are, for its
    message)."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise InputError(f"{flag} needs at least one {what}, got {text!r}")
    first: dict[str, str] = {}
    for name in names:
        if name.lower() in first:
            raise InputError(f"{flag}: {first[name.lower()]} is given twice; give each {what} once")
        first[name.lower()] = name
    return names


def check_optimizer(name: str, flag: str = "--optimizer") -> str:
    """The registered optimizer name (lower case); unknown names suggest the closest one."""
    from geograd.optim.registry import get_optimizer

    try:
        get_optimizer(name)
    except InputError as exc:
        raise InputError(f"{flag}: {exc}") from None
    return name.strip().lower()


def schedule_from_flag(text: str, max_steps: int, flag: str = "--schedule") -> Any:
    """``NAME`` or ``NAME:key=value,...`` as a schedule for a run of ``max_steps`` steps.

    ``none`` gives ``None`` (no schedule). Without parameters a schedule gets the
    ones in :data:`SCHEDULE_DEFAULTS`; given parameters replace them.
    """
    from geograd.optim.schedules import SCHEDULES

    name, _, params_text = text.strip().partition(":")
    key = name.strip().lower().replace("-", "_")
    known = ["none", *SCHEDULES]
    if key not in known:
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InputError(f"{flag}: unknown schedule {name!r}; {hint}known: {', '.join(known)}")
    params = _parse_params(flag, key, params_text)
    if key == "none":
        if params:
            raise InputError(f"{flag}: 'none' takes no parameters")
        return None
    steps = max(1, max_steps)
    defaults: dict[str, Any] = {
        "step": {"step_size": max(1, steps // 3), "gamma": 0.1},
        "exponential": {"gamma": 1e-3 ** (1.0 / steps)},
        "cosine": {"total_steps": steps},
        "warmup": {"steps": max(1, steps // 20)},
    }.get(key, {})
    kwargs = {**defaults, **params}
    try:
        return SCHEDULES[key](**kwargs)
    except TypeError:
        import inspect

        accepted = ", ".join(inspect.signature(SCHEDULES[key]).parameters) or "nothing"
        raise InputError(
            f"{flag}: {key} takes {accepted}; got {', '.join(sorted(params))}"
        ) from None
    except InputError as exc:
        raise InputError(f"{flag}: {exc}") from None


def _parse_params(flag: str, name: str, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not text.strip():
        return out
    for item in text.split(","):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or not key.isidentifier():
            raise InputError(
                f"{flag}: parameters are key=value pairs, e.g. {name}:gamma=0.99; got {item!r}"
            )
        if key in out:  # the last would silently win: say which was meant
            raise InputError(f"{flag}: {key} is given twice in {text.strip()!r}; give it once")
        out[key] = _number(flag, key, raw.strip())
    return out


def _number(flag: str, key: str, raw: str) -> int | float:
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{flag}: {key} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{flag}: {key} must be a finite number, got {raw!r}")
    return value
