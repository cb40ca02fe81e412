"""``report.html``: one self-contained page (inline CSS, no script, no external asset) a reviewer signs off from.

Order of the page: what this is, the GO / NO-GO banner, then at once either what blocks the flip or the reviewed
steps to flip and roll back, then run metadata, the scenario matrix, the coverage matrices, approved divergences,
noise, every difference as before / after, and each implementation's output per scenario (collapsed). A
Content-Security-Policy forbids every load and every script, so the page cannot reach anything even by mistake.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from harness.engine.coverage import ERROR_TYPE_LABELS, ERROR_TYPES, LEGACY_STATES
from harness.engine.model import DIVERGENT, ERROR
from harness.report import signoff
from harness.report.charts import durations_chart, outcomes_chart
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
    anchor,
    brief,
    duration,
    headline,
    names,
    noise_lines,
)
from harness.report.triage import failing_first

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_MAX_VALUE_CHARS = 4000
#: Values longer than this (characters or lines) are collapsed under their first line.
_COLLAPSE_CHARS = 240
_COLLAPSE_LINES = 8
_CODE = re.compile(r"`([^`]+)`")

CSS = """
:root { --go: #1a7f37; --nogo: #cf222e; --warn: #9a6700; --info: #0969da; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; color: #1f2328;
       margin: 0 auto; max-width: 1180px; padding: 24px 32px 64px; }
h1 { font-size: 26px; margin: 0 0 8px; } h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 1px solid
var(--line); padding-bottom: 4px; } h3 { font-size: 16px; margin: 22px 0 6px; }
p.lead { color: var(--muted); margin-top: 0; }
code, pre { font: 12.5px/1.45 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
code { background: #f6f8fa; padding: 1px 4px; border-radius: 4px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 4px 0;
      overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
pre.cmd { background: #0d1117; color: #e6edf3; border-color: #0d1117; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; } td.num { text-align: right; white-space: nowrap; }
table.fixed { table-layout: fixed; } table.fixed td { overflow-wrap: anywhere; }
table.fixed .badge { white-space: normal; overflow-wrap: normal; }
.banner { border-radius: 10px; padding: 18px 22px; color: #fff; margin: 18px 0; }
.banner.go { background: var(--go); } .banner.nogo { background: var(--nogo); }
.banner .verdict { font-size: 34px; font-weight: 700; letter-spacing: .5px; } .banner p { margin: 4px 0 0; }
.banner code { background: rgba(0, 0, 0, .2); color: inherit; }
code.hash { word-break: break-all; font-size: 11.5px; } table.kv th { width: 170px; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12.5px; font-weight: 600;
         color: #fff; white-space: nowrap; }
.s-equivalent { background: var(--go); } .s-approved-divergence { background: var(--info); }
.s-divergent { background: var(--nogo); } .s-error { background: var(--warn); }
.s-unapproved { background: var(--nogo); } .s-approved { background: var(--info); } .s-noise { background: #6e7781; }
.box { border: 1px solid var(--line); border-left: 6px solid var(--info); border-radius: 6px; padding: 10px 16px;
       margin: 10px 0; }
.box.block { border-left-color: var(--nogo); } .box.steps { border-left-color: var(--go); }
.missing { color: var(--nogo); font-weight: 600; } .ok { color: var(--go); font-weight: 600; }
td .ok, td .missing { white-space: nowrap; } .warning { color: var(--warn); font-weight: 600; }
.muted { color: var(--muted); } ol.steps > li { margin-bottom: 8px; }
details { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; margin: 6px 0; }
details > summary { cursor: pointer; font-weight: 600; } details[open] > summary { margin-bottom: 6px; }
ul.details { margin: 2px 0 6px; color: var(--muted); font-size: 13.5px; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
.scroll { overflow-x: auto; max-width: 100%; } code { overflow-wrap: anywhere; }
svg.chart { width: 100%; height: auto; display: block; margin: 6px 0 12px; }
del { background: #ffebe9; color: #82071e; text-decoration: line-through; }
ins { background: #dafbe1; color: #116329; text-decoration: none; }
.refused { color: var(--nogo); font-size: 12.5px; } details.value { border: 0; padding: 0; margin: 0; }
@media (max-width: 900px) { body { padding: 12px 14px 40px; } .banner .verdict { font-size: 28px; }
  table.kv th { width: 120px; } }
"""


def esc(value: Any) -> str:
    """Escape any value for HTML text or attributes."""
    return html.escape(str(value), quote=True)


def prose(text: str) -> str:
    """Escape text and turn `backticks` into ``<code>``."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", esc(text))


def badge(status: str, label: str | None = None) -> str:
    """A coloured status label."""
    return f'<span class="badge s-{esc(status)}">{esc(label or STATUS_LABELS.get(status, status))}</span>'


def value_block(value: Any, absent: bool = False) -> str:
    """A JSON value, pretty-printed; long values collapsed under their first line (and cut; verdict.json has them
    whole)."""
    if absent:
        return '<span class="muted">(absent)</span>'
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[:_MAX_VALUE_CHARS] + "\n... (cut; the whole value is in verdict.json)"
    if len(text) <= _COLLAPSE_CHARS and text.count("\n") < _COLLAPSE_LINES:
        return f"<pre>{esc(text)}</pre>"
    first = text.splitlines()[0][:60] if text else ""
    return (
        f'<details class="value"><summary><code>{esc(first)}</code> ... ({len(text)} characters)</summary>'
        f"<pre>{esc(text)}</pre></details>"
    )


def highlighted(before: str, after: str) -> tuple[str, str]:
    """Two strings with what changed between them marked inline (common prefix and suffix left plain)."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1

    def mark(text: str, tag: str) -> str:
        middle = text[start : len(text) - end]
        marked = f"<{tag}>{esc(middle)}</{tag}>" if middle else ""
        return f"<pre>{esc(text[:start])}{marked}{esc(text[len(text) - end :])}</pre>"

    return mark(before, "del"), mark(after, "ins")


def table(
    headers: list[str], rows: list[list[str]], numeric: tuple[int, ...] = (), widths: tuple[int, ...] = ()
) -> str:
    """A table of pre-rendered cells (headers are escaped); ``widths`` in percent fix the column layout."""
    head = "".join(
        f'<th style="width: {widths[i]}%">{esc(h)}</th>' if widths else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    fixed = ' class="fixed"' if widths else ""
    return f'<div class="scroll"><table{fixed}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def section(ident: str, title: str, body: str) -> str:
    """A titled section with an id (the tests and the table of contents find sections by id)."""
    return f'<section id="{esc(ident)}"><h2>{esc(title)}</h2>\n{body}\n</section>'


# -- verdict -------------------------------------------------------------------------------------------------------


def banner(run: dict[str, Any]) -> str:
    """The GO / NO-GO banner."""
    kind = "go" if run["go"] else "nogo"
    counts = ", ".join(f"{n} {STATUS_LABELS[status]}" for status, n in run["counts"].items() if n)
    return (
        f'<div class="banner {kind}" id="verdict"><div class="verdict">{esc(run["verdict"])}</div>'
        f"<p><strong>{prose(headline(run))}</strong></p>"
        f"<p>{esc(len(run['scenarios']))} scenario(s): {esc(counts or 'none')} &middot; "
        f"<code>{esc(run['command'])}</code> took {esc(duration(run['durationS']))}</p></div>"
    )


def _example(example: dict[str, Any]) -> str:
    before = value_block(example["baseline"], absent=example["kind"] == "added")
    after = value_block(example["candidate"], absent=example["kind"] == "removed")
    if isinstance(example["baseline"], str) and isinstance(example["candidate"], str):
        before, after = highlighted(example["baseline"], example["candidate"])
    return (
        f'<details><summary>Example in <a href="#{esc(anchor(example["scenario"]))}">{esc(example["scenario"])}</a>: '
        f"<code>{esc(brief(example))}</code></summary>"
        + table(["Before (baseline)", "After (candidate)"], [[before, after]], widths=(50, 50))
        + "</details>"
    )


def blockers(run: dict[str, Any]) -> str:
    """NO-GO: what blocks the flip, plainly, grouped by cause, before anything else."""
    items = []
    for item in run["blockerItems"]:
        text = esc(item["text"])
        if item["anchor"]:
            text = f'<a href="#{esc(item["anchor"])}">{text}</a>'
        if item["kind"] == "cause":
            text = f"<strong>{text}</strong>"
        lines = []
        if item.get("scenarios"):
            lines.append(f"<li>scenarios: {esc(names(item['scenarios']))}</li>")
        also = "also " if item["kind"] == "cause" else ""
        lines += [f"<li>{also}<code>{esc(d)}</code></li>" for d in item["details"]]
        if item["more"]:
            lines.append(f"<li>... and {item['more']} more</li>")
        example = _example(item["example"]) if item.get("example") else ""
        items.append(
            f"<li>{text}" + (f'<ul class="details">{"".join(lines)}</ul>' if lines else "") + f"{example}</li>"
        )
    remedies = "".join(f"<li><strong>{esc(key)}</strong>: {prose(text)}</li>" for key, text in REMEDIES)
    body = (
        f'<div class="box block"><p><strong>Keep <code>{signoff.FLAG}</code> set to <code>false</code> in production'
        f"</strong> (legacy stays in charge). The flip is blocked by:</p><ol>{''.join(items)}</ol>"
        f'<p class="muted">What to do, by kind of finding:</p><ul class="muted">{remedies}</ul></div>'
    )
    return section("blockers", "What blocks the flip", body)


def _steps(steps: tuple[signoff.Step, ...]) -> str:
    items = []
    for step in steps:
        command = f'<pre class="cmd">{esc(step.command)}</pre>' if step.command else ""
        items.append(f"<li>{prose(step.text)}{command}</li>")
    return f'<ol class="steps">{"".join(items)}</ol>'


def flip_steps(run: dict[str, Any]) -> str:
    """GO: the reviewed steps per environment and the rollback procedure."""
    notes = "".join(f"<li>{prose(note)}</li>" for note in signoff.NOTES)
    changes = [a for a in run["approvals"] if a.get("appliedIn")]
    expected = "".join(f'<li><a href="#approvals">{esc(a["id"])}</a>: {prose(a["title"])}</li>' for a in changes)
    parts = [f'<div class="box steps"><ul>{notes}</ul>']
    if run["command"] != "gate":
        parts.append(f'<p class="warning">{prose(signoff.NOT_A_SIGNOFF)}</p>')
    if expected:
        parts.append(f"<p>Behaviour that changes with the flip (approved divergences):</p><ul>{expected}</ul>")
    parts.append("</div>")
    for phase in signoff.phases():
        summary = f"{phase.title}: flag <code>{esc(phase.flag)}</code>, monitor {esc(phase.soak)}"
        parts.append(f"<details open><summary>{summary}</summary>{_steps(phase.steps)}</details>")
    parts.append('<h3 id="rollback">Rollback procedure</h3>')
    parts.append(_steps(signoff.rollback_steps()))
    return section("flip", f"How to flip {signoff.FLAG}", "".join(parts))


# -- metadata, matrix, coverage ------------------------------------------------------------------------------------


def key_values(rows: list[tuple[str, str]]) -> str:
    """A two-column table of labels and pre-rendered values."""
    body = "".join(f"<tr><th>{esc(key)}</th><td>{value}</td></tr>" for key, value in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _commit(git: dict[str, Any]) -> str:
    text = f"<code>{esc(git['commit'])}</code>" if git.get("commit") else '<span class="missing">unknown</span>'
    if git.get("branch"):
        text += f" on <code>{esc(git['branch'])}</code>"
    if git.get("changedFiles"):
        text += f' <span class="missing">+ uncommitted changes in {esc(git["changedFiles"])} file(s)</span>'
    return text


def _source_row(source: dict[str, Any]) -> list[str]:
    module = (
        f'<code>{esc(source["file"] or source["module"])}</code><br><code class="hash">{esc(source["sha256"])}</code>'
    )
    package = (
        f"<code>{esc(source['package'])}/</code> ({esc(source['packageFiles'])} files)<br>"
        f'<code class="hash">{esc(source["packageSha256"])}</code>'
    )
    return [esc(source["role"]), module, package]


def metadata(run: dict[str, Any]) -> str:
    """Run metadata: commit, source hashes, tools, clocks, timings."""
    meta = run["metadata"]
    rows = [
        (
            "Verdict",
            f"<strong>{esc(run['verdict'])}</strong> from <code>python -m harness {esc(run['command'])}</code>",
        ),
        ("Git commit", _commit(meta["git"])),
        ("Baseline", f"<code>{esc(run['baseline'])}</code>"),
        ("Candidate", f"<code>{esc(run['candidate'])}</code>"),
        ("Scenario clock(s)", ", ".join(f"<code>{esc(c)}</code>" for c in meta["clocks"]) or "unknown"),
        (
            "Started",
            f"{esc(meta['started'])}, took {esc(duration(meta['durationS']))}; report written {esc(meta['generated'])}",
        ),
        ("Tools", ", ".join(f"{esc(name)} <code>{esc(version)}</code>" for name, version in meta["tools"].items())),
    ]
    sources = [_source_row(source) for source in meta["sources"]]
    body = (
        key_values(rows)
        + "<h3>Source content hashes (SHA-256)</h3>"
        + table(
            ["Role", "Module the implementation lives in", "Its package (every .py file, path and content)"], sources
        )
    )
    return section("metadata", "Run metadata", body)


def scenario_matrix(run: dict[str, Any]) -> str:
    """One row per scenario: status, differences, approvals, timings."""
    rows = []
    for s in failing_first(run["scenarios"]):
        runs = s["runs"]
        times = [runs[k]["wallTimeMs"] if runs.get(k) else None for k in ("baseline", "candidate")]
        ids = ", ".join(a["id"] for a in s["approvals"] if a.get("covered")) or ""
        rows.append(
            [
                f'<a href="#{esc(s["anchor"])}">{esc(s["name"])}</a>',
                badge(s["status"]),
                esc(s["counts"]["unapproved"]),
                esc(s["counts"]["approved"]),
                esc(s["counts"]["noise"]),
                esc(ids),
                *("" if t is None else f"{t:.0f} ms" for t in times),
                esc(duration(s["durationS"])),
            ]
        )
    legend = "".join(f"<li>{badge(k)} {esc(v)}</li>" for k, v in STATUS_MEANINGS.items())
    body = table(
        list(SCENARIO_MATRIX_HEADERS),
        rows,
        numeric=(2, 3, 4, 6, 7, 8),
    )
    return section("scenarios", "Scenario matrix", body + f'<ul class="muted">{legend}</ul>')


def _coverage_table(title: str, what: str, mapping: dict[str, list[str]], labels: dict[str, str]) -> str:
    rows = []
    for key, found in mapping.items():
        label = esc(key) + (f' <span class="muted">({esc(labels[key])})</span>' if key in labels else "")
        state = f'<span class="ok">covered ({len(found)})</span>' if found else '<span class="missing">MISSING</span>'
        links = ", ".join(f'<a href="#{esc(anchor(n))}">{esc(n)}</a>' for n in found)
        rows.append([label, state, links])
    return f"<h3>{esc(title)}</h3>" + table([what, "Coverage", "Scenarios"], rows)


def coverage(run: dict[str, Any]) -> str:
    """The design's eight DRS error types and legacy's eight failure states against the scenarios."""
    data = run.get("coverage")
    if not data:
        return section("coverage", "Coverage", "<p class='muted'>Coverage was not computed for this run.</p>")
    types = {k: data["errorTypes"].get(k, []) for k in ERROR_TYPES}
    states = {k: data["legacyStates"].get(k, []) for k in LEGACY_STATES}
    body = (
        "<p>Error types come from the DRS faults each scenario injects; a legacy state is covered only when legacy "
        "really recorded it for a region in that scenario's baseline run.</p>"
        + _coverage_table("The design's eight DRS error types", "Error type", types, ERROR_TYPE_LABELS)
        + _coverage_table("Legacy's eight region failure states", "State", states, {})
    )
    return section("coverage", "Coverage", body)


# -- approvals, noise, differences, runs ---------------------------------------------------------------------------


def approvals(run: dict[str, Any]) -> str:
    """Each declared approval: why legacy differs, who owns it, where it applied."""
    if run.get("approvalsApply") is False:
        return section("approvals", "Approved divergences", f"<p class='muted'>{esc(NO_APPROVAL_APPLIES)}</p>")
    if not run["approvals"]:
        return section("approvals", "Approved divergences", "<p class='muted'>No approvals are declared.</p>")
    parts = [
        "<p>The only ways the refactor may differ from legacy, each reviewed and owned. A difference is approved only "
        "in scenarios that reference the approval, when its condition holds and the candidate does what it promises."
        "</p>"
    ]
    for a in run["approvals"]:
        applied = ", ".join(f'<a href="#{esc(anchor(n))}">{esc(n)}</a>' for n in a.get("appliedIn", []))
        referenced = ", ".join(esc(n) for n in a.get("referencedBy", []))
        stale = a.get("staleIn") or {}
        rows = [
            ("Reason", prose(a.get("reason", ""))),
            ("Owner", esc(a.get("owner", ""))),
            ("Applied in", applied or '<span class="missing">no scenario</span>'),
            ("Referenced by", referenced or '<span class="missing">no scenario</span>'),
            ("Covers", ", ".join(f"<code>{esc(c)}</code>" for c in a.get("covers", []))),
        ]
        if stale:
            rows.append(("Stale in", "; ".join(f"{esc(n)}: {esc('; '.join(notes))}" for n, notes in stale.items())))
        parts.append(f'<h3 id="approval-{esc(a["id"])}">{esc(a["id"])}: {prose(a.get("title", ""))}</h3>')
        parts.append(key_values(rows))
    return section("approvals", "Approved divergences", "".join(parts))


def noise(run: dict[str, Any]) -> str:
    """Places where two runs of legacy in the same world already disagree (timing), per scenario, each line once."""
    noisy = [s for s in run["scenarios"] if s["noise"]]
    intro = f"<p>{esc(NOISE_INTRO)}</p>"
    if not noisy:
        return section("noise", "Noise", intro + "<p><span class='ok'>No noise found</span> in any scenario.</p>")
    parts = [intro]
    for s in noisy:
        parts.append(f'<h3><a href="#{esc(s["anchor"])}">{esc(s["name"])}</a></h3>')
        for title, lines in noise_lines(s):
            items = "".join(f"<li><code>{esc(line)}</code></li>" for line in lines[:MAX_SHOWN])
            items += f"<li>... and {len(lines) - MAX_SHOWN} more</li>" if len(lines) > MAX_SHOWN else ""
            parts.append(f"<p>{esc(title)}</p><ul>{items}</ul>")
    return section("noise", "Noise", "".join(parts))


def approval_label(difference: dict[str, Any], approvals: dict[str, dict[str, Any]]) -> str:
    """The status of a difference: noise, unapproved (and which approval refused it, why), or its approval linked."""
    if difference.get("approval"):
        approval = approvals.get(difference["approval"], {})
        title = f"{approval.get('reason', '')} (owner: {approval.get('owner', '')})"
        ident = esc(difference["approval"])
        return f'<a href="#approval-{ident}" title="{esc(title)}">{badge("approved", f"approved {ident}")}</a>'
    label = badge(difference["status"])
    for refusal in difference.get("notApproved", []):
        label += (
            f'<br><span class="refused">not approved by <a href="#approval-{esc(refusal["id"])}">'
            f"{esc(refusal['id'])}</a>, because {esc(refusal['because'])}</span>"
        )
    return label


def _difference_rows(differences: list[dict[str, Any]], approvals: dict[str, dict[str, Any]]) -> list[list[str]]:
    rows = []
    for d in differences[:MAX_SHOWN]:
        kind = esc(d["kind"])
        if d.get("baselineType"):
            kind += f" ({esc(d['baselineType'])} &rarr; {esc(d['candidateType'])})"
        before = value_block(d["baseline"], absent=d["kind"] == "added")
        after = value_block(d["candidate"], absent=d["kind"] == "removed")
        if d["kind"] == "changed" and isinstance(d["baseline"], str) and isinstance(d["candidate"], str):
            before, after = highlighted(d["baseline"], d["candidate"])
        rows.append([f"<code>{esc(d['path'])}</code>", kind, before, after, approval_label(d, approvals)])
    return rows


def differences(run: dict[str, Any]) -> str:
    """Every difference between baseline and candidate, as before / after, per scenario."""
    with_differences = [s for s in run["scenarios"] if s["differences"]]
    if not with_differences:
        return section("differences", "Differences", "<p><span class='ok'>No differences</span> in any scenario.</p>")
    parts = ["<p><em>Before</em> is what legacy (the baseline) did, <em>after</em> what the refactor did.</p>"]
    for s in with_differences:
        parts.append(
            f'<h3 id="differences-{esc(s["anchor"])}"><a href="#{esc(s["anchor"])}">{esc(s["name"])}</a> '
            f"{badge(s['status'])}</h3>"
        )
        parts.append(
            table(
                ["Path", "Change", "Before (baseline)", "After (candidate)", "Status"],
                _difference_rows(s["differences"], {a["id"]: a for a in run["approvals"]}),
                widths=(22, 10, 28, 28, 12),
            )
        )
        if len(s["differences"]) > MAX_SHOWN:
            parts.append(f"<p class='muted'>... and {len(s['differences']) - MAX_SHOWN} more in verdict.json</p>")
    return section("differences", "Differences (before / after)", "".join(parts))


def _observation(title: str, obs: dict[str, Any] | None) -> str:
    if obs is None:
        return f"<details><summary>{esc(title)}: not run</summary></details>"
    outcome = (
        f"raised {obs['exception']['type']}"
        if obs.get("exception")
        else (
            f"answered {obs['response'].get('statusCode')}" if isinstance(obs.get("response"), dict) else "no response"
        )
    )
    lines = [
        (f"[{o['level']}] {o['logger']}: {o['message']}" if o.get("stream") == "log" else o.get("text", ""))
        for o in obs.get("output", [])
    ]
    calls = {k: obs.get(k) for k in ("tableItems", "regionStatusWrites", "mutatingCalls", "distinctReads", "readCalls")}
    parts = [
        f"<p><code>{esc(obs['implementation'])}</code> (world variant {esc(obs.get('variant', 0))}), "
        f"{esc(outcome)} in {esc(obs.get('wallTimeMs'))} ms</p>"
    ]
    if obs.get("harnessError"):
        parts.append("<p class='missing'>Harness error:</p>" + value_block(obs["harnessError"]))
    parts.append("<p>Response</p>" + value_block(obs.get("response")))
    if obs.get("exception"):
        parts.append("<p>Exception</p>" + value_block(obs["exception"]))
    parts.append(f"<p>Output ({len(lines)} line(s): print and log records)</p>" + value_block("\n".join(lines)))
    parts.append("<p>Calls and tables</p>" + value_block(calls))
    if obs.get("failedCalls"):
        parts.append(
            f"<p>Failed calls ({len(obs['failedCalls'])}: faults, retries)</p>" + value_block(obs["failedCalls"])
        )
    return f"<details><summary>{esc(title)}: {esc(outcome)}</summary>{''.join(parts)}</details>"


def scenario_details(run: dict[str, Any]) -> str:
    """Per scenario: what it is, why it failed if it did, and each implementation's output (collapsed)."""
    parts = []
    for s in run["scenarios"]:
        failing = s["status"] in (DIVERGENT, ERROR)
        facts = [f"source <code>{esc(s['source'])}</code>"]
        facts += [f"clock <code>{esc(s['clock'])}</code>"] if s.get("clock") else []
        facts += [f"seed <code>{esc(s['seed'])}</code>"] if s.get("seed") is not None else []
        facts += [f"tags {', '.join(f'<code>{esc(t)}</code>' for t in s['tags'])}"] if s["tags"] else []
        body = [f"<p>{esc(s.get('description') or '')}</p>", f"<p class='muted'>{' &middot; '.join(facts)}</p>"]
        if s["errors"]:
            body.append("<p class='missing'>Errors</p>" + "".join(value_block(e) for e in s["errors"]))
        if s["differences"]:
            c = s["counts"]
            counted = f"{c['unapproved']} unapproved and {c['approved']} approved difference(s)"
            body.append(f'<p><a href="#differences-{esc(s["anchor"])}">{counted}</a></p>')
        runs = s["runs"]
        body.append(_observation("Baseline (legacy), primary world", runs.get("baseline")))
        body.append(_observation("Baseline (legacy), second world for noise", runs.get("baselineSecondary")))
        body.append(_observation("Candidate (refactor)", runs.get("candidate")))
        summary = f"{esc(s['name'])} {badge(s['status'])} <span class='muted'>{esc(duration(s['durationS']))}</span>"
        parts.append(
            f'<details id="{esc(s["anchor"])}"{" open" if failing else ""}><summary>{summary}</summary>'
            f"{''.join(body)}</details>"
        )
    return section("details", "Scenarios and each implementation's output", "".join(parts))


# -- page ----------------------------------------------------------------------------------------------------------

_CONTENTS = (
    ("metadata", "Run metadata"),
    ("scenarios", "Scenario matrix"),
    ("charts", "Charts"),
    ("coverage", "Coverage"),
    ("approvals", "Approved divergences"),
    ("noise", "Noise"),
    ("differences", "Differences"),
    ("details", "Scenario output"),
)


def charts(run: dict[str, Any]) -> str:
    """The outcomes and each scenario's duration, as inline SVG."""
    body = (
        "<h3>Outcomes</h3>"
        + outcomes_chart(run)
        + "<h3>Duration per scenario</h3>"
        + '<p class="muted">All three runs of a scenario and their comparison, longest first; shown, never gating.</p>'
        + durations_chart(run)
    )
    return section("charts", "Charts", body)


def render_html(run: dict[str, Any]) -> str:
    """The whole page for a view built by :func:`harness.report.content.build_view`."""
    first = blockers(run) if not run["go"] else flip_steps(run)
    first_link = ("blockers", "What blocks the flip") if not run["go"] else ("flip", "How to flip")
    contents = " &middot; ".join(f'<a href="#{i}">{esc(t)}</a>' for i, t in (first_link, *_CONTENTS))
    body = "\n".join(
        [
            f"<header><h1>{esc(TITLE)}</h1><p class='lead'>{prose(INTRODUCTION)}</p>"
            f"<p class='lead'>{esc(COMPARED)}</p></header>",
            "<main>",
            banner(run),
            f"<nav aria-label='Sections'>{contents}</nav>",
            first,
            metadata(run),
            scenario_matrix(run),
            charts(run),
            coverage(run),
            approvals(run),
            noise(run),
            differences(run),
            scenario_details(run),
            "</main>",
            "<footer>Written by <code>python -m harness</code>. <code>verdict.json</code> beside this file holds "
            "the same data in full; <code>junit.xml</code> has one test case per scenario; <code>report.md</code> is "
            "this page for a pull request or wiki.</footer>",
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n<link rel="icon" href="data:,">\n'
        f"<title>{esc(run['verdict'])} - {esc(TITLE)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
