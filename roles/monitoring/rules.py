"""The alert rules (a Prometheus rule group built as data): the checklist's critical alerts plus node, TLS and backups."""

from __future__ import annotations


def _jobs(jobs) -> str:
    """A PromQL label regex matching any of the job names."""
    names = [jobs] if isinstance(jobs, str) else list(jobs)
    return "|".join(names) or "^$"


def _alert(name: str, expr: str, duration: str, severity: str, summary: str, description: str) -> dict:
    return {"alert": name, "expr": expr, "for": duration, "labels": {"severity": severity},
            "annotations": {"summary": summary, "description": description}}


def alert_rules(v: dict) -> list[dict]:
    """The alerts, thresholds, job names and `for:` durations taken from the role's variables. Pure."""
    app = f'job=~"{_jobs(v["monitoring_app_jobs"])}"'
    requests, status = v["monitoring_http_requests_metric"], v["monitoring_http_status_label"]
    window = v["monitoring_error_rate_window"]
    disk = v["monitoring_disk_selector"]
    free = f"node_filesystem_avail_bytes{{{disk}}} / node_filesystem_size_bytes{{{disk}}}"
    return [
        _alert("ApplicationDown", f"up{{{app}}} == 0", v["monitoring_app_down_for"], "critical",
               "{{ $labels.job }} is down",
               "{{ $labels.instance }} of {{ $labels.job }} has not answered its scrape."),
        _alert("HighErrorRate",
               f'sum by (job) (rate({requests}{{{app},{status}=~"5.."}}[{window}]))'
               f" / sum by (job) (rate({requests}{{{app}}}[{window}]))"
               f' > {v["monitoring_error_rate_threshold"]}',
               v["monitoring_error_rate_for"], "critical",
               "{{ $labels.job }} answers too many requests with 5xx",
               "{{ $value | humanizePercentage }} of {{ $labels.job }}'s requests failed with a 5xx status."),
        _alert("DatabaseDown",
               f'{v["monitoring_database_up_metric"]}{{job=~"{_jobs(v["monitoring_database_jobs"])}"}} == 0',
               v["monitoring_database_down_for"], "critical",
               "database behind {{ $labels.job }} is down",
               "The exporter {{ $labels.instance }} cannot reach its database."),
        _alert("DiskAlmostFull", f'(1 - {free}) * 100 > {v["monitoring_disk_full_percent"]}',
               v["monitoring_disk_full_for"], "critical",
               "{{ $labels.mountpoint }} on {{ $labels.instance }} is almost full",
               "{{ $labels.mountpoint }} is {{ $value | printf \"%.1f\" }}% full."),
        _alert("NodeDown", f'up{{job=~"{_jobs(v["monitoring_node_jobs"])}"}} == 0',
               v["monitoring_node_down_for"], "critical",
               "node {{ $labels.instance }} is down",
               "The node exporter on {{ $labels.instance }} has not answered its scrape."),
        _alert("CertificateExpiringSoon",
               "certmanager_certificate_expiration_timestamp_seconds - time()"
               f' < {int(v["monitoring_certificate_days"]) * 86400}',
               v["monitoring_certificate_for"], "warning",
               "certificate {{ $labels.namespace }}/{{ $labels.name }} expires soon",
               "It expires in {{ $value | humanizeDuration }}; cert-manager has not renewed it."),
        _alert("BackupTooOld",
               f'time() - {v["monitoring_backup_metric"]} > {int(v["monitoring_backup_max_age_hours"]) * 3600}',
               v["monitoring_backup_for"], "critical",
               "backup set {{ $labels.set }} is too old",
               "Its last successful backup was {{ $value | humanizeDuration }} ago."),
    ]


def rule_groups(v: dict) -> dict:
    """A Prometheus rule file's content (also the PrometheusRule's spec). Pure."""
    return {"groups": [{"name": "vpskit", "rules": alert_rules(v)}]}
