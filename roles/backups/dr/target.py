"""Where a drill rebuilds a host: a spare of group dr_spares, or a fresh lab host; never the production host.

The new host gets the production host's variables and groups (so every play that ran there runs on it) with
the spare's own connection settings.
"""

from __future__ import annotations

from vpskit.errors import VpskitError
from vpskit.inventory.model import Host, Inventory, Var

SPARES = "dr_spares"
CONNECTION = ("vpskit_host", "vpskit_port", "vpskit_user", "vpskit_ssh_key", "vpskit_known_hosts", "ansible_host",
              "ansible_port", "ansible_user", "ansible_ssh_private_key_file")


def production_host(inventory: Inventory, name: str, group: str) -> Host:
    host = inventory.hosts.get(name)
    if host is None:
        raise VpskitError(f"--host {name!r} is not in the inventory (hosts: {', '.join(sorted(inventory.hosts))})")
    if group not in host.groups:
        raise VpskitError(f"{name} is not in group {group!r}: the drill rebuilds a backed-up host")
    if not host.get("backups_restic"):
        raise VpskitError(f"{name} has no off-site copy (backups_restic is off): a drill restores from it alone")
    return host


def spare(inventory: Inventory, production: Host, name: str) -> Host:
    """The spare --onto names, refused when it is the production host or another name for the same machine."""
    if name == production.name:
        raise VpskitError(f"--onto {name}: that is the production host; a drill never restores over it")
    host = inventory.hosts.get(name)
    if host is None or SPARES not in host.groups:
        spares = [h.name for h in inventory.hosts.values() if SPARES in h.groups]
        raise VpskitError(f"--onto {name!r}: not a host of group {SPARES} (spares: {', '.join(spares) or 'none'}; "
                          "or --onto lab for a fresh lab host)")
    if _address(host) == _address(production):
        raise VpskitError(f"--onto {name}: it has the production host's address {_address(host)}; a drill never "
                          "restores over the production host")
    return host


def _address(host: Host) -> tuple:
    return (host.get("vpskit_host") or host.get("ansible_host") or host.name,
            int(host.get("vpskit_port") or host.get("ansible_port") or 22))


def rebuilt(production: Host, onto: Host) -> Host:
    """The new host: the production host's variables and groups, the spare's name and connection."""
    values = dict(production.vars)
    for key in CONNECTION:
        values.pop(key, None)
        if key in onto.vars:
            values[key] = onto.vars[key]
    return Host(onto.name, [g for g in production.groups if g != SPARES], values, production.secrets | onto.secrets)


def lab_spare(name: str, address: str, key: str, known_hosts: str) -> Host:
    values = {"vpskit_host": address, "vpskit_user": "root", "vpskit_ssh_key": key, "vpskit_known_hosts": known_hosts}
    return Host(name, [SPARES], {k: Var(v, "lab host booted by dr.drill") for k, v in values.items()})


def next_lab_index(running: list[str], lab: str) -> int:
    """The first index after every host of the lab (lab3, lab7 → 8): a drill never reuses a running host."""
    taken = [int(n[len(lab):]) for n in running if n.startswith(lab) and n[len(lab):].isdigit()]
    return 1 + max(taken or [0])
