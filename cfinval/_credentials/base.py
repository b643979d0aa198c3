"""What every provider shares: the :class:`CredentialProvider` protocol, :func:`load_flow`, the
helpers that build :class:`Credentials` without echoing bad values, the providers that need no
I/O of their own (explicit, callable, environment), the base of the providers that read a
profile, and :class:`ChainProvider`, which tries providers in order.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

from .._config import AwsConfig, check_profile_name
from .._core.effects import Flow
from .._core.locks import ForkSafeLock
from .._core.xml import parse_timestamp
from .._errors import CredentialRetrievalError, ParamValidationError
from .._models import Credentials

__all__ = [
    "CallableProvider",
    "ChainProvider",
    "CredentialProvider",
    "EnvProvider",
    "ProfileProvider",
    "StaticProvider",
    "describe_of",
    "load_flow",
    "make_credentials",
    "method_of",
    "parse_expiration",
    "parse_json",
]

log = logging.getLogger("cfinval")


#: What ``load()`` returns when it needs I/O: a generator (a flow) that the client drives,
#: whose value is the :class:`Credentials` (``None``: nothing here). What it yields is between
#: it and the client (a private protocol), hence ``Any``.
CredentialFlow: TypeAlias = Generator[Any, Any, Credentials | None]


@runtime_checkable
class CredentialProvider(Protocol):
    """Anything that can load credentials: ``load()`` returns the :class:`Credentials`
    (``None``: nothing here) or, for the providers of this package that need I/O, a flow that
    the client drives. Optional: a ``method`` string names it in messages, and ``describe()``
    says where it looks."""

    def load(self) -> CredentialFlow | Credentials | None: ...


#: What ``credentials=`` accepts: credentials, a provider, or a callable returning credentials
#: (or ``None``); ``None`` itself means the default chain.
CredentialSource: TypeAlias = (
    Credentials | CredentialProvider | Callable[[], Credentials | None] | None
)


def load_flow(provider: Any) -> Flow[Credentials | None]:
    """Run ``provider.load()``: a flow, or (for hand-written providers) a plain value."""
    result = provider.load()
    if isinstance(result, Generator):
        result = yield from result
    if result is not None and not isinstance(result, Credentials):
        raise ParamValidationError(
            f"credential provider {method_of(provider)} returned {type(result).__name__}, "
            "not cfinval.Credentials"
        )
    return result


def method_of(provider: Any) -> str:
    method = getattr(provider, "method", None)
    return method if isinstance(method, str) else type(provider).__name__


def describe_of(provider: Any) -> str:
    describe = getattr(provider, "describe", None)
    if callable(describe):
        text = describe()
        if isinstance(text, str):
            return text
    return method_of(provider)


def make_credentials(
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


def parse_expiration(provider: str, value: Any, where: str) -> _dt.datetime:
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        return parse_timestamp(value)
    except ValueError:
        raise CredentialRetrievalError(
            provider, f"{where} is not an ISO 8601 timestamp: {value!r}"
        ) from None


# --- simple providers ---------------------------------------------------------------------------

# --- simple providers ---------------------------------------------------------------------------


#: How deep an identity service's JSON answer may nest: theirs are two or three levels deep.
MAX_JSON_DEPTH = 32


def parse_json(data: bytes | str) -> Any:
    """The JSON value in ``data`` (an endpoint's answer, a process's output, a token file), or
    ``ValueError``: for text that is not UTF-8 or not JSON, and for nesting deeper than
    :data:`MAX_JSON_DEPTH` levels, where the parser (or any later ``repr``) would raise
    ``RecursionError`` instead."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data  # UnicodeDecodeError too
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:  # no recursion here either
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ValueError("JSON nested too deeply")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return value


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
            parse_expiration(self.method, raw_expiry, "AWS_CREDENTIAL_EXPIRATION")
            if raw_expiry
            else None
        )
        log.debug("found credentials in environment variables")
        return make_credentials(self.method, key, secret, token, expiry)

    def describe(self) -> str:
        return "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"


class ProfileProvider:
    """Base of the providers that read a profile: ``profile`` (default: ``AWS_PROFILE`` etc.)
    or an :class:`AwsConfig` shared with the rest of a chain (``config=``)."""

    method = "profile"

    def __init__(self, profile: str | None = None, *, config: AwsConfig | None = None) -> None:
        check_profile_name(profile)
        self._profile = profile
        self._config = config
        self._config_lock = ForkSafeLock()

    def _aws(self) -> AwsConfig:
        with self._config_lock:
            if self._config is None:
                self._config = AwsConfig(self._profile, check_profile=False)
            return self._config


class ClockedProfileProvider(ProfileProvider):
    """A :class:`ProfileProvider` that reads a cache with expiry times: ``clock`` (seconds
    since the epoch) is injectable for tests."""

    def __init__(
        self,
        profile: str | None = None,
        *,
        config: AwsConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(profile, config=config)
        self._clock = clock


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

    def load(self) -> CredentialFlow:
        winner = self._winner
        if winner is not None:
            found = yield from load_flow(winner)
            if found is not None:
                return found
        for provider in self.providers:
            if provider is winner:
                continue
            log.debug("looking for credentials via %s", method_of(provider))
            found = yield from load_flow(provider)
            if found is not None:
                self._winner = provider
                return found
        return None

    def describe(self) -> str:
        return "; ".join(text for text in (describe_of(p) for p in self.providers) if text)

    def __repr__(self) -> str:
        return f"ChainProvider([{', '.join(method_of(p) for p in self.providers)}])"
