"""Verify the baseline role on the host: login.defs, restricted modes, core dumps off, banner."""


def test_login_defs(host):
    assert "UMASK 027" in host.file("/etc/login.defs").content_string.splitlines()


def test_restricted_modes(host):
    assert host.file("/etc/crontab").mode == 0o600
    assert host.file("/etc/cron.d").mode == 0o700


def test_banner(host):
    assert "authorized access only" in host.file("/etc/issue.net").content_string
