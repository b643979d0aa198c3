"""Run the same test against Client and AsyncClient: one adapter per driver."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS


class SyncApi:
    kind = "sync"

    def __init__(self, transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        if transport is not None:
            kwargs["http_client"] = httpx.Client(transport=transport)
        self.client = cfinval.Client(**kwargs)

    def list(self, **params: Any) -> cfinval.InvalidationList:
        return self.client.list_invalidations_for_distribution_tenant(**params)

    def pages(self, tenant_id: str, **kw: Any) -> tuple[list[cfinval.InvalidationList], str | None]:
        paginator = self.client.paginate(tenant_id, **kw)
        return list(paginator), paginator.resume_token

    def items(
        self, tenant_id: str, **kw: Any
    ) -> tuple[list[cfinval.InvalidationSummary], str | None]:
        paginator = self.client.iter_invalidations(tenant_id, **kw)
        return list(paginator), paginator.resume_token

    def close(self) -> None:
        self.client.close()


class AsyncApi:
    kind = "async"

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        if transport is not None:
            kwargs["http_client"] = httpx.AsyncClient(transport=transport)
        self.loop = asyncio.new_event_loop()
        self.client = cfinval.AsyncClient(**kwargs)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def list(self, **params: Any) -> cfinval.InvalidationList:
        result: cfinval.InvalidationList = self.run(
            self.client.list_invalidations_for_distribution_tenant(**params)
        )
        return result

    def pages(self, tenant_id: str, **kw: Any) -> tuple[list[cfinval.InvalidationList], str | None]:
        paginator = self.client.paginate(tenant_id, **kw)

        async def collect() -> list[cfinval.InvalidationList]:
            return [page async for page in paginator]

        return self.run(collect()), paginator.resume_token

    def items(
        self, tenant_id: str, **kw: Any
    ) -> tuple[list[cfinval.InvalidationSummary], str | None]:
        paginator = self.client.iter_invalidations(tenant_id, **kw)

        async def collect() -> list[cfinval.InvalidationSummary]:
            return [item async for item in paginator]

        return self.run(collect()), paginator.resume_token

    def close(self) -> None:
        self.run(self.client.aclose())
        self.loop.close()


Api = SyncApi | AsyncApi


# One listing of tenant dt_1 at ``endpoint_url`` with one attempt, by each client: for tests of
# the network path (proxies, TLS) where the transport is what differs.
def list_sync(endpoint_url: str) -> cfinval.InvalidationList:
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=endpoint_url, max_attempts=1) as client:
        return client.list_invalidations_for_distribution_tenant(Id="dt_1")


def list_async(endpoint_url: str) -> cfinval.InvalidationList:
    async def main() -> cfinval.InvalidationList:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, endpoint_url=endpoint_url, max_attempts=1
        ) as client:
            return await client.list_invalidations_for_distribution_tenant(Id="dt_1")

    return asyncio.run(main())


LISTERS = [pytest.param(list_sync, id="sync"), pytest.param(list_async, id="async")]
