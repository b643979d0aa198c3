"""The fake's invalidations of tenants: creating them (``CreateInvalidationForDistributionTenant``),
reading them back (``GetInvalidationForDistributionTenant``), their schedule and the
per-distribution in-flight limits.

An invalidation created through the API starts ``InProgress`` and becomes ``Completed`` once
``complete_after`` seconds of the fake's clock have passed since its creation, or once it has
been read ``complete_after_gets`` times by ``GetInvalidationForDistributionTenant`` (the next
Get sees it ``Completed``); either may be ``None`` (never by that rule). Both are read when a
request arrives, so changing them on a running fake takes effect at once. Invalidations added
with :meth:`~cfinval.testing.FakeCloudFront.add_invalidation` keep the status they were given.

Limits per distribution (all its tenants together), as CloudFront's: at most
``max_paths_in_progress`` paths (3,000) and ``max_wildcards_in_progress`` wildcard paths (15) in
invalidations still ``InProgress``; a batch that would go past them answers 400
``TooManyInvalidationsInProgress``, a batch larger than a limit on its own 413 ``BatchTooLarge``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attrs import define

from .._models import InvalidationSummary
from ._replies import invalidation_xml
from ._tenants import BodyError, Tenant, parse_body

__all__ = [
    "Batch",
    "CreateResult",
    "InFlight",
    "Limits",
    "Schedule",
    "create",
    "get",
    "parse_batch",
    "replace_status",
]

#: What a path may not contain (CloudFront refuses control characters).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_PATH = 4000
_MAX_TAG = 256
_MAX_REFERENCE = 128


@define
class Batch:
    """An invalidation's batch and where it is in its schedule."""

    tenant_id: str
    invalidation_id: str
    paths: tuple[str, ...]
    caller_reference: str
    #: The fake's clock (seconds) when it was created.
    created_at: float
    #: Whether the schedule moves it (``set_status`` pins it where it is told).
    scheduled: bool = True
    gets: int = 0

    @property
    def wildcards(self) -> int:
        return sum(1 for path in self.paths if "*" in path and not path.startswith("#"))


@define
class Schedule:
    """When invalidations created through the API complete (see the module's docstring)."""

    complete_after: float | None = 30.0
    complete_after_gets: int | None = None


class InFlight:
    """The batches still ``InProgress``, by invalidation Id, with the tenants they belong to."""

    def __init__(self) -> None:
        self.batches: dict[str, tuple[Tenant, Batch]] = {}

    def add(self, tenant: Tenant, batch: Batch) -> None:
        self.batches[batch.invalidation_id] = (tenant, batch)

    def discard(self, invalidation_id: str) -> None:
        self.batches.pop(invalidation_id, None)

    def load(self, distribution_id: str) -> tuple[int, int]:
        """``(paths, wildcard paths)`` in progress on a distribution."""
        paths = wildcards = 0
        for tenant, batch in self.batches.values():
            if tenant.distribution_id == distribution_id:
                paths += len(batch.paths)
                wildcards += batch.wildcards
        return paths, wildcards

    def advance(self, schedule: Schedule, now: float) -> None:
        """Complete every scheduled batch whose time has come."""
        if schedule.complete_after is None:
            return
        due = [
            (tenant, batch)
            for tenant, batch in self.batches.values()
            if batch.scheduled and now - batch.created_at >= schedule.complete_after
        ]
        for tenant, batch in due:
            self.complete(tenant, batch)

    def complete(self, tenant: Tenant, batch: Batch) -> None:
        replace_status(tenant, batch.invalidation_id, "Completed")
        self.discard(batch.invalidation_id)


def replace_status(tenant: Tenant, invalidation_id: str, status: str) -> bool:
    for index, item in enumerate(tenant.invalidations):
        if item.id == invalidation_id:
            tenant.invalidations[index] = InvalidationSummary(item.id, item.create_time, status)
            return True
    return False


def _find(tenant: Tenant, invalidation_id: str) -> InvalidationSummary | None:
    return next((item for item in tenant.invalidations if item.id == invalidation_id), None)


def _reply(tenant: Tenant, item: InvalidationSummary) -> bytes:
    batch = tenant.batches.get(item.id)
    if batch is None:  # added by add_invalidation: a batch CloudFront would have had
        paths: Sequence[str] = ("/*",)
        reference = f"cfinval-fake-{item.id}"
    else:
        paths, reference = batch.paths, batch.caller_reference
    return invalidation_xml(item.id, item.status, item.create_time, paths, reference)


def get(
    tenant: Tenant, invalidation_id: str, inflight: InFlight, schedule: Schedule
) -> tuple[int, bytes] | tuple[int, str, str]:
    """GetInvalidationForDistributionTenant (the schedule already advanced to now)."""
    item = _find(tenant, invalidation_id)
    if item is None:
        return (
            404,
            "NoSuchInvalidation",
            f"The specified invalidation does not exist: {invalidation_id}",
        )
    entry = inflight.batches.get(invalidation_id)
    if entry is not None and entry[1].scheduled and schedule.complete_after_gets is not None:
        batch = entry[1]
        if batch.gets >= schedule.complete_after_gets:
            inflight.complete(tenant, batch)
            item = _find(tenant, invalidation_id) or item
        else:
            batch.gets += 1
    return 200, _reply(tenant, item)


# --- create ----------------------------------------------------------------------------------


def _check_path(path: str) -> str | None:
    """Why CloudFront would refuse ``path``, or ``None``."""
    if not path:
        return "A path must not be empty."
    if _CONTROL.search(path):
        return "A path must not contain control characters."
    if path.startswith("#"):
        if len(path) > _MAX_TAG + 1 or len(path) == 1:
            return f"A cache tag must have 1 to {_MAX_TAG} characters."
        if "*" in path:
            return "A cache tag must not contain wildcards."
        return None
    if not path.startswith("/"):
        return f"The path {path[:100]!r} must start with / (or # for a cache tag)."
    if len(path) > _MAX_PATH:
        return f"A path must have at most {_MAX_PATH} characters."
    return None


def parse_batch(body: bytes) -> tuple[tuple[str, ...], str]:
    """``(paths, caller reference)`` of an ``InvalidationBatch`` body, or :class:`BodyError`."""
    if not body.strip():
        raise BodyError(400, "MissingBody", "This operation requires a body.")
    node = parse_body(body, "InvalidationBatch")
    paths_node = node.get("Paths")
    reference = node.get("CallerReference")
    if not isinstance(paths_node, Mapping):
        raise BodyError(400, "InvalidArgument", "The InvalidationBatch must have Paths.")
    if not isinstance(reference, str) or not reference:
        raise BodyError(
            400, "InvalidArgument", "The InvalidationBatch must have a CallerReference."
        )
    if len(reference) > _MAX_REFERENCE or _CONTROL.search(reference):
        raise BodyError(400, "InvalidArgument", "The CallerReference is not valid.")
    quantity = paths_node.get("Quantity")
    # (at most 9 digits: a longer number is no count of paths, and int() of thousands of
    # digits would raise instead of answering)
    if not isinstance(quantity, str) or not re.fullmatch(r"\s*\d{1,9}\s*", quantity):
        raise BodyError(400, "InvalidArgument", "Paths must have a Quantity (an integer).")
    items_node: Any = paths_node.get("Items")
    if items_node is None:
        raw: list[Any] = []
    elif isinstance(items_node, Mapping) and set(items_node) == {"Path"}:
        found = items_node["Path"]
        raw = found if isinstance(found, list) else [found]
    else:
        raise BodyError(400, "MalformedXML", "Paths Items must hold Path elements only.")
    paths = tuple("" if item is None else item for item in raw)
    if not all(isinstance(path, str) for path in paths):
        raise BodyError(400, "MalformedXML", "A Path must be a text element.")
    if int(quantity) != len(paths):
        raise BodyError(
            400,
            "InconsistentQuantities",
            f"Quantity {int(quantity)} does not match the {len(paths)} Path items.",
        )
    if not paths:
        raise BodyError(
            400, "InvalidArgument", "An invalidation batch must have at least one path."
        )
    for path in paths:
        problem = _check_path(path)
        if problem is not None:
            raise BodyError(400, "InvalidArgument", problem)
    return paths, reference


@define
class CreateResult:
    status: int
    invalidation_id: str
    body: bytes


@define
class Limits:
    paths: int = 3000
    wildcards: int = 15


def create(
    tenant: Tenant,
    body: bytes,
    *,
    inflight: InFlight,
    limits: Limits,
    now: float,
    new_id: Callable[[], str],
) -> CreateResult | tuple[int, str, str]:
    """CreateInvalidationForDistributionTenant on ``tenant`` (which exists and may be used)."""
    try:
        paths, reference = parse_batch(body)
    except BodyError as exc:
        return exc.reply
    earlier_id = tenant.references.get(reference)
    if earlier_id is not None:
        earlier = tenant.batches[earlier_id]
        if earlier.paths != paths:
            return (
                409,
                "InvalidationBatchAlreadyExists",
                f"The CallerReference {reference} was used for another batch of paths.",
            )
        item = _find(tenant, earlier_id)
        if item is not None:
            return CreateResult(201, earlier_id, _reply(tenant, item))
    batch_wildcards = sum(1 for path in paths if "*" in path and not path.startswith("#"))
    if len(paths) > limits.paths or batch_wildcards > limits.wildcards:
        return (
            413,
            "BatchTooLarge",
            f"Invalidation batch specified is too large: at most {limits.paths} paths and "
            f"{limits.wildcards} wildcard paths.",
        )
    in_paths, in_wildcards = inflight.load(tenant.distribution_id)
    if in_paths + len(paths) > limits.paths or in_wildcards + batch_wildcards > limits.wildcards:
        return (
            400,
            "TooManyInvalidationsInProgress",
            "Processing your request will cause you to exceed the maximum number of in-progress "
            f"invalidations: {in_paths} paths ({in_wildcards} with wildcards) in progress on "
            f"distribution {tenant.distribution_id}, limits {limits.paths} ({limits.wildcards}).",
        )
    invalidation_id = new_id()
    created = _dt.datetime.fromtimestamp(int(now * 1000) / 1000, _dt.timezone.utc)
    item = InvalidationSummary(invalidation_id, created, "InProgress")
    batch = Batch(tenant.id, invalidation_id, paths, reference, now)
    tenant.invalidations.append(item)
    tenant.batches[invalidation_id] = batch
    tenant.references[reference] = invalidation_id
    inflight.add(tenant, batch)
    return CreateResult(201, invalidation_id, _reply(tenant, item))
