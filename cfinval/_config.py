"""Client configuration: endpoint and signing region, retry settings."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ._errors import ParamValidationError
from ._protocol import Endpoint

__all__ = [
    "CHINA_ENDPOINT",
    "GLOBAL_ENDPOINT",
    "resolve_endpoint",
    "resolve_max_attempts",
    "resolve_retry_settings",
]

GLOBAL_ENDPOINT = "https://cloudfront.amazonaws.com"
FIPS_ENDPOINT = "https://cloudfront-fips.amazonaws.com"
CHINA_ENDPOINT = "https://cloudfront.cn-northwest-1.amazonaws.com.cn"
CHINA_SIGNING_REGION = "cn-northwest-1"
GLOBAL_SIGNING_REGION = "us-east-1"


def resolve_endpoint(
    endpoint_url: str | None, region: str | None, *, use_fips: bool = False
) -> Endpoint:
    """Where to send requests and which region to sign for.

    CloudFront is global: ``region`` only selects the partition (``cn-*`` is China). With an
    explicit ``endpoint_url`` the signing region is ``region`` (``us-east-1`` when unset), as
    botocore does.
    """
    if region is not None and (not isinstance(region, str) or not region.strip()):
        raise ParamValidationError(f"region must be a non-empty str, got {region!r}")
    china = region is not None and region.startswith("cn-")
    if endpoint_url is not None:
        signing = region if region is not None and region != "aws-global" else None
        return Endpoint.from_url(endpoint_url, signing or GLOBAL_SIGNING_REGION)
    if china:
        if use_fips:
            raise ParamValidationError("CloudFront has no FIPS endpoint in the China partition")
        return Endpoint.from_url(CHINA_ENDPOINT, CHINA_SIGNING_REGION)
    return Endpoint.from_url(FIPS_ENDPOINT if use_fips else GLOBAL_ENDPOINT, GLOBAL_SIGNING_REGION)


def resolve_max_attempts(value: object) -> int:
    if value is None:
        return 3
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParamValidationError(f"max_attempts must be a positive int, got {value!r}")
    return value


_RETRY_MODES = ("standard", "legacy", "adaptive")


def resolve_retry_settings(
    max_attempts: object, retry_mode: object, environ: Mapping[str, str] | None = None
) -> tuple[str, int | None]:
    """``(retry mode, max attempts or None for the mode's default)``.

    Arguments win over ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS``; the mode defaults to
    ``standard``. ``max_attempts`` counts the first attempt, as in every AWS SDK.
    """
    env = os.environ if environ is None else environ
    mode: object = retry_mode
    if mode is None:
        mode = env.get("AWS_RETRY_MODE") or "standard"
        where = "AWS_RETRY_MODE"
    else:
        where = "retry_mode"
    if mode not in _RETRY_MODES:
        raise ParamValidationError(f"{where} must be one of {_RETRY_MODES}, got {mode!r}")
    if max_attempts is not None:
        return str(mode), resolve_max_attempts(max_attempts)
    raw = env.get("AWS_MAX_ATTEMPTS")
    if raw is None or not raw.strip():
        return str(mode), None
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ParamValidationError(f"AWS_MAX_ATTEMPTS must be a positive integer, got {raw!r}")
    return str(mode), value
