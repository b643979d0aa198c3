"""A network failure says what botocore (and so the AWS CLI) says, from the sync and the async
client alike: the endpoint URL that could not be reached, or the proxy (its password masked)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

from .conftest import Home
from .drivers import LISTERS
from .tls import make_tls_files

Lister = Callable[[str], cfinval.InvalidationList]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("lister", LISTERS)
def test_an_unreachable_endpoint(lister: Lister) -> None:
    dead = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(cfinval.TransportError) as caught:
        lister(dead)
    assert str(caught.value) == (
        f'Could not connect to the endpoint URL: "{dead}/2020-05-31/distribution-tenant/dt_1/'
        'invalidation"'
    )


@pytest.mark.parametrize("lister", LISTERS)
def test_an_unreachable_proxy_masks_its_user_and_password(lister: Lister, home: Home) -> None:
    port = _free_port()
    home.env(HTTP_PROXY=f"http://alice:Zx9Qk3p@127.0.0.1:{port}")
    with pytest.raises(cfinval.TransportError) as caught:
        lister(f"http://127.0.0.1:{_free_port()}")
    assert str(caught.value) == f'Failed to connect to proxy URL: "http://***:***@127.0.0.1:{port}"'
    assert caught.value.__cause__ is not None


def _list_within(kind: str, url: str, seconds: float) -> None:
    if kind == "sync":
        with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url, attempt_timeout=seconds) as c:
            c.list_invalidations_for_distribution_tenant(Id="dt_1")
        return

    async def main() -> None:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, endpoint_url=url, attempt_timeout=seconds
        ) as client:
            await client.list_invalidations_for_distribution_tenant(Id="dt_1")

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_attempt_timeout_is_a_read_timeout(kind: str, home: Home) -> None:
    home.env(AWS_MAX_ATTEMPTS="1")
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(cfinval.TransportError) as caught:
            _list_within(kind, url, 0.1)
    assert str(caught.value) == (
        f'Read timeout on endpoint URL: "{url}/2020-05-31/distribution-tenant/dt_1/invalidation"'
        " (the attempt took longer than attempt_timeout=0.1 s)"
    )


@pytest.mark.parametrize("lister", LISTERS)
def test_a_certificate_not_trusted_is_an_ssl_validation_failure(
    lister: Lister, tmp_path: Path
) -> None:
    tls = make_tls_files(tmp_path)
    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    with fake.serve(ssl_certfile=str(tls.cert), ssl_keyfile=str(tls.key)) as server:
        with pytest.raises(cfinval.TransportError) as caught:
            lister(server.endpoint_url)  # certifi's roots: not this test CA
        url = f"{server.endpoint_url}/2020-05-31/distribution-tenant/dt_1/invalidation"
    assert str(caught.value).startswith(
        f"SSL validation failed for {url} [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
        "failed"
    )
