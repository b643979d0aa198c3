"""Type-checked (not run) by tests/test_public_types.py: what the public signatures accept.

A line ending in ``# E`` must be a mypy error; every other line must pass ``mypy --strict``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cfinval
from cfinval.testing import FakeCloudFront

creds = cfinval.Credentials("AKIDEXAMPLE", "secret")


class OwnProvider:  # only load(): no base class, no ``method``
    def load(self) -> cfinval.Credentials | None:
        return creds


def own_callable() -> cfinval.Credentials:
    return creds


cfinval.Client(credentials=creds)
cfinval.Client(credentials=OwnProvider())
cfinval.Client(credentials=own_callable)
cfinval.Client(credentials=cfinval.default_chain("audit"))
cfinval.Client(credentials=cfinval.EnvProvider())
cfinval.AsyncClient(credentials=None)
cfinval.AsyncClient(credentials=lambda: None)
FakeCloudFront(credentials=creds)
FakeCloudFront(credentials=[creds, creds])


def pick_source(use_env: bool) -> cfinval.CredentialSource:  # the type of ``credentials=``
    return cfinval.EnvProvider() if use_env else own_callable


cfinval.Client(credentials=pick_source(True))

done: cfinval.Invalidation = cfinval.Client().wait_invalidation_for_distribution_tenant_completed(
    "dt_1", "I1", WaiterConfig={"Delay": 5, "MaxAttempts": 10}
)
waiter = cfinval.Client().wait_invalidation_for_distribution_tenant_completed
waiter("dt_1", "I1", WaiterConfig=20)  # E


def deploy(client: cfinval.Client) -> cfinval.InvalidationReport:
    run: cfinval.InvalidationRun = client.invalidate_tenants(["/*"], distribution_id="E1")
    first: cfinval.TenantInvalidation = next(run)
    assert first.invalidation is None or first.invalidation.completed
    return run.report()


async def deploy_async(client: cfinval.AsyncClient) -> list[str]:
    run = client.invalidate_tenants(["/a"], tenant_ids=("dt_1",), wait=True, timeout=None)
    done = [result.tenant_id async for result in run]
    report: cfinval.InvalidationReport = await run.report()
    return [*done, report.caller_reference]


cfinval.Client().invalidate_tenants(["/a"], tenant_ids=[1], concurrency="8")  # E
cfinval.Client().invalidate_tenants(["/a"], tenant_ids=["dt_1"], wait="yes")  # E

cfinval.Client(credentials=42)  # E
cfinval.AsyncClient(credentials="AKIDEXAMPLE:secret")  # E
FakeCloudFront(credentials=42)  # E
wrong: cfinval.CredentialSource = "AKIDEXAMPLE"  # E

# retry_mode= is one of three names; list_many() takes many Ids, never one str
client = cfinval.Client(creds, retry_mode="adaptive")
cfinval.AsyncClient(creds, retry_mode="legacy")
cfinval.Client(creds, retry_mode="fast")  # E
cfinval.AsyncClient(creds, retry_mode="Standard")  # E
typed_ids: Sequence[str] = ["dt_1", "dt_2"]
client.list_many(typed_ids)
client.list_many(["dt_1", "dt_2"])
client.list_many(("dt_1",))
client.list_many({"dt_1"})
client.list_many({"dt_1": "shop"}.keys())
client.list_many({"dt_1": "shop"})
client.list_many(line.strip() for line in ["dt_1\n"])
client.list_many(iter(typed_ids))
client.list_many("dt_1")  # E
cfinval.AsyncClient(creds).list_many("dt_1")  # E


def tenant_ids(client: cfinval.Client) -> list[str]:
    return [tenant.id for tenant in client.iter_distribution_tenants(distribution_id="E1")]


async def tenant_pages(client: cfinval.AsyncClient) -> list[cfinval.DistributionTenantPage]:
    pages = client.paginate_distribution_tenants_by_customization(web_acl_arn="arn:w")
    return [page async for page in pages]


page: cfinval.DistributionTenantPage = cfinval.Client().list_distribution_tenants(
    AssociationFilter={"DistributionId": "E1"}, MaxItems=10
)
cfinval.Client().iter_distribution_tenants(page_size="10")  # E
cfinval.Client().list_distribution_tenants({"DistributionId": 1})  # E

reveal_type(cfinval.default_chain().load())  # noqa: F821
