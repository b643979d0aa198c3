"""What both drivers share: configuration to session, httpx errors to ``TransportFailure``,
response bodies, the paginator types, and the flows behind every public method.

The drivers (``sync.py``, ``aio.py``) only perform effects; every decision is in ``_core``.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Set
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

import httpx

from .._config import ClientConfig, resolve_client_config
from .._core.call import Session
from .._core.defaults import DEFAULT_CONCURRENCY
from .._core.effects import Flow
from .._core.http import HttpRequest
from .._core.locks import ForkSafeLock
from .._core.pagination import PaginationPlan, PaginationState, items_flow, pages_flow
from .._core.protocol import ListParams
from .._core.retry import make_retry
from .._core.timeouts import attempt_limits, check_attempt_timeout
from .._credentials import CredentialResolver, CredentialSource, as_provider
from .._errors import ParamValidationError
from .._models import InvalidationList, InvalidationSummary, TenantIdSequence
from .responses import phases, timeout_from
from .transport import http_options

if TYPE_CHECKING:  # fan-out and waiting are imported when first used, not with the package
    from .._core.deploy import DeployOptions
    from .._core.fanout import Scheduler
    from .._invalidation_models import Invalidation

__all__ = ["Base"]

H = TypeVar("H")
S = TypeVar("S")
Pages = TypeVar("Pages")
Items = TypeVar("Items")
Many = TypeVar("Many")


class _Default:
    """A parameter's default that is not a plain value: shown as what it means (never as
    ``<object object at 0x...>``) in ``help()`` and ``inspect.signature``."""

    __slots__ = ("_shown",)

    def __init__(self, shown: str) -> None:
        self._shown = shown

    def __repr__(self) -> str:
        return self._shown


#: ``timeout=`` not given: 10 s, or a given ``http_client``'s own timeout.
_DEFAULT_TIMEOUT: Any = _Default("<10 s, or the http_client's own>")
#: ``attempt_timeout=`` not given: no deadline per attempt beyond ``timeout``'s phases.
_NO_DEADLINE: Any = _Default("<none>")


class Base(Generic[H, S, Pages, Items, Many]):
    """What both clients share: the arguments, the HTTP client they own or were given, and
    every public method that is not awaited.

    The type parameters are the driver's types: ``H`` its httpx client, ``S`` its ``sleep=``
    hook, and what ``paginate``, ``iter_invalidations`` and ``list_many`` return. An HTTP
    client this object created belongs to the process (and, for ``AsyncClient``, the event
    loop) that created it: after a fork, or in another event loop, a new one is made and the
    old one abandoned, never shared.
    """

    _http_type: type[H]

    def __init__(
        self,
        credentials: CredentialSource = None,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int | None = None,
        retry_mode: Literal["standard", "legacy", "adaptive"] | None = None,
        timeout: float | httpx.Timeout | None = _DEFAULT_TIMEOUT,
        attempt_timeout: float | None = _NO_DEADLINE,
        http_client: H | None = None,
        clock: Callable[[], float] | None = None,
        sleep: S | None = None,
        tracing: bool = True,
    ) -> None:
        """See the class docstring of :class:`cfinval.Client`: the arguments of both clients.

        ``clock=`` (seconds since the epoch) and ``sleep=`` are for tests: together they run
        retries, backoff and polling without waiting. ``tracing=False``: no OpenTelemetry
        spans from this client.
        """
        if not isinstance(tracing, bool):
            raise ParamValidationError(f"tracing must be True or False, got {tracing!r}")
        self._timeout_given = timeout is not _DEFAULT_TIMEOUT
        self._timeout = timeout_from(10.0 if timeout is _DEFAULT_TIMEOUT else timeout)
        self._deadline_given = attempt_timeout is not _NO_DEADLINE
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
            monotonic=clock or time.monotonic,  # durations; ``clock=`` (tests) drives both
            meta=config.client_meta(self._timeout.read),
            tracing=tracing,
        )
        self._http = http_client
        self._owns_http = http_client is None
        #: TLS settings for the CloudFront requests only (the CLI's ``--ca-bundle`` and
        #: ``--no-verify-ssl``; see ``transport.new_sync_client``), set before the first call.
        self._service_tls: dict[str, Any] | None = None
        self._closed = False
        self._sleep = sleep
        #: Guards the HTTP client's creation and replacement (threads, event loops).
        self._lock = ForkSafeLock()
        #: A brought ``http_client`` whose connections a fork left shared with the parent.
        self._inherited = False
        _LIVE.add(self)

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
        if self._inherited:
            raise RuntimeError(
                f"the httpx client passed as http_client= to this cfinval.{type(self).__name__} "
                "was in use before os.fork(): its connections are shared with the parent "
                "process, whose answers could arrive here; create one in this process, or let "
                "cfinval create its own (it makes a fresh one after a fork)"
            )

    def _after_fork(self) -> None:
        """In a forked child (run by ``os.register_at_fork``, before anything else runs): the
        inherited connections are the parent's, so they are left alone, unclosed (closing
        them would shut the parent's sockets too), and a new client is made on first use;
        a credential refresh the parent had in flight starts afresh (locks: ``_core.locks``)."""
        self._credentials.after_fork()
        if self._http is not None:
            if self._owns_http:
                _ABANDONED.append(self._http)
                self._http = None
            else:
                self._inherited = True

    def _limits_for(
        self, request: HttpRequest, http_timeout: httpx.Timeout, made_here: bool
    ) -> tuple[httpx.Timeout, float | None]:
        """The httpx timeouts for one attempt and its deadline (see ``_core.timeouts``).

        Our own ``timeout`` applies when we made the HTTP client (``made_here``) or
        ``timeout=`` was given; otherwise the brought client's own.
        """
        own = made_here or self._timeout_given
        # cached for the client of the CloudFront requests only (a credential request on a
        # client of our own, beside a brought one, computes its limits each time)
        cacheable = request.timeout is None and made_here == self._owns_http
        if cacheable:
            cached = self._limits
            if cached is not None and cached[0] is http_timeout:
                return cached[1], cached[2]
        capped, deadline = attempt_limits(
            phases(self._timeout if own else http_timeout),
            self._attempt_timeout,
            self._deadline_given,
            request.timeout,
        )
        connect, read, write, pool = capped
        limits = httpx.Timeout(connect=connect, read=read, write=write, pool=pool)
        if cacheable:
            self._limits = (http_timeout, limits, deadline)
        return limits, deadline

    def _http_options(self) -> dict[str, Any]:
        """Options for the HTTP client this client creates (see ``transport.http_options``)."""
        options = http_options(self._timeout, self._config)
        if self._service_tls is not None:
            options["service_tls"] = self._service_tls
        return options

    def _credential_http_options(self) -> dict[str, Any]:
        """Options for an HTTP client that serves a credential request when ``http_client``
        was brought: that client serves the CloudFront endpoint only, as botocore's
        ``verify=`` and ``proxies=`` apply to the service client only; the credential
        endpoints keep the configured CA bundle and the environment's proxies."""
        options = http_options(self._timeout, self._config)
        del options["endpoint"]
        return options

    # -- what the drivers provide -----------------------------------------------------------

    def _paginator(self, flow: Flow[None], state: PaginationState) -> Any:
        raise NotImplementedError  # pragma: no cover

    def _fan_out(self, scheduler: Scheduler[Any]) -> Any:
        raise NotImplementedError  # pragma: no cover

    # -- the public methods that are not awaited (arguments are checked here, before I/O) ---

    def paginate(
        self,
        tenant_id: str,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
        since: str | _dt.datetime | None = None,
    ) -> Pages:
        """Iterate over pages (``async for`` with ``AsyncClient``). After a ``max_items`` cut,
        ``.resume_token`` continues.

        ``since`` (an invalidation Id or an aware datetime) stops at the first invalidation
        already seen: the last page is cut just before it and no further page is requested.
        """
        plan = PaginationPlan.create(tenant_id, page_size, max_items, starting_token, since)
        state = PaginationState()
        return cast(Pages, self._paginator(pages_flow(self._session, plan, state), state))

    def iter_invalidations(
        self,
        tenant_id: str,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
        since: str | _dt.datetime | None = None,
    ) -> Items:
        """Iterate over every invalidation of the tenant, newest first.

        ``since``: only what is newer than that invalidation Id (or created after that aware
        datetime); the listing stops there, so a poller reads only what is new.
        """
        plan = PaginationPlan.create(tenant_id, page_size, max_items, starting_token, since)
        state = PaginationState()
        return cast(Items, self._paginator(items_flow(self._session, plan, state), state))

    def list_many(
        self,
        tenant_ids: TenantIdSequence | Set[str] | Iterator[str] | Mapping[str, object],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_items_per_tenant: int | None = None,
        page_size: int | None = None,
        keep_items: bool = True,
    ) -> Many:
        """List many tenants, at most ``concurrency`` at once; yield each one's result as it
        completes (each distinct Id once; ``async for`` with ``AsyncClient``).

        A tenant's own failure (``EntityNotFound``, ``AccessDenied``, a network error) is
        reported in its :class:`cfinval.TenantResult`; throttling lowers the concurrency and
        pauses requests. ``Client`` runs each tenant on a worker thread sharing its
        ``httpx.Client``, ``AsyncClient`` on a task. Leave the loop (or close the iterator) to
        stop early: it returns at once, and requests still in flight end by themselves.

        ``keep_items=False`` counts each tenant's invalidations per status instead of keeping
        them (``result.counts()``; ``result.items`` is ``None``): memory stays flat however
        long the listings are.
        """
        from .._core.fanout import FanOutPlan, Pacer, Scheduler

        fan = FanOutPlan.create(
            tenant_ids, concurrency, max_items_per_tenant, page_size, keep_items
        )
        pacer = Pacer(fan.concurrency, random=self._session.retry.random)
        return cast(Many, self._fan_out(Scheduler(self._session, fan, pacer)))

    def _deploy_options(
        self,
        paths: object,
        distribution_id: object,
        tenant_ids: object,
        caller_reference: object,
        wait: object,
        concurrency: object,
        poll: object,
        timeout: object,
    ) -> DeployOptions:
        from .._core.deploy import DeployOptions

        return DeployOptions.create(
            paths,
            distribution_id=distribution_id,
            tenant_ids=tenant_ids,
            caller_reference=caller_reference,
            wait=wait,
            concurrency=concurrency,
            poll=poll,
            timeout=timeout,
        )

    def _call(self, Id: object, Marker: object, MaxItems: object) -> Flow[InvalidationList]:
        from .._core.call import list_flow

        return list_flow(self._session, ListParams.validate(Id, Marker, MaxItems))

    def _create(
        self, Id: object, Paths: object, CallerReference: object, InvalidationBatch: object
    ) -> Flow[Invalidation]:
        from .._core.call import operation_flow
        from .._core.invalidations import CreateInvalidation

        op = CreateInvalidation.validate(Id, Paths, CallerReference, InvalidationBatch)
        return operation_flow(self._session, op)

    def _get(self, DistributionTenantId: object, Id: object) -> Flow[Invalidation]:
        from .._core.call import operation_flow
        from .._core.invalidations import GetInvalidation

        op = GetInvalidation.validate(DistributionTenantId, Id)
        return operation_flow(self._session, op)

    def _wait_invalidation(
        self, DistributionTenantId: object, Id: object, WaiterConfig: object
    ) -> Flow[Invalidation]:
        from .._core.invalidations import GetInvalidation
        from .._core.waiter import WaiterConfig as Config
        from .._core.waiter import invalidation_waiter_flow

        op = GetInvalidation.validate(DistributionTenantId, Id)
        return invalidation_waiter_flow(self._session, op, Config.create(WaiterConfig))

    def _wait(
        self, tenant_id: object, invalidation_ids: object, poll: object, timeout: object
    ) -> Flow[tuple[InvalidationSummary, ...]]:
        from .._core.watch import WaitPlan, wait_flow

        return wait_flow(self._session, WaitPlan.create(tenant_id, invalidation_ids, poll, timeout))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint_url={self.endpoint_url!r})"


#: HTTP clients left behind by a fork: kept referenced, so that the garbage collector never
#: closes (or warns about) sockets that belong to the parent process.
_ABANDONED: list[Any] = []
#: Every client alive in this process, for the fork hook.
_LIVE: weakref.WeakSet[Base[Any, Any, Any, Any, Any]] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for client in list(_LIVE):
        client._after_fork()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)
