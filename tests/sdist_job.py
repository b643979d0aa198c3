"""The slow half of ``tests/test_packaging.py``, run as a script in the background (see
``BackgroundJob`` in ``conftest.py``): ``python tests/sdist_job.py OUT``.

It builds the sdist and the wheel of this tree (``python -m build --no-isolation``: offline,
with the test extra's build and hatchling), unpacks the sdist, and runs the sdist's own tests
from there, as a user of the sdist would; it writes every outcome to ``OUT/result.json`` for
the tests to check. It asserts nothing itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Run from the unpacked sdist (a few seconds, not the whole suite): the public API, parsing
#: against fixtures/responses, SigV4 against the fixtures/sigv4 suites, the README's blocks
#: collected and checked, and the quick starts run against the sdist's own fake. Every test
#: module is still collected (imported), so one that needs a file the sdist lacks fails too.
SDIST_TESTS = (
    "test_exports",
    "test_models",
    "test_sigv4",
    "test_every_python_fence",
    "test_no_readme_block",
    "(test_readme_block_runs_as_written and quick)",
)


def _run(argv: list[str], **options: object) -> dict[str, object]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, **options)  # type: ignore[call-overload]
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def main(out: Path) -> dict[str, object]:
    dist = out / "dist"
    # No --sdist/--wheel: build makes the sdist, then the wheel from the unpacked sdist.
    result: dict[str, object] = {
        "dist": str(dist),
        "build": _run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)]
        ),
    }
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(sdists) != 1:
        return result
    with tarfile.open(sdists[0]) as archive:
        archive.extractall(out / "sdist", filter="data")
    unpacked = out / "sdist" / sdists[0].name.removesuffix(".tar.gz")
    result["unpacked"] = str(unpacked)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COV_"))}
    env["PYTHONPATH"] = str(unpacked)  # the sdist's cfinval, not this checkout's
    result["where"] = _run(
        [sys.executable, "-c", "import cfinval; print(cfinval.__file__)"], cwd=unpacked, env=env
    )
    result["tests"] = _run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov"),
            *("tests", "-k", " or ".join(SDIST_TESTS)),
        ],
        cwd=unpacked,
        env=env,
    )
    return result


if __name__ == "__main__":
    target = Path(sys.argv[1])
    (target / "result.json").write_text(json.dumps(main(target), indent=2))
