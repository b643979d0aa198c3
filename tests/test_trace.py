"""OpenTelemetry spans (``_core/trace.py``); the oracle: opentelemetry-instrumentation-botocore."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from unittest import mock

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.util._once import Once

import cfinval
from cfinval._core.call import list_flow
from cfinval._core.effects import Send
from cfinval._core.protocol import ListParams
from cfinval._core.trace import SCHEMA_URL, SPAN_NAME, span_attributes
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, Fault

TENANT = "dt_traced"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """A fresh global tracer provider exporting to memory (the global one is restored after)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    saved = (trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE)
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = saved
        provider.shutdown()


def make_fake(pages: int = 1) -> FakeCloudFront:
    fake = FakeCloudFront(seed=12)
    fake.add_tenant(TENANT)
    for _ in range(pages * 2):
        fake.add_invalidation(TENANT)
    return fake


def client_for(fake: FakeCloudFront, **kwargs: Any) -> cfinval.Client:
    return cfinval.Client(
        FAKE_CREDENTIALS,
        http_client=httpx.Client(transport=fake.transport()),
        sleep=lambda _seconds: None,
        **kwargs,
    )


def boto3_spans(
    endpoint_url: str, exporter: InMemorySpanExporter, tenant_id: str, max_attempts: int = 3
) -> tuple[list[ReadableSpan], dict[str, Any]]:
    """The spans opentelemetry-instrumentation-botocore makes for boto3's call (no real sleep)."""
    import boto3
    import botocore.config
    import botocore.endpoint
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    client = boto3.client(
        "cloudfront",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id=FAKE_CREDENTIALS.access_key_id,
        aws_secret_access_key=FAKE_CREDENTIALS.secret_access_key,
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": max_attempts}),
    )
    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument()
    outcome: dict[str, Any]
    try:
        with mock.patch.object(botocore.endpoint, "time", SimpleNamespace(sleep=lambda _s: None)):
            outcome = client.list_invalidations_for_distribution_tenant(Id=tenant_id)
    except Exception as exc:
        outcome = getattr(exc, "response", None) or {"error": exc}
    finally:
        instrumentor.uninstrument()
    spans = list(exporter.get_finished_spans())
    exporter.clear()
    return spans, outcome


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def only(spans: Any) -> ReadableSpan:
    assert len(spans) == 1, [s.name for s in spans]
    span: ReadableSpan = spans[0]
    return span


# --- the same span as botocore's instrumentation ------------------------------------------------


def test_a_listing_with_one_throttled_retry_is_one_span_equal_to_botocores(
    exporter: InMemorySpanExporter,
) -> None:
    fake = make_fake()
    fake.add_fault(Fault.throttling(), start=1, every=2)  # each client's first attempt
    with fake.serve() as server:
        theirs, response = boto3_spans(server.endpoint_url, exporter, TENANT)
        client = cfinval.Client(
            FAKE_CREDENTIALS,
            region="us-east-1",
            endpoint_url=server.endpoint_url,
            sleep=lambda _s: None,
        )
        with client:
            page = client.list_invalidations_for_distribution_tenant(Id=TENANT)
    assert [request.fault for request in fake.requests] == ["throttle", None] * 2
    boto_span, ours = only(theirs), only(exporter.get_finished_spans())
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert (ours.name, ours.kind) == (boto_span.name, boto_span.kind)
    assert (ours.name, ours.kind) == (SPAN_NAME, SpanKind.CLIENT)
    mine, expected = attributes(ours), attributes(boto_span)
    # Each call got its own response: the request id is each one's own.
    assert expected.pop("aws.request_id") == response["ResponseMetadata"]["RequestId"]
    assert mine.pop("aws.request_id") == page.request_id
    assert mine == expected
    for key in ("rpc.system", "rpc.service", "rpc.method", "retry_attempts", "http.status_code"):
        assert mine[key] == expected[key], key
    assert mine["retry_attempts"] == 1
    assert mine["http.status_code"] == 200
    assert ours.status.status_code is boto_span.status.status_code is StatusCode.UNSET
    assert ours.events == boto_span.events == ()
    scopes = (ours.instrumentation_scope, boto_span.instrumentation_scope)
    assert [scope.schema_url if scope else None for scope in scopes] == [SCHEMA_URL, SCHEMA_URL]


def test_a_service_error_records_the_exception_and_sets_error_like_botocore(
    exporter: InMemorySpanExporter,
) -> None:
    fake = make_fake()
    with fake.serve() as server:
        theirs, _ = boto3_spans(server.endpoint_url, exporter, "dt_missing")
        client = cfinval.Client(
            FAKE_CREDENTIALS, region="us-east-1", endpoint_url=server.endpoint_url
        )
        with client, pytest.raises(cfinval.EntityNotFound) as raised:
            client.list_invalidations_for_distribution_tenant(Id="dt_missing")
    boto_span, ours = only(theirs), only(exporter.get_finished_spans())
    mine, expected = attributes(ours), attributes(boto_span)
    assert mine.pop("aws.request_id") == raised.value.request_id
    assert expected.pop("aws.request_id")
    assert mine == expected
    assert mine["http.status_code"] == 404
    assert ours.status.status_code is boto_span.status.status_code is StatusCode.ERROR
    assert ours.status.description == boto_span.status.description == str(raised.value)
    (event,) = ours.events
    (boto_event,) = boto_span.events
    assert event.name == boto_event.name == "exception"
    ours_event, boto = dict(event.attributes or {}), dict(boto_event.attributes or {})
    assert ours_event["exception.message"] == boto["exception.message"] == str(raised.value)
    assert ours_event["exception.type"] == "cfinval.EntityNotFound"  # where users import it


def test_a_network_failure_is_an_error_span_with_only_the_request_attributes_like_botocore(
    exporter: InMemorySpanExporter,
) -> None:
    fake = make_fake()
    fake.add_fault(Fault.reset())
    with fake.serve() as server:
        theirs, _ = boto3_spans(server.endpoint_url, exporter, TENANT, max_attempts=1)
        client = cfinval.Client(
            FAKE_CREDENTIALS, region="us-east-1", endpoint_url=server.endpoint_url, max_attempts=1
        )
        with client, pytest.raises(cfinval.TransportError) as raised:
            client.list_invalidations_for_distribution_tenant(Id=TENANT)
    boto_span, ours = only(theirs), only(exporter.get_finished_spans())
    assert attributes(ours) == attributes(boto_span)
    assert "http.status_code" not in attributes(ours)
    assert ours.status.status_code is StatusCode.ERROR
    assert ours.status.description == str(raised.value)
    assert [event.name for event in ours.events] == ["exception"]


def test_the_span_attributes_name_the_endpoint_as_botocore_does() -> None:
    from cfinval._core.protocol import Endpoint

    global_ = Endpoint.from_url("https://cloudfront.amazonaws.com")
    assert span_attributes(global_, "aws-global") == {
        "rpc.system": "aws-api",
        "rpc.service": "CloudFront",
        "rpc.method": "ListInvalidationsForDistributionTenant",
        "cloud.region": "aws-global",
        "server.address": "cloudfront.amazonaws.com",
        "server.port": 443,
    }
    v6 = span_attributes(Endpoint.from_url("https://[::1]:9443"), None)
    assert (v6["server.address"], v6["server.port"]) == ("::1", 9443)
    assert "cloud.region" not in v6


@pytest.mark.parametrize(
    ("kwargs", "region"),
    [
        ({}, "aws-global"),
        ({"region": "eu-west-1"}, "aws-global"),
        ({"region": "cn-north-1"}, "aws-cn-global"),
        ({"region": "eu-west-1", "endpoint_url": "http://127.0.0.1:9"}, "eu-west-1"),
        ({"endpoint_url": "http://127.0.0.1:9"}, None),
    ],
)
def test_cloud_region_is_the_region_botocores_client_reports(
    kwargs: dict[str, str], region: str | None
) -> None:
    import boto3

    boto = boto3.client(
        "cloudfront",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        region_name=kwargs.get("region"),
        endpoint_url=kwargs.get("endpoint_url"),
    )
    assert boto.meta.region_name == region
    assert cfinval.Client(FAKE_CREDENTIALS, **kwargs)._session.meta.region == region


# --- where spans go -----------------------------------------------------------------------------


def test_a_client_built_before_the_provider_was_set_traces() -> None:
    fake = make_fake()
    client = client_for(fake)  # no provider yet in this test: the proxy one
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    saved = (trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE)
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    try:
        client.list_invalidations_for_distribution_tenant(Id=TENANT)  # nothing recorded
        trace.set_tracer_provider(provider)
        client.list_invalidations_for_distribution_tenant(Id=TENANT)
    finally:
        trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = saved
    assert only(exporter.get_finished_spans()).name == SPAN_NAME


def test_the_span_nests_under_the_callers_current_span_in_both_drivers(
    exporter: InMemorySpanExporter,
) -> None:
    fake = make_fake()
    tracer = trace.get_tracer("app")
    with tracer.start_as_current_span("sync-parent") as sync_parent:
        client_for(fake).list_invalidations_for_distribution_tenant(Id=TENANT)

    async def main() -> trace.Span:
        client = cfinval.AsyncClient(
            FAKE_CREDENTIALS, http_client=httpx.AsyncClient(transport=fake.transport())
        )
        async with client:
            with tracer.start_as_current_span("async-parent") as parent:
                await client.list_invalidations_for_distribution_tenant(Id=TENANT)
        return parent

    async_parent = asyncio.run(main())
    calls = [s for s in exporter.get_finished_spans() if s.name == SPAN_NAME]
    parents = [s.parent.span_id if s.parent else None for s in calls]
    assert parents == [
        sync_parent.get_span_context().span_id,
        async_parent.get_span_context().span_id,
    ]
    assert all(s.context.trace_id == s.parent.trace_id for s in calls if s.parent)


def test_each_page_of_a_listing_is_its_own_span(exporter: InMemorySpanExporter) -> None:
    fake = make_fake(pages=3)
    with trace.get_tracer("app").start_as_current_span("listing") as parent:
        pages = list(client_for(fake).paginate(TENANT, page_size=2))
    assert len(pages) == 3
    calls = [s for s in exporter.get_finished_spans() if s.name == SPAN_NAME]
    assert [s.attributes["aws.request_id"] for s in calls if s.attributes] == [
        page.request_id for page in pages
    ]
    assert {s.parent.span_id for s in calls if s.parent} == {parent.get_span_context().span_id}


def test_fan_out_traces_each_tenant_under_the_callers_span(exporter: InMemorySpanExporter) -> None:
    fake = FakeCloudFront(seed=3)
    tenants = fake.seed_tenants(4, invalidations=1)
    tracer = trace.get_tracer("app")
    with tracer.start_as_current_span("sync-fan-out") as sync_parent:
        results = list(client_for(fake).list_many(tenants, concurrency=2))
    assert all(result.error is None for result in results)

    async def main() -> trace.Span:
        client = cfinval.AsyncClient(
            FAKE_CREDENTIALS, http_client=httpx.AsyncClient(transport=fake.transport())
        )
        async with client:
            with tracer.start_as_current_span("async-fan-out") as parent:
                async for _ in client.list_many(tenants, concurrency=2):
                    pass
        return parent

    async_parent = asyncio.run(main())
    calls = [s for s in exporter.get_finished_spans() if s.name == SPAN_NAME]
    by_parent: dict[int | None, int] = {}
    for span in calls:
        key = span.parent.span_id if span.parent else None
        by_parent[key] = by_parent.get(key, 0) + 1
    assert by_parent == {
        sync_parent.get_span_context().span_id: 4,
        async_parent.get_span_context().span_id: 4,
    }


def test_tracing_false_makes_no_span(exporter: InMemorySpanExporter) -> None:
    fake = make_fake()
    client_for(fake, tracing=False).list_invalidations_for_distribution_tenant(Id=TENANT)
    assert exporter.get_finished_spans() == ()
    assert "x-amzn-trace-id" not in fake.requests[0].headers


def test_tracing_must_be_a_bool() -> None:
    with pytest.raises(cfinval.ParamValidationError, match="tracing must be True or False"):
        cfinval.Client(FAKE_CREDENTIALS, tracing="no")  # type: ignore[arg-type]


def test_a_context_that_suppresses_instrumentation_gets_no_span(
    exporter: InMemorySpanExporter,
) -> None:
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    fake = make_fake()
    with suppress_instrumentation():
        client_for(fake).list_invalidations_for_distribution_tenant(Id=TENANT)
    assert exporter.get_finished_spans() == ()


# --- propagation --------------------------------------------------------------------------------


def test_every_attempt_carries_the_span_as_an_xray_header(exporter: InMemorySpanExporter) -> None:
    fake = make_fake()
    fake.add_fault(Fault.error(503), start=1, count=1)
    client_for(fake).list_invalidations_for_distribution_tenant(Id=TENANT)
    span = only(exporter.get_finished_spans())
    trace_id = f"{span.context.trace_id:032x}"
    expected = f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={span.context.span_id:016x};Sampled=1"
    assert [r.headers["x-amzn-trace-id"] for r in fake.requests] == [expected, expected]


def test_the_lambda_trace_header_wins_over_the_span(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    fake = make_fake()
    client_for(fake).list_invalidations_for_distribution_tenant(Id=TENANT)
    assert fake.requests[0].headers["x-amzn-trace-id"] == (
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    )
    assert only(exporter.get_finished_spans()).name == SPAN_NAME


# --- the flow wrapper ---------------------------------------------------------------------------


def test_an_abandoned_call_ends_its_span_as_cancelled(exporter: InMemorySpanExporter) -> None:
    client = client_for(make_fake())
    flow = list_flow(client._session, ListParams(TENANT))
    assert isinstance(next(flow), Send)
    flow.close()
    span = only(exporter.get_finished_spans())
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "the call was cancelled before it completed"


def test_an_exception_thrown_into_the_call_is_recorded(exporter: InMemorySpanExporter) -> None:
    client = client_for(make_fake())
    flow = list_flow(client._session, ListParams(TENANT))
    next(flow)
    with pytest.raises(KeyboardInterrupt):
        flow.throw(KeyboardInterrupt())
    span = only(exporter.get_finished_spans())
    assert [event.name for event in span.events] == ["exception"]
    assert span.status.status_code is StatusCode.UNSET  # as botocore's: not an Exception


# --- zero cost ----------------------------------------------------------------------------------

_CALL = """
    import json, sys
    import httpx
    import cfinval
    from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront
    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    fake.add_invalidation("dt_1")
    after_import = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
    client = cfinval.Client(FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport()))
    pages = list(client.paginate("dt_1"))
    after_call = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
    print(json.dumps([after_import, after_call, len(pages)]))
"""

_BLOCKER = """
    import sys
    attempts = []

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "opentelemetry":
                attempts.append(name)
                raise ModuleNotFoundError(name)
            return None

    sys.meta_path.insert(0, Blocker())
"""


def run_python(code: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_opentelemetry_nothing_of_it_is_imported_or_looked_for() -> None:
    code = textwrap.dedent(_BLOCKER) + textwrap.dedent(_CALL) + "print(json.dumps(attempts))\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    *_, result, attempts = done.stdout.strip().splitlines()
    assert json.loads(result) == [[], [], 1]
    assert json.loads(attempts) == []


def test_installed_but_unused_opentelemetry_is_not_imported() -> None:
    import importlib.util

    assert importlib.util.find_spec("opentelemetry.trace") is not None  # it is installed here
    assert run_python(_CALL) == [[], [], 1]


def test_the_readme_tracing_example_runs_as_written(tmp_path: Any) -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Tracing: OpenTelemetry spans", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "", "HOME": str(tmp_path), "PYTHONPATH": ":".join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{SPAN_NAME} SpanKind.CLIENT StatusCode.UNSET"
    assert "  retry_attempts = 1" in lines
    assert "  cloud.region = 'aws-global'" in lines
    assert lines[-1].startswith("['attempt=1; max=3', 'ttl=")
