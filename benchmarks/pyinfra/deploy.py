"""The harden profile written for pyinfra (same files as benchmarks/files, same end state)."""

from pathlib import Path

from pyinfra import host
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server, systemd

FILES = Path(__file__).parent.parent / "files"
ADMIN = "benchadmin"

apt.packages(name="packages", packages=["ufw", "fail2ban", "python3-systemd", "unattended-upgrades"],
             update=True, cache_time=3600)
server.user(name="admin user", user=ADMIN, groups=["sudo"], append=True, shell="/bin/bash", create_home=True)
server.user_authorized_keys(name="admin key", user=ADMIN, public_keys=[host.data.admin_key])
files.put(name="sudoers", src=str(FILES / "sudoers-benchadmin"), dest="/etc/sudoers.d/benchadmin", mode="440")
sshd = files.put(name="sshd drop-in", src=str(FILES / "00-bench-sshd.conf"),
                 dest="/etc/ssh/sshd_config.d/00-bench.conf", mode="644")
server.shell(name="validate and reload sshd", commands=["sshd -t && systemctl reload ssh"], _if=sshd.did_change)
sysctl = files.put(name="sysctl file", src=str(FILES / "90-bench-sysctl.conf"), dest="/etc/sysctl.d/90-bench.conf",
                   mode="644")
jail = files.put(name="fail2ban jail", src=str(FILES / "jail.local"), dest="/etc/fail2ban/jail.local", mode="644")
files.put(name="cron script", src=str(FILES / "bench-report.sh"), dest="/usr/local/bin/bench-report", mode="755")
files.put(name="cron entry", src=str(FILES / "bench-report.cron"), dest="/etc/cron.d/bench-report", mode="644")

# pyinfra has no ufw operation: read the rules once, add only what is missing
status = host.get_fact(Command, "ufw status verbose 2>/dev/null || true") or ""
for port in ("22", "80", "443", "6443"):
    if f"\n{port}/tcp " not in f"\n{status}":
        server.shell(name=f"ufw allow {port}", commands=[f"ufw allow {port}/tcp"])
if "deny (incoming)" not in status or "allow (outgoing)" not in status:
    server.shell(name="ufw defaults", commands=["ufw default deny incoming", "ufw default allow outgoing"])
if "Status: active" not in status:
    server.shell(name="ufw enable", commands=["ufw --force enable"])
systemd.service(name="fail2ban running", service="fail2ban", running=True, enabled=True)
systemd.service(name="restart fail2ban", service="fail2ban", restarted=True, _if=jail.did_change)
# last, like a handler: enabling ufw applies ufw's own sysctl file, which would undo these settings
server.shell(name="apply sysctl", commands=["sysctl -q -p /etc/sysctl.d/90-bench.conf"], _if=sysctl.did_change)
