"""The fake's tenant directory: distribution tenants, the distribution and connection group
each belongs to, and the two tenant listings (``ListDistributionTenants`` and
``ListDistributionTenantsByCustomization``).

Distributions and connection groups exist through their tenants: a distribution is known to
the fake once a tenant names it. Listing order is the order tenants were added; ``NextMarker``
is the last Id of a truncated page, absent on the last page (there is no ``IsTruncated``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import xmltodict
from attrs import define, field

from .._core.protocol import NAMESPACE
from .._models import InvalidationSummary
from ._replies import tenant_list_xml, timestamp

if TYPE_CHECKING:
    from ._invalidations import Batch

__all__ = [
    "DEFAULT_CONNECTION_GROUP_ID",
    "DEFAULT_DISTRIBUTION_ID",
    "TENANT_STATUSES",
    "BodyError",
    "Tenant",
    "check_customizations",
    "check_domains",
    "configure",
    "list_tenants",
    "parse_body",
]

#: The distribution (and connection group) of tenants added without one.
DEFAULT_DISTRIBUTION_ID = "E1FAKEDISTRIB0"
DEFAULT_CONNECTION_GROUP_ID = "cg_2fakeDefaultConnectionGroup"
#: The values ``DistributionTenantSummary.Status`` takes.
TENANT_STATUSES = ("Deployed", "InProgress")
_ACCOUNT = "123456789012"


@define
class Tenant:
    """One distribution tenant, its invalidations (the listing) and their batches."""

    id: str
    distribution_id: str = DEFAULT_DISTRIBUTION_ID
    connection_group_id: str | None = DEFAULT_CONNECTION_GROUP_ID
    name: str = ""
    domains: tuple[tuple[str, str | None], ...] = ()
    customizations: Mapping[str, Any] | None = None
    created: _dt.datetime = field(factory=lambda: _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc))
    modified: _dt.datetime | None = None
    enabled: bool = True
    status: str = "Deployed"
    access_denied: bool = False
    invalidations: list[InvalidationSummary] = field(factory=list)
    #: The batch (paths, caller reference, schedule) of each invalidation that has one, by Id.
    batches: dict[str, Batch] = field(factory=dict)
    #: CallerReference -> invalidation Id, for idempotent creates.
    references: dict[str, str] = field(factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:cloudfront::{_ACCOUNT}:distribution-tenant/{self.id}"

    @property
    def etag(self) -> str:
        digest = hashlib.sha256(f"{self.id}/{self.modified or self.created}".encode()).hexdigest()
        return "E" + digest[:13].upper()

    def summary(self) -> dict[str, Any]:
        """The ``DistributionTenantSummary`` element's content, in the model's member order."""
        out: dict[str, Any] = {
            "Id": self.id,
            "DistributionId": self.distribution_id,
            "Name": self.name or self.id,
            "Arn": self.arn,
            # The model's DomainResultList has no member locationName: items are <member>.
            "Domains": {
                "member": [
                    {"Domain": domain, **({"Status": status} if status else {})}
                    for domain, status in self.domains
                ]
            }
            if self.domains
            else None,
        }
        if self.connection_group_id is not None:
            out["ConnectionGroupId"] = self.connection_group_id
        if self.customizations is not None:
            out["Customizations"] = _customizations_xml(self.customizations)
        out["CreatedTime"] = timestamp(self.created)
        out["LastModifiedTime"] = timestamp(self.modified or self.created)
        out["ETag"] = self.etag
        out["Enabled"] = "true" if self.enabled else "false"
        out["Status"] = self.status
        return out

    def customization_arns(self) -> tuple[str | None, str | None]:
        """``(WebAcl Arn, Certificate Arn)`` of this tenant's customizations."""
        custom = self.customizations or {}
        web_acl = custom.get("WebAcl") or {}
        certificate = custom.get("Certificate") or {}
        return web_acl.get("Arn"), certificate.get("Arn")


def _customizations_xml(custom: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "WebAcl" in custom:
        out["WebAcl"] = dict(custom["WebAcl"])
    if "Certificate" in custom:
        out["Certificate"] = dict(custom["Certificate"])
    if "GeoRestrictions" in custom:
        geo = custom["GeoRestrictions"]
        out["GeoRestrictions"] = {"RestrictionType": geo["RestrictionType"]}
        if geo.get("Locations"):
            out["GeoRestrictions"]["Locations"] = {"Location": list(geo["Locations"])}
    return out


# --- checking seeds --------------------------------------------------------------------------


def check_domains(domains: object) -> tuple[tuple[str, str | None], ...]:
    """``Domains`` as boto3 gives them (``[{"Domain": ..., "Status": ...}]``) or plain names."""
    if isinstance(domains, (str, bytes)) or not isinstance(domains, Iterable):
        raise TypeError("domains must be a list of domain names or of {'Domain', 'Status'}")
    out: list[tuple[str, str | None]] = []
    for item in domains:
        if isinstance(item, str) and item:
            out.append((item, "active"))
            continue
        if not isinstance(item, Mapping) or set(item) - {"Domain", "Status"}:
            raise TypeError(f"a domain must be a name or {{'Domain', 'Status'}}, got {item!r}")
        domain, status = item.get("Domain"), item.get("Status")
        if not isinstance(domain, str) or not domain:
            raise TypeError(f"a domain needs a non-empty Domain, got {item!r}")
        if status not in (None, "active", "inactive"):
            raise TypeError(f"a domain's Status is 'active' or 'inactive', got {status!r}")
        out.append((domain, status))
    return tuple(out)


_CUSTOM_KEYS = {
    "WebAcl": ({"Action"}, {"Action", "Arn"}),
    "Certificate": ({"Arn"}, {"Arn"}),
    "GeoRestrictions": ({"RestrictionType"}, {"RestrictionType", "Locations"}),
}
_ENUMS = {
    "Action": ("override", "disable"),
    "RestrictionType": ("blacklist", "whitelist", "none"),
}


def check_customizations(custom: object) -> dict[str, Any] | None:
    """``Customizations`` in boto3's shape (``WebAcl``, ``Certificate``, ``GeoRestrictions``)."""
    if custom is None:
        return None
    if not isinstance(custom, Mapping) or set(custom) - set(_CUSTOM_KEYS):
        raise TypeError(f"customizations must be a mapping with keys among {sorted(_CUSTOM_KEYS)}")
    out: dict[str, Any] = {}
    for key, value in custom.items():
        required, allowed = _CUSTOM_KEYS[key]
        if not isinstance(value, Mapping) or not required <= set(value) <= allowed:
            raise TypeError(
                f"customizations {key} must have {sorted(required)} (of {sorted(allowed)})"
            )
        for name, item in value.items():
            if name == "Locations":
                if isinstance(item, str) or not all(isinstance(x, str) and x for x in item):
                    raise TypeError("GeoRestrictions Locations must be a list of country codes")
                continue
            if not isinstance(item, str) or not item:
                raise TypeError(f"customizations {key}.{name} must be a non-empty str")
            if name in _ENUMS and item not in _ENUMS[name]:
                raise TypeError(f"customizations {key}.{name} must be one of {_ENUMS[name]}")
        out[key] = {name: list(v) if name == "Locations" else v for name, v in value.items()}
    return out


# --- request bodies --------------------------------------------------------------------------


class BodyError(Exception):
    """A request body the service refuses: ``(status, code, message)``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message)
        self.reply = (status, code, message)


def parse_body(body: bytes, root: str) -> dict[str, Any]:
    """The children of the ``root`` element of an XML request body in CloudFront's namespace.

    An empty body is ``{}``; a body that is not such a document raises :class:`BodyError`.
    """
    if not body.strip():
        return {}
    try:
        parsed = xmltodict.parse(body, disable_entities=True)
    except Exception:  # expat errors, bad encodings: all malformed input
        raise BodyError(400, "MalformedXML", "The XML you provided was not well-formed.") from None
    node = parsed.get(root) if isinstance(parsed, dict) else None
    if node is None and isinstance(parsed, dict) and root in parsed:
        node = {}
    if not isinstance(node, dict) or node.get("@xmlns") != NAMESPACE:
        raise BodyError(
            400,
            "MalformedXML",
            f"The request body must be a {root} element in the namespace {NAMESPACE}.",
        )
    return {k: v for k, v in node.items() if not k.startswith("@")}


def _text(node: Mapping[str, Any], key: str) -> str | None:
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BodyError(400, "MalformedXML", f"{key} must be a text element.")
    return value


# --- the listings ----------------------------------------------------------------------------


def _max_items(raw: str | None, default: int, limit: int) -> int:
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw.strip()) or not 1 <= int(raw) <= limit:
        raise BodyError(400, "InvalidArgument", f"MaxItems must be an integer from 1 to {limit}.")
    return int(raw)


def list_tenants(
    tenants: Sequence[Tenant],
    body: bytes,
    *,
    by_customization: bool,
    default_page_size: int,
    max_page_size: int,
    rewind: bool = False,
) -> tuple[int, bytes] | tuple[int, str, str]:
    """Serve either tenant listing: ``(200, body)``, or an error ``(status, code, message)``."""
    root = (
        "ListDistributionTenantsByCustomizationRequest"
        if by_customization
        else "ListDistributionTenantsRequest"
    )
    try:
        node = parse_body(body, root)
        page_size = _max_items(_text(node, "MaxItems"), default_page_size, max_page_size)
        marker = _text(node, "Marker") or ""
        if by_customization:
            selected = _by_customization(tenants, node)
        else:
            selected = _by_association(tenants, node)
    except BodyError as exc:
        return exc.reply
    start = 0
    if marker:
        ids = [tenant.id for tenant in selected]
        if marker not in ids:
            return 400, "InvalidArgument", "The marker is not valid."
        start = ids.index(marker) + 1
    page = selected[start : start + page_size]
    next_marker = page[-1].id if start + page_size < len(selected) else None
    if rewind and marker and len(selected) > page_size:
        next_marker = selected[page_size - 1].id
    result = root.replace("Request", "Result")
    return 200, tenant_list_xml(result, (t.summary() for t in page), next_marker)


def _by_association(tenants: Sequence[Tenant], node: Mapping[str, Any]) -> list[Tenant]:
    association = node.get("AssociationFilter") or {}
    if not isinstance(association, Mapping):
        raise BodyError(400, "MalformedXML", "AssociationFilter must hold elements.")
    distribution_id = _text(association, "DistributionId")
    group_id = _text(association, "ConnectionGroupId")
    if distribution_id and all(t.distribution_id != distribution_id for t in tenants):
        raise BodyError(
            404, "EntityNotFound", f"The distribution {distribution_id} does not exist."
        )
    if group_id and all(t.connection_group_id != group_id for t in tenants):
        raise BodyError(404, "EntityNotFound", f"The connection group {group_id} does not exist.")
    return [
        tenant
        for tenant in tenants
        if (not distribution_id or tenant.distribution_id == distribution_id)
        and (not group_id or tenant.connection_group_id == group_id)
    ]


def _by_customization(tenants: Sequence[Tenant], node: Mapping[str, Any]) -> list[Tenant]:
    web_acl = _text(node, "WebACLArn")
    certificate = _text(node, "CertificateArn")
    if bool(web_acl) == bool(certificate):
        raise BodyError(
            400,
            "InvalidArgument",
            "You must specify either the CertificateArn or the WebACLArn, but not both.",
        )
    index = 0 if web_acl else 1
    wanted = web_acl or certificate
    return [tenant for tenant in tenants if tenant.customization_arns()[index] == wanted]


def configure(
    tenant: Tenant | None,
    tenant_id: str,
    now: _dt.datetime,
    *,
    access_denied: bool,
    distribution_id: str | None,
    connection_group_id: str | None,
    name: str | None,
    domains: object,
    customizations: object,
    enabled: object,
    status: str | None,
    created_time: object,
) -> Tenant:
    """``tenant`` (a new one if ``None``) with the given attributes, all checked first."""
    for label, text in (
        ("tenant_id", tenant_id),
        ("distribution_id", distribution_id),
        ("connection_group_id", connection_group_id),
        ("name", name),
    ):
        if text is not None and (not isinstance(text, str) or not text):
            raise TypeError(f"{label} must be a non-empty str, got {text!r}")
    if status is not None and status not in TENANT_STATUSES:
        raise ValueError(f"a tenant's status is one of {TENANT_STATUSES}, got {status!r}")
    if enabled is not None and not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool, got {enabled!r}")
    if created_time is not None and (
        not isinstance(created_time, _dt.datetime) or created_time.tzinfo is None
    ):
        raise TypeError("created_time must be an aware datetime (e.g. with tzinfo=UTC)")
    checked_domains = None if domains is None else check_domains(domains)
    checked_custom = check_customizations(customizations)
    if tenant is None:
        domain = f"{tenant_id.lower().replace('_', '-')}.example.com"
        tenant = Tenant(
            tenant_id, created=now.replace(microsecond=0), domains=((domain, "active"),)
        )
    if created_time is not None:
        tenant.created = created_time
    tenant.access_denied = access_denied
    tenant.distribution_id = distribution_id or tenant.distribution_id
    if connection_group_id is not None:
        tenant.connection_group_id = connection_group_id
    tenant.name = name or tenant.name
    tenant.domains = tenant.domains if checked_domains is None else checked_domains
    tenant.customizations = checked_custom or tenant.customizations
    tenant.enabled = tenant.enabled if enabled is None else enabled
    tenant.status = status or tenant.status
    return tenant
