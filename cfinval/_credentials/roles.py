"""The providers that get credentials from STS: ``AssumeRoleWithWebIdentity`` (EKS IRSA and
other OIDC federations) and ``AssumeRole`` for a profile with ``role_arn`` (chains of roles,
``credential_source``, MFA). The STS calls themselves are in ``sts`` (imported on first use);
the MFA code is asked for through a ``Prompt`` effect, which the driver performs.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from .._config import AwsConfig, Section
from .._core.effects import Flow, Prompt, PromptFailure
from .._core.locks import ForkSafeLock
from .._core.retry import EXPIRED_TOKEN_CODES
from .._errors import ConfigError, CredentialRetrievalError, Error
from .._models import Credentials
from .base import (
    ChainProvider,
    CredentialFlow,
    EnvProvider,
    ProfileProvider,
    describe_of,
    load_flow,
    log,
    method_of,
)
from .files import ConfigFileProvider, SharedCredentialsProvider, has_static_keys
from .login import LoginProvider
from .metadata import ContainerProvider, InstanceMetadataProvider
from .process import ProcessProvider
from .resolver import CredentialResolver
from .sso import SSOProvider

__all__ = ["AssumeRoleProvider", "WebIdentityProvider", "profile_providers"]


def _session_name(clock: Callable[[], float]) -> str:
    return f"cfinval-session-{int(clock())}"


class WebIdentityProvider(ProfileProvider):
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

    def load(self) -> CredentialFlow:
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
            answer = yield Prompt(f"Enter MFA code for {self.mfa_serial}: ", self.prompter)
            if isinstance(answer, PromptFailure):
                raise CredentialRetrievalError(
                    self.method,
                    f"could not read the MFA code for {self.mfa_serial}: "
                    f"{type(answer.error).__name__}: {answer.error}",
                ) from answer.error
            params += [("SerialNumber", self.mfa_serial), ("TokenCode", answer)]
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


class AssumeRoleProvider(ProfileProvider):
    """``AssumeRole`` for a profile with ``role_arn`` and ``source_profile`` (a profile with
    credentials, or another role: chains work) or ``credential_source`` (``Environment``,
    ``Ec2InstanceMetadata``, ``EcsContainer``). Honours ``role_session_name``, ``external_id``,
    ``duration_seconds`` and ``mfa_serial``: the code is asked for by ``mfa_prompter`` (default
    ``getpass``), which the driver calls (the async client in a worker thread, so the event
    loop keeps going). The request is signed by cfinval's own SigV4 signer."""

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
        self._step_lock = ForkSafeLock()

    def load(self) -> CredentialFlow:
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
        if name in visited and (name != parent or not has_static_keys(source)):
            chain = " -> ".join([*visited, name])
            raise ConfigError(f"Infinite loop in profile configuration: {chain}")
        visited.append(name)
        if has_static_keys(source) or not _has_role(source):
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
        self.method = method_of(provider)
        self._error = error

    def load(self) -> Flow[Credentials]:
        found = yield from load_flow(self.provider)
        if found is None:
            raise self._error()
        return found

    def describe(self) -> str:
        return describe_of(self.provider)
