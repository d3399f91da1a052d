"""Teaching scenarios: named misconfigurations for lab hosts, each found by audit/check and repaired by bootstrap."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import VpskitError


@dataclass(frozen=True)
class Break:
    name: str
    what: str  # what it does, as the student reads it before looking
    command: str  # run as root on the host
    found_by: str
    repaired_by: str


BREAKS = [
    Break("password-login", "a file that sorts before vpskit's sshd drop-in turns password logins back on",
          "printf 'PasswordAuthentication yes\\nKbdInteractiveAuthentication yes\\n' "
          "> /etc/ssh/sshd_config.d/00-lab-break.conf && systemctl reload ssh",
          "audit infra.ssh-key-only (effective sshd -T); check: the ssh role's effective settings",
          "invoke bootstrap (the override is moved aside, sshd reloaded)"),
    Break("ufw-disabled", "the firewall is switched off", "ufw --force disable",
          "audit net.firewall; check: the firewall role", "invoke bootstrap"),
    Break("fail2ban-stopped", "fail2ban is stopped, so nothing bans brute-force attempts", "systemctl stop fail2ban",
          "audit net.fail2ban; check: the fail2ban role", "invoke bootstrap"),
    Break("redirects-accepted", "the kernel accepts ICMP redirects again (live, not in any file)",
          "sysctl -q -w net.ipv4.conf.all.accept_redirects=1 net.ipv4.conf.all.send_redirects=1",
          "audit hard.sysctl; check: the sysctl role (live values)", "invoke bootstrap"),
    Break("updates-off", "automatic security updates are switched off",
          "sed -i 's/\"1\"/\"0\"/' /etc/apt/apt.conf.d/20auto-upgrades",
          "audit hard.unattended-upgrades; check: the base role", "invoke bootstrap"),
    Break("kubeconfig-readable", "the server's kubeconfig (cluster-admin credentials) is world-readable",
          "test -f /etc/rancher/k3s/k3s.yaml && chmod 0644 /etc/rancher/k3s/k3s.yaml",
          "audit k8s.kubeconfig-mode; check: the k3s role", "invoke bootstrap"),
    Break("stale-backup", "backups silently stopped three days ago",
          "d=/var/lib/prometheus/node-exporter; mkdir -p $d && "
          "printf 'vpskit_backup_last_success_timestamp_seconds{set=\"files\"} %s\\n' $(( $(date +%s) - 259200 )) "
          "> $d/vpskit_backup.prom.tmp && mv $d/vpskit_backup.prom.tmp $d/vpskit_backup.prom",
          "audit infra.backup-age", "the next backup run (cron, or `vpskit-backup run` on the host)"),
]


def find(name: str) -> Break:
    for scenario in BREAKS:
        if scenario.name == name:
            return scenario
    raise VpskitError(f"no lab.break scenario {name!r} (invoke lab.break --list): "
                      f"{', '.join(b.name for b in BREAKS)}")


def lab_addresses(state_root: Path = Path("/var/lib/vpskit")) -> set[str]:
    """Every address a lab on this machine booted (from each lab's state file)."""
    found = set()
    for state in state_root.glob("*/state.json"):
        try:
            found |= {h["address"] for h in json.loads(state.read_text()).get("hosts", {}).values()}
        except (OSError, ValueError, AttributeError):
            continue
    return found


def refuse_non_lab(hosts, addresses: set[str]) -> None:
    """Stops unless every host is a lab host this machine booted: breaking a real server is never wanted."""
    foreign = [f"{h.name} ({h.get('vpskit_host', h.name)})" for h in hosts if h.get("vpskit_host", h.name) not in addresses]
    if foreign:
        raise VpskitError(f"lab.break only breaks lab hosts booted by `invoke lab.up`; not lab hosts: {', '.join(foreign)}")
