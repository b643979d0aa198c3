"""The ``cfinval`` command prints what the AWS CLI prints, against the same ``cfinval fake-server``.

The oracle is the real AWS CLI v1 (``awscli`` in the test extra; from 1.46 it bundles a
botocore that knows ``ListInvalidationsForDistributionTenant``), configured with
``cli_timestamp_format = iso8601`` so that it prints timestamps as AWS CLI v2 does. The fake
server is started as ``python -m cfinval fake-server`` and stopped with SIGTERM.

Exit codes differ by design: cfinval uses AWS CLI v2's codes (254 for a service error), the v1
oracle uses 255.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cfinval
from cfinval._cli import main
from cfinval._core.pagination import decode_token
from cfinval.testing import FAKE_CREDENTIALS

_BEFORE = os.environ.get("AWS_DATA_PATH")
try:
    from awscli.botocore.session import get_session as _aws_session  # awscli >= 1.44

    _AWS_KNOWS_OP = (
        "ListInvalidationsForDistributionTenant"
        in _aws_session().get_service_model("cloudfront").operation_names
    )
except ImportError:  # pragma: no cover - depends on the installed test extra
    _AWS_KNOWS_OP = False
# Importing awscli points AWS_DATA_PATH at its own data (awscli/data); set that only for our
# in-process runs of it, not for every other test of the session.
if _BEFORE is None:
    os.environ.pop("AWS_DATA_PATH", None)
else:  # pragma: no cover - only when the caller set it
    os.environ["AWS_DATA_PATH"] = _BEFORE

pytestmark = pytest.mark.skipif(
    not _AWS_KNOWS_OP,
    reason="needs awscli >= 1.46, whose bundled botocore knows this operation",
)

OP = "list-invalidations-for-distribution-tenant"
ROOT = Path(cfinval.__file__).resolve().parent.parent
Result = tuple[int, str, str]


def seed() -> dict[str, object]:
    base = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    big = []
    for n in range(250):
        created = base + _dt.timedelta(minutes=n, milliseconds=123 if n % 3 == 0 else 0)
        big.append(
            {
                "Id": f"I{n:05d}EXAMPLE",
                "CreateTime": created.isoformat().replace("+00:00", "Z"),
                "Status": "InProgress" if n % 50 == 49 else "Completed",
            }
        )
    return {"tenants": {"dt_big": big, "dt_empty": []}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``cfinval fake-server`` with the seed above; yields its URL and a temp dir."""
    tmp = tmp_path_factory.mktemp("awscli")
    seed_file = tmp / "seed.json"
    seed_file.write_text(json.dumps(seed()))
    (tmp / "config").write_text("[default]\nregion = us-east-1\ncli_timestamp_format = iso8601\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "cfinval", "fake-server", "--seed-file", str(seed_file)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    try:
        first = process.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:"), first
        yield url, tmp
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
        rest = process.stdout.read()
        process.stdout.close()
        assert code == 0
        assert rest.endswith("stopped\n")


def env(tmp: Path) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("PYTHONPATH",)
    }
    return {
        **clean,
        "AWS_CONFIG_FILE": str(tmp / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-credentials"),
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS.access_key_id,
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS.secret_access_key,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def start_aws_process(url: str, tmp: Path, args: list[str]) -> subprocess.Popen[str]:
    """The ``aws`` executable's code path, in a separate process (slow: ~1 s to start)."""
    return subprocess.Popen(
        [sys.executable, "-m", "awscli", "cloudfront", OP, "--endpoint-url", url, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(tmp),
    )


@contextlib.contextmanager
def aws_environment(tmp: Path) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        for key in [k for k in os.environ if k.startswith("AWS_")]:
            patch.delenv(key)
        for key, value in env(tmp).items():
            if key.startswith("AWS_"):
                patch.setenv(key, value)
        if _AWS_KNOWS_OP:
            import awscli

            patch.setenv("AWS_DATA_PATH", str(Path(awscli.__file__).parent / "data"))
        yield out, err


_AWS_LOADER: Any = None


def aws_cli(tmp: Path, argv: list[str]) -> Result:
    """``aws cloudfront *argv`` in this process: what its ``aws`` script runs
    (``clidriver.main``), without paying its start-up for every case.
    ``test_in_process_aws_matches_the_aws_executable`` checks that this is the same as running
    the executable."""
    from awscli.clidriver import create_clidriver

    global _AWS_LOADER
    with aws_environment(tmp) as (out, err), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the oracle's own deprecation noise is not ours
        driver = create_clidriver()
        # One data loader for every run (it only reads the JSON models, the same each time):
        # each fresh one would list and parse them again.
        if _AWS_LOADER is None:
            _AWS_LOADER = driver.session.get_component("data_loader")
        else:
            driver.session.register_component("data_loader", _AWS_LOADER)
        code = driver.main(["cloudfront", *argv])
    return code, out.getvalue(), err.getvalue()


def cfinval_cli(tmp: Path, argv: list[str]) -> Result:
    """``cfinval *argv`` in this process, in the same environment as :func:`aws_cli`."""
    with aws_environment(tmp) as (out, err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def run_aws(url: str, tmp: Path, args: list[str]) -> Result:
    return aws_cli(tmp, [OP, "--endpoint-url", url, *args])


def run_cfinval(url: str, tmp: Path, args: list[str]) -> Result:
    return cfinval_cli(tmp, [OP, "--endpoint-url", url, *args])


CASES: dict[str, list[str]] = {
    "default": ["--id", "dt_big"],
    "max-items": ["--id", "dt_big", "--max-items", "130"],
    "max-items-page-boundary": ["--id", "dt_big", "--max-items", "100"],
    "page-size-max-items": ["--id", "dt_big", "--page-size", "40", "--max-items", "90"],
    "no-paginate": ["--id", "dt_big", "--no-paginate"],
    "no-paginate-max-items": ["--id", "dt_big", "--no-paginate", "--max-items", "5"],
    "empty": ["--id", "dt_empty"],
    "empty-no-paginate": ["--id", "dt_empty", "--no-paginate"],
    "missing": ["--id", "dt_nope"],
    "text": ["--id", "dt_big", "--max-items", "130", "--output", "text"],
    "text-no-paginate": ["--id", "dt_big", "--no-paginate", "--max-items", "3", "--output", "text"],
    # A cut on a page boundary: both tools then write the same token, and the table's
    # column widths (which follow the longest cell, the token) match byte for byte.
    "table": ["--id", "dt_big", "--page-size", "3", "--max-items", "3", "--output", "table"],
    "table-no-paginate": [
        "--id",
        "dt_big",
        "--no-paginate",
        "--max-items",
        "2",
        "--output",
        "table",
    ],
    "query": ["--id", "dt_big", "--max-items", "5", "--query", "InvalidationList.Items[].Id"],
    "query-type-error": ["--id", "dt_big", "--max-items", "5", "--query", "length(NextToken[0])"],
}


# Base64 of a JSON object: a pagination token, in JSON, text or table output.
_TOKEN = re.compile(r"eyJ[A-Za-z0-9+/]+=*")
#: dt_big newest first (the seed creates I00000... one minute apart).
_LISTING = [f"I{n:05d}EXAMPLE" for n in reversed(range(250))]


def resumable(output: str) -> str:
    """``output`` with each token replaced by where a listing resumed from it starts.

    Tokens are interchangeable, not identical: after a cut inside a page the AWS CLI's names
    the page and a count to skip, ours the last Id handed out (exact even when invalidations
    arrive at the head). Both must resume at the same item.
    """

    def position(match: re.Match[str]) -> str:
        marker, skip = decode_token(match.group())
        start = 0 if marker is None else _LISTING.index(marker) + 1
        return f"<token: resume at item {start + skip}>"

    return _TOKEN.sub(position, output)


@pytest.fixture(scope="module")
def outputs(server: tuple[str, Path]) -> dict[str, tuple[Result, Result]]:
    """Every case run by both tools, and the resume legs: each tool continues from the other
    tool's NextToken."""
    url, tmp = server
    ours = {name: run_cfinval(url, tmp, args) for name, args in CASES.items()}
    our_token = json.loads(ours["max-items"][1])["NextToken"]
    resume = ["--id", "dt_big", "--max-items", "70", "--starting-token"]
    jobs = dict(CASES)
    jobs["aws-resumes-cfinval-token"] = [*resume, our_token]
    jobs["aws-resumes-cfinval-token-to-end"] = ["--id", "dt_big", "--starting-token", our_token]
    theirs = {name: run_aws(url, tmp, args) for name, args in jobs.items()}
    aws_token = json.loads(theirs["max-items"][1])["NextToken"]
    ours["aws-resumes-cfinval-token"] = run_cfinval(url, tmp, [*resume, aws_token])
    ours["aws-resumes-cfinval-token-to-end"] = run_cfinval(
        url, tmp, ["--id", "dt_big", "--starting-token", aws_token]
    )
    return {name: (ours[name], theirs[name]) for name in jobs}


@pytest.mark.parametrize(
    "case",
    [
        "default",
        "max-items",
        "max-items-page-boundary",
        "page-size-max-items",
        "no-paginate",
        "no-paginate-max-items",
        "empty-no-paginate",
        "query",
        "aws-resumes-cfinval-token",
        "aws-resumes-cfinval-token-to-end",
    ],
)
def test_json_output_equals_the_aws_cli(
    outputs: dict[str, tuple[Result, Result]], case: str
) -> None:
    (our_code, our_out, our_err), (aws_code, aws_out, aws_err) = outputs[case]
    assert aws_code == 0, aws_err
    assert (our_code, our_err) == (0, "")
    assert json.loads(resumable(our_out)) == json.loads(resumable(aws_out))
    # byte for byte (indentation, key order, non-ASCII, timestamps), tokens resuming alike
    assert resumable(our_out) == resumable(aws_out)


def test_the_compared_listings_are_not_trivial(
    outputs: dict[str, tuple[Result, Result]],
) -> None:
    full = json.loads(outputs["default"][0][1])["InvalidationList"]["Items"]
    assert len(full) == 250
    stamps = {item["CreateTime"] for item in full}
    assert "2026-01-01T04:09:00.123000+00:00" in stamps  # fraction kept, as v2 prints it
    assert "2026-01-01T04:08:00+00:00" in stamps  # whole seconds: no fraction
    cut = json.loads(outputs["max-items"][0][1])
    assert len(cut["InvalidationList"]["Items"]) == 130
    assert "NextToken" in cut
    no_page = json.loads(outputs["no-paginate"][0][1])["InvalidationList"]
    assert no_page["IsTruncated"] is True
    assert no_page["Quantity"] == 100


def test_each_tool_resumes_from_the_other_tools_token(
    outputs: dict[str, tuple[Result, Result]],
) -> None:
    first = json.loads(outputs["max-items"][0][1])
    ours = json.loads(outputs["aws-resumes-cfinval-token"][0][1])  # cfinval, aws's token
    theirs = json.loads(outputs["aws-resumes-cfinval-token"][1][1])  # aws, cfinval's token
    assert ours["InvalidationList"] == theirs["InvalidationList"]
    assert resumable(ours["NextToken"]) == resumable(theirs["NextToken"])
    everything = json.loads(outputs["default"][0][1])["InvalidationList"]["Items"]
    assert (
        first["InvalidationList"]["Items"] + ours["InvalidationList"]["Items"] == everything[:200]
    )
    to_end = json.loads(outputs["aws-resumes-cfinval-token-to-end"][0][1])
    assert to_end["InvalidationList"]["Items"] == everything[130:]
    assert "NextToken" not in to_end


def test_an_empty_tenant_prints_nothing_when_paginated_as_the_aws_cli_does(
    outputs: dict[str, tuple[Result, Result]],
) -> None:
    ours, theirs = outputs["empty"]
    assert ours == (0, "", "")
    assert theirs == (0, "", "")


def test_a_missing_tenant_prints_the_aws_cli_error_and_exits_non_zero(
    outputs: dict[str, tuple[Result, Result]],
) -> None:
    (our_code, our_out, our_err), (aws_code, aws_out, aws_err) = outputs["missing"]
    assert our_err == aws_err
    assert our_err == (
        "\nAn error occurred (EntityNotFound) when calling the "
        "ListInvalidationsForDistributionTenant operation: The distribution tenant dt_nope "
        "does not exist.\n"
    )
    assert our_out == aws_out == ""
    assert our_code == 254  # AWS CLI v2's code for a service error
    assert aws_code == 255  # v1's


def test_a_query_type_error_is_one_line_and_exit_255_as_in_the_aws_cli(
    outputs: dict[str, tuple[Result, Result]],
) -> None:
    ours, theirs = outputs["query-type-error"]
    assert ours == theirs
    assert ours[0] == 255
    assert ours[2].startswith("\nIn function length(), invalid type for value: None")
    assert ours[2].count("\n") == 2


@pytest.mark.parametrize(
    "case",
    ["text", "text-no-paginate", "table", "table-no-paginate"],
)
def test_text_and_table_output_equal_the_aws_cli(
    outputs: dict[str, tuple[Result, Result]], case: str
) -> None:
    (our_code, our_out, our_err), (aws_code, aws_out, aws_err) = outputs[case]
    assert aws_code == 0, aws_err
    assert (our_code, resumable(our_out), our_err) == (aws_code, resumable(aws_out), aws_err)


def test_the_console_entry_point_runs_as_a_separate_process(server: tuple[str, Path]) -> None:
    url, tmp = server
    done = subprocess.run(
        [sys.executable, "-m", "cfinval", OP, "--endpoint-url", url, "--id", "dt_nope"],
        capture_output=True,
        text=True,
        env={**env(tmp), "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 254
    assert "(EntityNotFound)" in done.stderr
    assert "Traceback" not in done.stderr


def test_in_process_aws_matches_the_aws_executable(
    server: tuple[str, Path], outputs: dict[str, tuple[Result, Result]]
) -> None:
    url, tmp = server
    cases = ["max-items", "missing"]  # output with a NextToken; an error and its exit code
    started = {case: start_aws_process(url, tmp, CASES[case]) for case in cases}  # side by side
    for case, process in started.items():
        out, err = process.communicate(timeout=120)
        assert (process.returncode, out, err) == outputs[case][1]


# --- network failures: the AWS CLI's words -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _both(url: str, tmp: Path, args: list[str]) -> tuple[Result, Result]:
    return run_cfinval(url, tmp, args), run_aws(url, tmp, args)


def test_an_endpoint_that_refuses_says_could_not_connect_as_the_aws_cli(
    server: tuple[str, Path],
) -> None:
    _, tmp = server
    dead = f"http://127.0.0.1:{_free_port()}"
    ours, theirs = _both(dead, tmp, ["--id", "dt_big"])
    assert ours == theirs
    assert ours == (
        255,
        "",
        f'\nCould not connect to the endpoint URL: "{dead}/2020-05-31/distribution-tenant/'
        'dt_big/invalidation"\n',
    )


@pytest.mark.parametrize("userinfo", ["", "user:Zx9Qk3p@"])
def test_a_dead_proxy_says_failed_to_connect_to_proxy_as_the_aws_cli(
    server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, userinfo: str
) -> None:
    url, tmp = server
    port = _free_port()
    monkeypatch.setenv("HTTP_PROXY", f"http://{userinfo}127.0.0.1:{port}")
    ours, theirs = _both(url, tmp, ["--id", "dt_big"])
    assert ours == theirs
    shown = "***:***@" if userinfo else ""
    assert ours == (
        255,
        "",
        f'\nFailed to connect to proxy URL: "http://{shown}127.0.0.1:{port}"\n',
    )
    assert "Zx9" not in ours[2]


def test_a_silent_endpoint_says_read_timeout_as_the_aws_cli(tmp_path: Path) -> None:
    # One attempt each, one second (the AWS CLI takes whole seconds only)
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\nmax_attempts = 1\n")
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        ours, theirs = _both(url, tmp_path, ["--id", "dt_big", "--cli-read-timeout", "1"])
    assert ours == theirs
    assert ours == (
        255,
        "",
        f'\nRead timeout on endpoint URL: "{url}/2020-05-31/distribution-tenant/dt_big/'
        'invalidation"\n',
    )
