"""Validates manifests: core kinds against Kubernetes's OpenAPI schemas, cert-manager's, prometheus-operator's and
Traefik's kinds against the CRDs their pinned charts ship (rendered by a real helm: tests/charts), HelmChart and
HelmChartConfig against schemas written from K3s's helm-controller CRDs (pkg/crds/yaml/generated), which no chart
ships. Chart values are checked by rendering the real charts (tests/charts), not here."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

from tests.charts.crds import CrdSchemas, validate_object
from tests.charts.written import chart_crds

SCHEMAS = Path(__file__).parent / "schemas"
K3S_KINDS = {("helm.cattle.io/v1", "HelmChart"): "helmchart.json",
             ("helm.cattle.io/v1", "HelmChartConfig"): "helmchartconfig.json"}


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


@functools.lru_cache(maxsize=1)
def _chart_schemas() -> CrdSchemas:
    return CrdSchemas(list(chart_crds()))


def validate(document: dict, kubernetes: str) -> None:
    """Raises jsonschema's or kubernetes-validate's ValidationError when the document is not valid."""
    k3s = K3S_KINDS.get((document.get("apiVersion"), document.get("kind")))
    if k3s is not None:
        jsonschema.validate(document, schema(k3s))
        return
    if "." in document.get("apiVersion", "").split("/")[0]:
        validate_object(document, _chart_schemas(), kubernetes)
        return
    kubernetes_validate.validate(document, kubernetes, strict=True)


def documents(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]
