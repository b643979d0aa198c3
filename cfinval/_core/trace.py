"""OpenTelemetry spans: one span per API call, retries included. No I/O here.

:func:`traced_call` wraps one call's flow (``call.list_flow`` does it when tracing is on).
It passes every effect through unchanged but for one header, watches the ``Send`` outcomes,
and opens the span when the wrapped flow starts: in the caller's thread or task, so the span
is a child of the caller's current span whichever driver runs it. The span goes through the
globally configured tracer provider, looked up at each call, so a client built before the
provider was set still traces.

The span is the one ``opentelemetry-instrumentation-botocore`` makes for boto3's call: kind
CLIENT, named ``CloudFront.ListInvalidationsForDistributionTenant``, with the same attributes
(``rpc.system``, ``rpc.service``, ``rpc.method``, ``cloud.region``, ``server.address``,
``server.port``; then ``aws.request_id``, ``retry_attempts`` and ``http.status_code`` when the
service answered), the same status (ERROR for a failure, a 4xx/5xx service error included;
unset on success) and the exception recorded as an event. Like that instrumentation, each
attempt carries the span in an ``X-Amzn-Trace-Id`` header (X-Ray format) unless it has one
already (inside Lambda, the function's own, as botocore sends it), and a context that
suppresses instrumentation gets no span.

This module is imported only once the application has imported ``opentelemetry.trace``; the
API is not I/O, so the core may use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import OPERATION_NAME, CloudFrontError
from .effects import Flow, Send
from .http import HttpResponse

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from .protocol import Endpoint

__all__ = ["SCHEMA_URL", "SPAN_NAME", "span_attributes", "traced_call"]

R = TypeVar("R")

SPAN_NAME = f"CloudFront.{OPERATION_NAME}"
#: The semantic conventions the attributes follow (those of the botocore instrumentation).
SCHEMA_URL = "https://opentelemetry.io/schemas/1.11.0"
_TRACE_HEADER = "X-Amzn-Trace-Id"
_SUPPRESS_PLAIN_KEY = "suppress_instrumentation"

_tracer_cache: tuple[TracerProvider, Tracer] | None = None


def _tracer() -> Tracer:
    """cfinval's tracer from the global provider (cached while that provider stays)."""
    global _tracer_cache
    from opentelemetry import trace

    from .._version import __version__

    provider = trace.get_tracer_provider()
    cached = _tracer_cache
    if cached is not None and cached[0] is provider:
        return cached[1]
    tracer = trace.get_tracer("cfinval", __version__, provider, schema_url=SCHEMA_URL)
    _tracer_cache = (provider, tracer)
    return tracer


def _suppressed() -> bool:
    """Whether the current context asks instrumentations to stay quiet (as OpenTelemetry's
    ``suppress_instrumentation()`` does, e.g. inside an exporter)."""
    from opentelemetry import context

    key = getattr(context, "_SUPPRESS_INSTRUMENTATION_KEY", _SUPPRESS_PLAIN_KEY)
    return bool(context.get_value(key) or context.get_value(_SUPPRESS_PLAIN_KEY))


def span_attributes(
    endpoint: Endpoint, region: str | None, operation: str = OPERATION_NAME
) -> dict[str, str | int]:
    """The attributes known before sending, in the botocore instrumentation's order.

    ``server.port`` is the endpoint's explicit port, else 443 (what that instrumentation
    reports whatever the scheme).
    """
    netloc = endpoint.netloc
    if netloc.startswith("["):  # IPv6 literal: [::1]:8443
        host, _, rest = netloc[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = netloc.partition(":")
    attributes: dict[str, str | int] = {
        "rpc.system": "aws-api",
        "rpc.service": "CloudFront",
        "rpc.method": operation,
    }
    if region is not None:
        attributes["cloud.region"] = region
    attributes["server.address"] = host
    attributes["server.port"] = int(port) if port else 443
    return attributes


def _xray_header(span: Span) -> str | None:
    """The span as an X-Ray trace header (what ``AwsXRayPropagator`` injects)."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    trace_id = f"{context.trace_id:032x}"
    sampled = "1" if context.trace_flags & 0x01 else "0"
    return f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={context.span_id:016x};Sampled={sampled}"


def _with_trace_header(effect: Send, header: str | None) -> Send:
    request = effect.request
    if header is None or request.header(_TRACE_HEADER) is not None:
        return effect
    return Send(request.with_headers((_TRACE_HEADER, header)))


def _answered(span: Span, request_id: str | None, attempts: int, status_code: int) -> None:
    """The attributes of a call the service answered (botocore's ``ResponseMetadata``)."""
    if request_id:
        span.set_attribute("aws.request_id", request_id)
    span.set_attribute("retry_attempts", attempts - 1)
    span.set_attribute("http.status_code", status_code)


def _failed(span: Span, error: BaseException) -> None:
    from opentelemetry.trace import StatusCode

    if isinstance(error, CloudFrontError):
        _answered(span, error.request_id, error.attempts, error.status_code)
        # A 3xx leaves the status unset, as the instrumentation's http_status_to_status_code.
        if not 100 <= error.status_code < 400:
            span.set_status(StatusCode.ERROR, str(error))
    elif isinstance(error, Exception):
        span.set_status(StatusCode.ERROR, str(error))
    span.record_exception(error)


def traced_call(
    flow: Flow[R], endpoint: Endpoint, region: str | None, operation: str = OPERATION_NAME
) -> Flow[R]:
    """``flow`` (one call of ``operation``) as one span; see the module docstring."""
    if _suppressed():
        return (yield from flow)
    from opentelemetry.trace import SpanKind, StatusCode

    span = _tracer().start_span(
        f"CloudFront.{operation}",
        kind=SpanKind.CLIENT,
        attributes=span_attributes(endpoint, region, operation),
    )
    header = _xray_header(span)
    last: HttpResponse | None = None
    try:
        try:
            effect = next(flow)
            while True:
                if isinstance(effect, Send):
                    effect = _with_trace_header(effect, header)
                try:
                    outcome: Any = yield effect
                except GeneratorExit:
                    raise
                except BaseException as exc:  # thrown in by the driver: the flow decides
                    effect = flow.throw(exc)
                    continue
                if isinstance(outcome, HttpResponse):
                    last = outcome
                effect = flow.send(outcome)
        except StopIteration as stop:
            page: R = stop.value
    except GeneratorExit:  # the driver abandoned the call (cancelled, interrupted, stopped)
        flow.close()
        span.set_status(StatusCode.ERROR, "the call was cancelled before it completed")
        span.end()
        raise
    except BaseException as exc:
        if span.is_recording():
            _failed(span, exc)
        span.end()
        raise
    if span.is_recording():
        status = 200 if last is None else last.status_code
        _answered(span, getattr(page, "request_id", None), getattr(page, "attempts", 1), status)
    span.end()
    return page
