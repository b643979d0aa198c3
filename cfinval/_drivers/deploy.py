"""What ``invalidate_tenants`` returns: the deploy step's results as they complete, and its
report (``_core.deploy`` decides; the client's ``_fan_out`` runs the flows)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .._models import InvalidationReport, TenantInvalidation

if TYPE_CHECKING:
    from .._core.deploy import DeployOptions
    from .aio import AsyncClient
    from .sync import Client

__all__ = ["AsyncInvalidationRun", "InvalidationRun"]


class _Run:
    """What both runs share: the caller-reference prefix, the paths, the results so far."""

    def __init__(self, options: DeployOptions) -> None:
        self._options = options
        #: The prefix of every tenant's ``CallerReference``: pass it again to resume.
        self.caller_reference = options.prefix
        self.paths = options.paths
        #: Every result yielded so far, in that order.
        self.results: list[TenantInvalidation] = []
        #: How many tenants the run covers (``None`` until the distribution's are listed).
        self.tenants: int | None = None if options.tenant_ids is None else len(options.tenant_ids)
        self._complete = False

    def _scheduler(self, client: Any, tenant_ids: Any) -> Any:
        from .._core.deploy import Deployment, InFlightGate
        from .._core.fanout import Pacer, Scheduler

        session = client._session
        random = session.retry.random
        run = Deployment(
            self._options, tenant_ids, session.monotonic(), InFlightGate(random=random)
        )
        self.tenants = len(run)
        return Scheduler(session, run, Pacer(run.concurrency, random=random))

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

    def __init__(self, client: Client, options: DeployOptions) -> None:
        super().__init__(options)
        self._results = self._generate(client)

    def _generate(self, client: Client) -> Iterator[TenantInvalidation]:
        tenant_ids: Iterable[str]
        if self._options.tenant_ids is not None:
            tenant_ids = self._options.tenant_ids
        else:
            assert self._options.distribution_id is not None
            tenant_ids = client._distribution_tenant_ids(self._options.distribution_id)
        results = client._fan_out(self._scheduler(client, tenant_ids))
        try:
            for result in results:
                self.results.append(result)
                yield result
        finally:
            results.close()  # type: ignore[attr-defined]  # a generator
        self._complete = True

    def __next__(self) -> TenantInvalidation:
        return next(self._results)

    def close(self) -> None:
        """Stop: no tenant starts after this."""
        self._results.close()  # type: ignore[attr-defined]  # a generator

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

    def __init__(self, client: AsyncClient, options: DeployOptions) -> None:
        super().__init__(options)
        self._results = self._generate(client)

    async def _generate(self, client: AsyncClient) -> AsyncIterator[TenantInvalidation]:
        tenant_ids: Iterable[str]
        if self._options.tenant_ids is not None:
            tenant_ids = self._options.tenant_ids
        else:
            assert self._options.distribution_id is not None
            tenant_ids = await client._distribution_tenant_ids(self._options.distribution_id)
        results = client._fan_out(self._scheduler(client, tenant_ids))
        try:
            async for result in results:
                self.results.append(result)
                yield result
        finally:
            await results.aclose()  # type: ignore[attr-defined]  # an async generator
        self._complete = True

    async def __anext__(self) -> TenantInvalidation:
        return await self._results.__anext__()

    async def aclose(self) -> None:
        """Stop: no tenant starts after this, and the tenants' tasks are cancelled."""
        await self._results.aclose()  # type: ignore[attr-defined]  # an async generator

    async def report(self) -> InvalidationReport:
        """Run the tenants not reported yet and return the :class:`cfinval.InvalidationReport`."""
        async for _ in self:
            pass
        return self._report()
