"""What a role's plan sees: its host's variables, the inventory, earlier plays' exports, templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .errors import VpskitError
from .exports import ExportStore, Published
from .inventory.model import Host, Inventory
from .playbook import select
from .ports import Network
from .templating import Templates


@dataclass(frozen=True)
class HostView:
    """Another host as a plan may read it: name, address, groups and variables."""

    name: str
    address: str
    groups: tuple[str, ...]
    vars: dict

    @classmethod
    def of(cls, host: Host) -> "HostView":
        return cls(host.name, str(host.get("vpskit_host", host.name)), tuple(host.groups), host.values)


class InventoryView:
    """The whole inventory, read-only, for plans that need the other members of a cluster."""

    def __init__(self, inventory: Inventory):
        self._inventory = inventory

    def hosts(self, pattern: str = "all") -> list[HostView]:
        """Hosts a play pattern names (a group, `group[0]`, …), in inventory order."""
        return [HostView.of(h) for h in select(self._inventory, pattern)]

    def host(self, name: str) -> HostView:
        return HostView.of(self._inventory.hosts[name])

    def groups(self) -> list[str]:
        return [g for g in self._inventory.groups if g != "all"]


class ExportsView:
    """Values earlier plays published; `predicted(name)` says when check mode could only foresee one."""

    def __init__(self, store: ExportStore):
        self._store = store

    def get(self, name: str, host: str | None = None):
        return self._store.lookup(name, host).value

    def item(self, name: str, host: str | None = None) -> Published:
        return self._store.lookup(name, host)

    def predicted(self, name: str, host: str | None = None) -> bool:
        return self._store.lookup(name, host).predicted


@dataclass
class PlanContext:
    """Everything a role's `plan(ctx)` may read; `ctx["key"]` is the host's variable."""

    host: str
    vars: dict
    inventory: InventoryView
    exports: ExportsView
    templates: Templates
    check_mode: bool = False
    play: str = ""
    # another host's open session in this run (Run._session_of), for a step that must act through that host
    sessions: Callable[[str], object] | None = None
    # what every known role needs from this host's firewall (RoleLibrary.network); None: nothing declared
    roles_network: Callable[["PlanContext"], Network] | None = None

    def __getitem__(self, key: str):
        return self.vars[key]

    def get(self, key: str, default=None):
        value = self.vars.get(key)
        return default if value is None else value

    def session_of(self, host: str):
        """The session this run holds on another host, to run a command there (Ansible's delegate_to): a drain
        that only a cluster server may run. An error when that host is not connected in this run."""
        if self.sessions is None:
            raise VpskitError(f"no session on {host} here")
        return self.sessions(host)
    def declared_network(self) -> Network:
        """The ports and routing the roles declare for this host (read by the firewall role)."""
        return self.roles_network(self) if self.roles_network else Network()

    def render(self, name: str, extra: dict | None = None) -> str:
        """Renders `<role>/<file>.j2` with the host's variables (and `extra`): overrides first, then built-ins."""
        return self.templates.render(name, {**self.vars, **(extra or {})})
