"""The audit as a terminal table, as JSON (a stable schema) and as a Markdown report to hand in."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from .. import __version__
from .model import SECTIONS, HostAudit, ItemResult

SCHEMA = 1
MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "n/a": "n/a", "manual": "MANUAL"}
WEIGHT = {"pass": 1.0, "warn": 0.5, "fail": 0.0}


def score(results: list[ItemResult]) -> int | None:
    """Percent over the items that were checked (pass 1, warn ½, fail 0); None when none were."""
    weights = [WEIGHT[r.finding.status] for r in results if r.finding.status in WEIGHT]
    return round(100 * sum(weights) / len(weights)) if weights else None


def by_section(audit: HostAudit) -> dict[str, list[ItemResult]]:
    return {s: [r for r in audit.results if r.item.section == s] for s in SECTIONS
            if any(r.item.section == s for r in audit.results)}


def _pct(value: int | None) -> str:
    return "–" if value is None else f"{value}%"


def text(audits: list[HostAudit]) -> str:
    lines = []
    for audit in audits:
        lines.append(f"== {audit.host}")
        if audit.error:
            lines.append(f"   unreachable: {audit.error}")
            continue
        for section, results in by_section(audit).items():
            lines.append(f"  {section} ({_pct(score(results))})")
            for r in results:
                lines.append(f"    {MARK[r.finding.status]:<6} {r.item.severity:<8} {r.item.id:<24} {r.item.title}")
                if r.finding.status in ("fail", "warn", "n/a"):
                    lines.append(f"           {r.finding.evidence}" + (f"  → {r.fix}" if r.finding.status != "n/a" else ""))
        lines.append(f"  score {_pct(score(audit.results))}  " +
                     "  ".join(f"{s} {sum(r.finding.status == s for r in audit.results)}" for s in MARK))
    return "\n".join(lines)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.timezone.utc)


def as_data(audits: list[HostAudit], fail_on: str, now: dt.datetime | None = None) -> dict:
    """The JSON schema (version SCHEMA): hosts → score, sections → score, items → status and evidence."""
    return {
        "schema": SCHEMA, "vpskit": __version__, "date": _now(now).isoformat(timespec="seconds"), "fail_on": fail_on,
        "hosts": {a.host: {"error": a.error, "score": score(a.results), "connections": a.connections,
                           "commands": a.commands,
                           "sections": {s: score(rs) for s, rs in by_section(a).items()},
                           "items": [r.to_dict() for r in a.results]} for a in audits},
    }


def write_json(path: str, audits: list[HostAudit], fail_on: str) -> None:
    _write(Path(path), json.dumps(as_data(audits, fail_on), indent=2, sort_keys=True) + "\n")


def markdown(audits: list[HostAudit], now: dt.datetime | None = None) -> str:
    today = _now(now).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Production-readiness audit", "", f"Date: {today} · vpskit {__version__} · "
           f"{len(audits)} host(s)", ""]
    for audit in audits:
        out += [f"## {audit.host}", ""]
        if audit.error:
            out += [f"Unreachable: {audit.error}", ""]
            continue
        out += [f"Overall score: **{_pct(score(audit.results))}**", ""]
        for section, results in by_section(audit).items():
            out += [f"### {section.capitalize()} ({_pct(score(results))})", "",
                    "| | item | severity | evidence | fix |", "| --- | --- | --- | --- | --- |"]
            for r in results:
                evidence = r.finding.evidence.replace("|", "\\|").replace("\n", " ")
                fix = r.fix.replace("|", "\\|")
                box = {"pass": "✅", "warn": "⚠️", "fail": "❌", "n/a": "–", "manual": "☐"}[r.finding.status]
                out.append(f"| {box} | {r.item.title} (`{r.item.id}`) | {r.item.severity} | {evidence} | {fix} |")
            out.append("")
    return "\n".join(out)


def write_markdown(path: str, audits: list[HostAudit]) -> None:
    _write(Path(path), markdown(audits) + "\n")


def _write(target: Path, content: str) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(content)
    tmp.replace(target)
