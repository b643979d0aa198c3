"""Configuration from environment variables and the shared files: endpoint (compared with
boto3's choice for the same environment), partition, retry settings, CA bundle, and lazy
imports."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import cfinval
from cfinval._config import AwsConfig, SharedFiles
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

from ._local_aws import Req, Stub, boto3_session, list_once
from .conftest import Home

Setup = Callable[[Home], "dict[str, str]"]
ENDPOINT_CASES: dict[str, Setup] = {
    "nothing configured": lambda h: {},
    "service variable beats the global one": lambda h: (
        h.env(
            AWS_ENDPOINT_URL_CLOUDFRONT="http://cf.local:4566", AWS_ENDPOINT_URL="http://all.local"
        )
        or {}
    ),
    "global variable": lambda h: h.env(AWS_ENDPOINT_URL="http://all.local:4566") or {},
    "services section beats profile endpoint_url": lambda h: (
        h.config(
            "[default]\nservices = local\nendpoint_url = http://profile.local\n"
            "[services local]\ncloudfront =\n  endpoint_url = http://svc.local:9000\n"
            "sts =\n  endpoint_url = http://sts.local\n"
        )
        and {}
    ),
    "services section without cloudfront falls back": lambda h: (
        h.config(
            "[default]\nservices = local\nendpoint_url = http://profile.local\n"
            "[services local]\nsts =\n  endpoint_url = http://sts.local\n"
        )
        and {}
    ),
    "profile endpoint_url": lambda h: (
        h.config("[profile dev]\nendpoint_url = http://dev.local:8080\n")
        and (h.env(AWS_PROFILE="dev") or {})
    ),
    "environment beats profile": lambda h: (
        h.config("[default]\nendpoint_url = http://profile.local\n")
        and (h.env(AWS_ENDPOINT_URL="http://env.local") or {})
    ),
    "ignore flag in the environment": lambda h: (
        h.config("[default]\nendpoint_url = http://profile.local\n")
        and (
            h.env(AWS_ENDPOINT_URL="http://env.local", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="True")
            or {}
        )
    ),
    "ignore flag in the profile": lambda h: (
        h.config(
            "[default]\nendpoint_url = http://profile.local\n"
            "ignore_configured_endpoint_urls = true\n"
        )
        and (h.env(AWS_ENDPOINT_URL_CLOUDFRONT="http://env.local") or {})
    ),
    "argument beats everything": lambda h: (
        h.env(AWS_ENDPOINT_URL_CLOUDFRONT="http://env.local")
        or {"endpoint_url": "http://arg.local:1234"}
    ),
    "china region from the environment": lambda h: h.env(AWS_DEFAULT_REGION="cn-north-1") or {},
    "china region from the profile": lambda h: (
        h.config("[default]\nregion = cn-northwest-1\n") and {}
    ),
    "region argument": lambda h: {"region_name": "cn-northwest-1"},
    "non-china region": lambda h: h.env(AWS_DEFAULT_REGION="eu-west-3") or {},
}


@pytest.mark.parametrize("name", sorted(ENDPOINT_CASES))
def test_endpoint_is_the_one_boto3_picks(home: Home, name: str) -> None:
    kwargs = ENDPOINT_CASES[name](home)
    expected = boto3_session().client("cloudfront", **kwargs).meta.endpoint_url
    ours = dict(kwargs)
    if "region_name" in ours:
        ours["region"] = ours.pop("region_name")
    assert cfinval.Client(**ours).endpoint_url == expected


STS_REGIONS = [None, "us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"]


@pytest.mark.parametrize(
    ("region", "fips"),
    [(region, False) for region in STS_REGIONS]
    + [(region, True) for region in STS_REGIONS if region and not region.startswith("cn-")],
)
def test_sts_endpoint_is_the_one_boto3_picks(home: Home, region: str | None, fips: bool) -> None:
    from botocore.config import Config

    if fips:
        home.env(AWS_USE_FIPS_ENDPOINT="true")
    expected = (
        boto3_session()
        .client("sts", region_name=region, config=Config(use_fips_endpoint=fips))
        .meta.endpoint_url
    )
    endpoint = AwsConfig(region=region).sts_endpoint()
    assert f"{endpoint.scheme}://{endpoint.netloc}" == expected
    assert endpoint.signing_region == (region or "us-east-1")


@pytest.mark.parametrize(
    "setup",
    [
        lambda h: h.env(AWS_USE_FIPS_ENDPOINT="true"),
        lambda h: h.config("[default]\nuse_fips_endpoint = true\n"),
    ],
)
def test_fips_endpoint_from_environment_or_profile(home: Home, setup: Setup) -> None:
    setup(home)
    assert cfinval.Client().endpoint_url == "https://cloudfront-fips.amazonaws.com"


def test_sts_endpoint_from_the_services_section(home: Home) -> None:
    home.config(
        "[default]\nservices = local\n[services local]\nsts =\n  endpoint_url = http://sts.local:1\n"
    )
    assert AwsConfig().sts_endpoint().netloc == "sts.local:1"


def test_china_partition_is_signed_for_its_own_region(home: Home) -> None:
    home.env(AWS_DEFAULT_REGION="cn-north-1")
    fake = FakeCloudFront(region="cn-northwest-1")
    fake.add_tenant("dt_1")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.host))
        return fake.transport().handle_request(request)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with cfinval.Client(FAKE_CREDENTIALS, http_client=http) as client:
        page = client.list_invalidations_for_distribution_tenant("dt_1")
    assert page.items == ()
    assert seen == ["cloudfront.cn-northwest-1.amazonaws.com.cn"]
    assert "/cn-northwest-1/cloudfront/aws4_request" in fake.requests[0].headers["authorization"]


def test_fips_in_china_has_its_own_endpoint(home: Home) -> None:
    home.env(AWS_USE_FIPS_ENDPOINT="true")  # every region and flag: tests/test_endpoints.py
    client = cfinval.Client(region="cn-north-1")
    assert client.endpoint_url == "https://cloudfront-fips.cn-northwest-1.amazonaws.com.cn"


def test_services_section_that_does_not_exist_is_a_config_error(home: Home) -> None:
    home.config("[default]\nservices = nowhere\n")
    with pytest.raises(cfinval.ConfigError, match="nowhere"):
        cfinval.Client()


def test_an_invalid_region_setting_is_a_config_error_naming_its_variable(home: Home) -> None:
    home.env(AWS_DEFAULT_REGION="us east 1")
    with pytest.raises(
        cfinval.ConfigError, match=r"^AWS_DEFAULT_REGION is not a valid region name: 'us east 1'"
    ):
        cfinval.Client()


def test_an_invalid_region_in_the_profile_is_a_config_error_naming_it(home: Home) -> None:
    home.config("[profile p]\nregion = us_east\n")
    with pytest.raises(cfinval.ConfigError, match=r"^the region of profile 'p' is not a valid"):
        cfinval.Client(profile="p")


def test_an_invalid_region_argument_is_a_parameter_error(home: Home) -> None:
    with pytest.raises(cfinval.ParamValidationError, match=r"^region is not a valid region name"):
        cfinval.Client(region="us east 1")


# --- retries -------------------------------------------------------------------------------------


def always_503(req: Req) -> tuple[int, dict[str, str], bytes]:
    return 503, {}, b"<html>busy</html>"


@pytest.mark.parametrize(
    ("env", "profile", "argument", "attempts"),
    [
        ({"AWS_MAX_ATTEMPTS": "2"}, None, None, 2),
        ({}, "max_attempts = 4\n", None, 4),
        ({"AWS_MAX_ATTEMPTS": "1"}, "max_attempts = 4\n", None, 1),
        ({"AWS_MAX_ATTEMPTS": "4"}, None, 2, 2),
        ({}, None, None, 3),
    ],
)
def test_max_attempts_from_argument_environment_or_profile(
    home: Home, env: dict[str, str], profile: str | None, argument: int | None, attempts: int
) -> None:
    home.env(**env)
    if profile is not None:
        home.config("[default]\n" + profile)
    sleeps: list[float] = []
    with Stub(always_503) as stub, pytest.raises(cfinval.CloudFrontError) as raised:
        list_once(
            "sync",
            credentials=FAKE_CREDENTIALS,
            endpoint_url=stub.url,
            max_attempts=argument,
            sleep=sleeps.append,
        )
    assert raised.value.status_code == 503
    assert len(stub.requests) == attempts
    assert len(sleeps) == attempts - 1


@pytest.mark.parametrize("value", ["abc", "0", "-1"])
def test_bad_max_attempts_in_the_environment_is_a_config_error(home: Home, value: str) -> None:
    home.env(AWS_MAX_ATTEMPTS=value)
    with pytest.raises(cfinval.ConfigError, match="AWS_MAX_ATTEMPTS"):
        cfinval.Client()


def test_retry_mode_from_environment_and_profile_is_checked(home: Home) -> None:
    home.env(AWS_RETRY_MODE="standard")
    cfinval.Client()
    home.env(AWS_RETRY_MODE="bogus")
    with pytest.raises(cfinval.ConfigError, match="AWS_RETRY_MODE"):
        cfinval.Client()
    home.env(AWS_RETRY_MODE="")
    home.config("[default]\nretry_mode = bogus\n")
    with pytest.raises(cfinval.ConfigError, match="profile 'default'"):
        cfinval.AsyncClient()
    with pytest.raises(cfinval.ParamValidationError, match="retry_mode"):
        cfinval.Client(retry_mode="bogus")


# --- CA bundle -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a certificate")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def https_fake(certificate: tuple[Path, Path]) -> Iterator[str]:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    fake.add_invalidation("dt_1", "I1")

    def handler(req: Req) -> tuple[int, dict[str, str], bytes]:
        return fake.handle(req.method, req.path, req.headers)

    with Stub(handler, tls=context) as stub:
        yield stub.url


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_ca_bundle_from_the_environment(
    home: Home, https_fake: str, certificate: tuple[Path, Path], kind: str
) -> None:
    with pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        list_once(kind, credentials=FAKE_CREDENTIALS, endpoint_url=https_fake, max_attempts=1)
    home.env(AWS_CA_BUNDLE=str(certificate[0]))
    page = list_once(kind, credentials=FAKE_CREDENTIALS, endpoint_url=https_fake)
    assert [item.id for item in page.items] == ["I1"]


def test_ca_bundle_from_the_profile(
    home: Home, https_fake: str, certificate: tuple[Path, Path]
) -> None:
    home.config(f"[profile tls]\nca_bundle = {certificate[0]}\n")
    page = list_once("sync", credentials=FAKE_CREDENTIALS, endpoint_url=https_fake, profile="tls")
    assert page.items


def test_ca_bundle_that_cannot_be_loaded_is_a_config_error(home: Home) -> None:
    home.env(AWS_CA_BUNDLE=str(home.path / "missing.pem"))
    with pytest.raises(cfinval.ConfigError, match=r"CA bundle .*missing\.pem"):
        list_once("sync", credentials=FAKE_CREDENTIALS)


# --- the shared files ----------------------------------------------------------------------------


def test_shared_files_are_read_as_botocore_reads_them(home: Home) -> None:
    home.config(
        "# a comment\n[default]\nregion = us-west-2\n"
        '[profile "with space"]\nregion = eu-west-1\n'
        "[profile default]\nregion = eu-central-1\n"
        "[sso-session corp]\nsso_region = us-east-1\n"
        "[services s]\ncloudfront =\n  endpoint_url = http://x\n  other = 1\n"
        "[profilenospace]\nregion = nowhere\n"
        "[preview]\ncloudfront = true\n"
    )
    home.credentials("[default]\nregion = ap-south-1\naws_access_key_id = A\n[creds-only]\nx = 1\n")
    files = SharedFiles()
    config = files.config()
    assert set(config["profiles"]) == {"default", "with space"}
    assert config["profiles"]["default"]["region"] == "eu-central-1"  # the later section wins
    assert config["services"]["s"]["cloudfront"] == {"endpoint_url": "http://x", "other": "1"}
    assert config["sso_sessions"]["corp"] == {"sso_region": "us-east-1"}
    profiles = files.profiles()
    assert profiles["default"] == {"region": "ap-south-1", "aws_access_key_id": "A"}
    assert profiles["creds-only"] == {"x": "1"}
    assert AwsConfig("with space").region == "eu-west-1"


def test_nested_value_that_is_not_key_value_is_a_config_error(home: Home) -> None:
    home.config("[default]\ns3 =\n  just text\n")
    with pytest.raises(cfinval.ConfigError, match="s3"):
        cfinval.Client()


def test_no_files_at_all_is_fine(home: Home) -> None:
    assert AwsConfig().scoped == {}
    assert cfinval.Client().endpoint_url == "https://cloudfront.amazonaws.com"


# --- laziness ------------------------------------------------------------------------------------


def _modules_after(code: str, home: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"HOME": str(home), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


LAZY = {"configparser", "shlex", "getpass", "cfinval._credentials.sts"}


def test_import_and_a_client_without_files_load_no_config_machinery(home: Home) -> None:
    loaded = _modules_after(
        "import cfinval; cfinval.Client(); cfinval.Client(cfinval.Credentials('a', 'b'))",
        home.path,
    )
    assert loaded & LAZY == set()


def test_config_parser_is_imported_once_there_is_a_file(home: Home) -> None:
    home.config("[default]\nregion = us-east-1\n")
    loaded = _modules_after("import cfinval; cfinval.Client()", home.path)
    assert "configparser" in loaded
