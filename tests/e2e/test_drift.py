"""Drift the hardening must see and undo: sshd overrides, one address family's firewall rules, the kernel's
chains, package configuration files and apt's effective policy (Debian 12 and 13 lab hosts)."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import ADMIN, HARDEN_HOSTS as HOSTS
from tests.e2e.helpers import invoke, password_login, sh, tcp_open, wait_for


def password_answer(address: str, password: str) -> str:
    """A real root password attempt, once sshd answers again (a reload re-executes it: the port is briefly closed)."""
    assert wait_for(lambda: tcp_open(address, 22), 15)
    for attempt in range(5):
        try:
            return password_login(address, "root", password)
        except OSError:  # closed between the probe and the attempt
            time.sleep(1)
    return password_login(address, "root", password)


def check_then_fix(inventory, name: str, *expected: str) -> str:
    """`check` finds the drift (exit 2) and names it; `bootstrap` fixes it; `check` then finds nothing."""
    check = invoke("check", "-i", str(inventory), "--limit", name)
    assert check.returncode == 2, check.stdout[-3000:] + check.stderr[-2000:]
    for pattern in expected:
        assert re.search(pattern, check.stdout), (pattern, check.stdout[-3000:])
    fix = invoke("bootstrap", "-i", str(inventory), "--limit", name, "--quiet")
    assert fix.returncode == 0, fix.stdout[-3000:] + fix.stderr[-2000:]
    again = invoke("check", "-i", str(inventory), "--limit", name, "--quiet")
    assert again.returncode == 0, again.stdout[-3000:]
    return check.stdout


PASSWORDS_BACK = "PasswordAuthentication yes\\nAuthenticationMethods any\\nPermitRootLogin yes\\n"
SSHD_OVERRIDES = [
    # a drop-in that sorts before vpskit's: sshd keeps the first value it reads
    ("drop-in sorting first", f"printf '{PASSWORDS_BACK}' > /etc/ssh/sshd_config.d/00-aaa-override.conf",
     [r"/etc/ssh/sshd_config\.d/00-aaa-override\.conf:1: passwordauthentication yes",
      r"/etc/ssh/sshd_config\.d/00-aaa-override\.conf:3: permitrootlogin yes"]),
    ("line before the Include", f"sed -i '1i {PASSWORDS_BACK}' /etc/ssh/sshd_config",
     [r"/etc/ssh/sshd_config:1: passwordauthentication yes", r"/etc/ssh/sshd_config:2: authenticationmethods any"]),
    # only for the operator's address (`sshd -T` without -C would not show it); keys still work, or the operator
    # (and vpskit) would be the ones locked out
    ("Match block", "printf 'Match Address {operator}\\n    PasswordAuthentication yes\\n"
                    "    AuthenticationMethods publickey password\\n    PermitRootLogin yes\\n' >> /etc/ssh/sshd_config",
     [r"/etc/ssh/sshd_config:\d+: passwordauthentication yes \(in `Match Address {operator}`\)",
      r"passwordauthentication yes for user=\w+,host={operator},addr={operator} \(wanted no\)"]),
]


@pytest.mark.parametrize("release", HOSTS)
@pytest.mark.parametrize("what,tamper,expected", SSHD_OVERRIDES, ids=[o[0] for o in SSHD_OVERRIDES])
def test_sshd_override_is_seen_and_neutralised(lab, hardened, harden_inventory, release, what, tamper, expected):
    name = HOSTS[release]
    address = lab.load_state().hosts[name].address
    operator = f"{lab.subnet_prefix}.1"  # the lab bridge: the address vpskit and this test connect from
    password = lab.password_path.read_text().strip()
    sh(lab, name, tamper.format(operator=operator) + " && systemctl reload ssh", ADMIN)
    assert password_answer(address, password) == "accepted", what  # the override is live
    check_then_fix(harden_inventory, name, *(p.format(operator=re.escape(operator)) for p in expected))
    # the live daemon agrees: a fresh client is not offered passwords
    assert password_answer(address, password) == "not offered", what
    time.sleep(2)  # OpenSSH >= 9.8 penalises addresses whose connections never authenticated
    backups = sh(lab, name, "find /var/backups/vpskit/etc/ssh -type f", ADMIN).stdout
    assert "sshd_config" in backups, backups


def v6_ssh_rule_number(lab, name: str) -> str:
    numbered = sh(lab, name, "ufw status numbered", ADMIN).stdout
    found = re.search(r"^\[\s*(\d+)\]\s+22/tcp \(v6\)\s+ALLOW IN", numbered, re.M)
    assert found, numbered
    return found.group(1)


LIVE_CHAINS = ["ip6tables -S ufw6-user-input", "iptables -S ufw-user-input"]


# one check → bootstrap → check cycle for the three firewall tamperings (each named by check), to keep CI short
@pytest.mark.parametrize("release", HOSTS)
def test_firewall_drift_per_family_and_in_the_kernel_is_restored(lab, hardened, harden_inventory, release):
    name = HOSTS[release]
    sh(lab, name, f"ufw --force delete {v6_ssh_rule_number(lab, name)} >/dev/null", ADMIN)
    assert "22/tcp (v6)" not in sh(lab, name, "ufw status", ADMIN).stdout
    before = {show: sh(lab, name, show, ADMIN).stdout for show in LIVE_CHAINS}
    # the IPv6 chain flushed whole (vpskit connects over IPv4, so it can still come back); one rule taken out of
    # the IPv4 chain (flushing it all would drop new SSH connections, ours included)
    sh(lab, name, "ip6tables -F ufw6-user-input && iptables -D ufw-user-input -p tcp --dport 80 -j ACCEPT", ADMIN)
    check_then_fix(harden_inventory, name, re.escape("add allow 22/tcp from any (vpskit: ssh) (IPv6 only)"),
                   r"the kernel's ufw6-user-input chain holds 0 rule\(s\), /etc/ufw/user6\.rules \d+: reload",
                   r"the kernel's ufw-user-input chain holds \d+ rule\(s\), /etc/ufw/user\.rules \d+: reload")
    v6_ssh_rule_number(lab, name)
    assert "--dport 22 " in sh(lab, name, "ip6tables -S ufw6-user-input", ADMIN).stdout
    ipv4 = sh(lab, name, LIVE_CHAINS[1], ADMIN).stdout
    assert sorted(ipv4.splitlines()) == sorted(before[LIVE_CHAINS[1]].splitlines())


# one cycle for package configuration removed and security updates turned off elsewhere, to keep CI short
@pytest.mark.parametrize("release", HOSTS)
def test_missing_package_configuration_and_updates_turned_off_are_restored(lab, hardened, harden_inventory,
                                                                           release):
    name = HOSTS[release]
    files = ["/etc/apt/apt.conf.d/50unattended-upgrades", "/etc/fail2ban/jail.conf"]
    sums = sh(lab, name, f"sha256sum {' '.join(files)}", ADMIN).stdout
    sh(lab, name, f"rm {' '.join(files)}", ADMIN)
    sh(lab, name, "echo 'APT::Periodic::Unattended-Upgrade \"0\";' > /etc/apt/apt.conf.d/99local-off", ADMIN)
    check_then_fix(harden_inventory, name, r"unattended-upgrades: /etc/apt/apt\.conf\.d/50unattended-upgrades",
                   r"fail2ban: /etc/fail2ban/jail\.conf",
                   r"APT::Periodic::Unattended-Upgrade is 0: comment out /etc/apt/apt\.conf\.d/99local-off:1")
    assert sh(lab, name, f"sha256sum {' '.join(files)}", ADMIN).stdout == sums  # the packaged content is back
    assert sh(lab, name, "fail2ban-client status sshd", ADMIN).ok
    dump = sh(lab, name, "apt-config dump | grep '^APT::Periodic::Unattended-Upgrade '", ADMIN).stdout
    assert dump.strip() == 'APT::Periodic::Unattended-Upgrade "1";'
    sh(lab, name, "rm /etc/apt/apt.conf.d/99local-off", ADMIN)  # commented out, now harmless: leave it clean
