"""The deploy step (``invalidate_tenants``): one invalidation per tenant over the fake, with
throttling and the in-flight limits, in virtual time; resumable; partial failures reported."""

from __future__ import annotations

import asyncio
import datetime
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import httpx
import pytest

import cfinval
from cfinval._core.deploy import Deployment, DeployOptions, InFlightGate
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, Fault

CREATE = "CreateInvalidationForDistributionTenant"
GET = "GetInvalidationForDistributionTenant"
PATHS = ["/index.html", "/static/*"]  # one wildcard each: 15 tenants in progress at most


class Clock:
    """Virtual time shared by the client (monotonic and wall) and the fake: sleeping moves it
    on at once, and never sleeps for real.

    Each thread has its own timeline (the fake's transport runs in the caller's thread, so a
    request is signed and checked on the same one); a thread starts at the latest time any
    thread has reached. So workers that sleep side by side overlap in virtual time instead of
    adding up. Tasks of one event loop share the thread's timeline."""

    def __init__(self) -> None:
        self.latest = 1_780_000_000.0
        self.slept = 0.0
        self._lock = threading.Lock()
        self._local = threading.local()

    def __call__(self) -> float:
        now: float | None = getattr(self._local, "now", None)
        if now is None:
            with self._lock:
                now = self._local.now = self.latest
        return now

    def sleep(self, seconds: float) -> None:
        now = self._local.now = self() + seconds
        with self._lock:
            self.latest = max(self.latest, now)
            self.slept += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)


class Wire:
    """The fake behind a transport that also counts the answers by error code."""

    def __init__(self, fake: FakeCloudFront, hold_gets: bool = False) -> None:
        self.fake = fake
        self.codes: Counter[str] = Counter()
        self.creates = 0  # answered
        self._lock = threading.Lock()
        #: With ``hold_gets``, Gets wait until a create was refused for the in-flight limits:
        #: the first tenants' invalidations stay in progress while the others create (a
        #: worker's flow is otherwise quick enough to run whole in one slice of the GIL).
        self.refused = threading.Event()
        if not hold_gets:
            self.refused.set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.refused.wait(10)
        reply = self.fake.respond(
            request.method, request.url.raw_path.decode(), dict(request.headers), request.content
        )
        if reply.fault is not None and reply.fault.kind == "reset":
            with self._lock:
                self.codes["reset"] += 1
            raise httpx.ReadError("[fake] connection reset by peer", request=request)
        code = str(reply.status)
        if request.method == "POST" and request.url.path.endswith("/invalidation"):
            with self._lock:
                self.creates += 1
        for name in ("Throttling", "TooManyInvalidationsInProgress"):
            if name.encode() in reply.body:
                code = name
        with self._lock:
            self.codes[code] += 1
        if code == "TooManyInvalidationsInProgress":
            self.refused.set()
        return httpx.Response(reply.status, headers=dict(reply.headers), content=reply.body)


def fleet(count: int, clock: Clock, **options: Any) -> tuple[FakeCloudFront, list[str]]:
    fake = FakeCloudFront(clock=clock, **options)
    ids = [f"dt_{n:04d}" for n in range(count)]
    for tenant_id in ids:
        fake.add_tenant(tenant_id)
    return fake, ids


def client_for(wire: Wire, clock: Clock, **options: Any) -> cfinval.Client:
    options.setdefault("sleep", clock.sleep)
    return cfinval.Client(
        options.pop("credentials", FAKE_CREDENTIALS),
        http_client=httpx.Client(transport=httpx.MockTransport(wire)),
        clock=clock,
        **options,
    )


def held(clock: Clock, wire: Wire, creates: int) -> Callable[[float], None]:
    """A sleep that first waits (for real, briefly) until ``creates`` creates were answered:
    a sleeping tenant does not run ahead in virtual time before the others have started (a
    sleeping one is parked, so the others may start meanwhile)."""

    def sleep(seconds: float) -> None:
        deadline = time.monotonic() + 10
        while wire.creates < creates and time.monotonic() < deadline:
            time.sleep(0.001)
        clock.sleep(seconds)

    return sleep


def async_client_for(wire: Wire, clock: Clock, **options: Any) -> cfinval.AsyncClient:
    return cfinval.AsyncClient(
        FAKE_CREDENTIALS,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(wire)),
        clock=clock,
        sleep=clock.asleep,
        **options,
    )


def created(fake: FakeCloudFront, tenant_id: str) -> list[str]:
    return [item.id for item in fake.listing(tenant_id)]


def assert_exact(
    fake: FakeCloudFront,
    ids: Iterable[str],
    results: list[cfinval.TenantInvalidation],
    prefix: str,
    status: str | None = None,
) -> None:
    """Every tenant reported once, with exactly one invalidation, the one reported."""
    ids = list(ids)
    assert sorted(r.tenant_id for r in results) == sorted(ids)
    for result in results:
        assert result.ok, result
        assert result.invalidation is not None
        assert result.caller_reference == f"{prefix}-{result.tenant_id}"
        assert created(fake, result.tenant_id) == [result.invalidation.id]
        assert fake.invalidation_paths(result.tenant_id, result.invalidation.id) == tuple(PATHS)
        assert result.invalidation.invalidation_batch.caller_reference == result.caller_reference
        if status is not None:
            assert result.invalidation.status == status


# --- 500 tenants, exact -------------------------------------------------------------------------


def test_500_tenants_each_get_exactly_one_invalidation_and_wait_until_completed() -> None:
    clock = Clock()
    # Completed on the third Get.
    fake, ids = fleet(500, clock, complete_after=None, complete_after_gets=2)
    fake.max_wildcards_in_progress = 4  # fewer than the tenants creating at once
    fake.add_fault(Fault.throttling(), every=9, operation=CREATE)
    fake.add_fault(Fault.throttling(), every=11, operation=GET)
    fake.add_fault(Fault.reset(), every=37, operation=CREATE)  # the 201 is lost: retried
    wire = Wire(fake, hold_gets=True)
    with client_for(wire, clock) as client:
        run = client.invalidate_tenants(
            PATHS,
            tenant_ids=ids,
            caller_reference="deploy-42",
            wait=True,
            concurrency=16,
            poll=20,
            timeout=None,  # 500 tenants, 4 at a time, a minute each: two hours and more
        )
        assert run.caller_reference == "deploy-42"
        results = list(run)
        report = run.report()
    assert_exact(fake, ids, results, "deploy-42", status="Completed")
    assert report.ok
    assert report.complete
    assert report.tenants == 500
    assert report.results == tuple(results)
    assert report.counts() == {"Completed": 500}
    # The limits were met and waited out, throttling and lost answers retried.
    assert wire.codes["TooManyInvalidationsInProgress"] > 0
    assert wire.codes["Throttling"] > 0
    assert wire.codes["reset"] > 0
    assert wire.codes["201"] == 500  # one answer delivered per tenant, lost ones retried
    assert fake.in_progress() == (0, 0)


def test_500_tenants_async_without_waiting_exactly_one_each() -> None:
    clock = Clock()
    fake, ids = fleet(500, clock, complete_after=60.0)
    fake.max_paths_in_progress = 20  # ten tenants' two paths: the limit on paths this time
    fake.add_fault(Fault.throttling(), every=7, operation=CREATE)
    wire = Wire(fake)

    async def deploy() -> tuple[list[cfinval.TenantInvalidation], cfinval.InvalidationReport]:
        async with async_client_for(wire, clock) as client:
            # (tasks' sleeps add up on the virtual clock: no deadline)
            run = client.invalidate_tenants(PATHS, tenant_ids=ids, concurrency=16, timeout=None)
            results = [result async for result in run]
            return results, await run.report()

    results, report = asyncio.run(deploy())
    assert report.caller_reference.startswith("cfinval-")
    assert_exact(fake, ids, results, report.caller_reference)
    assert report.ok
    assert report.tenants == 500
    assert len(report.results) == 500
    assert wire.codes["TooManyInvalidationsInProgress"] > 0
    assert wire.codes["Throttling"] > 0


# --- tenants of a distribution -----------------------------------------------------------------


def test_distribution_id_invalidates_every_tenant_of_that_distribution_only() -> None:
    clock = Clock()
    fake = FakeCloudFront(clock=clock, max_page_size=7)  # the tenant listing takes pages
    mine = [f"dt_mine{n:02d}" for n in range(17)]
    for tenant_id in mine:
        fake.add_tenant(tenant_id, distribution_id="EDIST1")
    fake.add_tenant("dt_other", distribution_id="EDIST2")

    with client_for(Wire(fake), clock) as client:
        report = client.invalidate_tenants(PATHS, distribution_id="EDIST1").report()
    assert report.tenants == 17
    assert_exact(fake, mine, list(report.results), report.caller_reference)
    assert created(fake, "dt_other") == []

    async def again() -> cfinval.InvalidationReport:
        async with async_client_for(Wire(fake), clock) as client:
            run = client.invalidate_tenants(
                PATHS, distribution_id="EDIST1", caller_reference=report.caller_reference
            )
            assert run.tenants is None  # not listed yet
            return await run.report()

    resumed = asyncio.run(again())
    assert resumed.tenants == 17
    assert_exact(fake, mine, list(resumed.results), report.caller_reference)


def test_a_distribution_that_cannot_be_listed_raises() -> None:
    clock = Clock()
    fake, _ = fleet(2, clock)
    fake.add_fault(Fault.error(403, "AccessDenied"), operation="ListDistributionTenants")
    with client_for(Wire(fake), clock) as client:
        run = client.invalidate_tenants(PATHS, distribution_id="EDIST1")
        with pytest.raises(cfinval.AccessDenied):
            next(run)
    assert fake.served == 1


# --- resuming -----------------------------------------------------------------------------------


def test_a_rerun_with_the_same_prefix_creates_nothing() -> None:
    clock = Clock()
    fake, ids = fleet(40, clock, complete_after=60.0)
    wire = Wire(fake)
    with client_for(wire, clock) as client:
        first = client.invalidate_tenants(PATHS, tenant_ids=ids, wait=True).report()
        again = client.invalidate_tenants(
            PATHS, tenant_ids=ids, caller_reference=first.caller_reference
        ).report()
    assert_exact(fake, ids, list(again.results), first.caller_reference, status="Completed")
    before = {r.tenant_id: r.invalidation for r in first.results}
    assert {r.tenant_id: r.invalidation for r in again.results} == before


def test_an_interrupted_run_resumed_with_its_prefix_creates_each_invalidation_once() -> None:
    clock = Clock()
    fake, ids = fleet(120, clock, complete_after=60.0)
    wire = Wire(fake)
    with client_for(wire, clock) as client:
        run = client.invalidate_tenants(PATHS, tenant_ids=ids, concurrency=8)
        for _ in range(20):
            next(run)
        run.close()
        partial = run.report()
        assert not partial.complete
        assert not partial.ok
        assert len(partial.results) == 20
        resumed = client.invalidate_tenants(
            PATHS, tenant_ids=ids, caller_reference=run.caller_reference, concurrency=8
        ).report()
    assert_exact(fake, ids, list(resumed.results), run.caller_reference)
    # What the first run reported is what the second found.
    found = {r.tenant_id: r.invalidation for r in resumed.results}
    for result in partial.results:
        assert result.invalidation is not None
        assert found[result.tenant_id] is not None
        assert found[result.tenant_id].id == result.invalidation.id  # type: ignore[union-attr]


def test_a_prefix_reused_for_other_paths_is_refused_per_tenant_and_creates_nothing() -> None:
    clock = Clock()
    fake, ids = fleet(5, clock)
    with client_for(Wire(fake), clock) as client:
        first = client.invalidate_tenants(PATHS, tenant_ids=ids, caller_reference="r1").report()
        other = client.invalidate_tenants(
            ["/other.html"], tenant_ids=ids, caller_reference="r1"
        ).report()
    assert first.ok
    assert other.counts() == {"Failed": 5}
    for result in other.results:
        assert isinstance(result.error, cfinval.CloudFrontError)
        assert result.error.code == "InvalidationBatchAlreadyExists"
        assert result.invalidation is None
    assert_exact(fake, ids, list(first.results), "r1")


# --- failures -----------------------------------------------------------------------------------


def test_failed_tenants_are_reported_and_lose_no_result_sync_and_async() -> None:
    clock = Clock()
    fake, ids = fleet(30, clock)
    fake.add_tenant("dt_denied", access_denied=True)
    tenants = [*ids[:10], "dt_missing", "dt_denied", *ids[10:]]

    def check(report: cfinval.InvalidationReport) -> None:
        by_id = {r.tenant_id: r for r in report.results}
        assert len(report.results) == len(tenants) == report.tenants
        assert isinstance(by_id["dt_missing"].error, cfinval.EntityNotFound)
        assert isinstance(by_id["dt_denied"].error, cfinval.AccessDenied)
        assert by_id["dt_missing"].invalidation is None
        assert {r.tenant_id for r in report.failed} == {"dt_missing", "dt_denied"}
        counts = report.counts()
        assert counts.pop("Failed") == 2
        assert sum(counts.values()) == 30
        assert set(counts) <= {"InProgress", "Completed"}
        assert report.complete
        assert not report.ok
        doc = by_id["dt_denied"].to_json_dict()
        assert doc["Status"] == "Failed"
        assert doc["Error"]["Code"] == "AccessDenied"
        assert "Invalidation" not in doc
        assert_exact(fake, ids, [r for r in report.results if r.ok], report.caller_reference)

    with client_for(Wire(fake), clock) as client:
        first = client.invalidate_tenants(PATHS, tenant_ids=tenants).report()
    check(first)

    async def again() -> cfinval.InvalidationReport:
        async with async_client_for(Wire(fake), clock) as client:
            return await client.invalidate_tenants(
                PATHS, tenant_ids=tenants, caller_reference=first.caller_reference
            ).report()

    check(asyncio.run(again()))


def test_throttling_past_the_retries_is_resumed_and_a_failed_poll_keeps_the_invalidation() -> None:
    clock = Clock()
    fake, ids = fleet(6, clock, complete_after=None, complete_after_gets=1)
    fake.add_fault(Fault.throttling(), start=1, count=2, operation=CREATE)
    fake.add_fault(Fault.throttling(), start=1, count=1, operation=GET)
    fake.add_fault(Fault.error(404, "NoSuchInvalidation"), start=4, count=1, operation=GET)
    wire = Wire(fake)
    with client_for(wire, clock, max_attempts=1) as client:  # no retry inside a call
        report = client.invalidate_tenants(PATHS, tenant_ids=ids, wait=True, poll=5).report()
    assert wire.codes["Throttling"] == 3
    assert report.counts() == {"Completed": 5, "Failed": 1}
    (lost,) = report.failed
    assert isinstance(lost.error, cfinval.NoSuchInvalidation)
    assert lost.invalidation is not None
    assert lost.invalidation.status == "InProgress"  # its last known state
    others = [tenant_id for tenant_id in ids if tenant_id != lost.tenant_id]
    assert_exact(fake, others, [r for r in report.results if r.ok], report.caller_reference)
    assert created(fake, lost.tenant_id) == [lost.invalidation.id]


def test_a_deadline_reports_the_tenants_still_refused_or_in_progress() -> None:
    clock = Clock()
    fake, ids = fleet(20, clock, complete_after=None)  # nothing ever completes
    wire = Wire(fake)
    with client_for(wire, clock, sleep=held(clock, wire, 16)) as client:
        report = client.invalidate_tenants(
            PATHS, tenant_ids=ids, wait=True, poll=10, timeout=300, concurrency=4
        ).report()
    assert report.tenants == len(report.results) == 20
    # 15 wildcards in progress at most: 15 created and timed out waiting, 5 refused (or, if
    # they came after the deadline, not sent).
    waited = [r for r in report.results if r.invalidation is not None]
    assert len(waited) == 15
    for result in report.results:
        if result.invalidation is None:
            assert isinstance(
                result.error, (cfinval.TooManyInvalidationsInProgress, cfinval.WaitTimeoutError)
            )
        else:
            assert isinstance(result.error, cfinval.WaitTimeoutError)
            assert result.invalidation is not None
            assert result.invalidation.status == "InProgress"
            assert result.error.pending == (result.invalidation.id,)
            assert "300 s" in str(result.error)
    assert sum(len(created(fake, t)) for t in ids) == 15


def test_missing_credentials_stop_the_run() -> None:
    clock = Clock()
    fake, ids = fleet(3, clock)

    def nothing() -> cfinval.Credentials:
        raise cfinval.NoCredentialsError("no credentials")

    client = cfinval.Client(
        nothing, http_client=httpx.Client(transport=httpx.MockTransport(Wire(fake)))
    )
    with client, pytest.raises(cfinval.NoCredentialsError):
        list(client.invalidate_tenants(PATHS, tenant_ids=ids))
    assert fake.served == 0


# --- early exit ---------------------------------------------------------------------------------


def test_leaving_early_stops_the_workers_sync() -> None:
    clock = Clock()
    fake, ids = fleet(40, clock)
    release = threading.Event()
    wire = Wire(fake)

    def handler(request: httpx.Request) -> httpx.Response:
        if "/dt_0000/" not in request.url.raw_path.decode():
            release.wait(5)  # the others are in flight until the consumer has left
        return wire(request)

    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=clock,
        sleep=clock.sleep,
    ) as client:
        run = client.invalidate_tenants(PATHS, tenant_ids=ids, concurrency=4)
        first = next(run)
        run.close()
        release.set()
        for worker in [t for t in threading.enumerate() if t.name.startswith("cfinval-")]:
            worker.join(5)
    assert first.tenant_id == "dt_0000"
    # dt_0000 and the three started with it: no tenant started after the consumer left.
    assert fake.served <= 4
    assert sum(len(created(fake, t)) for t in ids) <= 4


def test_leaving_early_cancels_the_tasks_async() -> None:
    clock = Clock()
    fake, ids = fleet(40, clock)
    wire = Wire(fake)

    async def handler(request: httpx.Request) -> httpx.Response:
        if "/dt_0000/" not in request.url.raw_path.decode():
            await asyncio.sleep(30)  # cancelled when the consumer leaves
        return wire(request)

    async def deploy() -> cfinval.TenantInvalidation:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            clock=clock,
            sleep=clock.asleep,
        ) as client:
            run = client.invalidate_tenants(PATHS, tenant_ids=ids, concurrency=4)
            first = await run.__anext__()
            await asyncio.wait_for(run.aclose(), 5)
            return first

    assert asyncio.run(deploy()).tenant_id == "dt_0000"
    assert fake.served == 1


# --- arguments and the pieces -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"paths": PATHS}, "not neither"),
        ({"paths": PATHS, "tenant_ids": ["a"], "distribution_id": "E1"}, "not both"),
        ({"paths": "/index.html", "tenant_ids": ["a"]}, "single str"),
        ({"paths": ["index.html"], "tenant_ids": ["a"]}, "must start with '/'"),
        ({"paths": PATHS, "tenant_ids": "dt_a"}, "collection of tenant Ids"),
        ({"paths": PATHS, "tenant_ids": ["dt_a", 3]}, "tenant_ids[1] must be a str"),
        ({"paths": PATHS, "tenant_ids": [], "caller_reference": ""}, "non-empty str"),
        ({"paths": PATHS, "tenant_ids": [], "caller_reference": "a\nb"}, "control characters"),
        ({"paths": PATHS, "tenant_ids": [], "wait": "yes"}, "wait must be True or False"),
        ({"paths": PATHS, "tenant_ids": [], "concurrency": 0}, "concurrency"),
        ({"paths": PATHS, "tenant_ids": [], "poll": 0}, "poll"),
        ({"paths": PATHS, "tenant_ids": [], "timeout": -1}, "timeout"),
    ],
)
def test_bad_arguments_raise_before_anything_is_sent(kwargs: dict[str, Any], message: str) -> None:
    sent: list[httpx.Request] = []
    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(sent.append)),  # type: ignore[arg-type]
    ) as client:
        paths = kwargs.pop("paths")
        with pytest.raises(cfinval.ParamValidationError, match=message.replace("[", r"\[")):
            client.invalidate_tenants(paths, **kwargs)
    assert sent == []


def test_an_empty_tenant_list_reports_nothing_and_sends_nothing() -> None:
    clock = Clock()
    fake, _ = fleet(0, clock)
    with client_for(Wire(fake), clock) as client:
        report = client.invalidate_tenants(PATHS, tenant_ids=[], caller_reference="r").report()
    assert report.to_json_dict() == {
        "CallerReference": "r",
        "Paths": PATHS,
        "Tenants": 0,
        "Counts": {},
        "Complete": True,
        "Results": [],
    }
    assert fake.served == 0


def test_duplicate_tenant_ids_are_invalidated_once() -> None:
    options = DeployOptions.create(PATHS, tenant_ids=["a", "b", "a"], caller_reference="p")
    assert options.tenant_ids == ("a", "b")
    assert options.reference("b") == "p-b"
    run = Deployment(options, options.tenant_ids or (), started=100.0)
    assert len(run) == 2
    assert run.deadline == 100.0 + 3600.0
    assert run.max_running == 8
    waiting = Deployment(
        DeployOptions.create(PATHS, tenant_ids=["a"], wait=True, timeout=None), ["a"], 0.0
    )
    assert waiting.deadline is None
    assert waiting.max_running == 32


def test_the_gate_backs_off_with_each_round_of_refusals_and_opens_on_a_completion() -> None:
    gate = InFlightGate(base_delay=5.0, max_delay=60.0, random=lambda: 1.0)
    assert gate.wait_time(0.0) == 0.0
    for _ in range(8):  # eight creates sent together, refused together: one round
        gate.refused(0.0)
    assert gate.wait_time(0.0) == 5.0
    assert gate.streak == 1
    gate.refused(5.0)  # the gate opened, the next create was refused: the second round
    assert gate.wait_time(5.0) == 10.0
    gate.refused(6.0)  # while closed: the same round (its jitter may extend it)
    assert gate.wait_time(6.0) == 10.0
    assert gate.streak == 2
    now = 15.0
    for _ in range(10):
        gate.refused(now)
        now += gate.wait_time(now)
    assert gate.wait_time(now - 60.0) == 60.0
    gate.completed(now)
    assert gate.wait_time(now) == 0.0
    assert gate.streak == 0
    assert gate.refusals == 20


# --- the deadline bounds the whole run ---------------------------------------------------------


@pytest.mark.parametrize("wait", [False, True])
def test_the_deadline_bounds_the_run_and_nothing_is_created_after_it(wait: bool) -> None:
    clock = Clock()
    fake, ids = fleet(120, clock, complete_after=None)  # nothing ever completes
    sent_after: list[str] = []
    wire = Wire(fake)
    start = clock()
    deadline = start + 300

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and clock() > deadline:
            sent_after.append(request.url.raw_path.decode())
        return wire(request)

    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=clock,
        sleep=held(clock, wire, 16),
    ) as client:
        report = client.invalidate_tenants(
            PATHS, tenant_ids=ids, wait=wait, poll=10, timeout=300, concurrency=4
        ).report()
    # The run ends within the deadline and one call's worth (a call's own retries: seconds).
    assert clock.latest - start <= 300 + 30
    assert sent_after == []
    assert report.tenants == len(report.results) == 120
    assert sum(len(created(fake, t)) for t in ids) == 15
    late = [r for r in report.results if isinstance(r.error, cfinval.WaitTimeoutError)]
    never = [r for r in late if r.invalidation is None]
    assert never, Counter(type(r.error).__name__ for r in report.results)
    for result in never:
        assert "deadline" in str(result.error)
        assert "before its create" in str(result.error)
        assert result.error.pending == ()  # type: ignore[union-attr]


# --- what stops a run: credentials, the batch ----------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True])
def test_a_credential_failure_mid_run_reports_every_tenant_then_raises(use_async: bool) -> None:
    clock = Clock()
    fake, ids = fleet(40, clock, complete_after=60.0)
    wire = Wire(fake)
    calls = 0
    lock = threading.Lock()

    def credentials() -> cfinval.Credentials:  # STS fails on the 11th refresh, and after
        nonlocal calls
        with lock:
            calls += 1
            if calls > 10:
                raise cfinval.CredentialRetrievalError("assume-role", "STS answered 503")
        # 5 minutes left: within the mandatory refresh window, so every call refreshes
        expiry = datetime.datetime.fromtimestamp(clock() + 300, datetime.timezone.utc)
        return attrs.evolve(FAKE_CREDENTIALS, expiration=expiry)

    class Provider:
        def load(self) -> cfinval.Credentials:
            return credentials()

    def check(run: Any, error: BaseException) -> None:
        assert isinstance(error, cfinval.CredentialRetrievalError)
        assert len(run.results) == 40  # every tenant reported: none in flight is lost
        sent = [r for r in run.results if r.ok]
        stopped = [r for r in run.results if not r.ok]
        assert len(sent) == 10
        assert all(r.error is error for r in stopped)
        assert all(created(fake, r.tenant_id) == [] for r in stopped)
        assert wire.creates == 10  # nothing sent after the failure

    if not use_async:
        with client_for(wire, clock, credentials=Provider()) as client:
            run = client.invalidate_tenants(PATHS, tenant_ids=ids, concurrency=1)
            with pytest.raises(cfinval.CredentialRetrievalError) as caught:
                run.report()
            check(run, caught.value)
            partial = run.report()  # after the error: what was reported
            assert not partial.complete
            assert len(partial.results) == 40
        return

    async def deploy() -> None:
        async with cfinval.AsyncClient(
            Provider(),
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(wire)),
            clock=clock,
            sleep=clock.asleep,
        ) as client:
            run = client.invalidate_tenants(PATHS, tenant_ids=ids, concurrency=1)
            with pytest.raises(cfinval.CredentialRetrievalError) as caught:
                await run.report()
            check(run, caught.value)
            assert not (await run.report()).complete

    asyncio.run(deploy())


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (Fault.error(413, "BatchTooLarge"), "BatchTooLarge"),
        (Fault.error(400, "InconsistentQuantities"), "InconsistentQuantities"),
        (Fault.error(400, "InvalidArgument"), "InvalidArgument"),
    ],
)
def test_a_batch_level_error_is_sent_a_few_times_not_once_per_tenant(
    fault: Fault, code: str
) -> None:
    clock = Clock()
    fake, ids = fleet(500, clock)
    fake.add_fault(fault, operation=CREATE)
    wire = Wire(fake)
    with client_for(wire, clock) as client:
        report = client.invalidate_tenants(PATHS, tenant_ids=ids, concurrency=4).report()
    assert report.tenants == len(report.results) == 500
    assert report.counts() == {"Failed": 500}
    assert {r.error.code for r in report.results} == {code}  # type: ignore[union-attr]
    assert fake.served <= 4 + 1  # the tenants in flight, and a second InvalidArgument
    assert sum(len(created(fake, t)) for t in ids) == 0


def test_an_invalid_argument_for_one_tenant_stops_no_other() -> None:
    clock = Clock()
    fake, ids = fleet(20, clock)
    fake.add_fault(Fault.error(400, "InvalidArgument"), count=1, operation=CREATE)
    with client_for(Wire(fake), clock) as client:
        report = client.invalidate_tenants(PATHS, tenant_ids=ids, concurrency=1).report()
    assert report.counts() == {"InProgress": 19, "Failed": 1}


def test_polling_goes_on_after_network_and_5xx_errors_until_completed() -> None:
    clock = Clock()
    fake, ids = fleet(3, clock, complete_after=None, complete_after_gets=3)
    fake.add_fault(Fault.reset(), start=1, count=1, operation=GET)
    fake.add_fault(Fault.error(500, "InternalError"), start=2, count=1, operation=GET)
    fake.add_fault(Fault.error(503, "ServiceUnavailable"), start=3, count=1, operation=GET)
    with client_for(Wire(fake), clock, max_attempts=1) as client:  # no retry inside a call
        report = client.invalidate_tenants(
            PATHS, tenant_ids=ids, wait=True, poll=5, concurrency=1
        ).report()
    assert report.counts() == {"Completed": 3}, [str(r.error) for r in report.failed]


@pytest.mark.parametrize("error", [SystemExit(3), KeyboardInterrupt()])
def test_a_worker_that_raises_a_base_exception_hands_it_to_the_consumer_sync_and_async(
    error: BaseException, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfinval._core import deploy

    def broken(*args: Any) -> Any:
        raise error
        yield  # a generator, as a flow is

    monkeypatch.setattr(deploy, "invalidation_flow", broken)
    clock = Clock()
    fake, ids = fleet(3, clock)
    with client_for(Wire(fake), clock) as client, pytest.raises(type(error)):
        list(client.invalidate_tenants(PATHS, tenant_ids=ids))

    async def deploy_async() -> str:
        async with async_client_for(Wire(fake), clock) as client:
            try:
                await client.invalidate_tenants(PATHS, tenant_ids=ids).report()
            except type(error):
                return "raised where the run is consumed"
        return "not raised"

    # Not out of the event loop past the consumer (asyncio's way for a task's BaseException).
    assert asyncio.run(deploy_async()) == "raised where the run is consumed"
    assert fake.served == 0


@pytest.mark.parametrize("timeout", [140.0, 170.0])
def test_the_deadline_counts_from_before_the_tenant_listing(timeout: float) -> None:
    clock = Clock()
    fake = FakeCloudFront(clock=clock)
    mine = [f"dt_mine{n:03d}" for n in range(250)]  # three pages of tenants
    for tenant_id in mine:
        fake.add_tenant(tenant_id, distribution_id="EDIST1")
    wire = Wire(fake)

    def handler(request: httpx.Request) -> httpx.Response:
        # each page of the listing takes 50 s, each create 10 s
        clock.sleep(10.0 if "/distribution-tenant/" in request.url.path else 50.0)
        return wire(request)

    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=clock,
        sleep=clock.sleep,
    ) as client:
        run = client.invalidate_tenants(
            PATHS, distribution_id="EDIST1", timeout=timeout, concurrency=1
        )
        if timeout < 150:  # the listing itself outlasts the deadline
            with pytest.raises(cfinval.WaitTimeoutError, match="while listing the tenants"):
                run.report()
            assert wire.creates == 0
            return
        report = run.report()
    # 150 s listing, then one create every 10 s until 170 s: two sent, the others not.
    assert report.tenants == 250
    assert wire.creates == 2
    assert report.counts() == {"InProgress": 2, "Failed": 248}
    assert all("before its create" in str(r.error) for r in report.failed)


def test_a_credential_failure_while_waiting_reports_the_invalidations_made() -> None:
    clock = Clock()
    fake, ids = fleet(6, clock, complete_after=None)  # never completes: every tenant polls
    wire = Wire(fake)
    calls = 0
    lock = threading.Lock()

    class Provider:
        def load(self) -> cfinval.Credentials:
            nonlocal calls
            with lock:
                calls += 1
                if calls > 12:  # six creates, then a few polls
                    raise cfinval.CredentialRetrievalError("assume-role", "STS answered 503")
            expiry = datetime.datetime.fromtimestamp(clock() + 300, datetime.timezone.utc)
            return attrs.evolve(FAKE_CREDENTIALS, expiration=expiry)

    with client_for(wire, clock, credentials=Provider(), sleep=held(clock, wire, 6)) as client:
        run = client.invalidate_tenants(PATHS, tenant_ids=ids, wait=True, poll=5, concurrency=6)
        with pytest.raises(cfinval.CredentialRetrievalError) as caught:
            run.report()
    assert len(run.results) == 6
    for result in run.results:
        assert result.error is caught.value
        assert result.invalidation is not None  # created before: kept in the report
        assert created(fake, result.tenant_id) == [result.invalidation.id]
