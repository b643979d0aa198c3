"""The two drivers: :class:`Client` (httpx.Client) and :class:`AsyncClient` (httpx.AsyncClient).

They only perform effects; every decision is in the flows (``_flow``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from .._config import ClientConfig, resolve_client_config
from .._core.body import BodyReader
from .._core.call import Session
from .._core.effects import (
    Flow,
    TransportFailure,
)
from .._core.http import MAX_BODY_BYTES, HttpRequest, HttpResponse
from .._core.pagination import PaginationPlan, PaginationState, items_flow, pages_flow
from .._core.retry import make_retry
from .._credentials import CredentialResolver, as_provider
from .._errors import ParamValidationError
from .._models import TenantResult
from .transport import tls_context

if TYPE_CHECKING:  # fan-out and waiting are imported when first used, not with the package
    from .._core.fanout import Pacer

# asyncio and concurrent.futures (~15 ms of import, ~1 MiB) are imported where they are used:
# a synchronous listing needs neither.

__all__ = ["AsyncPaginator", "Paginator"]

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
            options["verify"] = tls_context(bundle)
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


def _tenant_flow(session: Session, plan: Any, pacer: Pacer) -> Flow[TenantResult]:
    from .._core.fanout import tenant_flow

    return tenant_flow(session, plan, pacer)


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
