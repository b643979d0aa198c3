"""What both drivers share: configuration to session, httpx errors to ``TransportFailure``,
response bodies, the paginator types, and the flows behind every public method.

The drivers (``sync.py``, ``aio.py``) only perform effects; every decision is in ``_core``.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from .._config import ClientConfig, resolve_client_config
from .._core.body import BodyReader
from .._core.call import Session
from .._core.effects import Flow, TransportFailure
from .._core.http import MAX_BODY_BYTES, HttpRequest, HttpResponse
from .._core.pagination import PaginationPlan, PaginationState, items_flow, pages_flow
from .._core.retry import make_retry
from .._core.timeouts import Phases, attempt_limits, check_attempt_timeout
from .._credentials import CredentialResolver, as_provider
from .._errors import ConfigError, ParamValidationError
from .._models import InvalidationSummary

if TYPE_CHECKING:  # fan-out and waiting are imported when first used, not with the package
    from .._core.fanout import Scheduler

__all__ = ["AsyncPaginator", "Paginator"]

T = TypeVar("T")
H = TypeVar("H")
_UNSET: Any = object()

# Failures no retry can cure: the request itself cannot be sent as built.
_LOCAL_ERRORS = (
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
    httpx.LocalProtocolError,
    httpx.StreamError,
)
# Exceptions httpx may raise while sending: all become TransportError through the flow.
HTTPX_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)


def failure(exc: Exception) -> TransportFailure:
    """The ``TransportFailure`` for an exception httpx raised."""
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


def deadline_failure(seconds: float) -> TransportFailure:
    return TransportFailure(
        AttemptTimeout(f"the attempt took longer than attempt_timeout={seconds:g} s"), "timeout"
    )


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


def _phases(timeout: httpx.Timeout) -> Phases:
    return (timeout.connect, timeout.read, timeout.write, timeout.pool)


def preloaded(resp: httpx.Response) -> BodyReader | None:
    """The body when httpx read (and decoded) it before us, as ``httpx.MockTransport`` does."""
    if not resp.is_stream_consumed:
        return None
    reader = BodyReader(None, MAX_BODY_BYTES)
    reader.feed(resp.content)
    return reader


def body_reader(resp: httpx.Response) -> BodyReader:
    return BodyReader(resp.headers.get("content-encoding"), MAX_BODY_BYTES)


def response(resp: httpx.Response, reader: BodyReader) -> HttpResponse:
    return HttpResponse(
        resp.status_code,
        {k: v for k, v in resp.headers.items()},
        reader.body(),
        reader.truncated,
        reader.error,
    )


class Base(Generic[H]):
    """Configuration shared by both clients, and the HTTP client they own or were given.

    ``H`` is ``httpx.Client`` or ``httpx.AsyncClient``. A client this object created belongs
    to the process (and, for ``AsyncClient``, the event loop) that created it: after a fork,
    or in another event loop, a new one is made and the old one abandoned, never shared.
    """

    _http_type: type[H]

    def __init__(
        self,
        credentials: Any,
        *,
        profile: str | None,
        region: str | None,
        endpoint_url: str | None,
        max_attempts: int | None,
        retry_mode: str | None,
        timeout: Any,
        attempt_timeout: Any,
        http_client: H | None,
        clock: Callable[[], float] | None,
    ) -> None:
        self._timeout_given = timeout is not _UNSET
        self._timeout = _timeout(10.0 if timeout is _UNSET else timeout)
        self._deadline_given = attempt_timeout is not _UNSET
        self._attempt_timeout = (
            check_attempt_timeout(attempt_timeout) if self._deadline_given else None
        )
        self._limits: tuple[httpx.Timeout, httpx.Timeout, float | None] | None = None
        if http_client is not None and not isinstance(http_client, self._http_type):
            raise ParamValidationError(
                f"http_client must be an httpx.{self._http_type.__qualname__}"
            )
        config = resolve_client_config(
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            max_attempts=max_attempts,
            retry_mode=retry_mode,
        )
        self._config: ClientConfig = config
        wall_clock = clock or time.time
        self._credentials = CredentialResolver(
            as_provider(credentials, config.aws), clock=wall_clock
        )
        self._session = Session(
            endpoint=config.endpoint,
            credentials=self._credentials,
            retry=make_retry(config.retry_mode, config.max_attempts, clock or time.monotonic),
            clock=wall_clock,
        )
        self._http = http_client
        self._owns_http = http_client is None
        self._pid = os.getpid()
        self._closed = False

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

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"this cfinval.{type(self).__name__} is closed")

    def _forked(self) -> bool:
        """Whether this process is a fork of the one that made the HTTP client (then the
        inherited connections are the parent's: they are left alone, unclosed, and a new
        client is made; closing them here would shut the parent's sockets too)."""
        pid = os.getpid()
        if pid == self._pid:
            return False
        self._pid = pid
        if self._owns_http and self._http is not None:
            _ABANDONED.append(self._http)
            self._http = None
        self._credentials.after_fork()
        return True

    def _limits_for(
        self, request: HttpRequest, http_timeout: httpx.Timeout
    ) -> tuple[httpx.Timeout, float | None]:
        """The httpx timeouts for one attempt and its deadline (see ``_core.timeouts``).

        Our own ``timeout`` applies when we made the HTTP client or ``timeout=`` was given;
        otherwise the brought client's own.
        """
        if request.timeout is None:
            cached = self._limits
            if cached is not None and cached[0] is http_timeout:
                return cached[1], cached[2]
        own = self._owns_http or self._timeout_given
        phases, deadline = attempt_limits(
            _phases(self._timeout if own else http_timeout),
            self._attempt_timeout,
            self._deadline_given,
            request.timeout,
        )
        connect, read, write, pool = phases
        limits = httpx.Timeout(connect=connect, read=read, write=write, pool=pool)
        if request.timeout is None:
            self._limits = (http_timeout, limits, deadline)
        return limits, deadline

    def _http_options(self) -> dict[str, Any]:
        """Options for an HTTP client this client creates: ``AWS_CA_BUNDLE`` / ``ca_bundle``."""
        options: dict[str, Any] = {"timeout": self._timeout}
        bundle = self._config.ca_bundle
        if bundle is not None:
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

    # -- the flows behind the public methods (arguments validated here, before any I/O) ------

    def _listing(
        self,
        items: bool,
        tenant_id: object,
        page_size: object,
        max_items: object,
        starting_token: object,
        since: object,
    ) -> tuple[Flow[None], PaginationState]:
        plan = PaginationPlan.create(tenant_id, page_size, max_items, starting_token, since)
        state = PaginationState()
        flow = (items_flow if items else pages_flow)(self._session, plan, state)
        return flow, state

    def _wait(
        self, tenant_id: object, invalidation_ids: object, poll: object, timeout: object
    ) -> Flow[tuple[InvalidationSummary, ...]]:
        from .._core.watch import WaitPlan, wait_flow

        return wait_flow(self._session, WaitPlan.create(tenant_id, invalidation_ids, poll, timeout))

    def _scheduler(
        self,
        tenant_ids: Iterable[str],
        concurrency: object,
        max_items_per_tenant: object,
        page_size: object,
    ) -> Scheduler:
        from .._core.fanout import FanOutPlan, Pacer, Scheduler

        fan = FanOutPlan.create(tenant_ids, concurrency, max_items_per_tenant, page_size)
        pacer = Pacer(fan.concurrency, random=self._session.retry.random)
        return Scheduler(self._session, fan, pacer)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint_url={self.endpoint_url!r})"


#: HTTP clients left behind by a fork: kept referenced, so that the garbage collector never
#: closes (or warns about) sockets that belong to the parent process.
_ABANDONED: list[Any] = []


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

    def close(self) -> None:
        """Stop the listing early (also done when the paginator is garbage collected)."""
        close = getattr(self._iterator, "close", None)
        if close is not None:
            close()


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

    async def aclose(self) -> None:
        """Stop the listing early and release what it holds."""
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is not None:
            await aclose()
