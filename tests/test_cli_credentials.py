"""What the ``cfinval`` command says when credentials fail: what failed and what to do for that
source, in one line, with the AWS CLI v2's exit code (253 nothing found, 254 STS refused, 255
a source that failed: botocore's ``CredentialRetrievalError`` and SSO token errors)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest

from cfinval._cli import main

from ._identity import ACCOUNT, ROLE, START_URL, FakeIdentity, identity_server, write_sso_token
from ._local_aws import closed_port, sts_server
from .conftest import Home

OP = "list-invalidations-for-distribution-tenant"
ROLE_PROFILE = (
    "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n"
)
SSO_PROFILE = (
    f"[profile dev]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = {ROLE}\n"
    f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n"
)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credential calls' retries, without their jittered waits."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIdentity]:
    with identity_server(monkeypatch) as server:
        yield server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([OP, "--id", "dt_1", "--endpoint-url", "http://127.0.0.1:9", *args])
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert err.startswith("\n")
    assert err.endswith("\n")
    assert err.count("\n") == 2, err  # one message, one line
    assert "Traceback" not in err
    return code, err.strip()


def keys(home: Home) -> None:
    home.credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n")


def test_no_credentials_anywhere_is_253_and_says_how_to_set_them(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    code, err = run(capsys)
    assert code == 253
    assert err.startswith("Unable to locate credentials. Looked in: ")
    assert err.endswith(
        "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a profile (aws configure)"
    )


def test_a_failing_credential_process_says_so_and_what_to_do(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    script = home.file("creds.py", "import sys\nsys.stderr.write('token expired')\nsys.exit(3)\n")
    home.config(f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    code, err = run(capsys, "--profile", "proc")
    assert code == 255
    assert "custom-process" in err
    assert "exited with status 3: token expired" in err
    assert err.endswith(
        "Run the credential_process of profile 'proc' yourself to see why it fails, and fix it "
        "or the profile"
    )
    assert "AWS_ACCESS_KEY_ID" not in err


def test_an_unreachable_sts_names_its_url_and_what_to_check(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    keys(home)
    home.config(ROLE_PROFILE)
    with closed_port() as url:
        home.env(AWS_ENDPOINT_URL_STS=url)
        code, err = run(capsys, "--profile", "admin")
    assert code == 255
    assert f'AssumeRole failed: Could not connect to the endpoint URL: "{url}' in err
    assert "role_arn and source_profile (or credential_source) of profile 'admin'" in err
    assert "STS can be reached" in err
    assert "AWS_ACCESS_KEY_ID" not in err


def test_sts_refusing_the_role_is_a_service_error_254(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    keys(home)
    home.config(ROLE_PROFILE)
    with sts_server() as (sts, stub):
        sts.fail_next = [(403, "AccessDenied")]
        home.env(AWS_ENDPOINT_URL_STS=stub.url)
        code, err = run(capsys, "--profile", "admin")
    assert code == 254  # botocore raises STS's ClientError: the AWS CLI's 254
    assert "An error occurred (AccessDenied) when calling the AssumeRole operation" in err


def test_an_unreachable_sso_portal_says_what_to_check(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    home.config(SSO_PROFILE)
    write_sso_token(home.path, "corp", "access-valid", 3600)
    with closed_port() as url:
        home.env(AWS_ENDPOINT_URL_SSO=url)
        code, err = run(capsys, "--profile", "dev")
    assert code == 255
    assert 'GetRoleCredentials failed: Could not connect to the endpoint URL: "' in err
    assert "IAM Identity Center portal can be reached" in err
    assert "access-valid" not in err


def test_an_expired_sso_token_whose_refresh_is_refused_is_one_message(
    capsys: pytest.CaptureFixture[str], home: Home, identity: FakeIdentity
) -> None:
    home.config(SSO_PROFILE)
    identity.oidc_refuses = True
    write_sso_token(home.path, "corp", "access-old", -60, refresh="refresh-1")
    code, err = run(capsys, "--profile", "dev")
    assert code == 255  # botocore's SSO token errors: the AWS CLI's general failure
    assert "has expired and refresh failed (An error occurred (InvalidGrantException)" in err
    assert err.endswith("To log in again, run: aws sso login --profile dev")
    assert "refresh-1" not in err
    assert "access-old" not in err
