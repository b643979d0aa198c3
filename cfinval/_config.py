"""Client configuration, found where the AWS SDKs find it.

* the shared files: ``~/.aws/config`` (``AWS_CONFIG_FILE``; ``[default]``, ``[profile name]``,
  ``[services name]`` sections) and ``~/.aws/credentials`` (``AWS_SHARED_CREDENTIALS_FILE``;
  sections named after profiles). As in botocore, a profile's settings are those of its config
  section updated with its credentials-file section.
* the profile: ``profile=``, else ``AWS_DEFAULT_PROFILE``, else ``AWS_PROFILE``, else
  ``default``. A profile that is *named* must exist (:class:`ProfileNotFound`).
* each setting: the argument, else its environment variable, else the profile's key:

  ===================  ===========================================  ==============================
  setting              environment                                  profile key
  ===================  ===========================================  ==============================
  region (partition)   ``AWS_DEFAULT_REGION``                       ``region``
  endpoint_url         ``AWS_ENDPOINT_URL_CLOUDFRONT``, then        the ``services`` section's
                       ``AWS_ENDPOINT_URL``                         ``cloudfront`` ``endpoint_url``,
                                                                    then ``endpoint_url``
  ignore those two     ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``      ``ignore_configured_...``
  max_attempts         ``AWS_MAX_ATTEMPTS``                         ``max_attempts``
  retry_mode           ``AWS_RETRY_MODE``                           ``retry_mode``
  ca_bundle            ``AWS_CA_BUNDLE``                            ``ca_bundle``
  FIPS endpoint        ``AWS_USE_FIPS_ENDPOINT``                    ``use_fips_endpoint``
  dual-stack endpoint  ``AWS_USE_DUALSTACK_ENDPOINT``               ``use_dualstack_endpoint``
  User-Agent app id    ``AWS_SDK_UA_APP_ID`` (even when empty)      ``sdk_ua_app_id``
  ===================  ===========================================  ==============================

Nothing here does network I/O. The files are read (small, local) only when they exist, and
``configparser`` is imported only then.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from ._core.endpoints import (
    EndpointUnavailable,
    cloudfront_endpoint,
    identity_endpoint,
    sts_endpoint,
)
from ._core.locks import ForkSafeLock
from ._core.metadata import ClientMeta, build_user_agent
from ._core.protocol import Endpoint
from ._core.retry import RETRY_MODES
from ._errors import ConfigError, ParamValidationError, ProfileNotFound

__all__ = [
    "CHINA_ENDPOINT",
    "GLOBAL_ENDPOINT",
    "AwsConfig",
    "ClientConfig",
    "SharedFiles",
    "check_region",
    "resolve_client_config",
    "resolve_endpoint",
    "resolve_max_attempts",
]

GLOBAL_ENDPOINT = "https://cloudfront.amazonaws.com"
CHINA_ENDPOINT = "https://cloudfront.cn-northwest-1.amazonaws.com.cn"
GLOBAL_SIGNING_REGION = "us-east-1"
_REGION = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$")

Section = dict[str, Any]  # values are str, or a dict for an indented sub-section


def is_region_name(value: object) -> bool:
    """Whether ``value`` can be a region name (botocore's host-label rule)."""
    return isinstance(value, str) and _REGION.match(value) is not None


def check_profile_name(profile: object) -> None:
    """A profile given by name must be a non-empty str."""
    if profile is not None and (not isinstance(profile, str) or not profile):
        raise ParamValidationError(f"profile must be a non-empty str, got {profile!r}")


def check_region(
    region: object, source: str, error: type[ConfigError | ParamValidationError]
) -> str:
    """``region`` if it is a region name (``us-east-1``, ``cn-north-1``, ...), else ``error``
    naming ``source`` (the variable, option or profile it came from)."""
    if not isinstance(region, str):
        raise ParamValidationError(f"{source} must be a str, got {type(region).__name__}")
    if not is_region_name(region):
        raise error(f"{source} is not a valid region name: {region!r}")
    return region


def resolve_endpoint(
    endpoint_url: str | None,
    region: str | None,
    *,
    use_fips: bool = False,
    use_dualstack: bool = False,
) -> Endpoint:
    """Where to send requests and which region to sign for.

    CloudFront is global: ``region`` only selects the partition (see ``_core/endpoints.py``),
    and FIPS and dual-stack pick the host within it. With an explicit ``endpoint_url`` the
    signing region is ``region`` (``us-east-1`` when unset) and the two flags do not apply, as
    in botocore.
    """
    if region is not None and not is_region_name(region):
        raise ParamValidationError(f"region must be a valid region name, got {region!r}")
    if endpoint_url is not None:
        signing = region if region is not None and region != "aws-global" else None
        return Endpoint.from_url(endpoint_url, signing or GLOBAL_SIGNING_REGION)
    try:
        url, signing_region = cloudfront_endpoint(region, fips=use_fips, dual_stack=use_dualstack)
    except EndpointUnavailable as exc:
        raise ConfigError(f"{exc} (AWS_USE_DUALSTACK_ENDPOINT / use_dualstack_endpoint)") from None
    return Endpoint.from_url(url, signing_region)


def resolve_max_attempts(value: object) -> int:
    if value is None:
        return 3
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParamValidationError(f"max_attempts must be a positive int, got {value!r}")
    return value


def env_true(value: object) -> bool:
    """botocore's ``ensure_boolean``: only ``true`` (any case) is true."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


# --- the shared files ---------------------------------------------------------------------------


def _expand(path: str) -> str:
    return os.path.expanduser(os.path.expandvars(path))


def _parse_nested(value: str) -> dict[str, str]:
    nested: dict[str, str] = {}
    for line in value.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, val = line.partition("=")
        if not sep:
            raise ValueError("an indented line is not 'key = value'")
        nested[key.strip()] = val.strip()
    return nested


def read_ini(path: str) -> dict[str, Section] | None:
    """The sections of an INI file as botocore reads them, or ``None`` when there is no file.

    Errors name the file and line, never the line's text (it may hold a secret).
    """
    if not os.path.isfile(path):
        return None
    import configparser  # only when a file exists

    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle, source=path)
    except (configparser.Error, UnicodeDecodeError, OSError) as exc:
        line = getattr(exc, "lineno", None)
        errors = getattr(exc, "errors", None)
        if line is None and errors:
            line = errors[0][0]
        where = f" (line {line})" if line is not None else ""
        raise ConfigError(
            f"Unable to parse config file {path}{where}: {type(exc).__name__}"
        ) from None
    sections: dict[str, Section] = {}
    for name in parser.sections():
        values: Section = {}
        for option in parser.options(name):
            value = parser.get(name, option)
            if value.startswith("\n"):
                try:
                    values[option] = _parse_nested(value)
                except ValueError as exc:
                    raise ConfigError(
                        f"Unable to parse config file {path} [{name}] {option}: {exc}"
                    ) from None
            else:
                values[option] = value
        sections[name] = values
    return sections


def _section_name(key: str) -> str | None:
    """``profile "my name"`` -> ``my name`` (botocore splits section names like a shell)."""
    import shlex

    try:
        parts = shlex.split(key)
    except ValueError:
        return None
    return parts[1] if len(parts) == 2 else None


class SharedFiles:
    """``~/.aws/config`` and ``~/.aws/credentials``, each read at most once, when first needed."""

    def __init__(
        self,
        config_path: str | None = None,
        credentials_path: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        if config_path is None:
            config_path = env.get("AWS_CONFIG_FILE") or "~/.aws/config"
        if credentials_path is None:
            credentials_path = env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
        self.config_path = _expand(config_path)
        self.credentials_path = _expand(credentials_path)
        self._lock = ForkSafeLock()
        self._config: dict[str, dict[str, Section]] | None = None
        self._credentials: dict[str, Section] | None = None
        self._profiles: dict[str, Section] | None = None

    def __repr__(self) -> str:
        return f"SharedFiles(config={self.config_path!r}, credentials={self.credentials_path!r})"

    def config(self) -> dict[str, dict[str, Section]]:
        """The config file as ``{"profiles": ..., "services": ..., "sso_sessions": ...}``."""
        with self._lock:
            if self._config is None:
                self._config = self._load_config()
            return self._config

    def _load_config(self) -> dict[str, dict[str, Section]]:
        raw = read_ini(self.config_path) or {}
        out: dict[str, dict[str, Section]] = {"profiles": {}, "services": {}, "sso_sessions": {}}
        for key, values in raw.items():
            if key == "default":
                out["profiles"]["default"] = values
                continue
            for prefix, group in (
                ("profile", "profiles"),
                ("sso-session", "sso_sessions"),
                ("services", "services"),
            ):
                if key.startswith(prefix):
                    name = _section_name(key)
                    if name is not None:
                        out[group][name] = values
                    break
        return out

    def credentials(self) -> dict[str, Section]:
        """The credentials file: ``{profile name: keys}`` (no ``profile`` prefix there)."""
        with self._lock:
            if self._credentials is None:
                self._credentials = read_ini(self.credentials_path) or {}
            return self._credentials

    def config_profiles(self) -> dict[str, Section]:
        return self.config()["profiles"]

    def services(self) -> dict[str, Section]:
        return self.config()["services"]

    def profiles(self) -> dict[str, Section]:
        """Every profile: config-file keys updated with credentials-file keys (botocore's
        ``full_config``)."""
        config = self.config_profiles()
        creds = self.credentials()
        with self._lock:
            if self._profiles is None:
                merged = {name: dict(values) for name, values in config.items()}
                for name, values in creds.items():
                    merged.setdefault(name, {}).update(values)
                self._profiles = merged
            return self._profiles

    def describe(self) -> str:
        return f"{self.config_path}, {self.credentials_path}"


# --- one profile's view of env + files -----------------------------------------------------------


class AwsConfig:
    """The environment and the shared files, seen through one profile.

    ``explicit`` is true when the profile came from ``profile=`` (botocore then ignores the
    credential environment variables).
    """

    def __init__(
        self,
        profile: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        files: SharedFiles | None = None,
        region: str | None = None,
        check_profile: bool = True,
    ) -> None:
        check_profile_name(profile)
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.files = files if files is not None else SharedFiles(environ=self.environ)
        self.explicit = profile is not None
        named = (
            profile
            if profile is not None
            else (self.environ.get("AWS_DEFAULT_PROFILE") or self.environ.get("AWS_PROFILE"))
        )
        if named is not None and check_profile and named not in self.files.profiles():
            raise ProfileNotFound(named)
        self.named = named is not None
        self.profile_name = named or "default"
        self._region = region
        #: The configuration of the client's own profile, whose settings (region, FIPS,
        #: dual-stack, endpoints) the SSO and sign-in calls of a ``source_profile`` follow, as
        #: botocore's nested clients follow the session's.
        self.origin: AwsConfig = self

    def __repr__(self) -> str:
        return f"AwsConfig(profile={self.profile_name!r}, files={self.files!r})"

    def for_profile(self, profile: str) -> AwsConfig:
        """The same environment and files, through another (existing) profile."""
        other = AwsConfig(
            profile,
            environ=self.environ,
            files=self.files,
            region=self._region,
            check_profile=False,
        )
        other.origin = self.origin
        return other

    @property
    def scoped(self) -> Section:
        """This profile's keys (empty when the default profile is not defined)."""
        return self.files.profiles().get(self.profile_name, {})

    def value(self, key: str, env_var: str | None = None) -> Any:
        """The environment variable when set (non-empty), else the profile's key, else None."""
        if env_var is not None:
            value = self.environ.get(env_var)
            if value:
                return value
        return self.scoped.get(key)

    @property
    def region(self) -> str | None:
        if self._region is not None:
            return self._region
        value = self.value("region", "AWS_DEFAULT_REGION")
        return value if isinstance(value, str) and value else None

    @property
    def region_source(self) -> str:
        """Where :attr:`region` comes from, for messages."""
        if self._region is not None:
            return "region"
        if self.environ.get("AWS_DEFAULT_REGION"):
            return "AWS_DEFAULT_REGION"
        return f"the region of profile {self.profile_name!r}"

    @property
    def use_fips(self) -> bool:
        return env_true(self.value("use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT"))

    @property
    def use_dualstack(self) -> bool:
        return env_true(self.value("use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT"))

    @property
    def ignore_configured_endpoint_urls(self) -> bool:
        return env_true(
            self.value("ignore_configured_endpoint_urls", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        )

    def configured_endpoint_url(self, service_id: str) -> str | None:
        """``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, the profile's ``services``
        section, the profile's ``endpoint_url``: the first set wins (``None`` when ignored)."""
        if self.ignore_configured_endpoint_urls:
            return None
        snake = service_id.replace("-", "_").replace(" ", "_").lower()
        for env_var in (f"AWS_ENDPOINT_URL_{snake.upper()}", "AWS_ENDPOINT_URL"):
            value = self.environ.get(env_var)
            if value:
                return value
        scoped = self.scoped
        section_name = scoped.get("services")
        if isinstance(section_name, str) and section_name:
            section = self.files.services().get(section_name)
            if not section:
                raise ConfigError(
                    f"The profile {self.profile_name!r} is configured to use the services "
                    f"section {section_name!r}, but that section does not exist."
                )
            service = section.get(snake)
            if isinstance(service, dict) and service.get("endpoint_url"):
                return str(service["endpoint_url"])
        value = scoped.get("endpoint_url")
        return value if isinstance(value, str) and value else None

    @property
    def sts_regional_endpoints(self) -> str:
        """``AWS_STS_REGIONAL_ENDPOINTS`` / ``sts_regional_endpoints``: ``regional`` (the
        default) or ``legacy`` (some regions' STS calls go to ``sts.amazonaws.com``)."""
        value = self.value("sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS")
        if value is None or value == "":
            return "regional"
        if value not in ("legacy", "regional"):
            raise ConfigError(
                f"STS regional endpoints option {value} is invalid. "
                'Valid options are: "legacy", "regional"'
            )
        return str(value)

    def sts_endpoint(self) -> Endpoint:
        """Where STS calls (``AssumeRole``, ``AssumeRoleWithWebIdentity``) go: the configured
        ``sts`` endpoint, else STS's endpoint in this profile's region with its FIPS,
        dual-stack and ``sts_regional_endpoints`` settings (``aws-global`` without a region),
        as botocore resolves it (``_core/endpoints.py``)."""
        region = self.region
        url = self.configured_endpoint_url("sts")
        if url is not None:
            return Endpoint.from_url(url, region or GLOBAL_SIGNING_REGION)
        if region is None:
            region = "aws-global"  # botocore's region-less STS client
        else:
            check_region(region, self.region_source, ConfigError)
        try:
            url, signing = sts_endpoint(
                region,
                fips=self.use_fips,
                dual_stack=self.use_dualstack,
                use_global_endpoint=self.sts_regional_endpoints == "legacy",
            )
        except EndpointUnavailable as exc:
            raise ConfigError(
                f"{exc} (AWS_USE_DUALSTACK_ENDPOINT / use_dualstack_endpoint)"
            ) from None
        return Endpoint.from_url(url, signing or region)

    def identity_endpoint(self, service: str, region: str) -> Endpoint:
        """Where an ``sso`` (portal), ``sso-oidc`` or ``signin`` call for ``region`` goes: the
        configured endpoint (``AWS_ENDPOINT_URL_SSO``, ``AWS_ENDPOINT_URL_SSO_OIDC``,
        ``AWS_ENDPOINT_URL_SIGNIN``, ``AWS_ENDPOINT_URL``, the ``services`` section), else the
        service's regional endpoint, with this profile's FIPS and dual-stack settings."""
        if not _REGION.match(region):
            raise ConfigError(f"region is not a valid region name: {region!r}")
        url = self.configured_endpoint_url(service)
        if url is None:
            try:
                url = identity_endpoint(
                    service, region, fips=self.use_fips, dual_stack=self.use_dualstack
                )
            except EndpointUnavailable as exc:
                raise ConfigError(
                    f"{exc} (AWS_USE_DUALSTACK_ENDPOINT / use_dualstack_endpoint)"
                ) from None
        try:
            return Endpoint.from_url(url, region)
        except ParamValidationError as exc:
            raise ConfigError(f"the configured {service} endpoint is invalid: {exc}") from None


# --- what a client is built from ----------------------------------------------------------------


class ClientConfig:
    """Every setting of one client, resolved (argument, else environment, else profile)."""

    __slots__ = (
        "app_id",
        "aws",
        "ca_bundle",
        "ca_bundle_source",
        "endpoint",
        "max_attempts",
        "region",
        "retry_mode",
        "retry_mode_source",
        "sdk_region",
    )

    def __init__(
        self,
        *,
        aws: AwsConfig,
        region: str | None,
        endpoint: Endpoint,
        max_attempts: int | None,
        retry_mode: str,
        retry_mode_source: str,
        ca_bundle: str | None,
        ca_bundle_source: str | None = None,
        app_id: str | None = None,
        sdk_region: str | None = None,
    ) -> None:
        self.aws = aws
        self.region = region
        self.endpoint = endpoint
        self.max_attempts = max_attempts
        self.retry_mode = retry_mode
        #: Where ``retry_mode`` came from, for error messages.
        self.retry_mode_source = retry_mode_source
        self.ca_bundle = ca_bundle
        #: Where ``ca_bundle`` came from, for error messages.
        self.ca_bundle_source = ca_bundle_source
        #: ``app/<id>`` in the User-Agent.
        self.app_id = app_id
        #: The region an AWS SDK client reports (botocore's ``meta.region_name``).
        self.sdk_region = sdk_region

    def client_meta(self, read_timeout: float | None) -> ClientMeta:
        """What this client's requests carry besides the signature."""
        environ = self.aws.environ
        agent = build_user_agent(self.retry_mode, self.app_id, environ.get("AWS_EXECUTION_ENV"))
        return ClientMeta(agent, self.sdk_region, read_timeout, environ)

    def __repr__(self) -> str:
        return (
            f"ClientConfig(profile={self.aws.profile_name!r}, region={self.region!r}, "
            f"endpoint={self.endpoint!r}, max_attempts={self.max_attempts}, "
            f"retry_mode={self.retry_mode!r})"
        )


def _int_setting(value: Any, name: str, source: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} from {source} must be an integer, got {value!r}") from None
    if number < 1:
        raise ConfigError(f"{name} from {source} must be a positive integer, got {value!r}")
    return number


#: botocore warns past this length (``USERAGENT_APPID_MAXLEN``) and sends the id all the same.
APP_ID_MAX_LENGTH = 50


def _app_id(aws: AwsConfig) -> str | None:
    """``AWS_SDK_UA_APP_ID`` when set (an empty one too, as in botocore), else the profile's
    ``sdk_ua_app_id``."""
    if "AWS_SDK_UA_APP_ID" in aws.environ:
        value: Any = aws.environ["AWS_SDK_UA_APP_ID"]
    else:
        value = aws.scoped.get("sdk_ua_app_id")
    if not isinstance(value, str):
        return None
    if len(value) > APP_ID_MAX_LENGTH:
        logging.getLogger("cfinval").warning(
            "the configured sdk_ua_app_id is longer than %d characters", APP_ID_MAX_LENGTH
        )
    return value


def sdk_region(region: str | None, endpoint_url: str | None) -> str | None:
    """The region botocore's CloudFront client reports: the configured one with an endpoint
    URL, else the partition's global pseudo-region (``aws-global``, ``aws-cn-global``)."""
    if endpoint_url is not None:
        return region
    return "aws-cn-global" if region is not None and region.startswith("cn-") else "aws-global"


def resolve_client_config(
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
    retry_mode: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Resolve a client's settings from its arguments, the environment and the profile."""
    if region is not None and not isinstance(region, str):
        raise ParamValidationError(f"region must be a str, got {type(region).__name__}")
    aws = AwsConfig(profile, environ=environ, region=region)
    profile_source = f"profile {aws.profile_name!r}"
    # A bad argument is a ParamValidationError; a bad setting (variable, profile) a ConfigError.
    invalid_region = ParamValidationError if region is not None else ConfigError
    region = aws.region
    if region is not None:
        check_region(region, aws.region_source, invalid_region)
    if endpoint_url is None:
        endpoint_url = aws.configured_endpoint_url("cloudfront")
    endpoint = resolve_endpoint(
        endpoint_url, region, use_fips=aws.use_fips, use_dualstack=aws.use_dualstack
    )
    if max_attempts is None:
        env_value = aws.environ.get("AWS_MAX_ATTEMPTS")
        if env_value:
            max_attempts = _int_setting(env_value, "max_attempts", "AWS_MAX_ATTEMPTS")
        elif aws.scoped.get("max_attempts") is not None:
            max_attempts = _int_setting(aws.scoped["max_attempts"], "max_attempts", profile_source)
    if retry_mode is not None:
        mode, mode_source = retry_mode, "the retry_mode argument"
    elif aws.environ.get("AWS_RETRY_MODE"):
        mode, mode_source = aws.environ["AWS_RETRY_MODE"], "AWS_RETRY_MODE"
    elif aws.scoped.get("retry_mode"):
        mode, mode_source = aws.scoped["retry_mode"], profile_source
    else:
        mode, mode_source = "standard", "the default"
    if mode not in RETRY_MODES:
        raise (ParamValidationError if retry_mode is not None else ConfigError)(
            f"retry_mode from {mode_source} must be one of {RETRY_MODES}, got {mode!r}"
        )
    ca_bundle = aws.value("ca_bundle", "AWS_CA_BUNDLE")
    ca_bundle_source = (
        "AWS_CA_BUNDLE" if aws.environ.get("AWS_CA_BUNDLE") else f"{profile_source} ca_bundle"
    )
    return ClientConfig(
        aws=aws,
        region=region,
        endpoint=endpoint,
        max_attempts=None if max_attempts is None else resolve_max_attempts(max_attempts),
        retry_mode=mode,
        retry_mode_source=mode_source,
        ca_bundle=ca_bundle if isinstance(ca_bundle, str) and ca_bundle else None,
        ca_bundle_source=ca_bundle_source,
        app_id=_app_id(aws),
        sdk_region=sdk_region(region, endpoint_url),
    )
