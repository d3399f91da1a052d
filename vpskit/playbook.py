"""Plays: which hosts run which roles, in what batches, and how many failures stop them; read from YAML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InventoryError
from .inventory.model import Host, Inventory
from .inventory.yamlfile import load_yaml

PLAY_KEYS = {"name", "hosts", "roles", "serial", "max_fail"}
TERM = re.compile(r"^(?P<name>[^\[\]]+)(\[(?P<start>-?\d*)(?P<colon>:?)(?P<stop>-?\d*)\])?$")


@dataclass
class Play:
    """Hosts (a pattern) and the roles they run; `serial` hosts at a time; stop after `max_fail` failed hosts."""

    name: str
    hosts: str
    roles: list[str]
    serial: int | str | None = None
    # failed hosts tolerated before the play (and the run) stops; None: any number (the failed drop out)
    max_fail: int | None = None
    where: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def tolerated_failures(self) -> int | None:
        """Serial plays stop at the first failure unless they say otherwise (Ansible's max_fail_percentage: 0)."""
        if self.max_fail is None and self.serial is not None:
            return 0
        return self.max_fail


def load_playbook(path: Path) -> list[Play]:
    """Reads a playbook; every mistake names the file and line."""
    display = str(path)
    data = load_yaml(path, display)
    if not isinstance(data, list) or not data:
        raise InventoryError("a playbook is a list of plays (name, hosts, roles)", display, 1)
    plays = []
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise InventoryError(f"play {index + 1} must be a mapping with name, hosts and roles", display)
        line = entry.where(next(iter(entry))).line if entry else None
        unknown = set(entry) - PLAY_KEYS
        if unknown:
            raise InventoryError(f"play {index + 1}: unknown key(s) {', '.join(sorted(unknown))} "
                                 f"({', '.join(sorted(PLAY_KEYS))})", display, line)
        for key in ("name", "hosts", "roles"):
            if not entry.get(key):
                raise InventoryError(f"play {index + 1} needs {key!r}", display, line)
        roles = entry["roles"]
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InventoryError(f"play {entry['name']!r}: roles must be a list of role names", display,
                                 entry.where("roles").line)
        serial = entry.get("serial")
        if serial is not None and parse_serial(serial) is None:
            raise InventoryError(f"play {entry['name']!r}: serial must be a positive number or a percentage like "
                                 f"'30%', not {serial!r}", display, entry.where("serial").line)
        max_fail = entry.get("max_fail")
        if max_fail is not None and (not isinstance(max_fail, int) or max_fail < 0):
            raise InventoryError(f"play {entry['name']!r}: max_fail must be a number ≥ 0", display,
                                 entry.where("max_fail").line)
        hosts = entry["hosts"]
        pattern = ",".join(hosts) if isinstance(hosts, list) else str(hosts)
        plays.append(Play(str(entry["name"]), pattern, list(roles), serial, max_fail, f"{display}:{line}"))
    return plays


def parse_serial(serial) -> tuple[str, int] | None:
    """("count", n) or ("percent", p); None when invalid. Pure."""
    if isinstance(serial, bool):
        return None
    if isinstance(serial, int) and serial > 0:
        return ("count", serial)
    if isinstance(serial, str) and re.fullmatch(r"\d{1,3}%", serial.strip()) and 0 < int(serial.strip()[:-1]) <= 100:
        return ("percent", int(serial.strip()[:-1]))
    return None


def batches(hosts: list, serial) -> list[list]:
    """Hosts split into the batches a serial play runs one after another (one batch when not serial)."""
    if serial is None or not hosts:
        return [list(hosts)] if hosts else []
    kind, value = parse_serial(serial)
    size = value if kind == "count" else max(1, len(hosts) * value // 100)
    return [hosts[i:i + size] for i in range(0, len(hosts), size)]


def select(inventory: Inventory, pattern: str) -> list[Host]:
    """Hosts a pattern names, in inventory order: `all`, groups, hosts, `group[0]`, `group[1:]`, `!excluded`.

    A group the inventory does not have matches nothing (a cluster play on an inventory without a cluster).
    """
    chosen: list[str] = []
    excluded: set[str] = set()
    for raw in [t.strip() for t in pattern.split(",") if t.strip()]:
        negate = raw.startswith("!")
        names = _term(inventory, raw[1:] if negate else raw)
        if negate:
            excluded.update(names)
        else:
            chosen += [n for n in names if n not in chosen]
    return [inventory.hosts[n] for n in chosen if n not in excluded]


def _term(inventory: Inventory, term: str) -> list[str]:
    match = TERM.match(term)
    if not match:
        raise InventoryError(f"host pattern {term!r} is not a group, a host, or group[index] / group[start:stop]")
    name = match.group("name").strip()
    if name == "all":
        members = list(inventory.hosts)
    elif name in inventory.hosts:
        members = [name]
    else:
        members = [h.name for h in inventory.hosts.values() if name in h.groups]
    if match.group(2) is None:
        return members
    start, stop = match.group("start"), match.group("stop")
    if not match.group("colon"):
        index = int(start or 0)
        return [members[index]] if -len(members) <= index < len(members) else []
    return members[int(start) if start else None:int(stop) if stop else None]
