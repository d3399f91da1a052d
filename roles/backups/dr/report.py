"""A drill's report: phases with their times, RTO and RPO against the targets, the verdict; text, JSON, Markdown."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from vpskit.durations import human


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    ok: bool = True
    detail: str = ""
    commands: list[str] = field(default_factory=list)  # what a person runs on the new host for this step


@dataclass
class DrillReport:
    host: str
    target: str
    started: float  # epoch seconds
    rto_target: int
    rpo_target: int
    repository: str = ""
    snapshot: dict | None = None  # id, run, taken
    phases: list[Phase] = field(default_factory=list)
    restored: dict = field(default_factory=dict)  # what came back, set by set (counts, files)
    rpo: float | None = None

    @property
    def rto(self) -> float:
        return sum(p.seconds for p in self.phases)

    def failures(self) -> list[str]:
        """Why the drill failed, each naming the step or the target missed; empty when it passed."""
        failed = [f"step {p.name} failed: {p.detail}" for p in self.phases if not p.ok]
        if failed:
            return failed
        missed = []
        if self.rto > self.rto_target:
            missed.append(f"RTO missed: {human(self.rto)} to restore, the target (dr_rto) is {human(self.rto_target)}")
        if self.rpo is None:
            missed.append("RPO unknown: no snapshot was restored")
        elif self.rpo > self.rpo_target:
            missed.append(f"RPO missed: the newest off-site snapshot is {human(self.rpo)} old, the target (dr_rpo) "
                          f"is {human(self.rpo_target)}")
        return missed

    @property
    def passed(self) -> bool:
        return not self.failures()

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(rto=round(self.rto, 1), rpo=None if self.rpo is None else round(self.rpo, 1),
                    passed=self.passed, failures=self.failures())
        return data


def text(report: DrillReport) -> str:
    lines = [f"drill: {report.host} rebuilt onto {report.target} from {report.repository or 'the off-site copy'}"]
    if report.snapshot:
        lines.append(f"  snapshot {report.snapshot['id'][:8]} of run {report.snapshot['run']}")
    for phase in report.phases:
        mark = "ok" if phase.ok else "FAILED"
        lines.append(f"  {phase.name:<20} {human(phase.seconds):>10}  {mark}  {phase.detail}".rstrip())
    lines.append(f"  RTO {human(report.rto)} (target {human(report.rto_target)}), RPO "
                 f"{'unknown' if report.rpo is None else human(report.rpo)} (target {human(report.rpo_target)})")
    failures = report.failures()
    lines += [f"  {f}" for f in failures] or ["  drill passed"]
    lines.append(f"drill {'FAILED' if failures else 'passed'}")
    return "\n".join(lines)


def markdown(report: DrillReport) -> str:
    """The hand-in: what came back, counts, times, and the commands a person would run by hand for each step."""
    from datetime import datetime, timezone
    when = datetime.fromtimestamp(report.started, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    failures = report.failures()
    out = [f"# Disaster-recovery drill: {report.host} onto {report.target}", "",
           f"- When: {when}", f"- Result: **{'FAILED' if failures else 'passed'}**",
           f"- Off-site repository: `{report.repository}`"]
    if report.snapshot:
        out.append(f"- Snapshot restored: `{report.snapshot['id'][:8]}`, backup run {report.snapshot['run']}")
    out += [f"- RTO: {human(report.rto)} (target {human(report.rto_target)})",
            f"- RPO: {'unknown' if report.rpo is None else human(report.rpo)} (target {human(report.rpo_target)})"]
    out += [f"- {f}" for f in failures]
    out += ["", "| step | time | result | detail |", "| --- | --- | --- | --- |"]
    out += [f"| {p.name} | {human(p.seconds)} | {'ok' if p.ok else 'FAILED'} | {p.detail.replace('|', '/')} |"
            for p in report.phases]
    if report.restored:
        out += ["", "## What was restored", ""]
        for name, what in report.restored.items():
            out.append(f"- {name}: {what}")
    out += ["", "## The steps by hand", "",
            f"As root on the new host, after `invoke bootstrap` with {report.host}'s variables:", ""]
    for phase in report.phases:
        if phase.commands:
            out += [f"### {phase.name}", "", "```sh", *phase.commands, "```", ""]
    return "\n".join(out).rstrip() + "\n"


def write(path: str, content: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        handle.write(content)
    os.replace(tmp, path)


def write_json(path: str, report: DrillReport) -> None:
    write(path, json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n")
