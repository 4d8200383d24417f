"""The one error base: every domain error carries its AWS error code, message and HTTP status."""

from __future__ import annotations


class AwsError(Exception):
    """An error a client should see, shaped as AWS shapes it (code, message, HTTP status)."""

    code: str = "InternalFailure"
    status: int = 400
    query_code: str | None = None  # the code the service's older query protocol used, where it differs (SQS)

    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message})"


class ValidationError(AwsError):
    """A request that does not satisfy the service's constraints."""

    code = "ValidationException"


class NotFound(AwsError):
    """A named resource does not exist."""

    code = "ResourceNotFoundException"


class AlreadyExists(AwsError):
    """A resource with that name exists already."""

    code = "ResourceAlreadyExistsException"


class Conflict(AwsError):
    """The request conflicts with the current state (e.g. a reused idempotency token)."""

    code = "ConflictException"


class AccessDenied(AwsError):
    """The caller may not do this; the message says why."""

    code = "AccessDeniedException"


class ServiceUnavailable(AwsError):
    """The server cannot do it now (the disk is full); retryable: SDKs retry a 503."""

    code = "ServiceUnavailableException"
    status = 503
    query_code = "ServiceUnavailable"


class Throttled(AwsError):
    """Too many requests; retryable."""

    code = "ThrottlingException"


class StoreUnavailable(ServiceUnavailable):
    """The state database cannot be reached (PostgreSQL down, failing over, or out of connections): a retryable
    503, as AWS's front end answers when a service is unavailable; AWS SDKs retry it. Nothing was acknowledged."""

    code = "ServiceUnavailable"


class ClientError(AwsError):
    """ECS's generic client fault."""

    code = "ClientException"


class InvalidParameter(AwsError):
    """ECS's and Logs' invalid-parameter fault."""

    code = "InvalidParameterException"


class ClusterNotFound(AwsError):
    """ECS: the named cluster does not exist."""

    code = "ClusterNotFoundException"


class LaunchError(Exception):
    """A task could not be started; `kind` is ECS's error prefix (CannotPullContainerError, ...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.detail = message
