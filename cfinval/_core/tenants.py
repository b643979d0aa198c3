"""Tenant discovery: ``ListDistributionTenants`` and ``ListDistributionTenantsByCustomization``
as operations of the call loop, their parse, and their pagination (no I/O).

Both are ``POST`` requests whose parameters travel in an XML body built with
``xmltodict.unparse`` to the byte what botocore sends: the CloudFront namespace on the root, the
members in the model's order (a given ``AssociationFilter`` in its own order, as botocore
keeps it), an empty element as ``<X />``, and no body at all (nor ``Content-Type``) when no
member is set. The listing has no ``IsTruncated``: it ends when ``NextMarker`` is absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xmltodict
from attrs import evolve

from .._errors import PaginationError, ParamValidationError
from .._tenant_models import (
    CertificateCustomization,
    Customizations,
    DistributionTenantPage,
    DistributionTenantSummary,
    DomainResult,
    GeoRestrictionCustomization,
    WebAclCustomization,
)
from .call import Session, operation_flow
from .effects import Emit, Flow, forward
from .http import HttpResponse
from .operation import Operation, check_text
from .pagination import PaginationState, decode_token, encode_token
from .protocol import API_VERSION, NAMESPACE, check_count
from .record import Record
from .xml import _bool, _required, _text, parse_timestamp, xml_to_dict

__all__ = [
    "ListTenants",
    "ListTenantsByCustomization",
    "TenantPaginationPlan",
    "parse_tenant_page",
    "tenant_items_flow",
    "tenant_pages_flow",
]

#: The longest string parameter sent (Ids, ARNs, markers): real ones are far shorter.
MAX_PARAM_LENGTH = 2048
_FILTER_KEYS = ("DistributionId", "ConnectionGroupId")


def _optional_str(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParamValidationError(f"{name} must be a str, not {type(value).__name__}")
    check_text(name, value, MAX_PARAM_LENGTH)
    return value


def _body(root: str, members: list[tuple[str, Any]]) -> bytes:
    """The request body botocore sends: ``b""`` when no member is set."""
    if not members:
        return b""
    document = {root: {"@xmlns": NAMESPACE, **dict(members)}}
    text: str = xmltodict.unparse(document, full_document=False, short_empty_elements=True)
    # ElementTree (botocore) writes an empty element as ``<X />``; "/>" occurs nowhere else,
    # since text content has its ">" escaped.
    return text.replace("/>", " />").encode("utf-8")


def _paging_members(
    marker: str | None, max_items: int | None, marker_last: bool
) -> list[tuple[str, Any]]:
    """``Marker`` and ``MaxItems`` in the order botocore writes them: the model's for a call
    and for a paginator that started from a token (botocore's paginator puts the token's
    ``Marker`` in before the page size), ``MaxItems`` first for a paginator that started at
    the beginning (the page size goes in before the first ``NextMarker``)."""
    members: list[tuple[str, Any]] = []
    if marker is not None:
        members.append(("Marker", marker))
    if max_items is not None:
        members.insert(0 if marker_last else len(members), ("MaxItems", str(max_items)))
    return members


class ListTenants(Operation[DistributionTenantPage]):
    """``ListDistributionTenants``: the account's tenants, optionally only those of one
    distribution and/or connection group (``association_filter``: ``(key, value)`` pairs in
    the order given; ``None``: no ``AssociationFilter`` element)."""

    __slots__ = ("association_filter", "marker", "marker_last", "max_items")
    name = "ListDistributionTenants"
    result_name = "ListDistributionTenantsResult"

    def __init__(
        self,
        association_filter: tuple[tuple[str, str], ...] | None = None,
        marker: str | None = None,
        max_items: int | None = None,
        marker_last: bool = False,
    ) -> None:
        self.association_filter = association_filter
        self.marker = marker
        self.max_items = max_items
        #: A paginator's request: ``MaxItems`` before ``Marker``, as botocore's paginator.
        self.marker_last = marker_last

    @classmethod
    def validate(
        cls, AssociationFilter: object = None, Marker: object = None, MaxItems: object = None
    ) -> ListTenants:
        pairs: tuple[tuple[str, str], ...] | None = None
        if AssociationFilter is not None:
            if not isinstance(AssociationFilter, Mapping):
                raise ParamValidationError(
                    "AssociationFilter must be a dict with DistributionId and/or "
                    f"ConnectionGroupId, not {type(AssociationFilter).__name__}"
                )
            unknown = sorted(map(str, set(AssociationFilter) - set(_FILTER_KEYS)))
            if unknown:
                raise ParamValidationError(
                    f"AssociationFilter has unknown keys: {', '.join(unknown)} (known: "
                    f"{', '.join(_FILTER_KEYS)})"
                )
            checked = []
            for key, value in AssociationFilter.items():
                if not isinstance(value, str):
                    raise ParamValidationError(
                        f"AssociationFilter['{key}'] must be a str, not {type(value).__name__}"
                    )
                check_text(f"AssociationFilter['{key}']", value, MAX_PARAM_LENGTH)
                checked.append((str(key), value))
            pairs = tuple(checked)
        marker = _optional_str("Marker", Marker)
        return cls(pairs, marker, None if MaxItems is None else check_count("MaxItems", MaxItems))

    def with_marker(self, marker: str | None, marker_last: bool | None = None) -> ListTenants:
        """The paginator's request for the page at ``marker`` (see :func:`_paging_members`
        for ``marker_last``; ``None``: as this one)."""
        last = self.marker_last if marker_last is None else marker_last
        return ListTenants(self.association_filter, marker, self.max_items, last)

    def route(self) -> tuple[str, str, tuple[()]]:
        return "POST", f"/{API_VERSION}/distribution-tenants", ()

    def body(self) -> bytes:
        members: list[tuple[str, Any]] = []
        if self.association_filter is not None:
            members.append(("AssociationFilter", dict(self.association_filter)))
        members += _paging_members(self.marker, self.max_items, self.marker_last)
        return _body("ListDistributionTenantsRequest", members)

    def parse(self, response: HttpResponse, attempts: int) -> DistributionTenantPage:
        return parse_tenant_page(response, attempts)


class ListTenantsByCustomization(Operation[DistributionTenantPage]):
    """``ListDistributionTenantsByCustomization``: the tenants using one web ACL or one
    certificate (exactly one of the two)."""

    __slots__ = ("certificate_arn", "marker", "marker_last", "max_items", "web_acl_arn")
    name = "ListDistributionTenantsByCustomization"
    result_name = "ListDistributionTenantsByCustomizationResult"

    def __init__(
        self,
        web_acl_arn: str | None,
        certificate_arn: str | None,
        marker: str | None = None,
        max_items: int | None = None,
        marker_last: bool = False,
    ) -> None:
        self.web_acl_arn = web_acl_arn
        self.certificate_arn = certificate_arn
        self.marker = marker
        self.max_items = max_items
        self.marker_last = marker_last

    @classmethod
    def validate(
        cls,
        WebACLArn: object = None,
        CertificateArn: object = None,
        Marker: object = None,
        MaxItems: object = None,
    ) -> ListTenantsByCustomization:
        web_acl = _optional_str("WebACLArn", WebACLArn)
        certificate = _optional_str("CertificateArn", CertificateArn)
        if (web_acl is None) == (certificate is None):
            raise ParamValidationError(
                "give exactly one of WebACLArn and CertificateArn"
                + (" (not both)" if web_acl is not None else "")
            )
        marker = _optional_str("Marker", Marker)
        size = None if MaxItems is None else check_count("MaxItems", MaxItems)
        return cls(web_acl, certificate, marker, size)

    def with_marker(
        self, marker: str | None, marker_last: bool | None = None
    ) -> ListTenantsByCustomization:
        """As :meth:`ListTenants.with_marker`."""
        last = self.marker_last if marker_last is None else marker_last
        return ListTenantsByCustomization(
            self.web_acl_arn, self.certificate_arn, marker, self.max_items, last
        )

    def route(self) -> tuple[str, str, tuple[()]]:
        return "POST", f"/{API_VERSION}/distribution-tenants-by-customization", ()

    def body(self) -> bytes:
        members: list[tuple[str, Any]] = []
        if self.web_acl_arn is not None:
            members.append(("WebACLArn", self.web_acl_arn))
        if self.certificate_arn is not None:
            members.append(("CertificateArn", self.certificate_arn))
        members += _paging_members(self.marker, self.max_items, self.marker_last)
        return _body("ListDistributionTenantsByCustomizationRequest", members)

    def parse(self, response: HttpResponse, attempts: int) -> DistributionTenantPage:
        return parse_tenant_page(response, attempts)


# --- parsing ---------------------------------------------------------------------------------


def _struct(node: Any, name: str) -> dict[str, Any]:
    """A structure element's children (``<X/>`` is an empty structure, as for botocore)."""
    if isinstance(node, dict):
        return node
    if node is None or (isinstance(node, str) and not node.strip()):
        return {}
    raise ValueError(f"{name} is malformed")


def _members(node: Any, name: str) -> list[Any]:
    """The members of a list element, whatever they are called (as botocore reads them); text
    between them (the indentation of a pretty-printed body) is not a member."""
    out: list[Any] = []
    for key, value in _struct(node, name).items():
        if key != "#text":
            out += value if isinstance(value, list) else [value]
    return out


def _optional(parent: Mapping[str, Any], name: str) -> str | None:
    return _text(parent[name], name) if name in parent else None


def _domain(node: Any) -> DomainResult:
    entry = _struct(node, "DomainResult")
    return DomainResult(
        domain=_required(entry, "Domain"),
        status=_optional(entry, "Status"),
        serve_on=_optional(entry, "ServeOn"),
    )


def _customizations(node: Any) -> Customizations:
    entry = _struct(node, "Customizations")
    web_acl = certificate = geo = None
    if "WebAcl" in entry:
        acl = _struct(entry["WebAcl"], "WebAcl")
        web_acl = WebAclCustomization(_required(acl, "Action"), _optional(acl, "Arn"))
    if "Certificate" in entry:
        cert = _struct(entry["Certificate"], "Certificate")
        certificate = CertificateCustomization(_required(cert, "Arn"))
    if "GeoRestrictions" in entry:
        restriction = _struct(entry["GeoRestrictions"], "GeoRestrictions")
        locations = None
        if "Locations" in restriction:
            found = _members(restriction["Locations"], "Locations")
            locations = tuple(_text(location, "Location") for location in found)
        geo = GeoRestrictionCustomization(_required(restriction, "RestrictionType"), locations)
    return Customizations(web_acl, certificate, geo)


def _tenant(node: Any) -> DistributionTenantSummary:
    entry = _struct(node, "DistributionTenantSummary")
    if "Domains" not in entry:
        raise ValueError("missing required element Domains")
    return DistributionTenantSummary(
        id=_required(entry, "Id"),
        distribution_id=_required(entry, "DistributionId"),
        name=_required(entry, "Name"),
        arn=_required(entry, "Arn"),
        domains=tuple(map(_domain, _members(entry["Domains"], "Domains"))),
        created_time=parse_timestamp(_required(entry, "CreatedTime")),
        last_modified_time=parse_timestamp(_required(entry, "LastModifiedTime")),
        etag=_required(entry, "ETag"),
        connection_group_id=_optional(entry, "ConnectionGroupId"),
        customizations=(
            _customizations(entry["Customizations"]) if "Customizations" in entry else None
        ),
        enabled=_bool(entry, "Enabled") if "Enabled" in entry else None,
        status=_optional(entry, "Status"),
    )


def parse_tenant_page(response: HttpResponse, attempts: int = 1) -> DistributionTenantPage:
    """The page of a 2xx body (``ValueError`` when it is not one). The root element's name is
    not checked: botocore reads the body whatever its root is called."""
    root = _struct(next(iter(xml_to_dict(response.body).values())), "the root element")
    listed = root.get("DistributionTenantList")
    return DistributionTenantPage(
        items=tuple(map(_tenant, _members(listed, "DistributionTenantList"))),
        next_marker=_optional(root, "NextMarker"),
        items_present="DistributionTenantList" in root,
        request_id=response.request_id,
        attempts=attempts,
    )


# --- pagination ------------------------------------------------------------------------------

TenantListing = ListTenants | ListTenantsByCustomization


class TenantPaginationPlan(Record):
    """Validated arguments of a tenant listing's paginator (checked before any I/O).

    ``operation`` is the first request (its ``MaxItems`` is the page size); ``marker`` and
    ``skip`` come from the starting token.
    """

    __slots__ = ("marker", "max_items", "operation", "skip")

    def __init__(
        self, operation: TenantListing, max_items: int | None, marker: str | None, skip: int
    ) -> None:
        self.operation = operation
        self.max_items = max_items
        self.marker = marker
        self.skip = skip

    @classmethod
    def create(
        cls,
        operation: TenantListing,
        max_items: object,
        starting_token: object,
    ) -> TenantPaginationPlan:
        most = None if max_items is None else check_count("max_items", max_items)
        marker: str | None = None
        skip = 0
        if starting_token is not None:
            marker, skip = decode_token(starting_token, operation.name)  # type: ignore[arg-type]
            _optional_str("starting_token's Marker", marker)
        return cls(operation.with_marker(marker, marker_last=marker is None), most, marker, skip)


def tenant_pages_flow(
    session: Session, plan: TenantPaginationPlan, state: PaginationState
) -> Flow[None]:
    """Emit pages until ``NextMarker`` is absent (or empty) or ``max_items`` were emitted.

    Pages, cuts and resume tokens are botocore's ``PageIterator``'s: after a cut inside a page
    the token is ``{"Marker": <that page's marker>, "boto_truncate_amount": <items of the page
    handed out, the starting token's skip included>}``; on a page boundary it is
    ``{"Marker": <NextMarker>}``. A ``NextMarker`` already followed raises
    :class:`PaginationError` instead of looping.
    """
    marker = plan.marker
    operation = plan.operation
    seen: set[str | None] = {marker}
    total = 0
    skip = plan.skip
    while True:
        page = yield from operation_flow(session, operation)
        state.pages += 1
        items = page.items[skip:] if skip else page.items
        if plan.max_items is not None and total + len(items) > plan.max_items:
            kept = plan.max_items - total
            state.resume_token = encode_token(marker, kept + skip)
            yield Emit(evolve(page, items=items[:kept]))
            return
        yield Emit(page if items is page.items else evolve(page, items=items))
        skip = 0
        total += len(items)
        next_marker = page.next_marker
        if not next_marker:
            return
        if plan.max_items is not None and total == plan.max_items:
            state.resume_token = encode_token(next_marker)
            return
        if next_marker in seen:
            raise PaginationError(
                f"the service returned NextMarker {next_marker!r} twice for "
                f"{operation.name}; stopping instead of looping"
            )
        seen.add(next_marker)
        marker = next_marker
        operation = operation.with_marker(marker)


def tenant_items_flow(
    session: Session, plan: TenantPaginationPlan, state: PaginationState
) -> Flow[None]:
    """Emit each :class:`DistributionTenantSummary` of the listing."""

    def items(page: DistributionTenantPage) -> tuple[DistributionTenantSummary, ...]:
        return page.items

    yield from forward(tenant_pages_flow(session, plan, state), items)
