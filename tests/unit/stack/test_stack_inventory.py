"""Inventory errors of the stack roles, located by file and line before anything runs."""

import pytest

from vpskit.errors import InventoryError
from vpskit.inventory import load_inventory
from vpskit.roleloader import RoleLibrary, all_defaults, all_specs


def load(tmp_path, text: str):
    (tmp_path / "hosts.yml").write_text(text)
    roles = RoleLibrary().all()
    return load_inventory(tmp_path / "hosts.yml", all_defaults(roles), {r.name for r in roles}, specs=all_specs(roles))


def test_monitoring_on_without_a_grafana_password_names_the_line_that_switched_it_on(tmp_path):
    with pytest.raises(InventoryError) as caught:
        load(tmp_path, "all:\n  hosts:\n    h1:\n  vars:\n    monitoring_enabled: true\n")
    assert caught.value.line == 5 and caught.value.path.endswith("hosts.yml")
    assert caught.value.message == ("monitoring_grafana_admin_password is required when monitoring_enabled "
                                 "and monitoring_grafana_enabled is on (host h1)")


def test_monitoring_without_grafana_needs_no_password(tmp_path):
    load(tmp_path, "all:\n  hosts:\n    h1:\n  vars:\n    monitoring_enabled: true\n"
                   "    monitoring_grafana_enabled: false\n")


def test_a_malformed_receiver_is_an_inventory_error_at_its_line(tmp_path):
    with pytest.raises(InventoryError) as caught:
        load(tmp_path, "all:\n  hosts:\n    h1:\n  vars:\n    monitoring_receivers:\n"
                       "      - {type: email, to: ops@example.org}\n")
    assert caught.value.line == 5 and caught.value.path.endswith("hosts.yml")
    assert caught.value.message == "monitoring_receivers [0] (email): missing from, smarthost"


@pytest.mark.parametrize("value, message", [
    ("backend", "monitoring_apps must be a list, got a string"),
    ("[{metric: x}]", "monitoring_apps [0] must be a job name or a mapping with a job"),
    ('["a\\"} or vector(1) #"]', 'monitoring_apps [0] (a"} or vector(1) #): job'),
    ("[{job: api, status: code}]", "monitoring_apps [0]: unknown key 'status'"),
    ('[{job: api, status_label: "status-code"}]', "monitoring_apps [0] (api): status_label 'status-code' is not a "
                                                  "valid Prometheus status label"),
    ("[{job: api, error_rate_threshold: 5}]", "monitoring_apps [0] (api): error_rate_threshold must be a ratio "
                                              "between 0 and 1, got 5"),
    ("[{job: api, down_for: 2 minutes}]", "monitoring_apps [0] (api): down_for '2 minutes' is not a valid "
                                          "Prometheus down for"),
])
def test_a_malformed_application_is_an_inventory_error_at_its_line(tmp_path, value, message):
    """Each value ends up inside a PromQL selector: only Prometheus's own syntax gets through."""
    with pytest.raises(InventoryError) as caught:
        load(tmp_path, f"all:\n  hosts:\n    h1:\n  vars:\n    monitoring_apps: {value}\n")
    assert caught.value.line == 5 and caught.value.message.startswith(message), caught.value.message


@pytest.mark.parametrize("key, value, message", [
    ("monitoring_database_jobs", '["pg\\"}"]', "monitoring_database_jobs not job names"),
    ("monitoring_node_jobs", "node-exporter", "monitoring_node_jobs must be a list, got a string"),
    ("monitoring_heartbeat_url", "hc-ping.example.org/s3cret-uuid", "monitoring_heartbeat_url must be an http"),
])
def test_malformed_jobs_and_heartbeat_are_inventory_errors(tmp_path, key, value, message):
    with pytest.raises(InventoryError) as caught:
        load(tmp_path, f"all:\n  hosts:\n    h1:\n  vars:\n    {key}: {value}\n")
    assert caught.value.line == 5 and caught.value.message.startswith(message), caught.value.message
    assert "s3cret" not in caught.value.message


def test_applications_as_names_or_mappings_load(tmp_path):
    load(tmp_path, "all:\n  hosts:\n    h1:\n  vars:\n    monitoring_apps: [web, {job: api, status_label: code, "
                   "requests_metric: http_requests_total, error_rate_threshold: 0.02, down_for: 5m}]\n")


def test_heartbeat_urls_are_secrets_even_when_written_plainly(tmp_path):
    from vpskit.secrets import Masker, collect_secrets
    inv = load(tmp_path, "all:\n  hosts:\n    h1:\n  vars:\n"
                         "    monitoring_heartbeat_url: https://hc-ping.example.org/0b8e-plain\n"
                         "    backups_heartbeat_url: https://hc-ping.example.org/77aa-plain\n")
    masker = Masker(collect_secrets(inv.hosts["h1"].values))
    shown = masker.mask("pinging https://hc-ping.example.org/0b8e-plain and https://hc-ping.example.org/77aa-plain")
    assert "plain" not in shown
