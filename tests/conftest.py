"""Shared test helpers: recorded responses, the boto3 oracle, fixed credentials."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Deterministic property tests: a CI run must not fail on an example no earlier run tried.
settings.register_profile("cfinval", derandomize=True, database=None)
settings.load_profile("cfinval")


def _import_botocore_first() -> None:
    """Load the real botocore (and a boto3 client's modules) before any test imports awscli.

    awscli >= 1.44 installs an import hook that serves *later* ``botocore.*`` imports from its
    own bundled copy; a test that imported ``botocore.retries.standard`` after that would get
    awscli's module, with its own exception classes, and compare against the wrong oracle.
    """
    # Imported for their side effect: the real modules are in sys.modules from now on.
    import boto3
    import botocore.auth
    import botocore.awsrequest
    import botocore.config
    import botocore.credentials
    import botocore.exceptions
    import botocore.paginate
    import botocore.retryhandler
    import botocore.session
    import botocore.translate  # noqa: F401
    from botocore.retries import adaptive, bucket, quota, standard, throttling  # noqa: F401

    # boto3's default session (what a bare boto3.client() uses) reads the AWS files once, when
    # it is created, here: from an empty HOME, never the developer's ~/.aws (tests make their
    # own sessions, boto3_session(), when they need files).
    saved = dict(os.environ)
    try:
        for name in [name for name in os.environ if name.upper().startswith("AWS_")]:
            del os.environ[name]
        with tempfile.TemporaryDirectory() as empty:
            os.environ["HOME"] = empty
            os.environ["BOTO_CONFIG"] = os.path.join(empty, "no-boto-config")
            boto3.setup_default_session()
            assert boto3.DEFAULT_SESSION is not None
            boto3.DEFAULT_SESSION._session.get_scoped_config()  # loaded now, from here
            boto3.client(
                "cloudfront",
                region_name="us-east-1",
                aws_access_key_id="AKIDWARMUP",
                aws_secret_access_key="warm-up",
            ).get_paginator("list_invalidations_for_distribution_tenant")
    finally:
        os.environ.clear()
        os.environ.update(saved)


_import_botocore_first()

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
RESPONSES = FIXTURES / "responses"


def response_bytes(name: str) -> bytes:
    return (RESPONSES / name).read_bytes()


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def boto3_call(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    """What boto3's listing returns (or raises) for these response bytes: the oracle."""
    params.setdefault("Id", "dt_1")
    return boto3_answer(
        "list_invalidations_for_distribution_tenant", body, status, headers, **params
    )


def boto3_answer(
    operation: str,
    body: bytes,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """What boto3's ``operation`` returns (or raises) for these response bytes: the oracle for
    parsing any operation."""
    import boto3
    import botocore.config
    from botocore.awsrequest import AWSResponse

    client = boto3.client(
        "cloudfront",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="oracle-secret",
        config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, status, headers or {}, _Raw(body))  # type: ignore[arg-type]

    client.meta.events.register("before-send.cloudfront.*", answer)
    result: dict[str, Any] = getattr(client, operation)(**params)
    return result


class Home:
    """A temporary HOME with helpers to write ``~/.aws/config`` and ``~/.aws/credentials``."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        self.aws = path / ".aws"
        self.aws.mkdir(parents=True)
        self._mp = monkeypatch

    def config(self, text: str) -> Path:
        target = self.aws / "config"
        target.write_text(text)
        return target

    def credentials(self, text: str) -> Path:
        target = self.aws / "credentials"
        target.write_text(text)
        return target

    def file(self, name: str, text: str) -> Path:
        target = self.path / name
        target.write_text(text)
        return target

    def env(self, **values: str) -> None:
        for name, value in values.items():
            self._mp.setenv(name, value)


_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
# Where trust anchors and cfinval's CA cache come from: the tests decide.
_TLS_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "XDG_CACHE_HOME", "CFINVAL_CA_CACHE")


@pytest.fixture(scope="session")
def empty_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HOME of every test that does not ask for its own (the ``home`` fixture): one empty
    directory for the session rather than a temporary directory per test."""
    return tmp_path_factory.mktemp("empty-home")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, empty_home: Path) -> Iterator[None]:
    """Every test starts with no AWS configuration at all: no AWS_* variables, an empty HOME,
    no proxies, no TLS variables (certifi's roots, a CA cache under the empty HOME), and the
    instance metadata service disabled (tests that want it re-enable it)."""
    for name in list(os.environ):
        upper = name.upper()
        if (
            upper.startswith("AWS_")
            or upper in ("BOTO_CONFIG", *_TLS_VARS)
            or name.lower() in _PROXY_VARS
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(empty_home))
    monkeypatch.setenv("BOTO_CONFIG", str(empty_home / "no-boto-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield
    left = sorted(p.name for p in empty_home.iterdir())
    for path in empty_home.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    # cfinval's own CA cache (~/.cache/cfinval) may appear with HTTPS: removed like the rest
    written = [name for name in left if name != ".cache"]
    assert not written, f"the test wrote {written} into the shared empty HOME: use home"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """A HOME of the test's own, to write AWS files into."""
    home = Home(tmp_path / "home", monkeypatch)
    monkeypatch.setenv("HOME", str(home.path))
    monkeypatch.setenv("BOTO_CONFIG", str(tmp_path / "no-boto-config"))
    return home


# --- slow subprocesses, started while the other tests run ---------------------------------------


def _clean_env(home: Path) -> dict[str, str]:
    """The process environment without AWS configuration or proxies (as clean_environment
    leaves it for a test), this source tree first on the path and ``home`` as HOME."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("AWS_")
        and name.upper() != "BOTO_CONFIG"
        and name.lower() not in _PROXY_VARS
    }
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), AWS_EC2_METADATA_DISABLED="true")
    return env


class BackgroundJob:
    """A slow subprocess one test file needs (the Lambda layer build, the benchmark's smoke
    run, building the sdist and running its tests). It starts as soon as collection ends if
    a test of that file was selected, so that it runs on the other core while the other tests
    do; that file's tests run last and only collect the result. It runs in a directory of its
    own, given as ``argv(directory)``."""

    def __init__(self, test_file: str, argv: Callable[[Path], list[str]]) -> None:
        self.test_file = test_file
        self._argv = argv
        self._process: subprocess.Popen[str] | None = None
        self._result: subprocess.CompletedProcess[str] | None = None
        self.directory: Path | None = None

    def start(self) -> None:
        if self._process is None:
            self.directory = Path(tempfile.mkdtemp(prefix="cfinval-test-job-"))
            (self.directory / "home").mkdir()
            self._process = subprocess.Popen(
                self._argv(self.directory),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_clean_env(self.directory / "home"),
                # A lower priority: it takes the core the tests leave idle, not theirs (some
                # tests run their own server processes, or time a deadline).
                preexec_fn=(lambda: os.nice(10)) if hasattr(os, "nice") else None,
            )

    def result(self, timeout: float) -> tuple[subprocess.CompletedProcess[str], Path]:
        """Its exit code and output (starting it now if it was not), and its directory."""
        self.start()
        assert self._process is not None
        assert self.directory is not None
        if self._result is None:
            out, err = self._process.communicate(timeout=timeout)
            self._result = subprocess.CompletedProcess(
                self._process.args, self._process.returncode, out, err
            )
        return self._result, self.directory

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.communicate()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


BACKGROUND = {
    "layer": BackgroundJob(
        "test_layer.py",
        lambda d: [sys.executable, str(ROOT / "bench" / "layer.py"), "--out", str(d / "layer.zip")],
    ),
    "bench": BackgroundJob(
        "test_bench.py",
        lambda d: [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--smoke",
            "--out",
            str(d / "RESULTS.md"),
            "--work",
            str(d / "work"),
        ],
    ),
    "sdist": BackgroundJob(
        "test_packaging.py",
        lambda d: [sys.executable, str(ROOT / "tests" / "sdist_job.py"), str(d)],
    ),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that collect a background job's result run last, when it is likely done."""
    waiting = {job.test_file for job in BACKGROUND.values()}
    items.sort(key=lambda item: item.path.name in waiting)  # stable: the order is kept


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly or os.environ.get("PYTEST_XDIST_WORKER"):
        # Under pytest-xdist every worker collects every test: each job starts on first use
        # instead, in the one worker that runs its file (make test distributes by file).
        return
    selected = {item.path.name for item in session.items}
    for job in BACKGROUND.values():
        if job.test_file in selected:
            job.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    for job in BACKGROUND.values():
        job.close()
