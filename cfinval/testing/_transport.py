"""The requests the fake records, and the fake served through an ``httpx.MockTransport``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx
from attrs import field, frozen

if TYPE_CHECKING:
    from ._fake import FakeCloudFront

__all__ = ["MAX_RECORDED", "RecordedRequest", "mock_transport"]


@frozen
class RecordedRequest:
    """A request the fake received: method, target as sent (path and query), headers, body."""

    method: str
    target: str
    headers: Mapping[str, str]
    #: The kind of fault injected into this request's answer, if any.
    fault: str | None = None
    body: bytes = field(default=b"", repr=False)
    #: The operation it asked for (an :data:`OPERATIONS` name), ``None`` if none matched.
    operation: str | None = None


#: How many requests :attr:`FakeCloudFront.requests` keeps by default (the most recent; about
#: 1.6 KiB each plus their bodies, so some 16 MiB at most for GETs and small POSTs however
#: long a ``fake-server`` runs).
MAX_RECORDED = 10_000


class _RequestLog(list[RecordedRequest]):
    """A list of the requests received, oldest first, that keeps only the last ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def append(self, request: RecordedRequest) -> None:
        super().append(request)
        if len(self) > self.limit:
            del self[0]


def mock_transport(fake: FakeCloudFront) -> httpx.MockTransport:
    """An ``httpx.MockTransport`` serving ``fake`` (sync and async httpx clients alike)."""

    def handler(request: httpx.Request) -> httpx.Response:
        reply = fake.respond(
            request.method,
            request.url.raw_path.decode("ascii"),
            dict(request.headers),
            request.content,
        )
        fault = reply.fault
        if fault is not None:
            if fault.kind == "reset":
                raise httpx.ReadError("[fake] connection reset by peer", request=request)
            if fault.kind == "cut":
                raise httpx.RemoteProtocolError(
                    "[fake] peer closed connection without sending complete message body",
                    request=request,
                )
            read = request.extensions.get("timeout", {}).get("read")
            if read is not None and fault.seconds >= read:  # stall, drip
                raise httpx.ReadTimeout(f"[fake] {fault.kind}", request=request)
        # A stream (not content=) so that clients read and decode the raw bytes themselves.
        return httpx.Response(
            reply.status, headers=dict(reply.headers), stream=httpx.ByteStream(reply.body)
        )

    return httpx.MockTransport(handler)
