"""A fake CloudFront that serves the tenant invalidation workflow from memory.

Operations: ``ListInvalidationsForDistributionTenant``, ``CreateInvalidationForDistributionTenant``,
``GetInvalidationForDistributionTenant`` (see ``_invalidations``), ``ListDistributionTenants``
and ``ListDistributionTenantsByCustomization`` (see ``_tenants``).

The core (:meth:`FakeCloudFront.handle`) maps a raw request (method, target as sent, headers,
body) to ``(status, headers, body)``; :meth:`FakeCloudFront.transport` serves it through an
``httpx.MockTransport`` and :meth:`FakeCloudFront.serve` as a real HTTP server on loopback.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httpx
from attrs import define, field

from .._config import is_region_name
from .._core import sigv4 as _sigv4
from .._core.protocol import SERVICE
from .._models import Credentials, InvalidationSummary
from ._faults import OPERATIONS, FakeReply, Fault, FaultRule
from ._invalidations import CreateResult, InFlight, Limits, Schedule
from ._invalidations import create as _create_invalidation
from ._invalidations import get as _get_invalidation
from ._replies import RESPONSE_FAULTS as _RESPONSE_FAULTS
from ._replies import error as _error
from ._replies import fault_response as _fault_response
from ._replies import gzip_zeros as _gzip_zeros
from ._replies import list_xml as _list_xml
from ._tenants import DEFAULT_DISTRIBUTION_ID, configure, list_tenants
from ._tenants import Tenant as _Tenant
from ._transport import (
    MAX_RECORDED,
    RecordedRequest,
    _credentials_tuple,
    _RequestLog,
    mock_transport,
)
from ._transport import route as _route

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

_LOCATION = "https://cloudfront.amazonaws.com"
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<day>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*"
    r"Signature=(?P<sig>[0-9a-f]{64})$"
)
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


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
        # botocore sends no x-amz-content-sha256 to CloudFront: the hash is of the body itself.
        payload_sha256=_sigv4.payload_hash(request.body),
    )
    if expected != auth:
        return (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    return None


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

    Tenants belong to a distribution and a connection group (``add_tenant``'s
    ``distribution_id``, ``connection_group_id``). Invalidations created through the API go
    ``InProgress`` -> ``Completed`` after ``complete_after`` seconds of ``clock`` or after
    ``complete_after_gets`` Gets; ``max_paths_in_progress`` and ``max_wildcards_in_progress``
    are the per-distribution in-flight limits (3,000 and 15). All four can be changed at any
    time. A reused ``CallerReference`` with the same paths returns the earlier invalidation.
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
    #: Seconds of ``clock`` after which a created invalidation is ``Completed`` (``None``: never).
    complete_after: float | None = 30.0
    #: How many Gets see a created invalidation ``InProgress`` before one sees it ``Completed``.
    complete_after_gets: int | None = None
    max_paths_in_progress: int = 3000
    max_wildcards_in_progress: int = 15
    _tenants: dict[str, _Tenant] = field(factory=dict, repr=False)
    _inflight: InFlight = field(factory=InFlight, repr=False)
    _operation_counts: dict[str, int] = field(factory=dict, repr=False)
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

    def add_tenant(
        self,
        tenant_id: str,
        *,
        access_denied: bool = False,
        distribution_id: str | None = None,
        connection_group_id: str | None = None,
        name: str | None = None,
        domains: Iterable[str | Mapping[str, str]] | None = None,
        customizations: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
        status: str | None = None,
        created_time: _dt.datetime | None = None,
    ) -> None:
        """Add a tenant (or change the given attributes of an existing one).

        A new tenant belongs to ``distribution_id`` (default :data:`DEFAULT_DISTRIBUTION_ID`)
        and ``connection_group_id`` (default :data:`DEFAULT_CONNECTION_GROUP_ID`); ``domains``
        are names or boto3's ``{"Domain", "Status"}``, ``customizations`` boto3's
        ``Customizations`` (``WebAcl``, ``Certificate``, ``GeoRestrictions``).
        """
        with self._lock:
            self._tenants[tenant_id] = configure(
                self._tenants.get(tenant_id),
                tenant_id,
                self.now(),
                access_denied=access_denied,
                distribution_id=distribution_id,
                connection_group_id=connection_group_id,
                name=name,
                domains=domains,
                customizations=customizations,
                enabled=enabled,
                status=status,
                created_time=created_time,
            )

    def remove_tenant(self, tenant_id: str) -> None:
        with self._lock:
            tenant = self._tenants.pop(tenant_id, None)
            for invalidation_id in tenant.batches if tenant is not None else ():
                self._inflight.discard(invalidation_id)  # its invalidations no longer count

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
            if tenant_id not in self._tenants:
                self.add_tenant(tenant_id)
            tenant = self._tenants[tenant_id]
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
                    self._pin(tenant, invalidation_id, status)
                    return
            raise LookupError(f"tenant {tenant_id!r} has no invalidation {invalidation_id!r}")

    def _tenant(self, tenant_id: str) -> _Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise LookupError(f"the fake has no tenant {tenant_id!r}")
        return tenant

    def _pin(self, tenant: _Tenant, invalidation_id: str, status: str) -> None:
        """A created invalidation given a status by hand leaves its schedule."""
        batch = tenant.batches.get(invalidation_id)
        if batch is not None:
            batch.scheduled = False
            if status == "InProgress":
                self._inflight.add(tenant, batch)
            else:
                self._inflight.discard(invalidation_id)

    def seed_tenants(
        self,
        count: int,
        *,
        invalidations: int = 5,
        prefix: str = "dt_",
        distribution_id: str | None = None,
        connection_group_id: str | None = None,
    ) -> list[str]:
        """Add ``count`` tenants with ``invalidations`` each (of ``distribution_id`` and
        ``connection_group_id``, defaults as :meth:`add_tenant`'s); return their Ids."""
        ids = []
        base = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
        for n in range(count):
            tenant_id = f"{prefix}{n:06d}{self.new_invalidation_id()[1:9].lower()}"
            self.add_tenant(
                tenant_id,
                distribution_id=distribution_id,
                connection_group_id=connection_group_id,
                created_time=base + _dt.timedelta(seconds=n),
            )
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
            self._advance()
            items = list(reversed(self._tenant(tenant_id).invalidations))
        return sorted(items, key=lambda item: item.create_time, reverse=True)

    def tenants(self, distribution_id: str | None = None) -> list[str]:
        """The Ids of every tenant (of ``distribution_id``), in the order they were added."""
        with self._lock:
            return [
                tenant.id
                for tenant in self._tenants.values()
                if distribution_id is None or tenant.distribution_id == distribution_id
            ]

    def distributions(self) -> list[str]:
        """The Ids of the distributions the tenants belong to, sorted."""
        with self._lock:
            return sorted({tenant.distribution_id for tenant in self._tenants.values()})

    def invalidation_paths(self, tenant_id: str, invalidation_id: str) -> tuple[str, ...]:
        """The paths of an invalidation created through the API."""
        with self._lock:
            batch = self._tenant(tenant_id).batches.get(invalidation_id)
        if batch is None:
            raise LookupError(
                f"tenant {tenant_id!r} has no created invalidation {invalidation_id!r}"
            )
        return batch.paths

    def in_progress(self, distribution_id: str = DEFAULT_DISTRIBUTION_ID) -> tuple[int, int]:
        """``(paths, wildcard paths)`` in progress on a distribution, as the limits count them."""
        with self._lock:
            self._advance()
            return self._inflight.load(distribution_id)

    def _advance(self) -> None:
        self._inflight.advance(
            Schedule(self.complete_after, self.complete_after_gets), self.clock()
        )

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
        operation: str | None = None,
    ) -> FaultRule:
        """Inject ``fault`` into requests ``start, start + every, ...`` (``count`` at most),
        of ``operation`` only if given (numbered among themselves).

        ``fault`` may also be a ready :class:`FaultRule` or its spec string (see
        :meth:`FaultRule.parse`), in which case the keyword arguments are not used. Rules are
        checked in the order added; the first that matches a request applies.
        """
        if isinstance(fault, str):
            rule = FaultRule.parse(fault)
        elif isinstance(fault, FaultRule):
            rule = fault
        else:
            rule = FaultRule(fault, every=every, start=start, count=count, operation=operation)
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
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        """Serve one request. ``target`` is the path and query exactly as sent.

        Connection-level faults cannot be expressed as a response: use :meth:`respond`.
        """
        reply = self.respond(method, target, headers, body)
        return reply.status, dict(reply.headers), reply.body

    def respond(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> FakeReply:
        """Serve one request, faults included.

        A ``reset`` or ``cut`` fault acts after the request was served: an invalidation it
        creates exists though the client never reads the 201 (a lost response).
        """
        operation = _route(method, _split_target(target)[0])[0]
        with self._lock:
            self._served += 1
            number = self._served
            nth = None
            if operation is not None:
                nth = self._operation_counts[operation] = (
                    self._operation_counts.get(operation, 0) + 1
                )
            request_id = f"fake-{number:08d}-{self._rng.getrandbits(32):08x}"
            fault = next(
                (rule.fault for rule in self.faults if rule.matches(number, operation, nth)), None
            )
            request = RecordedRequest(
                method,
                target,
                {k.lower(): v for k, v in headers.items()},
                None if fault is None else fault.kind,
                bytes(body),
                operation,
            )
            self.requests.append(request)
        now = self.clock() + (fault.seconds if fault is not None and fault.kind == "skew" else 0)
        out_headers = {
            "x-amz-request-id": request_id,
            "content-type": "text/xml",
            "date": email.utils.formatdate(now, usegmt=True),
        }
        if fault is not None and fault.kind in _RESPONSE_FAULTS:
            status, answer = _fault_response(fault, request_id, out_headers)
        else:
            rewind = fault is not None and fault.kind == "rewind"
            status, answer = self._dispatch(request, request_id, now, rewind, out_headers)
        return FakeReply(
            status,
            out_headers,
            answer,
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
        self,
        request: RecordedRequest,
        request_id: str,
        now: float,
        rewind: bool = False,
        out_headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        path, query = _split_target(request.target)
        operation, args, status = _route(request.method, path)
        if operation is None:
            return _error(
                status,
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
        if operation != OPERATIONS[0]:
            with self._lock:
                self._advance()
                reply = self._operate(operation, args, request.body, rewind)
            if isinstance(reply, CreateResult):
                if out_headers is not None:
                    out_headers["location"] = f"{_LOCATION}{path}/{reply.invalidation_id}"
                return reply.status, reply.body
            if len(reply) == 3:
                return _error(*reply, request_id)
            return reply
        tenant_id = args[0]
        params = dict(query)
        with self._lock:
            tenant = self._tenants.get(tenant_id)
            if tenant is None:
                return _error(*_no_tenant(tenant_id), request_id)
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

    def _operate(
        self, operation: str, args: tuple[str, ...], body: bytes, rewind: bool
    ) -> CreateResult | tuple[int, bytes] | tuple[int, str, str]:
        """The operations other than the invalidation listing (the lock held)."""
        if operation in OPERATIONS[3:]:
            return list_tenants(
                list(self._tenants.values()),
                body,
                by_customization=operation == OPERATIONS[4],
                default_page_size=self.default_page_size,
                max_page_size=self.max_page_size,
                rewind=rewind,
            )
        tenant = self._tenants.get(args[0])
        if tenant is None:
            return _no_tenant(args[0])
        if tenant.access_denied:
            return 403, "AccessDenied", "Access denied."
        if operation == OPERATIONS[2]:
            schedule = Schedule(self.complete_after, self.complete_after_gets)
            return _get_invalidation(tenant, args[1], self._inflight, schedule)
        return _create_invalidation(
            tenant,
            body,
            inflight=self._inflight,
            limits=Limits(self.max_paths_in_progress, self.max_wildcards_in_progress),
            now=self.clock(),
            new_id=self.new_invalidation_id,
        )

    # -- I/O adapters ----------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An ``httpx.MockTransport`` serving this fake (sync and async httpx clients alike)."""

        return mock_transport(self)

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


def _no_tenant(tenant_id: str) -> tuple[int, str, str]:
    return 404, "EntityNotFound", f"The distribution tenant {tenant_id} does not exist."


def _check_time(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, _dt.datetime) or value.tzinfo is None):
        raise TypeError(f"{name} must be an aware datetime (e.g. with tzinfo=UTC)")


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty str, got {value!r}")
