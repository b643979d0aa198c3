"""cfinval._core.locks: a lock another thread held when the process forked is free in the child."""

from __future__ import annotations

import os
import threading

import pytest

from cfinval._core.locks import ForkSafeLock


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_lock_held_by_a_parent_thread_at_fork_is_free_in_the_child() -> None:
    lock = ForkSafeLock()
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child reports through its exit status)
        free = not lock.locked()
        # a plain lock would wait for ever for a thread that does not exist here
        taken = lock._lock.acquire(timeout=2)
        os._exit(0 if free and taken else 1)
    release.set()
    holder.join(5)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not lock.locked()  # the parent's lock is the parent's: released by its holder
