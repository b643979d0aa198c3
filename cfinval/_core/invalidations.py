"""Creating and reading one invalidation: ``CreateInvalidationForDistributionTenant`` and
``GetInvalidationForDistributionTenant`` as operations of the call loop (no I/O).

The request body is built with ``xmltodict.unparse`` to the byte what botocore sends: no XML
declaration, the CloudFront namespace on the root, ``Quantity`` counted from the paths. The
``CallerReference`` is chosen once, when the parameters are validated, so that every attempt
of a call (and a re-run that passes the same reference) sends the same one: CloudFront then
answers with the invalidation it already created instead of creating a second.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import xmltodict

from .._errors import ParamValidationError
from .._invalidation_models import Invalidation, InvalidationBatch
from . import sigv4 as _sigv4
from .http import HttpResponse
from .operation import Operation, check_text
from .protocol import API_VERSION, NAMESPACE, check_id, root_element
from .xml import _int, _required, _text, parse_timestamp

__all__ = [
    "MAX_CALLER_REFERENCE_LENGTH",
    "MAX_TAG_LENGTH",
    "CreateInvalidation",
    "GetInvalidation",
    "check_paths",
    "check_reference",
    "new_caller_reference",
    "parse_invalidation",
]

#: A cache tag (``#product:tv``): visible ASCII but the comma, at most 256 characters, no
#: wildcard (CloudFront Developer Guide, "What you need to know when invalidating tags").
MAX_TAG_LENGTH = 256
#: The longest ``CallerReference`` sent (the API sets none; a longer one is a mistake).
MAX_CALLER_REFERENCE_LENGTH = 1024
#: The longest path sent (as ``Id``: a longer one only makes an over-large batch).
MAX_PATH_LENGTH = 4096


def new_caller_reference() -> str:
    """A fresh, unique ``CallerReference``: ``cfinval-`` and a random UUID."""
    return f"cfinval-{uuid.uuid4().hex}"


def check_reference(
    name: str, value: object, limit: int, new: Callable[[], str], what: str = ""
) -> str:
    """``value`` as a caller reference (or a prefix of them: ``what``), ``new()`` when it is
    ``None``; a non-empty str of at most ``limit`` characters without control characters."""
    if value is None:
        return new()
    if not isinstance(value, str) or not value:
        raise ParamValidationError(f"{name} must be a non-empty str{what}, got {value!r}")
    check_text(name, value, limit)
    return value


def check_paths(paths: object) -> tuple[str, ...]:
    """The paths of a batch, checked before anything is sent: a non-empty sequence of
    strings, each a URL path (``/images/*``) or a cache tag (``#product:tv``)."""
    if isinstance(paths, (str, bytes)):
        raise ParamValidationError(
            f"Paths must be a list of paths, not a single {type(paths).__name__} "
            f"(write [{paths!r}])"
        )
    if not isinstance(paths, Sequence):
        raise ParamValidationError(f"Paths must be a list of str, not {type(paths).__name__}")
    if not paths:
        raise ParamValidationError("Paths must hold at least one path")
    out = tuple(paths)
    for index, path in enumerate(out):
        name = f"Paths[{index}]"
        if not isinstance(path, str):
            raise ParamValidationError(f"{name} must be a str, not {type(path).__name__}")
        check_text(name, path, MAX_PATH_LENGTH)
        if path.startswith("#"):
            _check_tag(name, path)
        elif not path.startswith("/"):
            raise ParamValidationError(
                f"{name} must start with '/' (a path) or '#' (a cache tag), got {path!r}"
            )
    return out


def _check_tag(name: str, tag: str) -> None:
    value = tag[1:]
    if not value:
        raise ParamValidationError(f"{name} is an empty cache tag ('#' alone)")
    if len(value) > MAX_TAG_LENGTH:
        raise ParamValidationError(
            f"{name} is a cache tag of {len(value):,} characters; at most {MAX_TAG_LENGTH} "
            "are accepted"
        )
    bad = next((c for c in value if not ("!" <= c <= "~") or c in ",*"), None)
    if bad is not None:
        raise ParamValidationError(
            f"{name}: a cache tag holds visible ASCII characters but the comma, and no '*' "
            f"wildcard; got {bad!r} in {tag!r}"
        )


def _batch_from_mapping(batch: object) -> tuple[object, object]:
    """``(Items, CallerReference)`` of a boto3-style ``InvalidationBatch`` mapping."""
    if not isinstance(batch, Mapping):
        raise ParamValidationError(f"InvalidationBatch must be a dict, not {type(batch).__name__}")
    unknown = sorted(set(map(str, batch)) - {"Paths", "CallerReference"})
    if unknown:
        raise ParamValidationError(f"InvalidationBatch has unknown keys: {', '.join(unknown)}")
    paths = batch.get("Paths")
    if not isinstance(paths, Mapping):
        raise ParamValidationError("InvalidationBatch['Paths'] must be a dict with Items")
    unknown = sorted(set(map(str, paths)) - {"Quantity", "Items"})
    if unknown:
        raise ParamValidationError(
            f"InvalidationBatch['Paths'] has unknown keys: {', '.join(unknown)}"
        )
    items = paths.get("Items")
    quantity = paths.get("Quantity")
    if quantity is not None:
        count = len(items) if isinstance(items, Sequence) else None
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity != count:
            raise ParamValidationError(
                f"InvalidationBatch['Paths']['Quantity'] is {quantity!r} but Items holds "
                f"{count} path(s); leave Quantity out: cfinval counts the paths"
            )
    return items, batch.get("CallerReference")


class CreateInvalidation(Operation[Invalidation]):
    """``CreateInvalidationForDistributionTenant``: invalidate ``paths`` on tenant ``id``."""

    __slots__ = ("caller_reference", "id", "paths")
    name = "CreateInvalidationForDistributionTenant"
    result_name = "Invalidation"

    def __init__(self, id: str, paths: tuple[str, ...], caller_reference: str) -> None:
        self.id = id
        self.paths = paths
        self.caller_reference = caller_reference

    @classmethod
    def validate(
        cls,
        Id: object,
        Paths: object = None,
        CallerReference: object = None,
        InvalidationBatch: object = None,
        *,
        new_reference: Callable[[], str] = new_caller_reference,
    ) -> CreateInvalidation:
        tenant = check_id("Id", Id)
        if InvalidationBatch is not None:
            if Paths is not None or CallerReference is not None:
                raise ParamValidationError(
                    "give either Paths (and CallerReference) or InvalidationBatch, not both"
                )
            Paths, CallerReference = _batch_from_mapping(InvalidationBatch)
        elif Paths is None:
            raise ParamValidationError("Paths is required: the paths to invalidate")
        paths = check_paths(Paths)
        reference = check_reference(
            "CallerReference", CallerReference, MAX_CALLER_REFERENCE_LENGTH, new_reference
        )
        return cls(tenant, paths, reference)

    def route(self) -> tuple[str, str, tuple[()]]:
        path = f"/{API_VERSION}/distribution-tenant/{_sigv4.encode_rfc3986(self.id)}/invalidation"
        return "POST", path, ()

    def body(self) -> bytes:
        document = {
            "InvalidationBatch": {
                "@xmlns": NAMESPACE,
                "Paths": {"Quantity": str(len(self.paths)), "Items": {"Path": list(self.paths)}},
                "CallerReference": self.caller_reference,
            }
        }
        text: str = xmltodict.unparse(document, full_document=False)
        return text.encode("utf-8")

    def parse(self, response: HttpResponse, attempts: int) -> Invalidation:
        return parse_invalidation(response, attempts, response.headers.get("location"))


class GetInvalidation(Operation[Invalidation]):
    """``GetInvalidationForDistributionTenant``: invalidation ``id`` of tenant ``tenant_id``."""

    __slots__ = ("id", "tenant_id")
    name = "GetInvalidationForDistributionTenant"
    result_name = "Invalidation"

    def __init__(self, tenant_id: str, id: str) -> None:
        self.tenant_id = tenant_id
        self.id = id

    @classmethod
    def validate(cls, DistributionTenantId: object, Id: object) -> GetInvalidation:
        tenant = check_id("DistributionTenantId", DistributionTenantId)
        return cls(tenant, check_id("Id", Id, "an invalidation Id"))

    def route(self) -> tuple[str, str, tuple[()]]:
        tenant = _sigv4.encode_rfc3986(self.tenant_id)
        path = (
            f"/{API_VERSION}/distribution-tenant/{tenant}/invalidation/"
            f"{_sigv4.encode_rfc3986(self.id)}"
        )
        return "GET", path, ()

    def parse(self, response: HttpResponse, attempts: int) -> Invalidation:
        return parse_invalidation(response, attempts)


def parse_invalidation(
    response: HttpResponse, attempts: int = 1, location: str | None = None
) -> Invalidation:
    """The ``Invalidation`` of a 2xx body (``ValueError`` when it is not one)."""
    root = root_element(response.body, "Invalidation")
    batch = root.get("InvalidationBatch")
    if not isinstance(batch, dict):
        raise ValueError("missing required element InvalidationBatch")
    paths = batch.get("Paths")
    if not isinstance(paths, dict):
        raise ValueError("missing required element Paths")
    items: Any = paths.get("Items")
    if items is None or isinstance(items, str):  # <Items/>, or whitespace only
        if isinstance(items, str) and items.strip():
            raise ValueError("Items holds text, not Path elements")
        found: tuple[str, ...] = ()
    elif isinstance(items, dict):
        found = tuple(_text(path, "Path") for path in items.get("Path", ()))
    else:
        raise ValueError("Items is malformed")
    return Invalidation(
        id=_required(root, "Id"),
        status=_required(root, "Status"),
        create_time=parse_timestamp(_required(root, "CreateTime")),
        invalidation_batch=InvalidationBatch(
            paths=found,
            caller_reference=_required(batch, "CallerReference"),
            quantity=_int(paths, "Quantity"),
            items_present="Items" in paths,
        ),
        location=location,
        request_id=response.request_id,
        attempts=attempts,
    )
