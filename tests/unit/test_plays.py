"""Whole runs over local shells: play order, serial batches, failures, --limit, exports, fact freshness."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from tests.unit.localhost import LocalConnection
from vpskit.errors import InventoryError
from vpskit.exports import Export
from vpskit.facts import CommandOutputFact, Fact, FileFact
from vpskit.inventory.model import Group, Host, Inventory, Var
from vpskit.playbook import Play, batches, load_playbook, select
from vpskit.report import Reporter
from vpskit.resources import Command, File, FlushHandlers, Handler, Wait
from vpskit.results import exit_code
from vpskit.role import Role, RolePlan
from vpskit.roleloader import RoleLibrary
from vpskit.runner import Run, RunOptions
from vpskit.templating import Templates


def inventory(tmp_path: Path, names=("s1", "s2", "s3", "a1")) -> Inventory:
    hosts = {}
    for name in names:
        group = "servers" if name.startswith("s") else "agents"
        (tmp_path / name).mkdir(exist_ok=True)
        hosts[name] = Host(name, [group], {"root": Var(str(tmp_path / name), "test"),
                                           "fail_here": Var(False, "test"),
                                           # every "host" is this machine: each needs a lock of its own
                                           "vpskit_lock_path": Var(str(tmp_path / name / "lock"), "test")})
    groups = {"all": Group("all"), "servers": Group("servers", ["all"]), "agents": Group("agents", ["all"])}
    return Inventory("test", hosts, groups)


class Module:
    """A role module built from a function of the plan context."""

    def __init__(self, plan):
        self.plan = plan


def role(name: str, plan) -> Role:
    return Role(name, Module(plan), {})


def log_step(ctx, label: str, log: Path):
    """Appends `host label` to a shared log (proves order), once per run."""
    marker = Path(ctx["root"]) / f"done-{label}"
    return Command(f"echo '{ctx.host} {label}' >> {log} && touch {marker}", creates=str(marker), name=f"log {label}")


def execute(inv, plays, roles, limit=None, check=False):
    run = Run(inv, inv.select(limit), plays, RoleLibrary(given=roles), Templates(), RunOptions(check=check),
              Reporter(stream=io.StringIO()), connect=LocalConnection)
    results = {r.name: r for r in run.execute()}
    return run, results


def test_plays_run_in_order_and_serial_batches_one_after_another(tmp_path):
    inv, log = inventory(tmp_path), tmp_path / "log"
    roles = [role("first", lambda ctx: RolePlan("first", [log_step(ctx, "first", log)])),
             role("rest", lambda ctx: RolePlan("rest", [log_step(ctx, "rest", log)])),
             role("agents", lambda ctx: RolePlan("agents", [log_step(ctx, "agent", log)]))]
    plays = [Play("first server", "servers[0]", ["first"]), Play("other servers", "servers[1:]", ["rest"], serial=1),
             Play("agents", "agents", ["agents"])]
    run, results = execute(inv, plays, roles)
    assert log.read_text().splitlines() == ["s1 first", "s2 rest", "s3 rest", "a1 agent"]
    assert all(r.error is None and r.connections == 1 for r in results.values())
    assert [p.hosts for p in run.play_results] == [["s1"], ["s2", "s3"], ["a1"]]
    again, results = execute(inv, plays, roles)
    assert all(r.count("changed") == 0 and r.commands == 1 for r in results.values())


def failing(ctx, label):
    marker = Path(ctx["root"]) / f"done-{label}"
    command = "false" if ctx["fail_here"] else f"touch {marker}"
    return Command(command, creates=str(marker), name=label)


def test_a_failure_in_a_serial_play_stops_the_rest_and_later_plays(tmp_path):
    inv = inventory(tmp_path)
    inv.hosts["s2"].vars["fail_here"] = Var(True, "test")
    roles = [role("upgrade", lambda ctx: RolePlan("upgrade", [failing(ctx, "upgrade")])),
             role("after", lambda ctx: RolePlan("after", [failing(ctx, "after")]))]
    plays = [Play("upgrade", "servers", ["upgrade"], serial=1), Play("after", "all", ["after"])]
    run, results = execute(inv, plays, roles)
    assert (tmp_path / "s1/done-upgrade").exists() and not (tmp_path / "s3/done-upgrade").exists()
    assert results["s2"].error and "upgrade" in results["s2"].error
    assert "not run: s3" in run.play_results[0].stopped
    assert len(run.play_results) == 1 and not (tmp_path / "a1/done-after").exists()
    assert exit_code(list(results.values()), False) == 1


def test_a_failed_host_drops_out_and_the_others_go_on(tmp_path):
    inv = inventory(tmp_path)
    inv.hosts["s2"].vars["fail_here"] = Var(True, "test")
    roles = [role("one", lambda ctx: RolePlan("one", [failing(ctx, "one")])),
             role("two", lambda ctx: RolePlan("two", [Command(f"touch {ctx['root']}/two", creates=f"{ctx['root']}/two")]))]
    run, results = execute(inv, [Play("one", "all", ["one"]), Play("two", "all", ["two"])], roles)
    assert results["s2"].error and not (tmp_path / "s2/two").exists()
    assert all((tmp_path / n / "two").exists() for n in ("s1", "s3", "a1"))
    assert run.play_results[1].hosts == ["s1", "s3", "a1"]


def test_limit_applies_on_top_of_the_play_patterns(tmp_path):
    inv, log = inventory(tmp_path), tmp_path / "log"
    roles = [role("r", lambda ctx: RolePlan("r", [log_step(ctx, "r", log)]))]
    run, results = execute(inv, [Play("servers", "servers", ["r"])], roles, limit="s2,a1")
    assert log.read_text().splitlines() == ["s2 r"]
    assert set(results) == {"s2", "a1"} and results["a1"].steps == []


def token_role(ctx) -> RolePlan:
    token = Path(ctx["root"]) / "token"
    make = f"od -An -N12 -tx1 /dev/urandom | tr -d ' \\n' > {token}"  # the host makes it, as K3s does
    return RolePlan("server", [Command(make, creates=str(token), name="make token")],
                    exports=[Export("join_token", fact=FileFact(str(token)), secret=True,
                                    extract=lambda s: s.content.decode().strip() if s.exists else None),
                             Export("server_url", value=f"https://{ctx.host}:6443")])


def join_role(ctx) -> RolePlan:
    token = ctx.exports.get("join_token")
    url = ctx.exports.get("server_url", host="s1")
    return RolePlan("join", [File(f"{ctx['root']}/join.conf", content=f"{url} {token}\n")])


def test_exports_flow_from_the_first_server_to_the_others_and_stay_masked(tmp_path):
    inv = inventory(tmp_path)
    plays = [Play("first", "servers[0]", ["server"]), Play("join", "servers[1:],agents", ["join"])]
    roles = [role("server", token_role), role("join", join_role)]
    checked, results = execute(inv, plays, roles, check=True)
    assert checked.exports.lookup("join_token").predicted
    assert not (tmp_path / "s1/token").exists() and not (tmp_path / "s2/join.conf").exists()
    assert results["s2"].count("changed") == 1
    run, results = execute(inv, plays, roles)
    token = (tmp_path / "s1/token").read_text().strip()
    assert len(token) == 24 and (tmp_path / "a1/join.conf").read_text() == f"https://s1:6443 {token}\n"
    text = "".join(s.reason + (s.diff or "") for r in results.values() for s in r.steps)
    assert token not in text and "https://s1:6443" in text
    assert run.exports.report()["s1"]["join_token"]["value"] == "********"
    assert results["s1"].commands <= 3 and results["s2"].commands <= 3


def test_reading_an_export_nobody_published_is_a_clear_error(tmp_path):
    inv = inventory(tmp_path)
    run, results = execute(inv, [Play("join", "agents", ["join"])], [role("join", join_role)])
    assert "no host has published 'join_token'" in results["a1"].error


def test_a_handler_that_writes_a_file_is_seen_by_later_steps(tmp_path):
    inv = inventory(tmp_path, names=("s1",))
    root = tmp_path / "s1"
    # the handler, like a service starting, writes a file the next role declares: fresh facts say it is done
    first = RolePlan("svc", [File(f"{root}/unit", content="x\n", notify=["start"])],
                     [Handler("start", f"echo started > {root}/state")])
    second = RolePlan("reader", [File(f"{root}/state", content="started\n")])
    run, results = execute(inv, [Play("p", "all", ["svc", "reader"])],
                           [role("svc", lambda ctx: first), role("reader", lambda ctx: second)])
    steps = {s.title: s.status for s in results["s1"].steps}
    assert steps[f"file {root}/state"] == "ok", results["s1"].steps


def test_playbook_file_errors_name_the_line(tmp_path):
    book = tmp_path / "plays.yml"
    book.write_text("- name: a\n  hosts: all\n  roles: [base]\n- name: b\n  hosts: all\n  roles: [x]\n  serial: 0\n")
    with pytest.raises(InventoryError, match=r"plays.yml:7: play 'b': serial must be"):
        load_playbook(book)
    book.write_text("- name: a\n  host: all\n  roles: [base]\n")
    with pytest.raises(InventoryError, match=r"plays.yml:1: play 1: unknown key\(s\) host"):
        load_playbook(book)


def test_host_patterns_and_batches(tmp_path):
    inv = inventory(tmp_path)
    names = lambda pattern: [h.name for h in select(inv, pattern)]
    assert names("servers[0]") == ["s1"] and names("servers[1:]") == ["s2", "s3"]
    assert names("servers,agents,!s2") == ["s1", "s3", "a1"] and names("nosuchgroup") == []
    assert names("servers[-1]") == ["s3"] and names("servers[7]") == []
    assert batches([1, 2, 3, 4, 5], "40%") == [[1, 2], [3, 4], [5]] and batches([1, 2, 3], None) == [[1, 2, 3]]
    assert Play("p", "all", ["r"], serial=2).tolerated_failures == 0
    assert Play("p", "all", ["r"]).tolerated_failures is None


def test_flushed_handlers_run_before_the_steps_after_them(tmp_path):
    inv = inventory(tmp_path, names=("s1",))
    root = tmp_path / "s1"
    plan = RolePlan("svc", [File(f"{root}/config", content="v2\n", notify=["restart"]), FlushHandlers(),
                            File(f"{root}/running", content="v2\n")],
                    [Handler("restart", f"cp {root}/config {root}/running")])
    run, results = execute(inv, [Play("p", "all", ["svc"])], [role("svc", lambda ctx: plan)])
    assert [(s.title, s.status) for s in results["s1"].steps] == [
        (f"file {root}/config", "changed"), ("handler restart", "changed"), (f"file {root}/running", "ok")]


def test_a_check_run_leaves_no_lock_behind_and_an_apply_takes_it(tmp_path):
    inv, log = inventory(tmp_path, names=("s1",)), tmp_path / "log"
    roles = [role("first", lambda ctx: RolePlan("first", [log_step(ctx, "first", log)]))]
    plays = [Play("first", "all", ["first"])]
    _run, results = execute(inv, plays, roles, check=True)
    assert results["s1"].error is None and not (tmp_path / "s1" / "lock").exists()
    _run, results = execute(inv, plays, roles)
    assert results["s1"].error is None and (tmp_path / "s1" / "lock").exists()


def test_a_run_that_only_reads_its_hosts_applies_without_taking_the_lock_and_waits_for_an_apply(tmp_path):
    """k3s.kubeconfig's kind of run: it writes on the controller alone, so it looks at the lock as check mode does."""
    import subprocess
    from tests.unit.test_lock import process_start, write_lock
    inv, log = inventory(tmp_path, names=("s1",)), tmp_path / "log"
    roles = [role("first", lambda ctx: RolePlan("first", [log_step(ctx, "first", log)]))]
    plays = [Play("first", "all", ["first"])]

    def reading():
        run = Run(inv, inv.select(None), plays, RoleLibrary(given=roles), Templates(), RunOptions(reads_only=True),
                  Reporter(stream=io.StringIO()), connect=LocalConnection)
        return {r.name: r for r in run.execute()}["s1"]
    result = reading()
    assert result.error is None and log.read_text() == "s1 first\n" and not (tmp_path / "s1" / "lock").exists()
    holder = subprocess.Popen(["sleep", "30"])
    try:
        write_lock(tmp_path / "s1" / "lock", "applying", holder.pid, process_start(holder.pid))
        inv.hosts["s1"].vars["vpskit_lock_timeout"] = Var(0, "test")
        assert "held by bob@desk" in reading().error
    finally:
        holder.kill()
        holder.wait()


class Journal:
    """Every command of every host in the order the hosts ran them; optionally each host's first command waits
    at a barrier, which only hosts checked together can all reach (one after another, it breaks)."""

    def __init__(self, together: int | None = None):
        self.lines: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(together, timeout=30) if together else None

    def connection(self, target, on_retry=None):
        journal = self

        class Journalled(LocalConnection):
            def run(self, command, stdin=None, timeout=None):
                if journal.barrier is not None and self.commands_run == 0:
                    journal.barrier.wait()  # raises BrokenBarrierError, failing the host, when run one by one
                with journal.lock:
                    journal.lines.append((target.name, (stdin or b"").decode() + command))
                return super().run(command, stdin, timeout)
        return Journalled(target, on_retry)


def serial_run(inv, plays, roles, journal, check=False):
    run = Run(inv, inv.select(None), plays, RoleLibrary(given=roles), Templates(), RunOptions(check=check, forks=8),
              Reporter(stream=io.StringIO()), connect=journal.connection)
    return run, {r.name: r for r in run.execute()}


def upgrade_roles(log: Path):
    def plan(ctx):
        marker = Path(ctx["root"]) / "upgraded"
        return RolePlan("upgrade", [Command(f"echo '{ctx.host} begin' >> {log}; echo '{ctx.host} end' >> {log}; "
                                            f"touch {marker}", creates=str(marker), name="upgrade", notify=["restart"])],
                        [Handler("restart", f"echo '{ctx.host} restarted' >> {log}")])
    return [role("upgrade", plan)]


def test_a_no_op_serial_play_checks_its_hosts_together_in_one_command_each(tmp_path):
    inv, log = inventory(tmp_path, ("s1", "s2", "s3", "s4")), tmp_path / "log"
    plays = [Play("upgrade", "servers", ["upgrade"], serial=1)]
    serial_run(inv, plays, upgrade_roles(log), Journal())
    journal = Journal(together=4)  # every host's fact batch waits until all four have started theirs
    run, results = serial_run(inv, plays, upgrade_roles(log), journal)
    assert all(r.error is None and r.count("changed") == 0 and r.commands == 1 for r in results.values()), \
        {n: (r.error, r.commands) for n, r in results.items()}
    assert sorted(host for host, _ in journal.lines) == ["s1", "s2", "s3", "s4"]
    assert [s.status for s in results["s3"].steps] == ["ok"] and run.play_results[0].stopped is None


def test_hosts_with_changes_still_go_one_batch_at_a_time_after_the_check(tmp_path):
    inv, log = inventory(tmp_path, ("s1", "s2", "s3", "s4")), tmp_path / "log"
    (tmp_path / "s2" / "upgraded").touch()  # s2 is already there: checked with the others, never in a batch
    journal = Journal()
    run, results = serial_run(inv, [Play("upgrade", "servers", ["upgrade"], serial=2)], upgrade_roles(log), journal)
    assert results["s2"].count("changed") == 0 and results["s2"].commands == 1
    lines = log.read_text().splitlines()
    first, second = [lines.index(f"{h} restarted") for h in ("s1", "s3")], lines.index("s4 begin")
    assert max(first) < second  # s4's batch began after the whole first batch (s1, s3), handlers included
    assert all(results[h].count("changed") == 2 for h in ("s1", "s3", "s4"))
    # each changing host: the check's one fact batch, then its batch reuses those facts (no second fact batch)
    assert all(results[h].fact_batches == 1 for h in results), {h: r.fact_batches for h, r in results.items()}


def test_a_failure_in_a_batch_stops_the_hosts_the_check_found_changes_on(tmp_path):
    inv = inventory(tmp_path, ("s1", "s2", "s3", "s4"))
    inv.hosts["s2"].vars["fail_here"] = Var(True, "test")
    (tmp_path / "s4" / "done-upgrade").touch()  # nothing to change on s4: done in the check
    roles = [role("upgrade", lambda ctx: RolePlan("upgrade", [failing(ctx, "upgrade")]))]
    run, results = serial_run(inv, [Play("upgrade", "servers", ["upgrade"], serial=1)], roles, Journal())
    assert results["s2"].error and not (tmp_path / "s3" / "done-upgrade").exists()
    assert results["s3"].steps == [] and results["s3"].commands == 1  # checked, never applied
    assert "not run: s3" in run.play_results[0].stopped
    assert [s.status for s in results["s4"].steps] == ["ok"]


class UnreadableFact(Fact):
    """A fact whose output cannot be parsed: the check of the step that needs it fails."""

    def command(self) -> str:
        return "echo garbage"

    def parse(self, output: str, rc: int):
        raise ValueError(f"cannot parse {output.strip()!r}")


def test_a_host_that_fails_its_check_stops_the_serial_play_before_any_change(tmp_path):
    inv = inventory(tmp_path, ("s1", "s2", "s3"))

    def plan(ctx):
        probe = UnreadableFact() if ctx.host == "s2" else FileFact("/")
        return RolePlan("upgrade", [Command(f"touch {ctx['root']}/done", creates=f"{ctx['root']}/done",
                                            name="upgrade").when(probe, lambda value: True, "never")])
    run, results = serial_run(inv, [Play("upgrade", "servers", ["upgrade"], serial=1)], [role("upgrade", plan)],
                              Journal())
    assert "cannot parse 'garbage'" in results["s2"].error
    assert not any((tmp_path / n / "done").exists() for n in ("s1", "s3"))
    assert "not run: s1, s3" in run.play_results[0].stopped


def test_check_mode_reports_a_serial_play_from_the_check_alone(tmp_path):
    inv, log = inventory(tmp_path, ("s1", "s2")), tmp_path / "log"
    run, results = serial_run(inv, [Play("upgrade", "servers", ["upgrade"], serial=1)], upgrade_roles(log),
                              Journal(together=2), check=True)
    assert all([s.status for s in r.steps] == ["changed", "changed"] and r.commands == 1 for r in results.values())
    assert not log.exists()


def test_a_wait_after_a_change_is_not_probed_on_a_no_op(tmp_path):
    inv, probes = inventory(tmp_path, ("s1",)), tmp_path / "probes"

    def plan(ctx):
        marker = Path(ctx["root"]) / "installed"
        return RolePlan("svc", [Command(f"touch {marker}", creates=str(marker), name="install", notify=["restart"]),
                                FlushHandlers(),
                                Wait(CommandOutputFact(f"echo probed >> {probes}; echo ready"),
                                     lambda value: value[1].strip() == "ready", "ready", timeout=10, after_change=True)],
                        [Handler("restart", "true")])
    first, results = execute(inv, [Play("p", "all", ["svc"])], [role("svc", plan)])
    assert probes.read_text() == "probed\n" and results["s1"].error is None  # after the install: waited
    again, results = execute(inv, [Play("p", "all", ["svc"])], [role("svc", plan)])
    assert probes.read_text() == "probed\n" and results["s1"].commands == 1  # no-op: never probed
    assert results["s1"].steps[-1].status == "ok" and "nothing changed" in results["s1"].steps[-1].reason
    checked, results = execute(inv, [Play("p", "all", ["svc"])], [role("svc", plan)], check=True)
    assert probes.read_text() == "probed\n"
