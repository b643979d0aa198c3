"""What ``import cfinval`` adds to importing its three dependencies, in a fresh process.

Prints one JSON line: the time to import httpx, xmltodict and attrs, then the time ``import
cfinval`` takes on top of them (wall and CPU, milliseconds).
"""

import json
import time

wall, cpu = time.perf_counter(), time.process_time()
import attrs  # noqa: E402, F401
import httpx  # noqa: E402, F401
import xmltodict  # noqa: E402, F401

deps_wall, deps_cpu = time.perf_counter(), time.process_time()
import cfinval  # noqa: E402, F401

done_wall, done_cpu = time.perf_counter(), time.process_time()
print(
    json.dumps(
        {
            "deps_ms": (deps_wall - wall) * 1000,
            "added_ms": (done_wall - deps_wall) * 1000,
            "added_cpu_ms": (done_cpu - deps_cpu) * 1000,
        }
    )
)
