"""The exception tree.

::

    cfinval.Error
     ├── ParamValidationError (also ValueError)  bad input, raised before any request is sent
     ├── NoCredentialsError                      the chain found no credentials
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
    "EntityNotFound",
    "Error",
    "InvalidArgument",
    "NoCredentialsError",
    "PaginationError",
    "ParamValidationError",
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


class NoCredentialsError(Error):
    """No credentials were found."""


class TransportError(Error):
    """The request could not be completed at the network level (``__cause__`` is the original)."""


class ResponseParseError(Error):
    """A successful (2xx) response whose body is not a valid ``InvalidationList``."""

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
