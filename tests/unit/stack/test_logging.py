"""The logging role: golden manifest, kinds and chart values validated, sizing, retention, Loki in Grafana."""

import jsonschema
import pytest
import yaml

from vpskit.builtin_roles.logging import manifests, plan
from vpskit.builtin_roles.k3s.manifests import MANIFESTS, render
from vpskit.builtin_roles.monitoring.values import chart_values
from vpskit.roleloader import RoleLibrary
from vpskit.templating import Templates
from tests.unit.planctx import cluster, member_context

from .kinds import documents, validate
from .golden import assert_golden, kubernetes_minor
from .test_monitoring_manifests import role_defaults



def values(**overrides) -> dict:
    return {**{k: v.value for k, v in RoleLibrary().load("logging").defaults.items()}, "logging_enabled": True,
            **overrides}


def rendered(**overrides) -> str:
    alloy = Templates().render("logging/config.alloy.j2", {"loki_push_url": "http://loki.logging.svc:3100/loki/api/v1/push"})
    return render("logging", manifests(values(**overrides), alloy))


def chart(name: str, text: str) -> dict:
    document = next(d for d in documents(text) if d["kind"] == "HelmChart" and d["metadata"]["name"] == name)
    return yaml.safe_load(document["spec"]["valuesContent"]) | {"_spec": document["spec"]}


def test_the_manifest_matches_the_golden_file():
    assert_golden("defaults-logging.yaml", rendered())


def test_every_document_is_valid_for_its_kind():
    kinds = [d["kind"] for d in documents(rendered())]
    for document in documents(rendered()):
        validate(document, kubernetes_minor())
    assert kinds == ["Namespace", "HelmChart", "HelmChart"]


def test_loki_is_one_small_binary_with_filesystem_storage_an_explicit_schema_and_retention():
    loki = chart("loki", rendered())
    assert loki["_spec"]["chart"].startswith("oci://ghcr.io/grafana-community/") and "repo" not in loki["_spec"]
    assert loki["deploymentMode"] == "SingleBinary" and loki["singleBinary"]["replicas"] == 1
    assert loki["loki"]["storage"]["type"] == "filesystem"
    assert loki["loki"]["schemaConfig"]["configs"] == [{"from": "2026-01-01", "store": "tsdb", "object_store": "filesystem",
                                                        "schema": "v13", "index": {"prefix": "index_", "period": "24h"}}]
    assert loki["loki"]["limits_config"] == {"retention_period": "168h"}
    assert loki["loki"]["compactor"]["retention_enabled"] is True
    assert all(loki[k] == {"enabled": False} for k in ("chunksCache", "resultsCache", "lokiCanary", "gateway"))
    assert loki["singleBinary"]["resources"]["limits"] == {"memory": "512Mi"}


def test_alloy_is_a_daemonset_shipping_pod_logs_and_the_journal_to_loki():
    alloy = chart("alloy", rendered())
    assert alloy["controller"] == {"type": "daemonset"} and alloy["alloy"]["mounts"] == {"varlog": True}
    config = alloy["alloy"]["configMap"]["content"]
    for block in ('loki.source.kubernetes "pods"', 'loki.source.journal "journal"',
                  'url = "http://loki.logging.svc:3100/loki/api/v1/push"'):
        assert block in config
    assert config.count("{") == config.count("}")


def test_loki_becomes_a_grafana_data_source_when_logging_is_on():
    on = chart_values({**role_defaults(), "logging_enabled": True, "logging_namespace": "logging"})
    assert on["grafana"]["additionalDataSources"] == [{"name": "Loki", "type": "loki", "access": "proxy",
                                                       "url": "http://loki.logging.svc:3100"}]
    assert chart_values(role_defaults())["grafana"]["additionalDataSources"] == []


def test_the_first_server_writes_and_waits_for_both_charts_switched_off_it_removes():
    inventory = cluster(values(), ["s1"])
    file, loki, alloy = plan(member_context({}, inventory, "s1")).resources
    assert file.path == f"{MANIFESTS}/vpskit-logging.yaml" and "helm-install-loki" in loki.what
    assert "helm-install-alloy" in alloy.what
    off = plan(member_context({"logging_enabled": False}, inventory, "s1"))
    assert off.resources[0].state == "absent"
    assert "helmchart.helm.cattle.io/loki helmchart.helm.cattle.io/alloy" in off.handlers[0].command
