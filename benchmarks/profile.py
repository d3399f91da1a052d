"""The benchmark's harden profile as data: what every tool must leave on the host."""

from pathlib import Path

FILES = Path(__file__).parent / "files"
PACKAGES = ["ufw", "fail2ban", "python3-systemd", "unattended-upgrades"]
ADMIN = "benchadmin"
UFW_ALLOWS = ["22", "80", "443", "6443"]
# path on the host, file in benchmarks/files, mode
MANAGED = [
    ("/etc/ssh/sshd_config.d/00-bench.conf", "00-bench-sshd.conf", "0644"),
    ("/etc/sudoers.d/benchadmin", "sudoers-benchadmin", "0440"),
    ("/etc/sysctl.d/90-bench.conf", "90-bench-sysctl.conf", "0644"),
    ("/etc/fail2ban/jail.local", "jail.local", "0644"),
    ("/usr/local/bin/bench-report", "bench-report.sh", "0755"),
    ("/etc/cron.d/bench-report", "bench-report.cron", "0644"),
]

# a fingerprint of the end state, compared between tools (sorted, stable output)
STATE_COMMAND = " ; ".join([
    "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' " + " ".join(PACKAGES),
    f"id {ADMIN}", f"awk NF /home/{ADMIN}/.ssh/authorized_keys | sort | sha256sum",
    "stat -c '%n %a %U' " + " ".join(path for path, _f, _m in MANAGED),
    "sha256sum " + " ".join(path for path, _f, _m in MANAGED),
    "ufw status verbose | sed 's/ *#.*//; s/ *$//'",
    "systemctl is-active fail2ban ssh; systemctl is-enabled fail2ban",
    "sysctl -n net.ipv4.conf.all.rp_filter net.ipv4.conf.all.accept_redirects net.ipv4.conf.all.log_martians",
])
