"""Credential providers, the default chain, and the resolver that caches and refreshes.

A provider's ``load()`` is a flow (see ``_effects``): a generator that may yield effects (HTTP
for the instance metadata service, containers and STS; a subprocess for ``credential_process``)
and returns :class:`Credentials`, or ``None`` when it has nothing to offer. A provider that is
configured but fails raises (:class:`CredentialRetrievalError`, :class:`ConfigError`), which stops
the chain, as in botocore. Because providers are flows, the same provider works under
:class:`cfinval.Client` and :class:`cfinval.AsyncClient`. A ``load()`` that simply returns
``Credentials`` (not a generator) is accepted too, so a provider of your own can be a few lines.

The default chain, in botocore's order:

1. environment variables (skipped when ``profile=`` is given)
2. ``AssumeRole`` from the profile (``role_arn`` + ``source_profile`` / ``credential_source``)
3. ``AssumeRoleWithWebIdentity`` (``AWS_WEB_IDENTITY_TOKEN_FILE``/``AWS_ROLE_ARN`` or the
   profile's ``web_identity_token_file``/``role_arn``)
4. IAM Identity Center (``aws sso login``; ``sso.py``), 5. the shared credentials file,
6. ``aws login`` (``login_session``; ``login.py``), 7. ``credential_process``, 8. the config file
9. the legacy ``AWS_CREDENTIAL_FILE`` and boto2 config files
10. container credentials (ECS, EKS Pod Identity), 11. the EC2 instance metadata service (IMDSv2)

:class:`CredentialResolver` caches what the chain found for one client and refreshes temporary
credentials as botocore does: from 15 minutes before expiry one caller refreshes while the
others keep using the current credentials (advisory); from 10 minutes before, every caller
waits for the refresh (mandatory). Only one refresh runs at a time, whatever the number of
threads or asyncio tasks (waiting tasks await; the event loop is never blocked).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import random as _random
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from .._config import AwsConfig, Section, SharedFiles, env_true
from .._core.effects import Flow, ProcessResult, Run, Send, Signal, Sleep, TransportFailure, Wait
from .._core.http import HttpRequest, HttpResponse
from .._core.retry import EXPIRED_TOKEN_CODES
from .._core.xml import parse_timestamp
from .._errors import (
    ConfigError,
    CredentialRetrievalError,
    Error,
    NoCredentialsError,
    ParamValidationError,
)
from .._models import Credentials

# --- issue 11: IAM Identity Center (SSO) and `aws login` providers (their own modules) ---------
from .login import LoginProvider
from .sso import SSOProvider

__all__ = [
    "ADVISORY_REFRESH_SECONDS",
    "MANDATORY_REFRESH_SECONDS",
    "AssumeRoleProvider",
    "CallableProvider",
    "ChainProvider",
    "ConfigFileProvider",
    "ContainerProvider",
    "CredentialProvider",
    "CredentialResolver",
    "EnvProvider",
    "InstanceMetadataProvider",
    "LoginProvider",
    "ProcessProvider",
    "SSOProvider",
    "SharedCredentialsProvider",
    "StaticProvider",
    "WebIdentityProvider",
    "as_provider",
    "default_chain",
    "load_flow",
]

log = logging.getLogger("cfinval")

#: From this many seconds before expiry, one caller refreshes; the others keep going.
ADVISORY_REFRESH_SECONDS = 15 * 60
#: From this many seconds before expiry, every caller waits for fresh credentials.
MANDATORY_REFRESH_SECONDS = 10 * 60


@runtime_checkable
class CredentialProvider(Protocol):
    """Anything that can load credentials: ``load()`` returns a flow (a generator yielding
    effects) or, for providers that need no I/O, the :class:`Credentials` (``None``: nothing
    here). ``method`` names it in messages; an optional ``describe()`` says where it looks."""

    method: str

    def load(self) -> Flow[Credentials | None] | Credentials | None: ...


def load_flow(provider: Any) -> Flow[Credentials | None]:
    """Run ``provider.load()``: a flow, or (for hand-written providers) a plain value."""
    result = provider.load()
    if isinstance(result, Generator):
        result = yield from result
    if result is not None and not isinstance(result, Credentials):
        raise ParamValidationError(
            f"credential provider {_method(provider)} returned {type(result).__name__}, "
            "not cfinval.Credentials"
        )
    return result


def _method(provider: Any) -> str:
    method = getattr(provider, "method", None)
    return method if isinstance(method, str) else type(provider).__name__


def _describe(provider: Any) -> str:
    describe = getattr(provider, "describe", None)
    if callable(describe):
        text = describe()
        if isinstance(text, str):
            return text
    return _method(provider)


def _credentials(
    provider: str,
    key: Any,
    secret: Any,
    token: Any = None,
    expiration: _dt.datetime | None = None,
) -> Credentials:
    """Build :class:`Credentials`, turning bad values into a retrieval error (never echoing
    them)."""
    try:
        return Credentials(key, secret, token or None, expiration=expiration)
    except ParamValidationError as exc:
        raise CredentialRetrievalError(provider, f"invalid credentials: {exc}") from None


def _expiration(provider: str, value: Any, where: str) -> _dt.datetime:
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        return parse_timestamp(value)
    except ValueError:
        raise CredentialRetrievalError(
            provider, f"{where} is not an ISO 8601 timestamp: {value!r}"
        ) from None


# --- simple providers ---------------------------------------------------------------------------


class StaticProvider:
    """Always the same credentials (what ``credentials=Credentials(...)`` becomes)."""

    method = "explicit"

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials

    def describe(self) -> str:
        return "explicit credentials"

    def __repr__(self) -> str:
        return f"StaticProvider({self._credentials!r})"


class CallableProvider:
    """Wraps a user callable returning :class:`Credentials` (or ``None``)."""

    method = "callable"

    def __init__(self, func: Callable[[], Credentials | None]) -> None:
        self._func = func

    def load(self) -> Credentials | None:
        value = self._func()
        if value is not None and not isinstance(value, Credentials):
            raise ParamValidationError(
                f"credentials callable returned {type(value).__name__}, not Credentials"
            )
        return value

    def describe(self) -> str:
        return f"callable {getattr(self._func, '__qualname__', type(self._func).__name__)}"


class EnvProvider:
    """``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SECURITY_TOKEN`` (botocore reads it
    before ``AWS_SESSION_TOKEN``), and ``AWS_CREDENTIAL_EXPIRATION`` (temporary credentials,
    re-read when they expire). A key id without a secret is an error, as in botocore."""

    method = "env"
    canonical_name = "Environment"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def load(self) -> Credentials | None:
        env = os.environ if self._environ is None else self._environ
        key = env.get("AWS_ACCESS_KEY_ID", "")
        if not key:
            return None
        secret = env.get("AWS_SECRET_ACCESS_KEY", "")
        if not secret:
            raise CredentialRetrievalError(
                self.method,
                "partial credentials found in the environment: AWS_ACCESS_KEY_ID is set "
                "but AWS_SECRET_ACCESS_KEY is not",
            )
        token = env.get("AWS_SECURITY_TOKEN") or env.get("AWS_SESSION_TOKEN") or None
        raw_expiry = env.get("AWS_CREDENTIAL_EXPIRATION", "")
        expiry = (
            _expiration(self.method, raw_expiry, "AWS_CREDENTIAL_EXPIRATION")
            if raw_expiry
            else None
        )
        log.debug("found credentials in environment variables")
        return _credentials(self.method, key, secret, token, expiry)

    def describe(self) -> str:
        return "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"


class ChainProvider:
    """Tries providers in order; the first that returns credentials wins.

    Later loads (refreshes) ask the provider that won first, as botocore refreshes through the
    provider that found the credentials; if it has nothing any more, the whole chain is tried.
    A provider that raises stops the chain.
    """

    method = "chain"

    def __init__(self, providers: Sequence[Any]) -> None:
        self.providers = tuple(providers)
        for provider in self.providers:
            if not callable(getattr(provider, "load", None)):
                raise ParamValidationError(
                    f"ChainProvider needs providers with load(), got {type(provider).__name__}"
                )
        self._winner: Any = None

    def load(self) -> Flow[Credentials | None]:
        winner = self._winner
        if winner is not None:
            found = yield from load_flow(winner)
            if found is not None:
                return found
        for provider in self.providers:
            if provider is winner:
                continue
            log.debug("looking for credentials via %s", _method(provider))
            found = yield from load_flow(provider)
            if found is not None:
                self._winner = provider
                return found
        return None

    def describe(self) -> str:
        return "; ".join(text for text in (_describe(p) for p in self.providers) if text)

    def __repr__(self) -> str:
        return f"ChainProvider([{', '.join(_method(p) for p in self.providers)}])"


# --- the shared files ---------------------------------------------------------------------------


class _ProfileProvider:
    """Base of the providers that read a profile: ``profile`` (default: ``AWS_PROFILE`` etc.)
    or an :class:`AwsConfig` shared with the rest of a chain (``config=``)."""

    method = "profile"

    def __init__(self, profile: str | None = None, *, config: AwsConfig | None = None) -> None:
        if profile is not None and (not isinstance(profile, str) or not profile):
            raise ParamValidationError(f"profile must be a non-empty str, got {profile!r}")
        self._profile = profile
        self._config = config
        self._config_lock = threading.Lock()

    def _aws(self) -> AwsConfig:
        with self._config_lock:
            if self._config is None:
                self._config = AwsConfig(self._profile, check_profile=False)
            return self._config


_KEY = "aws_access_key_id"
_SECRET = "aws_secret_access_key"  # noqa: S105 (a key name)
_TOKEN_KEYS = ("aws_security_token", "aws_session_token")


def _static_from_section(provider: str, section: Section, where: str) -> Credentials | None:
    if _KEY not in section:
        return None
    if _SECRET not in section:
        raise CredentialRetrievalError(
            provider, f"partial credentials found in {where}: {_SECRET} is missing"
        )
    token = next((section[k] for k in _TOKEN_KEYS if k in section), None)
    return _credentials(provider, section[_KEY], section[_SECRET], token)


def _static_from_file(
    provider: str, sections: Mapping[str, Section], path: str, profile: str, kind: str
) -> Credentials | None:
    """Keys in ``profile``'s section of one shared file (``kind`` names the file in logs)."""
    section = sections.get(profile)
    if section is None:
        return None
    where = f"{path} [{profile}]"
    found = _static_from_section(provider, section, where)
    if found is not None:
        log.debug("found credentials in %s %s", kind, where)
    return found


class SharedCredentialsProvider(_ProfileProvider):
    """The profile's section of ``~/.aws/credentials`` (``AWS_SHARED_CREDENTIALS_FILE``)."""

    method = "shared-credentials-file"
    canonical_name = "SharedCredentials"

    def __init__(
        self,
        profile: str | None = None,
        *,
        path: str | None = None,
        config: AwsConfig | None = None,
    ) -> None:
        if config is None and path is not None:
            config = AwsConfig(
                profile, files=SharedFiles(credentials_path=path), check_profile=False
            )
        super().__init__(profile, config=config)

    def load(self) -> Credentials | None:
        aws = self._aws()
        return _static_from_file(
            self.method,
            aws.files.credentials(),
            aws.files.credentials_path,
            aws.profile_name,
            "shared credentials file",
        )

    def describe(self) -> str:
        aws = self._aws()
        return _file_place(aws.files.credentials_path, f"[{aws.profile_name}]")


class ConfigFileProvider(_ProfileProvider):
    """Keys in the profile's section of ``~/.aws/config`` (``AWS_CONFIG_FILE``)."""

    method = "config-file"
    canonical_name = "SharedConfig"

    def __init__(
        self,
        profile: str | None = None,
        *,
        path: str | None = None,
        config: AwsConfig | None = None,
    ) -> None:
        if config is None and path is not None:
            config = AwsConfig(profile, files=SharedFiles(config_path=path), check_profile=False)
        super().__init__(profile, config=config)

    def load(self) -> Credentials | None:
        aws = self._aws()
        return _static_from_file(
            self.method,
            aws.files.config_profiles(),
            aws.files.config_path,
            aws.profile_name,
            "config file",
        )

    def describe(self) -> str:
        aws = self._aws()
        name = aws.profile_name
        return _file_place(
            aws.files.config_path, "[default]" if name == "default" else f"[profile {name}]"
        )


def _file_place(path: str, section: str) -> str:
    return f"{path} {section}" if os.path.isfile(path) else f"{path} (no such file)"


def _split_command(command: str) -> list[str]:
    import shlex

    return shlex.split(command, posix=os.name != "nt")


class ProcessProvider(_ProfileProvider):
    """``credential_process``: run the profile's command (or ``command=``) and read its JSON
    (``Version`` 1, ``AccessKeyId``, ``SecretAccessKey``, ``SessionToken``, ``Expiration``).

    The process runs as a :class:`~cfinval._effects.Run` effect: the async client runs it in a
    worker thread, so the event loop keeps going. ``timeout`` (seconds) bounds it (none by
    default, as in botocore: a process may prompt for an MFA code).
    """

    method = "custom-process"

    def __init__(
        self,
        profile: str | None = None,
        *,
        command: str | Sequence[str] | None = None,
        timeout: float | None = None,
        config: AwsConfig | None = None,
    ) -> None:
        super().__init__(profile, config=config)
        self._command = command
        self._timeout = timeout

    def _argv(self) -> list[str] | None:
        command: Any = self._command
        if command is None:
            command = self._aws().scoped.get("credential_process")
        if not command:
            return None
        if isinstance(command, str):
            try:
                argv = _split_command(command)
            except ValueError as exc:
                raise ConfigError(f"credential_process cannot be parsed: {exc}") from None
        else:
            argv = [str(part) for part in command]
        if not argv:
            return None
        return argv

    def load(self) -> Flow[Credentials | None]:
        argv = self._argv()
        if argv is None:
            return None
        log.debug("running credential_process %s", argv[0])
        result: ProcessResult = yield Run(tuple(argv), self._timeout)
        if result.error is not None:
            raise CredentialRetrievalError(
                self.method,
                f"credential_process {argv[0]!r} could not run: "
                f"{type(result.error).__name__}: {result.error}",
            )
        if result.returncode != 0:
            stderr = result.stderr.decode("utf-8", "replace").strip()[:1000]
            raise CredentialRetrievalError(
                self.method,
                f"credential_process {argv[0]!r} exited with status {result.returncode}"
                + (f": {stderr}" if stderr else ""),
            )
        try:
            parsed = json.loads(result.stdout.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            # never quote the output: it may hold a secret
            raise CredentialRetrievalError(
                self.method, f"credential_process {argv[0]!r} did not print valid JSON"
            ) from None
        if not isinstance(parsed, dict):
            raise CredentialRetrievalError(
                self.method, f"credential_process {argv[0]!r} did not print a JSON object"
            )
        version = parsed.get("Version", "<Version key not provided>")
        if version != 1 or isinstance(version, bool):
            raise CredentialRetrievalError(
                self.method,
                f"Unsupported version {version!r} for credential process provider, "
                "supported versions: 1",
            )
        for required in ("AccessKeyId", "SecretAccessKey"):
            if required not in parsed:
                raise CredentialRetrievalError(
                    self.method, f"Missing required key in response: {required!r}"
                )
        raw_expiry = parsed.get("Expiration")
        expiry = (
            _expiration(self.method, raw_expiry, "Expiration") if raw_expiry is not None else None
        )
        return _credentials(
            self.method,
            parsed["AccessKeyId"],
            parsed["SecretAccessKey"],
            parsed.get("SessionToken"),
            expiry,
        )

    def describe(self) -> str:
        if self._command is not None:
            return "credential_process (explicit command)"
        return f"credential_process in profile {self._aws().profile_name!r}"


# --- STS: web identity and assume role ----------------------------------------------------------


def _session_name(clock: Callable[[], float]) -> str:
    return f"cfinval-session-{int(clock())}"


class WebIdentityProvider(_ProfileProvider):
    """``AssumeRoleWithWebIdentity`` (EKS IRSA and other OIDC federations).

    Settings: the arguments, else ``AWS_WEB_IDENTITY_TOKEN_FILE``, ``AWS_ROLE_ARN``,
    ``AWS_ROLE_SESSION_NAME`` (not when ``profile=`` was given explicitly, as in botocore), else
    the profile's ``web_identity_token_file``, ``role_arn``, ``role_session_name``. The token
    file is re-read on every refresh. The STS request is not signed.
    """

    method = "assume-role-with-web-identity"
    _ENV: ClassVar[Mapping[str, str]] = {
        "web_identity_token_file": "AWS_WEB_IDENTITY_TOKEN_FILE",
        "role_arn": "AWS_ROLE_ARN",
        "role_session_name": "AWS_ROLE_SESSION_NAME",
    }

    def __init__(
        self,
        profile: str | None = None,
        *,
        role_arn: str | None = None,
        token_file: str | None = None,
        role_session_name: str | None = None,
        use_env: bool | None = None,
        config: AwsConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(profile, config=config)
        self._explicit = {
            "web_identity_token_file": token_file,
            "role_arn": role_arn,
            "role_session_name": role_session_name,
        }
        self._use_env = use_env
        self._clock = clock

    def _setting(self, key: str) -> str | None:
        explicit = self._explicit[key]
        if explicit is not None:
            return explicit
        aws = self._aws()
        use_env = (not aws.explicit) if self._use_env is None else self._use_env
        if use_env:
            value = aws.environ.get(self._ENV[key])
            if value is not None:
                return value
        value = aws.scoped.get(key)
        return value if isinstance(value, str) else None

    def load(self) -> Flow[Credentials | None]:
        token_file = self._setting("web_identity_token_file")
        if not token_file:
            return None
        role_arn = self._setting("role_arn")
        if not role_arn:
            raise ConfigError(
                "The provided profile or the current environment is configured to assume role "
                "with web identity but has no role ARN configured. Ensure that the profile has "
                "the role_arn configuration set or the AWS_ROLE_ARN env var is set."
            )
        try:
            with open(os.path.expanduser(token_file), encoding="utf-8") as handle:
                token = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialRetrievalError(
                self.method, f"cannot read web identity token file {token_file}: {exc}"
            ) from None
        from .sts import sts_credentials_flow

        params = [
            ("RoleArn", role_arn),
            ("RoleSessionName", self._setting("role_session_name") or _session_name(self._clock)),
            ("WebIdentityToken", token),
        ]
        log.debug("calling AssumeRoleWithWebIdentity for %s", role_arn)
        return (
            yield from sts_credentials_flow(
                provider=self.method,
                endpoint=self._aws().sts_endpoint(),
                action="AssumeRoleWithWebIdentity",
                params=params,
                credentials=None,
                clock=self._clock,
            )
        )

    def describe(self) -> str:
        return (
            "AWS_WEB_IDENTITY_TOKEN_FILE, "
            f"web_identity_token_file in profile {self._aws().profile_name!r}"
        )


def profile_providers(aws: AwsConfig, *, use_env: bool) -> list[Any]:
    """The providers that read a profile, in botocore's order."""
    return [
        WebIdentityProvider(config=aws, use_env=use_env),
        SSOProvider(config=aws),
        SharedCredentialsProvider(config=aws),
        LoginProvider(config=aws),
        ProcessProvider(config=aws),
        ConfigFileProvider(config=aws),
    ]


def _has_static(profile: Section) -> bool:
    return _KEY in profile or _SECRET in profile


def _has_role(profile: Section) -> bool:
    return "role_arn" in profile and "web_identity_token_file" not in profile


class _RoleStep:
    """One ``AssumeRole`` call: a role and where its caller's credentials come from."""

    method = "assume-role"

    def __init__(
        self,
        *,
        profile_name: str,
        role_arn: str,
        params: list[tuple[str, str]],
        mfa_serial: str | None,
        source: CredentialResolver,
        aws: AwsConfig,
        prompter: Callable[[str], str] | None,
        clock: Callable[[], float],
    ) -> None:
        self.profile_name = profile_name
        self.role_arn = role_arn
        self.params = params
        self.mfa_serial = mfa_serial
        self.source = source
        self.aws = aws
        self.prompter = prompter
        self.clock = clock

    def load(self) -> Flow[Credentials]:
        from .sts import sts_credentials_flow

        params = list(self.params)
        if not any(k == "RoleSessionName" for k, _ in params):
            params.append(("RoleSessionName", _session_name(self.clock)))
        if self.mfa_serial is not None:
            params.append(("SerialNumber", self.mfa_serial))
            prompter = self.prompter
            if prompter is None:
                import getpass

                prompter = getpass.getpass
            params.append(("TokenCode", prompter(f"Enter MFA code for {self.mfa_serial}: ")))
        retried = False
        while True:
            source = yield from self.source.get()
            log.debug("calling AssumeRole for %s (profile %s)", self.role_arn, self.profile_name)
            try:
                return (
                    yield from sts_credentials_flow(
                        provider=self.method,
                        endpoint=self.aws.sts_endpoint(),
                        action="AssumeRole",
                        params=[("RoleArn", self.role_arn), *params],
                        credentials=source,
                        clock=self.clock,
                    )
                )
            except CredentialRetrievalError as exc:
                if retried or exc.code not in EXPIRED_TOKEN_CODES:
                    raise
                retried = True
                self.source.invalidate(source)


#: Service error codes meaning "these (temporary) credentials have expired".


class AssumeRoleProvider(_ProfileProvider):
    """``AssumeRole`` for a profile with ``role_arn`` and ``source_profile`` (a profile with
    credentials, or another role: chains work) or ``credential_source`` (``Environment``,
    ``Ec2InstanceMetadata``, ``EcsContainer``). Honours ``role_session_name``, ``external_id``,
    ``duration_seconds`` and ``mfa_serial`` (``mfa_prompter`` asks for the code; default
    ``getpass``). The request is signed by cfinval's own SigV4 signer."""

    method = "assume-role"

    def __init__(
        self,
        profile: str | None = None,
        *,
        config: AwsConfig | None = None,
        mfa_prompter: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(profile, config=config)
        self._prompter = mfa_prompter
        self._clock = clock
        self._step: _RoleStep | None = None
        self._step_lock = threading.Lock()

    def load(self) -> Flow[Credentials | None]:
        aws = self._aws()
        if not _has_role(aws.scoped):
            return None
        with self._step_lock:
            if self._step is None:
                self._step = self._build(aws, aws.profile_name, [aws.profile_name])
            step = self._step
        return (yield from step.load())

    def describe(self) -> str:
        return f"role_arn in profile {self._aws().profile_name!r}"

    def _build(self, aws: AwsConfig, name: str, visited: list[str]) -> _RoleStep:
        profiles = aws.files.profiles()
        profile = profiles[name]
        source_profile = profile.get("source_profile")
        credential_source = profile.get("credential_source")
        if source_profile is not None and credential_source is not None:
            raise ConfigError(
                f'The profile "{name}" contains both source_profile and credential_source.'
            )
        source: Any
        if credential_source is not None:
            source = self._named_source(str(credential_source), name, aws)
        elif source_profile is not None:
            source = self._source_profile(aws, name, str(source_profile), visited)
        else:
            raise ConfigError(
                f'The profile "{name}" has a role_arn but neither source_profile nor '
                "credential_source."
            )
        params: list[tuple[str, str]] = []
        for key, param in (("role_session_name", "RoleSessionName"), ("external_id", "ExternalId")):
            value = profile.get(key)
            if isinstance(value, str):
                params.append((param, value))
        duration = profile.get("duration_seconds")
        if duration is not None:
            with contextlib.suppress(ValueError):  # botocore ignores a non-integer
                params.append(("DurationSeconds", str(int(duration))))
        mfa = profile.get("mfa_serial")
        return _RoleStep(
            profile_name=name,
            role_arn=str(profile["role_arn"]),
            params=params,
            mfa_serial=mfa if isinstance(mfa, str) else None,
            source=CredentialResolver(source, clock=self._clock),
            aws=aws,
            prompter=self._prompter,
            clock=self._clock,
        )

    def _named_source(self, name: str, profile: str, aws: AwsConfig) -> Any:
        key = name.lower()
        provider: Any
        if key == "environment":
            provider = EnvProvider(aws.environ)
        elif key == "ec2instancemetadata":
            provider = InstanceMetadataProvider(config=aws)
        elif key == "ecscontainer":
            provider = ContainerProvider(aws.environ)
        else:
            raise ConfigError(
                f'The credential source "{name}" referenced in profile "{profile}" is not '
                "valid (Environment, Ec2InstanceMetadata or EcsContainer)."
            )
        return _Required(
            provider,
            lambda: CredentialRetrievalError(
                name,
                f"No credentials found in credential_source referenced in profile {profile}",
            ),
        )

    def _source_profile(self, aws: AwsConfig, parent: str, name: str, visited: list[str]) -> Any:
        profiles = aws.files.profiles()
        if name not in profiles:
            raise ConfigError(
                f'The source_profile "{name}" referenced in the profile "{parent}" does not exist.'
            )
        source = profiles[name]
        if name in visited and (name != parent or not _has_static(source)):
            chain = " -> ".join([*visited, name])
            raise ConfigError(f"Infinite loop in profile configuration: {chain}")
        visited.append(name)
        if _has_static(source) or not _has_role(source):
            sub = aws.for_profile(name)
            return _Required(
                ChainProvider(profile_providers(sub, use_env=False)),
                lambda: ConfigError(f'The source profile "{name}" must have credentials.'),
            )
        return self._build(aws, name, visited)


class _Required:
    """A provider whose ``None`` is an error (a role's source must have credentials)."""

    def __init__(self, provider: Any, error: Callable[[], Error]) -> None:
        self.provider = provider
        self.method = _method(provider)
        self._error = error

    def load(self) -> Flow[Credentials]:
        found = yield from load_flow(self.provider)
        if found is None:
            raise self._error()
        return found

    def describe(self) -> str:
        return _describe(self.provider)


# --- containers and EC2 -------------------------------------------------------------------------


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
        if self.TOKEN_FILE in env:
            path = env[self.TOKEN_FILE]
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
            if not (token.isascii() and token.isprintable()):
                raise ConfigError("the container authorization token is not a legal header value")
            headers.append(("Authorization", token))
        return headers

    def load(self) -> Flow[Credentials | None]:
        url = self._url()
        if url is None:
            return None
        problem = ""
        for attempt in range(1, self.attempts + 1):
            request = HttpRequest("GET", url, tuple(self._headers()), timeout=self.timeout)
            outcome: Any = yield Send(request)
            if isinstance(outcome, TransportFailure):
                problem = f"{type(outcome.error).__name__}: {outcome.error}"
            else:
                assert isinstance(outcome, HttpResponse)
                if outcome.status_code != 200:
                    problem = f"HTTP {outcome.status_code}"
                else:
                    try:
                        data = json.loads(outcome.body.decode("utf-8"))
                        if not isinstance(data, dict):
                            raise ValueError
                    except ValueError:  # UnicodeDecodeError is a ValueError
                        problem = "the response is not a JSON object"
                    else:
                        return self._parse(data)
            log.debug("container credentials attempt %d failed: %s", attempt, problem)
            if attempt < self.attempts:
                yield Sleep(self.retry_delay)
        raise CredentialRetrievalError(
            self.method,
            f"no credentials from the container endpoint after {self.attempts} attempt(s): "
            f"{problem}",
        )

    def _parse(self, data: dict[str, Any]) -> Credentials:
        for name in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration"):
            if name not in data:
                raise CredentialRetrievalError(
                    self.method, f"the container endpoint's answer has no {name}"
                )
        return _credentials(
            self.method,
            data["AccessKeyId"],
            data["SecretAccessKey"],
            data["Token"],
            _expiration(self.method, data["Expiration"], "Expiration"),
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
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._endpoint = endpoint
        self._timeout = timeout
        self._attempts = attempts
        self._v1_disabled = v1_disabled
        self._disabled = disabled
        self._config = config
        self._environ = environ
        self._clock = clock
        self._random = random
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

    def load(self) -> Flow[Credentials | None]:
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
        data = json.loads(body)
        missing = [
            k for k in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration") if k not in data
        ]
        if missing:
            self._last = f"the role's credentials lack {', '.join(missing)}"
            log.debug("instance metadata credentials are missing %s", missing)
            return None
        expiry = self._extend(_expiration(self.method, data["Expiration"], "Expiration"))
        log.debug("found credentials from IAM role %s", role)
        return _credentials(
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
        )
        for _ in range(attempts):
            outcome: Any = yield Send(request)
            if isinstance(outcome, TransportFailure):
                self._last = f"no answer from {base} ({type(outcome.error).__name__})"
                if outcome.kind == "timeout":
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
        request = HttpRequest("GET", url, headers, timeout=timeout)
        for _ in range(attempts):
            outcome: Any = yield Send(request)
            if isinstance(outcome, TransportFailure):
                self._last = f"no answer from {url} ({type(outcome.error).__name__})"
                continue
            assert isinstance(outcome, HttpResponse)
            if outcome.status_code != 200 or not outcome.body.strip():
                what = f"HTTP {outcome.status_code}" if outcome.status_code != 200 else "nothing"
                self._last = f"{what} from {url}"
                continue
            text = outcome.body.decode("utf-8", "replace")
            if want_json:
                try:
                    if not isinstance(json.loads(text), dict):
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


# --- legacy files botocore still reads ----------------------------------------------------------


class _Ec2CredentialsFileProvider:
    """``AWS_CREDENTIAL_FILE``: ``AWSAccessKeyId=`` / ``AWSSecretKey=`` lines (old EC2 tools)."""

    method = "ec2-credentials-file"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def load(self) -> Credentials | None:
        env = os.environ if self._environ is None else self._environ
        path = env.get("AWS_CREDENTIAL_FILE")
        if not path:
            return None
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError):
            return None
        values = {}
        for line in lines:
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
        if "AWSAccessKeyId" not in values:
            return None
        if "AWSSecretKey" not in values:
            raise CredentialRetrievalError(self.method, f"{path} has no AWSSecretKey")
        return _credentials(self.method, values["AWSAccessKeyId"], values["AWSSecretKey"])

    def describe(self) -> str:
        env = os.environ if self._environ is None else self._environ
        path = env.get("AWS_CREDENTIAL_FILE")
        return f"AWS_CREDENTIAL_FILE {path}" if path else ""


class _BotoConfigProvider:
    """The ``[Credentials]`` section of boto2's ``BOTO_CONFIG``, ``/etc/boto.cfg``, ``~/.boto``."""

    method = "boto-config"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def _paths(self) -> list[str]:
        env = os.environ if self._environ is None else self._environ
        if "BOTO_CONFIG" in env:
            return [env["BOTO_CONFIG"]]
        return ["/etc/boto.cfg", "~/.boto"]

    def load(self) -> Credentials | None:
        from .._config import read_ini

        for path in self._paths():
            sections = read_ini(os.path.expanduser(os.path.expandvars(path)))
            if sections is None:
                continue
            section = sections.get("Credentials")
            if section is not None and _KEY in section:
                return _static_from_section(self.method, section, f"{path} [Credentials]")
        return None

    def describe(self) -> str:
        return f"boto2 config {', '.join(self._paths())}"


# --- the default chain --------------------------------------------------------------------------


def default_chain(
    profile: str | None = None,
    *,
    region: str | None = None,
    config: AwsConfig | None = None,
) -> ChainProvider:
    """The chain ``cfinval.Client()`` uses (see the module docstring), as a provider you can
    wrap or extend. ``region`` picks the STS endpoint for assume-role and web identity."""
    aws = config if config is not None else AwsConfig(profile, region=region)
    providers: list[Any] = []
    if not aws.explicit:
        providers.append(EnvProvider(aws.environ))
    providers.append(AssumeRoleProvider(config=aws))
    providers += profile_providers(aws, use_env=not aws.explicit)
    providers += [
        _Ec2CredentialsFileProvider(aws.environ),
        _BotoConfigProvider(aws.environ),
        ContainerProvider(aws.environ),
        InstanceMetadataProvider(config=aws),
    ]
    return ChainProvider(providers)


def as_provider(source: Any, config: AwsConfig | None = None) -> Any:
    """Turn what a user passed as ``credentials=`` into a provider."""
    if source is None:
        return default_chain(config=config)
    if isinstance(source, Credentials):
        return StaticProvider(source)
    if callable(getattr(source, "load", None)):
        return source
    if callable(source):
        return CallableProvider(source)
    raise ParamValidationError(
        "credentials must be cfinval.Credentials, a provider with load(), or a callable; "
        f"got {type(source).__name__}"
    )


# --- caching, refresh, single flight ------------------------------------------------------------


class _Refresh:
    """One load in flight: waiters wait on ``done``; ``error`` is what the loader raised."""

    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = Signal()
        self.error: BaseException | None = None


class CredentialResolver:
    """Caches the credentials a provider loads, for one client, and refreshes them.

    * no expiration: loaded once, kept;
    * less than ``advisory`` seconds left: one caller refreshes, the others use the current
      credentials meanwhile; a failed advisory refresh is logged and the current ones are kept;
    * less than ``mandatory`` seconds left (or nothing loaded yet): every caller needs the
      refresh; one performs it, the others ``Wait`` for it and share its result or its error.
    """

    def __init__(
        self,
        provider: Any,
        *,
        clock: Callable[[], float] = time.time,
        advisory: float = ADVISORY_REFRESH_SECONDS,
        mandatory: float = MANDATORY_REFRESH_SECONDS,
    ) -> None:
        self.provider = provider
        self.clock = clock
        self.advisory = advisory
        self.mandatory = mandatory
        #: How many loads this resolver started (observability, tests).
        self.loads = 0
        self._cached: Credentials | None = None
        self._inflight: _Refresh | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CredentialResolver({_method(self.provider)}, loads={self.loads})"

    def _remaining(self, credentials: Credentials) -> float | None:
        if credentials.expiration is None:
            return None
        return credentials.expiration.timestamp() - self.clock()

    def get(self) -> Flow[Credentials]:
        while True:
            cached = self._cached
            if cached is not None:
                remaining = self._remaining(cached)
                if remaining is None or remaining >= self.advisory:
                    return cached
                mandatory = remaining < self.mandatory
            else:
                mandatory = True
            with self._lock:
                if self._cached is not cached:
                    continue  # someone just stored new credentials: look again
                refresh = self._inflight
                lead = refresh is None
                if refresh is None:
                    refresh = self._inflight = _Refresh()
                    self.loads += 1
            if lead:
                return (yield from self._load(refresh, cached, mandatory))
            if not mandatory:
                assert cached is not None
                return cached  # advisory: another caller is refreshing, carry on
            yield Wait(refresh.done)
            if refresh.error is not None:
                raise refresh.error

    def _load(
        self, refresh: _Refresh, cached: Credentials | None, mandatory: bool
    ) -> Flow[Credentials]:
        try:
            found = yield from load_flow(self.provider)
            if found is None:
                raise NoCredentialsError(
                    f"Unable to locate credentials. Looked in: {_describe(self.provider)}"
                )
            remaining = self._remaining(found)
            if remaining is not None and remaining <= 0:
                assert found.expiration is not None
                raise CredentialRetrievalError(
                    _method(self.provider),
                    f"the credentials it returned expired at {found.expiration:%Y-%m-%dT%H:%M:%SZ}",
                )
        except Exception as exc:
            if not mandatory and cached is not None:
                log.warning(
                    "refreshing temporary credentials failed during the advisory period; "
                    "using the current ones: %s: %s",
                    type(exc).__name__,
                    exc,
                )
                return cached
            refresh.error = exc
            raise
        else:
            with self._lock:  # stored before the waiters wake up
                self._cached = found
            return found
        finally:
            with self._lock:
                self._inflight = None
            refresh.done.set()

    def invalidate(self, stale: Credentials | None = None) -> None:
        """Forget the cached credentials (only if they are still ``stale``, when given), so the
        next :meth:`get` loads fresh ones."""
        with self._lock:
            if stale is None or self._cached is stale:
                self._cached = None
