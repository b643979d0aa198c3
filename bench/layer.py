"""Build an AWS Lambda layer zip: cfinval and its runtime dependencies under ``python/``.

    python bench/layer.py                       # what `make layer` runs: from bench/layer.lock
    python bench/layer.py --out my-layer.zip
    python bench/layer.py --resolve             # whatever the index resolves today instead
    python bench/layer.py --write-lock          # what `make layer-lock` runs: renew the lock

The dependencies come from ``bench/layer.lock``: each one pinned (``==``) with the SHA-256 of its
wheel, installed with ``pip --require-hashes --only-binary :all:``, so the layer holds exactly
the files that were locked (pip refuses a download whose hash differs, and any dependency the
lock lacks). The lock is written by ``--write-lock`` from ``pyproject.toml``'s dependencies,
resolved by pip (``--dry-run --report``) for each Python version the classifiers name; a pin
needed by some versions only carries a ``python_version`` marker. cfinval itself is installed
from this tree, without its dependencies. The build prints what it pinned.

Lambda puts a layer's ``python/`` directory on ``sys.path``. The zip holds what
``pip install --target`` installs for this project (runtime dependencies only: no test extras),
without ``bin/`` scripts, plus bytecode compiled in ``unchecked-hash`` mode: ``/opt`` is read-only
on Lambda, so without it every cold start would compile every module, and ``unchecked-hash`` pycs
stay valid whatever timestamps the zip gives the sources.

The bytecode is for the interpreter that runs this script; build with the Python of your Lambda
runtime (``make layer PYTHON=python3.12``). Every dependency is pure Python, so the layer is
otherwise the same for x86_64 and arm64. Entries are sorted and dated 1980-01-01, so the same
inputs give the same zip.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = f"py{sys.version_info[0]}{sys.version_info[1]}"
DEFAULT_OUT = ROOT / "build" / f"cfinval-lambda-layer-{TAG}.zip"
LOCK = ROOT / "bench" / "layer.lock"
LOCK_COMMAND = "python bench/layer.py --write-lock   (make layer-lock)"


@dataclass
class Layer:
    path: Path
    zip_bytes: int
    files: int
    installed_bytes: int
    #: ``name==version`` of each distribution in the layer, cfinval included.
    installed: list[str] = field(default_factory=list)


class BuildError(Exception):
    """A step failed; the message says which and why (pip's own words included)."""


def _pip(args: Sequence[str], what: str, python: str = sys.executable) -> None:
    """Run pip (of ``python``); on failure, :class:`BuildError` with the end of what pip said."""
    done = subprocess.run(
        [python, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()[-15:]
        raise BuildError(f"{what} failed (pip exit {done.returncode}):\n  " + "\n  ".join(said))


def build(requirements: Sequence[str], out: Path, work_dir: Path | None = None) -> Layer:
    """Install ``requirements`` (and whatever they resolve to today) into ``python/`` and zip it
    to ``out``."""
    with _workspace(work_dir) as root:
        target = root / "python"
        _pip(
            ["install", "--quiet", "--no-compile", "--target", str(target), *requirements],
            "pip install " + " ".join(requirements),
        )
        return _package(root, out)


def build_locked(project: str, out: Path, lock: Path = LOCK, work_dir: Path | None = None) -> Layer:
    """Install the dependencies pinned in ``lock`` (hashes required, wheels only), then
    ``project`` without dependencies, into ``python/`` and zip it to ``out``."""
    missing = _unpinned(lock)
    if missing:
        raise BuildError(
            f"{lock} pins nothing for {', '.join(missing)} on Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}: renew it with {LOCK_COMMAND}"
        )
    with _workspace(work_dir) as root:
        target = root / "python"
        _pip(
            [
                *("install", "--quiet", "--no-compile", "--target", str(target)),
                *("--require-hashes", "--only-binary", ":all:", "-r", str(lock)),
            ],
            f"installing the dependencies pinned in {lock}",
        )
        isolation = (
            [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
        )
        _pip(
            [
                "install",
                "--quiet",
                "--no-compile",
                "--no-deps",
                "--target",
                str(target),
                *isolation,
                project,
            ],
            f"installing cfinval from {project}",
        )
        return _package(root, out)


@contextlib.contextmanager
def _workspace(work_dir: Path | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(work_dir) if work_dir is not None else Path(tmp)
        shutil.rmtree(root, ignore_errors=True)
        (root / "python").mkdir(parents=True)
        yield root


def _package(root: Path, out: Path) -> Layer:
    """Compile ``root/python`` and zip it to ``out`` (sorted entries, fixed dates)."""
    target = root / "python"
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: not importable
    installed = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in importlib.metadata.distributions(path=[str(target)])
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j0",
            "--invalidation-mode",
            "unchecked-hash",
            str(target),
        ],
        check=True,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    files = size = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        entries = {p.relative_to(root).as_posix(): p for p in target.rglob("*") if p.is_file()}
        for name, path in sorted(entries.items()):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            data = path.read_bytes()
            zf.writestr(info, data)
            files += 1
            size += len(data)
    return Layer(out, out.stat().st_size, files, size, installed)


# --- the lock -----------------------------------------------------------------------------------


def _pyproject() -> str:
    return (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def runtime_requirements() -> list[str]:
    """``[project] dependencies`` of pyproject.toml (read without tomllib: Python 3.10 too)."""
    block = re.search(r"^dependencies = \[(.*?)^\]", _pyproject(), re.S | re.M)
    if block is None:
        raise BuildError("pyproject.toml has no [project] dependencies list")
    return re.findall(r'"([^"]+)"', block.group(1))


def check_python(here: tuple[int, int] | None = None) -> None:
    """:class:`BuildError` when this interpreter (or Python ``here``) is older than
    pyproject.toml's ``requires-python`` (pip would only say that some pinned dependency has no
    such version)."""
    match = re.search(r'^requires-python = ">=(\d+)\.(\d+)"', _pyproject(), re.M)
    here = here or (sys.version_info[0], sys.version_info[1])
    if match is not None and here < (int(match[1]), int(match[2])):
        raise BuildError(
            f"cfinval requires Python >={match[1]}.{match[2]}, and {sys.executable} is Python "
            f"{here[0]}.{here[1]}: build with your Lambda runtime's Python, for example "
            "make layer PYTHON=python3.12"
        )


def supported_pythons() -> list[str]:
    """The Python versions pyproject.toml's classifiers name (``3.10``, ``3.11``, ...)."""
    found = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', _pyproject())
    return sorted(set(found), key=lambda v: tuple(int(p) for p in v.split(".")))


def _name(requirement: str) -> str:
    """The normalized project name of a requirement or pin (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _pins(lock: Path) -> dict[str, list[tuple[str, str]]]:
    """Each pinned name: its (``name==version``, marker) lines."""
    pins: dict[str, list[tuple[str, str]]] = {}
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            spec, _, marker = line.split(" --hash", 1)[0].partition(";")
            pins.setdefault(_name(spec), []).append((spec.strip(), marker.strip()))
    return pins


def _unpinned(lock: Path) -> list[str]:
    """The runtime requirements the lock pins nothing for on this Python."""
    if not lock.is_file():
        raise BuildError(f"{lock} does not exist: write it with {LOCK_COMMAND}, or use --resolve")
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    pins = _pins(lock)

    def applies(marker: str) -> bool:
        return not marker or f'python_version == "{here}"' in marker

    return [
        _name(req)
        for req in runtime_requirements()
        if not any(applies(marker) for _, marker in pins.get(_name(req), []))
    ]


def interpreter_for(version: str) -> str:
    """An interpreter of Python ``version``: this one, ``python3.X`` on PATH, or the newest
    pyenv install of it (as the Makefile finds them); :class:`BuildError` if there is none.
    pip evaluates environment markers (``python_version < "3.11"``) for the interpreter it runs
    on, whatever ``--python-version`` says, so each version is resolved by its own."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    installs = sorted(
        pyenv.glob(f"{version}.*/bin/python{version}"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)],
    )
    candidates.extend(str(p) for p in reversed(installs))
    for candidate in candidates:
        if candidate is None:
            continue
        done = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    raise BuildError(
        f"no Python {version} found to resolve the lock for (python{version} on PATH, or a "
        f"pyenv install); install one, or leave it out with --pythons"
    )


def resolve(requirements: Sequence[str], python: str) -> list[tuple[str, str, list[str]]]:
    """``(name, version, sha256 hashes)`` of what the pip of interpreter ``python`` installs
    for ``requirements`` (wheels only), from pip's own installation report."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        _pip(
            [
                *("install", "--quiet", "--dry-run", "--ignore-installed"),
                *("--only-binary", ":all:", "--target", str(Path(tmp) / "target")),
                *("--report", str(report), *requirements),
            ],
            f"resolving {' '.join(requirements)} with {python}",
            python,
        )
        data = json.loads(report.read_text(encoding="utf-8"))
    found = []
    for item in data["install"]:
        archive = item["download_info"].get("archive_info", {})
        digest = archive.get("hashes", {}).get("sha256")
        if digest is None and str(archive.get("hash", "")).startswith("sha256="):
            digest = archive["hash"].removeprefix("sha256=")  # pip < 23
        name = item["metadata"]["name"]
        if digest is None:
            raise BuildError(f"pip reported no sha256 for {name}")
        found.append((_name(name), item["metadata"]["version"], [digest]))
    return found


def write_lock(lock: Path = LOCK, pythons: Sequence[str] | None = None) -> str:
    """Resolve the runtime requirements for each Python in ``pythons`` (default: those the
    classifiers name) and write ``lock``; returns its text."""
    versions = list(pythons or supported_pythons())
    requirements = runtime_requirements()
    pinned: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    interpreters = {python: interpreter_for(python) for python in versions}
    for python, interpreter in interpreters.items():
        for name, version, hashes in resolve(requirements, interpreter):
            where, digests = pinned.setdefault((name, version), (set(), set()))
            where.add(python)
            digests.update(hashes)
    lines = [
        "# The runtime dependencies of the cfinval Lambda layer, each pinned with the SHA-256",
        "# of its wheel; `make layer` installs exactly these (pip --require-hashes, wheels only).",
        f"# Written by: {LOCK_COMMAND}",
        f"# from pyproject.toml's dependencies ({', '.join(requirements)})",
        f"# resolved by pip for Python {', '.join(versions)}.",
    ]
    for (name, version), (where, digests) in sorted(pinned.items()):
        marker = ""
        if set(versions) - where:
            ordered = sorted(where, key=lambda v: tuple(int(p) for p in v.split(".")))
            marker = " ; " + " or ".join(f'python_version == "{v}"' for v in ordered)
        lines.append(f"{name}=={version}{marker} \\")
        lines.extend(
            f"    --hash=sha256:{digest}" + (" \\" if i < len(digests) - 1 else "")
            for i, digest in enumerate(sorted(digests))
        )
    text = "\n".join(lines) + "\n"
    lock.write_text(text, encoding="utf-8")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the cfinval AWS Lambda layer zip.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--project", default=str(ROOT), help="what to install (default: this tree)")
    parser.add_argument("--lock", type=Path, default=LOCK, help="the pins (default: %(default)s)")
    parser.add_argument(
        "--resolve", action="store_true", help="no lock: whatever the index resolves today"
    )
    parser.add_argument(
        "--write-lock", action="store_true", help="resolve the dependencies again and write --lock"
    )
    parser.add_argument(
        "--pythons",
        help="with --write-lock: the versions to resolve for, comma-separated "
        "(default: the classifiers' 3.X versions)",
    )
    args = parser.parse_args(argv)
    try:
        if args.project == str(ROOT) and not args.write_lock:
            check_python()
        if args.write_lock:
            pythons = args.pythons.split(",") if args.pythons else None
            text = write_lock(args.lock.resolve(), pythons)
            pins = [line.split(" ")[0] for line in text.splitlines() if "==" in line]
            print(f"{args.lock}: {len(pins)} pins: {', '.join(pins)}")
            return 0
        if args.resolve:
            layer = build([args.project], args.out.resolve())
            source = "resolved today, not pinned (--resolve)"
        else:
            layer = build_locked(args.project, args.out.resolve(), args.lock.resolve())
            source = f"pinned with hashes in {args.lock} (pip --require-hashes)"
    except BuildError as exc:
        print(f"layer: {exc}", file=sys.stderr)
        return 1
    print(
        f"{layer.path}: {layer.zip_bytes / 1024:.0f} KiB zipped, {layer.files} files, "
        f"{layer.installed_bytes / 1024 / 1024:.1f} MiB unzipped "
        f"(python/ prefix, bytecode for Python {sys.version_info[0]}.{sys.version_info[1]})"
    )
    dependencies = [pin for pin in layer.installed if _name(pin) != "cfinval"]
    print(f"  dependencies, {source}:")
    for pin in dependencies:
        print(f"    {pin}")
    own = [pin for pin in layer.installed if _name(pin) == "cfinval"]
    print(f"  {', '.join(own) or 'cfinval'} from {args.project}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
