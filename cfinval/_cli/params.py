"""Structure parameters as the AWS CLI reads them: ``file://`` and ``fileb://`` values, JSON,
and the shorthand syntax (``Paths={Quantity=1,Items=[/a,/b]},CallerReference=ref``).

The shorthand grammar follows what ``aws`` accepts (checked against awscli 1.46 by the tests):
``key=value`` pairs separated by commas; a value is a bare word, a quoted string
(``'...'`` or ``"..."``, with ``\\'`` / ``\\"`` and ``\\\\`` escapes), a comma-separated run of
words (``Items=/a,/b``: a list), an explicit list ``[a,b]`` or a nested structure ``{k=v}``;
``\\,`` is a literal comma in a word; ``key@=file://PATH`` reads that value from a file.
Values are then shaped by the operation's model, as the AWS CLI's back-compat pass does: a
single value where a list is expected becomes a one-item list, an integer member is converted.
Errors are :class:`UsageError` (exit 252), one line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import string
from typing import Any

from .errors import UsageError

__all__ = ["Shape", "ShorthandError", "load_structure", "parse_shorthand", "read_paramfile"]

#: A member's type: ``"string"``, ``"integer"``, ``["string"]`` (a list of strings) or a
#: nested structure (a dict of member name to type).
Shape = Any

_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "-_.#/:")
_COMMA = r"\\,"
# The characters a bare word may start with, and continue with: a first value (after ``=``)
# may hold ``=``, ``[`` and ``{`` but ends at ``]`` or ``}``; a further value of a
# comma-separated run ends at ``=`` (it is then the next key).
_START = r"!#-&(-+\--<>-Z\\-z|-\uffff"
_FIRST_MORE = r"\s!#-&(-+\--\\^-|~-\uffff"
_SECOND_MORE = r"\s!#-&(-+\--<>-\uffff"
_FIRST = re.compile(f"(?:{_COMMA}|[{_START}])(?:{_COMMA}|[{_FIRST_MORE}])*")
_SECOND = re.compile(f"(?:{_COMMA}|[{_START}])(?:{_COMMA}|[{_SECOND_MORE}])*")
_SINGLE = re.compile(r"'(?:\\'|[^'])*'")
_DOUBLE = re.compile(r'"(?:\\"|[^"])*"')


class ShorthandError(Exception):
    """The value is not valid shorthand syntax."""


class _Syntax(ShorthandError):
    def __init__(self, text: str, expected: str, index: int) -> None:
        actual = "EOF" if index >= len(text) else text[index]
        self.index = index
        super().__init__(
            f"Expected: '{expected}', received: '{actual}' at position {index} of: {text}"
        )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        #: After ``key@=``: a ``file://`` / ``fileb://`` value is replaced by the file's text.
        self.files = False

    # -- the grammar ---------------------------------------------------------------------

    def parameter(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        key, value = self.keyval()
        out[key] = value
        while not self.eof():
            self.expect(",")
            key, value = self.keyval()
            if key in out:
                raise ShorthandError(
                    f'Second instance of key "{key}" in: {self.text} (this is often a "," '
                    "where a space was meant)"
                )
            out[key] = value
        return out

    def keyval(self) -> tuple[str, Any]:
        key = self.key()
        self.at_sign()
        self.expect("=")
        return key, self.values()

    def at_sign(self) -> None:
        """``key@=value``: the value may name a file to read."""
        self.skip_space()
        self.files = self.current() == "@"
        if self.files:
            self.at += 1
            self.skip_space()

    def key(self) -> str:
        start = self.at
        while not self.eof() and self.text[self.at] in _KEY_CHARS:
            self.at += 1
        return self.text[start : self.at]

    def values(self) -> Any:
        if self.eof():
            return ""
        if self.current() == "[":
            return self.explicit_list()
        if self.current() == "{":
            return self.structure()
        return self.csv_value()

    def csv_value(self) -> Any:
        first = self.first_value()
        self.skip_space()
        if self.eof() or self.current() != ",":
            return first
        self.expect(",")
        found = [first]
        while True:
            try:
                value = self.second_value()
                self.skip_space()
                if self.eof():
                    found.append(value)
                    break
                self.expect(",")
                found.append(value)
            except _Syntax:
                if self.eof():
                    raise
                # ``a=b,c=d``: ``c`` was the next key; go back to the comma before it.
                while self.at >= 0 and self.text[self.at] != ",":
                    self.at -= 1
                break
        return first if len(found) == 1 else found

    def explicit_list(self) -> list[Any]:
        self.expect("[")
        out: list[Any] = []
        while self.current() != "]":
            out.append(self.explicit_value())
            self.skip_space()
            if self.current() != "]":
                self.expect(",", space=False)
                self.skip_space()
        self.expect("]", space=False)
        return out

    def structure(self) -> dict[str, Any]:
        self.expect("{")
        out: dict[str, Any] = {}
        while self.current() != "}":
            key = self.key()
            self.at_sign()
            self.expect("=")
            value = self.explicit_value()
            self.skip_space()
            if self.current() != "}":
                self.expect(",", space=False)
                self.skip_space()
            out[key] = value
        self.expect("}", space=False)
        return out

    def explicit_value(self) -> Any:
        if self.current() == "[":
            return self.explicit_list()
        if self.current() == "{":
            return self.structure()
        return self.first_value()

    def first_value(self) -> str:
        if self.current() in ("'", '"'):
            return self.quoted()
        match = _FIRST.match(self.text, self.at)
        if match is None:
            return ""
        self.at = match.end()
        return self.resolve(match.group().replace("\\,", ",").rstrip())

    def second_value(self) -> str:
        if self.current() in ("'", '"'):
            return self.quoted()
        match = _SECOND.match(self.text, self.at)
        if match is None:
            raise _Syntax(self.text, "<second>", self.at)
        self.at = match.end()
        return self.resolve(match.group().replace("\\,", ",").rstrip())

    def quoted(self) -> str:
        quote = self.text[self.at]
        match = (_SINGLE if quote == "'" else _DOUBLE).match(self.text, self.at)
        if match is None:
            kind = "single" if quote == "'" else "double"
            raise _Syntax(self.text, f"<{kind} quoted>", self.at)
        self.at = match.end()
        return self.resolve(match.group()[1:-1].replace("\\" + quote, quote).replace("\\\\", "\\"))

    def resolve(self, value: str) -> str:
        if self.files and value.startswith(("file://", "fileb://")):
            return read_paramfile(value)
        return value

    # -- scanning ------------------------------------------------------------------------

    def eof(self) -> bool:
        return self.at >= len(self.text)

    def current(self) -> str | None:
        return None if self.eof() else self.text[self.at]

    def skip_space(self) -> None:
        while not self.eof() and self.text[self.at] in string.whitespace:
            self.at += 1

    def expect(self, char: str, *, space: bool = True) -> None:
        if space:
            self.skip_space()
        if self.eof() or self.text[self.at] != char:
            raise _Syntax(self.text, char, self.at)
        self.at += 1
        if space:
            self.skip_space()


def parse_shorthand(text: str) -> dict[str, Any]:
    """The shorthand ``text`` as plain data, before any model shaping
    (:class:`ShorthandError` when it does not parse)."""
    return _Parser(text).parameter()


def _shape(value: Any, shape: Shape, where: str) -> Any:
    """Shorthand values shaped by the model: one value where a list goes becomes a list,
    integers are converted (anything else is left for the operation's validation)."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return value
        return {
            key: _shape(item, shape[key], f"{where}.{key}") if key in shape else item
            for key, item in value.items()
        }
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [value]
        return [_shape(item, shape[0], where) for item in value]
    if shape == "integer" and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ShorthandError(f"{where} must be an integer, got {value!r}") from None
    return value


def read_paramfile(value: str) -> str:
    """The text of the file a ``file://`` or ``fileb://`` value names (``~`` and ``$VARS``
    expanded, as the AWS CLI does); :class:`ShorthandError` when it cannot be read."""
    binary = value.startswith("fileb://")
    path = os.path.expandvars(os.path.expanduser(value[len("fileb://" if binary else "file://") :]))
    try:
        with open(path, "rb") as handle:
            content = handle.read()
    except OSError as exc:
        raise ShorthandError(f"Unable to load paramfile {value}: {exc}") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise ShorthandError(
            f"Unable to load paramfile ({path}), text contents could not be decoded."
        ) from None


def load_structure(cli_name: str, value: str, shape: Shape) -> dict[str, Any]:
    """The structure parameter ``cli_name`` (``--invalidation-batch``) from its command-line
    ``value``: a ``file://`` or ``fileb://`` path is read first; then JSON when it starts with
    ``{``, else shorthand shaped by ``shape``."""
    if value.startswith(("file://", "fileb://")):
        try:
            value = read_paramfile(value)
        except ShorthandError as exc:
            raise UsageError(f"Error parsing parameter '{cli_name}': {exc}") from None
    if not value.strip():
        raise UsageError(f"Error parsing parameter '{cli_name}': the value is empty")
    if value.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(value)
        except ValueError as exc:
            raise UsageError(
                f"Error parsing parameter '{cli_name}': Invalid JSON: {exc} JSON received: {value}"
            ) from None
        if not isinstance(data, dict):
            raise UsageError(
                f"Error parsing parameter '{cli_name}': Invalid JSON: expected an object, got "
                f"{value}"
            )
        return data
    try:
        shaped: dict[str, Any] = _shape(parse_shorthand(value), shape, cli_name)
    except ShorthandError as exc:
        raise UsageError(f"Error parsing parameter '{cli_name}': {exc}") from None
    return shaped


def check_paging(args: argparse.Namespace) -> bool:
    """Whether to paginate; a paging option with ``--no-paginate`` is a usage error."""
    paginate = bool(args.paginate) and args.marker is None
    if not paginate:
        used = [
            flag
            for flag, value in (
                ("--starting-token", args.starting_token),
                ("--page-size", args.page_size),
            )
            if value is not None
        ]
        if used:
            raise UsageError(
                f"Cannot specify --no-paginate along with pagination arguments: {', '.join(used)}"
            )
    return paginate


def positive_int(text: str) -> int:
    """argparse ``type=`` for counts: an int of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value
