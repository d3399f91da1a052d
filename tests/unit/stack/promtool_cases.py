"""promtool unit tests of every alert vpskit renders: when it fires, and when it must stay silent."""

FS = 'instance="h:9100",job="node-exporter",mountpoint="/",fstype="ext4",device="/dev/vda1"'
APP = 'job="app",instance="10.42.0.7:8080"'


def disk(avail: str, size: str = "100x30") -> list[dict]:
    return [{"series": f"node_filesystem_avail_bytes{{{FS}}}", "values": avail},
            {"series": f"node_filesystem_size_bytes{{{FS}}}", "values": size}]


def requests(ok: str, errors: str) -> list[dict]:
    return [{"series": f'http_requests_total{{{APP},status="200"}}', "values": ok},
            {"series": f'http_requests_total{{{APP},status="500"}}', "values": errors}]


def fired(name: str, at: str, labels: dict, annotations: dict) -> dict:
    return {"eval_time": at, "alertname": name,
            "exp_alerts": [{"exp_labels": labels, "exp_annotations": annotations}]}


def silent(name: str, at: str) -> dict:
    return {"eval_time": at, "alertname": name, "exp_alerts": []}


DISK_LABELS = {"severity": "critical", "instance": "h:9100", "job": "node-exporter", "mountpoint": "/",
               "fstype": "ext4", "device": "/dev/vda1"}
DISK_NOTE = {"summary": "/ on h:9100 is almost full", "description": "/ is 91.0% full."}

# alert name -> promtool test groups (interval, input series, expectations)
CASES = {
    "DiskAlmostFull": [
        # 91% full for longer than `for:` (10m): fires; 89% full: silent
        {"interval": "1m", "input_series": disk("9x30"),
         "alert_rule_test": [silent("DiskAlmostFull", "5m"), fired("DiskAlmostFull", "11m", DISK_LABELS, DISK_NOTE)]},
        {"interval": "1m", "input_series": disk("11x30"), "alert_rule_test": [silent("DiskAlmostFull", "20m")]},
        # a short spike (5 minutes at 91%, then 50%): silent
        {"interval": "1m", "input_series": disk("9x5 50x25"),
         "alert_rule_test": [silent("DiskAlmostFull", f"{m}m") for m in range(0, 20)]},
    ],
    "HighErrorRate": [
        # 10% of requests are 5xx (10 errors and 90 successes a minute): fires after 5m
        {"interval": "1m", "input_series": requests("0+90x30", "0+10x30"),
         "alert_rule_test": [fired("HighErrorRate", "15m", {"severity": "critical", "job": "app"},
                                   {"summary": "app answers too many requests with 5xx",
                                    "description": "10% of app's requests failed with a 5xx status."})]},
        # 2% 5xx: silent
        {"interval": "1m", "input_series": requests("0+98x30", "0+2x30"),
         "alert_rule_test": [silent("HighErrorRate", "15m")]},
        # no traffic at all (counters flat: 0/0 is no value, not an error rate): silent
        {"interval": "1m", "input_series": requests("5x30", "1x30"),
         "alert_rule_test": [silent("HighErrorRate", "15m")]},
        # a short spike (50 errors in one minute of steady traffic) stays in the 5m window under 5m: silent throughout
        {"interval": "1m", "input_series": requests("0+100x30", "0x10 50x20"),
         "alert_rule_test": [silent("HighErrorRate", f"{m}m") for m in range(10, 22)]},
    ],
    "ApplicationDown": [
        {"interval": "1m", "input_series": [{"series": f"up{{{APP}}}", "values": "1x2 0x10"}],
         "alert_rule_test": [silent("ApplicationDown", "3m"),
                             fired("ApplicationDown", "6m", {"severity": "critical", "job": "app",
                                                             "instance": "10.42.0.7:8080"},
                                   {"summary": "app is down",
                                    "description": "10.42.0.7:8080 of app has not answered its scrape."})]},
        # one missed scrape: silent
        {"interval": "1m", "input_series": [{"series": f"up{{{APP}}}", "values": "1 0 1x10"}],
         "alert_rule_test": [silent("ApplicationDown", "3m"), silent("ApplicationDown", "8m")]},
    ],
    "DatabaseDown": [
        {"interval": "1m", "input_series": [{"series": 'pg_up{job="postgres",instance="db:9187"}', "values": "0x10"}],
         "alert_rule_test": [fired("DatabaseDown", "2m", {"severity": "critical", "job": "postgres",
                                                          "instance": "db:9187"},
                                   {"summary": "database behind postgres is down",
                                    "description": "The exporter db:9187 cannot reach its database."})]},
        {"interval": "1m", "input_series": [{"series": 'pg_up{job="postgres",instance="db:9187"}', "values": "1x10"}],
         "alert_rule_test": [silent("DatabaseDown", "5m")]},
    ],
    "NodeDown": [
        {"interval": "1m", "input_series": [{"series": 'up{job="node-exporter",instance="h:9100"}', "values": "0x10"}],
         "alert_rule_test": [fired("NodeDown", "3m", {"severity": "critical", "job": "node-exporter",
                                                      "instance": "h:9100"},
                                   {"summary": "node h:9100 is down",
                                    "description": "The node exporter on h:9100 has not answered its scrape."})]},
        {"interval": "1m", "input_series": [{"series": 'up{job="node-exporter",instance="h:9100"}', "values": "1x10"}],
         "alert_rule_test": [silent("NodeDown", "5m")]},
    ],
    "CertificateExpiringSoon": [
        # expires 7 days after the epoch the test starts at: inside the 14-day limit for over an hour
        {"interval": "1m", "input_series": [{"series": 'certmanager_certificate_expiration_timestamp_seconds'
                                                        '{namespace="web",name="site-tls"}', "values": "604800x100"}],
         "alert_rule_test": [fired("CertificateExpiringSoon", "70m", {"severity": "warning", "namespace": "web",
                                                                      "name": "site-tls"},
                                   {"summary": "certificate web/site-tls expires soon",
                                    "description": "It expires in 6d 22h 50m 0s; cert-manager has not renewed it."})]},
        {"interval": "1m", "input_series": [{"series": 'certmanager_certificate_expiration_timestamp_seconds'
                                                        '{namespace="web",name="site-tls"}', "values": "2592000x100"}],
         "alert_rule_test": [silent("CertificateExpiringSoon", "90m")]},
    ],
    "BackupTooOld": [
        # the last success stays at t=0: older than 26 h from 26 h on, fires 10 minutes later
        {"interval": "1m", "input_series": [{"series": 'vpskit_backup_last_success_timestamp_seconds{set="db"}',
                                             "values": "0x1700"}],
         "alert_rule_test": [silent("BackupTooOld", "25h"),
                             fired("BackupTooOld", "27h", {"severity": "critical", "set": "db"},
                                   {"summary": "backup set db is too old",
                                    "description": "Its last successful backup was 1d 3h 0m 0s ago."})]},
        # a backup every hour: silent
        {"interval": "1m", "input_series": [{"series": 'vpskit_backup_last_success_timestamp_seconds{set="db"}',
                                             "values": "0x59 3600x60 7200x60 10800x60 14400x60 18000x60 21600x60 "
                                                       "25200x60 28800x60 32400x60 36000x60 39600x60 43200x60 "
                                                       "46800x60 50400x60 54000x60 57600x60 61200x60 64800x60 "
                                                       "68400x60 72000x60 75600x60 79200x60 82800x60 86400x60 "
                                                       "90000x60 93600x60 97200x60"}],
         "alert_rule_test": [silent("BackupTooOld", "27h")]},
    ],
}
