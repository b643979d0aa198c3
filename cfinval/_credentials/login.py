"""Console credentials (``aws login``), obtained as botocore's ``LoginProvider`` obtains them.

A profile with ``login_session`` uses the session ``aws login`` cached in
``$AWS_LOGIN_CACHE_DIRECTORY`` or ``~/.aws/login/cache`` (``<sha256 of the session>.json``). Its
credentials are used as they are while more than five minutes remain; then they are refreshed
at the sign-in service (``POST /v1/token`` with the cached refresh token) and the file updated
(see ``tokencache``). The refresh request carries a DPoP proof: a compact JWS signed with ES256
by the session's own key (``dpopKey``), binding the request to it.

The signature needs elliptic-curve cryptography, which cfinval does not write by hand: it comes
from the optional ``cryptography`` package (``pip install 'cfinval[login]'``). Without it, a
login profile raises :class:`cfinval.MissingDependencyError`; every other profile works as
before.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import logging
from types import SimpleNamespace
from typing import Any

from .._config import AwsConfig
from .._core.effects import Flow
from .._errors import (
    ConfigError,
    CredentialRetrievalError,
    LoginRequiredError,
    MissingDependencyError,
)
from .._models import Credentials
from .base import ClockedProfileProvider, CredentialFlow
from .jsonapi import JsonError, json_call, json_request
from .tokencache import (
    format_time,
    login_cache_path,
    parse_time,
    read_token_or_login,
    write_token,
)

__all__ = ["LoginProvider", "dpop_proof", "load_dpop_key"]

log = logging.getLogger("cfinval")

#: Cached credentials with less than this many seconds left are refreshed.
REFRESH_THRESHOLD = 5 * 60
_REQUIRED = ("accessToken", "refreshToken", "dpopKey", "clientId")
_ACCESS_FIELDS = ("accessKeyId", "secretAccessKey", "sessionToken", "accountId", "expiresAt")
_RELOGIN_ERRORS = ("TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED")
INSTALL_HINT = "pip install 'cfinval[login]'"


def _crypto() -> Any:
    """The ``cryptography`` modules DPoP needs, or :class:`MissingDependencyError`."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils
    except ImportError:
        raise MissingDependencyError(
            "this profile uses `aws login` credentials (login_session), which are refreshed "
            "with a request signed by an elliptic-curve key; that needs the optional "
            f"`cryptography` package: {INSTALL_HINT}",
            extra="login",
        ) from None

    return SimpleNamespace(hashes=hashes, serialization=serialization, ec=ec, utils=utils)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_dpop_key(pem: Any) -> Any:
    """The P-256 private key of a cached ``dpopKey`` (PEM, SEC1 or PKCS#8); ``ValueError`` when
    it is not one."""
    crypto = _crypto()
    if not isinstance(pem, str):
        raise ValueError("dpopKey is not a string")
    body = "".join(
        line
        for line in pem.splitlines()
        if not line.startswith("-----BEGIN") and not line.startswith("-----END")
    ).strip()
    try:
        key = crypto.serialization.load_der_private_key(base64.b64decode(body), password=None)
    except Exception:  # binascii.Error, ValueError, TypeError, UnsupportedAlgorithm
        raise ValueError("dpopKey is not a private key") from None
    if not isinstance(key, crypto.ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("dpopKey is not a P-256 key")
    return key


def dpop_proof(key: Any, url: str, *, iat: int, jti: str) -> str:
    """A DPoP proof for ``POST url``: a compact JWS (ES256) whose header carries the public
    key, with the claims ``htm``, ``htu``, ``iat`` and ``jti`` (as botocore builds it)."""
    crypto = _crypto()
    numbers = key.public_key().public_numbers()
    header = {
        "typ": "dpop+jwt",
        "alg": "ES256",
        "jwk": {
            "kty": "EC",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
            "crv": "P-256",
        },
    }
    payload = {"htm": "POST", "htu": url, "iat": iat, "jti": jti}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    der = key.sign(signing_input.encode(), crypto.ec.ECDSA(crypto.hashes.SHA256()))
    r, s = crypto.utils.decode_dss_signature(der)
    return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class LoginProvider(ClockedProfileProvider):
    """Credentials of an ``aws login`` profile (``login_session``), refreshed at the sign-in
    service when fewer than five minutes remain. ``profile`` defaults as everywhere;
    ``config=`` shares an :class:`AwsConfig` with a chain.

    Raises :class:`cfinval.LoginRequiredError` (whose message says to run ``aws login
    --profile NAME``) when the session is missing or was refused, and
    :class:`cfinval.MissingDependencyError` without the ``cryptography`` package.
    """

    method = "login"

    def describe(self) -> str:
        return f"login_session in profile {self._aws().profile_name!r}"

    def load(self) -> CredentialFlow:
        aws = self._aws()
        session = aws.scoped.get("login_session")
        if session is None:
            return None
        if not isinstance(session, str) or not session:
            raise ConfigError(f"login_session in profile {aws.profile_name!r} must be a name")
        _crypto()
        import shlex

        login = f"aws login --profile {shlex.quote(aws.profile_name)}"
        path = login_cache_path(session, aws.environ)
        token = self._read(path, session, login)
        credentials, expiry = self._credentials(token, login)
        if expiry - self._clock() > REFRESH_THRESHOLD:
            log.debug("using the cached credentials of login session %s", session)
            return credentials
        return (yield from self._refresh(aws, path, token, login))

    def _read(self, path: str, session: str, login: str) -> dict[str, Any]:
        token = read_token_or_login(
            path,
            self.method,
            "the cached login session",
            f"Unable to load an existing login session for session {session} ({path})",
            login,
        )
        missing = [key for key in _REQUIRED if key not in token]
        if missing:
            raise LoginRequiredError(
                self.method,
                "Failed to load access token from token cache, missing required fields: "
                + ", ".join(missing),
                command=login,
            )
        return token

    def _credentials(self, token: dict[str, Any], login: str) -> tuple[Credentials, float]:
        access = token["accessToken"]
        if not isinstance(access, dict) or any(key not in access for key in _ACCESS_FIELDS):
            raise LoginRequiredError(
                self.method, "the cached login session holds no valid credentials", command=login
            )
        try:
            expiration = parse_time(access["expiresAt"])
            return Credentials(
                access["accessKeyId"],
                access["secretAccessKey"],
                access["sessionToken"],
                expiration=expiration,
            ), expiration.timestamp()
        except ValueError:  # ParamValidationError included; the values are never quoted
            raise LoginRequiredError(
                self.method, "the cached login session holds no valid credentials", command=login
            ) from None

    def _refresh(
        self, aws: AwsConfig, path: str, token: dict[str, Any], login: str
    ) -> Flow[Credentials]:
        try:
            key = load_dpop_key(token["dpopKey"])
        except ValueError:
            raise LoginRequiredError(
                self.method, "Unable to load private key from cached token", command=login
            ) from None
        region = token.get("signInRegion") or aws.origin.region
        if not isinstance(region, str) or not region:
            raise ConfigError(
                "You must specify a region: the sign-in service that refreshes `aws login` "
                "credentials is regional (set region in the profile or AWS_DEFAULT_REGION)"
            )
        endpoint = aws.origin.identity_endpoint("signin", region)
        request = json_request(
            "POST",
            endpoint,
            "/v1/token",
            body={
                "clientId": token["clientId"],
                "refreshToken": token["refreshToken"],
                "grantType": "refresh_token",
            },
        )
        import uuid

        proof = dpop_proof(key, request.url, iat=int(self._clock()), jti=str(uuid.uuid4()))
        request = request.with_headers(("DPoP", proof))
        log.debug("refreshing the credentials of an aws login session at %s", endpoint.netloc)
        result = yield from json_call(self.method, "CreateOAuth2Token", request)
        if isinstance(result, JsonError):
            raise self._refused(result, login)
        output = result
        access = output.get("accessToken")
        expires_in = output.get("expiresIn")
        if (
            not isinstance(access, dict)
            or any(key not in access for key in _ACCESS_FIELDS[:3])
            or not isinstance(expires_in, int)
            or isinstance(expires_in, bool)
            or "refreshToken" not in output
        ):
            raise CredentialRetrievalError(
                self.method,
                "Unable to refresh access token due to an invalid service response. Please try "
                "running 'aws login' again. If the issue persists, there may be a temporary "
                "signin service problem.",
            )
        now = _dt.datetime.fromtimestamp(self._clock(), _dt.timezone.utc)
        token.update(
            {
                "accessToken": {
                    "accessKeyId": access["accessKeyId"],
                    "secretAccessKey": access["secretAccessKey"],
                    "sessionToken": access["sessionToken"],
                    "accountId": token["accessToken"]["accountId"],
                    "expiresAt": format_time(now + _dt.timedelta(seconds=expires_in)),
                },
                "refreshToken": output["refreshToken"],
            }
        )
        credentials, _ = self._credentials(token, login)
        try:
            write_token(path, token)
        except OSError as exc:
            raise CredentialRetrievalError(
                self.method,
                f"cannot save the refreshed login session to {path}: "
                f"{type(exc).__name__}: {exc.strerror}",
            ) from None
        return credentials

    def _refused(self, error: JsonError, login: str) -> CredentialRetrievalError:
        if error.code == "AccessDeniedException":
            kind = error.fields.get("error")
            if kind in _RELOGIN_ERRORS:
                return LoginRequiredError(
                    self.method,
                    "Your session has expired or credentials have changed",
                    command=login,
                    code=error.code,
                )
            if kind == "INSUFFICIENT_PERMISSIONS":
                return CredentialRetrievalError(
                    self.method,
                    "Unable to create or refresh login credentials due to insufficient "
                    "permissions. You may be missing permission for the "
                    "'signin:CreateOAuth2Token' action.",
                    code=error.code,
                )
            return CredentialRetrievalError(
                self.method,
                "An unspecified error happened when resolving AWS credentials or refreshing a "
                f"login session profile ({error.code})",
                code=error.code,
            )
        return CredentialRetrievalError(
            self.method, error.describe("CreateOAuth2Token"), code=error.code
        )
