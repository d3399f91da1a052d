"""Commit-confirmed under faults, on a lab host of its own: the host ends old or new, the login works, the
message is true.

The lockout is real: a drop-in that denies root, the login vpskit and the operator use here, reloaded into sshd.
"A reboot inside the window" is a real reboot where the lab can restart hosts (Lab.reboot, issue 25);
before that lands it is what a reboot does to the host, done by hand: every process of the run is gone (the
step still running on the host is killed), the timer is not running (it has no [Install]: a boot never
starts it), and the boot starts multi-user.target, which starts every unit it wants that is not running:
the revert among them while the snapshot is armed.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.e2e.conftest import LAB_NAME, LAB_SUBNET
from tests.e2e.helpers import PlanRole, apply_one, lab_host, lab_target, sh, summary, wait_for
from tests.e2e.paths import PROJECT_ROOT
from vpskit.confirm import Confirm
from vpskit.connection import Connection
from vpskit.lab import Lab
from vpskit.report import Reporter
from vpskit.resources import File
from vpskit.runner import RunOptions, run_roles

INDEX = 16
HOST = f"{LAB_NAME}{INDEX}"
DENY = "/etc/ssh/sshd_config.d/00-faults-deny-root.conf"
LATER = "/etc/faults-later.conf"
ROLLBACK = "/var/lib/vpskit/rollback"

PLAN = '''
from vpskit.confirm import Confirm
from vpskit.resources import Command, File, FlushHandlers, Handler

def deny_root_plan(timeout, slow="sleep 600"):
    """sshd denies root (the lockout), then a slow step, then one more file: all commit-confirmed."""
    deny = File("/etc/ssh/sshd_config.d/00-faults-deny-root.conf", content="DenyUsers root\\n",
                notify=["reload ssh"], guarded=True)
    slow_step = Command(slow, unless="false", name="a slow step", guarded=True)
    later = File("/etc/faults-later.conf", content="applied after the slow step\\n", guarded=True)
    return ([deny, FlushHandlers(), slow_step, later], [Handler("reload ssh", "systemctl reload ssh")],
            Confirm(restore="systemctl reload ssh", timeout=timeout))
'''


@pytest.fixture(scope="module")
def lab(lab_capable):
    lab = Lab(name=LAB_NAME, subnet_prefix=LAB_SUBNET, log=lambda m: print(f"[lab] {m}"))
    lab.up(INDEX, "bookworm", first=INDEX)
    yield lab
    lab.stop_host(HOST)


def role(timeout: int, slow: str):
    namespace: dict = {}
    exec(PLAN, namespace)
    resources, handlers, confirm = namespace["deny_root_plan"](timeout, slow)
    plan_role = PlanRole("ssh", resources, handlers)
    plan_role.module._plan.confirm = confirm
    return plan_role


def root_login_works(lab) -> bool:
    try:
        with Connection(lab_target(lab, HOST)) as conn:
            return conn.run("true").ok
    except Exception:  # noqa: BLE001 - refused or reset: not working
        return False


def host_is_old(watcher: Connection) -> bool:
    return watcher.run(f"test ! -e {DENY} && test ! -e {LATER} && ! sshd -T | grep -qi '^denyusers'").ok


def nothing_left(watcher: Connection) -> str:
    """The window's leftovers: snapshots (private host keys among them) and units; empty when all closed."""
    return watcher.run(f"ls {ROLLBACK}/*/files.tar {ROLLBACK}/*/armed /etc/systemd/system/vpskit-rollback-* "
                       f"/etc/systemd/system/multi-user.target.wants/vpskit-rollback-* 2>/dev/null").stdout


def test_a_revert_that_fires_during_a_slow_step_waits_for_it_and_no_later_step_runs(lab):
    host = lab_host(lab, HOST, vpskit_connect_timeout=3)
    result = run_roles([host], [role(4, "sleep 8")], RunOptions(), Reporter(stream=io.StringIO()))[0]
    assert result.error, "the change outlasted its window: the run must fail"
    assert "already restored the previous configuration" in result.error
    assert "the previous configuration was restored" not in result.error
    assert root_login_works(lab)
    with Connection(lab_target(lab, HOST)) as watcher:
        assert host_is_old(watcher)
        assert watcher.run(f"grep -h 'by the host' {ROLLBACK}/*/restored").ok
        assert nothing_left(watcher) == ""


def test_a_reboot_inside_the_window_boots_the_old_configuration(lab, tmp_path):
    script = tmp_path / "controller.py"
    script.write_text(PLAN + textwrap.dedent(f'''
        import sys
        from tests.e2e.helpers import PlanRole, lab_host
        from vpskit.lab import Lab
        from vpskit.report import Reporter
        from vpskit.runner import RunOptions, run_roles
        lab = Lab(name={lab.name!r}, subnet_prefix={lab.subnet_prefix!r})
        resources, handlers, confirm = deny_root_plan(600)
        role = PlanRole("ssh", resources, handlers)
        role.module._plan.confirm = confirm
        run_roles([lab_host(lab, {HOST!r}, vpskit_connect_timeout=8)], [role], RunOptions(), Reporter(stream=sys.stdout))
    '''))
    with Connection(lab_target(lab, HOST)) as watcher:  # an established session survives the lockout
        controller = subprocess.Popen([sys.executable, str(script)], cwd=PROJECT_ROOT,
                                      env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_for(lambda: watcher.run("pgrep -x -f 'sleep 600'").ok, 60), "the slow step never started"
        finally:
            controller.send_signal(signal.SIGKILL)
            controller.wait()
        assert watcher.run("sshd -T | grep -qi '^denyusers root'").ok and not root_login_works(lab)
        unit = watcher.run(f"basename {ROLLBACK}/*/ | sed 's/^/vpskit-rollback-/'").stdout.strip()
        assert watcher.run(f"systemctl is-enabled {unit}.service").stdout.strip() == "enabled"
        if not hasattr(lab, "reboot"):
            # what a reboot does, by hand: the run's processes die, the timer does not come back (it has no
            # [Install]), the boot starts its target, which starts the units it wants that are not running
            pid = watcher.run("pgrep -x -f 'sleep 600'").stdout.split()[0]
            watcher.run(f"kill {pid}; systemctl stop {unit}.timer")
            assert watcher.run("systemctl start multi-user.target").ok
    if hasattr(lab, "reboot"):  # the lab restarts hosts (issue 25): a real reboot, lockout still applied
        boots = len(lab.boots(HOST))
        lab.reboot(HOST)
        assert len(lab.boots(HOST)) == boots + 1
    assert wait_for(lambda: root_login_works(lab), 90), "the boot kept the half-applied configuration"
    with Connection(lab_target(lab, HOST)) as after:
        assert host_is_old(after)
        assert after.run(f"grep -h 'by the host' {ROLLBACK}/*/restored").ok
        # this boot ran the revert (its journal), not the timer: it would have fired only after 600 s
        assert "restore what role ssh changed" in after.run(f"journalctl -b -u {unit}.service --no-pager").stdout
        assert nothing_left(after) == ""


def test_a_confirmed_change_leaves_no_snapshot_and_no_unit(lab):
    host = lab_host(lab, HOST)
    keep = PlanRole("ssh", [], [])
    change = File(LATER, content="confirmed\n", guarded=True)
    keep.module._plan.resources = [change]
    keep.module._plan.confirm = Confirm(timeout=60)
    result = run_roles([host], [keep], RunOptions(), Reporter(stream=io.StringIO()))[0]
    assert result.error is None
    with Connection(lab_target(lab, HOST)) as watcher:
        assert watcher.run(f"cat {LATER}").stdout == "confirmed\n"
        assert nothing_left(watcher) == "" and watcher.run(f"ls -A {ROLLBACK}").stdout == ""
        watcher.run(f"rm -f {LATER}")


def test_known_hosts_marker_lines_warn_or_refuse_instead_of_stopping_every_connection(lab, tmp_path):
    from dataclasses import replace
    from vpskit.errors import HostKeyError
    real = lab.known_hosts_path.read_text()
    ca = tmp_path / "with-ca"
    ca.write_text(f"@cert-authority *.example.com {real.splitlines()[0].split(None, 1)[1]}\n{real}")
    said: list[str] = []
    with Connection(replace(lab_target(lab, HOST), known_hosts=[str(ca)]), on_retry=said.append) as conn:
        assert conn.run("true").ok
    assert said and f"{ca}:1: @cert-authority skipped" in said[0]
    address = lab.load_state().hosts[HOST].address
    key_line = next(line for line in real.splitlines() if line.split()[0] == address)
    revoked = tmp_path / "revoked"
    revoked.write_text(f"@revoked * {key_line.split(None, 1)[1]}\n{real}")
    with pytest.raises(HostKeyError, match="@revoked"):
        with Connection(replace(lab_target(lab, HOST), known_hosts=[str(revoked)], connect_retries=0)) as conn:
            conn.run("true")


def test_a_passphrase_protected_key_logs_in_with_its_passphrase_and_says_so_without(lab, tmp_path, monkeypatch):
    import shutil
    from dataclasses import replace
    from vpskit import keys
    from vpskit.keys import PASSPHRASE_ENV, KeyPassphraseError
    key = tmp_path / "id_ed25519"
    shutil.copy(lab.key_path, key)
    key.chmod(0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-N", "lab passphrase", "-f", str(key)], check=True)
    target = replace(lab_target(lab, HOST), key_file=str(key))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.setattr(keys, "terminal_prompt", lambda: None)  # as under cron
    with pytest.raises(KeyPassphraseError, match="is passphrase-protected: load it into ssh-agent"):
        Connection(target).open()
    monkeypatch.setenv(PASSPHRASE_ENV, "lab passphrase")
    with Connection(target) as conn:
        assert conn.run("true").ok


def test_unlock_names_the_hung_run_and_ends_its_session(lab, tmp_path):
    from tests.e2e.helpers import invoke
    from vpskit.facts import HostLockFact
    from vpskit.gather import FactCache
    inventory = tmp_path / "hosts.yml"
    lab.write_inventory(inventory)
    hung = Connection(lab_target(lab, HOST))
    held = FactCache(HOST, lambda script: hung.run("sh -s", stdin=script.encode())).get(
        HostLockFact("hungrun1", "bob@desk", "10.9.9.9", 0))
    assert held.acquired
    run = invoke("unlock", HOST, "-i", str(inventory), "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "locked by bob@desk" in run.stdout and "still open" in run.stdout and "lock broken" in run.stdout
    with pytest.raises(Exception):  # the hung run's session was ended on the host
        hung.run("true")
    hung.close()
    assert "not locked" in invoke("unlock", HOST, "-i", str(inventory)).stdout


def test_an_air_gap_upload_as_a_sudo_login_reaches_the_root_only_staging_folder(lab, tmp_path):
    """After hardening vpskit logs in as the admin: SFTP then writes as that user, not root (issue 20)."""
    import hashlib
    from types import SimpleNamespace
    from roles.k3s import artifacts
    from roles.k3s.binary import BINARY, STAGE, K3sBinary
    from vpskit.resources import Directory
    from vpskit.resources.transfer import UPLOADS
    admin, version = "faultadmin", "v1.31.4+k3s1"
    sh(lab, HOST, f"id {admin} >/dev/null 2>&1 || useradd -m -s /bin/bash {admin}; "
                  f"echo '{admin} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{admin}; chmod 0440 /etc/sudoers.d/{admin}; "
                  f"install -d -m 0700 -o {admin} -g {admin} /home/{admin}/.ssh; "
                  f"install -m 0600 -o {admin} -g {admin} /root/.ssh/authorized_keys /home/{admin}/.ssh/; "
                  f"rm -rf {STAGE} {UPLOADS} {BINARY}")
    folder = tmp_path / "airgap"
    folder.mkdir()
    binary = f"#!/bin/sh\necho 'k3s version {version} (faults)'\n".encode() + b"#" * (3 << 20)
    (folder / "k3s").write_bytes(binary)
    (folder / "sha256sum-amd64.txt").write_text(f"{hashlib.sha256(binary).hexdigest()}  k3s\n")
    ctx = SimpleNamespace(get={"k3s_airgap_dir": str(folder)}.get)

    def resources():
        return [Directory(STAGE, mode="0700"), *artifacts(ctx, version),
                K3sBinary(version, "https://example.invalid", airgap=True)]

    host = lab_host(lab, HOST, vpskit_user=admin)
    first = apply_one(host, resources())
    assert first.error is None, first.error
    assert sh(lab, HOST, f"stat -c '%U %a' {STAGE} {STAGE}/{version}/k3s; {BINARY} --version").stdout.split("\n")[:3] \
        == ["root 700", "root 600", f"k3s version {version} (faults)"]
    assert sh(lab, HOST, f"stat -c '%U %a' {UPLOADS}; ls -A {UPLOADS}").stdout.strip() == "root 711"
    again = apply_one(host, resources())
    assert again.error is None and summary(again)["changed"] == 0
    sh(lab, HOST, f"rm -rf {STAGE} {UPLOADS} {BINARY}")


def test_a_killed_writes_temp_file_is_swept_by_the_next_run_even_one_that_writes_elsewhere(lab):
    """A run killed mid-write left `.vpskit-XXXXXX` in a folder; the next run writes into another folder only,
    and still sweeps it (its first round trip, under its lock), keeping a recent temp and a stranger's file."""
    folder, elsewhere = "/srv/faults3-a", "/srv/faults3-b"
    host = lab_host(lab, HOST)
    first = PlanRole("writes", [File(f"{folder}/app.conf", content="a\n")], [])
    assert run_roles([host], [first], RunOptions(), Reporter(stream=io.StringIO()))[0].error is None
    with Connection(lab_target(lab, HOST)) as watcher:
        planted = watcher.run(f"cd {folder} && echo x > .vpskit-Kill3d && touch -d '-2 hours' .vpskit-Kill3d && "
                              "echo x > .vpskit-Fresh1 && echo x > notes.txt && touch -d '-2 hours' notes.txt")
        assert planted.ok, planted.stderr
        other = PlanRole("writes", [File(f"{elsewhere}/b.conf", content="b\n")], [])
        result = run_roles([host], [other], RunOptions(), Reporter(stream=io.StringIO()))[0]
        assert result.error is None and result.commands <= 3
        assert watcher.run(f"ls -A {folder}").stdout.split() == [".vpskit-Fresh1", "app.conf", "notes.txt"]
        watcher.run(f"rm -rf {folder} {elsewhere}")
