"""Run the real ``cfinval`` entry point in a subprocess (exit codes, stderr, stdout), or its
``main()`` in this process where a process of its own is not what is tested."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS

__all__ = ["run_cfinval", "run_main"]

ROOT = Path(cfinval.__file__).resolve().parent.parent


#: What the command finds in its environment: the fake's credentials, no configuration files.
SETTINGS = {
    "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS.access_key_id,
    "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS.secret_access_key,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _inherited(name: str) -> bool:
    return not name.startswith("AWS_") and not name.lower().endswith("_proxy")


def run_cfinval(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """``python -m cfinval ARGS`` with the fake's credentials and no AWS or proxy settings
    from this environment; ``env=`` adds variables, ``close_stdout=True`` starts it with its
    standard output closed, other options go to ``subprocess.run``."""
    env = {name: value for name, value in os.environ.items() if _inherited(name)}
    env.update(PYTHONPATH=str(ROOT), **SETTINGS)
    env.update(options.pop("env", {}))
    options.setdefault("capture_output", "stdout" not in options)
    command = [sys.executable, "-m", "cfinval", *args]
    if options.pop("close_stdout", False):  # the command starts with descriptor 1 closed
        command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
    return subprocess.run(
        command,
        env=env,
        text=True,
        timeout=60,
        check=False,
        **options,
    )


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """What :func:`run_cfinval` returns, from ``cfinval._cli.main(ARGS)`` in this process (the
    code ``python -m cfinval`` runs), with the same environment: for exit codes and messages,
    where starting an interpreter (~0.1 s) is not what is tested."""
    from cfinval._cli import main

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        for name in [name for name in os.environ if not _inherited(name)]:
            patch.delenv(name)
        for name, value in {**SETTINGS, **(env or {})}.items():
            patch.setenv(name, value)
        try:
            code = main(list(args))
        except SystemExit as exit:  # argparse, as the interpreter would report it
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    text = [stream.buffer.getvalue().decode() for stream in (out, err)]  # type: ignore[attr-defined]
    return subprocess.CompletedProcess(["cfinval", *args], code, *text)
