"""Runs plays across hosts: one SSH session per host for the whole run, serial batches, exports, failures."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .connection import Connection
from .context import ExportsView, InventoryView, PlanContext
from .errors import ConnectError, VpskitError
from .exports import ExportStore
from .facts.leftovers import StaleTempsSwept
from .facts.lock import HostLockFact, LockState, new_run_id
from .foresight import ForeseenExports, foreseen_facts, gathered_up_front
from .hostrun import PlanExecutor
from .inventory.model import Host, Inventory
from .keys import Keychain
from .knownlogins import Remembered
from .logins import LoginPlan, fell_back, plan_logins, plan_target, remember, target_for, worked
from .openplan import Background, expected_runtime
from .onehost import MAX_LOCK_WAIT, lock_fact, refuse_if_held  # noqa: F401 - MAX_LOCK_WAIT read from here too
from .playbook import Play, batches, select
from .role import Login, Role, RolePlan
from .results import HostResult, PlayResult, StepResult
from .roleloader import RoleLibrary
from .secrets import Masker, collect_secrets
from .session import HostSession
from .templating import Templates


@dataclass
class RunOptions:
    check: bool = False
    diff: bool = False
    # hosts at once, as the command line's --forks (cli/options.py): a host mostly waits on its network
    forks: int = 50
    trust_new_hosts: bool = False
    # the run changes nothing on its hosts (it writes on the controller alone: a file fetched): it looks at the
    # host lock as a check run does, waiting while an apply holds it, and takes none
    reads_only: bool = False


@dataclass
class HostState:
    """One host across the plays of a run: its session (opened once), results, and whether it dropped out."""

    host: Host
    logins: LoginPlan
    result: HostResult
    # the login the next run should start with: the one that opened the session, or one a fresh login proved
    works: Remembered | None = None
    connection: Connection | None = None
    session: HostSession | None = None
    runtime: dict = field(default_factory=dict)
    seconds: float = 0.0
    # facts gathered at the host's first play for its later plays only (foresight.py): dropped once it changes
    foreseen: list = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.result.error is None


class Run:
    """One `invoke bootstrap` (or a single role): plays in order over the selected hosts."""

    def __init__(self, inventory: Inventory, hosts: list[Host], plays: list[Play], library: RoleLibrary,
                 templates: Templates, options: RunOptions, reporter, connect=Connection,
                 login_roles: list[Role] | None = None):
        self.inventory, self.plays, self.library, self.connect = inventory, plays, library, connect
        self.templates, self.options, self.reporter = templates, options, reporter
        self.masker = Masker(set().union(*(collect_secrets(h.values) | h.secrets for h in inventory.hosts.values())))
        self.exports = ExportStore(on_secret=self.masker.add)
        # every known role's logins, not only this run's: `invoke base` must find its way into a hardened host
        known = login_roles if login_roles is not None else library.all()
        running = [library.load(name) for play in plays for name in play.roles]
        known = [*known, *running]
        # no login is tried that cannot work: the user's own roles that leave none cannot have moved it
        own = login_roles is None and bool(running) and all(r.origin != "built-in" for r in running)
        self.states = {h.name: HostState(h, plan_logins(h, known, own and not any(r.logins(h.values) for r in running)),
                                         HostResult(h.name)) for h in hosts}
        self.play_results: list[PlayResult] = []
        self.run_id = new_run_id()
        self.keys = Keychain()  # a key's passphrase is asked once for every host and fresh login of the run

    def execute(self) -> list[HostResult]:
        self.reporter.start(list(self.states), self.options.check)
        try:
            with ThreadPoolExecutor(max_workers=max(1, self.options.forks)) as pool:
                for play in self.plays:
                    if not self._play(play, pool):
                        break
        finally:
            for state in self.states.values():
                self._close(state)
            self._remember()
        results = [s.result for s in self.states.values()]
        self.reporter.finish(results, self.play_results)
        return results

    def _play(self, play: Play, pool: ThreadPoolExecutor) -> bool:
        """Runs one play; False when it stopped the run (more failed hosts than it tolerates).

        A serial play first checks all its hosts together (check mode, the facts its apply will use); a host
        with nothing to change is done there, and only the hosts with changes go one batch at a time. A no-op
        costs what one host's check costs, and an upgrade still restarts one batch at a time.
        """
        roles = [self.library.load(name) for name in play.roles]
        chosen = [self.states[h.name] for h in select(self.inventory, play.hosts) if h.name in self.states]
        states = [s for s in chosen if s.active]
        record = PlayResult(play.name, [s.host.name for s in states], play.serial)
        self.reporter.play_start(play.name, record.hosts, play.serial)
        tolerated = play.tolerated_failures
        failed: list[str] = []
        rounds = [states]
        if play.serial is not None:
            settled = list(pool.map(lambda state: self._play_on_host(play, roles, state, settle=True), states))
            changing = [s for s, done in zip(states, settled) if s.active and not done]
            rounds = [[s for s in states if not s.active], *batches(changing, play.serial)]
        for index, batch in enumerate(rounds):
            if index or play.serial is None:
                list(pool.map(lambda state: self._play_on_host(play, roles, state), batch))
            failed += [s.host.name for s in batch if not s.active]
            if tolerated is not None and len(failed) > tolerated:
                rest = [s.host.name for b in rounds[index + 1:] for s in b]
                record.stopped = (f"stopped after {len(failed)} failed host(s) ({', '.join(failed)}); "
                                  f"not run: {', '.join(rest) or 'no other hosts'}; later plays not run")
                self.reporter.note("-", f"play {play.name}: {record.stopped}")
                break
        record.failed = failed
        self.play_results.append(record)
        return record.stopped is None

    def _play_on_host(self, play: Play, roles: list[Role], state: HostState, settle: bool = False) -> bool:
        """The play's roles on one host; True when it is done. `settle`: check only, and be done when nothing
        would change (or in a check run); a host with changes is left for its batch, its facts kept."""
        started = time.monotonic()
        first = state.session is None
        steps: list[StepResult] = []
        done, applied = True, False
        try:
            if first:
                plans, ahead = self._open_and_plan(play, roles, state)
            else:
                plans, ahead = self._plans(play, roles, state), []
            check = self.options.check or settle
            record = self._recorder(state, play.name, steps if settle else None)
            executor = PlanExecutor(state.session, check, record,
                                    lambda login: self._confirm_target(state, login), play.name,
                                    lambda target, identity: self._proven(state, target, identity))
            lock = [self._lock_fact(state)] if first else []
            # once the lock is held, in the same round trip: what killed runs left in vpskit's folders
            sweep = [StaleTempsSwept(self.run_id, lock[0].args[4])] if lock and not self.options.check else []
            published = executor.run(plans, [*lock, *sweep], lambda facts: self._hold_lock(state, facts, lock), ahead)
            done = not settle or self.options.check or not (executor.changed or any(p.predicted for p in published))
            applied = bool(executor.changed) and not check
            if done:
                for step in steps:
                    self._keep(state, step)
                for item in published:
                    self.exports.publish(item)
        except ConnectError as exc:
            state.result.unreachable = True
            state.result.error = self.masker.mask(str(exc))
        except VpskitError as exc:
            state.result.error = self.masker.mask(str(exc))
        except Exception as exc:  # noqa: BLE001 - one host's bug must not hide the others' results
            state.result.error = self.masker.mask(f"{type(exc).__name__}: {exc}")
        finally:
            state.seconds += time.monotonic() - started
            if state.foreseen and (applied or state.result.error):
                state.session.facts.invalidate(facts=state.foreseen)
                state.foreseen = []
        if state.result.error:
            for step in steps:  # what the check saw up to the failure, but no change it only foresaw
                if step.status != "changed":
                    self._keep(state, step)
            self.reporter.host_done(state.result)
        return done

    def _open_and_plan(self, play: Play, roles: list[Role], state: HostState) -> tuple[list[RolePlan], list]:
        """Opens the host's session and plans its first play (and foresees its later plays' facts): planned while
        the connection opens, with the runtime it is expected to give (openplan.py), kept when it gave that."""
        opening = Background(lambda: self._open(state), f"open-{state.host.name}")
        guess = None
        expected = expected_runtime(plan_target(state.logins, state.host, self.options.trust_new_hosts, self.keys))
        if expected is not None:
            try:
                plans = self._plans(play, roles, state, runtime=expected)
                guess = plans, self._foresee(play, state, plans, runtime=expected)
            except Exception:  # noqa: BLE001 - planned again below, where an error is reported
                guess = None
        opening.result()
        if guess is None or state.runtime != expected:
            plans = self._plans(play, roles, state)
            guess = plans, self._foresee(play, state, plans)
        state.foreseen = guess[1]
        return guess

    def _foresee(self, play: Play, state: HostState, plans: list[RolePlan], runtime: dict | None = None) -> list:
        """What the host's later plays will read, planned now (foresight.py), less what this play reads itself.
        A later play that cannot be planned yet foresees nothing."""
        later = []
        for other in self.plays[self.plays.index(play) + 1:]:
            if state.host.name not in {h.name for h in select(self.inventory, other.hosts)}:
                continue
            try:
                roles = [self.library.load(name) for name in other.roles]
                later.append(self._plans(other, roles, state, ForeseenExports(self.exports), runtime))
            except Exception:  # noqa: BLE001 - planned again in its own play, where an error is reported
                continue
        own = {fact.key for fact in gathered_up_front(plans)}
        return [fact for fact in foreseen_facts(later) if fact.key not in own]

    def _open(self, state: HostState) -> None:
        state.connection = self.connect(plan_target(state.logins, state.host, self.options.trust_new_hosts, self.keys),
                                      on_retry=lambda message: self.reporter.note(state.host.name, message))
        state.session = HostSession(state.host.name, state.connection, self.options.check, self.masker,
                                    note=lambda message: self.reporter.note(state.host.name, message))
        state.result.login = state.logins.describe()
        state.connection.open()
        state.works = worked(state.connection)
        moved = fell_back(state.logins, state.connection)
        if moved:
            self.reporter.note(state.host.name, moved)
        refused = getattr(state.connection, "refused", [])
        state.result.login.update(user=state.connection.user, port=state.connection.port,
                                  identity=state.works.identity, fell_back=moved,
                                  refused=[f"{user}@{port}" for user, port, _reason in refused])
        state.runtime = {"vpskit_login_user": state.connection.user, "vpskit_login_port": state.connection.port,
                         "vpskit_controller_address": state.connection.local_address()}

    def _lock_fact(self, state: HostState) -> HostLockFact:
        """The run's lock on the host, taken in the first fact round trip (waiting there, bounded)."""
        return lock_fact(state.host, self.run_id, state.runtime["vpskit_controller_address"],
                         self.options.check or self.options.reads_only)

    def _hold_lock(self, state: HostState, facts, lock: list[HostLockFact]) -> None:
        for fact in lock:
            held: LockState = facts.get(fact)
            refuse_if_held(state.host.name, fact, held)
            stale = held.took_over_stale
            # every run leaves its lock behind (it ends with the connection), so an operator's own last run is
            # no news; another operator's is
            if stale and stale.operator != fact.args[1]:
                self.reporter.note(state.host.name, f"took over the lock of an earlier run that ended: "
                                                    f"{stale.describe()}")

    def _plans(self, play: Play, roles: list[Role], state: HostState, exports: ExportsView | None = None,
               runtime: dict | None = None) -> list[RolePlan]:
        """The play's role plans for this host; `runtime`: the login's variables to plan with, if not the
        session's (openplan.py)."""
        ctx = PlanContext(state.host.name, {**state.host.values, **(runtime or state.runtime)},
                          InventoryView(self.inventory),
                          exports or ExportsView(self.exports), self.templates, self.options.check, play.name,
                          roles_network=self.library.network, sessions=self._session_of)
        plans = []
        for role in roles:
            try:
                plans.append(role.plan(ctx))
            except (VpskitError, ValueError, KeyError, TypeError) as exc:
                raise VpskitError(f"{state.host.name}: planning role {role.name}: {exc}") from None
        return plans

    def _session_of(self, name: str) -> HostSession:
        state = self.states.get(name)
        if state is None or state.session is None or not state.active:
            raise VpskitError(f"{name} is not connected in this run (outside --limit, or it failed)")
        return state.session

    def _recorder(self, state: HostState, play: str, held: list[StepResult] | None = None):
        """Records each step in the host's result and the report, or in `held` (a check kept only if it is final)."""
        def record(role: str, title: str, status: str, reason: str, diff: str | None, upgrade=None) -> None:
            step = StepResult(role, title, status, self.masker.mask(reason),
                              self.masker.mask(diff) if diff else None, play, upgrade)
            if held is not None:
                held.append(step)
            else:
                self._keep(state, step)
        return record

    def _keep(self, state: HostState, step: StepResult) -> None:
        state.result.steps.append(step)
        self.reporter.step(state.host.name, step)

    def _confirm_target(self, state: HostState, login: Login | None):
        current = Login(state.connection.user, state.connection.port)
        return target_for(state.host, [login or current], self.options.trust_new_hosts,
                          state.works.identity if state.works else None, self.keys)

    def _proven(self, state: HostState, target, identity: str | None) -> None:
        """A fresh login proved after a change (the ssh role moving to the admin): the next run starts there."""
        state.works = Remembered(target.user, target.port, identity or (state.works and state.works.identity))
        if state.result.login is not None:
            state.result.login["next"] = state.works.label()

    def _remember(self) -> None:
        """Writes the logins that worked; a file that cannot be written costs the next run a fallback, not this run."""
        try:
            remember([(s.logins, s.works) for s in self.states.values() if s.works is not None])
        except (VpskitError, OSError) as exc:
            self.reporter.note("-", f"the remembered logins were not saved: {exc}")

    def _close(self, state: HostState) -> None:
        result = state.result
        if state.connection is not None:
            state.connection.close()
            result.connections = state.connection.connections_opened
            result.commands = state.connection.commands_run
        if state.session is not None:
            result.fact_batches = state.session.facts.batches
            result.facts = state.session.facts.gathered
        result.seconds = round(state.seconds, 3)


def run_roles(hosts: list[Host], roles: list[Role], options: RunOptions, reporter) -> list[HostResult]:
    """Runs roles built in code as one play on these hosts (tests, the benchmark, programs embedding vpskit).

    Only these roles' logins are tried (with the inventory's): give the built-in roles too to reach a host
    that the ssh role hardened, or set vpskit_user/vpskit_port.
    """
    inventory = Inventory("(hosts given in code)", {h.name: h for h in hosts}, {})
    play = Play("run", "all", [r.name for r in roles])
    return Run(inventory, hosts, [play], RoleLibrary(given=roles), Templates(), options, reporter,
               login_roles=roles).execute()
