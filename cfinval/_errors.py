"""The exception tree.

::

    cfinval.Error
     ├── ParamValidationError (also ValueError)  bad input, raised before any request is sent
     ├── ConfigError                             env vars or shared config/credentials files are
     │    └── ProfileNotFound                     invalid, or name a profile that does not exist
     ├── MissingDependencyError (also ImportError)  an optional extra is not installed
     ├── NoCredentialsError                      the chain found no credentials
     │    └── CredentialRetrievalError            a configured source failed (process, STS, HTTP)
     │         └── LoginRequiredError             the SSO / console session expired: log in again
     ├── TransportError                          network failure after the last attempt
     ├── ResponseParseError                      a 2xx body that is not a valid InvalidationList
     ├── PaginationError                         the service repeated a marker (a loop)
     ├── WaitTimeoutError (also TimeoutError)    a wait ran out of time or attempts
     └── CloudFrontError                         the service said no: .code .message .status_code
          ├── AccessDenied                            .request_id .operation
          ├── EntityNotFound
          ├── InvalidArgument
          ├── NoSuchInvalidation
          ├── TooManyInvalidationsInProgress
          ├── BatchTooLarge
          ├── InconsistentQuantities
          └── MissingBody

Service error codes without a class of their own (``Throttling``, ``SignatureDoesNotMatch``, ...)
raise :class:`CloudFrontError` with that ``code``.  No exception text ever contains credentials.
"""

from __future__ import annotations

__all__ = [
    "OPERATION_NAME",
    "AccessDenied",
    "BatchTooLarge",
    "CloudFrontError",
    "ConfigError",
    "CredentialRetrievalError",
    "EntityNotFound",
    "Error",
    "InconsistentQuantities",
    "InvalidArgument",
    "LoginRequiredError",
    "MissingBody",
    "MissingDependencyError",
    "NoCredentialsError",
    "NoSuchInvalidation",
    "PaginationError",
    "ParamValidationError",
    "ProfileNotFound",
    "ResponseParseError",
    "TooManyInvalidationsInProgress",
    "TransportError",
    "WaitTimeoutError",
    "error_class_for_code",
]

OPERATION_NAME = "ListInvalidationsForDistributionTenant"


class Error(Exception):
    """Base class of every exception raised by cfinval."""


class ParamValidationError(Error, ValueError):
    """A parameter is invalid; raised before any request is sent."""


class ConfigError(Error):
    """The configuration (environment variables, ``~/.aws/config``, ``~/.aws/credentials``) is
    invalid: a file that does not parse, a ``source_profile`` loop, a value of the wrong type."""


class ProfileNotFound(ConfigError):
    """A profile was named (``profile=``, ``AWS_PROFILE``) that no shared file defines."""

    def __init__(self, profile: str, message: str | None = None) -> None:
        self.profile = profile
        self._message = message
        super().__init__(message or f"The config profile ({profile}) could not be found")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.profile, self._message))


class NoCredentialsError(Error):
    """No credentials were found. The message says where the chain looked."""


class CredentialRetrievalError(NoCredentialsError):
    """A credential source is configured but failed (``credential_process`` exited non-zero,
    STS refused ``AssumeRole``, the container endpoint answered 500, half a key pair, ...).

    ``provider`` names the source (``"assume-role"``, ``"custom-process"``, ...); ``code`` is the
    service's error code when there is one. The text never contains a secret.
    """

    def __init__(self, provider: str, message: str, *, code: str | None = None) -> None:
        self.provider = provider
        self.code = code
        self._message = message
        super().__init__(f"Error when retrieving credentials from {provider}: {message}")

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_retrieval_error, (type(self), self.provider, self._message, self.code))


def _rebuild_retrieval_error(
    cls: type[CredentialRetrievalError], provider: str, message: str, code: str | None
) -> CredentialRetrievalError:
    return cls(provider, message, code=code)


class LoginRequiredError(CredentialRetrievalError):
    """The IAM Identity Center (SSO) or console (``aws login``) session behind a profile is
    missing, has expired, or was refused: someone has to log in again. ``command`` is what to
    run (``aws sso login --profile NAME`` or ``aws login --profile NAME``); the message says
    it too."""

    def __init__(
        self, provider: str, message: str, *, command: str, code: str | None = None
    ) -> None:
        self.command = command
        super().__init__(provider, f"{message}. To log in again, run: {command}", code=code)
        self._message = message

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_login_error, (self.provider, self._message, self.command, self.code))


def _rebuild_login_error(
    provider: str, message: str, command: str, code: str | None
) -> LoginRequiredError:
    return LoginRequiredError(provider, message, command=command, code=code)


class MissingDependencyError(Error, ImportError):
    """A feature needs an optional extra that is not installed (``aws login`` profiles need
    ``cryptography``: ``pip install 'cfinval[login]'``). ``extra`` names the extra."""

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_missing, (str(self), self.extra))


def _rebuild_missing(message: str, extra: str) -> MissingDependencyError:
    return MissingDependencyError(message, extra=extra)


class TransportError(Error):
    """The request could not be completed at the network level (``__cause__`` is the original)."""

    #: How many attempts were made before giving up.
    attempts: int = 1


class ResponseParseError(Error):
    """A successful (2xx) response whose body is not what the operation returns (an
    ``InvalidationList``, an ``Invalidation``, a ``DistributionTenantList``...)."""

    #: How many attempts were made (the last one got this response).
    attempts: int = 1

    def __init__(
        self, message: str, *, status_code: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id


class PaginationError(Error):
    """The service sent a marker it had already sent: following it would loop forever."""


class WaitTimeoutError(Error, TimeoutError):
    """A wait ran out of time: ``wait_until_completed()`` passed its ``timeout``, or
    ``wait_invalidation_for_distribution_tenant_completed()`` its ``MaxAttempts``.

    ``pending`` holds the Ids still not ``Completed`` (in progress, or not listed yet);
    ``missing`` is the subset that the listing did not show at all on the last poll;
    ``waited`` the seconds waited (monotonic clock); ``last`` the waiter's last answer (the
    :class:`cfinval.Invalidation` still in progress), ``None`` for the listing-based wait.
    The text says all of it.
    """

    def __init__(
        self,
        message: str,
        *,
        pending: tuple[str, ...] = (),
        missing: tuple[str, ...] = (),
        waited: float | None = None,
        last: object = None,
    ) -> None:
        super().__init__(message)
        self.pending = pending
        self.missing = missing
        self.waited = waited
        self.last = last

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_wait_timeout,
            (str(self), self.pending, self.missing, self.waited, self.last),
        )


def _rebuild_wait_timeout(
    message: str,
    pending: tuple[str, ...],
    missing: tuple[str, ...],
    waited: float | None,
    last: object,
) -> WaitTimeoutError:
    return WaitTimeoutError(message, pending=pending, missing=missing, waited=waited, last=last)


class CloudFrontError(Error):
    """The service answered with an error.

    The text mirrors botocore's ``ClientError``: ``An error occurred (Code) when calling the
    ListInvalidationsForDistributionTenant operation: message``; ``operation`` names the
    operation that was called.
    """

    #: How many attempts were made (the last one got this error).
    attempts: int = 1

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        error_type: str | None = None,
        operation: str = OPERATION_NAME,
    ) -> None:
        self.code = code
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.error_type = error_type
        self.operation = operation
        super().__init__(
            f"An error occurred ({code}) when calling the {operation} operation: {message}"
        )

    def __reduce__(self) -> tuple[object, ...]:  # keep pickling (multiprocessing) working
        return (
            _rebuild_cloudfront_error,
            (
                type(self),
                self.code,
                self.message,
                self.status_code,
                self.request_id,
                self.error_type,
                self.operation,
            ),
            {"attempts": self.attempts},
        )


def _rebuild_cloudfront_error(
    cls: type[CloudFrontError],
    code: str,
    message: str,
    status_code: int,
    request_id: str | None,
    error_type: str | None,
    operation: str = OPERATION_NAME,
) -> CloudFrontError:
    return cls(
        code,
        message,
        status_code=status_code,
        request_id=request_id,
        error_type=error_type,
        operation=operation,
    )


class AccessDenied(CloudFrontError):
    """403 ``AccessDenied``: the caller may not do this to the tenant (or distribution)."""


class EntityNotFound(CloudFrontError):
    """404 ``EntityNotFound``: no distribution tenant (or distribution) has this Id."""


class InvalidArgument(CloudFrontError):
    """400 ``InvalidArgument``: the service refused a parameter (``Marker``, ``MaxItems``, a
    path, a filter)."""


class NoSuchInvalidation(CloudFrontError):
    """404 ``NoSuchInvalidation``: the tenant has no invalidation with this Id."""


class TooManyInvalidationsInProgress(CloudFrontError):
    """400 ``TooManyInvalidationsInProgress``: the distribution already has as many paths (3,000)
    or wildcard paths (15) in progress as CloudFront allows; retry once some have completed."""


class BatchTooLarge(CloudFrontError):
    """413 ``BatchTooLarge``: the invalidation batch holds too many paths."""


class InconsistentQuantities(CloudFrontError):
    """400 ``InconsistentQuantities``: ``Paths.Quantity`` differs from the number of paths."""


class MissingBody(CloudFrontError):
    """400 ``MissingBody``: the request had no invalidation batch."""


_CODE_TO_CLASS: dict[str, type[CloudFrontError]] = {
    cls.__name__: cls
    for cls in (
        AccessDenied,
        EntityNotFound,
        InvalidArgument,
        NoSuchInvalidation,
        TooManyInvalidationsInProgress,
        BatchTooLarge,
        InconsistentQuantities,
        MissingBody,
    )
}


def error_class_for_code(code: str) -> type[CloudFrontError]:
    """The exception class for a service error code; :class:`CloudFrontError` when unmodeled."""
    return _CODE_TO_CLASS.get(code, CloudFrontError)
