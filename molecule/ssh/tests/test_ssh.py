"""Verify the ssh role from outside: passwords and root refused for real, the admin's key accepted."""

from pathlib import Path

from tests.e2e.helpers import password_login


def test_admin_key_logs_in_and_has_sudo(host):
    assert host.run("id -un").stdout.strip() == "ops"
    assert host.run("sudo -n true").rc == 0


def test_password_login_is_refused(instance):
    password = Path(instance["password_file"]).read_text().strip()
    assert password_login(instance["address"], "root", password) == "not offered"


def test_effective_settings(host):
    effective = host.run("sudo -n sshd -T").stdout
    assert "passwordauthentication no" in effective
    assert "permitrootlogin no" in effective
