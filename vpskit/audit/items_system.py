"""Checklist items about the host itself: headroom, backups, SSH, firewall, fail2ban, DNS, hardening."""

from __future__ import annotations

import time

from ..facts.reboot import parse_reboot
from .model import Finding, Item, Probes
from .parse import metric_values, public_listeners, sshd_settings, ufw_allowed_ports
from .probes import fqdn_probe, shared, textfile_probe

LAST_SUCCESS = "vpskit_backup_last_success_timestamp_seconds"
RESTORE_OK = "vpskit_backup_restore_test_success"


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


def backup_policy(p: Probes, v: dict) -> Finding:
    if not p.ok("backup_cron"):
        return Finding.fail("no /etc/cron.d/vpskit-backup: backups are not scheduled")
    lines = [x for x in p.out("backup_cron").splitlines() if x.strip() and not x.startswith(("#", "SHELL", "PATH"))]
    return Finding.ok("scheduled: " + "; ".join(lines)[:200])


def backup_age(p: Probes, v: dict) -> Finding:
    stamps = metric_values(p.out("textfile"), LAST_SUCCESS)
    if not stamps:
        return Finding.fail(f"no {LAST_SUCCESS} in {v['audit_textfile_dir']}: no backup has succeeded")
    hours = {labels: (time.time() - stamp) / 3600 for labels, stamp in stamps.items()}
    stale = {k: h for k, h in hours.items() if h > v["audit_max_backup_age_hours"]}
    text = ", ".join(f"{k or 'all'} {h:.1f} h ago" for k, h in sorted(hours.items()))
    return Finding.fail(f"too old: {text}") if stale else Finding.ok(f"last success: {text}")


def restore_test(p: Probes, v: dict) -> Finding:
    results = metric_values(p.out("textfile"), RESTORE_OK)
    if not results:
        return Finding.fail(f"no {RESTORE_OK}: no restore test has run (invoke backups.verify)")
    failed = [k or "all" for k, value in results.items() if value != 1]
    return Finding.fail(f"last restore test failed: {', '.join(failed)}") if failed else \
        Finding.ok(f"last restore test passed ({len(results)} set(s))")


def node_exporter(p: Probes, v: dict) -> Finding:
    return Finding.ok("node-exporter answers on :9100") if p.ok("node_exporter") else \
        Finding.fail("nothing listens on :9100 and prometheus-node-exporter is not active")


def key_only(p: Probes, v: dict) -> Finding:
    s = sshd_settings(p.out("sshd"))
    if not s:
        return Finding.fail("sshd -T printed nothing")
    bad = {k: s.get(k) for k in ("passwordauthentication", "kbdinteractiveauthentication") if s.get(k) != "no"}
    return Finding.fail(f"effective: {bad}") if bad else \
        Finding.ok("effective: passwordauthentication no, kbdinteractiveauthentication no")


def root_login(p: Probes, v: dict) -> Finding:
    value = sshd_settings(p.out("sshd")).get("permitrootlogin", "unknown")
    text = f"effective: permitrootlogin {value}"
    return Finding.ok(text) if value == "no" else \
        Finding.warn(text) if value in ("prohibit-password", "without-password", "forced-commands-only") else Finding.fail(text)


def firewall(p: Probes, v: dict) -> Finding:
    status = p.out("ufw")
    if "Status: active" not in status:
        return Finding.fail("ufw is not active")
    if "deny (incoming)" not in status:
        return Finding.fail("ufw is active but does not deny incoming traffic by default")
    return Finding.ok("ufw active, default deny (incoming)")


def listeners(p: Probes, v: dict) -> Finding:
    allowed = ufw_allowed_ports(p.out("ufw"))
    found = public_listeners(p.out("listening"))
    hidden = sorted({f"{proto}/{port}" for proto, port, _ in found if port not in allowed})
    if "Status: active" not in p.out("ufw") and found:
        return Finding.fail(f"firewall off and listening publicly on {', '.join(sorted({str(x[1]) for x in found}))}")
    if hidden:
        return Finding.warn(f"listening beyond the firewall's allows (blocked, but exposed if the firewall "
                            f"stops): {', '.join(hidden)}")
    return Finding.ok(f"public listeners all allowed: {', '.join(sorted({str(x[1]) for x in found})) or 'none'}")


def fail2ban(p: Probes, v: dict) -> Finding:
    if not p.ok("fail2ban"):
        return Finding.fail("the sshd jail is not running (fail2ban-client status sshd failed)")
    out = p.out("fail2ban")
    if "Journal matches:" in out and "_SYSTEMD_UNIT" in out or "File list:" in out and "/" in out.split("File list:")[1]:
        return Finding.ok("sshd jail active, reading " + ("the journal" if "Journal matches" in out else "log files"))
    return Finding.fail("sshd jail active without a log source: it would never ban")


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
    """Updates a reboot has not put in effect yet (a kernel, libc): read as `invoke reboot` reads it."""
    state = parse_reboot(p.out("reboot"))
    if not state.needed:
        return Finding.ok("no reboot pending")
    days = state.required_days()
    reasons = "; ".join(state.reasons())
    if days is None:
        return Finding.warn(reasons)
    text = f"reboot required for {days:.0f} day(s): {reasons}"
    return Finding.fail(text) if days > v["audit_max_reboot_pending_days"] else Finding.warn(text)


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


SYSCTL_WANTED = ("1", "1", "0", "0", "0")
SYSCTL_KEYS = ("net.ipv4.conf.all.rp_filter", "net.ipv4.tcp_syncookies", "net.ipv4.conf.all.accept_redirects",
               "net.ipv4.conf.all.send_redirects", "net.ipv4.conf.all.accept_source_route")


def sysctls(p: Probes, v: dict) -> Finding:
    values = p.out("sysctl").split()
    wrong = [f"{k}={got} (want {want})" for k, got, want in zip(SYSCTL_KEYS, values, SYSCTL_WANTED) if got != want]
    return Finding.fail(", ".join(wrong)) if wrong or len(values) != len(SYSCTL_KEYS) else \
        Finding.ok("live values: " + ", ".join(f"{k}={x}" for k, x in zip(SYSCTL_KEYS, values)))


def core_dumps(p: Probes, v: dict) -> Finding:
    lines = p.out("core_dumps").splitlines()
    hard = any(x.split()[:4] == ["*", "hard", "core", "0"] for x in lines if x.strip() and not x.startswith("#"))
    suid = lines[-1].strip() if lines else "?"
    return Finding.ok("hard core limit 0, fs.suid_dumpable 0") if hard and suid == "0" else \
        Finding.warn(f"hard core limit 0: {hard}, fs.suid_dumpable {suid}")


def items(v: dict) -> list[Item]:
    textfile = {"textfile": textfile_probe(v["audit_textfile_dir"])}
    fqdn = {"fqdn": fqdn_probe(v["audit_expected_fqdn"]), **shared("addresses")} if v.get("audit_expected_fqdn") else {}
    res = shared("resources")
    return [
        Item("infra.disk", "infrastructure", "critical", "Disk headroom on /", "free space or grow the disk", disk, res),
        Item("infra.memory", "infrastructure", "warning", "Memory headroom", "a bigger plan or fewer workloads", memory, res),
        Item("infra.cpu", "infrastructure", "warning", "CPU headroom", "a bigger plan or fewer workloads", cpu, res),
        Item("infra.backup-policy", "infrastructure", "critical", "Backups automated", "invoke backups", backup_policy,
             shared("backup_cron")),
        Item("infra.backup-age", "infrastructure", "critical", "Last backup recent", "invoke backups", backup_age, textfile),
        Item("infra.restore-test", "infrastructure", "critical", "Backup restoration tested", "invoke backups.verify",
             restore_test, textfile),
        Item("infra.node-exporter", "infrastructure", "warning", "Node metrics exported", "invoke monitoring",
             node_exporter, shared("node_exporter")),
        Item("infra.ssh-key-only", "infrastructure", "critical", "SSH key-only authentication", "invoke ssh", key_only,
             shared("sshd")),
        Item("infra.root-login", "infrastructure", "critical", "Root login disabled", "invoke ssh", root_login,
             shared("sshd")),
        Item("net.firewall", "network", "critical", "Firewall active, default deny", "invoke firewall", firewall,
             shared("ufw")),
        Item("net.listening", "network", "warning", "Only declared ports listening publicly",
             "stop the service or declare its port (firewall_allow)", listeners, shared("ufw", "listening")),
        Item("net.fail2ban", "network", "warning", "fail2ban jail active with a log source", "invoke fail2ban", fail2ban,
             shared("fail2ban")),
        Item("net.dns", "network", "warning", "DNS name resolves to the host", "fix the DNS record", dns, fqdn),
        Item("hard.unattended-upgrades", "hardening", "critical", "Security updates applied automatically",
             "invoke base", unattended, shared("unattended")),
        Item("hard.reboot-required", "hardening", "warning", "No reboot pending for installed updates",
             "invoke reboot", reboot_required, shared("reboot")),
        Item("hard.sysctl", "hardening", "warning", "Network sysctls hardened", "invoke sysctl", sysctls,
             shared("sysctl")),
        Item("hard.core-dumps", "hardening", "info", "Core dumps disabled", "invoke baseline", core_dumps,
             shared("core_dumps")),
    ]
