"""Proxies from the environment, as botocore reads them: through a real loopback proxy."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator

import httpx
import pytest

import cfinval
from cfinval._drivers.proxies import proxy_for, usable_proxy
from cfinval.testing import FakeCloudFront, FakeServer

from ._local_aws import FakeIMDS, Stub, cloudfront, creds_json, list_once
from .drivers import LISTERS, list_async, list_sync
from .process import run_main
from .proxy import LoopbackProxy

PATH = "/2020-05-31/distribution-tenant/dt_1/invalidation"


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)


@pytest.fixture
def fake() -> FakeCloudFront:
    fake = FakeCloudFront(seed=5)
    fake.add_invalidation("dt_1", status="InProgress")
    return fake


@pytest.fixture
def server(fake: FakeCloudFront) -> Iterator[FakeServer]:
    with fake.serve() as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[LoopbackProxy]:
    with LoopbackProxy() as proxy:
        yield proxy


@pytest.mark.parametrize("lister", LISTERS)
def test_http_proxy_carries_requests_to_an_http_endpoint(
    lister: object,
    server: FakeServer,
    proxy: LoopbackProxy,
    fake: FakeCloudFront,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    assert callable(lister)
    page = lister(server.endpoint_url)
    assert [item.status for item in page.items] == ["InProgress"]
    assert proxy.seen == [("GET", f"{server.endpoint_url}{PATH}")]
    assert len(fake.requests) == 1


def test_a_proxy_without_a_scheme_is_an_http_proxy(
    server: FakeServer, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", proxy.url.removeprefix("http://"))
    list_sync(server.endpoint_url)
    assert proxy.seen == [("GET", f"{server.endpoint_url}{PATH}")]


@pytest.mark.parametrize("lister", LISTERS)
@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.1", "*", ".0.0.1"])
def test_no_proxy_sends_directly(
    lister: object,
    no_proxy: str,
    server: FakeServer,
    proxy: LoopbackProxy,
    fake: FakeCloudFront,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert callable(lister)
    lister(server.endpoint_url)
    assert proxy.seen == []
    assert len(fake.requests) == 1


def test_https_proxy_does_not_serve_http_endpoints(
    server: FakeServer, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    list_sync(server.endpoint_url)
    assert proxy.seen == []


@pytest.mark.parametrize("value", ["socks5://127.0.0.1:1080", "http://127.0.0.1:9", "ht tp://x"])
def test_all_proxy_is_ignored_as_botocore_ignores_it(
    value: str, server: FakeServer, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALL_PROXY", value)
    monkeypatch.setenv("all_proxy", value)
    list_sync(server.endpoint_url)
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ht tp://proxy:3128", "'ht tp' scheme"),
        ("socks5://127.0.0.1:1080", "'socks5' scheme"),
        ("socks5h://127.0.0.1:1080", "'socks5h' scheme"),
        ("ftp://proxy", "'ftp' scheme"),
        ("http://", "it has no host"),
        ("http://:3128", "it has no host"),
        ("http://pro xy:3128", "not a valid host name"),
        ("http://proxy:99999", "port 99999 is out of range"),
        ("http://proxy:port", "its port is not a number"),
        ("http://proxy\x01:3128", "control (non-printable) characters"),
    ],
)
@pytest.mark.parametrize("lister", LISTERS)
def test_an_unusable_proxy_is_a_config_error_naming_the_variable(
    lister: object,
    value: str,
    reason: str,
    server: FakeServer,
    fake: FakeCloudFront,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", value)
    assert callable(lister)
    with pytest.raises(cfinval.ConfigError) as caught:
        lister(server.endpoint_url)
    assert str(caught.value).startswith("HTTP_PROXY")
    assert reason in str(caught.value)
    assert fake.requests == []


def test_the_lowercase_variable_wins_and_is_the_one_named(
    server: FakeServer, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("http_proxy", "socks5://127.0.0.1:1080")
    with pytest.raises(cfinval.ConfigError, match=r"^http_proxy: cannot use"):
        list_sync(server.endpoint_url)
    assert proxy.seen == []


def test_an_unusable_proxy_that_no_proxy_exempts_is_never_used(
    server: FakeServer, fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "ht tp://x")
    monkeypatch.setenv("HTTPS_PROXY", "socks5://127.0.0.1:1080")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    list_sync(server.endpoint_url)
    list_async(server.endpoint_url)
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    "value",
    [
        "http://alice:s3cr3t@proxy:99999",
        "socks5://alice:s3cr3t@proxy:1080",
        "alice:s3cr3t@pro xy:3128",
        "http://alice:s3cr3t/Qk3p@proxy:3128",  # the parser would say "Invalid port: 's3cr3t'"
        "http://alice:s3cr3t?Qk3p@proxy:3128",
        "http://alice:s3cr3t#Qk3p@proxy:3128",
        "http://alice:s3cr3t@proxy:port",
        "http://alice:s3cr3t\x01@proxy:3128",
        "http://alice:s3cr3t@[::1:3128",
        "http://alice:s3cr3t@proxy\x01:3128",
    ],
)
def test_proxy_credentials_never_appear_in_errors(value: str) -> None:
    with pytest.raises(cfinval.ConfigError) as caught:
        usable_proxy(value, "HTTPS_PROXY")
    assert "s3cr3t" not in str(caught.value)
    assert "Qk3p" not in str(caught.value)
    assert "alice" not in str(caught.value)
    assert str(caught.value).startswith("HTTPS_PROXY")


def test_a_slash_in_a_proxy_password_says_to_percent_encode_it() -> None:
    with pytest.raises(cfinval.ConfigError) as caught:
        usable_proxy("http://u:Zx9/Qk3p@proxy:3128", "HTTPS_PROXY")
    assert "must be percent-encoded (%2F" in str(caught.value)
    assert "Zx9" not in str(caught.value)
    # percent-encoded, the same password works, with or without an "@" in it
    assert usable_proxy("http://u:Zx9%2FQk3p@proxy:3128", "HTTPS_PROXY").endswith("@proxy:3128")
    assert usable_proxy("http://u:p@ss@proxy:3128", "HTTPS_PROXY") == "http://u:p@ss@proxy:3128"


def test_cli_never_prints_a_proxy_password(server: FakeServer) -> None:
    done = run_main(
        *("list-invalidations-for-distribution-tenant", "--id", "dt_1"),
        *("--endpoint-url", server.endpoint_url),
        env={"HTTP_PROXY": "http://u:Zx9/Qk3p@proxy:3128"},
    )
    assert done.returncode == 255
    assert "Zx9" not in done.stderr + done.stdout
    assert "Qk3p" not in done.stderr + done.stdout
    assert done.stderr.strip().startswith("HTTP_PROXY is not a usable proxy URL")


# botocore is the oracle of which proxy applies: utils.get_environ_proxies + ProxyConfiguration.
@pytest.mark.parametrize(
    "env",
    [
        {},
        {"HTTPS_PROXY": "http://proxy.example:3128"},
        {"HTTPS_PROXY": "proxy.example:3128"},
        {"https_proxy": "//proxy.example:3128", "HTTPS_PROXY": "http://other:1"},
        {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "amazonaws.com"},
        {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": ".amazonaws.com"},
        {"HTTPS_PROXY": "http://proxy.example:3128", "no_proxy": "example.com, *"},
        {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "cloudfront.amazonaws.com:443"},
        {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "cloudfront.amazonaws.com:80"},
        {"HTTPS_PROXY": "https://u:p@proxy.example:3128", "NO_PROXY": "s3.amazonaws.com"},
        {"HTTP_PROXY": "http://proxy.example:3128"},
        {"ALL_PROXY": "http://proxy.example:3128"},
        {"HTTPS_PROXY": "http://proxy.example:3128", "https_proxy": ""},
    ],
)
@pytest.mark.parametrize(
    "url", ["https://cloudfront.amazonaws.com", "https://cloudfront.amazonaws.com:443"]
)
def test_the_proxy_chosen_is_botocores(
    env: dict[str, str], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.httpsession import ProxyConfiguration
    from botocore.utils import get_environ_proxies

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    expected = ProxyConfiguration(get_environ_proxies(url)).proxy_url_for(url)
    scheme, _, netloc = url.partition("://")
    assert proxy_for(scheme, netloc) == expected


def test_cgi_ignores_an_uppercase_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUEST_METHOD", "GET")  # a "Proxy:" request header must not redirect
    monkeypatch.setenv("HTTP_PROXY", "http://attacker.example:8080")
    assert proxy_for("http", "cloudfront.amazonaws.com") is None


def test_cli_reports_an_unusable_proxy_in_one_line_and_exits_255(server: FakeServer) -> None:
    done = run_main(
        *("list-invalidations-for-distribution-tenant", "--id", "dt_1"),
        *("--endpoint-url", server.endpoint_url),
        env={"HTTP_PROXY": "ht tp://x"},
    )
    assert done.returncode == 255
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "HTTP_PROXY: cannot use a proxy with the 'ht tp' scheme; only http:// and https:// "
        "proxies are supported (as in the AWS SDKs)"
    ]


# --- credential endpoints: the container one never through a proxy, IMDS as botocore ----------

ROLE = cfinval.Credentials("ASIACONTAINER0000009", "SECRET-container-proxy", "TOKEN-container-9")


def _listed(kind: str, url: str, **kwargs: object) -> int:
    return len(list_once(kind, endpoint_url=url, **kwargs).items)


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
def test_container_credentials_never_go_through_a_proxy(
    kind: str, variable: str, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore's ContainerMetadataFetcher has no proxies: the authorization token and the
    # credentials never pass through (nor come from) a proxy
    answer = json.dumps(creds_json(ROLE)).encode()
    with Stub(lambda req: (200, {}, answer)) as container, cloudfront(ROLE) as (fake, url):
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.url + "/v2/creds")
        monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-secret-token")
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv(variable, proxy.url)
        assert _listed(kind, url) == 1
    assert [r.headers["authorization"] for r in container.requests] == ["Bearer pod-secret-token"]
    assert proxy.seen == [("GET", f"{url}{PATH}")]  # CloudFront's request only
    assert len(fake.requests) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_container_credentials_bypass_the_proxy_of_a_brought_client_too(
    kind: str, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = json.dumps(creds_json(ROLE)).encode()
    with Stub(lambda req: (200, {}, answer)) as container, cloudfront(ROLE) as (_fake, url):
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.url + "/creds")
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.delenv(name, raising=False)
        if kind == "sync":
            with httpx.Client(proxy=proxy.url) as http:
                assert _listed(kind, url, http_client=http) == 1
        else:

            async def main() -> int:
                async with (
                    httpx.AsyncClient(proxy=proxy.url) as http,
                    cfinval.AsyncClient(endpoint_url=url, http_client=http) as client,
                ):
                    page = await client.list_invalidations_for_distribution_tenant(Id="dt_1")
                    return len(page.items)

            assert asyncio.run(main()) == 1
    assert len(container.requests) == 1
    assert proxy.seen == [("GET", f"{url}{PATH}")]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_instance_metadata_goes_through_the_proxy_as_botocores_does(
    kind: str, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore's IMDSFetcher uses get_environ_proxies(its base URL): HTTP_PROXY and NO_PROXY
    with Stub(FakeIMDS(ROLE)) as imds, cloudfront(ROLE) as (_fake, url):
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", url.removeprefix("http://"))  # CloudFront directly
        assert _listed(kind, url) == 1
    assert [method for method, _ in proxy.seen] == ["PUT", "GET", "GET"]
    assert all(target.startswith(imds.url) for _, target in proxy.seen)
    assert len(imds.requests) == 3
