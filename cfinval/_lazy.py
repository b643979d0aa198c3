"""Modules imported when first used, so that a listing's cold start does not pay for the rest.

``cfinval`` serves the workflow's public names (``Invalidation``, ``DistributionTenantSummary``,
``InvalidationRun``, ...) from its ``__getattr__``; the drivers name those types in their
signatures through a :class:`LazyModule`, which imports the module when an annotation is
evaluated (``typing.get_type_hints``) and never before.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LAZY_NAMES", "LazyModule"]


class LazyModule:
    """Stands for module ``name``: the first attribute read imports it (under the import
    lock, so threads are safe)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


#: Public name -> the module that defines it, for ``cfinval.__getattr__``.
LAZY_NAMES = {
    **dict.fromkeys(
        ("Invalidation", "InvalidationBatch", "InvalidationReport", "TenantInvalidation"),
        "cfinval._invalidation_models",
    ),
    **dict.fromkeys(
        (
            "CertificateCustomization",
            "Customizations",
            "DistributionTenantPage",
            "DistributionTenantSummary",
            "DomainResult",
            "GeoRestrictionCustomization",
            "WebAclCustomization",
        ),
        "cfinval._tenant_models",
    ),
    **dict.fromkeys(("AsyncInvalidationRun", "InvalidationRun"), "cfinval._drivers.deploy"),
}
