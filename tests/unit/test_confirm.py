"""The commit-confirmed window, run for real under `sh` in a temporary root.

systemctl is a stand-in that only records its arguments (the units' behaviour under systemd is the e2e
test's, tests/e2e/test_faults.py); the snapshot, the lock between steps, restore and confirmation, and the
markers are the real scripts.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.unit.localhost import LocalConnection
from vpskit import confirm
from vpskit.confirm import Confirm, Guard
from vpskit.connection import Target
from vpskit.errors import RemoteError
from vpskit.hostrun import PlanExecutor
from vpskit.resources import File, Handler
from vpskit.resources.base import Outcome, Resource
from vpskit.resources.files import FilePlan
from vpskit.role import RolePlan
from vpskit.session import HostSession


@pytest.fixture
def host(tmp_path, monkeypatch):
    """ROLLBACK_ROOT and UNIT_DIR under tmp_path, and a systemctl that writes its arguments to systemctl.log."""
    monkeypatch.setattr(confirm, "ROLLBACK_ROOT", str(tmp_path / "rollback"))
    monkeypatch.setattr(confirm, "UNIT_DIR", str(tmp_path / "units"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/systemctl.log\n')
    (bin_dir / "systemctl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return tmp_path


def sh(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", script, "sh", *args], capture_output=True, text=True)


def arm(host: Path, ident: str, paths: list[Path], restore: str = "true") -> Path:
    done = sh(confirm.arm_script(ident, [str(p) for p in paths], restore, 60, "ssh"))
    assert done.returncode == 0, done.stderr
    return host / "rollback" / ident


def test_snapshot_keeps_a_path_with_a_space_whole(host):
    kept = host / "etc dir" / "a b.conf"
    kept.parent.mkdir()
    kept.write_text("x\n")
    missing = host / "gone.conf"
    d = arm(host, "t-1", [kept, missing])
    assert (d / "absent").read_text() == f"{missing}\n"
    with tarfile.open(d / "files.tar") as archive:
        assert archive.getnames() == [str(kept).lstrip("/")]


def test_the_revert_is_a_persistent_unit_a_boot_also_runs(host):
    arm(host, "t-1", [])
    units = host / "units"
    wanted = units / "multi-user.target.wants" / "vpskit-rollback-t-1.service"
    assert wanted.is_symlink() and wanted.resolve() == (units / "vpskit-rollback-t-1.service").resolve()
    service = (units / "vpskit-rollback-t-1.service").read_text()
    assert "WantedBy=multi-user.target" in service and f"{host}/rollback/t-1/restore.sh" in service
    assert "OnActiveSec=60" in (units / "vpskit-rollback-t-1.timer").read_text()
    assert (host / "systemctl.log").read_text().splitlines()[-1] == "start vpskit-rollback-t-1.timer"


def test_a_restore_puts_the_snapshot_back_once_closes_the_window_and_deletes_the_host_keys(host):
    key, created = host / "ssh_host_rsa_key", host / "new.conf"
    key.write_text("old private key\n")
    d = arm(host, "t-1", [key, created])
    key.write_text("new private key\n")
    created.write_text("added by the change\n")
    assert sh(f"sh {d}/restore.sh").returncode == 0  # as the timer or a boot runs it
    assert key.read_text() == "old private key\n" and not created.exists()
    assert (d / "restored").read_text().endswith(" by the host\n")
    assert not (d / "files.tar").exists() and not (d / "armed").exists()
    assert not list((host / "units").rglob("vpskit-rollback-*"))  # neither the timer nor a boot runs it again
    key.write_text("newer\n")
    sh(f"sh {d}/restore.sh vpskit")
    assert key.read_text() == "newer\n" and (d / "restored").read_text().endswith(" by the host\n")


def test_no_step_runs_after_the_restore(host):
    d = arm(host, "t-1", [])
    step = confirm.step_prefix("t-1") + "\necho ran"
    assert sh(step).stdout == "ran\n"
    sh(f"sh {d}/restore.sh")
    refused = sh(step)
    assert refused.returncode == confirm.REVERTED and refused.stdout == ""
    assert "already restored the previous configuration" in refused.stderr


def test_the_confirmation_waits_for_a_running_restore_and_reports_it(host):
    held, release = host / "held", host / "release"
    os.mkfifo(held)
    os.mkfifo(release)
    kept = host / "a.conf"
    kept.write_text("old\n")
    d = arm(host, "t-1", [kept], restore=f"echo in > {held}; read x < {release}")
    kept.write_text("new\n")
    restore = subprocess.Popen(["sh", f"{d}/restore.sh"])
    with open(held) as fifo:  # the restore is inside its lock, in the middle of its reload
        fifo.read()
    disarm = subprocess.Popen(["sh", "-c", confirm.disarm_script("t-1")], stdout=subprocess.PIPE, text=True)
    with open(release, "w") as fifo:
        fifo.write("go\n")
    assert restore.wait() == 0
    out, _ = disarm.communicate()
    assert disarm.returncode == 3 and out.startswith("restored ")
    assert kept.read_text() == "old\n"


def test_a_timer_that_fires_as_the_change_is_confirmed_restores_nothing(host):
    kept = host / "a.conf"
    kept.write_text("old\n")
    d = arm(host, "t-1", [kept])
    late = host / "late-restore.sh"  # the timer's copy, started while the confirmation held the lock
    late.write_text((d / "restore.sh").read_text())
    kept.write_text("new\n")
    assert sh(confirm.disarm_script("t-1")).returncode == 0
    assert not d.exists()
    assert sh(f"sh {late}").returncode == 0
    assert kept.read_text() == "new\n"


def test_arming_removes_the_snapshots_of_closed_windows_only(host):
    closed = host / "rollback" / "ssh-old"
    closed.mkdir(parents=True)
    (closed / "files.tar").write_text("private host keys")
    (closed / "restored").write_text("restored 2026-01-01T00:00:00Z by the host\n")
    open_window = arm(host, "firewall-1", [])
    arm(host, "ssh-2", [])
    assert not closed.exists() and open_window.exists()


# -- the executor: faults during a guarded apply -------------------------------------------------------


class RunsTheTimer(Resource):
    """A step during which the host's timer fires (the apply outlasts its window)."""

    kind = "slow step"

    def __init__(self):
        super().__init__("the timer fires", guarded=True)

    def check(self, facts):
        return Outcome.change("always")

    def apply(self, session, outcome):
        session.connection.run(f"sh {confirm.ROLLBACK_ROOT}/*/restore.sh")  # the timer, outside the step's shell


class Raises(Resource):
    """A step whose session fails under it: a timeout, or the connection dropping for good."""

    kind = "failing step"

    def __init__(self, error: BaseException, connection=None):
        super().__init__(type(error).__name__, guarded=True)
        self.error, self.connection = error, connection

    def check(self, facts):
        return Outcome.change("always")

    def apply(self, session, outcome):
        if self.connection:
            self.connection.dropped = True
        raise self.error


class DroppingConnection(LocalConnection):
    dropped = False

    def run(self, command, stdin=None, timeout=None):
        if self.dropped:
            raise EOFError("the SSH session dropped")
        return super().run(command, stdin, timeout)


def execute(host, resources, connection=None, handlers=()):
    connection = connection or LocalConnection(Target("h", "127.0.0.1"))
    connection.open()
    records = []
    session = HostSession("h", connection)
    executor = PlanExecutor(session, False, lambda *record: records.append(record),
                            lambda login: Target("h", "127.0.0.1"))
    plan = RolePlan("ssh", resources, list(handlers), confirm=Confirm(timeout=60))
    try:
        executor.run([plan])
        return None, records
    except RemoteError as exc:
        return str(exc), records
    finally:
        connection.close()


@pytest.fixture
def no_fresh_login(monkeypatch):
    monkeypatch.setattr(Guard, "verify", lambda self, target: None)


def test_a_revert_during_a_slow_apply_leaves_the_old_state_and_says_so(host, no_fresh_login):
    first, second = host / "first.conf", host / "second.conf"
    first.write_text("old\n")
    second.write_text("old\n")
    error, records = execute(host, [File(str(first), content="new\n", guarded=True)] + [RunsTheTimer()]
                             + [File(str(second), content="new\n", guarded=True)], handlers=[])
    assert first.read_text() == second.read_text() == "old\n"
    assert "this step was not run" in error
    assert "the host's automatic revert had already restored the previous configuration" in error
    assert ("ssh", f"file {second}", "failed") == records[-2][:3]


def test_a_revert_after_the_last_step_is_not_reported_as_cancelled(host, no_fresh_login):
    kept = host / "a.conf"
    kept.write_text("old\n")
    error, records = execute(host, [File(str(kept), content="new\n", guarded=True), RunsTheTimer()])
    assert kept.read_text() == "old\n"
    assert "came after the 60s window had closed" in error and "already restored" in error
    assert not [r for r in records if r[1] == "fresh login confirmed"]


def test_a_confirmed_change_stays_and_leaves_no_snapshot(host, no_fresh_login):
    kept = host / "ssh_host_rsa_key"
    kept.write_text("old\n")
    error, records = execute(host, [File(str(kept), content="new\n", guarded=True)],
                             handlers=[Handler("reload", "true")])
    assert error is None and kept.read_text() == "new\n"
    assert records[-1][1:3] == ("fresh login confirmed", "ok")
    assert list((host / "rollback").iterdir()) == []


def test_an_unexpected_exception_is_rolled_back_at_once(host, no_fresh_login):
    kept = host / "a.conf"
    kept.write_text("old\n")
    error, records = execute(host, [File(str(kept), content="new\n", guarded=True)] + [Raises(TimeoutError("60s"))])
    assert kept.read_text() == "old\n"
    assert "TimeoutError: 60s" in error and "the previous configuration was restored" in error
    assert records[-1][1:3] == ("revert", "changed")


def test_a_dropped_session_says_truly_that_the_host_reverts_by_itself(host, no_fresh_login):
    kept = host / "a.conf"
    kept.write_text("old\n")
    connection = DroppingConnection(Target("h", "127.0.0.1"))
    error, records = execute(host, [File(str(kept), content="new\n", guarded=True)]
                             + [Raises(EOFError("the SSH session dropped"), connection)], connection)
    assert "immediate revert failed" in error and "the host restores the previous configuration by itself at" in error
    assert records[-1][1:3] == ("revert", "failed")
    assert kept.read_text() == "new\n"
    [restore] = (host / "rollback").glob("*/restore.sh")
    sh(f"sh {restore}")  # what the host's timer then does
    assert kept.read_text() == "old\n"


def test_a_secret_file_keeps_no_old_copy_and_forgets_one_kept_before(tmp_path, monkeypatch):
    from vpskit.resources import files
    monkeypatch.setattr(files, "BACKUP_ROOT", str(tmp_path / "backups"))
    plain, secret = tmp_path / "etc" / "plain.yaml", tmp_path / "etc" / "config.yaml"
    plain.parent.mkdir()
    for path in (plain, secret):
        path.write_text("old\n")
    kept_before = tmp_path / "backups" / str(secret).lstrip("/")
    kept_before.parent.mkdir(parents=True)
    kept_before.write_text("token: the old one\n")
    connection = LocalConnection(Target("h", "127.0.0.1"))
    connection.open()
    session = HostSession("h", connection)
    for resource in (File(str(plain), content="new\n"), File(str(secret), content="token: x\n", mode="0600", secret=True)):
        plan = FilePlan("write", resource.content.encode(), resource.owner, resource.group, resource.mode)
        resource.apply(session, Outcome.change("x", plan=plan))
    connection.close()
    assert secret.read_text() == "token: x\n" and not kept_before.exists()
    assert (tmp_path / "backups" / str(plain).lstrip("/")).read_text() == "old\n"
