"""What the call loop needs of an operation: its name, how to build its request, how to read
its answer.

Each CloudFront operation cfinval speaks is a subclass of :class:`Operation` holding its
validated parameters (``protocol.ListParams``, ``invalidations.CreateInvalidation``, ...). The
call loop (``call.call_flow``) signs ``route()`` and ``body()`` afresh for each attempt and
hands a 2xx answer to ``parse()``; everything else about a call (retries, clock skew,
credential refresh, tracing) is the same for every operation. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

from .._errors import ParamValidationError
from .http import HttpResponse
from .record import Record

__all__ = [
    "CONTROL_CHARACTERS",
    "Operation",
    "R",
    "check_text",
    "require_str",
]

R = TypeVar("R")

#: C0 controls (NUL, tab, CR, LF, ESC, ...), DEL and C1 controls: no Id, marker or path holds one.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


class Operation(Record, Generic[R]):
    """One request of the API with its validated parameters; ``R`` is what it returns.

    ``name`` is the API's operation name (error texts, spans); ``route()`` gives the method, the
    path below the endpoint's base path (already percent-encoded) and the query pairs;
    ``body()`` the request body (``b""``: none); ``parse()`` turns a 2xx response into ``R``
    or raises ``ValueError`` (and its kin) for a body that is not what the operation returns.
    """

    __slots__ = ()
    name: ClassVar[str]
    #: What a 2xx body holds, for error texts: ``InvalidationList``, ``Invalidation``, ...
    result_name: ClassVar[str]

    def route(self) -> tuple[str, str, Sequence[tuple[str, str]]]:
        raise NotImplementedError  # pragma: no cover

    def body(self) -> bytes:
        return b""

    def parse(self, response: HttpResponse, attempts: int) -> R:
        raise NotImplementedError  # pragma: no cover


def require_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ParamValidationError(f"{name} must be a str, not {type(value).__name__}")
    return value


def check_text(name: str, value: str, limit: int) -> None:
    """``value`` must be at most ``limit`` characters, free of control characters, and
    encodable as UTF-8 (no lone surrogates); else :class:`ParamValidationError`."""
    if len(value) > limit:
        raise ParamValidationError(
            f"{name} is {len(value):,} characters long; at most {limit:,} are accepted"
        )
    control = CONTROL_CHARACTERS.search(value)
    if control is not None:
        raise ParamValidationError(
            f"{name} must not contain control characters: {control.group()!r} at position "
            f"{control.start()}"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParamValidationError(f"{name} is not valid Unicode text") from None
