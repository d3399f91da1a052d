"""The alert rules and Alertmanager configuration vpskit renders, checked by the real promtool and amtool."""

import shutil
import subprocess

import pytest
import yaml

from vpskit.builtin_roles.k3s.manifests import dump
from vpskit.builtin_roles.monitoring.alertmanager import alertmanager_config
from vpskit.builtin_roles.monitoring.rules import alert_names, rule_groups
from vpskit.errors import VpskitError
from vpskit.roleloader import RoleLibrary

from .promtool_cases import CASES, EVERY, group, requests, fired, runbook, silent

needs = pytest.mark.skipif(not (shutil.which("promtool") and shutil.which("amtool")),
                           reason="promtool/amtool missing (scripts/test installs Debian's prometheus packages)")
RECEIVERS = [{"type": "slack", "url": "https://chat.example.org/hooks/T0/B0/x", "channel": "#ops"},
             {"type": "email", "to": "ops@example.org", "from": "alerts@example.org",
              "smarthost": "smtp.example.org:587", "username": "alerts@example.org", "password": "s3cret-pw"},
             {"type": "webhook", "url": "http://10.0.0.1:9000/hook"}]
ALERTS = {"ApplicationDown", "HighErrorRate", "DatabaseDown", "DiskAlmostFull", "NodeDown", "CertificateExpiringSoon",
          "CertificateNotReady", "BackupTooOld", "BackupRestoreTestFailed", "BackupOffsiteCheckFailed"}


def defaults(**overrides) -> dict:
    values = {k: v.value for k, v in RoleLibrary().load("monitoring").defaults.items()}
    return {**values, **overrides}


def full(**overrides) -> dict:
    """What the role renders for an inventory with certs on and hosts in group backups."""
    return defaults(certs_enabled=True, monitoring_backup_expected=True, **overrides)


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def promtool_test(tmp_path, rules: dict, tests: list[dict]) -> subprocess.CompletedProcess:
    """promtool on the rules, one test file per evaluation interval the groups ask for; the first failure."""
    (tmp_path / "rules.yml").write_text(dump(rules))
    files: dict[str, list[dict]] = {}
    for test in tests:
        test = dict(test)
        files.setdefault(test.pop(EVERY, "1m"), []).append(test)
    for interval, groups in files.items():
        path = tmp_path / f"test-{interval}.yml"
        path.write_text(yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": interval, "tests": groups}))
        result = run("promtool", "test", "rules", str(path))
        if result.returncode:
            return result
    return result


@needs
@pytest.mark.parametrize("values", [defaults(), full(), full(monitoring_apps=["web", {"job": "api"}],
                                                           monitoring_database_jobs=["pg", "mysql"],
                                                           monitoring_node_jobs=["node-exporter", "node"])],
                         ids=["defaults", "certs and backups", "several jobs"])
def test_promtool_accepts_the_rendered_rules(tmp_path, values):
    """Also its lint: two rules of one alert differ in their labels (reason, job)."""
    (tmp_path / "rules.yml").write_text(dump(rule_groups(values)))
    result = run("promtool", "check", "rules", str(tmp_path / "rules.yml"))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_every_alert_has_promtool_cases():
    assert set(alert_names(full())) == set(CASES) == ALERTS


def test_every_rule_names_its_runbook():
    for rule in rule_groups(full())["groups"][0]["rules"]:
        assert rule["annotations"]["runbook"] == runbook(rule["alert"])["runbook"]
    published = rule_groups(full(monitoring_runbook_url="https://git.example.org/ops/runbooks/"))
    assert {r["annotations"]["runbook_url"] for r in published["groups"][0]["rules"]} == \
        {f"https://git.example.org/ops/runbooks/{a}.md" for a in ALERTS}


def test_absence_rules_follow_the_inventory():
    """cert-manager's absence only with certs on; no host reporting backups only when backups are expected."""
    def reasons(values, alert):
        return [r["labels"].get("reason") for r in rule_groups(values)["groups"][0]["rules"] if r["alert"] == alert]
    assert "missing" not in reasons(defaults(monitoring_backup_expected=False), "BackupTooOld")
    assert "missing" in reasons(full(), "BackupTooOld")
    assert "missing" not in reasons(defaults(), "CertificateNotReady")
    assert "stale" not in reasons(full(monitoring_restore_test_max_age_hours=None), "BackupRestoreTestFailed")
    assert {"stale", "never-ran"} & set(reasons(full(backups_verify_schedule=None), "BackupRestoreTestFailed")) == set()
    assert "stale" in reasons(full(backups_verify_schedule="30 3 * * *"), "BackupRestoreTestFailed")
    assert "stale" not in reasons(full(backups_restic_check_schedule=None), "BackupOffsiteCheckFailed")
    assert alert_names(full(monitoring_apps=[], monitoring_database_jobs=[])) == [
        "DiskAlmostFull", "NodeDown", "CertificateExpiringSoon", "CertificateNotReady", "BackupTooOld",
        "BackupRestoreTestFailed", "BackupOffsiteCheckFailed"]


@needs
@pytest.mark.parametrize("alert", sorted(CASES))
def test_alert_fires_when_it_should_and_stays_silent_otherwise(tmp_path, alert):
    result = promtool_test(tmp_path, rule_groups(full()), CASES[alert])
    assert result.returncode == 0, result.stdout + result.stderr


@needs
def test_thresholds_and_durations_are_variables(tmp_path):
    """The same 89%-full disk fires once the threshold is 85% and `for:` is 1m."""
    case = {"interval": "1m", "input_series": CASES["DiskAlmostFull"][1]["input_series"],
            "alert_rule_test": [{"eval_time": "3m", "alertname": "DiskAlmostFull", "exp_alerts": [
                {"exp_labels": {"severity": "critical", "instance": "h:9100", "job": "node-exporter",
                                "mountpoint": "/", "fstype": "ext4", "device": "/dev/vda1"},
                 "exp_annotations": {"summary": "/ on h:9100 is almost full", "description": "/ is 89.0% full.",
                                     **runbook("DiskAlmostFull")}}]}]}
    result = promtool_test(tmp_path, rule_groups(defaults(monitoring_disk_full_percent=85,
                                                          monitoring_disk_full_for="1m")), [case])
    assert result.returncode == 0, result.stdout + result.stderr


@needs
def test_each_application_has_its_own_metric_label_and_threshold(tmp_path):
    """A hand-written prom-client counter (`http_requests_total{code}`) at 3% 5xx: its 2% threshold fires, the
    default job's 5% does not; each job has its own gone case."""
    api = 'job="api",instance="10.42.0.8:3000"'
    values = defaults(monitoring_apps=["backend", {"job": "api", "requests_metric": "http_requests_total",
                                                   "status_label": "code", "error_rate_threshold": 0.02}])
    inputs = [*requests("0+97x30", "0+3x30"), *requests("0+97x30", "0+3x30", "http_requests_total", "code", api),
              {"series": f"up{{{api}}}", "values": "1x30"}]
    tests = [group("1m", inputs, fired("HighErrorRate", "15m", {"severity": "critical", "job": "api"},
                                       "api answers too many requests with 5xx",
                                       "3% of api's requests failed with a 5xx status over 5m."),
                   silent("ApplicationDown", "1m"),
                   fired("ApplicationDown", "5m", {"severity": "critical", "job": "backend"}, "backend is down",
                         "backend has no scrape target at all: no pod runs, or no Service/ServiceMonitor selects one."))]
    result = promtool_test(tmp_path, rule_groups(values), tests)
    assert result.returncode == 0, result.stdout + result.stderr


def am(tmp_path, **overrides) -> str:
    path = tmp_path / "am.yml"
    path.write_text(dump(alertmanager_config(defaults(**overrides))))
    return str(path)


@needs
@pytest.mark.parametrize("receivers", [[], RECEIVERS], ids=["no receivers", "all three kinds"])
def test_amtool_accepts_the_rendered_alertmanager_config(tmp_path, receivers):
    result = run("amtool", "check-config", am(tmp_path, monitoring_receivers=receivers,
                                              monitoring_heartbeat_url="https://hc-ping.example.org/0b8e"))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def routed(config: str, *labels: str) -> str:
    result = run("amtool", "config", "routes", "test", f"--config.file={config}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


@needs
def test_routes_by_severity_with_the_heartbeat_apart(tmp_path):
    info = {**RECEIVERS[1], "severities": ["critical", "warning", "info"]}
    pager = {**RECEIVERS[2], "severities": ["critical"]}
    config = am(tmp_path, monitoring_receivers=[RECEIVERS[0], info, pager],
                monitoring_heartbeat_url="https://hc-ping.example.org/0b8e")
    assert routed(config, "alertname=BackupTooOld", "severity=critical") == "vpskit"
    assert routed(config, "alertname=CertificateExpiringSoon", "severity=warning") == "vpskit-warning"
    assert routed(config, "alertname=KubeletTooManyPods", "severity=info") == "vpskit-info"
    assert routed(config, "alertname=Watchdog", "severity=none") == "heartbeat"
    assert routed(config, "alertname=InfoInhibitor", "severity=none") == "null"
    assert routed(config, "alertname=Custom") == "vpskit"  # no severity: treated as critical
    receivers = {r["name"]: r for r in alertmanager_config(defaults(monitoring_receivers=[RECEIVERS[0], info, pager]))
                 ["receivers"]}
    assert [sorted(k for k in receivers[n] if k != "name") for n in ("vpskit", "vpskit-warning", "vpskit-info")] == [
        ["email_configs", "slack_configs", "webhook_configs"], ["email_configs", "slack_configs"], ["email_configs"]]


@needs
def test_info_reaches_nobody_unless_asked_and_no_heartbeat_goes_nowhere(tmp_path):
    config = am(tmp_path, monitoring_receivers=RECEIVERS)
    assert routed(config, "alertname=KubeletTooManyPods", "severity=info") == "null"
    assert routed(config, "alertname=Watchdog", "severity=none") == "null"
    assert routed(config, "alertname=NodeDown", "severity=critical") == "vpskit"
    nobody = am(tmp_path, monitoring_receivers=[])
    assert routed(nobody, "alertname=NodeDown", "severity=critical") == "null"


def test_heartbeat_is_pinged_every_interval_and_never_resolved():
    config = alertmanager_config(defaults(monitoring_receivers=RECEIVERS, monitoring_heartbeat_url="https://h/p/1",
                                          monitoring_heartbeat_interval="2m"))
    route = next(r for r in config["route"]["routes"] if r["matchers"] == ['alertname="Watchdog"'])
    assert (route["receiver"], route["group_wait"], route["group_interval"], route["repeat_interval"]) == \
        ("heartbeat", "0s", "2m", "2m")
    assert {"name": "heartbeat", "webhook_configs": [{"url": "https://h/p/1", "send_resolved": False}]} in \
        config["receivers"]


def test_inhibitions_critical_over_warning_info_inhibitor_and_target_down():
    rules = alertmanager_config(defaults())["inhibit_rules"]
    assert rules[0] == {"source_matchers": ['severity="critical"'], "target_matchers": ['severity=~"warning|info"'],
                        "equal": ["namespace", "alertname"]}
    assert {"source_matchers": ['alertname="InfoInhibitor"'], "target_matchers": ['severity="info"'],
            "equal": ["namespace"]} in rules
    assert any(r["target_matchers"] == ['alertname="TargetDown"'] and r["equal"] == ["job"] for r in rules)


def test_repeat_interval_per_severity():
    config = alertmanager_config(defaults(monitoring_receivers=[{**RECEIVERS[2], "severities": ["critical", "warning",
                                                                                                 "info"]}]))
    repeats = {r["matchers"][0]: r.get("repeat_interval") for r in config["route"]["routes"]}
    assert (repeats['severity="critical"'], repeats['severity="warning"'], repeats['severity="info"']) == \
        ("4h", "24h", "7d")


@pytest.mark.parametrize("receivers, message", [
    ({"type": "slack"}, "must be a list"),
    ([{"type": "pager", "url": "x"}], "[0]: type must be one of slack, email, webhook, got 'pager'"),
    ([{"type": "email", "to": "a@b"}], "[0] (email): missing from, smarthost"),
    ([{"type": "webhook", "url": "x", "chanel": "#a"}], "[0] (webhook): unknown key 'chanel'"),
    ([{"type": "webhook", "url": "x", "severities": ["page"]}], "[0] (webhook): severities must be a non-empty list"),
    ([{"type": "webhook", "url": "x", "severities": []}], "[0] (webhook): severities must be a non-empty list"),
])
def test_malformed_receivers_are_refused(receivers, message):
    with pytest.raises(VpskitError, match="monitoring_receivers") as caught:
        alertmanager_config(defaults(monitoring_receivers=receivers))
    assert message in str(caught.value)


def test_a_heartbeat_that_is_no_url_is_refused_without_repeating_it():
    with pytest.raises(VpskitError, match="monitoring_heartbeat_url must be an http") as caught:
        alertmanager_config(defaults(monitoring_heartbeat_url="hc-ping.example.org/s3cret"))
    assert "s3cret" not in str(caught.value)
