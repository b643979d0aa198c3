"""The flows: one call (sign, send, retry, parse) and a paginated listing. No I/O here.

See ``_effects`` for the effect protocol. Drivers live in ``_client``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import sys
import time
from collections.abc import Callable

from .._credentials import CredentialResolver
from .._errors import (
    CloudFrontError,
    ResponseParseError,
    TransportError,
)
from .._models import InvalidationList
from .effects import Flow, Send, Sleep, TransportFailure
from .http import HttpResponse
from .metadata import CallMeta, ClientMeta
from .protocol import Endpoint, ListParams, parse_response, sign
from .record import Record
from .retry import EXPIRED_TOKEN_CODES, RetryStrategy, StandardRetry, is_throttling, skew_correction

__all__ = ["Session", "call_flow", "list_flow"]

log = logging.getLogger("cfinval")


class Session(Record):
    """What the flows of one client share: endpoint, credentials, retry state, clock.

    ``clock_offset`` is the seconds to add to ``clock()`` so that our signatures use the
    service's idea of now. ``meta`` is what requests carry besides the signature (User-Agent,
    read timeout for ``amz-sdk-request``'s ``ttl``). ``tracing``: each call is an
    OpenTelemetry span when the application uses OpenTelemetry (see ``trace``).
    """

    __slots__ = ("clock", "clock_offset", "credentials", "endpoint", "meta", "retry", "tracing")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: CredentialResolver,
        retry: RetryStrategy | None = None,
        clock: Callable[[], float] = time.time,
        clock_offset: float = 0.0,
        meta: ClientMeta | None = None,
        tracing: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.retry: RetryStrategy = StandardRetry() if retry is None else retry
        self.clock = clock
        self.clock_offset = clock_offset
        self.meta = ClientMeta() if meta is None else meta
        self.tracing = tracing

    def now(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.clock() + self.clock_offset, _dt.timezone.utc)


def list_flow(session: Session, params: ListParams) -> Flow[InvalidationList]:
    """One ``ListInvalidationsForDistributionTenant`` call: :func:`call_flow`, traced.

    The call is one OpenTelemetry span (retries included) when the session traces and the
    application has imported the OpenTelemetry API: only code that did can have configured a
    tracer provider, so without it nothing of OpenTelemetry is imported, here or anywhere.
    """
    flow = call_flow(session, params)
    if session.tracing and sys.modules.get("opentelemetry.trace") is not None:
        from .trace import traced_call

        return traced_call(flow, session.endpoint, session.meta.region)
    return flow


def call_flow(session: Session, params: ListParams) -> Flow[InvalidationList]:
    """One ``ListInvalidationsForDistributionTenant`` call, with retries and skew correction.

    Every attempt is signed afresh (with the corrected clock). Backoff and rate-limiter waits
    are ``Sleep`` effects. The result (or the raised error) carries the attempt count.
    """
    credentials = yield from session.credentials.get()
    retry = session.retry
    limiter = retry.limiter
    max_attempts = retry.max_attempts
    call = CallMeta(session.meta, retry.mode, max_attempts)
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
        request = sign(session.endpoint, params, credentials, session.now(), call, attempt)
        outcome = yield Send(request)
        call.received(outcome)
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
