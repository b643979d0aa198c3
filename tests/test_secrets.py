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
