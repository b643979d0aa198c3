"""The deploy step: one invalidation on each of many tenants, sans I/O.

``invalidate_tenants`` runs a :class:`Deployment` on the fan-out :class:`~.fanout.Scheduler`,
as ``list_many`` runs its listings: the drivers' ``_fan_out`` perform the effects, and
everything that decides is here:

* **one invalidation per tenant, resumable**: tenant ``T`` is sent ``CallerReference``
  ``f"{prefix}-{T}"`` on every attempt and every re-run with the same ``prefix``, so the
  service answers a repeat with the invalidation it made the first time (nothing is created
  twice, whatever was lost on the way).
* **throttling** is paced as in ``list_many`` (the shared :class:`~.fanout.Pacer`).
* **the distribution's in-flight limits** (3,000 paths, 15 wildcard paths in progress):
  ``TooManyInvalidationsInProgress`` closes the :class:`InFlightGate` shared by the run's
  tenants for a growing, jittered delay; the refused tenant keeps its place (so that no
  other one starts meanwhile), waits until the gate opens (early, when one of this run's
  invalidations is seen ``Completed``), and retries with the same ``CallerReference``.
* **waiting** (``wait=True``): each tenant polls ``GetInvalidationForDistributionTenant``
  every ``poll`` seconds until ``Completed``; a tenant waiting so is parked (others may
  start creating meanwhile).
* **one deadline** for the run (``timeout``, on the monotonic clock, from before the tenants
  are listed): every sleep ends by it; a tenant not sent its create by then is reported
  failed without sending it (its last refusal, else a :class:`~cfinval.WaitTimeoutError`
  saying the deadline passed before its create); one still refused or in progress then, with
  the last error or a :class:`~cfinval.WaitTimeoutError`. The run ends within ``timeout`` and
  the calls in flight then (each bounded by its own retries).
* **per-tenant results**: each tenant's outcome is a :class:`~cfinval.TenantInvalidation`,
  never an exception. Polling keeps going through throttling, 5xx and network failures
  until the deadline. Two things stop the creates of the whole run: a batch-level error
  (:data:`BATCH_ERROR_CODES`; ``InvalidArgument`` from two tenants before any create
  succeeded): the other tenants are reported failed with it, unsent; and a credential
  failure (:class:`~cfinval.NoCredentialsError`, including a
  :class:`~cfinval.CredentialRetrievalError` from a refresh that was due: the resolver
  already kept the current credentials through failed refreshes while it could): every
  tenant not done is reported failed with it, nothing more is sent, and the run raises it
  once all are reported.
"""

from __future__ import annotations

import logging
import math
import random as _random
import threading
from collections.abc import Callable, Iterable

from attrs import define, field, frozen

from .._errors import (
    CloudFrontError,
    Error,
    NoCredentialsError,
    ParamValidationError,
    TooManyInvalidationsInProgress,
    TransportError,
    WaitTimeoutError,
)
from .._invalidation_models import Invalidation, TenantInvalidation
from .call import Session, operation_flow
from .defaults import DEFAULT_CONCURRENCY, DEFAULT_DEPLOY_TIMEOUT, DEFAULT_POLL
from .effects import Flow, Sleep
from .fanout import MAX_THROTTLE_RESUMES, Pacer, paced
from .invalidations import (
    CreateInvalidation,
    GetInvalidation,
    check_paths,
    check_reference,
    new_caller_reference,
)
from .protocol import check_count, check_id
from .retry import is_throttling
from .timeouts import seconds

__all__ = [
    "BATCH_ERROR_CODES",
    "MAX_PREFIX_LENGTH",
    "WAITING_PER_ACTIVE",
    "DeployOptions",
    "Deployment",
    "InFlightGate",
    "invalidation_flow",
]

log = logging.getLogger("cfinval")

#: The longest caller-reference prefix accepted (a tenant Id and a dash follow it).
MAX_PREFIX_LENGTH = 512
#: With ``wait=True``, how many tenants may be under way per active one: those waiting for
#: their invalidation to complete only poll, so they do not hold up the others' creates.
WAITING_PER_ACTIVE = 4
#: How long a tenant refused for the in-flight limits sleeps at most before it looks at the
#: gate again (it opens early when one of the run's invalidations completes); never longer
#: than ``poll``, the cadence at which completions are seen.
GATE_RECHECK = 5.0


@frozen
class DeployOptions:
    """Validated arguments of ``invalidate_tenants`` (checked before anything is sent)."""

    paths: tuple[str, ...]
    prefix: str
    distribution_id: str | None
    tenant_ids: tuple[str, ...] | None
    wait: bool
    concurrency: int
    poll: float
    timeout: float | None

    @classmethod
    def create(
        cls,
        paths: object,
        *,
        distribution_id: object = None,
        tenant_ids: object = None,
        caller_reference: object = None,
        wait: object = False,
        concurrency: object = DEFAULT_CONCURRENCY,
        poll: object = DEFAULT_POLL,
        timeout: object = DEFAULT_DEPLOY_TIMEOUT,
        new_reference: Callable[[], str] = new_caller_reference,
    ) -> DeployOptions:
        checked = check_paths(paths)
        if (distribution_id is None) == (tenant_ids is None):
            raise ParamValidationError(
                "give either distribution_id (every tenant of that distribution) or "
                "tenant_ids (those tenants), not "
                + ("both" if distribution_id is not None else "neither")
            )
        distribution = (
            None
            if distribution_id is None
            else check_id("distribution_id", distribution_id, "a distribution Id")
        )
        tenants = None if tenant_ids is None else _tenant_ids(tenant_ids)
        prefix = check_reference(
            "caller_reference", caller_reference, MAX_PREFIX_LENGTH, new_reference, " (a prefix)"
        )
        if not isinstance(wait, bool):
            raise ParamValidationError(f"wait must be True or False, got {wait!r}")
        return cls(
            checked,
            prefix,
            distribution,
            tenants,
            wait,
            check_count("concurrency", concurrency),
            seconds("poll", poll, allow_zero=False),
            None if timeout is None else seconds("timeout", timeout, allow_zero=True),
        )

    def reference(self, tenant_id: str) -> str:
        """The ``CallerReference`` of ``tenant_id``: the same on every attempt and re-run."""
        return f"{self.prefix}-{tenant_id}"


def _tenant_ids(value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ParamValidationError(
            "tenant_ids must be a collection of tenant Ids (a list, a tuple, ...), "
            f"not {type(value).__name__}"
        )
    unique: dict[str, None] = {}
    for index, tenant_id in enumerate(value):
        unique[check_id(f"tenant_ids[{index}]", tenant_id)] = None
    return tuple(unique)


@define
class InFlightGate:
    """The in-flight limits of one run's distribution, as its tenants learn them (thread-safe).

    ``TooManyInvalidationsInProgress`` closes the gate for ``base_delay * 2**(n-1)`` seconds
    (``n``: rounds refused in a row, at most ``max_delay``, jittered to 50-100 %; refusals
    that arrive while the gate is closed, of creates sent together, are one round); a create that
    succeeds ends the streak; one of the run's invalidations seen ``Completed`` opens it.
    One gate per run: its tenants are taken to share a distribution (as with
    ``distribution_id=``); ``tenant_ids=`` of several distributions share it all the same,
    so a refusal on one slows the others (the service never says which distribution it was).
    """

    base_delay: float = 5.0
    max_delay: float = 60.0
    random: Callable[[], float] = field(default=_random.random, repr=False)
    open_at: float = -math.inf
    streak: int = 0
    refusals: int = 0
    _lock: threading.Lock = field(init=False, factory=threading.Lock, repr=False)

    def wait_time(self, now: float) -> float:
        return max(0.0, self.open_at - now)

    def refused(self, now: float) -> None:
        with self._lock:
            self.refusals += 1
            if now >= self.open_at:  # a new round; refusals while closed belong to this one
                self.streak += 1
            ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(self.streak - 1, 30))
            self.open_at = max(self.open_at, now + ceiling * (0.5 + 0.5 * self.random()))

    def created(self) -> None:
        with self._lock:
            self.streak = 0

    def completed(self, now: float) -> None:
        with self._lock:
            self.streak = 0
            self.open_at = min(self.open_at, now)


#: Error codes of ``CreateInvalidationForDistributionTenant`` that are about the batch (the
#: same for every tenant of a run): after the first one, no other tenant is sent a create.
BATCH_ERROR_CODES = frozenset({"BatchTooLarge", "InconsistentQuantities", "MissingBody"})
#: ``InvalidArgument`` may also be about one tenant (its Id, its ``CallerReference``): it
#: stops the run only when this many tenants got it and no create of the run succeeded.
INVALID_ARGUMENT_STOPS_AFTER = 2


class Deployment:
    """One run of the deploy step over ``tenant_ids``: a :class:`~.fanout.FanOut` whose
    flows create (and with ``wait``, wait for) each tenant's invalidation.

    What its tenants share besides the gate: the deadline, and what stops the run (the
    batch refused, credentials gone): tenants not sent their create yet are then reported
    failed without sending it."""

    __slots__ = (
        "_invalid_arguments",
        "_lock",
        "any_created",
        "batch_error",
        "credential_error",
        "deadline",
        "gate",
        "options",
        "tenant_ids",
    )

    def __init__(
        self,
        options: DeployOptions,
        tenant_ids: Iterable[str],
        started: float,
        gate: InFlightGate | None = None,
    ) -> None:
        self.options = options
        self.tenant_ids = tuple(dict.fromkeys(tenant_ids))
        self.deadline = None if options.timeout is None else started + options.timeout
        self.gate = gate or InFlightGate()
        #: The batch-level error that stopped the creates (``BatchTooLarge``...), if any.
        self.batch_error: CloudFrontError | None = None
        #: The credential failure that stopped the run, if any (raised once all are reported).
        self.credential_error: NoCredentialsError | None = None
        self.any_created = False
        self._invalid_arguments = 0
        self._lock = threading.Lock()

    @property
    def concurrency(self) -> int:
        return self.options.concurrency

    @property
    def max_running(self) -> int:
        if self.options.wait:
            return self.options.concurrency * WAITING_PER_ACTIVE
        return self.options.concurrency

    def __len__(self) -> int:
        return len(self.tenant_ids)

    def flow(self, session: Session, index: int, pacer: Pacer) -> Flow[TenantInvalidation]:
        return invalidation_flow(session, self, self.tenant_ids[index], pacer)

    def capped(self, seconds: float, now: float) -> float:
        """``seconds``, at most the time left until the deadline."""
        return seconds if self.deadline is None else max(0.0, min(seconds, self.deadline - now))

    def before_create(self, now: float, tenant_id: str, last: Error | None) -> Error | None:
        """Why ``tenant_id`` must not be sent its create now (``None``: it may): the run
        stopped, or the deadline passed (its ``last`` refusal, else a timeout)."""
        if self.credential_error is not None:
            return self.credential_error
        if self.batch_error is not None:
            return self.batch_error
        if self.deadline is not None and now >= self.deadline:
            if last is not None:
                return last
            return WaitTimeoutError(
                f"the deadline ({self.options.timeout:g} s) passed before its create: tenant "
                f"{tenant_id!r} was not sent one (run again with the same caller_reference)"
            )
        return None

    def created(self) -> None:
        self.any_created = True
        self.gate.created()

    def batch_refused(self, error: CloudFrontError) -> None:
        """Note a refused create: a batch-level error code stops the other creates."""
        with self._lock:
            if error.code == "InvalidArgument":
                self._invalid_arguments += 1
                if self.any_created or self._invalid_arguments < INVALID_ARGUMENT_STOPS_AFTER:
                    return
            elif error.code not in BATCH_ERROR_CODES:
                return
            if self.batch_error is None:
                log.debug("the batch was refused (%s): no other tenant is sent it", error.code)
                self.batch_error = error

    def credentials_failed(self, error: NoCredentialsError) -> NoCredentialsError:
        """Credentials failed (none found, or a refresh that failed when it was due): the run
        stops; the first such error is the run's."""
        with self._lock:
            if self.credential_error is None:
                self.credential_error = error
            return self.credential_error


def invalidation_flow(
    session: Session, run: Deployment, tenant_id: str, pacer: Pacer
) -> Flow[TenantInvalidation]:
    """Create (and with ``wait``, wait for) ``tenant_id``'s invalidation; never raises for
    that tenant's own failures (see the module's docstring)."""
    options = run.options
    reference = options.reference(tenant_id)

    def failed(error: Error, invalidation: Invalidation | None = None) -> TenantInvalidation:
        return TenantInvalidation(tenant_id, reference, invalidation, error)

    create = CreateInvalidation(tenant_id, options.paths, reference)
    resumes = 0
    last: Error | None = None  # this tenant's last refusal (in-flight limits, throttling)
    while True:
        now = session.monotonic()
        stop = run.before_create(now, tenant_id, last)
        if stop is not None:  # the deadline passed, or the run stopped: send nothing
            return failed(stop)
        wait = run.gate.wait_time(now)
        if wait > 0:  # closed by the in-flight limits: keep the place, send nothing
            yield Sleep(run.capped(min(wait, GATE_RECHECK, options.poll), now))
            continue
        try:
            created = yield from paced(session, pacer, operation_flow(session, create))
        except NoCredentialsError as exc:
            return failed(run.credentials_failed(exc))
        except TooManyInvalidationsInProgress as exc:
            now = session.monotonic()
            run.gate.refused(now)
            last = exc
            log.debug("tenant %r: too many invalidations in progress; waiting", tenant_id)
            if run.deadline is not None and now + run.gate.wait_time(now) >= run.deadline:
                return failed(exc)
            continue
        except CloudFrontError as exc:
            run.batch_refused(exc)
            if not (is_throttling(exc) and resumes < MAX_THROTTLE_RESUMES):
                return failed(exc)
            resumes += 1
            last = exc
            delay = run.capped(pacer.resume_delay(resumes), session.monotonic())
            yield from _parked(pacer, delay)
            continue
        except Error as exc:
            return failed(exc)
        break
    run.created()
    if not options.wait or created.completed:
        if created.completed:
            run.gate.completed(session.monotonic())
        return TenantInvalidation(tenant_id, reference, created)
    current = created
    get = GetInvalidation(tenant_id, created.id)
    while True:
        now = session.monotonic()
        if run.credential_error is not None:
            return failed(run.credential_error, current)
        if run.deadline is not None and now >= run.deadline:
            return failed(
                WaitTimeoutError(
                    f"timed out after {options.timeout:g} s waiting for invalidation "
                    f"{created.id} of tenant {tenant_id!r} to complete",
                    pending=(created.id,),
                ),
                current,
            )
        yield from _parked(pacer, run.capped(options.poll, now))
        try:
            current = yield from paced(session, pacer, operation_flow(session, get))
        except NoCredentialsError as exc:
            return failed(run.credentials_failed(exc), current)
        except CloudFrontError as exc:
            if is_throttling(exc) or exc.status_code >= 500:
                continue  # the next poll comes after `poll` seconds, paced
            return failed(exc, current)
        except TransportError:
            continue  # the network, after the call's own retries: poll again until the deadline
        except Error as exc:
            return failed(exc, current)
        if current.completed:
            run.gate.completed(session.monotonic())
            return TenantInvalidation(tenant_id, reference, current)


def _parked(pacer: Pacer, seconds: float) -> Flow[None]:
    """Sleep without counting as active: another tenant may start meanwhile."""
    pacer.park(1)
    try:
        yield Sleep(seconds)
    finally:
        pacer.park(-1)
