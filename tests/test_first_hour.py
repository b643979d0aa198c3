"""The first hour of a user who already has AWS set up: another region configured (in the
environment or in ``~/.aws/config``) and proxy variables for the office network. ``make demo``,
the README's ``fake.serve()`` example and the fake server's "Try:" line work all the same, and
the tests themselves never read the real home."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

from .conftest import ROOT
from .test_fake_server import fake_server
from .test_readme import BLOCKS, explain

#: A dead port on this machine: a request sent through this "proxy" fails at once.
DEAD_PROXY = "http://127.0.0.1:9"


def user_env(home: Path, *, region_in_env: bool, http_proxy: bool) -> dict[str, str]:
    """A developer's environment: their own region, office proxies whose NO_PROXY names the
    intranet and localhost but not 127.0.0.1, and no AWS keys (the examples bring theirs)."""
    (home / ".aws").mkdir(parents=True, exist_ok=True)
    (home / ".aws" / "config").write_text("[default]\nregion = eu-central-1\noutput = json\n")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("AWS_", "PYTHON")) and k.lower() not in ("no_proxy",)
    }
    env.update(
        HOME=str(home),
        PYTHONPATH=str(ROOT),
        AWS_EC2_METADATA_DISABLED="true",
        HTTPS_PROXY=DEAD_PROXY,
        NO_PROXY="localhost,.corp.example",
    )
    if http_proxy:
        env["HTTP_PROXY"] = DEAD_PROXY
    if region_in_env:
        env["AWS_DEFAULT_REGION"] = "eu-west-1"
    return env


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("region_in_env", [True, False], ids=["AWS_DEFAULT_REGION", "profile"])
def test_make_demo_works_in_another_region_behind_proxies(
    tmp_path: Path, region_in_env: bool
) -> None:
    env = user_env(tmp_path, region_in_env=region_in_env, http_proxy=True)
    done = _run([sys.executable, "-m", "cfinval.testing.demo"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "23 invalidations in 3 pages; 3 signed requests verified by the fake." in done.stdout
    assert "A missing tenant raises EntityNotFound" in done.stdout


def test_the_readme_fake_serve_example_works_in_another_region(tmp_path: Path) -> None:
    (block,) = [
        b for b in BLOCKS if "with fake.serve() as server:" in b.code and "Fault" not in b.code
    ]
    script = tmp_path / "example.py"
    script.write_text(block.code)
    # HTTP_PROXY is not set: a default client, as boto3's, goes through it for 127.0.0.1 too
    env = user_env(tmp_path, region_in_env=True, http_proxy=False)
    done = _run([sys.executable, "-W", "error", str(script)], env, tmp_path)
    assert done.returncode == 0, explain(block, done)
    assert done.stdout == "['InProgress']\n", explain(block, done)


def test_the_fake_servers_try_line_works_in_another_region(tmp_path: Path) -> None:
    env = user_env(tmp_path, region_in_env=True, http_proxy=False)
    with fake_server("--tenants", "1") as (_url, lines):
        assert "  SigV4 verification: on (any region)\n" in lines
        try_line = lines[lines.index("Try:\n") + 1]
        argv = shlex.split(try_line)
        assert argv[0] == "cfinval"
        env.update(
            AWS_ACCESS_KEY_ID=FAKE_CREDENTIALS.access_key_id,
            AWS_SECRET_ACCESS_KEY=FAKE_CREDENTIALS.secret_access_key,
        )
        done = _run([sys.executable, "-m", "cfinval", *argv[1:]], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"InvalidationList"' in done.stdout


@pytest.mark.parametrize("region", ["eu-west-1", "cn-north-1", "us-gov-west-1", "xx-new-1"])
def test_the_fake_accepts_any_regions_signature_by_default(region: str) -> None:
    fake = FakeCloudFront()
    fake.add_invalidation("dt_1")
    with (
        fake.serve() as server,
        cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url, region=region) as c,
    ):
        assert len(c.list_invalidations_for_distribution_tenant(Id="dt_1").items) == 1
    assert f"/{region}/cloudfront/aws4_request" in fake.requests[0].headers["authorization"]


def test_a_fake_given_a_region_accepts_only_that_one() -> None:
    fake = FakeCloudFront(region="us-east-1")
    fake.add_invalidation("dt_1")
    with (
        fake.serve() as server,
        cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url, region="eu-west-1") as c,
        pytest.raises(cfinval.CloudFrontError) as refused,
    ):
        c.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert refused.value.code == "SignatureDoesNotMatch"
    assert "/us-east-1/cloudfront/aws4_request" in str(refused.value)


def test_a_scope_that_names_no_region_is_refused() -> None:
    fake = FakeCloudFront()
    fake.add_invalidation("dt_1")
    with fake.serve() as server:
        with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url) as c:
            c.list_invalidations_for_distribution_tenant(Id="dt_1")
        good = fake.requests[0]
        headers = dict(good.headers)
        headers["authorization"] = headers["authorization"].replace("/us-east-1/", "/no_region/")
        answer = httpx.get(server.endpoint_url + good.target, headers=headers)
    assert answer.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in answer.content
    assert b"scoped to a valid region" in answer.content


def test_tests_never_read_the_developers_aws_config(tmp_path: Path) -> None:
    # boto3's default session (a bare boto3.client()) is made when the tests start: from an
    # empty home, not from this developer's ~/.aws/config with its own region.
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[default]\nregion = eu-central-1\n")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("AWS_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    code = (
        "import tests.conftest, boto3\n"
        "c = boto3.client('cloudfront', endpoint_url='http://127.0.0.1:9',"
        " aws_access_key_id='AKID', aws_secret_access_key='s')\n"
        "print(c.meta.region_name)\n"
    )
    done = _run([sys.executable, "-c", code], env, ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "None\n"


def test_the_readme_chain_example_creates_the_profile_it_names(tmp_path: Path) -> None:
    # A user's own home, without an "audit" profile: the example still runs as written.
    (block,) = [b for b in BLOCKS if 'cfinval.Client(profile="audit")' in b.code]
    script = tmp_path / "example.py"
    script.write_text(block.code)
    env = user_env(tmp_path, region_in_env=False, http_proxy=False)
    done = _run([sys.executable, "-W", "error", str(script)], env, tmp_path)
    assert done.returncode == 0, explain(block, done)
