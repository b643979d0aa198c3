"""The attempt deadline of the synchronous driver.

httpx's timeouts bound each read, so a server that drips a byte at a time (headers included)
can hold a synchronous request for ever. On the transports cfinval creates, every socket
operation of the sending thread is given at most the time left before its attempt deadline
(``deadline_backend.py``), so the deadline holds whatever the server does. (The asynchronous
driver cancels the attempt instead, with anyio.fail_after.)
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

__all__ = ["attempt_deadline", "local"]

#: ``end``: the monotonic time the current thread's attempt must end by (or absent).
local = threading.local()


def _never() -> bool:
    return False


@contextlib.contextmanager
def attempt_deadline(seconds: float | None) -> Iterator[Callable[[], bool]]:
    """Within the block, this thread's socket operations on cfinval's transports end by the
    deadline; yields a function that says whether it has passed."""
    if seconds is None:
        yield _never
        return
    end = time.monotonic() + seconds
    previous = getattr(local, "end", None)
    local.end = end
    try:
        yield lambda: time.monotonic() >= end
    finally:
        local.end = previous
