"""The flows: one call (sign, send, retry, parse) and a paginated listing. No I/O here.

See ``_effects`` for the effect protocol. Drivers live in ``_client``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import logging
import time
from collections.abc import Callable

from attrs import evolve

from ._credentials import EXPIRED_TOKEN_CODES, CredentialResolver
from ._effects import Emit, Flow, Send, Sleep, TransportFailure
from ._errors import (
    CloudFrontError,
    PaginationError,
    ParamValidationError,
    ResponseParseError,
    TransportError,
)
from ._models import InvalidationList, InvalidationSummary
from ._protocol import Endpoint, HttpResponse, ListParams, parse_response, sign
from ._record import Record
from ._retry import RetryStrategy, StandardRetry, is_throttling, skew_correction

__all__ = [
    "PaginationPlan",
    "PaginationState",
    "Session",
    "decode_token",
    "encode_token",
    "items_flow",
    "list_flow",
    "pages_flow",
    "seen_index",
]

log = logging.getLogger("cfinval")


class Session(Record):
    """What the flows of one client share: endpoint, credentials, retry state, clock.

    ``clock_offset`` is the seconds to add to ``clock()`` so that our signatures use the
    service's idea of now.
    """

    __slots__ = ("clock", "clock_offset", "credentials", "endpoint", "retry")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: CredentialResolver,
        retry: RetryStrategy | None = None,
        clock: Callable[[], float] = time.time,
        clock_offset: float = 0.0,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.retry: RetryStrategy = StandardRetry() if retry is None else retry
        self.clock = clock
        self.clock_offset = clock_offset

    def now(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.clock() + self.clock_offset, _dt.timezone.utc)


def list_flow(session: Session, params: ListParams) -> Flow[InvalidationList]:
    """One ``ListInvalidationsForDistributionTenant`` call, with retries and skew correction.

    Every attempt is signed afresh (with the corrected clock). Backoff and rate-limiter waits
    are ``Sleep`` effects. The result (or the raised error) carries the attempt count.
    """
    credentials = yield from session.credentials.get()
    retry = session.retry
    limiter = retry.limiter
    max_attempts = retry.max_attempts
    attempt = 0
    last_cost = 0
    refreshed = False
    while True:
        attempt += 1
        if limiter is not None:
            wait = limiter.send_delay()
            if wait > 0:
                log.debug("attempt %d: client-side rate limit, waiting %.3f s", attempt, wait)
                yield Sleep(wait)
        request = sign(session.endpoint, params, credentials, session.now())
        outcome = yield Send(request)
        if isinstance(outcome, TransportFailure):
            if limiter is not None:
                limiter.observe(False)
            log.debug(
                "attempt %d/%d: network failure (%s): %s",
                attempt,
                max_attempts,
                outcome.kind,
                type(outcome.error).__name__,
            )
            decision = None if outcome.kind == "local" else retry.decide(attempt, None, None)
            if decision is None:
                log.debug("attempt %d/%d: giving up", attempt, max_attempts)
                # An error the request itself caused (h11 refusing a header) quotes the
                # offending header: name the error only, never its text.
                detail = "" if outcome.kind == "local" else f": {outcome.error}"
                failure = TransportError(
                    f"request failed after {attempt} attempt(s): "
                    f"{type(outcome.error).__name__}{detail}"
                )
                failure.attempts = attempt
                raise failure from outcome.error
        else:
            assert isinstance(outcome, HttpResponse)
            try:
                page = parse_response(outcome, attempts=attempt)
            except CloudFrontError as exc:
                error = exc
            except ResponseParseError as exc:
                if limiter is not None:
                    limiter.observe(False)
                log.debug(
                    "attempt %d/%d: HTTP %d unparsable body request-id %s (not retried)",
                    attempt,
                    max_attempts,
                    outcome.status_code,
                    outcome.request_id,
                )
                exc.attempts = attempt
                raise
            else:
                if limiter is not None:
                    limiter.observe(False)
                log.debug(
                    "attempt %d/%d: HTTP %d request-id %s",
                    attempt,
                    max_attempts,
                    outcome.status_code,
                    outcome.request_id,
                )
                retry.succeeded(last_cost)
                return page
            error.attempts = attempt
            if limiter is not None:
                limiter.observe(is_throttling(error))
            log.debug(
                "attempt %d/%d: HTTP %d %s request-id %s",
                attempt,
                max_attempts,
                error.status_code,
                error.code,
                error.request_id,
            )
            if error.code in EXPIRED_TOKEN_CODES and not refreshed:
                # The service says our temporary credentials expired (sooner than they said):
                # drop them, load fresh ones once, and try again.
                refreshed = True
                session.credentials.invalidate(credentials)
                credentials = yield from session.credentials.get()
                continue
            offset = skew_correction(
                error, outcome.headers.get("date"), session.clock(), session.clock_offset
            )
            if offset is not None:
                log.debug(
                    "attempt %d: clock skew, server time is %+.0f s from ours; clock corrected",
                    attempt,
                    offset - session.clock_offset,
                )
                session.clock_offset = offset
                if attempt < max_attempts:
                    continue  # re-sign with the corrected clock, at once
                raise error
            decision = retry.decide(attempt, error, outcome.headers.get("x-amz-retry-after"))
            if decision is None:
                log.debug("attempt %d/%d: giving up", attempt, max_attempts)
                raise error
        delay, last_cost = decision
        log.debug("attempt %d failed; sleeping %.3f s before retrying", attempt, delay)
        yield Sleep(delay)


# --- pagination --------------------------------------------------------------------------------


def encode_token(marker: str | None, truncate_amount: int | None = None) -> str:
    """A resume token in botocore's format.

    Base64 of the JSON ``{"Marker": ..., "boto_truncate_amount": N}`` (the count only after a cut
    inside a page).
    """
    token: dict[str, object] = {"Marker": marker}
    if truncate_amount is not None:
        token["boto_truncate_amount"] = truncate_amount
    return base64.b64encode(json.dumps(token).encode("utf-8")).decode("utf-8")


def decode_token(token: str) -> tuple[str | None, int]:
    """``(Marker, items to skip on the first page)`` for a starting token.

    Accepts botocore's base64 JSON tokens and, like botocore, falls back to its older
    ``marker___N`` form, where anything else is taken as a raw ``Marker``.
    """
    if not isinstance(token, str):
        raise ParamValidationError(f"starting_token must be a str, not {type(token).__name__}")
    try:
        decoded = json.loads(base64.b64decode(token.encode("utf-8")).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeError):
        decoded = None
    if not isinstance(decoded, dict):
        return _decode_legacy_token(token)
    unknown = set(decoded) - {"Marker", "boto_truncate_amount"}
    marker = decoded.get("Marker")
    skip = decoded.get("boto_truncate_amount", 0)
    if unknown or "Marker" not in decoded:
        raise ParamValidationError(
            "starting_token is not a ListInvalidationsForDistributionTenant token "
            f"(keys: {sorted(decoded)})"
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
        params = ListParams.validate(tenant_id, None, page_size)
        if max_items is not None and (
            isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1
        ):
            raise ParamValidationError(f"max_items must be a positive int, got {max_items!r}")
        marker, skip = (None, 0) if starting_token is None else decode_token(starting_token)  # type: ignore[arg-type]
        if marker is not None:
            ListParams.validate(tenant_id, marker, page_size)
        return cls(params.id, params.max_items, max_items, marker, skip, _validate_since(since))


def pages_flow(session: Session, plan: PaginationPlan, state: PaginationState) -> Flow[None]:
    """Emit pages until the listing ends or ``max_items`` items have been emitted.

    Mirrors botocore's ``PageIterator`` (so resume tokens are interchangeable), and raises
    :class:`PaginationError` when the service hands back a marker already followed. With
    ``plan.since``, the page holding the first invalidation already seen is emitted cut just
    before it, and no further page is requested.
    """
    marker = plan.marker
    seen: set[str | None] = {marker}
    total = 0
    first = True
    while True:
        page = yield from list_flow(session, ListParams(plan.tenant_id, marker, plan.page_size))
        state.pages += 1
        items = page.items
        skipped = 0
        if first and plan.skip:
            skipped = plan.skip
            items = items[skipped:]
        first = False
        reached_seen = False
        if plan.since is not None:
            cut = seen_index(items, plan.since)
            if cut is not None:
                items = items[:cut]
                reached_seen = True
        if plan.max_items is not None and total + len(items) > plan.max_items:
            keep = plan.max_items - total
            state.resume_token = encode_token(marker, keep + skipped)
            yield Emit(evolve(page, items=items[:keep]))
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
    pages = pages_flow(session, plan, state)
    outcome = None
    while True:
        try:
            effect = pages.send(outcome)
        except StopIteration:
            return
        if isinstance(effect, Emit):
            page: InvalidationList = effect.value
            item: InvalidationSummary
            for item in page.items:
                yield Emit(item)
            outcome = None
        else:
            outcome = yield effect
