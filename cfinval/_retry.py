"""Retry decisions, sans I/O: which failures are retried, how long to back off, the retry quota.

``standard`` mode follows botocore's ``botocore/retries/standard.py`` and ``quota.py``:

* retried: HTTP 500/502/503/504, 429, the throttling and transient error codes below, and
  network failures (connection errors, timeouts);
* back off ``random() * min(base_scale * 2 ** (attempt - 1), 20)`` seconds, where
  ``base_scale`` is 1 s for throttling errors and 50 ms otherwise; an ``x-amz-retry-after``
  header (milliseconds) raises the delay, to at most 5 s above the computed one;
* a retry quota of 500 shared by all calls of a client: a retry costs 14 (5 after throttling),
  a success gives back what its retry took, or 1 when it needed none.
"""

from __future__ import annotations

import random as _random
import threading
from collections.abc import Callable

from attrs import define, field

from ._errors import CloudFrontError

__all__ = ["THROTTLING_CODES", "TRANSIENT_CODES", "RetryQuota", "StandardRetry"]

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
_MODELED_CODES = frozenset({"AccessDenied", "EntityNotFound", "InvalidArgument"})
MAX_BACKOFF = 20.0
RETRY_AFTER_MAX_ADDITIONAL = 5.0


@define
class RetryQuota:
    """A token bucket shared by every call of one client (thread-safe)."""

    capacity: int = 500
    available: int = field(init=False)
    _lock: threading.Lock = field(init=False, factory=threading.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        self.available = self.capacity

    def acquire(self, amount: int) -> bool:
        with self._lock:
            if amount > self.available:
                return False
            self.available -= amount
            return True

    def release(self, amount: int) -> None:
        with self._lock:
            self.available = min(self.capacity, self.available + amount)


def is_throttling(error: CloudFrontError) -> bool:
    if error.code in THROTTLING_CODES:
        return True
    return error.status_code == 429 and error.code not in _MODELED_CODES


def is_retryable_error(error: CloudFrontError) -> bool:
    return (
        error.code in TRANSIENT_CODES
        or error.status_code in TRANSIENT_STATUS
        or is_throttling(error)
    )


@define
class StandardRetry:
    """The ``standard`` retry mode. One instance per client; ``random`` is injectable for tests."""

    max_attempts: int = 3
    quota: RetryQuota = field(factory=RetryQuota)
    random: Callable[[], float] = field(default=_random.random, repr=False)
    mode: str = "standard"

    def decide(
        self, attempt: int, error: CloudFrontError | None, retry_after_ms: str | None
    ) -> tuple[float, int] | None:
        """``(seconds to sleep, quota taken)`` before attempt ``attempt + 1``, or ``None``.

        ``error`` is the service error, or ``None`` for a network failure (always retryable).
        """
        if attempt >= self.max_attempts:
            return None
        if error is not None and not is_retryable_error(error):
            return None
        throttled = error is not None and is_throttling(error)
        cost = 5 if throttled else 14
        if not self.quota.acquire(cost):
            return None
        scale = 1.0 if throttled else 0.05
        backoff = self.random() * min(scale * 2 ** (attempt - 1), MAX_BACKOFF)
        if retry_after_ms is not None:
            try:
                retry_after = int(retry_after_ms) / 1000.0
            except (ValueError, OverflowError):
                retry_after = -1.0
            if retry_after >= 0:
                backoff = max(backoff, min(retry_after, RETRY_AFTER_MAX_ADDITIONAL + backoff))
        return backoff, cost

    def succeeded(self, last_cost: int) -> None:
        """A call succeeded; ``last_cost`` is the quota its last retry took (0: no retry)."""
        self.quota.release(last_cost or 1)
