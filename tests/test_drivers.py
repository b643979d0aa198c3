"""The drivers as a user meets them: closing flows on every exit, early exits, deadlines,
event loops, trio and fork. Loopback servers only; nothing here sleeps to pass."""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

import cfinval
from cfinval._core.effects import Emit, Send, adrive, arun, drive, run
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, Fault

from .tls import make_tls_files


def _in_thread(target: Any, limit: float) -> Any:
    """Run ``target`` in a thread; fail (instead of hanging the suite) after ``limit`` s."""
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["value"] = target()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still running after {limit} s"
    return box


# --- the drive loops close the flow on every exit --------------------------------------------


def _flow(log: list[str]) -> Any:
    try:
        yield Emit("page")
        yield Send(None)  # type: ignore[arg-type]
        return "done"
    finally:
        log.append("closed")


def test_drive_closes_the_flow_when_an_effect_raises() -> None:
    log: list[str] = []

    def perform(_effect: Any) -> Any:
        raise OSError("boom")

    with pytest.raises(OSError, match="boom"):
        run(_flow(log), perform)
    assert log == ["closed"]


def test_drive_closes_the_flow_when_the_consumer_stops_early() -> None:
    log: list[str] = []
    loop = drive(_flow(log), lambda _effect: None)
    assert next(loop) == "page"
    loop.close()
    assert log == ["closed"]


def test_adrive_closes_the_flow_when_an_effect_raises_and_returns_values() -> None:
    log: list[str] = []

    async def fail(_effect: Any) -> Any:
        raise OSError("boom")

    async def ok(_effect: Any) -> Any:
        return None

    with pytest.raises(OSError, match="boom"):
        asyncio.run(arun(_flow(log), fail))
    assert asyncio.run(arun(_flow(log), ok)) == "done"
    assert log == ["closed", "closed"]

    async def stop_early() -> None:
        loop = adrive(_flow(log), ok)
        assert await loop.__anext__() == "page"
        await loop.aclose()

    asyncio.run(stop_early())
    assert log == ["closed", "closed", "closed"]


# --- the list_many hang of issue 10 ----------------------------------------------------------
# An effect that raises inside a fan-out worker (here: each tenant's request, on an httpx client
# closed before the call) ends the listing at once with that error. (Issue 10 met it through a
# container-credentials request; those no longer go through a brought client, see
# test_tls.py, so the tenants' own requests fail instead.)


def test_sync_list_many_with_a_closed_http_client_fails_promptly() -> None:
    http = httpx.Client()
    http.close()
    client = cfinval.Client(FAKE_CREDENTIALS, endpoint_url="http://127.0.0.1:9", http_client=http)
    box = _in_thread(lambda: list(client.list_many(["dt_a", "dt_b", "dt_c"], concurrency=3)), 10)
    assert isinstance(box.get("error"), RuntimeError), box


def test_async_list_many_with_a_closed_http_client_fails_the_same_way() -> None:
    async def go() -> None:
        http = httpx.AsyncClient()
        await http.aclose()
        client = cfinval.AsyncClient(
            FAKE_CREDENTIALS, endpoint_url="http://127.0.0.1:9", http_client=http
        )
        _ = [r async for r in client.list_many(["dt_a", "dt_b", "dt_c"], concurrency=3)]

    box = _in_thread(lambda: asyncio.run(go()), 10)
    assert isinstance(box.get("error"), RuntimeError), box


# --- the same results, sync and async --------------------------------------


def _fake_with(ids: list[str]) -> FakeCloudFront:
    fake = FakeCloudFront()
    for tenant in ids:
        fake.add_invalidation(tenant, f"I{tenant.upper()}")
    return fake


def test_sync_and_async_fan_out_give_the_same_results() -> None:
    ids = [f"dt_{n}" for n in range(12)] + ["dt_missing"]
    fake = _fake_with(ids[:-1])

    with cfinval.Client(
        FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport())
    ) as c:
        sync = sorted((r.tenant_id, r.ok, r.items) for r in c.list_many(ids, concurrency=4))

    async def go() -> list[Any]:
        http = httpx.AsyncClient(transport=fake.transport())
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, http_client=http) as client:
            return sorted(
                [(r.tenant_id, r.ok, r.items) async for r in client.list_many(ids, concurrency=4)]
            )

    assert asyncio.run(go()) == sync
    assert [t for t, ok, _ in sync if not ok] == ["dt_missing"]


# --- prompt early exit of the sync fan-out -------------------------------------------------------


class _StallingServer:
    """Answers from a fake, but holds requests for tenants named ``dt_slow*`` until stopped."""

    def __init__(self, fake: FakeCloudFront) -> None:
        release = self.release = threading.Event()
        self.waiting = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if "/dt_slow" in self.path:
                    outer.waiting += 1
                    release.wait(30)
                status, headers, body = fake.handle("GET", self.path, dict(self.headers))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client may have gone meanwhile
                    self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_: None  # type: ignore[method-assign]  # clients leave
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stalling() -> Iterator[_StallingServer]:
    fake = _fake_with(["dt_fast", "dt_slow1", "dt_slow2"])
    server = _StallingServer(fake)
    yield server
    server.close()


def test_leaving_a_sync_fan_out_early_does_not_wait_for_stalled_requests(
    stalling: _StallingServer,
) -> None:
    client = cfinval.Client(FAKE_CREDENTIALS, endpoint_url=stalling.url, timeout=20)

    def first_then_leave() -> tuple[str, float]:
        results = client.list_many(["dt_slow1", "dt_fast", "dt_slow2"], concurrency=3)
        first = next(results)
        started = time.monotonic()
        results.close()  # what leaving a for loop does
        return first.tenant_id, time.monotonic() - started

    try:
        box = _in_thread(first_then_leave, 10)
    finally:
        stalling.release.set()
        for worker in [t for t in threading.enumerate() if t.name.startswith("cfinval-")]:
            worker.join(5)  # the workers still on the network end by themselves
        client.close()
    tenant, took = box["value"]
    assert tenant == "dt_fast"
    assert took < 1.0


# --- the sync attempt deadline holds while headers drip -------------------------------------------


@pytest.fixture
def header_dripper() -> Iterator[str]:
    """A server that sends a status line, then one header byte every 0.1 s for ever."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.wait(0.1):
                    try:
                        conn.sendall(b"X")
                    except OSError:
                        break

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


def test_sync_attempt_deadline_holds_while_headers_drip(header_dripper: str) -> None:
    client = cfinval.Client(
        FAKE_CREDENTIALS,
        endpoint_url=header_dripper,
        timeout=2,
        attempt_timeout=1,
        max_attempts=1,
    )

    def call() -> float:
        started = time.monotonic()
        with pytest.raises(cfinval.TransportError, match="attempt_timeout"):
            client.list_invalidations_for_distribution_tenant(Id="dt_1")
        return time.monotonic() - started

    try:
        took = _in_thread(call, 10)["value"]
    finally:
        client.close()
    assert 0.9 <= took < 2.0


# --- event loops: a module-level AsyncClient across asyncio.run() calls ---------------------------


def test_one_async_client_serves_successive_event_loops() -> None:
    fake = _fake_with(["dt_1"])
    with fake.serve() as server:
        client = cfinval.AsyncClient(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url)

        async def handler() -> str:
            page = await client.list_invalidations_for_distribution_tenant(Id="dt_1")
            return page.items[0].id

        assert [asyncio.run(handler()) for _ in range(5)] == ["IDT_1"] * 5

        async def close() -> None:
            await client.aclose()

        asyncio.run(close())


def test_a_brought_async_client_says_it_cannot_follow_another_loop() -> None:
    fake = _fake_with(["dt_1"])
    mine = httpx.AsyncClient(transport=fake.transport())
    client = cfinval.AsyncClient(FAKE_CREDENTIALS, http_client=mine)

    async def call() -> None:
        await client.list_invalidations_for_distribution_tenant(Id="dt_1")

    asyncio.run(call())
    with pytest.raises(RuntimeError, match="create one per event loop"):
        asyncio.run(call())


# --- trio ---------------------------------------------------------------------------------------


def test_async_client_runs_under_trio() -> None:
    trio = pytest.importorskip("trio")
    fake = FakeCloudFront()
    for n in range(3):
        fake.add_invalidation("dt_1", f"I{n}")
    fake.add_invalidation("dt_2", "J0")
    with fake.serve() as server:

        async def main() -> tuple[Any, ...]:
            async with cfinval.AsyncClient(
                FAKE_CREDENTIALS, endpoint_url=server.endpoint_url
            ) as client:
                page = await client.list_invalidations_for_distribution_tenant(Id="dt_1")
                items = [i.id async for i in client.iter_invalidations("dt_1", page_size=1)]
                many = sorted(
                    [(r.tenant_id, len(r.items)) async for r in client.list_many(["dt_1", "dt_2"])]
                )
                return page.quantity, items, many

        quantity, items, many = trio.run(main)
    assert quantity == 3
    assert items == ["I2", "I1", "I0"]
    assert many == [("dt_1", 3), ("dt_2", 1)]


# --- fork ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_client_used_across_fork_never_returns_the_other_process_tenant() -> None:
    fake = FakeCloudFront()
    fake.add_invalidation("dt_5", "I5")
    fake.add_invalidation("dt_7", "I7")
    with fake.serve() as server:
        client = cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url)
        client.list_invalidations_for_distribution_tenant(Id="dt_7")  # a pooled connection
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover  (the child reports through the pipe)
            wrong = 0
            try:
                for _ in range(150):
                    page = client.list_invalidations_for_distribution_tenant(Id="dt_5")
                    wrong += page.items[0].id != "I5"
            except BaseException:
                wrong = 255
            os.write(write, bytes([min(wrong, 255)]))
            os._exit(0)
        os.close(write)
        wrong_here = sum(
            client.list_invalidations_for_distribution_tenant(Id="dt_7").items[0].id != "I7"
            for _ in range(150)
        )
        _, status = os.waitpid(pid, 0)
        wrong_there = os.read(read, 1)
        os.close(read)
        client.close()
    assert status == 0
    assert wrong_here == 0
    assert wrong_there == b"\x00"


def test_fan_out_sleeps_are_effects_not_real_waits() -> None:
    """The fan-out's pacing is a ``Sleep`` effect the client performs (here: recorded)."""
    fake = _fake_with(["dt_1"])
    fake.add_fault(Fault.throttling(), count=1)
    slept: list[float] = []
    client = cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=fake.transport()),
        max_attempts=1,
        sleep=slept.append,
    )
    results = list(client.list_many(["dt_1"]))
    assert [(r.error, [i.id for i in r.items or ()]) for r in results] == [(None, ["IDT_1"])]
    assert slept
    assert all(s > 0 for s in slept)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_during_a_credential_refresh_leaves_the_child_free_to_load_its_own() -> None:
    fake = _fake_with(["dt_1"])
    parent = os.getpid()
    loading = threading.Event()
    release = threading.Event()

    class Slow:
        def load(self) -> cfinval.Credentials:
            if os.getpid() == parent:
                loading.set()
                release.wait(10)  # the parent's refresh is in flight when the fork happens
            return FAKE_CREDENTIALS

    with fake.serve() as server:
        client = cfinval.Client(Slow(), endpoint_url=server.endpoint_url)
        refresh = threading.Thread(
            target=client.list_invalidations_for_distribution_tenant, args=("dt_1",)
        )
        refresh.start()
        assert loading.wait(5)
        pid = os.fork()
        if pid == 0:  # pragma: no cover  (the child reports through its exit status)
            signal_ok = 1
            try:
                page = client.list_invalidations_for_distribution_tenant(Id="dt_1")
                signal_ok = 0 if page.items[0].id == "IDT_1" else 2
            finally:
                os._exit(signal_ok)
        release.set()
        refresh.join(5)
        deadline = time.monotonic() + 10
        while True:  # the child must end by itself: it must not wait on the parent's refresh
            done, status = os.waitpid(pid, os.WNOHANG)
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not done:  # pragma: no cover  (only when the bug is back)
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        client.close()
    assert done
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_brought_http_client_used_before_a_fork_is_refused_in_the_child() -> None:
    fake = _fake_with(["dt_1"])
    client = cfinval.Client(FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport()))
    client.list_invalidations_for_distribution_tenant(Id="dt_1")
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child reports through its exit status)
        try:
            client.list_invalidations_for_distribution_tenant(Id="dt_1")
        except RuntimeError as exc:
            os._exit(0 if "os.fork()" in str(exc) else 2)
        except BaseException:
            os._exit(3)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    client.list_invalidations_for_distribution_tenant(Id="dt_1")  # the parent carries on


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_an_async_client_used_across_fork_serves_each_process_its_own_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over TLS, a connection two processes both use fails for the second one at once (its
    copy of the session's record counters is behind the server's), so this fails whenever
    the child reuses what the parent pooled, race or no race: the child first, then the parent
    on its pooled connection, with one attempt. The child goes on with the very event loop
    that pooled it (a new loop would get a new pool anyway, leaving the fork reset untested);
    select() keeps no kernel state that the two copies of the loop would share, as epoll does.
    """
    tls = make_tls_files(tmp_path)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls.ca))
    fake = FakeCloudFront()
    fake.add_invalidation("dt_5", "I5")
    fake.add_invalidation("dt_7", "I7")
    with fake.serve(ssl_certfile=tls.cert, ssl_keyfile=tls.key) as server:
        client = cfinval.AsyncClient(
            FAKE_CREDENTIALS, endpoint_url=server.endpoint_url, max_attempts=1
        )

        async def ids(tenant: str, times: int) -> set[str]:
            return {
                (await client.list_invalidations_for_distribution_tenant(Id=tenant)).items[0].id
                for _ in range(times)
            }

        loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
        try:
            assert loop.run_until_complete(ids("dt_7", 1)) == {"I7"}  # a pooled connection
            pid = os.fork()
            if pid == 0:  # pragma: no cover  (the child reports through its exit status)
                try:
                    seen = loop.run_until_complete(ids("dt_5", 20))
                    os._exit(0 if seen == {"I5"} else 2)
                except BaseException:
                    os._exit(3)
            _, status = os.waitpid(pid, 0)
            here = loop.run_until_complete(ids("dt_7", 20))  # the parent's pooled connection
            loop.run_until_complete(client.aclose())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert here == {"I7"}


def test_an_async_client_in_use_by_a_running_loop_refuses_a_second_loop_clearly() -> None:
    fake = _fake_with(["dt_1"])
    with fake.serve() as server:
        client = cfinval.AsyncClient(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url)
        busy = threading.Event()
        done = threading.Event()

        async def first() -> None:
            await client.list_invalidations_for_distribution_tenant(Id="dt_1")
            busy.set()
            while not done.is_set():  # this loop keeps running, as another thread's would
                await asyncio.sleep(0.01)

        async def second() -> None:
            await client.list_invalidations_for_distribution_tenant(Id="dt_1")

        thread = threading.Thread(target=asyncio.run, args=(first(),))
        thread.start()
        try:
            assert busy.wait(5)
            with pytest.raises(RuntimeError, match="one AsyncClient per event loop"):
                asyncio.run(second())
        finally:
            done.set()
            thread.join(5)


def test_ctrl_c_on_an_audit_with_stalled_requests_exits_130_at_once(
    stalling: _StallingServer, tmp_path: Any
) -> None:
    import signal
    import subprocess
    import sys

    ids = tmp_path / "ids.txt"
    ids.write_text("dt_slow1\ndt_fast\ndt_slow2\n")
    url = stalling.url
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS.access_key_id,
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS.secret_access_key,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    audit = subprocess.Popen(
        [sys.executable, "-m", "cfinval", "audit", "--ids-file", str(ids), "--endpoint-url", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl+C's default, whatever the parent ignores
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 10
        while stalling.waiting < 2 and time.monotonic() < deadline:  # both slow ones in flight
            time.sleep(0.02)
        started = time.monotonic()
        audit.send_signal(signal.SIGINT)
        _, err = audit.communicate(timeout=10)
        took = time.monotonic() - started
    finally:
        if audit.poll() is None:  # pragma: no cover  (only when the bug is back)
            audit.kill()
            audit.communicate()
    assert audit.returncode == 130
    assert took < 2.0
    assert "Traceback" not in err


# --- redirects are never followed ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_redirect_is_never_followed_even_by_a_client_that_follows_them(kind: str) -> None:
    # A brought client says follow_redirects=True; a 307 to another origin must not take the
    # signature and the session token there.
    creds = cfinval.Credentials("AKIDREDIRECT00000001", "SECRET-redirect", "TOKEN-redirect-1")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "collector.example":
            return httpx.Response(404)
        location = "https://collector.example/steal" + request.url.raw_path.decode()
        return httpx.Response(307, headers={"Location": location})

    transport = httpx.MockTransport(handler)

    def call() -> None:
        if kind == "sync":
            http = httpx.Client(transport=transport, follow_redirects=True)
            with cfinval.Client(creds, http_client=http, max_attempts=1) as client:
                client.list_invalidations_for_distribution_tenant(Id="dt_1")
            return

        async def main() -> None:
            http = httpx.AsyncClient(transport=transport, follow_redirects=True)
            async with cfinval.AsyncClient(creds, http_client=http, max_attempts=1) as client:
                await client.list_invalidations_for_distribution_tenant(Id="dt_1")

        asyncio.run(main())

    with pytest.raises(cfinval.CloudFrontError) as raised:
        call()
    assert [r.url.host for r in seen] == ["cloudfront.amazonaws.com"]
    assert raised.value.status_code == 307  # botocore's answer too: "An error occurred (307)"
