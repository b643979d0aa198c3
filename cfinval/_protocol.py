"""The wire protocol, sans I/O: build (and sign) the request, parse the response.

Nothing here touches the network or the clock; the caller passes ``now``.
"""

from __future__ import annotations

import datetime as _dt
import http.client
import re
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from xml.parsers import expat

import xmltodict
from attrs import field, frozen

from . import _sigv4
from ._errors import (
    CloudFrontError,
    ParamValidationError,
    ResponseParseError,
    error_class_for_code,
)
from ._models import Credentials, InvalidationList, InvalidationSummary

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


@frozen
class HttpRequest:
    """A request ready for the wire. ``url`` is fully percent-encoded.

    ``timeout`` (seconds), when set, replaces the client's timeout for this request (the
    instance metadata service gets 1 s whatever the client's setting). ``body`` is never shown
    in a ``repr`` (an STS body can hold a web identity token).
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    timeout: float | None = None

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


@frozen
class HttpResponse:
    """A response as the flow sees it. ``headers`` keys are lower-case.

    ``truncated`` is true when the body was longer than the cap and reading stopped there;
    ``body_error`` says why a (compressed) body could not be decoded.
    """

    status_code: int
    headers: Mapping[str, str] = field(factory=dict)
    body: bytes = b""
    truncated: bool = False
    body_error: str | None = None

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-amz-request-id") or None


@frozen
class Endpoint:
    """Where requests go and how they are signed."""

    scheme: str
    netloc: str  # host[:port] as signed; the default port is left out
    base_path: str = ""
    signing_region: str = "us-east-1"

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


@frozen
class ListParams:
    """Validated parameters of one call."""

    id: str
    marker: str | None = None
    max_items: int | None = None

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


def sign(
    endpoint: Endpoint, params: ListParams, credentials: Credentials, now: _dt.datetime
) -> HttpRequest:
    """The signed request for ``params``; ``now`` is an aware UTC datetime."""
    path = (
        f"{endpoint.base_path}/{API_VERSION}/distribution-tenant/"
        f"{_sigv4.encode_rfc3986(params.id)}/invalidation"
    )
    query = params.query()
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    signed: list[tuple[str, str]] = [("host", endpoint.netloc), ("x-amz-date", amz_date)]
    if credentials.session_token is not None:
        signed.append(("x-amz-security-token", credentials.session_token))
    auth = _sigv4.authorization_header(
        method="GET",
        path=path,
        query=query,
        headers=signed,
        access_key_id=credentials.access_key_id,
        secret_access_key=credentials.secret_access_key,
        region=endpoint.signing_region,
        service=SERVICE,
        amz_date=amz_date,
    )
    url = f"{endpoint.scheme}://{endpoint.netloc}{path}"
    if query:
        url += "?" + "&".join(
            f"{_sigv4.encode_rfc3986(k)}={_sigv4.encode_rfc3986(v)}" for k, v in query
        )
    headers = (
        ("Host", endpoint.netloc),
        ("X-Amz-Date", amz_date),
        *(
            (("X-Amz-Security-Token", credentials.session_token),)
            if credentials.session_token is not None
            else ()
        ),
        ("Authorization", auth),
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
    body = "&".join(
        f"{_sigv4.encode_rfc3986(k)}={_sigv4.encode_rfc3986(v)}" for k, v in form
    ).encode("ascii")
    content_type = "application/x-www-form-urlencoded; charset=utf-8"
    headers: list[tuple[str, str]] = [("Host", endpoint.netloc)]
    if credentials is not None:
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        signed = [
            ("content-type", content_type),
            ("host", endpoint.netloc),
            ("x-amz-date", amz_date),
        ]
        if credentials.session_token is not None:
            signed.append(("x-amz-security-token", credentials.session_token))
        auth = _sigv4.authorization_header(
            method="POST",
            path=path,
            query=(),
            headers=signed,
            access_key_id=credentials.access_key_id,
            secret_access_key=credentials.secret_access_key,
            region=endpoint.signing_region,
            service=service,
            amz_date=amz_date,
            payload_sha256=_sigv4.payload_hash(body),
        )
        headers.append(("X-Amz-Date", amz_date))
        if credentials.session_token is not None:
            headers.append(("X-Amz-Security-Token", credentials.session_token))
        headers.append(("Authorization", auth))
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


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)


def _parse_timestamp(text: str) -> _dt.datetime:
    match = _TIMESTAMP.fullmatch(text.strip())
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


def _int(parent: Mapping[str, Any], name: str) -> int:
    text = _required(parent, name).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
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
        doc = _xml_to_dict(body)
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
