"""Reading a kubectl batch: the audited namespaces, label selectors as apimachinery reads them."""

from __future__ import annotations

import pytest

from vpskit.audit.cluster.objects import scope, selector_matches, service_selects
from tests.unit.audit.workloads import DEFAULTS, cluster


def test_the_platform_namespaces_are_left_out_by_default():
    found = cluster()
    assert [w.ref for w in found.workloads] == ["shop/deployment/backend", "shop/statefulset/postgres"]
    assert set(found.namespaces) == {"shop"}
    assert found.nodes == 2 and len(found.of("PodDisruptionBudget", "shop")) == 2


def test_a_role_namespace_variable_is_a_platform_namespace_and_a_listed_scope_wins():
    assert not scope({**DEFAULTS, "shop_namespace": "shop"})("shop")
    assert scope({**DEFAULTS, "audit_namespaces": ["kube-system"]})("kube-system")
    assert not scope({**DEFAULTS, "audit_namespaces": ["kube-system"]})("shop")
    assert cluster(variables={"audit_namespaces": ["kube-system"]}).workloads == []


@pytest.mark.parametrize("selector, matches", [
    ({}, True), (None, False), ({"matchLabels": {"app": "a"}}, True), ({"matchLabels": {"app": "b"}}, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, True),
])
def test_label_selectors(selector, matches):
    assert selector_matches(selector, {"app": "a"}) is matches


def test_a_service_without_a_selector_selects_no_pods():
    assert not service_selects({"spec": {}}, {"app": "a"})
    assert service_selects({"spec": {"selector": {"app": "a"}}}, {"app": "a", "x": "y"})


@pytest.mark.parametrize("line, message", [
    ("audit_pss_level: strict", "audit_pss_level must be one of privileged, baseline, restricted"),
    ("audit_namespaces: shop", "audit_namespaces"),
    ("audit_namespaces: [shop, 'a b']", "not Kubernetes names"),
    ("audit_urls: [ftp://x]", "must be http:// or https:// URLs"),
    ("audit_min_replicas: 0", "must be 1 or more"),
])
def test_audit_variables_are_typed_with_file_and_line(tmp_path, line, message):
    from vpskit.audit.checklist import audit_defaults, audit_specs
    from vpskit.errors import VpskitError
    from vpskit.inventory import load_inventory
    path = tmp_path / "hosts.yml"
    path.write_text(f"all:\n  vars:\n    {line}\n  hosts:\n    web1: {{vpskit_host: 203.0.113.5}}\n")
    with pytest.raises(VpskitError) as error:
        load_inventory(path, audit_defaults(), {"audit"}, specs=audit_specs())
    assert message in str(error.value) and "hosts.yml:3" in str(error.value), str(error.value)
