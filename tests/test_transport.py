"""The httpx clients cfinval creates: no TLS context for http:// endpoints, httpx's trust
anchors read through a hashed directory for https://, proxies honoured, connections kept."""

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


def test_async_requests_without_sniffio_do_not_search_for_it_again_and_again(
    fake: FakeCloudFront,
) -> None:
    # sniffio is installed here (trio needs it): a fresh interpreter in which it is not
    # (its path finder finds nothing by that name, and counts the searches) shows what the
    # workaround saves, and that import sniffio still fails as before.
    with fake.serve() as server:
        done = subprocess.run(
            [sys.executable, "-c", _WITHOUT_SNIFFIO, server.endpoint_url],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    unaided, aided = map(int, done.stdout.split())
    assert len(fake.requests) == 6
    assert unaided >= 3  # httpcore tries the import several times per request (19 here)
    assert aided == 1  # the workaround's one find_spec, then none per request


_WITHOUT_SNIFFIO = """
import asyncio
import importlib.machinery
import importlib.util
import sys


class PathFinderWithoutSniffio:
    count = 0

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "sniffio":
            cls.count += 1
            return None
        return importlib.machinery.PathFinder.find_spec(name, path, target)

    @classmethod
    def invalidate_caches(cls):
        importlib.machinery.PathFinder.invalidate_caches()


sys.meta_path[:] = [
    PathFinderWithoutSniffio if finder is importlib.machinery.PathFinder else finder
    for finder in sys.meta_path
]
assert "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None

import cfinval
from cfinval._drivers import transport
from cfinval.testing import FAKE_CREDENTIALS


async def three_requests():
    async with cfinval.AsyncClient(FAKE_CREDENTIALS, endpoint_url=sys.argv[1]) as client:
        for _ in range(3):
            await client.list_invalidations_for_distribution_tenant(Id="dt_1")


workaround = transport._note_missing_sniffio
transport._note_missing_sniffio = lambda: None
PathFinderWithoutSniffio.count = 0
asyncio.run(three_requests())
unaided = PathFinderWithoutSniffio.count

transport._note_missing_sniffio = workaround
PathFinderWithoutSniffio.count = 0
asyncio.run(three_requests())
aided = PathFinderWithoutSniffio.count
try:
    import sniffio  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    raise AssertionError("sniffio became importable")
print(unaided, aided)
"""


def test_an_installed_sniffio_is_left_alone() -> None:
    from cfinval._drivers.transport import _note_missing_sniffio

    assert importlib.util.find_spec("sniffio") is not None  # (trio depends on it)
    _note_missing_sniffio()
    assert importlib.import_module("sniffio").current_async_library is not None


def test_more_requests_in_flight_than_httpx_keeps_by_default_reuse_their_connections(
    fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfinval.testing import _server

    accepted: list[object] = []  # the connections the fake accepted
    process_request = _server._Server.process_request

    def counting(self: Any, request: Any, client_address: Any) -> None:
        accepted.append(client_address)
        process_request(self, request, client_address)

    monkeypatch.setattr(_server._Server, "process_request", counting)

    async def main() -> None:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, endpoint_url=server.endpoint_url
        ) as client:

            async def twice() -> None:
                for _ in range(2):
                    await client.list_invalidations_for_distribution_tenant(Id="dt_1")

            await asyncio.gather(*(twice() for _ in range(32)))

    with fake.serve() as server:
        asyncio.run(main())
    assert len(fake.requests) == 64
    # httpx's defaults keep 20 idle connections, and httpcore 1.0 then closes nearly every
    # one as it goes idle: some 60 connections for these 64 requests.
    assert len(accepted) <= 32


# --- what a request is for decides its trust (botocore's split between clients) ----------------


def test_each_purpose_gets_the_trust_botocore_gives_it(tmp_path: Path) -> None:
    from cfinval._drivers.transport import PURPOSE

    from ._local_aws import Stub
    from .tls import make_tls_files

    (tmp_path / "configured").mkdir()
    (tmp_path / "flag").mkdir()
    configured = make_tls_files(tmp_path / "configured")  # AWS_CA_BUNDLE / ca_bundle
    flag = make_tls_files(tmp_path / "flag")  # the CLI's --ca-bundle
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(configured.cert, configured.key)

    def outcome(http: httpx.Client, url: str, purpose: str) -> str:
        try:
            return str(http.get(url, extensions={PURPOSE: purpose}).status_code)
        except httpx.ConnectError as exc:
            return "refused" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else repr(exc)

    options = {
        "timeout": TIMEOUT,
        "ca_bundle": str(configured.ca),
        "ca_bundle_source": "AWS_CA_BUNDLE",
    }
    purposes = ["service", "identity", "metadata", "container"]
    with Stub(lambda req: (204, {}, b""), tls=server_side) as stub:
        with new_sync_client(None, {**options, "service_tls": {"ca_bundle": str(flag.ca)}}) as http:
            flagged = [outcome(http, stub.url, purpose) for purpose in purposes]
        with new_sync_client(None, {**options, "service_tls": {"verify": False}}) as http:
            unverified = [outcome(http, stub.url, purpose) for purpose in purposes]
        with new_sync_client(None, options) as http:
            plain = [outcome(http, stub.url, purpose) for purpose in purposes]
    # --ca-bundle / --no-verify-ssl: CloudFront only; STS, SSO, sign-in: the configured bundle;
    # container and IMDS: the default certificates (botocore's fetchers pass verify=True)
    assert flagged == ["refused", "204", "refused", "refused"]
    assert unverified == ["204", "204", "refused", "refused"]
    assert plain == ["204", "204", "refused", "refused"]
