"""Checklist items about the host itself that no role owns: headroom, DNS, and reboots updates still wait for."""

from __future__ import annotations

from ..facts.reboot import RebootFact
from .model import Finding, Item, Probes
from .probes import fqdn_probe, shared


def _resources(p: Probes) -> dict:
    lines = p.out("resources").splitlines()
    info = {"cores": int(lines[0]), "load15": float(lines[1].split()[2])}
    for line in lines[2:4]:
        key, value = line.split(":")
        info[key] = int(value.split()[0])
    info["disk_used"] = int(lines[-1].split()[4].rstrip("%"))
    return info


def disk(p: Probes, v: dict) -> Finding:
    free = 100 - _resources(p)["disk_used"]
    need = v["audit_min_disk_free_percent"]
    text = f"/ has {free}% free (want at least {need}%)"
    return Finding.fail(text) if free < need / 2 else Finding.warn(text) if free < need else Finding.ok(text)


def memory(p: Probes, v: dict) -> Finding:
    info = _resources(p)
    share = round(100 * info["MemAvailable"] / info["MemTotal"])
    text = f"{share}% of {info['MemTotal'] // 1024} MiB available (want at least {v['audit_min_memory_available_percent']}%)"
    return Finding.warn(text) if share < v["audit_min_memory_available_percent"] else Finding.ok(text)


def cpu(p: Probes, v: dict) -> Finding:
    info = _resources(p)
    per_core = info["load15"] / info["cores"]
    text = f"15-minute load {info['load15']:.2f} on {info['cores']} cores ({per_core:.2f} a core)"
    return Finding.warn(text) if per_core > v["audit_max_load_per_core"] else Finding.ok(text)


def dns(p: Probes, v: dict) -> Finding:
    name = v.get("audit_expected_fqdn")
    if not name:
        return Finding.na("audit_expected_fqdn is not set")
    resolved = set(p.out("fqdn").split())
    own = set(p.out("addresses").split())
    if not resolved:
        return Finding.fail(f"{name} does not resolve")
    return Finding.ok(f"{name} → {', '.join(sorted(resolved & own))}") if resolved & own else \
        Finding.fail(f"{name} → {', '.join(sorted(resolved))}, none of them this host's ({', '.join(sorted(own))})")


def reboot_required(p: Probes, v: dict) -> Finding:
    """Updates a reboot has not put in effect yet (a kernel, libc): the fact `invoke reboot` reads."""
    state = p.fact("reboot")
    if not state.needed:
        return Finding.ok("no reboot pending")
    days = state.required_days()
    reasons = "; ".join(state.reasons())
    if days is None:
        return Finding.warn(reasons)
    text = f"reboot required for {days:.0f} day(s): {reasons}"
    return Finding.fail(text) if days > v["audit_max_reboot_pending_days"] else Finding.warn(text)


def items(v: dict) -> list[Item]:
    fqdn = {"fqdn": fqdn_probe(v["audit_expected_fqdn"]), **shared("addresses")} if v.get("audit_expected_fqdn") else {}
    res = shared("resources")
    return [
        Item("infra.disk", "infrastructure", "critical", "Disk headroom on /", "free space or grow the disk", disk, res,
             rank=10),
        Item("infra.memory", "infrastructure", "warning", "Memory headroom", "a bigger plan or fewer workloads", memory,
             res, rank=20),
        Item("infra.cpu", "infrastructure", "warning", "CPU headroom", "a bigger plan or fewer workloads", cpu, res,
             rank=30),
        Item("net.dns", "network", "warning", "DNS name resolves to the host", "fix the DNS record", dns, fqdn, rank=40),
        Item("hard.reboot-required", "hardening", "warning", "No reboot pending for installed updates",
             "invoke reboot", reboot_required, {"reboot": RebootFact()}, rank=20),
    ]
