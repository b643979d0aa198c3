"""The Makefile's targets as a user or CI calls them, dry-run (``make -n``): which interpreter
and what each one installs, and what ``make matrix`` runs and reports."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import cfinval

ROOT = Path(cfinval.__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def make(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def pyenv(tmp_path: Path) -> Path:
    """A pyenv-like tree: versions/3.99.0/bin/python3.99 is this interpreter, and a shim
    ``python3.99`` on a PATH of its own refuses to run, as pyenv's shims do for a version that
    is not the selected one."""
    binary = tmp_path / "versions" / "3.99.0" / "bin" / "python3.99"
    binary.parent.mkdir(parents=True)
    binary.symlink_to(sys.executable)
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3.99"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.99: command not found' >&2\nexit 127\n")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def test_demo_installs_the_package_alone(tmp_path: Path) -> None:
    done = make("demo", f"VENV={tmp_path}/venv")
    assert done.returncode == 0, done.stderr
    installs = [line for line in done.stdout.splitlines() if " install " in line]
    assert installs[-1].endswith(" install -e .")
    assert not [line for line in installs if "[test]" in line]
    assert done.stdout.rstrip().endswith(f"{tmp_path}/venv/bin/python -m cfinval.testing.demo")


def test_layer_runs_the_interpreter_behind_a_pyenv_shim(pyenv: Path) -> None:
    path = f"{pyenv / 'shims'}{os.pathsep}{os.environ['PATH']}"
    done = make("layer", "PYTHON=python3.99", f"PYENV_VERSIONS={pyenv / 'versions'}", path=path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{pyenv}/versions/3.99.0/bin/python3.99 bench/layer.py\n"


def test_layer_runs_what_the_interpreter_says_it_is(pyenv: Path) -> None:
    done = make("layer", f"PYTHON={sys.executable}", f"PYENV_VERSIONS={pyenv / 'versions'}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{sys.executable} bench/layer.py\n"


def test_layer_refuses_an_interpreter_it_cannot_find(pyenv: Path) -> None:
    done = make("layer", "PYTHON=python3.98", f"PYENV_VERSIONS={pyenv / 'versions'}")
    assert done.returncode != 0
    assert "no Python interpreter found for PYTHON=python3.98" in done.stderr


def test_matrix_runs_pytest_on_each_version_found_and_names_the_missing(
    pyenv: Path, tmp_path: Path
) -> None:
    done = make(
        "matrix",
        "MATRIX=3.98 3.99",
        f"PYENV_VERSIONS={pyenv / 'versions'}",
        f"VENV={tmp_path}/venv",
        path="/usr/bin:/bin",  # no python3.98 on it: not found
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    interpreter = f"{pyenv}/versions/3.99.0/bin/python3.99"
    assert "matrix: Python 3.98 not found" in "\n".join(lines)
    assert f"matrix: Python 3.99: {interpreter} in .venv-3.99" in lines
    assert f"{interpreter} -m venv .venv-3.99" in lines  # its own venv, from that interpreter
    assert ".venv-3.99/bin/python -m pytest -n 2 --dist loadfile" in lines
    assert lines[-1] == "matrix: passed: 3.99; failed: none; not found: 3.98"
    # ruff and mypy once, in the main venv, before the versions
    assert lines.index(f"{tmp_path}/venv/bin/mypy --strict cfinval") < lines.index(
        ".venv-3.99/bin/python -m pytest -n 2 --dist loadfile"
    )


def test_matrix_fails_when_it_finds_no_interpreter(pyenv: Path, tmp_path: Path) -> None:
    done = make(
        "matrix",
        "MATRIX=3.98",
        f"PYENV_VERSIONS={pyenv / 'versions'}",
        f"VENV={tmp_path}/venv",
        path="/usr/bin:/bin",
    )
    assert done.returncode != 0
    assert done.stdout.splitlines()[-1] == "matrix: passed: none; failed: none; not found: 3.98"


def test_ci_runs_make_test_then_make_matrix() -> None:
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith("make")
    ]
    assert commands == ["make test", "make matrix"]
