"""Secrets (secret keys, session tokens, web identity and container tokens, IMDS tokens,
signatures) never appear in logs, reprs or error messages, whichever provider is at work."""

from __future__ import annotations

import json
import logging
import sys

import pytest

import cfinval
from cfinval import Credentials
from cfinval._core.protocol import Endpoint, sign_form_post

from ._local_aws import IMDS_TOKEN, FakeIMDS, Stub, cloudfront, creds_json, list_once, sts_server
from .conftest import Home

FILE = Credentials("AKIDFILE000000000001", "SECRET-file-5d1e")
PROCESS = Credentials("ASIAPROCESS000000001", "SECRET-process-7a", "TOKEN-process-e2")
ROLE = Credentials("ASIAROLE000000000001", "SECRET-role-90", "TOKEN-role-3c")
WEB = Credentials("ASIAWEB0000000000001", "SECRET-web-11", "TOKEN-web-5f")
CONTAINER = Credentials("ASIACONTAINER0000001", "SECRET-container-4", "TOKEN-container-8")
IMDS = Credentials("ASIAIMDS000000000001", "SECRET-imds-6b", "TOKEN-imds-0d")
WEB_TOKEN = "eyJ-SECRET-web-identity-token"
CONTAINER_TOKEN = "Bearer SECRET-container-auth"

SECRETS = [
    *(c.secret_access_key for c in (FILE, PROCESS, ROLE, WEB, CONTAINER, IMDS)),
    *(c.session_token or "" for c in (PROCESS, ROLE, WEB, CONTAINER, IMDS)),
    WEB_TOKEN,
    CONTAINER_TOKEN,
    IMDS_TOKEN,
]


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "SECRET-" not in text
    assert "Signature=" not in text


def test_no_secret_in_logs_reprs_or_errors(home: Home, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    web_token = home.file("web-token", WEB_TOKEN)
    process = home.file(
        "p.py",
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': "
        f"{PROCESS.access_key_id!r}, 'SecretAccessKey': {PROCESS.secret_access_key!r}, "
        f"'SessionToken': {PROCESS.session_token!r}}}))\n",
    )
    failing = home.file("f.py", "import sys\nsys.exit(1)\n")
    home.credentials(
        f"[base]\naws_access_key_id = {FILE.access_key_id}\n"
        f"aws_secret_access_key = {FILE.secret_access_key}\n"
    )
    home.config(
        f"[profile proc]\ncredential_process = {sys.executable} {process}\n"
        f"[profile broken]\ncredential_process = {sys.executable} {failing}\n"
        "[profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = base\n"
        "[profile denied]\nrole_arn = arn:aws:iam::1:role/nope\nsource_profile = base\n"
        f"[profile web]\nweb_identity_token_file = {web_token}\n"
        "role_arn = arn:aws:iam::1:role/web\n"
    )

    def container(_req: object) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, json.dumps(creds_json(CONTAINER)).encode()

    with sts_server() as (sts, sts_stub), Stub(container) as box, Stub(FakeIMDS(IMDS)) as imds:
        sts.callers[FILE.access_key_id] = FILE
        sts.role("arn:aws:iam::1:role/admin", ROLE)
        sts.role("arn:aws:iam::1:role/web", WEB)
        sts.tokens.add(WEB_TOKEN)
        home.env(AWS_ENDPOINT_URL_STS=sts_stub.url)
        with cloudfront(FILE, PROCESS, ROLE, WEB, CONTAINER, IMDS) as (fake, url):
            for profile in ("base", "proc", "admin", "web"):
                for kind in ("sync", "async"):
                    list_once(kind, endpoint_url=url, profile=profile)
            home.env(
                AWS_CONTAINER_CREDENTIALS_FULL_URI=box.url + "/c",
                AWS_CONTAINER_AUTHORIZATION_TOKEN=CONTAINER_TOKEN,
            )
            list_once("sync", endpoint_url=url)
            home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI="")
            home.env(AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
            with cfinval.Client(endpoint_url=url, profile="admin") as client:
                client.list_invalidations_for_distribution_tenant("dt_1")
                shown += [repr(client), repr(client._session), repr(client._session.credentials)]
            shown += [repr(p) for p in cfinval.default_chain("admin").providers]
            for profile in ("broken", "denied"):
                with pytest.raises(cfinval.Error) as raised:
                    list_once("sync", endpoint_url=url, profile=profile)
                shown += [str(raised.value), repr(raised.value)]
    assert len(fake.requests) >= 10
    shown.append(repr(FILE))
    shown.append(repr(sts_request()))
    assert_clean("\n".join(shown))
    assert_clean(caplog.text)


def sts_request() -> object:
    return sign_form_post(
        Endpoint.from_url("https://sts.amazonaws.com"),
        "sts",
        [("WebIdentityToken", WEB_TOKEN)],
        ROLE,
        __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").timezone.utc),
    )


def test_error_texts_do_not_echo_credential_values(home: Home) -> None:
    home.credentials("[default]\naws_access_key_id =\naws_secret_access_key = SECRET-lonely\n")
    with pytest.raises(cfinval.CredentialRetrievalError) as raised:
        list_once("sync", endpoint_url="http://127.0.0.1:9")
    assert "access_key_id must not be empty" in str(raised.value)
    assert "SECRET-lonely" not in str(raised.value)


# --- header values the HTTP layer would refuse (and quote) ---------------------------------------

SSO_SECRET = "SUPERSECRET-SSO-TOKEN"
POD_SECRET = "SECRET-POD-TOKEN"
SSO_PROFILE = (
    "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
    "sso_role_name = Audit\n[sso-session corp]\n"
    "sso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-west-1\n"
)


def _illegal_token_setup(case: str, home: Home, url: str) -> tuple[str | None, str]:
    """Point cfinval at ``url`` with a token h11 would refuse: (the profile, the secret)."""
    from ._identity import write_sso_token

    if case == "sso":
        home.config(SSO_PROFILE)
        home.env(AWS_ENDPOINT_URL_SSO=url, AWS_ENDPOINT_URL_SSO_OIDC=url)
        write_sso_token(home.path, "corp", SSO_SECRET + " ", 3600)
        return "dev", SSO_SECRET
    home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=url + "/creds")
    if case == "container-file":
        home.env(AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(home.file("t", POD_SECRET + "\n")))
    else:
        home.env(AWS_CONTAINER_AUTHORIZATION_TOKEN=f"Bearer {POD_SECRET} ")
    return None, POD_SECRET


@pytest.mark.parametrize("case", ["sso", "container-env", "container-file"])
def test_a_token_that_is_not_a_legal_header_value_is_refused_unsent_and_unshown(
    case: str, home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    from cfinval._cli import main

    with Stub(lambda req: (500, {}, b"")) as stub:
        profile, secret = _illegal_token_setup(case, home, stub.url)
        args = [] if profile is None else ["--profile", profile]
        code = main(
            ["list-invalidations-for-distribution-tenant", "--id", "dt_1",
             "--endpoint-url", "http://127.0.0.1:9", *args]
        )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 255  # LoginRequiredError (botocore's SSO token errors), ConfigError
    assert "is not a legal header value" in err
    assert "the value is not shown" in err
    assert secret not in err
    assert stub.requests == []


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("case", ["sso", "container-env"])
def test_a_request_the_http_layer_refuses_is_tried_once_and_its_error_text_not_shown(
    case: str, kind: str, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past the up-front check (switched off here), h11 itself refuses the header and quotes it.
    from cfinval._credentials import metadata, sso

    monkeypatch.setattr(sso, "is_header_value", lambda v: isinstance(v, str), raising=False)
    monkeypatch.setattr(metadata, "is_header_value", lambda v: True, raising=False)
    sleeps: list[float] = []
    with Stub(lambda req: (500, {}, b"")) as stub:
        profile, secret = _illegal_token_setup(case, home, stub.url)
        with pytest.raises(cfinval.CredentialRetrievalError) as raised:
            list_once(kind, profile=profile, endpoint_url="http://127.0.0.1:9", sleep=sleeps.append)
    text = str(raised.value)
    assert "LocalProtocolError" in text
    assert secret not in text
    assert raised.value.__cause__ is None
    assert sleeps == []  # one attempt: nothing to wait for before a second
    assert stub.requests == []


def _local_failure_flows() -> dict[str, object]:
    import datetime as dt

    from cfinval._credentials import jsonapi, metadata, sts

    portal = Endpoint.from_url("https://portal.sso.eu-west-1.amazonaws.com")
    return {
        "json": jsonapi.json_call(
            "sso", "GetRoleCredentials", jsonapi.json_request("GET", portal, "/x")
        ),
        "sts": sts.sts_credentials_flow(
            provider="assume-role",
            endpoint=Endpoint.from_url("https://sts.amazonaws.com"),
            action="AssumeRole",
            params=[("RoleArn", "arn:aws:iam::1:role/r")],
            credentials=ROLE,
            clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp(),
        ),
        "container": metadata.ContainerProvider(
            {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds"}
        ).load(),
    }


@pytest.mark.parametrize("name", ["json", "sts", "container"])
def test_a_local_failure_of_a_credential_request_is_one_attempt_named_by_class_only(
    name: str,
) -> None:
    import httpx

    from cfinval._core.effects import Send, TransportFailure, run

    flow = _local_failure_flows()[name]
    effects: list[object] = []

    def perform(effect: object) -> object:
        effects.append(effect)
        error = httpx.LocalProtocolError("Illegal header value b'Bearer SECRET-POD-TOKEN '")
        return TransportFailure(error, "local")

    with pytest.raises(cfinval.CredentialRetrievalError) as raised:
        run(flow, perform)  # type: ignore[arg-type]
    assert [type(e) for e in effects] == [Send]
    assert "LocalProtocolError" in str(raised.value)
    assert_clean(str(raised.value) + repr(raised.value))
    assert raised.value.__cause__ is None
    assert_clean(repr(perform(None)))


def test_a_local_failure_of_an_instance_metadata_request_is_not_retried() -> None:
    import httpx

    from cfinval._core.effects import TransportFailure, run
    from cfinval._credentials.metadata import InstanceMetadataProvider

    provider = InstanceMetadataProvider(
        endpoint="http://127.0.0.1:9/", attempts=3, disabled=False, environ={}
    )
    sent: list[str] = []

    def perform(effect: object) -> object:
        sent.append(effect.request.method)  # type: ignore[attr-defined]
        return TransportFailure(httpx.UnsupportedProtocol("SECRET-in-the-url"), "local")

    assert run(provider.load(), perform) is None  # type: ignore[arg-type]
    assert sent == ["PUT", "GET"]  # the token, then the role: each tried once
    assert_clean(provider.describe())
    assert "UnsupportedProtocol" in provider.describe()
