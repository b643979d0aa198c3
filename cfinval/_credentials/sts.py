"""STS ``AssumeRole`` and ``AssumeRoleWithWebIdentity`` as flows (an AWS query API: a signed
form ``POST``, an XML answer). No I/O here; the client's driver sends the requests.
"""

from __future__ import annotations

import datetime as _dt
import logging
import random as _random
from collections.abc import Callable
from typing import Any
from xml.parsers import expat

from .._core.effects import Flow, Send, Sleep, TransportFailure
from .._core.http import IDENTITY, HttpResponse
from .._core.protocol import Endpoint, error_from_response, sign_form_post
from .._core.retry import StandardRetry
from .._core.xml import parse_timestamp, xml_to_dict
from .._errors import CredentialRetrievalError, ParamValidationError
from .._models import Credentials

__all__ = ["STS_VERSION", "parse_sts_credentials", "sts_credentials_flow"]

log = logging.getLogger("cfinval")

STS_VERSION = "2011-06-15"
#: Attempts per STS call (botocore's standard mode default).
STS_MAX_ATTEMPTS = 3
#: Errors of ``AssumeRoleWithWebIdentity`` that a retry may cure, besides the standard ones
#: (botocore retries ``IDPCommunicationError``; cfinval retries ``InvalidIdentityToken`` too).
_STS_TRANSIENT_CODES = frozenset({"IDPCommunicationError", "InvalidIdentityToken"})


def parse_sts_credentials(body: bytes, action: str) -> Credentials:
    """The ``Credentials`` of an STS ``<ActionResponse>``; ``ValueError`` when malformed."""
    try:
        doc = xml_to_dict(body)
    except expat.ExpatError as exc:
        raise ValueError(f"not XML: {exc}") from None
    root = doc.get(f"{action}Response")
    result = root.get(f"{action}Result") if isinstance(root, dict) else None
    creds = result.get("Credentials") if isinstance(result, dict) else None
    if not isinstance(creds, dict):
        raise ValueError(f"no {action}Result/Credentials element")
    fields: dict[str, str] = {}
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
        value = creds.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"Credentials/{name} is missing")
        fields[name] = value.strip()
    try:
        return Credentials(
            fields["AccessKeyId"],
            fields["SecretAccessKey"],
            fields["SessionToken"],
            expiration=parse_timestamp(fields["Expiration"]),
        )
    except ParamValidationError as exc:  # pragma: no cover (fields are non-empty strings)
        raise ValueError(str(exc)) from None


def sts_credentials_flow(
    *,
    provider: str,
    endpoint: Endpoint,
    action: str,
    params: list[tuple[str, str]],
    credentials: Credentials | None,
    clock: Callable[[], float],
    random: Callable[[], float] = _random.random,
) -> Flow[Credentials]:
    """Call STS ``action`` with ``params`` (signed with ``credentials``, unsigned when ``None``)
    and return the credentials it hands out. Failures are retried as the standard retry mode
    says (network failures, 5xx, throttling; plus ``IDPCommunicationError`` and
    ``InvalidIdentityToken``), 3 attempts, but never a request that cannot be sent (a
    ``local`` failure); any other failure raises
    :class:`CredentialRetrievalError` with the service's code and message."""
    form = [("Action", action), ("Version", STS_VERSION), *params]
    retry = StandardRetry(STS_MAX_ATTEMPTS, random=random, retryable_codes=_STS_TRANSIENT_CODES)
    attempt = 0
    while True:
        attempt += 1
        now = _dt.datetime.fromtimestamp(clock(), _dt.timezone.utc)
        request = sign_form_post(endpoint, "sts", form, credentials, now).for_purpose(IDENTITY)
        outcome: Any = yield Send(request)
        if isinstance(outcome, TransportFailure):
            said = outcome.aws_message()  # botocore's words: the URL it could not reach
            problem = (
                f"{action} failed: {said}"
                if said is not None
                else f"{action} request to {endpoint.netloc} failed: {outcome.describe()}"
            )
            code = None
            decision = retry.decide(attempt, None, None) if outcome.retryable else None
        else:
            assert isinstance(outcome, HttpResponse)
            if outcome.status_code < 300 and not outcome.truncated:
                try:
                    return parse_sts_credentials(outcome.body, action)
                except ValueError as exc:
                    raise CredentialRetrievalError(
                        provider, f"invalid {action} response from {endpoint.netloc}: {exc}"
                    ) from None
            error = error_from_response(outcome)
            code = error.code
            problem = f"An error occurred ({error.code}) when calling the {action} operation"
            if error.message:
                problem += f": {error.message}"
            decision = retry.decide(attempt, error, outcome.headers.get("x-amz-retry-after"))
        log.debug("STS %s attempt %d failed: %s", action, attempt, code or problem)
        if decision is None:
            raise CredentialRetrievalError(provider, problem, code=code)
        yield Sleep(decision[0])
