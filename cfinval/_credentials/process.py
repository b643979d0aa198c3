"""``credential_process``: run a command and read the credentials it prints as JSON."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .._config import AwsConfig
from .._core.effects import ProcessResult, Run
from .._errors import ConfigError, CredentialRetrievalError
from .base import (
    CredentialFlow,
    ProfileProvider,
    log,
    make_credentials,
    parse_expiration,
    parse_json,
)

__all__ = ["ProcessProvider"]


def _split_command(command: str) -> list[str]:
    import shlex

    return shlex.split(command, posix=os.name != "nt")


class ProcessProvider(ProfileProvider):
    """``credential_process``: run the profile's command (or ``command=``) and read its JSON
    (``Version`` 1, ``AccessKeyId``, ``SecretAccessKey``, ``SessionToken``, ``Expiration``).

    The process runs as a :class:`~cfinval._core.effects.Run` effect: the async client runs it in a
    worker thread, so the event loop keeps going. ``timeout`` (seconds) bounds it (none by
    default, as in botocore: a process may prompt for an MFA code).
    """

    method = "custom-process"

    def __init__(
        self,
        profile: str | None = None,
        *,
        command: str | Sequence[str] | None = None,
        timeout: float | None = None,
        config: AwsConfig | None = None,
    ) -> None:
        super().__init__(profile, config=config)
        self._command = command
        self._timeout = timeout

    def _argv(self) -> list[str] | None:
        command: Any = self._command
        if command is None:
            command = self._aws().scoped.get("credential_process")
        if not command:
            return None
        if isinstance(command, str):
            try:
                argv = _split_command(command)
            except ValueError as exc:
                raise ConfigError(f"credential_process cannot be parsed: {exc}") from None
        else:
            argv = [str(part) for part in command]
        if not argv:
            return None
        return argv

    def load(self) -> CredentialFlow:
        argv = self._argv()
        if argv is None:
            return None
        log.debug("running credential_process %s", argv[0])
        result: ProcessResult = yield Run(tuple(argv), self._timeout)
        if result.error is not None:
            raise CredentialRetrievalError(
                self.method,
                f"credential_process {argv[0]!r} could not run: "
                f"{type(result.error).__name__}: {result.error}",
            )
        if result.returncode != 0:
            stderr = result.stderr.decode("utf-8", "replace").strip()[:1000]
            raise CredentialRetrievalError(
                self.method,
                f"credential_process {argv[0]!r} exited with status {result.returncode}"
                + (f": {stderr}" if stderr else ""),
            )
        try:
            parsed = parse_json(result.stdout)
        except (UnicodeDecodeError, ValueError):
            # never quote the output: it may hold a secret
            raise CredentialRetrievalError(
                self.method, f"credential_process {argv[0]!r} did not print valid JSON"
            ) from None
        if not isinstance(parsed, dict):
            raise CredentialRetrievalError(
                self.method, f"credential_process {argv[0]!r} did not print a JSON object"
            )
        version = parsed.get("Version", "<Version key not provided>")
        if version != 1 or isinstance(version, bool):
            raise CredentialRetrievalError(
                self.method,
                f"Unsupported version {version!r} for credential process provider, "
                "supported versions: 1",
            )
        for required in ("AccessKeyId", "SecretAccessKey"):
            if required not in parsed:
                raise CredentialRetrievalError(
                    self.method, f"Missing required key in response: {required!r}"
                )
        raw_expiry = parsed.get("Expiration")
        expiry = (
            parse_expiration(self.method, raw_expiry, "Expiration")
            if raw_expiry is not None
            else None
        )
        return make_credentials(
            self.method,
            parsed["AccessKeyId"],
            parsed["SecretAccessKey"],
            parsed.get("SessionToken"),
            expiry,
        )

    def describe(self) -> str:
        if self._command is not None:
            return "credential_process (explicit command)"
        return f"credential_process in profile {self._aws().profile_name!r}"
