"""Retry decisions, sans I/O: which failures are retried, how long to back off, clock skew.

Three modes, as in the AWS SDKs (``retry_mode=`` / ``AWS_RETRY_MODE``):

``standard`` (the default; botocore's ``retries/standard.py`` and ``quota.py``)
    3 attempts. Retried: HTTP 500/502/503/504, the transient and throttling error codes
    below, a 429 whose code is not one of the operation's modeled errors, and network
    failures (connection errors, timeouts). Back off ``random() * min(base * 2 ** (attempt
    - 1), 20)`` seconds, where ``base`` is 1 s after throttling and 50 ms otherwise; an
    ``x-amz-retry-after`` header (milliseconds) raises the delay, to at most 5 s above the
    computed one. A retry quota of 500 is shared by all calls of a client: a retry costs 14
    (5 after throttling); a successful call gives back what its last retry took, or 1 when
    it needed none. An empty quota means no more retries until calls succeed again.

``legacy`` (botocore's ``retryhandler.py`` with ``data/_retry.json``, CloudFront has no
    service section) 5 attempts. Retried: network failures, HTTP 500/502/503/504/509, any
    429, and HTTP 400 with ``Throttling``, ``ThrottlingException``, ``ThrottledException``,
    ``RequestThrottledException`` or ``ProvisionedThroughputExceededException``. Back off
    ``random() * 2 ** (attempt - 1)`` seconds; no quota, no ``x-amz-retry-after``.

``adaptive`` (``retries/adaptive.py``, ``bucket.py``, ``throttling.py``)
    ``standard`` plus a client-side rate limiter shared by every call of the client (threads
    and tasks alike): after the first throttling response, each attempt first takes a token
    from a bucket whose fill rate follows CUBIC (cut to 70 % on throttling, grown back on
    success). The limiter never sleeps itself: it tells the flow how long to wait and the
    flow yields a ``Sleep`` effect.

In every mode ``max_attempts`` counts the first attempt, as ``AWS_MAX_ATTEMPTS`` does.

Clock skew (not a retry mode; applies to all): a signature rejected because our clock is
wrong is corrected from the response's ``Date`` header and re-signed at once; see
:func:`skew_correction`.
"""

from __future__ import annotations

import datetime as _dt
import math
import random as _random
import re
from collections.abc import Callable

from .._errors import CloudFrontError, ParamValidationError
from .locks import ForkSafeLock
from .record import Record

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "RETRY_MODES",
    "THROTTLING_CODES",
    "TRANSIENT_CODES",
    "AdaptiveRetry",
    "ClientRateLimiter",
    "CubicCalculator",
    "LegacyRetry",
    "RateClocker",
    "RetryQuota",
    "RetryStrategy",
    "StandardRetry",
    "TokenBucket",
    "is_retryable_error",
    "is_throttling",
    "make_retry",
    "parse_http_date",
    "skew_correction",
]

RETRY_MODES = ("standard", "legacy", "adaptive")
DEFAULT_MAX_ATTEMPTS = {"standard": 3, "adaptive": 3, "legacy": 5}

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
)
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
#: The service says the temporary credentials expired: refresh them once and retry, while an
#: attempt is left (see ``call.decide``).
EXPIRED_TOKEN_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})
#: The operation's modeled errors: a 429 carrying one of these is not a throttle.
_MODELED_CODES = frozenset({"AccessDenied", "EntityNotFound", "InvalidArgument"})
MAX_BACKOFF = 20.0
RETRY_AFTER_MAX_ADDITIONAL = 5.0

# legacy mode (_retry.json "__default__")
_LEGACY_STATUS = frozenset({500, 502, 503, 504, 509, 429})
_LEGACY_THROTTLING_400 = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
    }
)

#: ``(seconds to sleep, retry quota taken)`` before the next attempt.
Decision = tuple[float, int]


def is_throttling(error: CloudFrontError) -> bool:
    """Whether a service error is a throttle (standard and adaptive modes)."""
    if error.code in THROTTLING_CODES:
        return True
    return error.status_code == 429 and error.code not in _MODELED_CODES


def is_retryable_error(error: CloudFrontError) -> bool:
    """Whether the standard mode retries a service error (attempts and quota aside)."""
    return (
        error.code in TRANSIENT_CODES
        or error.status_code in TRANSIENT_STATUS
        or is_throttling(error)
    )


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = int(value) / 1000.0
    except (ValueError, OverflowError):
        return None
    return seconds if seconds >= 0 else None


class RetryQuota(Record):
    """A token bucket shared by every call of one client (thread-safe)."""

    __slots__ = ("_lock", "available", "capacity")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self, capacity: int = 500) -> None:
        self.capacity = capacity
        self.available = capacity
        self._lock = ForkSafeLock()

    def acquire(self, amount: int) -> bool:
        with self._lock:
            if amount > self.available:
                return False
            self.available -= amount
            return True

    def release(self, amount: int) -> None:
        if self.available == self.capacity:
            return
        with self._lock:
            self.available = min(self.capacity, self.available + amount)


class _Strategy:
    """What every retry mode decides the same way (mixed into each mode's class)."""

    max_attempts: int

    @property
    def limiter(self) -> ClientRateLimiter | None:
        return None

    def decide(
        self, attempt: int, error: CloudFrontError | None, retry_after_ms: str | None
    ) -> Decision | None:
        """What to do after attempt ``attempt`` (1-based) failed: ``(delay, quota cost)``, or
        ``None`` to give up. ``error`` is the service error, or ``None`` for a network failure
        (always retryable)."""
        if attempt >= self.max_attempts:
            return None
        if error is not None and not self._retryable(error):
            return None
        return self._backoff(attempt, error, retry_after_ms)

    def _retryable(self, error: CloudFrontError) -> bool:
        raise NotImplementedError  # pragma: no cover

    def _backoff(
        self, attempt: int, error: CloudFrontError | None, retry_after_ms: str | None
    ) -> Decision | None:
        raise NotImplementedError  # pragma: no cover


class StandardRetry(_Strategy, Record):
    """The ``standard`` retry mode. One instance per client; ``random`` is injectable for tests.

    ``retryable_codes``: service error codes retried besides the standard ones (a service's
    own transient errors, such as STS's ``IDPCommunicationError``).
    """

    __slots__ = ("max_attempts", "mode", "quota", "random", "retryable_codes")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(
        self,
        max_attempts: int = 3,
        quota: RetryQuota | None = None,
        random: Callable[[], float] = _random.random,
        mode: str = "standard",
        retryable_codes: frozenset[str] = frozenset(),
    ) -> None:
        self.max_attempts = max_attempts
        self.quota = RetryQuota() if quota is None else quota
        self.random = random
        self.mode = mode
        self.retryable_codes = retryable_codes

    def _retryable(self, error: CloudFrontError) -> bool:
        return is_retryable_error(error) or error.code in self.retryable_codes

    def _backoff(
        self, attempt: int, error: CloudFrontError | None, retry_after_ms: str | None
    ) -> Decision | None:
        throttled = error is not None and is_throttling(error)
        cost = 5 if throttled else 14
        if not self.quota.acquire(cost):
            return None
        scale = 1.0 if throttled else 0.05
        backoff = self.random() * min(scale * 2 ** (attempt - 1), MAX_BACKOFF)
        retry_after = _retry_after(retry_after_ms) if error is not None else None
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, RETRY_AFTER_MAX_ADDITIONAL + backoff))
        return backoff, cost

    def succeeded(self, last_cost: int) -> None:
        """A call succeeded; ``last_cost`` is the quota its last retry took (0: no retry)."""
        self.quota.release(last_cost or 1)


class LegacyRetry(_Strategy, Record):
    """The ``legacy`` retry mode: botocore's original handler, no quota, no rate limiter."""

    __slots__ = ("max_attempts", "mode", "random")
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(
        self,
        max_attempts: int = 5,
        random: Callable[[], float] = _random.random,
        mode: str = "legacy",
    ) -> None:
        self.max_attempts = max_attempts
        self.random = random
        self.mode = mode

    def _retryable(self, error: CloudFrontError) -> bool:
        return error.status_code in _LEGACY_STATUS or (
            error.status_code == 400 and error.code in _LEGACY_THROTTLING_400
        )

    def _backoff(
        self, attempt: int, error: CloudFrontError | None, retry_after_ms: str | None
    ) -> Decision | None:
        return self.random() * 2 ** (attempt - 1), 0

    def succeeded(self, last_cost: int) -> None:
        """Nothing to give back: legacy mode has no retry quota."""


# --- adaptive mode: the client-side rate limiter ---------------------------------------------


class TokenBucket:
    """Tokens refill at ``max_rate`` per second (at least 0.5), up to ``max(max_rate, 1)``.

    Unlike botocore's bucket it never blocks: :meth:`reserve` takes a token at once, possibly
    going into debt, and returns how long the caller must wait before sending. Later callers
    wait behind that debt, so concurrent callers are served in order and none can starve.
    Not thread-safe on its own; :class:`ClientRateLimiter` locks around it.
    """

    MIN_RATE = 0.5

    def __init__(self, max_rate: float, now: float) -> None:
        self._fill_rate = 0.0
        self._max_capacity = 1.0
        self._capacity = 0.0
        self._last: float | None = None
        self.set_max_rate(max_rate, now)

    @property
    def max_rate(self) -> float:
        return self._fill_rate

    def set_max_rate(self, value: float, now: float) -> None:
        # Tokens earned so far accrue at the old rate before the new one applies.
        self._refill(now)
        self._fill_rate = max(value, self.MIN_RATE)
        self._max_capacity = value if value >= 1 else 1.0
        self._capacity = min(self._capacity, self._max_capacity)

    def _refill(self, now: float) -> None:
        if self._last is None:
            self._last = now
            return
        if now > self._last:
            self._capacity = min(
                self._max_capacity, self._capacity + (now - self._last) * self._fill_rate
            )
            self._last = now

    def reserve(self, now: float, amount: float = 1.0) -> float:
        """Take ``amount`` tokens; the seconds to wait before using them (0.0: go now)."""
        self._refill(now)
        self._capacity -= amount
        if self._capacity >= 0:
            return 0.0
        return -self._capacity / self._fill_rate


class RateClocker:
    """The measured send rate: responses per second over half-second buckets, smoothed."""

    SMOOTHING = 0.8
    BUCKET_SCALE = 2.0  # 1 / 0.5 s

    def __init__(self, now: float) -> None:
        self.measured_rate = 0.0
        self._last_bucket = float(math.floor(now))
        self._count = 0

    def record(self, now: float) -> float:
        bucket = math.floor(now * self.BUCKET_SCALE) / self.BUCKET_SCALE
        self._count += 1
        if bucket > self._last_bucket:
            current = self._count / (bucket - self._last_bucket)
            self.measured_rate = current * self.SMOOTHING + self.measured_rate * (
                1 - self.SMOOTHING
            )
            self._count = 0
            self._last_bucket = bucket
        return self.measured_rate


class CubicCalculator:
    """CUBIC congestion control over the send rate (as in botocore's ``throttling.py``)."""

    SCALE = 0.4
    BETA = 0.7

    def __init__(self, starting_max_rate: float, start_time: float) -> None:
        self.w_max = starting_max_rate
        self.k = self._zero_point()
        self.last_fail = start_time

    def _zero_point(self) -> float:
        return float(((self.w_max * (1 - self.BETA)) / self.SCALE) ** (1 / 3.0))

    def success_received(self, now: float) -> float:
        return self.SCALE * (now - self.last_fail - self.k) ** 3 + self.w_max

    def error_received(self, current_rate: float, now: float) -> float:
        self.w_max = current_rate
        self.k = self._zero_point()
        self.last_fail = now
        return current_rate * self.BETA


class ClientRateLimiter:
    """Paces one client's requests after it has been throttled (thread-safe, no sleeping)."""

    MAX_RATE_ADJUST_SCALE = 2.0

    def __init__(self, clock: Callable[[], float]) -> None:
        now = clock()
        self.clock = clock
        self._cubic = CubicCalculator(0.0, now)
        self._bucket = TokenBucket(1.0, now)
        self._clocker = RateClocker(now)
        self.enabled = False
        self._lock = ForkSafeLock()

    @property
    def max_rate(self) -> float:
        return self._bucket.max_rate

    def send_delay(self) -> float:
        """Seconds to wait before the next attempt may be sent (a token is taken now)."""
        if not self.enabled:
            return 0.0
        with self._lock:
            return self._bucket.reserve(self.clock())

    def observe(self, throttled: bool) -> None:
        """Record one attempt's outcome (every response and network failure)."""
        now = self.clock()
        with self._lock:
            measured = self._clocker.record(now)
            if not throttled:
                new_rate = self._cubic.success_received(now)
            else:
                rate = measured if not self.enabled else min(measured, self._bucket.max_rate)
                new_rate = self._cubic.error_received(rate, now)
                self.enabled = True
            self._bucket.set_max_rate(min(new_rate, self.MAX_RATE_ADJUST_SCALE * measured), now)


class AdaptiveRetry(StandardRetry):
    """The ``adaptive`` mode: ``standard`` decisions plus a shared client-side rate limiter."""

    __slots__ = ("rate_limiter",)

    def __init__(
        self,
        max_attempts: int = 3,
        quota: RetryQuota | None = None,
        random: Callable[[], float] = _random.random,
        mode: str = "adaptive",
        rate_limiter: ClientRateLimiter | None = None,
    ) -> None:
        super().__init__(max_attempts, quota, random, mode)
        self.rate_limiter = rate_limiter

    @property
    def limiter(self) -> ClientRateLimiter | None:
        return self.rate_limiter


RetryStrategy = StandardRetry | LegacyRetry


def make_retry(mode: str, max_attempts: int | None, clock: Callable[[], float]) -> RetryStrategy:
    """The strategy for ``mode``; ``max_attempts`` ``None`` means the mode's default."""
    if mode not in RETRY_MODES:
        raise ParamValidationError(f"retry_mode must be one of {RETRY_MODES}, got {mode!r}")
    attempts = DEFAULT_MAX_ATTEMPTS[mode] if max_attempts is None else max_attempts
    if mode == "legacy":
        return LegacyRetry(max_attempts=attempts)
    if mode == "adaptive":
        return AdaptiveRetry(max_attempts=attempts, rate_limiter=ClientRateLimiter(clock))
    return StandardRetry(max_attempts=attempts)


# --- clock skew --------------------------------------------------------------------------------

#: The service says outright that the request time is wrong.
DEFINITE_SKEW_CODES = frozenset({"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"})
#: A bad signature may be a wrong clock: only when the server's ``Date`` is far from ours.
POSSIBLE_SKEW_CODES = frozenset(
    {"InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure"}
)
SKEW_THRESHOLD = 4 * 60.0

_MONTHS = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# Compiled (and cached by ``re``) on first use: only a clock-skew error needs it.
_IMF_FIXDATE = r"[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT"


def parse_http_date(value: str | None) -> float | None:
    """A ``Date`` header as a POSIX timestamp, or ``None`` when absent or unreadable."""
    if not value:
        return None
    match = re.fullmatch(_IMF_FIXDATE, value.strip())
    try:
        if match is not None:
            day, month, year, hour, minute, second = match.groups()
            when = _dt.datetime(
                int(year),
                _MONTHS[month.lower()],
                int(day),
                int(hour),
                int(minute),
                min(int(second), 59),  # a leap second reads as :59
                tzinfo=_dt.timezone.utc,
            )
            return when.timestamp()
        # The obsolete forms HTTP still allows (RFC 850, asctime): rare, so parsed lazily.
        import email.utils

        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else float(email.utils.mktime_tz(parsed))
    except (KeyError, ValueError, OverflowError, TypeError):
        return None


def skew_correction(
    error: CloudFrontError, date_header: str | None, local_time: float, offset: float
) -> float | None:
    """The corrected clock offset when ``error`` means our clock is wrong, else ``None``.

    ``local_time`` is the uncorrected clock now and ``offset`` the correction in use. The
    ``RequestTimeTooSkewed``/``RequestExpired``/``RequestInTheFuture`` codes correct any
    difference of a second or more; ``SignatureDoesNotMatch``, ``InvalidSignatureException``
    and ``AuthFailure`` only one of more than 4 minutes (otherwise the signature is simply
    wrong). Without a readable ``Date`` header nothing can be corrected.
    """
    code = error.code
    if code not in DEFINITE_SKEW_CODES and code not in POSSIBLE_SKEW_CODES:
        return None
    server_time = parse_http_date(date_header)
    if server_time is None:
        return None
    skew = server_time - (local_time + offset)
    threshold = SKEW_THRESHOLD if code in POSSIBLE_SKEW_CODES else 1.0
    if abs(skew) <= threshold:
        return None
    return server_time - local_time
