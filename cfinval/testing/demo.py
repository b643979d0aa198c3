"""``make demo``: list a tenant's invalidations from the embedded fake CloudFront.

Starts the fake on 127.0.0.1, seeds a few tenants, then uses the public :class:`cfinval.Client`
exactly as against AWS (SigV4-signed, checked by the fake) to list every page of one tenant.
It works whatever region the user has configured (the fake accepts any region's signature) and
connects to 127.0.0.1 directly, whatever proxy variables are set (no proxy can reach this
machine's loopback).
"""

from __future__ import annotations

import datetime as _dt
import sys

import httpx

import cfinval

from ._fake import FAKE_CREDENTIALS, FakeCloudFront


def main(argv: list[str] | None = None) -> int:
    fake = FakeCloudFront(seed=7)
    tenants = fake.seed_tenants(3, invalidations=4)
    tenant_id = "dt_2wjDZi3hD1ivOXf6rpZJOSNE1AN"
    base = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    for n in range(23):
        fake.add_invalidation(
            tenant_id,
            create_time=base - _dt.timedelta(minutes=7 * (23 - n)),
            status="InProgress" if n >= 21 else "Completed",
        )
    out = sys.stdout
    with fake.serve() as server:
        out.write(
            f"fake CloudFront listening on {server.endpoint_url} "
            f"({len(tenants) + 1} tenants seeded)\n"
        )
        direct = httpx.Client(trust_env=False)  # the fake is on this machine: no proxy
        with (
            direct,
            cfinval.Client(
                FAKE_CREDENTIALS, endpoint_url=server.endpoint_url, http_client=direct
            ) as client,
        ):
            out.write(f"\nListInvalidationsForDistributionTenant Id={tenant_id} (pages of 10)\n\n")
            out.write(f"{'page':>4}  {'Id':<16} {'CreateTime (UTC)':<20} Status\n")
            out.write(f"{'-' * 4}  {'-' * 16} {'-' * 20} {'-' * 10}\n")
            count = 0
            for number, page in enumerate(client.paginate(tenant_id, page_size=10), start=1):
                for item in page.items:
                    count += 1
                    out.write(
                        f"{number:>4}  {item.id:<16} "
                        f"{item.create_time:%Y-%m-%d %H:%M:%S}  {item.status}\n"
                    )
            out.write(
                f"\n{count} invalidations in {number} pages; "
                f"{len(fake.requests)} signed requests verified by the fake.\n"
            )
            try:
                client.list_invalidations_for_distribution_tenant(Id="dt_does_not_exist")
            except cfinval.EntityNotFound as exc:
                out.write(f"\nA missing tenant raises {type(exc).__name__}: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
