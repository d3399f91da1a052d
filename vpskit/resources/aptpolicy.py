"""apt's effective security-update policy (`apt-config dump`): periodic runs on, a security origin allowed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..facts.base import q
from ..facts.files import FileFact
from ..facts.packages import AptPolicyFact
from .base import Outcome, Plan, Resource
from .files import BACKUP_ROOT


PERIODIC = ("Update-Package-Lists", "Unattended-Upgrade")
ORIGINS = ("Unattended-Upgrade::Origins-Pattern", "Unattended-Upgrade::Allowed-Origins")
TURNS_OFF = re.compile(r'APT::Periodic::(Update-Package-Lists|Unattended-Upgrade)\s+"(0|false|never)?"', re.I)
DISABLED = "// disabled by vpskit (turned off security updates): "


def policy_problems(values: dict[str, list[str]]) -> list[str]:
    """What keeps apt from installing security updates by itself: a periodic run off, no security origin. Pure."""
    problems = []
    for key in PERIODIC:
        value = (values.get(f"APT::Periodic::{key}") or [""])[-1]
        if value.lower() in ("", "0", "false", "never"):
            problems.append(f"APT::Periodic::{key} is {value or 'unset'}")
    origins = [v for key in ORIGINS for v in values.get(key, []) if v]
    if not any("security" in origin.lower() for origin in origins):
        problems.append("no security origin in Unattended-Upgrade::Origins-Pattern or Allowed-Origins")
    return problems


def policy_offenders(lines: list[tuple[str, int, str]], own: list[str], origins_missing: bool) -> list[tuple[str, int, str]]:
    """Lines outside vpskit's files that turn a periodic run off, or clear the origins when none is left. Pure."""
    found = []
    for path, number, text in lines:
        stripped = text.strip()
        if path in own or stripped.startswith("//"):
            continue
        clears = stripped.startswith("#clear") and any(key in stripped for key in ORIGINS)
        if TURNS_OFF.search(stripped) or (origins_missing and clears):
            found.append((path, number, stripped))
    return found


@dataclass(frozen=True)
class CommentOutPlan(Plan):
    """The (path, line number, text) of each line outside vpskit's files to comment out."""

    lines: tuple[tuple[str, int, str], ...]


class AptPolicy(Resource):
    """apt's effective settings install security updates: periodic runs on, a security origin allowed.

    `own` maps vpskit's own apt.conf.d files to their content; a line elsewhere that turns the policy off is
    commented out (the file backed up first)."""

    kind = "apt-policy"

    def __init__(self, own: dict[str, str], **kwargs):
        super().__init__(kwargs.pop("name", "security updates in effect"), **kwargs)
        self.own = dict(own)

    def facts(self):
        return [AptPolicyFact(), *(FileFact(path) for path in self.own)]

    def check(self, facts) -> Outcome:
        policy = facts.get(AptPolicyFact())
        problems = policy_problems(policy["values"])
        if not problems:
            return Outcome.ok("apt-config: periodic package lists and unattended-upgrade on, a security origin allowed")
        origins_missing = any("origin" in p for p in problems)
        found = policy_offenders(policy["lines"], list(self.own), origins_missing)
        if found:
            shown = "; ".join(f"{path}:{number}: {text}" for path, number, text in found)
            return Outcome.change(f"{'; '.join(problems)}: comment out {shown}", plan=CommentOutPlan(tuple(found)))
        stale = [p for p, text in self.own.items() if facts.get(FileFact(p)).content != text.encode()]
        if stale:
            return Outcome.ok(f"{'; '.join(problems)}; {', '.join(stale)}: not as vpskit writes it yet (the file "
                              "steps above rewrite it)")
        return Outcome.block(f"{'; '.join(problems)}, and no line vpskit can read in /etc/apt/apt.conf.d says why")

    def apply(self, session, outcome: Outcome[CommentOutPlan]) -> None:
        commands = ["set -e", "stamp=$(date -u +%Y%m%dT%H%M%SZ)"]
        by_path: dict[str, list[int]] = {}
        for path, number, _text in outcome.plan.lines:
            by_path.setdefault(path, []).append(number)
        for path, numbers in by_path.items():
            edits = " ".join(f"-e {q(f'{n}s|^|{DISABLED}|')}" for n in sorted(numbers))
            commands += [f"p={q(path)}", f'mkdir -p {BACKUP_ROOT}"$(dirname "$p")"',
                         f'cp -p "$p" {BACKUP_ROOT}"$p.$stamp"', f'sed -i {edits} "$p"']
        session.run("\n".join(commands), step=self.title)
