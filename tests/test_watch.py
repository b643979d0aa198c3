"""``wait_until_completed``: polling flow driven by a fake clock (no real sleeping)."""

from __future__ import annotations

import asyncio
import datetime as _dt
import math
from collections.abc import Callable

import httpx
import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

TENANT = "dt_watch"
START = 1_780_000_000.0


class Timeline:
    """A clock shared by the fake and the client; sleeping moves it and fires due events."""

    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []
        self.events: list[tuple[float, Callable[[], object]]] = []

    def clock(self) -> float:
        return self.now

    def at(self, seconds: float, action: Callable[[], object]) -> None:
        self.events.append((START + seconds, action))

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        due = [event for event in self.events if event[0] <= self.now]
        self.events = [event for event in self.events if event[0] > self.now]
        for _, action in sorted(due, key=lambda event: event[0]):
            action()

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def setup(timeline: Timeline) -> FakeCloudFront:
    fake = FakeCloudFront(clock=timeline.clock)
    base = _dt.datetime(2026, 5, 1, tzinfo=_dt.timezone.utc)
    for n in range(5):
        fake.add_invalidation(
            TENANT,
            f"IOLD{n}",
            create_time=base + _dt.timedelta(minutes=n),
            status="Completed",
        )
    fake.add_invalidation(
        TENANT, "IA", create_time=base + _dt.timedelta(hours=1), status="InProgress"
    )
    fake.add_invalidation(
        TENANT, "IB", create_time=base + _dt.timedelta(hours=2), status="InProgress"
    )
    return fake


def client(fake: FakeCloudFront, timeline: Timeline) -> cfinval.Client:
    return cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=fake.transport()),
        clock=timeline.clock,
        sleep=timeline.sleep,
    )


def test_waits_for_the_given_ids_as_they_complete_on_the_fake() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    timeline.at(30, lambda: fake.set_status(TENANT, "IA", "Completed"))
    timeline.at(50, lambda: fake.set_status(TENANT, "IB", "Completed"))
    with client(fake, timeline) as c:
        done = c.wait_until_completed(TENANT, invalidation_ids=["IA", "IB"], poll=20, timeout=600)
    assert [(item.id, item.status) for item in done] == [("IA", "Completed"), ("IB", "Completed")]
    assert timeline.sleeps == [20, 20, 20]  # polls at 0, 20, 40 (IB pending), 60
    assert len(fake.requests) == 4


def test_without_ids_it_watches_what_is_in_progress_at_the_first_poll() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    timeline.at(10, lambda: fake.set_status(TENANT, "IB", "Completed"))
    # Created after the first poll: not watched, so its state does not matter.
    timeline.at(
        15,
        lambda: fake.add_invalidation(
            TENANT,
            "ILATE",
            create_time=_dt.datetime(2026, 6, 1, tzinfo=_dt.timezone.utc),
            status="InProgress",
        ),
    )
    timeline.at(25, lambda: fake.set_status(TENANT, "IA", "Completed"))
    with client(fake, timeline) as c:
        done = c.wait_until_completed(TENANT, poll=10)
    assert [item.id for item in done] == ["IB", "IA"]  # newest first, as discovered
    assert timeline.sleeps == [10, 10, 10]


def test_nothing_in_progress_returns_at_once() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    fake.set_status(TENANT, "IA", "Completed")
    fake.set_status(TENANT, "IB", "Completed")
    with client(fake, timeline) as c:
        assert c.wait_until_completed(TENANT) == ()
    assert timeline.sleeps == []
    assert len(fake.requests) == 1


def test_an_empty_id_list_needs_no_request() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    with client(fake, timeline) as c:
        assert c.wait_until_completed(TENANT, invalidation_ids=[]) == ()
    assert fake.requests == []


def test_times_out_with_the_pending_ids_after_the_last_poll() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    timeline.at(5, lambda: fake.set_status(TENANT, "IA", "Completed"))
    with client(fake, timeline) as c, pytest.raises(cfinval.WaitTimeoutError) as caught:
        c.wait_until_completed(TENANT, invalidation_ids=["IA", "IB"], poll=20, timeout=50)
    assert caught.value.pending == ("IB",)
    assert caught.value.missing == ()
    assert isinstance(caught.value, TimeoutError)
    assert timeline.sleeps == [20, 20, 10]  # the last sleep is cut to the deadline
    assert timeline.now == START + 50
    assert len(fake.requests) == 4  # one more poll at the deadline
    assert caught.value.waited == 50  # on the monotonic clock
    assert str(caught.value) == (
        "timed out after 50 s (timeout 50 s, 4 poll(s)) waiting for 1 invalidation(s) of "
        f"tenant {TENANT!r} to complete: IB still InProgress"
    )


@pytest.mark.parametrize("step", [-3600.0, 3600.0])
def test_a_wall_clock_step_moves_neither_polls_nor_the_deadline(step: float) -> None:
    timeline = Timeline()
    fake = setup(timeline)
    shift = [0.0]
    timeline.at(5, lambda: shift.__setitem__(0, step))  # NTP steps the wall clock at t=5 s

    def sleep(seconds: float) -> None:
        assert len(timeline.sleeps) < 10, "still waiting long after the deadline"
        timeline.sleep(seconds)

    c = cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=fake.transport()),
        clock=timeline.clock,
        sleep=sleep,
    )
    c._session.clock = lambda: timeline.now + shift[0]  # the wall clock alone steps
    with c, pytest.raises(cfinval.WaitTimeoutError):
        c.wait_until_completed(TENANT, invalidation_ids=["IA"], poll=20, timeout=50)
    assert timeline.sleeps == [20, 20, 10]
    assert timeline.now == START + 50


def test_an_id_not_listed_yet_is_waited_for_until_it_appears_and_completes() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    created = _dt.datetime(2026, 7, 1, tzinfo=_dt.timezone.utc)
    timeline.at(
        25, lambda: fake.add_invalidation(TENANT, "INEW", create_time=created, status="InProgress")
    )
    timeline.at(45, lambda: fake.set_status(TENANT, "INEW", "Completed"))
    with client(fake, timeline) as c:
        done = c.wait_until_completed(TENANT, invalidation_ids=["INEW"], poll=20)
    assert [(item.id, item.status) for item in done] == [("INEW", "Completed")]
    assert timeline.sleeps == [20, 20, 20]


def test_an_id_never_listed_times_out_as_missing() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    with client(fake, timeline) as c, pytest.raises(cfinval.WaitTimeoutError) as caught:
        c.wait_until_completed(TENANT, invalidation_ids=["IA", "IGHOST"], poll=20, timeout=20)
    assert caught.value.pending == ("IA", "IGHOST")
    assert caught.value.missing == ("IGHOST",)
    assert str(caught.value).endswith(": IA still InProgress; never listed: IGHOST")


def test_each_poll_reads_only_the_pages_it_needs() -> None:
    timeline = Timeline()
    fake = FakeCloudFront(clock=timeline.clock)  # pages of 100 by default
    base = _dt.datetime(2026, 5, 1, tzinfo=_dt.timezone.utc)
    for n in range(250):
        fake.add_invalidation(
            TENANT, f"I{n:04d}", create_time=base + _dt.timedelta(minutes=n), status="InProgress"
        )
    newest, on_page_two = "I0249", "I0100"
    timeline.at(1, lambda: [fake.set_status(TENANT, i, "Completed") for i in (newest, on_page_two)])
    with client(fake, timeline) as c:
        c.wait_until_completed(TENANT, invalidation_ids=[newest], poll=1)
        assert len(fake.requests) == 2  # one page per poll
        fake.requests.clear()
        c.wait_until_completed(TENANT, invalidation_ids=[on_page_two], poll=1)
        assert len(fake.requests) == 2  # two pages, one poll; never the third page


def test_timeout_none_waits_as_long_as_it_takes() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    timeline.at(10_000, lambda: fake.set_status(TENANT, "IA", "Completed"))
    with client(fake, timeline) as c:
        done = c.wait_until_completed(TENANT, invalidation_ids=["IA"], poll=100, timeout=None)
    assert done[0].status == "Completed"
    assert len(timeline.sleeps) == 100


def test_a_missing_tenant_raises_entity_not_found() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    with client(fake, timeline) as c, pytest.raises(cfinval.EntityNotFound):
        c.wait_until_completed("dt_missing")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"invalidation_ids": "IA"}, "collection"),
        ({"invalidation_ids": ["IA", ""]}, "non-empty"),
        ({"invalidation_ids": [3]}, "non-empty str"),
        ({"invalidation_ids": 5}, "collection"),
        ({"poll": 0}, "more than zero"),
        ({"poll": -1}, "more than zero"),
        ({"poll": math.nan}, "more than zero"),
        ({"poll": True}, "number of seconds"),
        ({"timeout": -5}, "zero or more"),
        ({"timeout": "10"}, "number of seconds"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    kwargs: dict[str, object], message: str
) -> None:
    timeline = Timeline()
    fake = setup(timeline)
    with client(fake, timeline) as c, pytest.raises(cfinval.ParamValidationError, match=message):
        c.wait_until_completed(TENANT, **kwargs)  # type: ignore[arg-type]
    assert fake.requests == []


def test_async_wait_uses_the_same_flow_with_an_async_sleep() -> None:
    timeline = Timeline()
    fake = setup(timeline)
    timeline.at(20, lambda: fake.set_status(TENANT, "IA", "Completed"))
    timeline.at(20, lambda: fake.set_status(TENANT, "IB", "Completed"))

    async def run() -> tuple[cfinval.InvalidationSummary, ...]:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS,
            http_client=httpx.AsyncClient(transport=fake.transport()),
            clock=timeline.clock,
            sleep=timeline.asleep,
        ) as c:
            return await c.wait_until_completed(TENANT, poll=20)

    done = asyncio.run(run())
    assert {item.id: item.status for item in done} == {"IA": "Completed", "IB": "Completed"}
    assert timeline.sleeps == [20]


def test_async_timeout_over_loopback_http() -> None:
    timeline = Timeline()
    fake = setup(timeline)

    async def run(url: str) -> None:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, endpoint_url=url, clock=timeline.clock, sleep=timeline.asleep
        ) as c:
            await c.wait_until_completed(TENANT, invalidation_ids=["IA"], poll=7, timeout=14)

    with fake.serve() as server, pytest.raises(cfinval.WaitTimeoutError):
        asyncio.run(run(server.endpoint_url))
    assert timeline.sleeps == [7, 7]


def test_discovery_finds_an_old_invalidation_behind_completed_pages() -> None:
    # Listing order is creation time, not completion: page 1 (the newest two) is all Completed,
    # yet IA, created earlier, is still in progress on page 2 and must be watched.
    timeline = Timeline()
    fake = setup(timeline)
    fake.set_status(TENANT, "IB", "Completed")
    fake.add_invalidation(
        TENANT,
        "IC",
        create_time=_dt.datetime(2026, 5, 1, 3, tzinfo=_dt.timezone.utc),
        status="Completed",
    )
    fake.default_page_size = 2  # the service's pages: [IC, IB] then [IA, ...]
    timeline.at(45, lambda: fake.set_status(TENANT, "IA", "Completed"))
    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=fake.transport()),
        clock=timeline.clock,
        sleep=timeline.sleep,
    ) as c:
        first_page = c.list_invalidations_for_distribution_tenant(Id=TENANT)
        assert [(i.id, i.status) for i in first_page.items] == [
            ("IC", "Completed"),
            ("IB", "Completed"),
        ]
        done = c.wait_until_completed(TENANT, poll=20, timeout=600)
    assert [(i.id, i.status) for i in done] == [("IA", "Completed")]
    assert timeline.now - START >= 45
