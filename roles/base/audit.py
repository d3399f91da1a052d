"""The base role's audit item: security updates installed automatically (unattended-upgrades, as apt reads it)."""

from __future__ import annotations

from vpskit.audit.model import Finding, Item, Probes

APT = {"unattended": "apt-config dump"}


def unattended(p: Probes, v: dict) -> Finding:
    dump = p.out("unattended")
    problems = []
    if 'APT::Periodic::Unattended-Upgrade "1";' not in dump:
        problems.append("APT::Periodic::Unattended-Upgrade is not 1")
    if 'APT::Periodic::Update-Package-Lists "1";' not in dump:
        problems.append("APT::Periodic::Update-Package-Lists is not 1")
    origins = [x for x in dump.splitlines() if x.startswith(("Unattended-Upgrade::Origins-Pattern",
                                                            "Unattended-Upgrade::Allowed-Origins"))]
    if not any("security" in x.lower() for x in origins):
        problems.append("no security origin in Unattended-Upgrade::Origins-Pattern")
    return Finding.fail("; ".join(problems)) if problems else Finding.ok("periodic runs on, security origin present")


def items(v: dict) -> list[Item]:
    return [Item("hard.unattended-upgrades", "hardening", "critical", "Security updates applied automatically",
                 "invoke base", unattended, APT, rank=10)]
