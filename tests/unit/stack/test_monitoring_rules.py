"""The alert rules and Alertmanager configuration vpskit renders, checked by the real promtool and amtool."""

import shutil
import subprocess

import pytest
import yaml

from vpskit.builtin_roles.k3s.manifests import dump
from vpskit.builtin_roles.monitoring.alertmanager import alertmanager_config
from vpskit.builtin_roles.monitoring.rules import rule_groups
from vpskit.errors import VpskitError
from vpskit.roleloader import RoleLibrary

from .promtool_cases import CASES

needs = pytest.mark.skipif(not (shutil.which("promtool") and shutil.which("amtool")),
                           reason="promtool/amtool missing (scripts/test installs Debian's prometheus packages)")
RECEIVERS = [{"type": "slack", "url": "https://chat.example.org/hooks/T0/B0/x", "channel": "#ops"},
             {"type": "email", "to": "ops@example.org", "from": "alerts@example.org",
              "smarthost": "smtp.example.org:587", "username": "alerts@example.org", "password": "s3cret-pw"},
             {"type": "webhook", "url": "http://10.0.0.1:9000/hook"}]


def defaults(**overrides) -> dict:
    values = {k: v.value for k, v in RoleLibrary().load("monitoring").defaults.items()}
    return {**values, **overrides}


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@needs
def test_promtool_accepts_the_rendered_rules(tmp_path):
    (tmp_path / "rules.yml").write_text(dump(rule_groups(defaults())))
    result = run("promtool", "check", "rules", str(tmp_path / "rules.yml"))
    assert result.returncode == 0 and "SUCCESS: 7 rules found" in result.stdout, result.stdout + result.stderr


def test_every_alert_has_promtool_cases():
    names = {r["alert"] for r in rule_groups(defaults())["groups"][0]["rules"]}
    assert names == set(CASES) == {"ApplicationDown", "HighErrorRate", "DatabaseDown", "DiskAlmostFull", "NodeDown",
                                   "CertificateExpiringSoon", "BackupTooOld"}


@needs
@pytest.mark.parametrize("alert", sorted(CASES))
def test_alert_fires_when_it_should_and_stays_silent_otherwise(tmp_path, alert):
    (tmp_path / "rules.yml").write_text(dump(rule_groups(defaults())))
    (tmp_path / "test.yml").write_text(yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m",
                                                       "tests": CASES[alert]}))
    result = run("promtool", "test", "rules", str(tmp_path / "test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


@needs
def test_thresholds_and_durations_are_variables(tmp_path):
    """The same 89%-full disk fires once the threshold is 85% and `for:` is 1m."""
    (tmp_path / "rules.yml").write_text(dump(rule_groups(defaults(monitoring_disk_full_percent=85,
                                                                  monitoring_disk_full_for="1m"))))
    case = {"interval": "1m", "input_series": CASES["DiskAlmostFull"][1]["input_series"],
            "alert_rule_test": [{"eval_time": "3m", "alertname": "DiskAlmostFull", "exp_alerts": [
                {"exp_labels": {"severity": "critical", "instance": "h:9100", "job": "node-exporter",
                                "mountpoint": "/", "fstype": "ext4", "device": "/dev/vda1"},
                 "exp_annotations": {"summary": "/ on h:9100 is almost full", "description": "/ is 89.0% full."}}]}]}
    (tmp_path / "test.yml").write_text(yaml.safe_dump({"rule_files": ["rules.yml"], "tests": [case]}))
    result = run("promtool", "test", "rules", str(tmp_path / "test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


@needs
@pytest.mark.parametrize("receivers", [[], RECEIVERS], ids=["no receivers", "all three kinds"])
def test_amtool_accepts_the_rendered_alertmanager_config(tmp_path, receivers):
    (tmp_path / "am.yml").write_text(dump(alertmanager_config(defaults(monitoring_receivers=receivers))))
    result = run("amtool", "check-config", str(tmp_path / "am.yml"))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_every_receiver_gets_every_alert_except_the_stacks_own_helpers():
    config = alertmanager_config(defaults(monitoring_receivers=RECEIVERS))
    team = next(r for r in config["receivers"] if r["name"] == "vpskit")
    assert config["route"]["receiver"] == "vpskit"
    assert [len(team[k]) for k in ("slack_configs", "email_configs", "webhook_configs")] == [1, 1, 1]
    assert team["email_configs"][0]["auth_password"] == "s3cret-pw"
    assert {r["receiver"] for r in config["route"]["routes"]} == {"null"}


@pytest.mark.parametrize("receivers, message", [
    ({"type": "slack"}, "must be a list"),
    ([{"type": "pager", "url": "x"}], "[0]: type must be one of slack, email, webhook, got 'pager'"),
    ([{"type": "email", "to": "a@b"}], "[0] (email): missing from, smarthost"),
    ([{"type": "webhook", "url": "x", "chanel": "#a"}], "[0] (webhook): unknown key 'chanel'"),
])
def test_malformed_receivers_are_refused(receivers, message):
    with pytest.raises(VpskitError, match="monitoring_receivers") as caught:
        alertmanager_config(defaults(monitoring_receivers=receivers))
    assert message in str(caught.value)
