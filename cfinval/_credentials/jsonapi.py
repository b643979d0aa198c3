"""Unsigned JSON calls to the identity services (the IAM Identity Center portal and its OIDC
service, AWS sign-in) as flows. No I/O here; the client's driver sends the requests.

Like the STS calls, each call makes up to three attempts as the standard retry mode decides
(network failures, 5xx answers and throttling, with jittered backoff yielded as ``Sleep``); any
other answer is the caller's to interpret. A request the HTTP layer refuses to send (a
``local`` failure) is tried once and its error named by class only.
"""

from __future__ import annotations

import json
import logging
import random as _random
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .._core.effects import Flow, Send, Sleep, TransportFailure
from .._core.http import IDENTITY, HttpRequest, HttpResponse
from .._core.metadata import build_user_agent
from .._core.protocol import Endpoint
from .._core.record import Record
from .._core.retry import StandardRetry
from .._errors import CloudFrontError, CredentialRetrievalError
from .base import parse_json

__all__ = ["MAX_ATTEMPTS", "JsonError", "json_call", "json_request"]

log = logging.getLogger("cfinval")

MAX_ATTEMPTS = 3
#: The backoff's random factor (module level so that tests can make it deterministic).
_jitter: Callable[[], float] = _random.random


class JsonError(Record):
    """A service error: its code (``UnauthorizedException``, ``AccessDeniedException``), message,
    HTTP status and the error body's other fields (sign-in's ``error``)."""

    __slots__ = ("code", "fields", "message", "status_code")

    def __init__(
        self, code: str, message: str, status_code: int, fields: Mapping[str, Any]
    ) -> None:
        self.code = code
        self.message = message
        self.status_code = status_code
        self.fields = fields

    def describe(self, operation: str) -> str:
        """botocore's ``ClientError`` text."""
        return f"An error occurred ({self.code}) when calling the {operation} operation: " + (
            self.message
        )


def json_request(
    method: str,
    endpoint: Endpoint,
    path: str,
    *,
    query: Sequence[tuple[str, str]] = (),
    headers: Sequence[tuple[str, str]] = (),
    body: Mapping[str, Any] | None = None,
) -> HttpRequest:
    """An unsigned ``HttpRequest`` to ``endpoint`` + ``path`` (query values percent-encoded as
    botocore encodes them; ``body`` sent as JSON)."""
    url = f"{endpoint.scheme}://{endpoint.netloc}{endpoint.base_path}{path}"
    if query:
        url += "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
    all_headers = [*headers, ("Accept", "application/json"), ("User-Agent", build_user_agent())]
    payload = b""
    if body is not None:
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        all_headers.append(("Content-Type", "application/json"))
    return HttpRequest(method, url, tuple(all_headers), payload, purpose=IDENTITY)


def _error(response: HttpResponse) -> JsonError:
    """The error in a non-2xx answer, read as botocore's rest-json parser reads it."""
    try:
        data = parse_json(response.body) if response.body.strip() else {}
    except ValueError:  # UnicodeDecodeError is a ValueError
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = response.headers.get("x-amzn-errortype", "").split(":")[0]
    if not code:
        raw = data.get("code", data.get("__type", ""))
        code = raw if isinstance(raw, str) else ""
    code = code.rsplit("#", 1)[-1].strip() or str(response.status_code)
    message = data.get("message", data.get("Message", ""))
    fields = {k: v for k, v in data.items() if k not in ("__type", "code", "message", "Message")}
    return JsonError(
        code, message if isinstance(message, str) else "", response.status_code, fields
    )


def json_call(
    provider: str, operation: str, request: HttpRequest
) -> Flow[dict[str, Any] | JsonError]:
    """Send ``request``: the JSON object of a 2xx answer, or the service's :class:`JsonError`.
    Network failures after the last attempt, and a 2xx that is not a JSON object, raise
    :class:`CredentialRetrievalError` (naming the host, never the request's content)."""
    host = request.url.split("/")[2]
    retry = StandardRetry(MAX_ATTEMPTS, random=lambda: _jitter())
    attempt = 0
    while True:
        attempt += 1
        outcome: Any = yield Send(request)
        if isinstance(outcome, TransportFailure):
            said = outcome.aws_message()  # botocore's words: the URL it could not reach
            problem = (
                f"{operation} failed: {said}"
                if said is not None
                else f"{operation} request to {host} failed: {outcome.describe()}"
            )
            decision = retry.decide(attempt, None, None) if outcome.retryable else None
            if decision is None:
                raise CredentialRetrievalError(provider, problem)
        else:
            assert isinstance(outcome, HttpResponse)
            if outcome.status_code < 300:
                try:
                    if outcome.truncated:
                        raise ValueError
                    data = parse_json(outcome.body)
                    if not isinstance(data, dict):
                        raise ValueError
                except ValueError:
                    raise CredentialRetrievalError(
                        provider, f"the {operation} response from {host} is not a JSON object"
                    ) from None
                return data
            error = _error(outcome)
            # the retry policy classifies by code and status, whatever the service
            seen = CloudFrontError(error.code, error.message, status_code=error.status_code)
            decision = retry.decide(attempt, seen, outcome.headers.get("x-amz-retry-after"))
            if decision is None:
                return error
            problem = error.describe(operation)
        log.debug("%s attempt %d failed: %s", operation, attempt, problem)
        yield Sleep(decision[0])
