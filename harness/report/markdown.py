"""``report.md``: the HTML report's content for a pull request, a wiki page or a CI job summary (GitHub Markdown).

Same order as the HTML page. Long material (flip steps per environment, before / after values, each
implementation's output) sits in ``<details>`` blocks, which GitHub renders collapsed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness.engine.coverage import ERROR_TYPE_LABELS, ERROR_TYPES, LEGACY_STATES
from harness.engine.model import DIVERGENT, ERROR
from harness.report import signoff
from harness.report.content import (
    COMPARED,
    INTRODUCTION,
    MAX_SHOWN,
    NO_APPROVAL_APPLIES,
    NOISE_INTRO,
    REMEDIES,
    SCENARIO_MATRIX_HEADERS,
    STATUS_LABELS,
    STATUS_MEANINGS,
    TITLE,
    brief,
    duration,
    headline,
    names,
    noise_lines,
)
from harness.report.triage import failing_first

_MAX_VALUE_CHARS = 3000
_EXAMPLE_CHARS = 1200
_ICONS = {"equivalent": "🟢", "approved-divergence": "🔵", "divergent": "🔴", "error": "🟠"}


def code(text: Any) -> str:
    """An inline code span that survives backticks in the text."""
    text = str(text).replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(text: str, language: str = "") -> str:
    """A fenced block that survives backtick fences inside the text."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def json_block(value: Any, limit: int = _MAX_VALUE_CHARS) -> str:
    """A JSON value as a fenced block (long values are cut; verdict.json has them whole)."""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[:limit] + "\n... (cut; the whole value is in verdict.json)"
    return fenced(text, "" if isinstance(value, str) else "json")


def cell(text: Any) -> str:
    """Text made safe for a table cell."""
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub table of pre-rendered cells."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def status(value: str) -> str:
    """A status with its colour mark."""
    return f"{_ICONS.get(value, '')} {STATUS_LABELS.get(value, value)}".strip()


def details(summary: str, body: str, open_: bool = False) -> str:
    """A collapsed block (blank lines around the body so Markdown inside it renders)."""
    return f"<details{' open' if open_ else ''}><summary>{summary}</summary>\n\n{body}\n\n</details>"


# -- sections ------------------------------------------------------------------------------------------------------


def verdict(run: dict[str, Any]) -> str:
    """Title, introduction and the verdict line."""
    mark = "✅" if run["go"] else "⛔"
    counts = ", ".join(f"{n} {STATUS_LABELS[s]}" for s, n in run["counts"].items() if n) or "none"
    return (
        f"# {TITLE}\n\n{INTRODUCTION}\n\n{COMPARED}\n\n## {mark} {run['verdict']}\n\n**{headline(run)}**\n\n"
        f"{len(run['scenarios'])} scenario(s): {counts}. `{run['command']}` took {duration(run['durationS'])}."
    )


def blocker_lines(run: dict[str, Any]) -> list[str]:
    """The numbered list of what blocks the flip: each cause with its groups, scenarios and one example."""
    lines = []
    for number, item in enumerate(run["blockerItems"], start=1):
        lines.append(f"{number}. **{cell(item['text'])}**" if item["kind"] == "cause" else f"{number}. {item['text']}")
        if item.get("scenarios"):
            lines.append(f"   - scenarios: {names(item['scenarios'])}")
        lines += [f"   - also {code(d)}" if item["kind"] == "cause" else f"   - {code(d)}" for d in item["details"]]
        lines += [f"   - ... and {item['more']} more pattern(s) (report.md)"] if item["more"] else []
        if item.get("example"):
            example = item["example"]
            lines.append(f"   - example in `{example['scenario']}`: {code(brief(example))}")
            body = f"**Before (baseline)**\n\n{json_block(example['baseline'], _EXAMPLE_CHARS)}\n\n"
            body += f"**After (candidate)**\n\n{json_block(example['candidate'], _EXAMPLE_CHARS)}"
            lines += ["", *("   " + line for line in details("before / after", body).splitlines()), ""]
    return lines


def blockers(run: dict[str, Any]) -> str:
    """NO-GO: what blocks the flip, first and plainly, grouped by cause."""
    lines = [
        "## What blocks the flip",
        "",
        f"**Keep `{signoff.FLAG}` set to `false` in production** (legacy stays in charge). The flip is blocked by:",
        "",
        *blocker_lines(run),
        "",
        "What to do, by kind of finding:",
        "",
    ]
    lines += [f"- **{key}**: {text}" for key, text in REMEDIES]
    return "\n".join(lines)


def _steps(steps: tuple[signoff.Step, ...]) -> str:
    lines = []
    for number, step in enumerate(steps, start=1):
        lines.append(f"{number}. {step.text}")
        if step.command:
            lines += ["", *("   " + line for line in fenced(step.command, "bash").splitlines()), ""]
    return "\n".join(lines)


def flip_steps(run: dict[str, Any]) -> str:
    """GO: the reviewed steps per environment and the rollback procedure."""
    parts = [f"## How to flip {signoff.FLAG}", "", *(f"- {note}" for note in signoff.NOTES)]
    if run["command"] != "gate":
        parts += ["", f"> ⚠️ **{signoff.NOT_A_SIGNOFF}**"]
    changes = [a for a in run["approvals"] if a.get("appliedIn")]
    if changes:
        parts += ["", "Behaviour that changes with the flip (approved divergences):", ""]
        parts += [f"- **{a['id']}**: {a['title']}" for a in changes]
    for phase in signoff.phases():
        summary = f"{phase.title}: flag <code>{phase.flag}</code>, monitor {phase.soak}"
        parts += ["", details(summary, _steps(phase.steps), open_=True)]
    parts += ["", "### Rollback procedure", "", _steps(signoff.rollback_steps())]
    return "\n".join(parts)


def metadata(run: dict[str, Any]) -> str:
    """Run metadata: commit, source hashes, tools, clocks, timings."""
    meta = run["metadata"]
    git = meta["git"]
    commit = code(git["commit"]) if git.get("commit") else "unknown"
    commit += f" on {code(git['branch'])}" if git.get("branch") else ""
    commit += f" **+ uncommitted changes in {git['changedFiles']} file(s)**" if git.get("changedFiles") else ""
    rows = [
        ["Verdict", f"**{run['verdict']}** from `python -m harness {run['command']}`"],
        ["Git commit", commit],
        ["Baseline", code(run["baseline"])],
        ["Candidate", code(run["candidate"])],
        ["Scenario clock(s)", ", ".join(code(c) for c in meta["clocks"]) or "unknown"],
        ["Started", f"{meta['started']} (took {duration(meta['durationS'])}); report written {meta['generated']}"],
        ["Tools", ", ".join(f"{name} {code(version)}" for name, version in meta["tools"].items())],
    ]
    sources = [
        [
            cell(s["role"]),
            code(s["file"] or s["module"]),
            code(s["sha256"]),
            f"{code(s['package'] + '/')} ({s['packageFiles']} files)",
            code(s["packageSha256"]),
        ]
        for s in meta["sources"]
    ]
    return (
        "## Run metadata\n\n"
        + table(["Field", "Value"], rows)
        + "\n\n### Source content hashes (SHA-256)\n\n"
        + table(["Role", "Module file", "File SHA-256", "Package", "Package SHA-256 (every .py file)"], sources)
    )


def scenario_matrix(run: dict[str, Any]) -> str:
    """One row per scenario: status, differences, approvals, timings."""
    rows = []
    for s in failing_first(run["scenarios"]):
        runs = s["runs"]
        times = ["" if not runs.get(k) else f"{runs[k]['wallTimeMs']:.0f} ms" for k in ("baseline", "candidate")]
        ids = ", ".join(a["id"] for a in s["approvals"] if a.get("covered"))
        c = s["counts"]
        rows.append(
            [
                cell(s["name"]),
                status(s["status"]),
                str(c["unapproved"]),
                str(c["approved"]),
                str(c["noise"]),
                ids,
                *times,
                duration(s["durationS"]),
            ]
        )
    legend = "\n".join(f"- {status(k)}: {v}" for k, v in STATUS_MEANINGS.items())
    return "## Scenario matrix\n\n" + table(list(SCENARIO_MATRIX_HEADERS), rows) + "\n\n" + legend


def coverage(run: dict[str, Any]) -> str:
    """The eight DRS error types and the eight legacy states against the scenarios."""
    data = run.get("coverage")
    if not data:
        return "## Coverage\n\nCoverage was not computed for this run."
    parts = [
        "## Coverage",
        "",
        "Error types come from the DRS faults each scenario injects; a legacy state is covered "
        "only when legacy really recorded it for a region in that scenario's baseline run.",
    ]
    for title, what, keys, source, labels in (
        ("The design's eight DRS error types", "Error type", ERROR_TYPES, data["errorTypes"], ERROR_TYPE_LABELS),
        ("Legacy's eight region failure states", "State", LEGACY_STATES, data["legacyStates"], {}),
    ):
        rows = []
        for key in keys:
            names = source.get(key, [])
            label = code(key) + (f" ({labels[key]})" if key in labels else "")
            rows.append([label, f"✅ covered ({len(names)})" if names else "❌ **MISSING**", cell(", ".join(names))])
        parts += ["", f"### {title}", "", table([what, "Coverage", "Scenarios"], rows)]
    return "\n".join(parts)


def approvals(run: dict[str, Any]) -> str:
    """Each declared approval with its reason, owner and the scenarios where it applied."""
    if run.get("approvalsApply") is False:
        return f"## Approved divergences\n\n{NO_APPROVAL_APPLIES}"
    if not run["approvals"]:
        return "## Approved divergences\n\nNo approvals are declared."
    parts = [
        "## Approved divergences",
        "",
        "The only ways the refactor may differ from legacy, each reviewed and "
        "owned. A difference is approved only in scenarios that reference the approval, when its condition "
        "holds and the candidate does what it promises.",
    ]
    for a in run["approvals"]:
        rows = [
            ["Reason", cell(a.get("reason", ""))],
            ["Owner", cell(a.get("owner", ""))],
            ["Applied in", cell(", ".join(a.get("appliedIn", [])) or "**no scenario**")],
            ["Referenced by", cell(", ".join(a.get("referencedBy", [])) or "**no scenario**")],
            ["Covers", ", ".join(code(c) for c in a.get("covers", []))],
        ]
        stale = a.get("staleIn") or {}
        if stale:
            rows.append(["Stale in", cell("; ".join(f"{n}: {'; '.join(notes)}" for n, notes in stale.items()))])
        parts += ["", f"### {a['id']}: {a.get('title', '')}", "", table(["Field", "Value"], rows)]
    return "\n".join(parts)


def noise(run: dict[str, Any]) -> str:
    """Timing noise between the legacy runs, per scenario, each line once."""
    parts = ["## Noise", "", NOISE_INTRO]
    noisy = [s for s in run["scenarios"] if s["noise"]]
    if not noisy:
        return "\n".join([*parts, "", "No noise found in any scenario."])
    for s in noisy:
        parts += ["", f"### {s['name']}"]
        for title, lines in noise_lines(s):
            parts += ["", f"{title}:", ""]
            parts += [f"- {code(line)}" for line in lines[:MAX_SHOWN]]
            parts += [f"- ... and {len(lines) - MAX_SHOWN} more"] if len(lines) > MAX_SHOWN else []
    return "\n".join(parts)


def _difference(d: dict[str, Any]) -> str:
    kind = d["kind"] + (f" ({d['baselineType']} → {d['candidateType']})" if d.get("baselineType") else "")
    label = f"approved by {d['approval']} (see Approved divergences)" if d.get("approval") else d["status"]
    label += "".join(f"; not approved by {r['id']}, because {_html(r['because'])}" for r in d.get("notApproved", []))
    before = "(absent)" if d["kind"] == "added" else json_block(d["baseline"])
    after = "(absent)" if d["kind"] == "removed" else json_block(d["candidate"])
    return details(
        f"<code>{_html(d['path'])}</code>: {kind}, {label}",
        f"**Before (baseline)**\n\n{before}\n\n**After (candidate)**\n\n{after}",
    )


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def differences(run: dict[str, Any]) -> str:
    """Every difference as before / after, per scenario."""
    with_differences = [s for s in run["scenarios"] if s["differences"]]
    if not with_differences:
        return "## Differences (before / after)\n\nNo differences in any scenario."
    parts = [
        "## Differences (before / after)",
        "",
        "*Before* is what legacy (the baseline) did, *after* what the refactor did.",
    ]
    for s in with_differences:
        parts += ["", f"### {s['name']}: {status(s['status'])}", ""]
        parts += [_difference(d) for d in s["differences"][:MAX_SHOWN]]
        if len(s["differences"]) > MAX_SHOWN:
            parts.append(f"... and {len(s['differences']) - MAX_SHOWN} more in verdict.json")
    return "\n".join(parts)


def _observation(title: str, obs: dict[str, Any] | None) -> str:
    if obs is None:
        return f"- {title}: not run"
    lines = [
        (f"[{o['level']}] {o['logger']}: {o['message']}" if o.get("stream") == "log" else o.get("text", ""))
        for o in obs.get("output", [])
    ]
    body = [
        f"{code(obs['implementation'])}, {obs.get('wallTimeMs')} ms",
        "",
        "Response",
        "",
        json_block(obs.get("response")),
    ]
    if obs.get("exception"):
        body += ["", "Exception", "", json_block(obs["exception"])]
    if obs.get("harnessError"):
        body += ["", "Harness error", "", json_block(obs["harnessError"])]
    body += ["", f"Output ({len(lines)} line(s))", "", json_block("\n".join(lines))]
    if obs.get("failedCalls"):
        body += ["", f"Failed calls ({len(obs['failedCalls'])})", "", json_block(obs["failedCalls"])]
    return details(title, "\n".join(body))


def scenario_details(run: dict[str, Any]) -> str:
    """Per scenario: description, errors and each implementation's output (collapsed)."""
    parts = ["## Scenarios and each implementation's output"]
    for s in run["scenarios"]:
        facts = [f"source {code(s['source'])}"]
        facts += [f"clock {code(s['clock'])}"] if s.get("clock") else []
        facts += [f"tags {', '.join(code(t) for t in s['tags'])}"] if s["tags"] else []
        body = [s.get("description") or "", "", " · ".join(facts)]
        if s["errors"]:
            body += ["", "**Errors**", "", *(json_block(e) for e in s["errors"])]
        runs = s["runs"]
        body += [
            "",
            _observation("Baseline (legacy), primary world", runs.get("baseline")),
            _observation("Baseline (legacy), second world for noise", runs.get("baselineSecondary")),
            _observation("Candidate (refactor)", runs.get("candidate")),
        ]
        failing = s["status"] in (DIVERGENT, ERROR)
        parts += [
            "",
            details(
                f"{_html(s['name'])}: {status(s['status'])} ({duration(s['durationS'])})",
                "\n".join(body),
                open_=failing,
            ),
        ]
    return "\n".join(parts)


def render_markdown(run: dict[str, Any]) -> str:
    """The whole Markdown report for a view built by :func:`harness.report.content.build_view`."""
    first = blockers(run) if not run["go"] else flip_steps(run)
    sections = [
        verdict(run),
        first,
        metadata(run),
        scenario_matrix(run),
        coverage(run),
        approvals(run),
        noise(run),
        differences(run),
        scenario_details(run),
        "---\n\nWritten by `python -m harness`; `verdict.json` holds the same data in full.",
    ]
    return "\n\n".join(sections) + "\n"
