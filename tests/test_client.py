"""Client and AsyncClient end to end: the loopback fake, respx, errors, credentials."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from unittest import mock

import botocore.auth
import botocore.credentials
import httpx
import pytest
import respx
from botocore.awsrequest import AWSRequest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, RecordedRequest

from .conftest import response_bytes
from .drivers import AsyncApi, SyncApi

MakeApi = Callable[..., Any]


@pytest.fixture(params=[SyncApi, AsyncApi], ids=["sync", "async"])
def make_api(request: pytest.FixtureRequest) -> Iterator[MakeApi]:
    made: list[Any] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("credentials", FAKE_CREDENTIALS)
        api = request.param(**kwargs)
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


@pytest.fixture
def fake() -> FakeCloudFront:
    return FakeCloudFront(seed=1)


# --- against the loopback HTTP fake ---------------------------------------------------------

AWKWARD_IDS = [
    "dt_2wjDZi3hD1ivOXf6rpZJOSNE1AN",
    "a/b",
    "what?x=1",
    "hash#tag",
    "100%",
    "a&b=c",
    "plus+sign",
    "with space",
    "caf\u00e9 \u2603 \U0001f600",
    "..%2F",
    "~tilde",
]


@pytest.mark.parametrize("tenant_id", AWKWARD_IDS)
def test_awkward_ids_reach_the_right_tenant(
    make_api: MakeApi, fake: FakeCloudFront, tenant_id: str
) -> None:
    made = fake.add_invalidation(tenant_id, status="InProgress")
    fake.add_invalidation("a", status="Completed")  # a decoy for ids that contain "/"
    with fake.serve() as server:
        api = make_api(endpoint_url=server.endpoint_url)
        page = api.list(Id=tenant_id)
    assert page.items == (made,)
    assert len(fake.requests) == 1


def test_one_item_and_empty_tenants(make_api: MakeApi, fake: FakeCloudFront) -> None:
    fake.add_tenant("dt_empty")
    one = fake.add_invalidation("dt_one")
    with fake.serve() as server:
        api = make_api(endpoint_url=server.endpoint_url)
        empty = api.list(Id="dt_empty")
        single = api.list(Id="dt_one")
        pages, token = api.pages("dt_empty")
    assert (empty.items, empty.quantity, empty.is_truncated) == ((), 0, False)
    assert "Items" not in empty.to_dict()
    assert single.items == (one,)
    assert [p.items for p in pages] == [()]
    assert token is None


def test_a_thousand_plus_items_across_pages(make_api: MakeApi, fake: FakeCloudFront) -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    for n in range(1234):
        fake.add_invalidation("dt_big", create_time=start + dt.timedelta(seconds=n))
    truth = fake.listing("dt_big")
    with fake.serve() as server:
        api = make_api(endpoint_url=server.endpoint_url)
        items, token = api.items("dt_big", page_size=100)
        pages, _ = api.pages("dt_big")  # the service's default page size
    assert items == truth
    assert token is None
    assert len(fake.requests) == 13 + 13
    assert [len(p.items) for p in pages] == [100] * 12 + [34]
    assert [p.marker for p in pages[1:]] == [p.next_marker for p in pages[:-1]]
    assert pages[-1].next_marker is None


def test_modeled_errors(make_api: MakeApi, fake: FakeCloudFront) -> None:
    fake.add_tenant("dt_secret", access_denied=True)
    fake.add_tenant("dt_ok")
    with fake.serve() as server:
        api = make_api(endpoint_url=server.endpoint_url)
        with pytest.raises(cfinval.EntityNotFound) as missing:
            api.list(Id="dt_missing")
        with pytest.raises(cfinval.AccessDenied) as denied:
            api.list(Id="dt_secret")
        with pytest.raises(cfinval.InvalidArgument) as invalid:
            api.list(Id="dt_ok", MaxItems=5000)
    assert (missing.value.status_code, missing.value.code) == (404, "EntityNotFound")
    assert str(missing.value.request_id).startswith("fake-")
    assert denied.value.status_code == 403
    assert invalid.value.status_code == 400
    assert "MaxItems" in invalid.value.message


def test_wrong_secret_is_refused_and_never_shown(make_api: MakeApi, fake: FakeCloudFront) -> None:
    fake.add_tenant("dt_1")
    with fake.serve() as server:
        api = make_api(
            endpoint_url=server.endpoint_url,
            credentials=cfinval.Credentials(FAKE_CREDENTIALS.access_key_id, "not-the-secret"),
        )
        with pytest.raises(cfinval.CloudFrontError) as info:
            api.list(Id="dt_1")
    assert info.value.code == "SignatureDoesNotMatch"
    assert "not-the-secret" not in str(info.value)
    assert "not-the-secret" not in repr(info.value)


def botocore_verifier(
    request: RecordedRequest,
    credentials: Any,
    region: str,
    now: dt.datetime,
) -> tuple[int, str, str] | None:
    """Verify a request by re-signing it with botocore (independent of cfinval's signer)."""
    auth = request.headers["authorization"]
    key_id = auth.split("Credential=")[1].split("/")[0]
    creds = credentials[key_id]
    signed_at = dt.datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=dt.timezone.utc
    )
    url = f"http://{request.headers['host']}{request.target}"
    again = AWSRequest(method=request.method, url=url, headers={})
    boto_creds = botocore.credentials.Credentials(
        creds.access_key_id, creds.secret_access_key, creds.session_token
    )
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=signed_at):
        botocore.auth.SigV4Auth(boto_creds, "cloudfront", region).add_auth(again)
    if again.headers["Authorization"] != auth:
        return 403, "SignatureDoesNotMatch", "botocore computes another signature"
    return None


@pytest.mark.parametrize("session_token", [None, "FwoGZXIvYXdzEJr//////////wEaDPa+token=="])
def test_botocore_verifying_server_accepts_our_requests(
    make_api: MakeApi, session_token: str | None
) -> None:
    creds = cfinval.Credentials("AKIDBOTOCOREORACLE", "oracle/secret+key", session_token)
    fake = FakeCloudFront(credentials=[creds], verifier=botocore_verifier)
    for tenant_id in AWKWARD_IDS:
        fake.add_invalidation(tenant_id)
    with fake.serve() as server:
        api = make_api(endpoint_url=server.endpoint_url, credentials=creds)
        for tenant_id in AWKWARD_IDS:
            items, _ = api.items(tenant_id, page_size=1)
            assert [i.id for i in items] == [i.id for i in fake.listing(tenant_id)]
        with pytest.raises(cfinval.EntityNotFound):  # passes the signature check first
            api.list(Id="dt_other", Marker="m k", MaxItems=7)


# --- with respx: the wire, exactly ----------------------------------------------------------

BASE = "https://cloudfront.amazonaws.com/2020-05-31/distribution-tenant"


@respx.mock
def test_wire_request_sync_and_async_identical() -> None:
    route = respx.get(url__startswith=BASE).mock(
        return_value=httpx.Response(200, content=response_bytes("list-one-item.xml"))
    )
    clock = lambda: 1_700_000_000.0  # noqa: E731
    creds = cfinval.Credentials("AKID", "secret", "token")
    with cfinval.Client(creds, clock=clock) as client:
        client.list_invalidations_for_distribution_tenant(Id="a/b c", Marker="m", MaxItems=3)
    sent_sync = route.calls.last.request

    async def go() -> None:
        async with cfinval.AsyncClient(creds, clock=clock) as client:
            await client.list_invalidations_for_distribution_tenant(
                Id="a/b c", Marker="m", MaxItems=3
            )

    import asyncio

    asyncio.run(go())
    sent_async = route.calls.last.request
    assert route.call_count == 2
    for sent in (sent_sync, sent_async):
        assert sent.method == "GET"
        assert sent.url.raw_path == (
            b"/2020-05-31/distribution-tenant/a%2Fb%20c/invalidation?Marker=m&MaxItems=3"
        )
        assert sent.headers["host"] == "cloudfront.amazonaws.com"
        assert sent.headers["x-amz-date"] == "20231114T221320Z"
        assert sent.headers["x-amz-security-token"] == "token"
        assert sent.headers["accept-encoding"] == "identity"
        assert sent.headers["user-agent"].startswith("cfinval/")
    assert sent_sync.headers["authorization"] == sent_async.headers["authorization"]


BAD_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list", {"Id": ""}),
    ("list", {"Id": ".."}),
    ("list", {"Id": 7}),
    ("list", {"Id": "dt_1", "MaxItems": False}),
    ("list", {"Id": "dt_1", "Marker": b"x"}),
    ("pages", {"tenant_id": "."}),
    ("pages", {"tenant_id": "dt_1", "page_size": 0}),
    ("pages", {"tenant_id": "dt_1", "max_items": True}),
    ("pages", {"tenant_id": "dt_1", "starting_token": 5}),
    ("items", {"tenant_id": "dt_1", "max_items": -3}),
]


@pytest.mark.parametrize(("method", "kwargs"), BAD_CALLS)
def test_invalid_input_sends_nothing(
    make_api: MakeApi, method: str, kwargs: dict[str, Any]
) -> None:
    kwargs = dict(kwargs)
    with respx.mock(assert_all_called=False) as router:
        route = router.route().mock(return_value=httpx.Response(500))
        api = make_api()
        if method == "list":
            call = lambda: api.list(**kwargs)  # noqa: E731
        else:
            # the error comes from paginate()/iter_invalidations() itself, before iterating
            tenant = kwargs.pop("tenant_id")
            start = api.client.paginate if method == "pages" else api.client.iter_invalidations
            call = lambda: start(tenant, **kwargs)  # noqa: E731
        with pytest.raises(cfinval.ParamValidationError):
            call()
        assert route.call_count == 0


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
)
def test_httpx_failures_become_transport_error(make_api: MakeApi, exc: Exception) -> None:
    with respx.mock() as router:
        route = router.get(url__startswith=BASE).mock(side_effect=exc)
        api = make_api(max_attempts=1)
        with pytest.raises(cfinval.TransportError) as info:
            api.list(Id="dt_1")
    assert info.value.__cause__ is exc
    assert route.call_count == 1


def test_non_xml_502_raises_cloudfront_error_with_status(make_api: MakeApi) -> None:
    with respx.mock() as router:
        router.get(url__startswith=BASE).mock(
            return_value=httpx.Response(502, content=response_bytes("proxy-502.html"))
        )
        api = make_api(max_attempts=1)
        with pytest.raises(cfinval.CloudFrontError) as info:
            api.list(Id="dt_1")
    assert (info.value.code, info.value.status_code, info.value.message) == (
        "502",
        502,
        "Bad Gateway",
    )


@pytest.mark.parametrize("served", ["in-process", "loopback"])
@pytest.mark.parametrize("fault", ["oversize", "gzip-bomb"])
def test_async_cut_off_body_leaves_nothing_for_the_event_loop_to_close(
    served: str, fault: str
) -> None:
    # httpx's body iterators are nested async generators that httpx never closes: a read cut
    # off early used to leave them suspended, with aclose() tasks pending on the loop (which
    # Python 3.13 reports as "coroutine method 'aclose' ... was never awaited").
    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    fake.add_fault(f"{fault},size={8 * 1024 * 1024}")
    loop = asyncio.new_event_loop()

    async def call(endpoint_url: str | None, transport: Any) -> None:
        http = None if transport is None else httpx.AsyncClient(transport=transport)
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, endpoint_url=endpoint_url, http_client=http, max_attempts=1
        ) as client:
            with pytest.raises(cfinval.ResponseParseError, match="larger than"):
                await client.list_invalidations_for_distribution_tenant(Id="dt_1")
        if http is not None:
            await http.aclose()

    try:
        if served == "loopback":
            with fake.serve() as server:
                loop.run_until_complete(call(server.endpoint_url, None))
        else:
            loop.run_until_complete(call(None, fake.transport()))
        assert asyncio.all_tasks(loop) == set()
        suspended = [gen for gen in loop._asyncgens if gen.ag_frame is not None]  # type: ignore[attr-defined]
        assert suspended == []
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def test_async_cut_off_body_that_never_ends_is_read_at_most_twice_the_cap() -> None:
    # A stream that ignores the response's close (an in-memory one from a custom transport)
    # must not be drained forever after the cut-off.
    chunk = b" " * (1024 * 1024)
    sent = 0

    class Endless(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            nonlocal sent
            while True:
                sent += len(chunk)
                yield chunk

    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=Endless()))

    async def call() -> None:
        async with httpx.AsyncClient(transport=transport) as http:
            client = cfinval.AsyncClient(FAKE_CREDENTIALS, http_client=http, attempt_timeout=None)
            with pytest.raises(cfinval.ResponseParseError, match="larger than"):
                await client.list_invalidations_for_distribution_tenant(Id="dt_1")

    asyncio.run(call())
    assert 4 * 1024 * 1024 < sent <= 2 * (4 * 1024 * 1024) + 2 * len(chunk)


# --- client construction, credentials, ownership --------------------------------------------


def test_credentials_from_environment(make_api: MakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "env-token")
    with respx.mock() as router:
        route = router.get(url__startswith=BASE).mock(
            return_value=httpx.Response(200, content=response_bytes("list-empty.xml"))
        )
        api = make_api(credentials=None)
        api.list(Id="dt_1")
    sent = route.calls.last.request
    assert "Credential=AKIDFROMENV/" in sent.headers["authorization"]
    assert sent.headers["x-amz-security-token"] == "env-token"


def test_no_credentials_raises_before_sending(make_api: MakeApi) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route().mock(return_value=httpx.Response(200))
        api = make_api(credentials=None)
        with pytest.raises(cfinval.NoCredentialsError, match="Unable to locate credentials"):
            api.list(Id="dt_1")
    assert route.call_count == 0


def test_credentials_callable_and_bad_credentials_argument() -> None:
    calls = []

    def provide() -> cfinval.Credentials:
        calls.append(1)
        return FAKE_CREDENTIALS

    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    with cfinval.Client(provide, http_client=httpx.Client(transport=fake.transport())) as client:
        client.list_invalidations_for_distribution_tenant(Id="dt_1")
        client.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert calls == [1]  # loaded once, then cached
    with pytest.raises(cfinval.ParamValidationError, match="credentials must be"):
        cfinval.Client(credentials=42)


def test_credentials_repr_hides_secrets() -> None:
    creds = cfinval.Credentials("AKIDSHOWN", "the-secret", "the-token")
    assert "AKIDSHOWN" in repr(creds)
    assert "the-secret" not in repr(creds)
    assert "the-token" not in repr(creds)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"access_key_id": 1, "secret_access_key": "s"},
        {"access_key_id": "a", "secret_access_key": ""},
        {"access_key_id": "a", "secret_access_key": "s", "session_token": 3},
        {"access_key_id": "a", "secret_access_key": "s", "expiration": dt.datetime(2030, 1, 1)},
    ],
)
def test_bad_credentials_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(cfinval.ParamValidationError):
        cfinval.Credentials(**kwargs)


def test_sync_client_closes_only_what_it_created() -> None:
    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    mine = httpx.Client(transport=fake.transport())
    with cfinval.Client(FAKE_CREDENTIALS, http_client=mine) as client:
        client.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert not mine.is_closed
    mine.close()
    owned = cfinval.Client(FAKE_CREDENTIALS)
    with respx.mock() as router:
        router.get(url__startswith=BASE).mock(
            return_value=httpx.Response(200, content=response_bytes("list-empty.xml"))
        )
        owned.list_invalidations_for_distribution_tenant(Id="dt_1")
    inner = owned._http
    owned.close()
    assert inner is not None
    assert inner.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        owned.list_invalidations_for_distribution_tenant(Id="dt_1")


def test_async_client_closes_only_what_it_created() -> None:
    import asyncio

    async def go() -> None:
        fake = FakeCloudFront()
        fake.add_tenant("dt_1")
        mine = httpx.AsyncClient(transport=fake.transport())
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, http_client=mine) as client:
            await client.list_invalidations_for_distribution_tenant(Id="dt_1")
        assert not mine.is_closed
        await mine.aclose()
        owned = cfinval.AsyncClient(FAKE_CREDENTIALS, endpoint_url="http://127.0.0.1:9")
        owned._http = httpx.AsyncClient(transport=fake.transport())
        await owned.list_invalidations_for_distribution_tenant(Id="dt_1")
        await owned.aclose()
        assert owned._http.is_closed

    asyncio.run(go())


def test_wrong_http_client_type_is_refused() -> None:
    with pytest.raises(cfinval.ParamValidationError, match=r"httpx\.Client"):
        cfinval.Client(FAKE_CREDENTIALS, http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(cfinval.ParamValidationError, match=r"httpx\.AsyncClient"):
        cfinval.AsyncClient(FAKE_CREDENTIALS, http_client=httpx.Client())  # type: ignore[arg-type]


def test_timeout_is_applied_to_each_request(make_api: MakeApi) -> None:
    with respx.mock() as router:
        route = router.get(url__startswith=BASE).mock(
            return_value=httpx.Response(200, content=response_bytes("list-empty.xml"))
        )
        api = make_api(timeout=2.5)
        api.list(Id="dt_1")
    assert route.calls.last.request.extensions["timeout"] == httpx.Timeout(2.5).as_dict()


@pytest.mark.parametrize("timeout", [0, -1, "10", True])
def test_bad_timeout_is_refused(timeout: object) -> None:
    with pytest.raises(cfinval.ParamValidationError, match="timeout"):
        cfinval.Client(FAKE_CREDENTIALS, timeout=timeout)  # type: ignore[arg-type]


def test_region_and_endpoint_are_reported(make_api: MakeApi) -> None:
    assert make_api().client.endpoint_url == "https://cloudfront.amazonaws.com"
    china = make_api(region="cn-northwest-1").client
    assert china.endpoint_url == "https://cloudfront.cn-northwest-1.amazonaws.com.cn"
    assert "secret" not in repr(china)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"session_token": "TOKEN-SECRET-1\n"}, "session_token"),
        ({"session_token": " TOKEN-SECRET-1"}, "session_token"),
        ({"session_token": "TOKEN\x00SECRET-1"}, "session_token"),
        ({"session_token": "TOKEN-SECRET-1\u00e9"}, "session_token"),
        ({"access_key_id": "AKID-SECRET-1\n"}, "access_key_id"),
        ({"access_key_id": "AKID\u00c9"}, "access_key_id"),
        ({"secret_access_key": "SECRET-1\udcff"}, "secret_access_key"),
    ],
)
def test_credentials_that_cannot_go_in_a_header_are_refused_without_echo(
    kwargs: dict[str, str], field: str
) -> None:
    # A stray newline from a file would otherwise make h11 quote the header (the secret) in the
    # transport error; a non-ASCII value would raise UnicodeEncodeError holding it.
    values = {"access_key_id": "AKID", "secret_access_key": "s", **kwargs}
    with pytest.raises(cfinval.ParamValidationError, match=field) as info:
        cfinval.Credentials(**values)
    assert "SECRET-1" not in str(info.value)
    assert "TOKEN" not in str(info.value)


def test_local_transport_errors_do_not_quote_the_request(make_api: MakeApi) -> None:
    with respx.mock() as router:
        router.get(url__startswith=BASE).mock(
            side_effect=httpx.LocalProtocolError("Illegal header value b'SECRET-VALUE'")
        )
        api = make_api()
        with pytest.raises(cfinval.TransportError) as info:
            api.list(Id="dt_1")
    assert "LocalProtocolError" in str(info.value)
    assert "SECRET-VALUE" not in str(info.value)
    assert info.value.attempts == 1  # a request that cannot be sent is not retried
