"""The key a connection offers for `vpskit_ssh_key`, opened as ssh opens it, once per key per run.

A key file without a passphrase is offered as it is. A passphrase-protected one is offered through the SSH
agent that holds it (matched by its public key: the .pub beside it, or the copy an OpenSSH-format key file
keeps in clear; without either, every key of the agent is offered, as ssh does), else opened with the
passphrase in VPSKIT_SSH_KEY_PASSPHRASE, else with the passphrase asked on the terminal (never echoed, never
kept: the opened key is). With none of these, the run stops saying so before anything is sent to the host,
instead of reporting a refused login (which it is not).
"""

from __future__ import annotations

import base64
import getpass
import os
import struct
import threading
from typing import Callable

import paramiko
from paramiko.ssh_exception import PasswordRequiredException, SSHException

from .errors import ConnectError

PASSPHRASE_ENV = "VPSKIT_SSH_KEY_PASSPHRASE"
# ssh's own count: a mistyped passphrase may be typed again
TRIES = 3

Ask = Callable[[str], str]
# the default prompt: the controlling terminal's, if there is one when a passphrase is first needed
TERMINAL = "terminal"


class KeyPassphraseError(ConnectError):
    """The key file needs a passphrase that was not given (or does not open it)."""


def terminal_prompt() -> Ask | None:
    """Asks on the controlling terminal (getpass: no echo), or None when there is none (cron, CI, a pipe)."""
    try:
        with open("/dev/tty", "rb"):
            pass
    except OSError:
        return None
    return getpass.getpass


class Keychain:
    """The key files of one run: each opened once, so a passphrase is asked at most once per key, whatever
    the number of hosts (opened in parallel) or fresh logins that use it; a key that failed fails again
    without asking. `ask` is the prompt (None: never ask)."""

    def __init__(self, environ=os.environ, ask: Ask | str | None = TERMINAL):
        self.environ, self._ask = environ, ask
        self._opened: dict[str, dict | KeyPassphraseError] = {}
        self._lock = threading.Lock()

    def auth(self, path: str) -> dict:
        """paramiko connect arguments for the key file at `path` (~ expanded)."""
        expanded = os.path.expanduser(path)
        with self._lock:  # one prompt at a time: the other hosts wait for its answer
            if expanded not in self._opened:
                try:
                    ask = terminal_prompt() if self._ask == TERMINAL else self._ask
                    self._opened[expanded] = key_file_auth(path, self.environ, ask)
                except KeyPassphraseError as exc:
                    self._opened[expanded] = exc
            opened = self._opened[expanded]
        if isinstance(opened, KeyPassphraseError):
            raise opened
        return opened


def key_file_auth(path: str, environ=os.environ, ask: Ask | None = None) -> dict:
    """paramiko connect arguments for the key file at `path` (~ expanded); `ask` prompts for a passphrase."""
    expanded = os.path.expanduser(path)
    try:
        paramiko.PKey.from_path(expanded)
        return {"key_filename": [expanded], "allow_agent": False, "look_for_keys": False}
    except PasswordRequiredException:
        pass
    except TypeError as exc:  # what `cryptography` raises for a protected OpenSSH-format key
        if "password" not in str(exc):
            raise
    except (OSError, SSHException, ValueError) as exc:
        raise ConnectError(f"cannot read the key {path} (vpskit_ssh_key): {exc}") from None
    agent_keys = _agent_keys(environ)
    public = _public_blob(expanded)
    held = [key for key in agent_keys if key.get_base64() == public]
    if held:
        return {"pkey": held[0], "allow_agent": False, "look_for_keys": False}
    passphrase = environ.get(PASSPHRASE_ENV)
    if passphrase:
        pkey = _opened(expanded, passphrase)
        if pkey is None:
            raise KeyPassphraseError(f"the passphrase in {PASSPHRASE_ENV} does not open {path} (vpskit_ssh_key); "
                                     "nothing was sent to the host")
        return {"pkey": pkey, "allow_agent": False, "look_for_keys": False}
    if agent_keys and public is None:  # nothing tells which: the agent may hold it
        return {"allow_agent": True, "look_for_keys": False}
    if ask is not None:
        for _try in range(TRIES):
            pkey = _opened(expanded, ask(f"Enter passphrase for key {path} (vpskit_ssh_key): "))
            if pkey is not None:
                return {"pkey": pkey, "allow_agent": False, "look_for_keys": False}
        raise KeyPassphraseError(f"the passphrase typed {TRIES} times does not open {path} (vpskit_ssh_key); "
                                 "nothing was sent to the host")
    raise KeyPassphraseError(
        f"key {path} (vpskit_ssh_key) is passphrase-protected: load it into ssh-agent (`ssh-add {path}`) or run "
        f"from a terminal (or give the passphrase in {PASSPHRASE_ENV}); the SSH agent does not hold it, and "
        "nothing was sent to the host")


def _opened(path: str, passphrase: str):
    """The key opened with this passphrase, or None when it does not open it."""
    try:
        return paramiko.PKey.from_path(path, password=passphrase.encode())
    except (SSHException, ValueError, TypeError):
        return None


def _agent_keys(environ) -> list:
    if not environ.get("SSH_AUTH_SOCK"):
        return []
    try:
        return list(paramiko.Agent().get_keys())
    except (SSHException, OSError):
        return []


def _public_blob(private_path: str) -> str | None:
    """The key's public blob (base64): from its .pub, else from the OpenSSH-format private file itself."""
    try:
        with open(private_path + ".pub", encoding="ascii", errors="replace") as fh:
            fields = fh.read().split()
        if len(fields) >= 2:
            return fields[1]
    except OSError:
        pass
    return _openssh_public_blob(private_path)


def _openssh_public_blob(private_path: str) -> str | None:
    """An "openssh-key-v1" file keeps its public key unencrypted after the cipher, KDF and key count
    (OpenSSH's PROTOCOL.key): read without the passphrase."""
    try:
        with open(private_path, encoding="ascii", errors="replace") as fh:
            lines = fh.read().split("\n")
        begin = lines.index("-----BEGIN OPENSSH PRIVATE KEY-----")
        end = lines.index("-----END OPENSSH PRIVATE KEY-----")
        data = base64.b64decode("".join(lines[begin + 1:end]))
        magic = b"openssh-key-v1\0"
        if not data.startswith(magic):
            return None
        offset = len(magic)
        for _field in range(3):  # cipher name, KDF name, KDF options
            (size,) = struct.unpack_from(">I", data, offset)
            offset += 4 + size
        (count,) = struct.unpack_from(">I", data, offset)
        (size,) = struct.unpack_from(">I", data, offset + 4)
        blob = data[offset + 8:offset + 8 + size]
        return base64.b64encode(blob).decode() if count >= 1 and len(blob) == size else None
    except (OSError, ValueError, struct.error):
        return None
