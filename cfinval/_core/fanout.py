"""Work on many tenants at once: the scheduler, the shared pacing and the listing flow, sans I/O.

The drivers' ``_fan_out`` only run flows: they start each flow the :class:`Scheduler` hands
out (while fewer than :meth:`Pacer.allowed` are active) and perform its effects. What a
tenant's flow does is the fan-out's business (a :class:`FanOut`): :class:`FanOutPlan` lists
each tenant (``list_many``, :func:`tenant_flow`), ``deploy.Deployment`` creates (and waits
for) an invalidation on each (``invalidate_tenants``). Everything that decides lives here, once:

* **per-tenant outcome**: a tenant's service error (``EntityNotFound``, ``AccessDenied``, ...)
  or network failure becomes that tenant's :class:`TenantResult`; the other tenants go on.
  Only :class:`~cfinval.NoCredentialsError` stops everything: no tenant can succeed without
  credentials.
* **throttling-aware pacing** (:class:`Pacer`, shared by all tenants of one call): every
  throttled response halves the allowed concurrency (at most once per burst) and opens a
  cool-down that every request waits out; every success adds ``1/limit`` back (additive
  increase, multiplicative decrease). A tenant whose page is still throttled after the
  client's own retries waits ("parked", sending nothing) and resumes from that page instead
  of failing. The drivers never run more than ``concurrency`` tenants, and start one only
  while fewer than :meth:`Pacer.allowed` of the running ones are active (not parked).
"""

from __future__ import annotations

import logging
import math
import random as _random
import threading
from collections.abc import Callable, Generator, Iterable
from typing import Any, Generic, Protocol, TypeVar

from attrs import define, field, frozen

from .._errors import CloudFrontError, Error, NoCredentialsError, ParamValidationError
from .._models import InvalidationList, InvalidationSummary, TenantResult
from .call import Session
from .effects import Flow, Send, Sleep, forward
from .http import HttpResponse
from .pagination import PaginationPlan, PaginationState, pages_flow
from .protocol import check_count, error_from_response
from .retry import is_throttling

__all__ = [
    "RECHECK",
    "FanOut",
    "FanOutPlan",
    "Pacer",
    "Scheduler",
    "TenantPlan",
    "paced",
    "tenant_flow",
]

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

log = logging.getLogger("cfinval")

#: How many times one tenant resumes a page that stayed throttled after the client's retries.
MAX_THROTTLE_RESUMES = 8


@define
class Pacer:
    """Concurrency and cool-down shared by the tenants of one ``list_many`` call (thread-safe).

    ``now`` readings are passed in by the flows (the session's monotonic clock, so that a step
    of the wall clock changes no cool-down), and tests control time.
    """

    max_concurrency: int
    base_delay: float = 0.5
    max_delay: float = 20.0
    random: Callable[[], float] = field(default=_random.random, repr=False)
    limit: float = field(init=False)
    resume_at: float = -math.inf
    streak: int = 0
    last_cut: float = -math.inf
    throttled_responses: int = 0
    #: Tenants waiting before they resume a throttled page: running, but sending nothing.
    parked: int = 0
    _lock: threading.Lock = field(init=False, factory=threading.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        self.limit = float(self.max_concurrency)

    def allowed(self) -> int:
        """How many tenants may be actively listing now."""
        return max(1, int(self.limit))

    def may_start(self, running: int, limit: int | None = None) -> bool:
        """Whether a driver with ``running`` tenants under way (at most ``limit``, default
        ``max_concurrency``) may start one more: parked ones are not active."""
        cap = self.max_concurrency if limit is None else limit
        return running < cap and running - self.parked < self.allowed()

    def park(self, delta: int) -> None:
        with self._lock:
            self.parked += delta

    def wait_time(self, now: float) -> float:
        """Seconds to wait before sending (the cool-down after throttling)."""
        return max(0.0, self.resume_at - now)

    def _delay(self, exponent: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(exponent, 30))
        return ceiling * (0.5 + 0.5 * self.random())

    def throttled(self, now: float) -> None:
        """A response said "slow down"."""
        with self._lock:
            self.throttled_responses += 1
            self.streak += 1
            # Responses of one burst arrive together: cut once per cool-down, not per response.
            if now >= self.last_cut + self.base_delay:
                self.limit = max(1.0, self.limit / 2)
                self.last_cut = now
            self.resume_at = max(self.resume_at, now + self._delay(self.streak - 1))
            log.debug(
                "throttled: concurrency now %d, cool-down %.3f s",
                self.allowed(),
                self.resume_at - now,
            )

    def succeeded(self) -> None:
        with self._lock:
            self.streak = 0
            self.limit = min(float(self.max_concurrency), self.limit + 1.0 / self.limit)

    def resume_delay(self, resumes: int) -> float:
        """Wait before a tenant resumes a page that stayed throttled (``resumes`` >= 1)."""
        return self._delay(resumes)


class TenantPlan(PaginationPlan):
    """One tenant of a fan-out: its listing, and whether to keep the items or only count them
    (``keep_items=False``: memory stays flat whatever the listing's size)."""

    __slots__ = ("keep_items",)

    def __init__(self, plan: PaginationPlan, keep_items: bool = True) -> None:
        super().__init__(
            plan.tenant_id, plan.page_size, plan.max_items, plan.marker, plan.skip, plan.since
        )
        self.keep_items = keep_items


class FanOut(Protocol[R_co]):
    """What a :class:`Scheduler` runs: ``len()`` tenants, the flow of each (by index, in the
    order given), at most ``max_running`` flows at once, ``concurrency`` of them active (the
    pacer's maximum). A flow returns that tenant's result and raises only for what stops
    everything (credentials missing, a bug)."""

    @property
    def concurrency(self) -> int: ...

    @property
    def max_running(self) -> int: ...

    def __len__(self) -> int: ...

    def flow(self, session: Session, index: int, pacer: Pacer) -> Flow[R_co]: ...


@frozen
class FanOutPlan:
    """Validated ``list_many`` arguments: one plan per distinct tenant."""

    plans: tuple[PaginationPlan, ...]
    concurrency: int

    @property
    def max_running(self) -> int:
        return self.concurrency

    def __len__(self) -> int:
        return len(self.plans)

    def flow(self, session: Session, index: int, pacer: Pacer) -> Flow[TenantResult]:
        return tenant_flow(session, self.plans[index], pacer)

    @classmethod
    def create(
        cls,
        tenant_ids: object,
        concurrency: object,
        max_items_per_tenant: object,
        page_size: object,
        keep_items: object = True,
    ) -> FanOutPlan:
        if isinstance(tenant_ids, (str, bytes)) or not isinstance(tenant_ids, Iterable):
            raise ParamValidationError(
                "tenant_ids must be a collection of tenant Ids (a list, a tuple, ...), "
                f"not {type(tenant_ids).__name__}"
            )
        workers = check_count("concurrency", concurrency)
        if max_items_per_tenant is not None:
            check_count("max_items_per_tenant", max_items_per_tenant)
        if not isinstance(keep_items, bool):
            raise ParamValidationError(f"keep_items must be True or False, got {keep_items!r}")
        plans: dict[str, PaginationPlan] = {}
        for tenant_id in tenant_ids:
            # validate before using the Id as a key: an unhashable one must not raise TypeError
            plan = PaginationPlan.create(tenant_id, page_size, max_items_per_tenant, None)
            plans.setdefault(plan.tenant_id, TenantPlan(plan, keep_items))
        return cls(tuple(plans.values()), workers)


def _observe(pacer: Pacer, outcome: object, now: float) -> None:
    if not isinstance(outcome, HttpResponse):
        return  # a network failure says nothing about the service's rate
    if outcome.status_code < 300:
        pacer.succeeded()
    elif outcome.status_code in (400, 429, 503) and is_throttling(error_from_response(outcome)):
        pacer.throttled(now)


def _pacing(session: Session, pacer: Pacer) -> Callable[[Any], Generator[Any, Any, Any]]:
    """A ``forward`` hook: wait out the pacer's cool-down before each request and report
    each response to it."""

    def hook(effect: Any) -> Generator[Any, Any, Any]:
        if not isinstance(effect, Send):
            return (yield effect)
        wait = pacer.wait_time(session.monotonic())
        if wait > 0:
            yield Sleep(wait)
        outcome = yield effect
        _observe(pacer, outcome, session.monotonic())
        return outcome

    return hook


def paced(session: Session, pacer: Pacer, flow: Flow[R]) -> Generator[Any, Any, R]:
    """Run ``flow`` (one call: it emits nothing) paced by ``pacer``."""
    result = yield from forward(flow, _emits_nothing, _pacing(session, pacer))
    return result  # type: ignore[return-value]  # None only when on_emit stops it


def _emits_nothing(value: object) -> None:
    raise TypeError(f"a paced call emitted {value!r}")  # pragma: no cover


def _paced_pages(
    session: Session,
    plan: PaginationPlan,
    state: PaginationState,
    pacer: Pacer,
    on_page: Callable[[InvalidationList], None],
) -> Generator[Any, Any, None]:
    """Run ``pages_flow`` paced by ``pacer``."""
    yield from forward(pages_flow(session, plan, state), on_page, _pacing(session, pacer))


def tenant_flow(session: Session, plan: PaginationPlan, pacer: Pacer) -> Flow[TenantResult]:
    """List one tenant for ``list_many``; never raises for that tenant's own failures.

    A :class:`TenantPlan` with ``keep_items=False`` counts the invalidations per status as
    pages arrive and keeps none of them.
    """
    keep = plan.keep_items if isinstance(plan, TenantPlan) else True
    items: list[InvalidationSummary] = []
    counts: dict[str, int] = {}
    received = 0
    state = PaginationState()
    current = plan
    next_marker: str | None = None
    pages = 0
    resumes = 0

    def on_page(page: InvalidationList) -> None:
        nonlocal next_marker, pages, received
        if keep:
            items.extend(page.items)
        else:
            for item in page.items:
                counts[item.status] = counts.get(item.status, 0) + 1
        received += len(page.items)
        next_marker = page.next_marker
        pages += 1

    while True:
        try:
            yield from _paced_pages(session, current, state, pacer, on_page)
        except NoCredentialsError:
            raise
        except CloudFrontError as exc:
            if not (is_throttling(exc) and resumes < MAX_THROTTLE_RESUMES):
                return TenantResult(plan.tenant_id, error=exc)
            resumes += 1
            # Resume from the page that failed: after the last page received, if any.
            if pages:
                remaining = None if plan.max_items is None else plan.max_items - received
                current = PaginationPlan(
                    plan.tenant_id, plan.page_size, remaining, next_marker, 0, plan.since
                )
            delay = pacer.resume_delay(resumes)
            log.debug(
                "tenant %r still throttled; resuming in %.3f s (%d/%d)",
                plan.tenant_id,
                delay,
                resumes,
                MAX_THROTTLE_RESUMES,
            )
            pacer.park(1)
            try:
                yield Sleep(delay)
            finally:
                pacer.park(-1)
            continue
        except Error as exc:
            return TenantResult(plan.tenant_id, error=exc)
        if not keep:
            return TenantResult(
                plan.tenant_id,
                resume_token=state.resume_token,
                status_counts=tuple(sorted(counts.items())),
            )
        return TenantResult(plan.tenant_id, tuple(items), resume_token=state.resume_token)


#: How often a fan-out with room for more tenants checks whether one may start (seconds): a
#: tenant that parks (waits out throttling) frees its place without completing.
RECHECK = 0.1


class Scheduler(Generic[R]):
    """The sans-IO scheduler of one fan-out (``list_many``, ``invalidate_tenants``); each
    driver only runs its flows.

    The driver's loop is: start every flow :meth:`start` hands out (keyed by an int), wait for
    completions for at most :meth:`recheck` seconds (``None``: until one completes), report
    each batch of completions to :meth:`complete`, yield the results it returns in that order
    and raise the error it returns after them, until :meth:`finished`. So both drivers give the
    same results in the same order, failures included.
    """

    __slots__ = ("_fan", "_pacer", "_session", "_total", "concurrency", "running", "waiting")

    def __init__(self, session: Session, fan: FanOut[R], pacer: Pacer) -> None:
        self._session = session
        self._pacer = pacer
        self._fan = fan
        self._total = len(fan)
        #: At most this many flows run at once (active or parked).
        self.concurrency = fan.max_running
        self.waiting = 0  # index of the next tenant to start
        self.running: set[int] = set()

    def start(self) -> list[tuple[int, Flow[R]]]:
        """The tenant flows that may start now, in the order given."""
        started = []
        while self.waiting < self._total and self._pacer.may_start(
            len(self.running), self.concurrency
        ):
            key = self.waiting
            self.waiting += 1
            self.running.add(key)
            started.append((key, self._fan.flow(self._session, key, self._pacer)))
        return started

    def recheck(self) -> float | None:
        """How long the driver may wait for a completion before calling :meth:`start` again."""
        room = self.waiting < self._total and len(self.running) < self.concurrency
        return RECHECK if room else None

    def complete(
        self, done: Iterable[tuple[int, R | None, BaseException | None]]
    ) -> tuple[list[R], BaseException | None]:
        """Results to yield (in the order the tenants were given) and the first error to raise
        after them (a flow that raised: credentials missing, or a bug), for completed flows."""
        results: list[tuple[int, R]] = []
        errors: list[tuple[int, BaseException]] = []
        for key, result, error in done:
            self.running.discard(key)
            if error is not None:
                errors.append((key, error))
            elif result is not None:
                results.append((key, result))
        results.sort(key=lambda pair: pair[0])
        errors.sort(key=lambda pair: pair[0])
        return [result for _, result in results], (errors[0][1] if errors else None)

    @property
    def finished(self) -> bool:
        return not self.running and self.waiting >= self._total
