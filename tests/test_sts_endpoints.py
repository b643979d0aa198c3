"""Where STS calls go (``AssumeRole``, ``AssumeRoleWithWebIdentity``): the 69 cases of botocore's
own STS endpoint rule tests against ``_core.endpoints.sts_endpoint``, and what a real botocore
STS client sends against ``AwsConfig.sts_endpoint`` for every partition, FIPS, dual-stack and
``sts_regional_endpoints`` (``legacy`` / ``regional``, from the environment or the profile)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import cfinval
from cfinval._config import AwsConfig
from cfinval._core.endpoints import EndpointUnavailable, sts_endpoint

from ._local_aws import boto3_session
from .conftest import FIXTURES, Home

#: botocore's own test file, byte for byte (see fixtures/botocore/README.md).
RULE_TESTS = FIXTURES / "botocore" / "endpoint-rules" / "sts" / "endpoint-tests-1.json"
RULE_CASES = [
    pytest.param(case, id=case["documentation"])
    for case in json.loads(RULE_TESTS.read_text())["testCases"]
]


def test_all_69_rule_tests_are_there() -> None:
    assert len(RULE_CASES) == 69


@pytest.mark.parametrize("case", RULE_CASES)
def test_botocore_sts_endpoint_rule_tests(case: dict[str, Any]) -> None:
    params = case.get("params", {})
    kwargs: dict[str, Any] = {
        "fips": params.get("UseFIPS", False),
        "dual_stack": params.get("UseDualStack", False),
        "use_global_endpoint": params.get("UseGlobalEndpoint", False),
        "endpoint": params.get("Endpoint"),
    }
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(EndpointUnavailable) as caught:
            sts_endpoint(params.get("Region"), **kwargs)
        assert str(caught.value) == expect["error"]
        return
    url, signing = sts_endpoint(params.get("Region"), **kwargs)
    assert url == expect["endpoint"]["url"]
    schemes = expect["endpoint"].get("properties", {}).get("authSchemes")
    if schemes:
        assert signing == schemes[0]["signingRegion"]
    elif "Endpoint" not in params:
        assert signing == params["Region"]


# --- against a real botocore STS client ----------------------------------------------------------

REGIONS = [
    None,
    "us-east-1",
    "us-west-2",
    "eu-central-1",
    "ap-east-1",
    "aws-global",
    "xx-mars-1",
    "cn-north-1",
    "aws-cn-global",
    "us-gov-west-1",
    "us-gov-east-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "us-isof-south-1",
    "eu-isoe-west-1",
    "eusc-de-east-1",
]
FLAGS = [(False, False), (True, False), (False, True), (True, True)]
CASES = [
    (region, fips, dual, mode)
    for region in REGIONS
    for fips, dual in FLAGS
    for mode in ("regional", "legacy")
]


class _Raw:
    def stream(self, **_: Any) -> Any:
        yield b"<x/>"


def botocore_sts_sends(region: str | None) -> tuple[str, str] | str:
    """``(scheme://host, signing region)`` of botocore's ``GetCallerIdentity`` with this
    environment and HOME, or the name of the exception botocore raised instead."""
    from botocore.awsrequest import AWSResponse

    seen: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> AWSResponse:
        seen["url"] = request.url
        seen["auth"] = request.headers.get("Authorization")
        return AWSResponse(request.url, 200, {}, _Raw())  # type: ignore[arg-type]

    try:
        client = boto3_session().client(
            "sts", region_name=region, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="s"
        )
        client.meta.events.register("before-send", capture)
        client.get_caller_identity()
    except Exception as exc:  # the oracle refused: its verdict is compared
        if "url" not in seen:
            return type(exc).__name__
    auth = seen["auth"]
    if isinstance(auth, bytes):
        auth = auth.decode()
    return "/".join(seen["url"].split("/")[:3]), auth.split("Credential=")[1].split("/")[2]


def ours(region: str | None) -> tuple[str, str]:
    endpoint = AwsConfig(region=region).sts_endpoint()
    return f"{endpoint.scheme}://{endpoint.netloc}", endpoint.signing_region


@pytest.mark.parametrize(("region", "fips", "dual", "mode"), CASES)
def test_sts_host_and_signing_region_are_botocores(
    home: Home, region: str | None, fips: bool, dual: bool, mode: str
) -> None:
    home.env(
        AWS_USE_FIPS_ENDPOINT=str(fips).lower(),
        AWS_USE_DUALSTACK_ENDPOINT=str(dual).lower(),
        AWS_STS_REGIONAL_ENDPOINTS=mode,
    )
    expected = botocore_sts_sends(region)
    if isinstance(expected, str):  # dual-stack in aws-iso-e / aws-iso-f: botocore refuses
        assert expected == "EndpointVariantError"
        with pytest.raises(cfinval.ConfigError, match="dual-stack"):
            ours(region)
        return
    assert ours(region) == expected


@pytest.mark.parametrize("region", ["us-west-2", "ap-east-1", "eu-west-1"])
def test_legacy_from_the_profile(home: Home, region: str) -> None:
    home.config(f"[default]\nregion = {region}\nsts_regional_endpoints = legacy\n")
    assert ours(None) == botocore_sts_sends(None)
    if region != "ap-east-1":
        assert ours(None) == ("https://sts.amazonaws.com", "us-east-1")


def test_the_environment_wins_over_the_profile(home: Home) -> None:
    home.config("[default]\nregion = us-west-2\nsts_regional_endpoints = legacy\n")
    home.env(AWS_STS_REGIONAL_ENDPOINTS="regional")
    assert ours(None) == ("https://sts.us-west-2.amazonaws.com", "us-west-2")


def test_an_unknown_mode_is_refused_as_botocore_words_it(home: Home) -> None:
    home.env(AWS_STS_REGIONAL_ENDPOINTS="global", AWS_DEFAULT_REGION="us-west-2")
    with pytest.raises(cfinval.ConfigError) as caught:
        ours(None)
    assert str(caught.value) == (
        'STS regional endpoints option global is invalid. Valid options are: "legacy", "regional"'
    )
    assert botocore_sts_sends(None) == "InvalidSTSRegionalEndpointsConfigError"


def test_a_configured_sts_endpoint_ignores_legacy_fips_and_dual_stack(home: Home) -> None:
    home.env(
        AWS_ENDPOINT_URL_STS="https://sts.example.com",
        AWS_STS_REGIONAL_ENDPOINTS="legacy",
        AWS_USE_FIPS_ENDPOINT="true",
        AWS_DEFAULT_REGION="us-west-2",
    )
    assert ours(None) == ("https://sts.example.com", "us-west-2") == botocore_sts_sends(None)
