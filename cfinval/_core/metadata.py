"""Request metadata, sans I/O: what the AWS SDKs send besides the signature.

* ``User-Agent`` in the AWS SDK format (botocore's ``useragent.py``), with the application id
  (``AWS_SDK_UA_APP_ID`` / profile ``sdk_ua_app_id``) as ``app/<id>``;
* ``amz-sdk-invocation-id`` and ``amz-sdk-request`` on every attempt, as botocore sends them
  in each retry mode (``endpoint.py``, ``handlers.add_retry_headers``, ``retries/``);
* ``X-Amzn-Trace-Id`` inside AWS Lambda (botocore's ``add_recursion_detection_header``).

None of them is signed: botocore signs only ``host``, ``x-amz-date`` and the session token for
this operation, and never the headers in :data:`UNSIGNED_HEADERS`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
from collections.abc import Mapping
from urllib.parse import quote

from .._version import __version__
from .http import HttpResponse
from .record import Record

__all__ = [
    "UNSIGNED_HEADERS",
    "CallMeta",
    "ClientMeta",
    "build_user_agent",
    "lambda_trace_header",
    "new_invocation_id",
]

#: Headers never signed, whoever adds them (botocore's ``SIGNED_HEADERS_BLACKLIST``): proxies,
#: HTTP clients and tracing add or rewrite them after signing, which must not break a signature.
UNSIGNED_HEADERS = frozenset(
    {
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
_UA_ALLOWED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!$%&'*+-.^_`|~,"
)
_UA_OS_NAMES = frozenset(
    {"windows", "linux", "macos", "android", "ios", "watchos", "tvos", "other"}
)
#: The AWS SDK feature ids of the retry modes (botocore's ``_USERAGENT_FEATURE_MAPPINGS``).
_UA_RETRY_MODE_FEATURES = {"legacy": "D", "standard": "E", "adaptive": "F"}


def _ua_clean(text: str, allow_hash: bool) -> str:
    """botocore's ``sanitize_user_agent_string_component``: other characters become ``-``."""
    return "".join(c if c in _UA_ALLOWED or (allow_hash and c == "#") else "-" for c in text)


def _ua_part(prefix: str, name: str, value: str | None = None) -> str:
    part = f"{_ua_clean(prefix, True)}/{_ua_clean(name, False)}"
    return f"{part}#{_ua_clean(value, True)}" if value else part


@functools.lru_cache(maxsize=16)
def build_user_agent(
    retry_mode: str | None = None, app_id: str | None = None, exec_env: str | None = None
) -> str:
    """The ``User-Agent`` in the AWS SDK format (botocore's ``useragent.py``), compact::

        cfinval/0.1.0 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython
        [exec-env/AWS_Lambda_python3.11] m/E cfg/retry-mode#standard [app/<app id>]

    ``app_id`` (``AWS_SDK_UA_APP_ID`` / profile ``sdk_ua_app_id``) and ``exec_env``
    (``AWS_EXECUTION_ENV``) are cleaned as botocore cleans them.
    """
    import platform  # attrs imports it already: no import cost

    system = platform.system()
    family = system.lower()
    family = "macos" if family == "darwin" else family
    parts = [_ua_part("cfinval", __version__), "ua/2.1"]
    if family in _UA_OS_NAMES:
        parts.append(_ua_part("os", family, platform.release()))
    else:
        parts += [_ua_part("os", "other"), _ua_part("md", system, platform.release())]
    machine = platform.machine()
    if machine:
        parts.append(_ua_part("md", "arch", machine.lower()))
    parts.append(_ua_part("lang", "python", platform.python_version()))
    implementation = platform.python_implementation()
    if implementation:
        parts.append(_ua_part("md", "pyimpl", implementation))
    if exec_env:
        parts.append(_ua_part("exec-env", exec_env))
    feature = _UA_RETRY_MODE_FEATURES.get(retry_mode or "")
    if feature is not None:
        parts.append(f"m/{feature}")
        parts.append(_ua_part("cfg", "retry-mode", retry_mode))
    if app_id:
        parts.append(f"app/{_ua_clean(app_id, True)}")
    return " ".join(parts)


def lambda_trace_header(environ: Mapping[str, str]) -> str | None:
    """``X-Amzn-Trace-Id`` inside AWS Lambda (``AWS_LAMBDA_FUNCTION_NAME`` and
    ``_X_AMZN_TRACE_ID`` both set), percent-encoded as botocore's
    ``add_recursion_detection_header`` does (``|``, spaces, ``/`` and non-ASCII)."""
    trace_id = environ.get("_X_AMZN_TRACE_ID")
    if "AWS_LAMBDA_FUNCTION_NAME" in environ and trace_id:
        return quote(trace_id, safe="-=;:+&[]{}\"',")
    return None


def new_invocation_id() -> str:
    """A random (version 4) UUID, without importing ``uuid``."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _ttl(date: str | None, read_timeout: float) -> str | None:
    """botocore's ``_calculate_ttl``: the server's ``Date`` plus the read timeout, or ``None``
    when the date does not parse as botocore parses it."""
    if not date:
        return None
    try:
        server = _dt.datetime.strptime(date, "%a, %d %b %Y %H:%M:%S %Z")
        return (server + _dt.timedelta(seconds=read_timeout)).strftime("%Y%m%dT%H%M%SZ")
    except (ValueError, OverflowError):
        return None


class ClientMeta(Record):
    """What one client sends besides the signature, and what it reports about itself.

    ``region`` is the region an AWS SDK client reports (botocore's ``meta.region_name``:
    ``aws-global`` for the global endpoint, the configured region with an ``endpoint_url``);
    spans carry it as ``cloud.region``. ``read_timeout`` (seconds) makes the ``ttl`` of a
    retry; ``environ`` is where each call looks for a Lambda trace id (never shown in a repr:
    it holds the whole environment).
    """

    __slots__ = ("_environ", "read_timeout", "region", "user_agent")

    def __init__(
        self,
        user_agent: str | None = None,
        region: str | None = None,
        read_timeout: float | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.user_agent = user_agent if user_agent is not None else build_user_agent()
        self.region = region
        self.read_timeout = read_timeout
        self._environ: Mapping[str, str] = os.environ if environ is None else environ

    @property
    def environ(self) -> Mapping[str, str]:
        return self._environ


class CallMeta:
    """One call's ``amz-sdk-invocation-id`` and ``amz-sdk-request`` (botocore's retries
    context) and its Lambda trace header, the same on every attempt but for the attempt data.

    ``amz-sdk-request`` is ``attempt=N; max=M``: the standard and adaptive modes send ``max``
    from the first attempt, the legacy mode from the first retry on. A retry after a response
    with a ``Date`` header leads with ``ttl=`` (that date plus the read timeout); it stays
    until a later response brings another date, as botocore's does.
    """

    __slots__ = (
        "_date",
        "_read_timeout",
        "invocation_id",
        "max_at_once",
        "max_attempts",
        "trace_id",
        "ttl",
        "user_agent",
    )

    def __init__(
        self,
        client: ClientMeta,
        retry_mode: str,
        max_attempts: int,
        invocation_id: str | None = None,
    ) -> None:
        self.user_agent = client.user_agent
        self.invocation_id = new_invocation_id() if invocation_id is None else invocation_id
        self.max_attempts = max_attempts
        self.max_at_once = retry_mode != "legacy"
        self.trace_id = lambda_trace_header(client.environ)
        self.ttl: str | None = None
        self._read_timeout = client.read_timeout
        self._date: str | None = None

    def __repr__(self) -> str:
        return f"CallMeta(invocation_id={self.invocation_id!r}, ttl={self.ttl!r})"

    def received(self, outcome: object) -> None:
        """Note what an attempt got: a response's ``Date`` makes the next attempt's ``ttl``
        (worked out only if there is a next attempt: most calls succeed at once)."""
        self._date = outcome.headers.get("date") if isinstance(outcome, HttpResponse) else None

    def sdk_request(self, attempt: int) -> str:
        if self._date is not None and self._read_timeout is not None:
            ttl = _ttl(self._date, self._read_timeout)
            if ttl is not None:
                self.ttl = ttl
        self._date = None
        parts = [f"attempt={attempt}"]
        if self.ttl is not None:
            parts.insert(0, f"ttl={self.ttl}")
        if self.max_at_once or attempt > 1:
            parts.append(f"max={self.max_attempts}")
        return "; ".join(parts)

    def headers(self, attempt: int) -> list[tuple[str, str]]:
        """The unsigned headers of attempt ``attempt`` (1-based)."""
        out = [
            ("User-Agent", self.user_agent),
            ("amz-sdk-invocation-id", self.invocation_id),
            ("amz-sdk-request", self.sdk_request(attempt)),
        ]
        if self.trace_id is not None:
            out.append(("X-Amzn-Trace-Id", self.trace_id))
        return out
