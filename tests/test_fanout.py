"""``list_many``: fan-out across tenants, per-tenant errors, throttling-aware pacing."""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

import cfinval
from cfinval._core.effects import Send, Sleep, run
from cfinval._core.fanout import (
    MAX_THROTTLE_RESUMES,
    FanOutPlan,
    Pacer,
    Scheduler,
    TenantPlan,
    tenant_flow,
)
from cfinval._core.pagination import PaginationPlan
from cfinval._core.protocol import NAMESPACE
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, load_seed

THROTTLE_BODY = (
    f'<?xml version="1.0"?><ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type>'
    "<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    "<RequestId>throttled</RequestId></ErrorResponse>"
).encode()


class Clock:
    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


# --- the pacer (pure) ---------------------------------------------------------------------------


def test_pacer_halves_concurrency_once_per_burst_and_opens_a_cool_down() -> None:
    pacer = Pacer(8, base_delay=0.5, random=lambda: 1.0)
    assert pacer.allowed() == 8
    assert pacer.wait_time(100.0) == 0.0
    pacer.throttled(100.0)
    pacer.throttled(100.1)  # same burst: no second cut
    assert pacer.allowed() == 4
    assert pacer.throttled_responses == 2
    # streak 2: the cool-down doubles (0.5 * 2**1 = 1 s from the second response)
    assert pacer.wait_time(100.1) == pytest.approx(1.0)
    pacer.throttled(100.6)  # a later burst cuts again
    assert pacer.allowed() == 2
    for moment in (101.2, 101.8, 102.4, 103.0):
        pacer.throttled(moment)
    assert pacer.allowed() == 1  # never below one


def test_pacer_jitters_and_caps_the_cool_down() -> None:
    low = Pacer(4, base_delay=1.0, max_delay=20.0, random=lambda: 0.0)
    low.throttled(0.0)
    assert low.wait_time(0.0) == pytest.approx(0.5)  # half the ceiling at random() == 0
    capped = Pacer(4, base_delay=1.0, max_delay=20.0, random=lambda: 1.0)
    for _ in range(12):
        capped.throttled(0.0)
    assert capped.wait_time(0.0) == pytest.approx(20.0)
    assert capped.resume_delay(1) == pytest.approx(2.0)
    assert capped.resume_delay(40) == pytest.approx(20.0)


def test_pacer_adds_concurrency_back_one_per_window_of_successes() -> None:
    pacer = Pacer(8, random=lambda: 1.0)
    pacer.throttled(0.0)
    assert pacer.allowed() == 4
    for _ in range(4):  # +1/limit each: about one more per `limit` successes
        pacer.succeeded()
    assert pacer.allowed() == 4
    pacer.succeeded()
    assert pacer.allowed() == 5
    assert pacer.streak == 0
    for _ in range(100):
        pacer.succeeded()
    assert pacer.allowed() == 8  # never above the maximum


# --- one tenant's flow, scripted ----------------------------------------------------------------


class Script:
    """An httpx handler answering from the fake, but throttling chosen request numbers."""

    def __init__(self, fake: FakeCloudFront, throttle: set[int]) -> None:
        self.fake = fake
        self.throttle = throttle
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url.params.get("Marker", ""))
        if len(self.seen) in self.throttle:
            return httpx.Response(400, content=THROTTLE_BODY)
        status, headers, body = self.fake.handle(
            request.method, request.url.raw_path.decode(), dict(request.headers)
        )
        return httpx.Response(status, headers=headers, content=body)


def run_flow(client: cfinval.Client, flow: Any, clock: Clock) -> tuple[Any, list[float]]:
    """Drive a flow with the client's transport; sleeping only moves the fake clock."""
    sleeps: list[float] = []

    def perform(effect: Any) -> Any:
        if isinstance(effect, Sleep):
            sleeps.append(effect.seconds)
            clock.now += effect.seconds
            return None
        assert isinstance(effect, Send)
        return client._send(effect.request)

    return run(flow, perform), sleeps


def tenant_with(count: int, clock: Clock) -> FakeCloudFront:
    fake = FakeCloudFront(clock=clock)
    for n in range(count):
        fake.add_invalidation("dt_a", f"I{n:03d}")
    return fake


def test_a_page_still_throttled_after_retries_is_resumed_not_restarted() -> None:
    clock = Clock()
    fake = tenant_with(7, clock)
    script = Script(fake, throttle={2})  # the second page's only attempt
    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(script)),
        max_attempts=1,
        clock=clock,
    ) as client:
        pacer = Pacer(4, random=lambda: 1.0)
        plan = PaginationPlan.create("dt_a", 3, None, None)
        result, sleeps = run_flow(client, tenant_flow(client._session, plan, pacer), clock)
    listing = fake.listing("dt_a")
    assert result.ok
    assert result.items == tuple(listing)
    # page 1; page 2 throttled; page 2 again (from its marker, not from the start); page 3
    assert script.seen == ["", listing[2].id, listing[2].id, listing[5].id]
    assert pacer.throttled_responses == 1
    # one wait before resuming; it outlasts the shared cool-down (0.5 s), so no other wait
    assert sleeps == [pytest.approx(pacer.resume_delay(1))]


def test_a_tenant_throttled_beyond_its_resumes_reports_the_throttling_error() -> None:
    clock = Clock()
    fake = tenant_with(2, clock)
    script = Script(fake, throttle=set(range(1, 100)))
    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(script)),
        max_attempts=2,
        clock=clock,
    ) as client:
        plan = PaginationPlan.create("dt_a", None, None, None)
        result, _ = run_flow(client, tenant_flow(client._session, plan, Pacer(2)), clock)
    assert result.items is None
    assert isinstance(result.error, cfinval.CloudFrontError)
    assert result.error.code == "Throttling"
    assert len(script.seen) == 2 * (MAX_THROTTLE_RESUMES + 1)


def test_the_flow_waits_out_the_shared_cool_down_before_sending() -> None:
    clock = Clock()
    fake = tenant_with(1, clock)
    with cfinval.Client(
        FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport()), clock=clock
    ) as client:
        pacer = Pacer(4, random=lambda: 1.0)
        pacer.throttled(clock.now - 0.1)  # another tenant was throttled a moment ago
        plan = PaginationPlan.create("dt_a", None, None, None)
        flow = tenant_flow(client._session, plan, pacer)
        first = flow.send(None)
    assert first == Sleep(pytest.approx(0.4))


@pytest.mark.parametrize("step", [-3600.0, 3600.0])
def test_a_wall_clock_step_does_not_change_the_cool_down(step: float) -> None:
    clock = Clock()
    fake = tenant_with(1, clock)
    with cfinval.Client(
        FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport()), clock=clock
    ) as client:
        pacer = Pacer(4, random=lambda: 1.0)
        pacer.throttled(clock.now - 0.1)  # a cool-down of 0.4 s from now
        client._session.clock = lambda: clock.now + step  # NTP steps the wall clock
        plan = PaginationPlan.create("dt_a", None, None, None)
        result, sleeps = run_flow(client, tenant_flow(client._session, plan, pacer), clock)
    assert sleeps == [pytest.approx(0.4)]
    assert result.items == tuple(fake.listing("dt_a"))  # signed with the corrected clock


# --- sync and async list_many over the in-memory fake ------------------------------------------


def fleet() -> tuple[FakeCloudFront, list[str]]:
    fake = FakeCloudFront()
    ids = fake.seed_tenants(6, invalidations=4)
    fake.add_tenant("dt_locked", access_denied=True)
    fake.add_tenant("dt_empty")
    return fake, [*ids, "dt_missing", "dt_locked", "dt_empty"]


def check(
    results: Mapping[str, cfinval.TenantResult], fake: FakeCloudFront, ids: list[str]
) -> None:
    assert set(results) == set(ids)
    for tenant_id, result in results.items():
        if tenant_id == "dt_missing":
            assert isinstance(result.error, cfinval.EntityNotFound)
            assert result.items is None
            assert not result.ok
        elif tenant_id == "dt_locked":
            assert isinstance(result.error, cfinval.AccessDenied)
        else:
            assert result.ok
            assert result.error is None
            assert result.items == tuple(fake.listing(tenant_id))


def test_sync_list_many_reports_each_tenant_and_isolates_errors() -> None:
    fake, ids = fleet()
    with cfinval.Client(
        FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport())
    ) as client:
        results = {r.tenant_id: r for r in client.list_many([*ids, ids[0]], concurrency=3)}
    check(results, fake, ids)
    assert len(fake.requests) == len(ids)  # the duplicate was listed once
    assert results[ids[0]].counts() == {"Completed": 3, "InProgress": 1}
    assert results["dt_empty"].items == ()
    assert results["dt_empty"].counts() == {}


def test_async_list_many_reports_each_tenant_and_isolates_errors() -> None:
    fake, ids = fleet()

    async def run() -> dict[str, cfinval.TenantResult]:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, http_client=httpx.AsyncClient(transport=fake.transport())
        ) as client:
            return {r.tenant_id: r async for r in client.list_many(ids, concurrency=2)}

    check(asyncio.run(run()), fake, ids)


def test_async_list_many_runs_on_anyio_3s_stream_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx allows anyio 3, where create_memory_object_stream is a plain function: calling
    # it subscripted (anyio >= 4 only) would raise TypeError there.
    import anyio

    modern = anyio.create_memory_object_stream

    def anyio3_factory(max_buffer_size: float = 0, item_type: object = None) -> Any:
        return modern(max_buffer_size)

    monkeypatch.setattr(anyio, "create_memory_object_stream", anyio3_factory)
    fake, ids = fleet()

    async def run() -> dict[str, cfinval.TenantResult]:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, http_client=httpx.AsyncClient(transport=fake.transport())
        ) as client:
            return {r.tenant_id: r async for r in client.list_many(ids, concurrency=2)}

    check(asyncio.run(run()), fake, ids)


def test_max_items_per_tenant_cuts_each_listing_with_a_resume_token() -> None:
    fake, ids = fleet()
    with cfinval.Client(
        FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport())
    ) as client:
        results = {
            r.tenant_id: r for r in client.list_many(ids[:3], max_items_per_tenant=3, page_size=2)
        }
        for tenant_id, result in results.items():
            assert result.items == tuple(fake.listing(tenant_id)[:3])
            assert result.resume_token is not None
            rest = list(client.iter_invalidations(tenant_id, starting_token=result.resume_token))
            assert rest == fake.listing(tenant_id)[3:]


def test_counting_instead_of_keeping_gives_the_same_counts() -> None:
    fake, ids = fleet()
    with cfinval.Client(
        FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport())
    ) as client:
        kept = {r.tenant_id: r for r in client.list_many(ids, page_size=3)}
        counted = {r.tenant_id: r for r in client.list_many(ids, page_size=3, keep_items=False)}
        cut = list(client.list_many(ids[:1], max_items_per_tenant=3, keep_items=False))
    for tenant_id, result in counted.items():
        assert result.items is None
        assert result.counts() == kept[tenant_id].counts()
        assert type(result.error) is type(kept[tenant_id].error)
    assert counted[ids[0]].counts() == {"Completed": 3, "InProgress": 1}
    assert counted["dt_empty"].counts() == {}
    assert cut[0].counts() == {"InProgress": 1, "Completed": 2}
    assert cut[0].resume_token is not None


def test_counting_resumes_a_throttled_page_with_the_right_remainder() -> None:
    clock = Clock()
    fake = tenant_with(7, clock)
    script = Script(fake, throttle={2})
    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(script)),
        max_attempts=1,
        clock=clock,
    ) as client:
        plan = TenantPlan(PaginationPlan.create("dt_a", 3, 5, None), keep_items=False)
        result, _ = run_flow(client, tenant_flow(client._session, plan, Pacer(4)), clock)
    assert result.items is None
    assert result.counts() == {"Completed": 5}  # 3 + 2 after the resume, not 3 + 3
    assert result.resume_token is not None


def test_missing_credentials_stop_the_whole_fan_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    fake, ids = fleet()
    with (
        cfinval.Client(http_client=httpx.Client(transport=fake.transport())) as client,
        pytest.raises(cfinval.NoCredentialsError),
    ):
        list(client.list_many(ids))

    async def run() -> None:
        async with cfinval.AsyncClient(
            http_client=httpx.AsyncClient(transport=fake.transport())
        ) as client:
            async for _ in client.list_many(ids):
                pass  # pragma: no cover - raises first

    with pytest.raises(cfinval.NoCredentialsError):
        asyncio.run(run())
    assert fake.requests == []


@pytest.mark.parametrize(
    ("tenant_ids", "kwargs", "message"),
    [
        ("dt_a", {}, "collection"),
        (None, {}, "collection"),
        (["dt_a", ""], {}, "Id"),
        (["dt_a", 7], {}, "Id must be a str"),
        (["dt_a", ["dt_b"]], {}, "Id must be a str, not list"),  # unhashable: no TypeError
        (["dt_a", ".."], {}, "Id"),
        (["dt_a"], {"concurrency": 0}, "concurrency"),
        (["dt_a"], {"concurrency": True}, "concurrency"),
        (["dt_a"], {"max_items_per_tenant": 0}, "max_items"),
        (["dt_a"], {"page_size": -1}, "page_size must be a positive int"),
        (["dt_a"], {"keep_items": "no"}, "keep_items"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    tenant_ids: object, kwargs: dict[str, Any], message: str
) -> None:
    fake, _ = fleet()
    with (
        cfinval.Client(
            FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport())
        ) as client,
        pytest.raises(cfinval.ParamValidationError, match=message),
    ):
        client.list_many(tenant_ids, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(cfinval.ParamValidationError, match=message):
        cfinval.AsyncClient(FAKE_CREDENTIALS).list_many(tenant_ids, **kwargs)  # type: ignore[arg-type]
    assert fake.requests == []


def test_fan_out_plan_keeps_the_first_occurrence_order() -> None:
    plan = FanOutPlan.create(iter(["b", "a", "b", "c"]), 2, None, None)
    assert [p.tenant_id for p in plan.plans] == ["b", "a", "c"]


def test_the_scheduler_never_runs_more_tenants_than_the_pacer_allows() -> None:
    fake = FakeCloudFront()
    ids = fake.seed_tenants(12, invalidations=1)
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        status, headers, body = fake.handle(
            request.method, request.url.raw_path.decode(), dict(request.headers)
        )
        return httpx.Response(status, headers=headers, content=body)

    class Throttled(Pacer):
        def allowed(self) -> int:
            return 2  # as if throttling had brought 8 down to 2

    async def run() -> list[cfinval.TenantResult]:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
        ) as client:
            plan = FanOutPlan.create(ids, 8, None, None)
            scheduler = Scheduler(client._session, plan, Throttled(8))
            return [r async for r in client._fan_out(scheduler)]

    results = asyncio.run(run())
    assert len(results) == 12
    assert all(r.ok for r in results)
    assert peak == 2


def test_leaving_the_sync_loop_early_stops_the_workers() -> None:
    fake = FakeCloudFront()
    fake.add_invalidation("dt_first", "I1")
    ids = ["dt_first"] + [f"dt_{n}" for n in range(8)]
    for tenant in ids[1:]:
        for n in range(3):
            fake.add_invalidation(tenant, f"I{tenant}{n}")
    release = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if "/dt_first/" not in request.url.raw_path.decode():
            release.wait(5)  # the others are in flight until the consumer has left
        status, headers, body = fake.handle(
            request.method, request.url.raw_path.decode(), dict(request.headers)
        )
        return httpx.Response(status, headers=headers, content=body)

    with cfinval.Client(
        FAKE_CREDENTIALS, http_client=httpx.Client(transport=httpx.MockTransport(handler))
    ) as client:
        results: Iterator[cfinval.TenantResult] = client.list_many(ids, concurrency=4, page_size=1)
        first = next(results)
        results.close()  # type: ignore[attr-defined]
        release.set()
        for worker in [t for t in threading.enumerate() if t.name.startswith("cfinval-")]:
            worker.join(5)
    assert first.tenant_id == "dt_first"
    # dt_first's page and at most the first page of the three tenants started with it: no page
    # after the consumer left, and no tenant started after it (each would need three pages).
    assert len(fake.requests) <= 4


def test_a_network_failure_is_reported_for_that_tenant_only() -> None:
    fake, ids = fleet()

    def handler(request: httpx.Request) -> httpx.Response:
        if "/dt_down/" in request.url.raw_path.decode():
            raise httpx.ConnectError("connection refused", request=request)
        status, headers, body = fake.handle(
            request.method, request.url.raw_path.decode(), dict(request.headers)
        )
        return httpx.Response(status, headers=headers, content=body)

    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=lambda s: None,
    ) as client:
        results = {r.tenant_id: r for r in client.list_many([ids[0], "dt_down", ids[1]])}
    assert isinstance(results["dt_down"].error, cfinval.TransportError)
    assert results[ids[0]].items == tuple(fake.listing(ids[0]))
    assert results[ids[1]].items == tuple(fake.listing(ids[1]))


def test_a_parked_tenant_does_not_hold_the_only_slot_and_closing_wakes_it() -> None:
    fake = FakeCloudFront()
    fake.add_invalidation("dt_fine", "I1")
    busy_attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal busy_attempts
        if "/dt_busy/" in request.url.raw_path.decode():
            busy_attempts += 1
            return httpx.Response(400, content=THROTTLE_BODY)
        status, headers, body = fake.handle(
            request.method, request.url.raw_path.decode(), dict(request.headers)
        )
        return httpx.Response(status, headers=headers, content=body)

    ticks = iter(range(10**6))

    def clock() -> float:  # each reading 5 s after the last: a cool-down is over at once
        return time.time() + 5 * next(ticks)

    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        max_attempts=1,
        clock=clock,
    ) as client:
        # Throttling has already brought the allowed concurrency down to 1: dt_fine may
        # start only once dt_busy, throttled, waits (parks) before resuming. The shared
        # cool-down passes on the clock; the 2 s resume wait is a real one, which closing ends.
        pacer = Pacer(2, base_delay=1.0, random=lambda: 1.0)  # cool-down 1 s, resume in 2 s
        pacer.limit = 1.0
        plan = FanOutPlan.create(["dt_busy", "dt_fine"], 2, None, None)
        before = set(threading.enumerate())
        results = client._fan_out(Scheduler(client._session, plan, pacer))
        first = next(results)
        workers = [t for t in threading.enumerate() if t not in before]
        started = time.monotonic()
        results.close()  # type: ignore[attr-defined]
        for worker in workers:
            worker.join(5)
        ended = time.monotonic() - started
    assert first.tenant_id == "dt_fine"
    assert first.items == tuple(fake.listing("dt_fine"))
    assert [w.name for w in workers] == ["cfinval-0"]  # dt_busy's, parked
    assert ended < 0.5  # dt_busy's worker did not sit out its 2 s wait
    assert busy_attempts == 1


def test_parked_tenants_do_not_count_against_the_allowed_concurrency() -> None:
    pacer = Pacer(4, random=lambda: 1.0)
    pacer.throttled(0.0)
    pacer.throttled(10.0)  # allowed: 1
    assert pacer.may_start(0)
    assert not pacer.may_start(1)
    pacer.park(1)
    assert pacer.may_start(1)  # the one running is parked
    pacer.park(1)
    pacer.park(1)
    pacer.park(1)
    assert not pacer.may_start(4)  # never more than max_concurrency in all
    pacer.park(-4)
    assert not pacer.may_start(1)


def test_leaving_the_async_loop_early_cancels_the_other_tenants() -> None:
    fake = FakeCloudFront()
    ids = fake.seed_tenants(30, invalidations=1)
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01 if calls == 1 else 5)
        status, headers, body = fake.handle(
            request.method, request.url.raw_path.decode(), dict(request.headers)
        )
        return httpx.Response(status, headers=headers, content=body)

    async def run() -> tuple[cfinval.TenantResult, float]:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
        ) as client:
            results = client.list_many(ids, concurrency=4)
            first = await results.__anext__()
            started = time.monotonic()
            await results.aclose()  # type: ignore[attr-defined]
            return first, time.monotonic() - started

    first, closing = asyncio.run(run())
    assert first.ok
    assert closing < 1  # the three slow requests were cancelled, not awaited
    assert calls == 4


# --- 1,000 tenants over loopback HTTP, with missing tenants and injected throttling -------------
#
# The fake runs as `cfinval fake-server` in its own process: in-process, its 16 handler threads
# and the client would share one GIL on 2 cores. Throttling is injected (and concurrency
# measured) on the client side, by a wrapper transport around httpx's real one.


class Gate:
    """Counts requests in flight and answers every ``every``-th with 400 ``Throttling``."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.lock = threading.Lock()
        self.count = 0
        self.throttled = 0
        self.in_flight = 0
        self.peak = 0

    def enter(self) -> bool:
        with self.lock:
            self.count += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            throttle = self.count % self.every == 0
            self.throttled += throttle
            return throttle

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1


class GatedTransport(httpx.BaseTransport):
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            if self.gate.enter():
                time.sleep(0.001)
                return httpx.Response(400, content=THROTTLE_BODY)
            response = self.inner.handle_request(request)
            response.read()
            return response
        finally:
            self.gate.leave()

    def close(self) -> None:
        self.inner.close()


class AsyncGatedTransport(httpx.AsyncBaseTransport):
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            if self.gate.enter():
                await asyncio.sleep(0.001)
                return httpx.Response(400, content=THROTTLE_BODY)
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.gate.leave()

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
def fleet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FakeCloudFront]]:
    """`cfinval fake-server` seeded with 950 tenants (10 of them access-denied)."""
    base = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    tenants: dict[str, Any] = {}
    for n in range(950):
        items = [
            {
                "Id": f"I{n:04d}{k}",
                "CreateTime": (base + _dt.timedelta(minutes=k, seconds=n)).isoformat(),
                "Status": "InProgress" if k == 2 and n % 4 == 0 else "Completed",
            }
            for k in range(3)
        ]
        tenants[f"dt_{n:04d}"] = (
            {"access_denied": True, "invalidations": items} if n % 95 == 7 else items
        )
    seed = tmp_path_factory.mktemp("fleet") / "seed.json"
    seed.write_text(json.dumps({"tenants": tenants}))
    expected = FakeCloudFront()
    load_seed(expected, json.loads(seed.read_text()))
    process = subprocess.Popen(
        [sys.executable, "-m", "cfinval", "fake-server", "--seed-file", str(seed)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(cfinval.__file__).parent.parent)},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:"), first
        yield url, expected
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
        assert code == 0


def fleet_ids() -> tuple[list[str], set[str], set[str]]:
    present = [f"dt_{n:04d}" for n in range(950)]
    denied = {tenant_id for n, tenant_id in enumerate(present) if n % 95 == 7}
    missing = {f"dt_gone_{n:03d}" for n in range(50)}
    return [*present, *sorted(missing)], missing, denied


def check_fleet(
    results: list[cfinval.TenantResult],
    expected: FakeCloudFront,
    ids: list[str],
    missing: set[str],
    denied: set[str],
) -> None:
    assert len(results) == len(ids)
    assert {r.tenant_id for r in results} == set(ids)
    for result in results:
        if result.tenant_id in missing:
            assert isinstance(result.error, cfinval.EntityNotFound), result
        elif result.tenant_id in denied:
            assert isinstance(result.error, cfinval.AccessDenied), result
        else:
            assert result.error is None, result
            assert result.items == tuple(expected.listing(result.tenant_id))
            assert len(result.items) == 3


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def test_async_fan_out_over_1000_tenants_on_loopback_is_exact_and_bounded(
    fleet_server: tuple[str, FakeCloudFront],
) -> None:
    url, expected = fleet_server
    ids, missing, denied = fleet_ids()
    gate = Gate(every=9)

    async def run() -> list[cfinval.TenantResult]:
        http = httpx.AsyncClient(transport=AsyncGatedTransport(gate))
        async with (
            http,
            cfinval.AsyncClient(
                FAKE_CREDENTIALS, endpoint_url=url, http_client=http, sleep=_no_sleep
            ) as client,
        ):
            return [r async for r in client.list_many(ids, concurrency=8)]

    results = asyncio.run(run())
    assert len(ids) == 1000
    check_fleet(results, expected, ids, missing, denied)
    assert gate.throttled > 50
    assert 2 <= gate.peak <= 8


def test_sync_fan_out_over_250_of_those_tenants_on_loopback_is_exact_and_bounded(
    fleet_server: tuple[str, FakeCloudFront],
) -> None:
    # The same scheduler decides for both drivers (test_drivers.py checks they agree); this
    # runs the thread pool over a quarter of the fleet, missing and denied tenants included.
    url, expected = fleet_server
    ids, missing, denied = fleet_ids()
    ids = ids[::4]
    assert len(ids) == 250
    assert missing & set(ids)
    assert denied & set(ids)
    gate = Gate(every=9)
    with (
        httpx.Client(transport=GatedTransport(gate)) as http,
        cfinval.Client(
            FAKE_CREDENTIALS, endpoint_url=url, http_client=http, sleep=lambda s: None
        ) as client,
    ):
        results = list(client.list_many(ids, concurrency=8))
    check_fleet(results, expected, ids, missing, denied)
    assert gate.throttled > 20
    assert 2 <= gate.peak <= 8
