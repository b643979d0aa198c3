"""TLS end to end: the fake served over HTTPS, CA bundles (loaded only when TLS is used), the
CLI's --ca-bundle / --no-verify-ssl, and an HTTPS endpoint through a CONNECT proxy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

import cfinval
from cfinval._drivers.transport import UNVERIFIED_WARNING
from cfinval.testing import FakeCloudFront, FakeServer

from ._local_aws import FakeSTS, Stub, list_once
from .drivers import LISTERS, list_sync
from .process import ROOT, run_cfinval, run_main
from .proxy import LoopbackProxy
from .tls import TlsFiles, make_tls_files

OP = "list-invalidations-for-distribution-tenant"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def fake() -> FakeCloudFront:
    fake = FakeCloudFront(seed=7)
    fake.add_invalidation("dt_1", status="InProgress")
    return fake


@pytest.fixture
def https(fake: FakeCloudFront, tls: TlsFiles) -> Iterator[FakeServer]:
    with fake.serve(ssl_certfile=tls.cert, ssl_keyfile=tls.key) as server:
        yield server


@pytest.fixture
def http(fake: FakeCloudFront) -> Iterator[FakeServer]:
    with fake.serve() as server:
        yield server


# --- the fake over HTTPS, verified against the test CA ------------------------------------------


@pytest.mark.parametrize("lister", LISTERS)
def test_listing_over_https_verified_with_aws_ca_bundle(
    lister: object, https: FakeServer, tls: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert https.endpoint_url.startswith("https://127.0.0.1:")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls.ca))
    assert callable(lister)
    page = lister(https.endpoint_url)
    assert [item.status for item in page.items] == ["InProgress"]


def test_listing_over_https_verified_with_the_profiles_ca_bundle(
    https: FakeServer, tls: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text(f"[default]\nca_bundle = {tls.ca}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert len(list_sync(https.endpoint_url).items) == 1


def test_a_certificate_file_holding_its_key_serves_https(
    fake: FakeCloudFront, tls: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls.ca))
    with fake.serve(ssl_certfile=str(tls.combined)) as server:
        assert len(list_sync(server.endpoint_url).items) == 1


def test_a_server_the_ca_bundle_does_not_vouch_for_is_refused(
    https: FakeServer, fake: FakeCloudFront
) -> None:
    with pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        list_sync(https.endpoint_url)  # httpx's default certificates: no test CA there
    assert fake.requests == []


def test_serve_refuses_a_key_without_a_certificate(fake: FakeCloudFront, tls: TlsFiles) -> None:
    with pytest.raises(ValueError, match="ssl_keyfile needs ssl_certfile"):
        fake.serve(ssl_keyfile=tls.key)


def test_serve_reports_unloadable_certificate_files(fake: FakeCloudFront, tls: TlsFiles) -> None:
    with pytest.raises(OSError):  # noqa: PT011 (ssl.SSLError or FileNotFoundError: the stdlib's)
        fake.serve(ssl_certfile=tls.ca, ssl_keyfile=tls.key)  # the key is not the CA's


# --- a CA bundle is loaded only when TLS is used -------------------------------------------------


@pytest.mark.parametrize("lister", LISTERS)
@pytest.mark.parametrize("bundle", ["/nonexistent/ca.pem", "directory", "not-pem"])
def test_an_unusable_ca_bundle_does_not_stop_an_http_endpoint(
    lister: object,
    bundle: str,
    http: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", _bundle(bundle, tmp_path))
    assert callable(lister)
    assert len(lister(http.endpoint_url).items) == 1  # as boto3: no TLS, no bundle needed


def _bundle(kind: str, tmp_path: Path) -> str:
    if kind == "not-pem":
        path = tmp_path / "bundle.pem"
        path.write_text("not a certificate\n")
        return str(path)
    return str(tmp_path) if kind == "directory" else kind


@pytest.mark.parametrize("lister", LISTERS)
@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        ("/nonexistent/ca.pem", "the CA bundle /nonexistent/ca.pem (from AWS_CA_BUNDLE) does not"),
        ("not-pem", "(from AWS_CA_BUNDLE) holds no usable PEM certificates"),
    ],
)
def test_an_unusable_ca_bundle_is_a_config_error_for_https(
    lister: object,
    bundle: str,
    message: str,
    https: FakeServer,
    fake: FakeCloudFront,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", _bundle(bundle, tmp_path))
    assert callable(lister)
    with pytest.raises(cfinval.ConfigError, match="the CA bundle") as caught:
        lister(https.endpoint_url)
    assert message in str(caught.value)
    assert fake.requests == []


def test_a_config_file_path_that_is_a_directory_is_reported_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent"))
    with (
        cfinval.Client(endpoint_url="http://127.0.0.1:9") as client,
        pytest.raises(cfinval.NoCredentialsError) as caught,
    ):
        client.list_invalidations_for_distribution_tenant(Id="dt_1")
    text = str(caught.value)
    assert f"{tmp_path} (a directory, not a file)" in text
    assert f"{tmp_path / 'absent'} (no such file)" in text


# --- an HTTPS endpoint through a CONNECT proxy ---------------------------------------------------


@pytest.mark.parametrize("lister", LISTERS)
def test_https_proxy_tunnels_to_an_https_endpoint(
    lister: object, https: FakeServer, tls: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls.ca))
    with LoopbackProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("HTTP_PROXY", "socks5://unused:1080")  # http:// only: not consulted
        assert callable(lister)
        assert len(lister(https.endpoint_url).items) == 1
    assert proxy.seen == [("CONNECT", https.endpoint_url.removeprefix("https://"))]


# --- trust anchors: read lazily, the same as httpx's, and what overrides them -------------------


def _with_certifi(tls: TlsFiles, tmp_path: Path, extra: bytes = b"") -> Path:
    """certifi's bundle with the test CA appended (what the benchmark gives every SDK)."""
    import certifi

    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes() + tls.ca.read_bytes() + extra)
    return bundle


def _hashed_directories() -> list[Path]:
    return sorted((Path.home() / ".cache" / "cfinval").glob("ca*"))


@pytest.mark.parametrize("lister", LISTERS)
def test_a_ca_bundle_file_reaches_openssl_as_a_hashed_directory(
    lister: object,
    https: FakeServer,
    tls: TlsFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = _with_certifi(tls, tmp_path)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    assert callable(lister)
    assert len(lister(https.endpoint_url).items) == 1
    (directory,) = _hashed_directories()  # a file per certificate, named by its subject hash
    assert len(list(directory.iterdir())) == bundle.read_bytes().count(b"-----BEGIN CERTIFICATE")


def test_a_ca_bundle_holding_more_than_certificates_is_loaded_as_a_file(
    https: FakeServer, tls: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _with_certifi(tls, tmp_path, extra=tls.key.read_bytes())  # OpenSSL skips the key
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    assert len(list_sync(https.endpoint_url).items) == 1
    assert _hashed_directories() == []


def test_ssl_cert_file_is_trusted_as_httpx_trusts_it(
    https: FakeServer, tls: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(_with_certifi(tls, tmp_path)))
    assert len(list_sync(https.endpoint_url).items) == 1
    assert len(_hashed_directories()) == 1


def test_ssl_cert_dir_is_trusted_as_httpx_trusts_it(
    https: FakeServer, tls: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfinval._drivers.trust import hashed_directory

    directory = hashed_directory(str(tls.ca))  # any hashed directory (openssl rehash) does
    assert directory is not None
    monkeypatch.setenv("SSL_CERT_DIR", directory)
    assert len(list_sync(https.endpoint_url).items) == 1


def test_aws_ca_bundle_wins_over_ssl_cert_file(
    https: FakeServer, tls: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import certifi

    monkeypatch.setenv("SSL_CERT_FILE", str(_with_certifi(tls, tmp_path)))
    monkeypatch.setenv("AWS_CA_BUNDLE", certifi.where())  # without the test CA
    with pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        list_sync(https.endpoint_url)


def test_an_unusable_ssl_cert_file_is_a_config_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "absent.pem"))
    with pytest.raises(cfinval.ConfigError, match=r"absent\.pem \(from SSL_CERT_FILE\)"):
        list_sync("https://127.0.0.1:1")


def test_the_host_name_is_checked(
    fake: FakeCloudFront, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_tls_files(tmp_path, names=("other.test",))  # a good chain, for another host
    monkeypatch.setenv("AWS_CA_BUNDLE", str(other.ca))
    with (
        fake.serve(ssl_certfile=other.cert, ssl_keyfile=other.key) as server,
        pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        list_sync(server.endpoint_url)
    assert fake.requests == []


def test_a_custom_endpoint_by_host_name(
    https: FakeServer, fake: FakeCloudFront, tls: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls.ca))
    page = list_sync(https.endpoint_url.replace("127.0.0.1", "localhost"))
    assert len(page.items) == 1
    assert fake.requests[0].headers["host"].startswith("localhost:")


def test_a_tunnel_through_a_proxy_does_not_weaken_verification(
    https: FakeServer, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LoopbackProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            list_sync(https.endpoint_url)  # certifi's roots only: the test CA is unknown
    assert proxy.seen == [("CONNECT", https.endpoint_url.removeprefix("https://"))]
    assert fake.requests == []


# --- the command: --ca-bundle, --no-verify-ssl, fake-server over HTTPS ---------------------------


def test_cli_ca_bundle_verifies_and_overrides_aws_ca_bundle(
    https: FakeServer, tls: TlsFiles
) -> None:
    done = run_main(
        *(OP, "--id", "dt_1", "--endpoint-url", https.endpoint_url, "--output", "text"),
        *("--ca-bundle", str(tls.ca)),
        env={"AWS_CA_BUNDLE": "/nonexistent/ca.pem"},
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("ITEMS\t")


def test_cli_ca_bundle_that_does_not_exist_exits_255_in_one_line(https: FakeServer) -> None:
    done = run_main(
        OP, "--id", "dt_1", "--endpoint-url", https.endpoint_url, "--ca-bundle", "/nonexistent"
    )
    assert done.returncode == 255
    assert done.stderr.strip().splitlines() == [
        "the CA bundle /nonexistent (from --ca-bundle) does not exist"
    ]


def test_cli_no_verify_ssl_lists_and_prints_the_aws_cli_warning_once_per_host(
    https: FakeServer,
) -> None:
    done = run_cfinval(
        *(OP, "--id", "dt_1", "--endpoint-url", https.endpoint_url, "--output", "text"),
        *("--page-size", "1", "--no-verify-ssl", "--ca-bundle", "/nonexistent"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ITEMS\t")
    assert done.stderr.splitlines() == [
        "InsecureRequestWarning: " + UNVERIFIED_WARNING.format(host="127.0.0.1")
    ]
    assert UNVERIFIED_WARNING.format(host="127.0.0.1") == (
        "Unverified HTTPS request is being made to host '127.0.0.1'. Adding certificate "
        "verification is strongly advised. See: "
        "https://urllib3.readthedocs.io/en/latest/advanced-usage.html#tls-warnings"
    )


def test_cli_fake_server_serves_https(tls: TlsFiles) -> None:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "cfinval", "fake-server", "--tenants", "1"),
            *("--ssl-certfile", str(tls.cert), "--ssl-keyfile", str(tls.key)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        first = process.stdout.readline()
        assert first.startswith("cfinval fake CloudFront listening on https://127.0.0.1:"), (
            first + (process.stderr.read() if process.poll() is not None else "")
        )
        url = first.rsplit(" ", 1)[-1].strip()
        tenant = process.stdout.readline().split(": ")[-1].strip()
        done = run_cfinval(
            OP, "--id", tenant, "--endpoint-url", url, "--output", "text", "--ca-bundle", tls.ca
        )
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.splitlines()) == 5
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ssl-keyfile", "KEY"], "--ssl-keyfile needs --ssl-certfile"),
        (["--ssl-certfile", "CA", "--ssl-keyfile", "KEY"], "the private key in "),
    ],
)
def test_cli_fake_server_refuses_unloadable_certificates_with_252(
    args: list[str], message: str, tls: TlsFiles
) -> None:
    args = [{"KEY": str(tls.key), "CA": str(tls.ca)}.get(arg, arg) for arg in args]
    done = run_main("fake-server", *args)
    assert done.returncode == 252
    assert done.stdout == ""
    assert done.stderr.strip().splitlines()[0].startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1


# --- the CloudFront endpoint's TLS settings never reach the credential endpoints ----------------
# The AWS CLI passes --ca-bundle / --no-verify-ssl to the service client only; botocore's
# credential providers make their own clients (STS, SSO, sign-in: AWS_CA_BUNDLE or the
# profile's ca_bundle, else the default certificates). A TLS-intercepting proxy must not read
# AssumeRole (or an SSO refresh) because CloudFront's certificate was not checked.

SOURCE = cfinval.Credentials("AKIDSOURCE0000000001", "SECRET-source-5e2a")
ASSUMED = cfinval.Credentials("ASIAASSUMED000000001", "SECRET-assumed-9f1c", "TOKEN-assumed-77")
ROLE_ARN = "arn:aws:iam::123456789012:role/admin"


@pytest.fixture(scope="module")
def intercepting(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA nothing trusts: what a TLS-intercepting proxy presents."""
    return make_tls_files(tmp_path_factory.mktemp("intercepting"))


def _server_side(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    return context


@contextlib.contextmanager
def _role_setup(
    sts_files: TlsFiles, cloudfront_files: TlsFiles, tmp_path: Path
) -> Iterator[tuple[Stub, FakeCloudFront, str, dict[str, str]]]:
    """STS over HTTPS with ``sts_files``' certificate, CloudFront over HTTPS with
    ``cloudfront_files``', and a profile ``admin`` that assumes a role with static keys."""
    sts = FakeSTS()
    sts.callers[SOURCE.access_key_id] = SOURCE
    sts.role(ROLE_ARN, ASSUMED)
    fake = FakeCloudFront(credentials=[ASSUMED])
    fake.add_invalidation("dt_1")
    config = tmp_path / "config"
    config.write_text(
        f"[profile admin]\nrole_arn = {ROLE_ARN}\nsource_profile = src\n"
        f"[profile src]\naws_access_key_id = {SOURCE.access_key_id}\n"
        f"aws_secret_access_key = {SOURCE.secret_access_key}\n"
    )
    with (
        Stub(sts, tls=_server_side(sts_files)) as stub,
        fake.serve(ssl_certfile=cloudfront_files.cert, ssl_keyfile=cloudfront_files.key) as cf,
    ):
        sts.url = stub.url
        env = {
            "AWS_CONFIG_FILE": str(config),
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
            "AWS_ENDPOINT_URL_STS": stub.url,
        }
        yield stub, fake, cf.endpoint_url, env


def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sync driver's real sleeps (STS backoff after a failed handshake), recorded."""
    import cfinval._drivers.sync as sync_driver

    slept: list[float] = []
    fake_time = SimpleNamespace(sleep=slept.append, monotonic=time.monotonic, time=time.time)
    monkeypatch.setattr(sync_driver, "time", fake_time)
    return slept


def test_cli_no_verify_ssl_never_reaches_the_credential_endpoints(
    intercepting: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept = _no_sleep(monkeypatch)
    with _role_setup(intercepting, intercepting, tmp_path) as (stub, fake, url, env):
        done = run_main(
            *(OP, "--id", "dt_1", "--endpoint-url", url, "--profile", "admin"),
            "--no-verify-ssl",
            env=env,
        )
    assert done.returncode != 0, done.stdout
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr
    assert "AssumeRole" in done.stderr
    assert stub.requests == []  # the intercepting side never read the signed AssumeRole
    assert fake.requests == []
    assert len(slept) == 2  # STS's three attempts, as botocore retries an SSL error


def test_cli_no_verify_ssl_keeps_aws_ca_bundle_for_sts(
    tls: TlsFiles, intercepting: TlsFiles, tmp_path: Path
) -> None:
    with _role_setup(tls, intercepting, tmp_path) as (stub, fake, url, env):
        done = run_main(
            *(OP, "--id", "dt_1", "--endpoint-url", url, "--profile", "admin"),
            *("--no-verify-ssl", "--output", "text"),
            env={**env, "AWS_CA_BUNDLE": str(tls.ca)},
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ITEMS\t")
    assert len(stub.requests) == 1
    assert len(fake.requests) == 1


def test_cli_ca_bundle_applies_to_the_cloudfront_endpoint_only(
    tls: TlsFiles, intercepting: TlsFiles, tmp_path: Path
) -> None:
    # CloudFront's certificate is vouched for by --ca-bundle, STS's by AWS_CA_BUNDLE only
    with _role_setup(tls, intercepting, tmp_path) as (stub, fake, url, env):
        done = run_main(
            *(OP, "--id", "dt_1", "--endpoint-url", url, "--profile", "admin"),
            *("--ca-bundle", str(intercepting.ca), "--output", "text"),
            env={**env, "AWS_CA_BUNDLE": str(tls.ca)},
        )
    assert (done.returncode, done.stderr) == (0, "")
    assert len(stub.requests) == 1
    assert len(fake.requests) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_brought_unverified_http_client_serves_cloudfront_only(
    kind: str, intercepting: TlsFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``http_client=httpx.Client(verify=False)`` is botocore's ``Client(verify=False)``: the
    service's requests only; AssumeRole keeps verifying."""
    with _role_setup(intercepting, intercepting, tmp_path) as (stub, fake, url, env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)

        def call() -> None:
            if kind == "sync":
                http = httpx.Client(verify=False)  # noqa: S501 (what is tested)
                with (
                    http,
                    cfinval.Client(
                        profile="admin", endpoint_url=url, http_client=http, sleep=lambda _s: None
                    ) as client,
                ):
                    client.list_invalidations_for_distribution_tenant(Id="dt_1")
                return

            async def main() -> None:
                async def no_sleep(_s: float) -> None:
                    return None

                http = httpx.AsyncClient(verify=False)  # noqa: S501 (what is tested)
                async with (
                    http,
                    cfinval.AsyncClient(
                        profile="admin", endpoint_url=url, http_client=http, sleep=no_sleep
                    ) as client,
                ):
                    await client.list_invalidations_for_distribution_tenant(Id="dt_1")

            asyncio.run(main())

        with pytest.raises(cfinval.CredentialRetrievalError, match="CERTIFICATE_VERIFY_FAILED"):
            call()
    assert stub.requests == []
    assert fake.requests == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_brought_http_client_still_lets_verified_credentials_through(
    kind: str,
    tls: TlsFiles,
    intercepting: TlsFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trusted = ssl.create_default_context(cafile=intercepting.ca)  # CloudFront's only
    with _role_setup(tls, intercepting, tmp_path) as (stub, _fake, url, env):
        for name, value in {**env, "AWS_CA_BUNDLE": str(tls.ca)}.items():
            monkeypatch.setenv(name, value)
        if kind == "sync":
            with httpx.Client(verify=trusted) as http:
                page = list_once("sync", profile="admin", endpoint_url=url, http_client=http)
        else:

            async def main() -> cfinval.InvalidationList:
                async with (
                    httpx.AsyncClient(verify=trusted) as http,
                    cfinval.AsyncClient(
                        profile="admin", endpoint_url=url, http_client=http
                    ) as client,
                ):
                    return await client.list_invalidations_for_distribution_tenant(Id="dt_1")

            page = asyncio.run(main())
    assert len(page.items) == 1
    assert len(stub.requests) == 1
