"""cfinval: a small, fast client for CloudFront ``ListInvalidationsForDistributionTenant``.

::

    import cfinval

    with cfinval.Client() as client:
        for item in client.iter_invalidations("dt_2abc..."):
            print(item.id, item.status, item.create_time)

Everything public is importable from here; the underscored modules are private.
"""

from ._credentials import (
    AssumeRoleProvider,
    ChainProvider,
    ConfigFileProvider,
    ContainerProvider,
    CredentialProvider,
    CredentialSource,
    EnvProvider,
    InstanceMetadataProvider,
    LoginProvider,
    ProcessProvider,
    SharedCredentialsProvider,
    SSOProvider,
    StaticProvider,
    WebIdentityProvider,
    default_chain,
)
from ._drivers.aio import AsyncClient
from ._drivers.deploy import AsyncInvalidationRun, InvalidationRun
from ._drivers.paginators import AsyncPaginator, Paginator
from ._drivers.sync import Client
from ._errors import (
    AccessDenied,
    BatchTooLarge,
    CloudFrontError,
    ConfigError,
    CredentialRetrievalError,
    EntityNotFound,
    Error,
    InconsistentQuantities,
    InvalidArgument,
    LoginRequiredError,
    MissingBody,
    MissingDependencyError,
    NoCredentialsError,
    NoSuchInvalidation,
    PaginationError,
    ParamValidationError,
    ProfileNotFound,
    ResponseParseError,
    TooManyInvalidationsInProgress,
    TransportError,
    WaitTimeoutError,
)
from ._models import (
    Credentials,
    Invalidation,
    InvalidationBatch,
    InvalidationList,
    InvalidationReport,
    InvalidationSummary,
    TenantInvalidation,
    TenantResult,
)
from ._tenant_models import (
    CertificateCustomization,
    Customizations,
    DistributionTenantPage,
    DistributionTenantSummary,
    DomainResult,
    GeoRestrictionCustomization,
    WebAclCustomization,
)
from ._version import __version__

__all__ = [
    "AccessDenied",
    "AssumeRoleProvider",
    "AsyncClient",
    "AsyncInvalidationRun",
    "AsyncPaginator",
    "BatchTooLarge",
    "CertificateCustomization",
    "ChainProvider",
    "Client",
    "CloudFrontError",
    "ConfigError",
    "ConfigFileProvider",
    "ContainerProvider",
    "CredentialProvider",
    "CredentialRetrievalError",
    "CredentialSource",
    "Credentials",
    "Customizations",
    "DistributionTenantPage",
    "DistributionTenantSummary",
    "DomainResult",
    "EntityNotFound",
    "EnvProvider",
    "Error",
    "GeoRestrictionCustomization",
    "InconsistentQuantities",
    "InstanceMetadataProvider",
    "InvalidArgument",
    "Invalidation",
    "InvalidationBatch",
    "InvalidationList",
    "InvalidationReport",
    "InvalidationRun",
    "InvalidationSummary",
    "LoginProvider",
    "LoginRequiredError",
    "MissingBody",
    "MissingDependencyError",
    "NoCredentialsError",
    "NoSuchInvalidation",
    "PaginationError",
    "Paginator",
    "ParamValidationError",
    "ProcessProvider",
    "ProfileNotFound",
    "ResponseParseError",
    "SSOProvider",
    "SharedCredentialsProvider",
    "StaticProvider",
    "TenantInvalidation",
    "TenantResult",
    "TooManyInvalidationsInProgress",
    "TransportError",
    "WaitTimeoutError",
    "WebAclCustomization",
    "WebIdentityProvider",
    "__version__",
    "default_chain",
]
