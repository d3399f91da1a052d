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
