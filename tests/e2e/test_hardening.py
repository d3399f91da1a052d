"""The hardening roles on fresh Debian 12 and 13 lab hosts, checked from outside and inside."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from tests.e2e.conftest import ADMIN, HARDEN_HOSTS as HOSTS
from tests.e2e.helpers import burst_until_banned, invoke, lab_target, lynis_index, password_login, sh, tcp_open, wait_for
from vpskit.connection import Connection
from vpskit.errors import ConnectError


@pytest.mark.parametrize("release", HOSTS)
def test_passwords_worked_before_and_are_refused_after(lab, hardened, release):
    address = lab.load_state().hosts[HOSTS[release]].address
    password = lab.password_path.read_text().strip()
    assert hardened["password_before"][release] == "accepted"
    assert password_login(address, "root", password) == "not offered"
    assert password_login(address, ADMIN, "guess") == "not offered"


@pytest.mark.parametrize("release", HOSTS)
def test_admin_key_login_works_and_root_is_refused(lab, hardened, release):
    assert sh(lab, HOSTS[release], "id -un", ADMIN).stdout.strip() == "root"  # via sudo
    target = lab_target(lab, HOSTS[release], "root")
    target.connect_retries = 0
    with pytest.raises(ConnectError, match="authentication failed"):
        Connection(target).open()


@pytest.mark.parametrize("release", HOSTS)
def test_sshd_effective_settings(lab, hardened, release):
    config = sh(lab, HOSTS[release], "sshd -T", ADMIN).stdout
    for line in ("permitrootlogin no", "passwordauthentication no", "kbdinteractiveauthentication no",
                 "maxauthtries 3", "logingracetime 30", "x11forwarding no", "allowagentforwarding no",
                 "allowtcpforwarding no", "clientaliveinterval 300", "clientalivecountmax 2"):
        assert line in config, line
    kex = re.search(r"^kexalgorithms (.*)$", config, re.M).group(1).split(",")
    assert kex[0] == ("mlkem768x25519-sha256" if release == "trixie" else "sntrup761x25519-sha512@openssh.com")
    keys = sh(lab, HOSTS[release], "ls /etc/ssh/", ADMIN).stdout
    assert "ssh_host_ecdsa_key" not in keys
    weak = sh(lab, HOSTS[release], "awk '$1 !~ /^#/ && $5 < 3071' /etc/ssh/moduli | wc -l", ADMIN).stdout
    assert weak.strip() == "0"


@pytest.mark.parametrize("release", HOSTS)
def test_only_declared_ports_answer(lab, hardened, release):
    name = HOSTS[release]
    sh(lab, name, "systemd-run --quiet --unit=vpskit-probe systemd-socket-activate -l 80 -l 8080 /bin/true; "
                  "for i in $(seq 150); do ss -ltn | grep -q ':80 ' && ss -ltn | grep -q ':8080 ' && break; sleep 0.1; done",
       ADMIN)
    address = lab.load_state().hosts[name].address
    try:
        assert tcp_open(address, 22) and tcp_open(address, 80)
        assert not tcp_open(address, 8080)
    finally:
        sh(lab, name, "systemctl stop vpskit-probe", ADMIN)
    status = sh(lab, name, "ufw status verbose", ADMIN).stdout
    assert "Status: active" in status and "deny (incoming)" in status
    assert re.search(r"^22/tcp\s+ALLOW IN\s+Anywhere\s+# vpskit: ssh$", status, re.M)
    assert re.search(r"^80/tcp\s+ALLOW IN\s+Anywhere\s+# vpskit: http$", status, re.M)


@pytest.mark.parametrize("release", HOSTS)
def test_fail2ban_sysctl_and_updates_configured(lab, hardened, release):
    name = HOSTS[release]
    jail = sh(lab, name, "fail2ban-client status sshd", ADMIN)
    assert jail.ok and "Journal matches" in jail.stdout
    values = sh(lab, name, "sysctl -n net.ipv4.conf.all.rp_filter net.ipv4.tcp_syncookies "
                           "net.ipv4.conf.all.accept_redirects net.ipv4.conf.all.log_martians", ADMIN).stdout.split()
    assert values == ["1", "1", "0", "1"]
    apt = sh(lab, name, "apt-config dump | grep -E 'APT::Periodic::Unattended-Upgrade|Automatic-Reboot '", ADMIN).stdout
    assert 'APT::Periodic::Unattended-Upgrade "1"' in apt and 'Automatic-Reboot "false"' in apt


@pytest.mark.parametrize("release", HOSTS)
def test_lynis_score_rises_to_at_least_80(lab, fresh, hardened, release):
    after = lynis_index(lab, HOSTS[release], ADMIN)
    print(f"Lynis hardening index on Debian {release}: {fresh[release]} before, {after} after")
    assert fresh[release] < 65 and after >= 80


def test_second_run_changes_nothing(hardened, harden_inventory, tmp_path):
    report = tmp_path / "again.json"
    run = invoke("bootstrap", "-i", str(harden_inventory), "--json", str(report))
    assert run.returncode == 0, run.stdout[-3000:]
    for name, host in json.loads(report.read_text())["hosts"].items():
        assert host["summary"]["changed"] == 0, (name, [s for s in host["steps"] if s["status"] == "changed"])
        assert (host["connections"], host["commands"]) == (1, 1)


TAMPERING = [
    ("sshd drop-in edited", "sed -i 's/^MaxAuthTries 3/MaxAuthTries 9/' /etc/ssh/sshd_config.d/00-vpskit-hardening.conf"),
    # the teammate's key: deleting the key the operator logs in with would lock everyone out for good
    ("admin key deleted", "sed -i '/teammate/d' /home/ops/.ssh/authorized_keys"),
    ("stray tagged ufw rule", "ufw allow 8443/tcp comment 'vpskit: stray' >/dev/null"),
    ("declared ufw rule removed", "ufw delete allow proto tcp from any to any port 80 >/dev/null"),
    ("ufw disabled", "ufw --force disable >/dev/null"),
    ("fail2ban stopped", "systemctl stop fail2ban"),
    ("sysctl changed", "sysctl -q -w net.ipv4.conf.all.accept_redirects=1"),
    ("unattended-upgrades config removed", "rm /etc/apt/apt.conf.d/52vpskit-unattended-upgrades"),
    # (not the sudoers drop-in: without it no agentless tool can become root again to restore it)
    ("module blacklist removed", "rm /etc/modprobe.d/vpskit-blacklist.conf"),
    ("login.defs umask loosened", "sed -i 's/^UMASK.*/UMASK 022/' /etc/login.defs"),
    ("ecdsa host key back", "ssh-keygen -q -t ecdsa -N '' -f /etc/ssh/ssh_host_ecdsa_key"),
    ("fail2ban jail edited", "sed -i 's/^maxretry = .*/maxretry = 99/' /etc/fail2ban/jail.local"),
]


@pytest.mark.parametrize("release", HOSTS)
def test_tampering_is_reported_by_check_and_restored(lab, hardened, harden_inventory, release):
    inventory = harden_inventory
    name = HOSTS[release]
    for what, tamper in TAMPERING:
        sh(lab, name, tamper, ADMIN)
        check = invoke("check", "-i", str(inventory), "--limit", name, "--quiet")
        assert check.returncode == 2, (what, check.stdout[-2000:])
        fix = invoke("bootstrap", "-i", str(inventory), "--limit", name, "--quiet")
        assert fix.returncode == 0, (what, fix.stdout[-2000:])
        again = invoke("check", "-i", str(inventory), "--limit", name, "--quiet")
        assert again.returncode == 0, (what, again.stdout[-2000:])


ATTACKER_SUFFIX = 200  # a second address on the lab bridge, so the operator's own address stays trusted


@pytest.fixture
def attacker(lab):
    address = f"{lab.subnet_prefix}.{ATTACKER_SUFFIX}"
    subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", lab.bridge], check=True)
    yield address
    subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", lab.bridge], check=False)


def recidive_failures(lab, name: str) -> int:
    status = sh(lab, name, "fail2ban-client status recidive", ADMIN).stdout
    found = re.search(r"Total failed:\s*(\d+)", status)
    return int(found.group(1)) if found else -1


@pytest.mark.parametrize("release", HOSTS)
def test_fail2ban_bans_a_burst_of_failed_logins_then_lets_go(lab, hardened, attacker, release):
    name = HOSTS[release]
    address = lab.load_state().hosts[name].address

    def status():
        return sh(lab, name, "fail2ban-client status sshd", ADMIN)

    assert wait_for(lambda: status().ok, 30)  # fail2ban may still be starting after the tampering runs restarted it
    time.sleep(2)
    assert burst_until_banned(address, attacker, lambda: attacker in status().stdout), status().stdout
    # fail2ban lists the address before its ufw action has inserted the rule
    assert wait_for(lambda: not tcp_open(address, 22, source=attacker, timeout=1), 15), \
        sh(lab, name, "ufw status", ADMIN).stdout
    assert tcp_open(address, 22)  # the operator is not banned
    # the recidive jail reads fail2ban's own log of bans and counts this one
    assert wait_for(lambda: recidive_failures(lab, name) >= 1, 10)
    assert wait_for(lambda: attacker not in status().stdout, 60, interval=2)  # bantime is 20 s
    assert tcp_open(address, 22, source=attacker, timeout=5)


@pytest.mark.parametrize("release", HOSTS)
def test_ssh_audit_finds_no_failures(lab, hardened, release):
    address = lab.load_state().hosts[HOSTS[release]].address
    result = subprocess.run([sys.executable, "-m", "ssh_audit", "-n", "-j", address], capture_output=True, text=True)
    report = json.loads(result.stdout)
    found = {"fail": [], "warn": []}
    for section in ("kex", "key", "enc", "mac"):
        for algorithm in report.get(section, []):
            for level in ("fail", "warn"):
                if algorithm.get("notes", {}).get(level):
                    found[level].append(f"{section} {algorithm['algorithm']}: {algorithm['notes'][level]}")
    print(f"ssh-audit on Debian {release}: {len(found['fail'])} failures, {len(found['warn'])} warnings")
    for line in found["fail"] + found["warn"]:
        print("  " + line)
    assert found["fail"] == []
    if release == "trixie":
        assert found["warn"] == []
    time.sleep(2)  # OpenSSH >= 9.8 penalises addresses whose connections never authenticated
