"""Locks that a fork cannot leave held.

``os.fork()`` copies a lock as it is: one that a thread of the parent held at that moment stays
held in the child, where that thread does not exist, and the first caller to take it waits for
ever (a gunicorn or celery worker forked while another thread refreshed credentials, took retry
quota or read the shared config files). Every :class:`ForkSafeLock` is replaced by a fresh,
unheld lock in the child, before anything else runs there.
"""

from __future__ import annotations

import os
import threading
import weakref

__all__ = ["ForkSafeLock"]


class ForkSafeLock:
    """A ``threading.Lock`` for ``with`` blocks, fresh again in a forked child."""

    __slots__ = ("__weakref__", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        _ALL.add(self)

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()


_ALL: weakref.WeakSet[ForkSafeLock] = weakref.WeakSet()


def _renew_in_child() -> None:
    for lock in list(_ALL):
        lock._lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_renew_in_child)
