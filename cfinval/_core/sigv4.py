"""AWS Signature Version 4, written by hand (GET requests, and the form POSTs of STS).

Pure functions, no I/O. The rules are those of the AWS SigV4 specification as botocore applies
them to non-S3 services:

* canonical URI: the request path (as sent on the wire) with dot segments and empty segments
  removed, then percent-encoded once more (``%2F`` becomes ``%252F``);
* canonical query: keys and values encoded with RFC 3986 unreserved characters only (space is
  ``%20``), sorted by encoded key then encoded value;
* canonical headers: lower-case names, values trimmed with inner runs of spaces collapsed,
  repeated headers joined with ``,`` in order, sorted by name;
* the signing key is derived per (secret, day, region, service) and cached.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import quote

__all__ = [
    "ALGORITHM",
    "EMPTY_PAYLOAD_SHA256",
    "authorization_header",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "encode_rfc3986",
    "normalize_path",
    "payload_hash",
    "signature",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()
_UNRESERVED = "-_.~"  # with ALPHA / DIGIT, which quote() never encodes


def encode_rfc3986(value: str) -> str:
    """Percent-encode everything but RFC 3986 unreserved characters (UTF-8; space is ``%20``)."""
    return quote(value, safe=_UNRESERVED)


def payload_hash(body: bytes) -> str:
    """The hex SHA-256 of a request body, as the canonical request wants it."""
    return hashlib.sha256(body).hexdigest() if body else EMPTY_PAYLOAD_SHA256


def normalize_path(path: str) -> str:
    """Remove ``.``/``..`` and empty segments, keeping a leading and a trailing slash."""
    if not path:
        return "/"
    out: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if out:
                out.pop()
        else:
            out.append(segment)
    lead = "/" if path[0] == "/" else ""
    trail = "/" if path[-1] == "/" and out else ""
    return lead + "/".join(out) + trail


def canonical_uri(path: str) -> str:
    """The canonical URI of a request path as sent (already percent-encoded once)."""
    return quote(normalize_path(path), safe="/~")


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """The canonical query string of decoded ``(key, value)`` pairs."""
    encoded = sorted((encode_rfc3986(k), encode_rfc3986(v)) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_headers(headers: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """``(canonical header block, signed header list)`` for the headers to sign."""
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(name.lower().strip(), []).append(" ".join(value.split()))
    names = sorted(merged)
    block = "".join(f"{name}:{','.join(merged[name])}\n" for name in names)
    return block, ";".join(names)


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    payload_sha256: str = EMPTY_PAYLOAD_SHA256,
) -> tuple[str, str]:
    """``(canonical request, signed header list)``."""
    block, signed = canonical_headers(headers)
    creq = "\n".join(
        (method.upper(), canonical_uri(path), canonical_query(query), block, signed, payload_sha256)
    )
    return creq, signed


def string_to_sign(amz_date: str, scope: str, creq: str) -> str:
    digest = hashlib.sha256(creq.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


@lru_cache(maxsize=64)
def signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    """The derived key for ``day`` (``YYYYMMDD``); cached, as it changes once a day."""
    k_date = _hmac(("AWS4" + secret).encode("utf-8"), day)
    return _hmac(_hmac(_hmac(k_date, region), service), "aws4_request")


def signature(key: bytes, sts: str) -> str:
    return hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization_header(
    *,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Sequence[tuple[str, str]],
    access_key_id: str,
    secret_access_key: str,
    region: str,
    service: str,
    amz_date: str,
    payload_sha256: str = EMPTY_PAYLOAD_SHA256,
) -> str:
    """The ``Authorization`` header value. ``headers`` must include ``host`` and ``x-amz-date``."""
    creq, signed = canonical_request(method, path, query, headers, payload_sha256)
    day = amz_date[:8]
    scope = f"{day}/{region}/{service}/aws4_request"
    sig = signature(
        signing_key(secret_access_key, day, region, service), string_to_sign(amz_date, scope, creq)
    )
    return (
        f"{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={signed}, Signature={sig}"
    )
