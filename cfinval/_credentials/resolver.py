"""The cache in front of a provider, for one client: botocore's refresh windows, and one
refresh at a time (single flight) whatever the number of threads or asyncio tasks.

From ``ADVISORY_REFRESH_SECONDS`` before expiry one caller refreshes while the others keep
using the current credentials; from ``MANDATORY_REFRESH_SECONDS`` before, every caller waits
for the refresh (waiting is a ``Wait`` effect: threads block, tasks await, the event loop is
never blocked).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .._core.effects import Flow, Signal, Wait
from .._core.locks import ForkSafeLock
from .._errors import CredentialRetrievalError, NoCredentialsError
from .._models import Credentials
from .base import describe_of, load_flow, log, method_of

__all__ = ["ADVISORY_REFRESH_SECONDS", "MANDATORY_REFRESH_SECONDS", "CredentialResolver"]

#: From this many seconds before expiry, one caller refreshes; the others keep going.
ADVISORY_REFRESH_SECONDS = 15 * 60
#: From this many seconds before expiry, every caller waits for fresh credentials.
MANDATORY_REFRESH_SECONDS = 10 * 60


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
        self._lock = ForkSafeLock()

    def __repr__(self) -> str:
        return f"CredentialResolver({method_of(self.provider)}, loads={self.loads})"

    def after_fork(self) -> None:
        """In a forked child: a refresh the parent had in flight does not run here (its lock
        is a fresh one already: see ``_core.locks``)."""
        self._inflight = None

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
                    f"Unable to locate credentials. Looked in: {describe_of(self.provider)}"
                )
            remaining = self._remaining(found)
            if remaining is not None and remaining <= 0:
                assert found.expiration is not None
                raise CredentialRetrievalError(
                    method_of(self.provider),
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
