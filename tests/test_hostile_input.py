"""Hostile and sloppy input: refused with a typed error before anything is sent, and the
command answers with one escaped line and the AWS CLI's exit code, never a traceback."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import cfinval
from cfinval._cli.errors import one_line
from cfinval._core.protocol import MAX_ID_LENGTH, MAX_MARKER_LENGTH
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

from .process import run_cfinval, run_main

OP = "list-invalidations-for-distribution-tenant"
CONTROL = ["\r", "\n", "\x00", "\t", "\x1b", "\x01", "\x1f", "\x7f", "\x85", "\x9f"]


@pytest.fixture
def fake() -> FakeCloudFront:
    fake = FakeCloudFront(seed=11)
    fake.add_invalidation("dt_1")
    return fake


def sync_call(fake: FakeCloudFront, **params: Any) -> Any:
    http = httpx.Client(transport=fake.transport())
    with cfinval.Client(FAKE_CREDENTIALS, http_client=http) as client:
        return client.list_invalidations_for_distribution_tenant(**params)


def async_call(fake: FakeCloudFront, **params: Any) -> Any:
    async def main() -> Any:
        http = httpx.AsyncClient(transport=fake.transport())
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, http_client=http) as client:
            return await client.list_invalidations_for_distribution_tenant(**params)

    return asyncio.run(main())


def _first(iterable: Any) -> Any:
    return next(iter(iterable))


CALLS = [
    pytest.param(sync_call, id="sync"),
    pytest.param(async_call, id="async"),
]


# --- length limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("name", ["Id", "Marker"])
def test_a_100000_character_value_is_refused_before_sending(
    call: Any, name: str, fake: FakeCloudFront
) -> None:
    params = {"Id": "dt_1", name: "x" * 100_000}
    with pytest.raises(cfinval.ParamValidationError, match="100,000 characters long; at most"):
        call(fake, **params)
    assert fake.requests == []


def test_an_over_long_id_is_refused_by_every_entry_point(fake: FakeCloudFront) -> None:
    long_id = "d" * (MAX_ID_LENGTH + 1)
    http = httpx.Client(transport=fake.transport())
    with cfinval.Client(FAKE_CREDENTIALS, http_client=http) as client:
        starts = (
            lambda: client.paginate(long_id),
            lambda: client.iter_invalidations(long_id),
            lambda: client.list_many([long_id]),
            lambda: client.wait_until_completed(long_id, timeout=0),
        )
        for start in starts:
            with pytest.raises(cfinval.ParamValidationError, match="characters long"):
                _first(start())
    assert fake.requests == []


@pytest.mark.parametrize(("name", "limit"), [("Id", MAX_ID_LENGTH), ("Marker", MAX_MARKER_LENGTH)])
def test_the_limit_itself_is_accepted(name: str, limit: int, fake: FakeCloudFront) -> None:
    assert limit == 1024
    params = {"Id": "dt_1", name: "x" * limit}
    with pytest.raises(cfinval.CloudFrontError):  # sent: the service answers for itself
        sync_call(fake, **params)
    assert len(fake.requests) == 1
    assert len(fake.requests[0].target) > limit


# --- counts -------------------------------------------------------------------------------------

HUGE = [10**5000, -(10**5000), 2**31]


def _count_starts(client: cfinval.Client, value: int) -> dict[str, Any]:
    return {
        "MaxItems": lambda: client.list_invalidations_for_distribution_tenant(
            "dt_1", MaxItems=value
        ),
        "page_size": lambda: _first(client.paginate("dt_1", page_size=value)),
        "max_items": lambda: _first(client.paginate("dt_1", max_items=value)),
        "items max_items": lambda: _first(client.iter_invalidations("dt_1", max_items=value)),
        "max_items_per_tenant": lambda: client.list_many(["dt_1"], max_items_per_tenant=value),
        "concurrency": lambda: client.list_many(["dt_1"], concurrency=value),
    }


@pytest.mark.parametrize("value", HUGE, ids=["10**5000", "-10**5000", "2**31"])
@pytest.mark.parametrize(
    "name",
    [
        "MaxItems",
        "page_size",
        "max_items",
        "items max_items",
        "max_items_per_tenant",
        "concurrency",
    ],
)
def test_an_absurd_count_is_refused_before_sending(
    name: str, value: int, fake: FakeCloudFront
) -> None:
    http = httpx.Client(transport=fake.transport())
    with (
        cfinval.Client(FAKE_CREDENTIALS, http_client=http) as client,
        pytest.raises(cfinval.ParamValidationError) as caught,
    ):
        _count_starts(client, value)[name]()
    text = str(caught.value)
    assert text.startswith(f"{name.split()[-1]} must be a positive int")
    assert len(text) < 200  # the value is described, not written out in 5,000 digits
    assert fake.requests == []


def test_the_count_limit_itself_is_sent_and_the_service_answers_for_itself(
    fake: FakeCloudFront,
) -> None:
    for value in (5000, 2**31 - 1):
        with pytest.raises(cfinval.InvalidArgument, match="MaxItems must be an integer from 1"):
            sync_call(fake, Id="dt_1", MaxItems=value)
    assert [r.target.rsplit("MaxItems=", 1)[1] for r in fake.requests] == ["5000", "2147483647"]


def test_cli_refuses_a_count_past_the_limit_with_252() -> None:
    done = run_cfinval(
        OP, "--id", "dt_1", "--max-items", str(2**31), "--endpoint-url", "http://127.0.0.1:9"
    )
    assert done.returncode == 252
    assert done.stderr.strip().startswith("Parameter validation failed: max_items must be")


# --- control characters -------------------------------------------------------------------------


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("name", ["Id", "Marker"])
@pytest.mark.parametrize("char", CONTROL)
def test_control_characters_are_refused_before_sending(
    call: Any, name: str, char: str, fake: FakeCloudFront
) -> None:
    params = {"Id": "dt_1", name: f"I2J{char}X"}
    with pytest.raises(cfinval.ParamValidationError) as caught:
        call(fake, **params)
    assert str(caught.value) == (
        f"{name} must not contain control characters: {char!r} at position 3"
    )
    assert char not in str(caught.value)
    assert fake.requests == []


def test_printable_unicode_is_still_sent(fake: FakeCloudFront) -> None:
    fake.add_tenant("dt_é 日本/?#%")
    page = sync_call(fake, Id="dt_é 日本/?#%")
    assert page.items == ()


def test_one_line_escapes_what_a_terminal_would_act_on() -> None:
    assert one_line("a\r\nb\x00c\x1b[2Jd\x7fe\x85f\u202eg\th é 日本") == (
        "a\\r\\nb\\x00c\\x1b[2Jd\\x7fe\\x85f\\u202eg\\th é 日本"
    )


@pytest.mark.parametrize("value", ["dt_1\r\nINJECTED", "dt_\x1b[2J\x1b[31mred\x9bx"])
def test_cli_refuses_control_characters_with_252_and_one_escaped_line(value: str) -> None:
    done = run_main(OP, "--id", value, "--endpoint-url", "http://127.0.0.1:9")
    assert done.returncode == 252
    assert done.stdout == ""
    lines = done.stderr.strip("\n").split("\n")
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Parameter validation failed: Id must not contain control")
    assert not any(char in done.stderr for char in "\r\x1b\x9b")


def test_cli_refuses_a_100000_character_id_with_252() -> None:
    done = run_main(OP, "--id", "x" * 100_000, "--endpoint-url", "http://127.0.0.1:9")
    assert done.returncode == 252
    assert done.stderr.strip() == (
        "Parameter validation failed: Id is 100,000 characters long; at most 1,024 are accepted"
    )


def test_cli_escapes_what_a_hostile_service_says(
    fake: FakeCloudFront, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfinval._cli import main
    from cfinval.testing import Fault

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS.secret_access_key)
    # XML allows C1 controls (CSI is \x9b) and bidi overrides; \r\n arrives as \n
    fake.add_fault(Fault.error(403, "AccessDenied", "no\r\n\x9b2J\u202eaccess"))
    with fake.serve() as server:
        code = main([OP, "--id", "dt_1", "--endpoint-url", server.endpoint_url])
    err = capsys.readouterr().err
    assert code == 254
    assert err.strip() == (
        "An error occurred (AccessDenied) when calling the ListInvalidationsForDistributionTenant "
        "operation: no\\n\\x9b2J\\u202eaccess"
    )


# --- the command's own failures -----------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_fake_server_with_an_impossible_port_exits_252_in_one_line(port: str) -> None:
    done = run_main("fake-server", "--port", port)
    assert done.returncode == 252
    assert done.stderr.strip() == (f"--port must be 0 to 65535 (0: any free port), got {int(port)}")
    assert done.stdout == ""


@pytest.fixture
def served(fake: FakeCloudFront) -> Iterator[str]:
    with fake.serve() as server:
        yield server.endpoint_url


def test_a_full_stdout_exits_255_in_one_line(served: str) -> None:
    with open("/dev/full", "w") as full:
        done = run_cfinval(
            OP, "--id", "dt_1", "--endpoint-url", served, stdout=full, stderr=subprocess.PIPE
        )
    assert done.returncode == 255
    assert done.stderr.strip() == "cannot write the output: No space left on device"


def test_a_closed_stdout_exits_255_in_one_line(served: str) -> None:
    done = run_cfinval(
        *(OP, "--id", "dt_1", "--endpoint-url", served),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        close_stdout=True,
    )
    assert done.returncode == 255
    assert done.stderr.strip() == "cannot write the output: standard output is closed"


def test_fake_server_with_a_full_stdout_exits_255_and_stops() -> None:
    with open("/dev/full", "w") as full:
        done = run_cfinval("fake-server", stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 255
    assert done.stderr.strip() == "cannot write the output: No space left on device"


def test_help_to_a_full_stdout_does_not_print_a_traceback() -> None:
    with open("/dev/full", "w") as full:
        done = run_cfinval("--help", stdout=full, stderr=subprocess.PIPE)
    assert "Traceback" not in done.stderr  # argparse drops what it cannot write


# --- a bad region: a configuration error like the others, as in the AWS CLI ----------------------


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {"AWS_DEFAULT_REGION": "us east"}, "AWS_DEFAULT_REGION is not a valid region name"),
        (["--region", "us east"], {}, "--region is not a valid region name"),
        ([], {"AWS_MAX_ATTEMPTS": "x"}, "max_attempts from AWS_MAX_ATTEMPTS must be an integer"),
    ],
)
def test_configuration_errors_exit_255_in_one_line_naming_the_setting(
    args: list[str], env: dict[str, str], message: str
) -> None:
    done = run_main(OP, "--id", "dt_1", "--endpoint-url", "http://127.0.0.1:9", *args, env=env)
    assert done.returncode == 255  # the AWS CLI's code for each of these
    assert done.stderr.strip().startswith(message), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
