"""known_hosts files read line by line, as OpenSSH reads them, instead of one bad line failing them all.

Plain and hashed lines load as keys. `@revoked` lines are honoured: a host presenting a revoked key is
refused, as ssh refuses it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"). `@cert-authority` lines trust host
certificates, which paramiko cannot verify: they are skipped with a warning naming the file and line, and the
host needs a plain key line to be reached. A line paramiko cannot parse is skipped the same way (ssh skips
it too).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import paramiko
from paramiko.hostkeys import HostKeyEntry, InvalidHostKey
from paramiko.ssh_exception import SSHException


@dataclass
class KnownHosts:
    keys: paramiko.HostKeys = field(default_factory=paramiko.HostKeys)
    # base64 bodies of revoked keys
    revoked: set[str] = field(default_factory=set)
    # "file:line: why" for each line not used
    skipped: list[str] = field(default_factory=list)

    def is_revoked(self, key) -> bool:
        return key.get_base64() in self.revoked


def load(paths: list[str], into: paramiko.HostKeys | None = None) -> KnownHosts:
    """Reads every existing file of `paths` (~ expanded) into `into` (a client's host keys) or new keys."""
    known = KnownHosts(keys=into if into is not None else paramiko.HostKeys())
    for path in paths:
        expanded = os.path.expanduser(path)
        try:
            with open(expanded, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            continue
        except OSError as exc:
            known.skipped.append(f"{expanded}: cannot read it ({exc.strerror})")
            continue
        for number, line in enumerate(lines, 1):
            _read_line(known, line.strip(), f"{expanded}:{number}")
    return known


def _read_line(known: KnownHosts, line: str, where: str) -> None:
    if not line or line.startswith("#"):
        return
    if line.startswith("@"):
        marker, _, rest = line.partition(" ")
        fields = rest.split()
        if marker == "@revoked" and len(fields) >= 3:
            known.revoked.add(fields[2])
        elif marker == "@cert-authority":
            known.skipped.append(f"{where}: @cert-authority skipped: vpskit cannot check host certificates "
                                 "(give the host a plain key line)")
        else:
            known.skipped.append(f"{where}: unknown marker {marker} skipped")
        return
    try:
        entry = HostKeyEntry.from_line(line)
    except (InvalidHostKey, SSHException, ValueError) as exc:
        known.skipped.append(f"{where}: unreadable line skipped ({type(exc).__name__})")
        return
    if entry is None or entry.key is None:
        known.skipped.append(f"{where}: key type not supported, line skipped")
        return
    for name in entry.hostnames:
        known.keys.add(name, entry.key.get_name(), entry.key)
