"""Both clients against the fake CloudFront on 127.0.0.1, with faults injected on the wire.

Default client settings unless a test says otherwise (stall and drip tests shorten the
timeouts so that the suite stays fast; the faults themselves are real: the server really
stops talking, resets the connection or drips bytes). The backoff between attempts is not
waited out: the clients hand their ``Sleep`` effects to a recorder, and the tests assert on
those. Real time passes only where it is the behaviour under test (read timeouts, deadlines).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, FakeServer, Fault

TENANT = "dt_loopback"
ITEMS = 300


@pytest.fixture
def fake() -> FakeCloudFront:
    fake = FakeCloudFront(seed=4)
    fake.add_tenant(TENANT)
    for _ in range(ITEMS):
        fake.add_invalidation(TENANT)
    return fake


@pytest.fixture
def server(fake: FakeCloudFront) -> Iterator[FakeServer]:
    with fake.serve() as running:
        yield running


class Slept(list[float]):
    """The ``Sleep`` effects a client performed, recorded instead of waited out."""

    def sync(self, seconds: float) -> None:
        self.append(seconds)

    async def asynchronous(self, seconds: float) -> None:
        self.append(seconds)


def list_all(
    kind: str,
    endpoint_url: str,
    credentials: Any = FAKE_CREDENTIALS,
    slept: Slept | None = None,
    **options: Any,
) -> tuple[list[cfinval.InvalidationSummary], list[cfinval.InvalidationList]]:
    """Every item and page of the tenant through the sync or the async client; the backoff
    sleeps go to ``slept``."""
    slept = Slept() if slept is None else slept
    if kind == "sync":
        with cfinval.Client(
            credentials, endpoint_url=endpoint_url, sleep=slept.sync, **options
        ) as client:
            pages = list(client.paginate(TENANT))
    else:

        async def main() -> list[cfinval.InvalidationList]:
            async with cfinval.AsyncClient(
                credentials, endpoint_url=endpoint_url, sleep=slept.asynchronous, **options
            ) as client:
                return [page async for page in client.paginate(TENANT)]

        pages = asyncio.run(main())
    return [item for page in pages for item in page.items], pages


CLIENTS = pytest.mark.parametrize("kind", ["sync", "async"])


@CLIENTS
@pytest.mark.parametrize(
    "fault",
    # One of each way a request fails on the wire; which HTTP errors are retried, and how long
    # the backoff is, is the flow's decision (tests/test_flow_resilience.py).
    [Fault.error(503), Fault.throttling(), Fault.reset(), Fault.cut()],
    ids=lambda f: f.kind + (str(f.status) if f.status else ""),
)
def test_listing_is_complete_and_exact_when_every_other_request_fails(
    kind: str, fake: FakeCloudFront, server: FakeServer, fault: Fault
) -> None:
    fake.add_fault(fault, every=2)
    slept = Slept()
    items, pages = list_all(kind, server.endpoint_url, slept=slept)
    assert items == fake.listing(TENANT)
    assert len(pages) == 3
    assert [page.attempts for page in pages] == [1, 2, 2]
    assert [r.fault for r in fake.requests] == [None, fault.kind, None, fault.kind, None]
    assert all(page.request_id for page in pages)
    base = 1.0 if fault.kind == "throttle" else 0.05  # standard mode: first retry of each call
    assert len(slept) == 2
    assert all(0 <= seconds <= base for seconds in slept)


@CLIENTS
def test_a_stall_is_cut_by_the_read_timeout_and_retried(
    kind: str, fake: FakeCloudFront, server: FakeServer
) -> None:
    fake.add_fault(Fault.stall(5), start=2, count=1)
    started = time.monotonic()
    items, pages = list_all(kind, server.endpoint_url, timeout=0.25)
    assert items == fake.listing(TENANT)
    assert [page.attempts for page in pages] == [1, 2, 1]
    assert time.monotonic() - started < 2.5  # one read timeout, not a 5 s stall


@CLIENTS
def test_a_short_stall_within_the_default_timeouts_is_just_waited_out(
    kind: str, fake: FakeCloudFront, server: FakeServer
) -> None:
    fake.add_fault(Fault.stall(0.1), start=2, count=1)
    items, pages = list_all(kind, server.endpoint_url)
    assert items == fake.listing(TENANT)
    assert [page.attempts for page in pages] == [1, 1, 1]


@CLIENTS
@pytest.mark.parametrize("offset", [15 * 60, -15 * 60, 86400, -86400])
def test_listing_is_exact_whatever_the_server_clock_says(
    kind: str, fake: FakeCloudFront, offset: int
) -> None:
    fake.clock = lambda: time.time() + offset
    with fake.serve() as server:
        items, pages = list_all(kind, server.endpoint_url)
    assert items == fake.listing(TENANT)
    rejected = fake.served - len(pages)  # refused for the clock, then re-signed
    assert rejected <= 1
    if abs(offset) > 15 * 60:  # beyond the service's window: exactly one correction
        assert rejected == 1
        assert pages[0].attempts == 2
    assert all(page.attempts == 1 for page in pages[1:])


@CLIENTS
@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        (Fault.error(503), cfinval.CloudFrontError),
        (Fault.reset(), cfinval.TransportError),
        (Fault.cut(), cfinval.TransportError),
    ],
    ids=["503", "reset", "cut"],
)
def test_persistent_faults_raise_after_exactly_max_attempts(
    kind: str, fake: FakeCloudFront, server: FakeServer, fault: Fault, error_type: type
) -> None:
    fake.add_fault(fault)
    slept = Slept()
    with pytest.raises(error_type) as raised:
        list_all(kind, server.endpoint_url, slept=slept)
    error: Any = raised.value
    assert fake.served == 3
    assert error.attempts == 3
    assert len(slept) == 2  # between attempts, not after the last
    assert 0 <= slept[0] <= 0.05
    assert 0 <= slept[1] <= 0.1
    if isinstance(error, cfinval.CloudFrontError):
        assert error.status_code == 503
        assert error.code == "ServiceUnavailable"
        assert error.request_id is not None
        assert error.request_id.startswith("fake-00000003-")
    else:
        assert error.__cause__ is not None


@CLIENTS
def test_a_connection_reset_says_what_happened(
    kind: str, fake: FakeCloudFront, server: FakeServer
) -> None:
    fake.add_fault(Fault.reset())
    with pytest.raises(cfinval.TransportError) as raised:
        list_all(kind, server.endpoint_url, max_attempts=1)
    prefix = "request failed after 1 attempt(s): ReadError: "
    text = str(raised.value)
    assert text.startswith(prefix)
    assert len(text) > len(prefix) + 10  # sync: "[Errno 104] ...", async: httpx's own words


@CLIENTS
def test_a_closed_port_raises_transport_error_after_max_attempts(kind: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slept = Slept()
    with pytest.raises(cfinval.TransportError) as raised:
        list_all(kind, f"http://127.0.0.1:{port}", slept=slept)
    assert raised.value.attempts == 3
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert len(slept) == 2


@CLIENTS
def test_a_slow_drip_cannot_hang_the_caller(
    kind: str, fake: FakeCloudFront, server: FakeServer
) -> None:
    fake.add_fault(Fault.drip(0.01))  # a byte every 10 ms: each read is quick, the body endless
    started = time.monotonic()
    with pytest.raises(cfinval.TransportError, match="attempt_timeout") as raised:
        list_all(kind, server.endpoint_url, timeout=0.1, attempt_timeout=0.2, max_attempts=2)
    elapsed = time.monotonic() - started
    assert raised.value.attempts == 2
    assert fake.served == 2
    # each attempt ends by its deadline (sync: at most one read timeout later)
    assert elapsed < 2 * (0.2 + 0.1) + 0.5


@CLIENTS
def test_a_slow_answer_within_the_deadline_is_read_whole(kind: str) -> None:
    fake = FakeCloudFront()
    fake.add_tenant(TENANT)
    fake.add_fault(Fault.drip(0.0004))  # an empty page, about 250 bytes, in about 0.1 s
    with fake.serve() as server:
        items, pages = list_all(kind, server.endpoint_url, attempt_timeout=5)
    assert items == []
    assert [page.attempts for page in pages] == [1]
    assert fake.served == 1


@CLIENTS
@pytest.mark.parametrize(
    "fault", [Fault.garbage(), Fault.oversize(), Fault.gzip_bomb()], ids=lambda f: f.kind
)
def test_hostile_2xx_bodies_raise_response_parse_error_without_retry(
    kind: str, fake: FakeCloudFront, server: FakeServer, fault: Fault
) -> None:
    fake.add_fault(fault)
    with pytest.raises(cfinval.ResponseParseError) as raised:
        list_all(kind, server.endpoint_url)
    assert fake.served == 1
    assert raised.value.status_code == 200
    assert raised.value.attempts == 1


def test_debug_logs_never_show_credentials_or_signatures(
    fake: FakeCloudFront, caplog: pytest.LogCaptureFixture
) -> None:
    creds = cfinval.Credentials(
        "AKIDLOOPBACKLOG00001", "loopback-secret-0123", "loopback-token-4567"
    )
    fake.credentials = (creds,)
    fake.add_fault(Fault.throttling(), start=2, count=1)
    fake.add_fault(Fault.reset(), start=4, count=1)
    with fake.serve() as server, caplog.at_level(logging.DEBUG):  # every logger: httpx too
        items, pages = list_all("sync", server.endpoint_url, credentials=creds)
        list_all("async", server.endpoint_url, credentials=creds)
    assert items == fake.listing(TENANT)
    ours = [r.getMessage() for r in caplog.records if r.name == "cfinval"]
    assert any("HTTP 400 Throttling request-id fake-00000002-" in line for line in ours)
    assert any("attempt 1/3: network failure (other): ReadError" in line for line in ours)
    assert any("sleeping" in line for line in ours)
    assert any(pages[-1].request_id in line for line in ours if pages[-1].request_id)
    signatures = {r.headers["authorization"].rsplit("Signature=", 1)[1] for r in fake.requests}
    assert len(signatures) >= 3
    for secret in ("loopback-secret-0123", "loopback-token-4567", *signatures):
        assert secret not in caplog.text
