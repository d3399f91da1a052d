"""The alert rules (a Prometheus rule group built as data): each guarded thing failing, gone, or never started.

Several rules may share one alert name (one per application, or one for the "gone" case with its own `for:`):
the alert is what the operator reads and routes on, the rules are the ways it can become true.
"""

from __future__ import annotations

from .apps import applications

# node-exporter's textfile collector is where the backup program's metrics come from (roles/backups)
BACKUP_LAST_SUCCESS = "vpskit_backup_last_success_timestamp_seconds"
RESTORE_SUCCESS = "vpskit_backup_restore_test_success"
RESTORE_TIME = "vpskit_backup_restore_test_timestamp_seconds"
OFFSITE_SUCCESS = "vpskit_backup_offsite_check_success"
OFFSITE_TIME = "vpskit_backup_offsite_check_timestamp_seconds"
# cert-manager's own metrics (pkg/metrics/certificates.go at v1.18.2): 0 stands for "not issued yet"
CERT_EXPIRY = "certmanager_certificate_expiration_timestamp_seconds"
CERT_READY = "certmanager_certificate_ready_status"


def _jobs(jobs) -> str:
    """A PromQL label regex matching any of the job names."""
    names = [jobs] if isinstance(jobs, str) else list(jobs)
    return "|".join(names) or "^$"


def _scheduled(v: dict, key: str) -> bool:
    """False only when the inventory sets the backups role's schedule to null (the monitoring role alone: True)."""
    return key not in v or v[key] is not None


def _hours(value) -> int:
    return int(value) * 3600


def _alert(name: str, expr: str, duration: str, severity: str, summary: str, description: str,
           runbook: dict, **labels: str) -> dict:
    """One alerting rule; `labels` tell apart the rules of one alert (promtool refuses two with equal labels)."""
    return {"alert": name, "expr": expr, "for": duration, "labels": {"severity": severity, **labels},
            "annotations": {"summary": summary, "description": description, **runbook}}


def runbook_annotation(v: dict, name: str) -> dict:
    """`runbook_url` when the inventory says where the runbooks are published, else the file `invoke runbooks` writes."""
    base = (v.get("monitoring_runbook_url") or "").rstrip("/")
    if base:
        return {"runbook_url": f"{base}/{name}.md"}
    return {"runbook": f"{v.get('monitoring_runbooks_dir') or 'runbooks'}/{name}.md (written by invoke runbooks)"}


def _namespaced(metric: str) -> str:
    """cert-manager's `namespace` label of the Certificate, whether or not the scrape kept it (honorLabels).

    With honorLabels off (the chart's default) Prometheus renames the exported label to `exported_namespace` and
    `namespace` becomes cert-manager's own: the Certificate's namespace is put back where the annotations read it.
    """
    return f'label_replace({metric}, "namespace", "$1", "exported_namespace", "(.+)")'


def app_rules(v: dict) -> list[dict]:
    """ApplicationDown and HighErrorRate for each declared application, with its own metric, label and thresholds."""
    rules = []
    for app in applications(v):
        job, metric, status, window = app["job"], app["requests_metric"], app["status_label"], app["error_rate_window"]
        sel = f'job="{job}"'
        rules.append(_alert(
            "ApplicationDown", f"up{{{sel}}} == 0 or absent(up{{{sel}}})", app["down_for"], "critical",
            "{{ $labels.job }} is down",
            "{{ if $labels.instance }}{{ $labels.instance }} of {{ $labels.job }} has not answered its scrape."
            "{{ else }}{{ $labels.job }} has no scrape target at all: no pod runs, or no Service/ServiceMonitor "
            "selects one.{{ end }}", runbook_annotation(v, "ApplicationDown"), job=job))
        rules.append(_alert(
            "HighErrorRate",
            f'sum by (job) (rate({metric}{{{sel},{status}=~"5.."}}[{window}]))'
            f" / sum by (job) (rate({metric}{{{sel}}}[{window}])) > {app['error_rate_threshold']}",
            app["error_rate_for"], "critical",
            "{{ $labels.job }} answers too many requests with 5xx",
            "{{ $value | humanizePercentage }} of {{ $labels.job }}'s requests failed with a 5xx status over "
            f"{window}.", runbook_annotation(v, "HighErrorRate"), job=job))
    return rules


def database_rules(v: dict) -> list[dict]:
    metric, down_for = v["monitoring_database_up_metric"], v["monitoring_database_down_for"]
    rules = []
    for job in v["monitoring_database_jobs"] or []:
        sel = f'{metric}{{job="{job}"}}'
        rules.append(_alert(
            "DatabaseDown", f"{sel} == 0 or absent({sel})", down_for, "critical",
            "database behind {{ $labels.job }} is down",
            "{{ if $labels.instance }}The exporter {{ $labels.instance }} cannot reach its database.{{ else }}"
            f"No exporter of job {{{{ $labels.job }}}} reports {metric}: the exporter is gone or not scraped."
            "{{ end }}", runbook_annotation(v, "DatabaseDown"), job=job))
    return rules


def node_rules(v: dict) -> list[dict]:
    """NodeDown: a node exporter that fails its scrape, none at all, or a Kubernetes node without one."""
    jobs, down_for = v["monitoring_node_jobs"], v["monitoring_node_down_for"]
    book = runbook_annotation(v, "NodeDown")
    rules = [_alert("NodeDown", f'up{{job=~"{_jobs(jobs)}"}} == 0', down_for, "critical",
                    "node {{ $labels.instance }} is down",
                    "The node exporter on {{ $labels.instance }} has not answered its scrape.", book,
                    reason="down")]
    for job in jobs:
        rules.append(_alert("NodeDown", f'absent(up{{job="{job}"}})', down_for, "critical",
                            "no node exporter of job {{ $labels.job }} is scraped",
                            "Prometheus has no target of job {{ $labels.job }}: no node is watched.", book,
                            reason="missing", job=job))
    if v["monitoring_node_kubernetes"]:
        # the chart's node-exporter listens on the node's own address (hostNetwork, HOST_IP): a node that
        # kube-state-metrics lists with no scraped exporter at that address has lost its exporter
        exporters = f'label_replace(up{{job=~"{_jobs(jobs)}"}}, "internal_ip", "$1", "instance", ' \
                    '"\\\\[?([^\\\\]]*?)\\\\]?:[0-9]+")'
        rules.append(_alert("NodeDown", f"max by (node, internal_ip) (kube_node_info) unless on(internal_ip) "
                            f"{exporters}", down_for, "critical", "node {{ $labels.node }} has no node exporter",
                            "Kubernetes lists node {{ $labels.node }} ({{ $labels.internal_ip }}) but no "
                            "node exporter on it is scraped.", book, reason="no-exporter"))
    return rules


def disk_rules(v: dict) -> list[dict]:
    disk = v["monitoring_disk_selector"]
    free = f"node_filesystem_avail_bytes{{{disk}}} / node_filesystem_size_bytes{{{disk}}}"
    return [_alert("DiskAlmostFull", f'(1 - {free}) * 100 > {v["monitoring_disk_full_percent"]}',
                   v["monitoring_disk_full_for"], "critical",
                   "{{ $labels.mountpoint }} on {{ $labels.instance }} is almost full",
                   "{{ $labels.mountpoint }} is {{ $value | printf \"%.1f\" }}% full.",
                   runbook_annotation(v, "DiskAlmostFull"))]


def certificate_rules(v: dict) -> list[dict]:
    """Expiring soon (issued ones only), not Ready, and cert-manager's metrics gone while certs are on."""
    limit = int(v["monitoring_certificate_days"]) * 86400
    expiry, not_ready = _namespaced(CERT_EXPIRY), _namespaced(f'{CERT_READY}{{condition=~"False|Unknown"}}')
    rules = [
        _alert("CertificateExpiringSoon", f"({expiry} > 0) - time() < {limit}", v["monitoring_certificate_for"],
               "warning", "certificate {{ $labels.namespace }}/{{ $labels.name }} expires soon",
               "{{ if ge $value 0.0 }}It expires in {{ $value | humanizeDuration }}{{ else }}It has expired"
               "{{ end }}; cert-manager has not renewed it.", runbook_annotation(v, "CertificateExpiringSoon")),
        _alert("CertificateNotReady", f"{not_ready} == 1", v["monitoring_certificate_not_ready_for"], "critical",
               "certificate {{ $labels.namespace }}/{{ $labels.name }} is not Ready",
               "cert-manager reports Ready={{ $labels.condition }} for it (issuer {{ $labels.issuer_kind }}/"
               "{{ $labels.issuer_name }}): it was not issued or not renewed.",
               runbook_annotation(v, "CertificateNotReady"), reason="not-ready"),
    ]
    if v.get("certs_enabled"):
        job = v["monitoring_certmanager_job"]
        rules.append(_alert("CertificateNotReady", f'absent(up{{job="{job}"}})',
                            v["monitoring_certificate_not_ready_for"], "critical",
                            "cert-manager's metrics are missing",
                            "Prometheus scrapes no target of job {{ $labels.job }}: no certificate's state or "
                            "expiry is watched.", runbook_annotation(v, "CertificateNotReady"), reason="missing"))
    return rules


def backup_rules(v: dict) -> list[dict]:
    """Backups too old or never made, restore tests failing or stale, off-site checks failing or stale."""
    age = _hours(v["monitoring_backup_max_age_hours"])
    lookback = v["monitoring_backup_lookback"]
    # the last value seen in the lookback: a host whose metrics vanished keeps ageing instead of going silent
    last = f"last_over_time({BACKUP_LAST_SUCCESS}[{lookback}])"
    too_old, restore, offsite = (runbook_annotation(v, n) for n in
                                 ("BackupTooOld", "BackupRestoreTestFailed", "BackupOffsiteCheckFailed"))
    rules = [
        _alert("BackupTooOld", f"time() - ({last} > 0) > {age}", v["monitoring_backup_for"], "critical",
               "the backups of {{ $labels.instance }} are too old",
               "Its last successful backup was {{ $value | humanizeDuration }} ago.", too_old, reason="too-old"),
        # 0 is the program's "no run has succeeded yet" (written after a failed run)
        _alert("BackupTooOld", f"{last} == 0", v["monitoring_backup_for"], "critical",
               "the backups of {{ $labels.instance }} have never succeeded",
               "The backup program has run there, and no run has succeeded yet.", too_old,
               reason="never-succeeded"),
    ]
    if v["monitoring_backup_expected"]:
        # a new rule starts pending when it is first evaluated: the grace period starts when backups are switched on
        rules.append(_alert("BackupTooOld", f"absent({BACKUP_LAST_SUCCESS})",
                            f"{int(v['monitoring_backup_max_age_hours'])}h", "critical",
                            "no host reports a backup",
                            f"No host has reported {BACKUP_LAST_SUCCESS} for "
                            f"{v['monitoring_backup_max_age_hours']} hours: the backup program never ran, or its "
                            "metrics do not reach Prometheus (node-exporter's textfile collector).", too_old,
                            reason="missing"))
    rules.append(_alert("BackupRestoreTestFailed", f"last_over_time({RESTORE_SUCCESS}[{lookback}]) == 0",
                        v["monitoring_restore_test_for"], "critical",
                        "the restore test of {{ $labels.instance }} failed",
                        "The last restore test of the newest backup failed: these backups may not restore "
                        "(the journal of vpskit-backup says why).", restore, reason="failed"))
    # no schedule (restore tests on demand only, off-site checks never): no age to hold them to
    stale = v.get("monitoring_restore_test_max_age_hours") if _scheduled(v, "backups_verify_schedule") else None
    if stale:
        rules += [
            _alert("BackupRestoreTestFailed", f"time() - last_over_time({RESTORE_TIME}[{lookback}]) > {_hours(stale)}",
                   v["monitoring_restore_test_for"], "critical",
                   "no recent restore test on {{ $labels.instance }}",
                   "The last restore test ran {{ $value | humanizeDuration }} ago.", restore, reason="stale"),
            # backups made, never restore-tested: given as long as a restore test may be late
            _alert("BackupRestoreTestFailed", f"{BACKUP_LAST_SUCCESS} > 0 unless on(instance, job) "
                   f"last_over_time({RESTORE_TIME}[{lookback}])", f"{int(stale)}h", "critical",
                   "the backups of {{ $labels.instance }} were never restore-tested",
                   f"It reports successful backups and no restore test in {int(stale)} hours.", restore,
                   reason="never-ran"),
        ]
    rules.append(_alert("BackupOffsiteCheckFailed", f"last_over_time({OFFSITE_SUCCESS}[{lookback}]) == 0",
                        v["monitoring_offsite_check_for"], "critical",
                        "the off-site repository of {{ $labels.instance }} failed its check",
                        "restic check of the off-site repository failed: its copies may be damaged.", offsite,
                        reason="failed"))
    stale = v.get("monitoring_offsite_check_max_age_hours") if _scheduled(v, "backups_restic_check_schedule") else None
    if stale:
        rules.append(_alert("BackupOffsiteCheckFailed",
                            f"time() - last_over_time({OFFSITE_TIME}[{lookback}]) > {_hours(stale)}",
                            v["monitoring_offsite_check_for"], "warning",
                            "no recent off-site check on {{ $labels.instance }}",
                            "The off-site repository was last checked {{ $value | humanizeDuration }} ago.", offsite,
                            reason="stale"))
    return rules


def alert_rules(v: dict) -> list[dict]:
    """The alerts, thresholds, job names and `for:` durations taken from the role's variables. Pure."""
    return [*app_rules(v), *database_rules(v), *disk_rules(v), *node_rules(v), *certificate_rules(v),
            *backup_rules(v)]


def alert_names(v: dict) -> list[str]:
    """Each alert once, in the order of the rules."""
    return list(dict.fromkeys(r["alert"] for r in alert_rules(v)))


def rule_groups(v: dict) -> dict:
    """A Prometheus rule file's content (also the PrometheusRule's spec). Pure."""
    return {"groups": [{"name": "vpskit", "rules": alert_rules(v)}]}
