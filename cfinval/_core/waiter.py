"""botocore's ``InvalidationForDistributionTenantCompleted`` waiter as a flow (no I/O).

The waiter of ``cloudfront/2020-05-31/waiters-2.json``: call
``GetInvalidationForDistributionTenant``; ``Invalidation.Status == "Completed"`` is success;
otherwise, after ``MaxAttempts`` calls, give up; else sleep ``Delay`` seconds and call again.
Like botocore's ``Waiter.wait``, it sleeps after every call but the last (so the calls are
``Delay`` seconds apart plus the time each takes), and an error answer ends the wait at once:
the waiter has no acceptor for any error, so the typed :class:`CloudFrontError`
(``NoSuchInvalidation``, ``EntityNotFound``, ...) is raised as the call raised it.

Sleeps are ``Sleep`` effects and the time waited is measured on the session's monotonic
clock, so one flow serves ``Client`` and ``AsyncClient`` and tests run it in virtual time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from attrs import frozen

from .._errors import ParamValidationError, WaitTimeoutError
from .._invalidation_models import Invalidation
from .call import Session, operation_flow
from .effects import Flow, Sleep
from .invalidations import GetInvalidation
from .timeouts import format_duration

__all__ = [
    "DEFAULT_DELAY",
    "DEFAULT_MAX_ATTEMPTS",
    "WAITER_NAME",
    "WaiterConfig",
    "invalidation_waiter_flow",
]

log = logging.getLogger("cfinval")

#: The waiter's name in botocore's model (and in its ``WaiterError`` text).
WAITER_NAME = "InvalidationForDistributionTenantCompleted"
#: ``delay`` and ``maxAttempts`` of the model: a call every 20 s, 30 calls.
DEFAULT_DELAY = 20
DEFAULT_MAX_ATTEMPTS = 30
COMPLETED = "Completed"


@frozen
class WaiterConfig:
    """A validated ``WaiterConfig={"Delay": seconds, "MaxAttempts": n}`` (either key may be
    left out: the model's default is used)."""

    delay: float
    max_attempts: int

    @classmethod
    def create(cls, config: object) -> WaiterConfig:
        if config is None:
            return cls(DEFAULT_DELAY, DEFAULT_MAX_ATTEMPTS)
        if not isinstance(config, Mapping):
            raise ParamValidationError(
                "WaiterConfig must be a dict such as {'Delay': 20, 'MaxAttempts': 30}, not "
                f"{type(config).__name__}"
            )
        unknown = sorted(str(key) for key in config if key not in ("Delay", "MaxAttempts"))
        if unknown:
            raise ParamValidationError(
                f"WaiterConfig has unknown keys: {', '.join(unknown)} (it takes Delay and "
                "MaxAttempts)"
            )
        delay = config.get("Delay", DEFAULT_DELAY)
        if (
            isinstance(delay, bool)
            or not isinstance(delay, (int, float))
            or not math.isfinite(delay)
            or delay < 0
        ):
            raise ParamValidationError(
                f"WaiterConfig['Delay'] must be zero or more seconds, got {delay!r}"
            )
        attempts = config.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ParamValidationError(
                f"WaiterConfig['MaxAttempts'] must be a positive int, got {attempts!r}"
            )
        return cls(delay, attempts)


def invalidation_waiter_flow(
    session: Session, operation: GetInvalidation, config: WaiterConfig
) -> Flow[Invalidation]:
    """Call ``operation`` until the invalidation is ``Completed``; return it.

    Raises :class:`WaitTimeoutError` after ``config.max_attempts`` calls that saw it still in
    progress, and whatever a call raises (``NoSuchInvalidation``, ``AccessDenied``, a
    ``TransportError`` after the call's own retries) at once.
    """
    started = session.monotonic()
    attempts = 0
    while True:
        invalidation = yield from operation_flow(session, operation)
        attempts += 1
        if invalidation.status == COMPLETED:
            log.debug("waiter %s: Completed after %d call(s)", WAITER_NAME, attempts)
            return invalidation
        if attempts >= config.max_attempts:
            waited = session.monotonic() - started
            raise WaitTimeoutError(
                f"Waiter {WAITER_NAME} failed: Max attempts exceeded: waited "
                f"{format_duration(waited)} ({attempts} call(s), {config.delay:g} s apart) and "
                f"invalidation {operation.id} of distribution tenant {operation.tenant_id} is "
                f"still {invalidation.status}",
                pending=(operation.id,),
                waited=waited,
                last=invalidation,
            )
        log.debug(
            "waiter %s: %s after call %d; next call in %g s",
            WAITER_NAME,
            invalidation.status,
            attempts,
            config.delay,
        )
        yield Sleep(config.delay)
