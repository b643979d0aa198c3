"""The default chain (botocore's order) and what ``credentials=`` becomes."""

from __future__ import annotations

from typing import Any

from .._config import AwsConfig
from .._errors import ParamValidationError
from .._models import Credentials
from .base import CallableProvider, ChainProvider, EnvProvider, StaticProvider
from .files import BotoConfigProvider, Ec2CredentialsFileProvider
from .metadata import ContainerProvider, InstanceMetadataProvider
from .roles import AssumeRoleProvider, profile_providers

__all__ = ["as_provider", "default_chain"]


def default_chain(profile: str | None = None, *, region: str | None = None) -> ChainProvider:
    """The chain ``cfinval.Client()`` uses (see the module docstring), as a provider you can
    wrap or extend. ``region`` picks the STS endpoint for assume-role and web identity."""
    return _default_chain(AwsConfig(profile, region=region))


def _default_chain(aws: AwsConfig) -> ChainProvider:
    providers: list[Any] = []
    if not aws.explicit:
        providers.append(EnvProvider(aws.environ))
    providers.append(AssumeRoleProvider(config=aws))
    providers += profile_providers(aws, use_env=not aws.explicit)
    providers += [
        Ec2CredentialsFileProvider(aws.environ),
        BotoConfigProvider(aws.environ),
        ContainerProvider(aws.environ),
        InstanceMetadataProvider(config=aws),
    ]
    return ChainProvider(providers)


def as_provider(source: object, config: AwsConfig | None = None) -> Any:
    """Turn what a user passed as ``credentials=`` into a provider (anything else, whatever
    its static type, is a :class:`ParamValidationError`)."""
    if source is None:
        return _default_chain(config if config is not None else AwsConfig())
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
