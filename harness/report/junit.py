"""``junit.xml``: one test case per scenario, for CI test views.

Suite ``equivalence`` holds one ``<testcase classname="equivalence" name="<scenario>">`` per scenario: a divergent
scenario carries a ``<failure>`` listing its unapproved differences (its ``message`` names the first one's cause
group), a scenario in error an ``<error>`` with the harness's messages, a scenario where a referenced approval is
stale a ``<failure>`` saying why; approved differences and noise go to ``<system-out>``. The suite's properties
carry the provenance (commit, dirty flag, package, implementation and scenario-set hashes, tool versions); its
timestamp keeps the run's zone (UTC, ``Z``). For ``gate``, a second suite ``gate``
holds one test case, failing when coverage gaps or stale approvals block the flip, so a NO-GO is never green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - writing XML, never parsing untrusted input
from typing import Any

from harness.engine.model import DIVERGENT, ERROR
from harness.engine.provenance import SCHEMA_VERSION
from harness.report.triage import describe_group, path_pattern

SUITE = "equivalence"
GATE_SUITE = "gate"
_MAX_LINES = 500
#: Characters XML 1.0 cannot carry at all (recorded output may hold them).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """Text without the characters XML 1.0 forbids (each becomes U+FFFD)."""
    return _NOT_XML.sub("\ufffd", text)


def _lines(lines: list[str]) -> str:
    shown = lines[:_MAX_LINES]
    if len(lines) > _MAX_LINES:
        shown.append(f"... and {len(lines) - _MAX_LINES} more (see verdict.json)")
    return clean("\n".join(shown))


def _first_group(scenario: dict[str, Any], groups: dict[tuple[str, str], dict[str, Any]]) -> str:
    """The group of the scenario's first unapproved difference, with how widely the run saw it."""
    first = next(d for d in scenario["differences"] if d["status"] == "unapproved")
    group = groups.get((path_pattern(first["path"]), first["kind"]))
    return describe_group(group) if group else first["description"]


def _stale(scenario: dict[str, Any]) -> list[str]:
    return [
        f"approval {use['id']} is stale here: {'; '.join(use.get('notes') or []) or 'it approved no difference'}"
        for use in scenario["approvals"]
        if use.get("stale")
    ]


def _testcase(suite: ET.Element, scenario: dict[str, Any], groups: dict[tuple[str, str], dict[str, Any]]) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=SUITE, name=clean(scenario["name"]), time=f"{float(scenario['durationS']):.3f}"
    )
    unapproved = [d["description"] for d in scenario["differences"] if d["status"] == "unapproved"]
    stale = _stale(scenario)
    if scenario["status"] == ERROR:
        messages = scenario["errors"] or ["the scenario could not be judged"]
        error = ET.SubElement(
            case, "error", message=clean((messages[0].splitlines() or [""])[0][:500]), type="harness-error"
        )
        error.text = _lines(messages + unapproved + stale)
    elif scenario["status"] == DIVERGENT:
        message = (
            f"{len(unapproved)} unapproved difference(s) from the baseline; first: {_first_group(scenario, groups)}"
        )
        failure = ET.SubElement(case, "failure", message=clean(message[:500]), type="divergent")
        failure.text = _lines(unapproved + stale)
    elif stale:
        failure = ET.SubElement(case, "failure", message=clean(stale[0][:500]), type="stale-approval")
        failure.text = _lines(stale)
    other = [d["description"] for d in scenario["differences"] if d["status"] != "unapproved"]
    other += [d["description"] for d in scenario["noise"]]
    if other:
        ET.SubElement(case, "system-out").text = _lines([f"status: {scenario['status']}", *other])


def _properties(suite: ET.Element, run: dict[str, Any]) -> None:
    properties = ET.SubElement(suite, "properties")
    values = {
        "verdict": run["verdict"],
        "command": run["command"],
        "baseline": run["baseline"],
        "candidate": run["candidate"],
        "git.commit": run["metadata"]["git"].get("commit") or "unknown",
        "clocks": ", ".join(run["metadata"]["clocks"]),
    }
    meta = run["metadata"]
    values["git.dirty"] = str(meta["git"].get("dirty")).lower()
    values["schemaVersion"] = run.get("schemaVersion") or SCHEMA_VERSION
    for source in meta["sources"]:
        values[f"sha256.{source['role'].replace(' ', '-')}"] = source["packageSha256"] or "unknown"
    for package, entry in meta["packages"].items():
        values[f"sha256.package.{package}"] = entry["sha256"] or "unknown"
    values["sha256.scenario-set"] = f"{meta['scenarioSet']['sha256']} ({meta['scenarioSet']['files']} files)"
    for tool, version in meta["tools"].items():
        values[f"version.{tool}"] = version
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=clean(str(value)))


def _suite(root: ET.Element, name: str, cases: int, failures: int, errors: int, time: float, stamp: str) -> ET.Element:
    return ET.SubElement(
        root,
        "testsuite",
        name=name,
        tests=str(cases),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=f"{time:.3f}",
        timestamp=stamp,
    )


def render_junit(run: dict[str, Any]) -> str:
    """The JUnit XML document for a view built by :func:`harness.report.content.build_view`."""
    scenarios = run["scenarios"]
    failures = sum(1 for s in scenarios if s["status"] == DIVERGENT or (s["status"] != ERROR and _stale(s)))
    errors = sum(1 for s in scenarios if s["status"] == ERROR)
    gate = run["command"] == "gate"
    total_failures = failures + (1 if gate and run["blockers"] else 0)
    root = ET.Element(
        "testsuites",
        name=f"{SUITE} {run['verdict']}",
        tests=str(len(scenarios) + (1 if gate else 0)),
        failures=str(total_failures),
        errors=str(errors),
        time=f"{float(run['durationS']):.3f}",
    )
    stamp = run.get("started") or ""
    suite = _suite(root, SUITE, len(scenarios), failures, errors, sum(s["durationS"] for s in scenarios), stamp)
    _properties(suite, run)
    groups = {(g["pattern"], g["kind"]): g for cause in run["causes"] for g in cause["groups"]}
    for scenario in scenarios:
        _testcase(suite, scenario, groups)
    if gate:
        gate_suite = _suite(root, GATE_SUITE, 1, 1 if run["blockers"] else 0, 0, 0.0, stamp)
        case = ET.SubElement(gate_suite, "testcase", classname=GATE_SUITE, name="coverage and approvals", time="0")
        if run["blockers"]:
            failure = ET.SubElement(
                case, "failure", message=f"{len(run['blockers'])} gate finding(s) block the flip", type="gate"
            )
            failure.text = _lines(run["blockers"])
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
