"""The sysctl role's audit item: the network hardening in force, read live by the fact its Sysctl step reads."""

from __future__ import annotations

from vpskit.audit.model import Finding, Item, Probes
from vpskit.facts.system import SysctlFact

WANTED = {"net.ipv4.conf.all.rp_filter": "1", "net.ipv4.tcp_syncookies": "1", "net.ipv4.conf.all.accept_redirects": "0",
          "net.ipv4.conf.all.send_redirects": "0", "net.ipv4.conf.all.accept_source_route": "0"}
LIVE = {"sysctl": SysctlFact(*WANTED)}


def sysctls(p: Probes, v: dict) -> Finding:
    live = {key: p.fact("sysctl").get(key, {}).get("value", "") for key in WANTED}
    wrong = [f"{k}={live[k]} (want {want})" for k, want in WANTED.items() if live[k] != want]
    return Finding.fail(", ".join(wrong)) if wrong else \
        Finding.ok("live values: " + ", ".join(f"{k}={x}" for k, x in live.items()))


def items(v: dict) -> list[Item]:
    return [Item("hard.sysctl", "hardening", "warning", "Network sysctls hardened", "invoke sysctl", sysctls, LIVE,
                 rank=30)]
