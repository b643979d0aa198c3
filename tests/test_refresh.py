"""Refreshing temporary credentials: botocore's advisory and mandatory windows, one refresh at a
time across threads and asyncio tasks, and ``ExpiredToken`` answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Generator
from typing import Any

import httpx
import pytest

import cfinval
from cfinval import Credentials
from cfinval._core.effects import Sleep, Wait, forward, run
from cfinval._credentials import CredentialResolver
from cfinval.testing import FakeCloudFront, verify_sigv4

from ._local_aws import Req, Stub, cloudfront, creds_json, iso, key_id_of, list_once
from .conftest import Home

OLD = Credentials("ASIAOLD0000000000001", "SECRET-old-1c2d", "TOKEN-old-9e")
NEW = Credentials("ASIANEW0000000000001", "SECRET-new-7f3a", "TOKEN-new-2b")


def expiring_in(creds: Credentials, seconds: float) -> Credentials:
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return Credentials(
        creds.access_key_id, creds.secret_access_key, creds.session_token, expiration=when
    )


class Rotating:
    """A container credentials endpoint: first ``OLD`` expiring in ``first_ttl`` seconds, then
    ``NEW`` (valid for an hour). Refreshes are answered once ``gate`` is set; ``held`` says
    whether it was (rather than given up on after 10 s, which fails the test)."""

    def __init__(self, first_ttl: float, gate: threading.Event) -> None:
        self.first_ttl = first_ttl
        self.gate = gate
        self.held: bool | None = None
        self.served = 0
        self.lock = threading.Lock()

    def __call__(self, req: Req) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.served += 1
            first = self.served == 1
        if first:
            when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.first_ttl)
            body = creds_json(OLD, iso(when))
        else:
            self.held = self.gate.wait(10)
            body = creds_json(NEW)
        return 200, {}, json.dumps(body).encode()


class Waiters:
    """Counts the callers of ``resolver.get()`` that wait for a refresh in flight (its ``Wait``
    effects); ``all_waiting`` is set once ``expected`` of them do. A refresh held on it is
    answered exactly when every other caller waits for it: no guessing how long that takes."""

    def __init__(self, resolver: CredentialResolver, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.all_waiting = threading.Event()
        self._lock = threading.Lock()
        get = resolver.get

        def count(effect: Any) -> Generator[Any, Any, Any]:
            if isinstance(effect, Wait):
                self._waiting()
            return (yield effect)

        def counting_get() -> Generator[Any, Any, Any]:
            return (yield from forward(get(), lambda value: [value], intercept=count))

        resolver.get = counting_get  # type: ignore[method-assign]

    def _waiting(self) -> None:
        with self._lock:
            self.count += 1
            if self.count == self.expected:
                self.all_waiting.set()


def used(fake: Any, creds: Credentials) -> int:
    return sum(
        1
        for request in fake.requests
        if f"Credential={creds.access_key_id}/" in request.headers["authorization"]
    )


# --- mandatory window: everyone waits for one refresh ---------------------------------------------


def test_50_threads_in_the_mandatory_window_trigger_exactly_one_refresh(home: Home) -> None:
    gate = threading.Event()
    endpoint = Rotating(first_ttl=5 * 60, gate=gate)
    with Stub(endpoint) as stub, cloudfront(OLD, NEW) as (fake, url):
        home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/creds")
        with cfinval.Client(endpoint_url=url) as client:
            client.list_invalidations_for_distribution_tenant("dt_1")  # loads OLD (5 min left)
            # the refresh is answered once the 49 other callers wait for it
            gate = Waiters(client._session.credentials, 49).all_waiting
            endpoint.gate = gate
            barrier = threading.Barrier(50)
            errors: list[BaseException] = []

            def call() -> None:
                barrier.wait()
                try:
                    client.list_invalidations_for_distribution_tenant("dt_1")
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=call) for _ in range(50)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert errors == []
    assert endpoint.held is True
    assert endpoint.served == 2  # the first load and exactly one refresh
    assert used(fake, OLD) == 1
    assert used(fake, NEW) == 50


def test_200_tasks_in_the_mandatory_window_trigger_exactly_one_refresh(home: Home) -> None:
    endpoint = Rotating(first_ttl=5 * 60, gate=threading.Event())
    fake = FakeCloudFront(credentials=(OLD, NEW))
    fake.add_invalidation("dt_1", "I1", status="Completed")
    # The credentials endpoint is real HTTP; the 201 listings go to the fake in memory.
    url = "http://cloudfront.test"

    async def main() -> None:
        http = httpx.AsyncClient(mounts={url: fake.transport()})
        async with http, cfinval.AsyncClient(endpoint_url=url, http_client=http) as client:
            await client.list_invalidations_for_distribution_tenant("dt_1")
            # the refresh is answered once the 199 other tasks wait for it: they can only get
            # there if the event loop keeps running while the refresh is in flight
            endpoint.gate = Waiters(client._session.credentials, 199).all_waiting
            pages = await asyncio.gather(
                *(client.list_invalidations_for_distribution_tenant("dt_1") for _ in range(200))
            )
        assert all(page.items for page in pages)

    with Stub(endpoint) as stub:
        home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/creds")
        asyncio.run(main())
    assert endpoint.held is True
    assert endpoint.served == 2
    assert used(fake, OLD) == 1
    assert used(fake, NEW) == 200


# --- advisory window: one refreshes, the others carry on ----------------------------------------


def test_advisory_window_threads_do_not_wait_for_the_refresh(home: Home) -> None:
    callers = 8
    gate = threading.Event()
    endpoint = Rotating(first_ttl=12 * 60, gate=gate)
    with Stub(endpoint) as stub, cloudfront(OLD, NEW) as (fake, url):
        home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/creds")
        with cfinval.Client(endpoint_url=url) as client:
            client.list_invalidations_for_distribution_tenant("dt_1")
            barrier = threading.Barrier(callers)
            finished = threading.Semaphore(0)

            def call() -> None:
                barrier.wait()
                client.list_invalidations_for_distribution_tenant("dt_1")
                finished.release()

            threads = [threading.Thread(target=call) for _ in range(callers)]
            for thread in threads:
                thread.start()
            # all but one call complete while the refresh is still held at the endpoint (kept
            # few, so that they finish well inside the container request's 2 s timeout)
            assert all(finished.acquire(timeout=10) for _ in range(callers - 1))
            assert not finished.acquire(blocking=False)  # the refreshing one is held
            gate.set()
            for thread in threads:
                thread.join()
    assert endpoint.served == 2
    assert used(fake, NEW) == 1
    assert used(fake, OLD) == callers


def test_advisory_window_tasks_do_not_wait_for_the_refresh(home: Home) -> None:
    gate = threading.Event()
    endpoint = Rotating(first_ttl=12 * 60, gate=gate)

    async def main(url: str) -> None:
        async with cfinval.AsyncClient(endpoint_url=url) as client:
            await client.list_invalidations_for_distribution_tenant("dt_1")
            calls = [
                asyncio.ensure_future(client.list_invalidations_for_distribution_tenant("dt_1"))
                for _ in range(30)
            ]
            # 29 calls finish while the refresh is held at the endpoint; then it is let go
            for finished, call in enumerate(asyncio.as_completed(calls, timeout=10), 1):
                await call
                if finished == 29:
                    gate.set()

    with Stub(endpoint) as stub, cloudfront(OLD, NEW) as (fake, url):
        home.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/creds")
        asyncio.run(main(url))
    assert endpoint.held is True
    assert endpoint.served == 2
    assert used(fake, NEW) == 1
    assert used(fake, OLD) == 30


class Scripted:
    """A provider with a plain ``load()`` answering from a script of results; loads after the
    first wait for ``hold`` (when given) to be set."""

    method = "scripted"

    def __init__(self, *results: Any) -> None:
        self.results = list(results)
        self.hold: threading.Event | None = None
        self.held: bool | None = None
        self.calls = 0

    def load(self) -> Credentials | None:
        self.calls += 1
        if self.calls > 1 and self.hold is not None:
            self.held = self.hold.wait(10)
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]


def test_failed_advisory_refresh_keeps_the_current_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failure = cfinval.CredentialRetrievalError("scripted", "endpoint down")
    provider = Scripted(expiring_in(OLD, 12 * 60), failure)
    caplog.set_level(logging.DEBUG, logger="cfinval")
    with (
        cloudfront(OLD) as (fake, url),
        cfinval.Client(credentials=provider, endpoint_url=url) as client,
    ):
        for _ in range(3):
            client.list_invalidations_for_distribution_tenant("dt_1")
    assert provider.calls == 3  # each call in the advisory window tries again
    assert used(fake, OLD) == 3
    assert "advisory period" in caplog.text
    assert "endpoint down" in caplog.text
    assert OLD.secret_access_key not in caplog.text


def test_failed_mandatory_refresh_is_shared_by_the_waiters() -> None:
    failure = cfinval.CredentialRetrievalError("scripted", "endpoint down")
    provider = Scripted(expiring_in(OLD, 5 * 60), failure)
    with (
        cloudfront(OLD) as (_fake, url),
        cfinval.Client(credentials=provider, endpoint_url=url) as client,
    ):
        client.list_invalidations_for_distribution_tenant("dt_1")
        provider.hold = Waiters(client._session.credentials, 9).all_waiting
        barrier = threading.Barrier(10)
        raised: list[BaseException] = []

        def call() -> None:
            barrier.wait()
            try:
                client.list_invalidations_for_distribution_tenant("dt_1")
            except cfinval.Error as exc:
                raised.append(exc)

        threads = [threading.Thread(target=call) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert provider.held is True
    assert len(raised) == 10
    assert all(exc is failure for exc in raised)
    assert provider.calls == 2  # one failed refresh for ten callers, not ten


def test_a_cancelled_refresh_lets_a_waiting_task_take_over() -> None:
    class SlowFirst:
        method = "slow-first"

        def __init__(self) -> None:
            self.calls = 0
            self.sleeping = threading.Event()

        def load(self) -> Generator[Any, Any, Credentials]:
            self.calls += 1
            if self.calls == 1:
                self.sleeping.set()
                yield Sleep(30)
            return NEW

    provider = SlowFirst()

    async def until(event: threading.Event) -> None:
        """Let the other tasks run until ``event`` is set (no clock involved)."""
        for _ in range(1000):
            if event.is_set():
                return
            await asyncio.sleep(0)
        raise AssertionError("it never happened")

    async def main(url: str) -> float:
        async with cfinval.AsyncClient(credentials=provider, endpoint_url=url) as client:
            waiting = Waiters(client._session.credentials, 1).all_waiting
            leader = asyncio.create_task(client.list_invalidations_for_distribution_tenant("dt_1"))
            await until(provider.sleeping)  # the leader's refresh is in its 30 s Sleep
            waiter = asyncio.create_task(client.list_invalidations_for_distribution_tenant("dt_1"))
            await until(waiting)  # the second task waits for that refresh
            start = time.monotonic()
            leader.cancel()
            page = await asyncio.wait_for(waiter, 5)
            assert page.items
            with pytest.raises(asyncio.CancelledError):
                await leader
            return time.monotonic() - start

    with cloudfront(NEW) as (_fake, url):
        took = asyncio.run(main(url))
    assert provider.calls == 2
    assert took < 2


# --- the windows, with a fake clock --------------------------------------------------------------


def drive(flow: Generator[Any, Any, Any]) -> Any:
    """Run a flow that must perform no effect (the credentials are cached or need no I/O)."""

    def no_effect(effect: Any) -> None:
        raise AssertionError(f"unexpected effect {effect!r}")

    return run(flow, no_effect)


@pytest.mark.parametrize(
    ("seconds_left", "reloads"),
    [(3600, 0), (15 * 60, 0), (15 * 60 - 1, 1), (10 * 60, 1), (10 * 60 - 1, 1), (1, 1)],
)
def test_refresh_windows_follow_botocore(seconds_left: float, reloads: int) -> None:
    now = [1_000_000.0]
    expiry = dt.datetime.fromtimestamp(now[0] + 3600, dt.timezone.utc)
    first = Credentials("ASIA1", "s1", "t1", expiration=expiry)
    second = Credentials("ASIA2", "s2", "t2", expiration=expiry + dt.timedelta(hours=1))
    provider = Scripted(first, second)
    resolver = CredentialResolver(provider, clock=lambda: now[0])
    assert drive(resolver.get()) is first
    now[0] += 3600 - seconds_left
    expected = second if reloads else first
    assert drive(resolver.get()) is expected
    assert resolver.loads == 1 + reloads


def test_credentials_without_expiration_are_loaded_once() -> None:
    provider = Scripted(OLD)
    resolver = CredentialResolver(provider)
    for _ in range(5):
        assert drive(resolver.get()) is OLD
    assert provider.calls == 1


def test_refreshed_credentials_that_are_already_expired_are_an_error() -> None:
    stale = expiring_in(OLD, -60)
    resolver = CredentialResolver(Scripted(stale))
    with pytest.raises(cfinval.CredentialRetrievalError, match="expired at"):
        drive(resolver.get())


# --- ExpiredToken -------------------------------------------------------------------------------


def expired_for(*keys: str) -> Any:
    def verifier(request: Any, credentials: Any, region: str, now: dt.datetime) -> Any:
        auth = request.headers.get("authorization", "")
        if any(f"Credential={key}/" in auth for key in keys):
            return 403, "ExpiredToken", "The security token included in the request is expired"
        return verify_sigv4(request, credentials, region, now)

    return verifier


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_expired_token_drops_the_credentials_refreshes_and_retries_once(kind: str) -> None:
    provider = Scripted(expiring_in(OLD, 3600), expiring_in(NEW, 3600))
    with cloudfront(OLD, NEW, verifier=expired_for(OLD.access_key_id)) as (fake, url):
        page = list_once(kind, credentials=provider, endpoint_url=url, max_attempts=2)
    assert page.items
    assert page.attempts == 2
    assert provider.calls == 2
    assert [key_id_of(fake, i) for i in range(2)] == [OLD.access_key_id, NEW.access_key_id]


def test_expired_token_with_max_attempts_1_is_raised_after_one_request() -> None:
    provider = Scripted(expiring_in(OLD, 3600), expiring_in(NEW, 3600))
    with (
        cloudfront(OLD, NEW, verifier=expired_for(OLD.access_key_id)) as (fake, url),
        pytest.raises(cfinval.CloudFrontError) as raised,
    ):
        list_once("sync", credentials=provider, endpoint_url=url, max_attempts=1)
    assert (raised.value.code, raised.value.attempts) == ("ExpiredToken", 1)
    assert len(fake.requests) == 1
    assert provider.calls == 1


def test_expired_token_again_after_the_refresh_is_raised() -> None:
    provider = Scripted(OLD)
    with (
        cloudfront(OLD, verifier=expired_for(OLD.access_key_id)) as (fake, url),
        pytest.raises(cfinval.CloudFrontError) as raised,
    ):
        list_once("sync", credentials=provider, endpoint_url=url)
    assert raised.value.code == "ExpiredToken"
    assert len(fake.requests) == 2
    assert provider.calls == 2


def test_expired_token_seen_by_many_threads_refreshes_once() -> None:
    gate = threading.Barrier(20)
    provider = Scripted(OLD, NEW)
    with (
        cloudfront(OLD, NEW, verifier=expired_for(OLD.access_key_id)) as (fake, url),
        cfinval.Client(credentials=provider, endpoint_url=url) as client,
    ):
        client._run(client._session.credentials.get())  # OLD is cached
        # every thread's OLD is refused; the refresh waits until the 19 others wait for it
        provider.hold = Waiters(client._session.credentials, 19).all_waiting

        def call() -> None:
            gate.wait()
            client.list_invalidations_for_distribution_tenant("dt_1")

        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert provider.held is True
    assert provider.calls == 2
    assert used(fake, NEW) == 20


def test_web_identity_token_file_is_reread_on_refresh(home: Home) -> None:
    from ._local_aws import sts_server

    token_file = home.file("token", "token-1")
    with sts_server() as (sts, stub):
        sts.tokens.update({"token-1", "token-2"})
        sts.role("arn:aws:iam::1:role/w", NEW)
        home.env(
            AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
            AWS_ROLE_ARN="arn:aws:iam::1:role/w",
            AWS_ENDPOINT_URL_STS=stub.url,
        )
        with cfinval.Client() as client:
            resolver = client._session.credentials
            client._run(resolver.get())
            token_file.write_text("token-2")
            resolver.invalidate()
            client._run(resolver.get())
    assert [call["WebIdentityToken"] for call in sts.calls] == ["token-1", "token-2"]
