"""The key a connection offers for `vpskit_ssh_key`, opened as ssh opens it.

A key file without a passphrase is offered as it is. A passphrase-protected one is offered through the SSH
agent that holds it (matched by its .pub beside it; without one, every key of the agent is offered, as ssh
does), else opened with the passphrase in VPSKIT_SSH_KEY_PASSPHRASE; with neither, the run stops saying so
before anything is sent to the host, instead of reporting a refused login (which it is not).
"""

from __future__ import annotations

import os

import paramiko
from paramiko.ssh_exception import PasswordRequiredException, SSHException

from .errors import ConnectError

PASSPHRASE_ENV = "VPSKIT_SSH_KEY_PASSPHRASE"


class KeyPassphraseError(ConnectError):
    """The key file needs a passphrase that was not given (or does not open it)."""


def key_file_auth(path: str, environ=os.environ) -> dict:
    """paramiko connect arguments for the key file at `path` (~ expanded)."""
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
        try:
            return {"pkey": paramiko.PKey.from_path(expanded, password=passphrase.encode()), "allow_agent": False,
                    "look_for_keys": False}
        except (SSHException, ValueError, TypeError):
            raise KeyPassphraseError(f"the passphrase in {PASSPHRASE_ENV} does not open {path} (vpskit_ssh_key); "
                                     "nothing was sent to the host") from None
    if agent_keys and public is None:  # no .pub to tell which: the agent may hold it
        return {"allow_agent": True, "look_for_keys": False}
    raise KeyPassphraseError(
        f"{path} (vpskit_ssh_key) is protected by a passphrase and the SSH agent does not hold it: add it with "
        f"`ssh-add {path}` (vpskit then uses the agent) or give the passphrase in {PASSPHRASE_ENV}; "
        "nothing was sent to the host")


def _agent_keys(environ) -> list:
    if not environ.get("SSH_AUTH_SOCK"):
        return []
    try:
        return list(paramiko.Agent().get_keys())
    except (SSHException, OSError):
        return []


def _public_blob(private_path: str) -> str | None:
    try:
        with open(private_path + ".pub", encoding="ascii", errors="replace") as fh:
            fields = fh.read().split()
    except OSError:
        return None
    return fields[1] if len(fields) >= 2 else None
