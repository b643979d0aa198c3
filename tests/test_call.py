"""``_core.call``: the decision after each attempt (a pure function), and clock skew when the
servers behind the endpoint disagree about the time, against botocore (which never corrects)."""

from __future__ import annotations

import email.utils
from typing import Any

import anyio
import boto3
import botocore.exceptions
import httpx
import pytest

import cfinval
from cfinval._core.call import (
    DONE,
    FAIL,
    REFRESH,
    RESIGN,
    RETRY,
    CallState,
    Decision,
    decide,
)
from cfinval._core.effects import TransportFailure
from cfinval._core.http import HttpResponse
from cfinval._core.protocol import NAMESPACE
from cfinval._core.retry import StandardRetry
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, Fault

from .conftest import _Raw

NOW = 1_800_000_000.0
AHEAD = 20 * 60.0  # the second backend's clock
PAGE = (
    f'<InvalidationList xmlns="{NAMESPACE}"><Marker></Marker><MaxItems>100</MaxItems>'
    "<IsTruncated>false</IsTruncated><Quantity>0</Quantity></InvalidationList>"
).encode()


def error_response(status: int, code: str, date: float | None = None) -> HttpResponse:
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>no</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
    ).encode()
    headers = {"x-amz-request-id": "r-1"}
    if date is not None:
        headers["date"] = email.utils.formatdate(date, usegmt=True)
    return HttpResponse(status, headers, body)


def state(attempt: int = 1, **kw: Any) -> CallState:
    kw.setdefault("local_time", NOW)
    return CallState(3, attempt, **kw)


def retry() -> StandardRetry:
    return StandardRetry(random=lambda: 0.5)


# --- decide: one row per way an attempt can end ---------------------------------------------------


def test_a_page_is_done() -> None:
    decision = decide(HttpResponse(200, {}, PAGE), state(), retry())
    assert decision.action == DONE
    assert decision.page is not None
    assert decision.page.quantity == 0
    assert (decision.confirm, decision.offset, decision.throttled) == (False, None, False)


def test_a_page_signed_with_a_new_correction_confirms_it() -> None:
    decision = decide(HttpResponse(200, {}, PAGE), state(offset=AHEAD, confirmed=0.0), retry())
    assert (decision.action, decision.confirm) == (DONE, True)


@pytest.mark.parametrize(("attempt", "action"), [(1, RETRY), (2, RETRY), (3, FAIL)])
def test_a_network_failure_is_retried_until_the_last_attempt(attempt: int, action: str) -> None:
    failure = TransportFailure(ConnectionResetError("Connection reset by peer"))
    decision = decide(failure, state(attempt), retry())
    assert decision.action == action
    if action == RETRY:
        assert (decision.delay, decision.cost) == (0.5 * 0.05 * 2 ** (attempt - 1), 14)
    else:
        assert isinstance(decision.error, cfinval.TransportError)
        assert str(decision.error) == (
            "request failed after 3 attempt(s): ConnectionResetError: Connection reset by peer"
        )
        assert decision.error.attempts == 3


def test_a_request_that_cannot_be_sent_fails_at_once_without_quoting_it() -> None:
    failure = TransportFailure(httpx.LocalProtocolError("bad header x-secret: abc"), "local")
    decision = decide(failure, state(), retry())
    assert decision.action == FAIL
    assert str(decision.error) == "request failed after 1 attempt(s): LocalProtocolError"


def test_a_network_failure_without_text_still_says_what_happened() -> None:
    # What httpx raises over anyio when the peer resets the connection: no text anywhere.
    error = httpx.ReadError("")
    error.__cause__ = anyio.BrokenResourceError()
    decision = decide(TransportFailure(error), state(3), retry())
    assert str(decision.error) == (
        "request failed after 3 attempt(s): ReadError: "
        "Failed to receive data from the network (BrokenResourceError)"
    )


def test_an_unparsable_page_fails_at_once() -> None:
    decision = decide(HttpResponse(200, {}, b"<html>proxy</html>"), state(), retry())
    assert decision.action == FAIL
    assert isinstance(decision.error, cfinval.ResponseParseError)


@pytest.mark.parametrize(
    ("status", "code", "action", "throttled"),
    [
        (503, "ServiceUnavailable", RETRY, False),
        (400, "Throttling", RETRY, True),
        (403, "AccessDenied", FAIL, False),
        (404, "EntityNotFound", FAIL, False),
    ],
)
def test_service_errors_follow_the_retry_strategy(
    status: int, code: str, action: str, throttled: bool
) -> None:
    decision = decide(error_response(status, code), state(), retry())
    assert (decision.action, decision.throttled) == (action, throttled)
    assert isinstance(decision.error, cfinval.CloudFrontError)
    assert decision.error.code == code


@pytest.mark.parametrize(
    ("attempt", "refreshed", "action"),
    [
        (1, False, REFRESH),
        (2, False, REFRESH),  # after a retry: attempt 3 is still within max_attempts
        (3, False, FAIL),  # the last attempt: no 4th, whatever the cause
        (2, True, FAIL),  # refreshed once already
        (3, True, FAIL),
    ],
)
def test_expired_credentials_are_refreshed_once_within_max_attempts(
    attempt: int, refreshed: bool, action: str
) -> None:
    decision = decide(
        error_response(403, "ExpiredToken"), state(attempt, refreshed=refreshed), retry()
    )
    assert decision.action == action
    assert isinstance(decision.error, cfinval.CloudFrontError)
    assert decision.error.code == "ExpiredToken"
    assert decision.error.attempts == attempt


def test_expired_token_after_two_retries_ends_the_call_as_botocore_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.awsrequest import AWSResponse

    from cfinval._core.call import Session, list_flow
    from cfinval._core.effects import Send, Sleep, immediate, run
    from cfinval._core.protocol import Endpoint, ListParams

    script = [(503, "ServiceUnavailable"), (503, "ServiceUnavailable"), (403, "ExpiredToken")]

    class Source:
        invalidated = 0

        def get(self) -> Any:
            return immediate(FAKE_CREDENTIALS)

        def invalidate(self, stale: Any) -> None:
            self.invalidated += 1

    source = Source()
    session = Session(
        Endpoint.from_url("https://cloudfront.amazonaws.com"), source, retry(), clock=lambda: NOW
    )
    answers = iter(script)
    effects: list[Any] = []

    def perform(effect: Any) -> Any:
        effects.append(effect)
        return error_response(*next(answers)) if isinstance(effect, Send) else None

    with pytest.raises(cfinval.CloudFrontError) as ours:
        run(list_flow(session, ListParams("dt_1")), perform)
    assert [type(e) for e in effects] == [Send, Sleep, Send, Sleep, Send]
    assert (ours.value.code, ours.value.attempts, source.invalidated) == ("ExpiredToken", 3, 0)

    # botocore, answered the same way: three attempts, and the ExpiredToken raised
    theirs = iter(script)
    sent: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.url)
        body = error_response(*next(theirs)).body
        return AWSResponse(request.url, 503 if len(sent) < 3 else 403, {}, _Raw(body))

    client = boto3.client(
        "cloudfront",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="oracle-secret",
        aws_session_token="oracle-token",
    )
    client.meta.events.register("before-send.cloudfront.*", answer)
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert info.value.response["Error"]["Code"] == "ExpiredToken"
    assert len(sent) == 3


def test_a_skewed_clock_is_corrected_from_the_servers_date() -> None:
    skewed = error_response(403, "SignatureDoesNotMatch", NOW + AHEAD)
    decision = decide(skewed, state(), retry())
    assert decision.action == RESIGN
    assert decision.offset == AHEAD
    assert not decision.pause_skew


def test_on_the_last_attempt_the_correction_is_kept_for_the_next_call() -> None:
    skewed = error_response(403, "SignatureDoesNotMatch", NOW + AHEAD)
    decision = decide(skewed, state(3), retry())
    assert (decision.action, decision.offset) == (FAIL, AHEAD)


def test_a_correction_refused_as_skewed_falls_back_to_the_clock_that_worked() -> None:
    # Signed 20 min ahead (as one server asked), and another server says "too far ahead".
    skewed = error_response(403, "SignatureDoesNotMatch", NOW)
    decision = decide(skewed, state(2, offset=AHEAD, confirmed=0.0), retry())
    assert decision == Decision(
        RESIGN, error=decision.error, offset=0.0, pause_skew=True, throttled=False
    )


def test_no_correction_while_correction_rests() -> None:
    skewed = error_response(403, "SignatureDoesNotMatch", NOW + AHEAD)
    decision = decide(skewed, state(skew_paused=True), retry())
    assert (decision.action, decision.offset) == (FAIL, None)


def test_decide_leaves_the_call_state_to_the_loop() -> None:
    call = state(2, offset=AHEAD)
    before = repr(call)
    skewed = error_response(403, "SignatureDoesNotMatch", NOW)
    assert repr(decide(skewed, call, retry())) == repr(decide(skewed, call, retry()))
    assert repr(call) == before


# --- two backends, one 20 minutes ahead, behind one endpoint --------------------------------------

TENANT = "dt_skew"
CALLS = 8


def two_backends(second_first: bool) -> FakeCloudFront:
    """Requests alternate between a backend with the right time and one 20 minutes ahead."""
    fake = FakeCloudFront()
    fake.add_invalidation(TENANT)
    fake.add_fault(Fault.skew(AHEAD), every=2, start=1 if second_first else 2)
    return fake


def cfinval_successes(fake: FakeCloudFront, **options: Any) -> int:
    ok = 0
    codes = set()
    with (
        fake.serve() as server,
        cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url, **options) as client,
    ):
        for _ in range(CALLS):
            try:
                client.list_invalidations_for_distribution_tenant(Id=TENANT)
            except cfinval.CloudFrontError as exc:
                codes.add(exc.code)
            else:
                ok += 1
    assert codes <= {"SignatureDoesNotMatch"}
    return ok


def botocore_successes(fake: FakeCloudFront) -> int:
    ok = 0
    codes = set()
    with fake.serve() as server:
        client = boto3.client(
            "cloudfront",
            region_name="us-east-1",
            endpoint_url=server.endpoint_url,
            aws_access_key_id=FAKE_CREDENTIALS.access_key_id,
            aws_secret_access_key=FAKE_CREDENTIALS.secret_access_key,
        )
        for _ in range(CALLS):
            try:
                client.list_invalidations_for_distribution_tenant(Id=TENANT)
            except botocore.exceptions.ClientError as exc:
                codes.add(exc.response["Error"]["Code"])
            else:
                ok += 1
    assert codes <= {"SignatureDoesNotMatch"}
    return ok


@pytest.mark.parametrize("second_first", [False, True], ids=["right-first", "ahead-first"])
def test_disagreeing_backends_fail_no_more_calls_than_botocore(second_first: bool) -> None:
    theirs = botocore_successes(two_backends(second_first))
    ours = cfinval_successes(two_backends(second_first))
    assert theirs == CALLS // 2
    assert ours >= theirs


def test_a_single_backend_ahead_is_still_corrected_and_the_correction_kept() -> None:
    fake = FakeCloudFront()
    fake.add_invalidation(TENANT)
    fake.add_fault(Fault.skew(AHEAD))
    assert cfinval_successes(fake) == CALLS
    assert fake.served == CALLS + 1  # one refused request, then every call at once
