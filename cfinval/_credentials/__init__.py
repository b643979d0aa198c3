"""Credential providers, the default chain, and the resolver that caches and refreshes.

A provider's ``load()`` is a flow (see ``_core.effects``): a generator that may yield effects
(HTTP for the instance metadata service, containers and STS; a subprocess for
``credential_process``; a prompt for an MFA code) and returns :class:`Credentials`, or ``None``
when it has nothing to offer. A provider that is configured but fails raises
(:class:`CredentialRetrievalError`, :class:`ConfigError`), which stops the chain, as in
botocore. Because providers are flows, the same provider works under :class:`cfinval.Client`
and :class:`cfinval.AsyncClient`. A ``load()`` that simply returns ``Credentials`` (not a
generator) is accepted too, so a provider of your own can be a few lines.

The default chain, in botocore's order:

1. environment variables (skipped when ``profile=`` is given)
2. ``AssumeRole`` from the profile (``role_arn`` + ``source_profile`` / ``credential_source``)
3. ``AssumeRoleWithWebIdentity`` (``AWS_WEB_IDENTITY_TOKEN_FILE``/``AWS_ROLE_ARN`` or the
   profile's ``web_identity_token_file``/``role_arn``)
4. IAM Identity Center (``aws sso login``), 5. the shared credentials file,
6. ``aws login`` (``login_session``), 7. ``credential_process``, 8. the config file
9. the legacy ``AWS_CREDENTIAL_FILE`` and boto2 config files
10. container credentials (ECS, EKS Pod Identity), 11. the EC2 instance metadata service (IMDSv2)

:class:`CredentialResolver` caches what the chain found for one client and refreshes temporary
credentials as botocore does: from 15 minutes before expiry one caller refreshes while the
others keep using the current credentials (advisory); from 10 minutes before, every caller
waits for the refresh (mandatory). Only one refresh runs at a time, whatever the number of
threads or asyncio tasks (waiting tasks await; the event loop is never blocked).

The modules: ``base`` (the provider protocol, helpers, explicit/callable/environment
providers, :class:`ChainProvider`), ``files`` (shared files, legacy files), ``process``
(``credential_process``), ``metadata`` (container, EC2), ``roles`` (web identity, assume role),
``sts`` (the STS calls, imported on first use), ``chain`` (the default chain, what
``credentials=`` becomes), ``resolver`` (caching and refresh), ``sso`` and ``login`` (IAM
Identity Center, ``aws login``; with ``jsonapi`` for their JSON calls and ``tokencache`` for
the cache files they share with boto3). This module only re-exports.
"""

from .base import (
    CallableProvider,
    ChainProvider,
    CredentialFlow,
    CredentialProvider,
    CredentialSource,
    EnvProvider,
    StaticProvider,
    load_flow,
)
from .chain import as_provider, default_chain
from .files import ConfigFileProvider, SharedCredentialsProvider
from .login import LoginProvider
from .metadata import ContainerProvider, InstanceMetadataProvider
from .process import ProcessProvider
from .resolver import ADVISORY_REFRESH_SECONDS, MANDATORY_REFRESH_SECONDS, CredentialResolver
from .roles import AssumeRoleProvider, WebIdentityProvider, profile_providers
from .sso import SSOProvider

__all__ = [
    "ADVISORY_REFRESH_SECONDS",
    "MANDATORY_REFRESH_SECONDS",
    "AssumeRoleProvider",
    "CallableProvider",
    "ChainProvider",
    "ConfigFileProvider",
    "ContainerProvider",
    "CredentialFlow",
    "CredentialProvider",
    "CredentialResolver",
    "CredentialSource",
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
    "profile_providers",
]
