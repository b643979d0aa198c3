"""Credential providers, as flows.

A provider's ``load()`` is a flow (see ``_flow``): a generator that may yield effects (HTTP for
IMDS, containers, STS) and returns :class:`Credentials` or ``None`` when it has nothing to
offer. Providers that need no I/O simply return without yielding. Because they are flows, the
same provider works under :class:`cfinval.Client` and :class:`cfinval.AsyncClient`.

``credentials=`` accepts a :class:`Credentials`, a provider (anything with ``load()``), or a plain
callable returning :class:`Credentials`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ._effects import Flow, immediate
from ._errors import NoCredentialsError, ParamValidationError
from ._models import Credentials

__all__ = [
    "CallableProvider",
    "ChainProvider",
    "CredentialProvider",
    "CredentialResolver",
    "EnvProvider",
    "StaticProvider",
]


@runtime_checkable
class CredentialProvider(Protocol):
    """Anything that can load credentials. ``method`` names it in messages."""

    method: str

    def load(self) -> Flow[Credentials | None]: ...


class StaticProvider:
    """Always the same credentials (what ``credentials=Credentials(...)`` becomes)."""

    method = "explicit"

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def load(self) -> Flow[Credentials | None]:
        return immediate(self._credentials)

    def __repr__(self) -> str:
        return f"StaticProvider({self._credentials!r})"


class CallableProvider:
    """Wraps a user callable returning :class:`Credentials` (or ``None``)."""

    method = "callable"

    def __init__(self, func: Callable[[], Credentials | None]) -> None:
        self._func = func

    def load(self) -> Flow[Credentials | None]:
        value = self._func()
        if value is not None and not isinstance(value, Credentials):
            raise ParamValidationError(
                f"credentials callable returned {type(value).__name__}, not Credentials"
            )
        return immediate(value)


class EnvProvider:
    """``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``."""

    method = "env"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def load(self) -> Flow[Credentials | None]:
        env = os.environ if self._environ is None else self._environ
        key = env.get("AWS_ACCESS_KEY_ID")
        secret = env.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            return immediate(None)
        token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN") or None
        return immediate(Credentials(key, secret, token))


class ChainProvider:
    """Tries providers in order; the first that returns credentials wins."""

    method = "chain"

    def __init__(self, providers: Sequence[CredentialProvider]) -> None:
        self.providers = tuple(providers)

    def load(self) -> Flow[Credentials | None]:
        for provider in self.providers:
            found = yield from provider.load()
            if found is not None:
                return found
        return None

    def describe(self) -> str:
        return ", ".join(p.method for p in self.providers)


def default_chain() -> ChainProvider:
    return ChainProvider([EnvProvider()])


def as_provider(source: Any) -> CredentialProvider:
    """Turn what a user passed as ``credentials=`` into a provider."""
    if source is None:
        return default_chain()
    if isinstance(source, Credentials):
        return StaticProvider(source)
    if isinstance(source, CredentialProvider):
        return source
    if callable(source):
        return CallableProvider(source)
    raise ParamValidationError(
        "credentials must be cfinval.Credentials, a provider with load(), or a callable; "
        f"got {type(source).__name__}"
    )


class CredentialResolver:
    """Caches the credentials a provider loads, for one client (thread-safe reads)."""

    def __init__(self, provider: CredentialProvider) -> None:
        self.provider = provider
        self._cached: Credentials | None = None
        self._lock = threading.Lock()

    def get(self) -> Flow[Credentials]:
        cached = self._cached
        if cached is not None:
            return cached
        found = yield from self.provider.load()
        if found is None:
            where = (
                self.provider.describe()
                if isinstance(self.provider, ChainProvider)
                else self.provider.method
            )
            raise NoCredentialsError(f"Unable to locate credentials (looked in: {where})")
        with self._lock:
            self._cached = found
        return found

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None
