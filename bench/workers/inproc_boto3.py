"""In-process measurements for boto3; prints one JSON line.

``per_page BODY_FILE N``: client CPU to build, sign, "send" (a ``before-send`` hook returning the
canned 100-item page) and parse one page, averaged over N calls after a warm-up.
``sync|threads ENDPOINT TENANT N``: N pages from the loopback fake, sequentially or from a pool
of 32 threads sharing one client (with a connection pool of 32, as boto3's docs advise).
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

TENANT = "dt_2wjDZi3hD1ivOXf6rpZJOSNE1AN"
HEADERS = {"x-amz-request-id": "bench-0001", "content-type": "text/xml"}
IN_FLIGHT = 32
EVENT = "before-send.cloudfront.ListInvalidationsForDistributionTenant"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: object):  # what AWSResponse.content reads
        yield self._body


def per_page(body_file: str, n: int) -> dict[str, float]:
    with open(body_file, "rb") as f:
        body = f.read()
    client = boto3.client("cloudfront", endpoint_url="https://cloudfront.amazonaws.com")
    client.meta.events.register(
        EVENT, lambda request, **_: AWSResponse(request.url, 200, HEADERS, _Raw(body))
    )
    call = client.list_invalidations_for_distribution_tenant
    for _ in range(max(5, n // 10)):
        assert len(call(Id=TENANT, MaxItems=100)["InvalidationList"]["Items"]) == 100
    start = time.process_time()
    for _ in range(n):
        call(Id=TENANT, MaxItems=100)
    return {"cpu_per_page": (time.process_time() - start) / n}


def throughput(mode: str, endpoint: str, tenant: str, n: int) -> dict[str, float]:
    config = Config(max_pool_connections=IN_FLIGHT) if mode == "threads" else None
    client = boto3.client("cloudfront", endpoint_url=endpoint, config=config)

    def one(_: int) -> int:
        page = client.list_invalidations_for_distribution_tenant(Id=tenant, MaxItems=100)
        return len(page["InvalidationList"]["Items"])

    assert one(0) == 100  # warm up: first-request setup, a connection
    pool = ThreadPoolExecutor(IN_FLIGHT)
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "sync":
        assert all(one(i) == 100 for i in range(n))
    else:
        assert set(pool.map(one, range(n))) == {100}
    result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    client.close()
    return result


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "per_page":
        result = per_page(sys.argv[2], int(sys.argv[3]))
    else:
        result = throughput(what, sys.argv[2], sys.argv[3], int(sys.argv[4]))
    print(json.dumps(result))
