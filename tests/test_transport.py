"""The httpx clients cfinval creates: no TLS context for http:// endpoints, verified TLS with
httpx's trust anchors (read lazily) for https://, proxies honoured."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import socket
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import cfinval
from cfinval._drivers.transport import (
    _AsyncPlainHTTPTransport,
    _PlainHTTPTransport,
    new_async_client,
    new_sync_client,
)
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

from ._local_aws import list_once
from ._tls import ConnectProxy, Pki, https_fake, make_pki

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = httpx.Timeout(5.0)


@pytest.fixture
def verified_contexts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records every CA bundle loaded into a TLS context."""
    loaded: list[object] = []
    original: Callable[..., Any] = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> Any:
        loaded.append(args or kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    return loaded


@pytest.fixture
def fake() -> FakeCloudFront:
    fake = FakeCloudFront(seed=3)
    fake.add_invalidation("dt_1", status="InProgress")
    return fake


def test_sync_listing_from_an_http_endpoint_loads_no_ca_bundle(
    verified_contexts: list[object], fake: FakeCloudFront
) -> None:
    with (
        fake.serve() as server,
        cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url) as client,
    ):
        page = client.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert [item.status for item in page.items] == ["InProgress"]
    assert verified_contexts == []


def test_async_listing_from_an_http_endpoint_loads_no_ca_bundle(
    verified_contexts: list[object], fake: FakeCloudFront
) -> None:
    async def main() -> cfinval.InvalidationList:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, endpoint_url=server.endpoint_url
        ) as client:
            return await client.list_invalidations_for_distribution_tenant(Id="dt_1")

    with fake.serve() as server:
        page = asyncio.run(main())
    assert [item.status for item in page.items] == ["InProgress"]
    assert verified_contexts == []


def test_https_endpoints_get_certifi_as_a_hashed_directory(verified_contexts: list[object]) -> None:
    sync_client = new_sync_client("https", {"timeout": TIMEOUT})
    async_client = new_async_client("https", {"timeout": TIMEOUT})
    cache = Path.home() / ".cache" / "cfinval"
    (directory,) = cache.iterdir()
    assert verified_contexts == [(None, str(directory), None)] * 2  # capath: roots read lazily
    sync_client.close()
    asyncio.run(async_client.aclose())


def test_proxy_variables_keep_the_default_transport(
    verified_contexts: list[object], monkeypatch: pytest.MonkeyPatch, fake: FakeCloudFront
) -> None:
    # A proxy that refuses connections: honoured, it makes the request fail.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    with (
        fake.serve() as server,
        cfinval.Client(
            FAKE_CREDENTIALS, endpoint_url=server.endpoint_url, max_attempts=1
        ) as client,
        pytest.raises(cfinval.TransportError),
    ):
        client.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert fake.requests == []


@pytest.mark.parametrize("url", ["https://example.com/", "ftp://example.com/"])
def test_plain_transports_refuse_anything_but_http(url: str) -> None:
    with pytest.raises(httpx.UnsupportedProtocol, match="http:// only"):
        _PlainHTTPTransport().handle_request(httpx.Request("GET", url))

    async def send() -> None:
        await _AsyncPlainHTTPTransport().handle_async_request(httpx.Request("GET", url))

    with pytest.raises(httpx.UnsupportedProtocol, match="http:// only"):
        asyncio.run(send())


def closed_port() -> int:
    """A loopback port with nothing listening on it (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- what a cold start loads -------------------------------------------------------------------


def run_isolated(code: str, **env: str) -> None:
    """Run ``code`` in a fresh interpreter that sees this source tree."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_import_loads_neither_asyncio_nor_the_testing_package() -> None:
    run_isolated(
        """
        import sys
        import cfinval
        loaded = {"asyncio", "cfinval.testing", "http.server", "certifi"} & set(sys.modules)
        assert not loaded, loaded
        """
    )


def test_a_sync_listing_over_http_loads_no_asyncio_and_builds_no_tls_context(
    fake: FakeCloudFront,
) -> None:
    with fake.serve() as server:
        run_isolated(
            f"""
            import ssl
            import sys

            def refuse(*args, **kwargs):
                raise AssertionError("a CA bundle was loaded")

            ssl.SSLContext.load_verify_locations = refuse
            import cfinval
            client = cfinval.Client(endpoint_url={server.endpoint_url!r})
            page = client.list_invalidations_for_distribution_tenant(Id="dt_1")
            assert len(page.items) == 1
            assert "asyncio" not in sys.modules
            import gc
            assert not [o for o in gc.get_objects() if isinstance(o, ssl.SSLContext)]
            """,
            AWS_ACCESS_KEY_ID=FAKE_CREDENTIALS.access_key_id,
            AWS_SECRET_ACCESS_KEY=FAKE_CREDENTIALS.secret_access_key,
        )


class _SniffioLookups:
    """A meta path finder that counts the searches for ``sniffio`` (and finds nothing itself)."""

    def __init__(self) -> None:
        self.count = 0

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "sniffio":
            self.count += 1


def test_async_requests_do_not_search_for_sniffio_again_and_again(
    monkeypatch: pytest.MonkeyPatch, fake: FakeCloudFront
) -> None:
    installed = importlib.util.find_spec("sniffio") is not None
    lookups = _SniffioLookups()
    monkeypatch.setattr(sys, "meta_path", [lookups, *sys.meta_path])
    saved = sys.modules.pop("sniffio", None)
    try:

        async def main() -> None:
            async with cfinval.AsyncClient(
                FAKE_CREDENTIALS, endpoint_url=server.endpoint_url
            ) as client:
                for _ in range(3):
                    await client.list_invalidations_for_distribution_tenant(Id="dt_1")

        with fake.serve() as server:
            asyncio.run(main())
        assert len(fake.requests) == 3
        assert lookups.count <= 1  # without the workaround: about ten per request
        if installed:  # still importable
            importlib.import_module("sniffio")
        else:  # still not importable, as before
            with pytest.raises(ModuleNotFoundError):
                importlib.import_module("sniffio")
    finally:
        sys.modules.pop("sniffio", None)
        if saved is not None:
            sys.modules["sniffio"] = saved


# --- TLS on loopback: the trust anchors and what overrides them ---------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def list_from(kind: str, url: str) -> cfinval.InvalidationList:
    return list_once(kind, credentials=FAKE_CREDENTIALS, endpoint_url=url, max_attempts=1)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_by_default_only_certifis_roots_are_trusted(
    kind: str, pki: Pki, fake: FakeCloudFront
) -> None:
    with (
        https_fake(fake, pki) as url,
        pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        list_from(kind, url)
    assert fake.requests == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_aws_ca_bundle_is_trusted_through_a_hashed_directory(
    kind: str, pki: Pki, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(pki.bundle))
    with https_fake(fake, pki) as url:
        page = list_from(kind, url)
    assert [item.status for item in page.items] == ["InProgress"]
    (directory,) = (Path.home() / ".cache" / "cfinval").iterdir()
    assert len(list(directory.iterdir())) == pki.bundle.read_bytes().count(b"-----BEGIN CERT")


def test_a_bundle_holding_more_than_certificates_is_loaded_as_a_file(
    pki: Pki, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "with-a-key.pem"  # OpenSSL skips the key; cfinval leaves it to OpenSSL
    bundle.write_bytes(pki.bundle.read_bytes() + pki.key.read_bytes())
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    with https_fake(fake, pki) as url:
        assert list_from("sync", url).items
    assert not list((Path.home() / ".cache" / "cfinval").glob("ca*"))


def test_ssl_cert_file_is_honoured_as_httpx_does(
    pki: Pki, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.bundle))
    with https_fake(fake, pki) as url:
        assert list_from("sync", url).items


def test_ssl_cert_dir_is_honoured_as_httpx_does(
    pki: Pki, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "ca.pem").write_bytes(pki.ca.read_bytes())
    pki.openssl("rehash", str(tmp_path))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    with https_fake(fake, pki) as url:
        assert list_from("sync", url).items


def test_aws_ca_bundle_takes_precedence_over_ssl_cert_file(
    pki: Pki, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    import certifi

    monkeypatch.setenv("SSL_CERT_FILE", str(pki.bundle))
    monkeypatch.setenv("AWS_CA_BUNDLE", certifi.where())  # without the test CA
    with (
        https_fake(fake, pki) as url,
        pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        list_from("sync", url)


def test_the_host_name_is_checked(
    pki: Pki, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(pki.bundle))
    with (
        https_fake(fake, pki, cert=pki.wrong_name) as url,  # a good chain, for another host
        pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        list_from("sync", url)
    assert fake.requests == []


def test_a_custom_endpoint_by_host_name(
    pki: Pki, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(pki.bundle))
    with https_fake(fake, pki) as url:
        page = list_from("sync", url.replace("127.0.0.1", "localhost"))
    assert page.items
    assert fake.requests[0].headers["host"].startswith("localhost:")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_https_proxy_tunnels_and_verification_still_applies(
    kind: str, pki: Pki, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    with https_fake(fake, pki) as url, ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            list_from(kind, url)  # the tunnel changes nothing: the test CA is still unknown
        monkeypatch.setenv("AWS_CA_BUNDLE", str(pki.bundle))
        page = list_from(kind, url)
    assert page.items
    target = url.removeprefix("https://")
    assert proxy.targets == [target, target]
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("variable", "name"), [("AWS_CA_BUNDLE", "the CA bundle"), ("SSL_CERT_FILE", "SSL_CERT_FILE")]
)
def test_a_bundle_that_cannot_be_loaded_is_a_config_error(
    variable: str, name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    monkeypatch.setenv(variable, str(garbage))
    with pytest.raises(cfinval.ConfigError, match=f"cannot load {name} .*garbage.pem"):
        list_from("sync", "https://127.0.0.1:1")
