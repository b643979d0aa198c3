"""Run the real ``cfinval`` entry point in a subprocess (exit codes, stderr, stdout)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cfinval
from cfinval.testing import FAKE_CREDENTIALS

__all__ = ["run_cfinval"]

ROOT = Path(cfinval.__file__).resolve().parent.parent


def run_cfinval(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """``python -m cfinval ARGS`` with the fake's credentials and no AWS or proxy settings
    from this environment; ``env=`` adds variables, ``close_stdout=True`` starts it with its
    standard output closed, other options go to ``subprocess.run``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and not name.lower().endswith("_proxy")
    }
    env.update(
        PYTHONPATH=str(ROOT),
        AWS_ACCESS_KEY_ID=FAKE_CREDENTIALS.access_key_id,
        AWS_SECRET_ACCESS_KEY=FAKE_CREDENTIALS.secret_access_key,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
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
