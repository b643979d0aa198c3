"""Build an AWS Lambda layer zip: cfinval and its runtime dependencies under ``python/``.

    python bench/layer.py                       # what `make layer` runs
    python bench/layer.py --out my-layer.zip

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
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = f"py{sys.version_info[0]}{sys.version_info[1]}"
DEFAULT_OUT = ROOT / "build" / f"cfinval-lambda-layer-{TAG}.zip"


class LayerError(Exception):
    """The layer cannot be built; the message says why."""


@dataclass
class Layer:
    path: Path
    zip_bytes: int
    files: int
    installed_bytes: int


def build(requirements: Sequence[str], out: Path, work_dir: Path | None = None) -> Layer:
    """Install ``requirements`` into ``python/`` and zip it to ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(work_dir) if work_dir is not None else Path(tmp)
        shutil.rmtree(root, ignore_errors=True)
        target = root / "python"
        target.mkdir(parents=True)
        pip = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--target",
                str(target),
                *requirements,
            ],
            check=False,
            stderr=subprocess.PIPE if os.environ.get("BENCH_QUIET_PIP", "1") == "1" else None,
            text=True,
        )
        if pip.returncode != 0:  # say why (a Python older than requires-python, no network...)
            said = (pip.stderr or "").strip().splitlines()
            errors = [line for line in said if line.startswith("ERROR")]
            reason = "\n".join(errors or said) or "see pip's output above"
            raise LayerError(
                f"pip could not install the layer for Python "
                f"{sys.version_info[0]}.{sys.version_info[1]} ({sys.executable}):\n{reason}"
            )
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: not importable
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
        files = installed = 0
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            entries = {p.relative_to(root).as_posix(): p for p in target.rglob("*") if p.is_file()}
            for name, path in sorted(entries.items()):
                info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                data = path.read_bytes()
                zf.writestr(info, data)
                files += 1
                installed += len(data)
    return Layer(out, out.stat().st_size, files, installed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the cfinval AWS Lambda layer zip.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--project", default=str(ROOT), help="what to install (default: this tree)")
    args = parser.parse_args(argv)
    try:
        layer = build([args.project], args.out.resolve())
    except LayerError as exc:
        print(f"make layer: {exc}", file=sys.stderr)
        return 1
    print(
        f"{layer.path}: {layer.zip_bytes / 1024:.0f} KiB zipped, {layer.files} files, "
        f"{layer.installed_bytes / 1024 / 1024:.1f} MiB unzipped "
        f"(python/ prefix, bytecode for Python {sys.version_info[0]}.{sys.version_info[1]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
