"""Value types of tenant discovery: ``ListDistributionTenants`` and
``ListDistributionTenantsByCustomization`` pages and their ``DistributionTenantSummary`` items.

All classes are frozen attrs classes. ``to_dict()`` is exactly boto3's parse of the same
response bytes, keys in the service model's member order (the order boto3 and the AWS CLI
print them); an optional element the service left out is a ``None`` attribute and no key.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from attrs import field, frozen

__all__ = [
    "CertificateCustomization",
    "Customizations",
    "DistributionTenantPage",
    "DistributionTenantSummary",
    "DomainResult",
    "GeoRestrictionCustomization",
    "WebAclCustomization",
]

_Time = Callable[[_dt.datetime], Any]


def _same(value: _dt.datetime) -> _dt.datetime:
    return value


def _iso(value: _dt.datetime) -> str:
    return value.isoformat()


def _put(out: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        out[key] = value


@frozen
class DomainResult:
    """One domain of a tenant: ``status`` is ``active`` or ``inactive``, ``serve_on`` is
    ``any`` or ``anycast-ip-list-only`` (``None``: not sent)."""

    domain: str
    status: str | None = None
    serve_on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Domain": self.domain}
        _put(out, "Status", self.status)
        _put(out, "ServeOn", self.serve_on)
        return out


@frozen
class WebAclCustomization:
    """The tenant's WAF web ACL: ``action`` ``override`` (with ``arn``) or ``disable``."""

    action: str
    arn: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Action": self.action}
        _put(out, "Arn", self.arn)
        return out


@frozen
class CertificateCustomization:
    """The tenant's ACM certificate (boto3's ``Certificate``)."""

    arn: str

    def to_dict(self) -> dict[str, Any]:
        return {"Arn": self.arn}


@frozen
class GeoRestrictionCustomization:
    """The tenant's geographic restriction: ``restriction_type`` ``none``, ``blacklist`` or
    ``whitelist`` and the ``locations`` (country codes; ``None``: no ``Locations`` element)."""

    restriction_type: str
    locations: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"RestrictionType": self.restriction_type}
        if self.locations is not None:
            out["Locations"] = list(self.locations)
        return out


@frozen
class Customizations:
    """What a tenant overrides of its distribution (each ``None`` when not sent)."""

    web_acl: WebAclCustomization | None = None
    certificate: CertificateCustomization | None = None
    geo_restrictions: GeoRestrictionCustomization | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.web_acl is not None:
            out["WebAcl"] = self.web_acl.to_dict()
        if self.certificate is not None:
            out["Certificate"] = self.certificate.to_dict()
        if self.geo_restrictions is not None:
            out["GeoRestrictions"] = self.geo_restrictions.to_dict()
        return out


@frozen
class DistributionTenantSummary:
    """One distribution tenant as listed. Times are aware datetimes (UTC).

    ``connection_group_id``, ``customizations``, ``enabled`` and ``status`` are ``None`` when
    the service did not send them.
    """

    id: str
    distribution_id: str
    name: str
    arn: str
    domains: tuple[DomainResult, ...]
    created_time: _dt.datetime
    last_modified_time: _dt.datetime
    etag: str
    connection_group_id: str | None = None
    customizations: Customizations | None = None
    enabled: bool | None = None
    status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The item as boto3 returns it (times as datetimes)."""
        return self._dict(_same)

    def to_json_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` with the times as ISO 8601 strings, as the AWS CLI v2 prints them:
        ready for ``json.dumps``."""
        return self._dict(_iso)

    def _dict(self, time: _Time) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Id": self.id,
            "DistributionId": self.distribution_id,
            "Name": self.name,
            "Arn": self.arn,
            "Domains": [domain.to_dict() for domain in self.domains],
        }
        _put(out, "ConnectionGroupId", self.connection_group_id)
        if self.customizations is not None:
            out["Customizations"] = self.customizations.to_dict()
        out["CreatedTime"] = time(self.created_time)
        out["LastModifiedTime"] = time(self.last_modified_time)
        out["ETag"] = self.etag
        _put(out, "Enabled", self.enabled)
        _put(out, "Status", self.status)
        return out


@frozen
class DistributionTenantPage:
    """One page of ``ListDistributionTenants`` or ``ListDistributionTenantsByCustomization``.

    ``items`` is always a tuple (empty when the service sent no tenant); ``next_marker`` is
    ``None`` on the last page (the listing has no ``IsTruncated``). ``request_id`` and
    ``attempts`` describe the HTTP exchange and take no part in equality.
    """

    items: tuple[DistributionTenantSummary, ...] = ()
    next_marker: str | None = None
    #: Whether ``DistributionTenantList`` was on the wire (boto3 omits the key when not).
    items_present: bool = field(default=True, repr=False)
    request_id: str | None = field(default=None, eq=False)
    attempts: int = field(default=1, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """Exactly boto3's response (less ``ResponseMetadata``) for the same bytes."""
        return self._dict(DistributionTenantSummary.to_dict)

    def to_json_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` with times as ISO 8601 strings: ready for ``json.dumps``."""
        return self._dict(DistributionTenantSummary.to_json_dict)

    def _dict(self, item: Callable[[DistributionTenantSummary], dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "NextMarker", self.next_marker)
        if self.items_present:
            out["DistributionTenantList"] = [item(summary) for summary in self.items]
        return out
