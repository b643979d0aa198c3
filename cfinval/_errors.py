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
     ├── WaitTimeoutError (also TimeoutError)    wait_until_completed() ran out of time
     └── CloudFrontError                         the service said no: .code .message .status_code
          ├── AccessDenied                                          .request_id
          ├── EntityNotFound
          └── InvalidArgument

Service error codes without a class of their own (``Throttling``, ``SignatureDoesNotMatch``, ...)
raise :class:`CloudFrontError` with that ``code``.  No exception text ever contains credentials.
"""

from __future__ import annotations

__all__ = [
    "OPERATION_NAME",
    "AccessDenied",
    "CloudFrontError",
    "ConfigError",
    "CredentialRetrievalError",
    "EntityNotFound",
    "Error",
    "InvalidArgument",
    "LoginRequiredError",
    "MissingDependencyError",
    "NoCredentialsError",
    "PaginationError",
    "ParamValidationError",
    "ProfileNotFound",
    "ResponseParseError",
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
    """A successful (2xx) response whose body is not a valid ``InvalidationList``."""

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
    """``wait_until_completed()`` timed out.

    ``pending`` holds the Ids still not ``Completed`` (in progress, or not listed yet);
    ``missing`` is the subset that the listing did not show at all on the last poll.
    """

    def __init__(
        self, message: str, *, pending: tuple[str, ...] = (), missing: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.pending = pending
        self.missing = missing


class CloudFrontError(Error):
    """The service answered with an error.

    The text mirrors botocore's ``ClientError``: ``An error occurred (Code) when calling the
    ListInvalidationsForDistributionTenant operation: message``.
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
    ) -> None:
        self.code = code
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.error_type = error_type
        super().__init__(
            f"An error occurred ({code}) when calling the {OPERATION_NAME} operation: {message}"
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
) -> CloudFrontError:
    return cls(code, message, status_code=status_code, request_id=request_id, error_type=error_type)


class AccessDenied(CloudFrontError):
    """403 ``AccessDenied``: the caller may not list this tenant's invalidations."""


class EntityNotFound(CloudFrontError):
    """404 ``EntityNotFound``: no distribution tenant has this Id."""


class InvalidArgument(CloudFrontError):
    """400 ``InvalidArgument``: the service refused a parameter (``Marker``, ``MaxItems``)."""


_CODE_TO_CLASS: dict[str, type[CloudFrontError]] = {
    "AccessDenied": AccessDenied,
    "EntityNotFound": EntityNotFound,
    "InvalidArgument": InvalidArgument,
}


def error_class_for_code(code: str) -> type[CloudFrontError]:
    """The exception class for a service error code; :class:`CloudFrontError` when unmodeled."""
    return _CODE_TO_CLASS.get(code, CloudFrontError)
