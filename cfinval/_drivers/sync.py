"""The synchronous driver: performs the core's effects over ``httpx.Client``."""

from __future__ import annotations

import datetime as _dt
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from .._core.defaults import DEFAULT_CONCURRENCY, DEFAULT_POLL, DEFAULT_TIMEOUT
from .._core.effects import Flow, Prompt, Run, Send, Sleep, T, Wait, drive, run
from .._core.http import HttpRequest, HttpResponse
from .._core.protocol import ListParams
from .._models import InvalidationList, InvalidationSummary, TenantResult
from .base import (
    _UNSET,
    HTTPX_ERRORS,
    Base,
    Paginator,
    body_reader,
    deadline_failure,
    failure,
    preloaded,
    response,
)
from .deadline import attempt_deadline
from .perform import perform_blocking
from .transport import new_sync_client

if TYPE_CHECKING:
    from .._core.effects import TransportFailure
    from .._core.fanout import Scheduler

__all__ = ["Client"]


class Client(Base[httpx.Client]):
    """Synchronous client over ``httpx.Client``.

    ``http_client`` lets you bring your own ``httpx.Client``; the client closes only what it
    created. Use it as a context manager or call :meth:`close`.
    """

    _http_type = httpx.Client

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
            http_client=http_client,
            clock=clock,
        )
        self._lock = threading.Lock()
        #: ``Sleep`` effects; ``clock=`` and ``sleep=`` together let tests run without waiting.
        self._sleep = sleep or time.sleep

    # -- effects ---------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        self._check_open()
        http = self._http
        if http is None or self._forked():
            with self._lock:
                if self._http is None:
                    self._http = new_sync_client(
                        self._session.endpoint.scheme, self._http_options()
                    )
                http = self._http
        return http

    def _send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        http = self._client()
        timeout, deadline = self._limits_for(request, http.timeout)
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
                ) as resp,
            ):
                reader = preloaded(resp)
                if reader is None:
                    reader = body_reader(resp)
                    for chunk in resp.iter_raw():
                        if not reader.feed(chunk):
                            break
                        if expired():
                            return deadline_failure(deadline or 0.0)
                return response(resp, reader)
        except HTTPX_ERRORS as exc:
            if deadline is not None and expired():
                return deadline_failure(deadline)
            return failure(exc)

    def _perform(self, effect: Any) -> Any:
        if isinstance(effect, Send):
            return self._send(effect.request)
        if isinstance(effect, Sleep):
            self._sleep(effect.seconds)
            return None
        if isinstance(effect, Wait):
            effect.signal.wait()
            return None
        if isinstance(effect, (Run, Prompt)):
            return perform_blocking(effect)
        raise TypeError(f"unexpected effect {effect!r}")  # pragma: no cover

    def _run(self, flow: Flow[T]) -> T:
        return run(flow, self._perform)

    def _iterate(self, flow: Flow[Any]) -> Iterator[Any]:
        return drive(flow, self._perform)

    # -- API -------------------------------------------------------------------------------

    def list_invalidations_for_distribution_tenant(
        self, Id: str, Marker: str | None = None, MaxItems: int | None = None
    ) -> InvalidationList:
        """One page of the tenant's invalidations, newest first."""
        from .._core.call import list_flow

        return self._run(list_flow(self._session, ListParams.validate(Id, Marker, MaxItems)))

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
        return self._run(self._wait(tenant_id, invalidation_ids, poll, timeout))

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
        pauses requests. Each tenant runs on a worker thread sharing this client's
        ``httpx.Client`` (so a transport you passed in is used); arguments are checked before
        any request. Close the iterator (or leave the ``for`` loop) to stop early: it returns
        at once, and workers still waiting on the network end by themselves.
        """
        return self._fan_out(
            self._scheduler(tenant_ids, concurrency, max_items_per_tenant, page_size)
        )

    def _fan_out(self, scheduler: Scheduler) -> Iterator[TenantResult]:
        done: queue.SimpleQueue[tuple[int, TenantResult | None, BaseException | None]]
        done = queue.SimpleQueue()
        stop = threading.Event()

        def perform(effect: Any) -> Any:
            if stop.is_set():
                raise _Stopped
            if isinstance(effect, Sleep) and self._sleep is time.sleep:
                stop.wait(effect.seconds)  # a real sleep that ends early when stopped
                return None
            return self._perform(effect)

        def work(key: int, flow: Flow[TenantResult]) -> None:
            try:
                done.put((key, run(flow, perform), None))
            except _Stopped:
                pass
            except BaseException as exc:  # handed to the consumer, who raises it
                done.put((key, None, exc))

        try:
            while True:
                for key, flow in scheduler.start():
                    # Daemon threads: a worker stuck on the network never holds up the exit.
                    threading.Thread(
                        target=work, args=(key, flow), name=f"cfinval-{key}", daemon=True
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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Stopped(Exception):
    """A fan-out worker noticed that its consumer went away."""
