"""How to reach a host: the logins its roles may have left (best first), then the inventory's own."""

from __future__ import annotations

from .connection import Target
from .inventory.model import Host
from .role import Login, Role


def inventory_login(host: Host) -> Login:
    return Login(str(host.get("vpskit_user", "root")), int(host.get("vpskit_port", 22)))


def logins_for(host: Host, roles: list[Role]) -> list[Login]:
    """Logins to try: those later roles leave first (a hardened host), the inventory's last (a fresh one)."""
    declared = [login for role in reversed(roles) for login in role.logins(host.values)]
    return list(dict.fromkeys([*declared, inventory_login(host)]))


def target_for(host: Host, logins: list[Login], trust_new_hosts: bool = False) -> Target:
    """Connection settings of a host from its merged variables."""
    known_hosts = [p for p in (host.get("vpskit_known_hosts"), "~/.ssh/known_hosts") if p]
    first, *fallbacks = logins
    return Target(
        name=host.name,
        address=str(host.get("vpskit_host", host.name)),
        port=first.port,
        user=first.user,
        fallbacks=[(login.user, login.port) for login in fallbacks],
        key_file=host.get("vpskit_ssh_key"),
        known_hosts=known_hosts,
        connect_timeout=float(host.get("vpskit_connect_timeout", 10)),
        connect_retries=int(host.get("vpskit_connect_retries", 2)),
        trust_new_hosts=trust_new_hosts,
    )
