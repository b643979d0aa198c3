"""SigV4: the AWS test suites (fixtures/sigv4) and botocore's signer as an oracle."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import string
from pathlib import Path
from unittest import mock

import botocore.auth
import botocore.credentials
import pytest
from botocore.awsrequest import AWSRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfinval import Credentials
from cfinval._config import resolve_endpoint
from cfinval._core import sigv4 as sigv4
from cfinval._core.protocol import ListParams, sign

SUITE = Path(__file__).parent.parent / "fixtures" / "sigv4"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
AMZ_DATE = "20150830T123600Z"
SCOPE = "20150830/us-east-1/service/aws4_request"


def parse_request(raw: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, target, headers, body) of a suite request file (raw bytes, folded headers)."""
    head, _, body = raw.partition("\n\n")
    lines = head.split("\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" ", 1)[0]
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    return method, target, headers, body.encode("utf-8")


def split_target(target: str) -> tuple[str, list[tuple[str, str]]]:
    from urllib.parse import unquote

    path, _, query = target.partition("?")
    pairs = []
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return path, pairs


def classic_cases() -> list[Path]:
    root = SUITE / "aws4_testsuite"
    return sorted(p.parent for p in root.rglob("*.req"))


@pytest.mark.parametrize("case", classic_cases(), ids=lambda p: p.name)
def test_classic_suite_case(case: Path) -> None:
    name = case.name
    raw = (case / f"{name}.req").read_text("utf-8")
    expected_creq = (case / f"{name}.creq").read_text("utf-8")
    method, target, headers, body = parse_request(raw)
    if "x-amz-security-token" in expected_creq and not any(
        h.lower() == "x-amz-security-token" for h, _ in headers
    ):
        headers.append(("X-Amz-Security-Token", TOKEN))
    path, query = split_target(target)
    creq, signed = sigv4.canonical_request(
        method, path, query, headers, hashlib.sha256(body).hexdigest()
    )
    assert creq == expected_creq
    sts = sigv4.string_to_sign(AMZ_DATE, SCOPE, creq)
    assert sts == (case / f"{name}.sts").read_text("utf-8")
    sig = sigv4.signature(sigv4.signing_key(SECRET, "20150830", "us-east-1", "service"), sts)
    authz = (
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{SCOPE}, SignedHeaders={signed}, Signature={sig}"
    )
    assert authz == (case / f"{name}.authz").read_text("utf-8")


def crt_cases() -> list[Path]:
    return sorted(p.parent for p in (SUITE / "aws-c-auth-v4").glob("*/context.json"))


# Our signer always normalizes the path, like botocore's non-S3 SigV4Auth: the suite's
# "unnormalized" cases (S3-style, path signed as sent) with dot segments or "//" do not apply.
def _normalization_changes(target: str) -> bool:
    path = target.partition("?")[0]
    return sigv4.normalize_path(path) != path


@pytest.mark.parametrize("case", crt_cases(), ids=lambda p: p.name)
def test_aws_c_auth_suite_case(case: Path) -> None:
    context = json.loads((case / "context.json").read_text("utf-8"))
    method, target, headers, body = parse_request((case / "request.txt").read_text("utf-8"))
    if not context["normalize"] and _normalization_changes(target):
        pytest.skip("S3-style unnormalized path: not what a non-S3 signer does")
    creds = context["credentials"]
    headers.append(("X-Amz-Date", AMZ_DATE))
    if context["sign_body"]:
        headers.append(("X-Amz-Content-Sha256", hashlib.sha256(body).hexdigest()))
    if creds.get("token") and not context.get("omit_session_token"):
        headers.append(("X-Amz-Security-Token", creds["token"]))
    path, query = split_target(target)
    creq, _ = sigv4.canonical_request(
        method, path, query, headers, hashlib.sha256(body).hexdigest()
    )
    assert creq == (case / "header-canonical-request.txt").read_text("utf-8")
    scope = f"20150830/{context['region']}/{context['service']}/aws4_request"
    sts = sigv4.string_to_sign(AMZ_DATE, scope, creq)
    assert sts == (case / "header-string-to-sign.txt").read_text("utf-8")
    key = sigv4.signing_key(
        creds["secret_access_key"], "20150830", context["region"], context["service"]
    )
    assert sigv4.signature(key, sts) == (case / "header-signature.txt").read_text("utf-8")


def test_crt_suite_has_cases() -> None:
    # Guards the parametrisation above against silently collecting nothing.
    assert len(crt_cases()) >= 30
    assert len(classic_cases()) >= 30


@pytest.mark.parametrize("case", ["double-url-encode", "double-encode-path"])
def test_already_encoded_paths_are_encoded_again(case: str) -> None:
    folder = SUITE / "smithy-rs-v4-extra" / case
    _, target, _, _ = parse_request((folder / "request.txt").read_text("utf-8"))
    expected = (folder / "header-canonical-request.txt").read_text("utf-8").split("\n")
    path, _ = split_target(target)
    assert sigv4.canonical_uri(path) == expected[1]


def test_signing_key_is_cached_per_day_region_service() -> None:
    sigv4.signing_key.cache_clear()
    first = sigv4.signing_key("s", "20260101", "us-east-1", "cloudfront")
    again = sigv4.signing_key("s", "20260101", "us-east-1", "cloudfront")
    other_day = sigv4.signing_key("s", "20260102", "us-east-1", "cloudfront")
    assert first is again
    assert first != other_day
    info = sigv4.signing_key.cache_info()
    assert (info.hits, info.misses) == (1, 2)


# --- botocore as the oracle -----------------------------------------------------------------

FIXED_NOW = dt.datetime(2026, 11, 23, 19, 4, 5, tzinfo=dt.timezone.utc)


def botocore_authorization(url: str, creds: Credentials, region: str, now: dt.datetime) -> str:
    request = AWSRequest(method="GET", url=url, headers={})
    boto_creds = botocore.credentials.Credentials(
        creds.access_key_id, creds.secret_access_key, creds.session_token
    )
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now):
        botocore.auth.SigV4Auth(boto_creds, "cloudfront", region).add_auth(request)
    return str(request.headers["Authorization"])


# Control characters (category Cc) are refused before signing: see test_hostile_input.py.
no_surrogates = st.characters(blacklist_categories=("Cs", "Cc"))
tenant_ids = st.text(no_surrogates, min_size=1, max_size=40).filter(lambda s: s not in (".", ".."))
tokens = st.text(string.ascii_letters + string.digits + "+/=", min_size=1, max_size=60)
endpoints = st.sampled_from(
    [
        (None, None),
        (None, "cn-north-1"),
        ("http://127.0.0.1:8080", None),
        ("https://example.com:8443/prefix", "eu-west-1"),
        ("http://localhost", None),
        ("https://[::1]:9000", None),
    ]
)


@settings(max_examples=100, deadline=None)
@given(
    tenant_id=tenant_ids,
    marker=st.none() | st.text(no_surrogates, max_size=30),
    max_items=st.none() | st.integers(1, 10**9),
    token=st.none() | tokens,
    endpoint=endpoints,
    seconds=st.integers(0, 10**9),
)
def test_signature_equals_botocore(
    tenant_id: str,
    marker: str | None,
    max_items: int | None,
    token: str | None,
    endpoint: tuple[str | None, str | None],
    seconds: int,
) -> None:
    creds = Credentials("AKIDEXAMPLE", SECRET, token)
    resolved = resolve_endpoint(*endpoint)
    now = dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)
    request = sign(resolved, ListParams.validate(tenant_id, marker, max_items), creds, now)
    ours = request.header("Authorization")
    assert ours == botocore_authorization(request.url, creds, resolved.signing_region, now)
    assert request.header("X-Amz-Date") == now.strftime("%Y%m%dT%H%M%SZ")
    assert request.header("X-Amz-Security-Token") == token


def test_session_token_is_signed() -> None:
    creds = Credentials("AKID", "secret", "tok")
    request = sign(resolve_endpoint(None, None), ListParams("dt_1"), creds, FIXED_NOW)
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token," in str(
        request.header("Authorization")
    )


def test_china_partition_signs_for_its_region() -> None:
    request = sign(
        resolve_endpoint(None, "cn-northwest-1"),
        ListParams("dt_1"),
        Credentials("AKID", "secret"),
        FIXED_NOW,
    )
    assert request.url.startswith("https://cloudfront.cn-northwest-1.amazonaws.com.cn/")
    assert "/cn-northwest-1/cloudfront/aws4_request" in str(request.header("Authorization"))
