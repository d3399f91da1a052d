"""Audit items come from the roles (a user role's too), read through the roles' own fact classes in one batch
over the engine's host session, which looks at the host lock without taking it and masks what it reports.

The host here is this machine's real shell (tests/unit/localhost.py); `sshd` is a stand-in script on PATH that
prints what `sshd -T` prints for a tampered configuration, so the whole way (fact command, batch, the ssh
role's fact parser, the judge) is the audit's own."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from tests.unit.localhost import LocalConnection
from vpskit.audit.checklist import audit_defaults, checklist, probes_of
from vpskit.audit.report import text
from vpskit.audit.run import audit_host
from vpskit.connection import Target
from vpskit.errors import VpskitError
from vpskit.facts.sshd import SshdEffectiveFact
from vpskit.facts.ufw import UfwFact
from vpskit.inventory.model import Host, Var
from vpskit.roleloader import RoleLibrary, all_defaults

USER_ROLE_AUDIT = '''
"""A user's role with an audit item of its own."""
from vpskit.audit.model import Finding, Item


def marker(p, v):
    rc, out = p.results["marker"]
    return Finding.ok(f"marker file says {out.strip()}") if rc == 0 else Finding.fail(f"no marker ({v['myapp_token']})")


def items(v):
    return [Item("app.myapp-marker", "operations", "warning", "myapp's marker file", "invoke myapp", marker,
                 {"marker": f"cat {v['myapp_marker']}"})]
'''


def user_roles(tmp_path: Path, audit: str = USER_ROLE_AUDIT) -> Path:
    folder = tmp_path / "roles" / "myapp"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text('"""myapp role."""\nfrom vpskit.role import RolePlan\n\n\n'
                                        'def plan(ctx):\n    return RolePlan("myapp", [])\n')
    (folder / "defaults.yml").write_text("# where myapp leaves its marker\nmyapp_marker: /nonexistent\n"
                                         "# myapp's credential\nmyapp_token: hunter2-secret\n")
    (folder / "audit.py").write_text(audit)
    return tmp_path / "roles"


def host_of(roles, **extra) -> Host:
    values = {**{k: v.value for k, v in audit_defaults().items()}, **{k: v.value for k, v in all_defaults(roles).items()},
              **extra}
    return Host("web1", vars={k: Var(v, "test") for k, v in values.items()})


def local(host, roles, trust_new_hosts=False, keys=None):
    conn = LocalConnection(Target(host.name, "127.0.0.1"))
    conn.open()
    return conn


@pytest.fixture
def fake_sshd(tmp_path, monkeypatch):
    """An `sshd` on PATH printing `sshd -T` output for a config someone switched password logins back on in."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "sshd"
    script.write_text("#!/bin/sh\nprintf 'port 22\\npermitrootlogin no\\npasswordauthentication yes\\n"
                      "kbdinteractiveauthentication no\\n'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")


def test_every_built_in_item_comes_from_a_role_or_the_engine_and_each_names_its_fix():
    roles = RoleLibrary().all()
    engine = {i.id for i in checklist({k: v.value for k, v in {**all_defaults(roles), **audit_defaults()}.items()})}
    owned = {role.name: [i.id for i in role.audit_items(host_of(roles).values)] for role in roles}
    assert {"infra.disk", "net.dns", "hard.reboot-required", "app.replicas", "db.pooler", "ops.on-call"} <= engine
    assert owned["ssh"] == ["infra.ssh-key-only", "infra.root-login"]
    assert owned["firewall"] == ["net.firewall", "net.listening"] and owned["fail2ban"] == ["net.fail2ban"]
    assert "k8s.nodes-ready" in owned["k3s"] and "hard.k3s-audit-log" in owned["k3s"]
    assert "ops.dr-drill" in owned["backups"] and "infra.backup-age" in owned["backups"]
    every = [i for i in checklist(host_of(roles).values, roles)]
    assert all(i.fix for i in every) and len({i.id for i in every}) == len(every)
    assert not engine & {i for ids in owned.values() for i in ids}


def test_items_read_the_fact_classes_the_roles_read():
    facts = probes_of(checklist(host_of(RoleLibrary().all()).values, RoleLibrary().all()))
    assert isinstance(facts["sshd"], SshdEffectiveFact) and isinstance(facts["ufw"], UfwFact)
    assert {type(facts[n]).__name__ for n in ("sysctl", "k3s_kernel", "kubeconfig", "backup_cron", "reboot")} == \
        {"SysctlFact", "FileFact", "RebootFact"}


def test_a_user_roles_audit_item_appears_in_the_report_after_the_built_in_ones(tmp_path):
    roles = RoleLibrary([user_roles(tmp_path)]).all()
    host = host_of(roles, myapp_marker=str(tmp_path / "marker"))
    items = [i.id for i in checklist(host.values, roles)]
    assert items.index("app.myapp-marker") > items.index("ops.load-test")  # unranked: after its section's own
    missing = audit_host(host, roles, connect=local)
    found = {r.item.id: r.finding for r in missing.results}
    # not yet there: failed, with the secret it names masked as every run masks it
    assert found["app.myapp-marker"].status == "fail" and "hunter2" not in found["app.myapp-marker"].evidence
    (tmp_path / "marker").write_text("ready\n")
    present = audit_host(host, roles, connect=local)
    assert {r.item.id: r.finding for r in present.results}["app.myapp-marker"].evidence == "marker file says ready"
    assert "app.myapp-marker" in text([present]) and (present.connections, present.commands) == (1, 1)


def test_a_user_roles_broken_audit_module_is_named(tmp_path):
    roles = RoleLibrary([user_roles(tmp_path, "import nowhere_to_be_found\n")]).all()
    with pytest.raises(VpskitError, match=r"role myapp .*audit.py cannot be imported: ModuleNotFoundError"):
        checklist(host_of(roles).values, roles)


def test_a_tampered_sshd_config_is_judged_by_the_ssh_roles_own_fact(fake_sshd, tmp_path):
    roles = RoleLibrary().all()
    audit = audit_host(host_of(roles, vpskit_lock_path=str(tmp_path / "run" / "lock")), roles, connect=local)
    found = {r.item.id: r.finding for r in audit.results}
    assert audit.error is None, audit.error
    assert found["infra.ssh-key-only"].status == "fail" and "'passwordauthentication': 'yes'" in \
        found["infra.ssh-key-only"].evidence
    assert found["infra.root-login"].status == "pass"
    # every item's reads, the lock with them, in one command on the host
    assert (audit.connections, audit.commands) == (1, 1)


def test_a_host_another_run_holds_is_not_audited_half_way_and_its_lock_is_left_alone(fake_sshd, tmp_path):
    lock = tmp_path / "run" / "lock"
    lock.parent.mkdir(mode=0o700)
    start = re.sub(r"^.*\) ", "", Path("/proc/self/stat").read_text()).split()[19]  # alive: this very process
    held = f"run_id=applyrun1\noperator=ops@laptop\naddress=192.0.2.7\nsince=2026-12-03T17:00:00Z\n" \
           f"pid={os.getpid()}\nstart={start}\n"
    lock.write_text(held)
    roles = RoleLibrary().all()
    audit = audit_host(host_of(roles, vpskit_lock_path=str(lock), vpskit_lock_timeout=0), roles, connect=local)
    assert audit.results == [] and "another vpskit run is working on this host: held by ops@laptop" in audit.error
    assert lock.read_text() == held  # looked at, never taken
    lock.write_text(held.replace(f"pid={os.getpid()}", "pid=999999999"))  # the apply ended: a stale lock
    after = audit_host(host_of(roles, vpskit_lock_path=str(lock), vpskit_lock_timeout=0), roles, connect=local)
    assert after.error is None and lock.read_text() != held and "pid=999999999" in lock.read_text()


def test_the_audit_modules_load_only_when_the_audit_runs():
    import subprocess
    import sys
    code = textwrap.dedent("""
        import sys
        from vpskit.roleloader import RoleLibrary
        roles = RoleLibrary().all()
        print(sorted(m for m in sys.modules if m.endswith(".audit") or m.startswith("vpskit.audit.")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
