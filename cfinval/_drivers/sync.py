"""The synchronous driver: performs the core's effects over ``httpx.Client``."""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from .._core.body import BodyReader
from .._core.call import list_flow
from .._core.effects import (
    Emit,
    Flow,
    Run,
    Send,
    Sleep,
    TransportFailure,
    Wait,
    run_process,
)
from .._core.http import MAX_BODY_BYTES, HttpRequest, HttpResponse
from .._core.protocol import ListParams
from .._errors import ParamValidationError
from .._models import InvalidationList, InvalidationSummary, TenantResult
from .base import (
    _HTTPX_ERRORS,
    _RECHECK,
    _UNSET,
    DEFAULT_CONCURRENCY,
    DEFAULT_POLL,
    DEFAULT_TIMEOUT,
    Paginator,
    T,
    _Base,
    _deadline_failure,
    _failure,
    _perform_or_close,
    _preloaded,
    _response,
    _tenant_flow,
)
from .transport import new_sync_client

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .._core.fanout import FanOutPlan, Pacer


class Client(_Base):
    """Synchronous client over ``httpx.Client``.

    ``http_client`` lets you bring your own ``httpx.Client``; the client closes only what it
    created. Use it as a context manager or call :meth:`close`. ``tracing=False``: no
    OpenTelemetry spans from this client.
    """

    def __init__(
        self,
        credentials: Any = None,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int | None = None,
        retry_mode: str | None = None,
        timeout: float | httpx.Timeout | None = _UNSET,
        attempt_timeout: float | None = _UNSET,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] | None = None,
        tracing: bool = True,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(
            credentials,
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            max_attempts=max_attempts,
            retry_mode=retry_mode,
            timeout=timeout,
            attempt_timeout=attempt_timeout,
            clock=clock,
            tracing=tracing,
        )
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise ParamValidationError("http_client must be an httpx.Client")
        self._http = http_client
        self._owns_http = http_client is None
        self._lock = threading.Lock()
        self._closed = False
        #: ``Sleep`` effects; ``clock=`` and ``sleep=`` together let tests run without waiting.
        self._sleep = sleep

    # -- driver ----------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        if self._closed:
            raise RuntimeError("this cfinval.Client is closed")
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
        http = self._client()
        timeout, deadline = self._limits_for(request, http.timeout, self._owns_http)
        started = time.monotonic()
        try:
            with http.stream(
                request.method,
                request.url,
                headers=request.headers,
                content=request.body or None,
                timeout=timeout,
            ) as resp:
                reader = _preloaded(resp)
                if reader is None:
                    reader = BodyReader(resp.headers.get("content-encoding"), MAX_BODY_BYTES)
                    # Each read is bounded by the read timeout; the attempt deadline is checked
                    # between reads, so a slow drip ends at most one read timeout after it.
                    for chunk in resp.iter_raw():
                        if not reader.feed(chunk):
                            break
                        if deadline is not None and time.monotonic() - started > deadline:
                            return _deadline_failure(deadline)
                return _response(resp, reader)
        except _HTTPX_ERRORS as exc:
            return _failure(exc)

    def _perform(self, effect: Any) -> Any:
        if isinstance(effect, Send):
            return self._send(effect.request)
        if isinstance(effect, Sleep):
            (self._sleep or time.sleep)(effect.seconds)
            return None
        if isinstance(effect, Wait):
            effect.signal.wait()
            return None
        if isinstance(effect, Run):
            return run_process(effect)
        raise TypeError(f"unexpected effect {effect!r}")  # pragma: no cover

    def _iterate(self, flow: Flow[Any]) -> Iterator[Any]:
        outcome: Any = None
        while True:
            try:
                effect = flow.send(outcome)
            except StopIteration:
                return
            if isinstance(effect, Emit):
                outcome = None
                yield effect.value
            else:
                outcome = _perform_or_close(flow, self._perform, effect)

    def _run(self, flow: Flow[T]) -> T:
        outcome: Any = None
        while True:
            try:
                effect = flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            outcome = _perform_or_close(flow, self._perform, effect)

    # -- API -------------------------------------------------------------------------------

    def list_invalidations_for_distribution_tenant(
        self, Id: str, Marker: str | None = None, MaxItems: int | None = None
    ) -> InvalidationList:
        """One page of the tenant's invalidations, newest first."""
        params = ListParams.validate(Id, Marker, MaxItems)
        return self._run(list_flow(self._session, params))

    def paginate(
        self,
        tenant_id: str,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
        since: str | _dt.datetime | None = None,
    ) -> Paginator[InvalidationList]:
        """Iterate over pages. After a ``max_items`` cut, ``.resume_token`` continues.

        ``since`` (an invalidation Id or an aware datetime) stops at the first invalidation
        already seen: the last page is cut just before it and no further page is requested.
        """
        flow, state = self._listing(False, tenant_id, page_size, max_items, starting_token, since)
        return Paginator(self._iterate(flow), state)

    def iter_invalidations(
        self,
        tenant_id: str,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
        since: str | _dt.datetime | None = None,
    ) -> Paginator[InvalidationSummary]:
        """Iterate over every invalidation of the tenant, newest first.

        ``since``: only what is newer than that invalidation Id (or created after that aware
        datetime); the listing stops there, so a poller reads only what is new.
        """
        flow, state = self._listing(True, tenant_id, page_size, max_items, starting_token, since)
        return Paginator(self._iterate(flow), state)

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
        from .._core.watch import WaitPlan, wait_flow

        plan = WaitPlan.create(tenant_id, invalidation_ids, poll, timeout)
        return self._run(wait_flow(self._session, plan))

    def list_many(
        self,
        tenant_ids: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_items_per_tenant: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[TenantResult]:
        """List many tenants, at most ``concurrency`` at once; yield each one's result as it
        completes (each distinct Id once).

        A tenant's own failure (``EntityNotFound``, ``AccessDenied``, a network error) is
        reported in its :class:`cfinval.TenantResult`. Throttling lowers the concurrency and
        pauses requests. Runs on a thread pool of ``concurrency`` threads sharing this client's
        ``httpx.Client`` (so a transport you passed in is used); arguments are checked before
        any request. Close the iterator (or leave the ``for`` loop) to stop early.
        """
        from .._core.fanout import FanOutPlan, Pacer

        fan = FanOutPlan.create(tenant_ids, concurrency, max_items_per_tenant, page_size)
        pacer = Pacer(fan.concurrency, random=self._session.retry.random)
        return self._fan_out(fan, pacer)

    def _fan_out(self, fan: FanOutPlan, pacer: Pacer) -> Iterator[TenantResult]:
        import contextvars
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
        from concurrent.futures import wait as _wait_futures

        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=fan.concurrency, thread_name_prefix="cfinval")
        waiting = iter(fan.plans)
        running: set[Future[TenantResult]] = set()
        try:
            while True:
                while pacer.may_start(len(running)):
                    plan = next(waiting, None)
                    if plan is None:
                        break
                    flow = _tenant_flow(self._session, plan, pacer)
                    # In the caller's context, so that each tenant's spans nest under the
                    # caller's current span as in the async driver (tasks copy it themselves).
                    context = contextvars.copy_context()
                    running.add(pool.submit(context.run, self._run_until, flow, stop))
                if not running:
                    return
                # While there is room, look again now and then: a tenant that parks (waits out
                # throttling) frees its place without completing.
                room = len(running) < fan.concurrency and len(running) < len(fan.plans)
                done, running = _wait_futures(
                    running, timeout=_RECHECK if room else None, return_when=FIRST_COMPLETED
                )
                for future in done:
                    yield future.result()
        finally:
            stop.set()
            for future in running:
                future.cancel()
            pool.shutdown(wait=True)

    def _run_until(self, flow: Flow[T], stop: threading.Event) -> T:
        """``_run`` that gives up at the next effect once ``stop`` is set (fan-out workers)."""
        outcome: Any = None
        while True:
            if stop.is_set():
                flow.close()
                raise _Stopped
            try:
                effect = flow.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if isinstance(effect, Sleep) and self._sleep is None:
                stop.wait(effect.seconds)  # a real sleep that ends early when stopped
                outcome = None
            else:
                outcome = self._perform(effect)

    def close(self) -> None:
        """Close the HTTP client if this client created it."""
        self._closed = True
        if self._owns_http and self._http is not None:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Stopped(Exception):
    """A fan-out worker noticed that its consumer went away."""
