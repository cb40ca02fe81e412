"""The AWS error vocabulary a scenario's faults may name, with the HTTP status and message each real service answers.

Validation (:mod:`harness.scenario.loading`) accepts only the codes listed here for a fault's service; the world's
fault layer (:mod:`harness.world.aws.faults`) looks up the status and message here and renders them in the service's
own wire protocol (:mod:`harness.world.aws.errors`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorSpec:
    """An AWS error code as one service answers it."""

    status: int
    message: str


_DRS = {
    "AccessDeniedException": ErrorSpec(403, "User is not authorized to perform: drs:DescribeSourceServers"),
    "UnrecognizedClientException": ErrorSpec(403, "The security token included in the request is invalid."),
    "InvalidRequestException": ErrorSpec(400, "The request is invalid."),
    "ThrottlingException": ErrorSpec(429, "Rate exceeded"),
    "TooManyRequestsException": ErrorSpec(429, "Too many requests"),
    "ServiceQuotaExceededException": ErrorSpec(402, "Service quota exceeded"),
    "InternalServerException": ErrorSpec(500, "An internal error has occurred"),
    "UninitializedAccountException": ErrorSpec(400, "Account not initialized for Elastic Disaster Recovery"),
    "ValidationException": ErrorSpec(400, "Invalid request parameters"),
    "ResourceNotFoundException": ErrorSpec(404, "Resource not found"),
    "ConflictException": ErrorSpec(409, "Conflict"),
    "OptInRequired": ErrorSpec(403, "You are not subscribed to this service. The region is not enabled."),
    "ExpiredTokenException": ErrorSpec(400, "The security token included in the request is expired"),
}

_STS = {
    "AccessDenied": ErrorSpec(403, "User is not authorized to perform: sts:AssumeRole"),
    "ExpiredTokenException": ErrorSpec(400, "The security token included in the request is expired"),
    "RegionDisabledException": ErrorSpec(403, "STS is not activated in this region for account"),
    "InvalidClientTokenId": ErrorSpec(403, "The security token included in the request is invalid."),
    "MalformedPolicyDocument": ErrorSpec(400, "The policy is not in the valid JSON format."),
    "Throttling": ErrorSpec(400, "Rate exceeded"),
    "InternalFailure": ErrorSpec(500, "An internal error occurred"),
    "ValidationError": ErrorSpec(400, "1 validation error detected"),
}

_EC2 = {
    "InvalidInstanceID.NotFound": ErrorSpec(400, "The instance ID does not exist"),
    "InvalidInstanceID.Malformed": ErrorSpec(400, "Invalid id"),
    "UnauthorizedOperation": ErrorSpec(403, "You are not authorized to perform this operation."),
    "AuthFailure": ErrorSpec(401, "AWS was not able to validate the provided access credentials"),
    "OptInRequired": ErrorSpec(401, "You are not subscribed to this service."),
    "RequestLimitExceeded": ErrorSpec(503, "Request limit exceeded."),
    "InternalError": ErrorSpec(500, "An internal error has occurred"),
    "Unavailable": ErrorSpec(503, "The server is overloaded and can't handle the request."),
    "UnrecognizedClientException": ErrorSpec(400, "The security token included in the request is invalid."),
}

_DYNAMODB = {
    "ProvisionedThroughputExceededException": ErrorSpec(
        400, "The level of configured provisioned throughput for the table was exceeded."
    ),
    "ThrottlingException": ErrorSpec(400, "Rate of requests exceeds the allowed throughput."),
    "RequestLimitExceeded": ErrorSpec(400, "Throughput exceeds the current throughput limit for your account."),
    "ResourceNotFoundException": ErrorSpec(400, "Requested resource not found"),
    "ValidationException": ErrorSpec(400, "One or more parameter values were invalid"),
    "AccessDeniedException": ErrorSpec(400, "User is not authorized to perform this action on the table"),
    "InternalServerError": ErrorSpec(500, "Internal server error"),
    "UnrecognizedClientException": ErrorSpec(400, "The security token included in the request is invalid."),
    "ConditionalCheckFailedException": ErrorSpec(400, "The conditional request failed"),
}

CATALOGUE: dict[str, dict[str, ErrorSpec]] = {"drs": _DRS, "sts": _STS, "ec2": _EC2, "dynamodb": _DYNAMODB}


def known_error_codes(service: str) -> set[str]:
    """The error codes the fault layer can inject for ``service`` (empty for an unknown service)."""
    return set(CATALOGUE.get(service, {}))


def error_spec(service: str, code: str, message: str | None = None, status: int | None = None) -> ErrorSpec:
    """The status and message for ``code`` on ``service``, with optional overrides.

    Raises:
        KeyError: When the code is not in the catalogue for that service and status or message is missing
            (validation rejects such scenarios first).
    """
    if code not in CATALOGUE[service] and status is not None and message is not None:
        return ErrorSpec(status, message)
    base = CATALOGUE[service][code]
    return ErrorSpec(status if status is not None else base.status, message if message is not None else base.message)
