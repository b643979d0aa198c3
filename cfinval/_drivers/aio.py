"""The asynchronous driver: performs the core's effects over ``httpx.AsyncClient``."""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
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
    Signal,
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
    AsyncPaginator,
    T,
    _Base,
    _deadline_failure,
    _failure,
    _preloaded,
    _response,
    _tenant_flow,
)
from .transport import new_async_client

if TYPE_CHECKING:
    from .._core.fanout import FanOutPlan, Pacer


async def _await_signal(signal: Signal) -> None:
    """Wait for ``signal`` without blocking the event loop (it may be set from any thread)."""
    import asyncio

    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    def wake_threadsafe() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(wake)

    if signal.add_callback(wake_threadsafe):
        await future


class AsyncClient(_Base):
    """Asynchronous client over ``httpx.AsyncClient``: the same methods, awaited.

    ``tracing=False``: no OpenTelemetry spans from this client.
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
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] | None = None,
        tracing: bool = True,
        sleep: Callable[[float], Awaitable[None]] | None = None,
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
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ParamValidationError("http_client must be an httpx.AsyncClient")
        self._http = http_client
        self._owns_http = http_client is None
        self._closed = False
        self._sleep = sleep

    def _client(self) -> httpx.AsyncClient:
        if self._closed:
            raise RuntimeError("this cfinval.AsyncClient is closed")
        if self._http is None:
            self._http = new_async_client(self._session.endpoint.scheme, self._http_options())
        return self._http

    async def _send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        http = self._client()
        timeout, deadline = self._limits_for(request, http.timeout, self._owns_http)
        try:
            if deadline is None:
                return await self._exchange(http, request, timeout)
            import anyio  # httpx's own async backend: already loaded, works under trio too

            with anyio.fail_after(deadline):
                return await self._exchange(http, request, timeout)
        except TimeoutError:
            return _deadline_failure(deadline or 0.0)
        except _HTTPX_ERRORS as exc:
            return _failure(exc)

    @staticmethod
    async def _exchange(
        http: httpx.AsyncClient, request: HttpRequest, timeout: httpx.Timeout
    ) -> HttpResponse:
        async with http.stream(
            request.method,
            request.url,
            headers=request.headers,
            content=request.body or None,
            timeout=timeout,
        ) as resp:
            reader = _preloaded(resp)
            if reader is None:
                reader = BodyReader(resp.headers.get("content-encoding"), MAX_BODY_BYTES)
                async for chunk in resp.aiter_raw():
                    if not reader.feed(chunk):
                        break
            return _response(resp, reader)

    async def _perform(self, effect: Any) -> Any:
        if isinstance(effect, Send):
            return await self._send(effect.request)
        import asyncio

        if isinstance(effect, Sleep):
            await (self._sleep or asyncio.sleep)(effect.seconds)
            return None
        if isinstance(effect, Wait):
            await _await_signal(effect.signal)
            return None
        if isinstance(effect, Run):
            return await asyncio.to_thread(run_process, effect)
        raise TypeError(f"unexpected effect {effect!r}")  # pragma: no cover

    async def _iterate(self, flow: Flow[Any]) -> AsyncIterator[Any]:
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
                try:
                    outcome = await self._perform(effect)
                except BaseException:
                    flow.close()  # runs the flow's cleanup (a refresh in flight lets waiters go)
                    raise

    async def _run(self, flow: Flow[T]) -> T:
        outcome: Any = None
        while True:
            try:
                effect = flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            try:
                outcome = await self._perform(effect)
            except BaseException:
                flow.close()  # runs the flow's cleanup (a refresh in flight lets waiters go)
                raise

    async def list_invalidations_for_distribution_tenant(
        self, Id: str, Marker: str | None = None, MaxItems: int | None = None
    ) -> InvalidationList:
        """One page of the tenant's invalidations, newest first."""
        params = ListParams.validate(Id, Marker, MaxItems)
        return await self._run(list_flow(self._session, params))

    def paginate(
        self,
        tenant_id: str,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
        since: str | _dt.datetime | None = None,
    ) -> AsyncPaginator[InvalidationList]:
        """``async for page in client.paginate(...)``; ``.resume_token`` after a cut."""
        flow, state = self._listing(False, tenant_id, page_size, max_items, starting_token, since)
        return AsyncPaginator(self._iterate(flow), state)

    def iter_invalidations(
        self,
        tenant_id: str,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
        since: str | _dt.datetime | None = None,
    ) -> AsyncPaginator[InvalidationSummary]:
        """``async for item in client.iter_invalidations(...)``; ``since`` as in ``Client``."""
        flow, state = self._listing(True, tenant_id, page_size, max_items, starting_token, since)
        return AsyncPaginator(self._iterate(flow), state)

    async def wait_until_completed(
        self,
        tenant_id: str,
        *,
        invalidation_ids: Iterable[str] | None = None,
        poll: float = DEFAULT_POLL,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> tuple[InvalidationSummary, ...]:
        """Poll until the invalidations are Completed; as :meth:`Client.wait_until_completed`."""
        from .._core.watch import WaitPlan, wait_flow

        plan = WaitPlan.create(tenant_id, invalidation_ids, poll, timeout)
        return await self._run(wait_flow(self._session, plan))

    def list_many(
        self,
        tenant_ids: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_items_per_tenant: int | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[TenantResult]:
        """``async for result in client.list_many(ids)``: each tenant's result as it completes.

        At most ``concurrency`` tenants in flight (fewer while throttled); a tenant's own
        failure is reported in its :class:`cfinval.TenantResult`. Arguments are checked here,
        before any request. ``aclose()`` the iterator (or leave the loop) to stop early.
        """
        from .._core.fanout import FanOutPlan, Pacer

        fan = FanOutPlan.create(tenant_ids, concurrency, max_items_per_tenant, page_size)
        pacer = Pacer(fan.concurrency, random=self._session.retry.random)
        return self._fan_out(fan, pacer)

    async def _fan_out(self, fan: FanOutPlan, pacer: Pacer) -> AsyncIterator[TenantResult]:
        import asyncio

        waiting = iter(fan.plans)
        running: set[asyncio.Task[TenantResult]] = set()
        try:
            while True:
                while pacer.may_start(len(running)):
                    plan = next(waiting, None)
                    if plan is None:
                        break
                    flow = _tenant_flow(self._session, plan, pacer)
                    running.add(asyncio.ensure_future(self._run(flow)))
                if not running:
                    return
                room = len(running) < fan.concurrency and len(running) < len(fan.plans)
                done, running = await asyncio.wait(
                    running,
                    timeout=_RECHECK if room else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                outcomes = [(task, task.exception()) for task in done]  # retrieve them all
                for task, failure in outcomes:
                    if failure is None:
                        yield task.result()
                for _task, failure in outcomes:
                    if failure is not None:
                        raise failure
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        self._closed = True
        if self._owns_http and self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
