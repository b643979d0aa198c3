"""Serve the fake CloudFront on 127.0.0.1 for the benchmark, until standard input closes.

Runs in the cfinval environment. Accepts the credentials in ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (every request's SigV4 signature is checked, for both SDKs), seeds one
tenant with ``ITEMS`` invalidations, writes the raw 100-item page (the canned response for the
in-process measurements) to the file named by ``argv[1]``, then prints one JSON line:
``{"endpoint_url": ..., "tenant": ..., "create_tenant": ...}`` (a second, empty tenant
where the create-one-invalidation runs create theirs).

``argv[2:4]``, if given, are a PEM certificate (chain) and its key: the fake then serves HTTPS
(each handshake in its connection's thread). Replies go out with TCP_NODELAY (the fake's handler
sets it), so no client waits for a delayed ACK.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys

import cfinval
from cfinval.testing import FakeCloudFront

TENANT = "dt_2wjDZi3hD1ivOXf6rpZJOSNE1AN"
#: Where the create-one-invalidation runs create theirs (the listed tenant stays as it is).
CREATE_TENANT = "dt_2wjDZi3hD1ivOXf6rpZJOSNCRTE"
ITEMS = 250
PAGE = 100


def main() -> None:
    credentials = cfinval.Credentials(
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    )
    fake = FakeCloudFront(credentials=(credentials,), seed=6)
    fake.add_tenant(TENANT)
    fake.add_tenant(CREATE_TENANT)
    base = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    for k in range(ITEMS):
        fake.add_invalidation(
            TENANT,
            create_time=base + _dt.timedelta(minutes=k, milliseconds=k * 7),
            status="InProgress" if k % 10 == 0 else "Completed",
        )
    fake.verify_signatures = False  # only for producing the canned body below
    target = f"/2020-05-31/distribution-tenant/{TENANT}/invalidation?MaxItems={PAGE}"
    status, _headers, body = fake.handle("GET", target, {})
    fake.verify_signatures = True
    assert status == 200, body
    with open(sys.argv[1], "wb") as out:
        out.write(body)
    tls = {"ssl_certfile": sys.argv[2], "ssl_keyfile": sys.argv[3]} if len(sys.argv) > 2 else {}
    with fake.serve(**tls) as server:
        print(
            json.dumps(
                {
                    "endpoint_url": server.endpoint_url,
                    "tenant": TENANT,
                    "create_tenant": CREATE_TENANT,
                }
            ),
            flush=True,
        )
        sys.stdin.read()  # serve until the runner closes our standard input


if __name__ == "__main__":
    main()
