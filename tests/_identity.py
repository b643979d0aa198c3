"""Loopback stand-ins for the identity services behind ``aws sso login`` and ``aws login``: the
IAM Identity Center portal (``GET /federation/credentials``), its OIDC service (``POST /token``)
and AWS sign-in (``POST /v1/token``, whose DPoP proof is verified with ``cryptography``), on one
server on 127.0.0.1; plus helpers that write the cache files ``aws sso login`` / ``aws login``
leave behind, and run boto3 (the oracle) on the same files.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import cfinval

from ._local_aws import Answer, Req, Stub, boto3_session, key_id_of, list_once

ACCOUNT = "123456789012"
ROLE = "AuditReadOnly"
START_URL = "https://d-1234567890.awsapps.com/start"
CLIENT_ID = "oidc-client-id-_Hk2"
CLIENT_SECRET = "oidc-client-secret-SECRETVALUE"
LOGIN_CLIENT = "arn:aws:signin:::devtools/same-device"


def iso(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeIdentity:
    """Portal, OIDC and sign-in. ``valid_tokens`` are the SSO access tokens the portal accepts;
    ``refresh_tokens`` the OIDC refresh tokens it exchanges (``oidc_refuses`` makes it say
    ``InvalidGrantException``); ``login_refresh_tokens`` the sign-in refresh tokens, accepted only
    with a DPoP proof signed by one of ``login_keys`` (``signin_error`` makes it refuse)."""

    def __init__(self) -> None:
        self.url = ""
        self.roles: dict[tuple[str, str], cfinval.Credentials] = {}
        self.valid_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.oidc_refuses = False
        self.login_refresh_tokens: set[str] = set()
        self.login_keys: list[Any] = []
        self.login_creds: dict[str, cfinval.Credentials] = {}
        self.signin_error: str | None = None
        self.seen_jti: set[str] = set()
        self.dpop_problems: list[str] = []
        self.requests: list[Req] = []

    def role(self, creds: cfinval.Credentials, account: str = ACCOUNT, role: str = ROLE) -> None:
        self.roles[(account, role)] = creds

    def __call__(self, req: Req) -> Answer:
        self.requests.append(req)
        path = urlsplit(req.path).path
        if req.method == "GET" and path == "/federation/credentials":
            return self._portal(req)
        if req.method == "POST" and path == "/token":
            return self._oidc(req)
        if req.method == "POST" and path == "/v1/token":
            return self._signin(req)
        return 404, {}, b""

    @staticmethod
    def _json(status: int, body: dict[str, Any], code: str | None = None) -> Answer:
        headers = {"Content-Type": "application/json"}
        if code is not None:
            headers["x-amzn-ErrorType"] = code
        return status, headers, json.dumps(body).encode()

    # -- the portal ------------------------------------------------------------------------------

    def _portal(self, req: Req) -> Answer:
        query = dict(parse_qsl(urlsplit(req.path).query))
        if req.headers.get("x-amz-sso_bearer_token") not in self.valid_tokens:
            return self._json(
                401, {"message": "Session token not found or invalid"}, "UnauthorizedException"
            )
        creds = self.roles.get((query.get("account_id", ""), query.get("role_name", "")))
        if creds is None:
            return self._json(403, {"message": "No access"}, "ForbiddenException")
        role = {
            "accessKeyId": creds.access_key_id,
            "secretAccessKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
            "expiration": int((time.time() + 3600) * 1000) + 123,
        }
        return self._json(200, {"roleCredentials": role})

    # -- OIDC ------------------------------------------------------------------------------------

    def _oidc(self, req: Req) -> Answer:
        body = json.loads(req.body)
        if self.oidc_refuses or body.get("refreshToken") not in self.refresh_tokens:
            return self._json(
                400,
                {"error": "invalid_grant", "error_description": "Invalid refresh token provided"},
                "InvalidGrantException",
            )
        if (body.get("grantType"), body.get("clientId"), body.get("clientSecret")) != (
            "refresh_token",
            CLIENT_ID,
            CLIENT_SECRET,
        ):
            return self._json(400, {"error": "invalid_client"}, "InvalidClientException")
        access = "access-from-" + body["refreshToken"]
        self.valid_tokens.add(access)
        return self._json(
            200,
            {
                "accessToken": access,
                "tokenType": "Bearer",
                "expiresIn": 28800,
                "refreshToken": "next-" + body["refreshToken"],
            },
        )

    # -- sign-in ---------------------------------------------------------------------------------

    def _signin(self, req: Req) -> Answer:
        problem = self.check_dpop(req.headers.get("dpop", ""))
        if problem is not None:
            self.dpop_problems.append(problem)
            return self._json(
                400, {"error": "invalid_dpop_proof", "message": problem}, "ValidationException"
            )
        body = json.loads(req.body)
        if self.signin_error is not None:
            return self._json(
                403,
                {"error": self.signin_error, "message": "refused"},
                "AccessDeniedException",
            )
        token = body.get("refreshToken")
        if (body.get("grantType"), body.get("clientId")) != ("refresh_token", LOGIN_CLIENT) or (
            token not in self.login_refresh_tokens
        ):
            return self._json(
                400, {"error": "INVALID_REQUEST", "message": "no"}, "ValidationException"
            )
        creds = self.login_creds[token]
        return self._json(
            200,
            {
                "accessToken": {
                    "accessKeyId": creds.access_key_id,
                    "secretAccessKey": creds.secret_access_key,
                    "sessionToken": creds.session_token,
                },
                "tokenType": "aws_sigv4",
                "expiresIn": 900,
                "refreshToken": "next-" + token,
            },
        )

    def check_dpop(self, proof: str, now: float | None = None) -> str | None:
        """Why ``proof`` is not a valid DPoP proof for this server's token URL, or ``None``."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        parts = proof.split(".")
        if len(parts) != 3:
            return "not a compact JWS"
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
            return f"bad header {header}"
        jwk = header.get("jwk", {})
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            return f"bad jwk {jwk}"
        x = int.from_bytes(_b64url_decode(jwk["x"]), "big")
        y = int.from_bytes(_b64url_decode(jwk["y"]), "big")
        known = [k.public_key().public_numbers() for k in self.login_keys]
        if not any(n.x == x and n.y == y for n in known):
            return "the proof's key is not the session's key"
        signature = _b64url_decode(parts[2])
        if len(signature) != 64:
            return "the signature is not 64 bytes (r || s)"
        der = utils.encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        try:
            public.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "bad signature"
        if claims.get("htm") != "POST" or claims.get("htu") != self.url + "/v1/token":
            return f"bad htm/htu {claims.get('htm')} {claims.get('htu')}"
        now = time.time() if now is None else now
        if not isinstance(claims.get("iat"), int) or abs(claims["iat"] - now) > 300:
            return "iat is not now"
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or jti in self.seen_jti:
            return "jti missing or reused"
        self.seen_jti.add(jti)
        return None

    # -- what reached it -------------------------------------------------------------------------

    def calls(self) -> list[tuple[str, str, Any]]:
        """``(method, path, what matters)`` of each request, comparable between clients: the
        portal's query and token, OIDC's and sign-in's JSON body."""
        out: list[tuple[str, str, Any]] = []
        for req in self.requests:
            parts = urlsplit(req.path)
            if parts.path == "/federation/credentials":
                detail: Any = (
                    parse_qsl(parts.query),
                    req.headers.get("x-amz-sso_bearer_token"),
                )
            else:
                detail = json.loads(req.body)
            out.append((req.method, parts.path, detail))
        return out


@contextmanager
def identity_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIdentity]:
    """A :class:`FakeIdentity` on 127.0.0.1, with ``AWS_ENDPOINT_URL_SSO``, ``_SSO_OIDC`` and
    ``_SIGNIN`` pointing at it (for cfinval and boto3 alike)."""
    fake = FakeIdentity()
    with Stub(fake) as stub:
        fake.url = stub.url
        for name in ("SSO", "SSO_OIDC", "SIGNIN"):
            monkeypatch.setenv(f"AWS_ENDPOINT_URL_{name}", stub.url)
        yield fake


# --- the cache files ----------------------------------------------------------------------------


def sso_cache_file(home: Path, key: str) -> Path:
    digest = hashlib.sha1(key.encode()).hexdigest()  # noqa: S324 (the cache's file name)
    return home / ".aws" / "sso" / "cache" / (digest + ".json")


def write_sso_token(
    home: Path,
    key: str,
    access: str,
    expires_in: float,
    *,
    refresh: str | None = None,
    registration: str = "2100-01-01T00:00:00Z",
) -> Path:
    """What ``aws sso login`` caches (``key``: the sso-session name, or the legacy start URL)."""
    now = time.time()
    token: dict[str, Any] = {
        "startUrl": START_URL,
        "region": "eu-west-1",
        "accessToken": access,
        "expiresAt": iso(now + expires_in),
    }
    if refresh is not None:
        token |= {
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "registrationExpiresAt": registration,
            "refreshToken": refresh,
        }
    path = sso_cache_file(home, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(token))
    return path


def login_cache_file(home: Path, session: str) -> Path:
    digest = hashlib.sha256(session.encode()).hexdigest()
    return home / ".aws" / "login" / "cache" / (digest + ".json")


def new_login_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def write_login_token(
    home: Path,
    session: str,
    creds: cfinval.Credentials,
    expires_in: float,
    key: Any,
    refresh: str,
    *,
    sign_in_region: str | None = "eu-west-1",
) -> Path:
    """What ``aws login`` caches: credentials, a refresh token and the session's DPoP key."""
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    token: dict[str, Any] = {
        "accessToken": {
            "accessKeyId": creds.access_key_id,
            "secretAccessKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
            "accountId": ACCOUNT,
            "expiresAt": iso(time.time() + expires_in),
        },
        "tokenType": "aws_sigv4",
        "refreshToken": refresh,
        "idToken": "header.payload.signature",
        "clientId": LOGIN_CLIENT,
        "dpopKey": pem,
    }
    if sign_in_region is not None:
        token["signInRegion"] = sign_in_region
    path = login_cache_file(home, session)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(token))
    return path


# --- boto3, the oracle --------------------------------------------------------------------------


def point_botocore_at(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore computes the SSO cache directory when it is imported (from the HOME of the
    process then); make it the one a process started with this HOME would use."""
    import botocore.credentials
    import botocore.tokens

    cache = str(home / ".aws" / "sso" / "cache")
    monkeypatch.setattr(botocore.credentials.SSOProvider, "_SSO_TOKEN_CACHE_DIR", cache)
    monkeypatch.setattr(botocore.tokens.SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", cache)


def boto3_key_id(profile: str, endpoint_url: str, cf: Any) -> str | BaseException:
    """The access key id boto3 signs a listing with for ``profile`` (or what it raised), as the
    fake CloudFront ``cf`` at ``endpoint_url`` saw it."""
    from botocore.config import Config

    try:
        boto3_session(profile).client(
            "cloudfront",
            endpoint_url=endpoint_url,
            region_name="us-east-1",  # boto3 wants one even with endpoint_url
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        ).list_invalidations_for_distribution_tenant(Id="dt_1")
    except Exception as exc:
        return exc
    return key_id_of(cf)


def cfinval_key_id(profile: str, url: str, cf: Any, kind: str = "sync") -> str | BaseException:
    """What :func:`boto3_key_id` says, for cfinval (``kind``: ``sync`` or ``async``)."""
    try:
        list_once(kind, profile=profile, endpoint_url=url)
    except cfinval.Error as exc:
        return exc
    return key_id_of(cf)
