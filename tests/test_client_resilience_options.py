"""Client options for resilience: retry_mode, max_attempts (and their env vars), timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

TENANT = "dt_options"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)


@pytest.mark.parametrize(
    ("retry_mode", "max_attempts"), [(None, 3), ("standard", 3), ("adaptive", 3), ("legacy", 5)]
)
def test_retry_modes_and_their_default_attempts(retry_mode: str | None, max_attempts: int) -> None:
    client = cfinval.Client(FAKE_CREDENTIALS, retry_mode=retry_mode)
    assert client.retry_mode == (retry_mode or "standard")
    assert client.max_attempts == max_attempts


def test_environment_sets_mode_and_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "legacy")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    client = cfinval.AsyncClient(FAKE_CREDENTIALS)
    assert (client.retry_mode, client.max_attempts) == ("legacy", 2)
    explicit = cfinval.AsyncClient(FAKE_CREDENTIALS, retry_mode="adaptive", max_attempts=6)
    assert (explicit.retry_mode, explicit.max_attempts) == ("adaptive", 6)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AWS_MAX_ATTEMPTS", "0"),
        ("AWS_MAX_ATTEMPTS", "-1"),
        ("AWS_MAX_ATTEMPTS", "three"),
        ("AWS_MAX_ATTEMPTS", "2.5"),
        ("AWS_RETRY_MODE", "turbo"),
        ("AWS_RETRY_MODE", "Standard"),
    ],
)
def test_bad_environment_values_are_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(cfinval.ConfigError, match=name):
        cfinval.Client(FAKE_CREDENTIALS)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"retry_mode": "fast"},
        {"retry_mode": 3},
        {"max_attempts": 0},
        {"max_attempts": True},
        {"max_attempts": 2.0},
        {"max_attempts": "3"},
        {"attempt_timeout": 0},
        {"attempt_timeout": -1.5},
        {"attempt_timeout": True},
        {"attempt_timeout": "5"},
    ],
)
def test_bad_resilience_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(cfinval.ParamValidationError):
        cfinval.Client(FAKE_CREDENTIALS, **kwargs)
    with pytest.raises(cfinval.ParamValidationError):
        cfinval.AsyncClient(FAKE_CREDENTIALS, **kwargs)


# --- the timeouts each attempt really gets ------------------------------------------------------


def _page_handler(seen: list[dict[str, Any]]) -> Any:
    fake = FakeCloudFront(verify_signatures=False)
    fake.add_tenant(TENANT)
    inner = fake.transport()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.extensions["timeout"]))
        return inner.handle_request(request)

    return handler


def _timeouts_sent(kind: str, **options: Any) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []
    transport = httpx.MockTransport(_page_handler(seen))
    bring = options.pop("bring", None)
    if kind == "sync":
        http = httpx.Client(transport=transport, **(bring or {}))
        with cfinval.Client(FAKE_CREDENTIALS, http_client=http, **options) as client:
            client.list_invalidations_for_distribution_tenant(TENANT)
        http.close()
    else:

        async def main() -> None:
            http = httpx.AsyncClient(transport=transport, **(bring or {}))
            async with cfinval.AsyncClient(FAKE_CREDENTIALS, http_client=http, **options) as c:
                await c.list_invalidations_for_distribution_tenant(TENANT)
            await http.aclose()

        asyncio.run(main())
    assert len(seen) == 1
    return seen[0]


def _all(value: float | None) -> dict[str, float | None]:
    return {"connect": value, "read": value, "write": value, "pool": value}


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"timeout": 10.0}, _all(10.0)),
        ({"timeout": 4, "attempt_timeout": 2.5}, _all(2.5)),
        ({"timeout": None}, _all(None)),  # no timeouts at all, no deadline either
        ({"timeout": None, "attempt_timeout": 7}, _all(7.0)),
        (
            {"timeout": httpx.Timeout(20.0, connect=1.0)},
            {"connect": 1.0, "read": 20.0, "write": 20.0, "pool": 20.0},
        ),
        (
            {"timeout": httpx.Timeout(20.0, connect=1.0), "attempt_timeout": 5},
            {"connect": 1.0, "read": 5.0, "write": 5.0, "pool": 5.0},
        ),
        # a brought client keeps its own timeouts unless timeout= is given
        ({"bring": {"timeout": 3.0}}, _all(3.0)),
        ({"bring": {"timeout": 3.0}, "attempt_timeout": 1}, _all(1.0)),
        ({"bring": {"timeout": 3.0}, "timeout": 8.0}, _all(8.0)),
    ],
)
def test_each_attempt_gets_its_timeouts_capped_by_the_attempt_deadline(
    kind: str, options: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert _timeouts_sent(kind, **options) == expected


# --- what the drivers hand the flow -------------------------------------------------------------


def _run(kind: str, handler: Any, **options: Any) -> cfinval.InvalidationList:
    transport = httpx.MockTransport(handler)
    if kind == "sync":
        http = httpx.Client(transport=transport)
        with cfinval.Client(FAKE_CREDENTIALS, http_client=http, **options) as client:
            return client.list_invalidations_for_distribution_tenant(TENANT)

    async def main() -> cfinval.InvalidationList:
        http = httpx.AsyncClient(transport=transport)
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, http_client=http, **options) as c:
            return await c.list_invalidations_for_distribution_tenant(TENANT)

    return asyncio.run(main())


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(
    "error", [httpx.UnsupportedProtocol("no"), httpx.LocalProtocolError("bad header")]
)
def test_a_request_that_cannot_be_sent_as_built_is_not_retried(kind: str, error: Exception) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise error

    with pytest.raises(cfinval.TransportError) as raised:
        _run(kind, handler)
    assert len(calls) == 1
    assert raised.value.attempts == 1
    # its text can quote what was refused (a header value): not chained, so no traceback shows it
    assert raised.value.__cause__ is None
    assert type(error).__name__ in str(raised.value)


_PAGE = (
    b'<InvalidationList xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
    b"<Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated>"
    b"<Quantity>0</Quantity></InvalidationList>"
)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_body_httpx_already_read_is_used_and_capped(kind: str) -> None:
    """``httpx.Response(content=...)`` (MockTransport, respx) arrives read; same rules apply."""
    page = _run(kind, lambda request: httpx.Response(200, content=_PAGE))
    assert (page.quantity, page.items) == (0, ())
    huge = _PAGE[:-19] + b" " * (5 * 1024 * 1024) + _PAGE[-19:]
    with pytest.raises(cfinval.ResponseParseError, match="larger than"):
        _run(kind, lambda request: httpx.Response(200, content=huge))
