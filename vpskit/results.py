"""What a run produced: per-step results, per-host summaries and the exit code they imply."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

STATUSES = ("ok", "changed", "failed", "blocked", "skipped")


@dataclass
class StepResult:
    role: str
    title: str
    status: str  # one of STATUSES
    reason: str
    diff: str | None = None
    play: str = ""
    upgrade: tuple[str, str] | None = None  # the change's Outcome.upgrade: (from, to) version


@dataclass
class PlayResult:
    """One play of a run: the hosts it ran on, the failed ones, and why it stopped the run, if it did."""

    name: str
    hosts: list[str]
    serial: int | str | None = None
    failed: list[str] = field(default_factory=list)
    stopped: str | None = None


@dataclass
class HostResult:
    name: str
    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None
    unreachable: bool = False
    connections: int = 0
    commands: int = 0
    fact_batches: int = 0
    facts: int = 0
    seconds: float = 0.0
    # how vpskit logged in: the rule that ordered the logins, the one that worked, any refused before it
    login: dict | None = None

    def count(self, status: str) -> int:
        return sum(1 for s in self.steps if s.status == status) + (1 if status == "failed" and self.error and
                                                                     not any(s.status in ("failed", "blocked") for s in self.steps) else 0)

    @property
    def failed(self) -> bool:
        return self.error is not None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["summary"] = {s: self.count(s) for s in STATUSES}
        return data


def drift_summary(results: list[HostResult]) -> dict:
    """Per host and role: steps in place (ok) and drifted (would change or blocked), and the fleet's drift percent."""
    hosts: dict[str, dict[str, dict]] = {}
    for result in results:
        roles = hosts.setdefault(result.name, {})
        for step in result.steps:
            counts = roles.setdefault(step.role, {"in_place": 0, "drifted": 0})
            if step.status == "ok":
                counts["in_place"] += 1
            elif step.status in ("changed", "blocked"):
                counts["drifted"] += 1
    for roles in hosts.values():
        for counts in roles.values():
            counts["percent"] = _percent(counts["drifted"], counts["in_place"] + counts["drifted"])
    drifted = sum(c["drifted"] for roles in hosts.values() for c in roles.values())
    total = drifted + sum(c["in_place"] for roles in hosts.values() for c in roles.values())
    return {"hosts": hosts, "drifted": drifted, "checked": total, "percent": _percent(drifted, total)}


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def exit_code(results: list[HostResult], check_mode: bool) -> int:
    """0 converged, 2 when check mode found changes (so cron/CI can alarm on drift), 1 on any failure."""
    if any(r.failed for r in results):
        return 1
    if check_mode and any(r.count("changed") for r in results):
        return 2
    return 0
