"""The read-only shell probes the engine's own items share, by name (all of a host's run in one round trip)."""

from ..facts.base import q

PROBES = {
    "resources": "nproc; cat /proc/loadavg; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo; df -P /",
    "addresses": "hostname -I",
}


def fqdn_probe(name: str) -> str:
    """The addresses a DNS name resolves to, as the host's resolver sees them."""
    return f"getent ahosts {q(name)} | cut -d' ' -f1 | sort -u"


def shared(*names: str) -> dict[str, str]:
    """The shared probes of these names, ready for an item's `probes`."""
    return {name: PROBES[name] for name in names}
