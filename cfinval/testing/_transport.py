"""The requests the fake records, and the fake served through an ``httpx.MockTransport``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote

import httpx
from attrs import field, frozen

from .._core.http import SECRET_HEADERS
from .._core.protocol import API_VERSION
from .._errors import ParamValidationError
from .._models import Credentials
from ._faults import OPERATIONS

if TYPE_CHECKING:
    from ._fake import FakeCloudFront

__all__ = ["MAX_RECORDED", "RecordedRequest", "mock_transport", "route"]


def _masked(headers: Mapping[str, str]) -> str:
    """The headers for a ``repr``: the signature and the session token hidden."""
    return repr({k: "***" if k.lower() in SECRET_HEADERS else v for k, v in headers.items()})


@frozen
class RecordedRequest:
    """A request the fake received: method, target as sent (path and query), headers, body.
    ``authorization`` and ``x-amz-security-token`` are hidden in the ``repr``, not in
    :attr:`headers`."""

    method: str
    target: str
    headers: Mapping[str, str] = field(repr=_masked)
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


_PATH = re.compile(rf"^/{API_VERSION}/distribution-tenant/([^/]+)/invalidation$")
_ONE = re.compile(rf"^/{API_VERSION}/distribution-tenant/([^/]+)/invalidation/([^/]+)$")
_TENANTS = f"/{API_VERSION}/distribution-tenants"
_BY_CUSTOMIZATION = f"/{API_VERSION}/distribution-tenants-by-customization"


def route(method: str, path: str) -> tuple[str | None, tuple[str, ...], int]:
    """``(operation, its path arguments, 0)``, or ``(None, (), 404 or 405)``."""
    match = _PATH.match(path)
    args: tuple[str, ...] = ()
    if match is not None:
        methods = {"GET": OPERATIONS[0], "POST": OPERATIONS[1]}
        args = (unquote(match[1]),)
    elif (match := _ONE.match(path)) is not None:
        methods = {"GET": OPERATIONS[2]}
        args = (unquote(match[1]), unquote(match[2]))
    elif path in (_TENANTS, _BY_CUSTOMIZATION):
        methods = {"POST": OPERATIONS[3 if path == _TENANTS else 4]}
    else:
        return None, (), 404
    operation = methods.get(method)
    return (operation, args, 0) if operation is not None else (None, (), 405)


def _credentials_tuple(value: Credentials | Iterable[Credentials]) -> tuple[Credentials, ...]:
    """``credentials=``: one :class:`~cfinval.Credentials` or several."""
    if isinstance(value, Credentials):
        return (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ParamValidationError(
            "credentials must be cfinval.Credentials or an iterable of them, "
            f"got {type(value).__name__}"
        )
    found = tuple(value)
    for item in found:
        if not isinstance(item, Credentials):
            raise ParamValidationError(
                f"credentials must hold cfinval.Credentials only, got {type(item).__name__}"
            )
    return found
