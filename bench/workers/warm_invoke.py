"""A Lambda warm invoke: the second call of a process whose first call built the client and its
TLS context (module-level client, as the README's handler makes it). Prints one JSON line: wall
and CPU milliseconds of the first and of the second call, and the process's peak RSS (MiB).
"""

import json
import resource
import sys
import time

import cfinval

client = cfinval.Client(endpoint_url=sys.argv[1])


def timed() -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    page = client.list_invalidations_for_distribution_tenant(Id=sys.argv[2], MaxItems=100)
    assert len(page.items) == 100
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


first = timed()
second = timed()
print(
    json.dumps(
        {
            "first_ms": first[0],
            "first_cpu_ms": first[1],
            "second_ms": second[0],
            "second_cpu_ms": second[1],
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )
)
