"""In-process measurements for cfinval; prints one JSON line.

``per_page BODY_FILE N``: client CPU to build, sign, "send" (httpx.MockTransport returning the
canned 100-item page) and parse one page, averaged over N calls after a warm-up.
``sync|async|threads ENDPOINT TENANT N``: N pages from the loopback fake, sequentially, with 32
in flight on asyncio, or from a pool of 32 threads sharing one client.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

import cfinval

TENANT = "dt_2wjDZi3hD1ivOXf6rpZJOSNE1AN"
HEADERS = {"x-amz-request-id": "bench-0001", "content-type": "text/xml"}
IN_FLIGHT = 32


def per_page(body_file: str, n: int) -> dict[str, float]:
    with open(body_file, "rb") as f:
        body = f.read()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers=HEADERS, content=body)
    )
    client = cfinval.Client(http_client=httpx.Client(transport=transport))
    call = client.list_invalidations_for_distribution_tenant
    for _ in range(max(5, n // 10)):
        assert len(call(Id=TENANT, MaxItems=100).items) == 100
    start = time.process_time()
    for _ in range(n):
        call(Id=TENANT, MaxItems=100)
    return {"cpu_per_page": (time.process_time() - start) / n}


def _timed(run: object) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()  # type: ignore[operator]
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def throughput(mode: str, endpoint: str, tenant: str, n: int) -> dict[str, float]:
    if mode == "async":
        return asyncio.run(_async_throughput(endpoint, tenant, n))
    with cfinval.Client(endpoint_url=endpoint) as client:

        def one(_: int) -> int:
            return len(
                client.list_invalidations_for_distribution_tenant(Id=tenant, MaxItems=100).items
            )

        if mode == "sync":

            def run() -> None:
                assert all(one(i) == 100 for i in range(n))
        else:
            pool = ThreadPoolExecutor(IN_FLIGHT)

            def run() -> None:
                assert set(pool.map(one, range(n))) == {100}

        assert one(0) == 100  # warm up: first-request setup, a connection
        result = _timed(run)
    return result


async def _async_throughput(endpoint: str, tenant: str, n: int) -> dict[str, float]:
    async with cfinval.AsyncClient(endpoint_url=endpoint) as client:
        counts: list[int] = []

        async def worker(calls: object) -> None:
            for _ in calls:  # type: ignore[attr-defined]
                page = await client.list_invalidations_for_distribution_tenant(
                    Id=tenant, MaxItems=100
                )
                counts.append(len(page.items))

        await worker(range(1))  # warm up: first-request setup, a connection
        calls = iter(range(n))
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(calls) for _ in range(IN_FLIGHT)))
        result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
        assert len(counts) == n + 1
        assert set(counts) == {100}
    return result


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "per_page":
        result = per_page(sys.argv[2], int(sys.argv[3]))
    else:
        result = throughput(what, sys.argv[2], sys.argv[3], int(sys.argv[4]))
    print(json.dumps(result))
