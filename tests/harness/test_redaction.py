"""The one redactor (harness.redaction): real credentials, AWS secret shapes, secret keys, ExternalIds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import redaction
from harness.redaction import (
    fingerprint,
    mask,
    redact,
    redact_output,
    redact_text,
    remember_external_ids,
    remember_real_credentials,
    scrub_text,
    show_external_ids,
)

REAL_KEY_ID = "AKIAREALREALREAL0001"
REAL_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYREALREAL01"
REAL_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEtokenEXAMPLEtokenEXAMPLEtoken0123456789abcdef"


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    saved = (set(redaction._State.known), set(redaction._State.external_ids), redaction._State.show_external_ids)
    yield
    redaction._State.known, redaction._State.external_ids, redaction._State.show_external_ids = (
        saved[0],
        saved[1],
        saved[2],
    )


def test_secret_keys_are_fingerprinted_consistently_everywhere() -> None:
    recorded = {
        "Credentials": {"AccessKeyId": "ASIAEXAMPLEEXAMPLE01", "SecretAccessKey": "s3cr3t"},
        "nested": [{"nextToken": "page-2", "password": "hunter2", "harmless": "value"}],
    }
    redacted = redact(recorded)
    assert redacted["Credentials"] == fingerprint(recorded["Credentials"])
    assert redacted["nested"][0]["nextToken"] == fingerprint("page-2")
    assert redacted["nested"][0]["password"] != "hunter2"
    assert redacted["nested"][0]["harmless"] == "value"
    assert redact({"sessionToken": None}) == {"sessionToken": None}
    assert redact(redacted) == redacted  # idempotent: fingerprints stay as they are


def test_secrets_inside_free_text_are_scrubbed() -> None:
    text = "failed with key ASIAABCDEFGHIJKLMNOP token=abc123 and SecretAccessKey: 'wJalr' using my-known-secret-value"
    scrubbed = scrub_text(text, known=["my-known-secret-value"])
    for secret in ("ASIAABCDEFGHIJKLMNOP", "abc123", "wJalr", "my-known-secret-value"):
        assert secret not in scrubbed
    assert scrubbed.startswith("failed with key <redacted:")
    assert scrub_text("The security token included in the request is invalid.") == (
        "The security token included in the request is invalid."
    )


def test_aws_secret_shapes_are_scrubbed_without_being_known() -> None:
    secret = "Abcdefghij0123456789ABCDEFGHIJ/+klmnopqr"
    token = "FwoGZXIvYXdzEBYaDHqa0AP1/r2kYdzKdSLAAY" + "x" * 40
    long_run = "Ab1" * 80
    for value in (secret, token, long_run):
        assert value not in scrub_text(f"leaked: {value} here")
    harmless = "a git commit 0123456789abcdef0123456789abcdef01234567 and a path /usr/lib/python3.11/site"
    assert scrub_text(harmless) == harmless


def test_the_real_credentials_of_the_environment_and_the_shared_files_are_known(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[default]\naws_access_key_id = AKIAFILEFILEFILE0002\naws_secret_access_key = {'f' * 8}x\n")
    config = tmp_path / "config"
    config.write_text("[profile other]\naws_session_token = file-session-token-value\nregion = eu-west-1\n")
    remember_real_credentials(
        {
            "AWS_SECRET_ACCESS_KEY": REAL_SECRET,
            "AWS_SESSION_TOKEN": REAL_TOKEN,
            "GITHUB_TOKEN": "ghp_notreallyatokenbutlong",
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_CONFIG_FILE": str(config),
        }
    )
    text = f"{REAL_SECRET} {REAL_TOKEN} ghp_notreallyatokenbutlong ffffffffx file-session-token-value eu-west-1"
    scrubbed = redact_text(text)
    for secret in (REAL_SECRET, REAL_TOKEN, "ghp_notreallyatokenbutlong", "ffffffffx", "file-session-token-value"):
        assert secret not in scrubbed
    assert scrubbed.endswith(" eu-west-1")
    assert redact({"body": {"k": REAL_SECRET}}) == {"body": {"k": fingerprint(REAL_SECRET)}}


def test_an_unreadable_or_odd_credentials_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "broken").write_text("[unterminated\nkey value without section\n")
    remember_real_credentials({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "broken"), "AWS_CONFIG_FILE": "/dev/zero"})
    remember_real_credentials({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "no")})


def test_external_ids_are_masked_in_output_only_unless_shown() -> None:
    remember_external_ids(["drs-orchestration-cross-account", "ab", None])
    recorded = {
        "externalId": "drs-orchestration-cross-account",
        "ExternalId": "xyz",
        "note": "sent drs-orchestration-cross-account",
    }
    assert redact(recorded) == recorded  # observations keep them: a candidate sending another id is caught
    assert redact_output(recorded) == {"externalId": "dr***nt", "ExternalId": "***", "note": "sent dr***nt"}
    assert redact_text("AssumeRole with drs-orchestration-cross-account") == "AssumeRole with dr***nt"
    show_external_ids()
    assert redact_output(recorded) == recorded
    assert redact_text("id drs-orchestration-cross-account") == "id drs-orchestration-cross-account"
    assert mask("abcdef") == "ab***ef" and mask("abcde") == "***"
