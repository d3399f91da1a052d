"""The Resource contract (facts → check → apply) and the outcome every check returns."""

from __future__ import annotations

from dataclasses import dataclass

from ..facts.base import Fact


@dataclass
class Outcome:
    """The result of a check: a change to make (with a summary and diff) or a reason nothing changes."""

    changed: bool
    reason: str
    diff: str | None = None
    skipped: bool = False
    plan: object = None  # resource-specific detail of what apply must do
    # the step cannot proceed (a directory where a file belongs, a unit that does not exist): never applied
    blocked: bool = False
    # (from, to) when the change moves a version (a binary upgraded): read by tasks, never parsed from `reason`
    upgrade: tuple[str, str] | None = None

    @classmethod
    def ok(cls, reason: str) -> "Outcome":
        return cls(False, reason)

    @classmethod
    def skip(cls, reason: str) -> "Outcome":
        return cls(False, reason, skipped=True)

    @classmethod
    def block(cls, reason: str) -> "Outcome":
        return cls(False, reason, blocked=True)

    @classmethod
    def change(cls, reason: str, diff: str | None = None, plan: object = None) -> "Outcome":
        return cls(True, reason, diff, plan=plan)


class Resource:
    """A desired state on a host. Subclasses declare facts, compare them, and apply the difference."""

    kind = "resource"
    # set by roles whose changes are commit-confirmed (see vpskit/confirm.py)
    guarded = False
    # a step that matters only after an earlier step of the play changed this host (a readiness wait after a
    # restart): when nothing did, it is ok without reading its facts, which no up-front round trip gathers
    after_change = False

    def __init__(self, name: str, notify: tuple[str, ...] | list[str] = (), secret: bool = False):
        self.name = name
        self.notify = tuple(notify)
        self.secret = secret

    conditions: tuple = ()

    def when(self, fact: Fact, predicate, reason: str) -> "Resource":
        """Skip this resource (with `reason`) unless predicate(fact value) holds on the host."""
        self.conditions = (*self.conditions, (fact, predicate, reason))
        return self

    def all_facts(self) -> list[Fact]:
        return self.facts() + [fact for fact, _p, _r in self.conditions]

    def skip_reason(self, facts) -> str | None:
        for fact, predicate, reason in self.conditions:
            if not predicate(facts.get(fact)):
                return reason
        return None

    def paths(self) -> list[str]:
        """Files this resource may change (snapshotted before commit-confirmed changes)."""
        path = getattr(self, "path", None)
        return [path] if path else []

    def paths_for(self, facts) -> list[str]:
        """The paths to snapshot, asked when a commit-confirmed role arms; some depend on what the host holds."""
        return self.paths()

    @property
    def title(self) -> str:
        return f"{self.kind} {self.name}"

    def facts(self) -> list[Fact]:
        return []

    def check(self, facts) -> Outcome:
        raise NotImplementedError

    def apply(self, session, outcome: Outcome) -> None:
        raise NotImplementedError

    def invalidate(self, facts) -> None:
        """After a change: forget the facts it may have altered (by default, all of them)."""
        facts.invalidate()


def forget_changes(facts, paths: list[str] | None) -> None:
    """Forgets the facts about `paths`, or every fact when what changed is not declared."""
    if paths is None:
        facts.invalidate()
    else:
        facts.invalidate(lambda key: key[0] == "ServiceFact", paths=paths)


class Handler:
    """A command run once at the end of a role when a changed step notified it (restart, reload…)."""

    def __init__(self, name: str, command: str, changes: list[str] | None = None):
        self.name = name
        self.command = command
        # paths the command may change; None: anything (a restarted service may write any file)
        self.changes = changes

    def run(self, session) -> str | None:
        """Runs the handler; a subclass may return what it did, which the step reports instead of the command."""
        session.run(self.command, step=f"handler {self.name}")
        return None

    def invalidate(self, facts) -> None:
        """After it ran: forget what it may have changed, so later steps read the host afresh."""
        forget_changes(facts, self.changes)

    @classmethod
    def restart(cls, unit: str) -> "Handler":
        return cls(f"restart {unit}", f"systemctl restart {unit}")

    @classmethod
    def reload(cls, unit: str) -> "Handler":
        return cls(f"reload {unit}", f"systemctl reload-or-restart {unit}")


class FlushHandlers(Resource):
    """Runs the handlers notified so far here, not at the end of the role (a restart before a readiness wait)."""

    kind = "flush-handlers"

    def __init__(self):
        super().__init__("notified handlers")
