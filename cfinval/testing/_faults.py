"""Fault injection for the fake CloudFront: what can go wrong, and on which requests.

A :class:`Fault` is one kind of misbehaviour; a :class:`FaultRule` says which requests suffer
it, by request number (the fake counts every request it receives, from 1)::

    fake.add_fault(Fault.throttling(), every=3)          # requests 3, 6, 9, ...
    fake.add_fault(Fault.error(503), start=1, count=2)   # requests 1 and 2
    fake.add_fault(Fault.reset())                        # every request
    fake.add_fault(FaultRule.parse("stall:5,every=4"))   # the spec form, for command lines
    fake.add_fault(Fault.reset(), operation="CreateInvalidationForDistributionTenant", count=1)

A rule with an ``operation`` applies to that operation's requests only, numbered from 1 among
themselves (``op=create-invalidation-for-distribution-tenant,every=2``: every second create).

HTTP-level faults (errors, HTML, garbage, oversize and gzip-bomb bodies, a skewed clock,
rewound markers) work everywhere. Connection-level faults (``reset``, ``cut``, ``stall``,
``drip``) are acted out by the loopback server; ``httpx.MockTransport`` simulates them
without waiting (a reset or cut raises the matching httpx error; a stall or drip whose pause
reaches the request's read timeout raises ``httpx.ReadTimeout``, a shorter one is served).
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import field, frozen

__all__ = ["FAULT_KINDS", "OPERATIONS", "FakeReply", "Fault", "FaultRule", "operation_name"]

#: Every fault kind, with what the fake does.
FAULT_KINDS = {
    "error": "an XML <ErrorResponse> with the given status and code (e.g. 503 ServiceUnavailable)",
    "throttle": "HTTP 400 Throttling 'Rate exceeded', as CloudFront throttles",
    "html": "an HTML error page from a 'proxy' (default 502)",
    "empty": "an error status with an empty body (default 503)",
    "garbage": "a 2xx whose body is not XML",
    "oversize": "a 2xx whose body is larger than the client accepts (size bytes)",
    "gzip-bomb": "a 2xx gzip body inflating to size bytes, sent though identity was asked",
    "rewind": "the right page, but NextMarker points back to the listing's first page",
    "skew": "the server clock is off by `seconds` for this request",
    "reset": "the connection is reset (TCP RST) before any response",
    "cut": "status and headers, half the body, then the connection closes",
    "stall": "wait `seconds` before answering (then answer normally)",
    "drip": "send the body one byte every `seconds`",
}

_DEFAULT_CODES = {
    400: "InvalidRequest",
    429: "TooManyRequestsException",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
_CONNECTION_KINDS = frozenset({"reset", "cut", "stall", "drip"})
#: The operations a rule can select (the fake serves these).
OPERATIONS = (
    "ListInvalidationsForDistributionTenant",
    "CreateInvalidationForDistributionTenant",
    "GetInvalidationForDistributionTenant",
    "ListDistributionTenants",
    "ListDistributionTenantsByCustomization",
)
_BY_KEY = {name.lower(): name for name in OPERATIONS}


def operation_name(value: str) -> str:
    """An :data:`OPERATIONS` name from it or its CLI form (``list-distribution-tenants``)."""
    found = (
        _BY_KEY.get(value.replace("-", "").replace("_", "").lower())
        if isinstance(value, str)
        else None
    )
    if found is None:
        raise ValueError(f"unknown operation {value!r}; known: {', '.join(OPERATIONS)}")
    return found


@frozen
class Fault:
    """One kind of misbehaviour. Build it with the named constructors."""

    kind: str
    status: int = 0
    code: str | None = None
    message: str = ""
    seconds: float = 0.0
    size: int = 0
    retry_after_ms: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(FAULT_KINDS)}")
        if not (self.seconds >= 0 or self.kind == "skew") or not self.size >= 0:
            raise ValueError("a fault's seconds and size must not be negative")
        if self.seconds != self.seconds:
            raise ValueError("a fault's seconds must be a number, not NaN")
        if self.status and not 100 <= self.status <= 599:
            raise ValueError(f"not an HTTP status: {self.status}")

    @property
    def connection_level(self) -> bool:
        """Whether only a real connection can act it out (reset, cut, stall, drip)."""
        return self.kind in _CONNECTION_KINDS

    @classmethod
    def error(cls, status: int = 503, code: str | None = None, message: str = "") -> Fault:
        return cls(
            "error",
            status=status,
            code=code or _DEFAULT_CODES.get(status, "InternalError"),
            message=message or "The fake was told to fail this request.",
        )

    @classmethod
    def throttling(cls, retry_after_ms: int | None = None) -> Fault:
        return cls(
            "throttle",
            status=400,
            code="Throttling",
            message="Rate exceeded",
            retry_after_ms=retry_after_ms,
        )

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        return cls("html", status=status)

    @classmethod
    def empty(cls, status: int = 503) -> Fault:
        return cls("empty", status=status)

    @classmethod
    def garbage(cls, status: int = 200) -> Fault:
        return cls("garbage", status=status)

    @classmethod
    def oversize(cls, size: int = 5 * 1024 * 1024) -> Fault:
        return cls("oversize", status=200, size=size)

    @classmethod
    def gzip_bomb(cls, size: int = 32 * 1024 * 1024) -> Fault:
        return cls("gzip-bomb", status=200, size=size)

    @classmethod
    def rewind(cls) -> Fault:
        return cls("rewind")

    @classmethod
    def skew(cls, seconds: float) -> Fault:
        return cls("skew", seconds=seconds)

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")

    @classmethod
    def cut(cls) -> Fault:
        return cls("cut")

    @classmethod
    def stall(cls, seconds: float = 5.0) -> Fault:
        return cls("stall", seconds=seconds)

    @classmethod
    def drip(cls, seconds: float = 0.05) -> Fault:
        return cls("drip", seconds=seconds)


def _operation_or_none(value: str | None) -> str | None:
    return None if value is None else operation_name(value)


def _positive(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or value < 1):
        raise ValueError(f"{name} must be a positive int, got {value!r}")


@frozen
class FaultRule:
    """Apply ``fault`` to request numbers ``start, start + every, ...`` (``count`` times at most).

    ``start`` defaults to ``every``, so ``every=3`` means the 3rd, 6th, 9th... request and
    ``every=1`` (the default) every request. With ``operation`` (an :data:`OPERATIONS` name,
    or its CLI form) the rule counts and applies to that operation's requests only.
    """

    fault: Fault
    every: int = 1
    start: int | None = None
    count: int | None = None
    operation: str | None = field(default=None, converter=_operation_or_none)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.fault, Fault):
            raise TypeError(f"fault must be a Fault, not {type(self.fault).__name__}")
        _positive("every", self.every)
        _positive("start", self.start)
        _positive("count", self.count)

    @property
    def first(self) -> int:
        """The first request number the rule applies to."""
        return self.every if self.start is None else self.start

    def matches(
        self, number: int, operation: str | None = None, operation_number: int | None = None
    ) -> bool:
        """Whether request ``number`` (1-based), the ``operation_number``-th of ``operation``,
        suffers this rule's fault."""
        if self.operation is not None:
            if operation != self.operation:
                return False
            number = number if operation_number is None else operation_number
        first = self.first
        if number < first or (number - first) % self.every:
            return False
        return self.count is None or (number - first) // self.every < self.count

    # -- the spec form ----------------------------------------------------------------------

    @classmethod
    def parse(cls, spec: str) -> FaultRule:
        """A rule from ``KIND[:ARG][,key=value...]``.

        ``KIND`` is a :data:`FAULT_KINDS` name or an HTTP status (``503`` is ``error:503``).
        ``ARG`` is the status (error, html, empty, garbage), the seconds (stall, drip, skew) or
        the size in bytes (oversize, gzip-bomb). Keys: ``every``, ``start``, ``count`` and, for
        faults that take them, ``code``, ``message``, ``retry_after_ms``, ``seconds``, ``size``,
        ``status``, and ``op`` (or ``operation``: the operation it selects). Examples:
        ``503,every=2``, ``throttle,every=3``, ``stall:5,every=4``, ``reset,start=1,count=2``,
        ``skew:900``, ``reset,op=CreateInvalidationForDistributionTenant,count=1``.
        """
        if not isinstance(spec, str) or not spec.strip():
            raise ValueError("a fault spec must be a non-empty string")
        head, *pairs = [part.strip() for part in spec.split(",")]
        kind, _, arg = head.partition(":")
        kind = kind.strip().lower()
        options: dict[str, str] = {}
        for pair in pairs:
            key, eq, value = pair.partition("=")
            if not eq or not key.strip():
                raise ValueError(f"expected key=value in fault spec, got {pair!r}")
            options[key.strip().lower().replace("-", "_")] = value.strip()
        if kind.isdigit():
            kind, arg = "error", kind
        try:
            every = int(options.pop("every", "1"))
            start = int(options.pop("start")) if "start" in options else None
            count = int(options.pop("count")) if "count" in options else None
            operation: str | None = options.pop("op", None) or options.pop("operation", None)
            fault = _build(kind, arg.strip(), options)
            if options:
                raise ValueError(f"unknown option(s) {sorted(options)}")
            return cls(fault, every=every, start=start, count=count, operation=operation)
        except KeyError as exc:  # str() of a KeyError is the repr of its key: unwrap it
            raise ValueError(f"bad fault spec {spec!r}: {exc.args[0]}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad fault spec {spec!r}: {exc}") from None

    def spec(self) -> str:
        """This rule in the form :meth:`parse` reads."""
        f = self.fault
        head = f.kind
        if f.kind in ("error", "html", "empty", "garbage"):
            head += f":{f.status}"
        elif f.kind in ("stall", "drip", "skew"):
            head += f":{f.seconds:g}"
        elif f.kind in ("oversize", "gzip-bomb"):
            head += f":{f.size}"
        parts = [head]
        if f.kind == "error":
            parts.append(f"code={f.code}")
        if f.retry_after_ms is not None:
            parts.append(f"retry_after_ms={f.retry_after_ms}")
        parts.append(f"every={self.every}")
        if self.start is not None:
            parts.append(f"start={self.start}")
        if self.count is not None:
            parts.append(f"count={self.count}")
        if self.operation is not None:
            parts.append(f"op={self.operation}")
        return ",".join(parts)


def _build(kind: str, arg: str, options: dict[str, str]) -> Fault:
    def take(name: str, default: str) -> str:
        return options.pop(name, arg or default)

    if kind == "error":
        return Fault.error(
            int(take("status", "503")), options.pop("code", None), options.pop("message", "")
        )
    if kind in ("throttle", "throttling"):
        raw = options.pop("retry_after_ms", None)
        return Fault.throttling(None if raw is None else int(raw))
    if kind in ("html", "empty", "garbage"):
        status = int(take("status", {"html": "502", "empty": "503", "garbage": "200"}[kind]))
        return getattr(Fault, kind)(status)  # type: ignore[no-any-return]
    if kind in ("stall", "drip", "skew"):
        seconds = float(take("seconds", {"stall": "5", "drip": "0.05", "skew": "900"}[kind]))
        return getattr(Fault, kind)(seconds)  # type: ignore[no-any-return]
    if kind in ("oversize", "gzip-bomb", "gzip_bomb"):
        size = take("size", "")
        ctor = Fault.oversize if kind == "oversize" else Fault.gzip_bomb
        return ctor(int(size)) if size else ctor()
    if kind in ("reset", "cut", "rewind"):
        if arg:
            raise TypeError(f"{kind} takes no argument")
        return getattr(Fault, kind)()  # type: ignore[no-any-return]
    raise KeyError(f"unknown fault kind {kind!r}")


@frozen
class FakeReply:
    """What the fake answers: status, headers, body, and the connection-level fault (``reset``,
    ``cut``, ``stall``, ``drip``) the transport must act out, if any."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    fault: Fault | None = None
