"""Every ```python block of README.md runs as written, against the embedded fake CloudFront.

How it works
------------
Each block (a fence line that is exactly ```python; ```sh, ```console, ```text and bare ```
fences are not run) is written to its own file and run as a script (``__main__``) by this
interpreter in a fresh subprocess, so blocks share nothing and cannot change this process's
state (logging, event loops, environment). A block passes when it exits 0 within
``BLOCK_TIMEOUT`` seconds with no warning (``-W error``; only ``ResourceWarning`` is
ignored, because a module-level client left open until exit is the recommended Lambda
pattern). Blocks are also checked as a whole
for undefined names (ruff's F821-F823), which catches names used only inside functions that
the block defines but does not call.

What a block gets (as a user who exported AWS settings would)
------------------------------------------------------------
* ``AWS_ENDPOINT_URL_CLOUDFRONT``: a ``cfinval.testing`` fake on 127.0.0.1, seeded with
  :data:`TENANTS` (SigV4 checked against ``FAKE_CREDENTIALS``); ``AWS_EC2_METADATA_DISABLED``.
* ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``: ``cfinval.testing.FAKE_CREDENTIALS``;
  ``AWS_DEFAULT_REGION=us-east-1``; no other ``AWS_*`` variable from the outside.
* ``HOME``: an empty temporary home with ``~/.aws/config`` and ``~/.aws/credentials`` holding
  the ``default`` profile and a profile ``audit`` (the same fake credentials); it is also the
  working directory, so a block may write files there.
* ``PYTHONPATH``: this checkout, so ``import cfinval`` is the code under test.

Writing a README block (for whoever adds a section)
---------------------------------------------------
Make it self-contained: its own imports, its own ``client = cfinval.Client()``, concrete
tenant Ids from :data:`TENANTS`, all of distribution :data:`DISTRIBUTION_ID`
(``dt_2wjDZi3hD1ivOXf6rpZJOSNE1AN`` has invalidations, ``dt_locked`` answers AccessDenied,
any other Id EntityNotFound). No top-level ``await``
(wrap it in ``async def main()`` and ``asyncio.run(main())``), nothing that runs forever or
sleeps for long. A block that needs a real AWS account or is only an illustration belongs in
```sh / ```text / ```console instead. Seed more tenants in :data:`TENANTS` if a block needs
them. Run just these tests with ``pytest tests/test_readme.py``; a failure prints the block's
README line, its output and its error.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, Fault

ROOT = Path(cfinval.__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK_TIMEOUT = 60.0

#: The tenants the README's blocks use: Id -> [(invalidation Id, status, minutes after base)].
TENANTS: dict[str, list[tuple[str, str, int]]] = {
    "dt_2wjDZi3hD1ivOXf6rpZJOSNE1AN": [
        ("I2J0I21PCUYOIK", "Completed", 0),
        ("I3AF7BDRZXBYCU", "Completed", 5),
        ("I1VSX4BCQSAFP9", "Completed", 9),
    ],
    "dt_2abcEXAMPLE": [("I2EXAMPLE", "Completed", 0)],
}
#: The multi-tenant distribution the tenants of :data:`TENANTS` belong to.
DISTRIBUTION_ID = "EDFDVBD632BHDS5"
#: Tenants that answer 403 AccessDenied.
LOCKED_TENANTS = ("dt_locked",)
#: The deploy step's distribution and its tenants, without invalidations: its blocks create
#: invalidations there, away from :data:`TENANTS` (whose waiting blocks wait for what is in
#: progress).
DEPLOY_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "EDFDVBD6EXAMPLE": ("dt_2shopEXAMPLE", "dt_2blogEXAMPLE", "dt_2docsEXAMPLE"),
}
BASE_TIME = dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Block:
    line: int  # README line of the ```python fence
    heading: str  # the nearest heading above it
    code: str

    @property
    def name(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"L{self.line}-{slug}"


def python_blocks(text: str) -> list[Block]:
    """The ```python blocks of a Markdown text, with their line and heading."""
    blocks: list[Block] = []
    heading = "top"
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#") and not line.startswith("#!"):
            heading = line.lstrip("#").strip()
        elif line.startswith("```"):
            end = index + 1
            while end < len(lines) and lines[end].rstrip() != "```":
                end += 1
            if line.rstrip() == "```python":
                blocks.append(Block(index + 1, heading, "\n".join(lines[index + 1 : end]) + "\n"))
            index = end
        index += 1
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def seeded_fake() -> FakeCloudFront:
    # Created invalidations complete at their first Get: waiting blocks never sleep.
    fake = FakeCloudFront(complete_after_gets=0)
    for tenant_id, items in TENANTS.items():
        fake.add_tenant(tenant_id, distribution_id=DISTRIBUTION_ID)
        for invalidation_id, status, minutes in items:
            created = BASE_TIME + dt.timedelta(minutes=minutes)
            fake.add_invalidation(tenant_id, invalidation_id, create_time=created, status=status)
    for tenant_id in LOCKED_TENANTS:
        fake.add_tenant(tenant_id, access_denied=True)
    for distribution_id, tenant_ids in DEPLOY_DISTRIBUTIONS.items():
        for tenant_id in tenant_ids:
            fake.add_tenant(tenant_id, distribution_id=distribution_id)
    return fake


def block_env(home: Path, endpoint_url: str) -> dict[str, str]:
    """The environment a block runs in (see the module docstring)."""
    aws = home / ".aws"
    aws.mkdir(parents=True, exist_ok=True)
    key, secret = FAKE_CREDENTIALS.access_key_id, FAKE_CREDENTIALS.secret_access_key
    (aws / "config").write_text(
        "[default]\nregion = us-east-1\n\n[profile audit]\nregion = us-east-1\n"
    )
    (aws / "credentials").write_text(
        "".join(
            f"[{name}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n"
            for name in ("default", "audit")
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_", "PYTHON"))}
    env.update(
        HOME=str(home),
        PYTHONPATH=str(ROOT),
        AWS_ENDPOINT_URL_CLOUDFRONT=endpoint_url,
        AWS_ACCESS_KEY_ID=key,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def run_block(block: Block, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = home / f"readme_{block.name}.py"
    script.write_text(block.code, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-W", "error", "-W", "ignore::ResourceWarning", str(script)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
        check=False,
    )


def explain(block: Block, done: subprocess.CompletedProcess[str]) -> str:
    return (
        f"README.md line {block.line} ({block.heading}) exited {done.returncode}\n"
        f"--- block ---\n{block.code}--- stdout ---\n{done.stdout}--- stderr ---\n{done.stderr}"
    )


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    with seeded_fake().serve() as server:
        yield server.endpoint_url


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_readme_block_runs_as_written(block: Block, fake_url: str, tmp_path: Path) -> None:
    done = run_block(block, tmp_path, block_env(tmp_path, fake_url))
    assert done.returncode == 0, explain(block, done)


def test_no_readme_block_uses_an_undefined_name(tmp_path: Path) -> None:
    for block in BLOCKS:
        (tmp_path / f"readme_{block.name.replace('-', '_')}.py").write_text(block.code)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--no-cache",
            "--output-format",
            "concise",
            "--select",
            "F821,F822,F823",
            ".",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_python_fence_of_the_readme_is_collected() -> None:
    fences = [line for line in README.read_text().splitlines() if line.rstrip() == "```python"]
    assert len(BLOCKS) == len(fences) > 0
    assert all(block.code.strip() for block in BLOCKS)


def test_list_many_example_reports_tenants_that_fail_on_the_network(tmp_path: Path) -> None:
    # TransportError has no .code: the example must still print every tenant's outcome.
    (block,) = [block for block in BLOCKS if "list_many(" in block.code]
    fake = seeded_fake()
    fake.add_fault(Fault.reset(), every=1)
    with fake.serve() as server:
        env = block_env(tmp_path, server.endpoint_url)
        env["AWS_MAX_ATTEMPTS"] = "1"
        done = run_block(block, tmp_path, env)
    assert done.returncode == 0, explain(block, done)
    assert "TransportError" in done.stdout, explain(block, done)
