"""Verify the firewall role from outside: only the declared ports answer; ufw denies by default."""

import re

from tests.e2e.helpers import tcp_open

LISTEN = ("systemd-run --quiet --unit=molecule-probe systemd-socket-activate -l 80 -l 8080 /bin/true; "
          "for i in $(seq 150); do ss -ltn | grep -q ':80 ' && ss -ltn | grep -q ':8080 ' && break; sleep 0.1; done")


def test_only_declared_ports_answer(host, instance):
    assert host.run(LISTEN).rc == 0
    try:
        assert tcp_open(instance["address"], 22) and tcp_open(instance["address"], 80)
        assert not tcp_open(instance["address"], 8080)
    finally:
        host.run("systemctl stop molecule-probe")


def test_ufw_denies_by_default_and_allows_what_is_declared(host):
    status = host.run("ufw status verbose").stdout
    assert "Status: active" in status and "deny (incoming)" in status
    assert re.search(r"^80/tcp\s+ALLOW IN\s+Anywhere\s+# vpskit: http$", status, re.M)
