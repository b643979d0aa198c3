"""The command's exit codes (those of AWS CLI v2) and the failures that carry them."""

from __future__ import annotations

__all__ = [
    "CONFIG_RC",
    "GENERAL_RC",
    "INTERRUPTED_RC",
    "SERVICE_RC",
    "USAGE_RC",
    "Failure",
    "UsageError",
    "one_line",
]

USAGE_RC = 252  # bad arguments (usage printed), parameter validation
CONFIG_RC = 253  # no credentials
SERVICE_RC = 254  # the service said no
GENERAL_RC = 255  # anything else: configuration, network, timeouts, output
INTERRUPTED_RC = 130  # Ctrl+C


class Failure(Exception):
    """A command failed in a way the user can fix; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = GENERAL_RC) -> None:
        super().__init__(message)
        self.code = code


class UsageError(Failure):
    """Bad command-line input found after parsing (exit 252)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE_RC)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char.isprintable():
        return char
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def one_line(message: str) -> str:
    """``message`` safe to write to a terminal as one line: characters that are not printable
    (C0 and C1 controls such as newlines, escape and NUL; DEL; line separators; bidirectional
    overrides) written as Python escapes, never raw."""
    if message.isprintable():
        return message
    return "".join(_escape(char) for char in message)
