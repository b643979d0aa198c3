"""The public surface: exactly these names, each with a docstring; py.typed shipped."""

from __future__ import annotations

from pathlib import Path

import cfinval
import cfinval.testing

PUBLIC = [
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


def test_all_is_pinned_and_sorted() -> None:
    assert cfinval.__all__ == PUBLIC
    assert sorted(cfinval.__all__) == cfinval.__all__
    for name in cfinval.__all__:
        assert hasattr(cfinval, name)


def test_exception_tree() -> None:
    assert issubclass(cfinval.ParamValidationError, ValueError)
    for cls in (cfinval.AccessDenied, cfinval.EntityNotFound, cfinval.InvalidArgument):
        assert issubclass(cls, cfinval.CloudFrontError)
    for cls in (
        cfinval.ParamValidationError,
        cfinval.NoCredentialsError,
        cfinval.TransportError,
        cfinval.ResponseParseError,
        cfinval.PaginationError,
        cfinval.CloudFrontError,
        cfinval.MissingDependencyError,
    ):
        assert issubclass(cls, cfinval.Error)
    assert issubclass(cfinval.LoginRequiredError, cfinval.CredentialRetrievalError)
    assert issubclass(cfinval.MissingDependencyError, ImportError)


def test_public_objects_are_documented_and_typed() -> None:
    for name in cfinval.__all__:
        if name != "__version__":
            assert getattr(cfinval, name).__doc__, name
    assert (Path(cfinval.__file__).parent / "py.typed").exists()
    assert sorted(cfinval.testing.__all__) == cfinval.testing.__all__
