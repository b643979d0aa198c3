"""What ``invalidate_tenants`` returns: the deploy step's results as they complete, and its
report (``_core.deploy`` decides; the client's ``_fan_out`` runs the flows)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .._invalidation_models import InvalidationReport, TenantInvalidation

if TYPE_CHECKING:
    from .._core.deploy import DeployOptions
    from .aio import AsyncClient
    from .sync import Client

__all__ = ["AsyncInvalidationRun", "InvalidationRun", "start", "start_async"]


class _Run:
    """What both runs share: the caller-reference prefix, the paths, the results so far.
    (Made by the clients' ``invalidate_tenants``, never by hand.)"""

    def __init__(
        self, caller_reference: str, paths: tuple[str, ...], tenants: int | None = None
    ) -> None:
        #: The prefix of every tenant's ``CallerReference``: pass it again to resume.
        self.caller_reference = caller_reference
        self.paths = paths
        #: Every result yielded so far, in that order.
        self.results: list[TenantInvalidation] = []
        #: How many tenants the run covers (``None`` until the distribution's are listed).
        self.tenants = tenants
        self._complete = False
        self._deployment: Any = None

    def _scheduler(
        self, client: Any, options: DeployOptions, tenant_ids: Iterable[str], started: float
    ) -> Any:
        from .._core.deploy import Deployment, InFlightGate
        from .._core.fanout import Pacer, Scheduler

        session = client._session
        random = session.retry.random
        run = Deployment(options, tenant_ids, started, InFlightGate(random=random))
        self.tenants = len(run)
        self._deployment = run
        return Scheduler(session, run, Pacer(run.concurrency, random=random))

    def _stopped(self) -> None:
        """Raise what stopped the run (credentials), once every tenant is reported."""
        run = self._deployment
        if run is not None and run.credential_error is not None:
            raise run.credential_error

    def _report(self) -> InvalidationReport:
        return InvalidationReport(
            self.caller_reference,
            self.paths,
            tuple(self.results),
            self.tenants or 0,
            complete=self._complete,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(caller_reference={self.caller_reference!r}, "
            f"tenants={self.tenants!r}, reported={len(self.results)})"
        )


class InvalidationRun(_Run, Iterator[TenantInvalidation]):
    """The deploy step of :meth:`cfinval.Client.invalidate_tenants`: iterate to get each
    tenant's :class:`cfinval.TenantInvalidation` as it completes; :meth:`report` runs the
    rest and sums up. Leave the loop and call :meth:`close` to stop early: no tenant starts
    after that, and requests in flight end by themselves."""

    _results: Generator[TenantInvalidation, None, None] = (_ for _ in ())

    def _generate(
        self, client: Client, options: DeployOptions
    ) -> Generator[TenantInvalidation, None, None]:
        started = client._session.monotonic()  # the deadline counts the listing too
        tenant_ids: Iterable[str]
        if options.tenant_ids is not None:
            tenant_ids = options.tenant_ids
        else:
            assert options.distribution_id is not None
            tenant_ids = client._distribution_tenant_ids(
                options.distribution_id, _deadline(options, started), options.timeout
            )
        results = client._fan_out(self._scheduler(client, options, tenant_ids, started))
        try:
            for result in results:
                self.results.append(result)
                yield result
        finally:
            results.close()  # type: ignore[attr-defined]  # a generator
        self._stopped()
        self._complete = True

    def __next__(self) -> TenantInvalidation:
        return next(self._results)

    def close(self) -> None:
        """Stop: no tenant starts after this."""
        self._results.close()

    def report(self) -> InvalidationReport:
        """Run the tenants not reported yet (none after :meth:`close`) and return the
        :class:`cfinval.InvalidationReport` of every tenant reported."""
        for _ in self:
            pass
        return self._report()


class AsyncInvalidationRun(_Run, AsyncIterator[TenantInvalidation]):
    """The deploy step of :meth:`cfinval.AsyncClient.invalidate_tenants`: ``async for`` each
    tenant's result as it completes; ``await run.report()`` runs the rest and sums up;
    ``await run.aclose()`` stops early."""

    _results: AsyncGenerator[TenantInvalidation, None] | None = None

    async def _generate(
        self, client: AsyncClient, options: DeployOptions
    ) -> AsyncGenerator[TenantInvalidation, None]:
        started = client._session.monotonic()  # the deadline counts the listing too
        tenant_ids: Iterable[str]
        if options.tenant_ids is not None:
            tenant_ids = options.tenant_ids
        else:
            assert options.distribution_id is not None
            tenant_ids = await client._distribution_tenant_ids(
                options.distribution_id, _deadline(options, started), options.timeout
            )
        results = client._fan_out(self._scheduler(client, options, tenant_ids, started))
        try:
            async for result in results:
                self.results.append(result)
                yield result
        finally:
            await results.aclose()  # type: ignore[attr-defined]  # an async generator
        self._stopped()
        self._complete = True

    async def __anext__(self) -> TenantInvalidation:
        if self._results is None:
            raise StopAsyncIteration
        return await self._results.__anext__()

    async def aclose(self) -> None:
        """Stop: no tenant starts after this, and the tenants' tasks are cancelled."""
        if self._results is not None:
            await self._results.aclose()

    async def report(self) -> InvalidationReport:
        """Run the tenants not reported yet and return the :class:`cfinval.InvalidationReport`."""
        async for _ in self:
            pass
        return self._report()


def listing_deadline(
    distribution_id: str, listed: int, now: float, deadline: float | None, timeout: float | None
) -> None:
    """Raise :class:`cfinval.WaitTimeoutError` if ``deadline`` passed while the tenants were
    listed: nothing was sent."""
    if deadline is not None and now >= deadline:
        from .._errors import WaitTimeoutError

        raise WaitTimeoutError(
            f"the deadline ({timeout:g} s) passed while listing the tenants of distribution "
            f"{distribution_id} ({listed} listed): no invalidation was sent"
        )


def _deadline(options: DeployOptions, started: float) -> float | None:
    return None if options.timeout is None else started + options.timeout


def _counted(options: DeployOptions) -> int | None:
    return None if options.tenant_ids is None else len(options.tenant_ids)


def start(client: Client, options: DeployOptions) -> InvalidationRun:
    """The run of ``client.invalidate_tenants``: nothing is sent before the first ``next()``."""
    run = InvalidationRun(options.prefix, options.paths, _counted(options))
    run._results = run._generate(client, options)
    return run


def start_async(client: AsyncClient, options: DeployOptions) -> AsyncInvalidationRun:
    """The run of ``AsyncClient.invalidate_tenants``."""
    run = AsyncInvalidationRun(options.prefix, options.paths, _counted(options))
    run._results = run._generate(client, options)
    return run
