"""``mutation.json`` and ``mutation.md``: the score, every survivor and false alarm, every equivalent and why."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from harness.mutation.runner import CAUGHT, EQUIVALENT, FALSE_ALARM, SURVIVED, MutationRun

JSON_FILE = "mutation.json"
MARKDOWN_FILE = "mutation.md"


def run_document(run: MutationRun) -> dict[str, Any]:
    """The ``mutation.json`` document."""
    return {
        "command": run.command,
        "score": run.score,
        "ok": run.ok,
        "counts": {status: run.count(status) for status in (CAUGHT, SURVIVED, EQUIVALENT, FALSE_ALARM)},
        "durationS": round(run.duration_s, 1),
        "mutants": [outcome.to_dict() for outcome in run.outcomes],
    }


def markdown(run: MutationRun) -> str:
    """The ``mutation.md`` report: the score, survivors and false alarms first, then the whole table."""
    counts = ", ".join(f"{run.count(status)} {status}" for status in (CAUGHT, SURVIVED, EQUIVALENT, FALSE_ALARM))
    lines = [
        "# Mutation score",
        "",
        f"**{run.score}**; {counts}; {len(run.outcomes)} mutant(s) in {run.duration_s / 60:.1f} min.",
        "",
        f"Command: `{run.command}`",
        "",
    ]
    for status, title, why in (
        (SURVIVED, "Survivors (no test and no scenario caught them)", "description"),
        (FALSE_ALARM, "False alarms (declared equivalent, yet caught)", "reason"),
    ):
        chosen = [o for o in run.outcomes if o.status == status]
        if chosen:
            lines += [f"## {title}", ""]
            lines += [
                f"- `{o.mutant.id}` ({o.mutant.file}): {getattr(o.mutant, why)}"
                + (f" Caught by {o.by}." if o.by else "")
                for o in chosen
            ]
            lines.append("")
    equivalent = [o for o in run.outcomes if o.status == EQUIVALENT]
    if equivalent:
        lines += ["## Equivalent (declared behaviour-preserving, and they passed)", ""]
        lines += [f"- `{o.mutant.id}`: {o.mutant.description} Why: {o.mutant.reason}" for o in equivalent]
        lines.append("")
    by_category = Counter(o.mutant.category for o in run.outcomes)
    lines += ["## By category", "", "| category | mutants | caught |", "|---|---|---|"]
    for category, total in sorted(by_category.items()):
        caught = sum(1 for o in run.outcomes if o.mutant.category == category and o.status == CAUGHT)
        lines.append(f"| {category} | {total} | {caught} |")
    lines += ["", "## Every mutant", "", "| mutant | category | outcome | by | seconds |", "|---|---|---|---|---|"]
    for o in run.outcomes:
        by = o.by.replace("|", "\\|") if o.by else ""
        lines.append(f"| `{o.mutant.id}` | {o.mutant.category} | {o.status} | {by} | {o.duration_s:.0f} |")
    return "\n".join(lines) + "\n"


def write_mutation_reports(run: MutationRun, directory: Path) -> list[Path]:
    """Write both reports to ``directory`` (created if needed); the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / JSON_FILE, directory / MARKDOWN_FILE]
    written[0].write_text(json.dumps(run_document(run), indent=2) + "\n", encoding="utf-8")
    written[1].write_text(markdown(run), encoding="utf-8")
    return written
