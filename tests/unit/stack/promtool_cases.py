"""promtool unit tests of every alert vpskit renders: it fires when what it guards fails or is gone, and stays
silent on "not yet" (a placeholder value, a first run still to come) and after recovery.

The series carry the labels the real exporters and the chart's discovery give them: node-exporter's textfile
metrics `job="node-exporter"` and the node's address as instance; cert-manager's Certificate namespace as
`exported_namespace` (its ServiceMonitor keeps honorLabels off); express-prom-bundle's request count.
"""

FS = 'instance="h:9100",job="node-exporter",mountpoint="/",fstype="ext4",device="/dev/vda1"'
APP = 'job="backend",instance="10.42.0.7:8080"'
NODE = 'job="node-exporter",instance="10.0.0.5:9100"'
NODE_LABELS = {"job": "node-exporter", "instance": "10.0.0.5:9100"}
CERT = ('job="cert-manager",instance="10.42.0.9:9402",namespace="cert-manager",exported_namespace="web",'
        'name="site-tls",issuer_name="letsencrypt-prod",issuer_kind="ClusterIssuer",issuer_group="cert-manager.io"')
CERT_LABELS = {"job": "cert-manager", "instance": "10.42.0.9:9402", "namespace": "web", "exported_namespace": "web",
               "name": "site-tls", "issuer_name": "letsencrypt-prod", "issuer_kind": "ClusterIssuer",
               "issuer_group": "cert-manager.io"}
LAST_SUCCESS = "vpskit_backup_last_success_timestamp_seconds"
EVERY = "evaluation_interval"  # not a promtool key of a group: the test runs each interval's groups in a file of their own
OTHER = [{"series": 'up{job="unrelated",instance="x:1"}', "values": "1x100"}]


def runbook(alert: str) -> dict:
    return {"runbook": f"runbooks/{alert}.md (written by invoke runbooks)"}


def disk(avail: str, size: str = "100x30") -> list[dict]:
    return [{"series": f"node_filesystem_avail_bytes{{{FS}}}", "values": avail},
            {"series": f"node_filesystem_size_bytes{{{FS}}}", "values": size}]


def requests(ok: str, errors: str, metric: str = "http_request_duration_seconds_count", label: str = "status_code",
             app: str = APP) -> list[dict]:
    return [{"series": f'{metric}{{{app},{label}="200"}}', "values": ok},
            {"series": f'{metric}{{{app},{label}="500"}}', "values": errors}]


def series(name: str, labels: str, values: str) -> dict:
    return {"series": f"{name}{{{labels}}}", "values": values}


def fired(name: str, at: str, labels: dict, summary: str, description: str) -> dict:
    return {"eval_time": at, "alertname": name, "exp_alerts": [
        {"exp_labels": labels, "exp_annotations": {"summary": summary, "description": description, **runbook(name)}}]}


def every(minutes: int):
    """Test groups of 5-minute samples (a scrape interval's worth: no gap between them) evaluated every N minutes."""
    return lambda inputs, *tests: group("5m", inputs, *tests, every=f"{minutes}m")


def silent(name: str, at: str) -> dict:
    return {"eval_time": at, "alertname": name, "exp_alerts": []}


def group(interval: str, inputs: list[dict], *tests: dict, every: str = "1m") -> dict:
    """A promtool test group; `every` is the rule evaluation interval it runs at (long stretches, fewer steps)."""
    return {"interval": interval, "input_series": inputs or OTHER, "alert_rule_test": list(tests), EVERY: every}


DISK_LABELS = {"severity": "critical", "instance": "h:9100", "job": "node-exporter", "mountpoint": "/",
               "fstype": "ext4", "device": "/dev/vda1"}
APP_DOWN = {"severity": "critical", "job": "backend", "instance": "10.42.0.7:8080"}
GONE_APP = "backend has no scrape target at all: no pod runs, or no Service/ServiceMonitor selects one."
ERRORS = ("backend answers too many requests with 5xx", "10% of backend's requests failed with a 5xx status over 5m.")
NOT_READY = ("certificate web/site-tls is not Ready", "cert-manager reports Ready=False for it (issuer "
             "ClusterIssuer/letsencrypt-prod): it was not issued or not renewed.")
HOURLY = " ".join(f"{h * 3600}x59" for h in range(1, 30))  # a successful backup every hour, from 1 h on


def ready(false: str, true: str, unknown: str) -> list[dict]:
    scraped = series("up", 'job="cert-manager",instance="10.42.0.9:9402",namespace="cert-manager"', "1x40")
    return [scraped, *[series("certmanager_certificate_ready_status", f'{CERT},condition="{c}"', values)
                       for c, values in (("False", false), ("True", true), ("Unknown", unknown))]]


# alert name -> promtool test groups (interval, input series, expectations)
CASES = {
    "DiskAlmostFull": [
        # 91% full for longer than `for:` (10m): fires; 89% full: silent
        group("1m", disk("9x30"), silent("DiskAlmostFull", "5m"),
              fired("DiskAlmostFull", "11m", DISK_LABELS, "/ on h:9100 is almost full", "/ is 91.0% full.")),
        group("1m", disk("11x30"), silent("DiskAlmostFull", "20m")),
        # a short spike (5 minutes at 91%, then 50%): silent
        group("1m", disk("9x5 50x25"), *[silent("DiskAlmostFull", f"{m}m") for m in range(0, 20)]),
    ],
    "HighErrorRate": [
        # 10% of requests are 5xx (10 errors and 90 successes a minute): fires after 5m
        group("1m", requests("0+90x30", "0+10x30"),
              fired("HighErrorRate", "15m", {"severity": "critical", "job": "backend"}, *ERRORS)),
        # 2% 5xx: silent
        group("1m", requests("0+98x30", "0+2x30"), silent("HighErrorRate", "15m")),
        # no traffic at all (counters flat: 0/0 is no value, not an error rate): silent
        group("1m", requests("5x30", "1x30"), silent("HighErrorRate", "15m")),
        # not yet: no request since the start (express-prom-bundle makes no series before the first): silent
        group("1m", [series("up", APP, "1x30")], silent("HighErrorRate", "15m")),
        # a short spike (50 errors in one minute of steady traffic) stays in the 5m window under 5m: silent throughout
        group("1m", requests("0+100x30", "0x10 50x20"), *[silent("HighErrorRate", f"{m}m") for m in range(10, 22)]),
        # recovery: 10% errors for 15 minutes, then none: resolved once the window holds no more errors
        group("1m", requests("0+90x40", "0+10x15 150x25"),
              fired("HighErrorRate", "12m", {"severity": "critical", "job": "backend"}, *ERRORS),
              silent("HighErrorRate", "25m")),
    ],
    "ApplicationDown": [
        group("1m", [series("up", APP, "1x2 0x10")], silent("ApplicationDown", "3m"),
              fired("ApplicationDown", "6m", APP_DOWN, "backend is down",
                    "10.42.0.7:8080 of backend has not answered its scrape.")),
        # one missed scrape: silent
        group("1m", [series("up", APP, "1 0 1x10")], silent("ApplicationDown", "3m"), silent("ApplicationDown", "8m")),
        # gone: no pod, no target, no `up` series at all: fires after `for:`, naming the job
        group("1m", [], silent("ApplicationDown", "1m"),
              fired("ApplicationDown", "3m", {"severity": "critical", "job": "backend"}, "backend is down", GONE_APP)),
        # gone after it ran: scaled to 0, the target goes (a staleness marker), the alert comes `for:` later
        group("1m", [series("up", APP, "1x5 stale")], silent("ApplicationDown", "7m"),
              fired("ApplicationDown", "8m", {"severity": "critical", "job": "backend"}, "backend is down", GONE_APP)),
        # not yet: the first scrape comes a minute after Prometheus starts: silent
        group("1m", [series("up", APP, "_ 1x10")], *[silent("ApplicationDown", f"{m}m") for m in range(0, 8)]),
        # recovery: down, then answering again
        group("1m", [series("up", APP, "0x5 1x10")], fired("ApplicationDown", "4m", APP_DOWN, "backend is down",
                                                          "10.42.0.7:8080 of backend has not answered its scrape."),
              silent("ApplicationDown", "7m")),
    ],
    "DatabaseDown": [
        group("1m", [series("pg_up", 'job="postgres",instance="db:9187"', "0x10")],
              fired("DatabaseDown", "2m", {"severity": "critical", "job": "postgres", "instance": "db:9187"},
                    "database behind postgres is down", "The exporter db:9187 cannot reach its database.")),
        group("1m", [series("pg_up", 'job="postgres",instance="db:9187"', "1x10")], silent("DatabaseDown", "5m")),
        # the exporter is gone: no pg_up at all
        group("1m", [], silent("DatabaseDown", "0m"),
              fired("DatabaseDown", "2m", {"severity": "critical", "job": "postgres"}, "database behind postgres is down",
                    "No exporter of job postgres reports pg_up: the exporter is gone or not scraped.")),
        # not yet: its first scrape a minute in; recovery: 0 for 3 minutes, then 1
        group("1m", [series("pg_up", 'job="postgres",instance="db:9187"', "_ 1x10")], silent("DatabaseDown", "3m")),
        group("1m", [series("pg_up", 'job="postgres",instance="db:9187"', "0x3 1x10")], silent("DatabaseDown", "6m")),
    ],
    "NodeDown": [
        group("1m", [series("up", NODE, "0x10")],
              fired("NodeDown", "3m", {"severity": "critical", "reason": "down", **NODE_LABELS},
                    "node 10.0.0.5:9100 is down", "The node exporter on 10.0.0.5:9100 has not answered its scrape.")),
        group("1m", [series("up", NODE, "1x10"),
                     series("kube_node_info", 'job="kube-state-metrics",instance="10.42.0.3:8080",node="web1",'
                            'internal_ip="10.0.0.5",kernel_version="6.1.0"', "1x10")], silent("NodeDown", "5m")),
        # no node exporter target at all
        group("1m", [], fired("NodeDown", "3m", {"severity": "critical", "reason": "missing", "job": "node-exporter"},
                              "no node exporter of job node-exporter is scraped",
                              "Prometheus has no target of job node-exporter: no node is watched.")),
        # a node Kubernetes lists whose exporter target vanished (the other node's still answers)
        group("1m", [series("up", NODE, "1x10"),
                     series("kube_node_info", 'job="kube-state-metrics",instance="10.42.0.3:8080",node="web2",'
                            'internal_ip="10.0.0.6",kernel_version="6.1.0"', "1x10")],
              silent("NodeDown", "1m"),
              fired("NodeDown", "3m", {"severity": "critical", "reason": "no-exporter", "node": "web2",
                                       "internal_ip": "10.0.0.6"}, "node web2 has no node exporter",
                    "Kubernetes lists node web2 (10.0.0.6) but no node exporter on it is scraped.")),
        # IPv6 addresses in brackets match the node's too
        group("1m", [series("up", 'job="node-exporter",instance="[fd00::5]:9100"', "1x10"),
                     series("kube_node_info", 'node="web1",internal_ip="fd00::5"', "1x10")], silent("NodeDown", "5m")),
        # not yet: the exporter of a node that just joined answers a minute later; recovery
        group("1m", [series("up", NODE, "_ 1x10"),
                     series("kube_node_info", 'node="web1",internal_ip="10.0.0.5"', "1x10")], silent("NodeDown", "5m")),
        group("1m", [series("up", NODE, "0x4 1x10")], silent("NodeDown", "7m")),
    ],
    "CertificateExpiringSoon": [
        # expires 7 days after the epoch the test starts at: inside the 14-day limit for over an hour
        group("1m", [series("certmanager_certificate_expiration_timestamp_seconds", CERT, "604800x100")],
              fired("CertificateExpiringSoon", "70m", {"severity": "warning", **CERT_LABELS},
                    "certificate web/site-tls expires soon",
                    "It expires in 6d 22h 50m 0s; cert-manager has not renewed it.")),
        # 30 days left: silent
        group("1m", [series("certmanager_certificate_expiration_timestamp_seconds", CERT, "2592000x100")],
              silent("CertificateExpiringSoon", "90m")),
        # not yet issued: cert-manager's placeholder 0, then the issued certificate's 90 days: silent throughout
        group("1m", [series("certmanager_certificate_expiration_timestamp_seconds", CERT, "0x80 7776000x40")],
              *[silent("CertificateExpiringSoon", f"{m}m") for m in (61, 70, 80, 110)]),
        # expired (an hour after the epoch) and not renewed: fires saying so
        group("1m", [series("certmanager_certificate_expiration_timestamp_seconds", CERT, "3600x200")],
              fired("CertificateExpiringSoon", "150m", {"severity": "warning", **CERT_LABELS},
                    "certificate web/site-tls expires soon", "It has expired; cert-manager has not renewed it.")),
        # scraped with honorLabels on: the Certificate's namespace is `namespace` itself
        group("1m", [series("certmanager_certificate_expiration_timestamp_seconds",
                            'job="cert-manager",namespace="web",name="site-tls"', "604800x100")],
              fired("CertificateExpiringSoon", "70m", {"severity": "warning", "job": "cert-manager", "namespace": "web",
                                                       "name": "site-tls"}, "certificate web/site-tls expires soon",
                    "It expires in 6d 22h 50m 0s; cert-manager has not renewed it.")),
        # renewed before the alert's `for:`: silent
        group("1m", [series("certmanager_certificate_expiration_timestamp_seconds", CERT, "604800x30 8000000x60")],
              silent("CertificateExpiringSoon", "70m")),
    ],
    "CertificateNotReady": [
        # failed: Ready=False for longer than `for:` (15m)
        group("1m", ready("1x30", "0x30", "0x30"), silent("CertificateNotReady", "10m"),
              fired("CertificateNotReady", "16m", {"severity": "critical", "reason": "not-ready", "condition": "False",
                                                   **CERT_LABELS}, *NOT_READY)),
        # not yet: Unknown (no condition yet), then False while the ACME order runs, then True: silent
        group("1m", ready("0x2 1x5 0x30", "0x7 1x30", "1x2 0x35"),
              *[silent("CertificateNotReady", f"{m}m") for m in range(0, 30, 3)]),
        # ready: silent; recovery: False for 20 minutes, then renewed
        group("1m", ready("0x30", "1x30", "0x30"), silent("CertificateNotReady", "20m")),
        group("1m", ready("1x20 0x20", "0x20 1x20", "0x40"),
              fired("CertificateNotReady", "18m", {"severity": "critical", "reason": "not-ready", "condition": "False",
                                                   **CERT_LABELS}, *NOT_READY), silent("CertificateNotReady", "22m")),
        # gone (certs on): cert-manager is not scraped at all
        group("1m", [], silent("CertificateNotReady", "10m"),
              fired("CertificateNotReady", "16m", {"severity": "critical", "reason": "missing", "job": "cert-manager"},
                    "cert-manager's metrics are missing", "Prometheus scrapes no target of job cert-manager: no "
                    "certificate's state or expiry is watched.")),
    ],
    "BackupTooOld": [
        # the last success stays at t=60s: older than 26 h from 26h1m on, fires 10 minutes later
        every(10)([series(LAST_SUCCESS, NODE, "60x340")], silent("BackupTooOld", "25h"),
              fired("BackupTooOld", "27h", {"severity": "critical", "reason": "too-old", **NODE_LABELS},
                    "the backups of 10.0.0.5:9100 are too old",
                    "Its last successful backup was 1d 2h 59m 0s ago.")),
        # a backup every hour: silent
        group("1m", [series(LAST_SUCCESS, NODE, f"60x59 {HOURLY}")], silent("BackupTooOld", "27h"), every="10m"),
        # failed: runs happen, none has ever succeeded (the program writes 0)
        group("1m", [series(LAST_SUCCESS, NODE, "0x30")], silent("BackupTooOld", "5m"),
              fired("BackupTooOld", "11m", {"severity": "critical", "reason": "never-succeeded", **NODE_LABELS},
                    "the backups of 10.0.0.5:9100 have never succeeded",
                    "The backup program has run there, and no run has succeeded yet.")),
        # gone: the host's metrics vanish after 2 hours (textfile folder lost): it keeps ageing, labelled
        every(10)([series(LAST_SUCCESS, NODE, "60x24")],
              fired("BackupTooOld", "27h", {"severity": "critical", "reason": "too-old", **NODE_LABELS},
                    "the backups of 10.0.0.5:9100 are too old",
                    "Its last successful backup was 1d 2h 59m 0s ago.")),
        # gone: no host has ever reported (backups expected): quiet for the first 26 hours, then fires
        every(10)([], silent("BackupTooOld", "25h50m"),
              fired("BackupTooOld", "26h10m", {"severity": "critical", "reason": "missing"}, "no host reports a backup",
                    f"No host has reported {LAST_SUCCESS} for 26 hours: the backup program never ran, or its "
                    "metrics do not reach Prometheus (node-exporter's textfile collector).")),
        # not yet: the first run is 20 hours after installation: silent throughout
        every(10)([series(LAST_SUCCESS, NODE, "_x240 72000x200")],
              *[silent("BackupTooOld", f"{h}h") for h in (1, 19, 21, 26, 30)]),
        # recovery: too old, then a successful run
        every(10)([series(LAST_SUCCESS, NODE, "60x330 99000x40")],
              fired("BackupTooOld", "27h20m", {"severity": "critical", "reason": "too-old", **NODE_LABELS},
                    "the backups of 10.0.0.5:9100 are too old",
                    "Its last successful backup was 1d 3h 19m 0s ago."),
              silent("BackupTooOld", "28h")),
    ],
    "BackupRestoreTestFailed": [
        # failed: the restore test wrote 0
        group("1m", [series("vpskit_backup_restore_test_success", NODE, "0x20"),
                     series("vpskit_backup_restore_test_timestamp_seconds", NODE, "60x20")],
              silent("BackupRestoreTestFailed", "3m"),
              fired("BackupRestoreTestFailed", "6m", {"severity": "critical", "reason": "failed", **NODE_LABELS},
                    "the restore test of 10.0.0.5:9100 failed", "The last restore test of the newest backup failed: "
                    "these backups may not restore (the journal of vpskit-backup says why).")),
        # passed: silent; recovery: failed, then passed the next time
        group("1m", [series("vpskit_backup_restore_test_success", NODE, "1x20")], silent("BackupRestoreTestFailed", "10m")),
        group("1m", [series("vpskit_backup_restore_test_success", NODE, "0x10 1x10")],
              silent("BackupRestoreTestFailed", "15m")),
        # stale: the last test ran (and passed) at 1 minute, none since for over 50 hours
        every(15)([series("vpskit_backup_restore_test_success", NODE, "1x720"),
                     series("vpskit_backup_restore_test_timestamp_seconds", NODE, "60x720")],
              silent("BackupRestoreTestFailed", "49h"),
              fired("BackupRestoreTestFailed", "52h", {"severity": "critical", "reason": "stale", **NODE_LABELS},
                    "no recent restore test on 10.0.0.5:9100", "The last restore test ran 2d 3h 59m 0s ago.")),
        # never ran: backups succeed, no restore test for 50 hours
        every(15)([series(LAST_SUCCESS, NODE, "60x720")], silent("BackupRestoreTestFailed", "49h"),
              fired("BackupRestoreTestFailed", "51h", {"severity": "critical", "reason": "never-ran", **NODE_LABELS},
                    "the backups of 10.0.0.5:9100 were never restore-tested",
                    "It reports successful backups and no restore test in 50 hours.")),
        # not yet: the first restore test runs 2 hours after the first backup; no backup yet at all: silent
        every(15)([series(LAST_SUCCESS, NODE, "60x720"),
                     series("vpskit_backup_restore_test_success", NODE, "_x24 1x700"),
                     series("vpskit_backup_restore_test_timestamp_seconds", NODE, "_x24 7200+300x700")],
              *[silent("BackupRestoreTestFailed", f"{h}h") for h in (1, 3, 49, 55)]),
        every(15)([], silent("BackupRestoreTestFailed", "55h")),
    ],
    "BackupOffsiteCheckFailed": [
        group("1m", [series("vpskit_backup_offsite_check_success", NODE, "0x20"),
                     series("vpskit_backup_offsite_check_timestamp_seconds", NODE, "60x20")],
              fired("BackupOffsiteCheckFailed", "6m", {"severity": "critical", "reason": "failed", **NODE_LABELS},
                    "the off-site repository of 10.0.0.5:9100 failed its check",
                    "restic check of the off-site repository failed: its copies may be damaged.")),
        group("1m", [series("vpskit_backup_offsite_check_success", NODE, "1x20")], silent("BackupOffsiteCheckFailed", "10m")),
        # stale: a weekly check that stopped: a warning after 8 days
        every(60)([series("vpskit_backup_offsite_check_success", NODE, "1x2400"),
                     series("vpskit_backup_offsite_check_timestamp_seconds", NODE, "60x2400")],
              silent("BackupOffsiteCheckFailed", "191h"),
              fired("BackupOffsiteCheckFailed", "194h", {"severity": "warning", "reason": "stale", **NODE_LABELS},
                    "no recent off-site check on 10.0.0.5:9100",
                    "The off-site repository was last checked 8d 1h 59m 0s ago.")),
        # not yet / off-site copies off: no check metric at all: silent
        every(60)([series(LAST_SUCCESS, NODE, "60x2400")], silent("BackupOffsiteCheckFailed", "199h")),
    ],
}
