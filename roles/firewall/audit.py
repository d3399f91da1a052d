"""The firewall role's audit items: ufw on with a default deny, and nothing listening beyond what it allows,
judged on the fact the role's own ufw step reads (UfwFact)."""

from __future__ import annotations

from vpskit.audit.model import Finding, Item, Probes
from vpskit.facts.ufw import UfwFact, sources_allowed

UFW = {"ufw": UfwFact()}
LISTENING = {"listening": "ss -H -tlnu"}


def public_listeners(ss_output: str) -> list[tuple[str, int, str]]:
    """(protocol, port, address) of sockets listening on something other than loopback, from `ss -H -tlnu`."""
    found = []
    for line in ss_output.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        proto, local = fields[0], fields[4]
        address, _, port = local.rpartition(":")
        address = address.strip("[]").split("%")[0]
        if not port.isdigit() or address.startswith("127.") or address == "::1":
            continue
        found.append((proto, int(port), address))
    return sorted(set(found))


def firewall(p: Probes, v: dict) -> Finding:
    state = p.fact("ufw")
    if not state["active"]:
        return Finding.fail("ufw is not active")
    if state["policies"].get("incoming") != "deny":
        return Finding.fail("ufw is active but does not deny incoming traffic by default")
    return Finding.ok("ufw active, default deny (incoming)")


def listeners(p: Probes, v: dict) -> Finding:
    state = p.fact("ufw")
    found = public_listeners(p.out("listening"))
    hidden = sorted({f"{proto}/{port}" for proto, port, _ in found if not sources_allowed(state["rules"], port)})
    if not state["active"] and found:
        return Finding.fail(f"firewall off and listening publicly on {', '.join(sorted({str(x[1]) for x in found}))}")
    if hidden:
        return Finding.warn(f"listening beyond the firewall's allows (blocked, but exposed if the firewall "
                            f"stops): {', '.join(hidden)}")
    return Finding.ok(f"public listeners all allowed: {', '.join(sorted({str(x[1]) for x in found})) or 'none'}")


def items(v: dict) -> list[Item]:
    return [
        Item("net.firewall", "network", "critical", "Firewall active, default deny", "invoke firewall", firewall, UFW,
             rank=10),
        Item("net.listening", "network", "warning", "Only declared ports listening publicly",
             "stop the service or declare its port (firewall_allow)", listeners, {**UFW, **LISTENING}, rank=20),
    ]
