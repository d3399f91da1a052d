"""Verify the backups role on the host: the program runs as cron would, and its restore test passes."""

CRON_ENV = "env -i PATH=/usr/bin:/bin SHELL=/bin/sh"


def test_cron_entry_installed(host):
    assert "/usr/local/sbin/vpskit-backup" in host.file("/etc/cron.d/vpskit-backup").content_string


def test_a_run_as_cron_runs_it_then_the_restore_test_passes(host):
    run = host.run(f"{CRON_ENV} /usr/local/sbin/vpskit-backup run")
    assert run.rc == 0, run.stderr
    verify = host.run(f"{CRON_ENV} /usr/local/sbin/vpskit-backup verify")
    assert verify.rc == 0, verify.stdout + verify.stderr
    metrics = host.file("/var/lib/prometheus/node-exporter/vpskit_backup_verify.prom").content_string
    assert "vpskit_backup_restore_test_success" in metrics and " 1" in metrics
