"""IAM Identity Center (``aws sso login``) profiles, against loopback fakes of the portal and the
OIDC service, with boto3 as the oracle on the same HOME: the same outcome, the same requests at
the fakes, the same cache file afterwards."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import cfinval
from cfinval import Credentials
from cfinval._config import AwsConfig
from cfinval._core.effects import Send, Sleep, run
from cfinval._core.http import HttpResponse
from cfinval._credentials import SSOProvider, jsonapi

from ._identity import (
    ACCOUNT,
    CLIENT_SECRET,
    ROLE,
    START_URL,
    FakeIdentity,
    boto3_key_id,
    cfinval_key_id,
    identity_server,
    point_botocore_at,
    sso_cache_file,
    write_sso_token,
)
from ._local_aws import cloudfront, list_once, sts_server
from .conftest import Home

KINDS = ["sync", "async"]
SSO_ROLE = Credentials("ASIASSOROLE000000001", "SECRET-sso-role-1f2e", "TOKEN-sso-role-9a8b")
ASSUMED = Credentials("ASIAASSUMED000000001", "SECRET-assumed-77aa", "TOKEN-assumed-33cc")
SESSION_PROFILE = (
    f"[profile dev]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = {ROLE}\n"
    f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n"
    "sso_registration_scopes = sso:account:access\n"
)
LEGACY_PROFILE = (
    f"[profile legacy]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n"
    f"sso_account_id = {ACCOUNT}\nsso_role_name = {ROLE}\n"
)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, home: Home) -> Iterator[FakeIdentity]:
    point_botocore_at(home.path, monkeypatch)
    with identity_server(monkeypatch) as server:
        server.role(SSO_ROLE)
        yield server


class Compared:
    """One scenario run by cfinval, then (from the same starting files) by boto3."""

    def __init__(
        self,
        home: Home,
        fake: FakeIdentity,
        profile: str,
        setup: Callable[[], Any],
        kind: str = "sync",
        accepted: tuple[Credentials, ...] = (SSO_ROLE,),
    ) -> None:
        cache = home.path / ".aws" / "sso" / "cache"

        def files() -> dict[str, bytes]:
            return {p.name: p.read_bytes() for p in sorted(cache.glob("*.json"))}

        def modes() -> dict[str, int]:
            return {p.name: stat.S_IMODE(p.stat().st_mode) for p in cache.glob("*")}

        with cloudfront(*accepted) as (cf, url):
            setup()
            before = files()
            self.ours = cfinval_key_id(profile, url, cf, kind)
            self.our_calls = fake.calls()
            self.our_files, self.our_modes = files(), modes()
            self.ours_untouched = self.our_files == before
            fake.requests.clear()
            setup()
            before = files()
            self.theirs = boto3_key_id(profile, url, cf)
            self.their_calls = fake.calls()
            self.their_files, self.their_modes = files(), modes()
            self.theirs_untouched = self.their_files == before

    def same_calls(self) -> list[tuple[str, str, Any]]:
        assert self.our_calls == self.their_calls
        return self.our_calls


def _expires_masked(data: bytes) -> bytes:
    return re.sub(rb'"expiresAt": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', b'"expiresAt": "T"', data)


# --- the cases of the issue, each against boto3 --------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_valid_session_token_gets_the_role_credentials(
    kind: str, home: Home, fake: FakeIdentity
) -> None:
    home.config(SESSION_PROFILE)
    fake.valid_tokens.add("access-1")

    def setup() -> None:
        write_sso_token(home.path, "corp", "access-1", 8 * 3600, refresh="refresh-1")

    run = Compared(home, fake, "dev", setup, kind)
    assert run.ours == run.theirs == SSO_ROLE.access_key_id
    assert run.same_calls() == [
        (
            "GET",
            "/federation/credentials",
            ([("role_name", ROLE), ("account_id", ACCOUNT)], "access-1"),
        )
    ]
    assert run.ours_untouched
    assert run.theirs_untouched


def test_legacy_profile_reads_the_token_of_its_start_url(home: Home, fake: FakeIdentity) -> None:
    home.config(LEGACY_PROFILE)
    fake.valid_tokens.add("legacy-access")

    def setup() -> None:
        write_sso_token(home.path, START_URL, "legacy-access", 3600)

    run = Compared(home, fake, "legacy", setup)
    assert run.ours == run.theirs == SSO_ROLE.access_key_id
    assert [call[2][1] for call in run.same_calls()] == ["legacy-access"]


@pytest.mark.parametrize("kind", KINDS)
def test_token_near_expiry_is_refreshed_and_the_cache_rewritten_as_botocore_does(
    kind: str, home: Home, fake: FakeIdentity
) -> None:
    home.config(SESSION_PROFILE)
    fake.valid_tokens.add("access-old")
    fake.refresh_tokens.add("refresh-1")

    def setup() -> None:
        write_sso_token(home.path, "corp", "access-old", 5 * 60, refresh="refresh-1")

    run = Compared(home, fake, "dev", setup, kind)
    assert run.ours == run.theirs == SSO_ROLE.access_key_id
    calls = run.same_calls()
    assert [c[:2] for c in calls] == [("POST", "/token"), ("GET", "/federation/credentials")]
    assert calls[0][2] == {
        "grantType": "refresh_token",
        "clientId": "oidc-client-id-_Hk2",
        "clientSecret": CLIENT_SECRET,
        "refreshToken": "refresh-1",
    }
    assert calls[1][2][1] == "access-from-refresh-1"
    # the same bytes as botocore's file, key for key, but for the moment it was written
    (name,) = run.our_files
    assert _expires_masked(run.our_files[name]) == _expires_masked(run.their_files[name])
    written = json.loads(run.our_files[name])
    assert list(written) == [
        "startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret",
        "registrationExpiresAt", "refreshToken",
    ]  # fmt: skip
    assert written["refreshToken"] == "next-refresh-1"
    assert (
        abs(
            cfinval._core.xml.parse_timestamp(written["expiresAt"]).timestamp()
            - (time.time() + 28800)
        )
        < 60
    )
    assert run.our_modes == run.their_modes == {name: 0o600}  # no temporary file left behind


def test_refused_refresh_is_logged_and_the_valid_token_used(
    home: Home, fake: FakeIdentity, caplog: pytest.LogCaptureFixture
) -> None:
    home.config(SESSION_PROFILE)
    fake.valid_tokens.add("access-old")
    fake.oidc_refuses = True

    def setup() -> None:
        write_sso_token(home.path, "corp", "access-old", 10 * 60, refresh="refresh-1")

    with caplog.at_level(logging.WARNING, logger="cfinval"):
        run = Compared(home, fake, "dev", setup)
    assert run.ours == run.theirs == SSO_ROLE.access_key_id
    calls = run.same_calls()
    assert [c[:2] for c in calls] == [("POST", "/token"), ("GET", "/federation/credentials")]
    assert calls[1][2][1] == "access-old"
    assert run.ours_untouched
    assert run.theirs_untouched
    ours = [r.getMessage() for r in caplog.records if r.name == "cfinval"]
    assert any("InvalidGrantException" in m for m in ours)
    assert not any(CLIENT_SECRET in m or "refresh-1" in m for m in ours)


def test_expired_session_token_that_cannot_be_refreshed_says_to_log_in(
    home: Home, fake: FakeIdentity
) -> None:
    home.config(SESSION_PROFILE)
    fake.oidc_refuses = True

    def setup() -> None:
        write_sso_token(home.path, "corp", "access-old", -60, refresh="refresh-1")

    run = Compared(home, fake, "dev", setup)
    assert isinstance(run.ours, cfinval.LoginRequiredError)
    assert run.ours.command == "aws sso login --profile dev"
    assert "aws sso login --profile dev" in str(run.ours)
    assert type(run.theirs).__name__ == "TokenRetrievalError"
    assert [c[:2] for c in run.same_calls()] == [("POST", "/token")]  # no portal call
    assert "access-old" not in str(run.ours)
    assert CLIENT_SECRET not in str(run.ours)


def test_an_expired_client_registration_is_not_used_to_refresh(
    home: Home, fake: FakeIdentity
) -> None:
    home.config(SESSION_PROFILE)
    fake.valid_tokens.add("access-old")
    fake.refresh_tokens.add("refresh-1")

    def setup() -> None:
        write_sso_token(
            home.path, "corp", "access-old", 5 * 60, refresh="refresh-1",
            registration="2020-01-01T00:00:00Z",
        )  # fmt: skip

    run = Compared(home, fake, "dev", setup)
    assert run.ours == run.theirs == SSO_ROLE.access_key_id
    assert [c[:2] for c in run.same_calls()] == [("GET", "/federation/credentials")]


def test_expired_legacy_token_fails_before_any_request(home: Home, fake: FakeIdentity) -> None:
    home.config(LEGACY_PROFILE)

    def setup() -> None:
        write_sso_token(home.path, START_URL, "legacy-access", -1)

    run = Compared(home, fake, "legacy", setup)
    assert isinstance(run.ours, cfinval.LoginRequiredError)
    assert "aws sso login --profile legacy" in str(run.ours)
    assert type(run.theirs).__name__ == "UnauthorizedSSOTokenError"
    assert run.same_calls() == []


@pytest.mark.parametrize("kind", KINDS)
def test_portal_401_says_to_log_in_again(kind: str, home: Home, fake: FakeIdentity) -> None:
    home.config(SESSION_PROFILE)  # the portal knows no token

    def setup() -> None:
        write_sso_token(home.path, "corp", "revoked-access", 3600, refresh="refresh-1")

    run = Compared(home, fake, "dev", setup, kind)
    assert isinstance(run.ours, cfinval.LoginRequiredError)
    assert run.ours.code == "UnauthorizedException"
    assert str(run.ours).endswith("To log in again, run: aws sso login --profile dev")
    assert "revoked-access" not in str(run.ours)
    assert type(run.theirs).__name__ == "UnauthorizedSSOTokenError"
    assert len(run.same_calls()) == 1


def test_assume_role_on_top_of_an_sso_profile(home: Home, fake: FakeIdentity) -> None:
    role_arn = "arn:aws:iam::123456789012:role/auditor"
    home.config(
        SESSION_PROFILE + f"[profile auditor]\nrole_arn = {role_arn}\nsource_profile = dev\n"
    )
    fake.valid_tokens.add("access-1")
    with sts_server() as (sts, stub):
        home.env(AWS_ENDPOINT_URL_STS=stub.url)
        sts.callers[SSO_ROLE.access_key_id] = SSO_ROLE
        sts.role(role_arn, ASSUMED)

        def setup() -> None:
            write_sso_token(home.path, "corp", "access-1", 3600)

        run = Compared(home, fake, "auditor", setup, accepted=(ASSUMED,))
    assert run.ours == run.theirs == ASSUMED.access_key_id
    assert [c[:2] for c in run.same_calls()] == [("GET", "/federation/credentials")]
    # both AssumeRole calls were signed with the SSO role's keys (the fake checks the signature)
    assert [call["Action"] for call in sts.calls] == ["AssumeRole", "AssumeRole"]


def test_sso_session_without_account_or_role_is_not_an_sso_profile(
    home: Home, fake: FakeIdentity
) -> None:
    home.config(
        "[profile half]\nsso_session = corp\n"
        f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n"
    )

    def setup() -> None:
        write_sso_token(home.path, "corp", "access-1", 3600)

    run = Compared(home, fake, "half", setup)
    assert type(run.ours) is cfinval.NoCredentialsError
    assert type(run.theirs).__name__ == "NoCredentialsError"
    assert run.same_calls() == []


def test_a_file_refreshed_by_cfinval_is_used_by_boto3_and_the_reverse(
    home: Home, fake: FakeIdentity
) -> None:
    home.config(SESSION_PROFILE)
    fake.refresh_tokens |= {"refresh-1", "next-refresh-1"}
    with cloudfront(SSO_ROLE) as (cf, url):
        write_sso_token(home.path, "corp", "access-old", 60, refresh="refresh-1")
        assert cfinval_key_id("dev", url, cf) == SSO_ROLE.access_key_id
        fake.requests.clear()
        assert boto3_key_id("dev", url, cf) == SSO_ROLE.access_key_id
        assert fake.calls() == [  # boto3 took cfinval's new token as it is
            (
                "GET",
                "/federation/credentials",
                ([("role_name", ROLE), ("account_id", ACCOUNT)], "access-from-refresh-1"),
            )
        ]

        write_sso_token(home.path, "corp", "access-old", 60, refresh="refresh-1")
        fake.requests.clear()
        assert boto3_key_id("dev", url, cf) == SSO_ROLE.access_key_id
        fake.requests.clear()
        assert cfinval_key_id("dev", url, cf) == SSO_ROLE.access_key_id
        assert [c[2][1] for c in fake.calls()] == ["access-from-refresh-1"]


# --- configuration errors, as botocore reports them ----------------------------------------------

CONFIG_ERRORS = {
    "missing region": (
        f"[profile x]\nsso_start_url = {START_URL}\nsso_account_id = 1\nsso_role_name = R\n",
        "missing required configuration: sso_region",
    ),
    "unknown session": (
        "[profile x]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = R\n",
        'sso-session does not exist: "nope"',
    ),
    "profile and session disagree": (
        "[profile x]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
        "sso_region = us-east-1\n"
        f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n",
        "inconsistent between profile (us-east-1) and sso-session (eu-west-1)",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_incomplete_sso_configuration_is_a_config_error(
    case: str, home: Home, fake: FakeIdentity
) -> None:
    text, message = CONFIG_ERRORS[case]
    home.config(text)
    with pytest.raises(cfinval.ConfigError, match=re.escape(message)):
        list_once("sync", profile="x", endpoint_url="http://127.0.0.1:9")
    outcome = boto3_key_id("x", "http://127.0.0.1:9", None)
    assert type(outcome).__name__ == "InvalidConfigError"
    assert message in str(outcome)
    assert fake.requests == []


# --- endpoints -----------------------------------------------------------------------------------


def test_the_services_section_reaches_the_portal(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_botocore_at(home.path, monkeypatch)
    with identity_server(monkeypatch) as fake:
        fake.role(SSO_ROLE)
        fake.valid_tokens.add("access-1")
        monkeypatch.delenv("AWS_ENDPOINT_URL_SSO")
        home.config(
            SESSION_PROFILE.replace("[profile dev]\n", "[profile dev]\nservices = local\n")
            + f"[services local]\nsso =\n  endpoint_url = {fake.url}\n"
        )
        write_sso_token(home.path, "corp", "access-1", 3600)
        with cloudfront(SSO_ROLE) as (cf, url):
            assert cfinval_key_id("dev", url, cf) == SSO_ROLE.access_key_id
            assert boto3_key_id("dev", url, cf) == SSO_ROLE.access_key_id
    assert len(fake.requests) == 2


def test_without_overrides_the_calls_go_to_the_regional_endpoints(home: Home) -> None:
    home.config(SESSION_PROFILE)
    aws = AwsConfig("dev")
    assert aws.identity_endpoint("sso", "eu-west-1").netloc == "portal.sso.eu-west-1.amazonaws.com"
    assert aws.identity_endpoint("sso-oidc", "eu-west-1").netloc == "oidc.eu-west-1.amazonaws.com"


# --- the flow itself, driven by hand with a fake clock -------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _json(status: int, body: dict[str, Any], code: str | None = None) -> HttpResponse:
    headers = {"x-amzn-errortype": code} if code else {}
    return HttpResponse(status, headers, json.dumps(body).encode())


def _role_answer() -> HttpResponse:
    return _json(
        200,
        {
            "roleCredentials": {
                "accessKeyId": SSO_ROLE.access_key_id,
                "secretAccessKey": SSO_ROLE.secret_access_key,
                "sessionToken": SSO_ROLE.session_token,
                "expiration": 4102444800999,
            }
        },
    )


def drive(flow: Any, answer: Callable[[Any], Any]) -> tuple[Any, list[Any]]:
    """Run a flow with the core's drive loop, answering each effect with ``answer(effect)``;
    the flow's value and the effects it yielded."""
    effects: list[Any] = []

    def perform(effect: Any) -> Any:
        effects.append(effect)
        return answer(effect)

    return run(flow, perform), effects


def test_a_refused_refresh_is_tried_again_only_after_a_minute(home: Home) -> None:
    home.config(SESSION_PROFILE)
    write_sso_token(home.path, "corp", "access-old", 12 * 60, refresh="refresh-1")
    clock = Clock()
    provider = SSOProvider("dev", clock=clock)

    def answer(effect: Any) -> HttpResponse:
        if effect.request.url.endswith("/token"):
            return _json(400, {"error": "invalid_grant"}, "InvalidGrantException")
        return _role_answer()

    def oidc_calls(effects: list[Any]) -> int:
        return sum(e.request.url.endswith("/token") for e in effects)

    first, effects = drive(provider.load(), answer)
    assert oidc_calls(effects) == 1
    clock.now += 59
    _, effects = drive(provider.load(), answer)
    assert oidc_calls(effects) == 0
    clock.now += 1
    _, effects = drive(provider.load(), answer)
    assert oidc_calls(effects) == 1
    # whole seconds, as botocore keeps them ('%Y-%m-%dT%H:%M:%SZ')
    assert first.expiration.isoformat() == "2100-01-01T00:00:00+00:00"


def test_portal_throttling_and_5xx_are_retried_with_backoff(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonapi, "_jitter", lambda: 1.0)
    home.config(SESSION_PROFILE)
    write_sso_token(home.path, "corp", "access-1", 3600)
    answers = iter(
        [
            _json(429, {"message": "slow"}, "TooManyRequestsException"),
            _json(503, {}),
            _role_answer(),
        ]
    )
    creds, effects = drive(
        SSOProvider("dev").load(), lambda e: next(answers) if isinstance(e, Send) else None
    )
    assert creds.access_key_id == SSO_ROLE.access_key_id
    assert [type(e).__name__ for e in effects] == ["Send", "Sleep", "Send", "Sleep", "Send"]
    assert [e.seconds for e in effects if isinstance(e, Sleep)] == [1.0, 0.1]


def test_portal_errors_other_than_401_are_reported_with_their_code(home: Home) -> None:
    home.config(SESSION_PROFILE)
    write_sso_token(home.path, "corp", "access-1", 3600)
    flow = SSOProvider("dev").load()
    with pytest.raises(cfinval.CredentialRetrievalError) as info:
        drive(flow, lambda e: _json(403, {"message": "No access"}, "ForbiddenException"))
    assert not isinstance(info.value, cfinval.LoginRequiredError)
    assert info.value.code == "ForbiddenException"
    assert "(ForbiddenException) when calling the GetRoleCredentials operation: No access" in str(
        info.value
    )


@pytest.mark.parametrize(
    "content",
    [
        '{"accessToken": "a"}',
        "not json",
        "[1, 2]",
        '{"accessToken": "a\\nb", "expiresAt": "x"}',
        "[" * 100_000,  # deeper than json can parse
    ],
)
def test_an_unusable_cache_file_says_to_log_in(home: Home, content: str) -> None:
    home.config(SESSION_PROFILE)
    path = sso_cache_file(home.path, "corp")
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(cfinval.LoginRequiredError, match="aws sso login --profile dev"):
        drive(SSOProvider("dev").load(), lambda e: pytest.fail("nothing may be sent"))


def test_no_cache_file_names_the_file_and_the_command(home: Home) -> None:
    home.config(SESSION_PROFILE)
    with pytest.raises(cfinval.LoginRequiredError) as info:
        drive(SSOProvider("dev").load(), lambda e: pytest.fail("nothing may be sent"))
    assert str(sso_cache_file(home.path, "corp")) in str(info.value)
    assert info.value.command == "aws sso login --profile dev"


def test_a_failed_cache_write_is_a_retrieval_error_and_leaves_the_old_file(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    home.config(SESSION_PROFILE)
    path = write_sso_token(home.path, "corp", "access-old", 60, refresh="refresh-1")

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    refreshed = _json(200, {"accessToken": "new", "expiresIn": 3600})
    with pytest.raises(cfinval.CredentialRetrievalError, match="cannot save the refreshed"):
        drive(SSOProvider("dev").load(), lambda e: refreshed)
    assert json.loads(path.read_text())["accessToken"] == "access-old"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # the temporary file is gone


def test_concurrent_calls_share_one_token_refresh_and_one_portal_call(
    home: Home, fake: FakeIdentity
) -> None:
    home.config(SESSION_PROFILE)
    fake.refresh_tokens.add("refresh-1")
    write_sso_token(home.path, "corp", "access-old", 60, refresh="refresh-1")

    async def run(url: str) -> None:
        async with cfinval.AsyncClient(profile="dev", endpoint_url=url) as client:
            await asyncio.gather(
                *(client.list_invalidations_for_distribution_tenant("dt_1") for _ in range(4))
            )

    with cloudfront(SSO_ROLE) as (cf, url):
        asyncio.run(run(url))
    assert [c[:2] for c in fake.calls()] == [("POST", "/token"), ("GET", "/federation/credentials")]
    assert len(cf.requests) == 4  # (more at once can overflow the fake's listen backlog of 5)


def test_request_reprs_hide_the_bearer_token(home: Home) -> None:
    home.config(SESSION_PROFILE)
    write_sso_token(home.path, "corp", "access-SECRET-1", 3600)
    _, effects = drive(SSOProvider("dev").load(), lambda e: _role_answer())
    (effect,) = effects
    assert isinstance(effect, Send)
    assert effect.request.header("x-amz-sso_bearer_token") == "access-SECRET-1"
    assert "access-SECRET-1" not in repr(effect)
    assert "***" in repr(effect)


def test_the_command_says_what_to_run_in_one_line(
    home: Home, fake: FakeIdentity, capsys: pytest.CaptureFixture[str]
) -> None:
    from cfinval._cli import main

    home.config(SESSION_PROFILE)
    write_sso_token(home.path, "corp", "revoked-access", 3600)
    code = main(
        ["list-invalidations-for-distribution-tenant", "--id", "dt_1", "--profile", "dev",
         "--endpoint-url", "http://127.0.0.1:9"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 255  # botocore's UnauthorizedSSOTokenError: the AWS CLI's general failure
    assert "\n" not in err.strip()  # one line (after the blank line the AWS CLI prints too)
    assert err.rstrip().endswith("To log in again, run: aws sso login --profile dev")
    assert "revoked-access" not in err


def test_threads_of_one_client_share_one_refresh(home: Home, fake: FakeIdentity) -> None:
    from concurrent.futures import ThreadPoolExecutor

    home.config(SESSION_PROFILE)
    fake.refresh_tokens.add("refresh-1")
    write_sso_token(home.path, "corp", "access-old", 60, refresh="refresh-1")
    with cloudfront(SSO_ROLE) as (cf, url):
        client = cfinval.Client(profile="dev", endpoint_url=url)
        with client, ThreadPoolExecutor(4) as pool:
            list(
                pool.map(
                    lambda _: client.list_invalidations_for_distribution_tenant("dt_1"), range(4)
                )
            )
    assert [call[:2] for call in fake.calls()] == [
        ("POST", "/token"),
        ("GET", "/federation/credentials"),
    ]
    assert len(cf.requests) == 4


def test_no_token_or_secret_reaches_the_logs(
    home: Home, fake: FakeIdentity, caplog: pytest.LogCaptureFixture
) -> None:
    home.config(SESSION_PROFILE)
    fake.refresh_tokens.add("refresh-SECRET-1")
    write_sso_token(home.path, "corp", "access-SECRET-old", 60, refresh="refresh-SECRET-1")
    with caplog.at_level(logging.DEBUG), cloudfront(SSO_ROLE) as (_, url):
        list_once("sync", profile="dev", endpoint_url=url)
        fake.oidc_refuses = True
        write_sso_token(home.path, "corp", "access-SECRET-old", -5, refresh="refresh-SECRET-1")
        with pytest.raises(cfinval.LoginRequiredError) as info:
            list_once("sync", profile="dev", endpoint_url=url)
    text = caplog.text + str(info.value) + repr(info.value)
    for secret in ("SECRET", SSO_ROLE.session_token or "", "access-from-refresh"):
        assert secret not in text
    assert "InvalidGrantException" in caplog.text  # the refused refresh was logged


JSON_ERRORS = [
    (
        {"x-amzn-errortype": "UnauthorizedException:http://internal/"},
        b"{}",
        "UnauthorizedException",
    ),
    ({}, b'{"__type": "com.amazonaws.sso#ResourceNotFoundException"}', "ResourceNotFoundException"),
    ({}, b'{"code": "InvalidRequestException", "message": "m"}', "InvalidRequestException"),
    ({}, b"<html>bad gateway</html>", "400"),
]


@pytest.mark.parametrize(("headers", "body", "code"), JSON_ERRORS)
def test_error_codes_are_read_as_botocore_reads_them(
    headers: dict[str, str], body: bytes, code: str
) -> None:
    request = jsonapi.json_request("GET", AwsConfig().identity_endpoint("sso", "eu-west-1"), "/x")
    flow = jsonapi.json_call("sso", "GetRoleCredentials", request)
    result, _ = drive(flow, lambda e: HttpResponse(400, headers, body))
    assert isinstance(result, jsonapi.JsonError)
    assert result.code == code


NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("status", [200, 403])
def test_a_deeply_nested_portal_answer_is_a_retrieval_error(home: Home, status: int) -> None:
    home.config(SESSION_PROFILE)
    write_sso_token(home.path, "corp", "access-1", 3600)
    with pytest.raises(cfinval.CredentialRetrievalError) as info:
        drive(SSOProvider("dev").load(), lambda e: HttpResponse(status, {}, NESTED))
    assert ("not a JSON object" if status == 200 else "(403)") in str(info.value)


def test_a_deeply_nested_oidc_answer_is_a_retrieval_error(home: Home) -> None:
    home.config(SESSION_PROFILE)
    write_sso_token(home.path, "corp", "access-old", -60, refresh="refresh-1")

    def answer(effect: Any) -> HttpResponse:
        assert effect.request.url.endswith("/token"), "the expired token is never used"
        return HttpResponse(200, {}, NESTED)

    with pytest.raises(cfinval.CredentialRetrievalError) as info:
        drive(SSOProvider("dev").load(), answer)
    assert "the CreateToken response from oidc.eu-west-1.amazonaws.com is not a JSON object" in str(
        info.value
    )


def test_the_oidc_and_portal_calls_are_identity_requests(home: Home) -> None:
    # their trust and proxy are the configured ones, never the CLI's --no-verify-ssl
    home.config(SESSION_PROFILE)
    write_sso_token(home.path, "corp", "access-old", -60, refresh="refresh-1")

    def answer(effect: Any) -> HttpResponse:
        if effect.request.url.endswith("/token"):
            return _json(200, {"accessToken": "access-new", "expiresIn": 3600})
        return _role_answer()

    _, effects = drive(SSOProvider("dev").load(), answer)
    sent = [e.request for e in effects if isinstance(e, Send)]
    assert [r.url.rsplit("/", 1)[-1].split("?")[0] for r in sent] == ["token", "credentials"]
    assert [r.purpose for r in sent] == ["identity", "identity"]
