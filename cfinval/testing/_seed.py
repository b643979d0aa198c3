"""Seeding a :class:`FakeCloudFront` from plain data (a JSON file for ``cfinval fake-server``).

The format::

    {
      "tenants": {
        "dt_shop": [
          {"Id": "I2EXAMPLE", "CreateTime": "2026-01-01T10:00:00.123Z", "Status": "InProgress"},
          {"CreateTime": "2026-01-01T09:00:00Z"}
        ],
        "dt_empty": [],
        "dt_locked": {"access_denied": true, "invalidations": []}
      }
    }

``Id`` is generated when absent, ``Status`` (``InProgress`` or ``Completed``) defaults to
``Completed``, ``CreateTime`` (ISO 8601) to "now" in creation order. Listing order is by
``CreateTime``, newest first.
"""

from __future__ import annotations

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


def _invalidations(tenant_id: str, value: Any) -> tuple[list[Any], bool]:
    if isinstance(value, list):
        return value, False
    if isinstance(value, Mapping):
        unknown = set(value) - {"invalidations", "access_denied"}
        if unknown:
            raise SeedError(f"tenant {tenant_id!r}: unknown keys {sorted(unknown)}")
        denied = value.get("access_denied", False)
        items = value.get("invalidations", [])
        if not isinstance(denied, bool) or not isinstance(items, list):
            raise SeedError(
                f"tenant {tenant_id!r}: access_denied must be true/false and invalidations a list"
            )
        return items, denied
    raise SeedError(f"tenant {tenant_id!r}: expected a list of invalidations or an object")


def load_seed(fake: FakeCloudFront, data: Any) -> list[str]:
    """Add the tenants and invalidations described by ``data``; return the tenant Ids."""
    if not isinstance(data, Mapping) or not isinstance(data.get("tenants"), Mapping):
        raise SeedError('the seed must be an object with a "tenants" object')
    tenant_ids = []
    for tenant_id, value in data["tenants"].items():
        if not tenant_id:
            raise SeedError("a tenant Id must not be empty")
        items, denied = _invalidations(tenant_id, value)
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
        fake.add_tenant(tenant_id, access_denied=denied)
        for invalidation_id, created, status in prepared:
            fake.add_invalidation(tenant_id, invalidation_id, create_time=created, status=status)
        tenant_ids.append(tenant_id)
    return tenant_ids
