"""httpx's side of an exchange, in the core's terms: errors to ``TransportFailure``, bodies
read within the cap to ``HttpResponse``, the client's ``timeout=`` argument."""

from __future__ import annotations

import httpx

from .._core.body import BodyReader
from .._core.effects import TransportFailure
from .._core.http import MAX_BODY_BYTES, HttpResponse
from .._core.timeouts import Phases
from .._errors import ParamValidationError

__all__ = [
    "HTTPX_ERRORS",
    "AttemptTimeout",
    "body_reader",
    "deadline_failure",
    "failure",
    "phases",
    "preloaded",
    "response",
    "timeout_from",
]

# Failures no retry can cure: the request itself cannot be sent as built.
_LOCAL_ERRORS = (
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
    httpx.LocalProtocolError,
    httpx.StreamError,
)
# Exceptions httpx may raise while sending: all become TransportError through the flow.
HTTPX_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)


def failure(exc: Exception, url: str | None = None) -> TransportFailure:
    """The ``TransportFailure`` for an exception httpx raised sending a request to ``url``."""
    stage = None
    proxy = getattr(exc, "proxy", None)  # ProxyUnreachable (see transport)
    if isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
        stage = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
    elif isinstance(exc, httpx.ConnectError):
        kind = "connect"
        if is_tls_failure(exc):  # the handshake failed: not "could not connect"
            stage, proxy = "tls", None
    elif isinstance(exc, _LOCAL_ERRORS):
        kind = "local"
    else:
        kind = "other"
    return TransportFailure(
        exc, kind, url=url, proxy=proxy if isinstance(proxy, str) else None, stage=stage
    )


def is_tls_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a TLS handshake failure: a certificate that is
    not trusted, a name that does not match, a protocol the two sides do not share."""
    import ssl  # loaded with httpx already

    current: BaseException | None = exc
    for _ in range(8):  # a chain of causes is short; never follow a cycle
        if current is None:
            return False
        if isinstance(current, ssl.SSLError):
            return True
        current = current.__cause__ or current.__context__
    return False


class AttemptTimeout(TimeoutError):
    """One attempt took longer than ``attempt_timeout`` (a stalled or slow-drip response)."""


def deadline_failure(seconds: float, url: str | None = None) -> TransportFailure:
    return TransportFailure(
        AttemptTimeout(f"the attempt took longer than attempt_timeout={seconds:g} s"),
        "timeout",
        url=url,
        stage="deadline",
    )


def timeout_from(value: object) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        return value
    if value is None or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    ):
        return httpx.Timeout(value)
    raise ParamValidationError(
        f"timeout must be a positive number, httpx.Timeout or None, got {value!r}"
    )


def phases(timeout: httpx.Timeout) -> Phases:
    return (timeout.connect, timeout.read, timeout.write, timeout.pool)


def preloaded(resp: httpx.Response) -> BodyReader | None:
    """The body when httpx read (and decoded) it before us, as ``httpx.MockTransport`` does."""
    if not resp.is_stream_consumed:
        return None
    reader = BodyReader(None, MAX_BODY_BYTES)
    reader.feed(resp.content)
    return reader


def body_reader(resp: httpx.Response) -> BodyReader:
    return BodyReader(resp.headers.get("content-encoding"), MAX_BODY_BYTES)


def response(resp: httpx.Response, reader: BodyReader) -> HttpResponse:
    return HttpResponse(
        resp.status_code,
        {k: v for k, v in resp.headers.items()},
        reader.body(),
        reader.truncated,
        reader.error,
    )
