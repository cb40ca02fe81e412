"""LB-5: DRS queries, one pool thread per active region, the paginator, and how failures are classified.

botocore reads ``retries={"max_attempts": 1}`` as *one retry* (it becomes ``total_max_attempts=2``; botocore 1.44
defaults to the "standard" retry mode): a throttled, 5xx, connection or timeout failure is retried once before the
region is classified. The spec's "not retried" is therefore not what the construct does; these tests pin what
really happens.
"""

from collections.abc import Callable
from typing import Any

import pytest
from legacy_support import ACCOUNT_B, LAMBDA, LegacyRun, role_arn

from lambda_shared.drs_regions import DRS_REGIONS

Run = Callable[..., LegacyRun]

TWO_REGIONS = ["us-east-1", "eu-west-1"]
DRS_DENIED = "User is not authorized to perform: drs:DescribeSourceServers"
BAD_TOKEN = "The security token included in the request is invalid."


def _faulted_region(run_legacy: Run, effect: dict[str, Any], when: Any = "always") -> LegacyRun:
    """One own account with 2 servers in eu-west-1 and 1 in us-east-1; ``effect`` on every eu-west-1 DRS call."""
    return run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "tables": {"activeRegions": TWO_REGIONS},
            "servers": [
                {"account": LAMBDA, "region": "eu-west-1", "count": 2, "ec2Instances": False},
                {"account": LAMBDA, "region": "us-east-1", "count": 1, "ec2Instances": False},
            ],
            "faults": [{"service": "drs", "region": "eu-west-1", "effect": effect, "when": when}],
        }
    )


def test_lb5_each_active_region_is_paged_through_without_filters(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "drsPageSize": 2,
            "tables": {"activeRegions": TWO_REGIONS},
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 5, "ec2Instances": False}],
        }
    )
    us_calls = [c for c in run.select("drs") if c.region == "us-east-1"]
    eu_calls = [c for c in run.select("drs") if c.region == "eu-west-1"]
    assert [c.operation for c in us_calls] == ["DescribeSourceServers"] * 3
    assert us_calls[0].params == {}
    assert [set(c.params) for c in us_calls[1:]] == [{"nextToken"}, {"nextToken"}]
    assert [c.params for c in eu_calls] == [{}]
    assert run.body["totalSynced"] == 5


def test_lb5_one_pool_thread_task_per_region_for_all_28(run_legacy: Run) -> None:
    run = run_legacy({"accounts": [{"accountId": LAMBDA}], "tables": {"activeRegions": "all"}})
    drs = run.select("drs")
    assert sorted(c.region for c in drs) == sorted(DRS_REGIONS)
    assert all(c.thread.startswith("ThreadPoolExecutor") for c in drs)
    assert all(not c.thread.startswith("ThreadPoolExecutor") for c in run.calls if c.service != "drs")


def test_lb5_failure_on_a_later_page_discards_the_earlier_pages(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": LAMBDA}],
            "drsPageSize": 2,
            "tables": {"activeRegions": ["us-east-1"]},
            "servers": [{"account": LAMBDA, "region": "us-east-1", "count": 5, "ec2Instances": False}],
            "faults": [{"service": "drs", "effect": {"code": "InvalidRequestException"}, "when": {"page": 2}}],
        }
    )
    row = run.region_rows()["us-east-1"]
    assert (row["status"], row["serverCount"]) == ("ERROR", 0)
    assert row["errorMessage"] == "InvalidRequestException: The request is invalid."
    assert run.body["totalSynced"] == 0
    assert "Account 111111111111: found 0 source servers" in run.lines


# The design's eight error types (six named codes, "other ClientError", "non-ClientError") plus the other ClientError
# codes LB-5 names. Attempts: botocore retries throttling and 5xx answers once (max_attempts=1 is one retry).
ERROR_TYPES = [
    ("AccessDeniedException", "IAM_PERMISSION_DENIED", "IAM permissions denied: " + DRS_DENIED, 1),
    ("UnrecognizedClientException", "ERROR", "UnrecognizedClientException: " + BAD_TOKEN, 1),
    ("InvalidRequestException", "ERROR", "InvalidRequestException: The request is invalid.", 1),
    ("ThrottlingException", "THROTTLED", "API rate limit exceeded", 2),
    ("ServiceQuotaExceededException", "ERROR", "ServiceQuotaExceededException: Service quota exceeded", 1),
    ("InternalServerException", "ERROR", "InternalServerException: An internal error has occurred", 2),
    ("UninitializedAccountException", "NOT_INITIALIZED", "DRS not initialized in region", 1),
    ("OptInRequired", "REGION_NOT_OPTED_IN", "Region not enabled in account", 1),
    ("TooManyRequestsException", "THROTTLED", "API rate limit exceeded", 2),
    ("ValidationException", "ERROR", "ValidationException: Invalid request parameters", 1),
]


@pytest.mark.parametrize(("code", "status", "message", "attempts"), ERROR_TYPES, ids=[e[0] for e in ERROR_TYPES])
def test_lb5_design_error_types_map_to_legacy_states(
    run_legacy: Run, code: str, status: str, message: str, attempts: int
) -> None:
    run = _faulted_region(run_legacy, {"kind": "error", "code": code})
    row = run.region_rows()["eu-west-1"]
    assert row["status"] == status
    assert row["errorMessage"] == message
    assert row["serverCount"] == 0
    assert run.region_rows()["us-east-1"]["status"] == "ACTIVE"
    assert run.body["totalSynced"] == 1
    (call,) = [c for c in run.select("drs") if c.region == "eu-west-1"]
    assert len(call.attempts) == attempts


@pytest.mark.parametrize(
    ("code", "message", "status", "expected_message"),
    [
        (
            "ValidationException",
            "Account is not initialized in this Region",
            "NOT_INITIALIZED",
            "DRS not initialized in region",
        ),
        (
            "InvalidRequestException",
            "Denied by a Service Control Policy",
            "SCP_DENIED",
            "Blocked by Service Control Policy",
        ),
        ("ConflictException", "blocked by SCP p-123", "SCP_DENIED", "Blocked by Service Control Policy"),
        (
            "AccessDeniedException",
            "explicit deny in a service control policy",
            "IAM_PERMISSION_DENIED",
            "IAM permissions denied: explicit deny in a service control policy",
        ),
    ],
    ids=["not-initialized-text", "scp-text", "scp-abbreviation", "access-denied-before-scp"],
)
def test_lb5_classification_reads_the_error_text_in_rule_order(
    run_legacy: Run, code: str, message: str, status: str, expected_message: str
) -> None:
    run = _faulted_region(run_legacy, {"kind": "error", "code": code, "message": message, "status": 400})
    row = run.region_rows()["eu-west-1"]
    assert (row["status"], row["errorMessage"]) == (status, expected_message)


def test_lb5_connection_failure_is_endpoint_unreachable(run_legacy: Run) -> None:
    run = _faulted_region(run_legacy, {"kind": "connection"})
    row = run.region_rows()["eu-west-1"]
    assert (row["status"], row["errorMessage"], row["serverCount"]) == (
        "ENDPOINT_UNREACHABLE",
        "Cannot connect to DRS endpoint",
        0,
    )


def test_lb5_read_timeout_is_an_error_with_the_exception_text(run_legacy: Run) -> None:
    run = _faulted_region(run_legacy, {"kind": "timeout"})
    row = run.region_rows()["eu-west-1"]
    assert row["status"] == "ERROR"
    assert row["errorMessage"].startswith("Read timeout on endpoint URL")


def test_lb5_truncated_json_answer_reads_as_an_empty_active_region(run_legacy: Run) -> None:
    """botocore parses a cut-off rest-json body as ``{"message": ...}``: no exception, no items, status ACTIVE.

    The call record still names the fault (``malformed``): botocore saw HTTP 200, the world knows what it sent.
    """
    run = _faulted_region(run_legacy, {"kind": "malformed"})
    row = run.region_rows()["eu-west-1"]
    assert (row["status"], row["serverCount"]) == ("ACTIVE", 0)
    assert "errorMessage" not in row
    assert [c.attempts for c in run.select("drs") if c.region == "eu-west-1"] == [["malformed"]]
    assert run.body["totalSynced"] == 1


def test_lb5_throttled_on_every_attempt_is_throttled_after_one_retry(run_legacy: Run) -> None:
    run = _faulted_region(run_legacy, {"kind": "error", "code": "ThrottlingException"})
    (call,) = [c for c in run.select("drs") if c.region == "eu-west-1"]
    assert call.attempts == ["HTTP 429", "HTTP 429"]
    assert run.region_rows()["eu-west-1"]["status"] == "THROTTLED"


def test_lb5_throttled_only_once_is_retried_and_succeeds(run_legacy: Run) -> None:
    run = _faulted_region(run_legacy, {"kind": "error", "code": "ThrottlingException"}, when="once")
    (call,) = [c for c in run.select("drs") if c.region == "eu-west-1"]
    assert call.attempts == ["HTTP 429", "ok"]
    row = run.region_rows()["eu-west-1"]
    assert (row["status"], row["serverCount"]) == ("ACTIVE", 2)
    assert run.body["totalSynced"] == 3


def test_lb5_client_errors_that_are_not_retryable_get_one_attempt(run_legacy: Run) -> None:
    run = _faulted_region(run_legacy, {"kind": "error", "code": "AccessDeniedException"})
    (call,) = [c for c in run.select("drs") if c.region == "eu-west-1"]
    assert call.attempts == ["HTTP 403"]


def test_lb5_assumed_credentials_are_used_in_every_region_thread(run_legacy: Run) -> None:
    run = run_legacy(
        {
            "accounts": [{"accountId": ACCOUNT_B, "roleArn": role_arn(ACCOUNT_B)}],
            "tables": {"activeRegions": ["us-east-1", "eu-west-1", "ap-south-1"]},
        }
    )
    assert sorted((c.account, c.region) for c in run.select("drs")) == [
        (ACCOUNT_B, "ap-south-1"),
        (ACCOUNT_B, "eu-west-1"),
        (ACCOUNT_B, "us-east-1"),
    ]
