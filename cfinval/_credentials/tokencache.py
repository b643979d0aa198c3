"""The token cache files that the AWS CLI, boto3 and cfinval share.

* IAM Identity Center: ``~/.aws/sso/cache/<sha1 of the sso-session name or start URL>.json``
* ``aws login``: ``$AWS_LOGIN_CACHE_DIRECTORY`` or ``~/.aws/login/cache``, then
  ``<sha256 of the login_session>.json``

Files are written as botocore's ``JSONFileCache`` writes them, so that a file cfinval refreshed
is one boto3 reads and the other way round: ``json.dumps`` with its default separators, into a
temporary file in the same directory (created mode 0600), flushed and fsynced, then renamed over
the old file. A reader never sees half a file. File I/O is synchronous, as everywhere in the
credential providers (a few hundred bytes of local disk).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from .._core.xml import parse_timestamp
from .base import parse_json

__all__ = [
    "TokenFileError",
    "format_time",
    "login_cache_path",
    "parse_time",
    "read_token",
    "sso_cache_path",
    "write_token",
]

#: The timestamp format of ``expiresAt`` in both caches.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class TokenFileError(Exception):
    """A cache file exists but cannot be read as a JSON object (the text says why, never what
    the file holds)."""


def sso_cache_path(key: str) -> str:
    """``key`` is the sso-session name (or, for a legacy profile, the start URL)."""
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()  # noqa: S324 (a file name, as botocore)
    return os.path.join(
        os.path.expanduser(os.path.join("~", ".aws", "sso", "cache")), digest + ".json"
    )


def login_cache_path(login_session: str, environ: Mapping[str, str]) -> str:
    if "AWS_LOGIN_CACHE_DIRECTORY" in environ:
        directory = os.path.expanduser(os.path.expandvars(environ["AWS_LOGIN_CACHE_DIRECTORY"]))
    else:
        directory = os.path.expanduser(os.path.join("~", ".aws", "login", "cache"))
    digest = hashlib.sha256(login_session.encode("utf-8")).hexdigest()
    return os.path.join(directory, digest + ".json")


def read_token(path: str) -> dict[str, Any] | None:
    """The JSON object in ``path``; ``None`` when there is no such file."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            data = parse_json(handle.read())
    except OSError as exc:
        raise TokenFileError(f"cannot read {path}: {type(exc).__name__}") from None
    except ValueError:  # not JSON, or not UTF-8
        raise TokenFileError(f"{path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise TokenFileError(f"{path} does not hold a JSON object")
    return data


def read_token_or_login(
    path: str, method: str, what: str, missing: str, login: str
) -> dict[str, Any]:
    """:func:`read_token`, where a missing or unusable file means logging in again: a
    :class:`LoginRequiredError` for ``method`` naming the ``login`` command (``what`` names
    the file in the message, ``missing`` is the message when there is none)."""
    from .._errors import LoginRequiredError

    try:
        data = read_token(path)
    except TokenFileError as exc:
        raise LoginRequiredError(method, f"{what} is unusable: {exc}", command=login) from None
    if data is None:
        raise LoginRequiredError(method, missing, command=login)
    return data


def write_token(path: str, token: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``token`` atomically (see the module docstring); ``OSError`` when
    that fails (the old file is then left as it was)."""
    import tempfile  # only a process that refreshes a token pays for it

    text = json.dumps(token)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, exist_ok=True)
    fd, temp_path = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise


def parse_time(value: Any) -> _dt.datetime:
    """An ``expiresAt`` value (``2026-01-02T03:04:05Z``; early AWS CLI v2 releases wrote
    ``...UTC``); ``ValueError`` when it is not a timestamp."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    text = value.strip()
    if text.endswith("UTC"):
        text = text[:-3].rstrip() + "Z"
    return parse_timestamp(text)


def format_time(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).strftime(TIME_FORMAT)
