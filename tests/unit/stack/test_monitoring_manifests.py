"""The monitoring role's manifests: golden files, every kind validated, what the plan writes, removes and hides."""

import jsonschema
import kubernetes_validate
import pytest
import yaml

from vpskit.builtin_roles.k3s.manifests import MANIFESTS, render
from vpskit.builtin_roles.monitoring import manifests, plan
from vpskit.errors import VpskitError
from vpskit.resources import File, Wait
from vpskit.roleloader import RoleLibrary
from vpskit.secrets import Secret
from tests.unit.planctx import cluster, member_context

from .golden import assert_golden, kubernetes_minor, validated_kinds
from .kinds import documents, validate
from .test_monitoring_rules import RECEIVERS

PASSWORD = Secret("golden-grafana-pw")


def role_defaults() -> dict:
    return {k: v.value for k, v in RoleLibrary().load("monitoring").defaults.items()}


INVENTORIES = {
    "defaults": {"monitoring_enabled": True, "monitoring_grafana_admin_password": PASSWORD},
    "full": {"monitoring_enabled": True, "monitoring_grafana_admin_password": PASSWORD,
             "monitoring_receivers": RECEIVERS, "monitoring_prometheus_storage": None,
             "monitoring_retention": "15d", "monitoring_retention_size": "8GB",
             "monitoring_apps": ["web", {"job": "api", "status_label": "code", "error_rate_threshold": 0.02}],
             "monitoring_heartbeat_url": Secret("https://hc-ping.example.org/golden-uuid"),
             "certs_enabled": True, "monitoring_backup_expected": True,
             "monitoring_disk_full_percent": 85, "monitoring_grafana_datasources": [
                 {"name": "Loki", "type": "loki", "url": "http://loki.logging.svc:3100"}]},
}


def rendered(name: str) -> dict[str, str]:
    return {f: render("monitoring", docs) for f, docs in manifests({**role_defaults(), **INVENTORIES[name]}).items()}


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_manifests_match_the_golden_files(name):
    for file, text in rendered(name).items():
        assert_golden(f"{name}-{file}.yaml", text)


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_every_document_is_valid_for_its_kind(name):
    assert validated_kinds(rendered(name).values()) == ["HelmChart", "Namespace", "PrometheusRule", "Secret", "Secret"]


@pytest.mark.parametrize("path, wrong, error", [
    (("spec", "valuesContet"), "x", jsonschema.ValidationError),  # HelmChart spec typo
    (("spec", "groups", 0, "rules", 0, "fro"), "5m", jsonschema.ValidationError),  # PrometheusRule rule typo
    (("spec", "groups", 0, "rules", 0, "for"), "5 minutes", jsonschema.ValidationError),
    (("stringdata",), {"a": "b"}, kubernetes_validate.ValidationError),  # Secret typo
])
def test_a_wrong_field_is_caught(path, wrong, error):
    docs = [d for t in rendered("defaults").values() for d in documents(t)]
    kind = {"valuesContet": "HelmChart", "fro": "PrometheusRule", "for": "PrometheusRule",
            "stringdata": "Secret"}[path[-1]]
    document = next(d for d in docs if d["kind"] == kind)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = wrong
    with pytest.raises(error):
        validate(document, kubernetes_minor())


def first_server_plan(**values):
    inventory = cluster({**role_defaults(), **values}, ["s1", "s2", "s3"])
    return {name: plan(member_context({}, inventory, name)) for name in ("s1", "s2")}


def test_the_first_server_gets_the_manifests_others_nothing():
    plans = first_server_plan(**INVENTORIES["full"])
    *files, wait = plans["s1"].resources
    assert [f.path for f in files] == [f"{MANIFESTS}/vpskit-monitoring.yaml", f"{MANIFESTS}/vpskit-monitoring-rules.yaml"]
    assert isinstance(wait, Wait) and wait.timeout == 900 and "job helm-install-kube-prometheus-stack" in wait.what
    assert all(isinstance(f, File) and f.mode == "0600" for f in files)
    assert files[0].secret and not files[1].secret  # the one with Secrets never shows a diff
    assert plans["s2"].resources == []


def test_switched_off_it_removes_its_manifests_and_uninstalls_the_chart():
    plans = first_server_plan(monitoring_enabled=False)
    files = plans["s1"].resources
    assert [f.state for f in files] == ["absent", "absent"] and all(f.notify == ("uninstall monitoring",) for f in files)
    handler = plans["s1"].handlers[0]
    assert ("delete helmchart.helm.cattle.io/kube-prometheus-stack addon.k3s.cattle.io/vpskit-monitoring "
            "addon.k3s.cattle.io/vpskit-monitoring-rules --ignore-not-found") in handler.command


def test_secrets_reach_only_the_secret_manifest():
    texts = rendered("full")
    assert "golden-grafana-pw" in texts["monitoring"] and "s3cret-pw" in texts["monitoring"]
    assert "golden-grafana-pw" not in texts["monitoring-rules"]
    chart = next(d for d in documents(texts["monitoring"]) if d["kind"] == "HelmChart")
    assert "s3cret-pw" not in chart["spec"]["valuesContent"] and "golden" not in chart["spec"]["valuesContent"]


def test_grafana_without_an_admin_password_is_refused():
    with pytest.raises(VpskitError, match="monitoring_grafana_admin_password is required"):
        manifests({**role_defaults(), "monitoring_enabled": True})


@pytest.mark.parametrize("backups_group, given, expected", [
    (False, None, False), (True, None, True), (True, False, False), (False, True, True)])
def test_backups_are_expected_when_the_inventory_has_backup_hosts_unless_it_says(backups_group, given, expected):
    """With hosts in group backups, "no host reports a backup" is an alert; the inventory may say otherwise."""
    from vpskit.inventory.model import Group
    inventory = cluster({**role_defaults(), **INVENTORIES["defaults"], "monitoring_backup_expected": given},
                        ["s1"], ["a1"])
    if backups_group:
        inventory.groups["backups"] = Group("backups", ["all"], ["a1"])
        inventory.hosts["a1"].groups.append("backups")
    rules = yaml.safe_load(next(f for f in plan(member_context({}, inventory, "s1")).resources
                                if f.path.endswith("vpskit-monitoring-rules.yaml")).content.split("---", 1)[1])
    reasons = {r["labels"].get("reason") for r in rules["spec"]["groups"][0]["rules"] if r["alert"] == "BackupTooOld"}
    assert ("missing" in reasons) is expected
