"""One-host tasks outside a run (backups.restore, backups.list) go through the host's run lock, over a local shell
(tests/unit/localhost.py): refused while a run holds it, released after the task, looked at only by a read;
lab.break likewise."""

from __future__ import annotations

import subprocess

import pytest
from invoke import Context, Exit

from vpskit.connection import Target
from vpskit.errors import RemoteError, VpskitError
from vpskit.inventory.model import Host, Var
from vpskit.onehost import locked_session
from tests.unit.localhost import LocalConnection
from tests.unit.roletasks import role_tasks
from tests.unit.test_lock import process_start, write_lock


class RecordingConnection(LocalConnection):
    """LocalConnection that keeps the commands it ran."""

    def __init__(self, target: Target, on_retry=None):
        super().__init__(target, on_retry)
        self.commands: list[str] = []

    def run(self, command, stdin=None, timeout=None):
        self.commands.append(command if stdin is None else stdin.decode())
        return super().run(command, stdin, timeout)


@pytest.fixture
def lock(tmp_path, monkeypatch):
    """The host's lock file, in a tmp folder: the inventory refuses a vpskit_lock_path there, so it is the default."""
    (tmp_path / "run").mkdir()
    path = tmp_path / "run" / "vpskit" / "lock"
    monkeypatch.setattr("vpskit.onehost.LOCK_PATH", str(path))
    return path


@pytest.fixture
def opened(monkeypatch):
    """The connections the tasks open, each a local shell."""
    connections: list[RecordingConnection] = []

    def open_local(host, roles, trust_new_hosts=False):
        connections.append(RecordingConnection(Target(host.name, "127.0.0.1")))
        connections[-1].open()
        return connections[-1]
    monkeypatch.setattr("vpskit.onehost.connect", open_local)
    return connections


@pytest.fixture
def running_apply(lock):
    """Another run's apply holding the lock: a live process recorded as its SSH session."""
    proc = subprocess.Popen(["sleep", "30"])
    write_lock(lock, "otherrun", proc.pid, process_start(proc.pid))
    yield proc
    proc.kill()
    proc.wait()


def one_host(**values) -> Host:
    variables = {"vpskit_host": "192.0.2.1", "vpskit_lock_timeout": 0, **values}
    return Host("h1", ["backups"], {k: Var(v, "test") for k, v in variables.items()})


def inventory(tmp_path) -> str:
    path = tmp_path / "hosts.yml"
    path.write_text("all:\n  children:\n    backups:\n      hosts:\n        h1:\n          vpskit_host: 192.0.2.1\n"
                    "          vpskit_lock_timeout: 0\n")
    return str(path)


def restore(tmp_path):
    role_tasks("backups").restore(Context(), what="files", target="/root/restored", inventory=inventory(tmp_path),
                                  yes=True)


def test_a_restore_while_a_run_holds_the_lock_is_refused_naming_the_holder(tmp_path, lock, opened, running_apply,
                                                                           capsys):
    before = lock.read_text()
    with pytest.raises(Exit):
        restore(tmp_path)
    out = capsys.readouterr().out
    assert "h1: another vpskit run is working on this host: held by bob@desk from 10.9.9.9" in out
    assert "(run otherrun)" in out
    [conn] = opened
    assert not any("vpskit-backup" in command for command in conn.commands)  # nothing restored
    assert lock.read_text() == before  # the holder keeps its lock


def test_the_lock_is_released_after_a_failed_restore(tmp_path, lock, opened, capsys):
    with pytest.raises(Exit):
        restore(tmp_path)
    out = capsys.readouterr().out
    assert "h1: /usr/local/sbin/vpskit-backup restore files /root/restored failed (exit 127)" in out
    [conn] = opened
    ran = [c for c in conn.commands if "vpskit-backup" in c]
    assert ran and "run_id=" in conn.commands[0]  # the lock taken before the restore ran
    assert not lock.exists() and lock.parent.is_dir()  # and released after it failed


def test_listing_only_looks_at_the_lock(tmp_path, lock, opened, capsys):
    with pytest.raises(Exit):  # no vpskit-backup here: the listing fails, but it ran
        role_tasks("backups").list_(Context(), inventory=inventory(tmp_path))
    assert "vpskit-backup list failed" in capsys.readouterr().out
    assert not lock.parent.exists()  # a host never locked: nothing written


def test_a_locked_session_masks_the_hosts_secrets_and_releases_when_the_task_fails(lock, opened):
    host = one_host(backups_restic_password="hunter2-sesame")
    with pytest.raises(RemoteError) as raised:
        with locked_session(host, []) as session:
            assert lock.exists()
            session.run("echo 'wrong password hunter2-sesame' >&2; exit 3", "restore")
    assert "hunter2-sesame" not in str(raised.value) and "exit 3" in str(raised.value)
    assert not lock.exists()


def test_a_read_only_session_is_refused_too_while_an_apply_holds_the_lock(lock, opened, running_apply):
    host = one_host()
    with pytest.raises(VpskitError, match="held by bob@desk"):
        with locked_session(host, [], read_only=True):
            pass
    assert "run_id=otherrun" in lock.read_text()


def test_lab_break_is_refused_while_a_run_holds_the_lock(tmp_path, lock, opened, running_apply, monkeypatch, capsys):
    from vpskit.cli.lab_tasks import break_
    monkeypatch.setattr("vpskit.lab.breaks.lab_addresses", lambda: {"192.0.2.1"})
    with pytest.raises(Exit):
        break_(Context(), host="h1", scenario="updates-off", inventory=inventory(tmp_path))
    assert "h1: another vpskit run is working on this host: held by bob@desk" in capsys.readouterr().err
    [conn] = opened
    assert len(conn.commands) == 1  # the lock's look, and no scenario
