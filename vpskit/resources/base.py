"""The Resource contract (facts → check → apply), the typed plan a check hands to apply, and the outcome."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Generic, Iterable, TypeVar

from ..facts.base import Fact
from ..facts.services import ServiceFact


@dataclass(frozen=True)
class VersionChange:
    """A change that moves something from one version to another (a binary upgraded): typed, never parsed from text."""

    what: str
    old: str
    new: str


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What apply must do, decided by check from the facts: each resource subclasses it with its own fields.

    `version` says when the change moves a version (a run's caller reads it from the outcome, not the reason)."""

    version: VersionChange | None = None


P = TypeVar("P", bound=Plan)


@dataclass(frozen=True)
class Outcome(Generic[P]):
    """The result of a check: a change to make (with a summary, diff and typed plan) or a reason nothing changes."""

    changed: bool
    reason: str
    diff: str | None = None
    skipped: bool = False
    plan: P | None = None  # the resource's own Plan subclass: what apply must do
    # the step cannot proceed (a directory where a file belongs, a unit that does not exist): never applied
    blocked: bool = False
    # (from, to) when the change moves a version, as the step's result carries it: read by tasks, never parsed
    # from `reason`; filled from the plan's VersionChange (a resource without a Plan may give it itself)
    upgrade: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.upgrade is None and self.version is not None:
            object.__setattr__(self, "upgrade", (self.version.old, self.version.new))

    @property
    def version(self) -> VersionChange | None:
        """The version this change moves, when its plan says (see Plan.version)."""
        return self.plan.version if isinstance(self.plan, Plan) else None

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
    def change(cls, reason: str, diff: str | None = None, plan: P | None = None) -> "Outcome[P]":
        return cls(True, reason, diff, plan=plan)


class ImmutableResource(TypeError):
    """An attribute of a built resource was set: what apply needs travels in the check's plan instead."""


class _Built(type):
    """Seals each resource once its constructor (the most derived one, with all its super() calls) returns."""

    def __call__(cls, *args, **kwargs):
        resource = super().__call__(*args, **kwargs)
        object.__setattr__(resource, "_built", True)
        return resource


class Resource(metaclass=_Built):
    """A desired state on a host, built once and never changed: subclasses declare facts, compare them in
    `check` (which returns an Outcome carrying their own Plan) and apply the difference from that plan."""

    kind = "resource"
    # a step that matters only after an earlier step of the play changed this host (a readiness wait after a
    # restart): when nothing did, it is ok without reading its facts, which no up-front round trip gathers
    after_change = False
    conditions: tuple = ()

    def __init__(self, name: str, notify: tuple[str, ...] | list[str] = (), secret: bool = False,
                 guarded: bool = False, guarded_paths: Iterable[str] | None = None):
        self.name = name
        self.notify = tuple(notify)
        self.secret = secret
        # a step of a role whose changes are commit-confirmed (see vpskit/confirm.py)
        self.guarded = guarded
        # the files a guarded change may touch, when they are not just the resource's own `path`
        self.guarded_paths = tuple(guarded_paths) if guarded_paths is not None else None

    def __setattr__(self, name: str, value) -> None:
        if self.__dict__.get("_built"):
            raise ImmutableResource(
                f"{self.title}: a resource is not changed after it is built (set {name} when constructing "
                "it; what apply needs goes in the plan its check returns)")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self.__dict__.get("_built"):
            raise ImmutableResource(f"{self.title}: a resource is not changed after it is built (del {name})")
        object.__delattr__(self, name)

    def when(self, fact: Fact, predicate, reason: str) -> "Resource":
        """A copy of this resource that is skipped (with `reason`) unless predicate(fact value) holds on the host."""
        twin = copy.copy(self)
        object.__setattr__(twin, "conditions", (*self.conditions, (fact, predicate, reason)))
        return twin

    def all_facts(self) -> list[Fact]:
        return self.facts() + [fact for fact, _p, _r in self.conditions]

    def skip_reason(self, facts) -> str | None:
        for fact, predicate, reason in self.conditions:
            if not predicate(facts.get(fact)):
                return reason
        return None

    def paths(self) -> list[str]:
        """Files this resource may change (snapshotted before commit-confirmed changes)."""
        if self.guarded_paths is not None:
            return list(self.guarded_paths)
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
        """Makes the change `outcome.plan` describes (the plan this resource's check returned)."""
        raise NotImplementedError

    def invalidate(self, facts) -> None:
        """After a change: forget the facts it may have altered (by default, all of them)."""
        facts.invalidate()

    def starts(self, outcome: Outcome) -> list[str]:
        """The units this change starts: each reads its configuration as it is now, so a restart notified
        before it is not needed (the run drops it)."""
        return []


def forget_changes(facts, paths: list[str] | None) -> None:
    """Forgets the facts about `paths` and every service's state, or every fact when what changed is not declared."""
    if paths is None:
        facts.invalidate()
    else:
        facts.invalidate(kinds=[ServiceFact], paths=paths)


class Handler:
    """A command run once at the end of a role when a changed step notified it (restart, reload…)."""

    def __init__(self, name: str, command: str, changes: list[str] | None = None, restarts: str | None = None):
        self.name = name
        self.command = command
        # paths the command may change; None: anything (a restarted service may write any file)
        self.changes = changes
        # the unit this handler restarts: not run when a later step of the role started that unit
        self.restarts = restarts

    def run(self, session) -> str | None:
        """Runs the handler; a subclass may return what it did, which the step reports instead of the command."""
        session.run(self.command, step=f"handler {self.name}")
        return None

    def invalidate(self, facts) -> None:
        """After it ran: forget what it may have changed, so later steps read the host afresh."""
        forget_changes(facts, self.changes)

    @classmethod
    def restart(cls, unit: str) -> "Handler":
        return cls(f"restart {unit}", f"systemctl restart {unit}", restarts=unit)

    @classmethod
    def reload(cls, unit: str) -> "Handler":
        return cls(f"reload {unit}", f"systemctl reload-or-restart {unit}")


class FlushHandlers(Resource):
    """Runs the handlers notified so far here, not at the end of the role (a restart before a readiness wait)."""

    kind = "flush-handlers"

    def __init__(self):
        super().__init__("notified handlers")
