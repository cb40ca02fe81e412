"""The reviewed steps to flip ``USE_REFACTORED_INVENTORY_SYNC`` per environment, and to roll back.

They follow the design's *Deployment Strategy* (dev, test, staging, production) and *Rollback Procedure*, with three
corrections a reviewer made against the code and the AWS CLI:

* The design's ``aws lambda update-function-configuration --environment Variables={USE_REFACTORED_INVENTORY_SYNC=...}``
  *replaces* the function's whole environment: it would delete ``SOURCE_SERVER_INVENTORY_TABLE`` and the other table
  variables, and the next sync would fail. The commands here read the current variables and merge the flag in.
* ``refactored/routing.py`` runs the refactor when the variable is *unset*, so production sets it to ``"false"``
  explicitly before the new code is deployed (the design's Phase 4 step 1), never by omission.
* Any value other than ``true``/``false`` also selects legacy, with a warning naming the value.

Texts use Markdown-style backticks for code; both renderers understand them.
"""

from __future__ import annotations

from dataclasses import dataclass

FLAG = "USE_REFACTORED_INVENTORY_SYNC"
#: The function name pattern of the design's examples (``...-dev``); checked per environment before use.
FUNCTION_PATTERN = "hrp-drs-tech-adapter-query-handler-{env}"
#: What ``refactored/routing.py`` logs when legacy is selected by ``false`` (WARNING) and when the refactor runs (INFO).
LEGACY_LOG_LINE = "Using LEGACY inventory sync implementation - refactored version disabled via feature flag"
REFACTORED_LOG_LINE = "Using refactored inventory sync implementation"
SYNC_EVENT = '{"operation": "sync_source_server_inventory"}'


@dataclass(frozen=True)
class Step:
    """One step: a sentence (with `code` in backticks) and, optionally, shell commands to run."""

    text: str
    command: str = ""


@dataclass(frozen=True)
class Phase:
    """One environment of the rollout."""

    environment: str
    title: str
    flag: str
    soak: str
    steps: tuple[Step, ...]


def set_flag_command(env: str, value: str) -> str:
    """Shell commands that set the flag on one environment's function without touching its other variables.

    The steps are chained with ``&&`` so that nothing is written when reading the current variables fails, and the
    update prints only its status (the function's variables never reach the terminal).
    """
    function = FUNCTION_PATTERN.format(env=env)
    merge = f'{{Variables: ((. // {{}}) + {{{FLAG}: "{value}"}})}}'
    return (
        f"FN={function}\n"
        "# --environment replaces the WHOLE map: read the current variables and merge the flag in.\n"
        'VARS=$(aws lambda get-function-configuration --function-name "$FN" --query Environment.Variables \\\n'
        "  --output json) &&\n"
        f"ENV_JSON=$(printf '%s' \"$VARS\" | jq -ce '{merge}') &&\n"
        'aws lambda update-function-configuration --function-name "$FN" --environment "$ENV_JSON" \\\n'
        "  --query LastUpdateStatus &&\n"
        'aws lambda wait function-updated --function-name "$FN" &&\n'
        f'aws lambda get-function-configuration --function-name "$FN" --query Environment.Variables.{FLAG}'
    )


def verify_command(env: str, log_line: str) -> str:
    """Shell commands that trigger one sync and look for the implementation's log line."""
    function = FUNCTION_PATTERN.format(env=env)
    needle = log_line.split(" - ")[0]
    return (
        f"FN={function}\n"
        'aws lambda invoke --function-name "$FN" --cli-binary-format raw-in-base64-out \\\n'
        f"  --payload '{SYNC_EVENT}' sync-response.json && cat sync-response.json\n"
        f'aws logs tail "/aws/lambda/$FN" --since 15m --filter-pattern \'"{needle}"\''
    )


def _check_refactored(env: str) -> Step:
    return Step(
        f"Trigger one sync (or wait for the next scheduled run). The response must be `statusCode` 200 and, when the "
        f"function logs at INFO, the log shows `{REFACTORED_LOG_LINE}`; no `Using LEGACY` warning may appear.",
        verify_command(env, REFACTORED_LOG_LINE),
    )


def _early_phase(env: str, title: str, soak: str, tests: str, check: str) -> Phase:
    return Phase(
        environment=env,
        title=title,
        flag="true",
        soak=soak,
        steps=(
            Step(
                f"Deploy the commit this report was made for, with `{FLAG}` set to `true` explicitly.",
                set_flag_command(env, "true"),
            ),
            _check_refactored(env),
            Step(tests),
            Step(
                f"Monitor for {soak}: every scheduled sync answers 200, `totalErrors` is not higher than before, "
                "the inventory table holds the servers DRS reports."
            ),
            Step(check),
        ),
    )


def phases() -> tuple[Phase, ...]:
    """The four environments of the design's Deployment Strategy, in order."""
    return (
        _early_phase(
            "dev",
            "Phase 1 - dev",
            "24 hours",
            "Run the full test suite against dev.",
            "Compare the Lambda duration with legacy's (the design's baseline: 45 s per run).",
        ),
        _early_phase(
            "test",
            "Phase 2 - test",
            "48 hours",
            "Run the integration tests.",
            "Verify no regressions before promoting to staging.",
        ),
        _early_phase(
            "staging",
            "Phase 3 - staging",
            "1 week",
            "Run the full test suite against staging.",
            "Verify production-like workload handling (accounts, regions and server counts).",
        ),
        Phase(
            environment="prod",
            title="Phase 4 - production",
            flag="false, then true",
            soak="24 hours, then 30 days",
            steps=_production_steps(),
        ),
    )


def _production_steps() -> tuple[Step, ...]:
    return (
        Step(
            f"Before deploying, set `{FLAG}` to `false`: an unset variable selects the refactor.",
            set_flag_command("prod", "false"),
        ),
        Step(
            f"Deploy the commit this report was made for. Trigger one sync: the log shows the WARNING "
            f"`{LEGACY_LOG_LINE}` and the response is 200 with the usual counts.",
            verify_command("prod", LEGACY_LOG_LINE),
        ),
        Step(f"Switch `{FLAG}` to `true` (no deployment).", set_flag_command("prod", "true")),
        _check_refactored("prod"),
        Step(
            "Monitor closely for 24 hours: Lambda duration (alert above 60 s; baseline 45 s), error rate (alert "
            "above 5%; baseline 2%), DynamoDB write failures (alert above 10 per run), region-status updates and "
            "server counts as before, no inventory left un-updated for more than 1 hour."
        ),
        Step("At the first alert or wrong count, roll back immediately with the procedure below."),
        Step(
            "If stable, keep monitoring for 30 days; legacy code stays deployed for those 30 days (the design's "
            "Legacy Code Retention Policy) before it may be removed."
        ),
    )


def rollback_steps() -> tuple[Step, ...]:
    """The design's Rollback Procedure, with the environment merge and the real log line."""
    return (
        Step(
            f"Set `{FLAG}` to `false` on the affected environment (shown for production). No deployment or restart "
            "is needed: new invocations read the new value. Do not use the design's one-line "
            "`--environment Variables={...}` form: it deletes every other variable of the function.",
            set_flag_command("prod", "false"),
        ),
        Step(
            f"Verify the rollback: trigger one sync (or wait for the next run) and find the WARNING "
            f"`{LEGACY_LOG_LINE}` in the function's log.",
            verify_command("prod", LEGACY_LOG_LINE),
        ),
        Step(
            "Monitor: the sync completes with `statusCode` 200, the inventory table holds the expected server "
            "counts, the error rate returns to its baseline."
        ),
        Step(
            "Investigate: read the CloudWatch logs of the failing runs, reproduce the situation as a scenario in "
            "`scenarios/` and run `python -m harness run scenarios/<file>.yaml`; fix the refactor."
        ),
        Step(
            f"Re-enable the refactor only after the fix has a new GO report from `python -m harness gate`: set "
            f"`{FLAG}` to `true` with the same command."
        ),
    )


#: Shown with the steps when the report is not the gate's.
NOT_A_SIGNOFF = (
    "This report comes from `python -m harness run` over selected scenarios: it is not a sign-off. Follow these "
    "steps only after `python -m harness gate` (every scenario, coverage and approvals checked) says GO."
)
#: Notes shown with the steps.
NOTES = (
    "The flag is read on every invocation: `true` (any case) or unset runs the refactor; `false` runs legacy; any "
    "other value also runs legacy and logs a warning naming the value.",
    f"Function names follow the design's `{FUNCTION_PATTERN.format(env='dev')}` example; check each environment's "
    "real name before running the commands. The commands need the AWS CLI v2 and `jq`.",
    "Flip only the commit this report was made for: compare the git commit and the source hashes under Run "
    "metadata with what is deployed.",
)
