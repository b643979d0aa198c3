"""Effects: what a flow asks its driver to do.

A *flow* is a generator. It yields an effect and receives the effect's result:

* ``Send(request)``  ->  :class:`HttpResponse` or :class:`TransportFailure`
* ``Sleep(seconds)`` ->  ``None``
* ``Emit(value)``    ->  ``None`` (a value for the caller: a page during pagination)

and finally returns its value. The sync and async clients are two small drivers of the same
flows, so no logic exists twice.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Generic, TypeVar

from ._protocol import HttpRequest, HttpResponse
from ._record import Record

__all__ = ["Effect", "Emit", "Flow", "Send", "Sleep", "TransportFailure", "immediate"]

T = TypeVar("T")


class Send(Record):
    __slots__ = ("request",)

    def __init__(self, request: HttpRequest) -> None:
        self.request = request


class Sleep(Record):
    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Emit(Record, Generic[T]):
    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


class TransportFailure(Record):
    """The driver could not complete the exchange; ``error`` is the original exception.

    ``kind`` is ``connect`` (nothing was sent), ``timeout``, or ``other``.
    """

    __slots__ = ("error", "kind")

    def __init__(self, error: BaseException, kind: str = "other") -> None:
        self.error = error
        self.kind = kind


Effect = Send | Sleep | Emit[Any]
Outcome = HttpResponse | TransportFailure | None
Flow = Generator[Effect, Any, T]


def immediate(value: T) -> Flow[T]:
    """A flow that performs no effect and returns ``value``."""
    return value
    yield  # pragma: no cover  (makes this a generator)
