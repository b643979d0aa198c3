"""Static keys in files: the profile's section of the shared credentials file or the config
file (one implementation, two names), the legacy files botocore still reads
(``AWS_CREDENTIAL_FILE``, boto2's config), and the guard for profiles that use IAM Identity
Center (SSO), which cfinval does not implement.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import ClassVar

from .._config import AwsConfig, Section, SharedFiles, read_ini
from .._errors import CredentialRetrievalError
from .._models import Credentials
from .base import ProfileProvider, log, make_credentials

__all__ = [
    "BotoConfigProvider",
    "ConfigFileProvider",
    "Ec2CredentialsFileProvider",
    "SharedCredentialsProvider",
    "has_static_keys",
    "static_from_section",
]

_KEY = "aws_access_key_id"
_SECRET = "aws_secret_access_key"  # noqa: S105 (a key name)
_TOKEN_KEYS = ("aws_security_token", "aws_session_token")


def has_static_keys(section: Section) -> bool:
    """Whether a profile holds keys of its own (even only half of them)."""
    return _KEY in section or _SECRET in section


def static_from_section(provider: str, section: Section, where: str) -> Credentials | None:
    """The keys in one INI section (``None`` without a key id; an error without a secret)."""
    if _KEY not in section:
        return None
    if _SECRET not in section:
        raise CredentialRetrievalError(
            provider, f"partial credentials found in {where}: {_SECRET} is missing"
        )
    token = next((section[k] for k in _TOKEN_KEYS if k in section), None)
    return make_credentials(provider, section[_KEY], section[_SECRET], token)


class _SharedFileProvider(ProfileProvider):
    """Keys in the profile's section of one of the two shared files. ``path=`` reads that file
    instead of the configured one. The two public subclasses only say which file."""

    #: ``~/.aws/config`` (sections ``[default]``, ``[profile NAME]``) rather than
    #: ``~/.aws/credentials`` (sections ``[NAME]``).
    _config_file: ClassVar[bool]
    _kind: ClassVar[str]  # names the file in logs

    def __init__(
        self,
        profile: str | None = None,
        *,
        path: str | None = None,
        config: AwsConfig | None = None,
    ) -> None:
        if config is None and path is not None:
            files = (
                SharedFiles(config_path=path)
                if self._config_file
                else SharedFiles(credentials_path=path)
            )
            config = AwsConfig(profile, files=files, check_profile=False)
        super().__init__(profile, config=config)

    def _path(self, files: SharedFiles) -> str:
        return files.config_path if self._config_file else files.credentials_path

    def load(self) -> Credentials | None:
        aws = self._aws()
        files = aws.files
        sections = files.config_profiles() if self._config_file else files.credentials()
        section = sections.get(aws.profile_name)
        if section is None:
            return None
        where = f"{self._path(files)} [{aws.profile_name}]"
        found = static_from_section(self.method, section, where)
        if found is not None:
            log.debug("found credentials in %s %s", self._kind, where)
        return found

    def describe(self) -> str:
        aws = self._aws()
        path = self._path(aws.files)
        name = aws.profile_name
        section = f"[profile {name}]" if self._config_file and name != "default" else f"[{name}]"
        if os.path.isfile(path):
            return f"{path} {section}"
        # botocore skips a path that is not a file; say why, a directory is an easy mistake
        return f"{path} ({'a directory, not a file' if os.path.isdir(path) else 'no such file'})"


class SharedCredentialsProvider(_SharedFileProvider):
    """The profile's section of ``~/.aws/credentials`` (``AWS_SHARED_CREDENTIALS_FILE``)."""

    method = "shared-credentials-file"
    canonical_name = "SharedCredentials"
    _config_file = False
    _kind = "shared credentials file"


class ConfigFileProvider(_SharedFileProvider):
    """Keys in the profile's section of ``~/.aws/config`` (``AWS_CONFIG_FILE``)."""

    method = "config-file"
    canonical_name = "SharedConfig"
    _config_file = True
    _kind = "config file"


# --- legacy files botocore still reads ----------------------------------------------------------


class Ec2CredentialsFileProvider:
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
        return make_credentials(self.method, values["AWSAccessKeyId"], values["AWSSecretKey"])

    def describe(self) -> str:
        env = os.environ if self._environ is None else self._environ
        path = env.get("AWS_CREDENTIAL_FILE")
        return f"AWS_CREDENTIAL_FILE {path}" if path else ""


class BotoConfigProvider:
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
        for path in self._paths():
            sections = read_ini(os.path.expanduser(os.path.expandvars(path)))
            if sections is None:
                continue
            section = sections.get("Credentials")
            if section is not None and _KEY in section:
                return static_from_section(self.method, section, f"{path} [Credentials]")
        return None

    def describe(self) -> str:
        return f"boto2 config {', '.join(self._paths())}"
