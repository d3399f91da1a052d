"""Checklist items, what one item found on one host, and the per-host result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # the model alone loads for --help; the facts load when the audit runs
    from ..facts.base import Fact

SECTIONS = ("infrastructure", "network", "kubernetes", "availability", "security", "database", "tls", "outside",
            "observability", "hardening", "operations")
SEVERITIES = ("critical", "warning", "info")
# pass / warn / fail count towards a score; n/a and manual do not
STATUSES = ("pass", "warn", "fail", "n/a", "manual")


@dataclass(frozen=True)
class Finding:
    """What one item found on one host: a status and the evidence for it."""

    status: str
    evidence: str
    fix: str = ""  # a fix for this very finding (a manifest naming the workload), over the item's general one

    @staticmethod
    def ok(evidence: str) -> "Finding":
        return Finding("pass", evidence)

    @staticmethod
    def warn(evidence: str) -> "Finding":
        return Finding("warn", evidence)

    @staticmethod
    def fail(evidence: str, fix: str = "") -> "Finding":
        return Finding("fail", evidence, fix)

    @staticmethod
    def na(reason: str) -> "Finding":
        return Finding("n/a", reason)


@dataclass(frozen=True)
class Probes:
    """What the items read on one host, by name: a fact's value (a probe command's is (exit status, stdout))."""

    results: dict[str, object]
    parsed: dict = field(default_factory=dict, compare=False, repr=False)  # JSON read once per host, not per item

    def json(self, name: str):
        """The probe's stdout as JSON (parsed once; ValueError when it is not JSON)."""
        if name not in self.parsed:
            self.parsed[name] = json.loads(self.out(name))
        return self.parsed[name]

    def fact(self, name: str):
        """The value of the fact read under this name (the fact class's own parse of the host's output)."""
        return self.results[name]

    def rc(self, name: str) -> int:
        return self.results[name][0]

    def out(self, name: str) -> str:
        return self.results[name][1]

    def ok(self, name: str) -> bool:
        return self.results[name][0] == 0


@dataclass(frozen=True)
class Item:
    """One checklist item: what it reads on the host (facts, by name) and how it judges them.

    `probes` maps a name to a fact (vpskit/facts/*, or a role's own) or to a read-only shell command; all of a
    host's are gathered in one batch. `rank` places the item in its section of the report (lower first; a
    user role's items, unranked, come after the built-in ones).
    """

    id: str
    section: str
    severity: str
    title: str
    fix: str  # the vpskit task that repairs it, or what to do
    judge: Callable[[Probes, dict], Finding] | None = None  # None: a manual item
    probes: dict[str, "str | Fact"] = field(default_factory=dict)
    prompt: str = ""  # for manual items: what to check by hand
    rank: int = 1000

    def __post_init__(self):
        assert self.section in SECTIONS and self.severity in SEVERITIES, self


@dataclass
class ItemResult:
    item: Item
    finding: Finding

    def to_dict(self) -> dict:
        return {"id": self.item.id, "section": self.item.section, "severity": self.item.severity,
                "title": self.item.title, "status": self.finding.status, "evidence": self.finding.evidence,
                "fix": self.fix}

    @property
    def fix(self) -> str:
        return self.finding.fix or self.item.fix


@dataclass
class HostAudit:
    host: str
    results: list[ItemResult] = field(default_factory=list)
    error: str | None = None
    connections: int = 0
    commands: int = 0  # every probe goes in one command: the audit's cost on a host

    def failing(self, at_least: str) -> list[ItemResult]:
        """Failed items whose severity is `at_least` or worse."""
        worst = SEVERITIES[: SEVERITIES.index(at_least) + 1]
        return [r for r in self.results if r.finding.status == "fail" and r.item.severity in worst]
