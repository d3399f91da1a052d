"""Runs one play's role plans on one host: facts in batches, check, apply what differs, handlers, exports."""

from __future__ import annotations

from typing import Callable

from .confirm import Guard
from .connection import Target
from .errors import BlockedError, RemoteError, VpskitError
from .exports import Export, Published
from .facts.base import Fact
from .foresight import gathered_up_front
from .gather import has_all
from .resources.base import FlushHandlers, Outcome, Resource
from .role import Login, RolePlan
from .session import HostSession

Record = Callable[..., None]  # (role, title, status, reason, diff, upgrade=None)


class PlanExecutor:
    """Executes plans in order on one host session and records every step through `record`."""

    def __init__(self, session: HostSession, check: bool, record: Record,
                 verify_target: Callable[[Login | None], Target], play: str = "",
                 proven: Callable[[Target, "str | None"], None] = lambda target, identity: None):
        self.session, self.check, self.record = session, check, record
        self.verify_target, self.play = verify_target, play
        # told of each login a fresh connection proved, so the next run starts with it
        self.proven = proven
        # steps and handlers of this play on this host that changed (or would): after_change steps read it
        self.changed = 0

    def run(self, plans: list[RolePlan], first_facts: list[Fact] = (),
            preflight: Callable[[object], None] = lambda facts: None, ahead: list[Fact] = ()) -> list[Published]:
        """Applies every plan; returns what the plans publish. Raises on the first failed or blocked step.

        `first_facts` ride first in the play's one fact round trip, `ahead` (what later plays will read,
        foresight.py) last; `preflight(facts)` may stop the host before any step runs (the run's lock on the host).
        """
        steps = [res for plan in plans for res in plan.resources]
        self.session.facts.ensure([*first_facts, *gathered_up_front(plans), *ahead])
        preflight(self.session.facts)
        published: list[Published] = []
        position = 0
        for plan in plans:
            notified: list[str] = []
            # restarts a later start made needless: handler name -> the unit started
            superseded: dict[str, str] = {}
            guard = self._guard(plan)
            try:
                for resource in plan.resources:
                    if isinstance(resource, FlushHandlers):
                        position += 1
                        self._handlers(plan, notified, guard, superseded)
                        notified.clear()
                        continue
                    if not resource.after_change and not has_all(self.session.facts, resource.all_facts()):
                        # one round trip for everything still unknown from here to the end of the play
                        self.session.facts.ensure(_facts_of(steps[position:]))
                    position += 1
                    started = self._step(plan.role, resource, notified, guard)
                    superseded.update(_drop_restarts(plan, notified, started or ()))
                self._handlers(plan, notified, guard, superseded)
                if guard and guard.armed:
                    target = self._confirm_target(plan)
                    identity = guard.verify(target)
                    guard.disarm()
                    self.proven(target, identity)
                    self.record(plan.role, "fresh login confirmed", "ok",
                                "a new SSH connection works after the changes; automatic revert cancelled", None)
            except (Exception, KeyboardInterrupt) as exc:
                if not (guard and guard.armed):
                    raise
                # whatever stopped the apply (a failed step, a timeout, a dropped session, ^C): revert now or
                # say truly that the host will
                note = guard.rollback()
                self.session.facts.invalidate()
                self.record(plan.role, "revert", "changed" if not guard.armed else "failed", note, None)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                what = str(exc) if isinstance(exc, VpskitError) else f"{type(exc).__name__}: {exc}"
                raise RemoteError(self.session.name, f"role {plan.role}", f"{what}; {note}") from None
            published += [self._publish(plan.role, export) for export in plan.exports]
        return published

    def _guard(self, plan: RolePlan) -> Guard | None:
        if plan.confirm is None or self.check:
            return None
        facts = self.session.facts
        return Guard(plan.confirm, lambda: [p for r in plan.resources if r.guarded for p in r.paths_for(facts)],
                     self.session, plan.role)

    def _confirm_target(self, plan: RolePlan) -> Target:
        target = self.verify_target(plan.confirm_login)
        # sshd re-executes on reload, so the port is briefly closed: retry a little, well inside the revert timer
        target.connect_retries = 3
        target.connect_timeout = min(target.connect_timeout, 8)
        return target

    def _step(self, role: str, resource: Resource, notified: list[str], guard: Guard | None) -> list[str] | None:
        """Checks and applies one step; returns the units its change started (None when it did not change)."""
        facts = self.session.facts
        if resource.after_change and not self.changed:
            self.record(role, resource.title, "ok", "not needed: nothing changed on this host before it", None)
            return
        if resource.after_change and self.check:
            self.changed += 1
            self.record(role, resource.title, "changed", f"would {resource.title} after the changes before it", None)
            return
        try:
            skip = resource.skip_reason(facts)
            outcome = Outcome.skip(skip) if skip else resource.check(facts)
            if outcome.skipped:
                self.record(role, resource.title, "skipped", outcome.reason, None)
                return
            if outcome.blocked:
                if self.check:  # an earlier step that would change may resolve it
                    self.changed += 1
                    self.record(role, resource.title, "changed", f"blocked as the host is now: {outcome.reason}", None)
                    return
                self.record(role, resource.title, "blocked", outcome.reason, None)
                raise BlockedError(self.session.name, resource.title, outcome.reason)
            if not outcome.changed:
                self.record(role, resource.title, "ok", outcome.reason, None)
                return
            if not self.check:
                if guard and resource.guarded and not guard.armed:
                    guard.arm()
                resource.apply(_steps_session(self.session, guard), outcome)
                resource.invalidate(facts)
            diff = "(diff hidden: secret content)\n" if (resource.secret and outcome.diff) else outcome.diff
            self.changed += 1
            self.record(role, resource.title, "changed", outcome.reason, diff, outcome.upgrade)
            notified += [n for n in resource.notify if n not in notified]
            return resource.starts(outcome)
        except BlockedError:
            raise
        except VpskitError as exc:
            self.record(role, resource.title, "failed", str(exc), None)
            raise
        except Exception as exc:  # a timeout or a dropped session: the step still shows as failed
            self.record(role, resource.title, "failed", f"{type(exc).__name__}: {exc}", None)
            raise

    def _handlers(self, plan: RolePlan, notified: list[str], guard: Guard | None,
                  superseded: dict[str, str] | None = None) -> None:
        known = {h.name for h in plan.handlers}
        for name in notified:
            if name not in known:
                raise VpskitError(f"{self.session.name}: role {plan.role} notifies unknown handler {name!r}")
        for handler in plan.handlers:
            title = f"handler {handler.name}"
            if handler.name not in notified:
                if superseded and handler.name in superseded:
                    self.record(plan.role, title, "ok", f"not needed: {superseded.pop(handler.name)} was started "
                                "after the change that notified it, with the configuration as it is now", None)
                continue
            if superseded:
                superseded.pop(handler.name, None)  # notified again after the start: it runs
            self.changed += 1
            if self.check:
                self.record(plan.role, title, "changed", getattr(handler, "would", "would run (notified)"), None)
                continue
            try:
                said = handler.run(_steps_session(self.session, guard))
            except VpskitError as exc:
                self.record(plan.role, title, "failed", str(exc), None)
                raise
            finally:
                handler.invalidate(self.session.facts)
            self.record(plan.role, title, "changed", said or f"ran `{handler.command}`", None)

    def _publish(self, role: str, export: Export) -> Published:
        predicted = False
        if export.fact is None:
            value = export.value
        else:
            raw = self.session.facts.get(export.fact)
            value = export.extract(raw) if export.extract else raw
            if value is None:
                if not self.check:
                    raise BlockedError(self.session.name, f"role {role}: publish {export.name}",
                                       f"the host does not show it ({export.fact!r} gave {_short(raw)})")
                value, predicted = export.predict, True
        shown = "(secret)" if export.secret else _short(value)
        self.record(role, f"publish {export.name}", "ok", f"{'predicted ' if predicted else ''}{shown}", None)
        return Published(export.name, value, self.session.name, self.play, export.secret, predicted)


def _steps_session(session: HostSession, guard: Guard | None):
    """Inside an armed window every command holds it (vpskit/confirm.py); elsewhere the plain session."""
    return guard.window() if guard and guard.armed else session


def _drop_restarts(plan: RolePlan, notified: list[str], started) -> dict[str, str]:
    """Takes out of `notified` the handlers restarting a unit a step just started (it read the configuration
    the changes so far wrote); returns them, handler name -> unit. A change after the start notifies again."""
    dropped = {h.name: h.restarts for h in plan.handlers if h.restarts in started and h.name in notified}
    notified[:] = [n for n in notified if n not in dropped]
    return dropped


def _facts_of(resources: list[Resource]) -> list[Fact]:
    """The facts to gather up front: an after_change step reads its own, when it runs."""
    return [f for r in resources if not r.after_change for f in r.all_facts()]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
