"""Never lock the operator out: settings that would are applied through the normal path and reverted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

from tests.e2e.conftest import ADMIN, HARDEN_HOSTS
from tests.e2e.helpers import PlanRole, invoke, lab_host, lab_target, sh
from vpskit.connection import Connection
from tests.e2e.paths import PROJECT_ROOT

HOST = HARDEN_HOSTS["bookworm"]
DROP_IN = "/etc/ssh/sshd_config.d/00-vpskit-hardening.conf"


def drop_in_digest(lab) -> str:
    return sh(lab, HOST, f"sha256sum {DROP_IN}", ADMIN).stdout


def test_allow_groups_without_the_operator_is_reverted(lab, hardened, harden_inventory):
    before = drop_in_digest(lab)
    run = invoke("ssh", "-i", str(harden_inventory), "--limit", HOST, "--set", "ssh_allow_groups=[nogroup]")
    assert run.returncode == 1
    assert f"a fresh login as {ADMIN}@" in run.stdout and "the previous configuration was restored" in run.stdout
    assert drop_in_digest(lab) == before
    assert "allowgroups" not in sh(lab, HOST, "sshd -T", ADMIN).stdout
    assert invoke("check", "-i", str(harden_inventory), "--limit", HOST).returncode == 0


def test_a_broken_option_never_reaches_sshd(lab, hardened, harden_inventory):
    before = drop_in_digest(lab)
    run = invoke("ssh", "-i", str(harden_inventory), "--limit", HOST, "--set", "ssh_extra_settings={NoSuchOption: yes}")
    assert run.returncode == 1
    assert "validation failed" in run.stdout and "NoSuchOption" in run.stdout
    assert drop_in_digest(lab) == before
    assert sh(lab, HOST, "true", ADMIN).ok


LOCKOUT_PLAN = '''
import sys
from vpskit.confirm import Confirm
from vpskit.facts.ufw import UfwRule
from vpskit.resources.ufw import UfwRules
from vpskit.builtin_roles.firewall import RESTORE

def lockout_plan(timeout):
    """A firewall allow list without the SSH port (it deletes the tagged SSH rule)."""
    rules = UfwRules([UfwRule("allow", "tcp", "80", "any", "vpskit: http")], guarded=True,
                     guarded_paths=["/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/default/ufw", "/etc/ufw/ufw.conf"])
    return [rules], Confirm(restore=RESTORE, timeout=timeout)
'''


def lockout_role(timeout: int) -> PlanRole:
    namespace: dict = {}
    exec(LOCKOUT_PLAN, namespace)
    resources, confirm = namespace["lockout_plan"](timeout)
    role = PlanRole("firewall", resources)
    role.module._plan.confirm = confirm
    return role


def ssh_rule_present(conn: Connection) -> bool:
    return "# vpskit: ssh" in conn.run("ufw status").stdout


def test_a_firewall_without_the_ssh_port_is_reverted_at_once(lab, hardened):
    import io
    from vpskit.report import Reporter
    from vpskit.runner import RunOptions, run_roles
    host = lab_host(lab, HOST, vpskit_user=ADMIN, vpskit_connect_timeout=3)
    result = run_roles([host], [lockout_role(60)], RunOptions(), Reporter(stream=io.StringIO()))[0]
    assert result.error and "fresh login" in result.error and "previous configuration was restored" in result.error
    with Connection(lab_target(lab, HOST, ADMIN)) as conn:
        assert ssh_rule_present(conn)
        assert "80/tcp" in conn.run("ufw status").stdout  # the declared http rule is back as it was


def test_killing_the_controller_mid_apply_lets_the_host_revert_itself(lab, hardened, tmp_path):
    script = tmp_path / "controller.py"
    script.write_text(LOCKOUT_PLAN + textwrap.dedent(f'''
        import io
        from tests.e2e.helpers import PlanRole, lab_host
        from vpskit.lab import Lab
        from vpskit.report import Reporter
        from vpskit.runner import RunOptions, run_roles
        lab = Lab(name={lab.name!r}, subnet_prefix={lab.subnet_prefix!r})
        resources, confirm = lockout_plan(15)
        role = PlanRole("firewall", resources)
        role.module._plan.confirm = confirm
        host = lab_host(lab, {HOST!r}, vpskit_user={ADMIN!r}, vpskit_connect_timeout=8)
        run_roles([host], [role], RunOptions(), Reporter(stream=sys.stdout))
    '''))
    with Connection(lab_target(lab, HOST, ADMIN)) as watcher:  # an established session survives the lockout
        controller = subprocess.Popen([sys.executable, str(script)], cwd=PROJECT_ROOT,
                                      env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and ssh_rule_present(watcher):
                time.sleep(0.3)
            assert not ssh_rule_present(watcher), "the lockout was never applied"
            assert "vpskit-rollback-" in watcher.run("systemctl list-timers --all --no-legend").stdout
        finally:
            controller.send_signal(signal.SIGKILL)
            controller.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not ssh_rule_present(watcher):
            time.sleep(1)
        assert ssh_rule_present(watcher)
        assert watcher.run("ls /var/lib/vpskit/rollback/*/restored").ok
    assert sh(lab, HOST, "true", ADMIN).ok  # a fresh login works again


def test_moving_ssh_to_another_port_opens_it_first_and_then_closes_the_old_one(lab, hardened, harden_inventory):
    name = HARDEN_HOSTS["trixie"]
    move = ("--set", "ssh_port=2222")
    first = invoke("bootstrap", "-i", str(harden_inventory), "--limit", name, "--quiet", *move)
    assert first.returncode == 0, first.stdout[-3000:]
    with Connection(lab_target(lab, name, ADMIN, port=2222)) as conn:
        assert "port 2222" in conn.run("sshd -T").stdout
        status = conn.run("ufw status").stdout
        assert re.search(r"^2222/tcp\s", status, re.M) and re.search(r"^22/tcp\s", status, re.M)  # old port kept for now
    second = invoke("bootstrap", "-i", str(harden_inventory), "--limit", name, "--quiet", *move)
    assert second.returncode == 0, second.stdout[-3000:]
    with Connection(lab_target(lab, name, ADMIN, port=2222)) as conn:
        status = conn.run("ufw status").stdout
        assert re.search(r"^2222/tcp\s", status, re.M) and not re.search(r"^22/tcp\s", status, re.M)
    assert invoke("check", "-i", str(harden_inventory), "--limit", name, *move).returncode == 0
