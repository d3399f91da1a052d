"""Verify a whole bootstrap from outside: keys only, root refused, firewall and fail2ban on."""

from pathlib import Path

from tests.e2e.helpers import password_login


def test_password_and_root_refused(instance):
    password = Path(instance["password_file"]).read_text().strip()
    assert password_login(instance["address"], "root", password) == "not offered"


def test_admin_has_sudo(host):
    assert host.run("sudo -n true").rc == 0


def test_firewall_and_fail2ban_active(host):
    assert "Status: active" in host.run("sudo -n ufw status").stdout
    assert host.run("sudo -n fail2ban-client status sshd").rc == 0
