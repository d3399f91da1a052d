"""Validates manifests: core kinds against Kubernetes's OpenAPI schemas, vpskit's custom kinds against ours."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

SCHEMAS = Path(__file__).parent / "schemas"
CUSTOM = {("helm.cattle.io/v1", "HelmChart"): "helmchart.json",
          ("helm.cattle.io/v1", "HelmChartConfig"): "helmchartconfig.json",
          ("cert-manager.io/v1", "ClusterIssuer"): "clusterissuer.json",
          ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.json"}
# chart name → the schema of the values vpskit gives it
VALUES = {"kube-prometheus-stack": "kube-prometheus-stack-values.json", "cert-manager": "cert-manager-values.json",
          "oci://ghcr.io/grafana-community/helm-charts/loki": "loki-values.json", "alloy": "alloy-values.json"}
# HelmChartConfig name (the K3s-bundled chart it configures) → the schema of its values
CONFIG_VALUES = {"traefik": "traefik-values.json"}


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def validate(document: dict, kubernetes: str) -> None:
    """Raises jsonschema's or kubernetes-validate's ValidationError when the document is not valid."""
    custom = CUSTOM.get((document.get("apiVersion"), document.get("kind")))
    if custom is None:
        kubernetes_validate.validate(document, kubernetes, strict=True)
        return
    jsonschema.validate(document, schema(custom))
    chart = document["spec"].get("chart") if document["kind"] == "HelmChart" else None
    if chart in VALUES:
        jsonschema.validate(yaml.safe_load(document["spec"]["valuesContent"]), schema(VALUES[chart]))
    if document["kind"] == "HelmChartConfig":
        jsonschema.validate(yaml.safe_load(document["spec"]["valuesContent"]),
                            schema(CONFIG_VALUES[document["metadata"]["name"]]))


def documents(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]
