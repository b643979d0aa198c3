"""Tenant discovery against ``cfinval.testing``'s fake CloudFront, next to boto3 on the same
server: the same tenants, pages and resume tokens, filters and errors (the fake checks the
SigV4 signature of every body)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

import anyio
import boto3
import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

WAF = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop/a1b2c3"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
#: (tenant Id, distribution, connection group, customizations)
SEED: list[tuple[str, str, str, dict[str, Any] | None]] = [
    (f"dt_{n:02d}", "E1AAAAAAAAAAAA" if n % 3 else "E2BBBBBBBBBBBB", f"cg_{n % 2}", None)
    for n in range(17)
]
SEED += [
    ("dt_waf", "E1AAAAAAAAAAAA", "cg_0", {"WebAcl": {"Action": "override", "Arn": WAF}}),
    ("dt_cert", "E2BBBBBBBBBBBB", "cg_1", {"Certificate": {"Arn": CERT}}),
]
#: Tenants of another web ACL, for the by-customization paginator.
OTHER_WAF = WAF.replace("shop", "blog")
SEED += [
    (f"dt_blog{n}", "E1AAAAAAAAAAAA", "cg_0", {"WebAcl": {"Action": "override", "Arn": OTHER_WAF}})
    for n in range(7)
]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    fake = FakeCloudFront()
    start = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    for n, (tenant_id, distribution, group, custom) in enumerate(SEED):
        fake.add_tenant(
            tenant_id,
            distribution_id=distribution,
            connection_group_id=group,
            name=tenant_id.replace("_", "-"),
            domains=[f"{tenant_id}.example.com"],
            customizations=custom,
            created_time=start + _dt.timedelta(minutes=n),
        )
    fake.add_tenant("dt_locked", access_denied=True)
    with fake.serve() as server:
        yield server.endpoint_url


def boto3_client(endpoint_url: str) -> Any:
    return boto3.client(
        "cloudfront",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id=FAKE_CREDENTIALS.access_key_id,
        aws_secret_access_key=FAKE_CREDENTIALS.secret_access_key,
    )


def test_a_page_equals_boto3s(url: str) -> None:
    kwargs = {"AssociationFilter": {"DistributionId": "E1AAAAAAAAAAAA"}, "MaxItems": 4}
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client:
        ours = client.list_distribution_tenants(**kwargs)
        everything = client.list_distribution_tenants()
    theirs = boto3_client(url).list_distribution_tenants(**kwargs)
    del theirs["ResponseMetadata"]
    assert ours.to_dict() == theirs
    assert len(ours.items) == 4
    assert ours.next_marker is not None
    assert {t.distribution_id for t in ours.items} == {"E1AAAAAAAAAAAA"}
    assert {t.id for t in everything.items} >= {"dt_00", "dt_waf", "dt_cert"}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({}, {}),
        ({"distribution_id": "E2BBBBBBBBBBBB"}, {"DistributionId": "E2BBBBBBBBBBBB"}),
        ({"connection_group_id": "cg_1"}, {"ConnectionGroupId": "cg_1"}),
        (
            {"distribution_id": "E1AAAAAAAAAAAA", "connection_group_id": "cg_0"},
            {"DistributionId": "E1AAAAAAAAAAAA", "ConnectionGroupId": "cg_0"},
        ),
    ],
    ids=["all", "distribution", "connection-group", "both"],
)
@pytest.mark.parametrize(
    "config", [{"page_size": 3, "max_items": 5}, {"page_size": 4, "max_items": 8}, {}], ids=str
)
def test_pages_and_tokens_equal_botocores(
    url: str, ours: dict[str, str], theirs: dict[str, str], config: dict[str, int]
) -> None:
    boto_config = {"PageSize" if k == "page_size" else "MaxItems": v for k, v in config.items()}
    kwargs: dict[str, Any] = {"AssociationFilter": theirs} if theirs else {}
    iterator = (
        boto3_client(url)
        .get_paginator("list_distribution_tenants")
        .paginate(PaginationConfig=boto_config, **kwargs)
    )
    boto_pages = [[t["Id"] for t in page["DistributionTenantList"]] for page in iterator]
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client:
        pages = client.paginate_distribution_tenants(**ours, **config)
        our_pages = [[t.id for t in page.items] for page in pages]
        assert (our_pages, pages.resume_token) == (boto_pages, iterator.resume_token)
        if pages.resume_token is not None:  # and the rest, from botocore's token
            rest = client.iter_distribution_tenants(**ours, starting_token=iterator.resume_token)
            listed = [tid for page in our_pages for tid in page] + [t.id for t in rest]
            assert listed == [t.id for t in client.iter_distribution_tenants(**ours)]


def test_by_customization_finds_the_tenants_of_a_web_acl_or_a_certificate(url: str) -> None:
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client:
        waf = list(client.iter_distribution_tenants_by_customization(web_acl_arn=WAF))
        page = client.list_distribution_tenants_by_customization(CertificateArn=CERT)
    assert [t.id for t in waf] == ["dt_waf"]
    assert waf[0].customizations == cfinval.Customizations(
        web_acl=cfinval.WebAclCustomization("override", WAF)
    )
    theirs = boto3_client(url).list_distribution_tenants_by_customization(CertificateArn=CERT)
    del theirs["ResponseMetadata"]
    assert page.to_dict() == theirs
    assert [t.id for t in page.items] == ["dt_cert"]


@pytest.mark.parametrize("config", [{"page_size": 2, "max_items": 3}, {"page_size": 3}], ids=str)
def test_by_customization_pages_and_tokens_equal_botocores(
    url: str, config: dict[str, int]
) -> None:
    boto_config = {"PageSize" if k == "page_size" else "MaxItems": v for k, v in config.items()}
    iterator = (
        boto3_client(url)
        .get_paginator("list_distribution_tenants_by_customization")
        .paginate(WebACLArn=OTHER_WAF, PaginationConfig=boto_config)
    )
    boto_pages = [[t["Id"] for t in page["DistributionTenantList"]] for page in iterator]
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client:
        pages = client.paginate_distribution_tenants_by_customization(
            web_acl_arn=OTHER_WAF, **config
        )
        assert ([[t.id for t in page.items] for page in pages], pages.resume_token) == (
            boto_pages,
            iterator.resume_token,
        )
    assert boto_pages[0] == [f"dt_blog{n}" for n in range(config["page_size"])]


def test_the_async_client_lists_the_same(url: str) -> None:
    async def main() -> tuple[list[str], cfinval.DistributionTenantPage]:
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, endpoint_url=url) as client:
            ids = [t.id async for t in client.iter_distribution_tenants(page_size=5)]
            page = await client.list_distribution_tenants(
                AssociationFilter={"ConnectionGroupId": "cg_1"}
            )
            return ids, page

    ids, page = anyio.run(main)
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client:
        assert ids == [t.id for t in client.iter_distribution_tenants()]
        assert page == client.list_distribution_tenants(
            AssociationFilter={"ConnectionGroupId": "cg_1"}
        )


def test_a_bad_max_items_is_the_services_invalid_argument(url: str) -> None:
    with (
        cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client,
        pytest.raises(cfinval.InvalidArgument) as raised,
    ):
        client.list_distribution_tenants(MaxItems=10**6)
    assert raised.value.code == "InvalidArgument"
    assert raised.value.operation == "ListDistributionTenants"
