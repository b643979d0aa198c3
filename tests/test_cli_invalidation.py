"""``create-invalidation-for-distribution-tenant``, ``get-invalidation-for-distribution-tenant``
and ``wait invalidation-for-distribution-tenant-completed``: what cfinval sends and prints
equals what the AWS CLI (awscli 1.46, in this process) sends and prints, against the same
scripted server on 127.0.0.1; the waiter's sleeps in virtual time (``time.sleep`` patched for
both tools)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import xmltodict

import cfinval
from cfinval._cli.invalidation import caller_reference
from cfinval._core.protocol import NAMESPACE

from .test_cli_awscli import _AWS_KNOWS_OP, aws_cli, cfinval_cli

pytestmark = pytest.mark.skipif(not _AWS_KNOWS_OP, reason="needs awscli >= 1.46")

Result = tuple[int, str, str]
BASE = "/2020-05-31/distribution-tenant/"
CREATED = "2026-12-04T12:00:01.250Z"


def _invalidation(inv: str, status: str, paths: list[str], reference: str) -> bytes:
    document = {
        "Invalidation": {
            "@xmlns": NAMESPACE,
            "Id": inv,
            "Status": status,
            "CreateTime": CREATED,
            "InvalidationBatch": {
                "Paths": {"Quantity": str(len(paths)), "Items": {"Path": paths}},
                "CallerReference": reference,
            },
        }
    }
    return str(xmltodict.unparse(document)).encode()


def _error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>req-9</RequestId>"
        "</ErrorResponse>"
    ).encode()


class Stub(http.server.BaseHTTPRequestHandler):
    """CloudFront as far as these commands go (no signature check: both tools sign alike,
    which ``tests/test_invalidations.py`` proves)."""

    seen: ClassVar[list[tuple[str, str, bytes]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in {"Content-Type": "text/xml", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(("POST", self.path, body))
        tenant = self.path[len(BASE) :].split("/")[0]
        if tenant == "dt_nope":
            return self._answer(404, _error("EntityNotFound", "No such tenant."))
        if tenant == "dt_busy":
            return self._answer(
                400, _error("TooManyInvalidationsInProgress", "Too many in progress.")
            )
        batch = xmltodict.parse(body)["InvalidationBatch"]
        paths = batch["Paths"]["Items"]["Path"]
        paths = [paths] if isinstance(paths, str) else paths
        location = f"https://cloudfront.amazonaws.com{BASE}{tenant}/invalidation/INEW"
        self._answer(
            201,
            _invalidation("INEW", "InProgress", paths, batch["CallerReference"]),
            {"Location": location},
        )

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, b""))
        inv = self.path.rsplit("/", 1)[-1]
        if inv == "INOPE":
            return self._answer(404, _error("NoSuchInvalidation", "No such invalidation."))
        status = "InProgress" if inv == "ISLOW" else "Completed"
        self._answer(200, _invalidation(inv, status, ["/index.html", "/img/*"], "deploy-7"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("awscli-inv")
    (tmp / "config").write_text("[default]\nregion = us-east-1\ncli_timestamp_format = iso8601\n")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", tmp
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


def run_aws(url: str, tmp: Path, args: list[str]) -> Result:
    return aws_cli(tmp, [*args, "--endpoint-url", url])


def run_cfinval(url: str, tmp: Path, args: list[str]) -> Result:
    return cfinval_cli(tmp, [*args, "--endpoint-url", url])


def both(server: tuple[str, Path], args: list[str]) -> tuple[Result, Result, list[Any]]:
    """Each tool's (code, stdout, stderr), and the requests each sent (ours, then theirs)."""
    url, tmp = server
    Stub.seen.clear()
    ours = run_cfinval(url, tmp, args)
    mine = list(Stub.seen)
    Stub.seen.clear()
    theirs = run_aws(url, tmp, args)
    return ours, theirs, [mine, list(Stub.seen)]


CREATE = ["create-invalidation-for-distribution-tenant", "--id", "dt_web"]
BATCH_JSON = (
    '{"Paths": {"Quantity": 3, "Items": ["/index.html", "/a b/ü*", "#product:tv"]}, '
    '"CallerReference": "deploy-42"}'
)
BATCH_SHORTHAND = "Paths={Quantity=2,Items=[/index.html,/img/*]},CallerReference=deploy-43"
GET = ["get-invalidation-for-distribution-tenant", "--distribution-tenant-id", "dt_web"]

CASES: dict[str, list[str]] = {
    "create-json": [*CREATE, "--invalidation-batch", BATCH_JSON],
    "create-shorthand": [*CREATE, "--invalidation-batch", BATCH_SHORTHAND],
    "create-shorthand-one-path": [
        *CREATE,
        "--invalidation-batch",
        "Paths={Quantity=1,Items=/only},CallerReference=r1",
    ],
    "create-text": [*CREATE, "--invalidation-batch", BATCH_JSON, "--output", "text"],
    "create-table": [*CREATE, "--invalidation-batch", BATCH_JSON, "--output", "table"],
    "create-query": [*CREATE, "--invalidation-batch", BATCH_JSON, "--query", "Invalidation.Id"],
    "get": [*GET, "--id", "IDONE"],
    "get-text": [*GET, "--id", "IDONE", "--output", "text"],
    "get-table": [*GET, "--id", "IDONE", "--output", "table"],
}


@pytest.mark.parametrize("case", CASES)
def test_output_and_request_equal_the_aws_clis(server: tuple[str, Path], case: str) -> None:
    ours, theirs, (mine, aws) = both(server, CASES[case])
    assert theirs[0] == 0, theirs[2]
    assert ours == theirs  # exit code, stdout byte for byte, stderr
    assert [(m, p, b) for m, p, b in mine] == [(m, p, b) for m, p, b in aws]
    assert len(mine) == 1


def test_a_batch_from_a_file_is_read_as_the_aws_cli_reads_it(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "batch.json").write_text(BATCH_JSON)
    (tmp_path / "batch.txt").write_text(BATCH_SHORTHAND + "\n")
    for name in ("batch.json", "batch.txt"):
        args = [*CREATE, "--invalidation-batch", f"file://{tmp_path / name}"]
        ours, theirs, (mine, aws) = both(server, args)
        assert ours == theirs
        assert theirs[0] == 0
        assert mine == aws
    # fileb:// (bytes): awscli 1.46 fails on it for a structure ("'in <string>' requires
    # string as left operand, not int", exit 255); cfinval reads it as UTF-8 text.
    url, tmp = server
    binary = run_cfinval(
        url, tmp, [*CREATE, "--invalidation-batch", f"fileb://{tmp_path}/batch.json"]
    )
    text = run_cfinval(url, tmp, [*CREATE, "--invalidation-batch", f"file://{tmp_path}/batch.json"])
    assert binary == text
    assert binary[0] == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["dt_nope"], 254, "(EntityNotFound) when calling the CreateInvalidation"),
        (["dt_busy"], 254, "(TooManyInvalidationsInProgress) when calling the Create"),
    ],
)
def test_service_errors_print_as_the_aws_cli_prints_them(
    server: tuple[str, Path], args: list[str], code: int, message: str
) -> None:
    command = ["create-invalidation-for-distribution-tenant", "--id", *args]
    ours, theirs, _ = both(server, [*command, "--invalidation-batch", BATCH_JSON])
    assert (ours[1], ours[2]) == (theirs[1], theirs[2])
    assert message in ours[2]
    assert ours[0] == code  # AWS CLI v2's code for a service error
    assert theirs[0] == 255  # v1's


def test_get_of_a_missing_invalidation_is_a_service_error(server: tuple[str, Path]) -> None:
    ours, theirs, _ = both(server, [*GET, "--id", "INOPE"])
    assert (ours[1], ours[2]) == (theirs[1], theirs[2])
    assert ours[2] == (
        "\nAn error occurred (NoSuchInvalidation) when calling the "
        "GetInvalidationForDistributionTenant operation: No such invalidation.\n"
    )
    assert ours[0] == 254


def test_paths_send_the_batch_awscli_create_invalidation_builds(
    server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--paths`` is awscli's ``create-invalidation`` shorthand (not registered for the
    tenant command in awscli 1.46): compared with the same batch given in full."""
    monkeypatch.setattr(time, "time", lambda: 1_780_000_000.9)
    monkeypatch.setattr("random.randint", lambda low, high: 4242)
    assert caller_reference() == "cli-1780000000-4242"
    full = (
        '{"Paths": {"Quantity": 2, "Items": ["/index.html", "/img/*"]}, '
        '"CallerReference": "cli-1780000000-4242"}'
    )
    url, tmp = server
    Stub.seen.clear()
    ours = run_cfinval(url, tmp, [*CREATE, "--paths", "/index.html", "/img/*"])
    mine = list(Stub.seen)
    same, theirs, (_, aws) = both(server, [*CREATE, "--invalidation-batch", full])
    assert ours == same == theirs
    assert mine == aws
    with pytest.raises(SystemExit):  # awscli 1.46: the tenant command has no --paths
        run_aws(url, tmp, [*CREATE, "--paths", "/index.html"])
    from awscli.customizations.cloudfront import PathsArgument

    built: dict[str, Any] = {}
    PathsArgument().add_to_params(built, ["/index.html", "/img/*"])
    assert built == {"InvalidationBatch": __import__("json").loads(full)}


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ("{not json", "Error parsing parameter '--invalidation-batch': Invalid JSON:"),
        ("Paths=", "Parameter validation failed:"),
        ("Paths={Quantity=x,Items=[/a]},CallerReference=r", "must be an integer"),
        ("Paths={Quantity=1,Items=[a]},CallerReference=r", "must start with '/'"),
        ("Paths={Quantity=2,Items=[/a]},CallerReference=r", "Quantity'] is 2"),
        ("Paths={Items=[/a]}", 'Missing required parameter in InvalidationBatch: "Caller'),
        ('{"Paths": {"Items": ["/a"]}, "Extra": 1, "CallerReference": "r"}', '"Extra"'),
        ("file:///nonexistent/batch.json", "Unable to load paramfile file:///nonexistent"),
        ("a=b,,c", "Error parsing parameter '--invalidation-batch': Expected:"),
    ],
)
def test_a_bad_batch_exits_252_with_one_line_and_sends_nothing(
    server: tuple[str, Path], batch: str, message: str
) -> None:
    url, tmp = server
    Stub.seen.clear()
    code, out, err = run_cfinval(url, tmp, [*CREATE, "--invalidation-batch", batch])
    assert (code, out) == (252, "")
    assert message in err
    assert err.count("\n") == 2  # "\n" + one line
    assert Stub.seen == []


@pytest.mark.parametrize(
    ("paths", "message"),
    [(["index.html"], "Paths[0] must start with '/'"), (["/a", "#"], "Paths[1] is an empty")],
)
def test_bad_paths_exit_252_before_anything_is_sent(
    server: tuple[str, Path], paths: list[str], message: str
) -> None:
    url, tmp = server
    Stub.seen.clear()
    code, out, err = run_cfinval(url, tmp, [*CREATE, "--paths", *paths])
    assert (code, out, Stub.seen) == (252, "", [])
    assert err.startswith("\nParameter validation failed: ")
    assert message in err


WAIT = [
    "wait",
    "invalidation-for-distribution-tenant-completed",
    "--distribution-tenant-id",
    "dt_web",
    "--id",
]


@contextlib.contextmanager
def virtual_sleep() -> Iterator[list[float]]:
    slept: list[float] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "sleep", slept.append)
        yield slept


def test_wait_for_a_completed_invalidation_returns_at_once_silently(
    server: tuple[str, Path],
) -> None:
    with virtual_sleep() as slept:
        ours, theirs, (mine, aws) = both(server, [*WAIT, "IDONE"])
    assert ours == theirs == (0, "", "")
    assert len(mine) == len(aws) == 1
    assert slept == []


def test_wait_gives_up_after_the_aws_clis_calls_and_sleeps(server: tuple[str, Path]) -> None:
    url, tmp = server
    with virtual_sleep() as ours_slept:
        Stub.seen.clear()
        ours = run_cfinval(url, tmp, [*WAIT, "ISLOW"])
        ours_calls = len(Stub.seen)
    with virtual_sleep() as aws_slept:
        Stub.seen.clear()
        theirs = run_aws(url, tmp, [*WAIT, "ISLOW"])
        aws_calls = len(Stub.seen)
    assert ours_calls == aws_calls == 30
    assert ours_slept == aws_slept == [20] * 29
    assert (
        theirs[2]
        == "\nWaiter InvalidationForDistributionTenantCompleted failed: Max attempts exceeded\n"
    )
    # The AWS CLI's line, then how long it waited and what is still in progress.
    assert ours[2].startswith(theirs[2].rstrip("\n") + ": waited ")
    assert "invalidation ISLOW of distribution tenant dt_web is still InProgress" in ours[2]
    assert (ours[0], ours[1]) == (theirs[0], theirs[1]) == (255, "")


def test_ctrl_c_during_a_wait_exits_130(server: tuple[str, Path]) -> None:
    url, tmp = server

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "sleep", interrupted)
        code, out, err = run_cfinval(url, tmp, [*WAIT, "ISLOW"])
    assert (code, out, err) == (130, "\n", "")


def test_wait_on_an_error_answer_stops_at_once_as_the_aws_cli_does(
    server: tuple[str, Path],
) -> None:
    with virtual_sleep() as slept:
        ours, theirs, (mine, aws) = both(server, [*WAIT, "INOPE"])
    assert ours == theirs
    assert ours == (
        255,
        "",
        "\nWaiter InvalidationForDistributionTenantCompleted failed: An error occurred "
        "(NoSuchInvalidation): No such invalidation.\n",
    )
    assert len(mine) == len(aws) == 1
    assert slept == []


def test_the_created_time_is_printed_as_the_aws_cli_v2_prints_it(
    server: tuple[str, Path],
) -> None:
    ours, _, _ = both(server, CASES["get"])
    stamp = _dt.datetime(2026, 12, 4, 12, 0, 1, 250000, tzinfo=_dt.timezone.utc).isoformat()
    assert f'"CreateTime": "{stamp}"' in ours[1]
    assert isinstance(cfinval.Invalidation, type)


def test_create_wait_and_get_end_to_end_on_the_fake_with_signatures_checked(
    tmp_path: Path,
) -> None:
    """The fake checks SigV4 on bodies too; its invalidations complete at the second Get."""
    from cfinval.testing import FakeCloudFront

    (tmp_path / "config").write_text(
        "[default]\nregion = us-east-1\ncli_timestamp_format = iso8601\n"
    )
    fake = FakeCloudFront(complete_after_gets=1)
    fake.add_tenant("dt_live")
    with fake.serve() as served, virtual_sleep() as slept:
        url = served.endpoint_url
        code, out, err = run_cfinval(
            url, tmp_path, [*CREATE[:1], "--id", "dt_live", "--paths", "/a", "/b/*"]
        )
        assert (code, err) == (0, ""), err
        created = __import__("json").loads(out)["Invalidation"]
        assert created["Status"] == "InProgress"
        assert created["InvalidationBatch"]["CallerReference"].startswith("cli-")
        wait = [*WAIT[:3], "dt_live", "--id", created["Id"]]
        assert run_cfinval(url, tmp_path, wait) == (0, "", "")
        assert slept == [20]  # InProgress at the first Get, Completed at the second
        got = run_cfinval(
            url,
            tmp_path,
            [*GET[:2], "dt_live", "--id", created["Id"], "--query", "Invalidation.Status"],
        )
        assert got == (0, '"Completed"\n', "")
        theirs = run_aws(url, tmp_path, [*GET[:2], "dt_live", "--id", created["Id"]])
        assert theirs[0] == 0
        assert run_cfinval(url, tmp_path, [*GET[:2], "dt_live", "--id", created["Id"]]) == theirs
