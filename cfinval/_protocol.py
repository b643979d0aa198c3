"""The wire protocol, sans I/O: build (and sign) the request, parse the response.

Nothing here touches the network or the clock; the caller passes ``now``.
"""

from __future__ import annotations

import datetime as _dt
import http.client
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit
from xml.parsers import expat

import xmltodict

from . import _sigv4
from ._errors import (
    CloudFrontError,
    ParamValidationError,
    ResponseParseError,
    error_class_for_code,
)
from ._models import Credentials, InvalidationList, InvalidationSummary
from ._record import Record

__all__ = [
    "MAX_BODY_BYTES",
    "Endpoint",
    "HttpRequest",
    "HttpResponse",
    "ListParams",
    "error_from_response",
    "parse_invalidation_list",
    "parse_response",
    "sign",
    "sign_form_post",
]

SERVICE = "cloudfront"
API_VERSION = "2020-05-31"
NAMESPACE = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
#: Bodies larger than this are refused. A 1,000-item page is about 150 KiB.
MAX_BODY_BYTES = 4 * 1024 * 1024
USER_AGENT = f"cfinval/0.1.0 python/{sys.version_info[0]}.{sys.version_info[1]}"
_DEFAULT_PORTS = {"http": 80, "https": 443}


#: Header values never shown in a ``repr``.
_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "x-amz-security-token",
        "x-aws-ec2-metadata-token",
    }
)


class HttpRequest(Record):
    """A request ready for the wire. ``url`` is fully percent-encoded.

    ``timeout`` (seconds), when set, replaces the client's timeout for this request (the
    instance metadata service gets 1 s whatever the client's setting). ``body`` is never shown
    in a ``repr`` (an STS body can hold a web identity token).
    """

    __slots__ = ("body", "headers", "method", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes = b"",
        timeout: float | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def __repr__(self) -> str:  # never show the signature, a session token or the body
        shown = tuple(
            (k, v) if k.lower() not in _SECRET_HEADERS else (k, "***") for k, v in self.headers
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


class ListParams(Record):
    """Validated parameters of one call."""

    __slots__ = ("id", "marker", "max_items")

    def __init__(self, id: str, marker: str | None = None, max_items: int | None = None) -> None:
        self.id = id
        self.marker = marker
        self.max_items = max_items

    @classmethod
    def validate(cls, Id: object, Marker: object = None, MaxItems: object = None) -> ListParams:
        if not isinstance(Id, str):
            raise ParamValidationError(f"Id must be a str, not {type(Id).__name__}")
        if Id in ("", ".", ".."):
            raise ParamValidationError(f"Id must be a distribution tenant Id, got {Id!r}")
        _require_utf8("Id", Id)
        if Marker is not None:
            if not isinstance(Marker, str):
                raise ParamValidationError(f"Marker must be a str, not {type(Marker).__name__}")
            _require_utf8("Marker", Marker)
        if MaxItems is not None and (
            isinstance(MaxItems, bool) or not isinstance(MaxItems, int) or MaxItems < 1
        ):
            raise ParamValidationError(f"MaxItems must be a positive int, got {MaxItems!r}")
        return cls(Id, Marker, MaxItems)

    def query(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.marker is not None:
            pairs.append(("Marker", self.marker))
        if self.max_items is not None:
            pairs.append(("MaxItems", str(self.max_items)))
        return pairs


def _require_utf8(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParamValidationError(f"{name} is not valid Unicode text") from None


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
    signed = [*also_signed, ("host", endpoint.netloc), ("x-amz-date", amz_date)]
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
    endpoint: Endpoint, params: ListParams, credentials: Credentials, now: _dt.datetime
) -> HttpRequest:
    """The signed request for ``params``; ``now`` is an aware UTC datetime."""
    path = (
        f"{endpoint.base_path}/{API_VERSION}/distribution-tenant/"
        f"{_sigv4.encode_rfc3986(params.id)}/invalidation"
    )
    query = params.query()
    url = f"{endpoint.scheme}://{endpoint.netloc}{path}"
    if query:
        url += "?" + _encoded(query)
    headers = (
        ("Host", endpoint.netloc),
        *_auth_headers("GET", endpoint, SERVICE, path, query, credentials, now),
        ("Accept-Encoding", "identity"),
        ("User-Agent", USER_AGENT),
    )
    return HttpRequest("GET", url, headers)


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
        ("User-Agent", USER_AGENT),
    ]
    return HttpRequest("POST", f"{endpoint.scheme}://{endpoint.netloc}{path}", tuple(headers), body)


# --- parsing ---------------------------------------------------------------------------------


class _NoDoctypeExpat:
    """An ``expat`` stand-in for xmltodict whose parsers refuse any DOCTYPE (and so entities)."""

    @staticmethod
    def ParserCreate(encoding: str | None = None, sep: str | None = None) -> Any:
        parser = expat.ParserCreate(encoding, sep)

        def refuse(*_args: object) -> None:
            raise ValueError("DOCTYPE declarations are not accepted")

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        return parser


def _xml_to_dict(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise ValueError("empty body")
    doc = xmltodict.parse(
        body,
        expat=_NoDoctypeExpat,
        xml_attribs=False,
        strip_whitespace=False,
        force_list=("InvalidationSummary",),
    )
    if not isinstance(doc, dict) or len(doc) != 1:
        raise ValueError("no root element")
    return doc


def _page_to_dict(body: bytes) -> dict[str, Any]:
    """What :func:`_xml_to_dict` returns for ``body``, built by lean expat callbacks.

    A 100-item page has some 400 elements, and xmltodict's general-purpose handler (namespaces,
    attributes, postprocessors, streaming) costs about two thirds of the CPU of a whole call
    spent on them. This builds the same shape with only what cfinval's options use: an element
    with children is a dict (its text, if any, under ``#text``), a leaf is its text (``None`` when
    empty), a repeated name becomes a list, ``InvalidationSummary`` is always a list, attributes
    are ignored. ``tests/test_protocol.py`` checks it against xmltodict on arbitrary documents.
    """
    if not body.strip():
        raise ValueError("empty body")
    parser = _NoDoctypeExpat.ParserCreate()
    parser.buffer_text = True
    parser.ordered_attributes = True  # attributes are ignored: skip building dicts for them
    open_: list[tuple[dict[str, Any] | None, list[str]]] = []  # the enclosing elements' state
    children: dict[str, Any] | None = None  # of the element being read
    text: list[str] = []  # of the element being read

    def start(_name: str, _attributes: object) -> None:
        nonlocal children, text
        open_.append((children, text))
        children, text = None, []

    def end(name: str) -> None:
        nonlocal children, text
        data = "".join(text) if text else None
        value: Any = children
        children, text = open_.pop()
        if value is None:
            value = data
        elif data:
            value["#text"] = data
        if children is None:
            children = {}
        if name in children:
            previous = children[name]
            if isinstance(previous, list):
                previous.append(value)
            else:
                children[name] = [previous, value]
        else:
            children[name] = [value] if name == "InvalidationSummary" else value

    def characters(data: str) -> None:
        text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.Parse(body, True)
    if children is None or len(children) != 1:  # pragma: no cover  (expat requires one root)
        raise ValueError("no root element")
    return children


# Compiled (and cached by ``re``) on first use: CloudFront's own form takes the fast path
# below, so a listing never needs it, and compiling it costs ~1 ms of import time.
_TIMESTAMP = (
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)


def _parse_timestamp(text: str) -> _dt.datetime:
    if (
        len(text) == 24
        and text[23] == "Z"
        and text[10] == "T"
        and text[4] == text[7] == "-"
        and text[13] == text[16] == ":"
        and text[19] == "."
    ):  # what CloudFront sends, 2026-11-20T08:15:02.123Z: the C parser is three times quicker
        try:
            return _dt.datetime.fromisoformat(text[:23] + "+00:00")
        except ValueError:
            pass  # not digits, not a real date: the general path decides
    match = re.fullmatch(_TIMESTAMP, text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, _z, sign_, off_h, off_m = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    value = _dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        micro,
        tzinfo=_dt.timezone.utc,
    )
    if sign_:
        offset = _dt.timedelta(hours=int(off_h), minutes=int(off_m))
        value = value - offset if sign_ == "+" else value + offset
    return value


def _text(node: Any, name: str) -> str:
    """The text of a leaf element (``<X/>`` is ``""``)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    raise ValueError(f"{name} must be a text element")


def _required(parent: Mapping[str, Any], name: str) -> str:
    if name not in parent:
        raise ValueError(f"missing required element {name}")
    return _text(parent[name], name)


_INTEGER = re.compile(r"[+-]?\d+")


def _int(parent: Mapping[str, Any], name: str) -> int:
    text = _required(parent, name).strip()
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"{name} is not an integer: {text!r}")
    return int(text)


def _bool(parent: Mapping[str, Any], name: str) -> bool:
    text = _required(parent, name).strip()
    if text not in ("true", "false"):
        raise ValueError(f"{name} is not a boolean: {text!r}")
    return text == "true"


def _items(node: Any) -> tuple[InvalidationSummary, ...]:
    if node is None or isinstance(node, str):  # <Items/> or whitespace only
        if isinstance(node, str) and node.strip():
            raise ValueError("Items holds text, not InvalidationSummary elements")
        return ()
    if not isinstance(node, dict):
        raise ValueError("Items is malformed")
    out = []
    for entry in node.get("InvalidationSummary", ()):
        if not isinstance(entry, dict):
            raise ValueError("InvalidationSummary is malformed")
        out.append(
            InvalidationSummary(
                id=_required(entry, "Id"),
                create_time=_parse_timestamp(_required(entry, "CreateTime")),
                status=_required(entry, "Status"),
            )
        )
    return tuple(out)


def parse_invalidation_list(
    body: bytes, *, status_code: int = 200, request_id: str | None = None, attempts: int = 1
) -> InvalidationList:
    """Parse a 2xx body into an :class:`InvalidationList` or raise :class:`ResponseParseError`."""
    try:
        doc = _page_to_dict(body)
        root = doc.get("InvalidationList")
        if root is None:
            raise ValueError(f"root element is {next(iter(doc))!r}, not 'InvalidationList'")
        if not isinstance(root, dict):
            raise ValueError("InvalidationList is empty")
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
    except (ValueError, expat.ExpatError, TypeError, KeyError, OverflowError) as exc:
        raise ResponseParseError(
            f"invalid InvalidationList response (HTTP {status_code}): {exc}",
            status_code=status_code,
            request_id=request_id,
        ) from None


def error_from_response(response: HttpResponse) -> CloudFrontError:
    """The exception for a non-2xx response; never raises, whatever the body."""
    code = message = error_type = None
    request_id = None
    try:
        doc = _xml_to_dict(response.body)
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
    )


def parse_response(response: HttpResponse, *, attempts: int = 1) -> InvalidationList:
    """The page for a 2xx response; raise the matching error otherwise."""
    if response.status_code >= 300:
        raise error_from_response(response)
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
    return parse_invalidation_list(
        response.body,
        status_code=response.status_code,
        request_id=response.request_id,
        attempts=attempts,
    )
