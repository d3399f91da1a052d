"""What inventory variables vpskit itself understands: connection settings and their types."""

from __future__ import annotations

import difflib

# vpskit's own connection variables, each with the Ansible name it also accepts.
CONNECTION_VARS: dict[str, tuple[type | tuple, str | None]] = {
    # address to connect to (default: the host's inventory name)
    "vpskit_host": (str, "ansible_host"),
    # SSH port
    "vpskit_port": (int, "ansible_port"),
    # login user; commands run through sudo when it is not root
    "vpskit_user": (str, "ansible_user"),
    # private key file for the login
    "vpskit_ssh_key": (str, "ansible_ssh_private_key_file"),
    # extra known_hosts file checked before ~/.ssh/known_hosts (relative to the inventory file)
    "vpskit_known_hosts": (str, None),
    # the file that remembers the login that last worked per host (default: vpskit_known_logins beside
    # vpskit_known_hosts, else ~/.ssh/vpskit_known_logins; relative to the inventory file)
    "vpskit_known_logins": (str, None),
    # seconds to wait for a TCP connection and the SSH banner
    "vpskit_connect_timeout": ((int, float), None),
    # extra connection attempts, with exponential backoff, when a host does not answer
    "vpskit_connect_retries": (int, None),
    # folders of your own roles, searched before the built-in ones (relative to the inventory file)
    "vpskit_roles_path": ((str, list), None),
    # seconds a run waits for another vpskit run on the same host to finish before it gives up
    "vpskit_lock_timeout": ((int, float), None),
    # the run lock's file on the host (default /run/vpskit/lock: a tmpfs, so a reboot clears it); never in a folder
    # other users write (/tmp, /var/tmp, /dev/shm, /run/lock...), and its own folder must be root's alone
    "vpskit_lock_path": (str, None),
}
ANSIBLE_ALIASES = {alias: own for own, (_t, alias) in CONNECTION_VARS.items() if alias}
# the formats of the connection variables vpskit acts on (a role's variables have theirs in the role's spec.yml)
CONNECTION_FORMATS = {"vpskit_host": "address", "vpskit_user": "user", "vpskit_port": "port",
                      "vpskit_lock_path": "lock_path"}

TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a mapping"}


def expected_type(default) -> type | tuple | None:
    """The type a value must have to replace this default (None: anything goes)."""
    if default is None:
        return None
    if isinstance(default, bool):
        return bool
    if isinstance(default, (int, float)):
        return (int, float) if isinstance(default, float) else int
    for kind in (str, list, dict):
        if isinstance(default, kind):
            return kind
    return None


def type_error(key: str, value, wanted) -> str | None:
    """A message when value is not of the wanted type, else None. Pure."""
    if wanted is None or value is None:
        return None
    kinds = wanted if isinstance(wanted, tuple) else (wanted,)
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if ok:
        return None
    want = " or ".join(TYPE_NAMES.get(k, k.__name__) for k in kinds)
    got = next((name for t, name in TYPE_NAMES.items() if isinstance(value, t)), type(value).__name__)
    return f"{key} must be {want}, got {got} {value!r}"


def unknown_key_error(key: str, known: set[str], role_prefixes: set[str]) -> str | None:
    """A message when key looks like a misspelt known variable, else None (free-form vars are allowed)."""
    if key in known or key in ANSIBLE_ALIASES or not isinstance(key, str):
        return None
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.8)
    prefix = key.split("_", 1)[0]
    if close:
        return f"unknown variable {key!r}; did you mean {close[0]!r}?"
    if prefix in role_prefixes:
        return f"unknown variable {key!r}: role {prefix!r} has no such setting"
    return None
