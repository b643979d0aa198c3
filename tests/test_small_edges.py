"""Smaller first-hour edges: the fake server's TLS files and seed statuses, what a wait that
timed out says about Ids never listed, and the audit's exit code for an unreachable endpoint."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

import cfinval
from cfinval._cli import main
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, SeedError, load_seed

from .tls import make_tls_files


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS.secret_access_key)


def _fake_server_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["fake-server", *args]) == 252
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 2
    return captured.err.strip()


def test_tls_files_that_cannot_serve_say_what_is_wrong(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tls = make_tls_files(tmp_path)
    (tmp_path / "other").mkdir()
    other = make_tls_files(tmp_path / "other")
    cases = [
        (
            ["--ssl-certfile", str(tls.cert)],
            f"--ssl-certfile {tls.cert} holds no private key: give the key file with "
            "--ssl-keyfile FILE (or append the key to the certificate file)",
        ),
        (
            ["--ssl-certfile", str(tls.cert), "--ssl-keyfile", str(other.key)],
            f"the private key in {other.key} does not belong to the certificate in {tls.cert}",
        ),
        (
            ["--ssl-certfile", str(tls.key), "--ssl-keyfile", str(tls.key)],
            f"--ssl-certfile {tls.key} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        ),
        (
            ["--ssl-certfile", str(tls.cert), "--ssl-keyfile", str(tls.ca)],
            f"--ssl-keyfile {tls.ca} holds no PEM private key (-----BEGIN PRIVATE KEY-----)",
        ),
    ]
    for args, message in cases:
        err = _fake_server_error(capsys, *args)
        assert err == message
        assert "PEM lib" not in err


@pytest.mark.parametrize("status", ["Bogus", "completed", "In Progress"])
def test_a_seed_with_a_status_cloudfront_never_lists_is_refused(
    status: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seed = {"tenants": {"dt_shop": [{"Id": "I1", "Status": status}]}}
    with pytest.raises(SeedError) as caught:
        load_seed(FakeCloudFront(), seed)
    assert str(caught.value) == (
        f"tenant 'dt_shop', invalidation #1: Status must be one of InProgress, Completed, "
        f"got {status!r}"
    )
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    assert "Status must be one of InProgress, Completed" in _fake_server_error(
        capsys, "--seed-file", str(path)
    )


def test_a_wait_that_times_out_says_which_ids_were_never_listed(
    capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    fake = FakeCloudFront()
    fake.add_invalidation("dt_a", "IA1", status="InProgress")
    fake.add_invalidation("dt_a", "IA2", status="Completed")
    with fake.serve() as server:
        code = main(
            ["wait", "--endpoint-url", server.endpoint_url, "--id", "dt_a",
             "--invalidation-ids", "IA1", "IA2", "ITYPO", "--timeout", "0"]
        )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 255
    assert re.fullmatch(  # how long it took (monotonic): a moment
        r"\nWaiter failed: timed out after \d+\.\d s \(timeout 0 s, 1 poll\(s\)\) waiting for 2 "
        r"invalidation\(s\) of tenant 'dt_a' to complete: IA1 still InProgress; never listed: "
        r"ITYPO\n",
        captured.err,
    )


def test_a_wait_where_nothing_was_listed_says_only_that(keys: None) -> None:
    fake = FakeCloudFront()
    fake.add_tenant("dt_a")
    with (
        fake.serve() as server,
        cfinval.Client(endpoint_url=server.endpoint_url) as client,
        pytest.raises(cfinval.WaitTimeoutError) as caught,
    ):
        client.wait_until_completed("dt_a", invalidation_ids=["IX", "IY"], timeout=0)
    assert str(caught.value).endswith("to complete: never listed: IX, IY")
    assert caught.value.missing == ("IX", "IY")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_audit_and_listing_exit_alike_for_an_unreachable_endpoint(
    capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    dead = f"http://127.0.0.1:{_free_port()}"
    ids = tmp_path / "ids.txt"
    ids.write_text("dt_a\ndt_b\n")
    listing = main(["list-invalidations-for-distribution-tenant", "--endpoint-url", dead,
                    "--id", "dt_a"])  # fmt: skip
    capsys.readouterr()
    audit = main(["audit", "--endpoint-url", dead, "--ids-file", str(ids)])
    rows = json.loads(capsys.readouterr().out)["Tenants"]
    assert listing == audit == 255
    assert [row["Error"]["Code"] for row in rows] == ["TransportError", "TransportError"]
    assert rows[0]["Error"]["Message"].startswith("Could not connect to the endpoint URL: ")


def test_audit_exits_254_when_the_service_refused_only(
    capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path
) -> None:
    fake = FakeCloudFront()
    fake.add_invalidation("dt_a")
    ids = tmp_path / "ids.txt"
    ids.write_text("dt_a\ndt_missing\n")
    with fake.serve() as server:
        code = main(["audit", "--endpoint-url", server.endpoint_url, "--ids-file", str(ids)])
    rows = json.loads(capsys.readouterr().out)["Tenants"]
    assert code == 254
    assert rows[1]["Error"]["Code"] == "EntityNotFound"
