"""``wait_invalidation_for_distribution_tenant_completed``: botocore's
``InvalidationForDistributionTenantCompleted`` waiter, call for call and sleep for sleep, in
virtual time (botocore's ``time.sleep`` patched, our ``sleep=`` hook), sync and async."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.waiter
import httpx
import pytest
from botocore.awsrequest import AWSResponse

import cfinval
from cfinval._core.call import Session
from cfinval._core.effects import Send, Sleep, run
from cfinval._core.http import HttpResponse
from cfinval._core.invalidations import GetInvalidation
from cfinval._core.protocol import NAMESPACE
from cfinval._core.waiter import WaiterConfig, invalidation_waiter_flow
from cfinval.testing import FAKE_CREDENTIALS

from .conftest import _Raw

TENANT = "dt_2wjDZi3hD1ivOXf6rpZJO1AB"
INV = "I2J0I21PCUYOIK"
PATH = f"/2020-05-31/distribution-tenant/{TENANT}/invalidation/{INV}"
START = 5_000.0


def body(status: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<Invalidation xmlns="{NAMESPACE}"><Id>{INV}</Id>'
        f"<Status>{status}</Status><CreateTime>2026-12-04T12:00:01Z</CreateTime>"
        "<InvalidationBatch><Paths><Quantity>1</Quantity><Items><Path>/index.html</Path>"
        "</Items></Paths><CallerReference>deploy-42</CallerReference></InvalidationBatch>"
        "</Invalidation>"
    ).encode()


def error(code: str, status: int = 404) -> tuple[int, bytes]:
    return status, (
        f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>The specified invalidation does not exist.</Message>"
        "</Error><RequestId>req-1</RequestId></ErrorResponse>"
    ).encode()


Answer = tuple[int, bytes]
PROGRESS: Answer = (200, body("InProgress"))
DONE: Answer = (200, body("Completed"))


class Script:
    """The answers to serve in turn, and the log of calls and sleeps (virtual time)."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = list(answers)
        self.now = START
        self.log: list[tuple[str, Any]] = []

    def clock(self) -> float:
        return self.now

    def answer(self, path: str) -> Answer:
        self.log.append(("call", path))
        self.now += 0.25  # each call takes a moment: waited = sleeps + calls
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def sleep(self, seconds: float) -> None:
        self.log.append(("sleep", seconds))
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def botocore_run(answers: list[Answer], config: dict[str, Any] | None) -> tuple[Script, Any]:
    """boto3's waiter over the scripted answers: its log and outcome."""
    script = Script(answers)
    client = boto3.client(
        "cloudfront",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="oracle-secret",
        config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )

    def send(request: Any, **_: Any) -> AWSResponse:
        status, content = script.answer(request.url.split(".com", 1)[1])
        return AWSResponse(request.url, status, {}, _Raw(content))  # type: ignore[arg-type]

    client.meta.events.register("before-send.cloudfront.*", send)
    waiter = client.get_waiter("invalidation_for_distribution_tenant_completed")
    kwargs: dict[str, Any] = {"DistributionTenantId": TENANT, "Id": INV}
    if config is not None:
        kwargs["WaiterConfig"] = config
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.waiter.time, "sleep", script.sleep)
        try:
            waiter.wait(**kwargs)
        except botocore.exceptions.WaiterError as exc:
            return script, ("failed", exc.kwargs["reason"])
    return script, ("done", None)


def transport(script: Script) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        status, content = script.answer(request.url.raw_path.decode())
        return httpx.Response(status, content=content)

    return httpx.MockTransport(handler)


def ours_sync(answers: list[Answer], config: dict[str, Any] | None) -> tuple[Script, Any]:
    script = Script(answers)
    with cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=transport(script)),
        clock=script.clock,
        sleep=script.sleep,
    ) as client:
        try:
            return script, client.wait_invalidation_for_distribution_tenant_completed(
                TENANT, INV, WaiterConfig=config
            )
        except cfinval.Error as exc:
            return script, exc


def ours_async(answers: list[Answer], config: dict[str, Any] | None) -> tuple[Script, Any]:
    script = Script(answers)

    async def go() -> Any:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS,
            http_client=httpx.AsyncClient(transport=transport(script)),
            clock=script.clock,
            sleep=script.asleep,
        ) as client:
            try:
                return await client.wait_invalidation_for_distribution_tenant_completed(
                    TENANT, INV, WaiterConfig=config
                )
            except cfinval.Error as exc:
                return exc

    return script, asyncio.run(go())


RUNNERS: dict[str, Callable[[list[Answer], dict[str, Any] | None], tuple[Script, Any]]] = {
    "sync": ours_sync,
    "async": ours_async,
}

CASES: dict[str, tuple[list[Answer], dict[str, Any] | None]] = {
    "completed-at-once": ([DONE], None),
    "completed-on-the-third-call": ([PROGRESS, PROGRESS, DONE], None),
    "completed-on-the-last-call": ([PROGRESS] * 29 + [DONE], None),
    "defaults-run-out": ([PROGRESS], None),
    "own-delay-and-attempts": ([PROGRESS], {"Delay": 5, "MaxAttempts": 4}),
    "one-attempt": ([PROGRESS], {"MaxAttempts": 1}),
    "zero-delay": ([PROGRESS, PROGRESS, DONE], {"Delay": 0}),
    "fractional-delay": ([PROGRESS, DONE], {"Delay": 0.5, "MaxAttempts": 3}),
    "no-such-invalidation-at-once": ([error("NoSuchInvalidation")], None),
    "error-after-progress": ([PROGRESS, PROGRESS, error("AccessDenied", 403)], None),
    "unknown-status-keeps-waiting": ([(200, body("Pending")), DONE], None),
}


@pytest.mark.parametrize("kind", RUNNERS)
@pytest.mark.parametrize("case", CASES)
def test_calls_and_sleeps_equal_botocores_waiter(case: str, kind: str) -> None:
    answers, config = CASES[case]
    theirs, outcome = botocore_run(answers, config)
    ours, result = RUNNERS[kind](answers, config)
    assert ours.log == theirs.log
    assert ours.now == theirs.now  # the same virtual time spent
    if outcome[0] == "done":
        assert isinstance(result, cfinval.Invalidation)
        assert (result.id, result.status) == (INV, "Completed")
    elif outcome[1] == "Max attempts exceeded":
        assert isinstance(result, cfinval.WaitTimeoutError)
        assert str(result).startswith(
            "Waiter InvalidationForDistributionTenantCompleted failed: Max attempts exceeded"
        )
    else:  # botocore: "An error occurred (Code): message"; ours: the typed error itself
        assert isinstance(result, cfinval.CloudFrontError)
        assert outcome[1] == f"An error occurred ({result.code}): {result.message}"
        assert type(result) is cfinval._errors.error_class_for_code(result.code)


def test_the_default_cadence_is_the_models() -> None:
    model = boto3.client("cloudfront", region_name="us-east-1").get_waiter(
        "invalidation_for_distribution_tenant_completed"
    )
    assert (model.config.delay, model.config.max_attempts) == (20, 30)
    assert model.config.operation == "GetInvalidationForDistributionTenant"
    assert WaiterConfig.create(None) == WaiterConfig(20, 30)


def test_running_out_says_how_long_it_waited_and_what_is_still_in_progress() -> None:
    _, result = ours_sync([PROGRESS], {"Delay": 20, "MaxAttempts": 30})
    assert isinstance(result, cfinval.WaitTimeoutError)
    assert isinstance(result, TimeoutError)
    assert result.waited == pytest.approx(29 * 20 + 30 * 0.25)  # monotonic: sleeps and calls
    assert result.pending == (INV,)
    assert isinstance(result.last, cfinval.Invalidation)
    assert result.last.status == "InProgress"
    assert str(result) == (
        "Waiter InvalidationForDistributionTenantCompleted failed: Max attempts exceeded: "
        f"waited 9 min 48 s (30 call(s), 20 s apart) and invalidation {INV} of distribution "
        f"tenant {TENANT} is still InProgress"
    )
    copy = pickle.loads(pickle.dumps(result))  # noqa: S301  # our own bytes
    assert (str(copy), copy.pending, copy.waited) == (str(result), result.pending, result.waited)


def test_a_step_of_the_wall_clock_changes_nothing_of_the_wait() -> None:
    script = Script([PROGRESS, PROGRESS, DONE])
    client = cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=transport(script)),
        clock=script.clock,
        sleep=script.sleep,
    )
    client._session.clock = lambda: script.now - 7200.0  # the wall clock alone stepped back
    with client:
        done = client.wait_invalidation_for_distribution_tenant_completed(
            TENANT, INV, WaiterConfig={"Delay": 1, "MaxAttempts": 3}
        )
    assert done.status == "Completed"
    assert [entry for entry in script.log if entry[0] == "sleep"] == [("sleep", 1), ("sleep", 1)]


BAD_CONFIGS: list[tuple[object, str]] = [
    ([("Delay", 1)], "WaiterConfig must be a dict"),
    ({"delay": 1}, "unknown keys: delay"),
    ({"Delay": -1}, "Delay'] must be zero or more seconds"),
    ({"Delay": float("nan")}, "Delay'] must be zero or more seconds"),
    ({"Delay": "20"}, "Delay'] must be zero or more seconds"),
    ({"Delay": True}, "Delay'] must be zero or more seconds"),
    ({"MaxAttempts": 0}, "MaxAttempts'] must be a positive int"),
    ({"MaxAttempts": 2.5}, "MaxAttempts'] must be a positive int"),
    ({"MaxAttempts": False}, "MaxAttempts'] must be a positive int"),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS)
def test_a_bad_waiter_config_is_refused_before_anything_is_sent(
    config: object, message: str
) -> None:
    script = Script([DONE])
    with (
        cfinval.Client(
            FAKE_CREDENTIALS,
            http_client=httpx.Client(transport=transport(script)),
            sleep=script.sleep,
        ) as client,
        pytest.raises(cfinval.ParamValidationError, match=message.replace("[", r"\[")),
    ):
        client.wait_invalidation_for_distribution_tenant_completed(
            TENANT,
            INV,
            WaiterConfig=config,  # type: ignore[arg-type]
        )
    assert script.log == []


@pytest.mark.parametrize(
    ("tenant", "inv"), [("", INV), (TENANT, ""), (TENANT, None), ("dt\n1", INV)]
)
def test_bad_ids_are_refused_before_anything_is_sent(tenant: object, inv: object) -> None:
    script = Script([DONE])

    async def go() -> None:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, http_client=httpx.AsyncClient(transport=transport(script))
        ) as client:
            await client.wait_invalidation_for_distribution_tenant_completed(
                tenant,  # type: ignore[arg-type]
                inv,  # type: ignore[arg-type]
            )

    with pytest.raises(cfinval.ParamValidationError):
        asyncio.run(go())
    assert script.log == []


def test_the_flow_yields_sends_and_sleeps_only() -> None:
    """The flow itself, driven by hand: no I/O of its own, only effects."""
    from cfinval._core.effects import immediate
    from cfinval._core.protocol import Endpoint
    from cfinval._core.retry import StandardRetry

    class Static:
        def get(self) -> Any:
            return immediate(FAKE_CREDENTIALS)

        def invalidate(self, stale: Any) -> None:
            raise AssertionError("no refresh expected")

    now = [START]
    session = Session(
        Endpoint.from_url("https://cloudfront.amazonaws.com"),
        Static(),
        StandardRetry(),
        clock=lambda: now[0],
        monotonic=lambda: now[0],
    )
    flow = invalidation_waiter_flow(
        session, GetInvalidation.validate(TENANT, INV), WaiterConfig(7, 2)
    )
    effects: list[str] = []

    def perform(effect: Any) -> Any:
        effects.append(type(effect).__name__)
        if isinstance(effect, Send):
            return HttpResponse(200, {}, body("InProgress"))
        assert isinstance(effect, Sleep)
        now[0] += effect.seconds
        return None

    with pytest.raises(cfinval.WaitTimeoutError) as caught:
        run(flow, perform)
    assert caught.value.waited == 7
    assert effects == ["Send", "Sleep", "Send"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0.0 s"),
        (0.26, "0.3 s"),
        (12.4, "12 s"),
        (59.6, "1 min"),
        (587.5, "9 min 48 s"),
        (3723, "1 h 2 min 3 s"),
        (7200, "2 h 0 min"),
    ],
)
def test_durations_read_as_people_write_them(seconds: float, text: str) -> None:
    from cfinval._core.timeouts import format_duration

    assert format_duration(seconds) == text
