"""Every value vpskit gives a chart is one the chart has or reads. helm checks a chart's values.schema.json itself
when it renders (cert-manager, Loki and Traefik ship one, and most of theirs leave maps open); kube-prometheus-stack
and Alloy ship none and ignore a misspelt key in silence."""

import pytest
import yaml

from .chart_values import chart_model, unknown_keys
from .tools import require_chart
from .written import INVENTORIES, documents, helm_charts, variables

TRAEFIK = ("traefik", "40.1.0")


@pytest.mark.parametrize("inventory", sorted(INVENTORIES))
def test_every_value_vpskit_sets_is_one_the_chart_reads(inventory):
    for chart in helm_charts(inventory):
        model = chart_model(require_chart(chart["spec"]["chart"], chart["spec"]["version"]))
        assert unknown_keys(yaml.safe_load(chart["spec"]["valuesContent"]), model) == [], chart["metadata"]["name"]
    for config in (d for d in documents(inventory) if d["kind"] == "HelmChartConfig"):
        assert unknown_keys(yaml.safe_load(config["spec"]["valuesContent"]), chart_model(require_chart(*TRAEFIK))) \
            == []


@pytest.mark.parametrize("values, expected", [
    ({"prometheus": {"prometheusSpec": {"retension": "7d"}}}, ["prometheus.prometheusSpec.retension"]),
    ({"prometheus-node-exporter": {"extraArg": []}}, ["prometheus-node-exporter.extraArg"]),
    ({"grafana": {"enabled": False, "admin": {"existingSecret": "x"}}}, []),
    ({"alertmanager": {"alertmanagerSpec": {"configSecret": "x"}}}, []),  # read by a template, not in values.yaml
])
def test_a_misspelt_value_is_found_and_a_read_one_is_not(values, expected):
    pinned = variables("defaults")["monitoring_chart_version"]
    assert unknown_keys(values, chart_model(require_chart("kube-prometheus-stack", pinned))) == expected
