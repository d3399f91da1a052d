"""Verify the fail2ban role from outside: a bounded burst of failed logins from one address is banned."""

import subprocess

import pytest

from tests.e2e.helpers import burst_until_banned, tcp_open, wait_for

# an address of its own on the lab bridge: the ban (and OpenSSH's own penalties) must not hit the operator
ATTACKER_SUFFIX = 251


@pytest.fixture
def attacker(instance):
    address = instance["gateway"].rsplit(".", 1)[0] + f".{ATTACKER_SUFFIX}"
    subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", instance["bridge"]], check=True)
    yield address
    subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", instance["bridge"]], check=False)


def test_sshd_jail_reads_the_journal(host):
    jail = host.run("fail2ban-client status sshd")
    assert jail.rc == 0 and "Journal matches" in jail.stdout


def test_a_burst_is_banned_and_the_operator_is_not(host, instance, attacker):
    address = instance["address"]
    assert burst_until_banned(address, attacker, lambda: attacker in host.run("fail2ban-client status sshd").stdout)
    assert wait_for(lambda: not tcp_open(address, 22, source=attacker, timeout=1), 15)
    assert tcp_open(address, 22)
