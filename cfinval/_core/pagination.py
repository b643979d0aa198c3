"""Pagination as flows: tokens, plans, pages and items (no I/O)."""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json

from attrs import evolve

from .._errors import (
    PaginationError,
    ParamValidationError,
)
from .._models import InvalidationList, InvalidationSummary
from .call import Session, list_flow
from .effects import Emit, Flow, forward
from .protocol import ListParams, check_count
from .record import Record

__all__ = [
    "PaginationPlan",
    "PaginationState",
    "decode_token",
    "encode_token",
    "items_flow",
    "pages_flow",
    "seen_index",
]


def encode_token(marker: str | None, truncate_amount: int | None = None) -> str:
    """A resume token in botocore's format.

    Base64 of the JSON ``{"Marker": ...}``, plus ``"boto_truncate_amount": N`` when given
    (botocore's own tokens after a cut inside a page: skip N items of the page at ``Marker``).
    cfinval itself never writes a count: see :func:`pages_flow`.
    """
    token: dict[str, object] = {"Marker": marker}
    if truncate_amount is not None:
        token["boto_truncate_amount"] = truncate_amount
    return base64.b64encode(json.dumps(token).encode("utf-8")).decode("utf-8")


def decode_token(
    token: str, operation: str = "ListInvalidationsForDistributionTenant"
) -> tuple[str | None, int]:
    """``(Marker, items to skip on the first page)`` for a starting token.

    Accepts botocore's base64 JSON tokens and, like botocore, falls back to its older
    ``marker___N`` form, where anything else is taken as a raw ``Marker``.
    """
    if not isinstance(token, str):
        raise ParamValidationError(f"starting_token must be a str, not {type(token).__name__}")
    try:
        decoded = json.loads(base64.b64decode(token.encode("utf-8")).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):  # nested too deep
        decoded = None
    if not isinstance(decoded, dict):
        return _decode_legacy_token(token)
    unknown = set(decoded) - {"Marker", "boto_truncate_amount"}
    marker = decoded.get("Marker")
    skip = decoded.get("boto_truncate_amount", 0)
    if unknown or "Marker" not in decoded:
        raise ParamValidationError(
            f"starting_token is not a {operation} token (keys: {sorted(decoded)})"
        )
    if marker is not None and not isinstance(marker, str):
        raise ParamValidationError("starting_token has a Marker that is not a string")
    if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise ParamValidationError("starting_token has an invalid boto_truncate_amount")
    return (marker if marker not in ("", "None") else None), skip


def _decode_legacy_token(token: str) -> tuple[str | None, int]:
    parts = token.split("___")
    skip = 0
    if len(parts) == 2:
        try:
            skip = int(parts[1])
            parts = parts[:1]
        except ValueError:
            parts = [token]
    else:
        parts = [token]
    marker = parts[0]
    if skip < 0:
        raise ParamValidationError("starting_token has a negative item count")
    return (None if marker in ("None", "") else marker), skip


class PaginationState(Record):
    """What the caller can read while (and after) iterating."""

    __slots__ = ("pages", "resume_token")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self, resume_token: str | None = None, pages: int = 0) -> None:
        self.resume_token = resume_token
        self.pages = pages


Since = str | _dt.datetime


def _validate_since(since: object) -> Since | None:
    if since is None:
        return None
    if isinstance(since, _dt.datetime):
        if since.tzinfo is None or since.utcoffset() is None:
            raise ParamValidationError("since must be an aware datetime (for example in UTC)")
        return since
    if isinstance(since, str):
        if not since:
            raise ParamValidationError("since must not be an empty invalidation Id")
        return since
    raise ParamValidationError(
        f"since must be an invalidation Id (str) or an aware datetime, not {type(since).__name__}"
    )


def seen_index(items: tuple[InvalidationSummary, ...], since: Since) -> int | None:
    """Index of the first item of a newest-first page that was already seen, or ``None``.

    ``since`` is either the Id of the newest invalidation seen before, or a datetime: every
    invalidation created at or before it counts as seen.
    """
    if isinstance(since, str):
        for index, item in enumerate(items):
            if item.id == since:
                return index
        return None
    for index, item in enumerate(items):
        if item.create_time <= since:
            return index
    return None


class PaginationPlan(Record):
    """Validated pagination arguments (validated eagerly, before any I/O).

    ``since`` (an invalidation Id or an aware datetime) ends the listing at the first
    invalidation already seen: results are newest first, so everything after it is older.
    """

    __slots__ = ("marker", "max_items", "page_size", "since", "skip", "tenant_id")

    def __init__(
        self,
        tenant_id: str,
        page_size: int | None,
        max_items: int | None,
        marker: str | None,
        skip: int,
        since: Since | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.page_size = page_size
        self.max_items = max_items
        self.marker = marker
        self.skip = skip
        self.since = since

    @classmethod
    def create(
        cls,
        tenant_id: object,
        page_size: object,
        max_items: object,
        starting_token: object,
        since: object = None,
    ) -> PaginationPlan:
        size = None if page_size is None else check_count("page_size", page_size)
        most = None if max_items is None else check_count("max_items", max_items)
        params = ListParams.validate(tenant_id, None, size)
        marker, skip = (None, 0) if starting_token is None else decode_token(starting_token)  # type: ignore[arg-type]
        if marker is not None:
            ListParams.validate(tenant_id, marker, page_size)
        return cls(params.id, size, most, marker, skip, _validate_since(since))


def pages_flow(session: Session, plan: PaginationPlan, state: PaginationState) -> Flow[None]:
    """Emit pages until the listing ends or ``max_items`` items have been emitted.

    Pages and cuts are botocore's ``PageIterator``'s, and raises :class:`PaginationError` when
    the service hands back a marker already followed. With ``plan.since``, the page holding the
    first invalidation already seen is emitted cut just before it, and no further page is
    requested.

    The resume token after a ``max_items`` cut names where the listing stopped: ``{"Marker":
    <the last Id handed out>}`` (any Id is a valid ``Marker``: the service continues after
    it). botocore's token after a cut inside a page is ``{"Marker": <the page's marker>,
    "boto_truncate_amount": N}`` instead, which skips N items on resuming, and so skips or
    repeats items when invalidations were created in between (they arrive at the head, newest
    first). Ours is plain botocore format, so boto3 and the AWS CLI resume from it exactly, and
    their tokens work here.
    """
    marker = plan.marker
    seen: set[str | None] = {marker}
    total = 0
    first = True
    while True:
        page = yield from list_flow(session, ListParams(plan.tenant_id, marker, plan.page_size))
        state.pages += 1
        items = page.items
        if first and plan.skip:
            items = items[plan.skip :]  # botocore's token after a cut inside a page
        first = False
        reached_seen = False
        if plan.since is not None:
            cut = seen_index(items, plan.since)
            if cut is not None:
                items = items[:cut]
                reached_seen = True
        if plan.max_items is not None and total + len(items) > plan.max_items:
            # total < max_items here (an exact fill stops on the page boundary below), so at
            # least one item is kept, and its Id is where the listing resumes.
            kept = items[: plan.max_items - total]
            state.resume_token = encode_token(kept[-1].id)
            yield Emit(evolve(page, items=kept))
            return
        yield Emit(page if items is page.items else evolve(page, items=items))
        total += len(items)
        next_marker = page.next_marker
        if reached_seen:
            return
        if not next_marker:
            if page.is_truncated:
                # Stopping here would hand back a partial listing as if it were complete.
                raise PaginationError(
                    f"the service said the listing of tenant {plan.tenant_id!r} is truncated "
                    "but sent no NextMarker to continue it"
                )
            return
        if plan.max_items is not None and total == plan.max_items:
            state.resume_token = encode_token(next_marker)
            return
        if next_marker in seen:
            raise PaginationError(
                f"the service returned NextMarker {next_marker!r} twice for tenant "
                f"{plan.tenant_id!r}; stopping instead of looping"
            )
        seen.add(next_marker)
        marker = next_marker


def items_flow(session: Session, plan: PaginationPlan, state: PaginationState) -> Flow[None]:
    """Emit each :class:`InvalidationSummary` of the listing."""

    def items(page: InvalidationList) -> tuple[InvalidationSummary, ...]:
        return page.items

    yield from forward(pages_flow(session, plan, state), items)
