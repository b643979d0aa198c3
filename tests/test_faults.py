"""cfinval.testing fault injection: which requests fail, how, in every adapter."""

from __future__ import annotations

import asyncio
import gzip
from xml.parsers.expat import ExpatError

import httpx
import pytest
import xmltodict

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FAULT_KINDS, FakeCloudFront, Fault, FaultRule

TENANT = "dt_faults"
PATH = f"/2020-05-31/distribution-tenant/{TENANT}/invalidation"


def _fake(items: int = 5) -> FakeCloudFront:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_tenant(TENANT)
    for _ in range(items):
        fake.add_invalidation(TENANT)
    return fake


@pytest.mark.parametrize(
    ("rule", "hits"),
    [
        (FaultRule(Fault.reset()), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        (FaultRule(Fault.reset(), every=3), [3, 6, 9]),
        (FaultRule(Fault.reset(), every=3, start=1), [1, 4, 7, 10]),
        (FaultRule(Fault.reset(), every=2, start=4, count=2), [4, 6]),
        (FaultRule(Fault.reset(), start=2, count=1), [2]),
    ],
)
def test_rules_match_request_numbers(rule: FaultRule, hits: list[int]) -> None:
    assert [n for n in range(1, 11) if rule.matches(n)] == hits


@pytest.mark.parametrize(
    ("spec", "fault", "every", "start", "count"),
    [
        ("503,every=2", Fault.error(503), 2, None, None),
        ("error:500,code=InternalFailure", Fault.error(500, "InternalFailure"), 1, None, None),
        ("throttle,every=3", Fault.throttling(), 3, None, None),
        ("throttling,retry_after_ms=1500", Fault.throttling(1500), 1, None, None),
        ("html", Fault.html(502), 1, None, None),
        ("html:504", Fault.html(504), 1, None, None),
        ("empty", Fault.empty(503), 1, None, None),
        ("garbage", Fault.garbage(), 1, None, None),
        ("reset,start=1,count=2", Fault.reset(), 1, 1, 2),
        ("cut", Fault.cut(), 1, None, None),
        ("stall:5,every=4", Fault.stall(5), 4, None, None),
        ("drip:0.01", Fault.drip(0.01), 1, None, None),
        ("skew:-900", Fault.skew(-900), 1, None, None),
        ("oversize:6000000", Fault.oversize(6_000_000), 1, None, None),
        ("gzip-bomb", Fault.gzip_bomb(), 1, None, None),
        ("rewind, every = 5", Fault.rewind(), 5, None, None),
    ],
)
def test_fault_specs_parse_and_print_back(
    spec: str, fault: Fault, every: int, start: int | None, count: int | None
) -> None:
    rule = FaultRule.parse(spec)
    assert rule == FaultRule(fault, every=every, start=start, count=count)
    assert FaultRule.parse(rule.spec()) == rule


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "explode",
        "503,every=0",
        "503,every=x",
        "reset:3",
        "stall:soon",
        "stall:-2",
        "700",
        "503,colour=red",
        "503,x",
    ],
)
def test_bad_fault_specs_are_value_errors(spec: str) -> None:
    with pytest.raises(ValueError, match="fault spec"):
        FaultRule.parse(spec)


def test_bad_faults_and_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("meltdown")
    with pytest.raises(ValueError, match="every"):
        FaultRule(Fault.reset(), every=0)
    with pytest.raises(ValueError, match="negative"):
        Fault.stall(-1)
    with pytest.raises(ValueError, match="NaN"):
        Fault.skew(float("nan"))
    with pytest.raises(ValueError, match="HTTP status"):
        Fault.error(1000)
    with pytest.raises(TypeError):
        FaultRule("reset")  # type: ignore[arg-type]
    assert set(FAULT_KINDS) >= {"error", "throttle", "reset", "stall", "skew", "html"}


def test_first_matching_rule_wins_and_requests_record_their_fault() -> None:
    fake = _fake()
    fake.add_fault(Fault.error(500), start=2, count=1)
    fake.add_fault("throttle,every=2")
    statuses = [fake.respond("GET", PATH, {}).status for _ in range(4)]
    assert statuses == [200, 500, 200, 400]
    assert [r.fault for r in fake.requests] == [None, "error", None, "throttle"]
    fake.clear_faults()
    assert fake.respond("GET", PATH, {}).status == 200
    assert fake.served == 5


def test_error_faults_answer_like_cloudfront() -> None:
    fake = _fake()
    fake.add_fault(Fault.throttling(retry_after_ms=250))
    reply = fake.respond("GET", PATH, {})
    assert reply.status == 400
    assert reply.headers["x-amz-retry-after"] == "250"
    doc = xmltodict.parse(reply.body)["ErrorResponse"]
    assert doc["Error"]["Code"] == "Throttling"
    assert doc["Error"]["Message"] == "Rate exceeded"
    assert doc["RequestId"] == reply.headers["x-amz-request-id"]


def test_proxy_faults_have_no_request_id() -> None:
    fake = _fake()
    fake.add_fault(Fault.html(502), start=1, count=1)
    fake.add_fault(Fault.empty(503), start=2, count=1)
    html, empty = fake.respond("GET", PATH, {}), fake.respond("GET", PATH, {})
    assert (html.status, html.headers["content-type"]) == (502, "text/html")
    assert b"<h1>502 Bad Gateway</h1>" in html.body
    assert (empty.status, empty.body) == (503, b"")
    assert "x-amz-request-id" not in html.headers
    assert "x-amz-request-id" not in empty.headers


def test_body_faults() -> None:
    fake = _fake()
    fake.add_fault(Fault.gzip_bomb(8 * 1024 * 1024), start=1, count=1)
    fake.add_fault(Fault.oversize(1000), start=2, count=1)
    fake.add_fault(Fault.garbage(), start=3, count=1)
    bomb = fake.respond("GET", PATH, {})
    assert bomb.headers["content-encoding"] == "gzip"
    assert len(bomb.body) < 64 * 1024
    assert gzip.decompress(bomb.body) == bytes(8 * 1024 * 1024)
    oversize = fake.respond("GET", PATH, {})
    assert oversize.status == 200
    assert len(oversize.body) > 1000
    garbage = fake.respond("GET", PATH, {})
    assert garbage.status == 200
    with pytest.raises(ExpatError):
        xmltodict.parse(garbage.body)


def test_skew_fault_moves_the_date_header_and_the_signature_check() -> None:
    fake = FakeCloudFront(clock=lambda: 1_800_000_000.0)
    fake.add_tenant(TENANT)
    fake.add_fault(Fault.skew(-3600))
    reply = fake.respond("GET", PATH, {})
    assert reply.headers["date"] == "Fri, 15 Jan 2027 07:00:00 GMT"  # 08:00 - 1 h
    assert reply.status == 403  # unsigned: refused


def test_connection_faults_are_left_to_the_transport() -> None:
    fake = _fake()
    fake.add_fault(Fault.stall(2.5))
    reply = fake.respond("GET", PATH, {})
    assert reply.fault == Fault.stall(2.5)
    assert reply.status == 200  # what is sent once the stall is over
    status, _, _ = fake.handle("GET", PATH, {})  # the tuple API has no room for it
    assert status == 200


def _mock_client(fake: FakeCloudFront, **kwargs: object) -> cfinval.Client:
    http = httpx.Client(transport=fake.transport(), timeout=kwargs.pop("timeout", 5.0))  # type: ignore[arg-type]
    return cfinval.Client(FAKE_CREDENTIALS, http_client=http, max_attempts=1, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (Fault.reset(), httpx.ReadError),
        (Fault.cut(), httpx.RemoteProtocolError),
        (Fault.stall(5), httpx.ReadTimeout),
        (Fault.drip(5), httpx.ReadTimeout),
    ],
)
def test_mock_transport_simulates_connection_faults(fault: Fault, cause: type[Exception]) -> None:
    fake = _fake()
    fake.add_fault(fault)
    with _mock_client(fake) as client, pytest.raises(cfinval.TransportError) as raised:
        client.list_invalidations_for_distribution_tenant(TENANT)
    assert isinstance(raised.value.__cause__, cause)


def test_mock_transport_serves_a_stall_shorter_than_the_read_timeout() -> None:
    fake = _fake(3)
    fake.add_fault(Fault.stall(1))
    with _mock_client(fake) as client:
        page = client.list_invalidations_for_distribution_tenant(TENANT)
    assert list(page.items) == fake.listing(TENANT)


def test_mock_transport_gzip_bomb_is_capped_in_the_async_client_too() -> None:
    fake = _fake()
    fake.add_fault(Fault.gzip_bomb())

    async def main() -> None:
        http = httpx.AsyncClient(transport=fake.transport())
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, http_client=http) as client:
            with pytest.raises(cfinval.ResponseParseError, match="larger than"):
                await client.list_invalidations_for_distribution_tenant(TENANT)
        await http.aclose()

    asyncio.run(main())
    assert fake.served == 1
