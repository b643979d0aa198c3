"""Watching invalidations until they complete: a flow (no I/O, no real clock).

The flow polls the listing with :func:`~cfinval._flow.pages_flow`, sleeps between polls with
``Sleep`` effects and measures its deadline with the session's monotonic clock, so one
implementation serves ``Client`` and ``AsyncClient``, a step of the wall clock moves no
deadline, and tests drive it with a fake clock instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import Any

from attrs import frozen

from .._errors import ParamValidationError, WaitTimeoutError
from .._models import InvalidationList, InvalidationSummary
from .call import Session
from .effects import Flow, Sleep, StopForwarding, forward
from .pagination import PaginationPlan, PaginationState, pages_flow
from .timeouts import format_duration, seconds

__all__ = ["COMPLETED", "WaitPlan", "wait_flow"]

log = logging.getLogger("cfinval")

COMPLETED = "Completed"


@frozen
class WaitPlan:
    """Validated arguments of ``wait_until_completed`` (checked before any I/O)."""

    tenant_id: str
    invalidation_ids: tuple[str, ...] | None
    poll: float
    timeout: float | None
    page_size: int | None

    @classmethod
    def create(
        cls,
        tenant_id: object,
        invalidation_ids: object,
        poll: object,
        timeout: object,
        page_size: object = None,
    ) -> WaitPlan:
        listing = PaginationPlan.create(tenant_id, page_size, None, None)
        ids: tuple[str, ...] | None = None
        if invalidation_ids is not None:
            if isinstance(invalidation_ids, (str, bytes)) or not isinstance(
                invalidation_ids, Iterable
            ):
                raise ParamValidationError(
                    "invalidation_ids must be a collection of invalidation Ids (a list, a "
                    f"tuple, ...), not {type(invalidation_ids).__name__}"
                )
            unique: dict[str, None] = {}
            for value in invalidation_ids:
                if not isinstance(value, str) or not value:
                    raise ParamValidationError(
                        f"invalidation_ids must hold non-empty str Ids, got {value!r}"
                    )
                unique[value] = None
            ids = tuple(unique)
        return cls(
            listing.tenant_id,
            ids,
            seconds("poll", poll, allow_zero=False),
            None if timeout is None else seconds("timeout", timeout, allow_zero=True),
            listing.page_size,
        )


def _scan(
    session: Session, plan: WaitPlan, wanted: frozenset[str] | None
) -> Generator[Any, Any, dict[str, InvalidationSummary]]:
    """Read the listing newest first and return what it shows, by Id.

    With ``wanted``, stop as soon as every wanted Id has been seen. Without (discovery), read
    the whole listing: it is sorted by creation time, not by completion, so an older
    invalidation can still be in progress behind a page of completed ones.
    """
    listing = PaginationPlan(plan.tenant_id, plan.page_size, None, None, 0)
    found: dict[str, InvalidationSummary] = {}

    def take(page: InvalidationList) -> None:
        for item in page.items:
            found.setdefault(item.id, item)
        if wanted is not None and wanted.issubset(found):
            raise StopForwarding

    yield from forward(pages_flow(session, listing, PaginationState()), take)
    return found


def wait_flow(session: Session, plan: WaitPlan) -> Flow[tuple[InvalidationSummary, ...]]:
    """Poll until every watched invalidation is ``Completed``; return their last summaries.

    Watched: ``plan.invalidation_ids``, or, when ``None``, the invalidations found in progress
    by the first poll. Ids the listing does not show yet stay pending (a just-created
    invalidation may take a moment to be listed). Raises :class:`WaitTimeoutError` when the
    deadline passes first, and whatever the listing raises (``EntityNotFound``, ...).
    """
    # Durations on the monotonic clock: a step of the wall clock moves no deadline.
    started = session.monotonic()
    deadline = None if plan.timeout is None else started + plan.timeout
    watched = plan.invalidation_ids
    if watched == ():
        return ()
    polls = 0
    while True:
        polls += 1
        found = yield from _scan(session, plan, None if watched is None else frozenset(watched))
        if watched is None:
            watched = tuple(i for i, item in found.items() if item.status != COMPLETED)
        pending = tuple(i for i in watched if i not in found or found[i].status != COMPLETED)
        if not pending:
            log.debug("wait: %d invalidation(s) completed after %d poll(s)", len(watched), polls)
            return tuple(found[i] for i in watched)
        now = session.monotonic()
        if deadline is not None and now >= deadline:
            missing = tuple(i for i in pending if i not in found)
            listed = [i for i in pending if i in found]
            said = f"{_ids(listed)} still {_statuses(found, listed)}" if listed else ""
            if missing:  # a typo, another tenant's Id, or not visible yet: say which
                said += ("; " if said else "") + f"never listed: {_ids(missing)}"
            waited = now - started  # on the monotonic clock
            raise WaitTimeoutError(
                f"timed out after {format_duration(waited)} (timeout {plan.timeout:g} s, "
                f"{polls} poll(s)) waiting for {len(pending)} invalidation(s) of tenant "
                f"{plan.tenant_id!r} to complete: {said}",
                pending=pending,
                missing=missing,
                waited=waited,
            )
        delay = plan.poll if deadline is None else min(plan.poll, deadline - now)
        log.debug("wait: %d pending after poll %d; next poll in %.3f s", len(pending), polls, delay)
        yield Sleep(delay)


def _ids(ids: Sequence[str]) -> str:
    return ", ".join(ids[:10]) + (f", ... ({len(ids) - 10} more)" if len(ids) > 10 else "")


def _statuses(found: Mapping[str, InvalidationSummary], ids: Sequence[str]) -> str:
    """``InProgress`` (or whatever the listing said: the statuses seen, in order)."""
    return "/".join(dict.fromkeys(found[i].status for i in ids))
