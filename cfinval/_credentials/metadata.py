"""Credentials from the machine the code runs on: the container endpoint (ECS task roles, EKS
Pod Identity) and the EC2 instance metadata service (IMDSv2 with botocore's fallbacks). Both
are flows of ``Send`` (and ``Sleep``) effects; nothing here opens a socket.
"""

from __future__ import annotations

import datetime as _dt
import os
import random as _random
import time
from collections.abc import Callable, Mapping
from typing import Any

from .._config import AwsConfig, env_true
from .._core.effects import Flow, Send, Sleep, TransportFailure
from .._core.http import (
    CONTAINER,
    HEADER_VALUE_PROBLEM,
    METADATA,
    HttpRequest,
    HttpResponse,
    is_header_value,
)
from .._errors import ConfigError, CredentialRetrievalError
from .._models import Credentials
from .base import CredentialFlow, log, make_credentials, parse_expiration, parse_json
from .resolver import ADVISORY_REFRESH_SECONDS

__all__ = ["ContainerProvider", "InstanceMetadataProvider"]


class ContainerProvider:
    """Container credentials (ECS task roles, EKS Pod Identity).

    ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` (on ``http://169.254.170.2``) wins over
    ``AWS_CONTAINER_CREDENTIALS_FULL_URI``, which must be ``https``, a loopback address, or one of
    ``169.254.170.2``, ``169.254.170.23``, ``fd00:ec2::23``, ``localhost``. The
    ``Authorization`` header comes from ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (re-read on
    every fetch) or ``AWS_CONTAINER_AUTHORIZATION_TOKEN``. Each fetch tries ``attempts`` times,
    ``timeout`` seconds each, ``retry_delay`` seconds apart (botocore: 3, 2 s, 1 s).
    """

    method = "container-role"
    canonical_name = "EcsContainer"
    RELATIVE = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
    FULL = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
    TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"  # noqa: S105 (a variable name)
    TOKEN_FILE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"  # noqa: S105
    ECS_HOST = "169.254.170.2"
    ALLOWED_HOSTS = ("169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost")

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        timeout: float = 2.0,
        attempts: int = 3,
        retry_delay: float = 1.0,
    ) -> None:
        self._environ = environ
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.retry_delay = retry_delay

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def _url(self) -> str | None:
        env = self._env()
        if self.RELATIVE in env:
            return f"http://{self.ECS_HOST}{env[self.RELATIVE]}"
        if self.FULL in env:
            url = env[self.FULL]
            self._check_allowed(url)
            return url
        return None

    def _check_allowed(self, url: str) -> None:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            host = None
            parts = None
        if parts is not None and parts.scheme == "https" and host:
            return
        if parts is not None and parts.scheme == "http" and host:
            import ipaddress

            try:
                if ipaddress.ip_address(host).is_loopback:
                    return
            except ValueError:
                pass
            if host in self.ALLOWED_HOSTS:
                return
        raise ConfigError(
            f"Unsupported host {host!r} in {self.FULL}. Can only retrieve metadata from a "
            f"loopback address or one of these hosts: {', '.join(self.ALLOWED_HOSTS)}"
        )

    def _headers(self) -> list[tuple[str, str]]:
        env = self._env()
        headers = [("Accept", "application/json")]
        token: str | None = None
        source = self.TOKEN
        if self.TOKEN_FILE in env:
            path = env[self.TOKEN_FILE]
            source = f"{self.TOKEN_FILE} {path}"
            try:
                with open(path, encoding="utf-8") as handle:
                    token = handle.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise CredentialRetrievalError(
                    self.method, f"cannot read {self.TOKEN_FILE} {path}: {type(exc).__name__}"
                ) from None
        elif self.TOKEN in env:
            token = env[self.TOKEN]
        if token is not None:
            if not is_header_value(token):
                raise ConfigError(
                    f"the container authorization token ({source}) {HEADER_VALUE_PROBLEM}"
                )
            headers.append(("Authorization", token))
        return headers

    def load(self) -> CredentialFlow:
        url = self._url()
        if url is None:
            return None
        problem = ""
        attempt = 0
        while True:
            attempt += 1
            request = HttpRequest(
                "GET", url, tuple(self._headers()), timeout=self.timeout, purpose=CONTAINER
            )
            outcome: Any = yield Send(request)
            if isinstance(outcome, TransportFailure):
                problem = outcome.describe()
                if not outcome.retryable:  # it would fail the same way again
                    break
            else:
                assert isinstance(outcome, HttpResponse)
                if outcome.status_code != 200:
                    problem = f"HTTP {outcome.status_code}"
                else:
                    try:
                        data = parse_json(outcome.body)
                        if not isinstance(data, dict):
                            raise ValueError
                    except ValueError:  # UnicodeDecodeError is a ValueError
                        problem = "the response is not a JSON object"
                    else:
                        return self._parse(data)
            log.debug("container credentials attempt %d failed: %s", attempt, problem)
            if attempt >= self.attempts:
                break
            yield Sleep(self.retry_delay)
        raise CredentialRetrievalError(
            self.method,
            f"no credentials from the container endpoint after {attempt} attempt(s): {problem}",
        )

    def _parse(self, data: dict[str, Any]) -> Credentials:
        for name in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration"):
            if name not in data:
                raise CredentialRetrievalError(
                    self.method, f"the container endpoint's answer has no {name}"
                )
        return make_credentials(
            self.method,
            data["AccessKeyId"],
            data["SecretAccessKey"],
            data["Token"],
            parse_expiration(self.method, data["Expiration"], "Expiration"),
        )

    def describe(self) -> str:
        env = self._env()
        if self.RELATIVE in env or self.FULL in env:
            return "container credentials endpoint"
        return f"container credentials ({self.RELATIVE}, {self.FULL} not set)"


class InstanceMetadataProvider:
    """The EC2 instance metadata service (IMDSv2, with botocore's fallbacks).

    A session token is fetched with ``PUT /latest/api/token``; if the service does not give one
    (403/404/405, a timeout), the GETs go without it (IMDSv1) unless
    ``AWS_EC2_METADATA_V1_DISABLED`` / ``ec2_metadata_v1_disabled`` says no. Settings (argument,
    else environment, else profile): ``AWS_EC2_METADATA_DISABLED``,
    ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` (``ec2_metadata_service_endpoint``),
    ``AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`` (``ipv4``/``ipv6``),
    ``AWS_METADATA_SERVICE_TIMEOUT`` (1 s) and ``AWS_METADATA_SERVICE_NUM_ATTEMPTS`` (1).

    Credentials the service hands out after their expiry (an outage) are used for 17-25 more
    minutes rather than failing every call, as botocore does.
    """

    method = "iam-role"
    canonical_name = "Ec2InstanceMetadata"
    DEFAULT_ENDPOINT = "http://169.254.169.254/"
    DEFAULT_ENDPOINT_V6 = "http://[fd00:ec2::254]/"
    TOKEN_TTL = "21600"  # noqa: S105 (seconds)
    _ROLE_PATH = "latest/meta-data/iam/security-credentials/"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        timeout: float | None = None,
        attempts: int | None = None,
        v1_disabled: bool | None = None,
        disabled: bool | None = None,
        config: AwsConfig | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        random: Callable[[], float] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._timeout = timeout
        self._attempts = attempts
        self._v1_disabled = v1_disabled
        self._disabled = disabled
        self._config = config
        self._environ = environ
        self._clock = clock
        self._random = random or _random.random
        self._last = ""

    def _aws(self) -> AwsConfig:
        if self._config is None:
            self._config = AwsConfig(environ=self._environ, check_profile=False)
        return self._config

    def _is_disabled(self) -> bool:
        if self._disabled is not None:
            return self._disabled
        return env_true(self._aws().environ.get("AWS_EC2_METADATA_DISABLED", "false"))

    def base_url(self) -> str:
        if self._endpoint is not None:
            url = self._endpoint
        else:
            aws = self._aws()
            url = aws.value("ec2_metadata_service_endpoint", "AWS_EC2_METADATA_SERVICE_ENDPOINT")
            if not url:
                mode = aws.value(
                    "ec2_metadata_service_endpoint_mode", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
                )
                if mode is not None and str(mode).lower() not in ("ipv4", "ipv6"):
                    raise ConfigError(
                        f"Invalid IMDS endpoint mode {mode!r}; valid modes: ipv4, ipv6"
                    )
                ipv6 = (
                    str(mode).lower() == "ipv6"
                    if mode is not None
                    else env_true(aws.value("imds_use_ipv6", "AWS_IMDS_USE_IPV6"))
                )
                url = self.DEFAULT_ENDPOINT_V6 if ipv6 else self.DEFAULT_ENDPOINT
        url = str(url)
        return url if url.endswith("/") else url + "/"

    def _number(self, given: float | None, key: str, env_var: str, default: int) -> float:
        if given is not None:
            return given
        value = self._aws().value(key, env_var)
        if value is None:
            return default
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{env_var} / {key} must be an integer, got {value!r}") from None

    def _v1_off(self) -> bool:
        if self._v1_disabled is not None:
            return self._v1_disabled
        aws = self._aws()
        return env_true(aws.value("ec2_metadata_v1_disabled", "AWS_EC2_METADATA_V1_DISABLED"))

    def load(self) -> CredentialFlow:
        if self._is_disabled():
            self._last = "disabled by AWS_EC2_METADATA_DISABLED"
            return None
        base = self.base_url()
        timeout = float(
            self._number(
                self._timeout, "metadata_service_timeout", "AWS_METADATA_SERVICE_TIMEOUT", 1
            )
        )
        attempts = max(
            1,
            int(
                self._number(
                    self._attempts,
                    "metadata_service_num_attempts",
                    "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
                    1,
                )
            ),
        )
        token, usable = yield from self._token(base, timeout, attempts)
        if not usable:
            self._last = "the token request was refused (HTTP 400)"
            return None
        if token is None and self._v1_off():
            raise CredentialRetrievalError(
                self.method,
                "Unable to retrieve token for use in IMDSv2 call and IMDSv1 has been disabled",
            )
        role = yield from self._get(base + self._ROLE_PATH, token, timeout, attempts, False)
        if role is None:
            return None
        role = role.strip().splitlines()[0].strip()
        body = yield from self._get(base + self._ROLE_PATH + role, token, timeout, attempts, True)
        if body is None:
            return None
        data = parse_json(body)
        missing = [
            k for k in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration") if k not in data
        ]
        if missing:
            self._last = f"the role's credentials lack {', '.join(missing)}"
            log.debug("instance metadata credentials are missing %s", missing)
            return None
        expiry = self._extend(parse_expiration(self.method, data["Expiration"], "Expiration"))
        log.debug("found credentials from IAM role %s", role)
        return make_credentials(
            self.method, data["AccessKeyId"], data["SecretAccessKey"], data["Token"], expiry
        )

    def _extend(self, expiry: _dt.datetime) -> _dt.datetime:
        """Keep using stale credentials for a while during an IMDS outage (botocore does)."""
        window = ADVISORY_REFRESH_SECONDS + 120 + self._random() * 480
        now = self._clock()
        if now >= expiry.timestamp() - window:
            log.info(
                "instance metadata credentials expire soon or have expired; using them for "
                "%.0f more minutes before trying again",
                window / 60,
            )
            return _dt.datetime.fromtimestamp(now + window, _dt.timezone.utc)
        return expiry

    def _token(self, base: str, timeout: float, attempts: int) -> Flow[tuple[str | None, bool]]:
        request = HttpRequest(
            "PUT",
            base + "latest/api/token",
            (("x-aws-ec2-metadata-token-ttl-seconds", self.TOKEN_TTL),),
            timeout=timeout,
            purpose=METADATA,
        )
        for _ in range(attempts):
            outcome: Any = yield Send(request)
            if isinstance(outcome, TransportFailure):
                self._last = f"no answer from {base} ({outcome.describe()})"
                if outcome.kind == "timeout" or not outcome.retryable:
                    return None, True
                continue
            assert isinstance(outcome, HttpResponse)
            if outcome.status_code == 200:
                return outcome.body.decode("utf-8", "replace"), True
            if outcome.status_code in (403, 404, 405):
                return None, True
            if outcome.status_code == 400:
                return None, False
            self._last = f"HTTP {outcome.status_code} from {base}"
        return None, True

    def _get(
        self, url: str, token: str | None, timeout: float, attempts: int, want_json: bool
    ) -> Flow[str | None]:
        headers = (("x-aws-ec2-metadata-token", token),) if token is not None else ()
        request = HttpRequest("GET", url, headers, timeout=timeout, purpose=METADATA)
        for _ in range(attempts):
            outcome: Any = yield Send(request)
            if isinstance(outcome, TransportFailure):
                self._last = f"no answer from {url} ({outcome.describe()})"
                if not outcome.retryable:
                    return None
                continue
            assert isinstance(outcome, HttpResponse)
            if outcome.status_code != 200 or not outcome.body.strip():
                what = f"HTTP {outcome.status_code}" if outcome.status_code != 200 else "nothing"
                self._last = f"{what} from {url}"
                continue
            text = outcome.body.decode("utf-8", "replace")
            if want_json:
                try:
                    if not isinstance(parse_json(text), dict):
                        raise ValueError
                except ValueError:
                    self._last = f"invalid JSON from {url}"
                    continue
            return text
        return None

    def describe(self) -> str:
        if self._is_disabled():
            return "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)"
        try:
            where = f"EC2 instance metadata {self.base_url()}"
        except ConfigError:  # pragma: no cover (load() raised it first)
            where = "EC2 instance metadata"
        return f"{where} ({self._last})" if self._last else where
