"""The two drivers: :class:`Client` (httpx.Client) and :class:`AsyncClient` (httpx.AsyncClient).

They only perform effects; every decision is in the flows (``_flow``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

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
from ._models import InvalidationList, InvalidationSummary
from ._protocol import MAX_BODY_BYTES, HttpRequest, HttpResponse, ListParams
from ._retry import make_retry

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint_url={self.endpoint_url!r})"


async def _await_signal(signal: Signal) -> None:
    """Wait for ``signal`` without blocking the event loop (it may be set from any thread)."""
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

    # -- driver ----------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        if self._closed:
            raise RuntimeError("this cfinval.Client is closed")
        http = self._http
        if http is None:
            with self._lock:
                if self._http is None:
                    self._http = httpx.Client(**self._http_options())
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
            time.sleep(effect.seconds)
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
    ) -> Paginator[InvalidationList]:
        """Iterate over pages. After a ``max_items`` cut, ``.resume_token`` continues."""
        plan = PaginationPlan.create(tenant_id, page_size, max_items, starting_token)
        state = PaginationState()
        return Paginator(self._iterate(pages_flow(self._session, plan, state)), state)

    def iter_invalidations(
        self,
        tenant_id: str,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
    ) -> Paginator[InvalidationSummary]:
        """Iterate over every invalidation of the tenant, newest first."""
        plan = PaginationPlan.create(tenant_id, page_size, max_items, starting_token)
        state = PaginationState()
        return Paginator(self._iterate(items_flow(self._session, plan, state)), state)

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

    def _client(self) -> httpx.AsyncClient:
        if self._closed:
            raise RuntimeError("this cfinval.AsyncClient is closed")
        if self._http is None:
            self._http = httpx.AsyncClient(**self._http_options())
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
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
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
    ) -> AsyncPaginator[InvalidationList]:
        """``async for page in client.paginate(...)``; ``.resume_token`` after a cut."""
        plan = PaginationPlan.create(tenant_id, page_size, max_items, starting_token)
        state = PaginationState()
        return AsyncPaginator(self._iterate(pages_flow(self._session, plan, state)), state)

    def iter_invalidations(
        self,
        tenant_id: str,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
    ) -> AsyncPaginator[InvalidationSummary]:
        """``async for item in client.iter_invalidations(...)``."""
        plan = PaginationPlan.create(tenant_id, page_size, max_items, starting_token)
        state = PaginationState()
        return AsyncPaginator(self._iterate(items_flow(self._session, plan, state)), state)

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
