"""In-process measurement for aiobotocore (the async peer); prints one JSON line.

``async ENDPOINT TENANT N``: N pages from the loopback fake with 32 in flight on asyncio, from
one client (default aiohttp backend, ``AioConfig(max_pool_connections=32)``), as
``inproc_cfinval.py async`` does with cfinval's AsyncClient.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

IN_FLIGHT = 32


async def throughput(endpoint: str, tenant: str, n: int) -> dict[str, float]:
    session = get_session()
    config = AioConfig(max_pool_connections=IN_FLIGHT)
    async with session.create_client("cloudfront", endpoint_url=endpoint, config=config) as client:
        counts: list[int] = []

        async def worker(calls: object) -> None:
            for _ in calls:  # type: ignore[attr-defined]
                page = await client.list_invalidations_for_distribution_tenant(
                    Id=tenant, MaxItems=100
                )
                counts.append(len(page["InvalidationList"]["Items"]))

        await worker(range(1))  # warm up: first-request setup, a connection
        calls = iter(range(n))
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(calls) for _ in range(IN_FLIGHT)))
        result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
        assert len(counts) == n + 1
        assert set(counts) == {100}
    return result


if __name__ == "__main__":
    assert sys.argv[1] == "async", sys.argv[1]
    print(json.dumps(asyncio.run(throughput(sys.argv[2], sys.argv[3], int(sys.argv[4])))))
