"""Value types: credentials and the parsed ``InvalidationList``.

All classes are frozen attrs classes. Secrets are excluded from ``repr`` so that a credentials
object can be logged or shown in a traceback without leaking anything.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from attrs import field, frozen

from ._errors import Error, ParamValidationError

__all__ = [
    "Credentials",
    "Invalidation",
    "InvalidationBatch",
    "InvalidationList",
    "InvalidationReport",
    "InvalidationSummary",
    "TenantIdSequence",
    "TenantInvalidation",
    "TenantResult",
]


class TenantIdSequence(Protocol):
    """A sequence of tenant Ids that is not a ``str``: a list, a tuple, any
    ``Sequence[str]``. A ``str`` is a sequence of one-letter strings, and a type checker
    refuses it here (its ``__contains__`` takes only strings). ``list_many`` also takes a set,
    a mapping (its keys), an iterator or a generator of Ids."""

    def __getitem__(self, index: int, /) -> str: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...
    def __contains__(self, value: object, /) -> bool: ...


def _require_str(name: str, value: object, *, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        raise ParamValidationError(f"{name} must be a str, not {type(value).__name__}")
    if not allow_empty and not value:
        raise ParamValidationError(f"{name} must not be empty")


def _require_header_safe(name: str, value: str) -> None:
    """Values sent in headers must be visible ASCII: anything else would make the HTTP layer
    fail with an error that quotes the header, and so the secret. The value is never shown."""
    if not (value.isascii() and value.isprintable()) or value != value.strip() or " " in value:
        raise ParamValidationError(
            f"{name} holds whitespace, control or non-ASCII characters (a stray newline from a "
            "file or variable?); the value is not shown"
        )


@frozen
class Credentials:
    """AWS credentials. ``secret_access_key`` and ``session_token`` never appear in ``repr``.

    ``expiration`` (an aware datetime) marks temporary credentials; ``None`` means they do not
    expire.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False, kw_only=False)
    expiration: _dt.datetime | None = field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        _require_str("access_key_id", self.access_key_id)
        _require_header_safe("access_key_id", self.access_key_id)
        _require_str("secret_access_key", self.secret_access_key)
        try:
            self.secret_access_key.encode("utf-8")
        except UnicodeEncodeError:
            raise ParamValidationError(
                "secret_access_key is not valid Unicode text; the value is not shown"
            ) from None
        if self.session_token is not None:
            _require_str("session_token", self.session_token)
            _require_header_safe("session_token", self.session_token)
        if self.expiration is not None and (
            not isinstance(self.expiration, _dt.datetime) or self.expiration.tzinfo is None
        ):
            raise ParamValidationError("expiration must be an aware datetime or None")


@frozen
class InvalidationSummary:
    """One invalidation batch as listed: its id, when it was created (aware, UTC) and status."""

    id: str
    create_time: _dt.datetime
    status: str

    def to_dict(self) -> dict[str, Any]:
        """The item as boto3 returns it: ``{"Id", "CreateTime", "Status"}``."""
        return {"Id": self.id, "CreateTime": self.create_time, "Status": self.status}

    def to_json_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` with ``CreateTime`` as an ISO 8601 string, as the AWS CLI v2 prints
        it (``2026-01-01T10:00:00.123000+00:00``): ready for ``json.dumps``."""
        return {"Id": self.id, "CreateTime": self.create_time.isoformat(), "Status": self.status}


@frozen
class InvalidationList:
    """One page of ``ListInvalidationsForDistributionTenant``.

    ``items`` is always a tuple (empty when the service sent no ``Items``). ``request_id`` and
    ``attempts`` describe the HTTP exchange that produced the page and take no part in equality.
    """

    marker: str
    max_items: int
    is_truncated: bool
    quantity: int
    items: tuple[InvalidationSummary, ...] = ()
    next_marker: str | None = None
    #: Whether the ``Items`` element was on the wire (boto3 omits the key when it was not).
    items_present: bool = field(default=True, repr=False)
    request_id: str | None = field(default=None, eq=False)
    attempts: int = field(default=1, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """Exactly boto3's ``response["InvalidationList"]`` for the same response bytes
        (``CreateTime`` values are datetimes; see :meth:`to_json_dict` for JSON)."""
        return self._dict(InvalidationSummary.to_dict)

    def to_json_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` ready for ``json.dumps`` (a Lambda handler's return value, a log
        line, an API answer): the same keys, ``CreateTime`` as an ISO 8601 string as the AWS
        CLI v2 prints it. Nothing else differs."""
        return self._dict(InvalidationSummary.to_json_dict)

    def _dict(self, item: Callable[[InvalidationSummary], dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"Marker": self.marker}
        if self.next_marker is not None:
            out["NextMarker"] = self.next_marker
        out["MaxItems"] = self.max_items
        out["IsTruncated"] = self.is_truncated
        out["Quantity"] = self.quantity
        if self.items_present:
            out["Items"] = [item(summary) for summary in self.items]
        return out


@frozen
class InvalidationBatch:
    """What an invalidation asked for: its ``paths`` (URL paths, or ``#`` cache tags) and the
    ``caller_reference`` that makes creating it idempotent.

    ``quantity`` is the ``Paths.Quantity`` the service reported (the number of paths).
    """

    paths: tuple[str, ...]
    caller_reference: str
    quantity: int
    #: Whether ``Paths.Items`` was on the wire (boto3 omits the key when it was not).
    items_present: bool = field(default=True, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """boto3's ``InvalidationBatch``: ``{"Paths": {"Quantity", "Items"}, ...}``."""
        paths: dict[str, Any] = {"Quantity": self.quantity}
        if self.items_present:
            paths["Items"] = list(self.paths)
        return {"Paths": paths, "CallerReference": self.caller_reference}


@frozen
class Invalidation:
    """One invalidation, as ``CreateInvalidationForDistributionTenant`` and
    ``GetInvalidationForDistributionTenant`` return it.

    ``status`` is ``InProgress`` until CloudFront has removed the paths from every edge cache,
    then ``Completed``. ``location`` is the URL of the new invalidation (create only: the
    ``Location`` header). ``location``, ``request_id`` and ``attempts`` describe the HTTP
    exchange and take no part in equality.
    """

    id: str
    status: str
    create_time: _dt.datetime
    invalidation_batch: InvalidationBatch
    location: str | None = field(default=None, eq=False)
    request_id: str | None = field(default=None, eq=False)
    attempts: int = field(default=1, eq=False)

    @property
    def completed(self) -> bool:
        return self.status == "Completed"

    def to_dict(self) -> dict[str, Any]:
        """Exactly boto3's ``response["Invalidation"]`` for the same response bytes
        (``CreateTime`` a datetime; see :meth:`to_json_dict` for JSON)."""
        return {
            "Id": self.id,
            "Status": self.status,
            "CreateTime": self.create_time,
            "InvalidationBatch": self.invalidation_batch.to_dict(),
        }

    def to_json_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` with ``CreateTime`` as an ISO 8601 string (as the AWS CLI v2 prints
        it): ready for ``json.dumps``."""
        out = self.to_dict()
        out["CreateTime"] = self.create_time.isoformat()
        return out


@frozen
class TenantResult:
    """What listing one tenant gave: its ``items`` (newest first) or the ``error``.

    ``items`` is ``None`` when the listing failed (``error`` says why), and when it was only
    counted (``list_many(..., keep_items=False)``): :meth:`counts` then comes from
    ``status_counts``. ``resume_token`` is set when ``max_items_per_tenant`` cut the listing
    short (pass it as ``starting_token`` to go on).
    """

    tenant_id: str
    items: tuple[InvalidationSummary, ...] | None = None
    error: Error | None = None
    resume_token: str | None = None
    #: ``(status, number)`` pairs of a listing counted without keeping its items.
    status_counts: tuple[tuple[str, int], ...] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def counts(self) -> dict[str, int]:
        """Number of invalidations per status, e.g. ``{"Completed": 4, "InProgress": 1}``."""
        if self.items is None and self.status_counts is not None:
            return dict(self.status_counts)
        out: dict[str, int] = {}
        for item in self.items or ():
            out[item.status] = out.get(item.status, 0) + 1
        return out


def _error_dict(error: Error) -> dict[str, str]:
    """An error for a JSON report: the service's code and message (as the AWS CLI names them),
    or the exception's class and text for a failure of ours or of the network."""
    code = getattr(error, "code", None)
    message = getattr(error, "message", None)
    if isinstance(code, str) and isinstance(message, str):
        return {"Code": code, "Message": message}
    return {"Code": type(error).__name__, "Message": str(error)}


@frozen
class TenantInvalidation:
    """What the deploy step (``invalidate_tenants``) did on one tenant.

    ``invalidation`` is the invalidation created (or found: a re-run with the same caller
    reference gets the one made before), ``None`` when the create failed; ``error`` says why
    the tenant failed: the create's error, or (with ``wait=True``) a
    :class:`~cfinval.WaitTimeoutError` or a failed poll, ``invalidation`` then being its last
    known state. ``caller_reference`` is the ``CallerReference`` sent for this tenant.
    """

    tenant_id: str
    caller_reference: str
    invalidation: Invalidation | None = None
    error: Error | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> str:
        """``Completed``, ``InProgress`` (the invalidation's) or ``Failed``."""
        if self.error is not None or self.invalidation is None:
            return "Failed"
        return self.invalidation.status

    def to_json_dict(self) -> dict[str, Any]:
        """``{"DistributionTenantId", "CallerReference", "Status", "Invalidation"?,
        "Error"?: {"Code", "Message"}}``, ready for ``json.dumps``."""
        out: dict[str, Any] = {
            "DistributionTenantId": self.tenant_id,
            "CallerReference": self.caller_reference,
            "Status": self.status,
        }
        if self.invalidation is not None:
            out["Invalidation"] = self.invalidation.to_json_dict()
        if self.error is not None:
            out["Error"] = _error_dict(self.error)
        return out


@frozen
class InvalidationReport:
    """The outcome of a deploy step: every tenant's :class:`TenantInvalidation`, in the order
    they completed. ``caller_reference`` is the prefix of every tenant's ``CallerReference``:
    pass it again to resume (nothing is created twice). ``complete`` is ``False`` when the
    run was left early (not every tenant is reported)."""

    caller_reference: str
    paths: tuple[str, ...]
    results: tuple[TenantInvalidation, ...]
    tenants: int
    complete: bool = True

    @property
    def ok(self) -> bool:
        """Every tenant reported, none failed."""
        return self.complete and all(result.ok for result in self.results)

    @property
    def failed(self) -> tuple[TenantInvalidation, ...]:
        return tuple(result for result in self.results if not result.ok)

    def counts(self) -> dict[str, int]:
        """Tenants per outcome: ``{"Completed": 3, "InProgress": 1, "Failed": 1}``."""
        out: dict[str, int] = {}
        for result in self.results:
            out[result.status] = out.get(result.status, 0) + 1
        return out

    def to_json_dict(self) -> dict[str, Any]:
        """The report as the CLI prints it: ``CallerReference``, ``Paths``, ``Tenants``,
        ``Counts``, ``Complete`` and ``Results`` (each :meth:`TenantInvalidation.to_json_dict`)."""
        return {
            "CallerReference": self.caller_reference,
            "Paths": list(self.paths),
            "Tenants": self.tenants,
            "Counts": self.counts(),
            "Complete": self.complete,
            "Results": [result.to_json_dict() for result in self.results],
        }
