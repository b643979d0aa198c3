"""Timeouts and the attempt deadline: validation and policy, as plain numbers (no I/O).

A phase timeout (connect, read, write, pool) bounds one wait of the transport; the attempt
deadline bounds a whole attempt (connect, send, headers and body). Without an explicit
``attempt_timeout`` the deadline is three read timeouts, and every phase is capped by it.
"""

from __future__ import annotations

import math

from .._errors import ParamValidationError

__all__ = [
    "READS_PER_ATTEMPT",
    "Phases",
    "attempt_limits",
    "check_attempt_timeout",
    "format_duration",
    "seconds",
]

#: Without ``attempt_timeout=``, one attempt may take this many read timeouts in all.
READS_PER_ATTEMPT = 3

#: (connect, read, write, pool) in seconds; ``None`` is no limit.
Phases = tuple[float | None, float | None, float | None, float | None]


def seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A finite number of seconds, more than zero (or zero too, with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamValidationError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "more than zero"
        raise ParamValidationError(f"{name} must be {bound} seconds, got {value!r}")
    return float(value)


def check_attempt_timeout(value: object) -> float | None:
    """``attempt_timeout=``: seconds, or ``None`` for no deadline."""
    return None if value is None else seconds("attempt_timeout", value)


def attempt_limits(
    phases: Phases, attempt_timeout: float | None, explicit: bool, request_timeout: float | None
) -> tuple[Phases, float | None]:
    """The phase timeouts for one attempt and its deadline in seconds (``None``: none).

    ``explicit`` says whether ``attempt_timeout`` was given (``None`` given means no deadline);
    ``request_timeout`` is a request's own timeout (the instance metadata service's 1 s), which
    replaces the client's for every phase.
    """
    if request_timeout is not None:
        each = request_timeout
        return (each, each, each, each), READS_PER_ATTEMPT * each
    deadline = attempt_timeout
    if not explicit:
        read = phases[1]
        deadline = None if read is None else READS_PER_ATTEMPT * read
    if deadline is None:
        return phases, None
    limit = deadline

    def cap(value: float | None) -> float:
        return limit if value is None else min(value, limit)

    return (cap(phases[0]), cap(phases[1]), cap(phases[2]), cap(phases[3])), deadline


def format_duration(seconds: float) -> str:
    """``seconds`` for people: ``0.3 s``, ``12 s``, ``9 min 40 s``, ``1 h 2 min 3 s``."""
    if seconds < 59.5:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or hours:
        parts.append(f"{minutes} min")
    if secs:
        parts.append(f"{secs} s")
    return " ".join(parts)
