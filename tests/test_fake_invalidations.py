"""The fake's invalidations of tenants, raw: the InProgress -> Completed schedule in virtual time,
the per-distribution in-flight limits (also against a model), request bodies the service refuses,
the SigV4 signature over bodies, bodies through the mock transport (sync and async)."""

from __future__ import annotations

import datetime as dt

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfinval._core.protocol import NAMESPACE
from cfinval.testing import DEFAULT_DISTRIBUTION_ID, FAKE_CREDENTIALS, FakeCloudFront
from tests.test_fake_tenants import BASE, Clock, batch_xml, raw

# --- the schedule, in virtual time ------------------------------------------------------------


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
