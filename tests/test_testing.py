"""The fake CloudFront itself: paging rules, errors, signature checks, the loopback server."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Mapping

import httpx
import pytest

import cfinval
from cfinval._core.protocol import parse_invalidation_list
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, FakeServer
from cfinval.testing._faults import FakeReply

PATH = "/2020-05-31/distribution-tenant/{}/invalidation"


def client_for(fake: FakeCloudFront, **kw: object) -> cfinval.Client:
    return cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=fake.transport()),
        **kw,  # type: ignore[arg-type]
    )


def test_listing_is_newest_first_whatever_the_insertion_order() -> None:
    fake = FakeCloudFront()
    base = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    old = fake.add_invalidation("dt_1", create_time=base)
    new = fake.add_invalidation("dt_1", create_time=base + dt.timedelta(days=1))
    mid = fake.add_invalidation("dt_1", create_time=base + dt.timedelta(hours=1))
    with client_for(fake) as client:
        page = client.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert page.items == (new, mid, old)


def test_pages_echo_marker_and_set_next_marker_only_when_truncated() -> None:
    fake = FakeCloudFront()
    made = [fake.add_invalidation("dt_1") for _ in range(5)]
    with client_for(fake) as client:
        first = client.list_invalidations_for_distribution_tenant(Id="dt_1", MaxItems=3)
        second = client.list_invalidations_for_distribution_tenant(
            Id="dt_1", Marker=first.next_marker, MaxItems=3
        )
    newest_first = made[::-1]
    assert (first.marker, first.next_marker, first.is_truncated) == ("", made[2].id, True)
    assert first.items == tuple(newest_first[:3])
    assert (second.marker, second.next_marker, second.is_truncated) == (made[2].id, None, False)
    assert second.items == tuple(newest_first[3:])
    assert (first.max_items, second.quantity) == (3, 2)


@pytest.mark.parametrize("query", ["MaxItems=0", "MaxItems=abc", "MaxItems=1001", "Marker=nope"])
def test_bad_arguments_answer_invalid_argument(query: str) -> None:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_invalidation("dt_1")
    status, headers, body = fake.handle("GET", PATH.format("dt_1") + "?" + query, {})
    assert status == 400
    assert b"<Code>InvalidArgument</Code>" in body
    assert headers["x-amz-request-id"] in body.decode()


def test_unknown_paths_and_methods() -> None:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_tenant("dt_1")
    assert fake.handle("GET", "/2020-05-31/distribution/x", {})[0] == 404
    assert fake.handle("DELETE", PATH.format("dt_1"), {})[0] == 405


def signed_headers(fake: FakeCloudFront, creds: cfinval.Credentials, when: float) -> dict[str, str]:
    from cfinval._config import resolve_endpoint
    from cfinval._core.protocol import ListParams, sign

    request = sign(
        resolve_endpoint("http://fake", None),
        ListParams("dt_1"),
        creds,
        dt.datetime.fromtimestamp(when, dt.timezone.utc),
    )
    return dict(request.headers)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Authorization": None}, "MissingAuthenticationToken"),
        ({"Authorization": "Bearer x"}, "IncompleteSignature"),
        ({"X-Amz-Date": "yesterday"}, "IncompleteSignature"),
        ({"Host": "elsewhere"}, "SignatureDoesNotMatch"),
    ],
)
def test_signature_problems_are_refused(change: dict[str, str | None], code: str) -> None:
    fake = FakeCloudFront(clock=lambda: 1_800_000_000.0)
    fake.add_tenant("dt_1")
    headers = signed_headers(fake, FAKE_CREDENTIALS, 1_800_000_000.0)
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    status, _, body = fake.handle("GET", PATH.format("dt_1"), headers)
    assert status in (400, 403)
    assert f"<Code>{code}</Code>".encode() in body


def test_unknown_key_and_skewed_clock_are_refused() -> None:
    fake = FakeCloudFront(clock=lambda: 1_800_000_000.0)
    fake.add_tenant("dt_1")
    stranger = cfinval.Credentials("AKIDSTRANGER", "x")
    status, _, body = fake.handle(
        "GET", PATH.format("dt_1"), signed_headers(fake, stranger, 1_800_000_000.0)
    )
    assert (status, b"InvalidClientTokenId" in body) == (403, True)
    late = signed_headers(fake, FAKE_CREDENTIALS, 1_800_000_000.0 - 16 * 60)
    status, headers, body = fake.handle("GET", PATH.format("dt_1"), late)
    assert status == 403
    assert b"Signature expired" in body
    assert headers["date"].endswith("GMT")


def test_session_token_must_match() -> None:
    creds = cfinval.Credentials("AKIDTEMP", "s", "right-token")
    fake = FakeCloudFront(credentials=[creds])
    fake.add_tenant("dt_1")
    wrong = cfinval.Credentials("AKIDTEMP", "s", "wrong-token")
    http = httpx.Client(transport=fake.transport())
    with (
        cfinval.Client(wrong, http_client=http) as client,
        pytest.raises(cfinval.CloudFrontError) as info,
    ):
        client.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert info.value.code == "InvalidClientTokenId"
    assert "wrong-token" not in str(info.value)


def test_set_status_and_seed_tenants() -> None:
    fake = FakeCloudFront(seed=5)
    ids = fake.seed_tenants(4, invalidations=3)
    assert len(set(ids)) == 4
    first = fake.listing(ids[0])[0]
    assert first.status == "InProgress"
    fake.set_status(ids[0], first.id, "Completed")
    assert fake.listing(ids[0])[0].status == "Completed"
    with pytest.raises(LookupError, match="no invalidation"):
        fake.set_status(ids[0], "INOPE", "Completed")
    with pytest.raises(LookupError, match="no tenant"):
        fake.listing("dt_nope")


def test_generated_pages_parse() -> None:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_invalidation("dt_&<>", "I<&>", status="In&Progress")
    status, _, body = fake.handle("GET", PATH.format("dt_%26%3C%3E"), {})
    page = parse_invalidation_list(body)
    assert status == 200
    assert (page.items[0].id, page.items[0].status) == ("I<&>", "In&Progress")


def test_server_starts_and_stops_on_loopback() -> None:
    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    with fake.serve() as server:
        url = server.endpoint_url
        assert url.startswith("http://127.0.0.1:")
        with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client:
            assert client.list_invalidations_for_distribution_tenant(Id="dt_1").items == ()
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.endpoint_url


def test_stopping_the_server_closes_connections_kept_alive() -> None:
    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    server = FakeServer(fake).start()
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url, max_attempts=1) as c:
        assert c.list_invalidations_for_distribution_tenant(Id="dt_1").items == ()
        server.stop()  # the client's connection is still open in its pool
        with pytest.raises(cfinval.TransportError):
            c.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert fake.served == 1


class _HeldResponder:
    """Answers as ``fake`` does, once ``release`` is set; notes the handler thread."""

    def __init__(self, fake: FakeCloudFront) -> None:
        self.fake = fake
        self.entered = threading.Event()
        self.release = threading.Event()
        self.handler: threading.Thread | None = None

    def respond(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> FakeReply:
        self.handler = threading.current_thread()
        self.entered.set()
        self.release.wait(10)
        return self.fake.respond(method, target, headers, body)


def _hold_a_request(responder: _HeldResponder, server: FakeServer) -> socket.socket:
    port = int(server.endpoint_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"GET {PATH.format('dt_1')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert responder.entered.wait(10)
    return sock


def test_stop_returns_only_once_the_connection_handlers_have_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cfinval.testing import _server

    responder = _HeldResponder(FakeCloudFront())
    server = FakeServer(responder).start()
    close = _server._Server.server_close

    def close_then_release(self: _server._Server) -> None:
        close(self)
        responder.release.set()  # the handler goes on only now, late in stop()

    monkeypatch.setattr(_server._Server, "server_close", close_then_release)
    with _hold_a_request(responder, server):
        server.stop()
        assert responder.handler is not None
        assert not responder.handler.is_alive()


def test_stop_waits_for_a_stuck_handler_only_briefly(monkeypatch: pytest.MonkeyPatch) -> None:
    from cfinval.testing import _server

    monkeypatch.setattr(_server, "_HANDLER_JOIN_TIMEOUT", 0.05)
    responder = _HeldResponder(FakeCloudFront())
    server = FakeServer(responder).start()
    try:
        with _hold_a_request(responder, server):
            server.stop()  # returns although the handler is still held
            assert responder.handler is not None
            assert responder.handler.is_alive()
    finally:
        responder.release.set()
    responder.handler.join(10)
    assert not responder.handler.is_alive()


def test_a_new_fake_on_the_same_port_answers_clients_of_the_stopped_one() -> None:
    old, new = FakeCloudFront(), FakeCloudFront()
    old.add_tenant("dt_1")  # the new fake does not know it: EntityNotFound
    first = FakeServer(old).start()
    url = first.endpoint_url
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url, max_attempts=1) as c:
        assert c.list_invalidations_for_distribution_tenant(Id="dt_1").items == ()
        first.stop()
        port = int(url.rsplit(":", 1)[1])
        with FakeServer(new, port=port), pytest.raises(cfinval.EntityNotFound):
            c.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert (old.served, new.served) == (1, 1)


def test_the_request_record_keeps_only_the_most_recent() -> None:
    fake = FakeCloudFront(max_recorded=3)
    fake.add_tenant("dt_1")
    for n in range(1, 8):
        fake.handle("GET", PATH.format("dt_1") + f"?MaxItems={n}", {})
    assert fake.served == 7
    assert [r.target.rsplit("=", 1)[1] for r in fake.requests] == ["5", "6", "7"]
    assert FakeCloudFront().max_recorded == 10_000  # about 16 MiB of records at most


def test_demo_prints_every_invalidation(capsys: pytest.CaptureFixture[str]) -> None:
    from cfinval.testing import demo

    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "23 invalidations in 3 pages" in out
    assert out.count("InProgress") == 2
    assert "EntityNotFound" in out


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.add_tenant(5), "tenant_id must be a non-empty str"),
        (lambda f: f.add_invalidation("dt_1", status=5), "status must be a non-empty str"),
        (
            lambda f: f.add_invalidation("dt_1", create_time=dt.datetime(2020, 1, 1)),
            "create_time must be an aware datetime",
        ),
        (lambda f: f.add_invalidation("dt_1", "I1", status=""), "status must be"),
    ],
)
def test_bad_seeding_is_refused_at_once(call: object, message: str) -> None:
    fake = FakeCloudFront()
    with pytest.raises(TypeError, match=message):
        call(fake)  # type: ignore[operator]
    assert fake.requests == []
