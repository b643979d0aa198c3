"""IAM Identity Center (``aws sso login``) credentials, obtained as botocore's ``SSOProvider``
obtains them.

A profile is an SSO profile when it has ``sso_account_id`` or ``sso_role_name``; its start URL
and region come from the profile or from its ``[sso-session NAME]`` section. The access token
that ``aws sso login`` cached is exchanged for role credentials at the portal (``GET
/federation/credentials``, header ``x-amz-sso_bearer_token``). For an sso-session profile, a
token with less than 15 minutes left is first refreshed at the OIDC service (``POST /token``, at
most once a minute) and the cache file rewritten (see ``tokencache``); a refused refresh is
logged and the old token used while it lasts. Tokens of legacy profiles (start URL in the
profile, no ``sso_session``) are never refreshed.

The provider is a flow like the others: the requests are ``Send`` effects, so one provider
serves the sync and the async client, and the client's resolver makes refreshes single-flight.
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import Any

from .._config import AwsConfig, Section
from .._core.effects import Flow
from .._core.http import HEADER_VALUE_PROBLEM, is_header_value
from .._core.record import Record
from .._errors import (
    ConfigError,
    CredentialRetrievalError,
    LoginRequiredError,
    ParamValidationError,
)
from .._models import Credentials
from .base import ClockedProfileProvider, CredentialFlow
from .jsonapi import JsonError, json_call, json_request
from .tokencache import (
    format_time,
    parse_time,
    read_token_or_login,
    sso_cache_path,
    write_token,
)

__all__ = ["SSOProvider", "sso_settings"]

log = logging.getLogger("cfinval")

#: A cached token with less than this many seconds left is refreshed (sso-session profiles).
TOKEN_REFRESH_WINDOW = 15 * 60
#: At most one refresh attempt this many seconds apart.
REFRESH_ATTEMPT_INTERVAL = 60
_PROFILE_KEYS = ("sso_role_name", "sso_account_id")
_REQUIRED = ("sso_role_name", "sso_account_id", "sso_start_url", "sso_region")
_REFRESH_KEYS = ("refreshToken", "clientId", "clientSecret", "registrationExpiresAt")


class SSOSettings(Record):
    """What an SSO profile resolves to. ``session`` is the sso-session name (``None`` for a
    legacy profile)."""

    __slots__ = ("account_id", "profile", "region", "role_name", "session", "start_url")

    def __init__(
        self,
        profile: str,
        start_url: str,
        region: str,
        role_name: str,
        account_id: str,
        session: str | None,
    ) -> None:
        self.profile = profile
        self.start_url = start_url
        self.region = region
        self.role_name = role_name
        self.account_id = account_id
        self.session = session


def sso_settings(aws: AwsConfig) -> SSOSettings | None:
    """The profile's SSO settings; ``None`` when it is not an SSO profile (no ``sso_account_id``
    or ``sso_role_name``), :class:`ConfigError` when they are incomplete or inconsistent."""
    profile = aws.scoped
    if not any(key in profile for key in _PROFILE_KEYS):
        return None
    name = aws.profile_name
    merged: Section = dict(profile)
    required: tuple[str, ...] = _REQUIRED
    session = profile.get("sso_session")
    if session is not None:
        sessions = aws.files.config()["sso_sessions"]
        if session not in sessions:
            raise ConfigError(f'The specified sso-session does not exist: "{session}"')
        for key, value in sessions[session].items():
            if merged.get(key, value) != value:
                raise ConfigError(
                    f"The value for {key} is inconsistent between profile ({merged[key]}) and "
                    f"sso-session ({value})."
                )
            merged[key] = value
        required = (*_REQUIRED, "sso_session")
    missing = [key for key in required if key not in merged]
    if missing:
        raise ConfigError(
            f'The profile "{name}" is configured to use SSO but is missing required '
            f"configuration: {', '.join(missing)}"
        )
    for key in required:
        if not isinstance(merged[key], str):
            raise ConfigError(f'{key} in profile "{name}" must be a single value')
    return SSOSettings(
        name,
        merged["sso_start_url"],
        merged["sso_region"],
        merged["sso_role_name"],
        merged["sso_account_id"],
        session,
    )


class SSOProvider(ClockedProfileProvider):
    """Credentials of an IAM Identity Center (SSO) profile: the role ``sso_role_name`` in the
    account ``sso_account_id``, with the token ``aws sso login`` cached. ``profile`` defaults as
    everywhere (``AWS_PROFILE``, ...); ``config=`` shares an :class:`AwsConfig` with a chain.

    Raises :class:`cfinval.LoginRequiredError` (whose message says to run ``aws sso login
    --profile NAME``) when there is no usable token, and :class:`cfinval.ConfigError` when the
    profile's SSO settings are incomplete.
    """

    method = "sso"

    _next_refresh = 0.0

    def describe(self) -> str:
        return f"sso_account_id/sso_role_name in profile {self._aws().profile_name!r}"

    def load(self) -> CredentialFlow:
        aws = self._aws()
        settings = sso_settings(aws)
        if settings is None:
            return None
        import shlex

        login = f"aws sso login --profile {shlex.quote(settings.profile)}"
        if settings.session is not None:
            token = yield from self._session_token(aws, settings, login)
        else:
            token = self._legacy_token(settings, login)
        return (yield from self._role_credentials(aws, settings, token, login))

    # -- the token ------------------------------------------------------------------------------

    def _read(self, path: str, owner: str, login: str) -> tuple[dict[str, Any], float]:
        """The cached token and its expiry (epoch seconds)."""
        data = read_token_or_login(
            path,
            self.method,
            "the cached SSO token",
            f"there is no cached SSO token for {owner} ({path})",
            login,
        )
        access = data.get("accessToken")
        if isinstance(access, str) and access and not is_header_value(access):
            raise LoginRequiredError(
                self.method,
                f"the cached SSO token for {owner} ({path}) {HEADER_VALUE_PROBLEM}",
                command=login,
            )
        if not is_header_value(access) or "expiresAt" not in data:
            raise LoginRequiredError(
                self.method, f"the cached SSO token for {owner} is invalid ({path})", command=login
            )
        try:
            expiry = parse_time(data["expiresAt"]).timestamp()
        except ValueError:
            raise LoginRequiredError(
                self.method,
                f"the cached SSO token for {owner} has an invalid expiresAt",
                command=login,
            ) from None
        return data, expiry

    def _legacy_token(self, settings: SSOSettings, login: str) -> str:
        data, expiry = self._read(sso_cache_path(settings.start_url), settings.start_url, login)
        if expiry - self._clock() <= 0:
            raise LoginRequiredError(
                self.method,
                f"the SSO session for profile {settings.profile!r} has expired",
                command=login,
            )
        return str(data["accessToken"])

    def _session_token(self, aws: AwsConfig, settings: SSOSettings, login: str) -> Flow[str]:
        assert settings.session is not None
        path = sso_cache_path(settings.session)
        owner = f"sso-session {settings.session!r}"
        data, expiry = self._read(path, owner, login)
        now = self._clock()
        refused = None  # why a refresh failed, said with the expiry (one message, not two)
        if expiry - now < TOKEN_REFRESH_WINDOW and now >= self._next_refresh:
            self._next_refresh = now + REFRESH_ATTEMPT_INTERVAL
            fresh = yield from self._refresh(aws, settings, data)
            if isinstance(fresh, str):
                refused = fresh
            else:
                try:
                    write_token(path, fresh)
                except OSError as exc:
                    raise CredentialRetrievalError(
                        self.method,
                        f"cannot save the refreshed SSO token to {path}: "
                        f"{type(exc).__name__}: {exc.strerror}",
                    ) from None
                data, expiry = fresh, parse_time(fresh["expiresAt"]).timestamp()
        if expiry - self._clock() <= 0:
            raise LoginRequiredError(
                self.method,
                f"the SSO token for {owner} has expired and refresh failed"
                + (f" ({refused})" if refused else ""),
                command=login,
            )
        return str(data["accessToken"])

    def _refresh(
        self, aws: AwsConfig, settings: SSOSettings, token: dict[str, Any]
    ) -> Flow[dict[str, Any] | str]:
        """A refreshed token (botocore's fixed key set), or why it cannot be refreshed or
        what the OIDC service said when it refused."""
        missing = [key for key in _REFRESH_KEYS if key not in token]
        if missing:
            log.info("Unable to refresh SSO token: missing keys: %s", missing)
            return "the cached token cannot be refreshed"
        try:
            registration = parse_time(token["registrationExpiresAt"]).timestamp()
        except ValueError:
            log.info("Unable to refresh SSO token: invalid registrationExpiresAt")
            return "the cached token has an invalid registrationExpiresAt"
        if registration - self._clock() <= 0:
            log.info("SSO token registration expired at %s", token["registrationExpiresAt"])
            return f"its client registration expired at {token['registrationExpiresAt']}"
        endpoint = aws.origin.identity_endpoint("sso-oidc", settings.region)
        request = json_request(
            "POST",
            endpoint,
            "/token",
            body={
                "grantType": "refresh_token",
                "clientId": token["clientId"],
                "clientSecret": token["clientSecret"],
                "refreshToken": token["refreshToken"],
            },
        )
        result = yield from json_call(self.method, "CreateToken", request)
        if isinstance(result, JsonError):
            log.warning("SSO token refresh attempt failed: %s", result.describe("CreateToken"))
            return result.describe("CreateToken")
        access, expires_in = result.get("accessToken"), result.get("expiresIn")
        if (
            not is_header_value(access)
            or not isinstance(expires_in, int)
            or isinstance(expires_in, bool)
        ):
            raise CredentialRetrievalError(
                self.method, f"invalid CreateToken response from {endpoint.netloc}"
            )
        now = _dt.datetime.fromtimestamp(self._clock(), _dt.timezone.utc)
        fresh: dict[str, Any] = {
            "startUrl": settings.start_url,
            "region": settings.region,
            "accessToken": access,
            "expiresAt": format_time(now + _dt.timedelta(seconds=expires_in)),
            "clientId": token["clientId"],
            "clientSecret": token["clientSecret"],
            "registrationExpiresAt": token["registrationExpiresAt"],
        }
        if "refreshToken" in result:
            fresh["refreshToken"] = result["refreshToken"]
        log.info("SSO Token refresh succeeded")
        return fresh

    # -- the role's credentials -----------------------------------------------------------------

    def _role_credentials(
        self, aws: AwsConfig, settings: SSOSettings, token: str, login: str
    ) -> Flow[Credentials]:
        endpoint = aws.origin.identity_endpoint("sso", settings.region)
        request = json_request(
            "GET",
            endpoint,
            "/federation/credentials",
            query=[("role_name", settings.role_name), ("account_id", settings.account_id)],
            headers=[("x-amz-sso_bearer_token", token)],
        )
        result = yield from json_call(self.method, "GetRoleCredentials", request)
        if isinstance(result, JsonError):
            if result.code == "UnauthorizedException":
                raise LoginRequiredError(
                    self.method,
                    f"the SSO session associated with profile {settings.profile!r} has expired "
                    "or is otherwise invalid",
                    command=login,
                    code=result.code,
                )
            raise CredentialRetrievalError(
                self.method, result.describe("GetRoleCredentials"), code=result.code
            )
        role = result.get("roleCredentials")
        fields = ("accessKeyId", "secretAccessKey", "sessionToken", "expiration")
        if not isinstance(role, dict) or any(key not in role for key in fields):
            raise CredentialRetrievalError(
                self.method, f"invalid GetRoleCredentials response from {endpoint.netloc}"
            )
        millis = role["expiration"]
        try:
            if isinstance(millis, bool) or not isinstance(millis, (int, float)):
                raise TypeError
            # botocore keeps whole seconds ('%Y-%m-%dT%H:%M:%SZ')
            expiry = _dt.datetime.fromtimestamp(int(millis // 1000), _dt.timezone.utc)
            log.debug("found credentials for role %s via IAM Identity Center", settings.role_name)
            return Credentials(
                role["accessKeyId"],
                role["secretAccessKey"],
                role["sessionToken"],
                expiration=expiry,
            )
        except (TypeError, ValueError, OverflowError, OSError, ParamValidationError):
            raise CredentialRetrievalError(
                self.method,
                f"invalid credentials in the GetRoleCredentials response from {endpoint.netloc}",
            ) from None
