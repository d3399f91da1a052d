"""What a role needs from its host's firewall: ports open to named sources, and routed traffic.

A role declares these with a module function `network(ctx) -> Network`; the firewall role, the one owner of
ufw, opens what every role declares for the host it plans (so no role keeps a copy of another's topology).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Port:
    """One opening: protocol (tcp, udp, any), a port or range ("6443", "2379:2380", "any"), a source, a purpose."""

    proto: str
    port: str
    source: str
    purpose: str


@dataclass(frozen=True)
class Network:
    """The openings a role needs on a host, and whether the host routes traffic for it (a CNI's pods)."""

    ports: tuple[Port, ...] = ()
    routed: bool = False

    def __add__(self, other: "Network") -> "Network":
        return Network(self.ports + other.ports, self.routed or other.routed)


def allow_from(sources, proto: str, port: str, purpose: str) -> tuple[Port, ...]:
    """The same opening from each source, in order, each once."""
    return tuple(Port(proto, port, str(s), purpose) for s in dict.fromkeys(sources))
