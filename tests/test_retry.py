"""cfinval._core.retry against botocore's own retry code (the oracle), decision by decision."""

from __future__ import annotations

import copy
import functools
import math
from typing import Any
from unittest import mock

import botocore.exceptions
import botocore.session
import pytest
from botocore import retryhandler, translate
from botocore.retries import adaptive, bucket, quota, standard, throttling
from hypothesis import given, settings
from hypothesis import strategies as st

from cfinval._core.retry import (
    AdaptiveRetry,
    ClientRateLimiter,
    LegacyRetry,
    StandardRetry,
    TokenBucket,
    is_throttling,
    make_retry,
    parse_http_date,
    skew_correction,
)
from cfinval._errors import CloudFrontError, ParamValidationError

OPERATION = "ListInvalidationsForDistributionTenant"

# What an attempt can end in: ("http", status, code, x-amz-retry-after) or ("net", kind).
_CODES = st.sampled_from(
    [
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "ProvisionedThroughputExceededException",
        "ServiceUnavailable",
        "InternalError",
        "AccessDenied",
        "EntityNotFound",
        "InvalidArgument",
        "SignatureDoesNotMatch",
        "BadGateway",
    ]
)
_STATUSES = st.sampled_from([400, 403, 404, 408, 429, 500, 501, 502, 503, 504, 509])
_RETRY_AFTER = st.one_of(
    st.none(), st.sampled_from(["0", "250", "1500", "7000", "-5", "abc", "2.5", " 300 "])
)


@st.composite
def _http_failure(draw: Any) -> tuple[Any, ...]:
    status = draw(_STATUSES)
    # A body without a code (HTML, empty) parses to the status as the code, in both SDKs.
    code = draw(st.one_of(_CODES, st.just(str(status))))
    return ("http", status, code, draw(_RETRY_AFTER))


_FAILURE = st.one_of(
    _http_failure(), st.sampled_from([("net", "connect"), ("net", "read"), ("net", "closed")])
)
_CALL = st.tuples(st.lists(_FAILURE, max_size=6), st.booleans())  # failures, then success?


@functools.lru_cache(maxsize=1)
def _operation_model() -> Any:
    session = botocore.session.get_session()
    return session.get_service_model("cloudfront").operation_model(OPERATION)


def _botocore_exception(kind: str) -> Exception:
    if kind == "connect":
        return botocore.exceptions.EndpointConnectionError(endpoint_url="https://x")
    if kind == "read":
        return botocore.exceptions.ReadTimeoutError(endpoint_url="https://x")
    return botocore.exceptions.ConnectionClosedError(endpoint_url="https://x")


class _HttpResponse:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.headers = headers or {}
        self.content = b""


def _needs_retry_kwargs(failure: tuple[Any, ...], attempt: int, context: dict[str, Any]) -> Any:
    if failure[0] == "net":
        response = None
        caught: Exception | None = _botocore_exception(failure[1])
    else:
        _, status, code, retry_after = failure
        headers = {} if retry_after is None else {"x-amz-retry-after": retry_after}
        response = (_HttpResponse(status, headers), {"Error": {"Code": code, "Message": ""}})
        caught = None
    return {
        "response": response,
        "attempts": attempt,
        "operation": _operation_model(),
        "caught_exception": caught,
        "request_dict": {"context": context},
    }


def _ours(failure: tuple[Any, ...]) -> tuple[CloudFrontError | None, str | None]:
    if failure[0] == "net":
        return None, None
    _, status, code, retry_after = failure
    return CloudFrontError(code, "", status_code=status), retry_after


# --- standard ----------------------------------------------------------------------------------


class _BotocoreStandard:
    """botocore's standard mode, wired as ``standard.register_retry_handler`` wires it."""

    def __init__(self, max_attempts: int, rand: float) -> None:
        adapter = standard.RetryEventAdapter()
        detector = standard.ThrottlingErrorDetector(adapter)
        self.quota = quota.RetryQuota()
        self.quota_checker = standard.RetryQuotaChecker(self.quota, detector)
        self.handler = standard.RetryHandler(
            retry_policy=standard.RetryPolicy(
                retry_checker=standard.StandardRetryConditions(max_attempts=max_attempts),
                retry_backoff=standard.ExponentialBackoff(
                    random=lambda: rand, service_name="cloudfront", throttling_detector=detector
                ),
            ),
            retry_event_adapter=adapter,
            retry_quota=self.quota_checker,
            service_name="cloudfront",
        )


@settings(max_examples=60, deadline=None)
@given(
    calls=st.lists(_CALL, min_size=1, max_size=60),
    max_attempts=st.integers(1, 6),
    rand=st.floats(0, 1),
)
def test_standard_mode_decides_like_botocore(
    calls: list[tuple[list[tuple[Any, ...]], bool]], max_attempts: int, rand: float
) -> None:
    theirs = _BotocoreStandard(max_attempts, rand)
    ours = StandardRetry(max_attempts=max_attempts, random=lambda: rand)
    for failures, succeeds in calls:
        context: dict[str, Any] = {}
        last_cost = 0
        gave_up = False
        for attempt, failure in enumerate(failures, 1):
            expected = theirs.handler.needs_retry(**_needs_retry_kwargs(failure, attempt, context))
            error, retry_after = _ours(failure)
            decision = ours.decide(attempt, error, retry_after)
            if expected is None:
                assert decision is None
                gave_up = True
                break
            assert decision is not None
            assert decision[0] == pytest.approx(expected)
            assert decision[1] == context["retry_quota_capacity"]
            last_cost = decision[1]
            assert ours.quota.available == theirs.quota.available_capacity
        if succeeds and not gave_up:
            theirs.quota_checker.release_retry_quota(context, _HttpResponse(200))
            ours.succeeded(last_cost)
        assert ours.quota.available == theirs.quota.available_capacity


def test_standard_mode_defaults_follow_the_aws_sdks() -> None:
    retry = make_retry("standard", None, lambda: 0.0)
    assert (retry.mode, retry.max_attempts, retry.limiter) == ("standard", 3, None)
    assert isinstance(retry, StandardRetry)
    assert retry.quota.available == 500


def test_standard_backoff_is_capped_at_twenty_seconds() -> None:
    retry = StandardRetry(max_attempts=20, random=lambda: 1.0)
    throttle = CloudFrontError("Throttling", "Rate exceeded", status_code=400)
    delays = [retry.decide(attempt, throttle, None) for attempt in range(1, 8)]
    assert [d[0] for d in delays if d] == [1, 2, 4, 8, 16, 20, 20]


def test_an_empty_retry_quota_stops_retrying_until_calls_succeed() -> None:
    retry = StandardRetry(max_attempts=3, random=lambda: 0.0)
    unavailable = CloudFrontError("ServiceUnavailable", "", status_code=503)
    taken = 0
    while retry.decide(1, unavailable, None) is not None:
        taken += 1
    assert taken == 500 // 14
    assert retry.quota.available == 500 - 14 * taken
    retry.succeeded(0)  # a call that needed no retry gives back 1
    assert retry.quota.available == 500 - 14 * taken + 1
    retry.succeeded(14)
    assert retry.decide(1, unavailable, None) is not None


# --- legacy ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _legacy_config(max_attempts: int) -> Any:
    loader = botocore.session.get_session().get_component("data_loader")
    original = loader.load_data("_retry")
    return translate.build_retry_config(
        "cloudfront",
        copy.deepcopy(original["retry"]),
        copy.deepcopy(original["definitions"]),
        # what the client passes for total_max_attempts=N (``_transform_legacy_retries``)
        {"max_attempts": max_attempts - 1},
    )


@settings(max_examples=60, deadline=None)
@given(
    failures=st.lists(_FAILURE, min_size=1, max_size=7),
    max_attempts=st.integers(1, 7),
    rand=st.floats(0, 1),
)
def test_legacy_mode_decides_like_botocore(
    failures: list[tuple[Any, ...]], max_attempts: int, rand: float
) -> None:
    handler = retryhandler.create_retry_handler(_legacy_config(max_attempts), OPERATION)
    ours = LegacyRetry(max_attempts=max_attempts, random=lambda: rand)
    for attempt, failure in enumerate(failures, 1):
        kwargs = _needs_retry_kwargs(failure, attempt, {})
        with mock.patch.object(retryhandler.random, "random", return_value=rand):
            try:
                expected = handler(**kwargs)
            except botocore.exceptions.BotoCoreError:
                expected = None  # botocore re-raises a network error it will not retry
        decision = ours.decide(attempt, *_ours(failure))
        if expected is None:
            assert decision is None
            return
        assert decision is not None
        assert decision == (pytest.approx(expected), 0)


def test_legacy_mode_makes_five_attempts_by_default() -> None:
    retry = make_retry("legacy", None, lambda: 0.0)
    assert (retry.mode, retry.max_attempts, retry.limiter) == ("legacy", 5, None)
    throttle = CloudFrontError("Throttling", "Rate exceeded", status_code=400)
    assert [retry.decide(n, throttle, None) is not None for n in range(1, 6)] == [
        True,
        True,
        True,
        True,
        False,
    ]


# --- adaptive ----------------------------------------------------------------------------------


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def current_time(self) -> float:
        return self.now

    def __call__(self) -> float:
        return self.now


# ("wait", seconds) | ("send",) | ("response", throttled)
_EVENT = st.one_of(
    st.tuples(st.just("wait"), st.floats(0, 3)),
    st.tuples(st.just("send")),
    st.tuples(st.just("response"), st.booleans()),
)


@settings(max_examples=60, deadline=None)
@given(events=st.lists(_EVENT, max_size=80), start=st.floats(1e6, 2e9))
def test_adaptive_rate_limiter_paces_like_botocore(
    events: list[tuple[Any, ...]], start: float
) -> None:
    clock = _Clock(start)
    theirs = adaptive.ClientRateLimiter(
        rate_adjustor=throttling.CubicCalculator(starting_max_rate=0, start_time=start),
        rate_clocker=adaptive.RateClocker(clock),
        token_bucket=bucket.TokenBucket(max_rate=1, clock=clock),
        throttling_detector=standard.ThrottlingErrorDetector(standard.RetryEventAdapter()),
        clock=clock,
    )
    ours = ClientRateLimiter(clock)
    for event in events:
        if event[0] == "wait":
            clock.now += event[1]
        elif event[0] == "send":
            wait = ours.send_delay()
            if not theirs._enabled:
                assert wait == 0
                continue
            token_bucket = theirs._token_bucket
            token_bucket._refill()
            expected = max(0.0, token_bucket._sleep_amount(1))
            assert wait == pytest.approx(expected, rel=1e-6, abs=1e-4)
            # botocore blocks that long then takes the token; we took it already
            clock.now += expected + 1e-6 * (expected > 0)
            token_bucket.acquire(block=False)
        else:
            throttled = event[1]
            failure = ("http", 400, "Throttling" if throttled else "X", None)
            theirs.on_receiving_response(**_needs_retry_kwargs(failure, 1, {}))
            ours.observe(throttled)
        assert ours.enabled == theirs._enabled
        assert ours.max_rate == pytest.approx(theirs._token_bucket.max_rate)


def test_adaptive_mode_is_standard_plus_a_rate_limiter_shared_by_the_client() -> None:
    clock = _Clock(1000.0)
    retry = make_retry("adaptive", 4, clock)
    assert isinstance(retry, AdaptiveRetry)
    assert (retry.mode, retry.max_attempts) == ("adaptive", 4)
    limiter = retry.limiter
    assert limiter is not None
    assert limiter is retry.limiter
    assert limiter.send_delay() == 0  # off until the first throttle
    for _ in range(3):
        limiter.observe(True)
    assert limiter.enabled
    # The bucket starts empty: each send now waits its turn, later ones longer.
    first, second = limiter.send_delay(), limiter.send_delay()
    assert 0 < first < second
    assert second - first == pytest.approx(1 / limiter.max_rate)


def test_token_bucket_debt_is_paid_back_by_waiting() -> None:
    bucket_ = TokenBucket(2.0, now=0.0)
    assert bucket_.reserve(0.0) == pytest.approx(0.5)
    assert bucket_.reserve(0.0) == pytest.approx(1.0)
    assert bucket_.reserve(1.0) == pytest.approx(0.5)  # the 1 s passed repaid two tokens
    assert bucket_.reserve(100.0) == 0  # capacity refills to at most max(rate, 1) tokens
    assert bucket_.reserve(100.0) == 0
    assert bucket_.reserve(100.0) == pytest.approx(0.5)


def test_unknown_retry_mode_is_refused() -> None:
    with pytest.raises(ParamValidationError, match="retry_mode"):
        make_retry("fast", None, lambda: 0.0)


# --- clock skew --------------------------------------------------------------------------------


def test_http_dates_parse_in_all_three_formats() -> None:
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777.0
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777.0
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777.0
    for bad in (
        None,
        "",
        "yesterday",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 36 Nov 1994 08:49:37 GMT",
    ):
        assert parse_http_date(bad) is None


_NOW = 1_800_000_000.0


def _date(timestamp: float) -> str:
    import email.utils

    return email.utils.formatdate(timestamp, usegmt=True)


@pytest.mark.parametrize("code", ["RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"])
def test_definite_skew_codes_correct_any_real_difference(code: str) -> None:
    error = CloudFrontError(code, "", status_code=403)
    assert skew_correction(error, _date(_NOW + 90), _NOW, 0.0) == 90.0
    assert skew_correction(error, _date(_NOW - 3600), _NOW, 0.0) == -3600.0
    assert skew_correction(error, _date(_NOW), _NOW, 0.0) is None  # our clock is right


@pytest.mark.parametrize(
    "code", ["SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure"]
)
def test_signature_errors_correct_only_beyond_four_minutes(code: str) -> None:
    error = CloudFrontError(code, "", status_code=403)
    assert skew_correction(error, _date(_NOW + 239), _NOW, 0.0) is None
    assert skew_correction(error, _date(_NOW + 241), _NOW, 0.0) == 241.0
    assert skew_correction(error, _date(_NOW - 900), _NOW, 0.0) == -900.0


def test_skew_is_measured_against_the_corrected_clock() -> None:
    error = CloudFrontError("SignatureDoesNotMatch", "", status_code=403)
    # Already corrected by +900: a server 900 s ahead is no longer a skew.
    assert skew_correction(error, _date(_NOW + 900), _NOW, 900.0) is None
    # Corrected the wrong way: the new offset is absolute, not added to the old one.
    assert skew_correction(error, _date(_NOW + 900), _NOW, -900.0) == 900.0


def test_no_correction_without_a_readable_date_or_for_other_codes() -> None:
    skewed = CloudFrontError("RequestTimeTooSkewed", "", status_code=403)
    assert skew_correction(skewed, None, _NOW, 0.0) is None
    assert skew_correction(skewed, "garbage", _NOW, 0.0) is None
    other = CloudFrontError("AccessDenied", "", status_code=403)
    assert skew_correction(other, _date(_NOW + 3600), _NOW, 0.0) is None


def test_cubic_curve_recovers_to_the_rate_before_the_throttle() -> None:
    ours = ClientRateLimiter(_Clock(0.0))
    cubic = ours._cubic
    cubic.error_received(10.0, 0.0)
    assert cubic.success_received(cubic.k) == pytest.approx(10.0)
    assert math.isclose(cubic.k, (10.0 * 0.3 / 0.4) ** (1 / 3))


# --- a 429 carrying one of the operation's modeled errors -----------------------------------------


@pytest.mark.parametrize("code", ["AccessDenied", "EntityNotFound", "InvalidArgument"])
def test_a_429_with_a_modeled_error_code_is_not_throttling_nor_retried(code: str) -> None:
    """botocore's ``ThrottlingStatusCodeChecker``: a 429 is a throttle unless its code is one of
    the operation's modeled errors; then the model decides (these are not retryable)."""
    theirs = _BotocoreStandard(max_attempts=3, rand=0.5)
    failure = ("http", 429, code, None)
    assert theirs.handler.needs_retry(**_needs_retry_kwargs(failure, 1, {})) is None
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    assert not detector.is_throttling_error(**_needs_retry_kwargs(failure, 1, {}))
    error = CloudFrontError(code, "", status_code=429)
    assert not is_throttling(error)
    assert StandardRetry(max_attempts=3, random=lambda: 0.5).decide(1, error, None) is None
    assert make_retry("adaptive", 3, lambda: 0.0).decide(1, error, None) is None


def test_a_429_with_any_other_code_is_throttling_as_in_botocore() -> None:
    theirs = _BotocoreStandard(max_attempts=3, rand=0.5)
    failure = ("http", 429, "SomethingNew", None)
    expected = theirs.handler.needs_retry(**_needs_retry_kwargs(failure, 1, {}))
    error = CloudFrontError("SomethingNew", "", status_code=429)
    assert is_throttling(error)
    decision = StandardRetry(max_attempts=3, random=lambda: 0.5).decide(1, error, None)
    assert decision is not None
    assert decision[0] == pytest.approx(expected) == 0.5  # throttling's 1 s base, times 0.5
