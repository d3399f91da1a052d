"""The remembered logins: per host, the user, port and key that last worked, in a 0600 file beside known_hosts.

The file (`vpskit_known_logins`) is JSON, rewritten whole through a temporary file and a rename, under an
exclusive lock on a sibling `.lock` file, so two runs at once neither tear it nor lose each other's hosts.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import VpskitError

FILE_NAME = "vpskit_known_logins"
VERSION = 1


@dataclass(frozen=True)
class Remembered:
    """A login that worked: user, port, and the key's SHA256 fingerprint (None when unknown)."""

    user: str
    port: int
    identity: str | None = None

    def label(self) -> str:
        return f"{self.user}@{self.port}"


def host_key(address: str, port: int) -> str:
    """A host's entry name, as known_hosts writes it: the address, or [address]:port off port 22."""
    return address if port == 22 else f"[{address}]:{port}"


def default_path(known_hosts: str | None) -> Path:
    """Beside the inventory's known_hosts when it names one, else beside the user's (~/.ssh)."""
    folder = Path(os.path.expanduser(known_hosts)).parent if known_hosts else Path(os.path.expanduser("~/.ssh"))
    return folder / FILE_NAME


class KnownLogins:
    """Reads and updates one remembered-logins file."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(os.path.expanduser(os.fspath(path)))

    def get(self, key: str) -> Remembered | None:
        return self._read().get(key)

    def update(self, changes: dict[str, Remembered | None]) -> None:
        """Sets (or, for None, forgets) these hosts' logins, keeping every other host's as it is on disk now."""
        if not changes:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            hosts = self._read()
            for key, login in changes.items():
                if login is None:
                    hosts.pop(key, None)
                else:
                    hosts[key] = login
            self._write(hosts)
        finally:
            os.close(lock)  # closing releases the lock

    def _read(self) -> dict[str, Remembered]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise VpskitError(f"{self.path}: cannot read the remembered logins: {exc.strerror}") from None
        return parse(text, str(self.path))

    def _write(self, hosts: dict[str, Remembered]) -> None:
        data = {"version": VERSION, "hosts": {key: {"user": login.user, "port": login.port,
                                                     "identity": login.identity}
                                               for key, login in sorted(hosts.items())}}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(data, indent=2) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to a file left over by a killed run
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def parse(text: str, name: str) -> dict[str, Remembered]:
    """The hosts of a remembered-logins file; a clear error (file:line) on anything else. Pure."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VpskitError(f"{name}:{exc.lineno}: not valid JSON ({exc.msg}); delete the file to start over "
                          "(vpskit then tries the logins the roles declare)") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("hosts"), dict):
        raise VpskitError(f"{name}:1: not a vpskit_known_logins file of version {VERSION}; delete it to start over")
    hosts = {}
    for key, entry in data["hosts"].items():
        ok = (isinstance(entry, dict) and isinstance(entry.get("user"), str) and entry["user"]
              and isinstance(entry.get("port"), int) and not isinstance(entry["port"], bool)
              and 0 < entry["port"] < 65536 and isinstance(entry.get("identity"), (str, type(None))))
        if not ok:
            raise VpskitError(f"{name}:{_line_of(text, key)}: host {key}: a login needs a user, a port "
                              "(1-65535) and an identity (a key fingerprint or null); delete the entry to start over")
        hosts[key] = Remembered(entry["user"], entry["port"], entry.get("identity"))
    return hosts


def _line_of(text: str, key: str) -> int:
    needle = json.dumps(key)
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return 1
