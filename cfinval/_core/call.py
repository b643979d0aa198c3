"""One call: sign, send, decide (retry, re-sign after skew, refresh credentials, fail, done).

:func:`decide` is the whole policy of a call, as a function of what the attempt produced and the
call's state; :func:`call_flow` is the loop around it that signs, sends, sleeps and applies the
decisions, for any :class:`~.operation.Operation` (a listing, a create, a get...);
:func:`operation_flow` adds the span. No I/O here: the flow yields effects (see ``effects``)
that a driver performs.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

from .._errors import (
    CloudFrontError,
    Error,
    ResponseParseError,
    TransportError,
)
from .._models import Credentials, InvalidationList
from .effects import Flow, Send, Sleep, TransportFailure
from .http import HttpResponse
from .metadata import CallMeta, ClientMeta
from .operation import Operation, R
from .protocol import Endpoint, ListParams, parse_response, sign
from .record import Record
from .retry import EXPIRED_TOKEN_CODES, RetryStrategy, StandardRetry, is_throttling, skew_correction

__all__ = [
    "DONE",
    "FAIL",
    "REFRESH",
    "RESIGN",
    "RETRY",
    "SKEW_PAUSE",
    "CallState",
    "CredentialSource",
    "Decision",
    "Session",
    "call_flow",
    "decide",
    "list_flow",
    "operation_flow",
]

log = logging.getLogger("cfinval")

#: After servers disagreed about the time, clock-skew correction rests this long (seconds,
#: on the monotonic clock): correcting towards one of them only loses requests to the other.
SKEW_PAUSE = 15 * 60.0


class CredentialSource(Protocol):
    """What a call needs of its credentials (``_credentials.CredentialResolver`` is one): the
    current ones, as a flow, and a way to drop them when the service says they expired."""

    def get(self) -> Flow[Credentials]: ...

    def invalidate(self, stale: Credentials) -> None: ...


class Session(Record):
    """What the flows of one client share: endpoint, credentials, retry state, clocks.

    ``clock`` is the wall clock (POSIX seconds): it dates signatures and is compared with
    credential expiry times. ``monotonic`` measures durations (fan-out cool-downs, wait
    deadlines, the clock-skew pause), so that a step of the wall clock (NTP, a resumed laptop)
    changes no wait. Both are injectable for tests.

    ``clock_offset`` is the seconds added to ``clock()`` when signing, so that signatures use
    the service's idea of now. A new correction is tried first; ``confirmed_offset`` is the
    offset of the last request that succeeded, to fall back to when servers disagree.

    ``meta`` is what requests carry besides the signature (User-Agent, read timeout for
    ``amz-sdk-request``'s ``ttl``). ``tracing``: each call is an OpenTelemetry span when the
    application uses OpenTelemetry (see ``trace``).
    """

    __slots__ = (
        "clock",
        "clock_offset",
        "confirmed_offset",
        "credentials",
        "endpoint",
        "meta",
        "monotonic",
        "retry",
        "skew_paused_until",
        "tracing",
    )
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: CredentialSource,
        retry: RetryStrategy | None = None,
        clock: Callable[[], float] = time.time,
        clock_offset: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
        meta: ClientMeta | None = None,
        tracing: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.retry: RetryStrategy = StandardRetry() if retry is None else retry
        self.clock = clock
        self.clock_offset = clock_offset
        self.monotonic = monotonic
        self.confirmed_offset = clock_offset
        self.skew_paused_until = -math.inf
        self.meta = ClientMeta() if meta is None else meta
        self.tracing = tracing

    def now(self, offset: float | None = None) -> _dt.datetime:
        """The time to sign with: the wall clock plus ``offset`` (default: ``clock_offset``)."""
        shift = self.clock_offset if offset is None else offset
        return _dt.datetime.fromtimestamp(self.clock() + shift, _dt.timezone.utc)


# --- the decision --------------------------------------------------------------------------------

DONE = "done"  # the page arrived: return it
FAIL = "fail"  # raise ``error``
RETRY = "retry"  # sleep ``delay`` seconds, then the next attempt (``cost``: retry quota taken)
RESIGN = "resign"  # the next attempt at once, signed with the corrected clock
REFRESH = "refresh"  # load fresh credentials, then the next attempt at once


class CallState(Record):
    """Where one call stands, as :func:`decide` needs it (the loop keeps it up to date).

    ``offset`` is the clock offset the attempt was signed with; ``confirmed`` the session's
    offset that last worked; ``skew_paused`` whether skew correction is resting;
    ``local_time`` the uncorrected wall clock when the outcome arrived.
    """

    __slots__ = (
        "attempt",
        "confirmed",
        "last_cost",
        "local_time",
        "max_attempts",
        "offset",
        "refreshed",
        "skew_paused",
    )
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(
        self,
        max_attempts: int,
        attempt: int = 0,
        *,
        offset: float = 0.0,
        confirmed: float = 0.0,
        skew_paused: bool = False,
        local_time: float = 0.0,
        refreshed: bool = False,
        last_cost: int = 0,
    ) -> None:
        self.max_attempts = max_attempts
        self.attempt = attempt
        self.offset = offset
        self.confirmed = confirmed
        self.skew_paused = skew_paused
        self.local_time = local_time
        self.refreshed = refreshed
        self.last_cost = last_cost


class Decision(Record):
    """What to do after an attempt; see the action constants above.

    Besides the action: ``offset`` (not ``None``) is the clock offset later attempts sign with,
    ``confirm`` says the offset this attempt used worked, ``pause_skew`` starts a rest of skew
    correction, ``throttled`` is what the adaptive rate limiter should record.
    """

    __slots__ = (
        "action",
        "confirm",
        "cost",
        "delay",
        "error",
        "offset",
        "page",
        "pause_skew",
        "throttled",
    )

    def __init__(
        self,
        action: str,
        *,
        page: Any = None,
        error: Error | None = None,
        delay: float = 0.0,
        cost: int = 0,
        offset: float | None = None,
        confirm: bool = False,
        pause_skew: bool = False,
        throttled: bool = False,
    ) -> None:
        self.action = action
        self.page = page
        self.error = error
        self.delay = delay
        self.cost = cost
        self.offset = offset
        self.confirm = confirm
        self.pause_skew = pause_skew
        self.throttled = throttled


def _transport_decision(
    outcome: TransportFailure, state: CallState, retry: RetryStrategy
) -> Decision:
    attempt, max_attempts = state.attempt, state.max_attempts
    log.debug(
        "attempt %d/%d: network failure (%s): %s",
        attempt,
        max_attempts,
        outcome.kind,
        type(outcome.error).__name__,
    )
    retried = retry.decide(attempt, None, None) if outcome.retryable else None
    if retried is not None:
        return Decision(RETRY, delay=retried[0], cost=retried[1])
    log.debug("attempt %d/%d: giving up", attempt, max_attempts)
    failure = TransportError(
        outcome.aws_message() or f"request failed after {attempt} attempt(s): {outcome.describe()}"
    )
    failure.attempts = attempt
    return Decision(FAIL, error=failure)


def _skew_decision(
    error: CloudFrontError, date: str | None, state: CallState, throttled: bool
) -> Decision | None:
    """Re-sign after a clock-skew error, unless correcting cannot help."""
    corrected = skew_correction(error, date, state.local_time, state.offset)
    if corrected is None:
        return None
    attempt = state.attempt
    action = RESIGN if attempt < state.max_attempts else FAIL
    if state.offset != state.confirmed:
        # A correction not yet confirmed was itself refused as skewed: the servers disagree
        # about the time (one of several behind a load balancer is off). Following each one
        # in turn fails against the other, so go back to the clock that worked and rest.
        log.debug(
            "attempt %d: clock skew again after a correction: servers disagree about the "
            "time; back to the clock that worked, no correction for %.0f s",
            attempt,
            SKEW_PAUSE,
        )
        return Decision(
            action, error=error, offset=state.confirmed, pause_skew=True, throttled=throttled
        )
    if state.skew_paused:
        log.debug("attempt %d: clock skew not corrected: servers disagreed lately", attempt)
        return None
    log.debug(
        "attempt %d: clock skew, server time is %+.0f s from ours; clock corrected",
        attempt,
        corrected - state.offset,
    )
    return Decision(action, error=error, offset=corrected, throttled=throttled)


def decide(
    outcome: HttpResponse | TransportFailure,
    state: CallState,
    retry: RetryStrategy,
    operation: Operation[Any] | None = None,
) -> Decision:
    """What to do after attempt ``state.attempt`` of ``operation`` (default: a listing)
    produced ``outcome``.

    No I/O and no clock: everything comes in through the arguments. The only state it
    changes is the retry quota that ``retry.decide`` draws on; it logs its reasons at DEBUG.

    * the operation's result (a page, an invalidation...): ``DONE`` with it as ``page``
      (``confirm`` when the attempt was signed with a new clock correction);
    * a network failure: ``RETRY`` while the retry strategy allows, else ``FAIL`` with a
      :class:`TransportError` (a request that cannot be sent as built is never retried);
    * an unparsable 2xx body: ``FAIL`` at once;
    * expired temporary credentials: ``REFRESH`` once, if an attempt is left, else ``FAIL``
      with the service's error (never retried with the same credentials);
    * a clock-skew error: ``RESIGN`` with the server's time (``FAIL`` on the last attempt, the
      correction kept for the next call). A correction is kept for good only once a request
      signed with it succeeded: when a corrected attempt is refused as skewed too, the servers
      disagree, and the flow falls back to the offset that worked and rests correction for
      :data:`SKEW_PAUSE` seconds, so it never does worse than not correcting at all;
    * another service error: ``RETRY`` or ``FAIL`` as the retry strategy says.
    """
    if isinstance(outcome, TransportFailure):
        return _transport_decision(outcome, state, retry)
    attempt, max_attempts = state.attempt, state.max_attempts
    try:
        page = parse_response(outcome, attempts=attempt, operation=operation)
    except CloudFrontError as exc:
        error = exc
    except ResponseParseError as exc:
        log.debug(
            "attempt %d/%d: HTTP %d unparsable body request-id %s (not retried)",
            attempt,
            max_attempts,
            outcome.status_code,
            outcome.request_id,
        )
        exc.attempts = attempt
        return Decision(FAIL, error=exc)
    else:
        log.debug(
            "attempt %d/%d: HTTP %d request-id %s",
            attempt,
            max_attempts,
            outcome.status_code,
            outcome.request_id,
        )
        return Decision(DONE, page=page, confirm=state.offset != state.confirmed)
    error.attempts = attempt
    throttled = is_throttling(error)
    log.debug(
        "attempt %d/%d: HTTP %d %s request-id %s",
        attempt,
        max_attempts,
        error.status_code,
        error.code,
        error.request_id,
    )
    if error.code in EXPIRED_TOKEN_CODES:
        # The service says our temporary credentials expired (sooner than they said): load
        # fresh ones and try again, once, and only within max_attempts. (botocore never
        # refreshes on this error: it raises it, after the same number of attempts at most.)
        if not state.refreshed and attempt < max_attempts:
            return Decision(REFRESH, error=error, throttled=throttled)
        log.debug("attempt %d/%d: credentials expired; giving up", attempt, max_attempts)
        return Decision(FAIL, error=error, throttled=throttled)
    skewed = _skew_decision(error, outcome.headers.get("date"), state, throttled)
    if skewed is not None:
        return skewed
    retried = retry.decide(attempt, error, outcome.headers.get("x-amz-retry-after"))
    if retried is None:
        log.debug("attempt %d/%d: giving up", attempt, max_attempts)
        return Decision(FAIL, error=error, throttled=throttled)
    return Decision(RETRY, error=error, delay=retried[0], cost=retried[1], throttled=throttled)


# --- the loop ------------------------------------------------------------------------------------


def _apply_clock(session: Session, state: CallState, decision: Decision) -> None:
    if decision.confirm:
        session.confirmed_offset = session.clock_offset = state.offset
    if decision.offset is not None:
        session.clock_offset = decision.offset
    if decision.pause_skew:
        session.skew_paused_until = session.monotonic() + SKEW_PAUSE


def list_flow(session: Session, params: ListParams) -> Flow[InvalidationList]:
    """One ``ListInvalidationsForDistributionTenant`` call (see :func:`operation_flow`)."""
    return operation_flow(session, params)


def operation_flow(session: Session, operation: Operation[R]) -> Flow[R]:
    """One call of ``operation``: :func:`call_flow`, traced.

    The call is one OpenTelemetry span (retries included) when the session traces and the
    application has imported the OpenTelemetry API: only code that did can have configured a
    tracer provider, so without it nothing of OpenTelemetry is imported, here or anywhere.
    """
    flow = call_flow(session, operation)
    if session.tracing and sys.modules.get("opentelemetry.trace") is not None:
        from .trace import traced_call

        return traced_call(flow, session.endpoint, session.meta.region, operation.name)
    return flow


def call_flow(session: Session, operation: Operation[R]) -> Flow[R]:
    """One call of ``operation``, with retries and skew correction.

    Every attempt is signed afresh (with the session's clock offset) from the same validated
    parameters: a retried create sends the same ``CallerReference``, so that the service
    answers a retry after a lost response with the invalidation it already made. Backoff and
    rate-limiter waits are ``Sleep`` effects. The result (or the raised error) carries the
    attempt count.
    """
    credentials = yield from session.credentials.get()
    retry = session.retry
    limiter = retry.limiter
    state = CallState(retry.max_attempts)
    call = CallMeta(session.meta, retry.mode, retry.max_attempts)
    while True:
        state.attempt += 1
        attempt = state.attempt  # of state.max_attempts
        if limiter is not None:
            wait = limiter.send_delay()
            if wait > 0:
                log.debug("attempt %d: client-side rate limit, waiting %.3f s", attempt, wait)
                yield Sleep(wait)
        state.offset = session.clock_offset
        now = session.now(state.offset)
        request = sign(session.endpoint, operation, credentials, now, call, attempt)
        outcome: Any = yield Send(request)
        call.received(outcome)
        state.local_time = session.clock()
        state.confirmed = session.confirmed_offset
        state.skew_paused = session.monotonic() < session.skew_paused_until
        decision = decide(outcome, state, retry, operation)
        if limiter is not None:
            limiter.observe(decision.throttled)
        _apply_clock(session, state, decision)
        action = decision.action
        if action == DONE:
            retry.succeeded(state.last_cost)
            result: R = decision.page
            return result
        if action == FAIL:
            assert decision.error is not None
            # (a local failure's error quotes the header it refused: it is not chained)
            if isinstance(outcome, TransportFailure) and outcome.retryable:
                raise decision.error from outcome.error
            raise decision.error
        if action == REFRESH:
            state.refreshed = True
            session.credentials.invalidate(credentials)
            credentials = yield from session.credentials.get()
        elif action == RETRY:
            state.last_cost = decision.cost
            log.debug("attempt %d failed; sleeping %.3f s before retrying", attempt, decision.delay)
            yield Sleep(decision.delay)
