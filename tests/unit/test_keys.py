"""A passphrase-protected vpskit_ssh_key: used through a real ssh-agent that holds it, opened with the
passphrase given, or asked for on a terminal (once per key per run, never echoed); otherwise the run stops
saying what is wrong, not that the host refused the login."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from vpskit.connection import Connection, Target
from vpskit.errors import LoginRefusedError
from vpskit import keys
from vpskit.keys import PASSPHRASE_ENV, KeyPassphraseError, Keychain, key_file_auth

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def protected_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.setattr(keys, "terminal_prompt", lambda: None)  # as under cron: no terminal to ask on
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", PASSPHRASE, "-f", str(path)], check=True)
    return path


def test_without_agent_or_passphrase_the_run_stops_before_the_host_sees_anything(protected_key):
    target = Target("h", "192.0.2.1", key_file=str(protected_key), connect_retries=0, connect_timeout=1)
    with pytest.raises(KeyPassphraseError) as info:
        Connection(target).open()
    assert not isinstance(info.value, LoginRefusedError)
    message = str(info.value)
    assert f"key {protected_key} (vpskit_ssh_key) is passphrase-protected: load it into ssh-agent" in message
    assert "or run from a terminal" in message and f"ssh-add {protected_key}" in message
    assert "locked out" not in message and "console" not in message


def test_the_passphrase_given_opens_it_and_a_wrong_one_is_said(protected_key, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    auth = key_file_auth(str(protected_key))
    assert auth["pkey"].get_base64() == protected_key.with_suffix(".pub").read_text().split()[1]
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(KeyPassphraseError, match="does not open"):
        key_file_auth(str(protected_key))


def test_an_agent_that_holds_the_key_is_used(protected_key, tmp_path, monkeypatch):
    askpass = tmp_path / "askpass"
    askpass.write_text(f"#!/bin/sh\necho '{PASSPHRASE}'\n")
    askpass.chmod(0o700)
    socket = tmp_path / "agent.sock"
    started = subprocess.run(["ssh-agent", "-a", str(socket)], capture_output=True, text=True, check=True)
    pid = int(re.search(r"SSH_AGENT_PID=(\d+)", started.stdout).group(1))
    try:
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
        subprocess.run(["ssh-add", "-q", str(protected_key)], check=True, stdin=subprocess.DEVNULL,
                       env={**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"})
        auth = key_file_auth(str(protected_key))
        assert auth["pkey"].get_base64() == protected_key.with_suffix(".pub").read_text().split()[1]
        assert auth["allow_agent"] is False  # the agent's one key that matches, not all of them
    finally:
        os.kill(pid, 15)


def test_a_plain_key_file_is_offered_as_before(tmp_path, monkeypatch):
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    assert key_file_auth(str(path)) == {"key_filename": [str(path)], "allow_agent": False, "look_for_keys": False}


def test_the_agent_is_matched_by_the_public_key_inside_the_key_file_without_a_pub(protected_key, tmp_path,
                                                                                  monkeypatch):
    public = protected_key.with_suffix(".pub").read_text().split()[1]
    protected_key.with_suffix(".pub").unlink()
    assert keys._public_blob(str(protected_key)) == public  # OpenSSH keeps it in clear beside the encrypted part
    ask = []
    auth = Keychain(ask=lambda text: ask.append(text) or PASSPHRASE).auth(str(protected_key))
    assert ask and auth["pkey"].get_base64() == public  # no agent: asked, and opened


def test_asked_once_per_key_for_every_host_of_a_run_even_in_parallel(protected_key):
    import threading
    asked = []
    chain = Keychain(ask=lambda text: asked.append(text) or PASSPHRASE)
    opened = []
    threads = [threading.Thread(target=lambda: opened.append(chain.auth(str(protected_key)))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(asked) == 1 and f"key {protected_key}" in asked[0] and PASSPHRASE not in asked[0]
    assert len(opened) == 8 and len({id(a["pkey"]) for a in opened}) == 1


def test_a_mistyped_passphrase_is_asked_again_then_the_run_stops_without_asking_more(protected_key):
    answers = iter(["typo", PASSPHRASE])
    asked = []
    chain = Keychain(ask=lambda text: asked.append(text) or next(answers))
    assert chain.auth(str(protected_key))["pkey"] is not None and len(asked) == 2
    wrong = []
    chain = Keychain(ask=lambda text: wrong.append(text) or "wrong")
    for _ in range(2):  # a second host of the run: the same answer, not three more prompts
        with pytest.raises(KeyPassphraseError, match="typed 3 times does not open") as info:
            chain.auth(str(protected_key))
        assert "wrong" not in str(info.value)
    assert len(wrong) == 3


def test_on_a_real_terminal_it_asks_once_without_echo(protected_key, tmp_path):
    """A child process with a pseudo-terminal as its controlling terminal, as an operator's shell gives."""
    import fcntl
    import pty
    import select
    import termios
    script = ("import sys; from vpskit.keys import Keychain; chain = Keychain(environ={}); "
              f"[chain.auth({str(protected_key)!r}) for _ in range(3)]; print('opened three times')")
    controller, terminal = pty.openpty()

    def own_terminal():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen([os.sys.executable, "-c", script], stdin=terminal, stdout=terminal, stderr=terminal,
                             start_new_session=True, preexec_fn=own_terminal, cwd=os.getcwd())
    os.close(terminal)
    seen = b""
    answered = False
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"Enter passphrase for key" in seen:
                os.write(controller, PASSPHRASE.encode() + b"\n")
                answered = True
    finally:
        os.close(controller)
        assert child.wait(timeout=30) == 0, seen
    text = seen.decode(errors="replace")
    assert text.count("Enter passphrase for key") == 1 and "opened three times" in text
    assert PASSPHRASE not in text  # no echo


def test_the_connections_of_a_run_share_its_keychain_so_a_key_is_asked_for_once(protected_key):
    import socket
    from vpskit.errors import ConnectError
    from vpskit.inventory.model import Host, Var
    from vpskit.logins import target_for
    from vpskit.role import Login
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens: each connection fails at once, after its key was opened
    asked = []
    chain = Keychain(ask=lambda text: asked.append(text) or PASSPHRASE)
    for name in ("h1", "h2"):
        values = {"vpskit_host": "127.0.0.1", "vpskit_ssh_key": str(protected_key), "vpskit_connect_retries": 0}
        host = Host(name, vars={k: Var(v, "hosts.yml:1") for k, v in values.items()})
        target = target_for(host, [Login("root", port)], keys=chain)
        assert target.keys is chain
        with pytest.raises(ConnectError, match="cannot connect"):
            Connection(target).open()
    assert len(asked) == 1
