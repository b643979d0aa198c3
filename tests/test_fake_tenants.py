"""The fake's tenant workflow (issue 19), with boto3 as the oracle over loopback and raw requests
for what boto3 would never send: create/get invalidations, their schedule in virtual time, the
in-flight limits, idempotent caller references, the two tenant listings, faults by operation."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- the schedule, in virtual time ------------------------------------------------------------


def raw(
    fake: FakeCloudFront, method: str, target: str, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    return fake.handle(method, target, {}, body)


def test_invalidations_complete_after_the_given_seconds_of_the_fake_clock() -> None:
    clock = Clock()
    fake = FakeCloudFront(clock=clock, verify_signatures=False, complete_after=120)
    fake.add_tenant("dt_1")
    status, headers, body = raw(fake, "POST", f"{BASE}/dt_1/invalidation", batch_xml(["/a*"]))
    assert status == 201
    assert b"<Status>InProgress</Status>" in body
    invalidation_id = headers["location"].rsplit("/", 1)[1]
    assert f"<Id>{invalidation_id}</Id>".encode() in body
    clock.now += 119.9
    assert b"InProgress" in raw(fake, "GET", f"{BASE}/dt_1/invalidation/{invalidation_id}")[2]
    assert fake.in_progress() == (1, 1)
    clock.now += 0.1
    assert (
        b"<Status>Completed</Status>"
        in raw(fake, "GET", f"{BASE}/dt_1/invalidation/{invalidation_id}")[2]
    )
    assert fake.listing("dt_1")[0].status == "Completed"
    assert fake.in_progress() == (0, 0)
    fake.complete_after = None  # settable at any time: later ones never complete by time
    raw(fake, "POST", f"{BASE}/dt_1/invalidation", batch_xml(["/b"], ref="2"))
    clock.now += 10**6
    assert [i.status for i in fake.listing("dt_1")] == ["InProgress", "Completed"]


def test_complete_after_gets_counts_gets_of_that_invalidation() -> None:
    fake = FakeCloudFront(verify_signatures=False, complete_after=None, complete_after_gets=2)
    fake.add_tenant("dt_1")
    ids = []
    for ref in ("a", "b"):
        headers = raw(fake, "POST", f"{BASE}/dt_1/invalidation", batch_xml(["/a"], ref=ref))[1]
        ids.append(headers["location"].rsplit("/", 1)[1])
    seen = []
    for _ in range(3):
        body = raw(fake, "GET", f"{BASE}/dt_1/invalidation/{ids[0]}")[2]
        seen.append("Completed" if b"Completed" in body else "InProgress")
    assert seen == ["InProgress", "InProgress", "Completed"]
    assert [i.status for i in fake.listing("dt_1")] == ["InProgress", "Completed"]  # b untouched


def test_set_status_pins_a_created_invalidation() -> None:
    clock = Clock()
    fake = FakeCloudFront(clock=clock, verify_signatures=False, complete_after=1)
    fake.add_tenant("dt_1")
    headers = raw(fake, "POST", f"{BASE}/dt_1/invalidation", batch_xml(["/a"]))[1]
    invalidation_id = headers["location"].rsplit("/", 1)[1]
    fake.set_status("dt_1", invalidation_id, "InProgress")
    clock.now += 100
    assert fake.listing("dt_1")[0].status == "InProgress"
    assert fake.in_progress() == (1, 0)
    fake.set_status("dt_1", invalidation_id, "Completed")
    assert fake.in_progress() == (0, 0)


# --- the in-flight limits ---------------------------------------------------------------------


def test_in_flight_limits_are_per_distribution_and_free_up_on_completion() -> None:
    clock = Clock()
    fake = FakeCloudFront(
        clock=clock,
        verify_signatures=False,
        complete_after=60,
        max_paths_in_progress=4,
        max_wildcards_in_progress=2,
    )
    for tenant, distribution in (("dt_1", "E1"), ("dt_2", "E1"), ("dt_3", "E2")):
        fake.add_tenant(tenant, distribution_id=distribution)

    def create(tenant: str, paths: list[str], ref: str) -> tuple[int, bytes]:
        status, _, body = raw(
            fake, "POST", f"{BASE}/{tenant}/invalidation", batch_xml(paths, ref=ref)
        )
        return status, body

    assert create("dt_1", ["/a*", "/b"], "1")[0] == 201
    assert create("dt_2", ["/c*"], "2")[0] == 201
    status, body = create("dt_2", ["/d*"], "3")  # a third wildcard on E1
    assert (status, b"<Code>TooManyInvalidationsInProgress</Code>" in body) == (400, True)
    assert create("dt_2", ["/d", "/e"], "4")[0] == 400  # 5 paths on E1
    assert create("dt_2", ["/d"], "5")[0] == 201  # exactly 4
    assert create("dt_3", ["/x*", "/y*"], "6")[0] == 201  # E2 has its own budget
    status, body = create("dt_3", ["/1", "/2", "/3", "/4", "/5"], "7")
    assert (status, b"<Code>BatchTooLarge</Code>" in body) == (413, True)
    assert create("dt_3", ["/1*", "/2*", "/3*"], "8")[0] == 413
    assert fake.in_progress("E1") == (4, 2)
    clock.now += 60
    assert create("dt_2", ["/d*"], "3")[0] == 201  # the same reference, now accepted


def test_default_limits_are_cloudfronts() -> None:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_tenant("dt_1")
    assert (fake.max_paths_in_progress, fake.max_wildcards_in_progress) == (3000, 15)
    paths = [f"/p{n}" for n in range(3000)]
    assert raw(fake, "POST", f"{BASE}/dt_1/invalidation", batch_xml(paths))[0] == 201
    assert raw(fake, "POST", f"{BASE}/dt_1/invalidation", batch_xml(["/one"], ref="b"))[0] == 400
    assert fake.in_progress(DEFAULT_DISTRIBUTION_ID) == (3000, 0)


# --- request bodies the service refuses (raw) -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"", 400, "MissingBody"),
        (b"   ", 400, "MissingBody"),
        (b"not xml", 400, "MalformedXML"),
        (b"<InvalidationBatch><Paths/></InvalidationBatch>", 400, "MalformedXML"),  # namespace
        (batch_xml(["/a"]).replace(b"InvalidationBatch", b"Batch"), 400, "MalformedXML"),
        (batch_xml(["/a", "/b"], quantity=3), 400, "InconsistentQuantities"),
        (batch_xml(["/a"], quantity=0), 400, "InconsistentQuantities"),
        (batch_xml(["/a"], ref=""), 400, "InvalidArgument"),
        (
            batch_xml(["/a"]).replace(b"<Quantity>1</Quantity>", b"<Quantity>x</Quantity>"),
            400,
            "InvalidArgument",
        ),
        (
            (
                f'<InvalidationBatch xmlns="{NAMESPACE}"><CallerReference>r</CallerReference>'
                "</InvalidationBatch>"
            ).encode(),
            400,
            "InvalidArgument",
        ),
        (b'<!DOCTYPE x [<!ENTITY e "boom">]>' + batch_xml(["/&e;"]), 400, "MalformedXML"),
    ],
)
def test_bad_create_bodies(body: bytes, status: int, code: str) -> None:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_tenant("dt_1")
    got, headers, answer = raw(fake, "POST", f"{BASE}/dt_1/invalidation", body)
    assert (got, f"<Code>{code}</Code>".encode() in answer) == (status, True), answer
    assert "location" not in headers
    assert fake.listing("dt_1") == []


def test_routes_and_methods() -> None:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_tenant("dt_1")
    assert raw(fake, "GET", "/2020-05-31/distribution-tenants")[0] == 405
    assert raw(fake, "DELETE", f"{BASE}/dt_1/invalidation/I1")[0] == 405
    assert raw(fake, "GET", f"{BASE}/dt_1/invalidation/I1/x")[0] == 404
    assert raw(fake, "POST", "/2020-05-31/distribution-tenants")[0] == 200  # no body: all


# --- signatures over bodies -------------------------------------------------------------------


def botocore_signed(url: str, body: bytes, when: dt.datetime) -> dict[str, str]:
    from unittest import mock

    request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body)
    creds = botocore.credentials.Credentials(
        FAKE_CREDENTIALS.access_key_id, FAKE_CREDENTIALS.secret_access_key
    )
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        botocore.auth.SigV4Auth(creds, "cloudfront", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_the_signature_covers_the_body() -> None:
    clock = Clock()
    fake = FakeCloudFront(clock=clock)
    fake.add_tenant("dt_1")
    when = dt.datetime.fromtimestamp(clock.now, dt.timezone.utc).replace(tzinfo=None)
    url = f"http://fake.test{BASE}/dt_1/invalidation"
    body = batch_xml(["/a"])
    headers = {"host": "fake.test", **botocore_signed(url, body, when)}
    assert "x-amz-content-sha256" not in {k.lower() for k in headers}
    tampered = raw_with(fake, headers, body.replace(b"/a", b"/b"))
    assert (tampered[0], b"SignatureDoesNotMatch" in tampered[2]) == (403, True)
    assert raw_with(fake, headers, body)[0] == 201
    assert fake.in_progress() == (1, 0)


def raw_with(
    fake: FakeCloudFront, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    return fake.handle("POST", f"{BASE}/dt_1/invalidation", headers, body)


def test_over_the_mock_transport_httpx_bodies_reach_the_fake() -> None:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_tenant("dt_1")
    with httpx.Client(
        transport=fake.transport(), base_url="https://cloudfront.amazonaws.com"
    ) as http:
        response = http.post(f"{BASE}/dt_1/invalidation", content=batch_xml(["/m"]))
    assert response.status_code == 201
    assert fake.requests[-1].body == batch_xml(["/m"])


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


def test_removing_a_tenant_frees_its_share_of_the_limits() -> None:
    fake = FakeCloudFront(verify_signatures=False, max_paths_in_progress=1)
    fake.add_tenant("dt_1")
    fake.add_tenant("dt_2")
    assert raw(fake, "POST", f"{BASE}/dt_1/invalidation", batch_xml(["/a"]))[0] == 201
    assert raw(fake, "POST", f"{BASE}/dt_2/invalidation", batch_xml(["/a"]))[0] == 400
    fake.remove_tenant("dt_1")
    assert raw(fake, "POST", f"{BASE}/dt_2/invalidation", batch_xml(["/a"]))[0] == 201


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["dt_1", "dt_2", "dt_3"]),
            st.integers(1, 4),  # plain paths
            st.integers(0, 3),  # wildcard paths
            st.floats(0, 40),  # seconds of fake time before this create
        ),
        max_size=25,
    )
)
def test_in_flight_limits_match_a_model(steps: list[tuple[str, int, int, float]]) -> None:
    clock = Clock()
    fake = FakeCloudFront(
        clock=clock,
        verify_signatures=False,
        complete_after=60,
        max_paths_in_progress=8,
        max_wildcards_in_progress=3,
    )
    distribution = {"dt_1": "E1", "dt_2": "E1", "dt_3": "E2"}
    for tenant, dist in distribution.items():
        fake.add_tenant(tenant, distribution_id=dist)
    model: list[tuple[str, float, int, int]] = []  # (distribution, created, paths, wildcards)
    for n, (tenant, plain, wild, wait) in enumerate(steps):
        clock.now += wait
        live = [m for m in model if clock.now - m[1] < 60]
        dist = distribution[tenant]
        paths = sum(m[2] for m in live if m[0] == dist)
        wildcards = sum(m[3] for m in live if m[0] == dist)
        batch = [f"/p{k}" for k in range(plain)] + [f"/w{k}*" for k in range(wild)]
        if plain + wild > 8 or wild > 3:
            expected = 413
        elif paths + plain + wild > 8 or wildcards + wild > 3:
            expected = 400
        else:
            expected = 201
            model.append((dist, clock.now, plain + wild, wild))
        status = raw(fake, "POST", f"{BASE}/{tenant}/invalidation", batch_xml(batch, ref=str(n)))[0]
        assert status == expected
        for name in ("E1", "E2"):
            assert fake.in_progress(name) == (
                sum(m[2] for m in model if m[0] == name and clock.now - m[1] < 60),
                sum(m[3] for m in model if m[0] == name and clock.now - m[1] < 60),
            )


def test_async_httpx_bodies_reach_the_fake_over_the_mock_transport() -> None:
    import asyncio

    fake = FakeCloudFront(verify_signatures=False)
    fake.add_tenant("dt_1")

    async def go() -> int:
        async with httpx.AsyncClient(
            transport=fake.transport(), base_url="https://cloudfront.amazonaws.com"
        ) as http:
            response = await http.post(f"{BASE}/dt_1/invalidation", content=batch_xml(["/as"]))
            return response.status_code

    assert asyncio.run(go()) == 201
    assert fake.invalidation_paths("dt_1", fake.listing("dt_1")[0].id) == ("/as",)


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
