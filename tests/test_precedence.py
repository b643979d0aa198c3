"""For the same environment and files, cfinval and boto3 pick the same credentials.

Each case sets up a temporary HOME, environment variables and local endpoints (STS, container,
instance metadata on 127.0.0.1), then asks boto3 (the oracle) which access key id it resolves
and checks that the requests cfinval sends, through ``Client`` and then ``AsyncClient``, are
signed with that same key.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from cfinval import Credentials

from ._local_aws import (
    FakeIMDS,
    Stub,
    boto3_session,
    cloudfront,
    creds_json,
    key_id_of,
    list_once,
    sts_server,
)
from .conftest import Home

ENV = Credentials("AKIDENV0000000000001", "SECRET-env-1")
ENV_DEV = Credentials("AKIDDEVENV0000000001", "SECRET-env-dev")
FILE = Credentials("AKIDFILE000000000001", "SECRET-file-1")
FILE_DEV = Credentials("AKIDFILEDEV000000001", "SECRET-file-dev")
CONFIG = Credentials("AKIDCONFIG0000000001", "SECRET-config-1")
CONFIG_DEV = Credentials("AKIDCONFIGDEV0000001", "SECRET-config-dev")
PROCESS = Credentials("ASIAPROCESS000000001", "SECRET-process-1", "TOKEN-process-1")
ROLE = Credentials("ASIAROLE000000000001", "SECRET-role-1", "TOKEN-role-1")
ROLE2 = Credentials("ASIAROLE000000000002", "SECRET-role-2", "TOKEN-role-2")
WEB = Credentials("ASIAWEB0000000000001", "SECRET-web-1", "TOKEN-web-1")
CONTAINER = Credentials("ASIACONTAINER0000001", "SECRET-container-1", "TOKEN-container-1")
IMDS = Credentials("ASIAIMDS000000000001", "SECRET-imds-1", "TOKEN-imds-1")
ALL = (ENV, ENV_DEV, FILE, FILE_DEV, CONFIG, CONFIG_DEV, PROCESS, ROLE, ROLE2, WEB, CONTAINER, IMDS)


@dataclass
class World:
    home: Home
    sts_url: str
    container_url: str
    imds_url: str

    def keys(self, creds: Credentials) -> str:
        return (
            f"aws_access_key_id = {creds.access_key_id}\n"
            f"aws_secret_access_key = {creds.secret_access_key}\n"
        )

    def env_keys(self, creds: Credentials) -> None:
        self.home.env(
            AWS_ACCESS_KEY_ID=creds.access_key_id, AWS_SECRET_ACCESS_KEY=creds.secret_access_key
        )

    def process(self, creds: Credentials) -> str:
        payload = {
            "Version": 1,
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
            "SessionToken": creds.session_token,
        }
        script = self.home.file(f"{creds.access_key_id}.py", f"print({json.dumps(payload)!r})\n")
        return f"credential_process = {sys.executable} {script}\n"

    def web_identity(self) -> None:
        token = self.home.file("web-token", "web-token")
        self.home.env(
            AWS_WEB_IDENTITY_TOKEN_FILE=str(token),
            AWS_ROLE_ARN="arn:aws:iam::123456789012:role/web",
        )

    def container(self) -> None:
        self.home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.container_url + "/creds")

    def imds(self) -> None:
        self.home.env(
            AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=self.imds_url
        )


Case = Callable[[World], "str | None"]
CASES: dict[str, Case] = {}


def case(func: Case) -> Case:
    CASES[func.__name__] = func
    return func


@case
def env_only(w: World) -> None:
    w.env_keys(ENV)


@case
def env_beats_credentials_file(w: World) -> None:
    w.env_keys(ENV)
    w.home.credentials("[default]\n" + w.keys(FILE))


@case
def env_beats_aws_profile(w: World) -> None:
    w.env_keys(ENV)
    w.home.credentials("[default]\n" + w.keys(FILE) + "[dev]\n" + w.keys(FILE_DEV))
    w.home.env(AWS_PROFILE="dev")


@case
def profile_argument_beats_env(w: World) -> str:
    w.env_keys(ENV)
    w.home.credentials("[dev]\n" + w.keys(FILE_DEV))
    return "dev"


@case
def aws_default_profile_beats_aws_profile(w: World) -> None:
    w.home.credentials("[a]\n" + w.keys(FILE) + "[b]\n" + w.keys(FILE_DEV))
    w.home.env(AWS_DEFAULT_PROFILE="a", AWS_PROFILE="b")


@case
def credentials_file_beats_config_file(w: World) -> None:
    w.home.credentials("[default]\n" + w.keys(FILE))
    w.home.config("[default]\n" + w.keys(CONFIG))


@case
def config_file_only(w: World) -> None:
    w.home.config("[default]\n" + w.keys(CONFIG))


@case
def config_profile_sections(w: World) -> None:
    w.home.config("[default]\n" + w.keys(CONFIG) + '[profile "my dev"]\n' + w.keys(CONFIG_DEV))
    w.home.env(AWS_PROFILE="my dev")


@case
def profile_default_section_after_default(w: World) -> None:
    w.home.config("[default]\n" + w.keys(CONFIG) + "[profile default]\n" + w.keys(CONFIG_DEV))


@case
def credentials_file_keys_override_config_for_a_profile(w: World) -> None:
    w.home.config("[profile dev]\n" + w.process(PROCESS))
    w.home.credentials("[dev]\n" + w.keys(FILE_DEV))
    w.home.env(AWS_PROFILE="dev")


@case
def credentials_file_beats_credential_process(w: World) -> None:
    w.home.credentials("[default]\n" + w.keys(FILE))
    w.home.config("[default]\n" + w.process(PROCESS))


@case
def credential_process_beats_config_file_keys(w: World) -> None:
    w.home.config("[default]\n" + w.process(PROCESS) + w.keys(CONFIG))


@case
def credential_process_in_the_credentials_file(w: World) -> None:
    w.home.credentials("[default]\n" + w.process(PROCESS))


@case
def assume_role_beats_the_profiles_own_keys(w: World) -> None:
    w.home.credentials(
        "[default]\n" + w.keys(FILE) + "role_arn = arn:aws:iam::123456789012:role/admin\n"
        "source_profile = default\n"
    )


@case
def assume_role_from_source_profile(w: World) -> str:
    w.env_keys(ENV)
    w.home.credentials("[base]\n" + w.keys(FILE))
    w.home.config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n"
    )
    return "admin"


@case
def assume_role_chain(w: World) -> None:
    w.home.credentials("[base]\n" + w.keys(FILE))
    w.home.config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n"
        "[profile deep]\nrole_arn = arn:aws:iam::123456789012:role/deep\nsource_profile = admin\n"
    )
    w.home.env(AWS_PROFILE="deep")


@case
def assume_role_credential_source_environment(w: World) -> None:
    w.env_keys(ENV)
    w.home.config(
        "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/admin\n"
        "credential_source = Environment\n"
    )
    w.home.env(AWS_PROFILE="ops")


@case
def assume_role_beats_web_identity(w: World) -> None:
    w.home.credentials("[base]\n" + w.keys(FILE))
    w.home.config(
        "[default]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n"
    )
    w.web_identity()


@case
def web_identity_beats_credentials_file(w: World) -> None:
    w.web_identity()
    w.home.credentials("[default]\n" + w.keys(FILE))


@case
def env_beats_web_identity(w: World) -> None:
    w.web_identity()
    w.env_keys(ENV)


@case
def credentials_file_beats_container(w: World) -> None:
    w.home.credentials("[default]\n" + w.keys(FILE))
    w.container()


@case
def container_beats_imds(w: World) -> None:
    w.container()
    w.imds()


@case
def imds_last(w: World) -> None:
    w.imds()


@case
def assume_role_credential_source_container(w: World) -> None:
    w.container()
    w.home.credentials("[default]\n" + w.keys(FILE))
    w.home.config(
        "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/admin\n"
        "credential_source = EcsContainer\n"
    )
    w.home.env(AWS_PROFILE="ops")


@case
def assume_role_credential_source_instance_metadata(w: World) -> str:
    w.imds()
    w.home.config(
        "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/admin\n"
        "credential_source = Ec2InstanceMetadata\n"
    )
    return "ops"


@case
def legacy_ec2_credentials_file_before_container(w: World) -> None:
    legacy = w.home.file(
        "ec2-creds",
        f"AWSAccessKeyId={CONFIG.access_key_id}\nAWSSecretKey={CONFIG.secret_access_key}\n",
    )
    w.home.env(AWS_CREDENTIAL_FILE=str(legacy))
    w.container()


@case
def boto2_config_file_before_imds(w: World) -> None:
    boto = w.home.file("boto.cfg", "[Credentials]\n" + w.keys(CONFIG_DEV))
    w.home.env(BOTO_CONFIG=str(boto))
    w.imds()


@case
def config_file_beats_legacy_files(w: World) -> None:
    boto = w.home.file("boto.cfg", "[Credentials]\n" + w.keys(CONFIG_DEV))
    w.home.env(BOTO_CONFIG=str(boto))
    w.home.config("[default]\n" + w.keys(CONFIG))


@case
def explicit_profile_skips_env_but_not_container(w: World) -> str:
    w.env_keys(ENV)
    w.home.config("[profile empty]\nregion = us-east-1\n")
    w.container()
    return "empty"


@pytest.fixture
def world(home: Home) -> Iterator[World]:
    def container(_req: object) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, json.dumps(creds_json(CONTAINER)).encode()

    with (
        sts_server() as (sts, sts_stub),
        Stub(container) as container_stub,
        Stub(FakeIMDS(IMDS)) as imds_stub,
    ):
        sts.callers.update({c.access_key_id: c for c in ALL})
        sts.role("arn:aws:iam::123456789012:role/admin", ROLE)
        sts.role("arn:aws:iam::123456789012:role/deep", ROLE2)
        sts.role("arn:aws:iam::123456789012:role/web", WEB)
        sts.tokens.add("web-token")
        # boto3 refuses AssumeRole without a region (cfinval would use the global STS)
        home.env(AWS_ENDPOINT_URL_STS=sts_stub.url, AWS_DEFAULT_REGION="us-east-1")
        yield World(home, sts_stub.url, container_stub.url, imds_stub.url)


def boto3_key_id(profile: str | None) -> str | None:
    credentials = boto3_session(profile).get_credentials()
    return None if credentials is None else credentials.get_frozen_credentials().access_key


@pytest.mark.parametrize("name", sorted(CASES))
def test_cfinval_and_boto3_pick_the_same_credentials(world: World, name: str) -> None:
    profile = CASES[name](world)
    expected = boto3_key_id(profile)
    assert expected is not None
    with cloudfront(*ALL) as (fake, url):
        list_once("sync", endpoint_url=url, profile=profile)
        list_once("async", endpoint_url=url, profile=profile)
    assert [key_id_of(fake, 0), key_id_of(fake, 1)] == [expected, expected]


def test_session_token_variables_are_read_in_boto3s_order(world: World) -> None:
    world.env_keys(ENV)
    world.home.env(AWS_SESSION_TOKEN="token-session", AWS_SECURITY_TOKEN="token-security")
    expected = boto3_session().get_credentials().get_frozen_credentials().token
    with cloudfront(Credentials(ENV.access_key_id, ENV.secret_access_key, expected)) as (fake, url):
        list_once("sync", endpoint_url=url)
    assert fake.requests[-1].headers["x-amz-security-token"] == expected == "token-security"
