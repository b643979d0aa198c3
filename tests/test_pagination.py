"""Pagination: pages, items, max_items cuts, resume tokens interchangeable with botocore's,
exact resumes, loops."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cfinval
from cfinval._core.pagination import decode_token, encode_token
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

from .drivers import AsyncApi, SyncApi

TENANT = "dt_paging"


def seeded_fake(count: int, tenant: str = TENANT) -> FakeCloudFront:
    fake = FakeCloudFront(seed=3)
    fake.add_tenant(tenant)
    start = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
    for n in range(count):
        fake.add_invalidation(tenant, create_time=start + dt.timedelta(minutes=n))
    return fake


@pytest.fixture(params=[SyncApi, AsyncApi], ids=["sync", "async"])
def api_cls(request: pytest.FixtureRequest) -> Any:
    return request.param


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeCloudFront, str]]:
    fake = seeded_fake(23)
    fake.add_tenant("dt_empty")
    with fake.serve() as server:
        yield fake, server.endpoint_url


def boto3_client(endpoint_url: str) -> Any:
    return boto3.client(
        "cloudfront",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id=FAKE_CREDENTIALS.access_key_id,
        aws_secret_access_key=FAKE_CREDENTIALS.secret_access_key,
    )


def boto3_pages(endpoint_url: str, **config: Any) -> tuple[list[dict[str, Any]], str | None]:
    paginator = boto3_client(endpoint_url).get_paginator(
        "list_invalidations_for_distribution_tenant"
    )
    iterator = paginator.paginate(Id=TENANT, PaginationConfig=config)
    pages = [page["InvalidationList"] for page in iterator]
    return pages, iterator.resume_token


def ours(api_cls: Any, endpoint_url: str, **kw: Any) -> tuple[list[dict[str, Any]], str | None]:
    api = api_cls(credentials=FAKE_CREDENTIALS, endpoint_url=endpoint_url)
    try:
        pages, token = api.pages(TENANT, **kw)
    finally:
        api.close()
    return [p.to_dict() for p in pages], token


CONFIGS = [
    {},
    {"page_size": 5},
    {"page_size": 5, "max_items": 7},  # cut inside a page
    {"page_size": 5, "max_items": 10},  # cut on a page boundary
    {"page_size": 5, "max_items": 23},  # exactly everything
    {"page_size": 5, "max_items": 50},  # more than there is
    {"max_items": 1},
    {"page_size": 4, "max_items": 6},
]
BOTO_NAMES = {"page_size": "PageSize", "max_items": "MaxItems", "starting_token": "StartingToken"}


def resumes_at(token: str | None, listing: list[str]) -> int | None:
    """The index in ``listing`` where a listing resumed from ``token`` starts."""
    if token is None:
        return None
    marker, skip = decode_token(token)
    return (0 if marker is None else listing.index(marker) + 1) + skip


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_pages_equal_botocore_and_tokens_resume_where_botocores_do(
    api_cls: Any, served: tuple[FakeCloudFront, str], config: dict[str, Any]
) -> None:
    fake, url = served
    mine, my_token = ours(api_cls, url, **config)
    theirs, their_token = boto3_pages(url, **{BOTO_NAMES[k]: v for k, v in config.items()})
    assert mine == theirs
    listing = [i.id for i in fake.listing(TENANT)]
    assert resumes_at(my_token, listing) == resumes_at(their_token, listing)
    if my_token is not None:  # a plain {"Marker": <last Id handed out>}, never a count
        assert json.loads(base64.b64decode(my_token)) == {"Marker": mine[-1]["Items"][-1]["Id"]}
        if their_token is not None and "boto_truncate_amount" not in str(
            base64.b64decode(their_token)
        ):
            assert my_token == their_token  # on a page boundary: byte for byte botocore's


def walk(step: Any, max_items: int, page_size: int) -> list[str]:
    """Follow resume tokens until the listing ends; ``step`` lists one chunk from a token."""
    seen: list[str] = []
    token = None
    for _ in range(100):
        ids, token = step(token, max_items, page_size)
        seen.extend(ids)
        if token is None:
            return seen
    raise AssertionError("resume tokens did not end the listing")


@pytest.mark.parametrize(("max_items", "page_size"), [(7, 5), (5, 5), (3, 10), (1, 1), (9, 4)])
@pytest.mark.parametrize("mix", ["ours", "boto3", "alternate"])
def test_resume_tokens_move_between_cfinval_and_botocore(
    api_cls: Any, served: tuple[FakeCloudFront, str], max_items: int, page_size: int, mix: str
) -> None:
    fake, url = served
    api = api_cls(credentials=FAKE_CREDENTIALS, endpoint_url=url)
    paginator = boto3_client(url).get_paginator("list_invalidations_for_distribution_tenant")
    turn = [0]

    def step(token: str | None, max_items: int, page_size: int) -> tuple[list[str], str | None]:
        turn[0] += 1
        use_ours = mix == "ours" or (mix == "alternate" and turn[0] % 2 == 1)
        if use_ours:
            items, next_token = api.items(
                TENANT, page_size=page_size, max_items=max_items, starting_token=token
            )
            return [i.id for i in items], next_token
        config = {"MaxItems": max_items, "PageSize": page_size}
        if token is not None:
            config["StartingToken"] = token
        iterator = paginator.paginate(Id=TENANT, PaginationConfig=config)
        ids = [i["Id"] for page in iterator for i in page["InvalidationList"].get("Items", [])]
        return ids, iterator.resume_token

    try:
        assert walk(step, max_items, page_size) == [i.id for i in fake.listing(TENANT)]
    finally:
        api.close()


def test_items_with_max_items_and_resume(api_cls: Any, served: tuple[FakeCloudFront, str]) -> None:
    fake, url = served
    api = api_cls(credentials=FAKE_CREDENTIALS, endpoint_url=url)
    try:
        first, token = api.items(TENANT, page_size=10, max_items=12)
        rest, end = api.items(TENANT, page_size=10, starting_token=token)
    finally:
        api.close()
    truth = fake.listing(TENANT)
    assert first == truth[:12]
    assert rest == truth[12:]
    assert end is None
    assert decode_token(token) == (truth[11].id, 0)  # type: ignore[arg-type]


HEAD_TENANT = "dt_head"


@pytest.fixture
def growing() -> Iterator[tuple[FakeCloudFront, str]]:
    """150 invalidations; the test creates more while a listing is cut."""
    fake = seeded_fake(150, HEAD_TENANT)
    with fake.serve() as server:
        yield fake, server.endpoint_url


def test_a_resume_after_a_cut_inside_a_page_is_exact_when_items_arrive_at_the_head(
    api_cls: Any, growing: tuple[FakeCloudFront, str]
) -> None:
    fake, url = growing
    before = [i.id for i in fake.listing(HEAD_TENANT)]
    api = api_cls(credentials=FAKE_CREDENTIALS, endpoint_url=url)
    try:
        first, token = api.items(HEAD_TENANT, max_items=50)  # pages of 100: cut inside page 1
        for _ in range(3):
            fake.add_invalidation(HEAD_TENANT)  # newest first: they arrive at the head
        rest, end = api.items(HEAD_TENANT, starting_token=token)
    finally:
        api.close()
    assert [i.id for i in first] == before[:50]
    assert [i.id for i in rest] == before[50:]  # exactly the 100 remaining, none twice
    assert end is None


def test_boto3_resumes_exactly_from_our_token_when_items_arrive_at_the_head(
    growing: tuple[FakeCloudFront, str],
) -> None:
    fake, url = growing
    before = [i.id for i in fake.listing(HEAD_TENANT)]
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client:
        paginator = client.iter_invalidations(HEAD_TENANT, max_items=50)
        first = [i.id for i in paginator]
    for _ in range(3):
        fake.add_invalidation(HEAD_TENANT)
    pages = boto3_client(url).get_paginator("list_invalidations_for_distribution_tenant")
    iterator = pages.paginate(
        Id=HEAD_TENANT, PaginationConfig={"StartingToken": paginator.resume_token}
    )
    rest = [i["Id"] for page in iterator for i in page["InvalidationList"].get("Items", [])]
    assert first + rest == before


def test_empty_tenant_paginates_to_one_empty_page(
    api_cls: Any, served: tuple[FakeCloudFront, str]
) -> None:
    _, url = served
    api = api_cls(credentials=FAKE_CREDENTIALS, endpoint_url=url)
    try:
        pages, token = api.pages("dt_empty", max_items=5)
        items, _ = api.items("dt_empty")
    finally:
        api.close()
    assert [p.items for p in pages] == [()]
    assert (token, items) == (None, [])


# --- tokens ------------------------------------------------------------------------------------


def test_token_format_is_botocores() -> None:
    token = encode_token("I2J0I21PCUYOIK", 3)
    assert json.loads(base64.b64decode(token)) == {
        "Marker": "I2J0I21PCUYOIK",
        "boto_truncate_amount": 3,
    }
    assert base64.b64decode(encode_token(None, 2)) == b'{"Marker": null, "boto_truncate_amount": 2}'
    assert base64.b64decode(encode_token("m")) == b'{"Marker": "m"}'


@given(st.none() | st.text(), st.none() | st.integers(0, 10**6))
def test_tokens_round_trip(marker: str | None, skip: int | None) -> None:
    expected_marker = None if marker in (None, "", "None") else marker
    assert decode_token(encode_token(marker, skip)) == (expected_marker, skip or 0)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("I2J0I21PCUYOIK", ("I2J0I21PCUYOIK", 0)),  # a raw marker, as the AWS CLI accepts
        ("I2J0I21PCUYOIK___3", ("I2J0I21PCUYOIK", 3)),  # botocore's old format
        ("None___2", (None, 2)),
        ("a___b", ("a___b", 0)),
    ],
)
def test_legacy_and_raw_tokens(token: str, expected: tuple[str | None, int]) -> None:
    assert decode_token(token) == expected


@pytest.mark.parametrize(
    "payload",
    [
        {"NextToken": "x"},
        {"Marker": 5},
        {"Marker": "m", "boto_truncate_amount": -1},
        {"Marker": "m", "boto_truncate_amount": "2"},
        {"Marker": "m", "boto_truncate_amount": True},
        {"Marker": "m", "Other": 1},
    ],
)
def test_foreign_or_corrupt_tokens_are_refused(payload: dict[str, Any]) -> None:
    token = base64.b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(cfinval.ParamValidationError, match="starting_token"):
        decode_token(token)


def test_a_token_nested_too_deep_for_json_is_a_typed_error_not_a_recursion_error() -> None:
    token = base64.b64encode(b"[" * 100_000).decode()
    assert decode_token(token) == (token, 0)  # not JSON to us: a raw marker, as botocore falls back
    client = cfinval.Client(FAKE_CREDENTIALS, endpoint_url="http://127.0.0.1:9")
    with pytest.raises(cfinval.ParamValidationError):  # far longer than a Marker can be
        client.paginate("dt_1", starting_token=token)


# --- loops ---------------------------------------------------------------------------------------

NS = 'xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"'


def page_xml(marker: str, next_marker: str | None, ids: list[str]) -> bytes:
    items = "".join(
        f"<InvalidationSummary><Id>{i}</Id><CreateTime>2025-01-01T00:00:00Z</CreateTime>"
        "<Status>Completed</Status></InvalidationSummary>"
        for i in ids
    )
    nxt = f"<NextMarker>{next_marker}</NextMarker>" if next_marker else ""
    truncated = "true" if next_marker else "false"
    return (
        f"<InvalidationList {NS}><Marker>{marker}</Marker>{nxt}<MaxItems>1</MaxItems>"
        f"<IsTruncated>{truncated}</IsTruncated><Quantity>{len(ids)}</Quantity>"
        f"<Items>{items}</Items></InvalidationList>"
    ).encode()


@pytest.mark.parametrize(
    "script",
    [
        [("", "A"), ("A", "A")],  # the same marker again
        [("", "A"), ("A", "B"), ("B", "A")],  # A-B-A
        [("", "A"), ("A", "B"), ("B", "C"), ("C", "")],  # a proper end, for contrast
    ],
)
def test_marker_loops_are_detected(api_cls: Any, script: list[tuple[str, str]]) -> None:
    responses = [
        httpx.Response(200, content=page_xml(m, n or None, [f"I{k}"]))
        for k, (m, n) in enumerate(script)
    ]
    loops = script[-1][1] != ""
    with respx.mock() as router:
        route = router.get(url__regex=r"/invalidation").mock(side_effect=responses)
        api = api_cls(credentials=FAKE_CREDENTIALS)
        try:
            if loops:
                with pytest.raises(cfinval.PaginationError, match="twice"):
                    api.items("dt_1")
            else:
                items, _ = api.items("dt_1")
                assert [i.id for i in items] == [f"I{k}" for k in range(len(script))]
        finally:
            api.close()
    assert route.call_count == len(script)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    total=st.integers(0, 40),
    page_size=st.integers(1, 12),
    max_items=st.none() | st.integers(1, 45),
)
def test_chunks_joined_by_tokens_equal_the_listing(
    total: int, page_size: int, max_items: int | None
) -> None:
    fake = seeded_fake(total)
    transport = fake.transport()
    with cfinval.Client(FAKE_CREDENTIALS, http_client=httpx.Client(transport=transport)) as c:
        seen: list[str] = []
        token = None
        for _ in range(100):
            paginator = c.iter_invalidations(
                TENANT, page_size=page_size, max_items=max_items, starting_token=token
            )
            chunk = [i.id for i in paginator]
            if max_items is not None:
                assert len(chunk) <= max_items
            seen.extend(chunk)
            token = paginator.resume_token
            if token is None:
                break
    assert seen == [i.id for i in fake.listing(TENANT)]


def test_a_next_marker_equal_to_the_starting_marker_stops_before_a_duplicate_page(
    api_cls: Any,
) -> None:
    """Resuming from a token whose marker is A, a page that says NextMarker A again would be
    the same page twice: the loop is caught after the first page, before a second request."""
    token = encode_token("A")
    with respx.mock() as router:
        route = router.get(url__regex=r"/invalidation").mock(
            return_value=httpx.Response(200, content=page_xml("A", "A", ["I1"]))
        )
        api = api_cls(credentials=FAKE_CREDENTIALS)
        emitted: list[list[str]] = []
        try:
            paginator = api.client.paginate("dt_1", starting_token=token)

            async def collect() -> None:
                async for page in paginator:
                    emitted.append([i.id for i in page.items])

            def drain() -> None:
                if api.kind == "sync":
                    for page in paginator:
                        emitted.append([i.id for i in page.items])
                else:
                    api.run(collect())

            with pytest.raises(cfinval.PaginationError, match="twice"):
                drain()
        finally:
            api.close()
    assert emitted == [["I1"]]
    assert route.call_count == 1
    assert route.calls[0].request.url.params["Marker"] == "A"
