"""Seeding a :class:`FakeCloudFront` from plain data (a JSON file for ``cfinval fake-server``).

The format::

    {
      "tenants": {
        "dt_shop": [
          {"Id": "I2EXAMPLE", "CreateTime": "2026-01-01T10:00:00.123Z", "Status": "InProgress"},
          {"CreateTime": "2026-01-01T09:00:00Z"}
        ],
        "dt_empty": [],
        "dt_locked": {"access_denied": true, "invalidations": []},
        "dt_eu": {
          "DistributionId": "E2EXAMPLE", "ConnectionGroupId": "cg_eu", "Name": "eu",
          "Domains": ["eu.example.com", {"Domain": "old.example.com", "Status": "inactive"}],
          "Customizations": {"WebAcl": {"Action": "override", "Arn": "arn:aws:wafv2:..."},
                             "Certificate": {"Arn": "arn:aws:acm:..."}},
          "Enabled": true, "Status": "Deployed", "CreatedTime": "2026-01-01T00:00:00Z",
          "invalidations": []
        }
      }
    }

A tenant's object may say what ListDistributionTenants shows of it, with boto3's names
(``DistributionId``, ``ConnectionGroupId``, ``Name``, ``Domains``, ``Customizations``,
``Enabled``, ``Status``, ``CreatedTime``); the defaults are :meth:`FakeCloudFront.add_tenant`'s.

``Id`` is generated when absent, ``Status`` (``InProgress`` or ``Completed``) defaults to
``Completed``, ``CreateTime`` (ISO 8601) to "now" in creation order. Listing order is by
``CreateTime``, newest first.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from .._core.xml import parse_timestamp
from ._fake import FakeCloudFront

__all__ = ["SeedError", "load_seed"]

_INVALIDATION_KEYS = {"Id", "CreateTime", "Status"}
#: What CloudFront lists an invalidation as.
_STATUSES = ("InProgress", "Completed")


class SeedError(ValueError):
    """The seed data does not follow the format (the message says where)."""


#: A tenant object's keys with boto3's names -> :meth:`FakeCloudFront.add_tenant`'s keywords.
_TENANT_KEYS = {
    "DistributionId": "distribution_id",
    "ConnectionGroupId": "connection_group_id",
    "Name": "name",
    "Domains": "domains",
    "Customizations": "customizations",
    "Enabled": "enabled",
    "Status": "status",
    "CreatedTime": "created_time",
}


def _invalidations(tenant_id: str, value: Any) -> tuple[list[Any], bool, dict[str, Any]]:
    if isinstance(value, list):
        return value, False, {}
    if isinstance(value, Mapping):
        unknown = set(value) - {"invalidations", "access_denied", *_TENANT_KEYS}
        if unknown:
            raise SeedError(f"tenant {tenant_id!r}: unknown keys {sorted(unknown)}")
        denied = value.get("access_denied", False)
        items = value.get("invalidations", [])
        if not isinstance(denied, bool) or not isinstance(items, list):
            raise SeedError(
                f"tenant {tenant_id!r}: access_denied must be true/false and invalidations a list"
            )
        attributes = {_TENANT_KEYS[k]: v for k, v in value.items() if k in _TENANT_KEYS}
        return items, denied, attributes
    raise SeedError(f"tenant {tenant_id!r}: expected a list of invalidations or an object")


def _add_tenant(fake: FakeCloudFront, tenant_id: str, denied: bool, attrs: dict[str, Any]) -> None:
    """``fake.add_tenant`` with the attributes of a seed, refused as :class:`SeedError`."""
    created = attrs.get("created_time")
    try:
        if created is not None:
            if not isinstance(created, str):
                raise TypeError("CreatedTime must be an ISO 8601 string")
            attrs["created_time"] = parse_timestamp(created).astimezone(_dt.timezone.utc)
        fake.add_tenant(tenant_id, access_denied=denied, **attrs)
    except (TypeError, ValueError) as exc:
        raise SeedError(f"tenant {tenant_id!r}: {exc}") from None


def load_seed(fake: FakeCloudFront, data: Any) -> list[str]:
    """Add the tenants and invalidations described by ``data``; return the tenant Ids."""
    if not isinstance(data, Mapping) or not isinstance(data.get("tenants"), Mapping):
        raise SeedError('the seed must be an object with a "tenants" object')
    tenant_ids = []
    for tenant_id, value in data["tenants"].items():
        if not tenant_id:
            raise SeedError("a tenant Id must not be empty")
        items, denied, attributes = _invalidations(tenant_id, value)
        prepared = []
        for position, item in enumerate(items):
            where = f"tenant {tenant_id!r}, invalidation #{position + 1}"
            if not isinstance(item, Mapping):
                raise SeedError(f"{where}: expected an object")
            unknown = set(item) - _INVALIDATION_KEYS
            if unknown:
                raise SeedError(f"{where}: unknown keys {sorted(unknown)}")
            for key in _INVALIDATION_KEYS & set(item):
                if not isinstance(item[key], str) or not item[key]:
                    raise SeedError(f"{where}: {key} must be a non-empty string")
            status = item.get("Status", "Completed")
            if status not in _STATUSES:
                raise SeedError(
                    f"{where}: Status must be one of {', '.join(_STATUSES)}, got {status!r}"
                )
            created = None
            if "CreateTime" in item:
                try:
                    created = parse_timestamp(item["CreateTime"])
                except ValueError as exc:
                    raise SeedError(f"{where}: {exc}") from None
            prepared.append((item.get("Id"), created, status))
        _add_tenant(fake, tenant_id, denied, attributes)
        for invalidation_id, created, status in prepared:
            fake.add_invalidation(tenant_id, invalidation_id, create_time=created, status=status)
        tenant_ids.append(tenant_id)
    return tenant_ids
