"""The synchronous driver: performs the core's effects over ``httpx.Client``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .._core.defaults import (
    DEFAULT_CONCURRENCY,
    DEFAULT_DEPLOY_TIMEOUT,
    DEFAULT_POLL,
    DEFAULT_TIMEOUT,
)
from .._core.effects import Flow, Prompt, Run, Send, Sleep, T, Wait, drive, run
from .._core.http import SERVICE, HttpRequest, HttpResponse
from .._core.pagination import PaginationState
from .._lazy import LazyModule
from .._models import InvalidationList, InvalidationSummary, TenantResult
from .base import Base
from .deadline import attempt_deadline
from .paginators import Paginator
from .perform import perform_blocking
from .responses import HTTPX_ERRORS, body_reader, deadline_failure, failure, preloaded, response
from .tenants import TenantMethods
from .transport import PURPOSE, new_sync_client

if TYPE_CHECKING:
    from .. import _invalidation_models as _im
    from .. import _tenant_models as _tm
    from .._core.effects import TransportFailure
    from .._core.fanout import Scheduler
    from . import deploy as _deploy

    _Tenants = TenantMethods[
        Paginator[_tm.DistributionTenantPage], Paginator[_tm.DistributionTenantSummary]
    ]
else:  # imported when first used (annotations resolve through them too): see cfinval._lazy
    _im = LazyModule("cfinval._invalidation_models")
    _tm = LazyModule("cfinval._tenant_models")
    _deploy = LazyModule("cfinval._drivers.deploy")
    _Tenants = TenantMethods

__all__ = ["Client"]

R = TypeVar("R")


class Client(
    Base[
        httpx.Client,
        Callable[[float], None],
        Paginator[InvalidationList],
        Paginator[InvalidationSummary],
        Iterator[TenantResult],
    ],
    _Tenants,
):
    """Synchronous client over ``httpx.Client``.

    Arguments (all optional, keyword-only but ``credentials``): ``credentials`` (a
    :class:`cfinval.Credentials`, a provider with ``load()``, or a callable returning
    ``Credentials``; default: the AWS SDKs' chain), ``profile``, ``region``, ``endpoint_url``,
    ``max_attempts``, ``retry_mode``, ``timeout`` (seconds or an ``httpx.Timeout``, default
    10 s), ``attempt_timeout``, ``http_client`` (your own ``httpx.Client`` for the CloudFront
    requests; credential endpoints keep cfinval's settings, as botocore's ``verify=`` applies
    to the service only; the client closes only what it created), and ``clock``/``sleep`` for
    tests. Use it as a context manager or call :meth:`close`.
    """

    _http_type = httpx.Client

    # -- effects ---------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        self._check_open()
        http = self._http
        if http is None:
            with self._lock:
                if self._http is None:
                    self._http = new_sync_client(
                        self._session.endpoint.scheme, self._http_options()
                    )
                http = self._http
        return http

    def _send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        if request.purpose != SERVICE and not self._owns_http:
            # A brought client serves CloudFront only; a credential endpoint gets a client
            # of our own settings, for this one request (they are rare: once an hour or so).
            self._check_open()
            with new_sync_client(None, self._credential_http_options()) as http:
                return self._send_with(http, request, True)
        return self._send_with(self._client(), request, self._owns_http)

    def _send_with(
        self, http: httpx.Client, request: HttpRequest, made_here: bool
    ) -> HttpResponse | TransportFailure:
        timeout, deadline = self._limits_for(request, http.timeout, made_here)
        extensions = {PURPOSE: request.purpose} if request.purpose != SERVICE else None
        try:
            # The deadline holds for the whole attempt (headers included) on the transports
            # cfinval makes; on a client you brought, it is checked between body reads.
            with (
                attempt_deadline(deadline) as expired,
                http.stream(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.body or None,
                    timeout=timeout,
                    follow_redirects=False,  # whatever a brought client says
                    extensions=extensions,
                ) as resp,
            ):
                reader = preloaded(resp)
                if reader is None:
                    reader = body_reader(resp)
                    for chunk in resp.iter_raw():
                        if not reader.feed(chunk):
                            break
                        if expired():
                            return deadline_failure(deadline or 0.0, request.url)
                return response(resp, reader)
        except HTTPX_ERRORS as exc:
            if deadline is not None and expired():
                return deadline_failure(deadline, request.url)
            return failure(exc, request.url)

    def _perform(self, effect: Any) -> Any:
        if isinstance(effect, Send):
            return self._send(effect.request)
        if isinstance(effect, Sleep):
            (self._sleep or time.sleep)(effect.seconds)
            return None
        if isinstance(effect, Wait):
            effect.signal.wait()
            return None
        if isinstance(effect, (Run, Prompt)):
            return perform_blocking(effect)
        raise TypeError(f"unexpected effect {effect!r}")  # pragma: no cover

    def _run(self, flow: Flow[T]) -> T:
        return run(flow, self._perform)

    def _paginator(self, flow: Flow[None], state: PaginationState) -> Paginator[Any]:
        return Paginator(drive(flow, self._perform), state)

    # -- the calls -------------------------------------------------------------------------

    def list_invalidations_for_distribution_tenant(
        self, Id: str, Marker: str | None = None, MaxItems: int | None = None
    ) -> InvalidationList:
        """One page of the tenant's invalidations, newest first."""
        return self._run(self._call(Id, Marker, MaxItems))

    def create_invalidation_for_distribution_tenant(
        self,
        Id: str,
        Paths: Sequence[str] | None = None,
        CallerReference: str | None = None,
        *,
        InvalidationBatch: Mapping[str, Any] | None = None,
    ) -> _im.Invalidation:
        """Invalidate ``Paths`` (URL paths such as ``/index.html`` or ``/images/*``, or ``#``
        cache tags) on distribution tenant ``Id``; returns the new :class:`cfinval.Invalidation`
        (``InProgress``, with ``location``).

        ``CallerReference`` defaults to a fresh unique value; every attempt of this call sends
        the same one, so a retry after a lost response returns the invalidation the first
        attempt created instead of creating a second. Pass your own to make a re-run
        idempotent too. ``InvalidationBatch`` takes boto3's form instead
        (``{"Paths": {"Quantity": 1, "Items": [...]}, "CallerReference": "..."}``).
        ``Quantity`` is counted for you. Paths are checked before anything is sent.
        """
        return self._run(self._create(Id, Paths, CallerReference, InvalidationBatch))

    def wait_invalidation_for_distribution_tenant_completed(
        self,
        DistributionTenantId: str,
        Id: str,
        *,
        WaiterConfig: Mapping[str, float] | None = None,
    ) -> _im.Invalidation:
        """Wait as boto3's ``InvalidationForDistributionTenantCompleted`` waiter does: get
        the invalidation every ``Delay`` seconds (20), at most ``MaxAttempts`` times (30),
        until its status is ``Completed``; return that final :class:`cfinval.Invalidation`.

        Raises :class:`cfinval.WaitTimeoutError` (saying how long it waited, with ``.last``)
        when the attempts run out, and an error answer (``NoSuchInvalidation``, ...) at once.
        """
        return self._run(self._wait_invalidation(DistributionTenantId, Id, WaiterConfig))

    def get_invalidation_for_distribution_tenant(
        self, DistributionTenantId: str, Id: str
    ) -> _im.Invalidation:
        """Invalidation ``Id`` of distribution tenant ``DistributionTenantId``."""
        return self._run(self._get(DistributionTenantId, Id))

    def list_distribution_tenants(
        self,
        AssociationFilter: Mapping[str, str] | None = None,
        Marker: str | None = None,
        MaxItems: int | None = None,
    ) -> _tm.DistributionTenantPage:
        """One page of the account's distribution tenants; ``AssociationFilter``
        (``{"DistributionId": ..., "ConnectionGroupId": ...}``, either or both) keeps those of
        one distribution or connection group. ``next_marker`` is ``None`` on the last page."""
        return self._run(self._list_tenants(AssociationFilter, Marker, MaxItems))

    def list_distribution_tenants_by_customization(
        self,
        WebACLArn: str | None = None,
        CertificateArn: str | None = None,
        Marker: str | None = None,
        MaxItems: int | None = None,
    ) -> _tm.DistributionTenantPage:
        """One page of the tenants using the web ACL ``WebACLArn`` or the certificate
        ``CertificateArn`` (exactly one, checked before anything is sent)."""
        return self._run(
            self._list_tenants_by_customization(WebACLArn, CertificateArn, Marker, MaxItems)
        )

    def wait_until_completed(
        self,
        tenant_id: str,
        *,
        invalidation_ids: Iterable[str] | None = None,
        poll: float = DEFAULT_POLL,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> tuple[InvalidationSummary, ...]:
        """Poll until the given invalidations (default: those in progress now) are Completed.

        Returns their final summaries; raises :class:`cfinval.WaitTimeoutError` after
        ``timeout`` seconds (``None``: no limit). Polls every ``poll`` seconds and reads only as
        much of the listing (newest first) as it needs.
        """
        return self._run(self._wait(tenant_id, invalidation_ids, poll, timeout))

    def invalidate_tenants(
        self,
        paths: Sequence[str],
        *,
        distribution_id: str | None = None,
        tenant_ids: Iterable[str] | None = None,
        caller_reference: str | None = None,
        wait: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
        poll: float = DEFAULT_POLL,
        timeout: float | None = DEFAULT_DEPLOY_TIMEOUT,
    ) -> _deploy.InvalidationRun:
        """The deploy step: invalidate ``paths`` on every tenant of ``distribution_id``, or on
        each of ``tenant_ids`` (give one of the two); iterate to get each tenant's
        :class:`cfinval.TenantInvalidation` as it completes, or call ``.report()`` for the
        :class:`cfinval.InvalidationReport` of them all.

        Tenant ``T`` is sent ``CallerReference`` ``f"{caller_reference}-{T}"``: the prefix
        defaults to a fresh one (the run's ``.caller_reference``); pass it again to resume a
        run, and CloudFront answers with the invalidations it already made instead of
        creating them twice. At most ``concurrency`` tenants create at once; throttling
        lowers that and pauses (as in :meth:`list_many`); ``TooManyInvalidationsInProgress``
        (the distribution's in-flight limits: 3,000 paths, 15 wildcard paths) makes the
        tenants wait and retry with the same reference. ``wait=True``: each tenant also
        polls its invalidation every ``poll`` seconds until it is ``Completed``. ``timeout``
        (seconds, ``None``: none) bounds the whole run, the tenant listing included: no
        create is sent after it; a tenant still refused, in progress or not sent then is
        reported failed. A tenant's failure (``EntityNotFound``, ``AccessDenied``, the
        network, a timeout) is in its result, never raised. A batch-level refusal
        (``BatchTooLarge``...) is reported for the tenants not sent yet without sending it.
        Credentials that fail (a refresh that was due, included) stop the run: every tenant
        not done is reported failed with that error, then it is raised; ``.results`` and
        ``.report()`` (``complete=False``) keep what was reported.
        """
        options = self._deploy_options(
            paths, distribution_id, tenant_ids, caller_reference, wait, concurrency, poll, timeout
        )
        from .deploy import start

        return start(self, options)

    def _distribution_tenant_ids(
        self, distribution_id: str, deadline: float | None = None, timeout: float | None = None
    ) -> list[str]:
        """Every tenant of the distribution (``ListDistributionTenants``, every page); the
        run's ``deadline`` (monotonic) bounds the listing too."""
        from .deploy import listing_deadline

        ids: list[str] = []
        for tenant in self.iter_distribution_tenants(distribution_id=distribution_id):
            ids.append(tenant.id)
            listing_deadline(
                distribution_id, len(ids), self._session.monotonic(), deadline, timeout
            )
        return ids

    def _fan_out(self, scheduler: Scheduler[R]) -> Iterator[R]:
        """Run the scheduler's tenants on daemon threads (one each, at most ``concurrency``
        at once): a worker stuck on the network never holds up the caller's exit."""
        import contextvars  # here, not at the top: a listing's cold start never needs them
        import queue

        done: queue.SimpleQueue[tuple[int, R | None, BaseException | None]]
        done = queue.SimpleQueue()
        stop = threading.Event()
        sleep = self._sleep

        def perform(effect: Any) -> Any:
            if stop.is_set():
                raise _Stopped
            if isinstance(effect, Sleep) and sleep is None:
                stop.wait(effect.seconds)  # a real sleep that ends early when stopped
                return None
            return self._perform(effect)

        def work(key: int, flow: Flow[R]) -> None:
            try:
                done.put((key, run(flow, perform), None))
            except _Stopped:
                pass
            except BaseException as exc:
                # Handed to the consumer, who raises it (the async driver's tasks do the
                # same): a thread that died of SystemExit would leave the consumer waiting
                # for its result for ever. (KeyboardInterrupt reaches the main thread only.)
                done.put((key, None, exc))

        try:
            while True:
                for key, flow in scheduler.start():
                    # In the caller's context, so that each tenant's spans nest under the
                    # caller's current span, as tasks do in the async driver.
                    context = contextvars.copy_context()
                    threading.Thread(
                        target=context.run,
                        args=(work, key, flow),
                        name=f"cfinval-{key}",
                        daemon=True,
                    ).start()
                if scheduler.finished:
                    return
                try:
                    batch = [done.get(timeout=scheduler.recheck())]
                except queue.Empty:
                    continue
                while not done.empty():
                    batch.append(done.get())
                results, error = scheduler.complete(batch)
                yield from results
                if error is not None:
                    raise error
        finally:
            stop.set()

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client if this client created it."""
        self._closed = True
        if self._owns_http and self._http is not None:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Stopped(Exception):
    """A fan-out worker noticed that its consumer went away."""
