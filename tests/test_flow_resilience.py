"""The call and pagination flows under faults, driven in virtual time (no network, no sleeping).

A tiny driver performs the flows' effects against :class:`FakeCloudFront` directly: ``Send``
goes to ``fake.respond()`` (connection-level faults become the ``TransportFailure`` a real
driver would report), ``Sleep`` advances a virtual clock that the fake and the client share.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cfinval
from cfinval._core.body import BodyReader
from cfinval._core.call import Session, list_flow
from cfinval._core.effects import Emit, Flow, Send, Sleep, TransportFailure, drive
from cfinval._core.http import MAX_BODY_BYTES, HttpResponse
from cfinval._core.pagination import PaginationPlan, PaginationState, pages_flow
from cfinval._core.protocol import Endpoint, ListParams
from cfinval._core.retry import make_retry
from cfinval._credentials import CredentialResolver, StaticProvider
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, Fault

TENANT = "dt_resilience"
START = 1_800_000_000.0
READ_TIMEOUT = 10.0
LATENCY = 0.02


class VirtualClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Harness:
    """A fake, a session on the same virtual clock, and a driver recording every effect."""

    def __init__(
        self,
        items: int = 0,
        *,
        mode: str = "standard",
        max_attempts: int | None = None,
        rand: Callable[[], float] | None = None,
        credentials: cfinval.Credentials = FAKE_CREDENTIALS,
    ) -> None:
        self.clock = VirtualClock()
        self.fake = FakeCloudFront(clock=self.clock, credentials=(credentials,))
        self.fake.add_tenant(TENANT)
        for _ in range(items):
            self.fake.add_invalidation(TENANT)
        retry = make_retry(mode, max_attempts, self.clock)
        if rand is not None:
            retry.random = rand
        self.session = Session(
            endpoint=Endpoint.from_url("https://cloudfront.amazonaws.com"),
            credentials=CredentialResolver(StaticProvider(credentials)),
            retry=retry,
            clock=self.clock,
        )
        self.sleeps: list[float] = []
        self.emitted: list[Any] = []
        self.replies: list[Any] = []

    @property
    def truth(self) -> list[cfinval.InvalidationSummary]:
        return self.fake.listing(TENANT)

    def exchange(self, request: Any) -> HttpResponse | TransportFailure:
        url = urlsplit(request.url)
        target = url.path + (f"?{url.query}" if url.query else "")
        self.clock.now += LATENCY
        reply = self.fake.respond(request.method, target, dict(request.headers))
        self.replies.append(reply)
        fault = reply.fault
        if fault is not None:
            if fault.kind in ("reset", "cut"):
                return TransportFailure(ConnectionResetError(f"[virtual] {fault.kind}"))
            if fault.seconds >= READ_TIMEOUT:  # stall, drip
                self.clock.now += READ_TIMEOUT
                return TransportFailure(TimeoutError("[virtual] read timeout"), "timeout")
            self.clock.now += fault.seconds
        reader = BodyReader(reply.headers.get("content-encoding"), MAX_BODY_BYTES)
        reader.feed(reply.body)
        body = reader.body()
        return HttpResponse(reply.status, dict(reply.headers), body, reader.truncated, reader.error)

    def perform(self, effect: Any) -> Any:
        if isinstance(effect, Sleep):
            assert effect.seconds >= 0
            self.sleeps.append(effect.seconds)
            self.clock.now += effect.seconds
            return None
        assert isinstance(effect, Send)
        return self.exchange(effect.request)

    def run(self, flow: Flow[Any]) -> Any:
        """Drive ``flow`` with the core's drive loop, keeping what it emits."""
        loop = drive(flow, self.perform)
        while True:
            try:
                self.emitted.append(next(loop))
            except StopIteration as stop:
                return stop.value

    def call(self, marker: str | None = None, max_items: int | None = None) -> Any:
        return self.run(list_flow(self.session, ListParams(TENANT, marker, max_items)))

    def pages(self, page_size: int | None = None) -> list[cfinval.InvalidationList]:
        plan = PaginationPlan.create(TENANT, page_size, None, None)
        self.run(pages_flow(self.session, plan, PaginationState()))
        return self.emitted


def _items(pages: list[cfinval.InvalidationList]) -> list[cfinval.InvalidationSummary]:
    return [item for page in pages for item in page.items]


# --- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "delays"),
    [
        (Fault.error(503), [0.05 * 0.5, 0.1 * 0.5]),
        (Fault.error(500), [0.05 * 0.5, 0.1 * 0.5]),
        (Fault.html(502), [0.05 * 0.5, 0.1 * 0.5]),
        (Fault.empty(504), [0.05 * 0.5, 0.1 * 0.5]),
        (Fault.throttling(), [1 * 0.5, 2 * 0.5]),
        (Fault.reset(), [0.05 * 0.5, 0.1 * 0.5]),
        (Fault.stall(30), [0.05 * 0.5, 0.1 * 0.5]),
    ],
)
def test_transient_faults_are_retried_with_standard_backoff(
    fault: Fault, delays: list[float]
) -> None:
    h = Harness(3, rand=lambda: 0.5)
    h.fake.add_fault(fault, start=1, count=2)
    page = h.call()
    assert list(page.items) == h.truth
    assert page.attempts == 3
    assert h.sleeps == pytest.approx(delays)
    assert h.fake.served == 3


def test_result_carries_the_request_id_of_the_attempt_that_succeeded() -> None:
    h = Harness(1)
    h.fake.add_fault(Fault.error(503), start=1, count=1)
    page = h.call()
    seen = [reply.headers["x-amz-request-id"] for reply in h.replies]
    assert page.attempts == 2
    assert page.request_id == seen[1] != seen[0]


@pytest.mark.parametrize(
    ("fault", "error_type", "code"),
    [
        (Fault.error(503), cfinval.CloudFrontError, "ServiceUnavailable"),
        (Fault.throttling(), cfinval.CloudFrontError, "Throttling"),
        (Fault.html(502), cfinval.CloudFrontError, "502"),
        (Fault.reset(), cfinval.TransportError, None),
    ],
)
@pytest.mark.parametrize("max_attempts", [1, 2, 3, 5])
def test_persistent_faults_raise_after_exactly_max_attempts(
    fault: Fault, error_type: type[Exception], code: str | None, max_attempts: int
) -> None:
    h = Harness(3, max_attempts=max_attempts, rand=lambda: 1.0)  # the longest backoff
    h.fake.add_fault(fault)
    start = h.clock.now
    with pytest.raises(error_type) as raised:
        h.call()
    error: Any = raised.value
    assert h.fake.served == max_attempts
    assert error.attempts == max_attempts
    scale = 1.0 if fault.kind == "throttle" else 0.05
    assert h.sleeps == pytest.approx([scale * 2**n for n in range(max_attempts - 1)])
    assert h.clock.now - start == pytest.approx(sum(h.sleeps) + max_attempts * LATENCY)
    if code is not None:
        assert error.code == code
        assert error.status_code == fault.status
        if fault.kind == "html":
            assert error.request_id is None  # a proxy's page carries none
        else:
            assert error.request_id.startswith(f"fake-{max_attempts:08d}-")  # the last one's


def test_the_last_errors_details_are_raised() -> None:
    h = Harness(1, max_attempts=3, rand=lambda: 0.0)
    h.fake.add_fault(Fault.error(500, "InternalError", "first"), start=1, count=2)
    h.fake.add_fault(Fault.error(503, "ServiceUnavailable", "last"), start=3)
    with pytest.raises(cfinval.CloudFrontError) as raised:
        h.call()
    assert (raised.value.code, raised.value.message, raised.value.status_code) == (
        "ServiceUnavailable",
        "last",
        503,
    )
    assert raised.value.request_id is not None
    assert raised.value.request_id.startswith("fake-00000003-")


def test_retry_after_header_raises_the_backoff() -> None:
    h = Harness(1, rand=lambda: 0.1)
    h.fake.add_fault(Fault.throttling(retry_after_ms=3000), start=1, count=1)
    page = h.call()
    assert page.attempts == 2
    assert h.sleeps == [3.0]


def test_modeled_errors_are_not_retried() -> None:
    h = Harness(1)
    with pytest.raises(cfinval.EntityNotFound):
        h.run(list_flow(h.session, ListParams("dt_missing")))
    assert h.fake.served == 1
    assert h.sleeps == []


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_a_429_carrying_a_modeled_error_is_raised_at_once_not_retried_as_throttling(
    mode: str,
) -> None:
    h = Harness(1, mode=mode)
    h.fake.add_fault(Fault.error(429, "AccessDenied"), start=1, count=1)
    with pytest.raises(cfinval.AccessDenied) as raised:
        h.call()
    assert (raised.value.status_code, raised.value.attempts) == (429, 1)
    assert h.fake.served == 1
    assert h.sleeps == []
    limiter = h.session.retry.limiter
    assert limiter is None or not limiter.enabled  # not counted as a throttle either


@pytest.mark.parametrize("fault", [Fault.garbage(), Fault.oversize(), Fault.gzip_bomb()])
def test_a_2xx_that_does_not_parse_is_raised_at_once_not_retried(fault: Fault) -> None:
    h = Harness(3)
    h.fake.add_fault(fault, start=1, count=1)
    with pytest.raises(cfinval.ResponseParseError) as raised:
        h.call()
    assert h.fake.served == 1
    assert raised.value.attempts == 1
    assert raised.value.status_code == 200


def test_a_local_transport_error_is_not_retried_nor_chained() -> None:
    h = Harness(1)
    flow = list_flow(h.session, ListParams(TENANT))
    assert isinstance(next(flow), Send)
    cause = ValueError("the URL cannot be sent")
    with pytest.raises(cfinval.TransportError) as raised:
        flow.send(TransportFailure(cause, "local"))
    # its text quotes what was refused (a header, so maybe a token): a traceback must not show it
    assert raised.value.__cause__ is None
    assert raised.value.attempts == 1


@pytest.mark.parametrize("fault", [Fault.error(503), Fault.reset()], ids=lambda f: f.kind)
@pytest.mark.parametrize("mode", ["standard", "legacy", "adaptive"])
def test_every_mode_recovers_from_every_other_request_failing(mode: str, fault: Fault) -> None:
    h = Harness(250, mode=mode)
    h.fake.add_fault(fault, every=2)
    pages = h.pages(page_size=20)
    assert _items(pages) == h.truth
    assert sum(page.attempts for page in pages) == h.fake.served


def test_legacy_mode_retries_five_times_and_sleeps_exponentially() -> None:
    h = Harness(1, mode="legacy", rand=lambda: 1.0)
    h.fake.add_fault(Fault.throttling())
    with pytest.raises(cfinval.CloudFrontError):
        h.call()
    assert h.fake.served == 5
    assert h.sleeps == [1, 2, 4, 8]


def test_the_standard_retry_quota_is_shared_by_the_calls_of_a_client() -> None:
    h = Harness(1, max_attempts=2, rand=lambda: 0.0)
    h.fake.add_fault(Fault.error(503))
    for _ in range(500 // 14):
        with pytest.raises(cfinval.CloudFrontError):
            h.call()
    served = h.fake.served
    assert served == 2 * (500 // 14)
    with pytest.raises(cfinval.CloudFrontError) as raised:
        h.call()  # the quota is spent: one attempt, no retry
    assert h.fake.served == served + 1
    assert raised.value.attempts == 1


# --- adaptive mode ------------------------------------------------------------------------------


def test_adaptive_mode_paces_requests_with_sleep_effects_after_a_throttle() -> None:
    h = Harness(400, mode="adaptive", rand=lambda: 0.0)
    h.fake.add_fault(Fault.throttling(), start=2, count=1)
    pages = h.pages(page_size=10)
    assert _items(pages) == h.truth
    limiter = h.session.retry.limiter
    assert limiter is not None
    assert limiter.enabled
    # rand=0 makes the retry backoff 0 s: every positive sleep is the limiter pacing requests
    rate_limit_sleeps = [s for s in h.sleeps if s > 0]
    assert len(rate_limit_sleeps) > 5
    # one sequential caller owes at most one token, refilled at no less than 0.5 per second
    assert max(rate_limit_sleeps) <= 2.0


def test_the_rate_limiter_is_shared_by_concurrent_calls_of_one_client() -> None:
    h = Harness(5, mode="adaptive")
    limiter = h.session.retry.limiter
    assert limiter is not None
    h.fake.add_fault(Fault.throttling(), start=1, count=1)
    first = list_flow(h.session, ListParams(TENANT))
    second = list_flow(h.session, ListParams(TENANT))
    effect = next(first)
    assert isinstance(effect, Send)
    assert isinstance(next(second), Send)  # not throttled yet: no wait
    backoff = first.send(h.exchange(effect.request))  # throttled: the limiter turns on
    assert isinstance(backoff, Sleep)
    assert limiter.enabled
    third = list_flow(h.session, ListParams(TENANT))
    wait = next(third)  # a brand-new call on the same client waits for a token
    assert isinstance(wait, Sleep)
    assert wait.seconds > 0


# --- clock skew ---------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [16 * 60, -16 * 60, 3600, -86400, 7 * 86400])
def test_clock_skew_is_corrected_once_and_later_requests_use_it(offset: float) -> None:
    h = Harness(250)
    h.fake.add_fault(Fault.skew(offset))  # the server's clock is off on every request
    pages = h.pages(page_size=50)
    assert _items(pages) == h.truth
    assert h.fake.served == len(pages) + 1  # one rejected request, then all accepted
    assert [r.fault for r in h.fake.requests] == ["skew"] * h.fake.served
    assert pages[0].attempts == 2
    assert all(page.attempts == 1 for page in pages[1:])
    assert h.session.clock_offset == pytest.approx(offset, abs=1.5)
    assert h.sleeps == []  # re-signed at once, no backoff


@pytest.mark.parametrize("code", ["RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"])
def test_definite_skew_errors_are_corrected_from_the_date_header(code: str) -> None:
    h = Harness(1)
    h.fake.clock = lambda: h.clock.now + 90  # 90 s ahead: too little for SignatureDoesNotMatch
    h.fake.add_fault(Fault.error(403, code, "time is off"), start=1, count=1)
    page = h.call()
    assert page.attempts == 2
    assert h.sleeps == []
    assert h.session.clock_offset == pytest.approx(90, abs=1.5)


def test_definite_skew_error_with_a_right_clock_is_not_retried() -> None:
    h = Harness(1)
    h.fake.add_fault(Fault.error(403, "RequestTimeTooSkewed", "time is off"), start=1, count=1)
    with pytest.raises(cfinval.CloudFrontError) as raised:
        h.call()
    assert raised.value.code == "RequestTimeTooSkewed"
    assert h.fake.served == 1
    assert h.session.clock_offset == 0


def test_skew_correction_counts_as_an_attempt_and_is_kept_when_attempts_run_out() -> None:
    h = Harness(1, max_attempts=1)
    h.fake.add_fault(Fault.skew(3600))
    with pytest.raises(cfinval.CloudFrontError) as raised:
        h.call()
    assert raised.value.code == "SignatureDoesNotMatch"
    assert h.session.clock_offset == pytest.approx(3600, abs=1.5)
    page = h.call()  # the next call signs with the corrected clock at once
    assert page.attempts == 1


def test_a_signature_error_without_skew_is_not_retried() -> None:
    wrong = cfinval.Credentials(FAKE_CREDENTIALS.access_key_id, "not-the-secret")
    h = Harness(1, credentials=FAKE_CREDENTIALS)
    h.session.credentials = CredentialResolver(StaticProvider(wrong))
    with pytest.raises(cfinval.CloudFrontError) as raised:
        h.call()
    assert raised.value.code == "SignatureDoesNotMatch"
    assert h.fake.served == 1
    assert h.session.clock_offset == 0


# --- pagination integrity ----------------------------------------------------------------------


def test_an_aba_marker_cycle_is_detected_not_followed() -> None:
    h = Harness(100)
    h.fake.add_fault(Fault.rewind(), start=3, count=1)  # page 3 points back at page 2
    with pytest.raises(cfinval.PaginationError, match="twice"):
        h.pages(page_size=10)
    assert _items(h.emitted) == h.truth[:30]  # what was emitted is exact, no duplicate
    assert h.fake.served == 3


def test_a_repeated_marker_is_detected() -> None:
    h = Harness(100)
    h.fake.add_fault(Fault.rewind(), start=2, count=1)  # page 2 points at itself
    with pytest.raises(cfinval.PaginationError):
        h.pages(page_size=10)
    assert _items(h.emitted) == h.truth[:20]


def test_truncated_page_without_next_marker_is_an_error_not_the_end() -> None:
    body = (
        b'<InvalidationList xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
        b"<Marker></Marker><MaxItems>1</MaxItems><IsTruncated>true</IsTruncated>"
        b"<Quantity>0</Quantity></InvalidationList>"
    )
    h = Harness(0)
    plan = PaginationPlan.create(TENANT, None, None, None)
    flow = pages_flow(h.session, plan, PaginationState())
    assert isinstance(next(flow), Send)
    emitted = flow.send(HttpResponse(200, {}, body))
    assert isinstance(emitted, Emit)
    with pytest.raises(cfinval.PaginationError, match="no NextMarker"):
        flow.send(None)


# --- logging -----------------------------------------------------------------------------------


def test_debug_log_tells_attempts_status_codes_request_ids_and_sleeps(
    caplog: pytest.LogCaptureFixture,
) -> None:
    creds = cfinval.Credentials("AKIDLOGTEST000000001", "very-secret-key-xyz", "session-token-abc")
    h = Harness(1, rand=lambda: 0.5, credentials=creds)
    h.fake.add_fault(Fault.throttling(), start=1, count=1)
    with caplog.at_level(logging.DEBUG, logger="cfinval"):
        page = h.call()
    lines = [r.getMessage() for r in caplog.records if r.name == "cfinval"]
    assert any("attempt 1/3: HTTP 400 Throttling request-id fake-00000001-" in x for x in lines)
    assert any("sleeping 0.500 s" in x for x in lines)
    assert any(f"attempt 2/3: HTTP 200 request-id {page.request_id}" in x for x in lines)
    signatures = [r.headers["authorization"].rsplit("=", 1)[1] for r in h.fake.requests]
    assert len(signatures) == 2
    for secret in ("very-secret-key-xyz", "session-token-abc", *signatures):
        assert secret not in caplog.text


# --- the property -----------------------------------------------------------------------------

_FAULTS = [
    Fault.error(503),
    Fault.error(500),
    Fault.throttling(),
    Fault.throttling(retry_after_ms=1500),
    Fault.html(502),
    Fault.empty(503),
    Fault.reset(),
    Fault.cut(),
    Fault.stall(60),
    Fault.stall(1),
    Fault.drip(0.001),
    Fault.skew(1800),
    Fault.skew(-3600),
    Fault.garbage(),
    Fault.rewind(),
    Fault.error(429, "TooManyRequestsException"),
    Fault.error(403, "AccessDenied"),
]
_TYPED = (
    cfinval.TransportError,
    cfinval.CloudFrontError,
    cfinval.ResponseParseError,
    cfinval.PaginationError,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    items=st.integers(0, 180),
    page_size=st.one_of(st.none(), st.integers(1, 60)),
    mode=st.sampled_from(["standard", "legacy", "adaptive"]),
    max_attempts=st.one_of(st.none(), st.integers(1, 5)),
    schedule=st.dictionaries(st.integers(1, 40), st.sampled_from(_FAULTS), max_size=25),
    seed=st.integers(0, 2**32),
)
def test_a_listing_under_random_faults_is_exact_or_a_typed_error(
    items: int,
    page_size: int | None,
    mode: str,
    max_attempts: int | None,
    schedule: dict[int, Fault],
    seed: int,
) -> None:
    h = Harness(items, mode=mode, max_attempts=max_attempts, rand=random.Random(seed).random)
    for number, fault in sorted(schedule.items()):
        h.fake.add_fault(fault, start=number, count=1)
    try:
        pages = h.pages(page_size)
    except _TYPED:
        # Whatever was handed out before the error is exact: a prefix, no duplicate, no gap.
        got = _items(h.emitted)
        assert got == h.truth[: len(got)]
        assert any(r.fault is not None for r in h.fake.requests), "failed without a fault"
    else:
        assert _items(pages) == h.truth
        assert sum(page.attempts for page in pages) == h.fake.served
        assert all(page.request_id for page in pages)
