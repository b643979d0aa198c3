"""``make demo``: list a tenant's invalidations from the embedded fake CloudFront, then run
the deploy step on every tenant of a distribution.

Starts the fake on 127.0.0.1, seeds a few tenants, then uses the public :class:`cfinval.Client`
exactly as against AWS (SigV4-signed, checked by the fake) to list every page of one tenant,
and to invalidate two paths on each tenant of a distribution (``invalidate_tenants``), waiting
until they are completed under the fake's in-flight limits, then to re-run it with the same
caller reference, which creates nothing. It works whatever region the user has configured (the
fake accepts any region's signature) and connects to 127.0.0.1 directly, whatever proxy
variables are set (no proxy can reach this machine's loopback).
"""

from __future__ import annotations

import datetime as _dt
import shlex
import sys
import time
from typing import TextIO

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
            _deploy_step(fake, client, out)
    return 0


def _deploy_step(fake: FakeCloudFront, client: cfinval.Client, out: TextIO) -> None:
    distribution_id = "E2DEMODEPLOY01"
    tenants = fake.seed_tenants(
        24, invalidations=0, prefix="dt_site", distribution_id=distribution_id
    )
    # Faster than CloudFront (minutes; 15 wildcard paths in progress per distribution), so
    # that the demo shows the limit being waited out in a second or two.
    fake.complete_after = 0.2
    fake.max_wildcards_in_progress = 6
    paths = ["/index.html", "/static/*"]
    out.write(
        f"\nThe deploy step: invalidate {' '.join(paths)} on every tenant of distribution "
        f"{distribution_id} ({len(tenants)} tenants; at most "
        f"{fake.max_wildcards_in_progress} wildcard paths in progress), and wait\n"
        f"  (cfinval invalidate-tenants --distribution-id {distribution_id} --paths "
        f"{' '.join(map(shlex.quote, paths))} --wait)\n\n"
    )
    started = time.monotonic()
    run = client.invalidate_tenants(paths, distribution_id=distribution_id, wait=True, poll=0.05)
    for number, result in enumerate(run, start=1):
        if number <= 5 or number == len(tenants):
            invalidation = result.invalidation
            shown = "-" if invalidation is None else invalidation.id
            out.write(f"  {number:>3}  {result.tenant_id:<22} {shown:<15} {result.status}\n")
        elif number == 6:
            out.write("  ...\n")
    report = run.report()
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
    out.write(
        f"\n{report.tenants} tenants: {counts} in {time.monotonic() - started:.1f} s; "
        f"CallerReference prefix {report.caller_reference}\n"
    )
    before = sum(len(fake.listing(tenant_id)) for tenant_id in tenants)
    again = client.invalidate_tenants(
        paths, distribution_id=distribution_id, caller_reference=report.caller_reference
    ).report()
    after = sum(len(fake.listing(tenant_id)) for tenant_id in tenants)
    same = {r.tenant_id: r.invalidation for r in again.results} == {
        r.tenant_id: r.invalidation for r in report.results
    }
    out.write(
        f"Re-run with that prefix: {after - before} new invalidations, "
        f"{'the same' if same else 'other'} {len(again.results)} reported.\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
