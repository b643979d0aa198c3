"""``cfinval fake-server`` (as a real process) and the seed format it loads."""

from __future__ import annotations

import datetime as _dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

import cfinval
from cfinval._cli import main
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, SeedError, load_seed

ROOT = Path(cfinval.__file__).resolve().parent.parent


@contextmanager
def fake_server(*args: str) -> Iterator[tuple[str, list[str]]]:
    """Run ``cfinval fake-server ARGS``; yield its URL and the lines it printed first."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cfinval", "fake-server", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        lines = [process.stdout.readline() for _ in range(10)]
        assert lines[0].startswith("cfinval fake CloudFront listening on http://127.0.0.1:"), (
            lines,
            process.stderr.read() if process.poll() is not None else "",
        )
        yield lines[0].rsplit(" ", 1)[-1].strip(), lines
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
    assert code == 0


def test_serves_generated_tenants_with_the_default_fake_credentials(tmp_path: Path) -> None:
    ids_file = tmp_path / "ids.txt"
    with fake_server(
        "--tenants", "7", "--invalidations-per-tenant", "4", "--write-ids", str(ids_file)
    ) as (
        url,
        lines,
    ):
        ids = ids_file.read_text().split()
        assert len(ids) == 7
        assert f"export AWS_ACCESS_KEY_ID={FAKE_CREDENTIALS.access_key_id}\n" in "".join(lines)
        assert "(2 more)" in lines[1]
        with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client:
            results = {r.tenant_id: r for r in client.list_many(ids)}
    assert all(len(r.items or ()) == 4 for r in results.values())


def test_custom_credentials_are_the_only_ones_accepted() -> None:
    mine = cfinval.Credentials("AKIDMINE", "my-test-secret")
    with fake_server(
        "--tenants", "1", "--access-key", "AKIDMINE", "--secret-key", "my-test-secret"
    ) as (
        url,
        lines,
    ):
        tenant_id = lines[1].split(": ")[-1].strip()
        with cfinval.Client(mine, endpoint_url=url) as client:
            assert len(client.list_invalidations_for_distribution_tenant(Id=tenant_id).items) == 5
        with (
            cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client,
            pytest.raises(cfinval.CloudFrontError) as refused,
        ):
            client.list_invalidations_for_distribution_tenant(Id=tenant_id)
    assert refused.value.code == "InvalidClientTokenId"


def test_signature_checking_can_be_turned_off(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"tenants": {"dt_open": [{"Id": "I1"}]}}))
    with fake_server("--seed-file", str(seed), "--no-verify-signatures") as (url, lines):
        unsigned = httpx.get(f"{url}/2020-05-31/distribution-tenant/dt_open/invalidation")
        assert "SigV4 verification: off" in lines[2]
    assert unsigned.status_code == 200
    assert b"<Id>I1</Id>" in unsigned.content


def test_faults_from_the_command_line_are_served() -> None:
    # Every other request throttled, the first one a 503: the client's retries still list it all.
    with fake_server(
        "--tenants", "1", "--fault", "throttle,every=2", "--fault", "503,start=1,count=1"
    ) as (url, lines):
        assert "  fault: throttle,every=2\n" in lines
        tenant_id = lines[1].split(": ")[-1].strip()
        raw = httpx.get(f"{url}/2020-05-31/distribution-tenant/{tenant_id}/invalidation")
        with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url, max_attempts=1) as client:
            with pytest.raises(cfinval.CloudFrontError) as throttled:
                client.list_invalidations_for_distribution_tenant(Id=tenant_id)
            page = client.list_invalidations_for_distribution_tenant(Id=tenant_id)
    assert raw.status_code == 503  # request 1
    assert throttled.value.code == "Throttling"  # request 2
    assert len(page.items) == 5  # request 3


def test_setup_errors_exit_252_before_serving(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    cases = [
        (["--seed-file", str(tmp_path / "absent.json")], "--seed-file"),
        (["--seed-file", str(broken)], "Expecting property name"),
        (["--access-key", "AKID"], "give both --access-key and --secret-key"),
        (["--tenants", "-1"], "0 or more"),
        (["--fault", "meltdown"], "--fault: bad fault spec 'meltdown': unknown fault kind"),
        (["--fault", "throttle,every=0"], "--fault: bad fault spec 'throttle,every=0'"),
    ]
    for args, message in cases:
        assert main(["fake-server", *args]) == 252
        captured = capsys.readouterr()
        assert message in captured.err
        assert captured.out == ""


def test_a_port_in_use_exits_255(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["fake-server", "--port", str(port)]) == 255
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_write_ids_to_an_unwritable_place_exits_255(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["fake-server", "--write-ids", str(tmp_path / "no" / "such" / "dir")]) == 255
    assert "--write-ids" in capsys.readouterr().err


# --- the seed format ------------------------------------------------------------------------------


def test_load_seed_builds_tenants_newest_first() -> None:
    fake = FakeCloudFront(verify_signatures=False)
    ids = load_seed(
        fake,
        {
            "tenants": {
                "dt_shop": [
                    {"Id": "IOLD", "CreateTime": "2026-01-01T09:00:00Z"},
                    {
                        "Id": "INEW",
                        "CreateTime": "2026-01-01T10:00:00.123Z",
                        "Status": "InProgress",
                    },
                    {"CreateTime": "2026-01-01T09:30:00+00:00"},
                ],
                "dt_empty": [],
                "dt_locked": {"access_denied": True},
            }
        },
    )
    assert ids == ["dt_shop", "dt_empty", "dt_locked"]
    newest, generated, oldest = fake.listing("dt_shop")
    assert (newest.id, newest.status) == ("INEW", "InProgress")
    assert newest.create_time == _dt.datetime(2026, 1, 1, 10, 0, 0, 123000, tzinfo=_dt.timezone.utc)
    assert (oldest.id, oldest.status) == ("IOLD", "Completed")
    assert generated.id.startswith("I")
    assert len(generated.id) == 14
    assert fake.listing("dt_empty") == []
    status, _, body = fake.handle(
        "GET", "/2020-05-31/distribution-tenant/dt_locked/invalidation", {}
    )
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], '"tenants" object'),
        ({"tenants": []}, '"tenants" object'),
        ({"tenants": {"": []}}, "must not be empty"),
        ({"tenants": {"dt": "x"}}, "expected a list"),
        ({"tenants": {"dt": {"bogus": 1}}}, "unknown keys"),
        ({"tenants": {"dt": {"access_denied": "yes"}}}, "true/false"),
        ({"tenants": {"dt": ["x"]}}, "#1: expected an object"),
        ({"tenants": {"dt": [{"When": "now"}]}}, "unknown keys ['When']"),
        ({"tenants": {"dt": [{"Id": ""}]}}, "Id must be a non-empty string"),
        ({"tenants": {"dt": [{"Status": 3}]}}, "Status must be a non-empty string"),
        ({"tenants": {"dt": [{"CreateTime": "yesterday"}]}}, "not an ISO 8601 timestamp"),
    ],
)
def test_load_seed_refuses_bad_data_and_says_where(data: Any, message: str) -> None:
    fake = FakeCloudFront()
    with pytest.raises(SeedError) as refused:
        load_seed(fake, data)
    assert message in str(refused.value)
    assert fake.requests == []


# --- a fake on a shared host: what a client sends is not trusted --------------------------------


def _exchange(url: str, raw: bytes, timeout: float = 5.0) -> bytes:
    """Send ``raw`` on a fresh connection; everything the server answers until it closes."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _request(*headers: str, body: bytes = b"") -> bytes:
    head = "POST /2020-05-31/distribution-tenant/dt_1/invalidation HTTP/1.1\r\nHost: x\r\n"
    return (head + "".join(f"{h}\r\n" for h in headers) + "\r\n").encode() + body


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (["Content-Length: -1"], b"400"),  # read(-1) would wait for the client to hang up
        (["Content-Length: zz"], b"400"),  # int() raised: a traceback on the server's stderr
        (["Content-Length: +5"], b"400"),
        (["Content-Length: 5", "Content-Length: 6"], b"400"),
        (["Transfer-Encoding: chunked"], b"400"),
        ([f"Content-Length: {300 * 1024 * 1024}"], b"413"),  # would be buffered in memory
    ],
)
def test_a_hostile_request_body_is_refused_at_once_and_the_server_goes_on(
    headers: list[str], status: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeCloudFront(seed=1)
    fake.add_invalidation("dt_1")
    with fake.serve() as server:
        answer = _exchange(server.endpoint_url, _request(*headers, body=b"12345"))
        assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer
        assert b"Connection: close" in answer
        with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url) as client:
            assert len(client.list_invalidations_for_distribution_tenant(Id="dt_1").items) == 1
    assert fake.requests[0].method == "GET"  # the refused request never reached the fake
    assert "Traceback" not in capsys.readouterr().err


def test_a_body_within_the_cap_is_read_and_the_request_served() -> None:
    from cfinval.testing._server import MAX_REQUEST_BODY

    fake = FakeCloudFront(seed=1, verify_signatures=False)
    with fake.serve() as server:
        body = b"<x/>" * (MAX_REQUEST_BODY // 4)
        answer = _exchange(
            server.endpoint_url,
            _request(f"Content-Length: {len(body)}", "Connection: close", body=body),
        )
    assert not answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 413")), answer[:80]
    assert [r.method for r in fake.requests] == ["POST"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),  # noqa: S104 (what is tested)
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_only_loopback_hosts_pass_without_a_warning(
    host: str, loopback: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from cfinval._cli.fake_server import _warn_if_exposed
    from cfinval.testing._server import is_loopback

    assert is_loopback(host) is loopback
    _warn_if_exposed(host)
    err = capsys.readouterr().err
    if loopback:
        assert err == ""
    else:
        assert err.startswith(f"warning: --host {host} is not a loopback address")
        assert len(err.splitlines()) == 1


def test_a_recorded_request_hides_the_signature_and_the_session_token() -> None:
    token_creds = cfinval.Credentials("ASIAFAKE000000000001", "SECRET-fake-1", "TOKEN-fake-secret")
    fake = FakeCloudFront(credentials=token_creds)
    fake.add_invalidation("dt_1")
    http = httpx.Client(transport=fake.transport())
    with cfinval.Client(token_creds, http_client=http) as client:
        client.list_invalidations_for_distribution_tenant(Id="dt_1")
    recorded = fake.requests[0]
    signature = recorded.headers["authorization"].split("Signature=")[1]
    assert recorded.headers["x-amz-security-token"] == "TOKEN-fake-secret"  # still there
    for shown in (repr(recorded), str(recorded), repr(fake.requests)):
        assert signature not in shown
        assert "TOKEN-fake-secret" not in shown
        assert "'authorization': '***'" in shown


def test_a_seed_file_nested_too_deeply_exits_252_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["fake-server", "--seed-file", str(seed)]) == 252
    err = capsys.readouterr().err
    assert "JSON nested too deeply" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("target", "body"),
    [
        (
            "/2020-05-31/distribution-tenant/dt_1/invalidation",
            b'<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
            b"<Paths><Quantity>" + b"9" * 5000 + b"</Quantity><Items><Path>/x</Path></Items>"
            b"</Paths><CallerReference>r</CallerReference></InvalidationBatch>",
        ),
        (
            "/2020-05-31/distribution-tenants",
            b'<ListDistributionTenantsRequest xmlns="http://cloudfront.amazonaws.com/doc/'
            b'2020-05-31/"><MaxItems>'
            + b"9" * 5000
            + b"</MaxItems></ListDistributionTenantsRequest>",
        ),
    ],
    ids=["Quantity", "MaxItems"],
)
def test_a_number_of_thousands_of_digits_is_a_400_not_a_traceback(
    target: str, body: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_tenant("dt_1")
    with fake.serve() as server:
        head = (
            f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        answer = _exchange(server.endpoint_url, head.encode() + body)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"<Code>InvalidArgument</Code>" in answer
    assert "Traceback" not in capsys.readouterr().err


def test_a_body_shorter_than_its_length_holds_a_handler_only_until_the_idle_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cfinval.testing import _server

    monkeypatch.setattr(_server, "IDLE_TIMEOUT", 0.2)
    fake = FakeCloudFront(verify_signatures=False)
    with fake.serve() as server:
        started = time.monotonic()
        # 1,000 bytes announced, 10 sent: the server gives up after its idle timeout and
        # closes the connection (before the client's own 5 s timeout)
        answer = _exchange(server.endpoint_url, _request("Content-Length: 1000", body=b"x" * 10))
        assert time.monotonic() - started < 3.0
    assert b"201" not in answer
    assert fake.requests == []
