"""Connection errors without a network: every login refused by authentication reads as a lockout, with the way back."""

import socket

import pytest
from paramiko.ssh_exception import AuthenticationException

from vpskit.confirm import Confirm, Guard
from vpskit.connection import Connection, Target, refused_message
from vpskit.errors import ConnectError, LoginRefusedError, VpskitError
from tests.unit.factstub import StubFacts
from tests.unit.recording import RecordingSession

REFUSED = [("ops", 2222, "Authentication failed."), ("ops", 22, "Authentication failed."),
           ("root", 2222, "Authentication failed."), ("root", 22, "Authentication failed.")]


def test_the_lockout_message_names_the_logins_the_cause_and_the_way_back():
    text = refused_message("203.0.113.10", REFUSED, "/home/me/.ssh/vps")
    assert text.startswith("authentication failed for ops@203.0.113.10:2222 (Authentication failed.); "
                           "ops@203.0.113.10:22 (Authentication failed.); root@203.0.113.10:2222")
    assert "root@203.0.113.10:22 (Authentication failed.)" in text
    assert "refuses the key /home/me/.ssh/vps (vpskit_ssh_key)" in text
    assert "root login is off and ~ops/.ssh/authorized_keys no longer holds your public key" in text
    assert "or /home/me/.ssh/vps is not the key that was authorised" in text
    assert "provider's web console or rescue system" in text
    assert "put your public key back into ~ops/.ssh/authorized_keys (owned by ops" in text
    assert text.endswith("then rerun vpskit.")


def test_without_an_admin_or_a_key_file_the_message_says_so():
    text = refused_message("vps1.example.com", [("root", 22, "Authentication failed.")], None)
    assert "authentication failed for root@vps1.example.com:22 (Authentication failed.)" in text
    assert "refuses the keys of your SSH agent and ~/.ssh" in text
    assert "root login is off" not in text and "~root/.ssh/authorized_keys no longer holds your public key" in text
    assert "name it with vpskit_ssh_key" in text


def connection(monkeypatch, failures: dict) -> Connection:
    """A Connection whose logins fail as `failures` says, by (user, port), without touching the network."""
    class OpenedKeys:  # the run's keychain, with the key file already opened
        def auth(self, path):
            return {"key_filename": [path]}
    target = Target("h", "192.0.2.1", 2222, "ops", key_file="/k", connect_retries=0, fallbacks=[("root", 22)],
                    keys=OpenedKeys())
    conn = Connection(target)

    def connect_once(user, port, auth=None):
        raise failures[(user, port)]
    monkeypatch.setattr(conn, "_connect_once", connect_once)
    return conn


def test_every_login_refused_is_a_lockout(monkeypatch):
    conn = connection(monkeypatch, {("ops", 2222): AuthenticationException("Authentication failed."),
                                    ("root", 22): AuthenticationException("Authentication failed.")})
    with pytest.raises(LoginRefusedError) as info:
        conn.open()
    assert "ops@192.0.2.1:2222 (Authentication failed.); root@192.0.2.1:22" in str(info.value)
    assert "~ops/.ssh/authorized_keys" in str(info.value)
    assert info.value.tried == "ops@192.0.2.1:2222 (Authentication failed.); root@192.0.2.1:22 (Authentication failed.)"


def test_a_login_that_did_not_reach_sshd_is_not_called_a_lockout(monkeypatch):
    conn = connection(monkeypatch, {("ops", 2222): socket.timeout("timed out"),
                                    ("root", 22): AuthenticationException("Authentication failed.")})
    with pytest.raises(ConnectError) as info:
        conn.open()
    assert not isinstance(info.value, LoginRefusedError)
    assert "provider" not in str(info.value)


def test_a_refused_fresh_login_during_commit_confirmed_gives_no_lockout_advice(monkeypatch):
    class Refused:
        def __init__(self, target):
            pass

        def __enter__(self):
            raise LoginRefusedError("long advice about consoles", "ops@192.0.2.1:2222 (Authentication failed.)")

        def __exit__(self, *exc):
            return False
    monkeypatch.setattr("vpskit.confirm.Connection", Refused)
    guard = Guard(Confirm(restore="systemctl reload ssh"), [], RecordingSession(facts=StubFacts([])), "ssh")
    with pytest.raises(VpskitError) as info:
        guard.verify(Target("h", "192.0.2.1", 2222, "ops"))
    assert str(info.value) == ("a fresh login as ops@192.0.2.1:2222 failed: authentication failed for "
                               "ops@192.0.2.1:2222 (Authentication failed.)")
