"""What the fake CloudFront answers: XML bodies (listings, invalidations, tenants, errors) and
the HTTP-level fault responses."""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

import xmltodict

from .._core.protocol import NAMESPACE
from .._models import InvalidationSummary
from ._faults import Fault

__all__ = [
    "RESPONSE_FAULTS",
    "error",
    "fault_response",
    "gzip_zeros",
    "invalidation_xml",
    "list_xml",
    "tenant_list_xml",
    "timestamp",
]


def timestamp(when: _dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as CloudFront writes times."""
    created = when.astimezone(_dt.timezone.utc)
    return created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z"


def _document(root: str, content: Mapping[str, Any]) -> bytes:
    body: str = xmltodict.unparse({root: {"@xmlns": NAMESPACE, **content}}, encoding="UTF-8")
    return body.encode("utf-8")


def invalidation_xml(
    invalidation_id: str,
    status: str,
    create_time: _dt.datetime,
    paths: Sequence[str],
    caller_reference: str,
) -> bytes:
    """An ``<Invalidation>`` document (CreateInvalidation..., GetInvalidation...)."""
    batch: dict[str, Any] = {"Paths": {"Quantity": str(len(paths))}}
    if paths:
        batch["Paths"]["Items"] = {"Path": list(paths)}
    batch["CallerReference"] = caller_reference
    return _document(
        "Invalidation",
        {
            "Id": invalidation_id,
            "Status": status,
            "CreateTime": timestamp(create_time),
            "InvalidationBatch": batch,
        },
    )


def tenant_list_xml(
    root: str, summaries: Iterable[Mapping[str, Any]], next_marker: str | None
) -> bytes:
    """A ``ListDistributionTenants[ByCustomization]Result``: ``summaries`` as
    ``Tenant.summary()`` gives them."""
    content: dict[str, Any] = {}
    if next_marker is not None:
        content["NextMarker"] = next_marker
    items = list(summaries)
    content["DistributionTenantList"] = {"DistributionTenantSummary": items} if items else None
    return _document(root, content)


def list_xml(
    marker: str,
    max_items: int,
    truncated: bool,
    page: list[InvalidationSummary],
    next_marker: str | None = None,
) -> bytes:
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<InvalidationList xmlns="{NAMESPACE}">',
        f"<Marker>{escape(marker)}</Marker>",
    ]
    if next_marker is not None:
        parts.append(f"<NextMarker>{escape(next_marker)}</NextMarker>")
    parts.append(f"<MaxItems>{max_items}</MaxItems>")
    parts.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
    parts.append(f"<Quantity>{len(page)}</Quantity>")
    if page:
        parts.append("<Items>")
        for item in page:
            created = item.create_time.astimezone(_dt.timezone.utc)
            stamp = created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z"
            parts.append(
                f"<InvalidationSummary><Id>{escape(item.id)}</Id>"
                f"<CreateTime>{stamp}</CreateTime><Status>{escape(item.status)}</Status>"
                "</InvalidationSummary>"
            )
        parts.append("</Items>")
    parts.append("</InvalidationList>")
    return "".join(parts).encode("utf-8")


def error(status: int, code: str, message: str, request_id: str) -> tuple[int, bytes]:
    kind = "Sender" if status < 500 else "Receiver"
    body = (
        f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, body.encode("utf-8")


# --- faults ----------------------------------------------------------------------------------

RESPONSE_FAULTS = frozenset(
    {"error", "throttle", "html", "empty", "garbage", "oversize", "gzip-bomb"}
)
_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>proxy</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def fault_response(fault: Fault, request_id: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """The response for an HTTP-level fault; adjusts ``headers`` in place."""
    kind = fault.kind
    if kind in ("error", "throttle"):
        if fault.retry_after_ms is not None:
            headers["x-amz-retry-after"] = str(fault.retry_after_ms)
        return error(fault.status, fault.code or "InternalError", fault.message, request_id)
    if kind in ("html", "empty"):
        # A proxy answered, not CloudFront: no request id.
        del headers["x-amz-request-id"]
        if kind == "empty":
            del headers["content-type"]
            return fault.status, b""
        import http.client

        headers["content-type"] = "text/html"
        reason = http.client.responses.get(fault.status, "Error")
        return fault.status, _HTML_PAGE.format(status=fault.status, reason=reason).encode()
    if kind == "garbage":
        return fault.status, b"\x00\xff{not: 'xml'} <<<>>> \xe2\x98"
    if kind == "oversize":
        head = f'<?xml version="1.0"?>\n<InvalidationList xmlns="{NAMESPACE}">'.encode()
        return 200, head + b" " * fault.size + b"</InvalidationList>"
    headers["content-encoding"] = "gzip"
    return 200, gzip_zeros(fault.size)


@functools.lru_cache(maxsize=4)
def gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed without ever holding them all."""
    import zlib

    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    out = []
    remaining = size
    while remaining > 0:
        piece = block if remaining >= len(block) else block[:remaining]
        out.append(compressor.compress(piece))
        remaining -= len(piece)
    out.append(compressor.flush())
    return b"".join(out)
