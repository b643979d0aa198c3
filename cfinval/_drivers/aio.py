"""The asynchronous driver: performs the core's effects over ``httpx.AsyncClient``.

It runs on anyio, httpx's own async layer, so it serves asyncio (uvloop too) and trio alike.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .._core.defaults import (
    DEFAULT_CONCURRENCY,
    DEFAULT_DEPLOY_TIMEOUT,
    DEFAULT_POLL,
    DEFAULT_TIMEOUT,
)
from .._core.effects import Flow, Prompt, Run, Send, Signal, Sleep, T, Wait, adrive, arun
from .._core.http import SERVICE, HttpRequest, HttpResponse
from .._core.pagination import PaginationState
from .._lazy import LazyModule
from .._models import InvalidationList, InvalidationSummary, TenantResult
from .base import Base
from .paginators import AsyncPaginator
from .perform import perform_blocking
from .responses import HTTPX_ERRORS, body_reader, deadline_failure, failure, preloaded, response
from .tenants import TenantMethods
from .transport import PURPOSE, new_async_client

if TYPE_CHECKING:
    import anyio

    from .. import _invalidation_models as _im
    from .. import _tenant_models as _tm
    from .._core.effects import TransportFailure
    from .._core.fanout import Scheduler
    from . import deploy as _deploy

    _Tenants = TenantMethods[
        AsyncPaginator[_tm.DistributionTenantPage], AsyncPaginator[_tm.DistributionTenantSummary]
    ]
else:  # imported when first used (annotations resolve through them too): see cfinval._lazy
    _im = LazyModule("cfinval._invalidation_models")
    _tm = LazyModule("cfinval._tenant_models")
    _deploy = LazyModule("cfinval._drivers.deploy")
    _Tenants = TenantMethods

__all__ = ["AsyncClient"]

R = TypeVar("R")


class AsyncClient(
    Base[
        httpx.AsyncClient,
        Callable[[float], Awaitable[None]],
        AsyncPaginator[InvalidationList],
        AsyncPaginator[InvalidationSummary],
        AsyncIterator[TenantResult],
    ],
    _Tenants,
):
    """Asynchronous client over ``httpx.AsyncClient``: the same methods, awaited.

    One client serves any number of event loops in turn (a module-level client used from
    successive ``asyncio.run()`` calls): the connections it made belong to the loop that made
    them, so a new loop gets a new pool. A client you pass as ``http_client`` stays yours and
    cannot follow a change of loop.
    """

    _http_type = httpx.AsyncClient
    _loop: object = None  # the event loop the HTTP client's connections belong to
    _keeper: AsyncGenerator[None, None] | None = None  # closes it when that loop ends

    # -- effects ---------------------------------------------------------------------------

    async def _client(self) -> httpx.AsyncClient:
        self._check_open()
        loop = _current_loop()
        with self._lock:  # event loops in other threads may get here at the same time
            if loop is not self._loop:
                self._leave(self._loop)
                self._loop = loop
            http = self._http
            fresh = http is None
            if http is None:
                http = self._http = new_async_client(
                    self._session.endpoint.scheme, self._http_options()
                )
        if fresh and self._owns_http:
            # Closed inside its own event loop when that loop finalizes its async generators
            # (asyncio.run() and trio.run() both do, as they end).
            self._keeper = _close_at_loop_end(http)
            await self._keeper.__anext__()
        return http

    def _leave(self, previous: object) -> None:
        """Let go of the HTTP client of the ``previous`` event loop (this one is another)."""
        if self._http is None or previous is None:
            return
        if not self._owns_http:
            raise RuntimeError(
                "the httpx.AsyncClient passed as http_client= was used in another event "
                "loop; its connections cannot follow: create one per event loop, or let "
                "cfinval create its own"
            )
        if getattr(previous, "is_running", lambda: False)():
            raise RuntimeError(
                "this cfinval.AsyncClient is in use by an event loop that is still running "
                "(in another thread): its connections belong to that loop; create one "
                "AsyncClient per event loop"
            )
        if not self._http.is_closed:  # its loop ended without finalizing it
            _RETIRED.append((self._http, self._keeper))
        self._http = None
        self._keeper = None

    async def _send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        if request.purpose != SERVICE and not self._owns_http:
            # A brought client serves CloudFront only: see the sync driver.
            self._check_open()
            async with new_async_client(None, self._credential_http_options()) as http:
                return await self._send_with(http, request, True)
        return await self._send_with(await self._client(), request, self._owns_http)

    async def _send_with(
        self, http: httpx.AsyncClient, request: HttpRequest, made_here: bool
    ) -> HttpResponse | TransportFailure:
        timeout, deadline = self._limits_for(request, http.timeout, made_here)
        try:
            if deadline is None:
                return await _exchange(http, request, timeout)
            import anyio

            with anyio.fail_after(deadline):
                return await _exchange(http, request, timeout)
        except TimeoutError:
            return deadline_failure(deadline or 0.0, request.url)
        except HTTPX_ERRORS as exc:
            return failure(exc, request.url)

    async def _perform(self, effect: Any) -> Any:
        if isinstance(effect, Send):
            return await self._send(effect.request)
        import anyio

        if isinstance(effect, Sleep):
            await (self._sleep or anyio.sleep)(effect.seconds)
            return None
        if isinstance(effect, Wait):
            await _await_signal(effect.signal)
            return None
        if isinstance(effect, (Run, Prompt)):
            return await anyio.to_thread.run_sync(perform_blocking, effect)
        raise TypeError(f"unexpected effect {effect!r}")  # pragma: no cover

    async def _run(self, flow: Flow[T]) -> T:
        return await arun(flow, self._perform)

    def _paginator(self, flow: Flow[None], state: PaginationState) -> AsyncPaginator[Any]:
        return AsyncPaginator(adrive(flow, self._perform), state)

    # -- the calls -------------------------------------------------------------------------------

    async def list_invalidations_for_distribution_tenant(
        self, Id: str, Marker: str | None = None, MaxItems: int | None = None
    ) -> InvalidationList:
        """One page of the tenant's invalidations, newest first."""
        return await self._run(self._call(Id, Marker, MaxItems))

    async def create_invalidation_for_distribution_tenant(
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
        return await self._run(self._create(Id, Paths, CallerReference, InvalidationBatch))

    async def wait_invalidation_for_distribution_tenant_completed(
        self,
        DistributionTenantId: str,
        Id: str,
        *,
        WaiterConfig: Mapping[str, float] | None = None,
    ) -> _im.Invalidation:
        """Wait until the invalidation is Completed; as
        :meth:`Client.wait_invalidation_for_distribution_tenant_completed`."""
        return await self._run(self._wait_invalidation(DistributionTenantId, Id, WaiterConfig))

    async def get_invalidation_for_distribution_tenant(
        self, DistributionTenantId: str, Id: str
    ) -> _im.Invalidation:
        """Invalidation ``Id`` of distribution tenant ``DistributionTenantId``."""
        return await self._run(self._get(DistributionTenantId, Id))

    async def list_distribution_tenants(
        self,
        AssociationFilter: Mapping[str, str] | None = None,
        Marker: str | None = None,
        MaxItems: int | None = None,
    ) -> _tm.DistributionTenantPage:
        """One page of the account's distribution tenants; ``AssociationFilter``
        (``{"DistributionId": ..., "ConnectionGroupId": ...}``, either or both) keeps those of
        one distribution or connection group. ``next_marker`` is ``None`` on the last page."""
        return await self._run(self._list_tenants(AssociationFilter, Marker, MaxItems))

    async def list_distribution_tenants_by_customization(
        self,
        WebACLArn: str | None = None,
        CertificateArn: str | None = None,
        Marker: str | None = None,
        MaxItems: int | None = None,
    ) -> _tm.DistributionTenantPage:
        """One page of the tenants using the web ACL ``WebACLArn`` or the certificate
        ``CertificateArn`` (exactly one, checked before anything is sent)."""
        return await self._run(
            self._list_tenants_by_customization(WebACLArn, CertificateArn, Marker, MaxItems)
        )

    async def wait_until_completed(
        self,
        tenant_id: str,
        *,
        invalidation_ids: Iterable[str] | None = None,
        poll: float = DEFAULT_POLL,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> tuple[InvalidationSummary, ...]:
        """Poll until the invalidations are Completed; as :meth:`Client.wait_until_completed`."""
        return await self._run(self._wait(tenant_id, invalidation_ids, poll, timeout))

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
    ) -> _deploy.AsyncInvalidationRun:
        """The deploy step, as :meth:`Client.invalidate_tenants`: ``async for`` the results,
        or ``await run.report()``."""
        options = self._deploy_options(
            paths, distribution_id, tenant_ids, caller_reference, wait, concurrency, poll, timeout
        )
        from .deploy import start_async

        return start_async(self, options)

    async def _distribution_tenant_ids(
        self, distribution_id: str, deadline: float | None = None, timeout: float | None = None
    ) -> list[str]:
        """Every tenant of the distribution (``ListDistributionTenants``, every page); the
        run's ``deadline`` (monotonic) bounds the listing too."""
        from .deploy import listing_deadline

        ids: list[str] = []
        async for tenant in self.iter_distribution_tenants(distribution_id=distribution_id):
            ids.append(tenant.id)
            listing_deadline(
                distribution_id, len(ids), self._session.monotonic(), deadline, timeout
            )
        return ids

    async def _fan_out(self, scheduler: Scheduler[R]) -> AsyncIterator[R]:
        import anyio
        from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

        # (not subscripted: anyio 3, which httpx allows, has a plain function here)
        send: MemoryObjectSendStream[tuple[int, R | None, BaseException | None]]
        receive: MemoryObjectReceiveStream[tuple[int, R | None, BaseException | None]]
        send, receive = anyio.create_memory_object_stream(math.inf)
        tasks: dict[int, _Task] = {}

        cancelled = anyio.get_cancelled_exc_class()

        async def work(key: int, flow: Flow[R]) -> None:
            # As the sync driver's threads: whatever a flow raises (SystemExit and
            # KeyboardInterrupt too) is handed to the consumer, who raises it where the run is
            # consumed; only the cancellation of this worker (the consumer left) propagates.
            try:
                result = await self._run(flow)
            except cancelled:
                raise
            except BaseException as exc:
                send.send_nowait((key, None, exc))
            else:
                send.send_nowait((key, result, None))

        try:
            while True:
                for key, flow in scheduler.start():
                    tasks[key] = _Task.spawn(work(key, flow))
                if scheduler.finished:
                    return
                batch = []
                recheck = scheduler.recheck()
                with anyio.move_on_after(math.inf if recheck is None else recheck):
                    batch.append(await receive.receive())
                with contextlib.suppress(anyio.WouldBlock):
                    while True:
                        batch.append(receive.receive_nowait())
                for key, _, _ in batch:
                    del tasks[key]
                results, error = scheduler.complete(batch)
                for result in results:
                    yield result
                if error is not None:
                    raise error
        finally:
            with anyio.CancelScope(shield=True):
                for task in tasks.values():
                    task.scope.cancel()
                for task in tasks.values():
                    await task.done.wait()
            send.close()
            receive.close()

    # -- lifetime --------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        self._closed = True
        if self._owns_http and self._http is not None:
            if self._loop is None or self._loop is _current_loop():
                keeper, self._keeper = self._keeper, None
                await (self._http.aclose() if keeper is None else keeper.aclose())
            elif not self._http.is_closed:
                _RETIRED.append((self._http, self._keeper))
                self._http = None
                self._keeper = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def _exchange(
    http: httpx.AsyncClient, request: HttpRequest, timeout: httpx.Timeout
) -> HttpResponse:
    async with http.stream(
        request.method,
        request.url,
        headers=request.headers,
        content=request.body or None,
        timeout=timeout,
        follow_redirects=False,  # whatever a brought client says
        extensions={PURPOSE: request.purpose} if request.purpose != SERVICE else None,
    ) as resp:
        reader = preloaded(resp)
        if reader is None:
            reader = body_reader(resp)
            chunks = resp.aiter_raw()
            try:
                async for chunk in chunks:
                    if not reader.feed(chunk):
                        await _end_cut_body(resp, chunks, reader.limit)
                        break
            finally:
                await chunks.aclose()  # type: ignore[attr-defined]  # an async generator
        return response(resp, reader)


async def _end_cut_body(resp: httpx.Response, chunks: AsyncIterator[bytes], limit: int) -> None:
    """End a body read that stopped early without leaving httpx's body generators suspended.

    ``aiter_raw`` runs over the bound stream over the transport's stream: nested async
    generators, and closing the outer one does not close those inside it. Left suspended,
    they wait for the event loop's asyncgen finalizer, which may run after the caller's loop
    has closed ("coroutine method 'aclose' ... was never awaited" on 3.13). Once the response
    is closed (the connection dropped) each of them ends at its next step, here, in this
    task; a stream that ignores the close is read for at most ``limit`` more bytes.
    """
    await resp.aclose()
    drained = 0
    with contextlib.suppress(*HTTPX_ERRORS):  # a closed connection ends the body with an error
        async for chunk in chunks:
            drained += len(chunk)
            if drained > limit:
                break


def _current_loop() -> object:
    """The running event loop (asyncio) or run (trio): what connections belong to."""
    try:
        import asyncio

        return asyncio.get_running_loop()
    except RuntimeError:
        trio = sys.modules.get("trio")
        if trio is None:
            raise
        return trio.lowlevel.current_trio_token()


async def _close_at_loop_end(http: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await http.aclose()


#: Clients whose event loop ended without closing them (a loop run by hand): kept, so that
#: garbage collection never touches sockets that loop owned.
_RETIRED: list[tuple[httpx.AsyncClient, AsyncGenerator[None, None] | None]] = []


async def _await_signal(signal: Signal) -> None:
    """Wait for ``signal`` (set from any thread) without blocking the event loop."""
    if signal.is_set():
        return
    import anyio

    event = anyio.Event()
    loop = _current_loop()
    # The signal may be set from another thread: wake this loop the thread-safe way.
    call_soon = getattr(loop, "call_soon_threadsafe", None) or loop.run_sync_soon  # type: ignore[attr-defined]

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone meanwhile
            call_soon(event.set)

    if signal.add_callback(wake):
        await event.wait()


class _Task:
    """A fan-out worker task on the running event loop, cancellable, with a done event."""

    __slots__ = ("done", "scope")

    def __init__(self) -> None:
        import anyio

        self.scope = anyio.CancelScope()
        self.done = anyio.Event()

    @classmethod
    def spawn(cls, coro: Coroutine[Any, Any, None]) -> _Task:
        import contextvars

        task = cls()

        async def body() -> None:
            try:
                with task.scope:
                    await coro
            finally:
                task.done.set()

        try:
            import asyncio

            asyncio.get_running_loop().create_task(body())
        except RuntimeError:  # not asyncio: trio
            trio = sys.modules["trio"]
            trio.lowlevel.spawn_system_task(body, context=contextvars.copy_context())
        return task


if TYPE_CHECKING:
    _ = anyio
