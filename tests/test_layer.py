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
from typing import Any

import pytest

from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

from .conftest import BACKGROUND, _clean_env

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


# --- the lock: pinned with hashes, current, and enforced -----------------------------------------

LOCK = ROOT / "bench" / "layer.lock"


def _layer_module() -> Any:
    """bench/layer.py, imported from its file."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "cfinval_bench_layer", ROOT / "bench" / "layer.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_pins_every_dependency_with_a_hash_for_every_supported_python() -> None:
    layer_py = _layer_module()
    text = LOCK.read_text()
    entries = re.findall(
        r"^(\S+)==(\S+)(?: ; ([^\\\n]*))? \\\n((?:\s+--hash=\S+(?: \\)?\n)+)", text, re.M
    )
    assert entries
    for _name, _version, _marker, hashes in entries:
        assert re.fullmatch(r"(\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+", hashes)
    # every line that names a package is one of those entries (nothing unpinned, no URL)
    named = [line for line in text.splitlines() if line and not line.startswith(("#", " "))]
    assert len(named) == len(entries)
    # written from today's pyproject.toml: a raised floor means writing the lock again
    requirements = layer_py.runtime_requirements()
    assert f"from pyproject.toml's dependencies ({', '.join(requirements)})" in text
    pythons = layer_py.supported_pythons()
    assert f"resolved by pip for Python {', '.join(pythons)}." in text
    for python in pythons:
        pinned = {
            _normal(name)
            for name, _v, marker, _h in entries
            if not marker or f'python_version == "{python}"' in marker
        }
        assert {_normal(re.split(r"[<>=!~ ;]", r)[0]) for r in requirements} <= pinned
        assert {"h11", "httpcore", "anyio", "idna", "certifi"} <= pinned  # the closure


def test_the_layer_holds_exactly_what_the_lock_pins_and_says_so(layer: Path) -> None:
    done, _directory = BACKGROUND["layer"].result(timeout=600)
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    expected = {
        _normal(name): version
        for name, version, marker in re.findall(
            r"^(\S+)==(\S+)(?: ; ([^\\\n]*))? \\$", LOCK.read_text(), re.M
        )
        if not marker or f'python_version == "{here}"' in marker
    }
    with zipfile.ZipFile(layer) as zf:
        dist_infos = {n.split("/")[1] for n in zf.namelist() if ".dist-info/" in n}
    shipped = {}
    for info in dist_infos:
        name, version = info.removesuffix(".dist-info").rsplit("-", 1)
        shipped[_normal(name)] = version
    assert shipped.pop("cfinval") == cfinval_version()
    assert shipped == expected
    assert "pinned with hashes in" in done.stdout
    for name, version in expected.items():
        assert re.search(
            rf"^    {name.replace('-', '[-_]')}=={re.escape(version)}$", done.stdout, re.M | re.I
        ), (name, done.stdout)


def cfinval_version() -> str:
    from cfinval import __version__

    return __version__


def test_a_download_that_does_not_match_its_hash_stops_the_build(tmp_path: Path) -> None:
    tampered = tmp_path / "layer.lock"
    text = LOCK.read_text()
    xmltodict_hash = re.search(r"^xmltodict==\S+ \\\n\s+--hash=sha256:([0-9a-f]{64})", text, re.M)
    assert xmltodict_hash is not None
    tampered.write_text(text.replace(xmltodict_hash.group(1), "0" * 64))
    out = tmp_path / "layer.zip"
    (tmp_path / "home").mkdir()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "layer.py"),
            "--lock",
            str(tampered),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_env(tmp_path / "home"),  # pip may write under HOME
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"layer: installing the dependencies pinned in {tampered} failed")
    assert "DO NOT MATCH THE HASHES" in done.stderr  # pip's own reason, not hidden
    assert "0" * 64 in done.stderr
    assert not out.exists()


def test_a_lock_without_this_python_says_how_to_renew_it(tmp_path: Path) -> None:
    layer_py = _layer_module()
    partial = tmp_path / "layer.lock"
    partial.write_text(
        'httpx==0.28.1 ; python_version == "2.7" \\\n    --hash=sha256:' + "a" * 64 + "\n"
    )
    with pytest.raises(
        layer_py.BuildError, match=r"pins nothing for httpx, xmltodict, attrs .*--write-lock"
    ):
        layer_py.build_locked(str(ROOT), tmp_path / "layer.zip", partial)


_SIZE_LINE = re.compile(r"(\d+) KiB zipped, (\d+) files, ([\d.]+) MiB unzipped")


def test_the_readme_shows_the_layer_this_tree_builds() -> None:
    readme = (ROOT / "README.md").read_text()
    (line,) = [line for line in readme.splitlines() if _SIZE_LINE.search(line)]
    tag = re.search(r"cfinval-lambda-layer-py(\d)(\d+)\.zip", line)
    assert tag is not None, line
    if (int(tag[1]), int(tag[2])) != sys.version_info[:2]:
        pytest.skip(f"the README's layer line is for Python {tag[1]}.{tag[2]} (make matrix)")
    done, _ = BACKGROUND["layer"].result(timeout=600)
    built = _SIZE_LINE.search(done.stdout)
    assert built is not None, done.stdout
    shown = _SIZE_LINE.search(line)
    assert shown is not None
    kib, files, mib = (float(v) for v in shown.groups())
    # within 5% (the README's line is from one Python; dependency releases move it a little)
    assert abs(kib - float(built[1])) <= 0.05 * float(built[1]), (shown[0], built[0])
    assert abs(files - float(built[2])) <= 0.05 * float(built[2]), (shown[0], built[0])
    assert abs(mib - float(built[3])) <= 0.05 * float(built[3]), (shown[0], built[0])


def test_a_python_older_than_requires_python_is_named_before_pip_runs() -> None:
    layer_py = _layer_module()
    with pytest.raises(layer_py.BuildError) as caught:
        layer_py.check_python((3, 9))
    assert str(caught.value) == (
        f"cfinval requires Python >=3.10, and {sys.executable} is Python 3.9: build with your "
        "Lambda runtime's Python, for example make layer PYTHON=python3.12"
    )
    layer_py.check_python()  # this interpreter is new enough
