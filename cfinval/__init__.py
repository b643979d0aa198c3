"""cfinval: a small, fast client for CloudFront ``ListInvalidationsForDistributionTenant``.

::

    import cfinval

    with cfinval.Client() as client:
        for item in client.iter_invalidations("dt_2abc..."):
            print(item.id, item.status, item.create_time)

Everything public is importable from here; the underscored modules are private.
"""

from ._client import AsyncClient, AsyncPaginator, Client, Paginator
from ._credentials import (
    ChainProvider,
    CredentialProvider,
    EnvProvider,
    StaticProvider,
)
from ._errors import (
    AccessDenied,
    CloudFrontError,
    EntityNotFound,
    Error,
    InvalidArgument,
    NoCredentialsError,
    PaginationError,
    ParamValidationError,
    ResponseParseError,
    TransportError,
    WaitTimeoutError,
)
from ._models import Credentials, InvalidationList, InvalidationSummary, TenantResult

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "AsyncClient",
    "AsyncPaginator",
    "ChainProvider",
    "Client",
    "CloudFrontError",
    "CredentialProvider",
    "Credentials",
    "EntityNotFound",
    "EnvProvider",
    "Error",
    "InvalidArgument",
    "InvalidationList",
    "InvalidationSummary",
    "NoCredentialsError",
    "PaginationError",
    "Paginator",
    "ParamValidationError",
    "ResponseParseError",
    "StaticProvider",
    "TenantResult",
    "TransportError",
    "WaitTimeoutError",
    "__version__",
]
