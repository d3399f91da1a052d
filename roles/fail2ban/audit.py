"""The fail2ban role's audit item: the sshd jail runs and reads a log source (else it would never ban)."""

from __future__ import annotations

from vpskit.audit.model import Finding, Item, Probes

JAIL = {"fail2ban": "fail2ban-client status sshd"}


def fail2ban(p: Probes, v: dict) -> Finding:
    if not p.ok("fail2ban"):
        return Finding.fail("the sshd jail is not running (fail2ban-client status sshd failed)")
    out = p.out("fail2ban")
    if "Journal matches:" in out and "_SYSTEMD_UNIT" in out or "File list:" in out and "/" in out.split("File list:")[1]:
        return Finding.ok("sshd jail active, reading " + ("the journal" if "Journal matches" in out else "log files"))
    return Finding.fail("sshd jail active without a log source: it would never ban")


def items(v: dict) -> list[Item]:
    return [Item("net.fail2ban", "network", "warning", "fail2ban jail active with a log source", "invoke fail2ban",
                 fail2ban, JAIL, rank=30)]
