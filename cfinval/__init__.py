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
    InvalidationSummary,
    TenantIdSequence,
    TenantResult,
)
from ._version import __version__

__all__ = [
    "AccessDenied",
    "AssumeRoleProvider",
    "AsyncClient",
    "AsyncPaginator",
    "BatchTooLarge",
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
    "EntityNotFound",
    "EnvProvider",
    "Error",
    "InconsistentQuantities",
    "InstanceMetadataProvider",
    "InvalidArgument",
    "Invalidation",
    "InvalidationBatch",
    "InvalidationList",
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
    "TenantResult",
    "TooManyInvalidationsInProgress",
    "TransportError",
    "WaitTimeoutError",
    "WebIdentityProvider",
    "__version__",
    "default_chain",
]

# Tracebacks and reprs name the public classes where users find them: cfinval.EntityNotFound,
# not cfinval._errors.EntityNotFound.
for _name in __all__:
    _public = globals()[_name]
    if isinstance(_public, type) and _public.__module__.startswith("cfinval._"):
        _public.__module__ = __name__
del _name, _public
