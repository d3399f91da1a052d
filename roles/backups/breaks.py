"""The backups role's lab break (`invoke lab.break`)."""

from vpskit.lab.breaks import Break

BREAKS = [
    Break("stale-backup", "backups silently stopped three days ago",
          "d=/var/lib/prometheus/node-exporter; mkdir -p $d && "
          "printf 'vpskit_backup_last_success_timestamp_seconds{set=\"files\"} %s\\n' $(( $(date +%s) - 259200 )) "
          "> $d/vpskit_backup.prom.tmp && mv $d/vpskit_backup.prom.tmp $d/vpskit_backup.prom",
          "audit infra.backup-age", "the next backup run (cron, or `vpskit-backup run` on the host)"),
]
