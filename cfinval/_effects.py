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

from attrs import frozen

from ._protocol import HttpRequest, HttpResponse

__all__ = ["Effect", "Emit", "Flow", "Send", "Sleep", "TransportFailure", "immediate"]

T = TypeVar("T")


@frozen
class Send:
    request: HttpRequest


@frozen
class Sleep:
    seconds: float


@frozen
class Emit(Generic[T]):
    value: T


@frozen
class TransportFailure:
    """The driver could not complete the exchange; ``error`` is the original exception."""

    error: BaseException
    #: ``connect`` (nothing was sent), ``timeout``, or ``other``
    kind: str = "other"


Effect = Send | Sleep | Emit[Any]
Outcome = HttpResponse | TransportFailure | None
Flow = Generator[Effect, Any, T]


def immediate(value: T) -> Flow[T]:
    """A flow that performs no effect and returns ``value``."""
    return value
    yield  # pragma: no cover  (makes this a generator)
