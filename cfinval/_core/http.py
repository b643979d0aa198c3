"""Requests and responses as the flows see them (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping

from .record import Record

__all__ = [
    "CONTAINER",
    "HEADER_VALUE_PROBLEM",
    "IDENTITY",
    "MAX_BODY_BYTES",
    "METADATA",
    "SECRET_HEADERS",
    "SERVICE",
    "HttpRequest",
    "HttpResponse",
    "is_header_value",
]

#: What a request is for (``HttpRequest.purpose``): which HTTP settings the driver uses.
SERVICE = "service"
IDENTITY = "identity"
METADATA = "metadata"
CONTAINER = "container"

#: Bodies larger than this are refused. A 1,000-item page is about 150 KiB.
MAX_BODY_BYTES = 4 * 1024 * 1024


#: What is wrong with a value :func:`is_header_value` refuses (the value itself is never shown).
HEADER_VALUE_PROBLEM = (
    "is not a legal header value: it has whitespace at its ends, or control or non-ASCII "
    "characters (a stray space or newline from a file or variable?); the value is not shown"
)


def is_header_value(value: object) -> bool:
    """Whether ``value`` can be sent as an HTTP header value as it is: a non-empty string of
    visible ASCII characters (spaces only between them). The HTTP layer (h11) refuses anything
    else, with an error that quotes the value: a token must be checked before it is sent."""
    return (
        isinstance(value, str)
        and bool(value)
        and value.isascii()
        and value.isprintable()
        and value == value.strip()
    )


#: Header values never shown in a ``repr`` (lower-case names).
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "x-amz-security-token",
        "x-aws-ec2-metadata-token",
        "x-amz-sso_bearer_token",
        "dpop",
    }
)


class HttpRequest(Record):
    """A request ready for the wire. ``url`` is fully percent-encoded.

    ``timeout`` (seconds), when set, replaces the client's timeout for this request (the
    instance metadata service gets 1 s whatever the client's setting). ``body`` is never shown
    in a ``repr`` (an STS body can hold a web identity token).

    ``purpose`` says which settings the driver sends it with (botocore's split): ``service``
    (the CloudFront endpoint: the client's own HTTP settings, or the ``http_client`` brought),
    ``identity`` (STS, IAM Identity Center, sign-in: the configured CA bundle and proxies),
    ``metadata`` (IMDS) or ``container`` (container credentials: never through a proxy).
    """

    __slots__ = ("body", "headers", "method", "purpose", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes = b"",
        timeout: float | None = None,
        *,
        purpose: str = SERVICE,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.purpose = purpose

    def with_headers(self, *extra: tuple[str, str]) -> HttpRequest:
        """This request with ``extra`` headers added (its purpose and timeout kept)."""
        return HttpRequest(
            self.method,
            self.url,
            (*self.headers, *extra),
            self.body,
            self.timeout,
            purpose=self.purpose,
        )

    def for_purpose(self, purpose: str) -> HttpRequest:
        """This request, to be sent for ``purpose`` (see the class docstring)."""
        return HttpRequest(
            self.method, self.url, self.headers, self.body, self.timeout, purpose=purpose
        )

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def __repr__(self) -> str:  # never show the signature, a session token or the body
        shown = tuple(
            (k, v) if k.lower() not in SECRET_HEADERS else (k, "***") for k, v in self.headers
        )
        extra = f", body=<{len(self.body)} bytes>" if self.body else ""
        return f"HttpRequest(method={self.method!r}, url={self.url!r}, headers={shown!r}{extra})"


class HttpResponse(Record):
    """A response as the flow sees it. ``headers`` keys are lower-case.

    ``truncated`` is true when the body was longer than the cap and reading stopped there;
    ``body_error`` says why a (compressed) body could not be decoded.
    """

    __slots__ = ("body", "body_error", "headers", "status_code", "truncated")

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        truncated: bool = False,
        body_error: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers: Mapping[str, str] = {} if headers is None else headers
        self.body = body
        self.truncated = truncated
        self.body_error = body_error

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-amz-request-id") or None
