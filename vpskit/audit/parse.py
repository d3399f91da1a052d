"""Parsers for audit probe output: sshd -T, ufw status, ss listeners, Prometheus text metrics, K3s versions."""

from __future__ import annotations

import re


def sshd_settings(text: str) -> dict[str, str]:
    """`sshd -T` output as keyword → value (keywords lowercase, as sshd prints them)."""
    settings = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            settings.setdefault(key.lower(), value.strip())
    return settings


def ufw_allowed_ports(status: str) -> dict[int, list[str]]:
    """Port → the sources ufw allows it from ('Anywhere', an address, …), from `ufw status verbose`."""
    allowed: dict[int, list[str]] = {}
    for line in status.splitlines():
        found = re.match(r"^(\d+)(?::\d+)?(?:/(?:tcp|udp))?(?: \(v6\))?\s+ALLOW IN\s+(\S+(?: \(v6\))?)", line)
        if found:
            allowed.setdefault(int(found.group(1)), []).append(found.group(2))
    return allowed


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


def metric_values(text: str, name: str) -> dict[str, float]:
    """Values of one metric from Prometheus text format, keyed by its label set ('' without labels)."""
    values = {}
    for line in text.splitlines():
        found = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})?\s+(\S+)", line)
        if found:
            try:
                values[found.group(1) or ""] = float(found.group(2))
            except ValueError:
                continue
    return values


def k3s_minor(version_output: str) -> str | None:
    """'1.36' from `k3s --version` output ('k3s version v1.36.4+k3s1 (…)')."""
    found = re.search(r"v(\d+)\.(\d+)\.\d+", version_output)
    return f"{found.group(1)}.{found.group(2)}" if found else None
