"""The wire protocol, sans I/O: build (and sign) the request, parse the response.

Nothing here touches the network or the clock; the caller passes ``now``.
"""

from __future__ import annotations

import datetime as _dt
import http.client
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit
from xml.parsers import expat

from .._errors import (
    CloudFrontError,
    ParamValidationError,
    ResponseParseError,
    error_class_for_code,
)
from .._models import Credentials, InvalidationList, InvalidationSummary
from . import sigv4 as _sigv4
from .http import MAX_BODY_BYTES, HttpRequest, HttpResponse
from .metadata import UNSIGNED_HEADERS, CallMeta, build_user_agent
from .operation import Operation, R, check_text
from .record import Record
from .xml import _bool, _int, _required, _text, parse_timestamp, xml_to_dict

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_COUNT",
    "Endpoint",
    "HttpRequest",
    "HttpResponse",
    "ListParams",
    "Operation",
    "check_count",
    "check_id",
    "error_from_response",
    "parse_invalidation_list",
    "parse_response",
    "sign",
    "sign_form_post",
]

SERVICE = "cloudfront"
API_VERSION = "2020-05-31"
NAMESPACE = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Endpoint(Record):
    """Where requests go and how they are signed.

    ``netloc`` is ``host[:port]`` as signed: the default port is left out.
    """

    __slots__ = ("base_path", "netloc", "scheme", "signing_region")

    def __init__(
        self, scheme: str, netloc: str, base_path: str = "", signing_region: str = "us-east-1"
    ) -> None:
        self.scheme = scheme
        self.netloc = netloc
        self.base_path = base_path
        self.signing_region = signing_region

    @classmethod
    def from_url(cls, url: str, signing_region: str = "us-east-1") -> Endpoint:
        if not isinstance(url, str):
            raise ParamValidationError(f"endpoint_url must be a str, not {type(url).__name__}")
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ParamValidationError(f"endpoint_url is not a valid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ParamValidationError(
                f"endpoint_url must be an http:// or https:// URL with a host, got {url!r}"
            )
        if parts.username is not None or parts.password is not None:
            raise ParamValidationError("endpoint_url must not carry a user name or password")
        if parts.query or parts.fragment:
            raise ParamValidationError("endpoint_url must not have a query or a fragment")
        host = parts.hostname.lower()
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
        return cls(scheme, netloc, parts.path.rstrip("/"), signing_region)


class ListParams(Operation[InvalidationList]):
    """Validated parameters of one ``ListInvalidationsForDistributionTenant`` call."""

    __slots__ = ("id", "marker", "max_items")
    name = "ListInvalidationsForDistributionTenant"
    result_name = "InvalidationList"

    def __init__(self, id: str, marker: str | None = None, max_items: int | None = None) -> None:
        self.id = id
        self.marker = marker
        self.max_items = max_items

    @classmethod
    def validate(cls, Id: object, Marker: object = None, MaxItems: object = None) -> ListParams:
        tenant = check_id("Id", Id)
        if Marker is not None:
            if not isinstance(Marker, str):
                raise ParamValidationError(f"Marker must be a str, not {type(Marker).__name__}")
            check_text("Marker", Marker, MAX_MARKER_LENGTH)
        return cls(tenant, Marker, None if MaxItems is None else check_count("MaxItems", MaxItems))

    def query(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.marker is not None:
            pairs.append(("Marker", self.marker))
        if self.max_items is not None:
            pairs.append(("MaxItems", str(self.max_items)))
        return pairs

    def route(self) -> tuple[str, str, list[tuple[str, str]]]:
        path = f"/{API_VERSION}/distribution-tenant/{_sigv4.encode_rfc3986(self.id)}/invalidation"
        return "GET", path, self.query()

    def parse(self, response: HttpResponse, attempts: int) -> InvalidationList:
        return _invalidation_list(response.body, response.request_id, attempts)


def check_id(name: str, value: object, what: str = "a distribution tenant Id") -> str:
    """``value`` as an Id sent as one path segment (a tenant's, an invalidation's)."""
    if not isinstance(value, str):
        raise ParamValidationError(f"{name} must be a str, not {type(value).__name__}")
    if value in ("", ".", ".."):
        raise ParamValidationError(f"{name} must be {what}, got {value!r}")
    check_text(name, value, MAX_ID_LENGTH)
    return value


#: The largest count accepted (``MaxItems``, ``page_size``, ``max_items``, ``concurrency``):
#: the service's model declares ``MaxItems`` a 32-bit integer. The service has its own, smaller
#: limit and answers ``InvalidArgument`` above it; past this one a value is a mistake (and one
#: of more than 4,300 digits cannot even be written in a URL: ``str()`` refuses it).
MAX_COUNT = 2**31 - 1


def check_count(name: str, value: object) -> int:
    """``value`` if it is an int from 1 to :data:`MAX_COUNT`, else :class:`ParamValidationError`
    (an int too long to write out is described, not written)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        digits = int(abs(value).bit_length() * 0.30103) + 1
        shown = f"{'a negative' if value < 0 else 'an'} int of about {digits:,} digits"
    elif isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_COUNT:
        return value
    else:
        shown = repr(value)
    raise ParamValidationError(
        f"{name} must be a positive int of at most {MAX_COUNT:,}, got {shown}"
    )


#: The longest ``Id`` and ``Marker`` sent. No real value comes close (tenant Ids are 1-64
#: characters in the API reference; a marker is an invalidation Id, about 14-25 characters);
#: a longer one is a mistake or an attack, and would only make an over-long URL.
MAX_ID_LENGTH = 1024
MAX_MARKER_LENGTH = 1024


def _auth_headers(
    method: str,
    endpoint: Endpoint,
    service: str,
    path: str,
    query: Sequence[tuple[str, str]],
    credentials: Credentials,
    now: _dt.datetime,
    also_signed: Sequence[tuple[str, str]] = (),
    payload_sha256: str = _sigv4.EMPTY_PAYLOAD_SHA256,
) -> list[tuple[str, str]]:
    """``X-Amz-Date``, ``X-Amz-Security-Token`` (with a session token) and ``Authorization``.

    Signed: ``host``, ``x-amz-date``, the token and ``also_signed``.
    """
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    token = credentials.session_token
    signed = [h for h in also_signed if h[0].lower() not in UNSIGNED_HEADERS]
    signed += [("host", endpoint.netloc), ("x-amz-date", amz_date)]
    out = [("X-Amz-Date", amz_date)]
    if token is not None:
        signed.append(("x-amz-security-token", token))
        out.append(("X-Amz-Security-Token", token))
    out.append(
        (
            "Authorization",
            _sigv4.authorization_header(
                method=method,
                path=path,
                query=query,
                headers=signed,
                access_key_id=credentials.access_key_id,
                secret_access_key=credentials.secret_access_key,
                region=endpoint.signing_region,
                service=service,
                amz_date=amz_date,
                payload_sha256=payload_sha256,
            ),
        )
    )
    return out


def _encoded(pairs: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{_sigv4.encode_rfc3986(k)}={_sigv4.encode_rfc3986(v)}" for k, v in pairs)


def sign(
    endpoint: Endpoint,
    params: Operation[Any],
    credentials: Credentials,
    now: _dt.datetime,
    call: CallMeta | None = None,
    attempt: int = 1,
) -> HttpRequest:
    """The signed request for the operation ``params``; ``now`` is an aware UTC datetime.

    With ``call``, the request carries that call's metadata for attempt ``attempt``
    (``amz-sdk-*``, its ``User-Agent``, a Lambda ``X-Amzn-Trace-Id``), none of it signed:
    botocore signs only ``host``, ``x-amz-date`` and the session token for these operations,
    and sends a body (a ``POST``'s XML) with no ``Content-Type``, its SHA-256 in the signature.
    """
    method, route, query = params.route()
    path = endpoint.base_path + route
    body = params.body()
    url = f"{endpoint.scheme}://{endpoint.netloc}{path}"
    if query:
        url += "?" + _encoded(query)
    auth = _auth_headers(
        method,
        endpoint,
        SERVICE,
        path,
        query,
        credentials,
        now,
        payload_sha256=_sigv4.payload_hash(body) if body else _sigv4.EMPTY_PAYLOAD_SHA256,
    )
    headers = [("Host", endpoint.netloc), *auth, ("Accept-Encoding", "identity")]
    headers += call.headers(attempt) if call is not None else [("User-Agent", build_user_agent())]
    return HttpRequest(method, url, tuple(headers), body)


def sign_form_post(
    endpoint: Endpoint,
    service: str,
    form: list[tuple[str, str]],
    credentials: Credentials | None,
    now: _dt.datetime,
) -> HttpRequest:
    """A ``POST`` of ``application/x-www-form-urlencoded`` parameters (an AWS query API, such as
    STS), signed with SigV4 for ``service`` in ``endpoint.signing_region``; unsigned when
    ``credentials`` is ``None`` (``AssumeRoleWithWebIdentity``)."""
    path = endpoint.base_path or "/"
    body = _encoded(form).encode("ascii")
    content_type = "application/x-www-form-urlencoded; charset=utf-8"
    headers: list[tuple[str, str]] = [("Host", endpoint.netloc)]
    if credentials is not None:
        headers += _auth_headers(
            "POST",
            endpoint,
            service,
            path,
            (),
            credentials,
            now,
            also_signed=[("content-type", content_type)],
            payload_sha256=_sigv4.payload_hash(body),
        )
    headers += [
        ("Content-Type", content_type),
        ("Accept-Encoding", "identity"),
        ("User-Agent", build_user_agent()),
    ]
    return HttpRequest("POST", f"{endpoint.scheme}://{endpoint.netloc}{path}", tuple(headers), body)


# --- parsing ---------------------------------------------------------------------------------


def _items(node: Any) -> tuple[InvalidationSummary, ...]:
    if node is None or isinstance(node, str):  # <Items/> or whitespace only
        if isinstance(node, str) and node.strip():
            raise ValueError("Items holds text, not InvalidationSummary elements")
        return ()
    if not isinstance(node, dict):
        raise ValueError("Items is malformed")
    return tuple(map(_summary, node.get("InvalidationSummary", ())))


def _summary(entry: Any) -> InvalidationSummary:
    # The usual case first, three text elements: a page holds up to 1,000 of these.
    if type(entry) is dict:
        id_, created, status = entry.get("Id"), entry.get("CreateTime"), entry.get("Status")
        if type(id_) is str and type(created) is str and type(status) is str:
            return InvalidationSummary(id_, parse_timestamp(created), status)
    if not isinstance(entry, dict):
        raise ValueError("InvalidationSummary is malformed")
    return InvalidationSummary(
        id=_required(entry, "Id"),
        create_time=parse_timestamp(_required(entry, "CreateTime")),
        status=_required(entry, "Status"),
    )


def root_element(body: bytes, name: str) -> dict[str, Any]:
    """The children of the root element ``name`` of an XML body (``ValueError`` otherwise)."""
    doc = xml_to_dict(body)
    root = doc.get(name)
    if root is None:
        raise ValueError(f"root element is {next(iter(doc))!r}, not {name!r}")
    if not isinstance(root, dict):
        raise ValueError(f"{name} is empty")
    return root


def _invalidation_list(body: bytes, request_id: str | None, attempts: int) -> InvalidationList:
    root = root_element(body, "InvalidationList")
    next_marker = _text(root["NextMarker"], "NextMarker") if "NextMarker" in root else None
    return InvalidationList(
        marker=_required(root, "Marker"),
        max_items=_int(root, "MaxItems"),
        is_truncated=_bool(root, "IsTruncated"),
        quantity=_int(root, "Quantity"),
        items=_items(root.get("Items")),
        next_marker=next_marker,
        items_present="Items" in root,
        request_id=request_id,
        attempts=attempts,
    )


#: What a malformed body raises inside xmltodict, expat and the parsers here.
PARSE_ERRORS = (ValueError, expat.ExpatError, TypeError, KeyError, OverflowError)


def parse_invalidation_list(
    body: bytes, *, status_code: int = 200, request_id: str | None = None, attempts: int = 1
) -> InvalidationList:
    """Parse a 2xx body into an :class:`InvalidationList` or raise :class:`ResponseParseError`."""
    try:
        return _invalidation_list(body, request_id, attempts)
    except PARSE_ERRORS as exc:
        raise ResponseParseError(
            f"invalid InvalidationList response (HTTP {status_code}): {exc}",
            status_code=status_code,
            request_id=request_id,
        ) from None


def error_from_response(
    response: HttpResponse, operation: str = ListParams.name
) -> CloudFrontError:
    """The exception for a non-2xx response to ``operation``; never raises, whatever the body."""
    code = message = error_type = None
    request_id = None
    try:
        doc = xml_to_dict(response.body)
        root_name, root = next(iter(doc.items()))
        if isinstance(root, dict):
            error = root.get("Error") if root_name == "ErrorResponse" else root
            if isinstance(error, dict):
                code = error.get("Code")
                message = error.get("Message")
                error_type = error.get("Type")
            request_id = root.get("RequestId")
    except (ValueError, expat.ExpatError, TypeError, KeyError, StopIteration):
        pass
    if not isinstance(code, str) or not code.strip():
        code = str(response.status_code)
        message = http.client.responses.get(response.status_code, "")
    if not isinstance(request_id, str) or not request_id:
        request_id = response.request_id
    return error_class_for_code(code.strip())(
        code.strip(),
        message if isinstance(message, str) else "",
        status_code=response.status_code,
        request_id=request_id,
        error_type=error_type if isinstance(error_type, str) else None,
        operation=operation,
    )


def parse_response(
    response: HttpResponse, *, attempts: int = 1, operation: Operation[R] | None = None
) -> R:
    """What ``operation`` (default: a listing) returns for a 2xx response; raise the matching
    error otherwise (:class:`ResponseParseError` for a 2xx body that is not that)."""
    op: Operation[Any] = _LIST if operation is None else operation
    if response.status_code >= 300:
        raise error_from_response(response, op.name)
    if response.truncated:
        raise ResponseParseError(
            f"response body larger than {MAX_BODY_BYTES} bytes",
            status_code=response.status_code,
            request_id=response.request_id,
        )
    if response.body_error is not None:
        raise ResponseParseError(
            f"unreadable response body (HTTP {response.status_code}): {response.body_error}",
            status_code=response.status_code,
            request_id=response.request_id,
        )
    try:
        result: R = op.parse(response, attempts)
    except PARSE_ERRORS as exc:
        raise ResponseParseError(
            f"invalid {op.result_name} response (HTTP {response.status_code}): {exc}",
            status_code=response.status_code,
            request_id=response.request_id,
        ) from None
    return result


#: The operation ``parse_response`` assumes when given none.
_LIST = ListParams("-")
