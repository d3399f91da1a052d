"""Which logins a run tries, in which order and why, and the file that remembers the one that worked."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from tests.unit.localhost import LocalConnection
from vpskit.connection import host_key_known
from vpskit.errors import LoginRefusedError, VpskitError
from vpskit.inventory.model import Group, Host, Inventory, Var
from vpskit.knownlogins import KnownLogins, Remembered, default_path, host_key
from vpskit.logins import FRESH, OWN_ROLES, REMEMBERED, SEEN, plan_logins
from vpskit.playbook import Play
from vpskit.report import Reporter
from vpskit.resources import Command
from vpskit.role import Login, Role, RolePlan
from vpskit.roleloader import RoleLibrary
from vpskit.runner import Run, RunOptions
from vpskit.templating import Templates

HOST_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIHqJ8cO9Q0VmPMTuTqkgdaphQ+2PS2c5p0XUjjYpF3lb"


def host(tmp_path: Path, name: str = "h", address: str = "192.0.2.7", **extra) -> Host:
    values = {"vpskit_host": address, "vpskit_user": "root", "vpskit_known_hosts": str(tmp_path / "known_hosts"),
              "users_admin_name": "ops", "ssh_port": 22, **extra}
    return Host(name, [], {k: Var(v, "test") for k, v in values.items()})


def seen(tmp_path: Path, address: str = "192.0.2.7") -> None:
    with open(tmp_path / "known_hosts", "a") as fh:
        fh.write(f"{address} ssh-ed25519 {HOST_KEY}\n")


# -- the file ----------------------------------------------------------------------------------

def test_the_file_lives_beside_the_inventorys_known_hosts_or_the_users(tmp_path):
    assert default_path(str(tmp_path / "inv" / "known_hosts")) == tmp_path / "inv" / "vpskit_known_logins"
    assert default_path(None) == Path(os.path.expanduser("~/.ssh/vpskit_known_logins"))
    assert host_key("192.0.2.7", 22) == "192.0.2.7" and host_key("192.0.2.7", 2200) == "[192.0.2.7]:2200"


def test_a_missing_file_remembers_nothing_and_an_update_writes_it_0600(tmp_path):
    store = KnownLogins(tmp_path / "state" / "vpskit_known_logins")
    assert store.get("192.0.2.7") is None
    store.update({"192.0.2.7": Remembered("ops", 2222, "SHA256:abc")})
    assert store.get("192.0.2.7") == Remembered("ops", 2222, "SHA256:abc")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert json.loads(store.path.read_text())["hosts"] == {"192.0.2.7": {"user": "ops", "port": 2222,
                                                                          "identity": "SHA256:abc"}}
    store.update({"192.0.2.7": None})
    assert store.get("192.0.2.7") is None
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_broken_file_is_a_clear_error_naming_file_and_line(tmp_path):
    path = tmp_path / "vpskit_known_logins"
    path.write_text('{\n  "version": 1,\n  "hosts": {\n    "a": {"user": "ops", "port": 22, "identity": null},\n')
    with pytest.raises(VpskitError, match=rf"{path}:5: not valid JSON"):
        KnownLogins(path).get("a")
    path.write_text('{"version": 1, "hosts": {\n"a": {"user": "ops", "port": 22, "identity": null},\n'
                    '"b": {"user": "ops", "port": "22"}}}\n')
    with pytest.raises(VpskitError, match=rf"{path}:3: host b: a login needs a user, a port"):
        KnownLogins(path).get("a")
    path.write_text('{"hosts": {}}')
    with pytest.raises(VpskitError, match="not a vpskit_known_logins file of version 1"):
        KnownLogins(path).get("a")


def _write_many(path: str, prefix: str) -> None:
    store = KnownLogins(path)
    for i in range(40):
        store.update({f"{prefix}{i}": Remembered("root", 22)})


def test_two_runs_at_once_keep_each_others_hosts(tmp_path):
    path = str(tmp_path / "vpskit_known_logins")
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_write_many, args=(path, p)) for p in ("a", "b")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert [w.exitcode for w in workers] == [0, 0]
    hosts = json.loads(Path(path).read_text())["hosts"]
    assert len(hosts) == 80


# -- the order ---------------------------------------------------------------------------------

def test_a_fresh_host_is_tried_with_the_inventorys_login_first(tmp_path):
    plan = plan_logins(host(tmp_path), RoleLibrary().all())
    assert plan.rule == FRESH and plan.logins == [Login("root", 22), Login("ops", 22)]
    assert plan.describe() == {"rule": FRESH, "then": None, "remembered": None, "order": ["root@22", "ops@22"]}


def test_a_known_host_is_tried_with_the_roles_logins_first(tmp_path):
    seen(tmp_path)
    plan = plan_logins(host(tmp_path, ssh_port=2222), RoleLibrary().all())
    assert plan.rule == SEEN
    assert plan.logins == [Login("ops", 2222), Login("ops", 22), Login("root", 2222), Login("root", 22)]


def test_a_host_known_only_on_the_moved_port_counts_as_seen(tmp_path):
    (tmp_path / "known_hosts").write_text(f"[192.0.2.7]:2222 ssh-ed25519 {HOST_KEY}\n")
    assert host_key_known("192.0.2.7", [22, 2222], [str(tmp_path / "known_hosts")])
    assert not host_key_known("192.0.2.7", [22], [str(tmp_path / "known_hosts")])
    assert not host_key_known("192.0.2.8", [22, 2222], [str(tmp_path / "known_hosts"), str(tmp_path / "none")])


def test_the_remembered_login_goes_first_and_the_rule_orders_the_rest(tmp_path):
    seen(tmp_path)
    KnownLogins(tmp_path / "vpskit_known_logins").update({"192.0.2.7": Remembered("root", 22, "SHA256:k")})
    plan = plan_logins(host(tmp_path), RoleLibrary().all())
    assert plan.rule == REMEMBERED and plan.then == SEEN and plan.identity == "SHA256:k"
    assert plan.logins == [Login("root", 22), Login("ops", 22)]


def test_own_roles_that_leave_no_login_try_only_the_inventorys_and_the_remembered(tmp_path):
    seen(tmp_path)
    plan = plan_logins(host(tmp_path), RoleLibrary().all(), own_roles_only=True)
    assert plan.rule == OWN_ROLES and plan.logins == [Login("root", 22)]
    KnownLogins(tmp_path / "vpskit_known_logins").update({"192.0.2.7": Remembered("deploy", 22)})
    plan = plan_logins(host(tmp_path), RoleLibrary().all(), own_roles_only=True)
    assert plan.logins == [Login("deploy", 22), Login("root", 22)] and plan.then == OWN_ROLES


def test_vpskit_known_logins_names_another_file(tmp_path):
    other = tmp_path / "elsewhere" / "logins.json"
    KnownLogins(other).update({"192.0.2.7": Remembered("deploy", 22)})
    plan = plan_logins(host(tmp_path, vpskit_known_logins=str(other)), RoleLibrary().all())
    assert plan.store == other and plan.logins[0] == Login("deploy", 22)


# -- whole runs --------------------------------------------------------------------------------

class RefusingConnection(LocalConnection):
    """LocalConnection that refuses the logins in REFUSED, as Connection.open moves on to the next one."""

    REFUSED: set = set()

    def open(self) -> None:
        self.refused = []
        for user, port in self.target.logins():
            if (user, port) in self.REFUSED:
                self.refused.append((user, port, "Authentication failed."))
                continue
            self.user, self.port, self.identity = user, port, "SHA256:local"
            return super().open()
        raise LoginRefusedError("every login refused", "; ".join(f"{u}@{p}" for u, p, _r in self.refused))

    def close(self) -> None:
        if hasattr(self, "_folder"):
            super().close()


def own_role(folder: Path) -> Role:
    class Module:
        @staticmethod
        def plan(ctx):
            return RolePlan("mine", [Command("true", name="nothing", unless="true")])
    return Role("mine", Module(), {}, origin=str(folder))


def run(tmp_path: Path, hosts: list[Host], roles: list[Role], refused=()) -> tuple[list, str]:
    inv = Inventory("test", {h.name: h for h in hosts}, {"all": Group("all")})
    for h in hosts:
        h.vars["vpskit_lock_path"] = Var(str(tmp_path / f"{h.name}.lock"), "test")
    RefusingConnection.REFUSED = set(refused)
    stream = io.StringIO()
    results = Run(inv, hosts, [Play("p", "all", [r.name for r in roles])], RoleLibrary(given=roles), Templates(),
                  RunOptions(), Reporter(stream=stream), connect=RefusingConnection).execute()
    return results, stream.getvalue()


def test_a_run_remembers_the_login_that_worked_and_says_which_rule_applied(tmp_path):
    results, _out = run(tmp_path, [host(tmp_path)], [own_role(tmp_path)])
    assert results[0].error is None
    assert results[0].login["rule"] == OWN_ROLES and results[0].login["user"] == "root"
    assert results[0].to_dict()["login"]["refused"] == []
    assert KnownLogins(tmp_path / "vpskit_known_logins").get("192.0.2.7") == Remembered("root", 22, "SHA256:local")


def test_a_remembered_login_that_no_longer_works_falls_back_once_and_says_so(tmp_path):
    seen(tmp_path)
    store = KnownLogins(tmp_path / "vpskit_known_logins")
    store.update({"192.0.2.7": Remembered("ops", 22, "SHA256:old")})
    results, out = run(tmp_path, [host(tmp_path)], [own_role(tmp_path)],
                       refused=[("ops", 22)])
    assert results[0].error is None
    assert "h | note: ops@22 no longer works, logged in as root@22" in out
    assert results[0].login["fell_back"] == "ops@22 no longer works, logged in as root@22"
    assert results[0].login["refused"] == ["ops@22"]
    assert store.get("192.0.2.7") == Remembered("root", 22, "SHA256:local")
    _results, again = run(tmp_path, [host(tmp_path)], [own_role(tmp_path)], refused=[("ops", 22)])
    assert "no longer works" not in again


def test_an_unchanged_login_leaves_the_file_alone(tmp_path):
    store = KnownLogins(tmp_path / "vpskit_known_logins")
    store.update({"192.0.2.7": Remembered("root", 22, "SHA256:local")})
    before = store.path.stat().st_mtime_ns
    run(tmp_path, [host(tmp_path)], [own_role(tmp_path)])
    assert store.path.stat().st_mtime_ns == before


def test_a_host_that_never_connects_keeps_what_was_remembered(tmp_path):
    store = KnownLogins(tmp_path / "vpskit_known_logins")
    store.update({"192.0.2.7": Remembered("ops", 22)})
    results, _out = run(tmp_path, [host(tmp_path)], [own_role(tmp_path)], refused=[("ops", 22), ("root", 22)])
    assert results[0].unreachable and store.get("192.0.2.7") == Remembered("ops", 22)


def test_a_cli_run_of_own_roles_tries_no_built_in_roles_login(tmp_path):
    from tests.unit.test_extending import make_project
    from vpskit.cli.common import load_project
    path, _folder = make_project(tmp_path)
    project = load_project(str(path), None, only=["motd"])
    hosts = project.inventory.select(None)
    run_ = Run(project.inventory, hosts, project.plays, project.library, project.templates, RunOptions(),
               Reporter(stream=io.StringIO()), connect=RefusingConnection)
    assert run_.states["h1"].logins.rule == OWN_ROLES and run_.states["h1"].logins.logins == [Login("root", 22)]
    both = load_project(str(path), None, only=["motd", "base"])
    run_ = Run(both.inventory, both.inventory.select(None), both.plays, both.library, both.templates, RunOptions(),
               Reporter(stream=io.StringIO()), connect=RefusingConnection)
    assert run_.states["h1"].logins.rule == FRESH and Login("ops", 22) in run_.states["h1"].logins.logins
