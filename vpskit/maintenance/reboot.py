"""Coordinated reboots: who needs one and why, in which order, and one host's reboot from the drain (when it is a
cluster node) to a fresh login on the new boot.

The engine knows no role: a host's drain comes from the roles as a Drainer (a role's `reboot_drains`, see
`drainers`), and the hosts a role drains go one at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from ..errors import ConnectError, VpskitError
from ..facts.reboot import RebootFact, RebootState

# the reboot is scheduled a moment ahead so the command that asks for it returns over a live connection
REBOOT = ("systemd-run --quiet --on-active=2 --timer-property=AccuracySec=100ms --unit=vpskit-reboot "
          "systemctl reboot")
# after the fresh login: systemd has finished booting (running, or degraded with a failed unit)
BOOTED = "timeout 120 systemctl is-system-running --wait || true"


class Drainer(Protocol):
    """Moves a host's work away before its reboot and back after (a role's `reboot_drains`: vpskit.role.Role)."""

    def drain(self) -> object: ...

    def restore(self, drained: object) -> str: ...


@dataclass
class Rebooted:
    host: str
    old_boot: str
    new_boot: str
    booted: float | None  # when the new boot's PID 1 started, UTC seconds
    back: float  # when the fresh login on the new boot succeeded, UTC seconds
    said: list[str] = field(default_factory=list)


def drainers(roles: list, inventory, session: Callable[[object], object]) -> dict[str, Drainer]:
    """Every role's drainers by host name; a host two roles would drain is an error (which goes first is
    unknowable here)."""
    found: dict[str, Drainer] = {}
    owner: dict[str, str] = {}
    for role in roles:
        for host, drainer in role.reboot_drains(inventory, session).items():
            if host in found:
                raise VpskitError(f"{host}: both the {owner[host]} and the {role.name} role drain it before a reboot")
            found[host], owner[host] = drainer, role.name
    return found


def batches(hosts: list[str], clustered: set[str], serial: int | None) -> list[list[str]]:
    """Pure: cluster nodes one at a time, in inventory order, then the others all at once or `serial` at a time."""
    members = [[h] for h in hosts if h in clustered]
    others = [h for h in hosts if h not in clustered]
    size = serial or len(others) or 1
    return members + [others[i:i + size] for i in range(0, len(others), size)]


def reboot_host(name: str, connect: Callable[[], object], state: RebootState, timeout: float,
                drainer: Drainer | None = None, sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> Rebooted:
    """Drains (a cluster node), asks the host to reboot, waits until a fresh login lands on a new boot and systemd
    has booted, then lets the drainer bring the node back. Fails naming the host and the step."""
    said = []
    drained = drainer.drain() if drainer else None
    with connect() as conn:
        result = conn.run(REBOOT)
        if not result.ok:
            raise VpskitError(f"{name}: reboot: could not schedule it: {(result.stderr or result.stdout).strip()}")
    deadline = clock() + timeout
    fact = RebootFact()
    while True:
        sleep(2)
        try:
            with connect() as conn:
                now = fact.parse(conn.run(fact.command()).stdout, 0)
                if now.boot_id and now.boot_id != state.boot_id:
                    conn.run(BOOTED)
                    back = wall()
                    break
        except (ConnectError, OSError, EOFError, Exception) as exc:  # noqa: BLE001 - a host going down drops
            # connections in every way paramiko knows; only the deadline decides
            if isinstance(exc, VpskitError) and not isinstance(exc, ConnectError):
                raise
            if clock() > deadline:
                raise VpskitError(f"{name}: reboot: no fresh login within {timeout:.0f}s "
                                  f"(maintenance_reboot_timeout): {exc}") from None
            continue
        if clock() > deadline:
            raise VpskitError(f"{name}: reboot: still on the same boot after {timeout:.0f}s "
                              f"(maintenance_reboot_timeout): the reboot did not happen")
    if drainer:
        said.append(drainer.restore(drained))
    return Rebooted(name, state.boot_id, now.boot_id, now.booted, back, said)
