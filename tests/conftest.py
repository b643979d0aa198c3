"""Shared test helpers: recorded responses, the boto3 oracle, fixed credentials."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"
RESPONSES = FIXTURES / "responses"


def response_bytes(name: str) -> bytes:
    return (RESPONSES / name).read_bytes()


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def boto3_call(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    """What boto3 returns (or raises) for these response bytes: the oracle for parsing."""
    import boto3
    import botocore.config
    from botocore.awsrequest import AWSResponse

    client = boto3.client(
        "cloudfront",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="oracle-secret",
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, status, headers or {}, _Raw(body))  # type: ignore[arg-type]

    client.meta.events.register("before-send.cloudfront.*", answer)
    params.setdefault("Id", "dt_1")
    result: dict[str, Any] = client.list_invalidations_for_distribution_tenant(**params)
    return result


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may pick up the machine's AWS configuration or reach a real metadata service."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_CLOUDFRONT",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
