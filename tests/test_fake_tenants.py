"""The fake's tenant workflow (issue 19) with boto3 as the oracle over loopback: create/get
invalidations, the waiter, idempotent caller references, the two tenant listings, faults by
operation, seeds and fake-server. Raw requests: tests/test_fake_invalidations.py."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest

from cfinval._core.protocol import NAMESPACE
from cfinval.testing import (
    DEFAULT_DISTRIBUTION_ID,
    FAKE_CREDENTIALS,
    FakeCloudFront,
    Fault,
    FaultRule,
    SeedError,
    load_seed,
)

BASE = "/2020-05-31/distribution-tenant"
BATCH = (
    '<InvalidationBatch xmlns="{ns}"><Paths><Quantity>{q}</Quantity><Items>{items}</Items>'
    "</Paths><CallerReference>{ref}</CallerReference></InvalidationBatch>"
)


def batch_xml(paths: list[str], ref: str = "ref-1", quantity: int | None = None) -> bytes:
    items = "".join(f"<Path>{p}</Path>" for p in paths)
    q = len(paths) if quantity is None else quantity
    return BATCH.format(ns=NAMESPACE, q=q, items=items, ref=ref).encode()


class Clock:
    """The fake's clock, moved by hand: virtual time."""

    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def boto3_client(url: str, **config: Any) -> Any:
    return boto3.client(
        "cloudfront",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS.access_key_id,
        aws_secret_access_key=FAKE_CREDENTIALS.secret_access_key,
        config=botocore.config.Config(
            retries={"total_max_attempts": 1, "mode": "standard"}, **config
        ),
    )


@pytest.fixture
def fake() -> FakeCloudFront:
    fake = FakeCloudFront(complete_after=None, complete_after_gets=1)
    fake.add_tenant(
        "dt_a",
        distribution_id="E1",
        name="shop-a",
        domains=["a.example.com", {"Domain": "old-a.example.com", "Status": "inactive"}],
        customizations={
            "WebAcl": {"Action": "override", "Arn": "arn:aws:wafv2::acl/a"},
            "Certificate": {"Arn": "arn:aws:acm::cert/a"},
            "GeoRestrictions": {"RestrictionType": "whitelist", "Locations": ["US", "FR"]},
        },
        created_time=dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc),
    )
    fake.add_tenant("dt_b", distribution_id="E1", connection_group_id="cg_other", enabled=False)
    fake.add_tenant(
        "dt_c",
        distribution_id="E2",
        status="InProgress",
        customizations={"WebAcl": {"Action": "override", "Arn": "arn:aws:wafv2::acl/a"}},
    )
    fake.add_tenant("dt_locked", distribution_id="E2", access_denied=True)
    return fake


@pytest.fixture
def cf(fake: FakeCloudFront) -> Iterator[Any]:
    with fake.serve() as server:
        yield boto3_client(server.endpoint_url)


def raw(
    fake: FakeCloudFront, method: str, target: str, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    return fake.handle(method, target, {}, body)


def code_of(call: Callable[[], object]) -> tuple[str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# --- create, get, list: boto3 -----------------------------------------------------------------


def test_boto3_creates_gets_and_lists_an_invalidation(fake: FakeCloudFront, cf: Any) -> None:
    made = cf.create_invalidation_for_distribution_tenant(
        Id="dt_a",
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/a", "/b*"]},
            "CallerReference": "r1",
        },
    )
    invalidation = made["Invalidation"]
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert made["Location"].endswith(f"{BASE}/dt_a/invalidation/{invalidation['Id']}")
    assert invalidation["Status"] == "InProgress"
    assert invalidation["InvalidationBatch"] == {
        "Paths": {"Quantity": 2, "Items": ["/a", "/b*"]},
        "CallerReference": "r1",
    }
    assert abs(invalidation["CreateTime"].timestamp() - time.time()) < 60
    got = cf.get_invalidation_for_distribution_tenant(
        DistributionTenantId="dt_a", Id=invalidation["Id"]
    )
    assert got["Invalidation"] == invalidation  # one Get sees it InProgress (complete_after_gets=1)
    listed = cf.list_invalidations_for_distribution_tenant(Id="dt_a")["InvalidationList"]
    assert [(i["Id"], i["Status"]) for i in listed["Items"]] == [(invalidation["Id"], "InProgress")]
    assert fake.invalidation_paths("dt_a", invalidation["Id"]) == ("/a", "/b*")
    assert fake.requests[0].operation == "CreateInvalidationForDistributionTenant"
    assert b"<CallerReference>r1</CallerReference>" in fake.requests[0].body


def test_created_invalidations_list_newest_first_after_seeded_ones(
    fake: FakeCloudFront, cf: Any
) -> None:
    old = fake.add_invalidation("dt_b", create_time=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    ids = [
        cf.create_invalidation_for_distribution_tenant(
            Id="dt_b",
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": [f"/{n}"]},
                "CallerReference": f"r{n}",
            },
        )["Invalidation"]["Id"]
        for n in range(3)
    ]
    pages = cf.get_paginator("list_invalidations_for_distribution_tenant").paginate(
        Id="dt_b", PaginationConfig={"PageSize": 2}
    )
    listed = [item["Id"] for page in pages for item in page["InvalidationList"]["Items"]]
    assert listed == [*reversed(ids), old.id]


def test_boto3_waiter_waits_until_completed(fake: FakeCloudFront, cf: Any) -> None:
    fake.complete_after_gets = 3
    made = cf.create_invalidation_for_distribution_tenant(
        Id="dt_a",
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "w"},
    )["Invalidation"]
    waiter = cf.get_waiter("invalidation_for_distribution_tenant_completed")
    waiter.wait(
        DistributionTenantId="dt_a", Id=made["Id"], WaiterConfig={"Delay": 0.001, "MaxAttempts": 5}
    )
    gets = [r for r in fake.requests if r.operation == "GetInvalidationForDistributionTenant"]
    assert len(gets) == 4  # three see InProgress, the fourth Completed
    other = cf.create_invalidation_for_distribution_tenant(
        Id="dt_a",
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/x"]}, "CallerReference": "w2"},
    )["Invalidation"]
    with pytest.raises(botocore.exceptions.WaiterError):
        waiter.wait(
            DistributionTenantId="dt_a",
            Id=other["Id"],
            WaiterConfig={"Delay": 0.001, "MaxAttempts": 2},
        )


def test_errors_of_create_and_get_have_boto3_codes(fake: FakeCloudFront, cf: Any) -> None:
    def create(tenant: str, paths: list[str], ref: str = "e", quantity: int | None = None) -> Any:
        return cf.create_invalidation_for_distribution_tenant(
            Id=tenant,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths) if quantity is None else quantity, "Items": paths},
                "CallerReference": ref,
            },
        )

    assert code_of(lambda: create("dt_nope", ["/a"])) == ("EntityNotFound", 404)
    assert code_of(lambda: create("dt_locked", ["/a"])) == ("AccessDenied", 403)
    assert code_of(lambda: create("dt_a", ["/a"], quantity=2)) == ("InconsistentQuantities", 400)
    for bad in ["a", "", "/a\tb", "/a\nb", "#tag*", "#", "/" + "x" * 4000, "#" + "t" * 257]:
        assert code_of(lambda bad=bad: create("dt_a", [bad])) == ("InvalidArgument", 400), bad
    assert code_of(lambda: create("dt_a", ["/a\x01"])) == ("MalformedXML", 400)  # not XML 1.0
    assert code_of(lambda: create("dt_a", [])) == ("InvalidArgument", 400)
    assert code_of(
        lambda: cf.get_invalidation_for_distribution_tenant(DistributionTenantId="dt_a", Id="INOPE")
    ) == ("NoSuchInvalidation", 404)
    assert code_of(
        lambda: cf.get_invalidation_for_distribution_tenant(DistributionTenantId="dt_nope", Id="I1")
    ) == ("EntityNotFound", 404)
    assert code_of(
        lambda: cf.get_invalidation_for_distribution_tenant(
            DistributionTenantId="dt_locked", Id="I1"
        )
    ) == ("AccessDenied", 403)
    create("dt_a", ["#Product-42", "/ok"], ref="tags")  # cache tags are paths too


def test_a_seeded_invalidation_can_be_read_back(fake: FakeCloudFront, cf: Any) -> None:
    seeded = fake.add_invalidation("dt_b", status="InProgress")
    got = cf.get_invalidation_for_distribution_tenant(DistributionTenantId="dt_b", Id=seeded.id)
    assert got["Invalidation"]["Status"] == "InProgress"  # seeded ones keep their status
    assert got["Invalidation"]["InvalidationBatch"]["Paths"] == {"Quantity": 1, "Items": ["/*"]}


# --- caller references ------------------------------------------------------------------------


def test_the_same_caller_reference_and_paths_return_the_earlier_invalidation(
    fake: FakeCloudFront, cf: Any
) -> None:
    batch = {"Paths": {"Quantity": 2, "Items": ["/x", "/y"]}, "CallerReference": "deploy-7"}
    first = cf.create_invalidation_for_distribution_tenant(Id="dt_a", InvalidationBatch=batch)
    again = cf.create_invalidation_for_distribution_tenant(Id="dt_a", InvalidationBatch=batch)
    assert again["Invalidation"] == first["Invalidation"]
    assert again["Location"] == first["Location"]
    assert len(fake.listing("dt_a")) == 1
    assert fake.in_progress("E1") == (2, 0)  # counted once
    other = {"Paths": {"Quantity": 1, "Items": ["/x"]}, "CallerReference": "deploy-7"}
    assert code_of(
        lambda: cf.create_invalidation_for_distribution_tenant(Id="dt_a", InvalidationBatch=other)
    ) == ("InvalidationBatchAlreadyExists", 409)
    elsewhere = cf.create_invalidation_for_distribution_tenant(Id="dt_b", InvalidationBatch=batch)
    assert elsewhere["Invalidation"]["Id"] != first["Invalidation"]["Id"]  # per tenant


def test_a_lost_201_retried_by_boto3_creates_one_invalidation(fake: FakeCloudFront) -> None:
    fake.add_fault(Fault.reset(), operation="CreateInvalidationForDistributionTenant", count=1)
    with fake.serve() as server:
        cf = boto3.client(
            "cloudfront",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=FAKE_CREDENTIALS.access_key_id,
            aws_secret_access_key=FAKE_CREDENTIALS.secret_access_key,
            config=botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"}),
        )
        made = cf.create_invalidation_for_distribution_tenant(
            Id="dt_a",
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": "once",
            },
        )
    creates = [r for r in fake.requests if r.operation == "CreateInvalidationForDistributionTenant"]
    assert [r.fault for r in creates] == ["reset", None]
    assert [i.id for i in fake.listing("dt_a")] == [made["Invalidation"]["Id"]]


# --- tenant listings --------------------------------------------------------------------------


def test_boto3_lists_tenants_with_every_field(cf: Any) -> None:
    answer = cf.list_distribution_tenants(AssociationFilter={"DistributionId": "E1"})
    assert "NextMarker" not in answer
    first, second = answer["DistributionTenantList"]
    assert first == {
        "Id": "dt_a",
        "DistributionId": "E1",
        "Name": "shop-a",
        "Arn": "arn:aws:cloudfront::123456789012:distribution-tenant/dt_a",
        "Domains": [
            {"Domain": "a.example.com", "Status": "active"},
            {"Domain": "old-a.example.com", "Status": "inactive"},
        ],
        "ConnectionGroupId": "cg_2fakeDefaultConnectionGroup",
        "Customizations": {
            "WebAcl": {"Action": "override", "Arn": "arn:aws:wafv2::acl/a"},
            "Certificate": {"Arn": "arn:aws:acm::cert/a"},
            "GeoRestrictions": {"RestrictionType": "whitelist", "Locations": ["US", "FR"]},
        },
        "CreatedTime": dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc),
        "LastModifiedTime": dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc),
        "ETag": first["ETag"],
        "Enabled": True,
        "Status": "Deployed",
    }
    assert first["ETag"].startswith("E")
    assert len(first["ETag"]) == 14
    assert (second["Id"], second["Enabled"], second["ConnectionGroupId"]) == (
        "dt_b",
        False,
        "cg_other",
    )
    assert "Customizations" not in second


def test_tenant_listings_filter_and_page_as_boto3_paginates(cf: Any) -> None:
    def ids(**kw: Any) -> list[list[str]]:
        pages = cf.get_paginator("list_distribution_tenants").paginate(**kw)
        return [[t["Id"] for t in page["DistributionTenantList"]] for page in pages]

    assert ids(PaginationConfig={"PageSize": 3}) == [["dt_a", "dt_b", "dt_c"], ["dt_locked"]]
    assert ids(PaginationConfig={"PageSize": 2}) == [["dt_a", "dt_b"], ["dt_c", "dt_locked"]]
    assert ids(AssociationFilter={"DistributionId": "E2"}) == [["dt_c", "dt_locked"]]
    assert ids(AssociationFilter={"ConnectionGroupId": "cg_other"}) == [["dt_b"]]
    assert ids(AssociationFilter={"DistributionId": "E2", "ConnectionGroupId": "cg_other"}) == [[]]
    first = cf.list_distribution_tenants(MaxItems=1)
    assert first["NextMarker"] == "dt_a"
    assert code_of(lambda: cf.list_distribution_tenants(Marker="dt_zzz")) == (
        "InvalidArgument",
        400,
    )
    assert code_of(lambda: cf.list_distribution_tenants(MaxItems=0)) == ("InvalidArgument", 400)
    assert code_of(
        lambda: cf.list_distribution_tenants(AssociationFilter={"DistributionId": "E404"})
    ) == ("EntityNotFound", 404)


def test_listing_by_customization_needs_exactly_one_arn(cf: Any) -> None:
    def ids(**kw: Any) -> list[str]:
        pages = cf.get_paginator("list_distribution_tenants_by_customization").paginate(**kw)
        return [t["Id"] for page in pages for t in page["DistributionTenantList"]]

    assert ids(WebACLArn="arn:aws:wafv2::acl/a", PaginationConfig={"PageSize": 1}) == [
        "dt_a",
        "dt_c",
    ]
    assert ids(CertificateArn="arn:aws:acm::cert/a") == ["dt_a"]
    assert ids(CertificateArn="arn:aws:acm::cert/none") == []
    assert code_of(lambda: cf.list_distribution_tenants_by_customization()) == (
        "InvalidArgument",
        400,
    )
    assert code_of(
        lambda: cf.list_distribution_tenants_by_customization(WebACLArn="a", CertificateArn="b")
    ) == ("InvalidArgument", 400)


def test_an_empty_tenant_list_is_an_empty_element() -> None:
    fake = FakeCloudFront(verify_signatures=False)
    status, _, body = raw(fake, "POST", "/2020-05-31/distribution-tenants")
    assert status == 200
    assert b"<DistributionTenantList></DistributionTenantList>" in body
    assert b"NextMarker" not in body


# --- faults by operation ----------------------------------------------------------------------


def test_a_rule_selects_an_operation_and_counts_its_requests_only(
    fake: FakeCloudFront, cf: Any
) -> None:
    rule = fake.add_fault("throttle,op=list-distribution-tenants,every=2")
    assert rule.operation == "ListDistributionTenants"
    assert FaultRule.parse(rule.spec()) == rule
    outcomes = []
    for _ in range(2):
        cf.list_invalidations_for_distribution_tenant(Id="dt_a")  # not counted by the rule
        try:
            cf.list_distribution_tenants()
            outcomes.append("ok")
        except botocore.exceptions.ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    assert outcomes == ["ok", "Throttling"]


def test_fault_rules_refuse_unknown_operations() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        FaultRule.parse("503,op=DeleteEverything")
    with pytest.raises(ValueError, match="unknown operation"):
        FaultRule(Fault.error(), operation="nope")


@pytest.mark.parametrize(
    "operation",
    [
        "CreateInvalidationForDistributionTenant",
        "GetInvalidationForDistributionTenant",
        "ListDistributionTenants",
        "ListDistributionTenantsByCustomization",
        "ListInvalidationsForDistributionTenant",
    ],
)
def test_every_operation_can_be_faulted(fake: FakeCloudFront, cf: Any, operation: str) -> None:
    fake.add_fault(Fault.error(503), operation=operation)
    made = fake.add_invalidation("dt_a")
    calls: dict[str, Callable[[], object]] = {
        "CreateInvalidationForDistributionTenant": lambda: (
            cf.create_invalidation_for_distribution_tenant(
                Id="dt_a",
                InvalidationBatch={
                    "Paths": {"Quantity": 1, "Items": ["/*"]},
                    "CallerReference": "f",
                },
            )
        ),
        "GetInvalidationForDistributionTenant": lambda: cf.get_invalidation_for_distribution_tenant(
            DistributionTenantId="dt_a", Id=made.id
        ),
        "ListDistributionTenants": lambda: cf.list_distribution_tenants(),
        "ListDistributionTenantsByCustomization": lambda: (
            cf.list_distribution_tenants_by_customization(CertificateArn="x")
        ),
        "ListInvalidationsForDistributionTenant": lambda: (
            cf.list_invalidations_for_distribution_tenant(Id="dt_a")
        ),
    }
    for name, call in calls.items():
        if name == operation:
            assert code_of(call) == ("ServiceUnavailable", 503)
        else:
            call()


# --- seeds and fake-server --------------------------------------------------------------------


def test_seed_tenants_with_their_distribution_and_customizations() -> None:
    fake = FakeCloudFront(verify_signatures=False)
    load_seed(
        fake,
        {
            "tenants": {
                "dt_eu": {
                    "DistributionId": "E2EXAMPLE",
                    "ConnectionGroupId": "cg_eu",
                    "Name": "eu",
                    "Domains": ["eu.example.com"],
                    "Customizations": {"Certificate": {"Arn": "arn:aws:acm::c"}},
                    "Enabled": False,
                    "Status": "InProgress",
                    "CreatedTime": "2026-02-03T04:05:06Z",
                    "invalidations": [{"Id": "I1"}],
                },
                "dt_plain": [],
            }
        },
    )
    body = raw(fake, "POST", "/2020-05-31/distribution-tenants")[2].decode()
    for text in (
        "<DistributionId>E2EXAMPLE</DistributionId>",
        "<ConnectionGroupId>cg_eu</ConnectionGroupId>",
        "<Name>eu</Name>",
        "<Domains><member><Domain>eu.example.com</Domain><Status>active</Status></member></Domains>",
        "<Certificate><Arn>arn:aws:acm::c</Arn></Certificate>",
        "<CreatedTime>2026-02-03T04:05:06.000Z</CreatedTime>",
        "<Enabled>false</Enabled><Status>InProgress</Status>",
        f"<DistributionId>{DEFAULT_DISTRIBUTION_ID}</DistributionId>",
    ):
        assert text in body
    assert fake.distributions() == sorted([DEFAULT_DISTRIBUTION_ID, "E2EXAMPLE"])
    assert fake.tenants("E2EXAMPLE") == ["dt_eu"]


@pytest.mark.parametrize(
    "tenant",
    [
        {"DistributionId": ""},
        {"Status": "Broken"},
        {"Enabled": "yes"},
        {"Domains": "a.example.com"},
        {"Domains": [{"Domain": "a", "Status": "on"}]},
        {"Customizations": {"WebAcl": {"Arn": "x"}}},
        {
            "Customizations": {
                "GeoRestrictions": {"RestrictionType": "whitelist", "Locations": "US"}
            }
        },
        {"Customizations": {"Other": {}}},
        {"CreatedTime": "yesterday"},
        {"Color": "blue"},
    ],
)
def test_bad_tenant_seeds_are_seed_errors(tenant: dict[str, Any]) -> None:
    with pytest.raises(SeedError, match="dt_x"):
        load_seed(FakeCloudFront(), {"tenants": {"dt_x": tenant}})


def test_seed_tenants_of_a_distribution() -> None:
    fake = FakeCloudFront()
    ids = fake.seed_tenants(
        3, invalidations=1, distribution_id="EDEPLOY", connection_group_id="cg_1"
    )
    assert fake.tenants("EDEPLOY") == ids
    assert fake.tenants(DEFAULT_DISTRIBUTION_ID) == []


def test_fake_server_serves_the_workflow_to_boto3(tmp_path: Path) -> None:
    from tests.test_fake_server import fake_server

    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"tenants": {"dt_1": {"DistributionId": "EX"}, "dt_2": []}}))
    args = ["--seed-file", str(seed), "--complete-after-gets", "0", "--max-paths-in-progress", "2"]
    with fake_server(*args) as (url, lines):
        assert any("distributions: E1FAKEDISTRIB0, EX" in line for line in lines)
        cf = boto3_client(url)
        made = cf.create_invalidation_for_distribution_tenant(
            Id="dt_1",
            InvalidationBatch={
                "Paths": {"Quantity": 2, "Items": ["/a", "/b"]},
                "CallerReference": "s",
            },
        )["Invalidation"]
        assert code_of(
            lambda: cf.create_invalidation_for_distribution_tenant(
                Id="dt_1",
                InvalidationBatch={
                    "Paths": {"Quantity": 1, "Items": ["/c"]},
                    "CallerReference": "t",
                },
            )
        ) == ("TooManyInvalidationsInProgress", 400)
        cf.get_waiter("invalidation_for_distribution_tenant_completed").wait(
            DistributionTenantId="dt_1",
            Id=made["Id"],
            WaiterConfig={"Delay": 0.001, "MaxAttempts": 1},
        )
        tenants = cf.list_distribution_tenants(AssociationFilter={"DistributionId": "EX"})
        assert [t["Id"] for t in tenants["DistributionTenantList"]] == ["dt_1"]


def test_a_rewound_tenant_listing_points_back_at_the_first_page() -> None:
    fake = FakeCloudFront(verify_signatures=False)
    for n in range(5):
        fake.add_tenant(f"dt_{n}")
    fake.add_fault("rewind,op=ListDistributionTenants")
    request = f'<ListDistributionTenantsRequest xmlns="{NAMESPACE}"><Marker>dt_1</Marker>'
    body = (request + "<MaxItems>2</MaxItems></ListDistributionTenantsRequest>").encode()
    answer = raw(fake, "POST", "/2020-05-31/distribution-tenants", body)[2]
    assert b"<NextMarker>dt_1</NextMarker>" in answer  # the first page's, again
    assert b"<Id>dt_2</Id>" in answer
