"""Where the AWS endpoints cfinval talks to are, in every partition: a small table, not a copy of
botocore's rule engine (``tests/test_endpoints.py`` compares every row with botocore).

A region belongs to the first partition whose pseudo-regions or pattern it matches, else to
``aws`` (as botocore's ``aws.partition`` function decides). CloudFront is global: the region only
picks the partition, and requests are signed for the partition's home region.
"""

from __future__ import annotations

import re

from .record import Record

__all__ = [
    "LEGACY_GLOBAL_STS_REGIONS",
    "PARTITIONS",
    "EndpointUnavailable",
    "Partition",
    "cloudfront_endpoint",
    "identity_endpoint",
    "partition_of",
    "sts_endpoint",
]


class EndpointUnavailable(ValueError):
    """botocore has no endpoint for this combination (dual-stack in ``aws-iso-e``/``-f``)."""


class Partition(Record):
    __slots__ = (
        "cloudfront_dual",
        "cloudfront_suffix",
        "dns",
        "dual",
        "dual_stack",
        "home",
        "name",
        "pattern",
        "pseudo",
        "signin",
    )

    def __init__(
        self,
        name: str,
        pattern: str,
        dns: str,
        dual: str,
        home: str,
        signin: str,
        *,
        cloudfront_suffix: str | None = None,
        cloudfront_dual: str | None = None,
        dual_stack: bool = True,
    ) -> None:
        self.name = name
        #: Matched with ``re.match`` (compiled on first use, not at import).
        self.pattern = pattern
        #: ``aws-global`` and friends: region names that do not match the pattern.
        self.pseudo = f"{name}-global"
        self.dns = dns
        self.dual = dual
        #: The region CloudFront requests are signed for (``implicitGlobalRegion``).
        self.home = home
        #: The sign-in service's domain (``{region}.signin.{signin}``).
        self.signin = signin
        self.cloudfront_suffix = cloudfront_suffix or dns
        self.cloudfront_dual = cloudfront_dual or dual
        #: botocore's older resolver knows no dual-stack endpoints in aws-iso-e and aws-iso-f.
        self.dual_stack = dual_stack


#: botocore's ``partitions.json`` (1.44), in its order.
PARTITIONS = (
    Partition(
        "aws",
        r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
        "amazonaws.com",
        "api.aws",
        "us-east-1",
        "aws.amazon.com",
        cloudfront_dual="global.api.aws",
    ),
    Partition(
        "aws-cn",
        r"^cn\-\w+\-\d+$",
        "amazonaws.com.cn",
        "api.amazonwebservices.com.cn",
        "cn-northwest-1",
        "amazonaws.cn",
        cloudfront_suffix="cn-northwest-1.amazonaws.com.cn",
    ),
    Partition(
        "aws-eusc",
        r"^eusc\-(de)\-\w+\-\d+$",
        "amazonaws.eu",
        "api.amazonwebservices.eu",
        "eusc-de-east-1",
        "amazonaws-eusc.eu",
    ),
    Partition(
        "aws-iso",
        r"^us\-iso\-\w+\-\d+$",
        "c2s.ic.gov",
        "api.aws.ic.gov",
        "us-iso-east-1",
        "c2shome.ic.gov",
    ),
    Partition(
        "aws-iso-b",
        r"^us\-isob\-\w+\-\d+$",
        "sc2s.sgov.gov",
        "api.aws.scloud",
        "us-isob-east-1",
        "sc2shome.sgov.gov",
    ),
    Partition(
        "aws-iso-e",
        r"^eu\-isoe\-\w+\-\d+$",
        "cloud.adc-e.uk",
        "api.cloud-aws.adc-e.uk",
        "eu-isoe-west-1",
        "csphome.adc-e.uk",
        dual_stack=False,
    ),
    Partition(
        "aws-iso-f",
        r"^us\-isof\-\w+\-\d+$",
        "csp.hci.ic.gov",
        "api.aws.hci.ic.gov",
        "us-isof-south-1",
        "csphome.hci.ic.gov",
        dual_stack=False,
    ),
    Partition(
        "aws-us-gov",
        r"^us\-gov\-\w+\-\d+$",
        "amazonaws.com",
        "api.aws",
        "us-gov-west-1",
        "amazonaws-us-gov.com",
    ),
)


def partition_of(region: str | None) -> Partition:
    """The partition a region belongs to (``aws`` when none matches, or for no region)."""
    if region is not None:
        for partition in PARTITIONS:
            if region == partition.pseudo or re.match(partition.pattern, region):
                return partition
    return PARTITIONS[0]


def _check_dual_stack(partition: Partition, dual_stack: bool, what: str) -> None:
    if dual_stack and not partition.dual_stack:
        raise EndpointUnavailable(
            f"{what} has no dual-stack endpoint in the {partition.name} partition"
        )


def cloudfront_endpoint(
    region: str | None, *, fips: bool = False, dual_stack: bool = False
) -> tuple[str, str]:
    """``(url, signing region)`` of CloudFront for ``region`` (``None``: the global endpoint)."""
    partition = partition_of(region)
    _check_dual_stack(partition, dual_stack, "CloudFront")
    suffix = partition.cloudfront_dual if dual_stack else partition.cloudfront_suffix
    return f"https://cloudfront{'-fips' if fips else ''}.{suffix}", partition.home


#: The IAM Identity Center portal, its OIDC service, and the sign-in service (``aws login``).
IDENTITY_SERVICES = {"sso": "portal.sso", "sso-oidc": "oidc", "signin": "signin"}


def identity_endpoint(
    service: str, region: str, *, fips: bool = False, dual_stack: bool = False
) -> str:
    """The URL of ``sso``, ``sso-oidc`` or ``signin`` in ``region`` (these are regional)."""
    prefix = IDENTITY_SERVICES[service]
    partition = partition_of(region)
    _check_dual_stack(partition, dual_stack, service)
    gov = partition.name == "aws-us-gov"
    if dual_stack:
        return f"https://{prefix}{'-fips' if fips else ''}.{region}.{partition.dual}"
    if service == "signin":
        if not fips:
            return f"https://{region}.signin.{partition.signin}"
        if region == "us-gov-west-1":
            return "https://signin-fips.amazonaws-us-gov.com"
        if gov:
            return f"https://{region}.signin-fips.amazonaws-us-gov.com"
    # GovCloud's regular portal and OIDC endpoints are already FIPS endpoints
    fips_host = fips and not gov
    return f"https://{prefix}{'-fips' if fips_host else ''}.{region}.{partition.dns}"


#: The regions whose STS calls go to the global ``sts.amazonaws.com`` under
#: ``sts_regional_endpoints = legacy`` (botocore's ``LEGACY_GLOBAL_STS_REGIONS``).
LEGACY_GLOBAL_STS_REGIONS = frozenset(
    {
        "ap-northeast-1",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "aws-global",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)
_STS_GLOBAL = ("https://sts.amazonaws.com", "us-east-1")


def sts_endpoint(
    region: str | None,
    *,
    fips: bool = False,
    dual_stack: bool = False,
    use_global_endpoint: bool = False,
    endpoint: str | None = None,
) -> tuple[str, str | None]:
    """``(url, signing region)`` of STS, as STS's endpoint rules decide (botocore's
    ``sts/endpoint-rule-set-1.json``); ``use_global_endpoint`` is
    ``sts_regional_endpoints = legacy``. ``endpoint`` (a custom URL) is returned as is, with
    no signing region of its own; with FIPS or dual-stack, or without any region, there is
    no endpoint (:class:`EndpointUnavailable`)."""
    legacy = use_global_endpoint and not fips and not dual_stack
    if legacy and endpoint is None and region in LEGACY_GLOBAL_STS_REGIONS:
        return _STS_GLOBAL
    if endpoint is not None:
        if fips or dual_stack:
            what = "FIPS" if fips else "Dualstack"
            raise EndpointUnavailable(
                f"Invalid Configuration: {what} and custom endpoint are not supported"
            )
        return endpoint, None
    if region is None:
        raise EndpointUnavailable("Invalid Configuration: Missing Region")
    partition = partition_of(region)
    _check_dual_stack(partition, dual_stack, "STS")
    signing = "us-east-1" if region == "aws-global" else region
    if fips and dual_stack:
        return f"https://sts-fips.{region}.{partition.dual}", signing
    if fips:
        # GovCloud's regular STS endpoints are already FIPS endpoints
        if partition.name == "aws-us-gov":
            return f"https://sts.{region}.amazonaws.com", signing
        return f"https://sts-fips.{region}.{partition.dns}", signing
    if dual_stack:
        return f"https://sts.{region}.{partition.dual}", signing
    if region == "aws-global":
        return _STS_GLOBAL
    return f"https://sts.{region}.{partition.dns}", signing
