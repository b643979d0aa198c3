"""Standard output for the command: a full disk or a closed descriptor is one clear failure."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from .errors import GENERAL_RC, Failure

__all__ = ["OutputFailed", "StandardOutput", "silence_stdout"]


def silence_stdout() -> None:
    """After a closed pipe (``cfinval ... | head``) or a failed write, drop what is still
    buffered (Python would try to write it again at exit, and complain)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class OutputFailed(Failure):
    """Standard output cannot be written: closed, full (``> /dev/full``), an I/O error."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot write the output: {reason}", GENERAL_RC)


class StandardOutput:
    """Standard output, whose write errors (other than a closed pipe) become one clear
    :class:`OutputFailed` instead of an ``OSError`` traceback."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    def _target(self) -> TextIO:
        if self._stream is None:
            raise OutputFailed("standard output is closed")
        return self._stream

    def write(self, text: str) -> int:
        try:
            return self._target().write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputFailed(exc.strerror or str(exc)) from None

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputFailed(exc.strerror or str(exc)) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)
