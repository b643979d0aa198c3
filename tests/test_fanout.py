"""``list_many``: fan-out across tenants, per-tenant errors, throttling-aware pacing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

import cfinval
from cfinval._effects import Send, Sleep
from cfinval._fanout import MAX_THROTTLE_RESUMES, FanOutPlan, Pacer, tenant_flow
from cfinval._flow import PaginationPlan
from cfinval._protocol import NAMESPACE
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

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
    outcome: Any = None
    while True:
        try:
            effect = flow.send(outcome)
        except StopIteration as stop:
            return stop.value, sleeps
        if isinstance(effect, Sleep):
            sleeps.append(effect.seconds)
            clock.now += effect.seconds
            outcome = None
        else:
            assert isinstance(effect, Send)
            outcome = client._send(effect.request)


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
        (["dt_a", ".."], {}, "Id"),
        (["dt_a"], {"concurrency": 0}, "concurrency"),
        (["dt_a"], {"concurrency": True}, "concurrency"),
        (["dt_a"], {"max_items_per_tenant": 0}, "max_items"),
        (["dt_a"], {"page_size": -1}, "MaxItems"),
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
            return [r async for r in client._fan_out(plan, Throttled(8))]

    results = asyncio.run(run())
    assert len(results) == 12
    assert all(r.ok for r in results)
    assert peak == 2


def test_leaving_the_sync_loop_early_stops_the_workers() -> None:
    fake = FakeCloudFront()
    ids = fake.seed_tenants(40, invalidations=1)
    release = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        release.wait(5)
        status, headers, body = fake.handle(
            request.method, request.url.raw_path.decode(), dict(request.headers)
        )
        return httpx.Response(status, headers=headers, content=body)

    with cfinval.Client(
        FAKE_CREDENTIALS, http_client=httpx.Client(transport=httpx.MockTransport(handler))
    ) as client:
        results: Iterator[cfinval.TenantResult] = client.list_many(ids, concurrency=4)
        release.set()
        first = next(results)
        results.close()  # type: ignore[attr-defined]
    assert first.ok
    assert len(fake.requests) < 40
