"""``aws login`` profiles (``login_session``), against a loopback fake of the sign-in service that
verifies each DPoP proof with ``cryptography``, with boto3 (its login needs ``awscrt``) as the
oracle on the same HOME."""

from __future__ import annotations

import base64
import json
import re
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cfinval
from cfinval import Credentials
from cfinval._credentials.login import dpop_proof, load_dpop_key

from ._identity import (
    ACCOUNT,
    FakeIdentity,
    boto3_key_id,
    cfinval_key_id,
    identity_server,
    login_cache_file,
    new_login_key,
    point_botocore_at,
)
from ._identity import write_login_token as _write_login_token
from ._local_aws import cloudfront, key_id_of, list_once
from .conftest import Home

KINDS = ["sync", "async"]
SESSION = "arn:aws:iam::123456789012:user/alice"
CACHED = Credentials("ASIALOGIN00000000001", "SECRET-login-cached-7f", "TOKEN-login-cached-1a")
FRESH = Credentials("ASIALOGIN00000000002", "SECRET-login-fresh-3c", "TOKEN-login-fresh-9d")
PROFILE = f"[profile console]\nlogin_session = {SESSION}\n"
KEY = new_login_key()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, home: Home) -> Iterator[FakeIdentity]:
    point_botocore_at(home.path, monkeypatch)
    with identity_server(monkeypatch) as server:
        server.login_keys.append(KEY)
        server.login_refresh_tokens.add("login-refresh-1")
        server.login_creds["login-refresh-1"] = FRESH
        yield server


def write_login_token(home: Home, expires_in: float, **kwargs: Any) -> Path:
    return _write_login_token(
        home.path, SESSION, CACHED, expires_in, KEY, "login-refresh-1", **kwargs
    )


class Compared:
    """One scenario run by cfinval, then (from the same starting file) by boto3."""

    def __init__(
        self, home: Home, fake: FakeIdentity, setup: Callable[[], Any], kind: str = "sync"
    ) -> None:
        path = login_cache_file(home.path, SESSION)

        def content() -> bytes | None:
            return path.read_bytes() if path.exists() else None

        with cloudfront(CACHED, FRESH) as (cf, url):
            setup()
            before = content()
            self.ours = cfinval_key_id("console", url, cf, kind)
            self.our_calls = fake.calls()
            self.our_file = content()
            self.our_mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
            self.ours_untouched = self.our_file == before
            fake.requests.clear()
            setup()
            before = content()
            self.theirs = boto3_key_id("console", url, cf)
            self.their_calls = fake.calls()
            self.their_file = content()
            self.their_mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
            self.theirs_untouched = self.their_file == before
            self.leftovers = (
                sorted(p.name for p in path.parent.iterdir() if p != path)
                if path.parent.exists()
                else []
            )
        assert fake.dpop_problems == []

    def same_calls(self) -> list[tuple[str, str, Any]]:
        assert self.our_calls == self.their_calls
        return self.our_calls


def _expires_masked(data: bytes | None) -> bytes:
    assert data is not None
    return re.sub(rb'"expiresAt": "[^"]*"', b'"expiresAt": "T"', data)


def test_cached_credentials_are_used_while_more_than_five_minutes_remain(
    home: Home, fake: FakeIdentity
) -> None:
    home.config(PROFILE)

    def setup() -> None:
        write_login_token(home, 6 * 60)

    run = Compared(home, fake, setup)
    assert run.ours == run.theirs == CACHED.access_key_id
    assert run.same_calls() == []
    assert run.ours_untouched
    assert run.theirs_untouched


@pytest.mark.parametrize(
    ("kind", "expires_in"), [("sync", 4 * 60), ("async", 4 * 60), ("sync", -3600)]
)
def test_credentials_are_refreshed_with_a_dpop_proof_and_the_file_updated(
    kind: str, expires_in: float, home: Home, fake: FakeIdentity
) -> None:
    home.config(PROFILE)

    def setup() -> None:
        write_login_token(home, expires_in)

    run = Compared(home, fake, setup, kind)
    assert run.ours == run.theirs == FRESH.access_key_id
    assert run.same_calls() == [
        (
            "POST",
            "/v1/token",
            {
                "clientId": "arn:aws:signin:::devtools/same-device",
                "refreshToken": "login-refresh-1",
                "grantType": "refresh_token",
            },
        )
    ]
    assert _expires_masked(run.our_file) == _expires_masked(run.their_file)
    assert run.our_mode == run.their_mode == 0o600
    assert run.leftovers == []
    written = json.loads(run.our_file or b"")
    assert written["refreshToken"] == "next-login-refresh-1"
    assert written["accessToken"]["accountId"] == ACCOUNT
    expires = cfinval._core.xml.parse_timestamp(written["accessToken"]["expiresAt"])
    assert abs(expires.timestamp() - (time.time() + 900)) < 60


@pytest.mark.parametrize("error", ["TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED"])
def test_an_expired_session_says_to_run_aws_login(
    error: str, home: Home, fake: FakeIdentity
) -> None:
    home.config(PROFILE)
    fake.signin_error = error

    def setup() -> None:
        write_login_token(home, 60)

    run = Compared(home, fake, setup)
    assert isinstance(run.ours, cfinval.LoginRequiredError)
    assert run.ours.command == "aws login --profile console"
    assert str(run.ours).endswith("To log in again, run: aws login --profile console")
    assert type(run.theirs).__name__ == "LoginRefreshRequired"
    assert len(run.same_calls()) == 1
    assert run.ours_untouched
    assert run.theirs_untouched
    for secret in ("login-refresh-1", CACHED.secret_access_key, "PRIVATE KEY"):
        assert secret not in str(run.ours)


def test_missing_permission_is_reported_as_botocore_words_it(
    home: Home, fake: FakeIdentity
) -> None:
    home.config(PROFILE)
    fake.signin_error = "INSUFFICIENT_PERMISSIONS"

    def setup() -> None:
        write_login_token(home, 60)

    run = Compared(home, fake, setup)
    assert type(run.ours) is cfinval.CredentialRetrievalError
    assert type(run.theirs).__name__ == "LoginInsufficientPermissions"
    assert str(run.theirs) in str(run.ours)


def test_no_cached_session_says_to_run_aws_login(home: Home, fake: FakeIdentity) -> None:
    home.config(PROFILE)
    run = Compared(home, fake, lambda: None)
    assert isinstance(run.ours, cfinval.LoginRequiredError)
    assert str(login_cache_file(home.path, SESSION)) in str(run.ours)
    assert type(run.theirs).__name__ == "LoginTokenLoadError"
    assert run.same_calls() == []


def test_the_profile_region_is_used_when_the_token_has_none(
    home: Home, fake: FakeIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.config(PROFILE + "region = us-east-1\n")

    def setup() -> None:
        write_login_token(home, 60, sign_in_region=None)

    run = Compared(home, fake, setup)
    assert run.ours == run.theirs == FRESH.access_key_id
    assert len(run.same_calls()) == 1


def test_no_region_at_all_is_a_config_error(home: Home, fake: FakeIdentity) -> None:
    home.config(PROFILE)

    def setup() -> None:
        write_login_token(home, 60, sign_in_region=None)

    run = Compared(home, fake, setup)
    assert isinstance(run.ours, cfinval.ConfigError)
    assert "region" in str(run.ours)
    assert type(run.theirs).__name__ == "NoRegionError"
    assert run.same_calls() == []


def test_a_file_refreshed_by_cfinval_is_used_by_boto3_and_the_reverse(
    home: Home, fake: FakeIdentity
) -> None:
    home.config(PROFILE)
    fake.login_refresh_tokens.add("next-login-refresh-1")
    with cloudfront(CACHED, FRESH) as (cf, url):
        write_login_token(home, 60)
        assert cfinval_key_id("console", url, cf) == FRESH.access_key_id
        assert boto3_key_id("console", url, cf) == FRESH.access_key_id
        write_login_token(home, 60)
        assert boto3_key_id("console", url, cf) == FRESH.access_key_id
        assert cfinval_key_id("console", url, cf) == FRESH.access_key_id
    assert len(fake.requests) == 2  # one refresh each time; the other reader used the file


# --- without the optional extra ------------------------------------------------------------------


def hide_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if ``cryptography`` were not installed: a ``None`` in ``sys.modules`` makes every
    ``import cryptography...`` raise ``ImportError``."""
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)


def test_without_cryptography_a_login_profile_names_the_extra(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.config(PROFILE)
    write_login_token(home, 3600)
    hide_cryptography(monkeypatch)
    with pytest.raises(cfinval.MissingDependencyError) as info:
        list_once("sync", profile="console", endpoint_url="http://127.0.0.1:9")
    assert "pip install 'cfinval[login]'" in str(info.value)
    assert info.value.extra == "login"
    assert isinstance(info.value, ImportError)


def test_without_cryptography_other_profiles_work(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_cryptography(monkeypatch)
    plain = Credentials("AKIDPLAIN00000000001", "SECRET-plain-0c1d")
    home.credentials(
        f"[plain]\naws_access_key_id = {plain.access_key_id}\n"
        f"aws_secret_access_key = {plain.secret_access_key}\n"
    )
    with cloudfront(plain) as (cf, url):
        list_once("sync", profile="plain", endpoint_url=url)
    assert key_id_of(cf) == plain.access_key_id


# --- the proof ----------------------------------------------------------------------------------


def _segments(proof: str) -> list[Any]:
    head, claims, _ = proof.split(".")
    return [json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))) for s in (head, claims)]


def test_the_proof_is_the_one_botocore_builds(home: Home) -> None:
    from awscrt.crypto import EC
    from botocore.credentials import _build_dpop_header
    from cryptography.hazmat.primitives import serialization

    der = KEY.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    url = "https://eu-west-1.signin.aws.amazon.com/v1/token"
    ours = dpop_proof(KEY, url, iat=1700000000, jti="6f1c-jti")
    theirs = _build_dpop_header(EC.new_key_from_der_data(der), url, uid="6f1c-jti", ts=1700000000)
    assert ours.split(".")[:2] == theirs.split(".")[:2]  # header and claims, byte for byte
    assert _segments(ours)[1] == {"htm": "POST", "htu": url, "iat": 1700000000, "jti": "6f1c-jti"}
    for proof in (ours, theirs):  # botocore's passes the fake's check too
        fake = FakeIdentity()
        fake.url = "https://eu-west-1.signin.aws.amazon.com"
        fake.login_keys.append(KEY)
        assert fake.check_dpop(proof, now=1700000000) is None


@pytest.mark.parametrize(
    "pem",
    [
        "-----BEGIN EC PRIVATE KEY-----\nnot base64 at all\n-----END EC PRIVATE KEY-----\n",
        "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        42,
    ],
)
def test_a_bad_dpop_key_is_rejected(pem: Any) -> None:
    with pytest.raises(ValueError, match="dpopKey"):
        load_dpop_key(pem)


def test_a_bad_cached_key_says_to_log_in_again(home: Home, fake: FakeIdentity) -> None:
    home.config(PROFILE)
    path = write_login_token(home, 60)
    token = json.loads(path.read_text())
    token["dpopKey"] = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"
    path.write_text(json.dumps(token))
    with pytest.raises(cfinval.LoginRequiredError, match="private key"):
        list_once("sync", profile="console", endpoint_url="http://127.0.0.1:9")
    assert fake.requests == []


def test_no_key_token_or_secret_reaches_the_logs(
    home: Home, fake: FakeIdentity, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    home.config(PROFILE)
    path = write_login_token(home, 60)
    pem_body = json.loads(path.read_text())["dpopKey"].splitlines()[1]
    with caplog.at_level(logging.DEBUG), cloudfront(FRESH) as (_, url):
        list_once("sync", profile="console", endpoint_url=url)
        write_login_token(home, 60)
        fake.signin_error = "TOKEN_EXPIRED"
        with pytest.raises(cfinval.LoginRequiredError) as info:
            list_once("sync", profile="console", endpoint_url=url)
    text = caplog.text + str(info.value) + repr(info.value)
    for secret in (pem_body, "login-refresh-1", "SECRET-login", "TOKEN-login"):
        assert secret not in text


def test_the_cache_directory_variable_is_honoured(home: Home, fake: FakeIdentity) -> None:
    home.config(PROFILE)
    path = write_login_token(home, 4 * 60)
    elsewhere = home.path / "elsewhere"
    path.parent.rename(elsewhere)
    home.env(AWS_LOGIN_CACHE_DIRECTORY="$HOME/elsewhere")  # expanded, as botocore expands it
    with cloudfront(FRESH) as (cf, url):
        assert cfinval_key_id("console", url, cf) == FRESH.access_key_id
    assert json.loads((elsewhere / path.name).read_text())["refreshToken"] == "next-login-refresh-1"
    assert not path.parent.exists()


@pytest.mark.parametrize("status", [200, 400])
def test_a_deeply_nested_sign_in_answer_is_a_retrieval_error(home: Home, status: int) -> None:
    from cfinval._core.effects import Send, run
    from cfinval._core.http import HttpResponse

    home.config(PROFILE)
    write_login_token(home, -3600)
    nested = HttpResponse(status, {}, b"[" * 100_000 + b"]" * 100_000)

    def answer(effect: Any) -> Any:
        assert isinstance(effect, Send)
        return nested

    with pytest.raises(cfinval.CredentialRetrievalError) as info:
        run(cfinval.LoginProvider("console").load(), answer)
    assert ("not a JSON object" if status == 200 else "(400)") in str(info.value)


def test_the_sign_in_refresh_is_an_identity_request_with_its_dpop_proof(home: Home) -> None:
    from cfinval._core.effects import Send, run
    from cfinval._core.http import HttpResponse

    home.config(PROFILE)
    write_login_token(home, -3600)
    sent: list[Any] = []

    def answer(effect: Any) -> Any:
        assert isinstance(effect, Send)
        sent.append(effect.request)
        return HttpResponse(400, {}, b'{"error": "TOKEN_EXPIRED"}')

    with pytest.raises(cfinval.CredentialRetrievalError):
        run(cfinval.LoginProvider("console").load(), answer)
    assert [r.purpose for r in sent] == ["identity"]
    assert sent[0].header("DPoP")
