"""ufw: tagged rules (undeclared tagged rules removed, others left alone), default policies, enabled."""

from __future__ import annotations

from dataclasses import dataclass

from ..facts.base import q
from ..facts.ufw import CHAINS, FAMILIES, RULE_FILES, UfwFact, UfwRule, families_of
from .base import Outcome, Plan, Resource


def rule_changes(live: list[UfwRule], wanted: list[UfwRule], tag: str) -> tuple[list[UfwRule], list[UfwRule]]:
    """(rules to add, tagged rules to delete). Rules without our tag are never touched. Pure."""
    add = [r for r in wanted if r not in live]
    delete = [r for r in live if r.comment.startswith(tag) and r not in wanted]
    return add, delete


def family_gaps(state: dict, wanted: list[UfwRule]) -> dict[UfwRule, list[str]]:
    """Declared rules missing from the rules file of an address family they belong in, with those families. Pure."""
    per_family = state.get("family_rules")
    if per_family is None:  # no per-file view: each rule counts as present in all its families
        per_family = {f: state["rules"] for f in FAMILIES}
    gaps: dict[UfwRule, list[str]] = {}
    for rule in wanted:
        missing = [f for f in families_of(rule, state.get("ipv6", True)) if rule not in per_family[f]]
        if missing:
            gaps[rule] = missing
    return gaps


def live_gaps(state: dict) -> list[str]:
    """Families whose kernel chain holds another number of rules than the file ufw loads it from. Pure."""
    found = []
    for family in FAMILIES:
        live = state.get("live_rules", {}).get(family)
        if live is None or (family == "v6" and not state.get("ipv6", True)):
            continue
        wanted = state["chain_rules"][family]
        if live != wanted:
            found.append(f"the kernel's {CHAINS[family]} chain holds "
                         f"{live} rule(s), {RULE_FILES[family]} {wanted}")
    return found


def _require_ufw(state: dict) -> Outcome | None:
    return None if state["installed"] else Outcome.block("ufw is not installed")


@dataclass(frozen=True)
class RulesPlan(Plan):
    """Tagged rules to add (first, so the SSH rule exists before any other goes) and to delete."""

    add: tuple[UfwRule, ...]
    delete: tuple[UfwRule, ...]


@dataclass(frozen=True)
class UfwCommandsPlan(Plan):
    """The ufw commands that set the policies, logging and state, in order."""

    commands: tuple[str, ...]


class _UfwResource(Resource):
    """Shared by ufw resources: one fact, and a clear failure when ufw is not installed."""

    def facts(self):
        return [UfwFact()]

    def live(self, facts) -> tuple[dict, Outcome | None]:
        state = facts.get(UfwFact())
        return state, _require_ufw(state)


class UfwRules(_UfwResource):
    kind = "ufw-rules"

    def __init__(self, rules: list[UfwRule], tag: str = "vpskit", **kwargs):
        super().__init__(kwargs.pop("name", f"{len(rules)} tagged rule(s)"), **kwargs)
        self.rules, self.tag = list(dict.fromkeys(rules)), tag  # declared order: ufw matches first rule first
        for rule in self.rules:
            if not rule.comment.startswith(tag):
                raise ValueError(f"ufw rule {rule.label()}: comment must start with {tag!r} so vpskit can manage it")

    def check(self, facts) -> Outcome:
        state, missing = self.live(facts)
        if missing:
            return missing
        add, delete = rule_changes(state["rules"], self.rules, self.tag)
        gaps = family_gaps(state, self.rules)
        add += [r for r in gaps if r not in add]
        if not add and not delete:
            untagged = sum(1 for r in state["rules"] if not r.comment.startswith(self.tag))
            return Outcome.ok(f"{len(self.rules)} tagged rule(s) as declared"
                              + (f"; {untagged} untagged rule(s) left alone" if untagged else ""))
        parts = [f"add {r.label()}" + _only(r, gaps.get(r), state) for r in add] + [f"delete {r.label()}" for r in delete]
        return Outcome.change("; ".join(parts), plan=RulesPlan(tuple(add), tuple(delete)))

    def apply(self, session, outcome: Outcome[RulesPlan]) -> None:
        # additions first, so the SSH rule exists before any other rule goes
        commands = [f"ufw {r.spec()} comment {q(r.comment)}" for r in outcome.plan.add]
        commands += [f"ufw delete {r.spec()}" for r in outcome.plan.delete]
        session.run(" && ".join(f"{c} >/dev/null" for c in commands), step=self.title)


def _only(rule: UfwRule, families: list[str] | None, state: dict) -> str:
    """" (IPv6 only)" when a rule is missing from one of the families it belongs in, not all."""
    if not families or len(families) == len(families_of(rule, state.get("ipv6", True))):
        return ""
    return f" ({'IPv6' if families == ['v6'] else 'IPv4'} only)"


class UfwPolicy(_UfwResource):
    """Default policies, logging level, and ufw enabled (after the rules, so SSH is allowed first)."""

    kind = "ufw"

    def __init__(self, incoming: str = "deny", outgoing: str = "allow", routed: str = "deny", logging: str = "low",
                 enabled: bool = True, **kwargs):
        super().__init__(kwargs.pop("name", "policies and state"), **kwargs)
        self.policies = {"incoming": incoming, "outgoing": outgoing, "routed": routed}
        self.logging, self.enabled = logging, enabled

    def check(self, facts) -> Outcome:
        state, missing = self.live(facts)
        if missing:
            return missing
        commands, parts = [], []
        for direction, policy in self.policies.items():
            if state["policies"].get(direction) != policy:
                commands.append(f"ufw default {q(policy)} {direction}")
                parts.append(f"{direction} {state['policies'].get(direction)} → {policy}")
        if state["logging"] != self.logging:
            commands.append(f"ufw logging {q(self.logging)}")
            parts.append(f"logging {state['logging']} → {self.logging}")
        if self.enabled and not (state["active"] and state["enabled"]):
            commands.append("ufw --force enable")
            parts.append("enable ufw")
        elif not self.enabled and (state["active"] or state["enabled"]):
            commands.append("ufw --force disable")
            parts.append("disable ufw")
        elif self.enabled and live_gaps(state):
            # rules flushed from the kernel (or added by hand) while the files are intact: load the files again
            commands.append("ufw reload")
            parts += [f"{gap}: reload" for gap in live_gaps(state)]
        if not commands:
            return Outcome.ok(f"{'active' if state['active'] else 'inactive'}; incoming {self.policies['incoming']}, "
                              f"outgoing {self.policies['outgoing']}, routed {self.policies['routed']}; "
                              f"logging {self.logging}")
        return Outcome.change("; ".join(parts), plan=UfwCommandsPlan(tuple(commands)))

    def apply(self, session, outcome: Outcome[UfwCommandsPlan]) -> None:
        session.run(" && ".join(f"{c} >/dev/null" for c in outcome.plan.commands), step=self.title)
