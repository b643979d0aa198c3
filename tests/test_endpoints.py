"""The endpoint table (``cfinval/_core/endpoints.py``) against botocore, the oracle: for every
partition, FIPS and dual-stack, the host a request goes to and the region it is signed for;
for CloudFront through a real ``Client``, for the identity services (SSO portal, OIDC, sign-in)
through the URLs the credential providers use."""

from __future__ import annotations

from typing import Any

import pytest

import cfinval
from cfinval._config import AwsConfig
from cfinval.testing import FAKE_CREDENTIALS

from ._local_aws import boto3_session
from .conftest import Home

#: One or two regions of every partition, its pseudo-region, one no partition knows, and none.
REGIONS = [
    None,
    "us-east-1",
    "aws-global",
    "xx-mars-1",
    "cn-north-1",
    "cn-northwest-1",
    "aws-cn-global",
    "us-gov-west-1",
    "us-gov-east-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isof-south-1",
    "eu-isoe-west-1",
    "eusc-de-east-1",
]
FLAGS = [(False, False), (True, False), (False, True), (True, True)]
CASES = [(region, fips, dual) for region in REGIONS for fips, dual in FLAGS]


_SESSION: Any = None


def _botocore() -> Any:
    """One boto3 session for every case (each case passes its region and flags explicitly)."""
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3_session()
    return _SESSION


class _Raw:
    def stream(self, **_: Any) -> Any:
        yield b"{}"


def botocore_sends(
    service: str, region: str | None, fips: bool, dual: bool
) -> tuple[str, str | None] | str:
    """``(url without the path, signing region)`` of botocore's first request, or the name of
    the exception it raised."""
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    seen: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> AWSResponse:
        seen["url"] = request.url
        seen["auth"] = request.headers.get("Authorization")
        return AWSResponse(request.url, 200, {}, _Raw())  # type: ignore[arg-type]

    try:
        client = _botocore().client(
            service,
            region_name=region,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(use_fips_endpoint=fips, use_dualstack_endpoint=dual),
        )
        client.meta.events.register("before-send", capture)
        if service == "cloudfront":
            client.list_invalidations_for_distribution_tenant(Id="dt_1")
        elif service == "sso":
            client.get_role_credentials(roleName="r", accountId="1", accessToken="t")
        elif service == "sso-oidc":
            client.create_token(
                grantType="refresh_token", clientId="c", clientSecret="s", refreshToken="r"
            )
        else:
            client.create_o_auth2_token(
                tokenInput={"clientId": "c", "refreshToken": "r", "grantType": "refresh_token"}
            )
    except Exception as exc:  # the oracle refused: its verdict is compared
        if "url" not in seen:
            return type(exc).__name__
    auth = seen["auth"]
    if isinstance(auth, bytes):
        auth = auth.decode()
    scope = auth.split("Credential=")[1].split("/")[2] if auth else None
    return "/".join(seen["url"].split("/")[:3]), scope


def _flags(home: Home, fips: bool, dual: bool) -> None:
    home.env(AWS_USE_FIPS_ENDPOINT=str(fips).lower(), AWS_USE_DUALSTACK_ENDPOINT=str(dual).lower())


@pytest.mark.parametrize(("region", "fips", "dual"), CASES)
def test_cloudfront_host_and_signing_region_are_botocores(
    home: Home, region: str | None, fips: bool, dual: bool
) -> None:
    expected = botocore_sends("cloudfront", region, fips, dual)
    _flags(home, fips, dual)
    if isinstance(expected, str):  # dual-stack in aws-iso-e / aws-iso-f: botocore refuses
        assert expected == "EndpointVariantError"
        with pytest.raises(cfinval.ConfigError, match="dual-stack"):
            cfinval.Client(FAKE_CREDENTIALS, region=region)
        return
    client = cfinval.Client(FAKE_CREDENTIALS, region=region)
    assert (client.endpoint_url, client._session.endpoint.signing_region) == expected


@pytest.mark.parametrize("service", ["sso", "sso-oidc", "signin"])
@pytest.mark.parametrize(("region", "fips", "dual"), [c for c in CASES if c[0] is not None])
def test_identity_service_hosts_are_botocores(
    home: Home, service: str, region: str, fips: bool, dual: bool
) -> None:
    expected = botocore_sends(service, region, fips, dual)
    _flags(home, fips, dual)
    aws = AwsConfig()
    if isinstance(expected, str):
        assert expected == "EndpointVariantError"
        with pytest.raises(cfinval.ConfigError, match="dual-stack"):
            aws.identity_endpoint(service, region)
        return
    endpoint = aws.identity_endpoint(service, region)
    assert f"{endpoint.scheme}://{endpoint.netloc}" == expected[0]


def test_dual_stack_from_the_profile(home: Home) -> None:
    home.config("[default]\nuse_dualstack_endpoint = true\nregion = eu-west-1\n")
    assert cfinval.Client(FAKE_CREDENTIALS).endpoint_url == "https://cloudfront.global.api.aws"


def test_an_explicit_endpoint_ignores_fips_and_dual_stack(home: Home) -> None:
    _flags(home, True, True)
    client = cfinval.Client(FAKE_CREDENTIALS, endpoint_url="http://127.0.0.1:9", region="eu-west-1")
    assert client.endpoint_url == "http://127.0.0.1:9"
