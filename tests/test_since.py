"""Incremental listing: ``since=`` stops at the first invalidation already seen."""

from __future__ import annotations

import asyncio
import datetime as _dt

import httpx
import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

BASE = _dt.datetime(2026, 3, 1, tzinfo=_dt.timezone.utc)
TENANT = "dt_since"


def seeded(count: int = 12) -> tuple[FakeCloudFront, list[cfinval.InvalidationSummary]]:
    """A tenant with ``count`` invalidations one minute apart; returned newest first."""
    fake = FakeCloudFront()
    made = [
        fake.add_invalidation(TENANT, f"I{n:03d}", create_time=BASE + _dt.timedelta(minutes=n))
        for n in range(count)
    ]
    return fake, list(reversed(made))


def client_for(fake: FakeCloudFront) -> cfinval.Client:
    return cfinval.Client(FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport()))


def markers(fake: FakeCloudFront) -> list[str | None]:
    """The Marker of each request the fake received (None: first page)."""
    out: list[str | None] = []
    for request in fake.requests:
        query = dict(part.split("=", 1) for part in request.target.partition("?")[2].split("&"))
        out.append(query.get("Marker"))
    return out


def test_since_an_id_yields_only_newer_items_and_stops_reading() -> None:
    fake, newest_first = seeded()
    seen = newest_first[4]  # page_size 3: it sits on the second page
    with client_for(fake) as client:
        got = list(client.iter_invalidations(TENANT, page_size=3, since=seen.id))
    assert got == newest_first[:4]
    assert markers(fake) == [None, newest_first[2].id]  # two pages, not four


def test_a_poller_with_since_sees_exactly_what_is_new_as_the_fake_changes() -> None:
    fake, newest_first = seeded(7)
    with client_for(fake) as client:
        first = list(client.iter_invalidations(TENANT, page_size=5))
        assert first == newest_first
        last_seen = first[0].id
        # Meanwhile: two new invalidations; an old one changes state (not new: not re-read).
        fake.set_status(TENANT, newest_first[3].id, "InProgress")
        new_a = fake.add_invalidation(TENANT, "INEW1", create_time=BASE + _dt.timedelta(hours=1))
        new_b = fake.add_invalidation(TENANT, "INEW2", create_time=BASE + _dt.timedelta(hours=2))
        fake.requests.clear()
        second = list(client.iter_invalidations(TENANT, page_size=5, since=last_seen))
        assert second == [new_b, new_a]
        assert len(fake.requests) == 1
        fake.requests.clear()
        third = list(client.iter_invalidations(TENANT, page_size=5, since=second[0].id))
    assert third == []
    assert len(fake.requests) == 1


def test_since_a_datetime_excludes_invalidations_created_at_or_before_it() -> None:
    fake, newest_first = seeded()
    boundary = newest_first[5].create_time
    with client_for(fake) as client:
        at = list(client.iter_invalidations(TENANT, since=boundary))
        just_before = list(
            client.iter_invalidations(TENANT, since=boundary - _dt.timedelta(microseconds=1))
        )
        in_other_zone = list(
            client.iter_invalidations(
                TENANT, since=boundary.astimezone(_dt.timezone(_dt.timedelta(hours=-5)))
            )
        )
    assert at == newest_first[:5]
    assert just_before == newest_first[:6]
    assert in_other_zone == at


def test_since_an_unknown_id_reads_the_whole_listing() -> None:
    fake, newest_first = seeded()
    with client_for(fake) as client:
        got = list(client.iter_invalidations(TENANT, page_size=5, since="INOTLISTED"))
    assert got == newest_first
    assert len(fake.requests) == 3


def test_since_the_newest_item_yields_nothing_after_one_request() -> None:
    fake, newest_first = seeded()
    with client_for(fake) as client:
        pages = list(client.paginate(TENANT, page_size=5, since=newest_first[0].id))
    assert [page.items for page in pages] == [()]
    assert len(fake.requests) == 1


def test_paginate_with_since_cuts_the_last_page_before_the_seen_item() -> None:
    fake, newest_first = seeded()
    with client_for(fake) as client:
        pages = list(client.paginate(TENANT, page_size=5, since=newest_first[7].id))
    assert [list(page.items) for page in pages] == [newest_first[:5], newest_first[5:7]]
    assert pages[1].next_marker == newest_first[9].id  # the wire facts are kept


def test_max_items_before_since_gives_a_resume_token_that_continues_up_to_since() -> None:
    fake, newest_first = seeded()
    seen = newest_first[8].id
    with client_for(fake) as client:
        first = client.iter_invalidations(TENANT, page_size=5, max_items=3, since=seen)
        head = list(first)
        assert first.resume_token is not None
        rest = client.iter_invalidations(
            TENANT, page_size=5, starting_token=first.resume_token, since=seen
        )
        tail = list(rest)
    assert head + tail == newest_first[:8]
    assert rest.resume_token is None


def test_since_reached_exactly_at_max_items_leaves_no_resume_token() -> None:
    fake, newest_first = seeded()
    with client_for(fake) as client:
        listing = client.iter_invalidations(
            TENANT, page_size=5, max_items=3, since=newest_first[3].id
        )
        got = list(listing)
    assert got == newest_first[:3]
    assert listing.resume_token is None


@pytest.mark.parametrize(
    ("since", "message"),
    [
        (_dt.datetime(2026, 1, 1), "aware datetime"),
        ("", "empty"),
        (12, "not int"),
        (_dt.date(2026, 1, 1), "not date"),
    ],
)
def test_a_bad_since_is_refused_before_any_request(since: object, message: str) -> None:
    fake, _ = seeded(1)
    with client_for(fake) as client, pytest.raises(cfinval.ParamValidationError, match=message):
        client.iter_invalidations(TENANT, since=since)  # type: ignore[arg-type]
    assert fake.requests == []


def test_async_since_over_loopback_http_matches_sync() -> None:
    fake, newest_first = seeded()

    async def run(url: str) -> list[cfinval.InvalidationSummary]:
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, endpoint_url=url) as client:
            return [
                item
                async for item in client.iter_invalidations(
                    TENANT, page_size=4, since=newest_first[6].id
                )
            ]

    with fake.serve() as server:
        got = asyncio.run(run(server.endpoint_url))
    assert got == newest_first[:6]
    assert len(fake.requests) == 2
