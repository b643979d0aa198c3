"""The ``cfinval`` command: arguments, exit codes, audit, wait, and what it never does.

Output parity with the AWS CLI is in ``test_cli_awscli.py``; these tests cover the rest
against an in-process fake on loopback.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import cfinval
from cfinval import _cli as _cli
from cfinval._cli import main
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

OP = "list-invalidations-for-distribution-tenant"
ROOT = Path(cfinval.__file__).resolve().parent.parent


@pytest.fixture
def fake() -> FakeCloudFront:
    fake = FakeCloudFront()
    base = _dt.datetime(2026, 2, 1, tzinfo=_dt.timezone.utc)
    for n in range(6):
        fake.add_invalidation(
            "dt_a",
            f"IA{n}",
            create_time=base + _dt.timedelta(minutes=n),
            status="InProgress" if n == 5 else "Completed",
        )
    for n in range(3):
        fake.add_invalidation("dt_b", f"IB{n}", create_time=base + _dt.timedelta(minutes=n))
    fake.add_tenant("dt_locked", access_denied=True)
    return fake


@pytest.fixture
def url(fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS.secret_access_key)
    with fake.serve() as server:
        yield server.endpoint_url


def run(
    capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        import io

        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(args))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


# --- arguments and exit codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "required: <command>"),
        ([OP], "required: --id"),
        ([OP, "--id", "x", "--max-items", "abc"], "--max-items: invalid int value"),
        ([OP, "--id", "x", "--max-items", "0"], "--max-items: must be a positive integer"),
        ([OP, "--id", "x", "--page-size", "-4"], "--page-size: must be a positive integer"),
        ([OP, "--id", "x", "--output", "xml"], "invalid choice: 'xml'"),
        ([OP, "--id", "x", "--bogus"], "unrecognized arguments: --bogus"),
        (["wait", "--id", "x", "--poll", "0"], "must be more than zero"),
        ([OP, "--id", "x", "--cli-read-timeout", "-1"], "must be zero or more"),
        ([OP, "--id", "x", "--cli-connect-timeout", "soon"], "invalid number of seconds"),
        (["fake-server", "--tenants", "1", "--seed-file", "f"], "not allowed with argument"),
    ],
)
def test_bad_arguments_print_usage_and_exit_252(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    err = capsys.readouterr().err
    assert exited.value.code == 252
    assert err.startswith("usage: cfinval")
    assert message in err
    assert "Traceback" not in err


def test_no_paginate_refuses_paging_arguments_before_any_request(
    capsys: pytest.CaptureFixture[str], url: str, fake: FakeCloudFront
) -> None:
    code, out, err = run(
        capsys,
        OP,
        "--endpoint-url",
        url,
        "--id",
        "dt_a",
        "--no-paginate",
        "--page-size",
        "2",
        "--starting-token",
        "abc",
    )
    assert code == 252
    assert err == (
        "\nCannot specify --no-paginate along with pagination arguments: "
        "--starting-token, --page-size\n"
    )
    assert out == ""
    assert fake.requests == []


def test_a_bad_starting_token_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], url: str, fake: FakeCloudFront
) -> None:
    token = "eyJOb3QiOiAiYSB0b2tlbiJ9"  # base64 of {"Not": "a token"}
    code, _, err = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a", "--starting-token", token)
    assert code == 252
    assert "Parameter validation failed" in err
    assert fake.requests == []


def test_global_options_work_before_and_after_the_command(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    before = run(capsys, "--output", "text", "--endpoint-url", url, OP, "--id", "dt_b")
    after = run(capsys, OP, "--id", "dt_b", "--output", "text", "--endpoint-url", url)
    assert before == after
    assert before[1].startswith("ITEMS\t2026-02-01T00:02:00+00:00\tIB2\tCompleted\n")


def test_aws_default_output_is_honoured_and_checked(
    capsys: pytest.CaptureFixture[str], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_OUTPUT", "text")
    code, out, _ = run(capsys, OP, "--endpoint-url", url, "--id", "dt_b", "--max-items", "1")
    assert (code, out.splitlines()[0]) == (0, "ITEMS\t2026-02-01T00:02:00+00:00\tIB2\tCompleted")
    monkeypatch.setenv("AWS_DEFAULT_OUTPUT", "xml")
    code, _, err = run(capsys, OP, "--endpoint-url", url, "--id", "dt_b")
    assert (code, err) == (255, "\nUnknown output type: xml\n")  # the AWS CLI's words


def test_the_raw_marker_makes_one_call_and_prints_its_response(
    capsys: pytest.CaptureFixture[str], url: str, fake: FakeCloudFront
) -> None:
    code, out, _ = run(
        capsys, OP, "--endpoint-url", url, "--id", "dt_a", "--marker", "IA4", "--max-items", "2"
    )
    assert code == 0
    page = json.loads(out)["InvalidationList"]
    assert page["Marker"] == "IA4"
    assert [item["Id"] for item in page["Items"]] == ["IA3", "IA2"]
    assert len(fake.requests) == 1


def test_missing_credentials_exit_253_without_a_request(
    capsys: pytest.CaptureFixture[str],
    url: str,
    fake: FakeCloudFront,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    code, out, err = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a")
    assert code == 253
    assert "Unable to locate credentials" in err
    assert out == ""
    assert fake.requests == []


def test_access_denied_is_a_service_error(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, _, err = run(capsys, OP, "--endpoint-url", url, "--id", "dt_locked")
    assert code == 254
    assert "An error occurred (AccessDenied) when calling the " in err


def test_a_network_failure_exits_255(capsys: pytest.CaptureFixture[str], url: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = run(capsys, OP, "--endpoint-url", f"http://127.0.0.1:{port}", "--id", "dt_a")
    assert code == 255
    assert err == (
        f'\nCould not connect to the endpoint URL: "http://127.0.0.1:{port}/2020-05-31/'
        'distribution-tenant/dt_a/invalidation"\n'
    )


def test_the_read_timeout_option_reaches_the_client(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        code, _, err = run(
            capsys,
            OP,
            "--endpoint-url",
            f"http://127.0.0.1:{port}",
            "--id",
            "dt_a",
            "--cli-read-timeout",
            "0.05",
        )
    assert code == 255
    assert err.startswith('\nRead timeout on endpoint URL: "http://127.0.0.1:')


def test_a_profile_the_client_cannot_use_fails_cleanly(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, _, err = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a", "--profile", "nope")
    assert code != 0
    assert "profile" in err
    assert "Traceback" not in err


def test_debug_logs_to_stderr_without_secrets(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, err = run(capsys, "--debug", OP, "--endpoint-url", url, "--id", "dt_a")
    assert code == 0
    assert json.loads(out)["InvalidationList"]["Items"][0]["Id"] == "IA5"
    assert " - cfinval - DEBUG - cfinval/" in err
    assert "request-id fake-" in err
    assert "HTTP Request: GET" in err
    assert FAKE_CREDENTIALS.secret_access_key not in err
    assert "Signature=" not in err


def test_an_invalid_query_is_a_usage_error(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, err = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a", "--query", "Items[?")
    assert code == 252
    assert err.startswith("\nBad value for --query Items[?: ")
    assert out == ""


def test_a_query_reshapes_the_output(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, _ = run(
        capsys, OP, "--endpoint-url", url, "--id", "dt_b", "--query", "InvalidationList.Items[0].Id"
    )
    assert (code, out) == (0, '"IB2"\n')


def test_a_broken_pipe_is_not_an_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def closed_pipe(*args: object) -> int:
        raise BrokenPipeError

    monkeypatch.setattr(_cli, "_run", closed_pipe)
    assert main([OP, "--id", "dt_a"]) == 0


def test_keyboard_interrupt_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(args: object, out: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(_cli, "_cmd_list", interrupted)
    code, out, _ = run(capsys, OP, "--id", "dt_a")
    assert (code, out) == (130, "\n")


def _help_of(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the command, expecting help on stdout and exit code 0."""
    try:
        code = main(list(args))
    except SystemExit as exited:
        code = exited.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    return out


@pytest.mark.parametrize("args", [["help"], ["--output", "text", "help"], ["--help"]])
def test_help_word_prints_the_command_list_and_exits_0(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    out = _help_of(capsys, *args)
    assert out.startswith("usage: cfinval")
    for command in (OP, "audit", "wait", "fake-server"):
        assert command in out


@pytest.mark.parametrize("command", [OP, "audit", "wait", "fake-server"])
@pytest.mark.parametrize("form", ["<command> help", "<command> --id x help", "help <command>"])
def test_command_help_word_prints_that_command_s_help_and_exits_0(
    capsys: pytest.CaptureFixture[str], command: str, form: str
) -> None:
    args = form.replace("<command>", command).split()
    if command == "fake-server":
        args = [arg for arg in args if arg not in ("--id", "x")]
    out = _help_of(capsys, *args)
    assert out.startswith(f"usage: cfinval {command}")
    assert "options:" in out


def test_a_stray_word_after_a_command_is_still_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["wait", "--id", "x", "helpme"])
    assert exited.value.code == 252
    assert "unrecognized arguments: helpme" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["help"], ["wait", "help"]])
def test_help_words_to_a_full_stdout_print_no_traceback(args: list[str]) -> None:
    # Python 3.10's argparse lets the write error escape from print_help().
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "cfinval", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
    assert "Traceback" not in done.stderr


def test_wait_help_shows_the_poll_and_timeout_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    out = " ".join(_help_of(capsys, "wait", "help").split())  # argparse wraps lines
    assert "--poll SECONDS seconds between two reads of the listing (default: 20)" in out
    assert "--timeout SECONDS give up after this many seconds, exit code 255 (default: 600)" in out


def test_a_query_beyond_the_subset_names_the_package_to_install(
    capsys: pytest.CaptureFixture[str], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "jmespath", None)  # `import jmespath` now fails
    query = "InvalidationList.Items[?Status=='InProgress'].Id"
    code, out, err = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a", "--query", query)
    assert (code, out) == (252, "")
    assert err.startswith(f"\nBad value for --query {query}: unsupported syntax")
    assert err.rstrip().endswith("(for full JMESPath: pip install jmespath)")
    assert len(err.strip().splitlines()) == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"cfinval/{cfinval.__version__} Python/")


# --- audit ----------------------------------------------------------------------------------------


def test_audit_prints_per_tenant_counts_in_input_order(
    capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("# tenants\ndt_b\n\n  dt_a  \ndt_missing\ndt_locked\ndt_b\n")
    code, out, err = run(capsys, "audit", "--endpoint-url", url, "--ids-file", str(ids))
    assert code == 254  # some tenants failed
    assert err == ""
    assert json.loads(out) == {
        "Tenants": [
            {"Id": "dt_b", "InProgress": 0, "Completed": 3, "Total": 3},
            {"Id": "dt_a", "InProgress": 1, "Completed": 5, "Total": 6},
            {
                "Id": "dt_missing",
                "Error": {
                    "Code": "EntityNotFound",
                    "Message": "The distribution tenant dt_missing does not exist.",
                },
            },
            {"Id": "dt_locked", "Error": {"Code": "AccessDenied", "Message": "Access denied."}},
        ]
    }


def test_audit_reads_stdin_and_exits_0_when_every_tenant_listed(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, _ = run(
        capsys,
        "audit",
        "--endpoint-url",
        url,
        "--output",
        "text",
        "--max-items-per-tenant",
        "2",
        "--concurrency",
        "1",
        stdin="dt_a\ndt_b\n",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("\t")[:4] == ["TENANTS", "1", "dt_a", "1"]  # IA5 in progress, IA4
    assert lines[1].split("\t")[:4] == ["TENANTS", "2", "dt_b", "0"]
    assert all(len(line.split("\t")) == 6 for line in lines)  # ... NextToken, Total


def test_audit_without_ids_or_with_an_unreadable_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "audit", "--endpoint-url", url, stdin="# nothing\n\n")
    assert code == 252
    assert "no tenant Ids" in err
    code, _, err = run(capsys, "audit", "--ids-file", str(tmp_path / "absent.txt"))
    assert code == 252
    assert "cannot read --ids-file" in err


def canned_pages(count: int) -> httpx.MockTransport:
    """A transport answering one tenant's listing of ``count`` invalidations (every 10th in
    progress) in pages of 100 rendered beforehand, so that measuring memory sees only the
    client's."""
    ns = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
    ids = [f"I{n:013d}" for n in range(count)]
    bodies: dict[str, bytes] = {}
    for start in range(0, count, 100):
        chunk = ids[start : start + 100]
        more = start + 100 < count
        items = "".join(
            f"<InvalidationSummary><Id>{i}</Id><CreateTime>2026-02-01T00:00:00Z</CreateTime>"
            f"<Status>{'InProgress' if i.endswith('0') else 'Completed'}</Status>"
            "</InvalidationSummary>"
            for i in chunk
        )
        marker = ids[start - 1] if start else ""
        bodies[marker] = (
            f'<InvalidationList xmlns="{ns}"><Marker>{marker}</Marker>'
            + (f"<NextMarker>{chunk[-1]}</NextMarker>" if more else "")
            + f"<MaxItems>100</MaxItems><IsTruncated>{str(more).lower()}</IsTruncated>"
            f"<Quantity>{len(chunk)}</Quantity><Items>{items}</Items></InvalidationList>"
        ).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies[request.url.params.get("Marker", "")])

    return httpx.MockTransport(answer)


def audit_peak(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, count: int
) -> int:
    """Peak memory of ``cfinval audit --output text`` over a tenant of ``count``."""
    transport = canned_pages(count)
    monkeypatch.setattr(
        _cli,
        "_client",
        lambda args: cfinval.Client(
            FAKE_CREDENTIALS, http_client=httpx.Client(transport=transport)
        ),
    )
    tracemalloc.start()
    try:
        code, out, _ = run(capsys, "audit", "--output", "text", stdin="dt_big\n")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 0
    in_progress = count // 10
    assert out == f"TENANTS\t{count - in_progress}\tdt_big\t{in_progress}\t{count}\n"
    return peak


def test_audit_memory_stays_flat_whatever_the_listing_size(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    audit_peak(capsys, monkeypatch, 10)  # imports and first-use caches out of the way
    small = audit_peak(capsys, monkeypatch, 100)
    large = audit_peak(capsys, monkeypatch, 10_000)
    # Keeping 10,000 summaries took 2.4 MiB more. What remains: a second page in flight and the
    # standard library's URL cache (bounded, one entry per page URL).
    assert large - small < 640 * 1024, (small, large)


# --- wait -----------------------------------------------------------------------------------------


def test_wait_exits_0_silently_once_completed(
    capsys: pytest.CaptureFixture[str], url: str, fake: FakeCloudFront
) -> None:
    code, out, err = run(
        capsys, "wait", "--endpoint-url", url, "--id", "dt_a", "--invalidation-ids", "IA1", "IA2"
    )
    assert (code, out, err) == (0, "", "")


def test_wait_timeout_exits_255_with_the_pending_ids(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run(capsys, "wait", "--endpoint-url", url, "--id", "dt_a", "--timeout", "0")
    assert code == 255
    assert out == ""
    assert err.startswith("\nWaiter failed: timed out after ")  # the time it took (monotonic)
    assert " s (timeout 0 s, 1 poll(s)) waiting for 1 invalidation(s) of tenant 'dt_a' " in err
    assert "IA5" in err


def test_wait_for_a_missing_tenant_is_a_service_error(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, _, err = run(capsys, "wait", "--endpoint-url", url, "--id", "dt_missing")
    assert code == 254
    assert "(EntityNotFound)" in err


# --- process-level behaviour ----------------------------------------------------------------------


def test_import_cfinval_loads_neither_the_command_line_nor_fan_out_nor_waiting() -> None:
    """Nor the tenant workflow's operations and models: a listing's cold start (a Lambda's)
    does not build them; ``cfinval.Invalidation`` and the rest import them when first used."""
    probe = (
        "import sys, cfinval; "
        "print([m for m in ('argparse', 'cfinval._cli', 'cfinval._cli.output', "
        "'cfinval._cli.query', 'cfinval._cli.fake_server', 'cfinval.testing', "
        "'cfinval._core.fanout', 'cfinval._core.watch', 'cfinval._core.waiter', "
        "'cfinval._core.tenants', 'cfinval._tenant_models', 'cfinval._invalidation_models', "
        "'cfinval._core.invalidations', 'cfinval._core.deploy', 'cfinval._drivers.deploy') "
        "if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_the_console_script_is_declared() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    module, _, function = project["scripts"]["cfinval"].partition(":")
    assert getattr(__import__(module, fromlist=[function]), function) is main


def test_a_closed_pipe_ends_quietly(url: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "cfinval", OP, "--endpoint-url", url, "--id", "dt_a"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.read(10)
    process.stdout.close()
    code = process.wait(timeout=30)
    err = process.stderr.read()
    process.stderr.close()
    assert code == 0
    assert b"Traceback" not in err


def test_ids_from_stdin_that_are_not_utf8_are_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    stdin = io.TextIOWrapper(io.BytesIO(b"dt_1\n\xff\xfe\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    code = main(["audit", "--ids-file", "-", "--endpoint-url", "http://127.0.0.1:9"])
    _, err = capsys.readouterr()
    assert code == 252
    assert len(err.strip().splitlines()) == 1
    assert "cannot read --ids-file -" in err
    assert "Traceback" not in err
