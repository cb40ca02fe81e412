"""Secrets never reach an artefact or a printed line; ExternalIds are masked unless asked for.

The candidate (``tests/hostile/leaky_candidate.py``) captured the real environment at import and returns, prints
and logs it; the harness's one redactor (``harness/redaction.py``) knows the real values (read before any world
replaced them) and AWS secret shapes.
"""

from __future__ import annotations

from pathlib import Path

from hostile_support import ROOT, RUN_TIMEOUT_SECONDS, harness_environment, run_harness

from harness.commandline import EXIT_NO_GO

SCENARIO = ROOT / "scenarios" / "single-account-single-region-no-servers.yaml"
REAL = {
    "AWS_ACCESS_KEY_ID": "AKIAREALKEYREALKEY01",
    "AWS_SECRET_ACCESS_KEY": "real-secret-value_not-shaped_like-any-key_0042",
    "AWS_SESSION_TOKEN": "real-session-token.that.no.pattern.would.match.12345",
}
FILE_SECRET = "file-only-secret-value_9876"
SHAPED = ("ASIAZZZZYYYYXXXXWWWW", "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp/Oo+Nn1M")
EXTERNAL_ID = "drs-orchestration-cross-account"
ARTEFACTS = ("verdict.json", "report.html", "report.md", "junit.xml")


def _everything(ran_out: str, ran_err: str, reports: Path) -> dict[str, str]:
    texts = {"stdout": ran_out, "stderr": ran_err}
    texts.update({name: (reports / name).read_text(encoding="utf-8") for name in ARTEFACTS})
    return texts


def test_credentials_a_candidate_captured_at_import_reach_no_artefact_and_no_line(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[default]\naws_access_key_id = AKIAFILEKEYFILEKEY02\naws_secret_access_key = {FILE_SECRET}\n"
    )
    environment = harness_environment({**REAL, "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}, home=tmp_path)
    reports = tmp_path / "reports"
    ran = run_harness(
        ["-v", "run", str(SCENARIO), "--candidate", "tests.hostile.leaky_candidate:handler", "--jobs", "1"]
        + ["--report-dir", str(reports)],
        environment=environment,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert ran.code == EXIT_NO_GO, ran.err[-3000:]
    assert "response.leak: only in candidate" in ran.err  # the leak was seen (as a divergence) and shown redacted
    texts = _everything(ran.out, ran.err, reports)
    secrets = [*REAL.values(), FILE_SECRET, "AKIAFILEKEYFILEKEY02", *SHAPED]
    leaks = [(where, secret) for where, text in texts.items() for secret in secrets if secret in text]
    assert leaks == []
    assert "<redacted:" in texts["verdict.json"] and "redacted:" in texts["report.html"]


def test_external_ids_are_masked_unless_shown(tmp_path: Path) -> None:
    candidate = ["--candidate", "tests.hostile.leaky_candidate:external_ids", "--jobs", "1"]
    masked = tmp_path / "masked"
    ran = run_harness(["run", str(SCENARIO), *candidate, "--report-dir", str(masked)], timeout=RUN_TIMEOUT_SECONDS)
    assert ran.code == EXIT_NO_GO, ran.err[-3000:]
    texts = _everything(ran.out, ran.err, masked)
    assert [where for where, text in texts.items() if EXTERNAL_ID in text] == []
    assert "assumed roles with dr***nt" in ran.err and "dr***nt" in texts["verdict.json"]
    shown = tmp_path / "shown"
    arguments = ["run", str(SCENARIO), *candidate, "--report-dir", str(shown), "--show-external-ids"]
    ran = run_harness(arguments, timeout=RUN_TIMEOUT_SECONDS)
    assert ran.code == EXIT_NO_GO, ran.err[-3000:]
    assert EXTERNAL_ID in ran.err and EXTERNAL_ID in (shown / "verdict.json").read_text(encoding="utf-8")
