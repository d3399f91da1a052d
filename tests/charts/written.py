"""What vpskit writes for the cluster stack (every HelmChart, HelmChartConfig and object of its own), for a few
inventories, and those charts rendered by the real helm from the offline cache."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from vpskit.builtin_roles import certs, logging, monitoring
from vpskit.builtin_roles.k3s.manifests import dump
from vpskit.roleloader import RoleLibrary, all_defaults
from vpskit.secrets import Secret
from vpskit.templating import Templates

from .render import helm_template
from .tools import require_chart, require_helm

RECEIVERS = [{"type": "slack", "url": "https://chat.example.org/hooks/T0/B0/x", "channel": "#ops"},
             {"type": "email", "to": "ops@example.org", "from": "alerts@example.org",
              "smarthost": "smtp.example.org:587", "username": "alerts@example.org", "password": "s3cret-pw"}]
STACK_ON = {"certs_enabled": True, "certs_acme_email": "ops@example.org", "monitoring_enabled": True,
            "monitoring_grafana_admin_password": Secret("charts-test-pw"), "logging_enabled": True}
INVENTORIES = {
    "defaults": STACK_ON,
    "full": {**STACK_ON, "monitoring_receivers": RECEIVERS, "monitoring_prometheus_storage": "10Gi",
             "monitoring_apps": ["web"], "certs_dns01_zones": ["example.org"],
             "certs_dns01_cloudflare_token": Secret("cf-token"), "logging_loki_storage": "5Gi",
             "certs_traefik_values": {"logs": {"access": {"enabled": True}}}},
    "monitoring-only": {"monitoring_enabled": True, "monitoring_grafana_enabled": False},
}
# K3s v1.36.4 serves Traefik chart 40.1.4+up40.1.0 (K3s's build of upstream 40.1.0: the same templates, CRDs in a
# chart of their own): the cache's upstream 40.1.0 stands in for it
K3S_TRAEFIK_CHART = "traefik-40.1.0"
# the values of K3s's own HelmChart `traefik` (k3s-io/k3s manifests/traefik.yaml), which a HelmChartConfig's
# values are merged over (helm-controller passes them as a later values file)
K3S_TRAEFIK_VALUES = {
    "deployment": {"podAnnotations": {"prometheus.io/port": "8082", "prometheus.io/scrape": "true"}},
    "providers": {"kubernetesIngress": {"publishedService": {"enabled": True}}},
    "priorityClassName": "system-cluster-critical",
    "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}],
    "service": {"ipFamilyPolicy": "PreferDualStack"},
}


def variables(inventory: str) -> dict:
    """Every role's defaults with the inventory's values over them."""
    merged = {k: v.value for k, v in all_defaults(RoleLibrary().all()).items()}
    return {**merged, **INVENTORIES[inventory]}


def kubernetes_version() -> str:
    """The pinned K3s's Kubernetes version (v1.36.4+k3s1 → 1.36.4)."""
    return re.match(r"v(\d+\.\d+\.\d+)", RoleLibrary().load("k3s").defaults["k3s_version"].value).group(1)


def kubernetes_minor() -> str:
    return kubernetes_version().rsplit(".", 1)[0]


def documents(inventory: str) -> list[dict]:
    """Every document the stack roles write into K3s's manifests folder for this inventory."""
    v = variables(inventory)
    out: list[dict] = []
    if v["certs_enabled"]:
        for docs in certs.manifests(v).values():
            out.extend(docs)
    if v["monitoring_enabled"]:
        for docs in monitoring.manifests(v).values():
            out.extend(docs)
    if v["logging_enabled"]:
        alloy = Templates().render("logging/config.alloy.j2",
                                   {"loki_push_url": logging.loki_url(v) + "/loki/api/v1/push"})
        out.extend(logging.manifests(v, alloy))
    return [yaml.safe_load(dump(d)) for d in out]  # as K3s reads the file: Secrets as plain strings


def helm_charts(inventory: str) -> list[dict]:
    return [d for d in documents(inventory) if d["kind"] == "HelmChart"]


def own_objects(inventory: str) -> list[dict]:
    """vpskit's documents other than HelmCharts/HelmChartConfigs, and the objects its HelmChartConfig adds."""
    out = [d for d in documents(inventory) if d["kind"] not in ("HelmChart", "HelmChartConfig")]
    for config in (d for d in documents(inventory) if d["kind"] == "HelmChartConfig"):
        out.extend(yaml.safe_load(config["spec"]["valuesContent"]).get("extraObjects", []))
    return out


@functools.lru_cache(maxsize=None)
def _render(package: str, release: str, namespace: str, values: str, kube: str, crds: bool) -> tuple:
    objects = helm_template(require_helm(), Path(package), release, namespace, values, kube, include_crds=crds)
    return tuple(_items(objects))


def _items(objects: list[dict]) -> list[dict]:
    """A `kind: List` as its items, as helm's kube client and K3s apply them."""
    out = []
    for o in objects:
        out.extend(o.get("items") or [] if o.get("kind") == "List" else [o])
    return out


def render_chart(chart: dict, version: str | None = None, include_crds: bool = False) -> list[dict]:
    """The objects helm renders for one of vpskit's HelmCharts (at its pinned version, or another)."""
    spec = chart["spec"]
    package = require_chart(spec["chart"], version or spec["version"])
    return list(_render(str(package), chart["metadata"]["name"], spec["targetNamespace"], spec["valuesContent"],
                        kubernetes_version(), include_crds))


def render_traefik(inventory: str, chart_name: str = K3S_TRAEFIK_CHART, include_crds: bool = False) -> list[dict]:
    """K3s's Traefik rendered with K3s's values and vpskit's HelmChartConfig merged over them."""
    configs = [d for d in documents(inventory) if d["kind"] == "HelmChartConfig"
               and d["metadata"]["name"] == "traefik"]
    layers = [K3S_TRAEFIK_VALUES, *(c["spec"]["valuesContent"] for c in configs[:1])]
    name, version = chart_name.rsplit("-", 1)
    return _items(helm_template(require_helm(), require_chart(name, version), "traefik", "kube-system", layers,
                                kubernetes_version(), include_crds=include_crds))


@functools.lru_cache(maxsize=None)
def chart_crds() -> tuple:
    """The CRDs the pinned charts install: cert-manager's (templates), prometheus-operator's (kube-prometheus-stack's
    crds subchart), Traefik's (K3s's Traefik chart's crds/ folder)."""
    crds: list[dict] = []
    for chart in helm_charts("defaults"):
        if chart["metadata"]["name"] in ("cert-manager", "kube-prometheus-stack"):
            crds.extend(render_chart(chart, include_crds=True))
    crds.extend(render_traefik("defaults", include_crds=True))
    return tuple(d for d in crds if d.get("kind") == "CustomResourceDefinition")
