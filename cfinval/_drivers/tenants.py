"""Tenant discovery methods that both clients share: the paginators (not awaited) and the
flows behind ``list_distribution_tenants`` and ``list_distribution_tenants_by_customization``
(which each driver runs its own way)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from .._core.call import Session, operation_flow
from .._core.effects import Flow
from .._core.pagination import PaginationState
from .._core.protocol import check_count
from .._lazy import LazyModule

if TYPE_CHECKING:
    from .._core import tenants as _tenants
    from .._tenant_models import DistributionTenantPage
else:  # imported at the first tenant listing: a listing of invalidations never needs them
    _tenants = LazyModule("cfinval._core.tenants")

__all__ = ["TenantMethods"]

TenantPages = TypeVar("TenantPages")
TenantItems = TypeVar("TenantItems")


def _page_size(page_size: object) -> int | None:
    return None if page_size is None else check_count("page_size", page_size)


def _association_filter(
    distribution_id: object, connection_group_id: object
) -> dict[str, object] | None:
    out: dict[str, object] = {}
    if distribution_id is not None:
        out["DistributionId"] = distribution_id
    if connection_group_id is not None:
        out["ConnectionGroupId"] = connection_group_id
    return out or None


class TenantMethods(Generic[TenantPages, TenantItems]):
    """Mixed into both clients: ``TenantPages`` and ``TenantItems`` are what the driver's
    paginators of pages and of :class:`cfinval.DistributionTenantSummary` items are."""

    _session: Session

    def _paginator(self, flow: Flow[None], state: PaginationState) -> Any:
        raise NotImplementedError  # pragma: no cover

    def _list_tenants(
        self, AssociationFilter: object, Marker: object, MaxItems: object
    ) -> Flow[DistributionTenantPage]:
        op = _tenants.ListTenants.validate(AssociationFilter, Marker, MaxItems)
        return operation_flow(self._session, op)

    def _list_tenants_by_customization(
        self, WebACLArn: object, CertificateArn: object, Marker: object, MaxItems: object
    ) -> Flow[DistributionTenantPage]:
        op = _tenants.ListTenantsByCustomization.validate(
            WebACLArn, CertificateArn, Marker, MaxItems
        )
        return operation_flow(self._session, op)

    def _tenant_plan(
        self,
        AssociationFilter: Mapping[str, object] | None,
        page_size: object,
        max_items: object,
        starting_token: object,
    ) -> _tenants.TenantPaginationPlan:
        op = _tenants.ListTenants.validate(AssociationFilter, None, _page_size(page_size))
        return _tenants.TenantPaginationPlan.create(op, max_items, starting_token)

    def paginate_distribution_tenants(
        self,
        *,
        distribution_id: str | None = None,
        connection_group_id: str | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
    ) -> TenantPages:
        """Iterate over the pages of ``ListDistributionTenants`` (``async for`` with
        ``AsyncClient``), only the tenants of ``distribution_id`` and/or
        ``connection_group_id`` when given. After a ``max_items`` cut, ``.resume_token``
        continues (botocore's token: boto3 and the AWS CLI resume from it, and theirs work
        here as ``starting_token``)."""
        filter_ = _association_filter(distribution_id, connection_group_id)
        return self._tenant_pages(filter_, page_size, max_items, starting_token)

    def _tenant_pages(
        self,
        AssociationFilter: Mapping[str, object] | None,
        page_size: object,
        max_items: object,
        starting_token: object,
    ) -> TenantPages:
        """The pages of ``ListDistributionTenants`` for an ``AssociationFilter`` as given (its
        keys in their order, ``{}`` sent as an empty element: the AWS CLI's request bytes)."""
        plan = self._tenant_plan(AssociationFilter, page_size, max_items, starting_token)
        state = PaginationState()
        return cast(
            TenantPages,
            self._paginator(_tenants.tenant_pages_flow(self._session, plan, state), state),
        )

    def iter_distribution_tenants(
        self,
        *,
        distribution_id: str | None = None,
        connection_group_id: str | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
    ) -> TenantItems:
        """Iterate over every :class:`cfinval.DistributionTenantSummary` of
        ``ListDistributionTenants`` (see :meth:`paginate_distribution_tenants`)."""
        filter_ = _association_filter(distribution_id, connection_group_id)
        plan = self._tenant_plan(filter_, page_size, max_items, starting_token)
        state = PaginationState()
        return cast(
            TenantItems,
            self._paginator(_tenants.tenant_items_flow(self._session, plan, state), state),
        )

    def paginate_distribution_tenants_by_customization(
        self,
        *,
        web_acl_arn: str | None = None,
        certificate_arn: str | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
    ) -> TenantPages:
        """Iterate over the pages of ``ListDistributionTenantsByCustomization``: the tenants
        using the web ACL ``web_acl_arn`` or the certificate ``certificate_arn`` (exactly one).
        Tokens as for :meth:`paginate_distribution_tenants`."""
        size = _page_size(page_size)
        op = _tenants.ListTenantsByCustomization.validate(web_acl_arn, certificate_arn, None, size)
        plan = _tenants.TenantPaginationPlan.create(op, max_items, starting_token)
        state = PaginationState()
        return cast(
            TenantPages,
            self._paginator(_tenants.tenant_pages_flow(self._session, plan, state), state),
        )

    def iter_distribution_tenants_by_customization(
        self,
        *,
        web_acl_arn: str | None = None,
        certificate_arn: str | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
        starting_token: str | None = None,
    ) -> TenantItems:
        """Iterate over every :class:`cfinval.DistributionTenantSummary` using the web ACL
        ``web_acl_arn`` or the certificate ``certificate_arn`` (exactly one)."""
        size = _page_size(page_size)
        op = _tenants.ListTenantsByCustomization.validate(web_acl_arn, certificate_arn, None, size)
        plan = _tenants.TenantPaginationPlan.create(op, max_items, starting_token)
        state = PaginationState()
        return cast(
            TenantItems,
            self._paginator(_tenants.tenant_items_flow(self._session, plan, state), state),
        )
