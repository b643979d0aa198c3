"""Value types of the tenant workflow: one invalidation (create, get, wait) and what the deploy
step reports per tenant and in all.

Frozen attrs classes, as in ``_models``; a module of their own so that a listing's cold start
does not build them (``cfinval`` imports this module when one of its names is first used).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from attrs import field, frozen

from ._errors import Error

__all__ = ["Invalidation", "InvalidationBatch", "InvalidationReport", "TenantInvalidation"]


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
