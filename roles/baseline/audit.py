"""The baseline role's audit item: core dumps off (a hard limit of 0 and fs.suid_dumpable 0)."""

from __future__ import annotations

from vpskit.audit.model import Finding, Item, Probes
from vpskit.facts.system import SysctlFact

CORE = {"core_limits": "cat /etc/security/limits.d/*.conf 2>/dev/null", "suid_dumpable": SysctlFact("fs.suid_dumpable")}


def core_dumps(p: Probes, v: dict) -> Finding:
    lines = p.out("core_limits").splitlines()
    hard = any(x.split()[:4] == ["*", "hard", "core", "0"] for x in lines if x.strip() and not x.startswith("#"))
    suid = p.fact("suid_dumpable").get("fs.suid_dumpable", {}).get("value") or "?"
    return Finding.ok("hard core limit 0, fs.suid_dumpable 0") if hard and suid == "0" else \
        Finding.warn(f"hard core limit 0: {hard}, fs.suid_dumpable {suid}")


def items(v: dict) -> list[Item]:
    return [Item("hard.core-dumps", "hardening", "info", "Core dumps disabled", "invoke baseline", core_dumps, CORE,
                 rank=40)]
