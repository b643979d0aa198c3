"""What PyPI users get: the sdist and the wheel built from this tree (``python -m build``,
offline: ``--no-isolation`` with the test extra's build and hatchling), their license and
metadata, and the sdist's own tests passing from the unpacked sdist. The build and the
sdist's test run are ``tests/sdist_job.py``, started in the background (``conftest.py``)."""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

import cfinval

from .conftest import BACKGROUND

ROOT = Path(cfinval.__file__).resolve().parent.parent
NAME = f"cfinval-{cfinval.__version__}"  # tests/test_cli.py checks it against pyproject.toml
DIST_INFO = f"{NAME}.dist-info"


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    """What ``tests/sdist_job.py`` did: build, unpack the sdist, run its tests (started in the
    background when collection ended: see ``BackgroundJob``)."""
    done, directory = BACKGROUND["sdist"].result(timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads((directory / "result.json").read_text())
    build = result["build"]
    assert build["returncode"] == 0, build["stdout"] + build["stderr"]
    return result


@pytest.fixture(scope="module")
def dists(built: dict[str, Any]) -> Dists:
    out = Path(built["dist"])
    return Dists(out / f"{NAME}.tar.gz", out / f"{NAME}-py3-none-any.whl")


def sdist_names(dists: Dists) -> set[str]:
    with tarfile.open(dists.sdist) as archive:
        return {name.removeprefix(f"{NAME}/") for name in archive.getnames()}


def metadata(text: str) -> Message:
    return Parser().parsestr(text)


def test_the_license_file_is_the_apache_2_0_text() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text


def test_sdist_carries_the_license_and_pep_639_metadata(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as archive:
        license_file = archive.extractfile(f"{NAME}/LICENSE")
        pkg_info = archive.extractfile(f"{NAME}/PKG-INFO")
        assert license_file is not None
        assert pkg_info is not None
        assert license_file.read() == (ROOT / "LICENSE").read_bytes()
        meta = metadata(pkg_info.read().decode())
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]


def test_wheel_carries_the_license_and_pep_639_metadata(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as archive:
        assert archive.read(f"{DIST_INFO}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
        meta = metadata(archive.read(f"{DIST_INFO}/METADATA").decode())
        names = archive.namelist()
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert all(name.startswith(("cfinval/", DIST_INFO)) for name in names), names
    assert "cfinval/py.typed" in names


def test_classifiers_name_each_python_the_matrix_runs_from_requires_python_on(
    dists: Dists,
) -> None:
    with zipfile.ZipFile(dists.wheel) as archive:
        meta = metadata(archive.read(f"{DIST_INFO}/METADATA").decode())
    classifiers = meta.get_all("Classifier") or []
    versions = sorted(
        (c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c)),
        key=lambda v: tuple(map(int, v.split("."))),
    )
    matrix = re.search(r"^MATRIX \?= (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert matrix is not None
    assert versions == matrix.group(1).split()
    assert meta["Requires-Python"] == f">={versions[0]}"
    assert any(c.startswith("Development Status :: ") for c in classifiers)


def test_sdist_ships_what_its_tests_use_and_no_local_state(dists: Dists) -> None:
    names = sdist_names(dists)
    for needed in (
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "Makefile",
        "tests/conftest.py",
        "fixtures/sigv4/aws4_testsuite/LICENSE",
        "fixtures/responses/list-truncated.xml",
        "bench/run.py",  # tests/test_bench.py
        "bench/layer.py",  # tests/test_layer.py
        "bench/layer.lock",  # make layer installs from it
        "bench/workers/cold_cfinval.py",
    ):
        assert needed in names, needed
    local = [n for n in names if re.search(r"(^|/)(\.venv[^/]*|__pycache__|_work|\.git)(/|$)", n)]
    assert local == []


def test_sdist_tests_pass_from_the_unpacked_sdist(built: dict[str, Any]) -> None:
    unpacked = Path(built["unpacked"])
    assert unpacked.name == NAME
    where = built["where"]
    assert where["returncode"] == 0, where["stderr"]
    assert Path(where["stdout"].strip()).is_relative_to(unpacked)
    done = built["tests"]
    summary = done["stdout"].strip().splitlines()[-1] if done["stdout"].strip() else ""
    assert done["returncode"] == 0, done["stdout"][-4000:] + done["stderr"][-2000:]
    assert re.search(r"\d+ passed", summary), summary
    assert "error" not in summary, summary


# Lower bounds past the published advisories (the fixed versions, from each advisory).
ADVISORY_FLOORS = {
    # GHSA-g6cj-pr64-35w5 / CVE-2026-69247 (PKCS#7 Bleichenbacher oracle): fixed in 50.0.0;
    # GHSA-537c-gmf6-5ccf (OpenSSL in the wheels): 48.0.1; CVE-2026-34073: 46.0.6.
    "cryptography": (50, 0, 0),
    # CVE-2025-9375 / GHSA-rqvm-6hhw-247j (unparse: markup in element names): 0.15.1.
    "xmltodict": (0, 15, 1),
    # CVE-2025-71176 / GHSA-6w46-j5rx-g56g (predictable /tmp/pytest-of-{user}): 9.0.3.
    "pytest": (9, 0, 3),
}


def test_every_lower_bound_is_past_the_published_advisories() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for name, fixed in ADVISORY_FLOORS.items():
        floors = re.findall(rf'"{name}>=([0-9.]+)', text)
        assert floors, name
        for floor in floors:  # every extra that names it
            assert tuple(int(p) for p in floor.split(".")) >= fixed, (name, floor)
