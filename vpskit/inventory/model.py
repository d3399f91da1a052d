"""The resolved inventory: hosts with merged variables that remember where each value came from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Var:
    """A variable's value and the place (file:line, role default, --set) that decided it."""

    value: object
    source: str


@dataclass
class Group:
    name: str
    parents: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    depth: int = 0
    # where the inventory file first names it (for errors about the group as a whole)
    line: int | None = None


@dataclass
class Host:
    name: str
    groups: list[str] = field(default_factory=list)
    vars: dict[str, Var] = field(default_factory=dict)
    # strings its roles' specs declare secret (a receiver's URL, an inline key): masked wherever they show
    secrets: frozenset[str] = frozenset()

    def get(self, key: str, default=None):
        var = self.vars.get(key)
        return default if var is None or var.value is None else var.value

    @property
    def values(self) -> dict[str, object]:
        return {k: v.value for k, v in self.vars.items()}


@dataclass
class Inventory:
    path: str
    hosts: dict[str, Host]
    groups: dict[str, Group]

    def select(self, limit: str | None) -> list[Host]:
        """Hosts named by a comma-separated list of host and group names (all hosts when empty)."""
        if not limit:
            return list(self.hosts.values())
        chosen: list[str] = []
        for word in [w.strip() for w in limit.split(",") if w.strip()]:
            if word in self.hosts:
                names = [word]
            elif word in self.groups:
                names = [h.name for h in self.hosts.values() if word in h.groups]
            else:
                known = ", ".join(sorted(self.hosts) + sorted(self.groups))
                from ..errors import InventoryError
                raise InventoryError(f"--limit {word!r} matches no host or group (known: {known})", self.path)
            chosen += [n for n in names if n not in chosen]
        return [self.hosts[n] for n in chosen]
