"""Request metadata (``_core/metadata.py``): what boto3 sends besides the signature, and how."""

from __future__ import annotations

import datetime as dt
import logging
import re
from contextlib import suppress
from types import SimpleNamespace
from typing import Any
from unittest import mock

import httpx
import pytest

import cfinval
from cfinval._core.metadata import UNSIGNED_HEADERS, build_user_agent
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, Fault, RecordedRequest

from ._local_aws import boto3_session
from .conftest import Home

TENANT = "dt_meta"
LAMBDA_TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def make_fake(**kwargs: Any) -> FakeCloudFront:
    fake = FakeCloudFront(seed=5, **kwargs)
    fake.add_tenant(TENANT)
    fake.add_invalidation(TENANT)
    return fake


def boto3_requests(
    fake: FakeCloudFront, retries: dict[str, Any] | None = None
) -> list[RecordedRequest]:
    """What boto3 sends for one call to ``fake`` (its backoff sleeps skipped)."""
    import botocore.config
    import botocore.endpoint
    from botocore.exceptions import ClientError
    from botocore.retries.adaptive import ClientRateLimiter

    no_sleep = SimpleNamespace(sleep=lambda _s: None)
    with (
        fake.serve() as server,
        mock.patch.object(botocore.endpoint, "time", no_sleep),
        # adaptive mode's rate limiter would wait for tokens: not what is tested here
        mock.patch.object(ClientRateLimiter, "on_sending_request", return_value=None),
        suppress(ClientError),
    ):
        client = boto3_session().client(  # a new session reads the environment anew
            "cloudfront",
            region_name="us-east-1",
            endpoint_url=server.endpoint_url,
            aws_access_key_id=FAKE_CREDENTIALS.access_key_id,
            aws_secret_access_key=FAKE_CREDENTIALS.secret_access_key,
            config=botocore.config.Config(retries=retries or {"mode": "standard"}),
        )
        client.list_invalidations_for_distribution_tenant(Id=TENANT)
    return list(fake.requests)


def cfinval_requests(fake: FakeCloudFront, **kwargs: Any) -> list[RecordedRequest]:
    client = cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=fake.transport()),
        sleep=lambda _s: None,
        **kwargs,
    )
    with suppress(cfinval.CloudFrontError):
        client.list_invalidations_for_distribution_tenant(Id=TENANT)
    return list(fake.requests)


def masked_ttl(value: str) -> str:
    return re.sub(r"ttl=\d{8}T\d{6}Z", "ttl=<date>", value)


# --- amz-sdk-request, amz-sdk-invocation-id ---------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "max_attempts", "throttles"),
    [
        ("standard", None, 2),
        ("adaptive", None, 2),
        ("legacy", None, 2),
        ("standard", 4, 1),
        ("legacy", 3, 3),  # gives up: every attempt throttled
    ],
)
def test_amz_sdk_request_is_botocores_in_each_retry_mode(
    mode: str, max_attempts: int | None, throttles: int
) -> None:
    retries: dict[str, Any] = {"mode": mode}
    if max_attempts is not None:
        retries["total_max_attempts"] = max_attempts
    boto_fake, our_fake = make_fake(), make_fake()
    for fake in (boto_fake, our_fake):
        fake.add_fault(Fault.throttling(), start=1, count=throttles)
    theirs = boto3_requests(boto_fake, retries)
    ours = cfinval_requests(our_fake, retry_mode=mode, max_attempts=max_attempts)
    expected = [masked_ttl(r.headers["amz-sdk-request"]) for r in theirs]
    assert [masked_ttl(r.headers["amz-sdk-request"]) for r in ours] == expected
    limit = max_attempts or (5 if mode == "legacy" else 3)
    assert expected[0] == ("attempt=1" if mode == "legacy" else f"attempt=1; max={limit}")
    assert all(value.startswith("ttl=<date>; attempt=") for value in expected[1:])
    ids = {r.headers["amz-sdk-invocation-id"] for r in ours}
    assert len(ids) == 1
    assert UUID4.match(ids.pop())


def test_each_call_has_its_own_invocation_id() -> None:
    fake = make_fake()
    client = cfinval.Client(FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport()))
    for _ in range(2):
        client.list_invalidations_for_distribution_tenant(Id=TENANT)
    first, second = (r.headers["amz-sdk-invocation-id"] for r in fake.requests)
    assert first != second


def scripted(answers: list[Any]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    body = (
        b'<?xml version="1.0"?><InvalidationList xmlns="http://cloudfront.amazonaws.com/doc/'
        b'2020-05-31/"><Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated>'
        b"<Quantity>0</Quantity></InvalidationList>"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[len(seen) - 1]
        if isinstance(answer, Exception):
            raise answer
        status, date = answer
        headers = {"date": date} if date else {}
        return httpx.Response(status, headers=headers, content=body if status == 200 else b"")

    return httpx.MockTransport(handler), seen


def test_ttl_is_the_last_dated_responses_date_plus_the_read_timeout() -> None:
    # botocore keeps the last ttl it computed: a network failure or an undated response
    # leaves it as it was.
    date = "Sun, 29 Nov 2026 20:00:00 GMT"
    transport, seen = scripted(
        [(503, date), httpx.ReadError("reset"), (503, None), (200, "garbage date")]
    )
    client = cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=transport),
        max_attempts=4,
        timeout=7.5,
        sleep=lambda _s: None,
    )
    client.list_invalidations_for_distribution_tenant(Id=TENANT)
    assert [r.headers["amz-sdk-request"] for r in seen] == [
        "attempt=1; max=4",
        "ttl=20261129T200007Z; attempt=2; max=4",
        "ttl=20261129T200007Z; attempt=3; max=4",
        "ttl=20261129T200007Z; attempt=4; max=4",
    ]


def test_no_ttl_without_a_read_timeout() -> None:
    transport, seen = scripted([(503, "Sun, 29 Nov 2026 20:00:00 GMT"), (200, None)])
    client = cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=transport),
        timeout=None,
        sleep=lambda _s: None,
    )
    client.list_invalidations_for_distribution_tenant(Id=TENANT)
    assert [r.headers["amz-sdk-request"] for r in seen] == [
        "attempt=1; max=3",
        "attempt=2; max=3",
    ]


# --- User-Agent ---------------------------------------------------------------------------------


def tokens(agent: str) -> list[str]:
    return agent.split(" ")


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(token in rest for token in part)


def test_user_agent_has_the_aws_sdk_shape_and_botocores_components(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SDK_UA_APP_ID", "billing app/2#eu")
    monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.11")
    theirs = tokens(boto3_requests(make_fake(), {"mode": "adaptive"})[0].headers["user-agent"])
    mine = tokens(cfinval_requests(make_fake(), retry_mode="adaptive")[0].headers["user-agent"])
    assert mine[0] == f"cfinval/{cfinval.__version__}"
    # botocore lists more features (credentials, checksums); the retry mode's is among them.
    (boto_features,) = (t for t in theirs if t.startswith("m/"))
    assert "F" in boto_features[2:].split(",")
    # Everything but the SDK's name is one of botocore's components, in botocore's order.
    assert mine[1:] == [
        "m/F" if token == boto_features else token
        for token in theirs
        if token.split("/")[0] in ("ua", "os", "lang", "exec-env", "m", "cfg", "app")
        or token.startswith(("md/arch#", "md/pyimpl#"))
    ]
    assert mine[-3:] == ["m/F", "cfg/retry-mode#adaptive", "app/billing-app-2#eu"]
    assert "exec-env/AWS_Lambda_python3.11" in mine


@pytest.mark.parametrize("app_id", ["my app/1", "a#b", "ünï:code", "ok-_.~", "x" * 60])
def test_app_id_is_cleaned_as_botocore_cleans_it(app_id: str) -> None:
    from botocore.useragent import sanitize_user_agent_string_component

    agent = build_user_agent("standard", app_id)
    assert tokens(agent)[-1] == "app/" + sanitize_user_agent_string_component(app_id, True)


def test_app_id_comes_from_the_environment_else_the_profile(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:

    home.config("[default]\nsdk_ua_app_id = from-profile\n")

    def app_ids() -> tuple[str | None, str | None]:
        boto = boto3_session().client(
            "cloudfront", region_name="us-east-1", aws_access_key_id="A", aws_secret_access_key="S"
        )
        agent = cfinval.Client(FAKE_CREDENTIALS)._session.meta.user_agent
        app = [t[4:] for t in tokens(agent) if t.startswith("app/")]
        return boto.meta.config.user_agent_appid or None, app[0] if app else None

    assert app_ids() == ("from-profile", "from-profile")
    monkeypatch.setenv("AWS_SDK_UA_APP_ID", "from-env")
    assert app_ids() == ("from-env", "from-env")
    monkeypatch.setenv("AWS_SDK_UA_APP_ID", "")  # set but empty: hides the profile's, as in boto3
    assert app_ids() == (None, None)


def test_a_long_app_id_is_sent_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_SDK_UA_APP_ID", "a" * 51)
    with caplog.at_level(logging.WARNING, logger="cfinval"):
        agent = cfinval.Client(FAKE_CREDENTIALS)._session.meta.user_agent
    assert agent.endswith(" app/" + "a" * 51)
    assert "longer than 50 characters" in caplog.text


def test_an_unknown_platform_is_os_other_with_its_name_as_metadata() -> None:
    build_user_agent.cache_clear()
    try:
        with (
            mock.patch("platform.system", return_value="Plan 9"),
            mock.patch("platform.release", return_value="4e (beta)"),
        ):
            agent = build_user_agent()
    finally:
        build_user_agent.cache_clear()
    assert tokens(agent)[2:4] == ["os/other", "md/Plan-9#4e--beta-"]


# --- X-Amzn-Trace-Id in Lambda, and what is never signed ----------------------------------------


@pytest.mark.parametrize(
    "trace_id",
    [
        LAMBDA_TRACE,
        "Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a87bd80c:1|68fd508a:5|c512fbe3:2",
        "Root=1-abc def/ghi;Sampled=0",
        "Root=1-\u00e9t\u00e9;Parent=\"x\",'y'[]{}&+",
    ],
)
def test_lambda_trace_id_is_sent_on_every_attempt_encoded_as_botocore_does(
    trace_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.handlers import add_recursion_detection_header

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", trace_id)
    params: dict[str, Any] = {"headers": {}}
    add_recursion_detection_header(params)
    fake = make_fake()
    fake.add_fault(Fault.error(503), start=1, count=1)
    requests = cfinval_requests(fake, tracing=False)
    assert len(requests) == 2
    assert [r.headers["x-amzn-trace-id"] for r in requests] == [
        params["headers"]["X-Amzn-Trace-Id"]
    ] * 2


@pytest.mark.parametrize(
    "env", [{"_X_AMZN_TRACE_ID": LAMBDA_TRACE}, {"AWS_LAMBDA_FUNCTION_NAME": "fn"}]
)
def test_no_trace_header_outside_lambda(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (request,) = cfinval_requests(make_fake(), tracing=False)
    assert "x-amzn-trace-id" not in request.headers


def test_the_unsigned_headers_are_botocores() -> None:
    import botocore.auth

    assert set(botocore.auth.SIGNED_HEADERS_BLACKLIST) == UNSIGNED_HEADERS


def signed_headers(request: RecordedRequest) -> str:
    match = re.search(r"SignedHeaders=([^,]+),", request.headers["authorization"])
    assert match is not None
    return match[1]


def test_we_sign_the_headers_boto3_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", LAMBDA_TRACE)
    (theirs,) = boto3_requests(make_fake())
    (ours,) = cfinval_requests(make_fake())
    assert signed_headers(ours) == signed_headers(theirs) == "host;x-amz-date"
    metadata = {"amz-sdk-invocation-id", "amz-sdk-request", "user-agent", "x-amzn-trace-id"}
    assert metadata <= set(ours.headers)
    assert metadata <= set(theirs.headers)


#: What tracing, an instrumentation or a proxy may add or rewrite once a request is signed.
ADDED_AFTER_SIGNING = {
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "tracestate": "rojo=00f067aa0ba902b7",
    "baggage": "userId=alice",
    "x-amzn-trace-id": "Root=1-00000000-000000000000000000000000;Sampled=0",
    "user-agent": "rewritten-by-a-proxy/1.0",
}


def test_trace_headers_added_after_signing_do_not_break_the_signature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", LAMBDA_TRACE)  # sent, but not signed: rewritable

    def add_trace_headers(request: httpx.Request) -> None:  # an instrumentation, a proxy
        request.headers.update(ADDED_AFTER_SIGNING)

    fake = make_fake()
    http = httpx.Client(transport=fake.transport(), event_hooks={"request": [add_trace_headers]})
    client = cfinval.Client(FAKE_CREDENTIALS, http_client=http)
    page = client.list_invalidations_for_distribution_tenant(Id=TENANT)
    assert page.attempts == 1  # the fake verified the signature at once
    (request,) = fake.requests
    assert {name: request.headers[name] for name in ADDED_AFTER_SIGNING} == ADDED_AFTER_SIGNING


def test_sts_requests_carry_the_aws_sdk_user_agent() -> None:
    from cfinval._core.protocol import Endpoint, sign_form_post

    request = sign_form_post(
        Endpoint.from_url("https://sts.amazonaws.com"),
        "sts",
        [("Action", "X")],
        None,
        dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    )
    agent = request.header("User-Agent")
    assert agent is not None
    assert tokens(agent)[:2] == [f"cfinval/{cfinval.__version__}", "ua/2.1"]


def test_the_version_is_written_in_one_place() -> None:
    # The User-Agent, the tracer and the package metadata must never disagree about it.
    import ast
    from pathlib import Path

    package = Path(cfinval.__file__).parent
    written = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value == cfinval.__version__
    )
    assert written == ["_version.py"]
