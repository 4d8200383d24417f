"""IAM's and STS's errors, each carrying its AWS code and HTTP status."""

from __future__ import annotations

from cronbridge.errors import AwsError


class NoSuchEntity(AwsError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(AwsError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflict(AwsError):
    code = "DeleteConflict"
    status = 409


class LimitExceeded(AwsError):
    code = "LimitExceeded"
    status = 409


class InvalidInput(AwsError):
    code = "InvalidInput"
    status = 400


class IamValidationError(AwsError):
    """IAM's and STS's ValidationError (not the JSON services' ValidationException)."""

    code = "ValidationError"
    status = 400


class IamAccessDenied(AwsError):
    """IAM's and STS's AccessDenied (403)."""

    code = "AccessDenied"
    status = 403
