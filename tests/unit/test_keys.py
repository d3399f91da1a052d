"""A passphrase-protected vpskit_ssh_key: used through a real ssh-agent that holds it, or opened with the
passphrase given; otherwise the run stops saying what is wrong, not that the host refused the login."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from vpskit.connection import Connection, Target
from vpskit.errors import LoginRefusedError
from vpskit.keys import PASSPHRASE_ENV, KeyPassphraseError, key_file_auth

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def protected_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", PASSPHRASE, "-f", str(path)], check=True)
    return path


def test_without_agent_or_passphrase_the_run_stops_before_the_host_sees_anything(protected_key):
    target = Target("h", "192.0.2.1", key_file=str(protected_key), connect_retries=0, connect_timeout=1)
    with pytest.raises(KeyPassphraseError) as info:
        Connection(target).open()
    assert not isinstance(info.value, LoginRefusedError)
    message = str(info.value)
    assert "protected by a passphrase" in message and f"ssh-add {protected_key}" in message
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
