"""The two drivers: :class:`Client` (httpx.Client) and :class:`AsyncClient` (httpx.AsyncClient).

They only perform effects; every decision is in the flows (``_flow``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from ._body import BodyReader
from ._config import ClientConfig, resolve_client_config
from ._credentials import CredentialResolver, as_provider
from ._effects import Emit, Flow, Run, Send, Signal, Sleep, TransportFailure, Wait, run_process
from ._errors import ConfigError, ParamValidationError
from ._flow import (
    PaginationPlan,
    PaginationState,
    Session,
    items_flow,
    list_flow,
    pages_flow,
)
from ._models import InvalidationList, InvalidationSummary, TenantResult
from ._protocol import MAX_BODY_BYTES, HttpRequest, HttpResponse, ListParams
from ._retry import make_retry
from ._transport import new_async_client, new_sync_client

if TYPE_CHECKING:  # fan-out and waiting are imported when first used, not with the package
    import asyncio
    from concurrent.futures import Future

    from ._fanout import FanOutPlan, Pacer

# asyncio and concurrent.futures (~15 ms of import, ~1 MiB) are imported where they are used:
# a synchronous listing needs neither.

__all__ = ["AsyncClient", "AsyncPaginator", "Client", "Paginator"]

T = TypeVar("T")
_UNSET: Any = object()
#: Without ``attempt_timeout=``, one attempt may take this many read timeouts in all.
_ATTEMPT_TIMEOUT_READS = 3

# Failures no retry can cure: the request itself cannot be sent as built.
_LOCAL_ERRORS = (
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
    httpx.LocalProtocolError,
    httpx.StreamError,
)
#: How often a fan-out with room for more tenants checks whether one may start (seconds).
_RECHECK = 0.1
#: wait_until_completed: botocore's InvalidationForDistributionTenantCompleted waiter cadence
#: (a poll every 20 s, 30 polls).
DEFAULT_POLL = 20.0
DEFAULT_TIMEOUT = 600.0
DEFAULT_CONCURRENCY = 8


def _failure(exc: Exception) -> TransportFailure:
    if isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    elif isinstance(exc, httpx.ConnectError):
        kind = "connect"
    elif isinstance(exc, _LOCAL_ERRORS):
        kind = "local"
    else:
        kind = "other"
    return TransportFailure(exc, kind)


class AttemptTimeout(TimeoutError):
    """One attempt took longer than ``attempt_timeout`` (a stalled or slow-drip response)."""


def _deadline_failure(seconds: float) -> TransportFailure:
    return TransportFailure(
        AttemptTimeout(f"the attempt took longer than attempt_timeout={seconds:g} s"), "timeout"
    )


# Exceptions httpx may raise while sending: all become TransportError through the flow.
_HTTPX_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)


def _timeout(value: object) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        return value
    if value is None or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    ):
        return httpx.Timeout(value)
    raise ParamValidationError(
        f"timeout must be a positive number, httpx.Timeout or None, got {value!r}"
    )


def _attempt_timeout(value: object) -> float | None:
    if value is _UNSET or value is None:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise ParamValidationError(
        f"attempt_timeout must be a positive number of seconds or None, got {value!r}"
    )


def _capped(base: httpx.Timeout, limit: float | None) -> httpx.Timeout:
    if limit is None:
        return base

    def cap(value: float | None) -> float:
        return limit if value is None else min(value, limit)

    return httpx.Timeout(
        connect=cap(base.connect), read=cap(base.read), write=cap(base.write), pool=cap(base.pool)
    )


class _Base:
    """Configuration shared by both clients."""

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
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._timeout_given = timeout is not _UNSET
        self._timeout = _timeout(10.0 if timeout is _UNSET else timeout)
        self._attempt_timeout = _attempt_timeout(attempt_timeout)
        self._limits: tuple[httpx.Timeout, httpx.Timeout, float | None] | None = None
        config = resolve_client_config(
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            max_attempts=max_attempts,
            retry_mode=retry_mode,
        )
        self._config: ClientConfig = config
        wall_clock = clock or time.time
        self._session = Session(
            endpoint=config.endpoint,
            credentials=CredentialResolver(as_provider(credentials, config.aws), clock=wall_clock),
            retry=make_retry(config.retry_mode, config.max_attempts, clock or time.monotonic),
            clock=wall_clock,
        )

    @property
    def endpoint_url(self) -> str:
        ep = self._session.endpoint
        return f"{ep.scheme}://{ep.netloc}{ep.base_path}"

    @property
    def retry_mode(self) -> str:
        """``standard``, ``legacy`` or ``adaptive``."""
        return self._session.retry.mode

    @property
    def max_attempts(self) -> int:
        """Attempts per call, the first one included."""
        return self._session.retry.max_attempts

    def _attempt_limits(
        self, http_timeout: httpx.Timeout, owned: bool
    ) -> tuple[httpx.Timeout, float | None]:
        """The httpx timeouts for one attempt and its total deadline in seconds (or None).

        Our own ``timeout`` applies when we made the HTTP client or ``timeout=`` was given;
        otherwise the brought client's own. Each phase is capped by the attempt deadline,
        which defaults to three read timeouts.
        """
        limits = self._limits
        if limits is not None and limits[0] is http_timeout:
            return limits[1], limits[2]
        base = self._timeout if (owned or self._timeout_given) else http_timeout
        deadline = self._attempt_timeout
        if deadline is _UNSET:
            deadline = None if base.read is None else _ATTEMPT_TIMEOUT_READS * base.read
        effective = _capped(base, deadline)
        self._limits = (http_timeout, effective, deadline)
        return effective, deadline

    def _limits_for(
        self, request: HttpRequest, http_timeout: httpx.Timeout, owned: bool
    ) -> tuple[httpx.Timeout, float | None]:
        if request.timeout is not None:
            return httpx.Timeout(request.timeout), _ATTEMPT_TIMEOUT_READS * request.timeout
        return self._attempt_limits(http_timeout, owned)

    def _http_options(self) -> dict[str, Any]:
        """Options for an HTTP client this client creates: ``AWS_CA_BUNDLE`` / ``ca_bundle``."""
        options: dict[str, Any] = {"timeout": self._timeout}
        bundle = self._config.ca_bundle
        if bundle is not None:
            import os
            import ssl

            try:
                options["verify"] = (
                    ssl.create_default_context(capath=bundle)
                    if os.path.isdir(bundle)
                    else ssl.create_default_context(cafile=bundle)
                )
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"cannot load the CA bundle {bundle}: {exc}") from None
        return options

    def _listing(
        self,
        items: bool,
        tenant_id: object,
        page_size: object,
        max_items: object,
        starting_token: object,
        since: object,
    ) -> tuple[Flow[None], PaginationState]:
        """Validate (eagerly, before any I/O) and build a pages or items flow."""
        plan = PaginationPlan.create(tenant_id, page_size, max_items, starting_token, since)
        state = PaginationState()
        flow = (items_flow if items else pages_flow)(self._session, plan, state)
        return flow, state

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint_url={self.endpoint_url!r})"


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


def _perform_or_close(flow: Flow[Any], perform: Callable[[Any], Any], effect: Any) -> Any:
    try:
        return perform(effect)
    except BaseException:
        flow.close()  # runs the flow's cleanup (a refresh in flight lets waiters go)
        raise


def _preloaded(resp: httpx.Response) -> BodyReader | None:
    """The body when httpx read (and decoded) it before us, as ``httpx.MockTransport`` does."""
    if not resp.is_stream_consumed:
        return None
    reader = BodyReader(None, MAX_BODY_BYTES)
    reader.feed(resp.content)
    return reader


def _response(resp: httpx.Response, reader: BodyReader) -> HttpResponse:
    body = reader.body()
    return HttpResponse(
        resp.status_code,
        {k: v for k, v in resp.headers.items()},
        body,
        reader.truncated,
        reader.error,
    )


class Client(_Base):
    """Synchronous client over ``httpx.Client``.

    ``http_client`` lets you bring your own ``httpx.Client``; the client closes only what it
    created. Use it as a context manager or call :meth:`close`.
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
        from ._watch import WaitPlan, wait_flow

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
        from ._fanout import FanOutPlan, Pacer

        fan = FanOutPlan.create(tenant_ids, concurrency, max_items_per_tenant, page_size)
        pacer = Pacer(fan.concurrency, random=self._session.retry.random)
        return self._fan_out(fan, pacer)

    def _fan_out(self, fan: FanOutPlan, pacer: Pacer) -> Iterator[TenantResult]:
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
                    running.add(pool.submit(self._run_until, flow, stop))
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


class AsyncClient(_Base):
    """Asynchronous client over ``httpx.AsyncClient``: the same methods, awaited."""

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
        from ._watch import WaitPlan, wait_flow

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
        from ._fanout import FanOutPlan, Pacer

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


def _tenant_flow(session: Session, plan: Any, pacer: Pacer) -> Flow[TenantResult]:
    from ._fanout import tenant_flow

    return tenant_flow(session, plan, pacer)


class _Stopped(Exception):
    """A fan-out worker noticed that its consumer went away."""


class Paginator(Generic[T]):
    """An iterator of pages (or items) with ``resume_token`` set after a ``max_items`` cut."""

    def __init__(self, iterator: Iterator[T], state: PaginationState) -> None:
        self._iterator = iterator
        self._state = state

    @property
    def resume_token(self) -> str | None:
        return self._state.resume_token

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        return next(self._iterator)


class AsyncPaginator(Generic[T]):
    """An async iterator of pages (or items) with ``resume_token`` after a ``max_items`` cut."""

    def __init__(self, iterator: AsyncIterator[T], state: PaginationState) -> None:
        self._iterator = iterator
        self._state = state

    @property
    def resume_token(self) -> str | None:
        return self._state.resume_token

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return await self._iterator.__anext__()
