"""Runs role plans on hosts: facts in batches, check, apply what differs, handlers; hosts in parallel."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .confirm import Guard
from .connection import Connection, Target
from .errors import BlockedError, ConnectError, RemoteError, VpskitError
from .gather import has_all
from .inventory.model import Host
from .resources.base import Outcome
from .results import HostResult, StepResult
from .roles import Role, RolePlan
from .secrets import Masker, collect_secrets
from .session import HostSession


@dataclass
class RunOptions:
    check: bool = False
    diff: bool = False
    forks: int = 10
    trust_new_hosts: bool = False


def logins_for(host: Host) -> list[tuple[str, int]]:
    """Logins to try, hardened first: the admin user on the managed SSH port, then the inventory's login."""
    user, port = str(host.get("vpskit_user", "root")), int(host.get("vpskit_port", 22))
    admin, ssh_port = host.get("users_admin_name"), int(host.get("ssh_port", port))
    logins = [(admin, ssh_port), (admin, port)] if admin and admin != user else []
    logins += [(user, ssh_port), (user, port)]
    return list(dict.fromkeys(logins))


def target_for(host: Host, trust_new_hosts: bool = False, logins: list[tuple[str, int]] | None = None) -> Target:
    """Connection settings of a host from its merged variables."""
    known_hosts = [p for p in (host.get("vpskit_known_hosts"), "~/.ssh/known_hosts") if p]
    (user, port), *fallbacks = logins or logins_for(host)
    return Target(
        name=host.name,
        address=str(host.get("vpskit_host", host.name)),
        port=port,
        user=user,
        fallbacks=fallbacks,
        key_file=host.get("vpskit_ssh_key"),
        known_hosts=known_hosts,
        connect_timeout=float(host.get("vpskit_connect_timeout", 10)),
        connect_retries=int(host.get("vpskit_connect_retries", 2)),
        trust_new_hosts=trust_new_hosts,
    )


class HostRun:
    """Executes the plans of one host and records every step."""

    def __init__(self, host: Host, roles: list[Role], options: RunOptions, reporter):
        self.host, self.roles, self.options, self.reporter = host, roles, options, reporter
        self.masker = Masker(collect_secrets(host.values))
        self.result = HostResult(host.name)

    def record(self, role: str, title: str, status: str, reason: str, diff: str | None = None) -> None:
        step = StepResult(role, title, status, self.masker.mask(reason), self.masker.mask(diff) if diff else None)
        self.result.steps.append(step)
        self.reporter.step(self.host.name, step)

    def execute(self) -> HostResult:
        started = time.monotonic()
        connection = Connection(target_for(self.host, self.options.trust_new_hosts),
                                on_retry=lambda message: self.reporter.note(self.host.name, message))
        session = HostSession(self.host.name, connection, self.options.check, self.masker)
        try:
            connection.open()
            runtime = {"vpskit_login_user": connection.user, "vpskit_login_port": connection.port,
                       "vpskit_controller_address": connection.local_address()}
            plans = self._plans(runtime)
            self._run_plans(session, plans)
        except ConnectError as exc:
            self.result.unreachable = True
            self.result.error = self.masker.mask(str(exc))
        except VpskitError as exc:
            self.result.error = self.masker.mask(str(exc))
        except Exception as exc:  # noqa: BLE001 - one host's bug must not hide the others' results
            self.result.error = self.masker.mask(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
            self.result.connections = connection.connections_opened
            self.result.commands = connection.commands_run
            self.result.fact_batches = session.facts.batches
            self.result.facts = session.facts.gathered
            self.result.seconds = round(time.monotonic() - started, 3)
        self.reporter.host_done(self.result)
        return self.result

    def _plans(self, runtime: dict) -> list[RolePlan]:
        plans = []
        values = {**self.host.values, **runtime}
        for role in self.roles:
            try:
                plans.append(role.plan(values))
            except (VpskitError, ValueError, KeyError, TypeError) as exc:
                raise VpskitError(f"{self.host.name}: planning role {role.name}: {exc}") from None
        return plans

    def _run_plans(self, session: HostSession, plans: list[RolePlan]) -> None:
        steps = [(plan, res) for plan in plans for res in plan.resources]
        position = 0
        for plan in plans:
            notified: list[str] = []
            guard = self._guard(session, plan)
            try:
                for resource in plan.resources:
                    if not has_all(session.facts, resource.all_facts()):
                        # one round trip for everything still unknown from here to the end of the plan
                        session.facts.ensure(f for _p, r in steps[position:] for f in r.all_facts())
                    position += 1
                    self._step(session, plan.role, resource, notified, guard)
                self._handlers(session, plan, notified)
                if guard and guard.armed:
                    guard.verify(self._verify_target(session, plan))
                    guard.disarm()
                    self.record(plan.role, "fresh login confirmed", "ok",
                                "a new SSH connection works after the changes; automatic revert cancelled")
            except VpskitError as exc:
                if guard and guard.armed:
                    note = guard.rollback()
                    session.facts.invalidate()
                    self.record(plan.role, "revert", "changed" if not guard.armed else "failed", note)
                    raise RemoteError(self.host.name, f"role {plan.role}", f"{exc}; {note}") from None
                raise

    def _guard(self, session: HostSession, plan: RolePlan) -> Guard | None:
        if plan.confirm is None or self.options.check:
            return None
        paths = [p for r in plan.resources if r.guarded for p in r.paths()]
        return Guard(plan.confirm, paths, session, plan.role)

    def _verify_target(self, session: HostSession, plan: RolePlan) -> Target:
        if plan.verify_login == "final":
            login = logins_for(self.host)[0]
        else:
            login = (session.connection.user, session.connection.port)
        target = target_for(self.host, self.options.trust_new_hosts, logins=[login])
        # sshd re-executes on reload, so the port is briefly closed: retry a little, well inside the revert timer
        target.connect_retries = 3
        target.connect_timeout = min(target.connect_timeout, 8)
        return target

    def _step(self, session: HostSession, role: str, resource, notified: list[str], guard: Guard | None) -> None:
        try:
            skip = resource.skip_reason(session.facts)
            outcome = Outcome.skip(skip) if skip else resource.check(session.facts)
            if outcome.skipped:
                self.record(role, resource.title, "skipped", outcome.reason)
                return
            if outcome.blocked:
                if self.options.check:  # an earlier step that would change may resolve it
                    self.record(role, resource.title, "changed", f"blocked as the host is now: {outcome.reason}")
                    return
                self.record(role, resource.title, "blocked", outcome.reason)
                raise BlockedError(self.host.name, resource.title, outcome.reason)
            if not outcome.changed:
                self.record(role, resource.title, "ok", outcome.reason)
                return
            if not self.options.check:
                if guard and resource.guarded and not guard.armed:
                    guard.arm()
                resource.apply(session, outcome)
                resource.invalidate(session.facts)
            diff = "(diff hidden: secret content)\n" if (resource.secret and outcome.diff) else outcome.diff
            self.record(role, resource.title, "changed", outcome.reason, diff)
            notified += [n for n in resource.notify if n not in notified]
        except BlockedError:
            raise
        except VpskitError as exc:
            self.record(role, resource.title, "failed", str(exc))
            raise

    def _handlers(self, session: HostSession, plan: RolePlan, notified: list[str]) -> None:
        known = {h.name for h in plan.handlers}
        for name in notified:
            if name not in known:
                raise VpskitError(f"{self.host.name}: role {plan.role} notifies unknown handler {name!r}")
        for handler in plan.handlers:
            if handler.name not in notified:
                continue
            if self.options.check:
                self.record(plan.role, f"handler {handler.name}", "changed", "would run (notified)")
                continue
            try:
                handler.run(session)
            except VpskitError as exc:
                self.record(plan.role, f"handler {handler.name}", "failed", str(exc))
                raise
            self.record(plan.role, f"handler {handler.name}", "changed", f"ran `{handler.command}`")


def run(hosts: list[Host], roles: list[Role], options: RunOptions, reporter) -> list[HostResult]:
    """Runs every host in parallel (at most `forks` at once); one host's failure never stops the others."""
    reporter.start([h.name for h in hosts], options.check)
    with ThreadPoolExecutor(max_workers=max(1, options.forks)) as pool:
        results = list(pool.map(lambda h: HostRun(h, roles, options, reporter).execute(), hosts))
    reporter.finish(results)
    return results
