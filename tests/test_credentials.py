"""Each credential provider against real local parts: files in a temporary HOME, a real
``credential_process`` subprocess, and container, instance metadata and STS endpoints served
over HTTP on 127.0.0.1, through both ``Client`` and ``AsyncClient``."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

import cfinval
from cfinval import Credentials
from cfinval._core.effects import Flow, Prompt, Send, Sleep, TransportFailure, run
from cfinval._core.http import HttpResponse
from cfinval._credentials import CredentialResolver, load_flow

from ._local_aws import (
    FakeIMDS,
    Stub,
    black_hole,
    closed_port,
    cloudfront,
    creds_json,
    elapsed,
    iso,
    key_id_of,
    list_once,
    sts_server,
)
from .conftest import Home

KINDS = ["sync", "async"]

ENV = Credentials("AKIDENV0000000000001", "SECRET-env-2b1f9c", "TOKEN-env-a81d")
FILE = Credentials("AKIDFILE000000000001", "SECRET-file-77c1e0")
CONFIG = Credentials("AKIDCONFIG0000000001", "SECRET-config-0d9e2b")
PROCESS = Credentials("ASIAPROCESS000000001", "SECRET-process-5a0f", "TOKEN-process-19be")
ROLE = Credentials("ASIAROLE000000000001", "SECRET-role-3e8d41", "TOKEN-role-c0ffee")
ROLE2 = Credentials("ASIAROLE000000000002", "SECRET-role2-6d1b0a", "TOKEN-role2-beef")
WEB = Credentials("ASIAWEB0000000000001", "SECRET-web-91f0e2", "TOKEN-web-7c2d")
CONTAINER = Credentials("ASIACONTAINER0000001", "SECRET-container-aa17", "TOKEN-container-3b")
IMDS = Credentials("ASIAIMDS000000000001", "SECRET-imds-4f6a0d", "TOKEN-imds-e5e5")


class Script:
    """Performs a flow's effects by hand: each ``Send`` and ``Prompt`` gets the next answer
    (an ``HttpResponse``, a ``TransportFailure``, the text typed), ``Sleep`` returns at once.
    ``answer`` (when given) answers every ``Send``. No socket, no clock, no waiting."""

    def __init__(self, *answers: Any, answer: Any = None) -> None:
        self.answers = list(answers)
        self.answer = answer
        self.effects: list[Any] = []

    def run(self, flow: Flow[Any]) -> Any:
        return run(flow, self.perform)

    def perform(self, effect: Any) -> Any:
        self.effects.append(effect)
        if isinstance(effect, Sleep):
            return None
        if isinstance(effect, Send) and self.answer is not None:
            return self.answer
        assert isinstance(effect, (Send, Prompt)), effect
        return self.answers.pop(0)

    @property
    def sleeps(self) -> list[float]:
        return [e.seconds for e in self.effects if isinstance(e, Sleep)]

    @property
    def requests(self) -> list[Any]:
        return [e.request for e in self.effects if isinstance(e, Send)]


def process_script(home: Home, creds: Credentials, *, extra: str = "") -> str:
    """A real credential_process: a Python script printing ``creds`` as JSON."""
    payload = {
        "Version": 1,
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
        "SessionToken": creds.session_token,
        "Expiration": "2099-01-01T00:00:00Z",
    }
    script = home.file(
        "creds.py",
        f"import json, sys\n{extra}\nprint(json.dumps({payload!r}))\n",
    )
    return f"{sys.executable} {script}"


# --- environment ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_env_credentials_with_session_token_sign_requests(kind: str, home: Home) -> None:
    home.env(
        AWS_ACCESS_KEY_ID=ENV.access_key_id,
        AWS_SECRET_ACCESS_KEY=ENV.secret_access_key,
        AWS_SESSION_TOKEN=ENV.session_token or "",
    )
    with cloudfront(ENV) as (fake, url):
        page = list_once(kind, endpoint_url=url)
    assert [item.id for item in page.items] == ["I1"]
    assert fake.requests[-1].headers["x-amz-security-token"] == ENV.session_token


def test_env_security_token_is_read_before_session_token(home: Home) -> None:
    home.env(
        AWS_ACCESS_KEY_ID=ENV.access_key_id,
        AWS_SECRET_ACCESS_KEY=ENV.secret_access_key,
        AWS_SESSION_TOKEN="TOKEN-session",
        AWS_SECURITY_TOKEN="TOKEN-security",
    )
    found = cfinval.EnvProvider().load()
    assert isinstance(found, Credentials)
    assert found.session_token == "TOKEN-security"  # botocore's order


def test_env_key_without_secret_is_an_error_and_sends_nothing(home: Home) -> None:
    home.env(AWS_ACCESS_KEY_ID=ENV.access_key_id)
    with cloudfront(ENV) as (fake, url):
        with pytest.raises(cfinval.CredentialRetrievalError, match="AWS_SECRET_ACCESS_KEY"):
            list_once("sync", endpoint_url=url)
        assert fake.requests == []


def test_env_expiration_is_parsed_and_expired_credentials_are_refused(home: Home) -> None:
    home.env(
        AWS_ACCESS_KEY_ID=ENV.access_key_id,
        AWS_SECRET_ACCESS_KEY=ENV.secret_access_key,
        AWS_CREDENTIAL_EXPIRATION="2099-03-04T05:06:07Z",
    )
    found = cfinval.EnvProvider().load()
    assert isinstance(found, Credentials)
    assert found.expiration is not None
    assert iso(found.expiration) == "2099-03-04T05:06:07Z"
    home.env(AWS_CREDENTIAL_EXPIRATION="2001-01-01T00:00:00Z")
    with pytest.raises(cfinval.CredentialRetrievalError, match="expired at 2001-01-01"):
        list_once("sync", endpoint_url="http://127.0.0.1:9")


def test_env_expiration_that_is_not_a_timestamp_is_an_error(home: Home) -> None:
    home.env(
        AWS_ACCESS_KEY_ID=ENV.access_key_id,
        AWS_SECRET_ACCESS_KEY=ENV.secret_access_key,
        AWS_CREDENTIAL_EXPIRATION="tomorrow",
    )
    with pytest.raises(cfinval.CredentialRetrievalError, match="AWS_CREDENTIAL_EXPIRATION"):
        cfinval.EnvProvider().load()


# --- shared files --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_shared_credentials_file_default_profile(kind: str, home: Home) -> None:
    home.credentials(
        f"[default]\naws_access_key_id = {FILE.access_key_id}\n"
        f"aws_secret_access_key = {FILE.secret_access_key}\n"
    )
    with cloudfront(FILE) as (fake, url):
        list_once(kind, endpoint_url=url)
    assert key_id_of(fake) == FILE.access_key_id


@pytest.mark.parametrize("kind", KINDS)
def test_config_file_profile_section_via_aws_profile(kind: str, home: Home) -> None:
    home.config(
        f"[profile dev]\naws_access_key_id = {CONFIG.access_key_id}\n"
        f"aws_secret_access_key = {CONFIG.secret_access_key}\n"
    )
    home.env(AWS_PROFILE="dev")
    with cloudfront(CONFIG) as (fake, url):
        list_once(kind, endpoint_url=url)
    assert key_id_of(fake) == CONFIG.access_key_id


@pytest.mark.parametrize("kind", KINDS)
def test_profile_argument_skips_environment_credentials(kind: str, home: Home) -> None:
    home.env(AWS_ACCESS_KEY_ID=ENV.access_key_id, AWS_SECRET_ACCESS_KEY=ENV.secret_access_key)
    home.credentials(
        f"[dev]\naws_access_key_id = {FILE.access_key_id}\n"
        f"aws_secret_access_key = {FILE.secret_access_key}\n"
    )
    with cloudfront(Credentials(ENV.access_key_id, ENV.secret_access_key), FILE) as (fake, url):
        list_once(kind, endpoint_url=url, profile="dev")
        assert key_id_of(fake) == FILE.access_key_id
        home.env(AWS_PROFILE="dev")  # a profile from the environment does not skip them
        list_once(kind, endpoint_url=url)
        assert key_id_of(fake) == ENV.access_key_id


@pytest.mark.parametrize("kind", KINDS)
def test_a_named_profile_that_does_not_exist_is_profile_not_found(kind: str, home: Home) -> None:
    home.credentials("[other]\naws_access_key_id = A\naws_secret_access_key = B\n")
    with pytest.raises(cfinval.ProfileNotFound, match=r"\(nope\)") as raised:
        list_once(kind, profile="nope")
    assert raised.value.profile == "nope"
    home.env(AWS_PROFILE="also-missing")
    with pytest.raises(cfinval.ProfileNotFound, match="also-missing"):
        cfinval.Client()


def test_profile_must_be_a_non_empty_string() -> None:
    with pytest.raises(cfinval.ParamValidationError, match="profile"):
        cfinval.Client(profile="")
    with pytest.raises(cfinval.ParamValidationError, match="profile"):
        cfinval.Client(profile=3)  # type: ignore[arg-type]


def test_custom_file_locations_from_environment(home: Home, tmp_path: Path) -> None:
    creds_file = tmp_path / "elsewhere-credentials"
    creds_file.write_text(
        f"[team]\naws_access_key_id = {FILE.access_key_id}\n"
        f"aws_secret_access_key = {FILE.secret_access_key}\n"
    )
    config_file = tmp_path / "elsewhere-config"
    config_file.write_text("[profile team]\nregion = eu-west-1\n")
    home.env(
        AWS_SHARED_CREDENTIALS_FILE=str(creds_file),
        AWS_CONFIG_FILE=str(config_file),
        AWS_PROFILE="team",
    )
    with cloudfront(FILE, region="eu-west-1") as (fake, url):
        list_once("sync", endpoint_url=url)
    assert key_id_of(fake) == FILE.access_key_id
    assert "/eu-west-1/cloudfront/" in fake.requests[-1].headers["authorization"]


def test_partial_credentials_in_a_file_are_an_error(home: Home) -> None:
    home.credentials(f"[default]\naws_access_key_id = {FILE.access_key_id}\n")
    with pytest.raises(cfinval.CredentialRetrievalError, match="aws_secret_access_key is missing"):
        list_once("sync", endpoint_url="http://127.0.0.1:9")


def test_unparseable_config_file_names_the_line_not_its_text(home: Home) -> None:
    home.credentials("[default]\naws_access_key_id = A\nSECRET-in-a-broken-line\n")
    with pytest.raises(cfinval.ConfigError) as raised:
        list_once("sync", endpoint_url="http://127.0.0.1:9")
    assert "line 3" in str(raised.value)
    assert "SECRET" not in str(raised.value)


def test_standalone_file_providers_with_explicit_paths(tmp_path: Path) -> None:
    creds_file = tmp_path / "c"
    creds_file.write_text(
        f"[ci]\naws_access_key_id = {FILE.access_key_id}\n"
        f"aws_secret_access_key = {FILE.secret_access_key}\naws_session_token = T1\n"
    )
    config_file = tmp_path / "k"
    config_file.write_text(
        f"[profile ci]\naws_access_key_id = {CONFIG.access_key_id}\n"
        f"aws_secret_access_key = {CONFIG.secret_access_key}\n"
    )
    from_creds = cfinval.SharedCredentialsProvider("ci", path=str(creds_file)).load()
    from_config = cfinval.ConfigFileProvider("ci", path=str(config_file)).load()
    assert from_creds == Credentials(FILE.access_key_id, FILE.secret_access_key, "T1")
    assert from_config == CONFIG
    assert cfinval.SharedCredentialsProvider("other", path=str(creds_file)).load() is None


# --- credential_process --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_credential_process_runs_a_real_subprocess(kind: str, home: Home) -> None:
    command = process_script(home, PROCESS)
    home.config(f"[default]\ncredential_process = {command} --flag 'two words'\n")
    with cloudfront(PROCESS) as (fake, url):
        list_once(kind, endpoint_url=url)
    assert key_id_of(fake) == PROCESS.access_key_id
    assert fake.requests[-1].headers["x-amz-security-token"] == PROCESS.session_token


def test_credential_process_receives_its_arguments_split_like_a_shell(home: Home) -> None:
    out = home.path / "argv.json"
    command = process_script(
        home, PROCESS, extra=f"open({str(out)!r}, 'w').write(json.dumps(sys.argv[1:]))"
    )
    provider = cfinval.ProcessProvider(command=f"{command} --flag 'two words' x\\ y")
    with cloudfront(PROCESS) as (_fake, url):
        list_once("sync", endpoint_url=url, credentials=provider)
    assert json.loads(out.read_text()) == ["--flag", "two words", "x y"]


def test_credential_process_failure_reports_status_and_stderr(home: Home) -> None:
    script = home.file(
        "fail.py", "import sys\nsys.stderr.write('token expired, log in')\nsys.exit(3)\n"
    )
    home.config(f"[default]\ncredential_process = {sys.executable} {script}\n")
    with pytest.raises(cfinval.CredentialRetrievalError) as raised:
        list_once("sync", endpoint_url="http://127.0.0.1:9")
    assert "exited with status 3: token expired, log in" in str(raised.value)
    assert raised.value.provider == "custom-process"


def test_credential_process_invalid_json_is_not_echoed(home: Home) -> None:
    script = home.file("bad.py", "print('SECRET-half-printed {')\n")
    home.config(f"[default]\ncredential_process = {sys.executable} {script}\n")
    with pytest.raises(
        cfinval.CredentialRetrievalError, match="did not print valid JSON"
    ) as raised:
        list_once("sync", endpoint_url="http://127.0.0.1:9")
    assert "SECRET" not in str(raised.value)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "B"}, "Unsupported version 2"),
        ({"AccessKeyId": "A", "SecretAccessKey": "B"}, "Unsupported version"),
        ({"Version": 1, "AccessKeyId": "A"}, "'SecretAccessKey'"),
        ([1, 2], "JSON object"),
        ({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "B", "Expiration": "soon"}, "ISO"),
    ],
)
def test_credential_process_output_is_validated(home: Home, output: object, message: str) -> None:
    script = home.file("out.py", f"import json\nprint(json.dumps({output!r}))\n")
    provider = cfinval.ProcessProvider(command=[sys.executable, str(script)])
    with pytest.raises(cfinval.CredentialRetrievalError, match=message):
        list_once("sync", endpoint_url="http://127.0.0.1:9", credentials=provider)


def test_credential_process_that_cannot_start(home: Home) -> None:
    home.config(f"[default]\ncredential_process = {home.path}/does-not-exist --x\n")
    with pytest.raises(cfinval.CredentialRetrievalError, match="could not run: FileNotFoundError"):
        list_once("async", endpoint_url="http://127.0.0.1:9")


def test_credential_process_timeout(home: Home) -> None:
    script = home.file("slow.py", "import time\ntime.sleep(30)\n")
    provider = cfinval.ProcessProvider(command=[sys.executable, str(script)], timeout=0.1)
    result, took = elapsed(lambda: list_once("sync", credentials=provider))
    assert isinstance(result, cfinval.CredentialRetrievalError)
    assert "TimeoutExpired" in str(result)
    assert took < 5


def test_async_credential_process_does_not_block_the_event_loop(home: Home) -> None:
    started, go = home.path / "started", home.path / "go"
    # the process says it started, then waits (up to 5 s) for the event loop to answer
    wait = (
        f"import pathlib, time; pathlib.Path({str(started)!r}).touch()\n"
        f"for _ in range(1000):\n    if pathlib.Path({str(go)!r}).exists(): break\n"
        "    time.sleep(0.005)\nelse:\n    raise SystemExit('the event loop never answered')"
    )
    home.config(f"[default]\ncredential_process = {process_script(home, PROCESS, extra=wait)}\n")

    async def answer_once_started() -> None:
        while not started.exists():
            await asyncio.sleep(0.005)
        go.touch()

    async def main(url: str) -> None:
        task = asyncio.create_task(answer_once_started())
        async with cfinval.AsyncClient(endpoint_url=url) as client:
            await client.list_invalidations_for_distribution_tenant("dt_1")
        await task

    with cloudfront(PROCESS) as (fake, url):
        asyncio.run(main(url))
    assert key_id_of(fake) == PROCESS.access_key_id


# --- web identity --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_web_identity_from_environment(kind: str, home: Home) -> None:
    token_file = home.file("token", "eyJ-web-identity-token")
    with sts_server() as (sts, stub), cloudfront(WEB) as (fake, url):
        sts.tokens.add("eyJ-web-identity-token")
        sts.role("arn:aws:iam::123456789012:role/web", WEB)
        home.env(
            AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
            AWS_ROLE_ARN="arn:aws:iam::123456789012:role/web",
            AWS_ROLE_SESSION_NAME="pod-7",
            AWS_ENDPOINT_URL_STS=stub.url,
        )
        list_once(kind, endpoint_url=url)
    assert key_id_of(fake) == WEB.access_key_id
    assert sts.calls[-1]["RoleSessionName"] == "pod-7"
    assert "authorization" not in stub.requests[-1].headers


def test_web_identity_from_an_explicit_profile_ignores_the_environment(home: Home) -> None:
    env_token = home.file("env-token", "env-token")
    profile_token = home.file("profile-token", "profile-token")
    home.config(
        f"[profile k8s]\nweb_identity_token_file = {profile_token}\n"
        "role_arn = arn:aws:iam::123456789012:role/profile\n"
    )
    with sts_server() as (sts, stub), cloudfront(WEB) as (fake, url):
        sts.tokens.update({"env-token", "profile-token"})
        sts.role("arn:aws:iam::123456789012:role/profile", WEB)
        home.env(
            AWS_WEB_IDENTITY_TOKEN_FILE=str(env_token),
            AWS_ROLE_ARN="arn:aws:iam::123456789012:role/env",
            AWS_ENDPOINT_URL_STS=stub.url,
        )
        list_once("sync", endpoint_url=url, profile="k8s")
    assert sts.calls[-1]["WebIdentityToken"] == "profile-token"
    assert sts.calls[-1]["RoleArn"] == "arn:aws:iam::123456789012:role/profile"
    assert sts.calls[-1]["RoleSessionName"].startswith("cfinval-session-")
    assert key_id_of(fake) == WEB.access_key_id


def test_web_identity_without_role_arn_is_a_config_error(home: Home) -> None:
    home.env(AWS_WEB_IDENTITY_TOKEN_FILE=str(home.file("t", "x")))
    with pytest.raises(cfinval.ConfigError, match="AWS_ROLE_ARN"):
        list_once("sync", endpoint_url="http://127.0.0.1:9")


def test_web_identity_unreadable_token_file(home: Home) -> None:
    home.env(AWS_WEB_IDENTITY_TOKEN_FILE=str(home.path / "missing"), AWS_ROLE_ARN="arn:x")
    with pytest.raises(cfinval.CredentialRetrievalError, match="web identity token file"):
        list_once("sync", endpoint_url="http://127.0.0.1:9")


def test_web_identity_provider_with_explicit_arguments(home: Home) -> None:
    token_file = home.file("tok", "explicit-token")
    with sts_server() as (sts, stub), cloudfront(WEB) as (fake, url):
        sts.tokens.add("explicit-token")
        sts.role("arn:aws:iam::1:role/x", WEB)
        home.env(AWS_ENDPOINT_URL_STS=stub.url)
        provider = cfinval.WebIdentityProvider(
            role_arn="arn:aws:iam::1:role/x", token_file=str(token_file), role_session_name="s1"
        )
        list_once("async", endpoint_url=url, credentials=provider)
    assert sts.calls[-1]["RoleSessionName"] == "s1"
    assert key_id_of(fake) == WEB.access_key_id


# --- assume role ---------------------------------------------------------------------------------


def role_config(home: Home, sts_url: str, extra: str = "") -> None:
    home.credentials(
        f"[base]\naws_access_key_id = {FILE.access_key_id}\n"
        f"aws_secret_access_key = {FILE.secret_access_key}\n"
    )
    home.config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\n"
        "source_profile = base\nrole_session_name = audit\nexternal_id = ext-42\n"
        f"duration_seconds = 1800\n{extra}"
    )
    home.env(AWS_ENDPOINT_URL_STS=sts_url)


@pytest.mark.parametrize("kind", KINDS)
def test_assume_role_with_source_profile_signed_by_our_signer(kind: str, home: Home) -> None:
    with sts_server() as (sts, stub), cloudfront(ROLE) as (fake, url):
        role_config(home, stub.url)
        sts.callers[FILE.access_key_id] = FILE  # the signature is checked with botocore
        sts.role("arn:aws:iam::123456789012:role/admin", ROLE)
        list_once(kind, endpoint_url=url, profile="admin")
    assert key_id_of(fake) == ROLE.access_key_id
    call = sts.calls[-1]
    assert call["Action"] == "AssumeRole"
    assert call["RoleSessionName"] == "audit"
    assert call["ExternalId"] == "ext-42"
    assert call["DurationSeconds"] == "1800"
    assert "SerialNumber" not in call


def test_assume_role_through_a_chain_of_roles(home: Home) -> None:
    with sts_server() as (sts, stub), cloudfront(ROLE2) as (fake, url):
        role_config(
            home,
            stub.url,
            "[profile deep]\nrole_arn = arn:aws:iam::123456789012:role/deep\n"
            "source_profile = admin\n",
        )
        sts.callers[FILE.access_key_id] = FILE
        sts.callers[ROLE.access_key_id] = ROLE
        sts.role("arn:aws:iam::123456789012:role/admin", ROLE)
        sts.role("arn:aws:iam::123456789012:role/deep", ROLE2)
        home.env(AWS_PROFILE="deep")
        list_once("sync", endpoint_url=url)
    assert [c["RoleArn"].rsplit("/", 1)[1] for c in sts.calls] == ["admin", "deep"]
    assert key_id_of(fake) == ROLE2.access_key_id


def test_assume_role_with_credential_source_environment(home: Home) -> None:
    home.config(
        "[profile ops]\nrole_arn = arn:aws:iam::1:role/ops\ncredential_source = Environment\n"
    )
    with sts_server() as (sts, stub), cloudfront(ROLE) as (fake, url):
        sts.callers[ENV.access_key_id] = ENV
        sts.role("arn:aws:iam::1:role/ops", ROLE)
        home.env(
            AWS_ENDPOINT_URL_STS=stub.url,
            AWS_ACCESS_KEY_ID=ENV.access_key_id,
            AWS_SECRET_ACCESS_KEY=ENV.secret_access_key,
            AWS_SESSION_TOKEN=ENV.session_token or "",
        )
        list_once("async", endpoint_url=url, profile="ops")
    assert key_id_of(fake) == ROLE.access_key_id
    assert stub.requests[-1].headers["x-amz-security-token"] == ENV.session_token


def test_assume_role_credential_source_with_nothing_there(home: Home) -> None:
    home.config(
        "[profile ops]\nrole_arn = arn:aws:iam::1:role/ops\ncredential_source = Environment\n"
    )
    with pytest.raises(
        cfinval.CredentialRetrievalError, match="No credentials found in credential_source"
    ):
        list_once("sync", endpoint_url="http://127.0.0.1:9", profile="ops")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "[profile a]\nrole_arn = r\nsource_profile = b\n"
            "[profile b]\nrole_arn = r\nsource_profile = a\n",
            "Infinite loop",
        ),
        ("[profile a]\nrole_arn = r\nsource_profile = a\n", "Infinite loop"),
        ("[profile a]\nrole_arn = r\nsource_profile = ghost\n", 'source_profile "ghost"'),
        (
            "[profile a]\nrole_arn = r\nsource_profile = b\n"
            "credential_source = Environment\n[profile b]\n",
            "both",
        ),
        ("[profile a]\nrole_arn = r\n", "neither source_profile nor credential_source"),
        ("[profile a]\nrole_arn = r\ncredential_source = Moon\n", 'credential source "Moon"'),
        (
            "[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nregion = us-east-1\n",
            'source profile "b" must have credentials',
        ),
    ],
)
def test_bad_role_configuration_is_a_config_error(home: Home, config: str, message: str) -> None:
    home.config(config)
    with pytest.raises(cfinval.ConfigError, match=message):
        list_once("sync", profile="a", endpoint_url="http://127.0.0.1:9")


def test_assume_role_may_source_static_keys_from_its_own_profile(home: Home) -> None:
    with sts_server() as (sts, stub), cloudfront(ROLE) as (fake, url):
        home.credentials(
            f"[self]\naws_access_key_id = {FILE.access_key_id}\n"
            f"aws_secret_access_key = {FILE.secret_access_key}\n"
            "role_arn = arn:aws:iam::1:role/self\nsource_profile = self\n"
        )
        sts.callers[FILE.access_key_id] = FILE
        sts.role("arn:aws:iam::1:role/self", ROLE)
        home.env(AWS_ENDPOINT_URL_STS=stub.url)
        list_once("sync", endpoint_url=url, profile="self")
    assert key_id_of(fake) == ROLE.access_key_id


def test_assume_role_refused_by_sts_carries_the_code(home: Home) -> None:
    with sts_server() as (sts, stub):
        role_config(home, stub.url)
        sts.callers[FILE.access_key_id] = FILE  # but no such role: AccessDenied
        with pytest.raises(cfinval.CredentialRetrievalError) as raised:
            list_once("sync", endpoint_url="http://127.0.0.1:9", profile="admin")
    assert raised.value.code == "AccessDenied"
    assert "AccessDenied" in str(raised.value)
    assert "AssumeRole" in str(raised.value)
    assert len(sts.calls) == 1  # not retried


def test_assume_role_retries_sts_throttling_and_5xx(home: Home) -> None:
    sleeps: list[float] = []
    with sts_server() as (sts, stub), cloudfront(ROLE) as (fake, url):
        role_config(home, stub.url)
        sts.callers[FILE.access_key_id] = FILE
        sts.role("arn:aws:iam::123456789012:role/admin", ROLE)
        sts.fail_next = [(503, "ServiceUnavailable"), (400, "Throttling")]
        list_once("sync", endpoint_url=url, profile="admin", sleep=sleeps.append)
    assert len(sts.calls) == 3
    assert key_id_of(fake) == ROLE.access_key_id
    # the standard backoff: random() * 50 ms after the 5xx, random() * 2 s after throttling
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.05
    assert 0 <= sleeps[1] <= 2.0


STS_URL = "https://sts.amazonaws.com"


def sts_answer(status: int, code: str = "", headers: dict[str, str] | None = None) -> HttpResponse:
    """An STS answer for :class:`Script`: credentials (200) or an ``ErrorResponse``."""
    if status == 200:
        body = (
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
            f"<AccessKeyId>{WEB.access_key_id}</AccessKeyId>"
            f"<SecretAccessKey>{WEB.secret_access_key}</SecretAccessKey>"
            f"<SessionToken>{WEB.session_token}</SessionToken>"
            "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
            "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
        )
    else:
        body = (
            f"<ErrorResponse><Error><Code>{code}</Code><Message>m</Message></Error></ErrorResponse>"
        )
    return HttpResponse(status, headers or {}, body.encode())


def web_identity_call(random: float = 1.0) -> Flow[Credentials]:
    from cfinval._core.protocol import Endpoint
    from cfinval._credentials.sts import sts_credentials_flow

    return sts_credentials_flow(
        provider="assume-role-with-web-identity",
        endpoint=Endpoint.from_url(STS_URL, "us-east-1"),
        action="AssumeRoleWithWebIdentity",
        params=[("RoleArn", "arn:aws:iam::1:role/w"), ("WebIdentityToken", "t")],
        credentials=None,
        clock=lambda: 1_700_000_000.0,
        random=lambda: random,
    )


def test_sts_backs_off_as_the_standard_retry_mode_does() -> None:
    script = Script(
        sts_answer(500, "InternalFailure"), sts_answer(400, "Throttling"), sts_answer(200)
    )
    found = script.run(web_identity_call(random=1.0))
    assert found.access_key_id == WEB.access_key_id
    assert script.sleeps == [0.05, 2.0]  # 50 ms * 2**0, then 1 s * 2**1 after throttling


def test_sts_honours_retry_after_within_the_standard_cap() -> None:
    later = sts_answer(503, "ServiceUnavailable", {"x-amz-retry-after": "3000"})
    script = Script(later, sts_answer(200))
    script.run(web_identity_call(random=0.0))
    assert script.sleeps == [3.0]


def test_sts_retries_idp_communication_error_and_stops_after_three_attempts() -> None:
    script = Script(*[sts_answer(400, "IDPCommunicationError")] * 3)
    with pytest.raises(cfinval.CredentialRetrievalError) as raised:
        script.run(web_identity_call())
    assert raised.value.code == "IDPCommunicationError"
    assert len(script.requests) == 3
    assert len(script.sleeps) == 2


def test_sts_does_not_retry_access_denied() -> None:
    script = Script(sts_answer(403, "AccessDenied"))
    with pytest.raises(cfinval.CredentialRetrievalError, match="AccessDenied"):
        script.run(web_identity_call())
    assert script.sleeps == []


def test_assume_role_gives_up_after_three_attempts(home: Home) -> None:
    sleeps: list[float] = []
    with sts_server() as (sts, stub):
        role_config(home, stub.url)
        sts.fail_next = [(500, "InternalFailure")] * 5
        with pytest.raises(cfinval.CredentialRetrievalError, match="InternalFailure"):
            list_once(
                "sync", endpoint_url="http://127.0.0.1:9", profile="admin", sleep=sleeps.append
            )
    assert len(sts.calls) == 3
    assert len(sleeps) == 2


def test_assume_role_sts_unreachable(home: Home) -> None:
    sleeps: list[float] = []
    with closed_port() as url:
        role_config(home, url)
        with pytest.raises(
            cfinval.CredentialRetrievalError,
            match=r'AssumeRole failed: Could not connect to the endpoint URL: "http://127\.0\.0\.1',
        ):
            list_once(
                "sync", endpoint_url="http://127.0.0.1:9", profile="admin", sleep=sleeps.append
            )
    assert len(sleeps) == 2  # retried as a network failure, without waiting here


MFA = "arn:aws:iam::123456789012:mfa/me"


@pytest.mark.parametrize("kind", KINDS)
def test_assume_role_with_mfa_asks_the_prompter_off_the_event_loop(kind: str, home: Home) -> None:
    prompts: list[tuple[str, bool]] = []

    def prompter(text: str) -> str:
        prompts.append((text, threading.current_thread() is threading.main_thread()))
        return "123456"

    with sts_server() as (sts, stub), cloudfront(ROLE) as (fake, url):
        role_config(home, stub.url, f"mfa_serial = {MFA}\n")
        sts.callers[FILE.access_key_id] = FILE
        sts.role("arn:aws:iam::123456789012:role/admin", ROLE)
        provider = cfinval.AssumeRoleProvider("admin", mfa_prompter=prompter)
        list_once(kind, endpoint_url=url, credentials=provider)
    # the sync client asks in the caller's thread; the async one in a worker thread, so the
    # event loop (on the main thread here) keeps running while the user types
    assert prompts == [(f"Enter MFA code for {MFA}: ", kind == "sync")]
    assert sts.calls[-1]["SerialNumber"] == MFA
    assert sts.calls[-1]["TokenCode"] == "123456"
    assert key_id_of(fake) == ROLE.access_key_id


def test_mfa_code_is_read_with_getpass_by_default(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass

    asked: list[str] = []
    monkeypatch.setattr(getpass, "getpass", lambda text: asked.append(text) or "654321")
    with sts_server() as (sts, stub), cloudfront(ROLE) as (_fake, url):
        role_config(home, stub.url, f"mfa_serial = {MFA}\n")
        sts.callers[FILE.access_key_id] = FILE
        sts.role("arn:aws:iam::123456789012:role/admin", ROLE)
        list_once("async", endpoint_url=url, profile="admin")
    assert asked == [f"Enter MFA code for {MFA}: "]
    assert sts.calls[-1]["TokenCode"] == "654321"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [(EOFError(), "EOFError"), (b"123456", "returned bytes, not str")],
)
def test_mfa_prompt_without_an_answer_is_a_retrieval_error(
    home: Home, answer: object, reason: str
) -> None:
    def prompter(text: str) -> str:
        if isinstance(answer, BaseException):
            raise answer
        return answer  # type: ignore[return-value]

    role_config(home, "http://127.0.0.1:9", f"mfa_serial = {MFA}\n")
    provider = cfinval.AssumeRoleProvider("admin", mfa_prompter=prompter)
    with pytest.raises(
        cfinval.CredentialRetrievalError, match="could not read the MFA code"
    ) as raised:
        list_once("sync", endpoint_url="http://127.0.0.1:9", credentials=provider)
    assert reason in str(raised.value)


def test_mfa_prompt_is_an_effect_of_the_flow(home: Home) -> None:
    role_config(home, STS_URL, f"mfa_serial = {MFA}\n")

    def prompter(text: str) -> str:  # pragma: no cover (the script answers instead)
        raise AssertionError("a flow never calls the prompter itself")

    provider = cfinval.AssumeRoleProvider("admin", mfa_prompter=prompter)
    script = Script("000000", sts_answer(403, "AccessDenied"))
    with pytest.raises(cfinval.CredentialRetrievalError, match="AccessDenied"):
        script.run(load_flow(provider))
    prompt = script.effects[0]
    assert isinstance(prompt, Prompt)
    assert prompt.text == f"Enter MFA code for {MFA}: "
    assert prompt.ask is prompter
    assert ("TokenCode", "000000") in parse_qsl(script.requests[0].body.decode())


def test_assume_role_source_token_expired_is_refreshed_once(home: Home) -> None:
    """STS says the source's token expired: the source is reloaded (a counter-driven
    credential_process hands out new keys) and AssumeRole is tried again."""
    counter = home.path / "n"
    counter.write_text("0")
    script = home.file(
        "rotating.py",
        textwrap.dedent(
            f"""
            import json, pathlib
            p = pathlib.Path({str(counter)!r}); n = int(p.read_text()) + 1; p.write_text(str(n))
            print(json.dumps({{"Version": 1, "AccessKeyId": f"ASIASOURCE{{n:010d}}",
                              "SecretAccessKey": f"SECRET-src-{{n}}", "SessionToken": f"T{{n}}",
                              "Expiration": "2099-01-01T00:00:00Z"}}))
            """
        ),
    )
    home.config(
        f"[profile src]\ncredential_process = {sys.executable} {script}\n"
        "[profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = src\n"
    )
    with sts_server() as (sts, stub), cloudfront(ROLE) as (fake, url):
        home.env(AWS_ENDPOINT_URL_STS=stub.url)
        for n in (1, 2):
            sts.callers[f"ASIASOURCE{n:010d}"] = Credentials(
                f"ASIASOURCE{n:010d}", f"SECRET-src-{n}", f"T{n}"
            )
        sts.expired_keys.add("ASIASOURCE0000000001")
        sts.role("arn:aws:iam::1:role/admin", ROLE)
        list_once("sync", endpoint_url=url, profile="admin")
    assert counter.read_text() == "2"
    assert key_id_of(fake) == ROLE.access_key_id


# --- container credentials -----------------------------------------------------------------------


def container_stub(creds: Credentials, expect_auth: list[str] | None = None) -> Stub:
    def handler(req: object) -> tuple[int, dict[str, str], bytes]:
        from ._local_aws import Req

        assert isinstance(req, Req)
        if expect_auth is not None and req.headers.get("authorization") != expect_auth[0]:
            return 401, {}, b'{"message": "bad token"}'
        body = creds_json(creds) | {"RoleArn": "arn:aws:iam::1:role/task"}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    return Stub(handler)


@pytest.mark.parametrize("kind", KINDS)
def test_container_full_uri_with_authorization_token(kind: str, home: Home) -> None:
    with (
        container_stub(CONTAINER, ["Bearer pod-token"]) as stub,
        cloudfront(CONTAINER) as (fake, url),
    ):
        home.env(
            AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/v2/credentials/abc",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer pod-token",
        )
        list_once(kind, endpoint_url=url)
    assert key_id_of(fake) == CONTAINER.access_key_id
    assert stub.requests[0].path == "/v2/credentials/abc"
    assert stub.requests[0].headers["accept"] == "application/json"


def test_container_token_file_is_reread_on_every_fetch(home: Home) -> None:
    token_file = home.file("eks-token", "first")
    expected = ["first"]
    with container_stub(CONTAINER, expected) as stub:
        home.env(
            AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file),
            AWS_CONTAINER_AUTHORIZATION_TOKEN="ignored-when-the-file-is-set",
        )
        provider = cfinval.ContainerProvider(retry_delay=0)
        assert asyncio.run(_load(provider)).access_key_id == CONTAINER.access_key_id
        token_file.write_text("second")  # EKS rotates the projected token
        expected[0] = "second"
        assert asyncio.run(_load(provider)).secret_access_key == CONTAINER.secret_access_key
    assert [r.headers["authorization"] for r in stub.requests] == ["first", "second"]


async def _load(provider: object) -> Credentials:
    async with cfinval.AsyncClient(credentials=provider) as client:
        return await client._run(client._session.credentials.get())


@pytest.mark.parametrize(
    "url",
    ["http://example.com/creds", "http://10.0.0.1/creds", "ftp://127.0.0.2/x", "not a url"],
)
def test_container_full_uri_host_must_be_allowed(home: Home, url: str) -> None:
    home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=url)
    with pytest.raises(cfinval.ConfigError, match="Unsupported host"):
        list_once("sync", endpoint_url="http://127.0.0.1:9")


@pytest.mark.parametrize("template", ["https://127.0.0.1:{port}/x", "http://localhost:{port}/x"])
def test_container_https_and_localhost_are_allowed(home: Home, template: str) -> None:
    with Stub(lambda req: (200, {}, json.dumps(creds_json(CONTAINER)).encode())) as stub:
        port = stub.url.rsplit(":", 1)[1]
        home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=template.format(port=port))
        provider = cfinval.ContainerProvider(attempts=1)
        if template.startswith("https"):  # allowed, but this endpoint does not speak TLS
            with pytest.raises(cfinval.CredentialRetrievalError, match="1 attempt"):
                list_once("sync", credentials=provider)
        else:
            assert asyncio.run(_load(provider)).access_key_id == CONTAINER.access_key_id


def test_container_unreadable_token_file(home: Home) -> None:
    home.env(
        AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:9/x",
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(home.path / "no-token"),
    )
    with pytest.raises(cfinval.CredentialRetrievalError, match="FileNotFoundError"):
        list_once("sync", endpoint_url="http://127.0.0.1:9")


def test_container_token_with_newline_is_refused(home: Home) -> None:
    home.env(
        AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:9/x",
        AWS_CONTAINER_AUTHORIZATION_TOKEN="a\r\nX-Injected: 1",
    )
    with pytest.raises(cfinval.ConfigError, match="not a legal header value"):
        list_once("sync", endpoint_url="http://127.0.0.1:9")


def test_container_retries_then_succeeds(home: Home) -> None:
    answers = [500, 200]

    def handler(req: object) -> tuple[int, dict[str, str], bytes]:
        status = answers.pop(0)
        body = json.dumps(creds_json(CONTAINER)).encode() if status == 200 else b"oops"
        return status, {}, body

    sleeps: list[float] = []
    with Stub(handler) as stub, cloudfront(CONTAINER) as (_fake, url):
        home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/c")
        page = list_once("sync", endpoint_url=url, sleep=sleeps.append)
    assert page.items
    assert len(stub.requests) == 2
    assert sleeps == [1.0]  # botocore's 1 s pause between attempts


def test_container_failure_after_all_attempts(home: Home) -> None:
    sleeps: list[float] = []
    with Stub(lambda req: (200, {}, b"<html>not json</html>")) as stub:
        home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/c")
        with pytest.raises(cfinval.CredentialRetrievalError, match=r"3 attempt.*not a JSON object"):
            list_once("sync", endpoint_url="http://127.0.0.1:9", sleep=sleeps.append)
    assert len(stub.requests) == 3
    assert sleeps == [1.0, 1.0]  # between attempts, not after the last


def test_container_answer_without_a_field(home: Home) -> None:
    body = json.dumps({"AccessKeyId": "A", "SecretAccessKey": "B", "Token": "C"}).encode()
    with Stub(lambda req: (200, {}, body)) as stub:
        home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/c")
        with pytest.raises(cfinval.CredentialRetrievalError, match="no Expiration"):
            list_once("sync", endpoint_url="http://127.0.0.1:9")


def test_container_relative_uri_wins_over_full_uri() -> None:
    provider = cfinval.ContainerProvider(
        {
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/rel",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/full",
        }
    )
    script = Script(HttpResponse(200, {}, json.dumps(creds_json(CONTAINER)).encode()))
    assert script.run(load_flow(provider)).access_key_id == CONTAINER.access_key_id
    assert [(r.url, r.timeout) for r in script.requests] == [
        ("http://169.254.170.2/v2/credentials/rel", 2.0)
    ]


# --- the instance metadata service ---------------------------------------------------------------


def enable_imds(home: Home, url: str) -> None:
    home.env(AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=url)


@pytest.mark.parametrize("kind", KINDS)
def test_imds_v2_token_role_and_credentials(kind: str, home: Home) -> None:
    with Stub(FakeIMDS(IMDS)) as imds, cloudfront(IMDS) as (fake, url):
        enable_imds(home, imds.url)
        list_once(kind, endpoint_url=url)
    assert key_id_of(fake) == IMDS.access_key_id
    assert [(r.method, r.path) for r in imds.requests] == [
        ("PUT", "/latest/api/token"),
        ("GET", "/latest/meta-data/iam/security-credentials/"),
        ("GET", "/latest/meta-data/iam/security-credentials/cfinval-test-role"),
    ]


@pytest.mark.parametrize("status", [403, 404, 405])
def test_imds_falls_back_to_v1_when_no_token_is_given(home: Home, status: int) -> None:
    with (
        Stub(FakeIMDS(IMDS, token_status=status, v1=True)) as imds,
        cloudfront(IMDS) as (fake, url),
    ):
        enable_imds(home, imds.url)
        list_once("sync", endpoint_url=url)
    assert key_id_of(fake) == IMDS.access_key_id
    assert "x-aws-ec2-metadata-token" not in imds.requests[-1].headers


def test_imds_v1_disabled_refuses_to_fall_back(home: Home) -> None:
    with Stub(FakeIMDS(IMDS, token_status=404, v1=True)) as imds:
        enable_imds(home, imds.url)
        home.env(AWS_EC2_METADATA_V1_DISABLED="true")
        with pytest.raises(cfinval.CredentialRetrievalError, match="IMDSv1 has been disabled"):
            list_once("sync", endpoint_url="http://127.0.0.1:9")
    assert len(imds.requests) == 1


def test_imds_token_request_refused_with_400_means_no_credentials(home: Home) -> None:
    with Stub(FakeIMDS(IMDS, token_status=400)) as imds:
        enable_imds(home, imds.url)
        with pytest.raises(cfinval.NoCredentialsError, match="EC2 instance metadata"):
            list_once("sync", endpoint_url="http://127.0.0.1:9")
    assert len(imds.requests) == 1


def test_imds_disabled_makes_no_request(home: Home) -> None:
    with Stub(FakeIMDS(IMDS)) as imds:
        enable_imds(home, imds.url)
        home.env(AWS_EC2_METADATA_DISABLED="TRUE")
        with pytest.raises(
            cfinval.NoCredentialsError, match="disabled by AWS_EC2_METADATA_DISABLED"
        ):
            list_once("sync", endpoint_url="http://127.0.0.1:9")
    assert imds.requests == []


def test_imds_endpoint_from_the_profile(home: Home) -> None:
    with Stub(FakeIMDS(IMDS)) as imds, cloudfront(IMDS) as (fake, url):
        home.config(f"[default]\nec2_metadata_service_endpoint = {imds.url}\n")
        home.env(AWS_EC2_METADATA_DISABLED="false")
        list_once("async", endpoint_url=url)
    assert key_id_of(fake) == IMDS.access_key_id


def test_imds_endpoint_mode_ipv6_and_invalid_mode(home: Home) -> None:
    home.env(AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE="IPv6")
    assert cfinval.InstanceMetadataProvider().base_url() == "http://[fd00:ec2::254]/"
    home.env(AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE="ipv5")
    with pytest.raises(cfinval.ConfigError, match="ipv5"):
        cfinval.InstanceMetadataProvider().base_url()


def test_a_hung_imds_costs_two_1_second_timeouts_then_no_credentials(home: Home) -> None:
    url = "http://169.254.169.254/"
    home.env(AWS_EC2_METADATA_DISABLED="false")
    hung = TransportFailure(httpx.ReadTimeout("timed out"), "timeout")
    script = Script(answer=hung)
    with pytest.raises(cfinval.NoCredentialsError) as raised:
        script.run(CredentialResolver(cfinval.default_chain()).get())
    # the token PUT times out (so no IMDSv2: try v1), the role GET times out: no retries
    assert [(r.method, r.url, r.timeout) for r in script.requests] == [
        ("PUT", url + "latest/api/token", 1.0),
        ("GET", url + "latest/meta-data/iam/security-credentials/", 1.0),
    ]
    assert script.sleeps == []
    message = str(raised.value)
    for place in (
        "environment variables",
        str(home.aws / "credentials"),
        str(home.aws / "config"),
        "credential_process",
        "container credentials",
        f"EC2 instance metadata {url}",
        "ReadTimeout",
    ):
        assert place in message


@pytest.mark.parametrize("kind", KINDS)
def test_the_drivers_enforce_a_metadata_request_timeout(kind: str, home: Home) -> None:
    with black_hole() as url:
        provider = cfinval.InstanceMetadataProvider(endpoint=url, timeout=0.05, disabled=False)
        result, took = elapsed(lambda: list_once(kind, credentials=provider))
    assert isinstance(result, cfinval.NoCredentialsError)
    assert "ReadTimeout" in str(result)
    assert took < 1.0  # two requests of 0.05 s each, not the 10 s client timeout


def test_no_credentials_fast_when_nothing_listens(home: Home) -> None:
    with closed_port() as url:
        enable_imds(home, url)
        result, took = elapsed(lambda: list_once("sync", endpoint_url="http://127.0.0.1:9"))
    assert isinstance(result, cfinval.NoCredentialsError)
    assert took < 1.0


def test_imds_credentials_past_expiry_are_extended(home: Home) -> None:
    stale = iso(time_ago(seconds=60))
    provider = cfinval.InstanceMetadataProvider(random=lambda: 0.5)
    with Stub(FakeIMDS(IMDS, expiration=lambda: stale)) as imds:
        enable_imds(home, imds.url)
        found = asyncio.run(_load(provider))
    assert found.access_key_id == IMDS.access_key_id
    assert found.expiration is not None
    left = found.expiration.timestamp() - time.time()
    assert 15 * 60 + 120 + 240 - 5 < left < 15 * 60 + 120 + 240 + 5


def test_imds_role_missing_fields_means_no_credentials(home: Home) -> None:
    def handler(req: object) -> tuple[int, dict[str, str], bytes]:
        from ._local_aws import Req

        assert isinstance(req, Req)
        if req.path == "/latest/api/token":
            return 200, {}, b"tok"
        if req.path.endswith("/security-credentials/"):
            return 200, {}, b"role"
        return 200, {}, b'{"Code": "AssumeRoleUnauthorizedAccess", "Message": "no"}'

    with Stub(handler) as imds:
        enable_imds(home, imds.url)
        with pytest.raises(cfinval.NoCredentialsError, match="lack AccessKeyId"):
            list_once("sync", endpoint_url="http://127.0.0.1:9")


class Flaky(FakeIMDS):
    """IMDS whose first answer to each GET is a 500 (and whose token PUT fails once)."""

    def __init__(self, creds: Credentials, **kwargs: object) -> None:
        super().__init__(creds, **kwargs)  # type: ignore[arg-type]
        self.failed: set[tuple[str, str]] = set()

    def __call__(self, req: object) -> tuple[int, dict[str, str], bytes]:
        from ._local_aws import Req

        assert isinstance(req, Req)
        if (req.method, req.path) not in self.failed:
            self.failed.add((req.method, req.path))
            return 500, {}, b""
        return super().__call__(req)


def test_imds_attempts_setting_retries_each_request(home: Home) -> None:
    with Stub(Flaky(IMDS)) as imds, cloudfront(IMDS) as (fake, url):
        enable_imds(home, imds.url)
        with pytest.raises(cfinval.NoCredentialsError, match="HTTP 500"):
            list_once("sync", endpoint_url=url)  # one attempt each: the role GET fails
        home.env(AWS_METADATA_SERVICE_NUM_ATTEMPTS="2", AWS_METADATA_SERVICE_TIMEOUT="2")
        list_once("sync", endpoint_url=url)
    assert key_id_of(fake) == IMDS.access_key_id


def test_imds_bad_number_setting_is_a_config_error(home: Home) -> None:
    home.env(AWS_EC2_METADATA_DISABLED="false", AWS_METADATA_SERVICE_NUM_ATTEMPTS="two")
    with pytest.raises(cfinval.ConfigError, match="AWS_METADATA_SERVICE_NUM_ATTEMPTS"):
        list_once("sync", endpoint_url="http://127.0.0.1:9")


def test_imds_without_a_role_means_no_credentials(home: Home) -> None:
    with Stub(FakeIMDS(IMDS, role="")) as imds:
        enable_imds(home, imds.url)
        with pytest.raises(cfinval.NoCredentialsError, match="nothing from http"):
            list_once("sync", endpoint_url="http://127.0.0.1:9")


def time_ago(seconds: float) -> object:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds)


# --- composing providers -------------------------------------------------------------------------


def test_user_chain_of_providers_and_plain_load(home: Home) -> None:
    class Vault:
        method = "vault"

        def __init__(self) -> None:
            self.calls = 0

        def load(self) -> Credentials:  # a plain function, not a flow
            self.calls += 1
            return PROCESS

    vault = Vault()
    chain = cfinval.ChainProvider([cfinval.EnvProvider(), vault])
    with cloudfront(PROCESS) as (fake, url):
        list_once("sync", endpoint_url=url, credentials=chain)
        list_once("async", endpoint_url=url, credentials=lambda: PROCESS)
    assert vault.calls == 1
    assert key_id_of(fake, 0) == key_id_of(fake, 1) == PROCESS.access_key_id


def test_default_chain_is_a_provider_you_can_wrap(home: Home) -> None:
    home.credentials(
        f"[x]\naws_access_key_id = {FILE.access_key_id}\n"
        f"aws_secret_access_key = {FILE.secret_access_key}\n"
    )
    chain = cfinval.default_chain("x")
    assert [p.method for p in chain.providers][:3] == [
        "assume-role",
        "assume-role-with-web-identity",
        "sso",
    ]
    with cloudfront(FILE) as (fake, url):
        list_once("sync", endpoint_url=url, credentials=chain)
    assert key_id_of(fake) == FILE.access_key_id


def test_a_provider_returning_something_else_is_refused() -> None:
    class Broken:
        method = "broken"

        def load(self) -> object:
            return ("AKID", "secret")

    with pytest.raises(cfinval.ParamValidationError, match="broken returned tuple"):
        list_once("sync", credentials=Broken())
    with pytest.raises(cfinval.ParamValidationError, match="providers with load"):
        cfinval.ChainProvider([object()])
    with pytest.raises(cfinval.ParamValidationError, match="credentials must be"):
        cfinval.Client(credentials=42)


def test_new_errors_survive_pickling() -> None:
    import pickle

    errors: list[cfinval.Error] = [
        cfinval.ProfileNotFound("dev"),
        cfinval.CredentialRetrievalError("assume-role", "denied", code="AccessDenied"),
        cfinval.ConfigError("bad"),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
        assert type(copy) is type(error)
        assert str(copy) == str(error)
    retrieval = pickle.loads(pickle.dumps(errors[1]))  # noqa: S301
    assert isinstance(retrieval, cfinval.CredentialRetrievalError)
    assert (retrieval.provider, retrieval.code) == ("assume-role", "AccessDenied")
    assert isinstance(retrieval, cfinval.NoCredentialsError)


# --- deeply nested JSON: a typed error, never a RecursionError ------------------------------------

#: Nested far past what ``json`` can parse without running out of recursion.
NESTED = b'{"AccessKeyId": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
#: Parseable, but deeper than any identity service answers (and than a ``repr`` may go).
DEEP = b'{"AccessKeyId": ' + b"[" * 200 + b"]" * 200 + b"}"


@pytest.mark.parametrize("body", [NESTED, DEEP, b"[" * 100_000], ids=["nested", "deep", "bare"])
def test_a_deeply_nested_container_answer_is_a_retrieval_error(body: bytes) -> None:
    provider = cfinval.ContainerProvider(
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/c"}, attempts=1
    )
    script = Script(answer=HttpResponse(200, {}, body))
    with pytest.raises(cfinval.CredentialRetrievalError, match="not a JSON object"):
        script.run(load_flow(provider))


def test_a_deeply_nested_instance_metadata_answer_is_invalid_json(home: Home) -> None:
    # botocore: an IMDS answer that is not JSON means no credentials from IMDS (the chain goes on)
    enable_imds(home, "http://169.254.169.254")

    def answer(request: Any) -> HttpResponse:
        if request.url.endswith("/api/token"):
            return HttpResponse(200, {}, b"tok")
        if request.url.endswith("/security-credentials/"):
            return HttpResponse(200, {}, b"role")
        return HttpResponse(200, {}, NESTED)

    provider = cfinval.InstanceMetadataProvider(attempts=1)
    seen: list[Any] = []

    def perform(effect: Any) -> Any:
        seen.append(effect)
        return answer(effect.request) if isinstance(effect, Send) else None

    assert run(load_flow(provider), perform) is None
    assert "invalid JSON from" in provider.describe()


def test_a_deeply_nested_credential_process_output_is_a_retrieval_error(home: Home) -> None:
    script = home.file("nested.py", "print('[' * 100000 + ']' * 100000)\n")
    provider = cfinval.ProcessProvider(command=[sys.executable, str(script)])
    with pytest.raises(cfinval.CredentialRetrievalError, match="did not print valid JSON"):
        list_once("sync", endpoint_url="http://127.0.0.1:9", credentials=provider)


def test_cli_reports_a_deeply_nested_credential_answer_in_one_line(home: Home) -> None:
    from .process import run_main

    script = home.file("nested.py", "print('[' * 100000 + ']' * 100000)\n")
    home.config(f"[default]\ncredential_process = {sys.executable} {script}\n")
    done = run_main(
        *("list-invalidations-for-distribution-tenant", "--id", "dt_1"),
        *("--endpoint-url", "http://127.0.0.1:9"),
        env={
            "AWS_CONFIG_FILE": str(home.path / ".aws" / "config"),
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
        },
    )
    assert "Traceback" not in done.stderr
    assert done.returncode in (253, 255)  # a credential error, not Python's 1
    assert "did not print valid JSON" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# --- what each credential request is for (its trust and proxy: see test_transport) -------------


def test_each_credential_request_says_what_it_is_for(home: Home) -> None:
    sts = Script(sts_answer(200))
    sts.run(web_identity_call())
    container = Script(answer=HttpResponse(200, {}, json.dumps(creds_json(CONTAINER)).encode()))
    container.run(
        load_flow(cfinval.ContainerProvider({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/c"}))
    )
    enable_imds(home, "http://169.254.169.254")
    imds = Script(
        HttpResponse(200, {}, b"tok"),
        HttpResponse(200, {}, b"role"),
        HttpResponse(200, {}, json.dumps(creds_json(IMDS)).encode()),
    )
    imds.run(load_flow(cfinval.InstanceMetadataProvider()))
    assert [r.purpose for r in sts.requests] == ["identity"]
    assert [r.purpose for r in container.requests] == ["container"]
    assert [r.purpose for r in imds.requests] == ["metadata"] * 3
