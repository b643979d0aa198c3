"""cfinval: a small, fast client for CloudFront's tenant invalidations.

::

    import cfinval

    with cfinval.Client() as client:
        for item in client.iter_invalidations("dt_2abc..."):
            print(item.id, item.status, item.create_time)
        created = client.create_invalidation_for_distribution_tenant("dt_2abc...", ["/*"])
        for result in client.invalidate_tenants(["/index.html"], distribution_id="E1..."):
            print(result.tenant_id, result.status)

Everything public is importable from here; the underscored modules are private.
"""

from typing import TYPE_CHECKING, Any

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
from ._lazy import LAZY_NAMES as _LAZY_NAMES
from ._models import (
    Credentials,
    InvalidationList,
    InvalidationSummary,
    TenantIdSequence,
    TenantResult,
)
from ._version import __version__

if TYPE_CHECKING:  # imported at first use (see __getattr__), so a listing never builds them
    from ._drivers.deploy import AsyncInvalidationRun, InvalidationRun
    from ._invalidation_models import (
        Invalidation,
        InvalidationBatch,
        InvalidationReport,
        TenantInvalidation,
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
    _public = globals().get(_name)
    if isinstance(_public, type) and issubclass(_public, BaseException):
        _public.__module__ = __name__
del _name, _public


def __getattr__(name: str) -> Any:
    """The tenant workflow's models and runs, imported when first used: building their
    classes is a few milliseconds that a listing's cold start (a Lambda's) never pays."""
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'cfinval' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
