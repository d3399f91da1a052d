"""How to reach a host: the login that worked last time, then the others in the order that fails least.

Without a remembered login, a host whose key is not yet known (a fresh host) is tried with the inventory's
own login first, a known one with the logins its roles may have left first (it may be hardened). A run of
the user's own roles that leave no login behind tries only the remembered login and the inventory's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .connection import Connection, Target, host_key_known
from .inventory.model import Host
from .keys import Keychain
from .knownlogins import KnownLogins, Remembered, default_path, host_key
from .role import Login, Role

# the rules that order the logins, as --json names them
REMEMBERED = "remembered"
FRESH = "fresh host: inventory login first"
SEEN = "known host: role logins first"
OWN_ROLES = "own roles only: inventory login only"


@dataclass
class LoginPlan:
    """The logins to try on one host, best first, the rule that ordered them and where the result is kept."""

    logins: list[Login]
    rule: str
    store: Path
    key: str
    remembered: Remembered | None = None
    # the rule that orders the logins after the remembered one
    then: str | None = None
    identity: str | None = None
    declared: list[Login] = field(default_factory=list)

    def describe(self) -> dict:
        return {"rule": self.rule, "then": self.then,
                "remembered": self.remembered.label() if self.remembered else None,
                "order": [f"{login.user}@{login.port}" for login in self.logins]}


def inventory_login(host: Host) -> Login:
    return Login(str(host.get("vpskit_user", "root")), int(host.get("vpskit_port", 22)))


def known_hosts_of(host: Host) -> list[str]:
    return [p for p in (host.get("vpskit_known_hosts"), "~/.ssh/known_hosts") if p]


def address_of(host: Host) -> str:
    return str(host.get("vpskit_host", host.name))


def store_of(host: Host) -> KnownLogins:
    """The host's remembered-logins file: vpskit_known_logins, else beside the inventory's known_hosts."""
    return KnownLogins(host.get("vpskit_known_logins") or default_path(host.get("vpskit_known_hosts")))


def logins_for(host: Host, roles: list[Role]) -> list[Login]:
    """Logins to try: those later roles leave first (a hardened host), the inventory's last (a fresh one)."""
    declared = [login for role in reversed(roles) for login in role.logins(host.values)]
    return list(dict.fromkeys([*declared, inventory_login(host)]))


def plan_logins(host: Host, roles: list[Role], own_roles_only: bool = False,
                seen=host_key_known) -> LoginPlan:
    """The logins to try on `host`, remembered first; `roles` are those whose logins count.

    `own_roles_only`: the run holds only the user's roles and none leaves a login behind, so the
    built-in roles' logins are left out (they cannot have been what changed the login).
    """
    store = store_of(host)
    inventory = inventory_login(host)
    key = host_key(address_of(host), inventory.port)
    remembered = store.get(key)
    declared = [] if own_roles_only else [login for login in logins_for(host, roles) if login != inventory]
    if own_roles_only:
        rule, ordered = OWN_ROLES, [inventory]
    elif declared and seen(address_of(host), [inventory.port, *(d.port for d in declared)], known_hosts_of(host)):
        rule, ordered = SEEN, [*declared, inventory]
    else:
        rule, ordered = FRESH, [inventory, *declared]
    plan = LoginPlan(ordered, rule, store.path, key, declared=declared)
    if remembered:
        first = Login(remembered.user, remembered.port)
        plan.logins = list(dict.fromkeys([first, *ordered]))
        plan.rule, plan.then, plan.remembered, plan.identity = REMEMBERED, rule, remembered, remembered.identity
    return plan


def target_for(host: Host, logins: list[Login], trust_new_hosts: bool = False,
               identity: str | None = None, keys: Keychain | None = None) -> Target:
    """Connection settings of a host from its merged variables; `keys`: the run's opened key files."""
    first, *fallbacks = logins
    return Target(
        name=host.name,
        address=address_of(host),
        port=first.port,
        user=first.user,
        fallbacks=[(login.user, login.port) for login in fallbacks],
        key_file=host.get("vpskit_ssh_key"),
        known_hosts=known_hosts_of(host),
        connect_timeout=float(host.get("vpskit_connect_timeout", 10)),
        connect_retries=int(host.get("vpskit_connect_retries", 2)),
        trust_new_hosts=trust_new_hosts,
        identity=identity,
        keys=keys,
    )


def plan_target(plan: LoginPlan, host: Host, trust_new_hosts: bool = False, keys: Keychain | None = None) -> Target:
    return target_for(host, plan.logins, trust_new_hosts, plan.identity, keys)


def fell_back(plan: LoginPlan, connection) -> str | None:
    """'ops@22 no longer works, logged in as root@22' when the remembered login failed and another worked."""
    remembered = plan.remembered
    if remembered is None or (connection.user, connection.port) == (remembered.user, remembered.port):
        return None
    return f"{remembered.label()} no longer works, logged in as {connection.user}@{connection.port}"


def worked(connection) -> Remembered:
    """What to remember of an open connection."""
    return Remembered(connection.user, connection.port, getattr(connection, "identity", None))


def remember(plans: list[tuple[LoginPlan, Remembered]]) -> None:
    """Writes each host's working login to its file, one locked rewrite per file, only where it changed."""
    by_store: dict[Path, dict[str, Remembered]] = {}
    for plan, login in plans:
        if login != plan.remembered:
            by_store.setdefault(plan.store, {})[plan.key] = login
    for path, changes in by_store.items():
        KnownLogins(path).update(changes)


def connect(host: Host, roles: list[Role], trust_new_hosts: bool = False, on_retry=None,
            keys: Keychain | None = None) -> Connection:
    """An open connection for a one-host task (facts, audit, a role's tasks), remembering the login that worked;
    a task that connects more than once gives its `keys`, so a passphrase is asked once."""
    plan = plan_logins(host, roles)
    conn = Connection(plan_target(plan, host, trust_new_hosts, keys), on_retry=on_retry)
    conn.open()
    remember([(plan, worked(conn))])
    return conn
