"""``make layer``: the Lambda layer zip imports and lists from a clean directory."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

from .conftest import BACKGROUND

ROOT = Path(__file__).resolve().parent.parent
TAG = f"cpython-{sys.version_info[0]}{sys.version_info[1]}"
RUNTIME = {"cfinval", "httpx", "httpcore", "h11", "anyio", "idna", "certifi", "attr", "attrs"}
NOT_RUNTIME = ("boto3", "botocore", "pytest", "_pytest", "respx", "hypothesis", "mypy", "ruff")


@pytest.fixture(scope="module")
def layer() -> Path:
    """The zip ``bench/layer.py --out DIR/layer.zip`` builds (started in the background when
    collection ends: see ``BackgroundJob``)."""
    done, directory = BACKGROUND["layer"].result(timeout=600)
    assert done.returncode == 0, done.stderr
    out = directory / "layer.zip"
    assert f"{out}: " in done.stdout  # it reports where and how big
    return out


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_layer_holds_the_runtime_closure_under_python(layer: Path) -> None:
    with zipfile.ZipFile(layer) as zf:
        names = zf.namelist()
    assert names
    assert all(name.startswith("python/") for name in names)
    top = {name.split("/")[1] for name in names}
    assert top >= RUNTIME
    assert "xmltodict.py" in top
    assert not [t for t in top if t.startswith(NOT_RUNTIME)]
    assert "bin" not in top
    assert f"python/cfinval/_drivers/__pycache__/sync.{TAG}.pyc" in names
    assert names == sorted(names)  # reproducible: sorted entries, fixed dates


def test_layer_lists_a_tenant_from_a_clean_interpreter(layer: Path, tmp_path: Path) -> None:
    opt = tmp_path / "opt"
    with zipfile.ZipFile(layer) as zf:
        zf.extractall(opt)
    before = snapshot(opt)
    fake = FakeCloudFront(seed=9)
    base = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    for minute in range(150):
        fake.add_invalidation("dt_layer", create_time=base + dt.timedelta(minutes=minute))
    # -I -S: no site-packages, no PYTHONPATH, no current directory; only the layer, as on Lambda.
    code = f"""
        import json, sys
        sys.path.insert(0, {str(opt / "python")!r})
        try:
            import boto3
        except ImportError:
            pass
        else:
            raise AssertionError("the interpreter is not clean")
        import attrs, cfinval, httpx, xmltodict
        for module in (attrs, cfinval, httpx, xmltodict):
            assert module.__file__.startswith(sys.path[0]), module.__file__
        client = cfinval.Client(endpoint_url=sys.argv[1])
        ids = [item.id for item in client.iter_invalidations("dt_layer", page_size=100)]
        print(json.dumps(ids))
    """
    empty = tmp_path / "cwd"
    empty.mkdir()
    with fake.serve() as server:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", textwrap.dedent(code), server.endpoint_url],
            cwd=empty,
            env={
                "PATH": os.environ.get("PATH", ""),
                "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS.access_key_id,
                "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS.secret_access_key,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [item.id for item in fake.listing("dt_layer")]
    assert len(fake.requests) == 2  # two pages, both signed and verified by the fake
    # Lambda's /opt is read-only: the bytecode in the zip must be used as it is, never rewritten.
    assert snapshot(opt) == before


_SIZE_LINE = re.compile(r"(\d+) KiB zipped, (\d+) files, ([\d.]+) MiB unzipped")


def test_the_readme_shows_the_layer_this_tree_builds() -> None:
    done, _ = BACKGROUND["layer"].result(timeout=600)
    built = _SIZE_LINE.search(done.stdout)
    assert built is not None, done.stdout
    readme = (ROOT / "README.md").read_text()
    (shown,) = [m for line in readme.splitlines() if (m := _SIZE_LINE.search(line))]
    kib, files, mib = (float(v) for v in shown.groups())
    # within 5% (the README's line is from one Python; dependency releases move it a little)
    assert abs(kib - float(built[1])) <= 0.05 * float(built[1]), (shown[0], built[0])
    assert abs(files - float(built[2])) <= 0.05 * float(built[2]), (shown[0], built[0])
    assert abs(mib - float(built[3])) <= 0.05 * float(built[3]), (shown[0], built[0])


def test_a_layer_pip_cannot_install_says_pips_reason(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "layer.py"),
            "--project",
            str(tmp_path / "no-such-project"),
            "--out",
            str(tmp_path / "layer.zip"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOME": str(tmp_path)},  # pip may write caches there
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("make layer: pip could not install the layer for Python ")
    assert "\nERROR: " in done.stderr  # pip's own reason
    assert not (tmp_path / "layer.zip").exists()
