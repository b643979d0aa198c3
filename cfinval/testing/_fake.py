"""A fake CloudFront that serves ``ListInvalidationsForDistributionTenant`` from memory.

The core (:meth:`FakeCloudFront.handle`) maps a raw request (method, target as sent, headers) to
``(status, headers, body)``; :meth:`FakeCloudFront.transport` serves it through an
``httpx.MockTransport`` and :meth:`FakeCloudFront.serve` as a real HTTP server on loopback.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import functools
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote
from xml.sax.saxutils import escape

import httpx
from attrs import define, field, frozen

from .._config import is_region_name
from .._core import sigv4 as _sigv4
from .._core.protocol import API_VERSION, NAMESPACE, SERVICE
from .._errors import ParamValidationError
from .._models import Credentials, InvalidationSummary
from ._faults import FakeReply, Fault, FaultRule

if TYPE_CHECKING:
    from ._server import FakeServer

__all__ = [
    "FAKE_CREDENTIALS",
    "FakeCloudFront",
    "FakeReply",
    "RecordedRequest",
    "SignatureVerifier",
]

#: The credentials a :class:`FakeCloudFront` accepts unless told otherwise.
FAKE_CREDENTIALS = Credentials("AKIDCFINVALFAKE00001", "cfinval-fake-secret-key-do-not-use")

_PATH = re.compile(rf"^/{API_VERSION}/distribution-tenant/([^/]+)/invalidation$")
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<day>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*"
    r"Signature=(?P<sig>[0-9a-f]{64})$"
)
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@frozen
class RecordedRequest:
    """A request the fake received: method, target as sent (path and query) and headers."""

    method: str
    target: str
    headers: Mapping[str, str]
    #: The kind of fault injected into this request's answer, if any.
    fault: str | None = None


#: How many requests :attr:`FakeCloudFront.requests` keeps by default (the most recent; about
#: 1.6 KiB each, so some 16 MiB at most however long a ``fake-server`` runs).
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


#: ``verifier(request, credentials_by_key_id, region, now) -> None`` or an error
#: ``(status, code, message)``. The default checks SigV4 with cfinval's own signer; tests can
#: plug in another implementation (for example botocore's) to check ours independently.
SignatureVerifier = Callable[
    [RecordedRequest, Mapping[str, Credentials], str, _dt.datetime],
    "tuple[int, str, str] | None",
]


def _split_target(target: str) -> tuple[str, list[tuple[str, str]]]:
    path, _, query = target.partition("?")
    pairs = []
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return path, pairs


def verify_sigv4(
    request: RecordedRequest,
    credentials: Mapping[str, Credentials],
    region: str,
    now: _dt.datetime,
) -> tuple[int, str, str] | None:
    """Check a request's SigV4 signature the way AWS does; ``None`` when it is valid."""
    auth = request.headers.get("authorization")
    if not auth:
        return 403, "MissingAuthenticationToken", "Request is missing Authentication Token"
    match = _AUTH.match(auth)
    if match is None:
        return 400, "IncompleteSignature", "The Authorization header is malformed"
    creds = credentials.get(match["key"])
    if creds is None:
        return 403, "InvalidClientTokenId", "The security token included in the request is invalid."
    amz_date = request.headers.get("x-amz-date", "")
    try:
        signed_at = _dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=_dt.timezone.utc
        )
    except ValueError:
        return 400, "IncompleteSignature", "X-Amz-Date is missing or malformed"
    if abs((now - signed_at).total_seconds()) > 15 * 60:
        ahead = signed_at > now
        bound = now + _dt.timedelta(minutes=15) if ahead else now - _dt.timedelta(minutes=15)
        relation = "later" if ahead else "earlier"
        return (
            403,
            "SignatureDoesNotMatch",
            f"Signature expired: {amz_date} is now {relation} than "
            f"{bound.strftime('%Y%m%dT%H%M%SZ')} "
            f"({now.strftime('%Y%m%dT%H%M%SZ')} {'+' if ahead else '-'} 15 min.)",
        )
    signed_names = match["signed"].split(";")
    if "host" not in signed_names or "x-amz-date" not in signed_names:
        return 403, "SignatureDoesNotMatch", "host and x-amz-date must be signed"
    if creds.session_token is not None and (
        request.headers.get("x-amz-security-token") != creds.session_token
        or "x-amz-security-token" not in signed_names
    ):
        return 403, "InvalidClientTokenId", "The security token included in the request is invalid."
    if match["day"] != amz_date[:8] or match["region"] != region or match["service"] != SERVICE:
        return (
            403,
            "SignatureDoesNotMatch",
            f"Credential should be scoped to a valid region and service "
            f"({amz_date[:8]}/{region}/{SERVICE}/aws4_request).",
        )
    path, query = _split_target(request.target)
    try:
        headers = [(name, request.headers[name]) for name in signed_names]
    except KeyError as missing:
        return 403, "SignatureDoesNotMatch", f"signed header {missing} is absent"
    expected = _sigv4.authorization_header(
        method=request.method,
        path=path,
        query=query,
        headers=headers,
        access_key_id=match["key"],
        secret_access_key=creds.secret_access_key,
        region=region,
        service=SERVICE,
        amz_date=amz_date,
    )
    if expected != auth:
        return (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    return None


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


@define
class _Tenant:
    invalidations: list[InvalidationSummary] = field(factory=list)
    access_denied: bool = False


@define
class FakeCloudFront:
    """An in-memory CloudFront for tests and demos.

    >>> fake = FakeCloudFront()
    >>> fake.add_tenant("dt_demo")
    >>> _ = fake.add_invalidation("dt_demo", status="InProgress")

    Listing is newest first, pages hold ``MaxItems`` (default 100, at most ``max_page_size``)
    items, ``NextMarker`` is the last Id of a truncated page. Unknown tenants answer 404
    ``EntityNotFound``; tenants added with ``access_denied=True`` answer 403 ``AccessDenied``; a
    bad ``MaxItems`` or unknown ``Marker`` answers 400 ``InvalidArgument``. Every request's SigV4
    signature is checked against ``credentials`` (set ``verify_signatures=False`` to skip),
    for the region the request is scoped to, whatever valid region that is (a client given an
    ``endpoint_url`` signs for its configured region); ``region="us-east-1"`` accepts that one
    region only.

    ``faults`` (see :meth:`add_fault`) make chosen requests fail: throttling, 5xx, HTML from a
    proxy, garbage, resets, stalls, a skewed clock... Requests are numbered from 1 in the
    order they arrive. ``requests`` records the last ``max_recorded`` of them (default
    10,000), so a long-running fake stays bounded; ``served`` counts them all.
    """

    credentials: tuple[Credentials, ...] = field(
        default=(FAKE_CREDENTIALS,), converter=_credentials_tuple
    )
    #: The signing region requests must be scoped to; ``None`` (the default): any valid region
    #: name, as an endpoint URL given to a client configured for any region is signed for it.
    region: str | None = None
    verify_signatures: bool = True
    default_page_size: int = 100
    max_page_size: int = 1000
    clock: Callable[[], float] = field(default=time.time, repr=False)
    verifier: SignatureVerifier = field(default=verify_sigv4, repr=False)
    seed: int = 0
    #: How many of the most recent requests ``requests`` keeps (``served`` counts them all).
    max_recorded: int = field(default=MAX_RECORDED, repr=False)
    requests: list[RecordedRequest] = field(init=False, repr=False)
    faults: list[FaultRule] = field(factory=list)
    _tenants: dict[str, _Tenant] = field(factory=dict, repr=False)
    _lock: threading.RLock = field(factory=threading.RLock, repr=False)
    _rng: random.Random = field(init=False, repr=False)
    _counter: int = field(default=0, repr=False)
    _served: int = field(default=0, repr=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 (ids for a fake, not secrets)
        if isinstance(self.max_recorded, bool) or not isinstance(self.max_recorded, int):
            raise TypeError(f"max_recorded must be an int, got {self.max_recorded!r}")
        if self.max_recorded < 0:
            raise ValueError(f"max_recorded must be zero or more, got {self.max_recorded}")
        self.requests = _RequestLog(self.max_recorded)

    # -- seeding ---------------------------------------------------------------------------

    def add_tenant(self, tenant_id: str, *, access_denied: bool = False) -> None:
        _check_text("tenant_id", tenant_id)
        with self._lock:
            tenant = self._tenants.setdefault(tenant_id, _Tenant())
            tenant.access_denied = access_denied

    def remove_tenant(self, tenant_id: str) -> None:
        with self._lock:
            self._tenants.pop(tenant_id, None)

    def new_invalidation_id(self) -> str:
        with self._lock:
            return "I" + "".join(self._rng.choice(_ID_ALPHABET) for _ in range(13))

    def add_invalidation(
        self,
        tenant_id: str,
        invalidation_id: str | None = None,
        *,
        create_time: _dt.datetime | None = None,
        status: str = "Completed",
    ) -> InvalidationSummary:
        """Add an invalidation (the newest, unless ``create_time`` says otherwise)."""
        _check_text("tenant_id", tenant_id)
        _check_text("status", status)
        if invalidation_id is not None:
            _check_text("invalidation_id", invalidation_id)
        if create_time is not None and (
            not isinstance(create_time, _dt.datetime) or create_time.tzinfo is None
        ):
            raise TypeError("create_time must be an aware datetime (e.g. with tzinfo=UTC)")
        with self._lock:
            tenant = self._tenants.setdefault(tenant_id, _Tenant())
            if create_time is None:
                self._counter += 1
                create_time = _dt.datetime.fromtimestamp(
                    int(self.clock()), _dt.timezone.utc
                ) + _dt.timedelta(milliseconds=self._counter)
            item = InvalidationSummary(
                invalidation_id or self.new_invalidation_id(), create_time, status
            )
            tenant.invalidations.append(item)
            return item

    def set_status(self, tenant_id: str, invalidation_id: str, status: str) -> None:
        _check_text("status", status)
        with self._lock:
            tenant = self._tenant(tenant_id)
            for index, item in enumerate(tenant.invalidations):
                if item.id == invalidation_id:
                    tenant.invalidations[index] = InvalidationSummary(
                        item.id, item.create_time, status
                    )
                    return
            raise LookupError(f"tenant {tenant_id!r} has no invalidation {invalidation_id!r}")

    def _tenant(self, tenant_id: str) -> _Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise LookupError(f"the fake has no tenant {tenant_id!r}")
        return tenant

    def seed_tenants(self, count: int, *, invalidations: int = 5, prefix: str = "dt_") -> list[str]:
        """Add ``count`` tenants with ``invalidations`` each; return their Ids."""
        ids = []
        base = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
        for n in range(count):
            tenant_id = f"{prefix}{n:06d}{self.new_invalidation_id()[1:9].lower()}"
            self.add_tenant(tenant_id)
            for k in range(invalidations):
                self.add_invalidation(
                    tenant_id,
                    create_time=base + _dt.timedelta(minutes=k, seconds=n),
                    status="InProgress" if k == invalidations - 1 and n % 3 == 0 else "Completed",
                )
            ids.append(tenant_id)
        return ids

    def listing(self, tenant_id: str) -> list[InvalidationSummary]:
        """Every invalidation of a tenant, newest first (the order pages follow)."""
        with self._lock:
            items = list(reversed(self._tenant(tenant_id).invalidations))
        return sorted(items, key=lambda item: item.create_time, reverse=True)

    # -- the service -----------------------------------------------------------------------

    def now(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.clock(), _dt.timezone.utc)

    # -- faults ----------------------------------------------------------------------------

    def add_fault(
        self,
        fault: Fault | FaultRule | str,
        *,
        every: int = 1,
        start: int | None = None,
        count: int | None = None,
    ) -> FaultRule:
        """Inject ``fault`` into requests ``start, start + every, ...`` (``count`` at most).

        ``fault`` may also be a ready :class:`FaultRule` or its spec string (see
        :meth:`FaultRule.parse`), in which case the keyword arguments are not used. Rules are
        checked in the order added; the first that matches a request applies.
        """
        if isinstance(fault, str):
            rule = FaultRule.parse(fault)
        elif isinstance(fault, FaultRule):
            rule = fault
        else:
            rule = FaultRule(fault, every=every, start=start, count=count)
        if rule.fault.kind == "gzip-bomb":
            _gzip_zeros(rule.fault.size)  # build it now, not while a client waits
        with self._lock:
            self.faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    @property
    def served(self) -> int:
        """How many requests the fake has received."""
        return self._served

    # -- the service -----------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Serve one request. ``target`` is the path and query exactly as sent.

        Connection-level faults cannot be expressed as a response: use :meth:`respond`.
        """
        reply = self.respond(method, target, headers)
        return reply.status, dict(reply.headers), reply.body

    def respond(self, method: str, target: str, headers: Mapping[str, str]) -> FakeReply:
        """Serve one request, faults included."""
        with self._lock:
            self._served += 1
            number = self._served
            request_id = f"fake-{number:08d}-{self._rng.getrandbits(32):08x}"
            fault = next((rule.fault for rule in self.faults if rule.matches(number)), None)
            request = RecordedRequest(
                method,
                target,
                {k.lower(): v for k, v in headers.items()},
                None if fault is None else fault.kind,
            )
            self.requests.append(request)
        now = self.clock() + (fault.seconds if fault is not None and fault.kind == "skew" else 0)
        out_headers = {
            "x-amz-request-id": request_id,
            "content-type": "text/xml",
            "date": email.utils.formatdate(now, usegmt=True),
        }
        if fault is not None and fault.kind in _RESPONSE_FAULTS:
            status, body = _fault_response(fault, request_id, out_headers)
        else:
            rewind = fault is not None and fault.kind == "rewind"
            status, body = self._dispatch(request, request_id, now, rewind)
        return FakeReply(
            status,
            out_headers,
            body,
            fault if fault is not None and fault.connection_level else None,
        )

    def _signing_region(self, request: RecordedRequest) -> str:
        """The region a request must be signed for: :attr:`region`, else the request's own
        scope when it names a valid region (``us-east-1`` otherwise: then refused)."""
        if self.region is not None:
            return self.region
        match = _AUTH.match(request.headers.get("authorization", ""))
        if match is not None and is_region_name(match["region"]):
            return match["region"]
        return "us-east-1"

    def _dispatch(
        self, request: RecordedRequest, request_id: str, now: float, rewind: bool = False
    ) -> tuple[int, bytes]:
        path, query = _split_target(request.target)
        match = _PATH.match(path)
        if request.method != "GET" or match is None:
            return _error(
                404 if match is None else 405,
                "UnknownOperation",
                f"No operation matches {request.method} {path}",
                request_id,
            )
        if self.verify_signatures:
            by_key = {c.access_key_id: c for c in self.credentials}
            when = _dt.datetime.fromtimestamp(now, _dt.timezone.utc)
            problem = self.verifier(request, by_key, self._signing_region(request), when)
            if problem is not None:
                return _error(*problem, request_id)
        tenant_id = unquote(match[1])
        params = dict(query)
        with self._lock:
            tenant = self._tenants.get(tenant_id)
            if tenant is None:
                return _error(
                    404,
                    "EntityNotFound",
                    f"The distribution tenant {tenant_id} does not exist.",
                    request_id,
                )
            if tenant.access_denied:
                return _error(403, "AccessDenied", "Access denied.", request_id)
            items = self.listing(tenant_id)
        raw_max = params.get("MaxItems")
        if raw_max is None:
            page_size = self.default_page_size
        elif not re.fullmatch(r"\d+", raw_max) or not 1 <= int(raw_max) <= self.max_page_size:
            return _error(
                400,
                "InvalidArgument",
                f"MaxItems must be an integer from 1 to {self.max_page_size}.",
                request_id,
            )
        else:
            page_size = int(raw_max)
        marker = params.get("Marker", "")
        start = 0
        if marker:
            ids = [item.id for item in items]
            if marker not in ids:
                return _error(400, "InvalidArgument", "The marker is not valid.", request_id)
            start = ids.index(marker) + 1
        page = items[start : start + page_size]
        truncated = start + page_size < len(items)
        next_marker = page[-1].id if truncated else None
        if rewind and marker and len(items) > page_size:
            # Point back at the first page's NextMarker: a repeat or an A-B-A cycle.
            truncated, next_marker = True, items[page_size - 1].id
        return 200, _list_xml(marker, page_size, truncated, page, next_marker)

    # -- I/O adapters ----------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An ``httpx.MockTransport`` serving this fake (sync and async httpx clients alike)."""

        def handler(request: httpx.Request) -> httpx.Response:
            reply = self.respond(
                request.method, request.url.raw_path.decode("ascii"), dict(request.headers)
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

    def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_certfile: str | os.PathLike[str] | None = None,
        ssl_keyfile: str | os.PathLike[str] | None = None,
    ) -> FakeServer:
        """This fake as an HTTP server on ``host:port`` (port 0: any free one), to use as a
        context manager; its ``endpoint_url`` is where clients go.

        With ``ssl_certfile`` (a PEM certificate chain, with the key unless ``ssl_keyfile``
        holds it) the server speaks HTTPS and ``endpoint_url`` is ``https://...``.
        """
        from ._server import FakeServer

        return FakeServer(self, host, port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty str, got {value!r}")


def _list_xml(
    marker: str,
    max_items: int,
    truncated: bool,
    page: list[InvalidationSummary],
    next_marker: str | None = None,
) -> bytes:
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<InvalidationList xmlns="{NAMESPACE}">',
        f"<Marker>{escape(marker)}</Marker>",
    ]
    if next_marker is not None:
        parts.append(f"<NextMarker>{escape(next_marker)}</NextMarker>")
    parts.append(f"<MaxItems>{max_items}</MaxItems>")
    parts.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
    parts.append(f"<Quantity>{len(page)}</Quantity>")
    if page:
        parts.append("<Items>")
        for item in page:
            created = item.create_time.astimezone(_dt.timezone.utc)
            stamp = created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z"
            parts.append(
                f"<InvalidationSummary><Id>{escape(item.id)}</Id>"
                f"<CreateTime>{stamp}</CreateTime><Status>{escape(item.status)}</Status>"
                "</InvalidationSummary>"
            )
        parts.append("</Items>")
    parts.append("</InvalidationList>")
    return "".join(parts).encode("utf-8")


def _error(status: int, code: str, message: str, request_id: str) -> tuple[int, bytes]:
    kind = "Sender" if status < 500 else "Receiver"
    body = (
        f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, body.encode("utf-8")


# --- faults ----------------------------------------------------------------------------------

_RESPONSE_FAULTS = frozenset(
    {"error", "throttle", "html", "empty", "garbage", "oversize", "gzip-bomb"}
)
_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>proxy</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def _fault_response(fault: Fault, request_id: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """The response for an HTTP-level fault; adjusts ``headers`` in place."""
    kind = fault.kind
    if kind in ("error", "throttle"):
        if fault.retry_after_ms is not None:
            headers["x-amz-retry-after"] = str(fault.retry_after_ms)
        return _error(fault.status, fault.code or "InternalError", fault.message, request_id)
    if kind in ("html", "empty"):
        # A proxy answered, not CloudFront: no request id.
        del headers["x-amz-request-id"]
        if kind == "empty":
            del headers["content-type"]
            return fault.status, b""
        import http.client

        headers["content-type"] = "text/html"
        reason = http.client.responses.get(fault.status, "Error")
        return fault.status, _HTML_PAGE.format(status=fault.status, reason=reason).encode()
    if kind == "garbage":
        return fault.status, b"\x00\xff{not: 'xml'} <<<>>> \xe2\x98"
    if kind == "oversize":
        head = f'<?xml version="1.0"?>\n<InvalidationList xmlns="{NAMESPACE}">'.encode()
        return 200, head + b" " * fault.size + b"</InvalidationList>"
    headers["content-encoding"] = "gzip"
    return 200, _gzip_zeros(fault.size)


@functools.lru_cache(maxsize=4)
def _gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed without ever holding them all."""
    import zlib

    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    out = []
    remaining = size
    while remaining > 0:
        piece = block if remaining >= len(block) else block[:remaining]
        out.append(compressor.compress(piece))
        remaining -= len(piece)
    out.append(compressor.flush())
    return b"".join(out)
