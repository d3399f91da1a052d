"""systemd services: enabled at boot and running (or not)."""

from __future__ import annotations

from dataclasses import dataclass

from ..facts.base import q
from ..facts.services import ServiceFact
from .base import Outcome, Plan, Resource, forget_changes

ENABLED_LIKE = {"enabled", "enabled-runtime", "linked", "linked-runtime"}
NOT_ENABLEABLE = {"static", "indirect", "generated", "transient", "alias"}


@dataclass(frozen=True)
class ServicePlan(Plan):
    """The systemctl verbs to run, in order (unmask, enable, disable, start, stop)."""

    actions: tuple[str, ...]


class Service(Resource):
    """A unit's enablement and activity; `None` leaves that aspect alone."""

    kind = "service"

    def __init__(self, unit: str, enabled: bool | None = True, running: bool | None = True,
                 changes: list[str] | None = None, **kwargs):
        super().__init__(kwargs.pop("name", unit), **kwargs)
        self.unit, self.enabled, self.running = unit, enabled, running
        # paths starting it may write; None: anything (a service may create files on start)
        self.changes = changes

    def facts(self):
        return [ServiceFact(self.unit)]

    def check(self, facts) -> Outcome:
        state = facts.get(ServiceFact(self.unit))
        if state["LoadState"] == "not-found":
            return Outcome.block(f"unit {self.unit} does not exist")
        actions, ok = [], []
        file_state = state["UnitFileState"]
        if self.enabled is True:
            if file_state in ENABLED_LIKE:
                ok.append("enabled")
            elif file_state in NOT_ENABLEABLE:
                ok.append(f"{file_state} (not enableable)")
            else:
                actions.append("unmask" if file_state == "masked" else "enable")
                if file_state == "masked":
                    actions.append("enable")
        elif self.enabled is False:
            if file_state in ENABLED_LIKE:
                actions.append("disable")
            else:
                ok.append(f"not enabled ({file_state or 'unknown'})")
        active = state["ActiveState"] in ("active", "reloading", "activating")
        condition_failed = state["ConditionResult"] == "no" and state.get("ConditionTimestampMonotonic", "0") not in ("", "0")
        if self.running is True and not active and condition_failed and not actions:
            return Outcome.skip(f"{self.unit} does not start here: its start condition fails "
                                "(e.g. ConditionVirtualization in a container)")
        if self.running is True:
            (ok.append("running") if active else actions.append("start"))
        elif self.running is False:
            (actions.append("stop") if active else ok.append("stopped"))
        if actions:
            return Outcome.change(f"{' + '.join(actions)} {self.unit}", plan=ServicePlan(tuple(actions)))
        return Outcome.ok(f"{self.unit} is {', '.join(ok) or 'as declared'}")

    def apply(self, session, outcome: Outcome[ServicePlan]) -> None:
        commands = [f"systemctl {action} {q(self.unit)}" for action in outcome.plan.actions]
        session.run(" && ".join(commands), step=self.title, timeout=300)

    def invalidate(self, facts) -> None:
        forget_changes(facts, self.changes)
