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
    TenantIdSequence,
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
    "TenantIdSequence",
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

# Tracebacks name the errors where users import them from: cfinval.EntityNotFound, not
# cfinval._errors.EntityNotFound. (Only the errors: the annotations of other classes are
# resolved in their own module's namespace, by typing.get_type_hints and attrs.)
for _name in __all__:
    _public = globals()[_name]
    if isinstance(_public, type) and issubclass(_public, BaseException):
        _public.__module__ = __name__
del _name, _public
